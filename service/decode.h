/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * decode.h - validate one received message into a request.
 *
 * dl_decode() is a PURE function: it touches no socket, no filesystem and
 * no global state, so it can be unit-tested and fuzzed on its own
 * (tests/unit/test_service_decode.c, and the fuzz target may call it with
 * any bytes).  The buffer must be 8-byte aligned (the payload structs are
 * read in place); its contents are never written.
 *
 * Result:
 *   0                  a valid request, *rq filled in;
 *   -errno             a framed but invalid request: reply with this status
 *                      (rq->hdr is set, so the reply can echo opcode and
 *                      request_id);
 *   DL_DECODE_DISCONNECT  the message cannot be framed (shorter than the
 *                      header, bad magic, length field disagreeing with the
 *                      packet, larger than DL_PROTO_MAX_MSG): drop the client.
 */
#ifndef DAXLEASED_DECODE_H
#define DAXLEASED_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include <daxlease/proto.h>

#define DL_DECODE_DISCONNECT 1

struct dl_request {
	const struct dl_msg_hdr *hdr;
	const void *payload;		/* the opcode's fixed struct */
	uint32_t payload_len;
	/* READ/WRITE only */
	const struct dl_wire_iov *iov;
	uint32_t niov;
	uint64_t data_len;		/* sum of the iovec lengths */
	const uint8_t *data;		/* WRITE: data_len bytes */
	/* REATTACH only: the entries after the fixed struct */
	const void *entries;
	/* fds that came with the message (not decode's: dispatch sets
	 * them); a handler that keeps one sets it to -1 */
	int *fds;
	int nfds;
};

/*
 * version: the negotiated version, 0 before HELLO.  A HELLO's version is
 * not chosen here (that is the handler's job, which also answers
 * -EPROTONOSUPPORT when the ranges do not meet).
 */
int dl_decode(const void *buf, size_t len, uint16_t version,
	      struct dl_request *rq);

/*
 * A name field: 1..255 bytes then NUL padding, no '/'.  Returns 0,
 * -ENOENT (empty), -ENAMETOOLONG (no NUL in the field), -EINVAL ('/',
 * "." or "..").
 */
int dl_decode_name(const char name[DL_PROTO_NAME_SIZE]);

#endif

// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_service_decode.c - the daemon's message decoder (service/decode.c):
 * framing errors disconnect, everything else is an errno for the reply.
 */
#include <errno.h>
#include <stdalign.h>
#include <string.h>

#include "cunit_run.h"
#include "decode.h"

static alignas(8) uint8_t msg[DL_PROTO_MAX_MSG + 64];

/* Build a request: header + payload of len bytes (copied from p). */
static size_t build(uint16_t version, uint16_t op, const void *p, size_t len)
{
	struct dl_msg_hdr h = {
		.magic = DL_PROTO_MAGIC, .version = version, .opcode = op,
		.length = (uint32_t)len, .request_id = 7,
	};

	memcpy(msg, &h, sizeof(h));
	if (len)
		memcpy(msg + sizeof(h), p, len);
	return sizeof(h) + len;
}

static struct dl_msg_hdr *hdr(void)
{
	return (struct dl_msg_hdr *)msg;
}

static int decode(size_t len, uint16_t version)
{
	struct dl_request rq;

	return dl_decode(msg, len, version, &rq);
}

static void test_framing(void)
{
	struct dl_hello_req hello = { .min_version = 1, .max_version = 1 };
	size_t len = build(0, DL_OP_HELLO, &hello, sizeof(hello));

	CU_ASSERT_EQUAL(decode(len, 0), 0);
	CU_ASSERT_EQUAL(decode(31, 0), DL_DECODE_DISCONNECT);
	CU_ASSERT_EQUAL(decode(0, 0), DL_DECODE_DISCONNECT);
	CU_ASSERT_EQUAL(decode(len - 1, 0), DL_DECODE_DISCONNECT);
	CU_ASSERT_EQUAL(decode(DL_PROTO_MAX_MSG + 1, 0), DL_DECODE_DISCONNECT);
	hdr()->magic ^= 1;
	CU_ASSERT_EQUAL(decode(len, 0), DL_DECODE_DISCONNECT);
	CU_ASSERT_EQUAL(dl_decode(NULL, 100, 0, &(struct dl_request){ 0 }),
			DL_DECODE_DISCONNECT);
}

static void test_session(void)
{
	struct dl_hello_req hello = { .min_version = 1, .max_version = 1 };
	size_t len = build(0, DL_OP_STATUS, NULL, 0);

	CU_ASSERT_EQUAL(decode(len, 0), -EPROTO);	/* HELLO first */
	CU_ASSERT_EQUAL(decode(len, 1), -EPROTO);	/* wrong version */
	len = build(1, DL_OP_STATUS, NULL, 0);
	CU_ASSERT_EQUAL(decode(len, 1), 0);
	len = build(1, DL_OP_HELLO, &hello, sizeof(hello));
	CU_ASSERT_EQUAL(decode(len, 1), -EPROTO);	/* HELLO twice */
	len = build(1, DL_OP_HELLO, &hello, sizeof(hello));
	CU_ASSERT_EQUAL(decode(len, 0), -EPROTO);	/* HELLO carries 0 */
	len = build(1, 77, NULL, 0);
	CU_ASSERT_EQUAL(decode(len, 1), -ENOSYS);
}

static void test_header_fields(void)
{
	size_t len = build(1, DL_OP_STATUS, NULL, 0);

	hdr()->flags = DL_MSG_REPLY;
	CU_ASSERT_EQUAL(decode(len, 1), -EINVAL);
	hdr()->flags = 0;
	hdr()->request_id = 0;
	CU_ASSERT_EQUAL(decode(len, 1), -EINVAL);
	hdr()->request_id = 1;
	hdr()->reserved = 1;
	CU_ASSERT_EQUAL(decode(len, 1), -EINVAL);
	hdr()->reserved = 0;
	hdr()->status = -1;
	CU_ASSERT_EQUAL(decode(len, 1), -EINVAL);
}

static void test_payload_size(void)
{
	struct dl_fh_req r = { .fh = 1 };
	uint8_t big[sizeof(r) + 1] = { 0 };

	CU_ASSERT_EQUAL(decode(build(1, DL_OP_CLOSE, &r, sizeof(r)), 1), 0);
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_CLOSE, &r, 4), 1), -EINVAL);
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_CLOSE, big, sizeof(big)), 1),
			-EINVAL);
}

static void test_names(void)
{
	struct dl_name_req r = { 0 };

	CU_ASSERT_EQUAL(decode(build(1, DL_OP_UNLINK, &r, sizeof(r)), 1),
			-ENOENT);
	strcpy(r.name, "a/b");
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_UNLINK, &r, sizeof(r)), 1),
			-EINVAL);
	memset(r.name, 'x', sizeof(r.name));
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_UNLINK, &r, sizeof(r)), 1),
			-ENAMETOOLONG);
	r.name[255] = 0;	/* 255 bytes: the longest name */
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_UNLINK, &r, sizeof(r)), 1), 0);
	strcpy(r.name, "..");
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_UNLINK, &r, sizeof(r)), 1),
			-EINVAL);
}

/* READ/WRITE: dl_rw_req, niov iovecs, and for WRITE the data. */
static size_t build_rw(uint16_t op, uint32_t niov, uint32_t each,
		       size_t data)
{
	static alignas(8) uint8_t p[DL_PROTO_MAX_MSG];
	struct dl_rw_req r = { .fh = 1, .niov = niov };
	size_t off = sizeof(r);

	memcpy(p, &r, sizeof(r));
	for (uint32_t i = 0; i < niov && off + 16 <= sizeof(p); i++) {
		struct dl_wire_iov v = { .offset = (uint64_t)i * each,
					 .len = each };

		memcpy(p + off, &v, sizeof(v));
		off += sizeof(v);
	}
	memset(p + off, 0xab, data);
	return build(1, op, p, off + data);
}

static void test_rw(void)
{
	struct dl_request rq;
	size_t len;

	len = build_rw(DL_OP_WRITE, 2, 100, 200);
	CU_ASSERT_EQUAL(dl_decode(msg, len, 1, &rq), 0);
	CU_ASSERT_EQUAL(rq.niov, 2);
	CU_ASSERT_EQUAL(rq.data_len, 200);
	CU_ASSERT_EQUAL(rq.data[0], 0xab);
	CU_ASSERT_EQUAL(decode(build_rw(DL_OP_WRITE, 2, 100, 199), 1),
			-EINVAL);
	CU_ASSERT_EQUAL(decode(build_rw(DL_OP_READ, 2, 100, 0), 1), 0);
	CU_ASSERT_EQUAL(decode(build_rw(DL_OP_READ, 2, 100, 1), 1), -EINVAL);
	CU_ASSERT_EQUAL(decode(build_rw(DL_OP_READ, 0, 100, 0), 1), -EINVAL);
	CU_ASSERT_EQUAL(decode(build_rw(DL_OP_READ, 1024, 64, 0), 1), 0);
	CU_ASSERT_EQUAL(decode(build_rw(DL_OP_READ, 1025, 1, 0), 1), -EINVAL);
	CU_ASSERT_EQUAL(decode(build_rw(DL_OP_READ, 2, 40000, 0), 1), -E2BIG);
}

static void test_rw_overflow(void)
{
	size_t len = build_rw(DL_OP_READ, 1, 10, 0);
	struct dl_wire_iov *v = (void *)(msg + 32 + sizeof(struct dl_rw_req));

	v->offset = UINT64_MAX - 5;
	CU_ASSERT_EQUAL(decode(len, 1), -EINVAL);
	v->offset = (uint64_t)INT64_MAX - 5;
	CU_ASSERT_EQUAL(decode(len, 1), -EINVAL);
	v->offset = 0;
	v->reserved = 1;
	CU_ASSERT_EQUAL(decode(len, 1), -EINVAL);
}

static void test_map_and_fallocate(void)
{
	struct dl_map_req m = { .fh = 1, .offset = 4096, .length = 8192,
				.prot = DL_MAP_PROT_READ };
	struct dl_fallocate_req f = { .fh = 1, .offset = 0, .length = 1 };

	CU_ASSERT_EQUAL(decode(build(1, DL_OP_MAP, &m, sizeof(m)), 1), 0);
	m.offset = 100;
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_MAP, &m, sizeof(m)), 1), -EINVAL);
	m.offset = UINT64_MAX & ~4095ULL;
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_MAP, &m, sizeof(m)), 1), -EINVAL);
	m.offset = 0;
	m.prot = 4;
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_MAP, &m, sizeof(m)), 1), -EINVAL);
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_FALLOCATE, &f, sizeof(f)), 1), 0);
	f.length = 0;
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_FALLOCATE, &f, sizeof(f)), 1),
			-EINVAL);
	f.length = (uint64_t)INT64_MAX;
	f.offset = 10;
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_FALLOCATE, &f, sizeof(f)), 1),
			-EFBIG);
}

static void test_pin_and_policies(void)
{
	struct dl_pin_req p = { .fh = 1, .offset = 0, .length = 4096,
				.flags = DL_PIN_WRITE };
	struct dl_truncate_req t = { .fh = 1, .size = 0 };
	struct dl_fallocate_req f = { .fh = 1, .offset = 0, .length = 1 };
	struct dl_view_req v = { .max = 1 };

	CU_ASSERT_EQUAL(decode(build(1, DL_OP_PIN, &p, sizeof(p)), 1), 0);
	p.length = 0;
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_PIN, &p, sizeof(p)), 1), -EINVAL);
	p.length = 4096;
	p.offset = 1;
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_PIN, &p, sizeof(p)), 1), -EINVAL);
	p.offset = UINT64_MAX & ~4095ULL;
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_PIN, &p, sizeof(p)), 1), -EINVAL);
	p.offset = 0;
	p.flags = 2;
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_PIN, &p, sizeof(p)), 1), -EINVAL);

	/* NONBLOCK, or DEADLINE with a time; not both, nothing else */
	t.flags = DL_POLICY_NONBLOCK;
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_TRUNCATE, &t, sizeof(t)), 1), 0);
	t.flags = DL_POLICY_DEADLINE;
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_TRUNCATE, &t, sizeof(t)), 1),
			-EINVAL);
	t.deadline_ms = 5;
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_TRUNCATE, &t, sizeof(t)), 1), 0);
	t.flags |= DL_POLICY_NONBLOCK;
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_TRUNCATE, &t, sizeof(t)), 1),
			-EINVAL);
	t.flags = 0;
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_TRUNCATE, &t, sizeof(t)), 1),
			-EINVAL);
	f.flags = 4;
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_FALLOCATE, &f, sizeof(f)), 1),
			-EINVAL);
	f.flags = DL_POLICY_DEADLINE;
	f.deadline_ms = 1;
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_FALLOCATE, &f, sizeof(f)), 1), 0);

	CU_ASSERT_EQUAL(decode(build(1, DL_OP_BUSY, &v, sizeof(v)), 1), 0);
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_BUSY_SUMMARY, &v, sizeof(v)), 1),
			0);
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_BUSY_SUMMARY, &v, sizeof(v) - 1),
			       1), -EINVAL);
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_QUARANTINE, &v, sizeof(v)), 1),
			0);
	v.max = 0;
	CU_ASSERT_EQUAL(decode(build(1, DL_OP_BLOCKED, &v, sizeof(v)), 1),
			-EINVAL);
}

static CU_TestInfo decode_tests[] = {
	{ "framing errors disconnect", test_framing },
	{ "HELLO first, then the negotiated version", test_session },
	{ "header flags, request id, reserved", test_header_fields },
	{ "payload is exactly the opcode's struct", test_payload_size },
	{ "names", test_names },
	{ "READ/WRITE iovecs and data", test_rw },
	{ "iovec offsets that overflow", test_rw_overflow },
	{ "MAP and FALLOCATE ranges", test_map_and_fallocate },
	{ "PIN ranges, busy policies, views", test_pin_and_policies },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "decode", NULL, NULL, NULL, NULL, decode_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return dl_cunit_main(suites);
}

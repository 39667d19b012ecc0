/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_decode.c - a libFuzzer target for daxleased's message decoder
 * (service/decode.h: dl_decode, dl_decode_name).
 *
 * Input: byte 0 picks a variant, the rest is one received message.
 *   bit 0  the connection has negotiated version 1 (else: before HELLO)
 *   bit 1  fix the framing first: magic and length made right, so the
 *          fuzzer spends its time on the payload rules
 *   bit 2  also make the session fields right: version = the negotiated
 *          one (0 for HELLO), flags/status/reserved 0, request_id != 0
 *   bit 3  also run dl_decode_name on the first 256 bytes of the payload
 *
 * Beyond "no crash, no sanitizer report", the target checks decode.h's
 * promises and aborts when one is broken: the result is 0, a negative
 * errno or DL_DECODE_DISCONNECT, and DISCONNECT exactly for what cannot be
 * framed; the decoder is pure (same answer twice, the buffer unchanged);
 * an accepted request is all inside the message and obeys proto.h's rules
 * (session, lengths, iovec counts and sums, names, offsets that cannot
 * overflow).
 *
 * Built with -DFUZZ_DECODE_MAKE_CORPUS it is instead the seed generator:
 *   fuzz_decode_make_corpus DIR   writes a valid message of every opcode
 *                                 (and a few near-misses) into DIR.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR sizeof(struct dl_msg_hdr)

#define V_NEGOTIATED 0x1
#define V_FIX_FRAME 0x2
#define V_FIX_SESSION 0x4
#define V_NAME 0x8

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz_decode: broken promise at "    \
				"line %d: %s\n", __LINE__, #cond);           \
			abort();                                             \
		}                                                            \
	} while (0)

static bool name_ok(const char *name)
{
	size_t len = strnlen(name, DL_PROTO_NAME_SIZE);

	return len > 0 && len < DL_PROTO_NAME_SIZE &&
	       !memchr(name, '/', len) && strcmp(name, ".") &&
	       strcmp(name, "..");
}

static bool framable(const uint8_t *buf, size_t len)
{
	const struct dl_msg_hdr *h = (const void *)buf;

	return len >= HDR && len <= DL_PROTO_MAX_MSG &&
	       h->magic == DL_PROTO_MAGIC && h->length == len - HDR;
}

static void check_rw(const uint8_t *buf, size_t len,
		     const struct dl_request *rq)
{
	const struct dl_rw_req *r = rq->payload;
	const uint8_t *iov0 = (const uint8_t *)rq->payload + sizeof(*r);
	uint64_t sum = 0, want;
	uint32_t x = 0;

	CHECK(rq->payload_len >= sizeof(*r));
	CHECK(rq->niov >= 1 && rq->niov <= DL_PROTO_MAX_IOV);
	CHECK(rq->niov == r->niov);
	CHECK((const uint8_t *)rq->iov == iov0);
	want = sizeof(*r) + (uint64_t)rq->niov * sizeof(struct dl_wire_iov);
	CHECK(want <= rq->payload_len);
	for (uint32_t i = 0; i < rq->niov; i++) {
		const struct dl_wire_iov *v = &rq->iov[i];

		CHECK(v->offset <= (uint64_t)INT64_MAX);
		CHECK(v->len <= (uint64_t)INT64_MAX - v->offset);
		sum += v->len;
	}
	CHECK(sum == rq->data_len);
	CHECK(sum <= DL_PROTO_MAX_DATA);
	if (rq->hdr->opcode == DL_OP_WRITE) {
		CHECK(rq->data == iov0 + rq->niov * sizeof(struct dl_wire_iov));
		CHECK(rq->data + rq->data_len == buf + len);
		/* read every data byte: a sanitizer sees a bad bound */
		for (uint64_t i = 0; i < rq->data_len; i++)
			x += rq->data[i];
	} else {
		CHECK(want == rq->payload_len);
	}
	(void)x;
}

static void check_accepted(const uint8_t *buf, size_t len, uint16_t version,
			   const struct dl_request *rq)
{
	const struct dl_msg_hdr *h = rq->hdr;
	const void *p = rq->payload;

	CHECK(framable(buf, len));
	CHECK(h->flags == 0 && h->status == 0 && h->reserved == 0);
	CHECK(h->request_id != 0);
	CHECK((const uint8_t *)p == buf + HDR);
	CHECK(rq->payload_len == len - HDR);
	if (h->opcode == DL_OP_HELLO)
		CHECK(version == 0 && h->version == 0);
	else
		CHECK(version != 0 && h->version == version);
	switch (h->opcode) {
	case DL_OP_HELLO:
		CHECK(rq->payload_len == sizeof(struct dl_hello_req));
		break;
	case DL_OP_STATUS:
		CHECK(rq->payload_len == 0);
		break;
	case DL_OP_OPEN: {
		const struct dl_open_req *r = p;

		CHECK(rq->payload_len == sizeof(*r));
		CHECK(name_ok(r->name));
		CHECK(r->flags & (DL_O_READ | DL_O_WRITE));
		CHECK(!(r->flags & ~0x1fu));
		CHECK(!(r->flags & DL_O_TRUNC) || (r->flags & DL_O_WRITE));
		CHECK(!(r->mode & ~07777u));
		break;
	}
	case DL_OP_CLOSE:
	case DL_OP_FSYNC:
		CHECK(rq->payload_len == sizeof(struct dl_fh_req));
		break;
	case DL_OP_STAT: {
		const struct dl_stat_req *r = p;

		CHECK(rq->payload_len == sizeof(*r));
		CHECK(r->fh || name_ok(r->name));
		break;
	}
	case DL_OP_LIST: {
		const struct dl_list_req *r = p;

		CHECK(rq->payload_len == sizeof(*r));
		CHECK(r->max != 0);
		break;
	}
	case DL_OP_UNLINK:
		CHECK(rq->payload_len == sizeof(struct dl_name_req));
		CHECK(name_ok(((const struct dl_name_req *)p)->name));
		break;
	case DL_OP_RENAME: {
		const struct dl_rename_req *r = p;

		CHECK(rq->payload_len == sizeof(*r));
		CHECK(name_ok(r->from) && name_ok(r->to));
		CHECK(!(r->flags & ~DL_RENAME_F_NOREPLACE));
		break;
	}
	case DL_OP_READ:
	case DL_OP_WRITE:
		check_rw(buf, len, rq);
		break;
	case DL_OP_TRUNCATE: {
		const struct dl_truncate_req *r = p;

		CHECK(rq->payload_len == sizeof(*r));
		CHECK(r->size <= (uint64_t)INT64_MAX);
		break;
	}
	case DL_OP_FALLOCATE: {
		const struct dl_fallocate_req *r = p;

		CHECK(rq->payload_len == sizeof(*r));
		CHECK(r->length > 0);
		CHECK(r->offset <= (uint64_t)INT64_MAX &&
		      r->length <= (uint64_t)INT64_MAX - r->offset);
		break;
	}
	case DL_OP_SETATTR:
		CHECK(rq->payload_len == sizeof(struct dl_setattr_req));
		break;
	case DL_OP_MAP: {
		const struct dl_map_req *r = p;

		CHECK(rq->payload_len == sizeof(*r));
		CHECK(r->length > 0 && !((r->offset | r->length) & 4095));
		CHECK(r->offset <= UINT64_MAX - r->length);
		CHECK(r->prot && !(r->prot & ~3u));
		break;
	}
	case DL_OP_UNMAP:
		CHECK(rq->payload_len == sizeof(struct dl_unmap_req));
		break;
	default:
		CHECK(!"an unknown opcode was accepted");
	}
}

static void run(const uint8_t *buf, size_t len, uint16_t version)
{
	struct dl_request rq, rq2;
	uint8_t *copy = malloc(len ? len : 1);
	int rc, rc2;

	if (!copy)
		return;
	memcpy(copy, buf, len);
	rc = dl_decode(buf, len, version, &rq);
	rc2 = dl_decode(buf, len, version, &rq2);
	CHECK(rc == rc2);				/* pure ... */
	CHECK(!memcmp(&rq, &rq2, sizeof(rq)));
	CHECK(!memcmp(copy, buf, len));			/* ... read-only */
	free(copy);
	CHECK(rc == 0 || rc == DL_DECODE_DISCONNECT || (rc < 0 && rc > -4096));
	CHECK((rc == DL_DECODE_DISCONNECT) == !framable(buf, len));
	if (rc == DL_DECODE_DISCONNECT)
		return;
	CHECK(rq.hdr == (const void *)buf);		/* replies echo it */
	if (rc == 0)
		check_accepted(buf, len, version, &rq);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t v;
	uint16_t version;
	uint64_t *aligned;
	uint8_t *buf;
	size_t len;

	if (!size)
		return 0;
	v = data[0];
	version = v & V_NEGOTIATED ? 1 : 0;
	len = size - 1;
	/* decode.h wants an 8-byte aligned buffer: malloc's, of exactly
	 * len bytes so that ASan sees any read past the message */
	aligned = malloc(len ? len : 1);
	if (!aligned)
		return 0;
	buf = (uint8_t *)aligned;
	memcpy(buf, data + 1, len);
	if ((v & V_FIX_FRAME) && len >= HDR) {
		struct dl_msg_hdr h;

		memcpy(&h, buf, HDR);
		h.magic = DL_PROTO_MAGIC;
		h.length = (uint32_t)(len - HDR);
		if (v & V_FIX_SESSION) {
			h.version = h.opcode == DL_OP_HELLO ? 0 : version;
			h.flags = 0;
			h.status = 0;
			h.reserved = 0;
			if (!h.request_id)
				h.request_id = 1;
		}
		memcpy(buf, &h, HDR);
	}
	run(buf, len, version);
	if ((v & V_NAME) && len >= HDR + DL_PROTO_NAME_SIZE) {
		const char *name = (const char *)buf + HDR;
		int rc = dl_decode_name(name);

		CHECK(rc == 0 || rc == -ENOENT || rc == -ENAMETOOLONG ||
		      rc == -EINVAL);
		CHECK((rc == 0) == name_ok(name));
	}
	free(aligned);
	return 0;
}

#ifdef FUZZ_DECODE_MAKE_CORPUS
/* ---- the seed generator ----------------------------------------------------- */

static const char *out_dir;
static unsigned nseeds;

static void emit(const char *name, uint8_t variant, uint16_t version,
		 uint16_t opcode, const void *payload, size_t plen)
{
	struct dl_msg_hdr h = {
		.magic = DL_PROTO_MAGIC, .version = version, .opcode = opcode,
		.length = (uint32_t)plen, .request_id = 1 + nseeds,
	};
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, name);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputc(variant, f);
	fwrite(&h, sizeof(h), 1, f);
	if (plen)
		fwrite(payload, plen, 1, f);
	if (fclose(f)) {
		perror(path);
		exit(1);
	}
	nseeds++;
	{
		/* say what the decoder makes of the seed */
		uint64_t *msg = calloc(1, sizeof(h) + plen + 8);
		struct dl_request rq;

		if (!msg)
			exit(1);
		memcpy(msg, &h, sizeof(h));
		if (plen)
			memcpy((uint8_t *)msg + sizeof(h), payload, plen);
		printf("%-22s %d\n", name, dl_decode(msg, sizeof(h) + plen,
						     variant & V_NEGOTIATED ?
						     1 : 0, &rq));
		free(msg);
	}
}

/* after HELLO, framing and session left as they are */
#define AFTER V_NEGOTIATED

static void rw_seeds(void)
{
	static uint8_t buf[sizeof(struct dl_rw_req) +
			   4 * sizeof(struct dl_wire_iov) + 64];
	struct dl_rw_req *r = (void *)buf;
	struct dl_wire_iov *iov = (void *)(r + 1);

	r->fh = 1;
	r->niov = 2;
	iov[0] = (struct dl_wire_iov){ .offset = 0, .len = 16 };
	iov[1] = (struct dl_wire_iov){ .offset = 4096, .len = 8 };
	emit("read-2iov", AFTER, 1, DL_OP_READ, buf,
	     sizeof(*r) + 2 * sizeof(*iov));
	memset(buf + sizeof(*r) + 2 * sizeof(*iov), 'w', 24);
	emit("write-2iov", AFTER, 1, DL_OP_WRITE, buf,
	     sizeof(*r) + 2 * sizeof(*iov) + 24);
	r->niov = 1;
	iov[0] = (struct dl_wire_iov){ .offset = INT64_MAX - 8, .len = 8 };
	memset(buf + sizeof(*r) + sizeof(*iov), 'x', 8);
	emit("write-at-limit", AFTER, 1, DL_OP_WRITE, buf,
	     sizeof(*r) + sizeof(*iov) + 8);
}

static void make_corpus(void)
{
	struct dl_hello_req hello = { .min_version = 1, .max_version = 1 };
	struct dl_open_req open = {
		.flags = DL_O_READ | DL_O_WRITE | DL_O_CREATE, .mode = 0644,
		.name = "file",
	};
	struct dl_fh_req fh = { .fh = 1 };
	struct dl_stat_req st = { .fh = 0, .name = "file" };
	struct dl_list_req list = { .cursor = 0, .max = 128 };
	struct dl_name_req un = { .name = "file" };
	struct dl_rename_req rn = { .flags = DL_RENAME_F_NOREPLACE,
				    .from = "a", .to = "b" };
	struct dl_truncate_req tr = { .fh = 1, .size = 8192 };
	struct dl_fallocate_req fa = { .fh = 1, .mode = 0x3, .offset = 4096,
				       .length = 4096 };
	struct dl_setattr_req sa = { .fh = 1, .valid = DL_ATTR_MODE,
				     .mode = 0600 };
	struct dl_map_req map = { .fh = 1, .offset = 0, .length = 2 << 20,
				  .prot = DL_MAP_PROT_READ | DL_MAP_PROT_WRITE };
	struct dl_unmap_req um = { .map_id = 1 };
	char longname[DL_PROTO_NAME_SIZE];

	strcpy(hello.client_name, "seed");
	emit("hello", 0, 0, DL_OP_HELLO, &hello, sizeof(hello));
	emit("status", AFTER, 1, DL_OP_STATUS, NULL, 0);
	emit("open", AFTER, 1, DL_OP_OPEN, &open, sizeof(open));
	emit("close", AFTER, 1, DL_OP_CLOSE, &fh, sizeof(fh));
	emit("fsync", AFTER, 1, DL_OP_FSYNC, &fh, sizeof(fh));
	emit("stat-name", AFTER, 1, DL_OP_STAT, &st, sizeof(st));
	st.fh = 1;
	emit("stat-fh", AFTER, 1, DL_OP_STAT, &st, sizeof(st));
	emit("list", AFTER, 1, DL_OP_LIST, &list, sizeof(list));
	emit("unlink", AFTER | V_NAME, 1, DL_OP_UNLINK, &un, sizeof(un));
	emit("rename", AFTER, 1, DL_OP_RENAME, &rn, sizeof(rn));
	rw_seeds();
	emit("truncate", AFTER, 1, DL_OP_TRUNCATE, &tr, sizeof(tr));
	emit("fallocate", AFTER, 1, DL_OP_FALLOCATE, &fa, sizeof(fa));
	emit("setattr", AFTER, 1, DL_OP_SETATTR, &sa, sizeof(sa));
	emit("map", AFTER, 1, DL_OP_MAP, &map, sizeof(map));
	emit("unmap", AFTER, 1, DL_OP_UNMAP, &um, sizeof(um));
	/* near misses: refused for one reason each */
	emit("status-before-hello", 0, 1, DL_OP_STATUS, NULL, 0);
	emit("unknown-opcode", AFTER, 1, 999, NULL, 0);
	memset(longname, 'n', sizeof(longname));
	memcpy(un.name, longname, sizeof(un.name));
	emit("unlink-no-nul", AFTER | V_NAME, 1, DL_OP_UNLINK, &un,
	     sizeof(un));
	strcpy(open.name, "a/b");
	emit("open-slash", AFTER | V_NAME, 1, DL_OP_OPEN, &open,
	     sizeof(open));
	fa.offset = INT64_MAX;
	emit("fallocate-overflow", AFTER, 1, DL_OP_FALLOCATE, &fa,
	     sizeof(fa));
	emit("hello-fixed", V_FIX_FRAME | V_FIX_SESSION, 0, DL_OP_HELLO,
	     &hello, sizeof(hello));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	out_dir = argv[1];
	make_corpus();
	printf("%u seeds written to %s\n", nseeds, out_dir);
	return 0;
}
#endif

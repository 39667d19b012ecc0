// SPDX-License-Identifier: BSD-3-Clause
/*
 * decode.c - message validation; pure, see decode.h.
 *
 * Order of checks: framing first (anything wrong there means we cannot
 * trust where the next message starts, so the client goes), then the
 * session state, then the opcode's own payload rules.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "decode.h"

#define HDR_SIZE sizeof(struct dl_msg_hdr)

int dl_decode_name(const char name[DL_PROTO_NAME_SIZE])
{
	size_t len = strnlen(name, DL_PROTO_NAME_SIZE);

	if (len == DL_PROTO_NAME_SIZE)
		return -ENAMETOOLONG;
	if (!len)
		return -ENOENT;
	if (memchr(name, '/', len))
		return -EINVAL;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	return 0;
}

/* Fixed payload size of each request opcode; 0 = no payload, -1 unknown. */
static long fixed_size(uint16_t opcode)
{
	switch (opcode) {
	case DL_OP_HELLO:
		return sizeof(struct dl_hello_req);
	case DL_OP_STATUS:
		return 0;
	case DL_OP_REATTACH:
		return sizeof(struct dl_reattach_req);	/* + entries */
	case DL_OP_OPEN:
		return sizeof(struct dl_open_req);
	case DL_OP_CLOSE:
	case DL_OP_FSYNC:
		return sizeof(struct dl_fh_req);
	case DL_OP_STAT:
		return sizeof(struct dl_stat_req);
	case DL_OP_LIST:
		return sizeof(struct dl_list_req);
	case DL_OP_UNLINK:
		return sizeof(struct dl_name_req);
	case DL_OP_RENAME:
		return sizeof(struct dl_rename_req);
	case DL_OP_READ:
	case DL_OP_WRITE:
		return sizeof(struct dl_rw_req);	/* + iovecs, see rw */
	case DL_OP_TRUNCATE:
		return sizeof(struct dl_truncate_req);
	case DL_OP_FALLOCATE:
		return sizeof(struct dl_fallocate_req);
	case DL_OP_SETATTR:
		return sizeof(struct dl_setattr_req);
	case DL_OP_MAP:
		return sizeof(struct dl_map_req);
	case DL_OP_UNMAP:
		return sizeof(struct dl_unmap_req);
	case DL_OP_PIN:
		return sizeof(struct dl_pin_req);
	case DL_OP_UNPIN:
		return sizeof(struct dl_unpin_req);
	case DL_OP_BUSY:
	case DL_OP_BUSY_SUMMARY:
	case DL_OP_BLOCKED:
	case DL_OP_QUARANTINE:
	case DL_OP_DIRTY:
	case DL_OP_LEASE_QUERY:
	case DL_OP_LEASES:
		return sizeof(struct dl_view_req);
	case DL_OP_LEASE_ACQUIRE:
		return sizeof(struct dl_lease_req);
	case DL_OP_LEASE_RELEASE:
		return sizeof(struct dl_lease_release_req);
	default:
		return -1;
	}
}

static int check_session(const struct dl_msg_hdr *h, uint16_t version)
{
	if (h->opcode == DL_OP_HELLO)
		return version ? -EPROTO : (h->version ? -EPROTO : 0);
	if (!version)
		return -EPROTO;		/* HELLO first */
	return h->version == version ? 0 : -EPROTO;
}

static int decode_rw(struct dl_request *rq)
{
	const struct dl_rw_req *r = rq->payload;
	uint64_t want, sum = 0;

	if (rq->payload_len < sizeof(*r))
		return -EINVAL;
	if (r->reserved)
		return -EINVAL;
	if (r->niov < 1 || r->niov > DL_PROTO_MAX_IOV)
		return -EINVAL;
	want = sizeof(*r) + (uint64_t)r->niov * sizeof(struct dl_wire_iov);
	if (rq->payload_len < want)
		return -EINVAL;
	rq->iov = (const void *)((const uint8_t *)rq->payload + sizeof(*r));
	rq->niov = r->niov;
	for (uint32_t i = 0; i < r->niov; i++) {
		const struct dl_wire_iov *v = &rq->iov[i];

		if (v->reserved)
			return -EINVAL;
		/* like a kernel loff_t: offset + len must stay positive */
		if (v->offset > (uint64_t)INT64_MAX ||
		    v->len > (uint64_t)INT64_MAX - v->offset)
			return -EINVAL;
		sum += v->len;
	}
	if (sum > DL_PROTO_MAX_DATA)
		return -E2BIG;
	rq->data_len = sum;
	if (rq->hdr->opcode == DL_OP_WRITE) {
		want += sum;
		rq->data = (const uint8_t *)rq->payload + want - sum;
	}
	return rq->payload_len == want ? 0 : -EINVAL;
}

/* REATTACH: the fixed struct, then count entries of the kind's size. */
static int decode_reattach(struct dl_request *rq)
{
	const struct dl_reattach_req *r = rq->payload;
	const struct dl_reattach_pin *p;
	uint64_t want = sizeof(*r), each = 0;

	if (rq->payload_len < sizeof(*r) || r->reserved)
		return -EINVAL;
	rq->entries = (const uint8_t *)rq->payload + sizeof(*r);
	switch (r->kind) {
	case DL_REATTACH_BEGIN:
		if (!r->token || r->count)
			return -EINVAL;
		break;
	case DL_REATTACH_END:
		if (r->count)
			return -EINVAL;
		break;
	case DL_REATTACH_FILES:
		each = sizeof(struct dl_reattach_file);
		break;
	case DL_REATTACH_TABLE:
		each = sizeof(struct dl_reattach_map);
		break;
	case DL_REATTACH_PIN:
		if (r->count != 1 ||
		    rq->payload_len < sizeof(*r) + sizeof(*p))
			return -EINVAL;
		p = rq->entries;
		if (!p->nsegs || p->nsegs > DL_PROTO_PIN_SEGS_MAX ||
		    p->reserved || p->flags & ~DL_PIN_WRITE)
			return -EINVAL;
		want += sizeof(*p) + p->nsegs * sizeof(struct dl_wire_seg);
		break;
	default:
		return -EINVAL;
	}
	if (r->kind != DL_REATTACH_PIN)
		want += (uint64_t)r->count * each;
	return rq->payload_len == want ? 0 : -EINVAL;
}

static int check_open(const struct dl_open_req *r)
{
	const uint32_t known = DL_O_READ | DL_O_WRITE | DL_O_CREATE |
			       DL_O_EXCL | DL_O_TRUNC;

	if (r->flags & ~known)
		return -EINVAL;
	if (!(r->flags & (DL_O_READ | DL_O_WRITE)))
		return -EINVAL;
	if ((r->flags & DL_O_TRUNC) && !(r->flags & DL_O_WRITE))
		return -EINVAL;
	if (r->mode & ~07777u)
		return -EINVAL;
	return dl_decode_name(r->name);
}

static int check_rename(const struct dl_rename_req *r)
{
	int rc;

	if (r->flags & ~DL_RENAME_F_NOREPLACE || r->reserved)
		return -EINVAL;
	rc = dl_decode_name(r->from);
	return rc ? rc : dl_decode_name(r->to);
}

/* NONBLOCK and DEADLINE exclude each other; a deadline needs a time */
static int check_policy(uint32_t flags, uint32_t deadline_ms)
{
	if (flags & ~(DL_POLICY_NONBLOCK | DL_POLICY_DEADLINE))
		return -EINVAL;
	if (flags == (DL_POLICY_NONBLOCK | DL_POLICY_DEADLINE))
		return -EINVAL;
	if (flags & DL_POLICY_DEADLINE)
		return deadline_ms ? 0 : -EINVAL;
	return deadline_ms ? -EINVAL : 0;
}

static int check_fallocate(const struct dl_fallocate_req *r)
{
	if (r->reserved || check_policy(r->flags, r->deadline_ms))
		return -EINVAL;
	/* fallocate(2): offset and len are loff_t, len > 0, no overflow */
	if (r->offset > (uint64_t)INT64_MAX || !r->length ||
	    r->length > (uint64_t)INT64_MAX)
		return -EINVAL;
	if (r->offset + r->length > (uint64_t)INT64_MAX)
		return -EFBIG;
	return 0;
}

static int check_map(const struct dl_map_req *r)
{
	if (r->reserved || !r->prot ||
	    r->prot & ~(DL_MAP_PROT_READ | DL_MAP_PROT_WRITE))
		return -EINVAL;
	if (!r->length || (r->offset | r->length) & 4095)
		return -EINVAL;
	if (r->offset > UINT64_MAX - r->length)
		return -EINVAL;
	return 0;
}

static int check_pin(const struct dl_pin_req *r)
{
	if (r->reserved || r->flags & ~DL_PIN_WRITE)
		return -EINVAL;
	if (!r->length || (r->offset | r->length) & 4095)
		return -EINVAL;
	return r->offset > UINT64_MAX - r->length ? -EINVAL : 0;
}

static int check_lease(const struct dl_lease_req *r)
{
	if (r->reserved || r->flags & ~DL_POLICY_NONBLOCK)
		return -EINVAL;
	if (r->type != DL_LEASE_SHARED && r->type != DL_LEASE_EXCLUSIVE)
		return -EINVAL;
	if ((r->offset | r->length) & 4095)
		return -EINVAL;
	return r->offset > UINT64_MAX - r->length ? -EINVAL : 0;
}

static int check_payload(const struct dl_request *rq)
{
	const void *p = rq->payload;

	switch (rq->hdr->opcode) {
	case DL_OP_HELLO: {
		const struct dl_hello_req *r = p;

		return r->flags ? -EINVAL : 0;
	}
	case DL_OP_OPEN:
		return check_open(p);
	case DL_OP_STAT: {
		const struct dl_stat_req *r = p;

		return r->fh ? 0 : dl_decode_name(r->name);
	}
	case DL_OP_LIST: {
		const struct dl_list_req *r = p;

		return r->reserved || !r->max ? -EINVAL : 0;
	}
	case DL_OP_UNLINK:
		return dl_decode_name(((const struct dl_name_req *)p)->name);
	case DL_OP_RENAME:
		return check_rename(p);
	case DL_OP_TRUNCATE: {
		const struct dl_truncate_req *r = p;

		if (check_policy(r->flags, r->deadline_ms))
			return -EINVAL;
		return r->size > (uint64_t)INT64_MAX ? -EINVAL : 0;
	}
	case DL_OP_FALLOCATE:
		return check_fallocate(p);
	case DL_OP_SETATTR: {
		const struct dl_setattr_req *r = p;
		const uint32_t known = DL_ATTR_MODE | DL_ATTR_UID | DL_ATTR_GID;

		if (r->valid & ~known)
			return -EINVAL;
		return (r->valid & DL_ATTR_MODE) && (r->mode & ~07777u) ?
			-EINVAL : 0;
	}
	case DL_OP_MAP:
		return check_map(p);
	case DL_OP_PIN:
		return check_pin(p);
	case DL_OP_LEASE_ACQUIRE:
		return check_lease(p);
	case DL_OP_LEASE_QUERY:
	case DL_OP_LEASES:
	case DL_OP_BUSY:
	case DL_OP_BUSY_SUMMARY:
	case DL_OP_BLOCKED:
	case DL_OP_QUARANTINE:
	case DL_OP_DIRTY: {
		const struct dl_view_req *r = p;

		return r->reserved || !r->max ? -EINVAL : 0;
	}
	default:
		return 0;
	}
}

int dl_decode(const void *buf, size_t len, uint16_t version,
	      struct dl_request *rq)
{
	const struct dl_msg_hdr *h = buf;
	long size;
	int rc;

	memset(rq, 0, sizeof(*rq));
	if (!buf || len < HDR_SIZE || len > DL_PROTO_MAX_MSG)
		return DL_DECODE_DISCONNECT;
	if (h->magic != DL_PROTO_MAGIC || h->length != len - HDR_SIZE)
		return DL_DECODE_DISCONNECT;
	rq->hdr = h;
	rq->payload = (const uint8_t *)buf + HDR_SIZE;
	rq->payload_len = h->length;

	/* requests carry no flags: not REPLY, not EVENT, nothing new */
	if (h->flags)
		return -EINVAL;
	if (!h->request_id || h->status || h->reserved)
		return -EINVAL;
	size = fixed_size(h->opcode);
	if (size < 0)
		return -ENOSYS;
	rc = check_session(h, version);
	if (rc)
		return rc;
	if (h->opcode == DL_OP_READ || h->opcode == DL_OP_WRITE)
		return decode_rw(rq);
	if (h->opcode == DL_OP_REATTACH)
		return decode_reattach(rq);
	if (h->length != (unsigned long)size)
		return -EINVAL;
	return check_payload(rq);
}

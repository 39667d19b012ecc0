// SPDX-License-Identifier: BSD-3-Clause
/*
 * lease.c - LEASE_ACQUIRE/RELEASE/QUERY and the admin view LEASES.
 */
#include <errno.h>
#include <string.h>

#include "private.h"

_Static_assert(DAXLEASE_LEASE_SHARED == DL_LEASE_SHARED &&
	       DAXLEASE_LEASE_EXCLUSIVE == DL_LEASE_EXCLUSIVE,
	       "lease types are the wire's");

static int acquire_call(struct daxlease_ctx *ctx,
			const struct dl_lease_req *req,
			struct dl_lease_rep *rep, struct daxlease_policy *p)
{
	union {
		struct dl_lease_rep ok;
		struct dl_blockers_rep busy;
	} u;
	struct iovec riov = { (void *)req, sizeof(*req) };
	struct iovec piov = { &u, sizeof(u) };
	struct dl_call call = {
		.opcode = DL_OP_LEASE_ACQUIRE,
		.req_iov = &riov, .req_niov = 1,
		.rep_iov = &piov, .rep_niov = 1,
		.rep_min = sizeof(u.ok),
		.error_payload = true,
	};
	int rc = dl_call(ctx, &call);

	if (rc == -EBUSY && p)
		dl_policy_take_blockers(p, &u.busy, call.rep_len);
	if (!rc)
		*rep = u.ok;
	return rc;
}

DAXLEASE_EXPORT int daxlease_lease_acquire_policy(struct daxlease_file *f,
		uint64_t offset, uint64_t length, unsigned type,
		unsigned timeout_ms, struct daxlease_policy *p,
		uint64_t *lease_id)
{
	struct dl_lease_req req = { 0 };
	struct dl_lease_rep rep;
	int rc;

	if (!f || !lease_id)
		return -EINVAL;
	if (p && p->flags & ~DAXLEASE_POLICY_NONBLOCK)
		return -EINVAL;
	req.fh = f->fh;
	req.offset = offset;
	req.length = length;
	req.type = type;
	req.flags = p ? p->flags : 0;
	req.break_timeout_ms = timeout_ms;
	if (p)
		p->nblockers = 0;
	rc = acquire_call(f->ctx, &req, &rep, p);
	if (!rc)
		*lease_id = rep.lease_id;
	return rc;
}

DAXLEASE_EXPORT int daxlease_lease_acquire(struct daxlease_file *f,
					   uint64_t offset, uint64_t length,
					   unsigned type, unsigned timeout_ms,
					   uint64_t *lease_id)
{
	return daxlease_lease_acquire_policy(f, offset, length, type,
					     timeout_ms, NULL, lease_id);
}

DAXLEASE_EXPORT int daxlease_lease_release(struct daxlease_ctx *ctx,
					   uint64_t lease_id)
{
	struct dl_lease_release_req req = { .lease_id = lease_id };

	if (!ctx)
		return -EINVAL;
	return dl_call_simple(ctx, DL_OP_LEASE_RELEASE, &req, sizeof(req),
			      NULL, 0);
}

static void lease_from_wire(struct daxlease_lease *o,
			    const struct dl_wire_lease *w)
{
	memset(o, 0, sizeof(*o));
	o->lease_id = w->lease_id;
	o->pid = (int)w->pid;
	o->uid = w->uid;
	memcpy(o->comm, w->comm, sizeof(o->comm) - 1);
	o->ino = w->ino;
	o->offset = w->offset;
	o->length = w->length;
	o->type = w->type;
	o->state = w->state;
	o->timeout_ms = w->timeout_ms;
	o->deadline_ns = w->deadline_ns;
	o->age_ns = w->age_ns;
	memcpy(o->name, w->name, sizeof(o->name) - 1);
}

static int lease_page(struct daxlease_ctx *ctx, uint16_t opcode,
		      uint64_t *cursor, struct daxlease_lease *out, size_t max)
{
	struct {
		struct dl_view_rep v;
		struct dl_wire_lease e[DL_PROTO_VIEW_MAX];
	} rep;
	struct dl_view_req req = { 0 };
	struct iovec riov = { &req, sizeof(req) };
	struct iovec piov = { &rep, sizeof(rep) };
	struct dl_call call = {
		.opcode = opcode,
		.req_iov = &riov, .req_niov = 1,
		.rep_iov = &piov, .rep_niov = 1,
		.rep_min = sizeof(rep.v),
	};
	int rc;

	if (!ctx || !cursor || !out || !max)
		return -EINVAL;
	req.cursor = *cursor;
	req.max = max < DL_PROTO_VIEW_MAX ? (uint32_t)max : DL_PROTO_VIEW_MAX;
	rc = dl_call(ctx, &call);
	if (rc)
		return rc;
	if (rep.v.count > req.max ||
	    call.rep_len != sizeof(rep.v) + rep.v.count * sizeof(rep.e[0]))
		return -EPROTO;
	for (uint32_t i = 0; i < rep.v.count; i++)
		lease_from_wire(&out[i], &rep.e[i]);
	*cursor = rep.v.next_cursor;
	return (int)rep.v.count;
}

DAXLEASE_EXPORT int daxlease_lease_query(struct daxlease_ctx *ctx,
					 uint64_t *cursor,
					 struct daxlease_lease *out, size_t max)
{
	return lease_page(ctx, DL_OP_LEASE_QUERY, cursor, out, max);
}

DAXLEASE_EXPORT int daxlease_leases(struct daxlease_ctx *ctx, uint64_t *cursor,
				    struct daxlease_lease *out, size_t max)
{
	return lease_page(ctx, DL_OP_LEASES, cursor, out, max);
}

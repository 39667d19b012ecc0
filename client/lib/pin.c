// SPDX-License-Identifier: BSD-3-Clause
/*
 * pin.c - PIN/UNPIN, and truncate/fallocate with a busy policy (whose
 * -EBUSY reply names the pins in the way).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

_Static_assert(DAXLEASE_PIN_WRITE == DL_PIN_WRITE, "pin flags are the wire's");
_Static_assert(DAXLEASE_POLICY_NONBLOCK == DL_POLICY_NONBLOCK &&
	       DAXLEASE_POLICY_DEADLINE == DL_POLICY_DEADLINE,
	       "policy flags are the wire's");

/* Remember a socket pin for a reconnect (reconnect.c hands it over). */
static int spin_track(struct daxlease_ctx *ctx, uint64_t ino,
		      uint32_t generation, uint64_t offset, uint64_t length,
		      unsigned flags, const struct dl_pin_rep *rep)
{
	size_t segs = rep->nsegs * sizeof(rep->seg[0]);
	struct dl_spin *s = malloc(sizeof(*s) + segs);

	if (!s)
		return -ENOMEM;
	*s = (struct dl_spin){
		.pin_id = rep->pin_id, .ino = ino, .generation = generation,
		.flags = flags, .offset = offset, .length = length,
		.nsegs = rep->nsegs,
	};
	memcpy(s->segs, rep->seg, segs);
	pthread_mutex_lock(&ctx->map_lock);
	s->next = ctx->spins;
	ctx->spins = s;
	pthread_mutex_unlock(&ctx->map_lock);
	return 0;
}

void dl_spin_forget(struct daxlease_ctx *ctx, uint64_t pin_id)
{
	struct dl_spin **l, *s = NULL;

	pthread_mutex_lock(&ctx->map_lock);
	for (l = &ctx->spins; *l; l = &(*l)->next)
		if ((*l)->pin_id == pin_id) {
			s = *l;
			*l = s->next;
			break;
		}
	pthread_mutex_unlock(&ctx->map_lock);
	free(s);
}

void dl_spins_free(struct daxlease_ctx *ctx)
{
	while (ctx->spins) {
		struct dl_spin *s = ctx->spins;

		ctx->spins = s->next;
		free(s);
	}
}

int dl_pin_call(struct daxlease_ctx *ctx, uint64_t fh, uint64_t ino,
		uint32_t generation, uint64_t offset, uint64_t length,
		unsigned flags, struct dl_pin_rep *rep)
{
	struct dl_pin_req req = {
		.fh = fh, .offset = offset, .length = length, .flags = flags,
	};
	int rc;

	rc = dl_call_simple(ctx, DL_OP_PIN, &req, sizeof(req),
			    rep, sizeof(*rep));
	if (rc)
		return rc;
	rc = rep->nsegs > DL_PROTO_PIN_SEGS_MAX ? -EPROTO :
	     spin_track(ctx, ino, generation, offset, length, flags, rep);
	if (rc)
		daxlease_unpin(ctx, rep->pin_id);
	return rc;
}

DAXLEASE_EXPORT int daxlease_pin(struct daxlease_file *f, uint64_t offset,
				 uint64_t length, unsigned flags,
				 uint64_t *pin_id)
{
	struct dl_pin_rep rep;
	int rc;

	if (!f || !pin_id || (flags & ~DAXLEASE_PIN_WRITE))
		return -EINVAL;
	rc = dl_pin_call(f->ctx, f->fh, f->ino, f->generation, offset, length,
			 flags, &rep);
	if (!rc)
		*pin_id = rep.pin_id;
	return rc;
}

DAXLEASE_EXPORT int daxlease_unpin(struct daxlease_ctx *ctx, uint64_t pin_id)
{
	struct dl_unpin_req req = { .pin_id = pin_id };
	int rc;

	if (!ctx)
		return -EINVAL;
	rc = dl_call_simple(ctx, DL_OP_UNPIN, &req, sizeof(req), NULL, 0);
	/* gone from the service (or never there): no reconnect brings it */
	if (rc != -ENOTCONN)
		dl_spin_forget(ctx, pin_id);
	return rc;
}

void dl_blocker_from_wire(struct daxlease_blocker *out,
			  const struct dl_wire_blocker *w)
{
	memset(out, 0, sizeof(*out));
	out->pid = (int)w->pid;
	out->uid = w->uid;
	memcpy(out->comm, w->comm, sizeof(out->comm) - 1);
	out->pin_id = w->pin_id;
	out->offset = w->offset;
	out->length = w->length;
	out->write = w->write != 0;
	out->lockless = (w->flags & DL_BLOCKER_COUNTER) != 0;
	out->corrupt = (w->flags & DL_BLOCKER_CORRUPT) != 0;
	out->lease = (w->flags & DL_BLOCKER_LEASE) != 0;
	out->orphaned = (w->flags & DL_BLOCKER_ORPHAN) != 0;
	out->restored = (w->flags & DL_BLOCKER_RESTORED) != 0;
}

void dl_policy_take_blockers(struct daxlease_policy *p,
			     const struct dl_blockers_rep *b, size_t len)
{
	size_t n = b->count <= DL_PROTO_BLOCKERS_MAX ? b->count :
		   DL_PROTO_BLOCKERS_MAX;

	if (len < sizeof(*b))
		return;
	p->nblockers = b->total;
	for (size_t i = 0; i < n && i < p->max && p->blockers; i++)
		dl_blocker_from_wire(&p->blockers[i], &b->b[i]);
}

static int policy_call(struct daxlease_ctx *ctx, uint16_t opcode,
		       const void *req, size_t req_len,
		       struct daxlease_policy *p)
{
	struct dl_blockers_rep b;
	struct iovec riov = { (void *)req, req_len };
	struct iovec piov = { &b, sizeof(b) };
	struct dl_call call = {
		.opcode = opcode,
		.req_iov = &riov, .req_niov = 1,
		.rep_iov = &piov, .rep_niov = 1,
		.error_payload = true,
	};
	int rc;

	if (p)
		p->nblockers = 0;
	rc = dl_call(ctx, &call);
	if (rc == -EBUSY && p)
		dl_policy_take_blockers(p, &b, call.rep_len);
	return rc;
}

static int policy_check(const struct daxlease_policy *p)
{
	if (!p)
		return 0;
	return p->flags & ~(DAXLEASE_POLICY_NONBLOCK | DAXLEASE_POLICY_DEADLINE) ?
		-EINVAL : 0;
}

DAXLEASE_EXPORT int daxlease_truncate_policy(struct daxlease_file *f,
					     uint64_t size,
					     struct daxlease_policy *p)
{
	struct dl_truncate_req req = { 0 };

	if (!f || policy_check(p))
		return -EINVAL;
	req.fh = f->fh;
	req.size = size;
	if (p) {
		req.flags = p->flags;
		req.deadline_ms = p->deadline_ms;
	}
	return policy_call(f->ctx, DL_OP_TRUNCATE, &req, sizeof(req), p);
}

DAXLEASE_EXPORT int daxlease_fallocate_policy(struct daxlease_file *f,
					      int mode, uint64_t offset,
					      uint64_t length,
					      struct daxlease_policy *p)
{
	struct dl_fallocate_req req = { 0 };

	if (!f || mode < 0 || policy_check(p))
		return -EINVAL;
	req.fh = f->fh;
	req.mode = (uint32_t)mode;
	req.offset = offset;
	req.length = length;
	if (p) {
		req.flags = p->flags;
		req.deadline_ms = p->deadline_ms;
	}
	return policy_call(f->ctx, DL_OP_FALLOCATE, &req, sizeof(req), p);
}

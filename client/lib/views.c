// SPDX-License-Identifier: BSD-3-Clause
/*
 * views.c - the admin views BUSY (and its summary), BLOCKED, QUARANTINE
 * and DIRTY, a page at a time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

/* One page of `size`-byte wire entries into wire; the count or -errno. */
static int view_page(struct daxlease_ctx *ctx, uint16_t opcode,
		     uint64_t *cursor, uint32_t max, void *wire, size_t size)
{
	struct dl_view_req req = { .cursor = *cursor, .max = max };
	struct dl_view_rep rep;
	struct iovec riov = { &req, sizeof(req) };
	struct iovec piov[2] = { { &rep, sizeof(rep) }, { wire, max * size } };
	struct dl_call call = {
		.opcode = opcode,
		.req_iov = &riov, .req_niov = 1,
		.rep_iov = piov, .rep_niov = 2,
		.rep_min = sizeof(rep),
	};
	int rc = dl_call(ctx, &call);

	if (rc)
		return rc;
	if (rep.count > max || call.rep_len != sizeof(rep) + rep.count * size) {
		dl_kill(ctx);
		return -EPROTO;
	}
	*cursor = rep.next_cursor;
	return (int)rep.count;
}

static void busy_from_wire(void *out, const void *wire)
{
	struct daxlease_busy *o = out;
	const struct dl_wire_busy *w = wire;

	memset(o, 0, sizeof(*o));
	dl_blocker_from_wire(&o->pin, &w->pin);
	o->ino = w->ino;
	memcpy(o->name, w->name, sizeof(o->name) - 1);
	o->ns_offset = w->ns_offset;
	o->level = w->level;
	o->orphan_ms = w->orphan_ms;
	o->age_ns = w->age_ns;
	o->refs = w->refs;
}

static void busy_sum_from_wire(void *out, const void *wire)
{
	struct daxlease_busy_sum *o = out;
	const struct dl_wire_busy_sum *w = wire;

	memset(o, 0, sizeof(*o));
	o->pid = (int)w->pid;
	o->uid = w->uid;
	memcpy(o->comm, w->comm, sizeof(o->comm) - 1);
	o->ino = w->ino;
	memcpy(o->name, w->name, sizeof(o->name) - 1);
	o->pins = w->pins;
	o->lockless = w->lockless;
	o->bytes = w->bytes;
	o->oldest_ns = w->oldest_ns;
}

static void blocked_from_wire(void *out, const void *wire)
{
	struct daxlease_blocked *o = out;
	const struct dl_wire_blocked *w = wire;

	memset(o, 0, sizeof(*o));
	o->wait_id = w->wait_id;
	o->opcode = w->opcode;
	o->pid = (int)w->pid;
	o->uid = w->uid;
	memcpy(o->comm, w->comm, sizeof(o->comm) - 1);
	o->on_pins = w->on_pins != 0;
	o->on_leases = w->on_leases != 0;
	o->ino = w->ino;
	o->offset = w->offset;
	o->length = w->length;
	o->age_ns = w->age_ns;
	o->deadline_ns = w->deadline_ns;
	o->npins = w->npins;
	memcpy(o->pin_ids, w->pin_ids, sizeof(o->pin_ids));
}

static void quarantine_from_wire(void *out, const void *wire)
{
	struct daxlease_quarantine *o = out;
	const struct dl_wire_quarantine *w = wire;

	memset(o, 0, sizeof(*o));
	o->ns_offset = w->ns_offset;
	o->length = w->length;
	o->tag = w->tag;
	o->npins = w->npins;
	o->pid = (int)w->pid;
	memcpy(o->pin_ids, w->pin_ids, sizeof(o->pin_ids));
}

static void dirty_from_wire(void *out, const void *wire)
{
	struct daxlease_dirty *o = out;
	const struct dl_wire_dirty *w = wire;

	*o = (struct daxlease_dirty){
		.ino = w->ino, .offset = w->offset, .length = w->length,
	};
}

/* How one view's wire entries become the caller's structs. */
struct view {
	uint16_t opcode;
	uint32_t page_max;		/* entries a page may hold */
	size_t wire_size;
	size_t out_size;
	void (*convert)(void *out, const void *wire);
};

/*
 * One page of a view into out (at most max entries, and at most a page):
 * the number stored, or -errno.  The wire page is a scratch buffer, so the
 * caller's structs never depend on the wire layout.
 */
static int view_fetch(struct daxlease_ctx *ctx, const struct view *v,
		      uint64_t *cursor, void *out, size_t max)
{
	uint32_t page = max > v->page_max ? v->page_max : (uint32_t)max;
	uint8_t *wire;
	int n;

	if (!ctx || !cursor || !out || !max)
		return -EINVAL;
	wire = malloc(page * v->wire_size);
	if (!wire)
		return -ENOMEM;
	/* a page that looked at its share of the daemon's entries without
	 * finding one comes back empty with a cursor: ask again, so a
	 * caller sees 0 entries only at the end */
	do
		n = view_page(ctx, v->opcode, cursor, page, wire, v->wire_size);
	while (n == 0 && *cursor);
	for (int i = 0; i < n; i++)
		v->convert((uint8_t *)out + i * v->out_size,
			   wire + i * v->wire_size);
	free(wire);
	return n;
}

#define VIEW(op, wire_t, out_t, fn) {					\
	.opcode = (op), .page_max = DL_PROTO_VIEW_MAX,			\
	.wire_size = sizeof(wire_t),					\
	.out_size = sizeof(out_t),					\
	.convert = (fn),						\
}

static const struct view busy_view =
	VIEW(DL_OP_BUSY, struct dl_wire_busy, struct daxlease_busy,
	     busy_from_wire);
static const struct view busy_sum_view = {
	.opcode = DL_OP_BUSY_SUMMARY, .page_max = DL_PROTO_BUSY_SUM_MAX,
	.wire_size = sizeof(struct dl_wire_busy_sum),
	.out_size = sizeof(struct daxlease_busy_sum),
	.convert = busy_sum_from_wire,
};
static const struct view blocked_view =
	VIEW(DL_OP_BLOCKED, struct dl_wire_blocked, struct daxlease_blocked,
	     blocked_from_wire);
static const struct view quarantine_view =
	VIEW(DL_OP_QUARANTINE, struct dl_wire_quarantine,
	     struct daxlease_quarantine, quarantine_from_wire);
static const struct view dirty_view =
	VIEW(DL_OP_DIRTY, struct dl_wire_dirty, struct daxlease_dirty,
	     dirty_from_wire);

DAXLEASE_EXPORT int daxlease_busy(struct daxlease_ctx *ctx, uint64_t *cursor,
				  struct daxlease_busy *out, size_t max)
{
	return view_fetch(ctx, &busy_view, cursor, out, max);
}

DAXLEASE_EXPORT int daxlease_busy_summary(struct daxlease_ctx *ctx,
					  uint64_t *cursor,
					  struct daxlease_busy_sum *out,
					  size_t max)
{
	return view_fetch(ctx, &busy_sum_view, cursor, out, max);
}

DAXLEASE_EXPORT int daxlease_blocked(struct daxlease_ctx *ctx,
				     uint64_t *cursor,
				     struct daxlease_blocked *out, size_t max)
{
	return view_fetch(ctx, &blocked_view, cursor, out, max);
}

DAXLEASE_EXPORT int daxlease_quarantine(struct daxlease_ctx *ctx,
					uint64_t *cursor,
					struct daxlease_quarantine *out,
					size_t max)
{
	return view_fetch(ctx, &quarantine_view, cursor, out, max);
}

DAXLEASE_EXPORT int daxlease_dirty(struct daxlease_ctx *ctx, uint64_t *cursor,
				   struct daxlease_dirty *out, size_t max)
{
	return view_fetch(ctx, &dirty_view, cursor, out, max);
}

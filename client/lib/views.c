// SPDX-License-Identifier: BSD-3-Clause
/*
 * views.c - the admin views BUSY, BLOCKED, QUARANTINE and DIRTY, a page
 * at a time.
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

static void busy_from_wire(struct daxlease_busy *o,
			   const struct dl_wire_busy *w)
{
	memset(o, 0, sizeof(*o));
	dl_blocker_from_wire(&o->pin, &w->pin);
	o->ino = w->ino;
	memcpy(o->name, w->name, sizeof(o->name) - 1);
	o->ns_offset = w->ns_offset;
	o->level = w->level;
	o->age_ns = w->age_ns;
}

static void blocked_from_wire(struct daxlease_blocked *o,
			      const struct dl_wire_blocked *w)
{
	memset(o, 0, sizeof(*o));
	o->wait_id = w->wait_id;
	o->opcode = w->opcode;
	o->pid = (int)w->pid;
	o->uid = w->uid;
	memcpy(o->comm, w->comm, sizeof(o->comm) - 1);
	o->on_pins = w->on_pins != 0;
	o->ino = w->ino;
	o->offset = w->offset;
	o->length = w->length;
	o->age_ns = w->age_ns;
	o->deadline_ns = w->deadline_ns;
	o->npins = w->npins;
	memcpy(o->pin_ids, w->pin_ids, sizeof(o->pin_ids));
}

static uint32_t page_max(size_t max)
{
	return max > DL_PROTO_VIEW_MAX ? DL_PROTO_VIEW_MAX : (uint32_t)max;
}

DAXLEASE_EXPORT int daxlease_busy(struct daxlease_ctx *ctx, uint64_t *cursor,
				  struct daxlease_busy *out, size_t max)
{
	struct dl_wire_busy *w;
	int n;

	if (!ctx || !cursor || !out || !max)
		return -EINVAL;
	w = malloc(page_max(max) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	n = view_page(ctx, DL_OP_BUSY, cursor, page_max(max), w, sizeof(*w));
	for (int i = 0; i < n; i++)
		busy_from_wire(&out[i], &w[i]);
	free(w);
	return n;
}

DAXLEASE_EXPORT int daxlease_blocked(struct daxlease_ctx *ctx,
				     uint64_t *cursor,
				     struct daxlease_blocked *out, size_t max)
{
	struct dl_wire_blocked *w;
	int n;

	if (!ctx || !cursor || !out || !max)
		return -EINVAL;
	w = malloc(page_max(max) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	n = view_page(ctx, DL_OP_BLOCKED, cursor, page_max(max), w,
		      sizeof(*w));
	for (int i = 0; i < n; i++)
		blocked_from_wire(&out[i], &w[i]);
	free(w);
	return n;
}

DAXLEASE_EXPORT int daxlease_quarantine(struct daxlease_ctx *ctx,
					uint64_t *cursor,
					struct daxlease_quarantine *out,
					size_t max)
{
	struct dl_wire_quarantine *w;
	int n;

	if (!ctx || !cursor || !out || !max)
		return -EINVAL;
	w = malloc(page_max(max) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	n = view_page(ctx, DL_OP_QUARANTINE, cursor, page_max(max), w,
		      sizeof(*w));
	for (int i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].ns_offset = w[i].ns_offset;
		out[i].length = w[i].length;
		out[i].tag = w[i].tag;
		out[i].npins = w[i].npins;
		out[i].pid = (int)w[i].pid;
		memcpy(out[i].pin_ids, w[i].pin_ids, sizeof(out[i].pin_ids));
	}
	free(w);
	return n;
}

DAXLEASE_EXPORT int daxlease_dirty(struct daxlease_ctx *ctx, uint64_t *cursor,
				   struct daxlease_dirty *out, size_t max)
{
	struct dl_wire_dirty *w;
	int n;

	if (!ctx || !cursor || !out || !max)
		return -EINVAL;
	w = malloc(page_max(max) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	n = view_page(ctx, DL_OP_DIRTY, cursor, page_max(max), w, sizeof(*w));
	for (int i = 0; i < n; i++)
		out[i] = (struct daxlease_dirty){
			.ino = w[i].ino, .offset = w[i].offset,
			.length = w[i].length,
		};
	free(w);
	return n;
}

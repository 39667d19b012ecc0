// SPDX-License-Identifier: BSD-3-Clause
/*
 * handle_admin.c - the admin views BLOCKED (every waiting request and
 * what it waits on) and DIRTY (ranges written through write pins); BUSY
 * has its own file (handle_busy.c).  Admin only (access.c).
 *
 * All are paged like LIST: the cursor is the last id returned and a page
 * holds what comes after it in id order, so a report of any size is built
 * one bounded page at a time and a pin that comes or goes between pages
 * never makes another appear twice.  Pins and dirty records are found by
 * id in trees (pin.c, dirty_set.c): a page costs O(page * log n), however
 * many there are.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "server.h"

_Static_assert(sizeof(struct dl_view_rep) + DL_PROTO_VIEW_MAX *
	       sizeof(struct dl_wire_blocked) + sizeof(struct dl_msg_hdr) <=
	       DL_PROTO_MAX_MSG, "a full BLOCKED page fits a message");

static uint32_t view_max(const struct dl_view_req *r)
{
	return r->max < DL_PROTO_VIEW_MAX ? r->max : DL_PROTO_VIEW_MAX;
}

static void blocked_fill(struct dl_server *srv, const struct dl_waiter *w,
			 int64_t now, struct dl_wire_blocked *b)
{
	const struct dl_client *c = w->client;
	struct dl_wire_blocker pins[8];

	memset(b, 0, sizeof(*b));
	b->wait_id = w->id;
	b->opcode = ((const struct dl_msg_hdr *)w->msg)->opcode;
	b->pid = (uint32_t)c->cred.pid;
	b->uid = c->cred.uid;
	memcpy(b->comm, c->comm, strnlen(c->comm, sizeof(b->comm) - 1));
	b->on_pins = w->on_pins;
	b->ino = w->ino;
	b->offset = w->offset;
	b->length = w->length;
	b->age_ns = (uint64_t)(now - w->since_ns);
	if (w->deadline_ns)
		b->deadline_ns = w->deadline_ns > now ?
				 (uint64_t)(w->deadline_ns - now) : 1;
	if (w->on_leases) {
		b->on_leases = 1;
		b->npins = dl_leases_breaking(srv, w->ino, w->offset,
					      w->length, b->pin_ids, 8);
		return;
	}
	if (!w->on_pins)
		return;
	b->npins = dl_pins_scan(srv, w->ino, w->offset, w->length, pins, 8);
	for (uint32_t i = 0; i < b->npins && i < 8; i++)
		b->pin_ids[i] = pins[i].pin_id;
}

int dl_handle_blocked(struct dl_client *c, const struct dl_request *rq,
		      struct dl_reply *rp)
{
	const struct dl_view_req *r = rq->payload;
	struct dl_view_rep *v = rp->payload;
	struct dl_wire_blocked *b = (struct dl_wire_blocked *)(v + 1);
	uint32_t max = view_max(r), n = 0;
	int64_t now = dl_server_now_ns();
	const struct dl_waiter *w = c->srv->wait_head;

	if (!(c->server_flags & DL_SRV_ADMIN))
		return -EPERM;
	/* waiters are in id order: they are only ever appended */
	while (w && w->id <= r->cursor)
		w = w->next;
	for (; w && n < max; w = w->next)
		if (!w->client->dead)	/* going with its client */
			blocked_fill(c->srv, w, now, &b[n++]);
	memset(v, 0, sizeof(*v));
	v->count = n;
	v->next_cursor = n && w ? b[n - 1].wait_id : 0;
	rp->len = sizeof(*v) + n * sizeof(*b);
	return 0;
}

_Static_assert(sizeof(struct dl_view_rep) + DL_PROTO_VIEW_MAX *
	       sizeof(struct dl_wire_dirty) + sizeof(struct dl_msg_hdr) <=
	       DL_PROTO_MAX_MSG, "a full DIRTY page fits a message");

/* Records in id order (the order they were first dirtied): a page is
 * O(page * log n), found from the cursor, whatever the set's size. */
int dl_handle_dirty(struct dl_client *c, const struct dl_request *rq,
		    struct dl_reply *rp)
{
	const struct dl_view_req *r = rq->payload;
	struct dl_view_rep *v = rp->payload;
	struct dl_wire_dirty *w = (struct dl_wire_dirty *)(v + 1);
	const struct dl_dirty_set *set = &c->srv->dirty.set;
	uint32_t max = view_max(r), n = 0;
	const struct dl_dirty *d;

	if (!(c->server_flags & DL_SRV_ADMIN))
		return -EPERM;
	for (d = dl_dirty_set_after(set, r->cursor); d && n < max;
	     d = dl_dirty_set_after(set, d->id))
		w[n++] = (struct dl_wire_dirty){
			.id = d->id, .ino = d->ino,
			.offset = d->offset, .length = d->length,
		};
	memset(v, 0, sizeof(*v));
	v->count = n;
	v->next_cursor = d && n ? w[n - 1].id : 0;
	rp->len = sizeof(*v) + n * sizeof(*w);
	return 0;
}

// SPDX-License-Identifier: BSD-3-Clause
/*
 * handle_busy.c - the admin BUSY view: every socket pin, then every
 * lockless pin (a non-zero counter of a table entry in use), a page at a
 * time.  Admin only (access.c).
 *
 * A page must cost O(page), whatever the position and however many
 * clients and pins there are, so that a report over a million pins never
 * holds the event loop for long:
 *
 * - socket pins are found from the cursor in a tree by id (pin.c);
 * - lockless pins are ordered by (client id, entry).  Clients are linked
 *   newest first (conn.c, client_link: ids only grow), so the list runs
 *   in descending id order: the cursor's client is found with one walk,
 *   and the page goes on to the next larger id through ->prev;
 * - a page looks at no more than SCAN_BUDGET entries (used or not): a
 *   sparse table ends a page early with a cursor where it stopped, and
 *   the page may then hold fewer entries than asked, even none;
 * - a file's name is looked up once a page, not once a pin.
 *
 * A lockless pin's age is how long it may have been pinned, as far as the
 * service can know: the service never sees a client's increment, only
 * the counters as it reads them.  It is the time since the entry was
 * handed out or since the service last read its counter as 0 (here; the
 * maptable keeps it), whichever is later.  A pin that went 0 -> 1 -> 0
 * -> 1 between two reads is reported from the first.
 */
#include <errno.h>
#include <string.h>

#include "server.h"

_Static_assert(sizeof(struct dl_view_rep) + DL_PROTO_VIEW_MAX *
	       sizeof(struct dl_wire_busy) + sizeof(struct dl_msg_hdr) <=
	       DL_PROTO_MAX_MSG, "a full BUSY page fits a message");

/* Entries one page may look at: ~0.3 ms at worst (a used[] byte, and a
 * counter of an entry in use). */
#define SCAN_BUDGET (1u << 18)

/* The cursor of a lockless page: (client id, the next entry to look
 * at); dl_counters_cursor's encoding with from = idx + 1. */
static uint64_t counters_cursor(uint64_t client_id, uint64_t from)
{
	return DL_BUSY_COUNTERS | (client_id & 0x7fffffffULL) << 32 | from;
}

/* One file name per page. */
struct name_cache {
	uint32_t ino;
	bool valid;
	char name[DL_PROTO_NAME_SIZE];
};

static void copy_name(struct dl_server *srv, struct name_cache *nc,
		      uint32_t ino, char *out)
{
	struct dl_stat st;

	if (!nc->valid || nc->ino != ino) {
		nc->ino = ino;
		nc->valid = true;
		nc->name[0] = 0;
		if (!dl_fs_stat(srv->fs, ino, &st)) {
			size_t n = strnlen(st.name, sizeof(st.name));

			if (n >= sizeof(nc->name))
				n = sizeof(nc->name) - 1;
			memcpy(nc->name, st.name, n);
			nc->name[n] = 0;
		}
	}
	memcpy(out, nc->name, sizeof(nc->name));
}

/* Where the pin's first block is, and the leaf a mapping would use. */
static void busy_where(struct dl_server *srv, const struct dl_pin *p,
		       struct dl_wire_busy *b)
{
	b->ns_offset = UINT64_MAX;
	b->level = DL_LEAF_PTE;
	if (p->first_ns == UINT64_MAX)
		return;		/* a read pin of holes */
	b->ns_offset = p->first_ns;
	if (srv->nsinfo.align >= (1ULL << 30) && !(b->ns_offset % (1ULL << 30)))
		b->level = DL_LEAF_PUD;
	else if (srv->nsinfo.align >= (2ULL << 20) &&
		 !(b->ns_offset % (2ULL << 20)))
		b->level = DL_LEAF_PMD;
}

static void socket_pin_fill(struct dl_server *srv, const struct dl_pin *p,
			    int64_t now, struct name_cache *nc,
			    struct dl_wire_busy *b)
{
	memset(b, 0, sizeof(*b));
	dl_pin_to_wire(p, &b->pin);
	b->refs = 1;
	b->ino = p->ino;
	b->age_ns = (uint64_t)(now - p->since_ns);
	b->orphan_ms = dl_orphan_ms(p->client, now);
	copy_name(srv, nc, p->ino, b->name);
	busy_where(srv, p, b);
}

/* The mapping of entry idx, remembered across a page's entries. */
static const struct dl_mapping *mapping_of(const struct dl_client *c,
					   uint64_t idx,
					   const struct dl_mapping **last)
{
	const struct dl_mapping *m = *last;

	if (m && idx >= m->first && idx < m->first + m->nentries)
		return m;
	return *last = dl_counters_mapping_of(c, idx);
}

static void counter_fill(struct dl_server *srv, const struct dl_client *c,
			 uint64_t idx, int64_t refs, int64_t now,
			 const struct dl_mapping *m, struct name_cache *nc,
			 struct dl_wire_busy *b)
{
	const struct dl_table_entry *e = &c->table->ent[idx];
	int64_t quiet = c->table->quiet_ns[idx];

	memset(b, 0, sizeof(*b));
	dl_counter_to_wire(c, idx, refs, &b->pin);
	b->refs = refs;
	b->ns_offset = dl_pte_ns_offset(e->pte);
	b->level = dl_pte_level(e->pte);
	b->orphan_ms = dl_orphan_ms(c, now);
	/* 0: imported after a restart, unknown before it */
	b->age_ns = (uint64_t)(now - (quiet ? quiet : srv->start_ns));
	if (!m) {
		/* no mapping owns the entry: the count is made up */
		b->pin.flags |= DL_BLOCKER_CORRUPT;
		b->pin.offset = b->pin.length = 0;
		b->ns_offset = UINT64_MAX;
		return;
	}
	b->ino = m->ino;
	copy_name(srv, nc, m->ino, b->name);
}

/* The client with the smallest id >= id that has a table, or NULL: the
 * list is in descending id order. */
static struct dl_client *client_from(struct dl_server *srv, uint64_t id)
{
	struct dl_client *best = NULL;

	for (struct dl_client *c = srv->clients; c && c->id >= id; c = c->next)
		best = c;
	while (best && !best->table)
		best = best->prev;
	return best;
}

static struct dl_client *next_with_table(struct dl_client *c)
{
	do
		c = c->prev;
	while (c && !c->table);
	return c;
}

struct counters_page {
	struct dl_wire_busy *b;
	uint32_t max, n;
	uint64_t cursor;	/* where the next page starts */
	bool more;		/* something may come after it */
};

/*
 * Lockless pins from *cursor into pg.  Stops when the page is full (after
 * making sure another pin follows, so the last page says so), at the end,
 * or when the budget is spent (more: the next page goes on from there).
 */
static void counters_page(struct dl_server *srv, uint64_t cursor,
			  int64_t now, struct name_cache *nc,
			  struct counters_page *pg)
{
	uint64_t cid = (cursor >> 32) & 0x7fffffffULL;
	uint64_t from = cursor & 0xffffffffULL;
	uint32_t budget = SCAN_BUDGET;
	struct dl_client *c;

	if (!(cursor & DL_BUSY_COUNTERS))
		cid = 0, from = 0;
	/* a full page before the first pin found here resumes from here */
	pg->cursor = counters_cursor(cid, from);
	pg->more = false;
	for (c = client_from(srv, cid); c; c = next_with_table(c), from = 0) {
		struct dl_maptable *t = c->table;
		const struct dl_mapping *last = NULL;
		uint64_t i = c->id == cid ? from : 0;

		for (; i < t->cap; i++) {
			int64_t refs;

			if (!budget--) {
				pg->cursor = counters_cursor(c->id, i);
				pg->more = true;
				return;
			}
			/* entries in use only: a counter of a free entry
			 * pins nothing (and reading it would fault in
			 * memfd pages) */
			if (!t->used[i])
				continue;
			refs = dl_maptable_refs(t, i);
			if (!refs) {
				t->quiet_ns[i] = now;
				continue;
			}
			if (pg->n == pg->max) {
				pg->more = true;	/* the cursor is set */
				return;
			}
			counter_fill(srv, c, i, refs, now,
				     mapping_of(c, i, &last), nc,
				     &pg->b[pg->n++]);
			pg->cursor = counters_cursor(c->id, i + 1);
		}
	}
}

static uint32_t view_max(const struct dl_view_req *r)
{
	return r->max < DL_PROTO_VIEW_MAX ? r->max : DL_PROTO_VIEW_MAX;
}

int dl_handle_busy(struct dl_client *c, const struct dl_request *rq,
		   struct dl_reply *rp)
{
	const struct dl_view_req *r = rq->payload;
	struct dl_view_rep *v = rp->payload;
	struct dl_wire_busy *b = (struct dl_wire_busy *)(v + 1);
	struct counters_page pg = { .b = b, .max = view_max(r) };
	int64_t now = dl_server_now_ns();
	uint64_t cursor = r->cursor;
	struct name_cache nc = { 0 };
	const struct dl_pin *p;

	if (!(c->server_flags & DL_SRV_ADMIN))
		return -EPERM;
	/* socket pins in id order, then lockless ones by (client, entry) */
	while (!(cursor & DL_BUSY_COUNTERS) &&
	       (p = dl_pin_after(c->srv, cursor))) {
		if (pg.n == pg.max) {
			pg.cursor = cursor;
			pg.more = true;
			break;
		}
		socket_pin_fill(c->srv, p, now, &nc, &b[pg.n++]);
		cursor = p->id;
	}
	if (!pg.more)
		counters_page(c->srv, cursor & DL_BUSY_COUNTERS ? cursor : 0,
			      now, &nc, &pg);
	memset(v, 0, sizeof(*v));
	v->count = pg.n;
	v->next_cursor = pg.more ? pg.cursor : 0;
	rp->len = sizeof(*v) + pg.n * sizeof(*b);
	return 0;
}

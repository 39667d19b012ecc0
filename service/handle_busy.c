// SPDX-License-Identifier: BSD-3-Clause
/*
 * handle_busy.c - the admin BUSY view: every socket pin, then every
 * lockless pin (a non-zero counter of a table entry in use), a page at a
 * time; and BUSY_SUMMARY, the same pins added up per run of one client
 * and one file.  Admin only.
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
#include <stddef.h>
#include <string.h>

#include "server.h"

_Static_assert(sizeof(struct dl_view_rep) + DL_PROTO_VIEW_MAX *
	       sizeof(struct dl_wire_busy) + sizeof(struct dl_msg_hdr) <=
	       DL_PROTO_MAX_MSG, "a full BUSY page fits a message");
_Static_assert(sizeof(struct dl_view_rep) + DL_PROTO_BUSY_SUM_MAX *
	       sizeof(struct dl_wire_busy_sum) + sizeof(struct dl_msg_hdr) <=
	       DL_PROTO_MAX_MSG, "a full BUSY_SUMMARY page fits a message");

/* Entries in use one page may look at: ~50 ns each (its wire entry), so
 * a page holds the loop ~2 ms at worst (BUSY_SUMMARY's, whose pins all
 * go into a few rows).  A free entry is a byte to read: 64 of them count
 * as one, so a page gets past a few sparse tables of the default 65,536
 * entries. */
#define SCAN_BUDGET (1u << 15)
#define FREE_PER_UNIT 64

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

/* A pin's wire entry but for its name, which only a page that takes it
 * needs (take_pin; a summary row takes one a run). */
#define WIRE_BUSY_HEAD offsetof(struct dl_wire_busy, name)

static void socket_pin_fill(struct dl_server *srv, const struct dl_pin *p,
			    int64_t now, struct dl_wire_busy *b)
{
	memset(b, 0, WIRE_BUSY_HEAD);
	dl_pin_to_wire(p, &b->pin);
	b->refs = 1;
	b->ino = p->ino;
	b->age_ns = (uint64_t)(now - p->since_ns);
	b->orphan_ms = dl_orphan_ms(p->client, now);
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
			 const struct dl_mapping *m, struct dl_wire_busy *b)
{
	const struct dl_table_entry *e = &c->table->ent[idx];
	int64_t quiet = c->table->quiet_ns[idx];

	memset(b, 0, WIRE_BUSY_HEAD);
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
}

/* The next client by id that has a table. */
static struct dl_client *next_with_table(struct dl_client *c)
{
	do
		c = c->prev;
	while (c && !c->table);
	return c;
}

/* The client with the smallest id >= id that has a table, or NULL: the
 * list is in descending id order.  The client the last page ended in
 * saves the walk (a report's pages come one after the other). */
static struct dl_client *client_from(struct dl_server *srv, uint64_t id)
{
	struct dl_client *best = srv->busy_resume;

	if (best && best->id == id)
		return best->table ? best : next_with_table(best);
	best = NULL;
	for (struct dl_client *c = srv->clients; c && c->id >= id; c = c->next)
		best = c;
	while (best && !best->table)
		best = best->prev;
	return best;
}

/*
 * One walk of the pins from a cursor, for either view: take() is given
 * each pin in order and says false when the page cannot take it (the
 * walk stops there, and the next page starts with it).
 */
struct busy_walk {
	struct dl_server *srv;
	int64_t now;
	struct name_cache nc;
	bool (*take)(struct busy_walk *w, const struct dl_wire_busy *b);
	void *page;
	uint64_t cursor;	/* where the next page starts */
	bool more;		/* something may come after this page */
};

/* Socket pins after cursor, in id order; false when the page is done. */
static bool walk_socket_pins(struct busy_walk *w, uint64_t cursor,
			     uint32_t *budget)
{
	struct dl_wire_busy b;
	const struct dl_pin *p;

	for (; (p = dl_pin_after(w->srv, cursor)); cursor = p->id) {
		socket_pin_fill(w->srv, p, w->now, &b);
		if (!(*budget)-- || !w->take(w, &b)) {
			w->cursor = cursor;
			w->more = true;
			return false;
		}
	}
	return true;
}

/* Lockless pins from cursor, by (client, entry). */
static void walk_counters(struct busy_walk *w, uint64_t cursor,
			  uint32_t budget)
{
	uint32_t free_seen = 0;
	uint64_t cid = (cursor >> 32) & 0x7fffffffULL;
	uint64_t from = cursor & 0xffffffffULL;
	struct dl_wire_busy b;
	struct dl_client *c;

	if (!(cursor & DL_BUSY_COUNTERS))
		cid = 0, from = 0;
	w->cursor = counters_cursor(cid, from);
	for (c = client_from(w->srv, cid); c; c = next_with_table(c)) {
		struct dl_maptable *t = c->table;
		const struct dl_mapping *last = NULL;

		for (uint64_t i = c->id == cid ? from : 0; i < t->cap; i++) {
			int64_t refs;

			if (!budget) {
				w->cursor = counters_cursor(c->id, i);
				w->more = true;
				w->srv->busy_resume = c;
				return;
			}
			/* entries in use only: a counter of a free entry
			 * pins nothing (and reading it would fault in
			 * memfd pages) */
			if (!t->used[i]) {
				if (!(++free_seen % FREE_PER_UNIT))
					budget--;
				continue;
			}
			budget--;
			refs = dl_maptable_refs(t, i);
			if (!refs) {
				t->quiet_ns[i] = w->now;
				continue;
			}
			counter_fill(w->srv, c, i, refs, w->now,
				     mapping_of(c, i, &last), &b);
			if (!w->take(w, &b)) {
				w->more = true;	/* the cursor is set */
				w->srv->busy_resume = c;
				return;
			}
			w->cursor = counters_cursor(c->id, i + 1);
		}
	}
}

/*
 * From the cursor until take() refuses a pin, the pins end, or the page
 * has looked at SCAN_BUDGET entries: socket pins in id order, then
 * lockless ones by (client, entry).
 */
static void walk(struct busy_walk *w, uint64_t cursor)
{
	uint32_t budget = SCAN_BUDGET;

	w->now = dl_server_now_ns();
	w->more = false;
	if (cursor & DL_BUSY_COUNTERS || walk_socket_pins(w, cursor, &budget))
		walk_counters(w, cursor & DL_BUSY_COUNTERS ? cursor : 0,
			      budget);
}

/* ---- BUSY ---------------------------------------------------------------- */

struct busy_page {
	struct dl_wire_busy *b;
	uint32_t max, n;
};

static bool take_pin(struct busy_walk *w, const struct dl_wire_busy *b)
{
	struct busy_page *pg = w->page;

	if (pg->n == pg->max)
		return false;
	memcpy(&pg->b[pg->n], b, WIRE_BUSY_HEAD);
	copy_name(w->srv, &w->nc, (uint32_t)b->ino, pg->b[pg->n++].name);
	return true;
}

static uint32_t view_max(const struct dl_view_req *r, uint32_t most)
{
	return r->max < most ? r->max : most;
}

int dl_handle_busy(struct dl_client *c, const struct dl_request *rq,
		   struct dl_reply *rp)
{
	const struct dl_view_req *r = rq->payload;
	struct dl_view_rep *v = rp->payload;
	struct busy_page pg = {
		.b = (struct dl_wire_busy *)(v + 1),
		.max = view_max(r, DL_PROTO_VIEW_MAX),
	};
	struct busy_walk w = { .srv = c->srv, .take = take_pin, .page = &pg };

	if (!(c->server_flags & DL_SRV_ADMIN))
		return -EPERM;
	walk(&w, r->cursor);
	memset(v, 0, sizeof(*v));
	v->count = pg.n;
	v->next_cursor = w.more ? w.cursor : 0;
	rp->len = sizeof(*v) + pg.n * sizeof(*pg.b);
	return 0;
}

/* ---- BUSY_SUMMARY -------------------------------------------------------- */

struct sum_page {
	struct dl_wire_busy_sum *rows;
	uint32_t max, n;
};

static bool same_run(const struct dl_wire_busy_sum *row,
		     const struct dl_wire_busy *b)
{
	return row->pid == b->pin.pid && row->uid == b->pin.uid &&
	       row->ino == b->ino && !memcmp(row->comm, b->pin.comm,
					     sizeof(row->comm));
}

static bool take_into_row(struct busy_walk *w, const struct dl_wire_busy *b)
{
	struct sum_page *pg = w->page;
	struct dl_wire_busy_sum *row = pg->n ? &pg->rows[pg->n - 1] : NULL;

	if (!row || !same_run(row, b)) {
		if (pg->n == pg->max)
			return false;
		row = &pg->rows[pg->n++];
		memset(row, 0, sizeof(*row));
		row->pid = b->pin.pid;
		row->uid = b->pin.uid;
		memcpy(row->comm, b->pin.comm, sizeof(row->comm));
		row->ino = b->ino;
		if (b->ino)
			copy_name(w->srv, &w->nc, (uint32_t)b->ino,
				  row->name);
	}
	row->pins++;
	row->lockless += (b->pin.flags & DL_BLOCKER_COUNTER) != 0;
	row->bytes += b->pin.length;
	if (b->age_ns > row->oldest_ns)
		row->oldest_ns = b->age_ns;
	return true;
}

int dl_handle_busy_summary(struct dl_client *c, const struct dl_request *rq,
			   struct dl_reply *rp)
{
	const struct dl_view_req *r = rq->payload;
	struct dl_view_rep *v = rp->payload;
	struct sum_page pg = {
		.rows = (struct dl_wire_busy_sum *)(v + 1),
		.max = view_max(r, DL_PROTO_BUSY_SUM_MAX),
	};
	struct busy_walk w = {
		.srv = c->srv, .take = take_into_row, .page = &pg,
	};

	if (!(c->server_flags & DL_SRV_ADMIN))
		return -EPERM;
	walk(&w, r->cursor);
	memset(v, 0, sizeof(*v));
	v->count = pg.n;
	v->next_cursor = w.more ? w.cursor : 0;
	rp->len = sizeof(*v) + pg.n * sizeof(*pg.rows);
	return 0;
}

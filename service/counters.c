// SPDX-License-Identifier: BSD-3-Clause
/*
 * counters.c - lockless pins: the counters clients keep in their counter
 * regions (include/daxlease/table.h), as the busy-page scan reads them.
 *
 * A client pins without asking us: it reads a table entry, increments its
 * counter for that entry, fences, and reads the entry again.  A layout
 * change invalidates the entries of its range in every table, fences
 * (dl_mappings_invalidate), asks for wake-ups, fences, and only then
 * counts here.  Either the client's second read sees the invalid entry and
 * it backs off, or we see its count and wait (docs/pin-protocol.md).
 *
 * Counters are the client's memory: every value is read once, never
 * trusted for anything but "not zero means pinned".  A negative or huge
 * one only ever holds the liar's own blocks longer, and is reported.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server.h"

static uint64_t entry_size(const struct dl_table_entry *e)
{
	return dl_leaf_size(dl_pte_level(e->pte));
}

void dl_counter_to_wire(const struct dl_client *c, uint64_t idx,
			    int64_t refs, struct dl_wire_blocker *w)
{
	const struct dl_table_entry *e = &c->table->ent[idx];

	dl_blocker_of_client(c, w);
	w->pin_id = idx;
	w->offset = e->file_offset;
	w->length = entry_size(e);
	w->write = (e->pte & DL_PTE_WRITE) != 0;
	w->flags |= DL_BLOCKER_COUNTER |
		    (dl_refs_corrupt(refs) ? DL_BLOCKER_CORRUPT : 0);
}

/*
 * fn for each pinned entry of m whose leaf holds any of blocks.  The leaf
 * is the one its pte word names - where the pin's "DMA" goes - not the
 * file offset it was mapped at: a collapse or an insert may have moved
 * the block since (the entry is invalid then, but its counter still holds
 * the block).  The counter is read first: it is the cheap, usual "no".
 */
static void visit_mapping(struct dl_client *c, const struct dl_mapping *m,
			  const struct dl_rangeset *blocks,
			  dl_counter_fn *fn, void *arg)
{
	const struct dl_maptable *t = c->table;

	for (uint64_t i = m->first; i < m->first + m->nentries; i++) {
		const struct dl_table_entry *e = &t->ent[i];
		int64_t refs = dl_maptable_refs(t, i);

		if (refs && dl_rangeset_meets(blocks, dl_pte_ns_offset(e->pte),
					      entry_size(e)))
			fn(c, i, refs, arg);
	}
}

void dl_counters_for_each(struct dl_server *srv, uint32_t ino,
			  const struct dl_rangeset *blocks, dl_counter_fn *fn,
			  void *arg)
{
	/* blocks never move from one file to another: only ino's
	 * mappings can count them, at whatever file range */
	for (struct dl_client *c = srv->clients; c; c = c->next) {
		if (!c->table)
			continue;
		for (struct dl_mapping *m = c->maps; m; m = m->next)
			if (m->ino == ino)
				visit_mapping(c, m, blocks, fn, arg);
	}
}

struct scan_out {
	struct dl_wire_blocker *out;
	uint32_t max, n;
};

static void scan_one(struct dl_client *c, uint64_t idx, int64_t refs,
		     void *arg)
{
	struct scan_out *s = arg;

	if (s->out && s->n < s->max)
		dl_counter_to_wire(c, idx, refs, &s->out[s->n]);
	s->n++;
}

uint32_t dl_counters_scan(struct dl_server *srv, uint32_t ino,
			  const struct dl_rangeset *blocks,
			  struct dl_wire_blocker *out, uint32_t max)
{
	struct scan_out s = { .out = out, .max = max };

	dl_counters_for_each(srv, ino, blocks, scan_one, &s);
	return s.n;
}

bool dl_counters_busy(const struct dl_client *c, const struct dl_mapping *m)
{
	for (uint64_t i = m->first; i < m->first + m->nentries; i++)
		if (dl_maptable_refs(c->table, i))
			return true;
	return false;
}

/* ---- wake-ups --------------------------------------------------------------- */

void dl_counters_want_wakeups(struct dl_server *srv, bool on)
{
	for (struct dl_client *c = srv->clients; c; c = c->next)
		if (c->table)
			dl_maptable_want_wakeups(c->table, on);
	/* set before the counters are read (the caller scans after this) */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void dl_counters_settle_wakeups(struct dl_server *srv)
{
	bool want = srv->cholds != NULL;

	for (struct dl_waiter *w = srv->wait_head; w && !want; w = w->next)
		want = w->on_pins;
	/* an orphan's last unpin is what lets it go (orphan.c) */
	for (struct dl_client *c = srv->clients; c; c = c->next)
		if (c->table && !c->table->chdr->waiting != !(want || c->orphan))
			dl_maptable_want_wakeups(c->table, want || c->orphan);
}

/* ---- the BUSY view -------------------------------------------------------------- */

const struct dl_mapping *dl_counters_mapping_of(const struct dl_client *c,
					        uint64_t idx)
{
	for (const struct dl_mapping *m = c->maps; m; m = m->next)
		if (idx >= m->first && idx < m->first + m->nentries)
			return m;
	return NULL;
}

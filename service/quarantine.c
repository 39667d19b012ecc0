// SPDX-License-Identifier: BSD-3-Clause
/*
 * quarantine.c - the 'detach' busy policy (daxleased --detach).
 *
 * A layout change that finds pins in its way does not wait: it runs at
 * once with a fresh detach_tag, so every block it frees goes to the
 * namespace's detached table instead of free space (pmem/fs.h).  Just
 * before, each pin in the way records a HOLD on the namespace blocks its
 * range has (tag, range).  Just after, everything the tag detached that
 * no hold covers is released.  When a pin goes (unpin, disconnect,
 * process death) its holds go, and what no other hold still covers is
 * released.  The allocator never sees a held block: it is neither free
 * nor in a file until dl_fs_release().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server.h"

static void hold_add(struct dl_server *srv, uint64_t tag, uint64_t pin_id,
		     uint64_t ns_offset, uint64_t length)
{
	struct dl_hold *h = calloc(1, sizeof(*h));

	/* without the record the blocks would stay detached for good,
	 * which is safe (never reused), just a leak until restart */
	if (!h) {
		log_warn("out of memory: blocks of tag %llu stay detached",
			 (unsigned long long)tag);
		return;
	}
	h->tag = tag;
	h->pin_id = pin_id;
	h->ns_offset = ns_offset;
	h->length = length;
	h->next = srv->holds;
	srv->holds = h;
}

/* Hold the blocks pin p holds (wherever in the file they are now). */
static void hold_pin(struct dl_server *srv, uint64_t tag, struct dl_pin *p)
{
	for (size_t i = 0; i < p->blocks.n; i++)
		hold_add(srv, tag, p->id, p->blocks.v[i].off,
			 p->blocks.v[i].len);
}

/*
 * Hold the block a lockless pin references: the one its entry's pte word
 * names, which is exactly where the client's "DMA" goes.
 */
static void hold_counter(struct dl_server *srv, uint64_t tag,
			 struct dl_client *c, uint64_t idx)
{
	const struct dl_table_entry *e = &c->table->ent[idx];
	struct dl_chold *h = calloc(1, sizeof(*h));

	if (!h) {
		log_warn("out of memory: blocks of tag %llu stay detached",
			 (unsigned long long)tag);
		return;
	}
	h->client = c;
	h->idx = idx;
	h->pin_id = ++srv->next_pin_id;
	h->next = srv->cholds;
	srv->cholds = h;
	hold_add(srv, tag, h->pin_id, dl_pte_ns_offset(e->pte),
		 dl_leaf_size(dl_pte_level(e->pte)));
	log_info("%s: lockless pin of entry %llu keeps its blocks in quarantine (tag %llu)",
		 dl_conn_who(c), (unsigned long long)idx,
		 (unsigned long long)tag);
}

struct hold_arg {
	struct dl_server *srv;
	uint64_t tag;
};

static void hold_one(struct dl_client *c, uint64_t idx, int64_t refs,
		     void *arg)
{
	const struct hold_arg *h = arg;

	(void)refs;
	hold_counter(h->srv, h->tag, c, idx);
}

uint64_t dl_quarantine_begin(struct dl_server *srv, uint32_t ino,
			     uint64_t offset, uint64_t length, bool file_goes)
{
	uint64_t tag = ++srv->next_tag;
	struct hold_arg h = { srv, tag };
	struct dl_rangeset blocks = { 0 };

	/* without the blocks, hold every pin of the file: safe, if more
	 * than needed */
	if (dl_file_blocks(srv, ino, offset, length, &blocks)) {
		dl_rangeset_clear(&blocks);
		if (dl_rangeset_add(&blocks, 0, UINT64_MAX))
			log_warn("out of memory: pins of inode %u may not hold "
				 "their blocks", ino);
	}
	dl_counters_for_each(srv, ino, &blocks, hold_one, &h);

	for (struct dl_pin *p = srv->pins; p; p = p->next) {
		if (!dl_rangesets_meet(&p->blocks, &blocks))
			continue;
		hold_pin(srv, tag, p);
		log_info("%s: pin %llu keeps its blocks in quarantine (tag %llu)",
			 dl_conn_who(p->client), (unsigned long long)p->id,
			 (unsigned long long)tag);
	}
	/* the inode number may be reused: the pins now hold blocks only */
	if (file_goes)
		for (struct dl_pin *p = srv->pins; p; p = p->next)
			if (p->ino == ino)
				p->ino = 0;
	dl_rangeset_free(&blocks);
	return tag;
}

static void release(struct dl_server *srv, uint64_t tag, uint64_t off,
		    uint64_t len)
{
	struct dl_err err = { 0 };
	int rc = dl_fs_release(srv->fs, tag, off, len, &err);

	if (rc)
		log_warn("cannot release detached blocks (tag %llu): %s",
			 (unsigned long long)tag,
			 err.errnum ? err.msg : strerror(-rc));
}

/* Release what tag detached in [off, off+len) that no hold covers. */
static void release_unheld(struct dl_server *srv, uint64_t tag, uint64_t off,
			   uint64_t len)
{
	uint64_t pos = off, end = off + len;

	while (pos < end) {
		const struct dl_hold *first = NULL;

		for (const struct dl_hold *h = srv->holds; h; h = h->next)
			if (h->tag == tag &&
			    dl_range_overlaps(h->ns_offset, h->length, pos,
					      end - pos) &&
			    (!first || h->ns_offset < first->ns_offset))
				first = h;
		if (!first) {
			release(srv, tag, pos, end - pos);
			return;
		}
		if (first->ns_offset > pos)
			release(srv, tag, pos, first->ns_offset - pos);
		if (first->ns_offset + first->length > pos)
			pos = first->ns_offset + first->length;
	}
}

void dl_quarantine_settle(struct dl_server *srv, uint64_t tag)
{
	struct dl_detached *d;
	size_t n = 0;

	if (dl_fs_detached(srv->fs, NULL, 0, &n) || !n)
		return;
	d = calloc(n, sizeof(*d));
	if (!d || dl_fs_detached(srv->fs, d, n, &n)) {
		free(d);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (d[i].tag == tag)
			release_unheld(srv, tag, d[i].ns_offset, d[i].length);
	free(d);
}

void dl_quarantine_unpin(struct dl_server *srv, uint64_t pin_id)
{
	struct dl_hold **l = &srv->holds;

	while (*l) {
		struct dl_hold *h = *l;

		if (h->pin_id != pin_id) {
			l = &h->next;
			continue;
		}
		*l = h->next;
		release_unheld(srv, h->tag, h->ns_offset, h->length);
		free(h);
	}
}

/* Drop the holds of lockless pins for which done() says so. */
static void drop_cholds(struct dl_server *srv,
			bool (*done)(const struct dl_chold *, const void *),
			const void *arg)
{
	struct dl_chold **l = &srv->cholds;

	while (*l) {
		struct dl_chold *h = *l;

		if (!done(h, arg)) {
			l = &h->next;
			continue;
		}
		*l = h->next;
		dl_quarantine_unpin(srv, h->pin_id);
		free(h);
	}
}

static bool counter_is_zero(const struct dl_chold *h, const void *arg)
{
	(void)arg;
	return !dl_maptable_refs(h->client->table, h->idx);
}

static bool of_client(const struct dl_chold *h, const void *c)
{
	return h->client == c;
}

void dl_quarantine_check_counters(struct dl_server *srv)
{
	drop_cholds(srv, counter_is_zero, NULL);
}

void dl_quarantine_drop_client(struct dl_client *c)
{
	drop_cholds(c->srv, of_client, c);
}

/*
 * Blocks an earlier run left detached were held by its pins.  Those a
 * living process's pin records reach stay, held by its restored pin
 * (records.c) until it exits or re-attaches; the rest had holders that
 * are gone, and go back to free space.
 */
/* One lockless pin's hold of [off, off+len) under tag. */
static void hold_counted(struct dl_server *srv, uint64_t tag,
			 struct dl_client *o, uint64_t idx, uint64_t off,
			 uint64_t len)
{
	struct dl_chold *h = calloc(1, sizeof(*h));

	if (!h) {
		log_warn("out of memory: blocks of tag %llu stay detached",
			 (unsigned long long)tag);
		return;
	}
	h->client = o;
	h->idx = idx;
	h->pin_id = ++srv->next_pin_id;
	h->next = srv->cholds;
	srv->cholds = h;
	hold_add(srv, tag, h->pin_id, off, len);
}

/* Give hold h to what c (and the orphans it adopted) holds of its range. */
static void handover_one(struct dl_server *srv, const struct dl_hold *h,
			 struct dl_client *c)
{
	for (struct dl_pin *p = srv->pins; p; p = p->next)
		if ((p->client == c || p->client->adopter == c) &&
		    dl_rangeset_meets(&p->blocks, h->ns_offset, h->length))
			hold_add(srv, h->tag, p->id, h->ns_offset, h->length);
	for (struct dl_client *o = srv->clients; o; o = o->next) {
		if (o->adopter != c || !o->table)
			continue;
		for (struct dl_mapping *m = o->maps; m; m = m->next)
			for (uint64_t i = m->first; i < m->first + m->nentries;
			     i++) {
				const struct dl_table_entry *e =
					&o->table->ent[i];

				if (dl_maptable_refs(o->table, i) &&
				    dl_range_overlaps(dl_pte_ns_offset(e->pte),
						      dl_leaf_size(dl_pte_level(e->pte)),
						      h->ns_offset, h->length))
					hold_counted(srv, h->tag, o, i,
						     h->ns_offset, h->length);
			}
	}
}

void dl_quarantine_handover(struct dl_server *srv, uint64_t pin_id,
			    struct dl_client *c)
{
	/* new holds go to the head: walk only the ones there were */
	struct dl_hold *end = NULL;

	for (struct dl_hold *h = srv->holds; h; h = h->next)
		end = h;
	for (struct dl_hold *h = srv->holds; h; h = h->next) {
		if (h->pin_id == pin_id)
			handover_one(srv, h, c);
		if (h == end)
			break;
	}
}

void dl_quarantine_init(struct dl_server *srv)
{
	struct dl_detached *d;
	size_t n = 0, kept = 0;

	srv->next_tag = 0;
	if (dl_fs_detached(srv->fs, NULL, 0, &n) || !n)
		return;
	d = calloc(n, sizeof(*d));
	if (!d || dl_fs_detached(srv->fs, d, n, &n)) {
		/* keep them all detached: safe, if a leak until restart */
		free(d);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (d[i].tag > srv->next_tag)
			srv->next_tag = d[i].tag;
	for (size_t i = 0; i < n; i++) {
		bool held = false;

		for (struct dl_pin *p = srv->pins; p; p = p->next) {
			if (!dl_rangeset_meets(&p->blocks, d[i].ns_offset,
					       d[i].length))
				continue;
			hold_add(srv, d[i].tag, p->id, d[i].ns_offset,
				 d[i].length);
			held = true;
		}
		kept += held;
		if (!held)
			release(srv, d[i].tag, d[i].ns_offset, d[i].length);
	}
	free(d);
	log_info("%zu detached block range(s) left by an earlier run: %zu "
		 "held for processes still running, %zu released", n, kept,
		 n - kept);
}

void dl_quarantine_free(struct dl_server *srv)
{
	while (srv->cholds) {
		struct dl_chold *h = srv->cholds;

		srv->cholds = h->next;
		free(h);
	}
	while (srv->holds) {
		struct dl_hold *h = srv->holds;

		srv->holds = h->next;
		free(h);
	}
}

/* ---- the QUARANTINE view ------------------------------------------------------ */

_Static_assert(sizeof(struct dl_view_rep) + DL_PROTO_VIEW_MAX *
	       sizeof(struct dl_wire_quarantine) + sizeof(struct dl_msg_hdr) <=
	       DL_PROTO_MAX_MSG, "a full QUARANTINE page fits a message");

static int by_offset(const void *a, const void *b)
{
	const struct dl_detached *x = a, *y = b;

	return x->ns_offset < y->ns_offset ? -1 : x->ns_offset > y->ns_offset;
}

static void quarantine_fill(struct dl_server *srv, const struct dl_detached *d,
			    struct dl_wire_quarantine *q)
{
	memset(q, 0, sizeof(*q));
	q->ns_offset = d->ns_offset;
	q->length = d->length;
	q->tag = d->tag;
	for (const struct dl_hold *h = srv->holds; h; h = h->next) {
		if (h->tag != d->tag ||
		    !dl_range_overlaps(h->ns_offset, h->length, d->ns_offset,
				       d->length))
			continue;
		if (q->npins < 8)
			q->pin_ids[q->npins] = h->pin_id;
		q->npins++;
		for (const struct dl_pin *p = srv->pins; p && !q->pid;
		     p = p->next)
			if (p->id == h->pin_id)
				q->pid = (uint32_t)p->client->cred.pid;
		for (const struct dl_chold *ch = srv->cholds; ch && !q->pid;
		     ch = ch->next)
			if (ch->pin_id == h->pin_id)
				q->pid = (uint32_t)ch->client->cred.pid;
	}
}

int dl_handle_quarantine(struct dl_client *c, const struct dl_request *rq,
			 struct dl_reply *rp)
{
	const struct dl_view_req *r = rq->payload;
	struct dl_view_rep *v = rp->payload;
	struct dl_wire_quarantine *q = (struct dl_wire_quarantine *)(v + 1);
	uint32_t max = r->max < DL_PROTO_VIEW_MAX ? r->max : DL_PROTO_VIEW_MAX;
	struct dl_detached *d = NULL;
	size_t n = 0, i = 0;
	uint32_t k = 0;

	if (!(c->server_flags & DL_SRV_ADMIN))
		return -EPERM;
	/* bounded by the on-media table's size, not by any client */
	if (dl_fs_detached(c->srv->fs, NULL, 0, &n))
		return -EIO;
	if (n) {
		d = calloc(n, sizeof(*d));
		if (!d || dl_fs_detached(c->srv->fs, d, n, &n)) {
			free(d);
			return -ENOMEM;
		}
		qsort(d, n, sizeof(*d), by_offset);
	}
	while (i < n && d[i].ns_offset < r->cursor)
		i++;
	for (; i < n && k < max; i++)
		quarantine_fill(c->srv, &d[i], &q[k++]);
	memset(v, 0, sizeof(*v));
	v->count = k;
	v->next_cursor = k && i < n ? q[k - 1].ns_offset + 1 : 0;
	rp->len = sizeof(*v) + k * sizeof(*q);
	free(d);
	return 0;
}

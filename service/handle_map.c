// SPDX-License-Identifier: BSD-3-Clause
/*
 * handle_map.c - MAP and UNMAP: a file range as table entries, one per
 * leaf (include/daxlease/table.h).
 *
 * A write mapping first makes its range writable (dl_fs_prepare_write:
 * holes allocated, unwritten extents zeroed and written).  A read mapping
 * must already be fully written: holes and unwritten extents are refused
 * with -ENXIO, because their blocks either do not exist or still hold
 * whatever was there before (they read as zeros only through READ).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server.h"

#define GiB (1ULL << 30)
#define MiB2 (2ULL << 20)

struct leaf_walk {
	uint64_t pos, end;
	uint64_t align;			/* namespace align */
	struct dl_maptable *t;		/* NULL: only count */
	uint64_t idx;			/* next entry */
	uint64_t map_id;
	bool write;
	uint64_t count;
	uint64_t limit;			/* entries the table could ever give */
	bool bound;			/* count holes as 4 KiB leaves */
};

/* The largest leaf at pos/ns that alignment, room and align allow. */
static enum dl_leaf_level pick_leaf(uint64_t pos, uint64_t ns, uint64_t room,
				    uint64_t align)
{
	if (align >= GiB && !(pos % GiB) && !(ns % GiB) && room >= GiB)
		return DL_LEAF_PUD;
	if (align >= MiB2 && !(pos % MiB2) && !(ns % MiB2) && room >= MiB2)
		return DL_LEAF_PMD;
	return DL_LEAF_PTE;
}

static int walk_extent(struct leaf_walk *w, const struct dl_extent *e)
{
	uint64_t e_end = e->file_offset + e->length;
	uint64_t stop = e_end < w->end ? e_end : w->end;

	if (e_end <= w->pos)
		return 0;
	if (w->bound && e->file_offset > w->pos) {
		/* a hole gets new blocks: at most one PTE leaf per page */
		uint64_t gap = (e->file_offset < w->end ? e->file_offset
							: w->end) - w->pos;

		w->count += gap >> 12;
		w->pos += gap;
	}
	if (e->file_offset > w->pos || (e->unwritten && !w->bound))
		return -ENXIO;		/* a hole, or not yet written */
	while (w->pos < stop) {
		uint64_t ns = e->ns_offset + (w->pos - e->file_offset);
		enum dl_leaf_level lv = pick_leaf(w->pos, ns, stop - w->pos,
						  w->align);

		if (w->t)
			dl_maptable_set(w->t, w->idx++, w->pos, w->map_id, ns,
					lv, w->write);
		/* a huge PTE-only range must not spin the loop for nothing */
		else if (w->count >= w->limit)
			return -ENOSPC;
		w->count++;
		w->pos += dl_leaf_size(lv);
	}
	return 0;
}

static int walk(struct leaf_walk *w, const struct dl_extent *ext, size_t n)
{
	for (size_t i = 0; i < n && w->pos < w->end; i++) {
		int rc = walk_extent(w, &ext[i]);

		if (rc)
			return rc;
	}
	if (w->bound && w->pos < w->end) {
		w->count += (w->end - w->pos) >> 12;
		w->pos = w->end;
	}
	return w->pos < w->end ? -ENXIO : 0;
}

/* All extents of the range, malloc'ed. */
static int get_extents(struct dl_fs *fs, uint32_t ino, uint64_t off,
		       uint64_t len, struct dl_extent **out, size_t *n)
{
	size_t max = 64;

	for (;;) {
		struct dl_extent *e = malloc(max * sizeof(*e));
		int rc;

		if (!e)
			return -ENOMEM;
		rc = dl_fs_extents(fs, ino, off, len, e, max, n);
		if (rc || *n <= max) {
			if (rc)
				free(e);
			else
				*out = e;
			return rc;
		}
		free(e);
		max = *n;
	}
}

static int map_check(struct dl_client *c, const struct dl_map_req *r,
		     struct dl_fh **h)
{
	unsigned want = DL_ACCESS_R |
			(r->prot & DL_MAP_PROT_WRITE ? DL_ACCESS_W : 0);
	struct dl_stat st;
	int rc;

	if (!(c->server_flags & DL_SRV_DAX_ALLOWED))
		return -EACCES;
	rc = dl_file_from_fh(c, r->fh, h, &st);
	if (rc)
		return rc;
	/* mmap(2): the handle must allow what the mapping allows */
	if (((*h)->access & want) != want)
		return -EACCES;
	if (r->offset + r->length > st.size)
		return -ENXIO;
	return 0;
}

static int map_prepare(struct dl_client *c, const struct dl_map_req *r,
		       uint32_t ino)
{
	struct dl_err err = { 0 };
	int rc;

	if (!(r->prot & DL_MAP_PROT_WRITE))
		return 0;
	rc = dl_fs_prepare_write(c->srv->fs, ino, r->offset, r->length, &err);
	return rc ? dl_fs_failed(c, "prepare_write", rc, &err) : 0;
}

static int ensure_table(struct dl_client *c)
{
	struct dl_err err = { 0 };
	int rc;

	if (c->table)
		return 0;
	rc = dl_maptable_new(c->srv->opt.table_entries, &c->table, &err);
	if (rc)
		log_warn("%s: %s", dl_conn_who(c), err.msg);
	return rc;
}

void dl_mapping_free(struct dl_mapping *m)
{
	if (!m)
		return;
	dl_rangeset_free(&m->blocks);
	free(m);
}

static struct dl_mapping *map_record(struct dl_client *c, const struct dl_fh *h,
				     const struct dl_map_req *r)
{
	struct dl_mapping *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->id = ++c->srv->next_map_id;
	m->ino = h->ino;
	m->generation = h->generation;
	m->offset = r->offset;
	m->length = r->length;
	m->write = r->prot & DL_MAP_PROT_WRITE;
	m->reader = dl_hostage_is_reader(c, h);
	return m;
}

/* Count the entries [offset, offset+length) needs: exactly, or with
 * bound an upper limit that holds after its holes get blocks. */
static int map_count(struct dl_client *c, const struct dl_map_req *r,
		     const struct dl_extent *ext, size_t n, bool bound,
		     uint64_t *count)
{
	struct leaf_walk w = {
		.pos = r->offset, .end = r->offset + r->length,
		.align = c->srv->nsinfo.align, .limit = c->table->cap,
		.bound = bound,
	};
	int rc = walk(&w, ext, n);

	*count = w.count;
	return rc;
}

/*
 * Write the leaves into entries [first, first+reserved), which the
 * caller took from the table; entries the mapping does not need go back.
 */
static int map_fill(struct dl_client *c, struct dl_mapping *m,
		    const struct dl_extent *ext, size_t n, uint64_t first,
		    uint64_t reserved)
{
	struct leaf_walk w = {
		.pos = m->offset, .end = m->offset + m->length,
		.align = c->srv->nsinfo.align, .map_id = m->id,
		.write = m->write, .limit = c->table->cap,
	};
	int rc = walk(&w, ext, n);

	if (!rc && w.count > reserved)
		rc = -EIO;	/* the bound was wrong: a bug, not the client's */
	if (rc) {
		dl_maptable_release(c->table, first, reserved);
		return rc;
	}
	dl_maptable_release(c->table, first + w.count, reserved - w.count);
	m->first = first;
	m->nentries = w.count;
	w.t = c->table;
	w.idx = m->first;
	w.pos = m->offset;
	w.count = 0;
	return walk(&w, ext, n);
}

static void map_reply(struct dl_client *c, const struct dl_mapping *m,
		      struct dl_reply *rp)
{
	struct dl_map_rep *o = rp->payload;

	memset(o, 0, sizeof(*o));
	o->map_id = m->id;
	o->first_entry = m->first;
	o->nentries = m->nentries;
	dl_map_reply_fds(c, m->write, o, rp);
	rp->len = sizeof(*o);
}

/*
 * Take the table entries the mapping will need before anything changes
 * the file: a write mapping allocates blocks, and a mapping refused for
 * want of table room must leave the file as it was.
 */
static int map_reserve(struct dl_client *c, const struct dl_map_req *r,
		       uint32_t ino, int64_t *first, uint64_t *reserved)
{
	bool write = r->prot & DL_MAP_PROT_WRITE;
	struct dl_extent *ext = NULL;
	size_t n;
	int rc;

	rc = get_extents(c->srv->fs, ino, r->offset, r->length, &ext, &n);
	if (!rc)
		rc = map_count(c, r, ext, n, write, reserved);
	free(ext);
	if (!rc)
		rc = dl_limit_map(c, *reserved);
	if (rc)
		return rc;
	*first = dl_maptable_alloc(c->table, *reserved);
	return *first < 0 ? (int)*first : 0;
}

int dl_handle_map(struct dl_client *c, const struct dl_request *rq,
		  struct dl_reply *rp)
{
	const struct dl_map_req *r = rq->payload;
	struct dl_extent *ext = NULL;
	struct dl_mapping *m;
	struct dl_fh *h;
	uint64_t reserved;
	int64_t first;
	size_t n;
	int rc;

	rc = map_check(c, r, &h);
	/* a layout change waiting on this range goes first */
	if (!rc)
		rc = dl_wait_gate(c, rq, h->ino, r->offset, r->length);
	if (!rc)
		rc = dl_lease_required(c, h->ino, r->offset, r->length);
	if (!rc)
		rc = ensure_table(c);
	if (!rc)
		rc = map_reserve(c, r, h->ino, &first, &reserved);
	if (rc)
		return rc;
	/* table room is held: now the file may change (blocks allocated) */
	rc = map_prepare(c, r, h->ino);
	if (!rc)
		rc = get_extents(c->srv->fs, h->ino, r->offset, r->length,
				 &ext, &n);
	m = rc ? NULL : map_record(c, h, r);
	if (!rc && !m)
		rc = -ENOMEM;
	/* on the namespace before any entry names a block (records.c) */
	if (!rc)
		rc = dl_file_blocks(c->srv, h->ino, r->offset, r->length,
				    &m->blocks);
	if (!rc)
		rc = dl_records_cover(c, &m->blocks);
	if (rc) {
		dl_maptable_release(c->table, (uint64_t)first, reserved);
		free(ext);
		dl_mapping_free(m);
		return rc;
	}
	rc = map_fill(c, m, ext, n, (uint64_t)first, reserved);
	free(ext);
	if (rc) {
		dl_mapping_free(m);
		return rc;
	}
	m->next = c->maps;
	c->maps = m;
	dl_limits_map_added(c, m);
	/* stores through it, and lockless write pins' "DMA", never tell us
	 * when they happen: the range is dirty from now on */
	if (m->write)
		dl_dirty_add(c->srv, m->ino, m->offset, m->length);
	map_reply(c, m, rp);
	return 0;
}

/*
 * Entries are never reused while a lockless pin holds one (the pin's
 * blocks are found through its entry), so an UNMAP with pins is refused.
 * Checked like a layout change: invalidate, fence, read the counters - a
 * pin racing with us either sees the invalid entry and backs off, or is
 * seen here.  When refused, the entries that were valid are valid again,
 * under a new generation.
 */
static int unmap_check(struct dl_client *c, const struct dl_mapping *m)
{
	struct dl_maptable *t = c->table;
	uint64_t *old = malloc(m->nentries * sizeof(*old));
	bool busy;

	if (!old)
		return -ENOMEM;
	for (uint64_t i = 0; i < m->nentries; i++) {
		old[i] = t->ent[m->first + i].pte;
		dl_maptable_invalidate(t, m->first + i);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	busy = dl_counters_busy(c, m);
	if (busy)
		for (uint64_t i = 0; i < m->nentries; i++)
			dl_maptable_revalidate(t, m->first + i, old[i]);
	free(old);
	return busy ? -EBUSY : 0;
}

/* UNMAP of one of c's mappings (0, -EBUSY), or -EINVAL: not one. */
static int unmap_of(struct dl_client *c, uint64_t map_id)
{
	int rc;

	for (struct dl_mapping **p = &c->maps; *p; p = &(*p)->next) {
		struct dl_mapping *m = *p;

		if (m->id != map_id)
			continue;
		rc = unmap_check(c, m);
		if (rc)
			return rc;
		*p = m->next;
		dl_limits_map_gone(c, m);
		dl_maptable_release(c->table, m->first, m->nentries);
		dl_dirty_map_gone(c->srv, m);
		dl_mapping_free(m);
		dl_records_changed(c);
		return 0;
	}
	return -EINVAL;
}

int dl_handle_unmap(struct dl_client *c, const struct dl_request *rq,
		    struct dl_reply *rp)
{
	const struct dl_unmap_req *r = rq->payload;
	int rc = unmap_of(c, r->map_id);

	(void)rp;
	/* or a mapping of a lost connection it re-attached */
	for (struct dl_client *o = c->srv->clients; o && rc == -EINVAL;
	     o = o->next)
		if (o->adopter == c)
			rc = unmap_of(o, r->map_id);
	return rc;
}

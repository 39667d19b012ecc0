/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * extmap.c - the in-DRAM extent map of one file (see extmap.h).
 */
#include "extmap.h"

#include "array.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t ext_end(const struct dl_extent_rec *e)
{
	return e->file_block + e->nblocks;
}

static bool ext_unwritten(const struct dl_extent_rec *e)
{
	return e->flags & DL_EXTENT_F_UNWRITTEN;
}

/* b continues a: adjacent in file and namespace space, same state, and
 * the merged length still fits the on-media 32-bit length. */
static bool ext_continues(const struct dl_extent_rec *a,
			  const struct dl_extent_rec *b)
{
	return ext_end(a) == b->file_block &&
	       a->phys_block + a->nblocks == b->phys_block &&
	       a->flags == b->flags &&
	       (uint64_t)a->nblocks + b->nblocks <= UINT32_MAX;
}

void dl_extmap_init(struct dl_extmap *m)
{
	memset(m, 0, sizeof(*m));
}

void dl_extmap_free(struct dl_extmap *m)
{
	free(m->ext);
	dl_extmap_init(m);
}

int dl_extmap_reserve(struct dl_extmap *m, size_t n)
{
	return dl_array_reserve(&m->ext, &m->cap, n, sizeof(m->ext[0]));
}

size_t dl_extmap_find(const struct dl_extmap *m, uint64_t fblk)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ext_end(&m->ext[mid]) <= fblk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t dl_extmap_count_range(const struct dl_extmap *m, uint64_t start,
			     uint64_t len)
{
	size_t i = dl_extmap_find(m, start), count = 0;
	uint64_t end = start + len;

	for (; i < m->n && m->ext[i].file_block < end; i++)
		count++;
	return count;
}

uint64_t dl_extmap_mapped_in(const struct dl_extmap *m, uint64_t start,
			     uint64_t len)
{
	size_t i = dl_extmap_find(m, start);
	uint64_t end = start + len, total = 0;

	for (; i < m->n && m->ext[i].file_block < end; i++) {
		uint64_t s = m->ext[i].file_block, e = ext_end(&m->ext[i]);

		if (s < start)
			s = start;
		if (e > end)
			e = end;
		total += e - s;
	}
	return total;
}

uint64_t dl_extmap_count_unwritten(const struct dl_extmap *m, uint64_t start,
				   uint64_t len)
{
	size_t i = dl_extmap_find(m, start);
	uint64_t end = start + len, total = 0;

	for (; i < m->n && m->ext[i].file_block < end; i++) {
		uint64_t s = m->ext[i].file_block, e = ext_end(&m->ext[i]);

		if (!(m->ext[i].flags & DL_EXTENT_F_UNWRITTEN))
			continue;
		if (s < start)
			s = start;
		if (e > end)
			e = end;
		total += e - s;
	}
	return total;
}

uint64_t dl_extmap_total(const struct dl_extmap *m)
{
	uint64_t total = 0;

	for (size_t i = 0; i < m->n; i++)
		total += m->ext[i].nblocks;
	return total;
}

uint64_t dl_extmap_end(const struct dl_extmap *m)
{
	return m->n ? ext_end(&m->ext[m->n - 1]) : 0;
}

bool dl_extmap_lookup(const struct dl_extmap *m, uint64_t fblk,
		      uint64_t *phys, bool *unwritten, uint64_t *run)
{
	size_t i = dl_extmap_find(m, fblk);
	const struct dl_extent_rec *e;

	if (i == m->n) {
		*run = UINT64_MAX;
		return false;
	}
	e = &m->ext[i];
	if (e->file_block > fblk) {
		*run = e->file_block - fblk;
		return false;
	}
	*phys = e->phys_block + (fblk - e->file_block);
	*unwritten = ext_unwritten(e);
	*run = ext_end(e) - fblk;
	return true;
}

static void open_slot(struct dl_extmap *m, size_t i)
{
	memmove(&m->ext[i + 1], &m->ext[i], (m->n - i) * sizeof(m->ext[0]));
	m->n++;
}

static void close_slots(struct dl_extmap *m, size_t i, size_t count)
{
	if (count == 0)
		return;		/* also: an empty map may have no array */
	memmove(&m->ext[i], &m->ext[i + count],
		(m->n - i - count) * sizeof(m->ext[0]));
	m->n -= count;
}

void dl_extmap_split(struct dl_extmap *m, uint64_t fblk)
{
	size_t i = dl_extmap_find(m, fblk);
	struct dl_extent_rec *e;
	uint64_t head;

	if (i == m->n || m->ext[i].file_block >= fblk)
		return;		/* hole, or already an extent boundary */
	open_slot(m, i);
	e = &m->ext[i];
	head = fblk - e->file_block;
	m->ext[i + 1] = *e;
	m->ext[i + 1].file_block = fblk;
	m->ext[i + 1].phys_block += head;
	m->ext[i + 1].nblocks -= (uint32_t)head;
	e->nblocks = (uint32_t)head;
}

/* Merge ext[i] with ext[i+1] where they continue each other. */
static void merge_at(struct dl_extmap *m, size_t i)
{
	if (i + 1 >= m->n || !ext_continues(&m->ext[i], &m->ext[i + 1]))
		return;
	m->ext[i].nblocks += m->ext[i + 1].nblocks;
	close_slots(m, i + 1, 1);
}

void dl_extmap_insert(struct dl_extmap *m, uint64_t fblk, uint64_t phys,
		      uint64_t len, bool unwritten)
{
	size_t i = dl_extmap_find(m, fblk);

	while (len) {
		/* on-media extents are at most 2^32-1 blocks long */
		uint32_t piece = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;

		open_slot(m, i);
		m->ext[i] = (struct dl_extent_rec){
			.file_block = fblk,
			.phys_block = phys,
			.nblocks = piece,
			.flags = unwritten ? DL_EXTENT_F_UNWRITTEN : 0,
		};
		merge_at(m, i);
		if (i > 0 && ext_continues(&m->ext[i - 1], &m->ext[i])) {
			merge_at(m, i - 1);
			i--;
		}
		fblk += piece;
		phys += piece;
		len -= piece;
		i++;
		if (i > m->n)
			i = m->n;
	}
}

void dl_extmap_remove(struct dl_extmap *m, uint64_t start, uint64_t len,
		      struct dl_prun_list *out)
{
	uint64_t end = start + len;
	size_t i, first;

	dl_extmap_split(m, start);
	/* split at end without a spare slot when the range ends inside the
	 * extent that start split: handled by trimming below instead */
	first = i = dl_extmap_find(m, start);
	while (i < m->n && m->ext[i].file_block < end) {
		struct dl_extent_rec *e = &m->ext[i];

		if (ext_end(e) > end) {
			/* tail survives: trim the head in place */
			uint64_t cut = end - e->file_block;

			out->v[out->n++] = (struct dl_prun){ e->phys_block, cut };
			e->file_block += cut;
			e->phys_block += cut;
			e->nblocks -= (uint32_t)cut;
			break;
		}
		out->v[out->n++] = (struct dl_prun){ e->phys_block, e->nblocks };
		i++;
	}
	close_slots(m, first, i - first);
}

void dl_extmap_set_state(struct dl_extmap *m, uint64_t start, uint64_t len,
			 bool unwritten)
{
	uint64_t end = start + len;
	uint32_t flags = unwritten ? DL_EXTENT_F_UNWRITTEN : 0;
	size_t i, first, last;

	dl_extmap_split(m, start);
	dl_extmap_split(m, end);
	first = dl_extmap_find(m, start);
	for (i = first; i < m->n && m->ext[i].file_block < end; i++)
		m->ext[i].flags = flags;
	last = i;
	/* merge from the right so indices below stay valid */
	for (i = last; i-- > (first ? first - 1 : 0);)
		merge_at(m, i);
}

void dl_extmap_shift(struct dl_extmap *m, uint64_t fblk, int64_t delta)
{
	for (size_t i = dl_extmap_find(m, fblk); i < m->n; i++)
		m->ext[i].file_block += (uint64_t)delta;
}

void dl_extmap_normalize(struct dl_extmap *m)
{
	for (size_t i = m->n; i-- > 0;)
		merge_at(m, i);
}

int dl_prun_reserve(struct dl_prun_list *l, size_t extra)
{
	return dl_array_reserve(&l->v, &l->cap, l->n + extra, sizeof(l->v[0]));
}

void dl_prun_free(struct dl_prun_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

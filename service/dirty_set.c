// SPDX-License-Identifier: BSD-3-Clause
/*
 * dirty_set.c - the set of dirty records (dirty.h): sorted, merged,
 * bounded.  Every operation is O(log n) plus the records a merge
 * swallows; nothing walks the whole set.
 *
 * The records of one file never overlap or touch, so the record that
 * could absorb a new range is its floor by (ino, offset) or its ceiling,
 * and a merge only ever swallows records after the one it widens.  A
 * merge changes a record's offset only to a value between its old
 * offset and the previous record's end, so its place in the range tree
 * stays right without moving it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "dirty.h"

#define range_node(n) \
	((struct dl_dirty *)((char *)(n) - offsetof(struct dl_dirty, by_range)))
#define age_node(n) \
	((struct dl_dirty *)((char *)(n) - offsetof(struct dl_dirty, by_age)))

struct range_key {
	uint32_t ino;
	uint64_t offset;
};

static int cmp_range(const struct dl_tree_node *n, const void *key)
{
	const struct dl_dirty *d = range_node(n);
	const struct range_key *k = key;

	if (d->ino != k->ino)
		return d->ino < k->ino ? -1 : 1;
	return d->offset < k->offset ? -1 : d->offset > k->offset;
}

static int cmp_age(const struct dl_tree_node *n, const void *key)
{
	uint64_t id = age_node(n)->id, k = *(const uint64_t *)key;

	return id < k ? -1 : id > k;
}

static uint64_t end_of(const struct dl_dirty *d)
{
	return d->offset + d->length;
}

void dl_dirty_set_init(struct dl_dirty_set *s, uint64_t max)
{
	*s = (struct dl_dirty_set){ .max = max ? max : 1 };
}

/* ino's record at or before offset, or NULL. */
static struct dl_dirty *floor_of(const struct dl_dirty_set *s, uint32_t ino,
				 uint64_t offset)
{
	struct range_key k = { ino, offset };
	struct dl_tree_node *n = dl_tree_floor(s->by_range, &k, cmp_range);

	return n && range_node(n)->ino == ino ? range_node(n) : NULL;
}

/* ino's first record at or after offset, or NULL. */
static struct dl_dirty *ceil_of(const struct dl_dirty_set *s, uint32_t ino,
				uint64_t offset)
{
	struct range_key k = { ino, offset };
	struct dl_tree_node *n = dl_tree_ceil(s->by_range, &k, cmp_range);

	return n && range_node(n)->ino == ino ? range_node(n) : NULL;
}

/* The record that overlaps or touches [offset, end), or NULL. */
static struct dl_dirty *touching(const struct dl_dirty_set *s, uint32_t ino,
				 uint64_t offset, uint64_t end)
{
	struct dl_dirty *d = floor_of(s, ino, offset);

	if (d && end_of(d) >= offset)
		return d;
	d = ceil_of(s, ino, offset);
	return d && d->offset <= end ? d : NULL;
}

/* ino's record with the smallest gap to [offset, end), or NULL. */
static struct dl_dirty *nearest(const struct dl_dirty_set *s, uint32_t ino,
				uint64_t offset, uint64_t end)
{
	struct dl_dirty *before = floor_of(s, ino, offset);
	struct dl_dirty *after = ceil_of(s, ino, offset);

	if (!before || !after)
		return before ? before : after;
	return offset - end_of(before) <= after->offset - end ? before : after;
}

static void age_move(struct dl_dirty_set *s, struct dl_dirty *d, uint64_t id,
		     int64_t since_ns)
{
	dl_tree_remove(&s->by_age, &d->id, cmp_age);
	d->id = id;
	d->since_ns = since_ns;
	dl_tree_insert(&s->by_age, &d->by_age, &d->id, cmp_age);
}

/* Unlink d from both trees (not freed). */
static void unlink_record(struct dl_dirty_set *s, struct dl_dirty *d)
{
	struct range_key k = { d->ino, d->offset };

	dl_tree_remove(&s->by_range, &k, cmp_range);
	dl_tree_remove(&s->by_age, &d->id, cmp_age);
	s->count--;
}

/* d grows to cover [offset, end) too, and swallows the records of its
 * file that it reaches then, keeping the oldest one's age. */
static void widen(struct dl_dirty_set *s, struct dl_dirty *d, uint64_t offset,
		  uint64_t end)
{
	uint64_t new_end = end > end_of(d) ? end : end_of(d);
	struct dl_dirty *next;

	if (offset < d->offset)
		d->offset = offset;
	while ((next = dl_dirty_set_next_of(s, d)) && next->offset <= new_end) {
		if (end_of(next) > new_end)
			new_end = end_of(next);
		unlink_record(s, next);
		if (next->id < d->id)
			age_move(s, d, next->id, next->since_ns);
		free(next);
	}
	d->length = new_end - d->offset;
}

static int new_record(struct dl_dirty_set *s, uint32_t ino, uint64_t offset,
		      uint64_t end, int64_t now_ns)
{
	struct dl_dirty *d;
	struct range_key k = { ino, offset };

	if (s->count >= s->max)
		return -ENOSPC;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->id = ++s->next_id;
	d->ino = ino;
	d->offset = offset;
	d->length = end - offset;
	d->since_ns = now_ns;
	dl_tree_insert(&s->by_range, &d->by_range, &k, cmp_range);
	dl_tree_insert(&s->by_age, &d->by_age, &d->id, cmp_age);
	s->count++;
	return 0;
}

int dl_dirty_set_add(struct dl_dirty_set *s, uint32_t ino, uint64_t offset,
		     uint64_t length, int64_t now_ns)
{
	uint64_t end = length > UINT64_MAX - offset ? UINT64_MAX :
		       offset + length;
	struct dl_dirty *d;
	int rc;

	if (!length)
		return 0;
	d = touching(s, ino, offset, end);
	if (!d) {
		rc = new_record(s, ino, offset, end, now_ns);
		if (rc != -ENOSPC && rc != -ENOMEM)
			return rc;
		/* over-approximate: the gap to the neighbour is dirty too */
		d = nearest(s, ino, offset, end);
		if (!d)
			return rc;
		s->merged_at_limit++;
	}
	widen(s, d, offset, end);
	return 0;
}

struct dl_dirty *dl_dirty_set_oldest(const struct dl_dirty_set *s)
{
	struct dl_tree_node *n = dl_tree_first(s->by_age);

	return n ? age_node(n) : NULL;
}

struct dl_dirty *dl_dirty_set_after(const struct dl_dirty_set *s,
				    uint64_t id)
{
	struct dl_tree_node *n = dl_tree_above(s->by_age, &id, cmp_age);

	return n ? age_node(n) : NULL;
}

struct dl_dirty *dl_dirty_set_first_of(const struct dl_dirty_set *s,
				       uint32_t ino)
{
	return ceil_of(s, ino, 0);
}

struct dl_dirty *dl_dirty_set_next_of(const struct dl_dirty_set *s,
				      const struct dl_dirty *d)
{
	struct range_key k = { d->ino, d->offset };
	struct dl_tree_node *n = dl_tree_above(s->by_range, &k, cmp_range);

	return n && range_node(n)->ino == d->ino ? range_node(n) : NULL;
}

/* Moving the start up inside d keeps d's place in the range tree. */
void dl_dirty_set_trim(struct dl_dirty *d, uint64_t offset)
{
	if (offset <= d->offset || offset >= end_of(d))
		return;
	d->length = end_of(d) - offset;
	d->offset = offset;
}

void dl_dirty_set_remove(struct dl_dirty_set *s, struct dl_dirty *d)
{
	unlink_record(s, d);
	free(d);
}

void dl_dirty_set_forget(struct dl_dirty_set *s, uint32_t ino)
{
	struct dl_dirty *d;

	while ((d = dl_dirty_set_first_of(s, ino)))
		dl_dirty_set_remove(s, d);
}

static void free_subtree(struct dl_tree_node *n)
{
	if (!n)
		return;
	free_subtree(n->left);
	free_subtree(n->right);
	free(range_node(n));
}

void dl_dirty_set_clear(struct dl_dirty_set *s)
{
	free_subtree(s->by_range);
	s->by_range = s->by_age = NULL;
	s->count = 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dirty.h - dirty records: the file ranges that clients may have stored
 * into behind the service's back (through a write pin's "DMA" or a
 * writable mapping) and that the service has not made durable yet.
 *
 * The set (dirty_set.c) is a pure data structure: per file, sorted,
 * disjoint ranges that never touch - a range that overlaps or is
 * adjacent to a record merges into it - kept in two AVL trees, one by
 * (inode, offset) to find the neighbours of a range, one by record id
 * (the order records were first dirtied) for paging and for writing the
 * oldest back first.  Its size never passes its limit: at the limit a
 * range merges with the nearest record of its file, which makes the
 * record cover the gap between them too - more is written back, nothing
 * is missed.  A range of a file with no record yet cannot merge: the
 * caller makes room (the service writes the oldest record back).
 *
 * What the service does with the records (writing them back, the timer,
 * FSYNC) is dirty.c; its entry points are in server.h.
 */
#ifndef DAXLEASED_DIRTY_H
#define DAXLEASED_DIRTY_H

#include <stdint.h>

#include "loop.h"
#include "tree.h"

/* One record: [offset, offset+length) of inode ino. */
struct dl_dirty {
	struct dl_tree_node by_range;	/* key (ino, offset) */
	struct dl_tree_node by_age;	/* key id */
	uint64_t id;			/* ids grow with the time of first
					 * dirtying: the oldest is the lowest */
	uint32_t ino;
	uint64_t offset, length;
	int64_t since_ns;		/* when its oldest range was recorded */
};

struct dl_dirty_set {
	struct dl_tree_node *by_range;
	struct dl_tree_node *by_age;
	uint64_t count;
	uint64_t max;			/* count never goes past it */
	uint64_t next_id;
	uint64_t merged_at_limit;	/* ranges merged with a neighbour */
};

void dl_dirty_set_init(struct dl_dirty_set *s, uint64_t max);
/*
 * Record [offset, offset+length) of ino, dirtied at now_ns: merged into
 * the records it overlaps or touches, else a new record, else (at the
 * limit, or out of memory) merged with the nearest record of ino.
 * 0, or -ENOSPC (at the limit) / -ENOMEM when ino has no record to merge
 * with: nothing was recorded.
 */
int dl_dirty_set_add(struct dl_dirty_set *s, uint32_t ino, uint64_t offset,
		     uint64_t length, int64_t now_ns);
/* The record first dirtied, or NULL. */
struct dl_dirty *dl_dirty_set_oldest(const struct dl_dirty_set *s);
/* The record with the smallest id above id, or NULL: paging in id order. */
struct dl_dirty *dl_dirty_set_after(const struct dl_dirty_set *s,
				    uint64_t id);
/* ino's records in offset order: the first, and the one after d. */
struct dl_dirty *dl_dirty_set_first_of(const struct dl_dirty_set *s,
				       uint32_t ino);
struct dl_dirty *dl_dirty_set_next_of(const struct dl_dirty_set *s,
				      const struct dl_dirty *d);
/* d's bytes before offset (inside d) are clean now: d starts there. */
void dl_dirty_set_trim(struct dl_dirty *d, uint64_t offset);
/* Unlink and free d. */
void dl_dirty_set_remove(struct dl_dirty_set *s, struct dl_dirty *d);
/* Every record of ino goes (the file is gone). */
void dl_dirty_set_forget(struct dl_dirty_set *s, uint32_t ino);
void dl_dirty_set_clear(struct dl_dirty_set *s);

/* The service's records and their background writeback (dirty.c). */
struct dl_dirty_records {
	struct dl_dirty_set set;
	struct dl_source timer;		/* writeback of expired records */
	int64_t timer_at;		/* when it fires; 0: disarmed */
	int64_t limit_logged_ns;	/* the last "at the limit" warning */
};

#endif

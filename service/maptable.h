/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * maptable.h - the service side of a client's mapping table
 * (include/daxlease/table.h is the layout the client reads).
 *
 * A sealed memfd: the service keeps its own writable mapping (made before
 * sealing), the client can only map it read-only.  Entries are handed out
 * as contiguous runs, first fit.
 *
 * Next to it, the counter region: a second memfd, writable by both, where
 * the client counts its lockless pins, one counter per entry.  It is
 * sealed against shrinking, so a client cannot make the service fault on
 * it; everything the service reads there is untrusted.
 */
#ifndef DAXLEASED_MAPTABLE_H
#define DAXLEASED_MAPTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <daxlease/table.h>

#include "error.h"

struct dl_maptable {
	int fd;				/* the memfd sent to the client */
	void *base;
	size_t map_len;
	struct dl_table_hdr *hdr;
	struct dl_table_entry *ent;
	uint64_t cap;
	uint8_t *used;			/* one byte per entry */
	/*
	 * Per entry, the last time (CLOCK_MONOTONIC ns) the service knew
	 * its counter to be 0: when the entry was handed out, and each
	 * time the BUSY view read it as 0 (handle_busy.c).  A lockless pin
	 * went from 0 to 1 at some time after it - the service never sees
	 * the increment itself - so now minus this is its age at most.
	 * 0 in an imported table: unknown before the restart.
	 */
	int64_t *quiet_ns;
	uint64_t hint;			/* where the next search starts */
	int cnt_fd;			/* the counter memfd */
	size_t cnt_len;
	struct dl_counters_hdr *chdr;
	struct dl_pin_counter *cnt;	/* cap of them */
	/*
	 * Imported from a client after a restart (reattach.c): the table
	 * of a daemon that died, which no one can write any more (it is
	 * sealed against new writable mappings).  Its entries stay as they
	 * were - the client has stopped pinning through them - and only
	 * its counters, which still hold blocks, are read.
	 */
	bool imported;
};

/* The most entries a table has (daxleased --table-entries): a lost table
 * handed back that claims more was not made by a daxleased. */
#define DL_TABLE_ENTRIES_MAX (1ULL << 24)

/* A counter value no correct client reaches: reported as corrupt. */
#define DL_REFS_SANE (1LL << 32)

int dl_maptable_new(uint64_t cap, struct dl_maptable **out,
		    struct dl_err *err);
/* A lost table and its counter region, as a client hands them back:
 * checked (seals, sizes, headers), mapped read-only and read-write.
 * Takes both fds, whatever happens. */
int dl_maptable_import(int table_fd, int cnt_fd, struct dl_maptable **out,
		       struct dl_err *err);
void dl_maptable_free(struct dl_maptable *t);

/* First index of n free consecutive entries, now reserved; or -ENOSPC. */
int64_t dl_maptable_alloc(struct dl_maptable *t, uint64_t n);
/* Point entry idx at a leaf: file_offset and map_id first, the pte word
 * last with one 64-bit release store. */
void dl_maptable_set(struct dl_maptable *t, uint64_t idx, uint64_t file_offset,
		     uint64_t map_id, uint64_t ns_offset,
		     enum dl_leaf_level level, bool write);
/* Clear VALID and bump the generation (one release store); an imported
 * table cannot be written, so this and the other writers skip it. */
void dl_maptable_invalidate(struct dl_maptable *t, uint64_t idx);
/* Invalidate and free n entries from first. */
void dl_maptable_release(struct dl_maptable *t, uint64_t first, uint64_t n);
/* Valid again, as it was before an invalidate (a new generation): for a
 * change that was called off. */
void dl_maptable_revalidate(struct dl_maptable *t, uint64_t idx,
			    uint64_t old_pte);

/* The client's lockless pins of entry idx, as it wrote them (untrusted). */
static inline int64_t dl_maptable_refs(const struct dl_maptable *t,
				       uint64_t idx)
{
	return __atomic_load_n(&t->cnt[idx].refs, __ATOMIC_RELAXED);
}

static inline bool dl_refs_corrupt(int64_t refs)
{
	return refs < 0 || refs > DL_REFS_SANE;
}

/*
 * Ask the client to write its wake eventfd when an unpin takes a counter
 * to zero (on), or stop asking (off).  The caller fences between setting
 * it and scanning the counters (table.h: the Dekker pairing with unpin).
 */
static inline void dl_maptable_want_wakeups(struct dl_maptable *t, bool on)
{
	__atomic_store_n(&t->chdr->waiting, on ? 1 : 0, __ATOMIC_SEQ_CST);
}

#endif

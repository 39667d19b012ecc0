/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * extmap.h - a file's extent map in DRAM: a sorted array of extents
 * (file block -> namespace block, length, written/unwritten).
 *
 * Pure data structure, no I/O: the layout operations of fs_layout.c are
 * compositions of these primitives, and tests/unit/test_extmap.c checks
 * them against a per-block model.  Every mutator needs spare capacity
 * reserved beforehand (dl_extmap_reserve), so that once a filesystem
 * operation starts changing things nothing can fail half-way.
 *
 * Adjacent extents that continue each other in file and namespace space
 * with the same state are always merged, so the array is canonical.
 */
#ifndef DAXLEASE_PMEM_EXTMAP_H
#define DAXLEASE_PMEM_EXTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"

struct dl_extmap {
	struct dl_extent_rec *ext;
	size_t n;
	size_t cap;
};

/* A run of namespace blocks taken out of a map. */
struct dl_prun {
	uint64_t phys;
	uint64_t len;
};

struct dl_prun_list {
	struct dl_prun *v;
	size_t n;
	size_t cap;
};

void dl_extmap_init(struct dl_extmap *m);
void dl_extmap_free(struct dl_extmap *m);
/* Make room for n extents in total: 0 or -ENOMEM. */
int dl_extmap_reserve(struct dl_extmap *m, size_t n);

/* Index of the first extent that ends after fblk (n if none). */
size_t dl_extmap_find(const struct dl_extmap *m, uint64_t fblk);
/* Number of extents overlapping [start, start+len). */
size_t dl_extmap_count_range(const struct dl_extmap *m, uint64_t start,
			     uint64_t len);
/* Mapped blocks (written or not) in [start, start+len). */
uint64_t dl_extmap_mapped_in(const struct dl_extmap *m, uint64_t start,
			     uint64_t len);
/* Unwritten blocks in [start, start+len). */
uint64_t dl_extmap_count_unwritten(const struct dl_extmap *m, uint64_t start,
				   uint64_t len);
/* Total mapped blocks. */
uint64_t dl_extmap_total(const struct dl_extmap *m);
/* One past the last mapped file block (0 if empty). */
uint64_t dl_extmap_end(const struct dl_extmap *m);

/*
 * Look up fblk: returns true and fills phys, unwritten and run (blocks
 * left in this extent from fblk) when mapped; false and *run = blocks
 * until the next extent (UINT64_MAX if none) when it is a hole.
 */
bool dl_extmap_lookup(const struct dl_extmap *m, uint64_t fblk,
		      uint64_t *phys, bool *unwritten, uint64_t *run);

/* Split extents so that fblk starts an extent (needs 1 spare slot). */
void dl_extmap_split(struct dl_extmap *m, uint64_t fblk);

/*
 * Map [fblk, fblk+len) -> [phys, phys+len); the file range must be a hole
 * (needs 1 spare slot; merges with neighbours).
 */
void dl_extmap_insert(struct dl_extmap *m, uint64_t fblk, uint64_t phys,
		      uint64_t len, bool unwritten);

/*
 * Unmap [start, start+len), appending the namespace runs removed to out
 * (out must have room for count_range() more entries; needs 1 spare slot
 * in m for a split in the middle of one extent).
 */
void dl_extmap_remove(struct dl_extmap *m, uint64_t start, uint64_t len,
		      struct dl_prun_list *out);

/* Set the state of the mapped blocks in [start, start+len) (needs 2
 * spare slots). */
void dl_extmap_set_state(struct dl_extmap *m, uint64_t start, uint64_t len,
			 bool unwritten);

/* Add delta (may be negative) to the file block of every extent at or
 * after fblk; the caller guarantees no overlap results (collapse removes
 * the range first; insert splits at fblk first). */
void dl_extmap_shift(struct dl_extmap *m, uint64_t fblk, int64_t delta);

/* Merge neighbours everywhere (after shift). */
void dl_extmap_normalize(struct dl_extmap *m);

int dl_prun_reserve(struct dl_prun_list *l, size_t extra);
void dl_prun_free(struct dl_prun_list *l);

#endif

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * alloc.h - the in-DRAM block allocator of the DAX filesystem.
 *
 * The persistent truth is the on-media bitmap (format.h: one bit per 4 KiB
 * block, 1 = in use); the filesystem journals every bit change itself.  A
 * struct dl_alloc is the DRAM mirror of that bitmap plus the placement
 * policy: large allocations get 1 GiB- and 2 MiB-aligned runs, so that a
 * file can later be mapped with PUD and PMD entries, and small ones fill
 * 2 MiB chunks that are already in use instead of breaking free ones.
 *
 * Bitmap convention (dl_alloc_bitmap(), dl_alloc_load_bitmap()): bit b of
 * word b / 64 is block b.  Blocks below first_data always read as used;
 * the bits of the last word past nblocks always read as 0 (ignored on
 * load).
 *
 * All block numbers and lengths are in 4 KiB blocks.  int functions return
 * 0 or a negative errno and print nothing.  Not thread-safe: the service
 * core is one thread.
 */
#ifndef DAXLEASE_PMEM_ALLOC_H
#define DAXLEASE_PMEM_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest namespace the allocator accepts: 2^48 blocks (1 EiB). */
#define DL_ALLOC_MAX_BLOCKS (1ULL << 48)

struct dl_alloc;

struct dl_run {
	uint64_t start;		/* first block */
	uint64_t len;		/* blocks */
};

/*
 * Blocks [0, first_data) are never handed out (metadata areas);
 * [first_data, nblocks) start free.  first_data == nblocks is allowed (a
 * namespace with no data blocks).  -EINVAL for nblocks 0 or above
 * DL_ALLOC_MAX_BLOCKS, or first_data > nblocks; -ENOMEM.
 */
int dl_alloc_new(uint64_t nblocks, uint64_t first_data, struct dl_alloc **out);
/* Free *a (NULL is fine) and set it to NULL. */
void dl_alloc_delete(struct dl_alloc **a);

/*
 * Replace the whole state with an on-media bitmap of
 * dl_alloc_bitmap_words() words (bit b of word b/64 = block b in use).
 * Blocks below first_data are treated as used regardless, bits past
 * nblocks are ignored.  The search cursor goes back to first_data.
 */
void dl_alloc_load_bitmap(struct dl_alloc *a, const uint64_t *bitmap);

/*
 * Mark a run used / free without policy (loading, journal undo, release).
 * -EINVAL, with nothing changed, if len is 0, if any block of the run is
 * outside [first_data, nblocks), or if any block is already in the target
 * state: that is how callers detect a double free or a double use.
 */
int dl_alloc_mark_used(struct dl_alloc *a, uint64_t start, uint64_t len);
int dl_alloc_put(struct dl_alloc *a, uint64_t start, uint64_t len);

/*
 * Allocate exactly `want` blocks as at most max_runs runs and mark them
 * used.  goal is a block number hint (0 = none: continue where the last
 * allocation ended): the search starts there and wraps, so passing the
 * block after a file's last extent keeps the file contiguous.
 *
 * On success *nruns runs (adjacent pieces merged, in placement order,
 * never more than max_runs) are in runs[0 .. *nruns).  All-or-nothing:
 * -ENOSPC, with the allocator unchanged, if fewer than `want` blocks are
 * free or they cannot be had in max_runs runs; then *nruns is 0 and the
 * contents of runs[] are undefined (it is used as scratch space).
 * -EINVAL for want 0, max_runs 0 or NULL pointers.
 */
int dl_alloc_get(struct dl_alloc *a, uint64_t want, uint64_t goal,
		 struct dl_run *runs, size_t max_runs, size_t *nruns);

uint64_t dl_alloc_free_blocks(const struct dl_alloc *a);
/* Blocks outside [first_data, nblocks) read as used. */
bool dl_alloc_is_used(const struct dl_alloc *a, uint64_t block);

/* The DRAM bitmap, dl_alloc_bitmap_words() words, for the checker and
 * tests (convention above).  Valid until the next call that changes a. */
const uint64_t *dl_alloc_bitmap(const struct dl_alloc *a);
size_t dl_alloc_bitmap_words(const struct dl_alloc *a);
uint64_t dl_alloc_nblocks(const struct dl_alloc *a);
uint64_t dl_alloc_first_data(const struct dl_alloc *a);

/*
 * Free-space shape, for statistics and tests: the number of fully-free,
 * aligned 2 MiB chunks and 1 GiB chunks (a chunk cut by first_data or by
 * the end of the namespace never counts), and the longest run of free
 * blocks.  Any pointer may be NULL.  largest_free_run scans the bitmap
 * (skipping full and empty chunks), so it is not for a hot path.
 */
void dl_alloc_shape(const struct dl_alloc *a, uint64_t *free_pmd_chunks,
		    uint64_t *free_pud_chunks, uint64_t *largest_free_run);

/*
 * Recount everything from the bitmap and compare with the summaries the
 * allocator keeps.  0 if consistent, -EUCLEAN if not (a bug).  O(namespace):
 * for tests and the checker.
 */
int dl_alloc_verify(const struct dl_alloc *a);

#endif

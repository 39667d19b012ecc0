/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fs_xcheck.c - the block-ownership cross-check, shared by the checker
 * (fs_check.c, check-namespace) and every open (fs_open_check.c).
 *
 * The rule: every block has at most one owner - the metadata areas, one
 * file's data, one file's extent-map chain, or the detached table - and
 * the bitmap marks a block in use exactly when it has one.  Owners claim
 * their blocks in a DRAM bitmap of claims; claiming a block that is
 * claimed already is a double use.  Then the claims are compared with the
 * bitmap on media.  Both passes work on 64-bit words, so a terabyte of
 * namespace (2^28 blocks) costs a few million word operations, not a
 * quarter of a billion bit tests.
 *
 * Problems go into a struct dl_check_report: check-namespace prints them,
 * and open refuses with the same sentence.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_private.h"

void dl_check_problem(struct dl_check_report *rep, const char *kind,
		      const char *fmt, ...)
{
	struct dl_check_problem *p;
	va_list ap;

	if (rep->nproblems++ >= DL_CHECK_MAX_PROBLEMS)
		return;
	p = &rep->problems[rep->nproblems - 1];
	snprintf(p->kind, sizeof(p->kind), "%s", kind);
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
}

static uint64_t words_of(uint64_t nblocks)
{
	return (nblocks + 63) / 64;
}

int dl_xcheck_init(struct dl_xcheck *x, uint64_t nblocks,
		   struct dl_check_report *rep)
{
	x->rep = rep;
	x->nblocks = nblocks;
	x->claimed = calloc(words_of(nblocks), sizeof(*x->claimed));
	return x->claimed ? 0 : -ENOMEM;
}

void dl_xcheck_fini(struct dl_xcheck *x)
{
	free(x->claimed);
	x->claimed = NULL;
}

/* The bits of word w that fall inside [start, end). */
static uint64_t word_mask(uint64_t w, uint64_t start, uint64_t end)
{
	uint64_t lo = w * 64, mask = ~0ULL;

	if (start > lo)
		mask &= ~0ULL << (start - lo);
	if (end < lo + 64)
		mask &= ~0ULL >> (lo + 64 - end);
	return mask;
}

struct bit_tally {
	uint64_t count, first;
};

static void tally(struct bit_tally *t, uint64_t w, uint64_t bits)
{
	if (!bits)
		return;
	if (!t->count)
		t->first = w * 64 + (uint64_t)__builtin_ctzll(bits);
	t->count += (uint64_t)__builtin_popcountll(bits);
}

/* Claim a run; false if it lies outside the namespace (then nothing is
 * claimed: owners were range-checked when decoded, so that is a bug). */
static bool claim_run(struct dl_xcheck *x, uint64_t start, uint64_t n,
		      struct bit_tally *dups)
{
	uint64_t end = start + n;

	*dups = (struct bit_tally){ 0, 0 };
	if (!dl_run_inside(start, n, 0, x->nblocks))
		return false;
	for (uint64_t w = start / 64; w <= (end - 1) / 64; w++) {
		uint64_t mask = word_mask(w, start, end);

		tally(dups, w, x->claimed[w] & mask);
		x->claimed[w] |= mask;
	}
	return true;
}

static void report_claim(struct dl_xcheck *x, uint64_t start, uint64_t n,
			 bool inside, const struct bit_tally *dups,
			 const char *owner)
{
	if (!inside)
		dl_check_problem(x->rep, "block-out-of-range",
				 "%s claims blocks %llu+%llu, outside the "
				 "namespace", owner, (unsigned long long)start,
				 (unsigned long long)n);
	else if (dups->count)
		dl_check_problem(x->rep, "block-double-use",
				 "%llu block(s) from %llu claimed by %s are "
				 "already in use elsewhere",
				 (unsigned long long)dups->count,
				 (unsigned long long)dups->first, owner);
}

void dl_xcheck_claim(struct dl_xcheck *x, uint64_t start, uint64_t n,
		     const char *owner)
{
	struct bit_tally dups;
	bool inside = claim_run(x, start, n, &dups);

	report_claim(x, start, n, inside, &dups, owner);
}

/* Name a file only when a claim of it went wrong: open claims every file
 * of a namespace, and formatting a quarter of a million names costs more
 * than claiming their blocks. */
static void claim_file_run(struct dl_xcheck *x, uint64_t start, uint64_t n,
			   dl_ino_t ino, const struct dl_inode *in)
{
	struct bit_tally dups;
	bool inside = claim_run(x, start, n, &dups);
	char owner[300];

	if (inside && !dups.count)
		return;
	snprintf(owner, sizeof(owner), "file '%s' (inode %u)", in->name, ino);
	report_claim(x, start, n, inside, &dups, owner);
}

void dl_xcheck_claim_file(struct dl_xcheck *x, dl_ino_t ino,
			  const struct dl_inode *in)
{
	for (size_t i = 0; i < in->nchain; i++)
		claim_file_run(x, in->chain[i], 1, ino, in);
	for (size_t i = 0; i < in->map.n; i++)
		claim_file_run(x, in->map.ext[i].phys_block,
			       in->map.ext[i].nblocks, ino, in);
	x->rep->files++;
	x->rep->extents += in->map.n;
	x->rep->blocks_file += dl_extmap_total(&in->map);
	x->rep->blocks_extent_maps += in->nchain;
}

void dl_xcheck_claim_detached(struct dl_xcheck *x,
			      const struct dl_superblock *sb,
			      const struct dl_detached_rec *t)
{
	for (uint64_t i = 0; i < sb->ndetached; i++) {
		if (!t[i].phys_block)
			continue;
		if (t[i].tag == 0 ||
		    !dl_run_inside(t[i].phys_block, t[i].nblocks,
				   sb->data_start, sb->nblocks)) {
			dl_check_problem(x->rep, "detached-invalid",
					 "detached-table entry %llu is out of "
					 "range", (unsigned long long)i);
			continue;
		}
		dl_xcheck_claim(x, t[i].phys_block, t[i].nblocks,
				"the detached table");
		x->rep->blocks_detached += t[i].nblocks;
	}
}

void dl_xcheck_bitmap(struct dl_xcheck *x, const uint64_t *bitmap)
{
	struct bit_tally leaked = { 0 }, lost = { 0 };
	uint64_t nwords = words_of(x->nblocks);

	for (uint64_t w = 0; w < nwords; w++) {
		uint64_t mask = word_mask(w, 0, x->nblocks);
		uint64_t used = bitmap[w] & mask, owned = x->claimed[w];

		x->rep->blocks_free += (uint64_t)__builtin_popcountll(~used &
								      mask);
		tally(&leaked, w, used & ~owned);
		tally(&lost, w, owned & ~used);
	}
	if (leaked.count)
		dl_check_problem(x->rep, "block-leaked",
				 "%llu block(s) from %llu are marked in use "
				 "but no file or table owns them",
				 (unsigned long long)leaked.count,
				 (unsigned long long)leaked.first);
	if (lost.count)
		dl_check_problem(x->rep, "block-free-but-used",
				 "%llu block(s) from %llu are in use but "
				 "marked free", (unsigned long long)lost.count,
				 (unsigned long long)lost.first);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_alloc.c - the block allocator: placement policy, all-or-nothing
 * failures, and exact accounting against a reference bitmap.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "alloc.h"
#include "cunit_run.h"
#include "format.h"

#define PMD DL_PMD_BLOCKS
#define PUD DL_PUD_BLOCKS
#define MAX_RUNS 4096

static struct dl_run runs[MAX_RUNS];

/* ---- helpers ------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: reproducible, so a failure can be replayed */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* uniform in [lo, hi] */
static uint64_t rnd_in(uint64_t lo, uint64_t hi)
{
	return lo + rnd() % (hi - lo + 1);
}

static struct dl_alloc *make(uint64_t nblocks, uint64_t first_data)
{
	struct dl_alloc *a = NULL;

	CU_ASSERT_FATAL(dl_alloc_new(nblocks, first_data, &a) == 0);
	CU_ASSERT_FATAL(a != NULL);
	return a;
}

static uint64_t pmd_chunks(const struct dl_alloc *a)
{
	uint64_t n;

	dl_alloc_shape(a, &n, NULL, NULL);
	return n;
}

static uint64_t pud_chunks(const struct dl_alloc *a)
{
	uint64_t n;

	dl_alloc_shape(a, NULL, &n, NULL);
	return n;
}

/* A copy of the allocator's bitmap, to prove that nothing changed. */
static uint64_t *snapshot(const struct dl_alloc *a)
{
	size_t bytes = dl_alloc_bitmap_words(a) * sizeof(uint64_t);
	uint64_t *copy = malloc(bytes);

	CU_ASSERT_FATAL(copy != NULL);
	memcpy(copy, dl_alloc_bitmap(a), bytes);
	return copy;
}

static bool same_bitmap(const struct dl_alloc *a, const uint64_t *copy)
{
	return !memcmp(copy, dl_alloc_bitmap(a),
		       dl_alloc_bitmap_words(a) * sizeof(uint64_t));
}

static int cmp_run(const void *x, const void *y)
{
	const struct dl_run *rx = x, *ry = y;

	return (rx->start > ry->start) - (rx->start < ry->start);
}

/* The runs of a successful get: in the data area, used, disjoint, and
 * exactly `want` blocks. */
static void check_runs(const struct dl_alloc *a, const struct dl_run *r,
		       size_t n, uint64_t want, size_t max_runs)
{
	static struct dl_run sorted[MAX_RUNS];
	uint64_t sum = 0;
	size_t i;

	CU_ASSERT_FATAL(n >= 1 && n <= max_runs && n <= MAX_RUNS);
	memcpy(sorted, r, n * sizeof(*r));
	qsort(sorted, n, sizeof(*sorted), cmp_run);
	for (i = 0; i < n; i++) {
		CU_ASSERT(sorted[i].len > 0);
		CU_ASSERT(sorted[i].start >= dl_alloc_first_data(a));
		CU_ASSERT(sorted[i].start + sorted[i].len <=
			  dl_alloc_nblocks(a));
		CU_ASSERT(dl_alloc_is_used(a, sorted[i].start));
		CU_ASSERT(dl_alloc_is_used(a, sorted[i].start +
					   sorted[i].len - 1));
		if (i)
			CU_ASSERT(sorted[i - 1].start + sorted[i - 1].len <=
				  sorted[i].start);
		sum += sorted[i].len;
	}
	CU_ASSERT(sum == want);
}

/* get that must succeed; returns the number of runs */
static size_t get_ok(struct dl_alloc *a, uint64_t want, uint64_t goal,
		     size_t max_runs)
{
	uint64_t before = dl_alloc_free_blocks(a);
	size_t n = 0;

	CU_ASSERT_FATAL(dl_alloc_get(a, want, goal, runs, max_runs, &n) == 0);
	check_runs(a, runs, n, want, max_runs);
	CU_ASSERT(dl_alloc_free_blocks(a) == before - want);
	return n;
}

/* get that must fail with -ENOSPC and change nothing */
static void get_nospc(struct dl_alloc *a, uint64_t want, uint64_t goal,
		      size_t max_runs)
{
	uint64_t before = dl_alloc_free_blocks(a), pmds, puds, largest;
	uint64_t pmds2, puds2, largest2;
	uint64_t *copy = snapshot(a);
	size_t n = 99;

	dl_alloc_shape(a, &pmds, &puds, &largest);
	CU_ASSERT(dl_alloc_get(a, want, goal, runs, max_runs, &n) == -ENOSPC);
	CU_ASSERT(n == 0);
	CU_ASSERT(dl_alloc_free_blocks(a) == before);
	CU_ASSERT(same_bitmap(a, copy));
	dl_alloc_shape(a, &pmds2, &puds2, &largest2);
	CU_ASSERT(pmds == pmds2 && puds == puds2 && largest == largest2);
	CU_ASSERT(dl_alloc_verify(a) == 0);
	free(copy);
}

/* ---- arguments and shape ------------------------------------------------- */

static void test_args(void)
{
	struct dl_alloc *a = NULL;
	size_t n;

	CU_ASSERT(dl_alloc_new(0, 0, &a) == -EINVAL);
	CU_ASSERT(dl_alloc_new(100, 101, &a) == -EINVAL);
	CU_ASSERT(dl_alloc_new(DL_ALLOC_MAX_BLOCKS + 1, 0, &a) == -EINVAL);
	CU_ASSERT(dl_alloc_new(100, 0, NULL) == -EINVAL);
	CU_ASSERT(a == NULL);
	dl_alloc_delete(&a);
	dl_alloc_delete(NULL);

	a = make(4096, 64);
	CU_ASSERT(dl_alloc_get(a, 0, 0, runs, 1, &n) == -EINVAL);
	CU_ASSERT(dl_alloc_get(a, 1, 0, runs, 0, &n) == -EINVAL);
	CU_ASSERT(dl_alloc_get(a, 1, 0, NULL, 1, &n) == -EINVAL);
	CU_ASSERT(dl_alloc_get(a, 1, 0, runs, 1, NULL) == -EINVAL);
	CU_ASSERT(dl_alloc_free_blocks(a) == 4096 - 64);
	CU_ASSERT(dl_alloc_is_used(a, 63));
	CU_ASSERT(!dl_alloc_is_used(a, 64));
	CU_ASSERT(dl_alloc_is_used(a, 4096));
	dl_alloc_delete(&a);
	CU_ASSERT(a == NULL);

	/* a namespace that is all metadata has nothing to give */
	a = make(1000, 1000);
	CU_ASSERT(dl_alloc_free_blocks(a) == 0);
	get_nospc(a, 1, 0, 1);
	dl_alloc_delete(&a);
}

static void test_shape(void)
{
	struct dl_alloc *a = make(4 * PUD, 0);
	uint64_t pmds, puds, largest;

	dl_alloc_shape(a, &pmds, &puds, &largest);
	CU_ASSERT(pmds == 4 * PUD / PMD && puds == 4 && largest == 4 * PUD);
	dl_alloc_delete(&a);

	/* cut chunks at either end never count as whole */
	a = make(4 * PUD + 100, 100);
	dl_alloc_shape(a, &pmds, &puds, &largest);
	CU_ASSERT(pmds == 4 * PUD / PMD - 1);
	CU_ASSERT(puds == 3);
	CU_ASSERT(largest == 4 * PUD);
	CU_ASSERT(dl_alloc_verify(a) == 0);
	dl_alloc_delete(&a);

	a = make(4096 + 100, 0);
	dl_alloc_shape(a, &pmds, &puds, &largest);
	CU_ASSERT(pmds == 8 && puds == 0 && largest == 4196);
	dl_alloc_delete(&a);
}

/* ---- aligned preference -------------------------------------------------- */

static void test_pmd_aligned_fresh(void)
{
	struct dl_alloc *a = make(4096, 37);

	CU_ASSERT(get_ok(a, PMD, 0, 8) == 1);
	CU_ASSERT(runs[0].start % PMD == 0 && runs[0].len == PMD);
	CU_ASSERT(get_ok(a, PMD, 2000, 8) == 1);
	CU_ASSERT(runs[0].start % PMD == 0);
	dl_alloc_delete(&a);

	/* several chunks come as one aligned run */
	a = make(16384, 1000);
	CU_ASSERT(get_ok(a, 4 * PMD, 0, 8) == 1);
	CU_ASSERT(runs[0].start % PMD == 0 && runs[0].len == 4 * PMD);
	/* and a chunk plus a bit starts aligned and stays contiguous */
	CU_ASSERT(get_ok(a, PMD + 88, 0, 8) == 1);
	CU_ASSERT(runs[0].start % PMD == 0);
	CU_ASSERT(dl_alloc_verify(a) == 0);
	dl_alloc_delete(&a);
}

static void test_pud_aligned(void)
{
	struct dl_alloc *a = make(4 * PUD, 1000);

	CU_ASSERT(pud_chunks(a) == 3);
	CU_ASSERT(get_ok(a, PUD, 0, 4) == 1);
	CU_ASSERT(runs[0].start % PUD == 0 && runs[0].len == PUD);
	CU_ASSERT(pud_chunks(a) == 2);
	/* two more: the free neighbours merge into one run */
	CU_ASSERT(get_ok(a, 2 * PUD + 300, 0, 4) == 2);
	CU_ASSERT(runs[0].start % PUD == 0 && runs[0].len == 2 * PUD);
	CU_ASSERT(pud_chunks(a) == 0);
	CU_ASSERT(dl_alloc_verify(a) == 0);
	dl_alloc_delete(&a);

	/*
	 * 1.5 GiB: one whole PUD, and the other half from PMDs in the PUD
	 * the metadata already cuts, so that two PUDs stay whole.
	 */
	a = make(4 * PUD, 1000);
	CU_ASSERT(get_ok(a, PUD + PUD / 2, 0, 4) == 2);
	CU_ASSERT(runs[0].start % PUD == 0 && runs[0].len == PUD);
	CU_ASSERT(runs[1].start % PMD == 0 && runs[1].len == PUD / 2);
	CU_ASSERT(runs[1].start < PUD);
	CU_ASSERT(pud_chunks(a) == 2);
	dl_alloc_delete(&a);
}

static void test_pud_scattered(void)
{
	struct dl_alloc *a = make(4 * PUD, 0);

	/* PUDs 1 and 2 are cut: 0 and 3 are the only whole ones left */
	CU_ASSERT(dl_alloc_mark_used(a, PUD + 7, 1) == 0);
	CU_ASSERT(dl_alloc_mark_used(a, 2 * PUD + 7, 1) == 0);
	CU_ASSERT(get_ok(a, 2 * PUD, 3 * PUD + 5, 2) == 2);
	CU_ASSERT(runs[0].start == 3 * PUD && runs[0].len == PUD);
	CU_ASSERT(runs[1].start == 0 && runs[1].len == PUD);
	CU_ASSERT(dl_alloc_verify(a) == 0);
	dl_alloc_delete(&a);
}

static void test_pud_request_without_free_pud(void)
{
	struct dl_alloc *a = make(4 * PUD, 1000);
	int k;

	/* cut every PUD at its last block: none is whole any more */
	for (k = 1; k < 4; k++)
		CU_ASSERT(dl_alloc_mark_used(a, k * PUD + PUD - 1, 1) == 0);
	CU_ASSERT(pud_chunks(a) == 0);
	/* 1 GiB of whole PMDs, running from PUD 0 into PUD 1 */
	CU_ASSERT(get_ok(a, PUD, 0, 8) == 1);
	CU_ASSERT(runs[0].start == 2 * PMD && runs[0].len == PUD);
	CU_ASSERT(dl_alloc_verify(a) == 0);
	dl_alloc_delete(&a);
}

static void test_pmds_too_scattered(void)
{
	struct dl_alloc *a = make(3 * PUD, 0);

	/* PUD 0 whole; in PUD 1 only PMDs 0 and 5 are free; PUD 2 full */
	CU_ASSERT(dl_alloc_mark_used(a, PUD + PMD, 4 * PMD) == 0);
	CU_ASSERT(dl_alloc_mark_used(a, PUD + 6 * PMD, PUD - 6 * PMD) == 0);
	CU_ASSERT(dl_alloc_mark_used(a, 2 * PUD, PUD) == 0);
	/* PUD 0 + PMD 0 of PUD 1 merge; PMD 5 would be a second run */
	get_nospc(a, PUD + 2 * PMD, 0, 1);
	CU_ASSERT(get_ok(a, PUD + 2 * PMD, 0, 2) == 2);
	CU_ASSERT(runs[0].start == 0 && runs[0].len == PUD + PMD);
	CU_ASSERT(runs[1].start == PUD + 5 * PMD && runs[1].len == PMD);
	CU_ASSERT(dl_alloc_free_blocks(a) == 0);
	dl_alloc_delete(&a);
}

static void test_pmd_after_scatter(void)
{
	struct dl_alloc *a = make(16384, 64);
	struct dl_run held[400];
	size_t i, nheld = 0;

	for (i = 0; i < 400; i++) {
		get_ok(a, rnd_in(1, 40), rnd_in(0, 16383), 1);
		held[nheld++] = runs[0];
	}
	/* punch holes all over */
	for (i = 0; i < nheld; i += 3)
		CU_ASSERT(dl_alloc_put(a, held[i].start, held[i].len) == 0);
	CU_ASSERT_FATAL(pmd_chunks(a) > 0);
	CU_ASSERT(get_ok(a, PMD, rnd_in(0, 16383), 1) == 1);
	CU_ASSERT(runs[0].start % PMD == 0);
	CU_ASSERT(dl_alloc_verify(a) == 0);
	dl_alloc_delete(&a);
}

static void test_small_fills_partial(void)
{
	struct dl_alloc *a = make(16384, 100);	/* PMD 0: 412 free */
	uint64_t pmds = pmd_chunks(a);
	int i;

	/* even with a goal in a free chunk, the cut chunk is used first */
	for (i = 0; i < 4; i++) {
		CU_ASSERT(get_ok(a, 100, 5000, 1) == 1);
		CU_ASSERT(runs[0].start < PMD);
	}
	CU_ASSERT(pmd_chunks(a) == pmds);
	/* 12 left there: now one free chunk must be broken... */
	get_ok(a, 100, 5000, 1);
	CU_ASSERT(pmd_chunks(a) == pmds - 1);
	/* ...and then it and the 12 are filled before another one */
	get_ok(a, 12, 0, 1);
	get_ok(a, 200, 0, 1);
	get_ok(a, 200, 0, 1);
	CU_ASSERT(pmd_chunks(a) == pmds - 1);
	get_ok(a, 13, 0, 1);
	CU_ASSERT(pmd_chunks(a) == pmds - 2);
	CU_ASSERT(dl_alloc_verify(a) == 0);
	dl_alloc_delete(&a);
}

static void test_break_in_partial_pud(void)
{
	/* PUD 0 is cut by the metadata, PUD 1 is whole */
	struct dl_alloc *a = make(2 * PUD, PMD);

	CU_ASSERT(pud_chunks(a) == 1);
	CU_ASSERT(get_ok(a, 10, PUD + 5000, 1) == 1);
	CU_ASSERT(runs[0].start < PUD && runs[0].start % PMD == 0);
	CU_ASSERT(pud_chunks(a) == 1);
	CU_ASSERT(get_ok(a, 3 * PMD, PUD + 5000, 1) == 1);
	CU_ASSERT(runs[0].start < PUD && runs[0].start % PMD == 0);
	CU_ASSERT(pud_chunks(a) == 1);
	dl_alloc_delete(&a);

	/* no PUD is cut: the whole one near the goal is broken at its start */
	a = make(2 * PUD, 0);
	CU_ASSERT(get_ok(a, 10, PUD + 5000, 1) == 1);
	CU_ASSERT(runs[0].start == PUD);
	CU_ASSERT(pud_chunks(a) == 1);
	CU_ASSERT(get_ok(a, 10, 0, 1) == 1);
	CU_ASSERT(runs[0].start == PUD + 10);
	dl_alloc_delete(&a);
}

static void test_contiguous_goal(void)
{
	struct dl_alloc *a = make(16384, 64);
	uint64_t end;

	/* a file growing at its end stays one extent */
	get_ok(a, 10, 3000, 1);
	end = runs[0].start + runs[0].len;
	CU_ASSERT(get_ok(a, 20, end, 1) == 1);
	CU_ASSERT(runs[0].start == end);
	end += 20;
	CU_ASSERT(get_ok(a, 5, end, 1) == 1);
	CU_ASSERT(runs[0].start == end);
	dl_alloc_delete(&a);
}

/* ---- fragmentation, full, errors ----------------------------------------- */

static void test_fragmented(void)
{
	struct dl_alloc *a = make(4096, 64);
	uint64_t b;
	size_t i, n;

	CU_ASSERT(get_ok(a, 4096 - 64, 0, 1) == 1);
	for (b = 64; b < 4096; b += 2)
		CU_ASSERT(dl_alloc_put(a, b, 1) == 0);
	CU_ASSERT(dl_alloc_free_blocks(a) == 2016);
	CU_ASSERT(pmd_chunks(a) == 0);

	get_nospc(a, 1000, 0, 999);
	get_nospc(a, 2017, 0, MAX_RUNS);
	n = get_ok(a, 1000, 0, 1000);
	CU_ASSERT(n == 1000);
	for (i = 0; i < n; i++)
		CU_ASSERT(runs[i].len == 1);
	CU_ASSERT(get_ok(a, 1016, 0, MAX_RUNS) == 1016);
	CU_ASSERT(dl_alloc_free_blocks(a) == 0);
	CU_ASSERT(dl_alloc_verify(a) == 0);

	/* one unaligned extent beats aligned pieces when max_runs is 1 */
	CU_ASSERT(dl_alloc_put(a, 700, 1000) == 0);
	CU_ASSERT(get_ok(a, 900, 0, 1) == 1);
	CU_ASSERT(runs[0].start >= 700 && runs[0].start + 900 <= 1700);
	dl_alloc_delete(&a);
}

static void test_full(void)
{
	struct dl_alloc *a = make(4096 + 77, 33);
	uint64_t total = 4096 + 77 - 33;

	get_nospc(a, total + 1, 0, MAX_RUNS);
	get_ok(a, 700, 0, 4);
	get_ok(a, 3, 0, 4);
	get_nospc(a, total - 702, 0, MAX_RUNS);
	get_ok(a, total - 703, 0, MAX_RUNS);
	CU_ASSERT(dl_alloc_free_blocks(a) == 0);
	get_nospc(a, 1, 0, MAX_RUNS);
	get_nospc(a, 1, 100, 1);
	dl_alloc_delete(&a);
}

static void test_einval(void)
{
	struct dl_alloc *a = make(4096, 64);
	uint64_t *copy;

	CU_ASSERT(dl_alloc_mark_used(a, 100, 10) == 0);
	copy = snapshot(a);
	/* double use, double free, partly either */
	CU_ASSERT(dl_alloc_mark_used(a, 100, 10) == -EINVAL);
	CU_ASSERT(dl_alloc_mark_used(a, 105, 10) == -EINVAL);
	CU_ASSERT(dl_alloc_put(a, 200, 1) == -EINVAL);
	CU_ASSERT(dl_alloc_put(a, 95, 10) == -EINVAL);
	CU_ASSERT(dl_alloc_put(a, 100, 11) == -EINVAL);
	/* outside the data area */
	CU_ASSERT(dl_alloc_mark_used(a, 0, 1) == -EINVAL);
	CU_ASSERT(dl_alloc_mark_used(a, 63, 2) == -EINVAL);
	CU_ASSERT(dl_alloc_put(a, 10, 1) == -EINVAL);
	CU_ASSERT(dl_alloc_mark_used(a, 4090, 7) == -EINVAL);
	CU_ASSERT(dl_alloc_mark_used(a, 4096, 1) == -EINVAL);
	CU_ASSERT(dl_alloc_mark_used(a, 200, UINT64_MAX) == -EINVAL);
	CU_ASSERT(dl_alloc_mark_used(a, UINT64_MAX, 2) == -EINVAL);
	CU_ASSERT(dl_alloc_mark_used(a, 200, 0) == -EINVAL);
	CU_ASSERT(dl_alloc_free_blocks(a) == 4096 - 64 - 10);
	CU_ASSERT(same_bitmap(a, copy));
	CU_ASSERT(dl_alloc_put(a, 100, 10) == 0);
	CU_ASSERT(dl_alloc_put(a, 100, 10) == -EINVAL);
	CU_ASSERT(dl_alloc_free_blocks(a) == 4096 - 64);
	CU_ASSERT(dl_alloc_verify(a) == 0);
	free(copy);
	dl_alloc_delete(&a);
}

/* ---- loading ------------------------------------------------------------- */

static void test_load_bitmap(void)
{
	const uint64_t nb = 4 * 16384 + 123, fd = 77;
	struct dl_alloc *a = make(nb, fd), *b = make(nb, fd);
	uint64_t s1[3], s2[3], *bm;
	size_t i, words = dl_alloc_bitmap_words(a);

	CU_ASSERT(words == (nb + 63) / 64);
	for (i = 0; i < 300; i++) {
		get_ok(a, rnd_in(1, 300), rnd_in(0, nb - 1), 8);
		if (i % 4 == 0)
			CU_ASSERT(dl_alloc_put(a, runs[0].start,
					       runs[0].len) == 0);
	}
	dl_alloc_load_bitmap(b, dl_alloc_bitmap(a));
	CU_ASSERT(same_bitmap(b, dl_alloc_bitmap(a)));
	CU_ASSERT(dl_alloc_free_blocks(b) == dl_alloc_free_blocks(a));
	dl_alloc_shape(a, &s1[0], &s1[1], &s1[2]);
	dl_alloc_shape(b, &s2[0], &s2[1], &s2[2]);
	CU_ASSERT(!memcmp(s1, s2, sizeof(s1)));
	CU_ASSERT(dl_alloc_verify(b) == 0);

	/* metadata is used whatever the bitmap says; bits past the end are
	 * ignored */
	bm = calloc(words, sizeof(*bm));
	CU_ASSERT_FATAL(bm != NULL);
	bm[words - 1] = ~0ULL << (nb % 64);
	dl_alloc_load_bitmap(b, bm);
	CU_ASSERT(dl_alloc_free_blocks(b) == nb - fd);
	CU_ASSERT(dl_alloc_is_used(b, fd - 1) && !dl_alloc_is_used(b, fd));
	CU_ASSERT(dl_alloc_bitmap(b)[words - 1] == 0);
	CU_ASSERT(dl_alloc_verify(b) == 0);
	memset(bm, 0xff, words * sizeof(*bm));
	dl_alloc_load_bitmap(b, bm);
	CU_ASSERT(dl_alloc_free_blocks(b) == 0);
	CU_ASSERT(dl_alloc_verify(b) == 0);
	get_nospc(b, 1, 0, 1);
	free(bm);
	dl_alloc_delete(&a);
	dl_alloc_delete(&b);
}

/* ---- randomized against a reference -------------------------------------- */

struct ref {
	uint64_t nblocks, first_data, free;
	uint64_t *bits;		/* same convention as dl_alloc_bitmap() */
	struct dl_run *held;	/* what the test owns */
	size_t nheld, maxheld;
};

static bool ref_used(const struct ref *r, uint64_t b)
{
	return r->bits[b / 64] & (1ULL << (b % 64));
}

static void ref_set(struct ref *r, uint64_t b, bool used)
{
	if (used)
		r->bits[b / 64] |= 1ULL << (b % 64);
	else
		r->bits[b / 64] &= ~(1ULL << (b % 64));
}

static void ref_hold(struct ref *r, struct dl_run run)
{
	if (r->nheld == r->maxheld) {
		r->maxheld = r->maxheld ? 2 * r->maxheld : 1024;
		r->held = realloc(r->held, r->maxheld * sizeof(*r->held));
		CU_ASSERT_FATAL(r->held != NULL);
	}
	r->held[r->nheld++] = run;
}

static int cmp_desc(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return (a < b) - (a > b);
}

/* The fewest runs `want` blocks can be had in, from the reference;
 * SIZE_MAX if there are not enough free blocks. */
static size_t ref_min_runs(const struct ref *r, uint64_t want)
{
	uint64_t *lens = malloc((r->nblocks / 2 + 1) * sizeof(*lens));
	uint64_t b, s, sum = 0;
	size_t n = 0, k;

	CU_ASSERT_FATAL(lens != NULL);
	for (b = r->first_data; b < r->nblocks; b++) {
		if (ref_used(r, b))
			continue;
		for (s = b; b < r->nblocks && !ref_used(r, b); b++)
			;
		lens[n++] = b - s;
	}
	qsort(lens, n, sizeof(*lens), cmp_desc);
	for (k = 0; k < n && sum < want; k++)
		sum += lens[k];
	free(lens);
	return sum < want ? SIZE_MAX : k;
}

static uint64_t random_want(const struct ref *r)
{
	uint64_t pick = rnd() % 100;

	if (pick < 70)
		return rnd_in(1, 600);
	if (pick < 90)
		return rnd_in(PMD, 8 * PMD);
	return rnd_in(1, r->nblocks / 3);
}

static void ref_get(struct dl_alloc *a, struct ref *r)
{
	uint64_t want = random_want(r), goal = 0, b;
	size_t max_runs = rnd() % 4 ? rnd_in(1, 16) : MAX_RUNS, n = 0, i;
	int rc;

	if (rnd() % 2)
		goal = rnd_in(0, r->nblocks + 10);
	rc = dl_alloc_get(a, want, goal, runs, max_runs, &n);
	if (rc) {
		CU_ASSERT(rc == -ENOSPC);
		CU_ASSERT(n == 0);
		/* only when no placement at all could do it */
		CU_ASSERT(ref_min_runs(r, want) > max_runs);
		return;
	}
	CU_ASSERT_FATAL(n >= 1 && n <= max_runs);
	for (i = 0; i < n; i++) {
		CU_ASSERT_FATAL(runs[i].len > 0);
		CU_ASSERT_FATAL(runs[i].start >= r->first_data);
		CU_ASSERT_FATAL(runs[i].start + runs[i].len <= r->nblocks);
		for (b = runs[i].start; b < runs[i].start + runs[i].len; b++) {
			/* handed out twice, or overlapping another run */
			CU_ASSERT_FATAL(!ref_used(r, b));
			ref_set(r, b, true);
		}
		r->free -= runs[i].len;
		want -= runs[i].len;
		ref_hold(r, runs[i]);
	}
	CU_ASSERT(want == 0);
}

/* Give back a held run, or a random piece of it. */
static void ref_put(struct dl_alloc *a, struct ref *r)
{
	size_t i = rnd() % r->nheld;
	struct dl_run h = r->held[i], piece = h;
	uint64_t b;

	if (h.len > 1 && rnd() % 3 == 0) {
		piece.start = rnd_in(h.start, h.start + h.len - 1);
		piece.len = rnd_in(1, h.start + h.len - piece.start);
	}
	CU_ASSERT_FATAL(dl_alloc_put(a, piece.start, piece.len) == 0);
	CU_ASSERT(dl_alloc_put(a, piece.start, 1) == -EINVAL);
	for (b = piece.start; b < piece.start + piece.len; b++)
		ref_set(r, b, false);
	r->free += piece.len;
	/* keep what is left of the held run */
	r->held[i] = r->held[--r->nheld];
	if (piece.start > h.start)
		ref_hold(r, (struct dl_run){ h.start, piece.start - h.start });
	if (piece.start + piece.len < h.start + h.len)
		ref_hold(r, (struct dl_run){ piece.start + piece.len,
			 h.start + h.len - piece.start - piece.len });
}

static void ref_compare(const struct dl_alloc *a, const struct ref *r)
{
	CU_ASSERT_FATAL(dl_alloc_free_blocks(a) == r->free);
	CU_ASSERT_FATAL(same_bitmap(a, r->bits));
	CU_ASSERT_FATAL(dl_alloc_verify(a) == 0);
}

static void random_run(uint64_t nblocks, uint64_t first_data, int ops)
{
	struct dl_alloc *a = make(nblocks, first_data);
	struct ref r = {
		.nblocks = nblocks,
		.first_data = first_data,
		.free = nblocks - first_data,
	};
	uint64_t b;
	int i;

	r.bits = calloc(dl_alloc_bitmap_words(a), sizeof(uint64_t));
	CU_ASSERT_FATAL(r.bits != NULL);
	for (b = 0; b < first_data; b++)
		ref_set(&r, b, true);
	ref_compare(a, &r);
	for (i = 0; i < ops; i++) {
		/* lean towards allocating until nearly full, then churn */
		if (!r.nheld || rnd() % 100 < 55)
			ref_get(a, &r);
		else
			ref_put(a, &r);
		if (i % 50 == 0)
			ref_compare(a, &r);
	}
	while (r.nheld)
		ref_put(a, &r);
	ref_compare(a, &r);
	CU_ASSERT(dl_alloc_free_blocks(a) == nblocks - first_data);
	free(r.bits);
	free(r.held);
	dl_alloc_delete(&a);
}

static void test_random_small_ns(void)
{
	random_run(4096 + 37, 13, 4000);
	random_run(16384, PMD, 4000);
	random_run(1000, 999, 100);
}

static void test_random_multi_pud(void)
{
	random_run(3 * PUD + 1000 + 17, 777, 1500);
}

/* ---- a 1 TiB namespace --------------------------------------------------- */

static void test_one_tib(void)
{
	const uint64_t nb = 1ULL << 28, fd = 12345;
	struct dl_alloc *a = make(nb, fd);
	struct dl_run *held = calloc(2100, sizeof(*held));
	size_t nheld = 0, i, n;

	CU_ASSERT_FATAL(held != NULL);
	CU_ASSERT(pud_chunks(a) == 1023);
	for (i = 0; i < 1000; i++) {
		n = get_ok(a, rnd_in(1, 64), i % 10 ? 0 : rnd_in(0, nb - 1), 1);
		held[nheld++] = runs[0];
	}
	for (i = 0; i < 8; i++) {
		n = get_ok(a, PUD, 0, 4);
		CU_ASSERT(n == 1 && runs[0].start % PUD == 0);
		held[nheld++] = runs[0];
	}
	n = get_ok(a, 3 * PUD, rnd_in(0, nb - 1), 4);
	CU_ASSERT(n == 1 && runs[0].start % PUD == 0);
	held[nheld++] = runs[0];
	CU_ASSERT(pud_chunks(a) == 1023 - 11);
	for (i = 0; i < 1000; i++) {
		n = get_ok(a, rnd_in(1, 64), 0, 1);
		held[nheld++] = runs[0];
	}
	/* the small ones did not break any 1 GiB chunk */
	CU_ASSERT(pud_chunks(a) == 1023 - 11);
	for (i = 0; i < nheld; i++)
		CU_ASSERT(dl_alloc_put(a, held[i].start, held[i].len) == 0);
	CU_ASSERT(dl_alloc_free_blocks(a) == nb - fd);
	CU_ASSERT(pud_chunks(a) == 1023);
	CU_ASSERT(dl_alloc_verify(a) == 0);
	free(held);
	dl_alloc_delete(&a);
}

static CU_TestInfo alloc_tests[] = {
	{ "arguments", test_args },
	{ "shape of a fresh namespace", test_shape },
	{ "2 MiB request is PMD-aligned", test_pmd_aligned_fresh },
	{ "1 GiB request is PUD-aligned", test_pud_aligned },
	{ "whole PUDs far apart", test_pud_scattered },
	{ "1 GiB from PMDs when no PUD is whole",
	  test_pud_request_without_free_pud },
	{ "PMDs too scattered for max_runs", test_pmds_too_scattered },
	{ "2 MiB aligned after scattered small ones", test_pmd_after_scatter },
	{ "small ones fill partial chunks first", test_small_fills_partial },
	{ "a chunk is broken in a cut PUD first", test_break_in_partial_pud },
	{ "goal keeps a growing file contiguous", test_contiguous_goal },
	{ "fragmented: many runs or nothing", test_fragmented },
	{ "full namespace loses nothing", test_full },
	{ "double free and out of range", test_einval },
	{ "load_bitmap roundtrip", test_load_bitmap },
	{ "random against a reference, small", test_random_small_ns },
	{ "random against a reference, 3 GiB", test_random_multi_pud },
	{ "1 TiB namespace", test_one_tib },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "alloc", NULL, NULL, NULL, NULL, alloc_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return dl_cunit_main(suites);
}

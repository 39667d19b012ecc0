/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * alloc.c - the DRAM mirror of the block bitmap, and the placement policy.
 *
 * Policy.  A request of 1 GiB or more first takes whole, aligned, fully
 * free 1 GiB chunks; the rest of any request of 2 MiB or more takes whole
 * aligned 2 MiB chunks, contiguous if possible and inside 1 GiB chunks that
 * are already partly used, so that free 1 GiB chunks stay whole.  What is
 * left (< 2 MiB) goes first-fit into a 2 MiB chunk that is already partly
 * used; a free 2 MiB chunk is broken only when none has room, and then one
 * inside a partly used 1 GiB chunk first.  Every search starts at the
 * caller's goal (or where the last allocation ended) and wraps, so files
 * stay contiguous and small allocations do not rescan the namespace; if
 * these shapes cannot satisfy a request within the caller's run limit,
 * the largest free extents are taken instead (fewest runs), and only when
 * even that fails is the answer -ENOSPC, with nothing changed.
 *
 * Summaries.  Besides the bitmap we keep, per 2 MiB chunk ("PMD"), its
 * free count and, if it is partly used, its longest free run; per 1 GiB
 * chunk ("PUD"), its free count, which of its PMDs are fully free and
 * their longest stretch, and its best partial run; and a few bitmaps over
 * PUDs, so that a search in a 1 TiB namespace reads a few words instead
 * of 1024 summaries.  A chunk is fully free exactly when its free count
 * equals its size, which a chunk cut by first_data or by the end of the
 * namespace never reaches: cut chunks always count as partly used, which
 * is what the policy wants.  A change updates only the PMDs and PUDs it
 * touches.
 */
#include "alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

#define PMD_SHIFT 9
#define PUD_SHIFT 18
#define PMD_BLOCKS (1ULL << PMD_SHIFT)
#define PUD_BLOCKS (1ULL << PUD_SHIFT)
#define PMDS_PER_PUD_SHIFT (PUD_SHIFT - PMD_SHIFT)
#define PMDS_PER_PUD (1ULL << PMDS_PER_PUD_SHIFT)

_Static_assert(PMD_BLOCKS == DL_PMD_BLOCKS, "PMD chunk is 2 MiB");
_Static_assert(PUD_BLOCKS == DL_PUD_BLOCKS, "PUD chunk is 1 GiB");

enum chunk_state {
	CHUNK_FULL,		/* no free block */
	CHUNK_PARTIAL,		/* some but not all blocks free */
	CHUNK_FREE,		/* whole, aligned and entirely free */
};

struct pud_info {
	uint32_t free;		/* free blocks */
	uint16_t free_pmds;	/* fully-free PMDs inside */
	uint16_t free_pmd_run;	/* longest stretch of fully-free PMDs */
	uint16_t best_partial;	/* longest free run inside a partial PMD */
	uint64_t free_pmd_bits[PMDS_PER_PUD / 64];	/* PMD i fully free */
};

struct dl_alloc {
	uint64_t nblocks;
	uint64_t first_data;
	uint64_t nwords;
	uint64_t npmd;
	uint64_t npud;
	uint64_t free_blocks;
	uint64_t free_pmds;	/* fully-free PMDs, whole namespace */
	uint64_t free_puds;	/* fully-free PUDs */
	uint64_t cursor;	/* where the last allocation ended */
	uint64_t *bitmap;
	uint16_t *pmd_free;	/* free blocks per PMD */
	uint16_t *partial_run;	/* longest free run of a partial PMD, else 0 */
	struct pud_info *pud;
	uint64_t pwords;	/* words in one bitmap over PUDs */
	uint64_t *pud_index;	/* IDX_NR bitmaps over PUDs, see below */
};

/*
 * Bitmaps with one bit per PUD, so that a search over a big namespace
 * reads a few words instead of every PUD summary: whole free PUDs; PUDs
 * (not themselves free) with a fully-free PMD; and for each k < 9, PUDs
 * whose best partial run is at least 2^k blocks.
 */
enum {
	IDX_FREE_PUD,
	IDX_FREE_PMD,
	IDX_PARTIAL,
	IDX_NR = IDX_PARTIAL + PMD_SHIFT,
};

/* The runs handed back so far, in the caller's array. */
struct run_list {
	struct dl_run *runs;
	size_t max;
	size_t n;
};

/* Enough to take back what was added to a run_list since. */
struct run_mark {
	size_t n;
	uint64_t last_len;
};

static inline uint64_t min_u64(uint64_t x, uint64_t y)
{
	return x < y ? x : y;
}

static inline uint64_t max_u64(uint64_t x, uint64_t y)
{
	return x > y ? x : y;
}

/* ---- bits ---------------------------------------------------------------- */

/* The bits of word w that fall in [s, e). */
static uint64_t word_mask(uint64_t w, uint64_t s, uint64_t e)
{
	uint64_t lo = max_u64(s, w << 6) - (w << 6);
	uint64_t hi = min_u64(e, (w + 1) << 6) - (w << 6);

	if (hi - lo == 64)
		return ~0ULL;
	return ((1ULL << (hi - lo)) - 1) << lo;
}

static void bits_assign(uint64_t *bm, uint64_t s, uint64_t e, bool used)
{
	uint64_t w;

	for (w = s >> 6; w << 6 < e; w++) {
		if (used)
			bm[w] |= word_mask(w, s, e);
		else
			bm[w] &= ~word_mask(w, s, e);
	}
}

static bool bits_all(const uint64_t *bm, uint64_t s, uint64_t e, bool used)
{
	uint64_t w, mask;

	for (w = s >> 6; w << 6 < e; w++) {
		mask = word_mask(w, s, e);
		if ((bm[w] & mask) != (used ? mask : 0))
			return false;
	}
	return true;
}

static uint64_t bits_count_used(const uint64_t *bm, uint64_t s, uint64_t e)
{
	uint64_t w, n = 0;

	for (w = s >> 6; w << 6 < e; w++)
		n += __builtin_popcountll(bm[w] & word_mask(w, s, e));
	return n;
}

/* First bit in [pos, lim) that is set (one) or clear (!one); lim if none. */
static uint64_t bit_next(const uint64_t *bm, uint64_t pos, uint64_t lim,
			 bool one)
{
	uint64_t w, word;

	while (pos < lim) {
		w = pos >> 6;
		word = (one ? bm[w] : ~bm[w]) & (~0ULL << (pos & 63));
		if (word)
			return min_u64((w << 6) + __builtin_ctzll(word), lim);
		pos = (w + 1) << 6;
	}
	return lim;
}

/* Longest stretch of set (one) or clear bits in [lo, hi). */
static uint64_t bit_longest(const uint64_t *bm, uint64_t lo, uint64_t hi,
			    bool one)
{
	uint64_t s, e, best = 0;

	for (; lo < hi; lo = e) {
		s = bit_next(bm, lo, hi, one);
		e = bit_next(bm, s, hi, !one);
		best = max_u64(best, e - s);
	}
	return best;
}

/* ---- chunk summaries ----------------------------------------------------- */

static inline uint64_t pmd_start(uint64_t c)
{
	return c << PMD_SHIFT;
}

static inline uint64_t pmd_end(const struct dl_alloc *a, uint64_t c)
{
	return min_u64(pmd_start(c + 1), a->nblocks);
}

static inline uint64_t pud_start(uint64_t p)
{
	return p << PUD_SHIFT;
}

/* The first PMD of PUD p, and the one past its last. */
static inline uint64_t pud_first_pmd(uint64_t p)
{
	return p << PMDS_PER_PUD_SHIFT;
}

static inline uint64_t pud_end_pmd(const struct dl_alloc *a, uint64_t p)
{
	return min_u64(pud_first_pmd(p + 1), a->npmd);
}

static enum chunk_state pmd_state(const struct dl_alloc *a, uint64_t c)
{
	if (!a->pmd_free[c])
		return CHUNK_FULL;
	return a->pmd_free[c] == PMD_BLOCKS ? CHUNK_FREE : CHUNK_PARTIAL;
}

static enum chunk_state pud_state(const struct dl_alloc *a, uint64_t p)
{
	if (!a->pud[p].free)
		return CHUNK_FULL;
	return a->pud[p].free == PUD_BLOCKS ? CHUNK_FREE : CHUNK_PARTIAL;
}

static uint64_t pmd_count_free(const struct dl_alloc *a, uint64_t c)
{
	uint64_t s = pmd_start(c), e = pmd_end(a, c);

	return (e - s) - bits_count_used(a->bitmap, s, e);
}

/* What partial_run[c] must be, read from the bitmap. */
static uint16_t pmd_partial_run(const struct dl_alloc *a, uint64_t c)
{
	if (pmd_state(a, c) != CHUNK_PARTIAL)
		return 0;
	return bit_longest(a->bitmap, pmd_start(c), pmd_end(a, c), false);
}

static uint16_t best_partial_in(const struct dl_alloc *a, uint64_t p)
{
	uint64_t c;
	uint16_t best = 0;

	for (c = pud_first_pmd(p); c < pud_end_pmd(a, p); c++)
		if (a->partial_run[c] > best)
			best = a->partial_run[c];
	return best;
}

/* Summarize PUD p from its PMDs' free counts and partial runs. */
static void pud_summarize(const struct dl_alloc *a, uint64_t p,
			  struct pud_info *pi)
{
	uint64_t c, i;

	memset(pi, 0, sizeof(*pi));
	for (c = pud_first_pmd(p); c < pud_end_pmd(a, p); c++) {
		pi->free += a->pmd_free[c];
		if (pmd_state(a, c) != CHUNK_FREE)
			continue;
		i = c - pud_first_pmd(p);
		pi->free_pmd_bits[i / 64] |= 1ULL << (i % 64);
		pi->free_pmds++;
	}
	pi->free_pmd_run = bit_longest(pi->free_pmd_bits, 0, PMDS_PER_PUD,
				       true);
	pi->best_partial = best_partial_in(a, p);
}

/* What pmd_update() found that the PUD summary must follow. */
#define PMD_FLIPPED 0x1		/* became, or stopped being, fully free */
#define PMD_LOST_BEST 0x2	/* had the PUD's best partial run; shrank */

/* The bits of PMD c changed by delta free blocks: update its summaries. */
static unsigned pmd_update(struct dl_alloc *a, struct pud_info *pi,
			   uint64_t c, int64_t delta)
{
	bool was_free = pmd_state(a, c) == CHUNK_FREE, now_free;
	uint16_t old_run = a->partial_run[c], run;
	uint64_t i = c & (PMDS_PER_PUD - 1);
	unsigned what = 0;

	a->pmd_free[c] += delta;
	run = pmd_partial_run(a, c);
	a->partial_run[c] = run;
	if (run > pi->best_partial)
		pi->best_partial = run;
	else if (run < old_run && old_run == pi->best_partial)
		what |= PMD_LOST_BEST;
	now_free = pmd_state(a, c) == CHUNK_FREE;
	if (was_free == now_free)
		return what;
	pi->free_pmd_bits[i / 64] ^= 1ULL << (i % 64);
	if (now_free) {
		pi->free_pmds++;
		a->free_pmds++;
	} else {
		pi->free_pmds--;
		a->free_pmds--;
	}
	return what | PMD_FLIPPED;
}

static inline uint64_t *pud_idx(const struct dl_alloc *a, unsigned i)
{
	return a->pud_index + i * a->pwords;
}

static inline bool bit_test(const uint64_t *bm, uint64_t i)
{
	return bm[i / 64] & (1ULL << (i % 64));
}

static void bit_put(uint64_t *bm, uint64_t i, bool on)
{
	if (on)
		bm[i / 64] |= 1ULL << (i % 64);
	else
		bm[i / 64] &= ~(1ULL << (i % 64));
}

/* Whether PUD p belongs in index bitmap i, from its summary. */
static bool pud_indexed(const struct dl_alloc *a, uint64_t p, unsigned i)
{
	const struct pud_info *pi = &a->pud[p];

	if (i == IDX_FREE_PUD)
		return pud_state(a, p) == CHUNK_FREE;
	if (i == IDX_FREE_PMD)
		return pi->free_pmds && pud_state(a, p) != CHUNK_FREE;
	return pi->best_partial >= 1U << (i - IDX_PARTIAL);
}

static void pud_reindex(struct dl_alloc *a, uint64_t p)
{
	unsigned i;

	for (i = 0; i < IDX_NR; i++)
		bit_put(pud_idx(a, i), p, pud_indexed(a, p, i));
}

/* Flip [s, e), inside PUD p and entirely in the other state, and
 * account for it. */
static void change_in_pud(struct dl_alloc *a, uint64_t p, uint64_t s,
			  uint64_t e, bool used)
{
	struct pud_info *pi = &a->pud[p];
	bool was_free = pud_state(a, p) == CHUNK_FREE;
	uint64_t c, cs, ce;
	unsigned what = 0;

	for (c = s >> PMD_SHIFT; pmd_start(c) < e; c++) {
		cs = max_u64(s, pmd_start(c));
		ce = min_u64(e, pmd_start(c + 1));
		bits_assign(a->bitmap, cs, ce, used);
		what |= pmd_update(a, pi, c, used ? -(int64_t)(ce - cs) :
						    (int64_t)(ce - cs));
	}
	if (used) {
		pi->free -= e - s;
		a->free_blocks -= e - s;
	} else {
		pi->free += e - s;
		a->free_blocks += e - s;
	}
	if (what & PMD_FLIPPED)
		pi->free_pmd_run = bit_longest(pi->free_pmd_bits, 0,
					       PMDS_PER_PUD, true);
	if (what & PMD_LOST_BEST)
		pi->best_partial = best_partial_in(a, p);
	if (was_free && pud_state(a, p) != CHUNK_FREE)
		a->free_puds--;
	else if (!was_free && pud_state(a, p) == CHUNK_FREE)
		a->free_puds++;
	pud_reindex(a, p);
}

static void change_range(struct dl_alloc *a, uint64_t s, uint64_t e, bool used)
{
	uint64_t p;

	for (p = s >> PUD_SHIFT; pud_start(p) < e; p++)
		change_in_pud(a, p, max_u64(s, pud_start(p)),
			      min_u64(e, pud_start(p + 1)), used);
}

/* Rebuild every summary from the bitmap. */
static void recount(struct dl_alloc *a)
{
	uint64_t c, p;

	for (c = 0; c < a->npmd; c++) {
		a->pmd_free[c] = pmd_count_free(a, c);
		a->partial_run[c] = pmd_partial_run(a, c);
	}
	a->free_blocks = 0;
	a->free_pmds = 0;
	a->free_puds = 0;
	for (p = 0; p < a->npud; p++) {
		pud_summarize(a, p, &a->pud[p]);
		a->free_blocks += a->pud[p].free;
		a->free_pmds += a->pud[p].free_pmds;
		a->free_puds += pud_state(a, p) == CHUNK_FREE;
		pud_reindex(a, p);
	}
}

/* ---- searching ----------------------------------------------------------- */

/* First free block in [pos, lim), or lim; skips full chunks unread. */
static uint64_t next_free(const struct dl_alloc *a, uint64_t pos, uint64_t lim)
{
	uint64_t w, word;

	while (pos < lim) {
		if (!a->pud[pos >> PUD_SHIFT].free) {
			pos = pud_start((pos >> PUD_SHIFT) + 1);
			continue;
		}
		if (!a->pmd_free[pos >> PMD_SHIFT]) {
			pos = pmd_start((pos >> PMD_SHIFT) + 1);
			continue;
		}
		w = pos >> 6;
		word = ~a->bitmap[w] & (~0ULL << (pos & 63));
		if (word)
			return min_u64((w << 6) + __builtin_ctzll(word), lim);
		pos = (w + 1) << 6;
	}
	return lim;
}

/* First used block in [pos, lim), or lim; skips free chunks unread. */
static uint64_t next_used(const struct dl_alloc *a, uint64_t pos, uint64_t lim)
{
	uint64_t w, word;

	while (pos < lim) {
		if (a->pud[pos >> PUD_SHIFT].free == PUD_BLOCKS) {
			pos = pud_start((pos >> PUD_SHIFT) + 1);
			continue;
		}
		if (a->pmd_free[pos >> PMD_SHIFT] == PMD_BLOCKS) {
			pos = pmd_start((pos >> PMD_SHIFT) + 1);
			continue;
		}
		w = pos >> 6;
		word = a->bitmap[w] & (~0ULL << (pos & 63));
		if (word)
			return min_u64((w << 6) + __builtin_ctzll(word), lim);
		pos = (w + 1) << 6;
	}
	return lim;
}

typedef uint64_t (*chunk_next_fn)(const struct dl_alloc *a, uint64_t i,
				  uint64_t end);

/* PUD index of the PMD after the last one in [0, end). */
static inline uint64_t pud_of_end_pmd(uint64_t end)
{
	return (end + PMDS_PER_PUD - 1) >> PMDS_PER_PUD_SHIFT;
}

/* Next fully-free PMD in [c, end) inside a PUD that is not fully free. */
static uint64_t next_free_pmd(const struct dl_alloc *a, uint64_t c,
			      uint64_t end)
{
	uint64_t p = c >> PMDS_PER_PUD_SHIFT, pend = pud_of_end_pmd(end), i;

	while ((p = bit_next(pud_idx(a, IDX_FREE_PMD), p, pend, true)) < pend) {
		i = bit_next(a->pud[p].free_pmd_bits,
			     max_u64(c, pud_first_pmd(p)) - pud_first_pmd(p),
			     PMDS_PER_PUD, true);
		if (i < PMDS_PER_PUD)
			return min_u64(pud_first_pmd(p) + i, end);
		p++;
	}
	return end;
}

/* Next fully-free PUD in [p, end), or end. */
static uint64_t next_free_pud(const struct dl_alloc *a, uint64_t p,
			      uint64_t end)
{
	return bit_next(pud_idx(a, IDX_FREE_PUD), p, end, true);
}

/* next(), starting at from and wrapping once around [0, end). */
static uint64_t next_wrapped(const struct dl_alloc *a, chunk_next_fn next,
			     uint64_t from, uint64_t end)
{
	uint64_t i = next(a, from, end);

	if (i < end)
		return i;
	i = next(a, 0, from);
	return i < from ? i : end;
}

/* First of `len` consecutive free PUDs in [lo, hi); hi if none. */
static uint64_t pud_window_in(const struct dl_alloc *a, uint64_t lo,
			      uint64_t hi, uint64_t len)
{
	uint64_t i, start = hi, run = 0;

	for (i = lo; (i = next_free_pud(a, i, hi)) < hi; i++) {
		if (!run || i != start + run) {
			start = i;
			run = 0;
		}
		if (++run == len)
			return start;
	}
	return hi;
}

/* Fully-free PMDs at the end of PUD pi (which must have all 512). */
static uint64_t pud_tail_run(const struct pud_info *pi)
{
	uint64_t t = 0;
	int w;

	for (w = PMDS_PER_PUD / 64 - 1; w >= 0; w--) {
		if (pi->free_pmd_bits[w] != ~0ULL)
			return t + __builtin_clzll(~pi->free_pmd_bits[w]);
		t += 64;
	}
	return t;
}

/*
 * First of `len` consecutive fully-free PMDs in [lo, hi), all inside PUDs
 * that are not fully free (a window may cross into the next PUD); hi if
 * none.  A PUD whose longest stretch is too short is not read, except
 * for the stretch at its end, which the next PUD may continue.
 */
static uint64_t pmd_window_in(const struct dl_alloc *a, uint64_t lo,
			      uint64_t hi, uint64_t len)
{
	const uint64_t *has_free_pmd = pud_idx(a, IDX_FREE_PMD);
	uint64_t c = lo, start = 0, run = 0, p, base, pend, s, e, t;
	const struct pud_info *pi;

	while (c < hi) {
		p = c >> PMDS_PER_PUD_SHIFT;
		if (!bit_test(has_free_pmd, p)) {
			/* nothing to use here: on to the next PUD that has */
			run = 0;
			p = bit_next(has_free_pmd, p, pud_of_end_pmd(hi), true);
			c = min_u64(pud_first_pmd(p), hi);
			continue;
		}
		pi = &a->pud[p];
		base = pud_first_pmd(p);
		pend = min_u64(base + PMDS_PER_PUD, hi);
		if (!run && pi->free_pmd_run < len &&
		    pend == base + PMDS_PER_PUD) {
			t = min_u64(pud_tail_run(pi), pend - c);
			start = pend - t;
			run = t;
			c = pend;
			continue;
		}
		s = base + bit_next(pi->free_pmd_bits, c - base, pend - base,
				    true);
		if (s != c)
			run = 0;
		if (s >= pend) {
			c = pend;
			continue;
		}
		e = base + bit_next(pi->free_pmd_bits, s - base, pend - base,
				    false);
		if (!run)
			start = s;
		run += e - s;
		if (run >= len)
			return start;
		c = e;
	}
	return hi;
}

/* A window of `len` free PMDs (pmd_window_in()) near c0, wrapping; npmd
 * if none. */
static uint64_t find_pmd_window(const struct dl_alloc *a, uint64_t c0,
				uint64_t len)
{
	uint64_t c = pmd_window_in(a, c0, a->npmd, len), hi;

	if (c < a->npmd)
		return c;
	/* from the start again, up to the last window that reaches c0 */
	hi = min_u64(c0 + len - 1, a->npmd);
	c = pmd_window_in(a, 0, hi, len);
	return c < hi ? c : a->npmd;
}

/* The same for `len` free PUDs near p0; npud if none. */
static uint64_t find_pud_window(const struct dl_alloc *a, uint64_t p0,
				uint64_t len)
{
	uint64_t p = pud_window_in(a, p0, a->npud, len), hi;

	if (p < a->npud)
		return p;
	hi = min_u64(p0 + len - 1, a->npud);
	p = pud_window_in(a, 0, hi, len);
	return p < hi ? p : a->npud;
}

/* First free run of `want` blocks starting in [lo, hi); UINT64_MAX if
 * none.  The run itself must end by hi too. */
static uint64_t fit_in(const struct dl_alloc *a, uint64_t lo, uint64_t hi,
		       uint64_t want)
{
	uint64_t s, e;

	for (; lo < hi; lo = e) {
		s = bit_next(a->bitmap, lo, hi, false);
		e = bit_next(a->bitmap, s, min_u64(hi, s + want), true);
		if (e - s >= want)
			return s;
	}
	return UINT64_MAX;
}

/* A run of `want` blocks in PMD c, at or after from if there is one. */
static uint64_t fit_in_pmd(const struct dl_alloc *a, uint64_t c,
			   uint64_t from, uint64_t want)
{
	uint64_t s = fit_in(a, max_u64(from, pmd_start(c)), pmd_end(a, c),
			    want);

	if (s == UINT64_MAX)
		s = fit_in(a, pmd_start(c), pmd_end(a, c), want);
	return s;
}

/* First PMD in [lo, hi), all inside PUD p, with a partial run of want. */
static uint64_t partial_pmd_in(const struct dl_alloc *a, uint64_t p,
			       uint64_t lo, uint64_t hi, uint64_t want)
{
	if (a->pud[p].best_partial < want)
		return hi;
	for (; lo < hi; lo++)
		if (a->partial_run[lo] >= want)
			return lo;
	return hi;
}

/* The first PMD with a partial run of want in PUDs [plo, phi) that the
 * candidate bitmap lists (some have a run too short); npmd if none. */
static uint64_t partial_in_puds(const struct dl_alloc *a, const uint64_t *cand,
				uint64_t plo, uint64_t phi, uint64_t want)
{
	uint64_t p, c;

	for (p = plo; (p = bit_next(cand, p, phi, true)) < phi; p++) {
		c = partial_pmd_in(a, p, pud_first_pmd(p), pud_end_pmd(a, p),
				   want);
		if (c < pud_end_pmd(a, p))
			return c;
	}
	return a->npmd;
}

/*
 * First fit of `want` (< one PMD) blocks inside a partial PMD, looking
 * from goal forward and wrapping once: the PUD summaries skip every PUD
 * without a long enough partial run, the PMD ones every PMD.  A run never
 * crosses into another PMD.  Returns its start or UINT64_MAX.
 */
static uint64_t first_fit_partial(const struct dl_alloc *a, uint64_t goal,
				  uint64_t want)
{
	const uint64_t *cand = pud_idx(a, IDX_PARTIAL + 63 -
				       __builtin_clzll(want));
	uint64_t c0 = goal >> PMD_SHIFT, p0 = c0 >> PMDS_PER_PUD_SHIFT;
	uint64_t c;

	/* the goal's PUD from the goal on, the PUDs after it, those before
	 * it, and the goal's PUD before the goal */
	c = partial_pmd_in(a, p0, c0, pud_end_pmd(a, p0), want);
	if (c == pud_end_pmd(a, p0))
		c = partial_in_puds(a, cand, p0 + 1, a->npud, want);
	if (c == a->npmd)
		c = partial_in_puds(a, cand, 0, p0, want);
	if (c == a->npmd) {
		c = partial_pmd_in(a, p0, pud_first_pmd(p0), c0, want);
		if (c == c0)
			return UINT64_MAX;
	}
	return fit_in_pmd(a, c, goal, want);
}

/* ---- building the answer ------------------------------------------------- */

static uint64_t run_end(const struct dl_run *r)
{
	return r->start + r->len;
}

/* Mark [start, start+len) used and add it, merged with the last run when
 * they touch.  -E2BIG (nothing marked) if the caller's array is full. */
static int runs_take(struct dl_alloc *a, struct run_list *rl, uint64_t start,
		     uint64_t len)
{
	struct dl_run *last = rl->n ? &rl->runs[rl->n - 1] : NULL;

	if (last && run_end(last) == start) {
		last->len += len;
	} else {
		if (rl->n == rl->max)
			return -E2BIG;
		rl->runs[rl->n].start = start;
		rl->runs[rl->n].len = len;
		rl->n++;
	}
	change_range(a, start, start + len, true);
	return 0;
}

static struct run_mark runs_mark(const struct run_list *rl)
{
	struct run_mark m = { rl->n, rl->n ? rl->runs[rl->n - 1].len : 0 };

	return m;
}

/* Give back everything added to rl since m. */
static void runs_undo(struct dl_alloc *a, struct run_list *rl,
		      struct run_mark m)
{
	struct dl_run *r;

	while (rl->n > m.n) {
		r = &rl->runs[--rl->n];
		change_range(a, r->start, run_end(r), false);
	}
	if (m.n && rl->runs[m.n - 1].len > m.last_len) {
		r = &rl->runs[m.n - 1];
		change_range(a, r->start + m.last_len, run_end(r), false);
		r->len = m.last_len;
	}
}

/* Where the next piece should go: right after the last one. */
static uint64_t runs_goal(const struct dl_alloc *a, const struct run_list *rl,
			  uint64_t goal)
{
	uint64_t g;

	if (!rl->n)
		return goal;
	g = run_end(&rl->runs[rl->n - 1]);
	return g < a->nblocks ? g : a->first_data;
}

/* ---- the fallback: fewest runs ------------------------------------------- */

/* Which of two candidate extents is nearer to what the caller asked for. */
struct near {
	const struct dl_alloc *a;
	uint64_t goal;		/* in [first_data, nblocks) */
};

/* Blocks from the goal forward (wrapping) to b. */
static uint64_t dist_from(const struct near *nr, uint64_t b)
{
	return b >= nr->goal ? b - nr->goal : b + nr->a->nblocks - nr->goal;
}

static uint64_t undist(const struct near *nr, uint64_t d)
{
	uint64_t room = nr->a->nblocks - nr->goal;

	return d < room ? nr->goal + d : d - room;
}

/* 0 for the extent that holds the goal, else how far on it starts. */
static uint64_t near_key(const struct near *nr, const struct dl_run *r)
{
	if (r->start <= nr->goal && nr->goal < run_end(r))
		return 0;
	return dist_from(nr, r->start);
}

/* Longer is better; among equals, nearer the goal. */
static bool worse(const struct near *nr, const struct dl_run *x,
		  const struct dl_run *y)
{
	if (x->len != y->len)
		return x->len < y->len;
	return near_key(nr, x) > near_key(nr, y);
}

/* The heap keeps its worst candidate on top, ready to be replaced. */
static void heap_sift_down(const struct near *nr, struct dl_run *h, size_t n,
			   size_t i)
{
	struct dl_run t;
	size_t k, child;

	for (;;) {
		k = i;
		for (child = 2 * i + 1; child <= 2 * i + 2; child++)
			if (child < n && worse(nr, &h[child], &h[k]))
				k = child;
		if (k == i)
			return;
		t = h[i];
		h[i] = h[k];
		h[k] = t;
		i = k;
	}
}

static void heap_push(const struct near *nr, struct dl_run *h, size_t n,
		      struct dl_run r)
{
	size_t i = n, parent;

	while (i) {
		parent = (i - 1) / 2;
		if (!worse(nr, &r, &h[parent]))
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = r;
}

/* Keep the best `cap` extents offered so far in h[0 .. *n). */
static void heap_offer(const struct near *nr, struct dl_run *h, size_t *n,
		       size_t cap, struct dl_run r)
{
	if (*n < cap) {
		heap_push(nr, h, (*n)++, r);
	} else if (worse(nr, &h[0], &r)) {
		h[0] = r;
		heap_sift_down(nr, h, *n, 0);
	}
}

/* Heapsort in place, best first. */
static void heap_sort_best_first(const struct near *nr, struct dl_run *h,
				 size_t n)
{
	struct dl_run t;

	while (n > 1) {
		t = h[0];
		h[0] = h[--n];
		h[n] = t;
		heap_sift_down(nr, h, n, 0);
	}
}

/* Offer every free extent of the namespace; returns how many h holds. */
static size_t collect_extents(const struct near *nr, struct dl_run *h,
			      size_t cap)
{
	const struct dl_alloc *a = nr->a;
	uint64_t s, e, pos = a->first_data;
	struct dl_run r;
	size_t n = 0;

	while ((s = next_free(a, pos, a->nblocks)) < a->nblocks) {
		e = next_used(a, s, a->nblocks);
		r.start = s;
		r.len = e - s;
		heap_offer(nr, h, &n, cap, r);
		pos = e;
	}
	return n;
}

/* Shorten extent r to len blocks, from the goal on if it holds the goal. */
static void trim(const struct near *nr, struct dl_run *r, uint64_t len)
{
	if (!near_key(nr, r) && len <= run_end(r) - nr->goal)
		r->start = nr->goal;
	r->len = len;
}

static int cmp_start(const void *x, const void *y)
{
	const struct dl_run *rx = x, *ry = y;

	return (rx->start > ry->start) - (rx->start < ry->start);
}

/*
 * Take `want` blocks as the fewest free extents - the longest ones, the
 * nearest to goal among equals - using the unused part of rl's array as
 * the heap.  -E2BIG, with nothing changed, if that part is too short.
 * O(free extents): only for when the preferred shapes fail.
 */
static int take_fewest(struct dl_alloc *a, struct run_list *rl, uint64_t goal,
		       uint64_t want)
{
	struct near nr = { a, goal };
	struct dl_run *h = rl->runs + rl->n, r;
	size_t cap = rl->max - rl->n, n, k, i;
	uint64_t sum = 0;
	int rc;

	if (!cap)
		return -E2BIG;
	n = collect_extents(&nr, h, cap);
	heap_sort_best_first(&nr, h, n);
	for (k = 0; k < n && sum < want; k++)
		sum += h[k].len;
	if (sum < want)
		return -E2BIG;
	trim(&nr, &h[k - 1], h[k - 1].len - (sum - want));
	/* hand them out in goal order: rotated starts sort plainly */
	for (i = 0; i < k; i++)
		h[i].start = dist_from(&nr, h[i].start);
	qsort(h, k, sizeof(*h), cmp_start);
	for (i = 0; i < k; i++) {
		r = h[i];
		/* runs_take() writes at or before h[i], never past it */
		rc = runs_take(a, rl, undist(&nr, r.start), r.len);
		if (rc)
			return rc;	/* cannot happen: k <= cap */
	}
	return 0;
}

/* ---- the preferred shapes ------------------------------------------------ */

/* Take up to `count` whole free PUDs near goal; returns blocks taken or
 * a negative errno. */
static int64_t take_puds(struct dl_alloc *a, struct run_list *rl,
			 uint64_t goal, uint64_t count)
{
	uint64_t p0 = goal >> PUD_SHIFT, p, taken = 0;
	int rc;

	count = min_u64(count, a->free_puds);
	if (!count)
		return 0;
	p = find_pud_window(a, p0, count);
	if (p < a->npud) {
		rc = runs_take(a, rl, pud_start(p), count * PUD_BLOCKS);
		return rc ? rc : (int64_t)(count * PUD_BLOCKS);
	}
	/* no window: the nearest ones, neighbours merging into one run */
	for (; taken < count; taken++) {
		p = next_wrapped(a, next_free_pud, p0, a->npud);
		rc = runs_take(a, rl, pud_start(p), PUD_BLOCKS);
		if (rc)
			return rc;
		p0 = p + 1 < a->npud ? p + 1 : 0;
	}
	return (int64_t)(taken * PUD_BLOCKS);
}

/* Take `count` free PMDs in partly used PUDs, nearest first. */
static int take_pmds_each(struct dl_alloc *a, struct run_list *rl,
			  uint64_t goal, uint64_t count)
{
	uint64_t c0 = goal >> PMD_SHIFT, c;
	int rc;

	while (count--) {
		c = next_wrapped(a, next_free_pmd, c0, a->npmd);
		rc = runs_take(a, rl, pmd_start(c), PMD_BLOCKS);
		if (rc)
			return rc;
		c0 = c + 1 < a->npmd ? c + 1 : 0;
	}
	return 0;
}

/* Break free PUDs near goal: `count` PMDs from their start. */
static int take_pmds_from_free_puds(struct dl_alloc *a, struct run_list *rl,
				    uint64_t goal, uint64_t count)
{
	uint64_t p, k;
	int rc;

	while (count) {
		p = next_wrapped(a, next_free_pud, goal >> PUD_SHIFT, a->npud);
		k = min_u64(count, PMDS_PER_PUD);
		rc = runs_take(a, rl, pud_start(p), k * PMD_BLOCKS);
		if (rc)
			return rc;
		count -= k;
	}
	return 0;
}

/*
 * Take up to `count` free PMDs: a contiguous window inside partly used
 * PUDs; else the nearest such PMDs one by one.  When those are too few, or
 * too scattered for the run limit, a free PUD has to be broken anyway, so
 * the PMDs come contiguously from its start.  Returns blocks taken (short
 * only when no whole PMD is left) or a negative errno.
 */
static int64_t take_pmds(struct dl_alloc *a, struct run_list *rl,
			 uint64_t goal, uint64_t count)
{
	uint64_t supply = a->free_pmds - a->free_puds * PMDS_PER_PUD;
	struct run_mark m = runs_mark(rl);
	uint64_t c, k, rest;
	int rc;

	if (count <= supply) {
		c = find_pmd_window(a, goal >> PMD_SHIFT, count);
		if (c < a->npmd) {
			rc = runs_take(a, rl, pmd_start(c), count * PMD_BLOCKS);
			return rc ? rc : (int64_t)(count * PMD_BLOCKS);
		}
		rc = take_pmds_each(a, rl, goal, count);
		if (!rc)
			return (int64_t)(count * PMD_BLOCKS);
		runs_undo(a, rl, m);
		if (rc != -E2BIG || a->free_puds * PMDS_PER_PUD < count)
			return rc;
	}
	k = min_u64(count, a->free_puds * PMDS_PER_PUD);
	rc = take_pmds_from_free_puds(a, rl, goal, k);
	if (rc)
		return rc;
	rest = min_u64(count - k, a->free_pmds);
	rc = take_pmds_each(a, rl, runs_goal(a, rl, goal), rest);
	return rc ? rc : (int64_t)((k + rest) * PMD_BLOCKS);
}

/* Fewer than PMD_BLOCKS blocks: first fit in partial PMDs, else break a
 * free PMD (one in a partly used PUD first), else whatever is free. */
static int take_small(struct dl_alloc *a, struct run_list *rl, uint64_t goal,
		      uint64_t want)
{
	uint64_t s, c, p;

	s = first_fit_partial(a, goal, want);
	if (s != UINT64_MAX)
		return runs_take(a, rl, s, want);
	c = next_wrapped(a, next_free_pmd, goal >> PMD_SHIFT, a->npmd);
	if (c < a->npmd)
		return runs_take(a, rl, pmd_start(c), want);
	p = next_wrapped(a, next_free_pud, goal >> PUD_SHIFT, a->npud);
	if (p < a->npud)
		return runs_take(a, rl, pud_start(p), want);
	return take_fewest(a, rl, goal, want);
}

static int take_preferred(struct dl_alloc *a, struct run_list *rl,
			  uint64_t goal, uint64_t want)
{
	int64_t got;

	if (want >= PUD_BLOCKS) {
		got = take_puds(a, rl, goal, want >> PUD_SHIFT);
		if (got < 0)
			return (int)got;
		want -= got;
	}
	if (want >= PMD_BLOCKS) {
		got = take_pmds(a, rl, runs_goal(a, rl, goal),
				want >> PMD_SHIFT);
		if (got < 0)
			return (int)got;
		want -= got;
	}
	if (!want)
		return 0;
	if (want < PMD_BLOCKS)
		return take_small(a, rl, runs_goal(a, rl, goal), want);
	return take_fewest(a, rl, runs_goal(a, rl, goal), want);
}

/* ---- API ----------------------------------------------------------------- */

int dl_alloc_new(uint64_t nblocks, uint64_t first_data, struct dl_alloc **out)
{
	struct dl_alloc *a;

	if (!out || !nblocks || nblocks > DL_ALLOC_MAX_BLOCKS ||
	    first_data > nblocks)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->nblocks = nblocks;
	a->first_data = first_data;
	a->nwords = (nblocks + 63) >> 6;
	a->npmd = (nblocks + PMD_BLOCKS - 1) >> PMD_SHIFT;
	a->npud = (nblocks + PUD_BLOCKS - 1) >> PUD_SHIFT;
	a->bitmap = calloc(a->nwords, sizeof(*a->bitmap));
	a->pmd_free = calloc(a->npmd, sizeof(*a->pmd_free));
	a->partial_run = calloc(a->npmd, sizeof(*a->partial_run));
	a->pud = calloc(a->npud, sizeof(*a->pud));
	a->pwords = (a->npud + 63) >> 6;
	a->pud_index = calloc(IDX_NR * a->pwords, sizeof(*a->pud_index));
	if (!a->bitmap || !a->pmd_free || !a->partial_run || !a->pud ||
	    !a->pud_index) {
		dl_alloc_delete(&a);
		return -ENOMEM;
	}
	bits_assign(a->bitmap, 0, first_data, true);
	recount(a);
	a->cursor = first_data;
	*out = a;
	return 0;
}

void dl_alloc_delete(struct dl_alloc **a)
{
	if (!a || !*a)
		return;
	free((*a)->bitmap);
	free((*a)->pmd_free);
	free((*a)->partial_run);
	free((*a)->pud_index);
	free((*a)->pud);
	free(*a);
	*a = NULL;
}

void dl_alloc_load_bitmap(struct dl_alloc *a, const uint64_t *bitmap)
{
	memcpy(a->bitmap, bitmap, a->nwords * sizeof(*a->bitmap));
	bits_assign(a->bitmap, 0, a->first_data, true);
	bits_assign(a->bitmap, a->nblocks, a->nwords << 6, false);
	recount(a);
	a->cursor = a->first_data;
}

static bool run_in_data(const struct dl_alloc *a, uint64_t start, uint64_t len)
{
	return len && start >= a->first_data && start < a->nblocks &&
	       len <= a->nblocks - start;
}

static int mark(struct dl_alloc *a, uint64_t start, uint64_t len, bool used)
{
	if (!run_in_data(a, start, len) ||
	    !bits_all(a->bitmap, start, start + len, !used))
		return -EINVAL;
	change_range(a, start, start + len, used);
	return 0;
}

int dl_alloc_mark_used(struct dl_alloc *a, uint64_t start, uint64_t len)
{
	return mark(a, start, len, true);
}

int dl_alloc_put(struct dl_alloc *a, uint64_t start, uint64_t len)
{
	return mark(a, start, len, false);
}

int dl_alloc_get(struct dl_alloc *a, uint64_t want, uint64_t goal,
		 struct dl_run *runs, size_t max_runs, size_t *nruns)
{
	struct run_list rl = { runs, max_runs, 0 };
	struct run_mark none = { 0, 0 };
	int rc;

	if (!a || !runs || !nruns || !want || !max_runs)
		return -EINVAL;
	*nruns = 0;
	if (want > a->free_blocks)
		return -ENOSPC;
	if (!goal || goal < a->first_data || goal >= a->nblocks)
		goal = a->cursor;
	rc = take_preferred(a, &rl, goal, want);
	if (rc) {
		/* start over, shape no longer matters: fewest runs */
		runs_undo(a, &rl, none);
		rc = take_fewest(a, &rl, goal, want);
		if (rc) {
			runs_undo(a, &rl, none);
			return -ENOSPC;
		}
	}
	a->cursor = runs_goal(a, &rl, goal);
	*nruns = rl.n;
	return 0;
}

uint64_t dl_alloc_free_blocks(const struct dl_alloc *a)
{
	return a->free_blocks;
}

bool dl_alloc_is_used(const struct dl_alloc *a, uint64_t block)
{
	if (block < a->first_data || block >= a->nblocks)
		return true;
	return a->bitmap[block >> 6] & (1ULL << (block & 63));
}

const uint64_t *dl_alloc_bitmap(const struct dl_alloc *a)
{
	return a->bitmap;
}

size_t dl_alloc_bitmap_words(const struct dl_alloc *a)
{
	return a->nwords;
}

uint64_t dl_alloc_nblocks(const struct dl_alloc *a)
{
	return a->nblocks;
}

uint64_t dl_alloc_first_data(const struct dl_alloc *a)
{
	return a->first_data;
}

static uint64_t largest_free_run(const struct dl_alloc *a)
{
	uint64_t s, e, pos = a->first_data, best = 0;

	while ((s = next_free(a, pos, a->nblocks)) < a->nblocks) {
		e = next_used(a, s, a->nblocks);
		best = max_u64(best, e - s);
		pos = e;
	}
	return best;
}

void dl_alloc_shape(const struct dl_alloc *a, uint64_t *free_pmd_chunks,
		    uint64_t *free_pud_chunks, uint64_t *largest)
{
	if (free_pmd_chunks)
		*free_pmd_chunks = a->free_pmds;
	if (free_pud_chunks)
		*free_pud_chunks = a->free_puds;
	if (largest)
		*largest = largest_free_run(a);
}

static bool pud_same(const struct pud_info *x, const struct pud_info *y)
{
	return x->free == y->free && x->free_pmds == y->free_pmds &&
	       x->free_pmd_run == y->free_pmd_run &&
	       x->best_partial == y->best_partial &&
	       !memcmp(x->free_pmd_bits, y->free_pmd_bits,
		       sizeof(x->free_pmd_bits));
}

int dl_alloc_verify(const struct dl_alloc *a)
{
	uint64_t c, p, free = 0, fpmds = 0, fpuds = 0;
	struct pud_info pi;
	unsigned i;

	if (!bits_all(a->bitmap, 0, a->first_data, true) ||
	    !bits_all(a->bitmap, a->nblocks, a->nwords << 6, false))
		return -EUCLEAN;
	for (c = 0; c < a->npmd; c++)
		if (a->pmd_free[c] != pmd_count_free(a, c) ||
		    a->partial_run[c] != pmd_partial_run(a, c))
			return -EUCLEAN;
	for (p = 0; p < a->npud; p++) {
		pud_summarize(a, p, &pi);
		if (!pud_same(&pi, &a->pud[p]))
			return -EUCLEAN;
		for (i = 0; i < IDX_NR; i++)
			if (bit_test(pud_idx(a, i), p) != pud_indexed(a, p, i))
				return -EUCLEAN;
		free += pi.free;
		fpmds += pi.free_pmds;
		fpuds += pi.free == PUD_BLOCKS;
	}
	if (free != a->free_blocks || fpmds != a->free_pmds ||
	    fpuds != a->free_puds)
		return -EUCLEAN;
	return 0;
}

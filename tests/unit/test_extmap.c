/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_extmap.c - the in-DRAM extent map against a per-block model.
 *
 * The model is an array "file block -> namespace block, state"; every
 * primitive is applied to both and the map must describe exactly the
 * model, in canonical form (sorted, disjoint, maximally merged).
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_run.h"
#include "extmap.h"

#define NB 256		/* model file size in blocks */
#define HOLE UINT64_MAX

struct model {
	uint64_t phys[NB];
	bool unwritten[NB];
};

static void model_init(struct model *md)
{
	for (int i = 0; i < NB; i++)
		md->phys[i] = HOLE;
	memset(md->unwritten, 0, sizeof(md->unwritten));
}

/* The map must equal the model, and be canonical. */
static void check_equal(const struct dl_extmap *m, const struct model *md)
{
	struct model got;

	model_init(&got);
	for (size_t i = 0; i < m->n; i++) {
		const struct dl_extent_rec *e = &m->ext[i];

		CU_ASSERT_FATAL(e->nblocks > 0);
		CU_ASSERT_FATAL(e->file_block + e->nblocks <= NB);
		if (i > 0) {
			const struct dl_extent_rec *p = &m->ext[i - 1];
			bool continues = p->file_block + p->nblocks ==
						 e->file_block &&
					 p->phys_block + p->nblocks ==
						 e->phys_block &&
					 p->flags == e->flags;

			CU_ASSERT_FATAL(p->file_block + p->nblocks <=
					e->file_block);
			CU_ASSERT(!continues);	/* canonical: merged */
		}
		for (uint64_t b = 0; b < e->nblocks; b++) {
			got.phys[e->file_block + b] = e->phys_block + b;
			got.unwritten[e->file_block + b] =
				e->flags & DL_EXTENT_F_UNWRITTEN;
		}
	}
	for (int b = 0; b < NB; b++) {
		CU_ASSERT_EQUAL_FATAL(got.phys[b], md->phys[b]);
		if (md->phys[b] != HOLE)
			CU_ASSERT_EQUAL_FATAL(got.unwritten[b],
					      md->unwritten[b]);
	}
}

static void test_insert_merges(void)
{
	struct dl_extmap m;

	dl_extmap_init(&m);
	CU_ASSERT_EQUAL(dl_extmap_reserve(&m, 8), 0);
	dl_extmap_insert(&m, 0, 100, 4, false);
	dl_extmap_insert(&m, 8, 108, 4, false);
	CU_ASSERT_EQUAL(m.n, 2);
	dl_extmap_insert(&m, 4, 104, 4, false);	/* bridges both */
	CU_ASSERT_EQUAL(m.n, 1);
	CU_ASSERT_EQUAL(m.ext[0].nblocks, 12);
	dl_extmap_insert(&m, 12, 500, 4, false);	/* not contiguous */
	CU_ASSERT_EQUAL(m.n, 2);
	dl_extmap_insert(&m, 16, 504, 4, true);	/* other state */
	CU_ASSERT_EQUAL(m.n, 3);
	CU_ASSERT_EQUAL(dl_extmap_total(&m), 20);
	CU_ASSERT_EQUAL(dl_extmap_end(&m), 20);
	dl_extmap_free(&m);
}

static void test_lookup(void)
{
	struct dl_extmap m;
	uint64_t phys = 0, run = 0;
	bool unw = false;

	dl_extmap_init(&m);
	CU_ASSERT_EQUAL(dl_extmap_reserve(&m, 8), 0);
	dl_extmap_insert(&m, 10, 1000, 5, true);
	CU_ASSERT_FALSE(dl_extmap_lookup(&m, 3, &phys, &unw, &run));
	CU_ASSERT_EQUAL(run, 7);
	CU_ASSERT_TRUE(dl_extmap_lookup(&m, 12, &phys, &unw, &run));
	CU_ASSERT_EQUAL(phys, 1002);
	CU_ASSERT_TRUE(unw);
	CU_ASSERT_EQUAL(run, 3);
	CU_ASSERT_FALSE(dl_extmap_lookup(&m, 15, &phys, &unw, &run));
	CU_ASSERT_EQUAL(run, UINT64_MAX);
	dl_extmap_free(&m);
}

static void test_remove_middle_splits(void)
{
	struct dl_extmap m;
	struct dl_prun_list out = { 0 };

	dl_extmap_init(&m);
	CU_ASSERT_EQUAL(dl_extmap_reserve(&m, 8), 0);
	CU_ASSERT_EQUAL(dl_prun_reserve(&out, 4), 0);
	dl_extmap_insert(&m, 0, 100, 10, false);
	dl_extmap_remove(&m, 3, 4, &out);
	CU_ASSERT_EQUAL(m.n, 2);
	CU_ASSERT_EQUAL(out.n, 1);
	CU_ASSERT_EQUAL(out.v[0].phys, 103);
	CU_ASSERT_EQUAL(out.v[0].len, 4);
	CU_ASSERT_EQUAL(m.ext[1].file_block, 7);
	CU_ASSERT_EQUAL(m.ext[1].phys_block, 107);
	dl_extmap_free(&m);
	dl_prun_free(&out);
}

/* Random primitives against the model: the operations fs_layout.c is
 * made of (allocate holes, punch, convert, collapse, insert). */
static void test_random_against_model(void)
{
	struct dl_extmap m;
	struct model md;
	uint64_t next_phys = 1000;

	srand(12345);
	dl_extmap_init(&m);
	model_init(&md);
	for (int step = 0; step < 20000; step++) {
		uint64_t a = (uint64_t)rand() % NB;
		uint64_t len = 1 + (uint64_t)rand() % 16;
		struct dl_prun_list out = { 0 };

		if (a + len > NB)
			len = NB - a;
		CU_ASSERT_EQUAL_FATAL(dl_extmap_reserve(&m, m.n + 4), 0);
		/* room for whatever either range could remove */
		CU_ASSERT_EQUAL_FATAL(
			dl_prun_reserve(&out,
					dl_extmap_count_range(&m, a, len) +
					dl_extmap_count_range(&m, NB - len, len)),
			0);
		switch (rand() % 5) {
		case 0: {	/* fill the holes of [a, a+len) */
			bool unw = rand() % 2;

			for (uint64_t b = a; b < a + len; b++) {
				if (md.phys[b] != HOLE)
					continue;
				CU_ASSERT_EQUAL_FATAL(
					dl_extmap_reserve(&m, m.n + 2), 0);
				/* sometimes contiguous, sometimes not */
				if (rand() % 3 == 0)
					next_phys += 7;
				dl_extmap_insert(&m, b, next_phys, 1, unw);
				md.phys[b] = next_phys++;
				md.unwritten[b] = unw;
			}
			break;
		}
		case 1: {	/* punch */
			uint64_t mapped = dl_extmap_mapped_in(&m, a, len);
			uint64_t removed = 0;

			dl_extmap_remove(&m, a, len, &out);
			for (size_t i = 0; i < out.n; i++)
				removed += out.v[i].len;
			CU_ASSERT_EQUAL_FATAL(removed, mapped);
			for (uint64_t b = a; b < a + len; b++)
				md.phys[b] = HOLE;
			break;
		}
		case 2: {	/* convert state */
			bool unw = rand() % 2;

			dl_extmap_set_state(&m, a, len, unw);
			for (uint64_t b = a; b < a + len; b++)
				md.unwritten[b] = unw;
			break;
		}
		case 3:	/* collapse [a, a+len): the tail moves down */
			dl_extmap_remove(&m, a, len, &out);
			dl_extmap_shift(&m, a + len, -(int64_t)len);
			dl_extmap_normalize(&m);
			for (uint64_t b = a; b < NB; b++) {
				md.phys[b] = b + len < NB ? md.phys[b + len]
							  : HOLE;
				md.unwritten[b] = b + len < NB &&
						  md.unwritten[b + len];
			}
			break;
		case 4:	/* insert [a, a+len): the tail moves up (and
			 * what passes NB is cut off first) */
			dl_extmap_remove(&m, NB - len, len, &out);
			dl_extmap_split(&m, a);
			dl_extmap_shift(&m, a, (int64_t)len);
			for (uint64_t b = NB; b-- > a + len;) {
				md.phys[b] = md.phys[b - len];
				md.unwritten[b] = md.unwritten[b - len];
			}
			for (uint64_t b = a; b < a + len; b++)
				md.phys[b] = HOLE;
			break;
		}
		dl_prun_free(&out);
		check_equal(&m, &md);
	}
	dl_extmap_free(&m);
}

static CU_TestInfo extmap_tests[] = {
	{ "insert merges neighbours", test_insert_merges },
	{ "lookup of holes and extents", test_lookup },
	{ "remove in the middle splits", test_remove_middle_splits },
	{ "20000 random primitives vs model", test_random_against_model },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "extmap", NULL, NULL, NULL, NULL, extmap_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return dl_cunit_main(suites);
}

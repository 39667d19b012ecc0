// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_service_dirty.c - the set of dirty records (service/dirty_set.c)
 * against a per-page model, and the AVL tree under it (service/tree.c).
 *
 * The model is a bitmap of dirty pages per inode.  With room to spare
 * the records must be exactly the model's maximal runs (adjacent and
 * overlapping ranges merge, nothing else does); at a small limit they
 * must cover every dirty page (merging over-approximates, it never
 * drops one), stay disjoint and never pass the limit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_run.h"
#include "dirty.h"

#define NINO 3
#define NPAGES 600
#define PG 4096ULL

static bool model[NINO + 1][NPAGES];

static uint64_t rnd_state = 88172645463325252ULL;

static uint64_t rnd(uint64_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state % n;
}

/* Every record, in id order through the paging call. */
static size_t records(const struct dl_dirty_set *s, struct dl_dirty **out,
		      size_t max)
{
	size_t n = 0;

	for (struct dl_dirty *d = dl_dirty_set_after(s, 0); d && n < max;
	     d = dl_dirty_set_after(s, d->id))
		out[n++] = d;
	return n;
}

/* Ids strictly increase along the paging order, and count is right. */
static void check_paging(const struct dl_dirty_set *s)
{
	static struct dl_dirty *v[NINO * NPAGES];
	size_t n = records(s, v, NINO * NPAGES);

	CU_ASSERT_EQUAL(n, s->count);
	for (size_t i = 1; i < n; i++)
		CU_ASSERT_TRUE(v[i - 1]->id < v[i]->id);
	if (n)
		CU_ASSERT_PTR_EQUAL(dl_dirty_set_oldest(s), v[0]);
}

/* ino's records are sorted, disjoint, not touching, and cover the model
 * (exactly, when exact). */
static void check_ino(const struct dl_dirty_set *s, uint32_t ino, bool exact)
{
	static bool seen[NPAGES];
	uint64_t prev_end = 0;
	bool first = true;

	memset(seen, 0, sizeof(seen));
	for (struct dl_dirty *d = dl_dirty_set_first_of(s, ino); d;
	     d = dl_dirty_set_next_of(s, d)) {
		CU_ASSERT_EQUAL(d->ino, ino);
		CU_ASSERT_TRUE(d->length > 0);
		if (!first)
			CU_ASSERT_TRUE(d->offset > prev_end);
		first = false;
		prev_end = d->offset + d->length;
		for (uint64_t p = d->offset / PG; p < prev_end / PG; p++)
			seen[p] = true;
	}
	for (int p = 0; p < NPAGES; p++) {
		if (model[ino][p] && !seen[p]) {
			CU_FAIL("a dirty page has no record");
			return;
		}
		if (exact && seen[p] != model[ino][p]) {
			CU_FAIL("a record covers a clean page");
			return;
		}
	}
}

static void check_all(const struct dl_dirty_set *s, bool exact)
{
	for (uint32_t ino = 1; ino <= NINO; ino++)
		check_ino(s, ino, exact);
	check_paging(s);
}

static void add(struct dl_dirty_set *s, uint32_t ino, uint64_t page,
		uint64_t npages, int64_t now)
{
	CU_ASSERT_EQUAL(dl_dirty_set_add(s, ino, page * PG, npages * PG, now),
			0);
	for (uint64_t p = page; p < page + npages; p++)
		model[ino][p] = true;
}

static void random_adds(struct dl_dirty_set *s, int n, bool exact)
{
	for (int i = 0; i < n; i++) {
		uint32_t ino = 1 + (uint32_t)rnd(NINO);
		uint64_t page = rnd(NPAGES - 8), len = 1 + rnd(8);

		add(s, ino, page, len, i);
		if (i % 97 == 0)
			check_all(s, exact);
	}
	check_all(s, exact);
}

static void test_exact_merges(void)
{
	struct dl_dirty_set s;

	memset(model, 0, sizeof(model));
	dl_dirty_set_init(&s, 1 << 20);
	random_adds(&s, 3000, true);
	dl_dirty_set_clear(&s);
	CU_ASSERT_EQUAL(s.count, 0);
	CU_ASSERT_PTR_NULL(dl_dirty_set_oldest(&s));
}

static void test_adjacent_one_record(void)
{
	struct dl_dirty_set s;

	memset(model, 0, sizeof(model));
	dl_dirty_set_init(&s, 1 << 20);
	/* every page of ino 1 in a scattered order: one record at the end */
	for (uint64_t i = 0; i < NPAGES; i++)
		add(&s, 1, i * 7 % NPAGES, 1, (int64_t)i);
	CU_ASSERT_EQUAL(s.count, 1);
	CU_ASSERT_EQUAL(dl_dirty_set_oldest(&s)->offset, 0);
	CU_ASSERT_EQUAL(dl_dirty_set_oldest(&s)->length, NPAGES * PG);
	/* the merged record keeps the age of its oldest part */
	CU_ASSERT_EQUAL(dl_dirty_set_oldest(&s)->since_ns, 0);
	/* a range inside it changes nothing */
	CU_ASSERT_EQUAL(dl_dirty_set_add(&s, 1, 5 * PG, PG, 9999), 0);
	CU_ASSERT_EQUAL(s.count, 1);
	check_all(&s, true);
	dl_dirty_set_clear(&s);
}

static void test_limit_over_approximates(void)
{
	struct dl_dirty_set s;

	memset(model, 0, sizeof(model));
	dl_dirty_set_init(&s, 10);
	/* pages two apart never touch: only the limit merges them */
	for (uint64_t i = 0; i < NPAGES / 2; i++) {
		uint32_t ino = 1 + (uint32_t)(i % NINO);

		add(&s, ino, 2 * (i * 7 % (NPAGES / 2)), 1, (int64_t)i);
		CU_ASSERT_TRUE(s.count <= 10);
	}
	CU_ASSERT_TRUE(s.merged_at_limit > 0);
	check_all(&s, false);
	random_adds(&s, 2000, false);
	CU_ASSERT_TRUE(s.count <= 10);
	dl_dirty_set_clear(&s);
}

/* A full set and a file with no record: the caller must make room. */
static void test_full_needs_room(void)
{
	struct dl_dirty_set s;

	dl_dirty_set_init(&s, 2);
	CU_ASSERT_EQUAL(dl_dirty_set_add(&s, 1, 0, PG, 1), 0);
	CU_ASSERT_EQUAL(dl_dirty_set_add(&s, 2, 0, PG, 2), 0);
	CU_ASSERT_EQUAL(dl_dirty_set_add(&s, 3, 0, PG, 3), -ENOSPC);
	CU_ASSERT_EQUAL(s.count, 2);
	dl_dirty_set_remove(&s, dl_dirty_set_oldest(&s));
	CU_ASSERT_EQUAL(dl_dirty_set_add(&s, 3, 0, PG, 3), 0);
	CU_ASSERT_PTR_NULL(dl_dirty_set_first_of(&s, 1));
	CU_ASSERT_EQUAL(dl_dirty_set_oldest(&s)->ino, 2);
	dl_dirty_set_clear(&s);
}

static void test_forget_trim_remove(void)
{
	struct dl_dirty_set s;
	struct dl_dirty *d;

	memset(model, 0, sizeof(model));
	dl_dirty_set_init(&s, 1 << 20);
	random_adds(&s, 500, true);
	dl_dirty_set_forget(&s, 2);
	memset(model[2], 0, sizeof(model[2]));
	CU_ASSERT_PTR_NULL(dl_dirty_set_first_of(&s, 2));
	check_all(&s, true);

	/* trim the first record of ino 1 by a page, if it has two */
	d = dl_dirty_set_first_of(&s, 1);
	if (d && d->length > PG) {
		model[1][d->offset / PG] = false;
		dl_dirty_set_trim(d, d->offset + PG);
		check_all(&s, true);
	}
	/* remove everything, oldest first */
	while ((d = dl_dirty_set_oldest(&s))) {
		for (uint64_t p = d->offset / PG;
		     p < (d->offset + d->length) / PG; p++)
			model[d->ino][p] = false;
		dl_dirty_set_remove(&s, d);
		if (s.count % 13 == 0)
			check_all(&s, true);
	}
	CU_ASSERT_EQUAL(s.count, 0);
}

/* ---- the tree itself ------------------------------------------------- */

struct item {
	struct dl_tree_node node;
	int key;
};

static int cmp_item(const struct dl_tree_node *n, const void *key)
{
	int a = ((const struct item *)n)->key, b = *(const int *)key;

	return a < b ? -1 : a > b;
}

/* Height of the subtree if every node is AVL-balanced, else -1. */
static int balanced(const struct dl_tree_node *n)
{
	int l, r;

	if (!n)
		return 0;
	l = balanced(n->left);
	r = balanced(n->right);
	if (l < 0 || r < 0 || abs(l - r) > 1 || n->height != 1 + (l > r ? l : r))
		return -1;
	return n->height;
}

static void test_tree_balance_and_order(void)
{
	enum { N = 4000 };
	static struct item items[N];
	static bool in[N];
	struct dl_tree_node *root = NULL;

	memset(in, 0, sizeof(in));
	for (int i = 0; i < 20000; i++) {
		int k = (int)rnd(N);

		if (in[k]) {
			CU_ASSERT_PTR_EQUAL(dl_tree_remove(&root, &k, cmp_item),
					    &items[k].node);
		} else {
			items[k].key = k;
			dl_tree_insert(&root, &items[k].node, &k, cmp_item);
		}
		in[k] = !in[k];
	}
	CU_ASSERT_TRUE(balanced(root) >= 0);
	for (int k = 0; k < N; k++) {
		struct dl_tree_node *f = dl_tree_floor(root, &k, cmp_item);
		struct dl_tree_node *c = dl_tree_ceil(root, &k, cmp_item);
		struct dl_tree_node *a = dl_tree_above(root, &k, cmp_item);
		int fk = -1, ck = N, ak = N;

		for (int j = k; j >= 0 && fk < 0; j--)
			if (in[j])
				fk = j;
		for (int j = k; j < N && ck == N; j++)
			if (in[j])
				ck = j;
		for (int j = k + 1; j < N && ak == N; j++)
			if (in[j])
				ak = j;
		CU_ASSERT_EQUAL(f ? ((struct item *)f)->key : -1, fk);
		CU_ASSERT_EQUAL(c ? ((struct item *)c)->key : N, ck);
		CU_ASSERT_EQUAL(a ? ((struct item *)a)->key : N, ak);
	}
	{
		int k = -1;

		CU_ASSERT_PTR_NULL(dl_tree_remove(&root, &k, cmp_item));
	}
}

static CU_TestInfo tests[] = {
	{ "random ranges merge exactly", test_exact_merges },
	{ "adjacent pages become one record", test_adjacent_one_record },
	{ "the limit merges neighbours, losing nothing",
	  test_limit_over_approximates },
	{ "a full set asks for room", test_full_needs_room },
	{ "forget, trim, remove", test_forget_trim_remove },
	{ "AVL tree: balanced, floor/ceil/above", test_tree_balance_and_order },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "dirty set", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return dl_cunit_main(suites);
}

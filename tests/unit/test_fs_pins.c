/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_fs_pins.c - pin records on the namespace (pmem/fs_pins.c): set,
 * replace, list, retain, the limits, and what a reopen and the checker
 * see.  (tests/crash sets them at every persist point.)
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_run.h"
#include "fs_fixture.h"
#include "fs_private.h"

#define KiB 1024ULL
#define MiB (1024 * KiB)

static struct fs_fixture fx;

static struct dl_pin_owner owner(uint32_t pid)
{
	struct dl_pin_owner o = { .pid = pid, .token = 9, .start_time = 77 };

	o.boot_id[3] = 0x42;
	return o;
}

/* o's records, in slot order; how many. */
static size_t records_of(const struct dl_pin_owner *o, struct dl_ns_range *out,
			 size_t max)
{
	struct dl_pin_record *all;
	size_t n = 0, k = 0;

	dl_fs_pins_list(fx.fs, NULL, 0, &n);
	all = calloc(n ? n : 1, sizeof(*all));
	CU_ASSERT_FATAL(all != NULL);
	dl_fs_pins_list(fx.fs, all, n, &n);
	for (size_t i = 0; i < n; i++)
		if (dl_pin_owner_eq(&all[i].owner, o)) {
			if (k < max)
				out[k] = all[i].range;
			k++;
		}
	free(all);
	return k;
}

static int suite_init(void)
{
	return fx_create(&fx, "pins.img", 64 * MiB, 2 * MiB) ? -1 : 0;
}

static int suite_clean(void)
{
	fx_close(&fx);
	return 0;
}

static void test_set_list_reopen(void)
{
	struct dl_pin_owner a = owner(100), b = owner(200);
	struct dl_ns_range ra[3] = {
		{ 1 * MiB, 64 * KiB }, { 8 * MiB, 2 * MiB }, { 4096, 4096 },
	};
	struct dl_ns_range rb[1] = { { 16 * MiB, 4 * KiB } }, got[8];
	size_t cap = dl_fs_pins_capacity(fx.fs);

	CU_ASSERT_EQUAL(cap, 64 * 64);	/* 64 blocks of 64-byte slots */
	CU_ASSERT_EQUAL(dl_fs_pins_set(fx.fs, &a, ra, 3, NULL), 0);
	CU_ASSERT_EQUAL(dl_fs_pins_set(fx.fs, &b, rb, 1, NULL), 0);
	CU_ASSERT_EQUAL(dl_fs_pins_unused(fx.fs), cap - 4);
	CU_ASSERT_EQUAL_FATAL(fx_reopen(&fx), 0);
	CU_ASSERT_EQUAL_FATAL(records_of(&a, got, 8), 3);
	CU_ASSERT_EQUAL(memcmp(got, ra, sizeof(ra)), 0);
	CU_ASSERT_EQUAL_FATAL(records_of(&b, got, 8), 1);
	CU_ASSERT_EQUAL(got[0].ns_offset, 16 * MiB);
	/* the same pid with another start time is another process */
	{
		struct dl_pin_owner a2 = a;

		a2.start_time++;
		CU_ASSERT_EQUAL(records_of(&a2, got, 8), 0);
	}
	CU_ASSERT_EQUAL(fx_check(&fx), 0);
}

static void test_replace_and_remove(void)
{
	struct dl_pin_owner a = owner(100), b = owner(200);
	struct dl_ns_range one = { 32 * MiB, 8 * KiB }, got[8];
	size_t before = dl_fs_pins_unused(fx.fs);

	/* three become one, in place: two slots come free */
	CU_ASSERT_EQUAL(dl_fs_pins_set(fx.fs, &a, &one, 1, NULL), 0);
	CU_ASSERT_EQUAL(dl_fs_pins_unused(fx.fs), before + 2);
	CU_ASSERT_EQUAL_FATAL(records_of(&a, got, 8), 1);
	CU_ASSERT_EQUAL(got[0].ns_offset, 32 * MiB);
	CU_ASSERT_EQUAL(records_of(&b, got, 8), 1);	/* untouched */
	/* the same set again writes nothing */
	{
		uint64_t tx = fx.fs->j.commits;

		CU_ASSERT_EQUAL(dl_fs_pins_set(fx.fs, &a, &one, 1, NULL), 0);
		CU_ASSERT_EQUAL(fx.fs->j.commits, tx);
	}
	CU_ASSERT_EQUAL(dl_fs_pins_set(fx.fs, &a, NULL, 0, NULL), 0);
	CU_ASSERT_EQUAL(records_of(&a, got, 8), 0);
	CU_ASSERT_EQUAL_FATAL(fx_reopen(&fx), 0);
	CU_ASSERT_EQUAL(records_of(&a, got, 8), 0);
	CU_ASSERT_EQUAL(records_of(&b, got, 8), 1);
}

static void test_bad_ranges(void)
{
	struct dl_pin_owner a = owner(300);
	struct dl_ns_range bad[] = {
		{ 4095, 4096 },			/* unaligned offset */
		{ 0, 100 },			/* unaligned length */
		{ 0, 0 },			/* empty */
		{ 64 * MiB, 4096 },		/* past the end */
		{ UINT64_MAX - 4095, 8192 },	/* wraps */
	};
	struct dl_err err = { 0 };
	struct dl_ns_range got[2];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(dl_fs_pins_set(fx.fs, &a, &bad[i], 1, &err),
				-EINVAL);
		CU_ASSERT_EQUAL(records_of(&a, got, 2), 0);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "aligned"));
}

/* A full area: -ENOSPC with a message, and nothing changed. */
static void test_full(void)
{
	struct dl_ns_range r[64], got[70];
	struct dl_err err = { 0 };
	uint32_t pid = 1000;
	struct dl_pin_owner o;

	for (int i = 0; i < 64; i++)
		r[i] = (struct dl_ns_range){ (uint64_t)i * 2 * 4096, 4096 };
	while (dl_fs_pins_unused(fx.fs) >= 64) {
		o = owner(pid++);
		CU_ASSERT_EQUAL_FATAL(dl_fs_pins_set(fx.fs, &o, r, 64, NULL), 0);
	}
	o = owner(pid);
	CU_ASSERT_EQUAL(dl_fs_pins_set(fx.fs, &o, r, 64, &err), -ENOSPC);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "full"));
	CU_ASSERT_EQUAL(records_of(&o, got, 70), 0);
	/* an owner's own slots count as free for its new set */
	o = owner(1000);
	CU_ASSERT_EQUAL(dl_fs_pins_set(fx.fs, &o, r, 64, NULL), 0);
	CU_ASSERT_EQUAL(records_of(&o, got, 70), 64);
}

static bool keep_even(const struct dl_pin_owner *o, void *arg)
{
	(void)arg;
	return o->pid % 2 == 0;
}

static void test_retain(void)
{
	struct dl_pin_record *all;
	size_t n = 0;

	CU_ASSERT_EQUAL(dl_fs_pins_retain(fx.fs, keep_even, NULL, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(fx_reopen(&fx), 0);
	dl_fs_pins_list(fx.fs, NULL, 0, &n);
	CU_ASSERT(n > 0);
	all = calloc(n, sizeof(*all));
	CU_ASSERT_FATAL(all != NULL);
	dl_fs_pins_list(fx.fs, all, n, &n);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL(all[i].owner.pid % 2, 0);
	free(all);
	CU_ASSERT_EQUAL(fx_check(&fx), 0);
}

/* A damaged record: the open refuses, the checker names it. */
static void test_damaged_record(void)
{
	struct dl_pin_rec *media = dl_fs_block(fx.fs, fx.fs->sb.pins.start);
	struct dl_check_report *rep = calloc(1, sizeof(*rep));
	struct dl_err err = { 0 };
	struct dl_fs *fs2 = NULL;

	CU_ASSERT_FATAL(rep != NULL);
	media[5].flags = DL_PINREC_F_USED;
	media[5].ns_offset = 12345;	/* not aligned */
	media[5].length = 4096;
	CU_ASSERT_EQUAL(dl_fs_open(fx.ns, &fs2, &err), -EUCLEAN);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "pin record 5"));
	CU_ASSERT_EQUAL(dl_fs_check(fx.ns, rep, &err), 0);
	CU_ASSERT(rep->nproblems >= 1);
	CU_ASSERT_STRING_EQUAL(rep->problems[0].kind, "pin-record-invalid");
	memset(&media[5], 0, sizeof(media[5]));
	free(rep);
}

static CU_TestInfo tests[] = {
	{ "set, list, reopen", test_set_list_reopen },
	{ "replace in place, remove", test_replace_and_remove },
	{ "bad ranges: EINVAL", test_bad_ranges },
	{ "a full area: ENOSPC, nothing changed", test_full },
	{ "retain", test_retain },
	{ "a damaged record", test_damaged_record },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "fs_pins", suite_init, suite_clean, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return dl_cunit_main(suites);
}

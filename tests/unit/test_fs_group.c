/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_fs_group.c - group commit (fs.h, dl_fs_set_group_commit): what
 * commits a batch of writes, and that a batch whose writes change the
 * same objects back and forth leaves them right on media.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "cunit_run.h"
#include "fs_fixture.h"

static struct fs_fixture fx;

static int setup(void)
{
	return fx_create(&fx, "group.img", 64 * DL_MiB, 4096);
}

static int teardown(void)
{
	fx_close(&fx);
	return 0;
}

static dl_ino_t make_file(const char *name)
{
	dl_ino_t ino = 0;

	CU_ASSERT_EQUAL_FATAL(dl_fs_create(fx.fs, name, 0644, 0, 0, &ino,
					   NULL), 0);
	return ino;
}

static void write_block(dl_ino_t ino, uint64_t blk, uint8_t v)
{
	uint8_t buf[4096];

	memset(buf, v, sizeof(buf));
	CU_ASSERT_EQUAL(dl_fs_write(fx.fs, ino, blk * 4096, buf, sizeof(buf),
				    NULL), 4096);
}

/* Writes join a batch; fsync, another change and close commit it. */
static void test_what_commits_a_batch(void)
{
	dl_ino_t ino = make_file("batched");

	dl_fs_set_group_commit(fx.fs, true);
	write_block(ino, 0, 1);
	write_block(ino, 1, 2);
	CU_ASSERT_EQUAL(dl_fs_unsynced_writes(fx.fs), 2);
	CU_ASSERT_EQUAL(dl_fs_sync(fx.fs, NULL), 0);
	CU_ASSERT_EQUAL(dl_fs_unsynced_writes(fx.fs), 0);
	write_block(ino, 2, 3);
	CU_ASSERT_EQUAL(dl_fs_unsynced_writes(fx.fs), 1);
	/* a change that is not a write commits the writes before it */
	make_file("other");
	CU_ASSERT_EQUAL(dl_fs_unsynced_writes(fx.fs), 0);
	write_block(ino, 3, 4);
	/* a clean close commits what is left */
	CU_ASSERT_EQUAL_FATAL(fx_reopen(&fx), 0);
	{
		struct dl_stat st;

		CU_ASSERT_EQUAL(dl_fs_stat(fx.fs, ino, &st), 0);
		CU_ASSERT_EQUAL(st.size, 4 * 4096);
	}
	CU_ASSERT_EQUAL(fx_check(&fx), 0);
}

/*
 * One batch in which extents come and go again: eight separate blocks
 * make eight more extents, the blocks between them then fill the gaps.
 * Whatever the map does on the way, media must hold its last state
 * (check-namespace clean, the data where it was written).  (This did
 * not reproduce the stale-line bug fs_commit.c's dl_fs_tx_diff explains
 * - the kill test found that one - but guards the same ground.)
 */
static void test_extents_that_come_and_go(void)
{
	dl_ino_t ino = make_file("merged");
	struct dl_stat st;
	uint8_t b;

	dl_fs_set_group_commit(fx.fs, false);
	for (uint64_t i = 0; i < 8; i++)
		write_block(ino, 2 * i, (uint8_t)i);
	dl_fs_set_group_commit(fx.fs, true);
	for (uint64_t i = 0; i < 8; i++)
		write_block(ino, 100 + 2 * i, (uint8_t)(100 + 2 * i));
	for (uint64_t i = 0; i < 7; i++)
		write_block(ino, 101 + 2 * i, (uint8_t)(101 + 2 * i));
	CU_ASSERT_EQUAL(dl_fs_sync(fx.fs, NULL), 0);
	CU_ASSERT_EQUAL(fx_check(&fx), 0);
	CU_ASSERT_EQUAL_FATAL(fx_reopen(&fx), 0);
	CU_ASSERT_EQUAL(dl_fs_stat(fx.fs, ino, &st), 0);
	CU_ASSERT_EQUAL(st.size, 115 * 4096);
	for (uint64_t blk = 100; blk < 115; blk++) {
		CU_ASSERT_EQUAL(dl_fs_read(fx.fs, ino, blk * 4096 + 17, &b, 1,
					   NULL), 1);
		CU_ASSERT_EQUAL(b, (uint8_t)blk);
	}
}

static CU_TestInfo tests[] = {
	{ "fsync, another change and close commit a batch", test_what_commits_a_batch },
	{ "extents that come and go in one batch", test_extents_that_come_and_go },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "fs group commit", setup, teardown, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return dl_cunit_main(suites);
}

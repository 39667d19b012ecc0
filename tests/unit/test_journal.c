/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_journal.c - the redo log on its own: commit, replay, torn and
 * malformed transactions, capacity.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <string.h>

#include "cunit_run.h"
#include "fs_fixture.h"
#include "crc.h"
#include "fs_private.h"

static struct fs_fixture fx;

/* A scratch byte range in a free data block near the end (the bits the
 * tests set are further on): bytes the journal may write that no file
 * or table reads. */
static uint64_t scratch_off(void)
{
	return (fx.fs->sb.nblocks - 20) * DL_BLOCK_SIZE;
}

static void test_commit_applies_and_counts_two_points(void)
{
	struct dl_journal *j = &fx.fs->j;
	struct dl_persist_stats a, b;
	uint8_t data[100];

	memset(data, 0xab, sizeof(data));
	dl_ns_persist_stats(fx.ns, &a);
	CU_ASSERT_EQUAL(dl_tx_bytes(j, scratch_off(), data, sizeof(data)), 0);
	CU_ASSERT_EQUAL(dl_tx_commit(j), 0);
	dl_ns_persist_stats(fx.ns, &b);
	CU_ASSERT_EQUAL(b.drains - a.drains, 2);	/* commit + apply */
	CU_ASSERT_EQUAL(memcmp(fx.fs->base + scratch_off(), data,
			       sizeof(data)), 0);
	/* the committed transaction stays replayable until overwritten */
	CU_ASSERT_EQUAL(dl_journal_pending(j), 1);
}

/* Write a committed transaction into the journal without applying it:
 * the state after a crash between the two persist points. */
static void commit_without_apply(const void *data, size_t len)
{
	struct dl_journal *j = &fx.fs->j;
	struct dl_journal_hdr h = { 0 };

	CU_ASSERT_EQUAL(dl_tx_bytes(j, scratch_off(), data, len), 0);
	CU_ASSERT_EQUAL(dl_tx_bits(j, fx.fs->sb.nblocks - 10, 3, true), 0);
	/* commit normally, then undo the home writes by hand */
	CU_ASSERT_EQUAL(dl_tx_commit(j), 0);
	memcpy(&h, j->area, sizeof(h));
	CU_ASSERT_EQUAL(h.magic, DL_JOURNAL_MAGIC);
	memset(fx.fs->base + scratch_off(), 0, len);
	for (uint64_t b = fx.fs->sb.nblocks - 10; b < fx.fs->sb.nblocks - 7; b++)
		j->bitmap[b >> 3] &= (uint8_t)~(1u << (b & 7));
}

static void test_recovery_replays_committed(void)
{
	uint8_t data[300];
	const uint8_t *home;

	memset(data, 0x5c, sizeof(data));
	commit_without_apply(data, sizeof(data));
	/* close without the clean-close journal reset: reopen as after a
	 * crash */
	fx.fs->broken = true;
	CU_ASSERT_EQUAL_FATAL(fx_reopen(&fx), 0);
	CU_ASSERT_EQUAL(fx.fs->recovered, 1);
	home = fx.fs->base + scratch_off();
	CU_ASSERT_EQUAL(memcmp(home, data, sizeof(data)), 0);
	CU_ASSERT_TRUE(dl_alloc_is_used(fx.fs->alloc, fx.fs->sb.nblocks - 9));
	CU_ASSERT_EQUAL(dl_journal_pending(&fx.fs->j), 0);
	/* release the three test blocks so the checker stays clean */
	CU_ASSERT_EQUAL(dl_tx_bits(&fx.fs->j, fx.fs->sb.nblocks - 10, 3,
				   false), 0);
	CU_ASSERT_EQUAL(dl_tx_commit(&fx.fs->j), 0);
	CU_ASSERT_EQUAL(fx_reopen(&fx), 0);
	CU_ASSERT_EQUAL(fx_check(&fx), 0);
}

static void test_torn_commit_is_ignored(void)
{
	uint8_t data[64];
	struct dl_journal *j;

	memset(data, 0x77, sizeof(data));
	commit_without_apply(data, sizeof(data));
	j = &fx.fs->j;
	/* tear the record area: the checksum no longer matches */
	j->area[sizeof(struct dl_journal_hdr) + 30] ^= 0xff;
	fx.fs->broken = true;
	CU_ASSERT_EQUAL_FATAL(fx_reopen(&fx), 0);
	CU_ASSERT_EQUAL(fx.fs->recovered, 0);
	CU_ASSERT_NOT_EQUAL(fx.fs->base[scratch_off()], 0x77);
	CU_ASSERT_EQUAL(fx_check(&fx), 0);
}

static void test_malformed_committed_is_refused(void)
{
	struct dl_journal *j = &fx.fs->j;
	struct dl_journal_hdr h = { 0 };
	struct dl_jrec r = { .type = DL_JREC_BYTES, .len = 8,
			     .off = j->ns_size - 4 };	/* runs off the end */
	struct dl_err err = { 0 };
	struct dl_fs *fs2 = NULL;
	uint64_t crc;

	h.magic = DL_JOURNAL_MAGIC;
	h.seq = 99;
	h.length = sizeof(r) + 8;
	h.nrecords = 1;
	memset(j->area + sizeof(h), 0, h.length);
	memcpy(j->area + sizeof(h), &r, sizeof(r));
	crc = dl_crc64(0, &h, sizeof(h));
	h.checksum = dl_crc64(crc, j->area + sizeof(h), h.length);
	memcpy(j->area, &h, sizeof(h));
	fx.fs->broken = true;
	dl_fs_close(&fx.fs);
	CU_ASSERT_EQUAL(dl_fs_open(fx.ns, &fs2, &err), -EUCLEAN);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "malformed"));
	/* the namespace is unchanged: still refused on the next open */
	CU_ASSERT_EQUAL(fx_reopen(&fx), -EUCLEAN);
	fx_close(&fx);
}

static void test_capacity(void)
{
	struct dl_journal j2;
	static uint8_t big[64 * 1024];

	CU_ASSERT_EQUAL_FATAL(fx_create(&fx, "journal2.img", 16 * DL_MiB,
					4096), 0);
	j2 = fx.fs->j;	/* same area, private buffer */
	j2.buf = NULL;
	j2.cap = j2.len = 0;
	j2.nrecords = 0;
	j2.ranges = NULL;
	j2.nranges = j2.ranges_cap = 0;
	for (size_t i = 0; dl_tx_size(&j2) <= dl_journal_capacity(&j2); i++)
		CU_ASSERT_EQUAL_FATAL(dl_tx_bytes(&j2, scratch_off(), big,
						  sizeof(big)), 0);
	CU_ASSERT_EQUAL(dl_tx_commit(&j2), -EFBIG);
	CU_ASSERT_EQUAL(dl_journal_pending(&j2), 0);	/* nothing written */
	dl_journal_fini(&j2);
}

static int setup(void)
{
	return fx_create(&fx, "journal.img", 16 * DL_MiB, 4096);
}

static int teardown(void)
{
	fx_close(&fx);
	return 0;
}

static CU_TestInfo tests[] = {
	{ "commit applies with two persist points", test_commit_applies_and_counts_two_points },
	{ "recovery replays a committed transaction", test_recovery_replays_committed },
	{ "a torn commit is not replayed", test_torn_commit_is_ignored },
	{ "a malformed committed transaction is refused", test_malformed_committed_is_refused },
	{ "a transaction larger than the journal fails whole", test_capacity },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "journal", setup, teardown, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return dl_cunit_main(suites);
}

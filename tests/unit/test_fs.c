/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_fs.c - filesystem semantics: names, rename/unlink, a full
 * namespace, detached blocks, badblocks, aligned placement, corrupt
 * filesystems.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cunit_run.h"
#include "fs_fixture.h"
#include "fs_private.h"
#include "image_edit.h"

static struct fs_fixture fx;
static uint8_t buf[4 * 1024 * 1024];

static uint64_t free_blocks(void)
{
	struct dl_statfs st;

	dl_fs_statfs(fx.fs, &st);
	return st.free_blocks;
}

static dl_ino_t mkfile(const char *name, uint64_t size)
{
	dl_ino_t ino = 0;

	CU_ASSERT_EQUAL_FATAL(dl_fs_create(fx.fs, name, 0644, 1, 2, &ino,
					   NULL), 0);
	memset(buf, 0x3c, size < sizeof(buf) ? size : sizeof(buf));
	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);

		CU_ASSERT_EQUAL_FATAL(dl_fs_write(fx.fs, ino, off, buf, n, NULL),
				      (ssize_t)n);
	}
	return ino;
}

static void test_names(void)
{
	char long_name[300];
	struct dl_err err;
	dl_ino_t ino;

	CU_ASSERT_EQUAL(dl_fs_create(fx.fs, "a/b", 0644, 0, 0, NULL, &err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "flat"));
	CU_ASSERT_EQUAL(dl_fs_create(fx.fs, "", 0644, 0, 0, NULL, &err), -ENOENT);
	CU_ASSERT_EQUAL(dl_fs_create(fx.fs, "..", 0644, 0, 0, NULL, &err),
			-EINVAL);
	memset(long_name, 'x', sizeof(long_name));
	long_name[256] = '\0';
	CU_ASSERT_EQUAL(dl_fs_create(fx.fs, long_name, 0644, 0, 0, NULL, &err),
			-ENAMETOOLONG);
	long_name[255] = '\0';
	CU_ASSERT_EQUAL(dl_fs_create(fx.fs, long_name, 0644, 0, 0, &ino, &err),
			0);
	CU_ASSERT_EQUAL(dl_fs_create(fx.fs, long_name, 0644, 0, 0, NULL, &err),
			-EEXIST);
	CU_ASSERT_EQUAL(fx_reopen(&fx), 0);
	CU_ASSERT_EQUAL(dl_fs_lookup(fx.fs, long_name, &ino), 0);
	CU_ASSERT_EQUAL(dl_fs_unlink(fx.fs, long_name, 0, NULL), 0);
	CU_ASSERT_EQUAL(dl_fs_lookup(fx.fs, long_name, &ino), -ENOENT);
	CU_ASSERT_EQUAL(dl_fs_unlink(fx.fs, long_name, 0, &err), -ENOENT);
}

static void test_rename(void)
{
	uint64_t before = free_blocks();
	dl_ino_t a, b, ino;
	struct dl_stat st;
	struct dl_err err;

	a = mkfile("ren-a", 100000);
	b = mkfile("ren-b", 300000);
	CU_ASSERT_EQUAL(dl_fs_rename(fx.fs, "ren-a", "ren-b",
				     DL_RENAME_NOREPLACE, 0, &err), -EEXIST);
	CU_ASSERT_EQUAL(dl_fs_rename(fx.fs, "ren-a", "ren-a", 0, 0, &err), 0);
	CU_ASSERT_EQUAL(dl_fs_rename(fx.fs, "nope", "x", 0, 0, &err), -ENOENT);
	/* replacing b frees b's blocks */
	CU_ASSERT_EQUAL(dl_fs_rename(fx.fs, "ren-a", "ren-b", 0, 0, &err), 0);
	CU_ASSERT_EQUAL(dl_fs_lookup(fx.fs, "ren-b", &ino), 0);
	CU_ASSERT_EQUAL(ino, a);
	CU_ASSERT_EQUAL(dl_fs_stat(fx.fs, b, &st), -ENOENT);
	CU_ASSERT_EQUAL(dl_fs_stat(fx.fs, a, &st), 0);
	CU_ASSERT_EQUAL(st.size, 100000);
	CU_ASSERT_STRING_EQUAL(st.name, "ren-b");
	CU_ASSERT_EQUAL(fx_check(&fx), 0);
	CU_ASSERT_EQUAL(dl_fs_unlink(fx.fs, "ren-b", 0, NULL), 0);
	CU_ASSERT_EQUAL(free_blocks(), before);
}

static void test_full_namespace_loses_nothing(void)
{
	uint64_t before = free_blocks(), free_then;
	dl_ino_t ino = mkfile("filler", 0), other = mkfile("other", 8192);
	struct dl_stat st, st2;
	struct dl_err err;
	uint64_t off = 0;
	ssize_t rc;

	memset(buf, 0x42, sizeof(buf));
	while ((rc = dl_fs_write(fx.fs, ino, off, buf, sizeof(buf), &err)) > 0)
		off += (uint64_t)rc;
	CU_ASSERT_EQUAL(rc, -ENOSPC);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no space"));
	dl_fs_stat(fx.fs, ino, &st);
	free_then = free_blocks();
	CU_ASSERT_EQUAL(st.size, off);	/* the failed write changed nothing */
	/* every other allocating operation fails the same way, whole */
	CU_ASSERT_EQUAL(dl_fs_fallocate(fx.fs, other, 0, 0, 64 * DL_MiB, 0,
					&err), -ENOSPC);
	CU_ASSERT_EQUAL(dl_fs_truncate(fx.fs, other, 1 * DL_GiB, 0, &err), 0);
	dl_fs_stat(fx.fs, other, &st2);
	CU_ASSERT_EQUAL(st2.nblocks, 2);
	CU_ASSERT_EQUAL(free_blocks(), free_then);
	/* the data written before is intact, and the checker agrees */
	CU_ASSERT_EQUAL(dl_fs_read(fx.fs, ino, off - 10, buf, 10, NULL), 10);
	CU_ASSERT_EQUAL(buf[9], 0x42);
	CU_ASSERT_EQUAL(fx_check(&fx), 0);
	CU_ASSERT_EQUAL(dl_fs_unlink(fx.fs, "filler", 0, NULL), 0);
	CU_ASSERT_EQUAL(dl_fs_unlink(fx.fs, "other", 0, NULL), 0);
	CU_ASSERT_EQUAL(free_blocks(), before);
}

static void test_detached_blocks_wait_for_release(void)
{
	uint64_t before = free_blocks(), tag = 0x7a6;
	dl_ino_t ino = mkfile("held", 1 * DL_MiB), filler;
	struct dl_detached det[8];
	struct dl_extent ext[8];
	size_t n, m;
	ssize_t rc;

	/* truncate to 256 KiB, holding the other 768 KiB under tag */
	CU_ASSERT_EQUAL(dl_fs_truncate(fx.fs, ino, 256 * 1024, tag, NULL), 0);
	CU_ASSERT_EQUAL(dl_fs_detached(fx.fs, det, 8, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(det[0].length, 768 * 1024);
	CU_ASSERT_EQUAL(det[0].tag, tag);
	/* held blocks are not free: all 256 blocks are still in use */
	CU_ASSERT_EQUAL(free_blocks(), before - 256);
	/* survives a restart, and the checker accounts for it */
	CU_ASSERT_EQUAL(fx_check(&fx), 0);
	CU_ASSERT_EQUAL(dl_fs_detached(fx.fs, det, 8, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	/* fill the namespace: no allocation may hand out a held block */
	filler = mkfile("filler2", 0);
	memset(buf, 1, sizeof(buf));
	for (uint64_t off = 0;
	     (rc = dl_fs_write(fx.fs, filler, off, buf, 65536, NULL)) > 0;
	     off += 65536)
		;
	CU_ASSERT_EQUAL(dl_fs_extents(fx.fs, filler, 0, UINT64_MAX, NULL, 0,
				      &m), 0);
	{
		struct dl_extent *all = calloc(m, sizeof(*all));

		dl_fs_extents(fx.fs, filler, 0, UINT64_MAX, all, m, &m);
		for (size_t i = 0; i < m; i++)
			CU_ASSERT(all[i].ns_offset + all[i].length <=
					  det[0].ns_offset ||
				  all[i].ns_offset >=
					  det[0].ns_offset + det[0].length);
		free(all);
	}
	CU_ASSERT_EQUAL(dl_fs_unlink(fx.fs, "filler2", 0, NULL), 0);
	/* release the middle 4 KiB, then the rest */
	CU_ASSERT_EQUAL(dl_fs_release(fx.fs, tag, det[0].ns_offset + 8192,
				      4096, NULL), 0);
	CU_ASSERT_EQUAL(dl_fs_detached(fx.fs, det + 1, 7, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(fx_check(&fx), 0);
	CU_ASSERT_EQUAL(dl_fs_release(fx.fs, tag, 0, UINT64_MAX, NULL), 0);
	CU_ASSERT_EQUAL(dl_fs_detached(fx.fs, det, 8, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(dl_fs_extents(fx.fs, ino, 0, UINT64_MAX, ext, 8, &n), 0);
	CU_ASSERT_EQUAL(dl_fs_unlink(fx.fs, "held", 0, NULL), 0);
	CU_ASSERT_EQUAL(free_blocks(), before);
	CU_ASSERT_EQUAL(fx_check(&fx), 0);
}

static void test_badblock_reads_eio(void)
{
	dl_ino_t ino = mkfile("bad", 64 * 1024);
	struct dl_extent ext[4];
	struct dl_err err;
	size_t n;

	CU_ASSERT_EQUAL(dl_fs_extents(fx.fs, ino, 0, 65536, ext, 4, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n >= 1, 1);
	CU_ASSERT_EQUAL(dl_ns_inject_error(fx.ns, ext[0].ns_offset + 4096, 512,
					   NULL), 0);
	CU_ASSERT_EQUAL(dl_fs_read(fx.fs, ino, 0, buf, 4096, NULL), 4096);
	CU_ASSERT_EQUAL(dl_fs_read(fx.fs, ino, 0, buf, 8192, &err), -EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "media error"));
	CU_ASSERT_EQUAL(dl_ns_clear_error(fx.ns, ext[0].ns_offset + 4096, 512,
					  NULL), 0);
	CU_ASSERT_EQUAL(dl_fs_read(fx.fs, ino, 4096, buf, 4096, NULL), 4096);
	CU_ASSERT_EQUAL(buf[0], 0);	/* clearing zeroes the sector */
	CU_ASSERT_EQUAL(buf[600], 0x3c);
	CU_ASSERT_EQUAL(dl_fs_unlink(fx.fs, "bad", 0, NULL), 0);
}

static void test_large_writes_are_pmd_aligned(void)
{
	dl_ino_t ino = mkfile("big", 4 * DL_MiB);
	struct dl_extent ext[4];
	size_t n;

	CU_ASSERT_EQUAL(dl_fs_extents(fx.fs, ino, 0, 4 * DL_MiB, ext, 4, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(ext[0].ns_offset % (2 * DL_MiB), 0);
	CU_ASSERT_EQUAL(ext[0].length, 4 * DL_MiB);
	CU_ASSERT_EQUAL(dl_fs_unlink(fx.fs, "big", 0, NULL), 0);
}

static void test_layout_seq(void)
{
	dl_ino_t ino = mkfile("seq", 8192);
	struct dl_stat a, b;

	dl_fs_stat(fx.fs, ino, &a);
	CU_ASSERT_EQUAL(dl_fs_write(fx.fs, ino, 0, buf, 100, NULL), 100);
	CU_ASSERT_EQUAL(dl_fs_truncate(fx.fs, ino, 1 << 20, 0, NULL), 0);
	dl_fs_stat(fx.fs, ino, &b);
	CU_ASSERT_EQUAL(a.layout_seq, b.layout_seq);	/* no extent change */
	CU_ASSERT_EQUAL(dl_fs_fallocate(fx.fs, ino, FALLOC_FL_PUNCH_HOLE |
					FALLOC_FL_KEEP_SIZE, 0, 4096, 0, NULL), 0);
	dl_fs_stat(fx.fs, ino, &b);
	CU_ASSERT_EQUAL(b.layout_seq, a.layout_seq + 1);
	CU_ASSERT_EQUAL(fx_reopen(&fx), 0);
	dl_fs_stat(fx.fs, ino, &a);
	CU_ASSERT_EQUAL(a.layout_seq, b.layout_seq);
	CU_ASSERT_EQUAL(dl_fs_unlink(fx.fs, "seq", 0, NULL), 0);
}

static void test_extent_limit(void)
{
	dl_ino_t ino = mkfile("frag", 0);
	uint64_t max = fx.fs->max_extents, k;
	struct dl_stat before, after;
	struct dl_err err;
	int rc = 0;

	/* every other block allocated: one extent each */
	for (k = 0; k <= max && !rc; k++)
		rc = dl_fs_fallocate(fx.fs, ino, FALLOC_FL_KEEP_SIZE,
				     k * 8192, 4096, 0, &err);
	CU_ASSERT_EQUAL(rc, -ENOSPC);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "extents"));
	dl_fs_stat(fx.fs, ino, &before);
	/* the limit is checked against a worst-case bound of the result */
	CU_ASSERT(before.nextents <= max && before.nextents + 4 >= max);
	CU_ASSERT_EQUAL(dl_fs_fallocate(fx.fs, ino, FALLOC_FL_KEEP_SIZE,
					k * 8192 + 8192, 4096, 0, &err), -ENOSPC);
	dl_fs_stat(fx.fs, ino, &after);
	CU_ASSERT_EQUAL(after.nblocks, before.nblocks);
	/* a collapse of the whole pattern rewrites every record: must fit */
	CU_ASSERT_EQUAL(dl_fs_truncate(fx.fs, ino, max * 8192 + 4096, 0, NULL), 0);
	CU_ASSERT_EQUAL(dl_fs_fallocate(fx.fs, ino, FALLOC_FL_COLLAPSE_RANGE,
					0, 4096, 0, &err), 0);
	CU_ASSERT_EQUAL(fx_check(&fx), 0);
	CU_ASSERT_EQUAL(dl_fs_unlink(fx.fs, "frag", 0, NULL), 0);
	CU_ASSERT_EQUAL(fx_check(&fx), 0);
}

static void test_prepare_write(void)
{
	dl_ino_t ino = mkfile("mkwrite", 0);
	struct dl_extent ext[8];
	struct dl_stat st;
	size_t n;

	/* 24 KiB: a hole, 8 KiB preallocated (unwritten), 4 KiB written */
	CU_ASSERT_EQUAL(dl_fs_truncate(fx.fs, ino, 24576, 0, NULL), 0);
	CU_ASSERT_EQUAL(dl_fs_fallocate(fx.fs, ino, FALLOC_FL_KEEP_SIZE, 8192,
					8192, 0, NULL), 0);
	memset(buf, 0x11, 4096);
	CU_ASSERT_EQUAL(dl_fs_write(fx.fs, ino, 20480, buf, 4096, NULL), 4096);
	CU_ASSERT_EQUAL(dl_fs_prepare_write(fx.fs, ino, 0, 24576, NULL), 0);
	CU_ASSERT_EQUAL(dl_fs_extents(fx.fs, ino, 0, 24576, ext, 8, &n), 0);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_FALSE(ext[i].unwritten);
	dl_fs_stat(fx.fs, ino, &st);
	CU_ASSERT_EQUAL(st.nblocks, 6);
	CU_ASSERT_EQUAL(st.size, 24576);
	/* the blocks read as zeros through the DAX view, data kept */
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = (const uint8_t *)dl_ns_base(fx.ns) +
				   ext[i].ns_offset;

		for (uint64_t b = 0; b < ext[i].length; b++)
			if (ext[i].file_offset + b < 20480 && p[b]) {
				CU_FAIL("prepared block is not zero");
				break;
			}
	}
	CU_ASSERT_EQUAL(dl_fs_read(fx.fs, ino, 20480, buf, 4096, NULL), 4096);
	CU_ASSERT_EQUAL(buf[4095], 0x11);
	CU_ASSERT_EQUAL(fx_check(&fx), 0);
	CU_ASSERT_EQUAL(dl_fs_unlink(fx.fs, "mkwrite", 0, NULL), 0);
}

/* ---- corrupt filesystems: a clear error, never a crash ------------------ */

static struct fs_fixture bad;

static uint8_t *bad_base(void)
{
	return dl_ns_base(bad.ns);
}

/* Fresh image with one file, closed file system, namespace left open. */
static void bad_image(void)
{
	dl_ino_t ino;

	CU_ASSERT_EQUAL_FATAL(fx_create(&bad, "bad.img", 16 * DL_MiB, 4096), 0);
	CU_ASSERT_EQUAL_FATAL(dl_fs_create(bad.fs, "victim", 0600, 0, 0, &ino,
					   NULL), 0);
	memset(buf, 9, 20000);
	CU_ASSERT_EQUAL_FATAL(dl_fs_write(bad.fs, ino, 0, buf, 20000, NULL),
			      20000);
	dl_fs_close(&bad.fs);
}

static int open_bad(struct dl_err *err)
{
	int rc = dl_fs_open(bad.ns, &bad.fs, err);

	dl_fs_close(&bad.fs);
	return rc;
}

static size_t check_bad(const char *kind)
{
	struct dl_check_report rep;
	struct dl_err err;
	size_t hits = 0;

	CU_ASSERT_EQUAL_FATAL(dl_fs_check(bad.ns, &rep, &err), 0);
	for (size_t i = 0; i < rep.nproblems && i < DL_CHECK_MAX_PROBLEMS; i++)
		hits += !strcmp(rep.problems[i].kind, kind);
	return hits;
}

static void test_superblock_damage(void)
{
	struct dl_superblock *sb;
	struct dl_err err;

	bad_image();
	/* primary damaged: the copy serves, and open rewrites the primary
	 * from it (test_fs_verify.c) */
	bad_base()[100] ^= 0xff;
	CU_ASSERT_EQUAL(check_bad("superblock"), 1);
	CU_ASSERT_EQUAL(open_bad(&err), 0);
	CU_ASSERT_EQUAL(check_bad("superblock"), 0);
	/* both damaged: nothing to serve from */
	bad_base()[100] ^= 0xff;
	bad_base()[DL_BLOCK_SIZE + 100] ^= 0xff;
	CU_ASSERT_EQUAL(open_bad(&err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "checksum"));
	CU_ASSERT_EQUAL(check_bad("superblock"), 2);
	fx_close(&bad);

	bad_image();	/* a filesystem from a future version */
	for (int copy = 0; copy < 2; copy++) {
		sb = (void *)(bad_base() + copy * DL_BLOCK_SIZE);
		sb->major = DL_SB_MAJOR + 1;
		ie_seal_sb(sb);
	}
	CU_ASSERT_EQUAL(open_bad(&err), -EPROTONOSUPPORT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "newer"));
	fx_close(&bad);

	bad_image();	/* not a filesystem at all */
	memset(bad_base(), 0, 2 * DL_BLOCK_SIZE);
	CU_ASSERT_EQUAL(open_bad(&err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no daxlease filesystem"));
	fx_close(&bad);
}

static void test_metadata_damage(void)
{
	const struct dl_superblock *sb;
	uint8_t *rec, *bm;
	struct dl_err err;

	bad_image();
	sb = (const void *)bad_base();
	rec = bad_base() + sb->inodes.start * DL_BLOCK_SIZE;
	rec[300] ^= 0x10;	/* one bit of the file's record */
	CU_ASSERT_EQUAL(open_bad(&err), -EUCLEAN);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "inode 1"));
	CU_ASSERT_EQUAL(check_bad("inode-invalid"), 1);
	CU_ASSERT_EQUAL(check_bad("block-leaked"), 1);
	rec[300] ^= 0x10;
	CU_ASSERT_EQUAL(open_bad(&err), 0);

	/* a used block marked free in the bitmap */
	bm = bad_base() + sb->bitmap.start * DL_BLOCK_SIZE;
	bm[sb->data_start >> 3] &= (uint8_t)~(1u << (sb->data_start & 7));
	CU_ASSERT_EQUAL(check_bad("block-free-but-used"), 1);
	fx_close(&bad);

	/* garbage over the whole inode table and detached table */
	bad_image();
	sb = (const void *)bad_base();
	srand(7);
	for (uint64_t i = sb->inodes.start * DL_BLOCK_SIZE;
	     i < sb->data_start * DL_BLOCK_SIZE; i++)
		bad_base()[i] = (uint8_t)rand();
	CU_ASSERT_NOT_EQUAL(open_bad(&err), 0);
	CU_ASSERT(check_bad("inode-invalid") > 0);
	fx_close(&bad);
}

static int setup(void)
{
	return fx_create(&fx, "fs.img", 64 * DL_MiB, 2 * DL_MiB);
}

static int teardown(void)
{
	fx_close(&fx);
	return 0;
}

/* Truncate up keeps blocks preallocated beyond the new size, as ext4 does
 * (ext4_setattr calls ext4_truncate only when the size does not grow);
 * truncate to the same or a smaller size drops them. */
static void test_truncate_up_keeps_prealloc(void)
{
	struct dl_stat st;
	dl_ino_t ino = mkfile("trunc-prealloc", 0);

	CU_ASSERT_EQUAL_FATAL(dl_fs_fallocate(fx.fs, ino, FALLOC_FL_KEEP_SIZE,
					      0, 65536, 0, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(dl_fs_stat(fx.fs, ino, &st), 0);
	CU_ASSERT_EQUAL(st.nblocks, 16);
	CU_ASSERT_EQUAL(dl_fs_truncate(fx.fs, ino, 8192, 0, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(dl_fs_stat(fx.fs, ino, &st), 0);
	CU_ASSERT_EQUAL(st.size, 8192);
	CU_ASSERT_EQUAL(st.nblocks, 16);
	CU_ASSERT_EQUAL(dl_fs_truncate(fx.fs, ino, 8192, 0, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(dl_fs_stat(fx.fs, ino, &st), 0);
	CU_ASSERT_EQUAL(st.nblocks, 2);
	CU_ASSERT_EQUAL(dl_fs_unlink(fx.fs, "trunc-prealloc", 0, NULL), 0);
}

/* write(2) at the size limit: a write that starts below it is cut short
 * there (generic_write_check_limits), one that starts at it is EFBIG. */
static void test_write_short_at_max_size(void)
{
	struct dl_stat st;
	dl_ino_t ino = mkfile("write-limit", 0);

	memset(buf, 0x5a, 8192);
	CU_ASSERT_EQUAL(dl_fs_write(fx.fs, ino, DL_MAX_FILE_SIZE - 4096, buf,
				    8192, NULL), 4096);
	CU_ASSERT_EQUAL_FATAL(dl_fs_stat(fx.fs, ino, &st), 0);
	CU_ASSERT_EQUAL(st.size, DL_MAX_FILE_SIZE);
	CU_ASSERT_EQUAL(st.nblocks, 1);
	CU_ASSERT_EQUAL(dl_fs_write(fx.fs, ino, DL_MAX_FILE_SIZE, buf, 1, NULL),
			-EFBIG);
	memset(buf, 0, 8192);
	CU_ASSERT_EQUAL(dl_fs_read(fx.fs, ino, DL_MAX_FILE_SIZE - 4096, buf,
				   8192, NULL), 4096);
	CU_ASSERT_EQUAL(buf[0], 0x5a);
	CU_ASSERT_EQUAL(buf[4095], 0x5a);
	CU_ASSERT_EQUAL(dl_fs_unlink(fx.fs, "write-limit", 0, NULL), 0);
}

/* Releasing a tag that holds most of the detached table must not need one
 * transaction larger than the journal (the smallest one: 256 KiB). */
static void test_release_many_detached_small_journal(void)
{
	struct dl_mkfs_params mp = { .journal_bytes = 256 * 1024 };
	struct dl_ns_params np = { .size = 64 * DL_MiB, .align = 4096,
				   .name = "smalljournal" };
	struct fs_fixture sj = { 0 };
	struct dl_err err = { 0 };
	uint64_t free_before, tag = 0x51;
	size_t n = 0;
	char name[32];

	snprintf(sj.path, sizeof(sj.path), "%s", dl_test_path("smallj.img"));
	unlink(sj.path);
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_create(sj.path, &np, &err), 0);
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(sj.path, DL_MAP_READ_WRITE,
					     &sj.ns, &err), 0);
	CU_ASSERT_EQUAL_FATAL(dl_fs_format(sj.ns, &mp, &err), 0);
	CU_ASSERT_EQUAL_FATAL(dl_fs_open(sj.ns, &sj.fs, &err), 0);
	{
		struct dl_statfs st;

		dl_fs_statfs(sj.fs, &st);
		free_before = st.free_blocks;
	}
	memset(buf, 0x11, 4096);
	/* six files of 650 one-block extents, each truncated under tag */
	for (int f = 0; f < 6; f++) {
		dl_ino_t ino;

		snprintf(name, sizeof(name), "held%d", f);
		CU_ASSERT_EQUAL_FATAL(dl_fs_create(sj.fs, name, 0644, 0, 0,
						   &ino, NULL), 0);
		for (uint64_t b = 0; b < 650; b++)
			CU_ASSERT_EQUAL_FATAL(dl_fs_write(sj.fs, ino, b * 8192,
							  buf, 4096, NULL),
					      4096);
		CU_ASSERT_EQUAL_FATAL(dl_fs_truncate(sj.fs, ino, 0, tag, &err),
				      0);
		CU_ASSERT_EQUAL_FATAL(dl_fs_unlink(sj.fs, name, 0, NULL), 0);
	}
	CU_ASSERT_EQUAL(dl_fs_detached(sj.fs, NULL, 0, &n), 0);
	CU_ASSERT(n >= 3700);
	CU_ASSERT_EQUAL(dl_fs_release(sj.fs, tag, 0, UINT64_MAX, &err), 0);
	CU_ASSERT_EQUAL(dl_fs_detached(sj.fs, NULL, 0, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	/* still writable, every block back */
	CU_ASSERT_EQUAL(dl_fs_create(sj.fs, "after", 0644, 0, 0, NULL, &err),
			0);
	CU_ASSERT_EQUAL(dl_fs_unlink(sj.fs, "after", 0, NULL), 0);
	{
		struct dl_statfs st;

		dl_fs_statfs(sj.fs, &st);
		CU_ASSERT_EQUAL(st.free_blocks, free_before);
	}
	CU_ASSERT_EQUAL(fx_check(&sj), 0);
	fx_close(&sj);
	unlink(sj.path);
}

/* Free space in 4 KiB pieces only: a write that needs more pieces than
 * one allocator call returns (64) still succeeds while space is free. */
static void test_write_into_fragmented_space(void)
{
	struct fs_fixture fr = { 0 };
	struct dl_statfs sf;
	dl_ino_t x, filler, y;
	uint64_t off = 0, nx = 1024;
	ssize_t rc;

	CU_ASSERT_EQUAL_FATAL(fx_create(&fr, "frag.img", 16 * DL_MiB, 4096), 0);
	CU_ASSERT_EQUAL_FATAL(dl_fs_create(fr.fs, "x", 0644, 0, 0, &x, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(dl_fs_create(fr.fs, "filler", 0644, 0, 0, &filler,
					   NULL), 0);
	memset(buf, 0x77, nx * 4096);
	CU_ASSERT_EQUAL_FATAL(dl_fs_write(fr.fs, x, 0, buf, nx * 4096, NULL),
			      (ssize_t)(nx * 4096));
	/* use up everything else */
	while ((rc = dl_fs_write(fr.fs, filler, off, buf, 4096, NULL)) > 0)
		off += 4096;
	CU_ASSERT_EQUAL(rc, -ENOSPC);
	/* every other block of x back to free space: 512 single blocks */
	for (uint64_t b = 0; b < nx; b += 2)
		CU_ASSERT_EQUAL_FATAL(dl_fs_fallocate(fr.fs, x,
				FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				b * 4096, 4096, 0, NULL), 0);
	dl_fs_statfs(fr.fs, &sf);
	CU_ASSERT_FATAL(sf.free_blocks >= 500);	/* less a few chain blocks */
	/* 256 blocks from 256 separate pieces */
	CU_ASSERT_EQUAL_FATAL(dl_fs_create(fr.fs, "y", 0644, 0, 0, &y, NULL), 0);
	memset(buf, 0x78, 256 * 4096);
	CU_ASSERT_EQUAL(dl_fs_write(fr.fs, y, 0, buf, 256 * 4096, NULL),
			256 * 4096);
	memset(buf, 0, 256 * 4096);
	CU_ASSERT_EQUAL(dl_fs_read(fr.fs, y, 0, buf, 256 * 4096, NULL),
			256 * 4096);
	CU_ASSERT_EQUAL(buf[0], 0x78);
	CU_ASSERT_EQUAL(buf[256 * 4096 - 1], 0x78);
	CU_ASSERT_EQUAL(fx_check(&fr), 0);
	fx_close(&fr);
	unlink(fr.path);
}

static CU_TestInfo tests[] = {
	{ "name rules", test_names },
	{ "rename replaces and frees the target", test_rename },
	{ "a full namespace fails whole and loses nothing", test_full_namespace_loses_nothing },
	{ "detached blocks are never reused until released", test_detached_blocks_wait_for_release },
	{ "a badblock in a file reads EIO", test_badblock_reads_eio },
	{ "large writes get 2 MiB-aligned extents", test_large_writes_are_pmd_aligned },
	{ "layout sequence moves with extent changes only", test_layout_seq },
	{ "the per-file extent limit fails whole", test_extent_limit },
	{ "prepare_write allocates, zeroes and converts", test_prepare_write },
	{ "a damaged superblock: copy, clear errors", test_superblock_damage },
	{ "damaged metadata: open refuses, check reports", test_metadata_damage },
	{ "truncate up keeps blocks preallocated past EOF", test_truncate_up_keeps_prealloc },
	{ "a write reaching past the size limit is short", test_write_short_at_max_size },
	{ "releasing a full detached table fits a small journal", test_release_many_detached_small_journal },
	{ "a write into 4 KiB free pieces only succeeds", test_write_into_fragmented_space },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "fs", setup, teardown, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return dl_cunit_main(suites);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_fs_verify.c - what dl_fs_open() verifies before it serves an
 * image: every block has at most one owner (a file's data, a file's
 * extent-map chain, the detached table, the metadata areas) and every
 * owned block is marked in use.  Images are damaged with every CRC still
 * passing (image_edit.h), so only the cross-check can catch them; a
 * refused open names check-namespace and changes nothing on media.  A
 * damaged primary superblock is reported and rewritten from the
 * secondary; space marked in use that nothing owns is reported.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_run.h"
#include "fs_fixture.h"
#include "image_edit.h"

#define IMG_SIZE (16 * DL_MiB)

static struct fs_fixture fx;
static uint8_t buf[64 * 1024];

static uint8_t *base(void)
{
	return dl_ns_base(fx.ns);
}

static dl_ino_t mkfile(const char *name, uint32_t mode, uint8_t fill,
		       size_t size)
{
	dl_ino_t ino = 0;

	CU_ASSERT_EQUAL_FATAL(dl_fs_create(fx.fs, name, mode, 0, 0, &ino,
					   NULL), 0);
	memset(buf, fill, size);
	CU_ASSERT_EQUAL_FATAL(dl_fs_write(fx.fs, ino, 0, buf, size, NULL),
			      (ssize_t)size);
	return ino;
}

/* A fresh image with files a (0600) and b (0644); the filesystem closed,
 * the namespace left open for editing. */
static void two_files(void)
{
	CU_ASSERT_EQUAL_FATAL(fx_create(&fx, "verify.img", IMG_SIZE, 4096), 0);
	mkfile("a", 0600, 0xaa, 20000);
	mkfile("b", 0644, 0xbb, 8192);
	dl_fs_close(&fx.fs);
}

static size_t problems(const char *kind)
{
	struct dl_check_report *rep = calloc(1, sizeof(*rep));
	struct dl_err err;
	size_t hits = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rep);
	CU_ASSERT_EQUAL_FATAL(dl_fs_check(fx.ns, rep, &err), 0);
	for (size_t i = 0; i < rep->nproblems && i < DL_CHECK_MAX_PROBLEMS; i++)
		hits += !strcmp(rep->problems[i].kind, kind);
	free(rep);
	return hits;
}

/* The metadata areas, to show that a refused open wrote nothing. */
static uint8_t *snapshot_meta(size_t *len)
{
	const struct dl_superblock *sb = ie_sb(base(), 1);
	uint8_t *copy;

	*len = sb->data_start * DL_BLOCK_SIZE;
	copy = malloc(*len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	memcpy(copy, base(), *len);
	return copy;
}

/* The open refuses with -EUCLEAN, a message that names check-namespace
 * and the problem, and leaves the metadata as it was. */
static void expect_refused(const char *what)
{
	struct dl_err err = { 0 };
	size_t len;
	uint8_t *before = snapshot_meta(&len);
	int rc = dl_fs_open(fx.ns, &fx.fs, &err);

	CU_ASSERT_EQUAL(rc, -EUCLEAN);
	if (rc == 0) {
		fprintf(stderr, "open accepted an image with %s\n", what);
		dl_fs_close(&fx.fs);
	} else {
		fprintf(stderr, "refused: %s\n", err.msg);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "daxlease check-namespace"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, what));
	CU_ASSERT_EQUAL(memcmp(before, base(), len), 0);
	free(before);
}

static size_t open_warnings(const char *has)
{
	const struct dl_err *w;
	size_t n, hits = 0;

	n = dl_fs_open_warnings(fx.fs, &w);
	for (size_t i = 0; i < n; i++) {
		fprintf(stderr, "warning: %s\n", w[i].msg);
		hits += strstr(w[i].msg, has) != NULL;
	}
	return hits;
}

/* ---- refused ------------------------------------------------------------ */

/* Row 8 of issue 10: a's blocks marked free, b pointed at them. */
static void test_blocks_of_one_file_given_to_another(void)
{
	two_files();
	CU_ASSERT_EQUAL_FATAL(ie_hand_over_blocks(base(), "a", "b"), 0);
	CU_ASSERT(problems("block-double-use") >= 1);
	CU_ASSERT(problems("block-free-but-used") >= 1);
	expect_refused("in use");
	fx_close(&fx);
}

static void test_file_blocks_marked_free(void)
{
	const struct dl_inode_rec *a;

	two_files();
	a = ie_inode_named(base(), "a", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	ie_mark(base(), a->inline_ext[0].phys_block + 1, 2, false);
	CU_ASSERT_EQUAL(problems("block-free-but-used"), 1);
	expect_refused("marked free");
	fx_close(&fx);
}

/* Blocks of a file that the detached table says are waiting for release:
 * a release would free a live file's blocks. */
static void test_file_blocks_in_the_detached_table(void)
{
	const struct dl_inode_rec *a;
	struct dl_detached_rec *d;

	two_files();
	a = ie_inode_named(base(), "a", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	d = ie_detached(base(), 3);
	d->phys_block = a->inline_ext[0].phys_block;
	d->nblocks = 1;
	d->tag = 0x51;
	CU_ASSERT_EQUAL(problems("block-double-use"), 1);
	expect_refused("the detached table");
	fx_close(&fx);
}

/* A file with an extent-map chain, and another file pointed at the
 * chain's first block: writing that file would overwrite the map. */
static void test_extent_map_block_shared_with_a_file(void)
{
	struct dl_inode_rec *frag, *b;
	dl_ino_t ino;

	CU_ASSERT_EQUAL_FATAL(fx_create(&fx, "verify.img", IMG_SIZE, 4096), 0);
	ino = mkfile("frag", 0644, 0x11, sizeof(buf));
	/* punch every other block: 8 extents, more than fit inline */
	for (uint64_t off = 4096; off < sizeof(buf); off += 8192)
		CU_ASSERT_EQUAL_FATAL(dl_fs_fallocate(fx.fs, ino,
						      FALLOC_FL_PUNCH_HOLE |
						      FALLOC_FL_KEEP_SIZE,
						      off, 4096, 0, NULL), 0);
	mkfile("b", 0644, 0xbb, 4096);
	dl_fs_close(&fx.fs);
	frag = ie_inode_named(base(), "frag", NULL);
	b = ie_inode_named(base(), "b", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(frag);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_FATAL(frag->nextents > DL_INLINE_EXTENTS);
	CU_ASSERT_FATAL(frag->ext_chain != 0);
	/* b's own block is left marked in use: lost space, not the point */
	b->inline_ext[0].phys_block = frag->ext_chain;
	ie_seal_inode(b);
	CU_ASSERT_EQUAL(problems("block-double-use"), 1);
	expect_refused("in use");
	fx_close(&fx);
}

/* ---- opened, with a warning --------------------------------------------- */

static void test_clean_image_opens_without_warnings(void)
{
	two_files();
	CU_ASSERT_EQUAL_FATAL(dl_fs_open(fx.ns, &fx.fs, NULL), 0);
	CU_ASSERT_EQUAL(open_warnings(""), 0);
	fx_close(&fx);
}

/* Marked in use, owned by nothing: space lost, no file at risk. */
static void test_leaked_blocks_open_with_a_warning(void)
{
	uint64_t last;

	two_files();
	last = ie_sb(base(), 1)->nblocks - 1;
	ie_mark(base(), last - 3, 4, true);
	CU_ASSERT_EQUAL(problems("block-leaked"), 1);
	CU_ASSERT_EQUAL_FATAL(dl_fs_open(fx.ns, &fx.fs, NULL), 0);
	CU_ASSERT_EQUAL(open_warnings("no file or table owns them"), 1);
	CU_ASSERT_EQUAL(open_warnings("daxlease check-namespace"), 1);
	fx_close(&fx);
}

static void test_damaged_primary_is_rewritten(void)
{
	two_files();
	base()[100] ^= 0xff;
	CU_ASSERT_EQUAL(problems("superblock"), 1);
	CU_ASSERT_EQUAL_FATAL(dl_fs_open(fx.ns, &fx.fs, NULL), 0);
	CU_ASSERT_EQUAL(open_warnings("primary superblock"), 1);
	/* repaired on media before the open returned */
	CU_ASSERT_EQUAL(memcmp(base(), base() + DL_BLOCK_SIZE, DL_BLOCK_SIZE),
			0);
	CU_ASSERT_EQUAL(dl_superblock_check(base(), DL_BLOCK_SIZE,
					    dl_ns_size(fx.ns), NULL), 0);
	dl_fs_close(&fx.fs);
	CU_ASSERT_EQUAL(problems("superblock"), 0);
	/* and the next open has nothing to say */
	CU_ASSERT_EQUAL_FATAL(dl_fs_open(fx.ns, &fx.fs, NULL), 0);
	CU_ASSERT_EQUAL(open_warnings(""), 0);
	fx_close(&fx);
}

/* Read-only: reported, served from the secondary, media untouched. */
static void test_damaged_primary_read_only(void)
{
	struct dl_err err = { 0 };
	uint8_t primary[DL_BLOCK_SIZE];

	two_files();
	base()[100] ^= 0xff;
	memcpy(primary, base(), sizeof(primary));
	dl_ns_close(&fx.ns);
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(fx.path, DL_MAP_READ_ONLY, &fx.ns,
					     &err), 0);
	CU_ASSERT_EQUAL_FATAL(dl_fs_open(fx.ns, &fx.fs, &err), 0);
	CU_ASSERT_EQUAL(open_warnings("primary superblock"), 1);
	CU_ASSERT_EQUAL(open_warnings("read-only"), 1);
	CU_ASSERT_EQUAL(memcmp(primary, base(), sizeof(primary)), 0);
	fx_close(&fx);
}

static CU_TestInfo tests[] = {
	{ "a file's blocks given to another: refused", test_blocks_of_one_file_given_to_another },
	{ "a file's blocks marked free: refused", test_file_blocks_marked_free },
	{ "a file's blocks in the detached table: refused", test_file_blocks_in_the_detached_table },
	{ "an extent-map block shared with a file: refused", test_extent_map_block_shared_with_a_file },
	{ "a clean image opens without warnings", test_clean_image_opens_without_warnings },
	{ "leaked blocks: opened, reported", test_leaked_blocks_open_with_a_warning },
	{ "a damaged primary superblock is reported and rewritten", test_damaged_primary_is_rewritten },
	{ "a damaged primary, read-only: reported, left alone", test_damaged_primary_read_only },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "fs-verify", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return dl_cunit_main(suites);
}

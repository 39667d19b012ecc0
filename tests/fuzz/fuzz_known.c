/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_known.c - recognise FZ_IMAGE inputs that hit a bug already found
 * and reported, so that a long fuzzing run can look past it.
 *
 * Off by default: the smoke test and a plain fuzzer run must keep failing
 * on these bugs until they are fixed (their reproducers are the corpus
 * files named crash-*).  DAXLEASE_FUZZ_SKIP_KNOWN=1 turns it on; each
 * rule names the bug it stands for, and goes when the bug is fixed.
 *
 * The rules look at the patched image the way the library will: through
 * the superblock copy it will pick, and only as far as that copy's areas
 * reach inside the namespace.
 */
#include "fuzz_known.h"

#include <stdlib.h>
#include <string.h>

#include "fs.h"

/*
 * Not recognised here: journal.c dl_flush_all() calls qsort(NULL, 0, ...)
 * when nothing was queued since open (UBSan nonnull-attribute only).  Build
 * with DAXLEASE_FUZZ_EXTRA_FLAGS=-fno-sanitize=nonnull-attribute to look
 * past it.
 */

/* Larger per-file extent counts make the checker reserve gigabytes. */
#define KNOWN_MAX_EXTENTS (1ULL << 20)

bool fz_skip_known_wanted(void)
{
	static int wanted = -1;

	if (wanted < 0) {
		const char *s = getenv("DAXLEASE_FUZZ_SKIP_KNOWN");

		wanted = s && *s && strcmp(s, "0");
	}
	return wanted;
}

/* The superblock dl_fs_open and dl_fs_check will use, or NULL. */
static const struct dl_superblock *pick_sb(const uint8_t *ns, uint64_t size)
{
	if (!dl_superblock_check(ns, DL_BLOCK_SIZE, size, NULL))
		return (const void *)ns;
	if (!dl_superblock_check(ns + DL_BLOCK_SIZE, DL_BLOCK_SIZE, size, NULL))
		return (const void *)(ns + DL_BLOCK_SIZE);
	return NULL;
}

/*
 * dl_superblock_check() (fs.c) lets ndetached * 32 wrap, so a huge table
 * looks small enough to fit its area: the checker then walks it far past
 * the namespace, and dl_fs_open asks calloc for the impossible.
 */
static bool detached_bug(const struct dl_superblock *sb)
{
	return sb->ndetached > UINT64_MAX / sizeof(struct dl_detached_rec);
}

/*
 * dl_inode_decode() (fs_inode.c) reserves nextents + 4 extents before it
 * reads the chain, and the checker (fs_check.c) allows UINT32_MAX
 * extents: up to 96 GiB for one damaged record.
 */
static bool inode_bug(const uint8_t *ns, const struct dl_superblock *sb)
{
	const uint8_t *table = ns + sb->inodes.start * DL_BLOCK_SIZE;

	for (uint64_t i = 0; i < sb->ninodes; i++) {
		const struct dl_inode_rec *rec =
			(const void *)(table + i * DL_INODE_SIZE);

		if (rec->flags & DL_INODE_F_USED &&
		    rec->nextents > KNOWN_MAX_EXTENTS)
			return true;
	}
	return false;
}

/*
 * fs_check.c check_journal() formats err->msg into the report when
 * recovery fails, though err may be NULL (error.h).
 */
static bool null_err_bug(const uint8_t *ns, const struct dl_superblock *sb)
{
	return dl_journal_check(ns + sb->journal.start * DL_BLOCK_SIZE,
				sb->journal.nblocks * DL_BLOCK_SIZE,
				FZ_IMAGE_SIZE, NULL) < 0;
}

bool fz_known_bug(const struct fz_image *im, unsigned *flags)
{
	const uint8_t *ns = im->map + im->data_offset;
	const struct dl_superblock *sb = pick_sb(ns, FZ_IMAGE_SIZE);

	if (!sb)
		return false;	/* nothing gets past the superblock */
	if (*flags & FZ_NULL_ERR && null_err_bug(ns, sb))
		*flags &= ~(unsigned)FZ_NULL_ERR;
	return detached_bug(sb) || inode_bug(ns, sb);
}

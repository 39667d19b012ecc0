/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fs_check.c - check-namespace: verify the filesystem's invariants from
 * what is on media, without trusting the loader.
 *
 *   - the superblock is valid; the journal is clean, replayable or torn
 *     (a torn, uncommitted transaction is normal after a crash)
 *   - every inode record is valid; names are unique
 *   - every block is claimed by exactly one owner (fs_xcheck.c, the same
 *     cross-check every open runs): metadata, one file's
 *     data, one file's extent-map chain, or the detached table
 *   - a block is marked in use in the bitmap iff it is claimed
 *   - no written block lies wholly beyond its file's size
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_private.h"

struct checker {
	struct dl_fs fs;		/* only base, sb, max_extents, ns */
	struct dl_check_report *rep;
	struct dl_xcheck x;		/* block ownership (fs_xcheck.c) */
};

#define problem(c, ...) dl_check_problem((c)->rep, __VA_ARGS__)

static bool bit(const uint8_t *bm, uint64_t b)
{
	return bm[b >> 3] & (1u << (b & 7));
}

static int name_cmp(const void *a, const void *b)
{
	const struct dl_inode *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static void check_inode(struct checker *c, dl_ino_t ino,
			const struct dl_inode_rec *rec, struct dl_inode **keep)
{
	struct dl_inode *in = calloc(1, sizeof(*in));
	struct dl_err err;

	*keep = NULL;
	if (!in) {
		problem(c, "no-memory", "out of memory checking inode %u", ino);
		return;
	}
	if (dl_inode_decode(&c->fs, ino, rec, in, &err)) {
		problem(c, "inode-invalid", "%s", err.msg);
		goto drop;
	}
	if (!(in->flags & DL_INODE_F_USED))
		goto drop;
	dl_xcheck_claim_file(&c->x, ino, in);
	for (size_t i = 0; i < in->map.n; i++) {
		const struct dl_extent_rec *e = &in->map.ext[i];

		if (!(e->flags & DL_EXTENT_F_UNWRITTEN) &&
		    e->file_block >= dl_blocks_of(in->size))
			problem(c, "written-beyond-eof",
				"file '%s' (inode %u) has written blocks from "
				"file block %llu, beyond its size %llu",
				in->name, ino,
				(unsigned long long)e->file_block,
				(unsigned long long)in->size);
	}
	*keep = in;
	return;
drop:
	free(in->name);
	free(in->chain);
	dl_extmap_free(&in->map);
	free(in);
}

static void check_inodes(struct checker *c)
{
	const struct dl_superblock *sb = &c->fs.sb;
	const uint8_t *table = dl_fs_block(&c->fs, sb->inodes.start);
	struct dl_inode **files = calloc(sb->ninodes + 1, sizeof(*files));
	size_t n = 0;

	if (!files) {
		problem(c, "no-memory", "out of memory");
		return;
	}
	for (dl_ino_t ino = 1; ino <= sb->ninodes; ino++) {
		check_inode(c, ino, (const void *)(table + (uint64_t)(ino - 1) *
						   DL_INODE_SIZE), &files[n]);
		n += files[n] != NULL;
	}
	qsort(files, n, sizeof(*files), name_cmp);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(files[i]->name, files[i - 1]->name))
			problem(c, "name-duplicate",
				"two files are named '%s'", files[i]->name);
	for (size_t i = 0; i < n; i++) {
		free(files[i]->name);
		free(files[i]->chain);
		dl_extmap_free(&files[i]->map);
		free(files[i]);
	}
	free(files);
}

/* Pin records name ranges, they own no block: only their form is checked. */
static void check_pins(struct checker *c)
{
	const struct dl_superblock *sb = &c->fs.sb;
	const struct dl_pin_rec *t = dl_fs_block(&c->fs, sb->pins.start);
	uint64_t n = sb->pins.nblocks * (DL_BLOCK_SIZE / sizeof(*t));

	for (uint64_t i = 0; i < n; i++) {
		if (!t[i].flags)
			continue;
		c->rep->pin_records++;
		if (t[i].flags != DL_PINREC_F_USED ||
		    t[i].ns_offset % DL_BLOCK_SIZE ||
		    t[i].length % DL_BLOCK_SIZE ||
		    !dl_run_inside(t[i].ns_offset / DL_BLOCK_SIZE,
				   t[i].length / DL_BLOCK_SIZE, 0, sb->nblocks))
			problem(c, "pin-record-invalid",
				"pin record %llu is not a used, 4 KiB aligned "
				"range inside the namespace",
				(unsigned long long)i);
	}
}

static int check_journal(struct checker *c)
{
	struct dl_err jerr = { 0 };
	struct dl_journal j;
	int rc;

	dl_journal_init(&j, c->fs.ns, &c->fs.sb);
	if (dl_ns_read_only(c->fs.ns)) {
		rc = dl_journal_pending(&j);
		snprintf(c->rep->journal_state, sizeof(c->rep->journal_state),
			 "%s", rc ? "pending" : "clean");
		if (rc)
			problem(c, "journal-pending",
				"the journal holds a committed transaction; "
				"the structures below are checked without it "
				"(check read-write to replay it)");
	} else {
		rc = dl_journal_recover(&j, &jerr);
		snprintf(c->rep->journal_state, sizeof(c->rep->journal_state),
			 "%s", rc == 1 ? "replayed" : rc == 0 ? "clean"
							      : "corrupt");
		if (rc < 0)
			problem(c, "journal-corrupt", "%s", jerr.msg);
	}
	c->rep->journal_seq = j.seq;
	dl_journal_fini(&j);
	return 0;
}

int dl_fs_check(struct dl_ns *ns, struct dl_check_report *rep,
		struct dl_err *err)
{
	struct checker c = { .rep = rep };
	struct dl_err e2;
	const uint8_t *base = dl_ns_base(ns);

	memset(rep, 0, sizeof(*rep));
	c.fs.ns = ns;
	c.fs.base = dl_ns_base(ns);
	if (dl_superblock_check(base, DL_BLOCK_SIZE, dl_ns_size(ns), &e2)) {
		problem(&c, "superblock", "primary: %s", e2.msg);
		if (dl_superblock_check(base + DL_BLOCK_SIZE, DL_BLOCK_SIZE,
					dl_ns_size(ns), &e2)) {
			problem(&c, "superblock", "secondary: %s", e2.msg);
			snprintf(rep->journal_state, sizeof(rep->journal_state),
				 "unknown");
			return 0;
		}
		base += DL_BLOCK_SIZE;
	}
	memcpy(&c.fs.sb, base, sizeof(c.fs.sb));
	rep->blocks_total = c.fs.sb.nblocks;
	rep->blocks_metadata = c.fs.sb.data_start;
	/* a record with more extents than a file may have is damaged, and
	 * reading it would size memory by a number read from media */
	c.fs.max_extents = dl_fs_max_extents(c.fs.sb.journal.nblocks *
					     DL_BLOCK_SIZE);
	if (dl_xcheck_init(&c.x, c.fs.sb.nblocks, rep))
		return dl_err_set(err, ENOMEM, "out of memory");
	check_journal(&c);
	/* the owners in the order open claims them too (fs_open_check.c) */
	dl_xcheck_claim(&c.x, 0, c.fs.sb.data_start, "filesystem metadata");
	check_inodes(&c);
	dl_xcheck_claim_detached(&c.x, &c.fs.sb,
				 dl_fs_block(&c.fs, c.fs.sb.detached.start));
	check_pins(&c);
	dl_xcheck_bitmap(&c.x, dl_fs_block(&c.fs, c.fs.sb.bitmap.start));
	dl_xcheck_fini(&c.x);
	return 0;
}

/*
 * Self-check for tests: DRAM and media agree (every inode record, every
 * extent block, the bitmap).  Returns 0, or -EUCLEAN with the first
 * difference in err.
 */
int dl_fs_verify_media(const struct dl_fs *fs, struct dl_err *err)
{
	const uint8_t *bm = dl_fs_block(fs, fs->sb.bitmap.start);
	struct dl_inode_rec rec;
	struct dl_extent_block blk;

	for (dl_ino_t ino = 1; ino <= fs->ninodes; ino++) {
		const struct dl_inode *in = fs->inodes[ino];

		if (!in)
			continue;
		dl_inode_encode(fs, ino, &rec);
		if (memcmp(&rec, fs->base + dl_inode_rec_off(fs, ino),
			   sizeof(rec)))
			return dl_err_set(err, EUCLEAN,
					  "inode %u differs from media", ino);
		for (size_t i = 0; i < in->nchain; i++) {
			dl_extblk_encode(in, ino, i, &blk);
			if (memcmp(&blk, dl_fs_block(fs, in->chain[i]),
				   sizeof(blk)))
				return dl_err_set(err, EUCLEAN,
						  "inode %u extent block %zu "
						  "(block %llu) differs from "
						  "media", ino, i,
						  (unsigned long long)
							  in->chain[i]);
		}
	}
	for (uint64_t b = 0; b < fs->sb.nblocks; b++)
		if (dl_alloc_is_used(fs->alloc, b) != bit(bm, b))
			return dl_err_set(err, EUCLEAN,
					  "block %llu: DRAM says %s, media "
					  "says %s", (unsigned long long)b,
					  dl_alloc_is_used(fs->alloc, b) ?
						  "used" : "free",
					  bit(bm, b) ? "used" : "free");
	return 0;
}

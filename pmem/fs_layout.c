/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fs_layout.c - layout changes: truncate and every fallocate mode, with
 * Linux's argument rules and errno values (fs/open.c vfs_fallocate and
 * ext4's rules for collapse and insert), plus detached-block release.
 *
 * Each operation: check -> reserve (blocks, extent slots, detached slots)
 * -> data zeroing, drained -> DRAM extent map change -> one transaction.
 */
#include <errno.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>

#include "fs_private.h"

#define BLK_MASK (DL_BLOCK_SIZE - 1)

/* Prepare the removal of [b0, b1) from ino: room for the runs it yields,
 * detached slots, map slots.  Nothing is changed. */
static int prepare_remove(struct dl_fs *fs, dl_ino_t ino, uint64_t b0,
			  uint64_t b1, uint64_t tag, struct dl_prun_list *runs,
			  struct dl_err *err)
{
	struct dl_inode *in = dl_fs_inode(fs, ino);
	size_t n = b1 > b0 ? dl_extmap_count_range(&in->map, b0, b1 - b0) : 0;
	int rc;

	if (dl_prun_reserve(runs, n + 1))
		return dl_err_set(err, ENOMEM, "out of memory");
	if (tag && n > dl_fs_detached_free_slots(fs))
		return dl_err_set(err, ENOSPC,
				  "detached-block table is full: release held "
				  "blocks first");
	rc = dl_fs_prepare_map(fs, ino, in->map.n + 2, err);
	if (rc)
		dl_fs_abort(fs);
	return rc;
}

/* Remove [b0, b1) and dispose of the blocks; true if anything went. */
static bool remove_range(struct dl_fs *fs, dl_ino_t ino, uint64_t b0,
			 uint64_t b1, uint64_t tag, struct dl_prun_list *runs)
{
	if (b1 <= b0)
		return false;
	runs->n = 0;
	dl_extmap_remove(&dl_fs_inode(fs, ino)->map, b0, b1 - b0, runs);
	dl_fs_dispose(fs, runs, tag);
	return runs->n > 0;
}

static int begin(struct dl_fs *fs, dl_ino_t ino, struct dl_inode **in,
		 struct dl_err *err)
{
	int rc;

	*in = dl_fs_file(fs, ino, err);
	if (!*in)
		return -ENOENT;
	rc = dl_fs_begin_change(fs, err);
	if (rc)
		return rc;
	if (dl_fs_mark_dirty(fs, ino))
		return dl_err_set(err, ENOMEM, "out of memory");
	return 0;
}

int dl_fs_truncate(struct dl_fs *fs, dl_ino_t ino, uint64_t size,
		   uint64_t tag, struct dl_err *err)
{
	struct dl_prun_list runs = { 0 };
	struct dl_inode *in;
	uint64_t keep;
	int rc;

	if (size > DL_MAX_FILE_SIZE)
		return dl_err_set(err, EFBIG,
				  "size beyond the largest file size (2^56 bytes)");
	rc = begin(fs, ino, &in, err);
	if (rc)
		return rc;
	/* ext4 drops blocks past EOF only when the size does not grow:
	 * truncate up keeps what fallocate KEEP_SIZE preallocated */
	keep = size > in->size ? UINT64_MAX >> DL_BLOCK_SHIFT
			       : dl_blocks_of(size);
	rc = prepare_remove(fs, ino, keep, UINT64_MAX >> DL_BLOCK_SHIFT, tag,
			    &runs, err);
	if (rc)
		goto out;
	dl_fs_extend(fs, ino, size);
	dl_flush_all(&fs->j);
	if (remove_range(fs, ino, keep, UINT64_MAX >> DL_BLOCK_SHIFT, tag,
			 &runs))
		dl_fs_layout_changed(fs, ino);
	in->size = size;
	in->mtime_ns = in->ctime_ns = dl_now_ns();
	rc = dl_fs_commit(fs, err);
out:
	dl_prun_free(&runs);
	return rc;
}

/* ---- fallocate ----------------------------------------------------------- */

#ifndef FALLOC_FL_WRITE_ZEROES
#define FALLOC_FL_WRITE_ZEROES 0x80
#endif
/* The operation bits; at most one may be set (KEEP_SIZE is a modifier). */
#define FALLOC_MODE_MASK (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE | \
			  FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE | \
			  FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_WRITE_ZEROES)

/*
 * The checks every filesystem gets from the VFS, in the VFS's order
 * (Linux 6.13 and later: one operation per call, KEEP_SIZE only where it
 * means something; older kernels returned EINVAL for some combinations).
 */
static int falloc_vfs_rules(int mode, uint64_t off, uint64_t len,
			    struct dl_err *err)
{
	int op = mode & FALLOC_MODE_MASK;

	if (off > INT64_MAX || len == 0 || len > INT64_MAX)
		return dl_err_set(err, EINVAL,
				  "offset must be >= 0 and length > 0");
	if (mode & ~(FALLOC_MODE_MASK | FALLOC_FL_KEEP_SIZE))
		return dl_err_set(err, EOPNOTSUPP, "unknown fallocate mode 0x%x",
				  mode);
	switch (op) {
	case 0:
	case FALLOC_FL_UNSHARE_RANGE:
	case FALLOC_FL_ZERO_RANGE:
		break;
	case FALLOC_FL_PUNCH_HOLE:
		if (!(mode & FALLOC_FL_KEEP_SIZE))
			return dl_err_set(err, EOPNOTSUPP,
					  "punch hole must be combined with "
					  "keep size");
		break;
	case FALLOC_FL_COLLAPSE_RANGE:
	case FALLOC_FL_INSERT_RANGE:
	case FALLOC_FL_WRITE_ZEROES:
		if (mode & FALLOC_FL_KEEP_SIZE)
			return dl_err_set(err, EOPNOTSUPP,
					  "this fallocate mode cannot keep "
					  "the size");
		break;
	default:
		return dl_err_set(err, EOPNOTSUPP,
				  "fallocate modes 0x%x cannot be combined", op);
	}
	if (off + len > DL_MAX_FILE_SIZE)
		return dl_err_set(err, EFBIG,
				  "range ends beyond the largest file size");
	if (op == FALLOC_FL_UNSHARE_RANGE || op == FALLOC_FL_WRITE_ZEROES)
		return dl_err_set(err, EOPNOTSUPP,
				  "fallocate mode 0x%x is not supported", mode);
	return 0;
}

static int falloc_allocate(struct dl_fs *fs, dl_ino_t ino, int mode,
			   uint64_t off, uint64_t len, struct dl_err *err)
{
	struct dl_inode *in = dl_fs_inode(fs, ino);
	struct dl_prun_list runs = { 0 };
	uint64_t b0 = off >> DL_BLOCK_SHIFT, b1 = dl_blocks_of(off + len);
	int rc;

	rc = dl_fs_begin_fill(fs, ino, b0, b1, &runs, err);
	if (rc)
		goto out;
	if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > in->size) {
		dl_fs_extend(fs, ino, off + len);
		dl_flush_all(&fs->j);
		in->size = off + len;
	}
	if (runs.n) {
		dl_fs_fill_holes(fs, ino, b0, b1, &runs, true);
		dl_fs_layout_changed(fs, ino);
	}
	in->ctime_ns = dl_now_ns();
	rc = dl_fs_commit(fs, err);
out:
	dl_prun_free(&runs);
	return rc;
}

/* Zero the partial blocks at either edge of [off, end) that are not
 * wholly inside it; returns the whole blocks [*fb0, *fb1) inside. */
static void zero_edges(struct dl_fs *fs, dl_ino_t ino, uint64_t off,
		       uint64_t end, uint64_t *fb0, uint64_t *fb1)
{
	*fb0 = dl_blocks_of(off);
	*fb1 = end >> DL_BLOCK_SHIFT;
	if (*fb0 > *fb1) {	/* inside one block */
		dl_fs_zero_written(fs, ino, off, end);
		*fb1 = *fb0;
		return;
	}
	dl_fs_zero_written(fs, ino, off, *fb0 << DL_BLOCK_SHIFT);
	dl_fs_zero_written(fs, ino, *fb1 << DL_BLOCK_SHIFT, end);
}

static int falloc_punch(struct dl_fs *fs, dl_ino_t ino, uint64_t off,
			uint64_t len, uint64_t tag, struct dl_err *err)
{
	struct dl_prun_list runs = { 0 };
	uint64_t fb0, fb1;
	int rc;

	rc = prepare_remove(fs, ino, dl_blocks_of(off), (off + len) >>
			    DL_BLOCK_SHIFT, tag, &runs, err);
	if (rc)
		goto out;
	zero_edges(fs, ino, off, off + len, &fb0, &fb1);
	dl_flush_all(&fs->j);
	if (remove_range(fs, ino, fb0, fb1, tag, &runs))
		dl_fs_layout_changed(fs, ino);
	dl_fs_inode(fs, ino)->mtime_ns = dl_fs_inode(fs, ino)->ctime_ns =
		dl_now_ns();
	rc = dl_fs_commit(fs, err);
out:
	dl_prun_free(&runs);
	return rc;
}

static int falloc_zero(struct dl_fs *fs, dl_ino_t ino, int mode, uint64_t off,
		       uint64_t len, struct dl_err *err)
{
	struct dl_inode *in = dl_fs_inode(fs, ino);
	struct dl_prun_list runs = { 0 };
	uint64_t b0 = off >> DL_BLOCK_SHIFT, b1 = dl_blocks_of(off + len);
	uint64_t fb0, fb1;
	int rc;

	/* holes in the range are preallocated, as Linux does */
	rc = dl_fs_begin_fill(fs, ino, b0, b1, &runs, err);
	if (rc)
		goto out;
	zero_edges(fs, ino, off, off + len, &fb0, &fb1);
	if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > in->size)
		dl_fs_extend(fs, ino, off + len);
	dl_flush_all(&fs->j);
	dl_fs_fill_holes(fs, ino, b0, b1, &runs, true);
	if (fb1 > fb0)
		dl_extmap_set_state(&in->map, fb0, fb1 - fb0, true);
	if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > in->size)
		in->size = off + len;
	dl_fs_layout_changed(fs, ino);
	rc = dl_fs_commit(fs, err);
out:
	dl_prun_free(&runs);
	return rc;
}

static int block_aligned(uint64_t off, uint64_t len, const char *what,
			 struct dl_err *err)
{
	if ((off | len) & BLK_MASK)
		return dl_err_set(err, EINVAL,
				  "%s needs offset and length in multiples of "
				  "the 4 KiB block size", what);
	return 0;
}

static int falloc_collapse(struct dl_fs *fs, dl_ino_t ino, uint64_t off,
			   uint64_t len, uint64_t tag, struct dl_err *err)
{
	struct dl_inode *in = dl_fs_inode(fs, ino);
	struct dl_prun_list runs = { 0 };
	uint64_t b0 = off >> DL_BLOCK_SHIFT, b1 = (off + len) >> DL_BLOCK_SHIFT;
	int rc;

	rc = block_aligned(off, len, "collapse range", err);
	if (rc)
		return rc;
	if (off + len >= in->size)
		return dl_err_set(err, EINVAL,
				  "collapse range must end before the end of "
				  "the file (use truncate)");
	rc = prepare_remove(fs, ino, b0, b1, tag, &runs, err);
	if (rc)
		goto out;
	remove_range(fs, ino, b0, b1, tag, &runs);
	dl_extmap_shift(&in->map, b1, -(int64_t)(b1 - b0));
	dl_extmap_normalize(&in->map);
	in->size -= len;
	dl_fs_layout_changed(fs, ino);
	rc = dl_fs_commit(fs, err);
out:
	dl_prun_free(&runs);
	return rc;
}

static int falloc_insert(struct dl_fs *fs, dl_ino_t ino, uint64_t off,
			 uint64_t len, struct dl_err *err)
{
	struct dl_inode *in = dl_fs_inode(fs, ino);
	uint64_t b0 = off >> DL_BLOCK_SHIFT, nb = len >> DL_BLOCK_SHIFT;
	int rc;

	rc = block_aligned(off, len, "insert range", err);
	if (rc)
		return rc;
	if (len > DL_MAX_FILE_SIZE - in->size ||
	    dl_extmap_end(&in->map) + nb > DL_MAX_FILE_SIZE >> DL_BLOCK_SHIFT)
		return dl_err_set(err, EFBIG,
				  "insert range would grow the file beyond "
				  "the largest file size");
	if (off >= in->size)
		return dl_err_set(err, EINVAL,
				  "insert range must start before the end of "
				  "the file");
	rc = dl_fs_prepare_map(fs, ino, in->map.n + 1, err);
	if (rc) {
		dl_fs_abort(fs);
		return rc;
	}
	dl_extmap_split(&in->map, b0);
	dl_extmap_shift(&in->map, b0, (int64_t)nb);
	in->size += len;
	dl_fs_layout_changed(fs, ino);
	return dl_fs_commit(fs, err);
}

int dl_fs_fallocate(struct dl_fs *fs, dl_ino_t ino, int mode, uint64_t off,
		    uint64_t len, uint64_t tag, struct dl_err *err)
{
	struct dl_inode *in;
	int rc;

	rc = falloc_vfs_rules(mode, off, len, err);
	if (rc)
		return rc;
	rc = begin(fs, ino, &in, err);
	if (rc)
		return rc;
	if (mode & FALLOC_FL_PUNCH_HOLE)
		rc = falloc_punch(fs, ino, off, len, tag, err);
	else if (mode & FALLOC_FL_ZERO_RANGE)
		rc = falloc_zero(fs, ino, mode, off, len, err);
	else if (mode & FALLOC_FL_COLLAPSE_RANGE)
		rc = falloc_collapse(fs, ino, off, len, tag, err);
	else if (mode & FALLOC_FL_INSERT_RANGE)
		rc = falloc_insert(fs, ino, off, len, err);
	else
		rc = falloc_allocate(fs, ino, mode, off, len, err);
	if (rc && fs->ndirty)
		dl_fs_abort(fs);	/* a rule refused it: nothing changed */
	return rc;
}

/* ---- extents and detached blocks ------------------------------------------- */

int dl_fs_extents(const struct dl_fs *fs, dl_ino_t ino, uint64_t offset,
		  uint64_t len, struct dl_extent *out, size_t max,
		  size_t *count)
{
	const struct dl_inode *in = dl_fs_file(fs, ino, NULL);
	uint64_t b0 = offset >> DL_BLOCK_SHIFT, b1;
	size_t n = 0;

	if (!in)
		return -ENOENT;
	if (offset >= DL_MAX_FILE_SIZE) {
		*count = 0;
		return 0;
	}
	b1 = len > DL_MAX_FILE_SIZE - offset ? DL_MAX_FILE_SIZE >> DL_BLOCK_SHIFT
					     : dl_blocks_of(offset + len);
	for (size_t i = dl_extmap_find(&in->map, b0);
	     i < in->map.n && in->map.ext[i].file_block < b1; i++, n++) {
		const struct dl_extent_rec *e = &in->map.ext[i];

		if (n < max)
			out[n] = (struct dl_extent){
				.file_offset = e->file_block << DL_BLOCK_SHIFT,
				.ns_offset = e->phys_block << DL_BLOCK_SHIFT,
				.length = (uint64_t)e->nblocks << DL_BLOCK_SHIFT,
				.unwritten = e->flags & DL_EXTENT_F_UNWRITTEN,
			};
	}
	*count = n;
	return 0;
}

int dl_fs_detached(const struct dl_fs *fs, struct dl_detached *out,
		   size_t max, size_t *count)
{
	size_t n = 0;

	for (uint64_t i = 0; i < fs->sb.ndetached; i++) {
		const struct dl_detached_rec *d = &fs->detached[i];

		if (!d->phys_block)
			continue;
		if (n < max)
			out[n] = (struct dl_detached){
				.ns_offset = d->phys_block << DL_BLOCK_SHIFT,
				.length = d->nblocks << DL_BLOCK_SHIFT,
				.tag = d->tag,
			};
		n++;
	}
	*count = n;
	return 0;
}

/* Blocks [p0, p1) of a detached entry return to free space; what is left
 * of the entry on either side stays (one side may need a new slot). */
static void release_part(struct dl_fs *fs, uint64_t i, uint64_t p0,
			 uint64_t p1)
{
	struct dl_detached_rec *d = &fs->detached[i], right = *d;
	struct dl_prun_list one = { &(struct dl_prun){ p0, p1 - p0 }, 1, 1 };

	dl_fs_dispose(fs, &one, 0);
	right.phys_block = p1;
	right.nblocks = d->phys_block + d->nblocks - p1;
	d->nblocks = p0 - d->phys_block;
	if (d->nblocks == 0)
		*d = right.nblocks ? right : (struct dl_detached_rec){ 0 };
	else if (right.nblocks)
		for (uint64_t k = 0; k < fs->sb.ndetached; k++)
			if (!fs->detached[k].phys_block) {
				fs->detached[k] = right;
				fs->detached_dirty[k] = true;
				break;
			}
	fs->detached_dirty[i] = true;
}

int dl_fs_release(struct dl_fs *fs, uint64_t tag, uint64_t ns_offset,
		  uint64_t length, struct dl_err *err)
{
	uint64_t r0 = ns_offset >> DL_BLOCK_SHIFT, r1, splits = 0, parts = 0;
	/* a part costs at most one bits record and two detached-table
	 * records (the entry and a split-off right part): under 128 bytes */
	uint64_t per_tx = (dl_journal_capacity(&fs->j) - 4096) / 128;
	int rc;

	rc = dl_fs_begin_change(fs, err);
	if (rc)
		return rc;
	if (tag == 0)
		return dl_err_set(err, EINVAL, "tag 0 holds no blocks");
	/* a range reaching past the top of the address space means "all" */
	r1 = ns_offset > UINT64_MAX - DL_BLOCK_SIZE ||
	     length > UINT64_MAX - DL_BLOCK_SIZE - ns_offset ?
		     UINT64_MAX >> DL_BLOCK_SHIFT :
		     dl_blocks_of(ns_offset + length);
	for (uint64_t i = 0; i < fs->sb.ndetached; i++) {
		const struct dl_detached_rec *d = &fs->detached[i];

		splits += d->tag == tag && d->phys_block < r0 &&
			  d->phys_block + d->nblocks > r1;
	}
	if (splits > dl_fs_detached_free_slots(fs))
		return dl_err_set(err, ENOSPC, "detached-block table is full");
	for (uint64_t i = 0; i < fs->sb.ndetached; i++) {
		const struct dl_detached_rec *d = &fs->detached[i];
		uint64_t p0, p1;

		if (!d->phys_block || d->tag != tag)
			continue;
		p0 = d->phys_block > r0 ? d->phys_block : r0;
		p1 = d->phys_block + d->nblocks < r1 ? d->phys_block + d->nblocks
						     : r1;
		if (p0 < p1) {
			release_part(fs, i, p0, p1);
			/* one transaction per journal's worth of entries:
			 * a tag may hold the whole table */
			if (++parts == per_tx) {
				rc = dl_fs_commit(fs, err);
				if (rc)
					return rc;
				parts = 0;
			}
		}
	}
	return dl_fs_commit(fs, err);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fs_data.c - reading and writing file data through the DAX view.
 *
 * Data is durable before the metadata that exposes it: a write copies and
 * flushes the data, drains (a persist point), and only then commits the
 * transaction that maps new blocks or moves the size.  Under group commit
 * (fs_commit.c) the flushes and the transaction wait for the batch's
 * commit, which drains all of the batch's data first.
 */
#include <errno.h>
#include <string.h>

#include "fs_private.h"

static void data_copy(struct dl_fs *fs, uint64_t phys, uint64_t in_blk,
		      const void *src, size_t len)
{
	uint8_t *dst = (uint8_t *)dl_fs_block(fs, phys) + in_blk;

	memcpy(dst, src, len);
	dl_flush_add(&fs->j, dst, len);
}

static void data_zero(struct dl_fs *fs, uint64_t phys, uint64_t in_blk,
		      size_t len)
{
	uint8_t *dst = (uint8_t *)dl_fs_block(fs, phys) + in_blk;

	memset(dst, 0, len);
	dl_flush_add(&fs->j, dst, len);
}

void dl_fs_zero_written(struct dl_fs *fs, dl_ino_t ino, uint64_t start,
			uint64_t end)
{
	const struct dl_extmap *m = &dl_fs_inode(fs, ino)->map;

	if (end <= start)
		return;
	for (size_t i = dl_extmap_find(m, start >> DL_BLOCK_SHIFT);
	     i < m->n; i++) {
		const struct dl_extent_rec *e = &m->ext[i];
		uint64_t es = e->file_block << DL_BLOCK_SHIFT;
		uint64_t ee = (e->file_block + e->nblocks) << DL_BLOCK_SHIFT;
		uint64_t s = es > start ? es : start, t = ee < end ? ee : end;

		if (es >= end)
			break;
		if (e->flags & DL_EXTENT_F_UNWRITTEN || s >= t)
			continue;
		memset((uint8_t *)dl_fs_block(fs, e->phys_block) + (s - es), 0,
		       t - s);
		dl_flush_add(&fs->j, (uint8_t *)dl_fs_block(fs, e->phys_block) +
				     (s - es), t - s);
	}
}

void dl_fs_extend(struct dl_fs *fs, dl_ino_t ino, uint64_t new_size)
{
	struct dl_inode *in = dl_fs_inode(fs, ino);

	/* bytes past EOF are undefined on media: zero them before they
	 * become part of the file */
	if (new_size > in->size)
		dl_fs_zero_written(fs, ino, in->size, new_size);
}

/* Count hole regions in [b0, b1), for the extent-count bound. */
static uint64_t hole_regions(const struct dl_extmap *m, uint64_t b0,
			     uint64_t b1)
{
	uint64_t n = 0, b = b0, phys, run;
	bool unw;

	while (b < b1) {
		bool mapped = dl_extmap_lookup(m, b, &phys, &unw, &run);

		n += !mapped;
		b = run > b1 - b ? b1 : b + run;
	}
	return n;
}

/* The namespace block to aim for when filling fblk: right after the
 * extent before it, so the new blocks can merge with it. */
static uint64_t goal_for(const struct dl_extmap *m, uint64_t fblk)
{
	size_t i = dl_extmap_find(m, fblk);

	if (i == 0)
		return m->n ? m->ext[0].phys_block : 0;
	return m->ext[i - 1].phys_block + m->ext[i - 1].nblocks +
	       (fblk - m->ext[i - 1].file_block - m->ext[i - 1].nblocks);
}

/*
 * Allocate the holes of [b0, b1) into runs, and reserve map room for
 * inserting them.  ENOSPC leaves nothing allocated.
 */
int dl_fs_alloc_holes(struct dl_fs *fs, dl_ino_t ino, uint64_t b0,
		      uint64_t b1, struct dl_prun_list *runs,
		      struct dl_err *err)
{
	struct dl_inode *in = dl_fs_inode(fs, ino);
	uint64_t holes = (b1 - b0) - dl_extmap_mapped_in(&in->map, b0, b1 - b0);
	int rc = 0;

	if (holes)
		rc = dl_fs_alloc(fs, holes, goal_for(&in->map, b0), runs, err);
	if (!rc)
		rc = dl_fs_prepare_map(fs, ino, in->map.n + runs->n +
					       hole_regions(&in->map, b0, b1) + 2,
				       err);
	if (rc)
		dl_fs_abort(fs);
	return rc;
}

int dl_fs_begin_fill(struct dl_fs *fs, dl_ino_t ino, uint64_t b0, uint64_t b1,
		     struct dl_prun_list *runs, struct dl_err *err)
{
	int rc;

	if (dl_prun_reserve(runs, 64))
		return dl_err_set(err, ENOMEM, "out of memory");
	rc = dl_fs_alloc_holes(fs, ino, b0, b1, runs, err);
	if (rc)
		return rc;
	if (dl_fs_mark_dirty(fs, ino)) {
		dl_fs_abort(fs);
		return dl_err_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

/* Map the runs into the holes of [b0, b1), in file order. */
void dl_fs_fill_holes(struct dl_fs *fs, dl_ino_t ino, uint64_t b0,
		      uint64_t b1, const struct dl_prun_list *runs,
		      bool unwritten)
{
	struct dl_extmap *m = &dl_fs_inode(fs, ino)->map;
	size_t r = 0;
	uint64_t used = 0, b = b0, phys, run;
	bool unw;

	while (b < b1 && r < runs->n) {
		uint64_t n;

		if (dl_extmap_lookup(m, b, &phys, &unw, &run)) {
			b = run > b1 - b ? b1 : b + run;
			continue;
		}
		n = run > b1 - b ? b1 - b : run;
		if (n > runs->v[r].len - used)
			n = runs->v[r].len - used;
		dl_extmap_insert(m, b, runs->v[r].phys + used, n, unwritten);
		b += n;
		used += n;
		if (used == runs->v[r].len) {
			r++;
			used = 0;
		}
	}
}

/* Where block fblk lives after the holes are filled with runs. */
static uint64_t phys_after_fill(const struct dl_extmap *m, uint64_t fblk,
				bool *fresh)
{
	uint64_t phys = 0, run;
	bool unw = false;

	dl_extmap_lookup(m, fblk, &phys, &unw, &run);
	*fresh = unw;
	return phys;
}

ssize_t dl_fs_write(struct dl_fs *fs, dl_ino_t ino, uint64_t off,
		    const void *buf, size_t len, struct dl_err *err)
{
	struct dl_inode *in = dl_fs_file(fs, ino, err);
	struct dl_prun_list runs = { 0 };
	uint64_t b0, b1, end, mapped_unw = 0;
	const uint8_t *src = buf;
	int rc;

	if (!in)
		return -ENOENT;
	rc = dl_fs_writable(fs, err);
	if (rc)
		return rc;
	if (len == 0)
		return 0;
	if (off >= DL_MAX_FILE_SIZE)
		return dl_err_set(err, EFBIG,
				  "write starts at or beyond the largest file "
				  "size");
	/* write(2) stops short at the limit (generic_write_check_limits) */
	if (len > DL_MAX_FILE_SIZE - off)
		len = DL_MAX_FILE_SIZE - off;
	end = off + len;
	b0 = off >> DL_BLOCK_SHIFT;
	b1 = dl_blocks_of(end);
	for (uint64_t b = b0, phys, run; b < b1;) {
		bool unw;

		if (dl_extmap_lookup(&in->map, b, &phys, &unw, &run) && unw)
			mapped_unw++;
		b = run > b1 - b ? b1 : b + run;
	}
	rc = dl_fs_begin_fill(fs, ino, b0, b1, &runs, err);
	if (rc)
		goto out;
	/* new blocks go in as unwritten, so that the copy loop below treats
	 * them exactly like preallocated ones; then the range is written */
	dl_fs_fill_holes(fs, ino, b0, b1, &runs, true);
	dl_fs_extend(fs, ino, off);
	for (uint64_t b = b0; b < b1; b++) {
		uint64_t bs = b << DL_BLOCK_SHIFT;
		uint64_t s = off > bs ? off - bs : 0;
		uint64_t t = end - bs < DL_BLOCK_SIZE ? end - bs : DL_BLOCK_SIZE;
		bool fresh;
		uint64_t phys = phys_after_fill(&in->map, b, &fresh);

		if (fresh) {	/* unwritten: the rest of the block is zero */
			data_zero(fs, phys, 0, s);
			data_zero(fs, phys, t, DL_BLOCK_SIZE - t);
		}
		data_copy(fs, phys, s, src + (bs + s - off), t - s);
	}
#ifndef DAXLEASE_UNSAFE_NO_DATA_DRAIN
	/* data durable before the metadata (a group commit drains the
	 * batch's data before its transaction: dl_fs_commit_batch) */
	if (!fs->group_commit)
		dl_flush_all(&fs->j);
#endif
	if (runs.n || mapped_unw) {
		dl_extmap_set_state(&in->map, b0, b1 - b0, false);
		dl_fs_layout_changed(fs, ino);
	}
	if (end > in->size)
		in->size = end;
	in->mtime_ns = in->ctime_ns = dl_now_ns();
	rc = fs->group_commit ? dl_fs_commit_later(fs, err) :
				dl_fs_commit(fs, err);
out:
	dl_prun_free(&runs);
	return rc ? rc : (ssize_t)len;
}

ssize_t dl_fs_read(const struct dl_fs *fs, dl_ino_t ino, uint64_t off,
		   void *buf, size_t len, struct dl_err *err)
{
	const struct dl_inode *in = dl_fs_file(fs, ino, err);
	uint8_t *dst = buf;
	uint64_t end, pos;

	if (!in)
		return -ENOENT;
	if (off >= in->size || len == 0)
		return 0;
	end = len > in->size - off ? in->size : off + len;
	for (pos = off; pos < end;) {
		uint64_t fblk = pos >> DL_BLOCK_SHIFT, in_blk = pos & 4095;
		uint64_t phys, run, n;
		bool unw;
		bool mapped = dl_extmap_lookup(&in->map, fblk, &phys, &unw, &run);

		/* bytes up to the end of this extent or hole, or of the read */
		n = end - pos;
		if (run < (n + in_blk + DL_BLOCK_SIZE - 1) >> DL_BLOCK_SHIFT)
			n = (run << DL_BLOCK_SHIFT) - in_blk;
		if (!mapped || unw) {
			memset(dst + (pos - off), 0, n);
		} else {
			uint64_t nsoff = (phys << DL_BLOCK_SHIFT) + in_blk;

			if (dl_ns_range_is_bad(fs->ns, nsoff, n))
				return dl_err_set(err, EIO,
						  "media error reading %s at "
						  "offset %llu (namespace "
						  "offset %llu)", in->name,
						  (unsigned long long)pos,
						  (unsigned long long)nsoff);
			memcpy(dst + (pos - off), fs->base + nsoff, n);
		}
		pos += n;
	}
	return (ssize_t)(end - off);
}

/*
 * Zero a run of whole blocks: by punching a hole where the namespace can
 * (a big fallocated range made writable then costs no data writes, and a
 * sparse image stays sparse), else by stores that the caller's
 * dl_flush_all() makes durable.  Small runs are not worth a syscall.
 */
#define ZERO_PUNCH_MIN (64 * DL_KiB)

static void zero_blocks(struct dl_fs *fs, uint64_t phys, uint64_t nblocks,
			bool *punched)
{
	uint64_t len = nblocks << DL_BLOCK_SHIFT;

	if (punched && len >= ZERO_PUNCH_MIN &&
	    !dl_ns_punch_zero(fs->ns, phys << DL_BLOCK_SHIFT, len)) {
		*punched = true;
		return;
	}
	data_zero(fs, phys, 0, len);
}

/* Zero every unwritten block of [b0, b1); punched NULL: stores only. */
static void zero_unwritten_with(struct dl_fs *fs, dl_ino_t ino, uint64_t b0,
				uint64_t b1, bool *punched)
{
	const struct dl_extmap *m = &dl_fs_inode(fs, ino)->map;

	for (size_t i = dl_extmap_find(m, b0); i < m->n; i++) {
		const struct dl_extent_rec *e = &m->ext[i];
		uint64_t s = e->file_block > b0 ? e->file_block : b0;
		uint64_t t = e->file_block + e->nblocks < b1 ?
				     e->file_block + e->nblocks : b1;

		if (e->file_block >= b1)
			break;
		if (!(e->flags & DL_EXTENT_F_UNWRITTEN) || s >= t)
			continue;
		zero_blocks(fs, e->phys_block + (s - e->file_block), t - s,
			    punched);
	}
}

/* Zero every unwritten block of [b0, b1) (new blocks are unwritten). */
static void zero_unwritten(struct dl_fs *fs, dl_ino_t ino, uint64_t b0,
			   uint64_t b1)
{
	bool punched = false;

	zero_unwritten_with(fs, ino, b0, b1, &punched);
	/* holes durable before the blocks are live, like the stores; if
	 * that fails, zero them again with stores */
	if (punched && dl_ns_punch_sync(fs->ns))
		zero_unwritten_with(fs, ino, b0, b1, NULL);
}

int dl_fs_prepare_write(struct dl_fs *fs, dl_ino_t ino, uint64_t off,
			uint64_t len, struct dl_err *err)
{
	struct dl_inode *in = dl_fs_file(fs, ino, err);
	struct dl_prun_list runs = { 0 };
	uint64_t b0, b1;
	int rc;

	if (!in)
		return -ENOENT;
	rc = dl_fs_begin_change(fs, err);
	if (rc)
		return rc;
	if (len == 0)
		return 0;
	if (off > DL_MAX_FILE_SIZE || len > DL_MAX_FILE_SIZE - off)
		return dl_err_set(err, EFBIG, "range beyond the largest file size");
	b0 = off >> DL_BLOCK_SHIFT;
	b1 = dl_blocks_of(off + len);
	if (dl_extmap_mapped_in(&in->map, b0, b1 - b0) == b1 - b0 &&
	    !dl_extmap_count_unwritten(&in->map, b0, b1 - b0))
		return 0;	/* already written: nothing to do */
	rc = dl_fs_begin_fill(fs, ino, b0, b1, &runs, err);
	if (rc)
		goto out;
	dl_fs_fill_holes(fs, ino, b0, b1, &runs, true);
	zero_unwritten(fs, ino, b0, b1);
	dl_flush_all(&fs->j);	/* zeros durable before the blocks are live */
	dl_extmap_set_state(&in->map, b0, b1 - b0, false);
	dl_fs_layout_changed(fs, ino);
	rc = dl_fs_commit(fs, err);
out:
	dl_prun_free(&runs);
	return rc;
}

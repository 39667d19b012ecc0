/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fs_inode.c - inode records and extent-map chains: DRAM <-> media.
 *
 * Decoding trusts nothing: every field of a record read from media is
 * checked before it is used, and a bad one yields -EUCLEAN and a message
 * naming the inode and the rule, never a crash.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "array.h"
#include "crc.h"
#include "fs_private.h"

uint64_t dl_inode_rec_off(const struct dl_fs *fs, dl_ino_t ino)
{
	return fs->sb.inodes.start * DL_BLOCK_SIZE +
	       (uint64_t)(ino - 1) * DL_INODE_SIZE;
}

uint64_t dl_chain_blocks(uint64_t n)
{
	if (n <= DL_INLINE_EXTENTS)
		return 0;
	return (n + DL_EXTBLK_CAPACITY - 1) / DL_EXTBLK_CAPACITY;
}

static uint32_t inode_checksum(const struct dl_inode_rec *rec)
{
	return dl_crc32c_skip(rec, sizeof(*rec),
			      offsetof(struct dl_inode_rec, checksum),
			      sizeof(rec->checksum));
}

static uint32_t extblk_checksum(const struct dl_extent_block *blk)
{
	return dl_crc32c_skip(blk, sizeof(*blk),
			      offsetof(struct dl_extent_block, checksum),
			      sizeof(blk->checksum));
}

void dl_inode_encode(const struct dl_fs *fs, dl_ino_t ino,
		     struct dl_inode_rec *rec)
{
	const struct dl_inode *in = dl_fs_inode(fs, ino);

	memset(rec, 0, sizeof(*rec));
	rec->generation = in ? in->generation : fs->free_gen[ino];
	if (in && in->flags & DL_INODE_F_USED) {
		rec->flags = in->flags;
		rec->mode = in->mode;
		rec->uid = in->uid;
		rec->gid = in->gid;
		rec->nextents = (uint32_t)in->map.n;
		rec->size = in->size;
		rec->nblocks = dl_extmap_total(&in->map);
		rec->atime_ns = in->atime_ns;
		rec->mtime_ns = in->mtime_ns;
		rec->ctime_ns = in->ctime_ns;
		rec->btime_ns = in->btime_ns;
		rec->layout_seq = in->layout_seq;
		rec->ext_chain = in->nchain ? in->chain[0] : 0;
		if (in->map.n && in->map.n <= DL_INLINE_EXTENTS)
			memcpy(rec->inline_ext, in->map.ext,
			       in->map.n * sizeof(rec->inline_ext[0]));
		rec->name_len = in->name_len;
		memcpy(rec->name, in->name, in->name_len);
	}
	rec->checksum = inode_checksum(rec);
}

void dl_extblk_encode(const struct dl_inode *in, dl_ino_t ino, size_t index,
		      struct dl_extent_block *blk)
{
	size_t first = index * DL_EXTBLK_CAPACITY;
	size_t count = in->map.n - first;

	if (count > DL_EXTBLK_CAPACITY)
		count = DL_EXTBLK_CAPACITY;
	memset(blk, 0, sizeof(*blk));
	blk->magic = DL_EXTBLK_MAGIC;
	blk->ino = ino;
	blk->count = (uint32_t)count;
	blk->next = index + 1 < in->nchain ? in->chain[index + 1] : 0;
	blk->generation = in->generation;
	memcpy(blk->ext, &in->map.ext[first], count * sizeof(blk->ext[0]));
	blk->checksum = extblk_checksum(blk);
}

static int bad(struct dl_err *err, dl_ino_t ino, const char *what)
{
	return dl_err_set(err, EUCLEAN, "inode %u: %s", ino, what);
}

/* Extents must be sorted, disjoint, non-empty, known flags, and lie in
 * the data area. */
static int check_extents(const struct dl_fs *fs, dl_ino_t ino,
			 const struct dl_extmap *m, struct dl_err *err)
{
	uint64_t prev_end = 0;

	for (size_t i = 0; i < m->n; i++) {
		const struct dl_extent_rec *e = &m->ext[i];

		if (e->nblocks == 0 || e->flags & ~DL_EXTENT_F_UNWRITTEN)
			return bad(err, ino, "extent with zero length or unknown flags");
		if (i && e->file_block < prev_end)
			return bad(err, ino, "extents overlap or are out of order");
		if (e->file_block > (DL_MAX_FILE_SIZE >> DL_BLOCK_SHIFT) -
					    e->nblocks)
			return bad(err, ino, "extent beyond the largest file size");
		if (!dl_run_inside(e->phys_block, e->nblocks,
				   fs->sb.data_start, fs->sb.nblocks))
			return bad(err, ino, "extent outside the data area");
		prev_end = e->file_block + e->nblocks;
	}
	return 0;
}

static int chain_push(struct dl_inode *in, uint64_t block)
{
	if (dl_array_reserve(&in->chain, &in->chain_cap, in->nchain + 1,
			     sizeof(in->chain[0])))
		return -ENOMEM;
	in->chain[in->nchain++] = block;
	return 0;
}

static int decode_chain(const struct dl_fs *fs, dl_ino_t ino,
			const struct dl_inode_rec *rec, struct dl_inode *out,
			struct dl_err *err)
{
	uint64_t block = rec->ext_chain, want = dl_chain_blocks(rec->nextents);

	for (uint64_t i = 0; i < want; i++) {
		const struct dl_extent_block *blk;
		uint64_t expect;

		if (block < fs->sb.data_start || block >= fs->sb.nblocks)
			return bad(err, ino, "extent chain points outside the data area");
		blk = dl_fs_block(fs, block);
		expect = rec->nextents - i * DL_EXTBLK_CAPACITY;
		if (expect > DL_EXTBLK_CAPACITY)
			expect = DL_EXTBLK_CAPACITY;
		if (blk->magic != DL_EXTBLK_MAGIC ||
		    extblk_checksum(blk) != blk->checksum)
			return bad(err, ino, "extent block has a bad magic or checksum");
		if (blk->ino != ino || blk->generation != rec->generation ||
		    blk->count != expect)
			return bad(err, ino, "extent block belongs to another file or has a wrong count");
		if (chain_push(out, block))
			return dl_err_set(err, ENOMEM, "out of memory");
		memcpy(&out->map.ext[out->map.n], blk->ext,
		       expect * sizeof(blk->ext[0]));
		out->map.n += expect;
		block = blk->next;
	}
	if (block != 0)
		return bad(err, ino, "extent chain is longer than its extent count");
	return 0;
}

int dl_inode_decode(const struct dl_fs *fs, dl_ino_t ino,
		    const struct dl_inode_rec *rec, struct dl_inode *out,
		    struct dl_err *err)
{
	int rc;

	static const struct dl_inode_rec zero;

	memset(out, 0, sizeof(*out));
	dl_extmap_init(&out->map);
	/* a slot never written is all zeros: most of a big table, and a
	 * compare is much cheaper than a CRC */
	if (!memcmp(rec, &zero, sizeof(zero)))
		return 0;
	if (rec->checksum != inode_checksum(rec))
		return bad(err, ino, "record checksum mismatch");
	out->generation = rec->generation;
	if (!(rec->flags & DL_INODE_F_USED))
		return 0;
	if (rec->flags & ~(DL_INODE_F_USED | DL_INODE_F_NODATASUM))
		return bad(err, ino, "unknown flags");
	if (rec->name_len == 0 || rec->name_len > DL_NAME_MAX ||
	    memchr(rec->name, '/', rec->name_len) ||
	    memchr(rec->name, '\0', rec->name_len))
		return bad(err, ino, "invalid name");
	if (!S_ISREG(rec->mode))
		return bad(err, ino, "not a regular file");
	if (rec->size > DL_MAX_FILE_SIZE)
		return bad(err, ino, "size beyond the largest file size");
	if (rec->nextents > fs->max_extents)
		return bad(err, ino, "more extents than a file may have");
	out->flags = rec->flags;
	out->mode = rec->mode;
	out->uid = rec->uid;
	out->gid = rec->gid;
	out->size = rec->size;
	out->layout_seq = rec->layout_seq;
	out->atime_ns = rec->atime_ns;
	out->mtime_ns = rec->mtime_ns;
	out->ctime_ns = rec->ctime_ns;
	out->btime_ns = rec->btime_ns;
	out->name_len = rec->name_len;
	out->name = strndup(rec->name, rec->name_len);
	if (!out->name)
		return dl_err_set(err, ENOMEM, "out of memory");
	if (dl_extmap_reserve(&out->map, rec->nextents + 4))
		return dl_err_set(err, ENOMEM, "out of memory");
	if (rec->nextents <= DL_INLINE_EXTENTS) {
		if (rec->ext_chain)
			return bad(err, ino, "extent chain on a file with inline extents");
		memcpy(out->map.ext, rec->inline_ext,
		       rec->nextents * sizeof(rec->inline_ext[0]));
		out->map.n = rec->nextents;
	} else {
		rc = decode_chain(fs, ino, rec, out, err);
		if (rc)
			return rc;
	}
	rc = check_extents(fs, ino, &out->map, err);
	if (rc)
		return rc;
	if (dl_extmap_total(&out->map) != rec->nblocks)
		return bad(err, ino, "block count disagrees with its extents");
	return 0;
}

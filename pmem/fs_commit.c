/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fs_commit.c - the life of one filesystem operation: reserve, change
 * DRAM, serialize what changed, commit (see fs_private.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "array.h"
#include "fs_private.h"

int64_t dl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int dl_fs_mark_dirty(struct dl_fs *fs, dl_ino_t ino)
{
	struct dl_inode *in = dl_fs_inode(fs, ino);

	if (in->dirty)
		return 0;
	if (dl_array_reserve(&fs->dirty_inodes, &fs->dirty_cap, fs->ndirty + 1,
			     sizeof(fs->dirty_inodes[0])))
		return -ENOMEM;
	fs->dirty_inodes[fs->ndirty++] = ino;
	in->dirty = true;
	return 0;
}

void dl_fs_layout_changed(struct dl_fs *fs, dl_ino_t ino)
{
	struct dl_inode *in = dl_fs_inode(fs, ino);

	in->layout_seq++;
	in->ctime_ns = in->mtime_ns = dl_now_ns();
	(void)fs;
}

static uint64_t reserved_blocks(const struct dl_prun_list *l)
{
	uint64_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->v[i].len;
	return n;
}

/*
 * Allocate want blocks into list l; ENOSPC leaves nothing taken.  One
 * allocator call returns at most 64 runs: when free space is in smaller
 * pieces than that allows, ask for less at a time rather than fail while
 * enough is free.
 */
static int alloc_runs(struct dl_fs *fs, uint64_t want, uint64_t goal,
		      struct dl_prun_list *l, struct dl_err *err)
{
	struct dl_run runs[64];
	size_t nruns, first = l->n;
	uint64_t chunk = want, total = want;
	int rc = 0;

	if (want > dl_alloc_free_blocks(fs->alloc))
		rc = -ENOSPC;
	while (!rc && want) {
		nruns = 0;
		if (chunk > want)
			chunk = want;
		rc = dl_alloc_get(fs->alloc, chunk, goal, runs, 64, &nruns);
		if (rc == -ENOSPC && chunk > 1) {
			chunk = (chunk + 1) / 2;	/* fragmented: smaller */
			rc = 0;
			continue;
		}
		if (rc)
			break;
		if (dl_prun_reserve(l, nruns)) {
			for (size_t i = 0; i < nruns; i++)
				dl_alloc_put(fs->alloc, runs[i].start,
					     runs[i].len);
			rc = -ENOMEM;
			break;
		}
		for (size_t i = 0; i < nruns; i++) {
			l->v[l->n++] = (struct dl_prun){ runs[i].start,
							 runs[i].len };
			want -= runs[i].len;
		}
		goal = runs[nruns - 1].start + runs[nruns - 1].len;
	}
	if (!rc)
		return 0;
	for (size_t i = first; i < l->n; i++)
		dl_alloc_put(fs->alloc, l->v[i].phys, l->v[i].len);
	l->n = first;
	if (rc == -ENOSPC) {
		char a[32], b[32];

		return dl_err_set(err, ENOSPC,
				  "no space: %s needed, %s free",
				  dl_fmt_size(a, sizeof(a), total * DL_BLOCK_SIZE),
				  dl_fmt_size(b, sizeof(b),
					      dl_alloc_free_blocks(fs->alloc) *
						      DL_BLOCK_SIZE));
	}
	if (rc == -ENOMEM)
		return dl_err_set(err, ENOMEM, "out of memory");
	return dl_err_set(err, -rc, "allocator failed");
}

int dl_fs_prepare_map(struct dl_fs *fs, dl_ino_t ino, uint64_t new_n,
		      struct dl_err *err)
{
	struct dl_inode *in = dl_fs_inode(fs, ino);
	uint64_t need, have;

	if (new_n > fs->max_extents)
		return dl_err_set(err, ENOSPC,
				  "%s would need %llu extents; a file may have "
				  "at most %llu (one transaction must fit the "
				  "journal)", in->name,
				  (unsigned long long)new_n,
				  (unsigned long long)fs->max_extents);
	if (dl_extmap_reserve(&in->map, new_n + 4))
		return dl_err_set(err, ENOMEM, "out of memory");
	need = dl_chain_blocks(new_n);
	have = in->nchain + reserved_blocks(&fs->reserved);
	if (need > have)
		return alloc_runs(fs, need - have,
				  in->nchain ? in->chain[in->nchain - 1] : 0,
				  &fs->reserved, err);
	return 0;
}

int dl_fs_alloc(struct dl_fs *fs, uint64_t want, uint64_t goal,
		struct dl_prun_list *runs, struct dl_err *err)
{
	size_t first = runs->n;
	int rc;

	if (dl_prun_reserve(&fs->allocated, 64))
		return dl_err_set(err, ENOMEM, "out of memory");
	rc = alloc_runs(fs, want, goal, runs, err);
	if (rc)
		return rc;
	for (size_t i = first; i < runs->n; i++) {
		if (dl_tx_bits(&fs->j, runs->v[i].phys, runs->v[i].len, true) ||
		    dl_prun_reserve(&fs->allocated, 1)) {
			dl_fs_abort(fs);
			return dl_err_set(err, ENOMEM, "out of memory");
		}
		fs->allocated.v[fs->allocated.n++] = runs->v[i];
	}
	return 0;
}

uint64_t dl_fs_detached_free_slots(const struct dl_fs *fs)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < fs->sb.ndetached; i++)
		n += fs->detached[i].phys_block == 0;
	return n;
}

static void detach_run(struct dl_fs *fs, const struct dl_prun *r, uint64_t tag)
{
	for (uint64_t i = 0; i < fs->sb.ndetached; i++) {
		if (fs->detached[i].phys_block)
			continue;
		fs->detached[i] = (struct dl_detached_rec){
			.phys_block = r->phys, .nblocks = r->len, .tag = tag,
		};
		fs->detached_dirty[i] = true;
		return;
	}
	/* callers check dl_fs_detached_free_slots() first */
	fs->broken = true;
}

void dl_fs_dispose(struct dl_fs *fs, const struct dl_prun_list *runs,
		   uint64_t tag)
{
	for (size_t i = 0; i < runs->n; i++) {
		if (tag) {
			detach_run(fs, &runs->v[i], tag);
			continue;
		}
		if (dl_tx_bits(&fs->j, runs->v[i].phys, runs->v[i].len, false) ||
		    dl_prun_reserve(&fs->to_free, 1)) {
			fs->broken = true;	/* ENOMEM mid-operation */
			return;
		}
		fs->to_free.v[fs->to_free.n++] = runs->v[i];
	}
}

int dl_fs_tx_diff(struct dl_fs *fs, const void *src, const void *dst,
		   size_t len)
{
	const uint8_t *s = src, *d = dst;
	size_t first = len, last = 0;

	/*
	 * In a batch of writes (group commit) the media is not what the
	 * records before this one leave: a line an earlier write changed
	 * may be back at its media value now (an extent merged away), and a
	 * diff against media would leave the earlier value in place at
	 * replay.  So every object after the batch's first write is
	 * journaled whole: the last record of each line is its final value.
	 */
	if (fs->batch_ops)
		return dl_tx_bytes(&fs->j, (uint64_t)(d - fs->base), s, len);
	for (size_t off = 0; off < len; off += 64) {
		size_t n = len - off < 64 ? len - off : 64;

		if (memcmp(s + off, d + off, n)) {
			if (first == len)
				first = off;
			last = off + n;
		}
	}
	if (first == len)
		return 0;
	return dl_tx_bytes(&fs->j, (uint64_t)(d + first - fs->base), s + first,
			   last - first);
}

static int take_reserved_block(struct dl_fs *fs, uint64_t *block)
{
	struct dl_prun *r;

	if (fs->reserved.n == 0)
		return -EIO;
	r = &fs->reserved.v[fs->reserved.n - 1];
	*block = r->phys;
	r->phys++;
	if (--r->len == 0)
		fs->reserved.n--;
	return 0;
}

/* Resize the chain of in to what its map needs. */
static int fit_chain(struct dl_fs *fs, struct dl_inode *in)
{
	uint64_t need = dl_chain_blocks(in->map.n);

	while (in->nchain > need) {
		struct dl_prun r = { in->chain[--in->nchain], 1 };

		if (dl_tx_bits(&fs->j, r.phys, 1, false) ||
		    dl_prun_reserve(&fs->to_free, 1))
			return -ENOMEM;
		fs->to_free.v[fs->to_free.n++] = r;
		fs->extent_blocks--;
	}
	while (in->nchain < need) {
		uint64_t block;

		if (dl_array_reserve(&in->chain, &in->chain_cap, in->nchain + 1,
				     sizeof(in->chain[0])))
			return -ENOMEM;
		if (take_reserved_block(fs, &block) ||
		    dl_tx_bits(&fs->j, block, 1, true))
			return -EIO;
		in->chain[in->nchain++] = block;
		fs->extent_blocks++;
	}
	return 0;
}

static int serialize_inode(struct dl_fs *fs, dl_ino_t ino)
{
	struct dl_inode *in = dl_fs_inode(fs, ino);
	struct dl_inode_rec rec;
	struct dl_extent_block blk;
	int rc;

	rc = fit_chain(fs, in);
	if (rc)
		return rc;
	for (size_t i = 0; i < in->nchain; i++) {
		dl_extblk_encode(in, ino, i, &blk);
		rc = dl_fs_tx_diff(fs, &blk, dl_fs_block(fs, in->chain[i]),
			     sizeof(blk));
		if (rc)
			return rc;
	}
	dl_inode_encode(fs, ino, &rec);
	return dl_fs_tx_diff(fs, &rec, fs->base + dl_inode_rec_off(fs, ino),
		       sizeof(rec));
}

static int serialize_detached(struct dl_fs *fs)
{
	uint8_t *table = dl_fs_block(fs, fs->sb.detached.start);

	for (uint64_t i = 0; i < fs->sb.ndetached; i++) {
		size_t sz = sizeof(fs->detached[0]);
		int rc;

		if (!fs->detached_dirty[i])
			continue;
		fs->detached_dirty[i] = false;
		rc = dl_fs_tx_diff(fs, &fs->detached[i], table + i * sz, sz);
		if (rc)
			return rc;
	}
	return 0;
}

static void put_runs(struct dl_fs *fs, struct dl_prun_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		dl_alloc_put(fs->alloc, l->v[i].phys, l->v[i].len);
	l->n = 0;
}

static void end_op(struct dl_fs *fs)
{
	for (size_t i = 0; i < fs->ndirty; i++)
		if (dl_fs_inode(fs, fs->dirty_inodes[i]))
			dl_fs_inode(fs, fs->dirty_inodes[i])->dirty = false;
	fs->ndirty = 0;
	fs->allocated.n = 0;
	put_runs(fs, &fs->reserved);
}

/*
 * DRAM already changed and the transaction cannot be written: refuse
 * further changes rather than let DRAM and media drift apart; reopening
 * recovers the last committed state.
 */
static void batch_reset(struct dl_fs *fs)
{
	fs->batch_ops = 0;
	fs->batch_len = 0;
	fs->batch_nrecords = 0;
	fs->batch_to_free = 0;
}

static void commit_fail(struct dl_fs *fs)
{
	fs->broken = true;
	dl_tx_discard(&fs->j);
	batch_reset(fs);
	end_op(fs);
}

static int serialize_dirty(struct dl_fs *fs)
{
	int rc = 0;

	for (size_t i = 0; i < fs->ndirty && !rc; i++)
		rc = serialize_inode(fs, fs->dirty_inodes[i]);
	if (!rc)
		rc = serialize_detached(fs);
	if (!rc)
		rc = dl_fs_pins_serialize(fs);
	return rc;
}

/* Why a commit could not be made; the filesystem is read-only now. */
static int commit_error(struct dl_fs *fs, int rc, struct dl_err *err)
{
	commit_fail(fs);
	/* the image shrank under this operation (its stores went nowhere:
	 * the guard absorbed a fault) or was found changed: ns_watch.c */
	if (dl_ns_health(fs->ns))
		return dl_err_set(err, EIO,
				  "the namespace image changed under this "
				  "operation; the filesystem is now read-only");
	/* the reservations made up front should make this impossible */
	return dl_err_set(err, EIO,
			  "internal error committing a transaction "
			  "(%d); the filesystem is now read-only", rc);
}

int dl_fs_commit(struct dl_fs *fs, struct dl_err *err)
{
	int rc = serialize_dirty(fs);

	if (!rc && !fs->broken && !dl_ns_health(fs->ns))
		rc = dl_tx_commit(&fs->j);
	if (rc || fs->broken || dl_ns_health(fs->ns))
		return commit_error(fs, rc, err);
	put_runs(fs, &fs->to_free);
	batch_reset(fs);
	for (size_t i = 0; i < fs->ndirty; i++) {
		dl_ino_t ino = fs->dirty_inodes[i];

		if (!(dl_fs_inode(fs, ino)->flags & DL_INODE_F_USED)) {
			dl_fs_inode(fs, ino)->dirty = false;
			dl_inode_release(fs, ino);
		}
	}
	end_op(fs);
	return 0;
}

void dl_fs_abort(struct dl_fs *fs)
{
	/* the batch of writes before this operation stays */
	dl_tx_rewind(&fs->j, fs->batch_len, fs->batch_nrecords);
	put_runs(fs, &fs->allocated);
	fs->to_free.n = fs->batch_to_free;
	for (uint64_t i = 0; i < fs->sb.ndetached; i++)
		fs->detached_dirty[i] = false;
	/* (pin records change only in fs_pins.c, which never aborts
	 * after changing one) */
	end_op(fs);
}

/* ---- group commit ------------------------------------------------------- */

/*
 * The batch may hold an eighth of the journal: any one operation fits in
 * the rest (dl_fs_max_extents gives a file a third), so the write that
 * joins a batch never makes a transaction the journal cannot take.
 */
#define BATCH_SHARE 8

void dl_fs_set_group_commit(struct dl_fs *fs, bool on)
{
	if (!on)
		dl_fs_commit_batch(fs, NULL);
	fs->group_commit = on;
}

uint64_t dl_fs_unsynced_writes(const struct dl_fs *fs)
{
	return fs->batch_ops;
}

int dl_fs_commit_later(struct dl_fs *fs, struct dl_err *err)
{
	int rc = serialize_dirty(fs);

	if (rc || fs->broken || dl_ns_health(fs->ns))
		return commit_error(fs, rc, err);
	fs->batch_ops++;
	fs->batch_len = fs->j.len;
	fs->batch_nrecords = fs->j.nrecords;
	fs->batch_to_free = fs->to_free.n;
	end_op(fs);
	if (dl_tx_size(&fs->j) > dl_journal_capacity(&fs->j) / BATCH_SHARE)
		return dl_fs_commit_batch(fs, err);
	return 0;
}

int dl_fs_commit_batch(struct dl_fs *fs, struct dl_err *err)
{
	if (!fs->batch_ops)
		return 0;
#ifndef DAXLEASE_UNSAFE_NO_DATA_DRAIN
	/* the batch's data durable before the metadata that exposes it */
	dl_flush_all(&fs->j);
#endif
	return dl_fs_commit(fs, err);
}

int dl_fs_sync(struct dl_fs *fs, struct dl_err *err)
{
	int rc = dl_fs_writable(fs, err);

	if (rc)
		return fs->batch_ops ? rc : 0;
#ifdef DAXLEASE_UNSAFE_NO_SYNC_COMMIT
	/* negative control: fsync forces nothing; the crash test must
	 * find fsync'ed writes lost */
	return 0;
#else
	return dl_fs_commit_batch(fs, err);
#endif
}

int dl_fs_begin_change(struct dl_fs *fs, struct dl_err *err)
{
	int rc = dl_fs_writable(fs, err);

	return rc ? rc : dl_fs_commit_batch(fs, err);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fs_private.h - the filesystem's DRAM state, shared by the fs_*.c files.
 *
 * DRAM is authoritative while the filesystem is open: an operation checks
 * everything that can fail, reserves what it needs (blocks, extent slots,
 * detached-table slots), then changes the DRAM objects, marks them dirty
 * and commits.  Commit serializes each dirty object and journals only the
 * bytes that differ from what is on media.  Nothing can fail between the
 * first DRAM change and the commit, so no operation is ever half-done.
 */
#ifndef DAXLEASE_PMEM_FS_PRIVATE_H
#define DAXLEASE_PMEM_FS_PRIVATE_H

#include "alloc.h"
#include "extmap.h"
#include "fs.h"
#include "journal.h"

struct dl_inode {
	uint32_t flags;		/* DL_INODE_F_*; 0 = free slot */
	uint32_t generation;
	uint32_t mode, uid, gid;
	uint64_t size;
	uint64_t layout_seq;
	int64_t atime_ns, mtime_ns, ctime_ns, btime_ns;
	uint16_t name_len;
	char *name;		/* NUL-terminated, malloc'ed */
	struct dl_extmap map;
	uint64_t *chain;	/* extent blocks, in chain order */
	size_t nchain, chain_cap;
	uint32_t hash_next;	/* name hash chain (ino), 0 = end */
	bool dirty;
};

struct dl_fs {
	struct dl_ns *ns;
	uint8_t *base;			/* namespace byte 0 */
	struct dl_superblock sb;	/* DRAM copy of the primary */
	struct dl_journal j;
	struct dl_alloc *alloc;
	/* [1 .. ninodes]: NULL for a free slot, whose generation is kept
	 * in free_gen; DRAM holds only files that exist */
	struct dl_inode **inodes;
	uint32_t *free_gen;
	uint64_t ninodes;
	uint64_t nfiles;
	uint32_t *hash;			/* name -> first ino */
	uint64_t hash_size;		/* power of two */
	struct dl_detached_rec *detached;	/* DRAM mirror of the table */
	bool *detached_dirty;
	struct dl_pin_rec *pinrecs;		/* DRAM mirror of the pins area */
	bool *pinrec_dirty;
	uint64_t npinrecs;
	uint64_t max_extents;		/* per file, so a tx always fits */
	uint64_t extent_blocks;		/* chain blocks in use */
	uint64_t recovered;		/* transactions replayed at open */
	/* why open refused the primary superblock (errnum 0: it did not) */
	struct dl_err primary_damage;
	/* what open found and dealt with (dl_fs_open_warnings) */
	struct dl_err warnings[DL_FS_MAX_WARNINGS];
	size_t nwarnings;
	/* the operation in progress */
	uint32_t *dirty_inodes;
	size_t ndirty, dirty_cap;
	struct dl_prun_list to_free;	/* back to DRAM free space after commit */
	struct dl_prun_list reserved;	/* chain blocks held for this op */
	struct dl_prun_list allocated;	/* data runs this op allocated */
	bool broken;			/* an internal error: refuse changes */
	/* group commit (fs_commit.c): the transaction's first batch_len
	 * bytes are writes that completed and wait for dl_fs_sync() */
	bool group_commit;
	uint64_t batch_ops;		/* writes in the batch; 0: none */
	size_t batch_len;
	uint32_t batch_nrecords;
	size_t batch_to_free;		/* to_free entries the batch owns */
};

static inline uint64_t dl_blocks_of(uint64_t bytes)
{
	return (bytes + DL_BLOCK_SIZE - 1) >> DL_BLOCK_SHIFT;
}

/* [start, start+n) is a non-empty run inside [lo, hi) - written so that
 * no value read from media can overflow it. */
static inline bool dl_run_inside(uint64_t start, uint64_t n, uint64_t lo,
				 uint64_t hi)
{
	return n > 0 && start >= lo && start < hi && n <= hi - start;
}

static inline void *dl_fs_block(const struct dl_fs *fs, uint64_t block)
{
	return fs->base + block * DL_BLOCK_SIZE;
}

int64_t dl_now_ns(void);

/* fs.c */
/* Extents one file may have so that any transaction fits the journal. */
uint64_t dl_fs_max_extents(uint64_t journal_bytes);
static inline struct dl_inode *dl_fs_inode(const struct dl_fs *fs,
					   dl_ino_t ino)
{
	return fs->inodes[ino];
}
/* The file ino, or NULL and -ENOENT/-ESTALE in err. */
struct dl_inode *dl_fs_file(const struct dl_fs *fs, dl_ino_t ino,
			    struct dl_err *err);
void dl_inode_release(struct dl_fs *fs, dl_ino_t ino);
int dl_fs_writable(const struct dl_fs *fs, struct dl_err *err);

/* fs_commit.c: dirty tracking, reservations, serialization, commit */
int dl_fs_mark_dirty(struct dl_fs *fs, dl_ino_t ino);
/* Blocks an extent map of n extents needs in its chain. */
uint64_t dl_chain_blocks(uint64_t n);
/*
 * Prepare ino for a change that may grow its map to at most new_n
 * extents: DRAM capacity, the per-file limit (-ENOSPC with a message) and
 * extra chain blocks (reserved in DRAM, committed only if used).
 */
int dl_fs_prepare_map(struct dl_fs *fs, dl_ino_t ino, uint64_t new_n,
		      struct dl_err *err);
/* Allocate want data blocks near goal into runs (journaled at commit). */
int dl_fs_alloc(struct dl_fs *fs, uint64_t want, uint64_t goal,
		struct dl_prun_list *runs, struct dl_err *err);
/* Free or detach runs removed from a file (tag 0: free at commit). */
void dl_fs_dispose(struct dl_fs *fs, const struct dl_prun_list *runs,
		   uint64_t tag);
/* Detached-table slots free for new entries. */
uint64_t dl_fs_detached_free_slots(const struct dl_fs *fs);
int dl_fs_commit(struct dl_fs *fs, struct dl_err *err);
/* A write's end under group commit: its records join the batch, which
 * commits only when it outgrows its share of the journal. */
int dl_fs_commit_later(struct dl_fs *fs, struct dl_err *err);
/* The start of every change but a write: dl_fs_writable(), then the
 * batch of writes commits, so the change never shares its transaction
 * with them (it fits the journal alone, as before). */
int dl_fs_begin_change(struct dl_fs *fs, struct dl_err *err);
/* Commit the batch (dl_fs_sync without its test-only switch). */
int dl_fs_commit_batch(struct dl_fs *fs, struct dl_err *err);
/* Journal the 64-byte lines of media [dst, dst+len) that differ from
 * src (dst: in the namespace mapping). */
int dl_fs_tx_diff(struct dl_fs *fs, const void *src, const void *dst,
		  size_t len);
/* Undo DRAM reservations of an operation that failed before changing
 * anything. */
void dl_fs_abort(struct dl_fs *fs);

/* fs_pins.c */
int dl_fs_pins_load(struct dl_fs *fs, struct dl_err *err);
void dl_fs_pins_free(struct dl_fs *fs);
/* Journal the changed records (dl_fs_commit). */
int dl_fs_pins_serialize(struct dl_fs *fs);

/* fs_inode.c: media <-> DRAM for inode records and extent chains */
/* Encode ino's record (a free record if the slot is free or the file's
 * flags are 0). */
void dl_inode_encode(const struct dl_fs *fs, dl_ino_t ino,
		     struct dl_inode_rec *rec);
int dl_inode_decode(const struct dl_fs *fs, dl_ino_t ino,
		    const struct dl_inode_rec *rec, struct dl_inode *out,
		    struct dl_err *err);
uint64_t dl_inode_rec_off(const struct dl_fs *fs, dl_ino_t ino);
void dl_extblk_encode(const struct dl_inode *ino_mem, dl_ino_t ino,
		      size_t index, struct dl_extent_block *blk);

/* fs_name.c */
uint64_t dl_name_hash(const char *name, size_t len);
void dl_name_insert(struct dl_fs *fs, dl_ino_t ino);
void dl_name_remove(struct dl_fs *fs, dl_ino_t ino);

/* fs_data.c: shared by writes and layout changes */
void dl_fs_zero_written(struct dl_fs *fs, dl_ino_t ino, uint64_t start,
			uint64_t end);
/* Zero what becomes visible when the size grows to new_size. */
void dl_fs_extend(struct dl_fs *fs, dl_ino_t ino, uint64_t new_size);
int dl_fs_alloc_holes(struct dl_fs *fs, dl_ino_t ino, uint64_t b0,
		      uint64_t b1, struct dl_prun_list *runs,
		      struct dl_err *err);
/* Reserve, allocate the holes of [b0, b1) and mark ino dirty: the start
 * of every operation that fills holes.  Nothing changed on error. */
int dl_fs_begin_fill(struct dl_fs *fs, dl_ino_t ino, uint64_t b0, uint64_t b1,
		     struct dl_prun_list *runs, struct dl_err *err);
void dl_fs_fill_holes(struct dl_fs *fs, dl_ino_t ino, uint64_t b0,
		      uint64_t b1, const struct dl_prun_list *runs,
		      bool unwritten);

/* Bump the layout sequence and ctime of a file whose map changed. */
void dl_fs_layout_changed(struct dl_fs *fs, dl_ino_t ino);

/* fs_xcheck.c: the block-ownership cross-check, shared by open and the
 * checker.  Claim every owner's blocks, then compare with the bitmap;
 * problems are added to rep. */
struct dl_xcheck {
	struct dl_check_report *rep;
	uint64_t nblocks;
	uint64_t *claimed;	/* one bit per block: bit b of word b / 64 */
};

void dl_check_problem(struct dl_check_report *rep, const char *kind,
		      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* -ENOMEM, or 0: x must then be finished with dl_xcheck_fini(). */
int dl_xcheck_init(struct dl_xcheck *x, uint64_t nblocks,
		   struct dl_check_report *rep);
void dl_xcheck_fini(struct dl_xcheck *x);
/* Claim [start, start+n) for owner (a phrase: "file 'a' (inode 3)"). */
void dl_xcheck_claim(struct dl_xcheck *x, uint64_t start, uint64_t n,
		     const char *owner);
/* A file's extent-map chain and extents (counted in rep). */
void dl_xcheck_claim_file(struct dl_xcheck *x, dl_ino_t ino,
			  const struct dl_inode *in);
/* The detached table t of sb->ndetached entries; invalid entries are
 * problems, not claims. */
void dl_xcheck_claim_detached(struct dl_xcheck *x,
			      const struct dl_superblock *sb,
			      const struct dl_detached_rec *t);
/* Compare the claims with an on-media bitmap (format.h convention, read
 * as 64-bit words) and count its free blocks. */
void dl_xcheck_bitmap(struct dl_xcheck *x, const uint64_t *bitmap);

/* fs_open_check.c: what open verifies and repairs once everything is
 * loaded.  -EUCLEAN (naming check-namespace) for an image open must not
 * serve; warnings for what it dealt with. */
int dl_fs_open_check(struct dl_fs *fs, struct dl_err *err);

#endif

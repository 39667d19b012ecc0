/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fs.h - the DAX filesystem kept on a namespace.
 *
 * A flat directory of regular files; each file is an extent map from file
 * blocks to namespace blocks, written or unwritten.  Every metadata change
 * is one journal transaction, durable when the call returns; file data
 * written through dl_fs_write() is durable when the call returns too -
 * unless group commit is on (dl_fs_set_group_commit): then a write is
 * durable at the next dl_fs_sync(), at the next other change (which
 * commits the writes before it first), when the batch of writes outgrows
 * its share of the journal, or at dl_fs_close().
 *
 * Freeing is two steps: a layout change *detaches* blocks from the file;
 * they return to free space either in the same transaction (detach_tag 0)
 * or later, when the owner of detach_tag calls dl_fs_release() - which is
 * how the service keeps a pinned block out of free space until its pin
 * drops.  Detached blocks are recorded on media and survive a restart.
 *
 * Not thread-safe: the service core is one thread.
 */
#ifndef DAXLEASE_PMEM_FS_H
#define DAXLEASE_PMEM_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "format.h"
#include "namespace.h"

/* Largest file: 2^44 blocks of 4 KiB = 64 PiB (EFBIG beyond). */
#define DL_MAX_FILE_SIZE (1ULL << 56)

typedef uint32_t dl_ino_t;

struct dl_fs;

struct dl_mkfs_params {
	/* 0: one per 256 KiB of namespace, at least 1024, at most 262144;
	 * an explicit value may be up to 1,048,576 */
	uint64_t ninodes;
	/* 0: size/64 clamped to 1 MiB .. 16 MiB; an explicit value may be
	 * 256 KiB .. 256 MiB */
	uint64_t journal_bytes;
};

struct dl_stat {
	dl_ino_t ino;
	uint32_t generation;
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint32_t flags;
	uint64_t size;
	uint64_t nblocks;	/* 4 KiB blocks mapped */
	uint64_t nextents;
	uint64_t layout_seq;
	int64_t atime_ns, mtime_ns, ctime_ns, btime_ns;
	char name[DL_NAME_MAX + 1];
};

struct dl_extent {
	uint64_t file_offset;	/* bytes */
	uint64_t ns_offset;	/* bytes from the namespace start */
	uint64_t length;	/* bytes */
	bool unwritten;
};

struct dl_detached {
	uint64_t ns_offset;	/* bytes */
	uint64_t length;
	uint64_t tag;
};

struct dl_statfs {
	uint64_t block_size;
	uint64_t blocks;		/* namespace blocks */
	uint64_t meta_blocks;		/* fixed metadata areas */
	uint64_t data_blocks;		/* blocks the allocator manages */
	uint64_t free_blocks;
	uint64_t detached_blocks;	/* detached, not yet released */
	uint64_t extent_blocks;		/* extent-map overflow blocks */
	uint64_t inodes;
	uint64_t free_inodes;
	uint64_t files;
	uint64_t journal_bytes;
	uint64_t max_extents_per_file;
	uint64_t transactions;		/* committed since open */
	uint64_t recovered_transactions;	/* replayed at open */
	struct dl_persist_stats persist;
};

/* Format ns (destroys its contents). */
int dl_fs_format(struct dl_ns *ns, const struct dl_mkfs_params *p,
		 struct dl_err *err);

/* Open the filesystem on ns, replaying a committed journal transaction
 * (read-only namespaces: -EROFS if one is pending), then verifying that
 * every block has at most one owner and every owned block is marked in
 * use (-EUCLEAN, naming check-namespace, if not: fs_open_check.c). */
int dl_fs_open(struct dl_ns *ns, struct dl_fs **out, struct dl_err *err);
void dl_fs_close(struct dl_fs **fs);
/*
 * What dl_fs_open() found wrong and dealt with instead of refusing: a
 * damaged primary superblock (rewritten from the secondary), blocks
 * marked in use that nothing owns.  One sentence each, for the caller to
 * log as warnings.  Returns how many (at most DL_FS_MAX_WARNINGS) and
 * points *out at them; they live as long as fs.
 */
#define DL_FS_MAX_WARNINGS 4
size_t dl_fs_open_warnings(const struct dl_fs *fs, const struct dl_err **out);
struct dl_ns *dl_fs_ns(const struct dl_fs *fs);
void dl_fs_statfs(const struct dl_fs *fs, struct dl_statfs *out);

/* ---- names ---------------------------------------------------------------- */

/* Names: 1..255 bytes, no '/', no NUL, not "." or "..". */
int dl_fs_name_check(const char *name, struct dl_err *err);

int dl_fs_create(struct dl_fs *fs, const char *name, uint32_t mode,
		 uint32_t uid, uint32_t gid, dl_ino_t *ino, struct dl_err *err);
int dl_fs_lookup(const struct dl_fs *fs, const char *name, dl_ino_t *ino);
/* Unlink: the file's blocks are detached under detach_tag (0 = free now). */
int dl_fs_unlink(struct dl_fs *fs, const char *name, uint64_t detach_tag,
		 struct dl_err *err);
#define DL_RENAME_NOREPLACE 0x1
/* Rename; an existing target is replaced (and its blocks detached under
 * detach_tag) unless DL_RENAME_NOREPLACE. */
int dl_fs_rename(struct dl_fs *fs, const char *from, const char *to,
		 unsigned flags, uint64_t detach_tag, struct dl_err *err);
int dl_fs_stat(const struct dl_fs *fs, dl_ino_t ino, struct dl_stat *out);
int dl_fs_setattr(struct dl_fs *fs, dl_ino_t ino, uint32_t mode, uint32_t uid,
		  uint32_t gid, struct dl_err *err);
/* Iterate files in inode order: *cursor starts at 0; returns 1 and fills
 * out while there are more, 0 at the end. */
int dl_fs_next_file(const struct dl_fs *fs, uint64_t *cursor,
		    struct dl_stat *out);

/* ---- data ------------------------------------------------------------------ */

/* Returns bytes written, or -errno (ENOSPC leaves the file unchanged). */
ssize_t dl_fs_write(struct dl_fs *fs, dl_ino_t ino, uint64_t offset,
		    const void *buf, size_t len, struct dl_err *err);
/* Returns bytes read (short at EOF), or -errno (-EIO: a badblock). */
ssize_t dl_fs_read(const struct dl_fs *fs, dl_ino_t ino, uint64_t offset,
		   void *buf, size_t len, struct dl_err *err);

/*
 * Group commit, as journaling filesystems batch their metadata: with it
 * on, dl_fs_write() stores and queues the data and keeps its metadata
 * (new blocks, size, times) in a transaction that further writes join;
 * dl_fs_sync() makes the data durable, then commits that transaction.
 * Every other change commits the writes before it first, so a crash
 * leaves the state after some operation at or after the last completed
 * dl_fs_sync() or non-write change - writes after it may be lost, or
 * (in blocks the file had before) be there in part.  Off by default.
 */
void dl_fs_set_group_commit(struct dl_fs *fs, bool on);
/* Make every write so far durable: 0 or -errno (EIO: read-only now). */
int dl_fs_sync(struct dl_fs *fs, struct dl_err *err);
/* Writes waiting for a commit (0 with group commit off). */
uint64_t dl_fs_unsynced_writes(const struct dl_fs *fs);

/* ---- layout changes --------------------------------------------------------- */

int dl_fs_truncate(struct dl_fs *fs, dl_ino_t ino, uint64_t size,
		   uint64_t detach_tag, struct dl_err *err);
/* mode: 0 or FALLOC_FL_* from <linux/falloc.h>, with Linux's rules. */
int dl_fs_fallocate(struct dl_fs *fs, dl_ino_t ino, int mode, uint64_t offset,
		    uint64_t len, uint64_t detach_tag, struct dl_err *err);

/*
 * Make [offset, offset+len) writable through a mapping (the page_mkwrite
 * step): holes get blocks and unwritten extents become written, all
 * zeroed first.  The size does not change.  Returns 0 or -errno (ENOSPC
 * leaves the file unchanged).
 */
int dl_fs_prepare_write(struct dl_fs *fs, dl_ino_t ino, uint64_t offset,
			uint64_t len, struct dl_err *err);

/* Extents overlapping [offset, offset+len), in file order. */
int dl_fs_extents(const struct dl_fs *fs, dl_ino_t ino, uint64_t offset,
		  uint64_t len, struct dl_extent *out, size_t max,
		  size_t *count);

/* ---- detached blocks ---------------------------------------------------------- */

int dl_fs_detached(const struct dl_fs *fs, struct dl_detached *out,
		   size_t max, size_t *count);
/* Return the blocks of detach_tag inside [ns_offset, ns_offset+length) to
 * free space (length UINT64_MAX: all of the tag's blocks). */
int dl_fs_release(struct dl_fs *fs, uint64_t detach_tag, uint64_t ns_offset,
		  uint64_t length, struct dl_err *err);

/* ---- pin records (restart safety, format.h) --------------------------------------- */

/* The process a pin record names: pid and start time, in one boot, and
 * its connection's token. */
struct dl_pin_owner {
	uint32_t pid;
	uint32_t token;
	uint64_t start_time;
	uint8_t boot_id[16];
};

struct dl_ns_range {
	uint64_t ns_offset;	/* bytes */
	uint64_t length;
};

struct dl_pin_record {
	struct dl_pin_owner owner;
	struct dl_ns_range range;
};

/* Record slots in all, and unused ones. */
size_t dl_fs_pins_capacity(const struct dl_fs *fs);
size_t dl_fs_pins_unused(const struct dl_fs *fs);
/*
 * Make o's records exactly these n ranges (4 KiB aligned, inside the
 * namespace), in one transaction: durable when it returns.  n 0 removes
 * them.  -ENOSPC (nothing changed) when the slots would not suffice.
 */
int dl_fs_pins_set(struct dl_fs *fs, const struct dl_pin_owner *o,
		   const struct dl_ns_range *r, size_t n, struct dl_err *err);
/* Every record (up to max to out, all counted in *count). */
int dl_fs_pins_list(const struct dl_fs *fs, struct dl_pin_record *out,
		    size_t max, size_t *count);
/* Remove the records of every owner keep() says no to (transactions of
 * a journal's worth each). */
int dl_fs_pins_retain(struct dl_fs *fs,
		      bool (*keep)(const struct dl_pin_owner *, void *),
		      void *arg, struct dl_err *err);
bool dl_pin_owner_eq(const struct dl_pin_owner *a,
		     const struct dl_pin_owner *b);

/* ---- checker ------------------------------------------------------------------- */

#define DL_CHECK_MAX_PROBLEMS 64

struct dl_check_problem {
	char kind[32];		/* stable identifier, e.g. "block-double-use" */
	char detail[224];	/* one sentence for a human */
};

struct dl_check_report {
	size_t nproblems;	/* total found (may exceed the array) */
	struct dl_check_problem problems[DL_CHECK_MAX_PROBLEMS];
	uint64_t files;
	uint64_t extents;
	uint64_t blocks_total;
	uint64_t blocks_free;
	uint64_t blocks_file;
	uint64_t blocks_extent_maps;
	uint64_t blocks_detached;
	uint64_t blocks_metadata;
	uint64_t pin_records;	/* processes' ranges a restart must keep */
	char journal_state[32];	/* "clean", "replayed", "pending", "corrupt" */
	uint64_t journal_seq;
};

/*
 * Verify the filesystem on ns: superblock, journal, inodes, extent maps,
 * bitmap, detached table.  Returns 0 when the check ran (problems, if any,
 * are in rep), or -errno when the namespace could not be read at all.
 * A read-write ns gets its committed journal transaction replayed first
 * (what every open does); a read-only one reports it as "pending".
 */
int dl_fs_check(struct dl_ns *ns, struct dl_check_report *rep,
		struct dl_err *err);

/* Test self-check: DRAM state equals media (-EUCLEAN and why if not). */
int dl_fs_verify_media(const struct dl_fs *fs, struct dl_err *err);

/* ---- parsers, exposed for the fuzz target -------------------------------------- */

int dl_superblock_check(const void *buf, size_t len, uint64_t ns_size,
			struct dl_err *err);
/* Validate a journal area image: 1 = committed transaction, 0 = none,
 * -EINVAL = malformed beyond the checksum (a bug or corruption). */
int dl_journal_check(const void *area, size_t len, uint64_t ns_size,
		     struct dl_err *err);

#endif

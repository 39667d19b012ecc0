/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fs.c - format, open (recover, load, verify: fs_open_check.c), close,
 * statistics.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "crc.h"
#include "fs_private.h"

#define DETACHED_ENTRIES 4096
#define PIN_AREA_BLOCKS 64	/* reserved for restart-safe pin records */

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static uint64_t blocks_for(uint64_t bytes)
{
	return (bytes + DL_BLOCK_SIZE - 1) / DL_BLOCK_SIZE;
}

static uint32_t sb_checksum(const struct dl_superblock *sb)
{
	return dl_crc32c_skip(sb, sizeof(*sb), offsetof(struct dl_superblock,
							checksum),
			      sizeof(sb->checksum));
}

/*
 * Worst case journal bytes per extent of one file: its share of a
 * rewritten chain block, plus a detached-table slot and a bitmap record
 * when it is removed.  Two files may change in one transaction (rename
 * over an existing file), so each gets a third of the journal.
 */
uint64_t dl_fs_max_extents(uint64_t journal_bytes)
{
	uint64_t per_file = journal_bytes / 3, per_extent = 112;

	if (per_file < 8192)
		return DL_INLINE_EXTENTS;
	return (per_file - 8192) / per_extent;
}

/* ---- superblock ------------------------------------------------------------ */

static bool area_ok(const struct dl_area *a, uint64_t lo, uint64_t nblocks)
{
	return a->start >= lo && a->start <= nblocks &&
	       a->nblocks <= nblocks - a->start;
}

int dl_superblock_check(const void *buf, size_t len, uint64_t ns_size,
			struct dl_err *err)
{
	const struct dl_superblock *sb = buf;
	uint64_t nb, end;

	if (len < sizeof(*sb))
		return dl_err_set(err, EINVAL, "superblock is truncated");
	if (sb->magic != DL_SB_MAGIC)
		return dl_err_set(err, EINVAL,
				  "no daxlease filesystem (bad superblock magic)");
	/* the version first: a newer major may checksum differently, and
	 * must be refused as newer, not reported as damaged */
	if (sb->major > DL_SB_MAJOR)
		return dl_err_set(err, EPROTONOSUPPORT,
				  "filesystem version %u.%u is newer than this "
				  "daxlease (%u.%u)", sb->major, sb->minor,
				  DL_SB_MAJOR, DL_SB_MINOR);
	if (sb->checksum != sb_checksum(sb))
		return dl_err_set(err, EINVAL, "superblock checksum mismatch");
	if (sb->incompat & ~DL_FS_INCOMPAT_KNOWN)
		return dl_err_set(err, EPROTONOSUPPORT,
				  "filesystem uses unknown incompatible "
				  "features 0x%llx",
				  (unsigned long long)(sb->incompat &
						       ~DL_FS_INCOMPAT_KNOWN));
	nb = sb->nblocks;
	if (sb->block_size != DL_BLOCK_SIZE || nb == 0 ||
	    nb > ns_size / DL_BLOCK_SIZE)
		return dl_err_set(err, EINVAL,
				  "superblock geometry does not match the "
				  "namespace (%llu blocks of %llu bytes)",
				  (unsigned long long)nb,
				  (unsigned long long)sb->block_size);
	if (!area_ok(&sb->journal, DL_SB_COPIES, nb) ||
	    !area_ok(&sb->bitmap, DL_SB_COPIES, nb) ||
	    !area_ok(&sb->inodes, DL_SB_COPIES, nb) ||
	    !area_ok(&sb->detached, DL_SB_COPIES, nb) ||
	    !area_ok(&sb->pins, DL_SB_COPIES, nb) ||
	    !area_ok(&sb->csums, 0, nb))
		return dl_err_set(err, EINVAL, "superblock area out of range");
	end = sb->pins.start + sb->pins.nblocks;
	if (sb->journal.nblocks < 2 || sb->bitmap.nblocks < blocks_for((nb + 7) / 8) ||
	    sb->ninodes == 0 || sb->ninodes > UINT32_MAX - 1 ||
	    sb->inodes.nblocks < blocks_for(sb->ninodes * DL_INODE_SIZE) ||
	    sb->ndetached == 0 ||
	    sb->ndetached > sb->detached.nblocks *
				    (DL_BLOCK_SIZE /
				     sizeof(struct dl_detached_rec)) ||
	    sb->data_start < end || sb->data_start >= nb)
		return dl_err_set(err, EINVAL, "superblock areas are inconsistent");
	return 0;
}

/* ---- format ------------------------------------------------------------------ */

/* Zero [off, off+len) of the namespace: a fake NVDIMM punches the image
 * (sparse again, and instant), a device gets memset + persist. */
static void zero_area(struct dl_ns *ns, uint64_t off, uint64_t len)
{
	struct dl_ns_info info;

	dl_ns_get_info(ns, &info);
	if (info.kind == DL_NS_FAKE &&
	    fallocate(dl_ns_fd(ns), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(info.data_offset + off), (off_t)len) == 0)
		return;
	memset((uint8_t *)dl_ns_base(ns) + off, 0, len);
	dl_ns_persist(ns, (uint8_t *)dl_ns_base(ns) + off, len);
}

static int layout(struct dl_superblock *sb, uint64_t ns_size,
		  const struct dl_mkfs_params *p, struct dl_err *err)
{
	uint64_t nb = ns_size / DL_BLOCK_SIZE, next = DL_SB_COPIES;
	uint64_t ninodes = p && p->ninodes ? p->ninodes :
			   clamp(ns_size / (256 * DL_KiB), 1024, 262144);
	uint64_t jbytes = p && p->journal_bytes ? p->journal_bytes :
			  clamp(ns_size / 64, DL_MiB, 16 * DL_MiB);
	char a[32];

	if (ninodes > 1048576)
		return dl_err_set(err, EINVAL,
				  "%llu inodes requested; at most 1048576",
				  (unsigned long long)ninodes);
	if (jbytes < 256 * DL_KiB || jbytes > 256 * DL_MiB)
		return dl_err_set(err, EINVAL,
				  "journal size must be 256 KiB .. 256 MiB");
#define PLACE(area, n) do { sb->area.start = next; sb->area.nblocks = (n); \
			    next += (n); } while (0)
	PLACE(journal, blocks_for(jbytes));
	PLACE(bitmap, blocks_for((nb + 7) / 8));
	PLACE(inodes, blocks_for(ninodes * DL_INODE_SIZE));
	PLACE(detached, blocks_for(DETACHED_ENTRIES * sizeof(struct dl_detached_rec)));
	PLACE(pins, PIN_AREA_BLOCKS);
#undef PLACE
	sb->csums = (struct dl_area){ 0, 0 };
	if (next >= nb / 2)
		return dl_err_set(err, ENOSPC,
				  "namespace of %s is too small: metadata "
				  "would take half of it",
				  dl_fmt_size(a, sizeof(a), ns_size));
	sb->magic = DL_SB_MAGIC;
	sb->major = DL_SB_MAJOR;
	sb->minor = DL_SB_MINOR;
	sb->block_size = DL_BLOCK_SIZE;
	sb->nblocks = nb;
	sb->ninodes = ninodes;
	sb->ndetached = DETACHED_ENTRIES;
	sb->data_start = next;
	sb->create_time = (uint64_t)time(NULL);
	return 0;
}

int dl_fs_format(struct dl_ns *ns, const struct dl_mkfs_params *p,
		 struct dl_err *err)
{
	struct dl_superblock sb = { 0 };
	struct dl_ns_info info;
	uint8_t *base = dl_ns_base(ns), *bm;
	int rc;

	if (dl_ns_read_only(ns))
		return dl_err_set(err, EROFS, "namespace is open read-only");
	dl_ns_get_info(ns, &info);
	rc = layout(&sb, info.size, p, err);
	if (rc)
		return rc;
	memcpy(sb.ns_uuid, info.uuid, sizeof(sb.ns_uuid));
	sb.ns_align = info.align;
	if (getrandom(sb.uuid, sizeof(sb.uuid), 0) != sizeof(sb.uuid))
		return dl_err_set(err, EIO, "getrandom failed");
	/* the old superblock goes first, so a crash mid-format leaves no
	 * half-formatted filesystem that looks valid */
	zero_area(ns, 0, DL_SB_COPIES * DL_BLOCK_SIZE);
	zero_area(ns, sb.journal.start * DL_BLOCK_SIZE,
		  (sb.data_start - sb.journal.start) * DL_BLOCK_SIZE);
	bm = base + sb.bitmap.start * DL_BLOCK_SIZE;
	for (uint64_t b = 0; b < sb.data_start; b++)
		bm[b >> 3] |= (uint8_t)(1u << (b & 7));
	dl_ns_persist(ns, bm, (sb.data_start + 7) / 8);
	sb.checksum = sb_checksum(&sb);
	memcpy(base + DL_BLOCK_SIZE, &sb, sizeof(sb));
	dl_ns_persist(ns, base + DL_BLOCK_SIZE, sizeof(sb));
	memcpy(base, &sb, sizeof(sb));
	dl_ns_persist(ns, base, sizeof(sb));
	return 0;
}

/* ---- open ------------------------------------------------------------------ */

struct dl_inode *dl_fs_file(const struct dl_fs *fs, dl_ino_t ino,
			    struct dl_err *err)
{
	if (ino == 0 || ino > fs->ninodes || !fs->inodes[ino]) {
		dl_err_set(err, ENOENT, "no file with inode number %u", ino);
		return NULL;
	}
	return fs->inodes[ino];
}

static void inode_destroy(struct dl_inode *in)
{
	if (!in)
		return;
	free(in->name);
	free(in->chain);
	dl_extmap_free(&in->map);
	free(in);
}

void dl_inode_release(struct dl_fs *fs, dl_ino_t ino)
{
	struct dl_inode *in = fs->inodes[ino];

	fs->free_gen[ino] = in->generation;
	fs->inodes[ino] = NULL;
	inode_destroy(in);
}

int dl_fs_writable(const struct dl_fs *fs, struct dl_err *err)
{
	if (dl_ns_read_only(fs->ns))
		return dl_err_set(err, EROFS, "namespace is open read-only");
	/* ns_watch.c: a change never runs on an image that changed under us */
	if (dl_ns_check(fs->ns, false))
		return dl_err_set(err, EIO,
				  "the namespace image was changed behind the "
				  "service's back; the filesystem is read-only "
				  "until it is reopened");
	if (fs->broken)
		return dl_err_set(err, EIO,
				  "filesystem is read-only after an internal "
				  "error; reopen it to recover");
	return 0;
}

/* A damaged primary is remembered, and repaired once the open has
 * verified the rest (fs_open_check.c). */
static int read_superblock(struct dl_fs *fs, struct dl_err *err)
{
	uint64_t size = dl_ns_size(fs->ns);
	struct dl_err second;
	int rc;

	rc = dl_superblock_check(fs->base, DL_BLOCK_SIZE, size,
				 &fs->primary_damage);
	if (rc == -EINVAL &&
	    !dl_superblock_check(fs->base + DL_BLOCK_SIZE, DL_BLOCK_SIZE,
				 size, &second)) {
		/* the primary is damaged; the copy has the same geometry */
		memcpy(&fs->sb, fs->base + DL_BLOCK_SIZE, sizeof(fs->sb));
		rc = 0;
	} else if (rc) {
		if (err)
			*err = fs->primary_damage;
	} else {
		memcpy(&fs->sb, fs->base, sizeof(fs->sb));
	}
	if (rc)
		return rc;
	if ((fs->sb.ro_compat & ~DL_FS_RO_COMPAT_KNOWN) &&
	    !dl_ns_read_only(fs->ns))
		return dl_err_set(err, EROFS,
				  "filesystem uses unknown read-only-compatible "
				  "features; open it read-only");
	return 0;
}

static int load_inodes(struct dl_fs *fs, struct dl_err *err)
{
	const uint8_t *table = dl_fs_block(fs, fs->sb.inodes.start);

	for (dl_ino_t ino = 1; ino <= fs->ninodes; ino++) {
		const struct dl_inode_rec *rec = (const void *)
			(table + (uint64_t)(ino - 1) * DL_INODE_SIZE);
		struct dl_inode *in;
		dl_ino_t other;
		int rc;

		fs->free_gen[ino] = rec->generation;
		if (!(rec->flags & DL_INODE_F_USED))
			continue;
		in = calloc(1, sizeof(*in));
		if (!in)
			return dl_err_set(err, ENOMEM, "out of memory");
		rc = dl_inode_decode(fs, ino, rec, in, err);
		if (rc) {
			inode_destroy(in);
			return rc;
		}
		if (!dl_fs_lookup(fs, in->name, &other)) {
			inode_destroy(in);
			return dl_err_set(err, EUCLEAN,
					  "inodes %u and %u have the same name",
					  other, ino);
		}
		fs->inodes[ino] = in;
		fs->extent_blocks += in->nchain;
		fs->nfiles++;
		dl_name_insert(fs, ino);
	}
	return 0;
}

static int load_detached(struct dl_fs *fs, struct dl_err *err)
{
	const struct dl_detached_rec *t = dl_fs_block(fs, fs->sb.detached.start);

	memcpy(fs->detached, t, fs->sb.ndetached * sizeof(*t));
	for (uint64_t i = 0; i < fs->sb.ndetached; i++) {
		const struct dl_detached_rec *d = &fs->detached[i];

		if (d->phys_block == 0)
			continue;
		if (d->tag == 0 ||
		    !dl_run_inside(d->phys_block, d->nblocks, fs->sb.data_start,
				   fs->sb.nblocks))
			return dl_err_set(err, EUCLEAN,
					  "detached-table entry %llu is invalid",
					  (unsigned long long)i);
	}
	return 0;
}

static int alloc_state(struct dl_fs *fs, struct dl_err *err)
{
	uint64_t hs = 1024;

	fs->ninodes = fs->sb.ninodes;
	while (hs < fs->ninodes)
		hs <<= 1;
	fs->hash_size = hs;
	fs->hash = calloc(hs, sizeof(*fs->hash));
	fs->inodes = calloc(fs->ninodes + 1, sizeof(*fs->inodes));
	fs->free_gen = calloc(fs->ninodes + 1, sizeof(*fs->free_gen));
	fs->detached = calloc(fs->sb.ndetached, sizeof(*fs->detached));
	fs->detached_dirty = calloc(fs->sb.ndetached, sizeof(bool));
	if (!fs->hash || !fs->inodes || !fs->free_gen || !fs->detached ||
	    !fs->detached_dirty)
		return dl_err_set(err, ENOMEM, "out of memory");
	if (dl_alloc_new(fs->sb.nblocks, fs->sb.data_start, &fs->alloc))
		return dl_err_set(err, ENOMEM, "out of memory");
	dl_alloc_load_bitmap(fs->alloc, dl_fs_block(fs, fs->sb.bitmap.start));
	return 0;
}

int dl_fs_open(struct dl_ns *ns, struct dl_fs **out, struct dl_err *err)
{
	struct dl_fs *fs = calloc(1, sizeof(*fs));
	int rc;

	if (!fs)
		return dl_err_set(err, ENOMEM, "out of memory");
	fs->ns = ns;
	fs->base = dl_ns_base(ns);
	rc = read_superblock(fs, err);
	if (rc)
		goto err;
	dl_journal_init(&fs->j, ns, &fs->sb);
	if (dl_ns_read_only(ns)) {
		if (dl_journal_pending(&fs->j)) {
			rc = dl_err_set(err, EROFS,
					"journal holds a transaction to replay; "
					"open the namespace read-write");
			goto err;
		}
	} else {
		rc = dl_journal_recover(&fs->j, err);
		if (rc < 0)
			goto err;
		fs->recovered = (uint64_t)rc;
	}
	fs->max_extents = dl_fs_max_extents(fs->j.area_len);
	rc = alloc_state(fs, err);
	if (!rc)
		rc = load_inodes(fs, err);
	if (!rc)
		rc = load_detached(fs, err);
	if (!rc)
		rc = dl_fs_pins_load(fs, err);
	if (!rc)
		rc = dl_fs_open_check(fs, err);
	if (rc)
		goto err;
	*out = fs;
	return 0;
err:
	dl_fs_close(&fs);
	return rc;
}

void dl_fs_close(struct dl_fs **fsp)
{
	struct dl_fs *fs = *fsp;

	if (!fs)
		return;
	/* the writes a group commit holds commit before a clean close */
	if (fs->inodes && !dl_fs_writable(fs, NULL) &&
	    !dl_fs_commit_batch(fs, NULL))
		dl_journal_clear(&fs->j);
	for (uint64_t i = 1; fs->inodes && i <= fs->ninodes; i++)
		inode_destroy(fs->inodes[i]);
	free(fs->inodes);
	free(fs->free_gen);
	free(fs->hash);
	free(fs->detached);
	free(fs->detached_dirty);
	dl_fs_pins_free(fs);
	free(fs->dirty_inodes);
	dl_prun_free(&fs->to_free);
	dl_prun_free(&fs->reserved);
	dl_prun_free(&fs->allocated);
	dl_alloc_delete(&fs->alloc);
	dl_journal_fini(&fs->j);
	free(fs);
	*fsp = NULL;
}

struct dl_ns *dl_fs_ns(const struct dl_fs *fs)
{
	return fs->ns;
}

void dl_fs_statfs(const struct dl_fs *fs, struct dl_statfs *out)
{
	memset(out, 0, sizeof(*out));
	out->block_size = DL_BLOCK_SIZE;
	out->blocks = fs->sb.nblocks;
	out->meta_blocks = fs->sb.data_start;
	out->data_blocks = fs->sb.nblocks - fs->sb.data_start;
	out->free_blocks = dl_alloc_free_blocks(fs->alloc);
	for (uint64_t i = 0; i < fs->sb.ndetached; i++)
		out->detached_blocks += fs->detached[i].nblocks;
	out->extent_blocks = fs->extent_blocks;
	out->inodes = fs->ninodes;
	out->files = fs->nfiles;
	out->free_inodes = fs->ninodes - fs->nfiles;
	out->journal_bytes = fs->j.area_len;
	out->max_extents_per_file = fs->max_extents;
	out->transactions = fs->j.commits;
	out->recovered_transactions = fs->recovered;
	dl_ns_persist_stats(fs->ns, &out->persist);
}

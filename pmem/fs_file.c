/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fs_file.c - files as names: create, unlink, rename, stat, setattr, list.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs_private.h"

static void fill_stat(const struct dl_fs *fs, dl_ino_t ino, struct dl_stat *st)
{
	const struct dl_inode *in = dl_fs_inode(fs, ino);

	memset(st, 0, sizeof(*st));
	st->ino = ino;
	st->generation = in->generation;
	st->mode = in->mode;
	st->uid = in->uid;
	st->gid = in->gid;
	st->flags = in->flags;
	st->size = in->size;
	st->nblocks = dl_extmap_total(&in->map);
	st->nextents = in->map.n;
	st->layout_seq = in->layout_seq;
	st->atime_ns = in->atime_ns;
	st->mtime_ns = in->mtime_ns;
	st->ctime_ns = in->ctime_ns;
	st->btime_ns = in->btime_ns;
	memcpy(st->name, in->name, in->name_len + 1);
}

int dl_fs_stat(const struct dl_fs *fs, dl_ino_t ino, struct dl_stat *out)
{
	if (!dl_fs_file(fs, ino, NULL))
		return -ENOENT;
	fill_stat(fs, ino, out);
	return 0;
}

int dl_fs_next_file(const struct dl_fs *fs, uint64_t *cursor,
		    struct dl_stat *out)
{
	for (uint64_t ino = *cursor + 1; ino <= fs->ninodes; ino++) {
		if (!fs->inodes[ino])
			continue;
		fill_stat(fs, (dl_ino_t)ino, out);
		*cursor = ino;
		return 1;
	}
	*cursor = fs->ninodes;
	return 0;
}

static dl_ino_t free_slot(const struct dl_fs *fs)
{
	for (uint64_t ino = 1; ino <= fs->ninodes; ino++)
		if (!fs->inodes[ino])
			return (dl_ino_t)ino;
	return 0;
}

int dl_fs_create(struct dl_fs *fs, const char *name, uint32_t mode,
		 uint32_t uid, uint32_t gid, dl_ino_t *out, struct dl_err *err)
{
	struct dl_inode *in;
	dl_ino_t ino, existing;
	int rc;

	rc = dl_fs_begin_change(fs, err);
	if (!rc)
		rc = dl_fs_name_check(name, err);
	if (rc)
		return rc;
	if (!dl_fs_lookup(fs, name, &existing))
		return dl_err_set(err, EEXIST, "%s already exists", name);
	ino = free_slot(fs);
	if (!ino)
		return dl_err_set(err, ENOSPC,
				  "no free inode: all %llu are in use",
				  (unsigned long long)fs->ninodes);
	in = calloc(1, sizeof(*in));
	if (!in || !(in->name = strdup(name))) {
		free(in);
		return dl_err_set(err, ENOMEM, "out of memory");
	}
	in->flags = DL_INODE_F_USED;
	in->generation = fs->free_gen[ino] + 1;
	in->mode = S_IFREG | (mode & 07777);
	in->uid = uid;
	in->gid = gid;
	in->name_len = (uint16_t)strlen(name);
	in->atime_ns = in->mtime_ns = in->ctime_ns = in->btime_ns = dl_now_ns();
	fs->inodes[ino] = in;
	if (dl_fs_mark_dirty(fs, ino)) {
		fs->inodes[ino] = NULL;
		free(in->name);
		free(in);
		return dl_err_set(err, ENOMEM, "out of memory");
	}
	dl_name_insert(fs, ino);
	fs->nfiles++;
	rc = dl_fs_commit(fs, err);
	if (!rc && out)
		*out = ino;
	return rc;
}

/*
 * Check that the file's blocks can be disposed of: with a tag every
 * extent needs a detached-table slot.
 */
static int check_dispose(const struct dl_fs *fs, uint64_t nruns, uint64_t tag,
			 struct dl_err *err)
{
	uint64_t slots;

	if (!tag)
		return 0;
	slots = dl_fs_detached_free_slots(fs);
	if (nruns > slots)
		return dl_err_set(err, ENOSPC,
				  "detached-block table is full (%llu free "
				  "entries, %llu needed): release held blocks "
				  "first", (unsigned long long)slots,
				  (unsigned long long)nruns);
	return 0;
}

/* Detach every block of ino and free its slot (DRAM; commit follows). */
static int remove_file(struct dl_fs *fs, dl_ino_t ino, uint64_t tag)
{
	struct dl_inode *in = dl_fs_inode(fs, ino);
	struct dl_prun_list runs = { 0 };

	if (dl_prun_reserve(&runs, in->map.n + 1) ||
	    dl_fs_mark_dirty(fs, ino)) {
		dl_prun_free(&runs);
		return -ENOMEM;
	}
	dl_extmap_remove(&in->map, 0, UINT64_MAX >> 1, &runs);
	dl_fs_dispose(fs, &runs, tag);
	dl_prun_free(&runs);
	dl_name_remove(fs, ino);
	in->flags = 0;
	fs->nfiles--;
	return 0;
}

int dl_fs_unlink(struct dl_fs *fs, const char *name, uint64_t tag,
		 struct dl_err *err)
{
	dl_ino_t ino;
	int rc;

	rc = dl_fs_begin_change(fs, err);
	if (rc)
		return rc;
	if (dl_fs_lookup(fs, name, &ino))
		return dl_err_set(err, ENOENT, "%s: no such file", name);
	rc = check_dispose(fs, dl_fs_inode(fs, ino)->map.n, tag, err);
	if (rc)
		return rc;
	if (remove_file(fs, ino, tag)) {
		dl_fs_abort(fs);
		return dl_err_set(err, ENOMEM, "out of memory");
	}
	return dl_fs_commit(fs, err);
}

int dl_fs_rename(struct dl_fs *fs, const char *from, const char *to,
		 unsigned flags, uint64_t tag, struct dl_err *err)
{
	dl_ino_t ino, target = 0;
	struct dl_inode *in;
	char *newname;
	int rc;

	rc = dl_fs_begin_change(fs, err);
	if (!rc)
		rc = dl_fs_name_check(to, err);
	if (rc)
		return rc;
	if (flags & ~DL_RENAME_NOREPLACE)
		return dl_err_set(err, EINVAL, "unknown rename flags 0x%x", flags);
	if (dl_fs_lookup(fs, from, &ino))
		return dl_err_set(err, ENOENT, "%s: no such file", from);
	if (!dl_fs_lookup(fs, to, &target)) {
		if (target == ino)
			return 0;	/* rename(2): same file, nothing to do */
		if (flags & DL_RENAME_NOREPLACE)
			return dl_err_set(err, EEXIST, "%s already exists", to);
		rc = check_dispose(fs, dl_fs_inode(fs, target)->map.n, tag,
				   err);
		if (rc)
			return rc;
	}
	newname = strdup(to);
	if (!newname || dl_fs_mark_dirty(fs, ino) ||
	    (target && remove_file(fs, target, tag))) {
		free(newname);
		dl_fs_abort(fs);
		return dl_err_set(err, ENOMEM, "out of memory");
	}
	in = dl_fs_inode(fs, ino);
	dl_name_remove(fs, ino);
	free(in->name);
	in->name = newname;
	in->name_len = (uint16_t)strlen(newname);
	in->ctime_ns = dl_now_ns();
	dl_name_insert(fs, ino);
	return dl_fs_commit(fs, err);
}

int dl_fs_setattr(struct dl_fs *fs, dl_ino_t ino, uint32_t mode, uint32_t uid,
		  uint32_t gid, struct dl_err *err)
{
	struct dl_inode *in = dl_fs_file(fs, ino, err);
	int rc;

	if (!in)
		return -ENOENT;
	rc = dl_fs_begin_change(fs, err);
	if (rc)
		return rc;
	if (dl_fs_mark_dirty(fs, ino))
		return dl_err_set(err, ENOMEM, "out of memory");
	in->mode = S_IFREG | (mode & 07777);
	in->uid = uid;
	in->gid = gid;
	in->ctime_ns = dl_now_ns();
	return dl_fs_commit(fs, err);
}

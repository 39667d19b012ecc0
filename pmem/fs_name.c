/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fs_name.c - the flat directory: name rules and the name -> inode hash.
 */
#include <errno.h>
#include <string.h>

#include "fs_private.h"

int dl_fs_name_check(const char *name, struct dl_err *err)
{
	size_t len;

	if (!name)
		return dl_err_set(err, EINVAL, "no file name given");
	len = strnlen(name, DL_NAME_MAX + 1);
	if (len == 0)
		return dl_err_set(err, ENOENT, "empty file name");
	if (len > DL_NAME_MAX)
		return dl_err_set(err, ENAMETOOLONG,
				  "file name is longer than %d bytes",
				  DL_NAME_MAX);
	if (strchr(name, '/'))
		return dl_err_set(err, EINVAL,
				  "file name '%s' contains '/': the namespace "
				  "is flat", name);
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return dl_err_set(err, EINVAL, "'%s' is not a file name", name);
	return 0;
}

/* FNV-1a: short names, no adversary with a stake in collisions beyond
 * their own files' lookup speed. */
uint64_t dl_name_hash(const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)name[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint32_t *bucket(const struct dl_fs *fs, const char *name, size_t len)
{
	return &fs->hash[dl_name_hash(name, len) & (fs->hash_size - 1)];
}

void dl_name_insert(struct dl_fs *fs, dl_ino_t ino)
{
	struct dl_inode *in = dl_fs_inode(fs, ino);
	uint32_t *b = bucket(fs, in->name, in->name_len);

	in->hash_next = *b;
	*b = ino;
}

void dl_name_remove(struct dl_fs *fs, dl_ino_t ino)
{
	struct dl_inode *in = dl_fs_inode(fs, ino);
	uint32_t *p = bucket(fs, in->name, in->name_len);

	while (*p && *p != ino)
		p = &dl_fs_inode(fs, *p)->hash_next;
	if (*p)
		*p = in->hash_next;
	in->hash_next = 0;
}

int dl_fs_lookup(const struct dl_fs *fs, const char *name, dl_ino_t *ino)
{
	size_t len = strnlen(name, DL_NAME_MAX + 1);

	for (uint32_t i = *bucket(fs, name, len); i;
	     i = dl_fs_inode(fs, i)->hash_next) {
		const struct dl_inode *in = dl_fs_inode(fs, i);

		if (in->name_len == len && !memcmp(in->name, name, len)) {
			*ino = i;
			return 0;
		}
	}
	return -ENOENT;
}

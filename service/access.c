// SPDX-License-Identifier: BSD-3-Clause
/* access.c - permission rules; see access.h and docs/protocol.md. */
#include <errno.h>

#include "access.h"

bool dl_cred_in_group(const struct dl_cred *c, gid_t gid)
{
	if (c->gid == gid)
		return true;
	for (size_t i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

int dl_access_file(const struct dl_cred *c, uint32_t mode, uint32_t uid,
		   uint32_t gid, unsigned want)
{
	unsigned bits;

	if (c->uid == 0)
		return 0;
	/* like the kernel: the first class that matches decides, even if a
	 * later class would grant more */
	if (c->uid == uid)
		bits = (mode >> 6) & 7;
	else if (dl_cred_in_group(c, gid))
		bits = (mode >> 3) & 7;
	else
		bits = mode & 7;
	return (bits & want) == want ? 0 : -EACCES;
}

int dl_access_owner(const struct dl_cred *c, uint32_t uid)
{
	return c->uid == 0 || c->uid == uid ? 0 : -EPERM;
}

int dl_access_chown(const struct dl_cred *c, uint32_t file_uid,
		    uint32_t file_gid, bool set_uid, uint32_t uid,
		    bool set_gid, uint32_t gid)
{
	if (c->uid == 0)
		return 0;
	if (set_uid && uid != file_uid)
		return -EPERM;
	if (set_gid && gid != file_gid &&
	    (c->uid != file_uid || !dl_cred_in_group(c, gid)))
		return -EPERM;
	/* a no-op chown by a non-owner is still refused, as chown(2) does */
	return c->uid == file_uid ? 0 : -EPERM;
}

bool dl_access_writer(const struct dl_cred *c, unsigned handle_access,
		      uint32_t file_uid)
{
	return handle_access & DL_ACCESS_W || c->uid == 0 || c->uid == file_uid;
}

int dl_access_lease(const struct dl_cred *c, unsigned handle_access,
		    uint32_t file_uid, bool exclusive)
{
	bool writer = dl_access_writer(c, handle_access, file_uid);

	if (exclusive)
		return writer ? 0 : -EACCES;
	return writer || handle_access & DL_ACCESS_R ? 0 : -EACCES;
}

bool dl_access_group_or_root(const struct dl_cred *c, gid_t gid)
{
	if (c->uid == 0)
		return true;
	return gid != (gid_t)-1 && dl_cred_in_group(c, gid);
}

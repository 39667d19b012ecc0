/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * access.h - who may do what (docs/protocol.md, "Access control").
 *
 * Pure functions over a peer's credentials (from SO_PEERCRED and
 * SO_PEERGROUPS) and a file's owner and mode, so the rules can be unit
 * tested without sockets.  Root (uid 0) may do anything.
 */
#ifndef DAXLEASED_ACCESS_H
#define DAXLEASED_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct dl_cred {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;	/* supplementary groups */
	size_t ngroups;
};

/* File access wanted: the POSIX r and w bits. */
#define DL_ACCESS_R 0x4u
#define DL_ACCESS_W 0x2u

bool dl_cred_in_group(const struct dl_cred *c, gid_t gid);

/* Owner/group/other bits of mode against the caller: 0 or -EACCES. */
int dl_access_file(const struct dl_cred *c, uint32_t mode, uint32_t uid,
		   uint32_t gid, unsigned want);
/*
 * Unlink, rename, chmod: the file's owner or root (the flat namespace
 * behaves like a sticky directory such as /tmp): 0 or -EPERM.
 */
int dl_access_owner(const struct dl_cred *c, uint32_t uid);
/*
 * Change owner/group (Linux chown rules): only root changes the owner; the
 * owner may change the group to one of its own groups.  0 or -EPERM.
 */
int dl_access_chown(const struct dl_cred *c, uint32_t file_uid,
		    uint32_t file_gid, bool set_uid, uint32_t uid,
		    bool set_gid, uint32_t gid);
/*
 * Write access to a file, for leases and pins (docs/protocol.md, "Leases"):
 * a handle opened for writing (handle_access, DL_ACCESS_*), or the file's
 * owner, or root.  A client without it is a *reader* of the file.
 */
bool dl_access_writer(const struct dl_cred *c, unsigned handle_access,
		      uint32_t file_uid);
/*
 * A layout lease through a handle, the kernel's F_SETLEASE rule: an
 * exclusive lease (F_WRLCK) needs write access as above, a shared one
 * (F_RDLCK) read access - a handle opened for reading, or write access.
 * 0 or -EACCES.
 */
int dl_access_lease(const struct dl_cred *c, unsigned handle_access,
		    uint32_t file_uid, bool exclusive);
/*
 * DAX access (the namespace fd) and admin requests: root, or a member of
 * the configured group (gid (gid_t)-1: no such group configured).
 */
bool dl_access_group_or_root(const struct dl_cred *c, gid_t gid);

#endif

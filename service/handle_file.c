// SPDX-License-Identifier: BSD-3-Clause
/*
 * handle_file.c - the namespace of files: OPEN, CLOSE, STAT, LIST,
 * UNLINK, RENAME, SETATTR.
 *
 * Permissions follow POSIX for a single sticky directory (like /tmp):
 * anyone may create; opening checks the file's mode bits; only the owner
 * (or root) may unlink, rename or chmod; only root may give a file away.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "server.h"

static unsigned open_access(uint32_t flags)
{
	return (flags & DL_O_READ ? DL_ACCESS_R : 0) |
	       (flags & DL_O_WRITE ? DL_ACCESS_W : 0);
}

/* Create the file, or find the existing one; *created says which. */
static int open_lookup(struct dl_client *c, const struct dl_open_req *r,
		       dl_ino_t *ino, bool *created)
{
	struct dl_err err = { 0 };
	int rc;

	*created = false;
	rc = dl_fs_lookup(c->srv->fs, r->name, ino);
	if (!rc)
		return r->flags & DL_O_CREATE && r->flags & DL_O_EXCL ?
			-EEXIST : 0;
	if (!(r->flags & DL_O_CREATE))
		return rc;
	rc = dl_fs_create(c->srv->fs, r->name, r->mode, c->cred.uid,
			  c->cred.gid, ino, &err);
	if (rc)
		return dl_fs_failed(c, "create", rc, &err);
	*created = true;
	return 0;
}

static int open_truncate(struct dl_client *c, const struct dl_request *rq,
			 dl_ino_t ino, struct dl_reply *rp)
{
	struct dl_err err = { 0 };
	uint64_t tag;
	int rc;

	/* O_TRUNC frees blocks: it waits for pins like truncate(2) */
	rc = dl_layout_begin(c, rq, ino, 0, UINT64_MAX, 0, 0, rp, &tag);
	if (rc)
		return rc;
	rc = dl_fs_truncate(c->srv->fs, ino, 0, tag, &err);
	if (tag)
		dl_quarantine_settle(c->srv, tag);
	return rc ? dl_fs_failed(c, "truncate", rc, &err) : 0;
}

int dl_handle_open(struct dl_client *c, const struct dl_request *rq,
		   struct dl_reply *rp)
{
	const struct dl_open_req *r = rq->payload;
	struct dl_open_rep *o = rp->payload;
	unsigned want = open_access(r->flags);
	struct dl_stat st;
	bool created;
	dl_ino_t ino;
	int rc;

	rc = open_lookup(c, r, &ino, &created);
	if (rc)
		return rc;
	rc = dl_fs_stat(c->srv->fs, ino, &st);
	if (rc)
		return rc;
	/* the creator may open its new file whatever mode it gave it */
	if (!created) {
		rc = dl_access_file(&c->cred, st.mode, st.uid, st.gid, want);
		if (rc)
			return rc;
	}
	/* blocks kept beyond EOF (FALLOC_FL_KEEP_SIZE) go too, as on Linux */
	if (r->flags & DL_O_TRUNC && (st.size || st.nblocks)) {
		rc = open_truncate(c, rq, ino, rp);
		if (rc)
			return rc;
		dl_fs_stat(c->srv->fs, ino, &st);
	}
	rc = dl_fh_add(&c->fhs, ino, st.generation, want, &o->fh);
	if (rc)
		return rc;
	dl_wire_stat_fill(&o->st, &st);
	rp->len = sizeof(*o);
	return 0;
}

int dl_handle_close(struct dl_client *c, const struct dl_request *rq,
		    struct dl_reply *rp)
{
	const struct dl_fh_req *r = rq->payload;
	struct dl_err err = { 0 };
	struct dl_fh *h;
	int rc;

	(void)rp;
	/* closing a handle one could write through commits the writes
	 * (close-to-open, as NFS does: commit.c); the handle goes even if
	 * that fails, as after close(2) */
	h = dl_fh_get(&c->fhs, r->fh);
	rc = h && (h->access & DL_ACCESS_W) ? dl_commit_sync(c->srv, &err) : 0;
	/* mappings made through the handle stay, as after close(2) */
	if (dl_fh_del(&c->fhs, r->fh))
		return -EBADF;
	return rc ? dl_fs_failed(c, "close", rc, &err) : 0;
}

int dl_handle_stat(struct dl_client *c, const struct dl_request *rq,
		   struct dl_reply *rp)
{
	const struct dl_stat_req *r = rq->payload;
	struct dl_fh *h;
	struct dl_stat st;
	dl_ino_t ino;
	int rc;

	if (r->fh) {
		rc = dl_file_from_fh(c, r->fh, &h, &st);
	} else {
		rc = dl_fs_lookup(c->srv->fs, r->name, &ino);
		if (!rc)
			rc = dl_fs_stat(c->srv->fs, ino, &st);
	}
	if (rc)
		return rc;
	dl_wire_stat_fill(rp->payload, &st);
	rp->len = sizeof(struct dl_wire_stat);
	return 0;
}

int dl_handle_list(struct dl_client *c, const struct dl_request *rq,
		   struct dl_reply *rp)
{
	const struct dl_list_req *r = rq->payload;
	struct dl_list_rep *l = rp->payload;
	struct dl_wire_stat *w = (struct dl_wire_stat *)(l + 1);
	uint32_t max = r->max < DL_PROTO_LIST_MAX ? r->max : DL_PROTO_LIST_MAX;
	uint64_t cursor = r->cursor, peek;
	struct dl_stat st;
	uint32_t n = 0;

	_Static_assert(sizeof(struct dl_list_rep) + DL_PROTO_LIST_MAX *
		       sizeof(struct dl_wire_stat) + sizeof(struct dl_msg_hdr)
		       <= DL_PROTO_MAX_MSG, "a full LIST page fits a message");
	/* inode numbers are 32-bit: a larger cursor is past the end (and
	 * must not wrap around to the start) */
	if (cursor >= UINT32_MAX)
		max = 0;
	while (n < max && dl_fs_next_file(c->srv->fs, &cursor, &st) == 1)
		dl_wire_stat_fill(&w[n++], &st);
	/* cursor = the last inode returned; 0 when nothing follows */
	peek = cursor;
	memset(l, 0, sizeof(*l));
	l->count = n;
	l->next_cursor = n && n == max &&
			 dl_fs_next_file(c->srv->fs, &peek, &st) == 1 ? cursor : 0;
	rp->len = sizeof(*l) + n * sizeof(*w);
	return 0;
}

/* The owner (or root) of an existing name; -ENOENT if missing. */
static int name_owner(struct dl_client *c, const char *name, dl_ino_t *ino)
{
	struct dl_stat st;
	int rc = dl_fs_lookup(c->srv->fs, name, ino);

	if (!rc)
		rc = dl_fs_stat(c->srv->fs, *ino, &st);
	return rc ? rc : dl_access_owner(&c->cred, st.uid);
}

int dl_handle_unlink(struct dl_client *c, const struct dl_request *rq,
		     struct dl_reply *rp)
{
	const struct dl_name_req *r = rq->payload;
	struct dl_err err = { 0 };
	uint64_t tag = 0;
	dl_ino_t ino;
	int rc;

	rc = name_owner(c, r->name, &ino);
	if (!rc)
		rc = dl_layout_begin(c, rq, ino, 0, UINT64_MAX,
				     DL_LAYOUT_FILE_GOES, 0, rp, &tag);
	if (rc)
		return rc;
	rc = dl_fs_unlink(c->srv->fs, r->name, tag, &err);
	if (tag)
		dl_quarantine_settle(c->srv, tag);
	if (!rc)
		dl_dirty_forget(c->srv, ino);
	return rc ? dl_fs_failed(c, "unlink", rc, &err) : 0;
}

int dl_handle_rename(struct dl_client *c, const struct dl_request *rq,
		     struct dl_reply *rp)
{
	const struct dl_rename_req *r = rq->payload;
	unsigned flags = r->flags & DL_RENAME_F_NOREPLACE ?
			 DL_RENAME_NOREPLACE : 0;
	struct dl_err err = { 0 };
	uint64_t tag = 0;
	dl_ino_t from, to;
	int rc;

	rc = name_owner(c, r->from, &from);
	if (rc)
		return rc;
	rc = name_owner(c, r->to, &to);
	if (rc == -ENOENT)
		to = 0;
	else if (rc)
		return rc;
	else if (flags & DL_RENAME_NOREPLACE)
		return -EEXIST;
	/* the file renamed over loses its blocks: wait for its pins */
	if (to && to != from) {
		rc = dl_layout_begin(c, rq, to, 0, UINT64_MAX,
				     DL_LAYOUT_FILE_GOES, 0, rp, &tag);
		if (rc)
			return rc;
	}
	rc = dl_fs_rename(c->srv->fs, r->from, r->to, flags, tag, &err);
	if (tag)
		dl_quarantine_settle(c->srv, tag);
	if (!rc && to && to != from)
		dl_dirty_forget(c->srv, to);
	return rc ? dl_fs_failed(c, "rename", rc, &err) : 0;
}

int dl_handle_setattr(struct dl_client *c, const struct dl_request *rq,
		      struct dl_reply *rp)
{
	const struct dl_setattr_req *r = rq->payload;
	struct dl_err err = { 0 };
	uint32_t mode, uid, gid;
	struct dl_stat st;
	struct dl_fh *h;
	int rc;

	(void)rp;
	rc = dl_file_from_fh(c, r->fh, &h, &st);
	if (rc)
		return rc;
	if (r->valid & DL_ATTR_MODE) {
		rc = dl_access_owner(&c->cred, st.uid);
		if (rc)
			return rc;
	}
	if (r->valid & (DL_ATTR_UID | DL_ATTR_GID)) {
		rc = dl_access_chown(&c->cred, st.uid, st.gid,
				     r->valid & DL_ATTR_UID, r->uid,
				     r->valid & DL_ATTR_GID, r->gid);
		if (rc)
			return rc;
	}
	mode = r->valid & DL_ATTR_MODE ? r->mode : st.mode & 07777;
	uid = r->valid & DL_ATTR_UID ? r->uid : st.uid;
	gid = r->valid & DL_ATTR_GID ? r->gid : st.gid;
	rc = dl_fs_setattr(c->srv->fs, h->ino, mode, uid, gid, &err);
	return rc ? dl_fs_failed(c, "setattr", rc, &err) : 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * files.c - file requests: open, close, stat, unlink, rename, fsync,
 * truncate, fallocate, setattr.  (list.c pages through the file list.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

_Static_assert(DAXLEASE_O_READ == DL_O_READ && DAXLEASE_O_WRITE == DL_O_WRITE &&
	       DAXLEASE_O_CREATE == DL_O_CREATE && DAXLEASE_O_EXCL == DL_O_EXCL &&
	       DAXLEASE_O_TRUNC == DL_O_TRUNC, "open flags are the wire's");
_Static_assert(DAXLEASE_ATTR_MODE == DL_ATTR_MODE &&
	       DAXLEASE_ATTR_UID == DL_ATTR_UID &&
	       DAXLEASE_ATTR_GID == DL_ATTR_GID, "attr bits are the wire's");

#define DAXLEASE_O_ALL (DAXLEASE_O_READ | DAXLEASE_O_WRITE | \
			DAXLEASE_O_CREATE | DAXLEASE_O_EXCL | DAXLEASE_O_TRUNC)

/* The service checks names (no '/'); here only what fits the field. */
int dl_copy_name(char dst[DL_PROTO_NAME_SIZE], const char *name)
{
	size_t len;

	if (!name)
		return -EINVAL;
	len = strlen(name);
	if (!len)
		return -ENOENT;
	if (len >= DL_PROTO_NAME_SIZE)
		return -ENAMETOOLONG;
	memset(dst, 0, DL_PROTO_NAME_SIZE);
	memcpy(dst, name, len);
	return 0;
}

void dl_stat_from_wire(struct daxlease_stat *out, const struct dl_wire_stat *w)
{
	memset(out, 0, sizeof(*out));
	out->ino = w->ino;
	out->generation = w->generation;
	out->mode = w->mode;
	out->uid = w->uid;
	out->gid = w->gid;
	out->size = w->size;
	out->blocks = w->blocks;
	out->extents = w->extents;
	out->layout_seq = w->layout_seq;
	out->atime_ns = w->atime_ns;
	out->mtime_ns = w->mtime_ns;
	out->ctime_ns = w->ctime_ns;
	out->btime_ns = w->btime_ns;
	memcpy(out->name, w->name, sizeof(out->name) - 1);
}

DAXLEASE_EXPORT int daxlease_open(struct daxlease_ctx *ctx, const char *name,
				  unsigned flags, unsigned mode,
				  struct daxlease_file **out)
{
	struct dl_open_req req = { .flags = flags, .mode = mode };
	struct dl_open_rep rep;
	struct daxlease_file *f;
	int rc;

	if (!ctx || !out || (flags & ~DAXLEASE_O_ALL))
		return -EINVAL;
	*out = NULL;
	rc = dl_copy_name(req.name, name);
	if (rc)
		return rc;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	rc = dl_call_simple(ctx, DL_OP_OPEN, &req, sizeof(req),
			    &rep, sizeof(rep));
	if (rc) {
		free(f);
		return rc;
	}
	f->ctx = daxlease_ref(ctx);
	f->fh = rep.fh;
	f->ino = rep.st.ino;
	f->generation = rep.st.generation;
	f->flags = flags & (DAXLEASE_O_READ | DAXLEASE_O_WRITE);
	dl_track_file(f);
	*out = f;
	return 0;
}

DAXLEASE_EXPORT int daxlease_close(struct daxlease_file *f)
{
	struct dl_fh_req req;
	int rc;

	if (!f)
		return -EINVAL;
	dl_untrack_file(f);
	req.fh = f->fh;
	rc = dl_call_simple(f->ctx, DL_OP_CLOSE, &req, sizeof(req), NULL, 0);
	rc = dl_sync_result(f, rc);
	daxlease_unref(f->ctx);
	free(f);
	return rc;
}

static int stat_call(struct daxlease_ctx *ctx, struct dl_stat_req *req,
		     struct daxlease_stat *out)
{
	struct dl_wire_stat w;
	int rc;

	rc = dl_call_simple(ctx, DL_OP_STAT, req, sizeof(*req), &w, sizeof(w));
	if (!rc)
		dl_stat_from_wire(out, &w);
	return rc;
}

DAXLEASE_EXPORT int daxlease_fstat(struct daxlease_file *f,
				   struct daxlease_stat *out)
{
	struct dl_stat_req req = { 0 };

	if (!f || !out)
		return -EINVAL;
	req.fh = f->fh;
	return stat_call(f->ctx, &req, out);
}

DAXLEASE_EXPORT int daxlease_stat(struct daxlease_ctx *ctx, const char *name,
				  struct daxlease_stat *out)
{
	struct dl_stat_req req = { 0 };
	int rc;

	if (!ctx || !out)
		return -EINVAL;
	rc = dl_copy_name(req.name, name);
	if (rc)
		return rc;
	return stat_call(ctx, &req, out);
}

DAXLEASE_EXPORT int daxlease_unlink(struct daxlease_ctx *ctx, const char *name)
{
	struct dl_name_req req;
	int rc;

	if (!ctx)
		return -EINVAL;
	rc = dl_copy_name(req.name, name);
	if (rc)
		return rc;
	return dl_call_simple(ctx, DL_OP_UNLINK, &req, sizeof(req), NULL, 0);
}

DAXLEASE_EXPORT int daxlease_rename(struct daxlease_ctx *ctx, const char *from,
				    const char *to, unsigned flags)
{
	struct dl_rename_req req = { 0 };
	int rc;

	if (!ctx || (flags & ~DAXLEASE_RENAME_NOREPLACE))
		return -EINVAL;
	if (flags & DAXLEASE_RENAME_NOREPLACE)
		req.flags = DL_RENAME_F_NOREPLACE;
	rc = dl_copy_name(req.from, from);
	if (!rc)
		rc = dl_copy_name(req.to, to);
	if (rc)
		return rc;
	return dl_call_simple(ctx, DL_OP_RENAME, &req, sizeof(req), NULL, 0);
}

DAXLEASE_EXPORT int daxlease_fsync(struct daxlease_file *f)
{
	struct dl_fh_req req;

	if (!f)
		return -EINVAL;
	req.fh = f->fh;
	return dl_sync_result(f, dl_call_simple(f->ctx, DL_OP_FSYNC, &req,
						sizeof(req), NULL, 0));
}

DAXLEASE_EXPORT int daxlease_truncate(struct daxlease_file *f, uint64_t size)
{
	struct dl_truncate_req req = { 0 };

	if (!f)
		return -EINVAL;
	req.fh = f->fh;
	req.size = size;
	return dl_call_simple(f->ctx, DL_OP_TRUNCATE, &req, sizeof(req),
			      NULL, 0);
}

DAXLEASE_EXPORT int daxlease_fallocate(struct daxlease_file *f, int mode,
				       uint64_t offset, uint64_t length)
{
	struct dl_fallocate_req req = { 0 };

	if (!f || mode < 0)
		return -EINVAL;
	req.fh = f->fh;
	req.mode = (uint32_t)mode;
	req.offset = offset;
	req.length = length;
	return dl_call_simple(f->ctx, DL_OP_FALLOCATE, &req, sizeof(req),
			      NULL, 0);
}

DAXLEASE_EXPORT int daxlease_setattr(struct daxlease_file *f, unsigned valid,
				     unsigned mode, unsigned uid, unsigned gid)
{
	struct dl_setattr_req req = { 0 };

	if (!f || (valid & ~(DAXLEASE_ATTR_MODE | DAXLEASE_ATTR_UID |
			     DAXLEASE_ATTR_GID)))
		return -EINVAL;
	req.fh = f->fh;
	req.valid = valid;
	req.mode = mode;
	req.uid = uid;
	req.gid = gid;
	return dl_call_simple(f->ctx, DL_OP_SETATTR, &req, sizeof(req),
			      NULL, 0);
}

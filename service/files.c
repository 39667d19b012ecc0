// SPDX-License-Identifier: BSD-3-Clause
/* files.c - helpers every file handler uses: handles, stat, errors. */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "server.h"

int dl_file_from_fh(struct dl_client *c, uint64_t fh, struct dl_fh **h,
		    struct dl_stat *st)
{
	struct dl_stat tmp;

	*h = dl_fh_get(&c->fhs, fh);
	if (!*h)
		return -EBADF;
	if (!st)
		st = &tmp;
	/* the inode may have been unlinked and reused since the open */
	if (dl_fs_stat(c->srv->fs, (*h)->ino, st) ||
	    st->generation != (*h)->generation)
		return -ESTALE;
	return 0;
}

void dl_wire_stat_fill(struct dl_wire_stat *w, const struct dl_stat *st)
{
	memset(w, 0, sizeof(*w));
	w->ino = st->ino;
	w->generation = st->generation;
	w->mode = st->mode;
	w->uid = st->uid;
	w->gid = st->gid;
	w->size = st->size;
	w->blocks = st->nblocks;
	w->extents = st->nextents;
	w->layout_seq = st->layout_seq;
	w->atime_ns = st->atime_ns;
	w->mtime_ns = st->mtime_ns;
	w->ctime_ns = st->ctime_ns;
	w->btime_ns = st->btime_ns;
	_Static_assert(sizeof(w->name) >= sizeof(st->name), "name fits");
	memcpy(w->name, st->name, sizeof(st->name));
}

int dl_fs_failed(struct dl_client *c, const char *op, int rc,
		 const struct dl_err *err)
{
	/* the message may quote a client's file name */
	log_debug("%s: %s: %s", dl_conn_who(c), op,
		  err && err->errnum ? dl_log_str(err->msg, sizeof(err->msg)) :
		  strerror(-rc));
	return rc;
}

// SPDX-License-Identifier: BSD-3-Clause
/*
 * handle_io.c - data and size: READ, WRITE, FSYNC, TRUNCATE, FALLOCATE.
 *
 * Layout changes (shrinking truncate, punch, collapse, insert, zero)
 * go through dl_layout_begin() (wait.c): they queue behind earlier
 * changes of the range, invalidate every mapping of it in every client,
 * and wait (or fail, as the request's policy says) while pins hold it.
 * Writes and growing truncates only queue behind a waiting change.
 */
#include <errno.h>
#include <linux/falloc.h>

#include "log.h"
#include "server.h"

/* The handle must exist, be current, and allow `want`. */
static int fh_for(struct dl_client *c, uint64_t fh, unsigned want,
		  struct dl_fh **h, struct dl_stat *st)
{
	int rc = dl_file_from_fh(c, fh, h, st);

	if (rc)
		return rc;
	return ((*h)->access & want) == want ? 0 : -EBADF;
}

int dl_handle_read(struct dl_client *c, const struct dl_request *rq,
		   struct dl_reply *rp)
{
	const struct dl_rw_req *r = rq->payload;
	struct dl_rw_rep *out = rp->payload;
	uint8_t *data = (uint8_t *)(out + 1);
	struct dl_err err = { 0 };
	uint64_t total = 0;
	struct dl_fh *h;
	int rc;

	rc = fh_for(c, r->fh, DL_ACCESS_R, &h, NULL);
	if (rc)
		return rc;
	for (uint32_t i = 0; i < rq->niov; i++) {
		const struct dl_wire_iov *v = &rq->iov[i];
		ssize_t n = dl_fs_read(c->srv->fs, h->ino, v->offset,
				       data + total, v->len, &err);

		if (n < 0) {
			if (total)
				break;	/* report what was read, like readv */
			return dl_fs_failed(c, "read", (int)n, &err);
		}
		total += (uint64_t)n;
		if ((uint64_t)n < v->len)
			break;		/* EOF: the rest would be short too */
	}
	out->bytes = total;
	rp->len = sizeof(*out) + (uint32_t)total;
	return 0;
}

/* A write allocates: it queues behind a waiting change of its span. */
static int write_gate(struct dl_client *c, const struct dl_request *rq,
		      uint32_t ino)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	for (uint32_t i = 0; i < rq->niov; i++) {
		const struct dl_wire_iov *v = &rq->iov[i];

		if (!v->len)
			continue;
		lo = v->offset < lo ? v->offset : lo;
		hi = v->offset + v->len > hi ? v->offset + v->len : hi;
	}
	return lo < hi ? dl_wait_gate(c, rq, ino, lo, hi - lo) : 0;
}

int dl_handle_write(struct dl_client *c, const struct dl_request *rq,
		    struct dl_reply *rp)
{
	const struct dl_rw_req *r = rq->payload;
	struct dl_rw_rep *out = rp->payload;
	const uint8_t *data = rq->data;
	struct dl_err err = { 0 };
	uint64_t total = 0;
	struct dl_fh *h;
	int rc;

	rc = fh_for(c, r->fh, DL_ACCESS_W, &h, NULL);
	if (!rc)
		rc = write_gate(c, rq, h->ino);
	if (rc)
		return rc;
	for (uint32_t i = 0; i < rq->niov; i++) {
		const struct dl_wire_iov *v = &rq->iov[i];
		ssize_t n = dl_fs_write(c->srv->fs, h->ino, v->offset,
					data + total, v->len, &err);

		if (n < 0) {
			if (total)
				break;	/* a short write, like writev */
			return dl_fs_failed(c, "write", (int)n, &err);
		}
		total += (uint64_t)n;
		if ((uint64_t)n < v->len)
			break;
	}
	out->bytes = total;
	rp->len = sizeof(*out);
	dl_commit_written(c->srv);
	return 0;
}

int dl_handle_fsync(struct dl_client *c, const struct dl_request *rq,
		    struct dl_reply *rp)
{
	const struct dl_fh_req *r = rq->payload;
	struct dl_fh *h;
	int rc;

	struct dl_err err = { 0 };

	(void)rp;
	/* what clients stored behind our back, then the writes that went
	 * through us (group commit: commit.c) */
	rc = dl_file_from_fh(c, r->fh, &h, NULL);
	if (rc)
		return rc;
	dl_dirty_write_back_file(c->srv, h->ino);
	rc = dl_commit_sync(c->srv, &err);
	return rc ? dl_fs_failed(c, "fsync", rc, &err) : 0;
}

int dl_handle_truncate(struct dl_client *c, const struct dl_request *rq,
		       struct dl_reply *rp)
{
	const struct dl_truncate_req *r = rq->payload;
	struct dl_err err = { 0 };
	uint64_t tag = 0;
	struct dl_stat st;
	struct dl_fh *h;
	int rc;

	rc = fh_for(c, r->fh, DL_ACCESS_W, &h, &st);
	if (rc)
		return rc == -EBADF ? -EINVAL : rc;	/* ftruncate(2) */
	if (r->size < st.size)
		rc = dl_layout_begin(c, rq, h->ino, r->size, UINT64_MAX,
				     r->flags, r->deadline_ms, rp, &tag);
	else
		rc = dl_wait_gate(c, rq, h->ino, st.size, UINT64_MAX);
	if (rc)
		return rc;
	rc = dl_fs_truncate(c->srv->fs, h->ino, r->size, tag, &err);
	if (tag)
		dl_quarantine_settle(c->srv, tag);
	return rc ? dl_fs_failed(c, "truncate", rc, &err) : 0;
}

/* The file range whose blocks a fallocate mode may move or free. */
static void falloc_range(const struct dl_fallocate_req *r, uint64_t *off,
			 uint64_t *len)
{
	*off = r->offset;
	*len = r->length;
	/* collapse and insert shift everything after offset */
	if (r->mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE))
		*len = UINT64_MAX;
}

int dl_handle_fallocate(struct dl_client *c, const struct dl_request *rq,
			struct dl_reply *rp)
{
	const struct dl_fallocate_req *r = rq->payload;
	struct dl_err err = { 0 };
	uint64_t off, len, tag = 0;
	struct dl_fh *h;
	int rc;

	rc = fh_for(c, r->fh, DL_ACCESS_W, &h, NULL);
	if (rc)
		return rc;
	falloc_range(r, &off, &len);
	/* plain allocation never moves a mapped block; the rest may */
	if (r->mode & ~FALLOC_FL_KEEP_SIZE)
		rc = dl_layout_begin(c, rq, h->ino, off, len, r->flags,
				     r->deadline_ms, rp, &tag);
	else
		rc = dl_wait_gate(c, rq, h->ino, off, len);
	if (rc)
		return rc;
	rc = dl_fs_fallocate(c->srv->fs, h->ino, (int)r->mode, r->offset,
			     r->length, tag, &err);
	if (tag)
		dl_quarantine_settle(c->srv, tag);
	return rc ? dl_fs_failed(c, "fallocate", rc, &err) : 0;
}

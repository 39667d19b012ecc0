/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * io.c - reads and writes, plain and vectored.
 *
 * The caller's iovecs are cut into batches that fit one request: at most
 * the service's max_iov pieces and max_data bytes, and the whole message
 * at most max_msg.  A vectored call that fits is one request; a large
 * one (or a long pread/pwrite) is several, in order.  A short read (EOF)
 * or a short write ends the call; an error after some progress returns
 * the bytes done, as read(2) and write(2) do.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "private.h"

struct rw_cursor {
	const struct daxlease_iovec *iov;
	int niov;
	int idx;
	size_t done;		/* bytes of iov[idx] already batched */
};

struct rw_batch {
	struct dl_rw_req req;
	struct dl_wire_iov *wiov;	/* max_iov */
	/* 3 + max_iov: request, table, reply (READ) or nothing, data */
	struct iovec *io;
	uint32_t n;
	size_t bytes;
};

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

static bool cursor_end(struct rw_cursor *c)
{
	while (c->idx < c->niov && c->done == c->iov[c->idx].len) {
		c->idx++;
		c->done = 0;
	}
	return c->idx == c->niov;
}

/* Bytes the next piece may carry, or 0 when the batch is full. */
static size_t batch_room(const struct daxlease_ctx *ctx,
			 const struct rw_batch *b)
{
	const struct dl_hello_rep *h = &ctx->hello;
	size_t fixed = sizeof(struct dl_rw_req) +
		       (b->n + 1) * sizeof(struct dl_wire_iov);

	if (b->n >= h->max_iov || b->bytes >= h->max_data ||
	    fixed + b->bytes >= h->max_msg)
		return 0;
	return min_size(h->max_data - b->bytes, h->max_msg - fixed - b->bytes);
}

static void batch_fill(const struct daxlease_ctx *ctx, struct rw_cursor *c,
		       struct rw_batch *b)
{
	const struct daxlease_iovec *v;
	size_t room, len;

	b->n = 0;
	b->bytes = 0;
	while (!cursor_end(c) && (room = batch_room(ctx, b))) {
		v = &c->iov[c->idx];
		len = min_size(v->len - c->done, room);
		b->wiov[b->n] = (struct dl_wire_iov) {
			.offset = v->offset + c->done, .len = (uint32_t)len,
		};
		b->io[3 + b->n] = (struct iovec) {
			(uint8_t *)v->base + c->done, len,
		};
		b->n++;
		b->bytes += len;
		c->done += len;
	}
	b->req.niov = b->n;
	b->io[0] = (struct iovec) { &b->req, sizeof(b->req) };
	b->io[1] = (struct iovec) { b->wiov, b->n * sizeof(*b->wiov) };
	b->io[2] = (struct iovec) { NULL, 0 };
}

/* Bytes read into the batch's buffers (less than asked: EOF). */
static ssize_t batch_read(struct daxlease_ctx *ctx, struct rw_batch *b)
{
	struct dl_rw_rep rep;
	struct dl_call call = {
		.opcode = DL_OP_READ,
		.req_iov = b->io, .req_niov = 2,
		.rep_iov = b->io + 2, .rep_niov = 1 + (int)b->n,
		.rep_min = sizeof(rep),
	};
	int rc;

	b->io[2] = (struct iovec) { &rep, sizeof(rep) };
	rc = dl_call(ctx, &call);
	if (rc)
		return rc;
	if (rep.bytes > b->bytes || rep.bytes != call.rep_len - sizeof(rep)) {
		dl_kill(ctx);
		return -EPROTO;
	}
	return (ssize_t)rep.bytes;
}

/* Bytes the service wrote (less than the batch: stop there). */
static ssize_t batch_write(struct daxlease_ctx *ctx, struct rw_batch *b)
{
	struct dl_rw_rep rep;
	struct iovec piov = { &rep, sizeof(rep) };
	struct dl_call call = {
		.opcode = DL_OP_WRITE,
		.req_iov = b->io, .req_niov = 3 + (int)b->n,
		.rep_iov = &piov, .rep_niov = 1,
		.rep_min = sizeof(rep),
	};
	int rc;

	rc = dl_call(ctx, &call);
	if (rc)
		return rc;
	if (rep.bytes > b->bytes) {
		dl_kill(ctx);
		return -EPROTO;
	}
	return (ssize_t)rep.bytes;
}

static int rw_check(const struct daxlease_iovec *iov, int niov)
{
	size_t total = 0;
	int i;

	if (niov < 0 || niov > DL_PROTO_MAX_IOV || (niov && !iov))
		return -EINVAL;
	for (i = 0; i < niov; i++) {
		if (iov[i].len > SSIZE_MAX - total ||
		    iov[i].offset + iov[i].len < iov[i].offset ||
		    (iov[i].len && !iov[i].base))
			return -EINVAL;
		total += iov[i].len;
	}
	return 0;
}

static ssize_t rw_loop(struct daxlease_file *f, struct rw_cursor *c,
		       struct rw_batch *b, bool write)
{
	ssize_t total = 0, n;

	while (!cursor_end(c)) {
		batch_fill(f->ctx, c, b);
		n = write ? batch_write(f->ctx, b) : batch_read(f->ctx, b);
		if (n < 0)
			return total ? total : n;
		total += n;
		if ((size_t)n < b->bytes)
			break;
	}
	return total;
}

static ssize_t rw(struct daxlease_file *f, const struct daxlease_iovec *iov,
		  int niov, bool write)
{
	struct rw_cursor c = { .iov = iov, .niov = niov };
	struct rw_batch b = { 0 };
	uint32_t max_iov;
	ssize_t rc;

	if (!f)
		return -EINVAL;
	rc = rw_check(iov, niov);
	if (rc)
		return rc;
	if (dl_is_dead(f->ctx))
		return -ENOTCONN;
	max_iov = f->ctx->hello.max_iov;
	b.req.fh = f->fh;
	b.wiov = calloc(max_iov, sizeof(*b.wiov));
	b.io = calloc(3 + (size_t)max_iov, sizeof(*b.io));
	if (!b.wiov || !b.io)
		rc = -ENOMEM;
	else {
		uint64_t epoch = write ? dl_epoch(f->ctx) : 0;

		rc = rw_loop(f, &c, &b, write);
		if (write && rc > 0)
			dl_sync_wrote(f, epoch);
	}
	free(b.wiov);
	free(b.io);
	return rc;
}

DAXLEASE_EXPORT ssize_t daxlease_preadv(struct daxlease_file *f,
					const struct daxlease_iovec *iov,
					int niov)
{
	return rw(f, iov, niov, false);
}

DAXLEASE_EXPORT ssize_t daxlease_pwritev(struct daxlease_file *f,
					 const struct daxlease_iovec *iov,
					 int niov)
{
	return rw(f, iov, niov, true);
}

DAXLEASE_EXPORT ssize_t daxlease_pread(struct daxlease_file *f, void *buf,
				       size_t len, uint64_t offset)
{
	struct daxlease_iovec v = { buf, len, offset };

	return rw(f, &v, 1, false);
}

DAXLEASE_EXPORT ssize_t daxlease_pwrite(struct daxlease_file *f,
					const void *buf, size_t len,
					uint64_t offset)
{
	struct daxlease_iovec v = { (void *)buf, len, offset };

	return rw(f, &v, 1, true);
}

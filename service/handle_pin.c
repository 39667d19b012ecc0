// SPDX-License-Identifier: BSD-3-Clause
/*
 * handle_pin.c - PIN and UNPIN over the socket: the slow path of
 * pinning (the lockless one goes through the counters, counters.c), and
 * the one that waits for a layout change of the range to finish.
 *
 * The reply says where the pinned blocks are - the "DMA addresses" - as
 * get_user_pages() hands back pages: the client's mapping of the range
 * may be stale by then, the blocks the pin holds are not.  Only a client
 * with DAX access (the namespace fd) can reach a block, so only it is
 * told; any other gets UINT64_MAX in every segment, and its pin holds the
 * blocks all the same.
 *
 * A write pin first makes its range writable (dl_fs_prepare_write, the
 * page_mkwrite step: holes get zeroed blocks, unwritten extents become
 * written), so "DMA" into it never lands in a block the file does not
 * own; its range is recorded dirty when it is dropped (pin.c).
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "server.h"

static int pin_check(struct dl_client *c, const struct dl_pin_req *r,
		     struct dl_fh **h)
{
	unsigned want = DL_ACCESS_R |
			(r->flags & DL_PIN_WRITE ? DL_ACCESS_W : 0);
	struct dl_stat st;
	int rc = dl_file_from_fh(c, r->fh, h, &st);

	if (rc)
		return rc;
	if (((*h)->access & want) != want)
		return -EACCES;
	return r->offset + r->length > st.size ? -ENXIO : 0;
}

/* The segments of [offset, offset+length): -E2BIG past the reply's room. */
static int pin_segments(struct dl_server *srv, uint32_t ino, uint64_t offset,
			uint64_t length, bool write, struct dl_pin_rep *o)
{
	struct dl_extent e[DL_PROTO_PIN_SEGS_MAX];
	uint64_t pos = offset, end = offset + length;
	size_t n = 0;
	int rc;

	rc = dl_fs_extents(srv->fs, ino, offset, length, e,
			   DL_PROTO_PIN_SEGS_MAX, &n);
	if (rc)
		return rc;
	if (n > DL_PROTO_PIN_SEGS_MAX)
		return -E2BIG;
	o->nsegs = 0;
	for (size_t i = 0; pos < end; ) {
		struct dl_wire_seg *g;
		uint64_t to = end;
		bool hole = i >= n || e[i].file_offset > pos;

		if (o->nsegs == DL_PROTO_PIN_SEGS_MAX)
			return -E2BIG;
		g = &o->seg[o->nsegs++];
		if (hole) {
			if (i < n && e[i].file_offset < end)
				to = e[i].file_offset;
			/* a read pin of a hole reads zeros; a write pin
			 * has none (prepare_write filled them) */
			if (write)
				return -EIO;
			g->ns_offset = UINT64_MAX;
		} else {
			if (e[i].file_offset + e[i].length < end)
				to = e[i].file_offset + e[i].length;
			g->ns_offset = e[i].unwritten && !write ? UINT64_MAX :
				       e[i].ns_offset + (pos - e[i].file_offset);
			i++;
		}
		g->length = to - pos;
		pos = to;
	}
	return 0;
}

/* Where the blocks are is for clients that can reach them, through the
 * namespace fd; any other gets UINT64_MAX for every segment. */
static void segments_hide(const struct dl_client *c, struct dl_pin_rep *o)
{
	if (c->server_flags & DL_SRV_DAX_ALLOWED)
		return;
	for (uint32_t i = 0; i < o->nsegs; i++)
		o->seg[i].ns_offset = UINT64_MAX;
}

/* The blocks a pin holds: its segments', holes left out. */
static int segments_blocks(const struct dl_pin_rep *o, struct dl_rangeset *b)
{
	for (uint32_t i = 0; i < o->nsegs; i++)
		if (o->seg[i].ns_offset != UINT64_MAX &&
		    dl_rangeset_add(b, o->seg[i].ns_offset, o->seg[i].length))
			return -ENOMEM;
	return 0;
}

int dl_handle_pin(struct dl_client *c, const struct dl_request *rq,
		  struct dl_reply *rp)
{
	const struct dl_pin_req *r = rq->payload;
	struct dl_pin_rep *o = rp->payload;
	struct dl_rangeset blocks = { 0 };
	struct dl_err err = { 0 };
	struct dl_pin *p;
	struct dl_fh *h;
	int rc;

	rc = pin_check(c, r, &h);
	if (rc)
		return rc;
	/* a layout change waiting on this range goes first */
	rc = dl_wait_gate(c, rq, h->ino, r->offset, r->length);
	if (!rc)
		rc = dl_lease_required(c, h->ino, r->offset, r->length);
	/* before a write pin allocates anything */
	if (!rc)
		rc = dl_limit_pin(c);
	if (rc)
		return rc;
	if (r->flags & DL_PIN_WRITE) {
		rc = dl_fs_prepare_write(c->srv->fs, h->ino, r->offset,
					 r->length, &err);
		if (rc)
			return dl_fs_failed(c, "prepare_write", rc, &err);
	}
	memset(o, 0, sizeof(*o));
	rc = pin_segments(c->srv, h->ino, r->offset, r->length,
			  r->flags & DL_PIN_WRITE, o);
	if (!rc)
		rc = segments_blocks(o, &blocks);
	/* on the namespace before the reply says where they are (a client
	 * that cannot reach them is not told) */
	if (!rc && c->server_flags & DL_SRV_DAX_ALLOWED)
		rc = dl_records_cover(c, &blocks);
	p = rc ? NULL : dl_pin_add(c, h->ino, h->generation, r->offset,
				   r->length, r->flags & DL_PIN_WRITE,
				   &blocks);
	dl_rangeset_free(&blocks);
	if (rc || !p)
		return rc ? rc : -ENOMEM;
	p->reader = dl_hostage_is_reader(c, h);
	segments_hide(c, o);
	o->pin_id = p->id;
	rp->len = sizeof(*o);
	return 0;
}

int dl_handle_unpin(struct dl_client *c, const struct dl_request *rq,
		    struct dl_reply *rp)
{
	const struct dl_unpin_req *r = rq->payload;

	(void)rp;
	return dl_pin_drop(c, r->pin_id);
}

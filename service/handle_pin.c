// SPDX-License-Identifier: BSD-3-Clause
/*
 * handle_pin.c - PIN and UNPIN over the socket (the lockless pin path
 * through the shared counters comes later).
 *
 * A write pin first makes its range writable (dl_fs_prepare_write, the
 * page_mkwrite step: holes get zeroed blocks, unwritten extents become
 * written), so "DMA" into it never lands in a block the file does not
 * own; its range is recorded dirty when it is dropped (pin.c).
 */
#include <errno.h>

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

int dl_handle_pin(struct dl_client *c, const struct dl_request *rq,
		  struct dl_reply *rp)
{
	const struct dl_pin_req *r = rq->payload;
	struct dl_pin_rep *o = rp->payload;
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
	if (rc)
		return rc;
	if (r->flags & DL_PIN_WRITE) {
		rc = dl_fs_prepare_write(c->srv->fs, h->ino, r->offset,
					 r->length, &err);
		if (rc)
			return dl_fs_failed(c, "prepare_write", rc, &err);
	}
	p = dl_pin_add(c, h->ino, h->generation, r->offset, r->length,
		       r->flags & DL_PIN_WRITE);
	if (!p)
		return -ENOMEM;
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

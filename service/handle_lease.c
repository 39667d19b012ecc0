// SPDX-License-Identifier: BSD-3-Clause
/*
 * handle_lease.c - LEASE_ACQUIRE, LEASE_RELEASE, LEASE_QUERY (the
 * caller's own leases) and the admin view LEASES (every lease).
 *
 * A conflicting ACQUIRE waits (wait.c, as a grant) unless it asked for
 * NONBLOCK; so does one whose range a layout change is about to change,
 * so grants queue behind the change that broke the leases and never
 * extend its break.
 *
 * Who may take which lease is the kernel's F_SETLEASE rule (access.h): an
 * exclusive lease needs write access to the file (a writable handle, or
 * ownership), so a reader - who may hold the file's layout up only until
 * its lease deadline (hostage.c) - cannot keep everyone else's leases
 * out with one.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "server.h"

_Static_assert(sizeof(struct dl_view_rep) + DL_PROTO_VIEW_MAX *
	       sizeof(struct dl_wire_lease) + sizeof(struct dl_msg_hdr) <=
	       DL_PROTO_MAX_MSG, "a full LEASES page fits a message");

static int holders_reply(struct dl_client *c, uint32_t ino,
			 const struct dl_lease_req *r, uint64_t length,
			 struct dl_reply *rp)
{
	struct dl_blockers_rep *b = rp->payload;

	memset(b, 0, sizeof(*b));
	b->total = dl_leases_conflicts(c->srv, c, ino, r->offset, length,
				       r->type == DL_LEASE_EXCLUSIVE, b->b,
				       DL_PROTO_BLOCKERS_MAX);
	b->count = b->total < DL_PROTO_BLOCKERS_MAX ? b->total :
		   DL_PROTO_BLOCKERS_MAX;
	rp->len = sizeof(*b);
	rp->with_error = true;
	return -EBUSY;
}

int dl_handle_lease_acquire(struct dl_client *c, const struct dl_request *rq,
			    struct dl_reply *rp)
{
	const struct dl_lease_req *r = rq->payload;
	struct dl_lease_rep *o = rp->payload;
	struct dl_server *srv = c->srv;
	bool excl = r->type == DL_LEASE_EXCLUSIVE;
	uint64_t length = r->length ? r->length : UINT64_MAX;
	struct dl_lease *l;
	struct dl_stat st;
	struct dl_fh *h;
	int rc;

	rc = dl_file_from_fh(c, r->fh, &h, &st);
	if (!rc)
		rc = dl_access_lease(&c->cred, h->access, st.uid, excl);
	if (rc)
		return rc;
	if (dl_wait_change_pending(srv, h->ino, r->offset, length) ||
	    dl_leases_conflicts(srv, c, h->ino, r->offset, length, excl,
				NULL, 0)) {
		if (r->flags & DL_POLICY_NONBLOCK)
			return holders_reply(c, h->ino, r, length, rp);
		return dl_wait_grant(c, rq, h->ino, r->offset, length, excl);
	}
	l = dl_lease_add(c, h->ino, r->offset, length, excl,
			 dl_leases_cap_timeout(srv, r->break_timeout_ms));
	if (!l)
		return -ENOLCK;
	log_debug("%s: lease %llu on inode %u", dl_conn_who(c),
		  (unsigned long long)l->id, h->ino);
	memset(o, 0, sizeof(*o));
	o->lease_id = l->id;
	o->timeout_ms = l->timeout_ms;
	rp->len = sizeof(*o);
	return 0;
}

int dl_handle_lease_release(struct dl_client *c, const struct dl_request *rq,
			    struct dl_reply *rp)
{
	const struct dl_lease_release_req *r = rq->payload;

	(void)rp;
	return dl_lease_release(c, r->lease_id);
}

/* One page of leases: of c, or of everyone with NULL. */
static int lease_page(struct dl_client *c, const struct dl_client *of,
		      const struct dl_view_req *r, struct dl_reply *rp)
{
	struct dl_view_rep *v = rp->payload;
	struct dl_wire_lease *w = (struct dl_wire_lease *)(v + 1);
	uint32_t max = r->max < DL_PROTO_VIEW_MAX ? r->max : DL_PROTO_VIEW_MAX;
	int64_t now = dl_server_now_ns();
	uint64_t cursor = r->cursor;
	const struct dl_lease *l;
	uint32_t n = 0;

	while (n < max && (l = dl_lease_after(c->srv, of, cursor))) {
		dl_lease_to_wire(l, now, &w[n++]);
		cursor = l->id;
	}
	memset(v, 0, sizeof(*v));
	v->count = n;
	v->next_cursor = n == max && dl_lease_after(c->srv, of, cursor) ?
			 cursor : 0;
	rp->len = sizeof(*v) + n * sizeof(*w);
	return 0;
}

int dl_handle_lease_query(struct dl_client *c, const struct dl_request *rq,
			  struct dl_reply *rp)
{
	return lease_page(c, c, rq->payload, rp);
}

int dl_handle_leases(struct dl_client *c, const struct dl_request *rq,
		     struct dl_reply *rp)
{
	if (!(c->server_flags & DL_SRV_ADMIN))
		return -EPERM;
	return lease_page(c, NULL, rq->payload, rp);
}

// SPDX-License-Identifier: BSD-3-Clause
/*
 * wait.c - requests that cannot run yet, without ever blocking the loop.
 *
 * A layout change whose range is pinned is SUSPENDED: its message is
 * copied into a waiter, in one FIFO for the whole server.  Later requests
 * that would map, pin, write or change the layout of an overlapping range
 * of the same file queue behind it (so new pins cannot starve it);
 * requests on other files or other ranges never wait.
 *
 * A waiter runs again - the whole request, from its decode on - when
 * nothing earlier overlaps it any more and, if it waits for pins, the last
 * overlapping pin is gone.  Running it again is what re-validates a stale
 * lookup (seeds/002): every extent, size and name is looked up afresh
 * against the file's current layout_seq, and if the new lookup finds
 * pins again it simply waits again, keeping its place and deadline.
 *
 * Retries happen in dl_wait_kick(), from the loop's after-batch hook,
 * whenever srv->kick was set by an unpin, a client's death, a completed
 * waiter or an expired deadline: never by polling, and never nested
 * inside another request's handler (which owns srv->tx).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>

#include "log.h"
#include "server.h"

bool dl_wait_gated(struct dl_server *srv, uint32_t ino, uint64_t offset,
		   uint64_t length)
{
	/* a waiter being run again only waits for those before it; a
	 * waiting grant gates nothing, or a change could wait behind a
	 * grant that waits for the lease the change would break */
	for (struct dl_waiter *w = srv->wait_head; w && w != srv->replaying;
	     w = w->next)
		if (!w->grant && !w->client->dead && w->ino == ino &&
		    dl_range_overlaps(w->offset, w->length, offset, length))
			return true;
	return false;
}

bool dl_wait_change_pending(struct dl_server *srv, uint32_t ino,
			    uint64_t offset, uint64_t length)
{
	for (struct dl_waiter *w = srv->wait_head; w; w = w->next)
		if (w != srv->replaying && w->change && !w->client->dead &&
		    w->ino == ino &&
		    dl_range_overlaps(w->offset, w->length, offset, length))
			return true;
	return false;
}

/* The timerfd goes off at the earliest deadline of any waiter or break. */
void dl_wait_arm_timer(struct dl_server *srv)
{
	struct itimerspec its = { 0 };
	int64_t first = dl_leases_first_deadline(srv);

	for (struct dl_waiter *w = srv->wait_head; w; w = w->next) {
		if (w->deadline_ns && (!first || w->deadline_ns < first))
			first = w->deadline_ns;
		if (w->readers_ns && (!first || w->readers_ns < first))
			first = w->readers_ns;
	}
	if (first) {
		its.it_value.tv_sec = first / 1000000000;
		its.it_value.tv_nsec = first % 1000000000;
	}
	if (srv->timer.fd >= 0)
		timerfd_settime(srv->timer.fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void waiter_link(struct dl_server *srv, struct dl_waiter *w)
{
	w->prev = srv->wait_tail;
	if (srv->wait_tail)
		srv->wait_tail->next = w;
	else
		srv->wait_head = w;
	srv->wait_tail = w;
}

static void waiter_free(struct dl_server *srv, struct dl_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		srv->wait_head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		srv->wait_tail = w->prev;
	w->client->nwaiting--;
	srv->queued_bytes -= sizeof(*w) + w->len;
	free(w->msg);
	free(w);
	srv->kick = true;	/* whatever queued behind it may go */
}

static void waiter_set(struct dl_waiter *w, uint32_t ino, uint64_t offset,
		       uint64_t length, bool on_pins, struct dl_fs *fs)
{
	struct dl_stat st;

	w->ino = ino;
	w->offset = offset;
	w->length = length;
	w->on_pins = on_pins;
	w->on_leases = w->change = w->grant = false;
	w->readers_ns = 0;
	w->layout_seq = dl_fs_stat(fs, ino, &st) ? 0 : st.layout_seq;
}

/* The waiter rq is in after dl_wait_suspend() returned DL_SUSPENDED. */
static struct dl_waiter *waiter_of(struct dl_server *srv,
				   const struct dl_request *rq)
{
	struct dl_waiter *w = srv->replaying;

	return w && (const void *)rq->hdr == w->msg ? w : srv->wait_tail;
}

int dl_wait_suspend(struct dl_client *c, const struct dl_request *rq,
		    uint32_t ino, uint64_t offset, uint64_t length,
		    bool on_pins, uint32_t deadline_ms)
{
	struct dl_server *srv = c->srv;
	size_t len = sizeof(*rq->hdr) + rq->hdr->length;
	struct dl_waiter *w = srv->replaying;
	int rc;

	/* its connection is gone: no one to answer (conn.c's rule) */
	if (c->dead)
		return -ENOTCONN;
	if (w && (const void *)rq->hdr == w->msg) {
		/* run again and still cannot go: keep place and deadline */
		waiter_set(w, ino, offset, length, on_pins, srv->fs);
		w->again = true;
		return DL_SUSPENDED;
	}
	/* every buffer is bounded: a waiting request keeps its message */
	rc = dl_limit_wait(c, rq->hdr->opcode, sizeof(*w) + len);
	if (rc)
		return rc;
	w = calloc(1, sizeof(*w));
	if (w)
		w->msg = malloc(len);
	if (!w || !w->msg) {
		free(w);
		return -ENOMEM;
	}
	memcpy(w->msg, rq->hdr, len);
	w->len = len;
	srv->queued_bytes += sizeof(*w) + len;
	w->client = c;
	c->nwaiting++;
	w->id = ++srv->next_wait_id;
	w->since_ns = dl_server_now_ns();
	if (deadline_ms)
		w->deadline_ns = w->since_ns + (int64_t)deadline_ms * 1000000;
	waiter_set(w, ino, offset, length, on_pins, srv->fs);
	waiter_link(srv, w);
	dl_wait_arm_timer(srv);
	log_debug("%s: opcode %u waits (%s) on inode %u", dl_conn_who(c),
		  rq->hdr->opcode, on_pins ? "pins" : "queued", ino);
	return DL_SUSPENDED;
}

int dl_wait_gate(struct dl_client *c, const struct dl_request *rq,
		 uint32_t ino, uint64_t offset, uint64_t length)
{
	if (!dl_wait_gated(c->srv, ino, offset, length))
		return 0;
	return dl_wait_suspend(c, rq, ino, offset, length, false, 0);
}

int dl_wait_grant(struct dl_client *c, const struct dl_request *rq,
		  uint32_t ino, uint64_t offset, uint64_t length,
		  bool exclusive)
{
	int rc = dl_wait_suspend(c, rq, ino, offset, length, false, 0);
	struct dl_waiter *w;

	if (rc != DL_SUSPENDED)
		return rc;
	w = waiter_of(c->srv, rq);
	w->grant = true;
	w->exclusive = exclusive;
	return rc;
}

/* A layout change waits: for pins, for breaks, or behind another. */
static int change_suspend(struct dl_client *c, const struct dl_request *rq,
			  uint32_t ino, uint64_t offset, uint64_t length,
			  bool on_pins, bool on_leases, uint32_t deadline_ms)
{
	int rc = dl_wait_suspend(c, rq, ino, offset, length, on_pins,
				 deadline_ms);
	struct dl_waiter *w;

	if (rc != DL_SUSPENDED)
		return rc;
	w = waiter_of(c->srv, rq);
	w->change = true;
	w->on_leases = on_leases;
	return rc;
}

/* When the change rq began breaking leases: now, unless it is a waiter
 * run again that began before (readers' deadlines count from then). */
static int64_t change_began(struct dl_server *srv, const struct dl_request *rq)
{
	struct dl_waiter *w = srv->replaying;

	if (w && (const void *)rq->hdr == w->msg && w->began_ns)
		return w->began_ns;
	return dl_server_now_ns();
}

/* A suspended change keeps when it began, and when it runs again for the
 * readers' pins in its way (hostage.c). */
static int change_keep(struct dl_server *srv, const struct dl_request *rq,
		       int rc, int64_t began_ns, int64_t readers_ns)
{
	struct dl_waiter *w;

	if (rc != DL_SUSPENDED)
		return rc;
	w = waiter_of(srv, rq);
	w->began_ns = began_ns;
	w->readers_ns = readers_ns;
	dl_wait_arm_timer(srv);
	return rc;
}

/* Break the leases of the range; how many are still being broken. */
static uint32_t break_leases(struct dl_client *c, const struct dl_request *rq,
			     uint32_t ino, uint64_t offset, uint64_t length)
{
	struct dl_lease_break why = {
		.opcode = rq->hdr->opcode,
		.pid = (uint32_t)c->cred.pid,
		.uid = c->cred.uid,
		.ino = ino,
		.offset = offset,
		.length = length,
	};

	memcpy(why.comm, c->comm, strnlen(c->comm, sizeof(why.comm) - 1));
	return dl_leases_break(c->srv, &why);
}

/* -EBUSY naming what is in the way: pins, then leases (not broken). */
static int busy_reply(struct dl_server *srv, uint32_t ino, uint64_t offset,
		      uint64_t length, struct dl_reply *rp)
{
	struct dl_blockers_rep *b = rp->payload;
	uint32_t n;

	memset(b, 0, sizeof(*b));
	n = dl_pins_scan(srv, ino, offset, length, b->b,
			 DL_PROTO_BLOCKERS_MAX);
	b->total = n + dl_leases_conflicts(srv, NULL, ino, offset, length,
					   true, n < DL_PROTO_BLOCKERS_MAX ?
					   b->b + n : NULL,
					   n < DL_PROTO_BLOCKERS_MAX ?
					   DL_PROTO_BLOCKERS_MAX - n : 0);
	b->count = b->total < DL_PROTO_BLOCKERS_MAX ? b->total :
		   DL_PROTO_BLOCKERS_MAX;
	rp->len = sizeof(*b);
	rp->with_error = true;
	return -EBUSY;
}

int dl_layout_begin(struct dl_client *c, const struct dl_request *rq,
		    uint32_t ino, uint64_t offset, uint64_t length,
		    uint32_t policy, uint32_t deadline_ms, struct dl_reply *rp,
		    uint64_t *detach_tag)
{
	struct dl_server *srv = c->srv;
	bool queued = dl_wait_gated(srv, ino, offset, length);
	int64_t began = change_began(srv, rq);
	struct dl_hostage hs;
	uint32_t npins;

	*detach_tag = 0;

	if (!(policy & DL_POLICY_DEADLINE))
		deadline_ms = 0;
	if (queued) {
		if (policy & DL_POLICY_NONBLOCK)
			return busy_reply(srv, ino, offset, length, rp);
		return change_suspend(c, rq, ino, offset, length, false,
				      false, deadline_ms);
	}
	/* leases first: the holders unmap and return them, or are revoked
	 * at their deadline (NONBLOCK breaks nothing: it only reports) */
	if (policy & DL_POLICY_NONBLOCK) {
		if (dl_leases_breaking(srv, ino, offset, length, NULL, 0) ||
		    dl_leases_conflicts(srv, NULL, ino, offset, length, true,
					NULL, 0))
			return busy_reply(srv, ino, offset, length, rp);
	} else if (break_leases(c, rq, ino, offset, length)) {
		return change_keep(srv, rq, change_suspend(c, rq, ino, offset,
							   length, false, true,
							   deadline_ms),
				   began, 0);
	}
	/* entries invalid (and fenced) before the scan: a client either
	 * sees the invalid entry or we see its pin (DESIGN.md) */
	dl_mappings_invalidate(srv, ino, offset, length);
	/* asked before the counters are read: an unpin after our read
	 * then sees the request and wakes us (table.h) */
	dl_counters_want_wakeups(srv, true);
	npins = dl_pins_scan(srv, ino, offset, length, NULL, 0);
#ifdef DAXLEASE_UNSAFE_NO_BUSY_WAIT
	/* TEST ONLY (-DDAXLEASE_NEGATIVE_CONTROL=no-busy-wait): free pinned
	 * blocks anyway, to show the torture test catches DMA-after-free */
	npins = 0;
#endif
	if (!npins) {
		dl_counters_settle_wakeups(srv);
		return 0;
	}
	if (srv->opt.detach) {
		/* go now; the pinned blocks wait in quarantine instead */
		*detach_tag = dl_quarantine_begin(srv, ino, offset, length,
						  policy & DL_LAYOUT_FILE_GOES);
		dl_counters_settle_wakeups(srv);
		return 0;
	}
	/* readers' pins hold it up only until their deadline (hostage.c) */
	dl_hostage_scan(srv, ino, offset, length, began, &hs);
	if (!hs.writers && !hs.readers) {
		*detach_tag = dl_hostage_detach(c, rq->hdr->opcode, ino, offset,
						length, &hs,
						policy & DL_LAYOUT_FILE_GOES);
		dl_counters_settle_wakeups(srv);
		return 0;
	}
	if (policy & DL_POLICY_NONBLOCK) {
		dl_counters_settle_wakeups(srv);
		return busy_reply(srv, ino, offset, length, rp);
	}
	return change_keep(srv, rq, change_suspend(c, rq, ino, offset, length,
						   true, false, deadline_ms),
			   began, hs.next_ns);
}

/* May grant w run now?  Not while a change of its range waits anywhere
 * in the queue (the grant would only be broken again). */
static bool grant_ready(struct dl_server *srv, struct dl_waiter *w)
{
	for (struct dl_waiter *e = srv->wait_head; e; e = e->next)
		if (e != w && e->change && !e->client->dead &&
		    e->ino == w->ino &&
		    dl_range_overlaps(e->offset, e->length, w->offset,
				      w->length))
			return false;
	return !dl_leases_conflicts(srv, w->client, w->ino, w->offset,
				    w->length, w->exclusive, NULL, 0);
}

/* May w run now? */
static bool waiter_ready(struct dl_server *srv, struct dl_waiter *w)
{
	if (w->grant)
		return grant_ready(srv, w);
	for (struct dl_waiter *e = srv->wait_head; e != w; e = e->next)
		if (!e->grant && !e->client->dead && e->ino == w->ino &&
		    dl_range_overlaps(e->offset, e->length, w->offset,
				      w->length))
			return false;
	if (w->on_leases)
		return !dl_leases_breaking(srv, w->ino, w->offset, w->length,
					   NULL, 0);
	return !w->on_pins ||
	       dl_hostage_may_go(srv, w->ino, w->offset, w->length,
				 w->began_ns);
}

/* Run w's request again; true if it is done (replied and freed). */
static bool waiter_run(struct dl_server *srv, struct dl_waiter *w)
{
	struct dl_client *c = w->client;

	w->again = false;
	srv->replaying = w;
	dl_dispatch(c, w->msg, w->len);
	srv->replaying = NULL;
	if (w->again && !c->dead)
		return false;
	waiter_free(srv, w);
	return true;
}

void dl_wait_kick(struct dl_server *srv)
{
	bool ran = true;

	if (!srv->kick)
		return;
	srv->kick = false;
	srv->wait_pass++;
	/* lockless pins that held quarantined blocks may be gone */
	if (srv->cholds)
		dl_quarantine_check_counters(srv);
	/* restart from the head after each run: a run may free others */
	while (ran) {
		ran = false;
		for (struct dl_waiter *w = srv->wait_head; w; w = w->next) {
			/* a dead client's waiters go at its teardown */
			if (w->client->dead || w->pass == srv->wait_pass ||
			    !waiter_ready(srv, w))
				continue;
			w->pass = srv->wait_pass;
			if (waiter_run(srv, w))
				srv->wait_pass++;	/* progress: retry all */
			ran = true;
			break;
		}
	}
	srv->kick = false;
	dl_counters_settle_wakeups(srv);
	dl_wait_arm_timer(srv);
}

void dl_wait_expire(struct dl_server *srv)
{
	int64_t now = dl_server_now_ns();
	struct dl_waiter *w, *next;

	dl_leases_expire(srv);
	for (w = srv->wait_head; w; w = next) {
		struct dl_client *c = w->client;

		next = w->next;
		/* readers' pins in its way stop holding it: run it again */
		if (w->readers_ns && w->readers_ns <= now) {
			w->readers_ns = 0;
			srv->kick = true;
		}
		if (!w->deadline_ns || w->deadline_ns > now)
			continue;
		log_info("%s: opcode %u timed out waiting on inode %u",
			 dl_conn_who(c), ((struct dl_msg_hdr *)w->msg)->opcode,
			 w->ino);
		/* (the reply may drop c: its teardown comes after the
		 * batch, so w and next are still there) */
		dl_reply_status(c, w->msg, -ETIMEDOUT);
		waiter_free(srv, w);
	}
	dl_wait_kick(srv);
	dl_wait_arm_timer(srv);
}

void dl_wait_drop_client(struct dl_client *c)
{
	struct dl_server *srv = c->srv;
	struct dl_waiter *w = srv->wait_head, *next;

	for (; w; w = next) {
		next = w->next;
		/* the one being run is freed by waiter_run */
		if (w->client == c && w != srv->replaying)
			waiter_free(srv, w);
	}
}

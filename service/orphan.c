// SPDX-License-Identifier: BSD-3-Clause
/*
 * orphan.c - a client whose connection is gone while its process lives.
 *
 * A pin is the process's, as the kernel's page reference is: losing the
 * connection (a shutdown, a crash of the code that owned it, a socket
 * passed on and closed) must not free blocks the process may still be
 * writing into.  So when a connection goes, its leases are revoked and its
 * requests and handles go with it, but a client that still holds pins -
 * socket pins, lockless counters, quarantine holds - stays as an ORPHAN:
 * its table and counter region, its mappings and pins are kept and
 * scanned like anyone's, until
 *
 *   - its process exits (the pidfd), which releases everything;
 *   - every lockless counter is back to zero and it has no socket pin
 *     (it cannot unpin those without a connection): nothing is left to
 *     keep;
 *   - it re-attaches from a new connection (reattach.c).
 *
 * Its table entries are invalidated first, with the fence of every layout
 * change: a lockless pin racing with the disconnect either sees the
 * invalid entry and backs off, or its count is seen here (the same
 * argument as for a layout change, docs/pin-protocol.md), so an orphan
 * with all counters at zero can have no pin in flight that will hold.
 */
#include <poll.h>
#include <stdlib.h>

#include "log.h"
#include "server.h"

/* Has the process exited (its pidfd readable)? */
static bool process_exited(const struct dl_client *c)
{
	struct pollfd p = { .fd = c->pidfd.fd, .events = POLLIN };

	return c->pidfd.fd >= 0 && poll(&p, 1, 0) == 1;
}

/* Invalidate every entry of c's mappings; a full fence after. */
static void invalidate_all(struct dl_client *c)
{
	for (struct dl_mapping *m = c->maps; m; m = m->next)
		for (uint64_t i = m->first; i < m->first + m->nentries; i++)
			dl_maptable_invalidate(c->table, i);
	/* before any counter is read (the caller's) */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static bool has_socket_pins(const struct dl_client *c)
{
	for (const struct dl_pin *p = c->srv->pins; p; p = p->next)
		if (p->client == c)
			return true;
	return false;
}

static bool has_counted_entries(const struct dl_client *c)
{
	for (const struct dl_mapping *m = c->maps; m; m = m->next)
		if (dl_counters_busy(c, m))
			return true;
	return false;
}

static bool has_cholds(const struct dl_client *c)
{
	for (const struct dl_chold *h = c->srv->cholds; h; h = h->next)
		if (h->client == c)
			return true;
	return false;
}

bool dl_orphan_holds(const struct dl_client *c)
{
	return has_socket_pins(c) || (c->table && has_counted_entries(c)) ||
	       has_cholds(c);
}

bool dl_orphan_keep(struct dl_client *c)
{
	if (c->process_gone || process_exited(c))
		return false;
#ifdef DAXLEASE_UNSAFE_FREE_ON_DISCONNECT
	/* TEST ONLY (-DDAXLEASE_NEGATIVE_CONTROL=free-on-disconnect): a
	 * disconnect frees the pins at once, to show the kill tests catch
	 * it */
	return false;
#endif
	if (c->pidfd.fd < 0) {
		log_warn("%s: no pidfd to watch its process: its pins go "
			 "with its connection", dl_conn_who(c));
		return false;
	}
	if (c->table) {
		invalidate_all(c);
		/* its unpins must tell us (set before the counters are read) */
		dl_maptable_want_wakeups(c->table, true);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	if (!dl_orphan_holds(c))
		return false;
	c->orphan = true;
	c->orphan_since_ns = dl_server_now_ns();
	c->srv->norphans++;
	log_info("%s: connection gone, process alive: its pins stay until it "
		 "exits, unpins or re-attaches", dl_conn_who(c));
	return true;
}

uint32_t dl_orphans_unadopted(const struct dl_server *srv)
{
	uint32_t n = 0;

	for (const struct dl_client *c = srv->clients; c; c = c->next)
		n += c->orphan && !c->adopter;
	return n;
}

void dl_orphans_reap(struct dl_server *srv)
{
	for (struct dl_client *c = srv->clients; c; c = c->next)
		if (c->orphan && !c->teardown_queued && !dl_orphan_holds(c)) {
			log_info("%s: orphan holds nothing any more",
				 dl_conn_who(c));
			dl_conn_queue_teardown(c);
		}
}

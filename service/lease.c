// SPDX-License-Identifier: BSD-3-Clause
/*
 * lease.c - layout leases: who may keep a file range mapped, and the
 * breaks a layout change sends them (docs/protocol.md, "Leases").
 *
 * A lease is HELD until a layout change overlaps it; then it is BREAKING:
 * the holder got DL_EV_LEASE_BREAK and the change waits (wait.c) until
 * the holder releases it or its deadline passes.  At the deadline it is
 * REVOKED: logged, the holder told, and it no longer holds anything up or
 * covers anything; it stays listed until the holder releases it or goes.
 *
 * Conflicts: an exclusive lease conflicts with any other client's lease
 * on an overlapping range, a shared one with exclusive ones only.  A
 * client's own leases never conflict with each other.  Revoked leases
 * conflict with nothing, and neither do those of a client whose
 * connection is gone (they are freed at its teardown, conn.c).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server.h"

/* Leases by id, in all and per client, for paging (dl_lease_after). */
#define lease_by_id(n) \
	((struct dl_lease *)((char *)(n) - offsetof(struct dl_lease, by_id)))
#define lease_by_client(n) \
	((struct dl_lease *)((char *)(n) - offsetof(struct dl_lease, by_client)))

static int cmp_id(uint64_t id, const void *key)
{
	uint64_t k = *(const uint64_t *)key;

	return id < k ? -1 : id > k;
}

static int cmp_by_id(const struct dl_tree_node *n, const void *key)
{
	return cmp_id(lease_by_id(n)->id, key);
}

static int cmp_by_client(const struct dl_tree_node *n, const void *key)
{
	return cmp_id(lease_by_client(n)->id, key);
}

static bool lease_overlaps(const struct dl_lease *l, uint32_t ino,
			   uint64_t offset, uint64_t length)
{
	return l->ino == ino && !l->client->dead &&
	       dl_range_overlaps(l->offset, l->length, offset, length);
}

uint32_t dl_leases_conflicts(struct dl_server *srv, struct dl_client *c,
			     uint32_t ino, uint64_t offset, uint64_t length,
			     bool exclusive, struct dl_wire_blocker *out,
			     uint32_t max)
{
	uint32_t n = 0;

	for (struct dl_lease *l = srv->leases; l; l = l->next) {
		if (l->state == DL_LEASE_REVOKED ||
		    !lease_overlaps(l, ino, offset, length))
			continue;
		/* a range being broken takes no new grants until it is
		 * resolved, not even the holder's own */
		if (l->state != DL_LEASE_BREAKING &&
		    (l->client == c || (!exclusive && !l->exclusive)))
			continue;
		if (out && n < max) {
			struct dl_wire_blocker *b = &out[n];

			dl_blocker_of_client(l->client, b);
			b->pin_id = l->id;
			b->offset = l->offset;
			b->length = l->length;
			b->write = l->exclusive;
			b->flags |= DL_BLOCKER_LEASE;
		}
		n++;
	}
	return n;
}

uint32_t dl_leases_cap_timeout(struct dl_server *srv, uint32_t want_ms)
{
	if (!want_ms)
		want_ms = srv->opt.lease_timeout_ms;
	return want_ms < srv->opt.lease_max_timeout_ms ?
	       want_ms : srv->opt.lease_max_timeout_ms;
}

struct dl_lease *dl_lease_add(struct dl_client *c, uint32_t ino,
			      uint64_t offset, uint64_t length,
			      bool exclusive, uint32_t timeout_ms)
{
	struct dl_server *srv = c->srv;
	struct dl_lease *l;

	if (dl_limit_lease(c))
		return NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->client = c;
	l->id = ++srv->next_lease_id;
	l->ino = ino;
	l->offset = offset;
	l->length = length;
	l->exclusive = exclusive;
	l->timeout_ms = timeout_ms;
	l->since_ns = dl_server_now_ns();
	l->next = srv->leases;
	srv->leases = l;
	dl_tree_insert(&srv->leases_by_id, &l->by_id, &l->id, cmp_by_id);
	dl_tree_insert(&c->leases_by_id, &l->by_client, &l->id, cmp_by_client);
	srv->nleases++;
	c->nleases++;
	return l;
}

static void lease_unlink(struct dl_server *srv, struct dl_lease *l)
{
	struct dl_lease **pp = &srv->leases;

	while (*pp != l)
		pp = &(*pp)->next;
	*pp = l->next;
	dl_tree_remove(&srv->leases_by_id, &l->id, cmp_by_id);
	dl_tree_remove(&l->client->leases_by_id, &l->id, cmp_by_client);
	srv->nleases--;
	l->client->nleases--;
	free(l);
	srv->kick = true;	/* a change or a grant may go now */
}

int dl_lease_release(struct dl_client *c, uint64_t id)
{
	for (struct dl_lease *l = c->srv->leases; l; l = l->next)
		if (l->id == id && l->client == c) {
			lease_unlink(c->srv, l);
			return 0;
		}
	return -EINVAL;
}

void dl_leases_drop_client(struct dl_client *c)
{
	struct dl_server *srv = c->srv;
	struct dl_lease *l = srv->leases, *next;

	for (; l; l = next) {
		next = l->next;
		if (l->client == c)
			lease_unlink(srv, l);
	}
}

bool dl_leases_cover(struct dl_client *c, uint32_t ino, uint64_t offset,
		     uint64_t length)
{
	/* one lease must cover it all: leases are few per client */
	for (struct dl_lease *l = c->srv->leases; l; l = l->next) {
		uint64_t end = l->length > UINT64_MAX - l->offset ?
			       UINT64_MAX : l->offset + l->length;

		if (l->client == c && l->ino == ino &&
		    l->state != DL_LEASE_REVOKED && l->offset <= offset &&
		    length <= end - offset)
			return true;
	}
	return false;
}

int dl_lease_required(struct dl_client *c, uint32_t ino, uint64_t offset,
		      uint64_t length)
{
	/* checked after the gate: a MAP or PIN that queued behind a
	 * change is checked against what the change left of its lease */
	if (!c->srv->opt.require_leases ||
	    dl_leases_cover(c, ino, offset, length))
		return 0;
	return -ENOLCK;
}

static void lease_event(struct dl_lease *l, uint16_t opcode,
			const struct dl_lease_break *why)
{
	struct {
		struct dl_msg_hdr h;
		struct dl_ev_lease ev;
	} m = { 0 };
	int64_t left = l->deadline_ns - dl_server_now_ns();

	m.h = (struct dl_msg_hdr){
		.magic = DL_PROTO_MAGIC,
		.version = l->client->version,
		.opcode = opcode,
		.flags = DL_MSG_EVENT,
		.length = sizeof(m.ev),
	};
	m.ev.lease_id = l->id;
	m.ev.opcode = why->opcode;
	m.ev.pid = why->pid;
	m.ev.uid = why->uid;
	memcpy(m.ev.comm, why->comm, sizeof(m.ev.comm));
	m.ev.remaining_ms = left > 0 ? (uint32_t)(left / 1000000) : 0;
	m.ev.ino = l->ino;
	m.ev.offset = why->offset;
	m.ev.length = why->length;
	m.ev.deadline_ns = l->deadline_ns;
	dl_conn_send(l->client, &m, sizeof(m), NULL, 0);
}

/* The first unrevoked, not yet breaking lease of why's range. */
static struct dl_lease *next_to_break(struct dl_server *srv,
				      const struct dl_lease_break *why)
{
	for (struct dl_lease *l = srv->leases; l; l = l->next)
		if (l->state == DL_LEASE_HELD &&
		    lease_overlaps(l, why->ino, why->offset, why->length))
			return l;
	return NULL;
}

uint32_t dl_leases_break(struct dl_server *srv, const struct dl_lease_break *why)
{
	int64_t now = dl_server_now_ns();
	struct dl_lease *l;

	/* look again from the start after each event: a send may drop a
	 * client that reads nothing, and its leases with it (the change
	 * then does not wait for them) */
	while ((l = next_to_break(srv, why))) {
		l->state = DL_LEASE_BREAKING;
		l->deadline_ns = now + (int64_t)l->timeout_ms * 1000000;
		l->why = *why;
		log_info("lease %llu of %s: break for opcode %u by pid %u (\"%s\")",
			 (unsigned long long)l->id, dl_conn_who(l->client),
			 why->opcode, why->pid,
			 dl_log_str(why->comm, sizeof(why->comm)));
		lease_event(l, DL_EV_LEASE_BREAK, why);
	}
	return dl_leases_breaking(srv, why->ino, why->offset, why->length,
				  NULL, 0);
}

uint32_t dl_leases_breaking(struct dl_server *srv, uint32_t ino,
			    uint64_t offset, uint64_t length, uint64_t *ids,
			    uint32_t max)
{
	uint32_t n = 0;

	for (struct dl_lease *l = srv->leases; l; l = l->next)
		if (l->state == DL_LEASE_BREAKING &&
		    lease_overlaps(l, ino, offset, length)) {
			if (ids && n < max)
				ids[n] = l->id;
			n++;
		}
	return n;
}

int64_t dl_leases_first_deadline(struct dl_server *srv)
{
	int64_t first = 0;

	for (struct dl_lease *l = srv->leases; l; l = l->next)
		if (l->state == DL_LEASE_BREAKING && !l->client->dead &&
		    (!first || l->deadline_ns < first))
			first = l->deadline_ns;
	return first;
}

static void lease_revoke(struct dl_server *srv, struct dl_lease *l)
{
	log_warn("lease %llu of %s revoked: no return by its deadline "
		 "(%u ms) for opcode %u asked by pid %u uid %u comm \"%s\"",
		 (unsigned long long)l->id, dl_conn_who(l->client),
		 l->timeout_ms, l->why.opcode, l->why.pid, l->why.uid,
		 dl_log_str(l->why.comm, sizeof(l->why.comm)));
	l->state = DL_LEASE_REVOKED;
	srv->kick = true;
	lease_event(l, DL_EV_LEASE_REVOKED, &l->why);
}

void dl_leases_expire(struct dl_server *srv)
{
	int64_t now = dl_server_now_ns();
	struct dl_lease *l = srv->leases;

	/* a revocation's send may drop its client and free leases: start
	 * over after each */
	while (l) {
		if (l->state == DL_LEASE_BREAKING && !l->client->dead &&
		    l->deadline_ns <= now) {
			lease_revoke(srv, l);
			l = srv->leases;
			continue;
		}
		l = l->next;
	}
}

void dl_lease_to_wire(const struct dl_lease *l, int64_t now,
		      struct dl_wire_lease *w)
{
	const struct dl_client *c = l->client;
	struct dl_stat st;

	memset(w, 0, sizeof(*w));
	w->lease_id = l->id;
	w->pid = (uint32_t)c->cred.pid;
	w->uid = c->cred.uid;
	memcpy(w->comm, c->comm, strnlen(c->comm, sizeof(w->comm) - 1));
	w->ino = l->ino;
	w->offset = l->offset;
	w->length = l->length;
	w->type = l->exclusive ? DL_LEASE_EXCLUSIVE : DL_LEASE_SHARED;
	w->state = l->state;
	w->timeout_ms = l->timeout_ms;
	if (l->state == DL_LEASE_BREAKING)
		w->deadline_ns = l->deadline_ns;
	w->age_ns = (uint64_t)(now - l->since_ns);
	if (!dl_fs_stat(c->srv->fs, l->ino, &st))
		memcpy(w->name, st.name, sizeof(st.name) < sizeof(w->name) ?
		       sizeof(st.name) : sizeof(w->name));
	w->name[sizeof(w->name) - 1] = 0;
}

const struct dl_lease *dl_lease_after(const struct dl_server *srv,
				      const struct dl_client *c,
				      uint64_t cursor)
{
	struct dl_tree_node *n;

	if (c) {
		n = dl_tree_above(c->leases_by_id, &cursor, cmp_by_client);
		return n && !c->dead ? lease_by_client(n) : NULL;
	}
	/* a gone client's leases wait for its teardown, after the batch */
	while ((n = dl_tree_above(srv->leases_by_id, &cursor, cmp_by_id)) &&
	       lease_by_id(n)->client->dead)
		cursor = lease_by_id(n)->id;
	return n ? lease_by_id(n) : NULL;
}

void dl_leases_free_all(struct dl_server *srv)
{
	while (srv->leases) {
		struct dl_lease *l = srv->leases;

		srv->leases = l->next;
		free(l);
	}
	srv->leases_by_id = NULL;
	srv->nleases = 0;
}

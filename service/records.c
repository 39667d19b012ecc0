// SPDX-License-Identifier: BSD-3-Clause
/*
 * records.c - pin records: what each process may still reach, on the
 * namespace (pmem/fs_pins.c), so that a daxleased started after this one
 * died never hands out a block a living pinner may be writing into.
 *
 * What a process may reach is every range it has mapped - a lockless pin
 * takes no round trip, so the service cannot know which mapped entries
 * are counted - and every range it has pinned through the socket, if it
 * may reach blocks at all (DAX access: a PIN reply tells any other client
 * no namespace offset, handle_pin.c, and a restarted daemon holds nothing
 * for it).  The records are keyed by the process (pid and start time in
 * this boot) and its connection's token (a process may have several
 * contexts; each re-attaches on its own, reattach.c).
 *
 * The rule: a record is written, durably, before the client is told
 * where its blocks are (MAP and PIN replies); it is removed lazily, by a
 * trim a second after the process could last have stopped reaching it
 * (UNMAP, UNPIN, a client gone).  So at any moment - a SIGKILL included -
 * the records cover at least what every process can reach, and the cost
 * is paid at MAP and PIN, never at a lockless pin.  A MAP or PIN of what
 * is recorded already writes nothing.  Records are kept few: each
 * process's are coarsened to --pin-records-per-process ranges (merged
 * across the smallest gaps: more is held after a restart, never less).
 *
 * At start, the records of processes that are still alive are held as
 * pins of a "restored" orphan client each, until the process exits or
 * re-attaches; the records of dead processes are removed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "server.h"

#define TRIM_DELAY_MS 1000	/* how lazily records shrink */

struct dl_owner {
	struct dl_owner *next;
	struct dl_pin_owner key;
	struct dl_rangeset recorded;	/* what the namespace says */
	bool trim;			/* may say more than is reachable */
};

void dl_client_owner(const struct dl_client *c, struct dl_pin_owner *key)
{
	memset(key, 0, sizeof(*key));
	key->pid = (uint32_t)c->cred.pid;
	key->token = c->token;
	key->start_time = c->start_time;
	memcpy(key->boot_id, c->srv->boot_id, sizeof(key->boot_id));
}

static bool client_is(const struct dl_client *c, const struct dl_pin_owner *k)
{
	struct dl_pin_owner ck;

	dl_client_owner(c, &ck);
	return dl_pin_owner_eq(&ck, k);
}

static struct dl_owner *owner_find(struct dl_server *srv,
				   const struct dl_pin_owner *key, bool create)
{
	struct dl_owner *o;

	for (o = srv->owners; o; o = o->next)
		if (dl_pin_owner_eq(&o->key, key))
			return o;
	if (!create)
		return NULL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->key = *key;
	o->next = srv->owners;
	srv->owners = o;
	return o;
}

static void owner_free(struct dl_server *srv, struct dl_owner *o)
{
	struct dl_owner **l = &srv->owners;

	while (*l != o)
		l = &(*l)->next;
	*l = o->next;
	dl_rangeset_free(&o->recorded);
	free(o);
}

/* What every client of key can reach now: mappings' and pins' blocks. */
static int reach_of(struct dl_server *srv, const struct dl_pin_owner *key,
		    struct dl_rangeset *out)
{
	for (struct dl_client *c = srv->clients; c; c = c->next) {
		if (!client_is(c, key))
			continue;
		for (struct dl_mapping *m = c->maps; m; m = m->next)
			if (dl_rangeset_add_all(out, &m->blocks))
				return -ENOMEM;
	}
	for (struct dl_pin *p = srv->pins; p; p = p->next)
		if (client_is(p->client, key) &&
		    dl_rangeset_add_all(out, &p->blocks))
			return -ENOMEM;
	dl_rangeset_normalize(out);
	return 0;
}

/* Write want (coarsened to fit) as key's records; 0 or -errno. */
static int records_write(struct dl_server *srv, struct dl_owner *o,
			 const struct dl_rangeset *want)
{
	size_t max = srv->opt.records_per_process;
	struct dl_rangeset set = { 0 };
	struct dl_ns_range *r = NULL;
	struct dl_err err = { 0 };
	int rc;

	for (;;) {
		dl_rangeset_clear(&set);
		rc = dl_rangeset_add_all(&set, want);
		if (rc)
			break;
		dl_rangeset_coarsen(&set, max);
		free(r);
		r = calloc(set.n ? set.n : 1, sizeof(*r));
		if (!r) {
			rc = -ENOMEM;
			break;
		}
		for (size_t i = 0; i < set.n; i++)
			r[i] = (struct dl_ns_range){ set.v[i].off, set.v[i].len };
		rc = dl_fs_pins_set(srv->fs, &o->key, r, set.n, &err);
		/* a full area: fewer, larger records */
		if (rc != -ENOSPC || max == 1)
			break;
		max = max > 4 ? max / 4 : 1;
	}
	free(r);
	if (rc) {
		log_warn("cannot record the ranges pid %u may reach: %s",
			 o->key.pid, err.errnum ? err.msg : strerror(-rc));
		dl_rangeset_free(&set);
		return rc;
	}
	dl_rangeset_free(&o->recorded);
	o->recorded = set;
	o->trim = false;
	return 0;
}

int dl_records_cover(struct dl_client *c, const struct dl_rangeset *more)
{
	struct dl_server *srv = c->srv;
	struct dl_rangeset want = { 0 };
	struct dl_pin_owner key;
	struct dl_owner *o;
	int rc;

	if (!more->n)
		return 0;
	dl_client_owner(c, &key);
	o = owner_find(srv, &key, true);
	if (!o)
		return -ENOMEM;
	/* the records always cover what is reachable (the rule above), so
	 * when they cover more too, nothing is to be written - and nothing
	 * to be looked up: reach_of() walks every pin */
	if (dl_rangeset_covers_all(&o->recorded, more))
		return 0;
	rc = reach_of(srv, &key, &want);
	if (!rc)
		rc = dl_rangeset_add_all(&want, more);
	if (!rc) {
		dl_rangeset_normalize(&want);
		/* the usual case: already recorded, nothing to write */
		if (!dl_rangeset_covers_all(&o->recorded, &want))
			rc = records_write(srv, o, &want);
	}
	dl_rangeset_free(&want);
	return rc;
}

static void arm_trim(struct dl_server *srv)
{
	struct itimerspec its = {
		.it_value = { TRIM_DELAY_MS / 1000,
			      (TRIM_DELAY_MS % 1000) * 1000000L },
	};

	if (srv->trim_armed || srv->trim_timer.fd < 0)
		return;
	srv->trim_armed = true;
	timerfd_settime(srv->trim_timer.fd, 0, &its, NULL);
}

void dl_records_changed(struct dl_client *c)
{
	struct dl_server *srv = c->srv;
	struct dl_pin_owner key;
	struct dl_owner *o;

	if (srv->exiting)
		return;		/* records outlive us: that is the point */
	dl_client_owner(c, &key);
	o = owner_find(srv, &key, false);
	if (!o)
		return;
	o->trim = true;
	arm_trim(srv);
}

void dl_records_trim(struct dl_server *srv)
{
	struct dl_owner *o, *next;

	for (o = srv->owners; o; o = next) {
		struct dl_rangeset want = { 0 };

		next = o->next;
		if (!o->trim)
			continue;
		if (reach_of(srv, &o->key, &want)) {
			dl_rangeset_free(&want);
			continue;	/* keep what is recorded: safe */
		}
		if (!want.n) {
			struct dl_err err = { 0 };

			if (!dl_fs_pins_set(srv->fs, &o->key, NULL, 0, &err))
				owner_free(srv, o);
		} else {
			records_write(srv, o, &want);
		}
		dl_rangeset_free(&want);
	}
}

static void on_trim_timer(struct dl_source *src, uint32_t events)
{
	struct dl_server *srv = src->data;
	uint64_t ticks;

	(void)events;
	if (read(src->fd, &ticks, sizeof(ticks)) < 0)
		return;
	srv->trim_armed = false;
	dl_records_trim(srv);
}

/* ---- at start ---------------------------------------------------------------- */

/* Is the process a record names alive: this boot, same start time? */
static bool owner_alive(const struct dl_pin_owner *k, void *arg)
{
	const struct dl_server *srv = arg;
	uint64_t start;

	return !memcmp(k->boot_id, srv->boot_id, sizeof(k->boot_id)) &&
	       !dl_proc_start_time((pid_t)k->pid, &start) &&
	       start == k->start_time;
}

/* One restored orphan per living owner, holding all it recorded. */
static int restore_owner(struct dl_server *srv, const struct dl_pin_owner *key,
			 const struct dl_pin_record *recs, size_t n)
{
	struct dl_rangeset held = { 0 };
	struct dl_owner *o = owner_find(srv, key, true);
	struct dl_client *r;
	char size[32];
	int rc = o ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < n; i++)
		if (dl_pin_owner_eq(&recs[i].owner, key))
			rc = dl_rangeset_add(&held, recs[i].range.ns_offset,
					     recs[i].range.length);
	dl_rangeset_normalize(&held);
	if (!rc)
		rc = dl_rangeset_add_all(&o->recorded, &held);
	dl_rangeset_normalize(&o->recorded);
	if (!rc)
		rc = dl_conn_restored(srv, key, &held, &r);
	if (!rc)
		log_warn("pid %u (comm \"%s\") may still write into %zu "
			 "recorded range(s), %s: held until it exits or "
			 "re-attaches", key->pid,
			 dl_log_str(r->comm, sizeof(r->comm)), held.n,
			 dl_fmt_size(size, sizeof(size),
				     dl_rangeset_bytes(&held)));
	dl_rangeset_free(&held);
	return rc;
}

static int restore(struct dl_server *srv)
{
	struct dl_pin_record *recs = NULL;
	struct dl_err err = { 0 };
	size_t n = 0, dead = 0;
	int rc;

	dl_fs_pins_list(srv->fs, NULL, 0, &n);
	if (!n)
		return 0;
	recs = calloc(n, sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	dl_fs_pins_list(srv->fs, recs, n, &n);
	for (size_t i = 0; i < n; i++) {
		bool first = true;

		for (size_t j = 0; j < i && first; j++)
			first = !dl_pin_owner_eq(&recs[j].owner,
						 &recs[i].owner);
		if (!first)
			continue;
		if (!owner_alive(&recs[i].owner, srv)) {
			log_debug("pin records of pid %u (start time %llu, "
				  "token %#x): that process is gone",
				  recs[i].owner.pid,
				  (unsigned long long)recs[i].owner.start_time,
				  recs[i].owner.token);
			dead++;
			continue;
		}
		rc = restore_owner(srv, &recs[i].owner, recs, n);
		if (rc) {
			free(recs);
			return rc;
		}
	}
	free(recs);
	if (dead)
		log_info("pin records of %zu process(es) no longer running "
			 "are released", dead);
	rc = dl_fs_pins_retain(srv->fs, owner_alive, srv, &err);
	if (rc)
		log_err("cannot remove the pin records of dead processes: %s",
			err.errnum ? err.msg : strerror(-rc));
	return rc;
}

int dl_records_open(struct dl_server *srv)
{
	int rc = dl_proc_boot_id(srv->boot_id);
	int fd;

	if (rc) {
		log_err("cannot read this boot's id: %s", strerror(-rc));
		return rc;
	}
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	srv->trim_timer.fd = fd;
	srv->trim_timer.fn = on_trim_timer;
	srv->trim_timer.data = srv;
	rc = dl_loop_add(srv->loop, &srv->trim_timer, EPOLLIN);
	if (rc)
		return rc;
#ifdef DAXLEASE_UNSAFE_IGNORE_PIN_RECORDS
	/* TEST ONLY (-DDAXLEASE_NEGATIVE_CONTROL=ignore-pin-records): a
	 * restart forgets who may still write where, to show the kill
	 * tests catch it */
	return 0;
#endif
	return restore(srv);
}

void dl_records_close(struct dl_server *srv)
{
	/* exactly what is reachable now: a clean stop leaves no record
	 * that a trim would have removed */
	for (struct dl_owner *o = srv->owners; o; o = o->next)
		o->trim = true;
	if (srv->fs)
		dl_records_trim(srv);
	while (srv->owners)
		owner_free(srv, srv->owners);
	if (srv->trim_timer.fd >= 0) {
		dl_loop_del(srv->loop, &srv->trim_timer);
		close(srv->trim_timer.fd);
		srv->trim_timer.fd = -1;
	}
}

// SPDX-License-Identifier: BSD-3-Clause
/*
 * limits.c - the limits of limits.h: their options, and the checks the
 * handlers make before a client may hold one more of something.
 *
 * The counts live where the things do (srv->npins and c->npins in pin.c,
 * leases in lease.c, waiters in wait.c, outboxes in conn.c); mappings and
 * table entries are counted here, as handle_map.c, mapping.c and
 * reattach.c link and unlink them.  Per-client checks come first, so a
 * client at its own limit hears about its own limit.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "limits.h"
#include "log.h"
#include "server.h"

#define LINE_INTERVAL_MS 1000	/* one line a second per kind, at most */

#define KiB 1024ULL
#define MiB (1024 * KiB)

static const struct limit_opt {
	const char *name;
	size_t field;			/* offsetof(struct dl_limits, ...) */
	uint64_t dflt, min, max;
	bool bytes;			/* takes K, M, G, T */
	const char *help;
} opts[] = {
	{ "connections-max", offsetof(struct dl_limits, connections_max),
	  1024, 1, 1 << 20, false,
	  "connections in all" },
	{ "connections-per-uid",
	  offsetof(struct dl_limits, connections_per_uid), 256, 1, 1 << 20,
	  false, "connections per uid (not root)" },
	{ "waiting-per-client",
	  offsetof(struct dl_limits, waiting_per_client), 256, 1, 1 << 16,
	  false, "waiting requests per connection" },
	{ "queued-bytes-max", offsetof(struct dl_limits, queued_bytes_max),
	  64 * MiB, 128 * KiB, 1ULL << 40, true,
	  "queued requests and replies" },
	{ "pins-max", offsetof(struct dl_limits, pins_max), 262144, 1,
	  1 << 24, false, "socket pins in all" },
	{ "pins-per-client", offsetof(struct dl_limits, pins_per_client),
	  16384, 1, 1 << 24, false, "socket pins per connection" },
	{ "leases-max", offsetof(struct dl_limits, leases_max), 65536, 1,
	  1 << 24, false, "leases in all" },
	{ "leases-per-client", offsetof(struct dl_limits, leases_per_client),
	  1024, 1, 1 << 24, false, "leases per connection" },
	{ "mappings-max", offsetof(struct dl_limits, mappings_max), 65536, 1,
	  1 << 24, false, "mappings in all" },
	{ "mappings-per-client",
	  offsetof(struct dl_limits, mappings_per_client), 4096, 1, 1 << 24,
	  false, "mappings per connection" },
	{ "table-entries-max", offsetof(struct dl_limits, table_entries_max),
	  1 << 20, 1, 1ULL << 32, false,
	  "table entries in use in all" },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static uint64_t *field_of(struct dl_limits *l, unsigned i)
{
	return (uint64_t *)((char *)l + opts[i].field);
}

void dl_limits_default(struct dl_limits *l)
{
	for (unsigned i = 0; i < NOPTS; i++)
		*field_of(l, i) = opts[i].dflt;
}

unsigned dl_limits_nopts(void)
{
	return NOPTS;
}

const char *dl_limits_opt_name(unsigned i)
{
	return i < NOPTS ? opts[i].name : NULL;
}

/* A decimal number, with a K, M, G or T (binary) suffix if bytes. */
static int parse_number(const char *s, bool bytes, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	errno = 0;
	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (bytes && *end && !end[1]) {
		const char *units = "KMGT", *u = strchr(units, *end);

		if (!u)
			return -EINVAL;
		shift = 10 * (unsigned)(u - units + 1);
		end++;
	}
	if (*end || (shift && v > UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

int dl_limits_parse(struct dl_limits *l, unsigned i, const char *arg)
{
	const struct limit_opt *o = &opts[i];
	uint64_t v;

	if (i >= NOPTS)
		return -EINVAL;
	if (parse_number(arg, o->bytes, &v) || v < o->min || v > o->max) {
		fprintf(stderr, "daxleased: --%s: %llu .. %llu%s\n", o->name,
			(unsigned long long)o->min,
			(unsigned long long)o->max,
			o->bytes ? " bytes (K, M, G, T: binary units)" : "");
		return -EINVAL;
	}
	*field_of(l, i) = v;
	return 0;
}

void dl_limits_usage(FILE *f)
{
	for (unsigned i = 0; i < NOPTS; i++) {
		const struct limit_opt *o = &opts[i];
		char arg[40], dflt[24];
		int n;

		n = snprintf(arg, sizeof(arg), "--%s %s", o->name,
			     o->bytes ? "BYTES" : "N");
		if (o->bytes && !(o->dflt % MiB))
			snprintf(dflt, sizeof(dflt), "%lluM",
				 (unsigned long long)(o->dflt / MiB));
		else
			snprintf(dflt, sizeof(dflt), "%llu",
				 (unsigned long long)o->dflt);
		/* the help column of main.c's usage, or two spaces on */
		fprintf(f, "      %-*s%s (default %s)\n", n < 19 ? 21 : n + 2,
			arg, o->help, dflt);
	}
}

/* ---- the checks ---------------------------------------------------------------- */

static const struct dl_limits *limits_of(const struct dl_server *srv)
{
	return &srv->opt.limits;
}

/* Connections (and orphans: they keep their fds) of uid. */
static uint64_t connections_of(const struct dl_server *srv, uid_t uid)
{
	uint64_t n = 0;

	for (const struct dl_client *c = srv->clients; c; c = c->next)
		n += c->cred.uid == uid && (!c->dead || c->orphan);
	return n;
}

int dl_limit_connection(struct dl_server *srv, uid_t uid, pid_t pid)
{
	static struct dl_ratelimit all = DL_RATELIMIT(LINE_INTERVAL_MS);
	static struct dl_ratelimit one = DL_RATELIMIT(LINE_INTERVAL_MS);
	const struct dl_limits *l = limits_of(srv);
	uint64_t n = srv->nclients + srv->norphans;

	if (n >= l->connections_max) {
		dl_log_limited(&all, DL_LOG_WARN,
			       "connection of pid %d uid %u refused: %llu in all (--connections-max %llu)",
			       (int)pid, (unsigned)uid, (unsigned long long)n,
			       (unsigned long long)l->connections_max);
		return -EAGAIN;
	}
	/* root may always connect while there is room at all: the admin
	 * who looks at what the others hold */
	if (uid == 0)
		return 0;
	n = connections_of(srv, uid);
	if (n >= l->connections_per_uid) {
		dl_log_limited(&one, DL_LOG_WARN,
			       "connection of pid %d uid %u refused: uid %u has %llu (--connections-per-uid %llu)",
			       (int)pid, (unsigned)uid, (unsigned)uid,
			       (unsigned long long)n,
			       (unsigned long long)l->connections_per_uid);
		return -EUSERS;
	}
	return 0;
}

int dl_limit_wait(struct dl_client *c, uint16_t opcode, size_t bytes)
{
	static struct dl_ratelimit own = DL_RATELIMIT(LINE_INTERVAL_MS);
	static struct dl_ratelimit all = DL_RATELIMIT(LINE_INTERVAL_MS);
	const struct dl_limits *l = limits_of(c->srv);

	if (c->nwaiting >= l->waiting_per_client) {
		dl_log_limited(&own, DL_LOG_WARN,
			       "%s: opcode %u cannot wait: %u of its requests wait (--waiting-per-client %llu)",
			       dl_conn_who(c), opcode, c->nwaiting,
			       (unsigned long long)l->waiting_per_client);
		return -EAGAIN;
	}
	if (c->srv->queued_bytes + bytes > l->queued_bytes_max) {
		dl_log_limited(&all, DL_LOG_WARN,
			       "%s: opcode %u cannot wait: %llu bytes queued in all (--queued-bytes-max %llu)",
			       dl_conn_who(c), opcode,
			       (unsigned long long)c->srv->queued_bytes,
			       (unsigned long long)l->queued_bytes_max);
		return -ENOBUFS;
	}
	return 0;
}

const char *dl_limit_outbox(struct dl_client *c, size_t bytes)
{
	static char why[128];
	const struct dl_limits *l = limits_of(c->srv);

	if (c->srv->queued_bytes + bytes <= l->queued_bytes_max)
		return NULL;
	/* said once per client dropped: connections bound how often */
	snprintf(why, sizeof(why),
		 "does not read its replies, and %llu bytes are queued in all (--queued-bytes-max %llu)",
		 (unsigned long long)c->srv->queued_bytes,
		 (unsigned long long)l->queued_bytes_max);
	return why;
}

/* A limit on what c holds: its own count, then everyone's. */
struct held {
	const char *request, *what;
	uint64_t own, own_max, all, all_max;
	const char *own_opt, *all_opt;
	struct dl_ratelimit *own_rl, *all_rl;
};

static int check_held(struct dl_client *c, const struct held *h, int own_err,
		      int all_err)
{
	if (h->own >= h->own_max) {
		dl_log_limited(h->own_rl, DL_LOG_WARN,
			       "%s: %s refused: %llu %s held (--%s %llu)",
			       dl_conn_who(c), h->request,
			       (unsigned long long)h->own, h->what, h->own_opt,
			       (unsigned long long)h->own_max);
		return own_err;
	}
	if (h->all >= h->all_max) {
		dl_log_limited(h->all_rl, DL_LOG_WARN,
			       "%s: %s refused: %llu %s in all (--%s %llu)",
			       dl_conn_who(c), h->request,
			       (unsigned long long)h->all, h->what, h->all_opt,
			       (unsigned long long)h->all_max);
		return all_err;
	}
	return 0;
}

int dl_limit_pin(struct dl_client *c)
{
	static struct dl_ratelimit own = DL_RATELIMIT(LINE_INTERVAL_MS);
	static struct dl_ratelimit all = DL_RATELIMIT(LINE_INTERVAL_MS);
	const struct dl_limits *l = limits_of(c->srv);
	struct held h = {
		"PIN", "pins", c->npins, l->pins_per_client, c->srv->npins,
		l->pins_max, "pins-per-client", "pins-max", &own, &all,
	};

	return check_held(c, &h, -EMFILE, -ENFILE);
}

int dl_limit_lease(struct dl_client *c)
{
	static struct dl_ratelimit own = DL_RATELIMIT(LINE_INTERVAL_MS);
	static struct dl_ratelimit all = DL_RATELIMIT(LINE_INTERVAL_MS);
	const struct dl_limits *l = limits_of(c->srv);
	struct held h = {
		"LEASE_ACQUIRE", "leases", c->nleases, l->leases_per_client,
		c->srv->nleases, l->leases_max, "leases-per-client",
		"leases-max", &own, &all,
	};

	return check_held(c, &h, -ENOLCK, -ENOLCK);
}

int dl_limit_map(struct dl_client *c, uint64_t entries)
{
	static struct dl_ratelimit own = DL_RATELIMIT(LINE_INTERVAL_MS);
	static struct dl_ratelimit all = DL_RATELIMIT(LINE_INTERVAL_MS);
	static struct dl_ratelimit ent = DL_RATELIMIT(LINE_INTERVAL_MS);
	struct dl_server *srv = c->srv;
	const struct dl_limits *l = limits_of(srv);
	struct held h = {
		"MAP", "mappings", c->nmaps, l->mappings_per_client,
		srv->nmaps, l->mappings_max, "mappings-per-client",
		"mappings-max", &own, &all,
	};
	int rc = check_held(c, &h, -EMFILE, -ENFILE);

	if (rc)
		return rc;
	if (srv->entries_used + entries > l->table_entries_max) {
		dl_log_limited(&ent, DL_LOG_WARN,
			       "%s: MAP refused: %llu table entries in use in all, %llu more asked (--table-entries-max %llu)",
			       dl_conn_who(c),
			       (unsigned long long)srv->entries_used,
			       (unsigned long long)entries,
			       (unsigned long long)l->table_entries_max);
		return -ENFILE;
	}
	return 0;
}

void dl_limits_map_added(struct dl_client *c, const struct dl_mapping *m)
{
	c->nmaps++;
	c->srv->nmaps++;
	c->srv->entries_used += m->nentries;
}

void dl_limits_map_gone(struct dl_client *c, const struct dl_mapping *m)
{
	c->nmaps--;
	c->srv->nmaps--;
	c->srv->entries_used -= m->nentries;
}

/* ---- file descriptors ----------------------------------------------------------- */

void dl_limits_fit_nofile(const struct dl_limits *l)
{
	rlim_t need = (rlim_t)(l->connections_max * DL_FDS_PER_CLIENT +
			       DL_FDS_RESERVE);
	struct rlimit rl, want;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return;
	want = rl;
	want.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ?
			need : rl.rlim_max;
	if (!setrlimit(RLIMIT_NOFILE, &want))
		rl = want;
	if (rl.rlim_cur < need)
		log_warn("RLIMIT_NOFILE is %llu, but --connections-max %llu needs %llu (%d per connection and %d more): past the fd limit new connections wait",
			 (unsigned long long)rl.rlim_cur,
			 (unsigned long long)l->connections_max,
			 (unsigned long long)need, DL_FDS_PER_CLIENT,
			 DL_FDS_RESERVE);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * limits.h - what one client, one uid and all clients together may hold
 * in daxleased, so that no client can make it run out of memory or file
 * descriptors and everyone else is still served.
 *
 * Each limit is a daxleased option (the table in limits.c, documented in
 * daxleased(8), LIMITS).  A request over one fails with an errno that
 * says which kind of limit it met, and a warning line names the option
 * (rate-limited, log.h, so a client that keeps asking cannot fill the
 * log):
 *
 *   a client's own share      EMFILE  pins, mappings (a process's fd table)
 *   all clients together      ENFILE  pins, mappings, table entries in use
 *                                     (the system's file table)
 *   leases, either kind       ENOLCK  (as F_SETLEASE when the lock table
 *                                     is full)
 *   requests that would wait  EAGAIN  past --waiting-per-client
 *                             ENOBUFS past --queued-bytes-max
 *   connections               EAGAIN  past --connections-max (a full
 *                                     listen backlog gives EAGAIN too)
 *                             EUSERS  past --connections-per-uid
 *
 * A refused connection gets its errno as the answer to its first
 * message (HELLO, accept.c).  A reply that does not fit in
 * --queued-bytes-max cannot be refused: its client, which is not reading
 * its replies, is dropped instead, as for a full outbox (conn.c).  Room
 * in a client's own mapping table is --table-entries (ENOSPC, maptable.c).
 *
 * What they bound: the service's memory is about 150 bytes a pin, 200 a
 * lease or a mapping, 200 a waiting request plus the copy of its message
 * (counted in --queued-bytes-max), and the shared memory of the tables
 * 96 bytes an entry in use (32 in the table, 64 in the counter region)
 * - at most --table-entries per client, --table-entries-max in all.
 * Its fds are at most DL_FDS_PER_CLIENT per client and DL_FDS_RESERVE
 * more (dl_limits_fit_nofile).
 */
#ifndef DAXLEASED_LIMITS_H
#define DAXLEASED_LIMITS_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* A client's fds: its socket, pidfd and wake eventfd, and once it has
 * mapped, its table and counter memfds.  An orphan has all but the
 * socket, and counts as a connection. */
#define DL_FDS_PER_CLIENT 5
/* Ours, the refused connections being answered (accept.c) and the fds
 * a REATTACH message may carry, with room to spare. */
#define DL_FDS_RESERVE 64

struct dl_limits {
	uint64_t connections_max;	/* connections and orphans, in all */
	uint64_t connections_per_uid;	/* the same, per uid (not root) */
	uint64_t waiting_per_client;	/* suspended requests (wait.c) */
	uint64_t queued_bytes_max;	/* waiters' message copies and
					 * outboxes, in all */
	uint64_t pins_max, pins_per_client;	/* socket pins */
	uint64_t leases_max, leases_per_client;
	uint64_t mappings_max, mappings_per_client;
	uint64_t table_entries_max;	/* entries in use, all tables */
};

/* ---- options ---------------------------------------------------------------- */
void dl_limits_default(struct dl_limits *l);
/* The limit options: their number, the name of the i-th (for getopt). */
unsigned dl_limits_nopts(void);
const char *dl_limits_opt_name(unsigned i);
/* --NAME ARG for the i-th: 0, or -EINVAL with the accepted range said on
 * stderr. */
int dl_limits_parse(struct dl_limits *l, unsigned i, const char *arg);
/* Their lines of daxleased --help. */
void dl_limits_usage(FILE *f);

/* ---- the checks: 0, or the errno above (logged) ---------------------------- */
struct dl_server;
struct dl_client;
struct dl_mapping;

/* A new connection of uid from pid (SO_PEERCRED). */
int dl_limit_connection(struct dl_server *srv, uid_t uid, pid_t pid);
/* c's request (opcode) would wait, keeping bytes. */
int dl_limit_wait(struct dl_client *c, uint16_t opcode, size_t bytes);
/* A reply of bytes must wait in c's outbox: NULL if it fits, else why c
 * is dropped instead. */
const char *dl_limit_outbox(struct dl_client *c, size_t bytes);
int dl_limit_pin(struct dl_client *c);
int dl_limit_lease(struct dl_client *c);
/* A new mapping of entries table entries. */
int dl_limit_map(struct dl_client *c, uint64_t entries);
/* The counts of mappings and entries in use, as one comes or goes. */
void dl_limits_map_added(struct dl_client *c, const struct dl_mapping *m);
void dl_limits_map_gone(struct dl_client *c, const struct dl_mapping *m);

/* At start: raise the soft RLIMIT_NOFILE to what --connections-max needs
 * (DL_FDS_PER_CLIENT each, DL_FDS_RESERVE more), as far as the hard
 * limit lets; a warning if it stays short (accept.c then pauses at
 * EMFILE). */
void dl_limits_fit_nofile(const struct dl_limits *l);

#endif

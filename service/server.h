/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server.h - daxleased's state: the server, its clients, their mappings,
 * and the functions the modules call on each other.
 *
 * One thread, one epoll loop (loop.h).  A client's error never changes
 * another client's state; the only cross-client action is invalidating
 * table entries when a file's layout changes (mapping.c).
 */
#ifndef DAXLEASED_SERVER_H
#define DAXLEASED_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <daxlease/proto.h>

#include "access.h"
#include "decode.h"
#include "fh.h"
#include "fs.h"
#include "loop.h"
#include "maptable.h"
#include "namespace.h"

#define DL_OUTBOX_MAX (1u << 20)	/* queued reply bytes per client */

struct dl_server;

struct dl_options {
	const char *image;
	const char *namespace;
	const char *socket;
	gid_t dax_gid;			/* (gid_t)-1: none */
	gid_t admin_gid;
	uint64_t table_entries;
};

/* One MAP: a contiguous run of table entries, one per leaf. */
struct dl_mapping {
	struct dl_mapping *next;
	uint64_t id;
	uint32_t ino;
	uint32_t generation;
	uint64_t offset, length;
	uint64_t first, nentries;
	bool write;
};

/* A reply or event waiting for room in the client's socket. */
struct dl_outmsg {
	struct dl_outmsg *next;
	size_t len;
	int fds[2];
	int nfds;
	uint8_t buf[];
};

struct dl_client {
	struct dl_server *srv;
	struct dl_client *prev, *next;
	struct dl_source sock;
	struct dl_source pidfd;
	struct dl_source wake;		/* eventfd: pin counters reached zero */
	uint64_t id;
	struct dl_cred cred;
	gid_t *groups;
	char comm[17];
	char name[33];			/* from HELLO */
	uint16_t version;		/* 0 until HELLO */
	uint32_t server_flags;		/* DL_SRV_* */
	struct dl_fh_table fhs;
	struct dl_maptable *table;	/* created by the first MAP */
	bool fds_sent;
	struct dl_mapping *maps;
	struct dl_outmsg *out_head, *out_tail;
	size_t out_bytes;
	bool dead;
};

struct dl_server {
	struct dl_options opt;
	struct dl_loop *loop;
	struct dl_ns *ns;
	struct dl_fs *fs;
	struct dl_ns_info nsinfo;
	/* the namespace as clients get it: the same file, but a separate
	 * open file description, so it does not carry our flock and a
	 * client holding it cannot keep a restarted daxleased out */
	int client_ns_fd;
	struct dl_source listen;
	struct dl_source signals;
	struct dl_source timer;
	char *socket_path;		/* NULL with socket activation */
	bool unlink_socket;
	struct dl_client *clients;
	struct dl_client *dead;		/* freed after the epoll batch */
	uint32_t nclients;
	uint64_t next_client_id;
	uint64_t next_map_id;
	int64_t start_ns;
	void *rx;			/* one received message */
	void *tx;			/* one reply being built */
};

/* What a handler fills in: a payload in srv->tx after the header. */
struct dl_reply {
	void *payload;
	uint32_t len;
	int fds[2];
	int nfds;
};

/* ---- server.c ------------------------------------------------------------- */
/* srv->opt filled in; 0 or -errno (logged). */
int dl_server_open(struct dl_server *srv);
int dl_server_run(struct dl_server *srv);
/* Drops every client, closes the fs and the namespace (marked clean). */
void dl_server_close(struct dl_server *srv);

/* ---- conn.c --------------------------------------------------------------- */
void dl_conn_accept(struct dl_source *src, uint32_t events);
/* Queue (or send at once) one message; may drop the client. */
void dl_conn_send(struct dl_client *c, const void *msg, size_t len,
		  const int *fds, int nfds);
/* Close everything the client holds; freed after the current batch. */
void dl_conn_drop(struct dl_client *c, const char *why);
void dl_conn_free_dead(void *srv);
void dl_conn_drop_all(struct dl_server *srv);
/* "pid=%d uid=%u comm=%s" for log lines */
const char *dl_conn_who(const struct dl_client *c);

/* ---- dispatch.c ------------------------------------------------------------- */
void dl_dispatch(struct dl_client *c, const void *buf, size_t len);

/* ---- handlers: 0 or -errno; reply payload only on success ------------------ */
typedef int dl_handler_fn(struct dl_client *c, const struct dl_request *rq,
			  struct dl_reply *rp);
dl_handler_fn dl_handle_hello, dl_handle_status;
dl_handler_fn dl_handle_open, dl_handle_close, dl_handle_stat,
	dl_handle_list, dl_handle_unlink, dl_handle_rename, dl_handle_setattr;
dl_handler_fn dl_handle_read, dl_handle_write, dl_handle_fsync,
	dl_handle_truncate, dl_handle_fallocate;
dl_handler_fn dl_handle_map, dl_handle_unmap;

/* handle_session.c: CLOCK_MONOTONIC in ns (the uptime clock) */
int64_t dl_server_now_ns(void);

/* ---- files.c: shared by the handlers ----------------------------------------- */
/* The handle's file, still of the handle's generation: 0, -EBADF, -ESTALE. */
int dl_file_from_fh(struct dl_client *c, uint64_t fh, struct dl_fh **h,
		    struct dl_stat *st);
void dl_wire_stat_fill(struct dl_wire_stat *w, const struct dl_stat *st);
/* Log a failed fs call at debug level, with the client and the why. */
int dl_fs_failed(struct dl_client *c, const char *op, int rc,
		 const struct dl_err *err);

/* ---- mapping.c ---------------------------------------------------------------- */
/*
 * The layout of [offset, offset+length) of ino changes: invalidate every
 * entry of every client that maps any of it (length UINT64_MAX: to the end).
 */
void dl_mappings_invalidate(struct dl_server *srv, uint32_t ino,
			    uint64_t offset, uint64_t length);
void dl_mappings_free_client(struct dl_client *c);

#endif

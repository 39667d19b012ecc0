/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_service_prog.h - the inside of the program runner: the clients,
 * what each connection learned from its replies, and the calls the
 * operations (fuzz_service_ops.c) make on the runner
 * (fuzz_service_prog.c).
 */
#ifndef DAXLEASE_TESTS_FUZZ_SERVICE_PROG_H
#define DAXLEASE_TESTS_FUZZ_SERVICE_PROG_H

#include "fuzz_service.h"

/* The input, read as the operations need it. */
struct fzs_in {
	const uint8_t *p;
	size_t len, at;
};

uint8_t fzs_u8(struct fzs_in *in);
uint32_t fzs_u32(struct fzs_in *in);
uint64_t fzs_u64(struct fzs_in *in);

/* A ring of the FZS_KEEP values of a kind learned last. */
struct fzs_ring {
	uint64_t v[FZS_KEEP];
	unsigned n;		/* ever added */
};

void fzs_ring_add(struct fzs_ring *r, uint64_t v);
/* The i-th most recent (0: the latest); false if the ring is empty. */
bool fzs_ring_get(const struct fzs_ring *r, unsigned i, uint64_t *v);

struct fzs_file {
	uint64_t fh, ino;
	uint32_t generation, flags;
};

struct fzs_pin {
	uint64_t id, ino, offset, length;
	uint32_t generation, flags, nsegs;
	struct dl_wire_seg seg[4];
};

/* The table and counter memfds of a connection's first MAP, mapped. */
struct fzs_table {
	int fd[DL_MAP_NFDS];	/* table, namespace, counters, wake; -1 */
	const struct dl_table_hdr *hdr;
	size_t table_len;
	struct dl_counters_hdr *chdr;
	size_t cnt_len;
};

/* What one connection learned; kept when it is lost, for REATTACH. */
struct fzs_conn {
	bool used;
	uint32_t token;
	uint64_t ns_fd_offset;
	struct fzs_file files[FZS_KEEP];
	unsigned nfiles;
	struct fzs_ring fhs, maps, map_first, map_count, leases, cursors;
	struct fzs_pin pins[FZS_KEEP];
	unsigned npins;
	struct fzs_ring live_pins;	/* ids not unpinned by us */
	struct fzs_table tab;
};

/* A request in flight, for what its reply means. */
struct fzs_pending {
	uint64_t id;
	uint16_t opcode;
	uint32_t flags;		/* OPEN: its flags */
	uint64_t fh, offset, length;
};

#define FZS_PENDING 32

struct fzs_client {
	int sock;		/* -1: no connection */
	bool hello, polite, no_read;
	bool may_drop;		/* did what a daemon drops a client for */
	bool shut_rd;
	unsigned deaf_after;	/* replies until it shuts down reading */
	uint64_t next_id;
	struct fzs_pending pending[FZS_PENDING];
	int junk[8];		/* fds for its next request */
	int njunk;
	struct fzs_conn st;
};

struct fzs_runner {
	struct fzs_daemon *d;
	struct fzs_stats *stats;
	struct fzs_client c[FZS_CLIENTS];
	struct fzs_conn lost[FZS_LOST];
	unsigned nlost;
	unsigned batch;		/* operations left before the next pump */
	bool as_root;
	void *fake;		/* the last fake region, still writable */
	size_t fake_len;
	uint8_t rx[DL_PROTO_MAX_MSG + 4096] __attribute__((aligned(8)));
};

/* ---- fuzz_service_prog.c ------------------------------------------------ */

void fzs_connect(struct fzs_runner *r, struct fzs_client *c, uint8_t flags);
/* Close c's connection (its learned state becomes a lost one). */
void fzs_disconnect(struct fzs_runner *r, struct fzs_client *c);
/* Send one request (with fds, and c's junk fds); its id, or 0. */
uint64_t fzs_send(struct fzs_runner *r, struct fzs_client *c,
		  uint16_t opcode, const void *payload, size_t len,
		  const int *fds, int nfds, const struct fzs_pending *what);
/* Send bytes as they are (RAW). */
void fzs_send_raw(struct fzs_runner *r, struct fzs_client *c,
		  const void *buf, size_t len);
/* Let the daemon run, read every reply. */
void fzs_pump(struct fzs_runner *r, int ms);

/* A connection's learned file with fh (NULL: none). */
const struct fzs_file *fzs_file_of(const struct fzs_conn *st, uint64_t fh);
/* The lost connection i names (modulo those there are), or NULL. */
struct fzs_conn *fzs_lost(struct fzs_runner *r, uint8_t i);
/* An fd of that kind, made for one message (close it after), or -1. */
int fzs_make_fd(struct fzs_runner *r, struct fzs_client *c,
		const struct fzs_conn *of, uint8_t kind);

/* ---- fuzz_service_ops.c ----------------------------------------------- */

void fzs_op(struct fzs_runner *r, struct fzs_in *in, uint8_t op,
	    struct fzs_client *c);

#endif

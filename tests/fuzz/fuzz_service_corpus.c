// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz_service_corpus.c - the seed programs of the service fuzzer
 * (fuzz_service.h has the format):
 *
 *   fuzz_service_make_corpus DIR
 *
 * writes DIR/seed-*: one program per story the issue tells (a lease
 * broken while its holder shut down reading, a truncate waiting for a
 * socket pin and for a lockless one, re-attaching after a disconnect and
 * after a restart, fds of every kind, raw bytes, a batch that drops a
 * client in the middle).  The fuzzer starts from these; what it finds
 * is kept beside them as regress-* inputs.
 *
 *   fuzz_service_make_corpus DIR DICT
 *
 * also writes DICT, a libFuzzer dictionary (-dict=DICT) of well-formed
 * operations for the first three slots: a mutation that inserts one
 * makes a program do one more meaningful thing, where random bytes
 * mostly make requests the decoder refuses.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_service.h"

struct prog {
	uint8_t b[4096];
	size_t n;
};

static void put(struct prog *p, const uint8_t *b, size_t n)
{
	if (p->n + n <= sizeof(p->b)) {
		memcpy(p->b + p->n, b, n);
		p->n += n;
	}
}

/* OP(p, op, client, args...): one operation and its argument bytes */
#define OP(p, op, c, ...) \
	put(p, (const uint8_t[]){ op, c, __VA_ARGS__ }, \
	    sizeof((const uint8_t[]){ op, c, __VA_ARGS__ }))
#define OP0(p, op, c) put(p, (const uint8_t[]){ op, c }, 2)

#define HELLO_AT_ONCE (FZS_CONN_HELLO | FZS_CONN_POLITE)
#define RWC 7			/* DL_O_READ | DL_O_WRITE | DL_O_CREATE */
#define RW 3

/* c: connect, HELLO, open f<name> read-write (created) */
static void client_with_file(struct prog *p, uint8_t c, uint8_t flags,
			     uint8_t name)
{
	OP(p, FZS_OP_CONNECT, c, flags | FZS_CONN_HELLO);
	OP(p, FZS_OP_OPEN, c, name, RWC, 0);
}

/* 64 KiB at page pg of the slot's latest file */
static void write64k(struct prog *p, uint8_t c, uint8_t pg)
{
	OP(p, FZS_OP_WRITE, c, 0, 1, pg, 0xff, 0x5a);
}

/* slots 0 and 1 hold shared leases on all of f<name>, which 0 wrote */
static void two_holders(struct prog *p, uint8_t name)
{
	client_with_file(p, 0, 0, name);
	write64k(p, 0, 0);
	client_with_file(p, 1, 0, name);
	OP(p, FZS_OP_LEASE, 0, 0, 0, 0, 0, 0, 3);
	OP(p, FZS_OP_LEASE, 1, 0, 0, 0, 0, 0, 3);
}

static void seed_row1(struct prog *p)
{
	p->b[p->n++] = 0;
	two_holders(p, 0);
	OP(p, FZS_OP_SHUTDOWN, 0, 0);
	OP(p, FZS_OP_TRUNCATE, 0, 0, 0, 0, 0);
	OP(p, FZS_OP_SLEEP, 1, 3);
	OP(p, FZS_OP_SLEEP, 1, 3);
	OP(p, FZS_OP_VIEW, 1, FZS_VIEW_BLOCKED, 0xff, 64);
	OP(p, FZS_OP_FALLOCATE, 1, 0, 2, 0, 4, 0, 0);
}

static void seed_pin_wait(struct prog *p)
{
	p->b[p->n++] = 0;
	client_with_file(p, 0, 0, 1);
	write64k(p, 0, 0);
	client_with_file(p, 1, FZS_CONN_POLITE, 1);
	OP(p, FZS_OP_LEASE, 1, 0, 0, 0, 0, 0, 3);
	OP(p, FZS_OP_PIN, 1, 0, 0, 1, 1);
	OP(p, FZS_OP_NS_WRITE, 1, 0, 0, 16, 0x77);
	OP(p, FZS_OP_TRUNCATE, 0, 0, 0, 0, 0);
	OP(p, FZS_OP_SLEEP, 0, 3);
	OP(p, FZS_OP_VIEW, 1, FZS_VIEW_BUSY, 0xff, 64);
	OP(p, FZS_OP_DISCONNECT, 0);
	OP(p, FZS_OP_UNPIN, 1, 0);
	OP(p, FZS_OP_TRUNCATE, 1, 0, 1, 2, 2);
	OP(p, FZS_OP_STAT, 1, 1, 1);
}

static void seed_lockless(struct prog *p)
{
	p->b[p->n++] = FZS_CFG_ADVISORY;
	client_with_file(p, 0, 0, 2);
	OP(p, FZS_OP_FALLOCATE, 0, 0, 0, 0, 0x80, 0, 0);
	OP(p, FZS_OP_MAP, 0, 0, 0, 0x80, 3);
	OP(p, FZS_OP_COUNTER, 0, 0, FZS_CNT_PIN_MAP, 0);
	client_with_file(p, 1, 0, 2);
	OP(p, FZS_OP_FALLOCATE, 1, 0, 2, 0, 16, 0, 0);
	OP(p, FZS_OP_VIEW, 1, FZS_VIEW_BLOCKED, 0xff, 64);
	OP(p, FZS_OP_COUNTER, 0, 0, FZS_CNT_UNPIN, 0);
	OP(p, FZS_OP_COUNTER, 0, 0, FZS_CNT_LIE, 1, 0);
	OP(p, FZS_OP_COUNTER, 0, 0, FZS_CNT_WAKE, 0);
	OP(p, FZS_OP_UNMAP, 0, 0);
	OP(p, FZS_OP_DISCONNECT, 0);
	OP(p, FZS_OP_VIEW, 1, FZS_VIEW_BUSY, 0xff, 64);
	OP(p, FZS_OP_COUNTER, 1, 0x80, FZS_CNT_LIE, 2, 5);
	OP(p, FZS_OP_SLEEP, 1, 2);
}

/* c maps and pins the first MiB of its file f<name> */
static void map_and_pin(struct prog *p, uint8_t c, uint8_t name)
{
	client_with_file(p, c, 0, name);
	OP(p, FZS_OP_FALLOCATE, c, 0, 0, 0, 0x80, 0, 0);
	OP(p, FZS_OP_MAP, c, 0, 0, 0x80, 3);
	OP(p, FZS_OP_PIN, c, 0, 0, 16, 1);
	OP(p, FZS_OP_COUNTER, c, 0, FZS_CNT_PIN, 1);
}

/* a new connection in c takes over lost connection 0 */
static void reattach(struct prog *p, uint8_t c)
{
	OP(p, FZS_OP_CONNECT, c, FZS_CONN_HELLO);
	OP(p, FZS_OP_REATTACH, c, 0, 0, 0);
	OP(p, FZS_OP_REATTACH, c, 1, 0, 2, 0);
	OP(p, FZS_OP_REATTACH, c, 2, 0, 3, FZS_FD_TABLE, FZS_FD_COUNTERS,
	   FZS_FD_WAKE, 1, 0);
	OP(p, FZS_OP_REATTACH, c, 3, 0, 0, 0);
	OP(p, FZS_OP_REATTACH, c, 4, 0);
	OP(p, FZS_OP_VIEW, c, FZS_VIEW_STATUS, 0, 0);
}

static void seed_reattach(struct prog *p)
{
	p->b[p->n++] = FZS_CFG_ADVISORY;
	map_and_pin(p, 0, 3);
	OP(p, FZS_OP_DISCONNECT, 0);
	client_with_file(p, 2, 0, 3);
	OP(p, FZS_OP_TRUNCATE, 2, 0, 0, 1, 0);
	reattach(p, 1);
	OP(p, FZS_OP_UNPIN, 1, 0);
	OP(p, FZS_OP_COUNTER, 1, 0x80, FZS_CNT_UNPIN, 1);
	OP(p, FZS_OP_TRUNCATE, 2, 0, 0, 0, 0);
	OP(p, FZS_OP_VIEW, 2, FZS_VIEW_BUSY, 0xff, 64);
}

static void seed_restart(struct prog *p)
{
	p->b[p->n++] = FZS_CFG_ADVISORY;
	map_and_pin(p, 0, 4);
	OP0(p, FZS_OP_RESTART, 0);
	reattach(p, 0);
	OP(p, FZS_OP_COUNTER, 0, 0x80, FZS_CNT_UNPIN, 1);
	client_with_file(p, 1, 0, 4);
	OP(p, FZS_OP_TRUNCATE, 1, 0, 0, 1, 0);
	OP0(p, FZS_OP_RESTART, 0);
	/* a liar: another's table, fake regions, the wrong fds */
	OP(p, FZS_OP_CONNECT, 2, FZS_CONN_HELLO);
	OP(p, FZS_OP_REATTACH, 2, 0, 0, 0);
	OP(p, FZS_OP_REATTACH, 2, 2, 0, 3, FZS_FD_FAKE_TABLE,
	   FZS_FD_FAKE_COUNTERS, FZS_FD_EVENTFD, 1, 0x81);
	OP(p, FZS_OP_COUNTER, 2, 0, FZS_CNT_FAKE, 9, 0, 0, 0, 1, 2, 3, 4, 5, 6,
	   7, 8);
	OP(p, FZS_OP_REATTACH, 2, 2, 0, 3, FZS_FD_MEMFD, FZS_FD_PIPE_R,
	   FZS_FD_SOCKET, 0, 0);
	OP(p, FZS_OP_REATTACH, 2, 4, 0);
	OP(p, FZS_OP_VIEW, 2, FZS_VIEW_QUARANTINE, 0xff, 64);
}

/* After a restart, a lost table that claims 2^34 entries (sparse
 * memfds, sealed as the daemon asks) and a mapping of all of them. */
static void seed_huge_table(struct prog *p)
{
	p->b[p->n++] = FZS_CFG_ADVISORY;
	map_and_pin(p, 0, 1);
	OP0(p, FZS_OP_RESTART, 0);
	OP(p, FZS_OP_CONNECT, 0, FZS_CONN_HELLO);
	OP(p, FZS_OP_REATTACH, 0, 0, 0, 0);
	OP(p, FZS_OP_REATTACH, 0, 2, 0, 3, FZS_FD_FAKE_TABLE + 15 * FZS_NFD,
	   FZS_FD_FAKE_COUNTERS + 15 * FZS_NFD, FZS_FD_EVENTFD, 1, 0x82,
	   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x03);
	OP(p, FZS_OP_VIEW, 0, FZS_VIEW_BUSY, 0xff, 64);
	OP(p, FZS_OP_REATTACH, 0, 4, 0);
}

static void seed_fds_and_raw(struct prog *p)
{
	p->b[p->n++] = 0;
	client_with_file(p, 0, 0, 5);
	OP(p, FZS_OP_JUNK_FDS, 0, 5, FZS_FD_NS, FZS_FD_MEMFD, FZS_FD_EVENTFD,
	   FZS_FD_PIPE_W, FZS_FD_DAEMON_SOCKET);
	OP(p, FZS_OP_STAT, 0, 0, 0);
	OP(p, FZS_OP_JUNK_FDS, 0, 5, FZS_FD_DEVNULL, FZS_FD_DIR, FZS_FD_SELF,
	   FZS_FD_FAKE_TABLE, FZS_FD_SOCKET);
	OP(p, FZS_OP_REATTACH, 0, 0, 0, 0xfe, 1, 2, 3, 4);
	OP(p, FZS_OP_CONNECT, 1, 0);
	OP(p, FZS_OP_HELLO, 1, 1);
	OP(p, FZS_OP_HELLO, 1, 4, 'a', '\n', 0x1b, '"', 0xff);
	OP(p, FZS_OP_HELLO, 1, 0);
	OP(p, FZS_OP_RAW, 1, 0, 4, 1, 13, 0);
	OP(p, FZS_OP_RAW, 1, 0x88, 10, 0xff);
	OP(p, FZS_OP_CONNECT, 2, FZS_CONN_HELLO);
	OP(p, FZS_OP_RAW, 2, 1, 0, 0x12, 0x34, 0x56, 0x78, 2);
	OP(p, FZS_OP_VIEW, 0, FZS_VIEW_LEASES, 0xfe, 1, 2, 3, 4, 5, 6, 7, 8, 0);
	OP(p, FZS_OP_READ, 0, 0, 0xff);
	OP(p, FZS_OP_LIST, 0, 0, 1);
	OP(p, FZS_OP_LIST, 0, 0, 1);
}

static void seed_detach(struct prog *p)
{
	p->b[p->n++] = FZS_CFG_DETACH | FZS_CFG_ADVISORY | FZS_CFG_FEW_DIRTY;
	map_and_pin(p, 0, 0);
	client_with_file(p, 1, 0, 0);
	OP(p, FZS_OP_FALLOCATE, 1, 0, 2, 0, 16, 0, 0);
	OP(p, FZS_OP_FALLOCATE, 1, 0, 3, 0, 16, 0, 0);
	OP(p, FZS_OP_FALLOCATE, 1, 0, 4, 0, 16, 0, 0);
	OP(p, FZS_OP_VIEW, 1, FZS_VIEW_QUARANTINE, 0xff, 64);
	OP(p, FZS_OP_UNLINK, 1, 0);
	OP(p, FZS_OP_VIEW, 1, FZS_VIEW_DIRTY, 0xff, 64);
	OP(p, FZS_OP_UNPIN, 0, 0);
	OP(p, FZS_OP_COUNTER, 0, 0, FZS_CNT_UNPIN, 1);
	OP(p, FZS_OP_FSYNC, 0, 0);
}

static void seed_nobody(struct prog *p)
{
	p->b[p->n++] = FZS_CFG_DAX_NOBODY;
	client_with_file(p, 0, 0, 1);
	write64k(p, 0, 0);
	OP(p, FZS_OP_CONNECT, 1, FZS_CONN_NOBODY | FZS_CONN_HELLO);
	OP(p, FZS_OP_OPEN, 1, 1, 1, 0);
	OP(p, FZS_OP_LEASE, 1, 0, 0, 0, 0x80, 0, 3);
	OP(p, FZS_OP_PIN, 1, 0, 0, 1, 0);
	OP(p, FZS_OP_MAP, 1, 0, 0, 1, 1);
	OP(p, FZS_OP_TRUNCATE, 0, 0, 0, 1, 0);
	OP(p, FZS_OP_UNLINK, 0, 1);
	OP(p, FZS_OP_SETATTR, 1, 0, 0x80, 7, 1, 0x80);
	OP(p, FZS_OP_VIEW, 1, FZS_VIEW_LEASES, 0xff, 64);
}

/* A batch: requests of two clients and a disconnect land in one epoll
 * batch, so a client goes while another's request about its lease runs. */
static void seed_batch(struct prog *p)
{
	p->b[p->n++] = 0;
	two_holders(p, 2);
	OP(p, FZS_OP_BATCH, 0, 7);
	OP(p, FZS_OP_TRUNCATE, 0, 0, 1, 0, 0);
	OP(p, FZS_OP_LEASE_RELEASE, 1, 0);
	OP(p, FZS_OP_SHUTDOWN, 1, 2);
	OP(p, FZS_OP_FALLOCATE, 1, 0, 2, 0, 1, 2, 1);
	OP(p, FZS_OP_NO_READ, 0);
	OP(p, FZS_OP_DISCONNECT, 0);
	OP(p, FZS_OP_SLEEP, 2, 3);
}

/* REPEAT(p, n, op, client, args...): the operation n + 1 times */
#define REPEAT(p, n, ...) OP(p, FZS_OP_REPEAT, n, __VA_ARGS__)

/* A client that stops reading while its 64 KiB READs pile up: the
 * daemon's outbox for it grows, then it is dropped; another one reads
 * again after a few, and its outbox drains. */
static void seed_outbox(struct prog *p)
{
	p->b[p->n++] = 0;
	client_with_file(p, 0, 0, 3);
	write64k(p, 0, 0);
	client_with_file(p, 1, 0, 3);
	OP(p, FZS_OP_NO_READ, 1);
	REPEAT(p, 5, FZS_OP_READ, 1, 0, 1, 0, 0xff);
	OP(p, FZS_OP_NO_READ, 1);
	OP(p, FZS_OP_STAT, 1, 0, 0);
	OP(p, FZS_OP_NO_READ, 0);
	REPEAT(p, 40, FZS_OP_READ, 0, 0, 1, 0, 0xff);
	OP(p, FZS_OP_VIEW, 1, FZS_VIEW_STATUS, 0, 0);
}

/* Hundreds of truncates wait for one pin: the wait queue's limit, the
 * BLOCKED view's pages, and all of them going when the pin does. */
static void seed_wait_queue(struct prog *p)
{
	p->b[p->n++] = FZS_CFG_ADVISORY;
	client_with_file(p, 0, 0, 4);
	write64k(p, 0, 0);
	client_with_file(p, 1, 0, 4);
	OP(p, FZS_OP_PIN, 1, 0, 0, 1, 0);
	REPEAT(p, 255, FZS_OP_TRUNCATE, 0, 0, 0, 0, 0);
	REPEAT(p, 10, FZS_OP_TRUNCATE, 0, 0, 0, 2, 3);
	OP(p, FZS_OP_VIEW, 1, FZS_VIEW_BLOCKED, 0xff, 64);
	OP(p, FZS_OP_VIEW, 1, FZS_VIEW_BLOCKED, 0, 64);
	OP(p, FZS_OP_SLEEP, 1, 3);
	OP(p, FZS_OP_UNPIN, 1, 0);
	OP(p, FZS_OP_VIEW, 1, FZS_VIEW_BLOCKED, 0xff, 64);
}

/* Leases of several clients in the views, paged. */
static void seed_lease_views(struct prog *p)
{
	p->b[p->n++] = 0;
	two_holders(p, 5);
	OP(p, FZS_OP_CONNECT, 2, FZS_CONN_HELLO | FZS_CONN_POLITE);
	OP(p, FZS_OP_OPEN, 2, 5, RW, 0);
	OP(p, FZS_OP_LEASE, 2, 0, 0, 16, 0x80, 0, 3);
	OP(p, FZS_OP_LEASE, 2, 0, 16, 16, 0, 0x80, 3);
	OP(p, FZS_OP_VIEW, 2, FZS_VIEW_LEASES, 0xff, 1);
	OP(p, FZS_OP_VIEW, 2, FZS_VIEW_LEASES, 0, 1);
	OP(p, FZS_OP_VIEW, 0, FZS_VIEW_LEASE_QUERY, 0xff, 64);
	OP(p, FZS_OP_FALLOCATE, 2, 0, 2, 0, 1, 0, 0);
	OP(p, FZS_OP_VIEW, 2, FZS_VIEW_LEASES, 0xff, 64);
	OP(p, FZS_OP_SLEEP, 2, 3);
	OP(p, FZS_OP_VIEW, 1, FZS_VIEW_LEASES, 0xff, 64);
	OP(p, FZS_OP_LIST, 1, 0xff, 1);
	OP(p, FZS_OP_LIST, 1, 0, 1);
}

static int write_seed(const char *dir, const char *name,
		      void (*make)(struct prog *))
{
	char path[4096];
	struct prog p = { .n = 0 };
	FILE *f;

	make(&p);
	snprintf(path, sizeof(path), "%s/seed-%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p.b, 1, p.n, f) != p.n) {
		fprintf(stderr, "fuzz_service_make_corpus: %s: %s\n", path,
			strerror(errno));
		if (f)
			fclose(f);
		return 1;
	}
	return fclose(f) ? 1 : 0;
}

/* One operation per line, as a libFuzzer dictionary entry. */
static void dict_entry(FILE *f, struct prog *p)
{
	static unsigned n;

	fprintf(f, "op%u=\"", n++);
	for (size_t i = 0; i < p->n; i++)
		fprintf(f, "\\x%02x", p->b[i]);
	fprintf(f, "\"\n");
	p->n = 0;
}

#define DICT(f, p, ...) do { OP(p, __VA_ARGS__); dict_entry(f, p); } while (0)
#define DICT0(f, p, op, c) do { OP0(p, op, c); dict_entry(f, p); } while (0)

static void dict_slot(FILE *f, uint8_t c)
{
	struct prog p = { .n = 0 };

	DICT(f, &p, FZS_OP_CONNECT, c, FZS_CONN_HELLO);
	DICT(f, &p, FZS_OP_CONNECT, c, HELLO_AT_ONCE);
	DICT(f, &p, FZS_OP_CONNECT, c, FZS_CONN_HELLO | FZS_CONN_NOBODY);
	DICT(f, &p, FZS_OP_HELLO, c, 0);
	DICT(f, &p, FZS_OP_OPEN, c, 0, RWC, 0);
	DICT(f, &p, FZS_OP_OPEN, c, 1, RWC, 0);
	DICT(f, &p, FZS_OP_OPEN, c, 0, 1, 0);
	DICT(f, &p, FZS_OP_CLOSE, c, 0);
	DICT(f, &p, FZS_OP_STAT, c, 0, 0);
	DICT(f, &p, FZS_OP_LIST, c, 0xff, 64);
	DICT(f, &p, FZS_OP_UNLINK, c, 0);
	DICT(f, &p, FZS_OP_RENAME, c, 0, 1, 0);
	DICT(f, &p, FZS_OP_READ, c, 0, 1, 0, 16);
	DICT(f, &p, FZS_OP_WRITE, c, 0, 1, 0, 0xff, 0x5a);
	DICT(f, &p, FZS_OP_FSYNC, c, 0);
	DICT(f, &p, FZS_OP_TRUNCATE, c, 0, 0, 0, 0);
	DICT(f, &p, FZS_OP_TRUNCATE, c, 0, 1, 1, 0);
	DICT(f, &p, FZS_OP_TRUNCATE, c, 0, 0, 2, 2);
	DICT(f, &p, FZS_OP_FALLOCATE, c, 0, 0, 0, 0x80, 0, 0);
	DICT(f, &p, FZS_OP_FALLOCATE, c, 0, 2, 0, 4, 0, 0);
	DICT(f, &p, FZS_OP_FALLOCATE, c, 0, 3, 0, 16, 0, 0);
	DICT(f, &p, FZS_OP_FALLOCATE, c, 0, 4, 0, 16, 0, 0);
	DICT(f, &p, FZS_OP_SETATTR, c, 0, 1, 0, 0x80, 0x80);
	DICT(f, &p, FZS_OP_MAP, c, 0, 0, 16, 3);
	DICT(f, &p, FZS_OP_MAP, c, 0, 0, 0x80, 1);
	DICT(f, &p, FZS_OP_UNMAP, c, 0);
	DICT(f, &p, FZS_OP_PIN, c, 0, 0, 1, 1);
	DICT(f, &p, FZS_OP_PIN, c, 0, 0, 16, 0);
	DICT(f, &p, FZS_OP_UNPIN, c, 0);
	DICT(f, &p, FZS_OP_LEASE, c, 0, 0, 0, 0, 0, 3);
	DICT(f, &p, FZS_OP_LEASE, c, 0, 0, 0, 0x80, 0, 3);
	DICT(f, &p, FZS_OP_LEASE, c, 0, 0, 0, 0, 0x80, 3);
	DICT(f, &p, FZS_OP_LEASE_RELEASE, c, 0);
	for (uint8_t v = 0; v < FZS_NVIEWS; v++)
		DICT(f, &p, FZS_OP_VIEW, c, v, 0xff, 64);
	DICT(f, &p, FZS_OP_REATTACH, c, 0, 0, 0);
	DICT(f, &p, FZS_OP_REATTACH, c, 1, 0, 2, 0);
	DICT(f, &p, FZS_OP_REATTACH, c, 2, 0, 3, FZS_FD_TABLE,
	     FZS_FD_COUNTERS, FZS_FD_WAKE, 1, 0);
	DICT(f, &p, FZS_OP_REATTACH, c, 3, 0, 0, 0);
	DICT(f, &p, FZS_OP_REATTACH, c, 4, 0);
	for (uint8_t how = 0; how < 3; how++)
		DICT(f, &p, FZS_OP_SHUTDOWN, c, how);
	DICT0(f, &p, FZS_OP_DISCONNECT, c);
	DICT(f, &p, FZS_OP_COUNTER, c, 0, FZS_CNT_PIN_MAP, 0);
	DICT(f, &p, FZS_OP_COUNTER, c, 0, FZS_CNT_PIN, 1);
	DICT(f, &p, FZS_OP_COUNTER, c, 0, FZS_CNT_UNPIN, 1);
	DICT(f, &p, FZS_OP_COUNTER, c, 0x80, FZS_CNT_UNPIN, 1);
	DICT(f, &p, FZS_OP_COUNTER, c, 0, FZS_CNT_LIE, 1, 0);
	DICT(f, &p, FZS_OP_NS_WRITE, c, 0, 0, 16, 0x77);
	DICT(f, &p, FZS_OP_SLEEP, c, 3);
	DICT0(f, &p, FZS_OP_RESTART, c);
	DICT(f, &p, FZS_OP_BATCH, c, 7);
	DICT0(f, &p, FZS_OP_NO_READ, c);
	DICT(f, &p, FZS_OP_JUNK_FDS, c, 3, FZS_FD_NS, FZS_FD_EVENTFD,
	     FZS_FD_MEMFD);
}

static int write_dict(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "fuzz_service_make_corpus: %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	fprintf(f, "# fuzz_service: well-formed operations (made by "
		"fuzz_service_make_corpus)\n");
	for (uint8_t c = 0; c < 3; c++)
		dict_slot(f, c);
	return fclose(f) ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*make)(struct prog *);
	} seeds[] = {
		{ "row1", seed_row1 }, { "pin-wait", seed_pin_wait },
		{ "lockless", seed_lockless }, { "reattach", seed_reattach },
		{ "restart", seed_restart }, { "fds-raw", seed_fds_and_raw },
		{ "detach", seed_detach }, { "nobody", seed_nobody },
		{ "batch", seed_batch }, { "huge-table", seed_huge_table },
		{ "outbox", seed_outbox }, { "wait-queue", seed_wait_queue },
		{ "lease-views", seed_lease_views },
	};
	int rc = 0;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: fuzz_service_make_corpus DIR [DICT]\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		rc |= write_seed(argv[1], seeds[i].name, seeds[i].make);
	if (argc == 3)
		rc |= write_dict(argv[2]);
	return rc;
}

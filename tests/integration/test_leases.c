/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_leases.c - layout leases, their breaks and revocations, with real
 * processes.
 *
 * Nothing here asserts a time.  Order is asserted through one event pipe
 * every process writes a letter to: a holder writes 'R' BEFORE it sends
 * LEASE_RELEASE, a truncater writes 'T' AFTER its truncate returned; and
 * the test first watches the LEASES/BLOCKED views until the break is
 * under way and checks that no 'T' came yet.  Where two processes learn
 * of two things at once (a revocation and the truncate it lets go), the
 * order is checked where it is made: the lease is REVOKED in the LEASES
 * view by the time the truncate returned.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit_run.h"
#include "daxlease/libdaxlease.h"
#include "daxlease/table.h"
#include "client_util.h"
#include "harness.h"

#define KiB 1024ULL
#define RW (DAXLEASE_O_READ | DAXLEASE_O_WRITE)
#define CREATE (RW | DAXLEASE_O_CREATE)
#define SHARED DAXLEASE_LEASE_SHARED
#define EXCL DAXLEASE_LEASE_EXCLUSIVE

static struct dlh_daemon dmn;
static struct daxlease_ctx *ctx;	/* the test's own (admin) context */
static char admin_gid[64];

static int suite_init(void)
{
	struct dlh_opts o = { .extra = { "--admin-group", admin_gid,
					 "--lease-timeout", "3000",
					 "--lease-max-timeout", "5000" } };
	struct group *g = getgrgid(getgid());

	if (!g)
		return -1;
	snprintf(admin_gid, sizeof(admin_gid), "%s", g->gr_name);
	if (dlh_start(&dmn, &o))
		return -1;
	return daxlease_new(&ctx, dmn.socket) ? -1 : 0;
}

static int suite_clean(void)
{
	if (ctx)
		daxlease_unref(ctx);
	dlh_kill(&dmn);
	return 0;
}

static struct daxlease_file *make_file(const char *name, uint64_t size)
{
	static uint8_t buf[256 * KiB];
	struct daxlease_file *f = NULL;

	memset(buf, 0x5a, sizeof(buf));
	CU_ASSERT_EQUAL_FATAL(daxlease_open(ctx, name, CREATE |
					    DAXLEASE_O_TRUNC, 0644, &f), 0);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, buf, size, 0), (ssize_t)size);
	return f;
}

static struct daxlease_file *child_open(struct daxlease_ctx **c,
					const char *name)
{
	struct daxlease_file *f = NULL;

	if (daxlease_new(c, dmn.socket) || daxlease_open(*c, name, RW, 0, &f))
		_exit(2);
	return f;
}

/* ---- the holder: a child with a lease and a mapping of the range ---------- */

enum holder_mode {
	HOLD_COOP,	/* on BREAK: unmap, 'R', release */
	HOLD_GO,	/* on BREAK: 'B'; on a byte from go: 'R', release */
	HOLD_IGNORE,	/* on BREAK: 'B'; on REVOKED: check entries, 'V' */
};

struct holder {
	pid_t pid;
	int go;
	uint64_t lease_id;
};

/* Valid entries of this process's table mapping [lo, hi) of a file. */
static int valid_entries(uint64_t lo, uint64_t hi)
{
	char path[64], link[256];
	const struct dl_table_hdr *h;
	const struct dl_table_entry *e;
	size_t size;
	int fd = -1, n = 0;

	for (int i = 3; i < 1024 && fd < 0; i++) {
		ssize_t k;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", i);
		k = readlink(path, link, sizeof(link) - 1);
		if (k <= 0)
			continue;
		link[k] = 0;
		if (strstr(link, "memfd:daxlease-table"))
			fd = open(path, O_RDONLY);
	}
	if (fd < 0)
		return -1;
	h = mmap(NULL, DL_TABLE_HDR_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		return -1;
	size = DL_TABLE_HDR_SIZE + h->nentries * sizeof(*e);
	munmap((void *)h, DL_TABLE_HDR_SIZE);
	h = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (h == MAP_FAILED)
		return -1;
	e = (const void *)((const char *)h + DL_TABLE_HDR_SIZE);
	for (uint64_t i = 0; i < h->nentries; i++)
		if ((__atomic_load_n(&e[i].pte, __ATOMIC_ACQUIRE) &
		     DL_PTE_VALID) && e[i].file_offset >= lo &&
		    e[i].file_offset < hi)
			n++;
	munmap((void *)h, size);
	return n;
}

/* The next event, waiting in poll(2) on the event fd as a user would. */
static int next_event(struct daxlease_ctx *c, struct daxlease_event *e)
{
	for (;;) {
		struct pollfd p = { .fd = daxlease_get_event_fd(c),
				    .events = POLLIN };
		int rc = daxlease_next_event(c, e, 0);

		if (rc)
			return rc;
		if (poll(&p, 1, 30000) != 1)
			return -ETIMEDOUT;
	}
}

static void holder_main(const char *name, uint64_t off, uint64_t len,
			unsigned type, unsigned timeout_ms,
			enum holder_mode mode, int ready, int go, int ev)
{
	struct daxlease_ctx *c;
	struct daxlease_file *f = child_open(&c, name);
	struct daxlease_map *m = NULL;
	struct daxlease_event e;
	uint64_t id = 0;
	char b;

	if (daxlease_lease_acquire(f, off, len, type, timeout_ms, &id))
		_exit(3);
	if (daxlease_map(f, off, len, DAXLEASE_PROT_READ, &m))
		_exit(4);
	if (write(ready, &id, sizeof(id)) != sizeof(id))
		_exit(5);
	if (next_event(c, &e) != 1 || e.type != DAXLEASE_EVENT_LEASE_BREAK ||
	    e.lease_id != id || e.opcode != DL_OP_TRUNCATE || !e.pid ||
	    !e.deadline_ns)
		_exit(6);
	if (mode == HOLD_COOP) {
		daxlease_unmap(m);
		if (write(ev, "R", 1) != 1)
			_exit(7);
		_exit(daxlease_lease_release(c, id) ? 8 : 0);
	}
	if (write(ev, "B", 1) != 1)
		_exit(7);
	if (mode == HOLD_GO) {
		if (read(go, &b, 1) < 0)
			_exit(9);
		daxlease_unmap(m);
		if (write(ev, "R", 1) != 1)
			_exit(7);
		_exit(daxlease_lease_release(c, id) ? 8 : 0);
	}
	if (next_event(c, &e) != 1 || e.type != DAXLEASE_EVENT_LEASE_REVOKED ||
	    e.lease_id != id)
		_exit(10);
	/* revoked: its entries were invalidated before the change went on */
	if (write(ev, "V", 1) != 1)
		_exit(7);
	if (read(go, &b, 1) < 0)
		_exit(9);
	if (valid_entries(off, off + len) != 0)
		_exit(11);
	/* a revoked lease is still returned */
	_exit(daxlease_lease_release(c, id) ? 12 : 0);
}

static void start_holder(struct holder *h, const char *name, uint64_t off,
			 uint64_t len, unsigned type, unsigned timeout_ms,
			 enum holder_mode mode, int ev)
{
	int ready[2], go[2];

	CU_ASSERT_FATAL(pipe(ready) == 0 && pipe(go) == 0);
	h->pid = fork();
	CU_ASSERT_FATAL(h->pid >= 0);
	if (!h->pid) {
		close(ready[0]);
		close(go[1]);
		holder_main(name, off, len, type, timeout_ms, mode, ready[1],
			    go[0], ev);
	}
	close(ready[1]);
	close(go[0]);
	h->go = go[1];
	CU_ASSERT_EQUAL_FATAL(read(ready[0], &h->lease_id,
				   sizeof(h->lease_id)),
			      (ssize_t)sizeof(h->lease_id));
	close(ready[0]);
}

static void holder_go(struct holder *h)
{
	CU_ASSERT_EQUAL(write(h->go, "g", 1), 1);
	close(h->go);
}

/* A child that truncates name to size and writes 'T' once it returned. */
static pid_t start_truncate(const char *name, uint64_t size, int ev)
{
	pid_t pid = fork();

	CU_ASSERT_FATAL(pid >= 0);
	if (!pid) {
		struct daxlease_ctx *c;
		struct daxlease_file *f = child_open(&c, name);
		int rc = daxlease_truncate(f, size);

		if (write(ev, "T", 1) != 1)
			_exit(6);
		_exit(rc ? 1 : 0);
	}
	return pid;
}

/* A child that acquires a lease (waiting) and writes 'G' once granted;
 * exit 0 if the file then has size want_size. */
static pid_t start_acquire(const char *name, unsigned type, uint64_t want_size,
			   int ev)
{
	pid_t pid = fork();

	CU_ASSERT_FATAL(pid >= 0);
	if (!pid) {
		struct daxlease_ctx *c;
		struct daxlease_file *f = child_open(&c, name);
		struct daxlease_stat st;
		uint64_t id;

		if (daxlease_lease_acquire(f, 0, 0, type, 0, &id))
			_exit(3);
		if (write(ev, "G", 1) != 1)
			_exit(6);
		if (daxlease_fstat(f, &st) || st.size != want_size)
			_exit(4);
		_exit(daxlease_lease_release(c, id) ? 5 : 0);
	}
	return pid;
}

/* The lease id's entry of the LEASES view; -1 if absent. */
static int find_lease(uint64_t id, struct daxlease_lease *out)
{
	struct daxlease_lease l[64];
	uint64_t cursor = 0;

	do {
		int n = daxlease_leases(ctx, &cursor, l, 64);

		for (int i = 0; i < n; i++)
			if (l[i].lease_id == id) {
				*out = l[i];
				return 0;
			}
		if (n < 0)
			return -1;
	} while (cursor);
	return -1;
}

static int count_leases(void)
{
	struct daxlease_lease l[64];
	uint64_t cursor = 0;
	int total = 0, n;

	do {
		n = daxlease_leases(ctx, &cursor, l, 64);
		if (n < 0)
			return n;
		total += n;
	} while (cursor);
	return total;
}

/* Poll the LEASES view until lease id is in state. */
static int wait_state(uint64_t id, unsigned state)
{
	struct daxlease_lease l;

	for (int tries = 0; tries < 4000; tries++) {
		if (!find_lease(id, &l) && l.state == state)
			return 0;
		usleep(5000);
	}
	fprintf(stderr, "lease %llu never reached state %u\n",
		(unsigned long long)id, state);
	return -1;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_cooperative_holder(void)
{
	struct daxlease_file *f = make_file("coop", 256 * KiB);
	struct holder h;
	pid_t t;
	int ev[2];

	CU_ASSERT_FATAL(dlh_ev_pipe(ev) == 0);
	start_holder(&h, "coop", 0, 256 * KiB, SHARED, 0, HOLD_COOP, ev[1]);
	t = start_truncate("coop", 0, ev[1]);
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'R');
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'T');
	CU_ASSERT_EQUAL(dlc_wait_exit(t), 0);
	CU_ASSERT_EQUAL(dlc_wait_exit(h.pid), 0);
	CU_ASSERT_EQUAL(dlc_file_size(f), 0);
	CU_ASSERT_EQUAL(count_leases(), 0);
	close(h.go);
	close(ev[0]);
	close(ev[1]);
	daxlease_close(f);
}

static void test_ignoring_holder_revoked(void)
{
	struct daxlease_file *f = make_file("ignore", 256 * KiB);
	struct daxlease_lease l;
	struct holder h;
	pid_t t;
	int ev[2];

	CU_ASSERT_FATAL(dlh_ev_pipe(ev) == 0);
	start_holder(&h, "ignore", 0, 256 * KiB, EXCL, 200, HOLD_IGNORE,
		     ev[1]);
	t = start_truncate("ignore", 0, ev[1]);
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'B');
	/* the truncate went on only after the revocation */
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]) + dlh_ev_next(ev[0]), 'V' + 'T');
	CU_ASSERT_EQUAL(dlc_wait_exit(t), 0);
	CU_ASSERT_EQUAL_FATAL(find_lease(h.lease_id, &l), 0);
	CU_ASSERT_EQUAL(l.state, DAXLEASE_LEASE_REVOKED);
	CU_ASSERT_EQUAL(l.timeout_ms, 200);
	CU_ASSERT_EQUAL(dlc_file_size(f), 0);
	holder_go(&h);
	CU_ASSERT_EQUAL(dlc_wait_exit(h.pid), 0);
	CU_ASSERT_EQUAL(count_leases(), 0);
	close(ev[0]);
	close(ev[1]);
	daxlease_close(f);
}

static void test_breaking_view_and_sigkill(void)
{
	struct daxlease_file *f = make_file("kill", 256 * KiB);
	struct daxlease_blocked b[4];
	struct daxlease_lease l;
	uint64_t cursor = 0;
	struct holder h;
	pid_t t;
	int ev[2];

	CU_ASSERT_FATAL(dlh_ev_pipe(ev) == 0);
	start_holder(&h, "kill", 64 * KiB, 64 * KiB, SHARED, 5000, HOLD_GO,
		     ev[1]);
	t = start_truncate("kill", 0, ev[1]);
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'B');
	CU_ASSERT_EQUAL_FATAL(wait_state(h.lease_id, DAXLEASE_LEASE_BREAKING),
			      0);
	CU_ASSERT_EQUAL_FATAL(find_lease(h.lease_id, &l), 0);
	CU_ASSERT_EQUAL(l.pid, h.pid);
	CU_ASSERT_EQUAL(l.offset, 64 * KiB);
	CU_ASSERT_EQUAL(l.length, 64 * KiB);
	CU_ASSERT_EQUAL(l.type, SHARED);
	CU_ASSERT_TRUE(l.deadline_ns > 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_blocked(ctx, &cursor, b, 4), 1);
	CU_ASSERT_EQUAL(b[0].pid, t);
	CU_ASSERT_TRUE(b[0].on_leases);
	CU_ASSERT_EQUAL(b[0].npins, 1);
	CU_ASSERT_EQUAL(b[0].pin_ids[0], h.lease_id);
	CU_ASSERT_TRUE(dlh_ev_empty(ev[0]));
	/* its death drops the lease at once: the truncate goes */
	kill(h.pid, SIGKILL);
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'T');
	CU_ASSERT_EQUAL(dlc_wait_exit(t), 0);
	CU_ASSERT_EQUAL(dlc_wait_exit(h.pid), 128 + SIGKILL);
	CU_ASSERT_EQUAL(count_leases(), 0);
	CU_ASSERT_EQUAL(dlc_file_size(f), 0);
	close(h.go);
	close(ev[0]);
	close(ev[1]);
	daxlease_close(f);
}

static void test_conflicts(void)
{
	struct daxlease_file *f = make_file("conflict", 64 * KiB), *g;
	struct daxlease_ctx *c2;
	struct daxlease_blocker who[4];
	struct daxlease_policy p = { .flags = DAXLEASE_POLICY_NONBLOCK,
				     .blockers = who, .max = 4 };
	uint64_t a, b, x, y;
	pid_t q;
	int ev[2];

	CU_ASSERT_FATAL(dlh_ev_pipe(ev) == 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_new(&c2, dmn.socket), 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_open(c2, "conflict", RW, 0, &g), 0);
	CU_ASSERT_EQUAL(daxlease_lease_acquire(f, 0, 32 * KiB, SHARED, 0, &a),
			0);
	/* exclusive vs shared: EBUSY naming the holder */
	CU_ASSERT_EQUAL(daxlease_lease_acquire_policy(g, 16 * KiB, 4096, EXCL,
						      0, &p, &x), -EBUSY);
	CU_ASSERT_EQUAL(p.nblockers, 1);
	CU_ASSERT_EQUAL(who[0].pid, getpid());
	CU_ASSERT_EQUAL(who[0].pin_id, a);
	/* disjoint: fine; shared with shared: fine */
	CU_ASSERT_EQUAL(daxlease_lease_acquire_policy(g, 32 * KiB, 4096, EXCL,
						      0, &p, &x), 0);
	CU_ASSERT_EQUAL(daxlease_lease_acquire_policy(g, 0, 4096, SHARED, 0,
						      &p, &b), 0);
	/* the caller's own leases never conflict */
	CU_ASSERT_EQUAL(daxlease_lease_acquire_policy(g, 32 * KiB, 4096, EXCL,
						      0, &p, &y), 0);
	CU_ASSERT_EQUAL(daxlease_lease_release(c2, x), 0);
	CU_ASSERT_EQUAL(daxlease_lease_release(c2, y), 0);
	/* a waiting exclusive acquire is granted after the releases */
	q = start_acquire("conflict", EXCL, 64 * KiB, ev[1]);
	CU_ASSERT_EQUAL_FATAL(dlc_wait_blocked(ctx, 1, false), 0);
	CU_ASSERT_TRUE(dlh_ev_empty(ev[0]));
	CU_ASSERT_EQUAL(daxlease_lease_release(ctx, a), 0);
	CU_ASSERT_TRUE(dlh_ev_empty(ev[0]));
	CU_ASSERT_EQUAL(write(ev[1], "X", 1), 1);
	CU_ASSERT_EQUAL(daxlease_lease_release(c2, b), 0);
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'X');
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'G');
	CU_ASSERT_EQUAL(dlc_wait_exit(q), 0);
	CU_ASSERT_EQUAL(daxlease_lease_release(c2, b), -EINVAL);
	daxlease_close(g);
	daxlease_unref(c2);
	close(ev[0]);
	close(ev[1]);
	daxlease_close(f);
}

/* Grants wait behind a break; they do not extend it. */
static void test_grant_waits_behind_break(void)
{
	struct daxlease_file *f = make_file("behind", 64 * KiB);
	struct daxlease_lease before, after;
	struct holder h;
	pid_t t, q;
	int ev[2];

	CU_ASSERT_FATAL(dlh_ev_pipe(ev) == 0);
	start_holder(&h, "behind", 0, 64 * KiB, SHARED, 5000, HOLD_GO,
		     ev[1]);
	t = start_truncate("behind", 0, ev[1]);
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'B');
	CU_ASSERT_EQUAL_FATAL(wait_state(h.lease_id, DAXLEASE_LEASE_BREAKING),
			      0);
	CU_ASSERT_EQUAL_FATAL(find_lease(h.lease_id, &before), 0);
	/* a shared acquire would not conflict with the shared holder, but
	 * the range is being broken: it waits, and size 0 when granted
	 * says it went after the truncate */
	q = start_acquire("behind", SHARED, 0, ev[1]);
	CU_ASSERT_EQUAL_FATAL(dlc_wait_blocked(ctx, 2, false), 0);
	CU_ASSERT_EQUAL(count_leases(), 1);
	CU_ASSERT_EQUAL_FATAL(find_lease(h.lease_id, &after), 0);
	CU_ASSERT_EQUAL(after.deadline_ns, before.deadline_ns);
	CU_ASSERT_TRUE(dlh_ev_empty(ev[0]));
	holder_go(&h);
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'R');
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]) + dlh_ev_next(ev[0]), 'T' + 'G');
	CU_ASSERT_EQUAL(dlc_wait_exit(t), 0);
	CU_ASSERT_EQUAL(dlc_wait_exit(q), 0);
	CU_ASSERT_EQUAL(dlc_wait_exit(h.pid), 0);
	CU_ASSERT_EQUAL(count_leases(), 0);
	close(ev[0]);
	close(ev[1]);
	daxlease_close(f);
}

static void test_timeouts_capped(void)
{
	struct daxlease_file *f = make_file("cap", 64 * KiB);
	struct daxlease_lease l[4];
	uint64_t a, b, cursor = 0;

	CU_ASSERT_EQUAL(daxlease_lease_acquire(f, 0, 4096, SHARED, 3600000,
					       &a), 0);
	CU_ASSERT_EQUAL(daxlease_lease_acquire(f, 4096, 4096, SHARED, 0, &b),
			0);
	CU_ASSERT_EQUAL_FATAL(daxlease_lease_query(ctx, &cursor, l, 4), 2);
	CU_ASSERT_EQUAL(cursor, 0);
	CU_ASSERT_EQUAL(l[0].lease_id, a);
	CU_ASSERT_EQUAL(l[0].timeout_ms, 5000);	/* --lease-max-timeout */
	CU_ASSERT_EQUAL(l[1].lease_id, b);
	CU_ASSERT_EQUAL(l[1].timeout_ms, 3000);	/* --lease-timeout */
	CU_ASSERT_EQUAL(l[1].state, DAXLEASE_LEASE_HELD);
	/* paged */
	CU_ASSERT_EQUAL(daxlease_lease_query(ctx, &cursor, l, 1), 1);
	CU_ASSERT_EQUAL(cursor, a);
	CU_ASSERT_EQUAL(daxlease_lease_query(ctx, &cursor, l, 1), 1);
	CU_ASSERT_EQUAL(l[0].lease_id, b);
	CU_ASSERT_EQUAL(cursor, 0);
	/* bad ranges and types */
	CU_ASSERT_EQUAL(daxlease_lease_acquire(f, 1, 4096, SHARED, 0, &a),
			-EINVAL);
	CU_ASSERT_EQUAL(daxlease_lease_acquire(f, 0, 4096, 3, 0, &a), -EINVAL);
	CU_ASSERT_EQUAL(daxlease_lease_release(ctx, a), 0);
	CU_ASSERT_EQUAL(daxlease_lease_release(ctx, b), 0);
	CU_ASSERT_EQUAL(daxlease_lease_release(ctx, b), -EINVAL);
	daxlease_close(f);
}

/* MAP and PIN need a covering lease (unless --advisory-leases). */
static void test_require_leases(void)
{
	struct dlh_opts o = { .name = "require" };
	struct dlh_daemon d;
	struct daxlease_ctx *c;
	struct daxlease_file *f;
	struct daxlease_map *m = NULL;
	uint64_t id, pin;

	CU_ASSERT_EQUAL_FATAL(dlh_start(&d, &o), 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_new(&c, d.socket), 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_open(c, "f", CREATE, 0644, &f), 0);
	{
		static uint8_t buf[64 * KiB];

		CU_ASSERT_EQUAL(daxlease_pwrite(f, buf, sizeof(buf), 0),
				(ssize_t)sizeof(buf));
	}
	CU_ASSERT_EQUAL(daxlease_map(f, 0, 8 * KiB, DAXLEASE_PROT_READ, &m),
			-ENOLCK);
	CU_ASSERT_EQUAL(daxlease_pin(f, 0, 8 * KiB, 0, &pin), -ENOLCK);
	/* a lease of part of the range is not enough */
	CU_ASSERT_EQUAL(daxlease_lease_acquire(f, 0, 4096, SHARED, 0, &id), 0);
	CU_ASSERT_EQUAL(daxlease_map(f, 0, 8 * KiB, DAXLEASE_PROT_READ, &m),
			-ENOLCK);
	CU_ASSERT_EQUAL(daxlease_lease_release(c, id), 0);
	/* any type covering it all is */
	CU_ASSERT_EQUAL(daxlease_lease_acquire(f, 0, 0, SHARED, 0, &id), 0);
	CU_ASSERT_EQUAL(daxlease_map(f, 0, 8 * KiB, DAXLEASE_PROT_READ, &m), 0);
	CU_ASSERT_EQUAL(daxlease_pin(f, 0, 8 * KiB, 0, &pin), 0);
	CU_ASSERT_EQUAL(daxlease_unpin(c, pin), 0);
	CU_ASSERT_EQUAL(daxlease_unmap(m), 0);
	/* released: gone again */
	CU_ASSERT_EQUAL(daxlease_lease_release(c, id), 0);
	CU_ASSERT_EQUAL(daxlease_pin(f, 0, 8 * KiB, 0, &pin), -ENOLCK);
	daxlease_close(f);
	daxlease_unref(c);
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
}

struct event_thread {
	struct daxlease_ctx *c;
	uint64_t lease_id;
	int ev;
	int rc;
};

/* Waits in daxlease_next_event (receiving for the context) and returns
 * the lease on its break, while the main thread makes calls. */
static void *event_thread(void *arg)
{
	struct event_thread *t = arg;
	struct daxlease_event e;

	t->rc = daxlease_next_event(t->c, &e, -1);
	if (t->rc == 1 && (e.type != DAXLEASE_EVENT_LEASE_BREAK ||
			   e.lease_id != t->lease_id))
		t->rc = -EPROTO;
	if (write(t->ev, "R", 1) != 1)
		t->rc = -EIO;
	if (t->rc == 1)
		t->rc = daxlease_lease_release(t->c, t->lease_id);
	return NULL;
}

static void test_next_event_with_calls_in_flight(void)
{
	struct daxlease_file *f = make_file("thread", 64 * KiB), *g;
	struct event_thread t = { .rc = 1 };
	struct daxlease_stat st;
	struct daxlease_event e;
	pthread_t th;
	pid_t tr;
	int ev[2];

	CU_ASSERT_FATAL(dlh_ev_pipe(ev) == 0);
	t.ev = ev[1];
	CU_ASSERT_EQUAL_FATAL(daxlease_new(&t.c, dmn.socket), 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_open(t.c, "thread", RW, 0, &g), 0);
	CU_ASSERT_EQUAL(daxlease_next_event(t.c, &e, 0), 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_lease_acquire(g, 0, 0, EXCL, 5000,
						     &t.lease_id), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, event_thread, &t), 0);
	/* replies reach this thread whoever receives them */
	for (int i = 0; i < 200; i++)
		CU_ASSERT_EQUAL(daxlease_fstat(g, &st), 0);
	tr = start_truncate("thread", 0, ev[1]);
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'R');
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'T');
	CU_ASSERT_EQUAL(dlc_wait_exit(tr), 0);
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(t.rc, 0);
	CU_ASSERT_EQUAL(dlc_file_size(f), 0);
	daxlease_close(g);
	daxlease_unref(t.c);
	close(ev[0]);
	close(ev[1]);
	daxlease_close(f);
}

static void test_clean_stop(void)
{
	daxlease_unref(ctx);
	ctx = NULL;
	CU_ASSERT_EQUAL(dlh_stop(&dmn), 0);
}

static CU_TestInfo tests[] = {
	{ "a cooperative holder returns its lease", test_cooperative_holder },
	{ "a holder that ignores the break is revoked",
	  test_ignoring_holder_revoked },
	{ "LEASES shows breaking; a SIGKILL'd holder",
	  test_breaking_view_and_sigkill },
	{ "exclusive and shared conflicts", test_conflicts },
	{ "grants wait behind a break", test_grant_waits_behind_break },
	{ "timeouts are capped; LEASE_QUERY pages", test_timeouts_capped },
	{ "MAP/PIN without a lease: ENOLCK",
	  test_require_leases },
	{ "next_event while calls are in flight",
	  test_next_event_with_calls_in_flight },
	{ "clean stop", test_clean_stop },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "leases", suite_init, suite_clean, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	if (dlh_prepare())
		return DL_TEST_SKIP;
	if (geteuid() != 0) {
		printf("skip: mapping needs root\n");
		return DL_TEST_SKIP;
	}
	return dl_cunit_main(suites);
}

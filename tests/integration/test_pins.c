/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_pins.c - pins and the layout changes that wait for them, with real
 * processes.
 *
 * Nothing here asserts a time.  Order is asserted through one event pipe
 * that every process writes a letter to: a pinner writes 'U' BEFORE it
 * sends UNPIN, a truncater writes 'T' AFTER its truncate returns.  The
 * test first watches the BLOCKED view until the truncate is seen waiting
 * on the pin, checks that no 'T' has arrived, and only then lets the
 * pinner go - so "U then T" can only be read if the truncate really
 * waited for the unpin.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/falloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit_run.h"
#include "daxlease/libdaxlease.h"
#include "fs.h"
#include "harness.h"
#include "client_util.h"
#include "leased.h"
#include "namespace.h"

#define KiB 1024ULL
#define RW (DAXLEASE_O_READ | DAXLEASE_O_WRITE)
#define CREATE (RW | DAXLEASE_O_CREATE)

static struct dlh_daemon dmn;
static struct daxlease_ctx *ctx;	/* the test's own (admin) context */
static char admin_gid[64];
static const char *sock_path;	/* where child processes connect */

static int suite_init(void)
{
	struct dlh_opts o = { .extra = { "--admin-group", admin_gid } };

	struct group *g = getgrgid(getgid());

	/* admin views for whoever runs the test, root or not */
	if (!g)
		return -1;
	snprintf(admin_gid, sizeof(admin_gid), "%s", g->gr_name);
	if (dlh_start(&dmn, &o))
		return -1;
	sock_path = dmn.socket;
	return daxlease_new(&ctx, dmn.socket) ? -1 : 0;
}

static int suite_clean(void)
{
	if (ctx)
		daxlease_unref(ctx);
	dlh_kill(&dmn);
	return 0;
}

static uint8_t pat(unsigned who, uint64_t off)
{
	return (uint8_t)((off * 2654435761u + who * 97) >> 7);
}

/* Create name with size bytes of pattern who, through c. */
static struct daxlease_file *make_file_in(struct daxlease_ctx *c,
					  const char *name, uint64_t size,
					  unsigned who)
{
	struct daxlease_file *f = NULL;
	uint8_t *buf = malloc(size);

	CU_ASSERT_FATAL(buf != NULL);
	for (uint64_t i = 0; i < size; i++)
		buf[i] = pat(who, i);
	CU_ASSERT_EQUAL_FATAL(daxlease_open(c, name, CREATE |
					    DAXLEASE_O_TRUNC, 0644, &f), 0);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, buf, size, 0), (ssize_t)size);
	free(buf);
	return f;
}

static struct daxlease_file *make_file(const char *name, uint64_t size,
				       unsigned who)
{
	return make_file_in(ctx, name, size, who);
}

/* ---- child processes --------------------------------------------------- */

struct pinner {
	pid_t pid;
	int go;			/* write a byte (or close): unpin */
	uint64_t pin_id;
};

static struct daxlease_file *child_open(struct daxlease_ctx **c,
					const char *name)
{
	struct daxlease_file *f = NULL;

	if (daxlease_new(c, sock_path) || daxlease_open(*c, name, RW, 0, &f))
		_exit(2);
	return f;
}

static void pinner_main(const char *name, uint64_t off, uint64_t len,
			unsigned flags, int ready, int go, int ev)
{
	struct daxlease_ctx *c;
	struct daxlease_file *f = child_open(&c, name);
	uint64_t id = 0;
	char b;

	if (leased_pin(f, off, len, flags, &id))
		_exit(3);
	if (write(ready, &id, sizeof(id)) != sizeof(id))
		_exit(4);
	if (read(go, &b, 1) < 0)
		_exit(5);
	/* 'U' goes out before the UNPIN does */
	if (ev >= 0 && write(ev, "U", 1) != 1)
		_exit(6);
	_exit(daxlease_unpin(c, id) ? 7 : 0);
}

/* A child that pins [off, off+len) of name and holds it until told. */
static void start_pinner(struct pinner *p, const char *name, uint64_t off,
			 uint64_t len, unsigned flags, int ev)
{
	int ready[2], go[2];

	CU_ASSERT_FATAL(pipe(ready) == 0 && pipe(go) == 0);
	p->pid = fork();
	CU_ASSERT_FATAL(p->pid >= 0);
	if (!p->pid) {
		close(ready[0]);
		close(go[1]);
		pinner_main(name, off, len, flags, ready[1], go[0], ev);
	}
	close(ready[1]);
	close(go[0]);
	p->go = go[1];
	CU_ASSERT_EQUAL_FATAL(read(ready[0], &p->pin_id, sizeof(p->pin_id)),
			      (ssize_t)sizeof(p->pin_id));
	close(ready[0]);
}

static void release_pinner(struct pinner *p)
{
	CU_ASSERT_EQUAL(write(p->go, "g", 1), 1);
	close(p->go);
	CU_ASSERT_EQUAL(dlc_wait_exit(p->pid), 0);
}

enum layout_op { OP_TRUNCATE, OP_PUNCH, OP_COLLAPSE, OP_WRITE, OP_PIN_READ,
		OP_UNLINK, OP_RENAME_OVER, OP_INSERT };

/*
 * A child that runs one operation on name and writes `letter` to ev once
 * it has returned; exit status 0 if it returned 0 (OP_PIN_READ: pins,
 * then checks that [off, off+len) reads as zeros).
 */
static pid_t start_op(const char *name, enum layout_op op, uint64_t a,
		      uint64_t b, int ev, char letter)
{
	pid_t pid = fork();

	CU_ASSERT_FATAL(pid >= 0);
	if (!pid) {
		struct daxlease_ctx *c;
		struct daxlease_file *f = child_open(&c, name);
		uint8_t buf[4096];
		uint64_t id;
		int rc = 0;

		switch (op) {
		case OP_TRUNCATE:
			rc = daxlease_truncate(f, a);
			break;
		case OP_PUNCH:
			rc = daxlease_fallocate(f, FALLOC_FL_PUNCH_HOLE |
						FALLOC_FL_KEEP_SIZE, a, b);
			break;
		case OP_COLLAPSE:
			rc = daxlease_fallocate(f, FALLOC_FL_COLLAPSE_RANGE,
						a, b);
			break;
		case OP_INSERT:
			rc = daxlease_fallocate(f, FALLOC_FL_INSERT_RANGE,
						a, b);
			break;
		case OP_WRITE:
			memset(buf, 0xee, sizeof(buf));
			rc = daxlease_pwrite(f, buf, sizeof(buf), a) ==
			     (ssize_t)sizeof(buf) ? 0 : 1;
			break;
		case OP_UNLINK:
			rc = daxlease_unlink(c, name);
			break;
		case OP_RENAME_OVER:	/* "<name>.new" over name */
			snprintf((char *)buf, sizeof(buf), "%s.new", name);
			rc = daxlease_rename(c, (char *)buf, name, 0);
			break;
		case OP_PIN_READ:
			rc = leased_pin(f, a, b, 0, &id);
			if (!rc && daxlease_pread(f, buf, sizeof(buf), a) !=
				   (ssize_t)sizeof(buf))
				rc = 1;
			for (size_t i = 0; !rc && i < sizeof(buf); i++)
				if (buf[i])
					rc = 1;	/* pinned before the punch */
			break;
		}
		if (ev >= 0 && write(ev, &letter, 1) != 1)
			_exit(6);
		_exit(rc ? 1 : 0);
	}
	return pid;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_truncate_waits_for_unpin(void)
{
	struct daxlease_file *f = make_file("wait", 256 * KiB, 1);
	struct daxlease_busy busy[4];
	struct daxlease_blocked bl[4];
	struct pinner p;
	uint64_t cursor = 0;
	pid_t t;
	int ev[2];

	CU_ASSERT_FATAL(dlh_ev_pipe(ev) == 0);
	start_pinner(&p, "wait", 64 * KiB, 64 * KiB, DAXLEASE_PIN_WRITE, ev[1]);
	t = start_op("wait", OP_TRUNCATE, 0, 0, ev[1], 'T');
	CU_ASSERT_EQUAL_FATAL(dlc_wait_blocked(ctx, 1, true), 0);
	CU_ASSERT_TRUE(dlh_ev_empty(ev[0]));

	/* the admin views name the pinner and the waiting truncate */
	CU_ASSERT_EQUAL_FATAL(daxlease_busy(ctx, &cursor, busy, 4), 1);
	CU_ASSERT_EQUAL(busy[0].pin.pid, p.pid);
	CU_ASSERT_EQUAL(busy[0].pin.pin_id, p.pin_id);
	CU_ASSERT_EQUAL(busy[0].pin.offset, 64 * KiB);
	CU_ASSERT_EQUAL(busy[0].pin.length, 64 * KiB);
	CU_ASSERT_TRUE(busy[0].pin.write);
	CU_ASSERT_STRING_EQUAL(busy[0].name, "wait");
	CU_ASSERT_NOT_EQUAL(busy[0].ns_offset, UINT64_MAX);
	cursor = 0;
	CU_ASSERT_EQUAL_FATAL(daxlease_blocked(ctx, &cursor, bl, 4), 1);
	CU_ASSERT_EQUAL(bl[0].pid, t);
	CU_ASSERT_EQUAL(bl[0].opcode, DL_OP_TRUNCATE);
	CU_ASSERT_EQUAL(bl[0].offset, 0);
	CU_ASSERT_EQUAL(bl[0].npins, 1);
	CU_ASSERT_EQUAL(bl[0].pin_ids[0], p.pin_id);
	CU_ASSERT_EQUAL(dlc_file_size(f), 256 * KiB);

	release_pinner(&p);
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'U');
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'T');
	CU_ASSERT_EQUAL(dlc_wait_exit(t), 0);
	CU_ASSERT_EQUAL(dlc_file_size(f), 0);
	/* the write pin left its range in the dirty record */
	{
		struct daxlease_dirty dr[8];
		struct daxlease_stat st;
		int n, found = 0;

		CU_ASSERT_EQUAL(daxlease_fstat(f, &st), 0);
		cursor = 0;
		n = daxlease_dirty(ctx, &cursor, dr, 8);
		for (int i = 0; i < n; i++)
			found += dr[i].ino == st.ino &&
				 dr[i].offset == 64 * KiB &&
				 dr[i].length == 64 * KiB;
		CU_ASSERT_EQUAL(found, 1);
	}
	close(ev[0]);
	close(ev[1]);
	daxlease_close(f);
}

static void test_nonblock_names_blocker(void)
{
	struct daxlease_file *f = make_file("nb", 128 * KiB, 2);
	struct daxlease_blocker b[4];
	struct daxlease_policy pol = {
		.flags = DAXLEASE_POLICY_NONBLOCK, .blockers = b, .max = 4,
	};
	struct pinner p;

	start_pinner(&p, "nb", 0, 4096, 0, -1);
	CU_ASSERT_EQUAL(daxlease_truncate_policy(f, 0, &pol), -EBUSY);
	/* the pin, then the lease the pinner needed for it (leased.h) */
	CU_ASSERT_EQUAL(pol.nblockers, 2);
	CU_ASSERT_EQUAL(b[1].pid, p.pid);
	CU_ASSERT_EQUAL(b[0].pid, p.pid);
	CU_ASSERT_EQUAL(b[0].pin_id, p.pin_id);
	CU_ASSERT_EQUAL(b[0].offset, 0);
	CU_ASSERT_EQUAL(b[0].length, 4096);
	CU_ASSERT_FALSE(b[0].write);
	/* a punch beside the pin is not in its way */
	CU_ASSERT_EQUAL(daxlease_fallocate_policy(f, FALLOC_FL_PUNCH_HOLE |
						  FALLOC_FL_KEEP_SIZE,
						  64 * KiB, 4096, &pol), 0);
	CU_ASSERT_EQUAL(daxlease_fallocate_policy(f, FALLOC_FL_PUNCH_HOLE |
						  FALLOC_FL_KEEP_SIZE,
						  0, 8192, &pol), -EBUSY);
	CU_ASSERT_EQUAL(dlc_file_size(f), 128 * KiB);
	release_pinner(&p);
	CU_ASSERT_EQUAL(daxlease_truncate_policy(f, 0, &pol), 0);
	daxlease_close(f);
}

static void test_deadline_leaves_file(void)
{
	struct daxlease_file *f = make_file("dl", 128 * KiB, 3);
	struct daxlease_policy pol = {
		.flags = DAXLEASE_POLICY_DEADLINE, .deadline_ms = 100,
	};
	struct daxlease_blocked bl[4];
	uint8_t buf[4096];
	uint64_t cursor = 0;
	struct pinner p;

	start_pinner(&p, "dl", 32 * KiB, 4096, 0, -1);
	CU_ASSERT_EQUAL(daxlease_truncate_policy(f, 4096, &pol), -ETIMEDOUT);
	CU_ASSERT_EQUAL(daxlease_fallocate_policy(f, FALLOC_FL_COLLAPSE_RANGE,
						  0, 4096, &pol), -ETIMEDOUT);
	CU_ASSERT_EQUAL(dlc_file_size(f), 128 * KiB);
	CU_ASSERT_EQUAL(daxlease_pread(f, buf, sizeof(buf), 64 * KiB),
			(ssize_t)sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i] != pat(3, 64 * KiB + i)) {
			CU_FAIL("file changed by a timed-out truncate");
			break;
		}
	/* nothing is left waiting */
	CU_ASSERT_EQUAL(daxlease_blocked(ctx, &cursor, bl, 4), 0);
	release_pinner(&p);
	daxlease_close(f);
}

static void test_killed_pinner(void)
{
	struct daxlease_file *f = make_file("kill", 128 * KiB, 4);
	struct daxlease_busy busy[4];
	uint64_t cursor = 0;
	struct pinner p;
	pid_t t;
	int ev[2];

	CU_ASSERT_FATAL(dlh_ev_pipe(ev) == 0);
	start_pinner(&p, "kill", 0, 128 * KiB, DAXLEASE_PIN_WRITE, -1);
	t = start_op("kill", OP_TRUNCATE, 4096, 0, ev[1], 'T');
	CU_ASSERT_EQUAL_FATAL(dlc_wait_blocked(ctx, 1, true), 0);
	CU_ASSERT_TRUE(dlh_ev_empty(ev[0]));
	kill(p.pid, SIGKILL);
	CU_ASSERT_EQUAL(dlc_wait_exit(p.pid), 128 + SIGKILL);
	close(p.go);
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'T');
	CU_ASSERT_EQUAL(dlc_wait_exit(t), 0);
	CU_ASSERT_EQUAL(dlc_file_size(f), 4096);
	CU_ASSERT_EQUAL(daxlease_busy(ctx, &cursor, busy, 4), 0);
	close(ev[0]);
	close(ev[1]);
	daxlease_close(f);
}

static void test_disjoint_do_not_wait(void)
{
	struct daxlease_file *a = make_file("dja", 1024 * KiB, 5);
	struct daxlease_file *b = make_file("djb", 256 * KiB, 6);
	struct pinner p;
	pid_t t;
	int ev[2];

	CU_ASSERT_FATAL(dlh_ev_pipe(ev) == 0);
	start_pinner(&p, "dja", 0, 64 * KiB, 0, ev[1]);
	t = start_op("dja", OP_PUNCH, 0, 64 * KiB, ev[1], 'T');
	CU_ASSERT_EQUAL_FATAL(dlc_wait_blocked(ctx, 1, true), 0);
	/* another file, and another range of the same file, go at once */
	CU_ASSERT_EQUAL(daxlease_truncate(b, 0), 0);
	CU_ASSERT_EQUAL(daxlease_fallocate(a, FALLOC_FL_PUNCH_HOLE |
					   FALLOC_FL_KEEP_SIZE, 512 * KiB,
					   64 * KiB), 0);
	CU_ASSERT_EQUAL(daxlease_fallocate(a, FALLOC_FL_ZERO_RANGE,
					   128 * KiB, 64 * KiB), 0);
	CU_ASSERT_TRUE(dlh_ev_empty(ev[0]));
	release_pinner(&p);
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'U');
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'T');
	CU_ASSERT_EQUAL(dlc_wait_exit(t), 0);
	close(ev[0]);
	close(ev[1]);
	daxlease_close(a);
	daxlease_close(b);
}

/* Unlink and rename over a pinned file wait too; a waiter that goes away
 * leaves nothing waiting. */
static void test_unlink_rename_wait(void)
{
	struct daxlease_file *f = make_file("ul", 64 * KiB, 14);
	struct daxlease_file *g = make_file("ul.new", 4096, 15);
	struct daxlease_stat st;
	struct pinner p;
	pid_t t;
	int ev[2];

	CU_ASSERT_FATAL(dlh_ev_pipe(ev) == 0);
	start_pinner(&p, "ul", 0, 4096, 0, ev[1]);
	/* a rename over the pinned file waits; its process dies waiting */
	t = start_op("ul", OP_RENAME_OVER, 0, 0, ev[1], 'R');
	CU_ASSERT_EQUAL_FATAL(dlc_wait_blocked(ctx, 1, true), 0);
	kill(t, SIGKILL);
	CU_ASSERT_EQUAL(dlc_wait_exit(t), 128 + SIGKILL);
	/* its waiting rename goes when the daemon sees it die */
	{
		struct daxlease_blocked b[2];
		uint64_t cursor = 0;

		for (int i = 0; i < 2000 && daxlease_blocked(ctx, &cursor, b,
							     2) != 0; i++) {
			cursor = 0;
			usleep(5000);
		}
		cursor = 0;
		CU_ASSERT_EQUAL(daxlease_blocked(ctx, &cursor, b, 2), 0);
	}
	CU_ASSERT_EQUAL(daxlease_stat(ctx, "ul.new", &st), 0);
	/* an unlink waits, and goes once the pin does */
	t = start_op("ul", OP_UNLINK, 0, 0, ev[1], 'D');
	CU_ASSERT_EQUAL_FATAL(dlc_wait_blocked(ctx, 1, true), 0);
	CU_ASSERT_TRUE(dlh_ev_empty(ev[0]));
	CU_ASSERT_EQUAL(daxlease_stat(ctx, "ul", &st), 0);
	release_pinner(&p);
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'U');
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'D');
	CU_ASSERT_EQUAL(dlc_wait_exit(t), 0);
	CU_ASSERT_EQUAL(daxlease_stat(ctx, "ul", &st), -ENOENT);
	close(ev[0]);
	close(ev[1]);
	daxlease_close(f);
	daxlease_close(g);
	daxlease_unlink(ctx, "ul.new");
}

/* A new pin of the range waits behind the waiting punch (no starvation). */
static void test_new_pin_queues(void)
{
	struct daxlease_file *f = make_file("q", 256 * KiB, 7);
	struct pinner p;
	pid_t t, q;
	int ev[2];

	CU_ASSERT_FATAL(dlh_ev_pipe(ev) == 0);
	start_pinner(&p, "q", 0, 64 * KiB, 0, ev[1]);
	t = start_op("q", OP_PUNCH, 0, 64 * KiB, ev[1], 'T');
	CU_ASSERT_EQUAL_FATAL(dlc_wait_blocked(ctx, 1, true), 0);
	q = start_op("q", OP_PIN_READ, 0, 4096, ev[1], 'Q');
	CU_ASSERT_EQUAL_FATAL(dlc_wait_blocked(ctx, 2, false), 0);
	CU_ASSERT_TRUE(dlh_ev_empty(ev[0]));
	release_pinner(&p);
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'U');
	/* the pin was granted after the punch: it read zeros */
	CU_ASSERT_EQUAL(dlc_wait_exit(t), 0);
	CU_ASSERT_EQUAL(dlc_wait_exit(q), 0);
	close(ev[0]);
	close(ev[1]);
	daxlease_close(f);
}

/*
 * A write sent while a collapse (or an insert) of 64 KiB at 0 waits for a
 * pin queues behind it, and lands at 128 KiB of the FINAL layout: the
 * bytes around it are the old ones shifted by 64 KiB.
 */
static void write_behind(const char *name, enum layout_op op, unsigned who)
{
	struct daxlease_file *f = make_file(name, 256 * KiB, who);
	static uint8_t buf[320 * KiB];
	uint64_t size = op == OP_INSERT ? 320 * KiB : 192 * KiB;
	struct pinner p;
	pid_t t, w;

	start_pinner(&p, name, 0, 64 * KiB, 0, -1);
	t = start_op(name, op, 0, 64 * KiB, -1, 0);
	CU_ASSERT_EQUAL_FATAL(dlc_wait_blocked(ctx, 1, true), 0);
	w = start_op(name, OP_WRITE, 128 * KiB, 0, -1, 0);
	CU_ASSERT_EQUAL_FATAL(dlc_wait_blocked(ctx, 2, false), 0);
	release_pinner(&p);
	CU_ASSERT_EQUAL(dlc_wait_exit(t), 0);
	CU_ASSERT_EQUAL(dlc_wait_exit(w), 0);
	CU_ASSERT_EQUAL_FATAL(dlc_file_size(f), size);
	CU_ASSERT_EQUAL(daxlease_pread(f, buf, size, 0), (ssize_t)size);
	for (uint64_t i = 0; i < size; i++) {
		uint8_t want = i >= 128 * KiB && i < 132 * KiB ? 0xee :
			       op == OP_COLLAPSE ? pat(who, i + 64 * KiB) :
			       i < 64 * KiB ? 0 : pat(who, i - 64 * KiB);

		if (buf[i] != want) {
			fprintf(stderr, "byte %llu: %u, want %u\n",
				(unsigned long long)i, buf[i], want);
			CU_FAIL("write did not land in the final layout");
			break;
		}
	}
	daxlease_close(f);
}

static void test_write_behind_collapse(void)
{
	write_behind("col", OP_COLLAPSE, 8);
}

static void test_write_behind_insert(void)
{
	write_behind("ins", OP_INSERT, 16);
}

/* 100 pins page through BUSY 7 at a time, each exactly once. */
static void test_busy_paging(void)
{
	struct daxlease_file *f = make_file("many", 400 * KiB, 9);
	struct daxlease_busy b[7];
	uint64_t ids[100], cursor = 0;
	static bool seen[100];
	unsigned total = 0;
	int n;

	for (int i = 0; i < 100; i++)
		CU_ASSERT_EQUAL_FATAL(leased_pin(f, i * 4096ULL, 4096, 0,
						   &ids[i]), 0);
	do {
		n = daxlease_busy(ctx, &cursor, b, 7);
		CU_ASSERT_FATAL(n >= 0);
		for (int i = 0; i < n; i++) {
			uint64_t k = b[i].pin.offset / 4096;

			CU_ASSERT_FATAL(k < 100);
			CU_ASSERT_FALSE(seen[k]);
			CU_ASSERT_EQUAL(b[i].pin.pin_id, ids[k]);
			CU_ASSERT_EQUAL(b[i].pin.pid, getpid());
			seen[k] = true;
			total++;
		}
	} while (cursor);
	CU_ASSERT_EQUAL(total, 100);
	for (int i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(daxlease_unpin(ctx, ids[i]), 0);
	CU_ASSERT_EQUAL(daxlease_unpin(ctx, ids[0]), -EINVAL);
	daxlease_close(f);
}

/* 10 waiting truncates (pipelined on one raw socket) page through BLOCKED. */
static void test_blocked_paging(void)
{
	struct daxlease_file *f = make_file("bp", 64 * KiB, 10);
	struct dl_open_req oreq = { .flags = DL_O_READ | DL_O_WRITE };
	struct dl_open_rep orep;
	struct daxlease_blocked b[3];
	struct dl_msg_hdr hdr;
	uint64_t id, cursor = 0, last = 0;
	unsigned total = 0;
	int s, n;

	CU_ASSERT_EQUAL_FATAL(leased_pin(f, 0, 4096, 0, &id), 0);
	s = dlh_connect(dmn.socket);
	CU_ASSERT_FATAL(s >= 0);
	CU_ASSERT_EQUAL_FATAL(dlh_raw_hello(s, NULL), 1);
	strcpy(oreq.name, "bp");
	CU_ASSERT_EQUAL_FATAL(dlh_raw_call(s, DL_OP_OPEN, &oreq, sizeof(oreq),
					   &orep, sizeof(orep), NULL), 0);
	for (unsigned i = 0; i < 10; i++) {
		struct dl_truncate_req t = { .fh = orep.fh, .size = 0 };

		CU_ASSERT_EQUAL_FATAL(dlh_raw_send(s, 1, DL_OP_TRUNCATE,
						   100 + i, &t, sizeof(t),
						   NULL, 0), 0);
	}
	CU_ASSERT_EQUAL_FATAL(dlc_wait_blocked(ctx, 1, true), 0);
	/* one waits for the pin, nine behind it */
	do {
		n = daxlease_blocked(ctx, &cursor, b, 3);
		CU_ASSERT_FATAL(n >= 0 && n <= 3);
		for (int i = 0; i < n; i++) {
			CU_ASSERT_TRUE(b[i].wait_id > last);
			last = b[i].wait_id;
			CU_ASSERT_EQUAL(b[i].pid, getpid());
			total++;
		}
	} while (cursor);
	CU_ASSERT_EQUAL(total, 10);
	CU_ASSERT_EQUAL(daxlease_unpin(ctx, id), 0);
	/* all ten complete, in order */
	for (unsigned i = 0; i < 10; i++) {
		CU_ASSERT_EQUAL(dlh_raw_recv(s, &hdr, NULL, 0, NULL, NULL), 0);
		CU_ASSERT_EQUAL(hdr.request_id, 100 + i);
		CU_ASSERT_EQUAL(hdr.status, 0);
	}
	close(s);
	CU_ASSERT_EQUAL(dlc_file_size(f), 0);
	daxlease_close(f);
}

/* A connection may have 256 requests waiting; the 257th gets -EAGAIN. */
static void test_wait_bound(void)
{
	struct daxlease_file *f = make_file("wb", 64 * KiB, 13);
	struct dl_open_req oreq = { .flags = DL_O_READ | DL_O_WRITE };
	struct dl_open_rep orep;
	struct dl_truncate_req t = { .size = 0 };
	struct dl_msg_hdr hdr;
	uint64_t id;
	int s;

	CU_ASSERT_EQUAL_FATAL(leased_pin(f, 0, 4096, 0, &id), 0);
	s = dlh_connect(dmn.socket);
	CU_ASSERT_FATAL(s >= 0);
	CU_ASSERT_EQUAL_FATAL(dlh_raw_hello(s, NULL), 1);
	strcpy(oreq.name, "wb");
	CU_ASSERT_EQUAL_FATAL(dlh_raw_call(s, DL_OP_OPEN, &oreq, sizeof(oreq),
					   &orep, sizeof(orep), NULL), 0);
	t.fh = orep.fh;
	for (unsigned i = 0; i < 257; i++)
		CU_ASSERT_EQUAL_FATAL(dlh_raw_send(s, 1, DL_OP_TRUNCATE,
						   1000 + i, &t, sizeof(t),
						   NULL, 0), 0);
	/* the one over the limit is answered at once */
	CU_ASSERT_EQUAL(dlh_raw_recv(s, &hdr, NULL, 0, NULL, NULL), 0);
	CU_ASSERT_EQUAL(hdr.request_id, 1256);
	CU_ASSERT_EQUAL(hdr.status, -EAGAIN);
	CU_ASSERT_EQUAL(daxlease_unpin(ctx, id), 0);
	for (unsigned i = 0; i < 256; i++) {
		CU_ASSERT_EQUAL(dlh_raw_recv(s, &hdr, NULL, 0, NULL, NULL), 0);
		CU_ASSERT_EQUAL(hdr.request_id, 1000 + i);
		CU_ASSERT_EQUAL(hdr.status, 0);
	}
	close(s);
	daxlease_close(f);
}

static void test_views_need_admin(void)
{
	struct dl_view_req r = { .max = 1 };
	char rep[256];
	int s = dlh_connect(dmn.socket);
	int rc;

	CU_ASSERT_FATAL(s >= 0);
	CU_ASSERT_EQUAL_FATAL(dlh_raw_hello(s, NULL), 1);
	rc = dlh_raw_call(s, DL_OP_BUSY, &r, sizeof(r), rep, sizeof(rep),
			  NULL);
	/* we are admin (root or the admin group) */
	CU_ASSERT_EQUAL(rc, 0);
	r.reserved = 1;
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_BLOCKED, &r, sizeof(r), rep,
				     sizeof(rep), NULL), -EINVAL);
	close(s);
}

/* ---- --detach ------------------------------------------------------------------ */

#define QMAX 64

/* Write 64 KiB, then 4 KiB pieces, until the namespace is full. */
static void fill_namespace(struct daxlease_ctx *c)
{
	static uint8_t buf[64 * KiB];
	struct daxlease_file *f = make_file_in(c, "fill", 4096, 12);
	uint64_t off = 4096;
	ssize_t n;

	memset(buf, 0x5a, sizeof(buf));
	while ((n = daxlease_pwrite(f, buf, sizeof(buf), off)) > 0)
		off += (uint64_t)n;
	CU_ASSERT_EQUAL(n, -ENOSPC);
	while ((n = daxlease_pwrite(f, buf, 4096, off)) > 0)
		off += (uint64_t)n;
	CU_ASSERT_EQUAL(n, -ENOSPC);
	daxlease_close(f);
}

/* Offline: no extent of any file overlaps the quarantined ranges. */
static void check_extents_avoid(const char *image,
				const struct daxlease_quarantine *q, int nq)
{
	struct dl_err err = { 0 };
	struct dl_extent e[256];
	struct dl_ns *ns = NULL;
	struct dl_fs *fs = NULL;
	struct dl_stat st;
	uint64_t cursor = 0, nfiles = 0;
	size_t n;

	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(image, DL_MAP_READ_ONLY, &ns,
					     &err), 0);
	CU_ASSERT_EQUAL_FATAL(dl_fs_open(ns, &fs, &err), 0);
	while (dl_fs_next_file(fs, &cursor, &st) == 1) {
		CU_ASSERT_EQUAL(dl_fs_extents(fs, st.ino, 0, UINT64_MAX, e,
					      256, &n), 0);
		CU_ASSERT_TRUE(n <= 256);
		nfiles++;
		for (size_t i = 0; i < n && i < 256; i++)
			for (int k = 0; k < nq; k++)
				if (e[i].ns_offset < q[k].ns_offset +
						     q[k].length &&
				    q[k].ns_offset < e[i].ns_offset +
						     e[i].length) {
					fprintf(stderr, "%s got quarantined "
						"block %#llx\n", st.name,
						(unsigned long long)
						e[i].ns_offset);
					CU_FAIL("a quarantined block was reused");
				}
	}
	CU_ASSERT_EQUAL(nfiles, 2);
	dl_fs_close(&fs);
	dl_ns_close(&ns);
}

/*
 * --detach: the truncate goes at once, the pinned blocks stay in
 * quarantine while the rest of the namespace fills up, and come back to
 * free space when the pinner is killed.
 */
static void test_detach_quarantine(void)
{
	struct dlh_opts o = {
		.size = 16ULL << 20, .align = 4096, .name = "detach",
		.extra = { "--detach", "--admin-group", admin_gid },
	};
	static struct daxlease_quarantine q[QMAX];
	struct daxlease_status st0, st1;
	struct daxlease_ctx *c = NULL;
	struct daxlease_file *f;
	struct dlh_daemon d;
	uint64_t cursor = 0, held = 0;
	struct pinner p;
	int nq;

	CU_ASSERT_FATAL(dlh_start(&d, &o) == 0);
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	sock_path = d.socket;
	f = make_file_in(c, "q", 256 * KiB, 11);
	start_pinner(&p, "q", 0, 64 * KiB, DAXLEASE_PIN_WRITE, -1);
	/* no waiting: done at once, though the pin is still there */
	CU_ASSERT_EQUAL(daxlease_truncate(f, 0), 0);
	nq = daxlease_quarantine(c, &cursor, q, QMAX);
	CU_ASSERT_FATAL(nq > 0 && !cursor);
	for (int i = 0; i < nq; i++) {
		CU_ASSERT_EQUAL(q[i].npins, 1);
		CU_ASSERT_EQUAL(q[i].pin_ids[0], p.pin_id);
		CU_ASSERT_EQUAL(q[i].pid, p.pid);
		held += q[i].length;
	}
	/* only the pinned 64 KiB; the other 192 KiB went back at once */
	CU_ASSERT_EQUAL(held, 64 * KiB);

	fill_namespace(c);
	CU_ASSERT_EQUAL(daxlease_status(c, &st0), 0);
	kill(p.pid, SIGKILL);
	CU_ASSERT_EQUAL(dlc_wait_exit(p.pid), 128 + SIGKILL);
	close(p.go);
	/* the pinner's death released its blocks: wait for the daemon to
	 * see it (its pidfd), then exactly those 16 blocks are free */
	for (int i = 0; i < 2000; i++) {
		cursor = 0;
		if (daxlease_quarantine(c, &cursor, q + nq, QMAX - nq) == 0)
			break;
		usleep(5000);
	}
	cursor = 0;
	CU_ASSERT_EQUAL(daxlease_quarantine(c, &cursor, q + nq, QMAX - nq), 0);
	CU_ASSERT_EQUAL(daxlease_status(c, &st1), 0);
	CU_ASSERT_EQUAL(st1.blocks_free - st0.blocks_free, 64 * KiB / 4096);
	daxlease_close(f);
	daxlease_unref(c);
	sock_path = dmn.socket;
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
	check_extents_avoid(d.image, q, nq);
}

static void test_clean_stop(void)
{
	daxlease_unref(ctx);
	ctx = NULL;
	CU_ASSERT_EQUAL(dlh_stop(&dmn), 0);
}

static CU_TestInfo tests[] = {
	{ "truncate waits for the unpin", test_truncate_waits_for_unpin },
	{ "nonblock: EBUSY names the pinner", test_nonblock_names_blocker },
	{ "deadline: ETIMEDOUT, file unchanged", test_deadline_leaves_file },
	{ "a pinner killed with SIGKILL", test_killed_pinner },
	{ "disjoint ranges and files do not wait", test_disjoint_do_not_wait },
	{ "unlink and rename over wait; a dead waiter", test_unlink_rename_wait },
	{ "a new pin queues behind a waiting change", test_new_pin_queues },
	{ "a write behind a collapse", test_write_behind_collapse },
	{ "a write behind an insert", test_write_behind_insert },
	{ "BUSY pages over 100 pins", test_busy_paging },
	{ "BLOCKED pages over 10 waiters", test_blocked_paging },
	{ "256 waiting requests per connection", test_wait_bound },
	{ "admin views", test_views_need_admin },
	{ "--detach: quarantine, never reused", test_detach_quarantine },
	{ "clean stop", test_clean_stop },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "pins", suite_init, suite_clean, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	if (dlh_prepare())
		return DL_TEST_SKIP;
	return dl_cunit_main(suites);
}

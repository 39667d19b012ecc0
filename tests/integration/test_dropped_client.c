/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dropped_client.c - a client that goes away while daxleased is
 * still handling, or holding, one of its requests (issue 10, row 1).
 *
 * The way in is the one a hostile local user found: connection C holds a
 * lease and calls shutdown(SHUT_RD), so the daemon's next send to it - the
 * break event its own TRUNCATE causes - fails with EPIPE and drops C
 * inside the handler of C's request.  Then, with a second holder D, the
 * request suspends for the dropped client, and D's revocation runs it.
 * Every case must leave the daemon serving everyone else, and stopping
 * cleanly on a consistent namespace (dlh_stop checks both).
 *
 * Each case starts its own daemon (with --lease-timeout 1 from the
 * harness), so one that dies fails only its own case.  Nothing asserts a
 * time: the order of events is read from the events and views the daemon
 * sends.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cunit_run.h"
#include "harness.h"

#define FILE_SIZE (256 * 1024)

static struct dlh_daemon dmn;

/* A fresh daemon (the last case's is killed if a failure left it). */
static int start(void)
{
	dlh_kill(&dmn);
	return dlh_start(&dmn, NULL);
}

static int hello_client(void)
{
	int s = dlh_connect(dmn.socket);

	CU_ASSERT_FATAL(s >= 0);
	CU_ASSERT_EQUAL_FATAL(dlh_raw_hello(s, NULL), 1);
	return s;
}

static uint64_t open_file(int s, const char *name)
{
	struct dl_open_req req = {
		.flags = DL_O_READ | DL_O_WRITE | DL_O_CREATE, .mode = 0644,
	};
	struct dl_open_rep rep;

	snprintf(req.name, sizeof(req.name), "%s", name);
	CU_ASSERT_EQUAL_FATAL(dlh_raw_call(s, DL_OP_OPEN, &req, sizeof(req),
					   &rep, sizeof(rep), NULL), 0);
	return rep.fh;
}

/* FILE_SIZE bytes of 'x' at offset 0. */
static void fill_file(int s, uint64_t fh)
{
	static struct {
		struct dl_rw_req r;
		struct dl_wire_iov v;
		char data[DL_PROTO_MAX_DATA];
	} w;
	struct dl_rw_rep rep;

	memset(w.data, 'x', sizeof(w.data));
	for (uint64_t off = 0; off < FILE_SIZE; off += sizeof(w.data)) {
		w.r = (struct dl_rw_req){ .fh = fh, .niov = 1 };
		w.v = (struct dl_wire_iov){ .offset = off,
					    .len = sizeof(w.data) };
		CU_ASSERT_EQUAL_FATAL(dlh_raw_call(s, DL_OP_WRITE, &w,
						   sizeof(w), &rep,
						   sizeof(rep), NULL), 0);
	}
}

static uint64_t lease(int s, uint64_t fh, uint32_t timeout_ms)
{
	struct dl_lease_req req = {
		.fh = fh, .type = DL_LEASE_SHARED,
		.break_timeout_ms = timeout_ms,
	};
	struct dl_lease_rep rep;

	CU_ASSERT_EQUAL_FATAL(dlh_raw_call(s, DL_OP_LEASE_ACQUIRE, &req,
					   sizeof(req), &rep, sizeof(rep),
					   NULL), 0);
	return rep.lease_id;
}

static uint64_t pin(int s, uint64_t fh)
{
	static struct dl_pin_rep rep;
	struct dl_pin_req req = { .fh = fh, .length = 4096 };

	CU_ASSERT_EQUAL_FATAL(dlh_raw_call(s, DL_OP_PIN, &req, sizeof(req),
					   &rep, sizeof(rep), NULL), 0);
	return rep.pin_id;
}

/* Send a request whose reply we never read (C cannot: SHUT_RD). */
static void send_only(int s, uint16_t opcode, const void *req, size_t len)
{
	CU_ASSERT_EQUAL_FATAL(dlh_raw_send(s, 1, opcode, 77, req, len, NULL,
					   0), 0);
}

/*
 * The next event on s, waiting up to 10 s; replies are skipped.  0 with
 * *opcode and the lease id, or -1 (nothing came, or the daemon closed).
 */
static int next_event(int s, uint16_t *opcode, uint64_t *lease_id)
{
	struct {
		struct dl_msg_hdr h;
		struct dl_ev_lease ev;
		char rest[DL_PROTO_MAX_MSG];
	} m;

	for (;;) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 10000) != 1)
			return -1;
		n = recv(s, &m, sizeof(m), 0);
		if (n <= 0)
			return -1;
		if (!(m.h.flags & DL_MSG_EVENT))
			continue;
		if ((size_t)n < sizeof(m.h) + sizeof(m.ev))
			return -1;
		*opcode = m.h.opcode;
		*lease_id = m.ev.lease_id;
		return 0;
	}
}

/* D's lease is broken, then revoked: both events arrive, in order. */
static void expect_break_then_revoke(int d, uint64_t id)
{
	uint16_t op = 0;
	uint64_t got = 0;

	CU_ASSERT_EQUAL_FATAL(next_event(d, &op, &got), 0);
	CU_ASSERT_EQUAL(op, DL_EV_LEASE_BREAK);
	CU_ASSERT_EQUAL(got, id);
	CU_ASSERT_EQUAL_FATAL(next_event(d, &op, &got), 0);
	CU_ASSERT_EQUAL(op, DL_EV_LEASE_REVOKED);
	CU_ASSERT_EQUAL(got, id);
}

static uint64_t file_size(int s, const char *name)
{
	struct dl_stat_req req = { 0 };
	struct dl_wire_stat st;

	snprintf(req.name, sizeof(req.name), "%s", name);
	CU_ASSERT_EQUAL_FATAL(dlh_raw_call(s, DL_OP_STAT, &req, sizeof(req),
					   &st, sizeof(st), NULL), 0);
	return st.size;
}

/* Waiting requests, as the admin BLOCKED view counts them. */
static uint32_t blocked_count(int s)
{
	struct dl_view_req req = { .max = DL_PROTO_VIEW_MAX };
	static struct {
		struct dl_view_rep v;
		struct dl_wire_blocked b[DL_PROTO_VIEW_MAX];
	} rep;

	CU_ASSERT_EQUAL_FATAL(dlh_raw_call(s, DL_OP_BLOCKED, &req, sizeof(req),
					   &rep, sizeof(rep), NULL), 0);
	return rep.v.count;
}

/* Poll the BLOCKED view until it shows want waiters (at most 10 s). */
static void wait_blocked(int s, uint32_t want)
{
	for (int i = 0; i < 1000; i++) {
		if (blocked_count(s) == want)
			return;
		usleep(10000);
	}
	CU_FAIL_FATAL("the BLOCKED view never showed the waiting request");
}

/* The daemon does not answer: show why (a sanitizer's report, say,
 * once it is written whole) and fail the case. */
static void daemon_failed(const char *what)
{
	int i;

	/* dlh_alive shows the stderr of a daemon it finds dead */
	for (i = 0; i < 1000 && dlh_alive(&dmn); i++)
		usleep(10000);
	if (i == 1000)
		dlh_dump_stderr(&dmn);
	fprintf(stderr, "%s\n", what);
	CU_FAIL_FATAL("daxleased failed");
}

/* A new client, or the case fails with the daemon's stderr shown. */
static int new_client(void)
{
	int e = dlh_connect(dmn.socket);

	if (e < 0 || dlh_raw_hello(e, NULL) != 1)
		daemon_failed("daxleased does not answer a new client");
	return e;
}

/* The daemon still serves a new client: STATUS, and the file reads. */
static void daemon_serves(const char *name, uint64_t want_size)
{
	struct dl_status_rep st;
	int e = new_client();

	CU_ASSERT_EQUAL(dlh_raw_call(e, DL_OP_STATUS, NULL, 0, &st,
				     sizeof(st), NULL), 0);
	CU_ASSERT_EQUAL(st.pid, (uint64_t)dmn.pid);
	CU_ASSERT_EQUAL(file_size(e, name), want_size);
	close(e);
}

/* A fresh daemon; C and D say HELLO and open name, which C fills. */
static void two_clients_on(const char *name, int *c, uint64_t *fc, int *d,
			   uint64_t *fd)
{
	CU_ASSERT_FATAL(start() == 0);
	*c = hello_client();
	*d = hello_client();
	*fc = open_file(*c, name);
	fill_file(*c, *fc);
	*fd = open_file(*d, name);
}

/*
 * C holds a lease and shuts down reading, so the break event of its own
 * TRUNCATE fails with EPIPE and C is dropped in dl_layout_begin; D holds
 * a lease too, so the truncate would wait for D.  It must not: its
 * client is gone, so it is cancelled with it (the file keeps its size),
 * and D's revocation finds nothing of C's to run.
 */
static void layout_change_by_dropped_client(uint16_t opcode, const void *req,
					    size_t len, const char *name)
{
	union {
		uint64_t fh;	/* the first field of both requests */
		struct dl_truncate_req t;
		struct dl_fallocate_req f;
	} rq;
	int c, d;
	uint64_t fc, fd, lease_d;

	CU_ASSERT_FATAL(len <= sizeof(rq));
	two_clients_on(name, &c, &fc, &d, &fd);
	(void)lease(c, fc, 0);
	/* long enough that the change is suspended before it is revoked */
	lease_d = lease(d, fd, 200);
	CU_ASSERT_EQUAL_FATAL(shutdown(c, SHUT_RD), 0);
	memcpy(&rq, req, len);
	rq.fh = fc;
	send_only(c, opcode, &rq, len);
	expect_break_then_revoke(d, lease_d);
	CU_ASSERT_TRUE(dlh_alive(&dmn));
	daemon_serves(name, FILE_SIZE);
	/* and nothing of C's still waits */
	CU_ASSERT_EQUAL(blocked_count(d), 0);
	close(c);
	close(d);
	CU_ASSERT_EQUAL(dlh_stop(&dmn), 0);
}

static void test_truncate_of_dropped_client(void)
{
	struct dl_truncate_req t = { .size = 0 };

	layout_change_by_dropped_client(DL_OP_TRUNCATE, &t, sizeof(t), "row1");
}

static void test_punch_of_dropped_client(void)
{
	struct dl_fallocate_req f = {
		.mode = 0x01 | 0x02,	/* FALLOC_FL_KEEP_SIZE | PUNCH_HOLE */
		.offset = 0, .length = FILE_SIZE,
	};

	layout_change_by_dropped_client(DL_OP_FALLOCATE, &f, sizeof(f),
					"punch");
}

/*
 * C alone: its break fails, C is dropped, and nothing is left to wait
 * for, so the handler goes on with the change (using the handle it
 * looked up before the drop).  The file may be truncated or not - C
 * cannot know - but the daemon must go on, and the namespace must be
 * consistent.
 */
static void test_dropped_client_goes_on(void)
{
	struct dl_truncate_req t = { .size = 4096 };
	struct dl_status_rep st;
	int c, e;
	uint64_t fc, size;

	CU_ASSERT_FATAL(start() == 0);
	c = hello_client();
	fc = open_file(c, "alone");
	fill_file(c, fc);
	(void)lease(c, fc, 0);
	CU_ASSERT_EQUAL_FATAL(shutdown(c, SHUT_RD), 0);
	t.fh = fc;
	send_only(c, DL_OP_TRUNCATE, &t, sizeof(t));
	/* a round trip on another connection comes after C's request */
	e = new_client();
	CU_ASSERT_EQUAL(dlh_raw_call(e, DL_OP_STATUS, NULL, 0, &st,
				     sizeof(st), NULL), 0);
	size = file_size(e, "alone");
	CU_ASSERT_TRUE(size == 4096 || size == FILE_SIZE);
	CU_ASSERT_TRUE(dlh_alive(&dmn));
	close(c);
	close(e);
	CU_ASSERT_EQUAL(dlh_stop(&dmn), 0);
}

/*
 * C's truncate of name to 0 waits for D's socket pin: the start of the
 * cases below.  Then C disconnects, or shuts down reading, and D unpins.
 */
static void truncate_waits_for_pin(const char *name, bool disconnect)
{
	struct dl_truncate_req t = { .size = 0 };
	struct dl_unpin_req u;
	int c, d;
	uint64_t fc, fd;

	two_clients_on(name, &c, &fc, &d, &fd);
	(void)lease(d, fd, 0);
	u.pin_id = pin(d, fd);
	t.fh = fc;
	send_only(c, DL_OP_TRUNCATE, &t, sizeof(t));
	wait_blocked(d, 1);
	if (disconnect) {
		close(c);
		/* the daemon has seen it go before the pin does */
		wait_blocked(d, 0);
	} else {
		CU_ASSERT_EQUAL_FATAL(shutdown(c, SHUT_RD), 0);
	}
	CU_ASSERT_EQUAL(dlh_raw_call(d, DL_OP_UNPIN, &u, sizeof(u), NULL, 0,
				     NULL), 0);
	wait_blocked(d, 0);
	if (!disconnect)
		close(c);
	close(d);
}

/*
 * Disconnects in the middle of a wait: C closes its socket while its
 * truncate waits for a pin.  C's request goes with C: after the unpin,
 * the file keeps its size, and the wait queue is empty.
 */
static void test_disconnect_while_waiting(void)
{
	truncate_waits_for_pin("waits", true);
	daemon_serves("waits", FILE_SIZE);
	CU_ASSERT_EQUAL(dlh_stop(&dmn), 0);
}

/*
 * C shuts down reading while its truncate waits for a pin, so the reply
 * of the replayed request - when the pin goes - fails to go out and
 * drops C in the middle of its replay.  It ran (its reply is what
 * failed): the file is truncated.
 */
static void test_reply_of_replay_fails(void)
{
	truncate_waits_for_pin("replay", false);
	daemon_serves("replay", 0);
	CU_ASSERT_EQUAL(dlh_stop(&dmn), 0);
}

static CU_TestInfo tests[] = {
	{ "truncate of a client dropped by its own break",
	  test_truncate_of_dropped_client },
	{ "punch of a client dropped by its own break",
	  test_punch_of_dropped_client },
	{ "a dropped client's change with no one to wait for",
	  test_dropped_client_goes_on },
	{ "disconnect while its truncate waits for a pin",
	  test_disconnect_while_waiting },
	{ "the reply of a replayed request drops its client",
	  test_reply_of_replay_fails },
	CU_TEST_INFO_NULL,
};

static int suite_clean(void)
{
	dlh_kill(&dmn);
	return 0;
}

static CU_SuiteInfo suites[] = {
	{ "dropped_client", NULL, suite_clean, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	if (dlh_prepare())
		return DL_TEST_SKIP;
	return dl_cunit_main(suites);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_bad_input.c - daxleased against messages libdaxlease never sends.
 *
 * One daemon for the whole run and one well-behaved raw client that did
 * HELLO; every case opens a fresh "bad" connection, sends something
 * malformed, checks the answer (an error reply with the right errno, or
 * a disconnect of that client only for what cannot be framed), and then
 * checks that the well-behaved client still gets answers.  At the end the
 * daemon must still be running, exit 0 on SIGTERM and leave a clean
 * namespace.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cunit_run.h"
#include "harness.h"

static struct dlh_daemon daemon_;
static int good = -1;		/* the well-behaved client */

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int suite_init(void)
{
	if (dlh_start(&daemon_, NULL))
		return -1;
	good = dlh_connect(daemon_.socket);
	if (good < 0 || dlh_raw_hello(good, NULL) != 1) {
		fprintf(stderr, "the good client could not say HELLO\n");
		return -1;
	}
	return 0;
}

static int suite_clean(void)
{
	if (good >= 0)
		close(good);
	dlh_kill(&daemon_);
	return 0;
}

/* The well-behaved client still gets a STATUS answer. */
static void good_client_works(void)
{
	struct dl_status_rep st;

	CU_ASSERT_EQUAL(dlh_raw_call(good, DL_OP_STATUS, NULL, 0, &st,
				     sizeof(st), NULL), 0);
	CU_ASSERT_EQUAL(st.pid, (uint64_t)daemon_.pid);
	CU_ASSERT_TRUE(dlh_alive(&daemon_));
}

static uint32_t status_clients(void)
{
	struct dl_status_rep st;

	CU_ASSERT_EQUAL_FATAL(dlh_raw_call(good, DL_OP_STATUS, NULL, 0, &st,
					   sizeof(st), NULL), 0);
	return st.clients;
}


/*
 * Wait (bounded) until the daemon counts exactly `want` clients: the
 * connections earlier cases closed go away in the daemon's own time, and
 * a baseline must not include them.
 */
static void settle(uint32_t want)
{
	uint32_t now = 0;

	for (int i = 0; i < 1000; i++) {
		now = status_clients();
		if (now == want)
			return;
		sleep_ms(10);
	}
	fprintf(stderr, "daemon counts %u clients, want %u\n", now, want);
	CU_FAIL_FATAL("clients did not settle");
}

static int hello_client(void)
{
	int s = dlh_connect(daemon_.socket);

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
	CU_ASSERT_NOT_EQUAL(rep.fh, 0);
	return rep.fh;
}

/* ---- framing errors: disconnect that client only ------------------------ */

static void test_short_message(void)
{
	char junk[10] = { 0x50, 0x41, 0x4c, 0x44 };
	int s = dlh_connect(daemon_.socket);

	CU_ASSERT_FATAL(s >= 0);
	CU_ASSERT_EQUAL(dlh_raw_send_bytes(s, junk, sizeof(junk)), 0);
	CU_ASSERT_TRUE(dlh_peer_closed(s));
	close(s);
	good_client_works();

	/* the same after HELLO */
	s = hello_client();
	CU_ASSERT_EQUAL(dlh_raw_send_bytes(s, junk, 1), 0);
	CU_ASSERT_TRUE(dlh_peer_closed(s));
	close(s);
	good_client_works();
}

static void test_oversized_message(void)
{
	size_t len = DL_PROTO_MAX_MSG + 1;
	char *buf = calloc(1, len);
	struct dl_msg_hdr h = {
		.magic = DL_PROTO_MAGIC, .version = 1, .opcode = DL_OP_WRITE,
		.length = (uint32_t)(len - sizeof(h)), .request_id = 7,
	};
	int s = hello_client();
	int bufsz = (int)len * 4;

	CU_ASSERT_FATAL(buf != NULL);
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	memcpy(buf, &h, sizeof(h));
	CU_ASSERT_EQUAL(dlh_raw_send_bytes(s, buf, len), 0);
	CU_ASSERT_TRUE(dlh_peer_closed(s));
	close(s);
	free(buf);
	good_client_works();
}

static void test_bad_magic(void)
{
	struct dl_hello_req req = { .min_version = 1, .max_version = 1 };
	struct dl_msg_hdr h = {
		.magic = 0x12345678, .opcode = DL_OP_HELLO,
		.length = sizeof(req), .request_id = 1,
	};
	char buf[sizeof(h) + sizeof(req)];
	int s = dlh_connect(daemon_.socket);

	CU_ASSERT_FATAL(s >= 0);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), &req, sizeof(req));
	CU_ASSERT_EQUAL(dlh_raw_send_bytes(s, buf, sizeof(buf)), 0);
	CU_ASSERT_TRUE(dlh_peer_closed(s));
	close(s);
	good_client_works();
}

/* A header whose length disagrees with the packet it came in. */
static void test_length_field_lies(void)
{
	struct dl_msg_hdr h = {
		.magic = DL_PROTO_MAGIC, .version = 1, .opcode = DL_OP_STATUS,
		.length = 100, .request_id = 5,
	};
	int s = hello_client();
	struct dl_msg_hdr rh;
	ssize_t n;

	CU_ASSERT_EQUAL(dlh_raw_send_bytes(s, &h, sizeof(h)), 0);
	/* either an error reply or a disconnect; never a success */
	n = dlh_raw_recv(s, &rh, NULL, 0, NULL, NULL);
	if (n >= 0) {
		CU_ASSERT_TRUE(rh.status < 0);
	} else {
		CU_ASSERT_EQUAL(n, -2);
	}
	close(s);
	good_client_works();
}

/* ---- protocol errors: an error reply ------------------------------------ */

static void test_request_before_hello(void)
{
	struct dl_status_rep st;
	int s = dlh_connect(daemon_.socket);

	CU_ASSERT_FATAL(s >= 0);
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_STATUS, NULL, 0, &st,
				     sizeof(st), NULL), -EPROTO);
	close(s);
	good_client_works();
}

static void test_hello_no_common_version(void)
{
	struct dl_hello_req req = { .min_version = 7, .max_version = 9 };
	struct dl_msg_hdr h;
	int s = dlh_connect(daemon_.socket);
	ssize_t n;

	CU_ASSERT_FATAL(s >= 0);
	CU_ASSERT_EQUAL(dlh_raw_send(s, 0, DL_OP_HELLO, 3, &req, sizeof(req),
				     NULL, 0), 0);
	n = dlh_raw_recv(s, &h, NULL, 0, NULL, NULL);
	CU_ASSERT_TRUE(n >= 0);
	if (n >= 0)
		CU_ASSERT_EQUAL(h.status, -EPROTONOSUPPORT);
	close(s);

	/* min > max */
	s = dlh_connect(daemon_.socket);
	CU_ASSERT_FATAL(s >= 0);
	req.min_version = 1;
	req.max_version = 0;
	CU_ASSERT_EQUAL(dlh_raw_send(s, 0, DL_OP_HELLO, 3, &req, sizeof(req),
				     NULL, 0), 0);
	n = dlh_raw_recv(s, &h, NULL, 0, NULL, NULL);
	CU_ASSERT_TRUE(n >= 0);
	if (n >= 0)
		CU_ASSERT_TRUE(h.status < 0);
	close(s);
	good_client_works();
}

static void test_wrong_version_after_hello(void)
{
	int s = hello_client();
	struct dl_msg_hdr h;
	ssize_t n;

	CU_ASSERT_EQUAL(dlh_raw_send(s, 2, DL_OP_STATUS, 9, NULL, 0, NULL, 0),
			0);
	n = dlh_raw_recv(s, &h, NULL, 0, NULL, NULL);
	CU_ASSERT_TRUE(n >= 0);
	if (n >= 0) {
		CU_ASSERT_EQUAL(h.request_id, 9);
		CU_ASSERT_EQUAL(h.status, -EPROTO);
	}
	/* a second HELLO is not a way to change it either */
	CU_ASSERT_EQUAL(dlh_raw_hello(s, NULL), -EPROTO);
	/* request id 0 is the events' */
	{
		struct dl_msg_hdr h0;

		CU_ASSERT_EQUAL(dlh_raw_send(s, 1, DL_OP_STATUS, 0, NULL, 0,
					     NULL, 0), 0);
		n = dlh_raw_recv(s, &h0, NULL, 0, NULL, NULL);
		CU_ASSERT_TRUE(n >= 0);
		if (n >= 0)
			CU_ASSERT_EQUAL(h0.status, -EINVAL);
	}
	close(s);
	good_client_works();
}

static void test_unknown_opcode(void)
{
	int s = hello_client();
	char payload[16] = { 0 };

	CU_ASSERT_EQUAL(dlh_raw_call(s, 999, NULL, 0, NULL, 0, NULL), -ENOSYS);
	CU_ASSERT_EQUAL(dlh_raw_call(s, 0, payload, sizeof(payload), NULL, 0,
				     NULL), -ENOSYS);
	/* events are the service's to send */
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_EV_LEASE_BREAK, NULL, 0, NULL, 0,
				     NULL), -ENOSYS);
	/* the connection is still usable */
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_STATUS, NULL, 0, NULL, 0, NULL),
			0);
	close(s);
	good_client_works();
}

static void test_payload_length_mismatch(void)
{
	static const struct {
		uint16_t op;
		size_t len;
	} cases[] = {
		{ DL_OP_OPEN, sizeof(struct dl_open_req) - 1 },
		{ DL_OP_OPEN, sizeof(struct dl_open_req) + 8 },
		{ DL_OP_CLOSE, 0 },
		{ DL_OP_STAT, 8 },
		{ DL_OP_LIST, 4 },
		{ DL_OP_UNLINK, 255 },
		{ DL_OP_RENAME, sizeof(struct dl_rename_req) - 256 },
		{ DL_OP_READ, sizeof(struct dl_rw_req) - 1 },
		{ DL_OP_WRITE, 4 },
		{ DL_OP_TRUNCATE, 8 },
		{ DL_OP_FALLOCATE, sizeof(struct dl_fallocate_req) + 1 },
		{ DL_OP_SETATTR, 3 },
		{ DL_OP_MAP, sizeof(struct dl_map_req) - 4 },
		{ DL_OP_UNMAP, 0 },
		{ DL_OP_HELLO, 2 },
	};
	char payload[2048] = { 0 };
	int s = hello_client();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = dlh_raw_call(s, cases[i].op, payload, cases[i].len,
				      NULL, 0, NULL);

		if (rc >= 0 || rc == DLH_NO_REPLY)
			fprintf(stderr, "opcode %u with %zu payload bytes: "
				"%d\n", cases[i].op, cases[i].len, rc);
		CU_ASSERT_TRUE(rc < 0 && rc != DLH_NO_REPLY);
	}
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_STATUS, NULL, 0, NULL, 0, NULL),
			0);
	close(s);
	good_client_works();
}

static int errno_in(int rc, int a, int b)
{
	if (rc == a || rc == b)
		return 1;
	fprintf(stderr, "got %d (%s), want %d or %d\n", rc,
		rc < 0 && rc != DLH_NO_REPLY ? strerror(-rc) : "-", a, b);
	return 0;
}

static int rw_call(int s, uint16_t op, uint64_t fh, uint32_t niov,
		   const struct dl_wire_iov *iov, size_t iovbytes,
		   const void *data, size_t datalen)
{
	size_t len = sizeof(struct dl_rw_req) + iovbytes + datalen;
	char *buf = malloc(len);
	struct dl_rw_req req = { .fh = fh, .niov = niov };
	static char rep[DL_PROTO_MAX_MSG];
	int rc;

	CU_ASSERT_FATAL(buf != NULL);
	memcpy(buf, &req, sizeof(req));
	if (iovbytes)
		memcpy(buf + sizeof(req), iov, iovbytes);
	if (datalen)
		memcpy(buf + sizeof(req) + iovbytes, data, datalen);
	rc = dlh_raw_call(s, op, buf, len, rep, sizeof(rep), NULL);
	free(buf);
	return rc;
}

static void test_niov_bounds(void)
{
	struct dl_wire_iov *iov = calloc(DL_PROTO_MAX_IOV + 1, sizeof(*iov));
	int s = hello_client();
	uint64_t fh = open_file(s, "niov");
	char data[DL_PROTO_MAX_IOV + 1];

	CU_ASSERT_FATAL(iov != NULL);
	memset(data, 'x', sizeof(data));
	for (int i = 0; i <= DL_PROTO_MAX_IOV; i++) {
		iov[i].offset = (uint64_t)i;
		iov[i].len = 1;
	}
	CU_ASSERT_EQUAL(rw_call(s, DL_OP_READ, fh, 0, NULL, 0, NULL, 0),
			-EINVAL);
	CU_ASSERT_EQUAL(rw_call(s, DL_OP_WRITE, fh, 0, NULL, 0, NULL, 0),
			-EINVAL);
	CU_ASSERT_EQUAL(rw_call(s, DL_OP_READ, fh, DL_PROTO_MAX_IOV + 1, iov,
				(DL_PROTO_MAX_IOV + 1) * sizeof(*iov), NULL, 0),
			-EINVAL);
	CU_ASSERT_EQUAL(rw_call(s, DL_OP_WRITE, fh, DL_PROTO_MAX_IOV + 1, iov,
				(DL_PROTO_MAX_IOV + 1) * sizeof(*iov), data,
				DL_PROTO_MAX_IOV + 1), -EINVAL);
	/* niov says more than the payload holds */
	CU_ASSERT_EQUAL(rw_call(s, DL_OP_READ, fh, 4, iov, 2 * sizeof(*iov),
				NULL, 0), -EINVAL);
	/* 1024 is the limit, not beyond it: accepted */
	CU_ASSERT_EQUAL(rw_call(s, DL_OP_WRITE, fh, DL_PROTO_MAX_IOV, iov,
				DL_PROTO_MAX_IOV * sizeof(*iov), data,
				DL_PROTO_MAX_IOV), 0);
	/* nothing of the refused 1025-iovec write was applied */
	{
		struct dl_stat_req sr = { .fh = fh };
		struct dl_wire_stat st;

		CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_STAT, &sr, sizeof(sr),
					     &st, sizeof(st), NULL), 0);
		CU_ASSERT_EQUAL(st.size, DL_PROTO_MAX_IOV);
	}
	/* data lengths adding up to more than the data limit */
	iov[0].offset = 0;
	iov[0].len = DL_PROTO_MAX_DATA + 1;
	CU_ASSERT_EQUAL(rw_call(s, DL_OP_READ, fh, 1, iov, sizeof(*iov), NULL,
				0), -E2BIG);
	/* a write whose data is shorter than its iovecs say */
	iov[0].len = 100;
	CU_ASSERT_EQUAL(rw_call(s, DL_OP_WRITE, fh, 1, iov, sizeof(*iov), data,
				50), -EINVAL);
	free(iov);
	close(s);
	good_client_works();
}

static void test_offset_overflow(void)
{
	int s = hello_client();
	uint64_t fh = open_file(s, "overflow");
	struct dl_wire_iov iov = { .offset = UINT64_MAX - 10, .len = 4096 };
	char data[4096] = { 1 };
	struct dl_fallocate_req fa = {
		.fh = fh, .offset = UINT64_MAX - 4095, .length = 8192,
	};
	struct dl_map_req mr = {
		.fh = fh, .offset = UINT64_MAX & ~4095ULL, .length = 8192,
		.prot = DL_MAP_PROT_READ,
	};
	struct dl_truncate_req tr = { .fh = fh, .size = UINT64_MAX };
	struct dl_stat_req sr = { .fh = fh };
	struct dl_wire_stat st;

	CU_ASSERT_TRUE(errno_in(rw_call(s, DL_OP_WRITE, fh, 1, &iov,
					sizeof(iov), data, sizeof(data)),
				-EINVAL, -EFBIG));
	CU_ASSERT_TRUE(errno_in(rw_call(s, DL_OP_READ, fh, 1, &iov,
					sizeof(iov), NULL, 0),
				-EINVAL, -EFBIG));
	CU_ASSERT_TRUE(errno_in(dlh_raw_call(s, DL_OP_FALLOCATE, &fa,
					     sizeof(fa), NULL, 0, NULL),
				-EINVAL, -EFBIG));
	fa.offset = 4096;
	fa.length = UINT64_MAX - 100;
	CU_ASSERT_TRUE(errno_in(dlh_raw_call(s, DL_OP_FALLOCATE, &fa,
					     sizeof(fa), NULL, 0, NULL),
				-EINVAL, -EFBIG));
	CU_ASSERT_TRUE(errno_in(dlh_raw_call(s, DL_OP_MAP, &mr, sizeof(mr),
					     NULL, 0, NULL),
				-EINVAL, -EOVERFLOW));
	CU_ASSERT_TRUE(errno_in(dlh_raw_call(s, DL_OP_TRUNCATE, &tr,
					     sizeof(tr), NULL, 0, NULL),
				-EINVAL, -EFBIG));
	/* the file did not change */
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_STAT, &sr, sizeof(sr), &st,
				     sizeof(st), NULL), 0);
	CU_ASSERT_EQUAL(st.size, 0);
	CU_ASSERT_EQUAL(st.blocks, 0);
	close(s);
	good_client_works();
}

static void test_bad_names(void)
{
	struct dl_open_req req = {
		.flags = DL_O_READ | DL_O_WRITE | DL_O_CREATE, .mode = 0644,
	};
	struct dl_rename_req rn = { 0 };
	struct dl_name_req un;
	int s = hello_client();

	strcpy(req.name, "a/b");
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_OPEN, &req, sizeof(req), NULL, 0,
				     NULL), -EINVAL);
	/* docs/protocol.md: no NUL -ENAMETOOLONG, empty -ENOENT, else -EINVAL */
	memset(req.name, 'n', sizeof(req.name));	/* no NUL */
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_OPEN, &req, sizeof(req), NULL, 0,
				     NULL), -ENAMETOOLONG);
	memset(req.name, 0, sizeof(req.name));		/* empty */
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_OPEN, &req, sizeof(req), NULL, 0,
				     NULL), -ENOENT);
	strcpy(req.name, "..");
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_OPEN, &req, sizeof(req), NULL, 0,
				     NULL), -EINVAL);
	strcpy(req.name, ".");
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_OPEN, &req, sizeof(req), NULL, 0,
				     NULL), -EINVAL);
	/* bytes after the NUL: still one name, or refused - never "x/y" */
	memset(req.name, 0, sizeof(req.name));
	strcpy(req.name, "okname");
	strcpy(req.name + 7, "/junk");
	(void)dlh_raw_call(s, DL_OP_OPEN, &req, sizeof(req), NULL, 0, NULL);

	strcpy(rn.from, "okname");
	strcpy(rn.to, "x/y");
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_RENAME, &rn, sizeof(rn), NULL, 0,
				     NULL), -EINVAL);
	memset(rn.to, 'z', sizeof(rn.to));
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_RENAME, &rn, sizeof(rn), NULL, 0,
				     NULL), -ENAMETOOLONG);
	memset(un.name, 'q', sizeof(un.name));
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_UNLINK, &un, sizeof(un), NULL, 0,
				     NULL), -ENAMETOOLONG);
	strcpy(un.name, "/");
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_UNLINK, &un, sizeof(un), NULL, 0,
				     NULL), -EINVAL);
	close(s);
	good_client_works();
}

static void test_bad_handles(void)
{
	int s = hello_client();
	struct dl_fh_req fr = { .fh = 0x7777 };
	struct dl_stat_req sr = { .fh = 0x7777 };
	struct dl_unmap_req ur = { .map_id = 0x7777 };
	struct dl_list_req lr = { .cursor = 0x123456789ULL, .max = 10 };
	uint64_t fh = open_file(s, "handles");

	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_CLOSE, &fr, sizeof(fr), NULL, 0,
				     NULL), -EBADF);
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_STAT, &sr, sizeof(sr), NULL, 0,
				     NULL), -EBADF);
	CU_ASSERT_TRUE(dlh_raw_call(s, DL_OP_UNMAP, &ur, sizeof(ur), NULL, 0,
				    NULL) < 0);
	/* a LIST page size beyond the limit: refused, or clamped to it */
	lr.cursor = 0;
	lr.max = UINT32_MAX;
	{
		static char rep[DL_PROTO_MAX_MSG];
		const struct dl_list_rep *l = (const void *)rep;
		size_t len = 0;
		int rc = dlh_raw_call(s, DL_OP_LIST, &lr, sizeof(lr), rep,
				      sizeof(rep), &len);

		CU_ASSERT_TRUE(rc == -EINVAL || rc == 0);
		if (rc == 0) {
			CU_ASSERT_TRUE(l->count <= DL_PROTO_LIST_MAX);
			CU_ASSERT_EQUAL(len, sizeof(*l) + l->count *
					sizeof(struct dl_wire_stat));
		}
	}
	/* close twice */
	fr.fh = fh;
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_CLOSE, &fr, sizeof(fr), NULL, 0,
				     NULL), 0);
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_CLOSE, &fr, sizeof(fr), NULL, 0,
				     NULL), -EBADF);
	close(s);

	/* a handle is the connection's own: another client cannot use it */
	s = hello_client();
	fh = open_file(s, "handles");
	{
		int t = hello_client();

		fr.fh = fh;
		CU_ASSERT_EQUAL(dlh_raw_call(t, DL_OP_FSYNC, &fr, sizeof(fr),
					     NULL, 0, NULL), -EBADF);
		close(t);
	}
	close(s);
	good_client_works();
}

/* fallocate(mode, 0, 4096) on a 16 KiB kernel file: 0 or -errno. */
static int kernel_fallocate(uint32_t mode)
{
	static char zero[16384];
	int fd = open(dl_test_path("kernel.falloc"), O_RDWR | O_CREAT |
		      O_TRUNC, 0644);
	int rc;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(pwrite(fd, zero, sizeof(zero), 0) ==
			(ssize_t)sizeof(zero));
	rc = fallocate(fd, (int)mode, 0, 4096) ? -errno : 0;
	close(fd);
	return rc;
}

/* Fields the decoder passes on, that only the handlers can refuse. */
static void test_deep_values(void)
{
	struct dl_hello_req hello = { .min_version = 1, .max_version = 1 };
	struct dl_list_req lr = { .cursor = UINT64_MAX - 1, .max = 5 };
	struct dl_unmap_req ur = { .map_id = 1 };
	struct dl_truncate_req tr = { .size = INT64_MAX };
	struct dl_wire_iov iov = { .offset = 1ULL << 60, .len = 8 };
	struct dl_fallocate_req fa = {
		.mode = 0x1 | 0x8, .offset = 0, .length = 4096,
	};
	static char rep[DL_PROTO_MAX_MSG];
	const struct dl_list_rep *l = (const void *)rep;
	struct dl_msg_hdr h;
	size_t len = 0;
	int s, rc;

	/* a client name that fills its field, no NUL: logged safely */
	memset(hello.client_name, 'A', sizeof(hello.client_name));
	s = dlh_connect(daemon_.socket);
	CU_ASSERT_FATAL(s >= 0);
	CU_ASSERT_EQUAL(dlh_raw_send(s, 0, DL_OP_HELLO, 1, &hello,
				     sizeof(hello), NULL, 0), 0);
	CU_ASSERT_TRUE(dlh_raw_recv(s, &h, NULL, 0, NULL, NULL) >= 0);
	CU_ASSERT_EQUAL(h.status, 0);
	tr.fh = fa.fh = open_file(s, "deep");

	/* a cursor from nowhere: an empty last page, or refused */
	rc = dlh_raw_call(s, DL_OP_LIST, &lr, sizeof(lr), rep, sizeof(rep),
			  &len);
	CU_ASSERT_TRUE(rc == 0 || rc == -EINVAL);
	if (rc == 0) {
		CU_ASSERT_EQUAL(l->count, 0);
		CU_ASSERT_EQUAL(l->next_cursor, 0);
	}
	/* another client's mapping id, or none at all */
	rc = dlh_raw_call(s, DL_OP_UNMAP, &ur, sizeof(ur), NULL, 0, NULL);
	CU_ASSERT_TRUE(rc < 0 && rc != DLH_NO_REPLY);
	/* beyond the largest file (2^56): EFBIG, as Linux */
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_TRUNCATE, &tr, sizeof(tr), NULL,
				     0, NULL), -EFBIG);
	CU_ASSERT_EQUAL(rw_call(s, DL_OP_WRITE, tr.fh, 1, &iov, sizeof(iov),
				"12345678", 8), -EFBIG);
	/* reading there is reading past EOF: nothing */
	{
		struct dl_rw_rep *rr = (void *)rep;
		struct dl_rw_req rq = { .fh = tr.fh, .niov = 1 };
		char msg[sizeof(rq) + sizeof(iov)];

		memcpy(msg, &rq, sizeof(rq));
		memcpy(msg + sizeof(rq), &iov, sizeof(iov));
		CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_READ, msg, sizeof(msg),
					     rep, sizeof(rep), &len), 0);
		CU_ASSERT_EQUAL(rr->bytes, 0);
		CU_ASSERT_EQUAL(len, sizeof(*rr));
	}
	/* modes Linux refuses, with the running kernel's errno (it changed
	 * between versions: KEEP_SIZE|COLLAPSE was EINVAL, now EOPNOTSUPP) */
	{
		static const uint32_t modes[] = {
			0x1 | 0x8, 0x1 | 0x20, 0x2 | 0x10, 0x2 | 0x8,
			0x8 | 0x20, 0x80, 0x4000,
		};

		for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
			int want = kernel_fallocate(modes[i]);

			fa.mode = modes[i];
			rc = dlh_raw_call(s, DL_OP_FALLOCATE, &fa, sizeof(fa),
					  NULL, 0, NULL);
			if (rc != want)
				fprintf(stderr, "fallocate mode %#x: %d, "
					"Linux %d\n", modes[i], rc, want);
			CU_ASSERT_EQUAL(rc, want);
		}
	}
	close(s);
	good_client_works();
}

/* ---- resources ------------------------------------------------------------- */

static void test_fds_attached(void)
{
	int s = hello_client();
	int before, after, p[2];

	CU_ASSERT_FATAL(pipe(p) == 0);
	settle(2);		/* the good client and s */
	before = dlh_count_fds(daemon_.pid);
	CU_ASSERT_FATAL(before > 0);
	for (int i = 0; i < 50; i++) {
		struct dl_msg_hdr h;
		int fds[3] = { p[0], p[1], p[0] };
		uint16_t op = i % 2 ? DL_OP_STATUS : 999;
		ssize_t n;

		CU_ASSERT_EQUAL(dlh_raw_send(s, 1, op, 100 + (uint64_t)i, NULL,
					     0, fds, 3), 0);
		n = dlh_raw_recv(s, &h, NULL, 0, NULL, NULL);
		CU_ASSERT_TRUE_FATAL(n >= 0);
		CU_ASSERT_EQUAL(h.request_id, 100 + (uint64_t)i);
		if (op == 999)
			CU_ASSERT_EQUAL(h.status, -ENOSYS);
	}
	/* also on a message the daemon refuses to frame */
	{
		int t = dlh_connect(daemon_.socket);
		int fds[2] = { p[0], p[1] };
		struct dl_msg_hdr h = { .magic = 1 };

		CU_ASSERT_FATAL(t >= 0);
		CU_ASSERT_EQUAL(dlh_raw_send(t, 0, DL_OP_HELLO, 1, &h,
					     sizeof(h), fds, 2), 0);
		close(t);
	}
	/* every request above was answered, so the fds were received */
	CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_STATUS, NULL, 0, NULL, 0, NULL),
			0);
	/* the refused connection goes away in its own time: bounded wait */
	for (int i = 0; i < 1000; i++) {
		after = dlh_count_fds(daemon_.pid);
		if (after <= before)
			break;
		sleep_ms(10);
	}
	if (after != before)
		fprintf(stderr, "daemon fds: %d before, %d after\n", before,
			after);
	CU_ASSERT_EQUAL(after, before);
	close(p[0]);
	close(p[1]);
	close(s);
	good_client_works();
}

/* A client streaming requests, killed without a goodbye. */
static void streaming_child(const char *sock, int ready)
{
	static char buf[sizeof(struct dl_rw_req) + sizeof(struct dl_wire_iov) +
			32768];
	struct dl_rw_req *rq = (struct dl_rw_req *)buf;
	struct dl_wire_iov *iov = (struct dl_wire_iov *)(rq + 1);
	struct dl_open_req oreq = {
		.flags = DL_O_READ | DL_O_WRITE | DL_O_CREATE, .mode = 0644,
	};
	struct dl_open_rep orep;
	int s = dlh_connect(sock);
	char one = 1;

	if (s < 0 || dlh_raw_hello(s, NULL) != 1)
		_exit(2);
	snprintf(oreq.name, sizeof(oreq.name), "killed-%d", (int)getpid());
	if (dlh_raw_call(s, DL_OP_OPEN, &oreq, sizeof(oreq), &orep,
			 sizeof(orep), NULL))
		_exit(3);
	rq->fh = orep.fh;
	rq->niov = 1;
	iov->len = 32768;
	/* many requests in flight, replies never read */
	for (uint64_t i = 1;; i++) {
		iov->offset = (i % 64) * 32768;
		if (dlh_raw_send(s, 1, DL_OP_WRITE, i, buf, sizeof(buf), NULL,
				 0))
			_exit(4);
		if (i == 16 && write(ready, &one, 1) != 1)
			_exit(5);
	}
}

static void test_client_killed_midstream(void)
{
	int base_clients, base_fds;
	int p[2], now_clients = -1, now_fds = -1;
	pid_t pid;
	char c;

	settle(1);
	base_clients = (int)status_clients();
	/* a closed connection's last fds go after the batch of events its
	 * end came in (conn.c): a baseline that held still over a round
	 * trip has none of them */
	for (int i = 0, prev = -1; i < 100; i++) {
		base_fds = dlh_count_fds(daemon_.pid);
		if (base_fds == prev)
			break;
		prev = base_fds;
		good_client_works();
		sleep_ms(10);
	}

	CU_ASSERT_FATAL(pipe(p) == 0);
	for (int round = 0; round < 3; round++) {
		fflush(NULL);
		pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			streaming_child(daemon_.socket, p[1]);
		}
		CU_ASSERT_EQUAL_FATAL(read(p[0], &c, 1), 1);
		/* the child is connected and mid-stream */
		CU_ASSERT_TRUE(status_clients() > (uint32_t)base_clients);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		good_client_works();
	}
	close(p[0]);
	close(p[1]);
	/* the daemon sees the hangups in its own time: bounded wait for the
	 * baseline, then assert it */
	for (int i = 0; i < 1000; i++) {
		now_clients = (int)status_clients();
		now_fds = dlh_count_fds(daemon_.pid);
		if (now_clients == base_clients && now_fds == base_fds)
			break;
		sleep_ms(10);
	}
	if (now_clients != base_clients || now_fds != base_fds)
		fprintf(stderr, "clients %d (baseline %d), daemon fds %d "
			"(baseline %d)\n", now_clients, base_clients, now_fds,
			base_fds);
	CU_ASSERT_EQUAL(now_clients, base_clients);
	CU_ASSERT_EQUAL(now_fds, base_fds);
}

/* Many connections that say nothing, then vanish. */
static void test_idle_connections(void)
{
	int base_fds, now = -1;
	int s[64];

	settle(1);
	base_fds = dlh_count_fds(daemon_.pid);

	for (int i = 0; i < 64; i++) {
		s[i] = dlh_connect(daemon_.socket);
		CU_ASSERT_FATAL(s[i] >= 0);
	}
	good_client_works();
	for (int i = 0; i < 64; i++)
		close(s[i]);
	for (int i = 0; i < 1000; i++) {
		now = dlh_count_fds(daemon_.pid);
		if (now == base_fds)
			break;
		sleep_ms(10);
	}
	CU_ASSERT_EQUAL(now, base_fds);
	good_client_works();
}

/* Pipelined requests: every one answered, in request order. */
static void test_pipelined(void)
{
	int s = hello_client();
	uint64_t fh = open_file(s, "pipelined");
	struct dl_stat_req sr = { .fh = fh };
	struct dl_msg_hdr h;

	for (uint64_t i = 1; i <= 100; i++) {
		uint16_t op = i % 3 == 0 ? 999 : DL_OP_STAT;

		CU_ASSERT_EQUAL_FATAL(dlh_raw_send(s, 1, op, 5000 + i, &sr,
						   sizeof(sr), NULL, 0), 0);
	}
	for (uint64_t i = 1; i <= 100; i++) {
		CU_ASSERT_TRUE_FATAL(dlh_raw_recv(s, &h, NULL, 0, NULL,
						  NULL) >= 0);
		CU_ASSERT_EQUAL(h.request_id, 5000 + i);
		CU_ASSERT_TRUE(h.flags & DL_MSG_REPLY);
		CU_ASSERT_EQUAL(h.status, i % 3 == 0 ? -ENOSYS : 0);
	}
	close(s);
	good_client_works();
}

/*
 * A client that asks and never reads its replies: the service stops
 * reading from it (or drops it), and meanwhile everyone else is served -
 * the loop never blocks on one client.
 */
static void test_client_that_never_reads(void)
{
	static char req[sizeof(struct dl_rw_req) + sizeof(struct dl_wire_iov)];
	struct dl_rw_req *rq = (struct dl_rw_req *)req;
	struct dl_wire_iov *iov = (struct dl_wire_iov *)(rq + 1);
	static char data[DL_PROTO_MAX_DATA];
	int s = hello_client();
	uint64_t fh = open_file(s, "never-reads");
	int sent = 0;

	/* 64 KiB of data to read back, many times over */
	{
		static char wbuf[sizeof(req) + DL_PROTO_MAX_DATA];

		memset(data, 'd', sizeof(data));
		rq->fh = fh;
		rq->niov = 1;
		iov->len = DL_PROTO_MAX_DATA;
		memcpy(wbuf, req, sizeof(req));
		memcpy(wbuf + sizeof(req), data, sizeof(data));
		CU_ASSERT_EQUAL(dlh_raw_call(s, DL_OP_WRITE, wbuf,
					     sizeof(wbuf), NULL, 0, NULL), 0);
	}
	/* send until the socket pushes back (bounded) */
	for (int i = 0; i < 100000; i++) {
		struct dl_msg_hdr h = {
			.magic = DL_PROTO_MAGIC, .version = 1,
			.opcode = DL_OP_READ, .length = sizeof(req),
			.request_id = 1 + (uint64_t)i,
		};
		char msg[sizeof(h) + sizeof(req)];

		memcpy(msg, &h, sizeof(h));
		memcpy(msg + sizeof(h), req, sizeof(req));
		if (send(s, msg, sizeof(msg), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
		sent++;
	}
	CU_ASSERT_TRUE(sent > 16);
	/* the stuck client does not hold up the others */
	for (int i = 0; i < 20; i++)
		good_client_works();
	{
		int t = hello_client();

		CU_ASSERT_EQUAL(dlh_raw_call(t, DL_OP_STATUS, NULL, 0, NULL, 0,
					     NULL), 0);
		close(t);
	}
	close(s);
	good_client_works();
	/* the stuck client, replies still queued, is dropped once it goes */
	settle(1);
}

/* ---- a storm of mutated requests ------------------------------------------- */

static uint64_t storm_rng;

static uint64_t srnd(void)
{
	storm_rng ^= storm_rng >> 12;
	storm_rng ^= storm_rng << 25;
	storm_rng ^= storm_rng >> 27;
	return storm_rng * 0x2545F4914F6CDD1DULL;
}

/* A valid request of a random opcode into buf; returns its length. */
static size_t storm_seed(uint8_t *buf, uint16_t *op, uint64_t fh)
{
	static const uint16_t ops[] = {
		DL_OP_STATUS, DL_OP_OPEN, DL_OP_CLOSE, DL_OP_STAT, DL_OP_LIST,
		DL_OP_UNLINK, DL_OP_RENAME, DL_OP_READ, DL_OP_WRITE,
		DL_OP_FSYNC, DL_OP_TRUNCATE, DL_OP_FALLOCATE, DL_OP_SETATTR,
		DL_OP_MAP, DL_OP_UNMAP, DL_OP_HELLO,
	};
	uint64_t r = srnd();

	*op = ops[r % (sizeof(ops) / sizeof(ops[0]))];
	memset(buf, 0, 4096);
	switch (*op) {
	case DL_OP_OPEN: {
		struct dl_open_req *q = (void *)buf;

		q->flags = DL_O_READ | DL_O_WRITE | DL_O_CREATE;
		q->mode = 0644;
		snprintf(q->name, sizeof(q->name), "storm-%u",
			 (unsigned)(r >> 8) % 16);
		return sizeof(*q);
	}
	case DL_OP_CLOSE:	/* other handles: keep fh open */
		((struct dl_fh_req *)buf)->fh = fh + 1 + (r >> 8) % 4;
		return sizeof(struct dl_fh_req);
	case DL_OP_FSYNC:
		((struct dl_fh_req *)buf)->fh = fh;
		return sizeof(struct dl_fh_req);
	case DL_OP_STAT:
		((struct dl_stat_req *)buf)->fh = fh;
		return sizeof(struct dl_stat_req);
	case DL_OP_LIST:
		((struct dl_list_req *)buf)->max = 16;
		return sizeof(struct dl_list_req);
	case DL_OP_UNLINK:
		snprintf(((struct dl_name_req *)buf)->name, DL_PROTO_NAME_SIZE,
			 "storm-%u", (unsigned)(r >> 8) % 16);
		return sizeof(struct dl_name_req);
	case DL_OP_RENAME: {
		struct dl_rename_req *q = (void *)buf;

		snprintf(q->from, sizeof(q->from), "storm-%u",
			 (unsigned)(r >> 8) % 16);
		snprintf(q->to, sizeof(q->to), "storm-%u",
			 (unsigned)(r >> 16) % 16);
		return sizeof(*q);
	}
	case DL_OP_READ:
	case DL_OP_WRITE: {
		struct dl_rw_req *q = (void *)buf;
		struct dl_wire_iov *v = (void *)(q + 1);
		uint32_t n = 1 + (uint32_t)((r >> 8) % 4), total = 0;

		q->fh = fh;
		q->niov = n;
		for (uint32_t i = 0; i < n; i++) {
			v[i].offset = srnd() % (4u << 20);
			v[i].len = (uint32_t)(srnd() % 700);
			total += v[i].len;
		}
		if (*op == DL_OP_READ)
			return sizeof(*q) + n * sizeof(*v);
		memset(buf + sizeof(*q) + n * sizeof(*v), 's', total);
		return sizeof(*q) + n * sizeof(*v) + total;
	}
	case DL_OP_TRUNCATE: {
		struct dl_truncate_req *q = (void *)buf;

		q->fh = fh;
		q->size = srnd() % (8u << 20);
		return sizeof(*q);
	}
	case DL_OP_FALLOCATE: {
		struct dl_fallocate_req *q = (void *)buf;
		static const uint32_t modes[] = { 0, 1, 3, 8, 0x10, 0x11,
						  0x20 };

		q->fh = fh;
		q->mode = modes[(r >> 8) % 7];
		q->offset = (srnd() % 1024) * 4096;
		q->length = (1 + srnd() % 256) * 4096;
		return sizeof(*q);
	}
	case DL_OP_SETATTR: {
		struct dl_setattr_req *q = (void *)buf;

		q->fh = fh;
		q->valid = DL_ATTR_MODE;
		q->mode = 0644;
		return sizeof(*q);
	}
	case DL_OP_MAP: {
		struct dl_map_req *q = (void *)buf;

		q->fh = fh;
		q->offset = (srnd() % 256) * 4096;
		q->length = (1 + srnd() % 64) * 4096;
		q->prot = 1 + (uint32_t)((r >> 8) % 3);
		return sizeof(*q);
	}
	case DL_OP_UNMAP:
		((struct dl_unmap_req *)buf)->map_id = 1 + (r >> 8) % 8;
		return sizeof(struct dl_unmap_req);
	case DL_OP_HELLO: {
		struct dl_hello_req *q = (void *)buf;

		q->min_version = 1;
		q->max_version = 1;
		return sizeof(*q);
	}
	default:
		return 0;
	}
}

static void storm_mutate(uint8_t *buf, size_t *len)
{
	static const uint8_t vals[] = { 0, 1, 0x7f, 0x80, 0xff, '/', '.' };
	unsigned rounds = (unsigned)(srnd() % 4);

	for (unsigned i = 0; i < rounds && *len; i++) {
		size_t at = srnd() % *len;

		switch (srnd() % 5) {
		case 0:
			buf[at] ^= (uint8_t)(1u << (srnd() % 8));
			break;
		case 1:
			buf[at] = vals[srnd() % sizeof(vals)];
			break;
		case 2:
			if (*len >= 8) {
				uint64_t w = srnd() & 1 ? UINT64_MAX :
					     (uint64_t)INT64_MAX;

				at &= ~(size_t)7;
				if (at + 8 <= *len)
					memcpy(buf + at, &w, 8);
			}
			break;
		case 3:
			*len = at;		/* cut */
			break;
		default:
			if (*len + 8 < 4096)
				*len += 8;	/* extend with zeros */
			break;
		}
	}
}

/* A raw HELLO'd connection and a handle, without CUnit (for children). */
static int storm_connect(uint64_t *fh)
{
	struct dl_open_req req = {
		.flags = DL_O_READ | DL_O_WRITE | DL_O_CREATE, .mode = 0644,
	};
	struct dl_open_rep rep;
	int s = dlh_connect(daemon_.socket);

	if (s < 0 || dlh_raw_hello(s, NULL) != 1)
		return -1;
	snprintf(req.name, sizeof(req.name), "storm-main-%d", (int)getpid());
	if (dlh_raw_call(s, DL_OP_OPEN, &req, sizeof(req), &rep, sizeof(rep),
			 NULL))
		return -1;
	*fh = rep.fh;
	return s;
}

/* n mutated requests; 0, or why not (printed). */
static int storm_run(unsigned long n, unsigned long *errors)
{
	static uint8_t buf[DL_PROTO_MAX_MSG];
	uint64_t fh = 0;
	int s = storm_connect(&fh);

	if (s < 0) {
		fprintf(stderr, "storm: cannot connect\n");
		return -1;
	}
	for (unsigned long i = 0; i < n; i++) {
		struct dl_msg_hdr h;
		uint16_t op;
		size_t len;
		ssize_t got;

		len = storm_seed(buf, &op, fh);
		if (srnd() % 4)
			storm_mutate(buf, &len);
		if (dlh_raw_send(s, 1, op, 1 + i, buf, len, NULL, 0)) {
			fprintf(stderr, "storm: send %lu failed\n", i);
			return -1;
		}
		got = dlh_raw_recv(s, &h, NULL, 0, NULL, NULL);
		if (got < 0) {
			/* only framing errors disconnect; all were framed */
			fprintf(stderr, "storm: request %lu (opcode %u, %zu "
				"bytes): no reply (%zd)\n", i, op, len, got);
			return -1;
		}
		if (h.request_id != 1 + i) {
			fprintf(stderr, "storm: reply to %llu, want %lu\n",
				(unsigned long long)h.request_id, 1 + i);
			return -1;
		}
		if (h.status)
			(*errors)++;
	}
	close(s);
	return 0;
}

/*
 * Thousands of mutated requests from several client processes at once;
 * the daemon answers every one, stays up, and the good client never
 * notices.  DAXLEASE_SEED picks the mutations.
 */
static void test_storm(void)
{
	const char *env = getenv("DAXLEASE_SEED");
	uint64_t seed = env && *env ? strtoull(env, NULL, 0) : 12345;
	unsigned long errors = 0;
	pid_t pids[3];

	printf("\n  storm: seed %llu\n", (unsigned long long)seed);
	for (int k = 0; k < 3; k++) {
		fflush(NULL);
		pids[k] = fork();
		CU_ASSERT_FATAL(pids[k] >= 0);
		if (pids[k] == 0) {
			storm_rng = seed * 3 + (uint64_t)k + 1;
			_exit(storm_run(6000, &errors) ? 1 : 0);
		}
	}
	/* the parent's own storm, meanwhile */
	storm_rng = seed * 3 + 4;
	CU_ASSERT_EQUAL(storm_run(6000, &errors), 0);
	printf("  storm: %lu error replies of 6000 in this process\n", errors);
	for (int k = 0; k < 3; k++) {
		int status;

		CU_ASSERT_EQUAL(waitpid(pids[k], &status, 0), pids[k]);
		CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	good_client_works();
}

static void test_clean_stop(void)
{
	CU_ASSERT_TRUE_FATAL(dlh_alive(&daemon_));
	close(good);
	good = -1;
	CU_ASSERT_EQUAL(dlh_stop(&daemon_), 0);
}

static CU_TestInfo tests[] = {
	{ "short message: disconnect", test_short_message },
	{ "oversized message: disconnect", test_oversized_message },
	{ "bad magic: disconnect", test_bad_magic },
	{ "header length disagrees with the packet", test_length_field_lies },
	{ "request before HELLO: -EPROTO", test_request_before_hello },
	{ "HELLO without a common version", test_hello_no_common_version },
	{ "wrong version after HELLO: -EPROTO",
	  test_wrong_version_after_hello },
	{ "unknown opcode: -ENOSYS", test_unknown_opcode },
	{ "payload length wrong for the opcode", test_payload_length_mismatch },
	{ "niov 0, 1025 and other iovec lies: -EINVAL", test_niov_bounds },
	{ "offset+length overflow", test_offset_overflow },
	{ "names with '/', without NUL, empty", test_bad_names },
	{ "unknown, closed and foreign handles", test_bad_handles },
	{ "values only the handlers can refuse", test_deep_values },
	{ "SCM_RIGHTS fds on requests do not leak", test_fds_attached },
	{ "client killed mid-stream leaves nothing",
	  test_client_killed_midstream },
	{ "idle connections come and go", test_idle_connections },
	{ "pipelined requests answered in order", test_pipelined },
	{ "a client that never reads holds up no one",
	  test_client_that_never_reads },
	{ "a storm of mutated requests", test_storm },
	{ "daemon alive, clean stop", test_clean_stop },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "bad_input", suite_init, suite_clean, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	if (dlh_prepare())
		return DL_TEST_SKIP;
	return dl_cunit_main(suites);
}

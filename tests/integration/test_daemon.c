/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_daemon.c - daxleased and libdaxlease together, with real processes.
 *
 * Most cases share one daemon (64 MiB, align 2 MiB); the ones that need a
 * different namespace (many inodes, a small one for ENOSPC, a 4K-align
 * one, socket activation) start their own.  Every daemon is stopped with
 * SIGTERM and must exit 0 and leave a clean namespace (harness.h).
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cunit_run.h"
#include "daxlease/libdaxlease.h"
#include "daxlease/table.h"
#include "fs.h"
#include "harness.h"
#include "leased.h"

#define MiB (1ULL << 20)
#define KiB 1024ULL

static struct dlh_daemon dmn;
static struct daxlease_ctx *ctx;

static int suite_init(void)
{
	int rc;

	if (dlh_start(&dmn, NULL))
		return -1;
	rc = daxlease_new(&ctx, dmn.socket);
	if (rc) {
		fprintf(stderr, "daxlease_new: %s\n", strerror(-rc));
		return -1;
	}
	return 0;
}

static int suite_clean(void)
{
	if (ctx)
		daxlease_unref(ctx);
	dlh_kill(&dmn);
	return 0;
}

static uint8_t pattern(unsigned who, uint64_t off)
{
	uint64_t x = (off + 1) * 0x9E3779B97F4A7C15ULL + who * 0x632BE59BD9B4E019ULL;

	return (uint8_t)(x >> 56);
}

static void fill(uint8_t *buf, size_t len, unsigned who, uint64_t off)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(who, off + i);
}

static int check(const uint8_t *buf, size_t len, unsigned who, uint64_t off)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern(who, off + i)) {
			fprintf(stderr, "byte %llu: %u, want %u (pattern %u)\n",
				(unsigned long long)(off + i), buf[i],
				pattern(who, off + i), who);
			return 0;
		}
	return 1;
}

static struct daxlease_file *xopen(struct daxlease_ctx *c, const char *name,
				   unsigned flags)
{
	struct daxlease_file *f = NULL;
	int rc = daxlease_open(c, name, flags, 0644, &f);

	if (rc)
		fprintf(stderr, "open %s: %s\n", name, strerror(-rc));
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	return f;
}

#define RW (DAXLEASE_O_READ | DAXLEASE_O_WRITE)
#define CREATE (RW | DAXLEASE_O_CREATE)

/* ---- HELLO, STATUS ----------------------------------------------------- */

static void test_hello_status(void)
{
	struct daxlease_info info;
	struct daxlease_status st, st2;
	struct daxlease_file *f;

	daxlease_get_info(ctx, &info);
	CU_ASSERT_EQUAL(info.protocol_version, 1);
	CU_ASSERT_EQUAL(info.ns_size, 64 * MiB);
	CU_ASSERT_EQUAL(info.ns_align, 2 * MiB);
	CU_ASSERT_STRING_EQUAL(info.ns_name, "it");
	/* root: may map */
	CU_ASSERT_TRUE(info.server_flags & DL_SRV_DAX_ALLOWED);
	CU_ASSERT_TRUE(info.server_flags & DL_SRV_ADMIN);

	CU_ASSERT_EQUAL_FATAL(daxlease_status(ctx, &st), 0);
	CU_ASSERT_EQUAL(st.pid, (uint64_t)dmn.pid);
	CU_ASSERT_TRUE(st.clients >= 1);
	CU_ASSERT_EQUAL(st.ns_size, 64 * MiB);
	CU_ASSERT_EQUAL(st.ns_align, 2 * MiB);
	CU_ASSERT_TRUE(st.blocks_free <= st.blocks_total);
	CU_ASSERT_TRUE(st.blocks_total > 0);
	CU_ASSERT_EQUAL(st.unsafe_shutdowns, 0);
	CU_ASSERT_STRING_EQUAL(st.ns_name, "it");
	CU_ASSERT_PTR_NOT_NULL(strstr(st.ns_path, "nvdimm.img"));
	CU_ASSERT_STRING_EQUAL(st.server_version, info.server_version);

	/* a second connection is a second client */
	{
		struct daxlease_ctx *c2 = NULL;

		CU_ASSERT_EQUAL_FATAL(daxlease_new(&c2, dmn.socket), 0);
		CU_ASSERT_EQUAL(daxlease_status(c2, &st2), 0);
		CU_ASSERT_EQUAL(st2.clients, st.clients + 1);
		daxlease_unref(c2);
	}
	/* a new file shows in the counts */
	f = xopen(ctx, "status-file", CREATE | DAXLEASE_O_EXCL);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, "abc", 3, 0), 3);
	CU_ASSERT_EQUAL(daxlease_status(ctx, &st2), 0);
	CU_ASSERT_EQUAL(st2.files, st.files + 1);
	CU_ASSERT_EQUAL(st2.inodes_free + 1, st.inodes_free);
	CU_ASSERT_TRUE(st2.blocks_free < st.blocks_free);
	CU_ASSERT_TRUE(st2.transactions > st.transactions);
	CU_ASSERT_TRUE(st2.uptime_ns >= st.uptime_ns);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(ctx, "status-file"), 0);

	/* ref/unref: the connection lives until the last reference */
	CU_ASSERT_PTR_EQUAL(daxlease_ref(ctx), ctx);
	daxlease_unref(ctx);
	CU_ASSERT_EQUAL(daxlease_status(ctx, &st2), 0);
}

/* ---- several client processes ------------------------------------------------ */

#define NCHILD 4
#define OWN (512 * KiB)
#define SLOT (64 * KiB)

static int child_main(unsigned me, int ready_fd, int go_fd)
{
	struct daxlease_ctx *c = NULL;
	struct daxlease_file *f = NULL, *g;
	uint8_t *buf = malloc(OWN);
	char name[32];
	char b;
	int bad = 0;

	if (!buf || daxlease_new(&c, dmn.socket))
		return 10;
	snprintf(name, sizeof(name), "mc-%u", me);
	if (daxlease_open(c, name, CREATE | DAXLEASE_O_EXCL, 0644, &f))
		return 11;
	/* phase 1: own file, in pieces of different sizes */
	fill(buf, OWN, me, 0);
	for (uint64_t off = 0; off < OWN;) {
		size_t n = 4096 + (off / 4096 % 7) * 12288;

		if (n > OWN - off)
			n = OWN - off;
		if (daxlease_pwrite(f, buf + off, n, off) != (ssize_t)n)
			return 12;
		off += n;
	}
	if (daxlease_fsync(f))
		return 13;
	if (write(ready_fd, "r", 1) != 1 || read(go_fd, &b, 1) != 1)
		return 14;
	/* phase 2: everyone reads everyone's first part and writes a slot
	 * of everyone's file, all at once */
	for (unsigned k = 0; k < NCHILD; k++) {
		unsigned j = (me + k) % NCHILD;

		snprintf(name, sizeof(name), "mc-%u", j);
		if (daxlease_open(c, name, RW, 0, &g))
			return 15;
		memset(buf, 0, OWN);
		if (daxlease_pread(g, buf, OWN, 0) != (ssize_t)OWN ||
		    !check(buf, OWN, j, 0))
			bad = 16;
		fill(buf, SLOT, 100 + me * NCHILD + j, 0);
		if (daxlease_pwrite(g, buf, SLOT, OWN + me * SLOT) !=
		    (ssize_t)SLOT)
			bad = 17;
		if (daxlease_close(g))
			bad = 18;
	}
	daxlease_close(f);
	daxlease_unref(c);
	free(buf);
	return bad;
}

static void test_many_clients(void)
{
	int ready[2], go[2], status;
	pid_t pids[NCHILD];
	uint8_t *buf = malloc(OWN + NCHILD * SLOT);
	char c;

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_FATAL(pipe(ready) == 0 && pipe(go) == 0);
	for (unsigned i = 0; i < NCHILD; i++) {
		fflush(NULL);
		pids[i] = fork();
		CU_ASSERT_FATAL(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(child_main(i, ready[1], go[0]));
	}
	for (unsigned i = 0; i < NCHILD; i++)
		CU_ASSERT_EQUAL_FATAL(read(ready[0], &c, 1), 1);
	for (unsigned i = 0; i < NCHILD; i++)
		CU_ASSERT_EQUAL_FATAL(write(go[1], "g", 1), 1);
	for (unsigned i = 0; i < NCHILD; i++) {
		CU_ASSERT_EQUAL(waitpid(pids[i], &status, 0), pids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			fprintf(stderr, "client %u: status 0x%x\n", i, status);
		CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	/* the parent, a fifth client, sees every byte where it belongs */
	for (unsigned j = 0; j < NCHILD; j++) {
		struct daxlease_stat st;
		struct daxlease_file *f;
		char name[32];

		snprintf(name, sizeof(name), "mc-%u", j);
		f = xopen(ctx, name, DAXLEASE_O_READ);
		CU_ASSERT_EQUAL(daxlease_fstat(f, &st), 0);
		CU_ASSERT_EQUAL(st.size, OWN + NCHILD * SLOT);
		CU_ASSERT_EQUAL(daxlease_pread(f, buf, OWN + NCHILD * SLOT, 0),
				(ssize_t)(OWN + NCHILD * SLOT));
		CU_ASSERT_TRUE(check(buf, OWN, j, 0));
		for (unsigned i = 0; i < NCHILD; i++)
			CU_ASSERT_TRUE(check(buf + OWN + i * SLOT, SLOT,
					     100 + i * NCHILD + j, 0));
		CU_ASSERT_EQUAL(daxlease_close(f), 0);
		CU_ASSERT_EQUAL(daxlease_unlink(ctx, name), 0);
	}
	free(buf);
}

/* ---- vectored I/O -------------------------------------------------------------- */

static void test_vectored(void)
{
	struct daxlease_file *f = xopen(ctx, "vec", CREATE | DAXLEASE_O_TRUNC);
	static uint8_t a[8192], b[100], r1[8192], r2[100];
	struct daxlease_iovec w[2] = {
		{ a, sizeof(a), 100000 }, { b, sizeof(b), 3 },
	};
	struct daxlease_iovec r[2] = {
		{ r2, sizeof(r2), 3 }, { r1, sizeof(r1), 100000 },
	};
	struct daxlease_stat st;

	fill(a, sizeof(a), 1, 0);
	fill(b, sizeof(b), 2, 0);
	CU_ASSERT_EQUAL(daxlease_pwritev(f, w, 2), (ssize_t)(sizeof(a) +
							      sizeof(b)));
	CU_ASSERT_EQUAL(daxlease_fstat(f, &st), 0);
	CU_ASSERT_EQUAL(st.size, 100000 + sizeof(a));
	CU_ASSERT_EQUAL(daxlease_preadv(f, r, 2), (ssize_t)(sizeof(a) +
							     sizeof(b)));
	CU_ASSERT_TRUE(check(r1, sizeof(r1), 1, 0));
	CU_ASSERT_TRUE(check(r2, sizeof(r2), 2, 0));
	/* short read at EOF */
	CU_ASSERT_EQUAL(daxlease_pread(f, r1, sizeof(r1), 100000 + 8000), 192);
	CU_ASSERT_EQUAL(daxlease_pread(f, r1, sizeof(r1), 1 * MiB), 0);
	/* a hole reads as zeros */
	memset(r1, 0xff, sizeof(r1));
	CU_ASSERT_EQUAL(daxlease_pread(f, r1, 4096, 8192), 4096);
	for (int i = 0; i < 4096; i++)
		if (r1[i]) {
			CU_FAIL("hole is not zero");
			break;
		}
	/* overlapping iovecs: applied in order, as pwritev(2) */
	{
		struct daxlease_iovec ov[2] = {
			{ "AAAA", 4, 200000 }, { "BB", 2, 200001 },
		};
		char got[4];

		CU_ASSERT_EQUAL(daxlease_pwritev(f, ov, 2), 6);
		CU_ASSERT_EQUAL(daxlease_pread(f, got, 4, 200000), 4);
		CU_ASSERT_EQUAL(memcmp(got, "ABBA", 4), 0);
	}
	/* too many iovecs */
	{
		struct daxlease_iovec *many = calloc(1025, sizeof(*many));

		CU_ASSERT_FATAL(many != NULL);
		for (int i = 0; i < 1025; i++)
			many[i] = (struct daxlease_iovec){ a, 1, (uint64_t)i };
		CU_ASSERT_EQUAL(daxlease_pwritev(f, many, 1025), -EINVAL);
		CU_ASSERT_EQUAL(daxlease_pwritev(f, many, 1024), 1024);
		free(many);
	}
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(ctx, "vec"), 0);
}

/* ---- LIST paging -------------------------------------------------------------- */

static void test_list_paging(void)
{
	struct dlh_opts o = { .size = 256 * MiB, .name = "list" };
	struct daxlease_stat *page = calloc(DL_PROTO_LIST_MAX, sizeof(*page));
	struct dlh_daemon d;
	struct daxlease_ctx *c = NULL;
	unsigned seen[300] = { 0 };
	uint64_t cursor = 0;
	int pages = 0, total = 0;

	CU_ASSERT_FATAL(page != NULL);
	CU_ASSERT_FATAL(dlh_start(&d, &o) == 0);
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	/* an empty namespace: one empty page */
	CU_ASSERT_EQUAL(daxlease_list(c, &cursor, page, DL_PROTO_LIST_MAX), 0);
	CU_ASSERT_EQUAL(cursor, 0);
	for (unsigned i = 0; i < 300; i++) {
		struct daxlease_file *f;
		char name[32];

		snprintf(name, sizeof(name), "file-%03u", i);
		f = xopen(c, name, CREATE | DAXLEASE_O_EXCL);
		CU_ASSERT_EQUAL(daxlease_pwrite(f, &i, sizeof(i), 0),
				(ssize_t)sizeof(i));
		CU_ASSERT_EQUAL(daxlease_close(f), 0);
	}
	do {
		int n = daxlease_list(c, &cursor, page, DL_PROTO_LIST_MAX);

		CU_ASSERT_FATAL(n >= 0 && n <= DL_PROTO_LIST_MAX);
		pages++;
		for (int i = 0; i < n; i++) {
			unsigned k;

			if (sscanf(page[i].name, "file-%u", &k) != 1 ||
			    k >= 300) {
				fprintf(stderr, "unexpected name %s\n",
					page[i].name);
				CU_FAIL("unexpected name in LIST");
				continue;
			}
			seen[k]++;
			CU_ASSERT_EQUAL(page[i].size, sizeof(unsigned));
			total++;
		}
	} while (cursor && pages < 100);
	CU_ASSERT_EQUAL(total, 300);
	CU_ASSERT_TRUE(pages >= 3);
	for (unsigned k = 0; k < 300; k++)
		if (seen[k] != 1) {
			fprintf(stderr, "file-%03u listed %u times\n", k,
				seen[k]);
			CU_FAIL("a file listed other than once");
		}
	/* small pages while another client creates and removes files: each
	 * file that lives through the whole listing is listed exactly once */
	{
		int stop[2], ready[2], status;
		pid_t pid;
		char ch;

		CU_ASSERT_FATAL(pipe(stop) == 0 && pipe(ready) == 0);
		fflush(NULL);
		pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0) {
			struct daxlease_ctx *c2 = NULL;
			struct daxlease_file *g;
			char name[32];

			close(stop[1]);
			if (daxlease_new(&c2, d.socket))
				_exit(1);
			fcntl(stop[0], F_SETFL, O_NONBLOCK);
			for (unsigned i = 0;; i++) {
				snprintf(name, sizeof(name), "churn-%u",
					 i % 50);
				if (i >= 50 && daxlease_unlink(c2, name))
					_exit(2);
				if (daxlease_open(c2, name, CREATE, 0644, &g) ||
				    daxlease_close(g))
					_exit(3);
				if (i == 60 && write(ready[1], "r", 1) != 1)
					_exit(4);
				if (read(stop[0], &ch, 1) == 1)
					_exit(0);
			}
		}
		close(stop[0]);
		CU_ASSERT_EQUAL_FATAL(read(ready[0], &ch, 1), 1);
		memset(seen, 0, sizeof(seen));
		total = 0;
		cursor = 0;
		do {
			int n = daxlease_list(c, &cursor, page, 7);

			CU_ASSERT_FATAL(n >= 0 && n <= 7);
			for (int i = 0; i < n; i++) {
				unsigned k;

				if (sscanf(page[i].name, "file-%u", &k) == 1 &&
				    k < 300) {
					seen[k]++;
					total++;
				}
			}
		} while (cursor && total < 1000);
		CU_ASSERT_EQUAL(write(stop[1], "s", 1), 1);
		CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
		CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		close(stop[1]);
		close(ready[0]);
		close(ready[1]);
		CU_ASSERT_EQUAL(total, 300);
		for (unsigned k = 0; k < 300; k++)
			CU_ASSERT_EQUAL(seen[k], 1);
	}
	{
		struct daxlease_status st;

		CU_ASSERT_EQUAL(daxlease_status(c, &st), 0);
		CU_ASSERT_EQUAL(st.files, 300 + 50);
	}
	daxlease_unref(c);
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
	free(page);
}

/* ---- names ---------------------------------------------------------------------- */

static void test_rename_unlink_stat(void)
{
	struct daxlease_file *f, *g;
	struct daxlease_stat st, st2;
	char buf[16];

	f = xopen(ctx, "ren-a", CREATE | DAXLEASE_O_EXCL);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, "hello", 5, 0), 5);
	CU_ASSERT_EQUAL(daxlease_fstat(f, &st), 0);
	CU_ASSERT_EQUAL(st.size, 5);
	CU_ASSERT_STRING_EQUAL(st.name, "ren-a");
	CU_ASSERT_EQUAL(st.mode & 07777, 0644);
	CU_ASSERT_TRUE(S_ISREG(st.mode));
	CU_ASSERT_EQUAL(st.uid, 0);
	/* EXCL on an existing file */
	CU_ASSERT_EQUAL(daxlease_open(ctx, "ren-a", CREATE | DAXLEASE_O_EXCL,
				      0644, &g), -EEXIST);
	CU_ASSERT_EQUAL(daxlease_open(ctx, "missing", RW, 0, &g), -ENOENT);

	CU_ASSERT_EQUAL(daxlease_rename(ctx, "ren-a", "ren-b", 0), 0);
	CU_ASSERT_EQUAL(daxlease_stat(ctx, "ren-a", &st2), -ENOENT);
	CU_ASSERT_EQUAL(daxlease_stat(ctx, "ren-b", &st2), 0);
	CU_ASSERT_EQUAL(st2.ino, st.ino);
	CU_ASSERT_EQUAL(st2.size, 5);
	/* the open handle follows the file */
	CU_ASSERT_EQUAL(daxlease_pread(f, buf, 5, 0), 5);
	CU_ASSERT_EQUAL(memcmp(buf, "hello", 5), 0);
	CU_ASSERT_EQUAL(daxlease_rename(ctx, "ren-a", "ren-c", 0), -ENOENT);

	/* NOREPLACE onto an existing name */
	g = xopen(ctx, "ren-c", CREATE | DAXLEASE_O_EXCL);
	CU_ASSERT_EQUAL(daxlease_pwrite(g, "other", 5, 0), 5);
	CU_ASSERT_EQUAL(daxlease_rename(ctx, "ren-b", "ren-c",
					DAXLEASE_RENAME_NOREPLACE), -EEXIST);
	CU_ASSERT_EQUAL(daxlease_stat(ctx, "ren-b", &st2), 0);
	/* replace: ren-c's old file is gone, its handle is stale */
	CU_ASSERT_EQUAL(daxlease_rename(ctx, "ren-b", "ren-c", 0), 0);
	CU_ASSERT_EQUAL(daxlease_stat(ctx, "ren-c", &st2), 0);
	CU_ASSERT_EQUAL(st2.ino, st.ino);
	CU_ASSERT_EQUAL(daxlease_pread(g, buf, 5, 0), -ESTALE);
	CU_ASSERT_EQUAL(daxlease_close(g), 0);

	/* unlink: gone by name; the handle reports ESTALE on every call */
	CU_ASSERT_EQUAL(daxlease_unlink(ctx, "ren-c"), 0);
	CU_ASSERT_EQUAL(daxlease_stat(ctx, "ren-c", &st2), -ENOENT);
	CU_ASSERT_EQUAL(daxlease_unlink(ctx, "ren-c"), -ENOENT);
	CU_ASSERT_EQUAL(daxlease_fstat(f, &st2), -ESTALE);
	CU_ASSERT_EQUAL(daxlease_pread(f, buf, 5, 0), -ESTALE);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, "x", 1, 0), -ESTALE);
	CU_ASSERT_EQUAL(daxlease_truncate(f, 0), -ESTALE);
	CU_ASSERT_EQUAL(daxlease_fallocate(f, 0, 0, 4096), -ESTALE);
	/* a new file with the same name is a different file */
	g = xopen(ctx, "ren-c", CREATE | DAXLEASE_O_EXCL);
	CU_ASSERT_EQUAL(daxlease_fstat(f, &st2), -ESTALE);
	CU_ASSERT_EQUAL(daxlease_fstat(g, &st2), 0);
	CU_ASSERT_EQUAL(st2.size, 0);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(daxlease_close(g), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(ctx, "ren-c"), 0);
}

/* Corner cases with Linux answers. */
static void test_corners(void)
{
	struct daxlease_file *f, *g = NULL;
	struct daxlease_stat st, st2;
	char b[8];

	f = xopen(ctx, "corner", CREATE | DAXLEASE_O_TRUNC);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, "abcdefgh", 8, 0), 8);
	/* rename(2) onto itself: nothing happens; with NOREPLACE: EEXIST */
	CU_ASSERT_EQUAL(daxlease_rename(ctx, "corner", "corner", 0), 0);
	CU_ASSERT_EQUAL(daxlease_rename(ctx, "corner", "corner",
					DAXLEASE_RENAME_NOREPLACE), -EEXIST);
	CU_ASSERT_EQUAL(daxlease_pread(f, b, 8, 0), 8);
	/* zero-length I/O, reads past EOF */
	CU_ASSERT_EQUAL(daxlease_pwrite(f, b, 0, 100), 0);
	CU_ASSERT_EQUAL(daxlease_pread(f, b, 0, 0), 0);
	CU_ASSERT_EQUAL(daxlease_pread(f, b, 8, 8), 0);
	CU_ASSERT_EQUAL(daxlease_pread(f, b, 8, 1ULL << 40), 0);
	CU_ASSERT_EQUAL(daxlease_fstat(f, &st), 0);
	CU_ASSERT_EQUAL(st.size, 8);
	/* flags: TRUNC needs WRITE, and some access is needed */
	CU_ASSERT_EQUAL(daxlease_open(ctx, "corner", DAXLEASE_O_READ |
				      DAXLEASE_O_TRUNC, 0, &g), -EINVAL);
	CU_ASSERT_EQUAL(daxlease_open(ctx, "corner", 0, 0, &g), -EINVAL);
	/* a read-only handle */
	g = xopen(ctx, "corner", DAXLEASE_O_READ);
	CU_ASSERT_EQUAL(daxlease_pwrite(g, "x", 1, 0), -EBADF);
	CU_ASSERT_EQUAL(daxlease_fallocate(g, 0, 0, 4096), -EBADF);
	CU_ASSERT_EQUAL(daxlease_truncate(g, 0), -EINVAL);
	CU_ASSERT_EQUAL(daxlease_close(g), 0);
	/* chmod and chown by root */
	CU_ASSERT_EQUAL(daxlease_setattr(f, DAXLEASE_ATTR_MODE, 0600, 0, 0), 0);
	CU_ASSERT_EQUAL(daxlease_setattr(f, DAXLEASE_ATTR_UID |
					 DAXLEASE_ATTR_GID, 0, 1234, 5678), 0);
	CU_ASSERT_EQUAL(daxlease_stat(ctx, "corner", &st2), 0);
	CU_ASSERT_EQUAL(st2.mode & 07777, 0600);
	CU_ASSERT_TRUE(S_ISREG(st2.mode));
	CU_ASSERT_EQUAL(st2.uid, 1234);
	CU_ASSERT_EQUAL(st2.gid, 5678);
	CU_ASSERT_EQUAL(st2.ino, st.ino);
	/* the handle of a file is unaffected by a chown */
	CU_ASSERT_EQUAL(daxlease_pwrite(f, "Z", 1, 0), 1);
	/* O_TRUNC empties the file, a truncate-up reads as zeros */
	g = xopen(ctx, "corner", RW | DAXLEASE_O_TRUNC);
	CU_ASSERT_EQUAL(daxlease_fstat(g, &st2), 0);
	CU_ASSERT_EQUAL(st2.size, 0);
	CU_ASSERT_EQUAL(st2.blocks, 0);
	CU_ASSERT_EQUAL(daxlease_truncate(g, 8), 0);
	CU_ASSERT_EQUAL(daxlease_pread(f, b, 8, 0), 8);
	CU_ASSERT_EQUAL(memcmp(b, "\0\0\0\0\0\0\0\0", 8), 0);
	CU_ASSERT_EQUAL(daxlease_close(g), 0);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(ctx, "corner"), 0);
}

/* ---- fallocate rules and errnos --------------------------------------------------- */

static void test_fallocate_errnos(void)
{
	struct daxlease_file *f = xopen(ctx, "falloc", CREATE |
					DAXLEASE_O_TRUNC);
	struct daxlease_stat st;
	static uint8_t buf[1 * MiB];

	fill(buf, sizeof(buf), 7, 0);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, buf, sizeof(buf), 0),
			(ssize_t)sizeof(buf));
	/* misaligned collapse / insert */
	CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_COLLAPSE_RANGE, 1000,
					   4096), -EINVAL);
	CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_COLLAPSE_RANGE, 4096,
					   100), -EINVAL);
	CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_INSERT_RANGE, 4095,
					   4096), -EINVAL);
	/* collapse reaching EOF */
	CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_COLLAPSE_RANGE,
					   1 * MiB - 4096, 8192), -EINVAL);
	/* insert at or beyond EOF */
	CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_INSERT_RANGE, 1 * MiB,
					   4096), -EINVAL);
	/* punch without keep-size */
	CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_PUNCH_HOLE, 0, 4096),
			-EOPNOTSUPP);
	/* unknown mode bits; zero length */
	CU_ASSERT_EQUAL(daxlease_fallocate(f, 0x4000, 0, 4096), -EOPNOTSUPP);
	CU_ASSERT_EQUAL(daxlease_fallocate(f, 0, 0, 0), -EINVAL);
	/* beyond the largest file */
	CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_KEEP_SIZE,
					   DL_MAX_FILE_SIZE, 4096), -EFBIG);
	CU_ASSERT_EQUAL(daxlease_truncate(f, DL_MAX_FILE_SIZE + 1), -EFBIG);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, "x", 1, DL_MAX_FILE_SIZE), -EFBIG);
	/* nothing above changed the file */
	CU_ASSERT_EQUAL(daxlease_fstat(f, &st), 0);
	CU_ASSERT_EQUAL(st.size, 1 * MiB);
	CU_ASSERT_EQUAL(st.blocks, 256);
	memset(buf, 0, sizeof(buf));
	CU_ASSERT_EQUAL(daxlease_pread(f, buf, sizeof(buf), 0),
			(ssize_t)sizeof(buf));
	CU_ASSERT_TRUE(check(buf, sizeof(buf), 7, 0));

	/* and the ones that work, with Linux results */
	CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_PUNCH_HOLE |
					   FALLOC_FL_KEEP_SIZE, 4096, 8192), 0);
	CU_ASSERT_EQUAL(daxlease_fstat(f, &st), 0);
	CU_ASSERT_EQUAL(st.size, 1 * MiB);
	CU_ASSERT_EQUAL(st.blocks, 254);
	CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_COLLAPSE_RANGE, 0,
					   64 * KiB), 0);
	CU_ASSERT_EQUAL(daxlease_fstat(f, &st), 0);
	CU_ASSERT_EQUAL(st.size, 1 * MiB - 64 * KiB);
	CU_ASSERT_EQUAL(daxlease_pread(f, buf, 4096, 0), 4096);
	CU_ASSERT_TRUE(check(buf, 4096, 7, 64 * KiB));
	CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_INSERT_RANGE, 0,
					   64 * KiB), 0);
	CU_ASSERT_EQUAL(daxlease_fstat(f, &st), 0);
	CU_ASSERT_EQUAL(st.size, 1 * MiB);
	CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_ZERO_RANGE, 0, 2 * MiB),
			0);
	CU_ASSERT_EQUAL(daxlease_fstat(f, &st), 0);
	CU_ASSERT_EQUAL(st.size, 2 * MiB);
	CU_ASSERT_EQUAL(daxlease_fallocate(f, 0, 0, 3 * MiB), 0);
	CU_ASSERT_EQUAL(daxlease_fstat(f, &st), 0);
	CU_ASSERT_EQUAL(st.size, 3 * MiB);
	CU_ASSERT_EQUAL(daxlease_truncate(f, 5000), 0);
	CU_ASSERT_EQUAL(daxlease_fstat(f, &st), 0);
	CU_ASSERT_EQUAL(st.size, 5000);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(ctx, "falloc"), 0);
}

/* ENOSPC on a small namespace: the failed call leaves nothing behind. */
static void test_enospc(void)
{
	struct dlh_opts o = { .size = 16 * MiB, .align = 4096,
			      .name = "small" };
	struct daxlease_status before, after;
	struct daxlease_stat st, st2;
	struct daxlease_file *f, *g;
	struct daxlease_ctx *c = NULL;
	static uint8_t buf[256 * KiB];
	struct dlh_daemon d;

	CU_ASSERT_FATAL(dlh_start(&d, &o) == 0);
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	f = xopen(c, "big", CREATE);
	fill(buf, sizeof(buf), 3, 0);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, buf, sizeof(buf), 0),
			(ssize_t)sizeof(buf));
	CU_ASSERT_EQUAL(daxlease_fstat(f, &st), 0);
	CU_ASSERT_EQUAL(daxlease_status(c, &before), 0);

	CU_ASSERT_EQUAL(daxlease_fallocate(f, 0, 0, 64 * MiB), -ENOSPC);
	CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_KEEP_SIZE, 1 * MiB,
					   32 * MiB), -ENOSPC);
	CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_ZERO_RANGE, 0,
					   32 * MiB), -ENOSPC);
	CU_ASSERT_EQUAL(daxlease_status(c, &after), 0);
	CU_ASSERT_EQUAL(after.blocks_free, before.blocks_free);
	CU_ASSERT_EQUAL(daxlease_fstat(f, &st2), 0);
	CU_ASSERT_EQUAL(st2.size, st.size);
	CU_ASSERT_EQUAL(st2.blocks, st.blocks);
	CU_ASSERT_EQUAL(st2.extents, st.extents);
	memset(buf, 0, sizeof(buf));
	CU_ASSERT_EQUAL(daxlease_pread(f, buf, sizeof(buf), 0),
			(ssize_t)sizeof(buf));
	CU_ASSERT_TRUE(check(buf, sizeof(buf), 3, 0));

	/* fill it with a second file, then a write that needs a block */
	g = xopen(c, "filler", CREATE);
	{
		uint64_t off = 0;
		int rc = 0;

		for (uint64_t step = 1 * MiB; step >= 4096; step /= 16)
			while (off < 64 * MiB &&
			       !(rc = daxlease_fallocate(g, 0, off, step)))
				off += step;
		CU_ASSERT_EQUAL(rc, -ENOSPC);
		CU_ASSERT_TRUE(off > 8 * MiB);
	}
	CU_ASSERT_EQUAL(daxlease_pwrite(f, buf, 4096, 8 * MiB), -ENOSPC);
	CU_ASSERT_EQUAL(daxlease_fstat(f, &st2), 0);
	CU_ASSERT_EQUAL(st2.size, st.size);
	/* a write mapping of holes needs blocks too: -ENOSPC, unchanged */
	if (geteuid() == 0) {
		struct daxlease_map *m = NULL;

		CU_ASSERT_EQUAL(daxlease_truncate(f, 12 * MiB), 0);
		CU_ASSERT_EQUAL(leased_map(f, 8 * MiB, 64 * KiB,
					     DAXLEASE_PROT_READ |
					     DAXLEASE_PROT_WRITE, &m), -ENOSPC);
		CU_ASSERT_EQUAL(daxlease_fstat(f, &st2), 0);
		CU_ASSERT_EQUAL(st2.blocks, st.blocks);
		CU_ASSERT_EQUAL(st2.extents, st.extents);
		CU_ASSERT_EQUAL(daxlease_truncate(f, st.size), 0);
	}
	/* space comes back */
	CU_ASSERT_EQUAL(daxlease_close(g), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(c, "filler"), 0);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, buf, 4096, 8 * MiB), 4096);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	daxlease_unref(c);
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
}

/* ---- socket activation --------------------------------------------------------- */

static void test_socket_activation(void)
{
	struct dlh_opts o = { .socket_activation = 1, .name = "activated" };
	struct daxlease_ctx *c = NULL;
	struct daxlease_status st;
	struct daxlease_info info;
	struct dlh_daemon d;
	int status;
	pid_t pid;

	CU_ASSERT_FATAL(dlh_start(&d, &o) == 0);
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	daxlease_get_info(c, &info);
	CU_ASSERT_EQUAL(info.protocol_version, 1);
	CU_ASSERT_EQUAL(daxlease_status(c, &st), 0);
	CU_ASSERT_EQUAL(st.pid, (uint64_t)d.pid);
	daxlease_unref(c);
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);

	/* an activated daemon still needs to be told its namespace */
	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		char p[32];
		int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

		if (fd < 0 || dup2(fd, 3) < 0)
			_exit(126);
		snprintf(p, sizeof(p), "%d", (int)getpid());
		setenv("LISTEN_FDS", "1", 1);
		setenv("LISTEN_PID", p, 1);
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 2);
		dup2(fd, 1);
		execl(dlh_daemon_path(), dlh_daemon_path(), (char *)NULL);
		_exit(127);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(status));
	CU_ASSERT_NOT_EQUAL(WEXITSTATUS(status), 0);
	CU_ASSERT_NOT_EQUAL(WEXITSTATUS(status), 127);
}

/* ---- mappings ------------------------------------------------------------------- */

static int need_root(void)
{
	if (geteuid() != 0) {
		printf("  (skipped: mapping needs root)\n");
		return 0;
	}
	return 1;
}

static void test_map_write_read(void)
{
	struct daxlease_file *f;
	struct daxlease_map *m = NULL;
	struct daxlease_stat st;
	static uint8_t buf[1 * MiB];
	uint8_t *p;

	if (!need_root())
		return;
	f = xopen(ctx, "mapped", CREATE | DAXLEASE_O_TRUNC);
	CU_ASSERT_EQUAL(daxlease_truncate(f, 1 * MiB), 0);
	/* a hole mapped for write gets blocks first */
	CU_ASSERT_EQUAL_FATAL(leased_map(f, 64 * KiB, 512 * KiB,
					   DAXLEASE_PROT_READ |
					   DAXLEASE_PROT_WRITE, &m), 0);
	CU_ASSERT_EQUAL(daxlease_map_length(m), 512 * KiB);
	p = daxlease_map_addr(m);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(daxlease_fstat(f, &st), 0);
	CU_ASSERT_EQUAL(st.size, 1 * MiB);
	CU_ASSERT_EQUAL(st.blocks, 128);
	for (size_t i = 0; i < 512 * KiB; i++)
		if (p[i]) {
			CU_FAIL("a fresh mapping of a hole is not zero");
			break;
		}
	fill(p, 512 * KiB, 9, 64 * KiB);
	CU_ASSERT_EQUAL(daxlease_map_persist(m, 0, 512 * KiB), 0);
	CU_ASSERT_EQUAL(daxlease_unmap(m), 0);
	CU_ASSERT_EQUAL(daxlease_pread(f, buf, sizeof(buf), 0),
			(ssize_t)sizeof(buf));
	for (size_t i = 0; i < 64 * KiB; i++)
		if (buf[i] || buf[576 * KiB + i]) {
			CU_FAIL("bytes outside the mapping changed");
			break;
		}
	CU_ASSERT_TRUE(check(buf + 64 * KiB, 512 * KiB, 9, 64 * KiB));

	/* a read mapping sees what pwrite wrote */
	fill(buf, 4096, 11, 0);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, buf, 4096, 128 * KiB), 4096);
	CU_ASSERT_EQUAL_FATAL(leased_map(f, 128 * KiB, 4096,
					   DAXLEASE_PROT_READ, &m), 0);
	CU_ASSERT_TRUE(check(daxlease_map_addr(m), 4096, 11, 0));
	CU_ASSERT_EQUAL(daxlease_unmap(m), 0);

	/* the range rules */
	CU_ASSERT_EQUAL(leased_map(f, 100, 4096, DAXLEASE_PROT_READ, &m),
			-EINVAL);
	CU_ASSERT_EQUAL(leased_map(f, 0, 100, DAXLEASE_PROT_READ, &m),
			-EINVAL);
	/* beyond EOF: -ENXIO (docs/protocol.md) */
	CU_ASSERT_EQUAL(leased_map(f, 0, 2 * MiB, DAXLEASE_PROT_READ, &m),
			-ENXIO);
	/* a read mapping of a hole: -ENXIO, documented (no block to map) */
	CU_ASSERT_EQUAL(leased_map(f, 768 * KiB, 4096, DAXLEASE_PROT_READ,
				     &m), -ENXIO);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(ctx, "mapped"), 0);
}

static void leaves_of_4m(struct daxlease_ctx *c, uint64_t *pte, uint64_t *pmd,
			 uint64_t *pud)
{
	struct daxlease_file *f = xopen(c, "leaves", CREATE | DAXLEASE_O_TRUNC);
	struct daxlease_map *m = NULL;

	*pte = *pmd = *pud = ~0ULL;
	CU_ASSERT_EQUAL(daxlease_truncate(f, 4 * MiB), 0);
	CU_ASSERT_EQUAL(leased_map(f, 0, 4 * MiB, DAXLEASE_PROT_READ |
				     DAXLEASE_PROT_WRITE, &m), 0);
	if (m) {
		daxlease_map_leaves(m, pte, pmd, pud);
		printf("  (leaves: %llu PTE, %llu PMD, %llu PUD at %p)\n",
		       (unsigned long long)*pte, (unsigned long long)*pmd,
		       (unsigned long long)*pud, daxlease_map_addr(m));
		/* a PMD leaf needs a 2 MiB-aligned address */
		if (*pmd)
			CU_ASSERT_EQUAL((uintptr_t)daxlease_map_addr(m) %
					(2 * MiB), 0);
		CU_ASSERT_EQUAL(daxlease_unmap(m), 0);
	}
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(c, "leaves"), 0);
}

static void test_map_leaves(void)
{
	struct dlh_opts o = { .align = 4096, .name = "align4k" };
	struct daxlease_ctx *c = NULL;
	struct dlh_daemon d;
	uint64_t pte, pmd, pud;

	if (!need_root())
		return;
	/* 2M-align namespace, 2 MiB-aligned 4 MiB file: two PMD leaves */
	leaves_of_4m(ctx, &pte, &pmd, &pud);
	CU_ASSERT_EQUAL(pmd, 2);
	CU_ASSERT_EQUAL(pte, 0);
	CU_ASSERT_EQUAL(pud, 0);

	/* 4K-align namespace: only PTEs */
	CU_ASSERT_FATAL(dlh_start(&d, &o) == 0);
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	leaves_of_4m(c, &pte, &pmd, &pud);
	CU_ASSERT_EQUAL(pte, 1024);
	CU_ASSERT_EQUAL(pmd, 0);
	CU_ASSERT_EQUAL(pud, 0);
	daxlease_unref(c);
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
}

/* Find the table memfd in this process: an fd, or else a mapping. */
static int open_table_memfd(void)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct dirent *de;
	DIR *dir = opendir("/proc/self/fd");
	int fd = -1;
	FILE *maps;

	while (dir && (de = readdir(dir))) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (strstr(link, "memfd:daxlease-table")) {
			fd = open(path, O_RDWR);
			break;
		}
	}
	if (dir)
		closedir(dir);
	if (fd >= 0)
		return fd;
	maps = fopen("/proc/self/maps", "r");
	while (maps && fgets(link, sizeof(link), maps)) {
		unsigned long lo, hi;

		if (!strstr(link, "memfd:daxlease-table") ||
		    sscanf(link, "%lx-%lx", &lo, &hi) != 2)
			continue;
		snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
			 lo, hi);
		fd = open(path, O_RDWR);
		if (fd < 0)
			fd = open(path, O_RDONLY);
		break;
	}
	if (maps)
		fclose(maps);
	return fd;
}

static void test_table_read_only(void)
{
	struct daxlease_file *f;
	struct daxlease_map *m = NULL;
	const struct dl_table_hdr *h;
	static uint8_t buf[64 * KiB];
	void *w;
	int fd;

	if (!need_root())
		return;
	f = xopen(ctx, "table", CREATE | DAXLEASE_O_TRUNC);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, buf, sizeof(buf), 0),
			(ssize_t)sizeof(buf));
	CU_ASSERT_EQUAL_FATAL(leased_map(f, 0, 64 * KiB, DAXLEASE_PROT_READ,
					   &m), 0);
	fd = open_table_memfd();
	CU_ASSERT_FATAL(fd >= 0);
	/* readable: a table with its header */
	h = mmap(NULL, DL_TABLE_HDR_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	CU_ASSERT_FATAL(h != MAP_FAILED);
	CU_ASSERT_EQUAL(h->magic, DL_TABLE_MAGIC);
	CU_ASSERT_EQUAL(h->version, DL_TABLE_VERSION);
	CU_ASSERT_EQUAL(h->entry_size, sizeof(struct dl_table_entry));
	munmap((void *)h, DL_TABLE_HDR_SIZE);
	/* not writable, not resizable: sealed */
	errno = 0;
	w = mmap(NULL, DL_TABLE_HDR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	CU_ASSERT_PTR_EQUAL(w, MAP_FAILED);
	/* opened read-write, only the seal can refuse: EPERM (protocol.md) */
	if ((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR) {
		CU_ASSERT_EQUAL(errno, EPERM);
	} else {
		CU_ASSERT_TRUE(errno == EPERM || errno == EACCES);
	}
	if (w != MAP_FAILED)
		munmap(w, DL_TABLE_HDR_SIZE);
	CU_ASSERT_NOT_EQUAL(ftruncate(fd, 0), 0);
	CU_ASSERT_EQUAL(pwrite(fd, "x", 1, 0), -1);
	{
		int seals = fcntl(fd, F_GET_SEALS);

		CU_ASSERT_TRUE(seals >= 0 && (seals & F_SEAL_FUTURE_WRITE) &&
			       (seals & F_SEAL_SHRINK) && (seals & F_SEAL_GROW));
	}
	close(fd);
	CU_ASSERT_EQUAL(daxlease_unmap(m), 0);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(ctx, "table"), 0);
}

/* Valid entries of the table of this process whose file_offset lies in
 * [lo, hi); their pte words go to out (up to max). */
static size_t valid_entries(const struct dl_table_hdr *h, uint64_t lo,
			    uint64_t hi, uint64_t *out, size_t max)
{
	const struct dl_table_entry *e = (const void *)((const char *)h +
							DL_TABLE_HDR_SIZE);
	size_t n = 0;

	for (uint64_t i = 0; i < h->nentries; i++) {
		uint64_t pte = __atomic_load_n(&e[i].pte, __ATOMIC_ACQUIRE);

		if ((pte & DL_PTE_VALID) && e[i].file_offset >= lo &&
		    e[i].file_offset < hi) {
			if (n < max)
				out[n] = pte;
			n++;
		}
	}
	return n;
}

/*
 * A layout change invalidates the entries that map the changed range,
 * in the table the client reads, before the change is answered; entries
 * of other ranges and of other files stay valid.
 */
static void test_layout_change_invalidates(void)
{
	static uint8_t buf[64 * KiB];
	struct daxlease_file *f, *g;
	struct daxlease_map *mf = NULL, *mg = NULL;
	const struct dl_table_hdr *h;
	uint64_t before[16], after[16];
	size_t size;
	int fd;

	if (!need_root())
		return;
	f = xopen(ctx, "inval-f", CREATE | DAXLEASE_O_TRUNC);
	g = xopen(ctx, "inval-g", CREATE | DAXLEASE_O_TRUNC);
	fill(buf, sizeof(buf), 5, 0);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, buf, 16 * KiB, 0), 16 * KiB);
	/* g's entries sit at file offsets f never uses */
	CU_ASSERT_EQUAL(daxlease_truncate(g, 1 * MiB), 0);
	CU_ASSERT_EQUAL(daxlease_pwrite(g, buf, 16 * KiB, 512 * KiB),
			16 * KiB);
	CU_ASSERT_EQUAL_FATAL(leased_map(f, 0, 16 * KiB, DAXLEASE_PROT_READ,
					   &mf), 0);
	CU_ASSERT_EQUAL_FATAL(leased_map(g, 512 * KiB, 16 * KiB,
					   DAXLEASE_PROT_READ, &mg), 0);
	fd = open_table_memfd();
	CU_ASSERT_FATAL(fd >= 0);
	h = mmap(NULL, DL_TABLE_HDR_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	CU_ASSERT_FATAL(h != MAP_FAILED);
	size = DL_TABLE_HDR_SIZE + h->nentries * sizeof(struct dl_table_entry);
	munmap((void *)h, DL_TABLE_HDR_SIZE);
	h = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	CU_ASSERT_FATAL(h != MAP_FAILED);

	CU_ASSERT_EQUAL_FATAL(valid_entries(h, 0, 16 * KiB, before, 16), 4);
	CU_ASSERT_EQUAL(valid_entries(h, 512 * KiB, 528 * KiB, after, 16), 4);
	/* shrink f to one block: entries 1..3 go, entry 0 stays */
	CU_ASSERT_EQUAL(daxlease_truncate(f, 4096), 0);
	CU_ASSERT_EQUAL(valid_entries(h, 0, 4096, after, 16), 1);
	CU_ASSERT_EQUAL(after[0], before[0]);
	CU_ASSERT_EQUAL(valid_entries(h, 4096, 16 * KiB, after, 16), 0);
	/* g is another file: untouched */
	CU_ASSERT_EQUAL(valid_entries(h, 512 * KiB, 528 * KiB, after, 16), 4);
	/* punch the block that is left: its entry goes too */
	CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_PUNCH_HOLE |
					   FALLOC_FL_KEEP_SIZE, 0, 4096), 0);
	CU_ASSERT_EQUAL(valid_entries(h, 0, 16 * KiB, after, 16), 0);
	CU_ASSERT_EQUAL(valid_entries(h, 512 * KiB, 528 * KiB, after, 16), 4);
	/* the stale mapping can be unmapped, and the range mapped again */
	CU_ASSERT_EQUAL(daxlease_unmap(mf), 0);
	CU_ASSERT_EQUAL(leased_map(f, 0, 4096, DAXLEASE_PROT_READ |
				     DAXLEASE_PROT_WRITE, &mf), 0);
	if (mf) {
		CU_ASSERT_EQUAL(valid_entries(h, 0, 4096, after, 16), 1);
		/* a rewrite of an entry never reuses the old word */
		CU_ASSERT_NOT_EQUAL(after[0], before[0]);
		CU_ASSERT_TRUE(after[0] & DL_PTE_WRITE);
		CU_ASSERT_EQUAL(daxlease_unmap(mf), 0);
	}
	/* unmapping drops the entries */
	CU_ASSERT_EQUAL(daxlease_unmap(mg), 0);
	CU_ASSERT_EQUAL(valid_entries(h, 0, 2 * MiB, after, 16), 0);
	munmap((void *)h, size);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(daxlease_close(g), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(ctx, "inval-f"), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(ctx, "inval-g"), 0);
}

/* The table memfd of this process that is not `skip_ino`, mapped. */
static const struct dl_table_hdr *map_table_except(ino_t skip_ino,
						   size_t *size)
{
	char path[PATH_MAX], link[PATH_MAX];
	const struct dl_table_hdr *h = NULL;
	struct dirent *de;
	DIR *dir = opendir("/proc/self/fd");

	while (dir && (de = readdir(dir))) {
		struct stat st;
		ssize_t n;
		int fd;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (!strstr(link, "memfd:daxlease-table"))
			continue;
		fd = open(path, O_RDONLY);
		if (fd < 0 || fstat(fd, &st) || st.st_ino == skip_ino) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		*size = (size_t)st.st_size;
		h = mmap(NULL, *size, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		if (h == MAP_FAILED)
			h = NULL;
		break;
	}
	if (dir)
		closedir(dir);
	return h;
}

static ino_t own_table_ino(void)
{
	size_t size;
	const struct dl_table_hdr *h = map_table_except(0, &size);
	struct stat st;
	int fd = open_table_memfd();
	ino_t ino = 0;

	if (h)
		munmap((void *)h, size);
	if (fd >= 0 && !fstat(fd, &st))
		ino = st.st_ino;
	if (fd >= 0)
		close(fd);
	return ino;
}

/* In a child: map "xc" with its own context, report, wait, verify that
 * the parent's change invalidated every entry. */
static int cross_child(ino_t parent_table, int ready, int go)
{
	struct daxlease_ctx *c = NULL;
	struct daxlease_file *f = NULL;
	struct daxlease_map *m = NULL;
	const struct dl_table_hdr *h;
	uint64_t ptes[8];
	size_t size = 0;
	char b;

	if (daxlease_new(&c, dmn.socket) ||
	    daxlease_open(c, "xc", DAXLEASE_O_READ, 0, &f) ||
	    leased_map(f, 0, 16 * KiB, DAXLEASE_PROT_READ, &m))
		return 10;
	h = map_table_except(parent_table, &size);
	if (!h || valid_entries(h, 0, 16 * KiB, ptes, 8) != 4)
		return 11;
	if (write(ready, "r", 1) != 1 || read(go, &b, 1) != 1)
		return 12;
	/* the parent's reply came before it wrote to the pipe */
	if (valid_entries(h, 0, 16 * KiB, ptes, 8) != 0)
		return 13;
	if (daxlease_unmap(m))
		return 14;
	munmap((void *)h, size);
	daxlease_close(f);
	daxlease_unref(c);
	return 0;
}

/* Layout changes by one client invalidate another client's entries. */
static void test_cross_client_invalidation(void)
{
	static uint8_t buf[16 * KiB];
	ino_t parent_table;

	if (!need_root())
		return;
	parent_table = own_table_ino();
	for (int op = 0; op < 5; op++) {
		struct daxlease_file *f, *g;
		int ready[2], go[2], status;
		pid_t pid;
		char b;

		f = xopen(ctx, "xc", CREATE | DAXLEASE_O_TRUNC);
		CU_ASSERT_EQUAL(daxlease_pwrite(f, buf, sizeof(buf), 0),
				(ssize_t)sizeof(buf));
		CU_ASSERT_FATAL(pipe(ready) == 0 && pipe(go) == 0);
		fflush(NULL);
		pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0)
			_exit(cross_child(parent_table, ready[1], go[0]));
		CU_ASSERT_EQUAL_FATAL(read(ready[0], &b, 1), 1);
		switch (op) {
		case 0:
			CU_ASSERT_EQUAL(daxlease_truncate(f, 0), 0);
			break;
		case 1:
			CU_ASSERT_EQUAL(daxlease_fallocate(f,
				FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
				16 * KiB), 0);
			break;
		case 2:
			CU_ASSERT_EQUAL(daxlease_unlink(ctx, "xc"), 0);
			break;
		case 3:
			g = xopen(ctx, "xc-new", CREATE);
			CU_ASSERT_EQUAL(daxlease_close(g), 0);
			CU_ASSERT_EQUAL(daxlease_rename(ctx, "xc-new", "xc", 0),
					0);
			break;
		default:
			g = xopen(ctx, "xc", RW | DAXLEASE_O_TRUNC);
			CU_ASSERT_EQUAL(daxlease_close(g), 0);
			break;
		}
		CU_ASSERT_EQUAL(write(go[1], "g", 1), 1);
		CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			fprintf(stderr, "op %d: child status 0x%x\n", op,
				status);
		CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		close(ready[0]);
		close(ready[1]);
		close(go[0]);
		close(go[1]);
		CU_ASSERT_EQUAL(daxlease_close(f), 0);
	}
	daxlease_unlink(ctx, "xc");
}

/* A client killed while it holds a mapping leaves nothing behind; what
 * it persisted through the mapping stays. */
static void test_mapping_client_killed(void)
{
	struct daxlease_status st;
	int base_fds, p[2], now_fds = -1;
	uint32_t base_clients, now_clients = 0;
	static uint8_t buf[64 * KiB];
	struct daxlease_file *f;
	pid_t pid;
	char c;

	if (!need_root())
		return;
	/* clients of earlier cases go away in the daemon's own time: wait
	 * (bounded) until only ctx is left, then take the baseline */
	for (int i = 0; i < 1000; i++) {
		CU_ASSERT_EQUAL_FATAL(daxlease_status(ctx, &st), 0);
		if (st.clients == 1)
			break;
		usleep(10000);
	}
	CU_ASSERT_EQUAL_FATAL(st.clients, 1);
	base_clients = st.clients;
	base_fds = dlh_count_fds(dmn.pid);
	CU_ASSERT_FATAL(pipe(p) == 0);
	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct daxlease_ctx *c2 = NULL;
		struct daxlease_file *g = NULL;
		struct daxlease_map *m = NULL;

		if (daxlease_new(&c2, dmn.socket) ||
		    daxlease_open(c2, "killed-mapper", CREATE, 0644, &g) ||
		    daxlease_truncate(g, 64 * KiB) ||
		    leased_map(g, 0, 64 * KiB, DAXLEASE_PROT_READ |
				 DAXLEASE_PROT_WRITE, &m))
			_exit(1);
		fill(daxlease_map_addr(m), 64 * KiB, 21, 0);
		if (daxlease_map_persist(m, 0, 64 * KiB) ||
		    write(p[1], "m", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	CU_ASSERT_EQUAL_FATAL(read(p[0], &c, 1), 1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(p[0]);
	close(p[1]);
	for (int i = 0; i < 1000; i++) {
		CU_ASSERT_EQUAL_FATAL(daxlease_status(ctx, &st), 0);
		now_clients = st.clients;
		now_fds = dlh_count_fds(dmn.pid);
		if (now_clients == base_clients && now_fds == base_fds)
			break;
		usleep(10000);
	}
	CU_ASSERT_EQUAL(now_clients, base_clients);
	CU_ASSERT_EQUAL(now_fds, base_fds);
	f = xopen(ctx, "killed-mapper", RW);
	CU_ASSERT_EQUAL(daxlease_pread(f, buf, sizeof(buf), 0),
			(ssize_t)sizeof(buf));
	CU_ASSERT_TRUE(check(buf, sizeof(buf), 21, 0));
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(ctx, "killed-mapper"), 0);
}

/* ---- one context, several threads ------------------------------------------------ */

#define NTHREADS 4

struct thr {
	unsigned id;
	int bad;
};

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	struct daxlease_file *f = NULL;
	struct daxlease_stat st;
	uint8_t w[8192], r[8192];
	char name[32];

	snprintf(name, sizeof(name), "thr-%u", t->id);
	if (daxlease_open(ctx, name, CREATE | DAXLEASE_O_TRUNC, 0644, &f)) {
		t->bad = 1;
		return NULL;
	}
	for (unsigned i = 0; i < 200 && !t->bad; i++) {
		fill(w, sizeof(w), t->id * 1000 + i, 0);
		if (daxlease_pwrite(f, w, sizeof(w), (uint64_t)i * 4096) !=
		    (ssize_t)sizeof(w) ||
		    daxlease_pread(f, r, sizeof(r), (uint64_t)i * 4096) !=
		    (ssize_t)sizeof(r) || memcmp(w, r, sizeof(w)) ||
		    daxlease_fstat(f, &st) || st.size != (i + 2) * 4096ULL ||
		    strcmp(st.name, name))
			t->bad = 2;
	}
	if (daxlease_close(f) || daxlease_unlink(ctx, name))
		t->bad = 3;
	return NULL;
}

static void test_threads(void)
{
	pthread_t th[NTHREADS];
	struct thr t[NTHREADS];

	for (unsigned i = 0; i < NTHREADS; i++) {
		t[i] = (struct thr){ .id = i };
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, thread_main,
					       &t[i]) == 0);
	}
	for (unsigned i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		if (t[i].bad)
			fprintf(stderr, "thread %u: failure %d\n", i, t[i].bad);
		CU_ASSERT_EQUAL(t[i].bad, 0);
	}
}

/* A client that loses its daemon gets -ENOTCONN, never a hang. */
static void test_lost_connection(void)
{
	struct dlh_opts o = { .name = "lost" };
	struct daxlease_ctx *c = NULL;
	struct daxlease_status st;
	struct daxlease_stat st2;
	struct daxlease_file *f;
	struct dlh_daemon d;
	char b[4];

	CU_ASSERT_FATAL(dlh_start(&d, &o) == 0);
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	f = xopen(c, "x", CREATE);
	dlh_kill(&d);
	CU_ASSERT_EQUAL(daxlease_status(c, &st), -ENOTCONN);
	CU_ASSERT_EQUAL(daxlease_pread(f, b, 4, 0), -ENOTCONN);
	CU_ASSERT_EQUAL(daxlease_stat(c, "x", &st2), -ENOTCONN);
	daxlease_close(f);
	daxlease_unref(c);
	/* and a new connection to a dead socket fails */
	CU_ASSERT_TRUE(daxlease_new(&c, d.socket) < 0);
}

/*
 * Several threads share one context: a truncate that waits for a pin must
 * not keep the other threads' calls - the UNPIN it waits for, or a stat -
 * from the service.  A dead lock is seen as the unpin thread still running
 * after 20 s; then the daemon goes, and every call ends with -ENOTCONN.
 */
struct shared_call {
	struct daxlease_ctx *c;
	struct daxlease_file *f;
	uint64_t pin_id;
	int rc;
};

static void *shared_truncate(void *p)
{
	struct shared_call *a = p;

	a->rc = daxlease_truncate(a->f, 0);
	return NULL;
}

static void *shared_unpin(void *p)
{
	struct shared_call *a = p;
	struct daxlease_stat st;

	a->rc = daxlease_stat(a->c, "pinned", &st);
	if (!a->rc)
		a->rc = daxlease_unpin(a->c, a->pin_id);
	return NULL;
}

static void test_shared_ctx_unpin_while_truncate_waits(void)
{
	struct dlh_opts o = { .name = "sharedctx" };
	struct shared_call tr = { 0 }, un = { 0 };
	struct daxlease_ctx *c = NULL;
	struct daxlease_stat st;
	struct daxlease_file *f;
	struct dlh_daemon d;
	struct timespec ts;
	uint8_t blk[8192];
	pthread_t t1, t2;
	int hung;

	CU_ASSERT_FATAL(dlh_start(&d, &o) == 0);
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	f = xopen(c, "pinned", CREATE);
	memset(blk, 1, sizeof(blk));
	CU_ASSERT_EQUAL(daxlease_pwrite(f, blk, sizeof(blk), 0), 8192);
	CU_ASSERT_EQUAL_FATAL(leased_pin(f, 0, 8192, 0, &un.pin_id), 0);
	tr.c = un.c = c;
	tr.f = un.f = f;
	CU_ASSERT_FATAL(pthread_create(&t1, NULL, shared_truncate, &tr) == 0);
	usleep(300 * 1000);	/* let the truncate be sent and wait */
	CU_ASSERT_FATAL(pthread_create(&t2, NULL, shared_unpin, &un) == 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	hung = pthread_timedjoin_np(t2, NULL, &ts);
	CU_ASSERT_EQUAL(hung, 0);
	if (hung)
		dlh_kill(&d);	/* unblock both, then collect them */
	if (hung)
		pthread_join(t2, NULL);
	pthread_join(t1, NULL);
	CU_ASSERT_EQUAL(un.rc, 0);
	CU_ASSERT_EQUAL(tr.rc, 0);
	if (!hung) {
		CU_ASSERT_EQUAL(daxlease_fstat(f, &st), 0);
		CU_ASSERT_EQUAL(st.size, 0);
	}
	daxlease_close(f);
	daxlease_unref(c);
	if (!hung)
		CU_ASSERT_EQUAL(dlh_stop(&d), 0);
}

/* ---- a daemon killed and restarted ------------------------------------------- */

static int busy_writer(const char *sock, int ready)
{
	struct daxlease_ctx *c = NULL;
	struct daxlease_file *f = NULL;
	uint8_t buf[32 * KiB];
	ssize_t n;

	memset(buf, 'b', sizeof(buf));
	if (daxlease_new(&c, sock) ||
	    daxlease_open(c, "busy", CREATE, 0644, &f))
		return 10;
	for (uint64_t i = 0;; i++) {
		n = daxlease_pwrite(f, buf, sizeof(buf), (i % 64) * sizeof(buf));
		if (i == 8 && write(ready, "r", 1) != 1)
			return 11;
		if (n < 0)
			return n == -ENOTCONN ? 0 : 12;
	}
}

static void test_killed_and_restarted(void)
{
	struct dlh_opts o = { .name = "crash" };
	struct daxlease_status st;
	struct daxlease_ctx *c = NULL, *cm = NULL;
	struct daxlease_file *f, *fm = NULL;
	struct daxlease_map *m = NULL;
	static uint8_t buf[256 * KiB];
	struct dlh_daemon d;
	int p[2], status;
	pid_t pid;
	char b;

	CU_ASSERT_FATAL(dlh_start(&d, &o) == 0);
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	f = xopen(c, "durable", CREATE);
	fill(buf, sizeof(buf), 31, 0);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, buf, sizeof(buf), 0),
			(ssize_t)sizeof(buf));
	CU_ASSERT_EQUAL(daxlease_fsync(f), 0);
	/* a client that still holds a mapping (and so the namespace fd)
	 * when the daemon dies must not keep a restarted daemon out */
	if (geteuid() == 0) {
		CU_ASSERT_EQUAL(daxlease_new(&cm, d.socket), 0);
		CU_ASSERT_EQUAL(daxlease_open(cm, "durable", DAXLEASE_O_READ, 0,
					      &fm), 0);
		CU_ASSERT_EQUAL(leased_map(fm, 0, 64 * KiB,
					     DAXLEASE_PROT_READ, &m), 0);
	}
	CU_ASSERT_FATAL(pipe(p) == 0);
	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0)
		_exit(busy_writer(d.socket, p[1]));
	CU_ASSERT_EQUAL_FATAL(read(p[0], &b, 1), 1);
	/* power cut, as far as the daemon is concerned */
	dlh_kill(&d);
	/* the writer is told, and does not hang */
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(p[0]);
	close(p[1]);
	CU_ASSERT_EQUAL(daxlease_pread(f, buf, 16, 0), -ENOTCONN);
	daxlease_close(f);
	daxlease_unref(c);

	/* restart on the same image and the same (stale) socket path */
	o.reuse_image = true;
	if (dlh_start(&d, &o)) {
		CU_FAIL("daxleased did not restart after a kill");
		return;
	}
	if (m) {	/* still mapped, and the old data still there */
		CU_ASSERT_TRUE(check(daxlease_map_addr(m), 64 * KiB, 31, 0));
		daxlease_unmap(m);
		daxlease_close(fm);
		daxlease_unref(cm);
	}
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	CU_ASSERT_EQUAL(daxlease_status(c, &st), 0);
	CU_ASSERT_EQUAL(st.unsafe_shutdowns, 1);
	CU_ASSERT_EQUAL(st.files, 2);
	f = xopen(c, "durable", RW);
	memset(buf, 0, sizeof(buf));
	CU_ASSERT_EQUAL(daxlease_pread(f, buf, sizeof(buf), 0),
			(ssize_t)sizeof(buf));
	CU_ASSERT_TRUE(check(buf, sizeof(buf), 31, 0));
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	f = xopen(c, "busy", RW);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	daxlease_unref(c);
	/* a clean stop now: the check finds nothing, no new unsafe count */
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
}

/* ---- the daemon's own rules ---------------------------------------------------- */

static int exited_nonzero(int status)
{
	if (status == -1)
		fprintf(stderr, "daxleased kept running\n");
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
	       WEXITSTATUS(status) != 126 && WEXITSTATUS(status) != 127;
}

static void test_lifecycle(void)
{
	struct dlh_opts o = { .name = "life" };
	struct daxlease_ctx *c = NULL;
	struct daxlease_status st;
	struct dlh_daemon d, d2;
	char other_sock[PATH_MAX], log[PATH_MAX];

	CU_ASSERT_FATAL(dlh_start(&d, &o) == 0);
	snprintf(other_sock, sizeof(other_sock), "%s/other.sock", d.dir);
	snprintf(log, sizeof(log), "%s/second.stderr", d.dir);
	/* no namespace named: refused */
	{
		const char *args[] = { "--socket", other_sock, NULL };

		CU_ASSERT_TRUE(exited_nonzero(dlh_run_expect_exit(args, log)));
	}
	/* an image that is not there */
	{
		const char *args[] = { "--image", "/nonexistent/x.img",
				       "--socket", other_sock, NULL };

		CU_ASSERT_TRUE(exited_nonzero(dlh_run_expect_exit(args, log)));
	}
	/* a second daemon on the same image: refused (the image is in use) */
	{
		const char *args[] = { "--image", d.image, "--socket",
				       other_sock, NULL };

		CU_ASSERT_TRUE(exited_nonzero(dlh_run_expect_exit(args, log)));
	}
	/* a second daemon on a live daemon's socket: refused, socket kept */
	{
		struct dlh_opts o2 = { .name = "life2" };

		CU_ASSERT_FATAL(dlh_start(&d2, &o2) == 0);
		{
			const char *args[] = { "--image", d2.image,
					       "--socket", d.socket, NULL };

			CU_ASSERT_TRUE(exited_nonzero(
				dlh_run_expect_exit(args, log)));
		}
		CU_ASSERT_EQUAL(dlh_stop(&d2), 0);
	}
	/* after all that, the first daemon is still the one answering */
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	CU_ASSERT_EQUAL(daxlease_status(c, &st), 0);
	CU_ASSERT_EQUAL(st.pid, (uint64_t)d.pid);
	daxlease_unref(c);
	/* SIGINT stops it cleanly too */
	CU_ASSERT_EQUAL(dlh_stop_with(&d, SIGINT), 0);
}

/* A small table: -ENOSPC when full, entries reused after unmap. */
static void test_table_full(void)
{
	const char *extra[] = { "--table-entries", "16" };
	struct dlh_opts o = { .name = "table16", .align = 4096,
			      .extra = { extra[0], extra[1] } };
	struct daxlease_map *m1 = NULL, *m2 = NULL, *m3 = NULL;
	static uint8_t buf[64 * KiB];
	struct daxlease_ctx *c = NULL;
	struct daxlease_file *f;
	struct dlh_daemon d;

	if (!need_root())
		return;
	CU_ASSERT_FATAL(dlh_start(&d, &o) == 0);
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	f = xopen(c, "t", CREATE);
	fill(buf, sizeof(buf), 41, 0);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, buf, sizeof(buf), 0),
			(ssize_t)sizeof(buf));
	/* 4K align: one entry per page; 8 + 8 fill the table */
	CU_ASSERT_EQUAL_FATAL(leased_map(f, 0, 32 * KiB, DAXLEASE_PROT_READ,
					   &m1), 0);
	CU_ASSERT_EQUAL_FATAL(leased_map(f, 32 * KiB, 32 * KiB,
					   DAXLEASE_PROT_READ, &m2), 0);
	CU_ASSERT_EQUAL(leased_map(f, 0, 4096, DAXLEASE_PROT_READ, &m3),
			-ENOSPC);
	/* a mapping larger than the whole table */
	CU_ASSERT_EQUAL(daxlease_truncate(f, 128 * KiB), 0);
	CU_ASSERT_EQUAL(daxlease_unmap(m1), 0);
	CU_ASSERT_EQUAL(leased_map(f, 0, 128 * KiB, DAXLEASE_PROT_READ |
				     DAXLEASE_PROT_WRITE, &m3), -ENOSPC);
	/*
	 * A refused MAP leaves nothing behind: the table room is taken
	 * before the page_mkwrite step allocates the holes.
	 */
	{
		struct daxlease_stat st;

		CU_ASSERT_EQUAL(daxlease_fstat(f, &st), 0);
		CU_ASSERT_EQUAL(st.blocks, 16);
	}
	/* the freed run is reused */
	CU_ASSERT_EQUAL_FATAL(leased_map(f, 0, 32 * KiB, DAXLEASE_PROT_READ,
					   &m1), 0);
	CU_ASSERT_TRUE(check(daxlease_map_addr(m1), 32 * KiB, 41, 0));
	CU_ASSERT_TRUE(check(daxlease_map_addr(m2), 32 * KiB, 41, 32 * KiB));
	CU_ASSERT_EQUAL(daxlease_unmap(m1), 0);
	CU_ASSERT_EQUAL(daxlease_unmap(m2), 0);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	daxlease_unref(c);
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
}

static void test_clean_stop(void)
{
	daxlease_unref(ctx);
	ctx = NULL;
	CU_ASSERT_EQUAL(dlh_stop(&dmn), 0);
}

static CU_TestInfo tests[] = {
	{ "HELLO and STATUS", test_hello_status },
	{ "several client processes", test_many_clients },
	{ "vectored read and write", test_vectored },
	{ "LIST pages over 300 files", test_list_paging },
	{ "rename, unlink, stat, ESTALE", test_rename_unlink_stat },
	{ "corner cases", test_corners },
	{ "fallocate rules and errnos", test_fallocate_errnos },
	{ "ENOSPC leaves nothing half-done", test_enospc },
	{ "socket activation", test_socket_activation },
	{ "map for write, persist, read back", test_map_write_read },
	{ "PMD leaves on 2M, PTEs on 4K", test_map_leaves },
	{ "table memfd is read-only", test_table_read_only },
	{ "layout changes invalidate table entries",
	  test_layout_change_invalidates },
	{ "another client's layout change invalidates",
	  test_cross_client_invalidation },
	{ "client killed while mapping leaves nothing",
	  test_mapping_client_killed },
	{ "one context, several threads", test_threads },
	{ "lost connection: -ENOTCONN", test_lost_connection },
	{ "one context, two threads: unpin while a truncate waits", test_shared_ctx_unpin_while_truncate_waits },
	{ "killed, restarted: recovered, clean", test_killed_and_restarted },
	{ "refused starts; SIGINT", test_lifecycle },
	{ "a full mapping table: -ENOSPC, reuse", test_table_full },
	{ "clean stop", test_clean_stop },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "daemon", suite_init, suite_clean, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	if (dlh_prepare())
		return DL_TEST_SKIP;
	return dl_cunit_main(suites);
}

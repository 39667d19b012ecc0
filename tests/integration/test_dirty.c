/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dirty.c - the dirty records that write pins and writable mappings
 * leave, under a hostile client (issue 10, table row 5).
 *
 * A client process - uid 65534 when the test runs as root - writes a
 * file of its own, then write-pins and unpins many 4 KiB ranges of it,
 * one after the other, in a scattered order, and exits.  Every unpin
 * records its range dirty.  The service must keep that bounded: adjacent
 * and overlapping ranges merge (100,000 adjacent pages become one record),
 * distinct ranges stop at --dirty-max records by merging the nearest
 * ones, the DIRTY view of a large record set is paged without keeping
 * anyone else waiting, FSYNC writes a file's records back, and a dead
 * client's records go once the service has written them back.
 *
 * The daemon's memory bound is asserted on RssAnon (its heap and other
 * anonymous memory) from /proc/PID/status, from the moment the client has
 * written its file to the end: VmRSS also counts the image's page-cache
 * pages that the daemon touched through its own mapping of the
 * namespace, which is the 400 MiB file the client wrote, and under a
 * sanitizer the shadow of those pages is anonymous memory - neither is
 * memory the pins made the daemon allocate.  Both are printed.
 *
 * Counts scale with $DAXLEASE_DIRTY_PINS (the sanitizer builds set it
 * lower).  Timings are printed, never asserted.  The image goes to
 * /dev/shm unless $TMPDIR says otherwise.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cunit_run.h"
#include "daxlease/libdaxlease.h"
#include "harness.h"
#include "client_util.h"
#include "leased.h"

#define KiB 1024ULL
#define MiB (1024 * KiB)
#define PAGE 4096ULL
#define RW (DAXLEASE_O_READ | DAXLEASE_O_WRITE)

/* The daemon's anonymous memory may grow by at most this much. */
#define RSS_BOUND_KIB (16 * 1024)
/* --dirty-max of the daemon the limit test starts. */
#define SMALL_DIRTY_MAX 1000

static struct dlh_daemon dmn;
static struct daxlease_ctx *ctx;	/* the test's own (admin) context */
static char admin_group[64];

static unsigned npins(void)
{
	const char *s = getenv("DAXLEASE_DIRTY_PINS");
	unsigned long v = s ? strtoul(s, NULL, 10) : 0;

	return v ? (unsigned)v : 100000;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_rss(const char *when, pid_t pid)
{
	printf("\n    daemon %s: VmRSS %ld KiB, RssAnon %ld KiB", when,
	       dlh_proc_status_kib(pid, "VmRSS"),
	       dlh_proc_status_kib(pid, "RssAnon"));
}

static int start_daemon(struct dlh_daemon *d, const char *opt,
			const char *val)
{
	struct dlh_opts o = {
		.size = 1ULL << 30,
		.extra = { "--admin-group", admin_group, opt, val },
	};

	if (dlh_start(d, &o))
		return -1;
	/* only SO_PEERCRED decides who may connect */
	chmod(d->socket, 0666);
	return 0;
}

static int suite_init(void)
{
	struct group *g = getgrgid(getgid());

	/* admin views for whoever runs the test, root or not */
	if (!g)
		return -1;
	snprintf(admin_group, sizeof(admin_group), "%s", g->gr_name);
	/* no background writeback while the tests count records */
	if (start_daemon(&dmn, "--dirty-expire", "3600000"))
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

/* ---- the attacking client ---------------------------------------------- */

/* Fill f with size bytes, 1 MiB per WRITE. */
static int fill(struct daxlease_file *f, uint64_t size)
{
	static uint8_t buf[MiB];
	int rc = 0;

	memset(buf, 0x5a, sizeof(buf));
	for (uint64_t off = 0; !rc && off < size; off += sizeof(buf)) {
		size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);

		rc = daxlease_pwrite(f, buf, n, off) == (ssize_t)n ? 0 : -1;
	}
	return rc;
}

/* A step through 0..n-1 that visits each once: odd and prime to n. */
static uint64_t scatter_step(uint64_t n)
{
	return n % 7919 ? 7919 : 7907;
}

/*
 * The child: create name (mode 0600, its own), fill n * stride pages,
 * lease it whole, say so on filled and wait for a byte on go, then
 * write-pin and unpin page k * stride for every k in a scattered order,
 * and exit.  Exit status 0 if everything worked.
 */
static void attacker_main(const char *sock, const char *name, uint64_t n,
			  uint64_t stride, int filled, int go)
{
	uint64_t size = n * stride * PAGE, step = scatter_step(n), lease;
	struct daxlease_file *f;
	struct daxlease_ctx *c;
	double t0, t;

	if (dlh_drop_to_nobody() || daxlease_new(&c, sock) ||
	    daxlease_open(c, name, RW | DAXLEASE_O_CREATE | DAXLEASE_O_TRUNC,
			  0600, &f))
		_exit(2);
	t0 = now_s();
	if (fill(f, size) ||
	    daxlease_lease_acquire(f, 0, size, DAXLEASE_LEASE_SHARED, 0,
				   &lease))
		_exit(3);
	printf("\n    uid %d wrote %llu MiB in %.2f s", (int)getuid(),
	       (unsigned long long)(size / MiB), now_s() - t0);
	fflush(stdout);
	if (write(filled, "F", 1) != 1 || read(go, &(char){ 0 }, 1) != 1)
		_exit(5);
	t0 = t = now_s();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t k = i * step % n, id;

		if (daxlease_pin(f, k * stride * PAGE, PAGE,
				 DAXLEASE_PIN_WRITE, &id) ||
		    daxlease_unpin(c, id))
			_exit(4);
		if ((i + 1) % 20000 == 0) {
			printf("\n    pins %llu..%llu: %.2f s",
			       (unsigned long long)(i + 1 - 20000),
			       (unsigned long long)i, now_s() - t);
			t = now_s();
		}
	}
	printf("\n    %llu write PIN + UNPIN pairs in %.2f s",
	       (unsigned long long)n, now_s() - t0);
	fflush(stdout);
	_exit(0);
}

/* The daemon's RssAnon once the attacker had written its file. */
static long anon_filled;

/* Run the attacker against daemon d; its exit status. */
static int attack(const struct dlh_daemon *d, const char *name, uint64_t n,
		  uint64_t stride)
{
	int filled[2], go[2];
	char b = 0;
	pid_t pid;

	if (pipe(filled) || pipe(go))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid)
		attacker_main(d->socket, name, n, stride, filled[1], go[0]);
	close(filled[1]);
	close(go[0]);
	if (read(filled[0], &b, 1) == 1) {
		anon_filled = dlh_proc_status_kib(d->pid, "RssAnon");
		print_rss("with the file written", d->pid);
	}
	if (b && write(go[1], "g", 1) != 1)
		b = 0;
	close(filled[0]);
	close(go[1]);
	return dlc_wait_exit(pid);
}

/* The daemon's anonymous memory grew by less than RSS_BOUND_KIB since
 * the attacker's file was written. */
static bool rss_bounded(pid_t pid)
{
	long now = dlh_proc_status_kib(pid, "RssAnon");

	print_rss("after", pid);
	return anon_filled > 0 && now > 0 && now - anon_filled < RSS_BOUND_KIB;
}

/* ---- reading the DIRTY view -------------------------------------------- */

struct dirty_list {
	struct daxlease_dirty *v;
	size_t n, cap;
	unsigned pages;
	double slowest_page;
};

static void list_free(struct dirty_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/*
 * Read one page of the view into l: 0 with more to come, 1 at the end,
 * -1 on an error.
 */
static int list_page(struct daxlease_ctx *c, uint64_t *cursor,
		     struct dirty_list *l)
{
	double t = now_s();
	int got;

	if (l->n + 64 > l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 1024;
		void *v = realloc(l->v, cap * sizeof(*l->v));

		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	got = daxlease_dirty(c, cursor, l->v + l->n, 64);
	if (got < 0)
		return -1;
	l->n += (size_t)got;
	l->pages++;
	if (now_s() - t > l->slowest_page)
		l->slowest_page = now_s() - t;
	return *cursor ? 0 : 1;
}

/* The whole view, page by page; 0 or -1. */
static int list_all(struct daxlease_ctx *c, struct dirty_list *l)
{
	uint64_t cursor = 0;
	int rc;

	memset(l, 0, sizeof(*l));
	while (!(rc = list_page(c, &cursor, l)))
		;
	return rc < 0 ? -1 : 0;
}

static uint64_t ino_of(struct daxlease_ctx *c, const char *name)
{
	struct daxlease_stat st;

	CU_ASSERT_EQUAL_FATAL(daxlease_stat(c, name, &st), 0);
	return st.ino;
}

static size_t count_of(const struct dirty_list *l, uint64_t ino)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->v[i].ino == ino;
	return n;
}

static int by_offset(const void *a, const void *b)
{
	const struct daxlease_dirty *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* The records of ino in l, moved to the front of l->v in offset order. */
static size_t sort_ino(struct dirty_list *l, uint64_t ino)
{
	size_t k = 0;

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].ino == ino) {
			struct daxlease_dirty t = l->v[k];

			l->v[k++] = l->v[i];
			l->v[i] = t;
		}
	qsort(l->v, k, sizeof(*l->v), by_offset);
	return k;
}

/* Do the k sorted records neither overlap nor touch (merged, not just
 * stacked)? */
static bool disjoint(const struct daxlease_dirty *v, size_t k)
{
	for (size_t i = 1; i < k; i++)
		if (v[i - 1].offset + v[i - 1].length >= v[i].offset)
			return false;
	return true;
}

/* Is [off, off+len) inside one of the k sorted records? */
static bool covered(const struct daxlease_dirty *v, size_t k, uint64_t off,
		    uint64_t len)
{
	size_t lo = 0, hi = k;

	/* the last record starting at or before off */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].offset <= off)
			lo = mid;
		else
			hi = mid;
	}
	return k && v[lo].offset <= off &&
	       off + len <= v[lo].offset + v[lo].length;
}

/* Is every page k * stride (k < n) inside one of the k sorted records? */
static bool all_pinned_covered(const struct daxlease_dirty *v, size_t k,
			       uint64_t n, uint64_t stride)
{
	for (uint64_t i = 0; i < n; i++)
		if (!covered(v, k, i * stride * PAGE, PAGE))
			return false;
	return true;
}

/* ---- tests ------------------------------------------------------------- */

/* Row 5: N adjacent 4 KiB write pins, scattered, leave one record. */
static void test_adjacent_pins_merge(void)
{
	uint64_t n = npins(), ino;
	struct dirty_list l;
	double t;

	print_rss("before", dmn.pid);
	CU_ASSERT_EQUAL_FATAL(attack(&dmn, "adjacent", n, 1), 0);
	ino = ino_of(ctx, "adjacent");
	t = now_s();
	CU_ASSERT_EQUAL_FATAL(list_all(ctx, &l), 0);
	printf("\n    DIRTY: %zu record(s) in %u page(s), %.3f s (slowest page %.1f ms)",
	       l.n, l.pages, now_s() - t, l.slowest_page * 1e3);
	CU_ASSERT_EQUAL(sort_ino(&l, ino), 1);
	CU_ASSERT_TRUE(covered(l.v, 1, 0, n * PAGE));
	CU_ASSERT_TRUE(rss_bounded(dmn.pid));
	list_free(&l);
	CU_ASSERT_EQUAL(daxlease_unlink(ctx, "adjacent"), 0);
}

/*
 * Distinct ranges (a page apart) past --dirty-max: at most that many
 * records, merged, and every pinned page still inside one of them.
 */
static void test_distinct_pins_bounded(void)
{
	uint64_t n = npins() / 5, ino;
	struct daxlease_ctx *c = NULL;
	struct dirty_list l = { 0 };
	struct dlh_daemon d;
	char max[16];
	size_t k;

	snprintf(max, sizeof(max), "%d", SMALL_DIRTY_MAX);
	CU_ASSERT_EQUAL_FATAL(start_daemon(&d, "--dirty-max", max), 0);
	CU_ASSERT_EQUAL(attack(&d, "distinct", n, 2), 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_new(&c, d.socket), 0);
	ino = ino_of(c, "distinct");
	CU_ASSERT_EQUAL_FATAL(list_all(c, &l), 0);
	printf("\n    %llu distinct ranges -> %zu record(s) (--dirty-max %s)",
	       (unsigned long long)n, l.n, max);
	CU_ASSERT_TRUE(l.n <= SMALL_DIRTY_MAX);
	k = sort_ino(&l, ino);
	CU_ASSERT_TRUE(k > 0);
	CU_ASSERT_TRUE(disjoint(l.v, k));
	/* merging over-approximates: no pinned page is left out */
	CU_ASSERT_TRUE(all_pinned_covered(l.v, k, n, 2));
	/* said once, not once per merge (one a minute at most) */
	CU_ASSERT_EQUAL(dlh_log_lines_with(&d, "dirty records at the limit"), 1);
	CU_ASSERT_TRUE(rss_bounded(d.pid));
	list_free(&l);
	daxlease_unref(c);
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
}

/*
 * A large view, listed a page at a time, while another client asks for
 * STATUS between every two pages: each is answered, and the listing
 * sees every record exactly once.
 */
static void test_huge_view_pages(void)
{
	uint64_t n = npins() / 5, ino, cursor = 0;
	struct daxlease_ctx *other = NULL;
	struct daxlease_status st;
	struct dirty_list l = { 0 };
	unsigned answered = 0;
	double t, slowest = 0;
	int rc;

	CU_ASSERT_EQUAL_FATAL(attack(&dmn, "huge", n, 2), 0);
	ino = ino_of(ctx, "huge");
	CU_ASSERT_EQUAL_FATAL(daxlease_new(&other, dmn.socket), 0);
	t = now_s();
	while (!(rc = list_page(ctx, &cursor, &l))) {
		double s = now_s();

		answered += daxlease_status(other, &st) == 0;
		if (now_s() - s > slowest)
			slowest = now_s() - s;
	}
	CU_ASSERT_EQUAL(rc, 1);
	printf("\n    DIRTY: %zu records in %u pages, %.3f s; slowest page %.1f ms, slowest STATUS between pages %.1f ms",
	       l.n, l.pages, now_s() - t, l.slowest_page * 1e3,
	       slowest * 1e3);
	CU_ASSERT_EQUAL(answered, l.pages - 1);
	/* each page once, each record once: n distinct, sorted, disjoint */
	CU_ASSERT_EQUAL(sort_ino(&l, ino), n);
	CU_ASSERT_TRUE(disjoint(l.v, n));
	CU_ASSERT_TRUE(all_pinned_covered(l.v, n, n, 2));
	list_free(&l);
	daxlease_unref(other);
	CU_ASSERT_EQUAL(daxlease_unlink(ctx, "huge"), 0);
}

/* The view of ino has no record left: wait up to 20 s for it. */
static int wait_no_record(struct daxlease_ctx *c, uint64_t ino)
{
	for (int tries = 0; tries < 4000; tries++) {
		struct dirty_list l;
		size_t k;

		if (list_all(c, &l))
			return -1;
		k = count_of(&l, ino);
		list_free(&l);
		if (!k)
			return 0;
		usleep(5000);
	}
	fprintf(stderr, "the records of inode %llu never went\n",
		(unsigned long long)ino);
	return -1;
}

/* A dead client's records go once the service has written them back. */
static void test_dead_client_records_go(void)
{
	struct daxlease_ctx *c = NULL;
	struct dlh_daemon d;
	uint64_t ino;

	CU_ASSERT_EQUAL_FATAL(start_daemon(&d, "--dirty-expire", "0"), 0);
	CU_ASSERT_EQUAL(attack(&d, "dead", 100, 2), 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_new(&c, d.socket), 0);
	ino = ino_of(c, "dead");
	CU_ASSERT_EQUAL(wait_no_record(c, ino), 0);
	daxlease_unref(c);
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
}

static size_t records_of(uint64_t ino)
{
	struct dirty_list l;
	size_t n;

	CU_ASSERT_EQUAL_FATAL(list_all(ctx, &l), 0);
	n = count_of(&l, ino);
	list_free(&l);
	return n;
}

/*
 * FSYNC writes the file's records back and they go; a writable mapping's
 * range is recorded at MAP and again when the mapping goes (a store may
 * have come after the fsync).
 */
static void test_fsync_writes_back(void)
{
	struct daxlease_file *f = NULL;
	struct daxlease_map *m = NULL;
	uint64_t ino, id;

	CU_ASSERT_EQUAL_FATAL(daxlease_open(ctx, "synced", RW |
					    DAXLEASE_O_CREATE, 0644, &f), 0);
	CU_ASSERT_EQUAL_FATAL(fill(f, 4 * MiB), 0);
	ino = ino_of(ctx, "synced");
	CU_ASSERT_EQUAL(leased_pin(f, 0, 64 * KiB, DAXLEASE_PIN_WRITE, &id),
			0);
	CU_ASSERT_EQUAL(daxlease_unpin(ctx, id), 0);
	CU_ASSERT_EQUAL(records_of(ino), 1);
	CU_ASSERT_EQUAL(daxlease_fsync(f), 0);
	CU_ASSERT_EQUAL(records_of(ino), 0);

	CU_ASSERT_EQUAL_FATAL(leased_map(f, 2 * MiB, 2 * MiB,
					 DAXLEASE_PROT_READ |
					 DAXLEASE_PROT_WRITE, &m), 0);
	CU_ASSERT_EQUAL(records_of(ino), 1);
	CU_ASSERT_EQUAL(daxlease_fsync(f), 0);
	CU_ASSERT_EQUAL(records_of(ino), 0);
	CU_ASSERT_EQUAL(daxlease_unmap(m), 0);
	CU_ASSERT_EQUAL(records_of(ino), 1);
	CU_ASSERT_EQUAL(daxlease_fsync(f), 0);
	CU_ASSERT_EQUAL(records_of(ino), 0);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
}

/* Out-of-range values of the two options: a usage error, exit status 2. */
static void test_bad_options(void)
{
	static const char *const bad[][2] = {
		{ "--dirty-max", "0" }, { "--dirty-max", "16777217" },
		{ "--dirty-max", "-1" }, { "--dirty-max", "" },
		{ "--dirty-expire", "3600001" }, { "--dirty-expire", "1s" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_TRUE(dlh_usage_error(dmn.image, bad[i][0],
					       bad[i][1]));
}

static void test_clean_stop(void)
{
	daxlease_unref(ctx);
	ctx = NULL;
	CU_ASSERT_EQUAL(dlh_stop(&dmn), 0);
}

static CU_TestInfo tests[] = {
	{ "adjacent write pins merge into one record", test_adjacent_pins_merge },
	{ "distinct ranges stop at --dirty-max", test_distinct_pins_bounded },
	{ "a huge DIRTY view pages; others are served", test_huge_view_pages },
	{ "a dead client's records go once written back",
	  test_dead_client_records_go },
	{ "FSYNC writes the records back", test_fsync_writes_back },
	{ "bad --dirty-max and --dirty-expire", test_bad_options },
	{ "clean stop", test_clean_stop },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "dirty", suite_init, suite_clean, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	/* the attack writes 400 MiB, and this test is about the records,
	 * not about the disk */
	return dlh_main_in_memory(suites);
}

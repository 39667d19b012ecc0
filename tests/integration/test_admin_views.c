/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_admin_views.c - the admin views over many entries (issue 10,
 * item 4): BUSY over 100,000 socket pins, LEASES over 20,000 leases.
 *
 * The service pages them and finds each page from its cursor in a tree
 * by id (pin.c, lease.c), so a page costs about the same however many
 * there are, and the loop is never held for long: between every two
 * pages another client's STATUS is answered.  Each listing must see
 * every pin or lease exactly once.  The time of each page is printed
 * (median and slowest), never asserted.  A lockless pin's age is what
 * the service can know: the time since it last saw the counter at 0.
 *
 * The pins and leases are spread over a few connections of one holder
 * process, each within the default --pins-per-client and
 * --leases-per-client, so the daemon runs with its defaults.
 * $DAXLEASE_VIEW_PINS and $DAXLEASE_VIEW_LEASES scale the counts.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cunit_run.h"
#include "daxlease/libdaxlease.h"
#include "harness.h"
#include "client_util.h"

#define KiB 1024ULL
#define RW (DAXLEASE_O_READ | DAXLEASE_O_WRITE)
#define PAGE_MAX 64		/* DL_PROTO_VIEW_MAX */
#define PINS_PER_CONN 14000	/* under the default --pins-per-client */
#define LEASES_PER_CONN 1000	/* under the default --leases-per-client */
#define MAX_CONNS 64

static struct dlh_daemon dmn;
static struct daxlease_ctx *ctx;	/* the admin */
static struct daxlease_ctx *other;	/* served between pages */

static int suite_init(void)
{
	struct dlh_opts o = { .extra = { "--admin-group", dlh_own_group() } };

	if (!o.extra[1] || dlh_start(&dmn, &o))
		return -1;
	return daxlease_new(&ctx, dmn.socket) || daxlease_new(&other,
							      dmn.socket) ?
	       -1 : 0;
}

static int suite_clean(void)
{
	if (ctx)
		daxlease_unref(ctx);
	if (other)
		daxlease_unref(other);
	dlh_kill(&dmn);
	return 0;
}

/* ---- the holder ----------------------------------------------------------- */

enum hold { HOLD_PINS, HOLD_LEASES };

/*
 * The holder process: n pins of [0, 4 KiB) of "held" (or n shared leases
 * of its pages), per_conn on each of its connections; 'R' on ready when
 * all are taken, then it waits for a byte on go and exits.
 */
static int holder_main(enum hold what, unsigned n, unsigned per_conn,
		       int ready, int go)
{
	struct daxlease_ctx *c[MAX_CONNS];
	struct daxlease_file *f[MAX_CONNS];
	unsigned done = 0, nconn = 0;
	uint64_t id;
	char b;

	while (done < n && nconn < MAX_CONNS) {
		unsigned k = n - done < per_conn ? n - done : per_conn;

		if (daxlease_new(&c[nconn], dmn.socket) ||
		    daxlease_open(c[nconn], "held", RW | DAXLEASE_O_CREATE, 0644,
				  &f[nconn]))
			return 2;
		/* pins: one lease covers the page; leases: one a page */
		if (what == HOLD_PINS &&
		    daxlease_lease_acquire(f[nconn], 0, 4 * KiB,
					   DAXLEASE_LEASE_SHARED, 0, &id))
			return 3;
		for (unsigned i = 0; i < k; i++)
			if (what == HOLD_PINS ?
			    daxlease_pin(f[nconn], 0, 4 * KiB, 0, &id) :
			    daxlease_lease_acquire(f[nconn], i * 4 * KiB,
						   4 * KiB,
						   DAXLEASE_LEASE_SHARED, 0,
						   &id))
				return 4;
		done += k;
		nconn++;
	}
	if (done < n || write(ready, "R", 1) != 1)
		return 5;
	return read(go, &b, 1) == 1 ? 0 : 6;
}

struct holder {
	pid_t pid;
	int ready[2], go[2];
};

static int holder_start(struct holder *h, enum hold what, unsigned n,
			unsigned per_conn)
{
	struct daxlease_file *f;
	char b = 0;

	/* the file, 4 MiB (holes: a read pin of one needs no block, so
	 * taking 100,000 pins costs the daemon little) */
	if (daxlease_open(ctx, "held", RW | DAXLEASE_O_CREATE, 0644, &f) ||
	    daxlease_truncate(f, 4 << 20) || daxlease_close(f))
		return -1;
	if (pipe(h->ready) || pipe(h->go))
		return -1;
	fflush(NULL);
	h->pid = fork();
	if (h->pid == 0)
		_exit(holder_main(what, n, per_conn, h->ready[1], h->go[0]));
	if (h->pid < 0 || read(h->ready[0], &b, 1) != 1 || b != 'R')
		return -1;
	return 0;
}

static int holder_stop(struct holder *h)
{
	int st;

	if (write(h->go[1], "x", 1) != 1)
		return -1;
	st = dlc_wait_exit(h->pid);
	close(h->ready[0]);
	close(h->ready[1]);
	close(h->go[0]);
	close(h->go[1]);
	return st;
}

/* ---- paging ---------------------------------------------------------------- */

struct paging {
	uint64_t *ids;
	size_t n, cap;
	double *page_ms;
	size_t pages, pages_cap;
	double slowest_status_ms;
	unsigned answered;
};

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	void *p;

	if (need <= *cap)
		return 0;
	p = realloc(*v, (*cap ? 2 * *cap : 4096) * size);
	if (!p)
		return -1;
	*v = p;
	*cap = *cap ? 2 * *cap : 4096;
	return 0;
}

/* One page took ms; another client's STATUS goes between this page and
 * the next. */
static int page_done(struct paging *p, double ms)
{
	struct daxlease_status st;
	double t;

	if (grow((void **)&p->page_ms, &p->pages_cap, p->pages + 1,
		 sizeof(*p->page_ms)))
		return -1;
	p->page_ms[p->pages++] = ms;
	t = dlc_now_s();
	p->answered += daxlease_status(other, &st) == 0;
	if ((dlc_now_s() - t) * 1e3 > p->slowest_status_ms)
		p->slowest_status_ms = (dlc_now_s() - t) * 1e3;
	return 0;
}

static int add_id(struct paging *p, uint64_t id)
{
	if (grow((void **)&p->ids, &p->cap, p->n + 1, sizeof(*p->ids)))
		return -1;
	p->ids[p->n++] = id;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* No id twice. */
static bool all_distinct(struct paging *p)
{
	qsort(p->ids, p->n, sizeof(*p->ids), cmp_u64);
	for (size_t i = 1; i < p->n; i++)
		if (p->ids[i] == p->ids[i - 1])
			return false;
	return true;
}

static void report(const char *view, unsigned n, struct paging *p,
		   double total_s)
{
	qsort(p->page_ms, p->pages, sizeof(*p->page_ms), cmp_double);
	printf("\n    %s over %u: %zu pages in %.3f s, per page median %.3f ms, slowest %.3f ms; STATUS between pages slowest %.3f ms",
	       view, n, p->pages, total_s,
	       p->pages ? p->page_ms[p->pages / 2] : 0.0,
	       p->pages ? p->page_ms[p->pages - 1] : 0.0,
	       p->slowest_status_ms);
}

static void paging_free(struct paging *p)
{
	free(p->ids);
	free(p->page_ms);
	memset(p, 0, sizeof(*p));
}

/* ---- tests --------------------------------------------------------------------- */

/* One page of the view into p->ids: 0 or -1; *cursor as the API has it. */
static int view_page(enum hold what, uint64_t *cursor, struct paging *p)
{
	static struct daxlease_busy b[PAGE_MAX];
	static struct daxlease_lease l[PAGE_MAX];
	int got = what == HOLD_PINS ? daxlease_busy(ctx, cursor, b, PAGE_MAX) :
		  daxlease_leases(ctx, cursor, l, PAGE_MAX);

	for (int i = 0; i < got; i++) {
		if (what == HOLD_PINS && b[i].pin.lockless)
			continue;
		if (add_id(p, what == HOLD_PINS ? b[i].pin.pin_id :
			   l[i].lease_id))
			return -1;
	}
	return got < 0 ? -1 : 0;
}

/* n pins or leases held, per_conn a connection: the view paged through
 * sees each once, and STATUS is answered between every two pages. */
static void page_through(enum hold what, unsigned n, unsigned per_conn)
{
	const char *view = what == HOLD_PINS ? "BUSY" : "LEASES";
	struct paging p = { 0 };
	uint64_t cursor = 0;
	struct holder h;
	double t0, t;

	t = dlc_now_s();
	CU_ASSERT_EQUAL_FATAL(holder_start(&h, what, n, per_conn), 0);
	printf("\n    %u %s taken in %.2f s", n,
	       what == HOLD_PINS ? "socket pins" : "leases", dlc_now_s() - t);
	t0 = dlc_now_s();
	do {
		t = dlc_now_s();
		CU_ASSERT_EQUAL_FATAL(view_page(what, &cursor, &p), 0);
		CU_ASSERT_EQUAL_FATAL(page_done(&p, (dlc_now_s() - t) * 1e3), 0);
	} while (cursor);
	report(view, n, &p, dlc_now_s() - t0);
	CU_ASSERT_EQUAL(p.n, n);
	CU_ASSERT_TRUE(all_distinct(&p));
	CU_ASSERT_EQUAL(p.answered, p.pages);
	paging_free(&p);
	CU_ASSERT_EQUAL(holder_stop(&h), 0);
}

static void test_busy_pages(void)
{
	page_through(HOLD_PINS, dlc_env_count("DAXLEASE_VIEW_PINS", 100000),
		     PINS_PER_CONN);
}

static void test_leases_pages(void)
{
	page_through(HOLD_LEASES, dlc_env_count("DAXLEASE_VIEW_LEASES", 20000),
		     LEASES_PER_CONN);
}

/* ---- a lockless pin's age -------------------------------------------------- */

/* The age BUSY gives ctx's lockless pin (the one there is); -1: none. */
static int64_t lockless_age(void)
{
	struct daxlease_busy b[PAGE_MAX];
	uint64_t cursor = 0;
	int64_t age = -1;
	int got;

	do {
		got = daxlease_busy(ctx, &cursor, b, PAGE_MAX);
		for (int i = 0; i < got; i++)
			if (b[i].pin.lockless)
				age = (int64_t)b[i].age_ns;
	} while (got >= 0 && cursor);
	return age;
}

/*
 * The service never sees a lockless pin taken: its age is the time since
 * the service last knew the counter to be 0 (the entry handed out, or
 * read as 0 by BUSY).  So it is not 0, it grows, and a pin taken again
 * after BUSY saw the counter at 0 is aged from that reading: no older
 * than the time since the test asked for it.
 */
static void test_lockless_age(void)
{
	struct daxlease_file *f;
	struct daxlease_map *m;
	struct daxlease_pin pin;
	int64_t first, later, again;
	uint64_t lease;
	double seen_zero;

	CU_ASSERT_EQUAL_FATAL(daxlease_open(ctx, "aged", RW | DAXLEASE_O_CREATE,
					    0644, &f), 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_fallocate(f, 0, 0, 2 << 20), 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_lease_acquire(f, 0, 0,
						     DAXLEASE_LEASE_SHARED, 0,
						     &lease), 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_map(f, 0, 2 << 20, DAXLEASE_PROT_READ |
					   DAXLEASE_PROT_WRITE, &m), 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_map_pin(m, 0, 4 * KiB, 0, &pin), 0);
	CU_ASSERT_FATAL(pin.flags & DAXLEASE_PINNED_FAST);
	first = lockless_age();
	later = lockless_age();
	CU_ASSERT(first > 0);
	CU_ASSERT(later > first);
	CU_ASSERT_EQUAL(daxlease_map_unpin(&pin), 0);
	seen_zero = dlc_now_s();
	CU_ASSERT_EQUAL(lockless_age(), -1);	/* reads the counter: 0 */
	CU_ASSERT_EQUAL_FATAL(daxlease_map_pin(m, 0, 4 * KiB, 0, &pin), 0);
	again = lockless_age();
	CU_ASSERT(again > 0);
	CU_ASSERT((double)again / 1e9 <= dlc_now_s() - seen_zero);
	printf("\n    lockless age: %.3f ms, then %.3f ms; pinned again %.3f ms",
	       (double)first / 1e6, (double)later / 1e6, (double)again / 1e6);
	CU_ASSERT_EQUAL(daxlease_map_unpin(&pin), 0);
	CU_ASSERT_EQUAL(daxlease_unmap(m), 0);
	CU_ASSERT_EQUAL(daxlease_lease_release(ctx, lease), 0);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
}

static void test_clean_stop(void)
{
	daxlease_unref(ctx);
	daxlease_unref(other);
	ctx = other = NULL;
	CU_ASSERT_EQUAL(dlh_stop(&dmn), 0);
}

static CU_TestInfo tests[] = {
	{ "BUSY over 100,000 pins: paged, every pin once", test_busy_pages },
	{ "LEASES over 20,000 leases: paged, every lease once",
	  test_leases_pages },
	{ "a lockless pin's age: since its counter was last seen 0",
	  test_lockless_age },
	{ "clean stop", test_clean_stop },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "admin_views", suite_init, suite_clean, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return dlh_main_in_memory(suites);
}

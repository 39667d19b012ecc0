/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_torture.c - DMA-after-free torture: pinning processes keep writing
 * patterns into their pinned pages while other processes truncate, punch,
 * collapse, insert and zero ranges of the same files, and others create,
 * fill, verify and unlink "victim" files on a small namespace, so every
 * freed block is soon someone else's.  If a layout change ever freed a
 * block still pinned for DMA, the next victim to get it would show the
 * pinner's words (each word names its writer: torture.h).
 *
 * Processes (forked after the daemon is up, each with its own context):
 *   pinners  (torture_pinner.c)  one pinned file each; transfer, check
 *                                (lockless: threads, windows, races of
 *                                the invalidation)
 *   layouts  (torture_layout.c)  the layout-op budget, split between them
 *   fillers  (torture_filler.c)  victims, checked as they go
 * The parent waits for the layout processes, tells the rest to stop,
 * checks that the daemon is idle (no pin, nothing waiting), verifies
 * every victim against the fillers' models, and stops the daemon, whose
 * image must then be clean and pass the filesystem check (dlh_stop:
 * nothing both free and in use).  Children report through pipes; nothing
 * is timed, but a run in which no layout request is answered for a
 * minute ends with the BLOCKED and BUSY views and fails.
 *
 *   DAXLEASE_TORTURE_OPS    layout operations (default 5,000)
 *   DAXLEASE_TORTURE_SEED   seed (default: from the clock; always printed)
 *   DAXLEASE_TORTURE_PIN    "socket" (daxlease_pin, default) or
 *                           "lockless" (daxlease_map_pin + pin_dma)
 *   DAXLEASE_TORTURE_ALIGN  namespace align in bytes (default 2 MiB)
 *   DAXLEASE_TORTURE_SIZE   namespace size in bytes (default 64 MiB; 4 GiB
 *                           with a 1 GiB align)
 *   DAXLEASE_TORTURE_PINNERS, _LAYOUTS, _FILLERS, _THREADS  how many
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cunit_run.h"
#include "daxlease/libdaxlease.h"
#include "harness.h"
#include "torture.h"

#define MiB ((uint64_t)1 << 20)
#define GiB ((uint64_t)1 << 30)
#define MAX_CHILDREN (TT_MAX_PINNERS + 8 + 8)

struct child {
	pid_t pid;
	int out;		/* its report pipe */
	enum tt_role role;
	unsigned index;
};

static struct dlh_daemon dmn;
static struct daxlease_ctx *ctx;	/* the parent's (admin) context */
static char admin_gid[64];
static struct tt_config cfg;
static uint64_t ns_size, ns_align;
static struct child kids[MAX_CHILDREN];
static unsigned nkids;

static unsigned long long env_ull(const char *name, unsigned long long dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

/* ---- the children ---------------------------------------------------------- */

static int fork_child(enum tt_role role, unsigned index, int stop_w)
{
	struct child *k = &kids[nkids];
	int p[2];

	if (pipe(p))
		return -errno;
	fflush(NULL);
	k->pid = fork();
	if (k->pid < 0)
		return -errno;
	if (!k->pid) {
		close(p[0]);
		close(stop_w);	/* else the stop pipe never reads EOF */
		for (unsigned i = 0; i < nkids; i++)
			close(kids[i].out);
		if (role == TT_PINNER)
			tt_pinner_main(&cfg, index, p[1]);
		if (role == TT_LAYOUT)
			tt_layout_main(&cfg, index, p[1]);
		tt_filler_main(&cfg, index, p[1]);
	}
	close(p[1]);
	k->out = p[0];
	k->role = role;
	k->index = index;
	nkids++;
	return 0;
}

struct totals {
	struct tt_report r;
	struct tt_victim *victims;
	uint32_t nvictims;
	unsigned failed;	/* children that exited badly */
};

static void add(struct totals *t, const struct tt_report *r)
{
	struct tt_report *s = &t->r;

	s->layout_ops += r->layout_ops;
	s->layout_raced += r->layout_raced;
	s->layout_found_pins += r->layout_found_pins;
	s->pins += r->pins;
	s->transfers_broken += r->transfers_broken;
	s->pin_retries += r->pin_retries;
	s->dma_words += r->dma_words;
	s->fast_pins += r->fast_pins;
	s->backoffs += r->backoffs;
	s->slow_pins += r->slow_pins;
	s->racing_pins += r->racing_pins;
	s->races += r->races;
	s->races_checked += r->races_checked;
	s->small_windows += r->small_windows;
	for (int i = 0; i < 3; i++)
		s->leaves[i] += r->leaves[i];
	s->created += r->created;
	s->mapped_fills += r->mapped_fills;
	s->rewrites += r->rewrites;
	s->verified += r->verified;
	s->unlinked += r->unlinked;
	s->enospc += r->enospc;
	s->mismatches += r->mismatches;
	s->victim_words += r->victim_words;
	s->victims_hit += r->victims_hit;
	s->errors += r->errors;
}

/* Wait for child k, add its report (and victims) to t. */
static void collect(struct child *k, struct totals *t)
{
	struct tt_report r;
	int st;

	if (tt_pipe_io(k->out, &r, sizeof(r), false)) {
		fprintf(stderr, "torture: child %d (role %d, %u) sent no "
			"report\n", (int)k->pid, k->role, k->index);
		t->failed++;
	} else {
		add(t, &r);
		if (r.nvictims > TT_MAX_VICTIMS ||
		    tt_pipe_io(k->out, t->victims + t->nvictims,
			       r.nvictims * sizeof(*t->victims), false)) {
			fprintf(stderr, "torture: filler %u: bad model\n",
				k->index);
			t->failed++;
		} else {
			t->nvictims += r.nvictims;
		}
	}
	close(k->out);
	if (waitpid(k->pid, &st, 0) != k->pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st)) {
		fprintf(stderr, "torture: child %d (role %d, %u) ended with "
			"status %#x\n", (int)k->pid, k->role, k->index, st);
		t->failed++;
	}
}

/* ---- a stalled run ---------------------------------------------------------- */

/*
 * Nothing here is timed, but a run that stops moving must end with a
 * diagnosis rather than at ctest's timeout: when no layout request has
 * been answered for STALL_S seconds (or the children have not ended
 * STALL_S seconds after the stop), the BLOCKED and BUSY views say who
 * waits for whom, and the children are killed.
 */
#define STALL_S 60

/* Print the BLOCKED and BUSY views; how many entries they had. */
static int print_views(void)
{
	struct daxlease_blocked bl[16];
	struct daxlease_busy busy[16];
	uint64_t c1 = 0, c2 = 0;
	int nbl = daxlease_blocked(ctx, &c1, bl, 16);
	int nbusy = daxlease_busy(ctx, &c2, busy, 16);

	for (int i = 0; i < nbl; i++)
		fprintf(stderr, "torture: blocked: opcode %u by pid %d on "
			"inode %" PRIu64 " [%#" PRIx64 ", +%#" PRIx64 ") waits "
			"for %s (%u: first %" PRIu64 ")\n", bl[i].opcode,
			bl[i].pid, bl[i].ino, bl[i].offset, bl[i].length,
			bl[i].on_pins ? "pins" : bl[i].on_leases ? "leases" :
			"an earlier request", bl[i].npins,
			bl[i].npins ? bl[i].pin_ids[0] : 0);
	for (int i = 0; i < nbusy; i++)
		fprintf(stderr, "torture: busy: %s pin %" PRIu64 " of pid %d "
			"on %s [%#" PRIx64 ", +%#" PRIx64 ") refs %" PRId64
			"\n", busy[i].pin.lockless ? "lockless" : "socket",
			busy[i].pin.pin_id, busy[i].pin.pid, busy[i].name,
			busy[i].pin.offset, busy[i].pin.length, busy[i].refs);
	return (nbl > 0 ? nbl : 0) + (nbusy > 0 ? nbusy : 0);
}

static void kill_children(void)
{
	for (unsigned i = 0; i < nkids; i++)
		if (kids[i].pid > 0)
			kill(kids[i].pid, SIGKILL);
}

/* Wait until child k has reported (its pipe is readable); -1 if the run
 * stalled (then every child has been killed). */
static int await(const struct child *k, bool stopped)
{
	uint64_t seen = 0;
	unsigned quiet = 0;

	for (;;) {
		struct pollfd p = { .fd = k->out, .events = POLLIN };
		uint64_t now = __atomic_load_n(&cfg.shared->layout_progress,
					       __ATOMIC_RELAXED);

		if (poll(&p, 1, 1000) == 1)
			return 0;
		quiet = now != seen && !stopped ? 0 : quiet + 1;
		seen = now;
		if (quiet < STALL_S)
			continue;
		fprintf(stderr, "torture: STALLED: %s for %d s (child %d, "
			"role %d, %u); the daemon's views:\n", stopped ?
			"children still running after the stop" :
			"no layout request answered", STALL_S, (int)k->pid,
			k->role, k->index);
		print_views();
		kill_children();
		return -1;
	}
}

/* ---- the parent's checks ----------------------------------------------------- */

/* No pin left, nothing waiting: every change the children asked for has
 * been applied and every block they pinned is back to the filesystem. */
static int daemon_idle(void)
{
	if (!print_views())
		return 0;
	fprintf(stderr, "torture: the daemon is not idle at the end\n");
	return -1;
}

static bool is_victim(const struct totals *t, const char *name)
{
	char buf[32];

	for (uint32_t i = 0; i < t->nvictims; i++)
		if (!strcmp(name, tt_victim_name(t->victims[i].id, buf,
						 sizeof(buf))))
			return true;
	return false;
}

static bool is_pinned(const char *name)
{
	char buf[32];

	for (unsigned k = 0; k < cfg.pinners; k++)
		if (!strcmp(name, tt_pinned_name(k, buf, sizeof(buf))))
			return true;
	return false;
}

/* Every file is a pinned file or a live victim of the model. */
static uint64_t stray_files(const struct totals *t)
{
	struct daxlease_stat st[32];
	uint64_t cursor = 0, stray = 0;

	do {
		int n = daxlease_list(ctx, &cursor, st, 32);

		if (n < 0) {
			fprintf(stderr, "torture: list: %s\n", strerror(-n));
			return 1;
		}
		for (int i = 0; i < n; i++) {
			if (is_pinned(st[i].name) || is_victim(t, st[i].name))
				continue;
			fprintf(stderr, "torture: file %s is in no model\n",
				st[i].name);
			stray++;
		}
	} while (cursor);
	return stray;
}

/* Every live victim, once more: the number of victims with bad words. */
static uint64_t verify_victims(const struct totals *t)
{
	uint64_t bad = 0;

	for (uint32_t i = 0; i < t->nvictims; i++)
		bad += tt_verify_victim(ctx, "final check", &t->victims[i]) != 0;
	return bad;
}

/* ---- the test ------------------------------------------------------------------ */

static int create_pinned_files(void)
{
	uint64_t size = (cfg.pinned_min + cfg.pinned_max) / 2 / cfg.leaf *
			cfg.leaf;

	if (size < cfg.pinned_min)
		size = cfg.pinned_min;
	for (unsigned k = 0; k < cfg.pinners; k++) {
		struct daxlease_file *f = NULL;
		char name[32];
		int rc = daxlease_open(ctx, tt_pinned_name(k, name,
				       sizeof(name)), DAXLEASE_O_READ |
				       DAXLEASE_O_WRITE | DAXLEASE_O_CREATE,
				       0644, &f);

		/* one allocation of the whole size: aligned runs, so the
		 * windows of lockless pinners have big leaves */
		if (!rc)
			rc = daxlease_fallocate(f, 0, 0, size);
		if (f)
			daxlease_close(f);
		if (rc) {
			fprintf(stderr, "torture: %s: %s\n", name,
				strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static void print_totals(const struct totals *t, double secs,
			 uint64_t final_bad, uint64_t stray)
{
	const struct tt_report *r = &t->r;

	printf("torture: seed %llu (DAXLEASE_TORTURE_SEED=%llu to repeat), "
	       "%s pins, align %#" PRIx64 ", %.1f s\n", cfg.seed, cfg.seed,
	       cfg.lockless ? "lockless" : "socket", ns_align, secs);
	printf("torture: layout ops %" PRIu64 " (raced %" PRIu64 "; found pins "
	       "in the way %" PRIu64 ")\n", r->layout_ops, r->layout_raced,
	       r->layout_found_pins);
	printf("torture: pins %" PRIu64 " (fast %" PRIu64 ", backoffs %" PRIu64
	       ", slow %" PRIu64 "), transfers broken mid-DMA %" PRIu64
	       ", retries %" PRIu64 ", DMA words %" PRIu64 "\n", r->pins,
	       r->fast_pins, r->backoffs, r->slow_pins, r->transfers_broken,
	       r->pin_retries, r->dma_words);
	if (cfg.lockless)
		printf("torture: lockless: %" PRIu64 " races of an "
		       "invalidation, %" PRIu64 " racing pins (%" PRIu64
		       " checked); leaves in the windows mapped: PTE %" PRIu64
		       ", PMD %" PRIu64 ", PUD %" PRIu64 " (%" PRIu64 " small "
		       "windows)\n", r->races, r->racing_pins,
		       r->races_checked, r->leaves[0], r->leaves[1],
		       r->leaves[2], r->small_windows);
	printf("torture: victims created %" PRIu64 " (mapped fills %" PRIu64
	       "), rewrites %" PRIu64 ", verified %" PRIu64 ", unlinked %"
	       PRIu64 ", ENOSPC %" PRIu64 ", live at the end %u\n", r->created,
	       r->mapped_fills, r->rewrites, r->verified, r->unlinked,
	       r->enospc, t->nvictims);
	printf("torture: MISMATCHES: pinned ranges %" PRIu64 " words; victims "
	       "%" PRIu64 " words in %" PRIu64 " reads during the run, %" PRIu64
	       " victims in the final check; stray files %" PRIu64 ", errors %"
	       PRIu64 ", children failed %u\n", r->mismatches, r->victim_words,
	       r->victims_hit, final_bad, stray, r->errors, t->failed);
}

static void test_torture(void)
{
	static struct tt_victim victims[8 * TT_MAX_VICTIMS];
	struct totals t = { .victims = victims };
	struct timespec t0, t1;
	uint64_t final_bad, stray;
	bool stalled = false;
	int stop[2];

	CU_ASSERT_EQUAL_FATAL(create_pinned_files(), 0);
	CU_ASSERT_EQUAL_FATAL(pipe(stop), 0);
	cfg.shared = mmap(NULL, sizeof(*cfg.shared), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CU_ASSERT_FATAL(cfg.shared != MAP_FAILED);
	cfg.stop = stop[0];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; i < cfg.layouts; i++)
		CU_ASSERT_EQUAL_FATAL(fork_child(TT_LAYOUT, i, stop[1]), 0);
	for (unsigned i = 0; i < cfg.pinners; i++)
		CU_ASSERT_EQUAL_FATAL(fork_child(TT_PINNER, i, stop[1]), 0);
	for (unsigned i = 0; i < cfg.fillers; i++)
		CU_ASSERT_EQUAL_FATAL(fork_child(TT_FILLER, i, stop[1]), 0);
	/* the layout processes end the run when their budget is done */
	for (unsigned i = 0; i < cfg.layouts; i++) {
		stalled |= !stalled && await(&kids[i], false);
		collect(&kids[i], &t);
	}
	close(stop[1]);
	for (unsigned i = cfg.layouts; i < nkids; i++) {
		stalled |= !stalled && await(&kids[i], true);
		collect(&kids[i], &t);
	}
	close(stop[0]);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	CU_ASSERT_FALSE_FATAL(stalled);
	CU_ASSERT_EQUAL(daemon_idle(), 0);
	final_bad = verify_victims(&t);
	stray = stray_files(&t);
	print_totals(&t, (double)(t1.tv_sec - t0.tv_sec) +
		     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, final_bad, stray);
	CU_ASSERT_EQUAL(t.r.mismatches, 0);
	CU_ASSERT_EQUAL(t.r.victim_words, 0);
	CU_ASSERT_EQUAL(final_bad, 0);
	CU_ASSERT_EQUAL(stray, 0);
	CU_ASSERT_EQUAL(t.r.errors, 0);
	CU_ASSERT_EQUAL(t.failed, 0);
	CU_ASSERT(t.r.layout_ops >= cfg.ops);
	/* a variant whose windows never had its big leaves tests less than
	 * it says */
	if (cfg.lockless && cfg.leaf >= 2 * MiB)
		CU_ASSERT(t.r.leaves[cfg.leaf >= GiB ? 2 : 1] > 0);
}

static void test_clean_stop(void)
{
	daxlease_unref(ctx);
	ctx = NULL;
	/* exit 0, image clean, and the filesystem check finds nothing */
	CU_ASSERT_EQUAL(dlh_stop(&dmn), 0);
}

/* ---- setup -------------------------------------------------------------------- */

static int suite_init(void)
{
	struct dlh_opts o = {
		.size = ns_size, .align = ns_align,
		.extra = { "--admin-group", admin_gid,
			   "--dax-group", admin_gid },
	};
	struct daxlease_status st;
	struct group *g = getgrgid(getgid());
	uint64_t free_bytes, pinned;
	int rc;

	/* DAX access and the admin views for whoever runs the test */
	if (!g)
		return -1;
	snprintf(admin_gid, sizeof(admin_gid), "%s", g->gr_name);
	if (dlh_start(&dmn, &o))
		return -1;
	cfg.socket = dmn.socket;
	rc = daxlease_new(&ctx, dmn.socket);
	if (!rc)
		rc = daxlease_status(ctx, &st);
	if (rc) {
		fprintf(stderr, "torture: %s\n", strerror(-rc));
		return -1;
	}
	/*
	 * Victims take all the room the pinned files leave: the allocator
	 * goes on where it stopped and wraps, so in a nearly full namespace
	 * a block a layout change frees is the next one handed out.
	 */
	free_bytes = st.blocks_free * TT_BLK;
	pinned = cfg.pinners * cfg.pinned_max / 2 + 2 * MiB;
	if (free_bytes < pinned + cfg.fillers * 2 * MiB) {
		fprintf(stderr, "torture: a %" PRIu64 "-byte namespace is too "
			"small\n", ns_size);
		return -1;
	}
	cfg.filler_bytes = (free_bytes - pinned) / cfg.fillers;
	/* a big namespace would take minutes to fill: then victims only
	 * check the blocks they happen to get */
	if (cfg.filler_bytes > 32 * MiB)
		cfg.filler_bytes = 32 * MiB;
	printf("torture: %" PRIu64 " MiB free: pinned files up to %" PRIu64
	       " MiB each, victims up to %" PRIu64 " MiB per filler\n",
	       free_bytes / MiB, cfg.pinned_max / MiB, cfg.filler_bytes / MiB);
	return 0;
}

static int suite_clean(void)
{
	if (ctx)
		daxlease_unref(ctx);
	dlh_kill(&dmn);
	return 0;
}

static CU_TestInfo tests[] = {
	{ "DMA-after-free torture", test_torture },
	{ "clean stop", test_clean_stop },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "torture", suite_init, suite_clean, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

static int bad_count(const char *name, unsigned v, unsigned lo, unsigned hi)
{
	if (v >= lo && v <= hi)
		return 0;
	fprintf(stderr, "torture: %s must be %u to %u\n", name, lo, hi);
	return 1;
}

/* The run's shape from the environment; 0, or 2 on bad input. */
static int configure(void)
{
	const char *pin = getenv("DAXLEASE_TORTURE_PIN");
	int bad = 0;

	cfg.seed = env_ull("DAXLEASE_TORTURE_SEED", 0);
	if (!cfg.seed)
		cfg.seed = (unsigned long long)time(NULL) ^
			   ((unsigned long long)getpid() << 32);
	cfg.ops = env_ull("DAXLEASE_TORTURE_OPS", 5000);
	if (pin && *pin && strcmp(pin, "socket") && strcmp(pin, "lockless")) {
		fprintf(stderr, "torture: DAXLEASE_TORTURE_PIN=%s: want "
			"socket or lockless\n", pin);
		bad = 1;
	}
	cfg.lockless = pin && !strcmp(pin, "lockless");
	ns_align = env_ull("DAXLEASE_TORTURE_ALIGN", 2 * MiB);
	/* 1 GiB leaves: one pinned file of 1 to 3 GiB fills the namespace */
	cfg.pinners = (unsigned)env_ull("DAXLEASE_TORTURE_PINNERS",
					ns_align == GiB ? 1 : 3);
	cfg.layouts = (unsigned)env_ull("DAXLEASE_TORTURE_LAYOUTS", 2);
	cfg.fillers = (unsigned)env_ull("DAXLEASE_TORTURE_FILLERS", 2);
	cfg.threads = (unsigned)env_ull("DAXLEASE_TORTURE_THREADS",
					cfg.lockless ? 3 : 1);
	bad |= bad_count("DAXLEASE_TORTURE_PINNERS", cfg.pinners, 1,
			 TT_MAX_PINNERS);
	bad |= bad_count("DAXLEASE_TORTURE_LAYOUTS", cfg.layouts, 1, 8);
	bad |= bad_count("DAXLEASE_TORTURE_FILLERS", cfg.fillers, 1, 8);
	bad |= bad_count("DAXLEASE_TORTURE_THREADS", cfg.threads, 1,
			 TT_MAX_THREADS);
	if (ns_align != 4096 && ns_align != 2 * MiB && ns_align != GiB) {
		fprintf(stderr, "torture: DAXLEASE_TORTURE_ALIGN=%" PRIu64
			": want 4096, 2097152 or 1073741824\n", ns_align);
		bad = 1;
	}
	/* a 1 GiB align needs room for a few 1 GiB leaves */
	ns_size = env_ull("DAXLEASE_TORTURE_SIZE",
			  ns_align == GiB ? 4 * GiB : 64 * MiB);
	cfg.leaf = ns_align;
	cfg.max_pin = 256 * 1024;
	cfg.max_change = 512 * 1024;
	if (cfg.lockless) {
		/* pinned files of one to three windows of whole leaves */
		cfg.window = ns_align > 2 * MiB ? ns_align : 2 * MiB;
		cfg.pinned_min = cfg.window;
		cfg.pinned_max = 3 * cfg.window;
	} else {
		cfg.pinned_min = 256 * 1024;
		cfg.pinned_max = 4 * MiB;
	}
	return bad ? 2 : 0;
}

int main(void)
{
	int rc;

	if (dlh_prepare())
		return DL_TEST_SKIP;
	rc = configure();
	if (rc)
		return rc;
	printf("torture: %" PRIu64 " layout ops, seed %llu, %u pinners x %u "
	       "threads (%s pins), %u layout, %u filler processes, namespace "
	       "%" PRIu64 " MiB align %#" PRIx64 "\n", cfg.ops, cfg.seed,
	       cfg.pinners, cfg.threads, cfg.lockless ? "lockless" : "socket",
	       cfg.layouts, cfg.fillers, ns_size / MiB, ns_align);
	return dl_cunit_main(suites);
}

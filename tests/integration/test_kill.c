/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_kill.c - the promise under failure: no block is freed while anyone
 * can still DMA into it, whatever happens to daxleased or to a pinner's
 * connection.
 *
 * Under the mixed load of kill_load.c (pinners with lockless and socket
 * pins and DMA going on, layout changes of their files, fillers writing
 * and fsync'ing victims on a nearly full namespace):
 *
 *   daemon   SIGKILL of daxleased at random moments (once the load has
 *            made progress since the last start, after a random delay),
 *            then a check of the image (check-namespace must find
 *            nothing) and a start on the same image; every process
 *            reconnects and goes on.  After each start, whatever the
 *            restarted daemon holds from its pin records alone must
 *            belong to a process that still runs.
 *   pinners  no daemon kill: a pinner's connection is shut down, its
 *            socket replaced under it, or the pinner is SIGKILLed (and
 *            another takes its file) - at random moments.
 *
 * Then the load stops and every check of the torture test holds: no
 * pinner read back anything but its last DMA pass, no victim word is
 * anything but the victim's (a pinner's word there is a block freed under
 * a DMA; zeros or an older generation an fsync'ed write lost), nothing is
 * pinned or quarantined once the processes are gone, and the daemon stops
 * with a clean image and no pin record left.
 *
 *   DAXLEASE_KILLS       daemon kills (default 20; "long": 200)
 *   DAXLEASE_DROPS       pinner disconnects and kills (default 40)
 *   DAXLEASE_KILL_SEED   seed (default: from the clock; always printed)
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
#include "kill.h"

#define MiB (1ULL << 20)
#define MAX_KIDS (KL_MAX_PINNERS + 8)

struct kid {
	pid_t pid;
	int out;		/* its report pipe */
	int cmd;		/* pinners: the command pipe's write end */
	enum kl_role role;
	unsigned index;
};

static char admin_gid[64];
static struct kl_config cfg;
static struct kid kids[MAX_KIDS];
static unsigned nkids;
static uint64_t rng = 1;

static unsigned long long env_ull(const char *name, unsigned long long dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

/* ---- the daemon -------------------------------------------------------------- */

static int start_daemon(struct dlh_daemon *d, const char *name, bool reuse)
{
	struct dlh_opts o = {
		.name = name, .reuse_image = reuse,
		.extra = { "--admin-group", admin_gid },
	};

	return dlh_start(d, &o);
}

/* check-namespace of the image, read-write (what a start replays, it
 * replays first): 0 when it finds nothing. */
static int check_image(const struct dlh_daemon *d)
{
	const char *cli = getenv("DAXLEASE_CLI");
	char log[PATH_MAX + 16];
	const char *argv[] = { cli, "check-namespace", d->image, NULL };
	int st;
	pid_t pid;

	if (!cli)
		return 0;	/* no CLI: the start's own checks remain */
	snprintf(log, sizeof(log), "%s.check", d->errlog);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		FILE *f = freopen(log, "w", stdout);

		(void)f;
		execv(cli, (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		char line[512];
		FILE *f = fopen(log, "r");

		fprintf(stderr, "kill: check-namespace found problems (%s)\n",
			log);
		/* the directory goes with the test: show what it said */
		while (f && fgets(line, sizeof(line), f))
			fprintf(stderr, "kill:   %s", line);
		if (f)
			fclose(f);
		return -1;
	}
	return 0;
}

/* ---- the load ------------------------------------------------------------------- */

static int stop_pipe[2];

/* A child of that role in kids[slot] (a new one, or one taking the place
 * of a pinner killed there). */
static int fork_kid(unsigned slot, enum kl_role role, unsigned index)
{
	struct kid *k = &kids[slot];
	int out[2], cmd[2] = { -1, -1 };

	if (pipe(out) || (role == KL_PINNER && pipe(cmd)))
		return -1;
	fflush(NULL);
	k->pid = fork();
	if (k->pid < 0)
		return -1;
	if (!k->pid) {
		close(out[0]);
		close(stop_pipe[1]);
		for (unsigned i = 0; i < nkids; i++) {
			if (i == slot)
				continue;
			close(kids[i].out);
			if (kids[i].cmd >= 0)
				close(kids[i].cmd);
		}
		if (role == KL_PINNER) {
			close(cmd[1]);
			kl_pinner_main(&cfg, index, cmd[0], out[1]);
		}
		if (role == KL_LAYOUT)
			kl_layout_main(&cfg, index, out[1]);
		kl_filler_main(&cfg, index, out[1]);
	}
	close(out[1]);
	if (cmd[0] >= 0)
		close(cmd[0]);
	k->out = out[0];
	k->cmd = cmd[1];
	k->role = role;
	k->index = index;
	if (slot == nkids)
		nkids++;
	return 0;
}

static void start_load(const struct dlh_daemon *d)
{
	CU_ASSERT_FATAL(pipe(stop_pipe) == 0);
	cfg.stop = stop_pipe[0];
	cfg.socket = d->socket;
	nkids = 0;
	for (unsigned i = 0; i < cfg.pinners; i++)
		CU_ASSERT_FATAL(fork_kid(nkids, KL_PINNER, i) == 0);
	for (unsigned i = 0; i < cfg.layouts; i++)
		CU_ASSERT_FATAL(fork_kid(nkids, KL_LAYOUT, i) == 0);
	for (unsigned i = 0; i < cfg.fillers; i++)
		CU_ASSERT_FATAL(fork_kid(nkids, KL_FILLER, i) == 0);
}

struct totals {
	struct kl_report r;
	struct tt_victim victims[4 * KL_MAX_VICTIMS];
	uint32_t nvictims;
	unsigned failed, killed;
};

static void add(struct totals *t, const struct kl_report *r)
{
	struct kl_report *s = &t->r;

	s->reconnects += r->reconnects;
	s->taken_back += r->taken_back;
	s->counted_back += r->counted_back;
	s->lost_back += r->lost_back;
	s->transfers += r->transfers;
	s->fast_pins += r->fast_pins;
	s->slow_pins += r->slow_pins;
	s->dma_words += r->dma_words;
	s->mismatches += r->mismatches;
	s->rewritten += r->rewritten;
	s->layout_ops += r->layout_ops;
	s->layout_timeouts += r->layout_timeouts;
	s->layout_refused += r->layout_refused;
	s->created += r->created;
	s->verified += r->verified;
	s->unlinked += r->unlinked;
	s->enospc += r->enospc;
	s->victim_words += r->victim_words;
	s->errors += r->errors;
}

static void collect(struct kid *k, struct totals *t)
{
	struct kl_report r;
	int st;

	if (k->pid <= 0)
		return;		/* killed on purpose: no report */
	if (tt_pipe_io(k->out, &r, sizeof(r), false)) {
		fprintf(stderr, "kill: child %d sent no report\n", (int)k->pid);
		t->failed++;
	} else {
		add(t, &r);
		if (r.nvictims > KL_MAX_VICTIMS ||
		    t->nvictims + r.nvictims > 4 * KL_MAX_VICTIMS ||
		    tt_pipe_io(k->out, t->victims + t->nvictims,
			       r.nvictims * sizeof(t->victims[0]), false))
			t->failed++;
		else
			t->nvictims += r.nvictims;
	}
	close(k->out);
	if (k->cmd >= 0)
		close(k->cmd);
	if (waitpid(k->pid, &st, 0) != k->pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st)) {
		fprintf(stderr, "kill: child %d (role %d, %u) ended with "
			"status %#x\n", (int)k->pid, k->role, k->index, st);
		t->failed++;
	}
}

static void stop_load(struct totals *t)
{
	close(stop_pipe[1]);
	for (unsigned i = 0; i < nkids; i++)
		collect(&kids[i], t);
	close(stop_pipe[0]);
}

/* Wait until the load has moved on: transfers, layout changes and
 * victims since `since` (a snapshot), at most ~20 s. */
static void await_progress(const struct kl_shared *since)
{
	for (int i = 0; i < 2000; i++) {
		struct kl_shared *s = cfg.shared;

		if (__atomic_load_n(&s->transfers, __ATOMIC_RELAXED) >
			    since->transfers + 1 &&
		    __atomic_load_n(&s->layout_ops, __ATOMIC_RELAXED) >
			    since->layout_ops + 4 &&
		    __atomic_load_n(&s->victims, __ATOMIC_RELAXED) >
			    since->victims)
			return;
		usleep(10000);
	}
	fprintf(stderr, "kill: the load made no progress for 20 s\n");
}

static void random_pause(void)
{
	usleep((useconds_t)tt_below(&rng, 200000));
}

/* ---- the checks ------------------------------------------------------------------- */

static bool is_kid(pid_t pid)
{
	for (unsigned i = 0; i < nkids; i++)
		if (kids[i].pid == pid)
			return true;
	return false;
}

/* What the restarted daemon holds from records alone: how many ranges;
 * each must be a running child's. */
static unsigned restored_holds(struct daxlease_ctx *c, unsigned *strays)
{
	struct daxlease_busy b[64];
	uint64_t cursor = 0;
	unsigned n = 0;
	int got;

	do {
		got = daxlease_busy(c, &cursor, b, 64);
		for (int i = 0; i < got; i++) {
			if (!b[i].pin.restored)
				continue;
			n++;
			if (!is_kid(b[i].pin.pid)) {
				fprintf(stderr, "kill: the restarted daemon "
					"holds blocks for pid %d, not one of "
					"ours\n", b[i].pin.pid);
				++*strays;
			}
		}
	} while (got > 0 && cursor);
	return n;
}

/* Nothing pinned, quarantined or waiting once the load is gone (a dead
 * pinner's pins go when the daemon sees it die): 0, or -1 after ~20 s. */
static int settled(struct daxlease_ctx *c)
{
	for (int i = 0; i < 2000; i++) {
		struct daxlease_busy b[4];
		struct daxlease_quarantine q[4];
		struct daxlease_blocked bl[4];
		uint64_t c1 = 0, c2 = 0, c3 = 0;

		if (!daxlease_busy(c, &c1, b, 4) &&
		    !daxlease_quarantine(c, &c2, q, 4) &&
		    !daxlease_blocked(c, &c3, bl, 4))
			return 0;
		usleep(10000);
	}
	fprintf(stderr, "kill: pins, quarantine or waiters are left\n");
	return -1;
}

static uint64_t victim_expect(const void *arg, uint64_t off)
{
	const struct tt_victim *v = arg;

	return tt_victim_word(v->id, v->gen, off);
}

/* Every victim the fillers still had, read once more by us. */
static uint64_t final_victims(struct daxlease_ctx *c, const struct totals *t)
{
	uint64_t bad = 0;

	for (uint32_t i = 0; i < t->nvictims; i++) {
		const struct tt_victim *v = &t->victims[i];
		uint64_t *buf = malloc(v->size);
		struct daxlease_file *f = NULL;
		char name[32];
		ssize_t n = -1;

		tt_victim_name(v->id, name, sizeof(name));
		if (buf && !daxlease_open(c, name, DAXLEASE_O_READ, 0, &f))
			n = daxlease_pread(f, buf, v->size, 0);
		bad += tt_compare("final check", buf, n > 0 ? (size_t)n : 0, 0,
				  v->size, victim_expect, v) != 0;
		if (f)
			daxlease_close(f);
		free(buf);
	}
	return bad;
}

static void verdict(const char *test, const struct totals *t,
		    struct daxlease_ctx *c)
{
	uint64_t bad_victims = final_victims(c, t);

	printf("  %s: %" PRIu64 " transfers (%" PRIu64 " lockless, %" PRIu64
	       " socket pins), %" PRIu64 " DMA words, %" PRIu64
	       " layout changes (%" PRIu64 " timed out on pins), %" PRIu64
	       " victims written (%" PRIu64 " again: fsync -EIO after a "
	       "reconnect), %" PRIu64 " verifies, %" PRIu64
	       " reconnects taking back %" PRIu64 " socket pins and %" PRIu64
	       " counted entries\n", test, t->r.transfers, t->r.fast_pins,
	       t->r.slow_pins, t->r.dma_words, t->r.layout_ops,
	       t->r.layout_timeouts, t->r.created, t->r.rewritten,
	       t->r.verified,
	       t->r.reconnects, t->r.taken_back, t->r.counted_back);
	printf("  %s: %" PRIu64 " read-back mismatches, %" PRIu64
	       " bad victim words, %" PRIu64 " bad victims at the end, %"
	       PRIu64 " errors, %u children failed\n", test, t->r.mismatches,
	       t->r.victim_words, bad_victims, t->r.errors, t->failed);
	CU_ASSERT_EQUAL(t->r.mismatches, 0);
	CU_ASSERT_EQUAL(t->r.victim_words, 0);
	CU_ASSERT_EQUAL(bad_victims, 0);
	CU_ASSERT_EQUAL(t->r.errors, 0);
	CU_ASSERT_EQUAL(t->r.lost_back, 0);
	CU_ASSERT_EQUAL(t->failed, 0);
	CU_ASSERT(t->r.transfers > 0 && t->r.created > 0);
}

static void setup_config(void)
{
	static struct kl_shared *shared;

	if (!shared) {
		shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		CU_ASSERT_FATAL(shared != MAP_FAILED);
	}
	memset(shared, 0, sizeof(*shared));
	cfg = (struct kl_config){
		.seed = env_ull("DAXLEASE_KILL_SEED", (unsigned long long)
				time(NULL) * 2654435761ULL),
		.pinners = 4, .layouts = 2, .fillers = 2,
		.pinned_size = 2 * MiB, .max_pin = 64 * 1024,
		/* 64 MiB: 8 of pinned files, the rest nearly all victims */
		.filler_bytes = 26 * MiB,
		.shared = shared,
	};
	rng = cfg.seed | 1;
	printf("  (seed %llu: DAXLEASE_KILL_SEED repeats it)\n", cfg.seed);
}

/* ---- the tests ----------------------------------------------------------------------- */

static void test_daemon_killed(void)
{
	unsigned long long kills = env_ull("DAXLEASE_KILLS", 20);
	struct daxlease_ctx *c = NULL;
	unsigned restored = 0, strays = 0;
	struct totals *t = calloc(1, sizeof(*t));
	struct dlh_daemon d;

	CU_ASSERT_FATAL(t != NULL);
	setup_config();
	CU_ASSERT_FATAL(start_daemon(&d, "killed", false) == 0);
	start_load(&d);
	for (unsigned long long k = 0; k < kills; k++) {
		struct kl_shared since = *cfg.shared;

		await_progress(&since);
		random_pause();
		dlh_kill(&d);
		CU_ASSERT_EQUAL(check_image(&d), 0);
		CU_ASSERT_FATAL(start_daemon(&d, "killed", true) == 0);
		CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
		restored += restored_holds(c, &strays);
		daxlease_unref(c);
	}
	{
		struct kl_shared since = *cfg.shared;

		await_progress(&since);	/* it goes on after the last one */
	}
	stop_load(t);
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	CU_ASSERT_EQUAL(settled(c), 0);
	printf("  %llu kills and restarts; the restarted daemons held %u "
	       "recorded ranges for running pinners until they re-attached\n",
	       kills, restored);
	CU_ASSERT_EQUAL(strays, 0);
	verdict("daemon killed", t, c);
	daxlease_unref(c);
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
	CU_ASSERT_EQUAL(d.pin_records, 0);
	free(t);
}

/* One pinner, chosen at random, loses its connection or its life. */
static void drop_a_pinner(struct totals *t, unsigned *shut, unsigned *closed)
{
	unsigned i = (unsigned)tt_below(&rng, cfg.pinners);
	struct kid *k = &kids[i];
	uint64_t what = tt_below(&rng, 3);

	if (what < 2) {
		char c = what ? KL_CMD_CLOSE : KL_CMD_SHUTDOWN;

		CU_ASSERT_EQUAL(write(k->cmd, &c, 1), 1);
		++*(what ? closed : shut);
		return;
	}
	/* its pins stay until the daemon sees it die; another pinner
	 * takes its file */
	kill(k->pid, SIGKILL);
	waitpid(k->pid, NULL, 0);
	close(k->out);
	close(k->cmd);
	k->out = k->cmd = -1;
	t->killed++;
	CU_ASSERT_FATAL(fork_kid(i, KL_PINNER, k->index) == 0);
}

static void test_pinners_dropped(void)
{
	unsigned long long drops = env_ull("DAXLEASE_DROPS", 40);
	struct totals *t = calloc(1, sizeof(*t));
	struct daxlease_ctx *c = NULL;
	unsigned shut = 0, closed = 0;
	struct dlh_daemon d;

	CU_ASSERT_FATAL(t != NULL);
	setup_config();
	CU_ASSERT_FATAL(start_daemon(&d, "dropped", false) == 0);
	start_load(&d);
	for (unsigned long long k = 0; k < drops; k++) {
		struct kl_shared since = *cfg.shared;

		await_progress(&since);
		random_pause();
		drop_a_pinner(t, &shut, &closed);
	}
	{
		struct kl_shared since = *cfg.shared;

		await_progress(&since);
	}
	stop_load(t);
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	CU_ASSERT_EQUAL(settled(c), 0);
	printf("  %llu pinners dropped: %u shut down, %u had their socket "
	       "closed under them, %u killed\n", drops, shut, closed,
	       t->killed);
	verdict("pinners dropped", t, c);
	daxlease_unref(c);
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
	CU_ASSERT_EQUAL(d.pin_records, 0);
	free(t);
}

static CU_TestInfo tests[] = {
	{ "daxleased SIGKILLed under load, restarted on its image",
	  test_daemon_killed },
	{ "pinners shut down, closed and killed under load",
	  test_pinners_dropped },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "kill", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	struct group *g = getgrgid(getgid());

	if (dlh_prepare())
		return DL_TEST_SKIP;
	if (geteuid() != 0) {
		printf("skip: the load maps files (DAX access: root)\n");
		return DL_TEST_SKIP;
	}
	if (!g)
		return 1;
	snprintf(admin_gid, sizeof(admin_gid), "%s", g->gr_name);
	return dl_cunit_main(suites);
}

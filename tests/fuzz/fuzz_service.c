// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz_service.c - the stateful service fuzzer's target: daxleased in
 * this process, driven by the programs of fuzz_service.h.
 *
 * Why in-process, and why libFuzzer can drive it: the daemon is the
 * service library itself (dl_server_open, its socket, its epoll loop run
 * one batch at a time with dl_loop_run_once), so its code is instrumented
 * for coverage and sanitized in the same process, an input costs a few
 * milliseconds instead of a daemon start, and a crash stops at the
 * daemon's own frame with the input that caused it.  The clients are
 * real sockets, fds and shared memory, so nothing of the daemon is
 * mocked.  Two modes:
 *
 *   fresh (default)   each input gets a new fake NVDIMM and a new daemon,
 *                     so an input replays alone (libFuzzer, fuzz-smoke);
 *                     after the program: every fd the daemon had is
 *                     closed, its DRAM state equals the media, it stops
 *                     cleanly and check-namespace finds nothing.
 *   DAXLEASE_FUZZ_PERSIST=1
 *                     one daemon for the whole run (configured by
 *                     DAXLEASE_FUZZ_CONFIG, a byte-0 value), each program
 *                     run by a forked client process that then exits (the
 *                     daemon sees its pidfd), while this process runs only
 *                     the daemon: its RSS and fd counts are the daemon's,
 *                     over hours of clients coming and going.
 *
 * Either mode prints what it did (messages, connections, RSS, fds) every
 * DAXLEASE_FUZZ_REPORT seconds (default 60) and at exit.
 * DAXLEASE_FUZZ_LOG=LEVEL shows the daemon's log (default: errors only).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "log.h"
#include "namespace.h"
#include "server.h"

#include "fuzz_service.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sample {
	long rss_kib;
	int fds;
};

static struct {
	bool ready, persist, open;
	char dir[PATH_MAX - 64];
	char image[PATH_MAX], socket[PATH_MAX];
	struct dl_server srv;
	struct dl_options opt;
	struct fzs_stats stats;
	struct sample start, peak, end;
	bool sampled;
	double t0, last_report, report_every;
} g;

static void fail(const char *fmt, const char *detail)
{
	fprintf(stderr, "fuzz_service: ");
	fprintf(stderr, fmt, detail);
	fprintf(stderr, "\n");
	abort();
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- what the process holds ---------------------------------------------- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1;		/* opendir's own */
}

static void list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char path[300], to[PATH_MAX];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, to, sizeof(to) - 1);
		to[n > 0 ? n : 0] = 0;
		fprintf(stderr, "  fd %s -> %s\n", de->d_name, to);
	}
	if (d)
		closedir(d);
}

static long rss_kib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void print_report(void)
{
	const struct fzs_stats *s = &g.stats;

	fprintf(stderr, "fuzz_service: %.0f s, %llu inputs, %llu operations, "
		"%llu messages (%llu replies, %llu events), %llu connections "
		"(%llu dropped by the daemon), %llu restarts, %llu fds passed; "
		"%s RSS KiB start %ld peak %ld end %ld, fds start %d peak %d "
		"end %d\n", now_s() - g.t0,
		(unsigned long long)s->inputs, (unsigned long long)s->ops,
		(unsigned long long)s->messages,
		(unsigned long long)s->replies, (unsigned long long)s->events,
		(unsigned long long)s->connections,
		(unsigned long long)s->dropped,
		(unsigned long long)s->restarts,
		(unsigned long long)s->fds_passed,
		g.persist ? "daemon" : "process", g.start.rss_kib,
		g.peak.rss_kib, g.end.rss_kib, g.start.fds, g.peak.fds,
		g.end.fds);
	g.last_report = now_s();
}

static void sample_now(bool is_end)
{
	struct sample s = { rss_kib(), count_fds() };

	if (!g.sampled) {
		g.start = g.peak = s;
		g.sampled = true;
	}
	if (s.rss_kib > g.peak.rss_kib)
		g.peak.rss_kib = s.rss_kib;
	if (s.fds > g.peak.fds)
		g.peak.fds = s.fds;
	if (is_end)
		g.end = s;
	if (g.report_every > 0 && now_s() - g.last_report >= g.report_every)
		print_report();
}

static void at_exit(void)
{
	if (g.open) {
		dl_server_close(&g.srv);
		g.open = false;
	}
	unlink(g.image);
	rmdir(g.dir);
	if (g.stats.inputs)
		print_report();
}

/* ---- setup ------------------------------------------------------------------ */

static void setup_once(void)
{
	const char *base = access("/dev/shm", W_OK) ? getenv("TMPDIR") :
			   "/dev/shm";
	const char *level = getenv("DAXLEASE_FUZZ_LOG");
	const char *every = getenv("DAXLEASE_FUZZ_REPORT");
	enum dl_log_level lv = DL_LOG_ERR;

	if (g.ready)
		return;
	g.ready = true;
	snprintf(g.dir, sizeof(g.dir), "%s/daxlease-fuzz-XXXXXX",
		 base ? base : "/tmp");
	/* clients that are not root must reach the socket */
	if (!mkdtemp(g.dir) || chmod(g.dir, 0755))
		fail("cannot make a directory: %s", strerror(errno));
	snprintf(g.image, sizeof(g.image), "%s/ns.img", g.dir);
	snprintf(g.socket, sizeof(g.socket), "%s/sock", g.dir);
	dl_log_init();
	if (level)
		dl_log_parse_level(level, &lv);
	dl_log_set_level(lv);
	/* not a socket-activated daemon */
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	g.persist = getenv("DAXLEASE_FUZZ_PERSIST") &&
		    atoi(getenv("DAXLEASE_FUZZ_PERSIST"));
	g.report_every = every ? atof(every) : 60;
	g.t0 = g.last_report = now_s();
	atexit(at_exit);
}

static void make_image(uint8_t cfg)
{
	struct dl_ns_params p = {
		.size = FZS_IMAGE_SIZE, .name = "fuzz",
		.align = cfg & FZS_CFG_ALIGN_4K ? 4096 : 2ULL << 20,
	};
	struct dl_err err = { 0 };
	struct dl_ns *ns = NULL;
	int rc;

	unlink(g.image);
	rc = dl_nvdimm_create(g.image, &p, &err);
	if (!rc)
		rc = dl_nvdimm_open(g.image, DL_MAP_READ_WRITE, &ns, &err);
	if (!rc)
		rc = dl_fs_format(ns, NULL, &err);
	if (ns)
		dl_ns_close(&ns);
	if (rc)
		fail("cannot make the image: %s", err.msg);
}

static void options_from(uint8_t cfg, struct dl_options *o)
{
	memset(o, 0, sizeof(*o));
	o->image = g.image;
	o->socket = g.socket;
	o->dax_gid = cfg & FZS_CFG_DAX_NOBODY ? 65534 : (gid_t)-1;
	o->admin_gid = (gid_t)-1;
	o->table_entries = cfg & FZS_CFG_SMALL_TABLE ? 64 : 4096;
	dl_limits_default(&o->limits);
	if (cfg & FZS_CFG_SMALL_TABLE) {
		/* and small per-client limits, so programs reach them; the
		 * connection and byte limits stay, whose refusals would look
		 * like a well-behaved client dropped */
		o->limits.waiting_per_client = 4;
		o->limits.pins_per_client = 8;
		o->limits.pins_max = 16;
		o->limits.leases_per_client = 2;
		o->limits.mappings_per_client = 8;
	}
	o->detach = cfg & FZS_CFG_DETACH;
	/* breaks resolve within the few ms a SLEEP waits */
	o->lease_timeout_ms = 1;
	o->lease_max_timeout_ms = 3;
	o->require_leases = !(cfg & FZS_CFG_ADVISORY);
	o->records_per_process = cfg & FZS_CFG_FEW_RECORDS ? 1 : 64;
	o->dirty_max = cfg & FZS_CFG_FEW_DIRTY ? 4 : 65536;
	o->dirty_expire_ms = cfg & FZS_CFG_FAST_EXPIRE ? 0 : 30000;
}

static int server_start(void)
{
	g.srv.opt = g.opt;
	if (dl_server_open(&g.srv)) {
		dl_server_close(&g.srv);
		return -1;
	}
	g.open = true;
	return 0;
}

static void server_stop(void)
{
	dl_server_close(&g.srv);
	g.open = false;
}

/* ---- the daemon, in this process ---------------------------------------------- */

/* Run batches until neither the daemon nor its clients have anything
 * left to do (bounded: a polite client and a break can ping-pong). */
static void pump_here(struct fzs_daemon *d, int ms)
{
	for (int i = 0; i < 512; i++) {
		int n = dl_loop_run_once(g.srv.loop, i ? 0 : ms);
		unsigned got = d->drain ? d->drain(d->runner) : 0;

		if (n < 0)
			fail("the loop failed: %s", strerror(-n));
		if (!n && !got)
			break;
	}
}

static int restart_here(struct fzs_daemon *d)
{
	(void)d;
	server_stop();
	return server_start();
}

/* The image a clean stop left: marked clean, check-namespace clean. */
static void check_image(void)
{
	static struct dl_check_report rep;
	struct dl_err err = { 0 };
	struct dl_ns *ns = NULL;
	struct dl_ns_info info;

	if (dl_nvdimm_open(g.image, DL_MAP_READ_ONLY, &ns, &err))
		fail("cannot reopen the image: %s", err.msg);
	dl_ns_get_info(ns, &info);
	if (!info.was_clean)
		fail("%s", "the image is not marked clean after a clean stop");
	if (dl_fs_check(ns, &rep, &err))
		fail("check-namespace failed: %s", err.msg);
	for (size_t i = 0; i < rep.nproblems && i < DL_CHECK_MAX_PROBLEMS;
	     i++)
		fprintf(stderr, "fuzz_service: check: %s: %s\n",
			rep.problems[i].kind, rep.problems[i].detail);
	if (rep.nproblems)
		fail("%s", "check-namespace finds problems");
	if (strcmp(rep.journal_state, "clean"))
		fail("the journal is %s after a clean stop", rep.journal_state);
	dl_ns_close(&ns);
}

static void run_fresh(const uint8_t *data, size_t size)
{
	struct fzs_daemon d = {
		.socket = g.socket, .dir = g.dir,
		.pump = pump_here, .restart = restart_here,
	};
	struct dl_err err = { 0 };
	int fds = count_fds();

	sample_now(false);
	make_image(data[0]);
	options_from(data[0], &g.opt);
	if (server_start())
		fail("%s", "daxleased does not start on a fresh image");
	fzs_run(&d, data + 1, size - 1, &g.stats);
	pump_here(&d, 0);
	if (dl_fs_verify_media(g.srv.fs, &err))
		fail("the daemon's state is not the media's: %s", err.msg);
	sample_now(false);
	server_stop();
	if (count_fds() != fds) {
		fprintf(stderr, "fuzz_service: %d fds before, %d after:\n", fds,
			count_fds());
		list_fds();
		fail("%s", "fds leaked");
	}
	check_image();
	unlink(g.image);
	sample_now(true);
}

/* ---- one daemon, a client process per program ----------------------------------- */

static int child_ctl = -1, child_ack = -1;

/* The client process: the daemon runs in the parent meanwhile, so
 * "until nothing is left to do" is until no message came for a while. */
static void pump_child(struct fzs_daemon *d, int ms)
{
	struct timespec ts = { 0, 300000 };
	int idle = 0;

	if (ms) {
		struct timespec w = { 0, (long)ms * 1000000L };

		nanosleep(&w, NULL);
	}
	for (int i = 0; i < 2000 && idle < 3; i++) {
		if (d->drain && d->drain(d->runner)) {
			idle = 0;
			continue;
		}
		idle++;
		nanosleep(&ts, NULL);
	}
}

static int restart_child(struct fzs_daemon *d)
{
	char b = 'R';

	(void)d;
	if (write(child_ctl, &b, 1) != 1 || read(child_ack, &b, 1) != 1)
		return -1;
	return b == 'r' ? 0 : -1;
}

/* In the child: every fd but the pipes goes, so no copy of the daemon's
 * keeps a connection or a file of it alive. */
static void child_close_fds(const int *keep, int n)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		int fd = atoi(de->d_name);
		bool kept = fd < 3 || fd == dirfd(d);

		for (int i = 0; i < n; i++)
			kept |= keep[i] == fd;
		if (!kept && de->d_name[0] != '.')
			close(fd);
	}
	if (d)
		closedir(d);
}

/* In the child: the daemon's mappings of the image go too - a mapping
 * holds the open file, and with it the daemon's flock, so a restart
 * would find the image in use. */
static void child_unmap_image(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[PATH_MAX + 128];

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long from, to;

		if (strstr(line, g.image) &&
		    sscanf(line, "%lx-%lx", &from, &to) == 2)
			munmap((void *)from, to - from);
	}
	if (f)
		fclose(f);
}

static void child_main(const uint8_t *data, size_t size, int stats_fd)
{
	static const int sigs[] = { SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE };
	struct fzs_daemon d = {
		.socket = g.socket, .dir = g.dir,
		.pump = pump_child, .restart = restart_child,
	};
	struct fzs_stats st = { 0 };
	int keep[] = { child_ctl, child_ack, stats_fd };

	/* a failure here is the parent's to report, as a crash */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	child_close_fds(keep, 3);
	child_unmap_image();
	fzs_run(&d, data + 1, size - 1, &st);
	if (write(stats_fd, &st, sizeof(st)) != sizeof(st))
		_exit(3);
	_exit(0);
}

static void add_stats(const struct fzs_stats *s)
{
	g.stats.ops += s->ops;
	g.stats.messages += s->messages;
	g.stats.replies += s->replies;
	g.stats.events += s->events;
	g.stats.connections += s->connections;
	g.stats.dropped += s->dropped;
	g.stats.restarts += s->restarts;
	g.stats.fds_passed += s->fds_passed;
}

/* The daemon runs here until the client process is gone; its restarts
 * are done when it asks. */
static int serve_child(pid_t pid, int ctl, int ack)
{
	int status = 0;

	for (unsigned i = 0;; i++) {
		struct pollfd p = { .fd = ctl, .events = POLLIN };
		char b;

		if (dl_loop_run_once(g.srv.loop, 2) < 0)
			fail("%s", "the loop failed");
		if (poll(&p, 1, 0) == 1 && read(ctl, &b, 1) == 1) {
			server_stop();
			b = server_start() ? 'x' : 'r';
			if (write(ack, &b, 1) != 1)
				fail("%s", "cannot answer the client process");
		}
		if (!(i % 64))
			sample_now(false);
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
	}
}

static void run_persistent(const uint8_t *data, size_t size)
{
	int ctl[2], ack[2], st[2];
	struct fzs_stats s = { 0 };
	pid_t pid;
	int status;

	if (!g.open) {
		const char *cfg = getenv("DAXLEASE_FUZZ_CONFIG");

		make_image(cfg ? (uint8_t)strtoul(cfg, NULL, 0) : 0);
		options_from(cfg ? (uint8_t)strtoul(cfg, NULL, 0) : 0, &g.opt);
		if (server_start())
			fail("%s", "daxleased does not start");
		sample_now(false);
	}
	if (pipe2(ctl, O_CLOEXEC) || pipe2(ack, O_CLOEXEC) ||
	    pipe2(st, O_CLOEXEC))
		fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (!pid) {
		child_ctl = ctl[1];
		child_ack = ack[0];
		child_main(data, size, st[1]);
	}
	close(ctl[1]);
	close(ack[0]);
	close(st[1]);
	status = serve_child(pid, ctl[0], ack[1]);
	if (read(st[0], &s, sizeof(s)) == sizeof(s))
		add_stats(&s);
	close(ctl[0]);
	close(ack[1]);
	close(st[0]);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("%s", "the client process failed (its stderr says why)");
	/* its pidfd, and the teardown of what it left */
	for (int i = 0; i < 64 && dl_loop_run_once(g.srv.loop, 1) > 0; i++)
		;
	sample_now(true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup_once();
	if (!size)
		return 0;
	g.stats.inputs++;
	if (g.persist)
		run_persistent(data, size);
	else
		run_fresh(data, size);
	return 0;
}

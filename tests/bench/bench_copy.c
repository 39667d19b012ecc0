// SPDX-License-Identifier: BSD-3-Clause
/*
 * bench_copy.c - section copy: `daxlease put` and `daxlease get` of 256
 * MiB and 1 GiB files (16 MiB with --quick), image and local files on a
 * disk (/var/tmp) and in memory (/dev/shm), against what a user compares
 * them with on the same file system in the same run:
 *
 *   put   dd bs=1M conv=fsync (one fsync at the end, as put does) and
 *         dd bs=64k oflag=dsync (each 64 KiB write durable)
 *   get   dd bs=1M out of the same local file into another (page cache)
 *
 * Each run is the whole command, timed from fork to exit, through the
 * real daxlease command line (beside daxleased) against a daxleased
 * started on a fresh 4 GiB fake NVDIMM in that directory; the median of
 * 3 runs (1 with --quick).  The copies are checked (cmp) once.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define NMEDIA 2
#define NSIZES 2

static const char *const media[NMEDIA] = { "/var/tmp", "/dev/shm" };
static const char *const media_names[NMEDIA] = { "disk", "shm" };

struct copy_row {
	uint64_t bytes;
	const char *skipped;		/* why, or NULL */
	struct stats put, get, dd_fsync, dd_dsync, dd_read;
};

struct copy_res {
	struct copy_row row[NMEDIA][NSIZES];
};

struct copy_env {
	char dir[PATH_MAX - 64];
	char cli[PATH_MAX];
	const char *daemon;
	pid_t pid;
};

/* Run sh -c cmd quietly: 0 if it exited 0. */
static int sh(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

static int sh_timed(const char *cmd, size_t runs, struct stats *out)
{
	uint64_t *v = samples_new(runs);

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < runs; i++) {
		uint64_t t0 = now_ns();

		if (sh(cmd)) {
			free(v);
			return -EIO;
		}
		v[i] = now_ns() - t0;
	}
	stats_of(v, runs, out);
	free(v);
	return 0;
}

static int start_daemon(struct copy_env *e)
{
	char cmd[3 * PATH_MAX], sock[PATH_MAX];

	snprintf(cmd, sizeof(cmd), "%s create-namespace --size 4G --align 2M "
		 "%s/img >/dev/null", e->cli, e->dir);
	if (sh(cmd))
		return -EIO;
	snprintf(sock, sizeof(sock), "%s/sock", e->dir);
	e->pid = fork();
	if (e->pid == 0) {
		char img[PATH_MAX];

		snprintf(img, sizeof(img), "%s/img", e->dir);
		freopen("/dev/null", "w", stderr);
		execl(e->daemon, e->daemon, "--image", img, "--socket", sock,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		if (!access(sock, F_OK))
			return 0;
		usleep(20000);
	}
	return -ETIMEDOUT;
}

static void stop_daemon(struct copy_env *e)
{
	char cmd[PATH_MAX + 16];

	if (e->pid > 0) {
		kill(e->pid, SIGTERM);
		waitpid(e->pid, NULL, 0);
	}
	e->pid = 0;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
	sh(cmd);
}

static int measure(struct copy_env *e, struct copy_row *r, size_t runs)
{
	char cmd[4 * PATH_MAX];
	const char *d = e->dir;
	int rc;

	snprintf(cmd, sizeof(cmd), "head -c %llu /dev/urandom > %s/src",
		 (unsigned long long)r->bytes, d);
	rc = sh(cmd);
	if (!rc)
		rc = start_daemon(e);
#define RUN(stat, ...) \
	if (!rc) { \
		snprintf(cmd, sizeof(cmd), __VA_ARGS__); \
		rc = sh_timed(cmd, runs, stat); \
	}
	RUN(&r->put, "DAXLEASE_SOCKET=%s/sock %s put %s/src f >/dev/null", d,
	    e->cli, d);
	RUN(&r->get, "DAXLEASE_SOCKET=%s/sock %s get f %s/out", d, e->cli, d);
	if (!rc) {
		snprintf(cmd, sizeof(cmd), "cmp -s %s/src %s/out", d, d);
		rc = sh(cmd);
	}
	RUN(&r->dd_fsync, "dd if=%s/src of=%s/dd bs=1M conv=fsync status=none",
	    d, d);
	RUN(&r->dd_dsync, "dd if=%s/src of=%s/dd bs=64k oflag=dsync "
	    "status=none", d, d);
	RUN(&r->dd_read, "dd if=%s/src of=%s/out bs=1M status=none", d, d);
#undef RUN
	return rc;
}

static int copy_run(const struct bench_opts *o, void **res)
{
	struct copy_res *r = calloc(1, sizeof(*r));
	static const uint64_t sizes[NSIZES] = { 256ULL << 20, 1ULL << 30 };
	struct copy_env e = { .daemon = o->daemon };
	size_t runs = o->quick ? 1 : 3;
	char *slash;
	int rc = 0;

	*res = r;
	if (!r)
		return bench_fail("copy", "out of memory", -ENOMEM);
	for (int m = 0; m < NMEDIA; m++)
		for (int s = 0; s < NSIZES; s++) {
			r->row[m][s].bytes = o->quick ? (16ULL << 20) << s :
							sizes[s];
			r->row[m][s].skipped = "no daxleased";
		}
	if (!o->daemon)
		return 0;
	snprintf(e.cli, sizeof(e.cli), "%s", o->daemon);
	slash = strrchr(e.cli, '/');
	if (!slash)
		return 0;
	strcpy(slash + 1, "daxlease");
	for (int m = 0; m < NMEDIA && !rc; m++)
		for (int s = 0; s < NSIZES && !rc; s++) {
			struct copy_row *row = &r->row[m][s];

			snprintf(e.dir, sizeof(e.dir), "%s/daxlease-bench-copy.%d",
				 media[m], (int)getpid());
			if (access(media[m], W_OK) || mkdir(e.dir, 0700)) {
				row->skipped = "directory not writable";
				continue;
			}
			row->skipped = NULL;
			rc = measure(&e, row, runs);
			stop_daemon(&e);
			if (rc)
				return bench_fail("copy", media[m], rc);
		}
	return 0;
}

static double mb_per_s(const struct copy_row *r, const struct stats *s)
{
	return s->median ? (double)r->bytes / 1e6 / ((double)s->median / 1e9) :
			   0;
}

static void copy_print(const void *res)
{
	const struct copy_res *r = res;

	printf("\nput and get through the daxlease command line, against dd "
	       "on the same file system (median; ratio: daxlease / dd)\n");
	printf("  %-5s %9s %10s %10s %10s %7s %7s %10s %10s %7s\n", "where",
	       "size", "put", "dd fsync", "dd dsync", "ratio", "ratio",
	       "get", "dd read", "ratio");
	for (int m = 0; m < NMEDIA; m++)
		for (int s = 0; s < NSIZES; s++) {
			const struct copy_row *w = &r->row[m][s];
			char a[32], b[32], c[32], d[32], e[32];

			if (w->skipped) {
				printf("  %-5s %6llu MiB  skipped: %s\n",
				       media_names[m],
				       (unsigned long long)(w->bytes >> 20),
				       w->skipped);
				continue;
			}
			printf("  %-5s %5llu MiB %10s %10s %10s %6.2fx %6.2fx "
			       "%10s %10s %6.2fx   (put %.0f MB/s, get %.0f "
			       "MB/s)\n", media_names[m],
			       (unsigned long long)(w->bytes >> 20),
			       fmt_ns(a, sizeof(a), w->put.median),
			       fmt_ns(b, sizeof(b), w->dd_fsync.median),
			       fmt_ns(c, sizeof(c), w->dd_dsync.median),
			       ratio(&w->put, &w->dd_fsync),
			       ratio(&w->put, &w->dd_dsync),
			       fmt_ns(d, sizeof(d), w->get.median),
			       fmt_ns(e, sizeof(e), w->dd_read.median),
			       ratio(&w->get, &w->dd_read),
			       mb_per_s(w, &w->put), mb_per_s(w, &w->get));
		}
}

static struct json_object *row_json(const struct copy_row *w, int m)
{
	struct json_object *o = json_object_new_object();

	jadd_str(o, "where", media_names[m]);
	jadd_str(o, "dir", media[m]);
	jadd_u64(o, "bytes", w->bytes);
	if (w->skipped) {
		jadd_str(o, "skipped", w->skipped);
		return o;
	}
	jadd(o, "put", jstats(&w->put));
	jadd(o, "get", jstats(&w->get));
	jadd(o, "dd_conv_fsync", jstats(&w->dd_fsync));
	jadd(o, "dd_oflag_dsync", jstats(&w->dd_dsync));
	jadd(o, "dd_read", jstats(&w->dd_read));
	jadd_double(o, "put_vs_dd_conv_fsync", ratio(&w->put, &w->dd_fsync));
	jadd_double(o, "put_vs_dd_oflag_dsync", ratio(&w->put, &w->dd_dsync));
	jadd_double(o, "get_vs_dd_read", ratio(&w->get, &w->dd_read));
	jadd_double(o, "put_mb_per_s", mb_per_s(w, &w->put));
	jadd_double(o, "get_mb_per_s", mb_per_s(w, &w->get));
	return o;
}

static struct json_object *copy_json(const void *res)
{
	const struct copy_res *r = res;
	struct json_object *a = json_object_new_array();

	for (int m = 0; m < NMEDIA; m++)
		for (int s = 0; s < NSIZES; s++)
			json_object_array_add(a, row_json(&r->row[m][s], m));
	return jwrap("copy", jwrap("rows", a));
}

static void copy_release(void *res)
{
	free(res);
}

const struct bench_section bench_copy_section = {
	.name = "copy", .run = copy_run, .print = copy_print,
	.json = copy_json, .release = copy_release,
};

// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_persist.c - dl_map: granularity, counters, and the crash
 * simulation that crash tests rely on.
 *
 * Crash runs happen in a forked child: it sets DAXLEASE_CRASH_* and calls
 * dl_persist_fault_reload() before making its map (the settings are read
 * once per process), then the parent reads the file the way recovery
 * would see it after the power failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit_run.h"
#include "persist.h"
#include "persist_private.h"

#define FILE_SIZE (64 * 1024)
#define LINE 64

/* Child exit codes for setup failures, distinct from the crash code. */
#define CHILD_SETUP_FAILED 3
#define CHILD_FINISHED 0

static void clear_crash_env(void)
{
	unsetenv("DAXLEASE_CRASH_AT");
	unsetenv("DAXLEASE_CRASH_SEED");
	unsetenv("DAXLEASE_CRASH_EVICT");
	dl_persist_fault_reload();
}

/* A zero-filled file of FILE_SIZE bytes; returns an fd open read-write. */
static int make_file(const char *name)
{
	const char *path = dl_test_path(name);
	int fd;

	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd >= 0 && ftruncate(fd, FILE_SIZE) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void test_granularity_file_is_page(void)
{
	struct dl_map *map = NULL;
	struct dl_err err;
	int fd;

	clear_crash_env();
	fd = make_file("gran");
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(dl_map_new(fd, FILE_SIZE, DL_MAP_READ_WRITE,
					 &map, &err), 0);
	CU_ASSERT_EQUAL(dl_map_granularity(map), DL_GRANULARITY_PAGE);
	CU_ASSERT_STRING_EQUAL(dl_granularity_name(dl_map_granularity(map)),
			       "page");
	CU_ASSERT_EQUAL(dl_map_size(map), FILE_SIZE);
	CU_ASSERT_PTR_NOT_NULL(dl_map_addr(map));
	dl_map_delete(&map);
	CU_ASSERT_PTR_NULL(map);
	dl_map_delete(&map);	/* a second delete is harmless */
	close(fd);
}

static void test_stats_count(void)
{
	struct dl_persist_stats st;
	struct dl_map *map;
	struct dl_err err;
	uint64_t points;
	char *p;
	int fd;

	clear_crash_env();
	fd = make_file("stats");
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(dl_map_new(fd, FILE_SIZE, DL_MAP_READ_WRITE,
					 &map, &err), 0);
	p = dl_map_addr(map);
	points = dl_persist_points();
	memset(p, 0xab, 100);
	dl_map_flush(map, p, 100);
	dl_map_flush(map, p + 8192, 1);
	dl_map_flush(map, p, 0);	/* an empty range is not a flush */
	dl_map_drain(map);
	dl_map_persist(map, p + 4096, 10);
	dl_map_stats(map, &st);
	CU_ASSERT_EQUAL(st.flushes, 3);
	CU_ASSERT_EQUAL(st.drains, 2);
	CU_ASSERT_EQUAL(dl_persist_points() - points, 2);
	dl_map_delete(&map);
	close(fd);
}

/* Stores made through a shared mapping reach the file. */
static void test_persist_reaches_file(void)
{
	struct dl_map *map;
	struct dl_err err;
	char buf[16];
	int fd;

	clear_crash_env();
	fd = make_file("shared");
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(dl_map_new(fd, FILE_SIZE, DL_MAP_READ_WRITE,
					 &map, &err), 0);
	memcpy((char *)dl_map_addr(map) + 5000, "persisted", 10);
	dl_map_persist(map, (char *)dl_map_addr(map) + 5000, 10);
	dl_map_delete(&map);
	CU_ASSERT_EQUAL(pread(fd, buf, 10, 5000), 10);
	CU_ASSERT_STRING_EQUAL(buf, "persisted");
	close(fd);
}

static void test_read_only(void)
{
	struct dl_map *map;
	struct dl_err err;
	int fd, rfd;

	clear_crash_env();
	fd = make_file("ro");
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pwrite(fd, "hello", 5, 100), 5);
	rfd = open(dl_test_path("ro"), O_RDONLY);
	CU_ASSERT_FATAL(rfd >= 0);
	CU_ASSERT_EQUAL_FATAL(dl_map_new(rfd, FILE_SIZE, DL_MAP_READ_ONLY,
					 &map, &err), 0);
	CU_ASSERT_EQUAL(memcmp((char *)dl_map_addr(map) + 100, "hello", 5), 0);
	dl_map_delete(&map);
	/* a read-only fd cannot back a writable shared mapping */
	CU_ASSERT_EQUAL(dl_map_new(rfd, FILE_SIZE, DL_MAP_READ_WRITE, &map,
				   &err), -EACCES);
	CU_ASSERT_PTR_NULL(map);
	CU_ASSERT(strlen(err.msg) > 0);
	close(rfd);
	close(fd);
}

static void test_map_errors(void)
{
	struct dl_map *map = (void *)1;
	struct dl_err err;
	int fd;

	clear_crash_env();
	CU_ASSERT_EQUAL(dl_map_new(-1, 4096, DL_MAP_READ_WRITE, &map, &err),
			-EBADF);
	CU_ASSERT_PTR_NULL(map);
	fd = make_file("errors");
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(dl_map_new(fd, 0, DL_MAP_READ_WRITE, &map, &err),
			-EINVAL);
	CU_ASSERT_EQUAL(err.errnum, EINVAL);
	/* beyond the end of the file: pmem2 refuses, we say how much */
	CU_ASSERT_EQUAL(dl_map_new(fd, 2 * FILE_SIZE, DL_MAP_READ_WRITE, &map,
				   &err), -ERANGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot map 128 KiB"));
	close(fd);
}

/* ---- crash simulation ---------------------------------------------------- */
#ifdef DAXLEASE_FAULT_INJECTION

struct crash_run {
	const char *at;
	const char *seed;
	const char *evict;
};

static void crash_env(const struct crash_run *r)
{
	setenv("DAXLEASE_CRASH_AT", r->at, 1);
	if (r->seed)
		setenv("DAXLEASE_CRASH_SEED", r->seed, 1);
	if (r->evict)
		setenv("DAXLEASE_CRASH_EVICT", r->evict, 1);
	dl_persist_fault_reload();
}

/*
 * The workload, persist point by persist point:
 *   1: "one" at 0            2: "two" at 4096 (and "nof" stored unflushed)
 *   3: 256 lines at 16 KiB, each line filled with 0x5a
 *   4: "four" at 8192
 */
static void crash_workload(int fd)
{
	struct dl_map *map;
	char *p;

	if (dl_map_new(fd, FILE_SIZE, DL_MAP_READ_WRITE, &map, NULL))
		_exit(CHILD_SETUP_FAILED);
	p = dl_map_addr(map);
	memcpy(p, "one", 4);
	dl_map_persist(map, p, 4);
	memcpy(p + 4096, "two", 4);
	memcpy(p + 12288, "nof", 4);		/* never flushed */
	dl_map_persist(map, p + 4096, 4);
	memset(p + 16384, 0x5a, 256 * LINE);
	for (int i = 0; i < 256; i++)		/* one flush per line */
		dl_map_flush(map, p + 16384 + i * LINE, LINE);
	dl_map_drain(map);
	memcpy(p + 8192, "four", 5);
	dl_map_persist(map, p + 8192, 5);
	dl_map_delete(&map);
}

/* Fork, run the workload under the settings, return the exit status. */
static int crash_child(const char *name, const struct crash_run *r)
{
	int fd = make_file(name);
	int status;
	pid_t pid;

	if (fd < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		crash_env(r);
		crash_workload(fd);
		_exit(CHILD_FINISHED);
	}
	close(fd);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool file_has(const char *name, off_t off, const char *want)
{
	char buf[16] = "";
	size_t len = strlen(want) + 1;
	int fd = open(dl_test_path(name), O_RDONLY);
	bool ok = fd >= 0 && pread(fd, buf, len, off) == (ssize_t)len &&
		  !memcmp(buf, want, len);

	if (fd >= 0)
		close(fd);
	return ok;
}

/*
 * How many of the 256 lines written at point 3 reached the file; -1 if
 * any line is torn (a line is all-old or all-new).
 */
static int lines_written(const char *name, unsigned char *map_out)
{
	unsigned char buf[256 * LINE];
	int fd = open(dl_test_path(name), O_RDONLY);
	int n = 0;

	if (fd < 0 || pread(fd, buf, sizeof(buf), 16384) != sizeof(buf)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	for (int i = 0; i < 256; i++) {
		unsigned char first = buf[i * LINE];

		for (int k = 1; k < LINE; k++)
			if (buf[i * LINE + k] != first)
				return -1;
		if (first != 0 && first != 0x5a)
			return -1;
		if (map_out)
			map_out[i] = first;
		n += first == 0x5a;
	}
	return n;
}

static void test_crash_no_evict(void)
{
	struct crash_run r = { .at = "3", .evict = "0" };

	clear_crash_env();
	CU_ASSERT_EQUAL(crash_child("crash_noevict", &r), DL_CRASH_EXIT_CODE);
	CU_ASSERT(file_has("crash_noevict", 0, "one"));
	CU_ASSERT(file_has("crash_noevict", 4096, "two"));
	CU_ASSERT(!file_has("crash_noevict", 12288, "nof"));
	/* pending at the crash point, none evicted */
	CU_ASSERT_EQUAL(lines_written("crash_noevict", NULL), 0);
	CU_ASSERT(!file_has("crash_noevict", 8192, "four"));
}

static void test_crash_at_first_point(void)
{
	struct crash_run r = { .at = "1", .evict = "0" };

	clear_crash_env();
	CU_ASSERT_EQUAL(crash_child("crash_first", &r), DL_CRASH_EXIT_CODE);
	CU_ASSERT(!file_has("crash_first", 0, "one"));
	CU_ASSERT(!file_has("crash_first", 4096, "two"));
}

static void test_crash_evict(void)
{
	struct crash_run r = { .at = "3", .seed = "7", .evict = "1" };
	unsigned char a[256], b[256];
	int n;

	clear_crash_env();
	CU_ASSERT_EQUAL(crash_child("crash_evict", &r), DL_CRASH_EXIT_CODE);
	CU_ASSERT(file_has("crash_evict", 0, "one"));
	CU_ASSERT(file_has("crash_evict", 4096, "two"));
	CU_ASSERT(!file_has("crash_evict", 8192, "four"));
	/* about half the lines, none torn (2^-256 odds of a false failure) */
	n = lines_written("crash_evict", a);
	CU_ASSERT(n > 0 && n < 256);

	/* the same seed evicts the same lines */
	CU_ASSERT_EQUAL(crash_child("crash_evict2", &r), DL_CRASH_EXIT_CODE);
	CU_ASSERT_EQUAL(lines_written("crash_evict2", b), n);
	CU_ASSERT_EQUAL(memcmp(a, b, sizeof(a)), 0);
}

/* With the crash point beyond the run, every drained store is durable. */
static void test_sim_without_crash(void)
{
	struct crash_run r = { .at = "1000", .evict = "1" };

	clear_crash_env();
	CU_ASSERT_EQUAL(crash_child("sim_nocrash", &r), CHILD_FINISHED);
	CU_ASSERT(file_has("sim_nocrash", 0, "one"));
	CU_ASSERT(file_has("sim_nocrash", 4096, "two"));
	CU_ASSERT(file_has("sim_nocrash", 8192, "four"));
	CU_ASSERT_EQUAL(lines_written("sim_nocrash", NULL), 256);
	/* the private mapping keeps unflushed stores out of the file */
	CU_ASSERT(!file_has("sim_nocrash", 12288, "nof"));
}

/* Flushes are recorded exactly (widened to lines), not per page. */
static void test_sim_line_exact(void)
{
	struct crash_run r = { .at = "2", .evict = "0" };
	struct dl_map *map;
	int fd = make_file("line_exact"), status;
	pid_t pid;

	clear_crash_env();
	CU_ASSERT_FATAL(fd >= 0);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char *p;

		crash_env(&r);
		if (dl_map_new(fd, FILE_SIZE, DL_MAP_READ_WRITE, &map, NULL))
			_exit(CHILD_SETUP_FAILED);
		p = dl_map_addr(map);
		/* same page: one line flushed, the next line only stored */
		memcpy(p + 70, "in", 3);
		memcpy(p + 130, "out", 4);
		dl_map_persist(map, p + 70, 3);
		dl_map_persist(map, p + 4000, 1);	/* the crash point */
		_exit(CHILD_FINISHED);
	}
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status) &&
		  WEXITSTATUS(status) == DL_CRASH_EXIT_CODE);
	close(fd);
	CU_ASSERT(file_has("line_exact", 70, "in"));
	CU_ASSERT(!file_has("line_exact", 130, "out"));
}

#endif /* DAXLEASE_FAULT_INJECTION */

static CU_TestInfo map_tests[] = {
	{ "ordinary file has page granularity", test_granularity_file_is_page },
	{ "flushes and drains are counted", test_stats_count },
	{ "persisted stores reach the file", test_persist_reaches_file },
	{ "read-only mapping", test_read_only },
	{ "mapping errors", test_map_errors },
	CU_TEST_INFO_NULL,
};

#ifdef DAXLEASE_FAULT_INJECTION
/* The simulation models ADR: callers must flush, and are told so. */
static void test_sim_granularity(void)
{
	struct crash_run r = { .at = "1000" };
	struct dl_map *map;
	int fd = make_file("sim_gran");

	CU_ASSERT_FATAL(fd >= 0);
	crash_env(&r);
	CU_ASSERT_EQUAL(dl_map_new(fd, FILE_SIZE, DL_MAP_READ_WRITE, &map,
				   NULL), 0);
	clear_crash_env();
	if (map)
		CU_ASSERT_EQUAL(dl_map_granularity(map),
				DL_GRANULARITY_CACHE_LINE);
	dl_map_delete(&map);
	close(fd);
}

static CU_TestInfo crash_tests[] = {
	{ "simulation reports cache-line granularity", test_sim_granularity },
	{ "crash without eviction", test_crash_no_evict },
	{ "crash at the first persist point", test_crash_at_first_point },
	{ "crash with eviction is seeded", test_crash_evict },
	{ "simulation without a crash", test_sim_without_crash },
	{ "flush ranges are cache lines", test_sim_line_exact },
	CU_TEST_INFO_NULL,
};
#endif

static CU_SuiteInfo suites[] = {
	{ "map", NULL, NULL, NULL, NULL, map_tests },
#ifdef DAXLEASE_FAULT_INJECTION
	{ "crash", NULL, NULL, NULL, NULL, crash_tests },
#endif
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return dl_cunit_main(suites);
}

// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_guard.c - the SIGBUS guard of file mappings (pmem/guard.h): a
 * guarded mapping survives its file being cut short, and nothing else is
 * caught - a fault in a mapping that is not guarded, a SIGBUS sent with
 * kill(2), a SIGSEGV all still kill the process (or reach the handler
 * that was there before the guard).
 *
 * Deaths happen in forked children.  Under a sanitizer the sanitizer's
 * own handler is "the handler that was there before": it reports and
 * exits non-zero instead of dying of the signal, which counts too.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit_run.h"
#include "guard.h"
#include "persist.h"

#define FILE_SIZE (64 * 1024)
#define PAGE 4096

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#ifndef UNDER_SANITIZER
#define UNDER_SANITIZER 0
#endif

/* A file of FILE_SIZE bytes, 'x' each; an fd open read-write. */
static int make_file(const char *name)
{
	const char *path = dl_test_path(name);
	char buf[FILE_SIZE];
	int fd;

	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	memset(buf, 'x', sizeof(buf));
	if (fd >= 0 && pwrite(fd, buf, sizeof(buf), 0) != sizeof(buf)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static struct dl_map *guarded_map(int fd)
{
	struct dl_map *map = NULL;
	struct dl_err err = { 0 };

	if (dl_map_new(fd, FILE_SIZE, DL_MAP_READ_WRITE, &map, &err)) {
		fprintf(stderr, "map: %s\n", err.msg);
		return NULL;
	}
	if (dl_map_guard(map)) {
		dl_map_delete(&map);
		return NULL;
	}
	return map;
}

static void test_survives_truncate(void)
{
	int fd = make_file("shrinks");
	struct dl_map *map;
	volatile char *p;

	CU_ASSERT_FATAL(fd >= 0);
	map = guarded_map(fd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(map);
	p = dl_map_addr(map);
	CU_ASSERT_EQUAL(p[2 * PAGE], 'x');
	CU_ASSERT_EQUAL(dl_map_faults(map), 0);
	CU_ASSERT_EQUAL(ftruncate(fd, PAGE), 0);
	/* inside what is left: the file, no fault */
	CU_ASSERT_EQUAL(p[100], 'x');
	/* past the new end: zeros, and the store completes */
	CU_ASSERT_EQUAL(p[2 * PAGE], 0);
	CU_ASSERT_EQUAL(dl_map_faults(map), 1);
	p[2 * PAGE + 1] = 'y';
	CU_ASSERT_EQUAL(p[2 * PAGE + 1], 'y');
	CU_ASSERT_EQUAL(dl_map_faults(map), 1);	/* one page, once */
	p[5 * PAGE] = 'z';
	CU_ASSERT_EQUAL(dl_map_faults(map), 2);
	/* persisting what landed in the replacement pages is harmless */
	dl_map_persist(map, (void *)(p + 2 * PAGE), 4 * PAGE);
	dl_map_delete(&map);
	close(fd);
}

/* 0: the child died of sig (or a sanitizer reported it); else why not. */
static int died_of(pid_t pid, int sig)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFSIGNALED(st) && WTERMSIG(st) == sig)
		return 0;
	if (UNDER_SANITIZER && WIFEXITED(st) && WEXITSTATUS(st) != 0 &&
	    WEXITSTATUS(st) != 42)
		return 0;
	fprintf(stderr, "child status 0x%x, want death by signal %d\n", st,
		sig);
	return -1;
}

/* In a child: a guard is installed, then fn runs (it should not return). */
static pid_t child(void (*fn)(void))
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int fd = make_file("guarded");

		if (fd < 0 || !guarded_map(fd))
			_exit(3);
		fn();
		_exit(0);
	}
	return pid;
}

/* A mapping the guard does not know, of a file cut short. */
static void fault_unguarded(void)
{
	int fd = make_file("unguarded");
	volatile char *p;

	if (fd < 0)
		_exit(3);
	p = mmap(NULL, FILE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED || ftruncate(fd, 0))
		_exit(3);
	(void)p[PAGE];
}

static void segv(void)
{
	volatile char *p = mmap(NULL, PAGE, PROT_NONE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(3);
	p[0] = 1;
}

static void sent_sigbus(void)
{
	kill(getpid(), SIGBUS);
}

static void test_unguarded_fault_kills(void)
{
	CU_ASSERT_EQUAL(died_of(child(fault_unguarded), SIGBUS), 0);
}

static void test_segv_kills(void)
{
	CU_ASSERT_EQUAL(died_of(child(segv), SIGSEGV), 0);
}

static void test_sent_sigbus_kills(void)
{
	CU_ASSERT_EQUAL(died_of(child(sent_sigbus), SIGBUS), 0);
}

static void earlier_handler(int sig)
{
	(void)sig;
	_exit(42);
}

/* A handler installed before the guard still gets what is not ours. */
static void test_earlier_handler_called(void)
{
	int st = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		int fd;

		signal(SIGBUS, earlier_handler);
		fd = make_file("guarded2");
		if (fd < 0 || !guarded_map(fd))
			_exit(3);
		fault_unguarded();
		_exit(0);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 42);
}

static CU_TestInfo tests[] = {
	{ "a guarded mapping survives its file cut short", test_survives_truncate },
	{ "a fault in a mapping not guarded kills", test_unguarded_fault_kills },
	{ "SIGSEGV kills", test_segv_kills },
	{ "a SIGBUS sent by kill kills", test_sent_sigbus_kills },
	{ "a handler from before the guard is called", test_earlier_handler_called },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "guard", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return dl_cunit_main(suites);
}

// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_ns_watch.c - a watched namespace (pmem/ns_watch.c) whose image is
 * changed through another fd, as a client holding the namespace fd
 * would: cut short, extended, its header punched or stored over.  The
 * filesystem on it must survive (no SIGBUS), refuse every change with
 * -EIO, report each finding once per kind, and the image must keep its
 * identity (size, header, labels) for the next open.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cunit_run.h"
#include "fs_fixture.h"

#define MiB (1ULL << 20)
#define KiB 1024ULL
#define META (144 * KiB)	/* header copies + label area */

struct findings {
	unsigned bits;
	unsigned calls;
};

static void on_finding(void *arg, unsigned bit, const char *why)
{
	struct findings *f = arg;

	f->bits |= bit;
	f->calls++;
	printf("    finding %#x: %s\n", bit, why);
}

struct watched {
	struct fs_fixture fx;
	struct findings found;
	int other;		/* the image, opened again: "the client" */
	uint64_t size;		/* the image's */
	uint8_t uuid[16];
	dl_ino_t ino;
};

static char data[1 * MiB];

/* A namespace with a 1 MiB file "f", watched (if watch), and the image
 * opened again as "the client". */
static int setup_with(struct watched *w, const char *name, bool watch)
{
	struct dl_err err = { 0 };
	struct dl_ns_info info;
	struct stat st;

	memset(w, 0, sizeof(*w));
	w->other = -1;
	memset(data, 'd', sizeof(data));
	if (fx_create(&w->fx, name, 64 * MiB, 2 * MiB) ||
	    (watch && dl_ns_watch(w->fx.ns, on_finding, &w->found, &err)) ||
	    dl_fs_create(w->fx.fs, "f", 0644, 0, 0, &w->ino, &err) ||
	    dl_fs_write(w->fx.fs, w->ino, 0, data, sizeof(data), &err) !=
		    (ssize_t)sizeof(data)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	dl_ns_get_info(w->fx.ns, &info);
	memcpy(w->uuid, info.uuid, sizeof(w->uuid));
	w->other = open(w->fx.path, O_RDWR);
	if (w->other < 0 || fstat(w->other, &st))
		return -1;
	w->size = (uint64_t)st.st_size;
	return 0;
}

static int setup(struct watched *w, const char *name)
{
	return setup_with(w, name, true);
}

/* The inotify events of what "the client" did are read, unseen: as if
 * the filesystem ran before anything looked. */
static void miss_events(struct watched *w)
{
	char buf[4096];

	while (read(dl_ns_watch_fd(w->fx.ns), buf, sizeof(buf)) > 0)
		;
}

static void refuses_changes(struct watched *w)
{
	struct dl_err err = { 0 };
	dl_ino_t ino;

	CU_ASSERT_EQUAL(dl_fs_write(w->fx.fs, w->ino, 0, "x", 1, &err), -EIO);
	CU_ASSERT_EQUAL(dl_fs_truncate(w->fx.fs, w->ino, 0, 0, &err), -EIO);
	CU_ASSERT_EQUAL(dl_fs_create(w->fx.fs, "g", 0644, 0, 0, &ino, &err),
			-EIO);
	CU_ASSERT_EQUAL(dl_fs_unlink(w->fx.fs, "f", 0, &err), -EIO);
}

/* Close, then the image opens as the namespace it was: not clean
 * (changed behind our back) unless clean is wanted. */
static void close_and_reopen(struct watched *w, bool clean)
{
	struct dl_err err = { 0 };
	struct dl_ns_info info;
	struct dl_ns *ns = NULL;
	struct stat st;

	fx_close(&w->fx);
	CU_ASSERT_EQUAL(fstat(w->other, &st), 0);
	CU_ASSERT_EQUAL((uint64_t)st.st_size, w->size);
	close(w->other);
	CU_ASSERT_EQUAL_FATAL(dl_nvdimm_open(w->fx.path, DL_MAP_READ_ONLY, &ns,
					     &err), 0);
	dl_ns_get_info(ns, &info);
	CU_ASSERT_EQUAL(memcmp(info.uuid, w->uuid, sizeof(w->uuid)), 0);
	CU_ASSERT_EQUAL(info.was_clean, clean);
	dl_ns_close(&ns);
}

static void test_untouched_closes_clean(void)
{
	struct watched w;

	CU_ASSERT_FATAL(setup(&w, "untouched") == 0);
	CU_ASSERT_EQUAL(dl_ns_check(w.fx.ns, true), 0);
	/* our own writes and holes raise events: they find nothing */
	CU_ASSERT_EQUAL(dl_fs_fallocate(w.fx.fs, w.ino, 0, 0, 8 * MiB, 0,
					NULL), 0);
	CU_ASSERT_EQUAL(dl_fs_prepare_write(w.fx.fs, w.ino, 0, 8 * MiB, NULL),
			0);
	CU_ASSERT_EQUAL(dl_ns_check(w.fx.ns, true), 0);
	CU_ASSERT_EQUAL(w.found.calls, 0);
	close_and_reopen(&w, true);
}

/* Cut to 0, and the filesystem reads before anything looked: the guard
 * keeps it alive, the read gets zeros, the next change finds out. */
static void test_cut_to_zero(void)
{
	struct dl_err err = { 0 };
	struct watched w;
	char buf[4096];

	CU_ASSERT_FATAL(setup(&w, "cut0") == 0);
	CU_ASSERT_EQUAL(ftruncate(w.other, 0), 0);
	miss_events(&w);
	CU_ASSERT_EQUAL(dl_fs_read(w.fx.fs, w.ino, 0, buf, sizeof(buf), &err),
			(ssize_t)sizeof(buf));
	CU_ASSERT_EQUAL(buf[0], 0);
	CU_ASSERT_TRUE(dl_ns_health(w.fx.ns) & DL_NS_HEALTH_FAULT);
	refuses_changes(&w);
	CU_ASSERT_EQUAL(w.found.bits, DL_NS_HEALTH_FAULT |
				      DL_NS_HEALTH_RESIZED |
				      DL_NS_HEALTH_META);
	close_and_reopen(&w, false);
}

/* Cut short while the filesystem writes into what was cut off: the write
 * (its stores absorbed by the guard) fails, nothing is committed. */
static void test_cut_under_a_write(void)
{
	struct dl_err err = { 0 };
	struct watched w;

	CU_ASSERT_FATAL(setup(&w, "cutwrite") == 0);
	CU_ASSERT_EQUAL(ftruncate(w.other, (off_t)(w.size - 32 * MiB)), 0);
	miss_events(&w);
	/* 16 MiB of new blocks: some must lie in the 32 MiB cut off */
	for (uint64_t off = 1 * MiB; off < 33 * MiB; off += sizeof(data)) {
		ssize_t n = dl_fs_write(w.fx.fs, w.ino, off, data,
					sizeof(data), &err);

		if (n == -EIO)
			break;
		CU_ASSERT_EQUAL(n, (ssize_t)sizeof(data));
	}
	CU_ASSERT_TRUE(dl_ns_health(w.fx.ns) & DL_NS_HEALTH_FAULT);
	refuses_changes(&w);
	CU_ASSERT_TRUE(w.found.bits & DL_NS_HEALTH_RESIZED);
	close_and_reopen(&w, false);
}

static void test_extended(void)
{
	struct watched w;

	CU_ASSERT_FATAL(setup(&w, "longer") == 0);
	CU_ASSERT_EQUAL(ftruncate(w.other, (off_t)(w.size + 1 * MiB)), 0);
	CU_ASSERT_EQUAL(dl_ns_check(w.fx.ns, false), DL_NS_HEALTH_RESIZED);
	refuses_changes(&w);
	close_and_reopen(&w, false);
}

static void test_header_punched(void)
{
	struct dl_err err = { 0 };
	struct watched w;
	char buf[4096];

	CU_ASSERT_FATAL(setup(&w, "punched") == 0);
	CU_ASSERT_EQUAL(fallocate(w.other, FALLOC_FL_PUNCH_HOLE |
				  FALLOC_FL_KEEP_SIZE, 0, META), 0);
	CU_ASSERT_EQUAL(dl_ns_check(w.fx.ns, false), DL_NS_HEALTH_META);
	/* the file's data was not touched, and still reads */
	CU_ASSERT_EQUAL(dl_fs_read(w.fx.fs, w.ino, 0, buf, sizeof(buf), &err),
			(ssize_t)sizeof(buf));
	CU_ASSERT_EQUAL(memcmp(buf, data, sizeof(buf)), 0);
	refuses_changes(&w);
	/* reported once, though every refused change looked again */
	CU_ASSERT_EQUAL(w.found.calls, 1);
	close_and_reopen(&w, false);
}

/* Stores raise no event: only a full check (the service's timer, and
 * close) sees them. */
static void test_header_stored_over(void)
{
	struct watched w;
	char *p;

	CU_ASSERT_FATAL(setup(&w, "stores") == 0);
	p = mmap(NULL, META, PROT_READ | PROT_WRITE, MAP_SHARED, w.other, 0);
	CU_ASSERT_FATAL(p != MAP_FAILED);
	memset(p, 0x5a, META);
	CU_ASSERT_EQUAL(dl_ns_check(w.fx.ns, false), 0);
	CU_ASSERT_EQUAL(dl_ns_check(w.fx.ns, true), DL_NS_HEALTH_META);
	CU_ASSERT_EQUAL((unsigned char)p[0], 'D');	/* "DAXLEASE-NVDIMM" */
	munmap(p, META);
	refuses_changes(&w);
	close_and_reopen(&w, false);
}

/* No inotify to be had (no fd left for it, here): every check is a full
 * one, so a punch is still found by the next change. */
static void test_without_inotify(void)
{
	struct dl_err err = { 0 };
	struct watched w;
	struct rlimit old, tight;
	int next;

	CU_ASSERT_FATAL(setup_with(&w, "noinotify", false) == 0);
	/* the watch with no fd to spare */
	next = dup(0);
	CU_ASSERT_FATAL(next >= 0);
	close(next);
	CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_NOFILE, &old), 0);
	tight = old;
	tight.rlim_cur = (rlim_t)next;
	CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_NOFILE, &tight), 0);
	CU_ASSERT_EQUAL(dl_ns_watch(w.fx.ns, on_finding, &w.found, &err), 0);
	CU_ASSERT_EQUAL(setrlimit(RLIMIT_NOFILE, &old), 0);
	CU_ASSERT_EQUAL(dl_ns_watch_fd(w.fx.ns), -1);
	CU_ASSERT_EQUAL(dl_ns_check(w.fx.ns, false), 0);
	CU_ASSERT_EQUAL(fallocate(w.other, FALLOC_FL_PUNCH_HOLE |
				  FALLOC_FL_KEEP_SIZE, 0, META), 0);
	refuses_changes(&w);
	CU_ASSERT_EQUAL(w.found.bits, DL_NS_HEALTH_META);
	close_and_reopen(&w, false);
}

static CU_TestInfo tests[] = {
	{ "untouched: no finding, closes clean", test_untouched_closes_clean },
	{ "cut to 0 before anything looked", test_cut_to_zero },
	{ "cut short under a write", test_cut_under_a_write },
	{ "extended", test_extended },
	{ "header and labels punched", test_header_punched },
	{ "header and labels stored over", test_header_stored_over },
	{ "without inotify", test_without_inotify },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "ns_watch", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return dl_cunit_main(suites);
}

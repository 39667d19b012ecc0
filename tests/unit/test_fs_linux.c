/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_fs_linux.c - the filesystem against Linux itself.
 *
 * Every operation (write, truncate, and each fallocate mode with aligned
 * and unaligned, in-range and out-of-range arguments) is applied to a
 * daxlease file and to a file on the kernel filesystem under $TMPDIR;
 * the errno, the size and every byte must agree after every step.  The
 * kernel file system must support collapse and insert range (ext4, xfs):
 * on one that does not (tmpfs) the test skips with a reason.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cunit_run.h"
#include "fs_fixture.h"

#define MAXSZ (1u << 20)	/* files stay under 1 MiB */

static struct fs_fixture fx;
static int kfd = -1;
static dl_ino_t ino;
static uint8_t *kbuf, *dbuf, *wbuf;
static unsigned seed = 1;

static unsigned rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 8;
}

/* An offset or length: block aligned half of the time, and now and then
 * beyond the current size. */
static uint64_t pick(uint64_t limit)
{
	uint64_t v = rnd() % (limit ? limit : 1);

	if (rnd() % 2)
		v &= ~4095ULL;
	return v;
}

static void compare(const char *what, int step)
{
	struct stat st;
	struct dl_stat ds;
	ssize_t n;

	CU_ASSERT_EQUAL_FATAL(fstat(kfd, &st), 0);
	CU_ASSERT_EQUAL_FATAL(dl_fs_stat(fx.fs, ino, &ds), 0);
	if ((uint64_t)st.st_size != ds.size) {
		fprintf(stderr, "step %d %s: size linux %lld daxlease %llu\n",
			step, what, (long long)st.st_size,
			(unsigned long long)ds.size);
		CU_FAIL_FATAL("sizes differ");
	}
	n = pread(kfd, kbuf, MAXSZ * 2, 0);
	CU_ASSERT_EQUAL_FATAL(n, st.st_size);
	CU_ASSERT_EQUAL_FATAL(dl_fs_read(fx.fs, ino, 0, dbuf, MAXSZ * 2, NULL),
			      n);
	for (ssize_t i = 0; i < n; i++)
		if (kbuf[i] != dbuf[i]) {
			fprintf(stderr, "step %d %s: byte %zd linux %u "
				"daxlease %u\n", step, what, i, kbuf[i], dbuf[i]);
			CU_FAIL_FATAL("contents differ");
		}
}

static int kernel_rc(int rc)
{
	return rc < 0 ? -errno : 0;
}

static int one_step(int step, char *what, size_t whatlen)
{
	struct stat st;
	uint64_t size, off, len;
	int krc, drc, mode = 0;
	static const int modes[] = {
		0, FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_ZERO_RANGE, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE,
		FALLOC_FL_PUNCH_HOLE,			/* EOPNOTSUPP */
		FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_KEEP_SIZE, /* EINVAL */
		FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE |
			FALLOC_FL_KEEP_SIZE,
	};

	fstat(kfd, &st);
	size = (uint64_t)st.st_size;
	off = pick(size + size / 4 + 8192);
	len = 1 + pick(MAXSZ / 8);
	if (off + len > MAXSZ)
		len = off < MAXSZ ? MAXSZ - off : 1;
	/* insert range grows files: keep them within the buffers */
	switch (size > MAXSZ ? 2 : rnd() % 8) {
	case 0:
	case 1:
		for (uint64_t i = 0; i < len; i++)
			wbuf[i] = (uint8_t)(step + i * 7 + 1);
		snprintf(what, whatlen, "write %llu+%llu",
			 (unsigned long long)off, (unsigned long long)len);
		krc = pwrite(kfd, wbuf, len, (off_t)off) == (ssize_t)len ? 0
									: -errno;
		drc = (int)dl_fs_write(fx.fs, ino, off, wbuf, len, NULL);
		drc = drc < 0 ? drc : 0;
		break;
	case 2:
		if (off > MAXSZ)
			off = MAXSZ / 2;
		snprintf(what, whatlen, "truncate %llu", (unsigned long long)off);
		krc = kernel_rc(ftruncate(kfd, (off_t)off));
		drc = dl_fs_truncate(fx.fs, ino, off, 0, NULL);
		break;
	default:
		mode = modes[rnd() % (sizeof(modes) / sizeof(modes[0]))];
		if (step % 97 == 0)
			len = 0;	/* EINVAL */
		snprintf(what, whatlen, "fallocate 0x%x %llu+%llu", mode,
			 (unsigned long long)off, (unsigned long long)len);
		krc = kernel_rc(fallocate(kfd, mode, (off_t)off, (off_t)len));
		drc = dl_fs_fallocate(fx.fs, ino, mode, off, len, 0, NULL);
		break;
	}
	if (krc != drc) {
		fprintf(stderr, "step %d %s: linux %d (%s) daxlease %d (%s)\n",
			step, what, krc, strerror(-krc), drc, strerror(-drc));
		CU_FAIL_FATAL("return codes differ");
	}
	return mode;
}

static void test_random_ops_match_linux(void)
{
	char what[96];
	unsigned ops = getenv("DAXLEASE_FS_OPS") ?
			       (unsigned)atoi(getenv("DAXLEASE_FS_OPS")) : 3000;

	unsigned every = getenv("DAXLEASE_CHECK_EVERY") ?
				 (unsigned)atoi(getenv("DAXLEASE_CHECK_EVERY")) : 0;

	for (unsigned step = 1; step <= ops; step++) {
		struct dl_err err;

		one_step((int)step, what, sizeof(what));
		compare(what, (int)step);
		if (dl_fs_verify_media(fx.fs, &err)) {
			fprintf(stderr, "step %u %s: %s\n", step, what, err.msg);
			CU_FAIL_FATAL("DRAM and media disagree");
		}
		if (every && step % every == 0) {
			if (fx_check(&fx)) {
				fprintf(stderr, "step %u %s: check failed\n",
					step, what);
				CU_FAIL_FATAL("check-namespace found problems");
			}
			CU_ASSERT_EQUAL_FATAL(dl_fs_lookup(fx.fs, "f", &ino), 0);
		}
	}
	CU_ASSERT_EQUAL(fx_check(&fx), 0);
	CU_ASSERT_EQUAL_FATAL(dl_fs_lookup(fx.fs, "f", &ino), 0);
	compare("after reopen", -1);
}

/* Named cases for the rules, so a failure says which rule broke. */
static void test_rules(void)
{
	struct dl_err err;

	CU_ASSERT_EQUAL(ftruncate(kfd, 0), 0);
	CU_ASSERT_EQUAL(dl_fs_truncate(fx.fs, ino, 0, 0, NULL), 0);
	CU_ASSERT_EQUAL(dl_fs_write(fx.fs, ino, 0, wbuf, 65536, NULL), 65536);
	CU_ASSERT_EQUAL(pwrite(kfd, wbuf, 65536, 0), 65536);
	/* collapse: unaligned -> EINVAL; reaching EOF -> EINVAL */
	CU_ASSERT_EQUAL(dl_fs_fallocate(fx.fs, ino, FALLOC_FL_COLLAPSE_RANGE,
					100, 4096, 0, &err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "multiples"));
	CU_ASSERT_EQUAL(dl_fs_fallocate(fx.fs, ino, FALLOC_FL_COLLAPSE_RANGE,
					61440, 4096, 0, &err), -EINVAL);
	/* insert at or past EOF -> EINVAL */
	CU_ASSERT_EQUAL(dl_fs_fallocate(fx.fs, ino, FALLOC_FL_INSERT_RANGE,
					65536, 4096, 0, &err), -EINVAL);
	/* punch without keep size -> EOPNOTSUPP */
	CU_ASSERT_EQUAL(dl_fs_fallocate(fx.fs, ino, FALLOC_FL_PUNCH_HOLE, 0,
					4096, 0, &err), -EOPNOTSUPP);
	/* too big -> EFBIG */
	CU_ASSERT_EQUAL(dl_fs_fallocate(fx.fs, ino, 0, DL_MAX_FILE_SIZE, 4096,
					0, &err), -EFBIG);
	CU_ASSERT_EQUAL(dl_fs_truncate(fx.fs, ino, DL_MAX_FILE_SIZE + 1, 0,
				       &err), -EFBIG);
	compare("rules", 0);
}

static int setup(void)
{
	const char *kpath = dl_test_path("linux-file");
	int rc;

	kbuf = malloc(MAXSZ * 2);
	dbuf = malloc(MAXSZ * 2);
	wbuf = malloc(MAXSZ);
	if (fx_create(&fx, "linux.img", 256 * DL_MiB, 2 * DL_MiB))
		return 1;
	if (dl_fs_create(fx.fs, "f", 0644, 0, 0, &ino, NULL))
		return 1;
	kfd = open(kpath, O_RDWR | O_CREAT | O_TRUNC, 0644);
	return kfd < 0 || !kbuf || !dbuf || !wbuf;
	(void)rc;
}

static int teardown(void)
{
	close(kfd);
	fx_close(&fx);
	free(kbuf);
	free(dbuf);
	free(wbuf);
	return 0;
}

static CU_TestInfo tests[] = {
	{ "Linux fallocate rules", test_rules },
	{ "random write/truncate/fallocate vs the kernel", test_random_ops_match_linux },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "fs-vs-linux", setup, teardown, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

/* Skip where the kernel file system lacks collapse/insert range. */
static int kernel_supports_ranges(void)
{
	const char *p = dl_test_path("probe");
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644), ok;

	if (fd < 0)
		return 0;
	ok = ftruncate(fd, 65536) == 0 &&
	     fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4096) == 0 &&
	     fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, 4096) == 0 &&
	     fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 4096) == 0;
	close(fd);
	unlink(p);
	return ok;
}

int main(void)
{
	if (getenv("DAXLEASE_SEED"))
		seed = (unsigned)atoi(getenv("DAXLEASE_SEED"));
	if (!kernel_supports_ranges()) {
		fprintf(stderr, "SKIP: the file system under %s lacks collapse/"
			"insert/zero range; set TMPDIR to ext4 or xfs\n",
			dl_test_tmpdir());
		return DL_TEST_SKIP;
	}
	return dl_cunit_main(suites);
}

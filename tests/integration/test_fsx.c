/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_fsx.c - fsx-style differential test: daxleased against the kernel.
 *
 * Random operations - write, read, truncate, punch hole, collapse range,
 * insert range, zero range, allocate, mapped read and mapped write - go to
 * a daxlease file (through libdaxlease and a real daemon; each operation
 * through one of two clients, picked at random) and to a file on
 * the kernel filesystem under $TMPDIR.  After every step the return codes
 * (0 or -errno), the sizes and every byte must agree.  Offsets and lengths
 * are block aligned half of the time, so the alignment rules are exercised
 * as much as the data paths.
 *
 *   DAXLEASE_FSX_OPS   operations (default 5,000)
 *   DAXLEASE_SEED      the seed (default: from the clock; always printed)
 *   DAXLEASE_FSX_ALIGN namespace align in bytes (default 2 MiB)
 *
 * On a mismatch the seed and the last 20 operations are printed.  The
 * kernel filesystem must support collapse and insert range (ext4, xfs);
 * on one that does not (tmpfs) the test skips (77) with the reason.
 * Mapped operations need DAX access (root); without it they are left out.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cunit_run.h"
#include "daxlease/libdaxlease.h"
#include "harness.h"

#define MAXSZ (1u << 20)	/* offsets stay below 1 MiB ... */
#define MAXFILE (2u << 20)	/* ... and files below 2 MiB */
#define MAXLEN (128u << 10)
#define BLK 4096ULL
#define HISTORY 20

enum op {
	OP_WRITE, OP_READ, OP_TRUNCATE, OP_PUNCH, OP_COLLAPSE, OP_INSERT,
	OP_ZERO, OP_ALLOC, OP_MAPREAD, OP_MAPWRITE, OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
	"write", "read", "truncate", "punch", "collapse", "insert", "zero",
	"alloc", "mapread", "mapwrite",
};

/* relative frequencies */
static const unsigned op_weight[OP_COUNT] = { 20, 10, 8, 8, 6, 6, 8, 5, 6, 8 };

struct rec {
	unsigned long step;
	enum op op;
	uint64_t off, len;
	int mode;
	long long krc, drc;
	uint64_t size_after;
};

static struct dlh_daemon dmn;
static struct daxlease_ctx *ctx, *ctx2;
static struct daxlease_file *df, *df2;	/* the same file, two clients */
static int kfd = -1;
static uint8_t *kbuf, *dbuf, *wbuf;
static unsigned long long seed;
static uint64_t rng;
static struct rec hist[HISTORY];
static unsigned long nhist;
static int can_map;
static unsigned long counts[OP_COUNT], skipped, mapread_enxio;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* An offset or length below limit: block aligned half of the time. */
static uint64_t pick(uint64_t limit)
{
	uint64_t v = below(limit);

	if (rnd() & 1)
		v &= ~(BLK - 1);
	return v;
}

static void print_history(void)
{
	unsigned long first = nhist > HISTORY ? nhist - HISTORY : 0;

	fprintf(stderr, "fsx: seed %llu (DAXLEASE_SEED=%llu to repeat); "
		"last %lu operations:\n", seed, seed, nhist - first);
	for (unsigned long i = first; i < nhist; i++) {
		const struct rec *r = &hist[i % HISTORY];

		fprintf(stderr, "  %6lu %-8s off %-8llu len %-8llu mode %#x "
			"linux %lld daxlease %lld size %llu\n", r->step,
			op_names[r->op], (unsigned long long)r->off,
			(unsigned long long)r->len, r->mode, r->krc, r->drc,
			(unsigned long long)r->size_after);
	}
}

static uint64_t ksize(void)
{
	struct stat st;

	if (fstat(kfd, &st))
		return ~0ULL;
	return (uint64_t)st.st_size;
}

/* Sizes and every byte agree; 0 or -1 (and why, printed). */
static int compare(unsigned long step)
{
	struct daxlease_stat st;
	uint64_t size = ksize();
	ssize_t n;
	int rc;

	rc = daxlease_fstat(df, &st);
	if (rc || st.size != size) {
		fprintf(stderr, "fsx: step %lu: size linux %llu daxlease %llu "
			"(rc %d)\n", step, (unsigned long long)size,
			(unsigned long long)st.size, rc);
		return -1;
	}
	n = pread(kfd, kbuf, size, 0);
	if (n != (ssize_t)size) {
		fprintf(stderr, "fsx: step %lu: kernel read %zd\n", step, n);
		return -1;
	}
	memset(dbuf, 0xa5, size);
	n = daxlease_pread(df, dbuf, size, 0);
	if (n != (ssize_t)size) {
		fprintf(stderr, "fsx: step %lu: daxlease read %zd of %llu\n",
			step, n, (unsigned long long)size);
		return -1;
	}
	for (uint64_t i = 0; i < size; i++)
		if (kbuf[i] != dbuf[i]) {
			fprintf(stderr, "fsx: step %lu: byte %llu: linux %#x "
				"daxlease %#x\n", step, (unsigned long long)i,
				kbuf[i], dbuf[i]);
			return -1;
		}
	return 0;
}

static long long kret(long long rc)
{
	return rc < 0 ? -errno : rc;
}

static void random_bytes(uint8_t *buf, uint64_t len)
{
	uint64_t x = rnd();

	for (uint64_t i = 0; i < len; i++) {
		if (!(i & 7))
			x = rnd();
		buf[i] = (uint8_t)(x >> ((i & 7) * 8));
	}
}

/* The mapped range of an op: block aligned and inside the block-rounded
 * size; 0 when there is none (the op is skipped). */
static int map_range(uint64_t size, uint64_t *off, uint64_t *len)
{
	uint64_t blocks = size / BLK, first, n;

	if (!blocks)
		return 0;
	if (!below(8)) {	/* the whole file: PMD leaves where they fit */
		*off = 0;
		*len = blocks * BLK;
		return 1;
	}
	first = below(blocks);
	n = blocks - first < 32 ? blocks - first : 32;
	n = 1 + below(rnd() & 1 ? n : (n < 4 ? n : 4));
	*off = first * BLK;
	*len = n * BLK;
	return 1;
}

/* One operation on both files; fills r; -1 when the op was not run. */
static int do_op(enum op op, struct rec *r)
{
	uint64_t size = ksize(), off, len;
	struct daxlease_map *m = NULL;
	long long krc, drc;
	int mode = 0;
	uint64_t lease = 0;

	struct daxlease_file *f = rnd() & 1 ? df : df2;
	struct daxlease_ctx *fc = f == df ? ctx : ctx2;

	off = pick(MAXSZ);
	len = 1 + pick(MAXLEN);
	switch (op) {
	case OP_WRITE:
		random_bytes(wbuf, len);
		krc = kret(pwrite(kfd, wbuf, len, (off_t)off));
		drc = daxlease_pwrite(f, wbuf, len, off);
		break;
	case OP_READ:
		if (size)
			off = below(size + 1024);
		krc = kret(pread(kfd, kbuf, len, (off_t)off));
		drc = daxlease_pread(f, dbuf, len, off);
		if (krc == drc && krc > 0 && memcmp(kbuf, dbuf, (size_t)krc)) {
			fprintf(stderr, "fsx: read returned other bytes\n");
			drc = -1000;
		}
		break;
	case OP_TRUNCATE:
		off = pick(MAXSZ + MAXLEN);
		len = 0;
		krc = kret(ftruncate(kfd, (off_t)off));
		drc = daxlease_truncate(f, off);
		break;
	case OP_PUNCH:
	case OP_COLLAPSE:
	case OP_INSERT:
	case OP_ZERO:
	case OP_ALLOC:
		if (op == OP_PUNCH) {
			mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		} else if (op == OP_COLLAPSE) {
			mode = FALLOC_FL_COLLAPSE_RANGE;
			if (size && rnd() % 4)	/* mostly inside the file */
				off = pick(size);
		} else if (op == OP_INSERT) {
			mode = FALLOC_FL_INSERT_RANGE;
			if (size && rnd() % 4)
				off = pick(size);
			if (size + len > MAXFILE)
				return -1;
		} else {
			mode = op == OP_ZERO ? FALLOC_FL_ZERO_RANGE : 0;
			if (rnd() & 1)
				mode |= FALLOC_FL_KEEP_SIZE;
		}
		krc = kret(fallocate(kfd, mode, (off_t)off, (off_t)len));
		drc = daxlease_fallocate(f, mode, off, len);
		break;
	case OP_MAPREAD:
	case OP_MAPWRITE:
		if (!can_map || !map_range(size, &off, &len))
			return -1;
		drc = daxlease_lease_acquire(f, off, len,
					     DAXLEASE_LEASE_SHARED, 0, &lease);
		if (drc) {
			krc = 0;
			break;
		}
		drc = daxlease_map(f, off, len, op == OP_MAPREAD ?
				   DAXLEASE_PROT_READ : DAXLEASE_PROT_READ |
				   DAXLEASE_PROT_WRITE, &m);
		if (drc)
			daxlease_lease_release(fc, lease);
		if (drc == -ENXIO && op == OP_MAPREAD) {
			/* documented: a read mapping must cover written
			 * blocks only (docs/protocol.md) */
			mapread_enxio++;
			return -1;
		}
		if (drc) {
			krc = 0;
			break;
		}
		if (op == OP_MAPREAD) {
			krc = kret(pread(kfd, kbuf, len, (off_t)off));
			drc = memcmp(kbuf, daxlease_map_addr(m), len) ? -1001 :
			      (long long)len;
		} else {
			random_bytes(wbuf, len);
			memcpy(daxlease_map_addr(m), wbuf, len);
			drc = daxlease_map_persist(m, 0, len);
			krc = kret(pwrite(kfd, wbuf, len, (off_t)off));
			if (!drc)
				drc = (long long)len;
		}
		{
			int urc = daxlease_unmap(m);

			if (!urc)
				urc = daxlease_lease_release(fc, lease);
			if (urc && !drc)
				drc = urc;
		}
		break;
	default:
		return -1;
	}
	r->op = op;
	r->off = off;
	r->len = len;
	r->mode = mode;
	r->krc = krc;
	r->drc = drc;
	return 0;
}

static enum op pick_op(void)
{
	unsigned total = 0, x;

	for (int i = 0; i < OP_COUNT; i++)
		total += op_weight[i];
	x = (unsigned)below(total);
	for (int i = 0; i < OP_COUNT; i++) {
		if (x < op_weight[i])
			return (enum op)i;
		x -= op_weight[i];
	}
	return OP_WRITE;
}

static unsigned long env_ul(const char *name, unsigned long dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : dflt;
}

static void test_fsx(void)
{
	unsigned long nops = env_ul("DAXLEASE_FSX_OPS", 5000);
	int fail = 0;

	printf("\nfsx: %lu operations, seed %llu, align %lu%s\n", nops, seed,
	       env_ul("DAXLEASE_FSX_ALIGN", 2ul << 20),
	       can_map ? "" : " (no mapped operations: not root)");
	for (unsigned long step = 1; step <= nops && !fail; step++) {
		struct rec *r = &hist[nhist % HISTORY];
		enum op op = pick_op();

		memset(r, 0, sizeof(*r));
		r->step = step;
		if (do_op(op, r)) {
			skipped++;
			continue;
		}
		counts[op]++;
		r->size_after = ksize();
		nhist++;
		if (r->krc != r->drc) {
			fprintf(stderr, "fsx: step %lu %s: linux %lld, "
				"daxlease %lld\n", step, op_names[op], r->krc,
				r->drc);
			fail = 1;
		} else if (compare(step)) {
			fail = 1;
		}
	}
	if (fail)
		print_history();
	CU_ASSERT_FALSE(fail);
	printf("fsx:");
	for (int i = 0; i < OP_COUNT; i++)
		printf(" %s %lu", op_names[i], counts[i]);
	printf(", skipped %lu (of them mapped reads of a hole or unwritten "
	       "range, -ENXIO: %lu)\n", skipped, mapread_enxio);
}

static void test_clean_stop(void)
{
	CU_ASSERT_EQUAL(daxlease_close(df2), 0);
	df2 = NULL;
	daxlease_unref(ctx2);
	ctx2 = NULL;
	CU_ASSERT_EQUAL(daxlease_close(df), 0);
	df = NULL;
	daxlease_unref(ctx);
	ctx = NULL;
	CU_ASSERT_EQUAL(dlh_stop(&dmn), 0);
}

static int suite_init(void)
{
	struct dlh_opts o = { .align = env_ul("DAXLEASE_FSX_ALIGN", 0) };
	struct daxlease_info info;
	int rc;

	if (dlh_start(&dmn, &o))
		return -1;
	rc = daxlease_new(&ctx, dmn.socket);
	if (!rc)
		rc = daxlease_open(ctx, "fsx", DAXLEASE_O_READ |
				   DAXLEASE_O_WRITE | DAXLEASE_O_CREATE, 0644,
				   &df);
	if (!rc)
		rc = daxlease_new(&ctx2, dmn.socket);
	if (!rc)
		rc = daxlease_open(ctx2, "fsx", DAXLEASE_O_READ |
				   DAXLEASE_O_WRITE, 0, &df2);
	if (rc) {
		fprintf(stderr, "fsx: %s\n", strerror(-rc));
		return -1;
	}
	daxlease_get_info(ctx, &info);
	can_map = !!(info.server_flags & DL_SRV_DAX_ALLOWED);
	return 0;
}

static int suite_clean(void)
{
	if (df2)
		daxlease_close(df2);
	if (ctx2)
		daxlease_unref(ctx2);
	if (df)
		daxlease_close(df);
	if (ctx)
		daxlease_unref(ctx);
	dlh_kill(&dmn);
	return 0;
}

static CU_TestInfo tests[] = {
	{ "random operations against the kernel", test_fsx },
	{ "clean stop", test_clean_stop },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "fsx", suite_init, suite_clean, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

/* Collapse and insert range on the kernel file, or a reason why not. */
static const char *kernel_file(void)
{
	static char why[256];
	static uint8_t zero[4 * BLK];

	kfd = open(dl_test_path("kernel.fsx"), O_RDWR | O_CREAT | O_TRUNC,
		   0644);
	if (kfd < 0) {
		snprintf(why, sizeof(why), "cannot create a file in %s: %s",
			 dl_test_tmpdir(), strerror(errno));
		return why;
	}
	if (pwrite(kfd, zero, sizeof(zero), 0) != (ssize_t)sizeof(zero))
		return "cannot write the kernel file";
	if (fallocate(kfd, FALLOC_FL_COLLAPSE_RANGE, BLK, BLK) ||
	    fallocate(kfd, FALLOC_FL_INSERT_RANGE, BLK, BLK) ||
	    fallocate(kfd, FALLOC_FL_ZERO_RANGE, 0, BLK) ||
	    fallocate(kfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, BLK)) {
		snprintf(why, sizeof(why), "the filesystem of %s does not "
			 "support collapse/insert/zero/punch (%s); set TMPDIR "
			 "to an ext4 or xfs directory", dl_test_tmpdir(),
			 strerror(errno));
		return why;
	}
	if (ftruncate(kfd, 0))
		return "cannot truncate the kernel file";
	return NULL;
}

int main(void)
{
	const char *why;

	if (dlh_prepare())
		return DL_TEST_SKIP;
	why = kernel_file();
	if (why) {
		printf("skip: %s\n", why);
		return DL_TEST_SKIP;
	}
	seed = env_ul("DAXLEASE_SEED", 0);
	if (!seed)
		seed = (unsigned long long)time(NULL) ^
		       ((unsigned long long)getpid() << 32);
	rng = seed;
	kbuf = malloc(MAXFILE + MAXSZ + 2 * MAXLEN);
	dbuf = malloc(MAXFILE + MAXSZ + 2 * MAXLEN);
	wbuf = malloc(MAXFILE + MAXLEN);
	if (!kbuf || !dbuf || !wbuf)
		return 1;
	return dl_cunit_main(suites);
}

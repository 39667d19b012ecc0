/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * daxlease_bench.c - daxlease-bench [--quick] [--json]
 *
 * Times the operations whose cost the design argues about, each as the
 * median of many runs (with min, max and the run count), all measured in
 * this one process run so that a ratio compares numbers taken side by
 * side on the same machine, file system and load:
 *
 *   create-namespace  dl_nvdimm_create of a 1 TiB sparse image, then
 *                     dl_fs_format of it; the disk bytes each leaves used
 *   allocation        dl_alloc_get + dl_alloc_put of a 2 MiB extent on a
 *                     fresh 64 GiB allocator (DRAM only), against a 4 KiB
 *                     block in the same run
 *   journal           one metadata-only transaction (dl_fs_setattr) with
 *                     its persist barriers (drains) and flushes, against
 *                     one dl_ns_persist of one dirty 4 KiB page (an msync
 *                     on an ordinary file); and 4 KiB dl_fs_write calls
 *   check-namespace   dl_fs_check of a 4 GiB namespace (align 2M) holding
 *                     10,000 small files (1,000 with --quick)
 *
 * Images live in a fresh directory under $TMPDIR (default /tmp) and are
 * deleted.  The numbers describe that directory's file system: on an
 * ordinary file every flush is an msync, so a persist point costs what a
 * page writeback costs there.  --json prints one JSON object with stable
 * field names (times in nanoseconds); without it, a table for humans.
 * Exit: 0, or 1 with a message on stderr if an operation failed.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "fs.h"
#include "namespace.h"

#define BENCH_ERR 1

/*
 * ThreadSanitizer's shadow memory leaves too little address space to map
 * 1 TiB reliably: under it the create-namespace image is smaller, and the
 * output says which size was measured.
 */
#if defined(__SANITIZE_THREAD__)
#define BENCH_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BENCH_UNDER_TSAN 1
#endif
#endif
#ifdef BENCH_UNDER_TSAN
#define CREATE_SIZE (64 * DL_GiB)
#else
#define CREATE_SIZE DL_TiB
#endif

struct stats {
	uint64_t median, min, max;	/* nanoseconds */
	size_t runs;
};

/* Per-operation persistence cost, from dl_ns_persist_stats deltas. */
struct persist_cost {
	double drains;
	double flushes;
};

struct iters {
	size_t create;		/* 1 TiB images made */
	size_t alloc;		/* get+put pairs per size */
	size_t tx;		/* transactions, persists, writes */
	size_t files;		/* files the check walks */
	size_t check;		/* dl_fs_check runs */
};

struct res_create {
	uint64_t size;
	struct stats create, format;
	uint64_t disk_after_create, disk_after_format;
};

struct res_alloc {
	uint64_t nblocks;
	struct stats extent_2m, block_4k;
};

struct res_journal {
	uint64_t ns_size;
	const char *granularity;
	struct stats commit, persist_4k, write_overwrite, write_append;
	struct persist_cost commit_cost, persist_cost, overwrite_cost,
			    append_cost;
};

struct res_check {
	uint64_t ns_size, files, problems;
	struct stats setup_file, check;
};

struct bench {
	bool quick, json;
	struct iters it;
	char dir[PATH_MAX - 64];	/* our directory under $TMPDIR */
	struct res_create create;
	struct res_alloc alloc;
	struct res_journal journal;
	struct res_check check;
};

/* ---- timing and statistics ----------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Median (the lower one of an even count), min, max; sorts v. */
static void stats_of(uint64_t *v, size_t n, struct stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!n)
		return;
	qsort(v, n, sizeof(*v), u64_cmp);
	out->median = v[(n - 1) / 2];
	out->min = v[0];
	out->max = v[n - 1];
	out->runs = n;
}

static uint64_t *samples_new(size_t n)
{
	uint64_t *v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		fprintf(stderr, "daxlease-bench: out of memory\n");
	return v;
}

static void cost_of(const struct dl_persist_stats *before,
		    const struct dl_persist_stats *after, size_t ops,
		    struct persist_cost *out)
{
	out->drains = (double)(after->drains - before->drains) / (double)ops;
	out->flushes = (double)(after->flushes - before->flushes) /
		       (double)ops;
}

static int fail(const char *what, const struct dl_err *err, int rc)
{
	fprintf(stderr, "daxlease-bench: %s: %s\n", what,
		err && err->msg[0] ? err->msg : strerror(rc < 0 ? -rc : rc));
	return BENCH_ERR;
}

static uint64_t disk_bytes(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_blocks * 512;
}

/* dir/name, in one of a few rotating buffers. */
static const char *img_path(const struct bench *b, const char *name)
{
	static char buf[4][PATH_MAX];
	static unsigned next;
	char *p = buf[next++ % 4];

	snprintf(p, PATH_MAX, "%s/%s", b->dir, name);
	return p;
}

/* ---- (a) create-namespace ------------------------------------------------ */

static int create_one(struct bench *b, uint64_t *t_create, uint64_t *t_format)
{
	const char *path = img_path(b, "create.img");
	struct dl_ns_params p = { .size = CREATE_SIZE, .align = 2 * DL_MiB };
	struct dl_err err = { 0 };
	struct dl_ns *ns;
	uint64_t t0;
	int rc;

	t0 = now_ns();
	rc = dl_nvdimm_create(path, &p, &err);
	*t_create = now_ns() - t0;
	if (rc)
		return fail("create the sparse image", &err, rc);
	b->create.disk_after_create = disk_bytes(path);
	rc = dl_nvdimm_open(path, DL_MAP_READ_WRITE, &ns, &err);
	if (!rc) {
		t0 = now_ns();
		rc = dl_fs_format(ns, NULL, &err);
		*t_format = now_ns() - t0;
		dl_ns_close(&ns);
	}
	b->create.disk_after_format = disk_bytes(path);
	unlink(path);
	return rc ? fail("format the sparse image", &err, rc) : 0;
}

static int bench_create(struct bench *b)
{
	size_t n = b->it.create;
	uint64_t *tc = samples_new(n), *tf = samples_new(n);
	int rc = tc && tf ? 0 : BENCH_ERR;

	for (size_t i = 0; !rc && i < n; i++)
		rc = create_one(b, &tc[i], &tf[i]);
	if (!rc) {
		b->create.size = CREATE_SIZE;
		stats_of(tc, n, &b->create.create);
		stats_of(tf, n, &b->create.format);
	}
	free(tc);
	free(tf);
	return rc;
}

/* ---- (b) allocation ------------------------------------------------------ */

/* Time n get+put pairs of want blocks, each pair on its own. */
static int alloc_pairs(struct dl_alloc *a, uint64_t want, size_t n,
		       struct stats *out)
{
	uint64_t *t = samples_new(n);
	struct dl_run run;
	size_t nruns;
	int rc = t ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < n; i++) {
		uint64_t t0 = now_ns();

		rc = dl_alloc_get(a, want, 0, &run, 1, &nruns);
		if (!rc)
			rc = dl_alloc_put(a, run.start, run.len);
		t[i] = now_ns() - t0;
	}
	if (!rc)
		stats_of(t, n, out);
	free(t);
	return rc;
}

static int bench_alloc(struct bench *b)
{
	uint64_t nblocks = 64 * DL_GiB / DL_BLOCK_SIZE;
	struct dl_alloc *a = NULL;
	int rc;

	b->alloc.nblocks = nblocks;
	/* a fresh allocator for each size, so neither inherits the other's
	 * cursor or fragmentation */
	rc = dl_alloc_new(nblocks, 0, &a);
	if (!rc)
		rc = alloc_pairs(a, DL_PMD_BLOCKS, b->it.alloc,
				 &b->alloc.extent_2m);
	dl_alloc_delete(&a);
	if (!rc)
		rc = dl_alloc_new(nblocks, 0, &a);
	if (!rc)
		rc = alloc_pairs(a, 1, b->it.alloc, &b->alloc.block_4k);
	dl_alloc_delete(&a);
	return rc ? fail("allocator", NULL, rc) : 0;
}

/* ---- (c) journal commit -------------------------------------------------- */

struct jfs {
	struct dl_ns *ns;
	struct dl_fs *fs;
	dl_ino_t meta, over, append, page;
	uint8_t *page_addr;	/* the page the baseline persists */
};

static int jfs_create(struct jfs *j, const char *name, dl_ino_t *ino,
		      struct dl_err *err)
{
	return dl_fs_create(j->fs, name, 0644, 0, 0, ino, err);
}

/* 4 KiB of data at off: 0 or -errno. */
static int jfs_write(struct jfs *j, dl_ino_t ino, uint64_t off,
		     const void *buf, struct dl_err *err)
{
	return dl_fs_write(j->fs, ino, off, buf, 4096, err) < 0 ?
	       -err->errnum : 0;
}

/* A 64 MiB namespace and four files: setattr target, overwrite target,
 * append target, and one whose data block the baseline persists. */
static int jfs_setup(struct bench *b, struct jfs *j)
{
	const char *path = img_path(b, "journal.img");
	struct dl_ns_params p = { .size = 64 * DL_MiB, .align = 2 * DL_MiB };
	static uint8_t blk[4096];
	struct dl_err err = { 0 };
	struct dl_extent ext;
	struct dl_ns_info info;
	size_t n;
	int rc;

	rc = dl_nvdimm_create(path, &p, &err);
	if (!rc)
		rc = dl_nvdimm_open(path, DL_MAP_READ_WRITE, &j->ns, &err);
	if (!rc)
		rc = dl_fs_format(j->ns, NULL, &err);
	if (!rc)
		rc = dl_fs_open(j->ns, &j->fs, &err);
	if (!rc)
		rc = jfs_create(j, "meta", &j->meta, &err);
	if (!rc)
		rc = jfs_create(j, "overwrite", &j->over, &err);
	if (!rc)
		rc = jfs_create(j, "append", &j->append, &err);
	if (!rc)
		rc = jfs_create(j, "page", &j->page, &err);
	if (!rc)
		rc = jfs_write(j, j->over, 0, blk, &err);
	if (!rc)
		rc = jfs_write(j, j->page, 0, blk, &err);
	if (!rc)
		rc = dl_fs_extents(j->fs, j->page, 0, sizeof(blk), &ext, 1, &n);
	if (rc)
		return fail("journal benchmark setup", &err, rc);
	j->page_addr = (uint8_t *)dl_ns_base(j->ns) + ext.ns_offset;
	dl_ns_get_info(j->ns, &info);
	b->journal.granularity = dl_granularity_name(info.granularity);
	b->journal.ns_size = p.size;
	return 0;
}

static void jfs_teardown(struct bench *b, struct jfs *j)
{
	dl_fs_close(&j->fs);
	dl_ns_close(&j->ns);
	unlink(img_path(b, "journal.img"));
}

enum jop { J_SETATTR, J_PERSIST, J_OVERWRITE, J_APPEND };

/* One timed operation of kind op, iteration i. */
static int jop_run(struct jfs *j, enum jop op, size_t i, struct dl_err *err)
{
	static uint8_t blk[4096];

	switch (op) {
	case J_SETATTR:		/* metadata only: one transaction */
		return dl_fs_setattr(j->fs, j->meta, i & 1 ? 0600 : 0644, 0, 0,
				     err);
	case J_PERSIST:		/* dirty one page, make it durable */
		j->page_addr[i % 4096] = (uint8_t)(i + 1);
		dl_ns_persist(j->ns, j->page_addr, 4096);
		return 0;
	case J_OVERWRITE:	/* data + mtime, no allocation */
		blk[0] = (uint8_t)i;
		return jfs_write(j, j->over, 0, blk, err);
	case J_APPEND:		/* data + a new block + size */
		return jfs_write(j, j->append, (uint64_t)i * sizeof(blk), blk,
				 err);
	}
	return -EINVAL;
}

static int jop_bench(struct jfs *j, enum jop op, size_t n, struct stats *out,
		     struct persist_cost *cost)
{
	struct dl_persist_stats before, after;
	uint64_t *t = samples_new(n);
	struct dl_err err = { 0 };
	int rc = t ? 0 : -ENOMEM;

	dl_ns_persist_stats(j->ns, &before);
	for (size_t i = 0; !rc && i < n; i++) {
		uint64_t t0 = now_ns();

		rc = jop_run(j, op, i, &err);
		t[i] = now_ns() - t0;
	}
	dl_ns_persist_stats(j->ns, &after);
	if (!rc) {
		stats_of(t, n, out);
		cost_of(&before, &after, n, cost);
	}
	free(t);
	return rc ? fail("journal benchmark", &err, rc) : 0;
}

static int bench_journal(struct bench *b)
{
	struct res_journal *r = &b->journal;
	struct jfs j = { 0 };
	size_t n = b->it.tx;
	int rc;

	rc = jfs_setup(b, &j);
	if (!rc)
		rc = jop_bench(&j, J_SETATTR, n, &r->commit, &r->commit_cost);
	if (!rc)
		rc = jop_bench(&j, J_PERSIST, n, &r->persist_4k,
			       &r->persist_cost);
	if (!rc)
		rc = jop_bench(&j, J_OVERWRITE, n, &r->write_overwrite,
			       &r->overwrite_cost);
	if (!rc)
		rc = jop_bench(&j, J_APPEND, n, &r->write_append,
			       &r->append_cost);
	jfs_teardown(b, &j);
	return rc;
}

/* ---- (d) check-namespace ------------------------------------------------- */

/* A 4 GiB namespace with n files of a few bytes; times each create+write. */
static int check_populate(struct bench *b, const char *path, uint64_t *t)
{
	struct dl_ns_params p = { .size = 4 * DL_GiB, .align = 2 * DL_MiB };
	struct dl_err err = { 0 };
	struct dl_ns *ns = NULL;
	struct dl_fs *fs = NULL;
	char name[32], text[64];
	int rc;

	rc = dl_nvdimm_create(path, &p, &err);
	if (!rc)
		rc = dl_nvdimm_open(path, DL_MAP_READ_WRITE, &ns, &err);
	if (!rc)
		rc = dl_fs_format(ns, NULL, &err);
	if (!rc)
		rc = dl_fs_open(ns, &fs, &err);
	for (size_t i = 0; !rc && i < b->it.files; i++) {
		uint64_t t0 = now_ns();
		int len = snprintf(text, sizeof(text), "file %zu\n", i);
		dl_ino_t ino;

		snprintf(name, sizeof(name), "f%06zu", i);
		rc = dl_fs_create(fs, name, 0644, 0, 0, &ino, &err);
		if (!rc && dl_fs_write(fs, ino, 0, text, (size_t)len, &err) < 0)
			rc = -err.errnum;
		t[i] = now_ns() - t0;
	}
	dl_fs_close(&fs);
	dl_ns_close(&ns);
	b->check.ns_size = p.size;
	return rc ? fail("check benchmark setup", &err, rc) : 0;
}

static int check_once(struct bench *b, const char *path, uint64_t *t)
{
	struct dl_check_report *rep = malloc(sizeof(*rep));
	struct dl_err err = { 0 };
	struct dl_ns *ns;
	uint64_t t0;
	int rc;

	if (!rep)
		return fail("check", NULL, -ENOMEM);
	rc = dl_nvdimm_open(path, DL_MAP_READ_ONLY, &ns, &err);
	if (!rc) {
		t0 = now_ns();
		rc = dl_fs_check(ns, rep, &err);
		*t = now_ns() - t0;
		dl_ns_close(&ns);
	}
	if (!rc) {
		b->check.problems = rep->nproblems;
		if (rep->nproblems || rep->files != b->it.files)
			fprintf(stderr, "daxlease-bench: check found %zu "
				"problem(s) and %llu of %zu files\n",
				rep->nproblems,
				(unsigned long long)rep->files, b->it.files);
	}
	free(rep);
	return rc ? fail("check", &err, rc) : 0;
}

static int bench_check(struct bench *b)
{
	const char *path = img_path(b, "check.img");
	uint64_t *setup = samples_new(b->it.files);
	uint64_t *t = samples_new(b->it.check);
	int rc = setup && t ? 0 : BENCH_ERR;

	if (!rc)
		rc = check_populate(b, path, setup);
	for (size_t i = 0; !rc && i < b->it.check; i++)
		rc = check_once(b, path, &t[i]);
	if (!rc) {
		b->check.files = b->it.files;
		stats_of(setup, b->it.files, &b->check.setup_file);
		stats_of(t, b->it.check, &b->check.check);
	}
	unlink(path);
	free(setup);
	free(t);
	return rc;
}

/* ---- output: human ------------------------------------------------------- */

static const char *fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns < 1000)
		snprintf(buf, len, "%llu ns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1f us", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.2f ms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", (double)ns / 1e9);
	return buf;
}

static void print_stats(const char *what, const struct stats *s)
{
	char m[32], lo[32], hi[32];

	printf("  %-30s %10s  (min %s, max %s, %zu runs)\n", what,
	       fmt_ns(m, sizeof(m), s->median), fmt_ns(lo, sizeof(lo), s->min),
	       fmt_ns(hi, sizeof(hi), s->max), s->runs);
}

static void print_cost(const struct persist_cost *c, const char *per)
{
	printf("  %-30s %10.2f drains, %.2f flushes per %s\n", "", c->drains,
	       c->flushes, per);
}

static double ratio(const struct stats *a, const struct stats *b)
{
	return b->median ? (double)a->median / (double)b->median : 0;
}

static double files_per_second(const struct res_check *r)
{
	return r->check.median ? (double)r->files * 1e9 /
				 (double)r->check.median : 0;
}

static void print_human(const struct bench *b)
{
	const struct res_journal *j = &b->journal;
	char s1[32], s2[32];

	printf("daxlease-bench%s: images in %s, store granularity %s\n\n",
	       b->quick ? " --quick" : "", b->dir, j->granularity);
	printf("create-namespace, %s sparse image (align 2M)\n",
	       dl_fmt_size(s1, sizeof(s1), b->create.size));
	print_stats("dl_nvdimm_create", &b->create.create);
	print_stats("dl_fs_format", &b->create.format);
	printf("  %-30s %10s after create, %s after format\n", "disk used",
	       dl_fmt_size(s1, sizeof(s1), b->create.disk_after_create),
	       dl_fmt_size(s2, sizeof(s2), b->create.disk_after_format));
	printf("\nallocation, fresh %s allocator (DRAM only)\n",
	       dl_fmt_size(s1, sizeof(s1), b->alloc.nblocks * DL_BLOCK_SIZE));
	print_stats("2 MiB extent get+put", &b->alloc.extent_2m);
	print_stats("4 KiB block get+put", &b->alloc.block_4k);
	printf("  %-30s %10.2fx\n", "ratio 2 MiB / 4 KiB",
	       ratio(&b->alloc.extent_2m, &b->alloc.block_4k));
	printf("\njournal, %s namespace\n",
	       dl_fmt_size(s1, sizeof(s1), j->ns_size));
	print_stats("commit (dl_fs_setattr)", &j->commit);
	print_cost(&j->commit_cost, "transaction");
	print_stats("baseline: persist 4 KiB page", &j->persist_4k);
	print_cost(&j->persist_cost, "persist");
	printf("  %-30s %10.2fx\n", "ratio commit / baseline",
	       ratio(&j->commit, &j->persist_4k));
	print_stats("4 KiB dl_fs_write, overwrite", &j->write_overwrite);
	print_cost(&j->overwrite_cost, "write");
	print_stats("4 KiB dl_fs_write, append", &j->write_append);
	print_cost(&j->append_cost, "write");
	printf("\ncheck-namespace, %llu files on a %s namespace (align 2M)\n",
	       (unsigned long long)b->check.files,
	       dl_fmt_size(s1, sizeof(s1), b->check.ns_size));
	print_stats("setup: create + write a file", &b->check.setup_file);
	print_stats("dl_fs_check", &b->check.check);
	printf("  %-30s %10.0f files/s, %llu problems\n", "",
	       files_per_second(&b->check),
	       (unsigned long long)b->check.problems);
}

/* ---- output: JSON -------------------------------------------------------- */

static int jadd(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int jadd_u64(struct json_object *o, const char *key, uint64_t v)
{
	return jadd(o, key, json_object_new_int64((int64_t)v));
}

static int jadd_double(struct json_object *o, const char *key, double v)
{
	return jadd(o, key, json_object_new_double(v));
}

static struct json_object *jstats(const struct stats *s)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (jadd_u64(o, "median_ns", s->median) ||
	    jadd_u64(o, "min_ns", s->min) || jadd_u64(o, "max_ns", s->max) ||
	    jadd_u64(o, "runs", s->runs))
		goto err;
	return o;
err:
	json_object_put(o);
	return NULL;
}

/* Stats plus what each operation cost in persist barriers and flushes. */
static struct json_object *jstats_cost(const struct stats *s,
				       const struct persist_cost *c)
{
	struct json_object *o = jstats(s);

	if (!o)
		return NULL;
	if (jadd_double(o, "drains_per_op", c->drains) ||
	    jadd_double(o, "flushes_per_op", c->flushes)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *jcreate(const struct res_create *r)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (jadd_u64(o, "size_bytes", r->size) ||
	    jadd(o, "create", jstats(&r->create)) ||
	    jadd(o, "format", jstats(&r->format)) ||
	    jadd_u64(o, "disk_bytes_after_create", r->disk_after_create) ||
	    jadd_u64(o, "disk_bytes_after_format", r->disk_after_format))
		goto err;
	return o;
err:
	json_object_put(o);
	return NULL;
}

static struct json_object *jalloc(const struct res_alloc *r)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (jadd_u64(o, "allocator_bytes", r->nblocks * DL_BLOCK_SIZE) ||
	    jadd(o, "extent_2m", jstats(&r->extent_2m)) ||
	    jadd(o, "block_4k", jstats(&r->block_4k)) ||
	    jadd_double(o, "ratio_2m_to_4k",
			ratio(&r->extent_2m, &r->block_4k)))
		goto err;
	return o;
err:
	json_object_put(o);
	return NULL;
}

static struct json_object *jjournal(const struct res_journal *r)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (jadd_u64(o, "namespace_bytes", r->ns_size) ||
	    jadd(o, "granularity", json_object_new_string(r->granularity)) ||
	    jadd(o, "commit", jstats_cost(&r->commit, &r->commit_cost)) ||
	    jadd(o, "baseline_persist_4k",
		 jstats_cost(&r->persist_4k, &r->persist_cost)) ||
	    jadd_double(o, "ratio_commit_to_baseline",
			ratio(&r->commit, &r->persist_4k)) ||
	    jadd(o, "write_4k_overwrite",
		 jstats_cost(&r->write_overwrite, &r->overwrite_cost)) ||
	    jadd(o, "write_4k_append",
		 jstats_cost(&r->write_append, &r->append_cost)))
		goto err;
	return o;
err:
	json_object_put(o);
	return NULL;
}

static struct json_object *jcheck(const struct res_check *r)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (jadd_u64(o, "namespace_bytes", r->ns_size) ||
	    jadd_u64(o, "files", r->files) ||
	    jadd(o, "setup_create_write", jstats(&r->setup_file)) ||
	    jadd(o, "check", jstats(&r->check)) ||
	    jadd_double(o, "files_per_second", files_per_second(r)) ||
	    jadd_u64(o, "problems", r->problems))
		goto err;
	return o;
err:
	json_object_put(o);
	return NULL;
}

static int print_json(const struct bench *b)
{
	struct json_object *o = json_object_new_object();
	int rc = o ? 0 : -ENOMEM;

	if (!rc)
		rc = jadd(o, "quick", json_object_new_boolean(b->quick));
	if (!rc)
		rc = jadd(o, "tmpdir", json_object_new_string(b->dir));
	if (!rc)
		rc = jadd(o, "create_namespace", jcreate(&b->create));
	if (!rc)
		rc = jadd(o, "alloc", jalloc(&b->alloc));
	if (!rc)
		rc = jadd(o, "journal", jjournal(&b->journal));
	if (!rc)
		rc = jadd(o, "check_namespace", jcheck(&b->check));
	if (!rc)
		printf("%s\n", json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return rc ? fail("json", NULL, rc) : 0;
}

/* ---- main ---------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "usage: daxlease-bench [--quick] [--json]\n"
		"  --quick  fewer runs and 1,000 files instead of 10,000\n"
		"  --json   print one JSON object (times in nanoseconds)\n"
		"Images go to a new directory under $TMPDIR (default /tmp).\n");
}

static int parse_args(int argc, char **argv, struct bench *b)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "qjh", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			b->quick = true;
			break;
		case 'j':
			b->json = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

static void set_iters(struct bench *b)
{
	static const struct iters full = {
		.create = 10, .alloc = 100000, .tx = 2000, .files = 10000,
		.check = 5,
	};
	static const struct iters quick = {
		.create = 3, .alloc = 10000, .tx = 200, .files = 1000,
		.check = 3,
	};

	b->it = b->quick ? quick : full;
}

static int make_dir(struct bench *b)
{
	const char *base = getenv("TMPDIR");

	snprintf(b->dir, sizeof(b->dir), "%s/daxlease-bench.XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(b->dir)) {
		fprintf(stderr, "daxlease-bench: cannot make a directory "
			"under %s: %s\n", base && *base ? base : "/tmp",
			strerror(errno));
		return BENCH_ERR;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct bench b;
	int rc;

	rc = parse_args(argc, argv, &b);
	if (rc)
		return rc;
	set_iters(&b);
	rc = make_dir(&b);
	if (rc)
		return rc;
	rc = bench_create(&b);
	if (!rc)
		rc = bench_alloc(&b);
	if (!rc)
		rc = bench_journal(&b);
	if (!rc)
		rc = bench_check(&b);
	if (!rc && b.json)
		rc = print_json(&b);
	else if (!rc)
		print_human(&b);
	if (rmdir(b.dir))
		fprintf(stderr, "daxlease-bench: cannot remove %s: %s\n", b.dir,
			strerror(errno));
	return rc;
}

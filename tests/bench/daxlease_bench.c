/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * daxlease_bench.c - daxlease-bench [--quick] [--json] [--only LIST]
 *                                   [--daemon PATH]
 *
 * Times the operations whose cost the design argues about, each as the
 * median of many runs (with p10, p90, min, max and the run count), all
 * measured in this one process run so that a ratio compares numbers
 * taken side by side on the same machine, file system and load.  It
 * prints numbers and never judges them: no timing is asserted.
 *
 * How to run it (from a build directory, e.g. build/):
 *
 *   ./tests/bench/daxlease-bench                 everything, human table
 *   ./tests/bench/daxlease-bench --json          one JSON object
 *   ./tests/bench/daxlease-bench --only service,pin --json
 *   ./tests/bench/daxlease-bench --quick         fewer runs, small sizes
 *                                                (ctest's bench_smoke)
 *
 * The service and pin sections start their own daxleased (--daemon,
 * else $DAXLEASE_DAEMON, else daxleased beside this program or in its
 * build tree) on fresh fake NVDIMMs in a temporary directory, and talk
 * to it through libdaxlease.  A full run takes a few minutes and writes
 * about 8 GiB into the temporary images (each deleted when its daemon
 * stops): mapping a fallocated file zeroes its blocks.  TMPDIR=/dev/shm
 * keeps them in memory instead (the fs section then measures tmpfs).
 * Run it on an idle machine; on a shared one read the medians and
 * ratios, not single runs, and the load printed beside them.
 *
 * Section fs (this file):
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
 * Section service (bench_service.c; ratios to a bare SOCK_SEQPACKET echo
 * round trip between two processes): lease acquire + release; a lease
 * break with a cooperative holder, against the kernel's F_SETLEASE break
 * on a tmpfs file; truncate of a fully allocated 1 GiB file; MAP+UNMAP
 * and PIN+UNPIN that write a pin record, against the same recorded
 * already (bench_records.c); busy-page
 * scans of mapped ranges of 2 to 524,288 entries (bench_busy.c says why
 * the 1 TiB cases are skipped on a fake NVDIMM).
 *
 * Section pin (bench_pin.c; ratios to an atomic increment + full fence +
 * decrement): lockless pin + unpin (daxlease_map_pin) of a PMD, a PUD
 * and 512 PTE entries, the socket path (daxlease_pin) and an io_uring
 * fixed-buffer registration of the same sizes, two threads against one,
 * and a summary table against the targets.
 *
 * Section copy (bench_copy.c): `daxlease put` and `get` of 256 MiB and
 * 1 GiB on /var/tmp and on /dev/shm, against dd conv=fsync, dd
 * oflag=dsync and a dd read on the same file system, in the same run.
 *
 * Images live in a fresh directory under $TMPDIR (default /tmp) and are
 * deleted.  The numbers describe that directory's file system: on an
 * ordinary file every flush is an msync, so a persist point costs what a
 * page writeback costs there.  --json prints one JSON object with stable
 * field names (times in nanoseconds); without it, a table for humans.
 * Exit: 0, 2 on a usage error, or 1 with a message on stderr if an
 * operation failed.
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
#include <unistd.h>

#include "alloc.h"
#include "bench.h"
#include "fs.h"
#include "namespace.h"

#ifdef BENCH_UNDER_TSAN
#define CREATE_SIZE (64 * DL_GiB)
#else
#define CREATE_SIZE DL_TiB
#endif

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

/* The filesystem section's results (and what it needs while it runs). */
struct bench {
	bool quick;
	const char *dir;		/* bench_opts.dir */
	struct iters it;
	struct res_create create;
	struct res_alloc alloc;
	struct res_journal journal;
	struct res_check check;
};

/* ---- helpers ----------------------------------------------------------- */

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
	return bench_fail(what, err ? err->msg : NULL, rc);
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

static void print_cost(const struct persist_cost *c, const char *per)
{
	printf("  %-30s %10.2f drains, %.2f flushes per %s\n", "", c->drains,
	       c->flushes, per);
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

static struct json_object *fs_json(const void *res)
{
	const struct bench *b = res;
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (jadd(o, "create_namespace", jcreate(&b->create)) ||
	    jadd(o, "alloc", jalloc(&b->alloc)) ||
	    jadd(o, "journal", jjournal(&b->journal)) ||
	    jadd(o, "check_namespace", jcheck(&b->check))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* ---- the filesystem section ------------------------------------------------ */

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

static int fs_run(const struct bench_opts *o, void **res)
{
	struct bench *b = calloc(1, sizeof(*b));
	int rc;

	if (!b)
		return fail("fs", NULL, -ENOMEM);
	b->quick = o->quick;
	b->dir = o->dir;
	set_iters(b);
	rc = bench_create(b);
	if (!rc)
		rc = bench_alloc(b);
	if (!rc)
		rc = bench_journal(b);
	if (!rc)
		rc = bench_check(b);
	*res = b;
	return rc;
}

static void fs_print(const void *res)
{
	print_human(res);
}

const struct bench_section bench_fs_section = {
	.name = "fs",
	.run = fs_run,
	.print = fs_print,
	.json = fs_json,
	.release = free,
};

/* ---- main ---------------------------------------------------------------- */

static const struct bench_section *const sections[] = {
	&bench_fs_section, &bench_service_section, &bench_pin_section,
	&bench_copy_section,
};
#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

struct run {
	struct bench_opts o;
	bool want[NSECTIONS];		/* --only */
	void *res[NSECTIONS];
	const char *daemon_opt;		/* --daemon */
	double load[2];			/* 1-minute load before, after */
};

/* The 1-minute load average, so a reader can tell a busy machine's
 * numbers (-1: unknown). */
static double load_1m(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: daxlease-bench [--quick] [--json] [--only LIST] "
		"[--daemon PATH]\n"
		"  --quick        fewer runs and smaller sizes\n"
		"  --json         print one JSON object (times in nanoseconds)\n"
		"  --only LIST    run only these sections (comma separated):\n"
		"                 fs, service, pin (default: all)\n"
		"  --daemon PATH  the daxleased binary for service and pin\n"
		"                 (default: $DAXLEASE_DAEMON, else daxleased next\n"
		"                 to this program or in its build tree)\n"
		"Images go to a new directory under $TMPDIR (default /tmp).\n");
}

static int parse_only(struct run *r, const char *list)
{
	char buf[256], *save = NULL;
	bool any = false;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *t = strtok_r(buf, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < NSECTIONS; i++)
			if (!strcmp(t, sections[i]->name))
				break;
		if (i == NSECTIONS) {
			fprintf(stderr, "daxlease-bench: --only: no section "
				"'%s' (fs, service, pin)\n", t);
			return 2;
		}
		r->want[i] = true;
		any = true;
	}
	if (!any) {
		fprintf(stderr, "daxlease-bench: --only: name one section or "
			"more (fs, service, pin)\n");
		return 2;
	}
	return 0;
}

static bool is_executable(const char *path)
{
	return path && *path && access(path, X_OK) == 0;
}

static int parse_args(int argc, char **argv, struct run *r)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "only", required_argument, NULL, 'o' },
		{ "daemon", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool only = false;
	int c;

	while ((c = getopt_long(argc, argv, "qjh", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			r->o.quick = true;
			break;
		case 'j':
			r->o.json = true;
			break;
		case 'o':
			only = true;
			if (parse_only(r, optarg))
				return 2;
			break;
		case 'd':
			r->daemon_opt = optarg;
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
	for (size_t i = 0; !only && i < NSECTIONS; i++)
		r->want[i] = true;
	if (r->daemon_opt && !is_executable(r->daemon_opt)) {
		fprintf(stderr, "daxlease-bench: --daemon %s: not an "
			"executable file\n", r->daemon_opt);
		return 2;
	}
	return 0;
}

/*
 * daxleased: --daemon, $DAXLEASE_DAEMON, next to this program, or where
 * the build put it (DAXLEASE_BENCH_DAEMON, set by CMake).  NULL: none,
 * and the sections that need it say so.
 */
static const char *find_daemon(const char *opt)
{
	static char beside[PATH_MAX];
	const char *env = getenv("DAXLEASE_DAEMON");
	ssize_t n;

	if (opt)
		return opt;
	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", beside, sizeof(beside) - 16);
	if (n > 0) {
		char *slash;

		beside[n] = '\0';
		slash = strrchr(beside, '/');
		if (slash) {
			strcpy(slash + 1, "daxleased");
			if (is_executable(beside))
				return beside;
		}
	}
#ifdef DAXLEASE_BENCH_DAEMON
	if (is_executable(DAXLEASE_BENCH_DAEMON))
		return DAXLEASE_BENCH_DAEMON;
#endif
	return NULL;
}

static int make_dir(struct bench_opts *o)
{
	const char *base = getenv("TMPDIR");

	snprintf(o->dir, sizeof(o->dir), "%s/daxlease-bench.XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(o->dir)) {
		fprintf(stderr, "daxlease-bench: cannot make a directory "
			"under %s: %s\n", base && *base ? base : "/tmp",
			strerror(errno));
		return BENCH_ERR;
	}
	return 0;
}

/* Add every member of section object s to top (s is consumed). */
static int merge_into(struct json_object *top, struct json_object *s)
{
	int rc = s ? 0 : -ENOMEM;

	if (!rc) {
		json_object_object_foreach(s, key, val) {
			if (rc || jadd(top, key, json_object_get(val)))
				rc = -ENOMEM;
		}
	}
	json_object_put(s);
	return rc;
}

static int print_json(const struct run *r)
{
	struct json_object *o = json_object_new_object();
	int rc = o ? 0 : -ENOMEM;

	if (!rc)
		rc = jadd(o, "quick", json_object_new_boolean(r->o.quick));
	if (!rc)
		rc = jadd_str(o, "tmpdir", r->o.dir);
	if (!rc)
		rc = jadd_double(o, "loadavg_1m_before", r->load[0]);
	if (!rc)
		rc = jadd_double(o, "loadavg_1m_after", r->load[1]);
	if (!rc)
		rc = jadd_str(o, "daemon", r->o.daemon ? r->o.daemon : "");
	for (size_t i = 0; !rc && i < NSECTIONS; i++)
		if (r->res[i])
			rc = merge_into(o, sections[i]->json(r->res[i]));
	if (!rc)
		printf("%s\n", json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return rc ? fail("json", NULL, rc) : 0;
}

int main(int argc, char **argv)
{
	static struct run r;
	int rc;

	rc = parse_args(argc, argv, &r);
	if (rc)
		return rc;
	r.o.daemon = find_daemon(r.daemon_opt);
	rc = make_dir(&r.o);
	if (rc)
		return rc;
	r.load[0] = load_1m();
	for (size_t i = 0; !rc && i < NSECTIONS; i++)
		if (r.want[i])
			rc = sections[i]->run(&r.o, &r.res[i]);
	r.load[1] = load_1m();
	if (!rc && r.o.json)
		rc = print_json(&r);
	if (!rc && !r.o.json)
		printf("daxlease-bench%s: 1-minute load %.2f before, %.2f "
		       "after; daxleased %s\n", r.o.quick ? " --quick" : "",
		       r.load[0], r.load[1],
		       r.o.daemon ? r.o.daemon : "not found");
	for (size_t i = 0; !rc && !r.o.json && i < NSECTIONS; i++)
		if (r.res[i])
			sections[i]->print(r.res[i]);
	for (size_t i = 0; i < NSECTIONS; i++)
		if (r.res[i])
			sections[i]->release(r.res[i]);
	if (rmdir(r.o.dir))
		fprintf(stderr, "daxlease-bench: cannot remove %s: %s\n",
			r.o.dir, strerror(errno));
	return rc;
}

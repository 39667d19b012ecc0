/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_crash.c - crash at every persist point of a scripted workload.
 *
 * A dry run counts the persist points (drains) of a child process that
 * opens a freshly formatted image, runs the workload and closes it.  Then,
 * for every point N and for two flavours of power failure - "nothing
 * pending reaches media" and "a random half of the pending cache lines
 * reach media" - a child runs the same workload in crash-simulation mode
 * (persist.h) and dies at point N.  The parent reopens the image, which
 * recovers the journal, and requires:
 *
 *   - check-namespace finds no problem;
 *   - the filesystem equals the model after the C operations the child
 *     reported complete, or after C+1 (the interrupted one committed);
 *     only bytes in the interrupted operation's data range may be a mix
 *     of before and after (data is written in place, not journaled).
 *
 * Environment: DAXLEASE_CRASH_OPS (default 200 operations),
 * DAXLEASE_CRASH_WSEED (workload seed, default 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit_run.h"
#include "fs.h"
#include "namespace.h"
#include "persist.h"
#include "persist_private.h"
#include "workload.h"

#define NS_SIZE (32 * DL_MiB)

struct segment {
	off_t off;
	size_t len;
	uint8_t *data;
};

static char image[4096];
static struct segment *segs;
static size_t nsegs;
static off_t image_size;
static struct wl_op *ops;
static size_t nops;
static bool group_commit;	/* DAXLEASE_CRASH_GROUP=1 */

/* ---- the pristine image, restored before every run ------------------- */

static void save_template(void)
{
	int fd = open(image, O_RDONLY);
	off_t pos = 0;

	image_size = lseek(fd, 0, SEEK_END);
	for (;;) {
		off_t data = lseek(fd, pos, SEEK_DATA), hole;

		if (data < 0)
			break;
		hole = lseek(fd, data, SEEK_HOLE);
		segs = realloc(segs, (nsegs + 1) * sizeof(*segs));
		segs[nsegs].off = data;
		segs[nsegs].len = (size_t)(hole - data);
		segs[nsegs].data = malloc(segs[nsegs].len);
		if (pread(fd, segs[nsegs].data, segs[nsegs].len, data) !=
		    (ssize_t)segs[nsegs].len)
			abort();
		nsegs++;
		pos = hole;
	}
	close(fd);
}

static void restore_template(void)
{
	int fd = open(image, O_RDWR | O_TRUNC);

	if (fd < 0 || ftruncate(fd, image_size))
		abort();
	for (size_t i = 0; i < nsegs; i++)
		if (pwrite(fd, segs[i].data, segs[i].len, segs[i].off) !=
		    (ssize_t)segs[i].len)
			abort();
	close(fd);
}

static int make_template(void)
{
	struct dl_ns_params p = { .size = NS_SIZE, .align = 4096,
				  .name = "crash" };
	struct dl_err err = { 0 };
	struct dl_ns *ns = NULL;
	int rc;

	snprintf(image, sizeof(image), "%s", dl_test_path("crash.img"));
	rc = dl_nvdimm_create(image, &p, &err);
	if (!rc)
		rc = dl_nvdimm_open(image, DL_MAP_READ_WRITE, &ns, &err);
	if (!rc)
		rc = dl_fs_format(ns, NULL, &err);
	dl_ns_close(&ns);
	if (rc)
		fprintf(stderr, "template: %s\n", err.msg);
	else
		save_template();
	return rc;
}

/* ---- the child: open, run, close; report progress on fd -------------- */

static void child(int fd, uint64_t crash_at, int evict)
{
	struct dl_err err = { 0 };
	struct dl_ns *ns = NULL;
	struct dl_fs *fs = NULL;
	char buf[32];
	uint64_t points;

	if (crash_at) {
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)crash_at);
		setenv("DAXLEASE_CRASH_AT", buf, 1);
		setenv("DAXLEASE_CRASH_EVICT", evict ? "1" : "0", 1);
		setenv("DAXLEASE_CRASH_SEED", buf, 1);
	}
	dl_persist_fault_reload();
	if (dl_nvdimm_open(image, DL_MAP_READ_WRITE, &ns, &err) ||
	    dl_fs_open(ns, &fs, &err)) {
		fprintf(stderr, "child open: %s\n", err.msg);
		_exit(2);
	}
	dl_fs_set_group_commit(fs, group_commit);
	for (size_t k = 0; k < nops; k++) {
		uint32_t done = (uint32_t)k + 1;
		int rc = wl_fs_apply(fs, &ops[k], k);

		if (rc) {
			fprintf(stderr, "child op %zu: %s\n", k, strerror(-rc));
			_exit(3);
		}
		if (write(fd, &done, sizeof(done)) != sizeof(done))
			_exit(4);
	}
	dl_fs_close(&fs);
	dl_ns_close(&ns);
	points = dl_persist_points();
	if (write(fd, &points, sizeof(points)) != sizeof(points))
		_exit(4);
	_exit(0);
}

/* Run a child; returns its exit status, *done = operations completed,
 * *points = its persist points (complete runs only). */
static int run_child(uint64_t crash_at, int evict, uint32_t *done,
		     uint64_t *points)
{
	int p[2], status;
	pid_t pid;
	uint8_t buf[4096];
	size_t have = 0;
	ssize_t n;

	if (pipe(p))
		abort();
	restore_template();
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		child(p[1], crash_at, evict);
	}
	close(p[1]);
	*done = 0;
	while ((n = read(p[0], buf + have, sizeof(buf) - have)) > 0) {
		have += (size_t)n;
		/* keep only the last report */
		while (have >= 2 * sizeof(uint32_t) + sizeof(uint64_t) ||
		       have > sizeof(buf) - 64) {
			memmove(buf, buf + 4, have - 4);
			have -= 4;
		}
	}
	close(p[0]);
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		*done = (uint32_t)nops;
		memcpy(points, buf + have - sizeof(*points), sizeof(*points));
	} else if (have >= sizeof(uint32_t)) {
		memcpy(done, buf + have - sizeof(uint32_t), sizeof(*done));
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- the parent's checks -------------------------------------------------- */

static struct wl_model *model_after(size_t count)
{
	struct wl_model *m = malloc(sizeof(*m));

	wl_model_reset(m);
	for (size_t k = 0; k < count; k++)
		wl_model_apply(m, &ops[k], k);
	return m;
}

static int range_cmp(const void *a, const void *b)
{
	const struct dl_ns_range *x = a, *y = b;

	if (x->ns_offset != y->ns_offset)
		return x->ns_offset < y->ns_offset ? -1 : 1;
	return x->length < y->length ? -1 : x->length > y->length;
}

/* Do fs's pin records equal m's, owner by owner (in any order)? */
static bool pins_match(struct dl_fs *fs, const struct wl_model *m, char *why,
		       size_t wl)
{
	struct dl_pin_record recs[WL_OWNERS * WL_OWNER_RANGES + 1];
	size_t n = 0;

	dl_fs_pins_list(fs, recs, sizeof(recs) / sizeof(recs[0]), &n);
	if (n > sizeof(recs) / sizeof(recs[0])) {
		snprintf(why, wl, "%zu pin records, more than the model's", n);
		return false;
	}
	for (int o = 0; o < WL_OWNERS; o++) {
		struct dl_ns_range got[WL_OWNER_RANGES + 1], want[WL_OWNER_RANGES];
		struct dl_pin_owner key;
		size_t k = 0;

		wl_pin_owner(o, &key);
		for (size_t i = 0; i < n; i++)
			if (dl_pin_owner_eq(&recs[i].owner, &key) &&
			    k < WL_OWNER_RANGES + 1)
				got[k++] = recs[i].range;
		memcpy(want, m->pins[o], m->npins[o] * sizeof(want[0]));
		qsort(got, k, sizeof(got[0]), range_cmp);
		qsort(want, m->npins[o], sizeof(want[0]), range_cmp);
		if (k != m->npins[o] ||
		    memcmp(got, want, k * sizeof(got[0]))) {
			snprintf(why, wl, "process %d: %zu pin records, model "
				 "%zu (or other ranges)", o, k, m->npins[o]);
			return false;
		}
	}
	return true;
}

/*
 * What else a byte may hold than the model's value: the interrupted
 * operation's data range may hold the other state's bytes (data is
 * written in place, not journaled), and under group commit the writes
 * ops[first_write .. end_write) - complete but not committed yet - may
 * have reached the blocks the file had already.
 */
struct tolerance {
	const struct wl_model *other;
	int file;
	uint64_t off, len;
	size_t first_write, end_write;
};

static bool byte_ok(const struct tolerance *t, int file, uint64_t j,
		    uint8_t got)
{
	if (file == t->file && j >= t->off && j - t->off < t->len &&
	    t->other && t->other->f[file].exists &&
	    j < t->other->f[file].size && got == t->other->f[file].data[j])
		return true;
	for (size_t k = t->first_write; k < t->end_write; k++) {
		const struct wl_op *op = &ops[k];

		if (wl_is_write(op) && op->file == file && j >= op->off &&
		    j - op->off < op->len && got == wl_byte(k, j))
			return true;
	}
	return false;
}

/* Does fs equal model m, allowing what t tolerates? */
static bool matches(struct dl_fs *fs, const struct wl_model *m,
		    const struct tolerance *t, char *why, size_t wl)
{
	static uint8_t buf[WL_MAX_SIZE * 2];

	if (!pins_match(fs, m, why, wl))
		return false;
	for (int i = 0; i < WL_FILES; i++) {
		const struct wl_file *f = &m->f[i];
		struct dl_stat st;
		dl_ino_t ino;
		bool exists = !dl_fs_lookup(fs, wl_name(i), &ino);

		if (exists != f->exists) {
			snprintf(why, wl, "%s: exists %d, model %d",
				 wl_name(i), exists, f->exists);
			return false;
		}
		if (!exists)
			continue;
		dl_fs_stat(fs, ino, &st);
		if (st.size != f->size) {
			snprintf(why, wl, "%s: size %llu, model %llu",
				 wl_name(i), (unsigned long long)st.size,
				 (unsigned long long)f->size);
			return false;
		}
		if (dl_fs_read(fs, ino, 0, buf, f->size, NULL) !=
		    (ssize_t)f->size) {
			snprintf(why, wl, "%s: read failed", wl_name(i));
			return false;
		}
		for (uint64_t j = 0; j < f->size; j++) {
			if (buf[j] != f->data[j] && !byte_ok(t, i, j, buf[j])) {
				snprintf(why, wl, "%s: byte %llu is %u, "
					 "model %u", wl_name(i),
					 (unsigned long long)j, buf[j],
					 f->data[j]);
				return false;
			}
		}
	}
	return true;
}

/*
 * The operations a crash after done completed ones cannot undo: every
 * one without group commit; with it, everything up to the last
 * completed operation that is not a write (an fsync, or a change that
 * commits the writes before it and itself).
 */
static size_t durable_floor(uint32_t done)
{
	if (!group_commit)
		return done;
	for (size_t k = done; k > 0; k--)
		if (!wl_is_write(&ops[k - 1]))
			return k;
	return 0;
}

/* Does fs hold the state after c operations, done of them complete? */
static bool matches_state(struct dl_fs *fs, size_t c, uint32_t done,
			  char *why, size_t wl)
{
	struct wl_model *m = model_after(c), *other = NULL;
	struct tolerance t = { .file = -1, .first_write = c,
			       .end_write = done };
	bool ok;

	/* the interrupted operation may be half done in its data range */
	if (done < nops && c >= done && wl_data_range(&ops[done], &t.off,
						       &t.len)) {
		other = model_after(c == done ? done + 1 : done);
		t.other = other;
		t.file = ops[done].file;
	}
	if (done < nops && t.end_write < done + 1)
		t.end_write = done + 1;
	ok = matches(fs, m, &t, why, wl);
	free(m);
	free(other);
	return ok;
}

static bool verify(uint32_t done, char *why, size_t wl)
{
	struct dl_check_report rep;
	struct dl_err err = { 0 };
	struct dl_ns *ns = NULL;
	struct dl_fs *fs = NULL;
	size_t floor = durable_floor(done), last = done < nops ? done + 1 : done;
	char why2[256] = "";
	bool ok = false;

	if (dl_nvdimm_open(image, DL_MAP_READ_WRITE, &ns, &err) ||
	    dl_fs_check(ns, &rep, &err)) {
		snprintf(why, wl, "reopen for check: %s", err.msg);
		goto out;
	}
	if (rep.nproblems) {
		snprintf(why, wl, "check-namespace: %s: %s",
			 rep.problems[0].kind, rep.problems[0].detail);
		goto out;
	}
	if (dl_fs_open(ns, &fs, &err)) {
		snprintf(why, wl, "open after check: %s", err.msg);
		goto out;
	}
	for (size_t c = floor; c <= last && !ok; c++)
		ok = matches_state(fs, c, done, c == floor ? why : why2,
				   c == floor ? wl : sizeof(why2));
	if (!ok && why2[0])
		snprintf(why + strlen(why), wl - strlen(why),
			 " (and vs. the last state it may hold: %s)", why2);
	/* name the worst case: durable state lost */
	for (size_t c = floor; !ok && c-- > 0;)
		if (matches_state(fs, c, done, why2, sizeof(why2))) {
			snprintf(why + strlen(why), wl - strlen(why),
				 "; it holds the state after %zu operations, "
				 "so operations up to %zu, durable when they "
				 "returned (fsync'ed), were lost", c, floor);
			break;
		}
out:
	dl_fs_close(&fs);
	dl_ns_close(&ns);
	return ok;
}

int main(void)
{
	const char *s_ops = getenv("DAXLEASE_CRASH_OPS");
	const char *s_seed = getenv("DAXLEASE_CRASH_WSEED");
	const char *s_group = getenv("DAXLEASE_CRASH_GROUP");
	uint64_t points = 0, covered = 0, failures = 0, crashed = 0;
	uint32_t done;
	char why[512], desc[128];
	int rc;

	nops = s_ops ? strtoul(s_ops, NULL, 0) : 200;
	ops = calloc(nops, sizeof(*ops));
	group_commit = s_group && !strcmp(s_group, "1");
	wl_generate(ops, nops, s_seed ? (unsigned)atoi(s_seed) : 1,
		    group_commit);
#ifndef DAXLEASE_FAULT_INJECTION
	fprintf(stderr, "SKIP: built without DAXLEASE_FAULT_INJECTION\n");
	return DL_TEST_SKIP;
#endif
	if (make_template())
		return 1;
	rc = run_child(0, 0, &done, &points);
	if (rc != 0 || done != nops) {
		fprintf(stderr, "dry run failed: exit %d after %u operations\n",
			rc, done);
		return 1;
	}
	if (!verify(done, why, sizeof(why))) {
		fprintf(stderr, "dry run result is wrong: %s\n", why);
		return 1;
	}
	printf("workload: %zu operations, %s, %llu persist points per run\n",
	       nops, group_commit ? "group commit" : "every call durable",
	       (unsigned long long)points);
	for (uint64_t n = 1; n <= points; n++) {
		for (int evict = 0; evict <= 1; evict++) {
			rc = run_child(n, evict, &done, &points);
			covered++;
			crashed += rc == DL_CRASH_EXIT_CODE;
			if (rc != DL_CRASH_EXIT_CODE) {
				fprintf(stderr, "point %llu: child exited %d "
					"instead of crashing\n",
					(unsigned long long)n, rc);
				failures++;
				continue;
			}
			if (verify(done, why, sizeof(why)))
				continue;
			failures++;
			fprintf(stderr, "INCONSISTENT at persist point %llu "
				"(%s), %u operations done, interrupted: %s: "
				"%s\n", (unsigned long long)n,
				evict ? "random eviction" : "no eviction", done,
				done < nops ? wl_describe(&ops[done], desc,
							  sizeof(desc))
					    : "close", why);
		}
	}
	printf("crash points covered: %llu (%llu persist points x 2 failure "
	       "modes), crashed: %llu, inconsistencies: %llu\n",
	       (unsigned long long)covered, (unsigned long long)points,
	       (unsigned long long)crashed, (unsigned long long)failures);
	printf("%llu passed, %llu failed\n",
	       (unsigned long long)(covered - failures),
	       (unsigned long long)failures);
	return failures ? 1 : 0;
}

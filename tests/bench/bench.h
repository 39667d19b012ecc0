/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench.h - what the parts of daxlease-bench share: timing, statistics
 * over many runs, the human and JSON printers, and the section interface
 * through which main() runs each group of benchmarks.
 *
 * The machine the numbers come from is noisy (a shared 2-core box), so
 * every time is the median of many runs, with p10/p90 and min/max beside
 * it, and every section prints each number next to its ratio to a
 * baseline measured in the same process run.  Nothing here asserts a
 * time: daxlease-bench prints numbers and exits 0 unless an operation
 * failed.
 */
#ifndef DAXLEASE_BENCH_H
#define DAXLEASE_BENCH_H

#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_ERR 1

/*
 * ThreadSanitizer's shadow memory leaves too little address space to map
 * 1 TiB reliably: under it the big images are smaller, and the output
 * says which size was measured.
 */
#if defined(__SANITIZE_THREAD__)
#define BENCH_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BENCH_UNDER_TSAN 1
#endif
#endif

struct stats {
	uint64_t median, p10, p90, min, max;	/* nanoseconds */
	size_t runs;
};

/* What every section gets from the command line. */
struct bench_opts {
	bool quick, json;
	const char *daemon;		/* daxleased, or NULL: none found */
	char dir[PATH_MAX - 64];	/* our directory under $TMPDIR */
};

/*
 * A group of benchmarks: run() fills a result it allocates (or returns
 * BENCH_ERR with a message printed), print() writes the human table,
 * json() the section's JSON object; release() frees the result.
 */
struct bench_section {
	const char *name;	/* --only NAME, and its key in the JSON */
	int (*run)(const struct bench_opts *o, void **res);
	void (*print)(const void *res);
	struct json_object *(*json)(const void *res);
	void (*release)(void *res);
};

extern const struct bench_section bench_fs_section;
extern const struct bench_section bench_service_section;
extern const struct bench_section bench_pin_section;
extern const struct bench_section bench_copy_section;

/* ---- timing and statistics ------------------------------------------------ */

uint64_t now_ns(void);
/* Median (the lower one of an even count), p10, p90, min, max; sorts v. */
void stats_of(uint64_t *v, size_t n, struct stats *out);
/* n zeroed samples, or NULL with a message. */
uint64_t *samples_new(size_t n);
/* a's median over b's (0 when b has none). */
double ratio(const struct stats *a, const struct stats *b);
/* Time n calls of op(arg, i) one by one; the first error stops it. */
int time_runs(int (*op)(void *arg, size_t i), void *arg, size_t n,
	      struct stats *out);

/* ---- human output ---------------------------------------------------------- */

const char *fmt_ns(char *buf, size_t len, uint64_t ns);
void print_stats(const char *what, const struct stats *s);
/* The stats, then "= R x BASE" on the next line. */
void print_stats_ratio(const char *what, const struct stats *s,
		       const struct stats *base, const char *base_name);
/* A line saying why something was not measured. */
void print_skip(const char *what, const char *why);

/* ---- JSON output ----------------------------------------------------------- */

/* Add v under key (v NULL: -ENOMEM); v is consumed either way. */
int jadd(struct json_object *o, const char *key, struct json_object *v);
int jadd_u64(struct json_object *o, const char *key, uint64_t v);
int jadd_double(struct json_object *o, const char *key, double v);
int jadd_str(struct json_object *o, const char *key, const char *v);
/* {median_ns, p10_ns, p90_ns, min_ns, max_ns, runs} */
struct json_object *jstats(const struct stats *s);
/* jstats plus "ratio_to_<base_name>": the medians' ratio. */
struct json_object *jstats_ratio(const struct stats *s,
				 const struct stats *base,
				 const char *base_name);

/* {"skipped": why} */
struct json_object *jskipped(const char *why);
/* jstats_ratio, or jskipped(why) when why is not empty. */
struct json_object *jmaybe(const struct stats *s, const char *why,
			   const struct stats *base, const char *base_name);
/* {key: v}; v is consumed either way. */
struct json_object *jwrap(const char *key, struct json_object *v);
/* o[key] = [item(arg, 0), ..., item(arg, n - 1)]: 0 or -ENOMEM. */
int jadd_array(struct json_object *o, const char *key, size_t n,
	       struct json_object *(*item)(const void *arg, size_t i),
	       const void *arg);

/* ---- errors ---------------------------------------------------------------- */

/* Print "daxlease-bench: what: why" (why from msg, else from rc, a
 * negative or positive errno) and return BENCH_ERR. */
int bench_fail(const char *what, const char *msg, int rc);

#endif

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_util.c - timing, statistics and printers shared by the sections
 * of daxlease-bench (bench.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

/* ---- timing and statistics ------------------------------------------------ */

uint64_t now_ns(void)
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

void stats_of(uint64_t *v, size_t n, struct stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!n)
		return;
	qsort(v, n, sizeof(*v), u64_cmp);
	out->median = v[(n - 1) / 2];
	out->p10 = v[(n - 1) / 10];
	out->p90 = v[(n - 1) - (n - 1) / 10];
	out->min = v[0];
	out->max = v[n - 1];
	out->runs = n;
}

uint64_t *samples_new(size_t n)
{
	uint64_t *v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		fprintf(stderr, "daxlease-bench: out of memory\n");
	return v;
}

double ratio(const struct stats *a, const struct stats *b)
{
	return b->median ? (double)a->median / (double)b->median : 0;
}

int time_runs(int (*op)(void *arg, size_t i), void *arg, size_t n,
	      struct stats *out)
{
	uint64_t *t = samples_new(n);
	int rc = t ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < n; i++) {
		uint64_t t0 = now_ns();

		rc = op(arg, i);
		t[i] = now_ns() - t0;
	}
	if (!rc)
		stats_of(t, n, out);
	free(t);
	return rc;
}

/* ---- human output ---------------------------------------------------------- */

const char *fmt_ns(char *buf, size_t len, uint64_t ns)
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

void print_stats(const char *what, const struct stats *s)
{
	char m[32], p10[32], p90[32], lo[32], hi[32];

	printf("  %-34s %10s  (p10 %s, p90 %s, min %s, max %s, %zu runs)\n",
	       what, fmt_ns(m, sizeof(m), s->median),
	       fmt_ns(p10, sizeof(p10), s->p10),
	       fmt_ns(p90, sizeof(p90), s->p90),
	       fmt_ns(lo, sizeof(lo), s->min), fmt_ns(hi, sizeof(hi), s->max),
	       s->runs);
}

void print_stats_ratio(const char *what, const struct stats *s,
		       const struct stats *base, const char *base_name)
{
	print_stats(what, s);
	printf("  %-34s %10.2fx %s\n", "", ratio(s, base), base_name);
}

void print_skip(const char *what, const char *why)
{
	printf("  %-34s not measured: %s\n", what, why);
}

/* ---- JSON output ----------------------------------------------------------- */

int jadd(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

int jadd_u64(struct json_object *o, const char *key, uint64_t v)
{
	return jadd(o, key, json_object_new_int64((int64_t)v));
}

int jadd_double(struct json_object *o, const char *key, double v)
{
	return jadd(o, key, json_object_new_double(v));
}

int jadd_str(struct json_object *o, const char *key, const char *v)
{
	return jadd(o, key, json_object_new_string(v));
}

struct json_object *jstats(const struct stats *s)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (jadd_u64(o, "median_ns", s->median) ||
	    jadd_u64(o, "p10_ns", s->p10) || jadd_u64(o, "p90_ns", s->p90) ||
	    jadd_u64(o, "min_ns", s->min) || jadd_u64(o, "max_ns", s->max) ||
	    jadd_u64(o, "runs", s->runs))
		goto err;
	return o;
err:
	json_object_put(o);
	return NULL;
}

struct json_object *jstats_ratio(const struct stats *s,
				 const struct stats *base,
				 const char *base_name)
{
	struct json_object *o = jstats(s);
	char key[64];

	if (!o)
		return NULL;
	snprintf(key, sizeof(key), "ratio_to_%s", base_name);
	if (jadd_double(o, key, ratio(s, base))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *jskipped(const char *why)
{
	struct json_object *o = json_object_new_object();

	if (o && jadd_str(o, "skipped", why)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *jmaybe(const struct stats *s, const char *why,
			   const struct stats *base, const char *base_name)
{
	return why[0] ? jskipped(why) : jstats_ratio(s, base, base_name);
}

struct json_object *jwrap(const char *key, struct json_object *v)
{
	struct json_object *o = v ? json_object_new_object() : NULL;

	if (!o) {
		json_object_put(v);
		return NULL;
	}
	if (jadd(o, key, v)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int jadd_array(struct json_object *o, const char *key, size_t n,
	       struct json_object *(*item)(const void *arg, size_t i),
	       const void *arg)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < n; i++) {
		struct json_object *e = item(arg, i);

		if (!e || json_object_array_add(a, e)) {
			json_object_put(e);
			json_object_put(a);
			a = NULL;
		}
	}
	return jadd(o, key, a);
}

/* ---- errors ---------------------------------------------------------------- */

int bench_fail(const char *what, const char *msg, int rc)
{
	fprintf(stderr, "daxlease-bench: %s: %s\n", what,
		msg && msg[0] ? msg : strerror(rc < 0 ? -rc : rc));
	return BENCH_ERR;
}

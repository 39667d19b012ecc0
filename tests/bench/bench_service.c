/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_service.c - the service section of daxlease-bench: runs its parts
 * (bench_service.h) and prints them, every time with its ratio to the
 * echo round trip measured first in the same run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_service.h"
#include "daxlease/proto.h"
#include "error.h"

static void set_iters(const struct bench_opts *o, struct svc_iters *it)
{
	static const struct svc_iters full = {
		.echo = 20000, .lease = 5000, .brk = 300, .trunc = 30,
		.scan = 200, .records = 300,
	};
	static const struct svc_iters quick = {
		.echo = 2000, .lease = 300, .brk = 30, .trunc = 5, .scan = 20,
		.records = 20,
	};

	*it = o->quick ? quick : full;
}

static int svc_run(const struct bench_opts *o, void **res)
{
	struct svc_res *r = calloc(1, sizeof(*r));
	struct echo_peer e;
	int rc;

	if (!r)
		return bench_fail("service", NULL, -ENOMEM);
	*res = r;
	set_iters(o, &r->it);
	if (!o->daemon) {
		snprintf(r->skipped, sizeof(r->skipped), "no daxleased found "
			 "(--daemon PATH or DAXLEASE_DAEMON)");
		return 0;
	}
	/* a small request: a header and a LEASE_ACQUIRE payload */
	r->msg_bytes = sizeof(struct dl_msg_hdr) + sizeof(struct dl_lease_req);
	rc = echo_open(&e, r->msg_bytes);
	if (rc)
		return rc;
	rc = echo_runs(&e, r->it.echo, &r->echo);
	if (!rc)
		rc = svc_leases(o, &e, r);
	if (!rc)
		rc = svc_kernel_break(o, &e, r->it.brk, &r->kbrk);
	if (!rc)
		rc = svc_records(o, &e, r);
	if (!rc)
		rc = svc_busy_scans(o, &e, r);
	if (!rc)
		rc = echo_runs(&e, r->it.echo, &r->echo_after);
	echo_close(&e);
	return rc;
}

/* What a daxlease break adds to its truncate over what a kernel break
 * adds to its open (each: median with the lease - median without). */
static double break_added_ratio(const struct svc_res *r)
{
	double d = (double)r->brk.t.t.median - (double)r->brk.control.median;
	double k = (double)r->kbrk.t.t.median -
		   (double)r->kbrk.control.median;

	return k > 0 ? d / k : 0;
}

/* ---- human output ---------------------------------------------------------- */

/* The stats, then the ratio to the echo round trips taken between its
 * runs, and that echo's median. */
static void print_timed(const char *what, const struct svc_timed *t,
			const char *note)
{
	char e[32];

	print_stats(what, &t->t);
	printf("  %-34s %10.2fx echo%s (its echo: %s)\n", "",
	       ratio(&t->t, &t->echo), note,
	       fmt_ns(e, sizeof(e), t->echo.median));
}

static void print_break(const char *what, const struct svc_break *b)
{
	char buf[32];

	if (b->skipped[0]) {
		print_skip(what, b->skipped);
		return;
	}
	print_timed(what, &b->t, "");
	print_stats_ratio("  control: no lease held", &b->control,
			  &b->t.echo, "echo");
	printf("  %-34s %10s (break - control, medians)\n", "  the break adds",
	       fmt_ns(buf, sizeof(buf), b->t.t.median > b->control.median ?
		      b->t.t.median - b->control.median : 0));
	if (b->revoked)
		printf("  %-34s %10llu revoked instead of returned\n", "",
		       (unsigned long long)b->revoked);
}

static void print_scan(const struct svc_scan *s)
{
	char sz[32], first[32], med[32], p10[32], p90[32];

	if (s->skipped[0]) {
		printf("  %-24s not measured: %s\n", s->label, s->skipped);
		return;
	}
	printf("  %-24s %8llu %7llu/%llu/%llu %10s %10s (%s..%s) %8.1f "
	       "%8.1fx\n", s->label, (unsigned long long)s->entries,
	       (unsigned long long)s->pte, (unsigned long long)s->pmd,
	       (unsigned long long)s->pud,
	       fmt_ns(first, sizeof(first), s->first_ns),
	       fmt_ns(med, sizeof(med), s->t.t.median),
	       fmt_ns(p10, sizeof(p10), s->t.t.p10),
	       fmt_ns(p90, sizeof(p90), s->t.t.p90),
	       s->entries ? (double)s->t.t.median / (double)s->entries : 0,
	       ratio(&s->t.t, &s->t.echo));
	printf("  %-24s setup %s, image uses %s on disk; mapping it "
	       "again: %s, %ld VMAs\n", "",
	       fmt_ns(med, sizeof(med), s->setup_ns),
	       dl_fmt_size(sz, sizeof(sz), s->disk_bytes),
	       fmt_ns(first, sizeof(first), s->map_ns), s->vmas);
	printf("  %-24s admin BUSY view, whole: %s (%llu rows, %.2fx its "
	       "echo)\n", "", fmt_ns(med, sizeof(med), s->busy_view.t.median),
	       (unsigned long long)s->busy_rows,
	       ratio(&s->busy_view.t, &s->busy_view.echo));
}

/* What recording adds: the difference of the medians. */
static void print_recording(const struct svc_timed *with,
			    const struct svc_timed *without)
{
	char d[32];

	printf("  %-34s %10s (medians: first - recorded)\n",
	       "  recording adds",
	       fmt_ns(d, sizeof(d), with->t.median > without->t.median ?
		      with->t.median - without->t.median : 0));
}

static void svc_print(const void *res)
{
	const struct svc_res *r = res;
	char sz[64], bytes[16];

	printf("\nservice (a real daxleased; each ratio is to the median of "
	       "echo round trips\ntaken one before each of its runs)\n");
	if (r->skipped[0]) {
		print_skip("service", r->skipped);
		return;
	}
	snprintf(sz, sizeof(sz), "baseline: echo, %u B", r->msg_bytes);
	print_stats(sz, &r->echo);
	print_timed("lease acquire + release", &r->lease, ", 2 round trips");
	print_break("lease break, daxlease", &r->brk);
	snprintf(sz, sizeof(sz), "lease break, kernel (%s)",
		 r->kbrk.fs[0] ? r->kbrk.fs : "?");
	print_break(sz, &r->kbrk);
	if (!r->kbrk.skipped[0]) {
		printf("  %-34s %10.2fx\n", "ratio daxlease / kernel break",
		       ratio(&r->brk.t.t, &r->kbrk.t.t));
		printf("  %-34s %10.2fx\n", "ratio of what the breaks add",
		       break_added_ratio(r));
	}
	snprintf(sz, sizeof(sz), "truncate %s file to 0",
		 dl_fmt_size(bytes, sizeof(bytes), r->trunc_bytes));
	print_timed(sz, &r->trunc, "");
	printf("\npin records: a MAP or PIN writes one (a journal commit) "
	       "unless recorded already\n");
	print_timed("map+unmap 64 KiB, recorded", &r->map_recorded, "");
	print_timed("map+unmap 64 KiB, first (records)", &r->map_new, "");
	print_recording(&r->map_new, &r->map_recorded);
	print_timed("pin+unpin 64 KiB, mapped", &r->pin_recorded, "");
	print_timed("pin+unpin 64 KiB, first (records)", &r->pin_new, "");
	print_recording(&r->pin_new, &r->pin_recorded);
	printf("\nbusy scan: NONBLOCK truncate to 0 of a mapped file with "
	       "4 KiB pinned at its end\n  %-24s %8s %13s %10s %10s %17s "
	       "%8s %9s\n", "mapped", "entries", "pte/pmd/pud", "first",
	       "scan", "(p10..p90)", "ns/entry", "x echo");
	for (size_t i = 0; i < r->nscans; i++)
		print_scan(&r->scan[i]);
	printf("  note: %s\n", r->scan_note);
	printf("\n");
	print_stats_ratio("baseline again, at the end", &r->echo_after,
			  &r->echo, "the first (the machine's load changed "
			  "if far from 1)");
}

/* ---- JSON output ----------------------------------------------------------- */

/* The stats, "ratio_to_echo" and the interleaved "echo" stats. */
static struct json_object *jtimed(const struct svc_timed *t)
{
	struct json_object *o = jstats_ratio(&t->t, &t->echo, "echo");

	if (o && jadd(o, "echo", jstats(&t->echo))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *jbreak(const struct svc_break *b)
{
	struct json_object *o;

	if (b->skipped[0])
		return jskipped(b->skipped);
	o = jtimed(&b->t);
	if (o && (jadd(o, "control_no_lease",
		       jstats_ratio(&b->control, &b->t.echo, "echo")) ||
		  jadd_u64(o, "revoked", b->revoked) ||
		  (b->fs[0] && jadd_str(o, "fs", b->fs)))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *jscan(const void *arg, size_t i)
{
	const struct svc_res *r = arg;
	const struct svc_scan *s = &r->scan[i];
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (jadd_str(o, "label", s->label) ||
	    jadd_u64(o, "namespace_bytes", s->ns_size) ||
	    jadd_u64(o, "align", s->align) ||
	    jadd_u64(o, "mapped_bytes", s->bytes))
		goto err;
	if (s->skipped[0]) {
		if (jadd_str(o, "skipped", s->skipped))
			goto err;
		return o;
	}
	if (jadd_u64(o, "entries", s->entries) ||
	    jadd_u64(o, "pte", s->pte) || jadd_u64(o, "pmd", s->pmd) ||
	    jadd_u64(o, "pud", s->pud) ||
	    jadd_u64(o, "setup_ns", s->setup_ns) ||
	    jadd_u64(o, "disk_bytes_after_setup", s->disk_bytes) ||
	    jadd_u64(o, "map_ns", s->map_ns) ||
	    jadd(o, "map_vmas", json_object_new_int64(s->vmas)) ||
	    jadd_u64(o, "first_ns", s->first_ns) ||
	    jadd(o, "scan", jtimed(&s->t)) ||
	    jadd_double(o, "ns_per_entry", s->entries ?
			(double)s->t.t.median / (double)s->entries : 0) ||
	    jadd_u64(o, "blockers", s->blockers) ||
	    jadd(o, "busy_view", jtimed(&s->busy_view)) ||
	    jadd_u64(o, "busy_view_rows", s->busy_rows))
		goto err;
	return o;
err:
	json_object_put(o);
	return NULL;
}

static struct json_object *jscans(const struct svc_res *r)
{
	struct json_object *o = json_object_new_object();

	if (o && (jadd_str(o, "note", r->scan_note) ||
		  jadd_array(o, "cases", r->nscans, jscan, r))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *jservice(const struct svc_res *r)
{
	struct json_object *o, *echo;

	if (r->skipped[0])
		return jskipped(r->skipped);
	o = json_object_new_object();
	if (!o)
		return NULL;
	echo = jstats(&r->echo);
	if (!echo || jadd_u64(echo, "message_bytes", r->msg_bytes)) {
		json_object_put(echo);
		goto err;
	}
	if (jadd(o, "baseline_echo", echo) ||
	    jadd(o, "baseline_echo_at_end",
		 jstats_ratio(&r->echo_after, &r->echo, "baseline_echo")) ||
	    jadd(o, "lease_acquire_release", jtimed(&r->lease)) ||
	    jadd(o, "lease_break", jbreak(&r->brk)) ||
	    jadd(o, "kernel_lease_break", jbreak(&r->kbrk)) ||
	    jadd_double(o, "ratio_lease_break_to_kernel",
			r->kbrk.skipped[0] ? 0 :
			ratio(&r->brk.t.t, &r->kbrk.t.t)) ||
	    jadd_double(o, "ratio_break_added_to_kernel",
			r->kbrk.skipped[0] ? 0 : break_added_ratio(r)) ||
	    jadd_u64(o, "truncate_bytes", r->trunc_bytes) ||
	    jadd(o, "truncate", jtimed(&r->trunc)) ||
	    jadd(o, "map_unmap_recorded", jtimed(&r->map_recorded)) ||
	    jadd(o, "map_unmap_recording", jtimed(&r->map_new)) ||
	    jadd(o, "pin_unpin_recorded", jtimed(&r->pin_recorded)) ||
	    jadd(o, "pin_unpin_recording", jtimed(&r->pin_new)) ||
	    jadd(o, "busy_scan", jscans(r)))
		goto err;
	return o;
err:
	json_object_put(o);
	return NULL;
}

static struct json_object *svc_json(const void *res)
{
	return jwrap("service", jservice(res));
}

const struct bench_section bench_service_section = {
	.name = "service",
	.run = svc_run,
	.print = svc_print,
	.json = svc_json,
	.release = free,
};

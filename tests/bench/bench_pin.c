/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_pin.c - the pin section of daxlease-bench (bench_pin.h): one
 * daxleased per namespace align, a file mapped through a layout lease,
 * and for each size the lockless, socket and kernel pin + unpin, every
 * one with its ratio to the floor measured first in the same run.
 *
 * The sizes: a 2 MiB range mapped by one PMD leaf (align 2M), a 1 GiB
 * range mapped by one PUD leaf (align 1G; not with --quick, whose runs
 * write no 1 GiB file), and a 2 MiB range of 512 PTE leaves (align 4K).
 * The PMD file is 4 MiB: its two leaves are the two threads' entries.
 *
 * Targets the numbers are printed against (never asserted): a PMD or
 * PUD lockless pin + unpin within 1.5x the floor, at least 100x faster
 * than the socket path, and two threads each as fast as one alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_daemon.h"
#include "bench_pin.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define FLOOR_BATCH 1000
#define TARGET_FAST_X_FLOOR 1.5
#define TARGET_SLOW_X_FAST 100.0

struct pin_size {
	const char *label;
	uint64_t ns_size, align;
	uint64_t map_bytes, pin_bytes;
	size_t fast_batch;
	bool big;
};

static const struct pin_size sizes[PIN_CASES] = {
	{ "2 MiB, 1 PMD", 256 * MiB, 2 * MiB, 4 * MiB, 2 * MiB, 1000, false },
	{ "1 GiB, 1 PUD", 4 * GiB, GiB, GiB, GiB, 1000, true },
	{ "2 MiB, 512 PTE", 64 * MiB, 4096, 2 * MiB, 2 * MiB, 20, false },
};

static void set_iters(const struct bench_opts *o, struct pin_iters *it)
{
	static const struct pin_iters full = {
		.samples = 300, .slow = 2000, .kernel_small = 300,
		.kernel_big = 10, .scale_reps = 10, .scale_ops = 2000000,
		.big = true,
	};
	static const struct pin_iters quick = {
		.samples = 30, .slow = 100, .kernel_small = 20,
		.kernel_big = 0, .scale_reps = 5, .scale_ops = 20000,
		.big = false,
	};

	*it = o->quick ? quick : full;
}

/* A daemon, a file of map_bytes under a shared lease, mapped whole. */
struct pin_setup {
	struct bench_daemon bd;
	struct daxlease_file *f;
	struct daxlease_map *m;
};

static int setup_map(const struct bench_opts *o, const struct pin_size *s,
		     struct pin_setup *ps, struct pin_case *c)
{
	uint64_t lease, pte, pmd, pud;
	int rc;

	rc = bench_daemon_start(o, &ps->bd, s->ns_size, s->align, NULL);
	if (rc)
		return rc;
	rc = daxlease_open(ps->bd.ctx, "pin", BENCH_CREATE, 0644, &ps->f);
	if (!rc)
		rc = daxlease_fallocate(ps->f, 0, 0, s->map_bytes);
	if (!rc)
		rc = daxlease_lease_acquire(ps->f, 0, s->map_bytes,
					    DAXLEASE_LEASE_SHARED, 0, &lease);
	if (!rc)
		rc = daxlease_map(ps->f, 0, s->map_bytes, DAXLEASE_PROT_READ |
				  DAXLEASE_PROT_WRITE, &ps->m);
	if (rc)
		return bench_fail(s->label, "file, lease and map", rc);
	daxlease_map_leaves(ps->m, &pte, &pmd, &pud);
	c->entries = (pte + pmd + pud) * s->pin_bytes / s->map_bytes;
	return 0;
}

static int teardown(struct pin_setup *ps)
{
	int rc = 0;

	if (ps->m && daxlease_unmap(ps->m))
		rc = BENCH_ERR;
	if (ps->f)
		daxlease_close(ps->f);
	return bench_daemon_stop(&ps->bd) ? BENCH_ERR : rc;
}

static void why_fast_missing(char *why, size_t len, int rc)
{
	if (rc == -EAGAIN)
		snprintf(why, len, "daxlease_map_pin went through the socket");
	else
		snprintf(why, len, "daxlease_map_pin: %s", strerror(-rc));
}

static int run_case(const struct bench_opts *o, const struct pin_iters *it,
		    const struct pin_size *s, struct pin_res *r,
		    struct pin_case *c)
{
	struct pin_setup ps = { 0 };
	int rc;

	c->label = s->label;
	c->ns_size = s->ns_size;
	c->align = s->align;
	c->bytes = s->pin_bytes;
	c->fast_batch = s->fast_batch;
	if (s->big && !it->big) {
		snprintf(c->fast_skip, PIN_WHY, "--quick maps no 1 GiB file");
		snprintf(c->slow_skip, PIN_WHY, "%s", c->fast_skip);
		snprintf(c->kernel_skip, PIN_WHY, "%s", c->fast_skip);
		return 0;
	}
	rc = setup_map(o, s, &ps, c);
	if (!rc) {
		int frc = pin_fast(ps.m, s->pin_bytes, s->fast_batch,
				   it->samples, &c->fast);

		if (frc)
			why_fast_missing(c->fast_skip, PIN_WHY, frc);
	}
	if (!rc) {
		rc = pin_slow(ps.bd.ctx, ps.f, s->pin_bytes, it->slow,
			      &c->slow);
		if (rc)
			bench_fail("socket pin", NULL, rc);
	}
	/* the PMD mapping's two leaves: one thread each */
	if (!rc && s == &sizes[0] && c->fast_skip[0])
		snprintf(r->scale.skipped, PIN_WHY, "%s", c->fast_skip);
	else if (!rc && s == &sizes[0]) {
		int src = pin_scaling(ps.m, s->pin_bytes, it->scale_reps,
				      it->scale_ops, &r->scale);

		if (src)
			why_fast_missing(r->scale.skipped, PIN_WHY, src);
	}
	if (rc || teardown(&ps))
		return BENCH_ERR;
	rc = pin_kernel(s->pin_bytes, s->big ? it->kernel_big :
			it->kernel_small, &c->kernel, c->kernel_skip, PIN_WHY);
	return rc ? bench_fail("io_uring buffer registration", NULL, rc) : 0;
}

static int pin_run(const struct bench_opts *o, void **res)
{
	struct pin_res *r = calloc(1, sizeof(*r));
	struct pin_iters it;
	int rc = 0;

	if (!r)
		return bench_fail("pin", NULL, -ENOMEM);
	*res = r;
	set_iters(o, &it);
	r->floor_batch = FLOOR_BATCH;
	rc = pin_floor(FLOOR_BATCH, it.samples, &r->floor);
	if (rc)
		return bench_fail("floor", NULL, rc);
	if (!o->daemon) {
		snprintf(r->skipped, sizeof(r->skipped), "no daxleased found "
			 "(--daemon PATH or DAXLEASE_DAEMON)");
		return 0;
	}
	for (size_t i = 0; !rc && i < PIN_CASES; i++)
		rc = run_case(o, &it, &sizes[i], r, &r->c[i]);
	return rc;
}

/* ---- human output ---------------------------------------------------------- */

/* Rates of two threads together against one alone: 2.0 is perfect. */
static double scaling_of(const struct pin_clock *s)
{
	if (!s->two[0].median || !s->two[1].median)
		return 0;
	return (double)s->one.median / (double)s->two[0].median +
	       (double)s->one.median / (double)s->two[1].median;
}

static void print_case(const struct pin_case *c,
		       const struct pin_timed *floor)
{
	char title[64];

	printf("\n  %s (%llu entries)\n", c->label,
	       (unsigned long long)c->entries);
	snprintf(title, sizeof(title), "lockless (batches of %zu)",
		 c->fast_batch);
	if (c->fast_skip[0]) {
		print_skip(title, c->fast_skip);
	} else {
		print_stats_ratio(title, &c->fast.wall, &floor->wall,
				  "floor");
		print_stats_ratio("  on-CPU (thread CPU time)", &c->fast.cpu,
				  &floor->cpu, "floor on-CPU");
	}
	if (c->slow_skip[0]) {
		print_skip("socket", c->slow_skip);
	} else {
		print_stats_ratio("socket", &c->slow, &floor->wall, "floor");
		if (!c->fast_skip[0])
			printf("  %-34s %10.1fx lockless\n", "",
			       ratio(&c->slow, &c->fast.wall));
	}
	if (c->kernel_skip[0])
		print_skip("kernel: io_uring fixed buffer", c->kernel_skip);
	else
		print_stats_ratio("kernel: io_uring fixed buffer",
				  &c->kernel, &floor->wall, "floor");
}

static void print_summary(const struct pin_res *r)
{
	char f[32], fl[32], sl[32], k[32];

	printf("\n  summary (medians; targets: PMD/PUD lockless <= %.1fx "
	       "floor, socket >= %.0fx lockless, two threads ~2.0;\n"
	       "  'cpu': both by thread CPU time)\n",
	       TARGET_FAST_X_FLOOR, TARGET_SLOW_X_FAST);
	printf("  %-16s %7s %9s %8s %8s %9s %9s %9s\n", "size", "floor",
	       "lockless", "x floor", "x (cpu)", "socket", "x lockls",
	       "kernel");
	fmt_ns(f, sizeof(f), r->floor.wall.median);
	for (size_t i = 0; i < PIN_CASES; i++) {
		const struct pin_case *c = &r->c[i];
		bool fast = !c->fast_skip[0], slow = !c->slow_skip[0];

		printf("  %-16s %7s %9s %7.2fx %7.2fx %9s %8.0fx %9s\n",
		       c->label, f,
		       fast ? fmt_ns(fl, sizeof(fl), c->fast.wall.median) : "-",
		       fast ? ratio(&c->fast.wall, &r->floor.wall) : 0,
		       fast ? ratio(&c->fast.cpu, &r->floor.cpu) : 0,
		       slow ? fmt_ns(sl, sizeof(sl), c->slow.median) : "-",
		       fast && slow ? ratio(&c->slow, &c->fast.wall) : 0,
		       c->kernel_skip[0] ? "-" :
		       fmt_ns(k, sizeof(k), c->kernel.median));
	}
	if (!r->scale.skipped[0])
		printf("  %-16s %.2f by the wall clock, %.2f by thread CPU "
		       "time (one thread alone: 1.00)\n", "two threads",
		       scaling_of(&r->scale.wall), scaling_of(&r->scale.cpu));
}

static void print_clock(const char *name, const struct pin_clock *c,
			const struct stats *floor)
{
	printf("  by %s:\n", name);
	print_stats_ratio("one thread alone", &c->one, floor, "floor");
	print_stats_ratio("thread 0 of two", &c->two[0], &c->one, "alone");
	print_stats_ratio("thread 1 of two", &c->two[1], &c->one, "alone");
	print_stats_ratio("control: both on entry 0, thr 0", &c->same[0],
			  &c->one, "alone");
	print_stats_ratio("control: both on entry 0, thr 1", &c->same[1],
			  &c->one, "alone");
}

static void pin_print(const void *res)
{
	const struct pin_res *r = res;

	printf("\npins (pin + unpin; ratios are to the floor median)\n");
	print_stats("floor: atomic inc + fence + dec", &r->floor.wall);
	print_stats("  on-CPU (thread CPU time)", &r->floor.cpu);
	if (r->skipped[0]) {
		print_skip("pins", r->skipped);
		return;
	}
	for (size_t i = 0; i < PIN_CASES; i++)
		print_case(&r->c[i], &r->floor);
	printf("\n  two threads, lockless, one PMD entry each\n");
	if (r->scale.skipped[0]) {
		print_skip("scaling", r->scale.skipped);
	} else {
		print_clock("wall clock", &r->scale.wall, &r->floor.wall);
		print_clock("thread CPU time", &r->scale.cpu, &r->floor.cpu);
		printf("  %-34s %10.2f pair, %.2f control (2.00: both ran "
		       "all the time; medians)\n", "parallelism",
		       (double)r->scale.parallel.median / 1000,
		       (double)r->scale.parallel_same.median / 1000);
	}
	print_summary(r);
}

/* ---- JSON output ----------------------------------------------------------- */

static struct json_object *jcase(const void *arg, size_t i)
{
	const struct pin_res *r = arg;
	const struct pin_case *c = &r->c[i];
	const struct stats *floor = &r->floor.wall;
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (jadd_str(o, "label", c->label) ||
	    jadd_u64(o, "bytes", c->bytes) || jadd_u64(o, "align", c->align) ||
	    jadd_u64(o, "entries", c->entries) ||
	    jadd_u64(o, "lockless_batch", c->fast_batch) ||
	    jadd(o, "lockless", jmaybe(&c->fast.wall, c->fast_skip, floor,
				       "floor")) ||
	    jadd(o, "lockless_cpu", jmaybe(&c->fast.cpu, c->fast_skip,
					   &r->floor.cpu, "floor_cpu")) ||
	    jadd(o, "socket", jmaybe(&c->slow, c->slow_skip, floor,
				     "floor")) ||
	    jadd_double(o, "ratio_socket_to_lockless",
			c->fast_skip[0] || c->slow_skip[0] ? 0 :
			ratio(&c->slow, &c->fast.wall)) ||
	    jadd(o, "kernel_io_uring", jmaybe(&c->kernel, c->kernel_skip,
					      floor, "floor")))
		goto err;
	return o;
err:
	json_object_put(o);
	return NULL;
}

static struct json_object *jclock(const struct pin_clock *c,
				  const struct stats *floor)
{
	struct json_object *o = json_object_new_object();

	if (o && (jadd(o, "one_thread", jstats_ratio(&c->one, floor,
						     "floor")) ||
		  jadd(o, "thread_0_of_2", jstats_ratio(&c->two[0], &c->one,
							"one_thread")) ||
		  jadd(o, "thread_1_of_2", jstats_ratio(&c->two[1], &c->one,
							"one_thread")) ||
		  jadd(o, "control_same_entry_thread_0",
		       jstats_ratio(&c->same[0], &c->one, "one_thread")) ||
		  jadd(o, "control_same_entry_thread_1",
		       jstats_ratio(&c->same[1], &c->one, "one_thread")) ||
		  jadd_double(o, "scaling", scaling_of(c)))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *jscaling(const struct pin_scaling *s,
				    const struct pin_timed *floor)
{
	struct json_object *o;

	if (s->skipped[0])
		return jskipped(s->skipped);
	o = json_object_new_object();
	if (o && (jadd(o, "wall_clock", jclock(&s->wall, &floor->wall)) ||
		  jadd(o, "thread_cpu_time", jclock(&s->cpu, &floor->cpu)) ||
		  jadd_double(o, "parallelism_pair",
			      (double)s->parallel.median / 1000) ||
		  jadd_double(o, "parallelism_control",
			      (double)s->parallel_same.median / 1000))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *jpin(const struct pin_res *r)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (jadd(o, "floor", jstats(&r->floor.wall)) ||
	    jadd(o, "floor_cpu", jstats(&r->floor.cpu)) ||
	    jadd_u64(o, "floor_batch", r->floor_batch))
		goto err;
	if (r->skipped[0]) {
		if (jadd_str(o, "skipped", r->skipped))
			goto err;
		return o;
	}
	if (jadd_array(o, "cases", PIN_CASES, jcase, r) ||
	    jadd(o, "scaling", jscaling(&r->scale, &r->floor)))
		goto err;
	return o;
err:
	json_object_put(o);
	return NULL;
}

static struct json_object *pin_json(const void *res)
{
	return jwrap("pin", jpin(res));
}

const struct bench_section bench_pin_section = {
	.name = "pin",
	.run = pin_run,
	.print = pin_print,
	.json = pin_json,
	.release = free,
};

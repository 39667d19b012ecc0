/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * truncate-racer.c - keep changing a file's layout while pinners work.
 *
 *   example-truncate-racer [options] PATH
 *
 * Runs --ops random layout changes over file PATH, from a seed (--seed,
 * so a run can be repeated): a truncate that shrinks the file and grows
 * it back, a punched hole, a collapsed range, an inserted range, a zeroed
 * range - 4 KiB aligned, the size put back after each change that moves
 * it.  Every change of a pinned range waits for the pin (the service's
 * busy-page scan), or, with --nonblock, fails at once with EBUSY naming
 * the pins and leases in its way, or, with --deadline MS, gives up with
 * ETIMEDOUT after MS ms; the racer reports either and carries on.
 *
 * To count the changes that had to wait, each waiting change first asks
 * with the NONBLOCK policy: an EBUSY answer is counted as a wait, and the
 * change is then asked for again with the policy chosen.
 *
 * At the end it prints a summary: ops, waits, EBUSY, ETIMEDOUT and the
 * median and longest time per op.
 *
 * Build your own copy with (example-util.h beside it):
 *   cc truncate-racer.c $(pkg-config --cflags --libs libdaxlease)
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/falloc.h>

#include <daxlease/libdaxlease.h>

#define EXAMPLE_NAME "truncate-racer"
#include "example-util.h"

#define PAGE 4096u
#define MAX_BLOCKERS 8

static const char usage[] =
	"usage: example-truncate-racer [--socket PATH] [--ops N] [--seed S]\n"
	"                              [--nonblock | --deadline MS] PATH\n"
	"\n"
	"Change the layout of file PATH (its size at least 8 KiB, a multiple\n"
	"of 4 KiB) N times at random: truncate (shrink, grow back), punch a\n"
	"hole, collapse, insert, zero a range.  Changes of pinned ranges wait\n"
	"for the pins unless a policy says otherwise.  Prints the changes the\n"
	"pins refused, then a summary.  The socket is --socket, else\n"
	"$DAXLEASE_SOCKET, else the daemon's default.\n"
	"\n"
	"  -s, --socket PATH    daxleased's socket\n"
	"  -o, --ops N          how many changes (default 100)\n"
	"  -S, --seed S         the random seed (default 1)\n"
	"  -n, --nonblock       fail at once with EBUSY when pins are in the\n"
	"                       way; print them and the leases (pid, comm,\n"
	"                       range)\n"
	"  -d, --deadline MS    wait at most MS ms for pins, then ETIMEDOUT\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit status: 0 all ops done or refused by the policy, 1 an error.\n";

enum op_kind { OP_TRUNCATE, OP_PUNCH, OP_COLLAPSE, OP_INSERT, OP_ZERO,
	       OP_KINDS };

static const char *const op_names[OP_KINDS] = {
	[OP_TRUNCATE] = "truncate", [OP_PUNCH] = "punch",
	[OP_COLLAPSE] = "collapse", [OP_INSERT] = "insert",
	[OP_ZERO] = "zero",
};

struct options {
	const char *socket;
	const char *path;
	uint64_t ops;
	uint64_t seed;
	unsigned policy;		/* DAXLEASE_POLICY_* */
	unsigned deadline_ms;
};

/* One layout call: truncate to size, or fallocate(mode, offset, length). */
struct change {
	enum op_kind kind;
	bool truncate;
	uint64_t size;
	int mode;
	uint64_t offset, length;
};

struct racer {
	const struct options *o;
	struct daxlease_file *f;
	uint64_t size;			/* the size each op puts back */
	uint64_t rng;
	uint64_t done[OP_KINDS];
	uint64_t waits, ebusy, etimedout, calls;
	double *op_ms;			/* time of each op */
};

/* splitmix64: the same run for the same seed, whatever the libc. */
static uint64_t next_random(struct racer *r)
{
	uint64_t z = (r->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static uint64_t pick(struct racer *r, uint64_t lo, uint64_t hi)
{
	return lo + next_random(r) % (hi - lo + 1);
}

/* ---- one layout call, under the policy ------------------------------------ */

static int call(struct racer *r, const struct change *c,
		struct daxlease_policy *p)
{
	r->calls++;
	if (c->truncate)
		return daxlease_truncate_policy(r->f, c->size, p);
	return daxlease_fallocate_policy(r->f, c->mode, c->offset, c->length,
					 p);
}

static void describe(const struct change *c, char *buf, size_t size)
{
	if (c->truncate)
		snprintf(buf, size, "%s to %" PRIu64, op_names[c->kind],
			 c->size);
	else
		snprintf(buf, size, "%s [%" PRIu64 ", +%" PRIu64 ")",
			 op_names[c->kind], c->offset, c->length);
}

static void report_ebusy(const struct change *c,
			 const struct daxlease_policy *p)
{
	size_t n = p->nblockers < p->max ? p->nblockers : p->max;
	char what[80];

	describe(c, what, sizeof(what));
	if (!p->nblockers)
		printf("EBUSY: %s: held by layout leases\n", what);
	for (size_t i = 0; i < n; i++) {
		const struct daxlease_blocker *b = &p->blockers[i];
		char len[24] = "eof";	/* a lease to the end of file */

		if (b->length != UINT64_MAX)
			snprintf(len, sizeof(len), "%" PRIu64, b->length);
		printf("EBUSY: %s: %s %" PRIu64 " of pid %d (%s) on [%" PRIu64
		       ", +%s)%s\n", what, b->lease ? "lease" :
		       b->lockless ? "lockless pin, table entry" : "pin",
		       b->pin_id, b->pid, b->comm, b->offset, len,
		       b->write ? (b->lease ? ", exclusive" : ", write") : "");
	}
	if (p->nblockers > n)
		printf("EBUSY: %s: and %zu more\n", what, p->nblockers - n);
}

/*
 * 0 done, 1 refused by the policy (counted and reported: the file is
 * unchanged), -errno on any other error.
 */
static int change_layout(struct racer *r, const struct change *c)
{
	struct daxlease_blocker blockers[MAX_BLOCKERS];
	struct daxlease_policy p = {
		.flags = DAXLEASE_POLICY_NONBLOCK,
		.blockers = blockers, .max = MAX_BLOCKERS,
	};
	char what[80];
	int rc;

	rc = call(r, c, &p);
	if (rc != -EBUSY)
		return rc;
	if (r->o->policy & DAXLEASE_POLICY_NONBLOCK) {
		r->ebusy++;
		report_ebusy(c, &p);
		return 1;
	}
	/* busy: ask again, this time willing to wait */
	r->waits++;
	p = (struct daxlease_policy){ .flags = r->o->policy,
				      .deadline_ms = r->o->deadline_ms };
	rc = call(r, c, &p);
	if (rc != -ETIMEDOUT)
		return rc;
	r->etimedout++;
	describe(c, what, sizeof(what));
	printf("ETIMEDOUT: %s: pins held it past %u ms; file unchanged\n",
	       what, r->o->deadline_ms);
	return 1;
}

/* ---- the ops ---------------------------------------------------------------- */

static struct change truncate_to(enum op_kind kind, uint64_t size)
{
	return (struct change){ .kind = kind, .truncate = true, .size = size };
}

static struct change fallocate_of(enum op_kind kind, int mode,
				  uint64_t offset, uint64_t length)
{
	return (struct change){ .kind = kind, .mode = mode, .offset = offset,
				.length = length };
}

/* A random range of blocks inside [0, nblocks - tail): offset, length. */
static void pick_range(struct racer *r, uint64_t nblocks, uint64_t tail,
		       uint64_t *offset, uint64_t *length)
{
	uint64_t room = nblocks - tail;
	uint64_t first = pick(r, 0, room - 1);
	uint64_t most = room - first < nblocks / 4 + 1 ?
			room - first : nblocks / 4 + 1;

	*offset = first * PAGE;
	*length = pick(r, 1, most) * PAGE;
}

/* Build the first change of an op over a file of size bytes. */
static struct change first_change(struct racer *r, enum op_kind kind,
				  uint64_t size)
{
	uint64_t nblocks = size / PAGE, off, len;

	switch (kind) {
	case OP_TRUNCATE:
		return truncate_to(kind, pick(r, 0, nblocks - 1) * PAGE);
	case OP_PUNCH:
		pick_range(r, nblocks, 0, &off, &len);
		return fallocate_of(kind, FALLOC_FL_PUNCH_HOLE |
				    FALLOC_FL_KEEP_SIZE, off, len);
	case OP_COLLAPSE:
		/* Linux: a collapsed range may not reach the end of file */
		pick_range(r, nblocks, 1, &off, &len);
		return fallocate_of(kind, FALLOC_FL_COLLAPSE_RANGE, off, len);
	case OP_INSERT:
		pick_range(r, nblocks, 0, &off, &len);
		return fallocate_of(kind, FALLOC_FL_INSERT_RANGE, off, len);
	default:
		pick_range(r, nblocks, 0, &off, &len);
		return fallocate_of(kind, FALLOC_FL_ZERO_RANGE |
				    FALLOC_FL_KEEP_SIZE, off, len);
	}
}

/* One op: its change, then the size put back.  0, or -errno. */
static int one_op(struct racer *r, enum op_kind kind)
{
	struct daxlease_stat st;
	struct change c;
	int rc;

	/* a size put back may have been refused: start from what it is */
	rc = daxlease_fstat(r->f, &st);
	if (rc)
		return rc;
	if (st.size < 2 * PAGE)
		kind = OP_TRUNCATE;	/* too small to move ranges in */
	if (!st.size)
		c = truncate_to(kind, r->size);
	else
		c = first_change(r, kind, st.size & ~(uint64_t)(PAGE - 1));
	rc = change_layout(r, &c);
	if (rc < 0)
		return rc;
	r->done[kind]++;
	if (rc == 1 || (c.truncate && c.size == r->size) ||
	    c.mode & FALLOC_FL_KEEP_SIZE)
		return 0;
	c = truncate_to(kind, r->size);
	rc = change_layout(r, &c);
	return rc < 0 ? rc : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void summary(struct racer *r)
{
	uint64_t n = r->o->ops;

	qsort(r->op_ms, n, sizeof(*r->op_ms), cmp_double);
	printf("ops %" PRIu64 " (", n);
	for (int k = 0; k < OP_KINDS; k++)
		printf("%s%s %" PRIu64, k ? ", " : "", op_names[k], r->done[k]);
	printf("), calls %" PRIu64 ", waits %" PRIu64 ", EBUSY %" PRIu64
	       ", ETIMEDOUT %" PRIu64 "; time per op: median %.3f ms, max "
	       "%.3f ms; seed %" PRIu64 "\n", r->calls, r->waits, r->ebusy,
	       r->etimedout, r->op_ms[n / 2], r->op_ms[n - 1], r->o->seed);
}

static int race(struct racer *r)
{
	for (uint64_t i = 0; i < r->o->ops; i++) {
		enum op_kind kind = (enum op_kind)pick(r, 0, OP_KINDS - 1);
		uint64_t start = ex_now_ns();
		int rc = one_op(r, kind);

		if (rc) {
			fprintf(stderr, "truncate-racer: op %" PRIu64 " (%s): "
				"%s\n", i + 1, op_names[kind], strerror(-rc));
			return 1;
		}
		r->op_ms[i] = (double)(ex_now_ns() - start) / 1e6;
	}
	summary(r);
	return 0;
}

static int open_and_race(struct daxlease_ctx *ctx, const struct options *o)
{
	struct racer r = { .o = o, .rng = o->seed };
	struct daxlease_stat st;
	int rc;

	rc = daxlease_open(ctx, o->path, DAXLEASE_O_READ | DAXLEASE_O_WRITE,
			   0, &r.f);
	if (rc)
		return ex_fail(o->path, rc);
	rc = daxlease_fstat(r.f, &st);
	if (rc) {
		daxlease_close(r.f);
		return ex_fail(o->path, rc);
	}
	if (st.size < 2 * PAGE || st.size % PAGE) {
		fprintf(stderr, "truncate-racer: %s: %" PRIu64 " bytes: the "
			"size must be at least 8 KiB and a multiple of 4 KiB\n",
			o->path, st.size);
		daxlease_close(r.f);
		return 1;
	}
	r.size = st.size;
	r.op_ms = calloc(o->ops, sizeof(*r.op_ms));
	rc = r.op_ms ? race(&r) : ex_fail("ops", -ENOMEM);
	free(r.op_ms);
	daxlease_close(r.f);
	return rc;
}

/* ---- options -------------------------------------------------------------- */

static int parse_policy(struct options *o, int c, const char *arg)
{
	uint64_t ms;

	if (c == 'n') {
		o->policy |= DAXLEASE_POLICY_NONBLOCK;
	} else {
		if (ex_parse_number("--deadline", arg, 1, UINT32_MAX, &ms))
			return -1;
		o->policy |= DAXLEASE_POLICY_DEADLINE;
		o->deadline_ms = (unsigned)ms;
	}
	if (o->policy == (DAXLEASE_POLICY_NONBLOCK | DAXLEASE_POLICY_DEADLINE)) {
		fprintf(stderr, "truncate-racer: --nonblock and --deadline "
			"exclude each other\n");
		return -1;
	}
	return 0;
}

/* 0: go on; 1: exit 0 (--help); -1: exit 1. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, 'S' },
		{ "nonblock", no_argument, NULL, 'n' },
		{ "deadline", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:o:S:nd:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'o':
			if (ex_parse_number("--ops", optarg, 1, 100000000,
					 &o->ops))
				return -1;
			break;
		case 'S':
			if (ex_parse_number("--seed", optarg, 0, UINT64_MAX,
					 &o->seed))
				return -1;
			break;
		case 'n':
		case 'd':
			if (parse_policy(o, c, optarg))
				return -1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			fputs(usage, stderr);
			return -1;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "truncate-racer: expected PATH (--help for "
			"more)\n");
		return -1;
	}
	o->path = argv[optind];
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = { .ops = 100, .seed = 1 };
	struct daxlease_ctx *ctx;
	int rc;

	rc = parse_options(argc, argv, &o);
	if (rc)
		return rc > 0 ? 0 : 1;
	/* a line as each refusal happens, also into a pipe or a log */
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = daxlease_new(&ctx, o.socket);
	if (rc)
		return ex_unreachable(o.socket, rc);
	rc = open_and_race(ctx, &o);
	daxlease_unref(ctx);
	return rc;
}

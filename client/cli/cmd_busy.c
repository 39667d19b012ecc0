/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_busy.c - `daxlease busy`: every pin the daemon knows, or with
 * --summary the totals per process and per file, optionally filtered by
 * process, file and range.
 *
 * A busy machine may hold millions of pins, so nothing here grows with
 * them: pages of the BUSY view are written out as they come, through the
 * streaming writer (json_stream.c), and the summary keeps one row per
 * process and per file - added up by the daemon (BUSY_SUMMARY), or here
 * from the pins when a filter picks some.
 */
#ifdef DAXLEASE_HAVE_CLIENT
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <daxlease/libdaxlease.h>

#include "cli.h"
#include "json_stream.h"

#define VIEW_PAGE 64		/* DL_PROTO_VIEW_MAX */
#define SUM_PAGE 256		/* DL_PROTO_BUSY_SUM_MAX */

static const char busy_usage[] =
	"usage: daxlease [--socket PATH] busy [--summary] [--pid PID]\n"
	"                [--file NAME] [--range OFFSET:LENGTH] [-u]\n"
	"\n"
	"Every pinned range as a JSON array: file, range, namespace offset,\n"
	"leaf, and the client holding it (pid, uid, comm, read or write, age).\n"
	"Lockless pins (a client's counter of a table entry) come after the\n"
	"socket pins, one per entry, with \"lockless\": true, the counter in\n"
	"\"refs\", and \"corrupt\": true when it is negative or huge.  A\n"
	"lockless pin's \"age\" is how long it may have been pinned: since the\n"
	"daemon last saw its counter at 0 (or handed the entry out).  The\n"
	"report is written as it is fetched, in constant memory.\n"
	"Needs root or daxleased's --admin-group.\n"
	"\n"
	"  -s, --summary      totals instead: pins, bytes and the oldest age,\n"
	"                     in all, per process and per file\n"
	"  -p, --pid PID      only the pins of process PID\n"
	"  -f, --file NAME    only the pins of file NAME\n"
	"  -r, --range OFFSET:LENGTH\n"
	"                     only pins that meet this file range\n"
	"  -u, --human        sizes with units, offsets in hex\n"
	"  -h, --help         this text\n";

struct busy_args {
	bool summary;
	bool by_pid, by_file, by_range;
	int pid;
	const char *file;
	uint64_t offset, length;
	unsigned flags;
};

static int parse_range(const struct cli_ctx *ctx, char *arg,
		       struct busy_args *a)
{
	char *colon = strchr(arg, ':');

	if (!colon)
		return cli_usage_error(ctx, "--range: '%s' is not "
				       "OFFSET:LENGTH", arg);
	*colon = 0;
	if (cli_parse_bytes(ctx, "--range OFFSET", arg, &a->offset) ||
	    cli_parse_bytes(ctx, "--range LENGTH", colon + 1, &a->length))
		return CLI_EXIT_USAGE;
	if (!a->length || a->offset + a->length < a->offset)
		return cli_usage_error(ctx, "--range: the length must be at "
				       "least 1 and the range end in 64 bits");
	a->by_range = true;
	return -1;
}

static int busy_opts(int argc, char **argv, const struct cli_ctx *ctx,
		     struct busy_args *a)
{
	static const struct option opts[] = {
		{ "summary", no_argument, NULL, 's' },
		{ "pid", required_argument, NULL, 'p' },
		{ "file", required_argument, NULL, 'f' },
		{ "range", required_argument, NULL, 'r' },
		{ "human", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long v;
	int c, rc;

	while ((c = getopt_long(argc, argv, "sp:f:r:uh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->summary = true;
			break;
		case 'p':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v <= 0 || v > 0x7fffffff)
				return cli_usage_error(ctx, "--pid: '%s' is not "
						       "a process id", optarg);
			a->pid = (int)v;
			a->by_pid = true;
			break;
		case 'f':
			a->file = optarg;
			a->by_file = true;
			break;
		case 'r':
			rc = parse_range(ctx, optarg, a);
			if (rc >= 0)
				return rc;
			break;
		case 'u':
			a->flags |= CLI_JSON_HUMAN;
			break;
		case 'h':
			fputs(busy_usage, stdout);
			return CLI_EXIT_OK;
		default:
			fputs(busy_usage, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_usage_error(ctx, "unexpected argument '%s'",
				       argv[optind]);
	return -1;
}

static bool wanted(const struct busy_args *a, const struct daxlease_busy *b)
{
	if (a->by_pid && b->pin.pid != a->pid)
		return false;
	if (a->by_file && strcmp(b->name, a->file))
		return false;
	/* [offset, offset + length) meets the pin's file range */
	if (a->by_range && (b->pin.offset >= a->offset + a->length ||
			    b->pin.offset + b->pin.length <= a->offset))
		return false;
	return true;
}

/* ---- one pin ------------------------------------------------------------- */

static const char *const leaf_names[] = { "pte", "pmd", "pud" };

static void put_size(struct json_stream *js, const char *key, uint64_t v,
		     unsigned flags)
{
	if (flags & CLI_JSON_HUMAN)
		js_value(js, key, cli_json_size(v, flags));
	else
		js_u64(js, key, v);
}

static void put_offset(struct json_stream *js, const char *key, uint64_t v,
		       unsigned flags)
{
	if (flags & CLI_JSON_HUMAN)
		js_value(js, key, cli_json_offset(v, flags));
	else
		js_u64(js, key, v);
}

/* Nanoseconds, or with -u seconds with a unit. */
static void put_age(struct json_stream *js, const char *key, uint64_t ns,
		    unsigned flags)
{
	char buf[32];

	if (!(flags & CLI_JSON_HUMAN)) {
		js_u64(js, key, ns);
		return;
	}
	snprintf(buf, sizeof(buf), "%.3f s", (double)ns / 1e9);
	js_string(js, key, buf);
}

/* The fields and their order are daxlease(1)'s (and json_pin.c's for a
 * blocker): a pinned hole has a null ns_offset, a connected pin a null
 * orphaned_for. */
static void put_busy(struct json_stream *js, const struct daxlease_busy *b,
		     unsigned flags)
{
	const struct daxlease_blocker *p = &b->pin;

	js_begin_object(js, NULL);
	js_string(js, "file", b->name);
	js_u64(js, "ino", b->ino);
	js_u64(js, "pin_id", p->pin_id);
	js_u64(js, "pid", (uint32_t)p->pid);
	js_u64(js, "uid", p->uid);
	/* the process chose its name itself (PR_SET_NAME) */
	js_string(js, "comm", p->comm);
	js_bool(js, "comm_claimed", true);
	put_offset(js, "offset", p->offset, flags);
	put_size(js, "length", p->length, flags);
	js_string(js, "access", p->write ? "write" : "read");
	js_bool(js, "lockless", p->lockless);
	js_bool(js, "corrupt", p->corrupt);
	js_bool(js, "orphaned", p->orphaned);
	js_bool(js, "restored", p->restored);
	if (b->ns_offset == UINT64_MAX)
		js_null(js, "ns_offset");
	else
		put_offset(js, "ns_offset", b->ns_offset, flags);
	js_string(js, "leaf", b->level < 3 ? leaf_names[b->level] : "?");
	put_age(js, "age", b->age_ns, flags);
	if (p->orphaned)
		put_age(js, "orphaned_for", (uint64_t)b->orphan_ms * 1000000,
			flags);
	else
		js_null(js, "orphaned_for");
	js_i64(js, "refs", b->refs);
	js_end_object(js);
}

/* ---- the summary --------------------------------------------------------- */

/* A pin as a summary row of one. */
static void row_of_pin(const struct daxlease_busy *b,
		       struct daxlease_busy_sum *r)
{
	memset(r, 0, sizeof(*r));
	r->pid = b->pin.pid;
	r->uid = b->pin.uid;
	memcpy(r->comm, b->pin.comm, sizeof(r->comm));
	r->ino = b->ino;
	memcpy(r->name, b->name, sizeof(r->name));
	r->pins = 1;
	r->lockless = b->pin.lockless;
	r->bytes = b->pin.length;
	r->oldest_ns = b->age_ns;
}

static void sum_add(struct daxlease_busy_sum *s,
		    const struct daxlease_busy_sum *r)
{
	s->pins += r->pins;
	s->lockless += r->lockless;
	s->bytes += r->bytes;
	if (r->oldest_ns > s->oldest_ns)
		s->oldest_ns = r->oldest_ns;
}

/* A row per process (key: pid) or per file (key: ino), in a hash table
 * that doubles when half full.  Its first row says who or what it is. */
struct sum_row {
	uint64_t key;
	bool used;
	struct daxlease_busy_sum sum;
};

struct sum_table {
	struct sum_row *rows;
	size_t cap, n;
};

static struct sum_row *row_find(struct sum_table *t, uint64_t key)
{
	size_t i = (size_t)(key * 0x9e3779b97f4a7c15ULL) & (t->cap - 1);

	while (t->rows[i].used && t->rows[i].key != key)
		i = (i + 1) & (t->cap - 1);
	return &t->rows[i];
}

static int table_grow(struct sum_table *t)
{
	struct sum_table bigger = { .cap = t->cap ? 2 * t->cap : 64 };

	bigger.rows = calloc(bigger.cap, sizeof(*bigger.rows));
	if (!bigger.rows)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->rows[i].used)
			*row_find(&bigger, t->rows[i].key) = t->rows[i];
	bigger.n = t->n;
	free(t->rows);
	*t = bigger;
	return 0;
}

static int table_add(struct sum_table *t, uint64_t key,
		     const struct daxlease_busy_sum *r)
{
	struct sum_row *row;

	if (2 * (t->n + 1) > t->cap && table_grow(t))
		return -ENOMEM;
	row = row_find(t, key);
	if (!row->used) {
		row->used = true;
		row->key = key;
		row->sum = *r;
		t->n++;
		return 0;
	}
	sum_add(&row->sum, r);
	return 0;
}

struct summary {
	struct daxlease_busy_sum all;
	struct sum_table procs, files;
};

static int summary_add(struct summary *s, const struct daxlease_busy_sum *r)
{
	sum_add(&s->all, r);
	return table_add(&s->procs, (uint32_t)r->pid, r) ||
	       table_add(&s->files, r->ino, r) ? -ENOMEM : 0;
}

/* Most pins first. */
static int cmp_rows(const void *x, const void *y)
{
	const struct sum_row *a = x, *b = y;

	if (a->sum.pins != b->sum.pins)
		return a->sum.pins < b->sum.pins ? 1 : -1;
	return a->key < b->key ? -1 : a->key > b->key;
}

static void put_sum(struct json_stream *js,
		    const struct daxlease_busy_sum *s, unsigned flags)
{
	js_u64(js, "pins", s->pins);
	js_u64(js, "lockless", s->lockless);
	put_size(js, "bytes", s->bytes, flags);
	put_age(js, "oldest", s->oldest_ns, flags);
}

/* The rows of t, most pins first (sorted in place: t is done with). */
static void put_rows(struct json_stream *js, const char *key,
		     struct sum_table *t, bool procs, unsigned flags)
{
	size_t n = 0;

	for (size_t i = 0; i < t->cap; i++)
		if (t->rows[i].used)
			t->rows[n++] = t->rows[i];
	if (n)
		qsort(t->rows, n, sizeof(*t->rows), cmp_rows);
	js_begin_array(js, key);
	for (size_t i = 0; i < n; i++) {
		const struct daxlease_busy_sum *r = &t->rows[i].sum;

		js_begin_object(js, NULL);
		if (procs) {
			js_u64(js, "pid", (uint32_t)r->pid);
			js_u64(js, "uid", r->uid);
			js_string(js, "comm", r->comm);
			js_bool(js, "comm_claimed", true);
		} else {
			js_string(js, "file", r->name);
			js_u64(js, "ino", r->ino);
		}
		put_sum(js, &t->rows[i].sum, flags);
		js_end_object(js);
	}
	js_end_array(js);
}

static void put_summary(struct json_stream *js, struct summary *s,
			unsigned flags)
{
	js_begin_object(js, NULL);
	put_sum(js, &s->all, flags);
	put_rows(js, "processes", &s->procs, true, flags);
	put_rows(js, "files", &s->files, false, flags);
	js_end_object(js);
}

/* ---- the verb ------------------------------------------------------------ */

/* Every page of BUSY: each wanted pin printed, or added to s. */
static int busy_pages(struct daxlease_ctx *dl, const struct busy_args *a,
		      struct json_stream *js, struct summary *s)
{
	struct daxlease_busy *b = calloc(VIEW_PAGE, sizeof(*b));
	uint64_t cursor = 0;
	int n = 0;

	if (!b)
		return -ENOMEM;
	do {
		n = daxlease_busy(dl, &cursor, b, VIEW_PAGE);
		for (int i = 0; i < n; i++) {
			struct daxlease_busy_sum r;

			if (!wanted(a, &b[i]))
				continue;
			if (!s) {
				put_busy(js, &b[i], a->flags);
				continue;
			}
			row_of_pin(&b[i], &r);
			if (summary_add(s, &r))
				n = -ENOMEM;
		}
	} while (n >= 0 && cursor);
	free(b);
	return n < 0 ? n : 0;
}

/* Without filters the daemon adds the pins up (BUSY_SUMMARY): a few
 * pages of rows instead of every pin. */
static int summary_pages(struct daxlease_ctx *dl, struct summary *s)
{
	struct daxlease_busy_sum *r = calloc(SUM_PAGE, sizeof(*r));
	uint64_t cursor = 0;
	int n = 0;

	if (!r)
		return -ENOMEM;
	do {
		n = daxlease_busy_summary(dl, &cursor, r, SUM_PAGE);
		for (int i = 0; i < n; i++)
			if (summary_add(s, &r[i]))
				n = -ENOMEM;
	} while (n >= 0 && cursor);
	free(r);
	return n < 0 ? n : 0;
}

int cmd_busy(int argc, char **argv, struct cli_ctx *ctx)
{
	struct busy_args a = { 0 };
	struct summary s = { 0 };
	static struct json_stream js;	/* its buffer: not on the stack */
	struct daxlease_ctx *dl;
	int rc;

	rc = busy_opts(argc, argv, ctx, &a);
	if (rc >= 0)
		return rc;
	dl = cli_connect(ctx);
	if (!dl)
		return CLI_EXIT_FAIL;
	js_init(&js, stdout);
	if (!a.summary)
		js_begin_array(&js, NULL);
	if (a.summary && !a.by_pid && !a.by_file && !a.by_range)
		rc = summary_pages(dl, &s);
	else
		rc = busy_pages(dl, &a, &js, a.summary ? &s : NULL);
	if (!rc && a.summary)
		put_summary(&js, &s, a.flags);
	else if (!a.summary)
		js_end_array(&js);	/* what was printed stays JSON */
	if (rc) {
		rc = cli_fail(ctx, "query", rc);
		js_finish(&js);		/* what was printed, out */
	} else {
		rc = js_finish(&js) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
	}
	free(s.procs.rows);
	free(s.files.rows);
	daxlease_unref(dl);
	return rc;
}
#endif

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_layout.c - `daxlease truncate` and `daxlease fallocate`: the verbs
 * that change a file's layout (Linux semantics and errnos; the service
 * breaks mappings and waits for pins before it frees a block).
 */
#ifdef DAXLEASE_HAVE_CLIENT
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include <linux/falloc.h>

#include <daxlease/libdaxlease.h>

#include "cli.h"

struct layout_args {
	const char *path;
	uint64_t offset, length;	/* truncate: length is the size */
	int mode;			/* FALLOC_FL_* */
	int modes;			/* how many mode options were given */
	unsigned flags;
	unsigned policy;		/* DAXLEASE_POLICY_* */
	unsigned deadline_ms;
};

#define POLICY_HELP \
	"  -n, --nonblock     fail at once with EBUSY if pins hold the range,\n" \
	"                     printing them (a JSON array) on stdout\n" \
	"  -d, --deadline MS  wait at most MS milliseconds for pins, then fail\n" \
	"                     with ETIMEDOUT (the file unchanged)\n"


static const char truncate_usage[] =
	"usage: daxlease [--socket PATH] truncate [--nonblock | --deadline MS]\n"
	"                [-u] PATH SIZE\n"
	"\n"
	"Set file PATH's size to SIZE (bytes, a K/M/G/T suffix, or 0x hex),\n"
	"as truncate(2), and print its JSON object.  A shrinking truncate\n"
	"waits while pins hold the blocks it frees (see daxlease busy).\n"
	"\n"
	POLICY_HELP
	"  -u, --human        sizes with units, times in ISO 8601\n"
	"  -h, --help         this text\n";

static void fallocate_usage(FILE *f)
{
	fprintf(f,
		"usage: daxlease [--socket PATH] fallocate [--punch|--collapse|\n"
		"                --insert|--zero] [--keep-size]\n"
		"                [--nonblock | --deadline MS] [-u] PATH OFFSET LENGTH\n"
		"\n"
		"Change file PATH's layout over [OFFSET, OFFSET+LENGTH) as\n"
		"fallocate(2) does (Linux rules and errors), and print its JSON\n"
		"object.  No mode option: allocate (and extend unless --keep-size).\n"
		"\n"
		"  -p, --punch        deallocate (FALLOC_FL_PUNCH_HOLE; implies\n"
		"                     --keep-size)\n"
		"  -c, --collapse     remove the range, shifting the rest down\n"
		"                     (FALLOC_FL_COLLAPSE_RANGE)\n"
		"  -i, --insert       insert a hole, shifting the rest up\n"
		"                     (FALLOC_FL_INSERT_RANGE)\n"
		"  -z, --zero         zero the range (FALLOC_FL_ZERO_RANGE)\n"
		"  -k, --keep-size    do not change the file size\n"
		"                     (FALLOC_FL_KEEP_SIZE)\n"
		POLICY_HELP
		"  -u, --human        sizes with units, times in ISO 8601\n"
		"  -h, --help         this text\n");
}

/* EBUSY: the pins in the way, as a JSON array on stdout. */
static void print_blockers(const struct daxlease_policy *p, unsigned flags)
{
	struct json_object *arr = json_object_new_array();
	size_t n = p->nblockers < p->max ? p->nblockers : p->max;

	if (!arr)
		return;
	for (size_t i = 0; i < n; i++)
		if (cli_json_add(arr, NULL, cli_json_blocker(&p->blockers[i],
							     flags)))
			break;
	cli_json_print(arr);
	json_object_put(arr);
}

static int open_and(const struct cli_ctx *ctx, const struct layout_args *a,
		    bool truncate)
{
	struct daxlease_blocker blockers[16];
	struct daxlease_policy pol = {
		.flags = a->policy, .deadline_ms = a->deadline_ms,
		.blockers = blockers, .max = 16,
	};
	struct daxlease_file *f;
	struct daxlease_ctx *dl;
	int rc;

	dl = cli_connect(ctx);
	if (!dl)
		return CLI_EXIT_FAIL;
	rc = daxlease_open(dl, a->path, DAXLEASE_O_WRITE, 0, &f);
	if (!rc) {
		if (truncate)
			rc = daxlease_truncate_policy(f, a->length, &pol);
		else
			rc = daxlease_fallocate_policy(f, a->mode, a->offset,
						       a->length, &pol);
		daxlease_close(f);
	}
	if (rc == -EBUSY && pol.nblockers)
		print_blockers(&pol, a->flags);
	if (rc)
		rc = cli_fail(ctx, a->path, rc);
	else
		rc = cli_print_file(ctx, dl, a->path, a->flags);
	daxlease_unref(dl);
	return rc;
}

/* --nonblock / --deadline: 0, or a usage error printed (-1). */
static int policy_opt(const struct cli_ctx *ctx, struct layout_args *a,
		      int c, const char *arg)
{
	char *end;
	unsigned long ms;

	if (c == 'n') {
		a->policy |= DAXLEASE_POLICY_NONBLOCK;
	} else {
		errno = 0;
		ms = strtoul(arg, &end, 10);
		if (errno || *end || !ms || ms > UINT32_MAX) {
			cli_usage_error(ctx, "--deadline: '%s' is not a "
					"positive number of milliseconds", arg);
			return -1;
		}
		a->policy |= DAXLEASE_POLICY_DEADLINE;
		a->deadline_ms = (unsigned)ms;
	}
	if (a->policy == (DAXLEASE_POLICY_NONBLOCK | DAXLEASE_POLICY_DEADLINE)) {
		cli_usage_error(ctx, "--nonblock and --deadline exclude each "
				"other");
		return -1;
	}
	return 0;
}

static int truncate_opts(int argc, char **argv, struct cli_ctx *ctx,
			 struct layout_args *a)
{
	static const struct option opts[] = {
		{ "nonblock", no_argument, NULL, 'n' },
		{ "deadline", required_argument, NULL, 'd' },
		{ "human", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "nd:uh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
		case 'd':
			if (policy_opt(ctx, a, c, optarg))
				return CLI_EXIT_USAGE;
			break;
		case 'u':
			a->flags |= CLI_JSON_HUMAN;
			break;
		case 'h':
			fputs(truncate_usage, stdout);
			return CLI_EXIT_OK;
		default:
			fputs(truncate_usage, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(ctx, "expected PATH SIZE");
	return -1;
}

int cmd_truncate(int argc, char **argv, struct cli_ctx *ctx)
{
	struct layout_args a = { 0 };
	int rc;

	rc = truncate_opts(argc, argv, ctx, &a);
	if (rc >= 0)
		return rc;
	a.path = argv[optind];
	if (cli_parse_bytes(ctx, "SIZE", argv[optind + 1], &a.length))
		return CLI_EXIT_USAGE;
	return open_and(ctx, &a, true);
}

static void add_mode(struct layout_args *a, int mode)
{
	a->mode |= mode;
	a->modes++;
}

/* Returns -1 to go on, or an exit status. */
static int fallocate_opts(int argc, char **argv, struct cli_ctx *ctx,
			  struct layout_args *a)
{
	static const struct option opts[] = {
		{ "nonblock", no_argument, NULL, 'n' },
		{ "deadline", required_argument, NULL, 'd' },
		{ "punch", no_argument, NULL, 'p' },
		{ "collapse", no_argument, NULL, 'c' },
		{ "insert", no_argument, NULL, 'i' },
		{ "zero", no_argument, NULL, 'z' },
		{ "keep-size", no_argument, NULL, 'k' },
		{ "human", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "pcizknd:uh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
		case 'd':
			if (policy_opt(ctx, a, c, optarg))
				return CLI_EXIT_USAGE;
			break;
		case 'p':
			add_mode(a, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
			break;
		case 'c':
			add_mode(a, FALLOC_FL_COLLAPSE_RANGE);
			break;
		case 'i':
			add_mode(a, FALLOC_FL_INSERT_RANGE);
			break;
		case 'z':
			add_mode(a, FALLOC_FL_ZERO_RANGE);
			break;
		case 'k':
			a->mode |= FALLOC_FL_KEEP_SIZE;
			break;
		case 'u':
			a->flags |= CLI_JSON_HUMAN;
			break;
		case 'h':
			fallocate_usage(stdout);
			return CLI_EXIT_OK;
		default:
			fallocate_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	return -1;
}

int cmd_fallocate(int argc, char **argv, struct cli_ctx *ctx)
{
	struct layout_args a = { 0 };
	int rc;

	rc = fallocate_opts(argc, argv, ctx, &a);
	if (rc >= 0)
		return rc;
	if (a.modes > 1)
		return cli_usage_error(ctx, "--punch, --collapse, --insert "
				       "and --zero exclude each other");
	if (argc - optind != 3)
		return cli_usage_error(ctx, "expected PATH OFFSET LENGTH");
	a.path = argv[optind];
	if (cli_parse_bytes(ctx, "OFFSET", argv[optind + 1], &a.offset) ||
	    cli_parse_bytes(ctx, "LENGTH", argv[optind + 2], &a.length))
		return CLI_EXIT_USAGE;
	return open_and(ctx, &a, false);
}
#endif

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_errors.c - badblocks of a fake NVDIMM: `daxlease inject-error`,
 * `clear-error` and `list-errors`.
 *
 * One offset convention everywhere, the one pmem/namespace.h states:
 * offsets and lengths are bytes from the namespace start (not from the
 * image file's start, and not in 512-byte sectors).  The device keeps
 * whole sectors, so an injected range is widened to sectors, and
 * list-errors shows the widened, merged ranges.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "cli.h"
#include "namespace.h"

#define OFFSET_NOTE \
	"OFFSET and LENGTH are bytes from the namespace start (byte 0 of the\n" \
	"namespace data, not of the image file): plain bytes, 4K, 2M, ...,\n" \
	"or 0x hex.  Badblocks are kept in 512-byte sectors.\n"

/* inject-error and clear-error differ only in the call and the words. */
struct range_verb {
	const char *name;
	const char *what;	/* the sentence for --help */
	int (*fn)(struct dl_ns *ns, uint64_t offset, uint64_t length,
		  struct dl_err *err);
};

struct range_args {
	const char *image;
	uint64_t offset;
	uint64_t length;
};

static void range_usage(FILE *f, const struct range_verb *v)
{
	fprintf(f,
		"usage: daxlease %s IMAGE --offset OFFSET --length LENGTH\n"
		"\n"
		"%s\n"
		"\n" OFFSET_NOTE
		"\n"
		"  -o, --offset OFFSET  first byte of the range\n"
		"  -l, --length LENGTH  bytes in the range\n"
		"  -h, --help           this text\n",
		v->name, v->what);
}

/* Returns -1 to go on, or an exit status. */
static int range_parse(int argc, char **argv, struct cli_ctx *ctx,
		       const struct range_verb *v, struct range_args *a)
{
	static const struct option opts[] = {
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_offset = false, have_length = false;
	int c;

	while ((c = getopt_long(argc, argv, "o:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (cli_parse_bytes(ctx, "--offset", optarg, &a->offset))
				return CLI_EXIT_USAGE;
			have_offset = true;
			break;
		case 'l':
			if (cli_parse_bytes(ctx, "--length", optarg, &a->length))
				return CLI_EXIT_USAGE;
			have_length = true;
			break;
		case 'h':
			range_usage(stdout, v);
			return CLI_EXIT_OK;
		default:
			range_usage(stderr, v);
			return CLI_EXIT_USAGE;
		}
	}
	if (!have_offset || !have_length)
		return cli_usage_error(ctx, "--offset and --length are required");
	if (optind != argc - 1)
		return cli_usage_error(ctx, "expected one IMAGE argument");
	a->image = argv[optind];
	return -1;
}

static int range_cmd(int argc, char **argv, struct cli_ctx *ctx,
		     const struct range_verb *v)
{
	struct range_args a = { 0 };
	struct dl_err err = { 0 };
	struct dl_ns *ns = NULL;
	int rc;

	rc = range_parse(argc, argv, ctx, v, &a);
	if (rc >= 0)
		return rc;
	rc = dl_nvdimm_open(a.image, DL_MAP_READ_WRITE, &ns, &err);
	if (rc) {
		cli_error(ctx, "cannot open %s: %s", a.image,
			  cli_err_msg(&err, rc));
		return CLI_EXIT_FAIL;
	}
	rc = v->fn(ns, a.offset, a.length, &err);
	dl_ns_close(&ns);
	if (rc) {
		cli_error(ctx, "%s: %s", a.image, cli_err_msg(&err, rc));
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

int cmd_inject_error(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct range_verb v = {
		.name = "inject-error",
		.what = "Mark a range of the fake NVDIMM IMAGE bad, as a media\n"
			"error would: reads that touch it fail with EIO until\n"
			"clear-error.  The badblock list survives reopening.",
		.fn = dl_ns_inject_error,
	};

	return range_cmd(argc, argv, ctx, &v);
}

int cmd_clear_error(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct range_verb v = {
		.name = "clear-error",
		.what = "Clear the badblocks of IMAGE inside a range.  As on real\n"
			"hardware, clearing rewrites the sectors with zeros, so\n"
			"the range must cover whole 512-byte sectors.",
		.fn = dl_ns_clear_error,
	};

	return range_cmd(argc, argv, ctx, &v);
}

static void list_errors_usage(FILE *f)
{
	fprintf(f,
		"usage: daxlease list-errors [-u] IMAGE\n"
		"\n"
		"Print the badblocks of the fake NVDIMM IMAGE as a JSON array of\n"
		"{\"offset\", \"length\"} objects, sorted and merged ([] if none).\n"
		"\n" OFFSET_NOTE
		"\n"
		"  -u, --human        lengths with units, offsets in hex\n"
		"  -h, --help         this text\n");
}

/* Returns -1 to go on, or an exit status. */
static int list_errors_parse(int argc, char **argv, struct cli_ctx *ctx,
			     const char **image, unsigned *flags)
{
	static const struct option opts[] = {
		{ "human", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "uh", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			*flags |= CLI_JSON_HUMAN;
			break;
		case 'h':
			list_errors_usage(stdout);
			return CLI_EXIT_OK;
		default:
			list_errors_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(ctx, "expected one IMAGE argument");
	*image = argv[optind];
	return -1;
}

/*
 * The badblocks of ns, malloc'ed.  The table on media is bounded, but ask
 * for the count first rather than build that bound into the CLI.
 */
static int get_errors(const struct dl_ns *ns, struct dl_badblock **out,
		      size_t *count)
{
	struct dl_badblock unused;
	size_t n = 0;
	int rc;

	rc = dl_ns_list_errors(ns, &unused, 0, &n);
	if (rc)
		return rc;
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	rc = dl_ns_list_errors(ns, *out, n, count);
	if (!rc && *count > n)
		*count = n;	/* no writer can add any: we hold the shared lock */
	return rc;
}

static struct json_object *errors_json(const struct dl_badblock *bb,
				       size_t count, unsigned flags)
{
	struct json_object *jarray = json_object_new_array();
	struct json_object *jbb;
	size_t i;

	if (!jarray)
		return NULL;
	for (i = 0; i < count; i++) {
		jbb = json_object_new_object();
		if (cli_json_add(jarray, NULL, jbb) ||
		    cli_json_add(jbb, "offset",
				 cli_json_offset(bb[i].offset, flags)) ||
		    cli_json_add(jbb, "length",
				 cli_json_size(bb[i].length, flags)))
			goto err;
	}
	return jarray;
err:
	json_object_put(jarray);
	return NULL;
}

int cmd_list_errors(int argc, char **argv, struct cli_ctx *ctx)
{
	struct dl_badblock *bb = NULL;
	struct json_object *jarray;
	struct dl_err err = { 0 };
	struct dl_ns *ns = NULL;
	const char *image = NULL;
	unsigned flags = 0;
	size_t count = 0;
	int rc;

	rc = list_errors_parse(argc, argv, ctx, &image, &flags);
	if (rc >= 0)
		return rc;
	rc = dl_nvdimm_open(image, DL_MAP_READ_ONLY, &ns, &err);
	if (rc) {
		cli_error(ctx, "cannot open %s: %s", image,
			  cli_err_msg(&err, rc));
		return CLI_EXIT_FAIL;
	}
	rc = get_errors(ns, &bb, &count);
	dl_ns_close(&ns);
	if (rc) {
		cli_error(ctx, "%s: cannot list badblocks: %s", image,
			  cli_err_msg(NULL, rc));
		free(bb);
		return CLI_EXIT_FAIL;
	}
	jarray = errors_json(bb, count, flags);
	free(bb);
	rc = jarray ? cli_json_print(jarray) : -ENOMEM;
	json_object_put(jarray);
	if (rc) {
		cli_error(ctx, "cannot print the badblock list");
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

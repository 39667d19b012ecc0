/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_namespace.c - `daxlease create-namespace`: make a fake NVDIMM image
 * and put an empty filesystem on it, then print the namespace as JSON
 * (as `ndctl create-namespace` prints the namespace it made).
 *
 * The rules on size, align and name live in pmem/ (dl_ns_params_check);
 * this file only parses and reports, so the CLI and the library can never
 * disagree about what a valid namespace is.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "fs.h"
#include "namespace.h"

struct create_args {
	struct dl_ns_params params;
	uint8_t uuid[16];
	const char *image;
	bool no_format;
	unsigned flags;
};

static void create_usage(FILE *f)
{
	fprintf(f,
		"usage: daxlease create-namespace --size SIZE [--align ALIGN]\n"
		"                [--name NAME] [--uuid UUID] [--no-format] [-u] IMAGE\n"
		"\n"
		"Create IMAGE, a sparse file that behaves like an NVDIMM namespace\n"
		"of SIZE bytes, format the daxlease filesystem on it, and print\n"
		"the namespace as JSON.  IMAGE must not exist.\n"
		"\n"
		"  -s, --size SIZE    namespace size: bytes or 4K, 2M, 1G, 1T ...;\n"
		"                     a multiple of ALIGN\n"
		"  -a, --align ALIGN  4K, 2M or 1G: the largest page a mapping may\n"
		"                     use, as device-dax's align (default 2M)\n"
		"  -n, --name NAME    namespace name (fewer than 64 bytes)\n"
		"      --uuid UUID    namespace uuid (default: random)\n"
		"      --no-format    create the image only, no filesystem\n"
		"  -u, --human        sizes with units, offsets in hex\n"
		"  -h, --help         this text\n");
}

/* Returns -1 to go on, or an exit status. */
static int create_parse(int argc, char **argv, struct cli_ctx *ctx,
			struct create_args *a)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "align", required_argument, NULL, 'a' },
		{ "name", required_argument, NULL, 'n' },
		{ "uuid", required_argument, NULL, 'U' },
		{ "no-format", no_argument, NULL, 'N' },
		{ "human", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_size = false;
	int c;

	while ((c = getopt_long(argc, argv, "s:a:n:uh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (cli_parse_bytes(ctx, "--size", optarg,
					    &a->params.size))
				return CLI_EXIT_USAGE;
			have_size = true;
			break;
		case 'a':
			if (cli_parse_bytes(ctx, "--align", optarg,
					    &a->params.align))
				return CLI_EXIT_USAGE;
			break;
		case 'n':
			a->params.name = optarg;
			break;
		case 'U':
			if (cli_parse_uuid(optarg, a->uuid))
				return cli_usage_error(ctx, "--uuid '%s' is not "
					"a uuid (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
					optarg);
			a->params.uuid = a->uuid;
			break;
		case 'N':
			a->no_format = true;
			break;
		case 'u':
			a->flags |= CLI_JSON_HUMAN;
			break;
		case 'h':
			create_usage(stdout);
			return CLI_EXIT_OK;
		default:
			create_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (!have_size)
		return cli_usage_error(ctx, "--size is required");
	if (optind != argc - 1)
		return cli_usage_error(ctx, "expected one IMAGE argument");
	a->image = argv[optind];
	return -1;
}

/* Format the new image and print it; the caller removes it on failure. */
static int format_and_print(struct cli_ctx *ctx, const struct create_args *a)
{
	struct dl_mkfs_params mkfs = { 0 };
	struct json_object *jns = NULL;
	struct dl_err err = { 0 };
	struct dl_ns *ns = NULL;
	int rc;

	rc = dl_nvdimm_open(a->image, DL_MAP_READ_WRITE, &ns, &err);
	if (rc) {
		cli_error(ctx, "%s: %s", a->image, cli_err_msg(&err, rc));
		return CLI_EXIT_FAIL;
	}
	if (!a->no_format) {
		rc = dl_fs_format(ns, &mkfs, &err);
		if (rc) {
			cli_error(ctx, "%s: format: %s", a->image,
				  cli_err_msg(&err, rc));
			goto out;
		}
	}
	jns = cli_json_ns(ns, a->flags);
	if (!jns) {
		cli_error(ctx, "%s: cannot build its description", a->image);
		rc = -1;
		goto out;
	}
	rc = cli_json_print(jns);
out:
	json_object_put(jns);
	dl_ns_close(&ns);
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cmd_create_namespace(int argc, char **argv, struct cli_ctx *ctx)
{
	struct create_args a = { 0 };
	struct dl_err err = { 0 };
	int rc;

	rc = create_parse(argc, argv, ctx, &a);
	if (rc >= 0)
		return rc;

	rc = dl_nvdimm_create(a.image, &a.params, &err);
	if (rc) {
		cli_error(ctx, "%s: %s", a.image, cli_err_msg(&err, rc));
		return CLI_EXIT_FAIL;
	}
	rc = format_and_print(ctx, &a);
	/* A half-made image would make the retry fail with "exists". */
	if (rc != CLI_EXIT_OK && unlink(a.image) == 0)
		fprintf(stderr, "%s: removed %s\n", ctx->prog, a.image);
	return rc;
}

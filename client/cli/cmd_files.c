/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_files.c - `daxlease status`, `ls`, `stat`, `rm`, `mv`: the verbs
 * that ask daxleased about its files (or itself) and rename or remove
 * them.
 */
#ifdef DAXLEASE_HAVE_CLIENT
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include <json-c/json.h>

#include <daxlease/libdaxlease.h>

#include "cli.h"

static const char status_usage[] =
	"usage: daxlease [--socket PATH] status [-u]\n"
	"\n"
	"Print daxleased's state as a JSON object: its version, pid,\n"
	"uptime, connected clients and the namespace it serves.\n"
	"\n"
	"  -u, --human        sizes with units, uptime in seconds\n"
	"  -h, --help         this text\n";

static const char ls_usage[] =
	"usage: daxlease [--socket PATH] ls [-u]\n"
	"\n"
	"Print a JSON array of every file daxleased holds (always an\n"
	"array: [] when there are none).\n"
	"\n"
	"  -u, --human        sizes with units, times in ISO 8601\n"
	"  -h, --help         this text\n";

static const char stat_usage[] =
	"usage: daxlease [--socket PATH] stat [-u] PATH\n"
	"\n"
	"Print the JSON object of file PATH.\n"
	"\n"
	"  -u, --human        sizes with units, times in ISO 8601\n"
	"  -h, --help         this text\n";

static const char rm_usage[] =
	"usage: daxlease [--socket PATH] rm PATH\n"
	"\n"
	"Remove file PATH.  Its blocks are freed once no client holds it\n"
	"open or mapped.\n"
	"\n"
	"  -h, --help         this text\n";

static void mv_usage(FILE *f)
{
	fprintf(f,
		"usage: daxlease [--socket PATH] mv [--no-replace] [-u] A B\n"
		"\n"
		"Rename file A to B, replacing B if it exists, and print B's\n"
		"JSON object.\n"
		"\n"
		"  -n, --no-replace   fail (EEXIST) if B exists\n"
		"  -u, --human        sizes with units, times in ISO 8601\n"
		"  -h, --help         this text\n");
}

int cmd_status(int argc, char **argv, struct cli_ctx *ctx)
{
	struct daxlease_status st;
	struct daxlease_info info;
	struct daxlease_ctx *dl;
	struct json_object *js;
	unsigned flags = 0;
	int rc;

	rc = cli_parse_simple(argc, argv, ctx, status_usage, 0, &flags);
	if (rc >= 0)
		return rc;
	dl = cli_connect(ctx);
	if (!dl)
		return CLI_EXIT_FAIL;
	daxlease_get_info(dl, &info);
	rc = daxlease_status(dl, &st);
	daxlease_unref(dl);
	if (rc)
		return cli_fail(ctx, ctx->socket_path, rc);
	js = cli_json_status(&st, info.server_flags, flags);
	if (!js)
		return cli_fail(ctx, "status", -ENOMEM);
	rc = cli_json_print(js);
	json_object_put(js);
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cmd_ls(int argc, char **argv, struct cli_ctx *ctx)
{
	unsigned flags = 0;
	int rc;

	rc = cli_parse_simple(argc, argv, ctx, ls_usage, 0, &flags);
	if (rc >= 0)
		return rc;
	return cli_print_files(ctx, flags);
}

int cmd_stat(int argc, char **argv, struct cli_ctx *ctx)
{
	struct daxlease_ctx *dl;
	unsigned flags = 0;
	int rc;

	rc = cli_parse_simple(argc, argv, ctx, stat_usage, 1, &flags);
	if (rc >= 0)
		return rc;
	dl = cli_connect(ctx);
	if (!dl)
		return CLI_EXIT_FAIL;
	rc = cli_print_file(ctx, dl, argv[optind], flags);
	daxlease_unref(dl);
	return rc;
}

int cmd_rm(int argc, char **argv, struct cli_ctx *ctx)
{
	struct daxlease_ctx *dl;
	unsigned flags = 0;
	int rc;

	rc = cli_parse_simple(argc, argv, ctx, rm_usage, 1, &flags);
	if (rc >= 0)
		return rc;
	dl = cli_connect(ctx);
	if (!dl)
		return CLI_EXIT_FAIL;
	rc = daxlease_unlink(dl, argv[optind]);
	daxlease_unref(dl);
	return rc ? cli_fail(ctx, argv[optind], rc) : CLI_EXIT_OK;
}

/* Returns -1 to go on, or an exit status. */
static int mv_parse(int argc, char **argv, struct cli_ctx *ctx,
		    unsigned *rflags, unsigned *flags)
{
	static const struct option opts[] = {
		{ "no-replace", no_argument, NULL, 'n' },
		{ "human", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "nuh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			*rflags |= DAXLEASE_RENAME_NOREPLACE;
			break;
		case 'u':
			*flags |= CLI_JSON_HUMAN;
			break;
		case 'h':
			mv_usage(stdout);
			return CLI_EXIT_OK;
		default:
			mv_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(ctx, "expected A and B");
	return -1;
}

int cmd_mv(int argc, char **argv, struct cli_ctx *ctx)
{
	unsigned rflags = 0, flags = 0;
	struct daxlease_ctx *dl;
	const char *from, *to;
	int rc;

	rc = mv_parse(argc, argv, ctx, &rflags, &flags);
	if (rc >= 0)
		return rc;
	from = argv[optind];
	to = argv[optind + 1];
	dl = cli_connect(ctx);
	if (!dl)
		return CLI_EXIT_FAIL;
	rc = daxlease_rename(dl, from, to, rflags);
	if (rc)
		rc = cli_fail(ctx, from, rc);
	else
		rc = cli_print_file(ctx, dl, to, flags);
	daxlease_unref(dl);
	return rc;
}
#endif

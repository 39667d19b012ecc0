/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * daemon.c - what the verbs that talk to daxleased share: the connection,
 * their error messages, their common options, the file list.
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

/* Files fetched per LIST request. */
#define CLI_LIST_PAGE 128

struct daxlease_ctx *cli_connect(const struct cli_ctx *ctx)
{
	struct daxlease_ctx *dl;
	int rc;

	rc = daxlease_new(&dl, ctx->socket_path);
	if (rc) {
		fprintf(stderr, "daxlease: cannot reach daxleased at %s: %s "
			"(is it running? --socket/DAXLEASE_SOCKET)\n",
			ctx->socket_path, strerror(-rc));
		return NULL;
	}
	return dl;
}

int cli_fail(const struct cli_ctx *ctx, const char *what, int rc)
{
	cli_error(ctx, "%s: %s", what, strerror(rc < 0 ? -rc : rc));
	return CLI_EXIT_FAIL;
}

int cli_parse_simple(int argc, char **argv, const struct cli_ctx *ctx,
		     const char *usage, int nargs, unsigned *flags)
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
			fputs(usage, stdout);
			return CLI_EXIT_OK;
		default:
			fputs(usage, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != nargs)
		return cli_usage_error(ctx, "expected %d argument%s, got %d",
				       nargs, nargs == 1 ? "" : "s",
				       argc - optind);
	return -1;
}

/* Append one page of files to jarray; the next cursor in *cursor. */
static int add_page(struct daxlease_ctx *dl, struct json_object *jarray,
		    uint64_t *cursor, struct daxlease_stat *page,
		    unsigned flags)
{
	int i, n;

	n = daxlease_list(dl, cursor, page, CLI_LIST_PAGE);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++)
		if (cli_json_add(jarray, NULL, cli_json_file(&page[i], flags)))
			return -ENOMEM;
	return 0;
}

static int list_files(const struct cli_ctx *ctx, struct daxlease_ctx *dl,
		      unsigned flags)
{
	struct json_object *jarray = json_object_new_array();
	struct daxlease_stat *page = calloc(CLI_LIST_PAGE, sizeof(*page));
	uint64_t cursor = 0;
	int rc = -ENOMEM;

	if (!jarray || !page)
		goto out;
	do
		rc = add_page(dl, jarray, &cursor, page, flags);
	while (!rc && cursor);
	if (!rc && cli_json_print(jarray))
		rc = -EIO;
out:
	free(page);
	json_object_put(jarray);
	return rc ? cli_fail(ctx, "cannot list files", rc) : CLI_EXIT_OK;
}

int cli_print_files(const struct cli_ctx *ctx, unsigned flags)
{
	struct daxlease_ctx *dl = cli_connect(ctx);
	int rc;

	if (!dl)
		return CLI_EXIT_FAIL;
	rc = list_files(ctx, dl, flags);
	daxlease_unref(dl);
	return rc;
}

int cli_print_file(const struct cli_ctx *ctx, struct daxlease_ctx *dl,
		   const char *name, unsigned flags)
{
	struct daxlease_stat st;
	struct json_object *jf;
	int rc;

	rc = daxlease_stat(dl, name, &st);
	if (rc)
		return cli_fail(ctx, name, rc);
	jf = cli_json_file(&st, flags);
	if (!jf)
		return cli_fail(ctx, name, -ENOMEM);
	rc = cli_json_print(jf);
	json_object_put(jf);
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
#endif

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_list.c - `daxlease list` and `daxlease info`.
 *
 * list prints one JSON array: every namespace libndctl finds, every
 * device-dax device libdaxctl finds, then each --image.  A machine with no
 * NVDIMM prints [] - never nothing, never a bare object - so a script can
 * always iterate.  info IMAGE... prints only the images.
 *
 * A source that fails (an image that does not open, a library context that
 * cannot be made) is reported on stderr and makes the exit status 1, but
 * the array still holds everything else: one bad image must not hide the
 * others.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "cli.h"
#include "real_ns.h"

struct list_args {
	const char **images;
	int nimages;
	bool files;
	unsigned flags;
};

static void list_usage(FILE *f)
{
	fprintf(f,
		"usage: daxlease list [--image IMAGE]... [-u]\n"
		"       daxlease [--socket PATH] list --files [-u]\n"
		"\n"
		"Print a JSON array of the persistent-memory namespaces and\n"
		"device-dax devices on this machine, and of each fake NVDIMM\n"
		"IMAGE (opened read-only).  No NVDIMM and no --image: [].\n"
		"With --files, the array of daxleased's files instead (as ls).\n"
		"\n"
		"  -i, --image IMAGE  also describe this image (repeatable)\n"
		"  -f, --files        list the files of the running daxleased\n"
		"  -u, --human        sizes with units, offsets in hex\n"
		"  -h, --help         this text\n");
}

static void info_usage(FILE *f)
{
	fprintf(f,
		"usage: daxlease info [-u] IMAGE...\n"
		"\n"
		"Print a JSON array describing each fake NVDIMM IMAGE (opened\n"
		"read-only): daxlease list --image IMAGE, without the real\n"
		"namespaces.\n"
		"\n"
		"  -u, --human        sizes with units, offsets in hex\n"
		"  -h, --help         this text\n");
}

/* Returns -1 to go on, or an exit status.  a->images is malloc'ed. */
static int list_parse(int argc, char **argv, struct cli_ctx *ctx,
		      struct list_args *a)
{
	static const struct option opts[] = {
		{ "image", required_argument, NULL, 'i' },
		{ "files", no_argument, NULL, 'f' },
		{ "human", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* at most one --image per argument */
	a->images = calloc((size_t)argc, sizeof(*a->images));
	if (!a->images) {
		cli_error(ctx, "out of memory");
		return CLI_EXIT_FAIL;
	}
	while ((c = getopt_long(argc, argv, "i:fuh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			a->images[a->nimages++] = optarg;
			break;
		case 'f':
			a->files = true;
			break;
		case 'u':
			a->flags |= CLI_JSON_HUMAN;
			break;
		case 'h':
			list_usage(stdout);
			return CLI_EXIT_OK;
		default:
			list_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_usage_error(ctx, "unexpected argument '%s' "
				       "(images go after --image)", argv[optind]);
	if (a->files && a->nimages)
		return cli_usage_error(ctx, "--files and --image exclude "
				       "each other");
	return -1;
}

/* Append each libndctl namespace to jarray; 0, -ENOMEM, or 1 (reported). */
static int add_real_namespaces(const struct cli_ctx *ctx,
			       struct json_object *jarray, unsigned flags)
{
	struct dl_real_ns *list = NULL;
	struct dl_err err = { 0 };
	size_t i, count = 0;
	int rc;

	rc = dl_real_ns_list(&list, &count, &err);
	if (rc) {
		cli_error(ctx, "cannot list namespaces: %s",
			  cli_err_msg(&err, rc));
		return 1;
	}
	for (i = 0; i < count && !rc; i++)
		rc = cli_json_add(jarray, NULL, cli_json_real_ns(&list[i], flags));
	free(list);
	return rc;
}

/* Append each libdaxctl device to jarray; 0, -ENOMEM, or 1 (reported). */
static int add_real_dax(const struct cli_ctx *ctx, struct json_object *jarray,
			unsigned flags)
{
	struct dl_real_dax *list = NULL;
	struct dl_err err = { 0 };
	size_t i, count = 0;
	int rc;

	rc = dl_real_dax_list(&list, &count, &err);
	if (rc) {
		cli_error(ctx, "cannot list dax devices: %s",
			  cli_err_msg(&err, rc));
		return 1;
	}
	for (i = 0; i < count && !rc; i++)
		rc = cli_json_add(jarray, NULL, cli_json_real_dax(&list[i], flags));
	free(list);
	return rc;
}

/* Append each image; an image that does not open is reported and skipped. */
static int add_images(const struct cli_ctx *ctx, struct json_object *jarray,
		      const char *const *images, int nimages, unsigned flags)
{
	struct json_object *jns;
	int i, failed = 0;

	for (i = 0; i < nimages; i++) {
		jns = cli_json_image(ctx, images[i], flags);
		if (!jns) {
			failed = 1;
			continue;
		}
		if (cli_json_add(jarray, NULL, jns))
			return -ENOMEM;
	}
	return failed;
}

/*
 * Gather and print.  Each step returns 0, 1 (reported, go on) or -ENOMEM
 * (give up); the exit status is 1 if any step was not 0.
 */
static int list_print(const struct cli_ctx *ctx, const struct list_args *a,
		      bool real)
{
	struct json_object *jarray = json_object_new_array();
	int rc, failed = 0;

	if (!jarray)
		goto nomem;
	if (real) {
		rc = add_real_namespaces(ctx, jarray, a->flags);
		if (rc < 0)
			goto nomem;
		failed |= rc;
		rc = add_real_dax(ctx, jarray, a->flags);
		if (rc < 0)
			goto nomem;
		failed |= rc;
	}
	rc = add_images(ctx, jarray, a->images, a->nimages, a->flags);
	if (rc < 0)
		goto nomem;
	failed |= rc;
	if (cli_json_print(jarray))
		failed = 1;
	json_object_put(jarray);
	return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
nomem:
	json_object_put(jarray);
	cli_error(ctx, "out of memory");
	return CLI_EXIT_FAIL;
}

/* --files: what `ls` prints, when the tool was built with libdaxlease. */
static int list_files(const struct cli_ctx *ctx, unsigned flags)
{
#ifdef DAXLEASE_HAVE_CLIENT
	return cli_print_files(ctx, flags);
#else
	(void)flags;
	cli_error(ctx, "--files needs libdaxlease, which this build lacks");
	return CLI_EXIT_FAIL;
#endif
}

int cmd_list(int argc, char **argv, struct cli_ctx *ctx)
{
	struct list_args a = { 0 };
	int rc;

	rc = list_parse(argc, argv, ctx, &a);
	if (rc < 0 && a.files)
		rc = list_files(ctx, a.flags);
	if (rc < 0)
		rc = list_print(ctx, &a, true);
	free(a.images);
	return rc;
}

/* Returns -1 to go on, or an exit status. */
static int info_parse(int argc, char **argv, struct cli_ctx *ctx,
		      struct list_args *a)
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
			a->flags |= CLI_JSON_HUMAN;
			break;
		case 'h':
			info_usage(stdout);
			return CLI_EXIT_OK;
		default:
			info_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind == argc)
		return cli_usage_error(ctx, "expected at least one IMAGE");
	a->images = (const char **)&argv[optind];
	a->nimages = argc - optind;
	return -1;
}

int cmd_info(int argc, char **argv, struct cli_ctx *ctx)
{
	struct list_args a = { 0 };
	int rc;

	rc = info_parse(argc, argv, ctx, &a);
	if (rc < 0)
		rc = list_print(ctx, &a, false);
	return rc;
}

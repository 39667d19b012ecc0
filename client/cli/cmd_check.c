/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_check.c - `daxlease check-namespace`: run the filesystem checker on
 * an image and print its report as JSON.
 *
 * Three outcomes, kept apart because a script acts differently on each:
 * the image is clean (exit 0), the check ran and found problems (exit 1,
 * status "problems", the report on stdout), or the image could not be
 * opened or read at all (exit 1, a message on stderr and no report).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "cli.h"
#include "fs.h"
#include "namespace.h"

struct check_args {
	const char *image;
	bool read_only;
};

static void check_usage(FILE *f)
{
	fprintf(f,
		"usage: daxlease check-namespace [--read-only] IMAGE\n"
		"\n"
		"Verify the filesystem on IMAGE (superblock, journal, inodes,\n"
		"extent maps, free-space bitmap, detached blocks) and print the\n"
		"report as JSON.  Exit 0 if clean, 1 if problems were found or\n"
		"IMAGE could not be checked.  The image's health (clean or\n"
		"not, unsafe-shutdown count) is left as it was.\n"
		"\n"
		"  -r, --read-only    open IMAGE read-only: a committed journal\n"
		"                     transaction is reported as pending, not\n"
		"                     replayed, and the image is left untouched\n"
		"  -h, --help         this text\n");
}

/* Returns -1 to go on, or an exit status. */
static int check_parse(int argc, char **argv, struct cli_ctx *ctx,
		       struct check_args *a)
{
	static const struct option opts[] = {
		{ "read-only", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "rh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			a->read_only = true;
			break;
		case 'h':
			check_usage(stdout);
			return CLI_EXIT_OK;
		default:
			check_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(ctx, "expected one IMAGE argument");
	a->image = argv[optind];
	return -1;
}

static struct json_object *problems_json(const struct dl_check_report *rep)
{
	struct json_object *jarray = json_object_new_array();
	struct json_object *jp;
	size_t i, n = rep->nproblems;

	if (!jarray)
		return NULL;
	if (n > DL_CHECK_MAX_PROBLEMS)
		n = DL_CHECK_MAX_PROBLEMS;
	for (i = 0; i < n; i++) {
		jp = json_object_new_object();
		if (cli_json_add(jarray, NULL, jp) ||
		    cli_json_add(jp, "kind",
				 cli_json_string(rep->problems[i].kind)) ||
		    cli_json_add(jp, "detail",
				 cli_json_string(rep->problems[i].detail)))
			goto err;
	}
	return jarray;
err:
	json_object_put(jarray);
	return NULL;
}

static struct json_object *blocks_json(const struct dl_check_report *rep)
{
	struct json_object *jb = json_object_new_object();

	if (!jb)
		return NULL;
	if (cli_json_add(jb, "total", cli_json_count(rep->blocks_total)) ||
	    cli_json_add(jb, "free", cli_json_count(rep->blocks_free)) ||
	    cli_json_add(jb, "file", cli_json_count(rep->blocks_file)) ||
	    cli_json_add(jb, "extent_maps",
			 cli_json_count(rep->blocks_extent_maps)) ||
	    cli_json_add(jb, "detached", cli_json_count(rep->blocks_detached)) ||
	    cli_json_add(jb, "metadata", cli_json_count(rep->blocks_metadata)))
		goto err;
	return jb;
err:
	json_object_put(jb);
	return NULL;
}

static struct json_object *journal_json(const struct dl_check_report *rep)
{
	struct json_object *jj = json_object_new_object();

	if (!jj)
		return NULL;
	if (cli_json_add(jj, "state", cli_json_string(rep->journal_state)) ||
	    cli_json_add(jj, "seq", cli_json_count(rep->journal_seq)))
		goto err;
	return jj;
err:
	json_object_put(jj);
	return NULL;
}

/*
 * problem_count is the checker's total: the problems array holds at most
 * DL_CHECK_MAX_PROBLEMS of them, and a reader must be able to tell.
 */
static struct json_object *report_json(const char *image,
				       const struct dl_check_report *rep)
{
	struct json_object *jrep = json_object_new_object();
	const char *status = rep->nproblems ? "problems" : "clean";

	if (!jrep)
		return NULL;
	if (cli_json_add(jrep, "image", cli_json_string(image)) ||
	    cli_json_add(jrep, "status", cli_json_string(status)) ||
	    cli_json_add(jrep, "problem_count", cli_json_count(rep->nproblems)) ||
	    cli_json_add(jrep, "problems", problems_json(rep)) ||
	    cli_json_add(jrep, "files", cli_json_count(rep->files)) ||
	    cli_json_add(jrep, "extents", cli_json_count(rep->extents)) ||
	    cli_json_add(jrep, "blocks", blocks_json(rep)) ||
	    cli_json_add(jrep, "journal", journal_json(rep)) ||
	    /* ranges of processes a restarted daxleased must not reuse */
	    cli_json_add(jrep, "pin_records",
			 cli_json_count(rep->pin_records)))
		goto err;
	return jrep;
err:
	json_object_put(jrep);
	return NULL;
}

/* Open, check, close; fills rep.  Returns 0 or an exit status (reported). */
static int run_check(const struct cli_ctx *ctx, const struct check_args *a,
		     struct dl_check_report *rep)
{
	enum dl_map_mode mode = a->read_only ? DL_MAP_READ_ONLY :
					       DL_MAP_READ_WRITE;
	struct dl_err err = { 0 };
	struct dl_ns *ns = NULL;
	int rc;

	/* a check must not count or clear an unsafe shutdown (namespace.h) */
	rc = dl_nvdimm_open_for_check(a->image, mode, &ns, &err);
	if (rc) {
		cli_error(ctx, "cannot open %s: %s", a->image,
			  cli_err_msg(&err, rc));
		return CLI_EXIT_FAIL;
	}
	rc = dl_fs_check(ns, rep, &err);
	dl_ns_close(&ns);
	if (rc) {
		cli_error(ctx, "cannot check %s: %s", a->image,
			  cli_err_msg(&err, rc));
		return CLI_EXIT_FAIL;
	}
	return 0;
}

int cmd_check_namespace(int argc, char **argv, struct cli_ctx *ctx)
{
	struct check_args a = { 0 };
	struct dl_check_report *rep;
	struct json_object *jrep;
	int rc;

	rc = check_parse(argc, argv, ctx, &a);
	if (rc >= 0)
		return rc;
	/* a few KiB of problem text: keep it off the stack */
	rep = calloc(1, sizeof(*rep));
	if (!rep) {
		cli_error(ctx, "out of memory");
		return CLI_EXIT_FAIL;
	}
	rc = run_check(ctx, &a, rep);
	if (rc)
		goto out;
	jrep = report_json(a.image, rep);
	if (!jrep || cli_json_print(jrep)) {
		cli_error(ctx, "cannot print the report");
		rc = CLI_EXIT_FAIL;
	} else {
		rc = rep->nproblems ? CLI_EXIT_FAIL : CLI_EXIT_OK;
	}
	json_object_put(jrep);
out:
	free(rep);
	return rc;
}

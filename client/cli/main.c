/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c - `daxlease [GLOBAL OPTIONS] VERB [ARGS]`: global options, then
 * dispatch to the verb from a table, as git and ndctl do.
 *
 * The offline verbs call pmem/ directly; the verbs that talk to daxleased
 * (through libdaxlease, when it is built) use the socket of --socket,
 * DAXLEASE_SOCKET or the library's default.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef DAXLEASE_HAVE_CLIENT
#include <daxlease/libdaxlease.h>
#endif

#include "cli.h"

static const struct cli_cmd commands[] = {
	{ "create-namespace", cmd_create_namespace,
	  "create a fake NVDIMM image and format it" },
	{ "list", cmd_list,
	  "list real namespaces, dax devices and fake NVDIMM images" },
	{ "info", cmd_info, "describe fake NVDIMM images (list --image)" },
	{ "check-namespace", cmd_check_namespace,
	  "verify the filesystem on an image" },
	{ "inject-error", cmd_inject_error, "mark a range of an image bad" },
	{ "clear-error", cmd_clear_error, "clear badblocks in a range" },
	{ "list-errors", cmd_list_errors, "list the badblocks of an image" },
#ifdef DAXLEASE_HAVE_CLIENT
	{ "status", cmd_status, "daxleased's version, uptime, clients, namespace" },
	{ "ls", cmd_ls, "list daxleased's files (list --files)" },
	{ "stat", cmd_stat, "describe one file" },
	{ "put", cmd_put, "copy a local file in" },
	{ "get", cmd_get, "copy a file out" },
	{ "truncate", cmd_truncate, "set a file's size" },
	{ "fallocate", cmd_fallocate,
	  "allocate, punch, collapse, insert or zero a range" },
	{ "pin", cmd_pin, "pin a file range (and hold it)" },
	{ "busy", cmd_busy, "pinned ranges and who holds them (admin)" },
	{ "blocked", cmd_blocked, "layout changes waiting, and on what (admin)" },
	{ "quarantine", cmd_quarantine,
	  "detached blocks pins still hold (admin, --detach)" },
	{ "dirty", cmd_dirty, "ranges written through write pins (admin)" },
	{ "leases", cmd_leases,
	  "layout leases: holders, state, deadline (admin)" },
	{ "rm", cmd_rm, "remove a file" },
	{ "mv", cmd_mv, "rename a file" },
#endif
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char *default_socket(void)
{
#ifdef DAXLEASE_HAVE_CLIENT
	return daxlease_default_socket();
#else
	const char *env = getenv("DAXLEASE_SOCKET");

	return env && *env ? env : CLI_DEFAULT_SOCKET;
#endif
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: daxlease [--socket PATH] VERB [ARGS]\n"
		"       daxlease help [VERB]\n"
		"       daxlease --version\n"
		"\n"
		"  -S, --socket PATH  daxleased socket (env DAXLEASE_SOCKET;\n"
		"                     default %s)\n"
		"  -h, --help         this text\n"
		"  -V, --version      print the version\n"
		"\n"
		"Run 'daxlease help' for the verbs, 'daxlease VERB --help' for\n"
		"a verb's options.  See daxlease(1).\n",
		default_socket());
}

static void list_verbs(void)
{
	size_t i;

	printf("usage: daxlease [--socket PATH] VERB [ARGS]\n\nverbs:\n");
	for (i = 0; i < NCOMMANDS; i++)
		printf("  %-18s %s\n", commands[i].name, commands[i].help);
	printf("\nRun 'daxlease VERB --help' for a verb's options.\n");
}

static const struct cli_cmd *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/*
 * Run a verb.  argv[0] is replaced by "daxlease VERB" so that getopt's own
 * messages ("unrecognized option") name the verb, like ours do.
 */
static int run_command(const struct cli_cmd *cmd, int argc, char **argv,
		       struct cli_ctx *ctx)
{
	static char prog[64];

	snprintf(prog, sizeof(prog), "daxlease %s", cmd->name);
	ctx->prog = prog;
	argv[0] = prog;
	optind = 0;	/* glibc: reinitialise getopt for the verb's options */
	return cmd->fn(argc, argv, ctx);
}

/* `daxlease help [VERB]`: the verb list, or the verb's own --help. */
static int cmd_help(int argc, char **argv, struct cli_ctx *ctx)
{
	const struct cli_cmd *cmd;
	char *help_argv[] = { NULL, "--help", NULL };

	if (argc < 2) {
		list_verbs();
		return CLI_EXIT_OK;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		fprintf(stderr, "daxlease: '%s' is not a daxlease verb; "
			"see 'daxlease help'\n", argv[1]);
		return CLI_EXIT_USAGE;
	}
	return run_command(cmd, 2, help_argv, ctx);
}

/*
 * Parse the options before the verb.  '+' stops at the first non-option
 * (the verb), so verb options are left for the verb.  Returns -1 to go on,
 * or an exit status.
 */
static int parse_global(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+S:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			ctx->socket_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		case 'V':
			printf("daxlease %s\n", DAXLEASE_VERSION_STRING);
			return CLI_EXIT_OK;
		default:
			usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	return -1;
}

/*
 * Everything a verb prints goes to stdout; a write error (a full disk, a
 * closed pipe) shows only when the buffer is flushed, so check it here
 * rather than let a truncated JSON document exit 0.
 */
static int close_stdout(int rc)
{
	if (fflush(stdout) || ferror(stdout)) {
		perror("daxlease: write error on standard output");
		return rc ? rc : CLI_EXIT_FAIL;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = { .prog = "daxlease" };
	const struct cli_cmd *cmd;
	int rc;

	ctx.socket_path = default_socket();

	rc = parse_global(argc, argv, &ctx);
	if (rc >= 0)
		return close_stdout(rc);
	argc -= optind;
	argv += optind;

	if (argc < 1) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[0], "help"))
		return close_stdout(cmd_help(argc, argv, &ctx));

	cmd = find_command(argv[0]);
	if (!cmd) {
		fprintf(stderr, "daxlease: '%s' is not a daxlease verb; "
			"see 'daxlease help'\n", argv[0]);
		return CLI_EXIT_USAGE;
	}
	return close_stdout(run_command(cmd, argc, argv, &ctx));
}

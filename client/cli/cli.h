/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli.h - what the files of the `daxlease` command-line tool share.
 *
 * main.c parses the global options and dispatches to one cmd_* function
 * per verb (git's and ndctl's shape).  Each verb parses its own options
 * with getopt_long, prints JSON on stdout through json_out.c, and reports
 * errors on stderr as "daxlease VERB: what went wrong".
 *
 * Exit status, the same for every verb:
 *   0  success (for check-namespace: the filesystem is clean)
 *   1  failure, or problems found
 *   2  usage error (unknown verb or option, missing or malformed argument)
 */
#ifndef DAXLEASE_CLI_H
#define DAXLEASE_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct dl_err;
struct dl_ns;
struct dl_real_dax;
struct dl_real_ns;
struct json_object;

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/*
 * Where daxleased listens unless --socket or DAXLEASE_SOCKET say otherwise
 * (with libdaxlease: daxlease_default_socket(), which also knows systemd's
 * and a user daemon's directory).
 */
#define CLI_DEFAULT_SOCKET "/run/daxlease/daxleased.sock"

struct cli_ctx {
	const char *prog;	/* "daxlease VERB", the prefix of every message */
	const char *socket_path;	/* daxleased's socket */
};

struct cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv, struct cli_ctx *ctx);
	const char *help;	/* one line for `daxlease help` */
};

/* ---- verbs (argv[0] is the verb; return an exit status) ------------------ */

int cmd_create_namespace(int argc, char **argv, struct cli_ctx *ctx);
int cmd_list(int argc, char **argv, struct cli_ctx *ctx);
int cmd_info(int argc, char **argv, struct cli_ctx *ctx);
int cmd_check_namespace(int argc, char **argv, struct cli_ctx *ctx);
int cmd_inject_error(int argc, char **argv, struct cli_ctx *ctx);
int cmd_clear_error(int argc, char **argv, struct cli_ctx *ctx);
int cmd_list_errors(int argc, char **argv, struct cli_ctx *ctx);

/* verbs that talk to daxleased (with libdaxlease only) */
int cmd_status(int argc, char **argv, struct cli_ctx *ctx);
int cmd_ls(int argc, char **argv, struct cli_ctx *ctx);
int cmd_stat(int argc, char **argv, struct cli_ctx *ctx);
int cmd_rm(int argc, char **argv, struct cli_ctx *ctx);
int cmd_mv(int argc, char **argv, struct cli_ctx *ctx);
int cmd_put(int argc, char **argv, struct cli_ctx *ctx);
int cmd_get(int argc, char **argv, struct cli_ctx *ctx);
int cmd_truncate(int argc, char **argv, struct cli_ctx *ctx);
int cmd_fallocate(int argc, char **argv, struct cli_ctx *ctx);
int cmd_pin(int argc, char **argv, struct cli_ctx *ctx);
int cmd_busy(int argc, char **argv, struct cli_ctx *ctx);
int cmd_blocked(int argc, char **argv, struct cli_ctx *ctx);
int cmd_quarantine(int argc, char **argv, struct cli_ctx *ctx);
int cmd_dirty(int argc, char **argv, struct cli_ctx *ctx);
int cmd_leases(int argc, char **argv, struct cli_ctx *ctx);

/* ---- util.c: messages and argument parsing ------------------------------- */

/* "daxlease VERB: <message>\n" on stderr. */
void cli_error(const struct cli_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A usage error: the message, then "see 'daxlease VERB --help'".
 * Returns CLI_EXIT_USAGE so callers can `return cli_usage_error(...)`.
 */
int cli_usage_error(const struct cli_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Parse a byte count for option `what`: plain bytes, a binary suffix
 * (4K, 2M, 1T - dl_parse_size's rules), or hex with 0x (what -u prints
 * for offsets, so output can be pasted back).  Prints a usage error and
 * returns -EINVAL / -ERANGE on failure.
 */
int cli_parse_bytes(const struct cli_ctx *ctx, const char *what,
		    const char *arg, uint64_t *out);

/* The one sentence a pmem/ call left in err, or strerror(-rc). */
const char *cli_err_msg(const struct dl_err *err, int rc);

/* Text uuid (8-4-4-4-12 hex digits) to 16 bytes; 0 or -EINVAL. */
int cli_parse_uuid(const char *s, uint8_t out[16]);
/* 16 bytes to text; buf must hold 37 bytes.  Returns buf. */
char *cli_fmt_uuid(char *buf, const uint8_t uuid[16]);

/* ---- json_out.c: JSON rendering ------------------------------------------ */

/* Flags for the value builders. */
#define CLI_JSON_HUMAN 0x1	/* -u: sizes as "2.00 MiB (2.10 MB)", offsets hex */

/* A byte count: a number, or with CLI_JSON_HUMAN a unit string. */
struct json_object *cli_json_size(uint64_t bytes, unsigned flags);
/* A byte offset: a number, or with CLI_JSON_HUMAN "0x..." */
struct json_object *cli_json_offset(uint64_t offset, unsigned flags);
/* A count (files, blocks, ...): always a number, -u or not. */
struct json_object *cli_json_count(uint64_t n);
/* A string; NULL prints as "".  JSON must be UTF-8: a byte that is not
 * part of a valid UTF-8 sequence (a file or process name may hold any
 * bytes) becomes U+FFFD.  json-c escapes quotes, backslashes and control
 * characters when it prints. */
struct json_object *cli_json_string(const char *s);
/* s as a JSON string, quoted and escaped as above, on f (for text lines
 * that carry a string someone else chose). */
void cli_json_fputs(FILE *f, const char *s);

/*
 * Add val under key to obj, or append val to array obj when key is NULL.
 * Takes the reference to val whatever happens; returns 0 or -ENOMEM
 * (val was NULL, i.e. its builder failed, or json-c could not add it).
 * So a builder writes `if (cli_json_add(o, "size", cli_json_size(...)))
 * goto err;` once per field.
 */
int cli_json_add(struct json_object *obj, const char *key,
		 struct json_object *val);

/* Print obj pretty (ndctl's layout) on stdout; 0 or -EIO. */
int cli_json_print(struct json_object *obj);

/* ---- daemon.c: talking to daxleased (with libdaxlease only) -------------- */

struct daxlease_ctx;
struct daxlease_file;
struct daxlease_stat;
struct daxlease_status;

/*
 * Connect to ctx->socket_path.  On failure prints "daxlease: cannot reach
 * daxleased at SOCKET: <why> (...)" and returns NULL.
 */
struct daxlease_ctx *cli_connect(const struct cli_ctx *ctx);
/* "daxlease VERB: WHAT: <strerror(-rc)>"; returns CLI_EXIT_FAIL. */
int cli_fail(const struct cli_ctx *ctx, const char *what, int rc);
/*
 * Options of a verb that has only -u and -h: parse them, then require
 * nargs positional arguments (left at argv[optind]).  Returns -1 to go
 * on, or an exit status.
 */
int cli_parse_simple(int argc, char **argv, const struct cli_ctx *ctx,
		     const char *usage, int nargs, unsigned *flags);
/* The JSON array of every file (ls, list --files); an exit status. */
int cli_print_files(const struct cli_ctx *ctx, unsigned flags);
/* Print name's file object (after put, truncate, ...); an exit status. */
int cli_print_file(const struct cli_ctx *ctx, struct daxlease_ctx *dl,
		   const char *name, unsigned flags);

/* ---- json_file.c: daemon objects (fields in daxlease(1)) ----------------- */

struct json_object *cli_json_file(const struct daxlease_stat *st,
				  unsigned flags);
/* server_flags: daxlease_info's (DL_SRV_READ_ONLY: health) */
struct json_object *cli_json_status(const struct daxlease_status *st,
				    uint32_t server_flags, unsigned flags);

/* ---- json_pin.c: pins and waiting requests (fields in daxlease(1)) -------- */

struct daxlease_blocker;
struct daxlease_blocked;
struct json_object *cli_json_blocker(const struct daxlease_blocker *b,
				     unsigned flags);
struct json_object *cli_json_blocked(const struct daxlease_blocked *b,
				     unsigned flags);
struct daxlease_lease;
struct json_object *cli_json_lease(const struct daxlease_lease *l,
				   unsigned flags);
struct daxlease_quarantine;
struct json_object *cli_json_quarantine(const struct daxlease_quarantine *q,
					unsigned flags);

/* ---- json_ns.c: namespace objects (fields in daxlease(1)) ---------------- */

/* An open namespace: its header facts, health and badblock count. */
struct json_object *cli_json_ns(const struct dl_ns *ns, unsigned flags);
/* A namespace found through libndctl, and a device-dax device. */
struct json_object *cli_json_real_ns(const struct dl_real_ns *rns,
				     unsigned flags);
struct json_object *cli_json_real_dax(const struct dl_real_dax *dax,
				      unsigned flags);
/*
 * Open the image at path read-only and describe it as cli_json_ns does.
 * On failure prints "daxlease VERB: PATH: <why>" and returns NULL.
 */
struct json_object *cli_json_image(const struct cli_ctx *ctx,
				   const char *path, unsigned flags);

#endif

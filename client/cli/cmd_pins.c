/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_pins.c - `daxlease pin` (a command-line pinning client) and the
 * admin views `daxlease blocked`, `daxlease quarantine`, `daxlease dirty`
 * and `daxlease leases` (`daxlease busy` is cmd_busy.c).
 */
#ifdef DAXLEASE_HAVE_CLIENT
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include <daxlease/libdaxlease.h>

#include "cli.h"

#define VIEW_PAGE 64

static const char pin_usage[] =
	"usage: daxlease [--socket PATH] pin [--write] [--hold SECONDS] [-u]\n"
	"                PATH OFFSET LENGTH\n"
	"\n"
	"Take a shared layout lease on [OFFSET, OFFSET+LENGTH) of file PATH\n"
	"(4 KiB multiples), pin the range, print the pin as JSON, hold it,\n"
	"then unpin and return the lease.  Layout changes of the range wait\n"
	"meanwhile (see daxlease busy, daxlease blocked, daxlease leases).\n"
	"A lease break is reported on stderr but not obeyed - the pin holds\n"
	"the range on purpose - so the lease is revoked at its deadline, and\n"
	"the change still waits for the pin.  SIGTERM or SIGINT unpins and\n"
	"exits 0.\n"
	"\n"
	"  -w, --write        a write pin: the range is made writable first\n"
	"                     and marked dirty when unpinned\n"
	"  -H, --hold SECONDS hold at most this long (default: until a signal)\n"
	"  -u, --human        sizes with units, offsets in hex\n"
	"  -h, --help         this text\n";

struct pin_args {
	const char *path;
	uint64_t offset, length;
	unsigned pin_flags;
	long hold;			/* seconds; -1: until a signal */
	unsigned flags;
};

static int pin_opts(int argc, char **argv, struct cli_ctx *ctx,
		    struct pin_args *a)
{
	static const struct option opts[] = {
		{ "write", no_argument, NULL, 'w' },
		{ "hold", required_argument, NULL, 'H' },
		{ "human", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "wH:uh", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			a->pin_flags |= DAXLEASE_PIN_WRITE;
			break;
		case 'H':
			errno = 0;
			a->hold = strtol(optarg, &end, 10);
			if (errno || *end || a->hold < 0)
				return cli_usage_error(ctx, "--hold: '%s' is not "
						       "a number of seconds",
						       optarg);
			break;
		case 'u':
			a->flags |= CLI_JSON_HUMAN;
			break;
		case 'h':
			fputs(pin_usage, stdout);
			return CLI_EXIT_OK;
		default:
			fputs(pin_usage, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 3)
		return cli_usage_error(ctx, "expected PATH OFFSET LENGTH");
	return -1;
}

static int print_pin(const struct pin_args *a, uint64_t id)
{
	struct daxlease_blocker b = {
		.pid = getpid(), .uid = getuid(), .comm = "daxlease",
		.pin_id = id,
		.offset = a->offset, .length = a->length,
		.write = a->pin_flags & DAXLEASE_PIN_WRITE,
	};
	struct json_object *o = cli_json_blocker(&b, a->flags);
	int rc;

	if (!o || cli_json_add(o, "file", cli_json_string(a->path))) {
		json_object_put(o);
		return -ENOMEM;
	}
	rc = cli_json_print(o);
	json_object_put(o);
	fflush(stdout);
	return rc;
}

/* A lease event on stderr: the pin keeps holding (see the usage).  The
 * breaker's process name is its own choice: JSON-quoted, on this line. */
static void report_event(const struct daxlease_event *e)
{
	fprintf(stderr, "daxlease pin: lease %llu %s: opcode %u by pid %d (",
		(unsigned long long)e->lease_id,
		e->type == DAXLEASE_EVENT_LEASE_REVOKED ? "revoked" : "break",
		e->opcode, e->pid);
	cli_json_fputs(stderr, e->comm);
	fprintf(stderr, ", uid %u) on [%llu, +%llu), %u ms left%s\n", e->uid,
		(unsigned long long)e->offset, (unsigned long long)e->length,
		e->remaining_ms,
		e->type == DAXLEASE_EVENT_LEASE_REVOKED ? "" :
		"; still holding the pin");
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait for SIGTERM/SIGINT (blocked before the pin; a signalfd here), or
 * the hold time, reporting lease events meanwhile.
 */
static void hold(struct daxlease_ctx *dl, const sigset_t *set, long seconds)
{
	int64_t end = now_ms() + (seconds < 0 ? 0 : seconds * 1000);
	struct pollfd p[2] = {
		{ .fd = signalfd(-1, set, SFD_CLOEXEC), .events = POLLIN },
		{ .fd = daxlease_get_event_fd(dl), .events = POLLIN },
	};
	struct daxlease_event e;

	for (;;) {
		int left = seconds < 0 ? -1 : (int)(end - now_ms());

		while (daxlease_next_event(dl, &e, 0) == 1)
			report_event(&e);
		if (seconds >= 0 && left <= 0)
			break;
		if (poll(p, p[1].fd >= 0 ? 2 : 1, left) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents & (POLLHUP | POLLERR))
			p[1].fd = -1;	/* gone: wait for the rest alone */
	}
	/* what came before the signal is reported too */
	while (daxlease_next_event(dl, &e, 0) == 1)
		report_event(&e);
	if (p[0].fd >= 0)
		close(p[0].fd);
}

static int pin_and_hold(const struct cli_ctx *ctx, const struct pin_args *a,
			struct daxlease_ctx *dl, const sigset_t *set)
{
	unsigned open_flags = DAXLEASE_O_READ |
			      (a->pin_flags & DAXLEASE_PIN_WRITE ?
			       DAXLEASE_O_WRITE : 0);
	struct daxlease_file *f;
	uint64_t id, lease;
	int rc;

	rc = daxlease_open(dl, a->path, open_flags, 0, &f);
	if (rc)
		return cli_fail(ctx, a->path, rc);
	rc = daxlease_lease_acquire(f, a->offset, a->length,
				    DAXLEASE_LEASE_SHARED, 0, &lease);
	if (rc) {
		daxlease_close(f);
		return cli_fail(ctx, "lease", rc);
	}
	rc = daxlease_pin(f, a->offset, a->length, a->pin_flags, &id);
	if (rc) {
		daxlease_lease_release(dl, lease);
		daxlease_close(f);
		return cli_fail(ctx, "pin", rc);
	}
	print_pin(a, id);
	hold(dl, set, a->hold);
	rc = daxlease_unpin(dl, id);
	/* a revoked lease is returned too */
	daxlease_lease_release(dl, lease);
	daxlease_close(f);
	return rc ? cli_fail(ctx, "unpin", rc) : CLI_EXIT_OK;
}

int cmd_pin(int argc, char **argv, struct cli_ctx *ctx)
{
	struct pin_args a = { .hold = -1 };
	struct daxlease_ctx *dl;
	sigset_t set;
	int rc;

	rc = pin_opts(argc, argv, ctx, &a);
	if (rc >= 0)
		return rc;
	a.path = argv[optind];
	if (cli_parse_bytes(ctx, "OFFSET", argv[optind + 1], &a.offset) ||
	    cli_parse_bytes(ctx, "LENGTH", argv[optind + 2], &a.length))
		return CLI_EXIT_USAGE;
	/* blocked first: a signal during the PIN call still unpins */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	dl = cli_connect(ctx);
	if (!dl)
		return CLI_EXIT_FAIL;
	rc = pin_and_hold(ctx, &a, dl, &set);
	daxlease_unref(dl);
	return rc;
}

/* ---- blocked ------------------------------------------------------------ */

static const char blocked_usage[] =
	"usage: daxlease [--socket PATH] blocked [-u]\n"
	"\n"
	"Every waiting request as a JSON array: which operation, file range,\n"
	"who asked, since when, and the pins it waits on (or \"queue\": it\n"
	"waits behind an earlier change of the range).  Needs root or\n"
	"daxleased's --admin-group.\n"
	"\n"
	"  -u, --human        sizes with units, offsets in hex\n"
	"  -h, --help         this text\n";

static int blocked_pages(struct daxlease_ctx *dl, struct json_object *arr,
			 unsigned flags)
{
	struct daxlease_blocked *b = calloc(VIEW_PAGE, sizeof(*b));
	uint64_t cursor = 0;
	int n = 0;

	if (!b)
		return -ENOMEM;
	do {
		n = daxlease_blocked(dl, &cursor, b, VIEW_PAGE);
		for (int i = 0; i < n; i++)
			if (cli_json_add(arr, NULL,
					 cli_json_blocked(&b[i], flags)))
				n = -ENOMEM;
	} while (n >= 0 && cursor);
	free(b);
	return n < 0 ? n : 0;
}

static const char quarantine_usage[] =
	"usage: daxlease [--socket PATH] quarantine [-u]\n"
	"\n"
	"Blocks a layout change detached while pins held them (daxleased\n"
	"--detach), as a JSON array: namespace range, tag, and the pins (and\n"
	"the first holder's pid) that keep them from reuse.  Needs root or\n"
	"daxleased's --admin-group.\n"
	"\n"
	"  -u, --human        sizes with units, offsets in hex\n"
	"  -h, --help         this text\n";

static int quarantine_pages(struct daxlease_ctx *dl, struct json_object *arr,
			    unsigned flags)
{
	struct daxlease_quarantine *q = calloc(VIEW_PAGE, sizeof(*q));
	uint64_t cursor = 0;
	int n = 0;

	if (!q)
		return -ENOMEM;
	do {
		n = daxlease_quarantine(dl, &cursor, q, VIEW_PAGE);
		for (int i = 0; i < n; i++)
			if (cli_json_add(arr, NULL,
					 cli_json_quarantine(&q[i], flags)))
				n = -ENOMEM;
	} while (n >= 0 && cursor);
	free(q);
	return n < 0 ? n : 0;
}

static const char dirty_usage[] =
	"usage: daxlease [--socket PATH] dirty [-u]\n"
	"\n"
	"File ranges clients may have stored into behind daxleased's back\n"
	"(write pins, writable mappings) and that it has not made durable\n"
	"yet, as a JSON array of {ino, offset, length}, oldest first, fetched\n"
	"a page at a time.  Needs root or daxleased's --admin-group.\n"
	"\n"
	"  -u, --human        sizes with units, offsets in hex\n"
	"  -h, --help         this text\n";

static struct json_object *json_dirty(const struct daxlease_dirty *d,
				      unsigned flags)
{
	struct json_object *o = json_object_new_object();

	if (!o || cli_json_add(o, "ino", cli_json_count(d->ino)) ||
	    cli_json_add(o, "offset", cli_json_offset(d->offset, flags)) ||
	    cli_json_add(o, "length", cli_json_size(d->length, flags))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int dirty_pages(struct daxlease_ctx *dl, struct json_object *arr,
		       unsigned flags)
{
	struct daxlease_dirty *d = calloc(VIEW_PAGE, sizeof(*d));
	uint64_t cursor = 0;
	int n = 0;

	if (!d)
		return -ENOMEM;
	do {
		n = daxlease_dirty(dl, &cursor, d, VIEW_PAGE);
		for (int i = 0; i < n; i++)
			if (cli_json_add(arr, NULL, json_dirty(&d[i], flags)))
				n = -ENOMEM;
	} while (n >= 0 && cursor);
	free(d);
	return n < 0 ? n : 0;
}

static int view(int argc, char **argv, struct cli_ctx *ctx,
		const char *usage,
		int (*pages)(struct daxlease_ctx *, struct json_object *,
			     unsigned))
{
	struct json_object *arr;
	struct daxlease_ctx *dl;
	unsigned flags = 0;
	int rc;

	rc = cli_parse_simple(argc, argv, ctx, usage, 0, &flags);
	if (rc >= 0)
		return rc;
	dl = cli_connect(ctx);
	if (!dl)
		return CLI_EXIT_FAIL;
	arr = json_object_new_array();
	rc = arr ? pages(dl, arr, flags) : -ENOMEM;
	if (!rc)
		rc = cli_json_print(arr) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
	else
		rc = cli_fail(ctx, "query", rc);
	json_object_put(arr);
	daxlease_unref(dl);
	return rc;
}

static const char leases_usage[] =
	"usage: daxlease [--socket PATH] leases [-u]\n"
	"\n"
	"Every layout lease as a JSON array: file (ino), range, type, state\n"
	"(held, breaking, revoked), the holder (pid, uid, comm), its break\n"
	"timeout and, while breaking, its deadline.  Needs root or\n"
	"daxleased's --admin-group.\n"
	"\n"
	"  -u, --human        sizes with units, offsets in hex\n"
	"  -h, --help         this text\n";

static int leases_pages(struct daxlease_ctx *dl, struct json_object *arr,
			unsigned flags)
{
	struct daxlease_lease *l = calloc(VIEW_PAGE, sizeof(*l));
	uint64_t cursor = 0;
	int n = 0;

	if (!l)
		return -ENOMEM;
	do {
		n = daxlease_leases(dl, &cursor, l, VIEW_PAGE);
		for (int i = 0; i < n; i++)
			if (cli_json_add(arr, NULL, cli_json_lease(&l[i], flags)))
				n = -ENOMEM;
	} while (n >= 0 && cursor);
	free(l);
	return n < 0 ? n : 0;
}

int cmd_leases(int argc, char **argv, struct cli_ctx *ctx)
{
	return view(argc, argv, ctx, leases_usage, leases_pages);
}

int cmd_blocked(int argc, char **argv, struct cli_ctx *ctx)
{
	return view(argc, argv, ctx, blocked_usage, blocked_pages);
}

int cmd_quarantine(int argc, char **argv, struct cli_ctx *ctx)
{
	return view(argc, argv, ctx, quarantine_usage, quarantine_pages);
}

int cmd_dirty(int argc, char **argv, struct cli_ctx *ctx)
{
	return view(argc, argv, ctx, dirty_usage, dirty_pages);
}
#endif

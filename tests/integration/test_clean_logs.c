/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_clean_logs.c - strings a client chooses never forge a log line or
 * break the CLI's JSON, and the views say which names are only claims
 * (issue 10, table row 9).
 *
 * A client chooses its HELLO name (libdaxlease sends the program name),
 * its process name (/proc/PID/comm: prctl(PR_SET_NAME) sets it to any 15
 * bytes) and the names of its files.  Here they hold newlines, escape
 * sequences, quotes, backslashes and bytes that are not UTF-8.  The
 * daemon runs at --log-level debug (so HELLO is logged); its stderr is
 * the harness's file.  The CLI's JSON is checked by python3 (strict
 * UTF-8, then the values), which the suite skips without.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit_run.h"
#include "daxlease/libdaxlease.h"
#include "harness.h"
#include "client_util.h"
#include "leased.h"

#define RW (DAXLEASE_O_READ | DAXLEASE_O_WRITE)

extern char *program_invocation_short_name;

/* A HELLO name (31 bytes at most) that would start a line of its own. */
static const char forged_name[] = "ev\ndaxleased: error: FORGED\x1b\"\\";
/* ... and how the log must show it, inside the HELLO line's quotes. */
static const char forged_name_logged[] =
	"\"ev\\x0adaxleased: error: FORGED\\x1b\\\"\\\\\"";
/* A process name (15 bytes at most): escapes, quote, backslash, a
 * newline and a byte that is not UTF-8. */
static const char nasty_comm[] = "\x1b[2Jq\"b\\\n\xff";
static const char nasty_comm_logged[] = "comm=\"\\x1b[2Jq\\\"b\\\\\\x0a\\xff\"";
/* ... as JSON must give it back: the bad byte becomes U+FFFD. */
static const char nasty_comm_json[] = "\x1b[2Jq\"b\\\n\xef\xbf\xbd";
static const char nasty_file[] = "f\n\x1b\"\\\xfe";
static const char nasty_file_json[] = "f\n\x1b\"\\\xef\xbf\xbd";

static struct dlh_daemon dmn;
static struct daxlease_ctx *ctx;
static char admin_group[64];
static const char *cli;

static int suite_init(void)
{
	struct dlh_opts o = {
		.extra = { "--admin-group", admin_group, "--log-level",
			   "debug" },
	};
	struct group *g = getgrgid(getgid());

	if (!g)
		return -1;
	snprintf(admin_group, sizeof(admin_group), "%s", g->gr_name);
	if (dlh_start(&dmn, &o))
		return -1;
	return daxlease_new(&ctx, dmn.socket) ? -1 : 0;
}

static int suite_clean(void)
{
	if (ctx)
		daxlease_unref(ctx);
	dlh_kill(&dmn);
	return 0;
}

/* ---- the daemon's log ---------------------------------------------------- */

/* The whole log so far, NUL-terminated (malloc'ed), and its length. */
static char *read_log(size_t *len)
{
	FILE *f = fopen(dmn.errlog, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			char *b = realloc(buf, cap = 2 * (n + 4096 + 1));

			if (!b) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = b;
		}
		got = fread(buf + n, 1, 4096, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* Does one line of the log hold all of the NULL-terminated parts? */
static bool log_line_has(const char *log, const char *const *parts)
{
	for (const char *l = log; *l; ) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l), k = 0;

		while (parts[k] && memmem(l, n, parts[k], strlen(parts[k])))
			k++;
		if (!parts[k])
			return true;
		l += n + (e != NULL);
	}
	return false;
}

/* Wait up to 10 s for a line that holds all the parts. */
static bool wait_log_line(const char *const *parts)
{
	for (int i = 0; i < 2000; i++) {
		size_t len;
		char *log = read_log(&len);
		bool found = log && log_line_has(log, parts);

		free(log);
		if (found)
			return true;
		usleep(5000);
	}
	fprintf(stderr, "no log line with '%s' and '%s'\n", parts[0],
		parts[1] ? parts[1] : "");
	dlh_dump_stderr(&dmn);
	return false;
}

/* Every byte of the log is printable or a line's end, and no line
 * starts with what a client tried to forge. */
static void check_log_clean(void)
{
	size_t len;
	char *log = read_log(&len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	for (size_t i = 0; i < len; i++)
		if ((log[i] < 0x20 && log[i] != '\n') || log[i] == 0x7f) {
			fprintf(stderr, "raw byte 0x%02x in the log at %zu\n",
				(unsigned char)log[i], i);
			CU_FAIL("a control character reached the log");
			break;
		}
	CU_ASSERT_FALSE(!strncmp(log, "daxleased: error: FORGED", 24));
	CU_ASSERT_PTR_NULL(strstr(log, "\ndaxleased: error: FORGED"));
	free(log);
}

static char pid_field[32];

static const char *pid_is(pid_t pid)
{
	snprintf(pid_field, sizeof(pid_field), "pid=%d ", (int)pid);
	return pid_field;
}

/* ---- the CLI's JSON ------------------------------------------------------ */

/* Run `daxlease --socket S VERB` with stdout to out; its exit status. */
static int run_cli(const char *verb, const char *out)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (!freopen(out, "w", stdout))
			_exit(126);
		execl(cli, cli, "--socket", dmn.socket, verb, (char *)NULL);
		_exit(127);
	}
	return dlc_wait_exit(pid);
}

/*
 * The JSON array in path is strict UTF-8 JSON, and every entry of pid
 * has the comm (and file) given, with "comm_claimed": true and a uid.
 */
static const char check_py[] =
	"import json, sys\n"
	"raw = open(sys.argv[1], 'rb').read()\n"
	"data = json.loads(raw.decode('utf-8'))\n"
	"pid, comm = int(sys.argv[2]), sys.argv[3]\n"
	"name = sys.argv[4] if len(sys.argv) > 4 else None\n"
	"hits = [e for e in data if e.get('pid') == pid]\n"
	"ok = bool(hits) and all(e['comm'] == comm and\n"
	"    e.get('comm_claimed') is True and isinstance(e.get('uid'), int)\n"
	"    and (name is None or e.get('file') == name) for e in hits)\n"
	"if not ok:\n"
	"    print('unexpected JSON:', raw, file=sys.stderr)\n"
	"sys.exit(0 if ok else 1)\n";

static int check_json(const char *path, pid_t pid, const char *comm,
		      const char *file)
{
	char spid[16];
	pid_t child;

	snprintf(spid, sizeof(spid), "%d", (int)pid);
	fflush(NULL);
	child = fork();
	if (child < 0)
		return -1;
	if (!child) {
		execlp("python3", "python3", "-c", check_py, path, spid, comm,
		       file, (char *)NULL);
		_exit(127);
	}
	return dlc_wait_exit(child);
}

/* `daxlease VERB` prints valid JSON naming pid with comm (and file). */
static void check_view(const char *verb, pid_t pid, const char *comm,
		       const char *file)
{
	const char *out = dl_test_path(verb);

	CU_ASSERT_EQUAL(run_cli(verb, out), 0);
	CU_ASSERT_EQUAL(check_json(out, pid, comm, file), 0);
}

/* ---- client processes ---------------------------------------------------- */

/* A child that says HELLO under forged_name, asks STATUS and exits. */
static void test_hello_name_escaped(void)
{
	const char *hello[] = { NULL, "hello from ", forged_name_logged, NULL };
	const char *dropped[] = { NULL, "dropped", NULL };
	pid_t pid;

	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (!pid) {
		struct daxlease_status st;
		struct daxlease_ctx *c;

		/* libdaxlease sends the program name as the HELLO name */
		program_invocation_short_name = (char *)forged_name;
		_exit(daxlease_new(&c, dmn.socket) ||
		      daxlease_status(c, &st) ? 1 : 0);
	}
	CU_ASSERT_EQUAL(dlc_wait_exit(pid), 0);
	hello[0] = dropped[0] = pid_is(pid);
	/* the last line the daemon writes about that client */
	CU_ASSERT_TRUE(wait_log_line(dropped));
	CU_ASSERT_TRUE(wait_log_line(hello));
	check_log_clean();
}

struct holder {
	pid_t pid;
	int go;
};

/*
 * A child named comm (prctl) that leases and read-pins the first page of
 * file, says so, and holds both until told to go.
 */
static void start_holder(struct holder *h, const char *comm, const char *file)
{
	int ready[2], go[2];
	char b;

	CU_ASSERT_FATAL(pipe(ready) == 0 && pipe(go) == 0);
	fflush(NULL);
	h->pid = fork();
	CU_ASSERT_FATAL(h->pid >= 0);
	if (!h->pid) {
		struct daxlease_file *f;
		struct daxlease_ctx *c;
		uint64_t id;

		close(ready[0]);
		close(go[1]);
		/* before connecting: the daemon reads comm at accept */
		if (prctl(PR_SET_NAME, comm) || daxlease_new(&c, dmn.socket) ||
		    daxlease_open(c, file, RW, 0, &f) ||
		    leased_pin(f, 0, 4096, 0, &id))
			_exit(2);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &b, 1) < 0)
			_exit(3);
		_exit(daxlease_unpin(c, id) ? 4 : 0);
	}
	close(ready[1]);
	close(go[0]);
	h->go = go[1];
	CU_ASSERT_EQUAL_FATAL(read(ready[0], &b, 1), 1);
	close(ready[0]);
}

static void stop_holder(struct holder *h)
{
	CU_ASSERT_EQUAL(write(h->go, "g", 1), 1);
	close(h->go);
	CU_ASSERT_EQUAL(dlc_wait_exit(h->pid), 0);
}

static void make_file(const char *name)
{
	struct daxlease_file *f;

	CU_ASSERT_EQUAL_FATAL(daxlease_open(ctx, name, RW | DAXLEASE_O_CREATE,
					    0666, &f), 0);
	CU_ASSERT_EQUAL(daxlease_truncate(f, 64 * 1024), 0);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
}

/* A process renamed kworker/0:1: the views show the name as its claim,
 * next to the pid and uid the kernel gave. */
static void test_comm_is_a_claim(void)
{
	const char *connected[] = { NULL, "comm=\"kworker/0:1\"", NULL };
	struct daxlease_busy b[8];
	uint64_t cursor = 0;
	struct holder h;
	int n, found = 0;

	make_file("claimed");
	start_holder(&h, "kworker/0:1", "claimed");
	check_view("busy", h.pid, "kworker/0:1", "claimed");
	check_view("leases", h.pid, "kworker/0:1", "claimed");
	n = daxlease_busy(ctx, &cursor, b, 8);
	for (int i = 0; i < n; i++)
		if (b[i].pin.pid == h.pid) {
			found++;
			CU_ASSERT_STRING_EQUAL(b[i].pin.comm, "kworker/0:1");
			CU_ASSERT_EQUAL(b[i].pin.uid, getuid());
		}
	CU_ASSERT_EQUAL(found, 1);
	connected[0] = pid_is(h.pid);
	CU_ASSERT_TRUE(wait_log_line(connected));
	stop_holder(&h);
	CU_ASSERT_EQUAL(daxlease_unlink(ctx, "claimed"), 0);
}

/* Control characters, quotes, backslashes and bytes that are not UTF-8
 * in a process name and a file name: escaped in the log, valid JSON. */
static void test_nasty_strings(void)
{
	const char *connected[] = { NULL, nasty_comm_logged, NULL };
	struct holder h;

	make_file(nasty_file);
	start_holder(&h, nasty_comm, nasty_file);
	check_view("busy", h.pid, nasty_comm_json, nasty_file_json);
	check_view("leases", h.pid, nasty_comm_json, nasty_file_json);
	connected[0] = pid_is(h.pid);
	CU_ASSERT_TRUE(wait_log_line(connected));
	stop_holder(&h);
	check_log_clean();
	CU_ASSERT_EQUAL(daxlease_unlink(ctx, nasty_file), 0);
}

/* How many bytes of path there are; the file as a string in *text. */
static size_t slurp(const char *path, char *text, size_t max)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(text, 1, max - 1, f) : 0;

	if (f)
		fclose(f);
	text[n] = 0;
	return n;
}

/*
 * `daxlease pin` reports a lease break on stderr with the breaker's
 * process name: a name with an escape sequence and a newline is shown
 * JSON-quoted, on one line.
 */
static void test_cli_event_line(void)
{
	const char *errfile = dl_test_path("pin.stderr");
	static char text[8192];
	struct daxlease_busy b[8];
	pid_t pin, trunc;
	size_t n = 0;

	make_file("evented");
	fflush(NULL);
	pin = fork();
	CU_ASSERT_FATAL(pin >= 0);
	if (!pin) {
		if (!freopen("/dev/null", "w", stdout) ||
		    !freopen(errfile, "w", stderr))
			_exit(126);
		execl(cli, cli, "--socket", dmn.socket, "pin", "evented", "0",
		      "4096", (char *)NULL);
		_exit(127);
	}
	/* its pin is in place once BUSY shows it */
	for (int i = 0, found = 0; !found && i < 2000; i++) {
		uint64_t cursor = 0;
		int got = daxlease_busy(ctx, &cursor, b, 8);

		for (int k = 0; k < got; k++)
			found |= b[k].pin.pid == pin;
		if (!found)
			usleep(5000);
	}
	trunc = fork();
	CU_ASSERT_FATAL(trunc >= 0);
	if (!trunc) {
		struct daxlease_file *f;
		struct daxlease_ctx *c;

		if (prctl(PR_SET_NAME, "\x1b[31mX\nY") ||
		    daxlease_new(&c, dmn.socket) ||
		    daxlease_open(c, "evented", RW, 0, &f))
			_exit(2);
		_exit(daxlease_truncate(f, 0) ? 3 : 0);
	}
	/* the break reaches the pinner: its report line */
	for (int i = 0; i < 2000 && !strstr(text, "break"); i++) {
		n = slurp(errfile, text, sizeof(text));
		if (!strstr(text, "break"))
			usleep(5000);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "break"));
	kill(pin, SIGTERM);
	CU_ASSERT_EQUAL(dlc_wait_exit(pin), 0);
	CU_ASSERT_EQUAL(dlc_wait_exit(trunc), 0);
	n = slurp(errfile, text, sizeof(text));
	printf("\n    daxlease pin said: %s", text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"\\u001b[31mX\\nY\""));
	for (size_t i = 0; i < n; i++)
		if ((text[i] < 0x20 && text[i] != '\n') || text[i] == 0x7f) {
			CU_FAIL("a control character in daxlease pin's report");
			break;
		}
	check_log_clean();
	CU_ASSERT_EQUAL(daxlease_unlink(ctx, "evented"), 0);
}

static void test_clean_stop(void)
{
	daxlease_unref(ctx);
	ctx = NULL;
	CU_ASSERT_EQUAL(dlh_stop(&dmn), 0);
}

static CU_TestInfo tests[] = {
	{ "a HELLO name cannot forge a log line", test_hello_name_escaped },
	{ "a renamed process is shown as a claim", test_comm_is_a_claim },
	{ "control bytes, quotes, non-UTF-8: escaped", test_nasty_strings },
	{ "daxlease pin's event line is escaped", test_cli_event_line },
	{ "clean stop", test_clean_stop },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "clean logs", suite_init, suite_clean, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	if (dlh_prepare())
		return DL_TEST_SKIP;
	cli = getenv("DAXLEASE_CLI");
	if (!cli || system("python3 -c '' 2>/dev/null")) {
		printf("SKIP: needs DAXLEASE_CLI and python3 for the JSON\n");
		return DL_TEST_SKIP;
	}
	return dl_cunit_main(suites);
}

// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_service_log.c - daxleased's log lines (service/log.c): a client's
 * string is escaped by one rule (log.h), and whatever a caller passes,
 * dl_log() writes exactly one line; a rate-limited line goes out at
 * most once an interval and the next one counts those left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cunit_run.h"
#include "log.h"

static void test_escape_rule(void)
{
	char out[128];

	CU_ASSERT_STRING_EQUAL(dl_log_escape(out, sizeof(out), "kworker/0:1",
					     16), "kworker/0:1");
	CU_ASSERT_STRING_EQUAL(dl_log_escape(out, sizeof(out),
					     "a\nb\r\t\x1b[0m\x7f", 32),
			       "a\\x0ab\\x0d\\x09\\x1b[0m\\x7f");
	CU_ASSERT_STRING_EQUAL(dl_log_escape(out, sizeof(out), "q\"b\\", 32),
			       "q\\\"b\\\\");
	/* bytes >= 0x80 too: no C1 controls, no half-sequences */
	CU_ASSERT_STRING_EQUAL(dl_log_escape(out, sizeof(out), "caf\xc3\xa9\xff",
					     32), "caf\\xc3\\xa9\\xff");
	/* at most max bytes; no NUL needed within them */
	CU_ASSERT_STRING_EQUAL(dl_log_escape(out, sizeof(out), "abcdef", 3),
			       "abc");
	/* a short buffer cuts between escapes, never inside one */
	CU_ASSERT_STRING_EQUAL(dl_log_escape(out, 5, "a\nbc", 8), "a");
	CU_ASSERT_STRING_EQUAL(dl_log_escape(out, 6, "a\nbc", 8), "a\\x0a");
	CU_ASSERT_STRING_EQUAL(dl_log_escape(out, 7, "a\nbc", 8), "a\\x0ab");
	CU_ASSERT_STRING_EQUAL(dl_log_escape(out, 3, "\"\"", 8), "\\\"");
}

static void test_str_slots(void)
{
	const char *a = dl_log_str("one\n", 8), *b = dl_log_str("two", 8);

	/* the strings of one line live side by side */
	CU_ASSERT_STRING_EQUAL(a, "one\\x0a");
	CU_ASSERT_STRING_EQUAL(b, "two");
	CU_ASSERT_PTR_NOT_EQUAL(a, b);
}

/* What fn() writes to stderr, into buf. */
static void capture_stderr(void (*fn)(void), char *buf, size_t size)
{
	char path[] = "/tmp/test_service_log.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	CU_ASSERT_FATAL(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	dl_log_init();
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, size - 1, 0);
	close(fd);
	unlink(path);
	buf[n > 0 ? n : 0] = 0;
}

static void forged_line(void)
{
	dl_log(DL_LOG_WARN, "forgetful caller: %s",
	       "x\ndaxleased: error: FORGED\x1b[0m");
}

/* dl_log() with a raw newline and ESC in an argument: one line. */
static void test_one_line(void)
{
	char buf[512];

	capture_stderr(forged_line, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "daxleased: warning: forgetful caller: "
			       "x\\x0adaxleased: error: FORGED\\x1b[0m\n");
}

/* One line an interval; the next one says how many were left out. */
static void test_ratelimit_pass(void)
{
	struct dl_ratelimit rl = DL_RATELIMIT(1000);
	const int64_t s = 1000000000;
	uint64_t missed = 99;

	CU_ASSERT_TRUE(dl_ratelimit_pass(&rl, 0, &missed));
	CU_ASSERT_EQUAL(missed, 0);
	for (int i = 1; i <= 5; i++)
		CU_ASSERT_FALSE(dl_ratelimit_pass(&rl, i * s / 10, &missed));
	CU_ASSERT_FALSE(dl_ratelimit_pass(&rl, s - 1, &missed));
	CU_ASSERT_TRUE(dl_ratelimit_pass(&rl, s, &missed));
	CU_ASSERT_EQUAL(missed, 6);
	/* counted afresh from there */
	CU_ASSERT_FALSE(dl_ratelimit_pass(&rl, s + 1, &missed));
	CU_ASSERT_TRUE(dl_ratelimit_pass(&rl, 5 * s, &missed));
	CU_ASSERT_EQUAL(missed, 1);
	CU_ASSERT_TRUE(dl_ratelimit_pass(&rl, 7 * s, &missed));
	CU_ASSERT_EQUAL(missed, 0);
}

static void limited_lines(void)
{
	static struct dl_ratelimit rl = DL_RATELIMIT(3600 * 1000);
	static struct dl_ratelimit now = DL_RATELIMIT(0);

	for (int i = 0; i < 1000; i++)
		dl_log_limited(&rl, DL_LOG_WARN, "refused %d", i);
	/* a second kind, always let through, carries its own count */
	dl_log_limited(&now, DL_LOG_WARN, "other");
	/* under the level: neither written nor counted */
	dl_log_limited(&now, DL_LOG_DEBUG, "quiet");
	dl_log_limited(&now, DL_LOG_WARN, "other again");
}

/* 1000 lines of one kind in an hour's interval: the first goes out. */
static void test_log_limited(void)
{
	char buf[512];

	capture_stderr(limited_lines, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "daxleased: warning: refused 0\n"
			       "daxleased: warning: other\n"
			       "daxleased: warning: other again\n");
}

/* The count goes on the end of the line that is let through. */
static void counted_line(void)
{
	struct dl_ratelimit rl = DL_RATELIMIT(1000);
	uint64_t missed;

	CU_ASSERT_TRUE(dl_ratelimit_pass(&rl, 1, &missed));
	CU_ASSERT_FALSE(dl_ratelimit_pass(&rl, 2, &missed));
	CU_ASSERT_FALSE(dl_ratelimit_pass(&rl, 3, &missed));
	/* the interval has passed on the real clock's scale by far */
	rl.last_ns = -rl.interval_ns;
	rl.used = true;
	dl_log_limited(&rl, DL_LOG_WARN, "accept: %s", "Too many open files");
}

static void test_log_limited_count(void)
{
	char buf[512];

	capture_stderr(counted_line, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "daxleased: warning: accept: Too many "
			       "open files (and 2 more like it)\n");
}

static CU_TestInfo tests[] = {
	{ "one escape rule for client strings", test_escape_rule },
	{ "dl_log_str: one line's strings side by side", test_str_slots },
	{ "dl_log writes one line, whatever it is given", test_one_line },
	{ "dl_ratelimit_pass: one an interval, the rest counted",
	  test_ratelimit_pass },
	{ "dl_log_limited: repeats left out", test_log_limited },
	{ "dl_log_limited: the count on the next line",
	  test_log_limited_count },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "log", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	/* the line's shape with no journal prefix */
	unsetenv("JOURNAL_STREAM");
	return dl_cunit_main(suites);
}

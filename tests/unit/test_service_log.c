// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_service_log.c - daxleased's log lines (service/log.c): a client's
 * string is escaped by one rule (log.h), and whatever a caller passes,
 * dl_log() writes exactly one line.
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

/* dl_log() with a raw newline and ESC in an argument: one line. */
static void test_one_line(void)
{
	char path[] = "/tmp/test_service_log.XXXXXX";
	char buf[512] = { 0 };
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	CU_ASSERT_FATAL(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	dl_log_init();
	dl_log(DL_LOG_WARN, "forgetful caller: %s",
	       "x\ndaxleased: error: FORGED\x1b[0m");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path);
	CU_ASSERT_TRUE(n > 0);
	CU_ASSERT_STRING_EQUAL(buf, "daxleased: warning: forgetful caller: "
			       "x\\x0adaxleased: error: FORGED\\x1b[0m\n");
}

static CU_TestInfo tests[] = {
	{ "one escape rule for client strings", test_escape_rule },
	{ "dl_log_str: one line's strings side by side", test_str_slots },
	{ "dl_log writes one line, whatever it is given", test_one_line },
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

// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_error_crc.c - checksums against their published check values, and
 * the size formatting/parsing used in every size message.
 */
#include <errno.h>
#include <string.h>

#include "cunit_run.h"
#include "crc.h"
#include "error.h"
#include "format.h"

static void test_crc32c_check(void)
{
	CU_ASSERT_EQUAL(dl_crc32c(0, "123456789", 9), 0xE3069283U);
	CU_ASSERT_EQUAL(dl_crc32c(0, "", 0), 0);
}

static void test_crc64_check(void)
{
	CU_ASSERT_EQUAL(dl_crc64(0, "123456789", 9), 0x995DC9BBDF1939FAULL);
	CU_ASSERT_EQUAL(dl_crc64(0, "", 0), 0);
}

/* A checksum computed in pieces equals the one computed at once. */
static void test_crc_chaining(void)
{
	uint32_t c32 = dl_crc32c(dl_crc32c(0, "1234", 4), "56789", 5);
	uint64_t c64 = dl_crc64(dl_crc64(0, "12345", 5), "6789", 4);

	CU_ASSERT_EQUAL(c32, 0xE3069283U);
	CU_ASSERT_EQUAL(c64, 0x995DC9BBDF1939FAULL);
}

static void test_crc32c_skip(void)
{
	unsigned char a[64], b[64];

	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = (unsigned char)(i * 7 + 1);
	memcpy(b, a, sizeof(b));
	memset(b + 60, 0, 4);
	/* the field reads as zero whatever it holds */
	CU_ASSERT_EQUAL(dl_crc32c_skip(a, 64, 60, 4), dl_crc32c(0, b, 64));
	memset(b + 8, 0, 4);
	memcpy(a + 60, b + 60, 4);
	CU_ASSERT_EQUAL(dl_crc32c_skip(a, 64, 8, 4), dl_crc32c(0, b, 64));
	/* a field sticking out of the buffer is clipped, not overrun */
	CU_ASSERT_EQUAL(dl_crc32c_skip(a, 8, 8, 4), dl_crc32c(0, a, 8));
	/* bytes outside the field still count */
	a[0] ^= 1;
	CU_ASSERT_NOT_EQUAL(dl_crc32c_skip(a, 64, 8, 4), dl_crc32c(0, b, 64));
}

static void check_fmt(unsigned long long bytes, const char *want)
{
	char buf[32];

	CU_ASSERT_STRING_EQUAL(dl_fmt_size(buf, sizeof(buf), bytes), want);
}

static void test_fmt_size(void)
{
	check_fmt(1000 * DL_MiB, "1000 MiB");
	check_fmt(2 * DL_MiB, "2 MiB");
	check_fmt(4 * DL_KiB, "4 KiB");
	check_fmt(1536, "1536 B");
	check_fmt(DL_TiB, "1 TiB");
	check_fmt(8 * DL_KiB, "8 KiB");
	check_fmt(1536 * DL_KiB, "1536 KiB");
	check_fmt(0, "0 B");
	check_fmt(1ULL << 63, "8 EiB");
}

static void test_fmt_size_truncates(void)
{
	char buf[4];

	CU_ASSERT_STRING_EQUAL(dl_fmt_size(buf, sizeof(buf), 1000 * DL_MiB),
			       "100");
}

static void check_parse(const char *s, unsigned long long want)
{
	unsigned long long v = 0;

	CU_ASSERT_EQUAL(dl_parse_size(s, &v), 0);
	CU_ASSERT_EQUAL(v, want);
}

static void check_parse_fails(const char *s, int want)
{
	unsigned long long v = 12345;

	CU_ASSERT_EQUAL(dl_parse_size(s, &v), want);
	CU_ASSERT_EQUAL(v, 12345);	/* untouched on failure */
}

static void test_parse_size(void)
{
	check_parse("1T", DL_TiB);
	check_parse("2M", 2 * DL_MiB);
	check_parse("2MiB", 2 * DL_MiB);
	check_parse("2MB", 2 * DL_MiB);
	check_parse("2m", 2 * DL_MiB);
	check_parse("4K", 4 * DL_KiB);
	check_parse("4KiB", 4 * DL_KiB);
	check_parse("1G", DL_GiB);
	check_parse("1P", 1ULL << 50);
	check_parse("4096", 4096);
	check_parse("4096B", 4096);
	check_parse("0", 0);
	check_parse("18446744073709551615", ~0ULL);
	check_parse("16383P", 16383ULL << 50);
}

static void test_parse_size_errors(void)
{
	/* fractions are refused rather than rounded */
	check_parse_fails("1.5G", -EINVAL);
	check_parse_fails("", -EINVAL);
	check_parse_fails("G", -EINVAL);
	check_parse_fails("-1", -EINVAL);
	check_parse_fails(" 1", -EINVAL);
	check_parse_fails("1 G", -EINVAL);
	check_parse_fails("0x10", -EINVAL);
	check_parse_fails("12X", -EINVAL);
	check_parse_fails("1GiBB", -EINVAL);
	check_parse_fails("1Gi", -EINVAL);
	check_parse_fails("abc", -EINVAL);
	check_parse_fails("18446744073709551616", -ERANGE);
	check_parse_fails("99999999999999999999999", -ERANGE);
	check_parse_fails("16384P", -ERANGE);
	check_parse_fails("17179869184G", -ERANGE);
	CU_ASSERT_EQUAL(dl_parse_size(NULL, NULL), -EINVAL);
}

static void test_err_set(void)
{
	struct dl_err err;
	char sz[32];

	CU_ASSERT_EQUAL(dl_err_set(&err, EINVAL, "size %s is odd",
				   dl_fmt_size(sz, sizeof(sz), 1536)), -EINVAL);
	CU_ASSERT_EQUAL(err.errnum, EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "size 1536 B is odd");
	/* negative errno is accepted too */
	CU_ASSERT_EQUAL(dl_err_set(&err, -ENOSPC, "full"), -ENOSPC);
	CU_ASSERT_EQUAL(err.errnum, ENOSPC);
	dl_err_clear(&err);
	CU_ASSERT_EQUAL(err.errnum, 0);
	CU_ASSERT_STRING_EQUAL(err.msg, "");
	CU_ASSERT_EQUAL(dl_err_set(NULL, EIO, "nobody listens"), -EIO);
	dl_err_clear(NULL);
}

static void test_err_long_message(void)
{
	struct dl_err err;
	char big[DL_ERR_MSG_MAX * 2];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	dl_err_set(&err, E2BIG, "%s", big);
	CU_ASSERT_EQUAL(strlen(err.msg), DL_ERR_MSG_MAX - 1);
}

static CU_TestInfo crc_tests[] = {
	{ "crc32c check value", test_crc32c_check },
	{ "crc64 check value", test_crc64_check },
	{ "crc chaining", test_crc_chaining },
	{ "crc32c skips its field", test_crc32c_skip },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo size_tests[] = {
	{ "fmt_size picks the largest exact unit", test_fmt_size },
	{ "fmt_size respects the buffer", test_fmt_size_truncates },
	{ "parse_size suffixes", test_parse_size },
	{ "parse_size errors", test_parse_size_errors },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo err_tests[] = {
	{ "err_set and err_clear", test_err_set },
	{ "err message is bounded", test_err_long_message },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "crc", NULL, NULL, NULL, NULL, crc_tests },
	{ "size", NULL, NULL, NULL, NULL, size_tests },
	{ "err", NULL, NULL, NULL, NULL, err_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return dl_cunit_main(suites);
}

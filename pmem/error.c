// SPDX-License-Identifier: BSD-3-Clause
/*
 * error.c - struct dl_err, and the size formatting/parsing every size
 * message uses.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "error.h"

int dl_err_set(struct dl_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (errnum < 0)
		errnum = -errnum;
	if (err) {
		err->errnum = errnum;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -errnum;
}

void dl_err_clear(struct dl_err *err)
{
	if (!err)
		return;
	err->errnum = 0;
	err->msg[0] = '\0';
}

static const char *const size_units[] = {
	"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
};

char *dl_fmt_size(char *buf, unsigned long n, unsigned long long bytes)
{
	unsigned int u = 0;

	/* 0 has no "largest unit that divides it": print it in bytes */
	while (bytes && !(bytes & 1023) && u + 1 < sizeof(size_units) /
	       sizeof(size_units[0])) {
		bytes >>= 10;
		u++;
	}
	if (n)
		snprintf(buf, n, "%llu %s", bytes, size_units[u]);
	return buf;
}

/* Power-of-1024 exponent of a suffix letter, or -1. */
static int suffix_shift(char c)
{
	static const char letters[] = "KMGTP";
	const char *p = strchr(letters, toupper((unsigned char)c));

	if (!c || !p)
		return -1;
	return (int)(p - letters + 1) * 10;
}

/*
 * What may follow the digits: nothing, "B", or a letter optionally
 * followed by "B" or "iB" (any case).  Returns the shift or -1.
 */
static int parse_suffix(const char *s)
{
	int shift;

	if (!*s)
		return 0;
	if (!strcasecmp(s, "B"))
		return 0;
	shift = suffix_shift(s[0]);
	if (shift < 0)
		return -1;
	s++;
	if (!*s || !strcasecmp(s, "B") || !strcasecmp(s, "iB"))
		return shift;
	return -1;
}

/* Decimal digits only: strtoull would accept "-1", " 1" and "0x10". */
static int parse_digits(const char **sp, unsigned long long *out)
{
	const char *s = *sp;
	unsigned long long v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned int d = (unsigned int)(*s - '0');

		if (v > (~0ULL - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*sp = s;
	*out = v;
	return 0;
}

int dl_parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v;
	int shift, rc;

	if (!s || !out)
		return -EINVAL;
	rc = parse_digits(&s, &v);
	if (rc)
		return rc;
	shift = parse_suffix(s);
	if (shift < 0)
		return -EINVAL;
	if (shift && v > (~0ULL >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

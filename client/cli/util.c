/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * util.c - messages and argument parsing shared by the verbs.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"

void cli_error(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", ctx->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", ctx->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nsee '%s --help'\n", ctx->prog);
	return CLI_EXIT_USAGE;
}

/* "0x..." in full, no suffix: the form -u prints offsets in. */
static int parse_hex(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!isxdigit((unsigned char)s[2]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 16);
	if (errno)
		return -errno;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int cli_parse_bytes(const struct cli_ctx *ctx, const char *what,
		    const char *arg, uint64_t *out)
{
	unsigned long long v;
	int rc;

	if (!strncasecmp(arg, "0x", 2)) {
		rc = parse_hex(arg, out);
	} else {
		rc = dl_parse_size(arg, &v);
		if (!rc)
			*out = v;
	}
	if (rc == -ERANGE)
		cli_usage_error(ctx, "%s '%s' is too large", what, arg);
	else if (rc)
		cli_usage_error(ctx, "%s '%s' is not a size: use bytes, a "
				"K/M/G/T/P suffix (binary units) or 0x hex",
				what, arg);
	return rc;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int cli_parse_uuid(const char *s, uint8_t out[16])
{
	size_t i, n = 0;
	int hi, lo;

	if (strlen(s) != 36)
		return -EINVAL;
	for (i = 0; i < 36 && n < 16; ) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i++] != '-')
				return -EINVAL;
			continue;
		}
		hi = hexval((unsigned char)s[i]);
		lo = hexval((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[n++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return 0;
}

char *cli_fmt_uuid(char *buf, const uint8_t u[16])
{
	snprintf(buf, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
	return buf;
}

const char *cli_err_msg(const struct dl_err *err, int rc)
{
	if (err && err->msg[0])
		return err->msg;
	return strerror(rc < 0 ? -rc : rc);
}

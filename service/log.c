// SPDX-License-Identifier: BSD-3-Clause
/* log.c - leveled logging to stderr, journal-friendly, one line per
 * message whatever the strings in it (log.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static enum dl_log_level log_level = DL_LOG_INFO;
static int log_journal;

static const struct {
	const char *name;
	enum dl_log_level level;
} level_names[] = {
	{ "err", DL_LOG_ERR }, { "error", DL_LOG_ERR },
	{ "warn", DL_LOG_WARN }, { "warning", DL_LOG_WARN },
	{ "info", DL_LOG_INFO }, { "debug", DL_LOG_DEBUG },
};

int dl_log_parse_level(const char *s, enum dl_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++) {
		if (!strcasecmp(s, level_names[i].name)) {
			*out = level_names[i].level;
			return 0;
		}
	}
	/* numeric syslog priorities, for people used to them */
	if (s[0] >= '3' && s[0] <= '7' && !s[1]) {
		int v = s[0] - '0';

		*out = v == 5 ? DL_LOG_INFO : (enum dl_log_level)v;
		return 0;
	}
	return -EINVAL;
}

void dl_log_set_level(enum dl_log_level level)
{
	log_level = level;
}

enum dl_log_level dl_log_get_level(void)
{
	return log_level;
}

void dl_log_init(void)
{
	/* journald sets JOURNAL_STREAM for a unit's stdout/stderr */
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

static const char *level_word(enum dl_log_level level)
{
	switch (level) {
	case DL_LOG_ERR:
		return "error";
	case DL_LOG_WARN:
		return "warning";
	case DL_LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Append c, or "\\xHH" when hex, to out[*n] if it fits before the
 * NUL that ends size bytes: false (nothing written) if not. */
static bool put(char *out, size_t size, size_t *n, unsigned char c, bool hex)
{
	static const char digits[] = "0123456789abcdef";

	if (*n + (hex ? 4 : 1) >= size)
		return false;
	if (!hex) {
		out[(*n)++] = (char)c;
		return true;
	}
	out[(*n)++] = '\\';
	out[(*n)++] = 'x';
	out[(*n)++] = digits[c >> 4];
	out[(*n)++] = digits[c & 15];
	return true;
}

char *dl_log_escape(char *out, size_t size, const char *s, size_t max)
{
	size_t n = 0;

	if (!size)
		return out;
	/* a string too long is cut between two escapes, never inside one */
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\' || c == '"') {
			if (n + 2 >= size)
				break;
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (!put(out, size, &n, c, is_control(c) || c >= 0x80)) {
			break;
		}
	}
	out[n] = 0;
	return out;
}

const char *dl_log_str(const char *s, size_t max)
{
	static char slot[DL_LOG_STR_SLOTS][4 * 255 + 1];
	static unsigned next;
	char *out = slot[next++ % DL_LOG_STR_SLOTS];

	return dl_log_escape(out, sizeof(slot[0]), s, max < 255 ? max : 255);
}

/* The line as written: any control character left becomes \xHH. */
static void one_line(char *out, size_t size, const char *line)
{
	size_t n = 0;

	for (; *line; line++)
		if (!put(out, size, &n, (unsigned char)*line,
			 is_control((unsigned char)*line)))
			break;
	out[n] = 0;
}

static void write_line(enum dl_log_level level, const char *line)
{
	char out[4 * 1024];

	one_line(out, sizeof(out), line);
	if (log_journal)
		fprintf(stderr, "<%d>%s\n", (int)level, out);
	else
		fprintf(stderr, "daxleased: %s: %s\n", level_word(level), out);
}

void dl_log(enum dl_log_level level, const char *fmt, ...)
{
	int saved = errno;
	char line[1024];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	write_line(level, line);
	errno = saved;
}

bool dl_ratelimit_pass(struct dl_ratelimit *rl, int64_t now_ns,
		       uint64_t *missed)
{
	if (rl->used && now_ns - rl->last_ns < rl->interval_ns) {
		rl->missed++;
		return false;
	}
	*missed = rl->missed;
	rl->missed = 0;
	rl->last_ns = now_ns;
	rl->used = true;
	return true;
}

void dl_log_limited(struct dl_ratelimit *rl, enum dl_log_level level,
		    const char *fmt, ...)
{
	int saved = errno;
	char line[1024];
	struct timespec ts;
	uint64_t missed;
	va_list ap;
	int n;

	if (level > log_level)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (!dl_ratelimit_pass(rl, (int64_t)ts.tv_sec * 1000000000 +
			       ts.tv_nsec, &missed))
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (missed && n >= 0 && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - (size_t)n,
			 " (and %llu more like it)", (unsigned long long)missed);
	write_line(level, line);
	errno = saved;
}

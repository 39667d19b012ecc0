// SPDX-License-Identifier: BSD-3-Clause
/* log.c - leveled logging to stderr, journal-friendly. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if (log_journal)
		fprintf(stderr, "<%d>%s\n", (int)level, line);
	else
		fprintf(stderr, "daxleased: %s: %s\n", level_word(level), line);
	errno = saved;
}

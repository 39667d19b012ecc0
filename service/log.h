/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log.h - daxleased's leveled logging to stderr.
 *
 * Under systemd ($JOURNAL_STREAM set) each line starts with the syslog
 * priority ("<3>" ...) so the journal keeps the level; on a terminal the
 * level is written as a word instead.  errno is preserved.
 */
#ifndef DAXLEASED_LOG_H
#define DAXLEASED_LOG_H

enum dl_log_level {
	DL_LOG_ERR = 3,		/* syslog priorities, so "<%d>" is the prefix */
	DL_LOG_WARN = 4,
	DL_LOG_INFO = 6,
	DL_LOG_DEBUG = 7,
};

/* Parse "err", "warn", "info", "debug" (or 3..7); -EINVAL otherwise. */
int dl_log_parse_level(const char *s, enum dl_log_level *out);
void dl_log_set_level(enum dl_log_level level);
enum dl_log_level dl_log_get_level(void);
/* Call once at start: decides the prefix style from $JOURNAL_STREAM. */
void dl_log_init(void);

void dl_log(enum dl_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) dl_log(DL_LOG_ERR, __VA_ARGS__)
#define log_warn(...) dl_log(DL_LOG_WARN, __VA_ARGS__)
#define log_info(...) dl_log(DL_LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                  \
	do {                                                            \
		if (dl_log_get_level() >= DL_LOG_DEBUG)                 \
			dl_log(DL_LOG_DEBUG, __VA_ARGS__);              \
	} while (0)

#endif

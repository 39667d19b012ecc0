/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log.h - daxleased's leveled logging to stderr.
 *
 * Under systemd ($JOURNAL_STREAM set) each line starts with the syslog
 * priority ("<3>" ...) so the journal keeps the level; on a terminal the
 * level is written as a word instead.  errno is preserved.
 *
 * A log line is always one line: strings a client chooses (its HELLO
 * name, its process name - /proc/PID/comm, which any process may set to
 * anything - and file names) go in escaped with dl_log_str() or
 * dl_log_escape(), and dl_log() writes any control character that is
 * left in a line as \xHH all the same.
 */
#ifndef DAXLEASED_LOG_H
#define DAXLEASED_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/*
 * A client's string as a log line shows it: at most max bytes of s (up
 * to a NUL); printable ASCII as it is, except \ and " written \\ and \",
 * and every other byte - control characters, DEL, bytes >= 0x80 - as
 * \xHH (a newline is \x0a), so the string cannot end the line, fake a
 * quote around it, or send a terminal an escape sequence.  Callers put
 * quotes around it.  dl_log_escape() writes into out (4 * max + 1 bytes
 * hold any string; a longer one is cut) and returns out.
 */
char *dl_log_escape(char *out, size_t size, const char *s, size_t max);
/* The same into one of DL_LOG_STR_SLOTS static buffers, used in turn:
 * enough for the strings of one log line.  At most 255 bytes of s. */
#define DL_LOG_STR_SLOTS 4
const char *dl_log_str(const char *s, size_t max);

/*
 * A line that can repeat as fast as a client can make it happen (a limit
 * reached, accept() failing): at most one a interval goes out, the ones in
 * between are counted, and the next one written says how many there were,
 * "... (and N more like it)".  One limiter per kind of line, static where
 * the line is written:
 *
 *	static struct dl_ratelimit rl = DL_RATELIMIT(1000);
 *
 *	dl_log_limited(&rl, DL_LOG_WARN, "PIN refused: ...", ...);
 *
 * A count is written only with a later line of its kind: a burst that
 * stops leaves its last count unsaid.
 */
struct dl_ratelimit {
	int64_t interval_ns;
	int64_t last_ns;		/* when the last line went out */
	bool used;			/* one went out at all */
	uint64_t missed;		/* lines left out since */
};
#define DL_RATELIMIT(ms) { .interval_ns = (int64_t)(ms) * 1000000 }
/* May a line go out at now_ns (any clock that only goes forward)?  If so,
 * *missed says how many did not since the last one, and the count starts
 * again; if not, it is counted. */
bool dl_ratelimit_pass(struct dl_ratelimit *rl, int64_t now_ns,
		       uint64_t *missed);
/* dl_log() through rl, on CLOCK_MONOTONIC; a line under the log level
 * neither goes out nor counts. */
void dl_log_limited(struct dl_ratelimit *rl, enum dl_log_level level,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_err(...) dl_log(DL_LOG_ERR, __VA_ARGS__)
#define log_warn(...) dl_log(DL_LOG_WARN, __VA_ARGS__)
#define log_info(...) dl_log(DL_LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                  \
	do {                                                            \
		if (dl_log_get_level() >= DL_LOG_DEBUG)                 \
			dl_log(DL_LOG_DEBUG, __VA_ARGS__);              \
	} while (0)

#endif

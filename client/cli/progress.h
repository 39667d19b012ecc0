/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * progress.h - a progress line for long copies (put, get): bytes so far,
 * of how many when known, and MiB/s, on standard error when it is a
 * terminal - never in a pipe or a log, so scripts see only the JSON.
 */
#ifndef DAXLEASE_CLI_PROGRESS_H
#define DAXLEASE_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct cli_progress {
	bool on;		/* standard error is a terminal */
	const char *what;	/* "put hello.txt" */
	uint64_t total;		/* 0: unknown */
	uint64_t done;
	int64_t start_ns, shown_ns;
};

void cli_progress_start(struct cli_progress *p, const char *what,
			uint64_t total);
/* n more bytes copied; redraws at most ten times a second. */
void cli_progress_add(struct cli_progress *p, uint64_t n);
/* The last line, then a newline (nothing when off). */
void cli_progress_end(struct cli_progress *p);

#endif

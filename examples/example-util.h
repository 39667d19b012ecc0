/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * example-util.h - what rdma-pinner.c and truncate-racer.c both need:
 * error lines named after the program, number options, a clock.
 *
 * Header-only, so that each example still builds with one command
 * (keep this file beside it).  Define EXAMPLE_NAME, the prefix of every
 * error line, before including it.
 */
#ifndef DAXLEASE_EXAMPLE_UTIL_H
#define DAXLEASE_EXAMPLE_UTIL_H

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <daxlease/libdaxlease.h>

/* "NAME: what: strerror" on stderr; returns the exit status, 1. */
static inline int ex_fail(const char *what, int rc)
{
	fprintf(stderr, EXAMPLE_NAME ": %s: %s\n", what, strerror(-rc));
	return 1;
}

/* daxlease_new() failed: name the socket it tried (NULL: the default). */
static inline int ex_unreachable(const char *socket, int rc)
{
	fprintf(stderr, EXAMPLE_NAME ": cannot reach daxleased at %s: %s\n",
		socket ? socket : daxlease_default_socket(), strerror(-rc));
	return 1;
}

/* An option's number (decimal or 0x hex) in [min, max]: 0, or -1 said. */
static inline int ex_parse_number(const char *what, const char *s,
				  uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v < min || v > max) {
		fprintf(stderr, EXAMPLE_NAME ": %s: '%s' is not a number from "
			"%" PRIu64 " to %" PRIu64 "\n", what, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t ex_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * client_util.h - what the libdaxlease integration suites all need: a
 * size from the environment, a clock, a file's size, a child's exit
 * status, and waiting until the service's BLOCKED view shows requests
 * waiting.
 *
 * Waiting on the BLOCKED view is the one poll the suites allow: a request
 * that waits inside daxleased sends nothing, so there is no line or byte
 * to wait for.  It polls every 5 ms for up to 20 s and only decides when
 * the next step may start; no test asserts how long anything took.
 */
#ifndef DAXLEASE_TESTS_CLIENT_UTIL_H
#define DAXLEASE_TESTS_CLIENT_UTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "daxlease/libdaxlease.h"

/* A count from the environment (a test's size), or dflt. */
static inline unsigned dlc_env_count(const char *name, unsigned dflt)
{
	const char *s = getenv(name);
	unsigned long v = s ? strtoul(s, NULL, 10) : 0;

	return v ? (unsigned)v : dflt;
}

/* CLOCK_MONOTONIC in seconds (for times a test prints). */
static inline double dlc_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline uint64_t dlc_file_size(struct daxlease_file *f)
{
	struct daxlease_stat st;

	CU_ASSERT_EQUAL(daxlease_fstat(f, &st), 0);
	return st.size;
}

/* The child's exit status, 128 + the signal that killed it, or -1. */
static inline int dlc_wait_exit(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* 0 once at least n requests wait (on pins only, if asked); else -1. */
static inline int dlc_wait_blocked(struct daxlease_ctx *ctx, unsigned n,
				   bool on_pins)
{
	struct daxlease_blocked b[16];

	for (int tries = 0; tries < 4000; tries++) {
		uint64_t cursor = 0;
		int got = daxlease_blocked(ctx, &cursor, b, 16), k = 0;

		for (int i = 0; i < got; i++)
			k += !on_pins || b[i].on_pins;
		if (got >= 0 && (unsigned)k >= n)
			return 0;
		usleep(5000);
	}
	fprintf(stderr, "never saw %u blocked requests\n", n);
	return -1;
}

#endif

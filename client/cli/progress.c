// SPDX-License-Identifier: BSD-3-Clause
/*
 * progress.c - the progress line of put and get (progress.h).
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

#define REDRAW_NS 100000000LL	/* ten times a second at most */
#define MiB (1024.0 * 1024.0)

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void draw(struct cli_progress *p, int64_t now)
{
	double secs = (double)(now - p->start_ns) / 1e9;
	double rate = secs > 0 ? (double)p->done / MiB / secs : 0;

	if (p->total)
		fprintf(stderr, "\r%s: %.1f of %.1f MiB (%.0f%%), %.0f MiB/s ",
			p->what, (double)p->done / MiB, (double)p->total / MiB,
			100.0 * (double)p->done / (double)p->total, rate);
	else
		fprintf(stderr, "\r%s: %.1f MiB, %.0f MiB/s ", p->what,
			(double)p->done / MiB, rate);
	p->shown_ns = now;
}

void cli_progress_start(struct cli_progress *p, const char *what,
			uint64_t total)
{
	p->on = isatty(STDERR_FILENO);
	p->what = what;
	p->total = total;
	p->done = 0;
	p->start_ns = p->shown_ns = mono_ns();
}

void cli_progress_add(struct cli_progress *p, uint64_t n)
{
	int64_t now;

	p->done += n;
	if (!p->on)
		return;
	now = mono_ns();
	if (now - p->shown_ns >= REDRAW_NS)
		draw(p, now);
}

void cli_progress_end(struct cli_progress *p)
{
	if (!p->on)
		return;
	draw(p, mono_ns());
	fputc('\n', stderr);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * torture_common.c - the torture test's words, comparisons and child
 * plumbing (torture.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "torture.h"

#define SHOW_WORDS 4	/* differing words printed per comparison */
#define SHOW_RANGES 16	/* comparisons that print them, per process */
#define SHOW_SUMMARIES 64	/* then only their summary lines */

/* this process's failed comparisons (its pinning threads share it) */
static unsigned bad_ranges;

void tt_describe(uint64_t word, char *buf, size_t len)
{
	uint64_t off = (word & 0xffffffffULL) << 3;

	if (!word)
		snprintf(buf, len, "zeros");
	else if (word >> 56 == TT_TAG_DMA)
		snprintf(buf, len, "DMA of pinner %u.%u, transfer %u, for "
			 "offset %#" PRIx64, (unsigned)(word >> 48 & 0xff) /
			 TT_MAX_THREADS, (unsigned)(word >> 48 & 0xff) %
			 TT_MAX_THREADS, (unsigned)(word >> 32 & 0xffff), off);
	else if (word >> 56 == TT_TAG_VICTIM)
		snprintf(buf, len, "victim v%u generation %u, offset %#"
			 PRIx64, (unsigned)(word >> 40 & 0xffff),
			 (unsigned)(word >> 32 & 0xff), off);
	else
		snprintf(buf, len, "unknown %#018" PRIx64, word);
}

uint64_t tt_compare(const char *what, const uint64_t *got, size_t got_len,
		    uint64_t off, size_t len, tt_expect_fn expect,
		    const void *arg)
{
	uint64_t bad = 0, first = 0, last = 0;
	unsigned shown = __atomic_load_n(&bad_ranges, __ATOMIC_RELAXED);
	unsigned show = shown < SHOW_RANGES ? SHOW_WORDS : 0;

	for (size_t i = 0; i < len / 8; i++) {
		uint64_t at = off + 8 * i, want = expect(arg, at);
		char w[96], g[96];

		if ((i + 1) * 8 <= got_len && got[i] == want)
			continue;
		if (!bad++)
			first = at;
		last = at;
		if (bad > show)
			continue;
		tt_describe(want, w, sizeof(w));
		if ((i + 1) * 8 <= got_len)
			tt_describe(got[i], g, sizeof(g));
		else
			snprintf(g, sizeof(g), "nothing (short read, %zu "
				 "bytes)", got_len);
		fprintf(stderr, "torture: MISMATCH %s at offset %#" PRIx64
			": expected %s, found %s\n", what, at, w, g);
	}
	if (bad && bad > show && shown < SHOW_SUMMARIES)
		fprintf(stderr, "torture: MISMATCH %s: %" PRIu64 " words differ "
			"between offsets %#" PRIx64 " and %#" PRIx64 "\n", what,
			bad, first, last);
	if (bad)
		__atomic_add_fetch(&bad_ranges, 1, __ATOMIC_RELAXED);
	return bad;
}

const char *tt_pinned_name(unsigned k, char *buf, size_t len)
{
	snprintf(buf, len, "pinned%u", k);
	return buf;
}

const char *tt_victim_name(unsigned id, char *buf, size_t len)
{
	snprintf(buf, len, "v%u", id);
	return buf;
}

static uint64_t victim_expect(const void *arg, uint64_t off)
{
	const struct tt_victim *v = arg;

	return tt_victim_word(v->id, v->gen, off);
}

uint64_t tt_verify_victim(struct daxlease_ctx *ctx, const char *who,
			  const struct tt_victim *v)
{
	struct daxlease_file *f = NULL;
	char name[32], what[96];
	uint64_t *buf, bad;
	ssize_t n = 0;
	int rc;

	tt_victim_name(v->id, name, sizeof(name));
	snprintf(what, sizeof(what), "%s: victim %s (%" PRIu64 " bytes)", who,
		 name, v->size);
	buf = malloc(v->size + 8);
	if (!buf)
		return v->size / 8;
	rc = daxlease_open(ctx, name, DAXLEASE_O_READ, 0, &f);
	if (rc)
		fprintf(stderr, "torture: %s: open: %s\n", what, strerror(-rc));
	else
		n = daxlease_pread(f, buf, v->size + 8, 0);
	if (n > (ssize_t)v->size) {
		fprintf(stderr, "torture: MISMATCH %s: it is longer\n", what);
		n = (ssize_t)v->size;
	}
	bad = tt_compare(what, buf, n > 0 ? (size_t)n : 0, 0, v->size,
			 victim_expect, v);
	if (f)
		daxlease_close(f);
	free(buf);
	return bad + (n > (ssize_t)v->size);
}

uint64_t tt_seed_for(const struct tt_config *cfg, unsigned role,
		     unsigned index)
{
	/* never 0: xorshift would stay there */
	return (cfg->seed ^ (0x9e3779b97f4a7c15ULL * (role * 64 + index + 1)))
	       | 1;
}

bool tt_stopped(const struct tt_config *cfg)
{
	struct pollfd p = { .fd = cfg->stop, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

struct daxlease_ctx *tt_connect(const struct tt_config *cfg, const char *who)
{
	struct daxlease_ctx *ctx = NULL;
	int rc = daxlease_new(&ctx, cfg->socket);

	if (rc) {
		fprintf(stderr, "torture: %s: connect %s: %s\n", who,
			cfg->socket, strerror(-rc));
		_exit(2);
	}
	return ctx;
}

int tt_pipe_io(int fd, void *buf, size_t len, bool out)
{
	char *p = buf;

	while (len) {
		ssize_t n = out ? write(fd, p, len) : read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void tt_child_exit(int out, struct tt_report *r, struct tt_victim *v,
		   uint32_t n)
{
	r->nvictims = n;
	if (tt_pipe_io(out, r, sizeof(*r), true) ||
	    (n && tt_pipe_io(out, v, n * sizeof(*v), true)))
		_exit(3);
	/* _exit: the parent's atexit handlers (its tmpdir) are not ours */
	_exit(r->errors ? 1 : 0);
}

// SPDX-License-Identifier: BSD-3-Clause
/* rangeset.c - sorted, merged sets of namespace ranges; see rangeset.h. */
#include <errno.h>
#include <stdlib.h>

#include "rangeset.h"

static uint64_t range_end(const struct dl_range *r)
{
	return r->len > UINT64_MAX - r->off ? UINT64_MAX : r->off + r->len;
}

int dl_rangeset_add(struct dl_rangeset *s, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct dl_range *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct dl_range){ off, len };
	s->sorted = s->n == 1;
	return 0;
}

int dl_rangeset_add_all(struct dl_rangeset *s, const struct dl_rangeset *from)
{
	for (size_t i = 0; i < from->n; i++)
		if (dl_rangeset_add(s, from->v[i].off, from->v[i].len))
			return -ENOMEM;
	return 0;
}

static int by_off(const void *a, const void *b)
{
	const struct dl_range *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

void dl_rangeset_normalize(struct dl_rangeset *s)
{
	size_t k = 0;

	if (s->sorted || !s->n) {
		s->sorted = true;
		return;
	}
	qsort(s->v, s->n, sizeof(*s->v), by_off);
	for (size_t i = 1; i < s->n; i++) {
		struct dl_range *last = &s->v[k];

		if (s->v[i].off <= range_end(last)) {
			uint64_t end = range_end(&s->v[i]);

			if (end > range_end(last))
				last->len = end - last->off;
		} else {
			s->v[++k] = s->v[i];
		}
	}
	s->n = k + 1;
	s->sorted = true;
}

/* The first range whose end is above off (n if none). */
static size_t first_ending_after(const struct dl_rangeset *s, uint64_t off)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (range_end(&s->v[mid]) <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool dl_rangeset_meets(const struct dl_rangeset *s, uint64_t off, uint64_t len)
{
	struct dl_range q = { off, len };
	size_t i;

	if (!len)
		return false;
	i = first_ending_after(s, off);
	return i < s->n && s->v[i].off < range_end(&q);
}

bool dl_rangeset_covers(const struct dl_rangeset *s, uint64_t off,
			uint64_t len)
{
	struct dl_range q = { off, len };
	size_t i;

	if (!len)
		return true;
	i = first_ending_after(s, off);
	return i < s->n && s->v[i].off <= off && range_end(&s->v[i]) >=
	       range_end(&q);
}

bool dl_rangeset_covers_all(const struct dl_rangeset *s,
			    const struct dl_rangeset *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (!dl_rangeset_covers(s, t->v[i].off, t->v[i].len))
			return false;
	return true;
}

bool dl_rangesets_meet(const struct dl_rangeset *a, const struct dl_rangeset *b)
{
	const struct dl_rangeset *small = a->n < b->n ? a : b;
	const struct dl_rangeset *big = small == a ? b : a;

	for (size_t i = 0; i < small->n; i++)
		if (dl_rangeset_meets(big, small->v[i].off, small->v[i].len))
			return true;
	return false;
}

/* The index of the smallest gap (between v[i] and v[i+1]). */
static size_t smallest_gap(const struct dl_rangeset *s)
{
	size_t best = 0;
	uint64_t gap = UINT64_MAX;

	for (size_t i = 0; i + 1 < s->n; i++) {
		uint64_t g = s->v[i + 1].off - range_end(&s->v[i]);

		if (g < gap) {
			gap = g;
			best = i;
		}
	}
	return best;
}

void dl_rangeset_coarsen(struct dl_rangeset *s, size_t max)
{
	dl_rangeset_normalize(s);
	if (!max)
		max = 1;
	/* quadratic, but only ever over one process's few records */
	while (s->n > max) {
		size_t i = smallest_gap(s);

		s->v[i].len = range_end(&s->v[i + 1]) - s->v[i].off;
		for (size_t j = i + 1; j + 1 < s->n; j++)
			s->v[j] = s->v[j + 1];
		s->n--;
	}
}

uint64_t dl_rangeset_bytes(const struct dl_rangeset *s)
{
	uint64_t total = 0;

	for (size_t i = 0; i < s->n; i++)
		total += s->v[i].len;
	return total;
}

void dl_rangeset_clear(struct dl_rangeset *s)
{
	s->n = 0;
	s->sorted = true;
}

void dl_rangeset_free(struct dl_rangeset *s)
{
	free(s->v);
	*s = (struct dl_rangeset){ 0 };
}

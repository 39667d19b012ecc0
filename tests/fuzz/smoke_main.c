/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smoke_main.c - a driver for LLVMFuzzerTestOneInput without libFuzzer,
 * so that every build (gcc included) runs the fuzz target in ctest:
 *
 *   fuzz_smoke [CORPUS_DIR]
 *
 * Runs every file of the corpus (the seeds, and the reproducers of bugs
 * the fuzzer found), then DAXLEASE_FUZZ_ITERS (default 20000) inputs made
 * from them by a seeded mutator: bit flips, byte sets, truncations,
 * insertions and random lengths.  The same DAXLEASE_FUZZ_SEED (default 1)
 * gives the same inputs; set DAXLEASE_FUZZ_SAVE=FILE to have each input
 * written there before it runs, so a crash leaves its input behind.
 * DAXLEASE_FUZZ_SECONDS=N stops making mutants after N seconds (a soak
 * with a huge DAXLEASE_FUZZ_ITERS).
 *
 * Exit: 0 when every input ran, 77 (skip) when the corpus is missing; a
 * bug crashes the process, which is the failure ctest reports.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_input.h"

#define SKIP 77
#define SMOKE_MAX_INPUT (64 * 1024)

struct seed {
	uint8_t *data;
	size_t size;
	char *name;
};

struct corpus {
	struct seed *v;
	size_t n;
};

/* ---- a small deterministic PRNG (xorshift64*) ------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static size_t rnd_below(size_t n)
{
	return n ? (size_t)(rnd() % n) : 0;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return dflt;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end) {
		fprintf(stderr, "fuzz_smoke: ignoring %s=%s (not a number)\n",
			name, s);
		return dflt;
	}
	return v;
}

/* ---- corpus ------------------------------------------------------------- */

static int read_file(const char *path, struct seed *s)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > SMOKE_MAX_INPUT) {
		close(fd);
		return -EINVAL;
	}
	s->size = (size_t)st.st_size;
	s->data = malloc(s->size ? s->size : 1);
	n = s->data ? read(fd, s->data, s->size) : -1;
	close(fd);
	if (n != (ssize_t)s->size) {
		free(s->data);
		return -EIO;
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	const struct seed *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Every regular file of dir, sorted by name so runs are repeatable. */
static int load_corpus(const char *dir, struct corpus *c)
{
	struct dirent *de;
	char path[4096];
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct seed s = { 0 }, *v;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (read_file(path, &s))
			continue;
		v = realloc(c->v, (c->n + 1) * sizeof(*v));
		if (v)
			c->v = v;
		s.name = strdup(de->d_name);
		if (!v || !s.name) {
			free(s.data);
			free(s.name);
			closedir(d);
			return -ENOMEM;
		}
		c->v[c->n++] = s;
	}
	closedir(d);
	qsort(c->v, c->n, sizeof(*c->v), name_cmp);
	return 0;
}

static void free_corpus(struct corpus *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].data);
		free(c->v[i].name);
	}
	free(c->v);
}

/* ---- mutations ----------------------------------------------------------- */

static const uint8_t interesting[] = { 0, 1, 0x7f, 0x80, 0xff, 0xfe, 64, 255 };

static void flip_bit(uint8_t *buf, size_t *len)
{
	if (*len)
		buf[rnd_below(*len)] ^= (uint8_t)(1u << rnd_below(8));
}

static void set_byte(uint8_t *buf, size_t *len)
{
	if (!*len)
		return;
	buf[rnd_below(*len)] = rnd() & 1 ? (uint8_t)rnd() :
			       interesting[rnd_below(sizeof(interesting))];
}

/* Overwrite 8 bytes with a boundary value: lengths and counts live there. */
static void set_word(uint8_t *buf, size_t *len)
{
	static const uint64_t words[] = {
		0, 1, UINT32_MAX, (uint64_t)UINT32_MAX + 1, INT64_MAX,
		UINT64_MAX, 4096, 1ULL << 44,
	};
	uint64_t w = words[rnd_below(sizeof(words) / sizeof(words[0]))];
	size_t at;

	if (*len < 8)
		return;
	at = rnd_below(*len - 7) & ~(size_t)7;
	memcpy(buf + at, &w, sizeof(w));
}

static void truncate_input(uint8_t *buf, size_t *len)
{
	(void)buf;
	*len = rnd_below(*len + 1);
}

/* Grow to a random length with random bytes. */
static void extend_input(uint8_t *buf, size_t *len)
{
	size_t want = *len + rnd_below(SMOKE_MAX_INPUT - *len + 1);

	if (want > *len + 4096)
		want = *len + rnd_below(4097);
	for (size_t i = *len; i < want; i++)
		buf[i] = (uint8_t)rnd();
	*len = want;
}

static void insert_bytes(uint8_t *buf, size_t *len)
{
	size_t at = rnd_below(*len + 1), n = 1 + rnd_below(16);

	if (*len + n > SMOKE_MAX_INPUT)
		return;
	memmove(buf + at + n, buf + at, *len - at);
	for (size_t i = 0; i < n; i++)
		buf[at + i] = (uint8_t)rnd();
	*len += n;
}

static void erase_bytes(uint8_t *buf, size_t *len)
{
	size_t at, n;

	if (!*len)
		return;
	at = rnd_below(*len);
	n = 1 + rnd_below(*len - at < 16 ? *len - at : 16);
	memmove(buf + at, buf + at + n, *len - at - n);
	*len -= n;
}

static void (*const mutators[])(uint8_t *, size_t *) = {
	flip_bit, flip_bit, set_byte, set_byte, set_word, truncate_input,
	extend_input, insert_bytes, erase_bytes,
};

/* A mutant of a random seed; byte 0 (the target) is kept most times, so
 * the budget is spread over the targets as the corpus spreads it. */
static size_t mutate(const struct corpus *c, uint8_t *buf)
{
	const struct seed *s = &c->v[rnd_below(c->n)];
	size_t len = s->size, rounds = 1 + rnd_below(6);

	memcpy(buf, s->data, len);
	for (size_t i = 0; i < rounds; i++) {
		uint8_t keep = len ? buf[0] : 0;
		bool had = len > 0;

		mutators[rnd_below(sizeof(mutators) / sizeof(mutators[0]))](buf,
									 &len);
		if (had && len && rnd_below(8))
			buf[0] = keep;
	}
	return len;
}

/* ---- driver -------------------------------------------------------------- */

static void save_input(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "wb");
	if (!f)
		return;
	if (len)
		fwrite(buf, 1, len, f);
	fclose(f);
}

static void run_one(const char *save, const uint8_t *data, size_t size)
{
	/* an exact-size heap copy, as libFuzzer gives, for ASan builds */
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy) {
		perror("fuzz_smoke");
		exit(1);
	}
	memcpy(copy, data, size);
	save_input(save, copy, size);
	LLVMFuzzerTestOneInput(copy, size);
	free(copy);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : DAXLEASE_FUZZ_CORPUS;
	uint64_t iters = env_u64("DAXLEASE_FUZZ_ITERS", 20000);
	uint64_t seed = env_u64("DAXLEASE_FUZZ_SEED", 1);
	uint64_t seconds = env_u64("DAXLEASE_FUZZ_SECONDS", 0);
	const char *save = getenv("DAXLEASE_FUZZ_SAVE");
	struct corpus c = { 0 };
	uint8_t *buf;
	double t0 = now_s();
	int rc;

	rc = load_corpus(dir, &c);
	if (rc || !c.n) {
		fprintf(stderr, "fuzz_smoke: no corpus in %s: %s; skipping\n",
			dir, rc ? strerror(-rc) : "no files");
		free_corpus(&c);
		return SKIP;
	}
	buf = malloc(SMOKE_MAX_INPUT);
	if (!buf) {
		free_corpus(&c);
		return 1;
	}
	for (size_t i = 0; i < c.n; i++)
		run_one(save, c.v[i].data, c.v[i].size);
	rng_state = seed ? seed : 0x9E3779B97F4A7C15ULL;
	for (uint64_t i = 0; i < iters; i++) {
		if (seconds && now_s() - t0 >= (double)seconds) {
			iters = i;
			break;
		}
		run_one(save, buf, mutate(&c, buf));
	}
	printf("fuzz_smoke: %zu corpus files and %llu mutants (seed %llu) "
	       "ran in %.1f s\n", c.n, (unsigned long long)iters,
	       (unsigned long long)seed, now_s() - t0);
	free(buf);
	free_corpus(&c);
	return 0;
}

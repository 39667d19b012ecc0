// SPDX-License-Identifier: BSD-3-Clause
/*
 * persist.c - mappings and persist points through libpmem2, and the crash
 * simulation that crash tests stop at (see persist.h).
 *
 * The ordinary path is thin: a flush or drain counts itself and calls the
 * pmem2 function.  In a crash-simulation mapping (MAP_PRIVATE) nothing
 * reaches the file by itself, so a flush also records its range, widened
 * to whole 64-byte cache lines (what hardware makes durable), and a drain
 * writes the recorded lines to the file - or, at the chosen persist point,
 * writes a random subset of them and exits, which is what a power failure
 * with a few early cache evictions leaves behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <libpmem2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard.h"
#include "persist.h"
#include "persist_private.h"

#define CACHE_LINE 64UL

/* A flushed, not yet drained range: map offsets, whole cache lines. */
struct dl_range {
	size_t off;
	size_t len;
};

struct dl_map {
	struct pmem2_source *src;
	struct pmem2_map *pmap;
	int fd;
	char *addr;
	size_t size;
	enum dl_granularity gran;
	pmem2_flush_fn flush_fn;
	pmem2_drain_fn drain_fn;
	struct dl_persist_stats stats;
	bool sim;		/* crash simulation: private map + pending lines */
	bool read_only;
	int guard;		/* guard.h slot, or -1 */
	bool punched;		/* holes punched since the last sync */
	struct dl_range *pending;
	size_t npending;
	size_t pending_cap;
};

static atomic_uint_fast64_t persist_points;

/* ---- pmem2 errors ------------------------------------------------------ */

/*
 * pmem2_err_to_errno() is in libpmem2.h but Debian's libpmem2 does not
 * export it, so translate here.  pmem2 returns either -errno from a
 * system call (pass it through) or one of its own codes below -100000.
 */
static int pmem2_errno(int rc)
{
	if (rc > PMEM2_E_UNKNOWN)
		return rc;
	switch (rc) {
	case PMEM2_E_NOSUPP:
	case PMEM2_E_GRANULARITY_NOT_SUPPORTED:
	case PMEM2_E_SOURCE_TYPE_NOT_SUPPORTED:
	case PMEM2_E_SRC_DEVDAX_PRIVATE:
		return -EOPNOTSUPP;
	case PMEM2_E_INVALID_FILE_HANDLE:
	case PMEM2_E_FILE_DESCRIPTOR_NOT_SET:
		return -EBADF;
	case PMEM2_E_MAP_RANGE:
	case PMEM2_E_OFFSET_OUT_OF_RANGE:
	case PMEM2_E_LENGTH_OUT_OF_RANGE:
		return -ERANGE;
	case PMEM2_E_NO_ACCESS:
		return -EACCES;
	case PMEM2_E_IO_FAIL:
		return -EIO;
	case PMEM2_E_SOURCE_EMPTY:
		return -ENODATA;
	default:
		return -EINVAL;
	}
}

static enum dl_granularity from_pmem2_gran(enum pmem2_granularity g)
{
	switch (g) {
	case PMEM2_GRANULARITY_BYTE:
		return DL_GRANULARITY_BYTE;
	case PMEM2_GRANULARITY_CACHE_LINE:
		return DL_GRANULARITY_CACHE_LINE;
	default:
		return DL_GRANULARITY_PAGE;
	}
}

const char *dl_granularity_name(enum dl_granularity g)
{
	switch (g) {
	case DL_GRANULARITY_BYTE:
		return "byte";
	case DL_GRANULARITY_CACHE_LINE:
		return "cache-line";
	case DL_GRANULARITY_PAGE:
		return "page";
	}
	return "unknown";
}

/* ---- crash simulation settings ------------------------------------------ */

#ifdef DAXLEASE_FAULT_INJECTION
struct fault_cfg {
	uint64_t crash_at;	/* 0: no crash simulation */
	uint64_t seed;
	bool evict;
};

static struct fault_cfg fault;
static uint64_t prng;
static pthread_once_t fault_once = PTHREAD_ONCE_INIT;

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return dflt;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || s[0] == '-')
		return dflt;
	return v;
}

static void fault_load(void)
{
	fault.crash_at = env_u64("DAXLEASE_CRASH_AT", 0);
	fault.seed = env_u64("DAXLEASE_CRASH_SEED", 1);
	fault.evict = env_u64("DAXLEASE_CRASH_EVICT", 1) != 0;
	/* xorshift must not start at 0: it would stay there */
	prng = fault.seed ? fault.seed : 0x9E3779B97F4A7C15ULL;
}

void dl_persist_fault_reload(void)
{
	pthread_once(&fault_once, fault_load);
	fault_load();
	atomic_store(&persist_points, 0);
}

static bool fault_sim_wanted(enum dl_map_mode mode)
{
	pthread_once(&fault_once, fault_load);
	return fault.crash_at && mode == DL_MAP_READ_WRITE;
}

static bool coin_flip(void)
{
	prng ^= prng << 13;
	prng ^= prng >> 7;
	prng ^= prng << 17;
	return prng >> 63;
}
#else
void dl_persist_fault_reload(void)
{
}

static bool fault_sim_wanted(enum dl_map_mode mode)
{
	(void)mode;
	return false;
}
#endif

/* ---- mapping ------------------------------------------------------------ */

static int config_make(struct pmem2_config **cfg, size_t len,
		       enum dl_map_mode mode, bool sim,
		       enum pmem2_granularity g)
{
	int rc;

	rc = pmem2_config_new(cfg);
	if (rc)
		return rc;
	rc = pmem2_config_set_required_store_granularity(*cfg, g);
	if (!rc)
		rc = pmem2_config_set_length(*cfg, len);
	if (!rc && mode == DL_MAP_READ_ONLY)
		rc = pmem2_config_set_protection(*cfg, PMEM2_PROT_READ);
	if (!rc && sim)
		rc = pmem2_config_set_sharing(*cfg, PMEM2_PRIVATE);
	if (rc)
		pmem2_config_delete(cfg);
	return rc;
}

/*
 * Ask for the finest granularity first: pmem2 refuses a request finer
 * than the source offers, and accepts any coarser one, so the first
 * success is the best the source can do.
 */
static int map_finest(struct dl_map *map, size_t len, enum dl_map_mode mode)
{
	static const enum pmem2_granularity order[] = {
		PMEM2_GRANULARITY_BYTE,
		PMEM2_GRANULARITY_CACHE_LINE,
		PMEM2_GRANULARITY_PAGE,
	};
	struct pmem2_config *cfg;
	int rc = PMEM2_E_GRANULARITY_NOT_SUPPORTED;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		rc = config_make(&cfg, len, mode, map->sim, order[i]);
		if (rc)
			return rc;
		rc = pmem2_map_new(&map->pmap, cfg, map->src);
		pmem2_config_delete(&cfg);
		if (rc != PMEM2_E_GRANULARITY_NOT_SUPPORTED)
			break;
	}
	return rc;
}

static void map_fill(struct dl_map *map)
{
	map->addr = pmem2_map_get_address(map->pmap);
	map->size = pmem2_map_get_size(map->pmap);
	map->gran = from_pmem2_gran(pmem2_map_get_store_granularity(map->pmap));
	/*
	 * pmem2 calls a private mapping byte-granular (nothing to flush to),
	 * but the simulation models ADR: only flushed lines survive.  Say so,
	 * lest a caller skip flushes the simulation depends on.
	 */
	if (map->sim)
		map->gran = DL_GRANULARITY_CACHE_LINE;
	map->flush_fn = pmem2_get_flush_fn(map->pmap);
	map->drain_fn = pmem2_get_drain_fn(map->pmap);
}

static int map_fail(struct dl_map *map, int rc, size_t len,
		    struct dl_err *err)
{
	char sz[32];
	const char *why = rc <= PMEM2_E_UNKNOWN ? pmem2_errormsg() : NULL;
	const char *how = map->sim ? " privately for crash simulation" : "";
	int e = pmem2_errno(rc);

	if (!why || !*why)
		why = strerror(-e);
	rc = dl_err_set(err, -e, "cannot map %s%s: %s",
			dl_fmt_size(sz, sizeof(sz), len), how, why);
	if (map->src)
		pmem2_source_delete(&map->src);
	free(map);
	return rc;
}

int dl_map_new(int fd, size_t len, enum dl_map_mode mode, struct dl_map **out,
	       struct dl_err *err)
{
	struct dl_map *map;
	int rc;

	*out = NULL;
	if (fd < 0)
		return dl_err_set(err, EBADF, "cannot map: no file descriptor");
	if (!len)
		return dl_err_set(err, EINVAL, "cannot map 0 bytes: a mapping needs a length");
	map = calloc(1, sizeof(*map));
	if (!map)
		return dl_err_set(err, ENOMEM, "out of memory for a mapping");
	map->fd = fd;
	map->guard = -1;
	map->read_only = mode == DL_MAP_READ_ONLY;
	map->sim = fault_sim_wanted(mode);
	rc = pmem2_source_from_fd(&map->src, fd);
	if (!rc)
		rc = map_finest(map, len, mode);
	if (rc)
		return map_fail(map, rc, len, err);
	map_fill(map);
	*out = map;
	return 0;
}

void dl_map_delete(struct dl_map **mapp)
{
	struct dl_map *map = mapp ? *mapp : NULL;

	if (!map)
		return;
	dl_guard_remove(map->guard);
	pmem2_map_delete(&map->pmap);
	pmem2_source_delete(&map->src);
	free(map->pending);
	free(map);
	*mapp = NULL;
}

void *dl_map_addr(const struct dl_map *map)
{
	return map->addr;
}

size_t dl_map_size(const struct dl_map *map)
{
	return map->size;
}

enum dl_granularity dl_map_granularity(const struct dl_map *map)
{
	return map->gran;
}

int dl_map_guard(struct dl_map *map)
{
	struct stat st;
	int slot;

	if (map->guard >= 0)
		return 0;
	if (fstat(map->fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return 0;	/* a device cannot shrink */
	slot = dl_guard_add(map->addr, map->size, map->read_only ? PROT_READ :
			    PROT_READ | PROT_WRITE);
	if (slot < 0)
		return slot;
	map->guard = slot;
	return 0;
}

uint64_t dl_map_faults(const struct dl_map *map)
{
	return dl_guard_faults(map->guard);
}

void dl_map_stats(const struct dl_map *map, struct dl_persist_stats *out)
{
	*out = map->stats;
}

uint64_t dl_persist_points(void)
{
	return atomic_load_explicit(&persist_points, memory_order_relaxed);
}

/* ---- crash simulation: pending lines -------------------------------------- */

#ifdef DAXLEASE_FAULT_INJECTION
/* Write map bytes [off, off+len) through to the file: they are durable. */
static void write_through(struct dl_map *map, size_t off, size_t len)
{
	while (len) {
		ssize_t n = pwrite(map->fd, map->addr + off, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		/* a test harness with a failing disk: nothing better to do */
		if (n <= 0)
			return;
		off += (size_t)n;
		len -= (size_t)n;
	}
}

/* Widen to cache lines and clip to the map; false if nothing is left. */
static bool line_range(const struct dl_map *map, const void *addr, size_t len,
		       struct dl_range *r)
{
	const char *p = addr;
	size_t start, end;

	if (p < map->addr || p >= map->addr + map->size || !len)
		return false;
	start = (size_t)(p - map->addr);
	end = len > map->size - start ? map->size : start + len;
	start &= ~(CACHE_LINE - 1);
	end = (end + CACHE_LINE - 1) & ~(CACHE_LINE - 1);
	if (end > map->size)
		end = map->size;
	r->off = start;
	r->len = end - start;
	return true;
}

static bool pending_grow(struct dl_map *map)
{
	size_t cap = map->pending_cap ? map->pending_cap * 2 : 64;
	struct dl_range *p = realloc(map->pending, cap * sizeof(*p));

	if (!p)
		return false;
	map->pending = p;
	map->pending_cap = cap;
	return true;
}

static void pending_add(struct dl_map *map, const void *addr, size_t len)
{
	struct dl_range r, *last;

	if (!line_range(map, addr, len, &r))
		return;
	last = map->npending ? &map->pending[map->npending - 1] : NULL;
	/* the common case: a sequence of stores that walks forward */
	if (last && r.off >= last->off && r.off <= last->off + last->len) {
		if (r.off + r.len > last->off + last->len)
			last->len = r.off + r.len - last->off;
		return;
	}
	/*
	 * Out of memory: make the lines durable now.  Hardware may evict a
	 * flushed line at any moment, so this is still a legal outcome.
	 */
	if (map->npending == map->pending_cap && !pending_grow(map)) {
		write_through(map, r.off, r.len);
		return;
	}
	map->pending[map->npending++] = r;
}

static int range_cmp(const void *a, const void *b)
{
	const struct dl_range *x = a, *y = b;

	return (x->off > y->off) - (x->off < y->off);
}

/* Sort and merge, so that no line is counted twice. */
static void pending_merge(struct dl_map *map)
{
	size_t i, n = 0;

	if (!map->npending)
		return;
	qsort(map->pending, map->npending, sizeof(*map->pending), range_cmp);
	for (i = 1; i < map->npending; i++) {
		struct dl_range *last = &map->pending[n], *r = &map->pending[i];

		if (r->off <= last->off + last->len) {
			if (r->off + r->len > last->off + last->len)
				last->len = r->off + r->len - last->off;
		} else {
			map->pending[++n] = *r;
		}
	}
	map->npending = n + 1;
}

static void pending_write_all(struct dl_map *map)
{
	for (size_t i = 0; i < map->npending; i++)
		write_through(map, map->pending[i].off, map->pending[i].len);
	map->npending = 0;
}

/* Power fails now: some flushed lines made it out of the caches early. */
static void __attribute__((noreturn)) crash_now(struct dl_map *map)
{
	if (map->sim && fault.evict) {
		pending_merge(map);
		for (size_t i = 0; i < map->npending; i++) {
			const struct dl_range *r = &map->pending[i];

			for (size_t o = r->off; o < r->off + r->len;
			     o += CACHE_LINE)
				if (coin_flip())
					write_through(map, o, CACHE_LINE);
		}
	}
	_exit(DL_CRASH_EXIT_CODE);
}

static void fault_flush(struct dl_map *map, const void *addr, size_t len)
{
	if (map->sim)
		pending_add(map, addr, len);
}

static void fault_drain(struct dl_map *map, uint64_t point)
{
	if (point == fault.crash_at)
		crash_now(map);
	if (map->sim)
		pending_write_all(map);
}
#else
static void fault_flush(struct dl_map *map, const void *addr, size_t len)
{
	(void)map;
	(void)addr;
	(void)len;
}

static void fault_drain(struct dl_map *map, uint64_t point)
{
	(void)map;
	(void)point;
}
#endif

/* ---- flush and drain ------------------------------------------------------ */

void dl_map_flush(struct dl_map *map, const void *addr, size_t len)
{
	if (!len)
		return;
	map->stats.flushes++;
	fault_flush(map, addr, len);
	map->flush_fn(addr, len);
}

void dl_map_drain(struct dl_map *map)
{
	uint64_t point;

	map->stats.drains++;
	point = atomic_fetch_add_explicit(&persist_points, 1,
					  memory_order_relaxed) + 1;
	fault_drain(map, point);
	map->drain_fn();
}

void dl_map_persist(struct dl_map *map, const void *addr, size_t len)
{
	dl_map_flush(map, addr, len);
	dl_map_drain(map);
}

int dl_map_punch_zero(struct dl_map *map, const void *addr, size_t len)
{
	size_t off = (size_t)((const char *)addr - map->addr);
	struct stat st;

	if (map->sim || fstat(map->fd, &st) || !S_ISREG(st.st_mode))
		return -ENOTSUP;
	if (off % 4096 || len % 4096 || off > map->size ||
	    len > map->size - off)
		return -EINVAL;
	if (fallocate(map->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len))
		return -errno;
	map->punched = true;
	return 0;
}

int dl_map_punch_sync(struct dl_map *map)
{
	if (!map->punched)
		return 0;
	map->punched = false;
	return fdatasync(map->fd) ? -errno : 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * map.c - mappings: the service fills a run of table entries, one per
 * leaf (PUD 1 GiB, PMD 2 MiB, PTE 4 KiB), and the library maps each leaf
 * of the namespace fd at its place in one contiguous virtual range.
 *
 * The range is reserved first (PROT_NONE, no memory committed) with
 * enough slack to place it so that every leaf lands on an address
 * aligned to its size - device-dax refuses anything else, and the MMU
 * can only use a large page at a large-page-aligned address.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "private.h"

#define DL_PAGE_SIZE 4096ULL

struct map_plan {
	uint64_t offset, length;	/* file range */
	int prot;			/* PROT_* */
	struct dl_map_rep rep;
	uint64_t min_leaf, max_leaf;
	struct dl_tgen *gen;		/* the table of the reply's connection */
};

static uint64_t load_pte(const struct dl_table_entry *e)
{
	return __atomic_load_n(&e->pte, __ATOMIC_ACQUIRE);
}

/* One entry's leaf: checks it is ours, valid, in place; its size or <0. */
static int64_t check_entry(struct daxlease_ctx *ctx, const struct map_plan *p,
			   uint64_t i, uint64_t expect, uint64_t *pte_out)
{
	const struct dl_table_entry *e;
	uint64_t pte, size;

	e = dl_gen_entry(p->gen, p->rep.first_entry + i);
	if (!e)
		return -EPROTO;
	pte = load_pte(e);
	if (!(pte & DL_PTE_VALID))
		return -EAGAIN;	/* a layout change got there first */
	if (dl_pte_level(pte) > DL_LEAF_PUD)
		return -EPROTO;
	size = dl_leaf_size(dl_pte_level(pte));
	if (e->map_id != p->rep.map_id || e->file_offset != expect ||
	    expect % size || dl_pte_ns_offset(pte) % size ||
	    dl_pte_ns_offset(pte) + size > ctx->hello.ns_size ||
	    expect + size > p->offset + p->length)
		return -EPROTO;
	*pte_out = pte;
	return (int64_t)size;
}

/* Walk the entries: they must tile the file range exactly, in order. */
static int plan_check(struct daxlease_ctx *ctx, struct map_plan *p)
{
	uint64_t i, pte, expect = p->offset;
	int64_t size;

	if (!p->rep.nentries || p->rep.nentries > p->gen->table_entries ||
	    p->rep.first_entry > p->gen->table_entries - p->rep.nentries)
		return -EPROTO;
	p->max_leaf = DL_PAGE_SIZE;
	p->min_leaf = 1ULL << 30;
	for (i = 0; i < p->rep.nentries; i++) {
		size = check_entry(ctx, p, i, expect, &pte);
		if (size < 0)
			return (int)size;
		if ((uint64_t)size > p->max_leaf)
			p->max_leaf = (uint64_t)size;
		if ((uint64_t)size < p->min_leaf)
			p->min_leaf = (uint64_t)size;
		expect += (uint64_t)size;
	}
	return expect == p->offset + p->length ? 0 : -EPROTO;
}

uint8_t *dl_reserve_aligned(uint64_t length, uint64_t align, uint64_t phase)
{
	uint64_t slack = 2 * align, len = length + slack;
	uintptr_t start, base;
	void *r;

	r = mmap(NULL, len, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		return NULL;
	start = (uintptr_t)r;
	base = (start + align - 1) & ~(uintptr_t)(align - 1);
	base += phase & (align - 1);
	if (base > start)
		munmap(r, base - start);
	if (start + len > base + length)
		munmap((void *)(base + length), start + len - (base + length));
	return (uint8_t *)base;
}

/*
 * What the lockless pin needs (private.h): where the entries and their
 * counters are, and how to find a leaf - by a shift when all leaves are
 * one size, else by a binary search of their file offsets.
 */
static int record_leaves(const struct map_plan *p, struct daxlease_map *m)
{
	m->first_entry = p->rep.first_entry;
	m->nentries = p->rep.nentries;
	m->entries = dl_gen_entry(p->gen, p->rep.first_entry);
	m->counters = p->gen->counters + p->rep.first_entry;
	if (p->min_leaf == p->max_leaf) {
		m->leaf_shift = (unsigned)__builtin_ctzll(p->max_leaf);
		return 0;
	}
	m->leaf_off = calloc(p->rep.nentries, sizeof(*m->leaf_off));
	return m->leaf_off ? 0 : -ENOMEM;
}

static int map_leaves(struct daxlease_ctx *ctx, const struct map_plan *p,
		      struct daxlease_map *m)
{
	uint64_t i, pte, expect = p->offset, nsoff;
	int ns_fd = dl_ns_fd(ctx);
	int64_t size;
	void *r;

	for (i = 0; i < p->rep.nentries; i++) {
		size = check_entry(ctx, p, i, expect, &pte);
		if (size < 0)
			return (int)size;
		nsoff = ctx->hello.ns_fd_offset + dl_pte_ns_offset(pte);
		r = mmap(m->addr + (expect - p->offset), (size_t)size, p->prot,
			 MAP_SHARED | MAP_FIXED, ns_fd, (off_t)nsoff);
		if (r == MAP_FAILED)
			return -errno;
		m->leaves[dl_pte_level(pte)]++;
		if (m->leaf_off)
			m->leaf_off[i] = expect;
		expect += (uint64_t)size;
	}
	return 0;
}

static int map_build(struct daxlease_ctx *ctx, struct map_plan *p,
		     struct daxlease_map *m)
{
	int rc;

	rc = plan_check(ctx, p);
	if (!rc)
		rc = record_leaves(p, m);
	if (rc)
		return rc;
	m->addr = dl_reserve_aligned(p->length, p->max_leaf, p->offset);
	if (!m->addr)
		return -ENOMEM;
	m->offset = p->offset;
	m->length = p->length;
	rc = map_leaves(ctx, p, m);
	if (rc) {
		munmap(m->addr, m->length);
		m->addr = NULL;
	}
	return rc;
}

static int unmap_request(struct daxlease_ctx *ctx, uint64_t map_id)
{
	struct dl_unmap_req req = { .map_id = map_id };

	return dl_call_simple(ctx, DL_OP_UNMAP, &req, sizeof(req), NULL, 0);
}

/* The fds a mapping needs are installed: the table, and an ns fd that
 * allows the mapping's protection.  Called under map_lock. */
static bool fds_ready(const struct daxlease_ctx *ctx, bool write)
{
	return ctx->ns_fd >= 0 && (!write || ctx->ns_rw);
}

/* A reply that should have carried fds came without them. */
static int fds_missing(struct daxlease_ctx *ctx)
{
	ctx->table_failed = true;
	pthread_cond_broadcast(&ctx->map_cond);
	return -EPROTO;
}

/*
 * Keep the fds of the reply or close them.  Called under map_lock.
 * Replies come back in any order: a reply without fds (or with the
 * read-write ns fd, which replaces the table's read-only one) may reach
 * its thread before the one that carries what it needs is installed by
 * its own thread, so wait for that (it holds the reply: it only needs
 * map_lock, which the wait gives up).
 */
static int take_fds(struct daxlease_ctx *ctx, struct map_plan *p,
		    const int *fds, int nfds, uint64_t epoch)
{
	bool write = p->prot & PROT_WRITE;
	uint32_t flags = p->rep.flags;
	int i, rc;

	if (epoch != ctx->epoch) {
		/* the reply of a connection lost since: its table is not
		 * the one ctx has now */
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		return -ENOTCONN;
	}
	if ((flags & DL_MAP_FDS) && nfds == DL_MAP_NFDS) {
		rc = dl_table_install(ctx, fds);
		ctx->table_failed = rc != 0;
		pthread_cond_broadcast(&ctx->map_cond);
		if (!rc && !fds_ready(ctx, write))
			rc = -EPROTO;
		p->gen = rc ? NULL : dl_gen_get(ctx->gen);
		return rc;
	}
	if ((flags & DL_MAP_NS_RW) && nfds == 1) {
		while (!ctx->gen && !ctx->table_failed && !dl_is_dead(ctx))
			pthread_cond_wait(&ctx->map_cond, &ctx->map_lock);
		if (!ctx->gen) {
			close(fds[0]);
			return -EPROTO;
		}
		rc = dl_ns_fd_upgrade(ctx, fds[0]);
		if (rc)
			return fds_missing(ctx);
		pthread_cond_broadcast(&ctx->map_cond);
		p->gen = dl_gen_get(ctx->gen);
		return 0;
	}
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	/* a reply that says it carries fds must carry all of them (an
	 * older service without the counter region sends two: refused
	 * cleanly) */
	if (flags & (DL_MAP_FDS | DL_MAP_NS_RW))
		return fds_missing(ctx);
	while (!(ctx->gen && fds_ready(ctx, write)) && !ctx->table_failed &&
	       !dl_is_dead(ctx))
		pthread_cond_wait(&ctx->map_cond, &ctx->map_lock);
	if (!ctx->gen || !fds_ready(ctx, write))
		return -EPROTO;
	p->gen = dl_gen_get(ctx->gen);
	return 0;
}

/*
 * MAP, then the table and ns fd when they come with the reply: the round
 * trip without map_lock (it may wait behind a layout change, see
 * private.h), the install under it (take_fds).
 */
static int map_request(struct daxlease_file *f, struct map_plan *p)
{
	struct dl_map_req req = {
		.fh = f->fh, .offset = p->offset, .length = p->length,
		.prot = (p->prot & PROT_WRITE) ?
			DL_MAP_PROT_READ | DL_MAP_PROT_WRITE : DL_MAP_PROT_READ,
	};
	struct iovec riov = { &req, sizeof(req) };
	struct iovec piov = { &p->rep, sizeof(p->rep) };
	int fds[DL_MAP_NFDS];
	struct dl_call call = {
		.opcode = DL_OP_MAP,
		.req_iov = &riov, .req_niov = 1,
		.rep_iov = &piov, .rep_niov = 1, .rep_min = sizeof(p->rep),
		.fds = fds, .nfds_max = DL_MAP_NFDS,
	};
	uint64_t epoch;
	int rc;

	pthread_mutex_lock(&f->ctx->map_lock);
	epoch = f->ctx->epoch;
	pthread_mutex_unlock(&f->ctx->map_lock);
	rc = dl_call(f->ctx, &call);
	if (!rc) {
		pthread_mutex_lock(&f->ctx->map_lock);
		rc = take_fds(f->ctx, p, fds, call.nfds, epoch);
		pthread_mutex_unlock(&f->ctx->map_lock);
	}
	if (rc && call.rep_len)
		unmap_request(f->ctx, p->rep.map_id);
	return rc;
}

static int map_args(struct daxlease_file *f, uint64_t offset, uint64_t length,
		    unsigned prot, struct daxlease_map **out)
{
	if (!f || !out || !length || (offset | length) % DL_PAGE_SIZE ||
	    offset + length < offset || !(prot & DAXLEASE_PROT_READ) ||
	    (prot & ~(DAXLEASE_PROT_READ | DAXLEASE_PROT_WRITE)))
		return -EINVAL;
	if (length > SIZE_MAX / 2)
		return -ENOMEM;
	if (dl_is_dead(f->ctx))
		return -ENOTCONN;
	if (!(f->ctx->hello.server_flags & DL_SRV_DAX_ALLOWED))
		return -EACCES;
	return 0;
}

DAXLEASE_EXPORT int daxlease_map(struct daxlease_file *f, uint64_t offset,
				 uint64_t length, unsigned prot,
				 struct daxlease_map **out)
{
	struct map_plan p = { .offset = offset, .length = length };
	struct daxlease_map *m;
	int rc;

	rc = map_args(f, offset, length, prot, out);
	if (rc)
		return rc;
	*out = NULL;
	p.prot = PROT_READ | ((prot & DAXLEASE_PROT_WRITE) ? PROT_WRITE : 0);
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	rc = map_request(f, &p);
	if (rc)
		goto err;
	rc = map_build(f->ctx, &p, m);
	if (rc) {
		unmap_request(f->ctx, p.rep.map_id);
		goto err;
	}
	m->ctx = daxlease_ref(f->ctx);
	m->gen = p.gen;
	m->map_id = p.rep.map_id;
	m->fh = f->fh;
	m->ino = f->ino;
	m->generation = f->generation;
	m->writable = (prot & DAXLEASE_PROT_WRITE) != 0;
	m->pin_window_us = f->ctx->pin_window_us;
	dl_track_map(m);
	*out = m;
	return 0;
err:
	pthread_mutex_lock(&f->ctx->map_lock);
	dl_gen_put(f->ctx, p.gen);
	pthread_mutex_unlock(&f->ctx->map_lock);
	free(m->leaf_off);
	free(m);
	return rc;
}

DAXLEASE_EXPORT void *daxlease_map_addr(const struct daxlease_map *m)
{
	return m ? m->addr : NULL;
}

DAXLEASE_EXPORT uint64_t daxlease_map_length(const struct daxlease_map *m)
{
	return m ? m->length : 0;
}

DAXLEASE_EXPORT void daxlease_map_leaves(const struct daxlease_map *m,
					 uint64_t *pte, uint64_t *pmd,
					 uint64_t *pud)
{
	if (pte)
		*pte = m ? m->leaves[DL_LEAF_PTE] : 0;
	if (pmd)
		*pmd = m ? m->leaves[DL_LEAF_PMD] : 0;
	if (pud)
		*pud = m ? m->leaves[DL_LEAF_PUD] : 0;
}

/*
 * msync is right for a fake NVDIMM (an image file: the stores must reach
 * it) and harmless on device-dax (the kernel flushes the CPU caches for
 * the range).
 */
DAXLEASE_EXPORT int daxlease_map_persist(struct daxlease_map *m,
					 uint64_t offset, uint64_t length)
{
	uint64_t start;

	if (!m || offset > m->length || length > m->length - offset)
		return -EINVAL;
	if (!length)
		return 0;
	start = offset & ~(DL_PAGE_SIZE - 1);
	if (msync(m->addr + start, offset + length - start, MS_SYNC))
		return -errno;
	return 0;
}

/*
 * Whether m holds lockless pins: its own counters say so, so the pin
 * path needs no per-mapping count (a cache line every pinning thread
 * would write).  A pin racing with this is the caller's bug; the
 * service refuses UNMAP with -EBUSY then, see below.
 */
static bool has_lockless_pins(const struct daxlease_map *m)
{
	for (uint64_t i = 0; i < m->nentries; i++)
		if (__atomic_load_n(&m->counters[i].refs, __ATOMIC_RELAXED))
			return true;
	return false;
}

DAXLEASE_EXPORT int daxlease_unmap(struct daxlease_map *m)
{
	int rc;

	if (!m)
		return -EINVAL;
	if (has_lockless_pins(m))
		return -EBUSY;
	/* no store through m may land after the service frees its blocks */
	if (m->addr)
		munmap(m->addr, m->length);
	m->addr = NULL;
	rc = unmap_request(m->ctx, m->map_id);
	if (rc == -EBUSY)
		return rc;	/* pinned after all: m stays, address gone */
	/*
	 * The connection is lost, or this mapping came from one that was
	 * (and nothing of it was taken back): it has no lockless pin, so
	 * the daemon's side of it holds nothing, and goes with the lost
	 * connection (or with a reconnect's END).  Unmapped.
	 */
	if (rc == -ENOTCONN ||
	    (rc == -EINVAL && __atomic_load_n(&m->lost, __ATOMIC_RELAXED)))
		rc = 0;
	dl_untrack_map(m);
	pthread_mutex_lock(&m->ctx->map_lock);
	dl_gen_put(m->ctx, m->gen);
	pthread_mutex_unlock(&m->ctx->map_lock);
	daxlease_unref(m->ctx);
	free(m->leaf_off);
	free(m);
	return rc;
}

// SPDX-License-Identifier: BSD-3-Clause
/*
 * pindma.c - daxlease_pin_dma: where "DMA" for a pinned range goes.
 *
 * A device that DMAs into pinned pages writes to the physical blocks it
 * was given, whatever happens to the process's page tables later.  The
 * library's stand-in for physical addresses is one mapping of the whole
 * namespace per context: an address in it names a block, not a file
 * offset, so it stays right for as long as the pin holds the block -
 * unlike the mapping's own address, which a layout change leaves stale.
 * (Two, at most: one made from a read-only ns fd stays when the first
 * write pin needs a writable one, so earlier addresses keep working.)
 *
 * A lockless pin finds its blocks in the pte words of its entries (the
 * pfn stays in the word when the service invalidates it, and the entry
 * is not reused while our counter holds it); a socket pin in the
 * segments of the PIN reply.
 */
#include <errno.h>
#include <sys/mman.h>

#include "private.h"

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/*
 * Map the namespace, as map.c maps leaves: aligned for device-dax;
 * writable when the ns fd is.  A read-only mapping made before the
 * read-write fd came is kept (ns_map_old): a read pin may still use an
 * address in it, which names the same block as ever.  Under map_lock.
 */
static int ns_map_create(struct daxlease_ctx *ctx)
{
	const struct dl_hello_rep *h = &ctx->hello;
	int prot = PROT_READ | (ctx->ns_rw ? PROT_WRITE : 0);
	uint64_t align = h->ns_align;
	uint8_t *base;
	void *r;

	if (ctx->ns_fd < 0)
		return -EBADF;	/* no mapping yet, so no pin either */
	if (!h->ns_size || h->ns_size > SIZE_MAX / 2)
		return -ENOMEM;
	if (!is_pow2(align) || align < 4096 || align > (1ULL << 30))
		align = 4096;
	base = dl_reserve_aligned(h->ns_size, align, 0);
	if (!base)
		return -ENOMEM;
	r = mmap(base, h->ns_size, prot, MAP_SHARED | MAP_FIXED, ctx->ns_fd,
		 (off_t)h->ns_fd_offset);
	if (r == MAP_FAILED) {
		int rc = -errno;

		munmap(base, h->ns_size);
		return rc;
	}
	ctx->ns_map_size = h->ns_size;
	ctx->ns_map_old = ctx->ns_map;
	__atomic_store_n(&ctx->ns_map, base, __ATOMIC_RELEASE);
	/* after the map: who sees it writable sees the writable map */
	__atomic_store_n(&ctx->ns_map_rw, ctx->ns_rw, __ATOMIC_RELEASE);
	return 0;
}

/* The namespace mapping (writable, for a write pin), created on first
 * use; NULL with errno. */
static uint8_t *ns_map_get(struct daxlease_ctx *ctx, bool write)
{
	bool rw = __atomic_load_n(&ctx->ns_map_rw, __ATOMIC_ACQUIRE);
	uint8_t *base = __atomic_load_n(&ctx->ns_map, __ATOMIC_ACQUIRE);
	int rc = 0;

	if (base && (rw || !write))
		return base;
	pthread_mutex_lock(&ctx->map_lock);
	if (!ctx->ns_map || (write && !ctx->ns_map_rw && ctx->ns_rw))
		rc = ns_map_create(ctx);
	base = ctx->ns_map;
	/* a write pin has a write mapping, so a read-write ns fd */
	if (!rc && write && !ctx->ns_map_rw)
		rc = -EACCES;
	pthread_mutex_unlock(&ctx->map_lock);
	if (rc) {
		errno = -rc;
		return NULL;
	}
	return base;
}

void dl_ns_map_release(struct daxlease_ctx *ctx)
{
	if (ctx->ns_map)
		munmap(ctx->ns_map, ctx->ns_map_size);
	if (ctx->ns_map_old)
		munmap(ctx->ns_map_old, ctx->ns_map_size);
	ctx->ns_map = ctx->ns_map_old = NULL;
	ctx->ns_map_rw = false;
}

/* A lockless pin: namespace offset of off, *contig bytes from there. */
static uint64_t fast_ns_offset(const struct daxlease_pin *pin, uint64_t off,
			       uint64_t *contig)
{
	const struct daxlease_map *m = pin->map;
	uint64_t end = pin->offset + pin->length;
	uint64_t i = dl_map_leaf_index(m, off), leaf, pte, ns, next;

	pte = __atomic_load_n(&m->entries[i].pte, __ATOMIC_RELAXED);
	leaf = dl_map_leaf_offset(m, i);
	ns = dl_pte_ns_offset(pte) + (off - leaf);
	next = leaf + dl_leaf_size(dl_pte_level(pte));
	/* whole leaves that follow on the namespace too */
	while (next < end) {
		pte = __atomic_load_n(&m->entries[++i].pte, __ATOMIC_RELAXED);
		if (dl_pte_ns_offset(pte) != ns + (next - off))
			break;
		next += dl_leaf_size(dl_pte_level(pte));
	}
	*contig = (next < end ? next : end) - off;
	return ns;
}

/* A socket pin: the same from its segments; UINT64_MAX in a hole. */
static uint64_t slow_ns_offset(const struct daxlease_pin *pin, uint64_t off,
			       uint64_t *contig)
{
	const struct dl_wire_seg *seg = pin->segs;
	uint64_t start = pin->offset, ns, run;
	uint32_t i = 0;

	while (i < pin->nsegs && start + seg[i].length <= off)
		start += seg[i++].length;
	if (i == pin->nsegs)
		return UINT64_MAX;	/* cannot happen: they tile the pin */
	if (seg[i].ns_offset == UINT64_MAX)
		return UINT64_MAX;
	ns = seg[i].ns_offset + (off - start);
	run = seg[i].length - (off - start);
	while (++i < pin->nsegs && seg[i].ns_offset == ns + run)
		run += seg[i].length;
	*contig = run;
	return ns;
}

DAXLEASE_EXPORT void *daxlease_pin_dma(const struct daxlease_pin *pin,
				       uint64_t offset, uint64_t *contig)
{
	struct daxlease_ctx *ctx;
	uint64_t ns, run = 0;
	uint8_t *base;

	if (!pin || !pin->map || !contig) {
		errno = EINVAL;
		return NULL;
	}
	if (offset < pin->offset || offset - pin->offset >= pin->length) {
		errno = ERANGE;
		return NULL;
	}
	if (pin->flags & DAXLEASE_PINNED_FAST) {
		ctx = pin->map->ctx;
		ns = fast_ns_offset(pin, offset, &run);
	} else {
		ctx = dl_pin_ctx(pin);
		ns = slow_ns_offset(pin, offset, &run);
	}
	if (ns == UINT64_MAX) {
		errno = ENODATA;
		return NULL;
	}
	base = ns_map_get(ctx, pin->flags & DAXLEASE_PIN_WRITE);
	if (!base)
		return NULL;
	if (ns >= ctx->ns_map_size || run > ctx->ns_map_size - ns) {
		errno = EPROTO;	/* the service named a block outside it */
		return NULL;
	}
	*contig = run;
	return base + ns;
}

// SPDX-License-Identifier: BSD-3-Clause
/*
 * pinfast.c - daxlease_map_pin/daxlease_map_unpin: pin a range of a
 * mapping without a round trip while its table entries are valid, as
 * get_user_pages_fast() pins pages by walking page tables with no lock.
 *
 *   read:   per entry, load the pte word; it must be VALID (and WRITE
 *           for a write pin) and name this mapping at the leaf's file
 *           offset.  Remember the word.
 *   count:  add one to this client's counter of each entry: a seq_cst
 *           read-modify-write, which is the full fence (on x86 a locked
 *           add; a separate fence would cost a third locked instruction,
 *           a third of the pin's time).
 *   check:  load every pte word again, seq_cst.  A layout change clears VALID and
 *           bumps the generation (its own store, fence, then its scan
 *           of the counters), so either its scan sees our counts and it
 *           waits, or we see its store here: we undo our counts (waking
 *           it if it waits) and pin through the socket, which waits for
 *           the change to finish.  Comparing the whole word also catches
 *           an entry that was invalidated and filled again meanwhile.
 *
 * No lock, no syscall and - up to FAST_STACK_ENTRIES entries - no
 * allocation on the way; the statistics are per-thread (pinstats.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

#define DL_PAGE_SIZE 4096ULL
/* ptes remembered on the stack; a pin of more entries allocates */
#define FAST_STACK_ENTRIES 512
#define FAST_SMALL_ENTRIES 8	/* in the common path's own frame */

static inline uint64_t load_pte(const struct dl_table_entry *e)
{
	return __atomic_load_n(&e->pte, __ATOMIC_ACQUIRE);
}

/* The entry is this mapping's leaf at file offset want, usable by pin. */
static inline bool entry_usable(const struct daxlease_map *m,
				const struct dl_table_entry *e, uint64_t pte,
				uint64_t want, bool write)
{
	if (!(pte & DL_PTE_VALID) || (write && !(pte & DL_PTE_WRITE)))
		return false;
	return __atomic_load_n(&e->map_id, __ATOMIC_RELAXED) == m->map_id &&
	       __atomic_load_n(&e->file_offset, __ATOMIC_RELAXED) == want;
}

/*
 * Entries [first, first+n) of m, remembered in ptes, each counted once:
 * true if none changed since it was read (the pin holds).
 */
static bool revalidate(const struct daxlease_map *m, uint64_t first,
		       uint64_t n, const uint64_t *ptes)
{
#ifdef DAXLEASE_UNSAFE_NO_REVALIDATE
	/* negative control: the race the re-read closes stays open */
	(void)m;
	(void)first;
	(void)n;
	(void)ptes;
	return true;
#else
	/* seq_cst, like the increments before it: the pair is ordered in
	 * the single total order against the service's fence, which is
	 * what the argument needs (docs/pin-protocol.md) */
	for (uint64_t i = 0; i < n; i++)
		if (__atomic_load_n(&m->entries[first + i].pte,
				    __ATOMIC_SEQ_CST) != ptes[i])
			return false;
	/* and against a reconnect handing the table to a new daemon
	 * (reconnect.c): the same pairing with its store of lost */
	return !__atomic_load_n(&m->lost, __ATOMIC_SEQ_CST);
#endif
}

/*
 * 0: pinned through the counters; -EAGAIN: an entry is not usable now
 * (invalid, or changed under us): the socket path must do it.
 */
static int fast_pin_entries(struct daxlease_map *m, struct daxlease_pin *pin,
			    uint64_t first, uint64_t n, uint64_t *ptes)
{
	bool write = pin->flags & DAXLEASE_PIN_WRITE;
	uint64_t i;

	for (i = 0; i < n; i++) {
		ptes[i] = load_pte(&m->entries[first + i]);
		if (!entry_usable(m, &m->entries[first + i], ptes[i],
				  dl_map_leaf_offset(m, first + i), write))
			return -EAGAIN;
	}
	if (__builtin_expect(m->pin_window_us != 0, 0))
		usleep(m->pin_window_us);	/* test hook, private.h */
	for (i = 0; i < n; i++)
		__atomic_add_fetch(&m->counters[first + i].refs, 1,
				   __ATOMIC_SEQ_CST);
	if (!revalidate(m, first, n, ptes)) {
		dl_counters_put(m->ctx, m->gen, m->first_entry + first, n);
		dl_stat_inc(m->ctx, DL_STAT_BACKOFFS);
		return -EAGAIN;
	}
	pin->first_entry = m->first_entry + first;
	pin->nentries = (uint32_t)n;
	pin->flags |= DAXLEASE_PINNED_FAST;
	dl_stat_inc(m->ctx, DL_STAT_FAST);
	return 0;
}

/* Pins of more than FAST_SMALL_ENTRIES: kept out of the common frame. */
static __attribute__((noinline)) int fast_pin_many(struct daxlease_map *m,
						   struct daxlease_pin *pin,
						   uint64_t first, uint64_t n)
{
	uint64_t stack_ptes[FAST_STACK_ENTRIES], *ptes = stack_ptes;
	int rc;

	if (n > UINT32_MAX)
		return -EAGAIN;	/* more than pin->nentries can say */
	if (n > FAST_STACK_ENTRIES) {
		ptes = malloc(n * sizeof(*ptes));
		if (!ptes)
			return -EAGAIN;
	}
	rc = fast_pin_entries(m, pin, first, n, ptes);
	if (ptes != stack_ptes)
		free(ptes);
	return rc;
}

static int fast_pin(struct daxlease_map *m, struct daxlease_pin *pin)
{
	uint64_t ptes[FAST_SMALL_ENTRIES];
	uint64_t first, n;

	first = dl_map_leaf_index(m, pin->offset);
	n = dl_map_leaf_index(m, pin->offset + pin->length - 1) - first + 1;
	/* the usual pin, a leaf or a few: a small frame (a 4 KiB one costs
	 * a stack probe on every call) */
	if (n <= FAST_SMALL_ENTRIES)
		return fast_pin_entries(m, pin, first, n, ptes);
	return fast_pin_many(m, pin, first, n);
}

/* The segments must tile the pinned range: the DMA rule depends on it. */
static bool segs_cover(const struct dl_pin_rep *rep, uint64_t length)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < rep->nsegs; i++) {
		if (!rep->seg[i].length || rep->seg[i].length > length - sum)
			return false;
		sum += rep->seg[i].length;
	}
	return sum == length;
}

/* PIN over the socket: it waits in the service for a layout change. */
static int slow_pin(struct daxlease_map *m, struct daxlease_pin *pin)
{
	struct dl_pin_rep *rep = malloc(sizeof(*rep));
	int rc;

	if (!rep)
		return -ENOMEM;
	rc = dl_pin_call(m->ctx, m->fh, m->ino, m->generation, pin->offset,
			 pin->length, pin->flags & DAXLEASE_PIN_WRITE, rep);
	if (rc)
		goto out;
	if (!segs_cover(rep, pin->length)) {
		daxlease_unpin(m->ctx, rep->pin_id);
		rc = -EPROTO;
		goto out;
	}
	pin->segs = malloc(rep->nsegs * sizeof(struct dl_wire_seg));
	if (!pin->segs) {
		daxlease_unpin(m->ctx, rep->pin_id);
		rc = -ENOMEM;
		goto out;
	}
	memcpy(pin->segs, rep->seg, rep->nsegs * sizeof(struct dl_wire_seg));
	pin->nsegs = rep->nsegs;
	pin->pin_id = rep->pin_id;
	dl_pin_set_ctx(pin, daxlease_ref(m->ctx));
	dl_stat_inc(m->ctx, DL_STAT_SLOW);
out:
	free(rep);
	return rc;
}

static int pin_args(const struct daxlease_map *m, uint64_t offset,
		    uint64_t length, unsigned flags,
		    const struct daxlease_pin *pin)
{
	if (!m || !pin || !length || (flags & ~DAXLEASE_PIN_WRITE) ||
	    (offset | length) % DL_PAGE_SIZE)
		return -EINVAL;
	if (offset < m->offset || offset - m->offset > m->length ||
	    length > m->length - (offset - m->offset))
		return -ERANGE;
	if ((flags & DAXLEASE_PIN_WRITE) && !m->writable)
		return -EACCES;
	return 0;
}

DAXLEASE_EXPORT int daxlease_map_pin(struct daxlease_map *m, uint64_t offset,
				     uint64_t length, unsigned flags,
				     struct daxlease_pin *pin)
{
	int rc = pin_args(m, offset, length, flags, pin);

	if (rc)
		return rc;
	*pin = (struct daxlease_pin){
		.map = m, .offset = offset, .length = length, .flags = flags,
	};
	if (!fast_pin(m, pin))
		return 0;
	rc = slow_pin(m, pin);
	if (rc)
		*pin = (struct daxlease_pin){ 0 };
	return rc;
}

DAXLEASE_EXPORT int daxlease_map_unpin(struct daxlease_pin *pin)
{
	int rc = 0;

	if (!pin || !pin->map)
		return -EINVAL;
	if (pin->flags & DAXLEASE_PINNED_FAST) {
		dl_counters_put(pin->map->ctx, pin->map->gen,
				pin->first_entry, pin->nentries);
	} else {
		/* the mapping may be gone: a socket pin does not hold it */
		rc = daxlease_unpin(dl_pin_ctx(pin), pin->pin_id);
		free(pin->segs);
		daxlease_unref(dl_pin_ctx(pin));
	}
	/* a second unpin of the same struct is -EINVAL, not a double put */
	*pin = (struct daxlease_pin){ 0 };
	return rc;
}

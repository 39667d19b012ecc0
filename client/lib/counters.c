// SPDX-License-Identifier: BSD-3-Clause
/*
 * counters.c - the per-client pin counter region (table.h): one 64-byte
 * counter per table entry, the only shared memory this client writes,
 * and the eventfd that tells the service a counter it waits for is zero.
 *
 * The service reads the counters as untrusted, so nothing here can hurt
 * anyone but this client; what matters is the order of our accesses
 * (docs/pin-protocol.md): a decrement, then the load of `waiting`, both
 * seq_cst, against the service's store of `waiting`, fence, scan.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"

static int counters_check(const struct dl_counters_hdr *hdr, uint64_t entries)
{
	if (hdr->magic != DL_COUNTERS_MAGIC ||
	    hdr->version != DL_COUNTERS_VERSION ||
	    hdr->stride != DL_COUNTER_STRIDE || hdr->nentries != entries)
		return -EPROTO;
	return 0;
}

/* Map the region (the table is mapped: its capacity is known). */
int dl_counters_install(struct dl_tgen *g, int counters_fd)
{
	uint64_t need = dl_counters_size(g->table_entries);
	struct stat st;
	void *p;
	int rc;

	if (fstat(counters_fd, &st))
		return -errno;
	if (st.st_size < 0 || (uint64_t)st.st_size < need || need > SIZE_MAX)
		return -EPROTO;
	/* only the part the header describes: the service may not grow it */
	p = mmap(NULL, (size_t)need, PROT_READ | PROT_WRITE, MAP_SHARED,
		 counters_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	rc = counters_check(p, g->table_entries);
	if (rc) {
		munmap(p, (size_t)need);
		return rc;
	}
	g->counters_hdr = p;
	g->counters = (struct dl_pin_counter *)((uint8_t *)p +
						DL_TABLE_HDR_SIZE);
	g->counters_size = (size_t)need;
	return 0;
}

void dl_counters_release(struct dl_tgen *g)
{
	if (g->counters_hdr)
		munmap(g->counters_hdr, g->counters_size);
	g->counters_hdr = NULL;
	g->counters = NULL;
}

static void wake_service(struct daxlease_ctx *ctx, struct dl_tgen *g)
{
	uint64_t one = 1;
	ssize_t n;

	/*
	 * EAGAIN (the counter at its maximum) means a wake-up is pending
	 * anyway; any other failure leaves the service to its next scan.
	 */
	do
		n = write(g->wake_fd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
	dl_stat_inc(ctx, DL_STAT_WAKEUPS);
}

void dl_counters_put(struct daxlease_ctx *ctx, struct dl_tgen *g,
		     uint64_t first, uint64_t n)
{
	struct dl_pin_counter *c = g->counters + first;
	bool zero = false;

	for (uint64_t i = 0; i < n; i++)
		if (__atomic_sub_fetch(&c[i].refs, 1, __ATOMIC_SEQ_CST) == 0)
			zero = true;
	/*
	 * Dekker against the service (store waiting; fence; scan): either
	 * its scan sees our zero, or we see its waiting and wake it.
	 */
	if (zero && __atomic_load_n(&g->counters_hdr->waiting,
				    __ATOMIC_SEQ_CST))
		wake_service(ctx, g);
}

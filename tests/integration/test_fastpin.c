/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_fastpin.c - the lockless pin path (daxlease_map_pin) against a real
 * daxleased, with real processes.
 *
 * Nothing here asserts a time.  Order is asserted as in test_pins.c: a
 * pinner writes 'U' to the event pipe BEFORE it unpins, a layout change
 * writes 'T' AFTER it returns; the test sees the change waiting in the
 * BLOCKED view and no 'T' yet before it lets the pinner go.
 *
 * $DAXLEASE_FASTPIN_ALIGN picks the namespace align (4096, 2 MiB by
 * default, 1 GiB) and so the leaf level the pins hold: PTE, PMD or PUD.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <grp.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit_run.h"
#include "daxlease/libdaxlease.h"
#include "daxlease/table.h"
#include "harness.h"
#include "client_util.h"
#include "leased.h"

#define KiB 1024ULL
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define PAGE 4096ULL
#define RW (DAXLEASE_O_READ | DAXLEASE_O_WRITE)
#define CREATE (RW | DAXLEASE_O_CREATE)
#define PROT_RW (DAXLEASE_PROT_READ | DAXLEASE_PROT_WRITE)

static struct dlh_daemon dmn;
static struct daxlease_ctx *ctx;	/* the test's own (admin) context */
static char admin_gid[64];
static const char *sock_path;
static uint64_t leaf;		/* the namespace align: the big leaf size */
static unsigned leaf_level;	/* its enum dl_leaf_level */
static bool can_map;		/* DL_SRV_DAX_ALLOWED (root) */

static int suite_init(void)
{
	struct dlh_opts o = { .extra = { "--admin-group", admin_gid } };
	const char *env = getenv("DAXLEASE_FASTPIN_ALIGN");
	struct daxlease_info info;
	struct group *g = getgrgid(getgid());

	leaf = env ? strtoull(env, NULL, 0) : 2 * MiB;
	leaf_level = leaf >= GiB ? DL_LEAF_PUD : leaf >= 2 * MiB ? DL_LEAF_PMD
								 : DL_LEAF_PTE;
	if (!g)
		return -1;
	snprintf(admin_gid, sizeof(admin_gid), "%s", g->gr_name);
	o.align = leaf;
	/* room for a few big leaves after the namespace's own metadata */
	o.size = leaf >= GiB ? 8 * GiB : 128 * MiB;
	if (dlh_start(&dmn, &o))
		return -1;
	sock_path = dmn.socket;
	if (daxlease_new(&ctx, dmn.socket))
		return -1;
	daxlease_get_info(ctx, &info);
	can_map = info.server_flags & DL_SRV_DAX_ALLOWED;
	if (!can_map)
		printf("  (no DAX access: mapping tests are skipped)\n");
	return 0;
}

static int suite_clean(void)
{
	if (ctx)
		daxlease_unref(ctx);
	dlh_kill(&dmn);
	return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static uint8_t pat(unsigned who, uint64_t off)
{
	return (uint8_t)((off * 2654435761u + who * 97) >> 7);
}

/* name, size bytes, allocated (truncate + a write mapping allocates). */
static struct daxlease_file *make_file_in(struct daxlease_ctx *c,
					  const char *name, uint64_t size)
{
	struct daxlease_file *f = NULL;
	struct daxlease_map *m = NULL;
	int rc;

	CU_ASSERT_EQUAL_FATAL(daxlease_open(c, name, CREATE |
					    DAXLEASE_O_TRUNC, 0644, &f), 0);
	/* one allocation of the whole size: 1 GiB requests get whole 1 GiB
	 * chunks (pmem/alloc.c), which PUD leaves need */
	CU_ASSERT_EQUAL_FATAL(daxlease_fallocate(f, 0, 0, size), 0);
	rc = leased_map(f, 0, size, PROT_RW, &m);
	if (rc)
		printf("  map of %llu bytes: %s\n", (unsigned long long)size,
		       strerror(-rc));
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(daxlease_unmap(m), 0);
	return f;
}

static struct daxlease_file *make_file(const char *name, uint64_t size)
{
	return make_file_in(ctx, name, size);
}

/* The end of a test: unmap m (if any), close f, unlink name. */
static void done_with(struct daxlease_file *f, struct daxlease_map *m,
		      const char *name)
{
	if (m)
		CU_ASSERT_EQUAL(daxlease_unmap(m), 0);
	daxlease_close(f);
	CU_ASSERT_EQUAL(daxlease_unlink(ctx, name), 0);
}

/* map_pin with a fresh shared lease (the socket fallback's PIN needs one;
 * it is returned at once - a pin outlives its lease).  f is ctx's. */
static int lpin(struct daxlease_file *f, struct daxlease_map *m, uint64_t off,
		uint64_t len, unsigned flags, struct daxlease_pin *pin)
{
	uint64_t id = 0;
	int lrc, rc, tries = 0;

	/* a concurrent change may revoke the lease before PIN: again */
	do {
		lrc = daxlease_lease_acquire(f, off, len,
					     DAXLEASE_LEASE_SHARED, 0, &id);
		rc = daxlease_map_pin(m, off, len, flags, pin);
		if (!lrc)
			daxlease_lease_release(ctx, id);
	} while (rc == -ENOLCK && ++tries < 100);
	return rc;
}

static struct daxlease_pin_stats stats(struct daxlease_ctx *c)
{
	struct daxlease_pin_stats s;

	daxlease_get_pin_stats(c, &s);
	return s;
}

/* "DMA" pattern who into [off, off+len) of a pin, piece by piece. */
static bool dma_pattern(const struct daxlease_pin *p, uint64_t off,
			uint64_t len, unsigned who)
{
	uint64_t done = 0, contig;

	while (done < len) {
		uint8_t *d = daxlease_pin_dma(p, off + done, &contig);

		if (!d || !contig) {
			printf("  pin_dma(%llu): %s\n",
			       (unsigned long long)(off + done),
			       strerror(errno));
			return false;
		}
		if (contig > len - done)
			contig = len - done;
		for (uint64_t i = 0; i < contig; i++)
			d[i] = pat(who, off + done + i);
		done += contig;
	}
	return true;
}

/* Does [off, off+len) of f read as pattern who through the service? */
static bool file_has(struct daxlease_file *f, uint64_t off, uint64_t len,
		     unsigned who)
{
	uint8_t *buf = malloc(len);
	bool ok = buf && daxlease_pread(f, buf, len, off) == (ssize_t)len;

	for (uint64_t i = 0; ok && i < len; i++)
		if (buf[i] != pat(who, off + i)) {
			printf("  byte %llu is not in the file\n",
			       (unsigned long long)(off + i));
			ok = false;
		}
	free(buf);
	return ok;
}

/* DMA a pattern into [off, off+len) of a pin, read it back through the
 * service: true if every byte landed in the file. */
static bool dma_lands(struct daxlease_file *f, const struct daxlease_pin *p,
		      uint64_t off, uint64_t len, unsigned who)
{
	return dma_pattern(p, off, len, who) && file_has(f, off, len, who);
}

/* The BUSY view's lockless entries of pid, up to max; their number. */
static int lockless_busy(pid_t pid, struct daxlease_busy *out, int max)
{
	struct daxlease_busy b[64];
	uint64_t cursor = 0;
	int n, k = 0;

	do {
		n = daxlease_busy(ctx, &cursor, b, 64);
		for (int i = 0; i < n; i++)
			if (b[i].pin.lockless && b[i].pin.pid == pid) {
				if (k < max)
					out[k] = b[i];
				k++;
			}
	} while (n > 0 && cursor);
	return n < 0 ? n : k;
}

/* A child that truncates name to size and writes letter once done. */
static pid_t start_truncate(const char *name, uint64_t size, int ev,
			    char letter)
{
	pid_t pid = fork();

	CU_ASSERT_FATAL(pid >= 0);
	if (!pid) {
		struct daxlease_ctx *c;
		struct daxlease_file *f;
		int rc;

		if (daxlease_new(&c, sock_path) ||
		    daxlease_open(c, name, RW, 0, &f))
			_exit(2);
		rc = daxlease_truncate(f, size);
		if (write(ev, &letter, 1) != 1)
			_exit(6);
		_exit(rc ? 1 : 0);
	}
	return pid;
}

/* ---- a pinning child ------------------------------------------------------ */

enum pinner_mode {
	PIN_HONEST,		/* a lockless pin, unpinned when told */
	PIN_LIE_NEGATIVE,	/* then its counter set to -5 */
	PIN_LIE_HUGE,		/* ... to INT64_MAX */
	PIN_LIE_NEVER,		/* ... never decremented (exits holding) */
	PIN_LIE_WILD,		/* every counter of its region set to junk */
};

/* the pattern an honest pinner DMAs into its range once pinned */
#define HONEST_WHO 7

struct pinner {
	pid_t pid;
	int go;
	uint64_t entry;		/* the table entry its pin counts on */
};

/* The counter region this process has mapped (found in its maps). */
static struct dl_counters_hdr *own_counters(void)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[512];
	void *hdr = NULL;

	while (maps && fgets(line, sizeof(line), maps))
		if (strstr(line, "daxlease-counters")) {
			hdr = (void *)(uintptr_t)strtoull(line, NULL, 16);
			break;
		}
	if (maps)
		fclose(maps);
	return hdr;
}

static void lie(enum pinner_mode mode, uint64_t entry)
{
	struct dl_counters_hdr *h = own_counters();
	struct dl_pin_counter *c;

	if (!h)
		_exit(9);
	c = (struct dl_pin_counter *)((uint8_t *)h + DL_TABLE_HDR_SIZE);
	switch (mode) {
	case PIN_LIE_NEGATIVE:
		c[entry].refs = -5;
		break;
	case PIN_LIE_HUGE:
		c[entry].refs = INT64_MAX;
		break;
	case PIN_LIE_WILD:
		for (uint64_t i = 0; i < h->nentries; i++)
			c[i].refs = (int64_t)(i * 0x9e3779b97f4a7c15ULL);
		c[entry].refs = -1;
		break;
	default:
		break;
	}
}

static void pinner_main(const char *name, uint64_t off, uint64_t len,
			enum pinner_mode mode, int ready, int go, int ev)
{
	struct daxlease_pin_stats s;
	struct daxlease_ctx *c;
	struct daxlease_file *f;
	struct daxlease_map *m;
	struct daxlease_pin pin;
	struct daxlease_stat st;
	char b;

	if (daxlease_new(&c, sock_path) || daxlease_open(c, name, RW, 0, &f) ||
	    daxlease_fstat(f, &st) ||
	    leased_map(f, 0, st.size, PROT_RW, &m))
		_exit(2);
	if (daxlease_map_pin(m, off, len, DAXLEASE_PIN_WRITE, &pin) ||
	    !(pin.flags & DAXLEASE_PINNED_FAST))
		_exit(3);
	lie(mode, pin.first_entry);
	if (mode == PIN_HONEST && !dma_pattern(&pin, off, len, HONEST_WHO))
		_exit(10);
	if (write(ready, &pin.first_entry, 8) != 8)
		_exit(4);
	if (read(go, &b, 1) < 0)
		_exit(5);
	if (mode != PIN_HONEST)
		_exit(0);	/* a liar leaves its counters as they are */
	if (ev >= 0 && write(ev, "U", 1) != 1)
		_exit(6);
	if (daxlease_map_unpin(&pin))
		_exit(7);
	daxlease_get_pin_stats(c, &s);
	/* a change waited for this pin: the unpin must have woken it */
	if (ev >= 0 && s.wakeups != 1)
		_exit(8);
	_exit(0);
}

static void start_pinner(struct pinner *p, const char *name, uint64_t off,
			 uint64_t len, enum pinner_mode mode, int ev)
{
	int ready[2], go[2];

	CU_ASSERT_FATAL(pipe(ready) == 0 && pipe(go) == 0);
	p->pid = fork();
	CU_ASSERT_FATAL(p->pid >= 0);
	if (!p->pid) {
		close(ready[0]);
		close(go[1]);
		pinner_main(name, off, len, mode, ready[1], go[0], ev);
	}
	close(ready[1]);
	close(go[0]);
	p->go = go[1];
	CU_ASSERT_EQUAL_FATAL(read(ready[0], &p->entry, 8), 8);
	close(ready[0]);
}

static void release_pinner(struct pinner *p)
{
	CU_ASSERT_EQUAL(write(p->go, "g", 1), 1);
	close(p->go);
	CU_ASSERT_EQUAL(dlc_wait_exit(p->pid), 0);
}

static void kill_pinner(struct pinner *p)
{
	kill(p->pid, SIGKILL);
	CU_ASSERT_EQUAL(dlc_wait_exit(p->pid), 128 + SIGKILL);
	close(p->go);
}

/* ---- tests --------------------------------------------------------------- */

static void test_fast_pin(void)
{
	struct daxlease_file *f;
	struct daxlease_map *m = NULL;
	struct daxlease_pin pin;
	struct daxlease_pin_stats s0, s1;
	struct daxlease_busy b[4];

	if (!can_map)
		return;
	f = make_file("fast", 2 * leaf);
	CU_ASSERT_EQUAL_FATAL(leased_map(f, 0, 2 * leaf, PROT_RW, &m), 0);
	s0 = stats(ctx);
	CU_ASSERT_EQUAL_FATAL(daxlease_map_pin(m, leaf, PAGE,
					       DAXLEASE_PIN_WRITE, &pin), 0);
	s1 = stats(ctx);
	CU_ASSERT_TRUE(pin.flags & DAXLEASE_PINNED_FAST);
	CU_ASSERT_EQUAL(s1.fast, s0.fast + 1);
	CU_ASSERT_EQUAL(s1.slow, s0.slow);
	CU_ASSERT_EQUAL(pin.nentries, 1);

	/* the service sees it only by reading our counter */
	CU_ASSERT_EQUAL_FATAL(lockless_busy(getpid(), b, 4), 1);
	CU_ASSERT_EQUAL(b[0].refs, 1);
	CU_ASSERT_EQUAL(b[0].pin.pin_id, pin.first_entry);
	CU_ASSERT_EQUAL(b[0].pin.offset, leaf);	/* the whole leaf */
	CU_ASSERT_EQUAL(b[0].pin.length, leaf);
	CU_ASSERT_EQUAL(b[0].level, leaf_level);
	CU_ASSERT_FALSE(b[0].pin.corrupt);
	CU_ASSERT_STRING_EQUAL(b[0].name, "fast");

	/* a second pin of the same leaf counts twice */
	{
		struct daxlease_pin p2;

		CU_ASSERT_EQUAL(daxlease_map_pin(m, leaf, PAGE, 0, &p2), 0);
		CU_ASSERT_EQUAL(lockless_busy(getpid(), b, 4), 1);
		CU_ASSERT_EQUAL(b[0].refs, 2);
		CU_ASSERT_EQUAL(daxlease_map_unpin(&p2), 0);
	}

	CU_ASSERT_TRUE(dma_lands(f, &pin, leaf, PAGE, 1));
	/* the DMA address is a block address, not the mapping's */
	{
		uint64_t contig = 0;
		uint8_t *d = daxlease_pin_dma(&pin, leaf, &contig);

		CU_ASSERT_PTR_NOT_NULL(d);
		CU_ASSERT_EQUAL(contig, PAGE);	/* to the end of the pin */
		CU_ASSERT_PTR_NULL(daxlease_pin_dma(&pin, leaf + PAGE,
						    &contig));
		CU_ASSERT_EQUAL(errno, ERANGE);
		CU_ASSERT_EQUAL(memcmp(d, (uint8_t *)daxlease_map_addr(m) +
				       leaf, PAGE), 0);
	}
	CU_ASSERT_EQUAL(daxlease_map_unpin(&pin), 0);
	CU_ASSERT_EQUAL(daxlease_map_unpin(&pin), -EINVAL);
	CU_ASSERT_EQUAL(lockless_busy(getpid(), b, 4), 0);

	/* argument rules */
	CU_ASSERT_EQUAL(daxlease_map_pin(m, 100, PAGE, 0, &pin), -EINVAL);
	CU_ASSERT_EQUAL(daxlease_map_pin(m, 0, 100, 0, &pin), -EINVAL);
	CU_ASSERT_EQUAL(daxlease_map_pin(m, 0, 0, 0, &pin), -EINVAL);
	CU_ASSERT_EQUAL(daxlease_map_pin(m, 0, PAGE, 0x80, &pin), -EINVAL);
	CU_ASSERT_EQUAL(daxlease_map_pin(m, 2 * leaf, PAGE, 0, &pin),
			-ERANGE);
	CU_ASSERT_EQUAL(daxlease_map_pin(m, leaf, leaf + PAGE, 0, &pin),
			-ERANGE);
	CU_ASSERT_EQUAL(daxlease_unmap(m), 0);
	CU_ASSERT_EQUAL_FATAL(leased_map(f, 0, 2 * leaf, DAXLEASE_PROT_READ,
					 &m), 0);
	CU_ASSERT_EQUAL(daxlease_map_pin(m, 0, PAGE, DAXLEASE_PIN_WRITE,
					 &pin), -EACCES);
	CU_ASSERT_EQUAL(daxlease_map_pin(m, 0, PAGE, 0, &pin), 0);
	CU_ASSERT_TRUE(pin.flags & DAXLEASE_PINNED_FAST);
	CU_ASSERT_EQUAL(daxlease_map_unpin(&pin), 0);
	done_with(f, m, "fast");
}

static void test_truncate_waits(void)
{
	struct daxlease_file *f;
	struct daxlease_busy b[4];
	struct pinner p;
	pid_t t;
	int ev[2];

	if (!can_map)
		return;
	f = make_file("wait", 2 * leaf);
	CU_ASSERT_FATAL(dlh_ev_pipe(ev) == 0);
	start_pinner(&p, "wait", leaf, PAGE, PIN_HONEST, ev[1]);
	CU_ASSERT_EQUAL(lockless_busy(p.pid, b, 4), 1);
	CU_ASSERT_EQUAL(b[0].refs, 1);
	t = start_truncate("wait", 0, ev[1], 'T');
	CU_ASSERT_EQUAL_FATAL(dlc_wait_blocked(ctx, 1, true), 0);
	CU_ASSERT_TRUE(dlh_ev_empty(ev[0]));
	CU_ASSERT_EQUAL(dlc_file_size(f), 2 * leaf);
	/* the pinner exits 8 unless its unpin wrote the wake eventfd */
	release_pinner(&p);
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'U');
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'T');
	CU_ASSERT_EQUAL(dlc_wait_exit(t), 0);
	CU_ASSERT_EQUAL(dlc_file_size(f), 0);
	close(ev[0]);
	close(ev[1]);
	daxlease_close(f);
}

static void test_fallback_after_change(void)
{
	struct daxlease_file *f;
	struct daxlease_map *m = NULL;
	struct daxlease_pin pin;
	struct daxlease_pin_stats s0, s1;

	if (!can_map)
		return;
	f = make_file("fallback", 2 * leaf);
	CU_ASSERT_EQUAL_FATAL(leased_map(f, 0, 2 * leaf, PROT_RW, &m), 0);
	/* the leaf at `leaf` moves: punched, then written again */
	CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_PUNCH_HOLE |
					   FALLOC_FL_KEEP_SIZE, leaf, leaf),
			0);
	s0 = stats(ctx);
	CU_ASSERT_EQUAL_FATAL(lpin(f, m, leaf, PAGE, DAXLEASE_PIN_WRITE,
				   &pin), 0);
	s1 = stats(ctx);
	CU_ASSERT_FALSE(pin.flags & DAXLEASE_PINNED_FAST);
	CU_ASSERT_EQUAL(s1.slow, s0.slow + 1);
	CU_ASSERT_EQUAL(s1.fast, s0.fast);
	CU_ASSERT_NOT_EQUAL(pin.pin_id, 0);
	CU_ASSERT_TRUE(pin.nsegs >= 1);
	/* the DMA goes to the file's block now, not the punched one */
	CU_ASSERT_TRUE(dma_lands(f, &pin, leaf, PAGE, 2));
	/* a socket pin does not hold the mapping, nor need it */
	CU_ASSERT_EQUAL(daxlease_unmap(m), 0);
	CU_ASSERT_TRUE(dma_lands(f, &pin, leaf, PAGE, 3));
	CU_ASSERT_EQUAL(daxlease_map_unpin(&pin), 0);
	done_with(f, NULL, "fallback");
}

static void test_unmap_busy(void)
{
	struct daxlease_file *f;
	struct daxlease_map *m = NULL;
	struct daxlease_pin pin;
	uint8_t *addr;

	if (!can_map)
		return;
	f = make_file("unmap", leaf);
	CU_ASSERT_EQUAL_FATAL(leased_map(f, 0, leaf, PROT_RW, &m), 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_map_pin(m, 0, PAGE, 0, &pin), 0);
	CU_ASSERT_TRUE(pin.flags & DAXLEASE_PINNED_FAST);
	CU_ASSERT_EQUAL(daxlease_unmap(m), -EBUSY);
	/* the mapping is as it was */
	addr = daxlease_map_addr(m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(addr);
	addr[0] = 0x5a;
	CU_ASSERT_EQUAL(daxlease_map_unpin(&pin), 0);
	done_with(f, m, "unmap");
}

/*
 * Leaves of two levels (a big one, then two PTEs) in one pin: all of them
 * count, or none does.
 */
static void test_all_or_nothing(void)
{
	uint64_t size = leaf + 2 * PAGE, pte, pmd, pud;
	struct daxlease_file *f;
	struct daxlease_map *m = NULL;
	struct daxlease_pin pin;
	struct daxlease_busy b[8];
	int n;

	if (!can_map)
		return;
	f = make_file("mixed", size);
	CU_ASSERT_EQUAL_FATAL(leased_map(f, 0, size, PROT_RW, &m), 0);
	daxlease_map_leaves(m, &pte, &pmd, &pud);
	printf("  (leaves: %llu PTE, %llu PMD, %llu PUD)\n",
	       (unsigned long long)pte, (unsigned long long)pmd,
	       (unsigned long long)pud);
	if (leaf > PAGE)
		CU_ASSERT_EQUAL(pte, 2);
	CU_ASSERT_EQUAL_FATAL(daxlease_map_pin(m, 0, size, DAXLEASE_PIN_WRITE,
					       &pin), 0);
	CU_ASSERT_TRUE(pin.flags & DAXLEASE_PINNED_FAST);
	CU_ASSERT_EQUAL(pin.nentries, pte + pmd + pud);
	n = lockless_busy(getpid(), b, 8);
	CU_ASSERT_EQUAL(n, (int)(pte + pmd + pud));
	if (leaf > PAGE && n == 3) {
		CU_ASSERT_EQUAL(b[0].level, leaf_level);
		CU_ASSERT_EQUAL(b[1].level, DL_LEAF_PTE);
		CU_ASSERT_EQUAL(b[2].level, DL_LEAF_PTE);
	}
	CU_ASSERT_TRUE(dma_lands(f, &pin, 0, size, 3));
	CU_ASSERT_EQUAL(daxlease_map_unpin(&pin), 0);

	/* the last PTE moves: the pin of the whole range counts on nothing */
	CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_PUNCH_HOLE |
					   FALLOC_FL_KEEP_SIZE, size - PAGE,
					   PAGE), 0);
	CU_ASSERT_EQUAL_FATAL(lpin(f, m, 0, size, DAXLEASE_PIN_WRITE, &pin),
			      0);
	CU_ASSERT_FALSE(pin.flags & DAXLEASE_PINNED_FAST);
	CU_ASSERT_EQUAL(lockless_busy(getpid(), b, 8), 0);
	CU_ASSERT_TRUE(dma_lands(f, &pin, 0, size, 4));
	CU_ASSERT_EQUAL(daxlease_map_unpin(&pin), 0);
	/* the leaves that did not move still pin without a round trip */
	CU_ASSERT_EQUAL(daxlease_map_pin(m, 0, PAGE, 0, &pin), 0);
	CU_ASSERT_TRUE(pin.flags & DAXLEASE_PINNED_FAST);
	CU_ASSERT_EQUAL(daxlease_map_unpin(&pin), 0);
	done_with(f, m, "mixed");
}

/*
 * How many of p's blockers are pid's lockless pins, the index of the
 * first in *first (a NONBLOCK -EBUSY also names the range's leases).
 */
static int lockless_blockers(const struct daxlease_policy *p, pid_t pid,
			     unsigned *first)
{
	int k = 0;

	for (unsigned i = 0; i < p->nblockers && i < p->max; i++)
		if (p->blockers[i].lockless && p->blockers[i].pid == pid &&
		    !k++)
			*first = i;
	return k;
}

/* Wait until the service has dropped a dead client's lockless pins. */
static int wait_gone(pid_t pid)
{
	struct daxlease_busy b[4];

	for (int tries = 0; tries < 2000; tries++) {
		if (lockless_busy(pid, b, 4) == 0)
			return 0;
		usleep(5000);
	}
	return -1;
}

/* One liar: BUSY names it, policies hold, SIGKILL lets the change go. */
static void liar_case(enum pinner_mode mode, int64_t expect_refs,
		      bool corrupt)
{
	struct daxlease_blocker bl[4];
	struct daxlease_policy pol = {
		.flags = DAXLEASE_POLICY_NONBLOCK, .blockers = bl, .max = 4,
	};
	struct daxlease_file *f = make_file("liar", 2 * leaf);
	struct daxlease_busy b[4];
	struct pinner p;
	unsigned i = 0;
	pid_t t;
	int ev[2];

	CU_ASSERT_FATAL(dlh_ev_pipe(ev) == 0);
	start_pinner(&p, "liar", 0, PAGE, mode, -1);
	CU_ASSERT_EQUAL_FATAL(lockless_busy(p.pid, b, 4), 1);
	CU_ASSERT_EQUAL(b[0].refs, expect_refs);
	CU_ASSERT_EQUAL(b[0].pin.corrupt, corrupt);
	CU_ASSERT_EQUAL(b[0].pin.pin_id, p.entry);

	/* (the leases of the range are in its way too: not lockless) */
	CU_ASSERT_EQUAL(daxlease_truncate_policy(f, 0, &pol), -EBUSY);
	CU_ASSERT_EQUAL_FATAL(lockless_blockers(&pol, p.pid, &i), 1);
	CU_ASSERT_EQUAL(bl[i].pin_id, p.entry);
	CU_ASSERT_EQUAL(bl[i].corrupt, corrupt);
	pol = (struct daxlease_policy){ .flags = DAXLEASE_POLICY_DEADLINE,
					.deadline_ms = 50 };
	CU_ASSERT_EQUAL(daxlease_truncate_policy(f, 0, &pol), -ETIMEDOUT);
	CU_ASSERT_EQUAL(dlc_file_size(f), 2 * leaf);

	t = start_truncate("liar", 0, ev[1], 'T');
	CU_ASSERT_EQUAL_FATAL(dlc_wait_blocked(ctx, 1, true), 0);
	CU_ASSERT_TRUE(dlh_ev_empty(ev[0]));
	CU_ASSERT_EQUAL(dlc_file_size(f), 2 * leaf);
	kill_pinner(&p);
	CU_ASSERT_EQUAL(dlh_ev_next(ev[0]), 'T');
	CU_ASSERT_EQUAL(dlc_wait_exit(t), 0);
	CU_ASSERT_EQUAL(dlc_file_size(f), 0);
	CU_ASSERT_EQUAL(lockless_busy(p.pid, b, 4), 0);
	CU_ASSERT_TRUE(dlh_alive(&dmn));
	close(ev[0]);
	close(ev[1]);
	daxlease_close(f);
}

static void test_liars(void)
{
	if (!can_map)
		return;
	liar_case(PIN_LIE_NEGATIVE, -5, true);
	liar_case(PIN_LIE_HUGE, INT64_MAX, true);
	liar_case(PIN_LIE_NEVER, 1, false);
}

/* A liar's counters cannot free a block an honest client pinned. */
static void test_liar_beside_honest(void)
{
	struct daxlease_blocker bl[8];
	struct daxlease_policy pol = {
		.flags = DAXLEASE_POLICY_NONBLOCK, .blockers = bl, .max = 8,
	};
	struct daxlease_file *f;
	struct pinner honest, liar;
	struct daxlease_busy b[4];
	unsigned i = 0;

	if (!can_map)
		return;
	f = make_file("shared", 2 * leaf);
	start_pinner(&honest, "shared", leaf, PAGE, PIN_HONEST, -1);
	start_pinner(&liar, "shared", 0, PAGE, PIN_LIE_WILD, -1);
	CU_ASSERT_TRUE(dlh_alive(&dmn));
	/* while the liar's counters are junk, the honest pin holds its leaf
	 * and is reported as itself: one clean count */
	CU_ASSERT_EQUAL(daxlease_truncate_policy(f, leaf, &pol), -EBUSY);
	CU_ASSERT_EQUAL(lockless_blockers(&pol, honest.pid, &i), 1);
	CU_ASSERT_FALSE(bl[i].corrupt);
	CU_ASSERT_EQUAL(daxlease_truncate_policy(f, 0, &pol), -EBUSY);
	CU_ASSERT_EQUAL(lockless_blockers(&pol, honest.pid, &i), 1);
	CU_ASSERT_FALSE(bl[i].corrupt);
	/* the liar's junk is in its own entries only, marked */
	CU_ASSERT_TRUE(lockless_blockers(&pol, liar.pid, &i) >= 1);
	CU_ASSERT_TRUE(bl[i].corrupt);
	CU_ASSERT_EQUAL(dlc_file_size(f), 2 * leaf);
	kill_pinner(&liar);
	CU_ASSERT_EQUAL_FATAL(wait_gone(liar.pid), 0);
	CU_ASSERT_EQUAL(daxlease_truncate_policy(f, 0, &pol), -EBUSY);
	CU_ASSERT_EQUAL(lockless_blockers(&pol, honest.pid, &i), 1);
	CU_ASSERT_EQUAL(lockless_blockers(&pol, liar.pid, &i), 0);
	CU_ASSERT_EQUAL(lockless_busy(honest.pid, b, 4), 1);
	CU_ASSERT_EQUAL(b[0].refs, 1);
	/* the liar's leaf alone is free to go (waiting out the leases) */
	CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_PUNCH_HOLE |
					   FALLOC_FL_KEEP_SIZE, 0, leaf), 0);
	/* the block the honest pinner DMAed into is still the file's */
	CU_ASSERT_TRUE(file_has(f, leaf, PAGE, HONEST_WHO));
	release_pinner(&honest);
	CU_ASSERT_EQUAL(daxlease_truncate(f, 0), 0);
	done_with(f, NULL, "shared");
}

/* ---- threads pinning while the layout changes ------------------------------- */

#define THREADS 4
#define ROUNDS 150

static unsigned workers_running;

struct worker {
	pthread_t th;
	unsigned id;
	struct daxlease_file *f;
	uint64_t map_len;	/* its own mapping of [0, map_len) */
	int failures;
	unsigned pins;		/* pins done (pinned, checked, unpinned) */
	bool finished;
};

/* A page to pin in round r: even rounds one of the shared first pages
 * (the same entry for all), odd rounds the thread's own page of the last
 * leaf of the mapping (a different entry where leaves are pages). */
static uint64_t worker_page(const struct worker *w, unsigned r,
			    unsigned *seed)
{
	if (r % 2 == 0)
		return (rand_r(seed) % 4) * PAGE;
	return w->map_len - (w->id + 1) * PAGE;
}

/* DMA a stamp into this thread's 16 bytes of the page and read it back
 * through the service while the pin holds: false if it did not land. */
static bool worker_dma(const struct worker *w, const struct daxlease_pin *p,
		       uint64_t off, unsigned r)
{
	uint64_t stamp[2] = { w->id, r }, back[2], contig;
	uint8_t *d = daxlease_pin_dma(p, off, &contig);

	if (!d || contig < PAGE) {
		printf("  worker %u: pin_dma: %s\n", w->id, strerror(errno));
		return false;
	}
	memcpy(d + w->id * 16, stamp, sizeof(stamp));
	if (daxlease_pread(w->f, back, sizeof(back), off + w->id * 16) !=
	    sizeof(back) || memcmp(back, stamp, sizeof(stamp))) {
		printf("  worker %u: DMA at %llu (%s) lost\n", w->id,
		       (unsigned long long)off,
		       p->flags & DAXLEASE_PINNED_FAST ? "lockless" : "socket");
		return false;
	}
	return true;
}

/* A concurrent change may revoke the lease (ENOLCK) or invalidate the
 * entries (EAGAIN) before the mapping is made: again. */
static int map_again(struct daxlease_file *f, uint64_t len,
		     struct daxlease_map **m)
{
	int rc, tries = 0;

	for (;;) {
		rc = leased_map(f, 0, len, PROT_RW, m);
		if ((rc != -ENOLCK && rc != -EAGAIN) || ++tries == 100)
			return rc;
		usleep(1000);	/* let the change finish; not a timing test */
	}
}

/*
 * Pin, DMA, check, unpin.  A pin that had to go through the socket means
 * the layout changed under the mapping: remap, as a real client would,
 * so the lockless path is tried again.
 */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct daxlease_map *m = NULL;
	struct daxlease_pin pin;
	unsigned seed = w->id * 7919u + 1;
	uint64_t off;
	int rc;

	for (unsigned r = 0; r < ROUNDS; r++) {
		if (!m) {
			rc = map_again(w->f, w->map_len, &m);
			if (rc) {
				printf("  worker %u: map: %s\n", w->id,
				       strerror(-rc));
				w->failures++;
				continue;
			}
		}
		off = worker_page(w, r, &seed);
		rc = lpin(w->f, m, off, PAGE, DAXLEASE_PIN_WRITE, &pin);
		if (rc) {
			printf("  worker %u: pin %llu: %s\n", w->id,
			       (unsigned long long)off, strerror(-rc));
			w->failures++;
			continue;
		}
		if (!worker_dma(w, &pin, off, r))
			w->failures++;
		if (daxlease_map_unpin(&pin))
			w->failures++;
		__atomic_add_fetch(&w->pins, 1, __ATOMIC_RELAXED);
		if (!(pin.flags & DAXLEASE_PINNED_FAST) &&
		    !daxlease_unmap(m))
			m = NULL;
	}
	rc = m ? daxlease_unmap(m) : 0;
	if (rc) {
		printf("  worker %u: unmap: %s\n", w->id, strerror(-rc));
		w->failures++;
	}
	__atomic_store_n(&w->finished, true, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&workers_running, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void test_threads(void)
{
	/* two leaves (one of 1 GiB), and at least 8 pages: pages 0-3 for
	 * the shared pins, the last 4 for each thread's own */
	uint64_t map_len = leaf >= GiB ? leaf : leaf > PAGE ? 2 * leaf
							    : 8 * PAGE;
	uint64_t size = map_len + leaf;
	/* a 1 GiB leaf takes long to map: a few changes, then let the
	 * workers remap (every change of it revokes their leases) */
	unsigned changes = leaf >= GiB ? 8 : 1000, seen;
	struct worker w[THREADS];
	struct daxlease_file *f;
	struct daxlease_map *m2;
	struct daxlease_pin_stats s0, s;
	int failures = 0;

	if (!can_map)
		return;
	f = make_file("threads", size);
	s0 = stats(ctx);
	workers_running = THREADS;	/* each one counts itself out */
	for (unsigned i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .id = i, .f = f, .map_len = map_len };
		CU_ASSERT_FATAL(pthread_create(&w[i].th, NULL, worker_main,
					       &w[i]) == 0);
	}
	/* meanwhile, until they are done: punch pinned pages, shrink and
	 * grow the tail beyond the workers' mappings, map and unmap */
	for (unsigned r = 0; r < changes &&
	     __atomic_load_n(&workers_running, __ATOMIC_RELAXED) > 0;
	     r++) {
		/* each change breaks the workers' leases (changes go before
		 * grants): let every worker get a pin done in between, or a
		 * slow one could only ever remap */
		for (unsigned i = 0; i < THREADS; i++) {
			seen = __atomic_load_n(&w[i].pins, __ATOMIC_RELAXED);
			while (__atomic_load_n(&w[i].pins, __ATOMIC_RELAXED) ==
			       seen &&
			       !__atomic_load_n(&w[i].finished,
						__ATOMIC_RELAXED))
				usleep(1000);
		}
		CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_PUNCH_HOLE |
						   FALLOC_FL_KEEP_SIZE,
						   (r % 4) * PAGE, PAGE), 0);
		CU_ASSERT_EQUAL(daxlease_fallocate(f, FALLOC_FL_PUNCH_HOLE |
						   FALLOC_FL_KEEP_SIZE,
						   map_len - (r % 4 + 1) * PAGE,
						   PAGE), 0);
		CU_ASSERT_EQUAL(daxlease_truncate(f, map_len), 0);
		CU_ASSERT_EQUAL(daxlease_truncate(f, size), 0);
		if (!leased_map(f, 0, PAGE, PROT_RW, &m2))
			CU_ASSERT_EQUAL(daxlease_unmap(m2), 0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(w[i].th, NULL);
		failures += w[i].failures;
	}
	CU_ASSERT_EQUAL(failures, 0);
	daxlease_get_pin_stats(ctx, &s);
	printf("  (pins: %llu lockless, %llu socket, %llu backoffs, "
	       "%llu wake-ups)\n", (unsigned long long)(s.fast - s0.fast),
	       (unsigned long long)(s.slow - s0.slow),
	       (unsigned long long)(s.backoffs - s0.backoffs),
	       (unsigned long long)(s.wakeups - s0.wakeups));
	CU_ASSERT_EQUAL(s.fast + s.slow - s0.fast - s0.slow,
			THREADS * ROUNDS);
	done_with(f, NULL, "threads");
}

/*
 * daxleased --detach: a truncate over a lockless pin goes at once, and
 * the block the pinned entry names stays in quarantine - held by a
 * counter, which the service cannot see drop except by the unpin's
 * wake-up - until the unpin, which releases it.
 */
static void test_detach(void)
{
	struct dlh_opts o = {
		.size = 64 * MiB, .align = leaf, .name = "fastdetach",
		.extra = { "--detach", "--admin-group", admin_gid },
	};
	struct daxlease_quarantine q[8];
	struct daxlease_ctx *c = NULL;
	struct daxlease_file *f = NULL;
	struct daxlease_map *m = NULL;
	struct daxlease_pin pin;
	struct dlh_daemon d;
	uint64_t cursor = 0, held = 0, len = leaf < 64 * KiB ? 64 * KiB : leaf;
	int nq = -1;

	if (!can_map || leaf >= GiB)	/* 1 GiB leaves: no room here */
		return;
	CU_ASSERT_FATAL(dlh_start(&d, &o) == 0);
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_open(c, "q", CREATE, 0644, &f), 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_fallocate(f, 0, 0, len), 0);
	CU_ASSERT_EQUAL_FATAL(leased_map(f, 0, len, PROT_RW, &m), 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_map_pin(m, 0, PAGE, DAXLEASE_PIN_WRITE,
					       &pin), 0);
	CU_ASSERT_TRUE(pin.flags & DAXLEASE_PINNED_FAST);

	/* no waiting: done at once, though the counter still holds */
	CU_ASSERT_EQUAL(daxlease_truncate(f, 0), 0);
	nq = daxlease_quarantine(c, &cursor, q, 8);
	CU_ASSERT_FATAL(nq > 0 && !cursor);
	for (int i = 0; i < nq; i++) {
		CU_ASSERT_EQUAL(q[i].npins, 1);
		CU_ASSERT_EQUAL(q[i].pid, getpid());
		held += q[i].length;
	}
	/* the pinned entry's whole leaf; everything else went back */
	CU_ASSERT_EQUAL(held, leaf);

	/* the unpin wakes the service, which releases the leaf */
	CU_ASSERT_EQUAL(daxlease_map_unpin(&pin), 0);
	for (int i = 0; i < 2000 && nq; i++) {
		cursor = 0;
		nq = daxlease_quarantine(c, &cursor, q, 8);
		if (nq)
			usleep(5000);
	}
	CU_ASSERT_EQUAL(nq, 0);
	CU_ASSERT_EQUAL(daxlease_unmap(m), 0);
	daxlease_close(f);
	daxlease_unref(c);
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
}

static void test_clean_stop(void)
{
	daxlease_unref(ctx);
	ctx = NULL;
	CU_ASSERT_EQUAL(dlh_stop(&dmn), 0);
}

static CU_TestInfo tests[] = {
	{ "a lockless pin: no round trip, BUSY shows it",
	  test_fast_pin },
	{ "a truncate waits for the lockless unpin's wake-up",
	  test_truncate_waits },
	{ "after a layout change: the socket path, DMA to the new block",
	  test_fallback_after_change },
	{ "unmap with lockless pins: EBUSY", test_unmap_busy },
	{ "leaves of two levels: all or nothing", test_all_or_nothing },
	{ "counters written by a liar: negative, huge, never dropped",
	  test_liars },
	{ "a liar beside an honest pinner", test_liar_beside_honest },
	{ "4 threads pin while the layout changes", test_threads },
	{ "--detach: a lockless pin's leaf in quarantine until the unpin",
	  test_detach },
	{ "clean stop", test_clean_stop },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "fastpin", suite_init, suite_clean, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	if (dlh_prepare())
		return DL_TEST_SKIP;
	return dl_cunit_main(suites);
}

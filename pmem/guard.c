// SPDX-License-Identifier: BSD-3-Clause
/*
 * guard.c - the SIGBUS guard of file mappings (see guard.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard.h"

struct guard_slot {
	atomic_uintptr_t start;		/* 0: a free slot */
	atomic_uintptr_t end;
	atomic_int prot;
	atomic_uint_fast64_t faults;
};

static struct guard_slot slots[DL_GUARD_SLOTS];
static struct sigaction previous;	/* what SIGBUS did before us */
static bool installed;
static uintptr_t page_mask;

/* The slot whose range holds a, or NULL. */
static struct guard_slot *slot_of(uintptr_t a)
{
	for (int i = 0; i < DL_GUARD_SLOTS; i++) {
		struct guard_slot *s = &slots[i];
		uintptr_t start = atomic_load_explicit(&s->start,
						       memory_order_acquire);

		if (start && a >= start &&
		    a < atomic_load_explicit(&s->end, memory_order_relaxed))
			return s;
	}
	return NULL;
}

/*
 * A zeroed anonymous page over the faulting one: the access completes
 * (a load reads zeros, a store lands in memory nobody reads back from
 * the file).  glibc's mmap is the bare system call, safe in a handler.
 */
static bool absorb(const siginfo_t *si)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	struct guard_slot *s;
	void *page;

	if (si->si_code != BUS_ADRERR)
		return false;	/* a memory error, or not a page fault */
	s = slot_of(a);
	if (!s)
		return false;
	page = (void *)(a & page_mask);
	if (mmap(page, ~page_mask + 1,
		 atomic_load_explicit(&s->prot, memory_order_relaxed),
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		return false;
	atomic_fetch_add_explicit(&s->faults, 1, memory_order_release);
	return true;
}

/* Not ours: what would have happened without the guard. */
static void pass_on(int sig, siginfo_t *si, void *uc)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	if (previous.sa_flags & SA_SIGINFO) {
		previous.sa_sigaction(sig, si, uc);
		return;
	}
	if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
		previous.sa_handler(sig);
		return;
	}
	/* the default action: the signal again, pending until we return
	 * (SIGBUS is blocked in its handler), then the process dies of it -
	 * whether it was a fault or sent by kill(2); a fault cannot be
	 * ignored, so SIG_IGN ends the same way */
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGBUS, &dfl, NULL);
	raise(SIGBUS);
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	if (!absorb(si))
		pass_on(sig, si, uc);
	errno = saved;
}

static int install(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus,
				.sa_flags = SA_SIGINFO | SA_ONSTACK };

	if (installed)
		return 0;
	page_mask = ~((uintptr_t)sysconf(_SC_PAGESIZE) - 1);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &previous))
		return -errno;
	installed = true;
	return 0;
}

int dl_guard_add(void *addr, size_t len, int prot)
{
	int rc = install();

	if (rc)
		return rc;
	for (int i = 0; i < DL_GUARD_SLOTS; i++) {
		struct guard_slot *s = &slots[i];

		if (atomic_load_explicit(&s->start, memory_order_relaxed))
			continue;
		atomic_store_explicit(&s->end, (uintptr_t)addr + len,
				      memory_order_relaxed);
		atomic_store_explicit(&s->prot, prot, memory_order_relaxed);
		atomic_store_explicit(&s->faults, 0, memory_order_relaxed);
		/* published last: the handler reads start first */
		atomic_store_explicit(&s->start, (uintptr_t)addr,
				      memory_order_release);
		return i;
	}
	return -ENOSPC;
}

void dl_guard_remove(int slot)
{
	if (slot >= 0 && slot < DL_GUARD_SLOTS)
		atomic_store_explicit(&slots[slot].start, 0,
				      memory_order_release);
}

uint64_t dl_guard_faults(int slot)
{
	if (slot < 0 || slot >= DL_GUARD_SLOTS)
		return 0;
	return atomic_load_explicit(&slots[slot].faults, memory_order_acquire);
}

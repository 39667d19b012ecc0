/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * guard.h - survive a mapped file that shrinks under us.
 *
 * A load or store to a page of a shared file mapping that lies past the
 * file's end raises SIGBUS.  The namespace fd a client gets (docs/
 * protocol.md) can ftruncate the image daxleased maps, so without a guard
 * any client with DAX access could kill the service at will.
 *
 * A guarded range is a mapping dl_map_new() made of a regular file.  The
 * guard's SIGBUS handler acts only on a fault it can explain: si_code
 * BUS_ADRERR (the page has no backing: past the end of the file, or a
 * hole the file system could not fill) at an address inside a guarded
 * range.  It then maps one anonymous zeroed page, with the mapping's own
 * protection, over the faulting page (MAP_FIXED) and counts the fault;
 * the faulting instruction runs again and completes.  The data is gone
 * either way; what the guard buys is a process that is still alive to say
 * so and to refuse further changes (the namespace checks the count:
 * ns_watch.c).
 *
 * Every other SIGBUS, and every SIGSEGV (no handler is installed for it),
 * goes where it went before: the handler that was installed when the
 * guard took over (a sanitizer's, say), or the default action - the
 * process dies with the signal.  A bug is never turned into zeros.
 *
 * Registration is for one thread at a time (the service is one thread);
 * the handler only reads the table, with atomic loads, and calls only
 * async-signal-safe functions (mmap, sigaction).
 */
#ifndef DAXLEASE_PMEM_GUARD_H
#define DAXLEASE_PMEM_GUARD_H

#include <stddef.h>
#include <stdint.h>

#define DL_GUARD_SLOTS 8

/*
 * Guard [addr, addr+len), mapped with prot (PROT_*).  Installs the
 * handler on first use.  Returns a slot (>= 0) for the calls below, or
 * -ENOSPC (every slot in use) or -errno from sigaction.
 */
int dl_guard_add(void *addr, size_t len, int prot);
/* Stop guarding the slot's range (before it is unmapped). */
void dl_guard_remove(int slot);
/* Faults the guard absorbed in the slot's range so far. */
uint64_t dl_guard_faults(int slot);

#endif

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * persist_private.h - test hooks of persist.c; not for the service.
 */
#ifndef DAXLEASE_PMEM_PERSIST_PRIVATE_H
#define DAXLEASE_PMEM_PERSIST_PRIVATE_H

/*
 * The crash-simulation settings (DAXLEASE_CRASH_*) are read from the
 * environment once, at the first dl_map_new().  A test that changes them
 * (in a forked child, say) calls this afterwards: it reads them again and
 * restarts the process-wide persist-point count at 0, so N counts from
 * here.  Maps made before the call keep the mode they were made with.
 * Does nothing in builds without DAXLEASE_FAULT_INJECTION.
 */
void dl_persist_fault_reload(void);

#endif

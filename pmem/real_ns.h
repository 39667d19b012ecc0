/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * real_ns.h - real persistent-memory namespaces, found through libndctl
 * (buses, regions, namespaces) and libdaxctl (device-dax devices).
 *
 * Listing returns plain structs (pmem/ knows nothing of JSON); the CLI
 * renders them.  On a machine with no NVDIMM bus, listing succeeds with
 * zero entries.
 */
#ifndef DAXLEASE_PMEM_REAL_NS_H
#define DAXLEASE_PMEM_REAL_NS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "namespace.h"

struct dl_real_ns {
	char bus[64];		/* provider, e.g. "ACPI.NFIT" or "nfit_test.0" */
	char region[64];	/* "region0" */
	char dev[64];		/* "namespace0.0" */
	char mode[16];		/* "fsdax", "devdax", "sector", "raw", "unknown" */
	char name[64];		/* alt name, may be empty */
	char uuid[40];		/* text form, may be empty */
	uint64_t size;
	uint64_t align;		/* 0 if unknown */
	char blockdev[64];	/* "pmem0" for fsdax, else empty */
	char chardev[64];	/* "dax0.0" for devdax, else empty */
	int enabled;
};

struct dl_real_dax {
	char region[64];	/* "region0" (dax region id) */
	char dev[64];		/* "dax0.0" */
	char mode[16];		/* "devdax" or "system-ram" */
	uint64_t size;
	uint64_t align;
	char target_node[16];
};

/*
 * Enumerate namespaces and dax devices.  *out arrays are malloc'ed (free
 * them with free()); counts may be 0.  Returns 0 or -errno (out of
 * memory).  A machine whose kernel has no nvdimm or dax support - where
 * the library context cannot even be created - has no devices: 0 entries.
 */
int dl_real_ns_list(struct dl_real_ns **out, size_t *count, struct dl_err *err);
int dl_real_dax_list(struct dl_real_dax **out, size_t *count,
		     struct dl_err *err);

/*
 * Open a real namespace by name: "dax0.0" or "/dev/dax0.0" (device-dax
 * char device), "namespace0.0" or its alt name (its dax device), or a path
 * to a file on a filesystem mounted with -o dax (fsdax).  The namespace's
 * whole extent is the namespace data: offset 0 is byte 0.
 */
int dl_real_ns_open(const char *name, enum dl_map_mode mode, struct dl_ns **out,
		    struct dl_err *err);

#endif

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * namespace.h - an open persistent-memory namespace: a fake NVDIMM image,
 * a device-dax character device, or a file on a DAX-mounted fsdax
 * namespace.  The filesystem (fs.h) sees only this interface.
 *
 * Offsets are always bytes from the namespace start (namespace byte 0 is
 * image byte data_offset for a fake NVDIMM).  That is the one convention
 * for badblocks too: inject, clear and list take and print bytes from the
 * namespace start; the device tracks them in 512-byte sectors, so a range
 * is widened to whole sectors.
 */
#ifndef DAXLEASE_PMEM_NAMESPACE_H
#define DAXLEASE_PMEM_NAMESPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "format.h"
#include "persist.h"

enum dl_ns_kind {
	DL_NS_FAKE,		/* fake NVDIMM image file */
	DL_NS_DEVDAX,		/* /dev/daxX.Y */
	DL_NS_FSDAX_FILE,	/* a file on a filesystem mounted -o dax */
};

struct dl_ns_params {
	uint64_t size;		/* namespace data bytes, multiple of align */
	uint64_t align;		/* 4 KiB, 2 MiB or 1 GiB; 0 = 2 MiB */
	const char *name;	/* optional, < DL_NVDIMM_NAME_MAX bytes */
	const uint8_t *uuid;	/* optional 16 bytes; NULL = random */
};

struct dl_ns_info {
	enum dl_ns_kind kind;
	char path[4096];
	char name[DL_NVDIMM_NAME_MAX];
	uint8_t uuid[16];
	uint64_t size;
	uint64_t align;
	uint64_t data_offset;		/* fake NVDIMM: image offset of byte 0 */
	uint32_t version_major, version_minor;
	uint64_t compat, incompat, ro_compat;
	uint64_t create_time;
	uint64_t unsafe_shutdowns;	/* health: opens after an unclean close */
	bool was_clean;			/* state at this open */
	uint64_t image_bytes_allocated;	/* st_blocks * 512 (sparse usage) */
	enum dl_granularity granularity;
	bool read_only;
};

struct dl_badblock {
	uint64_t offset;	/* bytes from the namespace start */
	uint64_t length;	/* bytes */
};

struct dl_ns;

/* Valid align values, and the rule checks shared by create and open. */
bool dl_ns_align_valid(uint64_t align);
int dl_ns_params_check(const struct dl_ns_params *p, struct dl_err *err);

/*
 * Create a fake NVDIMM image at path (must not exist: EEXIST).  Sparse:
 * a 1 TiB namespace costs a few KiB of disk until written.
 */
int dl_nvdimm_create(const char *path, const struct dl_ns_params *p,
		     struct dl_err *err);

/*
 * Open a fake NVDIMM image.  Read-write opens take an exclusive flock
 * (EBUSY if another process has it open), bump unsafe_shutdowns when the
 * image was not closed cleanly, and mark it open; read-only opens take a
 * shared lock and change nothing.
 */
int dl_nvdimm_open(const char *path, enum dl_map_mode mode, struct dl_ns **out,
		   struct dl_err *err);

/*
 * Open a fake NVDIMM for an offline check (check-namespace): locks as
 * dl_nvdimm_open() takes them, but the health state is left as found.  A
 * read-write open neither counts an unsafe shutdown nor marks the image
 * open, and closing it does not mark it clean: an image a daemon did not
 * shut down cleanly still says so to the next daemon, which counts it
 * once - as an NVDIMM's unsafe-shutdown count counts power failures, not
 * the tools that looked at the DIMM since.
 */
int dl_nvdimm_open_for_check(const char *path, enum dl_map_mode mode,
			     struct dl_ns **out, struct dl_err *err);

/* Close: a read-write namespace is marked clean (a clean shutdown), unless
 * it was opened for a check. */
void dl_ns_close(struct dl_ns **ns);

void dl_ns_get_info(const struct dl_ns *ns, struct dl_ns_info *out);
uint64_t dl_ns_size(const struct dl_ns *ns);
uint64_t dl_ns_align(const struct dl_ns *ns);
bool dl_ns_read_only(const struct dl_ns *ns);
/* Direct pointer to namespace byte 0 (the DAX view). */
void *dl_ns_base(const struct dl_ns *ns);
/* The fd of the image or device (for handing to clients later). */
int dl_ns_fd(const struct dl_ns *ns);

/* Persistence of stores into dl_ns_base(); see persist.h. */
void dl_ns_flush(struct dl_ns *ns, const void *addr, size_t len);
void dl_ns_drain(struct dl_ns *ns);
void dl_ns_persist(struct dl_ns *ns, const void *addr, size_t len);
void dl_ns_persist_stats(const struct dl_ns *ns, struct dl_persist_stats *out);
/* Zero [off, off+len) without writing it, where the namespace can (a
 * fake NVDIMM's image: a punched hole); see dl_map_punch_zero(). */
int dl_ns_punch_zero(struct dl_ns *ns, uint64_t off, uint64_t len);
int dl_ns_punch_sync(struct dl_ns *ns);

/* ---- the image changed behind our back (ns_watch.c) ---------------------- */

/*
 * Whoever holds an fd of a fake NVDIMM image (or of the file of an fsdax
 * namespace) can do more than store into the namespace: cut the file
 * short, punch holes in it, write over the header copies and the label
 * area in front of the namespace.  A watched namespace notices, says so
 * through fn (one call per finding: the bit and a sentence for a log),
 * undoes what it can - the size set back, the header and labels written
 * back from its own copy - and keeps the finding in its health bits.
 * Any health bit makes the filesystem refuse every change with -EIO
 * (dl_fs_writable), and close then leaves the image marked open, not
 * clean.  Its mapping is guarded too (dl_map_guard): an access past a
 * shortened end reads zeros instead of killing the process.
 *
 * Read-write regular files only; for anything else dl_ns_watch() does
 * nothing and returns 0.  The file as it is at the call is the truth.
 */
#define DL_NS_HEALTH_RESIZED 0x1u	/* the file's size changed (set back) */
#define DL_NS_HEALTH_META 0x2u		/* header or labels overwritten
					 * (written back) */
#define DL_NS_HEALTH_FAULT 0x4u		/* an access to the mapping faulted */

typedef void dl_ns_health_fn(void *arg, unsigned bit, const char *why);

int dl_ns_watch(struct dl_ns *ns, dl_ns_health_fn *fn, void *arg,
		struct dl_err *err);
/* Readable when the file was written by anyone (an inotify fd); -1 when
 * not watched, or when inotify could not be had (then every
 * dl_ns_check() looks in full).  Call dl_ns_check(ns, false) then. */
int dl_ns_watch_fd(const struct dl_ns *ns);
/*
 * Check and undo: full, or only if the file was written or the mapping
 * faulted since the last check (one read(2) when nothing happened).
 * Returns the health bits so far (0: healthy).
 */
unsigned dl_ns_check(struct dl_ns *ns, bool full);
/* The health bits so far, without a system call. */
unsigned dl_ns_health(const struct dl_ns *ns);

/* ---- badblocks: bytes from the namespace start -------------------------- */

/* Mark [offset, offset+length) bad (widened to sectors); persistent. */
int dl_ns_inject_error(struct dl_ns *ns, uint64_t offset, uint64_t length,
		       struct dl_err *err);
/*
 * Clear badblocks in [offset, offset+length); the range must be sector
 * aligned (clearing rewrites the sectors with zeros, as ndctl's clear
 * does on real hardware, so it must cover whole sectors).
 */
int dl_ns_clear_error(struct dl_ns *ns, uint64_t offset, uint64_t length,
		      struct dl_err *err);
/* Copy up to max badblocks (sorted, merged) to out; *count = total. */
int dl_ns_list_errors(const struct dl_ns *ns, struct dl_badblock *out,
		      size_t max, size_t *count);
/* True if any byte of [offset, offset+length) lies in a badblock. */
bool dl_ns_range_is_bad(const struct dl_ns *ns, uint64_t offset,
			uint64_t length);
/* Copy out of the namespace; -EIO if the range touches a badblock. */
int dl_ns_read(const struct dl_ns *ns, uint64_t offset, void *buf,
	       size_t length);

/* ---- parsers, exposed for the fuzz target and the checker ---------------- */

/*
 * Validate one device-header copy in buf.  Returns 0, -EINVAL (bad
 * signature or checksum: "not a daxlease image" / "header checksum
 * mismatch"), -EPROTONOSUPPORT (newer major, or unknown incompat feature),
 * -EROFS (unknown ro_compat feature and want_write).
 */
int dl_nvdimm_hdr_check(const void *buf, size_t len, bool want_write,
			struct dl_err *err);
/* Choose the valid copy with the highest generation from the two copies
 * at the start of an image; *which = 0 or 1. */
int dl_nvdimm_hdr_pick(const void *image, size_t len, bool want_write,
		       int *which, struct dl_err *err);
/* Validate the label area against the header (uuid, name, size, align). */
int dl_nvdimm_labels_check(const void *label_area, size_t len,
			   const struct dl_nvdimm_hdr *hdr, struct dl_err *err);

#endif

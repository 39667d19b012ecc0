/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * namespace_private.h - struct dl_ns, shared by the fake NVDIMM
 * (nvdimm.c, nvdimm_label.c, badblocks.c) and real namespaces (real_ns.c).
 */
#ifndef DAXLEASE_PMEM_NAMESPACE_PRIVATE_H
#define DAXLEASE_PMEM_NAMESPACE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "namespace.h"
#include "persist.h"

struct dl_ns {
	enum dl_ns_kind kind;
	int fd;
	bool read_only;
	struct dl_map *map;
	char *image;		/* mapping start: image byte 0 (fake) */
	char *base;		/* namespace byte 0 */
	struct dl_ns_info info;	/* static facts; dynamic ones filled on read */

	/*
	 * Fake NVDIMM: the current header as last committed, and which copy
	 * (0 = A, 1 = B) holds it.  The next commit writes the other copy.
	 * Read-write opens hold an exclusive flock on fd, read-only ones a
	 * shared flock; closing fd drops it.
	 */
	struct dl_nvdimm_hdr hdr;
	int hdr_copy;
	/* opened for a check: the header's state and unsafe-shutdown
	 * count are left as found (dl_nvdimm_open_for_check) */
	bool keep_health;

	/* Real namespace: badblocks found at open (namespace offsets). */
	struct dl_badblock_rec *bb;
	uint32_t nbb;

	/* ns_watch.c: what was done to the file behind our back */
	struct dl_ns_watch *watch;	/* NULL: not watched */
	unsigned health;		/* DL_NS_HEALTH_* found so far */
};

/* The data offset a fake NVDIMM of this align gets. */
uint64_t dl_nvdimm_data_offset(uint64_t align);

/*
 * Make hdr the current header: write it, with generation + 1, over the
 * copy that is not current, and persist it.  A torn write leaves the
 * current copy intact, so the image always has one valid header.
 */
void dl_nvdimm_hdr_commit(struct dl_ns *ns, const struct dl_nvdimm_hdr *hdr);

/* Image bytes [off, off+len) now hold buf, written by us: the watch's
 * copy of the header and labels follows (ns_watch.c). */
void dl_ns_meta_written(struct dl_ns *ns, size_t off, const void *buf,
			size_t len);
/* Stop watching (close): frees what dl_ns_watch() set up. */
void dl_ns_unwatch(struct dl_ns *ns);

/* Seal a header: compute its checksum. */
void dl_nvdimm_hdr_seal(struct dl_nvdimm_hdr *hdr);

/*
 * Write the index blocks and the one label for the namespace hdr describes
 * into a zeroed label area.  Returns how many bytes from the start of the
 * area it wrote: the rest stays zero, and unwritten in a sparse image.
 */
size_t dl_nvdimm_labels_init(void *label_area, const struct dl_nvdimm_hdr *hdr);

/* Badblock table check shared by header validation. */
int dl_badblocks_table_check(const struct dl_badblock_rec *bb, uint32_t n,
			     uint64_t size, struct dl_err *err);

#endif

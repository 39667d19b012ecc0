// SPDX-License-Identifier: BSD-3-Clause
/*
 * nvdimm_label.c - the fake NVDIMM's label area.
 *
 * Shaped like an NVDIMM namespace label storage area: two index blocks
 * (the valid one with the higher seq wins, so an index update can be torn
 * safely) and label slots, a free bitmap saying which slots hold labels.
 * A fake NVDIMM has exactly one label; it repeats the header's uuid, name,
 * size and align, so a header and a label area from different images are
 * caught at open.
 */
#include <errno.h>
#include <string.h>

#include "crc.h"
#include "namespace_private.h"

#define LABEL_MAJOR 1
#define LABEL_MINOR 0
#define SLOT0_OFF (2 * DL_LABEL_INDEX_SIZE)

#define SZ(buf, n) dl_fmt_size(buf, sizeof(buf), n)

/* ---- create ------------------------------------------------------------------ */

static void index_init(struct dl_label_index *ix, int which)
{
	memset(ix, 0, sizeof(*ix));
	memcpy(ix->sig, DL_LABEL_INDEX_SIG, sizeof(DL_LABEL_INDEX_SIG));
	ix->seq = (uint64_t)which + 1;
	ix->myoff = (uint64_t)which * DL_LABEL_INDEX_SIZE;
	ix->otheroff = (uint64_t)!which * DL_LABEL_INDEX_SIZE;
	ix->labeloff = SLOT0_OFF;
	ix->nslot = DL_LABEL_NSLOT;
	ix->major = LABEL_MAJOR;
	ix->minor = LABEL_MINOR;
	/* every slot free but slot 0; bits past nslot stay clear */
	for (uint32_t i = 1; i < DL_LABEL_NSLOT; i++)
		ix->free[i / 8] |= (uint8_t)(1u << (i % 8));
	ix->checksum = dl_crc32c(0, ix, sizeof(*ix));
}

static void label_init(struct dl_ns_label *l, const struct dl_nvdimm_hdr *h)
{
	memset(l, 0, sizeof(*l));
	memcpy(l->uuid, h->uuid, sizeof(l->uuid));
	memcpy(l->name, h->name, sizeof(l->name));
	l->nlabel = 1;
	l->position = 0;
	l->dpa = h->data_offset;
	l->rawsize = h->size;
	l->slot = 0;
	l->align = h->align;
	l->checksum = dl_crc32c(0, l, sizeof(*l));
}

size_t dl_nvdimm_labels_init(void *label_area, const struct dl_nvdimm_hdr *hdr)
{
	char *area = label_area;
	struct dl_label_index ix;
	struct dl_ns_label l;

	for (int i = 0; i < 2; i++) {
		index_init(&ix, i);
		memcpy(area + i * DL_LABEL_INDEX_SIZE, &ix, sizeof(ix));
	}
	label_init(&l, hdr);
	memcpy(area + SLOT0_OFF, &l, sizeof(l));
	return SLOT0_OFF + sizeof(l);
}

/* ---- check ------------------------------------------------------------------- */

static bool index_valid(const struct dl_label_index *ix, int which)
{
	uint32_t csum = dl_crc32c_skip(ix, sizeof(*ix),
				       offsetof(struct dl_label_index, checksum),
				       sizeof(ix->checksum));

	return !memcmp(ix->sig, DL_LABEL_INDEX_SIG, sizeof(DL_LABEL_INDEX_SIG)) &&
	       ix->checksum == csum &&
	       ix->myoff == (uint64_t)which * DL_LABEL_INDEX_SIZE &&
	       ix->otheroff == (uint64_t)!which * DL_LABEL_INDEX_SIZE &&
	       ix->labeloff == SLOT0_OFF && ix->nslot == DL_LABEL_NSLOT &&
	       ix->major == LABEL_MAJOR;
}

/* Index of the valid index block with the higher seq, or -1. */
static int index_pick(const char *area, struct dl_label_index ix[2])
{
	int best = -1;

	for (int i = 0; i < 2; i++) {
		memcpy(&ix[i], area + i * DL_LABEL_INDEX_SIZE, sizeof(ix[i]));
		if (index_valid(&ix[i], i) &&
		    (best < 0 || ix[i].seq > ix[best].seq))
			best = i;
	}
	return best;
}

static bool slot_free(const struct dl_label_index *ix, uint32_t slot)
{
	return ix->free[slot / 8] & (1u << (slot % 8));
}

static int label_read(const char *area, uint32_t slot, struct dl_ns_label *l,
		      struct dl_err *err)
{
	memcpy(l, area + SLOT0_OFF + (size_t)slot * DL_LABEL_SIZE, sizeof(*l));
	if (l->checksum != dl_crc32c_skip(l, sizeof(*l),
					  offsetof(struct dl_ns_label, checksum),
					  sizeof(l->checksum)))
		return dl_err_set(err, EINVAL,
				  "label slot %u is in use but its checksum does not match",
				  slot);
	if (l->slot != slot)
		return dl_err_set(err, EINVAL,
				  "label in slot %u says it belongs in slot %u",
				  slot, l->slot);
	if (strnlen(l->name, sizeof(l->name)) == sizeof(l->name))
		return dl_err_set(err, EINVAL,
				  "label in slot %u has a name that is not NUL-terminated",
				  slot);
	return 0;
}

/* The one label in use; a fake NVDIMM has no other. */
static int label_find(const char *area, const struct dl_label_index *ix,
		      struct dl_ns_label *l, struct dl_err *err)
{
	uint32_t used = 0;
	int rc;

	for (uint32_t slot = 0; slot < ix->nslot; slot++) {
		if (slot_free(ix, slot))
			continue;
		if (used++)
			continue;
		rc = label_read(area, slot, l, err);
		if (rc)
			return rc;
	}
	if (used == 1)
		return 0;
	if (!used)
		return dl_err_set(err, EINVAL,
				  "label area holds no namespace label");
	return dl_err_set(err, EINVAL,
			  "label area holds %u namespace labels, a fake NVDIMM has one",
			  used);
}

static int label_match(const struct dl_ns_label *l,
		       const struct dl_nvdimm_hdr *h, struct dl_err *err)
{
	char a[32], b[32];

	if (memcmp(l->uuid, h->uuid, sizeof(l->uuid)))
		return dl_err_set(err, EINVAL,
				  "label uuid does not match the header uuid: the label area belongs to another namespace");
	if (strncmp(l->name, h->name, sizeof(l->name)))
		return dl_err_set(err, EINVAL,
				  "label name \"%s\" does not match the header name \"%s\"",
				  l->name, h->name);
	if (l->rawsize != h->size)
		return dl_err_set(err, EINVAL,
				  "label size %s does not match the header size %s",
				  SZ(a, l->rawsize), SZ(b, h->size));
	if (l->align != h->align)
		return dl_err_set(err, EINVAL,
				  "label align %s does not match the header align %s",
				  SZ(a, l->align), SZ(b, h->align));
	if (l->nlabel != 1 || l->position)
		return dl_err_set(err, EINVAL,
				  "label is number %u of %u in a set: a fake NVDIMM has no interleave set",
				  l->position, l->nlabel);
	if (l->dpa != h->data_offset)
		return dl_err_set(err, EINVAL,
				  "label places the namespace at %s, the header at %s",
				  SZ(a, l->dpa), SZ(b, h->data_offset));
	return 0;
}

int dl_nvdimm_labels_check(const void *label_area, size_t len,
			   const struct dl_nvdimm_hdr *hdr, struct dl_err *err)
{
	struct dl_label_index ix[2];
	struct dl_ns_label l;
	char s[32];
	int best, rc;

	if (len < DL_NVDIMM_LABEL_SIZE)
		return dl_err_set(err, EINVAL,
				  "label area is truncated: %s, it needs 128 KiB",
				  SZ(s, len));
	best = index_pick(label_area, ix);
	if (best < 0)
		return dl_err_set(err, EINVAL,
				  "label area has no valid index block");
	rc = label_find(label_area, &ix[best], &l, err);
	if (rc)
		return rc;
	return label_match(&l, hdr, err);
}

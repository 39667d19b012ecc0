/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * crc.h - checksums for on-media structures.
 *
 * CRC-32C guards fixed-size headers; CRC-64 (ECMA-182 polynomial, as used
 * by xz) guards journal transactions, whose commit record is "valid iff the
 * checksum over the whole transaction matches" - a torn write must not pass,
 * so the journal gets the wider checksum.
 */
#ifndef DAXLEASE_PMEM_CRC_H
#define DAXLEASE_PMEM_CRC_H

#include <stddef.h>
#include <stdint.h>

uint32_t dl_crc32c(uint32_t crc, const void *buf, size_t len);
uint64_t dl_crc64(uint64_t crc, const void *buf, size_t len);

/*
 * Checksum of a structure whose own checksum field lies inside it: the
 * field is treated as zero.  csum_off/csum_len locate the field.
 */
uint32_t dl_crc32c_skip(const void *buf, size_t len, size_t csum_off,
			size_t csum_len);

#endif

// SPDX-License-Identifier: BSD-3-Clause
/*
 * crc.c - CRC-32C (Castagnoli) and CRC-64 (ECMA-182, the xz variant).
 *
 * Both are the reflected, table-driven form with initial value ~0 and a
 * final xor of ~0.  The crc argument is the value a previous call
 * returned (0 to start), so a checksum can be computed piecewise:
 * dl_crc32c(dl_crc32c(0, a, n), b, m) is the checksum of a followed by b.
 *
 * The tables are built once, on first use, from the polynomials rather
 * than spelled out as 512 constants nobody can review.
 */
#include <pthread.h>
#include <stdint.h>

#include "crc.h"

#define CRC32C_POLY 0x82F63B78U			/* 0x1EDC6F41 reflected */
#define CRC64_POLY 0xC96C5795D7870F42ULL	/* 0x42F0E1EBA9EA3693 reflected */

static uint32_t crc32c_table[256];
static uint64_t crc64_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_tables_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c32 = i;
		uint64_t c64 = i;

		for (int k = 0; k < 8; k++) {
			c32 = (c32 >> 1) ^ ((c32 & 1) ? CRC32C_POLY : 0);
			c64 = (c64 >> 1) ^ ((c64 & 1) ? CRC64_POLY : 0);
		}
		crc32c_table[i] = c32;
		crc64_table[i] = c64;
	}
}

uint32_t dl_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&crc_once, crc_tables_init);
	crc = ~crc;
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint64_t dl_crc64(uint64_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&crc_once, crc_tables_init);
	crc = ~crc;
	while (len--)
		crc = crc64_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* Feed len zero bytes: the checksum field's stand-in. */
static uint32_t crc32c_zeros(uint32_t crc, size_t len)
{
	static const uint8_t zeros[64];

	while (len) {
		size_t n = len < sizeof(zeros) ? len : sizeof(zeros);

		crc = dl_crc32c(crc, zeros, n);
		len -= n;
	}
	return crc;
}

uint32_t dl_crc32c_skip(const void *buf, size_t len, size_t csum_off,
			size_t csum_len)
{
	const uint8_t *p = buf;
	uint32_t crc;

	/* a field that sticks out of the buffer only hides what is inside */
	if (csum_off > len)
		csum_off = len;
	if (csum_len > len - csum_off)
		csum_len = len - csum_off;
	crc = dl_crc32c(0, p, csum_off);
	crc = crc32c_zeros(crc, csum_len);
	return dl_crc32c(crc, p + csum_off + csum_len,
			 len - csum_off - csum_len);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * leased.h - MAP and PIN under a layout lease, for the integration tests
 * written before leases (daxleased refuses both with -ENOLCK unless the
 * caller holds a lease covering the range).
 *
 * Each call takes a fresh shared lease on exactly the range first and
 * keeps it until the context goes: a test's own layout changes break it
 * (the harness starts daxleased with --lease-timeout 1, so a test that
 * changes a range it leased itself waits a millisecond, not ten seconds),
 * and a revoked lease conflicts with nothing.  A range the lease cannot
 * take (not 4 KiB multiples) is left for MAP/PIN to refuse with their own
 * error.
 */
#ifndef DAXLEASE_TESTS_LEASED_H
#define DAXLEASE_TESTS_LEASED_H

#include "daxlease/libdaxlease.h"

static inline int leased_map(struct daxlease_file *f, uint64_t offset,
			     uint64_t length, unsigned prot,
			     struct daxlease_map **out)
{
	uint64_t id;

	(void)daxlease_lease_acquire(f, offset, length, DAXLEASE_LEASE_SHARED,
				     0, &id);
	return daxlease_map(f, offset, length, prot, out);
}

static inline int leased_pin(struct daxlease_file *f, uint64_t offset,
			     uint64_t length, unsigned flags, uint64_t *pin_id)
{
	uint64_t id;

	(void)daxlease_lease_acquire(f, offset, length, DAXLEASE_LEASE_SHARED,
				     0, &id);
	return daxlease_pin(f, offset, length, flags, pin_id);
}

#endif

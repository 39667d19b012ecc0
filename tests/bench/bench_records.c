/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_records.c - what the pin records cost the round trips that write
 * them (service/records.c): a MAP or a PIN records, through the journal,
 * the ranges the process may reach before its reply - unless they are
 * recorded already, the usual case.  The lockless pin records nothing
 * (the pin section shows it costs what it did).
 *
 *   map+unmap, recorded    MAP + UNMAP of a 64 KiB range mapped just
 *                          before: its record is still there, nothing is
 *                          written
 *   map+unmap, recording   the same, alternating between two ranges 512
 *                          KiB apart: each MAP's range is not recorded
 *                          (the last UNMAP's trim has not come yet, and
 *                          the record it replaces is the other range's),
 *                          so it writes one
 *   pin+unpin, recorded    socket PIN + UNPIN of a mapped range
 *   pin+unpin, recording   socket PIN + UNPIN alternating between two
 *                          ranges, no mapping: each PIN writes a record
 *
 * One connection throughout.  The difference of the medians is the
 * recording: one journal commit of one 64-byte line on this machine's
 * image (an msync of the journal and of the home location on a fake
 * NVDIMM; a cache-line flush on real pmem).
 */
#include <errno.h>
#include <stdlib.h>

#include "bench_daemon.h"
#include "bench_service.h"

#define REC_FILE_BYTES (1ULL << 20)
#define REC_RANGE (64ULL << 10)
#define WARMUP 20

struct rec_run {
	struct daxlease_ctx *ctx;
	struct daxlease_file *f;
	bool alternate;			/* two ranges, in turn */
};

/* The range of run i: always the first, or the two in turn. */
static uint64_t range_of(const struct rec_run *r, size_t i)
{
	return r->alternate && i % 2 ? REC_FILE_BYTES / 2 : 0;
}

static int map_op(void *arg, size_t i)
{
	struct rec_run *r = arg;
	struct daxlease_map *m;
	int rc;

	rc = daxlease_map(r->f, range_of(r, i), REC_RANGE,
			  DAXLEASE_PROT_READ | DAXLEASE_PROT_WRITE, &m);
	return rc ? rc : daxlease_unmap(m);
}

static int pin_op(void *arg, size_t i)
{
	struct rec_run *r = arg;
	uint64_t id;
	int rc;

	rc = daxlease_pin(r->f, range_of(r, i), REC_RANGE, DAXLEASE_PIN_WRITE,
			  &id);
	return rc ? rc : daxlease_unpin(r->ctx, id);
}

/* n runs of op on the first range or two in turn; mapped: with the
 * first range mapped all along (pins of a recorded range). */
static int rec_case(struct bench_daemon *bd, struct echo_peer *e,
		    int (*op)(void *, size_t), bool alternate, bool mapped,
		    size_t n, struct svc_timed *out)
{
	const struct paired_op p = { .op = op };
	struct rec_run r = { .ctx = bd->ctx, .alternate = alternate };
	struct daxlease_map *m = NULL;
	int rc;

	rc = daxlease_open(r.ctx, "records", BENCH_RW, 0, &r.f);
	if (!rc && mapped)
		rc = daxlease_map(r.f, 0, REC_RANGE,
				  DAXLEASE_PROT_READ | DAXLEASE_PROT_WRITE, &m);
	for (size_t i = 0; !rc && i < WARMUP; i++)
		rc = op(&r, i);
	if (!rc)
		rc = time_paired(e, &p, &r, n, out);
	if (m)
		daxlease_unmap(m);
	if (r.f)
		daxlease_close(r.f);
	return rc;
}

int svc_records(const struct bench_opts *o, struct echo_peer *e,
		struct svc_res *r)
{
	/* MAP and PIN without a lease: this measures the recording */
	static const char *const extra[] = { "--advisory-leases", NULL };
	struct bench_daemon bd;
	struct daxlease_file *f = NULL;
	size_t n = r->it.records;
	int rc, stop;

	rc = bench_daemon_start(o, &bd, 1ULL << 30, 2ULL << 20, extra);
	if (rc)
		return rc;
	rc = bench_file_written(bd.ctx, "records", REC_FILE_BYTES, &f);
	if (f)
		daxlease_close(f);
	if (!rc)
		rc = rec_case(&bd, e, map_op, false, false, n, &r->map_recorded);
	if (!rc)
		rc = rec_case(&bd, e, map_op, true, false, n, &r->map_new);
	if (!rc)
		rc = rec_case(&bd, e, pin_op, false, true, n, &r->pin_recorded);
	if (!rc)
		rc = rec_case(&bd, e, pin_op, true, false, n, &r->pin_new);
	stop = bench_daemon_stop(&bd);
	if (rc)
		return bench_fail("pin records", NULL, rc);
	return stop;
}

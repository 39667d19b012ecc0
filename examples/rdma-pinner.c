/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rdma-pinner.c - pin a file range for "DMA", as an RDMA NIC driver pins
 * the pages of a memory region, and keep writing into it.
 *
 *   example-rdma-pinner [options] PATH OFFSET LENGTH
 *
 * Takes a shared layout lease on [OFFSET, OFFSET+LENGTH) of PATH, maps
 * the range for writing, pins it for write and starts a "DMA" thread
 * that writes pass after pass of a recognizable pattern into the pinned
 * pages (32-byte records of 8-byte words: this pid, the pass's sequence
 * number, the record's file offset, "RDMAPIN!").  The main thread waits
 * with poll(2) on the connection's event fd, a signalfd and the DMA
 * thread's eventfd.
 *
 * The pin is lockless by default: daxlease_map_pin() counts it in memory
 * shared with the service, with no round trip while the mapping's entries
 * are valid, and the DMA goes where daxlease_pin_dma() says - the
 * namespace blocks themselves, as a NIC writes to the pages
 * get_user_pages() returned - never through the mapping, which a layout
 * change leaves stale.  --socket-pin pins with a PIN request instead
 * (daxlease_pin) and writes through the mapping, which then keeps
 * reaching the pinned blocks.
 *
 * A layout change of the range (a truncate, a punch, ...) breaks the
 * lease.  By default the pinner is cooperative: it returns the lease at
 * once but, like a NIC that cannot abort a transfer halfway, keeps the
 * pin and the DMA until the current transfer ends (--transfer-ms), then
 * stops.  The change goes past the lease at once and then waits in the
 * service's busy-page scan for the pin - the case that makes truncate
 * safe.  With --ignore-breaks it keeps the lease and the DMA: the service
 * revokes the lease at its deadline and the change still waits for the
 * pin.  SIGTERM, SIGINT, --hold and --iterations stop it too.
 *
 * The pin is the process's, not the connection's: when the connection is
 * lost - daxleased killed and started again, say - the DMA goes on, and
 * the pinner reconnects (daxlease_reconnect) as soon as a daemon answers,
 * taking its pin back; the lease is gone with the old connection (the
 * daemon held the pinned blocks throughout).
 *
 * Before unpinning, it reads the range back through the service
 * (daxlease_pread) and checks that it holds the last pass the DMA wrote:
 * a mismatch means a block was freed or moved under a pin (exit 1).
 * One line per event on stdout, line-buffered, so a script can wait
 * for "pinned".
 *
 * Build your own copy with (example-util.h beside it):
 *   cc rdma-pinner.c $(pkg-config --cflags --libs libdaxlease) -pthread
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <daxlease/libdaxlease.h>
#include <daxlease/proto.h>

#define EXAMPLE_NAME "rdma-pinner"
#include "example-util.h"

#define PAGE 4096u
#define RECORD_WORDS 4		/* pid, sequence, file offset, tag */
#define RECORD_BYTES (RECORD_WORDS * 8u)
#define RECORD_TAG 0x214e495041444452ull	/* "RDMAPIN!" in memory */
#define PASS_PAUSE_NS 2000000	/* between passes: leave the CPU to others */
#define VERIFY_CHUNK (1u << 20)

static const char usage[] =
	"usage: example-rdma-pinner [--socket PATH] [--ignore-breaks]\n"
	"                           [--transfer-ms MS] [--hold SECONDS]\n"
	"                           [--iterations N] [--lockless | --socket-pin]\n"
	"                           PATH OFFSET LENGTH\n"
	"\n"
	"Lease, map and pin [OFFSET, OFFSET+LENGTH) of PATH (4 KiB multiples;\n"
	"K, M, G suffixes and 0x hex accepted) for write, and keep a \"DMA\"\n"
	"thread writing a pattern into the pinned pages until a signal\n"
	"(SIGTERM, SIGINT), --hold, --iterations or a lease break stops it.\n"
	"Then check through the service that the file holds what the DMA\n"
	"wrote, unpin, unmap and return the lease.  The socket is --socket,\n"
	"else $DAXLEASE_SOCKET, else the daemon's default.\n"
	"\n"
	"  -s, --socket PATH       daxleased's socket\n"
	"  -i, --ignore-breaks     keep the lease and the DMA on a break (the\n"
	"                          service revokes the lease at its deadline)\n"
	"  -t, --transfer-ms MS    on a break, the lease goes back at once but\n"
	"                          the DMA goes on until its current transfer,\n"
	"                          MS long, ends (default 200)\n"
	"  -H, --hold SECONDS      stop after this long\n"
	"  -n, --iterations N      stop after N passes over the range\n"
	"  -l, --lockless          pin with daxlease_map_pin (per-entry counters,\n"
	"                          no round trip) and DMA where daxlease_pin_dma\n"
	"                          says (the default)\n"
	"  -P, --socket-pin        pin with daxlease_pin (a PIN request) and DMA\n"
	"                          through the mapping\n"
	"  -h, --help              this text\n"
	"\n"
	"Exit status: 0 done and verified, 1 error or the file does not hold\n"
	"what the DMA wrote.\n";

struct options {
	const char *socket;
	const char *path;
	uint64_t offset, length;
	bool ignore_breaks;
	bool lockless;			/* daxlease_map_pin, else daxlease_pin */
	unsigned transfer_ms;
	long hold_s;			/* -1: no limit */
	uint64_t iterations;		/* 0: no limit */
};

/* A piece of the pinned range that is contiguous in memory. */
struct dma_seg {
	uint64_t *words;
	uint64_t offset, length;	/* its file range */
};

/* What the "DMA engine" writes to, and how it is told to stop. */
struct dma {
	struct dma_seg *segs;		/* the pinned range, in pieces */
	uint32_t nsegs;
	uint64_t offset, length;	/* the whole file range */
	uint64_t pid;
	unsigned transfer_ms;
	uint64_t max_passes;		/* 0: no limit */
	atomic_uint_fast64_t passes;	/* complete passes written */
	atomic_bool stop_now;		/* stop after this pass */
	atomic_bool end_transfer;	/* stop when this transfer ends */
	int done_fd;			/* eventfd: the thread has stopped */
};

/* ---- the DMA thread ---------------------------------------------------- */

static void write_pass(struct dma *d, uint64_t seq)
{
	for (uint32_t s = 0; s < d->nsegs; s++) {
		const struct dma_seg *g = &d->segs[s];

		for (uint64_t i = 0; i < g->length / RECORD_BYTES; i++) {
			volatile uint64_t *r = g->words + i * RECORD_WORDS;

			r[0] = d->pid;
			r[1] = seq;
			r[2] = g->offset + i * RECORD_BYTES;
			r[3] = RECORD_TAG;
		}
	}
}

/* One transfer: passes for transfer_ms; false when told to stop now. */
static bool transfer(struct dma *d)
{
	const struct timespec pause = { .tv_nsec = PASS_PAUSE_NS };
	uint64_t end = ex_now_ns() + d->transfer_ms * 1000000ull;

	do {
		uint64_t seq;

		if (atomic_load(&d->stop_now))
			return false;
		seq = atomic_load(&d->passes) + 1;
		write_pass(d, seq);
		atomic_store(&d->passes, seq);
		if (d->max_passes && seq >= d->max_passes)
			return false;
		nanosleep(&pause, NULL);
	} while (ex_now_ns() < end);
	return true;
}

static void *dma_thread(void *arg)
{
	struct dma *d = arg;
	uint64_t one = 1;

	while (transfer(d) && !atomic_load(&d->end_transfer))
		;
	if (write(d->done_fd, &one, sizeof(one)) < 0)
		perror("rdma-pinner: eventfd");
	return NULL;
}

/* ---- checking what the DMA wrote ------------------------------------------ */

/* The records of buf (file offset base) against pass seq: mismatches. */
static uint64_t check_records(const struct dma *d, const uint64_t *buf,
			      size_t len, uint64_t base, uint64_t seq)
{
	uint64_t bad = 0;

	for (size_t i = 0; i < len / RECORD_BYTES; i++) {
		const uint64_t *r = buf + i * RECORD_WORDS;
		uint64_t off = base + i * RECORD_BYTES;

		if (r[0] == d->pid && r[1] == seq && r[2] == off &&
		    r[3] == RECORD_TAG)
			continue;
		if (!bad++)
			printf("MISMATCH at file offset %" PRIu64 ": pid %" PRIu64
			       " seq %" PRIu64 " offset %" PRIu64 " tag %#" PRIx64
			       "; the DMA wrote pid %" PRIu64 " seq %" PRIu64
			       " offset %" PRIu64 "\n", off, r[0], r[1], r[2],
			       r[3], d->pid, seq, off);
	}
	return bad;
}

/* Read the range through the service: does it hold the last pass? */
static int verify(struct daxlease_file *f, const struct dma *d)
{
	uint64_t seq = atomic_load(&d->passes), bad = 0;
	uint64_t *buf = malloc(VERIFY_CHUNK);

	if (!buf)
		return ex_fail("verify", -ENOMEM);
	for (uint64_t done = 0; done < d->length;) {
		size_t len = d->length - done < VERIFY_CHUNK ?
			     d->length - done : VERIFY_CHUNK;
		ssize_t n = daxlease_pread(f, buf, len, d->offset + done);

		if (n < 0) {
			free(buf);
			return ex_fail("read back", (int)n);
		}
		if (n < (ssize_t)len) {
			printf("MISMATCH: the file ends at %" PRIu64 ", inside"
			       " the pinned range: it was cut under the pin\n",
			       d->offset + done + (uint64_t)n);
			bad++;
			break;
		}
		bad += check_records(d, buf, len, d->offset + done, seq);
		done += len;
	}
	free(buf);
	if (bad) {
		printf("MISMATCH: the file does not hold what the DMA wrote"
		       " into the pinned range (%" PRIu64 " bad records of %"
		       PRIu64 ")\n", bad, d->length / RECORD_BYTES);
		return 1;
	}
	printf("verified: the file holds pass %" PRIu64 " in all %" PRIu64
	       " bytes\n", seq, d->length);
	return 0;
}

/* ---- events --------------------------------------------------------------- */

static const char *op_name(unsigned opcode)
{
	switch (opcode) {
	case DL_OP_TRUNCATE:
		return "truncate";
	case DL_OP_FALLOCATE:
		return "fallocate";
	default:
		return "layout change";
	}
}

struct session {
	struct daxlease_ctx *ctx;
	const struct options *o;
	struct dma *dma;
	uint64_t lease;
	bool lease_held;		/* not returned yet */
};

/* The end of the changed range: a truncate's goes to the end of file. */
static const char *range_end(const struct daxlease_event *e, char *buf,
			     size_t size)
{
	if (e->length > UINT64_MAX - e->offset)
		return "end of file";
	snprintf(buf, size, "%" PRIu64, e->offset + e->length);
	return buf;
}

static void on_break(struct session *s, const struct daxlease_event *e)
{
	char end[24];
	int rc;

	printf("break: %s (opcode %u) by pid %d (%s, uid %u) on [%" PRIu64
	       ", %s), %u ms left\n", op_name(e->opcode), e->opcode, e->pid,
	       e->comm, e->uid, e->offset, range_end(e, end, sizeof(end)),
	       e->remaining_ms);
	if (s->o->ignore_breaks) {
		printf("ignoring the break: the lease and the DMA stay\n");
		return;
	}
	if (!s->lease_held)
		return;		/* returned at an earlier break already */
	rc = daxlease_lease_release(s->ctx, s->lease);
	if (rc)
		ex_fail("return the lease", rc);
	else
		printf("lease returned; the pin holds until the current "
		       "transfer ends (at most %u ms)\n", s->o->transfer_ms);
	s->lease_held = rc != 0;
	atomic_store(&s->dma->end_transfer, true);
}

static void on_event(struct session *s, const struct daxlease_event *e)
{
	if (e->type == DAXLEASE_EVENT_LEASE_BREAK)
		on_break(s, e);
	else if (e->type == DAXLEASE_EVENT_LEASE_REVOKED)
		printf("lease %" PRIu64 " revoked; the pin still holds the "
		       "range\n", e->lease_id);
	else
		printf("event %u on lease %" PRIu64 "\n", e->type, e->lease_id);
}

static void stop_dma(struct session *s, const char *why)
{
	if (atomic_exchange(&s->dma->stop_now, true))
		return;
	printf("%s: stopping the DMA\n", why);
}

/*
 * The connection is lost: the pin is not (daxleased keeps a living
 * process's pins, and a restarted one holds what its pin records say),
 * so the DMA goes on while we wait for a daemon to answer and take the
 * pin back.  0, or -errno if no daemon came back within a minute.
 */
static int reconnect(struct session *s)
{
	struct daxlease_reattached r;
	int rc = -ENOTCONN;

	printf("connection lost: the pin holds, the DMA goes on; "
	       "reconnecting\n");
	for (int i = 0; i < 600 && rc; i++) {
		rc = daxlease_reconnect(s->ctx, &r);
		/* no daemon yet, or the dying one took the connection */
		if (rc == -ECONNREFUSED || rc == -ENOENT || rc == -ENOTCONN)
			usleep(100000);
		else if (rc)
			break;
	}
	if (rc)
		return rc;
	/* the lease went with the old connection */
	s->lease_held = false;
	printf("reconnected: %u socket pin%s and %" PRIu64 " lockless pin "
	       "entries taken back (%u not), the lease is gone\n", r.pins,
	       r.pins == 1 ? "" : "s", r.counted, r.pins_lost + r.maps_lost);
	return r.pins_lost + r.maps_lost + r.files_lost ? -ESTALE : 0;
}

/*
 * Until the DMA thread stops: events, signals, the hold time, and
 * reconnects.  0, or -errno when the connection is lost for good (the
 * DMA is stopped then too).
 */
static int event_loop(struct session *s, int sig_fd)
{
	int64_t end = (int64_t)(ex_now_ns() / 1000000) +
		      (s->o->hold_s < 0 ? 0 : s->o->hold_s * 1000);
	struct pollfd p[3] = {
		{ .fd = s->dma->done_fd, .events = POLLIN },
		{ .fd = sig_fd, .events = POLLIN },
		{ .fd = daxlease_get_event_fd(s->ctx), .events = POLLIN },
	};
	struct daxlease_event e;
	int rc, left;

	for (;;) {
		/* something may be queued already: look before sleeping */
		while ((rc = daxlease_next_event(s->ctx, &e, 0)) == 1)
			on_event(s, &e);
		if (rc == -ENOTCONN)
			rc = reconnect(s);
		if (rc < 0) {
			stop_dma(s, "connection lost");
			return rc;
		}
		/* (a new connection, a new socket) */
		p[2].fd = daxlease_get_event_fd(s->ctx);
		left = s->o->hold_s < 0 ? -1 :
		       (int)(end - (int64_t)(ex_now_ns() / 1000000));
		if (s->o->hold_s >= 0 && left <= 0) {
			stop_dma(s, "hold time is up");
			left = -1;
		}
		if (poll(p, 3, left) < 0 && errno != EINTR)
			return -errno;
		if (p[0].revents)
			return 0;
		if (p[1].revents) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) == sizeof(si))
				stop_dma(s, strsignal((int)si.ssi_signo));
		}
	}
}

/* ---- lease, map, pin, DMA, verify, unpin ---------------------------------- */

static int run_dma(struct session *s, struct daxlease_file *f,
		   struct daxlease_map *m, int sig_fd)
{
	struct dma *d = s->dma;
	pthread_t thread;
	int rc;

	rc = pthread_create(&thread, NULL, dma_thread, d);
	if (rc)
		return ex_fail("DMA thread", -rc);
	rc = event_loop(s, sig_fd);
	atomic_store(&d->stop_now, true);
	pthread_join(thread, NULL);
	printf("DMA stopped after %" PRIu64 " passes\n",
	       (uint64_t)atomic_load(&d->passes));
	if (rc)
		return ex_fail("events", rc);
	/*
	 * Durable where the DMA went: through the mapping for a socket pin.
	 * A lockless pin's DMA went into the library's namespace mapping,
	 * which no public call persists; the check below reads the same
	 * blocks through the service either way.
	 */
	if (d->segs[0].words == daxlease_map_addr(m)) {
		rc = daxlease_map_persist(m, 0, d->length);
		if (rc)
			return ex_fail("persist", rc);
	}
	return verify(f, d);
}

/* A pin either way: through the socket, or lockless on the mapping. */
struct pinned {
	bool lockless;
	uint64_t pin_id;		/* socket */
	struct daxlease_pin pin;	/* lockless */
};

/* The DMA goes where a NIC's would: into the blocks pin_dma names. */
static int dma_segments(const struct daxlease_pin *pin, struct dma *d)
{
	uint64_t off = d->offset, contig;

	while (off < d->offset + d->length) {
		void *at = daxlease_pin_dma(pin, off, &contig);
		struct dma_seg *more;

		if (!at)
			return -errno;
		more = realloc(d->segs, (d->nsegs + 1) * sizeof(*more));
		if (!more)
			return -ENOMEM;
		d->segs = more;
		d->segs[d->nsegs++] = (struct dma_seg){
			.words = at, .offset = off, .length = contig };
		off += contig;
	}
	return 0;
}

static int pin_range(struct daxlease_file *f, struct daxlease_map *m,
		     struct pinned *p, struct dma *d)
{
	int rc;

	if (!p->lockless) {
		/* a socket pin: the DMA goes through the mapping */
		d->segs = malloc(sizeof(*d->segs));
		if (!d->segs)
			return -ENOMEM;
		d->segs[0] = (struct dma_seg){ .words = daxlease_map_addr(m),
					       .offset = d->offset,
					       .length = d->length };
		d->nsegs = 1;
		return daxlease_pin(f, d->offset, d->length,
				    DAXLEASE_PIN_WRITE, &p->pin_id);
	}
	rc = daxlease_map_pin(m, d->offset, d->length, DAXLEASE_PIN_WRITE,
			      &p->pin);
	if (rc)
		return rc;
	rc = dma_segments(&p->pin, d);
	if (rc)
		daxlease_map_unpin(&p->pin);
	return rc;
}

static int unpin_range(struct daxlease_ctx *ctx, struct pinned *p,
		       struct dma *d)
{
	free(d->segs);
	d->segs = NULL;
	d->nsegs = 0;
	return p->lockless ? daxlease_map_unpin(&p->pin) :
			     daxlease_unpin(ctx, p->pin_id);
}

static void say_pinned(const struct options *o, const struct pinned *p,
		       const struct dma *d)
{
	char how[64];

	if (!p->lockless)
		snprintf(how, sizeof(how), "pin %" PRIu64, p->pin_id);
	else if (p->pin.flags & DAXLEASE_PINNED_FAST)
		snprintf(how, sizeof(how), "lockless pin, %u table entries",
			 p->pin.nentries);
	else
		snprintf(how, sizeof(how), "lockless try fell back to pin %"
			 PRIu64, p->pin.pin_id);
	printf("pinned: %s on [%" PRIu64 ", +%" PRIu64 ") of %s for write, "
	       "pid %d; DMA running into %u piece%s\n", how, o->offset,
	       o->length, o->path, getpid(), d->nsegs, d->nsegs > 1 ? "s" : "");
}

static int pin_and_dma(struct session *s, struct daxlease_file *f,
		       int sig_fd)
{
	const struct options *o = s->o;
	struct pinned p = { .lockless = o->lockless };
	struct daxlease_map *m;
	int rc, verdict;

	rc = daxlease_map(f, o->offset, o->length,
			  DAXLEASE_PROT_READ | DAXLEASE_PROT_WRITE, &m);
	if (rc)
		return ex_fail("map", rc);
	rc = pin_range(f, m, &p, s->dma);
	if (rc) {
		free(s->dma->segs);
		daxlease_unmap(m);
		return ex_fail("pin", rc);
	}
	say_pinned(o, &p, s->dma);

	verdict = run_dma(s, f, m, sig_fd);
	/* the pin goes before the mapping, as a driver deregisters an MR */
	rc = unpin_range(s->ctx, &p, s->dma);
	if (rc)
		verdict = ex_fail("unpin", rc);
	else
		printf("unpinned\n");
	rc = daxlease_unmap(m);
	if (rc)
		verdict = ex_fail("unmap", rc);
	else
		printf("unmapped\n");
	return verdict;
}

static int lease_and_pin(struct session *s, struct daxlease_file *f,
			 int sig_fd)
{
	const struct options *o = s->o;
	int rc, verdict;

	rc = daxlease_lease_acquire(f, o->offset, o->length,
				    DAXLEASE_LEASE_SHARED, 0, &s->lease);
	if (rc)
		return ex_fail("lease", rc);
	s->lease_held = true;
	printf("leased: lease %" PRIu64 " on [%" PRIu64 ", +%" PRIu64 ")\n",
	       s->lease, o->offset, o->length);

	verdict = pin_and_dma(s, f, sig_fd);
	if (s->lease_held) {
		/* held, or revoked after an ignored break: returned either way */
		rc = daxlease_lease_release(s->ctx, s->lease);
		if (rc)
			verdict = ex_fail("return the lease", rc);
		else
			printf("lease returned\n");
	}
	return verdict;
}

static int run(const struct options *o, int sig_fd)
{
	struct dma d = {
		.offset = o->offset, .length = o->length,
		.pid = (uint64_t)getpid(), .transfer_ms = o->transfer_ms,
		.max_passes = o->iterations,
	};
	struct session s = { .o = o, .dma = &d };
	struct daxlease_file *f;
	int rc;

	d.done_fd = eventfd(0, EFD_CLOEXEC);
	if (d.done_fd < 0)
		return ex_fail("eventfd", -errno);
	rc = daxlease_new(&s.ctx, o->socket);
	if (rc) {
		close(d.done_fd);
		return ex_unreachable(o->socket, rc);
	}
	rc = daxlease_open(s.ctx, o->path, DAXLEASE_O_READ | DAXLEASE_O_WRITE,
			   0, &f);
	if (rc) {
		rc = ex_fail(o->path, rc);
	} else {
		rc = lease_and_pin(&s, f, sig_fd);
		daxlease_close(f);
	}
	daxlease_unref(s.ctx);
	close(d.done_fd);
	return rc;
}

/* ---- options -------------------------------------------------------------- */

/* Bytes: decimal or 0x hex, with an optional K, M or G (powers of 1024). */
static int parse_bytes(const char *what, const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (errno || end == s || *end || *s == '-' ||
	    v > (UINT64_MAX >> shift)) {
		fprintf(stderr, "rdma-pinner: %s: '%s' is not a size in "
			"bytes\n", what, s);
		return -1;
	}
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_range(struct options *o, char **arg)
{
	o->path = arg[0];
	if (parse_bytes("OFFSET", arg[1], &o->offset) ||
	    parse_bytes("LENGTH", arg[2], &o->length))
		return -1;
	if (o->offset % PAGE || o->length % PAGE || !o->length ||
	    o->offset + o->length < o->offset) {
		fprintf(stderr, "rdma-pinner: OFFSET and LENGTH must be "
			"multiples of 4 KiB, LENGTH not 0\n");
		return -1;
	}
	return 0;
}

/* 0: go on; 1: exit 0 (--help); -1: exit 1. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "ignore-breaks", no_argument, NULL, 'i' },
		{ "transfer-ms", required_argument, NULL, 't' },
		{ "hold", required_argument, NULL, 'H' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "lockless", no_argument, NULL, 'l' },
		{ "socket-pin", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "s:it:H:n:lPh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'i':
			o->ignore_breaks = true;
			break;
		case 't':
			if (ex_parse_number("--transfer-ms", optarg, 0, 3600000,
					    &v))
				return -1;
			o->transfer_ms = (unsigned)v;
			break;
		case 'H':
			if (ex_parse_number("--hold", optarg, 0, 86400 * 365,
					    &v))
				return -1;
			o->hold_s = (long)v;
			break;
		case 'n':
			if (ex_parse_number("--iterations", optarg, 1,
					    UINT64_MAX, &v))
				return -1;
			o->iterations = v;
			break;
		case 'l':
			o->lockless = true;
			break;
		case 'P':
			o->lockless = false;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			fputs(usage, stderr);
			return -1;
		}
	}
	if (argc - optind != 3) {
		fprintf(stderr, "rdma-pinner: expected PATH OFFSET LENGTH "
			"(--help for more)\n");
		return -1;
	}
	return parse_range(o, argv + optind);
}

int main(int argc, char **argv)
{
	struct options o = { .transfer_ms = 200, .hold_s = -1,
			     .lockless = true };
	sigset_t set;
	int rc, sig_fd;

	rc = parse_options(argc, argv, &o);
	if (rc)
		return rc > 0 ? 0 : 1;
	/* a line as each thing happens, also into a pipe: scripts wait for
	 * "pinned" */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* blocked before any thread starts, so only the signalfd sees them,
	 * and a signal during the pin still unpins */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sig_fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sig_fd < 0)
		return ex_fail("signalfd", -errno);
	rc = run(&o, sig_fd);
	close(sig_fd);
	return rc;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kill_load.c - the kill tests' load (kill.h): pinners, layout processes
 * and fillers that lose their connection - daxleased killed and started
 * again, or their own socket shut down - and go on through it.
 *
 * The one rule every child follows: a call that answers -ENOTCONN means
 * the connection is lost; reconnect (kl_reconnect, which waits for the
 * daemon to come back) and do the call again.  Nothing else is retried.
 *
 * A pinner's transfer: a shared lease, a write mapping and a write pin of
 * a random range, all on one connection (if it is lost half-way, undo and
 * start over: a mapping and a pin made on different connections may
 * reach different blocks), the lease given back at once, then passes of
 * its words into the pinned blocks - where daxlease_pin_dma says for a
 * lockless pin, through the mapping for a socket pin (MAP and PIN under
 * one lease reach the same blocks).  Then the range is read back through
 * the service and must hold the last pass, the pin dropped, the mapping
 * unmapped.  The daemon may die at any moment of it: the DMA never stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kill.h"

#define RW (DAXLEASE_O_READ | DAXLEASE_O_WRITE)
#define PROT_RW (DAXLEASE_PROT_READ | DAXLEASE_PROT_WRITE)
/* A transfer lasts up to this long, some a few ms, some long enough to
 * outlive a daemon's restart - when a block freed under it must show in
 * a victim */
#define TRANSFER_MAX_MS 300
#define PASS_GAP_US 200		/* between passes */

struct kl_child {
	const struct kl_config *cfg;
	struct daxlease_ctx *ctx;
	struct kl_report r;
	uint64_t rng;
	const char *who;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool stopped(const struct kl_child *k)
{
	struct pollfd p = { .fd = k->cfg->stop, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static void error(struct kl_child *k, const char *what, int rc)
{
	fprintf(stderr, "kill: %s: %s: %s\n", k->who, what, strerror(-rc));
	k->r.errors++;
}

/*
 * The connection is lost: a new one, taking back what the lost one held.
 * Waits (up to a minute) for a daemon to answer; 0, or -1 (given up, and
 * counted as an error).
 */
static int kl_reconnect(struct kl_child *k)
{
	for (int i = 0; i < 1200; i++) {
		struct daxlease_reattached r;
		int rc = daxlease_reconnect(k->ctx, &r);

		if (rc == -EISCONN)
			return 0;	/* another thread of ours did it */
		if (!rc) {
			k->r.reconnects++;
			k->r.taken_back += r.pins;
			k->r.counted_back += r.counted;
			k->r.lost_back += r.files_lost + r.maps_lost +
					  r.pins_lost;
			if (r.files_lost + r.maps_lost + r.pins_lost)
				fprintf(stderr, "kill: %s: a reconnect could "
					"not take back %u file(s), %u "
					"mapping(s), %u socket pin(s)\n",
					k->who, r.files_lost, r.maps_lost,
					r.pins_lost);
			return 0;
		}
		if (rc != -ECONNREFUSED && rc != -ENOENT && rc != -ENOTCONN &&
		    rc != -ECONNRESET && rc != -EPIPE)
			error(k, "reconnect", rc);
		usleep(50000);	/* the daemon is not back yet */
	}
	error(k, "reconnect: no daemon for a minute", -ETIMEDOUT);
	return -1;
}

/* expr, again after each reconnect while it answers -ENOTCONN */
#define RETRY(k, expr) ({ \
	int rc_; \
	while ((rc_ = (expr)) == -ENOTCONN && !kl_reconnect(k)) \
		; \
	rc_; })

/*
 * len bytes at off, in requests of at most 64 KiB each done again after a
 * reconnect: a longer read that loses its connection half-way answers
 * short, which must not read as a short file.  Bytes read, or -errno.
 */
static ssize_t kl_pread(struct kl_child *k, struct daxlease_file *f,
			void *buf, uint64_t len, uint64_t off)
{
	uint64_t done = 0;

	while (done < len) {
		uint64_t n = len - done < 65536 ? len - done : 65536;
		ssize_t got = RETRY(k, (int)daxlease_pread(f, (uint8_t *)buf +
							   done, n,
							   off + done));

		if (got < 0)
			return got;
		done += (uint64_t)got;
		if ((uint64_t)got < n)
			break;	/* the end of the file */
	}
	return (ssize_t)done;
}

static void child_start(struct kl_child *k, const struct kl_config *cfg,
			enum kl_role role, unsigned index, const char *who)
{
	int rc;

	memset(k, 0, sizeof(*k));
	k->cfg = cfg;
	k->who = who;
	k->r.role = role;
	k->r.index = index;
	k->rng = (cfg->seed ^ (0x9e3779b97f4a7c15ULL * (role * 64 + index + 1)))
		 | 1;
	rc = daxlease_new(&k->ctx, cfg->socket);
	if (rc) {
		fprintf(stderr, "kill: %s: connect: %s\n", who, strerror(-rc));
		_exit(2);
	}
}

static void child_exit(struct kl_child *k, int out, struct tt_victim *v,
		       uint32_t n) __attribute__((noreturn));
static void child_exit(struct kl_child *k, int out, struct tt_victim *v,
		       uint32_t n)
{
	k->r.nvictims = n;
	if (tt_pipe_io(out, &k->r, sizeof(k->r), true) ||
	    (n && tt_pipe_io(out, v, n * sizeof(*v), true)))
		_exit(3);
	_exit(k->r.errors ? 1 : 0);
}

const char *kl_pinned_name(unsigned k, char *buf, size_t len)
{
	snprintf(buf, len, "kp%u", k);
	return buf;
}

/* ---- pinners ------------------------------------------------------------- */

struct transfer {
	struct daxlease_file *f;
	struct daxlease_map *m;
	struct daxlease_pin pin;	/* lockless (or its socket fallback) */
	uint64_t pin_id;		/* a socket pinner's */
	uint64_t off, len, seq;
	bool lockless;
};

/* Where pass words of file byte off go: a block the pin holds. */
static uint64_t *dma_at(struct transfer *t, uint64_t off)
{
	uint64_t contig;

	if (t->lockless)
		return daxlease_pin_dma(&t->pin, off, &contig);
	return (uint64_t *)((uint8_t *)daxlease_map_addr(t->m) +
			    (off - t->off));
}

static unsigned who_of(unsigned index)
{
	return index * TT_MAX_THREADS;	/* tt_dma_word's "pinner.thread" */
}

static void dma_pass(struct kl_child *k, struct transfer *t)
{
	for (uint64_t off = t->off; off < t->off + t->len; off += 8) {
		uint64_t *w = dma_at(t, off);

		if (!w) {
			error(k, "pin_dma", -errno);
			return;
		}
		__atomic_store_n(w, tt_dma_word(who_of(k->r.index), t->seq,
						off), __ATOMIC_RELAXED);
	}
	k->r.dma_words += t->len / 8;
}

/* Undo a half-made transfer (its connection may be gone: best effort,
 * what the daemon still holds goes with the next reconnect's END or the
 * process). */
static void undo(struct kl_child *k, struct transfer *t)
{
	if (t->lockless && t->pin.map) {
		uint64_t id = t->pin.flags & DAXLEASE_PINNED_FAST ? 0 :
			      t->pin.pin_id;

		if (daxlease_map_unpin(&t->pin) == -ENOTCONN && id)
			RETRY(k, daxlease_unpin(k->ctx, id));
	}
	if (!t->lockless && t->pin_id)
		RETRY(k, daxlease_unpin(k->ctx, t->pin_id));
	t->pin_id = 0;
	/* (no retry: unmap frees m, and a lost connection unmaps) */
	if (t->m && daxlease_unmap(t->m))
		error(k, "unmap", -EIO);
	t->m = NULL;
}

/* Lease, map and pin [off, off+len) on one connection; 0 or -errno
 * (-EAGAIN: the connection went half-way, start over). */
static int setup(struct kl_child *k, struct transfer *t)
{
	uint64_t lease = 0;
	int rc;

	rc = daxlease_lease_acquire(t->f, t->off, t->len,
				    DAXLEASE_LEASE_SHARED, 0, &lease);
	if (!rc)
		rc = daxlease_map(t->f, t->off, t->len, PROT_RW, &t->m);
	if (!rc && t->lockless) {
		rc = daxlease_map_pin(t->m, t->off, t->len, DAXLEASE_PIN_WRITE,
				      &t->pin);
		if (!rc)
			k->r.fast_pins += (t->pin.flags &
					   DAXLEASE_PINNED_FAST) != 0;
		if (!rc)
			k->r.slow_pins += !(t->pin.flags &
					    DAXLEASE_PINNED_FAST);
	} else if (!rc) {
		rc = daxlease_pin(t->f, t->off, t->len, DAXLEASE_PIN_WRITE,
				  &t->pin_id);
		k->r.slow_pins += !rc;
	}
	/* a pin outlives its lease: the changes wait for the pin alone */
	if (lease)
		daxlease_lease_release(k->ctx, lease);
	if (rc)
		undo(k, t);
	return rc;
}

static bool read_back(struct kl_child *k, struct transfer *t, uint64_t *buf)
{
	ssize_t n = kl_pread(k, t->f, buf, t->len, t->off);
	uint64_t bad = 0;

	for (uint64_t i = 0; i < t->len / 8; i++) {
		uint64_t want = tt_dma_word(who_of(k->r.index), t->seq,
					    t->off + 8 * i);
		char w[96], g[96];

		if (n == (ssize_t)t->len && buf[i] == want)
			continue;
		if (!bad++) {
			tt_describe(want, w, sizeof(w));
			tt_describe(n == (ssize_t)t->len ? buf[i] : 0, g,
				    sizeof(g));
			fprintf(stderr, "kill: MISMATCH %s: read back at %#"
				PRIx64 ": expected %s, found %s (read %zd)\n",
				k->who, t->off + 8 * i, w, g, n);
		}
	}
	k->r.mismatches += bad;
	return !bad;
}

/* A command from the test: lose the connection, on purpose. */
static void obey(struct kl_child *k, int cmd)
{
	struct pollfd p = { .fd = cmd, .events = POLLIN };
	int fd = daxlease_get_event_fd(k->ctx), null;
	char c;

	if (cmd < 0 || poll(&p, 1, 0) != 1 || read(cmd, &c, 1) != 1)
		return;
	if (c == KL_CMD_SHUTDOWN) {
		shutdown(fd, SHUT_RDWR);
	} else if (c == KL_CMD_CLOSE) {
		/* the socket goes, as if something closed the wrong fd; the
		 * number stays a valid fd, for the library to close later */
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup3(null, fd, O_CLOEXEC);
			close(null);
		}
	}
}

static void transfer(struct kl_child *k, struct transfer *t, uint64_t *buf,
		     int cmd)
{
	uint64_t until = now_ms() + 1 + tt_below(&k->rng, TRANSFER_MAX_MS);
	struct daxlease_stat st;
	int rc;

	/* layout processes shrink the file: grow it back first */
	rc = RETRY(k, daxlease_fstat(t->f, &st));
	if (!rc && st.size < k->cfg->pinned_size)
		rc = RETRY(k, daxlease_truncate(t->f, k->cfg->pinned_size));
	if (rc && rc != -EINVAL) {
		error(k, "grow", rc);
		return;
	}
	t->len = (1 + tt_below(&k->rng, k->cfg->max_pin / TT_BLK)) * TT_BLK;
	t->off = tt_below(&k->rng, (k->cfg->pinned_size - t->len) / TT_BLK + 1) *
		 TT_BLK;
	t->seq++;
	do
		rc = setup(k, t);
	while (rc == -ENOTCONN && !kl_reconnect(k));
	if (rc) {
		/* the file changed under us (-ENXIO: shrunk meanwhile), a
		 * change waits (-EAGAIN)...: another range, later */
		if (rc != -ENXIO && rc != -ENOLCK && rc != -EAGAIN &&
		    rc != -EINVAL)
			error(k, "setup", rc);
		return;
	}
	while (now_ms() < until && !stopped(k)) {
		dma_pass(k, t);
		obey(k, cmd);
		usleep(PASS_GAP_US);
	}
	dma_pass(k, t);		/* the last pass is what must be there */
	read_back(k, t, buf);
	undo(k, t);
	k->r.transfers++;
	__atomic_add_fetch(&k->cfg->shared->transfers, 1, __ATOMIC_RELAXED);
}

void kl_pinner_main(const struct kl_config *cfg, unsigned index, int cmd,
		    int out)
{
	struct transfer t = { .lockless = index % 2 == 0 };
	struct kl_child k;
	char who[32], name[32];
	uint64_t *buf = malloc(cfg->max_pin);
	int rc;

	snprintf(who, sizeof(who), "pinner %u (%s)", index,
		 t.lockless ? "lockless" : "socket");
	child_start(&k, cfg, KL_PINNER, index, who);
	if (!buf)
		_exit(2);
	kl_pinned_name(index, name, sizeof(name));
	rc = RETRY(&k, daxlease_open(k.ctx, name, RW | DAXLEASE_O_CREATE, 0644,
				     &t.f));
	if (rc) {
		error(&k, "open", rc);
		child_exit(&k, out, NULL, 0);
	}
	while (!stopped(&k))
		transfer(&k, &t, buf, cmd);
	daxlease_close(t.f);
	free(buf);
	child_exit(&k, out, NULL, 0);
}

/* ---- layout processes -------------------------------------------------------- */

static int layout_op(struct kl_child *k, struct daxlease_file *f, uint64_t size)
{
	struct daxlease_policy pol = {
		.flags = DAXLEASE_POLICY_DEADLINE, .deadline_ms = 100,
	};
	uint64_t blocks = size / TT_BLK;
	uint64_t off = tt_below(&k->rng, blocks) * TT_BLK;
	uint64_t len = (1 + tt_below(&k->rng, 16)) * TT_BLK;

	switch (tt_below(&k->rng, 5)) {
	case 0:
		return daxlease_truncate_policy(f, off, &pol);
	case 1:
		return daxlease_fallocate_policy(f, FALLOC_FL_PUNCH_HOLE |
						 FALLOC_FL_KEEP_SIZE, off, len,
						 &pol);
	case 2:
		return daxlease_fallocate_policy(f, FALLOC_FL_COLLAPSE_RANGE,
						 off, len, &pol);
	case 3:
		return daxlease_fallocate_policy(f, FALLOC_FL_INSERT_RANGE,
						 off, len, &pol);
	default:
		return daxlease_fallocate_policy(f, FALLOC_FL_ZERO_RANGE |
						 FALLOC_FL_KEEP_SIZE, off, len,
						 &pol);
	}
}

void kl_layout_main(const struct kl_config *cfg, unsigned index, int out)
{
	struct daxlease_file *f[KL_MAX_PINNERS] = { 0 };
	struct kl_child k;
	char who[32], name[32];

	snprintf(who, sizeof(who), "layout %u", index);
	child_start(&k, cfg, KL_LAYOUT, index, who);
	for (unsigned i = 0; i < cfg->pinners; i++) {
		kl_pinned_name(i, name, sizeof(name));
		if (RETRY(&k, daxlease_open(k.ctx, name, RW | DAXLEASE_O_CREATE,
					    0644, &f[i])))
			error(&k, "open", -EIO);
	}
	while (!stopped(&k)) {
		unsigned i = (unsigned)tt_below(&k.rng, cfg->pinners);
		struct daxlease_stat st;
		int rc = RETRY(&k, daxlease_fstat(f[i], &st));

		if (!rc && st.size >= 2 * TT_BLK)
			rc = RETRY(&k, layout_op(&k, f[i], st.size));
		if (!rc)
			k.r.layout_ops++;
		else if (rc == -ETIMEDOUT)
			k.r.layout_timeouts++;	/* a pin in the way */
		else if (rc == -EINVAL || rc == -ENOSPC)
			k.r.layout_refused++;	/* past the end, a full ns */
		else
			error(&k, "layout change", rc);
		__atomic_add_fetch(&cfg->shared->layout_ops, 1,
				   __ATOMIC_RELAXED);
	}
	for (unsigned i = 0; i < cfg->pinners; i++)
		daxlease_close(f[i]);
	child_exit(&k, out, NULL, 0);
}

/* ---- fillers -------------------------------------------------------------------- */

struct filler {
	struct kl_child k;
	struct tt_victim v[KL_MAX_VICTIMS];
	uint32_t n;
	uint64_t bytes;
	unsigned next_id;
	uint64_t *buf;
};

/* Write victim v whole and fsync it: -errno, or 0 once it is durable. */
static int write_victim_once(struct filler *fl, const struct tt_victim *v)
{
	struct daxlease_file *f = NULL;
	char name[32];
	int rc;

	tt_victim_name(v->id, name, sizeof(name));
	rc = RETRY(&fl->k, daxlease_open(fl->k.ctx, name, RW |
					 DAXLEASE_O_CREATE | DAXLEASE_O_TRUNC,
					 0644, &f));
	for (uint64_t off = 0; !rc && off < v->size; off += 65536) {
		uint64_t len = v->size - off < 65536 ? v->size - off : 65536;
		ssize_t n;

		for (uint64_t i = 0; i < len / 8; i++)
			fl->buf[i] = tt_victim_word(v->id, v->gen, off + 8 * i);
		n = RETRY(&fl->k, (int)daxlease_pwrite(f, fl->buf, len, off));
		rc = n == (ssize_t)len ? 0 : n < 0 ? (int)n : -EIO;
	}
	if (!rc)
		rc = RETRY(&fl->k, daxlease_fsync(f));
	if (f)
		daxlease_close(f);
	return rc;
}

/*
 * The daemon commits writes in groups: when the connection was lost
 * between the writes and their fsync, the daemon may have died with
 * them, and the fsync says so (-EIO, libdaxlease(3)).  Write again.
 */
static int write_victim(struct filler *fl, const struct tt_victim *v)
{
	int rc, tries = 0;

	while ((rc = write_victim_once(fl, v)) == -EIO && ++tries < 20)
		fl->k.r.rewritten++;
	return rc;
}

static void drop_victim(struct filler *fl, uint32_t i)
{
	char name[32];
	int rc;

	tt_victim_name(fl->v[i].id, name, sizeof(name));
	rc = RETRY(&fl->k, daxlease_unlink(fl->k.ctx, name));
	if (rc && rc != -ENOENT)
		error(&fl->k, "unlink", rc);
	fl->bytes -= fl->v[i].size;
	fl->v[i] = fl->v[--fl->n];
	fl->k.r.unlinked++;
}

static void new_victim(struct filler *fl)
{
	struct tt_victim v = {
		.id = (fl->k.r.index + 1) * 10000 + fl->next_id++ % 10000,
		.size = (1 + tt_below(&fl->k.rng, 16)) * 65536,
	};
	int rc = write_victim(fl, &v);

	if (rc == -ENOSPC) {
		char name[32];

		/* a nearly full namespace is the point: make room */
		fl->k.r.enospc++;
		tt_victim_name(v.id, name, sizeof(name));
		RETRY(&fl->k, daxlease_unlink(fl->k.ctx, name));
		if (fl->n)
			drop_victim(fl, 0);
		return;
	}
	if (rc) {
		error(&fl->k, "victim write", rc);
		return;
	}
	fl->v[fl->n++] = v;
	fl->bytes += v.size;
	fl->k.r.created++;
	__atomic_add_fetch(&fl->k.cfg->shared->victims, 1, __ATOMIC_RELAXED);
}

static uint64_t victim_expect(const void *arg, uint64_t off)
{
	const struct tt_victim *v = arg;

	return tt_victim_word(v->id, v->gen, off);
}

/* Read victim i back (through lost connections) and compare: every word
 * was fsync'ed, and none may be anyone else's. */
static void check_victim(struct filler *fl, uint32_t i)
{
	const struct tt_victim *v = &fl->v[i];
	struct daxlease_file *f = NULL;
	char name[32], what[64];
	uint64_t *buf = malloc(v->size);
	ssize_t n = 0;
	int rc;

	if (!buf) {
		error(&fl->k, "verify", -ENOMEM);
		return;
	}
	tt_victim_name(v->id, name, sizeof(name));
	snprintf(what, sizeof(what), "%s: victim %s", fl->k.who, name);
	rc = RETRY(&fl->k, daxlease_open(fl->k.ctx, name, DAXLEASE_O_READ, 0,
					 &f));
	if (!rc)
		n = kl_pread(&fl->k, f, buf, v->size, 0);
	if (rc || n < 0)
		fprintf(stderr, "kill: MISMATCH %s: %s\n", what,
			strerror(rc ? -rc : -(int)n));
	fl->k.r.victim_words += tt_compare(what, buf, n > 0 ? (size_t)n : 0,
					   0, v->size, victim_expect, v);
	fl->k.r.verified++;
	if (f)
		daxlease_close(f);
	free(buf);
}

void kl_filler_main(const struct kl_config *cfg, unsigned index, int out)
{
	static struct filler fl;
	char who[32];

	snprintf(who, sizeof(who), "filler %u", index);
	child_start(&fl.k, cfg, KL_FILLER, index, who);
	fl.buf = malloc(65536);
	if (!fl.buf)
		_exit(2);
	/* churn: every block a layout change frees is soon a victim's */
	while (!stopped(&fl.k)) {
		uint64_t r = tt_below(&fl.k.rng, 8);

		if (fl.bytes < cfg->filler_bytes && fl.n < KL_MAX_VICTIMS)
			new_victim(&fl);
		else if (fl.n && r < 4)
			check_victim(&fl, (uint32_t)tt_below(&fl.k.rng, fl.n));
		else if (fl.n)
			drop_victim(&fl, (uint32_t)tt_below(&fl.k.rng, fl.n));
	}
	for (uint32_t i = 0; i < fl.n; i++)
		check_victim(&fl, i);
	child_exit(&fl.k, out, fl.v, fl.n);
}

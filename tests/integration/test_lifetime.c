/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_lifetime.c - a pin lives as long as its process: not as long as
 * its connection, and not only as long as the daemon that granted it.
 *
 * Every case has a pinning child that keeps "DMA" going into its pinned
 * blocks - 8-byte words that say "pinner" - from a thread of its own,
 * counting its passes in shared memory.  Then the world is unkind to it:
 * its connection goes away while it lives on (shutdown of its socket),
 * daxleased is killed with SIGKILL and started again on the same image,
 * or a --detach daemon moves its pinned blocks with a collapse or an
 * insert.  A layout change that would free those blocks must then wait,
 * fail with EBUSY or time out as it would for a connected pinner; and
 * when it is allowed to go and another file is written over the whole
 * free namespace, none of that file's words may ever turn into a
 * pinner's: the test waits for the pinner to make two more passes over
 * its range and reads the victim file back.
 *
 * Nothing here asserts a time.  A wait for the daemon to notice a
 * disconnect polls STATUS (its client count), the one poll allowed.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <grp.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit_run.h"
#include "daxlease/libdaxlease.h"
#include "harness.h"
#include "client_util.h"

#define KiB 1024ULL
#define MiB (1024 * KiB)
#define PAGE 4096ULL
#define RW (DAXLEASE_O_READ | DAXLEASE_O_WRITE)
#define CREATE (RW | DAXLEASE_O_CREATE)
#define PROT_RW (DAXLEASE_PROT_READ | DAXLEASE_PROT_WRITE)

/* the top 16 bits of every word a pinner's "DMA" writes */
#define PINNER_MAGIC 0xd3a0000000000000ULL
#define MAGIC_MASK 0xffff000000000000ULL
/* and of every word of a victim file */
#define VICTIM_MAGIC 0x71c7000000000000ULL

static char admin_gid[64];
static bool can_map;		/* root: DAX access */

/* ---- a pinning child -------------------------------------------------------- */

enum pin_kind {
	PIN_LOCKLESS,
	PIN_SOCKET,
	PIN_BOTH,		/* lockless on the first half, socket on the
				 * second */
};
enum pin_end {
	END_EXIT,		/* on 'g': exit, pins and all */
	END_UNPIN,		/* on 'g': stop DMA, unpin, write 'U',
				 * then exit on 'x' */
};

struct pinner_spec {
	const char *sock, *name;
	uint64_t map_off, map_len;	/* leased and mapped for write */
	uint64_t pin_off, pin_len;
	enum pin_kind kind;
	bool disconnect;	/* shutdown() its socket once pinned (else
				 * when the test writes 'd') */
	enum pin_end end;
};

/* what a pinner shares with the test */
struct dma_progress {
	uint64_t passes;	/* atomic: whole passes over the range */
	int stop;		/* atomic */
};

struct pinner {
	pid_t pid;
	int go;			/* the test writes 'g', then perhaps 'x' */
	int ev;			/* the child writes 'P', 'D', 'U' */
	struct dma_progress *progress;	/* MAP_SHARED */
};

struct dma_ctx {
	const struct pinner_spec *s;
	struct daxlease_pin *pin;	/* lockless: through pin_dma */
	uint64_t lockless_len;		/* the part of the range it pins */
	uint8_t *base;			/* socket pin: the mapping */
	struct dma_progress *progress;
};

/*
 * The address of pin byte off (from the pin's start), or NULL.  A socket
 * pin's "DMA" goes through the mapping: it still maps the pinned blocks
 * whatever the file does (it is never remapped), as a NIC's DMA goes to
 * the pages it was given.
 */
static uint64_t *dma_word(struct dma_ctx *d, uint64_t off)
{
	uint64_t contig;

	if (off < d->lockless_len)
		return daxlease_pin_dma(d->pin, d->s->pin_off + off, &contig);
	return (uint64_t *)(d->base + (d->s->pin_off - d->s->map_off) + off);
}

static void *dma_thread(void *arg)
{
	struct dma_ctx *d = arg;
	uint64_t pass = 0;

	while (!__atomic_load_n(&d->progress->stop, __ATOMIC_ACQUIRE)) {
		for (uint64_t off = 0; off < d->s->pin_len; off += 8) {
			uint64_t *w = dma_word(d, off);

			if (!w)
				_exit(20);
			__atomic_store_n(w, PINNER_MAGIC | (uint64_t)getpid() << 20 |
					 (pass & 0xfffff), __ATOMIC_RELAXED);
		}
		pass++;
		__atomic_store_n(&d->progress->passes, pass, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void say(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(6);
}

static char hear(int fd)
{
	char c = 0;

	if (read(fd, &c, 1) != 1)
		return 0;
	return c;
}

/*
 * 'r': wait until daxleased answers again (a restart takes a moment),
 * reconnect, check the file handle works, and tell the test what came
 * back: 'R' and the counts, or 'F' and the error.
 */
static void reconnect_and_tell(struct daxlease_ctx *c, struct daxlease_file *f,
			       int ev)
{
	struct daxlease_reattached r;
	struct daxlease_stat st;
	int rc;

	/* the connection may not know it is lost yet: a call tells it */
	daxlease_fstat(f, &st);
	for (int i = 0; i < 200; i++) {
		rc = daxlease_reconnect(c, &r);
		if (rc != -ECONNREFUSED && rc != -ENOENT)
			break;
		usleep(50000);	/* the socket is not back yet */
	}
	if (!rc && daxlease_fstat(f, &st))
		rc = -EBADF;
	if (rc) {
		say(ev, 'F');
		if (write(ev, &rc, sizeof(rc)) != sizeof(rc))
			_exit(6);
		return;
	}
	say(ev, 'R');
	if (write(ev, &r, sizeof(r)) != sizeof(r))
		_exit(6);
}

static void pinner_main(const struct pinner_spec *s, int go, int ev,
			struct dma_progress *progress)
{
	struct daxlease_ctx *c;
	struct daxlease_file *f;
	struct daxlease_map *m;
	struct daxlease_pin pin;
	struct dma_ctx d = { .s = s, .progress = progress };
	uint64_t lease, pin_id = 0, half = s->pin_len / 2;
	pthread_t t;

	if (daxlease_new(&c, s->sock) || daxlease_open(c, s->name, RW, 0, &f))
		_exit(2);
	/* a lease it never gives back: its breaks are ignored */
	if (daxlease_lease_acquire(f, s->map_off, s->map_len,
				   DAXLEASE_LEASE_SHARED, 0, &lease) ||
	    daxlease_map(f, s->map_off, s->map_len, PROT_RW, &m))
		_exit(3);
	d.lockless_len = s->kind == PIN_LOCKLESS ? s->pin_len :
			 s->kind == PIN_BOTH ? half : 0;
	if (d.lockless_len) {
		if (daxlease_map_pin(m, s->pin_off, d.lockless_len,
				     DAXLEASE_PIN_WRITE, &pin) ||
		    !(pin.flags & DAXLEASE_PINNED_FAST))
			_exit(4);
		d.pin = &pin;
	}
	if (d.lockless_len < s->pin_len &&
	    daxlease_pin(f, s->pin_off + d.lockless_len,
			 s->pin_len - d.lockless_len, DAXLEASE_PIN_WRITE,
			 &pin_id))
		_exit(4);
	d.base = daxlease_map_addr(m);
	if (pthread_create(&t, NULL, dma_thread, &d))
		_exit(5);
	while (!__atomic_load_n(&progress->passes, __ATOMIC_ACQUIRE))
		usleep(100);
	say(ev, 'P');
	for (;;) {
		char cmd = hear(go);

		if (cmd == 'g')
			break;
		if (cmd == 'r') {
			reconnect_and_tell(c, f, ev);
			continue;
		}
		if (cmd != 'd')
			_exit(0);	/* the test went away */
		/* the connection goes; the process, its pins and its DMA
		 * stay */
		if (shutdown(daxlease_get_event_fd(c), SHUT_RDWR))
			_exit(7);
		say(ev, 'D');
	}
	__atomic_store_n(&progress->stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	if (s->end == END_EXIT)
		_exit(0);
	if ((d.pin && daxlease_map_unpin(&pin)) ||
	    (pin_id && daxlease_unpin(c, pin_id)))
		_exit(8);
	say(ev, 'U');
	hear(go);
	_exit(0);
}

/* The pinner shuts its socket down; it lives on, pinning. */
static void disconnect_pinner(struct pinner *p)
{
	say(p->go, 'd');
	CU_ASSERT_EQUAL_FATAL(hear(p->ev), 'D');
}

static void start_pinner(struct pinner *p, const struct pinner_spec *s)
{
	int go[2], ev[2];

	p->progress = mmap(NULL, sizeof(*p->progress), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CU_ASSERT_FATAL(p->progress != MAP_FAILED);
	CU_ASSERT_FATAL(pipe(go) == 0 && pipe(ev) == 0);
	p->pid = fork();
	CU_ASSERT_FATAL(p->pid >= 0);
	if (!p->pid) {
		close(go[1]);
		close(ev[0]);
		pinner_main(s, go[0], ev[1], p->progress);
	}
	close(go[0]);
	close(ev[1]);
	p->go = go[1];
	p->ev = ev[0];
	CU_ASSERT_EQUAL_FATAL(hear(p->ev), 'P');
	if (s->disconnect)
		disconnect_pinner(p);
}

/* The pinner reconnects: what it took back (a failure: the test fails). */
static struct daxlease_reattached reconnect_pinner(struct pinner *p)
{
	struct daxlease_reattached r = { 0 };
	int rc = 0;

	say(p->go, 'r');
	switch (hear(p->ev)) {
	case 'R':
		CU_ASSERT_EQUAL(read(p->ev, &r, sizeof(r)), (ssize_t)sizeof(r));
		break;
	case 'F':
		CU_ASSERT_EQUAL(read(p->ev, &rc, sizeof(rc)),
				(ssize_t)sizeof(rc));
		printf("  reconnect: %s\n", strerror(-rc));
		CU_FAIL("the pinner could not reconnect");
		break;
	default:
		CU_FAIL("the pinner died");
	}
	return r;
}

/* 0 once the pinner has made n more whole passes over its range. */
static int more_passes(struct pinner *p, uint64_t n)
{
	uint64_t want = __atomic_load_n(&p->progress->passes,
					__ATOMIC_ACQUIRE) + n;

	for (int i = 0; i < 20000; i++) {
		if (__atomic_load_n(&p->progress->passes, __ATOMIC_ACQUIRE) >=
		    want)
			return 0;
		usleep(1000);
	}
	fprintf(stderr, "pinner %d made no progress\n", (int)p->pid);
	return -1;
}

/* 'g' and the exit: the child's status. */
static int end_pinner(struct pinner *p)
{
	int rc;

	say(p->go, 'g');
	close(p->go);
	rc = dlc_wait_exit(p->pid);
	close(p->ev);
	munmap(p->progress, sizeof(*p->progress));
	return rc;
}

static void kill_pinner(struct pinner *p)
{
	kill(p->pid, SIGKILL);
	dlc_wait_exit(p->pid);
	close(p->go);
	close(p->ev);
	munmap(p->progress, sizeof(*p->progress));
}

/* ---- victims ---------------------------------------------------------------- */

static uint64_t victim_word(uint64_t off)
{
	return VICTIM_MAGIC | off;
}

/*
 * A new file over (nearly) all the free namespace, every word saying
 * where it is: the blocks a layout change freed wrongly end up in it.
 * Returns its size.
 */
static uint64_t write_victim(struct daxlease_ctx *c, const char *name)
{
	struct daxlease_status st;
	struct daxlease_file *f;
	uint64_t *buf = malloc(MiB), size = 0;

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_EQUAL_FATAL(daxlease_status(c, &st), 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_open(c, name, CREATE | DAXLEASE_O_TRUNC,
					    0644, &f), 0);
	for (;;) {
		ssize_t n;

		for (uint64_t i = 0; i < MiB / 8; i++)
			buf[i] = victim_word(size + i * 8);
		n = daxlease_pwrite(f, buf, MiB, size);
		if (n <= 0)
			break;	/* ENOSPC: the namespace is full */
		size += (uint64_t)n;
		if ((uint64_t)n < MiB)
			break;
	}
	free(buf);
	daxlease_close(f);
	CU_ASSERT(size > 0);
	return size;
}

/* 4 KiB blocks of the victim with a word that is not the victim's. */
static uint64_t victim_damage(struct daxlease_ctx *c, const char *name,
			      uint64_t size)
{
	struct daxlease_file *f;
	uint64_t *buf = malloc(PAGE), bad = 0, pinner_words = 0;

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_EQUAL_FATAL(daxlease_open(c, name, RW, 0, &f), 0);
	for (uint64_t off = 0; off < size; off += PAGE) {
		bool hit = false;

		CU_ASSERT_EQUAL_FATAL(daxlease_pread(f, buf, PAGE, off),
				      (ssize_t)PAGE);
		for (uint64_t i = 0; i < PAGE / 8; i++) {
			if (buf[i] == victim_word(off + i * 8))
				continue;
			hit = true;
			pinner_words += (buf[i] & MAGIC_MASK) == PINNER_MAGIC;
		}
		bad += hit;
	}
	if (bad)
		printf("  victim %s: %llu blocks overwritten, %llu words of a "
		       "pinner's DMA\n", name, (unsigned long long)bad,
		       (unsigned long long)pinner_words);
	free(buf);
	daxlease_close(f);
	return bad;
}

/*
 * Let the change that should not have freed the pinned blocks show what
 * it did: a victim over the free namespace, two more DMA passes, and the
 * victim read back.  0: no damage.
 */
static uint64_t victim_check(struct daxlease_ctx *c, struct pinner *p)
{
	uint64_t size = write_victim(c, "victim"), bad;

	CU_ASSERT_EQUAL(more_passes(p, 2), 0);
	bad = victim_damage(c, "victim", size);
	CU_ASSERT_EQUAL(daxlease_unlink(c, "victim"), 0);
	return bad;
}

/* ---- the daemon and its files ------------------------------------------------ */

static int start_daemon(struct dlh_daemon *d, const char *name, bool detach,
			bool reuse)
{
	struct dlh_opts o = {
		.name = name, .reuse_image = reuse,
		.extra = { "--admin-group", admin_gid },
	};

	if (detach)
		o.extra[2] = "--detach";
	return dlh_start(d, &o);
}

/* name, size bytes written (zeros). */
static void make_file(struct daxlease_ctx *c, const char *name, uint64_t size)
{
	struct daxlease_file *f;
	uint8_t *zero = calloc(1, size);

	CU_ASSERT_FATAL(zero != NULL);
	CU_ASSERT_EQUAL_FATAL(daxlease_open(c, name, CREATE | DAXLEASE_O_TRUNC,
					    0644, &f), 0);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, zero, size, 0), (ssize_t)size);
	free(zero);
	daxlease_close(f);
}

/* 0 once the daemon counts n connected clients. */
static int wait_clients(struct daxlease_ctx *c, unsigned n)
{
	struct daxlease_status st;

	for (int i = 0; i < 4000; i++) {
		if (daxlease_status(c, &st))
			return -1;
		if (st.clients == n)
			return 0;
		usleep(5000);
	}
	fprintf(stderr, "the daemon never counted %u clients\n", n);
	return -1;
}

static int truncate_with(struct daxlease_ctx *c, const char *name,
			 uint64_t size, unsigned flags, unsigned deadline_ms)
{
	struct daxlease_policy pol = {
		.flags = flags, .deadline_ms = deadline_ms,
	};
	struct daxlease_file *f;
	int rc;

	rc = daxlease_open(c, name, RW, 0, &f);
	if (rc)
		return rc;
	rc = daxlease_truncate_policy(f, size, &pol);
	daxlease_close(f);
	return rc;
}

static int fallocate_in(struct daxlease_ctx *c, const char *name, int mode,
			uint64_t off, uint64_t len)
{
	struct daxlease_file *f;
	int rc;

	rc = daxlease_open(c, name, RW, 0, &f);
	if (rc)
		return rc;
	rc = daxlease_fallocate(f, mode, off, len);
	daxlease_close(f);
	return rc;
}

/* Quarantined bytes held for pid (0: any holder). */
static uint64_t quarantined(struct daxlease_ctx *c, pid_t pid)
{
	struct daxlease_quarantine q[64];
	uint64_t cursor = 0, bytes = 0;
	int n;

	do {
		n = daxlease_quarantine(c, &cursor, q, 64);
		for (int i = 0; i < n; i++)
			if (!pid || q[i].pid == pid)
				bytes += q[i].length;
	} while (n > 0 && cursor);
	return bytes;
}

/* BUSY entries of pid: all, and those a restarted daemon holds from its
 * records alone. */
static int busy_of(struct daxlease_ctx *c, pid_t pid, int *restored)
{
	struct daxlease_busy b[64];
	uint64_t cursor = 0;
	int n, k = 0;

	*restored = 0;
	do {
		n = daxlease_busy(c, &cursor, b, 64);
		for (int i = 0; i < n; i++)
			if (b[i].pin.pid == pid) {
				k++;
				*restored += b[i].pin.restored;
			}
	} while (n > 0 && cursor);
	return k;
}

/* BUSY entries of pid marked orphaned. */
static int orphaned_pins(struct daxlease_ctx *c, pid_t pid)
{
	struct daxlease_busy b[64];
	uint64_t cursor = 0;
	int n, k = 0;

	do {
		n = daxlease_busy(c, &cursor, b, 64);
		for (int i = 0; i < n; i++)
			k += b[i].pin.pid == pid && b[i].pin.orphaned;
	} while (n > 0 && cursor);
	return k;
}

static unsigned orphans(struct daxlease_ctx *c)
{
	struct daxlease_status st;

	CU_ASSERT_EQUAL_FATAL(daxlease_status(c, &st), 0);
	return st.orphans;
}

/* 0 once the daemon counts n orphans (a connection's end is looked at
 * after the batch of events it came in). */
static int wait_orphans(struct daxlease_ctx *c, unsigned n)
{
	for (int i = 0; i < 4000; i++) {
		if (orphans(c) == n)
			return 0;
		usleep(5000);
	}
	fprintf(stderr, "the daemon never counted %u orphans\n", n);
	return -1;
}

/* 0 once nothing is in quarantine. */
static int wait_quarantine_empty(struct daxlease_ctx *c)
{
	for (int i = 0; i < 4000; i++) {
		if (!quarantined(c, 0))
			return 0;
		usleep(5000);
	}
	fprintf(stderr, "the quarantine never emptied\n");
	return -1;
}

/* ---- disconnect ------------------------------------------------------------ */

/*
 * A pinner's connection goes away while it lives on: a truncate over its
 * pin must not go (here: a deadline, which must pass); when it is let go
 * anyway - the bug - the victim shows the damage.
 */
static void disconnect_case(enum pin_kind kind, enum pin_end end)
{
	struct pinner_spec s = {
		.name = "dc", .map_off = 0, .map_len = MiB,
		.pin_off = 512 * KiB, .pin_len = 64 * KiB,
		.kind = kind, .disconnect = true, .end = end,
	};
	struct daxlease_ctx *c = NULL;
	struct dlh_daemon d;
	struct pinner p;
	int rc;

	if (!can_map)
		return;
	CU_ASSERT_FATAL(start_daemon(&d, kind == PIN_LOCKLESS ? "dc-lockless" :
				     "dc-socket", false, false) == 0);
	s.sock = d.socket;
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	make_file(c, "dc", MiB);
	start_pinner(&p, &s);
	CU_ASSERT_EQUAL(wait_clients(c, 1), 0);

	rc = truncate_with(c, "dc", 0, DAXLEASE_POLICY_DEADLINE, 300);
	CU_ASSERT_EQUAL(rc, -ETIMEDOUT);
	if (!rc)
		CU_ASSERT_EQUAL(victim_check(c, &p), 0);
	CU_ASSERT_EQUAL(truncate_with(c, "dc", 0, DAXLEASE_POLICY_NONBLOCK, 0),
			rc ? -EBUSY : 0);
	/* the admin sees whose it is and that its connection is gone */
	CU_ASSERT_EQUAL(wait_orphans(c, 1), 0);
	{
		int restored, n = busy_of(c, p.pid, &restored);

		CU_ASSERT(n >= 1);
		CU_ASSERT_EQUAL(orphaned_pins(c, p.pid), n);
		CU_ASSERT_EQUAL(restored, 0);
	}
	CU_ASSERT_EQUAL(orphans(c), 1);

	if (end == END_UNPIN) {
		/* a lockless unpin reaches a daemon it is not connected
		 * to: the counter; the truncate goes while it lives */
		say(p.go, 'g');
		CU_ASSERT_EQUAL(hear(p.ev), 'U');
		CU_ASSERT_EQUAL(truncate_with(c, "dc", 0,
					      DAXLEASE_POLICY_DEADLINE, 20000),
				0);
		say(p.go, 'x');
		close(p.go);
		CU_ASSERT_EQUAL(dlc_wait_exit(p.pid), 0);
		close(p.ev);
		munmap(p.progress, sizeof(*p.progress));
	} else {
		/* only its exit releases what it holds */
		CU_ASSERT_EQUAL(end_pinner(&p), 0);
		CU_ASSERT_EQUAL(truncate_with(c, "dc", 0,
					      DAXLEASE_POLICY_DEADLINE, 20000),
				0);
	}
	CU_ASSERT_EQUAL(daxlease_unlink(c, "dc"), 0);
	daxlease_unref(c);
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
	/* every pinner is gone: so is every record of what it reached */
	CU_ASSERT_EQUAL(d.pin_records, 0);
}

static void test_disconnect_lockless(void)
{
	disconnect_case(PIN_LOCKLESS, END_UNPIN);
}

static void test_disconnect_socket(void)
{
	disconnect_case(PIN_SOCKET, END_EXIT);
}

/*
 * --detach: the truncate goes at once and the pinned blocks wait in
 * quarantine; the pinner's disconnect must not release them.
 */
static void detach_disconnect_case(enum pin_kind kind)
{
	struct pinner_spec s = {
		.name = "dd", .map_off = 0, .map_len = MiB,
		.pin_off = 512 * KiB, .pin_len = 64 * KiB,
		.kind = kind, .disconnect = false, .end = END_EXIT,
	};
	struct daxlease_ctx *c = NULL;
	struct dlh_daemon d;
	struct pinner p;

	if (!can_map)
		return;
	CU_ASSERT_FATAL(start_daemon(&d, kind == PIN_LOCKLESS ? "dd-lockless" :
				     "dd-socket", true, false) == 0);
	s.sock = d.socket;
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	make_file(c, "dd", MiB);
	start_pinner(&p, &s);
	CU_ASSERT_EQUAL(truncate_with(c, "dd", 0, 0, 0), 0);
	CU_ASSERT(quarantined(c, p.pid) > 0);

	/* now its connection goes: the quarantine stays, and so does
	 * the pinner's DMA into it */
	disconnect_pinner(&p);
	CU_ASSERT_EQUAL(wait_clients(c, 1), 0);
	CU_ASSERT(quarantined(c, p.pid) > 0);
	CU_ASSERT_EQUAL(victim_check(c, &p), 0);
	/* its exit releases it */
	CU_ASSERT_EQUAL(end_pinner(&p), 0);
	CU_ASSERT_EQUAL(wait_quarantine_empty(c), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(c, "dd"), 0);
	daxlease_unref(c);
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
	/* every pinner is gone: so is every record of what it reached */
	CU_ASSERT_EQUAL(d.pin_records, 0);
}

static void test_detach_disconnect_lockless(void)
{
	detach_disconnect_case(PIN_LOCKLESS);
}

static void test_detach_disconnect_socket(void)
{
	detach_disconnect_case(PIN_SOCKET);
}


/* ---- the daemon dies ---------------------------------------------------------- */

/*
 * SIGKILL of daxleased while a lockless and a socket pinner DMA, and a
 * third pinner has died before it: the daemon started again on the same
 * image must not free what the two living pinners can still write into
 * (a NONBLOCK truncate gets -EBUSY), and must free what the dead one held.
 */
static void test_daemon_killed(void)
{
	struct pinner_spec s = {
		.map_off = 0, .map_len = MiB,
		.pin_off = 256 * KiB, .pin_len = 64 * KiB, .end = END_EXIT,
	};
	struct daxlease_ctx *c = NULL;
	struct pinner p[3];
	struct dlh_daemon d;
	const char *names[3] = { "r-lockless", "r-socket", "r-dead" };
	int rc[2];

	if (!can_map)
		return;
	CU_ASSERT_FATAL(start_daemon(&d, "restart", false, false) == 0);
	s.sock = d.socket;
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	for (int i = 0; i < 3; i++) {
		make_file(c, names[i], MiB);
		s.name = names[i];
		s.kind = i == 1 ? PIN_SOCKET : PIN_LOCKLESS;
		start_pinner(&p[i], &s);
	}
	kill_pinner(&p[2]);
	daxlease_unref(c);
	dlh_kill(&d);

	CU_ASSERT_FATAL(start_daemon(&d, "restart", false, true) == 0);
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	for (int i = 0; i < 2; i++) {
		rc[i] = truncate_with(c, names[i], 0, DAXLEASE_POLICY_NONBLOCK,
				      0);
		CU_ASSERT_EQUAL(rc[i], -EBUSY);
	}
	/* the dead pinner's blocks are free again */
	CU_ASSERT_EQUAL(truncate_with(c, names[2], 0, DAXLEASE_POLICY_NONBLOCK,
				      0), 0);
	for (int i = 0; i < 2; i++)
		if (!rc[i])
			CU_ASSERT_EQUAL(victim_check(c, &p[i]), 0);
	/* the restarted daemon watches them: their exit releases it all */
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(end_pinner(&p[i]), 0);
		CU_ASSERT_EQUAL(truncate_with(c, names[i], 0,
					      DAXLEASE_POLICY_DEADLINE, 20000),
				0);
	}
	CU_ASSERT_EQUAL(wait_quarantine_empty(c), 0);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(daxlease_unlink(c, names[i]), 0);
	daxlease_unref(c);
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
	/* every pinner is gone: so is every record of what it reached */
	CU_ASSERT_EQUAL(d.pin_records, 0);
}

/* ---- --detach and blocks that move ------------------------------------------------ */

/*
 * daxleased --detach: a pinner of [7M, +32K) of an 8 MiB file ignores
 * its break; a collapse of [4M, +1M) (or an insert at 4M) runs past it
 * at once and moves the pinned blocks to file offset 6M (8M).  A punch
 * of their new place must then hold them in quarantine as a punch over
 * the pin itself would, and the victim must stay intact.
 */
static void moved_case(const char *dir, enum pin_kind kind, int mode)
{
	uint64_t moved = mode == FALLOC_FL_COLLAPSE_RANGE ? 6 * MiB : 8 * MiB;
	struct pinner_spec s = {
		.name = "mv",
		/* PTE leaves, so that no leaf of the map spans both the
		 * pin's old and new offsets */
		.map_off = 7 * MiB, .map_len = MiB,
		.pin_off = 7 * MiB, .pin_len = 32 * KiB,
		.kind = kind, .end = END_EXIT,
	};
	struct daxlease_ctx *c = NULL;
	struct dlh_daemon d;
	struct pinner p;

	if (!can_map)
		return;
	CU_ASSERT_FATAL(start_daemon(&d, dir, true, false) == 0);
	s.sock = d.socket;
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	make_file(c, "mv", 8 * MiB);
	start_pinner(&p, &s);
	CU_ASSERT_EQUAL(fallocate_in(c, "mv", mode, 4 * MiB, MiB), 0);
	CU_ASSERT_EQUAL(fallocate_in(c, "mv", FALLOC_FL_PUNCH_HOLE |
				     FALLOC_FL_KEEP_SIZE, moved, 32 * KiB), 0);
	CU_ASSERT(quarantined(c, p.pid) >= 32 * KiB);
	CU_ASSERT_EQUAL(victim_check(c, &p), 0);
	CU_ASSERT_EQUAL(end_pinner(&p), 0);
	CU_ASSERT_EQUAL(wait_quarantine_empty(c), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(c, "mv"), 0);
	daxlease_unref(c);
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
	/* every pinner is gone: so is every record of what it reached */
	CU_ASSERT_EQUAL(d.pin_records, 0);
}

static void test_collapse_socket(void)
{
	moved_case("mv-collapse-socket", PIN_SOCKET, FALLOC_FL_COLLAPSE_RANGE);
}

static void test_collapse_lockless(void)
{
	moved_case("mv-collapse-lockless", PIN_LOCKLESS,
		   FALLOC_FL_COLLAPSE_RANGE);
}

static void test_insert_socket(void)
{
	moved_case("mv-insert-socket", PIN_SOCKET, FALLOC_FL_INSERT_RANGE);
}

static void test_insert_lockless(void)
{
	moved_case("mv-insert-lockless", PIN_LOCKLESS, FALLOC_FL_INSERT_RANGE);
}

/* ---- re-attach -------------------------------------------------------------- */

/* The child unpins through what it took back, while it lives on: the
 * truncate goes then, not at its exit. */
static void unpin_then_truncate(struct daxlease_ctx *c, struct pinner *p,
				const char *name)
{
	say(p->go, 'g');
	CU_ASSERT_EQUAL(hear(p->ev), 'U');
	CU_ASSERT_EQUAL(truncate_with(c, name, 0, DAXLEASE_POLICY_DEADLINE,
				      20000), 0);
	say(p->go, 'x');
	close(p->go);
	CU_ASSERT_EQUAL(dlc_wait_exit(p->pid), 0);
	close(p->ev);
	munmap(p->progress, sizeof(*p->progress));
}

static const struct pinner_spec both_spec = {
	.map_off = 0, .map_len = MiB, .pin_off = 512 * KiB, .pin_len = 64 * KiB,
	.kind = PIN_BOTH, .end = END_UNPIN,
};

/* Its own shutdown, then daxlease_reconnect on the same daemon. */
static void test_reconnect_same_daemon(void)
{
	struct pinner_spec s = both_spec;
	struct daxlease_reattached r;
	struct daxlease_ctx *c = NULL;
	struct dlh_daemon d;
	struct pinner p;
	int restored;

	if (!can_map)
		return;
	CU_ASSERT_FATAL(start_daemon(&d, "rc-same", false, false) == 0);
	s.sock = d.socket;
	s.name = "rc";
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	make_file(c, "rc", MiB);
	start_pinner(&p, &s);
	disconnect_pinner(&p);
	CU_ASSERT_EQUAL(wait_clients(c, 1), 0);
	CU_ASSERT_EQUAL(wait_orphans(c, 1), 0);

	r = reconnect_pinner(&p);
	CU_ASSERT_EQUAL(r.files, 1);
	CU_ASSERT_EQUAL(r.files_lost, 0);
	CU_ASSERT_EQUAL(r.pins, 1);
	CU_ASSERT_EQUAL(r.pins_lost, 0);
	CU_ASSERT_EQUAL(r.maps_lost, 0);
	CU_ASSERT(r.counted >= 1);
	/* its pins are its own again, not an orphan's */
	CU_ASSERT_EQUAL(wait_clients(c, 2), 0);
	CU_ASSERT_EQUAL(orphans(c), 0);
	CU_ASSERT(busy_of(c, p.pid, &restored) >= 2);
	CU_ASSERT_EQUAL(orphaned_pins(c, p.pid), 0);
	CU_ASSERT_EQUAL(truncate_with(c, "rc", 0, DAXLEASE_POLICY_NONBLOCK, 0),
			-EBUSY);
	CU_ASSERT_EQUAL(victim_check(c, &p), 0);
	unpin_then_truncate(c, &p, "rc");
	CU_ASSERT_EQUAL(daxlease_unlink(c, "rc"), 0);
	daxlease_unref(c);
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
	CU_ASSERT_EQUAL(d.pin_records, 0);
}

/*
 * SIGKILL of daxleased, a restart on the image, then daxlease_reconnect:
 * the restarted daemon holds everything recorded until the pinner
 * re-attaches, then exactly its pins; they go with its unpins.
 */
static void test_reconnect_after_restart(void)
{
	struct pinner_spec s = both_spec;
	struct daxlease_reattached r;
	struct daxlease_ctx *c = NULL;
	struct dlh_daemon d;
	struct pinner p;
	int restored, n;

	if (!can_map)
		return;
	CU_ASSERT_FATAL(start_daemon(&d, "rc-restart", false, false) == 0);
	s.sock = d.socket;
	s.name = "rr";
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);
	make_file(c, "rr", MiB);
	start_pinner(&p, &s);
	daxlease_unref(c);
	dlh_kill(&d);
	CU_ASSERT_FATAL(start_daemon(&d, "rc-restart", false, true) == 0);
	CU_ASSERT_FATAL(daxlease_new(&c, d.socket) == 0);

	/* until it re-attaches: what its records say, held */
	n = busy_of(c, p.pid, &restored);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(restored, 1);
	CU_ASSERT_EQUAL(truncate_with(c, "rr", 0, DAXLEASE_POLICY_NONBLOCK, 0),
			-EBUSY);

	r = reconnect_pinner(&p);
	CU_ASSERT_EQUAL(r.files, 1);
	CU_ASSERT_EQUAL(r.maps, 1);
	CU_ASSERT_EQUAL(r.maps_lost, 0);
	CU_ASSERT_EQUAL(r.pins, 1);
	CU_ASSERT_EQUAL(r.pins_lost, 0);
	CU_ASSERT_EQUAL(r.counted, 8);	/* 32 KiB of 4 KiB leaves */
	/* now exactly its pins: the counted entries and the socket pin */
	n = busy_of(c, p.pid, &restored);
	CU_ASSERT_EQUAL(n, 9);
	CU_ASSERT_EQUAL(restored, 0);
	CU_ASSERT_EQUAL(orphans(c), 0);
	CU_ASSERT_EQUAL(truncate_with(c, "rr", 0, DAXLEASE_POLICY_NONBLOCK, 0),
			-EBUSY);
	CU_ASSERT_EQUAL(victim_check(c, &p), 0);
	unpin_then_truncate(c, &p, "rr");
	CU_ASSERT_EQUAL(wait_quarantine_empty(c), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(c, "rr"), 0);
	daxlease_unref(c);
	CU_ASSERT_EQUAL(dlh_stop(&d), 0);
	CU_ASSERT_EQUAL(d.pin_records, 0);
}

static CU_TestInfo tests[] = {
	{ "disconnect: a lockless pin holds until its unpin",
	  test_disconnect_lockless },
	{ "disconnect: a socket pin holds until its process exits",
	  test_disconnect_socket },
	{ "--detach, disconnect: quarantine of a lockless pin stays",
	  test_detach_disconnect_lockless },
	{ "--detach, disconnect: quarantine of a socket pin stays",
	  test_detach_disconnect_socket },
	{ "daxleased killed: living pinners keep their blocks, a dead one's go",
	  test_daemon_killed },
	{ "--detach: a collapse moves a socket pin's blocks, a punch holds them",
	  test_collapse_socket },
	{ "--detach: a collapse moves a lockless pin's blocks, a punch holds them",
	  test_collapse_lockless },
	{ "--detach: an insert moves a socket pin's blocks, a punch holds them",
	  test_insert_socket },
	{ "--detach: an insert moves a lockless pin's blocks, a punch holds them",
	  test_insert_lockless },
	{ "reconnect after its own shutdown: its pins are its own again",
	  test_reconnect_same_daemon },
	{ "reconnect after a restart: the records' hold becomes its exact pins",
	  test_reconnect_after_restart },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "lifetime", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	struct group *g = getgrgid(getgid());

	if (dlh_prepare())
		return DL_TEST_SKIP;
	if (!g)
		return 1;
	snprintf(admin_gid, sizeof(admin_gid), "%s", g->gr_name);
	/* DAX access: root, as the daemon grants it by default */
	can_map = geteuid() == 0;
	return dl_cunit_main(suites);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_hostage.c - owners are never held hostage by readers (issue 10,
 * item 5 and table row 6).
 *
 * A reader is a client process that drops to uid 65534 and opens root's
 * 0644 file with a read-only handle.  The kernel's rule for leases holds
 * (F_SETLEASE: F_WRLCK needs write access or ownership): it gets shared
 * leases only.  Its pins never hold root's layout changes up for good: at
 * its lease's deadline - the lease's break timeout, or --lease-timeout
 * when it holds none - the change goes ahead and the reader's pinned
 * blocks go to quarantine, where it keeps them until it unpins.  Pins of
 * clients with write access (a writable handle, or the file's owner) keep
 * holding a change up as they always did.  A client without DAX access is
 * told no namespace offsets in a PIN reply.
 *
 * The daemon runs with --lease-timeout 300.  Nothing here asserts a time:
 * a change that must go ahead is given a 30 s DEADLINE (or, for UNLINK,
 * which has no policy, a 30 s wait for its reply) only so that a change
 * that waits for ever fails instead of hanging the suite; order is told
 * by the letters the reader writes to its event pipe.  Needs root to
 * change uid: skips (77) otherwise.  The lockless case needs group
 * 'users' (gid 100) for --dax-group.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit_run.h"
#include "client_util.h"
#include "daxlease/libdaxlease.h"
#include "harness.h"
#include "nobody.h"

#define KiB 1024ULL
#define DAX_GID 100		/* 'users': --dax-group */
#define RW (DAXLEASE_O_READ | DAXLEASE_O_WRITE)
#define SHARED DAXLEASE_LEASE_SHARED
#define EXCL DAXLEASE_LEASE_EXCLUSIVE
#define GUARD_MS 15000		/* "waits for ever", for a failing run */
#define FILE_SIZE (64 * KiB)

static struct dlh_daemon dmn;
static struct daxlease_ctx *root;
static bool have_dax_group;

static int suite_init(void)
{
	struct dlh_opts o = { .extra = { "--lease-timeout", "300" } };
	struct group *g = getgrnam("users");

	have_dax_group = g && g->gr_gid == DAX_GID;
	if (have_dax_group) {
		o.extra[2] = "--dax-group";
		o.extra[3] = "users";
	}
	if (dlh_start(&dmn, &o) || daxlease_new(&root, dmn.socket))
		return -1;
	/* only SO_PEERCRED decides, as in test_access */
	chmod(dmn.socket, 0666);
	return 0;
}

static int suite_clean(void)
{
	if (root)
		daxlease_unref(root);
	dlh_kill(&dmn);
	return 0;
}

/* Root's file `name`, mode, FILE_SIZE bytes of `fill`, open read-write. */
static struct daxlease_file *root_file(const char *name, unsigned mode,
				       int fill)
{
	static uint8_t buf[FILE_SIZE];
	struct daxlease_file *f = NULL;

	memset(buf, fill, sizeof(buf));
	CU_ASSERT_EQUAL_FATAL(daxlease_open(root, name, RW | DAXLEASE_O_CREATE |
					    DAXLEASE_O_TRUNC, mode, &f), 0);
	CU_ASSERT_EQUAL(daxlease_pwrite(f, buf, sizeof(buf), 0),
			(ssize_t)sizeof(buf));
	return f;
}

/* Detached ranges held by process pid (QUARANTINE view). */
static int quarantined_for(pid_t pid)
{
	struct daxlease_quarantine q[64];
	uint64_t cursor = 0;
	int n = 0, got;

	do {
		got = daxlease_quarantine(root, &cursor, q, 64);
		for (int i = 0; i < got; i++)
			n += q[i].pid == pid && q[i].npins;
	} while (got > 0 && cursor);
	return got < 0 ? got : n;
}

/* ---- the other side, in a child process ---------------------------------- */

enum pin_kind { PIN_SOCKET, PIN_LOCKLESS };

struct peer {
	const char *file;
	unsigned open_flags;	/* DAXLEASE_O_READ: a reader */
	bool dax;		/* in --dax-group */
	bool own;		/* create the file itself first (its owner) */
	enum pin_kind kind;
	bool drop_lease;	/* release its lease once pinned */
	/* filled in by peer_start */
	pid_t pid;
	int ev;			/* it writes: P pinned, B break, R revoked,
				   U unpinned */
	int go;			/* we write: unpin and exit */
	char rest[16];		/* what it wrote after that */
};

static int drop_privileges(bool dax)
{
	gid_t g = DAX_GID;

	if (dax ? setgroups(1, &g) : setgroups(0, NULL))
		return -1;
	return setgid(NOBODY) || setuid(NOBODY) ? -1 : 0;
}

static struct daxlease_file *peer_open(struct daxlease_ctx *c,
				       const struct peer *p)
{
	static uint8_t buf[FILE_SIZE];
	struct daxlease_file *f = NULL;

	if (p->own) {
		memset(buf, 0x6b, sizeof(buf));
		if (daxlease_open(c, p->file, RW | DAXLEASE_O_CREATE, 0644,
				  &f) ||
		    daxlease_pwrite(f, buf, sizeof(buf), 0) != FILE_SIZE ||
		    daxlease_close(f))
			return NULL;
	}
	return daxlease_open(c, p->file, p->open_flags, 0, &f) ? NULL : f;
}

/* The kernel's lease rule, as this peer sees it; then a shared lease. */
static uint64_t peer_lease(struct daxlease_ctx *c, struct daxlease_file *f,
			   const struct peer *p)
{
	bool writer = p->own || (p->open_flags & DAXLEASE_O_WRITE);
	uint64_t id = 0, excl = 0;
	struct daxlease_policy nb = { .flags = DAXLEASE_POLICY_NONBLOCK };
	int rc;

	/* (a writer's may meet another's lease: -EBUSY) */
	rc = daxlease_lease_acquire_policy(f, 0, 0, EXCL, 0, &nb, &excl);
	EXPECT(writer ? rc == 0 || rc == -EBUSY : rc == -EACCES);
	if (!rc && !writer)
		return excl;	/* what row 6 saw granted: keep it */
	if (!rc)
		EXPECT(daxlease_lease_release(c, excl) == 0);
	EXPECT(daxlease_lease_acquire(f, 0, 0, SHARED, 0, &id) == 0);
	return id;
}

struct peer_pin {
	uint64_t id;			/* socket */
	struct daxlease_map *m;		/* lockless */
	struct daxlease_pin pin;
	uint8_t seen[16];		/* what "DMA" read when pinned */
};

static int peer_pin(struct daxlease_file *f, const struct peer *p,
		    struct peer_pin *pp)
{
	uint64_t contig = 0;
	const uint8_t *dma;

	if (p->kind == PIN_SOCKET)
		return daxlease_pin(f, 0, FILE_SIZE, 0, &pp->id);
	if (daxlease_map(f, 0, FILE_SIZE, DAXLEASE_PROT_READ, &pp->m) ||
	    daxlease_map_pin(pp->m, 0, FILE_SIZE, 0, &pp->pin))
		return -1;
	EXPECT(pp->pin.flags & DAXLEASE_PINNED_FAST);
	dma = daxlease_pin_dma(&pp->pin, 0, &contig);
	if (!dma)
		return -1;
	memcpy(pp->seen, dma, sizeof(pp->seen));
	return 0;
}

/* The reader keeps its blocks: "DMA" still reads what it read. */
static void peer_unpin(struct daxlease_ctx *c, const struct peer *p,
		       struct peer_pin *pp)
{
	uint64_t contig = 0;
	const uint8_t *dma;

	if (p->kind == PIN_SOCKET) {
		EXPECT(daxlease_unpin(c, pp->id) == 0);
		return;
	}
	dma = daxlease_pin_dma(&pp->pin, 0, &contig);
	EXPECT(dma && !memcmp(dma, pp->seen, sizeof(pp->seen)));
	EXPECT(daxlease_map_unpin(&pp->pin) == 0);
	EXPECT(daxlease_unmap(pp->m) == 0);
}

/* Events to letters until a byte comes on go. */
static void peer_wait(struct daxlease_ctx *c, int ev, int go)
{
	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = daxlease_get_event_fd(c), .events = POLLIN },
			{ .fd = go, .events = POLLIN },
		};
		struct daxlease_event e;

		if (poll(fds, 2, -1) < 0)
			return;
		while (daxlease_next_event(c, &e, 0) == 1) {
			char l = e.type == DAXLEASE_EVENT_LEASE_BREAK ? 'B' :
				 e.type == DAXLEASE_EVENT_LEASE_REVOKED ? 'R' :
				 '?';

			EXPECT(write(ev, &l, 1) == 1);
		}
		if (fds[1].revents)
			return;
	}
}

static int peer_main(const struct peer *p, int ev, int go)
{
	struct daxlease_ctx *c = NULL;
	struct daxlease_file *f;
	struct peer_pin pp = { 0 };
	uint64_t lease;
	char b;

	if (drop_privileges(p->dax) || daxlease_new(&c, dmn.socket))
		return 2;
	f = peer_open(c, p);
	if (!f)
		return 3;
	lease = peer_lease(c, f, p);
	if (peer_pin(f, p, &pp))
		return 4;
	if (p->drop_lease)
		EXPECT(daxlease_lease_release(c, lease) == 0);
	EXPECT(write(ev, "P", 1) == 1);
	peer_wait(c, ev, go);
	EXPECT(read(go, &b, 1) == 1);
	peer_unpin(c, p, &pp);
	EXPECT(write(ev, "U", 1) == 1);
	daxlease_unref(c);
	return failures ? 1 : 0;
}

/* Start p; returns once it has pinned (false if it never did). */
static bool peer_start(struct peer *p)
{
	int ev[2], go[2];

	if (dlh_ev_pipe(ev) || pipe(go))
		return false;
	fflush(NULL);
	p->pid = fork();
	if (p->pid < 0)
		return false;
	if (p->pid == 0) {
		close(ev[0]);
		close(go[1]);
		_exit(peer_main(p, ev[1], go[0]));
	}
	close(ev[1]);
	close(go[0]);
	p->ev = ev[0];
	p->go = go[1];
	return dlh_ev_next(p->ev) == 'P';
}

/* Let p unpin and exit: its exit status (0: all its checks held); the
 * letters it wrote meanwhile, up to its U, in p->rest. */
static int peer_finish(struct peer *p)
{
	size_t n = 0;
	char l = 0;
	int rc;

	if (write(p->go, "q", 1) != 1)
		return -1;
	while (l != 'U' && n < sizeof(p->rest) - 1 &&
	       (l = dlh_ev_next(p->ev)))
		p->rest[n++] = l;
	p->rest[n] = 0;
	rc = dlc_wait_exit(p->pid);
	close(p->go);
	close(p->ev);
	return rc;
}

/* The next letter p wrote that is not in skip. */
static char peer_next(const struct peer *p, const char *skip)
{
	char l;

	do
		l = dlh_ev_next(p->ev);
	while (l && strchr(skip, l));
	return l;
}

/* ---- the kernel's lease rule, and what a PIN reply tells ------------------ */

/*
 * A raw PIN of all of root's file `name` (read handle, shared lease):
 * how many of its segments name a namespace offset, or -1.
 */
static int raw_pin_offsets(const char *name, uint64_t *pin_id)
{
	struct dl_open_req o = { .flags = DL_O_READ };
	struct dl_open_rep orep;
	struct dl_lease_req l = { .type = DL_LEASE_SHARED };
	struct dl_lease_rep lrep;
	struct dl_pin_req r = { .length = FILE_SIZE };
	static struct dl_pin_rep rep;
	struct dl_unpin_req u;
	int s = dlh_connect(dmn.socket), n = 0;

	snprintf(o.name, sizeof(o.name), "%s", name);
	if (s < 0 || dlh_raw_hello(s, NULL) != 1 ||
	    dlh_raw_call(s, DL_OP_OPEN, &o, sizeof(o), &orep, sizeof(orep),
			 NULL))
		return -1;
	l.fh = r.fh = orep.fh;
	if (dlh_raw_call(s, DL_OP_LEASE_ACQUIRE, &l, sizeof(l), &lrep,
			 sizeof(lrep), NULL) ||
	    dlh_raw_call(s, DL_OP_PIN, &r, sizeof(r), &rep, sizeof(rep), NULL))
		return -1;
	*pin_id = rep.pin_id;
	for (uint32_t i = 0; i < rep.nsegs && i < DL_PROTO_PIN_SEGS_MAX; i++)
		n += rep.seg[i].ns_offset != UINT64_MAX;
	/* (a closed connection's pins stay while its process lives) */
	u.pin_id = rep.pin_id;
	if (dlh_raw_call(s, DL_OP_UNPIN, &u, sizeof(u), NULL, 0, NULL))
		n = -1;
	close(s);
	return n;
}

/* As a reader (DAX or not): the lease rule and the PIN reply. */
static int rules_main(bool dax)
{
	struct daxlease_ctx *c = NULL;
	struct daxlease_file *f = NULL, *g = NULL;
	uint64_t id = 0, pin = 0;
	int n, rc;

	if (drop_privileges(dax) || daxlease_new(&c, dmn.socket))
		return 2;
	/* F_SETLEASE: F_WRLCK needs write access or ownership */
	EXPECT(daxlease_open(c, "rules", DAXLEASE_O_READ, 0, &f) == 0);
	rc = daxlease_lease_acquire(f, 0, 0, EXCL, 0, &id);
	EXPECT(rc == -EACCES);
	if (!rc)	/* or the raw connection's lease below waits on it */
		daxlease_lease_release(c, id);
	EXPECT(daxlease_lease_acquire(f, 0, 0, SHARED, 0, &id) == 0);
	EXPECT(daxlease_lease_release(c, id) == 0);
	EXPECT(daxlease_open(c, "rules-rw", RW, 0, &g) == 0);
	EXPECT(daxlease_lease_acquire(g, 0, 0, EXCL, 0, &id) == 0);
	EXPECT(daxlease_lease_release(c, id) == 0);
	EXPECT(daxlease_close(g) == 0);
	/* its own file, a read handle: the owner's lease */
	EXPECT(daxlease_open(c, "rules-own", RW | DAXLEASE_O_CREATE, 0644,
			     &g) == 0 && daxlease_close(g) == 0);
	EXPECT(daxlease_open(c, "rules-own", DAXLEASE_O_READ, 0, &g) == 0);
	EXPECT(daxlease_lease_acquire(g, 0, 0, EXCL, 0, &id) == 0);
	EXPECT(daxlease_close(g) == 0);
	/* namespace offsets only with the namespace fd */
	n = raw_pin_offsets("rules", &pin);
	EXPECT(pin != 0);
	EXPECT(dax ? n > 0 : n == 0);
	/* and the library pins all the same */
	EXPECT(daxlease_lease_acquire(f, 0, 0, SHARED, 0, &id) == 0);
	pin = 0;
	EXPECT(daxlease_pin(f, 0, FILE_SIZE, 0, &pin) == 0 && pin);
	EXPECT(daxlease_unpin(c, pin) == 0);
	EXPECT(daxlease_close(f) == 0);
	daxlease_unref(c);
	return failures ? 1 : 0;
}

static void run_rules(bool dax)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0)
		_exit(rules_main(dax));
	CU_ASSERT_EQUAL(dlc_wait_exit(pid), 0);
}

static void test_rules(void)
{
	struct daxlease_file *f = root_file("rules", 0644, 0x11);
	struct daxlease_file *g = root_file("rules-rw", 0666, 0x22);
	uint64_t pin = 0, id = 0;

	run_rules(false);
	if (have_dax_group)
		run_rules(true);
	/* root may take an exclusive lease through a read handle */
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL_FATAL(daxlease_open(root, "rules-own", DAXLEASE_O_READ,
					    0, &f), 0);
	CU_ASSERT_EQUAL(daxlease_lease_acquire(f, 0, 0, EXCL, 0, &id), 0);
	CU_ASSERT_EQUAL(daxlease_lease_release(root, id), 0);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	/* root holds the namespace fd: it is told where its blocks are */
	CU_ASSERT_TRUE(raw_pin_offsets("rules", &pin) > 0);
	CU_ASSERT_EQUAL(daxlease_close(g), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(root, "rules"), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(root, "rules-rw"), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(root, "rules-own"), 0);
}

/* ---- root's side ------------------------------------------------------------ */

static int truncate_deadline(struct daxlease_file *f, uint64_t size,
			     unsigned ms)
{
	struct daxlease_policy p = {
		.flags = DAXLEASE_POLICY_DEADLINE, .deadline_ms = ms,
	};

	return daxlease_truncate_policy(f, size, &p);
}

/* UNLINK has no policy: send it raw and give it GUARD_MS for a reply. */
static int unlink_guarded(const char *name)
{
	struct dl_name_req r = { { 0 } };
	struct pollfd pfd = { .events = POLLIN };
	struct dl_msg_hdr h;
	int rc = DLH_NO_REPLY;

	pfd.fd = dlh_connect(dmn.socket);
	if (pfd.fd < 0 || dlh_raw_hello(pfd.fd, NULL) != 1)
		return DLH_NO_REPLY;
	snprintf(r.name, sizeof(r.name), "%s", name);
	if (!dlh_raw_send(pfd.fd, 1, DL_OP_UNLINK, 7, &r, sizeof(r), NULL, 0) &&
	    poll(&pfd, 1, GUARD_MS) == 1 &&
	    dlh_raw_recv(pfd.fd, &h, NULL, 0, NULL, NULL) >= 0)
		rc = h.status;
	else
		fprintf(stderr, "unlink %s: no reply in %d ms\n", name,
			GUARD_MS);
	close(pfd.fd);
	return rc;
}

static bool has_lease_blocker(const struct daxlease_policy *p)
{
	for (size_t i = 0; i < p->nblockers && i < p->max; i++)
		if (p->blockers[i].lease)
			return true;
	return false;
}

/*
 * Row 6: a reader's lease is shared, so root's leases and MAPs go; its
 * unrevoked lease is a right to a break (NONBLOCK: -EBUSY), but once it
 * is revoked its pin holds nothing up: the truncate that broke it goes
 * ahead, so do a NONBLOCK truncate and the unlink after it, and the
 * reader keeps its blocks in quarantine until it unpins.
 */
static void test_row6(void)
{
	struct peer rd = { .file = "row6", .open_flags = DAXLEASE_O_READ };
	struct daxlease_blocker b[16];
	struct daxlease_policy nb = {
		.flags = DAXLEASE_POLICY_NONBLOCK, .blockers = b, .max = 16,
	};
	struct daxlease_file *f = root_file("row6", 0644, 0x33);
	struct daxlease_map *m = NULL;
	uint64_t lease = 0;

	CU_ASSERT_TRUE_FATAL(peer_start(&rd));
	/* the reader holds a shared lease: root may have one too, and map */
	CU_ASSERT_EQUAL(daxlease_lease_acquire_policy(f, 0, 0, SHARED, 0, &nb,
						      &lease), 0);
	CU_ASSERT_EQUAL(daxlease_map(f, 0, FILE_SIZE, DAXLEASE_PROT_READ, &m),
			0);
	if (m)
		CU_ASSERT_EQUAL(daxlease_unmap(m), 0);
	if (lease)
		CU_ASSERT_EQUAL(daxlease_lease_release(root, lease), 0);
	/* NONBLOCK breaks nothing: the reader's lease is in the way */
	CU_ASSERT_EQUAL(daxlease_truncate_policy(f, 32 * KiB, &nb), -EBUSY);
	CU_ASSERT_TRUE(has_lease_blocker(&nb));
	/* a real truncate breaks it; revoked, its pin does not hold on */
	CU_ASSERT_EQUAL(truncate_deadline(f, 32 * KiB, GUARD_MS), 0);
	CU_ASSERT_EQUAL(dlc_file_size(f), 32 * KiB);
	CU_ASSERT_EQUAL(peer_next(&rd, ""), 'B');
	CU_ASSERT_EQUAL(peer_next(&rd, ""), 'R');
	CU_ASSERT_TRUE(quarantined_for(rd.pid) > 0);
	/* revoked already: nothing left to wait for */
	CU_ASSERT_EQUAL(daxlease_truncate_policy(f, 16 * KiB, &nb), 0);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(unlink_guarded("row6"), 0);
	CU_ASSERT_EQUAL(peer_finish(&rd), 0);
	CU_ASSERT_EQUAL(quarantined_for(rd.pid), 0);
}

/* Row 6's unlink, first thing: done once the reader's lease is revoked. */
static void test_unlink(void)
{
	struct peer rd = { .file = "unlinked", .open_flags = DAXLEASE_O_READ };
	struct daxlease_file *f = root_file("unlinked", 0644, 0x44);
	struct daxlease_stat st;

	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_TRUE_FATAL(peer_start(&rd));
	CU_ASSERT_EQUAL(unlink_guarded("unlinked"), 0);
	CU_ASSERT_EQUAL(daxlease_stat(root, "unlinked", &st), -ENOENT);
	CU_ASSERT_EQUAL(peer_next(&rd, ""), 'B');
	CU_ASSERT_EQUAL(peer_next(&rd, ""), 'R');
	CU_ASSERT_TRUE(quarantined_for(rd.pid) > 0);
	CU_ASSERT_EQUAL(peer_finish(&rd), 0);
	CU_ASSERT_EQUAL(quarantined_for(rd.pid), 0);
}

/* A reader that returned its lease but kept its pin: --lease-timeout. */
static void test_no_lease(void)
{
	struct peer rd = { .file = "nolease", .open_flags = DAXLEASE_O_READ,
			   .drop_lease = true };
	struct daxlease_file *f = root_file("nolease", 0644, 0x55);

	CU_ASSERT_TRUE_FATAL(peer_start(&rd));
	CU_ASSERT_EQUAL(truncate_deadline(f, 0, GUARD_MS), 0);
	CU_ASSERT_EQUAL(dlc_file_size(f), 0);
	CU_ASSERT_TRUE(quarantined_for(rd.pid) > 0);
	CU_ASSERT_EQUAL(peer_finish(&rd), 0);
	/* it had no lease to break */
	CU_ASSERT_STRING_EQUAL(rd.rest, "U");
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(root, "nolease"), 0);
}

/*
 * A reader with DAX access pins locklessly (its counters): detached at
 * its lease deadline like a socket pin, and its "DMA" still reads its
 * blocks after root has truncated the file and written another.
 */
static void test_lockless_reader(void)
{
	struct peer rd = { .file = "lockless", .open_flags = DAXLEASE_O_READ,
			   .dax = true, .kind = PIN_LOCKLESS };
	struct daxlease_file *f, *g;

	if (!have_dax_group) {
		printf("  (skipped: no group 'users' with gid 100)\n");
		return;
	}
	f = root_file("lockless", 0644, 0x66);
	CU_ASSERT_TRUE_FATAL(peer_start(&rd));
	CU_ASSERT_EQUAL(truncate_deadline(f, 0, GUARD_MS), 0);
	CU_ASSERT_EQUAL(peer_next(&rd, ""), 'B');
	CU_ASSERT_EQUAL(peer_next(&rd, ""), 'R');
	CU_ASSERT_TRUE(quarantined_for(rd.pid) > 0);
	/* new data goes elsewhere: the held blocks are not reused */
	g = root_file("after-lockless", 0644, 0x99);
	CU_ASSERT_EQUAL(daxlease_close(g), 0);
	CU_ASSERT_EQUAL(peer_finish(&rd), 0);
	CU_ASSERT_EQUAL(quarantined_for(rd.pid), 0);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(root, "lockless"), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(root, "after-lockless"), 0);
}

/* Writers' pins - a writable handle, or the owner's - hold on as ever. */
static void writer_holds(struct peer *wr, struct daxlease_file *f)
{
	struct daxlease_policy nb = { .flags = DAXLEASE_POLICY_NONBLOCK };

	CU_ASSERT_TRUE_FATAL(peer_start(wr));
	CU_ASSERT_EQUAL(daxlease_truncate_policy(f, 0, &nb), -EBUSY);
	/* past its lease's deadline (300 ms), and still in the way */
	CU_ASSERT_EQUAL(truncate_deadline(f, 0, 1500), -ETIMEDOUT);
	CU_ASSERT_EQUAL(peer_next(wr, ""), 'B');
	CU_ASSERT_EQUAL(peer_next(wr, ""), 'R');
	CU_ASSERT_EQUAL(dlc_file_size(f), FILE_SIZE);
	CU_ASSERT_EQUAL(quarantined_for(wr->pid), 0);
	CU_ASSERT_EQUAL(peer_finish(wr), 0);
	CU_ASSERT_EQUAL(truncate_deadline(f, 0, GUARD_MS), 0);
}

static void test_writers_hold(void)
{
	struct peer rw = { .file = "rw", .open_flags = RW };
	struct peer own = { .file = "owned", .open_flags = DAXLEASE_O_READ,
			    .own = true };
	struct daxlease_file *f = root_file("rw", 0666, 0x77);

	writer_holds(&rw, f);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(root, "rw"), 0);
	/* the owner's read handle: still the owner's pin */
	f = NULL;
	CU_ASSERT_TRUE_FATAL(peer_start(&own));
	CU_ASSERT_EQUAL_FATAL(daxlease_open(root, "owned", RW, 0, &f), 0);
	CU_ASSERT_EQUAL(truncate_deadline(f, 0, 1500), -ETIMEDOUT);
	CU_ASSERT_EQUAL(dlc_file_size(f), FILE_SIZE);
	CU_ASSERT_EQUAL(quarantined_for(own.pid), 0);
	CU_ASSERT_EQUAL(peer_finish(&own), 0);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(root, "owned"), 0);
}

/* ---- a reader and a writer in the way of one truncate ------------------ */

struct truncater {
	struct daxlease_file *f;
	int done[2];
	int rc;
};

static void *truncate_thread(void *arg)
{
	struct truncater *t = arg;

	t->rc = truncate_deadline(t->f, 0, GUARD_MS);
	if (write(t->done[1], "T", 1) != 1)
		t->rc = -EIO;
	return NULL;
}

/* The change waits for the writer; the reader's pin goes when it goes. */
static void test_reader_and_writer(void)
{
	struct peer rd = { .file = "mixed", .open_flags = DAXLEASE_O_READ };
	struct daxlease_file *f = root_file("mixed", 0666, 0x88);
	struct peer wr = { .file = "mixed", .open_flags = RW };
	struct truncater t = { .f = f };
	pthread_t th;

	CU_ASSERT_TRUE_FATAL(peer_start(&rd));
	CU_ASSERT_TRUE_FATAL(peer_start(&wr));
	CU_ASSERT_EQUAL_FATAL(dlh_ev_pipe(t.done), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, truncate_thread, &t),
			      0);
	/* both leases revoked: the reader's deadline is past */
	CU_ASSERT_EQUAL(peer_next(&rd, ""), 'B');
	CU_ASSERT_EQUAL(peer_next(&rd, ""), 'R');
	CU_ASSERT_EQUAL(peer_next(&wr, ""), 'B');
	CU_ASSERT_EQUAL(peer_next(&wr, ""), 'R');
	/* and the writer's pin still holds the truncate up */
	CU_ASSERT_EQUAL(dlc_wait_blocked(root, 1, true), 0);
	CU_ASSERT_TRUE(dlh_ev_empty(t.done[0]));
	CU_ASSERT_EQUAL(peer_finish(&wr), 0);
	CU_ASSERT_EQUAL(dlh_ev_next(t.done[0]), 'T');
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(t.rc, 0);
	CU_ASSERT_TRUE(quarantined_for(rd.pid) > 0);
	CU_ASSERT_EQUAL(peer_finish(&rd), 0);
	CU_ASSERT_EQUAL(quarantined_for(rd.pid), 0);
	close(t.done[0]);
	close(t.done[1]);
	CU_ASSERT_EQUAL(daxlease_close(f), 0);
	CU_ASSERT_EQUAL(daxlease_unlink(root, "mixed"), 0);
}

static void test_clean_stop(void)
{
	daxlease_unref(root);
	root = NULL;
	CU_ASSERT_EQUAL(dlh_stop(&dmn), 0);
}

static CU_TestInfo tests[] = {
	{ "exclusive leases need write access; PIN replies hide offsets "
	  "from clients without DAX access", test_rules },
	{ "row 6: a reader's lease and pin hold root up no longer than "
	  "its lease deadline", test_row6 },
	{ "row 6: unlink completes once the reader's lease is revoked",
	  test_unlink },
	{ "a reader without a lease: detached at --lease-timeout",
	  test_no_lease },
	{ "a reader's lockless pin: detached, its blocks kept",
	  test_lockless_reader },
	{ "writers' pins (writable handle, owner) hold on as before",
	  test_writers_hold },
	{ "a reader and a writer: the change waits for the writer only",
	  test_reader_and_writer },
	{ "clean stop", test_clean_stop },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "hostage", suite_init, suite_clean, NULL, NULL, tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	if (dlh_prepare() || nobody_main_check())
		return DL_TEST_SKIP;
	return dl_cunit_main(suites);
}

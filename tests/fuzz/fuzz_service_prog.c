// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz_service_prog.c - the program runner of the service fuzzer
 * (fuzz_service.h): the clients' connections, sending, receiving and
 * what the replies teach, and the fds clients pass.
 *
 * Nothing here blocks: sockets are non-blocking, a request the socket
 * cannot take is lost (as a client that gives up), and replies are read
 * whenever the daemon has run (fzs_pump).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz_service_prog.h"

#define NOBODY 65534

/* ---- the input ----------------------------------------------------------- */

uint8_t fzs_u8(struct fzs_in *in)
{
	return in->at < in->len ? in->p[in->at++] : 0;
}

uint32_t fzs_u32(struct fzs_in *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)fzs_u8(in) << (8 * i);
	return v;
}

uint64_t fzs_u64(struct fzs_in *in)
{
	return fzs_u32(in) | (uint64_t)fzs_u32(in) << 32;
}

void fzs_ring_add(struct fzs_ring *r, uint64_t v)
{
	r->v[r->n++ % FZS_KEEP] = v;
}

bool fzs_ring_get(const struct fzs_ring *r, unsigned i, uint64_t *v)
{
	unsigned have = r->n < FZS_KEEP ? r->n : FZS_KEEP;

	if (!have)
		return false;
	*v = r->v[(r->n - 1 - i % have) % FZS_KEEP];
	return true;
}

/* ---- learned state ------------------------------------------------------- */

static void table_init(struct fzs_table *t)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < DL_MAP_NFDS; i++)
		t->fd[i] = -1;
}

static void table_free(struct fzs_table *t)
{
	if (t->hdr)
		munmap((void *)t->hdr, t->table_len);
	if (t->chdr)
		munmap(t->chdr, t->cnt_len);
	for (int i = 0; i < DL_MAP_NFDS; i++)
		if (t->fd[i] >= 0)
			close(t->fd[i]);
	table_init(t);
}

static void conn_reset(struct fzs_conn *st)
{
	memset(st, 0, sizeof(*st));
	table_init(&st->tab);
}

static void conn_free(struct fzs_conn *st)
{
	table_free(&st->tab);
	conn_reset(st);
}

/* The four fds of a first MAP reply: mapped as the library maps them. */
static void table_adopt(struct fzs_table *t, const int *fds)
{
	struct stat a, b;
	void *p, *q;

	if (fstat(fds[0], &a) || fstat(fds[2], &b) ||
	    a.st_size < DL_TABLE_HDR_SIZE || b.st_size < DL_TABLE_HDR_SIZE)
		return;
	p = mmap(NULL, (size_t)a.st_size, PROT_READ, MAP_SHARED, fds[0], 0);
	if (p == MAP_FAILED)
		return;
	q = mmap(NULL, (size_t)b.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fds[2], 0);
	if (q == MAP_FAILED) {
		munmap(p, (size_t)a.st_size);
		return;
	}
	t->hdr = p;
	t->table_len = (size_t)a.st_size;
	t->chdr = q;
	t->cnt_len = (size_t)b.st_size;
	memcpy(t->fd, fds, sizeof(t->fd));
}

const struct fzs_file *fzs_file_of(const struct fzs_conn *st, uint64_t fh)
{
	for (unsigned i = 0; i < st->nfiles && i < FZS_KEEP; i++)
		if (st->files[i].fh == fh)
			return &st->files[i];
	return NULL;
}

struct fzs_conn *fzs_lost(struct fzs_runner *r, uint8_t i)
{
	unsigned have = r->nlost < FZS_LOST ? r->nlost : FZS_LOST;
	struct fzs_conn *l;

	if (!have)
		return NULL;
	l = &r->lost[(r->nlost - 1 - i % have) % FZS_LOST];
	return l->used ? l : NULL;
}

/* c's connection is gone: what it learned is a lost connection now. */
static void conn_lost(struct fzs_runner *r, struct fzs_client *c)
{
	struct fzs_conn *slot = &r->lost[r->nlost++ % FZS_LOST];

	conn_free(slot);
	*slot = c->st;
	slot->used = true;
	conn_reset(&c->st);
	close(c->sock);
	c->sock = -1;
	c->hello = c->no_read = c->may_drop = c->shut_rd = false;
	c->deaf_after = 0;
	for (int i = 0; i < c->njunk; i++)
		close(c->junk[i]);
	c->njunk = 0;
}

/* ---- connections ------------------------------------------------------- */

/* connect(), as uid and gid 65534 when asked and we are root: the
 * daemon takes the peer's credentials at connect time. */
static int connect_as(const char *path, bool nobody)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	gid_t groups[64];
	int ngroups = nobody ? getgroups(64, groups) : 0;
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	int rc;

	if (s < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (nobody && (ngroups < 0 || setgroups(0, NULL) ||
		       setegid(NOBODY) || seteuid(NOBODY))) {
		fprintf(stderr, "fuzz_service: cannot become nobody: %s\n",
			strerror(errno));
		abort();
	}
	rc = connect(s, (struct sockaddr *)&sa, sizeof(sa));
	if (nobody && (seteuid(0) || setegid(0) ||
		       setgroups((size_t)ngroups, groups))) {
		fprintf(stderr, "fuzz_service: cannot be root again: %s\n",
			strerror(errno));
		abort();
	}
	if (rc && errno != EINPROGRESS) {
		close(s);
		return -1;
	}
	return s;
}

void fzs_disconnect(struct fzs_runner *r, struct fzs_client *c)
{
	if (c->sock >= 0)
		conn_lost(r, c);
}

void fzs_connect(struct fzs_runner *r, struct fzs_client *c, uint8_t flags)
{
	fzs_disconnect(r, c);
	c->sock = connect_as(r->d->socket, r->as_root &&
			     (flags & FZS_CONN_NOBODY));
	if (c->sock < 0)
		return;
	r->stats->connections++;
	c->polite = flags & FZS_CONN_POLITE;
	c->deaf_after = 2 * ((flags & FZS_CONN_DEAF_MASK) >>
			     FZS_CONN_DEAF_SHIFT);
	if (flags & FZS_CONN_HELLO) {
		struct dl_hello_req h = { .min_version = 1, .max_version = 1 };
		struct fzs_pending p = { 0 };

		snprintf(h.client_name, sizeof(h.client_name), "fuzz");
		fzs_send(r, c, DL_OP_HELLO, &h, sizeof(h), NULL, 0, &p);
	}
}

/* ---- sending ------------------------------------------------------------- */

static int send_msg(int sock, const void *hdr, size_t hlen, const void *payload,
		    size_t len, const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(16 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov[2] = {
		{ (void *)hdr, hlen }, { (void *)payload, len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };

	if (nfds > 16)
		nfds = 16;
	if (nfds > 0) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -1 : 0;
}

static void remember(struct fzs_client *c, const struct fzs_pending *p)
{
	c->pending[p->id % FZS_PENDING] = *p;
}

uint64_t fzs_send(struct fzs_runner *r, struct fzs_client *c,
		  uint16_t opcode, const void *payload, size_t len,
		  const int *fds, int nfds, const struct fzs_pending *what)
{
	struct dl_msg_hdr h = {
		.magic = DL_PROTO_MAGIC,
		.version = opcode == DL_OP_HELLO ? 0 : 1,
		.opcode = opcode,
		.length = (uint32_t)len,
	};
	int all[16], n = 0;
	struct fzs_pending p = *what;

	if (c->sock < 0)
		return 0;
	for (int i = 0; i < nfds && n < 16; i++)
		all[n++] = fds[i];
	for (int i = 0; i < c->njunk && n < 16; i++)
		all[n++] = c->junk[i];
	h.request_id = ++c->next_id;
	p.id = h.request_id;
	p.opcode = opcode;
	remember(c, &p);
	if (send_msg(c->sock, &h, sizeof(h), payload, len, all, n))
		h.request_id = 0;	/* a full socket: given up */
	else
		r->stats->messages++;
	r->stats->fds_passed += (uint64_t)n;
	for (int i = 0; i < c->njunk; i++)
		close(c->junk[i]);
	c->njunk = 0;
	return h.request_id;
}

void fzs_send_raw(struct fzs_runner *r, struct fzs_client *c,
		  const void *buf, size_t len)
{
	if (c->sock < 0)
		return;
	c->may_drop = true;
	if (!send_msg(c->sock, buf, len, NULL, 0, c->junk, c->njunk))
		r->stats->messages++;
	for (int i = 0; i < c->njunk; i++)
		close(c->junk[i]);
	c->njunk = 0;
}

/* ---- receiving ----------------------------------------------------------- */

static void learn_open(struct fzs_conn *st, const struct fzs_pending *p,
		       const struct dl_open_rep *o)
{
	struct fzs_file *f = &st->files[st->nfiles++ % FZS_KEEP];

	f->fh = o->fh;
	f->ino = o->st.ino;
	f->generation = o->st.generation;
	f->flags = p->flags & (DL_O_READ | DL_O_WRITE);
	fzs_ring_add(&st->fhs, o->fh);
}

static void learn_pin(struct fzs_conn *st, const struct fzs_pending *p,
		      const struct dl_pin_rep *o, size_t len)
{
	const struct fzs_file *f = fzs_file_of(st, p->fh);
	struct fzs_pin *pin = &st->pins[st->npins++ % FZS_KEEP];
	uint32_t n = o->nsegs < 4 ? o->nsegs : 4;

	memset(pin, 0, sizeof(*pin));
	if (len < sizeof(*o))
		return;
	pin->id = o->pin_id;
	pin->ino = f ? f->ino : 0;
	pin->generation = f ? f->generation : 0;
	pin->offset = p->offset;
	pin->length = p->length;
	pin->flags = (uint32_t)p->flags;
	pin->nsegs = n;
	memcpy(pin->seg, o->seg, n * sizeof(o->seg[0]));
}

static void forget_pin(struct fzs_conn *st, uint64_t id)
{
	for (unsigned i = 0; i < FZS_KEEP; i++)
		if (st->pins[i].id == id)
			st->pins[i].id = 0;
}

/* What a successful reply to request p tells c. */
static void learn(struct fzs_client *c, const struct fzs_pending *p,
		  const void *pl, size_t len, const int *fds, int nfds)
{
	struct fzs_conn *st = &c->st;

	switch (p->opcode) {
	case DL_OP_HELLO:
		if (len >= sizeof(struct dl_hello_rep)) {
			const struct dl_hello_rep *h = pl;

			c->hello = true;
			st->token = h->token;
			st->ns_fd_offset = h->ns_fd_offset;
		}
		break;
	case DL_OP_OPEN:
		if (len >= sizeof(struct dl_open_rep))
			learn_open(st, p, pl);
		break;
	case DL_OP_MAP:
		if (len >= sizeof(struct dl_map_rep)) {
			const struct dl_map_rep *m = pl;

			fzs_ring_add(&st->maps, m->map_id);
			fzs_ring_add(&st->map_first, m->first_entry);
			fzs_ring_add(&st->map_count, m->nentries);
			if (nfds == DL_MAP_NFDS && st->tab.fd[0] < 0)
				table_adopt(&st->tab, fds);
		}
		break;
	case DL_OP_PIN:
		learn_pin(st, p, pl, len);
		break;
	case DL_OP_UNPIN:
		forget_pin(st, p->fh);
		break;
	case DL_OP_LEASE_ACQUIRE:
		if (len >= sizeof(struct dl_lease_rep))
			fzs_ring_add(&st->leases,
				     ((const struct dl_lease_rep *)pl)->lease_id);
		break;
	case DL_OP_LIST:
	case DL_OP_BUSY:
	case DL_OP_BLOCKED:
	case DL_OP_QUARANTINE:
	case DL_OP_DIRTY:
	case DL_OP_LEASE_QUERY:
	case DL_OP_LEASES:
		if (len >= sizeof(uint64_t)) {
			uint64_t cur;

			memcpy(&cur, pl, sizeof(cur));
			if (cur)
				fzs_ring_add(&st->cursors, cur);
		}
		break;
	default:
		break;
	}
}

/* A polite client gives a broken lease back at once. */
static void on_event(struct fzs_runner *r, struct fzs_client *c,
		     const struct dl_msg_hdr *h, const void *pl, size_t len)
{
	const struct dl_ev_lease *ev = pl;
	struct dl_lease_release_req rel;
	struct fzs_pending p = { 0 };

	r->stats->events++;
	if (!c->polite || h->opcode != DL_EV_LEASE_BREAK || len < sizeof(*ev))
		return;
	rel.lease_id = ev->lease_id;
	fzs_send(r, c, DL_OP_LEASE_RELEASE, &rel, sizeof(rel), NULL, 0, &p);
}

static void close_fds(int *fds, int n, const int *kept)
{
	for (int i = 0; i < n; i++)
		if (!kept || fds[i] != kept[i])
			close(fds[i]);
}

/* One received message; its fds are adopted or closed. */
static void on_message(struct fzs_runner *r, struct fzs_client *c, size_t n,
		       int *fds, int nfds)
{
	const struct dl_msg_hdr *h = (const void *)r->rx;
	const void *pl = r->rx + sizeof(*h);
	size_t len = n - sizeof(*h);
	const struct fzs_pending *p;
	int before = c->st.tab.fd[0];

	if (n < sizeof(*h) || h->magic != DL_PROTO_MAGIC) {
		close_fds(fds, nfds, NULL);
		return;
	}
	if (h->flags & DL_MSG_EVENT) {
		close_fds(fds, nfds, NULL);
		on_event(r, c, h, pl, len);
		return;
	}
	r->stats->replies++;
	p = &c->pending[h->request_id % FZS_PENDING];
	if (!h->status && p->id == h->request_id && p->opcode == h->opcode)
		learn(c, p, pl, len, fds, nfds);
	if (c->deaf_after && !--c->deaf_after) {
		shutdown(c->sock, SHUT_RD);
		c->shut_rd = c->may_drop = true;
	}
	/* the table's four, when it adopted them */
	close_fds(fds, nfds, before < 0 && c->st.tab.fd[0] >= 0 ?
		  c->st.tab.fd : NULL);
}

/* Read what c was sent; how many messages. */
static unsigned drain_client(struct fzs_runner *r, struct fzs_client *c)
{
	union {
		char buf[CMSG_SPACE(16 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	unsigned got = 0;

	while (c->sock >= 0 && !c->no_read && !c->shut_rd) {
		struct iovec iov = { r->rx, sizeof(r->rx) };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
		};
		int fds[16], nfds = 0;
		ssize_t n = recvmsg(c->sock, &mh, MSG_DONTWAIT |
				    MSG_CMSG_CLOEXEC);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); n >= 0 && cm;
		     cm = CMSG_NXTHDR(&mh, cm)) {
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k && nfds < 16; i++)
				memcpy(&fds[nfds++],
				       CMSG_DATA(cm) + i * sizeof(int),
				       sizeof(int));
		}
		if (n <= 0) {
			close_fds(fds, nfds, NULL);
			/* the daemon closed us: it may only for a reason */
			if (!c->may_drop) {
				fprintf(stderr, "fuzz_service: the daemon "
					"dropped a well-behaved client\n");
				abort();
			}
			r->stats->dropped++;
			conn_lost(r, c);
			break;
		}
		got++;
		on_message(r, c, (size_t)n, fds, nfds);
	}
	return got;
}

static unsigned drain_all(void *runner)
{
	struct fzs_runner *r = runner;
	unsigned got = 0;

	for (int i = 0; i < FZS_CLIENTS; i++)
		got += drain_client(r, &r->c[i]);
	return got;
}

void fzs_pump(struct fzs_runner *r, int ms)
{
	r->d->pump(r->d, ms);
}

/* ---- fds to pass --------------------------------------------------------- */

/* A sealed memfd holding hdr: a table or a counter region to lie with. */
static int fake_region(struct fzs_runner *r, const void *hdr, size_t hlen,
		       size_t size, int seals)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	void *p;

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) ||
	    pwrite(fd, hdr, hlen, 0) != (ssize_t)hlen) {
		close(fd);
		return -1;
	}
	/* a writable mapping made before the seal stays writable: the
	 * lie a COUNTER_FAKE scribbles through after the daemon took it */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		if (r->fake)
			munmap(r->fake, r->fake_len);
		r->fake = p;
		r->fake_len = size;
	}
	fcntl(fd, F_ADD_SEALS, seals);
	return fd;
}

/* Fake regions claim 16 entries, or up to 2^34 (sparse memfds). */
static uint64_t fake_entries(uint8_t size)
{
	return 16ULL << (2 * (size % 16));
}

static int fake_table(struct fzs_runner *r, uint8_t size)
{
	struct dl_table_hdr h = {
		.magic = DL_TABLE_MAGIC, .version = DL_TABLE_VERSION,
		.entry_size = sizeof(struct dl_table_entry),
		.nentries = fake_entries(size),
	};

	return fake_region(r, &h, sizeof(h), DL_TABLE_HDR_SIZE + h.nentries *
			   sizeof(struct dl_table_entry),
			   F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE);
}

static int fake_counters(struct fzs_runner *r, uint8_t size)
{
	struct dl_counters_hdr h = {
		.magic = DL_COUNTERS_MAGIC, .version = DL_COUNTERS_VERSION,
		.stride = DL_COUNTER_STRIDE, .nentries = fake_entries(size),
	};

	return fake_region(r, &h, sizeof(h), dl_counters_size(h.nentries),
			   F_SEAL_SHRINK | F_SEAL_GROW);
}

static int dup_of(int fd)
{
	return fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
}

static int other_table(struct fzs_runner *r, const struct fzs_client *c)
{
	for (int i = 0; i < FZS_CLIENTS; i++)
		if (&r->c[i] != c && r->c[i].st.tab.fd[0] >= 0)
			return dup_of(r->c[i].st.tab.fd[0]);
	return -1;
}

static int pipe_end(int which)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -1;
	close(p[!which]);
	return p[which];
}

static int socket_end(void)
{
	int s[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s))
		return -1;
	close(s[1]);
	return s[0];
}

int fzs_make_fd(struct fzs_runner *r, struct fzs_client *c,
		const struct fzs_conn *of, uint8_t kind)
{
	const struct fzs_table *t = of ? &of->tab : &c->st.tab;

	switch (kind % FZS_NFD) {
	case FZS_FD_TABLE:
		return dup_of(t->fd[0]);
	case FZS_FD_COUNTERS:
		return dup_of(t->fd[2]);
	case FZS_FD_WAKE:
		return dup_of(t->fd[3]);
	case FZS_FD_NS:
		return dup_of(t->fd[1]);
	case FZS_FD_MEMFD:
		return memfd_create("fuzz", MFD_CLOEXEC);
	case FZS_FD_FAKE_TABLE:
		return fake_table(r, kind / FZS_NFD);
	case FZS_FD_FAKE_COUNTERS:
		return fake_counters(r, kind / FZS_NFD);
	case FZS_FD_EVENTFD:
		return eventfd(0, EFD_CLOEXEC);
	case FZS_FD_PIPE_R:
		return pipe_end(0);
	case FZS_FD_PIPE_W:
		return pipe_end(1);
	case FZS_FD_SOCKET:
		return socket_end();
	case FZS_FD_DAEMON_SOCKET:
		r->stats->connections++;
		return connect_as(r->d->socket, false);
	case FZS_FD_DEVNULL:
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	case FZS_FD_DIR:
		return open(r->d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	case FZS_FD_OTHER_TABLE:
		return other_table(r, c);
	default:
		return dup_of(c->sock);
	}
}

/* ---- the program --------------------------------------------------------- */

static void runner_init(struct fzs_runner *r, struct fzs_daemon *d,
			struct fzs_stats *st)
{
	r->d = d;
	r->stats = st;
	r->as_root = geteuid() == 0;
	for (int i = 0; i < FZS_CLIENTS; i++) {
		r->c[i].sock = -1;
		conn_reset(&r->c[i].st);
	}
	for (int i = 0; i < FZS_LOST; i++)
		conn_reset(&r->lost[i]);
	d->drain = drain_all;
	d->runner = r;
}

static void runner_end(struct fzs_runner *r)
{
	for (int i = 0; i < FZS_CLIENTS; i++)
		fzs_disconnect(r, &r->c[i]);
	/* the hangups of the connections just closed */
	fzs_pump(r, 0);
	for (int i = 0; i < FZS_LOST; i++)
		conn_free(&r->lost[i]);
	if (r->fake)
		munmap(r->fake, r->fake_len);
	r->fake = NULL;
	r->d->drain = NULL;
}

static void run_op(struct fzs_runner *r, struct fzs_in *in, uint8_t op)
{
	/* a REPEAT of a REPEAT is just its operation */
	if (op != FZS_OP_REPEAT)
		fzs_op(r, in, op, &r->c[fzs_u8(in) % FZS_CLIENTS]);
	r->stats->ops++;
	if (r->batch)
		r->batch--;
	else
		fzs_pump(r, 0);
}

void fzs_run(struct fzs_daemon *d, const uint8_t *prog, size_t len,
	     struct fzs_stats *st)
{
	struct fzs_runner *r = calloc(1, sizeof(*r));
	struct fzs_in in = { .p = prog, .len = len };

	if (!r)
		abort();
	runner_init(r, d, st);
	for (unsigned i = 0; i < FZS_MAX_OPS && in.at < in.len; i++) {
		uint8_t op = fzs_u8(&in) % FZS_NOPS;
		unsigned times = 1;
		size_t args;

		if (op == FZS_OP_REPEAT) {
			times += fzs_u8(&in);
			op = fzs_u8(&in) % FZS_NOPS;
		}
		args = in.at;
		for (unsigned k = 0; k < times; k++) {
			in.at = args;	/* the same bytes each time */
			run_op(r, &in, op);
		}
	}
	runner_end(r);
	free(r);
}

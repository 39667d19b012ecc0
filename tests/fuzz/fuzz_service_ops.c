// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz_service_ops.c - the operations of a service fuzzer program
 * (fuzz_service.h lists them and their arguments).
 *
 * Each one reads its arguments and sends what a client - careful,
 * careless or lying - would: valid requests whose values come from the
 * replies, the same with values that are wrong, raw bytes, half-closed
 * sockets, passed fds of every kind, and writes into the memory a client
 * shares with the daemon (its counter region, its pinned blocks).
 */
#include <errno.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_service_prog.h"

#define PAGE 4096ULL
#define MiB2 (2ULL << 20)

/* ---- picking values -------------------------------------------------------- */

/* A learned value of one of the slot's rings (the ring at ring_off in
 * struct fzs_conn: PICK names it), another slot's, or raw. */
static uint64_t pick(struct fzs_runner *r, struct fzs_in *in,
		     const struct fzs_client *c, size_t ring_off)
{
	uint8_t b = fzs_u8(in);
	uint64_t v = 0;

	if (b < 0xf0) {
		if (!fzs_ring_get((const void *)((const char *)&c->st +
						 ring_off), b, &v))
			v = b + 1;	/* nothing learned: a small guess */
	} else if (b < 0xf8) {
		const struct fzs_client *o = &r->c[b - 0xf0];

		if (!fzs_ring_get((const void *)((const char *)&o->st +
						 ring_off), 0, &v))
			v = 0;
	} else if (b == 0xfe) {
		v = fzs_u64(in);
	}
	return v;
}

#define PICK(r, in, c, ring) pick(r, in, c, offsetof(struct fzs_conn, ring))

static uint64_t pick_off(struct fzs_in *in)
{
	uint8_t b = fzs_u8(in);

	if (b < 0x80)
		return b * PAGE;
	if (b < 0xc0)
		return (b - 0x80) * MiB2;
	if (b < 0xfe)
		return (b - 0xc0) * PAGE + 1 + b;	/* not page aligned */
	return b == 0xfe ? fzs_u64(in) : UINT64_MAX - PAGE + 1;
}

static uint64_t pick_len(struct fzs_in *in)
{
	uint8_t b = fzs_u8(in);

	if (b < 0x80)
		return b * PAGE;	/* 0 included */
	if (b < 0xc0)
		return (b - 0x7f) * MiB2;
	if (b < 0xfe)
		return b;
	return b == 0xfe ? fzs_u64(in) : UINT64_MAX;
}

static void pick_name(struct fzs_in *in, char name[DL_PROTO_NAME_SIZE])
{
	uint8_t b = fzs_u8(in);

	memset(name, 0, DL_PROTO_NAME_SIZE);
	if (b < 0xf0) {
		snprintf(name, DL_PROTO_NAME_SIZE, "f%u", b % FZS_NAMES);
		return;
	}
	/* raw: up to 16 bytes, or a field with no NUL at all */
	for (int i = 0; i < (b == 0xff ? DL_PROTO_NAME_SIZE : 16); i++)
		name[i] = (char)fzs_u8(in);
	if (b == 0xff)
		memset(name, 'n', DL_PROTO_NAME_SIZE);
}

/* A busy policy: flags and deadline. */
static void pick_policy(struct fzs_in *in, uint32_t *flags, uint32_t *ms)
{
	uint8_t b = fzs_u8(in), t = fzs_u8(in) % 4;

	*flags = 0;
	*ms = 0;
	switch (b % 6) {
	case 1:
		*flags = DL_POLICY_NONBLOCK;
		break;
	case 2:
		*flags = DL_POLICY_DEADLINE;
		*ms = 1 + t;
		break;
	case 3:
		*flags = DL_POLICY_NONBLOCK | DL_POLICY_DEADLINE;
		*ms = t;
		break;
	case 4:
		*flags = DL_POLICY_DEADLINE;
		break;
	case 5:
		*flags = b;		/* unknown bits */
		break;
	default:
		break;
	}
}

static uint32_t pick_mode(struct fzs_in *in)
{
	static const uint32_t modes[] = {
		0644, 0600, 0666, 0400, 0, 0777, 04755, 010000,
	};

	return modes[fzs_u8(in) % 8];
}

static const struct fzs_pending nothing;

static void send_req(struct fzs_runner *r, struct fzs_client *c,
		     uint16_t opcode, const void *req, size_t len)
{
	fzs_send(r, c, opcode, req, len, NULL, 0, &nothing);
}

/* ---- session, files, data ---------------------------------------------------- */

static void op_hello(struct fzs_runner *r, struct fzs_in *in,
		     struct fzs_client *c)
{
	struct dl_hello_req h = { .min_version = 1, .max_version = 1 };
	uint8_t v = fzs_u8(in);

	snprintf(h.client_name, sizeof(h.client_name), "fuzz");
	switch (v % 6) {
	case 1:
		h.min_version = 2;
		h.max_version = 9;
		break;
	case 2:
		h.max_version = 0;
		break;
	case 3:
		h.flags = v;
		break;
	case 4:
		for (size_t i = 0; i < sizeof(h.client_name); i++)
			h.client_name[i] = (char)fzs_u8(in);
		break;
	case 5:
		h.max_version = UINT16_MAX;
		break;
	default:
		break;
	}
	send_req(r, c, DL_OP_HELLO, &h, sizeof(h));
}

static void op_open(struct fzs_runner *r, struct fzs_in *in,
		    struct fzs_client *c)
{
	struct dl_open_req o = { 0 };
	struct fzs_pending p = { 0 };

	static const uint32_t usual[] = {
		DL_O_READ | DL_O_WRITE | DL_O_CREATE, DL_O_READ,
		DL_O_READ | DL_O_WRITE, DL_O_WRITE | DL_O_CREATE,
		DL_O_READ | DL_O_WRITE | DL_O_CREATE | DL_O_TRUNC,
		DL_O_READ | DL_O_WRITE | DL_O_CREATE | DL_O_EXCL,
	};
	uint8_t flags;

	pick_name(in, o.name);
	flags = fzs_u8(in);
	/* small: the DL_O_* bits as given; else mostly a usual open */
	o.flags = flags < 0x20 || flags >= 0xf0 ? flags : usual[flags % 6];
	o.mode = pick_mode(in);
	p.flags = o.flags;
	fzs_send(r, c, DL_OP_OPEN, &o, sizeof(o), NULL, 0, &p);
}

static void op_fh(struct fzs_runner *r, struct fzs_in *in,
		  struct fzs_client *c, uint16_t opcode)
{
	struct dl_fh_req f = { .fh = PICK(r, in, c, fhs) };

	send_req(r, c, opcode, &f, sizeof(f));
}

static void op_stat(struct fzs_runner *r, struct fzs_in *in,
		    struct fzs_client *c)
{
	struct dl_stat_req s = { 0 };

	if (fzs_u8(in) & 1)
		pick_name(in, s.name);
	else
		s.fh = PICK(r, in, c, fhs);
	send_req(r, c, DL_OP_STAT, &s, sizeof(s));
}

static void op_list(struct fzs_runner *r, struct fzs_in *in,
		    struct fzs_client *c)
{
	struct dl_list_req l = { .cursor = PICK(r, in, c, cursors) };

	l.max = fzs_u8(in);
	send_req(r, c, DL_OP_LIST, &l, sizeof(l));
}

static void op_unlink(struct fzs_runner *r, struct fzs_in *in,
		      struct fzs_client *c)
{
	struct dl_name_req n;

	pick_name(in, n.name);
	send_req(r, c, DL_OP_UNLINK, &n, sizeof(n));
}

static void op_rename(struct fzs_runner *r, struct fzs_in *in,
		      struct fzs_client *c)
{
	struct dl_rename_req n = { 0 };

	pick_name(in, n.from);
	pick_name(in, n.to);
	n.flags = fzs_u8(in) % 3;
	send_req(r, c, DL_OP_RENAME, &n, sizeof(n));
}

/*
 * READ and WRITE: niov iovecs (0 and 1025 included), each an offset and
 * a length in 256-byte units; a WRITE's data follows, or lies about its
 * length when the lengths add up past the data limit.
 */
static void op_rw(struct fzs_runner *r, struct fzs_in *in,
		  struct fzs_client *c, uint16_t opcode)
{
	static uint8_t buf[DL_PROTO_MAX_MSG];
	struct dl_rw_req *q = (void *)buf;
	struct dl_wire_iov *v = (void *)(q + 1);
	uint64_t fh = PICK(r, in, c, fhs), data = 0;
	uint8_t b = fzs_u8(in);
	uint32_t niov = b == 0xff ? DL_PROTO_MAX_IOV + 1 : b % 5;
	size_t len;

	q->fh = fh;
	q->niov = niov;
	q->reserved = 0;
	for (uint32_t i = 0; i < niov; i++) {
		v[i].offset = i < 4 ? pick_off(in) : i;
		v[i].len = i < 4 ? fzs_u8(in) * 256u : 1;
		v[i].reserved = 0;
		data += v[i].len;
	}
	len = sizeof(*q) + niov * sizeof(*v);
	if (opcode == DL_OP_WRITE) {
		uint8_t fill = fzs_u8(in);
		/* a message the daemon can frame: longer ones drop us */
		size_t room = DL_PROTO_MAX_MSG - sizeof(struct dl_msg_hdr) -
			      len;

		if (data > room)
			data = room;
		memset(buf + len, fill, data);
		len += data;
	}
	send_req(r, c, opcode, buf, len);
}

static void op_truncate(struct fzs_runner *r, struct fzs_in *in,
			struct fzs_client *c)
{
	struct dl_truncate_req t = { .fh = PICK(r, in, c, fhs) };

	t.size = pick_off(in);
	pick_policy(in, &t.flags, &t.deadline_ms);
	send_req(r, c, DL_OP_TRUNCATE, &t, sizeof(t));
}

static void op_fallocate(struct fzs_runner *r, struct fzs_in *in,
			 struct fzs_client *c)
{
	static const uint32_t modes[] = {
		0, FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE,
		FALLOC_FL_ZERO_RANGE, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_PUNCH_HOLE,
	};
	struct dl_fallocate_req f = { .fh = PICK(r, in, c, fhs) };
	uint8_t m = fzs_u8(in);

	f.mode = m < 0xf0 ? modes[m % 8] : m;
	f.offset = pick_off(in);
	f.length = pick_len(in);
	pick_policy(in, &f.flags, &f.deadline_ms);
	send_req(r, c, DL_OP_FALLOCATE, &f, sizeof(f));
}

static void op_setattr(struct fzs_runner *r, struct fzs_in *in,
		       struct fzs_client *c)
{
	struct dl_setattr_req s = { .fh = PICK(r, in, c, fhs) };
	uint8_t uid, gid;

	s.valid = fzs_u8(in) % 9;
	s.mode = pick_mode(in);
	uid = fzs_u8(in);
	gid = fzs_u8(in);
	s.uid = uid < 0x80 ? 0 : uid < 0xff ? 65534 : uid;
	s.gid = gid < 0x80 ? 0 : gid < 0xff ? 65534 : gid;
	send_req(r, c, DL_OP_SETATTR, &s, sizeof(s));
}

/* ---- mappings, pins, leases ---------------------------------------------------- */

static void op_map(struct fzs_runner *r, struct fzs_in *in,
		   struct fzs_client *c)
{
	struct dl_map_req m = { .fh = PICK(r, in, c, fhs) };
	uint8_t prot;

	m.offset = pick_off(in);
	m.length = pick_len(in);
	prot = fzs_u8(in);
	/* small: as given (0 and 4.. are refused); from 0xf0 write only;
	 * else read or read-write */
	if (prot < 8)
		m.prot = prot;
	else if (prot >= 0xf0)
		m.prot = DL_MAP_PROT_WRITE;
	else
		m.prot = prot & 1 ? DL_MAP_PROT_READ | DL_MAP_PROT_WRITE :
			 DL_MAP_PROT_READ;
	send_req(r, c, DL_OP_MAP, &m, sizeof(m));
}

static void op_unmap(struct fzs_runner *r, struct fzs_in *in,
		     struct fzs_client *c)
{
	struct dl_unmap_req u = { .map_id = PICK(r, in, c, maps) };

	send_req(r, c, DL_OP_UNMAP, &u, sizeof(u));
}

static void op_pin(struct fzs_runner *r, struct fzs_in *in,
		   struct fzs_client *c)
{
	struct dl_pin_req p = { .fh = PICK(r, in, c, fhs) };
	struct fzs_pending what = { 0 };

	p.offset = pick_off(in);
	p.length = pick_len(in);
	p.flags = fzs_u8(in) % 3;
	what.fh = p.fh;
	what.offset = p.offset;
	what.length = p.length;
	what.flags = p.flags;
	fzs_send(r, c, DL_OP_PIN, &p, sizeof(p), NULL, 0, &what);
}

/* A pin this slot learned (the i-th most recent), or NULL. */
static const struct fzs_pin *learned_pin(const struct fzs_conn *st,
					 uint8_t i)
{
	unsigned have = st->npins < FZS_KEEP ? st->npins : FZS_KEEP;

	if (!have)
		return NULL;
	return &st->pins[(st->npins - 1 - i % have) % FZS_KEEP];
}

static void op_unpin(struct fzs_runner *r, struct fzs_in *in,
		     struct fzs_client *c)
{
	uint8_t b = fzs_u8(in);
	const struct fzs_pin *p = learned_pin(&c->st, b);
	struct dl_unpin_req u = { .pin_id = p && b < 0xf0 ? p->id : b };
	struct fzs_pending what = { .fh = u.pin_id };

	fzs_send(r, c, DL_OP_UNPIN, &u, sizeof(u), NULL, 0, &what);
}

static void op_lease(struct fzs_runner *r, struct fzs_in *in,
		     struct fzs_client *c)
{
	struct dl_lease_req l = { .fh = PICK(r, in, c, fhs) };
	uint8_t type, flags;

	l.offset = pick_off(in);
	l.length = pick_len(in);
	type = fzs_u8(in);
	flags = fzs_u8(in);
	l.type = type < 0x80 ? DL_LEASE_SHARED : type < 0xf0 ?
		 DL_LEASE_EXCLUSIVE : type;
	l.flags = flags < 0x80 ? 0 : flags < 0xf0 ? DL_POLICY_NONBLOCK : flags;
	l.break_timeout_ms = fzs_u8(in) % 4;
	send_req(r, c, DL_OP_LEASE_ACQUIRE, &l, sizeof(l));
}

static void op_lease_release(struct fzs_runner *r, struct fzs_in *in,
			     struct fzs_client *c)
{
	struct dl_lease_release_req l = { .lease_id = PICK(r, in, c, leases) };

	send_req(r, c, DL_OP_LEASE_RELEASE, &l, sizeof(l));
}

static void op_view(struct fzs_runner *r, struct fzs_in *in,
		    struct fzs_client *c)
{
	static const uint16_t ops[FZS_NVIEWS] = {
		DL_OP_BUSY, DL_OP_BLOCKED, DL_OP_QUARANTINE, DL_OP_DIRTY,
		DL_OP_LEASE_QUERY, DL_OP_LEASES, DL_OP_STATUS,
	};
	uint16_t op = ops[fzs_u8(in) % FZS_NVIEWS];
	struct dl_view_req v = { .cursor = PICK(r, in, c, cursors) };

	v.max = fzs_u8(in);
	if (op == DL_OP_STATUS)
		send_req(r, c, op, NULL, 0);
	else
		send_req(r, c, op, &v, sizeof(v));
}

/* ---- REATTACH ------------------------------------------------------------------- */

/* What a lie byte does to an entry: nothing, or one field changed. */
static void lie_u64(uint8_t lie, uint8_t which, uint64_t *field,
		    struct fzs_in *in)
{
	if (lie && lie % 4 == which)
		*field = lie & 0x80 ? fzs_u64(in) : *field + lie;
}

static void reattach_files(struct fzs_runner *r, struct fzs_in *in,
			   struct fzs_client *c, const struct fzs_conn *l,
			   uint8_t *buf, size_t *len)
{
	struct dl_reattach_req *q = (void *)buf;
	struct dl_reattach_file *f = (void *)(q + 1);
	uint32_t n = fzs_u8(in) % 5;
	uint8_t lie = fzs_u8(in);

	(void)r;
	(void)c;
	q->count = n;
	for (uint32_t i = 0; i < n; i++) {
		const struct fzs_file *from = l && l->nfiles ?
			&l->files[i % (l->nfiles < FZS_KEEP ? l->nfiles :
				       FZS_KEEP)] : NULL;

		memset(&f[i], 0, sizeof(f[i]));
		if (from) {
			f[i].fh = from->fh;
			f[i].ino = from->ino;
			f[i].generation = from->generation;
			f[i].flags = from->flags;
		}
		lie_u64(lie, 1, &f[i].fh, in);
		lie_u64(lie, 2, &f[i].ino, in);
		if (lie && lie % 4 == 3)
			f[i].flags = lie;
	}
	*len = sizeof(*q) + n * sizeof(*f);
}

/* The mappings of a lost connection, as its library would describe them
 * (the ids, entries and counts it learned; ino and range: a guess). */
static size_t reattach_maps(struct fzs_in *in, const struct fzs_conn *l,
			    struct dl_reattach_map *m)
{
	uint32_t n = fzs_u8(in) % 4;
	uint8_t lie = fzs_u8(in);

	for (uint32_t i = 0; i < n; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].prot = DL_MAP_PROT_READ;
		if (l) {
			fzs_ring_get(&l->maps, i, &m[i].map_id);
			fzs_ring_get(&l->map_first, i, &m[i].first_entry);
			fzs_ring_get(&l->map_count, i, &m[i].nentries);
			if (l->nfiles) {
				m[i].ino = l->files[0].ino;
				m[i].generation = l->files[0].generation;
			}
		}
		lie_u64(lie, 1, &m[i].first_entry, in);
		lie_u64(lie, 2, &m[i].nentries, in);
		lie_u64(lie, 3, &m[i].map_id, in);
	}
	return n;
}

static void reattach_table(struct fzs_runner *r, struct fzs_in *in,
			   struct fzs_client *c, const struct fzs_conn *l,
			   uint8_t *buf, size_t *len, int *fds, int *nfds)
{
	struct dl_reattach_req *q = (void *)buf;
	uint8_t want = fzs_u8(in) % 5;

	/* 3 is right; the fds the library passes are its own three */
	for (int i = 0; i < want; i++) {
		uint8_t kind = fzs_u8(in);

		fds[*nfds] = fzs_make_fd(r, c, l, kind);
		if (fds[*nfds] >= 0)
			(*nfds)++;
	}
	q->count = (uint32_t)reattach_maps(in, l, (void *)(q + 1));
	*len = sizeof(*q) + q->count * sizeof(struct dl_reattach_map);
}

static void reattach_pin(struct fzs_in *in, const struct fzs_conn *l,
			 uint8_t *buf, size_t *len)
{
	struct dl_reattach_req *q = (void *)buf;
	struct dl_reattach_pin *p = (void *)(q + 1);
	struct dl_wire_seg *seg = (void *)(p + 1);
	const struct fzs_pin *from = l ? learned_pin(l, fzs_u8(in)) : NULL;
	uint8_t lie = fzs_u8(in);

	memset(p, 0, sizeof(*p));
	q->count = 1;
	p->nsegs = 1;
	seg[0].ns_offset = 0;
	seg[0].length = PAGE;
	if (from && from->nsegs) {
		p->pin_id = from->id;
		p->ino = from->ino;
		p->generation = from->generation;
		p->flags = from->flags & DL_PIN_WRITE;
		p->offset = from->offset;
		p->length = from->length;
		p->nsegs = from->nsegs;
		memcpy(seg, from->seg, from->nsegs * sizeof(*seg));
	}
	lie_u64(lie, 1, &p->pin_id, in);
	lie_u64(lie, 2, &seg[0].ns_offset, in);
	lie_u64(lie, 3, &seg[0].length, in);
	*len = sizeof(*q) + sizeof(*p) + p->nsegs * sizeof(*seg);
}

static void op_reattach(struct fzs_runner *r, struct fzs_in *in,
			struct fzs_client *c)
{
	static uint8_t buf[DL_PROTO_MAX_MSG];
	struct dl_reattach_req *q = (void *)buf;
	uint8_t kind = fzs_u8(in);
	const struct fzs_conn *l = fzs_lost(r, fzs_u8(in));
	size_t len = sizeof(*q);
	int fds[8], nfds = 0;

	memset(q, 0, sizeof(*q));
	q->kind = kind < 0xf0 ? 1 + kind % 5 : kind;
	switch (q->kind) {
	case DL_REATTACH_BEGIN: {
		uint8_t t = fzs_u8(in);

		q->token = t < 0xf0 && l ? l->token : t == 0xff ? 0 :
			   fzs_u32(in);
		break;
	}
	case DL_REATTACH_FILES:
		reattach_files(r, in, c, l, buf, &len);
		break;
	case DL_REATTACH_TABLE:
		reattach_table(r, in, c, l, buf, &len, fds, &nfds);
		break;
	case DL_REATTACH_PIN:
		reattach_pin(in, l, buf, &len);
		break;
	default:
		break;
	}
	fzs_send(r, c, DL_OP_REATTACH, buf, len, fds, nfds, &nothing);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

/* ---- raw bytes, sockets -------------------------------------------------------- */

static void op_raw(struct fzs_runner *r, struct fzs_in *in,
		   struct fzs_client *c)
{
	static uint8_t buf[DL_PROTO_MAX_MSG + 64];
	struct dl_msg_hdr *h = (void *)buf;
	uint8_t sel = fzs_u8(in);
	size_t plen = fzs_u8(in) * 4u;

	if (sel & 0x80)		/* a big one, maybe past the limit */
		plen = DL_PROTO_MAX_MSG - sizeof(*h) - 32 + (sel & 0x3f);
	memset(buf, 0, sizeof(*h) + plen);
	h->magic = sel & 1 ? fzs_u32(in) : DL_PROTO_MAGIC;
	h->version = sel & 2 ? fzs_u8(in) : 1;
	h->opcode = fzs_u8(in);
	h->flags = sel & 4 ? fzs_u8(in) : 0;
	h->length = (uint32_t)plen + (sel & 8 ? fzs_u8(in) : 0);
	h->request_id = sel & 16 ? 0 : ++c->next_id;
	h->status = sel & 32 ? (int32_t)fzs_u32(in) : 0;
	for (size_t i = 0; i < plen && i < 256; i++)
		buf[sizeof(*h) + i] = fzs_u8(in);
	fzs_send_raw(r, c, buf, sizeof(*h) + plen);
}

static void op_shutdown(struct fzs_runner *r, struct fzs_in *in,
			struct fzs_client *c)
{
	static const int how[] = { SHUT_RD, SHUT_WR, SHUT_RDWR };
	int h = how[fzs_u8(in) % 3];

	(void)r;
	if (c->sock < 0)
		return;
	shutdown(c->sock, h);
	c->may_drop = true;
	c->shut_rd |= h != SHUT_WR;
}

static void op_junk_fds(struct fzs_runner *r, struct fzs_in *in,
			struct fzs_client *c)
{
	uint8_t n = fzs_u8(in) % 6;

	/* (they go with its next request, or with its connection) */
	for (uint8_t i = 0; i < n && c->njunk < 8 && c->sock >= 0; i++) {
		int fd = fzs_make_fd(r, c, NULL, fzs_u8(in));

		if (fd >= 0)
			c->junk[c->njunk++] = fd;
	}
}

/* ---- shared memory ------------------------------------------------------------ */

static bool entry_ok(const struct fzs_table *t, uint64_t idx)
{
	return t->hdr && idx < t->hdr->nentries &&
	       DL_TABLE_HDR_SIZE + (idx + 1) * sizeof(struct dl_table_entry) <=
	       t->table_len &&
	       DL_TABLE_HDR_SIZE + (idx + 1) * DL_COUNTER_STRIDE <= t->cnt_len;
}

static int64_t *counter(const struct fzs_table *t, uint64_t idx)
{
	return &((struct dl_pin_counter *)((char *)t->chdr +
					   DL_TABLE_HDR_SIZE))[idx].refs;
}

static const uint64_t *pte(const struct fzs_table *t, uint64_t idx)
{
	return &((const struct dl_table_entry *)((const char *)t->hdr +
						 DL_TABLE_HDR_SIZE))[idx].pte;
}

static void wake(const struct fzs_table *t)
{
	uint64_t one = 1;

	if (t->fd[3] >= 0 && write(t->fd[3], &one, sizeof(one)) < 0)
		return;
}

static void unpin_one(const struct fzs_table *t, uint64_t idx)
{
	/* the library's unpin: at zero, wake a daemon that waits */
	if (!__atomic_sub_fetch(counter(t, idx), 1, __ATOMIC_SEQ_CST) &&
	    __atomic_load_n(&t->chdr->waiting, __ATOMIC_SEQ_CST))
		wake(t);
}

/* The lockless pin of docs/pin-protocol.md: load, count, load again. */
static void pin_one(const struct fzs_table *t, uint64_t idx)
{
	uint64_t v = __atomic_load_n(pte(t, idx), __ATOMIC_ACQUIRE);

	if (!(v & DL_PTE_VALID))
		return;
	__atomic_add_fetch(counter(t, idx), 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(pte(t, idx), __ATOMIC_SEQ_CST) != v)
		unpin_one(t, idx);
}

static void pin_map(const struct fzs_table *t, const struct fzs_conn *st,
		    uint8_t which)
{
	uint64_t first, n;

	if (!fzs_ring_get(&st->map_first, which, &first) ||
	    !fzs_ring_get(&st->map_count, which, &n))
		return;
	for (uint64_t i = first; i < first + n && i < first + 64; i++)
		if (entry_ok(t, i))
			pin_one(t, i);
}

static void scribble(void *base, size_t len, struct fzs_in *in)
{
	uint64_t off = fzs_u32(in), v = fzs_u64(in);

	if (base && len >= sizeof(v))
		memcpy((char *)base + (off % (len / 8)) * 8, &v, sizeof(v));
}

static void op_counter(struct fzs_runner *r, struct fzs_in *in,
		       struct fzs_client *c)
{
	static const int64_t lies[] = {
		-1, 1, INT64_MAX, INT64_MIN, 1LL << 40, 0, 2, -2,
	};
	uint8_t which = fzs_u8(in);
	const struct fzs_conn *st = which & 0x80 ? fzs_lost(r, which) : &c->st;
	uint8_t action = fzs_u8(in) % FZS_NCOUNTER;
	uint8_t e = fzs_u8(in);
	const struct fzs_table *t = st ? &st->tab : NULL;
	uint64_t first = 0, idx;

	if (action == FZS_CNT_FAKE) {
		scribble(r->fake, r->fake_len, in);
		return;
	}
	if (!t || !t->chdr)
		return;
	/* an entry of a learned mapping, or any */
	fzs_ring_get(&st->map_first, e >> 4, &first);
	idx = e < 0xf0 ? first + (e & 15) : fzs_u32(in);
	switch (action) {
	case FZS_CNT_PIN:
		if (entry_ok(t, idx))
			pin_one(t, idx);
		break;
	case FZS_CNT_UNPIN:
		if (entry_ok(t, idx))
			unpin_one(t, idx);
		break;
	case FZS_CNT_LIE:
		if (entry_ok(t, idx))
			__atomic_store_n(counter(t, idx),
					 lies[fzs_u8(in) % 8],
					 __ATOMIC_SEQ_CST);
		break;
	case FZS_CNT_WAKE:
		wake(t);
		break;
	case FZS_CNT_HEADER:
		scribble(t->chdr, DL_TABLE_HDR_SIZE, in);
		break;
	default:
		pin_map(t, st, e);
		break;
	}
}

/*
 * "DMA" into blocks the slot's connection has pinned and not unpinned
 * (the only blocks a client may write without harm to anyone but
 * itself), through the namespace fd its first MAP gave it.
 */
static void op_ns_write(struct fzs_runner *r, struct fzs_in *in,
			struct fzs_client *c)
{
	static uint8_t buf[256 * 64];
	const struct fzs_pin *p = learned_pin(&c->st, fzs_u8(in));
	uint64_t off = fzs_u8(in) * PAGE;
	size_t len = fzs_u8(in) * 64u;
	uint8_t fill = fzs_u8(in);

	(void)r;
	if (!p || !p->id || c->sock < 0 || c->st.tab.fd[1] < 0 || !len)
		return;
	for (uint32_t i = 0; i < p->nsegs; i++) {
		const struct dl_wire_seg *s = &p->seg[i];

		if (s->ns_offset == UINT64_MAX || off >= s->length)
			continue;
		if (len > s->length - off)
			len = (size_t)(s->length - off);
		memset(buf, fill, len);
		if (pwrite(c->st.tab.fd[1], buf, len, (off_t)(c->st.ns_fd_offset +
							   s->ns_offset + off)) < 0)
			return;
		return;
	}
}

/* ---- time, the daemon, the runner --------------------------------------------- */

static void op_sleep(struct fzs_runner *r, struct fzs_in *in)
{
	struct timespec ts = { 0, (long)(fzs_u8(in) % 4) * 1000000L };

	nanosleep(&ts, NULL);
	fzs_pump(r, 0);
}

static void op_restart(struct fzs_runner *r)
{
	/* every connection goes: none of them is to blame */
	for (int i = 0; i < FZS_CLIENTS; i++)
		r->c[i].may_drop = true;
	if (r->d->restart(r->d)) {
		fprintf(stderr, "fuzz_service: the daemon did not start again "
			"on its own image\n");
		abort();
	}
	r->stats->restarts++;
	fzs_pump(r, 0);
}

void fzs_op(struct fzs_runner *r, struct fzs_in *in, uint8_t op,
	    struct fzs_client *c)
{
	switch (op) {
	case FZS_OP_CONNECT:
		fzs_connect(r, c, fzs_u8(in));
		break;
	case FZS_OP_HELLO:
		op_hello(r, in, c);
		break;
	case FZS_OP_OPEN:
		op_open(r, in, c);
		break;
	case FZS_OP_CLOSE:
		op_fh(r, in, c, DL_OP_CLOSE);
		break;
	case FZS_OP_FSYNC:
		op_fh(r, in, c, DL_OP_FSYNC);
		break;
	case FZS_OP_STAT:
		op_stat(r, in, c);
		break;
	case FZS_OP_LIST:
		op_list(r, in, c);
		break;
	case FZS_OP_UNLINK:
		op_unlink(r, in, c);
		break;
	case FZS_OP_RENAME:
		op_rename(r, in, c);
		break;
	case FZS_OP_READ:
		op_rw(r, in, c, DL_OP_READ);
		break;
	case FZS_OP_WRITE:
		op_rw(r, in, c, DL_OP_WRITE);
		break;
	case FZS_OP_TRUNCATE:
		op_truncate(r, in, c);
		break;
	case FZS_OP_FALLOCATE:
		op_fallocate(r, in, c);
		break;
	case FZS_OP_SETATTR:
		op_setattr(r, in, c);
		break;
	case FZS_OP_MAP:
		op_map(r, in, c);
		break;
	case FZS_OP_UNMAP:
		op_unmap(r, in, c);
		break;
	case FZS_OP_PIN:
		op_pin(r, in, c);
		break;
	case FZS_OP_UNPIN:
		op_unpin(r, in, c);
		break;
	case FZS_OP_LEASE:
		op_lease(r, in, c);
		break;
	case FZS_OP_LEASE_RELEASE:
		op_lease_release(r, in, c);
		break;
	case FZS_OP_VIEW:
		op_view(r, in, c);
		break;
	case FZS_OP_REATTACH:
		op_reattach(r, in, c);
		break;
	case FZS_OP_RAW:
		op_raw(r, in, c);
		break;
	case FZS_OP_SHUTDOWN:
		op_shutdown(r, in, c);
		break;
	case FZS_OP_DISCONNECT:
		fzs_disconnect(r, c);
		break;
	case FZS_OP_COUNTER:
		op_counter(r, in, c);
		break;
	case FZS_OP_NS_WRITE:
		op_ns_write(r, in, c);
		break;
	case FZS_OP_SLEEP:
		op_sleep(r, in);
		break;
	case FZS_OP_RESTART:
		op_restart(r);
		break;
	case FZS_OP_BATCH:
		r->batch = fzs_u8(in) % 8;
		break;
	case FZS_OP_NO_READ:
		c->no_read = !c->no_read;
		c->may_drop = true;
		break;
	case FZS_OP_JUNK_FDS:
		op_junk_fds(r, in, c);
		break;
	default:
		break;
	}
}

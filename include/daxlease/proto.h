/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * proto.h - the daxleased wire protocol (docs/protocol.md is the prose).
 *
 * Transport: a Unix SOCK_SEQPACKET socket; one message per packet.  A
 * message is a struct dl_msg_hdr followed by `length` payload bytes.  All
 * integers are little-endian; every payload is a fixed-size struct, except
 * that READ/WRITE carry an iovec table and WRITE/READ-replies carry data
 * after it, and LIST replies carry an array of entries.  File descriptors
 * travel as SCM_RIGHTS ancillary data (MAP replies only, for now).
 *
 * Rules the service enforces (a violation gets an error reply, or for a
 * message it cannot even frame - short, oversized, bad magic - a
 * disconnect of that client only):
 *   - the first request is HELLO; it negotiates the version, and every
 *     later message carries the negotiated version;
 *   - request_id is chosen by the client and echoed in the reply; 0 is
 *     reserved for events (asynchronous messages from the service);
 *   - a reply's status is 0 or a negative errno (Linux values);
 *   - at most DL_PROTO_MAX_IOV iovecs per request (the block layer's
 *     limit), at most DL_PROTO_MAX_DATA data bytes per message, at most
 *     DL_PROTO_MAX_MSG bytes per message in all;
 *   - names are 1..255 bytes, NUL-padded in a 256-byte field, with no '/';
 *   - a reply too long for one message is paged: it carries a cursor,
 *     and the client asks again with it (LIST).
 */
#ifndef DAXLEASE_PROTO_H
#define DAXLEASE_PROTO_H

#include <stdint.h>

#define DL_PROTO_MAGIC 0x444c4150u	/* "PALD" on the wire: 50 41 4c 44 */
#define DL_PROTO_VERSION_MIN 1
#define DL_PROTO_VERSION_MAX 1

#define DL_PROTO_MAX_IOV 1024
#define DL_PROTO_MAX_DATA (64u * 1024)
#define DL_PROTO_MAX_MSG (DL_PROTO_MAX_DATA + 32u * 1024)
#define DL_PROTO_NAME_SIZE 256		/* 255 bytes + NUL */
#define DL_PROTO_LIST_MAX 128		/* entries per LIST reply */

enum dl_opcode {
	DL_OP_HELLO = 1,
	DL_OP_STATUS = 2,
	DL_OP_REATTACH = 3,		/* take over a lost connection's pins */
	DL_OP_OPEN = 10,
	DL_OP_CLOSE = 11,
	DL_OP_STAT = 12,
	DL_OP_LIST = 13,
	DL_OP_UNLINK = 14,
	DL_OP_RENAME = 15,
	DL_OP_READ = 16,
	DL_OP_WRITE = 17,
	DL_OP_FSYNC = 18,
	DL_OP_TRUNCATE = 19,
	DL_OP_FALLOCATE = 20,
	DL_OP_SETATTR = 21,
	DL_OP_MAP = 30,
	DL_OP_UNMAP = 31,
	DL_OP_PIN = 32,
	DL_OP_UNPIN = 33,
	DL_OP_BUSY = 40,		/* admin */
	DL_OP_BLOCKED = 41,		/* admin */
	DL_OP_QUARANTINE = 42,		/* admin */
	DL_OP_DIRTY = 43,		/* admin */
	DL_OP_BUSY_SUMMARY = 44,	/* admin: BUSY's totals */
	DL_OP_LEASE_ACQUIRE = 50,
	DL_OP_LEASE_RELEASE = 51,
	DL_OP_LEASE_QUERY = 52,		/* the caller's own leases */
	DL_OP_LEASES = 53,		/* admin: every lease */
	/* events (request_id 0), used from the leases issue on */
	DL_EV_LEASE_BREAK = 100,
	DL_EV_LEASE_REVOKED = 101,
};

/* dl_msg_hdr.flags */
#define DL_MSG_REPLY 0x1u	/* a reply to request_id */
#define DL_MSG_EVENT 0x2u	/* an event; request_id is 0 */

struct dl_msg_hdr {
	uint32_t magic;		/* DL_PROTO_MAGIC */
	uint16_t version;	/* HELLO: 0; after: the negotiated version */
	uint16_t opcode;	/* enum dl_opcode */
	uint32_t flags;		/* DL_MSG_* */
	uint32_t length;	/* payload bytes after this header */
	uint64_t request_id;	/* != 0 for requests and their replies */
	int32_t status;		/* replies: 0 or -errno; else 0 */
	uint32_t reserved;	/* 0 */
};
_Static_assert(sizeof(struct dl_msg_hdr) == 32, "wire header is 32 bytes");

/* ---- HELLO ------------------------------------------------------------- */

/* server flags */
#define DL_SRV_DAX_ALLOWED 0x1u	/* this client may map (gets the ns fd) */
#define DL_SRV_ADMIN 0x2u	/* this client may use admin requests */
#define DL_SRV_READ_ONLY 0x4u	/* as of this HELLO the service refuses
				 * every change (-EIO): its image was changed
				 * behind its back (docs/protocol.md, "What
				 * the namespace fd allows") */

struct dl_hello_req {
	uint16_t min_version;
	uint16_t max_version;
	uint32_t flags;		/* 0 */
	char client_name[32];	/* program name, for logs and admin views */
};

struct dl_hello_rep {
	uint16_t version;	/* chosen: the highest both support */
	uint16_t reserved0;
	uint32_t server_flags;	/* DL_SRV_* for this client */
	uint64_t ns_size;	/* namespace bytes */
	uint64_t ns_align;	/* 4 KiB, 2 MiB or 1 GiB */
	uint64_t ns_fd_offset;	/* offset of namespace byte 0 in the ns fd */
	uint32_t max_msg;	/* DL_PROTO_MAX_MSG */
	uint32_t max_data;	/* DL_PROTO_MAX_DATA */
	uint32_t max_iov;	/* DL_PROTO_MAX_IOV */
	uint32_t token;		/* this connection's, never 0: REATTACH gives
				 * it back to say whose pins it takes over */
	char server_version[32];
	char ns_name[64];
	uint8_t ns_uuid[16];
};

/* ---- REATTACH --------------------------------------------------------------
 *
 * A client whose connection was lost - its own shutdown, or a daxleased
 * that died and was started again - takes back what that connection held
 * (docs/pin-protocol.md, "Lifetimes").  Right after HELLO, a sequence of
 * REATTACH requests, each a dl_reattach_req and `count` entries:
 *
 *   BEGIN  the lost connection's token (its HELLO reply's); no entries.
 *          From now on this connection has that token, so the pin
 *          records of both are one.  Only before any file is opened or
 *          anything mapped, pinned or leased here (else -EBUSY).
 *   FILES  dl_reattach_file entries: handles re-created with the same
 *          values, access checked again (-ESTALE: the file is gone;
 *          -EACCES).
 *   TABLE  a lost table: SCM_RIGHTS [table memfd, counter memfd, wake
 *          eventfd] and its mappings as dl_reattach_map entries.  The
 *          same daemon knows it (the fds are only closed); a restarted
 *          one checks every entry against its pin records, then holds
 *          the blocks of counted entries until the counters drop
 *          (-ESTALE: not what was recorded).  Before sending it, the
 *          client stops pinning through those mappings (a seq_cst store
 *          of its own, see the pin protocol), so the counters it hands
 *          over only ever go down.
 *   PIN    one socket pin: a dl_reattach_pin entry and its nsegs
 *          dl_wire_seg after it (count 1).  Its id stays (-ESTALE: its
 *          blocks are not what was recorded for this process).
 *   END    no entries: what a restarted daemon held for the process
 *          from its records alone is released; the reply counts what was
 *          taken over (dl_reattach_rep).
 */
#define DL_REATTACH_BEGIN 1
#define DL_REATTACH_FILES 2
#define DL_REATTACH_TABLE 3
#define DL_REATTACH_PIN 4
#define DL_REATTACH_END 5
#define DL_REATTACH_NFDS 3

struct dl_reattach_req {
	uint32_t kind;		/* DL_REATTACH_* */
	uint32_t count;		/* entries that follow */
	uint32_t token;		/* BEGIN: the lost connection's */
	uint32_t reserved;
};

struct dl_reattach_file {
	uint64_t fh;		/* the value the lost connection gave */
	uint64_t ino;
	uint32_t generation;
	uint32_t flags;		/* DL_O_READ | DL_O_WRITE */
};

struct dl_reattach_map {
	uint64_t map_id;
	uint64_t ino;
	uint32_t generation;
	uint32_t prot;		/* DL_MAP_PROT_* */
	uint64_t offset, length;	/* the file range it was made for */
	uint64_t first_entry, nentries;
};

struct dl_reattach_pin {
	uint64_t pin_id;
	uint64_t ino;
	uint32_t generation;
	uint32_t flags;		/* DL_PIN_* */
	uint64_t offset, length;	/* the file range it was made for */
	uint32_t nsegs;		/* dl_wire_seg that follow, 1 .. SEGS_MAX */
	uint32_t reserved;
};

struct dl_reattach_rep {	/* END */
	uint32_t files;		/* handles re-created */
	uint32_t tables;	/* lost tables taken over */
	uint32_t maps;
	uint32_t pins;		/* socket pins */
	uint64_t counted;	/* entries whose counters still hold blocks */
};

/* ---- STATUS -------------------------------------------------------------- */

struct dl_status_rep {
	char server_version[32];
	uint64_t pid;
	uint64_t uptime_ns;
	uint32_t clients;	/* connections */
	uint32_t orphans;	/* clients without one whose process lives
				 * and holds pins */
	uint64_t ns_size;
	uint64_t ns_align;
	uint64_t blocks_total;
	uint64_t blocks_free;
	uint64_t files;
	uint64_t inodes_free;
	uint64_t transactions;
	uint64_t unsafe_shutdowns;
	char ns_name[64];
	char ns_path[256];
};

/* ---- files ----------------------------------------------------------------- */

/* dl_open_req.flags */
#define DL_O_READ 0x1u
#define DL_O_WRITE 0x2u
#define DL_O_CREATE 0x4u	/* create if missing (owner: the caller) */
#define DL_O_EXCL 0x8u		/* with CREATE: fail if it exists */
#define DL_O_TRUNC 0x10u	/* truncate to 0 (needs WRITE) */

struct dl_wire_stat {
	uint64_t ino;		/* inode number */
	uint32_t generation;
	uint32_t mode;		/* S_IFREG | permission bits */
	uint32_t uid;
	uint32_t gid;
	uint64_t size;
	uint64_t blocks;	/* 4 KiB blocks mapped */
	uint64_t extents;
	uint64_t layout_seq;
	int64_t atime_ns, mtime_ns, ctime_ns, btime_ns;
	char name[DL_PROTO_NAME_SIZE];
};

struct dl_open_req {
	uint32_t flags;		/* DL_O_* */
	uint32_t mode;		/* permission bits for CREATE */
	char name[DL_PROTO_NAME_SIZE];
};

struct dl_open_rep {
	uint64_t fh;		/* this connection's handle, never 0 */
	struct dl_wire_stat st;
};

struct dl_fh_req {		/* CLOSE, FSYNC */
	uint64_t fh;
};

struct dl_stat_req {
	uint64_t fh;		/* 0: look up `name` instead */
	char name[DL_PROTO_NAME_SIZE];
};

struct dl_list_req {
	uint64_t cursor;	/* 0 to start */
	uint32_t max;		/* <= DL_PROTO_LIST_MAX */
	uint32_t reserved;
};

struct dl_list_rep {		/* followed by `count` dl_wire_stat */
	uint64_t next_cursor;	/* 0: this was the last page */
	uint32_t count;
	uint32_t reserved;
};

struct dl_name_req {		/* UNLINK */
	char name[DL_PROTO_NAME_SIZE];
};

/* dl_rename_req.flags */
#define DL_RENAME_F_NOREPLACE 0x1u

struct dl_rename_req {
	uint32_t flags;
	uint32_t reserved;
	char from[DL_PROTO_NAME_SIZE];
	char to[DL_PROTO_NAME_SIZE];
};

struct dl_wire_iov {
	uint64_t offset;	/* file offset */
	uint32_t len;
	uint32_t reserved;
};

/*
 * READ:  dl_rw_req + niov dl_wire_iov; reply: dl_rw_rep + the bytes read,
 *        iovec after iovec (a short read stops at EOF).
 * WRITE: dl_rw_req + niov dl_wire_iov + the bytes, iovec after iovec;
 *        reply: dl_rw_rep.
 * The lengths add up to at most DL_PROTO_MAX_DATA.
 */
struct dl_rw_req {
	uint64_t fh;
	uint32_t niov;		/* 1 .. DL_PROTO_MAX_IOV */
	uint32_t reserved;
};

struct dl_rw_rep {
	uint64_t bytes;
};

/*
 * Busy policies of a layout change (TRUNCATE, FALLOCATE flags): what to do
 * when pins hold the range (docs/protocol.md, "Waiting for pins").  None:
 * wait until the last pin drops.  NONBLOCK: fail at once with -EBUSY and a
 * dl_blockers_rep.  DEADLINE: wait at most deadline_ms, then -ETIMEDOUT
 * with the file unchanged.
 */
#define DL_POLICY_NONBLOCK 0x1u
#define DL_POLICY_DEADLINE 0x2u

struct dl_truncate_req {
	uint64_t fh;
	uint64_t size;
	uint32_t flags;		/* DL_POLICY_* */
	uint32_t deadline_ms;	/* DEADLINE: > 0; else 0 */
};

struct dl_fallocate_req {
	uint64_t fh;
	uint32_t mode;		/* FALLOC_FL_* (Linux values) */
	uint32_t flags;		/* DL_POLICY_* */
	uint64_t offset;
	uint64_t length;
	uint32_t deadline_ms;	/* DEADLINE: > 0; else 0 */
	uint32_t reserved;
};

/* dl_setattr_req.valid */
#define DL_ATTR_MODE 0x1u
#define DL_ATTR_UID 0x2u
#define DL_ATTR_GID 0x4u

struct dl_setattr_req {
	uint64_t fh;
	uint32_t valid;
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
};

/* ---- mappings (see table.h) ------------------------------------------------- */

#define DL_MAP_PROT_READ 0x1u
#define DL_MAP_PROT_WRITE 0x2u

/* dl_map_rep.flags */
#define DL_MAP_FDS 0x1u		/* SCM_RIGHTS carries [table memfd, ns fd,
				 * counter memfd, wake eventfd] (table.h); the
				 * ns fd is read-only unless the MAP is for
				 * write */
#define DL_MAP_NS_RW 0x2u	/* SCM_RIGHTS carries [ns fd], read-write:
				 * the first write MAP after a read-only ns
				 * fd was sent */
#define DL_MAP_NFDS 4

struct dl_map_req {
	uint64_t fh;
	uint64_t offset;	/* file bytes; multiple of 4 KiB */
	uint64_t length;	/* multiple of 4 KiB; offset+length <= size */
	uint32_t prot;		/* DL_MAP_PROT_* */
	uint32_t reserved;
};

struct dl_map_rep {
	uint64_t map_id;
	uint64_t first_entry;	/* index of the mapping's first table entry */
	uint64_t nentries;	/* entries, in file order */
	uint32_t flags;		/* DL_MAP_* */
	uint32_t reserved;
};

struct dl_unmap_req {
	uint64_t map_id;
};

/* ---- pins ------------------------------------------------------------------- */

/* dl_pin_req.flags */
#define DL_PIN_WRITE 0x1u	/* make writable first; dirty on unpin */

struct dl_pin_req {
	uint64_t fh;
	uint64_t offset;	/* file bytes; multiple of 4 KiB */
	uint64_t length;	/* multiple of 4 KiB; offset+length <= size */
	uint32_t flags;		/* DL_PIN_* */
	uint32_t reserved;
};

/*
 * Where a pinned range's blocks are, in file order: the "DMA addresses"
 * (bytes from the namespace start), told only to a client with DAX
 * access (the others get UINT64_MAX, below).  A range of more than
 * DL_PROTO_PIN_SEGS_MAX extents is refused with -E2BIG: pin it in pieces.
 */
#define DL_PROTO_PIN_SEGS_MAX 256

struct dl_wire_seg {
	uint64_t ns_offset;	/* UINT64_MAX: a hole of a read pin (zeros),
				 * or any segment to a client without
				 * DL_SRV_DAX_ALLOWED (it holds no namespace
				 * fd: it reaches no block anyway) */
	uint64_t length;
};

struct dl_pin_rep {			/* always sent whole */
	uint64_t pin_id;
	uint32_t nsegs;		/* segments that follow, covering the range */
	uint32_t reserved;
	struct dl_wire_seg seg[DL_PROTO_PIN_SEGS_MAX];
};

struct dl_unpin_req {
	uint64_t pin_id;
};

/* A pin that holds up a layout change (the -EBUSY reply's payload). */
#define DL_PROTO_BLOCKERS_MAX 16

struct dl_wire_blocker {
	uint32_t pid;
	uint32_t uid;
	char comm[16];
	uint64_t pin_id;
	uint64_t offset;	/* file range pinned */
	uint64_t length;
	uint32_t write;		/* 1: a write pin */
	uint32_t flags;		/* DL_BLOCKER_* */
};

/* dl_wire_blocker.flags */
#define DL_BLOCKER_COUNTER 0x1u	/* lockless pins: pin_id is the table entry
				 * index, offset/length the entry's leaf */
#define DL_BLOCKER_CORRUPT 0x2u	/* its counter is negative or huge */
#define DL_BLOCKER_LEASE 0x4u	/* a lease (NONBLOCK layout changes, grants):
				 * pin_id is the lease id, write exclusive */
#define DL_BLOCKER_ORPHAN 0x8u	/* its client's connection is gone, its
				 * process lives: the pin stays until the
				 * process exits, unpins or re-attaches */
#define DL_BLOCKER_RESTORED 0x10u	/* held by a restarted daxleased for a
				 * process its pin records name (with
				 * ORPHAN): offset/length are a namespace
				 * range, pin_id the hold's */

struct dl_blockers_rep {
	uint32_t count;		/* entries that follow (<= BLOCKERS_MAX) */
	uint32_t total;		/* pins in the way, all of them */
	struct dl_wire_blocker b[DL_PROTO_BLOCKERS_MAX];
};

/* ---- admin views (paged like LIST: cursor 0 starts, 0 ends) ------------------ */

#define DL_PROTO_VIEW_MAX 64		/* entries per page */

struct dl_view_req {			/* BUSY, BLOCKED, QUARANTINE, DIRTY */
	uint64_t cursor;
	uint32_t max;			/* 1 .. DL_PROTO_VIEW_MAX */
	uint32_t reserved;
};

struct dl_view_rep {			/* followed by `count` entries */
	uint64_t next_cursor;
	uint32_t count;
	uint32_t reserved;
};

/* BUSY: one pin. */
struct dl_wire_busy {
	struct dl_wire_blocker pin;
	uint64_t ino;
	uint64_t ns_offset;	/* of the first pinned block; ~0: a hole */
	uint32_t level;		/* enum dl_leaf_level a mapping would use */
	uint32_t orphan_ms;	/* DL_BLOCKER_ORPHAN: ms since its connection
				 * went (saturates) */
	uint64_t age_ns;	/* lockless pins: since the service saw it */
	int64_t refs;		/* 1 for a socket pin; the counter's value */
	char name[DL_PROTO_NAME_SIZE];
};

/*
 * BUSY_SUMMARY (a dl_view_req with BUSY's cursor; max up to
 * DL_PROTO_BUSY_SUM_MAX): the pins of BUSY in the same order, added up
 * while they share a client and a file - one row per run, so a client's
 * pins of one file are a row or a few, and the reader adds rows up per
 * process and per file.  A page may hold fewer rows than asked (a page
 * looks at a bounded number of entries), even none, with a cursor.
 */
#define DL_PROTO_BUSY_SUM_MAX 256
struct dl_wire_busy_sum {
	uint32_t pid;
	uint32_t uid;
	char comm[16];
	uint64_t ino;		/* 0: counters no mapping owns */
	uint64_t pins;
	uint64_t lockless;	/* of them */
	uint64_t bytes;		/* their ranges' lengths, added */
	uint64_t oldest_ns;	/* the largest age_ns */
	char name[DL_PROTO_NAME_SIZE];
};

/* BLOCKED: one waiting request. */
struct dl_wire_blocked {
	uint64_t wait_id;
	uint32_t opcode;	/* the waiting request */
	uint32_t pid;
	uint32_t uid;
	char comm[16];
	uint32_t on_pins;	/* 1: waits for pins; 0: queued behind a change */
	uint64_t ino;
	uint64_t offset;	/* file range it needs */
	uint64_t length;	/* ~0: to the end */
	uint64_t age_ns;
	uint64_t deadline_ns;	/* left; 0: none */
	uint32_t npins;		/* pins it waits on (ids below, up to 8) */
	uint32_t on_leases;	/* 1: waits for leases being broken, and
				 * npins/pin_ids count and name those leases */
	uint64_t pin_ids[8];
};

/* DIRTY: a file range written through a write pin since it was recorded
 * (cursor: the last id). */
struct dl_wire_dirty {
	uint64_t id;
	uint64_t ino;
	uint64_t offset;
	uint64_t length;
};

/* QUARANTINE: one detached block range (cursor: ns_offset + 1 of the
 * last entry; entries in ns_offset order). */
struct dl_wire_quarantine {
	uint64_t ns_offset;
	uint64_t length;
	uint64_t tag;		/* the layout change that detached it */
	uint32_t npins;		/* pins holding any of it (ids below, up to 8) */
	uint32_t pid;		/* the first holder's process; 0: none */
	uint64_t pin_ids[8];
};

/* ---- leases (docs/protocol.md, "Leases") ---------------------------------- */

#define DL_LEASE_SHARED 1u
#define DL_LEASE_EXCLUSIVE 2u

/* dl_lease_req.flags: DL_POLICY_NONBLOCK only (-EBUSY and the holders) */

struct dl_lease_req {		/* LEASE_ACQUIRE */
	uint64_t fh;
	uint64_t offset;	/* multiple of 4 KiB */
	uint64_t length;	/* multiple of 4 KiB; 0: to the largest size */
	uint32_t type;		/* DL_LEASE_SHARED or DL_LEASE_EXCLUSIVE */
	uint32_t flags;		/* DL_POLICY_NONBLOCK or 0 */
	uint32_t break_timeout_ms;	/* 0: the service default */
	uint32_t reserved;
};

struct dl_lease_rep {
	uint64_t lease_id;
	uint32_t timeout_ms;	/* granted break timeout (capped) */
	uint32_t reserved;
};

struct dl_lease_release_req {
	uint64_t lease_id;
};

/* dl_wire_lease.state */
#define DL_LEASE_HELD 0u
#define DL_LEASE_BREAKING 1u
#define DL_LEASE_REVOKED 2u

/* LEASE_QUERY (own) and LEASES (admin): one lease; cursor: the last id. */
struct dl_wire_lease {
	uint64_t lease_id;
	uint32_t pid;		/* holder */
	uint32_t uid;
	char comm[16];
	uint64_t ino;
	uint64_t offset;
	uint64_t length;	/* UINT64_MAX: to the largest size */
	uint32_t type;		/* DL_LEASE_SHARED/EXCLUSIVE */
	uint32_t state;		/* DL_LEASE_HELD/BREAKING/REVOKED */
	uint32_t timeout_ms;
	uint32_t reserved;
	int64_t deadline_ns;	/* BREAKING: CLOCK_MONOTONIC; else 0 */
	uint64_t age_ns;
	char name[DL_PROTO_NAME_SIZE];	/* the file's, NUL-terminated */
};

/*
 * DL_EV_LEASE_BREAK and DL_EV_LEASE_REVOKED (request_id 0, DL_MSG_EVENT):
 * the lease, the layout change that breaks it and who asked for it.
 */
struct dl_ev_lease {
	uint64_t lease_id;
	uint32_t opcode;	/* the layout change (TRUNCATE, ...) */
	uint32_t pid;		/* who asked for it */
	uint32_t uid;
	char comm[16];
	uint32_t remaining_ms;	/* until the deadline, when sent */
	uint64_t ino;
	uint64_t offset;	/* the range the change affects */
	uint64_t length;	/* UINT64_MAX: to the end */
	int64_t deadline_ns;	/* CLOCK_MONOTONIC */
};

#endif

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libdaxlease.h - the client library of daxleased.
 *
 * ndctl-style: opaque objects, _new/_ref/_unref, every int function
 * returns 0 (or a count) or a negative errno, and the library prints
 * nothing.  A context is one connection; it is safe to use from several
 * threads, and their requests may be in flight at once (a truncate that
 * waits for pins does not stop another thread's unpin on the same
 * context).  When the connection is lost every call returns -ENOTCONN at
 * once, never hangs.
 */
#ifndef DAXLEASE_LIBDAXLEASE_H
#define DAXLEASE_LIBDAXLEASE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct daxlease_ctx;
struct daxlease_file;
struct daxlease_map;

/* $DAXLEASE_SOCKET, else $RUNTIME_DIRECTORY/daxleased.sock when set by
 * systemd, else for a user other than root with $XDG_RUNTIME_DIR set
 * $XDG_RUNTIME_DIR/daxlease/daxleased.sock (daxleased's own default for
 * such a user), else /run/daxlease/daxleased.sock. */
const char *daxlease_default_socket(void);

/* Connect to socket_path (NULL: the default) and say HELLO. */
int daxlease_new(struct daxlease_ctx **ctx, const char *socket_path);
struct daxlease_ctx *daxlease_ref(struct daxlease_ctx *ctx);
/* Drops a reference; the last one closes the connection. */
struct daxlease_ctx *daxlease_unref(struct daxlease_ctx *ctx);

/*
 * After the connection was lost - every call answers -ENOTCONN - take
 * back what it held on a new connection to the same socket: the daemon
 * kept this process's pins (its connection's going never frees them;
 * neither does a restart of daxleased, which holds what its pin records
 * say until the process re-attaches or exits).  Open files keep their
 * handles, socket pins their ids; mappings keep their lockless pins
 * (unpin them as usual) but take new pins through the socket, and new
 * mappings get a new table.  Leases are not taken back: the daemon
 * revoked them with the connection; acquire them again.  out (may be
 * NULL) counts what was taken back and what could not be.  0, -EISCONN
 * (the connection is not lost), -ESTALE (another namespace), or the
 * error of connecting (-ECONNREFUSED, -ENOENT: no daemon yet; -ENOTCONN:
 * the new connection was lost too, as to a daemon going down): try again
 * later.  Other threads' calls answer -ENOTCONN until it returns.
 */
struct daxlease_reattached {
	unsigned files, files_lost;	/* handles re-created / not */
	unsigned maps, maps_lost;	/* mappings whose table was taken back */
	unsigned pins, pins_lost;	/* socket pins */
	uint64_t counted;		/* lockless pins' entries still held */
};
int daxlease_reconnect(struct daxlease_ctx *ctx,
		       struct daxlease_reattached *out);

struct daxlease_info {
	uint32_t protocol_version;
	uint32_t server_flags;		/* DL_SRV_* of proto.h; with
					 * DL_SRV_READ_ONLY the service refused
					 * every change (-EIO) when we
					 * connected: its image was changed
					 * behind its back (daxleased(8)) */
	uint64_t ns_size;
	uint64_t ns_align;
	char server_version[32];
	char ns_name[64];
	uint8_t ns_uuid[16];
};
void daxlease_get_info(const struct daxlease_ctx *ctx,
		       struct daxlease_info *out);

struct daxlease_status {
	char server_version[32];
	uint64_t pid;
	uint64_t uptime_ns;
	uint32_t clients;		/* connections */
	uint32_t orphans;		/* pinners whose connection is gone */
	uint64_t ns_size, ns_align;
	uint64_t blocks_total, blocks_free;
	uint64_t files, inodes_free, transactions, unsafe_shutdowns;
	char ns_name[64];
	char ns_path[256];
};
int daxlease_status(struct daxlease_ctx *ctx, struct daxlease_status *out);

struct daxlease_stat {
	uint64_t ino;
	uint32_t generation;
	uint32_t mode, uid, gid;
	uint64_t size;
	uint64_t blocks;	/* 4 KiB blocks mapped */
	uint64_t extents;
	uint64_t layout_seq;
	int64_t atime_ns, mtime_ns, ctime_ns, btime_ns;
	char name[256];
};

/* ---- files ------------------------------------------------------------- */

#define DAXLEASE_O_READ 0x1u
#define DAXLEASE_O_WRITE 0x2u
#define DAXLEASE_O_CREATE 0x4u
#define DAXLEASE_O_EXCL 0x8u
#define DAXLEASE_O_TRUNC 0x10u

int daxlease_open(struct daxlease_ctx *ctx, const char *name, unsigned flags,
		  unsigned mode, struct daxlease_file **out);
/* Closes the handle (also on error) and frees f. */
int daxlease_close(struct daxlease_file *f);
int daxlease_fstat(struct daxlease_file *f, struct daxlease_stat *out);
int daxlease_stat(struct daxlease_ctx *ctx, const char *name,
		  struct daxlease_stat *out);
/* One page of the file list: *cursor starts at 0 and is 0 again after
 * the last page; returns the number of entries stored (<= max). */
int daxlease_list(struct daxlease_ctx *ctx, uint64_t *cursor,
		  struct daxlease_stat *out, size_t max);
int daxlease_unlink(struct daxlease_ctx *ctx, const char *name);
#define DAXLEASE_RENAME_NOREPLACE 0x1u
int daxlease_rename(struct daxlease_ctx *ctx, const char *from,
		    const char *to, unsigned flags);

/* Any length: split into requests of at most the server's data limit. */
ssize_t daxlease_pread(struct daxlease_file *f, void *buf, size_t len,
		       uint64_t offset);
ssize_t daxlease_pwrite(struct daxlease_file *f, const void *buf, size_t len,
			uint64_t offset);

struct daxlease_iovec {
	void *base;
	size_t len;
	uint64_t offset;	/* file offset of this piece */
};
/* Vectored: at most 1024 iovecs, sent as one request when they fit. */
ssize_t daxlease_preadv(struct daxlease_file *f,
			const struct daxlease_iovec *iov, int niov);
ssize_t daxlease_pwritev(struct daxlease_file *f,
			 const struct daxlease_iovec *iov, int niov);

int daxlease_fsync(struct daxlease_file *f);
int daxlease_truncate(struct daxlease_file *f, uint64_t size);
/* mode: FALLOC_FL_* from <linux/falloc.h>, Linux rules and errnos. */
int daxlease_fallocate(struct daxlease_file *f, int mode, uint64_t offset,
		       uint64_t length);
#define DAXLEASE_ATTR_MODE 0x1u
#define DAXLEASE_ATTR_UID 0x2u
#define DAXLEASE_ATTR_GID 0x4u
int daxlease_setattr(struct daxlease_file *f, unsigned valid, unsigned mode,
		     unsigned uid, unsigned gid);

/* ---- mappings: direct access to the file's blocks ------------------------ */

#define DAXLEASE_PROT_READ 0x1u
#define DAXLEASE_PROT_WRITE 0x2u

/*
 * Map [offset, offset+length) of f (4 KiB multiples, inside the file):
 * the service allocates holes first for a write mapping, then the library
 * maps each leaf of the namespace at its place in one contiguous virtual
 * range (PMD/PUD leaves at 2 MiB/1 GiB-aligned addresses).  Needs DAX
 * access (DL_SRV_DAX_ALLOWED): -EACCES otherwise.
 */
int daxlease_map(struct daxlease_file *f, uint64_t offset, uint64_t length,
		 unsigned prot, struct daxlease_map **out);
void *daxlease_map_addr(const struct daxlease_map *m);
uint64_t daxlease_map_length(const struct daxlease_map *m);
/* Leaves of each size in the mapping (for tests and tools). */
void daxlease_map_leaves(const struct daxlease_map *m, uint64_t *pte,
			 uint64_t *pmd, uint64_t *pud);
/* Make stores through a write mapping durable (the library's pmem2
 * persist on a DAX device, msync on a fake NVDIMM). */
int daxlease_map_persist(struct daxlease_map *m, uint64_t offset,
			 uint64_t length);
/* Unmaps and frees m (but for -EBUSY: lockless pins hold it).  With the
 * connection lost it answers 0: m has no pin, and the daemon's side of it
 * goes with the lost connection. */
int daxlease_unmap(struct daxlease_map *m);

/* ---- pins and layout policies ------------------------------------------- */

/*
 * Pin [offset, offset+length) of f (4 KiB multiples, inside the file) for
 * "DMA": layout changes of the range wait until it is unpinned (or fail,
 * by their policy); a pin taken without write access to the file (a
 * read-only handle of another's file) holds them up only until the
 * caller's lease deadline, then keeps its blocks in quarantine.
 * DAXLEASE_PIN_WRITE first makes the range writable and marks it dirty
 * when it is unpinned.  A pin belongs to the process, not the connection:
 * it outlives a lost connection and a restart of daxleased, and goes when
 * it is unpinned (daxlease_reconnect() first, after a lost connection) or
 * when the process exits.
 */
#define DAXLEASE_PIN_WRITE 0x1u
int daxlease_pin(struct daxlease_file *f, uint64_t offset, uint64_t length,
		 unsigned flags, uint64_t *pin_id);
int daxlease_unpin(struct daxlease_ctx *ctx, uint64_t pin_id);

/*
 * The lockless pin path.  daxlease_map_pin() pins [offset, offset+length)
 * of the file (4 KiB multiples, inside m's range; all or nothing).  While
 * m's entries for the range are valid it never talks to the service: per
 * entry, an atomic increment of this client's counter (a full fence),
 * then a re-read of every entry used (docs/pin-protocol.md).  If
 * any changed - a layout change got there first - it undoes its counts
 * and pins through the socket instead (daxlease_pin), which waits for the
 * change to finish.  DAXLEASE_PIN_WRITE needs a write mapping.
 *
 * "DMA" goes where daxlease_pin_dma() says, as a NIC writes to the pages
 * get_user_pages() returned: into the library's mapping of the whole
 * namespace, never through m's address, which a layout change leaves
 * stale.  Unpin before unmapping m: daxlease_unmap() fails with -EBUSY
 * while it has lockless pins.  Thread-safe: any number of threads may pin
 * and unpin on one mapping.
 */
#define DAXLEASE_PINNED_FAST 0x100u	/* pin->flags: through the counters */

struct daxlease_pin {		/* filled by daxlease_map_pin(); opaque */
	struct daxlease_map *map;
	uint64_t offset, length;
	uint64_t first_entry;		/* lockless: the counters it holds */
	uint32_t nentries;
	uint32_t flags;			/* DAXLEASE_PIN_WRITE, _PINNED_FAST */
	uint64_t pin_id;		/* socket path: the service's pin */
	void *segs;			/* socket path: where its blocks are */
	uint32_t nsegs;
	uint32_t reserved0;
	uint64_t reserved[2];
};

int daxlease_map_pin(struct daxlease_map *m, uint64_t offset, uint64_t length,
		     unsigned flags, struct daxlease_pin *pin);
int daxlease_map_unpin(struct daxlease_pin *pin);
/*
 * The namespace address of file byte `offset` inside the pin, and in
 * *contig how many bytes from there are contiguous on the namespace (to
 * the end of the pin at most).  NULL with errno: ERANGE outside the pin,
 * ENODATA in a hole of a read pin (it reads as zeros), or the error of
 * mapping the namespace (done once per context, on first use).
 */
void *daxlease_pin_dma(const struct daxlease_pin *pin, uint64_t offset,
		       uint64_t *contig);

/* What this context's pins did (counts since it was created). */
struct daxlease_pin_stats {
	uint64_t fast;		/* lockless pins */
	uint64_t backoffs;	/* lockless tries undone by a re-read */
	uint64_t slow;		/* pins through the socket */
	uint64_t wakeups;	/* unpins that woke the service */
};
void daxlease_get_pin_stats(struct daxlease_ctx *ctx,
			    struct daxlease_pin_stats *out);

/* A pin that holds up a layout change. */
struct daxlease_blocker {
	int pid;
	unsigned uid;
	char comm[16];
	uint64_t pin_id;
	uint64_t offset, length;
	bool write;
	bool lockless;		/* counter pins: pin_id is the table entry */
	bool corrupt;		/* its counter is negative or huge */
	bool lease;		/* a lease: pin_id is its id, write exclusive */
	bool orphaned;		/* its connection is gone, its process lives:
				 * held until the process exits, unpins
				 * (lockless) or re-attaches */
	bool restored;		/* held by a restarted daemon from its pin
				 * records (with orphaned): offset/length
				 * are a namespace range */
};

/*
 * How a truncate or fallocate treats pins in its way: wait (flags 0),
 * fail at once with -EBUSY and the blockers (NONBLOCK; up to max of them
 * in blockers, all counted in *nblockers), or wait at most deadline_ms
 * and fail with -ETIMEDOUT, the file unchanged (DEADLINE).
 */
#define DAXLEASE_POLICY_NONBLOCK 0x1u
#define DAXLEASE_POLICY_DEADLINE 0x2u
struct daxlease_policy {
	unsigned flags;
	unsigned deadline_ms;
	struct daxlease_blocker *blockers;	/* out, may be NULL */
	size_t max;
	size_t nblockers;			/* out */
};
int daxlease_truncate_policy(struct daxlease_file *f, uint64_t size,
			     struct daxlease_policy *p);
int daxlease_fallocate_policy(struct daxlease_file *f, int mode,
			      uint64_t offset, uint64_t length,
			      struct daxlease_policy *p);

/* ---- layout leases and events (docs/protocol.md, "Leases") --------------- */

/*
 * A lease on [offset, offset+length) of f (4 KiB multiples; length 0: to
 * the largest file size): shared, or exclusive of every other client's.
 * A conflicting acquire waits; with a policy of DAXLEASE_POLICY_NONBLOCK
 * it fails at once with -EBUSY and the holders in p->blockers (pin_id is
 * then the lease id, write the exclusive bit).  timeout_ms is the break
 * timeout asked for (0: the service default; the service caps it).
 * A layout change of the range breaks the lease: the holder gets a
 * DAXLEASE_EVENT_LEASE_BREAK, should unmap and release it, and is
 * revoked (DAXLEASE_EVENT_LEASE_REVOKED) at the deadline otherwise.
 * An exclusive lease needs write access to the file (f opened for
 * writing, or the caller owns it, or is root), as F_SETLEASE's F_WRLCK
 * does: -EACCES otherwise.  A pin taken without write access holds
 * layout changes up only until that deadline (docs/protocol.md,
 * "Readers' pins").
 */
#define DAXLEASE_LEASE_SHARED 1u
#define DAXLEASE_LEASE_EXCLUSIVE 2u
int daxlease_lease_acquire(struct daxlease_file *f, uint64_t offset,
			   uint64_t length, unsigned type,
			   unsigned timeout_ms, uint64_t *lease_id);
int daxlease_lease_acquire_policy(struct daxlease_file *f, uint64_t offset,
				  uint64_t length, unsigned type,
				  unsigned timeout_ms,
				  struct daxlease_policy *p,
				  uint64_t *lease_id);
/* Return a lease (held, breaking or revoked). */
int daxlease_lease_release(struct daxlease_ctx *ctx, uint64_t lease_id);

#define DAXLEASE_LEASE_HELD 0u
#define DAXLEASE_LEASE_BREAKING 1u
#define DAXLEASE_LEASE_REVOKED 2u
struct daxlease_lease {
	uint64_t lease_id;
	int pid;		/* holder */
	unsigned uid;
	char comm[16];
	uint64_t ino;
	uint64_t offset, length;	/* UINT64_MAX length: to the end */
	unsigned type;		/* DAXLEASE_LEASE_SHARED/EXCLUSIVE */
	unsigned state;		/* DAXLEASE_LEASE_HELD/BREAKING/REVOKED */
	unsigned timeout_ms;
	int64_t deadline_ns;	/* BREAKING: CLOCK_MONOTONIC; else 0 */
	uint64_t age_ns;
	char name[256];		/* the file's */
};
/* The caller's own leases, one page (cursor as for the admin views). */
int daxlease_lease_query(struct daxlease_ctx *ctx, uint64_t *cursor,
			 struct daxlease_lease *out, size_t max);
/* Admin: every client's leases. */
int daxlease_leases(struct daxlease_ctx *ctx, uint64_t *cursor,
		    struct daxlease_lease *out, size_t max);

#define DAXLEASE_EVENT_LEASE_BREAK 100u
#define DAXLEASE_EVENT_LEASE_REVOKED 101u
struct daxlease_event {
	unsigned type;		/* DAXLEASE_EVENT_* */
	uint64_t lease_id;
	unsigned opcode;	/* the layout change (proto.h DL_OP_*) */
	int pid;		/* who asked for it */
	unsigned uid;
	char comm[16];
	uint64_t ino;
	uint64_t offset, length;	/* the range it changes */
	int64_t deadline_ns;	/* CLOCK_MONOTONIC */
	unsigned remaining_ms;	/* when the service sent it */
};
/* The connection's socket: readable when something may have arrived
 * (poll it, then call daxlease_next_event with timeout 0). */
int daxlease_get_event_fd(struct daxlease_ctx *ctx);
/*
 * The next event: 1 and *out, 0 when none came within timeout_ms (0:
 * do not wait; -1: wait for ever), or -errno (-ENOTCONN: the connection
 * is gone).  Safe while other threads have calls in flight on ctx.
 */
int daxlease_next_event(struct daxlease_ctx *ctx,
			struct daxlease_event *out, int timeout_ms);

/* ---- admin views (root or the admin group; pages with a cursor) ---------- */

struct daxlease_busy {
	struct daxlease_blocker pin;
	uint64_t ino;
	char name[256];
	uint64_t ns_offset;	/* UINT64_MAX: not allocated */
	unsigned level;		/* 0 PTE, 1 PMD, 2 PUD */
	unsigned orphan_ms;	/* pin.orphaned: ms since the connection went */
	uint64_t age_ns;
	int64_t refs;		/* 1 for a socket pin; a counter's value */
};
struct daxlease_blocked {
	uint64_t wait_id;
	unsigned opcode;	/* the waiting request (proto.h DL_OP_*) */
	int pid;
	unsigned uid;
	char comm[16];
	bool on_pins;		/* else queued behind another change */
	bool on_leases;		/* waits for leases being broken: pin_ids
				 * and npins are then those lease ids */
	uint64_t ino;
	uint64_t offset, length;
	uint64_t age_ns;
	uint64_t deadline_ns;	/* left; 0: none */
	unsigned npins;
	uint64_t pin_ids[8];
};
/* One page: *cursor starts at 0 and is 0 again after the last page;
 * returns the entries stored (<= max) or -errno. */
int daxlease_busy(struct daxlease_ctx *ctx, uint64_t *cursor,
		  struct daxlease_busy *out, size_t max);
int daxlease_blocked(struct daxlease_ctx *ctx, uint64_t *cursor,
		     struct daxlease_blocked *out, size_t max);

/*
 * The pins of daxlease_busy() added up, for an admin's first look at a
 * busy machine: one row per run of pins of one client and one file, in
 * BUSY's order (so a client's pins of a file are one row or a few; add
 * rows up by pid or by ino).  Pages as daxlease_busy() does, up to 256
 * rows a page.
 */
struct daxlease_busy_sum {
	int pid;
	unsigned uid;
	char comm[16];
	uint64_t ino;		/* 0: counters no mapping owns */
	char name[256];		/* the file's */
	uint64_t pins;
	uint64_t lockless;	/* of them */
	uint64_t bytes;		/* their lengths, added */
	uint64_t oldest_ns;	/* the largest age */
};
int daxlease_busy_summary(struct daxlease_ctx *ctx, uint64_t *cursor,
			  struct daxlease_busy_sum *out, size_t max);

/* Blocks a layout change detached while pins held them (--detach). */
struct daxlease_quarantine {
	uint64_t ns_offset, length;
	uint64_t tag;
	unsigned npins;		/* pins holding any of it; 0: being released */
	int pid;		/* the first holder's process */
	uint64_t pin_ids[8];
};
int daxlease_quarantine(struct daxlease_ctx *ctx, uint64_t *cursor,
			struct daxlease_quarantine *out, size_t max);

/* File ranges written through write pins (recorded when they unpin). */
struct daxlease_dirty {
	uint64_t ino;
	uint64_t offset, length;
};
int daxlease_dirty(struct daxlease_ctx *ctx, uint64_t *cursor,
		   struct daxlease_dirty *out, size_t max);

#ifdef __cplusplus
}
#endif

#endif

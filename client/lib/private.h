/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * private.h - what the files of libdaxlease share.
 *
 * ctx.c      the context: connect, references
 * hello.c    the HELLO exchange (version, limits)
 * status.c   STATUS
 * transport.c one request/reply round trip (the only code that touches
 *            the socket), fds over SCM_RIGHTS, the dead-connection rule
 * events.c   events that arrive while a caller waits for its reply
 * files.c    open/close/stat/unlink/rename/fsync/truncate/...
 * list.c     the paged file list
 * io.c       pread/pwrite and the vectored forms, split to the limits
 * table.c    the per-client mapping table (read-only shared memory)
 * map.c      mappings: entries of the table become mmaps of the ns fd
 * counters.c the per-client pin counter region and the wake eventfd
 * pinfast.c  daxlease_map_pin/unpin: the lockless path, socket fallback
 * pindma.c   the whole-namespace mapping and daxlease_pin_dma
 * pinstats.c per-thread pin statistics, summed on read
 * reconnect.c daxlease_reconnect: a new connection takes over a lost one
 *
 * Nothing here prints; every int function returns 0 or a negative errno.
 */
#ifndef DAXLEASE_PRIVATE_H
#define DAXLEASE_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <daxlease/libdaxlease.h>
#include <daxlease/proto.h>
#include <daxlease/table.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "libdaxlease speaks the little-endian wire format natively"
#endif

#define DAXLEASE_EXPORT __attribute__((visibility("default")))

/* Events kept for a later reader; past this the oldest is dropped. */
#define DL_EVENT_QUEUE_MAX 256
/* SCM_RIGHTS fds a reply may carry (MAP: DL_MAP_NFDS of them). */
#define DL_MAX_FDS 4
_Static_assert(DL_MAP_NFDS <= DL_MAX_FDS, "a MAP reply's fds fit");

struct dl_pending;
struct dl_stat_slot;
struct dl_spin;

/*
 * One connection's table, counter region and wake eventfd (table.h).  A
 * mapping keeps the one it was made on: after a reconnect its counters
 * still hold the pins taken through it, and the new connection gets
 * tables of its own.  Never changes once installed.
 */
struct dl_tgen {
	struct dl_tgen *next;		/* ctx->gens, under map_lock */
	int refs;			/* under map_lock: current + mappings */
	int table_fd, counters_fd, wake_fd;
	const void *table;		/* PROT_READ, MAP_SHARED */
	size_t table_size;
	uint64_t table_entries;
	struct dl_counters_hdr *counters_hdr;
	struct dl_pin_counter *counters;	/* [table_entries] */
	size_t counters_size;
};

struct dl_event {
	struct dl_event *next;
	uint16_t opcode;
	uint32_t length;
	uint8_t payload[];
};

struct daxlease_ctx {
	int refcount;			/* atomic */
	int dead;			/* atomic: 0, or the connection is gone */
	int sock;

	/*
	 * Round trips overlap: the service may hold a request (a truncate
	 * waiting for a pin) while it answers others, such as the UNPIN it
	 * waits for.  Each call registers under lock, sends under send_lock,
	 * and then either receives (one reader at a time: it hands every
	 * reply to the call with its request id) or waits on cond.
	 */
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* a reply was handed out, or a reader left */
	uint64_t next_id;		/* under lock */
	struct dl_pending *pending;	/* under lock: calls waiting for replies */
	bool reading;			/* under lock: a thread owns rxbuf */
	pthread_mutex_t send_lock;	/* txbuf and send */
	uint8_t *txbuf, *rxbuf;
	size_t bufsize;

	struct dl_event *ev_head, *ev_tail;	/* under lock */
	unsigned nevents;
	uint64_t events_dropped;

	uint16_t version;		/* negotiated */
	struct dl_hello_rep hello;

	/* The table install, and the fields below.  Never held across a
	 * round trip: a MAP may wait in the service behind a layout change
	 * that waits for a pin another thread of ours must drop, and that
	 * thread may need map_lock (pin statistics, the DMA mapping).
	 * Order: map_lock before lock and send_lock (never both of those). */
	pthread_mutex_t map_lock;
	pthread_cond_t map_cond;	/* the table installed, or failed */
	char *socket_path;		/* where daxlease_reconnect goes */
	/* a reconnect is under way: other threads' calls see -ENOTCONN
	 * until it is done (its own go through) */
	int reconnecting;		/* atomic */
	pthread_t reconnector;
	/* test hook (DAXLEASE_TEST_PIN_WINDOW_US): sleep this long between
	 * a lockless pin's first read and its increments, so a torture run
	 * on 2 cores sees the race the re-read closes; 0 in real use */
	unsigned pin_window_us;
	bool table_failed;		/* the first MAP's fds were unusable */
	/* this connection's table: NULL until its first MAP reply */
	struct dl_tgen *gen;
	struct dl_tgen *gens;		/* every one a mapping still uses */
	uint64_t epoch;			/* connections so far (reconnects) */
	int ns_fd;			/* -1 until the first MAP reply ever */
	/* ns_fd is read-write: from the first MAP for write on.  The fd
	 * number never changes; a read-write fd that comes later is put
	 * in its place (table.c), so a thread that read ns_fd maps the
	 * same file through either */
	bool ns_rw;
	/* what a reconnect hands over (under map_lock) */
	struct daxlease_file *files;
	struct daxlease_map *maps;
	struct dl_spin *spins;		/* socket pins */
	/* the whole namespace for daxlease_pin_dma: created once, under
	 * map_lock, published with a release store (pindma.c) */
	uint8_t *ns_map;
	size_t ns_map_size;
	bool ns_map_rw;			/* atomic: ns_map is writable */
	uint8_t *ns_map_old;		/* the read-only one a writable one
					 * replaced: kept, its DMA addresses
					 * stay good */

	/* pin statistics: one slot per thread (pinstats.c) */
	uint64_t serial;		/* unique for the process's lifetime */
	struct dl_stat_slot *stat_slots;	/* under map_lock */
};

struct daxlease_file {
	struct daxlease_ctx *ctx;	/* a reference */
	uint64_t fh;
	uint64_t ino;			/* what a reconnect re-opens */
	uint32_t generation;
	uint32_t flags;			/* DL_O_READ | DL_O_WRITE */
	/* atomic: 1 + the connection epoch of the first write not fsync'ed
	 * yet, 0 if none - the daemon commits writes in groups, so writes
	 * made before a lost connection may be lost with it (sync.c) */
	uint64_t unsynced;
	struct daxlease_file *prev, *next;	/* ctx->files */
};

/* sync.c: what fsync and close must report about writes */
/* The current connection epoch (ctx->epoch, under map_lock). */
uint64_t dl_epoch(struct daxlease_ctx *ctx);
/* n > 0 bytes were written through f during epoch. */
void dl_sync_wrote(struct daxlease_file *f, uint64_t epoch);
/* FSYNC or CLOSE answered rc: rc, or -EIO once if writes made on an
 * earlier connection may have been lost with it. */
int dl_sync_result(struct daxlease_file *f, int rc);

/* A socket pin, as a reconnect describes it to the new daemon. */
struct dl_spin {
	struct dl_spin *next;
	uint64_t pin_id;
	uint64_t ino;
	uint32_t generation;
	uint32_t flags;			/* DL_PIN_* */
	uint64_t offset, length;
	uint32_t nsegs;
	struct dl_wire_seg segs[];
};

struct daxlease_map {
	struct daxlease_ctx *ctx;	/* a reference */
	struct dl_tgen *gen;		/* the table it was made on (a ref) */
	struct daxlease_map *prev, *next;	/* ctx->maps */
	/*
	 * Set (seq_cst) by a reconnect before it hands the table back: the
	 * lockless pin loads it after its increments, so either the new
	 * daemon reads our count or we see this and back off.  A lost
	 * table's entries may stay valid for ever (no one can invalidate
	 * them), so this is what stops pins through it.
	 */
	int lost;
	uint64_t map_id;
	uint8_t *addr;			/* NULL once munmapped */
	uint64_t offset;		/* file offset of addr */
	uint64_t length;
	uint64_t leaves[3];		/* by enum dl_leaf_level */
	uint64_t fh;			/* the handle it was made through:
					 * the socket pin fallback uses it */
	uint64_t ino;			/* its file, for a reconnect */
	uint32_t generation;
	bool writable;

	/*
	 * What the lockless pin needs to find the entries of a file range
	 * in O(1) (all leaves one size) or O(log n) (leaf_off), recorded at
	 * map time: the entries tile [offset, offset+length) in file order
	 * and a mapping's entries are never refilled.
	 */
	uint64_t first_entry, nentries;
	const struct dl_table_entry *entries;	/* the first one */
	struct dl_pin_counter *counters;	/* the first one's counter */
	unsigned leaf_shift;		/* log2 of the leaf size, or 0: */
	uint64_t *leaf_off;		/* mixed sizes: each leaf's offset */
	unsigned pin_window_us;		/* the context's test hook, copied
					 * here: the pin reads no ctx line */
};

/* The index in m (not in the table) of the leaf holding file byte off. */
static inline uint64_t dl_map_leaf_index(const struct daxlease_map *m,
					 uint64_t off)
{
	uint64_t lo = 0, hi = m->nentries - 1, mid;

	if (m->leaf_shift)
		return (off - m->offset) >> m->leaf_shift;
	while (lo < hi) {	/* the last leaf starting at or before off */
		mid = lo + (hi - lo + 1) / 2;
		if (m->leaf_off[mid] <= off)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* File offset of leaf i of m. */
static inline uint64_t dl_map_leaf_offset(const struct daxlease_map *m,
					  uint64_t i)
{
	return m->leaf_shift ? m->offset + (i << m->leaf_shift)
			     : m->leaf_off[i];
}

/*
 * One round trip.  The request payload is the concatenation of req_iov;
 * the reply payload is scattered over rep_iov, and must be between
 * rep_min and the total of rep_iov bytes long (an error reply may carry
 * no payload).  fds (up to nfds_max) received with the reply are stored
 * in fds and counted in *nfds; the caller owns them.
 */
struct dl_call {
	uint16_t opcode;
	const struct iovec *req_iov;
	int req_niov;
	const struct iovec *rep_iov;
	int rep_niov;
	size_t rep_min;
	size_t rep_len;			/* out: payload bytes received */
	bool error_payload;		/* an error reply may carry one too */
	int *fds;
	int nfds_max;
	int nfds;			/* out */
	const int *send_fds;		/* SCM_RIGHTS with the request */
	int nsend_fds;
};

/* transport.c */
int dl_call(struct daxlease_ctx *ctx, struct dl_call *call);
/* The same with a fixed-size request and a fixed-size reply (or none). */
int dl_call_simple(struct daxlease_ctx *ctx, uint16_t opcode,
		   const void *req, size_t req_len, void *rep, size_t rep_len);
/*
 * Under ctx->lock with no reader: become the reader for one packet
 * arriving within timeout_ms (-1: for ever) and hand it out (a reply to
 * its caller, an event to the queue).  1: one handled; 0: none came;
 * -errno: the connection failed.
 */
int dl_receive_one(struct daxlease_ctx *ctx, int timeout_ms);
/* Mark the connection dead (shutdown; later calls get -ENOTCONN). */
void dl_kill(struct daxlease_ctx *ctx);
static inline bool dl_is_dead(struct daxlease_ctx *ctx)
{
	return __atomic_load_n(&ctx->dead, __ATOMIC_ACQUIRE) != 0;
}

/* events.c (callers hold ctx->lock) */
void dl_event_queue(struct daxlease_ctx *ctx, const struct dl_msg_hdr *hdr,
		    const void *payload);
void dl_event_free_all(struct daxlease_ctx *ctx);

/* hello.c */
int dl_hello(struct daxlease_ctx *ctx);

/* ctx.c: a SOCK_SEQPACKET connection to path; the fd or -errno */
int dl_connect(const char *path);

/* files.c */
int dl_copy_name(char dst[DL_PROTO_NAME_SIZE], const char *name);
void dl_stat_from_wire(struct daxlease_stat *out,
		       const struct dl_wire_stat *w);

/* pin.c */
void dl_blocker_from_wire(struct daxlease_blocker *out,
			  const struct dl_wire_blocker *w);
/* An -EBUSY reply's blockers (pins, leases), into the caller's policy. */
void dl_policy_take_blockers(struct daxlease_policy *p,
			     const struct dl_blockers_rep *b, size_t len);
/*
 * A socket pin made by daxlease_map_pin keeps a context reference of its
 * own in the opaque struct's reserved space: unlike a lockless pin it
 * does not stop daxlease_unmap, so it must not need pin->map afterwards.
 */
static inline void dl_pin_set_ctx(struct daxlease_pin *pin,
				  struct daxlease_ctx *ctx)
{
	pin->reserved[0] = (uint64_t)(uintptr_t)ctx;
}

static inline struct daxlease_ctx *dl_pin_ctx(const struct daxlease_pin *pin)
{
	return (struct daxlease_ctx *)(uintptr_t)pin->reserved[0];
}

/* A PIN round trip; rep is DL_PROTO_PIN_SEGS_MAX segments big.  The
 * pin is remembered for a reconnect (ino and generation: its file's). */
int dl_pin_call(struct daxlease_ctx *ctx, uint64_t fh, uint64_t ino,
		uint32_t generation, uint64_t offset, uint64_t length,
		unsigned flags, struct dl_pin_rep *rep);
/* A socket pin is gone: forget it. */
void dl_spin_forget(struct daxlease_ctx *ctx, uint64_t pin_id);
void dl_spins_free(struct daxlease_ctx *ctx);

/* map.c */
/*
 * Reserve (PROT_NONE) length bytes at an address congruent to phase
 * modulo align (a power of two), the slack given back; NULL: no room.
 */
uint8_t *dl_reserve_aligned(uint64_t length, uint64_t align, uint64_t phase);

/* counters.c */
int dl_counters_install(struct dl_tgen *g, int counters_fd);
void dl_counters_release(struct dl_tgen *g);
/*
 * Drop one lockless reference on each of n counters of g from first (a
 * table index); an unpin that takes one to zero while the service waits
 * for them writes g's wake eventfd, once.  ctx: for the statistics.
 */
void dl_counters_put(struct daxlease_ctx *ctx, struct dl_tgen *g,
		     uint64_t first, uint64_t n);

/* pindma.c */
void dl_ns_map_release(struct daxlease_ctx *ctx);

/* pinstats.c */
enum dl_pin_stat {
	DL_STAT_FAST, DL_STAT_BACKOFFS, DL_STAT_SLOW, DL_STAT_WAKEUPS,
	DL_STAT_NR
};
void dl_stat_inc(struct daxlease_ctx *ctx, enum dl_pin_stat which);
uint64_t dl_ctx_serial_next(void);
void dl_stats_release(struct daxlease_ctx *ctx);

/* table.c (callers hold ctx->map_lock, but for dl_ns_fd) */
/* Takes the DL_MAP_NFDS fds of a connection's first MAP reply whatever
 * happens; ctx->gen is its table then. */
int dl_table_install(struct daxlease_ctx *ctx, const int fds[DL_MAP_NFDS]);
const struct dl_table_entry *dl_gen_entry(const struct dl_tgen *g,
					  uint64_t index);
struct dl_tgen *dl_gen_get(struct dl_tgen *g);
void dl_gen_put(struct daxlease_ctx *ctx, struct dl_tgen *g);
int dl_ns_fd(struct daxlease_ctx *ctx);
/* A DL_MAP_NS_RW reply's fd takes the read-only ns fd's place (always
 * taken); the caller holds map_lock, and the table is installed. */
int dl_ns_fd_upgrade(struct daxlease_ctx *ctx, int fd);
/* Everything (at the context's end). */
void dl_table_release(struct daxlease_ctx *ctx);

/* reconnect.c: keep what a reconnect hands over (take map_lock) */
void dl_track_file(struct daxlease_file *f);
void dl_untrack_file(struct daxlease_file *f);
void dl_track_map(struct daxlease_map *m);
void dl_untrack_map(struct daxlease_map *m);

#endif

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server.h - daxleased's state: the server, its clients, their mappings,
 * and the functions the modules call on each other.
 *
 * One thread, one epoll loop (loop.h).  A client's error never changes
 * another client's state; the only cross-client action is invalidating
 * table entries when a file's layout changes (mapping.c).
 */
#ifndef DAXLEASED_SERVER_H
#define DAXLEASED_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <daxlease/proto.h>

#include "accept.h"
#include "access.h"
#include "decode.h"
#include "dirty.h"
#include "fh.h"
#include "fs.h"
#include "limits.h"
#include "loop.h"
#include "maptable.h"
#include "namespace.h"
#include "rangeset.h"
#include "tree.h"

#define DL_OUTBOX_MAX (1u << 20)	/* queued reply bytes per client */

struct dl_server;

struct dl_options {
	const char *image;
	const char *namespace;
	const char *socket;
	gid_t dax_gid;			/* (gid_t)-1: none */
	gid_t admin_gid;
	uint64_t table_entries;
	bool detach;			/* busy policy: quarantine, never wait */
	uint32_t lease_timeout_ms;	/* break timeout when none is asked */
	uint32_t lease_max_timeout_ms;	/* the most a lease may ask */
	bool require_leases;		/* MAP and PIN need a covering lease */
	uint32_t records_per_process;	/* pin records, at most */
	uint64_t dirty_max;		/* dirty records in total */
	uint32_t dirty_expire_ms;	/* written back this long after */
	struct dl_limits limits;	/* limits.h */
	uint32_t commit_interval_ms;	/* group commit: writes durable at
					 * the latest this long after;
					 * 0: each write on return */
};

/* The layout change that breaks a lease, and who asked for it. */
struct dl_lease_break {
	uint32_t opcode;
	uint32_t pid, uid;
	char comm[16];
	uint32_t ino;
	uint64_t offset, length;	/* UINT64_MAX length: to the end */
};

/* One layout lease (lease.c); state is DL_LEASE_HELD/BREAKING/REVOKED. */
struct dl_lease {
	struct dl_lease *next;
	struct dl_tree_node by_id;	/* srv->leases_by_id */
	struct dl_tree_node by_client;	/* its client's leases_by_id */
	struct dl_client *client;
	uint64_t id;
	uint32_t ino;
	uint32_t state;
	uint64_t offset, length;	/* UINT64_MAX length: to the end */
	bool exclusive;
	uint32_t timeout_ms;
	int64_t since_ns;
	int64_t deadline_ns;		/* BREAKING: when it is revoked */
	struct dl_lease_break why;	/* BREAKING, REVOKED */
};

/* A pin's hold on blocks a layout change detached (quarantine.c). */
struct dl_hold {
	struct dl_hold *next;
	uint64_t tag;			/* the detach_tag of that change */
	uint64_t pin_id;
	uint64_t ns_offset, length;
};

/* A lockless pin (a non-zero counter) that holds detached blocks
 * (quarantine.c): released when the counter is back to zero. */
struct dl_chold {
	struct dl_chold *next;
	struct dl_client *client;
	uint64_t idx;			/* the table entry */
	uint64_t pin_id;		/* its holds' id (from next_pin_id) */
};

/* One pin: a file range held for a client (pin.c).  What it holds is
 * its blocks: they stay its own wherever a collapse or insert moves them
 * in the file, and offset/length only say where they were when pinned. */
struct dl_pin {
	struct dl_pin *next;
	struct dl_tree_node by_id;	/* srv->pins_by_id (the BUSY view) */
	struct dl_client *client;
	uint64_t id;
	uint32_t ino;
	uint32_t generation;
	uint64_t offset, length;
	struct dl_rangeset blocks;	/* namespace ranges (holes: none) */
	uint64_t first_ns;		/* the first block's, in file order */
	bool write;
	bool reader;			/* taken without write access to the
					 * file: held up to a deadline only
					 * (hostage.c) */
	int64_t since_ns;
};

/*
 * A request that cannot run yet (wait.c): a layout change waiting for
 * pins, or a request queued behind such a change on the same file range.
 * It keeps a copy of the message and runs again from the start when it
 * may (so everything it looked up is looked up again).
 */
struct dl_waiter {
	struct dl_waiter *next, *prev;
	struct dl_client *client;
	uint64_t id;
	uint32_t ino;
	uint64_t offset, length;	/* UINT64_MAX length: to the end */
	bool on_pins;			/* waits for pins, not for a change */
	bool on_leases;			/* a change waiting for lease breaks */
	bool change;			/* a layout change (else gated) */
	bool grant;			/* LEASE_ACQUIRE waiting for conflicts */
	bool exclusive;			/* grant: the type it asks for */
	bool again;			/* suspended again while replayed */
	uint64_t pass;
	uint64_t layout_seq;		/* when it was suspended */
	int64_t since_ns;
	int64_t deadline_ns;		/* 0: none */
	int64_t began_ns;		/* a change: when it first broke leases */
	int64_t readers_ns;		/* the next deadline of readers' pins in
					 * its way (hostage.c); 0: none */
	size_t len;
	void *msg;			/* header + payload */
};

/* One MAP: a contiguous run of table entries, one per leaf. */
struct dl_mapping {
	struct dl_mapping *next;
	uint64_t id;
	uint32_t ino;
	uint32_t generation;
	uint64_t offset, length;
	uint64_t first, nentries;
	struct dl_rangeset blocks;	/* the namespace ranges it reaches */
	bool write;
	bool reader;			/* its lockless pins are a reader's
					 * (struct dl_pin) */
};

/* A reply or event waiting for room in the client's socket. */
struct dl_outmsg {
	struct dl_outmsg *next;
	size_t len;
	int fds[DL_MAP_NFDS];
	int nfds;
	uint8_t buf[];
};

struct dl_client {
	struct dl_server *srv;
	struct dl_client *prev, *next;
	struct dl_source sock;
	struct dl_source pidfd;
	struct dl_source wake;		/* eventfd: a counter it was asked
					 * about reached zero (table.h) */
	uint64_t id;
	struct dl_cred cred;
	gid_t *groups;
	char comm[17];
	char name[33];			/* from HELLO */
	uint16_t version;		/* 0 until HELLO */
	uint32_t server_flags;		/* DL_SRV_* */
	struct dl_fh_table fhs;
	struct dl_maptable *table;	/* created by the first MAP */
	bool fds_sent;
	bool ns_rw_sent;		/* the read-write ns fd (ns_fds.c) */
	struct dl_mapping *maps;
	uint32_t nwaiting;		/* its requests in the wait queue */
	uint32_t nleases;
	struct dl_tree_node *leases_by_id;	/* LEASE_QUERY pages */
	uint32_t npins;			/* socket pins */
	uint32_t nmaps;
	struct dl_outmsg *out_head, *out_tail;
	size_t out_bytes;
	uint64_t start_time;		/* the process's, /proc/PID/stat field
					 * 22: with the pid, who it is */
	uint32_t token;			/* the connection's (HELLO): with the
					 * process, whose pin records */
	bool dead;			/* the connection is gone (conn.c) */
	bool teardown_queued;		/* on srv->dead */
	struct dl_client *dead_next;
	bool orphan;			/* no connection, its process lives
					 * and holds pins (orphan.c) */
	bool process_gone;		/* its pidfd fired */
	bool restored;			/* a restarted daemon's stand-in for a
					 * process its records name */
	int64_t orphan_since_ns;
	/* REATTACH (reattach.c) */
	struct dl_client *adopter;	/* an orphan: the connection that took
					 * it over (unpins, unmaps through it) */
	bool reattaching;		/* between BEGIN and END */
	struct dl_client *stand_in;	/* BEGIN found the process restored:
					 * its hold goes at END */
};

struct dl_server {
	struct dl_options opt;
	struct dl_loop *loop;
	struct dl_ns *ns;
	struct dl_fs *fs;
	struct dl_ns_info nsinfo;
	/* the namespace as clients get it (ns_fds.c): read-write, and
	 * read-only for those that only map for read */
	int client_ns_fd;
	int client_ns_ro_fd;
	struct dl_source image_watch;	/* the image was written (image_watch.c) */
	struct dl_source image_timer;	/* and a full look now and then */
	unsigned image_health_logged;	/* DL_NS_HEALTH_* said already */
	struct dl_source listen;
	struct dl_acceptor acceptor;	/* accept.c */
	struct dl_source signals;
	struct dl_source timer;
	char *socket_path;		/* NULL with socket activation */
	bool unlink_socket;
	struct dl_client *clients;	/* connected, dead and orphans */
	struct dl_client *busy_resume;	/* where the last BUSY page ended
					 * (handle_busy.c); forgotten when
					 * it is unlinked (conn.c) */
	struct dl_client *dead;		/* torn down after the epoll batch */
	uint32_t nclients;		/* connections */
	uint32_t norphans;
	bool exiting;			/* dl_server_close: nothing stays */
	struct dl_owner *owners;	/* processes with pin records */
	uint8_t boot_id[16];
	struct dl_source trim_timer;	/* records shrink lazily */
	bool trim_armed;
	uint64_t next_client_id;
	uint64_t next_map_id;
	struct dl_pin *pins;
	struct dl_tree_node *pins_by_id;
	uint64_t next_pin_id;
	uint64_t npins;
	uint64_t nmaps;			/* all clients' (limits.c) */
	uint64_t entries_used;		/* their table entries */
	uint64_t queued_bytes;		/* waiters' and outboxes' */
	struct dl_dirty_records dirty;	/* dirty.c */
	struct dl_source commit_timer;	/* commit.c */
	bool commit_armed;
	struct dl_waiter *wait_head, *wait_tail;
	struct dl_waiter *replaying;	/* the waiter being run again */
	uint64_t next_wait_id;
	uint64_t wait_pass;
	bool kick;			/* pins or waiters changed: retry */
	struct dl_lease *leases;	/* newest first */
	struct dl_tree_node *leases_by_id;	/* the LEASES view */
	uint64_t nleases;
	uint64_t next_lease_id;
	struct dl_hold *holds;
	struct dl_chold *cholds;
	uint64_t next_tag;
	int64_t start_ns;
	void *rx;			/* one received message */
	void *tx;			/* one reply being built */
};

/* What a handler fills in: a payload in srv->tx after the header. */
struct dl_reply {
	void *payload;
	uint32_t len;
	bool with_error;		/* send the payload with a -errno too */
	int fds[DL_MAP_NFDS];
	int nfds;
};

/* ---- server.c ------------------------------------------------------------- */
/* srv->opt filled in; 0 or -errno (logged). */
int dl_server_open(struct dl_server *srv);
int dl_server_run(struct dl_server *srv);
/* fd (< 0: -errno, the error of the call that made it) in the loop,
 * readable calls fn. */
int dl_server_add_source(struct dl_server *srv, struct dl_source *s, int fd,
			 dl_source_fn fn);
/* Drops every client, closes the fs and the namespace (marked clean).
 * Returns the namespace's health bits: 0, or the image was changed
 * behind our back and is left marked open (image_watch.c). */
unsigned dl_server_close(struct dl_server *srv);

/* ---- ns_fds.c: the namespace fds clients get ------------------------------- */
int dl_ns_fds_open(struct dl_server *srv);
void dl_ns_fds_close(struct dl_server *srv);
/* The fds (and the DL_MAP_* flag saying so) a MAP reply to c carries. */
void dl_map_reply_fds(struct dl_client *c, bool write, struct dl_map_rep *o,
		      struct dl_reply *rp);

/* ---- image_watch.c: the image changed behind our back -------------------- */
/* Watch the namespace (pmem/ns_watch.c) from the loop, log what it finds. */
int dl_image_watch_start(struct dl_server *srv);
void dl_image_watch_stop(struct dl_server *srv);

/* ---- conn.c --------------------------------------------------------------- */
/* A new connection on fd (accept.c): 0, or -errno with nothing left of
 * it but fd, which is the caller's again (and nothing logged). */
int dl_conn_open(struct dl_server *srv, int fd);
/* Queue (or send at once) one message; may drop the client. */
void dl_conn_send(struct dl_client *c, const void *msg, size_t len,
		  const int *fds, int nfds);
/* Close the connection; what the client holds is released after the
 * current batch (the rule is in conn.c). */
void dl_conn_drop(struct dl_client *c, const char *why);
/* Tear c down after the batch (a dead client, or an orphan whose time
 * has come). */
void dl_conn_queue_teardown(struct dl_client *c);
/* The loop's after-batch hook: waiters run, dead clients torn down. */
void dl_conn_after_batch(void *srv);
void dl_conn_drop_all(struct dl_server *srv);
/* "pid=%d uid=%u comm=%s" for log lines */
const char *dl_conn_who(const struct dl_client *c);

/* ---- dispatch.c ------------------------------------------------------------- */
void dl_dispatch(struct dl_client *c, const void *buf, size_t len);
/* The same with the fds that came with it (a handler keeps one by
 * setting it to -1; the caller closes the rest). */
void dl_dispatch_fds(struct dl_client *c, const void *buf, size_t len,
		     int *fds, int nfds);

/* A reply with no payload, for a request sent earlier (a waiter's). */
void dl_reply_status(struct dl_client *c, const struct dl_msg_hdr *req,
		     int status);

/* ---- handlers: 0 or -errno; reply payload only on success ------------------ */
/* A handler's "no reply now": the request waits (wait.c) */
#define DL_SUSPENDED 1
typedef int dl_handler_fn(struct dl_client *c, const struct dl_request *rq,
			  struct dl_reply *rp);
dl_handler_fn dl_handle_hello, dl_handle_status, dl_handle_reattach;
dl_handler_fn dl_handle_open, dl_handle_close, dl_handle_stat,
	dl_handle_list, dl_handle_unlink, dl_handle_rename, dl_handle_setattr;
dl_handler_fn dl_handle_read, dl_handle_write, dl_handle_fsync,
	dl_handle_truncate, dl_handle_fallocate;
dl_handler_fn dl_handle_map, dl_handle_unmap;
dl_handler_fn dl_handle_pin, dl_handle_unpin;
dl_handler_fn dl_handle_busy, dl_handle_busy_summary, dl_handle_blocked,
	dl_handle_dirty;
dl_handler_fn dl_handle_lease_acquire, dl_handle_lease_release,
	dl_handle_lease_query, dl_handle_leases;

/* ---- lease.c: layout leases and their breaks ------------------------------------ */
/* Leases in the way of c's grant of that type (first max to out, as
 * blockers whose pin_id is the lease id and write the exclusive bit). */
uint32_t dl_leases_conflicts(struct dl_server *srv, struct dl_client *c,
			     uint32_t ino, uint64_t offset, uint64_t length,
			     bool exclusive, struct dl_wire_blocker *out,
			     uint32_t max);
uint32_t dl_leases_cap_timeout(struct dl_server *srv, uint32_t want_ms);
struct dl_lease *dl_lease_add(struct dl_client *c, uint32_t ino,
			      uint64_t offset, uint64_t length,
			      bool exclusive, uint32_t timeout_ms);
int dl_lease_release(struct dl_client *c, uint64_t id);
void dl_leases_drop_client(struct dl_client *c);
/* Does one unrevoked lease of c cover the whole range? */
bool dl_leases_cover(struct dl_client *c, uint32_t ino, uint64_t offset,
		     uint64_t length);
/* MAP, PIN: 0, or -ENOLCK with --require-leases and no covering lease. */
int dl_lease_required(struct dl_client *c, uint32_t ino, uint64_t offset,
		      uint64_t length);
/* Break every unrevoked lease overlapping why's range (events sent to
 * those not breaking yet); how many are breaking now. */
uint32_t dl_leases_break(struct dl_server *srv,
			 const struct dl_lease_break *why);
/* Leases of the range being broken: how many; the first max ids. */
uint32_t dl_leases_breaking(struct dl_server *srv, uint32_t ino,
			    uint64_t offset, uint64_t length, uint64_t *ids,
			    uint32_t max);
/* The earliest break deadline; 0: none. */
int64_t dl_leases_first_deadline(struct dl_server *srv);
/* Revoke the leases past their deadline. */
void dl_leases_expire(struct dl_server *srv);
void dl_lease_to_wire(const struct dl_lease *l, int64_t now,
		      struct dl_wire_lease *w);
/* The lease with the smallest id above cursor, of c (NULL: anyone's,
 * gone clients' left out): O(log n), for paging. */
const struct dl_lease *dl_lease_after(const struct dl_server *srv,
				      const struct dl_client *c,
				      uint64_t cursor);
void dl_leases_free_all(struct dl_server *srv);

/* ---- pin.c: the pins of every client ------------------------------------------ */
bool dl_range_overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen);
/* A pin of [offset, offset+length) of ino on blocks (taken over). */
struct dl_pin *dl_pin_add(struct dl_client *c, uint32_t ino, uint32_t gen,
			  uint64_t offset, uint64_t length, bool write,
			  struct dl_rangeset *blocks);
/* Drop one pin of c (-EINVAL if c has no such pin); wakes waiters. */
int dl_pin_drop(struct dl_client *c, uint64_t pin_id);
void dl_pins_drop_client(struct dl_client *c);
/* p is known by id from now on (REATTACH: the id the client holds). */
void dl_pin_renumber(struct dl_server *srv, struct dl_pin *p, uint64_t id);
/* The pin with the smallest id above id: O(log n), for paging. */
const struct dl_pin *dl_pin_after(const struct dl_server *srv, uint64_t id);
/*
 * The blocks a layout change of [offset, offset+length) of ino may free or
 * move: the namespace ranges of its extents (written or not), normalized.
 */
int dl_file_blocks(struct dl_server *srv, uint32_t ino, uint64_t offset,
		   uint64_t length, struct dl_rangeset *out);
/* Pins holding any of those blocks, socket pins and then lockless ones
 * (counters.c): how many; the first max to out.  When the blocks cannot
 * be looked up, 1 (nothing named): assume the range is pinned. */
uint32_t dl_pins_scan(struct dl_server *srv, uint32_t ino, uint64_t offset,
		      uint64_t length, struct dl_wire_blocker *out,
		      uint32_t max);
void dl_pin_to_wire(const struct dl_pin *p, struct dl_wire_blocker *w);
/* A blocker naming c (pid, uid, comm, DL_BLOCKER_ORPHAN), the rest 0. */
void dl_blocker_of_client(const struct dl_client *c,
			  struct dl_wire_blocker *w);
/* How long c has been an orphan (0: it is not), in ms, saturating. */
uint32_t dl_orphan_ms(const struct dl_client *c, int64_t now);

/* ---- commit.c: group commit of WRITEs ------------------------------------------ */
/* Group commit on unless --commit-interval 0, and its timer: 0 or -errno. */
int dl_commit_init(struct dl_server *srv);
/* A WRITE joined the batch: the timer runs if it did not. */
void dl_commit_written(struct dl_server *srv);
/* FSYNC, CLOSE of a writable handle: every write durable. 0 or -errno. */
int dl_commit_sync(struct dl_server *srv, struct dl_err *err);
/* Shutdown: commit what is left, stop the timer. */
void dl_commit_fini(struct dl_server *srv);

/* ---- dirty.c: ranges written behind our back, and their writeback -------------- */
/* The records (--dirty-max) and their writeback timer: 0 or -errno. */
int dl_dirty_init(struct dl_server *srv);
/* Record [offset, offset+length) of ino as written behind our back. */
void dl_dirty_add(struct dl_server *srv, uint32_t ino, uint64_t offset,
		  uint64_t length);
/* A mapping goes: a writable one's range is dirty (stores may follow
 * any writeback while it lives). */
void dl_dirty_map_gone(struct dl_server *srv, const struct dl_mapping *m);
/* FSYNC: make ino's dirty ranges durable; its records go. */
void dl_dirty_write_back_file(struct dl_server *srv, uint32_t ino);
/* A clean stop: every record is written back. */
void dl_dirty_write_back_all(struct dl_server *srv);
void dl_dirty_free_all(struct dl_server *srv);
/* The file is gone (unlink, rename over): its dirty record goes too. */
void dl_dirty_forget(struct dl_server *srv, uint32_t ino);

/* ---- counters.c: lockless pins (the clients' counter regions) ------------------ */
/* Non-zero counters of entries of ino's mappings whose leaf holds any of
 * blocks: how many; the first max to out (DL_BLOCKER_COUNTER).  Call
 * after invalidate + fence. */
uint32_t dl_counters_scan(struct dl_server *srv, uint32_t ino,
			  const struct dl_rangeset *blocks,
			  struct dl_wire_blocker *out, uint32_t max);
/* fn(client, entry, refs, arg) for each of those non-zero counters. */
typedef void dl_counter_fn(struct dl_client *c, uint64_t idx, int64_t refs,
			   void *arg);
void dl_counters_for_each(struct dl_server *srv, uint32_t ino,
			  const struct dl_rangeset *blocks, dl_counter_fn *fn,
			  void *arg);
/* Does any entry of m have a non-zero counter? */
bool dl_counters_busy(const struct dl_client *c, const struct dl_mapping *m);
/* Ask every client for wake-ups (or not), then a full fence. */
void dl_counters_want_wakeups(struct dl_server *srv, bool on);
/* Wake-ups on while something waits for counters, off otherwise. */
void dl_counters_settle_wakeups(struct dl_server *srv);
const struct dl_mapping *dl_counters_mapping_of(const struct dl_client *c,
						uint64_t idx);
/* BUSY view cursors above this are (client id, entry) of counters. */
#define DL_BUSY_COUNTERS (1ULL << 63)
/* Entry idx of c's table as a blocker (a counter pin of refs). */
void dl_counter_to_wire(const struct dl_client *c, uint64_t idx,
			int64_t refs, struct dl_wire_blocker *w);

/* ---- wait.c: requests that wait for pins or behind a layout change ------------ */
/* Must a request on this file range queue behind an earlier waiter? */
bool dl_wait_gated(struct dl_server *srv, uint32_t ino, uint64_t offset,
		   uint64_t length);
/* Suspend rq (or, when it is the waiter being replayed, keep it waiting):
 * returns DL_SUSPENDED, -ENOMEM, or a limit's -EAGAIN or -ENOBUFS
 * (limits.h). */
int dl_wait_suspend(struct dl_client *c, const struct dl_request *rq,
		    uint32_t ino, uint64_t offset, uint64_t length,
		    bool on_pins, uint32_t deadline_ms);
/* Gate for requests that map, pin or write: 0, or DL_SUSPENDED. */
int dl_wait_gate(struct dl_client *c, const struct dl_request *rq,
		 uint32_t ino, uint64_t offset, uint64_t length);
/* A LEASE_ACQUIRE that conflicts: it waits (never gating others). */
int dl_wait_grant(struct dl_client *c, const struct dl_request *rq,
		  uint32_t ino, uint64_t offset, uint64_t length,
		  bool exclusive);
/* Is a layout change of an overlapping range waiting (grants wait)? */
bool dl_wait_change_pending(struct dl_server *srv, uint32_t ino,
			    uint64_t offset, uint64_t length);
/* The timerfd: the earliest waiter or lease-break deadline. */
void dl_wait_arm_timer(struct dl_server *srv);
/*
 * The start of a layout change of [offset, offset+length) of ino: queue
 * behind earlier changes, invalidate every mapping of the range, scan the
 * pins.  0: go ahead; DL_SUSPENDED: it waits; -EBUSY (NONBLOCK, with the
 * blockers in rp); -errno.
 */
#define DL_LAYOUT_FILE_GOES 0x100u	/* policy bit: unlink, rename over */
int dl_layout_begin(struct dl_client *c, const struct dl_request *rq,
		    uint32_t ino, uint64_t offset, uint64_t length,
		    uint32_t policy, uint32_t deadline_ms, struct dl_reply *rp,
		    uint64_t *detach_tag);
/* Run the waiters that may run now (the loop's after-batch hook). */
void dl_wait_kick(struct dl_server *srv);
/* The timer fired: fail waiters past their deadline. */
void dl_wait_expire(struct dl_server *srv);
void dl_wait_drop_client(struct dl_client *c);

/* ---- hostage.c: readers' pins hold a layout change up to a deadline only --- */
/* Pins in the way of a change of [offset, offset+length) of ino that began
 * breaking leases at began_ns, by whose they are. */
struct dl_hostage {
	uint32_t writers;		/* clients with write access: wait */
	uint32_t readers;		/* readers before their deadline */
	uint32_t expired;		/* readers past it: to quarantine */
	int64_t next_ns;		/* the earliest of readers' deadlines to
					 * come; 0: none */
};
void dl_hostage_scan(struct dl_server *srv, uint32_t ino, uint64_t offset,
		     uint64_t length, int64_t began_ns, struct dl_hostage *h);
/* Nothing but readers past their deadline in the way (or nothing)? */
bool dl_hostage_may_go(struct dl_server *srv, uint32_t ino, uint64_t offset,
		       uint64_t length, int64_t began_ns);
/* Only readers past their deadline in the way: c's change goes, their
 * blocks held under a new detach tag (returned), logged. */
uint64_t dl_hostage_detach(struct dl_client *c, uint16_t opcode, uint32_t ino,
			   uint64_t offset, uint64_t length,
			   const struct dl_hostage *h, bool file_goes);
/* A pin or mapping c makes through handle h: is it a reader's? */
bool dl_hostage_is_reader(struct dl_client *c, const struct dl_fh *h);
/* The same for a read pin or mapping of ino that c takes over (REATTACH):
 * a reader unless c owns the file or holds a writable handle of it. */
bool dl_hostage_ino_reader(struct dl_client *c, uint32_t ino);

/* ---- quarantine.c: --detach ------------------------------------------------- */
/* Pins in the way of a change: hold their blocks under a new tag. */
uint64_t dl_quarantine_begin(struct dl_server *srv, uint32_t ino,
			     uint64_t offset, uint64_t length, bool file_goes);
/* After the change: release what tag detached that no pin holds. */
void dl_quarantine_settle(struct dl_server *srv, uint64_t tag);
/* A pin is gone: release the blocks only it held. */
void dl_quarantine_unpin(struct dl_server *srv, uint64_t pin_id);
/* Release the holds of lockless pins whose counter is back to zero. */
void dl_quarantine_check_counters(struct dl_server *srv);
/* The client goes: its lockless pins' holds go with it. */
void dl_quarantine_drop_client(struct dl_client *c);
/* A restarted daemon's hold of pin_id (a restored stand-in's) passes to
 * whatever c and the orphans it re-attached still hold in its ranges. */
void dl_quarantine_handover(struct dl_server *srv, uint64_t pin_id,
			    struct dl_client *c);
/* A tag no detached block on the namespace uses yet. */
void dl_quarantine_init(struct dl_server *srv);
void dl_quarantine_free(struct dl_server *srv);
dl_handler_fn dl_handle_quarantine;

/* A restarted daemon's stand-in for a living process its pin records
 * name: an orphan holding one pin on all of held (conn.c).  -ESRCH: the
 * process is gone after all. */
struct dl_pin_owner;
int dl_conn_restored(struct dl_server *srv, const struct dl_pin_owner *key,
		     const struct dl_rangeset *held, struct dl_client **out);
/* An orphan for a living process, no table and no pin yet (reattach.c
 * gives it a lost table); -ESRCH: the process is gone. */
int dl_conn_stand_in(struct dl_server *srv, const struct dl_pin_owner *key,
		     struct dl_client **out);
/* Watch fd as c's wake eventfd (an unpin writes it). */
int dl_conn_watch_wake(struct dl_client *c, int fd);

/* ---- records.c: pin records on the namespace (restart safety) --------------- */
void dl_client_owner(const struct dl_client *c, struct dl_pin_owner *key);
/* Before telling c where blocks are (MAP, PIN): make c's process's
 * records cover more too (durable when it returns); 0 or -errno. */
int dl_records_cover(struct dl_client *c, const struct dl_rangeset *more);
/* c's process may reach less now (UNMAP, UNPIN, gone): trim later. */
void dl_records_changed(struct dl_client *c);
void dl_records_trim(struct dl_server *srv);
/* At start: the boot id, the trim timer, living pinners restored. */
int dl_records_open(struct dl_server *srv);
/* At a clean stop: records trimmed to what is reachable, then kept. */
void dl_records_close(struct dl_server *srv);

/* ---- orphan.c: clients whose connection is gone while their process lives ---- */
/* At the teardown of a dead client: keep it as an orphan (true), or not.
 * Invalidates its entries first. */
bool dl_orphan_keep(struct dl_client *c);
/* Does c still hold anything (socket pins, counters, quarantine holds)? */
bool dl_orphan_holds(const struct dl_client *c);
/* Orphans no connection has re-attached (STATUS). */
uint32_t dl_orphans_unadopted(const struct dl_server *srv);
/* Queue the teardown of orphans that hold nothing any more. */
void dl_orphans_reap(struct dl_server *srv);

/* handle_session.c: CLOCK_MONOTONIC in ns (the uptime clock) */
int64_t dl_server_now_ns(void);

/* ---- files.c: shared by the handlers ----------------------------------------- */
/* The handle's file, still of the handle's generation: 0, -EBADF, -ESTALE. */
int dl_file_from_fh(struct dl_client *c, uint64_t fh, struct dl_fh **h,
		    struct dl_stat *st);
void dl_wire_stat_fill(struct dl_wire_stat *w, const struct dl_stat *st);
/* Log a failed fs call at debug level, with the client and the why. */
int dl_fs_failed(struct dl_client *c, const char *op, int rc,
		 const struct dl_err *err);

/* ---- mapping.c ---------------------------------------------------------------- */
/*
 * The layout of [offset, offset+length) of ino changes: invalidate every
 * entry of every client that maps any of it (length UINT64_MAX: to the end).
 */
void dl_mappings_invalidate(struct dl_server *srv, uint32_t ino,
			    uint64_t offset, uint64_t length);
void dl_mappings_free_client(struct dl_client *c);
/* handle_map.c: one mapping's memory (NULL: nothing) */
void dl_mapping_free(struct dl_mapping *m);

#endif

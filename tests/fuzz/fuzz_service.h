/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_service.h - the stateful service fuzzer: programs of client
 * operations against a real daxleased, many connections at once.
 *
 * The daemon is daxleased itself (daxlease_service: dl_server_open, its
 * epoll loop, its socket), run in this process: the fuzzer is its
 * clients, and drives the loop between their operations
 * (fuzz_service.c).  A client learns what the replies tell it - file
 * handles, mapping, pin and lease ids, its token, cursors, the table and
 * counter memfds of its first MAP - and later operations name those by
 * index, so a short input reaches deep states: a lease broken while its
 * holder has shut down reading, a truncate waiting for a lockless pin, an
 * orphan re-attached from a new connection after a restart.
 *
 * Input: byte 0 configures the daemon (FZS_CFG_*).  The rest is a
 * program, at most FZS_MAX_OPS operations: an opcode byte (enum fzs_op,
 * modulo FZS_NOPS), a client byte (the slot, modulo FZS_CLIENTS), then
 * the operation's arguments, read as it needs them (past the end of the
 * input every byte reads as 0).  The arguments (fuzz_service_ops.c):
 *
 *   CONNECT     u8 flags (FZS_CONN_*): a new connection in the slot
 *               (the slot's old one is closed first)
 *   HELLO       u8 variant: 0 valid, others refused or odd (versions,
 *               flags, a raw client name)
 *   OPEN        name, u8 flags (below 0x20 or from 0xf0 the DL_O_* bits
 *               as given, else a usual open), u8 mode (index)
 *   CLOSE FSYNC fh
 *   STAT        u8 (bit 0: by name, then name; else fh)
 *   LIST        cursor, u8 max
 *   UNLINK      name
 *   RENAME      name, name, u8 flags
 *   READ WRITE  fh, u8 niov, then per iovec offset and u8 length (x 256);
 *               WRITE: u8 fill byte
 *   TRUNCATE    fh, offset (the size), policy
 *   FALLOCATE   fh, u8 mode (index), offset, length, policy
 *   SETATTR     fh, u8 valid, u8 mode (index), u8 uid, u8 gid
 *   MAP         fh, offset, length, u8 prot (below 8 as given, else
 *               read or read-write)
 *   UNMAP       map
 *   PIN         fh, offset, length, u8 flags
 *   UNPIN       pin
 *   LEASE       fh, offset, length, u8 type, u8 flags, u8 timeout (ms)
 *   LEASE_RELEASE  lease
 *   VIEW        u8 which (enum fzs_view), cursor, u8 max
 *   REATTACH    u8 kind (DL_REATTACH_*, or odd), u8 lost connection,
 *               then the kind's: BEGIN token; FILES u8 count, u8 lie;
 *               TABLE u8 nfds, that many fd kinds (enum fzs_fd), u8
 *               count, u8 lie; PIN pin, u8 lie
 *   RAW         a message as bytes (header fields, payload; framing may
 *               be wrong: the daemon may drop the client)
 *   SHUTDOWN    u8 how (SHUT_RD, SHUT_WR, SHUT_RDWR)
 *   DISCONNECT  -
 *   COUNTER     u8 table (bit 7: a lost connection's, else the slot's),
 *               u8 action (enum fzs_counter), entry, value
 *   NS_WRITE    pin, u8 offset (pages), u8 length (x 64), u8 fill: a
 *               "DMA" write into blocks the client has pinned
 *   SLEEP       u8 ms (modulo 4): lease and request deadlines pass
 *   RESTART     -: the daemon stops cleanly and starts again on its
 *               image (every connection is lost)
 *   BATCH       u8 n (modulo 8): the next n operations are sent without
 *               running the daemon in between (one epoll batch)
 *   NO_READ     -: the slot stops (or starts again) reading its replies
 *   JUNK_FDS    u8 n, n fd kinds: fds sent with the slot's next request
 *   REPEAT      u8 n, then an operation (opcode, client, arguments): run
 *               n + 1 times with the same bytes (queues fill up: the wait
 *               queue, a client's outbox)
 *
 * Values: fh, map, pin and lease bytes below 0xf0 name the i-th most
 * recent one the slot learned (0 the latest); 0xf0..0xf7 another slot's
 * latest; 0xfe a raw u64 from the input; any other zero.  An offset or length
 * byte is a page count, a count of 2 MiB, an odd value or a raw u64
 * (fuzz_service_ops.c: pick_off, pick_len).  A name byte below 0xf0 is
 * one of FZS_NAMES shared names; above, a raw one.  A policy is a u8
 * (0 wait, 1 NONBLOCK, 2 DEADLINE, 3 both, 4 DEADLINE of 0) and a u8 ms.
 *
 * After the program every connection is closed, and the daemon must have
 * torn down everything (fds back to what they were), its DRAM state must
 * equal the media, it must stop cleanly and check-namespace must find
 * nothing; a client that did nothing a daemon may drop it for (RAW,
 * SHUTDOWN, NO_READ) must never be dropped.
 */
#ifndef DAXLEASE_TESTS_FUZZ_SERVICE_H
#define DAXLEASE_TESTS_FUZZ_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <daxlease/proto.h>
#include <daxlease/table.h>

#define FZS_CLIENTS 8
#define FZS_LOST 4		/* lost connections remembered */
#define FZS_KEEP 8		/* learned values of each kind */
#define FZS_NAMES 6
#define FZS_MAX_OPS 400
#define FZS_IMAGE_SIZE (64ULL << 20)

/* byte 0 */
#define FZS_CFG_DETACH 0x01	/* --detach */
#define FZS_CFG_ADVISORY 0x02	/* --advisory-leases */
#define FZS_CFG_ALIGN_4K 0x04	/* a 4 KiB-align namespace (else 2 MiB) */
#define FZS_CFG_SMALL_TABLE 0x08	/* --table-entries 64, small limits */
#define FZS_CFG_DAX_NOBODY 0x10	/* --dax-group nogroup */
#define FZS_CFG_FEW_RECORDS 0x20	/* --pin-records-per-process 1 */
#define FZS_CFG_FEW_DIRTY 0x40	/* --dirty-max 4 */
#define FZS_CFG_FAST_EXPIRE 0x80	/* --dirty-expire 0 */

/* CONNECT flags */
#define FZS_CONN_NOBODY 0x1	/* as uid/gid 65534 (when we are root) */
#define FZS_CONN_POLITE 0x2	/* releases a lease when it is broken */
#define FZS_CONN_HELLO 0x4	/* a valid HELLO at once */
/* bits 3..5: n, and after 2n replies the client stops reading
 * (shutdown(SHUT_RD)): a careless client, whose next event or reply
 * fails to go out wherever the daemon is */
#define FZS_CONN_DEAF_SHIFT 3
#define FZS_CONN_DEAF_MASK 0x38

enum fzs_op {
	FZS_OP_CONNECT, FZS_OP_HELLO, FZS_OP_OPEN, FZS_OP_CLOSE, FZS_OP_STAT,
	FZS_OP_LIST, FZS_OP_UNLINK, FZS_OP_RENAME, FZS_OP_READ, FZS_OP_WRITE,
	FZS_OP_FSYNC, FZS_OP_TRUNCATE, FZS_OP_FALLOCATE, FZS_OP_SETATTR,
	FZS_OP_MAP, FZS_OP_UNMAP, FZS_OP_PIN, FZS_OP_UNPIN, FZS_OP_LEASE,
	FZS_OP_LEASE_RELEASE, FZS_OP_VIEW, FZS_OP_REATTACH, FZS_OP_RAW,
	FZS_OP_SHUTDOWN, FZS_OP_DISCONNECT, FZS_OP_COUNTER, FZS_OP_NS_WRITE,
	FZS_OP_SLEEP, FZS_OP_RESTART, FZS_OP_BATCH, FZS_OP_NO_READ,
	FZS_OP_JUNK_FDS, FZS_OP_REPEAT,
	FZS_NOPS
};

enum fzs_view {
	FZS_VIEW_BUSY, FZS_VIEW_BLOCKED, FZS_VIEW_QUARANTINE, FZS_VIEW_DIRTY,
	FZS_VIEW_LEASE_QUERY, FZS_VIEW_LEASES, FZS_VIEW_STATUS,
	FZS_NVIEWS
};

/* COUNTER actions: what a client does with its counter region */
enum fzs_counter {
	FZS_CNT_PIN,		/* the lockless pin, as the protocol says */
	FZS_CNT_UNPIN,		/* decrement; write the wake fd at zero */
	FZS_CNT_LIE,		/* store any value */
	FZS_CNT_WAKE,		/* write the wake eventfd for nothing */
	FZS_CNT_HEADER,		/* scribble on the region's header */
	FZS_CNT_PIN_MAP,	/* pin every entry of a mapping */
	FZS_CNT_FAKE,		/* scribble on the last fake table or counter
				 * region passed, through a mapping made
				 * before its seal */
	FZS_NCOUNTER
};

/* fds a client passes (REATTACH TABLE, JUNK_FDS): the kind byte modulo
 * FZS_NFD; for the fake regions, the byte divided by FZS_NFD picks how
 * many entries they claim (16 << 2n, sparse) */
enum fzs_fd {
	FZS_FD_TABLE,		/* the connection's own table memfd */
	FZS_FD_COUNTERS,	/* its counter memfd */
	FZS_FD_WAKE,		/* its wake eventfd */
	FZS_FD_NS,		/* the namespace fd */
	FZS_FD_MEMFD,		/* a memfd, unsealed */
	FZS_FD_FAKE_TABLE,	/* a sealed memfd with a table header */
	FZS_FD_FAKE_COUNTERS,	/* a sealed memfd with a counter header */
	FZS_FD_EVENTFD,		/* a new eventfd */
	FZS_FD_PIPE_R, FZS_FD_PIPE_W,
	FZS_FD_SOCKET,		/* one end of a socketpair */
	FZS_FD_DAEMON_SOCKET,	/* a new connection to the daemon itself */
	FZS_FD_DEVNULL, FZS_FD_DIR,
	FZS_FD_OTHER_TABLE,	/* another slot's table memfd */
	FZS_FD_SELF,		/* a dup of the sending socket */
	FZS_NFD
};

/* What a run did (fuzz_service.c prints these). */
struct fzs_stats {
	uint64_t inputs, ops;
	uint64_t messages;	/* requests sent */
	uint64_t replies, events;
	uint64_t connections;	/* made */
	uint64_t dropped;	/* connections the daemon closed */
	uint64_t restarts;
	uint64_t fds_passed;
};

/* The program runner (fuzz_service_prog.c) and what it needs of the
 * daemon's side (fuzz_service.c). */
struct fzs_daemon {
	const char *socket;	/* its socket */
	const char *dir;	/* a directory for FZS_FD_DIR */
	/* run the daemon: until nothing is left to do, waiting at most ms
	 * first for something to happen */
	void (*pump)(struct fzs_daemon *d, int ms);
	/* stop it cleanly and start it again on its image: 0 or -1 */
	int (*restart)(struct fzs_daemon *d);
	/* read what the clients were sent (set by the runner): how many
	 * messages */
	unsigned (*drain)(void *runner);
	void *runner;
};

/* Run a program (data after byte 0) against d; stats added to st.
 * Every connection and fd it made is closed when it returns. */
void fzs_run(struct fzs_daemon *d, const uint8_t *prog, size_t len,
	     struct fzs_stats *st);

#endif

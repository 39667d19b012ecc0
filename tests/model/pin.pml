/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * pin.pml - a Promela model of the lockless pin protocol (docs/pin-protocol.md)
 *
 * Two threads of one client pin ranges of its table locklessly while the
 * single-threaded service changes the layout under them.  The model keeps
 * the weak memory that decides the protocol: every thread has a store
 * buffer, a store lands in it and reaches memory later (or at a fence), and
 * a load sees memory (no thread loads a location it may have a store
 * buffered for, so store forwarding never comes up).  The property:
 * a block is never freed while a reference taken on it is live, and a DMA
 * never starts on a freed block (asserts in free_block and dma_blocks); a
 * lost wake-up leaves the service asleep forever, which spin reports as an
 * invalid end state.
 *
 * Switches (spin -D...), each one breaks one rule and must be caught:
 *   NO_REREAD         the client skips step 4 (the re-read after the fence)
 *   NO_FENCE          the client skips step 3 (the fence after the increment)
 *   REUSE_BUSY_ENTRY  the service reuses an unmapped entry whose counter is
 *                     not zero (no zombie mapping)
 *   REREAD_PFN_ONLY   the re-read compares VALID and pfn only, not the
 *                     level and generation (a PMD split by a punch is missed)
 *   NO_WAKE_FENCE     the service scans without a fence after waiting = 1
 *                     (the wake-up Dekker is broken: a lost wake-up)
 * and two that are not bugs:
 *   LOCKED_INC        the increment is an x86 locked RMW, which drains the
 *                     store buffer: with NO_FENCE this still verifies, the
 *                     lock prefix being the fence (see the doc)
 *   TWO_OPS           the service makes two layout changes in a row instead
 *                     of one (a deeper search: 10x the states)
 *
 * The scene: file 1 is mapped by a PMD leaf (e0) and a PTE leaf (e1), file
 * 2 by a PUD leaf (e2).  Each client thread pins e0+e1 or e2, retries once
 * after a failure, DMAs, unpins.  The service punches the second half of
 * e0 (the PMD becomes a PTE leaf on the same pfn), truncates file 1, or
 * takes the unmapped e2 for a new mapping of file 3 and truncates file 2.
 */

/* ---- the configuration -------------------------------------------------- */

#define NENT	3	/* table entries */
#define NBLK	9	/* namespace blocks */

/* leaf levels, as enum dl_leaf_level */
#define LPTE	0
#define LPMD	1
#define LPUD	2

/*
 * The pte word, as in include/daxlease/table.h but narrower: VALID, the
 * level, a generation (2 bits here: no run rewrites an entry 4 times) and
 * the pfn.  A leaf names NBLOCKS() consecutive model blocks from its pfn.
 */
#define MKPTE(valid, lvl, gen, pfn) \
	((valid) | ((lvl) << 1) | (((gen) & 3) << 3) | ((pfn) << 5))
#define VALID(w)	((w) & 1)
#define LEVEL(w)	(((w) >> 1) & 3)
#define GEN(w)		(((w) >> 3) & 3)
#define PFN(w)		((w) >> 5)
#define NBLOCKS(w)	(LEVEL(w) == LPUD -> 4 : (LEVEL(w) == LPMD -> 2 : 1))

#ifdef REREAD_PFN_ONLY
#define SAME(a, b)	(VALID(a) == VALID(b) && PFN(a) == PFN(b))
#else
#define SAME(a, b)	((a) == (b))	/* the whole word */
#endif

/* the initial table: file 1 is a PMD leaf and a PTE leaf, file 2 a PUD leaf */
#define E0_INIT	MKPTE(1, LPMD, 0, 0)	/* blocks 0,1 */
#define E1_INIT	MKPTE(1, LPTE, 0, 2)	/* block 2 */
#define E2_INIT	MKPTE(1, LPUD, 0, 4)	/* blocks 4..7 */
#define FILE3_PTE_PFN	8		/* a new mapping that may reuse e2 */

/* the service's layout changes: one per run, or two in a row (deeper) */
#ifdef TWO_OPS
#define NOPS	2
#else
#define NOPS	1
#endif
#define OP_PUNCH	1
#define OP_TRUNCATE1	2
#define OP_UNMAP2	4

/* ---- shared memory ------------------------------------------------------ */

int pte[NENT];		/* the table: the service writes, clients read */
byte cnt[NENT];		/* the counter region: clients RMW, service reads */
byte waiting;		/* counter region header: service writes */
byte wake;		/* the wake eventfd's count */

/*
 * Store buffers.  The service's is a FIFO of (address, value); address
 * NENT is `waiting`.  A client thread's holds the +1 of a pin increment:
 * the C11 increment is a relaxed RMW, atomic on its counter but free to
 * become visible after the thread's later loads, so it is a buffered delta
 * applied atomically when it drains.
 */
#define WAITING_ADDR	NENT
chan sbuf = [4] of { byte, int };
chan cbuf[2] = [2] of { byte };

/* ---- ghost state: what the property talks about -------------------------- */

byte dma[NBLK];		/* live references (DMA in progress) per block */
bool freed[NBLK];	/* freed by a layout change (may belong to another file) */
byte efile[NENT];	/* the file whose mapping owns the entry (zombies keep it) */
bool busy;		/* a layout change runs: slow-path pins queue behind it */

/* ---- memory operations -------------------------------------------------- */

/* one buffered store reaches memory (blocks while the buffer is empty) */
inline service_writeback()
{
	atomic {
		sbuf?a, val ->
		if
		:: a == WAITING_ADDR -> waiting = val
		:: else -> pte[a] = val
		fi;
		a = 0; val = 0
	}
}

inline client_writeback(t)
{
	atomic { cbuf[t]?j -> cnt[j]++; j = 0 }
}

/* The hardware writes back one buffered store at a time, whenever it likes. */
active proctype writeback()
{
	byte a, j;
	int val;

end:	do
	:: service_writeback()
	:: client_writeback(0)
	:: client_writeback(1)
	od
}

/* a full fence (or a locked instruction): the thread's buffer drains */
inline client_fence(t)
{
	do
	:: client_writeback(t)
	:: empty(cbuf[t]) -> break
	od
}

inline service_fence()
{
	do
	:: service_writeback()
	:: empty(sbuf) -> break
	od
}

/* ---- the client --------------------------------------------------------- */

/*
 * The DMA starts (up) or ends on the blocks the entries named when step 1
 * read them - never where a later load says.
 */
inline dma_blocks(up)
{
	atomic {
		i = lo;
		do
		:: i > hi -> break
		:: else ->
			b = PFN(v[i - lo]);
			do
			:: b >= PFN(v[i - lo]) + NBLOCKS(v[i - lo]) -> break
			:: else ->
				if
				:: up ->
					assert(!freed[b]);	/* DMA into a freed block */
					dma[b]++
				:: else -> dma[b]--
				fi;
				b++
			od;
			i++
		od;
		b = 0
	}
}

/*
 * Drop one reference: a locked RMW (it drains the buffer and returns the
 * new value), then the load of `waiting` - the client half of the wake-up
 * Dekker.
 */
inline put_ref(t, e)
{
	client_fence(t);
	atomic {
		assert(cnt[e] > 0);
		cnt[e]--;
		zero = (cnt[e] == 0)
	}
	if
	:: zero && waiting != 0 -> wake++	/* write(wake eventfd) */
	:: else -> skip
	fi;
	zero = false
}

inline undo()
{
	i = lo;
	do
	:: i > hi -> break
	:: else -> put_ref(t, i); i++
	od
}

/* one client thread: pin a range (all or nothing), DMA, unpin */
proctype client(byte t)
{
	byte lo, hi;	/* the range: entries lo..hi */
	int v[2];	/* what step 1 read */
	byte i, j, b;
	byte tries;
	bool zero;

	if
	:: lo = 0; hi = 1	/* a PMD and a PTE entry */
	:: lo = 2; hi = 2	/* a PUD entry */
	fi;
pin:
	tries++;
	/* 1. read the entries; an invalid one sends us to the slow path */
	i = lo;
	do
	:: i > hi -> break
	:: else ->
		v[i - lo] = pte[i];
		if
		:: VALID(v[i - lo]) -> i++
		:: else -> goto slow
		fi
	od;
	/* 2. take the references */
	i = lo;
	do
	:: i > hi -> break
	:: else ->
#ifdef LOCKED_INC
		client_fence(t);
		cnt[i]++;
#else
		cbuf[t]!i;
#endif
		i++
	od;
	/* 3. full fence */
#ifndef NO_FENCE
	client_fence(t);
#endif
	/* 4. re-read: any change and the references go back */
#ifndef NO_REREAD
	i = lo;
	do
	:: i > hi -> break
	:: else ->
		if
		:: SAME(pte[i], v[i - lo]) -> i++
		:: else -> undo(); goto slow
		fi
	od;
#endif
	/* 5. success: DMA into the blocks v names, then unpin */
	dma_blocks(true);
	dma_blocks(false);
	i = lo;
	do
	:: i > hi -> break
	:: else -> put_ref(t, i); i++
	od;
	goto done;
slow:
	/* the socket answers after the layout change; then one more try */
	busy == false;
	if
	:: tries < 2 -> goto pin
	:: else -> skip
	fi;
done:
	skip
}

/* ---- the service -------------------------------------------------------- */

inline free_block(blk)
{
	atomic {
		assert(dma[blk] == 0);	/* freed under a live reference */
		freed[blk] = true
	}
}

/* one aligned 64-bit store: VALID off, generation + 1 */
inline invalidate(e)
{
	cur[e] = MKPTE(0, LEVEL(cur[e]), GEN(cur[e]) + 1, PFN(cur[e]));
	sbuf!e, cur[e]
}

inline revalidate(e, lvl, pfn)
{
	cur[e] = MKPTE(1, lvl, GEN(cur[e]) + 1, pfn);
	sbuf!e, cur[e]
}

/*
 * waiting = 1, fence, scan the counters of file f's entries lo..hi
 * (zombies included); sleep on the eventfd while any is not zero.
 */
inline wait_for_pins(f, lo, hi)
{
	sbuf!WAITING_ADDR, 1;
#ifndef NO_WAKE_FENCE
	service_fence();
#endif
	do
	:: i = lo; clear = true;
		do
		:: i > hi -> break
		:: else ->
			if
			:: efile[i] == f && cnt[i] != 0 -> clear = false
			:: else -> skip
			fi;
			i++
		od;
		if
		:: clear -> break
		:: else -> atomic { wake > 0 -> wake = 0 }	/* read(eventfd) */
		fi
	od;
	sbuf!WAITING_ADDR, 0;
	i = 0; clear = false
}

proctype service()
{
	int cur[NENT];	/* the service's own copy of each entry */
	byte i, a;
	int val;
	bool clear;
	byte done, nops;	/* the operations done, how many */

	cur[0] = E0_INIT; cur[1] = E1_INIT; cur[2] = E2_INIT;
	do
	:: nops == NOPS -> break
	:: else ->
		busy = true;
		if
		:: !(done & OP_PUNCH) && !(done & OP_TRUNCATE1) ->
			/* punch the second half of e0's PMD: the rest
			 * becomes PTEs (same pfn, a smaller leaf) */
			done = done | OP_PUNCH;
			invalidate(0);
			service_fence();
			wait_for_pins(1, 0, 0);
			free_block(1);
			revalidate(0, LPTE, 0)
		:: !(done & OP_TRUNCATE1) ->
			/* truncate file 1 to zero */
			done = done | OP_TRUNCATE1;
			invalidate(0);
			invalidate(1);
			service_fence();
			wait_for_pins(1, 0, 1);
			free_block(0);
			free_block(1);
			free_block(2)
		:: !(done & OP_UNMAP2) ->
			/* the client unmaps file 2, a new mapping (file 3)
			 * wants an entry, then file 2 is truncated */
			done = done | OP_UNMAP2;
			invalidate(2);
			service_fence();
#ifdef REUSE_BUSY_ENTRY
			efile[2] = 3;
			revalidate(2, LPTE, FILE3_PTE_PFN);
#else
			if
			:: cnt[2] == 0 ->	/* unpinned: reuse it */
				efile[2] = 3;
				revalidate(2, LPTE, FILE3_PTE_PFN)
			:: else -> skip		/* a zombie of file 2 */
			fi;
#endif
			wait_for_pins(2, 2, 2);
			free_block(4);
			free_block(5);
			free_block(6);
			free_block(7)
		fi;
		service_fence();
		busy = false;
		nops++
	od
}

init
{
	atomic {
		pte[0] = E0_INIT; pte[1] = E1_INIT; pte[2] = E2_INIT;
		efile[0] = 1; efile[1] = 1; efile[2] = 2;
		run service();
		run client(0);
		run client(1)
	}
}

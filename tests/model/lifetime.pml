/*
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * lifetime.pml - a Promela model of what a lockless pin is tied to: its
 * process, not its connection and not the daemon (docs/pin-protocol.md,
 * "Lifetimes").  pin.pml checks the protocol between a pin and a layout
 * change of a living daemon; this one adds the two ways the world goes
 * wrong under a pin in flight:
 *
 *   - the connection goes (the daemon sees a disconnect): it invalidates
 *     the client's entries, fences and reads its counters, and keeps the
 *     client as an orphan while one is not zero;
 *   - the daemon dies at any moment and another starts, knowing only
 *     what is on media: the pin record written at MAP, before the entry
 *     was valid.  It cannot invalidate the old table (no one can write
 *     it any more), so the entry stays valid for ever in the client's
 *     memory; it holds the recorded block until the client re-attaches,
 *     then holds what the handed-back counter holds.
 *
 * The client: a pinning thread (read the entry, count, re-read the entry
 * and the mapping's `lost` flag, DMA, unpin) and a thread that may
 * reconnect (store lost = 1, fence, hand the counter to the new daemon).
 * Memory as in pin.pml: a store buffer per thread, drained at fences (and
 * whenever the hardware likes).  The property: the block is never freed
 * while a DMA into it is live, and no DMA starts on a freed block.
 *
 * Switches, each one breaks one rule and must be caught:
 *   NO_RECORD           the restarted daemon ignores the pin record (or it
 *                       was never written)
 *   NO_LOST_CHECK       the pin's re-read does not look at `lost` (it
 *                       pins through a lost table after the hand-over)
 *   NO_LOST_FENCE       the reconnect hands the counter over before its
 *                       store of `lost` is visible
 *   FREE_ON_DISCONNECT  the daemon frees a lost connection's blocks at
 *                       once, its counters not looked at
 */

#define MKPTE(valid, gen)	((valid) | ((gen) << 1))
#define VALID(w)		((w) & 1)
#define GEN(w)			((w) >> 1)

/* ---- shared memory ---------------------------------------------------------- */

int pte;		/* the table entry: daemon 1 writes it; no one after */
byte cnt;		/* the counter: the pinning thread's */
byte lost;		/* the mapping's flag: the reconnecting thread's */
bool record = true;	/* on media: the block may be reached (from MAP) */

/* store buffers: the daemon's (the pte), the pinner's (counter deltas),
 * the reconnecting thread's (lost) */
chan dbuf = [2] of { int };
chan pbuf = [1] of { byte };
chan lbuf = [1] of { byte };
/* the new connection: the counter region handed over (its value is read
 * by the daemon from memory, as it maps the region) */
chan reattach = [1] of { bit };

/* ---- ghost state ------------------------------------------------------------ */

byte dma;		/* live DMA into the block */
bool freed;		/* the block went back to free space */
bool dead;		/* daemon 1 died (daemon 2 runs) */

inline free_block()
{
	atomic {
		assert(dma == 0);	/* freed under a live reference */
		freed = true
	}
}

active proctype writeback()
{
	int v;
	byte d;

end:	do
	:: atomic { dbuf?v -> pte = v; v = 0 }
	:: atomic { pbuf?d -> cnt++; d = 0 }
	:: atomic { lbuf?d -> lost = d; d = 0 }
	od
}

inline drain(ch)
{
	do
	:: empty(ch) -> break
	:: else -> skip		/* the writeback process takes it */
	od
}

/* ---- the client ----------------------------------------------------------------- */

proctype pinner()
{
	int v;
	byte tries;

	do
	:: tries == 2 -> break
	:: else ->
		tries++;
		v = pte;
		if
		:: !VALID(v) -> goto next	/* the slow path: no pin */
		:: else -> skip
		fi;
		pbuf!1;			/* the increment ... */
		drain(pbuf);		/* ... a seq_cst RMW: the fence */
#ifdef NO_LOST_CHECK
		if
		:: pte != v -> atomic { cnt--; } goto next
		:: else -> skip
		fi;
#else
		if
		:: pte != v || lost -> atomic { cnt--; } goto next
		:: else -> skip
		fi;
#endif
		atomic {
			assert(!freed);	/* DMA into a freed block */
			dma++
		}
		dma--;
		atomic { cnt-- };
next:		skip
	od
}

/* After daemon 1 is gone, or any time (its own shutdown): reconnect. */
proctype reconnecter()
{
	if
	:: skip
	:: lbuf!1;
#ifndef NO_LOST_FENCE
		drain(lbuf);
#endif
		reattach!1
	fi
}

/* ---- daemon 1, until it dies -------------------------------------------------------- */

/* A layout change of the block: invalidate, fence, wait for the counter
 * (the scan, until a wake-up finds it 0), free. */
inline change_while_alive()
{
	dbuf!MKPTE(0, GEN(pte) + 1);
	drain(dbuf);
	cnt == 0;
	free_block()
}

/* The connection goes: invalidate everything, fence, then an orphan
 * while the counter holds; its blocks go when it holds nothing. */
inline disconnect()
{
	dbuf!MKPTE(0, GEN(pte) + 1);
	drain(dbuf);
#ifndef FREE_ON_DISCONNECT
	cnt == 0;
#endif
	free_block()
}

/* Whatever it does, it may die before any step: then it does no more. */
proctype daemon1()
{
end:	{
		if
		:: change_while_alive()
		:: disconnect()
		:: skip
		fi
	} unless { dead }
}

/* The daemon dies at any moment - or lives: nothing it had in memory
 * remains. */
proctype death()
{
	if
	:: dead = true
	:: skip
	fi
}

/* ---- daemon 2: what is on media, and what the client hands back ------------------------ */

proctype daemon2()
{
	bool held;
	bit m;

end_alive:
	dead == true;
	/* the pin record: held until the process exits or re-attaches */
#ifdef NO_RECORD
	held = false;
#else
	held = record;
#endif
	if
	:: held ->
		/* the client re-attaches - or never does: held for ever
		 * (until its process exits) */
end_held:	reattach?m;
		/* its counter holds what it counts, polled */
		cnt == 0
	:: else -> skip
	fi;
	/* a layout change frees the block once nothing holds it */
	if
	:: !freed -> free_block()
	:: else -> skip
	fi
}

init
{
	atomic {
		pte = MKPTE(1, 0);	/* mapped: recorded before valid */
		run pinner();
		run reconnecter();
		run daemon1();
		run death();
		run daemon2()
	}
}

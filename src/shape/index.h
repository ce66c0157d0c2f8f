/*
 * index - the scanner's live index of the queue, and what it counts.
 *
 * The index maps a queue ID to the facts of its message: queue, arrival
 * time, and the keys the policies look at (sender domain and its parents,
 * sender address, client address, SASL user, recipient domains), interned
 * as small numbers.  A file renamed to another queue keeps its ID and is
 * moved, never parsed again.  Keys are computed with the shared normaliser
 * (addr.h), so the milter computes the same ones.  Parent-domain keys stop
 * at the registrable domain and exist only for domains of at most
 * RD_NAME_MAX bytes (regdom.h); the parent_domain counts (and the table the
 * scanner publishes from them) are those, not qshape's display chain.
 *
 * Memory follows the messages indexed: every key is held once, with a
 * count of the messages (and child parent keys) that use it, and freed
 * when the last of them leaves; a domain adds at most RD_PARENTS_MAX
 * parent keys of at most RD_NAME_MAX bytes.  Keys are kept whole (the
 * throttle state and the summary hash the whole key), so the bytes held
 * are linear in the bytes of the distinct keys.  ix_stats() reports them.
 *
 * Reconcile is mark and sweep: ix_mark_begin(), ix_mark() for every file
 * seen (ix_put() for those ix_mark() does not know), ix_sweep().
 *
 * Counting happens at publication time, from the messages, because ages
 * change with the clock: ix_count_keys() ranks the keys of one kind,
 * ix_policy_input() counts one policy's window for the state machine.
 *
 * Ownership: the index owns every string it returns; they stay valid until
 * the next call that changes the index.  Allocation failure is fatal.
 */
#ifndef QSHAPE_INDEX_H
#define QSHAPE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "qshape/summary.h"
#include "qf.h"
#include "throttle.h"

#define IX_ID_MAX	23		/* longest queue ID we index */

typedef struct IX IX;

typedef struct IX_GEOM {
    int     nqueues;			/* 1..QS_MAX_QUEUES */
    int     nbuckets;			/* 1..QS_MAX_BUCKETS */
    double  bucket_minutes;		/* first bucket */
    int     linear;
} IX_GEOM;

/* One key of one kind, ranked, with its counts per queue and bucket. */
typedef struct IX_ROW {
    const char *key;
    size_t  len;
    uint32_t total;			/* over all queues */
    uint32_t count[QS_MAX_QUEUES][QS_MAX_BUCKETS + 1];
} IX_ROW;

typedef struct IX_RANK {
    IX_ROW *row;			/* top rows, by total descending */
    size_t  nrows;
    uint32_t ndistinct;			/* keys of this kind with messages */
    uint32_t other;			/* messages (or recipients) not shown */
} IX_RANK;

/* A policy's window. */
typedef struct IX_WINDOW {
    int     kind;			/* QS_KEY_* */
    unsigned queue_mask;		/* bit per queue index */
    int64_t max_age;			/* seconds, 0 = no limit */
    uint32_t min_keep;			/* report keys with at least this */
} IX_WINDOW;

extern IX *ix_create(const IX_GEOM *);
extern void ix_destroy(IX *);

/* Add or replace the message with this ID.  Returns -1 for an ID that is
 * too long to index, else 0. */
extern int ix_put(IX *, const char *id, int queue, const QF_FACTS *,
		  int64_t mtime);

/* The message moved to another queue (a rename).  1 if known, else 0. */
extern int ix_move(IX *, const char *id, int queue);

/* The message is gone.  1 if it was known, else 0. */
extern int ix_remove(IX *, const char *id);

/* Its queue, or -1 when unknown. */
extern int ix_queue_of(const IX *, const char *id);

extern void ix_mark_begin(IX *);
/* Seen during a reconcile: 1 if known (moved if need be), else 0. */
extern int ix_mark(IX *, const char *id, int queue);
/* Mark every message of a queue, as if each was seen (a reconcile that
 * knows the queue's directories have not changed). */
extern void ix_mark_queue(IX *, int queue);

/* Remove what was not seen; returns how many. */
extern size_t ix_sweep(IX *);

extern size_t ix_messages(const IX *);

/* What the index holds: for tests and debug logs. */
typedef struct IX_STATS {
    size_t  messages;
    size_t  keys[QS_NKEYKINDS];		/* interned keys in use, per kind */
    size_t  key_bytes[QS_NKEYKINDS];	/* their text, with the NULs */
    size_t  bytes;			/* heap held in all: messages, keys,
					 * maps, counting scratch */
} IX_STATS;

extern void ix_stats(const IX *, IX_STATS *);

/* Totals per queue and bucket (queue[q][0] = all ages). */
extern void ix_queue_totals(const IX *, int64_t now,
			    uint32_t out[QS_MAX_QUEUES][QS_MAX_BUCKETS + 1]);

/* The top_n keys of each kind in the mask (bit per QS_KEY_*) with their
 * counts, in two passes over the messages.  A kind's rows stay valid
 * until the next count of that kind or a change to the index. */
extern void ix_count_all(IX *, unsigned kinds, int64_t now, size_t top_n,
			 IX_RANK rank[QS_NKEYKINDS]);

/* The same for one kind. */
extern void ix_count_keys(IX *, int kind, int64_t now, size_t top_n,
			  IX_RANK *);

/* Count one policy's window: total messages and keys with at least
 * min_keep messages.  Valid until the next call or a change. */
extern void ix_policy_input(IX *, const IX_WINDOW *, int64_t now,
			    TH_INPUT *);

#endif

/*
 * sc_body - the summary body qshape-scand publishes, built by a pure
 * function: (index, throttle state, policies, geometry, time) -> QS_BODY
 * and its parts.  No I/O, no clock, no logging: the caller gives the time
 * and the buffers (the shm writer's private body, or a test's arrays), so
 * a body can be built and checked without inotify or shared memory.
 *
 * What it writes: each queue's name and totals by age (ages by the wall
 * clock: arrival times in queue files are wall time); the top keys of each
 * kind with their counts and qshape's subdomain counts; the throttled
 * keys with their policy's name, action and digest, since and hold_until
 * turned from the state's monotonic milliseconds into wall seconds at
 * 'now' (th_wall()), what kept each throttled (QS_KEPT_*) and the
 * milter's latest match of it (wall ms); the policies in config order
 * (name, digest, kind, action, keys throttled, throttle transitions:
 * QS_POLICY); published, last_reconcile, the geometry, policies_digest
 * and the scanner's counters (QS_STATS).  It
 * leaves the QS_BODY offsets and serial alone (the shm writer's), and
 * expects the parts zeroed (shm_writer_clear()), as
 * strings are NUL-padded.
 *
 * Ownership: the caller owns everything; the index is only counted (its
 * ranking scratch changes, its messages do not).
 */
#ifndef QSHAPE_SC_BODY_H
#define QSHAPE_SC_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "qshape/summary.h"
#include "index.h"
#include "scanner.h"
#include "throttle.h"

typedef struct SC_BODY_IN {
    const SC_CONF *conf;		/* queues, geometry, top_keys,
					 * policies, policies_digest */
    IX     *ix;
    const TH_STATE *state;		/* policy numbers index conf->policy */
    SC_TIME now;
    int64_t last_reconcile;		/* wall seconds */
    const SC_STATS *stats;		/* the scanner's counters; NULL:
					 * leave QS_BODY stats zero */
} SC_BODY_IN;

typedef struct SC_BODY_OUT {
    QS_BODY *body;
    QS_QUEUE *queue;			/* [QS_MAX_QUEUES] */
    QS_TABLE *table;			/* [QS_NKEYKINDS] */
    QS_KEY *key;			/* [max_keys] */
    uint32_t max_keys;			/* >= conf->top_keys * QS_NKEYKINDS */
    QS_THROTTLE *throttle;		/* [max_throttle] */
    uint32_t max_throttle;
    QS_POLICY *policy;			/* [QS_MAX_POLICIES] */
} SC_BODY_OUT;

/* Build the body.  Returns how many throttled keys did not fit in
 * max_throttle (published: the first max_throttle of the state). */
extern size_t sc_body_build(const SC_BODY_IN *, const SC_BODY_OUT *);

#endif

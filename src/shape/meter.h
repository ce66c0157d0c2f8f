/*
 * meter - metered release of held mail (issue 8, item 5): which of the
 * messages qshape-milter held go back into the queue now.  Pure: settings,
 * held messages, the throttle state (an injected lookup) and the time in;
 * a decision per message out; no I/O, no clock of its own.
 *
 * A message held by qshape-milter (its hold mark, holdmark.h, names the
 * policy and the key) is released now when, in this order:
 *   1. its policy (by name) is configured and has release_held = metered
 *      (else MT_NO_POLICY, MT_MANUAL: left for the operator);
 *   2. it was held no more than held_max_age seconds ago (0: no limit;
 *      else MT_TOO_OLD: left for the operator, to be reported);
 *   3. the queue is not congested: the caller passes congested = 1 when
 *      any key is throttled by any policy, or when it cannot tell (no
 *      fresh summary) (MT_CONGESTED: wait);
 *   4. its key is no longer throttled by its policy (MT_THROTTLED: wait);
 *   5. its policy's bucket holds a whole token (MT_RATE: wait).
 * Messages are taken oldest hold first (then by queue ID), so each policy
 * releases its oldest eligible mail first.
 *
 * The rate: "qshapectl release --metered" runs every minute (a timer or
 * cron) and keeps each policy's MT_BUCKET between runs (relstate.h).  A
 * policy earns release_rate messages per second of the caller's monotonic
 * clock since its previous call, counting at most MT_SPAN_MS of it (a
 * missed run is not made up), plus the fraction of a message it kept; a
 * release spends one.  Its first call (started = 0) earns one second's
 * worth, at least one message.  When no message of a policy waited for
 * the rate (MT_RATE) in a call, its unspent credit is dropped: all of its
 * mail went, or the rest waits for something else (congestion, its key,
 * held_max_age), and a release that resumes after a pause goes at the
 * rate, without a burst.
 *
 * mt_queue_congested() is step 3's test for one policy's queues: could
 * any key enter the throttled state (throttle.h) with this total?
 *
 * Ownership: the caller owns every array; mt_plan() sorts msgs in place
 * and sets each why.
 */
#ifndef QSHAPE_METER_H
#define QSHAPE_METER_H

#include <stddef.h>
#include <stdint.h>

#include "holdmark.h"

typedef enum MT_WHY {
    MT_RELEASE = 0,			/* release it now */
    MT_NO_POLICY,			/* its policy is not configured */
    MT_MANUAL,				/* release_held = manual */
    MT_TOO_OLD,				/* held longer than held_max_age */
    MT_CONGESTED,			/* some key is throttled */
    MT_THROTTLED,			/* its key is still throttled */
    MT_RATE,				/* its policy's rate is used up */
    MT_NWHY
} MT_WHY;

typedef struct MT_POLICY {
    const char *name;
    int     metered;			/* release_held = metered */
    double  rate;			/* release_rate, messages/s, > 0
					 * (counted in thousandths: 0.001
					 * to 1,000,000) */
    int64_t max_age;			/* held_max_age, s; 0 = no limit */
} MT_POLICY;

#define MT_SPAN_MS	60000		/* most time counted between calls */

/* One per policy, kept by the caller between calls; zero it to start. */
typedef struct MT_BUCKET {
    int     started;
    int64_t units;			/* credit, millionths of a message */
    int64_t last_ms;			/* the caller's monotonic clock */
} MT_BUCKET;

typedef struct MT_MSG {
    const char *id;			/* queue ID */
    HM_MARK mark;
    MT_WHY  why;			/* set by mt_plan() */
} MT_MSG;

/* Is the key of this mark throttled by this policy now? */
typedef int (*MT_THROTTLED_FN) (void *ctx, const MT_POLICY *,
				const HM_MARK *);

/*
 * Decide for every message.  buckets[i] belongs to policies[i].  now_s:
 * wall clock, seconds (for held_max_age, against the marks' times);
 * now_ms: monotonic milliseconds (for the buckets).  Returns how many
 * messages are MT_RELEASE.
 */
extern size_t mt_plan(const MT_POLICY *policies, MT_BUCKET *buckets,
		      size_t npolicies, MT_MSG *msgs, size_t nmsgs,
		      int congested, MT_THROTTLED_FN throttled, void *ctx,
		      int64_t now_s, int64_t now_ms);

/*
 * Could a policy throttle a key now, with total messages in its queues?
 * Only when total >= min_queue and total >= min_count (a key has at most
 * total messages).  min_queue: the policy's, in messages.
 */
extern int mt_queue_congested(int64_t total, int64_t min_queue,
			      int64_t min_count);

/* "release", "no_policy", "manual", "too_old", "congested", "throttled",
 * "rate". */
extern const char *mt_why_name(MT_WHY);

#endif

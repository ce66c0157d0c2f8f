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
 * The bucket: each policy earns release_rate tokens per second of the
 * caller's monotonic clock, and keeps at most max(1, release_rate) (one
 * second's worth: no burst after a pause); a release spends one.  The first
 * call starts the bucket full.  While congested the bucket fills (up to
 * its cap) but is not spent.
 *
 * Ownership: the caller owns every array; mt_plan() sorts msgs in place
 * and sets each why.  Not wired to a command yet: "qshapectl release
 * --metered" needs the policy settings release_held, release_rate and
 * held_max_age in the configuration (conf.c).
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

/* One per policy, kept by the caller between calls; zero it to start. */
typedef struct MT_BUCKET {
    int     started;
    int64_t units;			/* tokens, in millionths */
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

/* "release", "no_policy", "manual", "too_old", "congested", "throttled",
 * "rate". */
extern const char *mt_why_name(MT_WHY);

#endif

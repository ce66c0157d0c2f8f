/*
 * throttle - the throttle state machine: which keys are throttled now.
 *
 * A pure function: (policies, the counts of this moment, previous state,
 * now) -> new state.  It runs in the scanner at each publication, so every
 * milter process and qshapectl see one truth.  No I/O, no clock, no
 * allocation outside the state it returns.
 *
 * Time.  'now', since and hold_until are seconds on a clock that a step
 * of the wall clock cannot move: the scanner passes CLOCK_MONOTONIC, so
 * setting the date never shortens or stretches a min_hold_time.  Keep the
 * state on that clock; th_wall() turns one of its times into wall time for
 * people (the summary's since and hold_until) at the moment it is shown.
 *
 * Per policy, a key ENTERS when, over the policy's queues and age window,
 *   total >= min_queue, count >= min_count and count/total >= min_share.
 * A throttled key LEAVES only when min_hold_time has passed since it
 * entered and one of the three has fallen below its enter value times
 * release_ratio (hysteresis): the queue is no longer congested, or the key
 * no longer has the count or the share.
 *
 * Ownership: th_step() fills 'next' (reset first), which owns its keys;
 * th_state_free() releases them.  Errors: th_step() returns 0, or -1 when
 * it could not allocate (next is then empty; keep the previous state).
 */
#ifndef QSHAPE_THROTTLE_H
#define QSHAPE_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct TH_POLICY {
    const char *name;
    int     kind;			/* QS_KEY_* */
    int     action;			/* QS_ACTION_* */
    uint32_t min_queue;			/* messages in the watched queues */
    uint32_t min_count;			/* messages of the key */
    double  min_share;			/* count / total, 0..1 */
    double  release_ratio;		/* 0..1 */
    int64_t min_hold_time;		/* seconds */
} TH_POLICY;

/* One key's count in one policy's window. */
typedef struct TH_COUNT {
    const char *key;
    size_t  len;
    uint32_t count;
} TH_COUNT;

/* What the index counted for one policy at this moment. */
typedef struct TH_INPUT {
    uint32_t total;			/* messages in the watched window */
    const TH_COUNT *keys;		/* keys with a count (any order) */
    size_t  nkeys;
} TH_INPUT;

typedef struct TH_ENTRY {
    int     policy;			/* index into the policy array */
    char   *key;			/* NUL-terminated copy */
    size_t  len;
    uint32_t count;			/* now */
    uint32_t total;			/* now */
    uint32_t enter_count;		/* when it entered */
    uint32_t enter_total;
    int64_t since;			/* entered, seconds, caller's clock */
    int64_t hold_until;			/* since + min_hold_time, same clock */
} TH_ENTRY;

typedef struct TH_STATE {
    TH_ENTRY *entry;
    size_t  n;
    size_t  cap;
} TH_STATE;

extern int th_step(const TH_POLICY *, size_t npolicy, const TH_INPUT *,
		   const TH_STATE *prev, int64_t now, TH_STATE *next);
extern void th_state_free(TH_STATE *);

/*
 * A time t of the state's clock as wall time, given one moment read on
 * both clocks: now_wall + (t - now_mono), all in seconds.
 */
extern int64_t th_wall(int64_t t, int64_t now_mono, int64_t now_wall);

/* The entry for (policy, key) in a state, or NULL. */
extern const TH_ENTRY *th_find(const TH_STATE *, int policy,
			       const char *key, size_t len);

#endif

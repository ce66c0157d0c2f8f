/*
 * throttle - the throttle state machine: which keys are throttled now.
 *
 * A pure function: (policies, the counts of this moment, previous state,
 * now) -> new state.  It runs in the scanner at each publication, so every
 * milter process and qshapectl see one truth.  No I/O, no clock; nothing
 * allocated outlives a call except the state it returns (and TH_INDEX).
 *
 * Time.  'now', since, hold_until, last_pressure, min_hold_time and
 * pressure_time are in one unit on one clock, both of the caller's
 * choosing: the scanner passes CLOCK_MONOTONIC milliseconds (and its
 * settings times 1000), so a step of the wall clock never shortens or
 * stretches a min_hold_time, and the hold time ends at the first step at
 * or after since + min_hold_time (th_next_deadline() says when that is).
 * th_wall() turns one of these times into wall time for people.
 *
 * Per policy, a key ENTERS when, over the policy's queues and age window,
 *   total >= min_queue, count >= min_count and count/total >= min_share.
 * A throttled key STAYS while any one of these holds (each alone keeps
 * it; the TH_KEPT_* flags of the entry say which held at this step):
 *   TH_KEPT_HOLD_TIME  now < hold_until (since + min_hold_time);
 *   TH_KEPT_PRESSURE   the milter turned its mail away (tempfailed, held,
 *                      or matched under "log") less than pressure_time
 *                      ago: now - last_pressure < pressure_time;
 *   TH_KEPT_QUEUE      the queue still calls for it, all three of
 *                      total >= release_ratio * min_queue,
 *                      count >= release_ratio * min_count and
 *                      count >= release_ratio * min_share * total.
 * So it LEAVES at the first step at which min_hold_time has passed, no
 * mail of the key was turned away for pressure_time, and total, count or
 * share has fallen below its enter value times release_ratio
 * (hysteresis).  pressure_time 0 turns the pressure condition off.
 *
 * Pressure comes from the milter's counters (counters.h): per throttled
 * key, when the milter last turned one of its messages away.  The caller
 * passes it to th_step_pressure(), one TH_PRESSURE_IN per policy (th_step()
 * is the same without any); a time after 'now' is taken as 'now', so a
 * counter can keep a throttled key throttled, never more.
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
    int64_t min_hold_time;		/* the caller's unit (see Time) */
    int64_t pressure_time;		/* the caller's unit; 0: off */
} TH_POLICY;

/* One key's count in one policy's window. */
typedef struct TH_COUNT {
    const char *key;
    size_t  len;
    uint32_t count;
} TH_COUNT;

/* When the milter last turned away mail of one key of a policy. */
typedef struct TH_PRESSURE {
    const char *key;
    size_t  len;
    int64_t last;			/* caller's clock */
} TH_PRESSURE;

/* What the index counted for one policy at this moment. */
typedef struct TH_INPUT {
    uint32_t total;			/* messages in the watched window */
    const TH_COUNT *keys;		/* keys with a count (any order) */
    size_t  nkeys;
} TH_INPUT;

/* The pressure on one policy's throttled keys at this moment. */
typedef struct TH_PRESSURE_IN {
    const TH_PRESSURE *key;		/* any order; unknown keys ignored */
    size_t  nkeys;
} TH_PRESSURE_IN;

#define TH_NEVER	INT64_MIN	/* no pressure seen */

/* Why a key is throttled at this step: each alone would keep it. */
#define TH_KEPT_QUEUE		0x1	/* total, count and share */
#define TH_KEPT_HOLD_TIME	0x2	/* now < hold_until */
#define TH_KEPT_PRESSURE	0x4	/* mail turned away recently */

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
    int64_t last_pressure;		/* latest pressure seen, or TH_NEVER */
    unsigned kept;			/* TH_KEPT_* at this step */
} TH_ENTRY;

typedef struct TH_STATE {
    TH_ENTRY *entry;
    size_t  n;
    size_t  cap;
} TH_STATE;

extern int th_step(const TH_POLICY *, size_t npolicy, const TH_INPUT *,
		   const TH_STATE *prev, int64_t now, TH_STATE *next);
extern int th_step_pressure(const TH_POLICY *, size_t npolicy,
			    const TH_INPUT *, const TH_PRESSURE_IN *,
			    const TH_STATE *prev, int64_t now,
			    TH_STATE *next);
extern void th_state_free(TH_STATE *);

/*
 * A time t of the state's clock as wall time, given one moment read on
 * both clocks: now_wall + (t - now_mono), all in seconds.
 */
extern int64_t th_wall(int64_t t, int64_t now_mono, int64_t now_wall);

/*
 * The earliest time after 'now' at which a condition keeping a key of the
 * state throttled runs out by itself (hold_until, last_pressure +
 * pressure_time), or INT64_MAX: a step then is the exact release.
 */
extern int64_t th_next_deadline(const TH_POLICY *, const TH_STATE *,
				int64_t now);

/* The names of the TH_KEPT_* flags set in kept, joined by ',' into buf
 * ("queue,min_hold_time,pressure"; "" for none).  Returns buf. */
extern const char *th_kept_names(unsigned kept, char *buf, size_t len);

/* The entry for (policy, key) in a state, or NULL: a scan of the state,
 * for one lookup.  For many, index the state first. */
extern const TH_ENTRY *th_find(const TH_STATE *, int policy,
			       const char *key, size_t len);

/*
 * A state's keys sorted once, for many lookups (O(log n) each).  The
 * index points into the state, which must not change while it is used.
 * th_index() returns 0, or -1 when it could not allocate; th_index_find()
 * on an index that failed scans the state as th_find() does, so callers
 * need not care.  th_index_free() releases it (also one that failed).
 */
typedef struct TH_INDEX {
    struct TH_REF *ref;
    size_t  n;
} TH_INDEX;

extern int th_index(TH_INDEX *, const TH_STATE *);
extern const TH_ENTRY *th_index_find(const TH_INDEX *, const TH_STATE *,
				     int policy, const char *key,
				     size_t len);
extern void th_index_free(TH_INDEX *);

#endif

/*
 * Unit tests for throttle, the throttle state machine.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qshape/summary.h"
#include "throttle.h"

#include "failmalloc.h"		/* allocation failures: out_of_memory */

#define T0	1700000000

static const TH_POLICY flood = {
    "flood", QS_KEY_SENDER_DOMAIN, QS_ACTION_HOLD,
    100,				/* min_queue */
    50,					/* min_count */
    0.5,				/* min_share */
    0.8,				/* release_ratio */
    300,				/* min_hold_time */
    0,					/* pressure_time: off */
};

/* One step with one policy and up to two keys. */
static void
step(const TH_STATE *prev, TH_STATE *next, int64_t now, uint32_t total,
     uint32_t spam, uint32_t ham)
{
    TH_COUNT c[2] = {
	{"spam.example", 12, spam},
	{"ham.example", 11, ham},
    };
    TH_INPUT in = {total, c, 2};

    assert_int_equal(th_step(&flood, 1, &in, prev, now, next), 0);
}

static const TH_ENTRY *
spam(const TH_STATE *s)
{
    return th_find(s, 0, "spam.example", 12);
}

static void
enter_and_numbers(void **state)
{
    TH_STATE a, b;

    (void) state;
    step(0, &a, T0, 200, 99, 90);	/* shares 0.495 and 0.45: no */
    assert_int_equal(a.n, 0);
    step(&a, &b, T0 + 1, 200, 100, 60);	/* 0.5: yes; 0.3: no */
    assert_int_equal(b.n, 1);
    assert_non_null(spam(&b));
    assert_int_equal(spam(&b)->enter_count, 100);
    assert_int_equal(spam(&b)->enter_total, 200);
    assert_int_equal(spam(&b)->since, T0 + 1);
    assert_int_equal(spam(&b)->hold_until, T0 + 301);
    assert_null(th_find(&b, 0, "ham.example", 11));
    th_state_free(&a);
    th_state_free(&b);
}

static void
congestion_gate(void **state)
{
    TH_STATE a;

    (void) state;
    step(0, &a, T0, 99, 99, 0);	/* all of a small queue: no */
    assert_int_equal(a.n, 0);
    th_state_free(&a);
    /* min_count alone: enter_boundaries (here 49 of 100 would also be
     * below min_share). */
    step(0, &a, T0, 100, 50, 0);
    assert_int_equal(a.n, 1);
    th_state_free(&a);
}

/* Once in, it stays above the release values and before min_hold_time. */
static void
hysteresis_and_hold_time(void **state)
{
    TH_STATE a, b, c;

    (void) state;
    step(0, &a, T0, 200, 100, 100);
    assert_non_null(spam(&a));
    /* Far below the enter values, but min_hold_time has not passed. */
    step(&a, &b, T0 + 299, 200, 1, 199);
    assert_non_null(spam(&b));
    assert_int_equal(spam(&b)->count, 1);
    assert_int_equal(spam(&b)->since, T0);
    th_state_free(&a);
    /* After it: share 0.45 >= 0.8 * 0.5 and count 90 >= 40: stays. */
    step(&b, &a, T0 + 300, 200, 90, 110);
    assert_non_null(spam(&a));
    assert_int_equal(spam(&a)->enter_count, 100);
    th_state_free(&b);
    /* Share 0.395 < 0.4: leaves. */
    step(&a, &b, T0 + 301, 200, 79, 121);
    assert_null(spam(&b));
    th_state_free(&a);
    /* And does not come back at 0.45 (needs 0.5 again). */
    step(&b, &c, T0 + 302, 200, 90, 110);
    assert_null(spam(&c));
    th_state_free(&b);
    th_state_free(&c);
}

static void
leaves_on_count_or_queue(void **state)
{
    TH_STATE a, b;

    (void) state;
    step(0, &a, T0, 200, 100, 100);
    step(&a, &b, T0 + 400, 85, 39, 0);	/* count 39 < 40; queue, share in */
    assert_null(spam(&b));
    th_state_free(&b);
    step(&a, &b, T0 + 400, 79, 79, 0);	/* queue 79 < 80: drained */
    assert_null(spam(&b));
    th_state_free(&b);
    step(&a, &b, T0 + 400, 80, 40, 0);	/* all at the release values */
    assert_non_null(spam(&b));
    th_state_free(&b);
    /* A key that disappears from the window counts zero. */
    {
	TH_INPUT in = {500, 0, 0};

	assert_int_equal(th_step(&flood, 1, &in, &a, T0 + 400, &b), 0);
	assert_int_equal(b.n, 0);
    }
    th_state_free(&a);
    th_state_free(&b);
    th_state_free(0);
}

/* Policies are independent: the same key in two policies. */
static void
two_policies(void **state)
{
    TH_POLICY p[2] = {flood, flood};
    TH_COUNT c0[1] = {{"spam.example", 12, 60}};
    TH_COUNT c1[1] = {{"spam.example", 12, 60}};
    TH_INPUT in[2] = {{100, c0, 1}, {1000, c1, 1}};
    TH_STATE a;

    (void) state;
    p[1].name = "strict";
    assert_int_equal(th_step(p, 2, in, 0, T0, &a), 0);
    assert_non_null(th_find(&a, 0, "spam.example", 12));
    assert_null(th_find(&a, 1, "spam.example", 12));	/* 6% of 1000 */
    th_state_free(&a);
}

/*
 * The state keeps its own clock (the scanner's monotonic seconds, small
 * after a boot); only what is shown moves with the wall clock.  Entered at
 * monotonic 100, held until 400 whatever the date does; shown at
 * monotonic 399 with the wall clock at W, at W - 60 (stepped back) and at
 * W + 60 (forward), hold_until is one second ahead of each.
 */
static void
hold_on_its_own_clock(void **state)
{
    const int64_t W = T0;
    TH_STATE a, b;

    (void) state;
    step(0, &a, 100, 200, 100, 100);
    assert_int_equal(spam(&a)->since, 100);
    assert_int_equal(spam(&a)->hold_until, 400);
    step(&a, &b, 399, 200, 0, 200);	/* mail gone, hold not over */
    assert_non_null(spam(&b));
    assert_int_equal(th_wall(spam(&b)->hold_until, 399, W), W + 1);
    assert_int_equal(th_wall(spam(&b)->hold_until, 399, W - 60), W - 59);
    assert_int_equal(th_wall(spam(&b)->hold_until, 399, W + 60), W + 61);
    assert_int_equal(th_wall(spam(&b)->since, 399, W - 60), W - 60 - 299);
    th_state_free(&a);
    step(&b, &a, 400, 200, 0, 200);	/* over: leaves */
    assert_null(spam(&a));
    th_state_free(&a);
    th_state_free(&b);
}

/*
 * Release conditions (throttle.h): a throttled key stays while any one of
 * min_hold_time, pressure and the queue keeps it.  Times in milliseconds,
 * as the scanner passes them: min_hold_time 300 s, pressure_time 60 s.
 * Each test below sets exactly one condition at its boundary and the
 * other two well released.
 */
static const TH_POLICY msp = {
    "flood", QS_KEY_SENDER_DOMAIN, QS_ACTION_HOLD,
    100, 50, 0.5, 0.8,
    300000,				/* min_hold_time, ms */
    60000,				/* pressure_time, ms */
};

#define M0	5000			/* monotonic ms at entry */

/* One step of msp with spam at (total, count) and, if last is not
 * TH_NEVER, the milter's last turned-away spam message at 'last'. */
static void
mstep(const TH_STATE *prev, TH_STATE *next, int64_t now, uint32_t total,
      uint32_t count, int64_t last)
{
    TH_COUNT c[1] = {{"spam.example", 12, count}};
    TH_INPUT in = {total, c, 1};
    TH_PRESSURE pk[1] = {{"spam.example", 12, last}};
    TH_PRESSURE_IN pr = {pk, last == TH_NEVER ? 0 : 1};

    assert_int_equal(th_step_pressure(&msp, 1, &in, &pr, prev, now, next),
		     0);
}

/* Entered at M0 with (200, 100), no pressure yet. */
static void
mentered(TH_STATE *a)
{
    mstep(0, a, M0, 200, 100, TH_NEVER);
    assert_non_null(spam(a));
    assert_int_equal(spam(a)->kept, TH_KEPT_QUEUE | TH_KEPT_HOLD_TIME);
    assert_int_equal(spam(a)->hold_until, M0 + 300000);
    assert_true(spam(a)->last_pressure == TH_NEVER);
}

/* min_hold_time alone: queue empty, no pressure; exact to the ms. */
static void
release_by_hold_time_alone(void **state)
{
    TH_STATE a, b;

    (void) state;
    mentered(&a);
    mstep(&a, &b, M0 + 299999, 0, 0, TH_NEVER);
    assert_non_null(spam(&b));
    assert_int_equal(spam(&b)->kept, TH_KEPT_HOLD_TIME);
    assert_int_equal(th_next_deadline(&msp, &b, M0 + 299999), M0 + 300000);
    th_state_free(&b);
    mstep(&a, &b, M0 + 300000, 0, 0, TH_NEVER);
    assert_null(spam(&b));
    th_state_free(&a);
    th_state_free(&b);
}

/* Pressure alone: after the hold time, queue empty; the milter turned a
 * message away at P.  Kept until P + 60 s, exactly. */
static void
release_by_pressure_alone(void **state)
{
    const int64_t P = M0 + 310000;
    TH_STATE a, b, c;

    (void) state;
    mentered(&a);
    mstep(&a, &b, P + 1, 0, 0, P);
    assert_non_null(spam(&b));
    assert_int_equal(spam(&b)->kept, TH_KEPT_PRESSURE);
    assert_int_equal(spam(&b)->last_pressure, P);
    assert_int_equal(th_next_deadline(&msp, &b, P + 1), P + 60000);
    /* No new pressure: the one remembered keeps it to P + 59999. */
    mstep(&b, &c, P + 59999, 0, 0, TH_NEVER);
    assert_non_null(spam(&c));
    assert_int_equal(spam(&c)->kept, TH_KEPT_PRESSURE);
    th_state_free(&c);
    mstep(&b, &c, P + 60000, 0, 0, TH_NEVER);
    assert_null(spam(&c));
    th_state_free(&c);
    /* An older pressure report does not move it back. */
    mstep(&b, &c, P + 60000, 0, 0, P - 1000);
    assert_null(spam(&c));
    th_state_free(&a);
    th_state_free(&b);
    th_state_free(&c);
}

/* A pressure time in the future counts as now: it keeps the key for
 * pressure_time, never longer. */
static void
pressure_never_after_now(void **state)
{
    const int64_t N = M0 + 400000;
    TH_STATE a, b, c;

    (void) state;
    mentered(&a);
    mstep(&a, &b, N, 0, 0, INT64_MAX);
    assert_int_equal(spam(&b)->last_pressure, N);
    mstep(&b, &c, N + 60000, 0, 0, TH_NEVER);
    assert_null(spam(&c));
    th_state_free(&a);
    th_state_free(&b);
    th_state_free(&c);
}

/* The queue alone, after the hold time and without pressure: each of
 * total, count and share decides by itself at its release value. */
static void
release_by_queue_alone(void **state)
{
    const int64_t N = M0 + 400000;
    TH_STATE a, b;

    (void) state;
    mentered(&a);
    mstep(&a, &b, N, 80, 40, TH_NEVER);		/* all at the values */
    assert_non_null(spam(&b));
    assert_int_equal(spam(&b)->kept, TH_KEPT_QUEUE);
    th_state_free(&b);
    mstep(&a, &b, N, 79, 79, TH_NEVER);		/* total 79 < 80 */
    assert_null(spam(&b));
    th_state_free(&b);
    mstep(&a, &b, N, 1000, 39, TH_NEVER);	/* count 39 < 40 */
    assert_null(spam(&b));
    th_state_free(&b);
    mstep(&a, &b, N, 1000, 399, TH_NEVER);	/* share 0.399 < 0.4 */
    assert_null(spam(&b));
    th_state_free(&b);
    mstep(&a, &b, N, 1000, 400, TH_NEVER);	/* share 0.4 */
    assert_non_null(spam(&b));
    th_state_free(&a);
    th_state_free(&b);
}

/* pressure_time 0: pressure never keeps a key. */
static void
pressure_off(void **state)
{
    TH_POLICY p = msp;
    TH_COUNT c[1] = {{"spam.example", 12, 0}};
    TH_INPUT in = {0, c, 1};
    TH_PRESSURE pk[1] = {{"spam.example", 12, M0 + 399999}};
    TH_PRESSURE_IN pr = {pk, 1};
    TH_STATE a, b;

    (void) state;
    p.pressure_time = 0;
    mentered(&a);
    assert_int_equal(th_step_pressure(&p, 1, &in, &pr, &a, M0 + 400000, &b),
		     0);
    assert_null(spam(&b));
    assert_int_equal(th_next_deadline(&p, &a, M0 + 300000), INT64_MAX);
    th_state_free(&a);
    th_state_free(&b);
}

/* A key kept by pressure alone (hold over, queue empty) when pressure_time
 * is 1: a pressure report at now keeps it for that step only. */
static void
pressure_time_one(void **state)
{
    const int64_t N = M0 + 400000;
    TH_POLICY p = msp;
    TH_COUNT c[1] = {{"spam.example", 12, 0}};
    TH_INPUT in = {0, c, 1};
    TH_PRESSURE pk[1] = {{"spam.example", 12, N}};
    TH_PRESSURE_IN pr = {pk, 1};
    TH_STATE a, b, d;

    (void) state;
    p.pressure_time = 1;
    mentered(&a);
    assert_int_equal(th_step_pressure(&p, 1, &in, &pr, &a, N, &b), 0);
    assert_non_null(spam(&b));
    assert_int_equal(spam(&b)->kept, TH_KEPT_PRESSURE);
    assert_int_equal(th_step_pressure(&p, 1, &in, 0, &b, N + 1, &d), 0);
    assert_int_equal(d.n, 0);
    th_state_free(&a);
    th_state_free(&b);
    th_state_free(&d);
}

/* The pressure on a key is its own: not that of a longer key it is a
 * prefix of, nor of another key of the same length, newer as they are. */
static void
pressure_of_own_key(void **state)
{
    const int64_t N = M0 + 400000;
    TH_COUNT c[1] = {{"spam.example", 12, 0}};
    TH_INPUT in = {0, c, 1};
    TH_PRESSURE pk[3] = {
	{"spam.example.org", 16, N - 10},
	{"spam.exampla", 12, N - 10},
	{"spam.example", 12, N - 50000},
    };
    TH_PRESSURE_IN pr = {pk, 3};
    TH_STATE a, b;

    (void) state;
    mentered(&a);
    assert_int_equal(th_step_pressure(&msp, 1, &in, &pr, &a, N, &b), 0);
    assert_non_null(spam(&b));
    assert_int_equal(spam(&b)->kept, TH_KEPT_PRESSURE);
    assert_int_equal(spam(&b)->last_pressure, N - 50000);
    th_state_free(&a);
    th_state_free(&b);
}

/* A hand-made entry of policy pol for "spam.example". */
static TH_ENTRY
made(int pol, int64_t hold_until, int64_t last_pressure)
{
    TH_ENTRY e;

    memset(&e, 0, sizeof(e));
    e.policy = pol;
    e.key = (char *) "spam.example";
    e.len = 12;
    e.since = hold_until - 300;
    e.hold_until = hold_until;
    e.last_pressure = last_pressure;
    return e;
}

/* pressure_time 0 turns pressure off, even a pressure time after now
 * (which th_step() never records, but a state may carry). */
static void
pressure_off_whatever_the_time(void **state)
{
    const int64_t N = M0 + 400000;
    TH_POLICY p = msp;
    TH_ENTRY e = made(0, N - 1, N + 1000);
    TH_STATE a = {&e, 1, 1}, b;
    TH_INPUT in = {0, 0, 0};

    (void) state;
    p.pressure_time = 0;
    assert_int_equal(th_step_pressure(&p, 1, &in, 0, &a, N, &b), 0);
    assert_int_equal(b.n, 0);
    th_state_free(&b);
    /* With pressure on, the same entry is kept by it. */
    assert_int_equal(th_step_pressure(&msp, 1, &in, 0, &a, N, &b), 0);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.entry[0].kept, TH_KEPT_PRESSURE);
    th_state_free(&b);
}

/*
 * th_next_deadline() over hand-made states, one comparison deciding each
 * case.  Policies: 0 pressure_time 60, 1 off, 2 pressure_time 1.
 */
static void
next_deadline(void **state)
{
    const int64_t N = 1000;
    TH_POLICY p[3] = {flood, flood, flood};
    TH_ENTRY e[2];
    TH_STATE s = {e, 2, 2}, one = {e, 1, 1};

    (void) state;
    p[0].pressure_time = 60;
    p[1].pressure_time = 0;
    p[2].pressure_time = 1;
    assert_int_equal(th_next_deadline(p, 0, N), INT64_MAX);
    one.n = 0;
    assert_int_equal(th_next_deadline(p, &one, N), INT64_MAX);
    one.n = 1;
    /* Hold times: the earliest after now, in either order. */
    e[0] = made(1, N + 20, TH_NEVER);
    e[1] = made(1, N + 30, TH_NEVER);
    assert_int_equal(th_next_deadline(p, &s, N), N + 20);
    e[0] = made(1, N + 30, TH_NEVER);
    e[1] = made(1, N + 20, TH_NEVER);
    assert_int_equal(th_next_deadline(p, &s, N), N + 20);
    e[1] = made(1, N, TH_NEVER);		/* not after now */
    assert_int_equal(th_next_deadline(p, &s, N), N + 30);
    /* Pressure: last + 60 when after now and before the hold time. */
    e[0] = made(0, N + 100, N - 10);
    assert_int_equal(th_next_deadline(p, &one, N), N + 50);
    e[0] = made(0, N + 5, N - 10);		/* N + 50: after the hold */
    assert_int_equal(th_next_deadline(p, &one, N), N + 5);
    e[0] = made(0, N + 5, N - 60);		/* N: not after now */
    assert_int_equal(th_next_deadline(p, &one, N), N + 5);
    e[0] = made(0, N + 5, N - 100);		/* N - 40: past */
    assert_int_equal(th_next_deadline(p, &one, N), N + 5);
    /* Never pressed: TH_NEVER is no time, even near the bottom of the
     * clock. */
    e[0] = made(0, 0, TH_NEVER);
    assert_int_equal(th_next_deadline(p, &one, TH_NEVER + 1), 0);
    /* Pressure off: a pressure time (after now here) is no deadline. */
    e[0] = made(1, N + 5, N + 2);
    assert_int_equal(th_next_deadline(p, &one, N), N + 5);
    /* pressure_time 1 is on: last + 1. */
    e[0] = made(2, N + 5, N);
    assert_int_equal(th_next_deadline(p, &one, N), N + 1);
}

/*
 * Boundaries (style.md point 15): in each pair of steps exactly one
 * condition sits at its threshold, one step on each side; every other
 * input is well inside its range.
 */
static TH_POLICY
with(uint32_t min_queue, uint32_t min_count, double min_share)
{
    TH_POLICY p = flood;

    p.min_queue = min_queue;
    p.min_count = min_count;
    p.min_share = min_share;
    return p;
}

/* Does spam.example enter from nothing with this count and total? */
static int
enters_at(const TH_POLICY *p, uint32_t total, uint32_t count)
{
    TH_COUNT c[1] = {{"spam.example", 12, count}};
    TH_INPUT in = {total, c, 1};
    TH_STATE s;
    int     n;

    assert_int_equal(th_step(p, 1, &in, 0, T0, &s), 0);
    n = (int) s.n;
    if (n == 1) {
	assert_int_equal(s.entry[0].count, count);
	assert_int_equal(s.entry[0].total, total);
    }
    th_state_free(&s);
    return n;
}

static void
enter_boundaries(void **state)
{
    TH_POLICY q = with(100, 10, 0.1);	/* count and share far away */
    TH_POLICY c = with(10, 50, 0.1);	/* queue and share far away */
    TH_POLICY s = with(10, 10, 0.5);	/* queue and count far away */

    (void) state;
    /* min_queue: 99 of 99 (count 99 >= 10, share 1) vs 100. */
    assert_int_equal(enters_at(&q, 99, 99), 0);
    assert_int_equal(enters_at(&q, 100, 99), 1);
    assert_int_equal(enters_at(&q, 101, 99), 1);
    /* min_count: 49 vs 50 of 200 (shares 0.245, 0.25 >= 0.1). */
    assert_int_equal(enters_at(&c, 200, 49), 0);
    assert_int_equal(enters_at(&c, 200, 50), 1);
    assert_int_equal(enters_at(&c, 200, 51), 1);
    /* min_share: 99 and 100 of 200 (count >= 10, total >= 10). */
    assert_int_equal(enters_at(&s, 200, 99), 0);
    assert_int_equal(enters_at(&s, 200, 100), 1);
    assert_int_equal(enters_at(&s, 200, 101), 1);
    /* The same at the share's boundary from above: 100 of 201. */
    assert_int_equal(enters_at(&s, 201, 100), 0);
}

/* With every threshold at 0, an empty window still throttles nothing. */
static void
empty_window(void **state)
{
    TH_POLICY z = with(0, 0, 0);
    TH_STATE a, b;
    TH_COUNT c[1] = {{"spam.example", 12, 0}};
    TH_INPUT in = {0, c, 1};

    (void) state;
    assert_int_equal(enters_at(&z, 0, 0), 0);
    assert_int_equal(enters_at(&z, 1, 0), 1);	/* total > 0: it does */
    /* A throttled key with every threshold 0 leaves an empty window. */
    step(0, &a, T0, 200, 100, 0);
    assert_int_equal(th_step(&z, 1, &in, &a, T0 + 400, &b), 0);
    assert_int_equal(b.n, 0);
    th_state_free(&b);
    in.total = 1;
    assert_int_equal(th_step(&z, 1, &in, &a, T0 + 400, &b), 0);
    assert_int_equal(b.n, 1);
    th_state_free(&a);
    th_state_free(&b);
}

static void
kept_names(void **state)
{
    char    buf[64];

    (void) state;
    assert_string_equal(th_kept_names(0, buf, sizeof(buf)), "");
    assert_string_equal(th_kept_names(TH_KEPT_QUEUE | TH_KEPT_HOLD_TIME
				      | TH_KEPT_PRESSURE, buf, sizeof(buf)),
			"queue,min_hold_time,pressure");
    assert_string_equal(th_kept_names(TH_KEPT_PRESSURE, buf, sizeof(buf)),
			"pressure");
    assert_string_equal(th_kept_names(TH_KEPT_HOLD_TIME | TH_KEPT_PRESSURE,
				      buf, 14), "min_hold_time");
}

/* th_kept_names() never writes past len: nothing at all for 0, only the
 * terminator for 1, and a cut name when the names do not fit. */
static void
kept_names_short(void **state)
{
    const unsigned all = TH_KEPT_QUEUE | TH_KEPT_HOLD_TIME | TH_KEPT_PRESSURE;
    char    buf[64];
    size_t  i;

    (void) state;
    memset(buf, 'x', sizeof(buf));
    assert_ptr_equal(th_kept_names(all, buf, 0), buf);
    assert_int_equal(buf[0], 'x');
    assert_string_equal(th_kept_names(all, buf, 1), "");
    assert_int_equal(buf[1], 'x');
    memset(buf, 'x', sizeof(buf));
    assert_string_equal(th_kept_names(all, buf, 10), "queue,min");
    for (i = 10; i < sizeof(buf); i++)
	assert_int_equal(buf[i], 'x');
}

/*
 * Does spam.example, throttled by 'flood' at T0, stay at T0 + 400 (hold
 * over) with this count and total?  Release levels: queue 80, count 40,
 * share 0.4.
 */
static int
stays_at(uint32_t total, uint32_t count)
{
    TH_STATE a, b;
    int     n;

    step(0, &a, T0, 200, 100, 0);
    assert_non_null(spam(&a));
    step(&a, &b, T0 + 400, total, count, 0);
    n = (int) b.n;
    if (n) {
	assert_int_equal(b.n, 1);	/* kept once, not entered again */
	assert_int_equal(spam(&b)->count, count);
	assert_int_equal(spam(&b)->total, total);
	assert_int_equal(spam(&b)->since, T0);
	assert_int_equal(spam(&b)->hold_until, T0 + 300);
	assert_int_equal(spam(&b)->enter_count, 100);
	assert_int_equal(spam(&b)->enter_total, 200);
    }
    th_state_free(&a);
    th_state_free(&b);
    return n;
}

static void
release_boundaries(void **state)
{
    (void) state;
    /* Queue: 79 vs 80 (count 79 >= 40, share 1 and 0.99 >= 0.4). */
    assert_int_equal(stays_at(79, 79), 0);
    assert_int_equal(stays_at(80, 79), 1);
    /* Count: 39 vs 40 of 85 (queue 85 >= 80, shares 0.46, 0.47). */
    assert_int_equal(stays_at(85, 39), 0);
    assert_int_equal(stays_at(85, 40), 1);
    assert_int_equal(stays_at(85, 41), 1);
    /* Share: 79 and 80 of 200 (count >= 40, queue >= 80). */
    assert_int_equal(stays_at(200, 79), 0);
    assert_int_equal(stays_at(200, 80), 1);
    assert_int_equal(stays_at(200, 81), 1);
    /* Above the release values but below the enter values: stays. */
    assert_int_equal(stays_at(90, 45), 1);
}

/* The release levels follow release_ratio: at 0.5 the count level is
 * 25 (was 40 at 0.8), nothing else near its level. */
static void
release_ratio_scales(void **state)
{
    TH_POLICY p = with(10, 50, 0.1);
    TH_COUNT c[1] = {{"spam.example", 12, 50}};
    TH_INPUT in = {200, c, 1};
    TH_STATE a, b;

    (void) state;
    p.release_ratio = 0.5;
    assert_int_equal(th_step(&p, 1, &in, 0, T0, &a), 0);
    assert_int_equal(a.n, 1);
    c[0].count = 25;
    assert_int_equal(th_step(&p, 1, &in, &a, T0 + 400, &b), 0);
    assert_int_equal(b.n, 1);
    th_state_free(&b);
    c[0].count = 24;
    assert_int_equal(th_step(&p, 1, &in, &a, T0 + 400, &b), 0);
    assert_int_equal(b.n, 0);
    th_state_free(&b);
    th_state_free(&a);
}

/* min_hold_time: before, at and after, with every release condition
 * failing (the key's mail is gone), so only the clock decides. */
static void
hold_boundaries(void **state)
{
    TH_STATE a, b;
    int64_t t[] = {T0, T0 + 1, T0 + 299, T0 + 300, T0 + 301};
    int     want[] = {1, 1, 1, 0, 0};
    size_t  i;

    (void) state;
    step(0, &a, T0, 200, 100, 0);
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
	step(&a, &b, t[i], 0, 0, 0);
	assert_int_equal(b.n, want[i]);
	if (want[i]) {
	    assert_int_equal(spam(&b)->count, 0);
	    assert_int_equal(spam(&b)->total, 0);
	    assert_int_equal(spam(&b)->hold_until, T0 + 300);
	}
	th_state_free(&b);
    }
    th_state_free(&a);
    /* min_hold_time 0: leaves at the next step that allows it. */
    {
	TH_POLICY p = flood;
	TH_COUNT c[1] = {{"spam.example", 12, 100}};
	TH_INPUT in = {200, c, 1};

	p.min_hold_time = 0;
	assert_int_equal(th_step(&p, 1, &in, 0, T0, &a), 0);
	assert_int_equal(a.entry[0].hold_until, T0);
	c[0].count = 0;
	assert_int_equal(th_step(&p, 1, &in, &a, T0, &b), 0);
	assert_int_equal(b.n, 0);
	th_state_free(&a);
	th_state_free(&b);
    }
}

/* Many keys: the state grows past its first allocation and finds each;
 * keys are told apart by length and bytes, entries by policy. */
static void
many_keys_and_lookups(void **state)
{
    TH_POLICY p = with(1, 1, 0.001);
    TH_COUNT c[40];
    char    name[40][16];
    TH_INPUT in = {1000, c, 40};
    TH_STATE a, b;
    size_t  i;

    (void) state;
    for (i = 0; i < 40; i++) {
	snprintf(name[i], sizeof(name[i]), "k%zu.example", i);
	c[i] = (TH_COUNT) {name[i], strlen(name[i]), (uint32_t) i + 1};
    }
    assert_int_equal(th_step(&p, 1, &in, 0, T0, &a), 0);
    assert_int_equal(a.n, 40);
    for (i = 0; i < 40; i++) {
	const TH_ENTRY *e = th_find(&a, 0, name[i], strlen(name[i]));

	assert_non_null(e);
	assert_int_equal(e->count, i + 1);
	assert_int_equal(e->len, strlen(name[i]));
	assert_int_equal(strlen(e->key), e->len);
	assert_null(th_find(&a, 1, name[i], strlen(name[i])));
    }
    assert_null(th_find(&a, 0, "k1.example", 9));	/* a prefix */
    assert_null(th_find(&a, 0, "k1.examplf", 10));	/* other bytes */
    assert_null(th_find(0, 0, "k1.example", 10));
    /* All stay, each once, with its own count. */
    assert_int_equal(th_step(&p, 1, &in, &a, T0 + 1, &b), 0);
    assert_int_equal(b.n, 40);
    for (i = 0; i < 40; i++)
	assert_int_equal(th_find(&b, 0, name[i], strlen(name[i]))->count,
			 i + 1);
    th_state_free(&a);
    th_state_free(&b);
}

/* A key throttled by the second policy stays there, counted by it. */
static void
second_policy_state(void **state)
{
    TH_POLICY p[2] = {flood, flood};
    TH_COUNT c0[1] = {{"spam.example", 12, 10}};
    TH_COUNT c1[1] = {{"spam.example", 12, 600}};
    TH_INPUT in[2] = {{1000, c0, 1}, {1000, c1, 1}};
    TH_STATE a, b;

    (void) state;
    assert_int_equal(th_step(p, 2, in, 0, T0, &a), 0);
    assert_int_equal(a.n, 1);
    assert_int_equal(a.entry[0].policy, 1);
    c1[0].count = 500;
    assert_int_equal(th_step(p, 2, in, &a, T0 + 400, &b), 0);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.entry[0].policy, 1);
    assert_int_equal(b.entry[0].count, 500);
    assert_int_equal(b.entry[0].enter_count, 600);
    assert_null(th_find(&b, 0, "spam.example", 12));
    th_state_free(&a);
    th_state_free(&b);
}

/* th_state_free() leaves an empty state: freeing it again is harmless. */
static void
free_leaves_empty(void **state)
{
    TH_STATE a;

    (void) state;
    step(0, &a, T0, 200, 100, 0);
    assert_int_equal(a.n, 1);
    th_state_free(&a);
    assert_int_equal(a.n, 0);
    assert_int_equal(a.cap, 0);
    assert_null(a.entry);
    th_state_free(&a);
    assert_null(th_find(&a, 0, "spam.example", 12));
}

/*
 * Out of memory at each allocation of a step (the entry array, each
 * key, the array's growth): th_step() returns -1 with next empty, and
 * the previous state is untouched.
 */
static void
out_of_memory(void **state)
{
    TH_POLICY p = with(1, 1, 0.001);
    TH_COUNT c[20];
    char    name[20][16];
    TH_INPUT in = {1000, c, 20};
    TH_STATE a, b;
    int     k, ok = 0;
    size_t  i;

    (void) state;
    for (i = 0; i < 20; i++) {
	snprintf(name[i], sizeof(name[i]), "k%zu.example", i);
	c[i] = (TH_COUNT) {name[i], strlen(name[i]), 5};
    }
    assert_int_equal(th_step(&p, 1, &in, 0, T0, &a), 0);
    assert_int_equal(a.n, 20);
    /* 20 stay: the sorted state and input (2), the array, 16 keys, its
     * growth at 16, 4 keys (22). */
    for (k = 0; k < 60; k++) {
	int     rc;

	fail_after = k;
	rc = th_step(&p, 1, &in, &a, T0 + 1, &b);
	fail_after = -1;
	if (rc == 0) {
	    ok++;
	    assert_int_equal(b.n, 20);
	} else {
	    assert_int_equal(rc, -1);
	    assert_int_equal(b.n, 0);
	    assert_null(b.entry);
	}
	th_state_free(&b);
	assert_int_equal(a.n, 20);
	assert_string_equal(a.entry[19].key, "k19.example");
    }
    /* Fails with 0..23 successful calls, succeeds from 24 on. */
    assert_int_equal(ok, 60 - 24);
    /* New keys entering fail the same way. */
    fail_after = 0;
    assert_int_equal(th_step(&p, 1, &in, 0, T0, &b), -1);
    fail_after = 1;
    assert_int_equal(th_step(&p, 1, &in, 0, T0, &b), -1);
    fail_after = -1;
    assert_int_equal(b.n, 0);
    th_state_free(&a);
}

/* A throttled key's count is its own, not that of a longer key it is a
 * prefix of, whatever their order in the input. */
static void
count_of_own_key(void **state)
{
    TH_COUNT c[3] = {
	{"spam.example.org", 16, 1},
	{"spam.exampl", 11, 2},
	{"spam.example", 12, 100},
    };
    TH_INPUT in = {200, c, 3};
    TH_STATE a, b;

    (void) state;
    step(0, &a, T0, 200, 100, 0);
    assert_int_equal(th_step(&flood, 1, &in, &a, T0 + 400, &b), 0);
    assert_non_null(spam(&b));
    assert_int_equal(spam(&b)->count, 100);
    assert_int_equal(b.n, 1);
    th_state_free(&b);
    c[2].count = 79;			/* share 0.395: leaves */
    assert_int_equal(th_step(&flood, 1, &in, &a, T0 + 400, &b), 0);
    assert_int_equal(b.n, 0);
    th_state_free(&b);
    th_state_free(&a);
}

/* th_index: lookups by policy and whole key, in a state of two policies
 * sharing keys; a failed index scans instead. */
static void
index_lookups(void **state)
{
    TH_ENTRY e[4];
    TH_STATE s = {e, 4, 4};
    TH_INDEX x;

    (void) state;
    memset(e, 0, sizeof(e));
    e[0] = (TH_ENTRY) {.policy = 1, .key = (char *) "ab", .len = 2};
    e[1] = (TH_ENTRY) {.policy = 0, .key = (char *) "ab", .len = 2};
    e[2] = (TH_ENTRY) {.policy = 0, .key = (char *) "a", .len = 1};
    e[3] = (TH_ENTRY) {.policy = 0, .key = (char *) "b", .len = 1};
    assert_int_equal(th_index(&x, &s), 0);
    assert_ptr_equal(th_index_find(&x, &s, 0, "ab", 2), &e[1]);
    assert_ptr_equal(th_index_find(&x, &s, 1, "ab", 2), &e[0]);
    assert_ptr_equal(th_index_find(&x, &s, 0, "a", 1), &e[2]);
    assert_ptr_equal(th_index_find(&x, &s, 0, "b", 1), &e[3]);
    assert_null(th_index_find(&x, &s, 1, "a", 1));
    assert_null(th_index_find(&x, &s, 0, "abc", 3));
    assert_null(th_index_find(&x, &s, 0, "", 0));
    assert_null(th_index_find(&x, &s, 2, "ab", 2));
    th_index_free(&x);
    assert_null(x.ref);
    fail_after = 0;
    assert_int_equal(th_index(&x, &s), -1);
    fail_after = -1;
    assert_ptr_equal(th_index_find(&x, &s, 1, "ab", 2), &e[0]);
    assert_null(th_index_find(&x, &s, 1, "b", 1));
    th_index_free(&x);
    assert_int_equal(th_index(&x, 0), 0);
    assert_null(th_index_find(&x, 0, 0, "a", 1));
    th_index_free(&x);
}

/* The lookups of a step, against plain scans: over random inputs of
 * short keys (prefixes of each other, input keys in any order, pressure
 * keys repeated), every entry's count, pressure and since are what a
 * scan finds, and every key that must enter or stay is there. */
#define RK_N	12
static const char *const rkeys[RK_N] = {
    "a", "b", "ab", "ba", "aa", "bb", "aba", "abb", "b a", "a\0b", "", "bab",
};
static const size_t rklen[RK_N] = {1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 0, 3};

static const TH_COUNT *
scan_count(const TH_INPUT *in, const char *key, size_t len)
{
    size_t  i;

    for (i = 0; i < in->nkeys; i++)
	if (in->keys[i].len == len && memcmp(in->keys[i].key, key, len) == 0)
	    return &in->keys[i];
    return 0;
}

static int64_t
scan_pressure(const TH_PRESSURE_IN *in, const char *key, size_t len,
	      int64_t had, int64_t now)
{
    size_t  i;

    for (i = 0; i < in->nkeys; i++)
	if (in->key[i].len == len && memcmp(in->key[i].key, key, len) == 0) {
	    int64_t t = in->key[i].last < now ? in->key[i].last : now;

	    had = t > had ? t : had;
	}
    return had;
}

static void
sorted_equals_scan(void **state)
{
    TH_POLICY pol[2] = {flood, flood};
    TH_COUNT c[2][RK_N];
    TH_PRESSURE pk[2][2 * RK_N];
    TH_INPUT in[2];
    TH_PRESSURE_IN pr[2];
    TH_STATE a, b;
    unsigned seed = 11;
    int64_t now = T0;
    int     round, p;
    size_t  i, k;

    (void) state;
    for (p = 0; p < 2; p++) {
	pol[p].min_queue = 0;
	pol[p].min_count = 5;
	pol[p].min_share = 0;
	pol[p].release_ratio = 1;
	pol[p].min_hold_time = 3;
	pol[p].pressure_time = 4;
    }
    memset(&a, 0, sizeof(a));
    for (round = 0; round < 400; round++, now++) {
	for (p = 0; p < 2; p++) {
	    size_t  n = 0, np = 0;

	    for (k = 0; k < RK_N; k++) {
		size_t  j = (k + (size_t) rand_r(&seed)) % RK_N;

		if (scan_count(&(TH_INPUT) {0, c[p], n}, rkeys[j], rklen[j]))
		    continue;
		c[p][n++] = (TH_COUNT) {rkeys[j], rklen[j],
					(uint32_t) (rand_r(&seed) % 9)};
	    }
	    for (k = 0; k < (size_t) (rand_r(&seed) % (2 * RK_N)); k++) {
		size_t  j = (size_t) rand_r(&seed) % RK_N;

		pk[p][np++] = (TH_PRESSURE) {rkeys[j], rklen[j],
					 now - 6 + rand_r(&seed) % 9};
	    }
	    in[p] = (TH_INPUT) {100, c[p], n};
	    pr[p] = (TH_PRESSURE_IN) {pk[p], np};
	}
	assert_int_equal(th_step_pressure(pol, 2, in, pr, &a, now, &b), 0);
	for (i = 0; i < b.n; i++) {
	    const TH_ENTRY *e = &b.entry[i];
	    const TH_COUNT *cnt = scan_count(&in[e->policy], e->key, e->len);
	    const TH_ENTRY *was = th_find(&a, e->policy, e->key, e->len);

	    assert_int_equal(e->count, cnt ? cnt->count : 0);
	    assert_int_equal(e->last_pressure,
			     scan_pressure(&pr[e->policy], e->key, e->len,
					   was ? was->last_pressure : TH_NEVER,
					   now));
	    assert_int_equal(e->since, was ? was->since : now);
	}
	for (p = 0; p < 2; p++)
	    for (k = 0; k < in[p].nkeys; k++)
		if (in[p].keys[k].count >= 5)
		    assert_non_null(th_find(&b, p, in[p].keys[k].key,
					    in[p].keys[k].len));
	/* A throttled key stays exactly when one condition keeps it. */
	for (i = 0; i < a.n; i++) {
	    const TH_ENTRY *w = &a.entry[i];
	    const TH_COUNT *cnt = scan_count(&in[w->policy], w->key, w->len);
	    int64_t t = scan_pressure(&pr[w->policy], w->key, w->len,
				      w->last_pressure, now);
	    int     stays = now < w->hold_until
	    || (t != TH_NEVER && now - t < 4) || (cnt && cnt->count >= 5);

	    assert_int_equal(th_find(&b, w->policy, w->key, w->len) != 0,
			     stays);
	}
	th_state_free(&a);
	a = b;
    }
    th_state_free(&a);
}

/* One allocation failing, any one, with the others succeeding: the step
 * fails whole (-1, next empty), never with a part of the state, however
 * the later allocations go; with none failing it gives the full state.
 * Two policies, each with a throttled key, a new key and pressure. */
static void
one_failure_fails_the_step(void **state)
{
    TH_POLICY pol[2] = {flood, flood};
    TH_COUNT c[2][2] = {
	{{"a.example", 9, 60}, {"b.example", 9, 60}},
	{{"c.example", 9, 60}, {"d.example", 9, 60}},
    };
    TH_INPUT in[2] = {{100, c[0], 2}, {100, c[1], 2}};
    TH_PRESSURE pk[2] = {{"a.example", 9, T0}, {"c.example", 9, T0}};
    TH_PRESSURE_IN pr[2] = {{&pk[0], 1}, {&pk[1], 1}};
    TH_COUNT first[2][1] = {{{"a.example", 9, 60}}, {{"c.example", 9, 60}}};
    TH_INPUT in0[2] = {{100, first[0], 1}, {100, first[1], 1}};
    TH_STATE a, b;
    int     k, rc, failed;

    (void) state;
    assert_int_equal(th_step(pol, 2, in0, 0, T0, &a), 0);
    assert_int_equal(a.n, 2);
    for (k = 0;; k++) {
	fail_at = k;
	rc = th_step_pressure(pol, 2, in, pr, &a, T0 + 1, &b);

	failed = fail_at < 0;
	fail_at = -1;
	if (!failed)
	    break;
	assert_int_equal(rc, -1);
	assert_int_equal(b.n, 0);
	assert_null(b.entry);
    }
    /* The calls: the sorted state; policy 0's sorted input and pressure,
     * the array, two key copies; policy 1's input, pressure, two keys. */
    assert_int_equal(k, 10);
    assert_int_equal(rc, 0);
    assert_int_equal(b.n, 4);
    assert_non_null(th_find(&b, 1, "d.example", 9));
    th_state_free(&b);
    th_state_free(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(enter_and_numbers),
	cmocka_unit_test(congestion_gate),
	cmocka_unit_test(hysteresis_and_hold_time),
	cmocka_unit_test(leaves_on_count_or_queue),
	cmocka_unit_test(two_policies),
	cmocka_unit_test(hold_on_its_own_clock),
	cmocka_unit_test(release_by_hold_time_alone),
	cmocka_unit_test(release_by_pressure_alone),
	cmocka_unit_test(pressure_never_after_now),
	cmocka_unit_test(release_by_queue_alone),
	cmocka_unit_test(pressure_off),
	cmocka_unit_test(kept_names),
	cmocka_unit_test(kept_names_short),
	cmocka_unit_test(pressure_time_one),
	cmocka_unit_test(pressure_of_own_key),
	cmocka_unit_test(pressure_off_whatever_the_time),
	cmocka_unit_test(next_deadline),
	cmocka_unit_test(enter_boundaries),
	cmocka_unit_test(empty_window),
	cmocka_unit_test(release_boundaries),
	cmocka_unit_test(release_ratio_scales),
	cmocka_unit_test(hold_boundaries),
	cmocka_unit_test(many_keys_and_lookups),
	cmocka_unit_test(second_policy_state),
	cmocka_unit_test(free_leaves_empty),
	cmocka_unit_test(out_of_memory),
	cmocka_unit_test(count_of_own_key),
	cmocka_unit_test(index_lookups),
	cmocka_unit_test(sorted_equals_scan),
	cmocka_unit_test(one_failure_fails_the_step),
    };

    return cmocka_run_group_tests_name("throttle", tests, 0, 0);
}

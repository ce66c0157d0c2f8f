/*
 * Unit tests for throttle, the throttle state machine.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "qshape/summary.h"
#include "throttle.h"

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
    step(0, &a, T0, 100, 49, 0);	/* below min_count: no */
    assert_int_equal(a.n, 0);
    th_state_free(&a);
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
    step(&a, &b, T0 + 400, 60, 39, 0);	/* count 39 < 40 */
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
    };

    return cmocka_run_group_tests_name("throttle", tests, 0, 0);
}

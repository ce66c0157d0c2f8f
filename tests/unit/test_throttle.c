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
    };

    return cmocka_run_group_tests_name("throttle", tests, 0, 0);
}

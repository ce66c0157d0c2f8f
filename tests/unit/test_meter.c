/*
 * Unit tests for meter, the metered release of held mail.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "qshape/summary.h"
#include "meter.h"

#define NOW	1764662400

/* The throttled keys: "sender_domain:<text>" of policy "flood". */
static const char *throttled_key;

static int
lookup(void *ctx, const MT_POLICY *p, const HM_MARK *m)
{
    (void) ctx;
    return throttled_key && strcmp(p->name, "flood") == 0
	&& m->kind == QS_KEY_SENDER_DOMAIN
	&& strcmp(m->key, throttled_key) == 0;
}

static MT_MSG
msg(const char *id, const char *policy, const char *key, int64_t t)
{
    MT_MSG  m;

    memset(&m, 0, sizeof(m));
    m.id = id;
    snprintf(m.mark.policy, sizeof(m.mark.policy), "%s", policy);
    m.mark.kind = QS_KEY_SENDER_DOMAIN;
    m.mark.key_len = strlen(key);
    memcpy(m.mark.key, key, m.mark.key_len);
    m.mark.time = t;
    m.why = MT_NWHY;
    return m;
}

static size_t
plan(const MT_POLICY *p, MT_BUCKET *b, size_t np, MT_MSG *m, size_t n,
     int congested, int64_t now_ms)
{
    return mt_plan(p, b, np, m, n, congested, lookup, 0, NOW, now_ms);
}

/* Each condition alone keeps a message; with none, it goes. */
static void
each_condition(void **state)
{
    MT_POLICY p[2] = {{"flood", 1, 10.0, 3600}, {"manual", 0, 10.0, 0}};
    MT_BUCKET b[2];
    MT_MSG  m[1];

    (void) state;
    throttled_key = 0;
    memset(b, 0, sizeof(b));
    m[0] = msg("A", "flood", "a.example", NOW - 60);
    assert_int_equal(plan(p, b, 2, m, 1, 0, 0), 1);
    assert_int_equal(m[0].why, MT_RELEASE);

    memset(b, 0, sizeof(b));
    m[0] = msg("A", "gone", "a.example", NOW - 60);
    assert_int_equal(plan(p, b, 2, m, 1, 0, 0), 0);
    assert_int_equal(m[0].why, MT_NO_POLICY);

    memset(b, 0, sizeof(b));
    m[0] = msg("A", "manual", "a.example", NOW - 60);
    assert_int_equal(plan(p, b, 2, m, 1, 0, 0), 0);
    assert_int_equal(m[0].why, MT_MANUAL);

    memset(b, 0, sizeof(b));
    m[0] = msg("A", "flood", "a.example", NOW - 60);
    assert_int_equal(plan(p, b, 2, m, 1, 1, 0), 0);
    assert_int_equal(m[0].why, MT_CONGESTED);

    memset(b, 0, sizeof(b));
    throttled_key = "a.example";
    assert_int_equal(plan(p, b, 2, m, 1, 0, 0), 0);
    assert_int_equal(m[0].why, MT_THROTTLED);
    throttled_key = "b.example";		/* another key is */
    memset(b, 0, sizeof(b));
    assert_int_equal(plan(p, b, 2, m, 1, 0, 0), 1);
    assert_int_equal(m[0].why, MT_RELEASE);
    throttled_key = 0;
}

/* held_max_age: exactly that old is released, one second more is not;
 * too old is reported even while congested; 0 is no limit. */
static void
max_age_boundary(void **state)
{
    MT_POLICY p[1] = {{"flood", 1, 10.0, 3600}};
    MT_BUCKET b[1];
    MT_MSG  m[1];

    (void) state;
    memset(b, 0, sizeof(b));
    m[0] = msg("A", "flood", "a.example", NOW - 3600);
    assert_int_equal(plan(p, b, 1, m, 1, 0, 0), 1);
    memset(b, 0, sizeof(b));
    m[0] = msg("A", "flood", "a.example", NOW - 3601);
    assert_int_equal(plan(p, b, 1, m, 1, 0, 0), 0);
    assert_int_equal(m[0].why, MT_TOO_OLD);
    assert_int_equal(plan(p, b, 1, m, 1, 1, 0), 0);
    assert_int_equal(m[0].why, MT_TOO_OLD);
    p[0].max_age = 0;
    memset(b, 0, sizeof(b));
    m[0] = msg("A", "flood", "a.example", 0);
    assert_int_equal(plan(p, b, 1, m, 1, 0, 0), 1);
}

/* Oldest hold first, then queue ID; the rate cuts the rest. */
static void
oldest_first(void **state)
{
    MT_POLICY p[1] = {{"flood", 1, 2.0, 0}};
    MT_BUCKET b[1];
    MT_MSG  m[4];

    (void) state;
    memset(b, 0, sizeof(b));
    m[0] = msg("D", "flood", "a.example", NOW - 10);
    m[1] = msg("C", "flood", "a.example", NOW - 30);
    m[2] = msg("B", "flood", "a.example", NOW - 20);
    m[3] = msg("A", "flood", "a.example", NOW - 20);
    assert_int_equal(plan(p, b, 1, m, 4, 0, 0), 2);
    assert_string_equal(m[0].id, "C");
    assert_int_equal(m[0].why, MT_RELEASE);
    assert_string_equal(m[1].id, "A");
    assert_int_equal(m[1].why, MT_RELEASE);
    assert_string_equal(m[2].id, "B");
    assert_int_equal(m[2].why, MT_RATE);
    assert_string_equal(m[3].id, "D");
    assert_int_equal(m[3].why, MT_RATE);
}

/* The credit: rate 2/s starts with 2; a message every 500 ms exactly; a
 * long gap counts 60 s; each policy its own. */
static void
bucket(void **state)
{
    MT_POLICY p[2] = {{"flood", 1, 2.0, 0}, {"other", 1, 0.5, 0}};
    MT_BUCKET b[2];
    static MT_MSG m[300];
    size_t  i;

    (void) state;
    memset(b, 0, sizeof(b));
    for (i = 0; i < 300; i++)
	m[i] = msg("X", "flood", "a.example", NOW - 1000 + (int64_t) i);
    assert_int_equal(plan(p, b, 2, m, 300, 0, 1000), 2);
    assert_int_equal(plan(p, b, 2, m, 300, 0, 1499), 0);
    assert_int_equal(plan(p, b, 2, m, 300, 0, 1500), 1);
    assert_int_equal(plan(p, b, 2, m, 300, 0, 1999), 0);
    assert_int_equal(plan(p, b, 2, m, 300, 0, 2000), 1);
    /* 119.998 (0.998 kept); a gap of 60 s counts whole (120.998); of
     * 60.001 s, 60 s (120.998, not 121); of 120 s, 60 s. */
    assert_int_equal(plan(p, b, 2, m, 300, 0, 61999), 119);
    assert_int_equal(plan(p, b, 2, m, 300, 0, 121999), 120);
    assert_int_equal(plan(p, b, 2, m, 300, 0, 182000), 120);
    assert_int_equal(plan(p, b, 2, m, 300, 0, 302000), 120);
    /* The clock going back earns nothing. */
    assert_int_equal(plan(p, b, 2, m, 300, 0, 300000), 0);
    /* A rate below 1/s: one message first, then one every 2 s. */
    memset(&b[1], 0, sizeof(b[1]));
    for (i = 0; i < 6; i++)
	m[i] = msg("Y", "other", "a.example", NOW - 100 + (int64_t) i);
    assert_int_equal(plan(p, b, 2, m, 6, 0, 400000), 1);
    assert_int_equal(plan(p, b, 2, m, 6, 0, 401999), 0);
    assert_int_equal(plan(p, b, 2, m, 6, 0, 402000), 1);
    assert_int_equal(plan(p, b, 2, m, 6, 0, 410000), 4);
}

/* Credit nothing waited for is dropped: no burst after a pause, after a
 * throttled key, or after the held mail ran out; the fraction of a
 * message is kept while mail waits for the rate. */
static void
no_burst(void **state)
{
    MT_POLICY p[1] = {{"flood", 1, 2.0, 0}};
    MT_BUCKET b[1];
    static MT_MSG m[100];
    size_t  i;

    (void) state;
    memset(b, 0, sizeof(b));
    for (i = 0; i < 100; i++)
	m[i] = msg("X", "flood", "a.example", NOW - 1000 + (int64_t) i);
    assert_int_equal(plan(p, b, 1, m, 100, 0, 0), 2);
    assert_int_equal(plan(p, b, 1, m, 100, 0, 750), 1);	/* 1.5 */
    assert_int_equal(b[0].units, 500000);			/* 0.5 kept */
    assert_int_equal(plan(p, b, 1, m, 100, 1, 30750), 0);	/* paused */
    assert_int_equal(b[0].units, 0);
    assert_int_equal(plan(p, b, 1, m, 100, 0, 31000), 0);	/* 0.5 */
    assert_int_equal(plan(p, b, 1, m, 100, 0, 31250), 1);	/* 1.0 */
    throttled_key = "a.example";
    assert_int_equal(plan(p, b, 1, m, 100, 0, 40000), 0);
    assert_int_equal(b[0].units, 0);
    throttled_key = 0;
    assert_int_equal(plan(p, b, 1, m, 100, 0, 41000), 2);
    /* 3 held, credit for 20: all go, the rest of the credit is dropped. */
    assert_int_equal(plan(p, b, 1, m, 3, 0, 51000), 3);
    assert_int_equal(b[0].units, 0);
    assert_int_equal(plan(p, b, 1, m, 100, 0, 51500), 1);
}

/* A policy's queues are congested when a key could enter: total >=
 * min_queue and total >= min_count; each bound alone decides. */
static void
queue_congested(void **state)
{
    (void) state;
    assert_int_equal(mt_queue_congested(100, 100, 50), 1);
    assert_int_equal(mt_queue_congested(99, 100, 50), 0);
    assert_int_equal(mt_queue_congested(50, 0, 50), 1);
    assert_int_equal(mt_queue_congested(49, 0, 50), 0);
    assert_int_equal(mt_queue_congested(0, 0, 1), 0);
    assert_int_equal(mt_queue_congested(1, 0, 1), 1);
}

/* Over a minute at 10/s, 600 messages go, a tenth of a second apart. */
static void
steady_rate(void **state)
{
    MT_POLICY p[1] = {{"flood", 1, 10.0, 0}};
    MT_BUCKET b[1];
    static MT_MSG m[1000];
    size_t  i, n = 1000, total = 0, k;
    int64_t t;

    (void) state;
    memset(b, 0, sizeof(b));
    for (i = 0; i < n; i++)
	m[i] = msg("Z", "flood", "a.example", NOW - 1000 + (int64_t) i);
    for (t = 0; t < 60000; t += 250) {
	k = plan(p, b, 1, m, n, 0, t);
	total += k;
	/* The released ones leave the list, as they leave the hold queue. */
	memmove(m, m + k, (n - k) * sizeof(*m));
	n -= k;
    }
    /* 10 at the start, then 2.5 per 250 ms for 59.75 s. */
    assert_int_equal(total, 10 + 597);
}

static void
why_names(void **state)
{
    (void) state;
    assert_string_equal(mt_why_name(MT_RELEASE), "release");
    assert_string_equal(mt_why_name(MT_TOO_OLD), "too_old");
    assert_string_equal(mt_why_name(MT_RATE), "rate");
    assert_string_equal(mt_why_name(MT_NWHY), "?");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(each_condition),
	cmocka_unit_test(max_age_boundary),
	cmocka_unit_test(oldest_first),
	cmocka_unit_test(bucket),
	cmocka_unit_test(no_burst),
	cmocka_unit_test(queue_congested),
	cmocka_unit_test(steady_rate),
	cmocka_unit_test(why_names),
    };

    return cmocka_run_group_tests_name("meter", tests, 0, 0);
}

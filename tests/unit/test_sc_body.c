/*
 * Unit tests for sc_body: the summary body built from a small index and a
 * throttle state, without inotify or shared memory, field by field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sc_body.h"
#include "shm.h"

#define NOW	1700000000		/* wall clock, seconds */
#define MONO	1200			/* monotonic clock, seconds */
#define TOP	10

static const char *const queues[2] = {"incoming", "active"};

#define STR(s)	((QF_STR) {(s), sizeof(s) - 1})

static const QF_STR rcpt[1] = {STR("r@dest.example")};

static void
put(IX *ix, const char *id, int queue, const char *sender, int64_t age)
{
    QF_FACTS f;

    memset(&f, 0, sizeof(f));
    f.has_time = 1;
    f.time_sec = NOW - age;
    f.sender = (QF_STR) {sender, strlen(sender)};
    f.rcpt = rcpt;
    f.nrcpt = 1;
    assert_int_equal(ix_put(ix, id, queue, &f, 0), 0);
}

/* Two policies: flood (sender domain, hold), one (sender, tempfail). */
static SC_POLICY pol[2];

static void
make_conf(SC_CONF *c)
{
    memset(c, 0, sizeof(*c));
    memset(pol, 0, sizeof(pol));
    pol[0].th = (TH_POLICY) {"flood", QS_KEY_SENDER_DOMAIN, QS_ACTION_HOLD,
			     1, 1, 0.0, 0.8, 300, 0};
    pol[0].digest = 0x1111222233334444ull;
    pol[1].th = (TH_POLICY) {"one", QS_KEY_SENDER, QS_ACTION_TEMPFAIL,
			     1, 1, 0.0, 0.8, 60, 0};
    pol[1].digest = 0x5555666677778888ull;
    c->queues = queues;
    c->nqueues = 2;
    c->geom = (IX_GEOM) {2, 3, 5.0, 0};
    c->top_keys = TOP;
    c->max_throttled = 8;
    c->policy = pol;
    c->npolicy = 2;
    c->policies_digest = 0xabcdef0123456789ull;
}

/* The throttle state as the monotonic clock saw it. */
static TH_ENTRY entry[2];

static void
make_state(TH_STATE *s)
{
    /* Times in monotonic ms, as the scanner keeps them. */
    entry[0] = (TH_ENTRY) {0, "a.flood.example", 15, 2, 4, 3, 5, 1000000,
			   1300000, 1150000, TH_KEPT_QUEUE | TH_KEPT_PRESSURE};
    entry[1] = (TH_ENTRY) {1, "spam@a.flood.example", 20, 1, 4, 1, 3,
			   1100000, 1160000, TH_NEVER, TH_KEPT_QUEUE};
    s->entry = entry;
    s->n = 2;
    s->cap = 2;
}

typedef struct BUF {
    QS_BODY body;
    QS_QUEUE queue[QS_MAX_QUEUES];
    QS_TABLE table[QS_NKEYKINDS];
    QS_KEY  key[TOP * QS_NKEYKINDS];
    QS_THROTTLE throttle[8];
    QS_POLICY policy[QS_MAX_POLICIES];
} BUF;

static const QS_KEY *
row(const BUF *b, int kind, const char *text)
{
    uint32_t i;

    for (i = 0; i < b->table[kind].nrows; i++)
	if (strcmp(b->key[b->table[kind].first + i].text, text) == 0)
	    return &b->key[b->table[kind].first + i];
    return 0;
}

static void
check_throttle(const QS_THROTTLE *t, int kind, int action, int policy,
	       const char *key, uint64_t digest, const char *name)
{
    assert_int_equal(t->hash, qs_key_hash(kind, key, strlen(key)));
    assert_int_equal(t->kind, kind);
    assert_int_equal(t->action, action);
    assert_int_equal(t->policy, policy);
    assert_int_equal(t->key_len, strlen(key));
    assert_int_equal(t->policy_digest, digest);
    assert_string_equal(t->text, key);
    assert_string_equal(t->policy_name, name);
}

/*
 * incoming: a.flood.example 100 s and 400 s old; active: b.flood.example
 * 100 s, ham.example 1000 s.  Buckets of 5, 10, 20 minutes.
 */
static void
body_fields(void **state)
{
    SC_CONF c;
    TH_STATE s;
    BUF    *b = calloc(1, sizeof(*b));
    IX     *ix;
    SC_BODY_IN in;
    SC_BODY_OUT out;
    const QS_KEY *k;
    static const uint32_t inc[4] = {2, 1, 1, 0}, act[4] = {2, 1, 0, 1};
    SC_STATS st = {.parsed = 11, .vanished = 3, .skipped = 2,
		   .reconciles = 5, .publications = 9, .start_time = NOW - 99,
		   .reconcile_ns = 123456789, .throttle_enters = 7,
		   .throttle_leaves = 6, .policy_enters = {4, 3},
		   .policy_leaves = {2, 4}};

    (void) state;
    make_conf(&c);
    make_state(&s);
    ix = ix_create(&c.geom);
    put(ix, "AAAAAA1", 0, "spam@a.flood.example", 100);
    put(ix, "AAAAAA2", 0, "other@A.Flood.Example", 400);
    put(ix, "AAAAAA3", 1, "x@b.flood.example", 100);
    put(ix, "AAAAAA4", 1, "y@ham.example", 1000);
    in = (SC_BODY_IN) {&c, ix, &s, {(int64_t) NOW * 1000 + 250,
				      (int64_t) MONO * 1000 + 999}, NOW - 30, &st};
    out = (SC_BODY_OUT) {&b->body, b->queue, b->table, b->key,
			 TOP * QS_NKEYKINDS, b->throttle, 8, b->policy};
    assert_int_equal(sc_body_build(&in, &out), 0);

    assert_int_equal(b->body.published, NOW);
    assert_int_equal(b->body.published_ns, 250000000);
    assert_int_equal(b->body.last_reconcile, NOW - 30);
    assert_int_equal(b->body.nqueues, 2);
    assert_int_equal(b->body.nbuckets, 3);
    assert_int_equal(b->body.bucket_minutes, 5);
    assert_int_equal(b->body.linear, 0);
    assert_int_equal(b->body.messages, 4);
    assert_int_equal(b->body.policies_digest, 0xabcdef0123456789ull);
    /* the scanner's counters, for the metrics */
    assert_int_equal(b->body.stats.start_time, NOW - 99);
    assert_int_equal(b->body.stats.files_parsed, 11);
    assert_int_equal(b->body.stats.files_skipped, 2);
    assert_int_equal(b->body.stats.files_vanished, 3);
    assert_int_equal(b->body.stats.reconciles, 5);
    assert_int_equal(b->body.stats.reconcile_ns, 123456789);
    assert_int_equal(b->body.stats.throttle_enters, 7);
    assert_int_equal(b->body.stats.throttle_leaves, 6);
    /* the policies, config order, with their own counters */
    assert_int_equal(b->body.npolicy, 2);
    assert_string_equal(b->policy[0].name, "flood");
    assert_int_equal(b->policy[0].digest, 0x1111222233334444ull);
    assert_int_equal(b->policy[0].kind, QS_KEY_SENDER_DOMAIN);
    assert_int_equal(b->policy[0].action, QS_ACTION_HOLD);
    assert_int_equal(b->policy[0].throttled, 1);
    assert_int_equal(b->policy[0].throttle_enters, 4);
    assert_int_equal(b->policy[0].throttle_leaves, 2);
    assert_string_equal(b->policy[1].name, "one");
    assert_int_equal(b->policy[1].digest, 0x5555666677778888ull);
    assert_int_equal(b->policy[1].kind, QS_KEY_SENDER);
    assert_int_equal(b->policy[1].action, QS_ACTION_TEMPFAIL);
    assert_int_equal(b->policy[1].throttled, 1);
    assert_int_equal(b->policy[1].throttle_enters, 3);
    assert_int_equal(b->policy[1].throttle_leaves, 4);
    assert_int_equal(b->policy[2].name[0], 0);

    /* Queue totals: [0] all, then by age. */
    assert_string_equal(b->queue[0].name, "incoming");
    assert_string_equal(b->queue[1].name, "active");
    assert_memory_equal(b->queue[0].count, inc, sizeof(inc));
    assert_memory_equal(b->queue[1].count, act, sizeof(act));
    assert_int_equal(b->queue[2].name[0], 0);

    /* Sender domains, normalised, ranked. */
    assert_int_equal(b->table[QS_KEY_SENDER_DOMAIN].nrows, 3);
    assert_int_equal(b->table[QS_KEY_SENDER_DOMAIN].ndistinct, 3);
    assert_int_equal(b->table[QS_KEY_SENDER_DOMAIN].other_messages, 0);
    k = &b->key[b->table[QS_KEY_SENDER_DOMAIN].first];
    assert_string_equal(k->text, "a.flood.example");	/* 2: first */
    assert_int_equal(k->len, 15);
    assert_int_equal(k->truncated, 0);
    assert_int_equal(k->hash, qs_key_hash(QS_KEY_SENDER_DOMAIN,
					  "a.flood.example", 15));
    assert_memory_equal(k->count[0], inc, sizeof(inc));
    assert_int_equal(k->count[1][0], 0);
    assert_non_null(k = row(b, QS_KEY_SENDER_DOMAIN, "ham.example"));
    assert_int_equal(k->count[1][0], 1);
    assert_int_equal(k->count[1][3], 1);
    assert_int_equal(b->table[QS_KEY_SENDER].nrows, 4);
    assert_non_null(row(b, QS_KEY_SENDER, "other@a.flood.example"));
    assert_int_equal(b->table[QS_KEY_RCPT_DOMAIN].nrows, 1);
    assert_int_equal(b->body.nkeys,
		     b->table[QS_KEY_RCPT_DOMAIN].first + 1);

    /* Throttled keys, with their policy's identity; since and hold_until
     * on the wall clock of now: wall + (t - mono). */
    assert_int_equal(b->body.nthrottle, 2);
    check_throttle(&b->throttle[0], QS_KEY_SENDER_DOMAIN, QS_ACTION_HOLD, 0,
		   "a.flood.example", 0x1111222233334444ull, "flood");
    assert_int_equal(b->throttle[0].count, 2);
    assert_int_equal(b->throttle[0].total, 4);
    assert_int_equal(b->throttle[0].share_ppm, 500000);
    assert_int_equal(b->throttle[0].enter_count, 3);
    assert_int_equal(b->throttle[0].enter_total, 5);
    /* ms: since NOW - 200.749 s, hold_until NOW + 99.251 s, published
     * as the second they fall in. */
    assert_int_equal(b->throttle[0].since, NOW - 201);
    assert_int_equal(b->throttle[0].hold_until, NOW + 99);
    check_throttle(&b->throttle[1], QS_KEY_SENDER, QS_ACTION_TEMPFAIL, 1,
		   "spam@a.flood.example", 0x5555666677778888ull, "one");
    assert_int_equal(b->throttle[1].share_ppm, 250000);
    assert_int_equal(b->throttle[1].since, NOW - 101);
    assert_int_equal(b->throttle[1].hold_until, NOW - 41);
    assert_int_equal(b->throttle[2].hash, 0);
    /* What kept them, and the milter's latest match on the wall clock
     * (ms), 0 for none. */
    assert_int_equal(b->throttle[0].kept, QS_KEPT_QUEUE | QS_KEPT_PRESSURE);
    assert_int_equal(b->throttle[0].last_pressure_ms,
		     (int64_t) NOW * 1000 + 250 - 50999);
    assert_int_equal(b->throttle[1].kept, QS_KEPT_QUEUE);
    assert_int_equal(b->throttle[1].last_pressure_ms, 0);

    ix_destroy(ix);
    free(b);
}

/* More throttled keys than room: the first ones, and the rest counted. */
static void
throttle_capacity(void **state)
{
    SC_CONF c;
    TH_STATE s;
    BUF    *b = calloc(1, sizeof(*b));
    IX     *ix;
    SC_BODY_IN in;
    SC_BODY_OUT out;

    (void) state;
    make_conf(&c);
    make_state(&s);
    ix = ix_create(&c.geom);
    in = (SC_BODY_IN) {&c, ix, &s, {(int64_t) NOW * 1000, 0}, 0, 0};
    out = (SC_BODY_OUT) {&b->body, b->queue, b->table, b->key,
			 TOP * QS_NKEYKINDS, b->throttle, 1, b->policy};
    assert_int_equal(sc_body_build(&in, &out), 1);
    assert_int_equal(b->body.nthrottle, 1);
    /* every throttled key counts for its policy, published or not; no
     * stats: no counters */
    assert_int_equal(b->body.npolicy, 2);
    assert_int_equal(b->policy[0].throttled, 1);
    assert_int_equal(b->policy[1].throttled, 1);
    assert_int_equal(b->policy[0].throttle_enters, 0);
    assert_int_equal(b->policy[1].throttle_leaves, 0);
    assert_string_equal(b->throttle[0].text, "a.flood.example");
    assert_int_equal(b->throttle[0].hold_until, NOW + 1300);
    assert_int_equal(b->throttle[1].hash, 0);
    assert_int_equal(b->body.messages, 0);
    assert_int_equal(b->body.nkeys, 0);
    assert_int_equal(b->queue[0].count[0], 0);
    ix_destroy(ix);
    free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(body_fields),
	cmocka_unit_test(throttle_capacity),
    };

    return cmocka_run_group_tests_name("sc_body", tests, 0, 0);
}

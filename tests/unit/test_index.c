/*
 * Unit tests for index: the live queue index and its counts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "index.h"

#define NOW	1700000000
#define INCOMING 0
#define ACTIVE	1
#define DEFERRED 2

static const IX_GEOM geom = {3, 10, 5.0, 0};

#define STR(s)	((QF_STR) {(s), sizeof(s) - 1})

static QF_FACTS
facts(const char *sender, const char *client, const QF_STR *rcpt,
      size_t nrcpt, int64_t when)
{
    QF_FACTS f;

    memset(&f, 0, sizeof(f));
    f.has_time = 1;
    f.time_sec = when;
    f.sender = (QF_STR) {sender, strlen(sender)};
    if (client)
	f.client_address = (QF_STR) {client, strlen(client)};
    f.rcpt = rcpt;
    f.nrcpt = nrcpt;
    return f;
}

static const IX_ROW *
row(const IX_RANK *r, const char *key)
{
    size_t  i;

    for (i = 0; i < r->nrows; i++)
	if (r->row[i].len == strlen(key) && memcmp(r->row[i].key, key,
						   r->row[i].len) == 0)
	    return &r->row[i];
    return 0;
}

static void
put_move_remove(void **state)
{
    IX     *ix = ix_create(&geom);
    QF_STR  r[3] = {STR("a@D1.example"), STR("b@d1.example"), STR("c@d2.example")};
    QF_FACTS f = facts("Flood@A.Spam.Example", "192.0.2.1", r, 3, NOW - 400);
    IX_RANK rank;
    uint32_t tot[QS_MAX_QUEUES][QS_MAX_BUCKETS + 1];

    (void) state;
    assert_int_equal(ix_put(ix, "ABCDEF1", INCOMING, &f, 0), 0);
    assert_int_equal(ix_put(ix, "ABCDEF2", INCOMING, &f, 0), 0);
    assert_int_equal(ix_put(ix, "ABCDEF2", INCOMING, &f, 0), 0);	/* again */
    assert_int_equal(ix_put(ix, "X123456789012345678901234", 0, &f, 0), -1);
    assert_int_equal(ix_messages(ix), 2);
    assert_int_equal(ix_move(ix, "ABCDEF2", ACTIVE), 1);
    assert_int_equal(ix_move(ix, "NOSUCH1", ACTIVE), 0);
    assert_int_equal(ix_queue_of(ix, "ABCDEF2"), ACTIVE);
    assert_int_equal(ix_queue_of(ix, "NOSUCH1"), -1);

    ix_count_keys(ix, QS_KEY_SENDER_DOMAIN, NOW, 10, &rank);
    assert_int_equal(rank.nrows, 1);
    assert_string_equal(rank.row[0].key, "a.spam.example");
    assert_int_equal(rank.row[0].total, 2);
    assert_int_equal(rank.row[0].count[INCOMING][0], 1);
    assert_int_equal(rank.row[0].count[ACTIVE][0], 1);
    assert_int_equal(rank.row[0].count[ACTIVE][2], 1);	/* 400 s: 5..10 */

    ix_count_keys(ix, QS_KEY_PARENT_DOMAIN, NOW, 10, &rank);
    assert_int_equal(rank.nrows, 1);			/* .spam.example */
    assert_non_null(row(&rank, ".spam.example"));

    ix_count_keys(ix, QS_KEY_RCPT_DOMAIN, NOW, 10, &rank);
    assert_int_equal(row(&rank, "d1.example")->total, 4);	/* per recipient */
    assert_int_equal(row(&rank, "d2.example")->total, 2);

    ix_count_keys(ix, QS_KEY_SENDER, NOW, 10, &rank);
    assert_non_null(row(&rank, "flood@a.spam.example"));
    ix_count_keys(ix, QS_KEY_CLIENT_ADDRESS, NOW, 10, &rank);
    assert_int_equal(row(&rank, "192.0.2.1")->total, 2);
    ix_count_keys(ix, QS_KEY_SASL_USERNAME, NOW, 10, &rank);
    assert_int_equal(rank.nrows, 0);

    assert_int_equal(ix_remove(ix, "ABCDEF1"), 1);
    assert_int_equal(ix_remove(ix, "ABCDEF1"), 0);
    ix_queue_totals(ix, NOW, tot);
    assert_int_equal(tot[INCOMING][0], 0);
    assert_int_equal(tot[ACTIVE][0], 1);
    assert_int_equal(tot[ACTIVE][2], 1);

    /* Reconcile: only what was seen survives. */
    ix_put(ix, "ABCDEF3", DEFERRED, &f, 0);
    ix_mark_begin(ix);
    assert_int_equal(ix_mark(ix, "ABCDEF3", DEFERRED), 1);
    assert_int_equal(ix_mark(ix, "NEWONE1", DEFERRED), 0);
    assert_int_equal(ix_sweep(ix), 1);
    assert_int_equal(ix_messages(ix), 1);
    assert_int_equal(ix_queue_of(ix, "ABCDEF2"), -1);
    ix_destroy(ix);
    ix_destroy(0);
}

static void
policy_window(void **state)
{
    IX     *ix = ix_create(&geom);
    QF_FACTS young = facts("s@flood.example", 0, 0, 0, NOW - 60);
    QF_FACTS old = facts("s@flood.example", 0, 0, 0, NOW - 7200);
    QF_FACTS other = facts("t@ham.example", 0, 0, 0, NOW - 60);
    IX_WINDOW w = {QS_KEY_SENDER_DOMAIN, (1u << INCOMING) | (1u << ACTIVE),
		   3600, 2};
    TH_INPUT in;
    char    id[16];
    int     i;

    (void) state;
    for (i = 0; i < 5; i++) {
	snprintf(id, sizeof(id), "YOUNG%d", i);
	ix_put(ix, id, i % 2 ? ACTIVE : INCOMING, &young, 0);
	snprintf(id, sizeof(id), "OLDMSG%d", i);
	ix_put(ix, id, INCOMING, &old, 0);
	snprintf(id, sizeof(id), "DEFER%d", i);
	ix_put(ix, id, DEFERRED, &young, 0);
    }
    ix_put(ix, "HAM001", INCOMING, &other, 0);
    ix_policy_input(ix, &w, NOW, &in);
    assert_int_equal(in.total, 6);		/* 5 young + ham; not old/deferred */
    assert_int_equal(in.nkeys, 1);		/* ham has 1 < min_keep 2 */
    assert_string_equal(in.keys[0].key, "flood.example");
    assert_int_equal(in.keys[0].count, 5);
    w.max_age = 0;				/* no age limit */
    ix_policy_input(ix, &w, NOW, &in);
    assert_int_equal(in.total, 11);
    assert_int_equal(in.keys[0].count, 10);
    ix_destroy(ix);
}

/* Compare two indexes key kind by key kind, row by row. */
static void
same_counts(IX *a, IX *b, size_t top)
{
    int     k;

    for (k = 0; k < QS_NKEYKINDS; k++) {
	IX_RANK ra, rb;
	IX_ROW *copy;
	size_t  i;

	ix_count_keys(a, k, NOW, top, &ra);
	copy = malloc((ra.nrows + 1) * sizeof(*copy));
	memcpy(copy, ra.row, ra.nrows * sizeof(*copy));
	ix_count_keys(b, k, NOW, top, &rb);
	assert_int_equal(ra.nrows, rb.nrows);
	assert_int_equal(ra.ndistinct, rb.ndistinct);
	assert_int_equal(ra.other, rb.other);
	for (i = 0; i < rb.nrows; i++) {
	    assert_int_equal(copy[i].len, rb.row[i].len);
	    assert_memory_equal(copy[i].key, rb.row[i].key, rb.row[i].len);
	    assert_int_equal(copy[i].total, rb.row[i].total);
	    assert_memory_equal(copy[i].count, rb.row[i].count,
				sizeof(copy[i].count));
	}
	free(copy);
    }
}

/* The top n rows are the first n of the full ranking, with their "other". */
static void
top_is_prefix(IX *ix, size_t n)
{
    int     k;

    for (k = 0; k < QS_NKEYKINDS; k++) {
	IX_RANK all, top;
	IX_ROW *copy;
	size_t  i;
	uint64_t rest = 0;

	ix_count_keys(ix, k, NOW, 1000000, &all);
	copy = malloc((all.nrows + 1) * sizeof(*copy));
	memcpy(copy, all.row, all.nrows * sizeof(*copy));
	ix_count_keys(ix, k, NOW, n, &top);
	assert_int_equal(top.nrows, all.nrows < n ? all.nrows : n);
	for (i = 0; i < top.nrows; i++) {
	    assert_int_equal(copy[i].len, top.row[i].len);
	    assert_memory_equal(copy[i].key, top.row[i].key, top.row[i].len);
	    assert_int_equal(copy[i].total, top.row[i].total);
	}
	for (; i < all.nrows; i++)
	    rest += copy[i].total;
	assert_int_equal(top.other, rest);
	assert_int_equal(all.other, 0);
	free(copy);
    }
}

/* Random operations end with exactly what a fresh index of the survivors
 * holds; enough distinct keys come and go to force a key rebuild. */
static void
random_ops(void **state)
{
    enum { N = 3000, OPS = 60000 };
    static int alive[N], queue[N], dom[N];
    IX     *ix = ix_create(&geom), *fresh = ix_create(&geom);
    char    id[16], sender[64], client[32], rd[64];
    uint32_t ta[QS_MAX_QUEUES][QS_MAX_BUCKETS + 1], tb[QS_MAX_QUEUES][QS_MAX_BUCKETS + 1];
    int     i, n;

    (void) state;
    srand(42);
    for (i = 0; i < OPS; i++) {
	n = rand() % N;
	snprintf(id, sizeof(id), "Q%05dX", n);
	switch (rand() % 5) {
	case 0:
	case 1:			/* created, or replaced */
	    dom[n] = rand() % 9000;
	    queue[n] = rand() % 3;
	    alive[n] = 1;
	    snprintf(sender, sizeof(sender), "u%d@s%d.p%d.example", n,
		     dom[n], dom[n] % 7);
	    snprintf(client, sizeof(client), "10.0.%d.%d", dom[n] % 5, n % 250);
	    snprintf(rd, sizeof(rd), "r@d%d.example", dom[n] % 11);
	    {
		QF_STR r[3] = {{rd, strlen(rd)}, {rd, strlen(rd)}, {"x@y.z", 5}};
		QF_FACTS f = facts(sender, client, r, 1 + (size_t) (n % 3),
				   NOW - n * 7);

		assert_int_equal(ix_put(ix, id, queue[n], &f, 0), 0);
	    }
	    break;
	case 2:			/* moved */
	    if (alive[n]) {
		queue[n] = (queue[n] + 1) % 3;
		assert_int_equal(ix_move(ix, id, queue[n]), 1);
	    } else {
		assert_int_equal(ix_move(ix, id, 0), 0);
	    }
	    break;
	case 3:			/* delivered */
	    assert_int_equal(ix_remove(ix, id), alive[n]);
	    alive[n] = 0;
	    break;
	case 4:			/* a reconcile now and then */
	    if (rand() % 500 == 0) {
		int     j;

		ix_mark_begin(ix);
		for (j = 0; j < N; j++) {
		    snprintf(id, sizeof(id), "Q%05dX", j);
		    assert_int_equal(ix_mark(ix, id, queue[j]) == 1, alive[j]);
		}
		assert_int_equal(ix_sweep(ix), 0);
	    }
	    break;
	}
    }
    for (n = 0; n < N; n++) {
	if (!alive[n])
	    continue;
	snprintf(id, sizeof(id), "Q%05dX", n);
	snprintf(sender, sizeof(sender), "u%d@s%d.p%d.example", n, dom[n],
		 dom[n] % 7);
	snprintf(client, sizeof(client), "10.0.%d.%d", dom[n] % 5, n % 250);
	snprintf(rd, sizeof(rd), "r@d%d.example", dom[n] % 11);
	{
	    QF_STR r[3] = {{rd, strlen(rd)}, {rd, strlen(rd)}, {"x@y.z", 5}};
	    QF_FACTS f = facts(sender, client, r, 1 + (size_t) (n % 3),
			       NOW - n * 7);

	    ix_put(fresh, id, queue[n], &f, 0);
	}
    }
    assert_int_equal(ix_messages(ix), ix_messages(fresh));
    top_is_prefix(ix, 50);
    same_counts(ix, fresh, 50);
    same_counts(ix, fresh, 100000);
    ix_queue_totals(ix, NOW, ta);
    ix_queue_totals(fresh, NOW, tb);
    assert_memory_equal(ta, tb, sizeof(ta));
    /* A sweep that removes nothing but rebuilds the key tables. */
    ix_mark_begin(ix);
    for (n = 0; n < N; n++) {
	snprintf(id, sizeof(id), "Q%05dX", n);
	ix_mark(ix, id, queue[n]);
    }
    ix_sweep(ix);
    same_counts(ix, fresh, 100000);
    ix_destroy(ix);
    ix_destroy(fresh);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(put_move_remove),
	cmocka_unit_test(policy_window),
	cmocka_unit_test(random_ops),
    };

    return cmocka_run_group_tests_name("index", tests, 0, 0);
}

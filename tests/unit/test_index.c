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
#include "regdom.h"

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

/* The count of key in a policy input, or 0. */
static uint32_t
in_count(const TH_INPUT *in, const char *key)
{
    size_t  i;

    for (i = 0; i < in->nkeys; i++)
	if (in->keys[i].len == strlen(key)
	    && memcmp(in->keys[i].key, key, in->keys[i].len) == 0)
	    return in->keys[i].count;
    return 0;
}

/*
 * The window's edges, one at a time.  max_age (conf(5)): only messages
 * younger than max_age count; one exactly max_age old does not.  min_keep:
 * keys with at least that many messages are reported.  Queues: only the
 * window's.
 */
static void
policy_window_edges(void **state)
{
    IX     *ix = ix_create(&geom);
    QF_FACTS at = facts("s@edge.example", 0, 0, 0, NOW - 3600);
    QF_FACTS in1 = facts("s@edge.example", 0, 0, 0, NOW - 3599);
    QF_FACTS out1 = facts("s@edge.example", 0, 0, 0, NOW - 3601);
    QF_FACTS future = facts("s@edge.example", 0, 0, 0, NOW + 60);
    QF_FACTS three = facts("t@three.example", 0, 0, 0, NOW - 10);
    IX_WINDOW w = {QS_KEY_SENDER_DOMAIN, 1u << INCOMING, 3600, 1};
    TH_INPUT in;

    (void) state;
    ix_put(ix, "EDGE01", INCOMING, &at, 0);
    ix_policy_input(ix, &w, NOW, &in);
    assert_int_equal(in.total, 0);		/* exactly max_age: out */
    assert_int_equal(in.nkeys, 0);
    ix_put(ix, "EDGE02", INCOMING, &in1, 0);
    ix_put(ix, "EDGE03", INCOMING, &out1, 0);
    ix_put(ix, "EDGE04", INCOMING, &future, 0);
    ix_policy_input(ix, &w, NOW, &in);
    assert_int_equal(in.total, 2);		/* 1 s younger; the future */
    assert_int_equal(in.nkeys, 1);
    assert_int_equal(in_count(&in, "edge.example"), 2);
    /* One second later the 3599 s old one is at the edge: out. */
    ix_policy_input(ix, &w, NOW + 1, &in);
    assert_int_equal(in.total, 1);
    w.max_age = 0;				/* no limit */
    ix_policy_input(ix, &w, NOW, &in);
    assert_int_equal(in.total, 4);
    w.max_age = 1;				/* only the future one */
    ix_policy_input(ix, &w, NOW, &in);
    assert_int_equal(in.total, 1);

    /* min_keep 3: a key with 3 is reported, one with 2 is not. */
    ix_put(ix, "THREE1", INCOMING, &three, 0);
    ix_put(ix, "THREE2", INCOMING, &three, 0);
    ix_put(ix, "THREE3", ACTIVE, &three, 0);
    w.max_age = 0;
    w.min_keep = 3;
    w.queue_mask = (1u << INCOMING) | (1u << ACTIVE);
    ix_policy_input(ix, &w, NOW, &in);
    assert_int_equal(in.total, 7);
    assert_int_equal(in.nkeys, 2);
    assert_int_equal(in_count(&in, "three.example"), 3);
    assert_int_equal(in_count(&in, "edge.example"), 4);
    ix_move(ix, "THREE3", DEFERRED);		/* leaves the window */
    ix_policy_input(ix, &w, NOW, &in);
    assert_int_equal(in.total, 6);
    assert_int_equal(in.nkeys, 1);
    assert_int_equal(in_count(&in, "three.example"), 0);
    /* min_keep 0 reports every key with a message, never one without. */
    w.min_keep = 0;
    ix_remove(ix, "EDGE01");
    ix_policy_input(ix, &w, NOW, &in);
    assert_int_equal(in.total, 5);
    assert_int_equal(in.nkeys, 2);
    assert_int_equal(in_count(&in, "three.example"), 2);
    assert_int_equal(in_count(&in, "edge.example"), 3);
    /* Only the deferred queue; an ID of one character counts too. */
    w.queue_mask = 1u << DEFERRED;
    ix_policy_input(ix, &w, NOW, &in);
    assert_int_equal(in.total, 1);
    assert_int_equal(in.nkeys, 1);
    assert_int_equal(in_count(&in, "three.example"), 1);
    ix_put(ix, "Z", DEFERRED, &three, 0);
    ix_policy_input(ix, &w, NOW, &in);
    assert_int_equal(in.total, 2);
    assert_int_equal(in_count(&in, "three.example"), 2);
    ix_destroy(ix);
}

/* Many keys (past the first 64 the input holds) and new keys between two
 * calls: every count exact, zeroed between calls. */
static void
policy_window_many(void **state)
{
    IX     *ix = ix_create(&geom);
    IX_WINDOW w = {QS_KEY_SENDER, 1u << INCOMING, 0, 1};
    TH_INPUT in;
    char    id[16], sender[32];
    int     i, j;

    (void) state;
    for (i = 0; i < 100; i++)
	for (j = 0; j <= i % 3; j++) {
	    QF_FACTS f;

	    snprintf(sender, sizeof(sender), "u%d@many.example", i);
	    f = facts(sender, 0, 0, 0, NOW);
	    snprintf(id, sizeof(id), "M%03dX%d", i, j);
	    ix_put(ix, id, INCOMING, &f, 0);
	}
    ix_policy_input(ix, &w, NOW, &in);
    ix_policy_input(ix, &w, NOW, &in);		/* again: not doubled */
    assert_int_equal(in.total, 199);
    assert_int_equal(in.nkeys, 100);
    for (i = 0; i < 100; i++) {
	snprintf(sender, sizeof(sender), "u%d@many.example", i);
	assert_int_equal(in_count(&in, sender), i % 3 + 1);
    }
    {
	QF_FACTS f = facts("new@many.example", 0, 0, 0, NOW);

	ix_put(ix, "NEWKEY1", INCOMING, &f, 0);
    }
    ix_policy_input(ix, &w, NOW, &in);
    assert_int_equal(in.total, 200);
    assert_int_equal(in.nkeys, 101);
    assert_int_equal(in_count(&in, "new@many.example"), 1);
    ix_destroy(ix);
}

/* Bucket edges as qshape's (5-minute ticks, geometric): under 300 s the
 * first, 300..599 the second, 600..1199 the third; and the last bucket
 * takes everything older. */
static void
bucket_edges(void **state)
{
    IX     *ix = ix_create(&geom);
    static const struct {
	int64_t age;
	int     bucket;
    } t[] = {{0, 1}, {299, 1}, {300, 2}, {599, 2}, {600, 3}, {1199, 3},
	     {1200, 4}, {76799, 9}, {76800, 10}, {10000000, 10}};
    uint32_t tot[QS_MAX_QUEUES][QS_MAX_BUCKETS + 1];
    char    id[16];
    size_t  i;
    int     b;

    (void) state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
	QF_FACTS f = facts("s@b.example", 0, 0, 0, NOW - t[i].age);

	snprintf(id, sizeof(id), "BKT%02zu", i);
	ix_put(ix, id, ACTIVE, &f, 0);
	ix_queue_totals(ix, NOW, tot);
	assert_int_equal(tot[ACTIVE][0], 1);
	for (b = 1; b <= 10; b++)
	    assert_int_equal(tot[ACTIVE][b], b == t[i].bucket);
	ix_remove(ix, id);
    }
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

/* Interned keys, the same in two indexes: nothing is held for messages
 * that left. */
static void
same_keys(const IX *a, const IX *b)
{
    IX_STATS sa, sb;
    int     k;

    ix_stats(a, &sa);
    ix_stats(b, &sb);
    assert_int_equal(sa.messages, sb.messages);
    for (k = 0; k < QS_NKEYKINDS; k++) {
	assert_int_equal(sa.keys[k], sb.keys[k]);
	assert_int_equal(sa.key_bytes[k], sb.key_bytes[k]);
    }
}

/* Random operations end with exactly what a fresh index of the survivors
 * holds, counts and interned keys alike. */
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
    same_keys(ix, fresh);
    /* A sweep that removes nothing changes nothing. */
    ix_mark_begin(ix);
    for (n = 0; n < N; n++) {
	snprintf(id, sizeof(id), "Q%05dX", n);
	ix_mark(ix, id, queue[n]);
    }
    assert_int_equal(ix_sweep(ix), 0);
    same_counts(ix, fresh, 100000);
    same_keys(ix, fresh);
    ix_destroy(ix);
    ix_destroy(fresh);
}

/* Issue 7, item 8: parent keys stop at the registrable domain, in the
 * counts the scanner publishes and in a policy's window. */
static void
parents_stop_at_registrable(void **state)
{
    IX     *ix = ix_create(&geom);
    static const char *const from[] = {
	"a@a.mail.shop.co.uk", "b@mail.shop.co.uk", "c@x.example.com",
	"d@example.com", "e@co.uk", "f@shop.co.uk", "g@a.b.foo.ck",
    };
    IX_WINDOW w = {QS_KEY_PARENT_DOMAIN, 1u << INCOMING, 0, 1};
    IX_RANK rank;
    TH_INPUT in;
    IX_STATS st;
    char    id[16];
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
	QF_FACTS f = facts(from[i], 0, 0, 0, NOW - 60);

	snprintf(id, sizeof(id), "PAR%zuX", i);
	assert_int_equal(ix_put(ix, id, INCOMING, &f, 0), 0);
    }
    ix_count_keys(ix, QS_KEY_PARENT_DOMAIN, NOW, 10, &rank);
    assert_int_equal(rank.nrows, 4);
    assert_int_equal(rank.ndistinct, 4);
    assert_int_equal(row(&rank, ".shop.co.uk")->total, 2);
    assert_int_equal(row(&rank, ".mail.shop.co.uk")->total, 1);
    assert_int_equal(row(&rank, ".example.com")->total, 1);
    assert_int_equal(row(&rank, ".b.foo.ck")->total, 1);
    assert_null(row(&rank, ".co.uk"));
    assert_null(row(&rank, ".foo.ck"));
    ix_policy_input(ix, &w, NOW, &in);
    assert_int_equal(in.total, 7);
    assert_int_equal(in.nkeys, 4);
    for (i = 0; i < in.nkeys; i++)
	assert_true(strcmp(in.keys[i].key, ".co.uk") != 0);
    ix_stats(ix, &st);
    assert_int_equal(st.keys[QS_KEY_PARENT_DOMAIN], 4);
    ix_destroy(ix);
}

/* Bytes of the text of n keys of these lengths, with their NULs. */
#define TEXT(len, n)	((size_t) ((len) + 1) * (n))

/* A sender "x@a.a. ... a.mNUM.example" with 'dots' dots: every domain has
 * a chain of distinct parents (qshape's rule would intern them all). */
static size_t
deep_sender(char *buf, int dots, int num)
{
    size_t  n = (size_t) sprintf(buf, "x@");
    int     i;

    for (i = 0; i < dots - 1; i++)
	n += (size_t) sprintf(buf + n, "a.");
    return n + (size_t) sprintf(buf + n, "m%d.example", num);
}

static void
put_sender(IX *ix, const char *id, const char *sender)
{
    QF_STR  r[1] = {STR("r@p.example")};
    QF_FACTS f = facts(sender, 0, r, 1, NOW - 60);

    assert_int_equal(ix_put(ix, id, INCOMING, &f, 0), 0);
}

/*
 * Issue 7, item 10: 200 messages with 2 KB sender domains and one with a
 * 60 KB domain (the scanner grew to 440 MB and 2.66 GB): the index holds
 * each key once, no parents above RD_NAME_MAX bytes, and gives everything
 * back when the messages leave.
 */
static void
long_senders_bounded(void **state)
{
    IX     *ix = ix_create(&geom), *ref = ix_create(&geom);
    static char sender[64 * 1024];
    IX_STATS st, st_ref;
    size_t  len = 0, big, dom = 0, i;
    char    id[16];

    (void) state;
    for (i = 0; i < 200; i++) {
	len = deep_sender(sender, 997, (int) (100 + i));	/* 3 digits */
	snprintf(id, sizeof(id), "LONG%zuX", i);
	put_sender(ix, id, sender);
    }
    dom = len - 2;				/* without "x@" */
    assert_true(dom > 2000);
    big = deep_sender(sender, 30000, 1);
    assert_true(big > 60000);
    put_sender(ix, "HUGE1X", sender);
    ix_stats(ix, &st);
    assert_int_equal(st.messages, 201);
    assert_int_equal(st.keys[QS_KEY_SENDER_DOMAIN], 201);
    assert_int_equal(st.keys[QS_KEY_PARENT_DOMAIN], 0);
    assert_int_equal(st.keys[QS_KEY_SENDER], 201);
    assert_int_equal(st.keys[QS_KEY_RCPT_DOMAIN], 1);
    assert_int_equal(st.key_bytes[QS_KEY_SENDER_DOMAIN],
		     TEXT(dom, 200) + TEXT(big - 2, 1));
    assert_int_equal(st.key_bytes[QS_KEY_SENDER],
		     TEXT(len, 200) + TEXT(big, 1));
    /* Linear: the key text and a small, fixed cost per message and key. */
    assert_true(st.bytes < 2 * (st.key_bytes[QS_KEY_SENDER_DOMAIN]
				+ st.key_bytes[QS_KEY_SENDER]) + 256 * 1024);

    for (i = 0; i < 200; i++) {
	snprintf(id, sizeof(id), "LONG%zuX", i);
	assert_int_equal(ix_remove(ix, id), 1);
    }
    assert_int_equal(ix_remove(ix, "HUGE1X"), 1);
    /* Everything back: as an index that held one short message (which
     * both pass, so that their scratch buffers match). */
    put_sender(ix, "SHORT1", "x@y.example");
    assert_int_equal(ix_remove(ix, "SHORT1"), 1);
    put_sender(ref, "SHORT1", "x@y.example");
    assert_int_equal(ix_remove(ref, "SHORT1"), 1);
    ix_stats(ix, &st);
    ix_stats(ref, &st_ref);
    for (i = 0; i < QS_NKEYKINDS; i++) {
	assert_int_equal(st.keys[i], 0);
	assert_int_equal(st.key_bytes[i], 0);
    }
    assert_int_equal(st.bytes, st_ref.bytes);
    ix_destroy(ix);
    ix_destroy(ref);
}

/* A domain of RD_NAME_MAX bytes has RD_PARENTS_MAX parents, shared with
 * its siblings; keys go when their last message (or child) does. */
static void
parents_bounded_and_shared(void **state)
{
    IX     *ix = ix_create(&geom);
    char    sender[512];
    size_t  len;
    IX_STATS st;

    (void) state;
    /* "x@" + a.a. ... m10.example of 255 bytes: 123 labels below
     * "example", all but the last eight parents cut. */
    len = deep_sender(sender, 123, 10);
    assert_int_equal(len - 2, 255);
    put_sender(ix, "DEEP01", sender);
    ix_stats(ix, &st);
    assert_int_equal(st.keys[QS_KEY_PARENT_DOMAIN], RD_PARENTS_MAX);
    /* A sibling "x@ba.a ... m10.example" (one label fewer) shares all
     * eight. */
    memcpy(sender + 2, "b", 1);
    memmove(sender + 3, sender + 4, len - 3);
    put_sender(ix, "DEEP02", sender);
    ix_stats(ix, &st);
    assert_int_equal(st.keys[QS_KEY_SENDER_DOMAIN], 2);
    assert_int_equal(st.keys[QS_KEY_PARENT_DOMAIN], RD_PARENTS_MAX);
    assert_int_equal(ix_remove(ix, "DEEP01"), 1);
    ix_stats(ix, &st);
    assert_int_equal(st.keys[QS_KEY_SENDER_DOMAIN], 1);
    assert_int_equal(st.keys[QS_KEY_PARENT_DOMAIN], RD_PARENTS_MAX);

    /* Replacing a message's facts gives its old keys back. */
    put_sender(ix, "DEEP02", "y@z.other.example");
    ix_stats(ix, &st);
    assert_int_equal(st.keys[QS_KEY_SENDER_DOMAIN], 1);
    assert_int_equal(st.key_bytes[QS_KEY_SENDER_DOMAIN],
		     sizeof("z.other.example"));
    assert_int_equal(st.keys[QS_KEY_PARENT_DOMAIN], 1);	/* .other.example */
    assert_int_equal(st.key_bytes[QS_KEY_PARENT_DOMAIN],
		     sizeof(".other.example"));
    assert_int_equal(st.keys[QS_KEY_SENDER], 1);
    /* Domains above RD_NAME_MAX have none. */
    len = deep_sender(sender, 124, 10);
    assert_int_equal(len - 2, 257);
    put_sender(ix, "DEEP03", sender);
    ix_stats(ix, &st);
    assert_int_equal(st.keys[QS_KEY_SENDER_DOMAIN], 2);
    assert_int_equal(st.keys[QS_KEY_PARENT_DOMAIN], 1);
    ix_destroy(ix);
}

/* Many queue IDs in and out of the ID map: each found in its queue. */
static void
many_ids(void **state)
{
    enum { N = 20000 };
    IX     *ix = ix_create(&geom);
    QF_FACTS f = facts("s@a.example", 0, 0, 0, NOW);
    char    id[16];
    int     i;

    (void) state;
    for (i = 0; i < N; i++) {
	snprintf(id, sizeof(id), "%05X%04X", i * 7, i);
	assert_int_equal(ix_put(ix, id, i % 3, &f, 0), 0);
    }
    for (i = 0; i < N; i += 2) {
	snprintf(id, sizeof(id), "%05X%04X", i * 7, i);
	assert_int_equal(ix_remove(ix, id), 1);
    }
    assert_int_equal(ix_messages(ix), N / 2);
    for (i = 0; i < N; i++) {
	snprintf(id, sizeof(id), "%05X%04X", i * 7, i);
	assert_int_equal(ix_queue_of(ix, id), i % 2 ? i % 3 : -1);
    }
    ix_destroy(ix);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(put_move_remove),
	cmocka_unit_test(policy_window),
	cmocka_unit_test(policy_window_edges),
	cmocka_unit_test(policy_window_many),
	cmocka_unit_test(bucket_edges),
	cmocka_unit_test(random_ops),
	cmocka_unit_test(parents_stop_at_registrable),
	cmocka_unit_test(long_senders_bounded),
	cmocka_unit_test(parents_bounded_and_shared),
	cmocka_unit_test(many_ids),
    };

    return cmocka_run_group_tests_name("index", tests, 0, 0);
}

/*
 * sc_body - the summary body, built from the index and the throttle
 * state.  See sc_body.h.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "htab.h"
#include "sc_body.h"
#include "shm.h"

static void
set_key(QS_KEY *k, int kind, const char *key, size_t len)
{
    size_t  n = len < QS_KEY_BYTES - 1 ? len : QS_KEY_BYTES - 1;

    k->hash = qs_key_hash(kind, key, len);
    k->len = (uint16_t) (len > UINT16_MAX ? UINT16_MAX : len);
    k->truncated = len >= QS_KEY_BYTES;
    memcpy(k->text, key, n);
}

/* qshape's subdomain count of each published parent row: the distinct
 * published domains and parents whose parent it is. */
static void
count_subdomains(QS_KEY *key, const QS_TABLE *tab)
{
    const QS_TABLE *pt = &tab[QS_KEY_PARENT_DOMAIN];
    HTAB   *h = htab_create(sizeof(uint32_t));
    static const int kinds[2] = {QS_KEY_SENDER_DOMAIN, QS_KEY_PARENT_DOMAIN};
    char    buf[QS_KEY_BYTES + 2];
    uint32_t i, *v;
    int     k;

    for (i = 0; i < pt->nrows; i++) {
	QS_KEY *row = &key[pt->first + i];

	*(uint32_t *) htab_insert(h, row->text, strlen(row->text), 0) =
	    pt->first + i + 1;
    }
    for (k = 0; k < 2; k++) {
	const QS_TABLE *t = &tab[kinds[k]];

	for (i = 0; i < t->nrows; i++) {
	    const char *s = key[t->first + i].text;
	    size_t  n = addr_qshape_parent(s, strlen(s), buf);

	    if (n > 0 && (v = htab_find(h, buf, n)) != 0)
		key[*v - 1].subdomains++;
	}
    }
    htab_destroy(h);
}

/* Queue totals by age, then the top keys of every kind. */
static void
build_counts(const SC_BODY_IN *in, const SC_BODY_OUT *out, int64_t now)
{
    const SC_CONF *c = in->conf;
    uint32_t totals[QS_MAX_QUEUES][QS_MAX_BUCKETS + 1];
    IX_RANK rank[QS_NKEYKINDS];
    uint32_t used = 0;
    int     kind, q;
    size_t  r;

    ix_queue_totals(in->ix, now, totals);
    for (q = 0; q < c->nqueues; q++) {
	snprintf(out->queue[q].name, sizeof(out->queue[q].name), "%s",
		 c->queues[q]);
	memcpy(out->queue[q].count, totals[q], sizeof(out->queue[q].count));
    }
    ix_count_all(in->ix, (1u << QS_NKEYKINDS) - 1, now, c->top_keys, rank);
    for (kind = 0; kind < QS_NKEYKINDS; kind++) {
	QS_TABLE *t = &out->table[kind];

	t->first = used;
	t->ndistinct = rank[kind].ndistinct;
	t->other_messages = rank[kind].other;
	for (r = 0; r < rank[kind].nrows && used < out->max_keys; r++) {
	    const IX_ROW *row = &rank[kind].row[r];

	    set_key(&out->key[used], kind, row->key, row->len);
	    for (q = 0; q < c->nqueues; q++)
		memcpy(out->key[used].count[q], row->count[q],
		       sizeof(out->key[used].count[q]));
	    used++;
	}
	t->nrows = used - t->first;
    }
    out->body->nkeys = used;
    count_subdomains(out->key, out->table);
}

_Static_assert(TH_KEPT_QUEUE == QS_KEPT_QUEUE
	       && TH_KEPT_HOLD_TIME == QS_KEPT_HOLD_TIME
	       && TH_KEPT_PRESSURE == QS_KEPT_PRESSURE,
	       "TH_KEPT_* are published as QS_KEPT_*");

/* The throttled keys, their times (monotonic ms) shown on the wall clock
 * of 'now'. */
static size_t
build_throttle(const SC_BODY_IN *in, const SC_BODY_OUT *out)
{
    const TH_STATE *s = in->state;
    int64_t wall = in->now.wall_ms, mono = in->now.mono_ms;
    uint32_t n;

    for (n = 0; n < s->n && n < out->max_throttle; n++) {
	const TH_ENTRY *e = &s->entry[n];
	const SC_POLICY *pol = &in->conf->policy[e->policy];
	QS_THROTTLE *th = &out->throttle[n];

	shm_throttle_set_key(th, pol->th.kind, e->key, e->len);
	th->action = (uint8_t) pol->th.action;
	th->policy = (uint16_t) e->policy;
	th->policy_digest = pol->digest;
	th->count = e->count;
	th->total = e->total;
	th->share_ppm = e->total ?
	    (uint32_t) ((uint64_t) e->count * 1000000 / e->total) : 0;
	th->enter_count = e->enter_count;
	th->enter_total = e->enter_total;
	th->since = th_wall(e->since, mono, wall) / 1000;
	th->hold_until = th_wall(e->hold_until, mono, wall) / 1000;
	th->kept = e->kept;
	th->last_pressure_ms = e->last_pressure == TH_NEVER ? 0
	    : th_wall(e->last_pressure, mono, wall);
	snprintf(th->policy_name, sizeof(th->policy_name), "%s",
		 pol->th.name);
    }
    out->body->nthrottle = n;
    return s->n - n;
}

/* The policies, config order, with their counters and throttled keys
 * (all of the state's, published or not). */
static void
build_policies(const SC_BODY_IN *in, const SC_BODY_OUT *out)
{
    const SC_CONF *c = in->conf;
    size_t  n = c->npolicy < QS_MAX_POLICIES ? c->npolicy : QS_MAX_POLICIES;
    size_t  p, i;

    for (p = 0; p < n; p++) {
	QS_POLICY *q = &out->policy[p];

	snprintf(q->name, sizeof(q->name), "%s", c->policy[p].th.name);
	q->digest = c->policy[p].digest;
	q->kind = (uint8_t) c->policy[p].th.kind;
	q->action = (uint8_t) c->policy[p].th.action;
	if (in->stats) {
	    q->throttle_enters = in->stats->policy_enters[p];
	    q->throttle_leaves = in->stats->policy_leaves[p];
	}
    }
    for (i = 0; i < in->state->n; i++)
	if ((size_t) in->state->entry[i].policy < n)
	    out->policy[in->state->entry[i].policy].throttled++;
    out->body->npolicy = (uint32_t) n;
}

size_t
sc_body_build(const SC_BODY_IN *in, const SC_BODY_OUT *out)
{
    const SC_CONF *c = in->conf;
    QS_BODY *b = out->body;
    size_t  left;

    build_counts(in, out, in->now.wall_ms / 1000);
    left = build_throttle(in, out);
    build_policies(in, out);
    b->published = in->now.wall_ms / 1000;
    b->published_ns = (in->now.wall_ms % 1000) * 1000000;
    b->last_reconcile = in->last_reconcile;
    b->nqueues = (uint32_t) c->nqueues;
    b->nbuckets = (uint32_t) c->geom.nbuckets;
    b->bucket_minutes = (uint32_t) c->geom.bucket_minutes;
    b->linear = (uint32_t) c->geom.linear;
    b->messages = (uint32_t) ix_messages(in->ix);
    b->policies_digest = c->policies_digest;
    if (in->stats) {
	b->stats.start_time = in->stats->start_time;
	b->stats.files_parsed = in->stats->parsed;
	b->stats.files_skipped = in->stats->skipped;
	b->stats.files_vanished = in->stats->vanished;
	b->stats.reconciles = in->stats->reconciles;
	b->stats.reconcile_ns = in->stats->reconcile_ns;
	b->stats.throttle_enters = in->stats->throttle_enters;
	b->stats.throttle_leaves = in->stats->throttle_leaves;
    }
    return left;
}

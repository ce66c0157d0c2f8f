/*
 * throttle - the throttle state machine.  See throttle.h.
 *
 * A step looks keys up across arrays that can be large (100,000 keys in
 * a policy's input, max_throttled keys in the state, the milter's
 * pressure slots): each array is sorted once (TH_REF) and searched, so a
 * step costs O(n log n), never one array scanned for each key of another.
 * Sorting needs no hash a sender could aim collisions at.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "throttle.h"

const TH_ENTRY *
th_find(const TH_STATE *s, int policy, const char *key, size_t len)
{
    size_t  i;

    for (i = 0; s && i < s->n; i++)
	if (s->entry[i].policy == policy && s->entry[i].len == len
	    && memcmp(s->entry[i].key, key, len) == 0)
	    return &s->entry[i];
    return 0;
}

int64_t
th_wall(int64_t t, int64_t now_mono, int64_t now_wall)
{
    return now_wall + (t - now_mono);
}

int64_t
th_next_deadline(const TH_POLICY *pol, const TH_STATE *s, int64_t now)
{
    int64_t next = INT64_MAX, t;
    size_t  i;

    for (i = 0; s && i < s->n; i++) {
	const TH_ENTRY *e = &s->entry[i];
	const TH_POLICY *p = &pol[e->policy];

	if (e->hold_until > now && e->hold_until < next)
	    next = e->hold_until;
	if (p->pressure_time > 0 && e->last_pressure != TH_NEVER) {
	    t = e->last_pressure + p->pressure_time;
	    if (t > now && t < next)
		next = t;
	}
    }
    return next;
}

const char *
th_kept_names(unsigned kept, char *buf, size_t len)
{
    static const struct {
	unsigned flag;
	const char *name;
    } names[] = {
	{TH_KEPT_QUEUE, "queue"},
	{TH_KEPT_HOLD_TIME, "min_hold_time"},
	{TH_KEPT_PRESSURE, "pressure"},
    };
    size_t  i, n = 0;
    int     w;

    if (len == 0)
	return buf;
    buf[0] = 0;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
	if (!(kept & names[i].flag))
	    continue;
	w = snprintf(buf + n, len - n, "%s%s", n ? "," : "", names[i].name);
	if (w < 0 || (size_t) w >= len - n)
	    break;
	n += (size_t) w;
    }
    return buf;
}

/* A key of one of a step's arrays: where it is, for sorted lookups. */
typedef struct TH_REF {
    int     policy;
    const char *key;
    size_t  len;
    size_t  i;				/* index in its array */
} TH_REF;

/* Order: policy, length, bytes.  Equal keys may sort either way: input
 * and state keys are unique, and the pressure of a repeated key is the
 * latest of all. */
static int
ref_order(const TH_REF *a, int policy, const char *key, size_t len)
{
    if (a->policy != policy)
	return a->policy < policy ? -1 : 1;
    if (a->len != len)
	return a->len < len ? -1 : 1;
    return memcmp(a->key, key, len);
}

static int
ref_cmp(const void *x, const void *y)
{
    const TH_REF *b = y;

    return ref_order(x, b->policy, b->key, b->len);
}

/* The first ref of (policy, key) in r[0..n), or n. */
static size_t
ref_find(const TH_REF *r, size_t n, int policy, const char *key, size_t len)
{
    size_t  lo = 0, hi = n, mid;

    while (lo < hi) {
	mid = lo + (hi - lo) / 2;
	if (ref_order(&r[mid], policy, key, len) < 0)
	    lo = mid + 1;
	else
	    hi = mid;
    }
    return lo < n && ref_order(&r[lo], policy, key, len) == 0 ? lo : n;
}

/* n refs to fill, or NULL: *failed is 1 when malloc failed (n > 0). */
static TH_REF *
refs_alloc(size_t n, int *failed)
{
    TH_REF *r = n ? malloc(n * sizeof(*r)) : 0;

    *failed = n && r == 0;
    return r;
}

/* The state's keys, every policy, sorted. */
static TH_REF *
state_refs(const TH_STATE *s, int *failed)
{
    TH_REF *r = refs_alloc(s ? s->n : 0, failed);
    size_t  i;

    for (i = 0; r && i < s->n; i++)
	r[i] = (TH_REF) {s->entry[i].policy, s->entry[i].key,
			 s->entry[i].len, i};
    if (r)
	qsort(r, s->n, sizeof(*r), ref_cmp);
    return r;
}

/* One policy's input keys, sorted. */
static TH_REF *
count_refs(const TH_INPUT *in, int *failed)
{
    TH_REF *r = refs_alloc(in->nkeys, failed);
    size_t  i;

    for (i = 0; r && i < in->nkeys; i++)
	r[i] = (TH_REF) {0, in->keys[i].key, in->keys[i].len, i};
    if (r)
	qsort(r, in->nkeys, sizeof(*r), ref_cmp);
    return r;
}

/* One policy's pressure keys, sorted (a key may come more than once). */
static TH_REF *
pressure_refs(const TH_PRESSURE_IN *in, int *failed)
{
    TH_REF *r = refs_alloc(in ? in->nkeys : 0, failed);
    size_t  i;

    for (i = 0; r && i < in->nkeys; i++)
	r[i] = (TH_REF) {0, in->key[i].key, in->key[i].len, i};
    if (r)
	qsort(r, in->nkeys, sizeof(*r), ref_cmp);
    return r;
}

int
th_index(TH_INDEX *x, const TH_STATE *s)
{
    int     failed;

    x->ref = state_refs(s, &failed);
    x->n = failed ? 0 : (s ? s->n : 0);
    return failed ? -1 : 0;
}

const TH_ENTRY *
th_index_find(const TH_INDEX *x, const TH_STATE *s, int policy,
	      const char *key, size_t len)
{
    size_t  j;

    if (x->ref == 0)
	return th_find(s, policy, key, len);
    j = ref_find(x->ref, x->n, policy, key, len);
    return j < x->n ? &s->entry[x->ref[j].i] : 0;
}

void
th_index_free(TH_INDEX *x)
{
    free(x->ref);
    x->ref = 0;
    x->n = 0;
}

void
th_state_free(TH_STATE *s)
{
    size_t  i;

    if (s == 0)
	return;
    for (i = 0; i < s->n; i++)
	free(s->entry[i].key);
    free(s->entry);
    memset(s, 0, sizeof(*s));
}

static int
add(TH_STATE *s, const TH_ENTRY *e, const char *key, size_t len)
{
    TH_ENTRY *n;

    if (s->n == s->cap) {
	size_t  cap = s->cap ? 2 * s->cap : 16;

	if ((n = realloc(s->entry, cap * sizeof(*n))) == 0)
	    return -1;
	s->entry = n;
	s->cap = cap;
    }
    n = &s->entry[s->n];
    *n = *e;
    if ((n->key = malloc(len + 1)) == 0)
	return -1;
    memcpy(n->key, key, len);
    n->key[len] = 0;
    n->len = len;
    s->n++;
    return 0;
}

static int
enters(const TH_POLICY *p, uint32_t total, uint32_t count)
{
    return total >= p->min_queue && count >= p->min_count
	&& total > 0 && (double) count >= p->min_share * (double) total;
}

/* The queue's part of staying: all three at or above their release levels. */
static int
queue_keeps(const TH_POLICY *p, uint32_t total, uint32_t count)
{
    double  r = p->release_ratio;

    return (double) total >= r * p->min_queue
	&& (double) count >= r * p->min_count
	&& total > 0 && (double) count >= r * p->min_share * (double) total;
}

/* Which conditions keep a key throttled now (TH_KEPT_*). */
static unsigned
kept_by(const TH_POLICY *p, const TH_ENTRY *e, uint32_t total,
	uint32_t count, int64_t now)
{
    unsigned kept = 0;

    if (queue_keeps(p, total, count))
	kept |= TH_KEPT_QUEUE;
    if (now < e->hold_until)
	kept |= TH_KEPT_HOLD_TIME;
    if (p->pressure_time > 0 && e->last_pressure != TH_NEVER
	&& now - e->last_pressure < p->pressure_time)
	kept |= TH_KEPT_PRESSURE;
    return kept;
}

/* One policy's arrays, sorted for this step. */
typedef struct TH_LOOKUP {
    const TH_INPUT *in;
    TH_REF *count;			/* in->keys */
    const TH_PRESSURE_IN *pr;
    TH_REF *pressure;			/* pr->key */
} TH_LOOKUP;

/* Count of a throttled key: zero when it has left the window. */
static uint32_t
count_of(const TH_LOOKUP *l, const char *key, size_t len)
{
    size_t  n = l->in->nkeys, j = ref_find(l->count, n, 0, key, len);

    return j < n ? l->in->keys[l->count[j].i].count : 0;
}

/* The latest pressure on a key: the input's (never after now) or what
 * the entry had seen. */
static int64_t
pressure_of(const TH_LOOKUP *l, const char *key, size_t len, int64_t had,
	    int64_t now)
{
    size_t  n = l->pr ? l->pr->nkeys : 0, j;
    int64_t t;

    for (j = ref_find(l->pressure, n, 0, key, len);
	 j < n && ref_order(&l->pressure[j], 0, key, len) == 0; j++) {
	t = l->pr->key[l->pressure[j].i].last;
	if (t > now)
	    t = now;
	if (t > had)
	    had = t;
    }
    return had;
}

int
th_step(const TH_POLICY *pol, size_t npol, const TH_INPUT *in,
	const TH_STATE *prev, int64_t now, TH_STATE *next)
{
    return th_step_pressure(pol, npol, in, 0, prev, now, next);
}

/* One policy's step: its throttled keys stay or leave, new keys enter. */
static int
step_policy(const TH_POLICY *pp, int p, const TH_LOOKUP *l,
	    const TH_STATE *prev, const TH_REF *was_refs, int64_t now,
	    TH_STATE *next)
{
    uint32_t total = l->in->total;
    size_t  i, nprev = prev ? prev->n : 0;

    for (i = 0; i < nprev; i++) {
	const TH_ENTRY *was = &prev->entry[i];
	uint32_t count;
	TH_ENTRY e;

	if (was->policy != p)
	    continue;
	count = count_of(l, was->key, was->len);
	e = *was;
	e.last_pressure = pressure_of(l, was->key, was->len,
				      was->last_pressure, now);
	if ((e.kept = kept_by(pp, &e, total, count, now)) == 0)
	    continue;
	e.count = count;
	e.total = total;
	if (add(next, &e, was->key, was->len) < 0)
	    return -1;
    }
    for (i = 0; i < l->in->nkeys; i++) {
	const TH_COUNT *c = &l->in->keys[i];
	TH_ENTRY e;

	if (!enters(pp, total, c->count)
	    || ref_find(was_refs, nprev, p, c->key, c->len) < nprev)
	    continue;
	memset(&e, 0, sizeof(e));
	e.policy = p;
	e.count = e.enter_count = c->count;
	e.total = e.enter_total = total;
	e.since = now;
	e.hold_until = now + pp->min_hold_time;
	e.last_pressure = pressure_of(l, c->key, c->len, TH_NEVER, now);
	e.kept = kept_by(pp, &e, total, c->count, now);
	if (add(next, &e, c->key, c->len) < 0)
	    return -1;
    }
    return 0;
}

int
th_step_pressure(const TH_POLICY *pol, size_t npol, const TH_INPUT *in,
		 const TH_PRESSURE_IN *pr, const TH_STATE *prev, int64_t now,
		 TH_STATE *next)
{
    TH_REF *was;
    TH_LOOKUP l;
    size_t  p;
    int     failed, rc;

    memset(next, 0, sizeof(*next));
    was = state_refs(prev, &failed);
    rc = failed ? -1 : 0;
    for (p = 0; rc == 0 && p < npol; p++) {
	l.in = &in[p];
	l.pr = pr ? &pr[p] : 0;
	l.count = count_refs(l.in, &failed);
	l.pressure = failed ? 0 : pressure_refs(l.pr, &failed);
	rc = failed ? -1 : step_policy(&pol[p], (int) p, &l, prev, was, now,
				       next);
	free(l.count);
	free(l.pressure);
    }
    free(was);
    if (rc < 0)
	th_state_free(next);
    return rc;
}

/*
 * throttle - the throttle state machine.  See throttle.h.
 *
 * States are small (a few keys per policy), so lookups are linear.
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

/* Count of a throttled key that has left the window: zero. */
static uint32_t
count_of(const TH_INPUT *in, const char *key, size_t len)
{
    size_t  i;

    for (i = 0; i < in->nkeys; i++)
	if (in->keys[i].len == len && memcmp(in->keys[i].key, key, len) == 0)
	    return in->keys[i].count;
    return 0;
}

/* The latest pressure on a key: the input's (never after now) or what
 * the entry had seen. */
static int64_t
pressure_of(const TH_PRESSURE_IN *in, const char *key, size_t len,
	    int64_t had, int64_t now)
{
    size_t  i;
    int64_t t;

    for (i = 0; in && i < in->nkeys; i++) {
	if (in->key[i].len != len || memcmp(in->key[i].key, key, len) != 0)
	    continue;
	t = in->key[i].last < now ? in->key[i].last : now;
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

int
th_step_pressure(const TH_POLICY *pol, size_t npol, const TH_INPUT *in,
		 const TH_PRESSURE_IN *pr, const TH_STATE *prev, int64_t now,
		 TH_STATE *next)
{
    size_t  p, i;

    memset(next, 0, sizeof(*next));
    for (p = 0; p < npol; p++) {
	const TH_POLICY *pp = &pol[p];
	uint32_t total = in[p].total;

	/* Keys already throttled: stay or leave. */
	for (i = 0; prev && i < prev->n; i++) {
	    const TH_ENTRY *was = &prev->entry[i];
	    uint32_t count;
	    TH_ENTRY e;

	    if (was->policy != (int) p)
		continue;
	    count = count_of(&in[p], was->key, was->len);
	    e = *was;
	    e.last_pressure = pressure_of(pr ? &pr[p] : 0, was->key, was->len,
					  was->last_pressure, now);
	    if ((e.kept = kept_by(pp, &e, total, count, now)) == 0)
		continue;
	    e.count = count;
	    e.total = total;
	    if (add(next, &e, was->key, was->len) < 0)
		goto nomem;
	}
	/* New keys. */
	for (i = 0; i < in[p].nkeys; i++) {
	    const TH_COUNT *c = &in[p].keys[i];
	    TH_ENTRY e;

	    if (!enters(pp, total, c->count)
		|| th_find(prev, (int) p, c->key, c->len))
		continue;
	    memset(&e, 0, sizeof(e));
	    e.policy = (int) p;
	    e.count = e.enter_count = c->count;
	    e.total = e.enter_total = total;
	    e.since = now;
	    e.hold_until = now + pp->min_hold_time;
	    e.last_pressure = pressure_of(pr ? &pr[p] : 0, c->key, c->len,
					  TH_NEVER, now);
	    e.kept = kept_by(pp, &e, total, c->count, now);
	    if (add(next, &e, c->key, c->len) < 0)
		goto nomem;
	}
    }
    return 0;

nomem:
    th_state_free(next);
    return -1;
}

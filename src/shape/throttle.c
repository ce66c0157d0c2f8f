/*
 * throttle - the throttle state machine.  See throttle.h.
 *
 * States are small (a few keys per policy), so lookups are linear.
 */
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

static int
stays(const TH_POLICY *p, const TH_ENTRY *was, uint32_t total,
      uint32_t count, int64_t now)
{
    double  r = p->release_ratio;

    if (now < was->hold_until)
	return 1;
    return (double) total >= r * p->min_queue
	&& (double) count >= r * p->min_count
	&& total > 0 && (double) count >= r * p->min_share * (double) total;
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

int
th_step(const TH_POLICY *pol, size_t npol, const TH_INPUT *in,
	const TH_STATE *prev, int64_t now, TH_STATE *next)
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
	    if (!stays(pp, was, total, count, now))
		continue;
	    e = *was;
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
	    if (add(next, &e, c->key, c->len) < 0)
		goto nomem;
	}
    }
    return 0;

nomem:
    th_state_free(next);
    return -1;
}

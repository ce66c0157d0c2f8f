/*
 * meter - metered release of held mail.  See meter.h.
 */
#include <stdlib.h>
#include <string.h>

#include "meter.h"

static int
by_hold_time(const void *a, const void *b)
{
    const MT_MSG *x = a, *y = b;

    if (x->mark.time != y->mark.time)
	return x->mark.time < y->mark.time ? -1 : 1;
    return strcmp(x->id, y->id);
}

/*
 * Earn credit since the last call.  Integer arithmetic, so that a message
 * earned in exactly 1 / rate seconds is whole: the rate in thousandths of
 * a message per second times milliseconds is the bucket's unit (MT_TOKEN
 * of them make a message).
 */
#define MT_TOKEN	1000000LL

static int64_t
rate_milli(const MT_POLICY *p)
{
    double  r = p->rate * 1000.0 + 0.5;

    return r < 1.0 ? 1 : r > 1e9 ? 1000000000LL : (int64_t) r;
}

static void
refill(const MT_POLICY *p, MT_BUCKET *b, int64_t now_ms)
{
    int64_t rm = rate_milli(p);
    int64_t dt;

    if (!b->started) {
	b->started = 1;
	b->units = rm * 1000 > MT_TOKEN ? rm * 1000 : MT_TOKEN;
    } else if (now_ms > b->last_ms) {
	dt = now_ms - b->last_ms;
	b->units += rm * (dt < MT_SPAN_MS ? dt : MT_SPAN_MS);
    }
    b->last_ms = now_ms;
}

static const MT_POLICY *
find_policy(const MT_POLICY *pol, size_t n, const char *name, size_t *at)
{
    size_t  i;

    for (i = 0; i < n; i++)
	if (strcmp(pol[i].name, name) == 0) {
	    *at = i;
	    return &pol[i];
	}
    return 0;
}

static MT_WHY
decide(const MT_POLICY *p, MT_BUCKET *b, const MT_MSG *m, int congested,
       MT_THROTTLED_FN throttled, void *ctx, int64_t now_s)
{
    if (p == 0)
	return MT_NO_POLICY;
    if (!p->metered)
	return MT_MANUAL;
    if (p->max_age > 0 && now_s - m->mark.time > p->max_age)
	return MT_TOO_OLD;
    if (congested)
	return MT_CONGESTED;
    if (throttled(ctx, p, &m->mark))
	return MT_THROTTLED;
    if (b->units < MT_TOKEN)
	return MT_RATE;
    b->units -= MT_TOKEN;
    return MT_RELEASE;
}

size_t
mt_plan(const MT_POLICY *pol, MT_BUCKET *bk, size_t npol, MT_MSG *msgs,
	size_t n, int congested, MT_THROTTLED_FN throttled, void *ctx,
	int64_t now_s, int64_t now_ms)
{
    const MT_POLICY *p;
    size_t  i, at = 0, nrel = 0;

    for (i = 0; i < npol; i++)
	if (pol[i].metered)
	    refill(&pol[i], &bk[i], now_ms);
    if (n > 1)
	qsort(msgs, n, sizeof(*msgs), by_hold_time);
    for (i = 0; i < n; i++) {
	p = find_policy(pol, npol, msgs[i].mark.policy, &at);
	msgs[i].why = decide(p, p ? &bk[at] : 0, &msgs[i], congested,
			     throttled, ctx, now_s);
	nrel += msgs[i].why == MT_RELEASE;
    }
    /* Credit nothing waited for is dropped. */
    for (i = 0; i < npol; i++) {
	if (!pol[i].metered)
	    continue;
	for (at = 0; at < n; at++)
	    if (msgs[at].why == MT_RATE
		&& strcmp(msgs[at].mark.policy, pol[i].name) == 0)
		break;
	if (at == n)
	    bk[i].units = 0;
    }
    return nrel;
}

int
mt_queue_congested(int64_t total, int64_t min_queue, int64_t min_count)
{
    return total >= min_queue && total >= min_count;
}

const char *
mt_why_name(MT_WHY why)
{
    static const char *const names[MT_NWHY] = {
	[MT_RELEASE] = "release",
	[MT_NO_POLICY] = "no_policy",
	[MT_MANUAL] = "manual",
	[MT_TOO_OLD] = "too_old",
	[MT_CONGESTED] = "congested",
	[MT_THROTTLED] = "throttled",
	[MT_RATE] = "rate",
    };

    return (unsigned) why < MT_NWHY ? names[why] : "?";
}

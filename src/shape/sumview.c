/*
 * sumview - the summary body as people read it.  See sumview.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "qshape/vocab.h"
#include "log.h"
#include "shm.h"
#include "sumview.h"

char   *
sv_field(char *dst, const char *field, size_t size)
{
    size_t  n = strnlen(field, size);

    log_printable(dst, field, n);
    dst[n] = 0;
    return dst;
}

int64_t
sv_ago(int64_t now, int64_t then)
{
    int64_t d;

    if (__builtin_sub_overflow(now, then, &d))
	return then < 0 ? INT64_MAX : INT64_MIN;
    return d;
}

int
sv_queue_find(const void *body, const char *name)
{
    const QS_BODY *b = body;
    const QS_QUEUE *q = shm_body_queue(body);
    size_t  len = strlen(name);
    uint32_t i;

    if (len >= QS_NAME_BYTES)
	return -1;
    for (i = 0; i < b->nqueues; i++)
	if (strnlen(q[i].name, QS_NAME_BYTES) == len
	    && memcmp(q[i].name, name, len) == 0)
	    return (int) i;
    return -1;
}

char   *
sv_kept(char *buf, size_t len, const QS_THROTTLE *e, int64_t now)
{
    int64_t left = sv_ago(e->hold_until, now);
    size_t  o;

    if (len == 0)
	return buf;
    buf[0] = 0;
    if ((e->kept & (QS_KEPT_QUEUE | QS_KEPT_HOLD_TIME | QS_KEPT_PRESSURE))
	== 0)
	return buf;
    o = (size_t) snprintf(buf, len, " kept=");
    if ((e->kept & QS_KEPT_QUEUE) && o < len)
	o += (size_t) snprintf(buf + o, len - o, "queue");
    if ((e->kept & QS_KEPT_HOLD_TIME) && o < len)
	o += (size_t) snprintf(buf + o, len - o, "%smin_hold_time(%llds)",
			       e->kept & QS_KEPT_QUEUE ? "," : "",
			       (long long) (left > 0 ? left : 0));
    if ((e->kept & QS_KEPT_PRESSURE) && o < len)
	snprintf(buf + o, len - o, "%spressure",
		 e->kept & (QS_KEPT_QUEUE | QS_KEPT_HOLD_TIME) ? "," : "");
    return buf;
}

static void
print_throttled(FILE *fp, const QS_THROTTLE *e, int64_t now)
{
    char    policy[QS_NAME_BYTES + 1];
    char    key[QS_KEY_BYTES + 1];
    char    kept[SV_KEPT_BYTES];

    fprintf(fp, "  policy=%s key=%s:%s action=%s count=%u total=%u "
	    "share=%.2f since=%llds entered_at=%u/%u%s\n",
	    sv_field(policy, e->policy_name, sizeof(e->policy_name)),
	    qs_kind_name(e->kind),
	    sv_field(key, e->text, sizeof(e->text)),
	    qs_action_name(e->action), e->count, e->total,
	    e->share_ppm / 1e6, (long long) sv_ago(now, e->since),
	    e->enter_count, e->enter_total, sv_kept(kept, sizeof(kept), e, now));
}

void
sv_status(FILE *fp, const void *body, int64_t now)
{
    const QS_BODY *b = body;
    const QS_QUEUE *q = shm_body_queue(body);
    const QS_THROTTLE *t = shm_body_throttle(body);
    char    name[QS_NAME_BYTES + 1];
    uint32_t i;

    fprintf(fp, "messages: %u\n", b->messages);
    for (i = 0; i < b->nqueues; i++)
	fprintf(fp, "  %-10s %u\n",
		sv_field(name, q[i].name, sizeof(q[i].name)), q[i].count[0]);
    fprintf(fp, "throttled: %u\n", b->nthrottle);
    for (i = 0; i < b->nthrottle; i++)
	print_throttled(fp, &t[i], now);
}

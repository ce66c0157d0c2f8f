/*
 * metrics - the Prometheus text exposition.  See metrics.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qshape/summary.h"
#include "qshape/vocab.h"
#include "mem.h"
#include "shm.h"
#include "metrics.h"

/* Indexes into families[], in the order they are written. */
enum {
    F_HEARTBEAT, F_PUBLISHED, F_RECONCILED, F_PUBLICATIONS,
    F_SC_START, F_FILES, F_RECONCILES, F_RECONCILE_SECONDS, F_TRANSITIONS,
    F_MESSAGES, F_QUEUE, F_QUEUE_AGE, F_DISTINCT,
    F_THROTTLED, F_THR_MESSAGES, F_THR_SHARE, F_DOM_MESSAGES, F_DOM_SHARE,
    F_MI_UP, F_MI_START, F_MI_SESSIONS, F_MI_VERDICTS, F_MI_FAILMODE,
    F_MI_EXEMPT, F_COUNT
};

static const MX_FAMILY families[F_COUNT] = {
    {"qshape_scanner_heartbeat_timestamp_seconds", "gauge", "",
     "When the scanner last said it is alive (unix time).", 0},
    {"qshape_scanner_published_timestamp_seconds", "gauge", "",
     "When the scanner last published the summary (unix time).", 0},
    {"qshape_scanner_last_reconcile_timestamp_seconds", "gauge", "",
     "When the scanner last completed a rescan of the queue (unix time).", 0},
    {"qshape_scanner_publications_total", "counter", "",
     "Summaries published since the summary segment was created.", 0},
    {"qshape_scanner_start_time_seconds", "gauge", "",
     "When the scanner's counters started (unix time).", 0},
    {"qshape_scanner_files_total", "counter", "result",
     "Queue files met: parsed, skipped (corrupt, unreadable, not a "
     "regular file) or vanished (gone before they could be read).", 0},
    {"qshape_scanner_reconciles_total", "counter", "",
     "Complete rescans of the queue.", 0},
    {"qshape_scanner_reconcile_seconds_total", "counter", "",
     "Time spent in rescans of the queue.", 0},
    {"qshape_throttle_transitions_total", "counter", "policy,direction",
     "Keys that entered or left the throttled state, per policy of the "
     "scanner's configuration.", 0},
    {"qshape_messages", "gauge", "",
     "Messages the scanner has indexed, all queues.", 0},
    {"qshape_queue_messages", "gauge", "queue",
     "Messages in a queue.", 0},
    {"qshape_queue_age_messages", "gauge", "queue,age",
     "Messages in a queue by age bucket: age is the bucket's upper bound "
     "in minutes, N+ for the last one.", 0},
    {"qshape_keys_distinct", "gauge", "kind",
     "Distinct keys of a kind in the queue.", 0},
    {"qshape_throttled_keys", "gauge", "policy",
     "Keys in the throttled state.", 0},
    {"qshape_throttled_key_messages", "gauge", "policy,kind,key",
     "A throttled key's messages in its policy's window (at most "
     "metrics.top_keys keys per policy, the largest).", 0},
    {"qshape_throttled_key_share", "gauge", "policy,kind,key",
     "A throttled key's share of its policy's window, 0 to 1.", 0},
    {"qshape_dominant_key_messages", "gauge", "policy,kind,key",
     "The largest keys of a policy's kind in its watched queues, all "
     "ages (at most metrics.top_keys per policy).", 0},
    {"qshape_dominant_key_share", "gauge", "policy,kind,key",
     "A dominant key's share of its policy's watched queues, 0 to 1.", 0},
    {"qshape_milter_counters_up", "gauge", "",
     "1 when the milter's counters file was read; 0 when it could not be "
     "(the other milter families are then left out).", 1},
    {"qshape_milter_start_time_seconds", "gauge", "",
     "When the milter's counters started (unix time).", 1},
    {"qshape_milter_sessions_total", "counter", "",
     "SMTP sessions the milter saw.", 1},
    {"qshape_milter_verdicts_total", "counter", "policy,action",
     "Verdicts per policy and action (tempfail, hold, log, accept).", 1},
    {"qshape_milter_failmode_total", "counter", "reason",
     "Times the milter began to apply its fail mode, per reason.", 1},
    {"qshape_milter_exemptions_total", "counter", "kind",
     "Messages an exemption let through, per kind of exemption.", 1},
};

const MX_FAMILY *
mx_families(size_t *n)
{
    *n = F_COUNT;
    return families;
}

static void
family(FILE *fp, int f)
{
    fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", families[f].name,
	    families[f].help, families[f].name, families[f].type);
}

void
mx_label(FILE *fp, const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
	unsigned char c = (unsigned char) s[i];

	if (c == '\\')
	    fputs("\\\\", fp);
	else if (c == '"')
	    fputs("\\\"", fp);
	else if (c == '\n')
	    fputs("\\n", fp);
	else if (c < 0x20 || c >= 0x7f)
	    fprintf(fp, "\\\\x%02x", c);
	else
	    putc(c, fp);
    }
}

/* A NUL-padded field of the summary, read within its size. */
static void
label_field(FILE *fp, const char *field, size_t size)
{
    mx_label(fp, field, strnlen(field, size));
}

static void
label_str(FILE *fp, const char *s)
{
    mx_label(fp, s, strlen(s));
}

/* The upper bound of age bucket b (1..n) in minutes, as qshape heads
 * its columns; the last bucket is open: "N+". */
static void
age_label(FILE *fp, const QS_BODY *b, uint32_t k)
{
    uint64_t m = b->bucket_minutes, up;
    uint32_t i = k < b->nbuckets ? k : k - 1;

    if (i == 0)				/* one bucket: all ages */
	up = 0;
    else
	up = b->linear ? m * i : m << (i - 1);
    fprintf(fp, "%" PRIu64 "%s", up, k < b->nbuckets ? "" : "+");
}

static void
format_heads(FILE *fp, const MX_INPUT *in)
{
    const QS_BODY *b = in->body;
    const QS_STATS *s = &b->stats;
    const QS_POLICY *pol = shm_body_policy(in->body);
    uint32_t i;

    family(fp, F_HEARTBEAT);
    fprintf(fp, "%s %" PRId64 "\n", families[F_HEARTBEAT].name,
	    in->heartbeat);
    family(fp, F_PUBLISHED);
    fprintf(fp, "%s %" PRId64 ".%03" PRId64 "\n", families[F_PUBLISHED].name,
	    b->published, b->published_ns / 1000000);
    family(fp, F_RECONCILED);
    fprintf(fp, "%s %" PRId64 "\n", families[F_RECONCILED].name,
	    b->last_reconcile);
    family(fp, F_PUBLICATIONS);
    fprintf(fp, "%s %" PRIu64 "\n", families[F_PUBLICATIONS].name, b->serial);
    if (s->start_time == 0)		/* a body built without counters */
	return;
    family(fp, F_SC_START);
    fprintf(fp, "%s %" PRId64 "\n", families[F_SC_START].name, s->start_time);
    family(fp, F_FILES);
    fprintf(fp, "%s{result=\"parsed\"} %" PRIu64 "\n"
	    "%s{result=\"skipped\"} %" PRIu64 "\n"
	    "%s{result=\"vanished\"} %" PRIu64 "\n",
	    families[F_FILES].name, s->files_parsed,
	    families[F_FILES].name, s->files_skipped,
	    families[F_FILES].name, s->files_vanished);
    family(fp, F_RECONCILES);
    fprintf(fp, "%s %" PRIu64 "\n", families[F_RECONCILES].name,
	    s->reconciles);
    family(fp, F_RECONCILE_SECONDS);
    fprintf(fp, "%s %" PRIu64 ".%09" PRIu64 "\n",
	    families[F_RECONCILE_SECONDS].name,
	    s->reconcile_ns / 1000000000u, s->reconcile_ns % 1000000000u);
    family(fp, F_TRANSITIONS);
    for (i = 0; i < b->npolicy && i < QS_MAX_POLICIES; i++) {
	static const char *const dir[2] = {"enter", "leave"};
	int     d;

	for (d = 0; d < 2; d++) {
	    fprintf(fp, "%s{policy=\"", families[F_TRANSITIONS].name);
	    label_field(fp, pol[i].name, sizeof(pol[i].name));
	    fprintf(fp, "\",direction=\"%s\"} %" PRIu64 "\n", dir[d],
		    d ? pol[i].throttle_leaves : pol[i].throttle_enters);
	}
    }
}

static void
format_queues(FILE *fp, const MX_INPUT *in)
{
    const QS_BODY *b = in->body;
    const QS_QUEUE *q = shm_body_queue(in->body);
    const QS_TABLE *t = shm_body_table(in->body);
    uint32_t i, k;

    family(fp, F_MESSAGES);
    fprintf(fp, "%s %u\n", families[F_MESSAGES].name, b->messages);
    family(fp, F_QUEUE);
    for (i = 0; i < b->nqueues; i++) {
	fprintf(fp, "%s{queue=\"", families[F_QUEUE].name);
	label_field(fp, q[i].name, sizeof(q[i].name));
	fprintf(fp, "\"} %u\n", q[i].count[0]);
    }
    family(fp, F_QUEUE_AGE);
    for (i = 0; i < b->nqueues; i++)
	for (k = 1; k <= b->nbuckets; k++) {
	    fprintf(fp, "%s{queue=\"", families[F_QUEUE_AGE].name);
	    label_field(fp, q[i].name, sizeof(q[i].name));
	    fputs("\",age=\"", fp);
	    age_label(fp, b, k);
	    fprintf(fp, "\"} %u\n", q[i].count[k]);
	}
    family(fp, F_DISTINCT);
    for (k = 0; k < QS_NKEYKINDS; k++)
	fprintf(fp, "%s{kind=\"%s\"} %u\n", families[F_DISTINCT].name,
		qs_kind_name((int) k), t[k].ndistinct);
}

/* One sample of a per-key family. */
static void
key_sample(FILE *fp, int f, const char *policy, size_t plen, int kind,
	   const char *key, size_t klen, const char *value)
{
    fprintf(fp, "%s{policy=\"", families[f].name);
    mx_label(fp, policy, plen);
    fprintf(fp, "\",kind=\"%s\",key=\"", qs_kind_name(kind));
    mx_label(fp, key, klen);
    fprintf(fp, "\"} %s\n", value);
}

/* Entries of one policy: its name, from the config or the summary. */
typedef struct POLSEL {
    const char *name;
    size_t  len;
} POLSEL;

static int
entry_in(const QS_THROTTLE *e, const POLSEL *ps)
{
    return strnlen(e->policy_name, QS_NAME_BYTES) == ps->len
	&& memcmp(e->policy_name, ps->name, ps->len) == 0;
}

/* Is the entry's policy one of sel[0..n)? */
static int
entry_known(const QS_THROTTLE *e, const POLSEL *sel, size_t n)
{
    size_t  p;

    for (p = 0; p < n; p++)
	if (entry_in(e, &sel[p]))
	    return 1;
    return 0;
}

/*
 * The policies to report: the input's, then the names the summary has
 * that the input does not, each once (the scanner has at most
 * QC_MAX_POLICIES).  Returns how many, into sel[] of npolicy + nthrottle.
 */
static size_t
policy_names(const MX_INPUT *in, POLSEL *sel)
{
    const QS_BODY *b = in->body;
    const QS_THROTTLE *t = shm_body_throttle(in->body);
    size_t  n = 0, p;
    uint32_t i;

    for (p = 0; p < in->npolicy; p++, n++) {
	sel[n].name = in->policy[p].name;
	sel[n].len = strlen(in->policy[p].name);
    }
    for (i = 0; i < b->nthrottle; i++)
	if (!entry_known(&t[i], sel, n)) {
	    sel[n].name = t[i].policy_name;
	    sel[n].len = strnlen(t[i].policy_name, QS_NAME_BYTES);
	    n++;
	}
    return n;
}

/* The best n (count, index) pairs so far, by count descending, then by
 * index: the order of the summary, which ranks keys by their total. */
typedef struct TOP {
    uint32_t count;
    uint32_t index;
} TOP;

static size_t
top_add(TOP *top, size_t n, size_t cap, uint32_t count, uint32_t index)
{
    size_t  i;

    if (cap == 0 || (n == cap && count <= top[n - 1].count))
	return n;
    if (n < cap)
	n++;
    for (i = n - 1; i > 0 && top[i - 1].count < count; i--)
	top[i] = top[i - 1];
    top[i] = (TOP) {count, index};
    return n;
}

/* qshape_throttled_keys and the capped qshape_throttled_key_* families. */
static void
format_throttled(FILE *fp, const MX_INPUT *in, const POLSEL *sel,
		 size_t nsel, TOP *top, size_t cap)
{
    const QS_BODY *b = in->body;
    const QS_THROTTLE *t = shm_body_throttle(in->body);
    char    v[40];
    size_t  p, j, n;
    uint32_t i, count;
    int     f;

    family(fp, F_THROTTLED);
    for (p = 0; p < nsel; p++) {
	for (i = 0, count = 0; i < b->nthrottle; i++)
	    count += entry_in(&t[i], &sel[p]);
	fprintf(fp, "%s{policy=\"", families[F_THROTTLED].name);
	mx_label(fp, sel[p].name, sel[p].len);
	fprintf(fp, "\"} %u\n", count);
    }
    for (f = F_THR_MESSAGES; f <= F_THR_SHARE; f++) {
	family(fp, f);
	for (p = 0; p < nsel; p++) {
	    for (i = 0, n = 0; i < b->nthrottle; i++)
		if (entry_in(&t[i], &sel[p]))
		    n = top_add(top, n, cap, t[i].count, i);
	    for (j = 0; j < n; j++) {
		const QS_THROTTLE *e = &t[top[j].index];

		if (f == F_THR_MESSAGES)
		    snprintf(v, sizeof(v), "%u", e->count);
		else
		    snprintf(v, sizeof(v), "%.6f", e->share_ppm / 1e6);
		key_sample(fp, f, sel[p].name, sel[p].len, e->kind, e->text,
			   strnlen(e->text, sizeof(e->text)), v);
	    }
	}
    }
}

/* Messages of all queues in mask. */
static uint32_t
queues_total(const QS_QUEUE *q, unsigned mask, uint32_t nqueues)
{
    uint32_t i, sum = 0;

    for (i = 0; i < nqueues; i++)
	if (mask & (1u << i))
	    sum += q[i].count[0];
    return sum;
}

/* A key's messages in the queues in mask. */
static uint32_t
key_total(const QS_KEY *k, unsigned mask, uint32_t nqueues)
{
    uint32_t i, sum = 0;

    for (i = 0; i < nqueues; i++)
	if (mask & (1u << i))
	    sum += k->count[i][0];
    return sum;
}

/* The capped qshape_dominant_key_* families, from the published rows. */
static void
format_dominant(FILE *fp, const MX_INPUT *in, TOP *top, size_t cap)
{
    const QS_BODY *b = in->body;
    const QS_QUEUE *q = shm_body_queue(in->body);
    const QS_TABLE *tab = shm_body_table(in->body);
    const QS_KEY *key = shm_body_key(in->body);
    char    v[40];
    size_t  p, j, n;
    uint32_t r, c, total;
    int     f;

    for (f = F_DOM_MESSAGES; f <= F_DOM_SHARE; f++) {
	family(fp, f);
	for (p = 0; p < in->npolicy; p++) {
	    const MX_POLICY *pol = &in->policy[p];
	    const QS_TABLE *t;

	    if (pol->kind < 0 || pol->kind >= QS_NKEYKINDS)
		continue;
	    t = &tab[pol->kind];
	    total = queues_total(q, pol->queue_mask, b->nqueues);
	    for (r = 0, n = 0; r < t->nrows; r++) {
		c = key_total(&key[t->first + r], pol->queue_mask, b->nqueues);
		if (c > 0)
		    n = top_add(top, n, cap, c, t->first + r);
	    }
	    for (j = 0; j < n; j++) {
		const QS_KEY *k = &key[top[j].index];

		if (f == F_DOM_MESSAGES)
		    snprintf(v, sizeof(v), "%u", top[j].count);
		else
		    snprintf(v, sizeof(v), "%.6f",
			     total ? (double) top[j].count / total : 0.0);
		key_sample(fp, f, pol->name, strlen(pol->name), pol->kind,
			   k->text, strnlen(k->text, sizeof(k->text)), v);
	    }
	}
    }
}

int
mx_format_summary(FILE *fp, const MX_INPUT *in)
{
    const QS_BODY *b = in->body;
    TOP     top[MX_MAX_TOP_KEYS];
    size_t  cap = in->top_keys < MX_MAX_TOP_KEYS ?
	in->top_keys : MX_MAX_TOP_KEYS;
    POLSEL *sel = xcalloc(in->npolicy + b->nthrottle + 1, sizeof(*sel));
    size_t  nsel = policy_names(in, sel);

    format_heads(fp, in);
    format_queues(fp, in);
    format_throttled(fp, in, sel, nsel, top, cap);
    format_dominant(fp, in, top, cap);
    free(sel);
    return ferror(fp) ? -1 : 0;
}

static void
counts(FILE *fp, int f, const char *label, const MX_COUNT *c, size_t n)
{
    size_t  i;

    family(fp, f);
    for (i = 0; i < n; i++) {
	fprintf(fp, "%s{%s=\"", families[f].name, label);
	label_str(fp, c[i].label);
	fprintf(fp, "\"} %" PRIu64 "\n", c[i].value);
    }
}

int
mx_format_milter(FILE *fp, const MX_MILTER *m)
{
    size_t  i;

    family(fp, F_MI_UP);
    fprintf(fp, "%s %d\n", families[F_MI_UP].name, m != 0);
    if (m == 0)
	return ferror(fp) ? -1 : 0;
    family(fp, F_MI_START);
    fprintf(fp, "%s %" PRId64 "\n", families[F_MI_START].name,
	    m->start_time);
    family(fp, F_MI_SESSIONS);
    fprintf(fp, "%s %" PRIu64 "\n", families[F_MI_SESSIONS].name,
	    m->sessions);
    family(fp, F_MI_VERDICTS);
    for (i = 0; i < m->nverdict; i++) {
	fprintf(fp, "%s{policy=\"", families[F_MI_VERDICTS].name);
	label_str(fp, m->verdict[i].policy);
	fprintf(fp, "\",action=\"%s\"} %" PRIu64 "\n",
		qs_action_name(m->verdict[i].action), m->verdict[i].count);
    }
    counts(fp, F_MI_FAILMODE, "reason", m->failmode, m->nfailmode);
    counts(fp, F_MI_EXEMPT, "kind", m->exempt, m->nexempt);
    return ferror(fp) ? -1 : 0;
}

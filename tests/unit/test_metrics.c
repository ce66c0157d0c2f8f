/*
 * Unit tests for metrics: the Prometheus text exposition of a summary
 * body built by hand (as shm.h lays it out), of the milter's counters
 * given as synthetic values, and the metrics settings of conf.c.
 *
 * The outputs are compared line by line with the exact text expected;
 * the caps on key series are tested at their bounds (top_keys = N gives
 * exactly N series per policy when more keys exist; 100 is the most),
 * and with 100,000 distinct sender domains in the queue.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "qshape/summary.h"
#include "conf.h"
#include "metrics.h"
#include "shm.h"
#include "textlines.h"

#define ROUND8(n) (((n) + 7) & ~(size_t) 7)

/* A zeroed body with room for nk keys, nt throttle entries and every
 * policy (no index). */
static QS_BODY *
make_body(uint32_t nk, uint32_t nt)
{
    size_t  oq = ROUND8(sizeof(QS_BODY));
    size_t  ot = ROUND8(oq + QS_MAX_QUEUES * sizeof(QS_QUEUE));
    size_t  ok = ROUND8(ot + QS_NKEYKINDS * sizeof(QS_TABLE));
    size_t  oth = ROUND8(ok + nk * sizeof(QS_KEY));
    size_t  op = ROUND8(oth + nt * sizeof(QS_THROTTLE));
    size_t  len = op + QS_MAX_POLICIES * sizeof(QS_POLICY);
    QS_BODY *b = calloc(1, len + 8);

    assert_non_null(b);
    b->off_queue = oq;
    b->off_table = ot;
    b->off_key = ok;
    b->off_throttle = oth;
    b->off_index = op;
    b->off_policy = op;
    return b;
}

/* The scanner's policy i with its transition counters. */
static void
set_policy(QS_BODY *b, uint32_t i, const char *name, uint64_t enters,
	   uint64_t leaves)
{
    QS_POLICY *p = &shm_body_policy(b)[i];

    snprintf(p->name, sizeof(p->name), "%s", name);
    p->throttle_enters = enters;
    p->throttle_leaves = leaves;
    if (b->npolicy <= i)
	b->npolicy = i + 1;
}

static void
set_queue(QS_BODY *b, uint32_t q, const char *name, uint32_t total)
{
    QS_QUEUE *qu = shm_body_queue(b);

    snprintf(qu[q].name, sizeof(qu[q].name), "%s", name);
    qu[q].count[0] = total;
}

/* Key row r of kind's table (rows of one kind are consecutive). */
static QS_KEY *
add_key(QS_BODY *b, int kind, const char *text, uint32_t q, uint32_t count)
{
    QS_TABLE *t = &shm_body_table(b)[kind];
    QS_KEY *k;

    if (t->nrows == 0)
	t->first = b->nkeys;
    k = &shm_body_key(b)[b->nkeys++];
    t->nrows++;
    snprintf(k->text, sizeof(k->text), "%s", text);
    k->count[q][0] = count;
    return k;
}

static QS_THROTTLE *
add_throttle(QS_BODY *b, const char *policy, int kind, const char *text,
	     uint32_t count, uint32_t share_ppm)
{
    QS_THROTTLE *e = &shm_body_throttle(b)[b->nthrottle++];

    snprintf(e->policy_name, sizeof(e->policy_name), "%s", policy);
    snprintf(e->text, sizeof(e->text), "%s", text);
    e->kind = (uint8_t) kind;
    e->count = count;
    e->share_ppm = share_ppm;
    return e;
}

/* Run a formatter into a string the caller frees. */
static char *
render(const MX_INPUT *in, const MX_MILTER *m)
{
    char   *buf = 0;
    size_t  len = 0;
    FILE   *fp = open_memstream(&buf, &len);

    assert_non_null(fp);
    if (in)
	assert_int_equal(mx_format_summary(fp, in), 0);
    if (m)
	assert_int_equal(mx_format_milter(fp, m), 0);
    assert_int_equal(fclose(fp), 0);
    return buf;
}

/* Lines starting with prefix (a metric name and "{" or " "). */
static int
count_lines(const char *text, const char *prefix)
{
    size_t  n = strlen(prefix);
    const char *p = text;
    int     c = 0;

    for (; *p; p = strchr(p, '\n') + 1) {
	c += strncmp(p, prefix, n) == 0;
	if (strchr(p, '\n') == 0)
	    break;
    }
    return c;
}

static void
label_escaping(void **state)
{
    static const char in[] = "a\\b\"c\nd\x01\xff.example";
    char   *buf = 0;
    size_t  len = 0;
    FILE   *fp = open_memstream(&buf, &len);

    (void) state;
    mx_label(fp, in, sizeof(in) - 1);
    fclose(fp);
    assert_string_equal(buf, "a\\\\b\\\"c\\nd\\\\x01\\\\xff.example");
    free(buf);
}

/* Two queues, three buckets, two policies: every scanner family. */
static void
summary_exact(void **state)
{
    QS_BODY *b = make_body(8, 4);
    QS_QUEUE *q;
    MX_POLICY pol[2] = {
	{"flood", QS_KEY_SENDER_DOMAIN, 3},	/* incoming + active */
	{"quiet", QS_KEY_SENDER, 1},		/* incoming */
    };
    MX_INPUT in = {b, 1700000123, pol, 2, 2};
    char   *out;

    (void) state;
    b->published = 1700000122;
    b->published_ns = 250000000;
    b->last_reconcile = 1700000100;
    b->serial = 77;
    b->nqueues = 2;
    b->nbuckets = 3;
    b->bucket_minutes = 5;
    b->messages = 150;
    b->stats = (QS_STATS) {1699990000, 900, 3, 2, 12, 1500000000, 5, 4};
    set_queue(b, 0, "incoming", 100);
    set_queue(b, 1, "active", 50);
    q = shm_body_queue(b);
    q[0].count[1] = 60;
    q[0].count[2] = 30;
    q[0].count[3] = 10;
    shm_body_table(b)[QS_KEY_SENDER_DOMAIN].ndistinct = 4;
    add_key(b, QS_KEY_SENDER_DOMAIN, "big.example", 0, 70)->count[1][0] = 5;
    add_key(b, QS_KEY_SENDER_DOMAIN, "mid.example", 1, 30);
    add_key(b, QS_KEY_SENDER_DOMAIN, "small.example", 0, 20);
    add_key(b, QS_KEY_SENDER, "a@mid.example", 1, 30);	/* not watched */
    add_key(b, QS_KEY_SENDER, "b@big.example", 0, 9);
    add_throttle(b, "flood", QS_KEY_SENDER_DOMAIN, "big.example", 75, 500000);
    add_throttle(b, "gone", QS_KEY_SENDER, "x@y.example", 3, 20000);
    add_throttle(b, "gone", QS_KEY_SENDER, "z@y.example", 2, 10000);
    set_policy(b, 0, "flood", 5, 4);
    set_policy(b, 1, "quiet", 0, 0);
    set_policy(b, 2, "odd\"name", 7, 1);
    out = render(&in, 0);
    LINE(out, "# TYPE qshape_scanner_heartbeat_timestamp_seconds gauge");
    LINE(out, "qshape_scanner_heartbeat_timestamp_seconds 1700000123");
    LINE(out, "qshape_scanner_published_timestamp_seconds 1700000122.250");
    LINE(out, "qshape_scanner_last_reconcile_timestamp_seconds 1700000100");
    LINE(out, "# TYPE qshape_scanner_publications_total counter");
    LINE(out, "qshape_scanner_publications_total 77");
    LINE(out, "qshape_scanner_start_time_seconds 1699990000");
    LINE(out, "qshape_scanner_files_total{result=\"parsed\"} 900");
    LINE(out, "qshape_scanner_files_total{result=\"skipped\"} 3");
    LINE(out, "qshape_scanner_files_total{result=\"vanished\"} 2");
    LINE(out, "qshape_scanner_reconciles_total 12");
    LINE(out, "qshape_scanner_reconcile_seconds_total 1.500000000");
    /* per policy of the scanner's (the summary's), not the reader's */
    LINE(out, "qshape_throttle_transitions_total{policy=\"flood\","
	 "direction=\"enter\"} 5");
    LINE(out, "qshape_throttle_transitions_total{policy=\"flood\","
	 "direction=\"leave\"} 4");
    LINE(out, "qshape_throttle_transitions_total{policy=\"quiet\","
	 "direction=\"enter\"} 0");
    LINE(out, "qshape_throttle_transitions_total{policy=\"quiet\","
	 "direction=\"leave\"} 0");
    LINE(out, "qshape_throttle_transitions_total{policy=\"odd\\\"name\","
	 "direction=\"enter\"} 7");
    LINE(out, "qshape_throttle_transitions_total{policy=\"odd\\\"name\","
	 "direction=\"leave\"} 1");
    assert_int_equal(count_lines(out, "qshape_throttle_transitions_total{"),
		     6);
    LINE(out, "qshape_messages 150");
    LINE(out, "qshape_queue_messages{queue=\"incoming\"} 100");
    LINE(out, "qshape_queue_messages{queue=\"active\"} 50");
    LINE(out, "qshape_queue_age_messages{queue=\"incoming\",age=\"5\"} 60");
    LINE(out, "qshape_queue_age_messages{queue=\"incoming\",age=\"10\"} 30");
    LINE(out, "qshape_queue_age_messages{queue=\"incoming\",age=\"10+\"} 10");
    LINE(out, "qshape_keys_distinct{kind=\"sender_domain\"} 4");
    LINE(out, "qshape_keys_distinct{kind=\"rcpt_domain\"} 0");
    LINE(out, "qshape_throttled_keys{policy=\"flood\"} 1");
    LINE(out, "qshape_throttled_keys{policy=\"quiet\"} 0");
    LINE(out, "qshape_throttled_keys{policy=\"gone\"} 2");
    LINE(out, "qshape_throttled_key_messages{policy=\"flood\","
	 "kind=\"sender_domain\",key=\"big.example\"} 75");
    LINE(out, "qshape_throttled_key_share{policy=\"gone\",kind=\"sender\","
	 "key=\"x@y.example\"} 0.020000");
    /* flood watches both queues: big 75, mid 30 (top 2 of 3) of 150 */
    LINE(out, "qshape_dominant_key_messages{policy=\"flood\","
	 "kind=\"sender_domain\",key=\"big.example\"} 75");
    LINE(out, "qshape_dominant_key_messages{policy=\"flood\","
	 "kind=\"sender_domain\",key=\"mid.example\"} 30");
    LINE(out, "qshape_dominant_key_share{policy=\"flood\","
	 "kind=\"sender_domain\",key=\"mid.example\"} 0.200000");
    /* quiet watches incoming only: a@mid.example (active) is not there */
    LINE(out, "qshape_dominant_key_messages{policy=\"quiet\","
	 "kind=\"sender\",key=\"b@big.example\"} 9");
    LINE(out, "qshape_dominant_key_share{policy=\"quiet\","
	 "kind=\"sender\",key=\"b@big.example\"} 0.090000");
    assert_int_equal(count_lines(out, "qshape_dominant_key_messages{"), 3);
    assert_int_equal(count_lines(out, "qshape_queue_age_messages{"), 6);
    assert_int_equal(count_lines(out, "qshape_throttled_keys{"), 3);
    assert_int_equal(count_lines(out, "# TYPE "), 18);
    free(out);
    free(b);
}

/* Linear buckets, and a single bucket (all ages). */
static void
age_labels(void **state)
{
    QS_BODY *b = make_body(0, 0);
    MX_INPUT in = {b, 1, 0, 0, 10};
    char   *out;

    (void) state;
    b->nqueues = 1;
    b->nbuckets = 3;
    b->bucket_minutes = 7;
    b->linear = 1;
    set_queue(b, 0, "hold", 0);
    out = render(&in, 0);
    LINE(out, "qshape_queue_age_messages{queue=\"hold\",age=\"7\"} 0");
    LINE(out, "qshape_queue_age_messages{queue=\"hold\",age=\"14\"} 0");
    LINE(out, "qshape_queue_age_messages{queue=\"hold\",age=\"14+\"} 0");
    free(out);
    b->nbuckets = 1;
    b->linear = 0;
    out = render(&in, 0);
    LINE(out, "qshape_queue_age_messages{queue=\"hold\",age=\"0+\"} 0");
    assert_int_equal(count_lines(out, "qshape_queue_age_messages{"), 1);
    /* a minor-0 scanner: no counters, no start time */
    assert_int_equal(count_lines(out, "qshape_scanner_start_time_seconds "),
		     0);
    assert_int_equal(count_lines(out, "qshape_scanner_files_total"), 0);
    free(out);
    free(b);
}

/* nrows keys of 1..nrows messages, and as many throttled. */
static QS_BODY *
many_keys(uint32_t nrows)
{
    QS_BODY *b = make_body(nrows, nrows);
    char    name[32];
    uint32_t i;

    b->nqueues = 1;
    b->nbuckets = 1;
    set_queue(b, 0, "incoming", nrows * (nrows + 1) / 2);
    shm_body_table(b)[QS_KEY_SENDER_DOMAIN].ndistinct = 100000;
    for (i = 0; i < nrows; i++) {
	snprintf(name, sizeof(name), "d%u.example", i);
	add_key(b, QS_KEY_SENDER_DOMAIN, name, 0, i + 1);
	add_throttle(b, "flood", QS_KEY_SENDER_DOMAIN, name, i + 1, 1);
    }
    return b;
}

static int
series(QS_BODY *b, uint32_t top_keys, const char *prefix)
{
    MX_POLICY pol = {"flood", QS_KEY_SENDER_DOMAIN, 1};
    MX_INPUT in = {b, 1, &pol, 1, top_keys};
    char   *out = render(&in, 0);
    int     n = count_lines(out, prefix);

    free(out);
    return n;
}

/* top_keys decides the number of key series, up to 100. */
static void
top_keys_cap(void **state)
{
    QS_BODY *b = many_keys(101);
    MX_POLICY pol = {"flood", QS_KEY_SENDER_DOMAIN, 1};
    MX_INPUT in = {b, 1, &pol, 1, 1};
    char   *out;

    (void) state;
    assert_int_equal(series(b, 0, "qshape_dominant_key_messages{"), 0);
    assert_int_equal(series(b, 0, "qshape_throttled_key_share{"), 0);
    assert_int_equal(series(b, 99, "qshape_dominant_key_messages{"), 99);
    assert_int_equal(series(b, 100, "qshape_dominant_key_share{"), 100);
    assert_int_equal(series(b, 100, "qshape_throttled_key_messages{"), 100);
    assert_int_equal(series(b, 101, "qshape_dominant_key_messages{"), 100);
    assert_int_equal(series(b, 5000, "qshape_throttled_key_share{"), 100);
    /* the largest, by count: d100 has 101 messages */
    out = render(&in, 0);
    LINE(out, "qshape_dominant_key_messages{policy=\"flood\","
	 "kind=\"sender_domain\",key=\"d100.example\"} 101");
    LINE(out, "qshape_throttled_key_messages{policy=\"flood\","
	 "kind=\"sender_domain\",key=\"d100.example\"} 101");
    LINE(out, "qshape_throttled_keys{policy=\"flood\"} 101");
    free(out);
    free(b);
}

/* 100,000 distinct sender domains in the queue: the summary publishes
 * at most scanner.top_keys (3000) of them, the metrics top_keys. */
static void
cardinality(void **state)
{
    QS_BODY *b = many_keys(QC_MAX_TOP_KEYS);

    (void) state;
    assert_int_equal(series(b, MX_DEFAULT_TOP_KEYS,
			    "qshape_dominant_key_messages{"), 10);
    assert_int_equal(series(b, MX_DEFAULT_TOP_KEYS,
			    "qshape_throttled_key_messages{"), 10);
    assert_int_equal(series(b, MX_DEFAULT_TOP_KEYS,
			    "qshape_keys_distinct{kind=\"sender_domain\"} "
			    "100000"), 1);
    free(b);
}

/* The milter's families from given values (mxct.h fills them from the
 * counters file: test_mxct); NULL: only the up gauge, at 0. */
static void
milter_hook(void **state)
{
    MX_VERDICT v[3] = {
	{"flood", QS_ACTION_TEMPFAIL, 1306},
	{"flood", QS_ACTION_ACCEPT, 40},
	{"sasl\"x", QS_ACTION_HOLD, 7},
    };
    MX_COUNT fm[1] = {{"stale", 2}};
    MX_COUNT ex[2] = {{"network", 11}, {"sender", 0}};
    MX_MILTER m = {1700000000, 999, v, 3, fm, 1, ex, 2};
    char   *out;
    size_t  len = 0;
    FILE   *fp;

    (void) state;
    out = render(0, &m);
    assert_string_equal(out,
	"# HELP qshape_milter_counters_up 1 when the milter's counters file "
	"was read; 0 when it could not be (the other milter families are "
	"then left out).\n"
	"# TYPE qshape_milter_counters_up gauge\n"
	"qshape_milter_counters_up 1\n"
	"# HELP qshape_milter_start_time_seconds When the milter's counters "
	"started (unix time).\n"
	"# TYPE qshape_milter_start_time_seconds gauge\n"
	"qshape_milter_start_time_seconds 1700000000\n"
	"# HELP qshape_milter_sessions_total SMTP sessions the milter saw.\n"
	"# TYPE qshape_milter_sessions_total counter\n"
	"qshape_milter_sessions_total 999\n"
	"# HELP qshape_milter_verdicts_total Verdicts per policy and action "
	"(tempfail, hold, log, accept).\n"
	"# TYPE qshape_milter_verdicts_total counter\n"
	"qshape_milter_verdicts_total{policy=\"flood\",action=\"tempfail\"} "
	"1306\n"
	"qshape_milter_verdicts_total{policy=\"flood\",action=\"accept\"} 40\n"
	"qshape_milter_verdicts_total{policy=\"sasl\\\"x\",action=\"hold\"} "
	"7\n"
	"# HELP qshape_milter_failmode_total Times the milter began to apply "
	"its fail mode, per reason.\n"
	"# TYPE qshape_milter_failmode_total counter\n"
	"qshape_milter_failmode_total{reason=\"stale\"} 2\n"
	"# HELP qshape_milter_exemptions_total Messages an exemption let "
	"through, per kind of exemption.\n"
	"# TYPE qshape_milter_exemptions_total counter\n"
	"qshape_milter_exemptions_total{kind=\"network\"} 11\n"
	"qshape_milter_exemptions_total{kind=\"sender\"} 0\n");
    free(out);
    fp = open_memstream(&out, &len);
    assert_non_null(fp);
    assert_int_equal(mx_format_milter(fp, 0), 0);
    assert_int_equal(fclose(fp), 0);
    assert_string_equal(out,
	"# HELP qshape_milter_counters_up 1 when the milter's counters file "
	"was read; 0 when it could not be (the other milter families are "
	"then left out).\n"
	"# TYPE qshape_milter_counters_up gauge\n"
	"qshape_milter_counters_up 0\n");
    free(out);
}

/* Names unique; counters end in _total, nothing else does. */
static void
families_table(void **state)
{
    const MX_FAMILY *f;
    size_t  i, j, n, len;

    (void) state;
    f = mx_families(&n);
    assert_int_equal(n, 24);
    for (i = 0; i < n; i++) {
	len = strlen(f[i].name);
	assert_int_equal(strncmp(f[i].name, "qshape_", 7), 0);
	assert_int_equal(strcmp(f[i].type, "counter") == 0,
			 len > 6 && strcmp(f[i].name + len - 6, "_total") == 0);
	for (j = 0; j < i; j++)
	    assert_string_not_equal(f[i].name, f[j].name);
    }
}

/* Write text to a temporary configuration and load it. */
static QC_CONFIG *
load_text(const char *text, char *err, size_t errlen)
{
    char    path[] = "/tmp/test_metrics.XXXXXX";
    int     fd = mkstemp(path);
    QC_CONFIG *c;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
    close(fd);
    c = qc_load(path, err, errlen);
    unlink(path);
    return c;
}

static void
metrics_conf(void **state)
{
    char    err[1024];
    QC_CONFIG *c;

    (void) state;
    c = load_text("", err, sizeof(err));
    assert_non_null(c);
    assert_string_equal(c->metrics.textfile, "");
    assert_int_equal(c->metrics.interval, 15);
    assert_int_equal(c->metrics.top_keys, 10);
    qc_free(c);
    c = load_text("metrics = { textfile = \"/var/lib/prometheus/"
		  "node-exporter/qshape.prom\"; interval = \"1m\"; "
		  "top_keys = 100; };\n", err, sizeof(err));
    assert_non_null(c);
    assert_string_equal(c->metrics.textfile,
			"/var/lib/prometheus/node-exporter/qshape.prom");
    assert_int_equal(c->metrics.interval, 60);
    assert_int_equal(c->metrics.top_keys, 100);
    qc_free(c);
    assert_null(load_text("metrics = { top_keys = 101; };\n", err,
			  sizeof(err)));
    assert_non_null(strstr(err, "metrics.top_keys: 101 is out of range "
			   "0..100"));
    assert_null(load_text("metrics = { textfile = \"/tmp/qshape.txt\"; };\n",
			  err, sizeof(err)));
    assert_non_null(strstr(err, "metrics.textfile: \"/tmp/qshape.txt\": "
			   "node_exporter's textfile collector reads only "
			   "files named *.prom"));
    assert_null(load_text("metrics = { textfile = \"/tmp/.prom\"; };\n",
			  err, sizeof(err)));
    assert_null(load_text("metrics = { textfile = \"q.prom\"; };\n",
			  err, sizeof(err)));
    assert_non_null(strstr(err, "is not an absolute path"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(label_escaping),
	cmocka_unit_test(summary_exact),
	cmocka_unit_test(age_labels),
	cmocka_unit_test(top_keys_cap),
	cmocka_unit_test(cardinality),
	cmocka_unit_test(milter_hook),
	cmocka_unit_test(families_table),
	cmocka_unit_test(metrics_conf),
    };

    return cmocka_run_group_tests(tests, 0, 0);
}

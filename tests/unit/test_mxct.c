/*
 * Unit tests for mxct: the milter's counters file as metric families.
 * Each counter of the file lands in its exact family and label
 * (translate_exact, from a header and policy table set by hand), a
 * minor-0 file is read by done[], and a real file written through the
 * counting calls the milter makes comes out as the exact exposition
 * (from_file); a missing file gives only qshape_milter_counters_up 0.
 * File tests use base/p/d/counters in a fresh /tmp/test_mxct.XXXXXX.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "qshape/counters.h"
#include "counters.h"
#include "mxct.h"
#include "textlines.h"

#define TRUSTDIR_PREFIX	"/tmp/test_mxct.XXXXXX"
#define TRUSTDIR_FILE	"counters"
#include "trustdir.h"

static void
set_policy(QS_CT_POLICY *p, uint64_t digest, const char *name_,
	   uint64_t log, uint64_t tf, uint64_t hold, uint64_t acc)
{
    snprintf(p->name, sizeof(p->name), "%s", name_);
    p->digest = digest;
    p->verdict[QS_ACTION_LOG] = log;
    p->verdict[QS_ACTION_TEMPFAIL] = tf;
    p->verdict[QS_ACTION_HOLD] = hold;
    p->verdict[QS_ACTION_ACCEPT] = acc;
    /* done[] and asked[] differ: only verdict[] may be read */
    p->done[QS_ACTION_TEMPFAIL] = 9000 + tf;
    p->done[QS_ACTION_HOLD] = 9000 + hold;
    p->done[QS_ACTION_ACCEPT] = 9000 + acc;
    p->asked[QS_ACTION_LOG] = 8000;
}

static void
check_verdict(const MX_VERDICT *v, const char *policy, int action,
	      uint64_t count)
{
    assert_string_equal(v->policy, policy);
    assert_int_equal(v->action, action);
    assert_int_equal(v->count, count);
}

/* Every header counter and policy slot in its family and label. */
static void
translate_exact(void **state)
{
    QS_CT_HEADER h;
    QS_CT_POLICY *p = calloc(QS_CT_NPOLICIES, sizeof(*p));
    MXCT   *x = malloc(sizeof(*x));
    int     i;

    (void) state;
    memset(&h, 0, sizeof(h));
    h.minor = QS_CT_VERSION_MINOR;
    h.created = 1700000001;
    h.started = 1700009999;		/* a restart: not the start time */
    h.generation = 3;
    h.sessions = 77;
    h.messages = 66;
    h.no_match = 55;
    for (i = 0; i < QS_CT_NEXEMPT; i++)
	h.exempt[i] = 10 + (uint64_t) i;
    for (i = 0; i < QS_CT_NFAIL; i++) {
	h.fail_begins[i] = 20 + (uint64_t) i;
	h.fail_messages[i] = 500 + (uint64_t) i;
    }
    set_policy(&p[3], 0xa, "flood", 1, 2, 3, 4);
    set_policy(&p[5], 0xc, "local", 0, 0, 0, 6);
    set_policy(&p[9], 0xb, "flood", 10, 20, 30, 40);	/* new settings */
    set_policy(&p[7], 0xd, "", 5, 5, 5, 5);	/* name not yet written */
    set_policy(&p[8], 0, "free", 5, 5, 5, 5);	/* free slot */
    mxct_translate(x, &h, p);

    assert_int_equal(x->m.start_time, 1700000001);
    assert_int_equal(x->m.sessions, 77);
    assert_int_equal(x->m.nverdict, 8);
    check_verdict(&x->m.verdict[0], "flood", QS_ACTION_LOG, 11);
    check_verdict(&x->m.verdict[1], "flood", QS_ACTION_TEMPFAIL, 22);
    check_verdict(&x->m.verdict[2], "flood", QS_ACTION_HOLD, 33);
    check_verdict(&x->m.verdict[3], "flood", QS_ACTION_ACCEPT, 44);
    check_verdict(&x->m.verdict[4], "local", QS_ACTION_LOG, 0);
    check_verdict(&x->m.verdict[5], "local", QS_ACTION_TEMPFAIL, 0);
    check_verdict(&x->m.verdict[6], "local", QS_ACTION_HOLD, 0);
    check_verdict(&x->m.verdict[7], "local", QS_ACTION_ACCEPT, 6);
    assert_int_equal(x->m.nfailmode, QS_CT_NFAIL);
    assert_string_equal(x->m.failmode[QS_CT_FAIL_MISSING].label,
			"summary_missing");
    assert_int_equal(x->m.failmode[QS_CT_FAIL_MISSING].value, 20);
    assert_string_equal(x->m.failmode[QS_CT_FAIL_STALE].label,
			"summary_stale");
    assert_int_equal(x->m.failmode[QS_CT_FAIL_STALE].value, 21);
    assert_string_equal(x->m.failmode[QS_CT_FAIL_FOREIGN].label,
			"summary_unknown_version");
    assert_int_equal(x->m.failmode[QS_CT_FAIL_FOREIGN].value, 22);
    assert_string_equal(x->m.failmode[QS_CT_FAIL_UNTRUSTED].label,
			"summary_untrusted");
    assert_int_equal(x->m.failmode[QS_CT_FAIL_UNTRUSTED].value, 23);
    assert_string_equal(x->m.failmode[QS_CT_FAIL_LOOKUP].label,
			"summary_unreadable");
    assert_int_equal(x->m.failmode[QS_CT_FAIL_LOOKUP].value, 24);
    assert_string_equal(x->m.failmode[QS_CT_FAIL_POLICY].label,
			"policy_mismatch");
    assert_int_equal(x->m.failmode[QS_CT_FAIL_POLICY].value, 25);
    assert_int_equal(x->m.nexempt, QS_CT_NEXEMPT);
    assert_string_equal(x->m.exempt[QS_CT_EXEMPT_SENDER].label, "sender");
    assert_int_equal(x->m.exempt[QS_CT_EXEMPT_SENDER].value, 10);
    assert_string_equal(x->m.exempt[QS_CT_EXEMPT_DOMAIN].label, "domain");
    assert_int_equal(x->m.exempt[QS_CT_EXEMPT_DOMAIN].value, 11);
    assert_string_equal(x->m.exempt[QS_CT_EXEMPT_NETWORK].label, "network");
    assert_int_equal(x->m.exempt[QS_CT_EXEMPT_NETWORK].value, 12);
    assert_string_equal(x->m.exempt[QS_CT_EXEMPT_SASL].label, "sasl_user");
    assert_int_equal(x->m.exempt[QS_CT_EXEMPT_SASL].value, 13);
    assert_string_equal(x->m.exempt[QS_CT_EXEMPT_NULL_SENDER].label,
			"null_sender");
    assert_int_equal(x->m.exempt[QS_CT_EXEMPT_NULL_SENDER].value, 14);
    assert_string_equal(mxct_fail_name(QS_CT_NFAIL), "unknown");
    assert_string_equal(mxct_exempt_name(-1), "unknown");

    /* A minor-0 file has no verdict[]: done[], and no "log". */
    h.minor = 0;
    mxct_translate(x, &h, p);
    assert_int_equal(x->m.nverdict, 8);
    check_verdict(&x->m.verdict[0], "flood", QS_ACTION_LOG, 0);
    check_verdict(&x->m.verdict[1], "flood", QS_ACTION_TEMPFAIL, 18022);
    check_verdict(&x->m.verdict[2], "flood", QS_ACTION_HOLD, 18033);
    check_verdict(&x->m.verdict[3], "flood", QS_ACTION_ACCEPT, 18044);
    free(x);
    free(p);
}

/* A policy name of QS_NAME_BYTES bytes without a NUL (untrusted file):
 * read within the field. */
static void
unterminated_name(void **state)
{
    QS_CT_HEADER h;
    QS_CT_POLICY *p = calloc(QS_CT_NPOLICIES, sizeof(*p));
    MXCT   *x = malloc(sizeof(*x));

    (void) state;
    memset(&h, 0, sizeof(h));
    h.minor = QS_CT_VERSION_MINOR;
    p[0].digest = 1;
    memset(p[0].name, 'n', sizeof(p[0].name));
    p[0].verdict[QS_ACTION_HOLD] = 5;
    mxct_translate(x, &h, p);
    assert_int_equal(x->m.nverdict, 4);
    assert_int_equal(strlen(x->m.verdict[0].policy), QS_NAME_BYTES);
    assert_int_equal(x->m.verdict[QS_ACTION_HOLD].count, 5);
    free(x);
    free(p);
}

static int
render(CT_R *r, char **out, char *err, size_t errlen)
{
    size_t  len = 0;
    FILE   *fp = open_memstream(out, &len);
    int     rc;

    assert_non_null(fp);
    rc = mxct_write(fp, r, name, err, errlen);
    assert_int_equal(fclose(fp), 0);
    return rc;
}

/* The milter's counting calls, through the file, to the exposition. */
static void
from_file(void **state)
{
    CT_R   *r = ct_reader_create();
    CT_W   *w;
    CT_MATCH m = {0x1234, "flood", QS_KEY_SENDER_DOMAIN, 0xabc,
		  QS_ACTION_HOLD, QS_ACTION_HOLD, 0};
    char    err[256] = "", *out = 0;
    int     reused, i;

    (void) state;
    /* No file yet: only the gauge, and why. */
    assert_int_equal(render(r, &out, err, sizeof(err)), 1);
    assert_string_equal(out, "# HELP qshape_milter_counters_up 1 when the "
			"milter's counters file was read; 0 when it could "
			"not be (the other milter families are then left "
			"out).\n"
			"# TYPE qshape_milter_counters_up gauge\n"
			"qshape_milter_counters_up 0\n");
    assert_non_null(strstr(err, name));
    free(out);

    w = ct_writer_open(name, -1, &reused, err, sizeof(err));
    if (w == 0)
	fail_msg("ct_writer_open: %s", err);
    for (i = 0; i < 3; i++)
	ct_count(w, CT_SESSIONS);
    for (i = 0; i < 4; i++)
	ct_count_match(w, &m, 1000);		/* held */
    m = (CT_MATCH) {0x5678, "tf", QS_KEY_SENDER, 0xdef, QS_ACTION_TEMPFAIL,
		    QS_ACTION_TEMPFAIL, 0};
    ct_count_match(w, &m, 1000);		/* tempfailed */
    m.done = QS_ACTION_ACCEPT;
    m.dry_run = 1;
    ct_count_match(w, &m, 1000);		/* dry_run: logged */
    m = (CT_MATCH) {0x9abc, "watch", QS_KEY_SENDER, 0xdef, QS_ACTION_LOG,
		    QS_ACTION_ACCEPT, 0};
    ct_count_match(w, &m, 1000);		/* action log */
    m.asked = QS_ACTION_ACCEPT;
    ct_count_match(w, &m, 1000);		/* local_action accept */
    ct_count_match(w, &m, 1000);
    ct_count_exempt(w, QS_CT_EXEMPT_NETWORK);
    ct_count_fail(w, QS_CT_FAIL_STALE, 0);	/* a message, not a begin */
    ct_count_fail(w, QS_CT_FAIL_STALE, 0);
    ct_count_fail(w, QS_CT_FAIL_STALE, 1);

    assert_int_equal(render(r, &out, err, sizeof(err)), 0);
    LINE(out, "qshape_milter_counters_up 1");
    LINE(out, "qshape_milter_sessions_total 3");
    LINE(out, "qshape_milter_verdicts_total{policy=\"flood\",action=\"hold\"} 4");
    LINE(out, "qshape_milter_verdicts_total{policy=\"flood\",action=\"tempfail\"} 0");
    LINE(out, "qshape_milter_verdicts_total{policy=\"flood\",action=\"log\"} 0");
    LINE(out, "qshape_milter_verdicts_total{policy=\"flood\",action=\"accept\"} 0");
    LINE(out, "qshape_milter_verdicts_total{policy=\"tf\",action=\"tempfail\"} 1");
    LINE(out, "qshape_milter_verdicts_total{policy=\"tf\",action=\"log\"} 1");
    LINE(out, "qshape_milter_verdicts_total{policy=\"tf\",action=\"accept\"} 0");
    LINE(out, "qshape_milter_verdicts_total{policy=\"watch\",action=\"log\"} 1");
    LINE(out, "qshape_milter_verdicts_total{policy=\"watch\",action=\"accept\"} 2");
    LINE(out, "qshape_milter_failmode_total{reason=\"summary_stale\"} 1");
    LINE(out, "qshape_milter_failmode_total{reason=\"summary_missing\"} 0");
    LINE(out, "qshape_milter_exemptions_total{kind=\"network\"} 1");
    LINE(out, "qshape_milter_exemptions_total{kind=\"sender\"} 0");
    assert_non_null(strstr(out, "\nqshape_milter_start_time_seconds "));
    assert_int_equal(ct_header(r)->created,
		     strtoll(strstr(out, "\nqshape_milter_start_time_seconds ")
			     + 34, 0, 10));
    free(out);
    ct_writer_close(w);
    ct_reader_destroy(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(translate_exact),
	cmocka_unit_test(unterminated_name),
	cmocka_unit_test_setup_teardown(from_file, setup, teardown),
    };
    return cmocka_run_group_tests_name("mxct", tests, 0, 0);
}

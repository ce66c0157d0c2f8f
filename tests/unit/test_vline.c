/*
 * Unit tests for vline, qshape-milter's Postfix-style log line: the exact
 * line of each verdict (tempfail, hold at end of message, dry_run, log,
 * local accept, no match, fail mode), the sender's form and bound, and
 * that outside text (sender, key, client, queue ID) cannot end the line,
 * the "TEXT;" part or a field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vline.h"

#define NOW	1764662400

static QC_POLICY policies[2];
static QC_CONFIG cf;

static int
setup(void **state)
{
    (void) state;
    memset(policies, 0, sizeof(policies));
    memset(&cf, 0, sizeof(cf));
    policies[0].name = (char *) "flood";
    policies[0].action = QS_ACTION_TEMPFAIL;
    policies[0].reply = (char *) "451 4.7.1 Slow down please";
    policies[1].name = (char *) "watch";
    policies[1].action = QS_ACTION_LOG;
    policies[1].reply = (char *) "450 4.7.1 Busy";
    cf.policies = policies;
    cf.npolicies = 2;
    return 0;
}

/* A verdict of policy pol for key kind:key with 100 of 200. */
static VD_VERDICT
matched(int pol, int action, int asked, int kind, const char *key)
{
    VD_VERDICT v;

    memset(&v, 0, sizeof(v));
    v.why = VD_MATCH;
    v.action = action;
    v.policy = pol;
    v.policy_action = asked;
    v.suppressed = action == QS_ACTION_ACCEPT;
    v.kind = kind;
    snprintf(v.key, sizeof(v.key), "%s", key);
    v.entry.count = 100;
    v.entry.total = 200;
    v.entry.share_ppm = 500000;
    return v;
}

/* The line of verdict v logged at MAIL FROM for sender s, as mlfi.c
 * makes it. */
static void
mail_line(char *line, size_t len, const VD_VERDICT *v, const char *s,
	  int local, const char *host, const char *addr)
{
    char    sender[VL_SENDER_MAX + 1];
    char    fields[VL_FIELDS_MAX];
    char    text[VL_TEXT_MAX];
    VL_LINE l = {0};

    vl_sender(sender, s, strlen(s));
    vl_fields(fields, sizeof(fields), &cf, v, local, NOW);
    l.whatsup = vl_mail(text, sizeof(text), &cf, v);
    l.where = VL_WHERE_MAIL;
    l.host = host;
    l.addr = addr;
    l.text = text;
    l.sender = sender;
    l.fields = fields;
    vl_format(line, len, &l);
}

static void
tempfail(void **state)
{
    char    line[VL_LINE_MAX];
    VD_VERDICT v = matched(0, QS_ACTION_TEMPFAIL, QS_ACTION_TEMPFAIL,
			   QS_KEY_SENDER_DOMAIN, "flood.example");

    (void) state;
    mail_line(line, sizeof(line), &v, "<spam@Flood.Example>", 0,
	      "client.example", "192.0.2.10");
    assert_string_equal(line, "NOQUEUE: tempfail: MAIL from "
			"client.example[192.0.2.10]: 451 4.7.1 Slow down "
			"please; from=<spam@Flood.Example> policy=flood "
			"key=sender_domain:flood.example count=100 total=200 "
			"share=0.50");
    /* No client name or address: Postfix's "unknown". */
    mail_line(line, sizeof(line), &v, "<spam@Flood.Example>", 0, "", 0);
    assert_string_equal(line, "NOQUEUE: tempfail: MAIL from "
			"unknown[unknown]: 451 4.7.1 Slow down please; "
			"from=<spam@Flood.Example> policy=flood "
			"key=sender_domain:flood.example count=100 total=200 "
			"share=0.50");
}

/* A hold is logged at end of message with the queue ID; kept= and
 * local=1 at the end. */
static void
hold(void **state)
{
    char    line[VL_LINE_MAX], fields[VL_FIELDS_MAX];
    char    sender[VL_SENDER_MAX + 1];
    VD_VERDICT v = matched(0, QS_ACTION_HOLD, QS_ACTION_HOLD,
			   QS_KEY_SENDER_DOMAIN, "flood.example");
    VL_LINE l = {0};

    (void) state;
    v.entry.kept = QS_KEPT_QUEUE | QS_KEPT_HOLD_TIME | QS_KEPT_PRESSURE;
    v.entry.hold_until = NOW + 41;
    vl_sender(sender, "spam@flood.example", 18);
    vl_fields(fields, sizeof(fields), &cf, &v, 1, NOW);
    l.queue_id = "4F2A81021FC";
    l.whatsup = "hold";
    l.where = VL_WHERE_EOM;
    l.host = "localhost";
    l.addr = "127.0.0.1";
    l.text = VL_HELD;
    l.sender = sender;
    l.fields = fields;
    vl_format(line, sizeof(line), &l);
    assert_string_equal(line, "4F2A81021FC: hold: END-OF-MESSAGE from "
			"localhost[127.0.0.1]: held in the hold queue; "
			"from=<spam@flood.example> policy=flood "
			"key=sender_domain:flood.example count=100 total=200 "
			"share=0.50 kept=queue,min_hold_time(41s),pressure "
			"local=1");
    /* The hold time over: 0s, never negative. */
    v.entry.kept = QS_KEPT_HOLD_TIME;
    v.entry.hold_until = NOW - 5;
    vl_fields(fields, sizeof(fields), &cf, &v, 0, NOW);
    assert_string_equal(fields, "policy=flood key=sender_domain:"
			"flood.example count=100 total=200 share=0.50 "
			"kept=min_hold_time(0s)");
}

/* dry_run, action log and local_action accept: accepted, and the word
 * says which. */
static void
suppressed(void **state)
{
    char    line[VL_LINE_MAX];
    VD_VERDICT v = matched(0, QS_ACTION_ACCEPT, QS_ACTION_TEMPFAIL,
			   QS_KEY_SENDER_DOMAIN, "flood.example");

    (void) state;
    cf.dry_run = 1;
    mail_line(line, sizeof(line), &v, "<a@flood.example>", 0, "mx.example",
	      "2001:db8::1");
    assert_string_equal(line, "NOQUEUE: dry_run: MAIL from "
			"mx.example[2001:db8::1]: accepted, would tempfail "
			"with 451 4.7.1 Slow down please; "
			"from=<a@flood.example> policy=flood "
			"key=sender_domain:flood.example count=100 total=200 "
			"share=0.50");
    v.policy_action = QS_ACTION_HOLD;
    mail_line(line, sizeof(line), &v, "<a@flood.example>", 0, "mx.example",
	      "2001:db8::1");
    assert_string_equal(line, "NOQUEUE: dry_run: MAIL from "
			"mx.example[2001:db8::1]: accepted, would hold; "
			"from=<a@flood.example> policy=flood "
			"key=sender_domain:flood.example count=100 total=200 "
			"share=0.50");
    cf.dry_run = 0;
    v = matched(1, QS_ACTION_ACCEPT, QS_ACTION_LOG, QS_KEY_SENDER_DOMAIN,
		"watched.example");
    mail_line(line, sizeof(line), &v, "<a@watched.example>", 0,
	      "client.example", "192.0.2.10");
    assert_string_equal(line, "NOQUEUE: log: MAIL from "
			"client.example[192.0.2.10]: accepted, action log; "
			"from=<a@watched.example> policy=watch "
			"key=sender_domain:watched.example count=100 "
			"total=200 share=0.50");
    v = matched(0, QS_ACTION_ACCEPT, QS_ACTION_ACCEPT, QS_KEY_SENDER_DOMAIN,
		"flood.example");
    mail_line(line, sizeof(line), &v, "root", 1, "localhost", "127.0.0.1");
    assert_string_equal(line, "NOQUEUE: accept: MAIL from "
			"localhost[127.0.0.1]: accepted, action accept; "
			"from=<root> policy=flood "
			"key=sender_domain:flood.example count=100 total=200 "
			"share=0.50 local=1");
}

/* No policy matched: reason= and sender_key=. */
static void
unmatched(void **state)
{
    char    line[VL_LINE_MAX];
    VD_VERDICT v;

    (void) state;
    memset(&v, 0, sizeof(v));
    v.why = VD_NO_MATCH;
    v.action = QS_ACTION_ACCEPT;
    snprintf(v.sender_key, sizeof(v.sender_key), "x@example.com");
    mail_line(line, sizeof(line), &v, "<X@Example.com>", 0, "unknown",
	      "192.0.2.1");
    assert_string_equal(line, "NOQUEUE: accept: MAIL from "
			"unknown[192.0.2.1]: accepted; from=<X@Example.com> "
			"reason=no_match sender_key=x@example.com");
    /* The fail mode's tempfail: no reply of ours, Postfix's own. */
    v.why = VD_FAIL_STALE;
    v.action = QS_ACTION_TEMPFAIL;
    mail_line(line, sizeof(line), &v, "<>", 0, "unknown", "192.0.2.1");
    assert_string_equal(line, "NOQUEUE: tempfail: MAIL from "
			"unknown[192.0.2.1]: 451 4.7.1 Service unavailable - "
			"try again later; from=<> reason=summary_stale "
			"sender_key=x@example.com");
}

/* The sender: one pair of "<>" off, cut at VL_SENDER_MAX. */
static void
sender_form(void **state)
{
    char    out[VL_SENDER_MAX + 1];
    char    in[VL_SENDER_MAX + 3];

    (void) state;
    assert_int_equal(vl_sender(out, "<>", 2), 0);
    assert_string_equal(out, "");
    assert_int_equal(vl_sender(out, "", 0), 0);
    assert_int_equal(vl_sender(out, "<a@b", 4), 4);
    assert_string_equal(out, "<a@b");
    assert_int_equal(vl_sender(out, "<<a@b>>", 7), 5);
    assert_string_equal(out, "<a@b>");
    assert_int_equal(vl_sender(out, ">", 1), 1);
    assert_string_equal(out, ">");
    /* 400 bytes inside "<>" stay whole; 401 lose the last. */
    memset(in, 'a', sizeof(in));
    in[0] = '<';
    in[VL_SENDER_MAX + 1] = '>';
    assert_int_equal(vl_sender(out, in, VL_SENDER_MAX + 2), VL_SENDER_MAX);
    assert_int_equal(out[VL_SENDER_MAX - 1], 'a');
    in[VL_SENDER_MAX + 1] = 'b';
    in[VL_SENDER_MAX + 2] = '>';
    assert_int_equal(vl_sender(out, in, VL_SENDER_MAX + 3), VL_SENDER_MAX);
    assert_int_equal(out[VL_SENDER_MAX - 1], 'a');
    assert_int_equal(out[VL_SENDER_MAX], 0);
}

/* A hostile sender, key, client name and queue ID: CR, LF, ESC, ';',
 * spaces and fake fields come out as '?' inside their own field; every
 * field after the ';' is ours. */
static void
hostile(void **state)
{
    static const char evil[] = "<x\r\nqshape-milter: NOQUEUE: tempfail:"
	"\x1b[2K; from=<boss@good.example> policy=vip "
	"key=sender:boss@good.example@evil.example>";
    char    line[VL_LINE_MAX];
    char    sender[VL_SENDER_MAX + 1];
    VD_VERDICT v = matched(0, QS_ACTION_TEMPFAIL, QS_ACTION_TEMPFAIL,
			   QS_KEY_SENDER, "x policy=vip;a@evil.example");
    VL_LINE l = {0};

    (void) state;
    mail_line(line, sizeof(line), &v, evil, 0, "evil; from=<a@b> x",
	      "192.0.2.66");
    assert_string_equal(line, "NOQUEUE: tempfail: MAIL from "
			"evil??from=<a@b>?x[192.0.2.66]: 451 4.7.1 Slow down "
			"please; from=<x??qshape-milter:?NOQUEUE:?tempfail:?"
			"[2K??from=<boss@good.example>?policy=vip?"
			"key=sender:boss@good.example@evil.example> "
			"policy=flood key=sender:x?policy=vip?a@evil.example "
			"count=100 total=200 share=0.50");
    assert_null(strchr(line, '\n'));
    assert_null(strchr(line, '\r'));
    assert_null(strchr(line, '\x1b'));
    /* One "; " only: the end of the text. */
    assert_ptr_equal(strstr(line, "; "), strrchr(line, ';'));
    /* The queue ID too. */
    vl_sender(sender, "<a@b>", 5);
    l.queue_id = "4XyZ; policy=vip\n";
    l.whatsup = "hold";
    l.where = VL_WHERE_EOM;
    l.host = "h";
    l.addr = "192.0.2.1";
    l.text = VL_HELD;
    l.sender = sender;
    l.fields = "policy=flood";
    vl_format(line, sizeof(line), &l);
    assert_string_equal(line, "4XyZ??policy=vip?: hold: END-OF-MESSAGE "
			"from h[192.0.2.1]: held in the hold queue; "
			"from=<a@b> policy=flood");
}

/* A short buffer: cut, NUL-terminated, never overrun. */
static void
short_buffer(void **state)
{
    char    buf[16];
    VD_VERDICT v = matched(0, QS_ACTION_TEMPFAIL, QS_ACTION_TEMPFAIL,
			   QS_KEY_SENDER_DOMAIN, "flood.example");

    (void) state;
    mail_line(buf, sizeof(buf), &v, "<a@b>", 0, "h", "192.0.2.1");
    assert_string_equal(buf, "NOQUEUE: tempfa");
    vl_fields(buf, sizeof(buf), &cf, &v, 0, NOW);
    assert_string_equal(buf, "policy=flood ke");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup(tempfail, setup),
	cmocka_unit_test_setup(hold, setup),
	cmocka_unit_test_setup(suppressed, setup),
	cmocka_unit_test_setup(unmatched, setup),
	cmocka_unit_test_setup(sender_form, setup),
	cmocka_unit_test_setup(hostile, setup),
	cmocka_unit_test_setup(short_buffer, setup),
    };

    return cmocka_run_group_tests(tests, 0, 0);
}

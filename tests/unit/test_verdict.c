/*
 * Unit tests for verdict, the milter's decision function: every exemption
 * kind, IPv6 networks, parent-domain matches, each action, each fail mode
 * (policy mismatch included) and its transitions, sender keys from every
 * form of MAIL FROM, and mail from sendmail(1).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "failmalloc.h"		/* allocation failures: out_of_memory */
#include "verdict.h"

/* Policies 0..4: sender_domain tempfail, parent_domain hold, client
 * address hold, sasl_username log, sender tempfail.  */
static const char conf_text[] =
    "summary_file = \"/run/qshape-test-verdict/summary\";\n"
    "scanner: { queues = [\"incoming\", \"active\"]; };\n"
    "policies = (\n"
    " { name = \"flood\"; key = \"sender_domain\"; action = \"tempfail\";\n"
    "   reply = \"451 4.7.1 Slow down\"; local_action = \"hold\"; },\n"
    " { name = \"parents\"; key = \"parent_domain\"; action = \"hold\";\n"
    "   local_action = \"accept\"; },\n"
    " { name = \"clients\"; key = \"client_address\"; action = \"hold\"; },\n"
    " { name = \"users\"; key = \"sasl_username\"; action = \"log\"; },\n"
    " { name = \"senders\"; key = \"sender\"; action = \"tempfail\";\n"
    "   reply = \"450 4.7.1 Not you\"; }\n"
    ");\n"
    "exempt: {\n"
    " senders = [\"Boss@Flood.Example\"];\n"
    " domains = [\"partner.example\"];\n"
    " networks = [\"192.0.2.0/24\", \"2001:db8:1::/48\"];\n"
    " sasl_users = [\"trusted\"];\n"
    " null_sender = true;\n"
    "};\n";

static QC_CONFIG *cf;

/* The fake throttle set: (kind, key, policy). */
static const struct {
    int     kind;
    const char *key;
    int     policy;
} throttled[] = {
    {QS_KEY_SENDER_DOMAIN, "flood.example", 0},
    {QS_KEY_SENDER_DOMAIN, "partner.example", 0},
    {QS_KEY_SENDER_DOMAIN, "sub.partner.example", 0},
    {QS_KEY_PARENT_DOMAIN, ".big.example", 1},
    /* Not a scanner key: rd_parents() drops it (parent_chain_depth). */
    {QS_KEY_PARENT_DOMAIN, ".l3.l4.l5.l6.l7.l8.l9.l10.big.example", 1},
    {QS_KEY_CLIENT_ADDRESS, "2001:db8:2::7", 2},
    {QS_KEY_CLIENT_ADDRESS, "192.0.2.9", 2},
    {QS_KEY_SASL_USERNAME, "spammer", 3},
    {QS_KEY_SASL_USERNAME, "trusted", 3},
    {QS_KEY_SENDER, "spammer@evil.example", 4},
};

static int lookup_fails;
static int fail_kind = -1;		/* lookups of this kind with a key fail */
static int key_lookups[QS_NKEYKINDS];	/* calls with a key, per kind */
static int no_parents;			/* the set has no parent_domain key */

static int
lookup(void *ctx, int kind, const char *key, size_t len, uint64_t digest,
       QS_THROTTLE *out)
{
    size_t  i;

    (void) ctx;
    if (lookup_fails)
	return -1;
    if (key == 0) {			/* any key of the kind? */
	for (i = 0; i < sizeof(throttled) / sizeof(throttled[0]); i++)
	    if (throttled[i].kind == kind
		&& !(no_parents && kind == QS_KEY_PARENT_DOMAIN)
		&& cf->policies[throttled[i].policy].digest == digest)
		return 1;
	return 0;
    }
    key_lookups[kind]++;
    if (kind == fail_kind)
	return -1;
    /* Any sender key of 250 bytes or more starting "long" is throttled. */
    if (kind == QS_KEY_SENDER && len >= 250 && memcmp(key, "long", 4) == 0
	&& cf->policies[4].digest == digest) {
	memset(out, 0, sizeof(*out));
	out->kind = (uint8_t) kind;
	out->policy = 4;
	return 1;
    }
    for (i = 0; i < sizeof(throttled) / sizeof(throttled[0]); i++) {
	if (throttled[i].kind == kind && strlen(throttled[i].key) == len
	    && cf->policies[throttled[i].policy].digest == digest
	    && memcmp(throttled[i].key, key, len) == 0) {
	    memset(out, 0, sizeof(*out));
	    out->kind = (uint8_t) kind;
	    out->policy = (uint16_t) throttled[i].policy;
	    out->count = 1306;
	    out->total = 2967;
	    out->share_ppm = 440182;
	    return 1;
	}
    }
    return 0;
}

static int
setup(void **state)
{
    char    path[] = "/tmp/test_verdict.XXXXXX";
    char    err[1024];
    int     fd = mkstemp(path);

    (void) state;
    if (fd < 0 || write(fd, conf_text, sizeof(conf_text) - 1) < 0)
	return -1;
    close(fd);
    cf = qc_load(path, err, sizeof(err));
    unlink(path);
    if (cf == 0)
	fprintf(stderr, "%s\n", err);
    return cf == 0;
}

static int
teardown(void **state)
{
    (void) state;
    qc_free(cf);
    return 0;
}

/* A message from sender, client (text, v4 or v6) and SASL user. */
static VD_VERDICT
decide(const char *sender, const char *client, const char *sasl, int local,
       VD_SUMMARY state)
{
    VD_MSG  m;
    VD_VERDICT v;

    memset(&m, 0, sizeof(m));
    m.sender = sender;
    m.sender_len = strlen(sender);
    if (client && inet_pton(AF_INET, client, m.client_addr) == 1)
	m.client_family = AF_INET;
    else if (client && inet_pton(AF_INET6, client, m.client_addr) == 1)
	m.client_family = AF_INET6;
    m.client_text = client;
    m.sasl_user = sasl;
    m.local = local;
    vd_decide(cf, &m, state, lookup, 0, &v);
    return v;
}

/* The parent chain (Public Suffix List look-ups) is made only when the
 * policy throttles some parent domain. */
static void
parent_chain_when_needed(void **state)
{
    VD_VERDICT v;

    (void) state;
    memset(key_lookups, 0, sizeof(key_lookups));
    v = decide("<a@x.y.ham.example>", "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    assert_int_equal(v.why, VD_NO_MATCH);
    assert_int_equal(key_lookups[QS_KEY_PARENT_DOMAIN], 2);	/* .y.ham, .ham */
    memset(key_lookups, 0, sizeof(key_lookups));
    no_parents = 1;
    v = decide("<a@x.y.ham.example>", "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    no_parents = 0;
    assert_int_equal(v.why, VD_NO_MATCH);
    assert_int_equal(key_lookups[QS_KEY_PARENT_DOMAIN], 0);
    assert_int_equal(key_lookups[QS_KEY_SENDER_DOMAIN], 1);
}

static void
actions(void **state)
{
    VD_VERDICT v;

    (void) state;
    v = decide("<Spam@FLOOD.example>", "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    assert_int_equal(v.action, QS_ACTION_TEMPFAIL);
    assert_int_equal(v.why, VD_MATCH);
    assert_int_equal(v.policy, 0);
    assert_int_equal(v.kind, QS_KEY_SENDER_DOMAIN);
    assert_string_equal(v.key, "flood.example");
    assert_int_equal(v.entry.count, 1306);

    /* Parent domain: the closest parent first, TLDs never. */
    v = decide("<a@x.y.big.example>", "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    assert_int_equal(v.action, QS_ACTION_HOLD);
    assert_int_equal(v.policy, 1);
    assert_string_equal(v.key, ".big.example");

    /* Client address, IPv6 as inet_ntop prints it. */
    v = decide("<a@ham.example>", "2001:db8:2::7", 0, 0, VD_SUMMARY_OK);
    assert_int_equal(v.action, QS_ACTION_HOLD);
    assert_int_equal(v.policy, 2);
    assert_string_equal(v.key, "2001:db8:2::7");

    /* log: accepted, but matched. */
    v = decide("<a@ham.example>", "198.51.100.1", "spammer", 0,
	       VD_SUMMARY_OK);
    assert_int_equal(v.action, QS_ACTION_ACCEPT);
    assert_int_equal(v.why, VD_MATCH);
    assert_int_equal(v.suppressed, 1);
    assert_int_equal(v.policy_action, QC_ACTION_LOG);

    v = decide("<a@ham.example>", "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    assert_int_equal(v.action, QS_ACTION_ACCEPT);
    assert_int_equal(v.why, VD_NO_MATCH);
    assert_int_equal(v.policy, -1);
}

static void
exemptions(void **state)
{
    (void) state;
    assert_int_equal(decide("<boss@flood.example>", "198.51.100.1", 0, 0,
			    VD_SUMMARY_OK).why, VD_EXEMPT_SENDER);
    assert_int_equal(decide("<x@partner.example>", "198.51.100.1", 0, 0,
			    VD_SUMMARY_OK).why, VD_EXEMPT_DOMAIN);
    assert_int_equal(decide("<x@sub.partner.example>", "198.51.100.1", 0, 0,
			    VD_SUMMARY_OK).why, VD_EXEMPT_DOMAIN);
    /* Not a subdomain: "notpartner.example" does not end in ".partner". */
    assert_int_equal(decide("<x@notpartner.example>", "198.51.100.1", 0, 0,
			    VD_SUMMARY_OK).why, VD_NO_MATCH);
    assert_int_equal(decide("<x@flood.example>", "192.0.2.200", 0, 0,
			    VD_SUMMARY_OK).why, VD_EXEMPT_NETWORK);
    assert_int_equal(decide("<x@flood.example>", "2001:db8:1:ffff::1", 0, 0,
			    VD_SUMMARY_OK).why, VD_EXEMPT_NETWORK);
    assert_int_equal(decide("<x@flood.example>", "2001:db8:2::1", 0, 0,
			    VD_SUMMARY_OK).why, VD_MATCH);
    /* IPv4-mapped IPv6 matches the IPv4 network. */
    assert_int_equal(decide("<x@flood.example>", "::ffff:192.0.2.1", 0, 0,
			    VD_SUMMARY_OK).why, VD_EXEMPT_NETWORK);
    assert_int_equal(decide("<x@flood.example>", "198.51.100.1", "trusted",
			    0, VD_SUMMARY_OK).why, VD_EXEMPT_SASL);
    assert_int_equal(decide("<>", "198.51.100.1", 0, 0,
			    VD_SUMMARY_OK).why, VD_EXEMPT_NULL_SENDER);
}

static void
fail_modes(void **state)
{
    VD_VERDICT v;

    (void) state;
    v = decide("<x@flood.example>", "198.51.100.1", 0, 0,
	       VD_SUMMARY_MISSING);
    assert_int_equal(v.action, QS_ACTION_ACCEPT);
    assert_int_equal(v.why, VD_FAIL_MISSING);
    assert_int_equal(decide("<x@flood.example>", 0, 0, 0,
			    VD_SUMMARY_STALE).why, VD_FAIL_STALE);
    assert_int_equal(decide("<x@flood.example>", 0, 0, 0,
			    VD_SUMMARY_FOREIGN).why, VD_FAIL_FOREIGN);
    lookup_fails = 1;
    v = decide("<x@flood.example>", "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    lookup_fails = 0;
    assert_int_equal(v.action, QS_ACTION_ACCEPT);
    assert_int_equal(v.why, VD_FAIL_LOOKUP);
    assert_int_equal(v.policy, -1);
    /* A failed lookup in the parent chain, after the sender_domain
     * policy's lookup answered: the same. */
    fail_kind = QS_KEY_PARENT_DOMAIN;
    v = decide("<a@x.y.ham.example>", "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    fail_kind = -1;
    assert_int_equal(v.why, VD_FAIL_LOOKUP);
    assert_int_equal(v.action, QS_ACTION_ACCEPT);
    assert_int_equal(v.policy, -1);
    /* fail_mode = tempfail, except for sendmail(1) mail. */
    cf->fail_mode = QC_FAIL_TEMPFAIL;
    assert_int_equal(decide("<x@a.example>", 0, 0, 0,
			    VD_SUMMARY_STALE).action, QS_ACTION_TEMPFAIL);
    assert_int_equal(decide("x@a.example", 0, 0, 1,
			    VD_SUMMARY_STALE).action, QS_ACTION_ACCEPT);
    cf->fail_mode = QC_FAIL_ACCEPT;
}

/* sendmail(1) mail: never a tempfail; local_action instead. */
static void
local_mail(void **state)
{
    VD_VERDICT v;

    (void) state;
    v = decide("spam@flood.example", "127.0.0.1", 0, 1, VD_SUMMARY_OK);
    assert_int_equal(v.action, QS_ACTION_HOLD);
    assert_int_equal(v.policy_action, QC_ACTION_HOLD);
    cf->policies[0].local_action = QC_ACTION_ACCEPT;
    v = decide("spam@flood.example", "127.0.0.1", 0, 1, VD_SUMMARY_OK);
    assert_int_equal(v.action, QS_ACTION_ACCEPT);
    assert_int_equal(v.suppressed, 1);
    cf->policies[0].local_action = QC_ACTION_HOLD;
    /* local_action applies whatever the action: hold -> accept here. */
    v = decide("a@x.y.big.example", "127.0.0.1", 0, 1, VD_SUMMARY_OK);
    assert_int_equal(v.why, VD_MATCH);
    assert_int_equal(v.action, QS_ACTION_ACCEPT);
    assert_int_equal(v.policy_action, QC_ACTION_ACCEPT);
    /* dry_run accepts everything, and says what it would have done. */
    cf->dry_run = 1;
    v = decide("<spam@flood.example>", "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    assert_int_equal(v.action, QS_ACTION_ACCEPT);
    assert_int_equal(v.policy_action, QC_ACTION_TEMPFAIL);
    assert_int_equal(v.suppressed, 1);
    cf->dry_run = 0;
}

/* Hostile addresses get a verdict: long, unbalanced, empty, UTF-8. */
static void
hostile(void **state)
{
    char   *big = malloc(65537);
    VD_VERDICT v;

    (void) state;
    memset(big, 'a', 65536);
    big[65536] = 0;
    big[1000] = '@';
    v = decide(big, "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    assert_int_equal(v.why, VD_NO_MATCH);
    free(big);
    /* A local part longer than any buffer: still flood.example's. */
    big = malloc(1200);
    memset(big, 'a', 1200);
    memcpy(big + 1100, "@flood.example", 15);
    v = decide(big, "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    assert_int_equal(v.why, VD_MATCH);
    assert_string_equal(v.key, "flood.example");
    free(big);
    /* Unbalanced: not stripped, but the domain is still flood.example. */
    assert_int_equal(decide("<x@flood.example", 0, 0, 0,
			    VD_SUMMARY_OK).why, VD_MATCH);
    /* "<" is the null sender to Postfix too (no address in it). */
    assert_int_equal(decide("<", 0, 0, 0, VD_SUMMARY_OK).why,
		     VD_EXEMPT_NULL_SENDER);
    assert_int_equal(decide("", 0, 0, 0, VD_SUMMARY_OK).why,
		     VD_EXEMPT_NULL_SENDER);
    assert_int_equal(decide("<x@bücher.example>", 0, 0, 0,
			    VD_SUMMARY_OK).why, VD_NO_MATCH);
    assert_string_equal(vd_why_name(VD_FAIL_STALE), "summary_stale");
    assert_string_equal(vd_why_name(VD_FAIL_POLICY), "policy_mismatch");
    assert_string_equal(vd_why_name(VD_FAIL_UNTRUSTED), "summary_untrusted");
}

/* Every form Postfix turns into spammer@evil.example gets that key. */
static void
sender_forms(void **state)
{
    static const char *const forms[] = {
	"<spammer@evil.example>", "spammer@evil.example",
	"<\"spammer\"@evil.example>", "<@relay.example:spammer@evil.example>",
	"<@a.example,@b.example:spammer@evil.example>",
	"<SPAMMER@Evil.Example>", "<spammer@evil.example.>",
	"<\"sp\\amm\\er\"@EVIL.example.>", "<evil.example!spammer>",
	"<spammer%evil.example>", "<spammer(comment)@evil.example>",
    };
    VD_VERDICT v;
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
	v = decide(forms[i], "198.51.100.1", 0, 0, VD_SUMMARY_OK);
	if (v.why != VD_MATCH || v.policy != 4)
	    fail_msg("%s: %s policy %d", forms[i], vd_why_name(v.why),
		     v.policy);
	assert_int_equal(v.action, QS_ACTION_TEMPFAIL);
	assert_string_equal(v.key, "spammer@evil.example");
	assert_string_equal(v.sender_key, "spammer@evil.example");
    }
    /* Near misses stay misses. */
    assert_int_equal(decide("<spammer@evil.example..>", "198.51.100.1", 0,
			    0, VD_SUMMARY_OK).why, VD_NO_MATCH);
    assert_int_equal(decide("<\"spammer \"@evil.example>", "198.51.100.1",
			    0, 0, VD_SUMMARY_OK).why, VD_NO_MATCH);
    /* The exemption list sees the same key. */
    assert_int_equal(decide("<\"Boss\"@flood.example.>", "198.51.100.1", 0,
			    0, VD_SUMMARY_OK).why, VD_EXEMPT_SENDER);
}

/* The scanner published for other policies: the fail mode, never a
 * policy's action or reply. */
static void
policy_mismatch(void **state)
{
    VD_VERDICT v;

    (void) state;
    v = decide("<spam@flood.example>", "198.51.100.1", 0, 0,
	       VD_SUMMARY_POLICIES);
    assert_int_equal(v.why, VD_FAIL_POLICY);
    assert_int_equal(v.action, QS_ACTION_ACCEPT);
    assert_int_equal(v.policy, -1);
    cf->fail_mode = QC_FAIL_TEMPFAIL;
    v = decide("<spam@flood.example>", "198.51.100.1", 0, 0,
	       VD_SUMMARY_POLICIES);
    assert_int_equal(v.action, QS_ACTION_TEMPFAIL);
    assert_int_equal(v.policy, -1);
    v = decide("spam@flood.example", "127.0.0.1", 0, 1,
	       VD_SUMMARY_POLICIES);
    assert_int_equal(v.action, QS_ACTION_ACCEPT);
    cf->fail_mode = QC_FAIL_ACCEPT;
    assert_int_equal(decide("<x@a.example>", 0, 0, 0,
			    VD_SUMMARY_UNTRUSTED).why, VD_FAIL_UNTRUSTED);
    assert_int_equal(decide("<x@a.example>", 0, 0, 0,
			    VD_SUMMARY_UNREADABLE).why, VD_FAIL_LOOKUP);
}

/* vd_fail_next: begins, changes, ends; exemptions keep a lookup failure. */
static void
fail_transitions(void **state)
{
    VD_VERDICT v;

    (void) state;
    v = decide("<x@a.example>", 0, 0, 0, VD_SUMMARY_STALE);
    assert_int_equal(vd_fail_next(VD_NO_MATCH, &v), VD_FAIL_STALE);
    assert_int_equal(vd_fail_next(VD_FAIL_STALE, &v), VD_FAIL_STALE);
    assert_int_equal(vd_fail_next(VD_FAIL_MISSING, &v), VD_FAIL_STALE);
    v = decide("<x@a.example>", 0, 0, 0, VD_SUMMARY_POLICIES);
    assert_int_equal(vd_fail_next(VD_NO_MATCH, &v), VD_FAIL_POLICY);
    /* A decision on a usable summary ends any condition... */
    v = decide("<x@a.example>", "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    assert_int_equal(v.why, VD_NO_MATCH);
    assert_int_equal(vd_fail_next(VD_FAIL_POLICY, &v), VD_NO_MATCH);
    assert_int_equal(vd_fail_next(VD_FAIL_LOOKUP, &v), VD_NO_MATCH);
    v = decide("<spam@flood.example>", "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    assert_int_equal(vd_fail_next(VD_FAIL_STALE, &v), VD_NO_MATCH);
    /* ...but one without a lookup cannot end a lookup failure. */
    v = decide("<>", 0, 0, 0, VD_SUMMARY_OK);
    assert_int_equal(v.why, VD_EXEMPT_NULL_SENDER);
    assert_int_equal(vd_fail_next(VD_FAIL_LOOKUP, &v), VD_FAIL_LOOKUP);
    assert_int_equal(vd_fail_next(VD_FAIL_STALE, &v), VD_NO_MATCH);
    /* A failed lookup begins one. */
    lookup_fails = 1;
    v = decide("<x@a.example>", "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    lookup_fails = 0;
    assert_int_equal(vd_fail_next(VD_NO_MATCH, &v), VD_FAIL_LOOKUP);
}

/* Each reason's name, and "unknown" outside the enum. */
static void
why_names(void **state)
{
    static const char *const want[] = {
	"no_match", "match", "exempt_sender", "exempt_domain",
	"exempt_network", "exempt_sasl_user", "exempt_null_sender",
	"summary_missing", "summary_stale", "summary_unknown_version",
	"summary_unreadable", "summary_untrusted", "policy_mismatch",
    };
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
	assert_string_equal(vd_why_name((VD_WHY) i), want[i]);
    assert_int_equal(VD_FAIL_POLICY + 1, sizeof(want) / sizeof(want[0]));
    assert_string_equal(vd_why_name((VD_WHY) (VD_FAIL_POLICY + 1)),
			"unknown");
    assert_string_equal(vd_why_name((VD_WHY) - 1), "unknown");
}

/*
 * Senders longer than the keys' stack space (VD_KEYS_STACK) take the heap
 * path: the same keys.  The sender key kept in the verdict is its first
 * QS_KEY_BYTES - 1 bytes.
 */
static void
long_senders(void **state)
{
    static char addr[3000], want[3000];
    size_t  n;
    VD_VERDICT v;

    (void) state;
    for (n = 1000; n <= 2500; n += 1500) {
	addr[0] = '<';
	memset(addr + 1, 'A', n);
	snprintf(addr + 1 + n, sizeof(addr) - 1 - n, "@FLOOD.example>");
	v = decide(addr, "198.51.100.1", 0, 0, VD_SUMMARY_OK);
	assert_int_equal(v.why, VD_MATCH);
	assert_int_equal(v.policy, 0);
	assert_string_equal(v.key, "flood.example");
	memset(want, 'a', QS_KEY_BYTES - 1);
	want[QS_KEY_BYTES - 1] = 0;
	assert_string_equal(v.sender_key, want);
	/* The sender policy sees the whole address. */
	snprintf(addr + 1 + n, sizeof(addr) - 1 - n, "@Evil.example>");
	v = decide(addr, "198.51.100.1", 0, 0, VD_SUMMARY_OK);
	assert_int_equal(v.why, VD_NO_MATCH);
	assert_string_equal(v.sender_key, want);
    }
    /* Just short enough for the stack, and a sender key that fits. */
    v = decide("<Spammer@EVIL.example>", "198.51.100.1", 0, 0,
	       VD_SUMMARY_OK);
    assert_string_equal(v.key, "spammer@evil.example");
    assert_string_equal(v.sender_key, "spammer@evil.example");
}

/*
 * The exemptions the milter applies, each alone: a null sender only when
 * null_sender is set; SASL users exactly (case counts, unlike senders);
 * domains at a label boundary; the first exemption that applies names
 * the reason; no client address, no network check.
 */
static void
exemption_edges(void **state)
{
    VD_VERDICT v;

    (void) state;
    cf->exempt.null_sender = 0;
    v = decide("<>", "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    assert_int_equal(v.why, VD_NO_MATCH);
    assert_string_equal(v.sender_key, "MAILER-DAEMON");	/* as qshape */
    cf->exempt.null_sender = 1;
    assert_int_equal(decide("<>", "198.51.100.1", 0, 0, VD_SUMMARY_OK).why,
		     VD_EXEMPT_NULL_SENDER);
    /* A null sender is not an exempt sender or domain either way. */
    assert_int_equal(decide("<>", "198.51.100.1", "spammer", 0,
			    VD_SUMMARY_OK).why, VD_EXEMPT_NULL_SENDER);

    /* SASL: "trusted" is exempt, "Trusted" is not (and is not
     * throttled); "spammer" is throttled. */
    assert_int_equal(decide("<a@ham.example>", "198.51.100.1", "trusted", 0,
			    VD_SUMMARY_OK).why, VD_EXEMPT_SASL);
    v = decide("<a@ham.example>", "198.51.100.1", "Trusted", 0,
	       VD_SUMMARY_OK);
    assert_int_equal(v.why, VD_NO_MATCH);
    assert_int_equal(decide("<a@ham.example>", "198.51.100.1", "trustedx",
			    0, VD_SUMMARY_OK).why, VD_NO_MATCH);
    assert_int_equal(decide("<a@ham.example>", "198.51.100.1", "truste", 0,
			    VD_SUMMARY_OK).why, VD_NO_MATCH);
    memset(key_lookups, 0, sizeof(key_lookups));
    v = decide("<a@ham.example>", "198.51.100.1", "", 0, VD_SUMMARY_OK);
    assert_int_equal(v.why, VD_NO_MATCH);
    assert_int_equal(key_lookups[QS_KEY_SASL_USERNAME], 0);	/* no user */
    v = decide("<a@ham.example>", "198.51.100.1", "Trusted", 0,
	       VD_SUMMARY_OK);
    assert_int_equal(key_lookups[QS_KEY_SASL_USERNAME], 1);
    /* Senders ignore case. */
    assert_int_equal(decide("<BOSS@flood.EXAMPLE>", "198.51.100.1", 0, 0,
			    VD_SUMMARY_OK).why, VD_EXEMPT_SENDER);
    assert_int_equal(decide("<boss2@flood.example>", "198.51.100.1", 0, 0,
			    VD_SUMMARY_OK).why, VD_MATCH);
    assert_int_equal(decide("<bos@flood.example>", "198.51.100.1", 0, 0,
			    VD_SUMMARY_OK).why, VD_MATCH);

    /* Domains: equal, below at a dot, or not at all. */
    assert_int_equal(decide("<x@a.partner.example>", 0, 0, 0,
			    VD_SUMMARY_OK).why, VD_EXEMPT_DOMAIN);
    assert_int_equal(decide("<x@partner.exampl>", 0, 0, 0,
			    VD_SUMMARY_OK).why, VD_NO_MATCH);
    assert_int_equal(decide("<x@artner.example>", 0, 0, 0,
			    VD_SUMMARY_OK).why, VD_NO_MATCH);
    assert_int_equal(decide("<x@apartner.example>", 0, 0, 0,
			    VD_SUMMARY_OK).why, VD_NO_MATCH);

    /* Order: sender, domain, network, SASL user. */
    assert_int_equal(decide("<boss@flood.example>", "192.0.2.1", "trusted",
			    0, VD_SUMMARY_OK).why, VD_EXEMPT_SENDER);
    assert_int_equal(decide("<x@partner.example>", "192.0.2.1", "trusted",
			    0, VD_SUMMARY_OK).why, VD_EXEMPT_DOMAIN);
    assert_int_equal(decide("<x@flood.example>", "192.0.2.1", "trusted",
			    0, VD_SUMMARY_OK).why, VD_EXEMPT_NETWORK);

    /* Without a client address: no network exemption, no client key. */
    v = decide("<x@ham.example>", 0, 0, 0, VD_SUMMARY_OK);
    assert_int_equal(v.why, VD_NO_MATCH);
    v = decide("<x@ham.example>", "", 0, 0, VD_SUMMARY_OK);
    assert_int_equal(v.why, VD_NO_MATCH);
    v = decide("<x@ham.example>", "192.0.2.9", 0, 0, VD_SUMMARY_OK);
    assert_int_equal(v.why, VD_EXEMPT_NETWORK);	/* before its policy */
}

/* No memory for a long sender's keys: the fail mode, as for a failed
 * lookup, never a crash or a verdict on half-made keys. */
static void
out_of_memory(void **state)
{
    static char addr[3000];
    VD_VERDICT v;

    (void) state;
    addr[0] = '<';
    memset(addr + 1, 'a', 2000);
    snprintf(addr + 2001, sizeof(addr) - 2001, "@flood.example>");
    fail_after = 0;
    v = decide(addr, "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    fail_after = -1;
    assert_int_equal(v.why, VD_FAIL_LOOKUP);
    assert_int_equal(v.action, QS_ACTION_ACCEPT);
    assert_int_equal(v.policy, -1);
    cf->fail_mode = QC_FAIL_TEMPFAIL;
    fail_after = 0;
    v = decide(addr, "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    fail_after = -1;
    cf->fail_mode = QC_FAIL_ACCEPT;
    assert_int_equal(v.why, VD_FAIL_LOOKUP);
    assert_int_equal(v.action, QS_ACTION_TEMPFAIL);
    /* A short sender needs no allocation. */
    fail_after = 0;
    v = decide("<spam@flood.example>", "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    fail_after = -1;
    assert_int_equal(v.why, VD_MATCH);
}

/* A matched key longer than the summary's keys is reported by its first
 * QS_KEY_BYTES - 1 bytes; one that fits, whole.  Lengths around the edge:
 * 254, 255 (= QS_KEY_BYTES - 1), 256, 257, and 418. */
static void
long_key(void **state)
{
    static const size_t lens[] = {254, 255, 256, 257, 418};
    static char addr[600], want[QS_KEY_BYTES];
    VD_VERDICT v;
    size_t  i, keep;

    (void) state;
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
	/* The sender key: "long" x... "@evil.example", lens[i] bytes. */
	snprintf(addr, sizeof(addr), "<long");
	memset(addr + 5, 'x', lens[i] - 17);
	snprintf(addr + lens[i] - 12, sizeof(addr) - lens[i] + 12,
		 "@evil.example>");
	v = decide(addr, "198.51.100.1", 0, 0, VD_SUMMARY_OK);
	assert_int_equal(v.why, VD_MATCH);
	assert_int_equal(v.policy, 4);
	keep = lens[i] < QS_KEY_BYTES - 1 ? lens[i] : QS_KEY_BYTES - 1;
	memcpy(want, addr + 1, keep);
	want[keep] = 0;
	assert_int_equal(strlen(v.key), keep);
	assert_string_equal(v.key, want);
	assert_string_equal(v.sender_key, want);
    }
}

/*
 * Parent keys: a domain of RD_NAME_MAX (255) bytes has them, one byte
 * more has none (rd_parents()).  "x." + 11 labels of 21 bytes and their
 * dots + "big.example" is 255.
 */
static void
parent_name_max(void **state)
{
    char    addr[300];
    size_t  o, i;
    VD_VERDICT v;

    (void) state;
    for (o = 0; o < 2; o++) {
	snprintf(addr, sizeof(addr), "<a@%.*s.", (int) o + 1, "xx");
	for (i = 0; i < 11; i++)
	    snprintf(addr + strlen(addr), sizeof(addr) - strlen(addr),
		     "aaaaaaaaaaaaaaaaaaaaa.");
	snprintf(addr + strlen(addr), sizeof(addr) - strlen(addr),
		 "big.example>");
	assert_int_equal(strlen(addr), 3 + 255 + o + 1);
	v = decide(addr, "198.51.100.1", 0, 0, VD_SUMMARY_OK);
	if (o == 0) {
	    assert_int_equal(v.why, VD_MATCH);
	    assert_int_equal(v.policy, 1);
	    assert_string_equal(v.key, ".big.example");
	} else {
	    assert_int_equal(v.why, VD_NO_MATCH);
	    assert_int_equal(v.policy, -1);
	}
    }
}

/*
 * A chain deeper than RD_PARENTS_MAX: l1.l2...l10.big.example has ten
 * parents in qshape's chain; the scanner keeps the eight most general
 * (rd_parents()).  A throttled key among the two it drops is passed over,
 * and the next one it keeps matches.
 */
static void
parent_chain_depth(void **state)
{
    VD_VERDICT v;

    (void) state;
    memset(key_lookups, 0, sizeof(key_lookups));
    v = decide("<a@l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.big.example>",
	       "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    assert_int_equal(v.why, VD_MATCH);
    assert_int_equal(v.policy, 1);
    assert_string_equal(v.key, ".big.example");
    assert_int_equal(key_lookups[QS_KEY_PARENT_DOMAIN], 10);
}

/*
 * The parent chain reads the domain's own bytes, never the rest of its
 * buffer, where the domain was cut out of the whole address: after
 * "x.y.ham.example" and its NUL, the buffer still holds the dotted local
 * part's tail ("i.j.k.l.m.n@...").  x.y.ham.example has two parents.
 */
static void
parent_chain_reads_the_domain(void **state)
{
    VD_VERDICT v;

    (void) state;
    memset(key_lookups, 0, sizeof(key_lookups));
    v = decide("<a.b.c.d.e.f.g.h.i.j.k.l.m.n@x.y.ham.example>",
	       "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    assert_int_equal(v.why, VD_NO_MATCH);
    assert_int_equal(key_lookups[QS_KEY_PARENT_DOMAIN], 2);
    memset(key_lookups, 0, sizeof(key_lookups));
    v = decide("<a.b.c.d.e.f.g.h.i.j.k.l.m.n@x.y.big.example>",
	       "198.51.100.1", 0, 0, VD_SUMMARY_OK);
    assert_int_equal(v.why, VD_MATCH);
    assert_string_equal(v.key, ".big.example");
    assert_int_equal(key_lookups[QS_KEY_PARENT_DOMAIN], 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(actions),
	cmocka_unit_test(parent_chain_when_needed),
	cmocka_unit_test(exemptions),
	cmocka_unit_test(fail_modes),
	cmocka_unit_test(local_mail),
	cmocka_unit_test(hostile),
	cmocka_unit_test(sender_forms),
	cmocka_unit_test(policy_mismatch),
	cmocka_unit_test(fail_transitions),
	cmocka_unit_test(why_names),
	cmocka_unit_test(long_senders),
	cmocka_unit_test(exemption_edges),
	cmocka_unit_test(out_of_memory),
	cmocka_unit_test(long_key),
	cmocka_unit_test(parent_name_max),
	cmocka_unit_test(parent_chain_depth),
	cmocka_unit_test(parent_chain_reads_the_domain),
    };

    return cmocka_run_group_tests_name("verdict", tests, setup, teardown);
}

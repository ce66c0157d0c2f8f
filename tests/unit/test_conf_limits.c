/*
 * Unit tests for conf: what loads but could not work is refused at load
 * time, with "FILE:LINE: message" (issue 7): the summary's size, list
 * lengths, malformed numbers; and the policy vocabulary is vocab.h's.
 * test_conf.c has the files in tests/data/conf.
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

#include "conf.h"
#include "qshape/vocab.h"

/* Load text from a temporary file: NULL and err, or the config. */
static QC_CONFIG *
load_text(const char *text, char *path, size_t pathlen, char *err,
	  size_t errlen)
{
    QC_CONFIG *c;
    FILE   *fp;
    int     fd;

    snprintf(path, pathlen, "/tmp/test_conf.XXXXXX");
    assert_true((fd = mkstemp(path)) >= 0);
    assert_non_null(fp = fdopen(fd, "w"));
    fputs(text, fp);
    fclose(fp);
    c = qc_load(path, err, errlen);
    unlink(path);
    return c;
}

/* Loading text fails with exactly want, in which '~' is the file. */
static void
text_fails(const char *text, const char *want)
{
    char    err[8192], exp[8192], path[64];
    size_t  o = 0;

    assert_null(load_text(text, path, sizeof(path), err, sizeof(err)));
    for (; *want && o + strlen(path) + 2 < sizeof(exp); want++)
	if (*want == '~')
	    o += (size_t) snprintf(exp + o, sizeof(exp) - o, "%s", path);
	else
	    exp[o++] = *want;
    exp[o] = 0;
    assert_string_equal(err, exp);
}

static void
text_loads(const char *text)
{
    char    err[8192], path[64];
    QC_CONFIG *c = load_text(text, path, sizeof(path), err, sizeof(err));

    if (c == 0)
	fail_msg("unexpected: %s", err);
    qc_free(c);
}

/*
 * Issue 7: top_keys = 100000, the documented maximum, made a 1 GB segment
 * and "qshapectl status" took 1.9 s.  Each maximum works alone; together
 * they must keep the segment within 32 MiB.  The sizes are the segment
 * shm.c makes (checked against a writer when this was written).
 */
static void
capacity(void **state)
{
    (void) state;
    text_fails("scanner = { top_keys = 100000; };\n",
	       "~:1: scanner.top_keys: 100000 is out of range 10..3000");
    text_fails("scanner = { top_keys = 3001; };\n",
	       "~:1: scanner.top_keys: 3001 is out of range 10..3000");
    text_fails("scanner = { max_throttled = 16385; };\n",
	       "~:1: scanner.max_throttled: 16385 is out of range 1..16384");
    text_loads("scanner = { top_keys = 3000; };\n");
    text_loads("scanner = { max_throttled = 16384; };\n");
    /* At the cap: 33554048 bytes fit, 33554944 do not. */
    text_loads("scanner = { top_keys = 3000; max_throttled = 3488; };\n");
    text_fails("scanner = {\n  max_throttled = 3489;\n  top_keys = 3000;\n"
	       "};\n",
	       "~:3: scanner.top_keys: top_keys 3000 with max_throttled 3489 "
	       "makes a summary of 33554944 bytes, more than 33554432 (32 "
	       "MiB): lower one of them");
    text_loads("scanner = { top_keys = 1906; max_throttled = 16384; };\n");
    text_fails("scanner = { top_keys = 1907; max_throttled = 16384; };\n",
	       "~:1: scanner.top_keys: top_keys 1907 with max_throttled 16384 "
	       "makes a summary of 33564160 bytes, more than 33554432 (32 "
	       "MiB): lower one of them");
}

/* Exempt lists: at most 10000 entries each; labels of at most 63 bytes. */
static void
exempt_limits(void **state)
{
    char   *text;
    size_t  o = 0, i, cap = 10001 * 16 + 128;
    char    label[80];

    (void) state;
    text = malloc(cap);
    assert_non_null(text);
    o += (size_t) snprintf(text + o, cap - o, "exempt = { senders = [");
    for (i = 0; i < 10000; i++)
	o += (size_t) snprintf(text + o, cap - o, "%s\"u%zu@x\"", i ? "," : "",
			       i);
    snprintf(text + o, cap - o, "]; };\n");
    text_loads(text);
    snprintf(text + o, cap - o, ",\"last@x\"]; };\n");
    text_fails(text, "~:1: exempt.senders: 10001 elements, must have "
	       "0..10000");
    free(text);
    memset(label, 'a', 63);
    snprintf(label + 63, sizeof(label) - 63, ".example");
    text = malloc(256);
    snprintf(text, 256, "exempt = { domains = [ \"%s\" ]; };\n", label);
    text_loads(text);
    memset(label, 'a', 64);
    snprintf(label + 64, sizeof(label) - 64, ".example");
    snprintf(text, 256, "exempt = { domains = [ \"x.%s\" ]; };\n", label);
    text_fails(text, "~:1: exempt.domains[0]: \"x.aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example\" has a label "
	       "longer than 63 bytes: no domain can match it");
    free(text);
}

/* Issue 7: "min_share = .;" was read as 0. */
static void
malformed_number(void **state)
{
    (void) state;
    text_fails("policies = ( { name = \"p\"; key = \"sender\";\n"
	       "  action = \"log\"; min_share = .; } );\n",
	       "~:2: \".\" is not a number (no digits)");
    text_fails("policies = ( { name = \"p\"; key = \"sender\";\n"
	       "  action = \"log\"; min_share = -0.5; } );\n",
	       "~:2: policies[0].min_share: -0.5 is out of range 0..1");
}

/* A policy "p" with the settings in extra, on line 3. */
#define POLR(extra) "policies = ( { name = \"p\"; key = \"sender\";\n" \
	"  action = \"hold\";\n" extra " } );\n"

static QC_CONFIG *
policy_loads(const char *text)
{
    char    err[8192], path[64];
    QC_CONFIG *c = load_text(text, path, sizeof(path), err, sizeof(err));

    if (c == 0)
	fail_msg("unexpected: %s", err);
    assert_int_equal(c->npolicies, 1);
    return c;
}

/* release_held, release_rate, held_max_age (issue 8): defaults, each
 * bound alone. */
static void
release_settings(void **state)
{
    QC_CONFIG *c;

    (void) state;
    c = policy_loads(POLR(""));
    assert_int_equal(c->policies[0].release_held, QC_RELEASE_MANUAL);
    assert_true(c->policies[0].release_rate == 1.0);
    assert_int_equal(c->policies[0].held_max_age, 86400);
    qc_free(c);
    c = policy_loads(POLR("  release_held = \"metered\"; "
			 "release_rate = 0.001; held_max_age = 0;"));
    assert_int_equal(c->policies[0].release_held, QC_RELEASE_METERED);
    assert_true(c->policies[0].release_rate == 0.001);
    assert_int_equal(c->policies[0].held_max_age, 0);
    qc_free(c);
    c = policy_loads(POLR("  release_rate = 1000; held_max_age = 31536000;"));
    assert_true(c->policies[0].release_rate == 1000.0);
    assert_int_equal(c->policies[0].held_max_age, 31536000);
    qc_free(c);
    c = policy_loads(POLR("  release_held = \"manual\"; "
			 "held_max_age = \"12h\";"));
    assert_int_equal(c->policies[0].release_held, QC_RELEASE_MANUAL);
    assert_int_equal(c->policies[0].held_max_age, 43200);
    qc_free(c);
    text_fails(POLR("  release_held = \"auto\";"),
	       "~:3: policies[0].release_held: \"auto\" is not one of "
	       "manual, metered");
    text_fails(POLR("  release_rate = 0.0009;"),
	       "~:3: policies[0].release_rate: 0.0009 is out of range "
	       "0.001..1000");
    text_fails(POLR("  release_rate = 0;"),
	       "~:3: policies[0].release_rate: 0 is out of range "
	       "0.001..1000");
    text_fails(POLR("  release_rate = 1000.5;"),
	       "~:3: policies[0].release_rate: 1000.5 is out of range "
	       "0.001..1000");
    text_fails(POLR("  held_max_age = 31536001;"),
	       "~:3: policies[0].held_max_age: 31536001 is out of range "
	       "0..31536000 (seconds)");
    text_fails(POLR("  held_max_age = -1;"),
	       "~:3: policies[0].held_max_age: -1 is out of range "
	       "0..31536000 (seconds)");
}

/* The settings join the policy's digest: a milter and a scanner that
 * disagree on them see different policies. */
static void
release_digest(void **state)
{
    QC_CONFIG *a, *b, *c;

    (void) state;
    a = policy_loads(POLR(""));
    b = policy_loads(POLR("  release_held = \"metered\";"));
    c = policy_loads(POLR("  release_rate = 1; held_max_age = \"1d\";"));
    assert_true(a->policies[0].digest != b->policies[0].digest);
    assert_true(a->policies[0].digest == c->policies[0].digest);
    qc_free(a);
    qc_free(b);
    qc_free(c);
}

/* The policy key and action names are vocab.h's, value for value. */
static void
vocabulary(void **state)
{
    const CFG_ITEM *it, *pol = 0;
    int     i, n;

    (void) state;
    for (it = qc_table()->items; it->name; it++)
	if (strcmp(it->name, "policies") == 0)
	    pol = it;
    assert_non_null(pol);
    for (n = 0, it = pol->sub->items; it->name; it++) {
	if (it->type != CFG_ENUM)
	    continue;
	for (i = 0; it->names[i]; i++, n++) {
	    int     v = it->values ? it->values[i] : i;

	    if (strcmp(it->name, "release_held") == 0) {
		assert_string_equal(it->names[i], i == QC_RELEASE_MANUAL ?
				    "manual" : "metered");
		assert_int_equal(v, i);
	    } else if (strcmp(it->name, "key") == 0) {
		assert_int_equal(qs_kind_parse(it->names[i]), v);
		assert_string_equal(qc_key_name(v), it->names[i]);
	    } else {
		assert_int_equal(qs_action_parse(it->names[i]), v);
		assert_string_equal(qc_action_name(v), it->names[i]);
	    }
	}
    }
    /* key, action, local_action, release_held */
    assert_int_equal(n, 5 + 3 + 3 + 2);
}

/* Load text that must load; the caller frees. */
static QC_CONFIG *
loads(const char *text)
{
    char    err[8192], path[64];
    QC_CONFIG *c = load_text(text, path, sizeof(path), err, sizeof(err));

    if (c == 0)
	fail_msg("unexpected: %s", err);
    return c;
}

#define POL(extra) "policies = ( { name = \"p\"; key = \"sender\"; " \
	"action = \"tempfail\"; " extra " } );\n"

/*
 * The value checks, each at its edges: user and group names (useradd's
 * rule: letters, digits, '_', '.', '-' not first, '$' only last, at most
 * 32), policy names, control characters in paths, exempt senders.
 */
static void
value_checks(void **state)
{
    char    text[256];

    (void) state;
    text_loads("scanner = { user = \"\"; };\n");
    text_loads("scanner = { user = \"Az09_.b-\"; };\n");
    text_loads("scanner = { user = \"a$\"; };\n");
    text_loads("scanner = { user = \"abcdefghijklmnopqrstuvwxyz012345\"; };\n");
    text_fails("scanner = { user = \"abcdefghijklmnopqrstuvwxyz0123456\"; };\n",
	       "~:1: scanner.user: \"abcdefghijklmnopqrstuvwxyz0123456\" is "
	       "not a user or group name");
    text_fails("scanner = { user = \"-a\"; };\n",
	       "~:1: scanner.user: \"-a\" is not a user or group name");
    text_fails("scanner = { user = \"$\"; };\n",
	       "~:1: scanner.user: \"$\" is not a user or group name");
    text_fails("scanner = { user = \"a$b\"; };\n",
	       "~:1: scanner.user: \"a$b\" is not a user or group name");
    /* Each neighbour of an accepted range: / : @ [ ` { */
    {
	static const char *const bad[] = {"a/", "a:", "a@", "a[", "a`", "a{"};
	size_t  i;
	char    want[128];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	    snprintf(text, sizeof(text), "milter = { user = \"%s\"; };\n",
		     bad[i]);
	    snprintf(want, sizeof(want), "~:1: milter.user: \"%s\" is not a "
		     "user or group name", bad[i]);
	    text_fails(text, want);
	}
    }
    text_fails("milter = { user = \"a\\x1f\"; };\n",
	       "~:1: milter.user: not a user or group name");
    text_fails("group = \"\";\n", "~:1: group: must not be empty");
    text_loads("group = \"mail\";\n");

    /* Policy names: 1 to QC_NAME_MAX of [A-Za-z0-9_-]. */
    text_loads("policies = ( { name = \"Az09_-\"; key = \"sender\"; "
	       "action = \"log\"; } );\n");
    text_fails("policies = ( { name = \"\"; key = \"sender\"; "
	       "action = \"log\"; } );\n",
	       "~:1: policies[0].name: a policy name is 1 to 31 letters, "
	       "digits, '_' or '-'");
    text_fails("policies = ( { name = \"a.b\"; key = \"sender\"; "
	       "action = \"log\"; } );\n",
	       "~:1: policies[0].name: a policy name is 1 to 31 letters, "
	       "digits, '_' or '-'");
    text_loads("policies = ( { name = \"abcdefghijklmnopqrstuvwxyz01234\"; "
	       "key = \"sender\"; action = \"log\"; } );\n");
    text_fails("policies = ( { name = \"abcdefghijklmnopqrstuvwxyz012345\"; "
	       "key = \"sender\"; action = \"log\"; } );\n",
	       "~:1: policies[0].name: a policy name is 1 to 31 letters, "
	       "digits, '_' or '-'");

    /* Paths: a control character (0x1f, 0x7f) is refused, a space not. */
    text_loads("scanner = { pid_file = \"/run/a b.pid\"; };\n");
    text_fails("scanner = { pid_file = \"/run/a\\x1f.pid\"; };\n",
	       "~:1: scanner.pid_file: contains a control character");
    text_fails("scanner = { pid_file = \"/run/a\\x7f.pid\"; };\n",
	       "~:1: scanner.pid_file: contains a control character");
    text_loads("queue_directory = \"\";\n");	/* empty: Postfix's */
    text_loads("policies = ( );\n");
    text_fails("scanner = { pid_file = \"run/a.pid\"; };\n",
	       "~:1: scanner.pid_file: \"run/a.pid\" is not an absolute path");

    /* Exempt senders: no space, no control, no <>. */
    text_loads("exempt = { senders = [ \"a~@x\", \"!a@x\" ]; };\n");
    text_fails("exempt = { senders = [ \"a b@x\" ]; };\n",
	       "~:1: exempt.senders[0]: an address must not contain spaces "
	       "or control characters");
    text_fails("exempt = { senders = [ \"a\\x7f@x\" ]; };\n",
	       "~:1: exempt.senders[0]: an address must not contain spaces "
	       "or control characters");
    text_fails("exempt = { senders = [ \"<>\" ]; };\n",
	       "~:1: exempt.senders[0]: use null_sender = true for the null "
	       "sender");
    text_fails("exempt = { senders = [ \"<a@x>\" ]; };\n",
	       "~:1: exempt.senders[0]: \"<a@x>\": write the address without "
	       "<>");
    text_fails("exempt = { sasl_users = [ \"a b\" ]; };\n",
	       "~:1: exempt.sasl_users[0]: a SASL user name must not contain "
	       "spaces or control characters");
    text_loads("exempt = { sasl_users = [ \"a~b\" ]; };\n");
    /* Exempt domains: a control character first is that, not an empty
     * domain (an empty element is refused before any check). */
    text_fails("exempt = { domains = [ \"\\x01a.example\" ]; };\n",
	       "~:1: exempt.domains[0]: a domain must not contain spaces or "
	       "control characters");
    text_fails("exempt = { domains = [ \"\" ]; };\n",
	       "~:1: exempt.domains[0]: empty string");
}

/* What post_policy derives: the reply's parts, the default local action,
 * the queue mask over scanner.queues; duplicate names refused. */
static void
policy_derived(void **state)
{
    QC_CONFIG *c;

    (void) state;
    c = loads(POL("reply = \"451  4.7.1   Too much mail\"; "
		  "queues = [ \"deferred\", \"incoming\" ];"));
    assert_string_equal(c->policies[0].reply_code, "451");
    assert_string_equal(c->policies[0].reply_xcode, "4.7.1");
    assert_string_equal(c->policies[0].reply_text, "Too much mail");
    assert_int_equal(c->policies[0].local_action, QC_ACTION_HOLD);
    /* scanner.queues: incoming active deferred hold maildrop */
    assert_int_equal(c->policies[0].queue_mask, (1u << 2) | (1u << 0));
    qc_free(c);
    /* "4ever" is no enhanced status code (a digit, then a dot). */
    c = loads(POL("reply = \"451 4ever busy\";"));
    assert_string_equal(c->policies[0].reply_xcode, "");
    assert_string_equal(c->policies[0].reply_text, "4ever busy");
    qc_free(c);
    c = loads(POL("reply = \"451 Too much mail\";"));
    assert_string_equal(c->policies[0].reply_code, "451");
    assert_string_equal(c->policies[0].reply_xcode, "");
    assert_string_equal(c->policies[0].reply_text, "Too much mail");
    qc_free(c);
    c = loads("policies = ( { name = \"p\"; key = \"sender\"; "
	      "action = \"log\"; } );\n");
    assert_int_equal(c->policies[0].local_action, QC_ACTION_LOG);
    /* incoming, active, and maildrop (scanner.queues' fifth) by default
     * when local_action holds or logs (sendmail(1) floods wait there). */
    assert_int_equal(c->policies[0].queue_mask,
		     (1u << 0) | (1u << 1) | (1u << 4));
    qc_free(c);
    c = loads(POL("local_action = \"accept\";"));
    assert_int_equal(c->policies[0].local_action, QC_ACTION_ACCEPT);
    qc_free(c);
    text_fails(POL("local_action = \"tempfail\";"),
	       "~:1: policies[0].local_action: tempfail is not allowed here: "
	       "pickup(8) would retry the message every 60 seconds with a "
	       "new queue ID, forever; use hold, log or accept");
    text_fails("scanner = { queues = [ \"active\" ]; };\n" POL(""),
	       "~:2: policies[0].queues[0]: \"incoming\" is not in "
	       "scanner.queues");
    text_fails("policies = ( { name = \"p\"; key = \"sender\"; "
	       "action = \"log\"; },\n { name = \"q\"; key = \"sender\"; "
	       "action = \"log\"; },\n { name = \"p\"; key = \"sender\"; "
	       "action = \"log\"; } );\n",
	       "~:3: policies[2].name: duplicate policy name \"p\" (also "
	       "policies[0])");
}

/*
 * Policy identity (what the milter compares with the scanner's summary):
 * a policy's digest follows its settings, defaults included, and not its
 * place; the set's digest follows the order.
 */
static void
policy_identity(void **state)
{
    QC_CONFIG *a, *b;
    uint64_t p0, q0;

    (void) state;
    a = loads("policies = ( { name = \"p\"; key = \"sender\"; "
	      "action = \"log\"; },\n { name = \"q\"; key = \"sender\"; "
	      "action = \"hold\"; } );\n");
    p0 = a->policies[0].digest;
    q0 = a->policies[1].digest;
    assert_true(p0 != q0);
    assert_true(p0 != 0 && a->policies_digest != 0);
    /* The same settings, a default written out: the same digests. */
    b = loads("policies = ( { name = \"p\"; key = \"sender\"; "
	      "action = \"log\"; min_count = 50; },\n { name = \"q\"; "
	      "key = \"sender\"; action = \"hold\"; } );\n");
    assert_true(b->policies[0].digest == p0);
    assert_true(b->policies_digest == a->policies_digest);
    qc_free(b);
    /* One setting changed: that policy's digest and the set's. */
    b = loads("policies = ( { name = \"p\"; key = \"sender\"; "
	      "action = \"log\"; min_count = 51; },\n { name = \"q\"; "
	      "key = \"sender\"; action = \"hold\"; } );\n");
    assert_true(b->policies[0].digest != p0);
    assert_true(b->policies[1].digest == q0);
    assert_true(b->policies_digest != a->policies_digest);
    qc_free(b);
    /* Reordered: each policy keeps its digest, the set's changes. */
    b = loads("policies = ( { name = \"q\"; key = \"sender\"; "
	      "action = \"hold\"; },\n { name = \"p\"; key = \"sender\"; "
	      "action = \"log\"; } );\n");
    assert_true(b->policies[0].digest == q0);
    assert_true(b->policies[1].digest == p0);
    assert_true(b->policies_digest != a->policies_digest);
    qc_free(b);
    qc_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(capacity),
	cmocka_unit_test(exempt_limits),
	cmocka_unit_test(malformed_number),
	cmocka_unit_test(vocabulary),
	cmocka_unit_test(value_checks),
	cmocka_unit_test(policy_derived),
	cmocka_unit_test(policy_identity),
	cmocka_unit_test(release_settings),
	cmocka_unit_test(release_digest),
    };

    return cmocka_run_group_tests_name("conf_limits", tests, 0, 0);
}

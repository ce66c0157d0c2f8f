/*
 * Unit tests for heldsel, the selection of held messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "qshape/summary.h"
#include "heldsel.h"

#define NOW	1764662400

static HM_MARK
mark(const char *policy, int kind, const char *key, int64_t t)
{
    HM_MARK m;

    memset(&m, 0, sizeof(m));
    snprintf(m.policy, sizeof(m.policy), "%s", policy);
    m.kind = kind;
    m.key_len = strlen(key);
    memcpy(m.key, key, m.key_len);
    m.time = t;
    return m;
}

static HS_FILTER
nofilter(void)
{
    HS_FILTER f;

    memset(&f, 0, sizeof(f));
    f.key_kind = -1;
    return f;
}

/* No filter selects every marked message, never an unmarked one. */
static void
empty_filter(void **state)
{
    HS_FILTER f = nofilter();
    HM_MARK m = mark("flood", QS_KEY_SENDER_DOMAIN, "a.example", NOW - 5);

    (void) state;
    assert_int_equal(hs_filter_empty(&f), 1);
    assert_int_equal(hs_select(&f, &m, NOW), 1);
    assert_int_equal(hs_select(&f, 0, NOW), 0);
    f.policy = "x";
    assert_int_equal(hs_filter_empty(&f), 0);
    f = nofilter();
    f.have_key = 1;
    assert_int_equal(hs_filter_empty(&f), 0);
    f = nofilter();
    f.have_older_than = 1;
    assert_int_equal(hs_filter_empty(&f), 0);
}

static void
by_policy(void **state)
{
    HS_FILTER f = nofilter();
    HM_MARK m = mark("flood", QS_KEY_SENDER_DOMAIN, "a.example", NOW);

    (void) state;
    f.policy = "flood";
    assert_int_equal(hs_select(&f, &m, NOW), 1);
    f.policy = "floo";
    assert_int_equal(hs_select(&f, &m, NOW), 0);
    f.policy = "flood2";
    assert_int_equal(hs_select(&f, &m, NOW), 0);
    f.policy = "Flood";
    assert_int_equal(hs_select(&f, &m, NOW), 0);
    assert_int_equal(hs_select(&f, 0, NOW), 0);
}

static void
by_key(void **state)
{
    HS_FILTER f = nofilter();
    HM_MARK m = mark("flood", QS_KEY_SENDER_DOMAIN, "a.example", NOW);
    char    err[256];

    (void) state;
    assert_int_equal(hs_parse_key("sender_domain:a.example", &f, err,
				  sizeof(err)), 0);
    assert_int_equal(f.key_kind, QS_KEY_SENDER_DOMAIN);
    assert_int_equal(hs_select(&f, &m, NOW), 1);
    assert_int_equal(hs_parse_key("a.example", &f, err, sizeof(err)), 0);
    assert_int_equal(f.key_kind, -1);
    assert_int_equal(hs_select(&f, &m, NOW), 1);
    assert_int_equal(hs_parse_key("parent_domain:a.example", &f, err,
				  sizeof(err)), 0);
    assert_int_equal(hs_select(&f, &m, NOW), 0);
    assert_int_equal(hs_parse_key("a.exampl", &f, err, sizeof(err)), 0);
    assert_int_equal(hs_select(&f, &m, NOW), 0);
    assert_int_equal(hs_parse_key("a.examplee", &f, err, sizeof(err)), 0);
    assert_int_equal(hs_select(&f, &m, NOW), 0);
    assert_int_equal(hs_parse_key("A.example", &f, err, sizeof(err)), 0);
    assert_int_equal(hs_select(&f, &m, NOW), 0);
    /* Escapes as "held" prints them; a kind-like prefix that is not. */
    m = mark("p", QS_KEY_SENDER, "a b%c", NOW);
    assert_int_equal(hs_parse_key("sender:a%20b%25c", &f, err, sizeof(err)),
		     0);
    assert_int_equal(hs_select(&f, &m, NOW), 1);
    m = mark("p", QS_KEY_CLIENT_ADDRESS, "2001:db8::1", NOW);
    assert_int_equal(hs_parse_key("2001:db8::1", &f, err, sizeof(err)), 0);
    assert_int_equal(f.key_kind, -1);
    assert_int_equal(hs_select(&f, &m, NOW), 1);
    m = mark("p", QS_KEY_SENDER, "x:y", NOW);
    assert_int_equal(hs_parse_key("x:y", &f, err, sizeof(err)), 0);
    assert_int_equal(hs_select(&f, &m, NOW), 1);
    /* Refused. */
    assert_int_equal(hs_parse_key("", &f, err, sizeof(err)), -1);
    assert_string_equal(err, "--key: empty key");
    assert_int_equal(hs_parse_key("sender:", &f, err, sizeof(err)), -1);
    assert_int_equal(hs_parse_key("a b", &f, err, sizeof(err)), -1);
    assert_int_equal(hs_parse_key("a%2", &f, err, sizeof(err)), -1);
}

/* A truncated mark matches a filter key that starts with its bytes. */
static void
by_truncated_key(void **state)
{
    HS_FILTER f = nofilter();
    HM_MARK m;
    char    arg[HM_KEY_MAX + 8];
    char    err[256];

    (void) state;
    memset(arg, 'k', sizeof(arg));
    arg[HM_KEY_MAX + 5] = 0;
    m = mark("p", QS_KEY_SASL_USERNAME, "", NOW);
    memset(m.key, 'k', HM_KEY_MAX);
    m.key_len = HM_KEY_MAX;
    m.truncated = 1;
    assert_int_equal(hs_parse_key(arg, &f, err, sizeof(err)), 0);
    assert_int_equal(f.key_len, HM_KEY_MAX + 5);
    assert_int_equal(hs_select(&f, &m, NOW), 1);
    arg[HM_KEY_MAX] = 0;			/* exactly the kept bytes */
    assert_int_equal(hs_parse_key(arg, &f, err, sizeof(err)), 0);
    assert_int_equal(hs_select(&f, &m, NOW), 1);
    arg[HM_KEY_MAX - 1] = 0;			/* one short */
    assert_int_equal(hs_parse_key(arg, &f, err, sizeof(err)), 0);
    assert_int_equal(hs_select(&f, &m, NOW), 0);
    arg[HM_KEY_MAX - 1] = 'k';
    arg[10] = 'j';				/* differs inside */
    assert_int_equal(hs_parse_key(arg, &f, err, sizeof(err)), 0);
    assert_int_equal(hs_select(&f, &m, NOW), 0);
    /* Not truncated: a longer filter key does not match. */
    arg[10] = 'k';
    m.truncated = 0;
    arg[HM_KEY_MAX] = 'k';
    arg[HM_KEY_MAX + 1] = 0;
    assert_int_equal(hs_parse_key(arg, &f, err, sizeof(err)), 0);
    assert_int_equal(hs_select(&f, &m, NOW), 0);
}

/* --older-than: more than that old; exactly that old is not. */
static void
by_age_boundary(void **state)
{
    HS_FILTER f = nofilter();
    HM_MARK m = mark("flood", QS_KEY_SENDER_DOMAIN, "a.example", 0);

    (void) state;
    f.have_older_than = 1;
    f.older_than = 7200;
    m.time = NOW - 7200;
    assert_int_equal(hs_select(&f, &m, NOW), 0);
    m.time = NOW - 7201;
    assert_int_equal(hs_select(&f, &m, NOW), 1);
    m.time = NOW - 7199;
    assert_int_equal(hs_select(&f, &m, NOW), 0);
    /* Held "in the future" (a clock step): not older than anything. */
    f.older_than = 0;
    m.time = NOW + 1;
    assert_int_equal(hs_select(&f, &m, NOW), 0);
    m.time = NOW;
    assert_int_equal(hs_select(&f, &m, NOW), 0);
    m.time = NOW - 1;
    assert_int_equal(hs_select(&f, &m, NOW), 1);
}

/* All filters at once: each one alone can refuse. */
static void
all_filters(void **state)
{
    HS_FILTER f = nofilter();
    HM_MARK m = mark("flood", QS_KEY_SENDER_DOMAIN, "a.example", NOW - 100);
    char    err[256];

    (void) state;
    f.policy = "flood";
    assert_int_equal(hs_parse_key("sender_domain:a.example", &f, err,
				  sizeof(err)), 0);
    f.have_older_than = 1;
    f.older_than = 99;
    assert_int_equal(hs_select(&f, &m, NOW), 1);
    f.older_than = 100;
    assert_int_equal(hs_select(&f, &m, NOW), 0);
    f.older_than = 99;
    f.policy = "other";
    assert_int_equal(hs_select(&f, &m, NOW), 0);
    f.policy = "flood";
    m.kind = QS_KEY_PARENT_DOMAIN;
    assert_int_equal(hs_select(&f, &m, NOW), 0);
}

static void
durations(void **state)
{
    static const struct {
	const char *arg;
	int64_t want;			/* -1: refused */
    } cases[] = {
	{"0", 0}, {"90", 90}, {"90s", 90}, {"15m", 900}, {"2h", 7200},
	{"3d", 259200}, {"1w", 604800}, {"3155760000", 3155760000LL},
	{"100y", -1}, {"", -1}, {"h", -1}, {"-1", -1}, {"+1", -1},
	{"1hh", -1}, {"1.5h", -1}, {"2H", -1}, {" 2h", -1}, {"2h ", -1},
	{"3162240000", 3162240000LL}, {"3162240001", -1}, {"5229w", -1},
	{"5228w", 5228LL * 604800},
	{"99999999999999999999999", -1},
    };
    char    err[256];
    int64_t v;
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	v = -7;
	if (hs_parse_duration(cases[i].arg, &v, err, sizeof(err)) < 0)
	    v = -1;
	if (v != cases[i].want)
	    fail_msg("\"%s\": got %lld, want %lld", cases[i].arg,
		     (long long) v, (long long) cases[i].want);
    }
    assert_int_equal(hs_parse_duration("x", &v, err, sizeof(err)), -1);
    assert_string_equal(err, "bad duration \"x\" (want a number with an "
			"optional unit s, m, h, d or w, at most 100 years)");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(empty_filter),
	cmocka_unit_test(by_policy),
	cmocka_unit_test(by_key),
	cmocka_unit_test(by_truncated_key),
	cmocka_unit_test(by_age_boundary),
	cmocka_unit_test(all_filters),
	cmocka_unit_test(durations),
    };

    return cmocka_run_group_tests_name("heldsel", tests, 0, 0);
}

/*
 * Unit tests for holdmark, the hold mark's format and parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "qshape/summary.h"
#include "holdmark.h"

/* The exact strings the milter writes. */
static void
format_exact(void **state)
{
    char    v[HM_VALUE_MAX];

    (void) state;
    assert_int_equal(hm_format(v, sizeof(v), "flood", QS_KEY_SENDER_DOMAIN,
			       "example.com", 11, 1764662400), 58);
    assert_string_equal(v, "policy=flood key=sender_domain:example.com "
			"time=1764662400");
    assert_int_equal(hm_format(v, sizeof(v), "Local_2-x", QS_KEY_SENDER,
			       "a b%c\"d\\e", 9, 0), 48);
    assert_string_equal(v, "policy=Local_2-x key=sender:a%20b%25c\"d\\e "
			"time=0");
    assert_true(hm_format(v, sizeof(v), "p", QS_KEY_CLIENT_ADDRESS,
			  "2001:db8::1", 11, 1) > 0);
    assert_string_equal(v, "policy=p key=client_address:2001:db8::1 time=1");
    assert_true(hm_format(v, sizeof(v), "p", QS_KEY_SASL_USERNAME,
			  "\0\n\r\t\x7f\x80\xff", 7, 1) > 0);
    assert_string_equal(v, "policy=p key=sasl_username:%00%0A%0D%09%7F%80%FF"
			" time=1");
    assert_true(hm_format(v, sizeof(v), "p", QS_KEY_PARENT_DOMAIN,
			  "example.co.uk", 13, INT64_MAX) > 0);
    assert_string_equal(v, "policy=p key=parent_domain:example.co.uk "
			"time=9223372036854775807");
}

/* What the formatter refuses. */
static void
format_refuses(void **state)
{
    char    v[HM_VALUE_MAX];
    char    longname[HM_POLICY_MAX + 2];

    (void) state;
    memset(longname, 'p', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    assert_int_equal(hm_format(v, sizeof(v), longname, 0, "k", 1, 1), -1);
    longname[HM_POLICY_MAX] = 0;		/* 31 bytes: fine */
    assert_true(hm_format(v, sizeof(v), longname, 0, "k", 1, 1) > 0);
    assert_int_equal(hm_format(v, sizeof(v), "", 0, "k", 1, 1), -1);
    assert_int_equal(hm_format(v, sizeof(v), "a b", 0, "k", 1, 1), -1);
    assert_int_equal(hm_format(v, sizeof(v), "a.b", 0, "k", 1, 1), -1);
    assert_int_equal(hm_format(v, sizeof(v), 0, 0, "k", 1, 1), -1);
    assert_int_equal(hm_format(v, sizeof(v), "p", QS_KEY_RCPT_DOMAIN, "k",
			       1, 1), -1);
    assert_int_equal(hm_format(v, sizeof(v), "p", -1, "k", 1, 1), -1);
    assert_int_equal(hm_format(v, sizeof(v), "p", QS_NKEYKINDS, "k", 1, 1),
		     -1);
    assert_int_equal(hm_format(v, sizeof(v), "p", 0, "k", 0, 1), -1);
    assert_int_equal(hm_format(v, sizeof(v), "p", 0, 0, 1, 1), -1);
    assert_int_equal(hm_format(v, sizeof(v), "p", 0, "k", 1, -1), -1);
    /* The buffer: exactly the length plus the NUL, and one less. */
    assert_int_equal(hm_format(v, 36, "p", 0, "k", 1, 1), 35);
    assert_int_equal(hm_format(v, 35, "p", 0, "k", 1, 1), -1);
}

/* The longest value fits HM_VALUE_MAX exactly; longer keys are cut. */
static void
format_longest(void **state)
{
    char    v[HM_VALUE_MAX];
    char    key[HM_KEY_MAX + 1];
    HM_MARK m;

    (void) state;
    memset(key, ' ', sizeof(key));
    assert_int_equal(hm_format(v, sizeof(v), "ppppppppppppppppppppppppppppppp",
			       QS_KEY_CLIENT_ADDRESS, key, HM_KEY_MAX + 1,
			       INT64_MAX), HM_VALUE_MAX - 1);
    assert_int_equal(hm_parse(v, strlen(v), &m), HM_OK);
    assert_int_equal(m.key_len, HM_KEY_MAX);
    assert_int_equal(m.truncated, 1);
    assert_int_equal(m.kind, QS_KEY_CLIENT_ADDRESS);
    /* Exactly HM_KEY_MAX bytes: kept whole, not marked. */
    assert_true(hm_format(v, sizeof(v), "p", 0, key, HM_KEY_MAX, 1) > 0);
    assert_null(strstr(v, "truncated"));
    assert_int_equal(hm_parse(v, strlen(v), &m), HM_OK);
    assert_int_equal(m.key_len, HM_KEY_MAX);
    assert_int_equal(m.truncated, 0);
}

/* Every byte value survives a round trip, in every position. */
static void
round_trip(void **state)
{
    char    v[HM_VALUE_MAX];
    unsigned char key[HM_KEY_MAX];
    HM_MARK m;
    int     c, kind;

    (void) state;
    for (c = 0; c < 256; c++) {
	key[0] = (unsigned char) c;
	key[1] = 'x';
	key[2] = (unsigned char) c;
	kind = c % 5;
	assert_true(hm_format(v, sizeof(v), "r", kind, key, 3,
			      1764662400 + c) > 0);
	assert_int_equal(strspn(v, "abcdefghijklmnopqrstuvwxyz"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				" !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
			 strlen(v));
	assert_int_equal(hm_parse(v, strlen(v), &m), HM_OK);
	assert_string_equal(m.policy, "r");
	assert_int_equal(m.kind, kind);
	assert_int_equal(m.key_len, 3);
	assert_memory_equal(m.key, key, 3);
	assert_int_equal(m.time, 1764662400 + c);
	assert_int_equal(m.truncated, 0);
    }
}

/* The header's value as qf returns it: white space after the colon. */
static void
parse_exact(void **state)
{
    static const char v[] = " policy=flood key=sender_domain:example.com "
	"time=1764662400";
    HM_MARK m;

    (void) state;
    assert_int_equal(hm_parse(v, sizeof(v) - 1, &m), HM_OK);
    assert_string_equal(m.policy, "flood");
    assert_int_equal(m.kind, QS_KEY_SENDER_DOMAIN);
    assert_string_equal(m.key, "example.com");
    assert_int_equal(m.key_len, 11);
    assert_int_equal(m.time, 1764662400);
    assert_int_equal(m.truncated, 0);
    assert_int_equal(hm_parse(v + 1, sizeof(v) - 2, &m), HM_OK);
    assert_int_equal(hm_parse("\tpolicy=a key=sender:b time=0", 29, &m),
		     HM_OK);
    /* The length decides, not a NUL. */
    assert_int_equal(hm_parse(v, sizeof(v) - 2, &m), HM_OK);
    assert_int_equal(m.time, 176466240);
}

/* Hostile and malformed values: each refused with its reason. */
static void
parse_refuses(void **state)
{
    static const struct {
	const char *v;
	HM_STATUS want;
    } cases[] = {
	{"", HM_BAD_SYNTAX},
	{"policy=a key=sender:b", HM_BAD_SYNTAX},
	{"policy=a key=sender:b time=1 ", HM_BAD_SYNTAX},
	{"policy=a key=sender:b time=1 truncated=0", HM_BAD_SYNTAX},
	{"policy=a key=sender:b time=1 other=1", HM_BAD_SYNTAX},
	{"policy=a  key=sender:b time=1", HM_BAD_SYNTAX},
	{"policy=a\tkey=sender:b time=1", HM_BAD_POLICY},
	{"key=sender:b policy=a time=1", HM_BAD_SYNTAX},
	{"Policy=a key=sender:b time=1", HM_BAD_SYNTAX},
	{"policy= key=sender:b time=1", HM_BAD_POLICY},
	{"policy=a.b key=sender:b time=1", HM_BAD_POLICY},
	{"policy=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa key=sender:b time=1",
	HM_BAD_POLICY},
	{"policy=a key=rcpt_domain:b time=1", HM_BAD_KIND},
	{"policy=a key=Sender:b time=1", HM_BAD_KIND},
	{"policy=a key=:b time=1", HM_BAD_KIND},
	{"policy=a key=b time=1", HM_BAD_KIND},
	{"policy=a key=sender: time=1", HM_BAD_KEY},
	{"policy=a key=sender:% time=1", HM_BAD_KEY},
	{"policy=a key=sender:%4 time=1", HM_BAD_KEY},
	{"policy=a key=sender:%4g time=1", HM_BAD_KEY},
	{"policy=a key=sender:%4a time=1", HM_BAD_KEY},
	{"policy=a key=sender:b\x01 time=1", HM_BAD_KEY},
	{"policy=a key=sender:b\x7f time=1", HM_BAD_KEY},
	{"policy=a key=sender:\xc3\xa9 time=1", HM_BAD_KEY},
	{"policy=a key=sender:b time=", HM_BAD_TIME},
	{"policy=a key=sender:b time=-1", HM_BAD_TIME},
	{"policy=a key=sender:b time=+1", HM_BAD_TIME},
	{"policy=a key=sender:b time=01", HM_BAD_TIME},
	{"policy=a key=sender:b time=1x", HM_BAD_TIME},
	{"policy=a key=sender:b time=9223372036854775808", HM_BAD_TIME},
	{"policy=a key=sender:b time=10000000000000000000", HM_BAD_TIME},
	{"policy=a key=sender:b time=1 truncated=1", HM_BAD_KEY},
    };
    HM_MARK m;
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	HM_STATUS st = hm_parse(cases[i].v, strlen(cases[i].v), &m);

	if (st != cases[i].want)
	    fail_msg("\"%s\": got %s, want %s", cases[i].v, hm_strerror(st),
		     hm_strerror(cases[i].want));
    }
}

/* A key of more than HM_KEY_MAX bytes is refused when not marked. */
static void
parse_key_bounds(void **state)
{
    char    v[64 + 3 * (HM_KEY_MAX + 1)];
    char    ekey[3 * (HM_KEY_MAX + 1) + 1];
    char    key[HM_KEY_MAX + 1];
    HM_MARK m;

    (void) state;
    memset(key, '%', sizeof(key));
    hm_key_encode(key, HM_KEY_MAX + 1, ekey);
    snprintf(v, sizeof(v), "policy=a key=sender:%s time=1", ekey);
    assert_int_equal(hm_parse(v, strlen(v), &m), HM_BAD_KEY);
    hm_key_encode(key, HM_KEY_MAX, ekey);
    snprintf(v, sizeof(v), "policy=a key=sender:%s time=1", ekey);
    assert_int_equal(hm_parse(v, strlen(v), &m), HM_OK);
    assert_int_equal(m.key_len, HM_KEY_MAX);
    assert_int_equal(m.key[HM_KEY_MAX], 0);
}

static void
key_codec(void **state)
{
    char    out[16];
    size_t  n;

    (void) state;
    assert_int_equal(hm_key_encode("a%b c", 5, out), 9);
    assert_string_equal(out, "a%25b%20c");
    assert_int_equal(hm_key_decode("a%25b%20c", 9, out, sizeof(out), &n),
		     HM_OK);
    assert_int_equal(n, 5);
    assert_string_equal(out, "a%b c");
    /* out holds outlen - 1 bytes and the NUL. */
    assert_int_equal(hm_key_decode("abc", 3, out, 4, &n), HM_OK);
    assert_int_equal(hm_key_decode("abcd", 4, out, 4, &n), HM_BAD_KEY);
    assert_int_equal(hm_key_decode("a b", 3, out, sizeof(out), &n),
		     HM_BAD_KEY);
    assert_string_equal(hm_strerror(HM_BAD_KEY), "bad key");
    assert_string_equal(hm_strerror(HM_NSTATUS), "unknown");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(format_exact),
	cmocka_unit_test(format_refuses),
	cmocka_unit_test(format_longest),
	cmocka_unit_test(round_trip),
	cmocka_unit_test(parse_exact),
	cmocka_unit_test(parse_refuses),
	cmocka_unit_test(parse_key_bounds),
	cmocka_unit_test(key_codec),
    };

    return cmocka_run_group_tests_name("holdmark", tests, 0, 0);
}

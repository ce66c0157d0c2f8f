/*
 * Unit tests for cidr, client networks: IPv4-mapped networks are stored
 * as the IPv4 network they map, so that they match IPv4 clients as
 * Postfix presents them (AF_INET).  test_conf.c's networks test covers
 * the rest of the syntax.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "cidr.h"

/* Does the address text match the network text? */
static int
matches(const char *net, const char *addr)
{
    unsigned char a[16];
    char    err[256];
    QC_NET  n;
    int     fam = strchr(addr, ':') ? AF_INET6 : AF_INET;

    if (qc_net_parse(net, &n, err, sizeof(err)) != 0)
	fail_msg("\"%s\": %s", net, err);
    assert_int_equal(inet_pton(fam, addr, a), 1);
    return qc_net_match(&n, fam, a);
}

static void
mapped_parse(void **state)
{
    static const struct {
	const char *net;
	int     family, prefix;
	const char *addr;		/* as stored, in its family */
    } cases[] = {
	{"::ffff:192.0.2.0/120", AF_INET, 24, "192.0.2.0"},
	{"::FFFF:192.0.2.0/120", AF_INET, 24, "192.0.2.0"},
	{"::ffff:c000:200/120", AF_INET, 24, "192.0.2.0"},
	{"::ffff:192.0.2.1", AF_INET, 32, "192.0.2.1"},
	{"::ffff:192.0.2.1/128", AF_INET, 32, "192.0.2.1"},
	{"::ffff:0.0.0.0/96", AF_INET, 0, "0.0.0.0"},	/* every IPv4 */
	{"::ffff:128.0.0.0/97", AF_INET, 1, "128.0.0.0"},
	/* Not inside ::ffff:0:0/96: stays IPv6. */
	{"::fffe:0:0/95", AF_INET6, 95, "::fffe:0:0"},
	{"::/0", AF_INET6, 0, "::"},
	{"::192.0.2.0/120", AF_INET6, 120, "::192.0.2.0"},
	{"64:ff9b::192.0.2.0/120", AF_INET6, 120, "64:ff9b::c000:200"},
	{"::1:ffff:192.0.2.0/120", AF_INET6, 120, "::1:ffff:c000:200"},
    };
    unsigned char want[16];
    char    err[256];
    QC_NET  n;
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	if (qc_net_parse(cases[i].net, &n, err, sizeof(err)) != 0)
	    fail_msg("\"%s\": %s", cases[i].net, err);
	assert_int_equal(n.family, cases[i].family);
	assert_int_equal(n.prefix, cases[i].prefix);
	memset(want, 0, sizeof(want));
	assert_int_equal(inet_pton(cases[i].family, cases[i].addr, want), 1);
	assert_memory_equal(n.addr, want, sizeof(want));
    }
    /* Host bits are judged as written. */
    assert_int_equal(qc_net_parse("::ffff:192.0.2.1/120", &n, err,
				  sizeof(err)), -1);
    assert_string_equal(err, "\"::ffff:192.0.2.1/120\" has host bits set "
			"(the network is ::ffff:192.0.2.0/120)");
}

/* Issue 7: the exemption ::ffff:192.0.2.0/120 never matched an IPv4
 * client, which the milter gets as AF_INET. */
static void
mapped_match(void **state)
{
    (void) state;
    assert_int_equal(matches("::ffff:192.0.2.0/120", "192.0.2.9"), 1);
    assert_int_equal(matches("::ffff:192.0.2.0/120", "192.0.2.0"), 1);
    assert_int_equal(matches("::ffff:192.0.2.0/120", "192.0.2.255"), 1);
    assert_int_equal(matches("::ffff:192.0.2.0/120", "192.0.3.0"), 0);
    assert_int_equal(matches("::ffff:192.0.2.0/120", "192.0.1.255"), 0);
    /* The mapped client form matches too, and the IPv4 network alike. */
    assert_int_equal(matches("::ffff:192.0.2.0/120", "::ffff:192.0.2.9"), 1);
    assert_int_equal(matches("::ffff:192.0.2.0/120", "::ffff:192.0.3.9"), 0);
    assert_int_equal(matches("192.0.2.0/24", "::ffff:192.0.2.9"), 1);
    assert_int_equal(matches("::ffff:192.0.2.7", "192.0.2.7"), 1);
    assert_int_equal(matches("::ffff:192.0.2.7", "192.0.2.8"), 0);
    assert_int_equal(matches("::ffff:0.0.0.0/96", "203.0.113.1"), 1);
    assert_int_equal(matches("::ffff:0.0.0.0/96", "2001:db8::1"), 0);
    /* A mapped network never matches a real IPv6 address. */
    assert_int_equal(matches("::ffff:192.0.2.0/120", "::c000:209"), 0);
    /* IPv6 networks: IPv6 clients only. */
    assert_int_equal(matches("::/0", "192.0.2.9"), 0);
    assert_int_equal(matches("::/0", "2001:db8::1"), 1);
    assert_int_equal(matches("::fffe:0:0/95", "::ffff:192.0.2.9"), 1);
    assert_int_equal(matches("::fffe:0:0/95", "192.0.2.9"), 0);
}

/* A prefix decides at its last bit, in both families. */
static void
prefix_edges(void **state)
{
    (void) state;
    assert_int_equal(matches("10.0.0.0/31", "10.0.0.1"), 1);
    assert_int_equal(matches("10.0.0.0/31", "10.0.0.2"), 0);
    assert_int_equal(matches("10.0.0.0/7", "11.255.255.255"), 1);
    assert_int_equal(matches("10.0.0.0/7", "12.0.0.0"), 0);
    assert_int_equal(matches("2001:db8::/127", "2001:db8::1"), 1);
    assert_int_equal(matches("2001:db8::/127", "2001:db8::2"), 0);
    assert_int_equal(matches("192.0.2.0/24", "2001:db8::1"), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(mapped_parse),
	cmocka_unit_test(mapped_match),
	cmocka_unit_test(prefix_edges),
    };

    return cmocka_run_group_tests_name("cidr", tests, 0, 0);
}

/*
 * Unit tests for addr, qshape's domain normalisation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"

#define S(lit)	lit, sizeof(lit) - 1

static void
domains(void **state)
{
    static const struct {
	const char *in;
	size_t  len;
	const char *want;
    } t[] = {
	{S("Flood@Spam.Example"), "spam.example"},
	{S(""), "MAILER-DAEMON"},
	{S("root"), "root"},
	{S("a@b@C.d"), "c.d"},
	{S("u@example.com."), "example.com"},
	{S("u@.example.com"), "example.com"},
	{S("u@..example.com"), "example.com"},
	{S("u@...example.com"), ".example.com"},
	{S("u@a...b"), "a..b"},
	{S("u@"), ""},
	{S("u@."), "."},
	{S("u@.."), "."},
	{S("u@[192.0.2.1]"), "[192.0.2.1]"},
	{S("\"a@b\"@x.example"), "x.example"},
	{S("u@ÉXAMPLE.com"), "Éxample.com"},	/* ASCII-only lower case */
	{S("a\nb@c.d"), "a\nc.d"},		/* Perl '.' skips newlines */
	{S("x\0y@z.example"), "z.example"},
    };
    char    out[256];
    size_t  i, n;

    (void) state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
	n = addr_qshape_domain(t[i].in, t[i].len, out);
	if (n != strlen(t[i].want) || memcmp(out, t[i].want, n) != 0)
	    fail_msg("%s: got \"%.*s\", want \"%s\"", t[i].in, (int) n, out,
		     t[i].want);
	assert_int_equal(out[n], 0);
    }
}

static void
parents(void **state)
{
    char    buf[64];
    size_t  n;

    (void) state;
    strcpy(buf, "a.b.example.com");
    n = addr_qshape_parent(buf, strlen(buf), buf);
    assert_string_equal(buf, ".b.example.com");
    n = addr_qshape_parent(buf, n, buf);
    assert_string_equal(buf, ".example.com");
    assert_int_equal(n, 12);
    assert_int_equal(addr_qshape_parent(buf, n, buf), 0);	/* no TLD */
    assert_int_equal(addr_qshape_parent(S("example.com"), buf), 0);
    assert_int_equal(addr_qshape_parent(S("MAILER-DAEMON"), buf), 0);
    assert_int_equal(addr_qshape_parent(S(".."), buf), 0);
    assert_int_equal(addr_qshape_parent(S(""), buf), 0);
    n = addr_qshape_parent(S("a..b.com"), buf);
    assert_string_equal(buf, "..b.com");
    assert_int_equal(addr_qshape_parent(buf, n, buf), 0);
    /* The last dot must come before any newline. */
    assert_int_equal(addr_qshape_parent(S("a.b\n.c"), buf), 0);
    n = addr_qshape_parent(S("a.b.c\nd"), buf);
    assert_string_equal(buf, ".b.c\nd");
}

/* The same step as an offset: the parent is the suffix at the dot. */
static void
parent_offsets(void **state)
{
    (void) state;
    assert_int_equal(addr_qshape_parent_at(S("a.b.example.com")), 1);
    assert_int_equal(addr_qshape_parent_at(S(".b.example.com")), 2);
    assert_int_equal(addr_qshape_parent_at(S("mail.shop.co.uk")), 4);
    assert_int_equal(addr_qshape_parent_at(S(".example.com")), 0);
    assert_int_equal(addr_qshape_parent_at(S("example.com")), 0);
    assert_int_equal(addr_qshape_parent_at(S("a..b.com")), 1);
    assert_int_equal(addr_qshape_parent_at(S("..b.com")), 0);
    assert_int_equal(addr_qshape_parent_at(S("a.b\n.c")), 0);
    assert_int_equal(addr_qshape_parent_at(S("a.b.c\nd")), 1);
    assert_int_equal(addr_qshape_parent_at(S("")), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(domains),
	cmocka_unit_test(parents),
	cmocka_unit_test(parent_offsets),
    };

    return cmocka_run_group_tests_name("addr", tests, 0, 0);
}

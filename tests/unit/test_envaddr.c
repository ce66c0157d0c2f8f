/*
 * Unit tests for envaddr: MAIL FROM's argument -> the sender Postfix
 * writes into the queue file.  One table: the input, the expected output
 * and flags, and which Postfix step decides it.  The e2e tier
 * (tests/e2e/test_milter.sh, sender_forms) checks the same forms against
 * a real Postfix.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "envaddr.h"

static const struct {
    const char *in;
    const char *out;
    int     flags;
} table[] = {
    /* Plain: brackets go, case stays. */
    {"<spammer@evil.example>", "spammer@evil.example", 0},
    {"<SPAMMER@Evil.Example>", "SPAMMER@Evil.Example", 0},
    {"spammer@evil.example", "spammer@evil.example", 0},
    {"<>", "", 0},
    {"", "", 0},
    /* Only one pair, and only when both ends are there. */
    {"<<a@b>>", "a@b", ENVADDR_UNMODELLED},
    {"<a@b", "a@b", ENVADDR_UNMODELLED},
    /* Quoted local parts and escapes (tok822_scan). */
    {"<\"spammer\"@evil.example>", "spammer@evil.example", ENVADDR_QUOTED},
    {"<\"spam\\\"mer\"@evil.example>", "spam\"mer@evil.example",
     ENVADDR_QUOTED},
    {"<\"a b\"@evil.example>", "a b@evil.example", ENVADDR_QUOTED},
    {"<\"a\tb\"@x.example>", "a b@x.example", ENVADDR_QUOTED},
    {"<\"a@b\"@evil.example>", "a@b@evil.example", ENVADDR_QUOTED},
    {"<sp\\am@evil.example>", "spam@evil.example", ENVADDR_QUOTED},
    {"<\"sp\"am@evil.example>", "spam@evil.example",
     ENVADDR_QUOTED | ENVADDR_UNMODELLED},
    {"<\"unterminated@evil.example>", "unterminated@evil.example",
     ENVADDR_QUOTED},
    {"<\"spammer\"@\"evil.example\">", "spammer@evil.example",
     ENVADDR_QUOTED},
    /* Comments are not part of the address; white space separates. */
    {"<spammer(hi (there))@evil.example>", "spammer@evil.example", 0},
    {"< spammer @ evil . example >", "spammer@evil.example", 0},
    /* Source routes: smtpd cuts through the first ':', cleanup once more. */
    {"<@relay.example:spammer@evil.example>", "spammer@evil.example",
     ENVADDR_ROUTE},
    {"<@a.example,@b.example:spammer@evil.example>",
     "spammer@evil.example", ENVADDR_ROUTE},
    {"<@a:@b:spammer@evil.example>", "spammer@evil.example", ENVADDR_ROUTE},
    {"<@a:@b:@c:spammer@evil.example>", "@c:spammer@evil.example",
     ENVADDR_ROUTE},
    {"<@relay.example>", "@relay.example", 0},
    /* The domain's trailing dot, but not after a dot or the '@'. */
    {"<spammer@evil.example.>", "spammer@evil.example",
     ENVADDR_TRAILING_DOT},
    {"<spammer@evil.example..>", "spammer@evil.example..", 0},
    {"<spammer@.>", "spammer@.", 0},
    {"<spammer@[192.0.2.1].>", "spammer@[192.0.2.1]", ENVADDR_TRAILING_DOT},
    {"<\"x.\"@evil.example>", "x.@evil.example", ENVADDR_QUOTED},
    /* Domain literals keep their brackets; an open one gets its ']'. */
    {"<a@[192.0.2.1]>", "a@[192.0.2.1]", 0},
    {"[", "[]", ENVADDR_UNQUALIFIED},
    /* No domain: bang path and percent hack, Postfix's defaults. */
    {"<evil.example!spammer>", "spammer@evil.example", ENVADDR_REWRITTEN},
    {"<a!b!c>", "b!c@a", ENVADDR_REWRITTEN},
    {"<spammer%evil.example>", "spammer@evil.example", ENVADDR_REWRITTEN},
    {"<a%b%c>", "a%b@c", ENVADDR_REWRITTEN},
    /* Not a dot-string (final dot): quote_822_local() quotes it. */
    {"<spammer%evil.example.>", "spammer%evil.example.",
     ENVADDR_UNQUALIFIED},
    {"<\"a b%c\">", "a b%c", ENVADDR_QUOTED | ENVADDR_UNQUALIFIED},
    {"<root>", "root", ENVADDR_UNQUALIFIED},
    /* With a domain, '!' and '%' stay. */
    {"<a%b@evil.example>", "a%b@evil.example", 0},
    /* Not one address: best effort, flagged. */
    {"<a b@c>", "ab@c", ENVADDR_UNMODELLED},
    {"Name <a@b>", "Namea@b", ENVADDR_UNMODELLED},
    {"<a@b,c@d>", "a@bc@d", ENVADDR_UNMODELLED},
    /* A domain that would tokenize differently in cleanup. */
    {"<a@\"b c\">", "a@b c", ENVADDR_QUOTED | ENVADDR_UNMODELLED},
    /* A trailing backslash ends the input. */
    {"a@b\\", "a@b", 0},
    /* Bytes above 127 are data. */
    {"<j\xc3\xbcrgen@b\xc3\xbc" "cher.example>",
     "j\xc3\xbcrgen@b\xc3\xbc" "cher.example", 0},
};

static void
forms(void **state)
{
    char    out[256];
    size_t  i, n;
    int     flags;

    (void) state;
    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
	n = envaddr_internal(table[i].in, strlen(table[i].in), out, &flags);
	if (strcmp(out, table[i].out) != 0 || flags != table[i].flags)
	    fail_msg("%s: got \"%s\" flags %#x, want \"%s\" flags %#x",
		     table[i].in, out, (unsigned) flags, table[i].out,
		     (unsigned) table[i].flags);
	assert_int_equal(n, strlen(table[i].out));
    }
}

/* The input ends at len or at a NUL: nothing beyond is read (a buffer of
 * exactly len bytes, so ASan sees any over-read), and the output fits
 * ENVADDR_BUFSIZE(len) (its last byte a guard). */
static void
bounds(void **state)
{
    static const char *const inputs[] = {
	"\"", "\\", "(", "[", "<", "@", "@:", "\"\\", "[\\", "(\\",
	"<@a:[x", "a!", "!b", "%", "a.", "x@y.",
    };
    char   *in, *out;
    size_t  i, len, n;

    (void) state;
    for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
	len = strlen(inputs[i]);
	in = malloc(len ? len : 1);
	out = malloc(ENVADDR_BUFSIZE(len) + 1);
	memcpy(in, inputs[i], len);
	out[ENVADDR_BUFSIZE(len)] = 'G';
	n = envaddr_internal(in, len, out, 0);
	assert_true(n + 1 <= ENVADDR_BUFSIZE(len));
	assert_int_equal(out[ENVADDR_BUFSIZE(len)], 'G');
	free(in);
	free(out);
    }
    /* An embedded NUL ends the address. */
    {
	char    buf[32];

	n = envaddr_internal("<a@b>\0<c@d>", 11, buf, 0);
	assert_string_equal(buf, "a@b");
	assert_int_equal(n, 3);
    }
    /* "a!" and "!b": the parts around the bang, empty ones included. */
    {
	char    buf[8];

	envaddr_internal("a!", 2, buf, 0);
	assert_string_equal(buf, "@a");
	envaddr_internal("!b", 2, buf, 0);
	assert_string_equal(buf, "b@");
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(forms),
	cmocka_unit_test(bounds),
    };

    return cmocka_run_group_tests_name("envaddr", tests, 0, 0);
}

/*
 * Unit tests for qreason, the quarantine reason of a held message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "qreason.h"

static void
plain(void **state)
{
    char    buf[QR_MAX + 1];

    (void) state;
    assert_int_equal(qr_format(buf, sizeof(buf), "flood", "sender_domain",
			       "example.com", 11), 56);
    assert_string_equal(buf, "qshape-milter policy=flood "
			"key=sender_domain:example.com");
}

/* Spaces, control bytes, 8-bit bytes and '\' are escaped. */
static void
escaped(void **state)
{
    char    buf[QR_MAX + 1];
    const char key[] = "a b\n\\\xe9\x01";

    (void) state;
    qr_format(buf, sizeof(buf), "p", "sender", key, sizeof(key) - 1);
    assert_string_equal(buf, "qshape-milter policy=p key=sender:"
			"a\\x20b\\x0a\\x5c\\xe9\\x01");
}

/* Cut at len - 1, never inside an escape: "...:ab" is 36 bytes, and
 * "\x20" fits only from len 41 on; the 'c' after a cut is never written. */
static void
bounded(void **state)
{
    char    buf[41], out[QR_MAX + 1];
    char    big[300];

    (void) state;
    assert_int_equal(qr_format(buf, 39, "p", "sender", "ab cd", 5), 36);
    assert_string_equal(buf, "qshape-milter policy=p key=sender:ab");
    assert_int_equal(qr_format(buf, 40, "p", "sender", "ab cd", 5), 36);
    assert_int_equal(qr_format(buf, 41, "p", "sender", "ab cd", 5), 40);
    assert_string_equal(buf, "qshape-milter policy=p key=sender:ab\\x20");
    memset(big, 'x', sizeof(big));
    assert_int_equal(qr_format(out, sizeof(out), "flood", "sender",
			       big, sizeof(big)), QR_MAX);
    assert_int_equal(strlen(out), QR_MAX);
    /* Not even the prefix fits: an empty string. */
    assert_int_equal(qr_format(buf, 10, "p", "sender", "a", 1), 0);
    assert_string_equal(buf, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(plain),
	cmocka_unit_test(escaped),
	cmocka_unit_test(bounded),
    };

    return cmocka_run_group_tests(tests, 0, 0);
}

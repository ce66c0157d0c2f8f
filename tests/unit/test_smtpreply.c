/*
 * Unit tests for smtpreply: the replies a milter may set.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smtpreply.h"

static void
replies(void **state)
{
    static const struct {
	const char *reply;
	int     want;
	const char *err;		/* NULL: valid */
    } cases[] = {
	{"451 4.7.1 text", 4, 0},
	{"451 4.7.1 Too much mail from you", 0, 0},
	{"450 text without enhanced code", 4, 0},
	{"451", 4, 0},
	{"451 4.7.1", 4, 0},
	{"452 4.123.456 x", 4, 0},
	{"421 4.3.2 closing", 4, 0},
	{"551 5.7.1 go away", 5, 0},
	{"551 5.7.1", 0, 0},
	{"451 5.7.1 x", 4, "enhanced status code 5.7.1 does not match reply "
	 "code 451 (its class must be 4)"},
	{"451 5.7.1 x", 0, "enhanced status code 5.7.1 does not match reply "
	 "code 451 (its class must be 4)"},
	{"551 4.7.1 x", 5, "enhanced status code 4.7.1 does not match reply "
	 "code 551 (its class must be 5)"},
	{"451 2.0.0 x", 4, "enhanced status code 2.0.0 does not match reply "
	 "code 451 (its class must be 4)"},
	{"551 5.7.1 x", 4, "reply code 551 is not a 4xx code"},
	{"451 4.7.1 x", 5, "reply code 451 is not a 5xx code"},
	{"45 4.7.1", 4, "reply must start with a 3-digit 4xx code "
	 "(\"451 4.7.1 text\")"},
	{"45 4.7.1", 0, "reply must start with a 3-digit 4xx or 5xx code "
	 "(\"451 4.7.1 text\")"},
	{"4511 4.7.1", 4, "reply must start with a 3-digit 4xx code "
	 "(\"451 4.7.1 text\")"},
	{"251 ok", 0, "reply must start with a 3-digit 4xx or 5xx code "
	 "(\"451 4.7.1 text\")"},
	{"461 4.7.1 x", 4, "reply must start with a 3-digit 4xx code "
	 "(\"451 4.7.1 text\")"},
	{"451-4.7.1 x", 4, "reply must start with a 3-digit 4xx code "
	 "(\"451 4.7.1 text\")"},
	{"", 4, "reply must start with a 3-digit 4xx code (\"451 4.7.1 text\")"},
	{"451 4.7.1 100%", 4, "reply must not contain '%' (libmilter would "
	 "drop the text)"},
	{"451 4.7.1 a\r\nb", 4, "reply must not contain CR or LF"},
	{"451 4.7.1 a\nb", 4, "reply must not contain CR or LF"},
	{"451 4.7.1 tab\there", 4, "reply must be printable ASCII"},
	{"451 4.7.1 caf\xc3\xa9", 4, "reply must be printable ASCII"},
	{"451 4.7 x", 4, "malformed enhanced status code \"4.7\""},
	{"451 4.7.1234 x", 4, "malformed enhanced status code \"4.7.1234\""},
	{"451 4.7.1x y", 4, "malformed enhanced status code \"4.7.1x\""},
	{"451 4..1 x", 4, "malformed enhanced status code \"4..1\""},
	{"451 3.7.1 x", 4, "malformed enhanced status code \"3.7.1\""},
	{"451 100 messages", 4, 0},	/* text, not an enhanced code */
    };
    char    err[256], longr[600];
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	err[0] = 0;
	if (cases[i].err == 0) {
	    if (qc_reply_valid(cases[i].reply, cases[i].want, err,
			       sizeof(err)) != 0)
		fail_msg("\"%s\": %s", cases[i].reply, err);
	} else {
	    assert_int_equal(qc_reply_valid(cases[i].reply, cases[i].want,
					    err, sizeof(err)), -1);
	    assert_string_equal(err, cases[i].err);
	}
    }
    memset(longr, 'x', sizeof(longr));
    memcpy(longr, "451 ", 4);
    longr[QC_REPLY_MAX] = 0;
    assert_int_equal(qc_reply_valid(longr, 4, err, sizeof(err)), 0);
    longr[QC_REPLY_MAX] = 'x';
    longr[QC_REPLY_MAX + 1] = 0;
    assert_int_equal(qc_reply_valid(longr, 4, err, sizeof(err)), -1);
    assert_string_equal(err, "reply is longer than 500 bytes");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(replies),
    };

    return cmocka_run_group_tests_name("smtpreply", tests, 0, 0);
}

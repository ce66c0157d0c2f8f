/*
 * Unit tests for milsock: libmilter socket specifications.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "milsock.h"

static void
sockets(void **state)
{
    static const struct {
	const char *s;
	const char *err;
    } cases[] = {
	{"inet:10027@127.0.0.1", 0},
	{"inet:1@localhost", 0},
	{"inet:65535@mail.example.com", 0},
	{"inet:10027@0.0.0.0", 0},
	{"inet6:10027@::1", 0},
	{"inet6:10027@[::1]", "\"inet6:10027@[::1]\": \"[::1]\" is not an "
	 "IPv6 address or a host name"},
	{"inet6:10027@localhost", 0},
	{"unix:/run/qshape-milter/milter.sock", 0},
	{"local:/var/spool/postfix/private/qshape", 0},
	{"inet:127.0.0.1:10027", "\"inet:127.0.0.1:10027\": libmilter wants "
	 "inet:PORT@HOST, not Postfix's inet:HOST:PORT"},
	{"inet:10027", "\"inet:10027\": missing @HOST (for every address "
	 "write @0.0.0.0 or @::)"},
	{"inet:0@127.0.0.1", "\"inet:0@127.0.0.1\": the port must be a "
	 "number 1..65535"},
	{"inet:65536@127.0.0.1", "\"inet:65536@127.0.0.1\": the port must be "
	 "a number 1..65535"},
	{"inet:99999999999999999999@h", "\"inet:99999999999999999999@h\": the "
	 "port must be a number 1..65535"},
	{"inet:smtp@127.0.0.1", "\"inet:smtp@127.0.0.1\": the port must be a "
	 "number 1..65535"},
	{"inet:10027@", "\"inet:10027@\": \"\" is not an IPv4 address or a "
	 "host name"},
	{"inet:10027@::1", "\"inet:10027@::1\": \"::1\" is not an IPv4 "
	 "address or a host name"},
	{"inet:10027@127.0.0.256", "\"inet:10027@127.0.0.256\": "
	 "\"127.0.0.256\" is not an IPv4 address or a host name"},
	{"inet:10027@bad_host", "\"inet:10027@bad_host\": \"bad_host\" is not "
	 "an IPv4 address or a host name"},
	{"unix:run/milter", "\"unix:run/milter\": the socket path must be "
	 "absolute"},
	{"/run/milter.sock", "\"/run/milter.sock\" is not a milter socket: "
	 "write inet:PORT@HOST, inet6:PORT@HOST or unix:/path"},
	{"tcp:10027@127.0.0.1", "\"tcp:10027@127.0.0.1\" is not a milter "
	 "socket: write inet:PORT@HOST, inet6:PORT@HOST or unix:/path"},
	{"inet:10027@127.0.0.1\n", "socket contains a control character"},
    };
    char    err[256], longp[200];
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	err[0] = 0;
	if (cases[i].err == 0) {
	    if (qc_socket_valid(cases[i].s, err, sizeof(err)) != 0)
		fail_msg("\"%s\": %s", cases[i].s, err);
	} else {
	    assert_int_equal(qc_socket_valid(cases[i].s, err, sizeof(err)), -1);
	    assert_string_equal(err, cases[i].err);
	}
    }
    memset(longp, 'a', sizeof(longp));
    memcpy(longp, "unix:/", 6);
    longp[5 + 107] = 0;			/* a 107-byte path fits */
    assert_int_equal(qc_socket_valid(longp, err, sizeof(err)), 0);
    longp[5 + 107] = 'a';
    longp[5 + 108] = 0;
    assert_int_equal(qc_socket_valid(longp, err, sizeof(err)), -1);
    assert_string_equal(err, "the socket path is longer than 107 bytes");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(sockets),
    };

    return cmocka_run_group_tests_name("milsock", tests, 0, 0);
}

/*
 * Unit tests for lsock: TCP_NODELAY on listening TCP sockets, inherited
 * by the sockets accept() returns (what qshape-milter relies on, since
 * libmilter accepts its connections itself); other sockets untouched.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "lsock.h"

static int
nodelay(int fd)
{
    int     v = -1;
    socklen_t n = sizeof(v);

    assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &n), 0);
    return v;
}

static void
listener_and_accepted(void **state)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int     l, c, s, idle, n;

    (void) state;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true((l = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
    assert_int_equal(bind(l, (struct sockaddr *) &a, sizeof(a)), 0);
    assert_int_equal(listen(l, 5), 0);
    /* A connected, not listening, TCP socket: left alone. */
    assert_true((idle = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
    assert_int_equal(nodelay(l), 0);
    n = ls_nodelay();
    assert_true(n >= 1);
    assert_int_equal(nodelay(l), 1);
    assert_int_equal(nodelay(idle), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *) &a, &al), 0);
    assert_true((c = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
    assert_int_equal(connect(c, (struct sockaddr *) &a, sizeof(a)), 0);
    assert_true((s = accept(l, 0, 0)) >= 0);
    assert_int_equal(nodelay(s), 1);	/* inherited */
    assert_int_equal(nodelay(c), 0);	/* the client's own */
    close(s);
    close(c);
    close(idle);
    close(l);
}

/* A unix listening socket is not a TCP socket: not counted. */
static void
unix_untouched(void **state)
{
    struct sockaddr_un u;
    int     l;

    (void) state;
    memset(&u, 0, sizeof(u));
    u.sun_family = AF_UNIX;
    memcpy(u.sun_path, "\0qshape-test-lsock", 18);	/* abstract */
    assert_true((l = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
    assert_int_equal(bind(l, (struct sockaddr *) &u,
			  offsetof(struct sockaddr_un, sun_path) + 18), 0);
    assert_int_equal(listen(l, 5), 0);
    assert_int_equal(ls_nodelay(), 0);
    close(l);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(listener_and_accepted),
	cmocka_unit_test(unix_untouched),
    };

    return cmocka_run_group_tests(tests, 0, 0);
}

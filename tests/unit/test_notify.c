/*
 * Unit tests for notify: the address NOTIFY_SOCKET names (the limits of a
 * path and of an abstract name, each decided by its length alone), and
 * the datagrams sent to a socket of ours, by path and abstract.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "notify.h"

#define SUN_LEN_MAX	sizeof(((struct sockaddr_un *) 0)->sun_path)
#define SUN_OFF		offsetof(struct sockaddr_un, sun_path)

/* c repeated n times after prefix, in buf. */
static const char *
repeat(char *buf, const char *prefix, char c, size_t n)
{
    size_t  p = strlen(prefix);

    memcpy(buf, prefix, p);
    memset(buf + p, c, n);
    buf[p + n] = 0;
    return buf;
}

static void
addr_path(void **state)
{
    struct sockaddr_un sa;
    socklen_t len = 0;
    char    buf[256];

    (void) state;
    assert_int_equal(notify_addr("/run/systemd/notify", &sa, &len), 0);
    assert_int_equal(sa.sun_family, AF_UNIX);
    assert_string_equal(sa.sun_path, "/run/systemd/notify");
    assert_int_equal(len, SUN_OFF + strlen("/run/systemd/notify") + 1);

    /* 107 bytes and the NUL fill sun_path exactly; 108 do not fit. */
    repeat(buf, "/", 'p', SUN_LEN_MAX - 2);
    assert_int_equal(strlen(buf), SUN_LEN_MAX - 1);
    assert_int_equal(notify_addr(buf, &sa, &len), 0);
    assert_int_equal(len, SUN_OFF + SUN_LEN_MAX);
    assert_memory_equal(sa.sun_path, buf, SUN_LEN_MAX);
    repeat(buf, "/", 'p', SUN_LEN_MAX - 1);
    assert_int_equal(notify_addr(buf, &sa, &len), -1);
}

static void
addr_abstract(void **state)
{
    struct sockaddr_un sa;
    socklen_t len = 0;
    char    buf[256];

    (void) state;
    assert_int_equal(notify_addr("@sd-notify", &sa, &len), 0);
    assert_int_equal(sa.sun_path[0], 0);
    assert_memory_equal(sa.sun_path + 1, "sd-notify", 9);
    assert_int_equal(len, SUN_OFF + 10);

    /* '@' and 107 bytes: the NUL and the name fill sun_path exactly. */
    repeat(buf, "@", 'a', SUN_LEN_MAX - 1);
    assert_int_equal(notify_addr(buf, &sa, &len), 0);
    assert_int_equal(len, SUN_OFF + SUN_LEN_MAX);
    assert_int_equal(sa.sun_path[0], 0);
    assert_int_equal(sa.sun_path[SUN_LEN_MAX - 1], 'a');
    repeat(buf, "@", 'a', SUN_LEN_MAX);
    assert_int_equal(notify_addr(buf, &sa, &len), -1);
}

static void
addr_bad(void **state)
{
    static const char *const bad[] = {
	"", "/", "@", "run/systemd/notify", "./notify", "vsock:2:1234",
    };
    struct sockaddr_un sa;
    socklen_t len = 0;
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	assert_int_equal(notify_addr(bad[i], &sa, &len), -1);
    assert_int_equal(notify_addr(0, &sa, &len), -1);
}

/* A datagram socket bound to what NOTIFY_SOCKET will name. */
static int
listener(const char *name)
{
    struct sockaddr_un sa;
    socklen_t len;
    int     fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    assert_int_equal(notify_addr(name, &sa, &len), 0);
    assert_int_equal(bind(fd, (struct sockaddr *) &sa, len), 0);
    assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
    return fd;
}

/* The next datagram on fd, NUL-terminated. */
static const char *
received(int fd, char *buf, size_t size)
{
    ssize_t n = recv(fd, buf, size - 1, MSG_DONTWAIT);

    assert_true(n >= 0);
    buf[n] = 0;
    return buf;
}

static void
send_path(void **state)
{
    char    dir[] = "/tmp/qshape-notify.XXXXXX";
    char    path[128], buf[256];
    int     fd;

    (void) state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/notify", dir);
    fd = listener(path);
    assert_int_equal(notify_ready(), 0);
    assert_string_equal(received(fd, buf, sizeof(buf)), "READY=1");
    assert_int_equal(notify_stopping(), 0);
    assert_string_equal(received(fd, buf, sizeof(buf)), "STOPPING=1");
    assert_int_equal(notify_send("STATUS=watching 5 queues"), 0);
    assert_string_equal(received(fd, buf, sizeof(buf)),
			"STATUS=watching 5 queues");
    close(fd);
    unlink(path);
    /* Nobody listens any more. */
    errno = 0;
    assert_int_equal(notify_ready(), -1);
    assert_int_equal(errno, ENOENT);
    rmdir(dir);
    unsetenv("NOTIFY_SOCKET");
}

static void
send_abstract_reloading(void **state)
{
    char    name[64], buf[256];
    struct timespec ts;
    unsigned long long before, after, usec;
    int     fd, end = 0;

    (void) state;
    snprintf(name, sizeof(name), "@qshape-notify-test-%ld", (long) getpid());
    fd = listener(name);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    before = (unsigned long long) ts.tv_sec * 1000000ULL
	+ (unsigned long long) ts.tv_nsec / 1000ULL;
    assert_int_equal(notify_reloading(), 0);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    after = (unsigned long long) ts.tv_sec * 1000000ULL
	+ (unsigned long long) ts.tv_nsec / 1000ULL;
    received(fd, buf, sizeof(buf));
    assert_int_equal(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%llu%n",
			    &usec, &end), 1);
    assert_int_equal((size_t) end, strlen(buf));
    assert_true(usec >= before && usec <= after);
    close(fd);
    unsetenv("NOTIFY_SOCKET");
}

static void
send_unset(void **state)
{
    (void) state;
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(notify_ready(), 0);
    assert_int_equal(setenv("NOTIFY_SOCKET", "", 1), 0);
    assert_int_equal(notify_ready(), 0);
    assert_int_equal(setenv("NOTIFY_SOCKET", "relative/notify", 1), 0);
    errno = 0;
    assert_int_equal(notify_ready(), -1);
    assert_int_equal(errno, EINVAL);
    unsetenv("NOTIFY_SOCKET");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(addr_path),
	cmocka_unit_test(addr_abstract),
	cmocka_unit_test(addr_bad),
	cmocka_unit_test(send_path),
	cmocka_unit_test(send_abstract_reloading),
	cmocka_unit_test(send_unset),
    };

    return cmocka_run_group_tests(tests, 0, 0);
}

/*
 * Unit tests for qwalk, on a fixture queue in a temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "qwalk.h"
#include "qfbuild.h"

static char root[64];

static void
put_file(const char *rel, const void *data, size_t len, mode_t mode)
{
    char    path[256];
    int     fd;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t) len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void
put_msg(const char *rel, const char *sender, mode_t mode)
{
    static const char *const r[] = {"r@x.example", 0};
    QFB     b = {0};

    qfb_message(&b, 1700000000, sender, r, 0, 0);
    put_file(rel, b.buf, b.len, mode);
    free(b.buf);
}

static void
mk(const char *rel)
{
    char    path[256];

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    assert_int_equal(mkdir(path, 0700), 0);
}

static int
setup(void **state)
{
    char    path[256];

    (void) state;
    snprintf(root, sizeof(root), "/tmp/test_qwalk.XXXXXX");
    if (mkdtemp(root) == 0)
	return -1;
    mk("deferred");
    mk("deferred/A");
    mk("deferred/B");
    mk("deferred/B/9");			/* depth 2 hashing */
    mk("incoming");
    put_msg("deferred/A/AAAAAA1", "a@one.example", 0700);
    put_msg("deferred/B/BBBBBB1", "b@two.example", 0700);
    put_msg("deferred/B/BBBBBB2", "b@two.example", 0600);	/* not ready */
    put_msg("deferred/B/BBBBBB3", "b@two.example", 0710);	/* expired */
    put_msg("deferred/B/9/B9B9B9", "c@three.example", 0744);
    put_msg("deferred/B/tmp.123", "x@temp.example", 0700);	/* bad name */
    put_msg("deferred/B/ABC", "x@short.example", 0700);	/* too short */
    put_file("deferred/B/CORRUPT1", "\x7f" "ELF....", 8, 0700);
    snprintf(path, sizeof(path), "%s/deferred/B/LINK01", root);
    assert_int_equal(symlink("BBBBBB1", path), 0);
    snprintf(path, sizeof(path), "%s/deferred/B/FIFO01", root);
    assert_int_equal(mkfifo(path, 0700), 0);
    put_msg("incoming/IN0001", "i@in.example", 0700);
    put_msg("incoming/IN0002", "i@in.example", 0700);
    put_msg("incoming/IN0003", "", 0700);
    return 0;
}

static int
teardown(void **state)
{
    char    cmd[128];

    (void) state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd);
}

/* One per walker thread: the callback runs on the walker's threads, where
 * a cmocka assertion cannot report, so it only counts; the test thread
 * asserts. */
typedef struct COUNT {
    int     per_queue[3];
    int     null_senders;
    int     short_ids;
    int     bad_queue;
} COUNT;

static void
on_msg(void *ctx, const QW_MSG *m)
{
    COUNT  *c = ctx;

    if (m->queue < 0 || m->queue > 2) {
	c->bad_queue++;
	return;
    }
    c->per_queue[m->queue]++;
    if (m->facts->sender.len == 0)
	c->null_senders++;
    if (strlen(m->id) < 6)
	c->short_ids++;
}

static void
walk_with(int nthreads)
{
    static const char *const queues[] = {"incoming", "deferred", "nosuch"};
    COUNT   c[4];
    void   *ctx[4] = {&c[0], &c[1], &c[2], &c[3]};
    QW_OPTS o = {0};
    QW_STATS st;
    char    err[128];
    int     i, q[3] = {0, 0, 0}, nulls = 0, shorts = 0, badq = 0;

    memset(c, 0, sizeof(c));
    o.base_fd = open(root, O_RDONLY | O_DIRECTORY);
    o.qf_flags = 0;
    o.nthreads = nthreads;
    assert_int_equal(qw_walk(queues, 3, &o, on_msg, ctx, &st, err,
			     sizeof(err)), 0);
    close(o.base_fd);
    for (i = 0; i < nthreads; i++) {
	q[0] += c[i].per_queue[0];
	q[1] += c[i].per_queue[1];
	q[2] += c[i].per_queue[2];
	nulls += c[i].null_senders;
	shorts += c[i].short_ids;
	badq += c[i].bad_queue;
    }
    for (; i < 4; i++)			/* contexts of threads not started */
	assert_int_equal(c[i].per_queue[0] + c[i].per_queue[1], 0);
    assert_int_equal(shorts, 0);
    assert_int_equal(badq, 0);
    assert_int_equal(q[0], 3);
    assert_int_equal(q[1], 4);		/* AAAAAA1, BBBBBB1, BBBBBB3, B9B9B9 */
    assert_int_equal(q[2], 0);
    assert_int_equal(nulls, 1);
    assert_int_equal(st.files, 11);
    assert_int_equal(st.parsed, 7);
    assert_int_equal(st.not_ready, 1);
    assert_int_equal(st.not_regular, 2);
    assert_int_equal(st.corrupt, 1);
    assert_int_equal(st.by_status[QF_NOT_QUEUE_FILE], 1);
    assert_int_equal(st.bad_dirs, 1);
    assert_int_equal(st.vanished, 0);
    assert_int_equal(st.unreadable, 0);
    /* With threads, either problem may be met first. */
    assert_true(strstr(st.first_problem, "nosuch: No such file") != 0
		|| strstr(st.first_problem, "CORRUPT1: not a queue file") != 0);
}

static void
one_thread(void **state)
{
    (void) state;
    walk_with(1);
}

static void
three_threads(void **state)
{
    (void) state;
    walk_with(3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(one_thread),
	cmocka_unit_test(three_threads),
    };

    return cmocka_run_group_tests_name("qwalk", tests, setup, teardown);
}

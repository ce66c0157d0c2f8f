/*
 * Unit tests for watch, the inotify watches on the queue directories:
 * what a removed directory held is let go (its descriptor, its watch).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "watch.h"

#define CYCLES	3000

static char root[64];
static int base_fd;
static const char *const queues[1] = {"deferred"};

static int
setup(void **state)
{
    char    path[128];

    (void) state;
    snprintf(root, sizeof(root), "/tmp/test_watch.XXXXXX");
    if (mkdtemp(root) == 0)
	return -1;
    snprintf(path, sizeof(path), "%s/deferred", root);
    if (mkdir(path, 0700) < 0)
	return -1;
    base_fd = open(root, O_RDONLY | O_DIRECTORY);
    return base_fd < 0;
}

static int
teardown(void **state)
{
    char    cmd[160];

    (void) state;
    close(base_fd);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd);
}

/* Descriptors this process has open. */
static int
open_fds(void)
{
    DIR    *dp = opendir("/proc/self/fd");
    struct dirent *de;
    int     n = 0;

    assert_non_null(dp);
    while ((de = readdir(dp)) != 0)
	n += de->d_name[0] != '.';
    closedir(dp);
    return n - 1;			/* not opendir's own */
}

static void
ignore(void *ctx, int queue, int dirfd, const char *name, int what)
{
    (void) ctx;
    (void) queue;
    (void) dirfd;
    (void) name;
    (void) what;
}

static void
sub(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/deferred/%s", root, name);
}

/*
 * mkdir, the watch takes the new directory (opens it), rmdir: every cycle
 * must give back its descriptor.  The open descriptor keeps the kernel
 * from reporting the directory's own deletion, so only the parent's event
 * can tell.  Then the same in batches, where the watch may open the
 * directory of a later cycle.
 */
static void
mkdir_rmdir_cycles_keep_fds_bounded(void **state)
{
    char    path[160];
    WATCH  *w;
    char    err[256];
    int     base, i, most = 0;

    (void) state;
    w = watch_create(base_fd, queues, 1, err, sizeof(err));
    assert_non_null(w);
    base = open_fds();
    sub(path, sizeof(path), "A");
    for (i = 0; i < CYCLES; i++) {
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(watch_read(w, ignore, 0), 1);	/* new: rescan */
	assert_int_equal(watch_count(w), 2);
	assert_int_equal(open_fds(), base + 1);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(watch_read(w, ignore, 0), 0);	/* empty: no rescan */
	assert_int_equal(watch_count(w), 1);
	assert_int_equal(open_fds(), base);
    }
    for (i = 0; i < CYCLES; i++) {
	assert_int_equal(mkdir(path, 0700), 0);
	if (i % 3 == 0)
	    (void) watch_read(w, ignore, 0);
	assert_int_equal(rmdir(path), 0);
	if (i % 7 == 0)
	    (void) watch_read(w, ignore, 0);
	if (open_fds() > most)
	    most = open_fds();
    }
    (void) watch_read(w, ignore, 0);
    assert_true(most <= base + 1);
    assert_int_equal(open_fds(), base);
    assert_int_equal(watch_count(w), 1);
    watch_destroy(w);
}

/* A tree removed or moved away lets go of every directory in it; a move
 * asks for a rescan (its files went with it). */
static void
removed_tree_lets_go(void **state)
{
    char    a[160], b[160], out[160];
    WATCH  *w;
    char    err[256];
    int     base;

    (void) state;
    w = watch_create(base_fd, queues, 1, err, sizeof(err));
    assert_non_null(w);
    base = open_fds();
    sub(a, sizeof(a), "B");
    sub(b, sizeof(b), "B/C");
    assert_int_equal(mkdir(a, 0700), 0);
    assert_int_equal(mkdir(b, 0700), 0);
    (void) watch_read(w, ignore, 0);
    assert_int_equal(watch_count(w), 3);
    assert_int_equal(open_fds(), base + 2);
    snprintf(out, sizeof(out), "%s/elsewhere", root);
    assert_int_equal(rename(a, out), 0);
    assert_int_equal(watch_read(w, ignore, 0), 1);
    assert_int_equal(watch_count(w), 1);
    assert_int_equal(open_fds(), base);
    assert_int_equal(rename(out, a), 0);	/* back: watched again */
    assert_int_equal(watch_read(w, ignore, 0), 1);
    assert_int_equal(watch_count(w), 3);
    assert_int_equal(rmdir(b), 0);
    assert_int_equal(rmdir(a), 0);
    assert_int_equal(watch_read(w, ignore, 0), 0);
    assert_int_equal(watch_count(w), 1);
    assert_int_equal(open_fds(), base);
    watch_destroy(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(mkdir_rmdir_cycles_keep_fds_bounded),
	cmocka_unit_test(removed_tree_lets_go),
    };

    return cmocka_run_group_tests_name("watch", tests, setup, teardown);
}

/*
 * Unit tests for pidfile: the file's contents and mode, the lock against
 * a second instance, symbolic links and unsafe directories refused,
 * removal only of our own file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "pidfile.h"

static char dir[64];
static char path[128];

static int
setup(void **state)
{
    (void) state;
    snprintf(dir, sizeof(dir), "/tmp/test_pidfile.XXXXXX");
    if (mkdtemp(dir) == 0)
	return -1;
    snprintf(path, sizeof(path), "%s/x.pid", dir);
    return 0;
}

static int
teardown(void **state)
{
    char    cmd[128];

    (void) state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

static void
slurp(const char *p, char *buf, size_t len)
{
    FILE   *fp = fopen(p, "r");
    size_t  n;

    assert_non_null(fp);
    n = fread(buf, 1, len - 1, fp);
    buf[n] = 0;
    fclose(fp);
}

/* Our pid and a newline, mode 0644 under a umask of 077; removed. */
static void
contents(void **state)
{
    char    err[256], buf[64], want[64];
    struct stat st;
    PIDFILE *pf;
    mode_t  um = umask(077);

    (void) state;
    pf = pidfile_create(path, -1, err, sizeof(err));
    umask(um);
    assert_non_null(pf);
    slurp(path, buf, sizeof(buf));
    snprintf(want, sizeof(want), "%ld\n", (long) getpid());
    assert_string_equal(buf, want);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    pidfile_remove(pf);
    assert_int_equal(access(path, F_OK), -1);
    pidfile_remove(0);
}

/* A stale file (no lock) is reused, truncated. */
static void
stale(void **state)
{
    char    err[256], buf[64], want[64];
    FILE   *fp = fopen(path, "w");
    PIDFILE *pf;

    (void) state;
    fprintf(fp, "123456789012\n");
    fclose(fp);
    pf = pidfile_create(path, -1, err, sizeof(err));
    assert_non_null(pf);
    slurp(path, buf, sizeof(buf));
    snprintf(want, sizeof(want), "%ld\n", (long) getpid());
    assert_string_equal(buf, want);
    pidfile_remove(pf);
}

/* A second process refuses while the first holds the lock, and names the
 * first's pid; it succeeds once the first is gone. */
static void
second_instance(void **state)
{
    char    err[256], want[256];
    int     pfd[2], status;
    PIDFILE *pf;
    pid_t   pid;
    ssize_t n;

    (void) state;
    pf = pidfile_create(path, -1, err, sizeof(err));
    assert_non_null(pf);
    assert_int_equal(pipe(pfd), 0);
    if ((pid = fork()) == 0) {
	PIDFILE *again = pidfile_create(path, -1, err, sizeof(err));
	int     e = errno;

	if (write(pfd[1], err, strlen(err)) < 0)
	    _exit(3);
	_exit(again == 0 && e == EEXIST ? 0 : 1);
    }
    close(pfd[1]);
    n = read(pfd[0], err, sizeof(err) - 1);
    close(pfd[0]);
    assert_true(n > 0);
    err[n] = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 0);
    snprintf(want, sizeof(want), "pid file %s is locked by pid %ld: "
	     "already running?", path, (long) getpid());
    assert_string_equal(err, want);
    pidfile_remove(pf);
}

/* A symbolic link at the path is not followed: its target is untouched. */
static void
symlink_refused(void **state)
{
    char    err[256], target[128], buf[64];
    FILE   *fp;

    (void) state;
    snprintf(target, sizeof(target), "%s/target", dir);
    fp = fopen(target, "w");
    fprintf(fp, "precious\n");
    fclose(fp);
    assert_int_equal(symlink(target, path), 0);
    assert_null(pidfile_create(path, -1, err, sizeof(err)));
    assert_int_equal(errno, 0);
    assert_non_null(strstr(err, "(a symbolic link: refused)"));
    slurp(target, buf, sizeof(buf));
    assert_string_equal(buf, "precious\n");
    unlink(path);
    /* A dangling link creates nothing either. */
    unlink(target);
    assert_int_equal(symlink(target, path), 0);
    assert_null(pidfile_create(path, -1, err, sizeof(err)));
    assert_int_equal(access(target, F_OK), -1);
    unlink(path);
}

/* A hard link (another name for a file elsewhere) is refused. */
static void
hardlink_refused(void **state)
{
    char    err[256], other[128];
    FILE   *fp;

    (void) state;
    snprintf(other, sizeof(other), "%s/other", dir);
    fp = fopen(other, "w");
    fclose(fp);
    assert_int_equal(link(other, path), 0);
    assert_null(pidfile_create(path, -1, err, sizeof(err)));
    assert_non_null(strstr(err, "not a regular file with one link"));
    unlink(path);
    unlink(other);
}

/* A directory others can write is refused; so is a missing one. */
static void
directory(void **state)
{
    char    err[256], want[256];

    (void) state;
    assert_int_equal(chmod(dir, 0775), 0);
    assert_null(pidfile_create(path, -1, err, sizeof(err)));
    snprintf(want, sizeof(want), "pid file directory %s is writable by "
	     "group or others (mode 0775): refused", dir);
    assert_string_equal(err, want);
    assert_int_equal(chmod(dir, 01777), 0);
    assert_null(pidfile_create(path, -1, err, sizeof(err)));
    assert_int_equal(chmod(dir, 0755), 0);
    assert_null(pidfile_create("/nonexistent-dir/x.pid", -1, err,
			       sizeof(err)));
    assert_string_equal(err, "pid file directory /nonexistent-dir: "
			"No such file or directory");
    assert_null(pidfile_create("x.pid", -1, err, sizeof(err)));
    assert_null(pidfile_create("/tmp/", -1, err, sizeof(err)));
}

/* Removal leaves alone a file that replaced ours. */
static void
replaced(void **state)
{
    char    err[256];
    PIDFILE *pf = pidfile_create(path, -1, err, sizeof(err));
    FILE   *fp;

    (void) state;
    assert_non_null(pf);
    unlink(path);
    fp = fopen(path, "w");
    fclose(fp);
    pidfile_remove(pf);
    assert_int_equal(access(path, F_OK), 0);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(contents),
	cmocka_unit_test(stale),
	cmocka_unit_test(second_instance),
	cmocka_unit_test(symlink_refused),
	cmocka_unit_test(hardlink_refused),
	cmocka_unit_test(directory),
	cmocka_unit_test(replaced),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}

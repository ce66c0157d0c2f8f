/*
 * Unit tests for confdiff: which changed settings a reload cannot apply,
 * per daemon, and nothing for settings a reload applies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "confdiff.h"

/* A configuration loaded from text (no file outside the test). */
static QC_CONFIG *
load(const char *text)
{
    char    path[] = "/tmp/test_confdiff.XXXXXX", err[1024];
    QC_CONFIG *c;
    int     fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
    close(fd);
    c = qc_load(path, err, sizeof(err));
    unlink(path);
    if (c == 0)
	fail_msg("%s", err);
    return c;
}

static void
check(const char *a, const char *b, QC_DAEMON d, size_t want_n,
      const char *want)
{
    QC_CONFIG *ca = load(a), *cb = load(b);
    char    out[256];

    assert_int_equal(qc_restart_needed(ca, cb, d, out, sizeof(out)), want_n);
    assert_string_equal(out, want);
    qc_free(ca);
    qc_free(cb);
}

/* Nothing changed, or only what a reload applies. */
static void
none(void **state)
{
    (void) state;
    check("", "", QC_DAEMON_MILTER, 0, "");
    check("", "", QC_DAEMON_SCAND, 0, "");
    check("log_level = \"info\";", "log_level = \"debug\"; stale_after = 9;",
	  QC_DAEMON_MILTER, 0, "");
    check("", "dry_run = true;", QC_DAEMON_SCAND, 0, "");
}

/* Each daemon names only its own start-only settings. */
static void
per_daemon(void **state)
{
    static const char *a = "milter = { socket = \"inet:1@127.0.0.1\"; };";
    static const char *b = "milter = { socket = \"inet:2@127.0.0.1\"; "
	"timeout = 9; };";

    (void) state;
    check(a, b, QC_DAEMON_MILTER, 2, "milter.socket, milter.timeout");
    check(a, b, QC_DAEMON_SCAND, 0, "");
    check("", "queue_directory = \"/q\";", QC_DAEMON_SCAND, 1,
	  "queue_directory");
    check("", "queue_directory = \"/q\";", QC_DAEMON_MILTER, 0, "");
    check("", "group = \"other\";", QC_DAEMON_MILTER, 1, "group");
    check("", "group = \"other\";", QC_DAEMON_SCAND, 1, "group");
    check("", "scanner = { pid_file = \"/x.pid\"; user = \"nobody\"; };",
	  QC_DAEMON_SCAND, 2, "scanner.user, scanner.pid_file");
    check("", "milter = { pid_file = \"\"; socket_mode = \"0600\"; };",
	  QC_DAEMON_MILTER, 2, "milter.socket_mode, milter.pid_file");
}

/* The list is cut to the buffer, the count stays exact. */
static void
truncated(void **state)
{
    QC_CONFIG *ca = load(""), *cb = load("milter = { socket = "
					  "\"inet:2@127.0.0.1\"; "
					  "timeout = 9; };");
    char    out[8];

    (void) state;
    assert_int_equal(qc_restart_needed(ca, cb, QC_DAEMON_MILTER, out,
				       sizeof(out)), 2);
    assert_string_equal(out, "milter.");
    qc_free(ca);
    qc_free(cb);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(none),
	cmocka_unit_test(per_daemon),
	cmocka_unit_test(truncated),
    };

    return cmocka_run_group_tests(tests, 0, 0);
}

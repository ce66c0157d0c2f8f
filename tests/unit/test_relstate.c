/*
 * Unit tests for relstate, the metered release's state between runs: the
 * text round trip, another boot, malformed files, and the file rules
 * (created 0600 in a private directory, links and shared directories
 * refused, one run at a time).
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

#include "relstate.h"

static const unsigned char BOOT[16] = {
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0xff
};
static const unsigned char BOOT2[16] = {1};

static const MT_POLICY POL[3] = {
    {"flood", 1, 2.0, 0}, {"manual", 0, 1.0, 0}, {"slow", 1, 0.5, 60}
};

static void
round_trip(void **state)
{
    MT_BUCKET b[3] = {{1, 500000, 123456789}, {0, 0, 0}, {1, 0, 42}};
    MT_BUCKET c[3];
    char    buf[512];
    size_t  n;

    (void) state;
    n = rs_format(buf, sizeof(buf), BOOT, POL, b, 3);
    assert_string_equal(buf, "qshape-release-state 1 "
			"0123456789abcdef00112233445566ff\n"
			"flood 1 500000 123456789\n"
			"slow 1 0 42\n");
    assert_int_equal(n, strlen(buf));
    memset(c, 0, sizeof(c));
    assert_int_equal(rs_parse(buf, BOOT, POL, c, 3), RS_OK);
    for (n = 0; n < 3; n++) {
	assert_int_equal(c[n].started, b[n].started);
	assert_int_equal(c[n].units, b[n].units);
	assert_int_equal(c[n].last_ms, b[n].last_ms);
    }
    /* Too small a buffer: the length says so. */
    assert_true(rs_format(buf, 40, BOOT, POL, b, 3) >= 40);
}

/* Another boot: its monotonic times mean nothing; nothing is set. */
static void
other_boot(void **state)
{
    MT_BUCKET b[3] = {{1, 5, 6}, {0, 0, 0}, {0, 0, 0}}, c[3];
    char    buf[512];

    (void) state;
    rs_format(buf, sizeof(buf), BOOT2, POL, b, 3);
    memset(c, 0, sizeof(c));
    assert_int_equal(rs_parse(buf, BOOT, POL, c, 3), RS_OTHER_BOOT);
    assert_int_equal(c[0].started, 0);
}

/* A policy the file names that is gone is ignored; one it does not name
 * starts over. */
static void
policies_change(void **state)
{
    MT_BUCKET c[3];

    (void) state;
    memset(c, 0, sizeof(c));
    assert_int_equal(rs_parse("qshape-release-state 1 "
			      "0123456789abcdef00112233445566ff\n"
			      "gone 1 7 8\nslow 1 9 10\n", BOOT, POL, c, 3),
		     RS_OK);
    assert_int_equal(c[0].started, 0);
    assert_int_equal(c[2].started, 1);
    assert_int_equal(c[2].units, 9);
    assert_int_equal(c[2].last_ms, 10);
}

/* Malformed: nothing is set. */
static void
malformed(void **state)
{
    static const char *const bad[] = {
	"",
	"qshape-release-state 2 0123456789abcdef00112233445566ff\n",
	"qshape-release-state 1 0123456789abcdef00112233445566f\n",
	"qshape-release-state 1 0123456789abcdef00112233445566ff",
	"qshape-release-state 1 0123456789abcdef00112233445566ff\n"
	    "flood 1 5 6",				/* no newline */
	"qshape-release-state 1 0123456789abcdef00112233445566ff\n"
	    "flood 1 5\n",
	"qshape-release-state 1 0123456789abcdef00112233445566ff\n"
	    "flood 2 5 6\n",
	"qshape-release-state 1 0123456789abcdef00112233445566ff\n"
	    "flood 1 -5 6\n",
	"qshape-release-state 1 0123456789abcdef00112233445566ff\n"
	    "flood 1 5 6x\n",
	"qshape-release-state 1 0123456789abcdef00112233445566ff\n"
	    "flood 1 5 99999999999999999999\n",
	"qshape-release-state 1 0123456789abcdef00112233445566ff\n"
	    "slow 1 5 6\nflood 1 5 6 7\n",
    };
    MT_BUCKET c[3];
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	memset(c, 0, sizeof(c));
	if (rs_parse(bad[i], BOOT, POL, c, 3) != RS_BAD)
	    fail_msg("not refused: %s", bad[i]);
	assert_int_equal(c[2].started, 0);
    }
}

/* The file: created 0600 in a directory made 0700; written and read
 * back; one run at a time; links and shared directories refused. */
static void
file_rules(void **state)
{
    char    top[] = "/tmp/test_relstate.XXXXXX", dir[64], path[96],
		lnk[96], err[256], buf[64];
    struct stat st;
    int     fd, fd2;

    (void) state;
    assert_non_null(mkdtemp(top));
    snprintf(dir, sizeof(dir), "%s/d", top);
    snprintf(path, sizeof(path), "%s/release.state", dir);
    assert_true((fd = rs_open(path, err, sizeof(err))) >= 0);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(rs_write(fd, "long text here\n", 15, err, sizeof(err)),
		     0);
    assert_int_equal(rs_write(fd, "short\n", 6, err, sizeof(err)), 0);
    assert_int_equal(rs_read(fd, buf, sizeof(buf), err, sizeof(err)), 0);
    assert_string_equal(buf, "short\n");
    assert_int_equal(rs_read(fd, buf, 6, err, sizeof(err)), -1);
    assert_string_equal(err, "longer than 5 bytes");

    /* Locked by this run: a second one is told so. */
    assert_int_equal(rs_open(path, err, sizeof(err)), -2);
    close(fd);
    assert_true((fd = rs_open(path, err, sizeof(err))) >= 0);
    close(fd);

    /* A group bit on the file is removed. */
    assert_int_equal(chmod(path, 0640), 0);
    assert_true((fd = rs_open(path, err, sizeof(err))) >= 0);
    close(fd);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);

    /* A link in place of the file, or of the directory: refused. */
    snprintf(lnk, sizeof(lnk), "%s/link.state", dir);
    assert_int_equal(symlink(path, lnk), 0);
    assert_int_equal(rs_open(lnk, err, sizeof(err)), -1);
    unlink(lnk);
    snprintf(lnk, sizeof(lnk), "%s/l", top);
    assert_int_equal(symlink(dir, lnk), 0);
    snprintf(buf, sizeof(buf), "%s/l/release.state", top);
    assert_int_equal(rs_open(buf, err, sizeof(err)), -1);
    unlink(lnk);

    /* A directory others may write: refused. */
    assert_int_equal(chmod(dir, 0770), 0);
    assert_int_equal(rs_open(path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "writable by it alone: refused"));
    assert_int_equal(chmod(dir, 0700), 0);

    /* A hard link to the file: refused. */
    snprintf(lnk, sizeof(lnk), "%s/hard", dir);
    assert_int_equal(link(path, lnk), 0);
    assert_int_equal(rs_open(path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "one link: refused"));
    unlink(lnk);
    assert_true((fd2 = rs_open(path, err, sizeof(err))) >= 0);
    close(fd2);

    unlink(path);
    rmdir(dir);
    rmdir(top);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(round_trip),
	cmocka_unit_test(other_boot),
	cmocka_unit_test(policies_change),
	cmocka_unit_test(malformed),
	cmocka_unit_test(file_rules),
    };

    return cmocka_run_group_tests_name("relstate", tests, 0, 0);
}

/*
 * Unit tests for shm against the threat model in shm.h: each attack of
 * issue 7 (items 1-3, 9, 13) on the summary file, its directories, its
 * header and its heartbeat.  The hostile local user is uid 65534; the
 * tests that play it need root (they are skipped otherwise).  Each test
 * gets base/p/d/summary in a fresh base = /tmp/test_shm_trust.XXXXXX (d,
 * the summary's directory, mode 0750; p 0755), removed after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "shm.h"

#define NOBODY	65534			/* the hostile local user */

#define SHMTEST_PREFIX	"/tmp/test_shm_trust.XXXXXX"
#include "shmtest.h"

/* Tests that play the hostile user need root. */
#define NEED_ROOT()	do { if (geteuid() != 0) skip(); } while (0)

/* ---- The threat model's attacks ------------------------------------- */

/* open_why(), and the reason must contain want. */
static SHM_ERR
open_why_msg(const char *want)
{
    SHM_ERR why = SHM_OK;
    char    err[512] = "";
    SHM_R  *r = shm_reader_open(name, &why, err, sizeof(err));

    if (r) {
	shm_reader_close(r);
	return SHM_OK;
    }
    if (strstr(err, want) == 0)
	fail_msg("reason \"%s\" lacks \"%s\"", err, want);
    return why;
}

/* A valid summary's bytes, as a squatter would copy them. */
static unsigned char *
valid_bytes(size_t *len)
{
    SHM_W  *w = writer(4, 2);
    unsigned char *p = map_rw(len), *copy = malloc(*len);

    memcpy(copy, p, *len);
    munmap(p, *len);
    shm_writer_destroy(w);
    unlink(name);
    return copy;
}

/* Create path as uid with mode, holding len bytes of b. */
static void
plant(const char *path, uid_t uid, mode_t mode, const void *b, size_t len)
{
    int     fd = open(path, O_RDWR | O_CREAT | O_EXCL, mode);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, b, len), (ssize_t) len);
    assert_int_equal(fchown(fd, uid, (gid_t) -1), 0);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

/* (a) A crafted summary at the name, another user's, mode 0666 (as
 * squatted before the scanner started): refused; then the scanner starts
 * and replaces it. */
static void
attack_squat_foreign_0666(void **state)
{
    size_t  len;
    unsigned char *b;
    char    want[512];
    SHM_W  *w;

    (void) state;
    NEED_ROOT();
    b = valid_bytes(&len);
    ((QS_HEADER *) b)->writer_uid = NOBODY;
    plant(name, NOBODY, 0666, b, len);
    snprintf(want, sizeof(want), "summary %s: owned by uid 65534, not uid 0 "
	     "(the owner of %s): refused", name, dir);
    assert_int_equal(open_why_msg(want), SHM_UNTRUSTED);
    w = writer(4, 2);			/* the squat does not stop it */
    assert_int_equal(open_why(), SHM_OK);
    shm_writer_destroy(w);
    free(b);
}

/* (b) The same with mode 0644: the owner alone decides. */
static void
attack_foreign_owner_0644(void **state)
{
    size_t  len;
    unsigned char *b;

    (void) state;
    NEED_ROOT();
    b = valid_bytes(&len);
    plant(name, NOBODY, 0644, b, len);
    assert_int_equal(open_why_msg("owned by uid 65534, not uid 0"),
		     SHM_UNTRUSTED);
    free(b);
}

/* Our own file, but writable by others, or with a second link. */
static void
attack_own_file_mode_links(void **state)
{
    SHM_W  *w = writer(4, 2);
    char    link2[160];

    (void) state;
    assert_int_equal(chmod(name, 0660), 0);
    assert_int_equal(open_why_msg("writable by group or others (mode 0660)"),
		     SHM_UNTRUSTED);
    assert_int_equal(chmod(name, 0640), 0);
    assert_int_equal(open_why(), SHM_OK);
    snprintf(link2, sizeof(link2), "%s/second", dir);
    assert_int_equal(link(name, link2), 0);
    assert_int_equal(open_why_msg("2 links, not 1"), SHM_UNTRUSTED);
    unlink(link2);
    assert_int_equal(open_why(), SHM_OK);
    shm_writer_destroy(w);
}

/* (c) A symbolic link at the name to a valid summary. */
static void
attack_symlink_name(void **state)
{
    SHM_W  *w = writer(4, 2);
    char    real[160];

    (void) state;
    snprintf(real, sizeof(real), "%s/real", dir);
    assert_int_equal(rename(name, real), 0);
    assert_int_equal(symlink(real, name), 0);
    assert_int_equal(open_why_msg("not a regular file"), SHM_UNTRUSTED);
    shm_writer_destroy(w);
}

static void
on_alarm(int sig)
{
    (void) sig;
    fail_msg("the reader blocked on a FIFO");
}

/* (d) A FIFO at the name: refused at once, by open and by a reader
 * following a retired file to it. */
static void
attack_fifo(void **state)
{
    SHM_W  *w = writer(4, 2), *w2;
    SHM_R  *r = reader();
    unsigned char buf[1];

    (void) state;
    signal(SIGALRM, on_alarm);
    alarm(5);
    w2 = writer(4, 2);			/* retires r's file */
    unlink(name);
    assert_int_equal(mkfifo(name, 0644), 0);
    assert_int_equal(open_why_msg("not a regular file"), SHM_UNTRUSTED);
    errno = 0;
    assert_int_equal(shm_reader_copy(r, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EACCES);
    alarm(0);
    signal(SIGALRM, SIG_DFL);
    shm_reader_close(r);
    shm_writer_destroy(w);
    shm_writer_destroy(w2);
}

/* (e) Truncated below the header's segment_size: refused, no SIGBUS. */
static void
attack_truncated(void **state)
{
    SHM_W  *w = writer(4, 2);

    (void) state;
    assert_int_equal(truncate(name, 4096), 0);
    assert_int_equal(open_why_msg("file 4096"), SHM_FOREIGN);
    assert_int_equal(truncate(name, 16), 0);
    assert_int_equal(open_why_msg("16 bytes, too short for a header"),
		     SHM_FOREIGN);
    shm_writer_destroy(w);
}

/* (f) Directories: the summary's own group- or other-writable, or
 * another user's; its parent writable by others, even sticky; an ancestor
 * above writable by others and not sticky (sticky and root's is fine); a
 * directory owned by a third user; a link on the way; a directory of its
 * own made straight in /tmp. */
static void
attack_directories(void **state)
{
    SHM_W  *w = writer(4, 2);
    char    want[512], alias[160], lname[192], squat[96];

    (void) state;
    NEED_ROOT();
    assert_int_equal(chmod(dir, 0770), 0);
    snprintf(want, sizeof(want), "summary %s: directory %s: writable by "
	     "group or others (mode 0770): refused", name, dir);
    assert_int_equal(open_why_msg(want), SHM_UNTRUSTED);
    assert_int_equal(chmod(dir, 0757), 0);
    assert_int_equal(open_why_msg("(mode 0757)"), SHM_UNTRUSTED);
    assert_int_equal(chmod(dir, 0750), 0);
    assert_int_equal(open_why(), SHM_OK);

    assert_int_equal(chown(dir, NOBODY, (gid_t) -1), 0);
    snprintf(want, sizeof(want), "owned by uid 0, not uid 65534 (the owner "
	     "of %s): refused", dir);
    assert_int_equal(open_why_msg(want), SHM_UNTRUSTED);
    assert_int_equal(chown(dir, 0, (gid_t) -1), 0);

    assert_int_equal(chmod(pdir, 01777), 0);	/* parent: sticky is not enough */
    assert_int_equal(open_why_msg("(mode 1777): refused"), SHM_UNTRUSTED);
    assert_int_equal(chmod(pdir, 0755), 0);
    assert_int_equal(chown(pdir, NOBODY, (gid_t) -1), 0);
    snprintf(want, sizeof(want), "directory %s: owned by uid 65534, neither "
	     "root nor uid 0", pdir);
    assert_int_equal(open_why_msg(want), SHM_UNTRUSTED);
    assert_int_equal(chown(pdir, 0, (gid_t) -1), 0);

    assert_int_equal(chmod(base, 0777), 0);	/* above: not sticky */
    assert_int_equal(open_why_msg("(mode 0777) and not a root-owned sticky "
				  "directory: refused"), SHM_UNTRUSTED);
    assert_int_equal(chmod(base, 01777), 0);	/* root's and sticky */
    assert_int_equal(open_why(), SHM_OK);
    assert_int_equal(chmod(base, 0700), 0);

    snprintf(alias, sizeof(alias), "%s/alias", pdir);	/* a link on the way */
    assert_int_equal(symlink(dir, alias), 0);
    snprintf(lname, sizeof(lname), "%s/summary", alias);
    memcpy(squat, name, sizeof(squat));
    snprintf(name, sizeof(name), "%s", lname);
    assert_int_equal(open_why_msg("(a symbolic link or not a directory): "
				  "refused"), SHM_UNTRUSTED);
    snprintf(name, sizeof(name), "%s/summary", base);	/* dir in /tmp */
    assert_int_equal(open_why_msg("directory /tmp: writable by group or "
				  "others (mode 1777): refused"),
		     SHM_UNTRUSTED);
    memcpy(name, squat, sizeof(squat));
    shm_writer_destroy(w);
}

/* (g) The writer refuses a directory that is not its own or that others
 * can write, naming what it found; it starts despite stale temporary
 * files at its own pid (any owner) and a squatter's file at the name. */
static void
attack_writer(void **state)
{
    SHM_GEOM g = {4, 2};
    char    err[512], want[512], tmp[256];
    struct stat st;
    SHM_W  *w;

    (void) state;
    NEED_ROOT();
    assert_int_equal(chown(dir, NOBODY, (gid_t) -1), 0);
    assert_null(shm_writer_create(name, &g, -1, err, sizeof(err)));
    snprintf(want, sizeof(want), "summary %s: directory %s: owned by uid "
	     "65534 (mode 0750), not by us (uid 0): refused", name, dir);
    assert_string_equal(err, want);
    assert_int_equal(chown(dir, 0, (gid_t) -1), 0);
    assert_int_equal(chmod(dir, 0777), 0);
    assert_null(shm_writer_create(name, &g, -1, err, sizeof(err)));
    assert_non_null(strstr(err, "writable by group or others (mode 0777)"));
    assert_int_equal(chmod(dir, 0750), 0);

    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", name, (long) getpid());
    plant(tmp, NOBODY, 0666, "", 0);
    plant(name, NOBODY, 0666, "junk", 4);
    w = shm_writer_create(name, &g, -1, err, sizeof(err));
    if (w == 0)
	fail_msg("%s", err);
    assert_int_equal(lstat(tmp, &st), -1);
    assert_int_equal(lstat(name, &st), 0);
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(open_why(), SHM_OK);
    shm_writer_destroy(w);
}

/* shm_dir_prepare: made when missing, owner, group and mode set when they
 * differ, a link refused, an untrusted parent refused. */
static void
dir_prepare(void **state)
{
    char    err[512], path[160], want[512];
    struct stat st;

    (void) state;
    NEED_ROOT();
    snprintf(path, sizeof(path), "%s/new/summary", pdir);
    assert_int_equal(shm_dir_prepare(path, NOBODY, 4242, err, sizeof(err)),
		     0);
    snprintf(path, sizeof(path), "%s/new", pdir);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_uid, NOBODY);
    assert_int_equal(st.st_gid, 4242);
    assert_int_equal(st.st_mode & 07777, 0750);

    assert_int_equal(chmod(dir, 0777), 0);	/* existing: fixed */
    assert_int_equal(shm_dir_prepare(name, NOBODY, 4243, err, sizeof(err)), 0);
    assert_int_equal(lstat(dir, &st), 0);
    assert_int_equal(st.st_uid, NOBODY);
    assert_int_equal(st.st_gid, 4243);
    assert_int_equal(st.st_mode & 07777, 0750);

    snprintf(path, sizeof(path), "%s/link", pdir);
    assert_int_equal(symlink(dir, path), 0);
    snprintf(path, sizeof(path), "%s/link/summary", pdir);
    assert_int_equal(shm_dir_prepare(path, 0, -1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "(a symbolic link or not a directory): "
			   "refused"));

    assert_int_equal(chmod(pdir, 0777), 0);
    assert_int_equal(shm_dir_prepare(name, 0, -1, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "directory %s: writable by group or others "
	     "(mode 0777): refused", pdir);
    assert_string_equal(err, want);
    assert_int_equal(shm_dir_prepare("/summary", 0, -1, err, sizeof(err)),
		     -1);
    assert_non_null(strstr(err, "needs a directory of its own"));
}

/* (h) A header overwritten behind the writer's back: readers refuse it
 * until the next publication, or heartbeat, rewrites it. */
static void
header_repair(void **state)
{
    SHM_W  *w = writer(4, 2);
    size_t  len;
    unsigned char *p = map_rw(&len);
    QS_HEADER *h = (QS_HEADER *) p, save = *h;
    SHM_R  *r;

    (void) state;
    h->magic = 0;
    h->max_keys = 99;
    h->writer_pid = 1;
    assert_int_equal(open_why(), SHM_FOREIGN);
    shm_writer_publish(w, 10);
    assert_int_equal(memcmp(h, &save, offsetof(QS_HEADER, seq)), 0);
    r = reader();
    assert_int_equal(shm_reader_writer_pid(r), getpid());
    shm_reader_close(r);
    h->writer_uid = NOBODY;
    memset(h->boot_id, 0xee, sizeof(h->boot_id));
    assert_int_equal(open_why(), SHM_UNTRUSTED);
    shm_writer_heartbeat(w, 11);
    assert_int_equal(memcmp(h, &save, offsetof(QS_HEADER, seq)), 0);
    assert_int_equal(open_why(), SHM_OK);
    munmap(p, len);
    shm_writer_destroy(w);
}

/* (i) The monotonic heartbeat: values a clock or a forger could put
 * there, judged without overflow (UBSan in the asan build). */
static void
heartbeat_mono(void **state)
{
    SHM_W  *w = writer(4, 2);
    SHM_R  *r = reader();
    const int64_t now = 3500000000;	/* 3.5 s */
    size_t  len;
    unsigned char *p;

    (void) state;
    assert_int_equal(shm_reader_age_ms(r, now), -1);	/* never beat */
    shm_writer_heartbeat_at(w, 1, 1000000000);
    assert_int_equal(shm_reader_age_ms(r, now), 2500);
    assert_int_equal(shm_reader_age_ms(r, 1000000000), 0);
    shm_writer_heartbeat_at(w, 1, now + 1000000000);	/* 1 s ahead: ok */
    assert_int_equal(shm_reader_age_ms(r, now), 0);
    shm_writer_heartbeat_at(w, 1, now + 1000000001);
    assert_int_equal(shm_reader_age_ms(r, now), -1);
    shm_writer_heartbeat_at(w, 1, INT64_MIN);
    assert_int_equal(shm_reader_age_ms(r, now), -1);
    assert_int_equal(shm_reader_age_ms(r, INT64_MAX), -1);
    shm_writer_heartbeat_at(w, 1, INT64_MAX);
    assert_int_equal(shm_reader_age_ms(r, now), -1);
    assert_int_equal(shm_reader_age_ms(r, INT64_MIN), -1);
    shm_writer_heartbeat_at(w, 1, 0);
    assert_int_equal(shm_reader_age_ms(r, now), -1);
    shm_writer_heartbeat_at(w, 1, 1);
    assert_int_equal(shm_reader_age_ms(r, INT64_MAX),
		     (INT64_MAX - 1) / 1000000);
    assert_int_equal(shm_reader_age_ms(r, INT64_MIN), -1);
    shm_writer_heartbeat_at(w, 1, shm_mono_ns());
    assert_true(shm_reader_age_ms(r, shm_mono_ns()) >= 0);
    p = map_rw(&len);			/* a heartbeat of another boot */
    ((QS_HEADER *) p)->boot_id[0] ^= 1;
    assert_int_equal(shm_reader_age_ms(r, shm_mono_ns()), -1);
    munmap(p, len);
    shm_reader_close(r);
    shm_writer_destroy(w);
}

/* The path rule, and the size check-config bounds. */
static void
path_rule(void **state)
{
    static const struct {
	const char *path;
	const char *msg;
    } bad[] = {
	{"relative", "\"relative\" is not an absolute path"},
	{"", "\"\" is not an absolute path"},
	{"/..", "\"/..\" has a \".\" or \"..\" component"},
	{"/run/x/../y", "\"/run/x/../y\" has a \".\" or \"..\" component"},
	{"/run/./y", "\"/run/./y\" has a \".\" or \"..\" component"},
	{"/run/x/", "\"/run/x/\" ends with '/': the summary is a file"},
	{"/", "\"/\" ends with '/': the summary is a file"},
	{"/run//x", "\"/run//x\" has an empty component (\"//\")"},
	{"/run/a b", "contains a space, a control character or a byte that "
	 "is not ASCII"},
	{"/run/a\tb", "contains a space, a control character or a byte that "
	 "is not ASCII"},
	{"/run/\xc3\xa9", "contains a space, a control character or a byte "
	 "that is not ASCII"},
    };
    char    msg[256], longp[SHM_PATH_MAX + 2];
    SHM_GEOM g = {10, 5}, big = {2000000, 4};
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	msg[0] = 0;
	assert_int_equal(shm_path_check(bad[i].path, msg, sizeof(msg)), -1);
	assert_string_equal(msg, bad[i].msg);
    }
    assert_int_equal(shm_path_check("/run/qshape-milter/summary", msg,
				    sizeof(msg)), 0);
    assert_int_equal(shm_path_check("/run/..x/.y/x..", msg, sizeof(msg)), 0);
    memset(longp, 'a', sizeof(longp));
    longp[0] = '/';
    longp[SHM_PATH_MAX] = 0;		/* exactly SHM_PATH_MAX bytes */
    assert_int_equal(shm_path_check(longp, msg, sizeof(msg)), 0);
    longp[SHM_PATH_MAX] = 'a';
    longp[SHM_PATH_MAX + 1] = 0;
    assert_int_equal(shm_path_check(longp, msg, sizeof(msg)), -1);
    assert_string_equal(msg, "longer than 200 bytes");
    assert_int_equal(shm_segment_size(&big), 0);
    assert_true(shm_segment_size(&g) > 10 * 2 * sizeof(QS_KEY));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(attack_squat_foreign_0666, setup,
					teardown),
	cmocka_unit_test_setup_teardown(attack_foreign_owner_0644, setup,
					teardown),
	cmocka_unit_test_setup_teardown(attack_own_file_mode_links, setup,
					teardown),
	cmocka_unit_test_setup_teardown(attack_symlink_name, setup, teardown),
	cmocka_unit_test_setup_teardown(attack_fifo, setup, teardown),
	cmocka_unit_test_setup_teardown(attack_truncated, setup, teardown),
	cmocka_unit_test_setup_teardown(attack_directories, setup, teardown),
	cmocka_unit_test_setup_teardown(attack_writer, setup, teardown),
	cmocka_unit_test_setup_teardown(dir_prepare, setup, teardown),
	cmocka_unit_test_setup_teardown(header_repair, setup, teardown),
	cmocka_unit_test_setup_teardown(heartbeat_mono, setup, teardown),
	cmocka_unit_test(path_rule),
    };

    return cmocka_run_group_tests(tests, 0, 0);
}

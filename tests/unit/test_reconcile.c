/*
 * Property test of the scanner's reconcile: over random queue histories
 * (messages created as cleanup does, renamed between queues as qmgr does,
 * deleted, recipients marked done in place; the inotify events of a batch
 * applied or dropped), after every reconcile, partial or full, each
 * message's queue is where the file is, and every key's counts (per
 * queue and age bucket, every kind) equal those of a fresh full scan.
 *
 * Partial reconciles: a reconcile lists only the queues whose directories
 * changed since they were listed, and trusts no mtime within a second of
 * the listing.  So the test runs in the past: after each batch, every
 * directory the batch changed gets an mtime of its own, an hour ago and
 * one second later than the one before, so that the directories a batch
 * did not touch are skipped, exactly as a queue that stays still is.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "qfbuild.h"
#include "log.h"
#include "scanner.h"

#define NQ	4
#define NMSG	160
#define NOW	1700000000		/* wall clock, seconds */
#define MONO	5000			/* monotonic clock, seconds */
#define NDIRS	5

static const char *const queues[NQ] = {"incoming", "active", "deferred",
				       "hold"};
static const char *const dirs[NDIRS] = {"incoming", "active", "deferred",
					"deferred/A", "hold"};
static char root[64];
static char shm_name[160];
static int base_fd;
static int where[NMSG];			/* queue, or -1 */
static int done[NMSG];			/* recipient r@x.example done */
static time_t dir_clock;		/* the next backdated mtime */

static SC_TIME
at(int64_t wall, int64_t mono)
{
    SC_TIME t = {wall * 1000, mono * 1000};

    return t;
}

static void
path_of(char *buf, size_t len, int q, int i)
{
    snprintf(buf, len, "%s/%s/%sQ%04dX", root, queues[q],
	     q == 2 ? "A/" : "", i);
}

/* As cleanup does: temporary name, 0600, rename, then chmod 0700. */
static void
create(int q, int i)
{
    static const char *const r[] = {"r@x.example", "s@y.example", 0};
    QFB     b = {0};
    char    tmp[256], path[256], sender[64];
    int     fd;

    snprintf(sender, sizeof(sender), "u@d%d.p%d.example", i % 23, i % 5);
    qfb_message(&b, NOW - (i % 50) * 60, sender, r, "192.0.2.9",
		i % 3 ? 0 : "sasl");
    snprintf(tmp, sizeof(tmp), "%s/%s/%d.%d", root, queues[q], getpid(), i);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b.buf, b.len), (ssize_t) b.len);
    path_of(path, sizeof(path), q, i);
    assert_int_equal(rename(tmp, path), 0);
    assert_int_equal(fchmod(fd, 0700), 0);
    close(fd);
    free(b.buf);
    where[i] = q;
    done[i] = 0;
}

static void
move(int i, int to)
{
    char    from[256], dest[256];

    path_of(from, sizeof(from), where[i], i);
    path_of(dest, sizeof(dest), to, i);
    assert_int_equal(rename(from, dest), 0);
    where[i] = to;
}

static void
delete(int i)
{
    char    path[256];

    path_of(path, sizeof(path), where[i], i);
    assert_int_equal(unlink(path), 0);
    where[i] = -1;
}

/* As qmgr does: overwrite the R of a delivered recipient with D, in
 * place (the file is opened for writing: its close is an event). */
static void
mark_done(int i)
{
    static const char rec[] = "R\x0br@x.example";
    char    path[256], buf[4096];
    ssize_t n;
    char   *p;
    int     fd;

    path_of(path, sizeof(path), where[i], i);
    fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    n = read(fd, buf, sizeof(buf));
    assert_true(n > 0);
    p = memmem(buf, (size_t) n, rec, sizeof(rec) - 1);
    assert_non_null(p);
    assert_int_equal(pwrite(fd, "D", 1, p - buf), 1);
    close(fd);
    done[i] = 1;
}

static SCANNER *
make_scanner(void)
{
    static const SC_POLICY none[1];
    SC_CONF c;
    char    err[256];
    SCANNER *sc;

    memset(&c, 0, sizeof(c));
    c.base_fd = base_fd;
    c.queues = queues;
    c.nqueues = NQ;
    c.geom = (IX_GEOM) {NQ, 10, 5.0, 0};
    c.top_keys = 1000;
    c.max_throttled = 1024;
    c.policy = none;
    c.npolicy = 0;
    c.summary_file = shm_name;
    c.gid = -1;
    c.publish_interval_ms = 100;
    c.heartbeat_interval_ms = 1000;
    sc = sc_create(&c, err, sizeof(err));
    if (sc == 0)
	fail_msg("sc_create: %s", err);
    return sc;
}

static int
setup(void **state)
{
    char    path[128];
    int     d;

    (void) state;
    snprintf(root, sizeof(root), "/tmp/test_reconcile.XXXXXX");
    if (mkdtemp(root) == 0)
	return -1;
    snprintf(path, sizeof(path), "%s/run", root);
    mkdir(path, 0700);
    snprintf(shm_name, sizeof(shm_name), "%s/summary", path);
    for (d = 0; d < NDIRS; d++) {
	snprintf(path, sizeof(path), "%s/%s", root, dirs[d]);
	mkdir(path, 0700);
    }
    base_fd = open(root, O_RDONLY | O_DIRECTORY);
    dir_clock = time(0) - 3600;
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

/* Apply the pending events. */
static void
settle(SCANNER *sc)
{
    struct pollfd p = {sc_fd(sc), POLLIN, 0};

    while (poll(&p, 1, 0) > 0)
	assert_int_equal(sc_events(sc), 0);
}

/* Lose the pending events, as an inotify queue overflow would. */
static void
drop_events(SCANNER *sc)
{
    char    buf[64 * 1024];
    struct pollfd p = {sc_fd(sc), POLLIN, 0};

    while (poll(&p, 1, 0) > 0)
	if (read(sc_fd(sc), buf, sizeof(buf)) <= 0)
	    break;
}

static void
dir_times(struct timespec t[NDIRS])
{
    struct stat st;
    int     d;

    for (d = 0; d < NDIRS; d++) {
	assert_int_equal(fstatat(base_fd, dirs[d], &st, 0), 0);
	t[d] = st.st_mtim;
    }
}

/* Each directory changed since 'before' gets the next backdated mtime. */
static int
backdate_changed(const struct timespec before[NDIRS])
{
    struct timespec now[NDIRS], set[2];
    int     d, changed = 0;

    dir_times(now);
    for (d = 0; d < NDIRS; d++) {
	if (now[d].tv_sec == before[d].tv_sec
	    && now[d].tv_nsec == before[d].tv_nsec)
	    continue;
	set[0].tv_sec = set[1].tv_sec = dir_clock++;
	set[0].tv_nsec = set[1].tv_nsec = 0;
	assert_int_equal(utimensat(base_fd, dirs[d], set, 0), 0);
	changed++;
    }
    return changed;
}

static void
same_counts(const IX *a, const IX *b)
{
    int     k;

    assert_int_equal(ix_messages(a), ix_messages(b));
    for (k = 0; k < QS_NKEYKINDS; k++) {
	IX_RANK ra, rb;
	IX_ROW *copy;
	size_t  i;

	ix_count_keys((IX *) a, k, NOW, 100000, &ra);
	copy = malloc((ra.nrows + 1) * sizeof(*copy));
	memcpy(copy, ra.row, ra.nrows * sizeof(*copy));
	ix_count_keys((IX *) b, k, NOW, 100000, &rb);
	assert_int_equal(ra.nrows, rb.nrows);
	assert_int_equal(ra.ndistinct, rb.ndistinct);
	for (i = 0; i < rb.nrows; i++) {
	    assert_int_equal(copy[i].len, rb.row[i].len);
	    assert_memory_equal(copy[i].key, rb.row[i].key, rb.row[i].len);
	    assert_int_equal(copy[i].total, rb.row[i].total);
	    assert_memory_equal(copy[i].count, rb.row[i].count,
				sizeof(copy[i].count));
	}
	free(copy);
    }
}

/* The live index against the files and against a fresh full scan. */
static void
check(SCANNER *live)
{
    SCANNER *fresh = make_scanner();
    const IX *ix = sc_index(live);
    char    id[16];
    int     i;

    sc_reconcile(fresh, at(NOW, MONO));
    for (i = 0; i < NMSG; i++) {
	snprintf(id, sizeof(id), "Q%04dX", i);
	assert_int_equal(ix_queue_of(ix, id), where[i]);
	assert_int_equal(ix_queue_of(sc_index(fresh), id), where[i]);
    }
    same_counts(ix, sc_index(fresh));
    sc_destroy(fresh);
}

/*
 * One history.  Recipients are marked done only in batches whose events
 * are read: a file rewritten in place changes no directory, so only its
 * event tells.  A lost one is repaired when the file's move out of active
 * is seen (sc_events.c reads it again then); a reconcile does not read a
 * file it knows again, so with that event lost too the index keeps the
 * delivered recipients.  Known, not tested here: issue 11's closing note.
 */
static void
history(unsigned seed, int nbatch, int drop_pct)
{
    SCANNER *live;
    SC_STATS st;
    struct timespec before[NDIRS];
    int     b, op, n, i, drop, partial = 0, reconciles = 0;

    for (i = 0; i < NMSG; i++)
	if (where[i] >= 0)
	    delete(i);
    srand(seed);
    live = make_scanner();
    sc_reconcile(live, at(NOW, MONO));
    for (b = 0; b < nbatch; b++) {
	drop = rand() % 100 < drop_pct;
	dir_times(before);
	for (op = 0; op < 1 + rand() % 12; op++) {
	    n = rand() % NMSG;
	    if (where[n] < 0)
		create(rand() % 2, n);
	    else if (rand() % 5 == 0)
		delete(n);
	    else if (!drop && !done[n] && rand() % 4 == 0)
		mark_done(n);
	    else
		move(n, (where[n] + 1 + rand() % (NQ - 1)) % NQ);
	}
	if (drop)
	    drop_events(live);
	else
	    settle(live);
	n = backdate_changed(before);
	drop_events(live);		/* the utimensat's, if any */
	if (drop || rand() % 3 == 0) {
	    sc_reconcile(live, at(NOW, MONO));
	    reconciles++;
	    partial += n < NDIRS;
	    check(live);
	}
    }
    sc_reconcile(live, at(NOW, MONO));
    check(live);
    sc_stats(live, &st);
    /* Some reconciles were partial: fewer queues listed than walked. */
    assert_true(partial > nbatch / 10);
    assert_true(st.queues_listed < (uint64_t) (reconciles + 2) * NQ);
    sc_destroy(live);
}

static void
reconcile_matches_full_scan(void **state)
{
    (void) state;
    history(1, 60, 50);
    history(2, 60, 80);
    history(3, 60, 20);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(reconcile_matches_full_scan),
    };
    int     i;

    log_init("test_reconcile", 1, LOGL_WARN);
    for (i = 0; i < NMSG; i++)
	where[i] = -1;
    return cmocka_run_group_tests_name("reconcile", tests, setup, teardown);
}

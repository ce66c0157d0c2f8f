/*
 * Unit tests for the scanner: random file-system operations on a queue,
 * seen through inotify, end with exactly the counts of a full rescan.
 *
 * Files are made the way cleanup makes them (a temporary name with a dot,
 * mode 0600, renamed to the queue ID, then chmod 0700), moved between
 * queues by rename as qmgr does, and deleted.
 *
 * Also: steps of the wall clock move no schedule and no hold time; FIFOs
 * and device nodes in a queue are never opened.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <fcntl.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "qfbuild.h"
#include "counters.h"
#include "log.h"
#include "scanner.h"
#include "shm.h"

#define NQ	4
#define NMSG	400
#define NOW	1700000000		/* wall clock, seconds */
#define MONO	5000			/* monotonic clock, seconds */

static const char *const queues[NQ] = {"incoming", "active", "deferred",
				       "hold"};
static char root[64];
static char shm_name[160];
static int base_fd;
static int where[NMSG];			/* queue, or -1 */

/* A moment: wall and monotonic milliseconds. */
static SC_TIME
at_ms(int64_t wall_ms, int64_t mono_ms)
{
    SC_TIME t = {wall_ms, mono_ms};

    return t;
}

/* The same in seconds. */
static SC_TIME
at(int64_t wall, int64_t mono)
{
    return at_ms(wall * 1000, mono * 1000);
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

    snprintf(sender, sizeof(sender), "u@d%d.p%d.example", i % 37, i % 5);
    qfb_message(&b, NOW - (i % 50) * 60, sender, r + (i % 2), "192.0.2.9",
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

static SCANNER *
make_scanner_with(const SC_POLICY *policy, size_t npolicy)
{
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
    c.policy = policy;
    c.npolicy = npolicy;
    c.summary_file = shm_name;
    c.gid = -1;
    c.publish_interval_ms = 100;
    c.heartbeat_interval_ms = 1000;
    sc = sc_create(&c, err, sizeof(err));
    if (sc == 0)
	fail_msg("sc_create: %s", err);
    return sc;
}

static SCANNER *
make_scanner(void)
{
    static const SC_POLICY none[1];

    return make_scanner_with(none, 0);
}

static int
setup(void **state)
{
    char    path[128];
    int     q;

    (void) state;
    snprintf(root, sizeof(root), "/tmp/test_scanner.XXXXXX");
    if (mkdtemp(root) == 0)
	return -1;
    snprintf(path, sizeof(path), "%s/run", root);	/* the summary's */
    mkdir(path, 0700);
    snprintf(shm_name, sizeof(shm_name), "%s/summary", path);
    for (q = 0; q < NQ; q++) {
	snprintf(path, sizeof(path), "%s/%s", root, queues[q]);
	mkdir(path, 0700);
    }
    snprintf(path, sizeof(path), "%s/deferred/A", root);
    mkdir(path, 0700);
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

/* Drain events until inotify is quiet. */
static void
settle(SCANNER *sc)
{
    struct pollfd p = {sc_fd(sc), POLLIN, 0};

    while (poll(&p, 1, 50) > 0)
	assert_int_equal(sc_events(sc), 0);
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
	for (i = 0; i < rb.nrows; i++) {
	    assert_int_equal(copy[i].len, rb.row[i].len);
	    assert_memory_equal(copy[i].key, rb.row[i].key, rb.row[i].len);
	    assert_memory_equal(copy[i].count, rb.row[i].count,
				sizeof(copy[i].count));
	}
	free(copy);
    }
}

static void
events_match_rescan(void **state)
{
    SCANNER *live, *fresh;
    SC_STATS st;
    int     i, n, op, expect = 0;

    (void) state;
    for (i = 0; i < NMSG; i++)
	where[i] = -1;
    live = make_scanner();
    sc_reconcile(live, at(NOW, MONO));
    srand(7);
    for (op = 0; op < 3000; op++) {
	n = rand() % NMSG;
	if (where[n] < 0) {
	    create(rand() % 2, n);		/* into incoming or active */
	} else if (rand() % 4 == 0) {
	    delete(n);
	} else {
	    move(n, (where[n] + 1 + rand() % (NQ - 1)) % NQ);
	}
	if (op % 50 == 0)
	    settle(live);
    }
    settle(live);
    for (i = 0; i < NMSG; i++)
	expect += where[i] >= 0;
    assert_int_equal(ix_messages(sc_index(live)), expect);
    /* Moves were followed, never parsed again. */
    sc_stats(live, &st);
    assert_true(st.moved > 1000);
    assert_int_equal(st.skipped, 0);

    fresh = make_scanner();		/* a full rescan of the same queue */
    sc_reconcile(fresh, at(NOW, MONO));
    same_counts(sc_index(live), sc_index(fresh));
    /* A reconcile of the live index finds nothing to change. */
    sc_stats(live, &st);
    n = (int) st.parsed;
    sc_reconcile(live, at(NOW, MONO));
    sc_stats(live, &st);
    assert_int_equal(st.parsed, n);
    same_counts(sc_index(live), sc_index(fresh));
    sc_destroy(fresh);
    sc_destroy(live);
}

/* The throttle entry of a sender domain in the summary: 1, or 0. */
static int
published(const char *domain, QS_THROTTLE *t)
{
    SHM_ERR why;
    char    err[128];
    SHM_R  *r = shm_reader_open(shm_name, &why, err, sizeof(err));
    size_t  len = strlen(domain);
    int     rc;

    assert_non_null(r);
    rc = shm_reader_find_throttle(r, QS_KEY_SENDER_DOMAIN,
				  qs_key_hash(QS_KEY_SENDER_DOMAIN, domain,
					      len), domain, len, 0, t);
    shm_reader_close(r);
    assert_true(rc == 0 || rc == 1);
    return rc;
}

static int
published_since(int64_t *since)
{
    QS_THROTTLE t;
    int     rc = published("d1.p1.example", &t);

    *since = rc == 1 ? t.since : 0;
    return rc;
}

/* A reload (a new scanner) keeps a key throttled since when it was, and
 * the counters of the metrics: an inherited key is no new transition. */
static void
reload_keeps_state(void **state)
{
    SC_POLICY pol[2];
    SCANNER *old, *new;
    SC_STATS st0, st;
    int64_t since;
    int     i, n = 0;

    (void) state;
    memset(pol, 0, sizeof(pol));
    pol[0].th = (TH_POLICY) {"flood", QS_KEY_SENDER_DOMAIN, QS_ACTION_HOLD,
			     1, 1, 0.0, 0.8, 300000, 0};	/* ms */
    pol[0].window = (IX_WINDOW) {QS_KEY_SENDER_DOMAIN, 0xf, 0, 1};
    for (i = 0; i < NMSG; i++)
	if (where[i] >= 0 && i % 37 == 1)
	    n++;
    if (n == 0)
	create(0, 1);			/* d1.p1.example */
    old = make_scanner_with(pol, 1);
    sc_reconcile(old, at(NOW, MONO));
    sc_publish(old, at(NOW, MONO));
    assert_int_equal(published_since(&since), 1);
    assert_int_equal(since, NOW);
    sc_stats(old, &st0);
    assert_int_equal(st0.reconciles, 1);
    assert_true(st0.throttle_enters >= 1);
    assert_int_equal(st0.throttle_leaves, 0);
    new = make_scanner_with(pol, 1);
    sc_inherit(new, old);
    sc_stats(new, &st);
    assert_memory_equal(&st, &st0, sizeof(st));
    sc_destroy(old);
    sc_reconcile(new, at(NOW + 60, MONO + 60));
    sc_publish(new, at(NOW + 60, MONO + 60));
    assert_int_equal(published_since(&since), 1);
    assert_int_equal(since, NOW);		/* not NOW + 60 */
    sc_stats(new, &st);
    assert_int_equal(st.reconciles, 2);
    assert_int_equal(st.start_time, st0.start_time);
    assert_int_equal(st.throttle_enters, st0.throttle_enters);
    assert_int_equal(st.throttle_leaves, 0);
    sc_destroy(new);
}

/*
 * A reconcile lists only the queues whose directories changed since they
 * were listed (more than a second before): a change made behind the
 * scanner's back, with its events left unread, is still found.
 */
static void
reconcile_skips_unchanged(void **state)
{
    SCANNER *sc = make_scanner();
    SC_STATS st;
    uint64_t listed;
    size_t  before;
    int     i;

    (void) state;
    sc_reconcile(sc, at(NOW, MONO));
    sleep(2);
    sc_reconcile(sc, at(NOW, MONO));	/* mtimes older than a listing */
    sc_stats(sc, &st);
    listed = st.queues_listed;
    assert_int_equal(listed, 2 * NQ);
    before = ix_messages(sc_index(sc));
    sc_reconcile(sc, at(NOW, MONO));
    sc_stats(sc, &st);
    assert_int_equal(st.queues_listed, listed);	/* nothing listed */
    assert_int_equal(ix_messages(sc_index(sc)), before);
    /* Delete one file of the hold queue; do not read the events. */
    for (i = 0; i < NMSG && where[i] != 3; i++)
	 /* void */ ;
    if (i == NMSG) {
	create(0, 0);
	move(0, 3);
	sleep(2);
	sc_reconcile(sc, at(NOW, MONO));
	sc_reconcile(sc, at(NOW, MONO));
	sc_stats(sc, &st);
	listed = st.queues_listed;
	before = ix_messages(sc_index(sc));
	i = 0;
    }
    delete(i);
    sc_reconcile(sc, at(NOW, MONO));
    sc_stats(sc, &st);
    assert_int_equal(st.queues_listed, listed + 1);	/* hold only */
    assert_int_equal(ix_messages(sc_index(sc)), before - 1);
    sc_destroy(sc);
}

/*
 * The clocks.  With the wall clock stepped back 60 s, or forward, between
 * two calls: the next publication is due exactly when it was (the
 * heartbeat, and the coalescing of a change), and a throttled key is held
 * exactly min_hold_time of the monotonic clock.  The published since and
 * hold_until are those monotonic times shown on the wall clock of the
 * publication.  d5.p0.example is message 5's alone (i % 185 == 5).
 */
static void
clock_steps_move_no_schedule(void **state)
{
    static const int mine[3] = {5, 190, 375};
    SC_POLICY pol[1];
    QS_THROTTLE t;
    SCANNER *sc;
    int64_t w0 = (int64_t) NOW * 1000, m0 = (int64_t) MONO * 1000;
    int     i;

    (void) state;
    memset(pol, 0, sizeof(pol));
    pol[0].th = (TH_POLICY) {"flood", QS_KEY_SENDER_DOMAIN, QS_ACTION_HOLD,
			     1, 1, 0.0, 0.8, 300000, 0};	/* ms */
    pol[0].window = (IX_WINDOW) {QS_KEY_SENDER_DOMAIN, 0xf, 0, 1};
    for (i = 0; i < 3; i++)
	if (where[mine[i]] >= 0)
	    delete(mine[i]);
    create(0, 5);
    sc = make_scanner_with(pol, 1);
    sc_reconcile(sc, at(NOW, MONO));
    sc_publish(sc, at(NOW, MONO));
    assert_int_equal(published("d5.p0.example", &t), 1);
    assert_int_equal(t.since, NOW);
    assert_int_equal(t.hold_until, NOW + 300);

    /* Nothing changed: the heartbeat, 1000 ms after the publication. */
    assert_int_equal(sc_publish_due(sc, at_ms(w0 + 400, m0 + 400)), 600);
    assert_int_equal(sc_publish_due(sc, at_ms(w0 - 60000 + 400, m0 + 400)),
		     600);
    assert_int_equal(sc_publish_due(sc, at_ms(w0 + 60000 + 400, m0 + 400)),
		     600);
    /* A change: coalesced for 100 ms after the publication. */
    delete(5);
    settle(sc);
    assert_int_equal(sc_publish_due(sc, at_ms(w0 + 40, m0 + 40)), 60);
    assert_int_equal(sc_publish_due(sc, at_ms(w0 - 60000 + 40, m0 + 40)), 60);
    assert_int_equal(sc_publish_due(sc, at_ms(w0 + 60000 + 40, m0 + 40)), 60);
    assert_int_equal(sc_publish_due(sc, at_ms(w0 - 60000, m0 + 100)), 0);

    /* Its mail is gone; min_hold_time keeps it until MONO + 300. */
    sc_publish(sc, at(NOW - 60, MONO + 299));
    assert_int_equal(published("d5.p0.example", &t), 1);
    assert_int_equal(t.count, 0);
    assert_int_equal(t.since, NOW - 60 - 299);
    assert_int_equal(t.hold_until, NOW - 60 + 1);
    sc_publish(sc, at(NOW + 3600, MONO + 299));
    assert_int_equal(published("d5.p0.example", &t), 1);
    assert_int_equal(t.hold_until, NOW + 3600 + 1);
    sc_publish(sc, at(NOW - 60, MONO + 300));
    assert_int_equal(published("d5.p0.example", &t), 0);
    sc_destroy(sc);
}

/* Did the test's own inotify see this name opened?  Reads it all. */
static int
opened(int ifd, const char *a, const char *b)
{
    char    buf[4096] __attribute__((aligned(8)));
    ssize_t n;
    char   *p;
    int     seen = 0;

    while ((n = read(ifd, buf, sizeof(buf))) > 0) {
	for (p = buf; p < buf + n;) {
	    const struct inotify_event *ev = (const void *) p;

	    if (ev->len > 0 && (ev->mask & IN_OPEN)
		&& (strcmp(ev->name, a) == 0 || strcmp(ev->name, b) == 0))
		seen++;
	    p += sizeof(*ev) + ev->len;
	}
    }
    assert_int_equal(errno, EAGAIN);
    return seen;
}

/*
 * A FIFO and a device node (/dev/null's numbers) in a queue directory,
 * with queue-ID names: the scanner never opens them, neither on their
 * events nor in a reconcile, and counts them as skipped.  An open of the
 * FIFO could block: alarm() ends a hung test.  Without root, no mknod:
 * the FIFO alone.
 */
static void
special_files_never_opened(void **state)
{
    char    dir[128], fifo[160], dev[160];
    SCANNER *sc = make_scanner();
    SC_STATS st0, st;
    int     ifd, nspecial = 1;

    (void) state;
    sc_reconcile(sc, at(NOW, MONO));
    settle(sc);
    snprintf(dir, sizeof(dir), "%s/incoming", root);
    snprintf(fifo, sizeof(fifo), "%s/FIFO01", dir);
    snprintf(dev, sizeof(dev), "%s/DEVN01", dir);
    ifd = inotify_init1(IN_NONBLOCK);
    assert_true(ifd >= 0);
    assert_true(inotify_add_watch(ifd, dir, IN_OPEN) >= 0);
    sc_stats(sc, &st0);
    alarm(20);
    assert_int_equal(mkfifo(fifo, 0700), 0);
    if (mknod(dev, S_IFCHR | 0700, makedev(1, 3)) == 0)
	nspecial = 2;
    else
	assert_int_equal(errno, EPERM);
    settle(sc);
    sc_stats(sc, &st);
    assert_int_equal(st.skipped, st0.skipped + nspecial);
    assert_int_equal(opened(ifd, "FIFO01", "DEVN01"), 0);
    sc_reconcile(sc, at(NOW, MONO));	/* incoming changed: listed */
    sc_stats(sc, &st);
    assert_int_equal(st.skipped, st0.skipped + 2 * nspecial);
    assert_int_equal(opened(ifd, "FIFO01", "DEVN01"), 0);
    alarm(0);
    unlink(fifo);
    unlink(dev);
    settle(sc);
    close(ifd);
    sc_destroy(sc);
}

/*
 * Pressure (issue 8): the milter's counters keep a key whose mail is gone
 * throttled until pressure_time after its latest match, exactly: the
 * scanner makes a publication due at that moment, and releases it there.
 * Counters file beside the summary; d5.p0.example alone, as above.
 */
static void
pressure_keeps_and_releases_exactly(void **state)
{
    static const int mine[3] = {5, 190, 375};
    SC_POLICY pol[1];
    QS_THROTTLE t;
    SCANNER *sc;
    CT_W   *w;
    CT_MATCH m;
    char    ct_name[192], err[256];
    int64_t w0 = (int64_t) NOW * 1000, m0 = (int64_t) MONO * 1000;
    const int64_t P = m0 + 310000;	/* the milter's match, mono ms */
    SC_CONF c;
    int     i, reused;

    (void) state;
    memset(pol, 0, sizeof(pol));
    pol[0].th = (TH_POLICY) {"flood", QS_KEY_SENDER_DOMAIN, QS_ACTION_HOLD,
			     1, 1, 0.0, 0.8, 300000, 60000};	/* ms */
    pol[0].window = (IX_WINDOW) {QS_KEY_SENDER_DOMAIN, 0xf, 0, 1};
    for (i = 0; i < 3; i++)
	if (where[mine[i]] >= 0)
	    delete(mine[i]);
    create(0, 5);
    snprintf(ct_name, sizeof(ct_name), "%.*s/counters",
	     (int) (strrchr(shm_name, '/') - shm_name), shm_name);
    w = ct_writer_open(ct_name, -1, &reused, err, sizeof(err));
    if (w == 0)
	fail_msg("ct_writer_open: %s", err);
    memset(&c, 0, sizeof(c));
    c.base_fd = base_fd;
    c.queues = queues;
    c.nqueues = NQ;
    c.geom = (IX_GEOM) {NQ, 10, 5.0, 0};
    c.top_keys = 1000;
    c.max_throttled = 1024;
    c.policy = pol;
    c.npolicy = 1;
    c.summary_file = shm_name;
    c.counters_file = ct_name;
    c.gid = -1;
    c.publish_interval_ms = 100;
    c.heartbeat_interval_ms = 1000;
    if ((sc = sc_create(&c, err, sizeof(err))) == 0)
	fail_msg("sc_create: %s", err);
    sc_reconcile(sc, at(NOW, MONO));
    sc_publish(sc, at(NOW, MONO));
    assert_int_equal(published("d5.p0.example", &t), 1);
    assert_int_equal(t.kept, QS_KEPT_QUEUE | QS_KEPT_HOLD_TIME);
    assert_int_equal(t.last_pressure_ms, 0);
    delete(5);
    settle(sc);

    /* The milter held one at P; hold time over at m0 + 300000. */
    m = (CT_MATCH) {0, "flood", QS_KEY_SENDER_DOMAIN,
		    qs_key_hash(QS_KEY_SENDER_DOMAIN, "d5.p0.example", 13),
		    QS_ACTION_HOLD, QS_ACTION_HOLD, 0};
    ct_count_match(w, &m, P * 1000000);
    sc_publish(sc, at_ms(w0 + 320000, m0 + 320000));
    assert_int_equal(published("d5.p0.example", &t), 1);
    assert_int_equal(t.kept, QS_KEPT_PRESSURE);
    assert_int_equal(t.count, 0);
    assert_int_equal(t.last_pressure_ms, w0 + 310000);

    /* Due at P + 60000 even before the heartbeat. */
    sc_publish(sc, at_ms(w0 + 369400, m0 + 369400));
    assert_int_equal(sc_publish_due(sc, at_ms(w0 + 369500, m0 + 369500)),
		     500);
    sc_publish(sc, at_ms(w0 + 369999, m0 + 369999));
    assert_int_equal(published("d5.p0.example", &t), 1);
    sc_publish(sc, at_ms(w0 + 370000, m0 + 370000));
    assert_int_equal(published("d5.p0.example", &t), 0);
    /* Nothing throttled: only the heartbeat is due. */
    assert_int_equal(sc_publish_due(sc, at_ms(w0 + 370500, m0 + 370500)),
		     500);
    sc_destroy(sc);
    ct_writer_close(w);
    unlink(ct_name);
}

/* The scanner's published policies: a reader's good copy of policy[]. */
static void
published_policies(QS_POLICY *out, uint32_t *n)
{
    char    err[256];
    SHM_ERR e;
    SHM_R  *r = shm_reader_open(shm_name, &e, err, sizeof(err));
    void   *body;

    if (r == 0)
	fail_msg("shm_reader_open: %s", err);
    body = malloc(shm_reader_body_size(r));
    assert_non_null(body);
    assert_int_equal(shm_reader_copy(r, body, shm_reader_body_size(r)), 0);
    *n = ((const QS_BODY *) body)->npolicy;
    memcpy(out, shm_body_policy(body), QS_MAX_POLICIES * sizeof(*out));
    free(body);
    shm_reader_close(r);
}

/*
 * Throttle transitions per policy (issue 10): one key enters under
 * "flood" and is released; "quiet" (sender, min_count 2: the one message
 * is too few) counts nothing.  The counts are in sc_stats(), in the
 * published policy[] and in the metrics; a reload that reorders the
 * policies keeps each policy's counts under its name.
 */
static void
transitions_per_policy(void **state)
{
    SC_POLICY pol[2], rev[2];
    QS_POLICY qp[QS_MAX_POLICIES];
    SCANNER *sc, *again;
    SC_STATS st;
    char   *buf = 0;
    size_t  len = 0;
    FILE   *fp;
    uint32_t n;
    int     i;

    (void) state;
    memset(pol, 0, sizeof(pol));
    pol[0].th = (TH_POLICY) {"flood", QS_KEY_SENDER_DOMAIN, QS_ACTION_HOLD,
			     1, 1, 0.0, 0.8, 300000, 0};	/* ms */
    pol[0].window = (IX_WINDOW) {QS_KEY_SENDER_DOMAIN, 0xf, 0, 1};
    pol[1].th = (TH_POLICY) {"quiet", QS_KEY_SENDER, QS_ACTION_TEMPFAIL,
			     1, 2, 0.0, 0.8, 300000, 0};
    pol[1].window = (IX_WINDOW) {QS_KEY_SENDER, 0xf, 0, 1};
    for (i = 0; i < NMSG; i++)
	if (where[i] >= 0)
	    delete(i);
    create(0, 7);			/* u@d7.p2.example */
    sc = make_scanner_with(pol, 2);
    sc_reconcile(sc, at(NOW, MONO));
    assert_int_equal(ix_messages(sc_index(sc)), 1);
    sc_publish(sc, at(NOW, MONO));
    sc_stats(sc, &st);
    assert_int_equal(st.policy_enters[0], 1);
    assert_int_equal(st.policy_leaves[0], 0);
    assert_int_equal(st.policy_enters[1], 0);
    assert_int_equal(st.policy_leaves[1], 0);
    delete(7);
    settle(sc);
    sc_publish(sc, at(NOW + 299, MONO + 299));	/* min_hold_time */
    sc_stats(sc, &st);
    assert_int_equal(st.policy_leaves[0], 0);
    sc_publish(sc, at(NOW + 300, MONO + 300));
    sc_stats(sc, &st);
    assert_int_equal(st.policy_enters[0], 1);
    assert_int_equal(st.policy_leaves[0], 1);
    assert_int_equal(st.policy_enters[1], 0);
    assert_int_equal(st.policy_leaves[1], 0);
    assert_int_equal(st.throttle_enters, 1);
    assert_int_equal(st.throttle_leaves, 1);

    published_policies(qp, &n);
    assert_int_equal(n, 2);
    assert_string_equal(qp[0].name, "flood");
    assert_int_equal(qp[0].throttle_enters, 1);
    assert_int_equal(qp[0].throttle_leaves, 1);
    assert_int_equal(qp[0].throttled, 0);
    assert_string_equal(qp[1].name, "quiet");
    assert_int_equal(qp[1].throttle_enters, 0);
    assert_int_equal(qp[1].throttle_leaves, 0);

    fp = open_memstream(&buf, &len);
    assert_non_null(fp);
    assert_int_equal(sc_metrics(sc, fp, 10), 0);
    fclose(fp);
    assert_non_null(strstr(buf, "\nqshape_throttle_transitions_total"
			   "{policy=\"flood\",direction=\"enter\"} 1\n"));
    assert_non_null(strstr(buf, "\nqshape_throttle_transitions_total"
			   "{policy=\"flood\",direction=\"leave\"} 1\n"));
    assert_non_null(strstr(buf, "\nqshape_throttle_transitions_total"
			   "{policy=\"quiet\",direction=\"enter\"} 0\n"));
    assert_non_null(strstr(buf, "\nqshape_throttle_transitions_total"
			   "{policy=\"quiet\",direction=\"leave\"} 0\n"));
    free(buf);

    /* A reload with the policies in the other order. */
    rev[0] = pol[1];
    rev[1] = pol[0];
    again = make_scanner_with(rev, 2);
    sc_inherit(again, sc);
    sc_destroy(sc);
    sc_stats(again, &st);
    assert_int_equal(st.policy_enters[0], 0);	/* quiet */
    assert_int_equal(st.policy_leaves[0], 0);
    assert_int_equal(st.policy_enters[1], 1);	/* flood */
    assert_int_equal(st.policy_leaves[1], 1);
    sc_destroy(again);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(events_match_rescan),
	cmocka_unit_test(reload_keeps_state),
	cmocka_unit_test(clock_steps_move_no_schedule),
	cmocka_unit_test(special_files_never_opened),
	cmocka_unit_test(reconcile_skips_unchanged),
	/* Last: the ones above expect the queue directories as the
	 * earlier tests left them. */
	cmocka_unit_test(pressure_keeps_and_releases_exactly),
	cmocka_unit_test(transitions_per_policy),
    };
    log_set_level(LOGL_ERR);		/* no "throttle on" for every key */
    return cmocka_run_group_tests_name("scanner", tests, setup, teardown);
}

/*
 * Unit tests for the scanner: random file-system operations on a queue,
 * seen through inotify, end with exactly the counts of a full rescan.
 *
 * Files are made the way cleanup makes them (a temporary name with a dot,
 * mode 0600, renamed to the queue ID, then chmod 0700), moved between
 * queues by rename as qmgr does, and deleted.
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "qfbuild.h"
#include "log.h"
#include "scanner.h"
#include "shm.h"

#define NQ	4
#define NMSG	400
#define NOW	1700000000

static const char *const queues[NQ] = {"incoming", "active", "deferred",
				       "hold"};
static char root[64];
static char shm_name[160];
static int base_fd;
static int where[NMSG];			/* queue, or -1 */

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
    sc_reconcile(live, NOW);
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
    sc_reconcile(fresh, NOW);
    same_counts(sc_index(live), sc_index(fresh));
    /* A reconcile of the live index finds nothing to change. */
    sc_stats(live, &st);
    n = (int) st.parsed;
    sc_reconcile(live, NOW);
    sc_stats(live, &st);
    assert_int_equal(st.parsed, n);
    same_counts(sc_index(live), sc_index(fresh));
    sc_destroy(fresh);
    sc_destroy(live);
}

/* The throttled key of the summary, or NULL. */
static int
published_since(int64_t *since)
{
    SHM_ERR why;
    char    err[128];
    SHM_R  *r = shm_reader_open(shm_name, &why, err, sizeof(err));
    QS_THROTTLE t;
    int     rc;

    assert_non_null(r);
    rc = shm_reader_find_throttle(r, QS_KEY_SENDER_DOMAIN,
				  qs_key_hash(QS_KEY_SENDER_DOMAIN,
					      "d1.p1.example", 13),
				  "d1.p1.example", 13, 0, &t);
    shm_reader_close(r);
    *since = rc == 1 ? t.since : 0;
    return rc;
}

/* A reload (a new scanner) keeps a key throttled since when it was. */
static void
reload_keeps_state(void **state)
{
    SC_POLICY pol[2];
    SCANNER *old, *new;
    int64_t since;
    int     i, n = 0;

    (void) state;
    memset(pol, 0, sizeof(pol));
    pol[0].th = (TH_POLICY) {"flood", QS_KEY_SENDER_DOMAIN, QS_ACTION_HOLD,
			     1, 1, 0.0, 0.8, 300};
    pol[0].window = (IX_WINDOW) {QS_KEY_SENDER_DOMAIN, 0xf, 0, 1};
    for (i = 0; i < NMSG; i++)
	if (where[i] >= 0 && i % 37 == 1)
	    n++;
    if (n == 0)
	create(0, 1);			/* d1.p1.example */
    old = make_scanner_with(pol, 1);
    sc_reconcile(old, NOW);
    sc_publish(old, (int64_t) NOW * 1000);
    assert_int_equal(published_since(&since), 1);
    assert_int_equal(since, NOW);
    new = make_scanner_with(pol, 1);
    sc_inherit(new, old);
    sc_destroy(old);
    sc_reconcile(new, NOW + 60);
    sc_publish(new, (int64_t) (NOW + 60) * 1000);
    assert_int_equal(published_since(&since), 1);
    assert_int_equal(since, NOW);		/* not NOW + 60 */
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
    sc_reconcile(sc, NOW);
    sleep(2);
    sc_reconcile(sc, NOW);		/* mtimes now older than a listing */
    sc_stats(sc, &st);
    listed = st.queues_listed;
    assert_int_equal(listed, 2 * NQ);
    before = ix_messages(sc_index(sc));
    sc_reconcile(sc, NOW);
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
	sc_reconcile(sc, NOW);
	sc_reconcile(sc, NOW);
	sc_stats(sc, &st);
	listed = st.queues_listed;
	before = ix_messages(sc_index(sc));
	i = 0;
    }
    delete(i);
    sc_reconcile(sc, NOW);
    sc_stats(sc, &st);
    assert_int_equal(st.queues_listed, listed + 1);	/* hold only */
    assert_int_equal(ix_messages(sc_index(sc)), before - 1);
    sc_destroy(sc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(events_match_rescan),
	cmocka_unit_test(reload_keeps_state),
	cmocka_unit_test(reconcile_skips_unchanged),
    };

    log_set_level(LOGL_ERR);		/* no "throttle on" for every key */
    return cmocka_run_group_tests_name("scanner", tests, setup, teardown);
}

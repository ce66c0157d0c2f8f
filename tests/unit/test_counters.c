/*
 * Unit tests for counters: the milter's counters file, its reuse across
 * restarts, and the scanner's checks (the threat model of counters.h).
 * Each test gets base/p/d/counters in a fresh base = /tmp/test_ct.XXXXXX
 * (d mode 0750, p 0755), removed after it.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "qshape/counters.h"
#include "counters.h"

#define TRUSTDIR_PREFIX	"/tmp/test_ct.XXXXXX"
#define TRUSTDIR_FILE	"counters"
#include "trustdir.h"

static CT_W *
writer(int want_reused)
{
    char    err[256] = "";
    int     reused = -1;
    CT_W   *w = ct_writer_open(name, -1, &reused, err, sizeof(err));

    if (w == 0)
	fail_msg("ct_writer_open: %s", err);
    assert_int_equal(reused, want_reused);
    return w;
}

static const CT_MATCH flood = {
    0x1234, "flood", 0, 0xabcdef, 2, 2, 0	/* sender_domain, hold */
};

/* Counts land where the reader finds them; unknown keys have none. */
static void
count_and_read(void **state)
{
    CT_W   *w = writer(0);
    CT_R   *r = ct_reader_create();
    CT_MATCH m = flood;
    char    err[256] = "";
    const QS_CT_HEADER *h;

    (void) state;
    ct_count(w, CT_SESSIONS);
    ct_count(w, CT_MESSAGES);
    ct_count(w, CT_MESSAGES);
    ct_count_exempt(w, QS_CT_EXEMPT_NETWORK);
    ct_count_fail(w, QS_CT_FAIL_STALE, 1);
    ct_count_fail(w, QS_CT_FAIL_STALE, 0);
    ct_count_match(w, &m, 1000);
    ct_count_match(w, &m, 2500);
    m.done = 3;				/* accepted (local_action accept) */
    ct_count_match(w, &m, 2000);
    assert_int_equal(ct_read(r, name, err, sizeof(err)), 0);
    h = ct_header(r);
    assert_non_null(h);
    assert_int_equal(h->generation, 1);
    assert_int_equal(h->sessions, 1);
    assert_int_equal(h->messages, 2);
    assert_int_equal(h->exempt[QS_CT_EXEMPT_NETWORK], 1);
    assert_int_equal(h->fail_begins[QS_CT_FAIL_STALE], 1);
    assert_int_equal(h->fail_messages[QS_CT_FAIL_STALE], 1);
    /* The latest store wins: the last call, not the largest time. */
    assert_int_equal(ct_last(r, 0x1234, 0, 0xabcdef), 2000);
    assert_true(ct_last(r, 0x1234, 1, 0xabcdef) == INT64_MIN);
    assert_true(ct_last(r, 0x1235, 0, 0xabcdef) == INT64_MIN);
    assert_true(ct_last(r, 0x1234, 0, 0xabcdee) == INT64_MIN);
    ct_writer_close(w);
    ct_reader_destroy(r);
}

/* A restarted milter counts on in the same file: generation 2. */
static void
survives_restart(void **state)
{
    CT_W   *w = writer(0);
    CT_R   *r = ct_reader_create();
    char    err[256];

    (void) state;
    ct_count(w, CT_SESSIONS);
    ct_count_match(w, &flood, 7);
    ct_writer_close(w);
    w = writer(1);
    assert_int_equal(ct_writer_generation(w), 2);
    ct_count(w, CT_SESSIONS);
    assert_int_equal(ct_read(r, name, err, sizeof(err)), 0);
    assert_int_equal(ct_header(r)->sessions, 2);
    assert_int_equal(ct_last(r, 0x1234, 0, 0xabcdef), 7);
    ct_writer_close(w);
    ct_reader_destroy(r);
}

/* A file of an older minor version lacks counters this milter keeps
 * (verdict[]): replaced, counts start again (generation 1, created now);
 * one of this minor version is reused. */
static void
older_minor_replaced(void **state)
{
    CT_W   *w = writer(0);
    uint16_t minor = QS_CT_VERSION_MINOR - 1;
    int     fd;

    (void) state;
    ct_count(w, CT_SESSIONS);
    ct_writer_close(w);
    fd = open(name, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, &minor, sizeof(minor),
			    offsetof(QS_CT_HEADER, minor)), sizeof(minor));
    close(fd);
    w = writer(0);
    assert_int_equal(ct_writer_generation(w), 1);
    ct_writer_close(w);
    w = writer(1);
    assert_int_equal(ct_writer_generation(w), 2);
    ct_writer_close(w);
}

/* The verdict a match counts under: LOG for an accept not asked for. */
static void
verdict_of_match(void **state)
{
    (void) state;
    assert_int_equal(ct_verdict(QS_ACTION_TEMPFAIL, QS_ACTION_TEMPFAIL),
		     QS_ACTION_TEMPFAIL);
    assert_int_equal(ct_verdict(QS_ACTION_HOLD, QS_ACTION_HOLD),
		     QS_ACTION_HOLD);
    assert_int_equal(ct_verdict(QS_ACTION_LOG, QS_ACTION_ACCEPT),
		     QS_ACTION_LOG);
    assert_int_equal(ct_verdict(QS_ACTION_TEMPFAIL, QS_ACTION_ACCEPT),
		     QS_ACTION_LOG);		/* dry_run */
    assert_int_equal(ct_verdict(QS_ACTION_HOLD, QS_ACTION_ACCEPT),
		     QS_ACTION_LOG);		/* dry_run */
    assert_int_equal(ct_verdict(QS_ACTION_ACCEPT, QS_ACTION_ACCEPT),
		     QS_ACTION_ACCEPT);		/* local_action accept */
}

/* A file of another layout is replaced, and counts start again. */
static void
foreign_file_replaced(void **state)
{
    CT_W   *w;
    CT_R   *r = ct_reader_create();
    char    err[256];
    int     fd;

    (void) state;
    fd = open(name, O_WRONLY | O_CREAT, 0640);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t) ct_file_size()), 0);
    assert_int_equal(write(fd, "junk", 4), 4);
    close(fd);
    assert_int_equal(ct_read(r, name, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown magic or version"));
    assert_null(ct_header(r));
    w = writer(0);
    assert_int_equal(ct_writer_generation(w), 1);
    assert_int_equal(ct_read(r, name, err, sizeof(err)), 0);
    ct_writer_close(w);
    ct_reader_destroy(r);
}

/* The reader's refusals: wrong size, writable by others, a link. */
static void
reader_refuses(void **state)
{
    CT_W   *w = writer(0);
    CT_R   *r = ct_reader_create();
    char    err[256], other[256];

    (void) state;
    ct_count_match(w, &flood, 5);
    ct_writer_close(w);
    assert_int_equal(chmod(name, 0646), 0);
    assert_int_equal(ct_read(r, name, err, sizeof(err)), -1);
    assert_true(ct_last(r, 0x1234, 0, 0xabcdef) == INT64_MIN);
    assert_int_equal(chmod(name, 0640), 0);
    assert_int_equal(truncate(name, 4096), 0);	/* the writer shrank it */
    assert_int_equal(ct_read(r, name, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "expected size"));
    snprintf(other, sizeof(other), "%s/other", dir);
    assert_int_equal(rename(name, other), 0);
    assert_int_equal(symlink(other, name), 0);
    assert_int_equal(ct_read(r, name, err, sizeof(err)), -1);
    assert_int_equal(unlink(name), 0);
    assert_int_equal(ct_read(r, name, err, sizeof(err)), -1);
    ct_reader_destroy(r);
}

/* Colliding keys take the next slots; beyond QS_CT_PROBES they overflow,
 * counted, and never overwrite another key. */
static void
probing_and_overflow(void **state)
{
    CT_W   *w = writer(0);
    CT_R   *r = ct_reader_create();
    CT_MATCH m = flood;
    char    err[256];
    uint64_t want = ct_ident(m.digest, m.kind, m.key_hash) & (QS_CT_NSLOTS
							      - 1);
    uint64_t hashes[QS_CT_PROBES + 1], h;
    size_t  n = 0, i;

    (void) state;
    /* Find QS_CT_PROBES + 1 keys whose first slot is the same. */
    for (h = 1; n < QS_CT_PROBES + 1; h++)
	if ((ct_ident(m.digest, m.kind, h) & (QS_CT_NSLOTS - 1)) == want)
	    hashes[n++] = h;
    for (i = 0; i < n; i++) {
	m.key_hash = hashes[i];
	ct_count_match(w, &m, 100 + (int64_t) i);
    }
    assert_int_equal(ct_read(r, name, err, sizeof(err)), 0);
    for (i = 0; i < QS_CT_PROBES; i++)
	assert_int_equal(ct_last(r, m.digest, m.kind, hashes[i]),
			 100 + (int64_t) i);
    assert_true(ct_last(r, m.digest, m.kind, hashes[QS_CT_PROBES])
		== INT64_MIN);
    assert_int_equal(ct_header(r)->slot_overflow, 1);
    ct_writer_close(w);
    ct_reader_destroy(r);
}

/* A slot unused for QS_CT_REUSE_SEC is taken over by a new key. */
static void
stale_slot_reused(void **state)
{
    CT_W   *w = writer(0);
    CT_R   *r = ct_reader_create();
    CT_MATCH m = flood;
    char    err[256];
    const int64_t later = ((int64_t) QS_CT_REUSE_SEC + 1) * 1000000000;
    uint64_t want = ct_ident(m.digest, m.kind, m.key_hash) & (QS_CT_NSLOTS
							      - 1);
    uint64_t hashes[QS_CT_PROBES + 1], h;
    size_t  n = 0, i;

    (void) state;
    for (h = 1; n < QS_CT_PROBES + 1; h++)
	if ((ct_ident(m.digest, m.kind, h) & (QS_CT_NSLOTS - 1)) == want)
	    hashes[n++] = h;
    for (i = 0; i < QS_CT_PROBES; i++) {
	m.key_hash = hashes[i];
	ct_count_match(w, &m, i == 3 ? 0 : later);
    }
    m.key_hash = hashes[QS_CT_PROBES];
    ct_count_match(w, &m, later + 1);
    assert_int_equal(ct_read(r, name, err, sizeof(err)), 0);
    assert_int_equal(ct_last(r, m.digest, m.kind, hashes[QS_CT_PROBES]),
		     later + 1);
    assert_true(ct_last(r, m.digest, m.kind, hashes[3]) == INT64_MIN);
    assert_int_equal(ct_header(r)->slot_overflow, 0);
    ct_writer_close(w);
    ct_reader_destroy(r);
}

/* A NULL writer counts nothing and does not crash. */
static void
null_writer(void **state)
{
    (void) state;
    ct_count(0, CT_SESSIONS);
    ct_count_exempt(0, 0);
    ct_count_fail(0, 0, 1);
    ct_count_match(0, &flood, 1);
    ct_writer_close(0);
    ct_reader_destroy(0);
    assert_int_equal(ct_writer_generation(0), 0);
    assert_true(ct_ident(0, 0, 0) != 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(count_and_read, setup, teardown),
	cmocka_unit_test_setup_teardown(survives_restart, setup, teardown),
	cmocka_unit_test_setup_teardown(older_minor_replaced, setup,
					teardown),
	cmocka_unit_test(verdict_of_match),
	cmocka_unit_test_setup_teardown(foreign_file_replaced, setup,
					teardown),
	cmocka_unit_test_setup_teardown(reader_refuses, setup, teardown),
	cmocka_unit_test_setup_teardown(probing_and_overflow, setup,
					teardown),
	cmocka_unit_test_setup_teardown(stale_slot_reused, setup, teardown),
	cmocka_unit_test(null_writer),
    };

    return cmocka_run_group_tests(tests, 0, 0);
}

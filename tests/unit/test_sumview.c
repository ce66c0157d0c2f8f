/*
 * Unit tests for sumview: what "qshapectl status" prints from a summary
 * body, with string fields that hold no NUL and carry terminal controls.
 *
 * The body is laid out by hand (as shm.h describes it) in a heap block of
 * exactly its size, every byte not set below non-NUL, and the hostile
 * throttle entry last: a read past any field runs off the block, which
 * the ASan build of this test (build/asan/test_sumview) reports.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qshape/summary.h"
#include "shm.h"
#include "sumview.h"

#define NOW	1700000000
#define FILL	'Z'			/* every byte not set */
#define ROUND8(n) (((n) + 7) & ~(size_t) 7)

/* A body with nq queues and nt throttle entries, the throttle entries at
 * its very end; *len is its size. */
static void *
make_body(uint32_t nq, uint32_t nt, size_t *len)
{
    size_t  oq = ROUND8(sizeof(QS_BODY));
    size_t  ot = ROUND8(oq + QS_MAX_QUEUES * sizeof(QS_QUEUE));
    size_t  oth = ROUND8(ot + QS_NKEYKINDS * sizeof(QS_TABLE));
    QS_BODY *b;

    *len = oth + nt * sizeof(QS_THROTTLE);
    b = malloc(*len);
    assert_non_null(b);
    memset(b, FILL, *len);
    b->nqueues = nq;
    b->nthrottle = nt;
    b->messages = 3177;
    b->off_queue = oq;
    b->off_table = ot;
    b->off_key = oth;
    b->off_throttle = oth;
    b->off_index = *len;
    return b;
}

/* Set a field of size bytes: s (n bytes), then pad (may be a NUL). */
static void
set_field(char *field, size_t size, const char *s, size_t n, char pad)
{
    memset(field, pad, size);
    memcpy(field, s, n);
}

static void
set_numbers(QS_THROTTLE *e, int kind, int action, int64_t hold_until)
{
    e->kind = (uint8_t) kind;
    e->action = (uint8_t) action;
    e->count = 1306;
    e->total = 2967;
    e->share_ppm = 440175;
    e->enter_count = 1203;
    e->enter_total = 2710;
    e->since = NOW - 95;
    e->hold_until = hold_until;
    e->kept = 0;
}

/* Print to a string (noinline: gcc 12 mistakes the result for a local). */
__attribute__((noinline)) static char *
render(const void *body)
{
    char   *buf = 0;
    size_t  len = 0;
    FILE   *fp = open_memstream(&buf, &len);

    sv_status(fp, body, NOW);
    fclose(fp);
    return buf;
}

#define HOSTILE_POLICY	"fl\x1b[2Jood\x07"
#define HOSTILE_KEY	"\"sp\x1b]0;pwn\x07" "am\r\n\xc2\x9b" \
			"caf\xc3\xa9\x7f\"@e.example"
#define SHOWN_KEY	"\"sp?]0;pwn?am????caf\xc3\xa9?\"@e.example"

/* Unterminated strings with ESC, BEL, CR, LF, DEL, C1 and UTF-8: printed
 * bounded by their fields, escaped, and nothing read beyond them. */
static void
hostile(void **state)
{
    size_t  len;
    char   *body = make_body(2, 2, &len);
    QS_QUEUE *q = shm_body_queue(body);
    QS_THROTTLE *t = shm_body_throttle(body);
    char    want[2048], policy[QS_NAME_BYTES + 1], key[QS_KEY_BYTES + 1];
    char   *out;

    (void) state;
    set_field(q[0].name, QS_NAME_BYTES, "in\x1b[2J", 6, FILL);
    q[0].count[0] = 7;
    set_field(q[1].name, QS_NAME_BYTES, "active", 6, 0);
    q[1].count[0] = 2755;
    set_field(t[0].policy_name, QS_NAME_BYTES, "flood", 5, 0);
    set_field(t[0].text, QS_KEY_BYTES, "spam.example", 12, 0);
    set_numbers(&t[0], QS_KEY_SENDER_DOMAIN, QS_ACTION_HOLD, NOW + 1);
    t[0].kept = QS_KEPT_HOLD_TIME | QS_KEPT_PRESSURE;
    set_field(t[1].policy_name, QS_NAME_BYTES, HOSTILE_POLICY,
	      sizeof(HOSTILE_POLICY) - 1, 'P');
    set_field(t[1].text, QS_KEY_BYTES, HOSTILE_KEY,
	      sizeof(HOSTILE_KEY) - 1, 'x');
    set_numbers(&t[1], QS_KEY_SENDER, QS_ACTION_TEMPFAIL, NOW);

    /* The field as shown: its prefix escaped, then the padding, all
     * QS_NAME_BYTES or QS_KEY_BYTES of it. */
    set_field(policy, QS_NAME_BYTES, "fl?[2Jood?", 10, 'P');
    policy[QS_NAME_BYTES] = 0;
    set_field(key, QS_KEY_BYTES, SHOWN_KEY, sizeof(SHOWN_KEY) - 1, 'x');
    key[QS_KEY_BYTES] = 0;
    snprintf(want, sizeof(want),
	     "messages: 3177\n"
	     "  in?[2JZZZZZZZZZZZZZZZZZZZZZZZZZZ 7\n"
	     "  active     2755\n"
	     "throttled: 2\n"
	     "  policy=flood key=sender_domain:spam.example action=hold "
	     "count=1306 total=2967 share=0.44 since=95s "
	     "entered_at=1203/2710 kept=min_hold_time(1s),pressure\n"
	     "  policy=%s key=sender:%s action=tempfail "
	     "count=1306 total=2967 share=0.44 since=95s "
	     "entered_at=1203/2710\n", policy, key);
    out = render(body);
    assert_string_equal(out, want);
    free(out);
    free(body);
}

/* Kinds and actions out of range are named "?" (the vocabulary's). */
static void
unknown_names(void **state)
{
    size_t  len;
    char   *body = make_body(0, 1, &len);
    QS_THROTTLE *t = shm_body_throttle(body);
    char   *out;

    (void) state;
    set_field(t[0].policy_name, QS_NAME_BYTES, "p", 1, 0);
    set_field(t[0].text, QS_KEY_BYTES, "k", 1, 0);
    set_numbers(&t[0], QS_NKEYKINDS, QS_NACTIONS, 0);
    t[0].since = INT64_MIN;
    out = render(body);
    assert_string_equal(out,
	"messages: 3177\n"
	"throttled: 1\n"
	"  policy=p key=?:k action=? count=1306 total=2967 share=0.44 "
	"since=9223372036854775807s entered_at=1203/2710\n");
    free(out);
    free(body);
}

/* sv_field: bounded by the field, escaped, NUL-terminated. */
static void
field(void **state)
{
    char   *f = malloc(4);
    char    dst[5];

    (void) state;
    memcpy(f, "a\x1b" "bc", 4);
    assert_string_equal(sv_field(dst, f, 4), "a?bc");
    memcpy(f, "ab\0c", 4);
    assert_string_equal(sv_field(dst, f, 4), "ab");
    memcpy(f, "\0abc", 4);
    assert_string_equal(sv_field(dst, f, 4), "");
    /* A UTF-8 character cut by the field's end is ill-formed. */
    memcpy(f, "ab\xc3\xa9", 4);
    assert_string_equal(sv_field(dst, f, 4), "ab\xc3\xa9");
    assert_string_equal(sv_field(dst, f, 3), "ab?");
    free(f);
}

/* sv_queue_find: whole names only, within the field. */
static void
queue_find(void **state)
{
    size_t  len;
    char   *body = make_body(3, 0, &len);
    QS_QUEUE *q = shm_body_queue(body);
    char    full[QS_NAME_BYTES + 1];

    (void) state;
    set_field(q[0].name, QS_NAME_BYTES, "incoming", 8, FILL);
    set_field(q[1].name, QS_NAME_BYTES, "active", 6, 0);
    set_field(q[2].name, QS_NAME_BYTES, "deferred", 8, 0);
    set_field(q[3].name, QS_NAME_BYTES, "hold", 4, 0);	/* not counted */
    assert_int_equal(sv_queue_find(body, "active"), 1);
    assert_int_equal(sv_queue_find(body, "deferred"), 2);
    assert_int_equal(sv_queue_find(body, "activ"), -1);
    assert_int_equal(sv_queue_find(body, "active2"), -1);
    assert_int_equal(sv_queue_find(body, "hold"), -1);
    /* Unterminated: no name matches its prefix, none its 32 bytes. */
    assert_int_equal(sv_queue_find(body, "incoming"), -1);
    memset(full, FILL, QS_NAME_BYTES);
    memcpy(full, "incoming", 8);
    full[QS_NAME_BYTES] = 0;
    assert_int_equal(sv_queue_find(body, full), -1);
    /* 31 bytes is a name that fits. */
    set_field(q[2].name, QS_NAME_BYTES, full, QS_NAME_BYTES - 1, 0);
    full[QS_NAME_BYTES - 1] = 0;
    assert_int_equal(sv_queue_find(body, full), 2);
    free(body);
}

/* sv_kept: each flag alone, in order, the hold time left at its end and
 * after it, bits it does not know. */
static void
kept(void **state)
{
    QS_THROTTLE e;
    char    buf[SV_KEPT_BYTES];

    (void) state;
    memset(&e, 0, sizeof(e));
    e.hold_until = NOW + 41;
    assert_string_equal(sv_kept(buf, sizeof(buf), &e, NOW), "");
    e.kept = QS_KEPT_QUEUE;
    assert_string_equal(sv_kept(buf, sizeof(buf), &e, NOW), " kept=queue");
    e.kept = QS_KEPT_HOLD_TIME;
    assert_string_equal(sv_kept(buf, sizeof(buf), &e, NOW),
			" kept=min_hold_time(41s)");
    e.kept = QS_KEPT_PRESSURE;
    assert_string_equal(sv_kept(buf, sizeof(buf), &e, NOW),
			" kept=pressure");
    e.kept = QS_KEPT_QUEUE | QS_KEPT_PRESSURE;
    assert_string_equal(sv_kept(buf, sizeof(buf), &e, NOW),
			" kept=queue,pressure");
    e.kept = QS_KEPT_QUEUE | QS_KEPT_HOLD_TIME | QS_KEPT_PRESSURE | 0x80;
    assert_string_equal(sv_kept(buf, sizeof(buf), &e, NOW + 40),
			" kept=queue,min_hold_time(1s),pressure");
    assert_string_equal(sv_kept(buf, sizeof(buf), &e, NOW + 41),
			" kept=queue,min_hold_time(0s),pressure");
    assert_string_equal(sv_kept(buf, sizeof(buf), &e, NOW + 42),
			" kept=queue,min_hold_time(0s),pressure");
    e.kept = 0x80;
    assert_string_equal(sv_kept(buf, sizeof(buf), &e, NOW), "");
    /* The longest fits; a short buffer truncates. */
    e.kept = QS_KEPT_QUEUE | QS_KEPT_HOLD_TIME | QS_KEPT_PRESSURE;
    e.hold_until = INT64_MAX;
    assert_string_equal(sv_kept(buf, sizeof(buf), &e, INT64_MIN),
		" kept=queue,min_hold_time(9223372036854775807s),pressure");
    assert_string_equal(sv_kept(buf, 9, &e, NOW), " kept=qu");
}

/* sv_ago: the difference, clamped where int64_t ends. */
static void
ago(void **state)
{
    (void) state;
    assert_int_equal(sv_ago(100, 40), 60);
    assert_int_equal(sv_ago(40, 100), -60);
    assert_int_equal(sv_ago(-1, INT64_MAX), INT64_MIN);
    assert_int_equal(sv_ago(-2, INT64_MAX), INT64_MIN);
    assert_int_equal(sv_ago(INT64_MAX - 1, -1), INT64_MAX);
    assert_int_equal(sv_ago(INT64_MAX, -1), INT64_MAX);
    assert_int_equal(sv_ago(0, INT64_MIN), INT64_MAX);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(hostile),
	cmocka_unit_test(unknown_names),
	cmocka_unit_test(field),
	cmocka_unit_test(queue_find),
	cmocka_unit_test(ago),
	cmocka_unit_test(kept),
    };

    return cmocka_run_group_tests(tests, 0, 0);
}

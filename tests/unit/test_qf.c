/*
 * Unit tests for qf, the queue-file parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "qf.h"
#include "qfbuild.h"

static QF_PARSER *P;

static int
setup(void **state)
{
    (void) state;
    P = qf_create();
    return P == 0;
}

static int
teardown(void **state)
{
    (void) state;
    qf_destroy(P);
    return 0;
}

static void
free_b(QFB *b)
{
    free(b->buf);
    memset(b, 0, sizeof(*b));
}

static const char *const two[] = {"a@One.Example", "b@two.example", 0};

static void
valid_message(void **state)
{
    QFB     b = {0};
    const QF_FACTS *f;

    (void) state;
    qfb_message(&b, 1700000000, "Flood@Spam.Example", two, "192.0.2.7",
		"alice");
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, QF_WANT_RCPTS, &f), QF_OK);
    assert_int_equal(f->kind, QF_KIND_QUEUE);
    assert_int_equal(f->has_time, 1);
    assert_int_equal(f->time_sec, 1700000000);
    assert_int_equal(f->time_usec, 123456);
    assert_int_equal(f->create_time, 1700000000);
    assert_string_equal(f->sender.ptr, "Flood@Spam.Example");
    assert_int_equal(f->sender.len, 18);
    assert_string_equal(f->client_address.ptr, "192.0.2.7");
    assert_string_equal(f->sasl_username.ptr, "alice");
    assert_string_equal(f->rewrite_context.ptr, "remote");
    assert_int_equal(f->nrcpt, 2);
    assert_int_equal(f->rcpts_complete, 1);
    assert_string_equal(f->rcpt[0].ptr, "a@One.Example");
    assert_string_equal(f->rcpt[1].ptr, "b@two.example");
    free_b(&b);
}

/* Without QF_WANT_RCPTS the parser stops at M when it has a recipient. */
static void
sender_only_stops_at_content(void **state)
{
    QFB     b = {0};
    const QF_FACTS *f;

    (void) state;
    qfb_message(&b, 1700000000, "", two, 0, 0);
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, 0, &f), QF_OK);
    assert_int_equal(f->sender.len, 0);
    assert_non_null(f->sender.ptr);
    assert_null(f->client_address.ptr);
    assert_null(f->sasl_username.ptr);
    assert_int_equal(f->nrcpt, 2);
    assert_int_equal(f->rcpts_complete, 0);
    /* Damage everything after M: the sender-only parse does not care. */
    {
	unsigned char *m = memchr(b.buf + 20, REC_MESG, b.len - 20);

	while (m[1] != 0)
	    m = memchr(m + 1, REC_MESG, b.len - (size_t) (m + 1 - b.buf));
	memset(m + 2, 0xff, b.len - (size_t) (m + 2 - b.buf));
    }
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, 0, &f), QF_OK);
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, QF_WANT_RCPTS, &f),
		     QF_BAD_CONTENT);
    free_b(&b);
}

/* Every record type: the ones we count, the ones we skip. */
static void
every_record_type(void **state)
{
    QFB     b = {0};
    const QF_FACTS *f;
    size_t  m_end, x_off;

    (void) state;
    qfb_size(&b);
    qfb_str(&b, REC_TIME, "1700000001 5");
    qfb_str(&b, REC_FULL, "Full Name");
    qfb_str(&b, 'I', "inspector");
    qfb_str(&b, 'L', "filter");
    qfb_str(&b, 'f', "0");
    qfb_str(&b, 'W', "              0");
    qfb_str(&b, 'V', "+=");
    qfb_str(&b, '>', "redirect@x");
    qfb_str(&b, REC_ATTR, "log_ident=ABCDEF");
    qfb_str(&b, REC_ATTR, "nonsense");
    qfb_str(&b, REC_FROM, "s@x.example");
    qfb_str(&b, REC_ORCP, "o@x.example");
    qfb_str(&b, REC_DONE, "d@x.example");
    qfb_str(&b, REC_DRCP, "gone@x.example");
    qfb_str(&b, REC_RCPT, "r1@x.example");
    qfb_str(&b, REC_PAD, "          ");
    qfb_str(&b, 'Z', "unknown type");
    qfb_str(&b, 'o', "rfc822;x");
    qfb_str(&b, 'n', "8");
    qfb_num(&b, REC_PTR, 0);		/* null pointer: no jump */
    qfb_rec(&b, REC_MESG, "", 0);
    m_end = b.len;
    qfb_str(&b, REC_NORM, "Header: v");
    qfb_str(&b, REC_CONT, "long line part");
    qfb_str(&b, REC_NORM, "rest");
    x_off = b.len;
    qfb_rec(&b, REC_XTRA, "", 0);
    qfb_str(&b, 'r', "rr@x");
    qfb_str(&b, 'e', "err@x");
    qfb_str(&b, REC_ATTR, "sasl_username=late");	/* not envelope */
    qfb_str(&b, REC_RCPT, "r2@y.example");
    qfb_str(&b, REC_DONE, "d2@y.example");
    qfb_rec(&b, REC_END, "", 0);
    qfb_size_patch(&b, (long) (x_off - m_end), (long) m_end, 4);

    assert_int_equal(qf_parse_mem(P, b.buf, b.len, QF_WANT_RCPTS, &f), QF_OK);
    assert_int_equal(f->time_sec, 1700000001);
    assert_int_equal(f->time_usec, 5);
    assert_int_equal(f->create_time, 0);
    assert_int_equal(f->nrcpt, 2);
    assert_int_equal(f->ndone, 2);
    assert_int_equal(f->ndeleted, 1);
    assert_string_equal(f->rcpt[0].ptr, "r1@x.example");
    assert_string_equal(f->rcpt[1].ptr, "r2@y.example");
    assert_null(f->sasl_username.ptr);
    free_b(&b);
}

/*
 * A milter added recipients: the reserved p record before M points past E
 * to the new records, which end with a p record back to just after it.
 */
static void
pointer_chain(void **state)
{
    static const char *const added[] = {
	"added1@milter.example", "added2@milter.example", 0,
    };
    QFB     b = {0};
    const QF_FACTS *f;
    QFB_PTR o;
    size_t  ptr_off;

    (void) state;
    qfb_pointer_message(&b, 1700000002, "s@x.example", "first@x.example", 0,
			added, &o);
    ptr_off = o.reserved;

    assert_int_equal(qf_parse_mem(P, b.buf, b.len, QF_WANT_RCPTS, &f), QF_OK);
    assert_int_equal(f->nrcpt, 3);
    assert_string_equal(f->rcpt[2].ptr, "added2@milter.example");

    /* Pointing at itself: a loop, caught by the read budget. */
    qfb_patch_num(&b, ptr_off, (long) ptr_off);
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, QF_WANT_RCPTS, &f),
		     QF_POINTER_LOOP);
    /* The chain back to the reserved pointer: also a loop. */
    qfb_patch_num(&b, ptr_off, (long) o.appended);
    qfb_patch_num(&b, o.back_ptr, (long) ptr_off);
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, QF_WANT_RCPTS, &f),
		     QF_POINTER_LOOP);
    /* Out of range. */
    qfb_patch_num(&b, ptr_off, (long) b.len);
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, 0, &f), QF_BAD_POINTER);
    qfb_patch_num(&b, ptr_off, 999999999L);
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, 0, &f), QF_BAD_POINTER);
    /* Not a number. */
    memcpy(b.buf + ptr_off + 2, "          12x45", 15);
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, 0, &f), QF_BAD_POINTER);
    free_b(&b);
}

/* sendmail -t: no envelope recipient, they follow X. */
static void
extracted_recipients(void **state)
{
    QFB     b = {0};
    const QF_FACTS *f;
    size_t  m_end, x_off;

    (void) state;
    qfb_size(&b);
    qfb_str(&b, REC_TIME, "1700000003 0");
    qfb_str(&b, REC_FROM, "root@host.example");
    qfb_rec(&b, REC_MESG, "", 0);
    m_end = b.len;
    qfb_str(&b, REC_NORM, "To: x@t.example, y@t.example");
    x_off = b.len;
    qfb_rec(&b, REC_XTRA, "", 0);
    qfb_str(&b, REC_RCPT, "x@t.example");
    qfb_str(&b, REC_RCPT, "y@t.example");
    qfb_rec(&b, REC_END, "", 0);
    qfb_size_patch(&b, (long) (x_off - m_end), (long) m_end, 2);
    /* Even the sender-only parse must read on to learn there are some. */
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, 0, &f), QF_OK);
    assert_int_equal(f->nrcpt, 2);
    assert_int_equal(f->rcpts_complete, 1);
    free_b(&b);
}

/* postdrop's layout: T first, no C, content walked record by record. */
static void
maildrop_files(void **state)
{
    QFB     b = {0};
    const QF_FACTS *f;

    (void) state;
    qfb_str(&b, REC_TIME, "1700000004 77");
    qfb_str(&b, REC_FULL, "Charlie Root");
    qfb_str(&b, REC_ATTR, "rewrite_context=local");
    qfb_str(&b, REC_FROM, "root");
    qfb_str(&b, REC_RCPT, "user@dest.example");
    qfb_rec(&b, REC_MESG, "", 0);
    qfb_str(&b, REC_NORM, "Subject: hi");
    qfb_str(&b, REC_CONT, "a long ");
    qfb_str(&b, REC_NORM, "line");
    qfb_rec(&b, REC_XTRA, "", 0);
    qfb_rec(&b, REC_END, "", 0);
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, QF_WANT_RCPTS, &f), QF_OK);
    assert_int_equal(f->kind, QF_KIND_MAILDROP);
    assert_int_equal(f->time_sec, 1700000004);
    assert_string_equal(f->sender.ptr, "root");
    assert_string_equal(f->rewrite_context.ptr, "local");
    assert_int_equal(f->nrcpt, 1);
    /* A record that is not content before X. */
    b.buf[b.len - 4] = REC_RCPT;
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, QF_WANT_RCPTS, &f),
		     QF_BAD_CONTENT);
    free_b(&b);

    /* The old layout: S (or F) first, no time at all. */
    qfb_str(&b, REC_FULL, "Old");
    qfb_str(&b, REC_FROM, "old@x.example");
    qfb_str(&b, REC_RCPT, "r@x.example");
    qfb_rec(&b, REC_MESG, "", 0);
    qfb_rec(&b, REC_XTRA, "", 0);
    qfb_rec(&b, REC_END, "", 0);
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, QF_WANT_RCPTS, &f), QF_OK);
    assert_int_equal(f->kind, QF_KIND_MAILDROP_OLD);
    assert_int_equal(f->has_time, 0);
    assert_string_equal(f->sender.ptr, "old@x.example");
    free_b(&b);
}

/* Each malformed form gets its own status. */
#define B(lit)	lit, sizeof(lit) - 1

static void
malformed(void **state)
{
    static const struct {
	const char *name;
	const char *bytes;
	size_t  len;
	QF_STATUS want;
    } cases[] = {
	{"empty", B(""), QF_EMPTY},
	{"one byte", B("C"), QF_NOT_QUEUE_FILE},
	{"garbage", B("\x7f\x45LF\x02\x01"), QF_NOT_QUEUE_FILE},
	{"bad varint", B("T\xff\xff\xff\xff\xff\x01"), QF_BAD_RECORD},
	{"absurd length", B("T\xff\xff\xff\xff\x07xx"), QF_TRUNCATED},
	{"short data", B("T\x0a" "17"), QF_TRUNCATED},
	{"C unparsable", B("C\x05hello"), QF_BAD_SIZE},
	{"C then S", B("C\x05" "1 2 3S\x01x"), QF_BAD_TIME},
	{"T garbage", B("T\x03" "abc"), QF_BAD_TIME},
	{"T blank", B("T\x05 1 2 "), QF_BAD_TIME},
	{"T usec range", B("T\x09" "1 1000000"), QF_BAD_TIME},
	{"no sender", B("T\x01" "1R\x01rM\x00"), QF_NO_SENDER},
	{"no end", B("T\x01" "1S\x01sR\x01r"), QF_TRUNCATED},
	{"E without sender", B("T\x01" "1E\x00"), QF_NO_SENDER},
	{"bad content size",
	 B("C\x05" "9 9 9T\x01" "1S\x01sM\x00X\x00" "E\x00"), QF_BAD_CONTENT},
	{"second M", B("T\x01" "1S\x01sM\x00X\x00M\x00" "E\x00"), QF_BAD_CONTENT},
    };
    const QF_FACTS *f;
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	QF_STATUS st = qf_parse_mem(P, cases[i].bytes, cases[i].len,
				    QF_WANT_RCPTS, &f);

	if (st != cases[i].want)
	    fail_msg("%s: got %s, want %s", cases[i].name,
		     qf_status_name(st), qf_status_name(cases[i].want));
    }
}

/* A sender longer than QF_FIELD_MAX is refused, not copied. */
static void
too_large(void **state)
{
    QFB     b = {0};
    const QF_FACTS *f;
    char   *big = malloc(QF_FIELD_MAX + 2);

    (void) state;
    memset(big, 'a', QF_FIELD_MAX + 1);
    big[QF_FIELD_MAX + 1] = 0;
    qfb_str(&b, REC_TIME, "1 0");
    qfb_str(&b, REC_FROM, big);
    qfb_rec(&b, REC_END, "", 0);
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, 0, &f), QF_TOO_LARGE);
    free(big);
    free_b(&b);
}

/* Every proper prefix of a valid file is refused when read to E. */
static void
every_truncation(void **state)
{
    QFB     b = {0};
    const QF_FACTS *f;
    size_t  n;

    (void) state;
    qfb_message(&b, 1700000000, "x@y.example", two, "::1", "u");
    for (n = 0; n < b.len; n++)
	if (qf_parse_mem(P, b.buf, n, QF_WANT_RCPTS, &f) == QF_OK)
	    fail_msg("prefix of %zu bytes parsed as complete", n);
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, QF_WANT_RCPTS, &f), QF_OK);
    free_b(&b);
}

/*
 * A source that hands out no more than asked: results must not change.
 * Each window is a heap block of exactly the bytes given, freed at the
 * next get(): under ASan (build/asan/test_qf) a read past what we gave,
 * or through an old window, is an error.  In the plain build the bytes
 * after the window are set to 'guard', and the facts must not depend on it.
 */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

typedef struct TINY {
    const unsigned char *buf;
    size_t  len;
    unsigned char *win;
    int     guard;
    unsigned calls;
} TINY;

static const unsigned char *
tiny_get(void *ctx, uint64_t off, size_t need, size_t *got)
{
    TINY   *t = ctx;
    size_t  n;

    t->calls++;
    free(t->win);
    n = off >= t->len ? 0 : t->len - (size_t) off < need ?
	t->len - (size_t) off : need;
    /* 8 guard bytes, except under ASan, which guards the block itself. */
#ifdef UNDER_ASAN
    t->win = malloc(n ? n : 1);
#else
    t->win = malloc(n + 8);
    if (t->win)
	memset(t->win + n, t->guard, 8);
#endif
    assert_non_null(t->win);
    if (n)
	memcpy(t->win, t->buf + off, n);
    *got = n;
    return t->win;
}

static void
minimal_window(void **state)
{
    QFB     b = {0};
    const QF_FACTS *f;
    static TINY t;
    QF_SOURCE src = {tiny_get, &t, 0};
    static const int guards[] = {0xee, 0x00, 'N', 'E', 'X'};
    size_t  g;

    (void) state;
    qfb_message(&b, 1700000005, "w@window.example", two, "10.1.2.3", 0);
    for (g = 0; g < sizeof(guards) / sizeof(guards[0]); g++) {
	t.buf = b.buf;
	t.len = b.len;
	t.guard = guards[g];
	t.calls = 0;
	src.size = b.len;
	assert_int_equal(qf_parse(P, &src, QF_WANT_RCPTS, &f), QF_OK);
	assert_string_equal(f->sender.ptr, "w@window.example");
	assert_int_equal(f->sender.len, 16);
	assert_string_equal(f->client_address.ptr, "10.1.2.3");
	assert_int_equal(f->time_sec, 1700000005);
	assert_int_equal(f->nrcpt, 2);
	assert_string_equal(f->rcpt[0].ptr, "a@One.Example");
	assert_string_equal(f->rcpt[1].ptr, "b@two.example");
	assert_true(t.calls > 10);
	/* Every prefix of the file is incomplete, whatever follows it. */
	t.len = b.len - 1;
	src.size = b.len - 1;
	assert_int_not_equal(qf_parse(P, &src, QF_WANT_RCPTS, &f), QF_OK);
    }
    free(t.win);
    t.win = 0;
    free_b(&b);
}

#define MARK "X-Qshape-Hold: policy=flood key=sender_domain:spam.example " \
	"time=1764662400"
#define FORGED "X-Qshape-Hold: policy=forged key=sender:me time=1"

/* The mark a milter appended is found; its value follows the colon. */
static void
hold_mark_appended(void **state)
{
    QFB     b = {0};
    const QF_FACTS *f;

    (void) state;
    qfb_held_message(&b, 1764662399, "a@spam.example", "r@x.example", 0,
		     MARK);
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, QF_WANT_HOLD, &f), QF_OK);
    assert_non_null(f->hold_mark.ptr);
    assert_string_equal(f->hold_mark.ptr, " policy=flood key=sender_domain:"
			"spam.example time=1764662400");
    assert_int_equal(f->hold_mark.len, 60);
    assert_string_equal(f->sender.ptr, "a@spam.example");
    assert_int_equal(f->nrcpt, 1);
    /* Received: 21+2, tab line 10+2, Subject 13+2, p 15+2, "" 0+2,
     * body 4+2, p 15+2. */
    assert_int_equal(f->content_size, 23 + 12 + 15 + 17 + 2 + 6 + 17);
    /* The same with the recipients: read to E as well. */
    assert_int_equal(qf_parse_mem(P, b.buf, b.len,
				  QF_WANT_HOLD | QF_WANT_RCPTS, &f), QF_OK);
    assert_int_equal(f->hold_mark.len, 60);
    assert_int_equal(f->rcpts_complete, 1);
    /* Not asked for: not looked for. */
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, QF_WANT_RCPTS, &f), QF_OK);
    assert_null(f->hold_mark.ptr);
    free_b(&b);
}

/* What the client wrote in the header is never a mark. */
static void
hold_mark_forged(void **state)
{
    QFB     b = {0};
    const QF_FACTS *f;

    (void) state;
    qfb_held_message(&b, 1, "a@b.example", "r@x.example", FORGED, 0);
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, QF_WANT_HOLD, &f), QF_OK);
    assert_null(f->hold_mark.ptr);
    free_b(&b);
    qfb_held_message(&b, 1, "a@b.example", "r@x.example", FORGED, MARK);
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, QF_WANT_HOLD, &f), QF_OK);
    assert_string_equal(f->hold_mark.ptr, &MARK[14]);
    free_b(&b);
    /* Without a mark at all. */
    qfb_held_message(&b, 1, "a@b.example", "r@x.example", 0, 0);
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, QF_WANT_HOLD, &f), QF_OK);
    assert_null(f->hold_mark.ptr);
    free_b(&b);
}

/* The header name is matched without case; another name is not ours. */
static void
hold_mark_names(void **state)
{
    static const struct {
	const char *line;
	const char *want;
    } cases[] = {
	{"x-qshape-hold:v", "v"},
	{"X-QSHAPE-HOLD: v", " v"},
	{"X-Qshape-Hold:", ""},
	{"X-Qshape-Hol: v", 0},
	{"X-Qshape-Holds: v", 0},
	{"X-Qshape-Hold v", 0},
    };
    QFB     b = {0};
    const QF_FACTS *f;
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	qfb_held_message(&b, 1, "a@b.example", "r@x.example", 0,
			 cases[i].line);
	assert_int_equal(qf_parse_mem(P, b.buf, b.len, QF_WANT_HOLD, &f),
			 QF_OK);
	if (cases[i].want == 0)
	    assert_null(f->hold_mark.ptr);
	else
	    assert_string_equal(f->hold_mark.ptr, cases[i].want);
	free_b(&b);
    }
}

/* A header line longer than QF_HOLD_LINE_MAX is not examined. */
static void
hold_mark_line_max(void **state)
{
    char    line[QF_HOLD_LINE_MAX + 2];
    QFB     b = {0};
    const QF_FACTS *f;

    (void) state;
    memcpy(line, "X-Qshape-Hold:", 14);
    memset(line + 14, 'v', sizeof(line) - 14);
    line[QF_HOLD_LINE_MAX] = 0;			/* exactly the maximum */
    qfb_held_message(&b, 1, "a@b.example", "r@x.example", 0, line);
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, QF_WANT_HOLD, &f), QF_OK);
    assert_int_equal(f->hold_mark.len, QF_HOLD_LINE_MAX - 14);
    free_b(&b);
    line[QF_HOLD_LINE_MAX] = 'v';		/* one more */
    line[QF_HOLD_LINE_MAX + 1] = 0;
    qfb_held_message(&b, 1, "a@b.example", "r@x.example", 0, line);
    assert_int_equal(qf_parse_mem(P, b.buf, b.len, QF_WANT_HOLD, &f), QF_OK);
    assert_null(f->hold_mark.ptr);
    free_b(&b);
}

/* Every proper prefix of a held file is refused; a bad pointer in the
 * header is a bad pointer. */
static void
hold_mark_corrupt(void **state)
{
    QFB     b = {0};
    const QF_FACTS *f;
    size_t  n;

    (void) state;
    qfb_held_message(&b, 1, "a@b.example", "r@x.example", FORGED, MARK);
    for (n = 0; n < b.len; n++)
	if (qf_parse_mem(P, b.buf, n, QF_WANT_HOLD | QF_WANT_RCPTS, &f)
	    == QF_OK)
	    fail_msg("prefix of %zu bytes parsed as complete", n);
    /* The appended region cut off: the forward pointer leads nowhere. */
    assert_int_equal(qf_parse_mem(P, b.buf, b.len - 17 - (sizeof(MARK) + 1),
				  QF_WANT_HOLD, &f), QF_BAD_POINTER);
    free_b(&b);
}

static void
status_names(void **state)
{
    int     i;

    (void) state;
    for (i = 0; i < QF_NSTATUS; i++) {
	assert_non_null(qf_strerror((QF_STATUS) i));
	assert_string_not_equal(qf_status_name((QF_STATUS) i), "unknown");
    }
    assert_string_equal(qf_strerror(QF_TRUNCATED), "truncated file");
    assert_string_equal(qf_status_name(QF_NSTATUS), "unknown");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(valid_message),
	cmocka_unit_test(sender_only_stops_at_content),
	cmocka_unit_test(every_record_type),
	cmocka_unit_test(pointer_chain),
	cmocka_unit_test(extracted_recipients),
	cmocka_unit_test(maildrop_files),
	cmocka_unit_test(malformed),
	cmocka_unit_test(too_large),
	cmocka_unit_test(every_truncation),
	cmocka_unit_test(minimal_window),
	cmocka_unit_test(hold_mark_appended),
	cmocka_unit_test(hold_mark_forged),
	cmocka_unit_test(hold_mark_names),
	cmocka_unit_test(hold_mark_line_max),
	cmocka_unit_test(hold_mark_corrupt),
	cmocka_unit_test(status_names),
    };

    return cmocka_run_group_tests_name("qf", tests, setup, teardown);
}

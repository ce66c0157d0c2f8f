/*
 * libFuzzer target for qf, the queue-file parser.
 *
 * Each input is parsed six ways: sender-only, with recipients and with
 * the hold mark, from one buffer and through a window that hands out no
 * more than asked.  The
 * two sources must agree on the status and the facts; any sanitizer report
 * or disagreement is a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qf.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct TINY {
    const uint8_t *buf;
    size_t  len;
    uint8_t *win;
} TINY;

static const unsigned char *
tiny_get(void *ctx, uint64_t off, size_t need, size_t *got)
{
    TINY   *t = ctx;
    size_t  n;

    if (off >= t->len) {
	*got = 0;
	return t->win;
    }
    n = t->len - (size_t) off < need ? t->len - (size_t) off : need;
    free(t->win);
    /* A fresh allocation of exactly n bytes: ASan sees any overread. */
    if ((t->win = malloc(n ? n : 1)) == 0)
	abort();
    memcpy(t->win, t->buf + off, n);
    *got = n;
    return t->win;
}

static int
same_str(QF_STR a, QF_STR b)
{
    if ((a.ptr == 0) != (b.ptr == 0) || a.len != b.len)
	return 0;
    return a.ptr == 0 || memcmp(a.ptr, b.ptr, a.len) == 0;
}

static void
check(QF_PARSER *p1, QF_PARSER *p2, const uint8_t *data, size_t size,
      unsigned flags)
{
    const QF_FACTS *a, *b;
    TINY    t = {data, size, 0};
    QF_SOURCE src = {tiny_get, &t, size};
    QF_STATUS s1 = qf_parse_mem(p1, data, size, flags, &a);
    QF_STATUS s2 = qf_parse(p2, &src, flags, &b);
    size_t  i;

    free(t.win);
    if (s1 != s2)
	abort();
    if (s1 != QF_OK)
	return;
    if (a->sender.ptr == 0 || !same_str(a->sender, b->sender)
	|| !same_str(a->client_address, b->client_address)
	|| !same_str(a->sasl_username, b->sasl_username)
	|| a->nrcpt != b->nrcpt || a->time_sec != b->time_sec
	|| a->kind != b->kind || a->rcpts_complete != b->rcpts_complete
	|| a->content_size != b->content_size
	|| !same_str(a->hold_mark, b->hold_mark))
	abort();
    if (!(flags & QF_WANT_HOLD) && a->hold_mark.ptr != 0)
	abort();
    if (flags & QF_WANT_RCPTS) {
	if (!a->rcpts_complete)
	    abort();
	for (i = 0; i < a->nrcpt; i++)
	    if (!same_str(a->rcpt[i], b->rcpt[i]))
		abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static QF_PARSER *p1, *p2;

    if (p1 == 0 && ((p1 = qf_create()) == 0 || (p2 = qf_create()) == 0))
	abort();
    check(p1, p2, data, size, 0);
    check(p1, p2, data, size, QF_WANT_RCPTS);
    check(p1, p2, data, size, QF_WANT_HOLD);
    return 0;
}

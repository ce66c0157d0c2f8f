/*
 * qfbuild - build queue files in memory for the unit tests and the fuzz
 * seed corpus.  Header-only: each test includes it once.
 */
#ifndef QSHAPE_QFBUILD_H
#define QSHAPE_QFBUILD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"

typedef struct QFB {
    unsigned char *buf;
    size_t  len;
    size_t  cap;
} QFB;

static inline void
qfb_rec(QFB *b, int type, const void *data, size_t len)
{
    size_t  need = b->len + len + 8;

    if (need > b->cap) {
	b->cap = need * 2;
	if ((b->buf = realloc(b->buf, b->cap)) == 0)
	    abort();
    }
    b->len += rec_put(b->buf + b->len, b->cap - b->len, type, data, len);
}

static inline void
qfb_str(QFB *b, int type, const char *s)
{
    qfb_rec(b, type, s, strlen(s));
}

/* A fixed-width number record ("%15ld"), as p records hold. */
static inline size_t
qfb_num(QFB *b, int type, long v)
{
    char    tmp[32];
    size_t  off = b->len;

    snprintf(tmp, sizeof(tmp), "%*ld", REC_NUM_WIDTH, v);
    qfb_str(b, type, tmp);
    return off;
}

/* Overwrite the number in the p record at 'off'. */
static inline void
qfb_patch_num(QFB *b, size_t off, long v)
{
    char    tmp[32];

    snprintf(tmp, sizeof(tmp), "%*ld", REC_NUM_WIDTH, v);
    memcpy(b->buf + off + 2, tmp, REC_NUM_WIDTH);
}

/* The C record, six fixed-width numbers; patched by qfb_size_patch(). */
static inline void
qfb_size(QFB *b)
{
    char    tmp[128];

    snprintf(tmp, sizeof(tmp), "%15d %15d %15d %15d %15d %15d",
	     0, 0, 0, 0, 0, 0);
    qfb_str(b, REC_SIZE, tmp);
}

static inline void
qfb_size_patch(QFB *b, long data_size, long data_offset, long nrcpt)
{
    char    tmp[128];

    snprintf(tmp, sizeof(tmp), "%15ld %15ld %15ld %15d %15ld %15d",
	     data_size, data_offset, nrcpt, 0, data_size, 0);
    memcpy(b->buf + 2, tmp, strlen(tmp));
}

/*
 * A message as cleanup writes it: C, T, A create_time, S, A client and
 * SASL attributes, O/R per recipient, M, content, X, E.  rcpts is
 * NULL-terminated.  Returns nothing; b holds the file.
 */
static inline void
qfb_message(QFB *b, long when, const char *sender, const char *const *rcpts,
	    const char *client, const char *sasl)
{
    char    tmp[256];
    size_t  m_end, x_off;
    long    n = 0;

    qfb_size(b);
    snprintf(tmp, sizeof(tmp), "%ld %d", when, 123456);
    qfb_str(b, REC_TIME, tmp);
    snprintf(tmp, sizeof(tmp), "create_time=%ld", when);
    qfb_str(b, REC_ATTR, tmp);
    qfb_str(b, REC_ATTR, "rewrite_context=remote");
    qfb_str(b, REC_FROM, sender);
    if (client) {
	snprintf(tmp, sizeof(tmp), "client_address=%s", client);
	qfb_str(b, REC_ATTR, tmp);
    }
    if (sasl) {
	snprintf(tmp, sizeof(tmp), "sasl_username=%s", sasl);
	qfb_str(b, REC_ATTR, tmp);
    }
    for (; rcpts && rcpts[n]; n++) {
	qfb_str(b, REC_ORCP, rcpts[n]);
	qfb_str(b, REC_RCPT, rcpts[n]);
    }
    qfb_rec(b, REC_MESG, "", 0);
    m_end = b->len;
    qfb_str(b, REC_NORM, "Subject: test");
    qfb_str(b, REC_NORM, "");
    qfb_str(b, REC_NORM, "body");
    x_off = b->len;
    qfb_rec(b, REC_XTRA, "", 0);
    qfb_rec(b, REC_END, "", 0);
    qfb_size_patch(b, (long) (x_off - m_end), (long) m_end, n);
}

/* Offsets in a pointer-chain message, for tests that corrupt it. */
typedef struct QFB_PTR {
    size_t  reserved;			/* the p record before M */
    size_t  appended;			/* the first appended record */
    size_t  back_ptr;			/* the p record that points back */
} QFB_PTR;

/*
 * A message a milter added recipients to, as cleanup writes it: the
 * reserved p record before M points past E to the added recipients, which
 * end with a p record back to just after the reserved one.  xrcpt (or
 * NULL) is a recipient after X, as sendmail -t leaves them.
 */
static inline void
qfb_pointer_message(QFB *b, long when, const char *sender, const char *rcpt,
		    const char *xrcpt, const char *const *added, QFB_PTR *o)
{
    char    tmp[64];
    size_t  back_to, m_end, x_off;
    long    n = 1 + (xrcpt != 0);

    qfb_size(b);
    snprintf(tmp, sizeof(tmp), "%ld 0", when);
    qfb_str(b, REC_TIME, tmp);
    qfb_str(b, REC_FROM, sender);
    qfb_str(b, REC_RCPT, rcpt);
    o->reserved = qfb_num(b, REC_PTR, 0);
    back_to = b->len;
    qfb_rec(b, REC_MESG, "", 0);
    m_end = b->len;
    qfb_str(b, REC_NORM, "body");
    x_off = b->len;
    qfb_rec(b, REC_XTRA, "", 0);
    if (xrcpt)
	qfb_str(b, REC_RCPT, xrcpt);
    qfb_rec(b, REC_END, "", 0);
    o->appended = b->len;
    for (; *added; added++, n++)
	qfb_str(b, REC_RCPT, *added);
    o->back_ptr = qfb_num(b, REC_PTR, (long) back_to);
    qfb_patch_num(b, o->reserved, (long) o->appended);
    qfb_size_patch(b, (long) (x_off - m_end), (long) m_end, n);
}

/*
 * A message a milter held and marked, as cleanup writes it: the primary
 * header (with 'forged', if not NULL, as one of its lines: what a client
 * can send), the reserved header-append p record after the last header
 * line, which points past E to the appended header line 'appended' (if
 * not NULL) followed by a p record back to just after the reserved one;
 * then the empty line, the body, the reserved body p record, X, E.
 */
static inline void
qfb_held_message(QFB *b, long when, const char *sender, const char *rcpt,
		 const char *forged, const char *appended)
{
    char    tmp[64];
    size_t  reserved, back_to, m_end, x_off;

    qfb_size(b);
    snprintf(tmp, sizeof(tmp), "%ld 0", when);
    qfb_str(b, REC_TIME, tmp);
    qfb_str(b, REC_FROM, sender);
    qfb_str(b, REC_ORCP, rcpt);
    qfb_str(b, REC_RCPT, rcpt);
    qfb_num(b, REC_PTR, 0);
    qfb_rec(b, REC_MESG, "", 0);
    m_end = b->len;
    qfb_str(b, REC_NORM, "Received: from client");
    qfb_str(b, REC_NORM, "\tby server");
    if (forged)
	qfb_str(b, REC_NORM, forged);
    qfb_str(b, REC_NORM, "Subject: held");
    reserved = qfb_num(b, REC_PTR, 0);
    back_to = b->len;
    qfb_str(b, REC_NORM, "");
    qfb_str(b, REC_NORM, "body");
    qfb_num(b, REC_PTR, 0);
    x_off = b->len;
    qfb_rec(b, REC_XTRA, "", 0);
    qfb_rec(b, REC_END, "", 0);
    if (appended) {
	qfb_patch_num(b, reserved, (long) b->len);
	qfb_str(b, REC_NORM, appended);
	qfb_num(b, REC_PTR, (long) back_to);
    }
    qfb_size_patch(b, (long) (x_off - m_end), (long) m_end, 1);
}

#endif

/*
 * qf - Postfix queue-file parser.  See qf.h.
 *
 * The walk follows what qmgr does: envelope records up to M, a jump over the
 * content by the size in the C record (or, in postdrop files that have no C
 * record, a walk over the content records), then the extracted records up
 * to E.  Every record read adds its size to a budget that may not exceed the
 * file size: a valid file is read at most once through, so a pointer chain
 * that goes round in circles runs out of budget instead of running forever.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rec.h"
#include "qf.h"

typedef struct SPAN {
    size_t  off;			/* offset in the arena */
    size_t  len;
} SPAN;

struct QF_PARSER {
    QF_FACTS facts;
    char   *arena;			/* copies of the strings we keep */
    size_t  alen;
    size_t  acap;
    SPAN   *rspan;			/* recipients, as arena spans */
    QF_STR *rstr;			/* recipients, as strings */
    size_t  rcap;
    SPAN    sender;
    SPAN    client;
    SPAN    sasl;
    SPAN    context;
    SPAN    hold;
    int     have_sender;
    int     have_client;
    int     have_sasl;
    int     have_context;
    int     have_hold;
    int     failed_alloc;
};

/* One record as read: type, where its data starts, and its length. */
typedef struct REC {
    int     type;
    uint64_t off;			/* offset of the type byte */
    uint64_t data_off;			/* offset of the data */
    size_t  len;			/* data length */
    const unsigned char *data;		/* NULL unless asked for */
} REC;

/* Walk state for one parse. */
typedef struct WALK {
    QF_PARSER *p;
    const QF_SOURCE *src;
    unsigned flags;			/* qf_parse() flags */
    uint64_t pos;			/* next record offset */
    uint64_t budget;			/* bytes still allowed to be read */
} WALK;

QF_PARSER *
qf_create(void)
{
    return calloc(1, sizeof(QF_PARSER));
}

void
qf_destroy(QF_PARSER *p)
{
    if (p == 0)
	return;
    free(p->arena);
    free(p->rspan);
    free(p->rstr);
    free(p);
}

/* Copy bytes into the arena, NUL-terminated; return the span. */
static int
arena_add(QF_PARSER *p, const unsigned char *data, size_t len, SPAN *out)
{
    size_t  need = p->alen + len + 1;

    if (need > p->acap) {
	size_t  cap = p->acap ? p->acap : 1024;
	char   *n;

	while (cap < need)
	    cap *= 2;
	if ((n = realloc(p->arena, cap)) == 0) {
	    p->failed_alloc = 1;
	    return -1;
	}
	p->arena = n;
	p->acap = cap;
    }
    out->off = p->alen;
    out->len = len;
    if (len)
	memcpy(p->arena + p->alen, data, len);
    p->arena[p->alen + len] = 0;
    p->alen = need;
    return 0;
}

static int
rcpt_add(QF_PARSER *p, const unsigned char *data, size_t len)
{
    size_t  n = p->facts.nrcpt;

    if (n >= p->rcap) {
	size_t  cap = p->rcap ? 2 * p->rcap : 16;
	SPAN   *ns;
	QF_STR *nr;

	if ((ns = realloc(p->rspan, cap * sizeof(*ns))) == 0) {
	    p->failed_alloc = 1;
	    return -1;
	}
	p->rspan = ns;
	if ((nr = realloc(p->rstr, cap * sizeof(*nr))) == 0) {
	    p->failed_alloc = 1;
	    return -1;
	}
	p->rstr = nr;
	p->rcap = cap;
    }
    return arena_add(p, data, len, &p->rspan[n]);
}

/*
 * Parse an unsigned decimal number with optional leading blanks, as Postfix
 * writes them in fixed-width fields.  Returns the pointer past the digits,
 * or NULL when there are no digits or the value overflows.
 */
static const unsigned char *
parse_num(const unsigned char *s, const unsigned char *end, uint64_t *val)
{
    uint64_t v = 0;
    const unsigned char *d;

    while (s < end && *s == ' ')
	s++;
    for (d = s; s < end && *s >= '0' && *s <= '9'; s++) {
	if (v > (UINT64_MAX - 9) / 10)
	    return 0;
	v = v * 10 + (uint64_t) (*s - '0');
    }
    if (s == d)
	return 0;
    *val = v;
    return s;
}

/* Does this record type carry data that we look at? */
static int
wants_data(int type, unsigned flags)
{
    switch (type) {
    case REC_SIZE:
    case REC_TIME:
    case REC_FROM:
    case REC_ATTR:
    case REC_PTR:
	return 1;
    case REC_RCPT:
	return (flags & QF_WANT_RCPTS) != 0;
    default:
	return 0;
    }
}

/*
 * Read the record at w->pos and advance.  When wants_data() says so, the
 * data is made available in rec->data (at most QF_FIELD_MAX bytes).
 */
static QF_STATUS
read_rec(WALK *w, REC *rec)
{
    const unsigned char *b;
    size_t  got;
    size_t  len;
    int     n;
    uint64_t size = w->src->size;

    if (w->pos >= size)
	return QF_TRUNCATED;
    if ((b = w->src->get(w->src->ctx, w->pos, 6, &got)) == 0)
	return QF_READ_ERROR;
    if (got < 2)
	return QF_TRUNCATED;
    n = rec_get_len(b + 1, got - 1, &len);
    if (n == 0)
	return QF_TRUNCATED;
    if (n < 0)
	return QF_BAD_RECORD;
    rec->type = b[0];
    rec->off = w->pos;
    rec->data_off = w->pos + 1 + (uint64_t) n;
    rec->len = len;
    rec->data = 0;
    if (rec->data_off > size || len > size - rec->data_off)
	return QF_TRUNCATED;
    if (1 + (uint64_t) n + len > w->budget)
	return QF_POINTER_LOOP;
    w->budget -= 1 + (uint64_t) n + len;
    w->pos = rec->data_off + len;
    if (wants_data(rec->type, w->flags)) {
	if (len > QF_FIELD_MAX)
	    return QF_TOO_LARGE;
	if (got >= 1 + (size_t) n + len) {
	    rec->data = b + 1 + n;
	} else {
	    if ((b = w->src->get(w->src->ctx, rec->data_off, len, &got)) == 0)
		return QF_READ_ERROR;
	    if (got < len)
		return QF_TRUNCATED;
	    rec->data = b;
	}
    }
    return QF_OK;
}

/* Does the record's data start with "name="?  Sets *val past the '='. */
static int
attr_is(const REC *rec, const char *name, size_t nlen, SPAN *val)
{
    if (rec->len <= nlen || memcmp(rec->data, name, nlen) != 0
	|| rec->data[nlen] != '=')
	return 0;
    val->off = nlen + 1;
    val->len = rec->len - nlen - 1;
    return 1;
}

#define ATTR(rec, lit, val) attr_is((rec), (lit), sizeof(lit) - 1, (val))

static QF_STATUS
keep(QF_PARSER *p, const REC *rec, const SPAN *val, SPAN *out, int *have)
{
    if (arena_add(p, rec->data + val->off, val->len, out) < 0)
	return QF_NO_MEMORY;
    *have = 1;
    return QF_OK;
}

static QF_STATUS
do_attr(QF_PARSER *p, const REC *rec)
{
    SPAN    v;
    uint64_t t;
    const unsigned char *e;

    if (ATTR(rec, "create_time", &v)) {
	e = parse_num(rec->data + v.off, rec->data + rec->len, &t);
	if (e == rec->data + rec->len && t <= INT64_MAX)
	    p->facts.create_time = (int64_t) t;
	return QF_OK;
    }
    if (ATTR(rec, "client_address", &v))
	return keep(p, rec, &v, &p->client, &p->have_client);
    if (ATTR(rec, "sasl_username", &v))
	return keep(p, rec, &v, &p->sasl, &p->have_sasl);
    if (ATTR(rec, "rewrite_context", &v))
	return keep(p, rec, &v, &p->context, &p->have_context);
    return QF_OK;
}

/* The last S record wins, as in qmgr and qshape. */
static QF_STATUS
do_from(QF_PARSER *p, const REC *rec)
{
    if (arena_add(p, rec->data, rec->len, &p->sender) < 0)
	return QF_NO_MEMORY;
    p->have_sender = 1;
    return QF_OK;
}

/* "sec usec" or "sec", digits only. */
static QF_STATUS
do_time(QF_PARSER *p, const REC *rec)
{
    const unsigned char *s = rec->data;
    const unsigned char *end = s + rec->len;
    uint64_t sec;
    uint64_t usec = 0;

    if (rec->len == 0 || *s == ' ')
	return QF_BAD_TIME;
    if ((s = parse_num(s, end, &sec)) == 0 || sec > INT64_MAX)
	return QF_BAD_TIME;
    if (s < end) {
	if (*s != ' ' || (s = parse_num(s, end, &usec)) == 0 || s != end
	    || usec > 999999)
	    return QF_BAD_TIME;
    }
    p->facts.has_time = 1;
    p->facts.time_sec = (int64_t) sec;
    p->facts.time_usec = (int32_t) usec;
    return QF_OK;
}

/* Follow a p record: jump when it holds a non-zero offset. */
static QF_STATUS
do_ptr(WALK *w, const REC *rec)
{
    uint64_t to;
    const unsigned char *e;

    e = parse_num(rec->data, rec->data + rec->len, &to);
    if (e == 0 || e != rec->data + rec->len)
	return QF_BAD_POINTER;
    if (to == 0)
	return QF_OK;
    if (to >= w->src->size)
	return QF_BAD_POINTER;
    w->pos = to;
    return QF_OK;
}

/* Skip the content from just after M; leave w->pos on the X record. */
static QF_STATUS
skip_content(WALK *w, uint64_t data_size, int have_size)
{
    REC     rec;
    QF_STATUS st;

    if (have_size) {
	if (data_size > w->src->size - w->pos)
	    return QF_BAD_CONTENT;
	w->pos += data_size;
	if ((st = read_rec(w, &rec)) != QF_OK)
	    return st == QF_TRUNCATED ? QF_BAD_CONTENT : st;
	return rec.type == REC_XTRA ? QF_OK : QF_BAD_CONTENT;
    }
    for (;;) {
	if ((st = read_rec(w, &rec)) != QF_OK)
	    return st;
	if (rec.type == REC_XTRA)
	    return QF_OK;
	if (rec.type == REC_PTR) {
	    if ((st = do_ptr(w, &rec)) != QF_OK)
		return st;
	} else if (rec.type != REC_NORM && rec.type != REC_CONT) {
	    return QF_BAD_CONTENT;
	}
    }
}

/*
 * One content record of the primary header, past X: is it our header?
 * Keep its value (after the colon) when it is.
 */
static QF_STATUS
hold_line(WALK *w, const REC *rec)
{
    static const char name[] = QF_HOLD_HEADER ":";
    const size_t nlen = sizeof(name) - 1;
    const unsigned char *b;
    size_t  got;
    SPAN    out;

    if (rec->len < nlen || rec->len > QF_HOLD_LINE_MAX)
	return QF_OK;
    if ((b = w->src->get(w->src->ctx, rec->data_off, rec->len, &got)) == 0)
	return QF_READ_ERROR;
    if (got < rec->len)
	return QF_TRUNCATED;
    if (strncasecmp((const char *) b, name, nlen) != 0)
	return QF_OK;
    if (arena_add(w->p, b + nlen, rec->len - nlen, &out) < 0)
	return QF_NO_MEMORY;
    w->p->hold = out;
    w->p->have_hold = 1;
    return QF_OK;
}

/*
 * Read the primary header from just after M, following pointers, for the
 * hold mark.  A walk of its own (position and budget), so that the main
 * walk skips the content as before.  x_off is the offset of X: a header
 * record at or past it was appended by a milter.
 */
static QF_STATUS
scan_header(const WALK *outer, uint64_t x_off)
{
    WALK    w = *outer;
    REC     rec;
    QF_STATUS st;
    uint64_t scanned = 0;

    w.flags = 0;
    w.budget = w.src->size;
    for (;;) {
	if ((st = read_rec(&w, &rec)) != QF_OK)
	    return st;
	scanned += rec.len + 1;
	switch (rec.type) {
	case REC_NORM:
	    if (rec.len == 0)
		return QF_OK;			/* the end of the header */
	    if (rec.off >= x_off && (st = hold_line(&w, &rec)) != QF_OK)
		return st;
	    break;
	case REC_PTR:
	    if ((st = do_ptr(&w, &rec)) != QF_OK)
		return st;
	    break;
	case REC_CONT:
	case REC_PAD:
	    break;
	case REC_XTRA:
	    return QF_OK;			/* no body */
	default:
	    return QF_BAD_CONTENT;
	}
	if (scanned > QF_HOLD_SCAN_MAX)
	    return QF_OK;
    }
}

static void
finish(QF_PARSER *p, unsigned flags)
{
    QF_FACTS *f = &p->facts;
    size_t  i;

#define STR(have, span) \
    ((have) ? (QF_STR) { p->arena + (span).off, (span).len } \
	    : (QF_STR) { 0, 0 })
    f->sender = STR(p->have_sender, p->sender);
    f->client_address = STR(p->have_client, p->client);
    f->sasl_username = STR(p->have_sasl, p->sasl);
    f->rewrite_context = STR(p->have_context, p->context);
    f->hold_mark = STR(p->have_hold, p->hold);
#undef STR
    f->rcpt = 0;
    if (flags & QF_WANT_RCPTS) {
	for (i = 0; i < f->nrcpt; i++) {
	    p->rstr[i].ptr = p->arena + p->rspan[i].off;
	    p->rstr[i].len = p->rspan[i].len;
	}
	f->rcpt = p->rstr;
    }
}

static void
reset(QF_PARSER *p)
{
    memset(&p->facts, 0, sizeof(p->facts));
    p->alen = 0;
    p->have_sender = p->have_client = p->have_sasl = p->have_context = 0;
    p->have_hold = 0;
    p->failed_alloc = 0;
}

/* The first record decides the kind of file. */
static QF_STATUS
read_head(WALK *w, uint64_t *data_size, int *have_size)
{
    QF_PARSER *p = w->p;
    REC     rec;
    QF_STATUS st;
    uint64_t n2, n3;
    const unsigned char *s, *end;

    const unsigned char *b;
    size_t  got;

    if ((b = w->src->get(w->src->ctx, 0, 6, &got)) == 0)
	return QF_READ_ERROR;
    if (got < 2 || strchr("CTSF", b[0]) == 0 || b[0] == 0)
	return QF_NOT_QUEUE_FILE;
    if ((st = read_rec(w, &rec)) != QF_OK)
	return st;
    switch (rec.type) {
    case REC_SIZE:
	p->facts.kind = QF_KIND_QUEUE;
	s = rec.data;
	end = s + rec.len;
	if ((s = parse_num(s, end, data_size)) == 0
	    || (s = parse_num(s, end, &n2)) == 0
	    || (s = parse_num(s, end, &n3)) == 0)
	    return QF_BAD_SIZE;
	*have_size = 1;
	p->facts.content_size = *data_size;
	if ((st = read_rec(w, &rec)) != QF_OK)
	    return st == QF_TRUNCATED ? QF_BAD_TIME : st;
	if (rec.type != REC_TIME)
	    return QF_BAD_TIME;
	return do_time(p, &rec);
    case REC_TIME:
	p->facts.kind = QF_KIND_MAILDROP;
	return do_time(p, &rec);
    case REC_FROM:
	p->facts.kind = QF_KIND_MAILDROP_OLD;
	return do_from(p, &rec);
    case REC_FULL:
	p->facts.kind = QF_KIND_MAILDROP_OLD;
	return QF_OK;
    default:
	return QF_NOT_QUEUE_FILE;
    }
}

QF_STATUS
qf_parse(QF_PARSER *p, const QF_SOURCE *src, unsigned flags,
	 const QF_FACTS **facts)
{
    WALK    w = {p, src, flags, 0, src->size};
    REC     rec;
    QF_STATUS st;
    uint64_t data_size = 0;
    int     have_size = 0;
    int     in_envelope = 1;

    reset(p);
    *facts = &p->facts;
    if (src->size == 0)
	return QF_EMPTY;
    if ((st = read_head(&w, &data_size, &have_size)) != QF_OK)
	return st;

    for (;;) {
	if ((st = read_rec(&w, &rec)) != QF_OK)
	    return st;
	switch (rec.type) {
	case REC_PTR:
	    if ((st = do_ptr(&w, &rec)) != QF_OK)
		return st;
	    break;
	case REC_TIME:
	    if (!p->facts.has_time && (st = do_time(p, &rec)) != QF_OK)
		return st;
	    break;
	case REC_FROM:
	    if ((st = do_from(p, &rec)) != QF_OK)
		return st;
	    break;
	case REC_ATTR:
	    if (in_envelope && (st = do_attr(p, &rec)) != QF_OK)
		return st;
	    break;
	case REC_RCPT:
	    if ((flags & QF_WANT_RCPTS) && rcpt_add(p, rec.data, rec.len) < 0)
		return QF_NO_MEMORY;
	    p->facts.nrcpt++;
	    break;
	case REC_DONE:
	    p->facts.ndone++;
	    break;
	case REC_DRCP:
	    p->facts.ndeleted++;
	    break;
	case REC_MESG:
	    if (!in_envelope)
		return QF_BAD_CONTENT;
	    if (!p->have_sender)
		return QF_NO_SENDER;
	    in_envelope = 0;
	    if ((flags & QF_WANT_HOLD) && have_size
		&& data_size <= src->size - w.pos
		&& (st = scan_header(&w, w.pos + data_size)) != QF_OK)
		return st;
	    if (!(flags & QF_WANT_RCPTS) && p->facts.nrcpt > 0) {
		finish(p, flags);
		return QF_OK;
	    }
	    if ((st = skip_content(&w, data_size, have_size)) != QF_OK)
		return st;
	    break;
	case REC_END:
	    if (!p->have_sender)
		return QF_NO_SENDER;
	    p->facts.rcpts_complete = 1;
	    finish(p, flags);
	    return QF_OK;
	default:
	    break;
	}
	if (p->failed_alloc)
	    return QF_NO_MEMORY;
    }
}

/* A QF_SOURCE over a memory buffer. */
typedef struct MEMSRC {
    const unsigned char *buf;
    size_t  len;
} MEMSRC;

static const unsigned char *
mem_get(void *ctx, uint64_t off, size_t need, size_t *got)
{
    MEMSRC *m = ctx;

    (void) need;
    if (off >= m->len) {
	*got = 0;
	return m->buf + m->len;
    }
    *got = m->len - (size_t) off;
    return m->buf + off;
}

QF_STATUS
qf_parse_mem(QF_PARSER *p, const void *buf, size_t len, unsigned flags,
	     const QF_FACTS **facts)
{
    MEMSRC  m = {buf, len};
    QF_SOURCE src = {mem_get, &m, len};

    return qf_parse(p, &src, flags, facts);
}

static const struct {
    const char *name;
    const char *text;
} status_tab[QF_NSTATUS] = {
    [QF_OK] = {"ok", "ok"},
    [QF_EMPTY] = {"empty", "empty file"},
    [QF_NOT_QUEUE_FILE] = {"not_queue_file", "not a queue file"},
    [QF_BAD_RECORD] = {"bad_record", "bad record length"},
    [QF_TRUNCATED] = {"truncated", "truncated file"},
    [QF_BAD_SIZE] = {"bad_size", "bad size record"},
    [QF_BAD_TIME] = {"bad_time", "missing or bad time record"},
    [QF_NO_SENDER] = {"no_sender", "no sender record"},
    [QF_BAD_POINTER] = {"bad_pointer", "bad pointer record"},
    [QF_POINTER_LOOP] = {"pointer_loop", "pointer loop"},
    [QF_BAD_CONTENT] = {"bad_content", "content does not end in X record"},
    [QF_TOO_LARGE] = {"too_large", "record too large"},
    [QF_READ_ERROR] = {"read_error", "read error"},
    [QF_NO_MEMORY] = {"no_memory", "out of memory"},
};

int
qf_counts(const QF_FACTS *f)
{
    return f->nrcpt > 0 || f->kind != QF_KIND_QUEUE;
}

const char *
qf_strerror(QF_STATUS st)
{
    return (unsigned) st < QF_NSTATUS ? status_tab[st].text : "unknown";
}

const char *
qf_status_name(QF_STATUS st)
{
    return (unsigned) st < QF_NSTATUS ? status_tab[st].name : "unknown";
}

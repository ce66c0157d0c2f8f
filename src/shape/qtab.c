/*
 * qtab - the queue-shape table of qshape(1).  See qtab.h.
 *
 * The layout reproduces qshape's results() and pdomain(): the column width
 * follows the TOTAL count and the heading, the domain column takes what is
 * left of the terminal width (at least 18), and names that do not fit keep
 * their last bytes behind a '+'.  Headings are computed with Perl's number
 * rules: integers while they fit in 64 bits, then doubles printed "%.15g".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "htab.h"
#include "log.h"
#include "mem.h"
#include "qtab.h"

#define TOTAL_KEY	"TOTAL"
#define DOMAIN_MIN_WIDTH 18		/* qshape's $dwidth */

/* Per key: subdomain count (filled at print time), then the counts. */
typedef struct KEYVAL {
    uint64_t sub;
    uint64_t count[];			/* [0] total, [1..nbuckets] */
} KEYVAL;

struct QTAB {
    QT_OPTS opts;
    HTAB   *keys;
    uint64_t *total;			/* the TOTAL row */
    char   *scratch;			/* domain buffer */
    size_t  scratch_len;
};

typedef struct ROW {
    const char *name;
    size_t  len;
    const uint64_t *count;
} ROW;

void
qt_opts_default(QT_OPTS *o)
{
    memset(o, 0, sizeof(*o));
    o->min_sub = 5;
    o->nbuckets = 10;
    o->tick = (QT_NUM) {1, 5, 5.0};
    o->width = 80;
}

int
qt_parse_num(const char *s, QT_NUM *out)
{
    const char *p = s;
    char   *end;
    int     digits = 0;

    while (*p == ' ' || *p == '\t')
	p++;
    if (*p == '+')
	p++;
    for (; *p >= '0' && *p <= '9'; p++)
	digits++;
    if (digits > 0 && *p == 0 && digits <= 19) {
	out->is_int = 1;
	out->u = strtoull(s, &end, 10);
	out->d = (double) out->u;
	return 0;
    }
    /* A decimal or exponent form, or too many digits: a double. */
    p = s;
    while (*p == ' ' || *p == '\t')
	p++;
    if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == '+' || *p == '-'))
	return -1;
    out->d = strtod(p, &end);
    if (end == p || *end != 0 || isnan(out->d))
	return -1;
    out->is_int = 0;
    out->u = 0;
    return 0;
}

static double
num_d(QT_NUM n)
{
    return n.is_int ? (double) n.u : n.d;
}

/* Perl's $a + $b for non-negative numbers. */
static QT_NUM
num_add(QT_NUM a, QT_NUM b)
{
    if (a.is_int && b.is_int && a.u <= UINT64_MAX - b.u)
	return (QT_NUM) {1, a.u + b.u, (double) (a.u + b.u)};
    return (QT_NUM) {0, 0, num_d(a) + num_d(b)};
}

static int
num_nonzero(QT_NUM n)
{
    return n.is_int ? n.u != 0 : n.d != 0;
}

/* Perl's stringification of a number. */
static void
num_format(QT_NUM n, char *buf, size_t len)
{
    if (n.is_int)
	snprintf(buf, len, "%llu", (unsigned long long) n.u);
    else if (isinf(n.d))
	snprintf(buf, len, "%sInf", n.d < 0 ? "-" : "");
    else
	snprintf(buf, len, "%.15g", n.d);
}

QTAB   *
qt_create(const QT_OPTS *opts, char *err, size_t errlen)
{
    QTAB   *t;

    if (opts->nbuckets < 1 || opts->nbuckets > QT_MAX_BUCKETS) {
	snprintf(err, errlen, "bucket count must be 1..%d", QT_MAX_BUCKETS);
	return 0;
    }
    if (!(num_d(opts->tick) > 0) || isinf(num_d(opts->tick))) {
	snprintf(err, errlen, "bucket time must be a positive number");
	return 0;
    }
    t = xcalloc(1, sizeof(*t));
    t->opts = *opts;
    t->keys = htab_create(sizeof(KEYVAL)
		      + (size_t) (opts->nbuckets + 1) * sizeof(uint64_t));
    t->total = xcalloc((size_t) opts->nbuckets + 1, sizeof(uint64_t));
    return t;
}

void
qt_destroy(QTAB *t)
{
    if (t == 0)
	return;
    htab_destroy(t->keys);
    free(t->total);
    free(t->scratch);
    free(t);
}

/*
 * qshape's bucket(): m = age / (60 * tick) minutes; bucket 1 below one
 * tick, then 2 + int(log2(m)) (or int(m + 1) when linear), capped at the
 * last bucket.
 */
int
qt_age_bucket(double age, double tick_minutes, long nbuckets, int linear)
{
    double  m = age / (60.0 * tick_minutes);
    double  b;

    if (!(m >= 1))
	return 1;
    b = linear ? floor(m + 1) : 2 + floor(log(m) / log(2));
    return b < (double) nbuckets ? (int) b : (int) nbuckets;
}

int
qt_bucket(const QTAB *t, int64_t now, int64_t when)
{
    return qt_age_bucket((double) now - (double) when, num_d(t->opts.tick),
			 t->opts.nbuckets, t->opts.linear);
}

static char *
scratch(QTAB *t, size_t need)
{
    if (need > t->scratch_len) {
	t->scratch = xrealloc(t->scratch, need);
	t->scratch_len = need;
    }
    return t->scratch;
}

static void
bump(QTAB *t, const char *key, size_t len, int b)
{
    KEYVAL *v = htab_insert(t->keys, key, len, 0);

    v->count[0]++;
    v->count[b]++;
}

void
qt_add(QTAB *t, const char *addr, size_t len, int b)
{
    char   *buf = scratch(t, ADDR_DOMAIN_BUFSIZE(len));
    size_t  n = addr_qshape_domain(addr, len, buf);

    t->total[0]++;
    t->total[b]++;
    bump(t, buf, n, b);
    while (t->opts.parents && (n = addr_qshape_parent(buf, n, buf)) > 0)
	bump(t, buf, n, b);
}

static void
bump_counts(QTAB *t, const char *key, size_t len, const uint64_t *count)
{
    KEYVAL *v = htab_insert(t->keys, key, len, 0);
    long    k;

    for (k = 0; k <= t->opts.nbuckets; k++)
	v->count[k] += count[k];
}

void
qt_add_key(QTAB *t, const char *key, size_t len, const uint64_t *count)
{
    char   *buf = scratch(t, len + 2);
    size_t  n = len;
    long    k;

    for (k = 0; k <= t->opts.nbuckets; k++)
	t->total[k] += count[k];
    bump_counts(t, key, len, count);
    memcpy(buf, key, len);
    while (t->opts.parents && (n = addr_qshape_parent(buf, n, buf)) > 0)
	bump_counts(t, buf, n, count);
}

void
qt_merge(QTAB *dst, const QTAB *src)
{
    size_t  i, k, n = htab_count(src->keys);
    size_t  nb = (size_t) dst->opts.nbuckets;

    for (k = 0; k <= nb; k++)
	dst->total[k] += src->total[k];
    for (i = 0; i < n; i++) {
	HTAB_ENTRY e = htab_entry(src->keys, i);
	const KEYVAL *sv = e.value;
	KEYVAL *dv = htab_insert(dst->keys, e.key, e.len, 0);

	for (k = 0; k <= nb; k++)
	    dv->count[k] += sv->count[k];
    }
}

/*
 * qshape counts, for each parent, the distinct keys whose parent it is;
 * every key is followed by its parent in the chain that creates it, so the
 * count can be computed from the final key set, whatever order (or thread)
 * the keys came from.
 */
static void
count_subdomains(const QTAB *t)
{
    size_t  i, n = htab_count(t->keys);
    char   *buf = 0;
    size_t  blen = 0;

    for (i = 0; i < n; i++)
	((KEYVAL *) htab_entry(t->keys, i).value)->sub = 0;
    if (!t->opts.parents)
	return;
    for (i = 0; i < n; i++) {
	HTAB_ENTRY e = htab_entry(t->keys, i);
	size_t  pl;
	KEYVAL *pv;

	if (e.len + 2 > blen) {
	    blen = e.len + 2;
	    buf = xrealloc(buf, blen);
	}
	if ((pl = addr_qshape_parent(e.key, e.len, buf)) > 0
	    && (pv = htab_find(t->keys, buf, pl)) != 0)
	    pv->sub++;
    }
    free(buf);
}

static int
row_cmp(const void *a, const void *b)
{
    const ROW *x = a, *y = b;
    int     c;

    if (x->count[0] != y->count[0])
	return x->count[0] > y->count[0] ? -1 : 1;
    if (x->len != y->len)
	return x->len < y->len ? -1 : 1;
    c = memcmp(x->name, y->name, x->len);
    return c;
}

/* All rows to show, sorted and filtered; *nrows set.  Caller frees. */
static ROW *
make_rows(const QTAB *t, long top_n, size_t *nrows)
{
    size_t  i, n = htab_count(t->keys);
    size_t  kept = 0;
    ROW    *rows = xcalloc(n + 1, sizeof(*rows));

    count_subdomains(t);
    rows[0] = (ROW) {TOTAL_KEY, sizeof(TOTAL_KEY) - 1, t->total};
    for (i = 0; i < n; i++) {
	HTAB_ENTRY e = htab_entry(t->keys, i);

	rows[i + 1] = (ROW) {e.key, e.len, ((KEYVAL *) e.value)->count};
    }
    qsort(rows, n + 1, sizeof(*rows), row_cmp);
    for (i = 0; i < n + 1; i++) {
	if (rows[i].len > 0 && rows[i].name[0] == '.') {
	    const KEYVAL *v = htab_find(t->keys, rows[i].name, rows[i].len);

	    if (v->sub < (uint64_t) t->opts.min_sub)
		continue;
	}
	if (top_n > 0 && (long) kept >= top_n)
	    break;
	rows[kept++] = rows[i];
    }
    *nrows = kept;
    return rows;
}

/* Column headings and widths, as qshape's results(). */
typedef struct LAYOUT {
    char  (*head)[48];			/* a number, maybe with a '+' */
    int    *width;
    long    dw;				/* domain column width */
} LAYOUT;

static void
make_layout(const QTAB *t, LAYOUT *lay)
{
    long    nb = t->opts.nbuckets;
    long    i;
    QT_NUM  tv = {1, 0, 0};
    int     plus = 0;
    char    num[40];

    lay->head = xcalloc((size_t) nb + 1, sizeof(*lay->head));
    lay->width = xcalloc((size_t) nb + 1, sizeof(*lay->width));
    lay->dw = t->opts.width > 80 ? t->opts.width : 80;
    for (i = 0; i <= nb;) {
	int     l = snprintf(num, sizeof(num), "%llu",
			     (unsigned long long) t->total[i]);
	int     hl;

	if (i == 0) {
	    snprintf(lay->head[i], sizeof(lay->head[i]), "T");
	} else {
	    num_format(tv, lay->head[i], sizeof(lay->head[i]) - 2);
	    if (plus)
		strcat(lay->head[i], "+");
	}
	hl = (int) strlen(lay->head[i]);
	if (hl >= l)
	    l = hl;
	l = l > 2 ? l + 1 : 3;
	lay->width[i] = l;
	lay->dw -= l;
	if (++i < nb)
	    tv = num_add(tv, num_nonzero(tv) && !t->opts.linear ?
			 tv : t->opts.tick);
	else
	    plus++;
    }
    if (lay->dw < DOMAIN_MIN_WIDTH)
	lay->dw = DOMAIN_MIN_WIDTH;
}

/* Write len bytes of d escaped (log_printable): keys come from senders. */
static void
print_text(FILE *fp, const char *d, size_t len)
{
    char   *e = xmalloc(len + 1);

    log_printable(e, d, len);
    fwrite(e, 1, len, fp);
    free(e);
}

/* qshape's pdomain(): the name, right-justified or truncated. */
static void
print_name(FILE *fp, const char *d, size_t len, long dw)
{
    size_t  w = (size_t) dw;

    if (len > w) {
	if (d[0] == '.') {
	    fputs(".+", fp);
	    print_text(fp, d + len - w + 2, w - 2);
	} else {
	    fputc('+', fp);
	    print_text(fp, d + len - w + 1, w - 1);
	}
    } else {
	fprintf(fp, "%*s", (int) (w - len), "");
	print_text(fp, d, len);
    }
}

void
qt_print(const QTAB *t, FILE *fp, long top_n)
{
    LAYOUT  lay;
    size_t  i, nrows;
    long    k, nb = t->opts.nbuckets;
    ROW    *rows = make_rows(t, top_n, &nrows);

    make_layout(t, &lay);
    print_name(fp, "", 0, lay.dw);
    for (k = 0; k <= nb; k++)
	fprintf(fp, "%*s", lay.width[k], lay.head[k]);
    fputc('\n', fp);
    for (i = 0; i < nrows; i++) {
	print_name(fp, rows[i].name, rows[i].len, lay.dw);
	for (k = 0; k <= nb; k++)
	    fprintf(fp, "%*llu", lay.width[k],
		    (unsigned long long) rows[i].count[k]);
	fputc('\n', fp);
    }
    free(lay.head);
    free(lay.width);
    free(rows);
}

static void
json_string(FILE *fp, const char *s, size_t len)
{
    size_t  i;

    fputc('"', fp);
    for (i = 0; i < len; i++) {
	unsigned char c = (unsigned char) s[i];

	if (c == '"' || c == '\\')
	    fprintf(fp, "\\%c", c);
	else if (c < 0x20 || c >= 0x7f)
	    fprintf(fp, "\\u%04x", c);
	else
	    fputc(c, fp);
    }
    fputc('"', fp);
}

static void
json_counts(FILE *fp, const uint64_t *count, long nb)
{
    long    k;

    fputc('[', fp);
    for (k = 1; k <= nb; k++)
	fprintf(fp, "%s%llu", k > 1 ? "," : "",
		(unsigned long long) count[k]);
    fputc(']', fp);
}

void
qt_print_json(const QTAB *t, FILE *fp, long top_n, const char *extra)
{
    LAYOUT  lay;
    size_t  i, nrows;
    long    k, nb = t->opts.nbuckets;
    ROW    *rows = make_rows(t, top_n, &nrows);
    const char *sep = "";

    make_layout(t, &lay);
    fputs("{\"buckets\":[", fp);
    for (k = 1; k <= nb; k++)
	fprintf(fp, "%s\"%s\"", k > 1 ? "," : "", lay.head[k]);
    fprintf(fp, "],\"total\":{\"count\":%llu,\"buckets\":",
	    (unsigned long long) t->total[0]);
    json_counts(fp, t->total, nb);
    fputs("},\"rows\":[", fp);
    for (i = 0; i < nrows; i++) {
	if (rows[i].count == t->total)
	    continue;
	fprintf(fp, "%s{\"name\":", sep);
	json_string(fp, rows[i].name, rows[i].len);
	fprintf(fp, ",\"count\":%llu,\"buckets\":",
		(unsigned long long) rows[i].count[0]);
	json_counts(fp, rows[i].count, nb);
	fputc('}', fp);
	sep = ",";
    }
    fputc(']', fp);
    if (extra && *extra)
	fprintf(fp, ",%s", extra);
    fputs("}\n", fp);
    free(lay.head);
    free(lay.width);
    free(rows);
}

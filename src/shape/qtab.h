/*
 * qtab - the queue-shape table of qshape(1): counts per domain and age
 * bucket, with qshape's domain normalisation, parent domains, bucket
 * geometry, row order and layout.
 *
 * A QTAB is filled with qt_add() (one call per sender or recipient address)
 * and printed with qt_print() or qt_print_json().  Tables built by several
 * threads with the same options are combined with qt_merge().  Rows are
 * ordered by count (descending), then name length (ascending), then bytes:
 * qshape leaves the last tie to Perl's hash order, we make it deterministic.
 * Names are printed escaped by log_printable() (log.h), which keeps their
 * width: printable ASCII and well-formed UTF-8 print as qshape prints them.
 *
 * Constructors return NULL and a reason; the table owns its strings.
 */
#ifndef QSHAPE_QTAB_H
#define QSHAPE_QTAB_H

#include <stdint.h>
#include <stdio.h>

#define QT_MAX_BUCKETS	1000

/* A number as Perl holds it: an unsigned integer or a double. */
typedef struct QT_NUM {
    int     is_int;
    uint64_t u;
    double  d;
} QT_NUM;

typedef struct QT_OPTS {
    int     parents;			/* -p: parent-domain rows */
    long    min_sub;			/* -m: subdomains to show a parent */
    long    nbuckets;			/* -b: age buckets */
    QT_NUM  tick;			/* -t: first bucket, minutes */
    int     linear;			/* -l: linear buckets */
    long    width;			/* -w: terminal width */
} QT_OPTS;

typedef struct QTAB QTAB;

/* qshape's defaults: -m 5 -b 10 -t 5 -w 80. */
extern void qt_opts_default(QT_OPTS *);

/* Parse an option value as Perl would numify it ("5", "1.5", "1e1"):
 * 0 on success, -1 when it is not a number. */
extern int qt_parse_num(const char *, QT_NUM *);

extern QTAB *qt_create(const QT_OPTS *, char *err, size_t errlen);
extern void qt_destroy(QTAB *);

/* The age bucket (1..nbuckets) of a message that arrived at 'when'. */
extern int qt_bucket(const QTAB *, int64_t now, int64_t when);

/* The same for any geometry: age in seconds, first bucket in minutes. */
extern int qt_age_bucket(double age, double tick_minutes, long nbuckets,
			 int linear);

/* Count one address (sender or recipient) in bucket b. */
extern void qt_add(QTAB *, const char *addr, size_t len, int b);

/* Count a key that is already a domain (no normalisation): 'count' has
 * nbuckets + 1 entries, [0] the total.  Parents follow as in qt_add(). */
extern void qt_add_key(QTAB *, const char *key, size_t len,
		       const uint64_t *count);

/* Add every count of src into dst (same options). */
extern void qt_merge(QTAB *dst, const QTAB *src);

/* Print the table as qshape does; top_n > 0 limits the rows (-n). */
extern void qt_print(const QTAB *, FILE *, long top_n);

/* The same rows as JSON; 'extra' is inserted verbatim as more members of
 * the top-level object (may be NULL). */
extern void qt_print_json(const QTAB *, FILE *, long top_n,
			  const char *extra);

#endif

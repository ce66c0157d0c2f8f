/*
 * heldsel - which held messages "qshapectl held", "release" and "delete"
 * select.  Pure: a filter and the facts of one message in, a yes or no
 * out; no I/O, no errno, no clock (the caller passes now).
 *
 * A message is selected when it carries a hold mark (holdmark.h) and
 * every filter that is set matches:
 *   policy      the mark's policy name, exactly;
 *   key         the mark's key, byte for byte, of the given kind (or of
 *               any kind); a mark whose key was truncated matches a filter
 *               key whose first HM_KEY_MAX bytes are the mark's;
 *   older_than  the hold is more than older_than seconds old:
 *               now - mark.time > older_than (exactly older_than: no).
 * Mail without a mark was held by others and is never selected.
 *
 * The filter borrows its strings.  hs_parse_duration() and hs_parse_key()
 * return 0, or -1 with a reason in err.
 */
#ifndef QSHAPE_HELDSEL_H
#define QSHAPE_HELDSEL_H

#include <stddef.h>
#include <stdint.h>

#include "holdmark.h"

typedef struct HS_FILTER {
    const char *policy;			/* NULL: any policy */
    int     have_key;
    int     key_kind;			/* QS_KEY_*, or -1: any kind */
    char    key[HM_KEY_MAX * 4 + 1];	/* decoded; key_len bytes */
    size_t  key_len;
    int     have_older_than;
    int64_t older_than;			/* seconds */
} HS_FILTER;

/* No filter set: selecting on it needs the operator's --all. */
extern int hs_filter_empty(const HS_FILTER *);

/* Is a message with this mark selected?  mark NULL: held by others. */
extern int hs_select(const HS_FILTER *, const HM_MARK *mark, int64_t now);

/*
 * "KIND:KEY" or "KEY" (any kind; also when the part before the first ':'
 * is not a kind name, as in an IPv6 address), KEY as "qshapectl held"
 * prints it (%HH escapes, holdmark.h).  Sets have_key, key_kind, key.
 */
extern int hs_parse_key(const char *arg, HS_FILTER *, char *err,
			size_t errlen);

/* A duration: digits with an optional unit s, m, h, d or w (seconds when
 * none); 0 .. 100 years.  Sets *secs. */
extern int hs_parse_duration(const char *arg, int64_t *secs, char *err,
			     size_t errlen);

#endif

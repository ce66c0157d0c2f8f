/*
 * mxct - the milter's counters as metric families.  See mxct.h.
 */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "mxct.h"

/* The words of the milter's log lines (verdict.c), without the prefix. */
static const char *const fail_name[QS_CT_NFAIL] = {
    [QS_CT_FAIL_MISSING] = "summary_missing",
    [QS_CT_FAIL_STALE] = "summary_stale",
    [QS_CT_FAIL_FOREIGN] = "summary_unknown_version",
    [QS_CT_FAIL_UNTRUSTED] = "summary_untrusted",
    [QS_CT_FAIL_LOOKUP] = "summary_unreadable",
    [QS_CT_FAIL_POLICY] = "policy_mismatch",
};

static const char *const exempt_name[QS_CT_NEXEMPT] = {
    [QS_CT_EXEMPT_SENDER] = "sender",
    [QS_CT_EXEMPT_DOMAIN] = "domain",
    [QS_CT_EXEMPT_NETWORK] = "network",
    [QS_CT_EXEMPT_SASL] = "sasl_user",
    [QS_CT_EXEMPT_NULL_SENDER] = "null_sender",
};

const char *
mxct_fail_name(int i)
{
    return i >= 0 && i < QS_CT_NFAIL ? fail_name[i] : "unknown";
}

const char *
mxct_exempt_name(int i)
{
    return i >= 0 && i < QS_CT_NEXEMPT ? exempt_name[i] : "unknown";
}

/* The verdict counts of one slot, by QS_ACTION_*. */
static void
slot_counts(const QS_CT_HEADER *h, const QS_CT_POLICY *p,
	    uint64_t c[QS_NACTIONS])
{
    int     a;

    for (a = 0; a < QS_NACTIONS; a++)
	c[a] = h->minor >= 1 ? p->verdict[a] : p->done[a];
    if (h->minor < 1)
	c[QS_ACTION_LOG] = 0;
}

/* The row of name in x (added with four zero actions when new). */
static size_t
policy_row(MXCT *x, const char *name, size_t len)
{
    size_t  i;
    int     a;

    for (i = 0; i < x->m.nverdict; i += QS_NACTIONS)
	if (strlen(x->verdict[i].policy) == len
	    && memcmp(x->verdict[i].policy, name, len) == 0)
	    return i;
    memcpy(x->name[i / QS_NACTIONS], name, len);
    x->name[i / QS_NACTIONS][len] = 0;
    for (a = 0; a < QS_NACTIONS; a++)
	x->verdict[i + (size_t) a] = (MX_VERDICT) {
	    x->name[i / QS_NACTIONS], a, 0};
    x->m.nverdict += QS_NACTIONS;
    return i;
}

void
mxct_translate(MXCT *x, const QS_CT_HEADER *h, const QS_CT_POLICY *p)
{
    uint64_t c[QS_NACTIONS];
    size_t  i, row, len;
    int     a;

    memset(x, 0, sizeof(*x));
    x->m.start_time = h->created;
    x->m.sessions = h->sessions;
    for (i = 0; i < QS_CT_NPOLICIES; i++) {
	if (p[i].digest == 0)
	    continue;
	if ((len = strnlen(p[i].name, QS_NAME_BYTES)) == 0)
	    continue;			/* taken, name not yet written */
	row = policy_row(x, p[i].name, len);
	slot_counts(h, &p[i], c);
	for (a = 0; a < QS_NACTIONS; a++)
	    x->verdict[row + (size_t) a].count += c[a];
    }
    x->m.verdict = x->verdict;
    for (i = 0; i < QS_CT_NFAIL; i++)
	x->failmode[i] = (MX_COUNT) {fail_name[i], h->fail_begins[i]};
    x->m.failmode = x->failmode;
    x->m.nfailmode = QS_CT_NFAIL;
    for (i = 0; i < QS_CT_NEXEMPT; i++)
	x->exempt[i] = (MX_COUNT) {exempt_name[i], h->exempt[i]};
    x->m.exempt = x->exempt;
    x->m.nexempt = QS_CT_NEXEMPT;
}

int
mxct_write(FILE *fp, CT_R *r, const char *path, char *err, size_t errlen)
{
    MXCT   *x;
    int     rc;

    if (ct_read(r, path, err, errlen) < 0)
	return mx_format_milter(fp, 0) < 0 ? -1 : 1;
    x = xmalloc(sizeof(*x));
    mxct_translate(x, ct_header(r), ct_policies(r));
    rc = mx_format_milter(fp, &x->m);
    free(x);
    return rc;
}

/*
 * verdict - what qshape-milter does with a new message.  See verdict.h.
 *
 * Keys are computed with the normaliser the scanner uses (addr.h), from
 * the whole address in its queue-file form (envaddr.h); a key longer than
 * QS_KEY_BYTES - 1 is looked up by its first bytes and the hash of all of
 * it (shm.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "envaddr.h"
#include "regdom.h"
#include "verdict.h"

static const char *const why_name[] = {
    [VD_NO_MATCH] = "no_match",
    [VD_MATCH] = "match",
    [VD_EXEMPT_SENDER] = "exempt_sender",
    [VD_EXEMPT_DOMAIN] = "exempt_domain",
    [VD_EXEMPT_NETWORK] = "exempt_network",
    [VD_EXEMPT_SASL] = "exempt_sasl_user",
    [VD_EXEMPT_NULL_SENDER] = "exempt_null_sender",
    [VD_FAIL_MISSING] = "summary_missing",
    [VD_FAIL_STALE] = "summary_stale",
    [VD_FAIL_FOREIGN] = "summary_unknown_version",
    [VD_FAIL_LOOKUP] = "summary_unreadable",
    [VD_FAIL_UNTRUSTED] = "summary_untrusted",
    [VD_FAIL_POLICY] = "policy_mismatch",
};

const char *
vd_why_name(VD_WHY w)
{
    return (unsigned) w < sizeof(why_name) / sizeof(why_name[0])
	&& why_name[w] ? why_name[w] : "unknown";
}

/* Parent domains up to this long are made on the stack. */
#define ADDR_STACK	VD_KEYS_STACK

int
vd_keys_make(const char *sender, size_t len, VD_KEYS *k)
{
    size_t  need = ADDR_DOMAIN_BUFSIZE(ENVADDR_BUFSIZE(len));

    k->heap = 0;
    k->internal = k->space[0];
    k->sender = k->space[1];
    k->domain = k->space[2];
    if (need > sizeof(k->space[0])) {
	if ((k->heap = malloc(3 * need)) == 0)
	    return -1;
	k->internal = k->heap;
	k->sender = k->heap + need;
	k->domain = k->heap + 2 * need;
    }
    k->internal_len = envaddr_internal(sender, len, k->internal, &k->flags);
    k->domain_len = addr_qshape_domain(k->internal, k->internal_len,
				       k->domain);
    k->sender_len = addr_sender_key(k->internal, k->internal_len, k->sender);
    return 0;
}

void
vd_keys_free(VD_KEYS *k)
{
    free(k->heap);
    k->heap = 0;
}

static int
in_list(const CFG_STRLIST *l, const char *s, size_t len, int nocase)
{
    size_t  i;

    for (i = 0; i < l->n; i++)
	if (strlen(l->v[i]) == len
	    && (nocase ? strncasecmp(l->v[i], s, len)
		: memcmp(l->v[i], s, len)) == 0)
	    return 1;
    return 0;
}

/* Does domain d equal an exempt domain or lie below one? */
static int
domain_exempt(const CFG_STRLIST *l, const char *d, size_t len)
{
    size_t  i, el;

    for (i = 0; i < l->n; i++) {
	el = strlen(l->v[i]);
	if (el == len && memcmp(l->v[i], d, len) == 0)
	    return 1;
	if (el < len && d[len - el - 1] == '.'
	    && memcmp(l->v[i], d + len - el, el) == 0)
	    return 1;
    }
    return 0;
}

static VD_WHY
exempt(const QC_CONFIG *cf, const VD_MSG *m, const VD_KEYS *k)
{
    const QC_EXEMPT *e = &cf->exempt;
    size_t  i;

    if (e->null_sender && k->internal_len == 0)
	return VD_EXEMPT_NULL_SENDER;
    if (k->internal_len
	&& in_list(&e->senders, k->sender, k->sender_len, 1))
	return VD_EXEMPT_SENDER;
    if (k->internal_len
	&& domain_exempt(&e->domains, k->domain, k->domain_len))
	return VD_EXEMPT_DOMAIN;
    for (i = 0; m->client_family && i < e->nnets; i++)
	if (qc_net_match(&e->nets[i], m->client_family, m->client_addr))
	    return VD_EXEMPT_NETWORK;
    if (m->sasl_user && *m->sasl_user
	&& in_list(&e->sasl_users, m->sasl_user, strlen(m->sasl_user), 0))
	return VD_EXEMPT_SASL;
    return VD_NO_MATCH;
}

/* Look up one key for policy p: 1 matched (v filled), 0, -1 error. */
static int
try_key(const QC_CONFIG *cf, int p, int kind, const char *key, size_t len,
	VD_LOOKUP fn, void *ctx, VD_VERDICT *v)
{
    int     rc = fn(ctx, kind, key, len, cf->policies[p].digest, &v->entry);

    if (rc <= 0)
	return rc;
    v->policy = p;
    v->kind = kind;
    len = len < QS_KEY_BYTES - 1 ? len : QS_KEY_BYTES - 1;
    memcpy(v->key, key, len);
    v->key[len] = 0;
    return 1;
}

/*
 * The closest parent key of the domain that policy p throttles: 1 (v
 * filled), 0, or -1.  The keys are rd_parents()'s, the scanner's; but the
 * Public Suffix List costs thousands of instructions a name and a lookup a
 * hundred, so qshape's chain (of which rd_parents() keeps a part, in the
 * same order) is looked up first, and the list is asked only to confirm a
 * key that is throttled.
 */
static int
parent_match(const QC_CONFIG *cf, int p, const VD_KEYS *k, VD_LOOKUP fn,
	     void *ctx, VD_VERDICT *v)
{
    uint16_t off[RD_PARENTS_MAX];
    size_t  at = 0, step, i, n = 0;
    int     rc, listed = 0;

    if (k->domain_len > RD_NAME_MAX)	/* rd_parents() gives none */
	return 0;
    while ((step = addr_qshape_parent_at(k->domain + at,
					 k->domain_len - at)) > 0) {
	at += step;
	rc = try_key(cf, p, QC_KEY_PARENT_DOMAIN, k->domain + at,
		     k->domain_len - at, fn, ctx, v);
	if (rc <= 0) {
	    if (rc < 0)
		return -1;
	    continue;
	}
	if (!listed) {
	    n = rd_parents(k->domain, k->domain_len, off);
	    listed = 1;
	}
	for (i = 0; i < n; i++)
	    if (off[i] == at)
		return 1;
	/* Not one of the scanner's keys for this domain: no match. */
	memset(&v->entry, 0, sizeof(v->entry));
	v->key[0] = 0;
	v->policy = -1;
    }
    return 0;
}

/* The first policy whose key of the message is throttled.  Parent keys
 * are suffixes of the domain, as the scanner's index makes them
 * (regdom.h). */
static int
find_match(const QC_CONFIG *cf, const VD_MSG *m, VD_KEYS *k, VD_LOOKUP fn,
	   void *ctx, VD_VERDICT *v)
{
    size_t  p;
    int     rc = 0;

    for (p = 0; p < cf->npolicies && rc == 0; p++) {
	int     kind = cf->policies[p].key;

	switch (kind) {
	case QC_KEY_SENDER_DOMAIN:
	    rc = try_key(cf, (int) p, kind, k->domain, k->domain_len, fn, ctx, v);
	    break;
	case QC_KEY_PARENT_DOMAIN:
	    /* Only when the policy throttles some parent domain. */
	    if ((rc = fn(ctx, kind, 0, 0, cf->policies[p].digest, 0)) > 0)
		rc = parent_match(cf, (int) p, k, fn, ctx, v);
	    break;
	case QC_KEY_SENDER:
	    rc = try_key(cf, (int) p, kind, k->sender, k->sender_len, fn, ctx, v);
	    break;
	case QC_KEY_CLIENT_ADDRESS:
	    if (m->client_text && *m->client_text)
		rc = try_key(cf, (int) p, kind, m->client_text,
			     strlen(m->client_text), fn, ctx, v);
	    break;
	case QC_KEY_SASL_USERNAME:
	    if (m->sasl_user && *m->sasl_user)
		rc = try_key(cf, (int) p, kind, m->sasl_user,
			     strlen(m->sasl_user), fn, ctx, v);
	    break;
	}
    }
    return rc;
}

static void
fail(const QC_CONFIG *cf, const VD_MSG *m, VD_WHY why, VD_VERDICT *v)
{
    v->why = why;
    v->action = cf->fail_mode == QC_FAIL_TEMPFAIL && !m->local ?
	QS_ACTION_TEMPFAIL : QS_ACTION_ACCEPT;
}

/* What the matched policy's action means for this message. */
static void
act(const QC_CONFIG *cf, const VD_MSG *m, VD_VERDICT *v)
{
    const QC_POLICY *p = &cf->policies[v->policy];
    int     a = m->local ? p->local_action : p->action;

    v->why = VD_MATCH;
    v->policy_action = a;
    if (cf->dry_run || a == QS_ACTION_LOG || a == QS_ACTION_ACCEPT) {
	v->suppressed = 1;
	v->action = QS_ACTION_ACCEPT;
    } else {
	v->action = a == QS_ACTION_TEMPFAIL ? QS_ACTION_TEMPFAIL
	    : QS_ACTION_HOLD;
    }
}

static VD_WHY
state_why(VD_SUMMARY state)
{
    switch (state) {
    case VD_SUMMARY_OK:
	return VD_NO_MATCH;
    case VD_SUMMARY_STALE:
	return VD_FAIL_STALE;
    case VD_SUMMARY_FOREIGN:
	return VD_FAIL_FOREIGN;
    case VD_SUMMARY_UNTRUSTED:
	return VD_FAIL_UNTRUSTED;
    case VD_SUMMARY_UNREADABLE:
	return VD_FAIL_LOOKUP;
    case VD_SUMMARY_POLICIES:
	return VD_FAIL_POLICY;
    case VD_SUMMARY_MISSING:
    default:
	return VD_FAIL_MISSING;
    }
}

static void
keep_sender(const VD_KEYS *k, VD_VERDICT *v)
{
    size_t  n = k->sender_len < QS_KEY_BYTES - 1 ? k->sender_len
	: QS_KEY_BYTES - 1;

    memcpy(v->sender_key, k->sender, n);
    v->sender_key[n] = 0;
    v->sender_flags = k->flags;
}

void
vd_decide(const QC_CONFIG *cf, const VD_MSG *m, VD_SUMMARY state,
	  VD_LOOKUP fn, void *ctx, VD_VERDICT *v)
{
    VD_KEYS k;
    VD_WHY  why;
    int     rc;

    memset(v, 0, sizeof(*v));
    v->policy = -1;
    v->action = QS_ACTION_ACCEPT;
    if (vd_keys_make(m->sender, m->sender_len, &k) < 0) {
	fail(cf, m, VD_FAIL_LOOKUP, v);
	return;
    }
    keep_sender(&k, v);
    if (state != VD_SUMMARY_OK) {
	vd_keys_free(&k);
	fail(cf, m, state_why(state), v);
	return;
    }
    if ((why = exempt(cf, m, &k)) != VD_NO_MATCH) {
	v->why = why;
	vd_keys_free(&k);
	return;
    }
    rc = find_match(cf, m, &k, fn, ctx, v);
    vd_keys_free(&k);
    if (rc < 0) {
	v->policy = -1;
	fail(cf, m, VD_FAIL_LOOKUP, v);
    } else if (rc == 0) {
	v->policy = -1;
	v->why = VD_NO_MATCH;
    } else {
	act(cf, m, v);
    }
}

VD_WHY
vd_fail_next(VD_WHY before, const VD_VERDICT *v)
{
    switch (v->why) {
    case VD_FAIL_MISSING:
    case VD_FAIL_STALE:
    case VD_FAIL_FOREIGN:
    case VD_FAIL_LOOKUP:
    case VD_FAIL_UNTRUSTED:
    case VD_FAIL_POLICY:
	return v->why;
    case VD_EXEMPT_SENDER:
    case VD_EXEMPT_DOMAIN:
    case VD_EXEMPT_NETWORK:
    case VD_EXEMPT_SASL:
    case VD_EXEMPT_NULL_SENDER:
	/* The summary was usable; no lookup said whether lookups work. */
	return before == VD_FAIL_LOOKUP ? before : VD_NO_MATCH;
    default:
	return VD_NO_MATCH;
    }
}

/*
 * verdict - what qshape-milter does with a new message, and why.
 *
 * A pure function: (configuration, facts of the message, state of the
 * summary, a lookup in the throttle set) -> verdict.  The milter and
 * "qshapectl explain" both call it, so the operator sees the decision the
 * milter makes.  No I/O, no clock; memory only for very long addresses
 * (freed before it returns; without it, the fail mode applies).
 *
 * Order: the summary must be usable (else the configured fail mode);
 * exemptions come next (sender, sender domain and its parents, client
 * network, SASL user, null sender); then the policies in configuration
 * order, each looking up the message's key of its kind (for parent_domain
 * every parent, the closest first); the first throttled one decides.
 * Mail from sendmail(1) gets the policy's local_action instead of its
 * action, and never a tempfail.  dry_run and action "log" accept and say what they
 * would have done.
 */
#ifndef QSHAPE_VERDICT_H
#define QSHAPE_VERDICT_H

#include <stddef.h>
#include <stdint.h>

#include "qshape/summary.h"
#include "conf.h"

typedef struct VD_MSG {
    const char *sender;			/* envelope sender without <>; "" */
    size_t  sender_len;
    int     client_family;		/* AF_INET, AF_INET6, or 0: unknown */
    unsigned char client_addr[16];	/* network order */
    const char *client_text;		/* as Postfix prints it, or NULL */
    const char *sasl_user;		/* NULL or "" when none */
    int     local;			/* from sendmail(1) */
} VD_MSG;

typedef enum VD_SUMMARY {
    VD_SUMMARY_OK,
    VD_SUMMARY_MISSING,			/* no summary, or it cannot be read */
    VD_SUMMARY_STALE,			/* heartbeat older than stale_after */
    VD_SUMMARY_FOREIGN			/* unknown version or layout */
} VD_SUMMARY;

/* Is (kind, key) throttled by the policy with this digest?  1 and the
 * entry, 0, or -1 on error. */
typedef int (*VD_LOOKUP) (void *ctx, int kind, const char *key, size_t len,
			  uint64_t policy_digest, QS_THROTTLE *out);

typedef enum VD_ACTION {
    VD_ACCEPT,
    VD_TEMPFAIL,			/* 4xx at MAIL FROM, policy's reply */
    VD_HOLD				/* quarantine at end of message */
} VD_ACTION;

typedef enum VD_WHY {
    VD_NO_MATCH,			/* no key of the message is throttled */
    VD_MATCH,				/* a policy matched: see policy, key */
    VD_EXEMPT_SENDER,
    VD_EXEMPT_DOMAIN,
    VD_EXEMPT_NETWORK,
    VD_EXEMPT_SASL,
    VD_EXEMPT_NULL_SENDER,
    VD_FAIL_MISSING,			/* summary missing: fail mode */
    VD_FAIL_STALE,
    VD_FAIL_FOREIGN,
    VD_FAIL_LOOKUP			/* the lookup failed: fail mode */
} VD_WHY;

typedef struct VD_VERDICT {
    VD_ACTION action;			/* what to do now */
    VD_WHY  why;
    int     policy;			/* VD_MATCH: index in the config */
    int     policy_action;		/* VD_MATCH: QC_ACTION_* it asked for */
    int     suppressed;			/* VD_MATCH: dry_run, log or local */
    int     kind;			/* VD_MATCH: QS_KEY_* */
    char    key[QS_KEY_BYTES];		/* VD_MATCH: the key that matched */
    QS_THROTTLE entry;			/* VD_MATCH: its numbers */
} VD_VERDICT;

extern void vd_decide(const QC_CONFIG *, const VD_MSG *, VD_SUMMARY,
		      VD_LOOKUP, void *ctx, VD_VERDICT *);

/* "exempt_sender", "fail_stale", ... for logs. */
extern const char *vd_why_name(VD_WHY);
extern const char *vd_action_name(VD_ACTION);

/* Strip one pair of angle brackets from an envelope address. */
extern void vd_strip_brackets(const char **addr, size_t *len);

#endif

/*
 * verdict - what qshape-milter does with a new message, and why.
 *
 * A pure function: (configuration, facts of the message, state of the
 * summary, a lookup in the throttle set) -> verdict.  The milter and
 * "qshapectl explain" both call it, so the operator sees the decision the
 * milter makes.  No I/O, no clock; memory only for very long addresses
 * (freed before it returns; without it, the fail mode applies).
 *
 * The sender is taken as the client gave it (MAIL FROM's argument, with
 * or without "<>") and converted to the form Postfix writes into the
 * queue file (envaddr.h) before any key is made, so quoting, escapes,
 * source routes, case and a trailing dot do not change a key.
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
    const char *sender;			/* MAIL FROM's argument as given */
    size_t  sender_len;
    int     client_family;		/* AF_INET, AF_INET6, or 0: unknown */
    unsigned char client_addr[16];	/* network order */
    const char *client_text;		/* as Postfix prints it, or NULL */
    const char *sasl_user;		/* NULL or "" when none */
    int     local;			/* not over SMTP (sendmail(1)) */
} VD_MSG;

/* Whether the summary can be used, as the caller found it. */
typedef enum VD_SUMMARY {
    VD_SUMMARY_OK,
    VD_SUMMARY_MISSING,			/* no summary under the name */
    VD_SUMMARY_STALE,			/* heartbeat older than stale_after */
    VD_SUMMARY_FOREIGN,			/* unknown version or layout */
    VD_SUMMARY_UNTRUSTED,		/* refused: owner, type, mode */
    VD_SUMMARY_UNREADABLE,		/* cannot be opened or read */
    VD_SUMMARY_POLICIES			/* published for other policies */
} VD_SUMMARY;

/* Is (kind, key) throttled by the policy with this digest?  1 and the
 * entry, 0, or -1 on error.  With key NULL (len 0, out NULL): might any
 * key of that kind be throttled by the policy?  0 certainly not, 1 perhaps,
 * -1 on error: vd_decide() asks before it makes costly keys. */
typedef int (*VD_LOOKUP) (void *ctx, int kind, const char *key, size_t len,
			  uint64_t policy_digest, QS_THROTTLE *out);

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
    VD_FAIL_LOOKUP,			/* unreadable, or a lookup failed */
    VD_FAIL_UNTRUSTED,			/* the reader refused the summary */
    VD_FAIL_POLICY			/* the scanner's policies differ */
} VD_WHY;

typedef struct VD_VERDICT {
    int     action;			/* QS_ACTION_ACCEPT, _TEMPFAIL, _HOLD */
    VD_WHY  why;
    int     policy;			/* VD_MATCH: index in the config */
    int     policy_action;		/* VD_MATCH: QS_ACTION_* it asked for */
    int     suppressed;			/* VD_MATCH: dry_run, log or local */
    int     kind;			/* VD_MATCH: QS_KEY_* */
    char    key[QS_KEY_BYTES];		/* VD_MATCH: the key that matched */
    QS_THROTTLE entry;			/* VD_MATCH: its numbers */
    char    sender_key[QS_KEY_BYTES];	/* the sender: key (cut), or "" */
    int     sender_flags;		/* ENVADDR_* of the conversion */
} VD_VERDICT;

extern void vd_decide(const QC_CONFIG *, const VD_MSG *, VD_SUMMARY,
		      VD_LOOKUP, void *ctx, VD_VERDICT *);

/*
 * The keys of a sender, exactly as vd_decide() makes them: the internal
 * form (envaddr.h), its sender key and its sender_domain key.  Short
 * addresses use the struct's own space; vd_keys_make() returns -1 when a
 * long one cannot get memory.  vd_keys_free() after 0.
 */
#define VD_KEYS_STACK	1024		/* input bytes kept on the stack */
typedef struct VD_KEYS {
    char    space[3][VD_KEYS_STACK + 32];
    char   *heap;
    char   *internal;
    size_t  internal_len;
    char   *sender;
    size_t  sender_len;
    char   *domain;
    size_t  domain_len;
    int     flags;			/* ENVADDR_* */
} VD_KEYS;

extern int vd_keys_make(const char *sender, size_t len, VD_KEYS *);
extern void vd_keys_free(VD_KEYS *);

/*
 * The fail condition after verdict v, given the one before: v's VD_FAIL_*
 * why; or, when v made no lookup (an exemption) and the condition was a
 * failed lookup, that condition still; else VD_NO_MATCH (none).
 */
extern VD_WHY vd_fail_next(VD_WHY before, const VD_VERDICT *v);

/* "exempt_sender", "fail_stale", ... for logs. */
extern const char *vd_why_name(VD_WHY);

#endif

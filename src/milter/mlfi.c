/*
 * mlfi - the libmilter callbacks of qshape-milter.
 *
 * Thin: fetch the connection's context, extract the facts, call
 * vd_decide(), map the verdict.  The context is allocated in connect,
 * reset per message and freed in close; close may be the only callback a
 * connection gets, so everything tolerates a NULL context.  No callback
 * blocks on I/O or exits: every internal error maps to the fail mode.
 *
 * Negotiation asks only for what is used: connect, MAIL FROM and end of
 * message, with the macros {auth_authen} and i.  A verdict of accept at
 * MAIL FROM ends the milter's part in the message (no further callbacks);
 * hold continues to end of message, where the queue file exists and
 * smfi_quarantine() moves it to the hold queue.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "log.h"
#include "snap.h"
#include "sumr.h"
#include "verdict.h"
#include "mlfi.h"

typedef struct CONN {
    SNAP   *snap;			/* configuration pinned at connect */
    int     family;
    unsigned char addr[16];
    char    client[INET6_ADDRSTRLEN];	/* "" when not IP */
    char    host[256];
    /* Per message. */
    int     hold;			/* quarantine at end of message */
    char    reason[512];		/* the log line's details */
} CONN;

static const char *const kind_name[QS_NKEYKINDS] = {
    "sender_domain", "parent_domain", "sender", "client_address",
    "sasl_username", "rcpt_domain",
};

static sfsistat
mlfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    CONN   *c = calloc(1, sizeof(*c));

    if (c == 0) {
	log_warnx("connect: out of memory: accepting");
	return SMFIS_ACCEPT;
    }
    c->snap = snap_get();
    /* Postfix passes "[addr]" when the client has no name. */
    snprintf(c->host, sizeof(c->host), "%s",
	     host && *host && *host != '[' ? host : "unknown");
    if (sa && sa->sa_family == AF_INET) {
	const struct sockaddr_in *in = (const void *) sa;

	c->family = AF_INET;
	memcpy(c->addr, &in->sin_addr, 4);
	inet_ntop(AF_INET, &in->sin_addr, c->client, sizeof(c->client));
    } else if (sa && sa->sa_family == AF_INET6) {
	const struct sockaddr_in6 *in6 = (const void *) sa;

	c->family = AF_INET6;
	memcpy(c->addr, &in6->sin6_addr, 16);
	inet_ntop(AF_INET6, &in6->sin6_addr, c->client, sizeof(c->client));
    }
    if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
	snap_put(c->snap);
	free(c);
	return SMFIS_ACCEPT;
    }
    return SMFIS_CONTINUE;
}

static void
describe(CONN *c, const QC_CONFIG *cf, const VD_VERDICT *v)
{
    if (v->why == VD_MATCH)
	snprintf(c->reason, sizeof(c->reason),
		 "action=%s%s policy=%s key=%s:%s count=%u total=%u "
		 "share=%.2f", qc_action_name(v->policy_action),
		 cf->dry_run ? " (dry_run)" : "", cf->policies[v->policy].name,
		 kind_name[v->kind], v->key, v->entry.count, v->entry.total,
		 v->entry.share_ppm / 1e6);
    else
	snprintf(c->reason, sizeof(c->reason), "action=%s reason=%s",
		 vd_action_name(v->action), vd_why_name(v->why));
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
    CONN   *c = smfi_getpriv(ctx);
    const QC_CONFIG *cf;
    const char *sender = argv && argv[0] ? argv[0] : "";
    const char *sasl = smfi_getsymval(ctx, "{auth_authen}");
    VD_MSG  m;
    VD_VERDICT v;
    QC_POLICY *p;

    if (c == 0 || c->snap == 0)
	return SMFIS_ACCEPT;
    cf = snap_conf(c->snap);
    c->hold = 0;
    memset(&m, 0, sizeof(m));
    m.local = sender[0] != '<';		/* sendmail(1): a bare address */
    m.sender = sender;
    m.sender_len = strlen(sender);
    vd_strip_brackets(&m.sender, &m.sender_len);
    m.client_family = c->family;
    memcpy(m.client_addr, c->addr, sizeof(m.client_addr));
    m.client_text = c->client;
    m.sasl_user = sasl;
    vd_decide(cf, &m, sumr_state(cf->summary_file, cf->stale_after,
				 (int64_t) time(0)), sumr_lookup, 0, &v);
    if (v.action == VD_ACCEPT && v.why != VD_MATCH
	&& !cf->milter.log_accepts)
	return SMFIS_ACCEPT;		/* fail modes log once, in sumr */
    describe(c, cf, &v);
    switch (v.action) {
    case VD_TEMPFAIL:
	log_info("client=%s[%s] sender=<%.*s>: %s", c->host, c->client,
		 (int) (m.sender_len < 400 ? m.sender_len : 400), m.sender,
		 c->reason);
	if (v.why == VD_MATCH) {
	    p = &cf->policies[v.policy];
	    if (smfi_setreply(ctx, p->reply_code, *p->reply_xcode ?
			      p->reply_xcode : 0, (char *) p->reply_text)
		!= MI_SUCCESS)
		log_warnx("setreply failed: Postfix gives its default reply");
	}
	return SMFIS_TEMPFAIL;
    case VD_HOLD:
	c->hold = 1;
	return SMFIS_CONTINUE;
    default:
	log_info("client=%s[%s] sender=<%.*s>: %s", c->host, c->client,
		 (int) (m.sender_len < 400 ? m.sender_len : 400), m.sender,
		 c->reason);
	return SMFIS_ACCEPT;
    }
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
    CONN   *c = smfi_getpriv(ctx);
    const char *id = smfi_getsymval(ctx, "i");

    if (c == 0 || !c->hold)
	return SMFIS_ACCEPT;
    c->hold = 0;
    if (smfi_quarantine(ctx, "qshape-milter") != MI_SUCCESS) {
	log_warnx("%s: quarantine failed: %s", id ? id : "NOQUEUE",
		  c->reason);
	return SMFIS_ACCEPT;
    }
    log_info("%s: %s", id ? id : "NOQUEUE", c->reason);
    return SMFIS_ACCEPT;
}

static sfsistat
mlfi_abort(SMFICTX *ctx)
{
    CONN   *c = smfi_getpriv(ctx);

    if (c)
	c->hold = 0;
    return SMFIS_CONTINUE;
}

static sfsistat
mlfi_close(SMFICTX *ctx)
{
    CONN   *c = smfi_getpriv(ctx);

    if (c == 0)
	return SMFIS_CONTINUE;
    smfi_setpriv(ctx, 0);
    snap_put(c->snap);
    free(c);
    return SMFIS_CONTINUE;
}

/* Ask only for the stages we use: OR our skips into what is offered. */
static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	       unsigned long f2, unsigned long f3, unsigned long *pf0,
	       unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    unsigned long skip = SMFIP_NOHELO | SMFIP_NORCPT | SMFIP_NOHDRS
    | SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA;

    (void) f2;
    (void) f3;
    *pf0 = f0 & SMFIF_QUARANTINE;
    *pf1 |= f1 & skip;
    *pf2 = 0;
    *pf3 = 0;
    smfi_setsymlist(ctx, SMFIM_ENVFROM, (char *) "{auth_authen}");
    smfi_setsymlist(ctx, SMFIM_EOM, (char *) "i");
    return SMFIS_CONTINUE;
}

struct smfiDesc mlfi_desc = {
    (char *) "qshape-milter",
    SMFI_VERSION,
    SMFIF_QUARANTINE,
    mlfi_connect,
    0,					/* helo */
    mlfi_envfrom,
    0,					/* envrcpt */
    0,					/* header */
    0,					/* eoh */
    0,					/* body */
    mlfi_eom,
    mlfi_abort,
    mlfi_close,
    0,					/* unknown */
    0,					/* data */
    mlfi_negotiate,
};

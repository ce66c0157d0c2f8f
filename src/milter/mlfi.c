/*
 * mlfi - the libmilter callbacks of qshape-milter.
 *
 * Thin: fetch the connection's context, extract the facts, call
 * vd_decide(), map the verdict.  The context is allocated in connect,
 * reset per message and freed in close; close may be the only callback a
 * connection gets, so everything tolerates a NULL context.  No callback
 * blocks on I/O or exits: every internal error maps to the fail mode.
 *
 * Which path a message took comes from the connect callback, not from
 * anything the client sends: for mail without client attributes
 * (sendmail(1), pickup) Postfix's cleanup pretends a client "localhost"
 * at 127.0.0.1 or ::1 with port "0" (cleanup_milter_client_init()), and
 * no TCP client can have source port 0.  So a connection whose address is
 * loopback with port 0 is local mail (local_action, never a tempfail);
 * everything else is SMTP, whatever MAIL FROM looks like.
 *
 * Counting: every session, every MAIL FROM verdict (by policy and action,
 * by fail reason, by exemption) and, per throttled key, when its mail last
 * came go to the counters file (counters.h) with atomic adds: the scanner
 * reads the latter as the pressure that keeps a flood throttled.  A hold
 * counts as held when decided at MAIL FROM.
 *
 * The quarantine reason names the policy and the key (qreason.h), for
 * Postfix's own milter-hold log line.  Our own lines are Postfix-style
 * (vline.h), formatted only on the paths that log: a tempfail, log,
 * dry_run or (with log_accepts) accept line at MAIL FROM; for a hold,
 * MAIL FROM keeps the escaped sender and the fields in the connection's
 * context and end of message logs the line with the queue ID.
 *
 * Negotiation asks for connect, HELO, MAIL FROM, RCPT, DATA, end of
 * headers and end of message, with the macros {auth_authen} and i; it
 * skips headers, body chunks and unknown commands.  HELO, RCPT, DATA and
 * end of headers are only answered CONTINUE, and that is their purpose:
 * Postfix sends an event's macros even when the milter skips the event
 * (milter8_event()), as a packet that gets no reply.  Over TCP the
 * milter's kernel then delays its ACK (up to 40 ms), and Postfix's next
 * packet waits for that ACK (Nagle): measured, 40-45 ms at end of data
 * for every held message over inet:127.0.0.1.  Answered, every packet
 * Postfix sends gets a reply that carries the ACK at once.  A message
 * accepted at MAIL FROM gets none of these events (lsock.h has the other
 * half: our own replies are not delayed either).  A verdict of accept at
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

#include "qshape/vocab.h"
#include "log.h"
#include "holdmark.h"
#include "qreason.h"
#include "shm.h"
#include "snap.h"
#include "sumr.h"
#include "verdict.h"
#include "vline.h"
#include "mlfi.h"

typedef struct CONN {
    SNAP   *snap;			/* configuration pinned at connect */
    int     family;
    unsigned char addr[16];
    char    client[INET6_ADDRSTRLEN];	/* "" when not IP */
    char    host[256];
    int     local;			/* Postfix's stand-in for sendmail(1) */
    /* Per message. */
    int     hold;			/* quarantine at end of message */
    char    fields[VL_FIELDS_MAX];	/* the log line's fields (vline.h) */
    char    sender[VL_SENDER_MAX + 1];	/* a hold's sender, as logged */
    char    qreason[QR_MAX + 1];	/* the quarantine reason */
    char    mark[HM_VALUE_MAX];		/* the hold mark (holdmark.h), "" */
} CONN;

static CT_W *counters;

void
mlfi_set_counters(CT_W *w)
{
    counters = w;
}

/* cleanup's stand-in client: loopback, port 0 (see above). */
static int
stand_in_client(const _SOCK_ADDR *sa)
{
    const struct sockaddr_in *in;
    const struct sockaddr_in6 *in6;

    if (sa && sa->sa_family == AF_INET) {
	in = (const void *) sa;
	return in->sin_port == 0
	    && (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa && sa->sa_family == AF_INET6) {
	in6 = (const void *) sa;
	return in6->sin6_port == 0 && IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return 0;
}

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
    c->local = stand_in_client(sa);
    ct_count(counters, CT_SESSIONS);
    if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
	snap_put(c->snap);
	free(c);
	return SMFIS_ACCEPT;
    }
    return SMFIS_CONTINUE;
}

/* The hold's quarantine reason and mark: formatted only for a hold. */
static void
hold_marks(CONN *c, const QC_CONFIG *cf, const VD_VERDICT *v)
{
    qr_format(c->qreason, sizeof(c->qreason), cf->policies[v->policy].name,
	      qs_kind_name(v->kind), v->key, strlen(v->key));
    if (hm_format(c->mark, sizeof(c->mark), cf->policies[v->policy].name,
		  v->kind, v->key, strlen(v->key), (int64_t) time(0)) < 0)
	c->mark[0] = 0;
}

/* Count one MAIL FROM verdict (counters.h). */
static void
count_verdict(const QC_CONFIG *cf, const VD_VERDICT *v, int began)
{
    static const int fail[] = {
	[VD_FAIL_MISSING] = QS_CT_FAIL_MISSING + 1,
	[VD_FAIL_STALE] = QS_CT_FAIL_STALE + 1,
	[VD_FAIL_FOREIGN] = QS_CT_FAIL_FOREIGN + 1,
	[VD_FAIL_LOOKUP] = QS_CT_FAIL_LOOKUP + 1,
	[VD_FAIL_UNTRUSTED] = QS_CT_FAIL_UNTRUSTED + 1,
	[VD_FAIL_POLICY] = QS_CT_FAIL_POLICY + 1,
    };
    static const int exempt[] = {
	[VD_EXEMPT_SENDER] = QS_CT_EXEMPT_SENDER + 1,
	[VD_EXEMPT_DOMAIN] = QS_CT_EXEMPT_DOMAIN + 1,
	[VD_EXEMPT_NETWORK] = QS_CT_EXEMPT_NETWORK + 1,
	[VD_EXEMPT_SASL] = QS_CT_EXEMPT_SASL + 1,
	[VD_EXEMPT_NULL_SENDER] = QS_CT_EXEMPT_NULL_SENDER + 1,
    };
    size_t  w = (size_t) v->why;
    CT_MATCH m;

    ct_count(counters, CT_MESSAGES);
    if (v->why == VD_NO_MATCH) {
	ct_count(counters, CT_NO_MATCH);
    } else if (v->why == VD_MATCH) {
	m.digest = cf->policies[v->policy].digest;
	m.policy = cf->policies[v->policy].name;
	m.kind = v->kind;
	m.key_hash = v->entry.hash;
	m.asked = v->policy_action;
	m.done = v->action;
	m.dry_run = cf->dry_run;
	ct_count_match(counters, &m, shm_mono_ns());
    } else if (w < sizeof(exempt) / sizeof(exempt[0]) && exempt[w]) {
	ct_count_exempt(counters, exempt[w] - 1);
    } else if (w < sizeof(fail) / sizeof(fail[0]) && fail[w]) {
	ct_count_fail(counters, fail[w] - 1, 0);
	if (began)
	    ct_count_fail(counters, fail[w] - 1, 1);
    }
}

/* The line of a verdict logged at MAIL FROM (vline.h). */
static void
log_verdict(const CONN *c, const QC_CONFIG *cf, const VD_MSG *m,
	    const VD_VERDICT *v)
{
    char    sender[VL_SENDER_MAX + 1];
    char    text[VL_TEXT_MAX];
    char    line[VL_LINE_MAX];
    VL_LINE l = {0};

    vl_sender(sender, m->sender, m->sender_len);
    l.whatsup = vl_mail(text, sizeof(text), cf, v);
    l.where = VL_WHERE_MAIL;
    l.host = c->host;
    l.addr = c->client;
    l.text = text;
    l.sender = sender;
    l.fields = c->fields;
    vl_format(line, sizeof(line), &l);
    log_info("%s", line);
}

/* The line of a hold at end of message: what MAIL FROM kept in c. */
static void
log_hold(const CONN *c, const char *id, int held)
{
    char    line[VL_LINE_MAX];
    VL_LINE l = {0};

    l.queue_id = id;
    l.whatsup = held ? "hold" : "hold_failed";
    l.where = VL_WHERE_EOM;
    l.host = c->host;
    l.addr = c->client;
    l.text = held ? VL_HELD : VL_HOLD_FAILED;
    l.sender = c->sender;
    l.fields = c->fields;
    vl_format(line, sizeof(line), &l);
    if (held)
	log_info("%s", line);
    else
	log_warnx("%s", line);
}

/* Set the policy's reply, only together with the TEMPFAIL it belongs to. */
static sfsistat
tempfail(SMFICTX *ctx, const QC_CONFIG *cf, const VD_VERDICT *v)
{
    QC_POLICY *p;

    if (v->why == VD_MATCH) {
	p = &cf->policies[v->policy];
	if (smfi_setreply(ctx, p->reply_code, *p->reply_xcode ?
			  p->reply_xcode : 0, (char *) p->reply_text)
	    != MI_SUCCESS)
	    log_warnx("setreply failed: Postfix gives its default reply");
    }
    return SMFIS_TEMPFAIL;
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
    CONN   *c = smfi_getpriv(ctx);
    const QC_CONFIG *cf;
    const char *sender = argv && argv[0] ? argv[0] : "";
    VD_MSG  m;
    VD_VERDICT v;
    int     began;

    if (c == 0 || c->snap == 0)
	return SMFIS_ACCEPT;
    cf = snap_conf(c->snap);
    c->hold = 0;
    c->qreason[0] = 0;
    c->mark[0] = 0;
    memset(&m, 0, sizeof(m));
    m.local = c->local;
    m.sender = sender;
    m.sender_len = strlen(sender);
    m.client_family = c->family;
    memcpy(m.client_addr, c->addr, sizeof(m.client_addr));
    m.client_text = c->client;
    m.sasl_user = smfi_getsymval(ctx, "{auth_authen}");
    began = sumr_decide(cf, &m, &v);
    count_verdict(cf, &v, began);
    if (v.action == QS_ACTION_ACCEPT && v.why != VD_MATCH
	&& !cf->milter.log_accepts)
	return SMFIS_ACCEPT;		/* fail modes log once, in sumr */
    vl_fields(c->fields, sizeof(c->fields), cf, &v, c->local,
	      (int64_t) time(0));
    switch (v.action) {
    case QS_ACTION_TEMPFAIL:
	log_verdict(c, cf, &m, &v);
	return tempfail(ctx, cf, &v);
    case QS_ACTION_HOLD:			/* logged at end of message */
	c->hold = 1;
	vl_sender(c->sender, m.sender, m.sender_len);
	hold_marks(c, cf, &v);
	return SMFIS_CONTINUE;
    default:
	log_verdict(c, cf, &m, &v);
	return SMFIS_ACCEPT;
    }
}

/* HELO, RCPT, DATA, end of headers: answered, see above. */
static sfsistat
mlfi_helo(SMFICTX *ctx, char *name)
{
    (void) ctx;
    (void) name;
    return SMFIS_CONTINUE;
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
    (void) ctx;
    (void) argv;
    return SMFIS_CONTINUE;
}

static sfsistat
mlfi_data(SMFICTX *ctx)
{
    (void) ctx;
    return SMFIS_CONTINUE;
}

static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
    (void) ctx;
    return SMFIS_CONTINUE;
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
    CONN   *c = smfi_getpriv(ctx);
    const char *id = smfi_getsymval(ctx, "i");

    if (c == 0 || !c->hold)
	return SMFIS_ACCEPT;
    c->hold = 0;
    /* The mark goes after the content, where no client can write it: the
     * one qshapectl held believes (holdmark.h). */
    if (*c->mark && smfi_addheader(ctx, (char *) HM_HEADER, c->mark)
	!= MI_SUCCESS)
	log_warnx("%s: adding the hold mark failed: qshapectl held will "
		  "count the message as held by others", id ? id : "NOQUEUE");
    if (smfi_quarantine(ctx, *c->qreason ? c->qreason : (char *)
			"qshape-milter") != MI_SUCCESS) {
	ct_count(counters, CT_QUARANTINE_FAILED);
	log_hold(c, id, 0);
	return SMFIS_ACCEPT;
    }
    log_hold(c, id, 1);
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
    unsigned long skip = SMFIP_NOHDRS | SMFIP_NOBODY | SMFIP_NOUNKNOWN;

    (void) f2;
    (void) f3;
    *pf0 = f0 & (SMFIF_QUARANTINE | SMFIF_ADDHDRS);
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
    SMFIF_QUARANTINE | SMFIF_ADDHDRS,
    mlfi_connect,
    mlfi_helo,
    mlfi_envfrom,
    mlfi_envrcpt,
    0,					/* header */
    mlfi_eoh,
    0,					/* body */
    mlfi_eom,
    mlfi_abort,
    mlfi_close,
    0,					/* unknown */
    mlfi_data,
    mlfi_negotiate,
};

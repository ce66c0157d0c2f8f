/*
 * ctl_explain - "qshapectl explain ADDRESS [--client IP] [--sasl USER]
 * [--local]": the verdict qshape-milter would give a message now, and why,
 * with the numbers.
 *
 * It runs the milter's own decision function (verdict.c) on a copy of the
 * live summary, so what it prints is what the milter does.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "qshape/vocab.h"
#include "addr.h"
#include "daemon.h"
#include "log.h"
#include "regdom.h"
#include "shm.h"
#include "verdict.h"
#include "sumview.h"
#include "ctl.h"
#include "ctl_summary.h"

/* VD_LOOKUP over the copied body: the throttle set is small. */
static int
body_lookup(void *ctx, int kind, const char *key, size_t len,
	    uint64_t digest, QS_THROTTLE *out)
{
    const CTL_SUMMARY *s = ctx;
    const QS_THROTTLE *t = shm_body_throttle(s->body);
    uint64_t h = key ? qs_key_hash(kind, key, len) : 0;
    uint32_t i;

    for (i = 0; key == 0 && i < s->head->nthrottle; i++)
	if (t[i].kind == kind && t[i].policy_digest == digest)
	    return 1;
    for (i = 0; key && i < s->head->nthrottle; i++) {
	if (shm_throttle_matches(&t[i], kind, h, key, len, digest)) {
	    *out = t[i];
	    return 1;
	}
    }
    return 0;
}

static int
usage(FILE *fp)
{
    fprintf(fp, "usage: qshapectl explain [-f config_file] [--client IP] "
	    "[--sasl USER] [--local] ADDRESS\n"
	    "Prints the verdict qshape-milter would give a message from "
	    "ADDRESS now.\n"
	    "--local: submitted with sendmail(1) (non_smtpd_milters).\n");
    return fp == stdout ? 0 : 2;
}

static void
print_keys(const VD_MSG *m)
{
    char    dom[ADDR_DOMAIN_BUFSIZE(QS_KEY_BYTES * 4)];
    VD_KEYS k;
    uint16_t off[RD_PARENTS_MAX];
    size_t  n, i, np;

    if (vd_keys_make(m->sender, m->sender_len, &k) < 0)
	return;
    /* Keys come from the sender: escaped, as the logs write them. */
    n = k.sender_len < QS_KEY_BYTES * 4 ? k.sender_len : QS_KEY_BYTES * 4;
    log_printable(dom, k.sender, n);
    printf("keys: sender=%.*s", (int) n, dom);
    n = k.domain_len < QS_KEY_BYTES * 4 ? k.domain_len : QS_KEY_BYTES * 4;
    memcpy(dom, k.domain, n);
    dom[n] = 0;
    vd_keys_free(&k);
    np = rd_parents(dom, n, off);	/* as the milter's */
    log_printable(dom, dom, n);
    printf(" sender_domain=%s", dom);
    for (i = 0; i < np; i++)
	printf(" parent_domain=%s", dom + off[i]);
    printf(" client_address=%s sasl_username=%s\n",
	   m->client_text ? m->client_text : "-",
	   m->sasl_user ? m->sasl_user : "-");
}

static void
print_verdict(const CTL_SUMMARY *s, const VD_VERDICT *v)
{
    const QC_POLICY *p;
    char    key[QS_KEY_BYTES];
    char    kept[SV_KEPT_BYTES];
    size_t  n = strnlen(v->key, sizeof(v->key) - 1);

    log_printable(key, v->key, n);
    key[n] = 0;
    printf("verdict: %s (%s)\n", qs_action_name(v->action),
	   vd_why_name(v->why));
    if (v->why != VD_MATCH)
	return;
    p = &s->cf->policies[v->policy];
    printf("policy: %s, action %s%s\n", p->name,
	   qc_action_name(v->policy_action),
	   v->suppressed ? " (logged only: dry_run, log or local mail)" : "");
    printf("throttled: %s:%s count=%u total=%u share=%.2f, since %llds "
	   "(entered at %u of %u)%s\n", qs_kind_name(v->kind), key,
	   v->entry.count, v->entry.total, v->entry.share_ppm / 1e6,
	   (long long) (s->now - v->entry.since), v->entry.enter_count,
	   v->entry.enter_total,
	   sv_kept(kept, sizeof(kept), &v->entry, s->now));
    if (v->action == QS_ACTION_TEMPFAIL)
	printf("reply: %s\n", p->reply);
}

int
ctl_explain(int argc, char **argv)
{
    static const struct option longopts[] = {
	{"client", required_argument, 0, 'I'},
	{"sasl", required_argument, 0, 'S'},
	{"local", no_argument, 0, 'L'},
	{"config", required_argument, 0, 'C'},
	{"help", no_argument, 0, 'h'},
	{0, 0, 0, 0}
    };
    const char *config = 0;
    CTL_SUMMARY s;
    VD_SUMMARY state;
    VD_VERDICT v;
    VD_MSG  m;
    int     c, rc;

    memset(&m, 0, sizeof(m));
    optind = 1;
    while ((c = getopt_long(argc, argv, "C:f:h", longopts, 0)) != -1) {
	switch (c) {
	case 'f':
	    dm_deprecated("qshapectl explain", "-f", "-C or --config");
	    /* FALLTHROUGH */
	case 'C':
	    config = optarg;
	    break;
	case 'I':
	    m.client_text = optarg;
	    if (inet_pton(AF_INET, optarg, m.client_addr) == 1)
		m.client_family = AF_INET;
	    else if (inet_pton(AF_INET6, optarg, m.client_addr) == 1)
		m.client_family = AF_INET6;
	    else {
		fprintf(stderr, "explain: not an IP address: %s\n", optarg);
		return 2;
	    }
	    break;
	case 'S':
	    m.sasl_user = optarg;
	    break;
	case 'L':
	    m.local = 1;
	    break;
	case 'h':
	    return usage(stdout);
	default:
	    return usage(stderr);
	}
    }
    if (optind != argc - 1)
	return usage(stderr);
    m.sender = argv[optind];
    m.sender_len = strlen(m.sender);
    if ((rc = ctl_summary_load(config, &s)) == -1) {
	ctl_summary_free(&s);
	return 1;
    }
    state = rc == -2 ? VD_SUMMARY_MISSING : ctl_summary_stale(&s) ?
	VD_SUMMARY_STALE : VD_SUMMARY_OK;
    vd_decide(s.cf, &m, state, body_lookup, &s, &v);
    printf("message: from %.*s%s, client %s, sasl %s\n",
	   (int) m.sender_len, m.sender, m.local ? " by sendmail(1)" : "",
	   m.client_text ? m.client_text : "-",
	   m.sasl_user ? m.sasl_user : "-");
    print_keys(&m);
    if (state == VD_SUMMARY_OK || state == VD_SUMMARY_STALE)
	printf("summary: %s, heartbeat %llds ago, %u keys throttled\n",
	       state == VD_SUMMARY_OK ? "fresh" : "STALE",
	       (long long) (s.now - s.heartbeat), s.head->nthrottle);
    else
	printf("summary: missing\n");
    print_verdict(&s, &v);
    ctl_summary_free(&s);
    return 0;
}

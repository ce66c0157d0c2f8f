/*
 * vline - qshape-milter's log line for a verdict.  See vline.h.
 */
#include <stdio.h>
#include <string.h>

#include "qshape/vocab.h"
#include "log.h"
#include "sumview.h"
#include "vline.h"

/* What Postfix answers for a milter's TEMPFAIL without a reply of its
 * own (milter8.c): the fail mode's tempfail sets none. */
#define VL_POSTFIX_TEMPFAIL "451 4.7.1 Service unavailable - try again later"

size_t
vl_sender(char *dst, const char *sender, size_t len)
{
    if (len >= 2 && sender[0] == '<' && sender[len - 1] == '>') {
	sender++;
	len -= 2;
    }
    if (len > VL_SENDER_MAX)
	len = VL_SENDER_MAX;
    log_printable_field(dst, sender, len);
    dst[len] = 0;
    return len;
}

/* Text (NUL-terminated, or NULL for "") escaped as one field into dst of
 * size bytes: its first size - 1 bytes at most, NUL-terminated. */
static void
field(char *dst, size_t size, const char *src)
{
    size_t  n = src ? strnlen(src, size - 1) : 0;

    log_printable_field(dst, src ? src : "", n);
    dst[n] = 0;
}

void
vl_fields(char *buf, size_t len, const QC_CONFIG *cf, const VD_VERDICT *v,
	  int local, int64_t now)
{
    char    kept[SV_KEPT_BYTES];
    char    key[QS_KEY_BYTES];

    if (v->why == VD_MATCH) {
	sv_kept(kept, sizeof(kept), &v->entry, now);
	field(key, sizeof(key), v->key);
	snprintf(buf, len, "policy=%s key=%s:%s count=%u total=%u "
		 "share=%.2f%s%s", cf->policies[v->policy].name,
		 qs_kind_name(v->kind), key, v->entry.count, v->entry.total,
		 v->entry.share_ppm / 1e6, kept, local ? " local=1" : "");
    } else {
	field(key, sizeof(key), v->sender_key);
	snprintf(buf, len, "reason=%s sender_key=%s%s", vd_why_name(v->why),
		 key, local ? " local=1" : "");
    }
}

const char *
vl_mail(char *text, size_t len, const QC_CONFIG *cf, const VD_VERDICT *v)
{
    const QC_POLICY *p;

    if (v->why != VD_MATCH) {
	if (v->action == QS_ACTION_TEMPFAIL) {
	    snprintf(text, len, "%s", VL_POSTFIX_TEMPFAIL);
	    return "tempfail";
	}
	snprintf(text, len, "accepted");
	return "accept";
    }
    p = &cf->policies[v->policy];
    if (v->action == QS_ACTION_TEMPFAIL) {
	snprintf(text, len, "%s", p->reply);
	return "tempfail";
    }
    if (cf->dry_run) {
	if (v->policy_action == QS_ACTION_TEMPFAIL)
	    snprintf(text, len, "accepted, would tempfail with %s",
		     p->reply);
	else
	    snprintf(text, len, "accepted, would %s",
		     qs_action_name(v->policy_action));
	return "dry_run";
    }
    snprintf(text, len, "accepted, action %s",
	     qs_action_name(v->policy_action));
    return v->policy_action == QS_ACTION_LOG ? "log" : "accept";
}

void
vl_format(char *buf, size_t len, const VL_LINE *l)
{
    char    qid[64];
    char    host[256];
    char    addr[64];

    field(qid, sizeof(qid), l->queue_id);
    field(host, sizeof(host), l->host);
    field(addr, sizeof(addr), l->addr);
    snprintf(buf, len, "%s: %s: %s from %s[%s]: %s; from=<%s> %s",
	     *qid ? qid : "NOQUEUE",
	     l->whatsup, l->where, *host ? host : "unknown",
	     *addr ? addr : "unknown", l->text, l->sender, l->fields);
}

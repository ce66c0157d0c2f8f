/*
 * vline - qshape-milter's log line for a verdict, in Postfix's style.
 *
 * Postfix logs a refused or held message as
 *   QUEUEID: WHATSUP: WHERE from HOST[ADDR]: TEXT; from=<SENDER> ...
 * (smtpd_check.c log_whatsup(), cleanup_milter.c): the queue ID or
 * NOQUEUE, what was done, the SMTP stage, the client, the reply or what
 * happened, and after the ';' the envelope.  Ours has the same shape, our
 * own key=value fields after from=<...>:
 *   NOQUEUE: tempfail: MAIL from HOST[ADDR]: 451 4.7.1 TEXT; from=<S>
 *	policy=P key=KIND:KEY count=N total=N share=F[ kept=..][ local=1]
 *   QUEUEID: hold: END-OF-MESSAGE from HOST[ADDR]: held in the hold
 *	queue; from=<S> policy=... (at end of message, the queue ID known)
 *   NOQUEUE: dry_run|log|accept: MAIL from ...: TEXT; from=<S> policy=...
 *   NOQUEUE: accept|tempfail: MAIL from ...: TEXT; from=<S> reason=WHY
 *	sender_key=KEY[ local=1] (no policy matched: no_match, an
 *	exemption, or the fail mode)
 *
 * Text from outside (the sender, the client name and address, the keys,
 * the queue ID)
 * is escaped with log_printable_field(): no byte of it can end the line,
 * the "TEXT;" part or a field, so the fields after the ';' are ours.  The
 * sender is logged without its "<>" and cut at VL_SENDER_MAX bytes.
 *
 * Pure: no I/O, no clock (now is given); the caller owns every buffer.
 */
#ifndef QSHAPE_VLINE_H
#define QSHAPE_VLINE_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "verdict.h"

#define VL_SENDER_MAX	400		/* sender bytes logged */
#define VL_FIELDS_MAX	768		/* vl_fields() never needs more */
#define VL_TEXT_MAX	560		/* vl_mail() never needs more */
#define VL_LINE_MAX	2048		/* what the logger keeps of a line */

/* Postfix's names of the SMTP stages we log at. */
#define VL_WHERE_MAIL	"MAIL"
#define VL_WHERE_EOM	"END-OF-MESSAGE"

/*
 * The sender as logged: MAIL FROM's argument (len bytes) without one
 * pair of enclosing "<>", cut at VL_SENDER_MAX bytes and escaped into
 * dst (at least VL_SENDER_MAX + 1 bytes, NUL-terminated).  Returns its
 * length.
 */
extern size_t vl_sender(char *dst, const char *sender, size_t len);

/*
 * The fields after from=<...> for verdict v of a message (local: from
 * sendmail(1)), in buf (len >= 1, NUL-terminated, cut if short).  now:
 * wall-clock seconds, for what is left of min_hold_time.
 */
extern void vl_fields(char *buf, size_t len, const QC_CONFIG *,
		      const VD_VERDICT *v, int local, int64_t now);

/*
 * What a verdict logged at MAIL FROM says: the word (a constant string)
 * and the text in text[len] (the reply for a tempfail).  A hold is logged
 * at end of message with "hold" and VL_HELD instead.
 */
extern const char *vl_mail(char *text, size_t len, const QC_CONFIG *,
			   const VD_VERDICT *v);

#define VL_HELD		"held in the hold queue"
#define VL_HOLD_FAILED	"quarantine failed, accepted instead"

/* One line: "QUEUEID: WHATSUP: WHERE from HOST[ADDR]: TEXT; from=<SENDER>
 * FIELDS" in buf (len >= 1, NUL-terminated, cut if short).  queue_id NULL
 * or "": NOQUEUE; host, addr NULL or "": unknown.  sender: from
 * vl_sender(), fields: from vl_fields(), both used as they are. */
typedef struct VL_LINE {
    const char *queue_id;
    const char *whatsup;
    const char *where;
    const char *host;
    const char *addr;
    const char *text;
    const char *sender;
    const char *fields;
} VL_LINE;

extern void vl_format(char *buf, size_t len, const VL_LINE *);

#endif

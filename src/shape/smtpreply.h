/*
 * smtpreply - is a string a reply Postfix will pass to the SMTP client
 * when a milter sets it (smfi_setreply)?  A pure check: the configuration
 * runs it on every policy's reply at load time (conf.c), so the milter
 * never sends one that Postfix would turn into "451 4.3.5".
 *
 * The prefix stays qc_ (it was part of conf) so that callers need not
 * change.  Nothing is allocated; the reason goes to the caller's buffer.
 */
#ifndef QSHAPE_SMTPREPLY_H
#define QSHAPE_SMTPREPLY_H

#include <stddef.h>

#define QC_REPLY_MAX	500		/* reply text, bytes */

/*
 * An SMTP reply "CODE[ X.Y.Z][ text]": CODE is [45][0-5][0-9] and, when
 * want_class is 4 or 5, starts with that digit (0: either); X.Y.Z, if
 * present, has X equal to CODE's first digit; printable ASCII only, no
 * '%', at most QC_REPLY_MAX bytes.  0, or -1 with a reason.
 */
extern int qc_reply_valid(const char *reply, int want_class, char *err,
			  size_t errlen);

#endif

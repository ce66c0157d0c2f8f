/*
 * mxct - the milter's counters file (counters.h) as the milter's metric
 * families (metrics.h): the one translation from QS_CT_* to MX_MILTER,
 * shared by "qshapectl metrics" and the scanner's textfile.
 *
 * mxct_translate() is pure: the header and the policy table of a checked
 * copy in, an MX_MILTER out whose arrays live in the caller's MXCT
 * (nothing allocated, nothing kept).  mxct_write() is the edge: it copies
 * the file with ct_read() (untrusted, one bounded read, every check of
 * counters.h) and writes the families, or, when the file cannot be used,
 * only "qshape_milter_counters_up 0" and the reason in err for the caller
 * to say (once: the scanner logs when it starts and when it ends).
 *
 * What lands where:
 *   qshape_milter_counters_up 1           the file was read
 *   qshape_milter_start_time_seconds      header created: the milter
 *                                         reuses its file across restarts
 *                                         (same boot, same layout), so
 *                                         counts start from zero only
 *                                         when the file is made
 *   qshape_milter_sessions_total          header sessions
 *   qshape_milter_verdicts_total{policy,action}
 *                                         policy verdict[] (a minor-0 file:
 *                                         done[], so "log" counts as
 *                                         accept), summed over the slots of
 *                                         one name (a policy whose settings
 *                                         changed has a new digest, so a
 *                                         new slot), four actions each
 *   qshape_milter_failmode_total{reason}  header fail_begins[]
 *   qshape_milter_exemptions_total{kind}  header exempt[]
 * Names of reasons and kinds: mxct_fail_name(), mxct_exempt_name().
 */
#ifndef QSHAPE_MXCT_H
#define QSHAPE_MXCT_H

#include <stddef.h>
#include <stdio.h>

#include "qshape/counters.h"
#include "counters.h"
#include "metrics.h"

typedef struct MXCT {
    MX_MILTER m;
    MX_VERDICT verdict[QS_CT_NPOLICIES * QS_NACTIONS];
    char    name[QS_CT_NPOLICIES][QS_NAME_BYTES + 1];
    MX_COUNT failmode[QS_CT_NFAIL];
    MX_COUNT exempt[QS_CT_NEXEMPT];
} MXCT;

extern const char *mxct_fail_name(int qs_ct_fail);
extern const char *mxct_exempt_name(int qs_ct_exempt);

/* Fill x->m from a header and its QS_CT_NPOLICIES policies. */
extern void mxct_translate(MXCT *x, const QS_CT_HEADER *h,
			   const QS_CT_POLICY *p);

/*
 * Read the counters file at path into r and write the milter's families
 * to fp.  Returns 0; 1 when the file could not be used (only the up
 * gauge, at 0, is written; err says why); -1 when fp failed.
 */
extern int mxct_write(FILE *fp, CT_R *r, const char *path, char *err,
		      size_t errlen);

#endif

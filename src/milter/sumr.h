/*
 * sumr - the milter's view of the summary: whether it is usable, lookups
 * in its throttle set, and the fail-mode log.
 *
 * Lock-free: every worker thread has its own reader (SHM_R, in a
 * pthread key whose destructor closes it), so parallel sessions never
 * wait for each other.  This is a per-thread cache of a mapping, not
 * connection state: any thread can decide for any connection.  A reader
 * opens the summary when needed (at most once a second while it cannot),
 * judges the writer's heartbeat by the monotonic clock
 * (shm_reader_age_ms()), and checks that the scanner published for the
 * policies this milter has (QC_CONFIG.policies_digest).
 *
 * sumr_decide() decides one message as the MAIL FROM callback must:
 * state, vd_decide(), and then the fail condition of the process
 * (vd_fail_next()) is advanced with a compare-and-swap; the one thread
 * that moves it logs the change, once when a fail mode begins and once
 * when it ends.
 */
#ifndef QSHAPE_SUMR_H
#define QSHAPE_SUMR_H

#include "verdict.h"

/* Returns 1 when this call began a fail mode (and logged it), else 0. */
extern int sumr_decide(const QC_CONFIG *, const VD_MSG *, VD_VERDICT *);

/* The fail condition now in force (VD_NO_MATCH: none), for tests. */
extern VD_WHY sumr_fail_condition(void);

/* Close the calling thread's reader (the others close at thread exit). */
extern void sumr_shutdown(void);

#endif

/*
 * ctl_summary - what the summary commands share: open the summary named
 * in the configuration, take a consistent copy, say what is wrong in the
 * operator's words.
 */
#ifndef QSHAPE_CTL_SUMMARY_H
#define QSHAPE_CTL_SUMMARY_H

#include <stdint.h>

#include "qshape/summary.h"
#include "conf.h"

typedef struct CTL_SUMMARY {
    QC_CONFIG *cf;			/* the configuration */
    void   *body;			/* a copy of the current body */
    const QS_BODY *head;		/* the same, as its header */
    int64_t heartbeat;			/* writer's last sign of life, s */
    int64_t age_ms;			/* since then, monotonic; -1: stale */
    int32_t writer_pid;
    int64_t stale_after;		/* from the configuration, s */
    int64_t now;			/* when the copy was taken, s */
} CTL_SUMMARY;

/*
 * Load the configuration (path NULL: the default file) and copy the
 * summary it names.  Returns 0; -1 when the configuration is bad; -2 when
 * the summary is missing or unreadable (s->cf is then loaded, body NULL).
 * Prints why.
 */
extern int ctl_summary_load(const char *config_path, CTL_SUMMARY *);
extern void ctl_summary_free(CTL_SUMMARY *);

/* Is the writer's heartbeat older than stale_after? */
extern int ctl_summary_stale(const CTL_SUMMARY *);

#endif

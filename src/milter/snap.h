/*
 * snap - configuration snapshots for the milter's worker threads.
 *
 * A connection pins the snapshot current when it opened (snap_get()) and
 * keeps it until it closes (snap_put()); a reload builds the next
 * configuration off the request path and swaps it in with snap_set().  A
 * snapshot is freed when the last connection that pinned it closes.
 */
#ifndef QSHAPE_SNAP_H
#define QSHAPE_SNAP_H

#include "conf.h"

typedef struct SNAP SNAP;

/* Install cf as the current configuration (the snapshot owns it). */
extern void snap_set(QC_CONFIG *cf);

/* Pin the current snapshot; NULL only before the first snap_set(). */
extern SNAP *snap_get(void);
extern void snap_put(SNAP *);	/* NULL is fine */

extern const QC_CONFIG *snap_conf(const SNAP *);

/* Release the current snapshot at exit. */
extern void snap_shutdown(void);

#endif

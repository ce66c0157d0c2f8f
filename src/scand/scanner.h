/*
 * scanner - the state of qshape-scand: the live index of the queue, the
 * inotify watches that keep it current, the throttle state, and the
 * shared-memory summary it publishes.
 *
 * The daemon's main loop polls sc_fd() and calls sc_events() when it is
 * readable, sc_reconcile() every reconcile interval (and when sc_events()
 * asks for it), and sc_publish() when sc_publish_due() says so.
 *
 * Errors: sc_create() returns NULL and a reason.  Other calls log what
 * goes wrong and carry on: the queue is the state, and the next reconcile
 * repairs any drift.
 */
#ifndef QSHAPE_SCANNER_H
#define QSHAPE_SCANNER_H

#include <stddef.h>
#include <stdint.h>

#include "index.h"
#include "throttle.h"

typedef struct SC_POLICY {
    TH_POLICY th;			/* thresholds, for the state machine */
    uint64_t digest;			/* QC_POLICY digest: its identity */
    IX_WINDOW window;			/* what it counts */
} SC_POLICY;

typedef struct SC_CONF {
    int     base_fd;			/* the queue directory */
    const char *const *queues;		/* names relative to base_fd */
    int     nqueues;
    IX_GEOM geom;			/* buckets of the published counts */
    uint32_t top_keys;			/* rows published per key kind */
    uint32_t max_throttled;		/* capacity of the throttle set */
    const SC_POLICY *policy;
    size_t  npolicy;
    uint64_t policies_digest;		/* QC_CONFIG policies_digest */
    const char *summary_file;		/* path of the summary */
    long    gid;			/* group of the segment, -1: ours */
    int64_t publish_interval_ms;	/* coalescing of changes */
    int64_t heartbeat_interval_ms;	/* republish at least this often */
} SC_CONF;

typedef struct SC_STATS {
    uint64_t parsed;			/* files parsed since start */
    uint64_t moved;			/* renames followed without parsing */
    uint64_t removed;
    uint64_t vanished;			/* moved on before we read them */
    uint64_t skipped;			/* corrupt or unreadable */
    uint64_t reconciles;
    uint64_t queues_listed;		/* by reconciles (unchanged: skipped) */
    uint64_t publications;
} SC_STATS;

typedef struct SCANNER SCANNER;

extern SCANNER *sc_create(const SC_CONF *, char *err, size_t errlen);
extern void sc_destroy(SCANNER *);

/*
 * Carry the throttle state of a scanner being replaced (a reload) over to
 * its successor, for the policies that keep their name and key: a reload
 * must not release a key before its min_hold_time.  Call before the new
 * scanner's first sc_publish().
 */
extern void sc_inherit(SCANNER *to, const SCANNER *from);

/* The inotify descriptor to poll. */
extern int sc_fd(const SCANNER *);

/* Apply pending inotify events.  Returns 1 when a reconcile is needed. */
extern int sc_events(SCANNER *);

/* Rescan the queue: parse files the index does not know, drop the ones
 * that are gone.  'now' (seconds) is recorded as the last reconcile. */
extern void sc_reconcile(SCANNER *, int64_t now);

/* Milliseconds until a publication is due (0: now). */
extern int64_t sc_publish_due(const SCANNER *, int64_t now_ms);

/* Run the state machine and publish the summary. */
extern void sc_publish(SCANNER *, int64_t now_ms);

extern void sc_stats(const SCANNER *, SC_STATS *);
extern const IX *sc_index(const SCANNER *);

#endif

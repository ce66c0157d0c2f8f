/*
 * scanner - the state of qshape-scand: the live index of the queue, the
 * inotify watches that keep it current, the throttle state, and the
 * shared-memory summary it publishes.
 *
 * The daemon's main loop polls sc_fd() and calls sc_events() when it is
 * readable, sc_reconcile() every reconcile interval (and when sc_events()
 * asks for it), and sc_publish() when sc_publish_due() says so.
 *
 * Clocks.  Every call that needs the time takes an SC_TIME, one moment
 * read on both clocks (sc_now(); tests pass their own).  The monotonic
 * clock drives every schedule: publication coalescing, the heartbeat, and
 * the throttle state (since, hold_until, min_hold_time, pressure), all in
 * milliseconds; a step of the wall clock changes none of them.  A
 * publication is also due at the moment a hold time or a pressure time of
 * a throttled key runs out (th_next_deadline()), so a key is released
 * exactly then, not at the next heartbeat.
 *
 * Pressure.  Before each step of the state machine, when keys are
 * throttled, the scanner copies the milter's counters file (counters.h:
 * untrusted, bounded, never mapped) and passes, per throttled key, when
 * the milter last matched its mail.  A file it cannot use is logged once
 * (and once when it can again) and gives no pressure.  Wall time is only for what people
 * read and for message ages (a queue file records its arrival in wall
 * time, as qshape reads it): the published since and hold_until are the
 * monotonic deadlines shown as wall time at the moment of publication.
 *
 * The work is split along its seams: sc_events.c (inotify events to the
 * index), sc_reconcile.c (rescans), sc_body.c (the summary body, a pure
 * function of the index, the throttle state and the time), scanner.c
 * (the handle, the state machine and publication).
 *
 * Errors: sc_create() returns NULL and a reason.  Other calls log what
 * goes wrong and carry on: the queue is the state, and the next reconcile
 * repairs any drift.
 */
#ifndef QSHAPE_SCANNER_H
#define QSHAPE_SCANNER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qshape/summary.h"
#include "index.h"
#include "throttle.h"

typedef struct SC_POLICY {
    TH_POLICY th;			/* thresholds, for the state machine;
					 * min_hold_time and pressure_time in
					 * milliseconds */
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
    const char *counters_file;		/* the milter's counters, or NULL */
    long    gid;			/* group of the segment, -1: ours */
    int64_t publish_interval_ms;	/* coalescing of changes */
    int64_t heartbeat_interval_ms;	/* republish at least this often */
} SC_CONF;

/* One moment on both clocks. */
typedef struct SC_TIME {
    int64_t wall_ms;			/* CLOCK_REALTIME, ms since epoch */
    int64_t mono_ms;			/* CLOCK_MONOTONIC, ms */
} SC_TIME;

typedef struct SC_STATS {
    uint64_t parsed;			/* files parsed since start */
    uint64_t moved;			/* renames followed without parsing */
    uint64_t removed;
    uint64_t vanished;			/* moved on before we read them */
    uint64_t skipped;			/* corrupt, unreadable, or not a
					 * regular file (never opened) */
    uint64_t reconciles;
    uint64_t queues_listed;		/* by reconciles (unchanged: skipped) */
    uint64_t publications;
    int64_t start_time;			/* counters since, wall seconds */
    uint64_t reconcile_ns;		/* time in reconciles, monotonic */
    uint64_t throttle_enters;		/* keys that entered the state */
    uint64_t throttle_leaves;		/* keys that left it */
    uint64_t policy_enters[QS_MAX_POLICIES];	/* the same per policy,
						 * indexed like conf.policy */
    uint64_t policy_leaves[QS_MAX_POLICIES];
} SC_STATS;

typedef struct SCANNER SCANNER;

extern SCANNER *sc_create(const SC_CONF *, char *err, size_t errlen);
extern void sc_destroy(SCANNER *);

/*
 * Carry the throttle state of a scanner being replaced (a reload) over to
 * its successor, for the policies that keep their name and key: a reload
 * must not release a key before its min_hold_time.  The counters
 * (SC_STATS) carry over too, so the metrics do not reset on a reload; a
 * policy's own counters follow its name (a new policy starts at zero).
 * Call before the new scanner's first sc_publish().
 */
extern void sc_inherit(SCANNER *to, const SCANNER *from);

/* The inotify descriptor to poll. */
extern int sc_fd(const SCANNER *);

/* Apply pending inotify events.  Returns 1 when a reconcile is needed. */
extern int sc_events(SCANNER *);

/* Both clocks, now. */
extern SC_TIME sc_now(void);

/* Rescan the queue: parse files the index does not know, drop the ones
 * that are gone.  now's wall time is published as the last reconcile. */
extern void sc_reconcile(SCANNER *, SC_TIME now);

/* Milliseconds until a publication is due (0: now), by the monotonic
 * clock: changes wait publish_interval_ms, and the heartbeat republishes
 * heartbeat_interval_ms after the last publication. */
extern int64_t sc_publish_due(const SCANNER *, SC_TIME now);

/* Run the state machine and publish the summary. */
extern void sc_publish(SCANNER *, SC_TIME now);

extern void sc_stats(const SCANNER *, SC_STATS *);

/*
 * sc_metrics.c: the published summary in the Prometheus text format
 * (metrics.h), at most top_keys key series per policy, then the milter's
 * families from counters_file (mxct.h; an unreadable file is
 * qshape_milter_counters_up 0, logged once); 0, or -1 when the summary
 * could not be read or fp failed.  sc_metrics_write() writes it to path
 * atomically (a temporary file in its directory, fsync, rename), mode
 * 0644; 0, or -1 and why in err.
 */
extern int sc_metrics(SCANNER *, FILE *fp, uint32_t top_keys);
extern int sc_metrics_write(SCANNER *, const char *path, uint32_t top_keys,
			    char *err, size_t errlen);
extern const IX *sc_index(const SCANNER *);

#endif

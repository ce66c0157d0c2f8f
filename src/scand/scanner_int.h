/*
 * scanner_int - the scanner's handle, shared by the files that make up
 * the scanner (scanner.c, sc_events.c, sc_reconcile.c) and by no one
 * else.  See scanner.h for the interface.
 */
#ifndef QSHAPE_SCANNER_INT_H
#define QSHAPE_SCANNER_INT_H

#include <sys/stat.h>
#include <time.h>

#include "counters.h"
#include "qfile.h"
#include "scanner.h"
#include "shm.h"
#include "watch.h"

/* A directory as it was when its queue was last listed. */
typedef struct DIRSIG {
    int     queue;
    char   *path;			/* relative to the base, or absolute */
    dev_t   dev;
    ino_t   ino;
    struct timespec mtime;
} DIRSIG;

/* A file that left a queue in the batch of events being read. */
typedef struct GONE {
    char    id[IX_ID_MAX + 1];
    int     queue;
} GONE;

struct SCANNER {
    SC_CONF conf;
    TH_POLICY *th;			/* conf.policy[].th, contiguous */
    int     active;			/* index of the active queue, or -1 */
    IX     *ix;
    WATCH  *watch;
    QFILE_READER *reader;
    SHM_W  *shm;
    TH_STATE state;			/* times on the monotonic clock, ms */
    int64_t deadline_ms;		/* th_next_deadline() of the state */
    CT_R   *counters;			/* a copy of the milter's counters */
    int     counters_bad;		/* the last read failed (logged) */
    int     metrics_ct_bad;		/* the same, for the metrics */
    GONE   *gone;
    size_t  ngone;
    size_t  gone_cap;
    int     dirty;			/* changed since last publication */
    int64_t last_pub_mono_ms;		/* last publication, monotonic */
    int64_t last_reconcile;		/* wall seconds, for people */
    SC_STATS stats;
    DIRSIG *sig;			/* directories of the listed queues */
    size_t  nsig;
    size_t  sigcap;
    int64_t listed_ns[QS_MAX_QUEUES];	/* when each was last listed, 0 never:
					 * the file system's (wall) clock */
};

/* sc_reconcile.c: forget the directory signatures of every queue. */
extern void sc_reconcile_forget(SCANNER *);

#endif

/*
 * qwalk - walk Postfix queue directories and parse every queue file.
 *
 * For each queue (a path relative to a base directory, or absolute) the
 * walker recurses into subdirectories (hashed queues), keeps names that are
 * [A-Za-z0-9]{6,}, applies Postfix's own test of a usable queue file
 * (regular, owner rwx), reads the file with pread() without ever locking it,
 * parses it with qf and hands the facts to a callback.  Files that vanish
 * between readdir() and open() (renames between queues) are normal and only
 * counted; corrupt files are counted with the reason.
 *
 * With nthreads > 1 the callback runs concurrently in several threads, each
 * with its own context (ctx[i]); directories and batches of names are
 * shared out among the threads.
 *
 * Errors: qw_walk() returns 0, or -1 with a reason in err for a failure
 * that stops the walk (no memory, no threads).  A queue directory that does
 * not exist or cannot be read is reported in the stats and the walk goes on.
 */
#ifndef QSHAPE_QWALK_H
#define QSHAPE_QWALK_H

#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "qf.h"

#define QW_MAX_THREADS	16

typedef struct QW_MSG {
    int     queue;			/* index into the queue list */
    const char *id;			/* file name: the queue ID */
    const QF_FACTS *facts;
    int64_t mtime;			/* file mtime, seconds */
} QW_MSG;

typedef void (*QW_FN) (void *ctx, const QW_MSG *);

/* Called for each queue-ID name before it is opened; nonzero means the
 * caller already knows the file and it is not read (counted as known). */
typedef int (*QW_KNOWN_FN) (void *ctx, int queue, const char *id);

typedef struct QW_STATS {
    uint64_t files;			/* names that look like queue IDs */
    uint64_t known;			/* not read: the caller knew them */
    uint64_t parsed;			/* handed to the callback */
    uint64_t vanished;			/* gone before we opened them */
    uint64_t not_regular;		/* symlinks, devices, ... */
    uint64_t not_ready;			/* owner bits not rwx: in progress */
    uint64_t unreadable;		/* open or read failed */
    uint64_t corrupt;			/* parser refused them */
    uint64_t by_status[QF_NSTATUS];	/* corrupt files by reason */
    uint64_t bad_dirs;			/* queue directories we could not read */
    char    first_problem[512];		/* "path: reason" of the first one */
} QW_STATS;

/* Called for each directory as it is opened, before it is listed, with
 * its path relative to the base (or absolute) and its fstat(). */
typedef void (*QW_DIR_FN) (void *ctx, int queue, const char *path,
			   const struct stat *);

typedef struct QW_OPTS {
    int     base_fd;			/* relative queue names start here */
    unsigned qf_flags;			/* qf_parse() flags */
    int     nthreads;			/* 1..QW_MAX_THREADS */
    QW_KNOWN_FN known;			/* optional, called with ctx[thread] */
    QW_DIR_FN dir;			/* optional, called with ctx[thread] */
} QW_OPTS;

extern int qw_walk(const char *const *queues, int nqueues,
		   const QW_OPTS *, QW_FN fn, void *const *ctx,
		   QW_STATS *stats, char *err, size_t errlen);

#endif

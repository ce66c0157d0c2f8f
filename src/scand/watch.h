/*
 * watch - inotify on the queue directories and their hash subdirectories.
 *
 * watch_read() drains the pending events and reports, per queue-ID name,
 * that a file appeared or changed (WATCH_SEEN: created, renamed in, mode
 * changed), was closed after writing (WATCH_WRITTEN: a delivery agent
 * marked recipients done), or left (WATCH_GONE: renamed out, deleted).  A rename between
 * queues gives a GONE in one queue and a SEEN in the other; the caller
 * matches them by ID.  New subdirectories are watched as they appear.
 *
 * Errors: watch_create() returns NULL and a reason; watch_read() returns 0,
 * 1 when the caller must reconcile from a full scan (the kernel's event
 * queue overflowed, or a watched directory went away), or -1 on a read
 * error (errno).
 */
#ifndef QSHAPE_WATCH_H
#define QSHAPE_WATCH_H

#include <stddef.h>

#define WATCH_SEEN	1
#define WATCH_GONE	2
#define WATCH_WRITTEN	3		/* closed after writing: re-read */

typedef struct WATCH WATCH;

typedef void (*WATCH_FN) (void *ctx, int queue, int dirfd, const char *name,
			  int what);

extern WATCH *watch_create(int base_fd, const char *const *queues,
			   int nqueues, char *err, size_t errlen);
extern void watch_destroy(WATCH *);

/* The inotify descriptor, for poll(). */
extern int watch_fd(const WATCH *);

extern int watch_read(WATCH *, WATCH_FN, void *ctx);

/* Directories watched. */
extern size_t watch_count(const WATCH *);

#endif

/*
 * sc_events - inotify events to the index.  See scanner.h.
 *
 * A file is read when it appears, and again only when its recipients may
 * have changed: delivery agents mark them done in place, which shows as a
 * close after writing while the file is in active, and qmgr moves it out
 * of active only after the delivery attempts (the two often arrive in one
 * batch of events, when the file is no longer where the close was).  A
 * rename between queues shows as a "gone" event in one directory and a
 * "seen" event in the other.  Seen events move known IDs without parsing;
 * gone events are held until the batch of events has been read, and only
 * then remove the IDs that are still in the queue they left and were not
 * seen again after leaving.
 *
 * Anything but a regular file (a FIFO, a device node, a symlink) is never
 * opened (qfile checks the type first) and is counted as skipped.
 */
#include <string.h>

#include "log.h"
#include "mem.h"
#include "scanner_int.h"

/* Parse a file the index does not know yet, or knows no longer well.
 * Returns 1 when the index now reflects the file. */
static int
learn(SCANNER *sc, int queue, int dirfd, const char *name)
{
    QFILE_RESULT res;

    switch (qfile_read(sc->reader, dirfd, name, QF_WANT_RCPTS, &res)) {
    case QFILE_OK:
	if (!qf_counts(res.facts)) {		/* everything delivered */
	    if (ix_remove(sc->ix, name))
		sc->dirty = 1;
	} else if (ix_put(sc->ix, name, queue, res.facts, res.mtime) == 0) {
	    sc->stats.parsed++;
	    sc->dirty = 1;
	}
	return 1;
    case QFILE_NOT_READY:			/* the chmod will tell us */
	return 0;
    case QFILE_VANISHED:			/* its next event will */
	sc->stats.vanished++;
	return 0;
    case QFILE_NOT_REGULAR:
	log_warnx("%s: %s: not a regular file", sc->conf.queues[queue], name);
	sc->stats.skipped++;
	return 0;
    case QFILE_CORRUPT:
	log_warnx("%s: %s: %s", sc->conf.queues[queue], name,
		  qf_strerror(res.qf_status));
	sc->stats.skipped++;
	return 0;
    default:
	sc->stats.skipped++;
	return 0;
    }
}

/* A file seen again cancels the gone events before it in the batch
 * (active -> deferred -> active within one read of events). */
static void
forget_gone(SCANNER *sc, const char *name)
{
    size_t  i;

    for (i = 0; i < sc->ngone;) {
	if (strcmp(sc->gone[i].id, name) == 0)
	    sc->gone[i] = sc->gone[--sc->ngone];
	else
	    i++;
    }
}

static void
on_event(void *ctx, int queue, int dirfd, const char *name, int what)
{
    SCANNER *sc = ctx;
    int     was = ix_queue_of(sc->ix, name);

    if (what == WATCH_GONE) {
	if (was != queue || strlen(name) > IX_ID_MAX)
	    return;
	if (sc->ngone == sc->gone_cap) {
	    sc->gone_cap = sc->gone_cap ? 2 * sc->gone_cap : 64;
	    sc->gone = xrealloc(sc->gone, sc->gone_cap * sizeof(*sc->gone));
	}
	strcpy(sc->gone[sc->ngone].id, name);
	sc->gone[sc->ngone++].queue = queue;
	return;
    }
    forget_gone(sc, name);			/* it is back, or elsewhere */
    if (what == WATCH_WRITTEN && was == queue) {
	(void) learn(sc, queue, dirfd, name);	/* recipients marked done */
    } else if (was < 0) {
	(void) learn(sc, queue, dirfd, name);
    } else if (was != queue && was == sc->active
	       && learn(sc, queue, dirfd, name)) {
	/* read again after its delivery attempts */
    } else if (was != queue) {
	ix_move(sc->ix, name, queue);
	sc->stats.moved++;
	sc->dirty = 1;
    }
}

int
sc_events(SCANNER *sc)
{
    int     rc = watch_read(sc->watch, on_event, sc);
    size_t  i;

    for (i = 0; i < sc->ngone; i++) {
	if (ix_queue_of(sc->ix, sc->gone[i].id) == sc->gone[i].queue) {
	    ix_remove(sc->ix, sc->gone[i].id);
	    sc->stats.removed++;
	    sc->dirty = 1;
	}
    }
    sc->ngone = 0;
    if (rc < 0) {
	log_warn("read inotify events");
	return 1;
    }
    return rc;
}

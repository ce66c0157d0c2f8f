/*
 * sc_reconcile - rescans of the queue.  See scanner.h.
 *
 * A reconcile lists a queue only when one of its directories changed
 * since it was last listed (its inode or mtime): a directory's mtime moves
 * with every entry added, removed or renamed.  That comparison is between
 * file-system timestamps, which the kernel takes from the wall clock, and
 * the wall clock read here; it schedules nothing.  A step of the clock can
 * only make a queue look changed (listed once more), never hide a change:
 * the mtime itself must match too.
 */
#include <pthread.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "qwalk.h"
#include "scanner_int.h"

#define RC_THREADS	2		/* reconcile walkers */

/* The walk shares directories among threads; the index takes one at a
 * time.  Most of a reconcile is getdents(), which runs in parallel.  The
 * walk sees only the queues that need a listing: map[] gives their index. */
static pthread_mutex_t rc_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct RC {
    SCANNER *sc;
    int     map[QS_MAX_QUEUES];
} RC;

static int
rc_known(void *ctx, int queue, const char *id)
{
    RC     *rc = ctx;
    int     known;

    pthread_mutex_lock(&rc_lock);
    known = ix_mark(rc->sc->ix, id, rc->map[queue]);
    pthread_mutex_unlock(&rc_lock);
    return known;
}

static void
rc_parsed(void *ctx, const QW_MSG *m)
{
    RC     *rc = ctx;

    pthread_mutex_lock(&rc_lock);
    if (qf_counts(m->facts) && ix_put(rc->sc->ix, m->id, rc->map[m->queue],
				      m->facts, m->mtime) == 0)
	rc->sc->stats.parsed++;
    pthread_mutex_unlock(&rc_lock);
}

/* Record each directory as it is opened, before it is listed. */
static void
rc_dir(void *ctx, int queue, const char *path, const struct stat *st)
{
    RC     *rc = ctx;
    SCANNER *sc = rc->sc;

    pthread_mutex_lock(&rc_lock);
    if (sc->nsig == sc->sigcap) {
	sc->sigcap = sc->sigcap ? 2 * sc->sigcap : 64;
	sc->sig = xrealloc(sc->sig, sc->sigcap * sizeof(*sc->sig));
    }
    sc->sig[sc->nsig++] = (DIRSIG) {rc->map[queue], xstrdup(path),
				    st->st_dev, st->st_ino, st->st_mtim};
    pthread_mutex_unlock(&rc_lock);
}

/* Keep the signatures of the queues in 'keep' (a bit per queue). */
static void
sig_keep(SCANNER *sc, unsigned keep)
{
    size_t  i, n = 0;

    for (i = 0; i < sc->nsig; i++) {
	if (keep & (1u << sc->sig[i].queue))
	    sc->sig[n++] = sc->sig[i];
	else
	    free(sc->sig[i].path);
    }
    sc->nsig = n;
}

void
sc_reconcile_forget(SCANNER *sc)
{
    sig_keep(sc, 0);
    free(sc->sig);
    sc->sig = 0;
    sc->sigcap = 0;
}

/*
 * Has the membership of a queue surely not changed since it was listed?
 * A directory's mtime changes with every entry added, removed or renamed;
 * an mtime within a second of the listing is not trusted.
 */
static int
unchanged(const SCANNER *sc, int queue)
{
    struct stat st;
    size_t  i, n = 0;

    if (sc->listed_ns[queue] == 0)
	return 0;
    for (i = 0; i < sc->nsig; i++) {
	const DIRSIG *d = &sc->sig[i];
	int64_t ns = (int64_t) d->mtime.tv_sec * 1000000000 + d->mtime.tv_nsec;

	if (d->queue != queue)
	    continue;
	n++;
	if (fstatat(d->path[0] == '/' ? AT_FDCWD : sc->conf.base_fd, d->path,
		    &st, AT_SYMLINK_NOFOLLOW) < 0
	    || st.st_dev != d->dev || st.st_ino != d->ino
	    || st.st_mtim.tv_sec != d->mtime.tv_sec
	    || st.st_mtim.tv_nsec != d->mtime.tv_nsec
	    || ns + 1000000000 > sc->listed_ns[queue])
	    return 0;
    }
    return n > 0;
}

/* The clock of file-system timestamps. */
static int64_t
fs_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
log_walk(const SCANNER *sc, const QW_STATS *st, size_t before, size_t gone,
	 int listed)
{
    if (st->corrupt || st->unreadable || st->bad_dirs)
	log_warnx("reconcile: %llu corrupt, %llu unreadable, %llu queue "
		  "directories not read (first: %s)",
		  (unsigned long long) st->corrupt,
		  (unsigned long long) st->unreadable,
		  (unsigned long long) st->bad_dirs, st->first_problem);
    if (st->not_regular)
	log_warnx("reconcile: %llu entries not regular files, not opened",
		  (unsigned long long) st->not_regular);
    log_debug("reconcile: %zu messages (%llu new, %zu gone, was %zu; "
	      "%d of %d queues listed)", ix_messages(sc->ix),
	      (unsigned long long) st->parsed, gone, before, listed,
	      sc->conf.nqueues);
}

void
sc_reconcile(SCANNER *sc, SC_TIME now)
{
    QW_OPTS o = {sc->conf.base_fd, QF_WANT_RCPTS, RC_THREADS, rc_known,
		 rc_dir};
    QW_STATS st;
    RC      rc = {sc, {0}};
    void   *ctx[RC_THREADS] = {&rc, &rc};
    const char *list[QS_MAX_QUEUES];
    char    err[256];
    size_t  before = ix_messages(sc->ix), gone;
    int64_t t0 = fs_now_ns();
    int64_t m0 = shm_mono_ns();
    unsigned skipped = 0;
    int     q, n = 0;

    /* Events that arrive during the walk are applied afterwards. */
    ix_mark_begin(sc->ix);
    for (q = 0; q < sc->conf.nqueues; q++) {
	if (unchanged(sc, q)) {
	    ix_mark_queue(sc->ix, q);
	    skipped |= 1u << q;
	} else {
	    rc.map[n] = q;
	    list[n++] = sc->conf.queues[q];
	}
    }
    sig_keep(sc, skipped);
    if (qw_walk(list, n, &o, rc_parsed, ctx, &st, err, sizeof(err)) < 0) {
	log_warnx("reconcile: %s", err);
	return;
    }
    for (q = 0; q < n; q++)
	sc->listed_ns[rc.map[q]] = t0;
    sc->stats.queues_listed += (uint64_t) n;
    sc->stats.skipped += st.corrupt + st.unreadable + st.not_regular;
    sc->stats.vanished += st.vanished;
    gone = ix_sweep(sc->ix);
    sc->stats.removed += gone;
    sc->stats.reconciles++;
    sc->stats.reconcile_ns += (uint64_t) (shm_mono_ns() - m0);
    sc->last_reconcile = now.wall_ms / 1000;
    sc->dirty = 1;
    log_walk(sc, &st, before, gone, n);
}

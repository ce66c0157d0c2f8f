/*
 * snap - configuration snapshots.  See snap.h.
 */
#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "snap.h"

struct SNAP {
    QC_CONFIG *cf;
    unsigned refs;			/* under lock; the current one holds 1 */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static SNAP *current;

static void
release(SNAP *s)
{
    if (--s->refs == 0) {
	qc_free(s->cf);
	free(s);
    }
}

void
snap_set(QC_CONFIG *cf)
{
    SNAP   *s = calloc(1, sizeof(*s));

    if (s == 0)
	log_fatalx("out of memory");
    s->cf = cf;
    s->refs = 1;
    pthread_mutex_lock(&lock);
    if (current)
	release(current);
    current = s;
    pthread_mutex_unlock(&lock);
}

SNAP   *
snap_get(void)
{
    SNAP   *s;

    pthread_mutex_lock(&lock);
    if ((s = current) != 0)
	s->refs++;
    pthread_mutex_unlock(&lock);
    return s;
}

void
snap_put(SNAP *s)
{
    if (s == 0)
	return;
    pthread_mutex_lock(&lock);
    release(s);
    pthread_mutex_unlock(&lock);
}

const QC_CONFIG *
snap_conf(const SNAP *s)
{
    return s->cf;
}

void
snap_shutdown(void)
{
    pthread_mutex_lock(&lock);
    if (current)
	release(current);
    current = 0;
    pthread_mutex_unlock(&lock);
}

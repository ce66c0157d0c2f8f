/*
 * qwalk - walk Postfix queue directories.  See qwalk.h.
 *
 * Work is a list of jobs: "read this directory" and "parse this batch of
 * names in that directory".  A thread reading a directory queues the
 * subdirectories it meets and hands out batches of names while other
 * threads wait for work; otherwise it parses its batches itself, so memory
 * stays bounded by a few batches whatever the size of the directory.
 *
 * Each file costs openat(), fstat(), one pread() of the first 4 KiB (more
 * only for a file whose envelope or recipient list is larger) and close()
 * (qfile.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "qfile.h"
#include "qwalk.h"

#define BATCH_NAMES	256		/* names per batch job */
#define MAX_DEPTH	16		/* hash_queue_depth is at most 16 */
#define DENTS_BYTES	(32 * 1024)

typedef struct DIRREF {
    int     fd;
    int     refs;			/* under the walk mutex */
    int     queue;
    char   *path;
} DIRREF;

typedef struct JOB {
    struct JOB *next;
    DIRREF *parent;			/* directory job: where it lives */
    char   *name;			/* directory job: its name or path */
    int     queue;
    int     depth;
    DIRREF *dir;			/* batch job: the directory */
    char   *names;			/* batch job: NUL-separated names */
    int     nnames;
} JOB;

typedef struct WALK WALK;

typedef struct WORKER {
    WALK   *walk;
    void   *ctx;
    QFILE_READER *reader;
    QW_STATS stats;
} WORKER;

struct WALK {
    const QW_OPTS *opts;
    QW_FN   fn;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    JOB    *head, *tail;
    int     njobs;
    int     busy;			/* workers holding a job */
    int     waiting;			/* workers waiting for one */
    int     failed;
};

static void
note_problem(WORKER *w, const char *path, const char *name, const char *why)
{
    if (w->stats.first_problem[0] == 0)
	snprintf(w->stats.first_problem, sizeof(w->stats.first_problem),
		 "%s%s%s: %s", path, name ? "/" : "", name ? name : "", why);
}

static void
push(WALK *wk, JOB *j)
{
    pthread_mutex_lock(&wk->lock);
    j->next = 0;
    if (wk->tail)
	wk->tail->next = j;
    else
	wk->head = j;
    wk->tail = j;
    wk->njobs++;
    pthread_cond_signal(&wk->cond);
    pthread_mutex_unlock(&wk->lock);
}

static void
dir_release(WALK *wk, DIRREF *d)
{
    int     last;

    if (d == 0)
	return;
    pthread_mutex_lock(&wk->lock);
    last = --d->refs == 0;
    pthread_mutex_unlock(&wk->lock);
    if (last) {
	close(d->fd);
	free(d->path);
	free(d);
    }
}

static void
dir_hold(WALK *wk, DIRREF *d)
{
    pthread_mutex_lock(&wk->lock);
    d->refs++;
    pthread_mutex_unlock(&wk->lock);
}

static void
do_file(WORKER *w, DIRREF *d, const char *name)
{
    QFILE_RESULT res;
    QW_MSG  m;

    w->stats.files++;
    if (w->walk->opts->known && w->walk->opts->known(w->ctx, d->queue, name)) {
	w->stats.known++;
	return;
    }
    switch (qfile_read(w->reader, d->fd, name, w->walk->opts->qf_flags,
		       &res)) {
    case QFILE_OK:
	m = (QW_MSG) {d->queue, name, res.facts, res.mtime};
	w->stats.parsed++;
	w->walk->fn(w->ctx, &m);
	break;
    case QFILE_VANISHED:
	w->stats.vanished++;
	break;
    case QFILE_NOT_REGULAR:
	w->stats.not_regular++;
	break;
    case QFILE_NOT_READY:
	w->stats.not_ready++;
	break;
    case QFILE_UNREADABLE:
	w->stats.unreadable++;
	note_problem(w, d->path, name, strerror(res.errnum));
	break;
    case QFILE_CORRUPT:
	w->stats.corrupt++;
	w->stats.by_status[res.qf_status]++;
	note_problem(w, d->path, name, qf_strerror(res.qf_status));
	break;
    }
}

static void
do_batch(WORKER *w, DIRREF *d, const char *names, int n)
{
    int     i;

    for (i = 0; i < n; i++, names += strlen(names) + 1)
	do_file(w, d, names);
}

/* Hand a batch to an idle thread, or parse it here. */
static void
flush_batch(WORKER *w, DIRREF *d, char *names, size_t len, int n)
{
    WALK   *wk = w->walk;
    int     give;
    JOB    *j;

    if (n == 0)
	return;
    pthread_mutex_lock(&wk->lock);
    give = wk->waiting > 0 && wk->njobs < 2 * wk->opts->nthreads;
    pthread_mutex_unlock(&wk->lock);
    if (!give || (j = calloc(1, sizeof(*j))) == 0
	|| (j->names = malloc(len)) == 0) {
	if (give)
	    free(j);
	do_batch(w, d, names, n);
	return;
    }
    memcpy(j->names, names, len);
    j->nnames = n;
    j->dir = d;
    j->queue = d->queue;
    dir_hold(wk, d);
    push(wk, j);
}

static void
queue_dir(WORKER *w, DIRREF *parent, const char *name, int queue, int depth)
{
    JOB    *j = calloc(1, sizeof(*j));

    if (j == 0 || (j->name = strdup(name)) == 0) {
	free(j);
	w->walk->failed = 1;
	return;
    }
    j->parent = parent;
    j->queue = queue;
    j->depth = depth;
    if (parent)
	dir_hold(w->walk, parent);
    push(w->walk, j);
}

static DIRREF *
open_dir(WORKER *w, JOB *j)
{
    const QW_OPTS *o = w->walk->opts;
    int     at = j->parent ? j->parent->fd : o->base_fd;
    DIRREF *d;
    int     fd;
    size_t  plen;

    fd = openat(j->name[0] == '/' ? AT_FDCWD : at, j->name,
		O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
	if (j->parent == 0 || errno != ENOENT) {
	    w->stats.bad_dirs++;
	    note_problem(w, j->parent ? j->parent->path : j->name,
			 j->parent ? j->name : 0, strerror(errno));
	}
	return 0;
    }
    if ((d = calloc(1, sizeof(*d))) == 0) {
	close(fd);
	w->walk->failed = 1;
	return 0;
    }
    plen = (j->parent ? strlen(j->parent->path) + 1 : 0) + strlen(j->name) + 1;
    if ((d->path = malloc(plen)) == 0) {
	free(d);
	close(fd);
	w->walk->failed = 1;
	return 0;
    }
    if (j->parent)
	snprintf(d->path, plen, "%s/%s", j->parent->path, j->name);
    else
	snprintf(d->path, plen, "%s", j->name);
    d->fd = fd;
    d->refs = 1;
    d->queue = j->queue;
    if (o->dir) {
	struct stat st;

	if (fstat(fd, &st) == 0)
	    o->dir(w->ctx, d->queue, d->path, &st);
    }
    return d;
}

/* Is this entry a directory?  d_type, or a look when it is unknown. */
static int
entry_type(DIRREF *d, const char *name, unsigned char type)
{
    struct stat st;

    if (type != DT_UNKNOWN)
	return type;
    if (fstatat(d->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
	return DT_UNKNOWN;
    return S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG
	: DT_UNKNOWN;
}

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char    d_name[];
};

static void
do_dir(WORKER *w, JOB *j)
{
    DIRREF *d = open_dir(w, j);
    char   *dents, *names;
    size_t  nlen = 0;
    int     nnames = 0;
    long    n, pos;

    if (d == 0)
	return;
    dents = malloc(DENTS_BYTES);
    names = malloc(BATCH_NAMES * 256);
    if (dents == 0 || names == 0) {
	w->walk->failed = 1;
	goto out;
    }
    while ((n = syscall(SYS_getdents64, d->fd, dents, DENTS_BYTES)) > 0) {
	for (pos = 0; pos < n;) {
	    struct linux_dirent64 *e = (void *) (dents + pos);
	    const char *nm = e->d_name;
	    size_t  l = strlen(nm);
	    int     type;

	    pos += e->d_reclen;
	    if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0)))
		continue;
	    type = entry_type(d, nm, e->d_type);
	    if (type == DT_DIR) {
		if (j->depth < MAX_DEPTH)
		    queue_dir(w, d, nm, j->queue, j->depth + 1);
		continue;
	    }
	    if (!qfile_is_queue_id(nm) || l >= 256)
		continue;
	    if (type != DT_REG && type != DT_UNKNOWN) {
		w->stats.files++;
		w->stats.not_regular++;
		continue;
	    }
	    memcpy(names + nlen, nm, l + 1);
	    nlen += l + 1;
	    if (++nnames == BATCH_NAMES) {
		flush_batch(w, d, names, nlen, nnames);
		nlen = 0;
		nnames = 0;
	    }
	}
    }
    if (n < 0) {
	w->stats.bad_dirs++;
	note_problem(w, d->path, 0, strerror(errno));
    }
    flush_batch(w, d, names, nlen, nnames);
out:
    free(dents);
    free(names);
    dir_release(w->walk, d);
}

static void *
worker_main(void *arg)
{
    WORKER *w = arg;
    WALK   *wk = w->walk;
    JOB    *j;

    for (;;) {
	pthread_mutex_lock(&wk->lock);
	while (wk->head == 0 && wk->busy > 0 && !wk->failed) {
	    wk->waiting++;
	    pthread_cond_wait(&wk->cond, &wk->lock);
	    wk->waiting--;
	}
	if (wk->head == 0 || wk->failed) {
	    pthread_cond_broadcast(&wk->cond);
	    pthread_mutex_unlock(&wk->lock);
	    return 0;
	}
	j = wk->head;
	if ((wk->head = j->next) == 0)
	    wk->tail = 0;
	wk->njobs--;
	wk->busy++;
	pthread_mutex_unlock(&wk->lock);

	if (j->names) {
	    do_batch(w, j->dir, j->names, j->nnames);
	    dir_release(wk, j->dir);
	} else {
	    do_dir(w, j);
	    dir_release(wk, j->parent);
	}
	free(j->names);
	free(j->name);
	free(j);

	pthread_mutex_lock(&wk->lock);
	wk->busy--;
	if (wk->busy == 0 && wk->head == 0)
	    pthread_cond_broadcast(&wk->cond);
	pthread_mutex_unlock(&wk->lock);
    }
}

static void
merge_stats(QW_STATS *to, const QW_STATS *from)
{
    int     i;

    to->files += from->files;
    to->known += from->known;
    to->parsed += from->parsed;
    to->vanished += from->vanished;
    to->not_regular += from->not_regular;
    to->not_ready += from->not_ready;
    to->unreadable += from->unreadable;
    to->corrupt += from->corrupt;
    to->bad_dirs += from->bad_dirs;
    for (i = 0; i < QF_NSTATUS; i++)
	to->by_status[i] += from->by_status[i];
    if (to->first_problem[0] == 0)
	memcpy(to->first_problem, from->first_problem,
	       sizeof(to->first_problem));
}

int
qw_walk(const char *const *queues, int nqueues, const QW_OPTS *opts,
	QW_FN fn, void *const *ctx, QW_STATS *stats, char *err,
	size_t errlen)
{
    WALK    wk;
    WORKER  w[QW_MAX_THREADS];
    pthread_t tid[QW_MAX_THREADS];
    int     nt = opts->nthreads < 1 ? 1 : opts->nthreads;
    int     i, started = 1, rc = 0;

    if (nt > QW_MAX_THREADS)
	nt = QW_MAX_THREADS;
    memset(&wk, 0, sizeof(wk));
    memset(w, 0, sizeof(w));
    memset(stats, 0, sizeof(*stats));
    wk.opts = opts;
    wk.fn = fn;
    pthread_mutex_init(&wk.lock, 0);
    pthread_cond_init(&wk.cond, 0);
    for (i = 0; i < nt; i++) {
	w[i].walk = &wk;
	w[i].ctx = ctx[i];
	if ((w[i].reader = qfile_reader_create()) == 0)
	    wk.failed = 1;
    }
    for (i = 0; i < nqueues && !wk.failed; i++)
	queue_dir(&w[0], 0, queues[i], i, 0);
    for (; started < nt && !wk.failed; started++)
	if (pthread_create(&tid[started], 0, worker_main, &w[started]) != 0)
	    break;
    worker_main(&w[0]);
    for (i = 1; i < started; i++)
	pthread_join(tid[i], 0);
    for (i = 0; i < nt; i++) {
	merge_stats(stats, &w[i].stats);
	qfile_reader_destroy(w[i].reader);
    }
    while (wk.head) {
	JOB    *j = wk.head;

	wk.head = j->next;
	dir_release(&wk, j->parent);
	dir_release(&wk, j->dir);
	free(j->names);
	free(j->name);
	free(j);
    }
    if (wk.failed) {
	snprintf(err, errlen, "out of memory");
	rc = -1;
    }
    pthread_mutex_destroy(&wk.lock);
    pthread_cond_destroy(&wk.cond);
    return rc;
}

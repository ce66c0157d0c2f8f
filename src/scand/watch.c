/*
 * watch - inotify on the queue directories.  See watch.h.
 *
 * Each watched directory keeps an open descriptor, so that the scanner can
 * openat() a file named in an event without building paths.
 *
 * That descriptor pins the directory: while it is open, rmdir() does not
 * free the inode, and the kernel sends neither IN_DELETE_SELF nor
 * IN_IGNORED for its watch.  So a subdirectory is let go when its PARENT
 * reports it deleted or moved out (IN_DELETE / IN_MOVED_FROM with
 * IN_ISDIR): its watch is removed, its descriptor closed, with those of
 * everything watched below it.  A watch the kernel ends by itself
 * (IN_DELETE_SELF, IN_MOVE_SELF, IN_IGNORED: a top queue directory, or a
 * file system unmounted) is let go the same way.  Slots are reused, so
 * what the watch holds is bounded by the directories that exist.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "mem.h"
#include "qfile.h"
#include "watch.h"

#define MAX_DEPTH	16
#define EVENTS	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE \
		 | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR \
		 | IN_EXCL_UNLINK)

typedef struct WDIR {
    int     wd;				/* inotify watch, -1 when free */
    int     fd;				/* open directory */
    int     queue;
    int     depth;
    int     parent;			/* watch of the parent, -1: a queue */
    char   *name;			/* in the parent (0 for a queue) */
} WDIR;

struct WATCH {
    int     ifd;
    WDIR   *dir;
    size_t  ndir;
    size_t  cap;
};

static WDIR *
find(WATCH *w, int wd)
{
    size_t  i;

    for (i = 0; i < w->ndir; i++)
	if (w->dir[i].wd == wd)
	    return &w->dir[i];
    return 0;
}

/* A free slot, or a new one. */
static WDIR *
slot(WATCH *w)
{
    size_t  i;

    for (i = 0; i < w->ndir; i++)
	if (w->dir[i].wd < 0)
	    return &w->dir[i];
    if (w->ndir == w->cap) {
	w->cap = w->cap ? 2 * w->cap : 32;
	w->dir = xrealloc(w->dir, w->cap * sizeof(*w->dir));
    }
    return &w->dir[w->ndir++];
}

/* Watch a directory, then its subdirectories.  -1 only for a top queue.
 * parent is the watch of the directory 'at', -1 for a queue. */
static int
add_dir(WATCH *w, int at, const char *name, int queue, int depth,
	int parent)
{
    int     fd, wd, sub;
    char    path[64];
    DIR    *dp;
    struct dirent *de;

    fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
	return -1;
    /* inotify wants a path: the descriptor's own, via /proc. */
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if ((wd = inotify_add_watch(w->ifd, path, EVENTS)) < 0) {
	close(fd);
	return -1;
    }
    if (find(w, wd) != 0) {
	close(fd);
	return 0;
    }
    *slot(w) = (WDIR) {wd, fd, queue, depth, parent,
		       parent < 0 ? 0 : xstrdup(name)};
    if (depth >= MAX_DEPTH || (sub = dup(fd)) < 0)
	return 0;
    if ((dp = fdopendir(sub)) == 0) {
	close(sub);
	return 0;
    }
    while ((de = readdir(dp)) != 0) {
	if (de->d_name[0] == '.')
	    continue;
	if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN)
	    (void) add_dir(w, fd, de->d_name, queue, depth + 1, wd);
    }
    closedir(dp);
    return 0;
}

WATCH  *
watch_create(int base_fd, const char *const *queues, int nqueues,
	     char *err, size_t errlen)
{
    WATCH  *w = xcalloc(1, sizeof(*w));
    int     i;

    if ((w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
	snprintf(err, errlen, "inotify_init1: %s", strerror(errno));
	free(w);
	return 0;
    }
    for (i = 0; i < nqueues; i++) {
	if (add_dir(w, queues[i][0] == '/' ? AT_FDCWD : base_fd, queues[i],
		    i, 0, -1) < 0) {
	    snprintf(err, errlen, "watch queue %s: %s", queues[i],
		     strerror(errno));
	    watch_destroy(w);
	    return 0;
	}
    }
    return w;
}

void
watch_destroy(WATCH *w)
{
    size_t  i;

    if (w == 0)
	return;
    for (i = 0; i < w->ndir; i++) {
	if (w->dir[i].fd >= 0)
	    close(w->dir[i].fd);
	free(w->dir[i].name);
    }
    if (w->ifd >= 0)
	close(w->ifd);
    free(w->dir);
    free(w);
}

int
watch_fd(const WATCH *w)
{
    return w->ifd;
}

size_t
watch_count(const WATCH *w)
{
    size_t  i, n = 0;

    for (i = 0; i < w->ndir; i++)
	n += w->dir[i].wd >= 0;
    return n;
}

/*
 * Let a watched directory go, with everything watched below it: remove
 * the watch unless the kernel already did (IN_IGNORED), close the
 * descriptor, free the slot.  The IN_IGNORED that rm_watch queues finds
 * no slot and is dropped.
 */
static void
drop(WATCH *w, WDIR *d, int kernel_removed)
{
    int     wd = d->wd;
    size_t  i;

    if (!kernel_removed)
	(void) inotify_rm_watch(w->ifd, wd);
    if (d->fd >= 0)
	close(d->fd);
    free(d->name);
    *d = (WDIR) {-1, -1, 0, 0, -1, 0};
    for (i = 0; i < w->ndir; i++)
	if (w->dir[i].wd >= 0 && w->dir[i].parent == wd)
	    drop(w, &w->dir[i], 0);
}

/* The watched subdirectory 'name' of the directory watched as wd. */
static WDIR *
find_child(WATCH *w, int wd, const char *name)
{
    size_t  i;

    for (i = 0; i < w->ndir; i++)
	if (w->dir[i].wd >= 0 && w->dir[i].parent == wd
	    && strcmp(w->dir[i].name, name) == 0)
	    return &w->dir[i];
    return 0;
}

/* An event about a subdirectory of d.  1: reconcile. */
static int
dir_event(WATCH *w, WDIR *d, const struct inotify_event *ev)
{
    WDIR   *child;

    /* Files may land in it before the watch exists: rescan. */
    if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
	(void) add_dir(w, d->fd, ev->name, d->queue, d->depth + 1, d->wd);
	return 1;
    }
    if ((ev->mask & (IN_DELETE | IN_MOVED_FROM)) == 0
	|| (child = find_child(w, d->wd, ev->name)) == 0)
	return 0;
    drop(w, child, 0);
    /* rmdir() needs it empty: its files left with their own events.  A
     * directory moved away took its files along. */
    return (ev->mask & IN_MOVED_FROM) != 0;
}

static int
one_event(WATCH *w, const struct inotify_event *ev, WATCH_FN fn, void *ctx)
{
    WDIR   *d;

    if (ev->mask & IN_Q_OVERFLOW)
	return 1;
    if ((d = find(w, ev->wd)) == 0)
	return 0;
    if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
	drop(w, d, (ev->mask & IN_IGNORED) != 0);
	return 1;
    }
    if (ev->len == 0)
	return 0;
    if (ev->mask & IN_ISDIR)
	return dir_event(w, d, ev);
    if (!qfile_is_queue_id(ev->name))
	return 0;
    if (ev->mask & (IN_MOVED_FROM | IN_DELETE))
	fn(ctx, d->queue, d->fd, ev->name, WATCH_GONE);
    else if (ev->mask & IN_CLOSE_WRITE)
	fn(ctx, d->queue, d->fd, ev->name, WATCH_WRITTEN);
    else
	fn(ctx, d->queue, d->fd, ev->name, WATCH_SEEN);
    return 0;
}

int
watch_read(WATCH *w, WATCH_FN fn, void *ctx)
{
    char    buf[64 * 1024] __attribute__((aligned(8)));
    ssize_t n;
    char   *p;
    int     rescan = 0;

    for (;;) {
	n = read(w->ifd, buf, sizeof(buf));
	if (n < 0) {
	    if (errno == EINTR)
		continue;
	    return errno == EAGAIN ? rescan : -1;
	}
	for (p = buf; p < buf + n;) {
	    const struct inotify_event *ev = (const void *) p;

	    rescan |= one_event(w, ev, fn, ctx);
	    p += sizeof(*ev) + ev->len;
	}
    }
}

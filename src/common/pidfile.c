/*
 * pidfile - a daemon's pid file.  See pidfile.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pidfile.h"

struct PIDFILE {
    int     dfd;			/* the directory */
    int     fd;				/* the file, locked */
    char   *base;			/* its name in dfd */
};

/* Split path into its directory (in dir) and last name; -1 if either is
 * empty or too long. */
static int
split(const char *path, char *dir, size_t len, const char **base)
{
    const char *slash = strrchr(path, '/');

    if (slash == 0 || slash[1] == 0 || (size_t) (slash - path) + 2 > len)
	return -1;
    if (slash == path)
	snprintf(dir, len, "/");
    else
	snprintf(dir, len, "%.*s", (int) (slash - path), path);
    *base = slash + 1;
    return 0;
}

/* The directory of the pid file: ours, root's or run_uid's, and writable
 * by its owner only.  Its fd, or -1 with the reason in err. */
static int
open_dir(const char *dir, long run_uid, char *err, size_t errlen)
{
    struct stat st;
    int     dfd;

    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
	snprintf(err, errlen, "pid file directory %s: %s", dir,
		 strerror(errno));
	return -1;
    }
    if (fstat(dfd, &st) < 0) {
	snprintf(err, errlen, "pid file directory %s: %s", dir,
		 strerror(errno));
    } else if (st.st_uid != 0 && st.st_uid != geteuid()
	       && (run_uid < 0 || st.st_uid != (uid_t) run_uid)) {
	snprintf(err, errlen, "pid file directory %s is owned by uid %ld, "
		 "neither root nor us: refused", dir, (long) st.st_uid);
    } else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
	snprintf(err, errlen, "pid file directory %s is writable by group "
		 "or others (mode %04o): refused", dir,
		 (unsigned) (st.st_mode & 07777));
    } else {
	return dfd;
    }
    close(dfd);
    return -1;
}

/* Open and lock the file; 1 done, 0 the name changed under us (retry),
 * -1 error in err. */
static int
open_locked(PIDFILE *pf, const char *path, char *err, size_t errlen)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    struct stat st, now;

    pf->fd = openat(pf->dfd, pf->base, O_RDWR | O_CREAT | O_NOFOLLOW
		    | O_NONBLOCK | O_CLOEXEC, 0644);
    if (pf->fd < 0) {
	snprintf(err, errlen, "pid file %s: %s%s", path, strerror(errno),
		 errno == ELOOP ? " (a symbolic link: refused)" : "");
	return -1;
    }
    if (fstat(pf->fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
	snprintf(err, errlen, "pid file %s is not a regular file with one "
		 "link: refused", path);
	goto fail;
    }
    if (fcntl(pf->fd, F_SETLK, &fl) < 0) {
	if (errno == EACCES || errno == EAGAIN) {
	    fl.l_type = F_WRLCK;
	    fl.l_pid = 0;
	    (void) fcntl(pf->fd, F_GETLK, &fl);
	    snprintf(err, errlen, "pid file %s is locked by pid %ld: "
		     "already running?", path, (long) fl.l_pid);
	    close(pf->fd);
	    errno = EEXIST;
	    return -1;
	} else {
	    snprintf(err, errlen, "lock pid file %s: %s", path,
		     strerror(errno));
	}
	goto fail;
    }
    /* Removed or replaced by the instance that held it before: retry. */
    if (fstatat(pf->dfd, pf->base, &now, AT_SYMLINK_NOFOLLOW) < 0
	|| now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
	close(pf->fd);
	return 0;
    }
    return 1;
fail:
    close(pf->fd);
    return -1;
}

PIDFILE *
pidfile_create(const char *path, long run_uid, char *err, size_t errlen)
{
    PIDFILE *pf;
    char    dir[4096], buf[32];
    const char *base;
    int     n, rc, tries;

    if (split(path, dir, sizeof(dir), &base) < 0) {
	snprintf(err, errlen, "pid file %s: not a file name", path);
	return 0;
    }
    if ((pf = calloc(1, sizeof(*pf))) == 0 || (pf->base = strdup(base)) == 0) {
	free(pf);
	snprintf(err, errlen, "pid file %s: out of memory", path);
	return 0;
    }
    if ((pf->dfd = open_dir(dir, run_uid, err, errlen)) < 0)
	goto fail;
    for (tries = 0; (rc = open_locked(pf, path, err, errlen)) == 0; tries++)
	if (tries == 3) {
	    snprintf(err, errlen, "pid file %s keeps changing", path);
	    goto fail_dir;
	}
    if (rc < 0) {
	if (errno != EEXIST)
	    errno = 0;
	goto fail_dir;
    }
    n = snprintf(buf, sizeof(buf), "%ld\n", (long) getpid());
    if (fchmod(pf->fd, 0644) < 0 || ftruncate(pf->fd, 0) < 0
	|| pwrite(pf->fd, buf, (size_t) n, 0) != n) {
	snprintf(err, errlen, "write pid file %s: %s", path, strerror(errno));
	close(pf->fd);
	goto fail_dir;
    }
    return pf;
fail_dir:
    rc = errno;
    close(pf->dfd);
    errno = rc;
fail:
    rc = errno;
    free(pf->base);
    free(pf);
    errno = rc == EEXIST ? EEXIST : 0;
    return 0;
}

void
pidfile_remove(PIDFILE *pf)
{
    struct stat st, now;

    if (pf == 0)
	return;
    if (fstat(pf->fd, &st) == 0
	&& fstatat(pf->dfd, pf->base, &now, AT_SYMLINK_NOFOLLOW) == 0
	&& now.st_dev == st.st_dev && now.st_ino == st.st_ino)
	(void) unlinkat(pf->dfd, pf->base, 0);
    close(pf->fd);
    close(pf->dfd);
    free(pf->base);
    free(pf);
}

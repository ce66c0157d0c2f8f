/*
 * shm_path - where a summary file may live: the rule for its path (pure),
 * the trusted walk of its directories, and the preparation of its
 * directory.  See the threat model in shm.h.
 *
 * Every directory is opened relative to the one above it, from "/", with
 * O_NOFOLLOW, and judged by fstat() of what was opened: no symbolic link
 * is followed and nothing can be swapped between the check and the use.
 * O_PATH needs search permission only, as path resolution does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm_int.h"

#define DEPTH	(SHM_PATH_MAX / 2 + 2)	/* directories of a path, at most */
#define GOWRITE	(S_IWGRP | S_IWOTH)

/* One directory of a path, as the walk found it. */
typedef struct LEVEL {
    uid_t   uid;
    mode_t  mode;
    int     len;			/* bytes of the path naming it */
} LEVEL;

int
shm_path_check(const char *path, char *msg, size_t len)
{
    const char *p, *c;
    size_t  n;

    for (p = path; *p; p++)
	if (*p <= ' ' || *p >= 0x7f) {
	    shm_seterr(msg, len, "contains a space, a control character or "
		       "a byte that is not ASCII");
	    return -1;
	}
    if (p - path > SHM_PATH_MAX) {
	shm_seterr(msg, len, "longer than %d bytes", SHM_PATH_MAX);
	return -1;
    }
    if (*path != '/') {
	shm_seterr(msg, len, "\"%s\" is not an absolute path", path);
	return -1;
    }
    if (p[-1] == '/') {
	shm_seterr(msg, len, "\"%s\" ends with '/': the summary is a file",
		   path);
	return -1;
    }
    for (c = path + 1;; c += n + 1) {
	n = strcspn(c, "/");
	if (n == 0) {
	    shm_seterr(msg, len, "\"%s\" has an empty component (\"//\")",
		       path);
	    return -1;
	}
	if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) {
	    shm_seterr(msg, len, "\"%s\" has a \".\" or \"..\" component",
		       path);
	    return -1;
	}
	if (c[n] == 0)
	    break;
    }
    return 0;
}

/* Open each directory of path[0..dirlen) from "/" (dirlen 0: "/" only);
 * the last one's descriptor in *fdp, every one in lv[0..*nlv). */
static SHM_ERR
walk(const char *path, int dirlen, LEVEL *lv, int *nlv, int *fdp,
     char *err, size_t errlen)
{
    char    comp[SHM_PATH_MAX + 1];
    struct stat st;
    int     fd, nfd, i = 1, j, n = 0;

    if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
	shm_seterr(err, errlen, "open /: %s", strerror(errno));
	return SHM_IOERR;
    }
    for (;;) {
	if (fstat(fd, &st) < 0) {
	    shm_seterr(err, errlen, "%.*s: fstat: %s", i > 1 ? i - 1 : 1,
		       path, strerror(errno));
	    close(fd);
	    return SHM_IOERR;
	}
	if (!S_ISDIR(st.st_mode) || n == DEPTH) {
	    shm_seterr(err, errlen, "%.*s: not a directory: refused",
		       i > 1 ? i - 1 : 1, path);
	    close(fd);
	    errno = ENOTDIR;
	    return SHM_UNTRUSTED;
	}
	lv[n].uid = st.st_uid;
	lv[n].mode = st.st_mode;
	lv[n++].len = i > 1 ? i - 1 : 1;
	if (i >= dirlen)
	    break;
	for (j = i; j < dirlen && path[j] != '/'; j++)
	     /* void */ ;
	memcpy(comp, path + i, (size_t) (j - i));
	comp[j - i] = 0;
	nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (nfd < 0) {
	    int     e = errno;

	    close(fd);
	    errno = e;
	    shm_seterr(err, errlen, "%.*s: %s%s", j, path, strerror(e),
		       e == ELOOP || e == ENOTDIR ? " (a symbolic link or not "
		       "a directory): refused" : "");
	    return e == ENOENT ? SHM_MISSING : e == ELOOP || e == ENOTDIR
		? SHM_UNTRUSTED : SHM_IOERR;
	}
	close(fd);
	fd = nfd;
	i = j + 1;
    }
    *fdp = fd;
    *nlv = n;
    return SHM_OK;
}

/* Judge the walked directories for a writer uid owner: each owned by root
 * or owner; the last nstrict not writable by group or others, the others
 * only if they are root's and sticky. */
static SHM_ERR
trust(const char *path, const LEVEL *lv, int n, uid_t owner, int nstrict,
      char *err, size_t errlen)
{
    int     k, strict;

    for (k = 0; k < n; k++) {
	strict = k >= n - nstrict;
	if (lv[k].uid != 0 && lv[k].uid != owner) {
	    shm_seterr(err, errlen, "directory %.*s: owned by uid %u, neither "
		       "root nor uid %u (the summary's writer): refused",
		       lv[k].len, path, (unsigned) lv[k].uid,
		       (unsigned) owner);
	    errno = EACCES;
	    return SHM_UNTRUSTED;
	}
	if ((lv[k].mode & GOWRITE)
	    && (strict || lv[k].uid != 0 || !(lv[k].mode & S_ISVTX))) {
	    shm_seterr(err, errlen, "directory %.*s: writable by group or "
		       "others (mode %04o)%s: refused", lv[k].len, path,
		       (unsigned) (lv[k].mode & 07777), strict ? ""
		       : " and not a root-owned sticky directory");
	    errno = EACCES;
	    return SHM_UNTRUSTED;
	}
    }
    return SHM_OK;
}

SHM_ERR
shm_dir_open(const char *path, long want_uid, int *dirfd, uid_t *owner,
	     const char **name, char *err, size_t errlen)
{
    LEVEL   lv[DEPTH];
    char    msg[256];
    const char *slash;
    SHM_ERR e;
    int     n, fd;

    if (shm_path_check(path, msg, sizeof(msg)) < 0) {
	shm_seterr(err, errlen, "summary path: %s", msg);
	errno = EINVAL;
	return SHM_IOERR;
    }
    slash = strrchr(path, '/');
    if ((e = walk(path, (int) (slash - path), lv, &n, &fd, err,
		  errlen)) != SHM_OK)
	return e;
    *owner = lv[n - 1].uid;
    if (want_uid >= 0 && *owner != (uid_t) want_uid) {
	shm_seterr(err, errlen, "directory %.*s: owned by uid %u (mode "
		   "%04o), not by us (uid %ld): refused", lv[n - 1].len, path,
		   (unsigned) *owner, (unsigned) (lv[n - 1].mode & 07777),
		   want_uid);
	e = SHM_UNTRUSTED;
    } else {
	e = trust(path, lv, n, *owner, 2, err, errlen);
    }
    if (e != SHM_OK) {
	close(fd);
	errno = EACCES;
	return e;
    }
    *dirfd = fd;
    *name = slash + 1;
    return SHM_OK;
}

/* Give the open directory dfd (path[0..len)) owner uid, group gid (-1:
 * any) and SHM_DIR_MODE: 0, or -1 and err. */
static int
dir_fix(int dfd, const char *path, int len, long uid, long gid, char *err,
	size_t errlen)
{
    struct stat st;

    if (fstat(dfd, &st) < 0 || !S_ISDIR(st.st_mode)) {
	shm_seterr(err, errlen, "%.*s: not a directory: refused", len, path);
	return -1;
    }
    if (st.st_uid != (uid_t) uid && geteuid() != 0) {
	shm_seterr(err, errlen, "summary directory %.*s: owned by uid %u, not "
		   "uid %ld, and only root can change that: refused", len,
		   path, (unsigned) st.st_uid, uid);
	return -1;
    }
    if ((st.st_uid != (uid_t) uid || (gid >= 0 && st.st_gid != (gid_t) gid))
	&& fchown(dfd, (uid_t) uid, gid >= 0 ? (gid_t) gid : (gid_t) -1) < 0) {
	shm_seterr(err, errlen, "summary directory %.*s: owned by uid %u "
		   "group %u; chown to uid %ld group %ld: %s", len, path,
		   (unsigned) st.st_uid, (unsigned) st.st_gid, uid, gid,
		   strerror(errno));
	return -1;
    }
    if ((st.st_mode & 07777) != SHM_DIR_MODE && fchmod(dfd, SHM_DIR_MODE) < 0) {
	shm_seterr(err, errlen, "summary directory %.*s: mode %04o; chmod "
		   "%04o: %s", len, path, (unsigned) (st.st_mode & 07777),
		   SHM_DIR_MODE, strerror(errno));
	return -1;
    }
    return 0;
}

int
shm_dir_prepare(const char *path, long uid, long gid, char *err,
		size_t errlen)
{
    LEVEL   lv[DEPTH];
    char    msg[256], name[SHM_PATH_MAX + 1];
    int     dirlen, plen, n, pfd, dfd, rc, e;

    if (shm_path_check(path, msg, sizeof(msg)) < 0) {
	shm_seterr(err, errlen, "summary path: %s", msg);
	return -1;
    }
    dirlen = (int) (strrchr(path, '/') - path);
    if (dirlen == 0) {
	shm_seterr(err, errlen, "summary path %s: the summary needs a "
		   "directory of its own, such as /run/qshape-milter", path);
	return -1;
    }
    for (plen = dirlen - 1; path[plen] != '/'; plen--)
	 /* void */ ;
    if (walk(path, plen, lv, &n, &pfd, err, errlen) != SHM_OK)
	return -1;
    if (trust(path, lv, n, (uid_t) uid, 1, err, errlen) != SHM_OK) {
	close(pfd);
	return -1;
    }
    memcpy(name, path + plen + 1, (size_t) (dirlen - plen - 1));
    name[dirlen - plen - 1] = 0;
    if (mkdirat(pfd, name, SHM_DIR_MODE) < 0 && errno != EEXIST) {
	shm_seterr(err, errlen, "mkdir %.*s: %s", dirlen, path,
		   strerror(errno));
	close(pfd);
	return -1;
    }
    dfd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    e = errno;
    close(pfd);
    if (dfd < 0) {
	shm_seterr(err, errlen, "%.*s: %s%s", dirlen, path, strerror(e),
		   e == ELOOP || e == ENOTDIR ? " (a symbolic link or not a "
		   "directory): refused" : "");
	return -1;
    }
    rc = dir_fix(dfd, path, dirlen, uid, gid, err, errlen);
    close(dfd);
    return rc;
}

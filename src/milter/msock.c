/*
 * msock - the milter's listening side at start-up.  See msock.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msock.h"

long
msock_raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
	return -1;
    if (rl.rlim_cur != rl.rlim_max) {
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
	    return -1;
    }
    return rl.rlim_cur == RLIM_INFINITY ? -1 : (long) rl.rlim_cur;
}

const char *
msock_unix_path(const char *s)
{
    if (strncmp(s, "unix:", 5) == 0)
	return s + 5;
    if (strncmp(s, "local:", 6) == 0)
	return s + 6;
    return 0;
}

int
msock_check_dir(const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    char    dir[4096];
    struct stat st;

    if (slash == 0 || (size_t) (slash - path) + 2 > sizeof(dir)) {
	snprintf(err, errlen, "milter.socket %s: not an absolute path", path);
	return -1;
    }
    snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int) (slash
								  - path),
	     path);
    if (stat(dir, &st) < 0) {
	snprintf(err, errlen, "milter.socket directory %s: %s", dir,
		 strerror(errno));
	return -1;
    }
    if (st.st_uid != 0 && st.st_uid != geteuid()) {
	snprintf(err, errlen, "milter.socket directory %s belongs to uid "
		 "%ld, neither root nor us: another account could replace "
		 "the socket", dir, (long) st.st_uid);
	return -1;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
	snprintf(err, errlen, "milter.socket directory %s is writable by "
		 "group or others (mode %04o): another account could replace "
		 "the socket", dir, (unsigned) (st.st_mode & 07777));
	return -1;
    }
    return 0;
}

mode_t
msock_umask(long mode)
{
    return (mode_t) (~mode & 0777);
}

/*
 * pidfile - a daemon's pid file, created safely and held locked for the
 * process's life, so that a second instance refuses to start.
 *
 * pidfile_create() opens the directory of path and refuses it unless it
 * is owned by root, by us or by the account we will run as (run_uid; -1
 * when none other), and writable by its owner only: in such a directory
 * nobody else can plant or swap a name.  The file itself is opened with
 * O_NOFOLLOW (a symbolic link at path is refused, never followed), must
 * be a regular file with one link, is locked with fcntl(F_SETLK) (the
 * lock lives as long as the process, and a fork does not inherit it:
 * call this after daemon()), set to mode 0644 whatever the umask, and
 * holds our pid and a newline.
 *
 * Returns a handle the caller owns, or NULL with the reason in err; errno
 * is then EEXIST when another process holds the lock (err: "... is locked
 * by pid N: already running?"), which must stop a daemon from starting,
 * and 0 for any other reason (a missing or unsafe directory, a link),
 * which a daemon may log and go on without a pid file.  pidfile_remove() unlinks the file if path still names it, and
 * frees the handle (NULL is fine); a process that exits without it leaves
 * the file, unlocked, for the next start to reuse.
 */
#ifndef QSHAPE_PIDFILE_H
#define QSHAPE_PIDFILE_H

#include <stddef.h>

typedef struct PIDFILE PIDFILE;

extern PIDFILE *pidfile_create(const char *path, long run_uid, char *err,
			       size_t errlen);
extern void pidfile_remove(PIDFILE *);

#endif

/*
 * msock - the milter's listening side at start-up: descriptors enough for
 * its sessions, and a unix socket made where nobody else can swap it.
 *
 * Sessions: libmilter (built with poll(2)) gives each Postfix connection
 * one descriptor and one thread, and closes a connection that sends
 * nothing for milter.timeout seconds.  msock_raise_nofile() raises the
 * soft RLIMIT_NOFILE to the hard limit; the milter can then hold about
 * that many sessions, less MSOCK_RESERVED_FDS for its own use (log,
 * summary, listening socket, pipes).
 *
 * A unix socket (unix:/path, local:/path): libmilter binds it by path,
 * and mode and group can only be set by path afterwards (fchmod does
 * nothing on a socket).  msock_check_dir() refuses a directory in which
 * another account could replace the socket between bind and chmod/chown:
 * it must belong to root or to us and be writable by its owner only (a
 * sticky directory such as /tmp is refused too).  msock_umask() gives
 * the umask under which bind creates the socket with its final mode, so
 * that it is never more open than milter.socket_mode.
 */
#ifndef QSHAPE_MSOCK_H
#define QSHAPE_MSOCK_H

#include <stddef.h>
#include <sys/types.h>

#define MSOCK_RESERVED_FDS 32

/* The new soft limit, or -1 (errno) when it could not be changed. */
extern long msock_raise_nofile(void);

/* The path of a unix milter.socket, or NULL for inet sockets. */
extern const char *msock_unix_path(const char *socket);

/* 0, or -1 with the reason in err (the directory of path cannot be
 * trusted, or cannot be examined). */
extern int msock_check_dir(const char *path, char *err, size_t errlen);

/* Pure: the umask that makes bind() create a socket of mode mode. */
extern mode_t msock_umask(long mode);

#endif

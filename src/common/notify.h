/*
 * notify - tell the service manager what state the daemon is in: the
 * sd_notify(3) datagram protocol, without libsystemd.  systemd
 * (Type=notify units) and start-stop-daemon --notify-await speak it: the
 * manager puts the path of a datagram socket into NOTIFY_SOCKET (an
 * absolute path, or "@name" for the abstract namespace) and waits for
 * "READY=1".
 *
 * Where the daemons call it:
 *   notify_ready()      once the service works (the milter's socket is
 *                       open, the scanner's first summary is published),
 *                       and again when a reload has ended, applied or not;
 *   notify_reloading()  when a reload begins (SIGHUP received);
 *   notify_stopping()   when shutting down begins (SIGTERM, SIGINT).
 *
 * Every call is a no-op returning 0 when NOTIFY_SOCKET is unset or empty
 * (started by hand, or by an init without the protocol).  Otherwise 0 when
 * the datagram was sent, -1 with errno when not (EINVAL: NOTIFY_SOCKET is
 * neither an absolute path nor "@name", or too long).  A daemon logs a
 * failure and goes on: readiness is advice to the manager, never a reason
 * to stop serving mail.  Nothing is allocated; each call opens and closes
 * one socket.  NOTIFY_SOCKET is left in the environment (the units say
 * NotifyAccess=main, so what a child such as postconf might send is
 * ignored).
 */
#ifndef QSHAPE_NOTIFY_H
#define QSHAPE_NOTIFY_H

#include <sys/socket.h>
#include <sys/un.h>

extern int notify_ready(void);
extern int notify_reloading(void);
extern int notify_stopping(void);

/* Send one state message (lines "NAME=value" separated by '\n'), as the
 * three above do. */
extern int notify_send(const char *state);

/*
 * Pure: the address NOTIFY_SOCKET names.  Fills *sa and *len (the length
 * to give sendto()) and returns 0, or returns -1 when env is neither '/'
 * and a path that fits in sun_path with its NUL (at most 107 bytes in
 * all), nor '@' and a name of at most sizeof(sun_path) - 1 bytes (no NUL
 * in the abstract namespace), or is "/" or "@" alone.  No errno, no I/O.
 */
extern int notify_addr(const char *env, struct sockaddr_un *sa,
		       socklen_t *len);

#endif

/*
 * milsock - is a string a socket libmilter can listen on (smfi_setconn)?
 * A pure check for milter.socket at load time (conf.c), with messages
 * that name the usual mistakes (Postfix's inet:HOST:PORT order, a missing
 * @HOST, a relative unix: path).  No name is resolved.
 *
 * The prefix stays qc_ (it was part of conf).  Nothing is allocated; the
 * reason goes to the caller's buffer.
 */
#ifndef QSHAPE_MILSOCK_H
#define QSHAPE_MILSOCK_H

#include <stddef.h>

/* A libmilter socket: inet:PORT@HOST, inet6:PORT@HOST, unix:/path,
 * local:/path.  0, or -1 with a reason. */
extern int qc_socket_valid(const char *, char *err, size_t errlen);

#endif

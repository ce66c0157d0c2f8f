/*
 * lsock - TCP_NODELAY on libmilter's listening socket.
 *
 * Why.  For a held message the milter answers end-of-message with two
 * replies, SMFIR_QUARANTINE and then SMFIR_ACCEPT (or CONTINUE), which
 * libmilter writes to the socket one after the other.  On a TCP socket
 * with Nagle's algorithm the second small write waits until the first is
 * acknowledged, and Postfix, which reads the first and waits for the
 * second, acknowledges it only when its delayed-ACK timer fires: about
 * 40 ms on Linux loopback (measured: 87 ms per held message, against
 * 1.2-1.8 ms for an accepted one and for a hold over a unix socket).
 *
 * How.  libmilter 8.17 has no socket hook: it accepts connections on the
 * descriptor smfi_opensocket() opened, and sets only SO_KEEPALIVE on them.
 * But Linux copies TCP_NODELAY from a listening socket to every socket
 * accept() returns (a child socket is a clone of its listener; checked by
 * tests/e2e/test_hold.sh through its timings).  So after smfi_opensocket()
 * and before smfi_main(), ls_nodelay() finds the listening TCP sockets
 * among our descriptors (SO_ACCEPTCONN, SOCK_STREAM, AF_INET or AF_INET6;
 * at that point libmilter's is the only one) and sets TCP_NODELAY on
 * them.  libmilter never reopens its listening socket while running (an
 * accept() or select() that keeps failing ends smfi_main()), so the
 * option holds for the life of the process.  A unix socket has no Nagle
 * algorithm and needs nothing.
 *
 * Returns the number of sockets set (0: none found), or -1 with errno
 * when setting one failed.
 */
#ifndef QSHAPE_LSOCK_H
#define QSHAPE_LSOCK_H

extern int ls_nodelay(void);

#endif

/*
 * msig - the milter's signals, taken from libmilter.
 *
 * libmilter's smfi_main() blocks SIGHUP, SIGTERM and SIGINT and starts a
 * thread that sigwait()s for them and stops the milter on any of the
 * three, SIGHUP included (exit 0, no log line).  So smfi_main() runs in a
 * thread of ours created with the three blocked (libmilter's threads
 * inherit that mask), and the main thread, the thread group leader, keeps
 * them unblocked with a handler.  The kernel offers a process-directed
 * signal to the leader first whenever the leader can take it, so
 * libmilter's sigwait() never sees one: a second SIGHUP that arrives
 * while the first is still pending is merged into it (standard signals do
 * not queue), and the handler runs with SA_NODEFER, so that the leader
 * does not block the signal while it handles the one before (it would
 * then go to libmilter's thread: seen in 1 of 300 bursts without it).  The handler only writes the signal's number to a pipe; the
 * main thread reads it with msig_wait() and acts off the request path.
 *
 * SIGUSR1, SIGUSR2 and SIGPIPE are ignored: only SIGTERM and SIGINT stop
 * the milter.
 */
#ifndef QSHAPE_MSIG_H
#define QSHAPE_MSIG_H

#include <pthread.h>

/* Install the handlers (SA_RESTART) in the main thread; 0 or -1 errno. */
extern int msig_init(void);

/* Create a thread with SIGHUP, SIGTERM and SIGINT blocked; the calling
 * thread's mask is left as it was.  0 or an errno value. */
extern int msig_thread(pthread_t *, void *(*fn) (void *), void *arg);

/* Wait for the next signal's number, or 0 for msig_post_end(). */
extern int msig_wait(void);

/* From another thread: wake msig_wait() with 0 (libmilter has ended). */
extern void msig_post_end(void);

#endif

/*
 * msig - the milter's signals.  See msig.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "msig.h"

static int msig_pipe[2] = {-1, -1};

static void
handler(int sig)
{
    int     saved = errno;
    unsigned char c = (unsigned char) sig;
    ssize_t n = write(msig_pipe[1], &c, 1);	/* full: merged, as signals */

    (void) n;
    errno = saved;
}

int
msig_init(void)
{
    static const int caught[] = {SIGHUP, SIGTERM, SIGINT};
    static const int ignored[] = {SIGUSR1, SIGUSR2, SIGPIPE};
    struct sigaction sa;
    sigset_t set;
    size_t  i;

    if (pipe2(msig_pipe, O_CLOEXEC) < 0
	|| fcntl(msig_pipe[1], F_SETFL, O_NONBLOCK) < 0)
	return -1;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sigemptyset(&set);
    /* SA_NODEFER: while the handler runs the leader must still take the
     * next signal, or the kernel hands it to libmilter's thread. */
    sa.sa_flags = SA_RESTART | SA_NODEFER;
    sa.sa_handler = handler;
    for (i = 0; i < sizeof(caught) / sizeof(caught[0]); i++) {
	sigaddset(&set, caught[i]);
	if (sigaction(caught[i], &sa, 0) < 0)
	    return -1;
    }
    sa.sa_handler = SIG_IGN;
    for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
	if (sigaction(ignored[i], &sa, 0) < 0)
	    return -1;
    return (errno = pthread_sigmask(SIG_UNBLOCK, &set, 0)) ? -1 : 0;
}

int
msig_thread(pthread_t *tid, void *(*fn) (void *), void *arg)
{
    sigset_t set, old;
    int     rc;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if ((rc = pthread_sigmask(SIG_BLOCK, &set, &old)) != 0)
	return rc;
    rc = pthread_create(tid, 0, fn, arg);
    (void) pthread_sigmask(SIG_SETMASK, &old, 0);
    return rc;
}

int
msig_wait(void)
{
    unsigned char c;
    ssize_t n;

    while ((n = read(msig_pipe[0], &c, 1)) != 1)
	if (n == 0 || (errno != EINTR && errno != EAGAIN))
	    return 0;
    return c;
}

void
msig_post_end(void)
{
    unsigned char c = 0;

    while (write(msig_pipe[1], &c, 1) < 0 && errno == EAGAIN)
	usleep(1000);
}

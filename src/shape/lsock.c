/*
 * lsock - TCP_NODELAY on libmilter's listening socket.  See lsock.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "lsock.h"

/* Is fd a listening TCP socket? */
static int
tcp_listener(int fd)
{
    int     v;
    socklen_t n = sizeof(v);

    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &n) < 0 || !v)
	return 0;
    n = sizeof(v);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &n) < 0 || v != SOCK_STREAM)
	return 0;
    n = sizeof(v);
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &n) < 0)
	return 0;
    return v == AF_INET || v == AF_INET6;
}

int
ls_nodelay(void)
{
    struct rlimit rl;
    int     fd, max, n = 0, one = 1;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY
	|| rl.rlim_cur > 65536)
	max = 65536;
    else
	max = (int) rl.rlim_cur;
    for (fd = 0; fd < max; fd++) {
	if (!tcp_listener(fd))
	    continue;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
	    return -1;
	n++;
    }
    return n;
}

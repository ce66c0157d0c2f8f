/*
 * notify - the sd_notify(3) protocol without libsystemd.  See notify.h.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "notify.h"

int
notify_addr(const char *env, struct sockaddr_un *sa, socklen_t *len)
{
    size_t  n = env ? strlen(env) : 0;

    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (n < 2 || (env[0] != '/' && env[0] != '@'))
	return -1;
    if (env[0] == '/') {
	/* A path needs its NUL inside sun_path. */
	if (n >= sizeof(sa->sun_path))
	    return -1;
	memcpy(sa->sun_path, env, n + 1);
	*len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + 1);
    } else {
	/* Abstract: a leading NUL, then the name; no terminating NUL. */
	if (n > sizeof(sa->sun_path))
	    return -1;
	memcpy(sa->sun_path + 1, env + 1, n - 1);
	*len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n);
    }
    return 0;
}

int
notify_send(const char *state)
{
    const char *env = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa;
    socklen_t len;
    ssize_t sent;
    int     fd, saved;

    if (env == 0 || *env == 0)
	return 0;
    if (notify_addr(env, &sa, &len) < 0) {
	errno = EINVAL;
	return -1;
    }
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
	return -1;
    sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		  (struct sockaddr *) &sa, len);
    saved = errno;
    close(fd);
    if (sent < 0) {
	errno = saved;
	return -1;
    }
    return 0;
}

int
notify_ready(void)
{
    return notify_send("READY=1");
}

/* systemd 253's Type=notify-reload wants the time the reload began, on
 * CLOCK_MONOTONIC; older managers ignore the extra line. */
int
notify_reloading(void)
{
    struct timespec ts;
    char    buf[64];

    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
	     (unsigned long long) ts.tv_sec * 1000000ULL
	     + (unsigned long long) ts.tv_nsec / 1000ULL);
    return notify_send(buf);
}

int
notify_stopping(void)
{
    return notify_send("STOPPING=1");
}

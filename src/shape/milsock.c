/*
 * milsock - libmilter socket specifications.  See milsock.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ascii.h"
#include "milsock.h"

/* A host name or an address of the family. */
static int
host_valid(const char *h, int family)
{
    unsigned char buf[16];
    const char *p;

    if (inet_pton(family, h, buf) == 1)
	return 1;
    if (*h == 0 || *h == '-' || *h == '.' || strlen(h) > 253)
	return 0;
    for (p = h; *p; p++)
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
	      || ascii_is_digit(*p) || *p == '-' || *p == '.'))
	    return 0;
    /* All digits and dots is a mistyped address, not a name. */
    return strspn(h, "0123456789.") != strlen(h);
}

int
qc_socket_valid(const char *s, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    const char *p, *at;
    long    port;
    int     family;

    if (ascii_has_ctl(s)) {
	snprintf(err, errlen, "socket contains a control character");
	return -1;
    }
    if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0) {
	p = strchr(s, ':') + 1;
	if (*p != '/') {
	    snprintf(err, errlen, "\"%.200s\": the socket path must be "
		     "absolute", s);
	    return -1;
	}
	if (strlen(p) >= sizeof(sun.sun_path)) {
	    snprintf(err, errlen, "the socket path is longer than %zu bytes",
		     sizeof(sun.sun_path) - 1);
	    return -1;
	}
	return 0;
    }
    if (strncmp(s, "inet:", 5) == 0) {
	family = AF_INET;
	p = s + 5;
    } else if (strncmp(s, "inet6:", 6) == 0) {
	family = AF_INET6;
	p = s + 6;
    } else {
	snprintf(err, errlen, "\"%.200s\" is not a milter socket: write "
		 "inet:PORT@HOST, inet6:PORT@HOST or unix:/path", s);
	return -1;
    }
    if ((at = strchr(p, '@')) == 0) {
	if (strchr(p, ':'))
	    snprintf(err, errlen, "\"%.200s\": libmilter wants inet:PORT@HOST, "
		     "not Postfix's inet:HOST:PORT", s);
	else
	    snprintf(err, errlen, "\"%.200s\": missing @HOST (for every "
		     "address write @0.0.0.0 or @::)", s);
	return -1;
    }
    for (port = 0; p < at && ascii_is_digit(*p) && port <= 65535; p++)
	port = port * 10 + (*p - '0');
    if (p != at || port < 1 || port > 65535) {
	snprintf(err, errlen, "\"%.200s\": the port must be a number "
		 "1..65535", s);
	return -1;
    }
    if (!host_valid(at + 1, family)) {
	snprintf(err, errlen, "\"%.200s\": \"%.100s\" is not an %s address "
		 "or a host name", s, at + 1, family == AF_INET ? "IPv4"
		 : "IPv6");
	return -1;
    }
    return 0;
}

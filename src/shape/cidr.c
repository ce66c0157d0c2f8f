/*
 * cidr - client networks.  See cidr.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ascii.h"
#include "cidr.h"

/* ::ffff:0:0/96, the IPv4-mapped addresses (RFC 4291 2.5.5.2). */
static const unsigned char mapped[12] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

int
qc_net_parse(const char *s, QC_NET *net, char *err, size_t errlen)
{
    char    addr[INET6_ADDRSTRLEN + 1], shown[INET6_ADDRSTRLEN];
    const char *slash = strchr(s, '/'), *p;
    size_t  n = slash ? (size_t) (slash - s) : strlen(s);
    int     max, prefix, i, bad = 0;

    memset(net, 0, sizeof(*net));
    if (n == 0 || n >= sizeof(addr) || ascii_has_space_or_ctl(s)) {
	snprintf(err, errlen, "\"%.60s\" is not a network (192.0.2.0/24, "
		 "2001:db8::/32)", ascii_has_ctl(s) ? "?" : s);
	return -1;
    }
    memcpy(addr, s, n);
    addr[n] = 0;
    net->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    max = net->family == AF_INET ? 32 : 128;
    if (inet_pton(net->family, addr, net->addr) != 1) {
	snprintf(err, errlen, "\"%.60s\" is not an %s address", addr,
		 net->family == AF_INET ? "IPv4 or IPv6" : "IPv6");
	return -1;
    }
    prefix = max;
    if (slash) {
	for (prefix = 0, p = slash + 1; ascii_is_digit(*p) && p < slash + 4; p++)
	    prefix = prefix * 10 + (*p - '0');
	if (p == slash + 1 || *p || prefix > max) {
	    snprintf(err, errlen, "\"%.60s\": the prefix length must be "
		     "0..%d", s, max);
	    return -1;
	}
    }
    net->prefix = prefix;
    for (i = 0; i < max / 8; i++) {
	int     keep = prefix - i * 8;
	unsigned char mask = keep >= 8 ? 0xff : keep <= 0 ? 0
	    : (unsigned char) (0xff << (8 - keep));

	if (net->addr[i] & ~mask) {
	    bad = 1;
	    net->addr[i] &= mask;
	}
    }
    if (bad) {
	inet_ntop(net->family, net->addr, shown, sizeof(shown));
	snprintf(err, errlen, "\"%.60s\" has host bits set (the network is "
		 "%s/%d)", s, shown, prefix);
	return -1;
    }
    /* Inside ::ffff:0:0/96: the IPv4 network it maps (see cidr.h). */
    if (net->family == AF_INET6 && prefix >= 96
	&& memcmp(net->addr, mapped, sizeof(mapped)) == 0) {
	net->family = AF_INET;
	net->prefix = prefix - 96;
	memmove(net->addr, net->addr + 12, 4);
	memset(net->addr + 4, 0, 12);
    }
    return 0;
}

int
qc_net_match(const QC_NET *net, int family, const void *addr)
{
    const unsigned char *a = addr;
    int     i, bits = net->prefix;

    if (family == AF_INET6 && net->family == AF_INET
	&& memcmp(a, mapped, sizeof(mapped)) == 0) {
	a += 12;
	family = AF_INET;
    }
    if (family != net->family)
	return 0;
    for (i = 0; bits > 0; i++, bits -= 8) {
	unsigned char mask = bits >= 8 ? 0xff
	    : (unsigned char) (0xff << (8 - bits));

	if ((a[i] & mask) != net->addr[i])
	    return 0;
    }
    return 1;
}

/*
 * cidr - client networks: parsed from "192.0.2.0/24" or "2001:db8::/32"
 * (exempt.networks, at load time) and matched against a client address
 * (the milter, qshapectl explain).  Pure functions over the caller's
 * QC_NET; nothing is allocated.
 *
 * One form per network.  Postfix hands the milter an IPv4 client as an
 * AF_INET address, so an IPv4-mapped IPv6 network (::ffff:192.0.2.0/120)
 * would never match one.  qc_net_parse() therefore stores a network that
 * lies inside ::ffff:0:0/96 as the IPv4 network it maps (192.0.2.0/24),
 * and qc_net_match() compares an IPv4-mapped client address (should one
 * come) as the IPv4 address it maps.  An IPv6 network shorter than /96
 * that contains the mapped range (::/0) matches IPv6 clients only.
 *
 * The prefix stays qc_ (it was part of conf) so that callers need not
 * change.
 */
#ifndef QSHAPE_CIDR_H
#define QSHAPE_CIDR_H

#include <stddef.h>

/* A client network.  Host bits beyond the prefix are zero; never an
 * IPv4-mapped IPv6 network (see above). */
typedef struct QC_NET {
    int     family;			/* AF_INET or AF_INET6 */
    int     prefix;			/* 0..32 or 0..128 */
    unsigned char addr[16];		/* network order; 4 bytes for v4 */
} QC_NET;

/* "192.0.2.0/24", "2001:db8::/32", or an address (a /32 or /128); an
 * IPv4-mapped network is stored as IPv4.  0, or -1 with a reason. */
extern int qc_net_parse(const char *, QC_NET *, char *err, size_t errlen);

/* Is addr (4 bytes for AF_INET, 16 for AF_INET6) in net?  An IPv4-mapped
 * IPv6 address (::ffff:192.0.2.1) matches IPv4 networks. */
extern int qc_net_match(const QC_NET *, int family, const void *addr);

#endif

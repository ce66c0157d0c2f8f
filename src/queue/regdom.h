/*
 * regdom - the parent-domain keys of a sender domain, bounded by the
 * registrable domain (Public Suffix List, libpsl).
 *
 * A parent_domain policy must never throttle everybody under a public
 * suffix: "co.uk", "github.io" or "com" is never a key.  The parents of a
 * domain key are qshape's chain (addr_qshape_parent_at()), cut where it
 * would go above the registrable domain: a.mail.shop.co.uk has
 * .mail.shop.co.uk and .shop.co.uk; shop.co.uk, example.com and co.uk
 * have none.  Both sections of the list count (ICANN and private: a
 * github.io user is not every github.io user).  A domain the list does not
 * know ends at its last label, as qshape's chain does (a.b.internal has
 * .b.internal).  qshape's own chain stays for display (scan -p, shape -p).
 *
 * Only names that can be DNS names get parents: 1..RD_NAME_MAX bytes, no
 * NUL.  A longer sender domain keeps its sender_domain key but has no
 * parent keys.  A deeper chain keeps its RD_PARENTS_MAX most general
 * parents, those nearest the registrable domain, which catch the most
 * subdomains (l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.example.com has ten; the
 * closest two, .l2... and .l3..., are dropped).  Both bound the work and
 * memory per domain (RD_PARENTS_MAX keys of at most RD_NAME_MAX bytes),
 * whatever a sender puts in its domain.
 *
 * The list is libpsl's built-in copy (psl_builtin()), compiled into the
 * library: fixed for one libpsl build, read from no file, so the scanner,
 * every milter process and qshapectl explain compute the same parents
 * whenever each of them started.  (psl_latest() would read
 * /usr/share/publicsuffix, which a package upgrade can change between the
 * start of two processes.)  The list changes only with a libpsl upgrade;
 * a running process keeps the library it started with, so the daemons are
 * restarted together after one.  Without built-in data no domain has
 * parent keys.  rd_list_info() names the data for the logs.
 *
 * The scanner's index, the milter's lookups (verdict.c) and qshapectl
 * explain all call rd_parents().  rd_parents() and rd_is_public_suffix()
 * are pure and thread-safe: no allocation, no I/O (the built-in list is
 * constant data).
 */
#ifndef QSHAPE_REGDOM_H
#define QSHAPE_REGDOM_H

#include <stddef.h>
#include <stdint.h>

#define RD_NAME_MAX	255		/* bytes of a domain that has parents */
#define RD_PARENTS_MAX	8		/* parent keys of one domain */

/*
 * The parent keys of domain key d[0..len), closest first: parent i is
 * d[off[i]..len), which starts with '.'.  Returns how many (0 when d is a
 * public suffix, a registrable domain, too long, or holds a NUL).
 */
extern size_t rd_parents(const char *d, size_t len,
			 uint16_t off[RD_PARENTS_MAX]);

/* Is d[0..len) itself a public suffix?  (0 for names rd_parents()
 * refuses.) */
extern int rd_is_public_suffix(const char *d, size_t len);

/* "libpsl 0.21.2, built-in list of 2023-02-09 (sha1 16fe...)" or a note
 * that there is none: static storage. */
extern const char *rd_list_info(void);

#endif

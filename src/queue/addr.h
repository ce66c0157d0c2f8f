/*
 * addr - address and domain normalisation, shared by every program so that
 * the scanner, the milter and qshapectl compute the same keys.
 *
 * addr_qshape_domain() is qshape(1)'s sender/recipient domain, byte for
 * byte: lower case (ASCII), the empty address becomes MAILER-DAEMON, text
 * through the last '@' is removed, ".." becomes "." (one pass), and one
 * leading and one trailing dot are stripped.  Perl's regular-expression
 * semantics are kept, including '.' not matching a newline, so that even a
 * hostile address gets the key qshape would give it.
 *
 * addr_qshape_parent() is qshape's parent-domain step ("a.b.example.com" ->
 * ".b.example.com" -> ".example.com"; top-level domains are never reached).
 * It is for qshape's display (scan -p, shape -p).  A parent is always a
 * suffix of the key that starts at a '.', so addr_qshape_parent_at() gives
 * it as an offset instead.  The parent keys the policies use stop earlier,
 * at the registrable domain: see regdom.h.
 *
 * addr_sender_key() is the key of a sender address for the policies.
 *
 * Neither allocates; the caller provides the output buffer.
 */
#ifndef QSHAPE_ADDR_H
#define QSHAPE_ADDR_H

#include <stddef.h>

/* Bytes an output buffer needs for an input of 'len' bytes. */
#define ADDR_DOMAIN_BUFSIZE(len)	((len) + sizeof("MAILER-DAEMON"))

/* Write the domain of addr[0..len) to out (NUL-terminated); return its
 * length.  out must hold ADDR_DOMAIN_BUFSIZE(len) bytes. */
extern size_t addr_qshape_domain(const char *addr, size_t len, char *out);

/* When key[0..len) has a parent, write it to out (NUL-terminated, at most
 * len bytes plus the terminator) and return its length; else return 0.
 * out may equal key. */
extern size_t addr_qshape_parent(const char *key, size_t len, char *out);

/* The offset in key[0..len) where its qshape parent starts (a '.'), or 0
 * when it has none. */
extern size_t addr_qshape_parent_at(const char *key, size_t len);

/* The sender-address key: ASCII lower case; the null sender is
 * MAILER-DAEMON.  out must hold ADDR_DOMAIN_BUFSIZE(len) bytes. */
extern size_t addr_sender_key(const char *addr, size_t len, char *out);

#endif

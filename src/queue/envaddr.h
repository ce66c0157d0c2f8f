/*
 * envaddr - the envelope sender as Postfix writes it into the queue file,
 * from the address an SMTP client typed.
 *
 * The scanner keys on the queue file's S record (addr.h).  The milter sees
 * MAIL FROM's argument as the client typed it (argv[0] of envfrom):
 * quoted local parts, escapes, source routes and a trailing dot on the
 * domain all reach it unchanged, while Postfix records the address in its
 * internal form.  envaddr_internal() repeats Postfix 3.7's conversion so
 * both programs compute one key:
 *
 *  1. smtpd extract_addr(): one pair of enclosing "<>" is removed; text
 *     starting with '@' loses everything through the first ':' (source
 *     route); the rest is tokenized as tok822_scan() does (white space
 *     separates tokens, "(comments)" are dropped, a quoted string gives
 *     its contents, '\' quotes the next byte inside atoms, quoted strings
 *     and domain literals, [literals] keep their brackets, unterminated
 *     ones end at the end) and the tokens are concatenated
 *     (tok822_internalize());
 *  2. cleanup's canonical rewrite in trivial-rewrite (rewrite_tree(),
 *     between quote_822_local() and unquote_822_local()): a source route
 *     left over ("@a:@b:x@y") is removed once more; "@" alone becomes the
 *     null sender; an address without '@' whose local part is a
 *     dot-string has "a!b" swapped to "b@a" (swap_bangpath) or its last
 *     '%' made '@' (allow_percent_hack), both Postfix's defaults; a
 *     trailing dot after the domain is removed, unless it follows a dot
 *     or the '@'.
 *
 * Why not the {mail_addr} macro: smtpd computes it through the resolver
 * (trivial-rewrite resolve_addr(): local domains, myhostname appended,
 * quotes cracked open), which is not what the queue file holds.
 *
 * Not modelled (the output is flagged, and the key is then what the
 * client typed, converted as far as above): what depends on main.cf
 * (myorigin appended to an unqualified address in the "local" rewrite
 * context, append_dot_mydomain, swap_bangpath or allow_percent_hack set
 * to no, canonical maps, masquerading) and forms Postfix does not accept
 * as one address (several addresses, "<" or ">" inside, phrases).  Case is
 * kept: addr_sender_key() and addr_qshape_domain() lower it.
 *
 * Pure: no allocation, no I/O, no errno.  The input ends at len or at its
 * first NUL byte, whichever comes first; nothing beyond is read.  The
 * output is at most one byte longer than the input (an unterminated
 * domain literal gets its ']', as in Postfix).
 */
#ifndef QSHAPE_ENVADDR_H
#define QSHAPE_ENVADDR_H

#include <stddef.h>

/* Bytes an output buffer needs for an input of 'len' bytes. */
#define ENVADDR_BUFSIZE(len)	((len) + 2)

/* Flags: what the conversion met (for logs and tests). */
#define ENVADDR_ROUTE		(1 << 0)	/* a source route was removed */
#define ENVADDR_QUOTED		(1 << 1)	/* quotes or escapes removed */
#define ENVADDR_TRAILING_DOT	(1 << 2)	/* the domain's final dot */
#define ENVADDR_REWRITTEN	(1 << 3)	/* bang path or percent hack */
#define ENVADDR_UNQUALIFIED	(1 << 4)	/* no domain: Postfix may add one */
#define ENVADDR_UNMODELLED	(1 << 5)	/* see above: best effort */

/*
 * Write the internal form of in[0..len) to out (NUL-terminated) and
 * return its length; *flags (may be NULL) gets ENVADDR_* bits.  out must
 * hold ENVADDR_BUFSIZE(len) bytes and may not overlap in.
 */
extern size_t envaddr_internal(const char *in, size_t len, char *out,
			       int *flags);

#endif

/*
 * addr - address and domain normalisation.  See addr.h.
 *
 * Each step below names the Perl statement of qshape(1) it reproduces.
 * Without /s, '.' in a Perl pattern does not match "\n", and '$' matches at
 * the end of the string or before a final "\n".
 */
#include <string.h>

#include "addr.h"

/* Perl's lc() on a byte string: ASCII only. */
static void
lower_copy(const char *in, size_t len, char *out)
{
    size_t  i;

    for (i = 0; i < len; i++) {
	unsigned char c = (unsigned char) in[i];

	out[i] = (c >= 'A' && c <= 'Z') ? (char) (c + 'a' - 'A') : (char) c;
    }
}

/* $a =~ s/.*\@//: remove from the start of the first line holding an '@'
 * through the last '@' of that line. */
static size_t
strip_local_part(char *s, size_t n)
{
    size_t  a = 0;
    size_t  b;
    const char *at;

    while (a < n) {
	const char *nl = memchr(s + a, '\n', n - a);

	b = nl ? (size_t) (nl - s) : n;
	if ((at = memrchr(s + a, '@', b - a)) != 0) {
	    size_t  k = (size_t) (at - s) + 1;

	    memmove(s + a, s + k, n - k);
	    return n - (k - a);
	}
	a = b + 1;
    }
    return n;
}

/* $a =~ s/\.\././g: one left-to-right pass over non-overlapping "..". */
static size_t
collapse_dots(char *s, size_t n)
{
    size_t  i, o;

    for (i = o = 0; i < n; o++) {
	if (s[i] == '.' && i + 1 < n && s[i + 1] == '.') {
	    s[o] = '.';
	    i += 2;
	} else {
	    s[o] = s[i++];
	}
    }
    return o;
}

/* Where '$' may match: the end, or before a final newline. */
static int
at_end(const char *s, size_t n, size_t r)
{
    return r == n || (r + 1 == n && s[r] == '\n');
}

/*
 * $a =~ s/\.?(.+?)\.?$/$1/.  For each start p (leftmost first), with the
 * optional dot taken first: the lazy group ends at the smallest r such that
 * an optional dot and then '$' follow, and the group may not cross a
 * newline.  Only r >= n - 2 can be followed by '$', so each start costs O(1)
 * once we know whether a newline lies between it and n - 2.
 */
static size_t
trim_dots(char *s, size_t n)
{
    size_t  p, d, q, r, lo, hi, end;
    const char *nl;
    size_t  last_nl;			/* last newline before n - 2, + 1 */

    if (n == 0)
	return 0;
    last_nl = 0;
    if (n > 2) {
	size_t  i;

	for (i = n - 2; i > 0; i--)
	    if (s[i - 1] == '\n') {
		last_nl = i;
		break;
	    }
    }
    for (p = 0; p < n; p++) {
	for (d = (s[p] == '.') ? 1 : 0;; d--) {
	    q = p + d;
	    if (q < n && q >= last_nl) {
		nl = memchr(s + q, '\n', n - q);
		hi = nl ? (size_t) (nl - s) : n;	/* r <= hi */
		lo = (n >= 2 && n - 2 > q + 1) ? n - 2 : q + 1;
		for (r = lo; r <= hi; r++) {
		    if (r < n && s[r] == '.' && at_end(s, n, r + 1))
			end = r + 1;
		    else if (at_end(s, n, r))
			end = r;
		    else
			continue;
		    /* result: s[0..p) + s[q..r) + s[end..n) */
		    memmove(s + p, s + q, r - q);
		    memmove(s + p + (r - q), s + end, n - end);
		    return p + (r - q) + (n - end);
		}
	    }
	    if (d == 0)
		break;
	}
    }
    return n;
}

size_t
addr_qshape_domain(const char *addr, size_t len, char *out)
{
    size_t  n;

    if (len == 0) {
	memcpy(out, "MAILER-DAEMON", sizeof("MAILER-DAEMON"));
	return sizeof("MAILER-DAEMON") - 1;
    }
    lower_copy(addr, len, out);
    n = strip_local_part(out, len);
    n = collapse_dots(out, n);
    n = trim_dots(out, n);
    out[n] = 0;
    return n;
}

/*
 * $a =~ s/^(?:\.)?[^.]+\.(.*\.)/.$1/: skip one leading dot, a non-empty
 * label ending at the first dot, and require another dot after it before
 * any newline.  The replacement keeps the rest: "." + text after the label,
 * which is the suffix that starts at the label's dot.
 */
size_t
addr_qshape_parent_at(const char *key, size_t len)
{
    size_t  i = (len > 0 && key[0] == '.') ? 1 : 0;
    const char *dot;
    const char *nl;
    size_t  j, m;

    if (i >= len || key[i] == '.')
	return 0;
    if ((dot = memchr(key + i, '.', len - i)) == 0)
	return 0;
    j = (size_t) (dot - key) + 1;		/* first byte after the label */
    nl = memchr(key + j, '\n', len - j);
    m = nl ? (size_t) (nl - key) : len;
    if (memchr(key + j, '.', m - j) == 0)
	return 0;
    return j - 1;
}

size_t
addr_qshape_parent(const char *key, size_t len, char *out)
{
    size_t  at = addr_qshape_parent_at(key, len);

    if (at == 0)
	return 0;
    memmove(out, key + at, len - at);
    out[len - at] = 0;
    return len - at;
}

size_t
addr_sender_key(const char *addr, size_t len, char *out)
{
    if (len == 0) {
	memcpy(out, "MAILER-DAEMON", sizeof("MAILER-DAEMON"));
	return sizeof("MAILER-DAEMON") - 1;
    }
    lower_copy(addr, len, out);
    out[len] = 0;
    return len;
}

/*
 * envaddr - the envelope sender in Postfix's internal form.  See envaddr.h.
 *
 * Each step names the Postfix 3.7 function it repeats.  The scan keeps an
 * index into the input and never looks past its end; the output grows by
 * at most one byte per token that adds a byte (only an unterminated
 * domain literal does, and there is at most one: it runs to the end).
 */
#include <string.h>

#include "envaddr.h"

/* lex_822.h: IS_SPACE_TAB_CR_LF, and tok822_opchar ("|%!" specials). */
static int
is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_op(int c)
{
    return c != 0 && strchr("|%!()<>@,;:\\\".[]", c) != 0;
}

typedef struct SCAN {
    const char *s;
    size_t  len;
    size_t  i;				/* next input byte */
    char   *out;
    size_t  n;				/* output bytes */
    int     flags;
} SCAN;

/* COLLECT(): copy up to a byte that fails 'stop' (not consumed); '\'
 * quotes the next byte; white space becomes a space. */
static void
collect(SCAN *sc, int (*stop) (int))
{
    int     c;

    while (sc->i < sc->len) {
	c = (unsigned char) sc->s[sc->i];
	if (c == '\\') {
	    if (++sc->i >= sc->len)
		break;
	    c = (unsigned char) sc->s[sc->i];
	    sc->flags |= ENVADDR_QUOTED;
	} else if (stop(c)) {
	    break;
	}
	sc->out[sc->n++] = is_space(c) ? ' ' : (char) c;
	sc->i++;
    }
}

static int
stop_atom(int c)
{
    return is_space(c) || is_op(c);
}

static int
stop_quote(int c)
{
    return c == '"';
}

static int
stop_literal(int c)
{
    return c == ']';
}

/* tok822_comment(): nested, '\' quotes; dropped from the address. */
static void
skip_comment(SCAN *sc)
{
    int     level = 1;
    int     c;

    while (sc->i < sc->len) {
	c = sc->s[sc->i++];
	if (c == '(')
	    level++;
	else if (c == ')' && --level == 0)
	    break;
	else if (c == '\\' && sc->i < sc->len)
	    sc->i++;
    }
}

/* extract_addr() + tok822_scan() + tok822_internalize(), one address. */
static void
smtpd_internalize(SCAN *sc)
{
    const char *colon;
    int     c, word, prev_word = 0;

    if (sc->len >= 2 && sc->s[0] == '<' && sc->s[sc->len - 1] == '>') {
	sc->s++;
	sc->len -= 2;
    }
    if (sc->len > 0 && sc->s[0] == '@'
	&& (colon = memchr(sc->s, ':', sc->len)) != 0) {
	sc->len -= (size_t) (colon + 1 - sc->s);
	sc->s = colon + 1;
	sc->flags |= ENVADDR_ROUTE;
    }
    while (sc->i < sc->len) {
	c = (unsigned char) sc->s[sc->i++];
	if (is_space(c))
	    continue;
	word = 1;
	if (c == '(') {
	    skip_comment(sc);
	    continue;
	} else if (c == '[') {
	    sc->out[sc->n++] = '[';
	    collect(sc, stop_literal);
	    if (sc->i < sc->len)
		sc->i++;
	    sc->out[sc->n++] = ']';
	} else if (c == '"') {
	    sc->flags |= ENVADDR_QUOTED;
	    collect(sc, stop_quote);
	    if (sc->i < sc->len)
		sc->i++;
	} else if (c != '\\' && is_op(c)) {
	    word = 0;
	    if (strchr("<>,;", c) != 0) {
		sc->flags |= ENVADDR_UNMODELLED;	/* not one plain address */
		continue;
	    }
	    sc->out[sc->n++] = (char) c;
	} else {
	    sc->i--;				/* '\' may start an atom */
	    collect(sc, stop_atom);
	}
	/* Two words in a row are two addresses to tok822_parse(). */
	if (word && prev_word)
	    sc->flags |= ENVADDR_UNMODELLED;
	prev_word = word;
    }
}

/* is_822_dot_string() of quote_822_local(), 8-bit clean. */
static int
dot_string(const char *s, size_t n)
{
    size_t  i;
    int     c;

    if (n == 0 || s[0] == '.' || s[n - 1] == '.')
	return 0;
    for (i = 0; i < n; i++) {
	c = (unsigned char) s[i];
	if ((c == '.' && i + 1 < n && s[i + 1] == '.') || c == ' '
	    || (c < 32 || c == 127) || strchr("()<>@,;:\\\"[]", c) != 0)
	    return 0;
    }
    return 1;
}

static void
reverse(char *s, size_t n)
{
    size_t  i;
    char    t;

    for (i = 0; i < n / 2; i++) {
	t = s[i];
	s[i] = s[n - 1 - i];
	s[n - 1 - i] = t;
    }
}

/* rewrite_tree(): without '@', "a!b" -> "b@a" or the last '%' -> '@'. */
static void
unqualified(SCAN *sc)
{
    char   *bang, *pct;
    size_t  b;

    if (!dot_string(sc->out, sc->n)) {
	sc->flags |= ENVADDR_UNQUALIFIED;
	return;
    }
    if ((bang = memchr(sc->out, '!', sc->n)) != 0) {
	/* before '!' after -> after '@' before, by three reversals. */
	b = (size_t) (bang - sc->out);
	reverse(sc->out, sc->n);
	reverse(sc->out, sc->n - b - 1);
	reverse(sc->out + sc->n - b, b);
	sc->out[sc->n - b - 1] = '@';
	sc->flags |= ENVADDR_REWRITTEN;
    } else if ((pct = memrchr(sc->out, '%', sc->n)) != 0) {
	*pct = '@';
	sc->flags |= ENVADDR_REWRITTEN;
    } else {
	sc->flags |= ENVADDR_UNQUALIFIED;
    }
}

/* cleanup's canonical rewrite: rewrite_tree() on the quoted form. */
static void
cleanup_rewrite(SCAN *sc)
{
    char   *colon, *at;
    size_t  k, d;

    if (sc->n == 0)
	return;
    if (sc->out[0] == '@' && (colon = memchr(sc->out, ':', sc->n)) != 0
	&& colon + 1 < sc->out + sc->n) {
	k = (size_t) (colon + 1 - sc->out);
	memmove(sc->out, sc->out + k, sc->n - k);
	sc->n -= k;
	sc->flags |= ENVADDR_ROUTE;
    }
    if (memchr(sc->out, '@', sc->n) == 0)
	unqualified(sc);
    if ((at = memrchr(sc->out, '@', sc->n)) == 0)
	return;
    d = (size_t) (at + 1 - sc->out);
    /* The domain is re-tokenized raw: these would change its tokens. */
    for (k = d; k < sc->n; k++)
	if (is_space(sc->out[k]) || strchr("\"(\\", sc->out[k]) != 0)
	    sc->flags |= ENVADDR_UNMODELLED;
    if (sc->n - d >= 2 && sc->out[sc->n - 1] == '.'
	&& sc->out[sc->n - 2] != '.') {
	sc->n--;
	sc->flags |= ENVADDR_TRAILING_DOT;
    }
}

size_t
envaddr_internal(const char *in, size_t len, char *out, int *flags)
{
    SCAN    sc;
    const char *nul = memchr(in, 0, len);

    sc.s = in;
    sc.len = nul ? (size_t) (nul - in) : len;
    sc.i = 0;
    sc.out = out;
    sc.n = 0;
    sc.flags = 0;
    smtpd_internalize(&sc);
    cleanup_rewrite(&sc);
    out[sc.n] = 0;
    if (flags)
	*flags = sc.flags;
    return sc.n;
}

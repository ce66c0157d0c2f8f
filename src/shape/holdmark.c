/*
 * holdmark - format and parse the hold mark.  See holdmark.h.
 */
#include <stdio.h>
#include <string.h>

#include "qshape/vocab.h"
#include "holdmark.h"

#define KIND_NAME_MAX	31		/* longer than any kind name */

static const char hexdig[] = "0123456789ABCDEF";

static int
policy_ok(const char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > HM_POLICY_MAX)
	return 0;
    for (i = 0; i < len; i++) {
	unsigned char c = (unsigned char) s[i];

	if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
	      || (c >= '0' && c <= '9') || c == '_' || c == '-'))
	    return 0;
    }
    return 1;
}

/* A kind a policy may name: qs_kind_parse() knows exactly those. */
static int
kind_ok(int kind)
{
    return kind >= 0 && kind < QS_NKEYKINDS
	&& qs_kind_parse(qs_kind_name(kind)) == kind;
}

size_t
hm_key_encode(const void *key, size_t len, char *out)
{
    const unsigned char *k = key;
    size_t  i, o = 0;

    for (i = 0; i < len; i++) {
	if (k[i] > 0x20 && k[i] < 0x7f && k[i] != '%') {
	    out[o++] = (char) k[i];
	} else {
	    out[o++] = '%';
	    out[o++] = hexdig[k[i] >> 4];
	    out[o++] = hexdig[k[i] & 15];
	}
    }
    out[o] = 0;
    return o;
}

int
hm_format(char *buf, size_t buflen, const char *policy, int kind,
	  const void *key, size_t key_len, int64_t when)
{
    char    ekey[3 * HM_KEY_MAX + 1];
    int     truncated = key_len > HM_KEY_MAX;
    int     n;

    if (policy == 0 || !policy_ok(policy, strlen(policy)) || !kind_ok(kind)
	|| key == 0 || key_len == 0 || when < 0)
	return -1;
    hm_key_encode(key, truncated ? HM_KEY_MAX : key_len, ekey);
    n = snprintf(buf, buflen, "policy=%s key=%s:%s time=%lld%s", policy,
		 qs_kind_name(kind), ekey, (long long) when,
		 truncated ? " truncated=1" : "");
    return n < 0 || (size_t) n >= buflen ? -1 : n;
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
	return c - '0';
    if (c >= 'A' && c <= 'F')
	return c - 'A' + 10;
    return -1;				/* lower case is not ours */
}

HM_STATUS
hm_key_decode(const char *s, size_t len, char *out, size_t outlen,
	      size_t *out_len)
{
    size_t  i, o = 0;
    int     hi, lo;

    for (i = 0; i < len; i++) {
	unsigned char c = (unsigned char) s[i];

	if (o + 1 >= outlen)
	    return HM_BAD_KEY;
	if (c == '%') {
	    if (i + 2 >= len)
		return HM_BAD_KEY;
	    if ((hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
		return HM_BAD_KEY;
	    out[o++] = (char) (hi * 16 + lo);
	    i += 2;
	} else if (c > 0x20 && c < 0x7f) {
	    out[o++] = (char) c;
	} else {
	    return HM_BAD_KEY;
	}
    }
    out[o] = 0;
    *out_len = o;
    return HM_OK;
}

/* Expect the literal lit at *s; advance past it. */
static int
expect(const char **s, const char *end, const char *lit)
{
    size_t  n = strlen(lit);

    if ((size_t) (end - *s) < n || memcmp(*s, lit, n) != 0)
	return 0;
    *s += n;
    return 1;
}

/* The span up to the next SP or the end. */
static const char *
token_end(const char *s, const char *end)
{
    while (s < end && *s != ' ')
	s++;
    return s;
}

static HM_STATUS
parse_time(const char *s, const char *e, int64_t *out)
{
    int64_t v = 0;
    const char *d;

    if (e == s || e - s > 19 || (e - s > 1 && *s == '0'))
	return HM_BAD_TIME;
    for (d = s; d < e; d++) {
	if (*d < '0' || *d > '9')
	    return HM_BAD_TIME;
	if (v > (INT64_MAX - (*d - '0')) / 10)
	    return HM_BAD_TIME;
	v = v * 10 + (*d - '0');
    }
    *out = v;
    return HM_OK;
}

/* "KIND:EKEY" in [s, e). */
static HM_STATUS
parse_key(const char *s, const char *e, HM_MARK *m)
{
    char    kname[KIND_NAME_MAX + 1];
    const char *colon = memchr(s, ':', (size_t) (e - s));

    if (colon == 0 || colon == s || colon - s > KIND_NAME_MAX)
	return HM_BAD_KIND;
    memcpy(kname, s, (size_t) (colon - s));
    kname[colon - s] = 0;
    if ((m->kind = qs_kind_parse(kname)) < 0)
	return HM_BAD_KIND;
    if (colon + 1 == e)
	return HM_BAD_KEY;
    return hm_key_decode(colon + 1, (size_t) (e - colon - 1), m->key,
			 sizeof(m->key), &m->key_len);
}

HM_STATUS
hm_parse(const char *value, size_t len, HM_MARK *m)
{
    const char *s = value, *end = value + len, *e;
    HM_STATUS st;

    memset(m, 0, sizeof(*m));
    while (s < end && (*s == ' ' || *s == '\t'))
	s++;
    if (!expect(&s, end, "policy="))
	return HM_BAD_SYNTAX;
    e = token_end(s, end);
    if (!policy_ok(s, (size_t) (e - s)))
	return HM_BAD_POLICY;
    memcpy(m->policy, s, (size_t) (e - s));
    s = e;
    if (!expect(&s, end, " key="))
	return HM_BAD_SYNTAX;
    e = token_end(s, end);
    if ((st = parse_key(s, e, m)) != HM_OK)
	return st;
    s = e;
    if (!expect(&s, end, " time="))
	return HM_BAD_SYNTAX;
    e = token_end(s, end);
    if ((st = parse_time(s, e, &m->time)) != HM_OK)
	return st;
    s = e;
    if (s < end) {
	if (!expect(&s, end, " truncated=1") || s != end)
	    return HM_BAD_SYNTAX;
	if (m->key_len != HM_KEY_MAX)
	    return HM_BAD_KEY;
	m->truncated = 1;
    }
    return HM_OK;
}

const char *
hm_strerror(HM_STATUS st)
{
    static const char *const text[HM_NSTATUS] = {
	[HM_OK] = "ok",
	[HM_BAD_SYNTAX] = "not a hold mark",
	[HM_BAD_POLICY] = "bad policy name",
	[HM_BAD_KIND] = "bad key kind",
	[HM_BAD_KEY] = "bad key",
	[HM_BAD_TIME] = "bad time",
    };

    return (unsigned) st < HM_NSTATUS ? text[st] : "unknown";
}

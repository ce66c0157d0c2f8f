/*
 * heldsel - select held messages by policy, key and age.  See heldsel.h.
 */
#include <stdio.h>
#include <string.h>

#include "qshape/vocab.h"
#include "heldsel.h"

#define DURATION_MAX	(100LL * 366 * 86400)

int
hs_filter_empty(const HS_FILTER *f)
{
    return f->policy == 0 && !f->have_key && !f->have_older_than;
}

static int
key_match(const HS_FILTER *f, const HM_MARK *m)
{
    if (f->key_kind >= 0 && f->key_kind != m->kind)
	return 0;
    if (m->truncated)
	return f->key_len >= m->key_len
	    && memcmp(f->key, m->key, m->key_len) == 0;
    return f->key_len == m->key_len && memcmp(f->key, m->key, m->key_len) == 0;
}

int
hs_select(const HS_FILTER *f, const HM_MARK *m, int64_t now)
{
    if (m == 0)
	return 0;
    if (f->policy && strcmp(f->policy, m->policy) != 0)
	return 0;
    if (f->have_key && !key_match(f, m))
	return 0;
    if (f->have_older_than
	&& (now < m->time || now - m->time <= f->older_than))
	return 0;
    return 1;
}

int
hs_parse_key(const char *arg, HS_FILTER *f, char *err, size_t errlen)
{
    const char *colon = strchr(arg, ':');
    const char *val = arg;
    char    kname[32];
    int     kind = -1;

    if (colon && (size_t) (colon - arg) < sizeof(kname)) {
	memcpy(kname, arg, (size_t) (colon - arg));
	kname[colon - arg] = 0;
	if ((kind = qs_kind_parse(kname)) >= 0)
	    val = colon + 1;
    }
    if (*val == 0) {
	snprintf(err, errlen, "--key: empty key");
	return -1;
    }
    if (hm_key_decode(val, strlen(val), f->key, sizeof(f->key),
		      &f->key_len) != HM_OK) {
	snprintf(err, errlen, "--key: bad key (write it as \"qshapectl "
		 "held\" prints it: %%HH for a space, '%%' or a control)");
	return -1;
    }
    f->have_key = 1;
    f->key_kind = kind;
    return 0;
}

int
hs_parse_duration(const char *arg, int64_t *secs, char *err, size_t errlen)
{
    static const struct {
	char    unit;
	int64_t mult;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400},
    {'w', 7 * 86400}};
    const char *s = arg;
    int64_t v = 0, mult = 1;
    size_t  i;

    if (*s < '0' || *s > '9')
	goto bad;
    for (; *s >= '0' && *s <= '9'; s++) {
	v = v * 10 + (*s - '0');
	if (v > DURATION_MAX)
	    goto bad;
    }
    if (*s) {
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
	    if (*s == units[i].unit)
		break;
	if (i == sizeof(units) / sizeof(units[0]) || s[1] != 0)
	    goto bad;
	mult = units[i].mult;
    }
    if (v > DURATION_MAX / mult)
	goto bad;
    *secs = v * mult;
    return 0;

bad:
    snprintf(err, errlen, "bad duration \"%s\" (want a number with an "
	     "optional unit s, m, h, d or w, at most 100 years)", arg);
    return -1;
}

/*
 * regdom - parent-domain keys bounded by the registrable domain.  See
 * regdom.h.
 *
 * libpsl wants a NUL-terminated name; names have at most RD_NAME_MAX bytes
 * here, so they are copied to the stack.  psl_registrable_domain() returns
 * the registrable domain as a pointer into that copy, or NULL when the
 * name is a public suffix (or has none, as ".example.com": leading dots
 * are skipped before asking).  Empty labels elsewhere are libpsl's
 * business ("r1.evil..example" has the registrable domain
 * "evil..example"): whatever it answers, every process answers the same.
 */
#include <libpsl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "regdom.h"

/* The NUL-terminated copy of a name rd_parents() accepts, or NULL. */
static const char *
name_copy(const char *d, size_t len, char buf[RD_NAME_MAX + 1])
{
    if (len == 0 || len > RD_NAME_MAX || memchr(d, 0, len) != 0)
	return 0;
    memcpy(buf, d, len);
    buf[len] = 0;
    return buf;
}

size_t
rd_parents(const char *d, size_t len, uint16_t off[RD_PARENTS_MAX])
{
    const psl_ctx_t *psl = psl_builtin();
    char    buf[RD_NAME_MAX + 1];
    uint16_t all[RD_NAME_MAX / 2];	/* each step drops a label and a dot */
    const char *name, *reg;
    size_t  at = 0, step, n = 0, reglen, skip;

    if (psl == 0 || (name = name_copy(d, len, buf)) == 0)
	return 0;
    /* qshape's chain first: most names have no parent at all, and then
     * the list (thousands of instructions a name) need not be asked. */
    while ((step = addr_qshape_parent_at(d + at, len - at)) > 0) {
	at += step;
	all[n++] = (uint16_t) at;
    }
    if (n == 0)
	return 0;
    /* libpsl finds no registrable domain in ".r1.evil.example"; qshape's
     * chain skips the leading dot, so the list is asked without it. */
    while (*name == '.')
	name++;
    if ((reg = psl_registrable_domain(psl, name)) == 0)
	return 0;
    reglen = (size_t) (buf + len - reg);
    /* Each parent is "." + a suffix; keep those that hold the whole
     * registrable domain, then the last RD_PARENTS_MAX of them. */
    while (n > 0 && len - all[n - 1] - 1 < reglen)
	n--;
    skip = n > RD_PARENTS_MAX ? n - RD_PARENTS_MAX : 0;
    memcpy(off, all + skip, (n - skip) * sizeof(*off));
    return n - skip;
}

int
rd_is_public_suffix(const char *d, size_t len)
{
    const psl_ctx_t *psl = psl_builtin();
    char    buf[RD_NAME_MAX + 1];
    const char *name;

    if (psl == 0 || (name = name_copy(d, len, buf)) == 0)
	return 0;
    return psl_is_public_suffix(psl, name) != 0;
}

const char *
rd_list_info(void)
{
    static char info[200];
    time_t  t;
    struct tm tm;
    char    date[16] = "?";
    const char *sha;

    if (psl_builtin() == 0)
	return "libpsl has no built-in Public Suffix List: no parent keys";
    t = psl_builtin_file_time();
    if (gmtime_r(&t, &tm) != 0)
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
    sha = psl_builtin_sha1sum();
    snprintf(info, sizeof(info), "libpsl %s, built-in list of %s (sha1 %.12s)",
	     psl_get_version(), date, sha ? sha : "?");
    return info;
}

/*
 * cfg_scan - cfg's own pass over the configuration text.
 * See cfg_scan.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "mem.h"
#include "cfg_int.h"
#include "cfg_scan.h"

#define CFG_MAX_INCLUDE	8		/* nesting; libconfig stops at 10 */
#define CFG_MAX_BYTES	(1 << 20)	/* all files of one configuration */

/*
 * Read at most max + 1 bytes of path (so that the caller sees a file
 * larger than max), NUL-terminated.  NULL with *err = errno if it cannot
 * be opened.
 */
static char *
slurp(const char *path, size_t max, size_t *lenp, int *err)
{
    FILE   *fp;
    char   *buf = 0;
    size_t  len = 0, cap = 0, n;

    if ((fp = fopen(path, "r")) == 0) {
	*err = errno;
	return 0;
    }
    do {
	if (cap - len < 4096)
	    buf = xrealloc(buf, cap = cap * 2 + 8192);
	n = cap - len - 1;
	if (n > max + 1 - len)
	    n = max + 1 - len;
	n = fread(buf + len, 1, n, fp);
	len += n;
    } while (n > 0 && len <= max);
    buf[len] = 0;
    *lenp = len;
    *err = ferror(fp) ? EIO : 0;
    fclose(fp);
    return buf;
}

static int
is_name_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
	|| (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*';
}

/* Lex a number at p as libconfig's flex scanner does; record integers it
 * would wrap.  Returns the end of the token. */
static const char *
scan_number(CFG_LOAD *ld, const char *file, int line, const char *p)
{
    const char *q = p, *d;
    unsigned long long u;
    long long v;
    OVF    *o;

    if (*q == '+' || *q == '-')
	q++;
    if (q == p && q[0] == '0' && (q[1] == 'x' || q[1] == 'X') && q[2]
	&& strchr("0123456789abcdefABCDEF", q[2])) {
	for (d = q + 2; *d && strchr("0123456789abcdefABCDEF", *d); d++)
	    continue;
	if (*d == 'L')
	    return d[1] == 'L' ? d + 2 : d + 1;
	errno = 0;
	u = strtoull(q, 0, 16);
	if (u <= INT_MAX && errno == 0)
	    return d;
	v = (errno || u > LLONG_MAX) ? LLONG_MAX : (long long) u;
	goto record;
    }
    for (d = q; cfg_is_digit(*d); d++)
	continue;
    if (*d == '.' || ((*d == 'e' || *d == 'E') && d > q
		      && (cfg_is_digit(d[1])
			  || ((d[1] == '-' || d[1] == '+')
			      && cfg_is_digit(d[2]))))) {
	/* A float: [-+]?[0-9]*\.[0-9]*([eE][-+]?[0-9]+)? and the like. */
	int     digits = d > q;

	if (*d == '.')
	    for (d++; cfg_is_digit(*d); d++)
		digits = 1;
	if ((*d == 'e' || *d == 'E')
	    && (cfg_is_digit(d[1]) || ((d[1] == '-' || d[1] == '+')
				       && cfg_is_digit(d[2]))))
	    for (d += 2; cfg_is_digit(*d); d++)
		continue;
	/* libconfig takes "." and "-.e5" for floats and reads 0. */
	if (!digits)
	    cfg_add_error(ld, file, line, "\"%.*s\" is not a number (no "
			  "digits)", (int) (d - p), p);
	return d;
    }
    if (d == q)
	return p + 1;
    if (*d == 'L')
	return d[1] == 'L' ? d + 2 : d + 1;
    errno = 0;
    v = strtoll(p, 0, 10);
    if (errno == 0 && v >= INT_MIN && v <= INT_MAX)
	return d;
    u = (unsigned long long) v;
  record:
    ld->ovf = xrealloc(ld->ovf, (ld->novf + 1) * sizeof(*ld->ovf));
    o = ld->ovf + ld->novf++;
    o->file = xstrdup(file);
    o->line = line;
    o->wrapped = (int) (int32_t) (uint32_t) (u & 0xffffffffu);
    o->value = v;
    o->text = xmalloc((size_t) (d - p) + 1);
    memcpy(o->text, p, (size_t) (d - p));
    o->text[d - p] = 0;
    o->used = 0;
    return d;
}

static void prescan(CFG_LOAD *, const char *file, const char *open_path,
		    int depth);

/* The file st was read before (or is being read): its record, or NULL. */
static SEEN *
seen_before(CFG_LOAD *ld, const struct stat *st)
{
    size_t  i;

    for (i = 0; i < ld->nseen; i++)
	if (ld->seen[i].dev == (unsigned long long) st->st_dev
	    && ld->seen[i].ino == (unsigned long long) st->st_ino)
	    return ld->seen + i;
    return 0;
}

static SEEN *
seen_add(CFG_LOAD *ld, const struct stat *st, const char *file, int line)
{
    SEEN   *f;

    ld->seen = xrealloc(ld->seen, (ld->nseen + 1) * sizeof(*ld->seen));
    f = ld->seen + ld->nseen++;
    f->dev = (unsigned long long) st->st_dev;
    f->ino = (unsigned long long) st->st_ino;
    f->file = file ? xstrdup(file) : 0;
    f->line = line;
    f->active = 1;
    return f;
}

/*
 * May the readable regular file st (full, included at file:line, nested
 * depth + 1 deep) be read?  Each file is read once: a cycle would never
 * end, and a file included twice, by one file or several, doubles the
 * work at each level (N includes of N includes: N^depth reads).
 * 1 if so, else 0 and an error.
 */
static int
include_ok(CFG_LOAD *ld, const char *file, int line, const char *name,
	   const char *full, const struct stat *st, int depth)
{
    char    where[CFG_PATH_MAX + 32];
    const SEEN *f = seen_before(ld, st);

    if (f && f->active) {
	cfg_add_error(ld, file, line, "@include \"%s\": %s is already being "
		      "read (an include cycle)", name, full);
    } else if (f) {
	cfg_show_file(ld, f->file, where, sizeof(where));
	cfg_add_error(ld, file, line, "@include \"%s\": %s was already "
		      "included at %s:%d (include a file once)", name, full,
		      where, f->line);
    } else if (depth + 1 > CFG_MAX_INCLUDE) {
	cfg_add_error(ld, file, line, "@include \"%s\": includes nested more "
		      "than %d deep", name, CFG_MAX_INCLUDE);
    } else if ((unsigned long long) st->st_size > CFG_MAX_BYTES - ld->bytes) {
	cfg_add_error(ld, file, line, "@include \"%s\": the configuration "
		      "and its includes exceed %d bytes", name, CFG_MAX_BYTES);
    } else {
	return 1;
    }
    return 0;
}

/* @include "name" at p (which is at the start of its line, blanks
 * skipped); returns the end of the directive, or 0 if it is none. */
static const char *
scan_include(CFG_LOAD *ld, const char *file, int line, const char *p,
	     int depth)
{
    const char *q;
    char   *name, *full;
    size_t  n = 0;
    INC    *inc;
    FILE   *fp;
    struct stat st;
    size_t  k;

    if (strncmp(p, "@include", 8) != 0 || (p[8] != ' ' && p[8] != '\t'))
	return 0;
    for (q = p + 8; *q == ' ' || *q == '\t'; q++)
	continue;
    if (*q++ != '"')
	return 0;
    name = xmalloc(strlen(q) + 1);
    for (; *q && *q != '"'; q++) {
	if (*q == '\\' && (q[1] == '\\' || q[1] == '"'))
	    q++;
	name[n++] = *q;
    }
    name[n] = 0;
    if (*q == '"')
	q++;
    ld->inc = xrealloc(ld->inc, (ld->ninc + 1) * sizeof(*ld->inc));
    inc = ld->inc + ld->ninc++;
    inc->file = xstrdup(file);
    inc->line = line;
    inc->name = name;
    inc->err = 0;
    full = xmalloc(strlen(ld->dir) + strlen(name) + 2);
    sprintf(full, "%s%s%s", ld->dir, strcmp(ld->dir, "/") ? "/" : "", name);
    /* libconfig's scanner exit()s on a file it cannot read: a directory. */
    if (stat(full, &st) < 0)
	inc->err = errno;
    else if (S_ISDIR(st.st_mode))
	inc->err = EISDIR;
    else if (!S_ISREG(st.st_mode))
	inc->err = EINVAL;
    else if ((fp = fopen(full, "r")) == 0)
	inc->err = errno;
    else
	fclose(fp);
    if (name[0] == '/' || *name == 0) {
	inc->err = inc->err ? inc->err : EINVAL;
    } else if (inc->err == 0
	       && include_ok(ld, file, line, name, full, &st, depth)) {
	k = ld->nseen;
	seen_add(ld, &st, file, line);
	prescan(ld, name, full, depth + 1);
	ld->seen[k].active = 0;		/* the array may have moved */
    }
    free(full);
    return q;
}

static void
prescan(CFG_LOAD *ld, const char *file, const char *open_path, int depth)
{
    int     line = 1, err;
    size_t  len;
    char   *buf = slurp(open_path, CFG_MAX_BYTES - ld->bytes, &len, &err);
    const char *p, *bol, *q;

    if (buf == 0)
	return;
    if (len > CFG_MAX_BYTES - ld->bytes) {
	/* Grown since it was checked, or the main file. */
	cfg_add_error(ld, depth ? file : 0, 0, "the configuration and its "
		      "includes exceed %d bytes", CFG_MAX_BYTES);
	free(buf);
	return;
    }
    ld->bytes += len;
    if ((p = memchr(buf, 0, len)) != 0) {
	/* The scan below would stop there; libconfig would not. */
	for (q = buf; q < p; q++)
	    line += *q == '\n';
	cfg_add_error(ld, file, line, "contains a NUL byte");
	free(buf);
	return;
    }
    for (p = bol = buf; *p;) {
	if (*p == '\n') {
	    line++;
	    bol = ++p;
	} else if (p[0] == '/' && p[1] == '*') {
	    for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
		if (*p == '\n')
		    line++;
	    p += *p ? 2 : 0;
	} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
	    while (*p && *p != '\n')
		p++;
	} else if (*p == '"') {
	    for (p++; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1])
		    p++;
		if (*p == '\n')
		    line++;
	    }
	    p += *p ? 1 : 0;
	} else if (*p == '@') {
	    for (q = bol; q < p && (*q == ' ' || *q == '\t'); q++)
		continue;
	    if (q == p && (q = scan_include(ld, file, line, p, depth)) != 0)
		for (; p < q; p++)	/* a name may span lines */
		    line += *p == '\n';
	    else
		p++;
	} else if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')
		   || *p == '*') {
	    while (is_name_char(*p))
		p++;
	} else if (cfg_is_digit(*p) || *p == '-' || *p == '+' || *p == '.') {
	    p = scan_number(ld, file, line, p);
	} else {
	    p++;
	}
    }
    free(buf);
}

/* The true value of an integer setting. */
long long
cfg_scan_integer(CFG_LOAD *ld, const config_setting_t *s, const char **text)
{
    int     v, best = -1;
    size_t  i;

    *text = 0;
    if (config_setting_type(s) != CONFIG_TYPE_INT)
	return config_setting_get_int64(s);
    v = config_setting_get_int(s);
    for (i = 0; i < ld->novf; i++) {
	OVF    *o = ld->ovf + i;

	if (o->used || o->wrapped != v || o->line < (int) s->line
	    || strcmp(o->file, config_setting_source_file(s)) != 0)
	    continue;
	if (best < 0 || o->line < ld->ovf[best].line)
	    best = (int) i;
    }
    if (best < 0)
	return v;
    ld->ovf[best].used = 1;
    *text = ld->ovf[best].text;
    return ld->ovf[best].value;
}

void
cfg_prescan(CFG_LOAD *ld)
{
    struct stat st;

    if (stat(ld->path, &st) == 0)
	seen_add(ld, &st, 0, 0);
    prescan(ld, ld->path, ld->path, 0);
}

void
cfg_scan_free(CFG_LOAD *ld)
{
    size_t  i;

    for (i = 0; i < ld->novf; i++) {
	free(ld->ovf[i].file);
	free(ld->ovf[i].text);
    }
    for (i = 0; i < ld->ninc; i++) {
	free(ld->inc[i].file);
	free(ld->inc[i].name);
    }
    for (i = 0; i < ld->nseen; i++)
	free(ld->seen[i].file);
    free(ld->ovf);
    free(ld->inc);
    free(ld->seen);
}

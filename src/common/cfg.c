/*
 * cfg - a table-driven configuration loader over libconfig 1.5.
 * See cfg.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "mem.h"
#include "cfg.h"

#define CFG_MAX_ERRORS	20
#define CFG_MAX_INCLUDE	10		/* libconfig's MAX_INCLUDE_DEPTH */
#define CFG_PATH_MAX	256		/* "policies[12].queues" */
#define CFG_MSG_MAX	1024

/* An integer literal that libconfig 1.5 wrapped to 32 bits. */
typedef struct OVF {
    char   *file;			/* libconfig's name of the file */
    int     line;
    int     wrapped;			/* what libconfig stored */
    long long value;			/* the true value (saturated) */
    char   *text;			/* as written */
    int     used;
} OVF;

/* An @include directive. */
typedef struct INC {
    char   *file;			/* libconfig's name of the includer */
    int     line;
    char   *name;			/* as written */
    int     err;			/* errno of opening it, or 0 */
} INC;

typedef struct CFG_LOAD {
    const char *path;			/* main file, as given */
    char   *dir;			/* include directory */
    char   *err;
    size_t  errlen;
    struct ERR *errs;
    size_t  nerr;
    OVF    *ovf;
    size_t  novf;
    INC    *inc;
    size_t  ninc;
    void   *root;
} CFG_LOAD;

struct CFG_NODE {
    CFG_LOAD *ld;
    const config_setting_t *s;		/* NULL: absent from the file */
    const char *path;			/* "" for the root */
    const CFG_NODE *parent;
};

/* Errors: collected, then sorted by file (the main file first) and line. */

typedef struct ERR {
    char   *file;			/* as shown */
    int     other;			/* not the main file */
    int     line;
    size_t  seq;
    char   *msg;
} ERR;

/* The name to show for a file libconfig knows as 'file'. */
static void
show_file(const CFG_LOAD *ld, const char *file, char *buf, size_t len)
{
    if (file == 0 || strcmp(file, ld->path) == 0 || file[0] == '/')
	snprintf(buf, len, "%s", file ? file : ld->path);
    else
	snprintf(buf, len, "%s%s%s", ld->dir,
		 strcmp(ld->dir, "/") ? "/" : "", file);
}

static void __attribute__((format(printf, 4, 5)))
add_error(CFG_LOAD *ld, const char *file, int line, const char *fmt, ...)
{
    char    where[CFG_PATH_MAX + 32], msg[CFG_MSG_MAX];
    va_list ap;
    ERR    *e;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    show_file(ld, file, where, sizeof(where));
    ld->errs = xrealloc(ld->errs, (ld->nerr + 1) * sizeof(*ld->errs));
    e = ld->errs + ld->nerr;
    e->file = xstrdup(where);
    e->other = strcmp(where, ld->path) != 0;
    e->line = line;
    e->seq = ld->nerr++;
    e->msg = xstrdup(msg);
}

static int
err_cmp(const void *a, const void *b)
{
    const ERR *x = a, *y = b;
    int     c;

    if (x->other != y->other)
	return x->other - y->other;
    if ((c = strcmp(x->file, y->file)) != 0)
	return c;
    if (x->line != y->line)
	return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort the errors into err, one per line; release them. */
static void
flush_errors(CFG_LOAD *ld)
{
    size_t  i, used = 0;
    int     n;

    if (ld->nerr == 0)
	return;
    qsort(ld->errs, ld->nerr, sizeof(*ld->errs), err_cmp);
    for (i = 0; i < ld->nerr; i++) {
	ERR    *e = ld->errs + i;

	if (used < ld->errlen && i < CFG_MAX_ERRORS) {
	    if (e->line > 0)
		n = snprintf(ld->err + used, ld->errlen - used, "%s%s:%d: %s",
			     used ? "\n" : "", e->file, e->line, e->msg);
	    else
		n = snprintf(ld->err + used, ld->errlen - used, "%s%s: %s",
			     used ? "\n" : "", e->file, e->msg);
	    used += n > 0 ? (size_t) n : 0;
	} else if (used < ld->errlen && i == CFG_MAX_ERRORS) {
	    n = snprintf(ld->err + used, ld->errlen - used, "\n%s: %zu more "
			 "error%s", ld->path, ld->nerr - i,
			 ld->nerr - i == 1 ? "" : "s");
	    used += n > 0 ? (size_t) n : 0;
	}
	free(e->file);
	free(e->msg);
    }
    free(ld->errs);
    ld->errs = 0;
}

/* An error about setting s, named path ("" for the root). */
static void __attribute__((format(printf, 4, 0)))
verror(CFG_LOAD *ld, const config_setting_t *s, const char *path,
       const char *fmt, va_list ap)
{
    char    msg[CFG_MSG_MAX];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (path && *path)
	add_error(ld, s ? config_setting_source_file(s) : 0,
		  s ? (int) config_setting_source_line(s) : 0,
		  "%s: %s", path, msg);
    else
	add_error(ld, s ? config_setting_source_file(s) : 0,
		  s ? (int) config_setting_source_line(s) : 0, "%s", msg);
}

static void __attribute__((format(printf, 4, 5)))
set_error(CFG_LOAD *ld, const config_setting_t *s, const char *path,
	  const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    verror(ld, s, path, fmt, ap);
    va_end(ap);
}

/* Quote a string value for a message or for printing, libconfig style. */
static void
quote(const char *s, char *buf, size_t len)
{
    size_t  o = 0;

    if (len < 3)
	return;
    buf[o++] = '"';
    for (; *s && o + 6 < len; s++) {
	unsigned char c = (unsigned char) *s;

	if (c == '"' || c == '\\')
	    o += (size_t) snprintf(buf + o, len - o, "\\%c", c);
	else if (c < 0x20 || c == 0x7f)
	    o += (size_t) snprintf(buf + o, len - o, "\\x%02x", c);
	else
	    buf[o++] = (char) c;
    }
    buf[o++] = '"';
    buf[o] = 0;
}

static const char *
type_desc(const config_setting_t *s)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_GROUP:
	return "a group";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
	return "an integer";
    case CONFIG_TYPE_FLOAT:
	return "a float";
    case CONFIG_TYPE_STRING:
	return "a string";
    case CONFIG_TYPE_BOOL:
	return "a boolean";
    case CONFIG_TYPE_ARRAY:
	return "an array";
    case CONFIG_TYPE_LIST:
	return "a list";
    default:
	return "nothing";
    }
}

/* The pre-scan: integer literals beyond 32 bits, and includes. */

static char *
slurp(const char *path, size_t *lenp, int *err)
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
	n = fread(buf + len, 1, cap - len - 1, fp);
	len += n;
    } while (n > 0);
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

static int
is_digit(int c)
{
    return c >= '0' && c <= '9';
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
    for (d = q; is_digit(*d); d++)
	continue;
    if (*d == '.' || ((*d == 'e' || *d == 'E') && d > q
		      && (is_digit(d[1]) || ((d[1] == '-' || d[1] == '+')
					     && is_digit(d[2]))))) {
	/* A float: [-+]?[0-9]*\.[0-9]*([eE][-+]?[0-9]+)? and the like. */
	if (*d == '.')
	    for (d++; is_digit(*d); d++)
		continue;
	if ((*d == 'e' || *d == 'E')
	    && (is_digit(d[1]) || ((d[1] == '-' || d[1] == '+')
				   && is_digit(d[2]))))
	    for (d += 2; is_digit(*d); d++)
		continue;
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
    if (name[0] == '/' || *name == 0)
	inc->err = inc->err ? inc->err : EINVAL;
    else if (inc->err == 0 && depth < CFG_MAX_INCLUDE)
	prescan(ld, name, full, depth + 1);
    free(full);
    return q;
}

static void
prescan(CFG_LOAD *ld, const char *file, const char *open_path, int depth)
{
    int     line = 1, err;
    size_t  len;
    char   *buf = slurp(open_path, &len, &err);
    const char *p, *bol, *q;

    if (buf == 0)
	return;
    if ((p = memchr(buf, 0, len)) != 0) {
	/* The scan below would stop there; libconfig would not. */
	for (q = buf; q < p; q++)
	    line += *q == '\n';
	add_error(ld, file, line, "contains a NUL byte");
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
	} else if (is_digit(*p) || *p == '-' || *p == '+' || *p == '.') {
	    p = scan_number(ld, file, line, p);
	} else {
	    p++;
	}
    }
    free(buf);
}

/* The true value of an integer setting. */
static long long
get_integer(CFG_LOAD *ld, const config_setting_t *s, const char **text)
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

/* Numbers in messages and output: the shortest text that reads back. */
static void
fmt_double(double d, char *buf, size_t len)
{
    int     prec;

    for (prec = 1; prec <= 17; prec++) {
	snprintf(buf, len, "%.*g", prec, d);
	/* 100, not 1e+02: no exponent where plain digits will do. */
	if (strchr(buf, 'e') && (d >= 1e-4 || d <= -1e-4) && d < 1e15
	    && d > -1e15 && prec < 17)
	    continue;
	if (strtod(buf, 0) == d)
	    break;
    }
}

/* Defaults and release. */

static void
strlist_free(CFG_STRLIST *l)
{
    size_t  i;

    for (i = 0; i < l->n; i++)
	free(l->v[i]);
    free(l->v);
    l->v = 0;
    l->n = 0;
}

void
cfg_defaults(const CFG_TABLE *t, void *obj)
{
    const CFG_ITEM *it;
    char   *base = obj;
    size_t  n;

    for (it = t->items; it->name; it++) {
	void   *at = base + it->offset;

	switch (it->type) {
	case CFG_BOOL:
	case CFG_ENUM:
	    *(int *) at = (int) it->idef;
	    break;
	case CFG_INT:
	case CFG_DURATION:
	case CFG_MODE:
	    *(int64_t *) at = it->idef;
	    break;
	case CFG_FLOAT:
	    *(double *) at = it->fdef;
	    break;
	case CFG_STRING:
	    *(char **) at = xstrdup(it->sdef ? it->sdef : "");
	    break;
	case CFG_STRINGS:{
		CFG_STRLIST *l = at;

		for (n = 0; it->ldef && it->ldef[n]; n++)
		    continue;
		l->n = n;
		l->v = xcalloc(n + 1, sizeof(char *));
		for (n = 0; n < l->n; n++)
		    l->v[n] = xstrdup(it->ldef[n]);
		break;
	    }
	case CFG_GROUP:
	    cfg_defaults(it->sub, at);
	    break;
	case CFG_GROUPLIST:
	    *(void **) at = 0;
	    *(size_t *) (base + it->count_offset) = 0;
	    break;
	}
    }
}

void
cfg_free(const CFG_TABLE *t, void *obj)
{
    const CFG_ITEM *it;
    char   *base = obj;
    size_t  i, n;

    if (obj == 0)
	return;
    for (it = t->items; it->name; it++) {
	void   *at = base + it->offset;

	switch (it->type) {
	case CFG_STRING:
	    free(*(char **) at);
	    *(char **) at = 0;
	    break;
	case CFG_STRINGS:
	    strlist_free(at);
	    break;
	case CFG_GROUP:
	    cfg_free(it->sub, at);
	    break;
	case CFG_GROUPLIST:
	    n = *(size_t *) (base + it->count_offset);
	    for (i = 0; i < n; i++)
		cfg_free(it->sub, *(char **) at + i * it->size);
	    free(*(void **) at);
	    *(void **) at = 0;
	    *(size_t *) (base + it->count_offset) = 0;
	    break;
	default:
	    break;
	}
    }
}

/* Loading. */

const char *
cfg_enum_name(const CFG_ITEM *it, int value)
{
    int     i;

    for (i = 0; it->names && it->names[i]; i++)
	if ((it->values ? it->values[i] : i) == value)
	    return it->names[i];
    return "?";
}

static const char *
unit_name(int64_t unit)
{
    return unit == CFG_MSEC ? "milliseconds" : unit == CFG_MIN ? "minutes"
	: "seconds";
}

int
cfg_parse_duration(const char *s, int64_t unit, int64_t *out, char *msg,
		   size_t msglen)
{
    static const struct {
	const char *sfx;
	int64_t ms;
    } sfx[] = {
	{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000},
	{"d", 86400000}, {"w", 604800000},
    };
    const char *p = s;
    int64_t v = 0, ms = unit;
    size_t  i;

    for (; is_digit(*p); p++) {
	if (v > (INT64_MAX - 9) / 10) {
	    snprintf(msg, msglen, "\"%.40s\" is too large", s);
	    return -1;
	}
	v = v * 10 + (*p - '0');
    }
    if (p == s)
	goto bad;
    if (*p) {
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
	    if (strcmp(p, sfx[i].sfx) == 0)
		break;
	if (i == sizeof(sfx) / sizeof(sfx[0]))
	    goto bad;
	ms = sfx[i].ms;
    }
    if (v > INT64_MAX / ms) {
	snprintf(msg, msglen, "\"%.40s\" is too large", s);
	return -1;
    }
    if (v * ms % unit) {
	snprintf(msg, msglen, "\"%.40s\" is not a whole number of %s", s,
		 unit_name(unit));
	return -1;
    }
    *out = v * ms / unit;
    return 0;
bad:
    snprintf(msg, msglen, "\"%.40s\" is not a duration (a number, "
	     "optionally followed by ms, s, m, h, d or w)", s);
    return -1;
}

static void
join(char *buf, size_t len, const char *path, const char *name)
{
    snprintf(buf, len, "%s%s%s", path, *path ? "." : "", name);
}

/* A string value: copied, lower-cased, checked.  NULL after an error.
 * List elements (elem) must not be empty. */
static char *
get_string(CFG_LOAD *ld, const CFG_ITEM *it, const config_setting_t *s,
	   const char *path, int elem)
{
    char    msg[CFG_MSG_MAX], *v, *p;

    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
	set_error(ld, s, path, "expected a string, got %s", type_desc(s));
	return 0;
    }
    if (elem && *config_setting_get_string(s) == 0) {
	set_error(ld, s, path, "empty string");
	return 0;
    }
    v = xstrdup(config_setting_get_string(s));
    if (it->flags & CFG_LOWER)
	for (p = v; *p; p++)
	    if (*p >= 'A' && *p <= 'Z')
		*p = (char) (*p - 'A' + 'a');
    if (it->check && it->check(v, msg, sizeof(msg)) < 0) {
	set_error(ld, s, path, "%s", msg);
	free(v);
	return 0;
    }
    return v;
}

static void
load_int(CFG_LOAD *ld, const CFG_ITEM *it, const config_setting_t *s,
	 const char *path, int64_t *at)
{
    char    num[32], msg[CFG_MSG_MAX];
    const char *text;
    long long v;
    int64_t d;

    if (it->type == CFG_MODE) {
	char   *end;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
	    set_error(ld, s, path, "write the mode as an octal string such as "
		      "\"0660\" (libconfig reads 0660 as decimal 660)");
	    return;
	}
	text = config_setting_get_string(s);
	errno = 0;
	v = strtoll(text, &end, 8);
	if (!is_digit(*text) || *end || errno || strlen(text) > 6) {
	    set_error(ld, s, path, "\"%.40s\" is not an octal mode", text);
	    return;
	}
	if (v < it->min || v > it->max) {
	    set_error(ld, s, path, "%s is out of range %#llo..%#llo", text,
		      (unsigned long long) it->min,
		      (unsigned long long) it->max);
	    return;
	}
	*at = v;
	return;
    }
    if (it->type == CFG_DURATION && config_setting_type(s) == CONFIG_TYPE_STRING) {
	text = config_setting_get_string(s);
	if (cfg_parse_duration(text, it->unit, &d, msg, sizeof(msg)) < 0) {
	    set_error(ld, s, path, "%s", msg);
	    return;
	}
	v = d;
	snprintf(num, sizeof(num), "%lld", v);
	text = num;
    } else if (config_setting_type(s) == CONFIG_TYPE_INT
	       || config_setting_type(s) == CONFIG_TYPE_INT64) {
	v = get_integer(ld, s, &text);
	if (text == 0) {
	    snprintf(num, sizeof(num), "%lld", v);
	    text = num;
	}
    } else {
	set_error(ld, s, path, "expected an integer%s, got %s",
		  it->type == CFG_DURATION ? " or a duration string" : "",
		  type_desc(s));
	return;
    }
    if (v < it->min || v > it->max) {
	if (it->type == CFG_DURATION)
	    set_error(ld, s, path, "%s is out of range %lld..%lld (%s)", text,
		      (long long) it->min, (long long) it->max,
		      unit_name(it->unit));
	else
	    set_error(ld, s, path, "%s is out of range %lld..%lld", text,
		      (long long) it->min, (long long) it->max);
	return;
    }
    *at = v;
}

static void
load_float(CFG_LOAD *ld, const CFG_ITEM *it, const config_setting_t *s,
	   const char *path, double *at)
{
    char    num[40], lo[40], hi[40];
    const char *text;
    double  v;

    if (config_setting_type(s) == CONFIG_TYPE_FLOAT) {
	v = config_setting_get_float(s);
	fmt_double(v, num, sizeof(num));
    } else if (config_setting_type(s) == CONFIG_TYPE_INT
	       || config_setting_type(s) == CONFIG_TYPE_INT64) {
	long long i = get_integer(ld, s, &text);

	v = (double) i;
	snprintf(num, sizeof(num), "%s", text ? text : "");
	if (text == 0)
	    snprintf(num, sizeof(num), "%lld", i);
    } else {
	set_error(ld, s, path, "expected a number, got %s", type_desc(s));
	return;
    }
    fmt_double(it->fmin, lo, sizeof(lo));
    fmt_double(it->fmax, hi, sizeof(hi));
    if ((it->flags & CFG_MIN_EXCL) ? !(v > it->fmin && v <= it->fmax)
	: !(v >= it->fmin && v <= it->fmax)) {
	if (it->flags & CFG_MIN_EXCL)
	    set_error(ld, s, path, "%s is out of range: must be greater than "
		      "%s and at most %s", num, lo, hi);
	else
	    set_error(ld, s, path, "%s is out of range %s..%s", num, lo, hi);
	return;
    }
    *at = v;
}

/* "a, b, c" */
static const char *
name_list(const CFG_ITEM *it, char *buf, size_t len)
{
    size_t  o = 0;
    int     i;

    buf[0] = 0;
    for (i = 0; it->names[i] && o < len; i++)
	o += (size_t) snprintf(buf + o, len - o, "%s%s", i ? ", " : "",
			       it->names[i]);
    return buf;
}

static void
load_enum(CFG_LOAD *ld, const CFG_ITEM *it, const config_setting_t *s,
	  const char *path, int *at)
{
    char    list[CFG_MSG_MAX / 2], q[CFG_MSG_MAX / 2], *v;
    int     i;

    if ((v = get_string(ld, it, s, path, 0)) == 0)
	return;
    for (i = 0; it->names[i]; i++) {
	if (strcmp(v, it->names[i]) == 0) {
	    *at = it->values ? it->values[i] : i;
	    free(v);
	    return;
	}
    }
    quote(v, q, sizeof(q));
    set_error(ld, s, path, "%s is not one of %s", q,
	      name_list(it, list, sizeof(list)));
    free(v);
}

static void
load_strlist(CFG_LOAD *ld, const CFG_ITEM *it, const config_setting_t *s,
	     const char *path, CFG_STRLIST *at)
{
    char    epath[CFG_PATH_MAX + 16], q[CFG_MSG_MAX / 2];
    char    list[CFG_MSG_MAX / 2];
    CFG_STRLIST l;
    size_t  i, j;
    int     n, k, bad = 0;

    if (config_setting_type(s) != CONFIG_TYPE_ARRAY
	&& config_setting_type(s) != CONFIG_TYPE_LIST) {
	set_error(ld, s, path, "expected an array of strings [\"a\", \"b\"], "
		  "got %s", type_desc(s));
	return;
    }
    n = config_setting_length(s);
    if (n < it->min || n > it->max) {
	set_error(ld, s, path, "%d element%s, must have %lld..%lld", n,
		  n == 1 ? "" : "s", (long long) it->min, (long long) it->max);
	return;
    }
    l.n = 0;
    l.v = xcalloc((size_t) n + 1, sizeof(char *));
    for (k = 0; k < n; k++) {
	const config_setting_t *e = config_setting_get_elem(s, (unsigned) k);
	char   *v;

	snprintf(epath, sizeof(epath), "%s[%d]", path, k);
	if ((v = get_string(ld, it, e, epath, 1)) == 0) {
	    bad = 1;
	    continue;
	}
	quote(v, q, sizeof(q));
	if (it->names) {
	    for (j = 0; it->names[j] && strcmp(v, it->names[j]) != 0; j++)
		continue;
	    if (it->names[j] == 0) {
		set_error(ld, e, epath, "%s is not one of %s", q,
			  name_list(it, list, sizeof(list)));
		bad = 1;
		free(v);
		continue;
	    }
	}
	if (it->flags & CFG_UNIQUE) {
	    for (i = 0; i < l.n && strcmp(l.v[i], v) != 0; i++)
		continue;
	    if (i < l.n) {
		set_error(ld, e, epath, "%s is listed twice", q);
		bad = 1;
		free(v);
		continue;
	    }
	}
	l.v[l.n++] = v;
    }
    if (bad) {
	strlist_free(&l);
	return;
    }
    strlist_free(at);
    *at = l;
}

static void load_group(CFG_LOAD *, const CFG_TABLE *,
		       const config_setting_t *, void *, const char *,
		       const CFG_NODE *);

static void
load_grouplist(CFG_LOAD *ld, const CFG_ITEM *it, const config_setting_t *s,
	       const char *path, char *base, const CFG_NODE *parent)
{
    char    epath[CFG_PATH_MAX + 16];
    char   *arr;
    int     n, k;

    if (config_setting_type(s) != CONFIG_TYPE_LIST
	&& !(config_setting_type(s) == CONFIG_TYPE_ARRAY
	     && config_setting_length(s) == 0)) {
	set_error(ld, s, path, "expected a list of groups ( { ... }, "
		  "{ ... } ), got %s", type_desc(s));
	return;
    }
    n = config_setting_length(s);
    if (n < it->min || n > it->max) {
	set_error(ld, s, path, "%d element%s, must have %lld..%lld", n,
		  n == 1 ? "" : "s", (long long) it->min, (long long) it->max);
	return;
    }
    arr = xcalloc((size_t) n + 1, it->size);
    *(void **) (base + it->offset) = arr;
    for (k = 0; k < n; k++) {
	const config_setting_t *e = config_setting_get_elem(s, (unsigned) k);

	cfg_defaults(it->sub, arr + (size_t) k * it->size);
	*(size_t *) (base + it->count_offset) = (size_t) k + 1;
	snprintf(epath, sizeof(epath), "%s[%d]", path, k);
	if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
	    set_error(ld, e, epath, "expected a group { ... }, got %s",
		      type_desc(e));
	    continue;
	}
	load_group(ld, it->sub, e, arr + (size_t) k * it->size, epath, parent);
    }
}

/* Edit distance with transpositions, for "did you mean". */
static size_t
distance(const char *a, const char *b)
{
    size_t  la = strlen(a), lb = strlen(b), i, j, d[40][40], v;

    if (la >= 40 || lb >= 40)
	return 99;
    for (i = 0; i <= la; i++)
	d[i][0] = i;
    for (j = 0; j <= lb; j++)
	d[0][j] = j;
    for (i = 1; i <= la; i++)
	for (j = 1; j <= lb; j++) {
	    v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
	    if (d[i - 1][j] + 1 < v)
		v = d[i - 1][j] + 1;
	    if (d[i][j - 1] + 1 < v)
		v = d[i][j - 1] + 1;
	    if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]
		&& d[i - 2][j - 2] + 1 < v)
		v = d[i - 2][j - 2] + 1;
	    d[i][j] = v;
	}
    return d[la][lb];
}

static void
unknown(CFG_LOAD *ld, const CFG_ITEM *items, const config_setting_t *m,
	const char *path)
{
    const CFG_ITEM *it, *best = 0;
    size_t  d, bestd = 3, len;

    /* At most 2 edits, and fewer than half the longer name. */
    for (it = items; it->name; it++)
	if ((d = distance(m->name, it->name)) < bestd
	    && 2 * d < (len = strlen(m->name) > strlen(it->name)
			? strlen(m->name) : strlen(it->name))) {
	    best = it;
	    bestd = d;
	}
    if (best)
	set_error(ld, m, path, "unknown setting (did you mean %s?)",
		  best->name);
    else
	set_error(ld, m, path, "unknown setting");
}

static void
load_item(CFG_LOAD *ld, const CFG_ITEM *it, const config_setting_t *s,
	  char *base, const char *path, const CFG_NODE *node)
{
    void   *at = base + it->offset;
    char   *v;

    switch (it->type) {
    case CFG_BOOL:
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
	    set_error(ld, s, path, "expected true or false, got %s",
		      type_desc(s));
	else
	    *(int *) at = config_setting_get_bool(s) != 0;
	break;
    case CFG_INT:
    case CFG_DURATION:
    case CFG_MODE:
	load_int(ld, it, s, path, at);
	break;
    case CFG_FLOAT:
	load_float(ld, it, s, path, at);
	break;
    case CFG_STRING:
	if ((v = get_string(ld, it, s, path, 0)) != 0) {
	    free(*(char **) at);
	    *(char **) at = v;
	}
	break;
    case CFG_ENUM:
	load_enum(ld, it, s, path, at);
	break;
    case CFG_STRINGS:
	load_strlist(ld, it, s, path, at);
	break;
    case CFG_GROUP:
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
	    set_error(ld, s, path, "expected a group { ... }, got %s",
		      type_desc(s));
	else
	    load_group(ld, it->sub, s, at, path, node);
	break;
    case CFG_GROUPLIST:
	load_grouplist(ld, it, s, path, base, node);
	break;
    }
}

static void
load_group(CFG_LOAD *ld, const CFG_TABLE *t, const config_setting_t *s,
	   void *obj, const char *path, const CFG_NODE *parent)
{
    CFG_NODE node = {ld, s, path, parent};
    char    mpath[CFG_PATH_MAX];
    const CFG_ITEM *it;
    size_t  nerr = ld->nerr;
    int     i, n;

    n = s ? config_setting_length(s) : 0;
    for (i = 0; i < n; i++) {
	const config_setting_t *m = config_setting_get_elem(s, (unsigned) i);

	for (it = t->items; it->name && strcmp(it->name, m->name) != 0; it++)
	    continue;
	if (it->name == 0) {
	    join(mpath, sizeof(mpath), path, m->name);
	    unknown(ld, t->items, m, mpath);
	}
    }
    for (it = t->items; it->name; it++) {
	const config_setting_t *m = s ? config_setting_get_member(s, it->name) : 0;

	join(mpath, sizeof(mpath), path, it->name);
	if (m)
	    load_item(ld, it, m, obj, mpath, &node);
	else if (it->flags & CFG_REQUIRED)
	    set_error(ld, s, mpath, "required setting is missing");
	else if (it->type == CFG_GROUP)
	    load_group(ld, it->sub, 0, (char *) obj + it->offset, mpath, &node);
    }
    if (t->post && ld->nerr == nerr)
	t->post(&node, obj, ld->root);
}

/* Hooks. */

static const config_setting_t *
resolve(const config_setting_t *s, const char *path)
{
    char    name[128], *end;
    size_t  n;
    unsigned long idx;

    while (s && *path) {
	if (*path == '.') {
	    path++;
	} else if (*path == '[') {
	    idx = strtoul(path + 1, &end, 10);
	    if (*end != ']' || !(config_setting_is_list(s)
				  || config_setting_is_array(s)))
		return 0;
	    s = config_setting_get_elem(s, (unsigned) idx);
	    path = end + 1;
	} else {
	    n = strcspn(path, ".[");
	    if (n >= sizeof(name) || !config_setting_is_group(s))
		return 0;
	    memcpy(name, path, n);
	    name[n] = 0;
	    s = config_setting_get_member(s, name);
	    path += n;
	}
    }
    return s;
}

int
cfg_has(const CFG_NODE *node, const char *path)
{
    return node->s && resolve(node->s, path) != 0;
}

void
cfg_error(CFG_NODE *node, const char *path, const char *fmt, ...)
{
    const config_setting_t *s = 0;
    const CFG_NODE *n;
    char    full[CFG_PATH_MAX];
    va_list ap;

    if (path && node->s)
	s = resolve(node->s, path);
    for (n = node; s == 0 && n; n = n->parent)
	s = n->s;
    if (path == 0)
	snprintf(full, sizeof(full), "%s", node->path);
    else if (*path == '[')
	snprintf(full, sizeof(full), "%s%s", node->path, path);
    else
	join(full, sizeof(full), node->path, path);
    va_start(ap, fmt);
    verror(node->ld, s, full, fmt, ap);
    va_end(ap);
}

/* The entry point. */

static void
load_free(CFG_LOAD *ld)
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
    free(ld->ovf);
    free(ld->inc);
    free(ld->dir);
}

/* What is wrong with an include, if anything.  1 if something is. */
static int
include_error(CFG_LOAD *ld, const INC *inc)
{
    const char *sep = strcmp(ld->dir, "/") ? "/" : "";

    if (inc->name[0] == '/')
	add_error(ld, inc->file, inc->line, "@include \"%s\": absolute "
		  "include paths are not supported; write it relative to %s",
		  inc->name, ld->dir);
    else if (inc->err == EINVAL)
	add_error(ld, inc->file, inc->line, "@include \"%s\": %s%s%s is not "
		  "a regular file", inc->name, ld->dir, sep, inc->name);
    else if (inc->err)
	add_error(ld, inc->file, inc->line, "@include \"%s\": cannot open "
		  "%s%s%s: %s (include paths are relative to %s)", inc->name,
		  ld->dir, sep, inc->name, strerror(inc->err), ld->dir);
    else
	return 0;
    return 1;
}

/* libconfig failed to read the file: say why, and where. */
static void
read_error(CFG_LOAD *ld, const config_t *cf)
{
    const char *file = config_error_file(cf), *text = config_error_text(cf);
    int     line = config_error_line(cf);
    size_t  i;

    if (config_error_type(cf) == CONFIG_ERR_FILE_IO) {
	add_error(ld, 0, 0, "cannot read: %s", text ? text : "I/O error");
	return;
    }
    for (i = 0; text && strstr(text, "include") && i < ld->ninc; i++) {
	INC    *inc = ld->inc + i;

	if (inc->line != line || strcmp(inc->file, file ? file : ld->path))
	    continue;
	if (!include_error(ld, inc))
	    add_error(ld, file, line, "@include \"%s\": %s", inc->name, text);
	return;
    }
    add_error(ld, file, line, "%s", text ? text : "cannot parse");
}

int
cfg_load(const CFG_TABLE *t, void *obj, const char *path, char *err,
	 size_t errlen)
{
    CFG_LOAD ld;
    config_t cf;
    struct stat st;
    const char *slash;
    size_t  i, nerr;

    memset(&ld, 0, sizeof(ld));
    ld.path = path;
    ld.err = err;
    ld.errlen = errlen;
    ld.root = obj;
    if (errlen)
	err[0] = 0;
    cfg_defaults(t, obj);
    if ((slash = strrchr(path, '/')) == 0) {
	ld.dir = xstrdup(".");
    } else {
	i = slash == path ? 1 : (size_t) (slash - path);
	ld.dir = xmalloc(i + 1);
	memcpy(ld.dir, path, i);
	ld.dir[i] = 0;
    }
    if (stat(path, &st) < 0 || access(path, R_OK) < 0) {
	add_error(&ld, 0, 0, "cannot read configuration file: %s",
		  strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
	add_error(&ld, 0, 0, "is a directory, not a configuration file");
    } else if (!S_ISREG(st.st_mode)) {
	add_error(&ld, 0, 0, "is not a regular file");
    } else {
	/* libconfig is not trusted with a file the pre-scan rejects: its
	 * scanner exit()s on an include it cannot read. */
	prescan(&ld, path, path, 0);
	for (i = 0; i < ld.ninc; i++)
	    include_error(&ld, ld.inc + i);
	if (ld.nerr)
	    goto done;
	config_init(&cf);
	/* "" + "/" + name: libconfig joins with a slash. */
	config_set_include_dir(&cf, strcmp(ld.dir, "/") ? ld.dir : "");
	if (config_read_file(&cf, path) != CONFIG_TRUE) {
	    read_error(&ld, &cf);
	} else {
	    load_group(&ld, t, config_root_setting(&cf), obj, "", 0);
	    for (i = 0; i < ld.novf && ld.nerr == 0; i++)
		if (!ld.ovf[i].used)
		    add_error(&ld, ld.ovf[i].file, ld.ovf[i].line, "%s does "
			      "not fit in 32 bits (libconfig 1.5 would read "
			      "%d)", ld.ovf[i].text, ld.ovf[i].wrapped);
	}
	config_destroy(&cf);
    }
  done:
    nerr = ld.nerr;
    flush_errors(&ld);
    load_free(&ld);
    return nerr ? -1 : 0;
}

/* Printing. */

static void
indent(FILE *fp, int depth)
{
    fprintf(fp, "%*s", depth * 4, "");
}

static void print_table(const CFG_TABLE *, const char *, FILE *, int);

static void
print_item(const CFG_ITEM *it, const char *base, FILE *fp, int depth)
{
    const void *at = base + it->offset;
    char    buf[4096];
    size_t  i, n;

    indent(fp, depth);
    fprintf(fp, "%s = ", it->name);
    switch (it->type) {
    case CFG_BOOL:
	fprintf(fp, "%s;\n", *(const int *) at ? "true" : "false");
	break;
    case CFG_INT:
	n = (size_t) (*(const int64_t *) at > INT_MAX
		      || *(const int64_t *) at < INT_MIN);
	fprintf(fp, "%lld%s;\n", (long long) *(const int64_t *) at,
		n ? "L" : "");
	break;
    case CFG_DURATION:
	fprintf(fp, "%lld;\t# %s\n", (long long) *(const int64_t *) at,
		unit_name(it->unit));
	break;
    case CFG_MODE:
	fprintf(fp, "\"0%03llo\";\n",
		(unsigned long long) *(const int64_t *) at);
	break;
    case CFG_FLOAT:
	fmt_double(*(const double *) at, buf, sizeof(buf));
	fprintf(fp, "%s%s;\n", buf, strpbrk(buf, ".en") ? "" : ".0");
	break;
    case CFG_STRING:
	quote(*(char *const *) at, buf, sizeof(buf));
	fprintf(fp, "%s;\n", buf);
	break;
    case CFG_ENUM:
	fprintf(fp, "\"%s\";\n", cfg_enum_name(it, *(const int *) at));
	break;
    case CFG_STRINGS:{
	    const CFG_STRLIST *l = at;

	    fputc('[', fp);
	    for (i = 0; i < l->n; i++) {
		quote(l->v[i], buf, sizeof(buf));
		fprintf(fp, "%s %s", i ? "," : "", buf);
	    }
	    fprintf(fp, " ];\n");
	    break;
	}
    case CFG_GROUP:
	fprintf(fp, "{\n");
	print_table(it->sub, at, fp, depth + 1);
	indent(fp, depth);
	fprintf(fp, "};\n");
	break;
    case CFG_GROUPLIST:
	n = *(const size_t *) (base + it->count_offset);
	fprintf(fp, "(%s", n ? "\n" : " ");
	for (i = 0; i < n; i++) {
	    indent(fp, depth + 1);
	    fprintf(fp, "{\n");
	    print_table(it->sub, *(char *const *) at + i * it->size, fp,
			depth + 2);
	    indent(fp, depth + 1);
	    fprintf(fp, "}%s\n", i + 1 < n ? "," : "");
	}
	if (n)
	    indent(fp, depth);
	fprintf(fp, ");\n");
	break;
    }
}

static void
print_table(const CFG_TABLE *t, const char *base, FILE *fp, int depth)
{
    const CFG_ITEM *it;

    for (it = t->items; it->name; it++)
	if (it->show == 0 || it->show(base))
	    print_item(it, base, fp, depth);
}

void
cfg_print(const CFG_TABLE *t, const void *obj, FILE *fp)
{
    print_table(t, obj, fp, 0);
}

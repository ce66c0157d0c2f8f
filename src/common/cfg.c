/*
 * cfg - a table-driven configuration loader over libconfig 1.5.
 * See cfg.h; the parts are listed in cfg_int.h.
 *
 * Here: cfg_load() and its errors, defaults and release, and the helpers
 * the other parts share.
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
#include "cfg_int.h"
#include "cfg_scan.h"
#include "cfg_walk.h"

#define CFG_MAX_ERRORS	20

/* Errors: collected, then sorted by file (the main file first) and line. */

typedef struct ERR {
    char   *file;			/* as shown */
    int     other;			/* not the main file */
    int     line;
    size_t  seq;
    char   *msg;
} ERR;

/* The name to show for a file libconfig knows as 'file'. */
void
cfg_show_file(const CFG_LOAD *ld, const char *file, char *buf, size_t len)
{
    if (file == 0 || strcmp(file, ld->path) == 0 || file[0] == '/')
	snprintf(buf, len, "%s", file ? file : ld->path);
    else
	snprintf(buf, len, "%s%s%s", ld->dir,
		 strcmp(ld->dir, "/") ? "/" : "", file);
}

/* s, with control characters as \xNN: one error, one line.  Allocated. */
static char *
one_line(const char *s)
{
    char   *buf = xmalloc(4 * strlen(s) + 1), *o = buf;

    for (; *s; s++)
	if ((unsigned char) *s < 0x20 || *s == 0x7f)
	    o += sprintf(o, "\\x%02x", (unsigned char) *s);
	else
	    *o++ = *s;
    *o = 0;
    return buf;
}

void
cfg_add_error(CFG_LOAD *ld, const char *file, int line, const char *fmt, ...)
{
    char    where[CFG_PATH_MAX + 32], msg[CFG_MSG_MAX];
    va_list ap;
    ERR    *e;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cfg_show_file(ld, file, where, sizeof(where));
    ld->errs = xrealloc(ld->errs, (ld->nerr + 1) * sizeof(*ld->errs));
    e = ld->errs + ld->nerr;
    e->other = strcmp(where, ld->path) != 0;
    e->file = one_line(where);
    e->line = line;
    e->seq = ld->nerr++;
    e->msg = one_line(msg);
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
	    char   *path = one_line(ld->path);

	    n = snprintf(ld->err + used, ld->errlen - used, "\n%s: %zu more "
			 "error%s", path, ld->nerr - i,
			 ld->nerr - i == 1 ? "" : "s");
	    used += n > 0 ? (size_t) n : 0;
	    free(path);
	}
	free(e->file);
	free(e->msg);
    }
    free(ld->errs);
    ld->errs = 0;
}

/* An error about setting s, named path ("" for the root). */
void
cfg_verror(CFG_LOAD *ld, const config_setting_t *s, const char *path,
	   const char *fmt, va_list ap)
{
    char    msg[CFG_MSG_MAX];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (path && *path)
	cfg_add_error(ld, s ? config_setting_source_file(s) : 0,
		      s ? (int) config_setting_source_line(s) : 0,
		      "%s: %s", path, msg);
    else
	cfg_add_error(ld, s ? config_setting_source_file(s) : 0,
		      s ? (int) config_setting_source_line(s) : 0, "%s", msg);
}

/* Helpers the parts share (cfg_int.h). */

/* Quote a string value for a message or for printing, libconfig style. */
void
cfg_quote(const char *s, char *buf, size_t len)
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

/* Numbers in messages and output: the shortest text that reads back. */
void
cfg_fmt_double(double d, char *buf, size_t len)
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

void
cfg_strlist_free(CFG_STRLIST *l)
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
	    cfg_strlist_free(at);
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

/* Names, units, durations. */

const char *
cfg_enum_name(const CFG_ITEM *it, int value)
{
    int     i;

    for (i = 0; it->names && it->names[i]; i++)
	if ((it->values ? it->values[i] : i) == value)
	    return it->names[i];
    return "?";
}

const char *
cfg_unit_name(int64_t unit)
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

    for (; cfg_is_digit(*p); p++) {
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
		 cfg_unit_name(unit));
	return -1;
    }
    *out = v * ms / unit;
    return 0;
bad:
    snprintf(msg, msglen, "\"%.40s\" is not a duration (a number, "
	     "optionally followed by ms, s, m, h, d or w)", s);
    return -1;
}

/* The entry point. */

static void
load_free(CFG_LOAD *ld)
{
    cfg_scan_free(ld);
    free(ld->dir);
}

/* What is wrong with an include, if anything.  1 if something is. */
static int
include_error(CFG_LOAD *ld, const INC *inc)
{
    const char *sep = strcmp(ld->dir, "/") ? "/" : "";

    if (inc->name[0] == '/')
	cfg_add_error(ld, inc->file, inc->line, "@include \"%s\": absolute "
		      "include paths are not supported; write it relative to "
		      "%s", inc->name, ld->dir);
    else if (inc->err == EINVAL)
	cfg_add_error(ld, inc->file, inc->line, "@include \"%s\": %s%s%s is "
		      "not a regular file", inc->name, ld->dir, sep,
		      inc->name);
    else if (inc->err)
	cfg_add_error(ld, inc->file, inc->line, "@include \"%s\": cannot "
		      "open %s%s%s: %s (include paths are relative to %s)",
		      inc->name, ld->dir, sep, inc->name, strerror(inc->err),
		      ld->dir);
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
	cfg_add_error(ld, 0, 0, "cannot read: %s",
		      text ? text : "I/O error");
	return;
    }
    for (i = 0; text && strstr(text, "include") && i < ld->ninc; i++) {
	INC    *inc = ld->inc + i;

	if (inc->line != line || strcmp(inc->file, file ? file : ld->path))
	    continue;
	if (!include_error(ld, inc))
	    cfg_add_error(ld, file, line, "@include \"%s\": %s", inc->name,
			  text);
	return;
    }
    cfg_add_error(ld, file, line, "%s", text ? text : "cannot parse");
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
	cfg_add_error(&ld, 0, 0, "cannot read configuration file: %s",
		      strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
	cfg_add_error(&ld, 0, 0,
		      "is a directory, not a configuration file");
    } else if (!S_ISREG(st.st_mode)) {
	cfg_add_error(&ld, 0, 0, "is not a regular file");
    } else {
	/* libconfig is not trusted with a file the pre-scan rejects: its
	 * scanner exit()s on an include it cannot read. */
	cfg_prescan(&ld);
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
	    cfg_walk(&ld, t, config_root_setting(&cf), obj);
	    for (i = 0; i < ld.novf && ld.nerr == 0; i++)
		if (!ld.ovf[i].used)
		    cfg_add_error(&ld, ld.ovf[i].file, ld.ovf[i].line,
				  "%s does not fit in 32 bits (libconfig 1.5 "
				  "would read %d)", ld.ovf[i].text,
				  ld.ovf[i].wrapped);
	}
	config_destroy(&cf);
    }
  done:
    nerr = ld.nerr;
    flush_errors(&ld);
    load_free(&ld);
    return nerr ? -1 : 0;
}

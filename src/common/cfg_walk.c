/*
 * cfg_walk - a CFG_TABLE walked over the tree libconfig read.
 * See cfg_walk.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "mem.h"
#include "cfg_int.h"
#include "cfg_scan.h"
#include "cfg_walk.h"

struct CFG_NODE {
    CFG_LOAD *ld;
    const config_setting_t *s;		/* NULL: absent from the file */
    const char *path;			/* "" for the root */
    const CFG_NODE *parent;
};

static void __attribute__((format(printf, 4, 5)))
set_error(CFG_LOAD *ld, const config_setting_t *s, const char *path,
	  const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cfg_verror(ld, s, path, fmt, ap);
    va_end(ap);
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
	if (!cfg_is_digit(*text) || *end || errno || strlen(text) > 6) {
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
	v = cfg_scan_integer(ld, s, &text);
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
		      cfg_unit_name(it->unit));
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
	cfg_fmt_double(v, num, sizeof(num));
    } else if (config_setting_type(s) == CONFIG_TYPE_INT
	       || config_setting_type(s) == CONFIG_TYPE_INT64) {
	long long i = cfg_scan_integer(ld, s, &text);

	v = (double) i;
	snprintf(num, sizeof(num), "%s", text ? text : "");
	if (text == 0)
	    snprintf(num, sizeof(num), "%lld", i);
    } else {
	set_error(ld, s, path, "expected a number, got %s", type_desc(s));
	return;
    }
    if (v == 0)
	v = 0;				/* -0.0: one zero, one digest */
    cfg_fmt_double(it->fmin, lo, sizeof(lo));
    cfg_fmt_double(it->fmax, hi, sizeof(hi));
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
    cfg_quote(v, q, sizeof(q));
    set_error(ld, s, path, "%s is not one of %s", q,
	      name_list(it, list, sizeof(list)));
    free(v);
}


/* Does a list or array have an allowed number of elements?  Else say so. */
static int
count_ok(CFG_LOAD *ld, const config_setting_t *s, const char *path,
	 const CFG_ITEM *it, int n)
{
    if (n >= it->min && n <= it->max)
	return 1;
    set_error(ld, s, path, "%d element%s, must have %lld..%lld", n,
	      n == 1 ? "" : "s", (long long) it->min, (long long) it->max);
    return 0;
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
    if (!count_ok(ld, s, path, it, n))
	return;
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
	cfg_quote(v, q, sizeof(q));
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
	cfg_strlist_free(&l);
	return;
    }
    cfg_strlist_free(at);
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
    if (!count_ok(ld, s, path, it, n))
	return;
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
    cfg_verror(node->ld, s, full, fmt, ap);
    va_end(ap);
}

/* The entry point, for cfg_load(). */

void
cfg_walk(CFG_LOAD *ld, const CFG_TABLE *t, const config_setting_t *root,
	 void *obj)
{
    load_group(ld, t, root, obj, "", 0);
}

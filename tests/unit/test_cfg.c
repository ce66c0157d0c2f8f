/*
 * Unit tests for cfg, the generic loader: a synthetic table with every
 * type, loaded from small files written to a temporary directory.
 * Expected errors are written with '~' for the file's path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfg.h"

typedef struct SUB {
    int64_t n;
    char   *s;
} SUB;

typedef struct EL {
    char   *name;
    double  f;
    int     post;			/* the element hook ran */
} EL;

typedef struct T {
    int     b;
    int64_t i;
    int64_t big;
    double  f;
    double  ex;
    int64_t sec, ms, min;
    int64_t mode;
    char   *s;
    char   *low;
    int     e;
    CFG_STRLIST l;
    CFG_STRLIST pick;
    SUB     sub;
    EL     *els;
    size_t  nels;
    int     post;			/* the top hook ran */
} T;

static const char *const e_names[] = {"red", "green", "blue", 0};
static const int e_values[] = {10, 20, 30};
static const char *const l_def[] = {"x", "y", 0};
static const char *const pick_names[] = {"one", "two", "three", 0};

static int
check_no_z(char *v, char *msg, size_t len)
{
    if (strchr(v, 'z') == 0)
	return 0;
    snprintf(msg, len, "\"%s\" contains z", v);
    return -1;
}

static void
post_el(CFG_NODE *node, void *obj, void *root)
{
    EL     *e = obj;

    (void) root;
    e->post = 1;
    if (strcmp(e->name, "bad") == 0)
	cfg_error(node, "f", "bad element, f=%g", e->f);
    if (strcmp(e->name, "nof") == 0 && !cfg_has(node, "f"))
	cfg_error(node, "f", "f is needed here");
}

static void
post_top(CFG_NODE *node, void *obj, void *root)
{
    T      *t = obj;

    assert_ptr_equal(obj, root);
    t->post = 1;
    if (t->i == 13)
	cfg_error(node, "i", "unlucky");
    if (t->nels > 1 && cfg_has(node, "els[1].f"))
	if (t->els[1].f == 13)
	    cfg_error(node, "els[1].f", "unlucky too");
}

static const CFG_ITEM sub_items[] = {
    {.name = "n", .type = CFG_INT, .offset = offsetof(SUB, n), .idef = 7,
     .min = 0, .max = 100},
    {.name = "s", .type = CFG_STRING, .offset = offsetof(SUB, s),
     .sdef = "sub"},
    {0},
};
static const CFG_TABLE sub_table = {sub_items, 0};

static const CFG_ITEM el_items[] = {
    {.name = "name", .type = CFG_STRING, .offset = offsetof(EL, name),
     .flags = CFG_REQUIRED},
    {.name = "f", .type = CFG_FLOAT, .offset = offsetof(EL, f), .fdef = 0.25,
     .fmin = 0, .fmax = 100},
    {0},
};
static const CFG_TABLE el_table = {el_items, post_el};

static const CFG_ITEM items[] = {
    {.name = "b", .type = CFG_BOOL, .offset = offsetof(T, b), .idef = 1},
    {.name = "i", .type = CFG_INT, .offset = offsetof(T, i), .idef = 30,
     .min = 1, .max = 3600},
    {.name = "big", .type = CFG_INT, .offset = offsetof(T, big), .idef = -1,
     .min = -1, .max = 1000000000000LL},
    {.name = "f", .type = CFG_FLOAT, .offset = offsetof(T, f), .fdef = 0.5,
     .fmin = 0, .fmax = 1},
    {.name = "ex", .type = CFG_FLOAT, .offset = offsetof(T, ex), .fdef = 0.8,
     .fmin = 0, .fmax = 1, .flags = CFG_MIN_EXCL},
    {.name = "sec", .type = CFG_DURATION, .offset = offsetof(T, sec),
     .unit = CFG_SEC, .idef = 60, .min = 1, .max = 86400},
    {.name = "ms", .type = CFG_DURATION, .offset = offsetof(T, ms),
     .unit = CFG_MSEC, .idef = 100, .min = 10, .max = 10000},
    {.name = "min", .type = CFG_DURATION, .offset = offsetof(T, min),
     .unit = CFG_MIN, .idef = 5, .min = 1, .max = 1440},
    {.name = "mode", .type = CFG_MODE, .offset = offsetof(T, mode),
     .idef = 0660, .min = 0, .max = 0777},
    {.name = "s", .type = CFG_STRING, .offset = offsetof(T, s),
     .sdef = "dflt", .check = check_no_z},
    {.name = "low", .type = CFG_STRING, .offset = offsetof(T, low),
     .flags = CFG_LOWER},
    {.name = "e", .type = CFG_ENUM, .offset = offsetof(T, e), .idef = 20,
     .names = e_names, .values = e_values},
    {.name = "l", .type = CFG_STRINGS, .offset = offsetof(T, l),
     .ldef = l_def, .min = 0, .max = 3, .check = check_no_z},
    {.name = "pick", .type = CFG_STRINGS, .offset = offsetof(T, pick),
     .min = 1, .max = 8, .names = pick_names, .flags = CFG_UNIQUE,
     .ldef = pick_names},
    {.name = "sub", .type = CFG_GROUP, .offset = offsetof(T, sub),
     .sub = &sub_table},
    {.name = "els", .type = CFG_GROUPLIST, .offset = offsetof(T, els),
     .count_offset = offsetof(T, nels), .size = sizeof(EL), .min = 0,
     .max = 3, .sub = &el_table},
    {0},
};
static const CFG_TABLE table = {items, post_top};

static char dir[64];
static char path[128];

/* Write name in the temporary directory; return its path. */
static const char *
put(const char *name, const char *text)
{
    static char p[128];
    FILE   *fp;

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    assert_non_null(fp = fopen(p, "w"));
    fputs(text, fp);
    fclose(fp);
    return p;
}

/* Replace each '~' in want by file. */
static const char *
expand(const char *want, const char *file)
{
    static char buf[8192];
    size_t  o = 0;

    for (; *want && o + strlen(file) + 2 < sizeof(buf); want++)
	if (*want == '~')
	    o += (size_t) snprintf(buf + o, sizeof(buf) - o, "%s", file);
	else
	    buf[o++] = *want;
    buf[o] = 0;
    return buf;
}

static int
load_text(const char *text, T *t, char *err, size_t errlen)
{
    snprintf(path, sizeof(path), "%s", put("t.conf", text));
    memset(t, 0, sizeof(*t));
    return cfg_load(&table, t, path, err, errlen);
}

/* Loading text fails with exactly want ('~' = the path). */
static void
fails(const char *text, const char *want)
{
    char    err[8192];
    T       t;

    assert_int_equal(load_text(text, &t, err, sizeof(err)), -1);
    assert_string_equal(err, expand(want, path));
    cfg_free(&table, &t);
}

static void
loads(const char *text, T *t)
{
    char    err[8192];
    int     rc = load_text(text, t, err, sizeof(err));

    if (rc != 0)
	fprintf(stderr, "unexpected: %s\n", err);
    assert_int_equal(rc, 0);
    assert_string_equal(err, "");
}

static int
setup(void **state)
{
    (void) state;
    snprintf(dir, sizeof(dir), "/tmp/test_cfg.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
    char    cmd[128];

    (void) state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void
defaults(void **state)
{
    T       t;

    (void) state;
    loads("# nothing\n", &t);
    assert_int_equal(t.b, 1);
    assert_int_equal(t.i, 30);
    assert_int_equal(t.big, -1);
    assert_true(t.f == 0.5);
    assert_true(t.ex == 0.8);
    assert_int_equal(t.sec, 60);
    assert_int_equal(t.ms, 100);
    assert_int_equal(t.min, 5);
    assert_int_equal(t.mode, 0660);
    assert_string_equal(t.s, "dflt");
    assert_string_equal(t.low, "");
    assert_int_equal(t.e, 20);
    assert_int_equal(t.l.n, 2);
    assert_string_equal(t.l.v[0], "x");
    assert_string_equal(t.l.v[1], "y");
    assert_int_equal(t.pick.n, 3);
    assert_int_equal(t.sub.n, 7);
    assert_string_equal(t.sub.s, "sub");
    assert_null(t.els);
    assert_int_equal(t.nels, 0);
    assert_int_equal(t.post, 1);
    cfg_free(&table, &t);
    cfg_free(&table, &t);		/* twice is harmless */
}

static void
values(void **state)
{
    T       t;

    (void) state;
    loads("b = false;\n"
	  "i = 3600;\n"
	  "big = 3000000000;\n"		/* libconfig 1.5 wraps it */
	  "f = 1;\n"			/* an integer for a float */
	  "ex = 1e-3;\n"
	  "sec = \"2h\";\n"
	  "ms = \"1s\";\n"
	  "min = \"1d\";\n"
	  "mode = \"0640\";\n"
	  "s = \"a\\\"b\\\\c\";\n"
	  "low = \"MiXeD@Example.COM\";\n"
	  "e = \"blue\";\n"
	  "l = (\"p\", \"q\", \"r\");\n"
	  "pick = [\"three\", \"one\"];\n"
	  "sub: { n = 0; s = \"\"; };\n"
	  "els = ( { name = \"a\"; }, { name = \"b\"; f = 99.5; } );\n", &t);
    assert_int_equal(t.b, 0);
    assert_int_equal(t.i, 3600);
    assert_int_equal(t.big, 3000000000LL);
    assert_true(t.f == 1.0);
    assert_true(t.ex == 1e-3);
    assert_int_equal(t.sec, 7200);
    assert_int_equal(t.ms, 1000);
    assert_int_equal(t.min, 1440);
    assert_int_equal(t.mode, 0640);
    assert_string_equal(t.s, "a\"b\\c");
    assert_string_equal(t.low, "mixed@example.com");
    assert_int_equal(t.e, 30);
    assert_int_equal(t.l.n, 3);
    assert_string_equal(t.l.v[2], "r");
    assert_null(t.l.v[3]);
    assert_int_equal(t.pick.n, 2);
    assert_string_equal(t.pick.v[0], "three");
    assert_int_equal(t.sub.n, 0);
    assert_string_equal(t.sub.s, "");
    assert_int_equal(t.nels, 2);
    assert_string_equal(t.els[0].name, "a");
    assert_true(t.els[0].f == 0.25);
    assert_int_equal(t.els[0].post, 1);
    assert_string_equal(t.els[1].name, "b");
    assert_true(t.els[1].f == 99.5);
    cfg_free(&table, &t);
}

/* Integers libconfig 1.5 wraps to 32 bits are seen at their true value. */
static void
big_integers(void **state)
{
    T       t;

    (void) state;
    fails("i = 3000000000;\n", "~:1: i: 3000000000 is out of range 1..3600");
    fails("\n\ni = -3000000000;\n",
	  "~:3: i: -3000000000 is out of range 1..3600");
    fails("i = 4294967326;\n", "~:1: i: 4294967326 is out of range 1..3600");
    fails("i = 99999999999999999999;\n",
	  "~:1: i: 99999999999999999999 is out of range 1..3600");
    fails("i = 0x100000000;\n", "~:1: i: 0x100000000 is out of range 1..3600");
    fails("sec = 4294967356;\n",
	  "~:1: sec: 4294967356 is out of range 1..86400 (seconds)");
    fails("f = 3000000000;\n", "~:1: f: 3000000000 is out of range 0..1");
    fails("i = 2147483648;\n", "~:1: i: 2147483648 is out of range 1..3600");
    /* The L suffix makes a 64-bit integer; libconfig keeps it. */
    fails("i = 3000000000L;\n", "~:1: i: 3000000000 is out of range 1..3600");
    loads("big = 1000000000000L;\n", &t);
    assert_int_equal(t.big, 1000000000000LL);
    cfg_free(&table, &t);
    /* Not fooled by digits in strings, comments, names and floats. */
    loads("s = \"3000000000\"; # 3000000000\n/* 3000000000 */ // 3000000000\n"
	  "l = [\"a3000000000\"];\nf = 0.3000000000;\nbig = 2147483647;\n", &t);
    assert_true(t.f == 0.3);
    assert_int_equal(t.big, 2147483647);
    cfg_free(&table, &t);
    /* Two on a line, and the value on the line after the name. */
    loads("els = ({ name = \"x\"; f = 1; });\nbig = 5000000000; i = 7;\n"
	  "sub = { n =\n 9; };\n", &t);
    assert_int_equal(t.big, 5000000000LL);
    assert_int_equal(t.i, 7);
    assert_int_equal(t.sub.n, 9);
    cfg_free(&table, &t);
}

static void
type_errors(void **state)
{
    (void) state;
    fails("b = 1;\n", "~:1: b: expected true or false, got an integer");
    fails("i = 1.5;\n", "~:1: i: expected an integer, got a float");
    fails("i = \"5\";\n", "~:1: i: expected an integer, got a string");
    fails("f = \"0.5\";\n", "~:1: f: expected a number, got a string");
    fails("sec = true;\n",
	  "~:1: sec: expected an integer or a duration string, got a boolean");
    fails("s = 5;\n", "~:1: s: expected a string, got an integer");
    fails("e = 1;\n", "~:1: e: expected a string, got an integer");
    fails("l = \"x\";\n",
	  "~:1: l: expected an array of strings [\"a\", \"b\"], got a string");
    fails("l = (\"a\",\n 5);\n", "~:2: l[1]: expected a string, got an integer");
    fails("sub = [1];\n", "~:1: sub: expected a group { ... }, got an array");
    fails("els = { name = \"a\"; };\n",
	  "~:1: els: expected a list of groups ( { ... }, { ... } ), got a group");
    fails("els = ( 1 );\n",
	  "~:1: els[0]: expected a group { ... }, got an integer");
    fails("mode = 0660;\n", "~:1: mode: write the mode as an octal string "
	  "such as \"0660\" (libconfig reads 0660 as decimal 660)");
}

static void
range_errors(void **state)
{
    (void) state;
    fails("\ni = 0;\n", "~:2: i: 0 is out of range 1..3600");
    fails("\n\ni = 3601;\n", "~:3: i: 3601 is out of range 1..3600");
    fails("f = 1.5;\n", "~:1: f: 1.5 is out of range 0..1");
    fails("f = -0.25;\n", "~:1: f: -0.25 is out of range 0..1");
    fails("f = 2;\n", "~:1: f: 2 is out of range 0..1");
    fails("ex = 0;\n",
	  "~:1: ex: 0 is out of range: must be greater than 0 and at most 1");
    fails("ex = 0.0;\n",
	  "~:1: ex: 0 is out of range: must be greater than 0 and at most 1");
    fails("ms = 5;\n", "~:1: ms: 5 is out of range 10..10000 (milliseconds)");
    fails("ms = \"11s\";\n",
	  "~:1: ms: 11000 is out of range 10..10000 (milliseconds)");
    fails("sec = \"1500ms\";\n",
	  "~:1: sec: \"1500ms\" is not a whole number of seconds");
    fails("min = \"90s\";\n",
	  "~:1: min: \"90s\" is not a whole number of minutes");
    fails("sec = \"5x\";\n", "~:1: sec: \"5x\" is not a duration (a number, "
	  "optionally followed by ms, s, m, h, d or w)");
    fails("sec = \"-5s\";\n", "~:1: sec: \"-5s\" is not a duration (a "
	  "number, optionally followed by ms, s, m, h, d or w)");
    fails("sec = -5;\n", "~:1: sec: -5 is out of range 1..86400 (seconds)");
    fails("mode = \"0999\";\n", "~:1: mode: \"0999\" is not an octal mode");
    fails("mode = \"01000\";\n", "~:1: mode: 01000 is out of range 0..0777");
    fails("e = \"Blue\";\n",
	  "~:1: e: \"Blue\" is not one of red, green, blue");
    fails("s = \"fizz\";\n", "~:1: s: \"fizz\" contains z");
    fails("l = [\"a\", \"z\"];\n", "~:1: l[1]: \"z\" contains z");
    fails("l = [\"a\", \"b\", \"c\", \"d\"];\n",
	  "~:1: l: 4 elements, must have 0..3");
    fails("pick = [];\n", "~:1: pick: 0 elements, must have 1..8");
    fails("pick = [\"one\", \"four\"];\n",
	  "~:1: pick[1]: \"four\" is not one of one, two, three");
    fails("pick = [\"one\",\n\"one\"];\n",
	  "~:2: pick[1]: \"one\" is listed twice");
    fails("l = [\"\"];\n", "~:1: l[0]: empty string");
    fails("pick = [\"one\", \"\"];\n", "~:1: pick[1]: empty string");
    fails("els = ({name=\"a\";},{name=\"b\";},{name=\"c\";},{name=\"d\";});\n",
	  "~:1: els: 4 elements, must have 0..3");
    fails("sub = {\n  n = 101;\n};\n", "~:2: sub.n: 101 is out of range 0..100");
}

static void
unknown_keys(void **state)
{
    (void) state;
    fails("i = 5;\nbogus = 1;\n", "~:2: bogus: unknown setting");
    fails("sub = {\n  n = 1;\n  m = 2;\n};\n",
	  "~:3: sub.m: unknown setting");
    fails("els = (\n  { name = \"a\"; },\n  { name = \"b\"; fff = 1.0; }\n);\n",
	  "~:3: els[1].fff: unknown setting");
    fails("els = ({ name = \"a\"; nmae = \"b\"; });\n",
	  "~:1: els[0].nmae: unknown setting (did you mean name?)");
    fails("sub = { ss = \"x\"; };\n", "~:1: sub.ss: unknown setting");
    fails("pik = [\"one\"];\n", "~:1: pik: unknown setting (did you mean pick?)");
    fails("xyzzy = { a = 1; };\n", "~:1: xyzzy: unknown setting");
}

static void
required_and_hooks(void **state)
{
    (void) state;
    fails("els = (\n  { f = 1.0; }\n);\n",
	  "~:2: els[0].name: required setting is missing");
    fails("els = ({ name = \"bad\";\n f = 2.5; });\n",
	  "~:2: els[0].f: bad element, f=2.5");
    fails("els = ({ name = \"nof\"; });\n", "~:1: els[0].f: f is needed here");
    fails("b = true;\ni = 13;\n", "~:2: i: unlucky");
    fails("els = ({ name = \"a\"; },\n { name = \"b\";\n f = 13; });\n",
	  "~:3: els[1].f: unlucky too");
    /* A group with an error skips its hook, and so does the top. */
    fails("i = 13;\nels = ({ name = \"bad\"; f = 1000; });\n",
	  "~:2: els[0].f: 1000 is out of range 0..100");
}

static void
sorted_and_capped(void **state)
{
    char    text[4096], want[8192];
    size_t  o = 0, w = 0;
    int     k;

    (void) state;
    fails("sub = { n = 500; };\ni = 0;\nbogus = 1;\n",
	  "~:1: sub.n: 500 is out of range 0..100\n"
	  "~:2: i: 0 is out of range 1..3600\n"
	  "~:3: bogus: unknown setting");
    for (k = 0; k < 25; k++) {
	o += (size_t) snprintf(text + o, sizeof(text) - o, "x%d = 1;\n", k);
	if (k < 20)
	    w += (size_t) snprintf(want + w, sizeof(want) - w,
				   "%s~:%d: x%d: unknown setting",
				   k ? "\n" : "", k + 1, k);
    }
    snprintf(want + w, sizeof(want) - w, "\n~: 5 more errors");
    fails(text, want);
}

static void
file_errors(void **state)
{
    char    err[512], p[256];
    T       t;

    (void) state;
    memset(&t, 0, sizeof(t));
    snprintf(p, sizeof(p), "%s/none.conf", dir);
    assert_int_equal(cfg_load(&table, &t, p, err, sizeof(err)), -1);
    assert_string_equal(err, expand("~: cannot read configuration file: "
				    "No such file or directory", p));
    cfg_free(&table, &t);
    assert_int_equal(cfg_load(&table, &t, dir, err, sizeof(err)), -1);
    assert_string_equal(err, expand("~: is a directory, not a configuration "
				    "file", dir));
    cfg_free(&table, &t);
    /* libconfig's own errors, with its file and line. */
    fails("i = 5;\nl = [\"a\", \"b\",];\n", "~:2: syntax error");
    fails("i = 5;\ns = \"open;\nb = true;\n", "~:4: syntax error");
    fails("i = 5;\ni = 6;\n", "~:2: duplicate setting name");
    fails("l = [\"a\", 1];\n", "~:1: mismatched element type in array");
    /* A NUL byte would hide the rest of the file from the pre-scan. */
    snprintf(p, sizeof(p), "%s/nul.conf", dir);
    {
	FILE   *fp = fopen(p, "w");

	assert_non_null(fp);
	fwrite("i = 5;\n\ns = \"a\0b\";\n", 1, 17, fp);
	fclose(fp);
    }
    assert_int_equal(cfg_load(&table, &t, p, err, sizeof(err)), -1);
    assert_string_equal(err, expand("~:3: contains a NUL byte", p));
    cfg_free(&table, &t);
    snprintf(p, sizeof(p), "%s/fifo", dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    assert_int_equal(cfg_load(&table, &t, p, err, sizeof(err)), -1);
    assert_string_equal(err, expand("~: is not a regular file", p));
    cfg_free(&table, &t);
    /* A tiny buffer gets a truncated but terminated message. */
    put("t.conf", "bogus = 1;\n");
    memset(&t, 0, sizeof(t));
    assert_int_equal(cfg_load(&table, &t, path, err, 8), -1);
    assert_int_equal(strlen(err), 7);
    cfg_free(&table, &t);
}

static void
includes(void **state)
{
    char    cwd[PATH_MAX], err[1024], want[1024];
    T       t;

    (void) state;
    assert_int_equal(mkdir(expand("~/inc", dir), 0700), 0);
    put("inc/a.conf", "i = 42;\n@include \"inc/b.conf\"\n");
    put("inc/b.conf", "\n\ns = \"from b\";\n");
    put("inc/bad.conf", "i = 5;\n\nf = 3;\n");
    put("inc/syntax.conf", "i = 5;\nj = ;\n");
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir("/"), 0);
    /* Relative to the main file's directory, nested ones too. */
    loads("b = false;\n@include \"inc/a.conf\"\nsec = 9;\n", &t);
    assert_int_equal(t.i, 42);
    assert_string_equal(t.s, "from b");
    assert_int_equal(t.sec, 9);
    cfg_free(&table, &t);
    /* Errors name the included file by the path that was opened. */
    snprintf(want, sizeof(want), "%s/inc/bad.conf:3: f: 3 is out of range "
	     "0..1", dir);
    fails("@include \"inc/bad.conf\"\n", want);
    snprintf(want, sizeof(want), "~:1: bogus: unknown setting\n"
	     "%s/inc/bad.conf:3: f: 3 is out of range 0..1", dir);
    fails("bogus = 1;\n@include \"inc/bad.conf\"\n", want);
    snprintf(want, sizeof(want), "%s/inc/syntax.conf:2: syntax error", dir);
    fails("\n@include \"inc/syntax.conf\"\n", want);
    snprintf(want, sizeof(want), "~:2: @include \"inc/none.conf\": cannot "
	     "open %s/inc/none.conf: No such file or directory (include paths "
	     "are relative to %s)", dir, dir);
    fails("i = 5;\n@include \"inc/none.conf\"\n", want);
    snprintf(want, sizeof(want), "~:1: @include \"%s/inc/b.conf\": absolute "
	     "include paths are not supported; write it relative to %s", dir,
	     dir);
    snprintf(err, sizeof(err), "@include \"%s/inc/b.conf\"\n", dir);
    fails(err, want);
    /* libconfig 1.5 would exit() on these: never handed to it. */
    snprintf(want, sizeof(want), "~:2: @include \"inc\": cannot open "
	     "%s/inc: Is a directory (include paths are relative to %s)", dir,
	     dir);
    fails("i = 5;\n@include \"inc\"\n", want);
    snprintf(want, sizeof(want), "~:1: @include \"\": cannot open %s/: Is "
	     "a directory (include paths are relative to %s)", dir, dir);
    fails("@include \"\"\n", want);
    put("inc/dir.conf", "\n\n@include \"inc\"\n");
    snprintf(want, sizeof(want), "%s/inc/dir.conf:3: @include \"inc\": "
	     "cannot open %s/inc: Is a directory (include paths are relative "
	     "to %s)", dir, dir, dir);
    fails("@include \"inc/dir.conf\"\n", want);
    snprintf(want, sizeof(want), "~:1: @include \"null\": %s/null is not a "
	     "regular file", dir);
    assert_int_equal(symlink("/dev/null", expand("~/null", dir)), 0);
    fails("@include \"null\"\n", want);
    assert_int_equal(chdir(cwd), 0);
}

/*
 * Issue 7: a file included N times, each including one N times, was read
 * N^depth times (N = 4: 35 s and 680 MB).  Each file is read once;
 * cycles, repeats, depth and size are errors at the directive.
 */
static void
include_bounds(void **state)
{
    char    cwd[PATH_MAX], want[2048], text[256], *big;
    size_t  i;
    T       t;

    (void) state;
    assert_int_equal(mkdir(expand("~/bnd", dir), 0700), 0);
    put("bnd/leaf.conf", "i = 7;\n");
    put("bnd/self.conf", "\n@include \"bnd/self.conf\"\n"
	"@include \"bnd/self.conf\"\n");
    put("bnd/ping.conf", "@include \"bnd/pong.conf\"\n");
    put("bnd/pong.conf", "\n\n@include \"bnd/ping.conf\"\n");
    put("bnd/twice.conf", "@include \"bnd/leaf.conf\"\n");
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir("/"), 0);
    /* A file that includes itself. */
    snprintf(want, sizeof(want),
	     "%s/bnd/self.conf:2: @include \"bnd/self.conf\": %s/bnd/self.conf "
	     "is already being read (an include cycle)\n"
	     "%s/bnd/self.conf:3: @include \"bnd/self.conf\": %s/bnd/self.conf "
	     "is already being read (an include cycle)", dir, dir, dir, dir);
    fails("@include \"bnd/self.conf\"\n", want);
    /* Two files that include each other, and the main file itself. */
    snprintf(want, sizeof(want),
	     "%s/bnd/pong.conf:3: @include \"bnd/ping.conf\": %s/bnd/ping.conf "
	     "is already being read (an include cycle)", dir, dir);
    fails("@include \"bnd/ping.conf\"\n", want);
    snprintf(want, sizeof(want), "~:2: @include \"t.conf\": %s/t.conf is "
	     "already being read (an include cycle)", dir);
    fails("i = 5;\n@include \"t.conf\"\n", want);
    /* The same file twice: in one file, and through another file. */
    snprintf(want, sizeof(want), "~:3: @include \"bnd/leaf.conf\": "
	     "%s/bnd/leaf.conf was already included at ~:1 (include a file "
	     "once)", dir);
    fails("@include \"bnd/leaf.conf\"\n\n@include \"bnd/leaf.conf\"\n", want);
    snprintf(want, sizeof(want), "~:2: @include \"bnd/leaf.conf\": "
	     "%s/bnd/leaf.conf was already included at %s/bnd/twice.conf:1 "
	     "(include a file once)", dir, dir);
    fails("@include \"bnd/twice.conf\"\n@include \"bnd/leaf.conf\"\n", want);
    /* Through a symbolic link: the same file. */
    assert_int_equal(symlink("leaf.conf", expand("~/bnd/alias.conf", dir)),
		     0);
    snprintf(want, sizeof(want), "~:2: @include \"bnd/alias.conf\": "
	     "%s/bnd/alias.conf was already included at ~:1 (include a file "
	     "once)", dir);
    fails("@include \"bnd/leaf.conf\"\n@include \"bnd/alias.conf\"\n", want);
    /* Once each is fine. */
    loads("@include \"bnd/twice.conf\"\nsec = 9;\n", &t);
    assert_int_equal(t.i, 7);
    cfg_free(&table, &t);
    /* Depth: d1 includes d2 ... d8 is the 8th level, d9 the 9th. */
    for (i = 1; i <= 9; i++) {
	snprintf(text, sizeof(text), "@include \"bnd/d%zu.conf\"\n", i + 1);
	snprintf(want, sizeof(want), "bnd/d%zu.conf", i);
	put(want, i == 9 ? "i = 9;\n" : i == 8 ? "i = 8;\n" : text);
    }
    loads("@include \"bnd/d1.conf\"\n", &t);
    assert_int_equal(t.i, 8);
    cfg_free(&table, &t);
    put("bnd/d8.conf", "@include \"bnd/d9.conf\"\n");
    snprintf(want, sizeof(want), "%s/bnd/d8.conf:1: @include "
	     "\"bnd/d9.conf\": includes nested more than 8 deep", dir);
    fails("@include \"bnd/d1.conf\"\n", want);
    /* Size: 1 MiB over all files, exactly; the main file alone, too. */
    big = malloc((1 << 20) + 2);
    assert_non_null(big);
    memset(big, '#', (size_t) (1 << 20) - 25);
    big[(1 << 20) - 25] = '\n';
    big[(1 << 20) - 24] = 0;
    put("bnd/big.conf", big);
    snprintf(text, sizeof(text), "@include \"bnd/big.conf\"\n");
    assert_int_equal(strlen(text), 24);
    loads(text, &t);
    cfg_free(&table, &t);
    fails("@include \"bnd/big.conf\"\n\n",
	  "~:1: @include \"bnd/big.conf\": the configuration and its "
	  "includes exceed 1048576 bytes");
    memset(big, '#', (size_t) 1 << 20);
    big[1 << 20] = '\n';
    big[(1 << 20) + 1] = 0;
    fails(big, "~: the configuration and its includes exceed 1048576 bytes");
    free(big);
    assert_int_equal(chdir(cwd), 0);
}

/* Issue 7: "min_share = .;" was read as 0.  libconfig 1.5 lexes "." and
 * the like as floats and reads them with atof(). */
static void
malformed_numbers(void **state)
{
    T       t;

    (void) state;
    fails("f = .;\n", "~:1: \".\" is not a number (no digits)");
    fails("\nf = -.;\n", "~:2: \"-.\" is not a number (no digits)");
    fails("f = +.e5;\n", "~:1: \"+.e5\" is not a number (no digits)");
    fails("els = ({ name = \"a\";\n f = .E-3; });\n",
	  "~:2: \".E-3\" is not a number (no digits)");
    fails("f = 1e999;\n", "~:1: f: inf is out of range 0..1");
    fails("f = -1e999;\n", "~:1: f: -inf is out of range 0..1");
    /* One digit is enough, on either side of the point. */
    loads("f = .5;\nex = 1.;\n", &t);
    assert_true(t.f == 0.5);
    assert_true(t.ex == 1.0);
    cfg_free(&table, &t);
    /* Negative zero is zero. */
    loads("f = -0.0;\n", &t);
    assert_true(t.f == 0 && !signbit(t.f));
    cfg_free(&table, &t);
}

/* Found by fuzz_conf: an include name with a line feed made an error
 * of several lines.  Control characters are shown as \xNN. */
static void
one_line_errors(void **state)
{
    char    want[1024];

    (void) state;
    snprintf(want, sizeof(want), "~:1: @include \"a\\x0ab\\x01\": cannot "
	     "open %s/a\\x0ab\\x01: No such file or directory (include paths "
	     "are relative to %s)", dir, dir);
    fails("@include \"a\nb\x01\"\n", want);
}

static void
round_trip(void **state)
{
    char   *a = 0, *b = 0;
    size_t  alen = 0, blen = 0;
    FILE   *fp;
    T       t, u;

    (void) state;
    loads("i = 77; big = 3000000000; f = 0.1; ex = 1; sec = \"1m\";\n"
	  "s = \"q\\\"uote\\\\ \\t tab\"; e = \"red\"; l = [];\n"
	  "sub = { s = \"x\"; };\n"
	  "els = ( { name = \"a\"; f = 1e-9; }, { name = \"b\"; } );\n", &t);
    assert_non_null(fp = open_memstream(&a, &alen));
    cfg_print(&table, &t, fp);
    fclose(fp);
    put("rt.conf", a);
    memset(&u, 0, sizeof(u));
    assert_int_equal(cfg_load(&table, &u, expand("~/rt.conf", dir), b, 0), 0);
    assert_non_null(fp = open_memstream(&b, &blen));
    cfg_print(&table, &u, fp);
    fclose(fp);
    assert_string_equal(a, b);
    assert_int_equal(u.big, 3000000000LL);
    assert_true(u.f == 0.1);
    assert_true(u.els[0].f == 1e-9);
    assert_string_equal(u.s, "q\"uote\\ \t tab");
    assert_non_null(strstr(a, "big = 3000000000L;\n"));
    assert_non_null(strstr(a, "sec = 60;\t# seconds\n"));
    assert_non_null(strstr(a, "mode = \"0660\";\n"));
    assert_non_null(strstr(a, "ex = 1.0;\n"));
    assert_non_null(strstr(a, "s = \"q\\\"uote\\\\ \\x09 tab\";\n"));
    assert_non_null(strstr(a, "l = [ ];\n"));
    assert_non_null(strstr(a, "e = \"red\";\n"));
    free(a);
    free(b);
    cfg_free(&table, &t);
    cfg_free(&table, &u);
}

static void
durations(void **state)
{
    static const struct {
	const char *in;
	int64_t unit;
	int     rc;
	int64_t out;
    } cases[] = {
	{"0", CFG_SEC, 0, 0},
	{"90", CFG_SEC, 0, 90},
	{"90s", CFG_SEC, 0, 90},
	{"5m", CFG_SEC, 0, 300},
	{"2h", CFG_SEC, 0, 7200},
	{"1d", CFG_SEC, 0, 86400},
	{"1w", CFG_SEC, 0, 604800},
	{"2000ms", CFG_SEC, 0, 2},
	{"100", CFG_MSEC, 0, 100},
	{"100ms", CFG_MSEC, 0, 100},
	{"3s", CFG_MSEC, 0, 3000},
	{"5", CFG_MIN, 0, 5},
	{"120s", CFG_MIN, 0, 2},
	{"1h", CFG_MIN, 0, 60},
	{"", CFG_SEC, -1, 0},
	{"s", CFG_SEC, -1, 0},
	{"5 s", CFG_SEC, -1, 0},
	{"5S", CFG_SEC, -1, 0},
	{"1.5s", CFG_SEC, -1, 0},
	{"+5", CFG_SEC, -1, 0},
	{"1001ms", CFG_SEC, -1, 0},
	{"99999999999999999999", CFG_SEC, -1, 0},
	{"9223372036854775807w", CFG_SEC, -1, 0},
    };
    char    msg[256];
    int64_t out;
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	out = -7;
	assert_int_equal(cfg_parse_duration(cases[i].in, cases[i].unit, &out,
					    msg, sizeof(msg)), cases[i].rc);
	assert_int_equal(out, cases[i].rc == 0 ? cases[i].out : -7);
    }
    cfg_parse_duration("99999999999999999999", CFG_SEC, &out, msg, sizeof(msg));
    assert_string_equal(msg, "\"99999999999999999999\" is too large");
}

static void
enum_names(void **state)
{
    (void) state;
    assert_string_equal(cfg_enum_name(&items[11], 10), "red");
    assert_string_equal(cfg_enum_name(&items[11], 30), "blue");
    assert_string_equal(cfg_enum_name(&items[11], 1), "?");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(defaults),
	cmocka_unit_test(values),
	cmocka_unit_test(big_integers),
	cmocka_unit_test(type_errors),
	cmocka_unit_test(range_errors),
	cmocka_unit_test(unknown_keys),
	cmocka_unit_test(required_and_hooks),
	cmocka_unit_test(sorted_and_capped),
	cmocka_unit_test(file_errors),
	cmocka_unit_test(includes),
	cmocka_unit_test(include_bounds),
	cmocka_unit_test(malformed_numbers),
	cmocka_unit_test(one_line_errors),
	cmocka_unit_test(round_trip),
	cmocka_unit_test(durations),
	cmocka_unit_test(enum_names),
    };

    return cmocka_run_group_tests_name("cfg", tests, setup, teardown);
}

/*
 * Unit tests for qtab: buckets, headings, layout, parents, merge.
 * Expected headings for large -b and a decimal -t come from running
 * qshape(1)'s own heading loop in Perl.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qtab.h"

#define S(lit)	lit, sizeof(lit) - 1
#define NOW	1700000000

static QTAB *
make(const char *opts_b, const char *opts_t, int linear, int parents)
{
    QT_OPTS o;
    char    err[128];
    QTAB   *t;

    qt_opts_default(&o);
    if (opts_b)
	o.nbuckets = atol(opts_b);
    if (opts_t)
	assert_int_equal(qt_parse_num(opts_t, &o.tick), 0);
    o.linear = linear;
    o.parents = parents;
    t = qt_create(&o, err, sizeof(err));
    assert_non_null(t);
    return t;
}

/* Print to a string (noinline: gcc 12 mistakes the result for a local). */
__attribute__((noinline)) static char *
render(const QTAB *t, long top_n, int json)
{
    char   *buf = 0;
    size_t  len = 0;
    FILE   *fp = open_memstream(&buf, &len);

    if (json)
	qt_print_json(t, fp, top_n, 0);
    else
	qt_print(t, fp, top_n);
    fclose(fp);
    return buf;
}

static void
buckets(void **state)
{
    QTAB   *g = make(0, 0, 0, 0);
    QTAB   *l = make(0, 0, 1, 0);
    static const struct {
	long    age;
	int     geo, lin;
    } t[] = {
	{-100, 1, 1}, {0, 1, 1}, {299, 1, 1}, {300, 2, 2}, {599, 2, 2},
	{600, 3, 3}, {899, 3, 3}, {900, 3, 4}, {1199, 3, 4}, {1200, 4, 5},
	{2400, 5, 9}, {76799, 9, 10}, {76800, 10, 10}, {999999999, 10, 10},
    };
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
	assert_int_equal(qt_bucket(g, NOW, NOW - t[i].age), t[i].geo);
	assert_int_equal(qt_bucket(l, NOW, NOW - t[i].age), t[i].lin);
    }
    qt_destroy(g);
    qt_destroy(l);
}

static void
layout(void **state)
{
    QTAB   *t = make("3", 0, 0, 0);
    char   *out;
    char    want[1024];

    (void) state;
    qt_add(t, S("x@A.example"), 1);
    qt_add(t, S("y@a.example"), 2);
    qt_add(t, S("z@b.example"), 3);
    out = render(t, 0, 0);
    snprintf(want, sizeof(want),
	     "%67s  T  5 10 10+\n"
	     "%67s  3  1  1   1\n"
	     "%67s  2  1  1   0\n"
	     "%67s  1  0  0   1\n", "", "TOTAL", "a.example", "b.example");
    assert_string_equal(out, want);
    free(out);
    /* -n 2: TOTAL counts as a row, as in qshape. */
    out = render(t, 2, 0);
    assert_int_equal(strlen(out), strlen(want) - 81);
    free(out);
    out = render(t, 0, 1);
    assert_string_equal(out,
	"{\"buckets\":[\"5\",\"10\",\"10+\"],\"total\":{\"count\":3,"
	"\"buckets\":[1,1,1]},\"rows\":["
	"{\"name\":\"a.example\",\"count\":2,\"buckets\":[1,1,0]},"
	"{\"name\":\"b.example\",\"count\":1,\"buckets\":[0,0,1]}]}\n");
    free(out);
    qt_destroy(t);
}

/* Long names keep their tail behind '+' (parents: '.+'). */
static void
truncation(void **state)
{
    QTAB   *t = make(0, 0, 0, 1);
    char   *out, *line;
    char    addr[200];
    int     i;

    (void) state;
    /* 5 subdomains of a long parent, so the parent row is shown. */
    for (i = 0; i < 5; i++) {
	snprintf(addr, sizeof(addr),
		 "u@s%d.a-very-long-subdomain-name-for-testing.example.org", i);
	qt_add(t, addr, strlen(addr), 1);
    }
    out = render(t, 0, 0);
    /* Columns take 41 of 80: the names get 39, tails of 37 and 38. */
    line = strstr(out, "\n.+");
    assert_non_null(line);
    assert_memory_equal(line + 1,
	".+ubdomain-name-for-testing.example.org  5  5  0", 48);
    line = strstr(out, "\n+");
    assert_non_null(line);
    assert_memory_equal(line + 1,
	"+subdomain-name-for-testing.example.org  1  1  0", 48);
    free(out);
    qt_destroy(t);
}

/* Names are printed escaped (log_printable), at their byte width; a tail
 * cut inside a UTF-8 character shows the cut bytes as '?'. */
static void
escaped_names(void **state)
{
    QTAB   *t = make("3", 0, 0, 0);
    static const uint64_t one[] = {1, 1, 0, 0};
    static const uint64_t two[] = {2, 0, 2, 0};
    char    name[68], want[1024];
    char   *out;

    (void) state;
    qt_add_key(t, S("e\x1b[2Jvil\r\n\xc2\x9b.example"), two);
    name[0] = 'x';
    memcpy(name + 1, "\xc3\xa9", 2);
    memset(name + 3, 'a', sizeof(name) - 3);
    qt_add_key(t, name, sizeof(name), one);
    out = render(t, 0, 0);
    snprintf(want, sizeof(want),
	     "%67s  T  5 10 10+\n"
	     "%67s  3  1  2   0\n"
	     "%67s  2  0  2   0\n"
	     "+?%.65s  1  1  0   0\n", "", "TOTAL", "e?[2Jvil????.example",
	     name + 3);
    assert_string_equal(out, want);
    free(out);
    qt_destroy(t);
}

/* Parent rows appear only with enough distinct subdomains (-m). */
static void
parent_rows(void **state)
{
    QTAB   *t = make(0, 0, 0, 1);
    char   *out;

    (void) state;
    qt_add(t, S("a@x.example.com"), 1);
    qt_add(t, S("a@x.example.com"), 1);
    qt_add(t, S("a@y.example.com"), 1);
    qt_add(t, S("a@z.y.example.com"), 1);
    out = render(t, 0, 1);
    /* .example.com has x, y and .y: 3 < 5, so hidden. */
    assert_null(strstr(out, "\".example.com\""));
    free(out);
    qt_destroy(t);

    {
	QT_OPTS o;
	char    err[64];

	qt_opts_default(&o);
	o.parents = 1;
	o.min_sub = 3;
	t = qt_create(&o, err, sizeof(err));
    }
    qt_add(t, S("a@x.example.com"), 1);
    qt_add(t, S("a@x.example.com"), 1);
    qt_add(t, S("a@y.example.com"), 1);
    qt_add(t, S("a@z.y.example.com"), 1);
    out = render(t, 0, 1);
    assert_non_null(strstr(out, "{\"name\":\".example.com\",\"count\":4,"));
    /* .y.example.com has one subdomain: hidden. */
    assert_null(strstr(out, "\".y.example.com\""));
    free(out);
    qt_destroy(t);
}

static void
headings(void **state)
{
    QTAB   *t = make("66", 0, 0, 0);
    char   *out;

    (void) state;
    out = render(t, 0, 0);
    assert_non_null(strstr(out, " 2882303761517117440 5764607523034234880 "
			   "11529215046068469760 2.30584300921369e+19 "
			   "4.61168601842739e+19 9.22337203685478e+19 "
			   "9.22337203685478e+19+\n"));
    free(out);
    qt_destroy(t);
    t = make("4", "1.5", 0, 0);
    out = render(t, 0, 0);
    assert_non_null(strstr(out, "  T 1.5  3  6 6+\n"));
    free(out);
    qt_destroy(t);
    t = make("4", "2", 1, 0);
    out = render(t, 0, 0);
    assert_non_null(strstr(out, "  T  2  4  6 6+\n"));
    free(out);
    qt_destroy(t);
}

static void
merge(void **state)
{
    QTAB   *a = make(0, 0, 0, 1), *b = make(0, 0, 0, 1), *all = make(0, 0, 0, 1);
    static const char *const addrs[] = {
	"a@p.q.example.com", "b@r.q.example.com", "c@q.example.com",
	"d@s.example.com", "e@t.example.com", "", "f@u.example.com",
    };
    char   *x, *y;
    size_t  i;

    (void) state;
    for (i = 0; i < 7; i++) {
	qt_add(i % 2 ? a : b, addrs[i], strlen(addrs[i]), (int) i % 3 + 1);
	qt_add(all, addrs[i], strlen(addrs[i]), (int) i % 3 + 1);
    }
    qt_merge(a, b);
    x = render(a, 0, 0);
    y = render(all, 0, 0);
    assert_string_equal(x, y);
    assert_non_null(strstr(y, ".example.com  6"));
    free(x);
    free(y);
    qt_destroy(a);
    qt_destroy(b);
    qt_destroy(all);
}

/* The first line of a rendering (the headings), and its TOTAL line. */
static void
check_lines(const QTAB *t, const char *head, const char *total)
{
    char   *out = render(t, 0, 0);
    char   *nl = strchr(out, '\n');

    assert_non_null(nl);
    assert_memory_equal(out, head, strlen(head));
    assert_int_equal(nl - out, (long) strlen(head));
    assert_memory_equal(nl + 1, total, strlen(total));
    assert_int_equal(nl[1 + strlen(total)], '\n');
    free(out);
}

/*
 * Column widths (qshape's results()): a column is one wider than the
 * longer of its heading and its TOTAL count, and at least 3; the domain
 * column takes the rest of 80 (or of a wider terminal), at least 18.
 * Each boundary alone: a count of 2 digits against 3, a count as long as
 * its heading against one longer, a name that just fits against one byte
 * more.
 */
static void
column_widths(void **state)
{
    static const uint64_t c99[] = {99, 49, 50, 0};
    static const uint64_t c100[] = {100, 50, 50, 0};
    static const uint64_t c999[] = {999, 0, 0, 999};
    static const uint64_t c1000[] = {1000, 0, 0, 1000};
    char    head[256], total[256];
    QTAB   *t;

    (void) state;
    /* TOTAL 99: every column 3 wide, the names 80 - 13 = 67. */
    t = make("3", 0, 0, 0);
    qt_add_key(t, S("a.example"), c99);
    snprintf(head, sizeof(head), "%67s  T  5 10 10+", "");
    snprintf(total, sizeof(total), "%67s 99 49 50   0", "TOTAL");
    check_lines(t, head, total);
    qt_destroy(t);
    /* TOTAL 100: its column 4 wide, the names 66. */
    t = make("3", 0, 0, 0);
    qt_add_key(t, S("a.example"), c100);
    snprintf(head, sizeof(head), "%66s   T  5 10 10+", "");
    snprintf(total, sizeof(total), "%66s 100 50 50   0", "TOTAL");
    check_lines(t, head, total);
    qt_destroy(t);
    /* 999 under "10+": as long as the heading, 4 wide; 1000: 5 wide. */
    t = make("3", 0, 0, 0);
    qt_add_key(t, S("a.example"), c999);
    snprintf(head, sizeof(head), "%66s   T  5 10 10+", "");
    snprintf(total, sizeof(total), "%66s 999  0  0 999", "TOTAL");
    check_lines(t, head, total);
    qt_destroy(t);
    t = make("3", 0, 0, 0);
    qt_add_key(t, S("a.example"), c1000);
    snprintf(head, sizeof(head), "%64s    T  5 10  10+", "");
    snprintf(total, sizeof(total), "%64s 1000  0  0 1000", "TOTAL");
    check_lines(t, head, total);
    qt_destroy(t);
}

/* A wider terminal gives the names the difference; a narrow rest is
 * raised to 18. */
static void
domain_width(void **state)
{
    QT_OPTS o;
    char    err[64], head[256], *out;
    QTAB   *t;

    (void) state;
    qt_opts_default(&o);
    o.nbuckets = 3;
    o.width = 81;
    t = qt_create(&o, err, sizeof(err));
    out = render(t, 0, 0);
    snprintf(head, sizeof(head), "%68s  T  5 10 10+\n", "");
    assert_memory_equal(out, head, strlen(head));
    free(out);
    qt_destroy(t);
    /* 20 buckets take 3 * 20 + 4 of 80: the names get 18 (16 clamped,
     * the 18 of qshape's $dwidth); with 19 buckets, 80 - 61 = 19. */
    o.width = 80;
    o.nbuckets = 19;
    o.linear = 1;
    t = qt_create(&o, err, sizeof(err));
    out = render(t, 0, 0);
    assert_int_equal(strspn(out, " "), 19 + 2);	/* 19, then "  T" */
    free(out);
    qt_destroy(t);
    o.nbuckets = 20;
    t = qt_create(&o, err, sizeof(err));
    out = render(t, 0, 0);
    assert_int_equal(strspn(out, " "), 18 + 2);
    free(out);
    qt_destroy(t);
    o.nbuckets = 21;				/* 80 - 67 = 13: 18 */
    t = qt_create(&o, err, sizeof(err));
    out = render(t, 0, 0);
    assert_int_equal(strspn(out, " "), 18 + 2);
    free(out);
    qt_destroy(t);
}

/* A name exactly as wide as the column is printed whole; one byte more
 * keeps its tail behind '+' ('.+' for a parent). */
static void
name_fits(void **state)
{
    static const uint64_t one[] = {1, 1, 0, 0};
    char    name[80], want[1024], *out;
    QTAB   *t;

    (void) state;
    memset(name, 'n', sizeof(name));
    memcpy(name + 60, ".example", 8);		/* 68 bytes */
    t = make("3", 0, 0, 0);
    qt_add_key(t, name + 1, 67, one);		/* 67: fits */
    out = render(t, 0, 0);
    snprintf(want, sizeof(want), "%.67s  1  1  0   0\n", name + 1);
    assert_non_null(strstr(out, want));
    free(out);
    qt_destroy(t);
    t = make("3", 0, 0, 0);
    qt_add_key(t, name, 68, one);		/* 68: cut */
    out = render(t, 0, 0);
    snprintf(want, sizeof(want), "\n+%.66s  1  1  0   0\n", name + 2);
    assert_non_null(strstr(out, want));
    free(out);
    qt_destroy(t);
    name[0] = '.';
    t = make("3", 0, 0, 0);
    qt_add_key(t, name, 68, one);		/* a parent, cut */
    out = render(t, 0, 0);
    assert_null(strstr(out, "\n.+"));		/* too few subdomains */
    free(out);
    qt_destroy(t);
}

/* Headings past the largest double print as Perl prints them: Inf. */
static void
infinite_headings(void **state)
{
    QTAB   *t = make("4", "1e308", 0, 0);
    char   *out;

    (void) state;
    out = render(t, 0, 0);
    assert_non_null(strstr(out, "  T 1e+308 Inf Inf Inf+\n"));
    assert_int_equal(strspn(out, " "), 59);	/* 80 - 3 - 7 - 4 - 4 - 5 */
    assert_null(strstr(out, "-Inf"));
    free(out);
    qt_destroy(t);
}

/* A merge carries every bucket, the last one too. */
static void
merge_last_bucket(void **state)
{
    QTAB   *a = make("3", 0, 0, 0), *b = make("3", 0, 0, 0);
    char   *out;

    (void) state;
    qt_add(a, S("x@one.example"), 3);
    qt_add(b, S("y@one.example"), 3);
    qt_add(b, S("z@two.example"), 1);
    qt_merge(a, b);
    out = render(a, 0, 1);
    assert_string_equal(out,
	"{\"buckets\":[\"5\",\"10\",\"10+\"],\"total\":{\"count\":3,"
	"\"buckets\":[1,0,2]},\"rows\":["
	"{\"name\":\"one.example\",\"count\":2,\"buckets\":[0,0,2]},"
	"{\"name\":\"two.example\",\"count\":1,\"buckets\":[1,0,0]}]}\n");
    free(out);
    qt_destroy(a);
    qt_destroy(b);
}

/* JSON names: quote and backslash escaped, control and non-ASCII bytes
 * as \u00XX, the rest as is; "extra" appended. */
static void
json_names(void **state)
{
    QTAB   *t = make("1", 0, 0, 0);
    static const uint64_t one[] = {1, 1};
    char   *buf = 0;
    size_t  len = 0;
    FILE   *fp;

    (void) state;
    qt_add_key(t, S("a\"b\\c\x1f\x20~\x7f\xc3"), one);
    fp = open_memstream(&buf, &len);
    qt_print_json(t, fp, 0, "\"x\":1");
    fclose(fp);
    assert_string_equal(buf,
	"{\"buckets\":[\"0+\"],\"total\":{\"count\":1,\"buckets\":[1]},"
	"\"rows\":[{\"name\":\"a\\\"b\\\\c\\u001f ~\\u007f\\u00c3\","
	"\"count\":1,\"buckets\":[1]}],\"x\":1}\n");
    free(buf);
    qt_destroy(t);
    /* A single key shorter than "TOTAL" sorts before it: still a row. */
    t = make("1", 0, 0, 0);
    qt_add_key(t, S("a.b"), one);
    buf = render(t, 0, 1);
    assert_string_equal(buf,
	"{\"buckets\":[\"0+\"],\"total\":{\"count\":1,\"buckets\":[1]},"
	"\"rows\":[{\"name\":\"a.b\",\"count\":1,\"buckets\":[1]}]}\n");
    free(buf);
    qt_destroy(t);
}

static void
numbers(void **state)
{
    QT_NUM  n;
    QT_OPTS o;
    char    err[64];

    (void) state;
    assert_int_equal(qt_parse_num("5", &n), 0);
    assert_int_equal(n.is_int, 1);
    assert_int_equal(n.u, 5);
    assert_int_equal(qt_parse_num(" 7", &n), 0);
    assert_int_equal(n.u, 7);
    assert_int_equal(qt_parse_num("1e1", &n), 0);
    assert_int_equal(n.is_int, 0);
    assert_true(n.d == 10.0);
    /* Integers while every character is a digit, 0 and 9 included, up
     * to 19 digits; a decimal form starting with any digit or '.'. */
    assert_int_equal(qt_parse_num("10", &n), 0);
    assert_int_equal(n.is_int, 1);
    assert_int_equal(n.u, 10);
    assert_int_equal(qt_parse_num("0", &n), 0);
    assert_int_equal(n.is_int, 1);
    assert_int_equal(n.u, 0);
    assert_int_equal(qt_parse_num("9", &n), 0);
    assert_int_equal(n.is_int, 1);
    assert_int_equal(n.u, 9);
    assert_int_equal(qt_parse_num("9999999999999999999", &n), 0);
    assert_int_equal(n.is_int, 1);
    assert_int_equal(qt_parse_num("10000000000000000000", &n), 0);
    assert_int_equal(n.is_int, 0);
    assert_true(n.d == 1e19);
    assert_int_equal(qt_parse_num("9.5", &n), 0);
    assert_int_equal(n.is_int, 0);
    assert_true(n.d == 9.5);
    assert_int_equal(qt_parse_num("0.5", &n), 0);
    assert_true(n.d == 0.5);
    assert_int_equal(qt_parse_num(".5", &n), 0);
    assert_true(n.d == 0.5);
    assert_int_equal(qt_parse_num("abc", &n), -1);
    assert_int_equal(qt_parse_num("5x", &n), -1);
    assert_int_equal(qt_parse_num("", &n), -1);
    qt_opts_default(&o);
    o.nbuckets = 0;
    assert_null(qt_create(&o, err, sizeof(err)));
    assert_string_equal(err, "bucket count must be 1..1000");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(buckets),
	cmocka_unit_test(layout),
	cmocka_unit_test(truncation),
	cmocka_unit_test(escaped_names),
	cmocka_unit_test(parent_rows),
	cmocka_unit_test(headings),
	cmocka_unit_test(merge),
	cmocka_unit_test(numbers),
	cmocka_unit_test(column_widths),
	cmocka_unit_test(domain_width),
	cmocka_unit_test(name_fits),
	cmocka_unit_test(infinite_headings),
	cmocka_unit_test(merge_last_bucket),
	cmocka_unit_test(json_names),
    };

    return cmocka_run_group_tests_name("qtab", tests, 0, 0);
}

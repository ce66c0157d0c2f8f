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
    };

    return cmocka_run_group_tests_name("qtab", tests, 0, 0);
}

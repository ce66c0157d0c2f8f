/*
 * Unit tests for regdom: parent-domain keys stop at the registrable
 * domain (libpsl's built-in Public Suffix List).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "addr.h"
#include "index.h"
#include "regdom.h"
#include "verdict.h"

#define MAXP	RD_PARENTS_MAX

typedef struct CASE {
    const char *domain;			/* a domain key (addr_qshape_domain) */
    const char *parent[MAXP + 1];	/* closest first, NULL-terminated */
} CASE;

static const CASE cases[] = {
    /* Issue 7, item 8: never .co.uk. */
    {"a.mail.shop.co.uk", {".mail.shop.co.uk", ".shop.co.uk"}},
    {"mail.shop.co.uk", {".shop.co.uk"}},
    {"shop.co.uk", {0}},
    {"co.uk", {0}},
    {"uk", {0}},
    {"x.example.com", {".example.com"}},
    {"a.b.example.com", {".b.example.com", ".example.com"}},
    {"example.com", {0}},
    {"com", {0}},
    /* Wildcard rule *.ck: foo.ck is a public suffix. */
    {"a.b.foo.ck", {".b.foo.ck"}},
    {"b.foo.ck", {0}},
    {"foo.ck", {0}},
    /* Exception !www.ck: www.ck is registrable. */
    {"a.www.ck", {".www.ck"}},
    {"www.ck", {0}},
    /* *.kawasaki.jp with !city.kawasaki.jp. */
    {"x.a.city.kawasaki.jp", {".a.city.kawasaki.jp", ".city.kawasaki.jp"}},
    {"x.a.b.kawasaki.jp", {".a.b.kawasaki.jp"}},
    {"a.b.kawasaki.jp", {0}},
    /* The private section counts: github.io is never a key. */
    {"a.x.github.io", {".x.github.io"}},
    {"x.github.io", {0}},
    /* IDN: UTF-8 and punycode of 公司.cn, a public suffix. */
    {"a.b.\xe5\x85\xac\xe5\x8f\xb8.cn", {".b.\xe5\x85\xac\xe5\x8f\xb8.cn"}},
    {"b.\xe5\x85\xac\xe5\x8f\xb8.cn", {0}},
    {"a.b.xn--55qx5d.cn", {".b.xn--55qx5d.cn"}},
    {"b.xn--55qx5d.cn", {0}},
    /* A name the list does not know ends at its last label, as qshape. */
    {"a.b.internal", {".b.internal"}},
    {"b.internal", {0}},
    /* Trailing dot (left by addr_qshape_domain for "x@a.example.com..."). */
    {"a.example.com.", {".example.com."}},
    {"example.com.", {0}},
    /* Leading dot ("x@...r1.evil.example"): the list is asked without it. */
    {".r1.evil.example", {".evil.example"}},
    {".evil.example", {0}},
    /* Empty labels inside: libpsl's answer, the same everywhere. */
    {"a..b.example.com", {"..b.example.com"}},
    /* Not domains. */
    {"MAILER-DAEMON", {0}},
    {"", {0}},
    {".", {0}},
    /* Deep: the eight most general parents stay. */
    {"l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.example.com",
     {".l4.l5.l6.l7.l8.l9.l10.example.com", ".l5.l6.l7.l8.l9.l10.example.com",
      ".l6.l7.l8.l9.l10.example.com", ".l7.l8.l9.l10.example.com",
      ".l8.l9.l10.example.com", ".l9.l10.example.com", ".l10.example.com",
      ".example.com"}},
};

static void
check(const char *d, size_t len, const char *const *want)
{
    uint16_t off[MAXP];
    size_t  n = rd_parents(d, len, off), i;

    for (i = 0; i < n; i++) {
	assert_non_null(want[i]);
	assert_int_equal(len - off[i], strlen(want[i]));
	assert_memory_equal(d + off[i], want[i], len - off[i]);
	/* Never a public suffix, and each the qshape parent of the one
	 * before: a contiguous piece of qshape's chain. */
	assert_false(rd_is_public_suffix(d + off[i] + 1, len - off[i] - 1));
	if (i > 0)
	    assert_int_equal(off[i - 1] + addr_qshape_parent_at(
			     d + off[i - 1], len - off[i - 1]), off[i]);
    }
    assert_null(want[n]);
}

static void
table(void **state)
{
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	print_message("%s\n", cases[i].domain);
	check(cases[i].domain, strlen(cases[i].domain), cases[i].parent);
    }
}

/* The first parent is qshape's when nothing is cut. */
static void
same_start_as_qshape(void **state)
{
    static const char d[] = "a.b.c.example.org";
    uint16_t off[MAXP];

    (void) state;
    assert_int_equal(rd_parents(d, sizeof(d) - 1, off), 3);
    assert_int_equal(off[0], addr_qshape_parent_at(d, sizeof(d) - 1));
}

/* Names of RD_NAME_MAX bytes have parents, one byte more has none. */
static void
long_names(void **state)
{
    char    d[70000];
    uint16_t off[MAXP];
    size_t  n;

    (void) state;
    /* "a.a. ... a.example.com" of exactly 255 bytes: 122 "a." */
    for (n = 0; n < 2 * 122;)
	n += (size_t) sprintf(d + n, "a.");
    n += (size_t) sprintf(d + n, "example.com");
    assert_int_equal(n, RD_NAME_MAX);
    assert_int_equal(rd_parents(d, n, off), MAXP);
    assert_string_equal(d + off[0], ".a.a.a.a.a.a.a.example.com");
    assert_string_equal(d + off[MAXP - 1], ".example.com");
    /* One more leading label byte: not a DNS name, no parents. */
    memmove(d + 1, d, n + 1);
    d[0] = 'b';
    assert_int_equal(rd_parents(d, n + 1, off), 0);
    /* 60 KB of labels: no parents, and no time spent on them. */
    for (n = 0; n + 2 < sizeof(d) - 20;)
	n += (size_t) sprintf(d + n, "a.");
    n += (size_t) sprintf(d + n, "example.com");
    assert_int_equal(rd_parents(d, n, off), 0);
    /* A NUL inside is not a name either. */
    assert_int_equal(rd_parents("a.b\0c.example.com", 17, off), 0);
}

static void
public_suffixes(void **state)
{
    (void) state;
    assert_true(rd_is_public_suffix("co.uk", 5));
    assert_true(rd_is_public_suffix("com", 3));
    assert_true(rd_is_public_suffix("foo.ck", 6));
    assert_true(rd_is_public_suffix("github.io", 9));
    assert_false(rd_is_public_suffix("www.ck", 6));
    assert_false(rd_is_public_suffix("shop.co.uk", 10));
    assert_false(rd_is_public_suffix("", 0));
}

/* The built-in list, named for the logs. */
static void
list_info(void **state)
{
    const char *s = rd_list_info();

    (void) state;
    assert_int_equal(strncmp(s, "libpsl ", 7), 0);
    assert_non_null(strstr(s, ", built-in list of "));
}

/* The parent keys the milter asks for, recorded by its lookup. */
typedef struct ASKED {
    char    key[MAXP + 1][RD_NAME_MAX + 2];
    size_t  n;
} ASKED;

static int
record(void *ctx, int kind, const char *key, size_t len, uint64_t digest,
       QS_THROTTLE *out)
{
    ASKED  *a = ctx;

    (void) digest;
    assert_int_equal(kind, QS_KEY_PARENT_DOMAIN);
    if (key == 0)			/* some parent is throttled: ask */
	return 1;
    assert_true(a->n <= MAXP && len <= RD_NAME_MAX + 1);
    memcpy(a->key[a->n], key, len);
    a->key[a->n++][len] = 0;
    memset(out, 0, sizeof(*out));
    return 1;				/* every key is throttled */
}

/*
 * The scanner's index (what it counts and publishes) and the milter's
 * lookups (verdict.c) give a sender the same parent keys: rd_parents()'s.
 */
static void
index_and_milter_agree(void **state)
{
    static const char conf[] =
	"summary_file = \"/run/qshape-test-regdom/summary\";\n"
	"policies = ( { name = \"parents\"; key = \"parent_domain\";\n"
	"  action = \"tempfail\"; } );\n";
    static const char *const from[] = {
	"a@a.mail.shop.co.uk", "b@shop.co.uk", "c@co.uk", "d@a.b.foo.ck",
	"e@x.y.example.com", "f@a.www.ck", "G@A.X.GitHub.IO",
	"h@l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.example.com",
    };
    const IX_GEOM geom = {1, 10, 5.0, 0};
    char    path[] = "/tmp/test_regdom.XXXXXX", err[512], id[16];
    int     fd = mkstemp(path);
    QC_CONFIG *cf;
    size_t  i, j;

    (void) state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, conf, sizeof(conf) - 1), sizeof(conf) - 1);
    close(fd);
    cf = qc_load(path, err, sizeof(err));
    unlink(path);
    assert_non_null(cf);
    for (i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
	IX     *ix = ix_create(&geom);
	QF_FACTS f;
	VD_MSG  m;
	VD_VERDICT v;
	ASKED   asked;
	IX_RANK rank;

	memset(&f, 0, sizeof(f));
	f.sender = (QF_STR) {from[i], strlen(from[i])};
	snprintf(id, sizeof(id), "AGREE%zu", i);
	assert_int_equal(ix_put(ix, id, 0, &f, 0), 0);
	ix_count_keys(ix, QS_KEY_PARENT_DOMAIN, 0, 100, &rank);
	memset(&m, 0, sizeof(m));
	m.sender = from[i];
	m.sender_len = strlen(from[i]);
	/* Every key the milter asks about is throttled: it must match the
	 * closest of the index's keys (the longest), never another one. */
	asked.n = 0;
	vd_decide(cf, &m, VD_SUMMARY_OK, record, &asked, &v);
	print_message("%s: %zu parents, %zu asked\n", from[i], rank.nrows,
		      asked.n);
	if (rank.nrows == 0) {
	    assert_int_equal(v.why, VD_NO_MATCH);
	} else {
	    size_t  best = 0;

	    for (j = 1; j < rank.nrows; j++)
		if (rank.row[j].len > rank.row[best].len)
		    best = j;
	    assert_int_equal(v.why, VD_MATCH);
	    assert_string_equal(v.key, rank.row[best].key);
	    assert_false(rd_is_public_suffix(v.key + 1, strlen(v.key) - 1));
	}
	ix_destroy(ix);
    }
    qc_free(cf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(table),
	cmocka_unit_test(same_start_as_qshape),
	cmocka_unit_test(long_names),
	cmocka_unit_test(public_suffixes),
	cmocka_unit_test(list_info),
	cmocka_unit_test(index_and_milter_agree),
    };

    return cmocka_run_group_tests_name("regdom", tests, 0, 0);
}

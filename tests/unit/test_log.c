/*
 * Unit tests for log: log_printable(), the one escaping of outside text
 * (log.h lists what it escapes), and that log lines use it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"

#define S(lit)	lit, sizeof(lit) - 1

/* Escape in into a fresh buffer of exactly its length (ASan sees any
 * byte read or written past it) and compare with want, same length. */
static void
check(const char *in, size_t len, const char *want)
{
    char   *src = malloc(len ? len : 1);
    char   *dst = malloc(len ? len : 1);

    assert_int_equal(strlen(want), len);
    memcpy(src, in, len);
    log_printable(dst, src, len);
    assert_memory_equal(dst, want, len);
    /* In place gives the same. */
    log_printable(src, src, len);
    assert_memory_equal(src, want, len);
    free(src);
    free(dst);
}

/* C0 controls, DEL; the boundaries of printable ASCII. */
static void
ascii(void **state)
{
    (void) state;
    check(S(""), "");
    check(S("sender@example.com"), "sender@example.com");
    check(S("\"a\x1b[31mb\x07\"@x"), "\"a?[31mb?\"@x");
    check(S("line\r\nforged: x"), "line??forged: x");
    check(S("del\x7f!"), "del?!");
    check(S("nul\0x"), "nul?x");
    check(S("\x1f\x20"), "? ");
    check(S("\x7e\x7f"), "~?");
    check(S("\t"), "?");
}

/* Bytes >= 0x80: well-formed UTF-8 stays, C1 and ill-formed bytes go. */
static void
utf8(void **state)
{
    (void) state;
    /* Well-formed, 2, 3 and 4 bytes, the highest code point. */
    check(S("caf\xc3\xa9@b\xc3\xbc" "cher.example"),
	  "caf\xc3\xa9@b\xc3\xbc" "cher.example");
    check(S("\xe2\x82\xac \xf0\x9f\x98\x80"), "\xe2\x82\xac \xf0\x9f\x98\x80");
    check(S("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf");
    /* C1 controls as raw bytes (8-bit terminals) and as UTF-8. */
    check(S("a\x9b" "31mb"), "a?31mb");
    check(S("\x80\x9f"), "??");
    check(S("\xc2\x9b" "2J"), "??2J");
    /* The C1 boundary: U+009F escaped, U+00A0 kept. */
    check(S("\xc2\x9f"), "??");
    check(S("\xc2\xa0"), "\xc2\xa0");
    /* Separators and bidirectional controls. */
    check(S("x\xe2\x80\xaeyz"), "x???yz");
    check(S("\xe2\x80\xa8\xe2\x80\xa9"), "??????");
    check(S("\xe2\x81\xa6\xe2\x81\xa9"), "??????");
    check(S("\xe2\x80\x8f\xd8\x9c"), "?????");
    check(S("\xe2\x80\xa7\xe2\x80\xaf"), "\xe2\x80\xa7\xe2\x80\xaf");
    /* Their neighbours are kept (U+200D joins emoji). */
    check(S("\xd8\x9b\xd8\x9d"), "\xd8\x9b\xd8\x9d");
    check(S("\xe2\x80\x8d\xe2\x80\x8e\xe2\x80\x90"),
	  "\xe2\x80\x8d???\xe2\x80\x90");
    check(S("\xe2\x81\xa5\xe2\x81\xaa"), "\xe2\x81\xa5\xe2\x81\xaa");
    /* The edges of each length: U+07FF, U+FFFD, U+D7FF, U+E000. */
    check(S("\xdf\xbf\xef\xbf\xbd"), "\xdf\xbf\xef\xbf\xbd");
    check(S("\xed\x9f\xbf\xee\x80\x80"), "\xed\x9f\xbf\xee\x80\x80");
    check(S("\xf0\x90\x80\x80"), "\xf0\x90\x80\x80");
    /* Ill-formed: overlong, surrogate, beyond U+10FFFF, lone
     * continuation, cut short (also at the end), bad lead bytes. */
    check(S("\xc0\xaf\xc1\xbf"), "????");
    check(S("\xe0\x9f\xbf"), "???");
    check(S("\xf0\x8f\xbf\xbf"), "????");
    check(S("\xed\xa0\x80"), "???");
    check(S("\xf4\x90\x80\x80"), "????");
    check(S("\xbf" "a"), "?a");
    check(S("\xe2\x82" "a"), "??a");
    check(S("ok\xe2\x82"), "ok??");
    check(S("\xc3\n"), "??");
    check(S("\xf5\xff\xfe"), "???");
}

/* A field: everything log_printable() escapes, and space and ';'; the
 * rest, '<', '>', '=' and UTF-8 included, stays. */
static void
field(void **state)
{
    static const char in[] = "a b;c\r\nd\x1b<e>=f\xc3\xa9\xc2\x9b\t~";
    char    out[sizeof(in) - 1];
    char    inplace[sizeof(in)];

    (void) state;
    log_printable_field(out, in, sizeof(in) - 1);
    assert_memory_equal(out, "a?b?c??d?<e>=f\xc3\xa9???~", sizeof(out));
    memcpy(inplace, in, sizeof(in));
    log_printable_field(inplace, inplace, sizeof(in) - 1);
    assert_memory_equal(inplace, out, sizeof(out));
    log_printable_field(out, " ", 1);
    assert_int_equal(out[0], '?');
    log_printable_field(out, ";", 1);
    assert_int_equal(out[0], '?');
    log_printable_field(out, "!:", 2);
    assert_memory_equal(out, "!:", 2);
}

/* Log lines go through the same function: a forged line stays one. */
static void
log_line(void **state)
{
    char    buf[256];
    FILE   *fp;
    int     fd, saved;
    size_t  n;

    (void) state;
    fp = tmpfile();
    assert_non_null(fp);
    fflush(stderr);
    saved = dup(2);
    fd = fileno(fp);
    assert_int_equal(dup2(fd, 2), 2);
    log_init("test_log", 1, LOGL_INFO);
    log_warnx("from=<%s>", "a\r\nb\x1b\xc2\x9b\xc3\xa9");
    fflush(stderr);
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    rewind(fp);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = 0;
    fclose(fp);
    assert_string_equal(buf,
			"test_log: warning: from=<a??b???\xc3\xa9>\n");
}

/* Run fn with stderr in a temporary file (and JOURNAL_STREAM naming that
 * file when journal is set); the file's text in buf. */
static void
capture(void (*fn) (void), int journal, char *buf, size_t len)
{
    char    env[64];
    struct stat st;
    FILE   *fp;
    int     saved;
    size_t  n;

    fp = tmpfile();
    assert_non_null(fp);
    fflush(stderr);
    saved = dup(2);
    assert_int_equal(dup2(fileno(fp), 2), 2);
    assert_int_equal(fstat(2, &st), 0);
    snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long) st.st_dev,
	     (unsigned long long) st.st_ino);
    if (journal)
	setenv("JOURNAL_STREAM", env, 1);
    else
	unsetenv("JOURNAL_STREAM");
    fn();
    fflush(stderr);
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    unsetenv("JOURNAL_STREAM");
    rewind(fp);
    n = fread(buf, 1, len - 1, fp);
    buf[n] = 0;
    fclose(fp);
}

static void
three_levels(void)
{
    log_init("test_log", 1, LOGL_DEBUG);
    log_warnx("w");
    log_info("i");
    log_debug("d");
}

/* Under systemd (stderr is the journal stream), each line carries its
 * priority as sd-daemon(3) says, and not the name, which the journal
 * adds; otherwise no priority, and the name. */
static void
journal_prefix(void **state)
{
    char    buf[256];

    (void) state;
    capture(three_levels, 1, buf, sizeof(buf));
    assert_string_equal(buf, "<4>warning: w\n"
			"<6>i\n"
			"<7>debug: d\n");
    capture(three_levels, 0, buf, sizeof(buf));
    assert_string_equal(buf, "test_log: warning: w\n"
			"test_log: i\n"
			"test_log: debug: d\n");
}

/* JOURNAL_STREAM must name exactly our stderr. */
static void
journal_match(void **state)
{
    (void) state;
    assert_int_equal(log_journal_match("8:1234", 8, 1234), 1);
    assert_int_equal(log_journal_match("8:1234", 8, 1235), 0);
    assert_int_equal(log_journal_match("9:1234", 8, 1234), 0);
    assert_int_equal(log_journal_match("8:1234x", 8, 1234), 0);
    assert_int_equal(log_journal_match("8:", 8, 0), 0);
    assert_int_equal(log_journal_match(":1234", 0, 1234), 0);
    assert_int_equal(log_journal_match("", 0, 0), 0);
    assert_int_equal(log_journal_match(0, 0, 0), 0);
    assert_int_equal(log_journal_match("-8:1234", 8, 1234), 0);
}

static void
error_set(void)
{
    log_init("test_log", 1, LOGL_INFO);
    log_warnx_lines("reload: ", "a.conf:1: bad\n\na.conf:2: wo\x1brse\n");
}

/* A set of errors: one line each, never joined by '?'. */
static void
lines(void **state)
{
    char    buf[256];

    (void) state;
    capture(error_set, 0, buf, sizeof(buf));
    assert_string_equal(buf, "test_log: warning: reload: a.conf:1: bad\n"
			"test_log: warning: reload: a.conf:2: wo?rse\n");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(ascii),
	cmocka_unit_test(utf8),
	cmocka_unit_test(field),
	cmocka_unit_test(log_line),
	cmocka_unit_test(journal_prefix),
	cmocka_unit_test(journal_match),
	cmocka_unit_test(lines),
    };

    return cmocka_run_group_tests(tests, 0, 0);
}

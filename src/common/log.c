/*
 * log - one logger for every program.  See log.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "log.h"

static const char *log_name = "qshape";
static int log_stderr = 1;
static LOG_LEVEL log_level = LOGL_INFO;
static int log_journal;			/* stderr is the journal: "<N>" */

int
log_journal_match(const char *env, unsigned long long dev,
		  unsigned long long ino)
{
    unsigned long long d, i;
    char   *end;

    if (env == 0 || *env < '0' || *env > '9')
	return 0;
    errno = 0;
    d = strtoull(env, &end, 10);
    if (*end != ':' || end[1] < '0' || end[1] > '9' || errno != 0)
	return 0;
    i = strtoull(end + 1, &end, 10);
    return *end == 0 && errno == 0 && d == dev && i == ino;
}

/* Is stderr the journal stream systemd gave us? */
static int
stderr_is_journal(void)
{
    struct stat st;
    int     saved = errno, rc;

    rc = fstat(2, &st) == 0 && log_journal_match(getenv("JOURNAL_STREAM"),
						 (unsigned long long) st.st_dev,
						 (unsigned long long) st.st_ino);
    errno = saved;
    return rc;
}

void
log_init(const char *progname, int to_stderr, LOG_LEVEL level)
{
    const char *slash = strrchr(progname, '/');

    log_name = slash ? slash + 1 : progname;
    log_stderr = to_stderr;
    log_level = level;
    log_journal = to_stderr && stderr_is_journal();
    /* On stderr too: what a library sends to syslog itself (libmilter's
     * errors) then has facility mail as well. */
    openlog(log_name, LOG_PID | (to_stderr ? 0 : LOG_NDELAY), LOG_MAIL);
}

void
log_set_level(LOG_LEVEL level)
{
    log_level = level;
}

const char *
log_progname(void)
{
    return log_name;
}

/*
 * The length (2..4) of the well-formed UTF-8 sequence that starts s, with
 * its code point in *cp; 0 when s does not start one (RFC 3629: overlong
 * forms, surrogates and values above U+10FFFF are ill-formed).
 */
static size_t
utf8_char(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    uint32_t v, min;
    size_t  n, i;

    if (c >= 0xc2 && c <= 0xdf)
	n = 2, v = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
	n = 3, v = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
	n = 4, v = c & 0x07, min = 0x10000;
    else
	return 0;
    if (len < n)
	return 0;
    for (i = 1; i < n; i++) {
	if ((s[i] & 0xc0) != 0x80)
	    return 0;
	v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
	return 0;
    *cp = v;
    return n;
}

/* A character that acts on the display instead of showing (log.h). */
static int
utf8_control(uint32_t cp)
{
    return cp <= 0x9f || cp == 0x61c || cp == 0x200e || cp == 0x200f
	|| (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void
log_printable(char *dst, const char *src, size_t len)
{
    const unsigned char *s = (const unsigned char *) src;
    size_t  i = 0, n, k;
    uint32_t cp;

    while (i < len) {
	if (s[i] >= 0x20 && s[i] < 0x7f) {
	    dst[i] = (char) s[i];
	    i++;
	    continue;
	}
	if (s[i] < 0x80 || (n = utf8_char(s + i, len - i, &cp)) == 0) {
	    dst[i++] = '?';
	    continue;
	}
	for (k = 0; k < n; k++, i++)
	    dst[i] = utf8_control(cp) ? '?' : (char) s[i];
    }
}

void
log_printable_field(char *dst, const char *src, size_t len)
{
    size_t  i;

    log_printable(dst, src, len);
    for (i = 0; i < len; i++)
	if (dst[i] == ' ' || dst[i] == ';')
	    dst[i] = '?';
}

static const int log_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

/* One line, already escaped, to where lines go. */
static void
emit(LOG_LEVEL level, const char *tag, const char *line)
{
    if (log_journal)			/* the journal adds the name */
	fprintf(stderr, "<%d>%s%s\n", log_prio[level], tag, line);
    else if (log_stderr)
	fprintf(stderr, "%s: %s%s\n", log_name, tag, line);
    else
	syslog(log_prio[level], "%s%s", tag, line);
}

static void LOG_FMT(3, 0)
vlog(LOG_LEVEL level, const char *tag, const char *fmt, va_list ap,
     int err)
{
    char    buf[2048];
    int     n;

    if (level > log_level)
	return;
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    if (err && n >= 0 && (size_t) n < sizeof(buf))
	snprintf(buf + n, sizeof(buf) - (size_t) n, ": %s", strerror(err));
    log_printable(buf, buf, strlen(buf));
    emit(level, tag, buf);
}

static void
vlog_lines(LOG_LEVEL level, const char *tag, const char *prefix,
	   const char *text)
{
    char    buf[2048];
    size_t  len, plen = strlen(prefix);
    const char *nl;

    if (level > log_level)
	return;
    for (; *text; text = *nl ? nl + 1 : nl) {
	nl = strchr(text, '\n');
	if (nl == 0)
	    nl = text + strlen(text);
	if ((len = (size_t) (nl - text)) == 0)
	    continue;
	if (plen + len >= sizeof(buf))
	    len = plen < sizeof(buf) - 1 ? sizeof(buf) - 1 - plen : 0;
	snprintf(buf, sizeof(buf), "%s%.*s", prefix, (int) len, text);
	log_printable(buf, buf, strlen(buf));
	emit(level, tag, buf);
    }
}

void
log_warnx_lines(const char *prefix, const char *text)
{
    vlog_lines(LOGL_WARN, "warning: ", prefix, text);
}

void
log_fatalx_lines(const char *prefix, const char *text)
{
    vlog_lines(LOGL_ERR, "fatal: ", prefix, text);
    exit(1);
}

#define LOG_BODY(level, tag, err) do { \
	va_list ap; \
	va_start(ap, fmt); \
	vlog((level), (tag), fmt, ap, (err)); \
	va_end(ap); \
    } while (0)

void
log_warn(const char *fmt, ...)
{
    int     err = errno;

    LOG_BODY(LOGL_WARN, "warning: ", err);
}

void
log_warnx(const char *fmt, ...)
{
    LOG_BODY(LOGL_WARN, "warning: ", 0);
}

void
log_info(const char *fmt, ...)
{
    LOG_BODY(LOGL_INFO, "", 0);
}

void
log_debug(const char *fmt, ...)
{
    LOG_BODY(LOGL_DEBUG, "debug: ", 0);
}

void
log_fatal(const char *fmt, ...)
{
    int     err = errno;

    LOG_BODY(LOGL_ERR, "fatal: ", err);
    exit(1);
}

void
log_fatalx(const char *fmt, ...)
{
    LOG_BODY(LOGL_ERR, "fatal: ", 0);
    exit(1);
}

void
log_panic(const char *fmt, ...)
{
    LOG_BODY(LOGL_ERR, "panic: ", 0);
    abort();
}

/*
 * log - one logger for every program.  See log.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static const char *log_name = "qshape";
static int log_stderr = 1;
static LOG_LEVEL log_level = LOGL_INFO;

void
log_init(const char *progname, int to_stderr, LOG_LEVEL level)
{
    const char *slash = strrchr(progname, '/');

    log_name = slash ? slash + 1 : progname;
    log_stderr = to_stderr;
    log_level = level;
    if (!to_stderr)
	openlog(log_name, LOG_PID | LOG_NDELAY, LOG_MAIL);
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

/* As Postfix does: no control character from a sender may start a new
 * log line or move the terminal's cursor. */
static void
printable(char *s)
{
    for (; *s; s++)
	if ((unsigned char) *s < 0x20 || (unsigned char) *s == 0x7f)
	    *s = '?';
}

static void LOG_FMT(3, 0)
vlog(LOG_LEVEL level, const char *tag, const char *fmt, va_list ap,
     int err)
{
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    char    buf[2048];
    int     n;

    if (level > log_level)
	return;
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    if (err && n >= 0 && (size_t) n < sizeof(buf))
	snprintf(buf + n, sizeof(buf) - (size_t) n, ": %s", strerror(err));
    printable(buf);
    if (log_stderr)
	fprintf(stderr, "%s: %s%s\n", log_name, tag, buf);
    else
	syslog(prio[level], "%s%s", tag, buf);
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

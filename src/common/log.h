/*
 * log - one logger for every program.
 *
 * Messages go to stderr in the foreground and to syslog (facility mail)
 * otherwise, filtered by level in one place.  log_warn() appends
 * strerror(errno); log_warnx() does not.  Control characters in a message
 * are written as '?', so that data from the network cannot forge lines.  log_fatal*() exit(1) (bad config,
 * start-up); log_panic() aborts (our own invariant broken).
 */
#ifndef QSHAPE_LOG_H
#define QSHAPE_LOG_H

#include <stdarg.h>

#define LOG_FMT(a, b)	__attribute__((format(printf, a, b)))

typedef enum LOG_LEVEL {
    LOGL_ERR = 0,
    LOGL_WARN,
    LOGL_INFO,
    LOGL_DEBUG
} LOG_LEVEL;

/* Where to log: stderr (foreground) or syslog. */
extern void log_init(const char *progname, int to_stderr, LOG_LEVEL level);
extern void log_set_level(LOG_LEVEL);
extern const char *log_progname(void);

extern void log_warn(const char *, ...) LOG_FMT(1, 2);
extern void log_warnx(const char *, ...) LOG_FMT(1, 2);
extern void log_info(const char *, ...) LOG_FMT(1, 2);
extern void log_debug(const char *, ...) LOG_FMT(1, 2);
extern _Noreturn void log_fatal(const char *, ...) LOG_FMT(1, 2);
extern _Noreturn void log_fatalx(const char *, ...) LOG_FMT(1, 2);
extern _Noreturn void log_panic(const char *, ...) LOG_FMT(1, 2);

#endif

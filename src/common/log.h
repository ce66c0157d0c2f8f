/*
 * log - one logger for every program.
 *
 * Messages go to stderr in the foreground and to syslog (facility mail)
 * otherwise, filtered by level in one place.  syslog's facility is mail in
 * both cases, for the lines a library logs itself (libmilter).  When
 * stderr is the systemd journal's stream (JOURNAL_STREAM names its device
 * and inode), each stderr line starts with "<N>", N the syslog priority
 * (sd-daemon(3)), so that the journal, and rsyslog after it, file the
 * line at its priority (under the facility the unit's SyslogFacility=
 * gives); the program's name is left out there, since the journal tags
 * the line with it ("qshape-milter[PID]: ...", as syslog(3) does).
 * log_warn() appends strerror(errno); log_warnx() does not.
 * log_fatal*() exit(1) (bad config, start-up); log_panic() aborts (our
 * own invariant broken).
 *
 * Every message goes through log_printable(), the one escaping of text
 * that came from outside (senders, queue files, the summary): qshapectl
 * and the qshape table use it too, so that such text can neither forge a
 * log line nor act on the operator's terminal.  It writes as '?' each byte
 * of:
 *   - a C0 control (0x00-0x1f) or DEL (0x7f);
 *   - a byte >= 0x80 that is not part of well-formed UTF-8 (RFC 3629: no
 *     overlong forms, no surrogates, nothing above U+10FFFF; a sequence
 *     cut short counts as ill-formed), since an 8-bit terminal takes bytes
 *     0x80-0x9f as C1 controls;
 *   - a well-formed character that controls rather than shows: the C1
 *     controls U+0080-U+009F, the line and paragraph separators U+2028,
 *     U+2029, and the bidirectional controls U+061C, U+200E, U+200F,
 *     U+202A-U+202E, U+2066-U+2069 (which would make a key read
 *     reversed).
 * Printable ASCII and every other well-formed UTF-8 character (SMTPUTF8
 * senders) are kept.  Escaping keeps the length: byte i of the output
 * stands for byte i of the input, so column widths computed on the input
 * still hold.
 */
#ifndef QSHAPE_LOG_H
#define QSHAPE_LOG_H

#include <stdarg.h>
#include <stddef.h>

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

/*
 * A text of several lines ('\n'-separated, such as the error set of
 * qc_load()): one log line per line, each with prefix before it.  Empty
 * lines are skipped.  Never use them on text from outside that must stay
 * one line: log_warnx() and the others keep a '\n' as '?'.
 */
extern void log_warnx_lines(const char *prefix, const char *text);
extern _Noreturn void log_fatalx_lines(const char *prefix, const char *text);

/* Pure: whether JOURNAL_STREAM's value env ("DEVICE:INODE", decimal)
 * names the file of device dev and inode ino.  0 for NULL or garbage. */
extern int log_journal_match(const char *env, unsigned long long dev,
			     unsigned long long ino);

/* Write len bytes to dst: src, escaped as above.  dst may be src (in
 * place); otherwise they must not overlap.  No NUL is added. */
extern void log_printable(char *dst, const char *src, size_t len);

/*
 * The same for outside text that is one field of a line of key=value
 * fields (a sender, a key, a client name): log_printable() and, as '?'
 * too, every space and ';', so that the text can neither start a field
 * of its own nor end the "TEXT;" part of a Postfix-style line.  Same
 * length, same rules for dst and src.
 */
extern void log_printable_field(char *dst, const char *src, size_t len);

#endif

/*
 * qf - Postfix queue-file parser.
 *
 * Pure: bytes in, facts out.  The bytes come from a QF_SOURCE, a window
 * provider the caller implements (memory for tests and fuzzing, pread() for
 * the queue walker); the parser never sees a path, a descriptor or errno.
 *
 * It reads the envelope, follows 'p' pointer records (protected against
 * loops and out-of-range offsets), skips the content with the C record's
 * size, and reads the extracted segment when it must.  Asked to
 * (QF_WANT_HOLD), it also reads the primary header for the hold mark
 * (src/shape/holdmark.h): the X-Qshape-Hold header that a milter appended.
 * Cleanup writes an appended header past the end of the content segment
 * and links it in with pointer records; what the client sent lies between
 * M and X.  Only a header found past X counts, so no client can forge one.  It accepts files
 * written by cleanup (C record first), by postdrop (T first, no C) and by
 * old postdrop versions (S or F first, no time: the caller supplies mtime).
 *
 * Ownership: a QF_PARSER owns every string in the QF_FACTS it returns; they
 * stay valid until the next qf_parse() on the same parser or qf_destroy().
 * Errors: qf_parse() returns a QF_STATUS; qf_strerror() names it.
 */
#ifndef QSHAPE_QF_H
#define QSHAPE_QF_H

#include <stddef.h>
#include <stdint.h>

/*
 * A window onto the file.  get() returns a pointer to the bytes at 'off'
 * and sets *got to how many are there; it makes at least 'need' available
 * unless the file ends first.  It returns NULL on a read error.  The pointer
 * stays valid until the next get().
 */
typedef struct QF_SOURCE {
    const unsigned char *(*get) (void *ctx, uint64_t off, size_t need,
				 size_t *got);
    void   *ctx;
    uint64_t size;			/* file size, bytes */
} QF_SOURCE;

typedef enum QF_STATUS {
    QF_OK = 0,
    QF_EMPTY,				/* zero-length file */
    QF_NOT_QUEUE_FILE,			/* first record is not C, T, S or F */
    QF_BAD_RECORD,			/* bad length encoding */
    QF_TRUNCATED,			/* record runs past the end, or no E */
    QF_BAD_SIZE,			/* unparsable C record */
    QF_BAD_TIME,			/* T missing after C, or unparsable */
    QF_NO_SENDER,			/* no S record before the content */
    QF_BAD_POINTER,			/* unparsable or out-of-range p */
    QF_POINTER_LOOP,			/* p records revisit the file */
    QF_BAD_CONTENT,			/* content skip does not land on X */
    QF_TOO_LARGE,			/* a record we need is absurdly long */
    QF_READ_ERROR,			/* the source failed */
    QF_NO_MEMORY,			/* the parser could not allocate */
    QF_NSTATUS
} QF_STATUS;

typedef enum QF_KIND {
    QF_KIND_QUEUE = 0,			/* written by cleanup: C, T, ... */
    QF_KIND_MAILDROP,			/* written by postdrop: T first */
    QF_KIND_MAILDROP_OLD		/* S or F first: no time record */
} QF_KIND;

/* Flags for qf_parse(). */
#define QF_WANT_RCPTS	(1u << 0)	/* collect the pending recipients */
#define QF_WANT_HOLD	(1u << 1)	/* look for the hold mark */

/* The header that holds the hold mark (holdmark.h defines its value). */
#define QF_HOLD_HEADER	"X-Qshape-Hold"

/* Longest appended header line examined, bytes; the header scan stops
 * after this many bytes of primary header records, or at its end. */
#define QF_HOLD_LINE_MAX 1024
#define QF_HOLD_SCAN_MAX (1024 * 1024)

/* Longest record whose data we keep (sender, attribute, recipient). */
#define QF_FIELD_MAX	(1024 * 1024)

typedef struct QF_STR {
    const char *ptr;			/* NUL-terminated, may hold NULs */
    size_t  len;			/* bytes, without the terminator */
} QF_STR;

typedef struct QF_FACTS {
    QF_KIND kind;
    int     has_time;			/* arrival time known (not old maildrop) */
    int64_t time_sec;			/* arrival, seconds since the epoch */
    int32_t time_usec;			/* arrival, microseconds */
    int64_t create_time;		/* A create_time, seconds; 0 if none */
    uint64_t content_size;		/* C record's first number: content
					 * segment bytes, as postqueue shows
					 * it; 0 without C */
    QF_STR  sender;			/* envelope sender; "" for <> */
    QF_STR  client_address;		/* A client_address; ptr NULL if none */
    QF_STR  sasl_username;		/* A sasl_username; ptr NULL if none */
    QF_STR  rewrite_context;		/* A rewrite_context; ptr NULL if none */
    size_t  nrcpt;			/* pending (R) recipients seen */
    size_t  ndone;			/* delivered (D) recipients seen */
    size_t  ndeleted;			/* milter-deleted (/) recipients seen */
    int     rcpts_complete;		/* read to E: nrcpt is the full count */
    const QF_STR *rcpt;			/* nrcpt entries; NULL without
					 * QF_WANT_RCPTS */
    QF_STR  hold_mark;			/* QF_WANT_HOLD: the value (after the
					 * colon) of the last X-Qshape-Hold
					 * header appended past X; ptr NULL
					 * if none */
} QF_FACTS;

typedef struct QF_PARSER QF_PARSER;

extern QF_PARSER *qf_create(void);
extern void qf_destroy(QF_PARSER *);

/*
 * Parse one file.  Without QF_WANT_RCPTS the parser stops at the end of
 * the envelope when it has seen a pending recipient there (the sender,
 * time, client and SASL user are all in the envelope), so it usually reads
 * only the first few hundred bytes.  With QF_WANT_RCPTS it reads to E.
 * With QF_WANT_HOLD it also reads the primary header records (in a file
 * with a C record), following pointers, up to the first empty line, the
 * X record or QF_HOLD_SCAN_MAX bytes, whichever comes first.
 */
extern QF_STATUS qf_parse(QF_PARSER *, const QF_SOURCE *, unsigned flags,
			  const QF_FACTS **facts);

/* Convenience for a file held in memory. */
extern QF_STATUS qf_parse_mem(QF_PARSER *, const void *buf, size_t len,
			      unsigned flags, const QF_FACTS **facts);

/*
 * Does the message count in a queue shape?  As in qshape(1): only with a
 * recipient still to deliver; but a postdrop file counts before cleanup
 * has extracted its recipients (sendmail -t).
 */
extern int qf_counts(const QF_FACTS *);

/* A short lower-case description: "truncated file", ... */
extern const char *qf_strerror(QF_STATUS);

/* A stable token for logs and JSON: "truncated", ... */
extern const char *qf_status_name(QF_STATUS);

#endif

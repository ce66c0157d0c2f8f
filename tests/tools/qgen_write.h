/*
 * qgen_write - build one Postfix queue file's bytes and write it under a
 * queue directory tree; the writing half of qgen (tests/tools/qgen.c).
 *
 * Files are laid out record for record as Postfix 3.7 writes them: cleanup
 * (C T A... S A... [A O R]... [p] M N... X [p] [A O R]... E [O R p]...),
 * postdrop (T A F S R... M N... X R... E) and old postdrop versions (F S
 * R... M N... X E).  The layouts were copied from files written by a real
 * Postfix 3.7.11 (SMTP, sendmail, sendmail -t, a milter adding recipients,
 * a partly delivered message) and are checked with postcat(1).  Files are
 * owned by postfix (maildrop: group postdrop) when qgen runs as root; the
 * mtime is the arrival time, except in deferred/ where it is the next retry
 * time, in the future.  Deferred and defer are hashed one level deep, by
 * the first character of the queue ID, as Postfix's default.
 *
 * Generated queue IDs are short IDs, unique among all file names under the
 * directory (every queue, scanned by qg_create()).  Everything is
 * deterministic for a seed and a clock: the IDs, the bytes and the mtimes
 * come from one random stream, qg_rng(), which the caller may draw from
 * too (bulk mode does, between messages).
 *
 * Errors: I/O failures are fatal (log_fatal); failing to chown or to set
 * the times is a warning.
 *
 * Ownership: a QG_MSG and its strings are the caller's (borrowed during
 * qg_emit()).  qg_create() borrows 'dir' for the generator's lifetime and
 * returns a generator that qg_destroy() releases, closing its directories.
 */
#ifndef QGEN_WRITE_H
#define QGEN_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define QG_QID_MAX	64		/* file name buffer */

typedef enum QG_KIND {
    QG_KIND_QUEUE,			/* written by cleanup */
    QG_KIND_MAILDROP,			/* written by postdrop */
    QG_KIND_MAILDROP_OLD		/* old postdrop: no T record */
} QG_KIND;

/* One message, fully specified.  Strings are borrowed. */
typedef struct QG_MSG {
    const char *queue;
    QG_KIND kind;
    long    age;			/* seconds before now */
    const char *sender;			/* "" for <> */
    const char **rcpt;			/* pending recipients */
    size_t  nrcpt;
    const char **xrcpt;			/* after X */
    size_t  nxrcpt;
    size_t  ndone;			/* delivered recipients */
    size_t  nptr;			/* last nptr of rcpt: milter-added */
    int     milter;			/* reserved p records */
    const char *client;			/* NULL: local submission */
    const char *sasl;			/* NULL: none */
    const char *full;			/* NULL: no F record */
    const char *ctx;			/* NULL: derived */
    size_t  body;			/* body bytes */
    const char *id;			/* NULL: generated */
    long    count;
    long    trunc;			/* -1: whole file */
    int     depth;			/* -1: by queue name */
    int     garbage;
    int     mode;			/* -1: by kind */
    const char *header;			/* NULL, or a header line the client
					 * sent (SMTP queue files) */
    const char *mark;			/* NULL, or the value of the
					 * X-Qshape-Hold header a milter
					 * appended (implies milter) */
} QG_MSG;

typedef struct QG_GEN QG_GEN;

/*
 * Create dir (0755) if missing and remember every file name under it.
 * The clock is 'now'; the random stream starts at 'seed'.  When run as
 * root, files and new directories are given to postfix (and postdrop).
 * Sets the umask to 0.
 */
extern QG_GEN *qg_create(const char *dir, time_t now, uint64_t seed);

/* Close the queue directories and release the generator; NULL is fine. */
extern void qg_destroy(QG_GEN *);

/* Build and write m->count files of m, each with a fresh ID (or m->id),
 * creating the queue directory and its hash directories as needed. */
extern void qg_emit(QG_GEN *, const QG_MSG *m);

/* The generator's random stream, for qg_rng_below() and qg_rng_unit(). */
extern uint64_t *qg_rng(QG_GEN *);

/* Random numbers (splitmix64): uniform in [0, n) (0 if n is 0), and
 * uniform in [0, 1). */
extern unsigned long qg_rng_below(uint64_t *rng, unsigned long n);
extern double qg_rng_unit(uint64_t *rng);

#endif

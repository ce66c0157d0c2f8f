/*
 * counters - what qshape-milter did, counted in a file the scanner (and
 * later the metrics) can read: sessions, verdicts per policy and action,
 * fail-mode activations per reason, exemptions per kind, and per
 * throttled key when the milter last turned its mail away (the pressure
 * that keeps a flood throttled while it keeps coming; throttle.h).
 * include/qshape/counters.h has the layout.
 *
 * The file.  Default /run/qshape-milter-counters/counters (counters_file
 * in qshape-milter.conf), in a directory of its own, mode 0750, owned by
 * the milter's account, group qshape: the summary's directory belongs to
 * the scanner, and the milter must not be able to write there.  The
 * milter makes the directory while still root (ct_dir_prepare()), or
 * systemd does (RuntimeDirectory=).  ct_writer_open() reuses the file it
 * finds there when it is the milter's own, of this layout and of this
 * boot, of this minor version or a later one, and counts on
 * (generation + 1, started now): counts survive a restart of the milter.
 * Otherwise (no file, another boot, an older minor version whose file
 * lacks counters this one keeps) it makes a new one (FILE.tmp.PID,
 * O_EXCL|O_NOFOLLOW, mode 0640, fully allocated, renamed over FILE):
 * counts start from zero, created and generation 1 say so.
 *
 * Protocol.  The milter maps the file read-write; every counter is a
 * 64-bit word changed with an atomic add (relaxed: counts, not
 * synchronisation), so no thread ever waits.  A key slot is found by
 * linear probing from its ident over at most QS_CT_PROBES slots and taken
 * with a compare-and-swap of ident; a slot unused for QS_CT_REUSE_SEC may
 * be taken over; when none is free the match is counted in slot_overflow
 * only.  A reader copies the whole file with pread() and matches a key on
 * ident, policy digest, kind and key hash.
 *
 * THREAT MODEL.  The scanner runs as another account (Postfix's
 * mail_owner) and trusts the milter for nothing but pressure.  It never
 * maps the file (a writer that truncates it could make a mapping fault):
 * it opens it without following links or blocking (O_NOFOLLOW|O_NONBLOCK,
 * through shm.h's trusted directory walk), requires a regular file with
 * one link, owned by the owner of its directory, not writable by group or
 * others, of exactly the expected size, with the expected magic, version,
 * sizes and boot id, and copies it with one bounded pread().  Any
 * difference is an error the caller logs, and no pressure.  Whatever the
 * file says, a reader can only learn "the milter turned this throttled
 * key's mail away at time t", and t is never taken as later than now: a
 * hostile milter can keep a key the scanner already throttles throttled,
 * nothing more.  Keys the scanner does not throttle are never looked up.
 *
 * Errors: ct_writer_open() and ct_read() return NULL / -1 and a reason.
 * Every counting call accepts a NULL handle and does nothing.
 */
#ifndef QSHAPE_COUNTERS_MOD_H
#define QSHAPE_COUNTERS_MOD_H

#include <stddef.h>
#include <stdint.h>

#include "qshape/counters.h"

/* The nonzero identity of (policy digest, kind, key hash). */
extern uint64_t ct_ident(uint64_t digest, int kind, uint64_t key_hash);

/* Bytes of a counters file of this layout. */
extern uint64_t ct_file_size(void);

/* Is h a header of this layout for a file of file_size bytes?  0, or -1
 * and the reason. */
extern int ct_header_check(const QS_CT_HEADER *h, uint64_t file_size,
			   char *err, size_t errlen);

/* Make the counters file's directory (as root): mode 0750, owner uid,
 * group gid.  0, or -1 and the reason. */
extern int ct_dir_prepare(const char *path, long uid, long gid, char *err,
			  size_t errlen);

/* The writer (the milter). */
typedef struct CT_W CT_W;

/* Reuse or make the file; gid is its group (-1: ours).  *reused says
 * which.  NULL and the reason on error. */
extern CT_W *ct_writer_open(const char *path, long gid, int *reused,
			    char *err, size_t errlen);
extern void ct_writer_close(CT_W *);
extern uint64_t ct_writer_generation(const CT_W *);

/* Header counters. */
typedef enum CT_FIELD {
    CT_SESSIONS,
    CT_MESSAGES,
    CT_NO_MATCH,
    CT_QUARANTINE_FAILED
} CT_FIELD;

extern void ct_count(CT_W *, CT_FIELD);
extern void ct_count_exempt(CT_W *, int qs_ct_exempt);
extern void ct_count_fail(CT_W *, int qs_ct_fail, int begins);

/* One match of a throttled key: the policy's verdict counts and the
 * key's slot (done count, last time = now_ns, CLOCK_MONOTONIC). */
typedef struct CT_MATCH {
    uint64_t digest;			/* the policy's */
    const char *policy;			/* its name */
    int     kind;			/* QS_KEY_* */
    uint64_t key_hash;			/* qs_key_hash(kind, key) */
    int     asked;			/* QS_ACTION_* the policy asked for */
    int     done;			/* QS_ACTION_* the milter applied */
    int     dry_run;
} CT_MATCH;

extern void ct_count_match(CT_W *, const CT_MATCH *, int64_t now_ns);

/* The reader (the scanner): a private copy of the file. */
typedef struct CT_R CT_R;

extern CT_R *ct_reader_create(void);
extern void ct_reader_destroy(CT_R *);

/* Copy the file at path, with every check of the threat model.  0, or -1
 * and the reason (the copy is then empty). */
extern int ct_read(CT_R *, const char *path, char *err, size_t errlen);

/* The latest match of a key in the copy, CLOCK_MONOTONIC ns, or
 * INT64_MIN when the copy has none. */
extern int64_t ct_last(const CT_R *, uint64_t digest, int kind,
		       uint64_t key_hash);

/* The copy's header, or NULL when it is empty. */
extern const QS_CT_HEADER *ct_header(const CT_R *);

/* The copy's policy table (QS_CT_NPOLICIES entries, free ones with digest
 * 0), or NULL when it is empty. */
extern const QS_CT_POLICY *ct_policies(const CT_R *);

/* The verdict a match is counted under in QS_CT_POLICY verdict[]: what
 * was done, but LOG for an accept the policy did not ask for. */
extern int ct_verdict(int asked, int done);

#endif

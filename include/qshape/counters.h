/*
 * counters.h - the layout of qshape-milter's counters file.
 *
 * One writer (the qshape-milter process, all its threads), readers that
 * trust it for nothing (qshape-scand reads the pressure on throttled keys;
 * metrics, issue 10, read the rest).  The file is a header, a table of
 * policies and an open-addressed table of keys, all of fixed size; every
 * counter is a 64-bit word changed only with atomic adds, so the milter
 * never locks or waits to count.  src/shape/counters.h has the protocol,
 * the file's life cycle and the threat model.
 *
 * Fixed-width types only, native-endian (the file never leaves the host).
 * A reader refuses a file whose magic, major version or sizes it does not
 * know; a minor version only adds fields in reserved space.
 *
 * File layout:
 *   QS_CT_HEADER  header
 *   QS_CT_POLICY  policy[npolicies]  verdicts per policy and action
 *   QS_CT_SLOT    slot[nslots]       per (policy digest, kind, key):
 *                                    what the milter did with its mail
 */
#ifndef QSHAPE_COUNTERS_H
#define QSHAPE_COUNTERS_H

#include <stdint.h>

#include "qshape/summary.h"

#define QS_CT_MAGIC		0x31435351u	/* "QSC1" */
#define QS_CT_VERSION_MAJOR	1
#define QS_CT_VERSION_MINOR	1	/* 1: QS_CT_POLICY verdict[] */

#define QS_CT_NSLOTS		4096	/* key slots, a power of two */
#define QS_CT_NPOLICIES		256	/* policy slots, a power of two */
#define QS_CT_PROBES		16	/* slots tried per key, then overflow */

/* Why a verdict fell back to the fail mode (the milter's VD_FAIL_*). */
enum {
    QS_CT_FAIL_MISSING = 0,		/* no summary */
    QS_CT_FAIL_STALE,			/* heartbeat older than stale_after */
    QS_CT_FAIL_FOREIGN,			/* unknown version or layout */
    QS_CT_FAIL_UNTRUSTED,		/* refused: owner, type, mode */
    QS_CT_FAIL_LOOKUP,			/* unreadable, or a lookup failed */
    QS_CT_FAIL_POLICY,			/* the scanner's policies differ */
    QS_CT_NFAIL
};

/* Which exemption let a message through (the milter's VD_EXEMPT_*). */
enum {
    QS_CT_EXEMPT_SENDER = 0,
    QS_CT_EXEMPT_DOMAIN,
    QS_CT_EXEMPT_NETWORK,
    QS_CT_EXEMPT_SASL,
    QS_CT_EXEMPT_NULL_SENDER,
    QS_CT_NEXEMPT
};

/*
 * Counts of one throttled key of one policy.  A slot is taken by a
 * compare-and-swap of ident from 0 (or from a slot left unused for
 * QS_CT_REUSE_SEC); the fields after ident are written once after that,
 * so a reader must match ident AND policy_digest, kind and key_hash.
 */
#define QS_CT_REUSE_SEC		(4 * 3600)	/* > the longest pressure_time */
typedef struct QS_CT_SLOT {
    uint64_t ident;			/* qs_ct_ident(), never 0; 0 = free */
    uint64_t policy_digest;		/* QC_POLICY digest */
    uint64_t key_hash;			/* qs_key_hash(kind, key) */
    uint32_t kind;			/* QS_KEY_* */
    uint32_t reserved0;
    uint64_t done[QS_NACTIONS];		/* messages matched, by what the
					 * milter did: [QS_ACTION_TEMPFAIL]
					 * tempfailed, [QS_ACTION_HOLD] held,
					 * [QS_ACTION_ACCEPT] accepted (log,
					 * dry_run, local_action accept),
					 * [QS_ACTION_LOG] unused */
    int64_t first_mono_ns;		/* first match, CLOCK_MONOTONIC ns of
					 * the header's boot_id */
    int64_t last_mono_ns;		/* latest match, same clock: the
					 * pressure the scanner reads */
    uint64_t reserved[4];		/* for minor versions */
} QS_CT_SLOT;

/* Verdicts of one policy, by its digest (names repeat across reloads). */
typedef struct QS_CT_POLICY {
    uint64_t digest;			/* QC_POLICY digest; 0 = free */
    char    name[QS_NAME_BYTES];	/* NUL-padded */
    uint64_t asked[QS_NACTIONS];	/* matches, by the action the policy
					 * asked for (action or local_action) */
    uint64_t done[QS_NACTIONS];		/* the same, by what the milter did */
    uint64_t dry_run;			/* matches under dry_run */
    /* Minor 1. */
    uint64_t verdict[QS_NACTIONS];	/* matches by verdict, as the metrics
					 * name it: [QS_ACTION_TEMPFAIL],
					 * [QS_ACTION_HOLD] done; [QS_ACTION_LOG]
					 * accepted, only logged (action log,
					 * or dry_run); [QS_ACTION_ACCEPT]
					 * accepted as the policy asked
					 * (local_action accept) */
    uint64_t reserved[3];
} QS_CT_POLICY;

typedef struct QS_CT_HEADER {
    uint32_t magic;			/* QS_CT_MAGIC */
    uint16_t major;			/* QS_CT_VERSION_MAJOR */
    uint16_t minor;			/* QS_CT_VERSION_MINOR */
    uint32_t header_size;		/* sizeof(QS_CT_HEADER) */
    uint32_t policy_size;		/* sizeof(QS_CT_POLICY) */
    uint32_t slot_size;			/* sizeof(QS_CT_SLOT) */
    uint32_t npolicies;			/* QS_CT_NPOLICIES */
    uint32_t nslots;			/* QS_CT_NSLOTS */
    uint32_t writer_uid;		/* owner the readers expect */
    uint64_t file_size;			/* bytes */
    int64_t created;			/* file made, unix seconds: counts
					 * start from zero then */
    unsigned char boot_id[16];		/* monotonic times are of this boot */
    /* Live: rewritten at each milter start (generation first). */
    uint64_t generation;		/* milter starts that used the file:
					 * 1 = the process that made it */
    int64_t started;			/* this generation, unix seconds */
    int64_t started_mono_ns;		/* the same, CLOCK_MONOTONIC ns */
    int32_t writer_pid;
    uint32_t reserved1;
    /* Counters, atomic adds only. */
    uint64_t sessions;			/* milter connections */
    uint64_t messages;			/* MAIL FROM decided */
    uint64_t no_match;			/* accepted: no key throttled */
    uint64_t exempt[QS_CT_NEXEMPT];	/* accepted by an exemption */
    uint64_t fail_messages[QS_CT_NFAIL];	/* decided by the fail mode */
    uint64_t fail_begins[QS_CT_NFAIL];	/* fail mode activations */
    uint64_t quarantine_failed;		/* smfi_quarantine() refused */
    uint64_t slot_overflow;		/* key matches not counted: no slot */
    uint64_t policy_overflow;		/* verdicts not counted: no slot */
    uint64_t reserved[32];		/* for minor versions */
} QS_CT_HEADER;

#endif

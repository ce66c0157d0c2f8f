/*
 * summary.h - the layout of the queue-shape summary in POSIX shared memory.
 *
 * One writer (qshape-scand), many readers (qshape-milter processes,
 * qshapectl).  The segment holds a header and two copies of the summary
 * body.  The writer fills the copy readers are not told about, then flips
 * the latch; readers use a sequence count to detect a flip during their
 * read and retry (shm.h has the protocol).
 *
 * Fixed-width types only; all integers are native-endian (the segment
 * never leaves the host).  Units are in the comments.  A reader refuses a
 * segment whose magic, major version or sizes it does not know; a minor
 * version change only adds fields in reserved space.
 *
 * Body layout, at offsets given in the header (bytes from the body start):
 *   QS_QUEUE  queue[nqueues]         totals per queue and age bucket
 *   QS_TABLE  table[QS_NKEYKINDS]    one per kind of key: its slot range
 *   QS_KEY    key[nkeys]             every table's rows, top-N by count
 *   QS_THROTTLE throttle[nthrottle]  keys in the throttled state
 *   uint32_t  index[nindex]          hash index over throttle[], 0 = empty
 *   QS_POLICY policy[QS_MAX_POLICIES] the scanner's policies and their
 *                                    counters (major 3), npolicy used
 */
#ifndef QSHAPE_SUMMARY_H
#define QSHAPE_SUMMARY_H

#include <stdint.h>

#define QS_MAGIC		0x314d5351u	/* "QSM1" */
#define QS_VERSION_MAJOR	3	/* 3: policy[] */
#define QS_VERSION_MINOR	0

#define QS_MAX_QUEUES		8	/* incoming active deferred hold ... */
#define QS_MAX_BUCKETS		16	/* age buckets, without the total */
#define QS_KEY_BYTES		256	/* key text, NUL-padded */
#define QS_NAME_BYTES		32	/* queue and policy names */
#define QS_MAX_POLICIES		64	/* policy[] slots (QC_MAX_POLICIES) */

/* Kinds of key.  The order is part of the layout. */
enum {
    QS_KEY_SENDER_DOMAIN = 0,
    QS_KEY_PARENT_DOMAIN,
    QS_KEY_SENDER,
    QS_KEY_CLIENT_ADDRESS,
    QS_KEY_SASL_USERNAME,
    QS_KEY_RCPT_DOMAIN,
    QS_NKEYKINDS
};

/* Actions (include/qshape/vocab.h names them).  A throttled key is
 * published with LOG, TEMPFAIL or HOLD; ACCEPT is a local_action only. */
enum {
    QS_ACTION_LOG = 0,
    QS_ACTION_TEMPFAIL,
    QS_ACTION_HOLD,
    QS_ACTION_ACCEPT,
    QS_NACTIONS
};

typedef struct QS_QUEUE {
    char    name[QS_NAME_BYTES];	/* "incoming", NUL-padded */
    uint32_t count[QS_MAX_BUCKETS + 1];	/* [0] all, [1..nbuckets] by age;
					 * messages (rcpt_domain: recipients) */
} QS_QUEUE;

typedef struct QS_TABLE {
    uint32_t first;			/* first row in key[] */
    uint32_t nrows;			/* rows published (top-N by count) */
    uint32_t ndistinct;			/* distinct keys in the queue */
    uint32_t other_messages;		/* messages of keys not published */
} QS_TABLE;

typedef struct QS_KEY {
    uint64_t hash;			/* qs_key_hash() of the full key */
    uint16_t len;			/* full key length, bytes */
    uint16_t truncated;			/* 1 when len >= QS_KEY_BYTES */
    uint32_t subdomains;		/* parent_domain: distinct children */
    char    text[QS_KEY_BYTES];		/* key, NUL-padded, maybe truncated */
    uint32_t count[QS_MAX_QUEUES][QS_MAX_BUCKETS + 1];	/* as QS_QUEUE */
    uint64_t reserved[4];		/* for minor versions */
} QS_KEY;

typedef struct QS_THROTTLE {
    uint64_t hash;			/* qs_key_hash() of the key */
    uint8_t kind;			/* QS_KEY_* */
    uint8_t action;			/* QS_ACTION_* */
    uint16_t policy;			/* index of the policy in the scanner's
					 * config: for display only; match
					 * policies by name and digest */
    uint32_t key_len;			/* full key length, bytes */
    uint32_t reserved1;
    uint64_t policy_digest;		/* of the policy's settings */
    uint32_t count;			/* key's messages in the policy window */
    uint32_t total;			/* all messages in the policy window */
    uint32_t share_ppm;			/* count / total, parts per million */
    uint32_t enter_count;		/* count when it entered the state */
    uint32_t enter_total;		/* total when it entered the state */
    uint32_t reserved0;
    int64_t since;			/* entered the state, unix seconds */
    int64_t hold_until;			/* min_hold_time ends, unix seconds */
    char    policy_name[QS_NAME_BYTES];
    char    text[QS_KEY_BYTES];		/* key, NUL-padded, maybe truncated */
    /* Minor 1. */
    uint32_t kept;			/* QS_KEPT_*: what kept it throttled
					 * at this publication */
    uint32_t reserved2;
    int64_t last_pressure_ms;		/* the milter's latest match of the
					 * key, unix ms; 0: none seen */
    uint64_t reserved[6];		/* for minor versions */
} QS_THROTTLE;

/*
 * A policy of the scanner's configuration, in config order, with the
 * counters the scanner keeps per policy.  The counters start at zero when
 * the scanner starts (QS_STATS start_time) and carry over a reload for a
 * policy that keeps its name.
 */
typedef struct QS_POLICY {
    char    name[QS_NAME_BYTES];	/* NUL-padded */
    uint64_t digest;			/* of its settings (QC_POLICY) */
    uint8_t kind;			/* QS_KEY_* */
    uint8_t action;			/* QS_ACTION_* */
    uint16_t reserved0;
    uint32_t throttled;			/* keys in the throttled state at
					 * this publication (throttle[] may
					 * hold fewer: max_throttle) */
    uint64_t throttle_enters;		/* keys that entered the state */
    uint64_t throttle_leaves;		/* keys that left it */
    uint64_t reserved[6];		/* for minor versions */
} QS_POLICY;

/* Why a key is throttled (qshape-milter.conf(5), Release): each alone
 * keeps it.  Minor 1; 0 in a minor 0 summary. */
#define QS_KEPT_QUEUE		0x1	/* total, count, share at release */
#define QS_KEPT_HOLD_TIME	0x2	/* min_hold_time not over */
#define QS_KEPT_PRESSURE	0x4	/* the milter saw its mail recently */

/* The header: written once at creation, except the fields marked live. */
typedef struct QS_HEADER {
    uint32_t magic;			/* QS_MAGIC */
    uint16_t major;			/* QS_VERSION_MAJOR */
    uint16_t minor;			/* QS_VERSION_MINOR */
    uint32_t header_size;		/* sizeof(QS_HEADER) */
    uint32_t queue_size;		/* sizeof(QS_QUEUE) */
    uint32_t key_size;			/* sizeof(QS_KEY) */
    uint32_t throttle_size;		/* sizeof(QS_THROTTLE) */
    uint64_t body_size;			/* bytes of one body copy */
    uint64_t body_offset[2];		/* from the segment start, bytes */
    uint64_t segment_size;		/* bytes */
    uint32_t max_keys;			/* capacity of key[] */
    uint32_t max_throttle;		/* capacity of throttle[] */
    uint32_t nindex;			/* slots in index[], a power of two */
    uint32_t generation;		/* 1 for the first segment under a
					 * name, the replaced one's + 1 after */
    int32_t writer_pid;
    uint32_t writer_uid;		/* owner the readers expect */
    int64_t created;			/* unix seconds */
    unsigned char boot_id[16];		/* the kernel's boot_id at creation:
					 * monotonic times are of that boot */
    /* Live fields, updated with atomics (shm.h has the protocol). */
    uint64_t seq;			/* publications started; a copy is
					 * good if seq did not change during
					 * the read */
    uint64_t latch;			/* which body copy is current: 0 or 1 */
    int64_t heartbeat;			/* writer alive, unix seconds: for
					 * people, never for staleness */
    uint64_t retired;			/* 1 once a newer segment replaced
					 * this one; at this offset in every
					 * major version */
    int64_t heartbeat_mono;		/* writer alive, CLOCK_MONOTONIC
					 * nanoseconds of boot_id's boot:
					 * readers judge staleness by it */
    uint64_t reserved[30];		/* for minor versions */
} QS_HEADER;

/*
 * The scanner's counters (minor version 1), for the metrics.  They start
 * at zero when the scanner starts (start_time) and carry over a reload.
 * A reader of a minor-0 segment finds them zero (reserved space), so a
 * start_time of 0 means "no counters".
 */
typedef struct QS_STATS {
    int64_t start_time;			/* counters since, unix seconds */
    uint64_t files_parsed;		/* queue files parsed */
    uint64_t files_skipped;		/* corrupt, unreadable, not regular */
    uint64_t files_vanished;		/* gone before they could be read */
    uint64_t reconciles;		/* complete rescans */
    uint64_t reconcile_ns;		/* time in them, CLOCK_MONOTONIC ns */
    uint64_t throttle_enters;		/* keys that entered the throttled
					 * state, all policies (per policy:
					 * QS_POLICY) */
    uint64_t throttle_leaves;		/* keys that left it */
} QS_STATS;

/* Offsets of the body parts, and the counts, copied into each body. */
typedef struct QS_BODY {
    int64_t published;			/* unix seconds */
    int64_t published_ns;		/* nanoseconds part */
    int64_t last_reconcile;		/* last complete rescan, unix seconds */
    uint64_t serial;			/* publications since start */
    uint32_t nqueues;
    uint32_t nbuckets;			/* age buckets in use */
    uint32_t bucket_minutes;		/* first bucket, minutes */
    uint32_t linear;			/* 1: linear buckets */
    uint32_t nkeys;			/* rows used in key[] */
    uint32_t nthrottle;			/* entries used in throttle[] */
    uint32_t messages;			/* all messages indexed */
    uint32_t checksum;			/* of the body after this header,
					 * for the stress test; 0 if unused */
    uint64_t policies_digest;		/* of every policy's name and
					 * settings, in config order: a milter
					 * whose own differs applies its
					 * fail mode */
    uint64_t off_queue;			/* offsets from the body start */
    uint64_t off_table;
    uint64_t off_key;
    uint64_t off_throttle;
    uint64_t off_index;
    uint64_t off_policy;		/* major 3 */
    uint32_t npolicy;			/* entries used in policy[] */
    uint32_t reserved1;
    uint64_t reserved[5];		/* for minor versions: new fields go
					 * at the start */
    QS_STATS stats;			/* minor 1: the last 8 words of what
					 * was reserved[15] */
} QS_BODY;

/* A minor version only uses reserved space: the body keeps its size. */
_Static_assert(sizeof(QS_BODY) == 232, "QS_BODY size of major 3");

#endif

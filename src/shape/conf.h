/*
 * conf - the qshape-milter configuration (qshape-milter.conf(5)), read by
 * the scanner, the milter and qshapectl.
 *
 * qc_load() returns a QC_CONFIG the caller owns and releases with
 * qc_free(); it is immutable after load (a reload loads a new one and
 * swaps it).  On error it returns NULL and the reasons in err, one
 * "FILE:LINE: message" per line.  Every setting, its default and bounds
 * are in one table in conf.c; qc_table() exposes it.
 *
 * qc_reply_valid(), qc_socket_valid(), qc_net_parse() and qc_net_match()
 * are pure functions: they validate at load time and serve the milter.
 */
#ifndef QSHAPE_CONF_H
#define QSHAPE_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cfg.h"
#include "cidr.h"
#include "milsock.h"
#include "smtpreply.h"
#include "qshape/summary.h"

#define QC_DEFAULT_PATH	"/etc/qshape-milter/qshape-milter.conf"

#define QC_MAX_QUEUES	8		/* scanner.queues */
#define QC_MAX_POLICIES	QS_MAX_POLICIES	/* 64: each has its summary slot */
#define QC_NAME_MAX	31		/* policy names: [A-Za-z0-9_-]{1,31} */
#define QC_MAX_TOP_KEYS	3000		/* scanner.top_keys */
#define QC_MAX_THROTTLED 16384		/* scanner.max_throttled */
#define QC_SEGMENT_MAX	((uint64_t) 32 << 20)	/* bytes of the summary
						 * segment, both together */
#define QC_MAX_EXEMPT	10000		/* elements of each exempt list: the
					 * milter scans them per message */

typedef enum QC_FAIL_MODE {
    QC_FAIL_ACCEPT,
    QC_FAIL_TEMPFAIL
} QC_FAIL_MODE;

/* Keys a policy counts by: the QS_KEY_* of summary.h. */
typedef enum QC_KEY {
    QC_KEY_SENDER_DOMAIN = QS_KEY_SENDER_DOMAIN,
    QC_KEY_PARENT_DOMAIN = QS_KEY_PARENT_DOMAIN,
    QC_KEY_SENDER = QS_KEY_SENDER,
    QC_KEY_CLIENT_ADDRESS = QS_KEY_CLIENT_ADDRESS,
    QC_KEY_SASL_USERNAME = QS_KEY_SASL_USERNAME
} QC_KEY;

/* Actions: the QS_ACTION_* of summary.h. */
typedef enum QC_ACTION {
    QC_ACTION_TEMPFAIL = QS_ACTION_TEMPFAIL,	/* action only */
    QC_ACTION_HOLD = QS_ACTION_HOLD,
    QC_ACTION_LOG = QS_ACTION_LOG,
    QC_ACTION_ACCEPT = QS_ACTION_ACCEPT		/* local_action only */
} QC_ACTION;

/* What becomes of the mail a policy held (release_held). */
typedef enum QC_RELEASE {
    QC_RELEASE_MANUAL,			/* the operator releases it */
    QC_RELEASE_METERED			/* qshapectl release --metered */
} QC_RELEASE;

#define QC_RELEASE_RATE_MIN	0.001	/* release_rate, messages/s */
#define QC_RELEASE_RATE_MAX	1000.0

typedef struct QC_POLICY {
    char   *name;
    int     key;			/* QC_KEY */
    CFG_STRLIST queues;			/* a subset of scanner.queues */
    unsigned queue_mask;		/* bit i: scanner.queues.v[i] watched */
    int64_t max_age;			/* seconds; 0 = no limit */
    int     min_queue_is_share;		/* min_queue_share was given */
    int64_t min_queue;			/* messages (unless is_share) */
    double  min_queue_share;		/* of qmgr_message_active_limit */
    int64_t min_count;			/* messages of the key */
    double  min_share;			/* of the watched total, 0..1 */
    double  release_ratio;		/* (0, 1] */
    int64_t min_hold_time;		/* seconds */
    int64_t pressure_time;		/* seconds; 0: pressure off */
    int     action;			/* QC_ACTION: TEMPFAIL, HOLD, LOG */
    int     local_action;		/* QC_ACTION: HOLD, LOG, ACCEPT */
    char   *reply;			/* a valid 4xx reply, as written */
    char    reply_code[4];		/* "451" */
    char    reply_xcode[12];		/* "4.7.1", or "" */
    const char *reply_text;		/* in reply, after the codes; may be "" */
    int     release_held;		/* QC_RELEASE */
    double  release_rate;		/* messages/s, metered release */
    int64_t held_max_age;		/* seconds; 0 = no limit */
    uint64_t digest;			/* of every setting above: with the
					 * name, the policy's identity across
					 * processes (set by qc_load) */
} QC_POLICY;

typedef struct QC_SCANNER {
    CFG_STRLIST queues;			/* Postfix queue names, 1..8 */
    int64_t reconcile_interval;		/* seconds */
    int64_t publish_interval;		/* milliseconds */
    int64_t heartbeat_interval;		/* seconds */
    int64_t top_keys;			/* per key kind */
    int64_t max_throttled;
    int64_t bucket_count;
    int64_t bucket_time;		/* minutes */
    int     linear_buckets;
    char   *user;			/* "" = Postfix mail_owner */
    char   *pid_file;			/* "" = none */
} QC_SCANNER;

typedef struct QC_MILTER {
    char   *socket;			/* inet:PORT@HOST, inet6:, unix:, local: */
    int64_t socket_mode;		/* unix sockets */
    char   *socket_group;		/* "" = the user's group */
    char   *user;			/* "" = do not change */
    int64_t timeout;			/* seconds */
    int     log_accepts;
    char   *pid_file;			/* "" = none */
} QC_MILTER;

/* metrics: the scanner's textfile for node_exporter (metrics.h). */
typedef struct QC_METRICS {
    char   *textfile;			/* absolute, *.prom; "" = none */
    int64_t interval;			/* seconds between writes */
    int64_t top_keys;			/* key series per policy, 0..100 */
} QC_METRICS;

typedef struct QC_EXEMPT {
    CFG_STRLIST senders;		/* lower case, exact */
    CFG_STRLIST domains;		/* lower case; with their subdomains */
    CFG_STRLIST networks;		/* as written */
    QC_NET *nets;			/* networks, parsed */
    size_t  nnets;
    CFG_STRLIST sasl_users;		/* exact, case kept */
    int     null_sender;
} QC_EXEMPT;

typedef struct QC_CONFIG {
    char   *path;			/* the file loaded */
    char   *queue_directory;		/* "" = postconf -xh queue_directory */
    char   *postfix_config_directory;	/* "" = Postfix's default */
    char   *summary_file;		/* the summary, an absolute path */
    char   *counters_file;		/* the milter's counters (counters.h) */
    char   *group;			/* of the shm segment */
    int64_t stale_after;		/* seconds */
    int     fail_mode;			/* QC_FAIL_MODE */
    int     log_level;			/* LOG_LEVEL of log.h */
    int     dry_run;
    QC_SCANNER scanner;
    QC_MILTER milter;
    QC_POLICY *policies;
    size_t  npolicies;
    uint64_t policies_digest;		/* of the policies' digests, in
					 * order (set by qc_load) */
    QC_EXEMPT exempt;
    QC_METRICS metrics;
} QC_CONFIG;

/* Load path (QC_DEFAULT_PATH if NULL).  NULL and the reasons on error. */
extern QC_CONFIG *qc_load(const char *path, char *err, size_t errlen);
extern void qc_free(QC_CONFIG *);

/* Print every setting, defaults included, in libconfig syntax. */
extern void qc_print(const QC_CONFIG *, FILE *);

/* The table, for documentation checks. */
extern const CFG_TABLE *qc_table(void);

/* Names of enum values ("sender_domain", "tempfail", ...). */
extern const char *qc_key_name(int);
extern const char *qc_action_name(int);

#endif

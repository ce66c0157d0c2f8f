/*
 * metrics - the Prometheus text exposition (format 0.0.4) of the
 * summary, the scanner's counters and the milter's counters.
 *
 * Pure: a summary body, the policies and the time in; text out on a
 * FILE (stdout for "qshapectl metrics", a temporary file for the
 * scanner's textfile, a memory stream for the tests).  No clock, no
 * environment, no summary access: the callers take the copy.
 *
 * Every family is in one table, mx_families(): name, type, labels and
 * meaning; qshape-metrics(7) lists the same, and tests/prom checks that
 * the man page, the rules and the dashboard use only names from it.
 *
 * Bounded labels.  Counters have no per-key label.  Keys appear only in
 * the capped gauges qshape_dominant_key_* and qshape_throttled_key_*: at
 * most top_keys (0..MX_MAX_TOP_KEYS) series per policy in each, however
 * many distinct senders the queue holds.
 *
 * Label values are escaped as the format says (backslash, double quote,
 * newline); bytes outside printable ASCII, which key text from senders
 * and clients may hold, become the four characters \xNN (the value keeps
 * a literal backslash), so every value is valid UTF-8.
 *
 * Counters reset when their home starts: the scanner's when the scanner
 * starts (it carries them over a reload), the milter's when its counters
 * file is made (it survives milter restarts in one boot: counters.h);
 * each set has a start-time gauge, as process_start_time_seconds, and
 * rate() handles the reset.
 *
 * Nothing returned is allocated; the caller owns every input.
 */
#ifndef QSHAPE_METRICS_H
#define QSHAPE_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MX_MAX_TOP_KEYS	100		/* metrics.top_keys */
#define MX_DEFAULT_TOP_KEYS 10

/* A family: what the man page lists. */
typedef struct MX_FAMILY {
    const char *name;
    const char *type;			/* "gauge" or "counter" */
    const char *labels;			/* "policy,action", or "" */
    const char *help;
    int     milter;			/* 1: from the milter's counters */
} MX_FAMILY;

extern const MX_FAMILY *mx_families(size_t *n);

/* A policy of the configuration, as the summary's reader knows it. */
typedef struct MX_POLICY {
    const char *name;
    int     kind;			/* QS_KEY_* */
    unsigned queue_mask;		/* bit i: the body's queue[i] is
					 * watched */
} MX_POLICY;

typedef struct MX_INPUT {
    const void *body;			/* a body that passed
					 * shm_reader_copy(), or the
					 * scanner's own */
    int64_t heartbeat;			/* the writer's, unix seconds */
    const MX_POLICY *policy;		/* the configured policies */
    size_t  npolicy;
    uint32_t top_keys;			/* series per policy and capped
					 * family; more than MX_MAX_TOP_KEYS
					 * counts as MX_MAX_TOP_KEYS */
} MX_INPUT;

/*
 * The scanner's families: the summary (queue shape, throttled keys,
 * dominant keys, heartbeat, publications) and its QS_STATS counters.
 * The throttled keys of a policy the input does not name are counted
 * under the name the summary gives.  Returns 0, or -1 when fp failed.
 */
extern int mx_format_summary(FILE *fp, const MX_INPUT *);

/* The milter's counters (mxct.h translates the counters file).  Names
 * and label values are the caller's; they are escaped here. */
typedef struct MX_COUNT {
    const char *label;			/* the label's value */
    uint64_t value;
} MX_COUNT;

typedef struct MX_VERDICT {
    const char *policy;
    int     action;			/* QS_ACTION_* */
    uint64_t count;
} MX_VERDICT;

typedef struct MX_MILTER {
    int64_t start_time;			/* counters since, unix seconds */
    uint64_t sessions;			/* SMTP sessions (connect callbacks) */
    const MX_VERDICT *verdict;		/* per policy and action */
    size_t  nverdict;
    const MX_COUNT *failmode;		/* activations per reason */
    size_t  nfailmode;
    const MX_COUNT *exempt;		/* exemptions per kind */
    size_t  nexempt;
} MX_MILTER;

/* The milter's families, qshape_milter_counters_up 1 first; NULL: the
 * counters could not be read, only qshape_milter_counters_up 0.  mxct.h
 * fills an MX_MILTER from the counters file.  Returns 0, or -1 when fp
 * failed. */
extern int mx_format_milter(FILE *fp, const MX_MILTER *);

/* A label value as the exposition writes it, between the quotes. */
extern void mx_label(FILE *fp, const char *s, size_t len);

#endif

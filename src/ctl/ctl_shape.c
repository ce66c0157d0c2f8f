/*
 * ctl_shape - "qshapectl shape": the qshape(1) table from the live
 * summary of qshape-scand, without reading the queue.
 *
 * The summary holds counts per key, queue and age bucket, in the bucket
 * geometry the scanner was configured with; shape adds up the queues asked
 * for and prints them as scan would.  It cannot re-bucket: asking for
 * other buckets is an error that points to scan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "shm.h"
#include "sumview.h"
#include "ctl.h"
#include "ctl_qopts.h"
#include "ctl_summary.h"

/* Index of each queue asked for in the summary, or -1 after a message. */
static int
queue_mask(const CTL_QOPTS *o, const CTL_SUMMARY *s, unsigned *mask)
{
    int     i, j;

    *mask = 0;
    for (i = 0; i < o->nqueues; i++) {
	if ((j = sv_queue_find(s->body, o->queues[i])) < 0) {
	    log_warnx("shape: queue %s is not in the summary "
		      "(scanner.queues); use qshapectl scan", o->queues[i]);
	    return -1;
	}
	*mask |= 1u << j;
    }
    return 0;
}

static int
same_geometry(const CTL_QOPTS *o, const QS_BODY *b)
{
    const QT_OPTS *t = &o->table;
    double  tick = t->tick.is_int ? (double) t->tick.u : t->tick.d;

    if (t->nbuckets == (long) b->nbuckets && tick == b->bucket_minutes
	&& t->linear == (int) b->linear)
	return 1;
    log_warnx("shape: the summary has %u %s buckets of %u minutes "
	      "(scanner.bucket_count, bucket_time, linear_buckets); "
	      "use qshapectl scan for others", b->nbuckets,
	      b->linear ? "linear" : "doubling", b->bucket_minutes);
    return 0;
}

static void
add_rows(QTAB *tab, const CTL_SUMMARY *s, int kind, unsigned mask)
{
    const QS_TABLE *t = &shm_body_table(s->body)[kind];
    const QS_KEY *key = shm_body_key(s->body);
    uint64_t count[QS_MAX_BUCKETS + 1];
    uint32_t r, q, k;

    for (r = 0; r < t->nrows; r++) {
	const QS_KEY *row = &key[t->first + r];

	memset(count, 0, sizeof(count));
	for (q = 0; q < s->head->nqueues; q++)
	    if (mask & (1u << q))
		for (k = 0; k <= s->head->nbuckets; k++)
		    count[k] += row->count[q][k];
	if (count[0] > 0)
	    qt_add_key(tab, row->text, strnlen(row->text, QS_KEY_BYTES),
		       count);
    }
    if (t->other_messages)
	log_warnx("shape: %u of %u keys are not in the summary "
		  "(scanner.top_keys); use qshapectl scan for all",
		  t->ndistinct - t->nrows, t->ndistinct);
}

int
ctl_shape(int argc, char **argv)
{
    CTL_QOPTS o;
    CTL_SUMMARY s;
    QTAB   *tab;
    unsigned mask;
    char    err[256];
    int     rc;

    if ((rc = ctl_qopts_parse(argc, argv, "Reads the live summary of "
			      "qshape-scand (--config: its configuration).\n",
			      &o)) != 0)
	return rc < 0 ? 2 : 0;
    if (ctl_summary_load(o.config_path, &s) < 0) {
	ctl_summary_free(&s);
	return 1;
    }
    rc = 1;
    if (!same_geometry(&o, s.head) || queue_mask(&o, &s, &mask) < 0)
	goto out;
    if ((tab = qt_create(&o.table, err, sizeof(err))) == 0) {
	log_warnx("shape: %s", err);
	goto out;
    }
    if (ctl_summary_stale(&s))
	log_warnx("shape: the summary is stale (heartbeat %lld s ago)",
		  (long long) sv_ago(s.now, s.heartbeat));
    add_rows(tab, &s, o.by_sender ? QS_KEY_SENDER_DOMAIN : QS_KEY_RCPT_DOMAIN,
	     mask);
    if (o.json)
	qt_print_json(tab, stdout, 0, 0);
    else
	qt_print(tab, stdout, o.top_n);
    qt_destroy(tab);
    rc = fflush(stdout) == 0 ? 0 : 1;
out:
    ctl_summary_free(&s);
    return rc;
}

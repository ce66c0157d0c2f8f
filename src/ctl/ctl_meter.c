/*
 * ctl_meter - "qshapectl release --metered": put the mail that metered
 * policies held back into the queue, at their release_rate, once their
 * keys are no longer throttled and while no queue is congested.  Run
 * every minute as root by qshape-release.timer (or cron): postsuper needs
 * root, and no daemon keeps it.
 *
 * One run: load the configuration (nothing to do, silently, when no
 * policy is metered); lock and read the state file (relstate.h); copy the
 * summary and decide whether the queue is congested (meter.h, step 3);
 * read the hold queue; let mt_plan() choose; release the chosen with
 * postsuper -H (ctl_held.c's held_act(), which prints each one and what
 * was done); print a line per metered policy with held mail, why the
 * rest waits, and one line counting the mail held longer than
 * held_max_age; save the state.  --dry-run prints the same and changes
 * nothing (the state file is read when it exists, never written).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qshape/vocab.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "mem.h"
#include "meter.h"
#include "pfconf.h"
#include "relstate.h"
#include "shm.h"
#include "sumview.h"
#include "ctl_held.h"
#include "ctl_summary.h"

#define TAG	"release --metered"

typedef struct METER_RUN {
    HELD_OPTS o;
    const char *state_path;
    QC_CONFIG *cf;
    MT_POLICY *pol;
    MT_BUCKET *bk;
    size_t  npol;
    CTL_SUMMARY s;
    int     have_summary;
    int     congested;
    char    why[512];			/* why congested */
} METER_RUN;

static int
usage(FILE *fp)
{
    fprintf(fp, "usage: qshapectl release --metered [--dry-run] "
	    "[--state FILE] [-c postfix_config_dir]\n"
	    "\t[-C config_file] [--now SECONDS]\n"
	    "Releases the mail of policies with release_held = \"metered\" "
	    "at their release_rate,\nonce their keys are no longer "
	    "throttled and while no queue is congested.\n"
	    "  --state  the state between runs (default %s)\n"
	    "See qshapectl(8) and qshape-milter.conf(5).\n", RS_DEFAULT_PATH);
    return fp == stdout ? 1 : -1;
}

static int
parse_opts(int argc, char **argv, METER_RUN *r)
{
    static const struct option longopts[] = {
	{"metered", no_argument, 0, 'M'},
	{"dry-run", no_argument, 0, 'n'},
	{"state", required_argument, 0, 'S'},
	{"now", required_argument, 0, 'T'},
	{"config", required_argument, 0, 'C'},
	{"help", no_argument, 0, 'h'},
	{0, 0, 0, 0}
    };
    char   *end;
    long long v;
    int     c;

    r->o.verb = VERB_RELEASE;
    r->o.filter.key_kind = -1;
    r->o.now = (int64_t) time(0);
    r->state_path = RS_DEFAULT_PATH;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+c:C:f:nh", longopts, 0)) != -1) {
	switch (c) {
	case 'M':
	    break;
	case 'n':
	    r->o.dry_run = 1;
	    break;
	case 'S':
	    r->state_path = optarg;
	    break;
	case 'T':
	    errno = 0;
	    v = strtoll(optarg, &end, 10);
	    if (end == optarg || *end || errno || v < 0) {
		log_warnx(TAG ": --now: not seconds since the epoch: %s",
			  optarg);
		return -1;
	    }
	    r->o.now = v;
	    break;
	case 'c':
	    r->o.pf_dir = optarg;
	    break;
	case 'f':
	    dm_deprecated("qshapectl release", "-f", "-C or --config");
	    /* FALLTHROUGH */
	case 'C':
	    r->o.config_path = optarg;
	    break;
	case 'h':
	    return usage(stdout);
	default:
	    return usage(stderr);
	}
    }
    if (optind < argc) {
	log_warnx(TAG ": unexpected argument: %s", argv[optind]);
	return usage(stderr);
    }
    if (*r->state_path != '/') {
	log_warnx(TAG ": --state: not an absolute path: %s", r->state_path);
	return -1;
    }
    return 0;
}

/* The policies as the meter wants them; how many are metered. */
static size_t
make_policies(METER_RUN *r)
{
    size_t  i, nm = 0;

    r->npol = r->cf->npolicies;
    r->pol = xcalloc(r->npol + 1, sizeof(*r->pol));
    r->bk = xcalloc(r->npol + 1, sizeof(*r->bk));
    for (i = 0; i < r->npol; i++) {
	const QC_POLICY *q = &r->cf->policies[i];

	r->pol[i].name = q->name;
	r->pol[i].metered = q->release_held == QC_RELEASE_METERED;
	r->pol[i].rate = q->release_rate;
	r->pol[i].max_age = q->held_max_age;
	nm += r->pol[i].metered;
    }
    return nm;
}

/* The state file: locked and read (-1: cannot; -2: another run has it). */
static int
state_open(METER_RUN *r)
{
    char    buf[RS_MAX_BYTES], err[512];
    unsigned char boot[16];
    int     fd;

    if (r->o.dry_run) {
	fd = open(r->state_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK
		  | O_CLOEXEC);
	if (fd < 0)
	    return -1;
    } else if ((fd = rs_open(r->state_path, err, sizeof(err))) < 0) {
	log_warnx(TAG ": %s", err);
	return fd;
    }
    shm_boot_id(boot);
    if (rs_read(fd, buf, sizeof(buf), err, sizeof(err)) < 0)
	log_warnx(TAG ": %s: %s: starting over", r->state_path, err);
    else if (*buf && rs_parse(buf, boot, r->pol, r->bk, r->npol) == RS_BAD)
	log_warnx(TAG ": %s: malformed: starting over", r->state_path);
    if (r->o.dry_run) {
	close(fd);
	return -1;
    }
    return fd;
}

static void
state_save(METER_RUN *r, int fd)
{
    char    buf[RS_MAX_BYTES], err[512];
    unsigned char boot[16];
    size_t  n;

    shm_boot_id(boot);
    n = rs_format(buf, sizeof(buf), boot, r->pol, r->bk, r->npol);
    if (n >= sizeof(buf))
	log_warnx(TAG ": %s: state too long: not saved", r->state_path);
    else if (rs_write(fd, buf, n, err, sizeof(err)) < 0)
	log_warnx(TAG ": %s: %s", r->state_path, err);
}

/* A policy's min_queue in messages. */
static int64_t
min_queue(METER_RUN *r, const QC_POLICY *q)
{
    static long active_limit = -1;
    char    buf[64], err[512];

    if (!q->min_queue_is_share)
	return q->min_queue;
    if (active_limit < 0) {
	if (pfconf_get(r->o.pf_dir, "qmgr_message_active_limit", buf,
		       sizeof(buf), err, sizeof(err)) < 0) {
	    log_warnx(TAG ": %s", err);
	    return 0;			/* cannot tell: congested */
	}
	active_limit = atol(buf);
    }
    return (int64_t) (q->min_queue_share * (double) active_limit + 0.5);
}

/* Step 3 of meter.h: is any queue congested, or can we not tell? */
static void
judge_congestion(METER_RUN *r, int rc)
{
    const QS_QUEUE *qv;
    size_t  i, j;
    int64_t total;
    int     k;

    r->congested = 1;
    if (rc == -2) {
	snprintf(r->why, sizeof(r->why), "no summary (%s)",
		 r->cf->summary_file);
	return;
    }
    r->have_summary = 1;
    if (ctl_summary_stale(&r->s)) {
	snprintf(r->why, sizeof(r->why), "the summary is stale");
	return;
    }
    if (r->s.head->policies_digest != r->cf->policies_digest) {
	snprintf(r->why, sizeof(r->why), "the summary was published for "
		 "other policies (is qshape-scand reloaded?)");
	return;
    }
    if (r->s.head->nthrottle > 0) {
	snprintf(r->why, sizeof(r->why), "%u key%s throttled",
		 r->s.head->nthrottle, r->s.head->nthrottle == 1 ? "" : "s");
	return;
    }
    qv = shm_body_queue(r->s.body);
    for (i = 0; i < r->cf->npolicies; i++) {
	const QC_POLICY *q = &r->cf->policies[i];
	int64_t mq = min_queue(r, q);

	for (total = 0, j = 0; j < q->queues.n; j++)
	    if ((k = sv_queue_find(r->s.body, q->queues.v[j])) >= 0)
		total += qv[k].count[0];
	if (mt_queue_congested(total, mq, q->min_count)) {
	    snprintf(r->why, sizeof(r->why), "policy %s: %lld messages in "
		     "its queues (min_queue %lld, min_count %lld)", q->name,
		     (long long) total, (long long) mq,
		     (long long) q->min_count);
	    return;
	}
    }
    r->congested = 0;
}

/*
 * MT_THROTTLED_FN over the copied throttle set.  A truncated mark (its
 * key longer than the mark keeps) is taken as throttled while any key of
 * its kind is throttled by its policy.
 */
static int
throttled(void *ctx, const MT_POLICY *p, const HM_MARK *m)
{
    METER_RUN *r = ctx;
    const QS_THROTTLE *t;
    const QC_POLICY *q = 0;
    uint64_t h;
    uint32_t i;
    size_t  j;

    if (!r->have_summary)
	return 1;
    for (j = 0; j < r->cf->npolicies; j++)
	if (strcmp(r->cf->policies[j].name, p->name) == 0)
	    q = &r->cf->policies[j];
    if (q == 0)
	return 1;
    t = shm_body_throttle(r->s.body);
    h = qs_key_hash(m->kind, m->key, m->key_len);
    for (i = 0; i < r->s.head->nthrottle; i++) {
	if (m->truncated ? t[i].kind == m->kind
	    && t[i].policy_digest == q->digest
	    : shm_throttle_matches(&t[i], m->kind, h, m->key, m->key_len,
				   q->digest))
	    return 1;
    }
    return 0;
}

static int
by_id(const void *a, const void *b)
{
    return strcmp(((const HELD_MSG *) a)->id, ((const HELD_MSG *) b)->id);
}

/* The per-policy lines and the held_max_age line. */
static void
report(const METER_RUN *r, const MT_MSG *m, size_t n)
{
    size_t  i, j, cnt[MT_NWHY], too_old = 0, held;

    for (i = 0; i < r->npol; i++) {
	if (!r->pol[i].metered)
	    continue;
	memset(cnt, 0, sizeof(cnt));
	for (j = 0; j < n; j++)
	    if (strcmp(m[j].mark.policy, r->pol[i].name) == 0)
		cnt[m[j].why]++;
	too_old += cnt[MT_TOO_OLD];
	held = cnt[MT_RELEASE] + cnt[MT_CONGESTED] + cnt[MT_THROTTLED]
	    + cnt[MT_RATE] + cnt[MT_TOO_OLD];
	if (held == 0)
	    continue;
	printf(TAG ": policy=%s rate=%g/s held=%zu release=%zu waiting: "
	       "rate=%zu throttled=%zu congested=%zu too_old=%zu\n",
	       r->pol[i].name, r->pol[i].rate, held, cnt[MT_RELEASE],
	       cnt[MT_RATE], cnt[MT_THROTTLED], cnt[MT_CONGESTED],
	       cnt[MT_TOO_OLD]);
    }
    if (too_old)
	printf(TAG ": %zu message%s held longer than held_max_age: left for "
	       "the operator (qshapectl held, release, delete)\n", too_old,
	       too_old == 1 ? "" : "s");
}

/* Plan, release, report.  Returns the exit status. */
static int
release(METER_RUN *r, int qfd, HELD_LIST *l)
{
    HELD_LIST chosen;
    HELD_MSG key, *h;
    MT_MSG *m = xcalloc(l->n + 1, sizeof(*m));
    size_t  i, nrel, waiting = 0;
    int     rc = 0;

    for (i = 0; i < l->n; i++) {
	m[i].id = l->v[i].id;
	m[i].mark = l->v[i].mark;
    }
    nrel = mt_plan(r->pol, r->bk, r->npol, m, l->n, r->congested, throttled,
		   r, r->o.now, shm_mono_ns() / 1000000);
    for (i = 0; i < l->n; i++)
	waiting += m[i].why != MT_NO_POLICY && m[i].why != MT_MANUAL;
    if (waiting == 0) {			/* nothing of ours: say nothing */
	free(m);
	return 0;
    }
    if (r->congested)
	printf(TAG ": paused: %s\n", r->why);
    if (nrel > 0) {
	memset(&chosen, 0, sizeof(chosen));
	chosen.o = &r->o;
	chosen.v = xcalloc(nrel, sizeof(*chosen.v));
	chosen.ours = l->ours;
	chosen.others = l->others;
	qsort(l->v, l->n, sizeof(*l->v), by_id);
	for (i = 0; i < l->n; i++) {
	    if (m[i].why != MT_RELEASE)
		continue;
	    key.id = (char *) m[i].id;
	    h = bsearch(&key, l->v, l->n, sizeof(*l->v), by_id);
	    chosen.v[chosen.n++] = *h;	/* shallow: l owns the strings */
	}
	fflush(stdout);
	rc = held_act(&r->o, qfd, &chosen);
	free(chosen.v);
    }
    report(r, m, l->n);
    free(m);
    return rc;
}

int
ctl_release_metered(int argc, char **argv)
{
    METER_RUN r;
    HELD_LIST l;
    char    err[4096];
    int     rc, sfd, qfd;

    memset(&r, 0, sizeof(r));
    if ((rc = parse_opts(argc, argv, &r)) != 0)
	return rc < 0 ? 2 : 0;
    if ((r.cf = qc_load(r.o.config_path, err, sizeof(err))) == 0) {
	fprintf(stderr, "%s\n", err);
	return 1;
    }
    if (make_policies(&r) == 0)		/* no metered policy: quiet */
	goto done;
    if ((sfd = state_open(&r)) == -2) {
	rc = 0;				/* the other run does it */
	goto done;
    }
    if (sfd < 0 && !r.o.dry_run) {
	rc = 1;
	goto done;
    }
    judge_congestion(&r, ctl_summary_load(r.o.config_path, &r.s));
    qfd = held_queue_dir(&r.o);
    memset(&l, 0, sizeof(l));
    l.o = &r.o;
    held_read(qfd, &l);
    rc = release(&r, qfd, &l);
    if (sfd >= 0) {
	state_save(&r, sfd);
	close(sfd);
    }
    held_free(&l);
    close(qfd);
    if (fflush(stdout) != 0 || ferror(stdout))
	log_fatal("write standard output");
done:
    ctl_summary_free(&r.s);
    qc_free(r.cf);
    free(r.pol);
    free(r.bk);
    return rc;
}

/*
 * ctl_status - "qshapectl status": is the scanner alive, what does the
 * queue hold, which keys are throttled and why.
 *
 * Exit status: 0 fresh, 1 no summary (or unreadable), 3 stale.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "shm.h"
#include "ctl.h"
#include "ctl_summary.h"

#define EXIT_STALE	3

static const char *const kind_name[QS_NKEYKINDS] = {
    "sender_domain", "parent_domain", "sender", "client_address",
    "sasl_username", "rcpt_domain",
};

static const char *const action_name[] = {"log", "tempfail", "hold"};

static void
print_throttled(const CTL_SUMMARY *s)
{
    const QS_THROTTLE *t = shm_body_throttle(s->body);
    uint32_t i;

    printf("throttled: %u\n", s->head->nthrottle);
    for (i = 0; i < s->head->nthrottle; i++) {
	const QS_THROTTLE *e = &t[i];

	printf("  policy=%s key=%s:%s action=%s count=%u total=%u "
	       "share=%.2f since=%llds entered_at=%u/%u%s\n",
	       e->policy_name,
	       e->kind < QS_NKEYKINDS ? kind_name[e->kind] : "?", e->text,
	       e->action <= QS_ACTION_HOLD ? action_name[e->action] : "?",
	       e->count, e->total, e->share_ppm / 1e6,
	       (long long) (s->now - e->since), e->enter_count,
	       e->enter_total,
	       s->now < e->hold_until ? " (min_hold_time)" : "");
    }
}

int
ctl_status(int argc, char **argv)
{
    static const struct option longopts[] = {
	{"config", required_argument, 0, 'C'},
	{"help", no_argument, 0, 'h'},
	{0, 0, 0, 0}
    };
    const char *config = 0;
    CTL_SUMMARY s;
    const QS_QUEUE *q;
    uint32_t i;
    int     c, stale;

    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", longopts, 0)) != -1) {
	switch (c) {
	case 'f':
	case 'C':
	    config = optarg;
	    break;
	case 'h':
	    printf("usage: qshapectl status [-f|--config config_file]\n"
		   "Exit status: 0 fresh, 1 no summary, 3 stale.\n");
	    return 0;
	default:
	    fprintf(stderr, "usage: qshapectl status [-f config_file]\n");
	    return 2;
	}
    }
    if (ctl_summary_load(config, &s) < 0) {
	ctl_summary_free(&s);
	return 1;
    }
    stale = ctl_summary_stale(&s);
    printf("summary: %s, writer pid %d, heartbeat %llds ago, "
	   "published %llds ago, last reconcile %llds ago\n",
	   stale ? "STALE" : "fresh", (int) s.writer_pid,
	   (long long) (s.now - s.heartbeat),
	   (long long) (s.now - s.head->published),
	   (long long) (s.now - s.head->last_reconcile));
    printf("messages: %u\n", s.head->messages);
    q = shm_body_queue(s.body);
    for (i = 0; i < s.head->nqueues; i++)
	printf("  %-10s %u\n", q[i].name, q[i].count[0]);
    print_throttled(&s);
    ctl_summary_free(&s);
    return stale ? EXIT_STALE : 0;
}

/*
 * ctl_status - "qshapectl status": is the scanner alive, what does the
 * queue hold, which keys are throttled and why.
 *
 * Exit status: 0 fresh, 1 no summary (or unreadable), 3 stale.  What the
 * summary holds is printed by sumview, bounded and escaped.
 */
#include <getopt.h>
#include <stdio.h>

#include "conf.h"
#include "daemon.h"
#include "sumview.h"
#include "ctl.h"
#include "ctl_summary.h"

#define EXIT_STALE	3

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
    int     c, stale;

    optind = 1;
    while ((c = getopt_long(argc, argv, "C:f:h", longopts, 0)) != -1) {
	switch (c) {
	case 'f':
	    dm_deprecated("qshapectl status", "-f", "-C or --config");
	    /* FALLTHROUGH */
	case 'C':
	    config = optarg;
	    break;
	case 'h':
	    printf("usage: qshapectl status [-C|--config config_file]\n"
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
	   (long long) sv_ago(s.now, s.heartbeat),
	   (long long) sv_ago(s.now, s.head->published),
	   (long long) sv_ago(s.now, s.head->last_reconcile));
    sv_status(stdout, s.body, s.now);
    ctl_summary_free(&s);
    return stale ? EXIT_STALE : 0;
}

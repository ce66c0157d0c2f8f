/*
 * ctl_metrics - "qshapectl metrics": the summary in the Prometheus text
 * format (metrics.h), as the scanner writes it to metrics.textfile; and
 * "--list", every metric family with its type and labels (for the
 * documentation checks of tests/prom).
 *
 * The policies are this configuration's, their watched queues found in
 * the summary by name (the scanner's queue order may differ).  The
 * milter's families follow, from counters_file (mxct.h); when it cannot
 * be read, qshape_milter_counters_up 0 and one line on stderr say so.
 *
 * Exit status: 0, 1 no summary (or unreadable, or a bad configuration),
 * 2 usage.  A stale summary is printed as it is: its heartbeat timestamp
 * says how old it is, and the alerting rules judge it.  An unreadable
 * counters file is not an error of the command (the gauge says it).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf.h"
#include "mem.h"
#include "metrics.h"
#include "mxct.h"
#include "sumview.h"
#include "ctl.h"
#include "daemon.h"
#include "ctl_summary.h"

static void
list_families(void)
{
    const MX_FAMILY *f;
    size_t  i, n;

    f = mx_families(&n);
    for (i = 0; i < n; i++)
	printf("%s %s %s%s\n", f[i].name, f[i].type,
	       *f[i].labels ? f[i].labels : "-",
	       f[i].milter ? " milter" : "");
}

/* The configuration's policies, their queues as indexes of the body. */
static MX_POLICY *
policies(const QC_CONFIG *cf, const void *body)
{
    MX_POLICY *p = xcalloc(cf->npolicies + 1, sizeof(*p));
    size_t  i, j;
    int     q;

    for (i = 0; i < cf->npolicies; i++) {
	const QC_POLICY *c = &cf->policies[i];

	p[i].name = c->name;
	p[i].kind = c->key;
	for (j = 0; j < c->queues.n; j++)
	    if ((q = sv_queue_find(body, c->queues.v[j])) >= 0)
		p[i].queue_mask |= 1u << q;
    }
    return p;
}

/* The milter's families; a file that cannot be read is one line on
 * stderr.  0, or -1 when stdout failed. */
static int
milter_metrics(const char *path)
{
    CT_R   *r = ct_reader_create();
    char    err[512];
    int     rc;

    if (r == 0) {
	fprintf(stderr, "qshapectl metrics: out of memory\n");
	return -1;
    }
    rc = mxct_write(stdout, r, path, err, sizeof(err));
    if (rc == 1)
	fprintf(stderr, "qshapectl metrics: warning: counters %s: %s: the "
		"milter's families are left out "
		"(qshape_milter_counters_up 0)\n", path, err);
    ct_reader_destroy(r);
    return rc < 0 ? -1 : 0;
}

int
ctl_metrics(int argc, char **argv)
{
    static const struct option longopts[] = {
	{"config", required_argument, 0, 'C'},
	{"list", no_argument, 0, 'l'},
	{"help", no_argument, 0, 'h'},
	{0, 0, 0, 0}
    };
    const char *config = 0;
    CTL_SUMMARY s;
    MX_INPUT in;
    MX_POLICY *pol;
    int     c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "C:f:h", longopts, 0)) != -1) {
	switch (c) {
	case 'f':
	    dm_deprecated("qshapectl metrics", "-f", "-C or --config");
	    /* FALLTHROUGH */
	case 'C':
	    config = optarg;
	    break;
	case 'l':
	    list_families();
	    return 0;
	case 'h':
	    printf("usage: qshapectl metrics [-C|--config config_file] "
		   "[--list]\n"
		   "Prints the summary in the Prometheus text format; "
		   "--list: the metric families.\n");
	    return 0;
	default:
	    fprintf(stderr, "usage: qshapectl metrics [-f config_file] "
		    "[--list]\n");
	    return 2;
	}
    }
    if (ctl_summary_load(config, &s) < 0) {
	ctl_summary_free(&s);
	return 1;
    }
    pol = policies(s.cf, s.body);
    in = (MX_INPUT) {s.body, s.heartbeat, pol, s.cf->npolicies,
		     (uint32_t) s.cf->metrics.top_keys};
    rc = mx_format_summary(stdout, &in);
    if (rc == 0)
	rc = milter_metrics(s.cf->counters_file);
    if (fflush(stdout) != 0)
	rc = -1;
    free(pol);
    ctl_summary_free(&s);
    return rc < 0 ? 1 : 0;
}

/*
 * ctl_qopts - qshape(1)'s command line.  See ctl_qopts.h.
 *
 * As in qshape, -w is used only above 80, -b -t -m only when positive, and
 * -N -n only when standard output is a terminal.  Unlike qshape, a value
 * that is not a number is an error rather than a silent default.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "ctl_qopts.h"

static const char *const default_queues[] = {"incoming", "active"};

static void
usage(FILE *fp, const char *cmd, const char *extra)
{
    fprintf(fp,
	    "usage: qshapectl %s [-s] [-p] [-m min_subdomains] [-l]\n"
	    "\t[-b bucket_count] [-t bucket_time] [-w terminal_width]\n"
	    "\t[-N batch_msg_count] [-n batch_top_domains]\n"
	    "\t[-c config_directory] [-j threads] [--json] [--now seconds]\n"
	    "\t[-C config_file] [queue_name ...]\n"
	    "%s"
	    "  -s  sender domains (default: recipient domains)\n"
	    "  -p  also parent domains, shown with a leading '.', when they\n"
	    "      have at least min_subdomains (-m, default 5) subdomains\n"
	    "  -b  number of age buckets (default 10); -t first bucket in\n"
	    "      minutes (default 5), each next one twice as long, or\n"
	    "      linear with -l\n"
	    "  -w  output width (default 80)\n"
	    "  -N, -n  on a terminal: redraw every N messages (default\n"
	    "      1000), show the top n rows (default 20)\n"
	    "  -c  Postfix configuration directory\n"
	    "Queues default to incoming and active; relative names are taken\n"
	    "from the queue_directory of main.cf.  See qshapectl(8).\n",
	    cmd, extra ? extra : "");
}

static int
get_long(const char *cmd, int opt, const char *arg, long *out)
{
    char   *end;
    long    v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (end == arg || *end != 0 || errno == ERANGE) {
	log_warnx("%s: -%c: not a whole number: %s", cmd, opt, arg);
	return -1;
    }
    *out = v;
    return 0;
}

int
ctl_qopts_parse(int argc, char **argv, const char *usage_extra,
		CTL_QOPTS *o)
{
    static const struct option longopts[] = {
	{"json", no_argument, 0, 'J'},
	{"now", required_argument, 0, 'T'},
	{"threads", required_argument, 0, 'j'},
	{"config", required_argument, 0, 'C'},
	{"help", no_argument, 0, 'h'},
	{0, 0, 0, 0}
    };
    const char *cmd = argv[0];
    long    v, n_opt = -1, N_opt = -1;
    QT_NUM  num;
    int     c;

    memset(o, 0, sizeof(*o));
    qt_opts_default(&o->table);
    optind = 1;
    while ((c = getopt_long(argc, argv, "+lhc:C:f:psw:b:t:m:n:N:j:", longopts,
			    0)) != -1) {
	switch (c) {
	case 'l':
	    o->table.linear = 1;
	    break;
	case 'p':
	    o->table.parents = 1;
	    break;
	case 's':
	    o->by_sender = 1;
	    break;
	case 'c':
	    o->config_dir = optarg;
	    break;
	case 'w':
	    if (get_long(cmd, c, optarg, &v) < 0)
		goto bad;
	    if (v > 80)
		o->table.width = v;
	    break;
	case 'b':
	    if (get_long(cmd, c, optarg, &v) < 0)
		goto bad;
	    if (v > 0)
		o->table.nbuckets = v;
	    break;
	case 'm':
	    if (get_long(cmd, c, optarg, &v) < 0)
		goto bad;
	    if (v > 0)
		o->table.min_sub = v;
	    break;
	case 't':
	    if (qt_parse_num(optarg, &num) < 0) {
		log_warnx("%s: -t: not a number: %s", cmd, optarg);
		goto bad;
	    }
	    if ((num.is_int && num.u > 0) || (!num.is_int && num.d > 0))
		o->table.tick = num;
	    break;
	case 'n':
	    if (get_long(cmd, c, optarg, &n_opt) < 0)
		goto bad;
	    break;
	case 'N':
	    if (get_long(cmd, c, optarg, &N_opt) < 0)
		goto bad;
	    break;
	case 'j':
	    if (get_long(cmd, c, optarg, &v) < 0 || v < 1 || v > 16) {
		log_warnx("%s: -j: threads must be 1..16", cmd);
		goto bad;
	    }
	    o->threads = (int) v;
	    break;
	case 'J':
	    o->json = 1;
	    break;
	case 'f':
	    dm_deprecated(cmd, "-f", "-C or --config");
	    /* FALLTHROUGH */
	case 'C':
	    o->config_path = optarg;
	    break;
	case 'T':
	    if (get_long(cmd, 'T', optarg, &v) < 0)
		goto bad;
	    o->have_now = 1;
	    o->now = v;
	    break;
	case 'h':
	    usage(stdout, cmd, usage_extra);
	    return 1;
	default:
	    goto bad;
	}
    }
    if (o->table.nbuckets > QT_MAX_BUCKETS) {
	log_warnx("%s: -b: at most %d buckets", cmd, QT_MAX_BUCKETS);
	goto bad;
    }
    if (isatty(STDOUT_FILENO) && !o->json) {
	o->batch_msgs = N_opt >= 0 ? N_opt : 1000;
	o->top_n = n_opt >= 0 ? n_opt : 20;
    }
    if (optind < argc) {
	o->queues = (const char *const *) argv + optind;
	o->nqueues = argc - optind;
    } else {
	o->queues = default_queues;
	o->nqueues = 2;
    }
    return 0;

bad:
    usage(stderr, cmd, usage_extra);
    return -1;
}

/*
 * ctl_check - "qshapectl check-config [-v] [-C FILE]": load the
 * configuration as the daemons do; print "FILE:LINE: message" errors and
 * exit 1, or print "configuration OK" and exit 0 (like smtpd -n).  With -v
 * the effective configuration (every setting, defaults filled in, in
 * libconfig syntax: it loads again) goes to stdout and "configuration OK"
 * to stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "daemon.h"
#include "ctl.h"

static void
usage(FILE *fp)
{
    fprintf(fp, "usage: qshapectl check-config [-v] [-C FILE]\n"
	    "  -C, --config FILE  the file to check (default %s)\n"
	    "  -v       print the effective configuration\n", QC_DEFAULT_PATH);
}

int
ctl_check_config(int argc, char **argv)
{
    static const struct option longopts[] = {
	{"help", no_argument, 0, 'h'},
	{"config", required_argument, 0, 'C'},
	{0, 0, 0, 0},
    };
    const char *path = QC_DEFAULT_PATH;
    char    err[8192];
    QC_CONFIG *c;
    int     ch, verbose = 0;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "C:f:v", longopts, 0)) != -1) {
	switch (ch) {
	case 'f':
	    dm_deprecated("qshapectl check-config", "-f", "-C or --config");
	    /* FALLTHROUGH */
	case 'C':
	    path = optarg;
	    break;
	case 'v':
	    verbose = 1;
	    break;
	case 'h':
	    usage(stdout);
	    return 0;
	default:
	    usage(stderr);
	    return 2;
	}
    }
    if (optind != argc) {
	fprintf(stderr, "qshapectl check-config: unexpected argument: %s\n",
		argv[optind]);
	usage(stderr);
	return 2;
    }
    if ((c = qc_load(path, err, sizeof(err))) == 0) {
	fprintf(stderr, "%s\n", err);
	return 1;
    }
    if (verbose) {
	qc_print(c, stdout);
	fflush(stdout);
	fprintf(stderr, "configuration OK\n");
    } else {
	printf("configuration OK\n");
    }
    qc_free(c);
    return 0;
}

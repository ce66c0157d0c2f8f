/*
 * daemon - the daemons' command line.  See daemon.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon.h"

static void
usage(const char *progname, const char *default_config)
{
    fprintf(stderr, "usage: %s [-f] [-d] [-C config_file]\n"
	    "  -f  stay in the foreground, log to stderr\n"
	    "  -d  debug logging\n"
	    "  -C, --config  configuration (default %s)\n"
	    "  -V  print the version\n", progname, default_config);
    exit(2);
}

void
dm_deprecated(const char *progname, const char *old, const char *new_spelling)
{
    fprintf(stderr, "%s: warning: option %s is deprecated, use %s\n",
	    progname, old, new_spelling);
}

void
dm_options(int argc, char **argv, const char *progname, const char *version,
	   const char *default_config, DM_OPTS *o)
{
    static const struct option longopts[] = {
	{"config", required_argument, 0, 'C'},
	{"version", no_argument, 0, 'V'},
	{0, 0, 0, 0},
    };
    int     c;

    o->config = default_config;
    o->foreground = 0;
    o->debug = 0;
    while ((c = getopt_long(argc, argv, "C:c:dfV", longopts, 0)) != -1) {
	switch (c) {
	case 'c':
	    dm_deprecated(progname, "-c", "-C or --config");
	    /* FALLTHROUGH */
	case 'C':
	    o->config = optarg;
	    break;
	case 'd':
	    o->debug = 1;
	    break;
	case 'f':
	    o->foreground = 1;
	    break;
	case 'V':
	    printf("%s %s\n", progname, version);
	    exit(0);
	default:
	    usage(progname, default_config);
	}
    }
    if (optind != argc)
	usage(progname, default_config);
}

/*
 * daemon - the daemons' command line.  See daemon.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon.h"

static void
usage(const char *progname, const char *default_config)
{
    fprintf(stderr, "usage: %s [-f] [-d] [-c config_file]\n"
	    "  -f  stay in the foreground, log to stderr\n"
	    "  -d  debug logging\n"
	    "  -c  configuration (default %s)\n"
	    "  -V  print the version\n", progname, default_config);
    exit(2);
}

void
dm_options(int argc, char **argv, const char *progname, const char *version,
	   const char *default_config, DM_OPTS *o)
{
    int     c;

    o->config = default_config;
    o->foreground = 0;
    o->debug = 0;
    while ((c = getopt(argc, argv, "c:dfV")) != -1) {
	switch (c) {
	case 'c':
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

/*
 * daemon - what the daemons share at start-up: the command line
 * ([-f] [-d] [-c config_file] [-V]).  Exits on a usage error or -V.
 */
#ifndef QSHAPE_DAEMON_H
#define QSHAPE_DAEMON_H

typedef struct DM_OPTS {
    const char *config;			/* -c, or the default given */
    int     foreground;			/* -f */
    int     debug;			/* -d */
} DM_OPTS;

extern void dm_options(int argc, char **argv, const char *progname,
		       const char *version, const char *default_config,
		       DM_OPTS *);

#endif

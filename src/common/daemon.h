/*
 * daemon - what the daemons share at start-up: the command line
 * ([-f] [-d] [-C config_file | --config config_file] [-V]).  -c
 * config_file, the old spelling, still works for one release, with a
 * deprecation line on stderr.  Exits on a usage error or -V.
 */
#ifndef QSHAPE_DAEMON_H
#define QSHAPE_DAEMON_H

typedef struct DM_OPTS {
    const char *config;			/* -C, or the default given */
    int     foreground;			/* -f */
    int     debug;			/* -d */
} DM_OPTS;

extern void dm_options(int argc, char **argv, const char *progname,
		       const char *version, const char *default_config,
		       DM_OPTS *);

/* The deprecation line for an old option spelling, on stderr:
 * "PROG: warning: option OLD is deprecated, use NEW". */
extern void dm_deprecated(const char *progname, const char *old,
			  const char *new_spelling);

#endif

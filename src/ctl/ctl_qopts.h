/*
 * ctl_qopts - qshape(1)'s command line, shared by "qshapectl scan" and
 * "qshapectl shape": -s -p -m -b -t -l -w -N -n -c, the queue names, and
 * our additions --json, --now and -j.
 */
#ifndef QSHAPE_CTL_QOPTS_H
#define QSHAPE_CTL_QOPTS_H

#include <stdint.h>

#include "qtab.h"

typedef struct CTL_QOPTS {
    QT_OPTS table;			/* -p -m -b -t -l -w */
    int     by_sender;			/* -s */
    const char *config_dir;		/* -c */
    long    batch_msgs;			/* -N, terminal only (else 0) */
    long    top_n;			/* -n, terminal only (else 0) */
    int     json;			/* --json */
    int     have_now;
    int64_t now;			/* --now, seconds */
    int     threads;			/* -j, 0 = automatic */
    const char *config_path;		/* --config (shape): qshape-milter.conf */
    int     nqueues;
    const char *const *queues;		/* default: incoming active */
} CTL_QOPTS;

/*
 * Parse argv (argv[0] is the command name).  Returns 0, 1 when --help was
 * printed (exit 0), or -1 after printing a usage error (exit 2).
 */
extern int ctl_qopts_parse(int argc, char **argv, const char *usage_extra,
			   CTL_QOPTS *);

#endif

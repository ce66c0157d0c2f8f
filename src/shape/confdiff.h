/*
 * confdiff - what a reload cannot apply: the settings a daemon reads only
 * at start (its socket, its account, its directories, its pid file), so
 * that a reload that finds them changed can say which ones need a
 * restart, and apply the rest.
 *
 * Pure: two loaded configurations in, a list of names out.  No I/O.
 */
#ifndef QSHAPE_CONFDIFF_H
#define QSHAPE_CONFDIFF_H

#include <stddef.h>

#include "conf.h"

typedef enum QC_DAEMON {
    QC_DAEMON_SCAND = 1,
    QC_DAEMON_MILTER = 2
} QC_DAEMON;

/*
 * The settings that differ between running and next and that daemon reads
 * only at start, as "name, name" in out (always NUL-terminated, cut at
 * len - 1 bytes); returns how many (0: out is "").
 */
extern size_t qc_restart_needed(const QC_CONFIG *running,
				const QC_CONFIG *next, QC_DAEMON daemon,
				char *out, size_t len);

#endif

/*
 * confdiff - the settings a reload cannot apply.  See confdiff.h.
 */
#include <stdio.h>
#include <string.h>

#include "confdiff.h"

typedef enum {
    DF_STR,
    DF_I64
} DF_TYPE;

/* The start-only settings: name, which daemons read them only at start,
 * where they are in QC_CONFIG. */
static const struct {
    const char *name;
    int     daemons;			/* QC_DAEMON_* */
    DF_TYPE type;
    size_t  offset;
} start_only[] = {
    {"queue_directory", QC_DAEMON_SCAND, DF_STR,
     offsetof(QC_CONFIG, queue_directory)},
    {"postfix_config_directory", QC_DAEMON_SCAND, DF_STR,
     offsetof(QC_CONFIG, postfix_config_directory)},
    {"summary_file", QC_DAEMON_SCAND, DF_STR,
     offsetof(QC_CONFIG, summary_file)},
    {"group", QC_DAEMON_SCAND | QC_DAEMON_MILTER, DF_STR,
     offsetof(QC_CONFIG, group)},
    {"scanner.user", QC_DAEMON_SCAND, DF_STR,
     offsetof(QC_CONFIG, scanner.user)},
    {"scanner.pid_file", QC_DAEMON_SCAND, DF_STR,
     offsetof(QC_CONFIG, scanner.pid_file)},
    {"milter.socket", QC_DAEMON_MILTER, DF_STR,
     offsetof(QC_CONFIG, milter.socket)},
    {"milter.socket_mode", QC_DAEMON_MILTER, DF_I64,
     offsetof(QC_CONFIG, milter.socket_mode)},
    {"milter.socket_group", QC_DAEMON_MILTER, DF_STR,
     offsetof(QC_CONFIG, milter.socket_group)},
    {"milter.user", QC_DAEMON_MILTER, DF_STR,
     offsetof(QC_CONFIG, milter.user)},
    {"milter.pid_file", QC_DAEMON_MILTER, DF_STR,
     offsetof(QC_CONFIG, milter.pid_file)},
    {"milter.timeout", QC_DAEMON_MILTER, DF_I64,
     offsetof(QC_CONFIG, milter.timeout)},
};

#define NSTART (sizeof(start_only) / sizeof(start_only[0]))

static int
differs(const QC_CONFIG *a, const QC_CONFIG *b, DF_TYPE type, size_t off)
{
    const char *pa = (const char *) a + off;
    const char *pb = (const char *) b + off;

    if (type == DF_I64)
	return *(const int64_t *) pa != *(const int64_t *) pb;
    return strcmp(*(char *const *) pa, *(char *const *) pb) != 0;
}

size_t
qc_restart_needed(const QC_CONFIG *running, const QC_CONFIG *next,
		  QC_DAEMON daemon, char *out, size_t len)
{
    size_t  i, n = 0, used = 0;
    int     w;

    if (len > 0)
	out[0] = 0;
    for (i = 0; i < NSTART; i++) {
	if ((start_only[i].daemons & (int) daemon) == 0
	    || !differs(running, next, start_only[i].type,
			start_only[i].offset))
	    continue;
	if (used < len) {
	    w = snprintf(out + used, len - used, "%s%s", n ? ", " : "",
			 start_only[i].name);
	    used += w > 0 ? (size_t) w : 0;
	}
	n++;
    }
    return n;
}

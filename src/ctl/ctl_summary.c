/*
 * ctl_summary - open and copy the summary.  See ctl_summary.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "conf.h"
#include "shm.h"
#include "ctl_summary.h"

int
ctl_summary_load(const char *config_path, CTL_SUMMARY *s)
{
    char    err[4096];
    SHM_R  *r;
    SHM_ERR why;
    size_t  len;
    int     tries;

    memset(s, 0, sizeof(*s));
    if ((s->cf = qc_load(config_path, err, sizeof(err))) == 0) {
	fprintf(stderr, "%s\n", err);
	return -1;
    }
    s->stale_after = s->cf->stale_after;
    s->now = (int64_t) time(0);
    if ((r = shm_reader_open(s->cf->summary_file, &why, err,
			     sizeof(err))) == 0) {
	if (why == SHM_MISSING)
	    log_warnx("no summary %s: is qshape-scand running?",
		      s->cf->summary_file);
	else
	    log_warnx("%s", err);
	return -2;
    }
    for (tries = 0; tries < 3; tries++) {
	len = shm_reader_body_size(r);
	free(s->body);
	s->body = malloc(len);
	if (s->body && shm_reader_copy(r, s->body, len) == 0)
	    break;
	if (s->body == 0 || errno != ERANGE)
	    tries = 3;
    }
    s->heartbeat = shm_reader_heartbeat(r);
    s->age_ms = shm_reader_age_ms(r, shm_mono_ns());
    s->writer_pid = shm_reader_writer_pid(r);
    shm_reader_close(r);
    if (tries >= 3) {
	log_warn("summary %s: no consistent copy", s->cf->summary_file);
	free(s->body);
	s->body = 0;
	return -2;
    }
    s->head = s->body;
    return 0;
}

void
ctl_summary_free(CTL_SUMMARY *s)
{
    qc_free(s->cf);
    free(s->body);
    memset(s, 0, sizeof(*s));
}

int
ctl_summary_stale(const CTL_SUMMARY *s)
{
    return s->age_ms < 0 || s->age_ms > s->stale_after * 1000;
}

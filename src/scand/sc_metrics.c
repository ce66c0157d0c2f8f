/*
 * sc_metrics - the scanner's metrics: the summary it published and the
 * milter's counters (mxct.h), in the Prometheus text format (metrics.h),
 * to a stream or atomically to node_exporter's textfile.  See scanner.h.
 *
 * A counters file that cannot be read gives qshape_milter_counters_up 0
 * and is logged when that starts and when it ends, not every interval.
 *
 * The body is read back as every reader reads it (shm_reader_attach()
 * and a consistent copy), so the textfile says what "qshapectl metrics"
 * says at the same moment.  The textfile is written to a temporary file
 * in its directory (named PATH.XXXXXX: not *.prom, so the collector
 * never reads it), synced and renamed over PATH.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "mxct.h"
#include "scanner_int.h"

/* The milter's families, when the scanner knows its counters file. */
static int
milter_metrics(SCANNER *sc, FILE *fp)
{
    char    err[512];
    int     rc;

    if (sc->counters == 0)
	return 0;
    rc = mxct_write(fp, sc->counters, sc->conf.counters_file, err,
		    sizeof(err));
    if (rc == 1 && !sc->metrics_ct_bad)
	log_warnx("counters %s: %s: no milter metrics until it can be read "
		  "(qshape_milter_counters_up 0)", sc->conf.counters_file,
		  err);
    else if (rc == 0 && sc->metrics_ct_bad)
	log_info("counters %s: milter metrics again",
		 sc->conf.counters_file);
    if (rc >= 0)
	sc->metrics_ct_bad = rc;
    return rc < 0 ? -1 : 0;
}

int
sc_metrics(SCANNER *sc, FILE *fp, uint32_t top_keys)
{
    SHM_R  *r = shm_reader_attach(sc->shm);
    MX_POLICY *pol = xcalloc(sc->conf.npolicy + 1, sizeof(*pol));
    void   *body = 0;
    MX_INPUT in;
    size_t  p;
    int     rc = -1;

    if (r == 0)
	goto out;
    body = xmalloc(shm_reader_body_size(r));
    if (shm_reader_copy(r, body, shm_reader_body_size(r)) < 0)
	goto out;
    for (p = 0; p < sc->conf.npolicy; p++) {
	pol[p].name = sc->conf.policy[p].th.name;
	pol[p].kind = sc->conf.policy[p].window.kind;
	pol[p].queue_mask = sc->conf.policy[p].window.queue_mask;
    }
    in = (MX_INPUT) {body, shm_reader_heartbeat(r), pol, sc->conf.npolicy,
		     top_keys};
    rc = mx_format_summary(fp, &in);
    if (rc == 0)
	rc = milter_metrics(sc, fp);
out:
    shm_reader_close(r);
    free(body);
    free(pol);
    return rc;
}

int
sc_metrics_write(SCANNER *sc, const char *path, uint32_t top_keys,
		 char *err, size_t errlen)
{
    size_t  len = strlen(path);
    char   *tmp = xmalloc(len + 8);
    FILE   *fp = 0;
    int     fd;

    snprintf(tmp, len + 8, "%s.XXXXXX", path);
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
	snprintf(err, errlen, "metrics: create %s: %s", tmp, strerror(errno));
	free(tmp);
	return -1;
    }
    /* node_exporter reads it as another user. */
    if (fchmod(fd, 0644) < 0 || (fp = fdopen(fd, "w")) == 0) {
	snprintf(err, errlen, "metrics: %s: %s", tmp, strerror(errno));
	goto bad;
    }
    if (sc_metrics(sc, fp, top_keys) < 0) {
	snprintf(err, errlen, "metrics: %s: cannot format the summary", tmp);
	goto bad;
    }
    if (fflush(fp) != 0 || fsync(fd) < 0) {
	snprintf(err, errlen, "metrics: write %s: %s", tmp, strerror(errno));
	goto bad;
    }
    fd = -1;
    if (fclose(fp) != 0) {
	fp = 0;
	snprintf(err, errlen, "metrics: close %s: %s", tmp, strerror(errno));
	goto bad;
    }
    fp = 0;
    if (rename(tmp, path) < 0) {
	snprintf(err, errlen, "metrics: rename %s to %s: %s", tmp, path,
		 strerror(errno));
	goto bad;
    }
    free(tmp);
    return 0;

bad:
    if (fp)
	fclose(fp);
    else if (fd >= 0)
	close(fd);
    unlink(tmp);
    free(tmp);
    return -1;
}

/*
 * sumr - the milter's view of the summary.  See sumr.h.
 *
 * One reader handle for the process, behind a mutex: a lookup costs a
 * hash probe and a sequence check, far less than contending for it.
 */
#include <pthread.h>
#include <string.h>

#include "log.h"
#include "shm.h"
#include "sumr.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static SHM_R *reader;
static char opened[SHM_PATH_MAX + 1];	/* name of the open summary */
static int64_t last_try;		/* last open attempt, seconds */
static VD_SUMMARY last_state = VD_SUMMARY_OK;
static int logged;			/* last_state has been logged */

static const char *
state_text(VD_SUMMARY s)
{
    return s == VD_SUMMARY_MISSING ? "missing" : s == VD_SUMMARY_STALE ?
	"stale" : s == VD_SUMMARY_FOREIGN ? "of an unknown version" : "fresh";
}

/* Open (or reopen under a new name); with the lock held. */
static VD_SUMMARY
open_reader(const char *name, int64_t now)
{
    SHM_ERR why;
    char    err[256];

    if (reader && strcmp(opened, name) == 0)
	return VD_SUMMARY_OK;
    shm_reader_close(reader);
    reader = 0;
    if (now - last_try < 1 && strcmp(opened, name) == 0)
	return last_state == VD_SUMMARY_FOREIGN ? VD_SUMMARY_FOREIGN
	    : VD_SUMMARY_MISSING;
    last_try = now;
    snprintf(opened, sizeof(opened), "%s", name);
    if ((reader = shm_reader_open(name, &why, err, sizeof(err))) != 0)
	return VD_SUMMARY_OK;
    if (why != SHM_MISSING)
	log_debug("summary %s: %s", name, err);
    return why == SHM_FOREIGN || why == SHM_VERSION ? VD_SUMMARY_FOREIGN
	: VD_SUMMARY_MISSING;
}

/* Is the open summary's heartbeat too old, by the monotonic clock?
 * With the lock held. */
static int
stale(int64_t stale_after, int64_t now)
{
    int64_t age = shm_reader_age_ms(reader, shm_mono_ns());

    (void) now;
    return age < 0 || age > stale_after * 1000;
}

VD_SUMMARY
sumr_state(const char *name, int64_t stale_after, int64_t now)
{
    VD_SUMMARY s;

    pthread_mutex_lock(&lock);
    if ((s = open_reader(name, now)) == VD_SUMMARY_OK && stale(stale_after,
								now)) {
	/* A restarted scanner publishes a new segment under the name:
	 * look again, at most once a second. */
	if (now - last_try >= 1) {
	    shm_reader_close(reader);
	    reader = 0;
	    s = open_reader(name, now);
	}
	if (s == VD_SUMMARY_OK && stale(stale_after, now))
	    s = VD_SUMMARY_STALE;
    }
    if (s != last_state || !logged) {
	if (s != VD_SUMMARY_OK || logged)
	    log_warnx("summary %s is %s%s", name, state_text(s),
		      s == VD_SUMMARY_OK ? "" : ": applying fail_mode");
	last_state = s;
	logged = 1;
    }
    pthread_mutex_unlock(&lock);
    return s;
}

int
sumr_lookup(void *ctx, int kind, const char *key, size_t len,
	    uint64_t digest, QS_THROTTLE *out)
{
    int     rc = -1;

    (void) ctx;
    pthread_mutex_lock(&lock);
    if (reader)
	rc = shm_reader_find_throttle(reader, kind, qs_key_hash(kind, key,
							       len),
				      key, len, digest, out);
    pthread_mutex_unlock(&lock);
    return rc;
}

void
sumr_shutdown(void)
{
    pthread_mutex_lock(&lock);
    shm_reader_close(reader);
    reader = 0;
    pthread_mutex_unlock(&lock);
}

/*
 * sumr - the milter's view of the summary.  See sumr.h.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "qshape/vocab.h"
#include "log.h"
#include "shm.h"
#include "sumr.h"

#define RETRY_NS	1000000000LL	/* between open attempts */

/* One thread's reader. */
typedef struct TREADER {
    SHM_R  *r;
    char    name[SHM_PATH_MAX + 1];	/* of the last open attempt */
    int64_t last_try_ns;		/* CLOCK_MONOTONIC */
    int64_t fresh_until_ns;		/* heartbeat known fresh until then */
    VD_SUMMARY last_err;		/* of the last failed open */
    char    err[256];			/* its reason */
} TREADER;

static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_ok;
static _Atomic int fail_cond = VD_NO_MATCH;	/* VD_WHY */

static void
tr_free(void *p)
{
    TREADER *t = p;

    if (t) {
	shm_reader_close(t->r);
	free(t);
    }
}

static void
make_key(void)
{
    key_ok = pthread_key_create(&key, tr_free) == 0;
}

/* The calling thread's reader, or NULL (no memory). */
static TREADER *
tr_get(void)
{
    TREADER *t;

    pthread_once(&key_once, make_key);
    if (!key_ok)
	return 0;
    if ((t = pthread_getspecific(key)) == 0) {
	if ((t = calloc(1, sizeof(*t))) == 0)
	    return 0;
	if (pthread_setspecific(key, t) != 0) {
	    free(t);
	    return 0;
	}
    }
    return t;
}

/* Open (or reopen under a new name), at most once a second. */
static VD_SUMMARY
tr_open(TREADER *t, const char *name, int64_t now)
{
    SHM_ERR why = SHM_OK;

    if (t->r && strcmp(t->name, name) == 0)
	return VD_SUMMARY_OK;
    shm_reader_close(t->r);
    t->r = 0;
    if (strcmp(t->name, name) == 0 && now - t->last_try_ns < RETRY_NS)
	return t->last_err;
    t->last_try_ns = now;
    snprintf(t->name, sizeof(t->name), "%s", name);
    t->fresh_until_ns = 0;
    if ((t->r = shm_reader_open(name, &why, t->err, sizeof(t->err))) != 0)
	return VD_SUMMARY_OK;
    switch (why) {
    case SHM_MISSING:
	t->last_err = VD_SUMMARY_MISSING;
	break;
    case SHM_FOREIGN:
    case SHM_VERSION:
	t->last_err = VD_SUMMARY_FOREIGN;
	break;
    case SHM_IOERR:
	t->last_err = VD_SUMMARY_UNREADABLE;
	break;
    case SHM_UNTRUSTED:			/* refused: owner, type, mode */
    default:
	t->last_err = VD_SUMMARY_UNTRUSTED;
	break;
    }
    return t->last_err;
}

/*
 * Is the heartbeat older than stale_after?  A heartbeat only moves
 * forward, so one that is age ms old now stays fresh at least until
 * stale_after - age ms from now: until then the answer is known without
 * asking the reader again (shm_reader_age_ms() reads the boot id).
 */
static int
stale(TREADER *t, int64_t stale_after, int64_t now)
{
    int64_t age;

    if (now < t->fresh_until_ns)
	return 0;
    age = shm_reader_age_ms(t->r, now);
    if (age < 0 || age > stale_after * 1000)
	return 1;
    t->fresh_until_ns = now + (stale_after * 1000 - age) * 1000000;
    return 0;
}

static VD_SUMMARY
tr_state(TREADER *t, const QC_CONFIG *cf, int64_t now)
{
    VD_SUMMARY s;
    uint64_t digest;

    if ((s = tr_open(t, cf->summary_file, now)) != VD_SUMMARY_OK)
	return s;
    if (stale(t, cf->stale_after, now)) {
	/* A restarted scanner publishes a new segment under the name:
	 * look again, at most once a second. */
	if (now - t->last_try_ns >= RETRY_NS) {
	    shm_reader_close(t->r);
	    t->r = 0;
	    if ((s = tr_open(t, cf->summary_file, now)) != VD_SUMMARY_OK)
		return s;
	}
	if (stale(t, cf->stale_after, now))
	    return VD_SUMMARY_STALE;
    }
    if (shm_reader_policies_digest(t->r, &digest) < 0) {
	snprintf(t->err, sizeof(t->err), "policies digest unreadable");
	return VD_SUMMARY_UNREADABLE;
    }
    return digest == cf->policies_digest ? VD_SUMMARY_OK
	: VD_SUMMARY_POLICIES;
}

static int
lookup(void *ctx, int kind, const char *k, size_t len, uint64_t digest,
       QS_THROTTLE *out)
{
    TREADER *t = ctx;

    if (t == 0 || t->r == 0)
	return -1;
    if (k == 0)
	return shm_reader_any_throttle(t->r, kind, digest);
    return shm_reader_find_throttle(t->r, kind, qs_key_hash(kind, k, len),
				    k, len, digest, out);
}

static const char *
cond_text(VD_WHY w)
{
    switch (w) {
    case VD_FAIL_MISSING:
	return "missing";
    case VD_FAIL_STALE:
	return "stale (no heartbeat within stale_after)";
    case VD_FAIL_FOREIGN:
	return "of an unknown version or layout";
    case VD_FAIL_UNTRUSTED:
	return "untrusted";
    case VD_FAIL_LOOKUP:
	return "unreadable";
    default:
	return "?";
    }
}

/* The reader's reason, without the "summary PATH: " it starts with. */
static const char *
reason(const TREADER *t, const char *path)
{
    size_t  n = strlen(path);

    if (t == 0)
	return "";
    if (strncmp(t->err, "summary ", 8) == 0
	&& strncmp(t->err + 8, path, n) == 0 && t->err[8 + n] == ':')
	return t->err + 8 + n + 1 + (t->err[9 + n] == ' ');
    return t->err;
}

/* Log a change of the fail condition, once, by the thread that made it. */
static void
log_change(const QC_CONFIG *cf, const TREADER *t, VD_WHY from, VD_WHY to)
{
    const char *mode = cf->fail_mode == QC_FAIL_TEMPFAIL ? "tempfail"
	: "accept";
    const char *why = reason(t, cf->summary_file);

    if (from == VD_FAIL_POLICY)
	log_warnx("fail mode ends (%s): the scanner's policies match",
		  vd_why_name(from));
    else if (from != VD_NO_MATCH)
	log_warnx("fail mode ends (%s): summary %s is usable",
		  vd_why_name(from), cf->summary_file);
    if (to == VD_FAIL_POLICY)
	log_warnx("fail mode begins (%s): policies differ from the "
		  "scanner's: reload both; applying fail_mode %s",
		  vd_why_name(to), mode);
    else if (to != VD_NO_MATCH)
	log_warnx("fail mode begins (%s): summary %s is %s%s%s; applying "
		  "fail_mode %s", vd_why_name(to), cf->summary_file,
		  cond_text(to), *why ? ": " : "", why, mode);
}

int
sumr_decide(const QC_CONFIG *cf, const VD_MSG *m, VD_VERDICT *v)
{
    TREADER *t = tr_get();
    int64_t now = shm_mono_ns();
    VD_SUMMARY s = t ? tr_state(t, cf, now) : VD_SUMMARY_UNREADABLE;
    int     before, after;

    if (t && s == VD_SUMMARY_OK)
	t->err[0] = 0;
    vd_decide(cf, m, s, lookup, t, v);
    before = atomic_load_explicit(&fail_cond, memory_order_relaxed);
    after = (int) vd_fail_next((VD_WHY) before, v);
    if (after != before
	&& atomic_compare_exchange_strong(&fail_cond, &before, after)) {
	log_change(cf, t, (VD_WHY) before, (VD_WHY) after);
	return after != VD_NO_MATCH;
    }
    return 0;
}

VD_WHY
sumr_fail_condition(void)
{
    return (VD_WHY) atomic_load(&fail_cond);
}

void
sumr_shutdown(void)
{
    TREADER *t;

    pthread_once(&key_once, make_key);
    if (key_ok && (t = pthread_getspecific(key)) != 0) {
	pthread_setspecific(key, 0);
	tr_free(t);
    }
}

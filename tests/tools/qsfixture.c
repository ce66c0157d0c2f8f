/*
 * qsfixture - publish a fixture queue-shape summary, for the milter tests
 * (tests/milter/run), the way qshape-scand would: same writer, same layout.
 *
 *	qsfixture [--config CONF] [--stale SECONDS] [--corrupt-index] [--hold]
 *		  FILE [ENTRY ...]
 *	qsfixture --unlink FILE
 *
 * FILE is the summary's path ("/run/qshape-mt.XXXXXX/main"), in a
 * directory that belongs to us and passes the checks of shm.h (the
 * caller makes it, e.g. with mktemp -d under /run).  Each ENTRY is one key in
 * the throttled state:
 *
 *	KIND:KEY:POLICY:ACTION
 *
 * KIND is sender_domain, parent_domain, sender, client_address or
 * sasl_username; KEY is the key as the scanner normalises it (lower-case
 * domains, ".example.com" for a parent domain; it may contain ':', as an
 * IPv6 address does: KIND ends at the first ':', ACTION and POLICY are
 * the last two fields); POLICY is the index of the policy in the
 * configuration the milter runs with; ACTION is tempfail, hold or log.
 * Each entry has count 100 of total 200 (share 0.50).  With --config, an
 * entry carries the name and digest of policy POLICY of CONF, and the body
 * CONF's policies_digest, as the scanner publishes them (the milter matches
 * an entry to its policy by digest); without, name "policyN", digests 0.
 *
 * A new summary is created (replacing any at FILE, which is marked
 * retired, as a restarted scanner does), filled, and published with
 * heartbeat now, or now - SECONDS with --stale.  Without --hold the
 * program then exits: the summary stays, and goes stale once stale_after
 * seconds have passed.  With --hold it forks after publishing, the parent
 * prints the child's pid and exits 0 (so the summary is in place when the
 * caller goes on), and the child refreshes the heartbeat five times a
 * second until SIGTERM or SIGINT, then exits 0, leaving the summary in
 * place.
 *
 * --corrupt-index overwrites the hash index of both body copies with
 * slots that point past the throttle set after publishing, as a stray
 * write would: the header and heartbeat stay good, every lookup fails.
 *
 * --unlink removes FILE (exit 0 also when there was none).
 *
 * Errors: "qsfixture: reason" on stderr, exit 1; usage errors exit 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "qshape/vocab.h"
#include "shm.h"

#define FIX_COUNT	100		/* each entry's messages */
#define FIX_TOTAL	200		/* of all messages */

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
    (void) sig;
    stop = 1;
}

static _Noreturn void
usage(void)
{
    fprintf(stderr,
	    "usage: qsfixture [--config CONF] [--stale SECONDS] [--corrupt-index]\n"
	    "                 [--hold] FILE "
	    "[KIND:KEY:POLICY:ACTION ...]\n"
	    "       qsfixture --unlink FILE\n");
    exit(2);
}

static _Noreturn void LOG_FMT(1, 2)
die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "qsfixture: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* A kind a policy may name, from s[0..len); -1 if none. */
static int
kind_of(const char *s, size_t len)
{
    char    name[32];

    if (len >= sizeof(name))
	return -1;
    memcpy(name, s, len);
    name[len] = 0;
    return qs_kind_parse(name);
}

/* An action a throttled key is published with; -1 if none. */
static int
action_of(const char *s)
{
    int     a = qs_action_parse(s);

    return a == QS_ACTION_ACCEPT ? -1 : a;
}

/* Parse one KIND:KEY:POLICY:ACTION into e. */
static void
parse_entry(const char *spec, QS_THROTTLE *e)
{
    const char *c1 = strchr(spec, ':');
    const char *c3 = strrchr(spec, ':');
    const char *c2;
    char   *end;
    long    policy;
    int     kind, action;

    if (c1 == 0 || c3 == c1)
	die("%s: want KIND:KEY:POLICY:ACTION", spec);
    for (c2 = c3 - 1; c2 > c1 && *c2 != ':'; c2--)
	continue;
    if (c2 == c1)
	die("%s: want KIND:KEY:POLICY:ACTION", spec);
    if ((kind = kind_of(spec, (size_t) (c1 - spec))) < 0)
	die("%s: unknown kind of key", spec);
    if ((action = action_of(c3 + 1)) < 0)
	die("%s: action is not tempfail, hold or log", spec);
    errno = 0;
    policy = strtol(c2 + 1, &end, 10);
    if (errno || end != c3 || end == c2 + 1 || policy < 0 || policy > 63)
	die("%s: policy index is not 0..63", spec);
    memset(e, 0, sizeof(*e));
    shm_throttle_set_key(e, kind, c1 + 1, (size_t) (c2 - c1 - 1));
    e->action = (uint8_t) action;
    e->policy = (uint16_t) policy;
    e->count = FIX_COUNT;
    e->total = FIX_TOTAL;
    e->share_ppm = (uint32_t) ((uint64_t) FIX_COUNT * 1000000 / FIX_TOTAL);
    e->enter_count = FIX_COUNT;
    e->enter_total = FIX_TOTAL;
    e->since = (int64_t) time(0);
    e->hold_until = e->since + 300;
    snprintf(e->policy_name, sizeof(e->policy_name), "policy%ld", policy);
}

/* Fill both copies' index[] with slots past the throttle set. */
static void
corrupt_index(const char *path)
{
    QS_HEADER h;
    QS_BODY b;
    unsigned char junk[4096];
    uint64_t off, left, n;
    int     fd, c;

    memset(junk, 0xff, sizeof(junk));
    if ((fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) < 0
	|| pread(fd, &h, sizeof(h), 0) != (ssize_t) sizeof(h))
	die("%s: %s", path, strerror(errno));
    for (c = 0; c < 2; c++) {
	if (pread(fd, &b, sizeof(b), (off_t) h.body_offset[c])
	    != (ssize_t) sizeof(b))
	    die("%s: %s", path, strerror(errno));
	off = h.body_offset[c] + b.off_index;
	for (left = (uint64_t) h.nindex * sizeof(uint32_t); left > 0;
	     left -= n, off += n) {
	    n = left < sizeof(junk) ? left : sizeof(junk);
	    if (pwrite(fd, junk, n, (off_t) off) != (ssize_t) n)
		die("%s: %s", path, strerror(errno));
	}
    }
    close(fd);
}

/* Heartbeat until told to stop. */
static void
hold(SHM_W *w, long stale)
{
    struct sigaction sa;
    struct timespec ts = {0, 200000000};	/* 5 a second: a busy host
					 * must not make it look stale */
    int     fd;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, 0);
    sigaction(SIGINT, &sa, 0);
    if ((fd = open("/dev/null", O_RDWR)) >= 0) {
	dup2(fd, 0);
	dup2(fd, 1);
	if (fd > 1)
	    close(fd);
    }
    while (!stop) {
	shm_writer_heartbeat_at(w, (int64_t) time(0) - stale,
				shm_mono_ns() - (int64_t) stale * 1000000000);
	nanosleep(&ts, 0);
    }
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
	{"config", required_argument, 0, 'c'},
	{"stale", required_argument, 0, 's'},
	{"hold", no_argument, 0, 'h'},
	{"corrupt-index", no_argument, 0, 'x'},
	{"unlink", no_argument, 0, 'u'},
	{0, 0, 0, 0}
    };
    SHM_GEOM geom = {16, 0};
    SHM_W  *w;
    QS_THROTTLE *th, *ent;
    QS_BODY *b;
    char    err[4096], *end;
    QC_CONFIG *cf = 0;
    long    stale = 0;
    int     c, i, n, do_hold = 0, do_unlink = 0, do_corrupt = 0;
    pid_t   pid;

    while ((c = getopt_long(argc, argv, "", opts, 0)) != -1) {
	switch (c) {
	case 's':
	    errno = 0;
	    stale = strtol(optarg, &end, 10);
	    if (errno || *end || end == optarg || stale < 0 || stale > 86400)
		die("--stale %s: want 0..86400 seconds", optarg);
	    break;
	case 'h':
	    do_hold = 1;
	    break;
	case 'x':
	    do_corrupt = 1;
	    break;
	case 'c':
	    if ((cf = qc_load(optarg, err, sizeof(err))) == 0)
		die("%s", err);
	    break;
	case 'u':
	    do_unlink = 1;
	    break;
	default:
	    usage();
	}
    }
    if (optind >= argc)
	usage();
    log_init("qsfixture", 1, LOGL_WARN);
    if (do_unlink) {
	if (optind + 1 != argc)
	    usage();
	if (unlink(argv[optind]) < 0 && errno != ENOENT)
	    die("unlink %s: %s", argv[optind], strerror(errno));
	return 0;
    }
    n = argc - optind - 1;
    if ((ent = calloc((size_t) n + 1, sizeof(*ent))) == 0)
	die("%s", strerror(errno));
    for (i = 0; i < n; i++) {		/* all checked before any change */
	parse_entry(argv[optind + 1 + i], &ent[i]);
	if (cf && ent[i].policy >= cf->npolicies)
	    die("%s: no policy %u in the configuration",
		argv[optind + 1 + i], ent[i].policy);
	if (cf) {
	    ent[i].policy_digest = cf->policies[ent[i].policy].digest;
	    snprintf(ent[i].policy_name, sizeof(ent[i].policy_name), "%s",
		     cf->policies[ent[i].policy].name);
	}
    }
    geom.max_throttle = n > 0 ? (uint32_t) n : 1;
    if ((w = shm_writer_create(argv[optind], &geom, -1, err,
			       sizeof(err))) == 0)
	die("%s", err);
    b = shm_writer_body(w);
    th = shm_body_throttle(b);
    memcpy(th, ent, (size_t) n * sizeof(*ent));
    free(ent);
    b->nthrottle = (uint32_t) n;
    b->policies_digest = cf ? cf->policies_digest : 0;
    qc_free(cf);
    b->published = (int64_t) time(0) - stale;
    b->last_reconcile = b->published;
    shm_writer_publish(w, (int64_t) time(0) - stale);
    shm_writer_heartbeat_at(w, (int64_t) time(0) - stale,
			    shm_mono_ns() - (int64_t) stale * 1000000000);
    if (do_corrupt)
	corrupt_index(argv[optind]);
    if (do_hold) {
	fflush(stdout);
	if ((pid = fork()) < 0)
	    die("fork: %s", strerror(errno));
	if (pid > 0) {			/* the child keeps the mapping */
	    shm_writer_destroy(w);
	    printf("%ld\n", (long) pid);
	    return 0;
	}
	hold(w, stale);
    }
    shm_writer_destroy(w);
    return 0;
}

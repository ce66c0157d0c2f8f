/*
 * qshape-scand - keeps the live queue shape of a Postfix instance in shared
 * memory, with the keys its policies throttle.
 *
 * Start-up order: options, configuration, logging, queue directory,
 * daemon, the summary's directory (made ours while still root), pid file
 * (pidfile.h: locked for our life), privileges, scanner (watches, first
 * reconcile, first publication), then the loop.  Shut-down in reverse.
 * SIGHUP loads the configuration anew off to the side and swaps only when
 * it is valid and its scanner starts (an error, postconf's included, keeps
 * the running one and never exits), saying which changed settings need a
 * restart;
 * SIGTERM and SIGINT end the loop.  Signals are read from a signalfd in
 * the loop: no handlers.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "qshape/version.h"
#include "conf.h"
#include "confdiff.h"
#include "daemon.h"
#include "log.h"
#include "notify.h"
#include "mem.h"
#include "pfconf.h"
#include "pidfile.h"
#include "scanner.h"
#include "shm.h"

/* A policy's key is published as the summary's kind of key. */
_Static_assert((int) QC_KEY_SENDER_DOMAIN == (int) QS_KEY_SENDER_DOMAIN
	       && (int) QC_KEY_PARENT_DOMAIN == (int) QS_KEY_PARENT_DOMAIN
	       && (int) QC_KEY_SENDER == (int) QS_KEY_SENDER
	       && (int) QC_KEY_CLIENT_ADDRESS == (int) QS_KEY_CLIENT_ADDRESS
	       && (int) QC_KEY_SASL_USERNAME == (int) QS_KEY_SASL_USERNAME,
	       "QC_KEY_* and QS_KEY_* must agree");
/* A policy's action is published as the summary's action. */
_Static_assert((int) QC_ACTION_TEMPFAIL == (int) QS_ACTION_TEMPFAIL
	       && (int) QC_ACTION_HOLD == (int) QS_ACTION_HOLD
	       && (int) QC_ACTION_LOG == (int) QS_ACTION_LOG,
	       "QC_ACTION_* and QS_ACTION_* must agree");

/* Everything one configuration needs, kept alive with its scanner. */
typedef struct RUN {
    QC_CONFIG *cf;
    SC_POLICY *policy;
    SC_CONF sc;
    SCANNER *scanner;
} RUN;

/* A postconf value; -1 with the reason logged. */
static int
postconf_get(const QC_CONFIG *cf, const char *name, char *out, size_t len)
{
    char    err[512];

    if (pfconf_get(*cf->postfix_config_directory ?
		   cf->postfix_config_directory : 0, name, out, len, err,
		   sizeof(err)) < 0) {
	log_warnx("%s", err);
	return -1;
    }
    return 0;
}

/* A postconf value at start, or fatal. */
static void
postconf(const QC_CONFIG *cf, const char *name, char *out, size_t len)
{
    if (postconf_get(cf, name, out, len) < 0)
	log_fatalx("cannot start without %s", name);
}

static int
open_queue_dir(const QC_CONFIG *cf)
{
    char    dir[4096];
    int     fd;

    if (*cf->queue_directory)
	snprintf(dir, sizeof(dir), "%s", cf->queue_directory);
    else
	postconf(cf, "queue_directory", dir, sizeof(dir));
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
	log_fatal("open queue directory %s", dir);
    return fd;
}

/* The policies as the scanner wants them; min_queue may be a share of
 * Postfix's qmgr_message_active_limit.  NULL (logged) when postconf
 * cannot say. */
static SC_POLICY *
make_policies(const QC_CONFIG *cf)
{
    SC_POLICY *p = xcalloc(cf->npolicies + 1, sizeof(*p));
    long    active_limit = 0;
    char    buf[64];
    size_t  i;

    for (i = 0; i < cf->npolicies; i++) {
	const QC_POLICY *q = &cf->policies[i];
	double  min_queue = (double) q->min_queue;

	if (q->min_queue_is_share) {
	    if (active_limit == 0) {
		if (postconf_get(cf, "qmgr_message_active_limit", buf,
				 sizeof(buf)) < 0) {
		    free(p);
		    return 0;
		}
		active_limit = atol(buf);
	    }
	    min_queue = q->min_queue_share * (double) active_limit;
	}
	p[i].th.name = q->name;
	p[i].digest = q->digest;
	p[i].th.kind = q->key;
	p[i].th.action = q->action;
	p[i].th.min_queue = (uint32_t) (min_queue + 0.5);
	p[i].th.min_count = (uint32_t) q->min_count;
	p[i].th.min_share = q->min_share;
	p[i].th.release_ratio = q->release_ratio;
	p[i].th.min_hold_time = q->min_hold_time * 1000;	/* ms */
	p[i].th.pressure_time = q->pressure_time * 1000;
	p[i].window.kind = q->key;
	p[i].window.queue_mask = q->queue_mask;
	p[i].window.max_age = q->max_age;
	p[i].window.min_keep = (uint32_t) ((double) q->min_count
					   * q->release_ratio);
    }
    return p;
}

static long
segment_group(const QC_CONFIG *cf)
{
    struct group *gr = getgrnam(cf->group);

    if (gr == 0) {
	log_warnx("group %s does not exist: qshape-milter will not be "
		  "able to read the summary", cf->group);
	return -1;
    }
    return (long) gr->gr_gid;
}

/* Build a scanner for a configuration, taking over the throttle state of
 * the one it replaces (NULL at start).  0, or -1 with the reason logged. */
static int
run_start(RUN *run, QC_CONFIG *cf, int base_fd, const RUN *prev)
{
    char    err[512];

    memset(run, 0, sizeof(*run));
    run->cf = cf;
    if ((run->policy = make_policies(cf)) == 0)
	return -1;
    run->sc.base_fd = base_fd;
    run->sc.queues = (const char *const *) cf->scanner.queues.v;
    run->sc.nqueues = (int) cf->scanner.queues.n;
    run->sc.geom.nqueues = run->sc.nqueues;
    run->sc.geom.nbuckets = (int) cf->scanner.bucket_count;
    run->sc.geom.bucket_minutes = (double) cf->scanner.bucket_time;
    run->sc.geom.linear = cf->scanner.linear_buckets;
    run->sc.top_keys = (uint32_t) cf->scanner.top_keys;
    run->sc.max_throttled = (uint32_t) cf->scanner.max_throttled;
    run->sc.policy = run->policy;
    run->sc.npolicy = cf->npolicies;
    run->sc.policies_digest = cf->policies_digest;
    run->sc.summary_file = cf->summary_file;
    run->sc.counters_file = cf->counters_file;
    run->sc.gid = segment_group(cf);
    run->sc.publish_interval_ms = cf->scanner.publish_interval;
    run->sc.heartbeat_interval_ms = cf->scanner.heartbeat_interval * 1000;
    if ((run->scanner = sc_create(&run->sc, err, sizeof(err))) == 0) {
	log_warnx("%s", err);
	free(run->policy);
	return -1;
    }
    if (prev)
	sc_inherit(run->scanner, prev->scanner);
    sc_reconcile(run->scanner, sc_now());
    sc_publish(run->scanner, sc_now());
    log_info("watching %d queues, %zu messages, %zu policies (config %s)",
	     run->sc.nqueues, ix_messages(sc_index(run->scanner)),
	     cf->npolicies, cf->path);
    return 0;
}

static void
run_stop(RUN *run)
{
    sc_destroy(run->scanner);
    free(run->policy);
    qc_free(run->cf);
    memset(run, 0, sizeof(*run));
}

/* The account we run as once started: scanner.user, or the Postfix
 * mail_owner. */
static struct passwd *
run_user(const QC_CONFIG *cf, char *user, size_t len)
{
    struct passwd *pw;

    if (*cf->scanner.user)
	snprintf(user, len, "%s", cf->scanner.user);
    else
	postconf(cf, "mail_owner", user, len);
    if ((pw = getpwnam(user)) == 0)
	log_fatalx("unknown user %s (scanner.user)", user);
    return pw;
}

/* The summary's directory: made (or set) for the account we will run as,
 * while we may still be root; only checked when we are not. */
static void
summary_dir(const QC_CONFIG *cf)
{
    char    user[256], err[1024];
    uid_t   uid = geteuid();

    if (uid == 0)
	uid = run_user(cf, user, sizeof(user))->pw_uid;
    if (shm_dir_prepare(cf->summary_file, (long) uid, segment_group(cf), err,
			sizeof(err)) < 0)
	log_fatalx("%s", err);
}

/* Started as root: become the Postfix mail_owner, with group 'group'. */
static void
drop_privileges(const QC_CONFIG *cf)
{
    char    user[256];
    struct passwd *pw;
    gid_t   groups[1];
    long    gid;

    if (geteuid() != 0)
	return;
    pw = run_user(cf, user, sizeof(user));
    gid = segment_group(cf);
    groups[0] = gid >= 0 ? (gid_t) gid : pw->pw_gid;
    if (setgroups(1, groups) < 0 || setgid(pw->pw_gid) < 0
	|| setuid(pw->pw_uid) < 0)
	log_fatal("drop privileges to %s", user);
    log_debug("running as %s", user);
}

/* The pid file, locked, made while we may still be root.  NULL when there
 * is none (logged); a second instance is fatal. */
static PIDFILE *
pid_file(const QC_CONFIG *cf)
{
    char    user[256], err[1024];
    long    run_uid = -1;
    PIDFILE *pf;

    if (*cf->scanner.pid_file == 0)
	return 0;
    if (geteuid() == 0)
	run_uid = (long) run_user(cf, user, sizeof(user))->pw_uid;
    if ((pf = pidfile_create(cf->scanner.pid_file, run_uid, err,
			     sizeof(err))) == 0) {
	if (errno == EEXIST)
	    log_fatalx("%s", err);
	log_warnx("%s; going on without it", err);
    }
    return pf;
}

/* Load the configuration anew; swap only when it works.  Never exits:
 * an error keeps the running configuration and says why. */
static void
reload(RUN *run, int base_fd, const QC_CONFIG *boot, int debug)
{
    char    err[4096], diff[1024];
    QC_CONFIG *cf;
    RUN     next;

    if (notify_reloading() < 0)
	log_warn("notify RELOADING");
    if ((cf = qc_load(run->cf->path, err, sizeof(err))) == 0) {
	log_warnx_lines("reload: ", err);
	log_warnx("reload: keeping the running configuration");
    } else if (run_start(&next, cf, base_fd, run) < 0) {
	log_warnx("reload: keeping the running configuration");
	qc_free(cf);
    } else {
	if (qc_restart_needed(boot, cf, QC_DAEMON_SCAND, diff,
			      sizeof(diff)) > 0)
	    log_warnx("reload: changed, but applied only by a restart "
		      "(the running values stay): %s", diff);
	if (!debug)
	    log_set_level((LOG_LEVEL) cf->log_level);
	run_stop(run);
	*run = next;
	log_info("reloaded %s", run->cf->path);
    }
    if (notify_ready() < 0)
	log_warn("notify READY");
}

static int
signal_fd(void)
{
    sigset_t set;
    int     fd;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, 0) < 0
	|| (fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
	log_fatal("signalfd");
    return fd;
}

/* metrics.textfile, when configured: a failure is logged when it starts
 * and when it ends, not every interval. */
static void
write_metrics(const RUN *run, int *failing)
{
    char    err[1024];

    if (*run->cf->metrics.textfile == 0)
	return;
    if (sc_metrics_write(run->scanner, run->cf->metrics.textfile,
			 (uint32_t) run->cf->metrics.top_keys, err,
			 sizeof(err)) < 0) {
	if (!*failing)
	    log_warnx("%s", err);
	*failing = 1;
    } else if (*failing) {
	log_info("metrics: writing %s again", run->cf->metrics.textfile);
	*failing = 0;
    }
}

/* The loop: returns on SIGTERM or SIGINT.  Every schedule is on the
 * monotonic clock: a step of the date delays nothing. */
static void
loop(RUN *run, int base_fd, int sigfd, const QC_CONFIG *boot, int debug)
{
    int64_t next_reconcile = sc_now().mono_ms
	+ run->cf->scanner.reconcile_interval * 1000;
    int64_t next_metrics = 0;
    int     metrics_failing = 0;

    for (;;) {
	struct pollfd pfd[2] = {
	    {sc_fd(run->scanner), POLLIN, 0},
	    {sigfd, POLLIN, 0},
	};
	struct signalfd_siginfo si;
	SC_TIME t = sc_now();
	int64_t wait = sc_publish_due(run->scanner, t);
	int64_t rwait = next_reconcile - t.mono_ms;

	if (rwait < wait)
	    wait = rwait < 0 ? 0 : rwait;
	if (*run->cf->metrics.textfile && next_metrics - t.mono_ms < wait)
	    wait = next_metrics < t.mono_ms ? 0 : next_metrics - t.mono_ms;
	if (poll(pfd, 2, (int) wait) < 0 && errno != EINTR)
	    log_fatal("poll");
	if (pfd[1].revents & POLLIN) {
	    while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
		    reload(run, base_fd, boot, debug);
		    next_reconcile = sc_now().mono_ms
			+ run->cf->scanner.reconcile_interval * 1000;
		} else {
		    log_info("signal %u: exiting", si.ssi_signo);
		    return;
		}
	    }
	}
	if ((pfd[0].revents & POLLIN) && sc_events(run->scanner))
	    next_reconcile = 0;
	t = sc_now();
	if (t.mono_ms >= next_reconcile) {
	    sc_reconcile(run->scanner, t);
	    next_reconcile = t.mono_ms
		+ run->cf->scanner.reconcile_interval * 1000;
	}
	if (sc_publish_due(run->scanner, t) == 0)
	    sc_publish(run->scanner, t);
	if (t.mono_ms >= next_metrics) {
	    write_metrics(run, &metrics_failing);
	    next_metrics = t.mono_ms + run->cf->metrics.interval * 1000;
	}
    }
}

int
main(int argc, char **argv)
{
    DM_OPTS opt;
    int     base_fd, sigfd;
    char    err[4096];
    QC_CONFIG *cf, *boot;
    PIDFILE *pf;
    RUN     run;

    dm_options(argc, argv, "qshape-scand", QSHAPE_VERSION, QC_DEFAULT_PATH,
	       &opt);
    log_init("qshape-scand", 1, LOGL_INFO);
    if ((cf = qc_load(opt.config, err, sizeof(err))) == 0
	|| (boot = qc_load(opt.config, err, sizeof(err))) == 0)
	log_fatalx_lines("", err);
    log_init("qshape-scand", opt.foreground, opt.debug ? LOGL_DEBUG
	     : (LOG_LEVEL) cf->log_level);
    base_fd = open_queue_dir(cf);
    if (!opt.foreground && daemon(0, 0) < 0)
	log_fatal("daemon");
    summary_dir(cf);
    pf = pid_file(cf);
    drop_privileges(cf);
    sigfd = signal_fd();
    if (run_start(&run, cf, base_fd, 0) < 0)
	log_fatalx("cannot start");
    if (notify_ready() < 0)		/* the first summary is published */
	log_warn("notify READY");
    loop(&run, base_fd, sigfd, boot, opt.debug);
    if (notify_stopping() < 0)
	log_warn("notify STOPPING");
    run_stop(&run);
    close(sigfd);
    close(base_fd);
    pidfile_remove(pf);
    qc_free(boot);
    return 0;
}

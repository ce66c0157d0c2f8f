/*
 * qshape-milter - tempfail or hold mail from senders that dominate the
 * Postfix queue, as published by qshape-scand.
 *
 * Start-up order: options, configuration, logging, descriptor limit,
 * socket (with TCP_NODELAY: lsock.h), daemon, pid file, the counters'
 * directory (while still root), privileges, the counters file (as the
 * milter's account), signals (msig.h: smfi_main() runs in a thread with
 * them blocked, so that libmilter's own signal thread never takes one;
 * the main thread handles them), then the main thread waits for signals.
 * SIGHUP loads the configuration off the request path and swaps it in when
 * it is valid, saying which changed settings need a restart; connections
 * keep the snapshot they started with.  SIGTERM and SIGINT stop libmilter;
 * smfi_main() returns and the main thread cleans up in reverse.
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "qshape/version.h"
#include "conf.h"
#include "confdiff.h"
#include "daemon.h"
#include "log.h"
#include "notify.h"
#include "counters.h"
#include "lsock.h"
#include "mlfi.h"
#include "msig.h"
#include "msock.h"
#include "pidfile.h"
#include "snap.h"
#include "sumr.h"

static const char *config_path;	/* -C, read again on SIGHUP */
static QC_CONFIG *boot_cf;		/* as started: what a reload compares */
static int smfi_rc;			/* smfi_main()'s result */

static void
reload(int debug)
{
    char    err[4096], diff[1024];
    QC_CONFIG *cf;

    if (notify_reloading() < 0)
	log_warn("notify RELOADING");
    if ((cf = qc_load(config_path, err, sizeof(err))) == 0) {
	log_warnx_lines("reload: ", err);
	log_warnx("reload: keeping the running configuration");
    } else {
	if (qc_restart_needed(boot_cf, cf, QC_DAEMON_MILTER, diff,
			      sizeof(diff)) > 0)
	    log_warnx("reload: changed, but applied only by a restart "
		      "(the running values stay): %s", diff);
	if (!debug)
	    log_set_level((LOG_LEVEL) cf->log_level);
	snap_set(cf);
	log_info("reloaded %s", config_path);
    }
    if (notify_ready() < 0)
	log_warn("notify READY");
}

static void *
milter_thread(void *arg)
{
    (void) arg;
    smfi_rc = smfi_main();
    msig_post_end();
    return 0;
}

/* Handle signals until libmilter has ended; 0 when we stopped it. */
static int
wait_signals(int debug)
{
    int     sig, stopping = 0;

    while ((sig = msig_wait()) != 0) {
	if (sig == SIGHUP && !stopping) {
	    reload(debug);
	} else if (sig != SIGHUP && !stopping) {
	    log_info("signal %d: exiting", sig);
	    if (notify_stopping() < 0)
		log_warn("notify STOPPING");
	    smfi_stop();
	    stopping = 1;
	}
    }
    if (!stopping)
	log_warnx("libmilter stopped on its own");
    return stopping ? 0 : -1;
}

/* The pid file, locked; made before the privilege drop.  NULL when there
 * is none (logged); a second instance is fatal. */
static PIDFILE *
pid_file(const QC_CONFIG *cf)
{
    char    err[1024];
    struct passwd *pw;
    long    run_uid = -1;
    PIDFILE *pf;

    if (*cf->milter.pid_file == 0)
	return 0;
    if (geteuid() == 0 && *cf->milter.user
	&& (pw = getpwnam(cf->milter.user)) != 0)
	run_uid = (long) pw->pw_uid;
    if ((pf = pidfile_create(cf->milter.pid_file, run_uid, err,
			     sizeof(err))) == 0) {
	if (errno == EEXIST)
	    log_fatalx("%s", err);
	log_warnx("%s; going on without it", err);
    }
    return pf;
}

/* A unix socket gets the configured mode and group. */
static void
socket_perms(const QC_CONFIG *cf)
{
    const char *s = cf->milter.socket;
    const char *path = 0;
    struct group *gr;

    if (strncmp(s, "unix:", 5) == 0)
	path = s + 5;
    else if (strncmp(s, "local:", 6) == 0)
	path = s + 6;
    if (path == 0)
	return;
    if (chmod(path, (mode_t) cf->milter.socket_mode) < 0)
	log_warn("chmod %s", path);
    if (*cf->milter.socket_group) {
	if ((gr = getgrnam(cf->milter.socket_group)) == 0)
	    log_fatalx("unknown group %s (milter.socket_group)",
		       cf->milter.socket_group);
	if (chown(path, (uid_t) -1, gr->gr_gid) < 0)
	    log_warn("chgrp %s", path);
    }
}

/* Started as root: become milter.user, with the summary's group. */
static void
drop_privileges(const QC_CONFIG *cf)
{
    struct passwd *pw;
    struct group *gr;
    gid_t   groups[1];

    if (geteuid() != 0 || *cf->milter.user == 0)
	return;
    if ((pw = getpwnam(cf->milter.user)) == 0)
	log_fatalx("unknown user %s (milter.user)", cf->milter.user);
    groups[0] = (gr = getgrnam(cf->group)) ? gr->gr_gid : pw->pw_gid;
    if (gr == 0)
	log_warnx("group %s does not exist: the summary may not be "
		  "readable", cf->group);
    if (setgroups(1, groups) < 0 || setgid(pw->pw_gid) < 0
	|| setuid(pw->pw_uid) < 0)
	log_fatal("drop privileges to %s", cf->milter.user);
}

static void
setup_milter(const QC_CONFIG *cf)
{
    const char *path = msock_unix_path(cf->milter.socket);
    char    err[1024];
    mode_t  um = 0;

    if (smfi_register(mlfi_desc) == MI_FAILURE)
	log_fatalx("smfi_register failed");
    if (smfi_setconn(cf->milter.socket) == MI_FAILURE)
	log_fatalx("bad milter.socket %s", cf->milter.socket);
    if (smfi_settimeout((int) cf->milter.timeout) == MI_FAILURE)
	log_fatalx("bad milter.timeout");
    if (path && msock_check_dir(path, err, sizeof(err)) < 0)
	log_fatalx("%s", err);
    if (path)				/* bind makes it with its mode */
	um = umask(msock_umask(cf->milter.socket_mode));
    if (smfi_opensocket(1) == MI_FAILURE)
	log_fatalx("cannot open milter.socket %s (in use, or no permission)",
		   cf->milter.socket);
    if (path)
	umask(um);
    socket_perms(cf);
    if (strncmp(cf->milter.socket, "inet", 4) == 0) {
	int     n = ls_nodelay();

	if (n < 0)
	    log_warn("TCP_NODELAY on %s", cf->milter.socket);
	else if (n == 0)
	    log_warnx("no listening TCP socket found for %s: without "
		      "TCP_NODELAY, each held message waits for Postfix's "
		      "delayed ACK", cf->milter.socket);
    }
}

static long
group_id(const QC_CONFIG *cf)
{
    struct group *gr = getgrnam(cf->group);

    return gr ? (long) gr->gr_gid : -1;
}

/* Started as root: make the counters' directory for milter.user. */
static void
counters_dir(const QC_CONFIG *cf)
{
    struct passwd *pw;
    char    err[1024];

    if (geteuid() != 0 || *cf->milter.user == 0
	|| (pw = getpwnam(cf->milter.user)) == 0)
	return;
    if (ct_dir_prepare(cf->counters_file, (long) pw->pw_uid, group_id(cf),
		       err, sizeof(err)) < 0)
	log_warnx("counters: %s", err);
}

/* The counters file, as the milter's account.  Without it the milter
 * works, but the scanner sees no pressure. */
static CT_W *
counters_open(const QC_CONFIG *cf)
{
    char    err[1024];
    int     reused;
    CT_W   *w;

    if ((w = ct_writer_open(cf->counters_file, group_id(cf), &reused, err,
			    sizeof(err))) == 0) {
	log_warnx("counters: %s: not counting; the scanner will see no "
		  "pressure from this milter", err);
	return 0;
    }
    log_info("counters %s: %s, generation %llu", cf->counters_file,
	     reused ? "counting on" : "new file",
	     (unsigned long long) ct_writer_generation(w));
    return w;
}

int
main(int argc, char **argv)
{
    DM_OPTS opt;
    int     rc;
    char    err[4096];
    QC_CONFIG *cf;
    PIDFILE *pf;
    pthread_t tid;
    long    nofile;
    CT_W   *counters;

    dm_options(argc, argv, "qshape-milter", QSHAPE_VERSION, QC_DEFAULT_PATH,
	       &opt);
    config_path = opt.config;
    log_init("qshape-milter", 1, LOGL_INFO);
    if ((cf = qc_load(config_path, err, sizeof(err))) == 0
	|| (boot_cf = qc_load(config_path, err, sizeof(err))) == 0)
	log_fatalx_lines("", err);
    log_init("qshape-milter", opt.foreground, opt.debug ? LOGL_DEBUG
	     : (LOG_LEVEL) cf->log_level);
    if ((nofile = msock_raise_nofile()) > 0)
	log_debug("up to %ld sessions (descriptor limit %ld)",
		  nofile - MSOCK_RESERVED_FDS, nofile);
    setup_milter(cf);
    if (!opt.foreground && daemon(0, 0) < 0)
	log_fatal("daemon");
    pf = pid_file(cf);
    counters_dir(cf);
    drop_privileges(cf);
    counters = counters_open(cf);
    mlfi_set_counters(counters);
    snap_set(cf);
    if (msig_init() < 0
	|| (errno = msig_thread(&tid, milter_thread, 0)) != 0)
	log_fatal("signals");
    log_info("listening on %s (summary %s)", cf->milter.socket,
	     cf->summary_file);
    if (notify_ready() < 0)		/* the socket is open */
	log_warn("notify READY");
    rc = wait_signals(opt.debug);
    pthread_join(tid, 0);
    /* A worker may still be in a callback: the counters stay mapped
     * (and mlfi's pointer to them) until the process ends. */
    sumr_shutdown();
    snap_shutdown();
    pidfile_remove(pf);
    qc_free(boot_cf);
    return rc == 0 && smfi_rc == MI_SUCCESS ? 0 : 1;
}

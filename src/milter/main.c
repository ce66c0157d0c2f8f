/*
 * qshape-milter - tempfail or hold mail from senders that dominate the
 * Postfix queue, as published by qshape-scand.
 *
 * Start-up order: options, configuration, logging, socket (with
 * TCP_NODELAY: lsock.h), the counters' directory (while still root),
 * privileges, the counters file (as the milter's account), signals
 * (blocked before libmilter starts any thread, and handled by one thread
 * of ours with sigwait()), then smfi_main().  SIGHUP loads the
 * configuration off the request path and swaps it in when it is valid;
 * connections keep the snapshot they started with.  SIGTERM and SIGINT
 * stop libmilter, which returns from smfi_main().
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
#include "daemon.h"
#include "log.h"
#include "notify.h"
#include "counters.h"
#include "lsock.h"
#include "mlfi.h"
#include "snap.h"
#include "sumr.h"

static const char *config_path;	/* -c, read again on SIGHUP */

static void *
signal_thread(void *arg)
{
    sigset_t *set = arg;
    char    err[4096];
    QC_CONFIG *cf;
    int     sig;

    for (;;) {
	if (sigwait(set, &sig) != 0)
	    continue;
	if (sig != SIGHUP) {
	    log_info("signal %d: exiting", sig);
	    if (notify_stopping() < 0)
		log_warn("notify STOPPING");
	    smfi_stop();
	    return 0;
	}
	if (notify_reloading() < 0)
	    log_warn("notify RELOADING");
	if ((cf = qc_load(config_path, err, sizeof(err))) == 0) {
	    log_warnx("reload: %s; keeping the running configuration", err);
	} else {
	    snap_set(cf);
	    log_info("reloaded %s", config_path);
	}
	if (notify_ready() < 0)
	    log_warn("notify READY");
    }
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
    if (smfi_register(mlfi_desc) == MI_FAILURE)
	log_fatalx("smfi_register failed");
    if (smfi_setconn(cf->milter.socket) == MI_FAILURE)
	log_fatalx("bad milter.socket %s", cf->milter.socket);
    if (smfi_settimeout((int) cf->milter.timeout) == MI_FAILURE)
	log_fatalx("bad milter.timeout");
    if (smfi_opensocket(1) == MI_FAILURE)
	log_fatalx("cannot open milter.socket %s (in use, or no permission)",
		   cf->milter.socket);
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
    sigset_t set;
    pthread_t tid;
    CT_W   *counters;

    dm_options(argc, argv, "qshape-milter", QSHAPE_VERSION, QC_DEFAULT_PATH,
	       &opt);
    config_path = opt.config;
    log_init("qshape-milter", 1, LOGL_INFO);
    if ((cf = qc_load(config_path, err, sizeof(err))) == 0)
	log_fatalx("%s", err);
    log_init("qshape-milter", opt.foreground, opt.debug ? LOGL_DEBUG
	     : (LOG_LEVEL) cf->log_level);
    setup_milter(cf);
    if (!opt.foreground && daemon(0, 0) < 0)
	log_fatal("daemon");
    counters_dir(cf);
    drop_privileges(cf);
    counters = counters_open(cf);
    mlfi_set_counters(counters);
    snap_set(cf);
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if ((errno = pthread_sigmask(SIG_BLOCK, &set, 0)) != 0
	|| (errno = pthread_create(&tid, 0, signal_thread, &set)) != 0)
	log_fatal("signals");
    pthread_detach(tid);
    log_info("listening on %s (summary %s)", cf->milter.socket,
	     cf->summary_file);
    if (notify_ready() < 0)		/* the socket is open */
	log_warn("notify READY");
    rc = smfi_main();
    /* A worker may still be in a callback: the counters stay mapped
     * (and mlfi's pointer to them) until the process ends. */
    sumr_shutdown();
    snap_shutdown();
    return rc == MI_SUCCESS ? 0 : 1;
}

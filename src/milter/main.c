/*
 * qshape-milter - tempfail or hold mail from senders that dominate the
 * Postfix queue, as published by qshape-scand.
 *
 * Start-up order: options, configuration, logging, socket, privileges,
 * signals (blocked before libmilter starts any thread, and handled by one
 * thread of ours with sigwait()), then smfi_main().  SIGHUP loads the
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
    drop_privileges(cf);
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
    sumr_shutdown();
    snap_shutdown();
    return rc == MI_SUCCESS ? 0 : 1;
}

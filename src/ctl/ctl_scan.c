/*
 * ctl_scan - "qshapectl scan": qshape(1), reading the queue directly.
 *
 * Counting follows qshape: a message counts once per sender (-s) or once
 * per pending recipient, in the age bucket of its arrival time, and a
 * message with no pending recipient is not counted.  Two deliberate
 * differences: maildrop files are parsed (qshape shows each as
 * MAILER-DAEMON in the oldest bucket) and count with -s even before
 * cleanup has extracted their recipients; force-expired files (mode 0710)
 * count, as Postfix's own mode test accepts them.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "pfconf.h"
#include "qwalk.h"
#include "ctl.h"
#include "ctl_qopts.h"

#define CLEAR_SCREEN	"\033[H\033[2J"
#define AUTO_THREADS_MAX 4

typedef struct SCAN {
    QTAB   *tab;
    int     by_sender;
    int64_t now;
    long    batch;			/* redraw every so many messages */
    long    top_n;
    uint64_t seen;
} SCAN;

static void
on_message(void *ctx, const QW_MSG *m)
{
    SCAN   *s = ctx;
    const QF_FACTS *f = m->facts;
    int     b;
    size_t  i;

    if (!qf_counts(f))
	return;
    b = qt_bucket(s->tab, s->now, f->has_time ? f->time_sec : m->mtime);
    if (s->by_sender)
	qt_add(s->tab, f->sender.ptr, f->sender.len, b);
    else
	for (i = 0; i < f->nrcpt; i++)
	    qt_add(s->tab, f->rcpt[i].ptr, f->rcpt[i].len, b);
    if (s->batch > 0 && ++s->seen % (uint64_t) s->batch == 0) {
	fputs(CLEAR_SCREEN, stdout);
	qt_print(s->tab, stdout, s->top_n);
	fflush(stdout);
    }
}

/* Open queue_directory when some queue name is relative. */
static int
open_base(const CTL_QOPTS *o)
{
    char    qdir[4096], err[512];
    int     i, fd;

    for (i = 0; i < o->nqueues; i++)
	if (o->queues[i][0] != '/')
	    break;
    if (i == o->nqueues)
	return AT_FDCWD;
    if (pfconf_get(o->config_dir, "queue_directory", qdir, sizeof(qdir),
		   err, sizeof(err)) < 0)
	log_fatalx("%s", err);
    if ((fd = open(qdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
	log_fatal("open queue directory %s", qdir);
    return fd;
}

static int
auto_threads(void)
{
    long    n = sysconf(_SC_NPROCESSORS_ONLN);

    return n < 1 ? 1 : n > AUTO_THREADS_MAX ? AUTO_THREADS_MAX : (int) n;
}

/* The JSON members after the table: what was read and what was not. */
static char *
json_extra(const CTL_QOPTS *o, const SCAN *s, const QW_STATS *st)
{
    char   *buf = 0;
    size_t  len = 0;
    FILE   *fp = open_memstream(&buf, &len);
    int     i;

    if (fp == 0)
	log_fatal("open_memstream");
    fputs("\"queues\":[", fp);
    for (i = 0; i < o->nqueues; i++) {
	const char *q = o->queues[i];

	fputs(i ? ",\"" : "\"", fp);
	for (; *q; q++)
	    if (*q == '"' || *q == '\\')
		fprintf(fp, "\\%c", *q);
	    else if ((unsigned char) *q < 0x20)
		fprintf(fp, "\\u%04x", *q);
	    else
		fputc(*q, fp);
	fputc('"', fp);
    }
    fprintf(fp, "],\"mode\":\"%s\",\"now\":%lld,\"messages\":%llu,"
	    "\"skipped\":{\"vanished\":%llu,\"not_regular\":%llu,"
	    "\"not_ready\":%llu,\"unreadable\":%llu,\"corrupt\":%llu,"
	    "\"bad_dirs\":%llu}",
	    s->by_sender ? "sender" : "recipient", (long long) s->now,
	    (unsigned long long) st->parsed,
	    (unsigned long long) st->vanished,
	    (unsigned long long) st->not_regular,
	    (unsigned long long) st->not_ready,
	    (unsigned long long) st->unreadable,
	    (unsigned long long) st->corrupt,
	    (unsigned long long) st->bad_dirs);
    fclose(fp);
    return buf;
}

/* Tell the operator about files we could not count, once, on stderr. */
static void
report(const QW_STATS *st)
{
    if (st->bad_dirs)
	log_warnx("%llu queue director%s not read (%s)",
		  (unsigned long long) st->bad_dirs,
		  st->bad_dirs == 1 ? "y" : "ies", st->first_problem);
    else if (st->corrupt || st->unreadable)
	log_warnx("%llu queue file%s skipped: %llu corrupt, %llu unreadable"
		  " (first: %s)",
		  (unsigned long long) (st->corrupt + st->unreadable),
		  st->corrupt + st->unreadable == 1 ? "" : "s",
		  (unsigned long long) st->corrupt,
		  (unsigned long long) st->unreadable, st->first_problem);
}

int
ctl_scan(int argc, char **argv)
{
    CTL_QOPTS o;
    QW_OPTS wo = {0};
    QW_STATS st;
    SCAN    scan[QW_MAX_THREADS];
    void   *ctx[QW_MAX_THREADS];
    char    err[256];
    int     i, nt, rc;
    static char obuf[1 << 16];

    if ((rc = ctl_qopts_parse(argc, argv, 0, &o)) != 0)
	return rc < 0 ? 2 : 0;
    setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
    nt = o.batch_msgs > 0 ? 1 : o.threads ? o.threads : auto_threads();
    wo.base_fd = open_base(&o);
    wo.qf_flags = o.by_sender ? 0 : QF_WANT_RCPTS;
    wo.nthreads = nt;
    for (i = 0; i < nt; i++) {
	memset(&scan[i], 0, sizeof(scan[i]));
	if ((scan[i].tab = qt_create(&o.table, err, sizeof(err))) == 0)
	    log_fatalx("%s", err);
	scan[i].by_sender = o.by_sender;
	scan[i].now = o.have_now ? o.now : (int64_t) time(0);
	scan[i].batch = o.batch_msgs;
	scan[i].top_n = o.top_n;
	ctx[i] = &scan[i];
    }
    if (qw_walk(o.queues, o.nqueues, &wo, on_message, ctx, &st, err,
		sizeof(err)) < 0)
	log_fatalx("%s", err);
    for (i = 1; i < nt; i++) {
	qt_merge(scan[0].tab, scan[i].tab);
	qt_destroy(scan[i].tab);
    }
    if (o.json) {
	char   *extra = json_extra(&o, &scan[0], &st);

	qt_print_json(scan[0].tab, stdout, 0, extra);
	free(extra);
    } else {
	if (o.batch_msgs > 0)
	    fputs(CLEAR_SCREEN, stdout);
	qt_print(scan[0].tab, stdout, o.top_n);
    }
    qt_destroy(scan[0].tab);
    if (wo.base_fd != AT_FDCWD)
	close(wo.base_fd);
    if (fflush(stdout) != 0 || ferror(stdout))
	log_fatal("write standard output");
    report(&st);
    return 0;
}

/*
 * ctl_held - "qshapectl held", "release" and "delete": the mail that
 * qshape-milter held, found by the hold mark in each message (holdmark.h)
 * and selected by policy, key and age (heldsel.h).
 *
 * The hold queue is read with the queue walker (never locking a file);
 * mail without a valid mark was held by others (header_checks, another
 * milter, postsuper -h) and is only counted.  release and delete hand the
 * selected queue IDs to /usr/sbin/postsuper on its standard input ("-H -"
 * and "-d - hold": a message that left the hold queue meanwhile is not
 * deleted), in a clean environment, then read the hold queue again and
 * say what was done.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qshape/vocab.h"
#include "conf.h"
#include "heldsel.h"
#include "holdmark.h"
#include "daemon.h"
#include "log.h"
#include "mem.h"
#include "pfconf.h"
#include "qwalk.h"
#include "ctl.h"
#include "ctl_held.h"

#define POSTSUPER	"/usr/sbin/postsuper"

static const char *const verb_name[] = {"held", "release", "delete"};

static int
usage(FILE *fp, VERB verb)
{
    fprintf(fp, "usage: qshapectl %s [--policy NAME] [--key [KIND:]KEY] "
	    "[--older-than DURATION]\n\t%s[-c postfix_config_dir] "
	    "[-C config_file] [--now SECONDS]\n", verb_name[verb],
	    verb == VERB_LIST ? "[--json] " : "[--all] [--dry-run] ");
    fprintf(fp, "%s the mail that qshape-milter held (its hold mark says "
	    "which policy and key held it).\n"
	    "  --policy      held by this policy\n"
	    "  --key         for this key, as \"held\" prints it "
	    "(sender_domain:example.com)\n"
	    "  --older-than  held longer ago than DURATION (90s, 15m, 2h, "
	    "3d, 1w)\n", verb == VERB_LIST ? "Lists" : verb == VERB_RELEASE ?
	    "Releases (postsuper -H)" : "Deletes (postsuper -d)");
    if (verb != VERB_LIST)
	fprintf(fp, "  --all         no filter: every message it held\n"
		"  --dry-run     print what would be done, do nothing\n");
    if (verb == VERB_RELEASE)
	fprintf(fp, "   or: qshapectl release --metered [--dry-run] "
		"[--state FILE] [-c postfix_config_dir]\n\t[-C config_file] "
		"[--now SECONDS]\n"
		"  --metered     the held mail of metered policies, at their "
		"release_rate\n");
    fprintf(fp, "Mail held by others is counted, never touched.  "
	    "See qshapectl(8).\n");
    return fp == stdout ? 1 : -1;
}

static int
parse_now(const char *s, int64_t *out)
{
    char   *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (end == s || *end != 0 || errno != 0 || v < 0)
	return -1;
    *out = v;
    return 0;
}

/* release and delete: a filter, or --all, not both. */
static int
check_filter(const HELD_OPTS *o)
{
    const char *verb = verb_name[o->verb];

    if (o->verb != VERB_LIST && hs_filter_empty(&o->filter) && !o->all) {
	log_warnx("%s: no filter: say --all to %s every message "
		  "qshape-milter held", verb, verb);
	return -1;
    }
    if (o->all && !hs_filter_empty(&o->filter)) {
	log_warnx("%s: --all with a filter", verb);
	return -1;
    }
    return 0;
}

static int
parse_opts(VERB verb, int argc, char **argv, HELD_OPTS *o)
{
    static const struct option longopts[] = {
	{"policy", required_argument, 0, 'P'},
	{"key", required_argument, 0, 'K'},
	{"older-than", required_argument, 0, 'O'},
	{"json", no_argument, 0, 'J'},
	{"all", no_argument, 0, 'A'},
	{"dry-run", no_argument, 0, 'n'},
	{"now", required_argument, 0, 'T'},
	{"config", required_argument, 0, 'C'},
	{"help", no_argument, 0, 'h'},
	{0, 0, 0, 0}
    };
    char    err[256];
    int     c;

    memset(o, 0, sizeof(*o));
    o->verb = verb;
    o->filter.key_kind = -1;
    o->now = (int64_t) time(0);
    optind = 1;
    while ((c = getopt_long(argc, argv, "+c:C:f:nh", longopts, 0)) != -1) {
	switch (c) {
	case 'P':
	    o->filter.policy = optarg;
	    break;
	case 'K':
	    if (hs_parse_key(optarg, &o->filter, err, sizeof(err)) < 0)
		goto bad_arg;
	    break;
	case 'O':
	    if (hs_parse_duration(optarg, &o->filter.older_than, err,
				  sizeof(err)) < 0)
		goto bad_arg;
	    o->filter.have_older_than = 1;
	    break;
	case 'T':
	    if (parse_now(optarg, &o->now) < 0) {
		snprintf(err, sizeof(err), "--now: not seconds since the "
			 "epoch: %s", optarg);
		goto bad_arg;
	    }
	    break;
	case 'J':
	    if (verb != VERB_LIST)
		return usage(stderr, verb);
	    o->json = 1;
	    break;
	case 'A':
	    if (verb == VERB_LIST)
		return usage(stderr, verb);
	    o->all = 1;
	    break;
	case 'n':
	    if (verb == VERB_LIST)
		return usage(stderr, verb);
	    o->dry_run = 1;
	    break;
	case 'c':
	    o->pf_dir = optarg;
	    break;
	case 'f':
	    dm_deprecated("qshapectl held", "-f", "-C or --config");
	    /* FALLTHROUGH */
	case 'C':
	    o->config_path = optarg;
	    break;
	case 'h':
	    return usage(stdout, verb);
	default:
	    return usage(stderr, verb);
	}
    }
    if (optind < argc) {
	log_warnx("%s: unexpected argument: %s", verb_name[verb], argv[optind]);
	return usage(stderr, verb);
    }
    return check_filter(o);

bad_arg:
    log_warnx("%s: %s", verb_name[verb], err);
    return -1;
}

/*
 * The queue directory and the Postfix configuration directory: from the
 * command line, else the configuration file (when given, or when the
 * default one exists), else Postfix's own.  Returns an open directory.
 */
int
held_queue_dir(HELD_OPTS *o)
{
    static char pf_dir[4096];
    char    qdir[4096], err[1024];
    QC_CONFIG *cf = 0;
    struct stat st;
    int     fd;

    if (o->config_path || stat(QC_DEFAULT_PATH, &st) == 0) {
	if ((cf = qc_load(o->config_path, err, sizeof(err))) == 0)
	    log_fatalx("%s", err);
	if (o->pf_dir == 0 && *cf->postfix_config_directory) {
	    snprintf(pf_dir, sizeof(pf_dir), "%s",
		     cf->postfix_config_directory);
	    o->pf_dir = pf_dir;
	}
    }
    if (cf && *cf->queue_directory)
	snprintf(qdir, sizeof(qdir), "%s", cf->queue_directory);
    else if (pfconf_get(o->pf_dir, "queue_directory", qdir, sizeof(qdir),
			err, sizeof(err)) < 0)
	log_fatalx("%s", err);
    qc_free(cf);
    if ((fd = open(qdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
	log_fatal("open queue directory %s", qdir);
    return fd;
}

static void
on_message(void *ctx, const QW_MSG *m)
{
    HELD_LIST *l = ctx;
    const QF_FACTS *f = m->facts;
    HM_MARK mark;
    HELD_MSG *h;

    if (f->hold_mark.ptr == 0) {
	l->others++;
	return;
    }
    if (hm_parse(f->hold_mark.ptr, f->hold_mark.len, &mark) != HM_OK) {
	l->others++;
	l->bad_marks++;
	return;
    }
    l->ours++;
    if (!hs_select(&l->o->filter, &mark, l->o->now))
	return;
    if (l->n == l->cap) {
	l->cap = l->cap ? 2 * l->cap : 64;
	l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    h = &l->v[l->n++];
    h->id = xstrdup(m->id);
    h->arrival = f->has_time ? f->time_sec : m->mtime;
    h->sender = xmalloc(f->sender.len + 1);
    memcpy(h->sender, f->sender.ptr, f->sender.len + 1);
    h->sender_len = f->sender.len;
    h->nrcpt = f->nrcpt;
    h->size = f->content_size;
    h->mark = mark;
}

static int
by_arrival(const void *a, const void *b)
{
    const HELD_MSG *x = a, *y = b;

    if (x->arrival != y->arrival)
	return x->arrival < y->arrival ? -1 : 1;
    return strcmp(x->id, y->id);
}

void
held_read(int base_fd, HELD_LIST *l)
{
    static const char *const hold[] = {"hold"};
    QW_OPTS wo = {0};
    QW_STATS st;
    void   *ctx[1] = {l};
    char    err[256];

    wo.base_fd = base_fd;
    wo.qf_flags = QF_WANT_RCPTS | QF_WANT_HOLD;
    wo.nthreads = 1;
    if (qw_walk(hold, 1, &wo, on_message, ctx, &st, err, sizeof(err)) < 0)
	log_fatalx("%s", err);
    if (st.bad_dirs)
	log_fatalx("cannot read the hold queue (%s)", st.first_problem);
    if (st.corrupt || st.unreadable)
	log_warnx("%llu held file%s not read (first: %s): not counted",
		  (unsigned long long) (st.corrupt + st.unreadable),
		  st.corrupt + st.unreadable == 1 ? "" : "s",
		  st.first_problem);
    if (l->bad_marks)
	log_warnx("%llu held message%s with an unreadable hold mark: "
		  "counted as held by others", (unsigned long long) l->bad_marks,
		  l->bad_marks == 1 ? "" : "s");
    if (l->n > 1)
	qsort(l->v, l->n, sizeof(*l->v), by_arrival);
}

void
held_free(HELD_LIST *l)
{
    size_t  i;

    for (i = 0; i < l->n; i++) {
	free(l->v[i].id);
	free(l->v[i].sender);
    }
    free(l->v);
}

static const char *
utc(int64_t t, char *buf, size_t len)
{
    time_t  tt = (time_t) t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == 0 || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ",
					    &tm) == 0)
	snprintf(buf, len, "%lld", (long long) t);
    return buf;
}

/* The key as the mark writes it and --key takes it. */
static void
print_key(FILE *fp, const HM_MARK *m)
{
    char    ekey[3 * HM_KEY_MAX + 1];

    hm_key_encode(m->key, m->key_len, ekey);
    fprintf(fp, "%s:%s%s", qs_kind_name(m->kind), ekey,
	    m->truncated ? "..." : "");
}

static void
print_line(const char *prefix, const HELD_MSG *h)
{
    char    a[32], t[32];
    char   *s = xmalloc(h->sender_len + 1);

    log_printable(s, h->sender, h->sender_len);
    s[h->sender_len] = 0;
    printf("%s%s arrival=%s sender=<%s> rcpts=%zu size=%llu policy=%s key=",
	   prefix, h->id, utc(h->arrival, a, sizeof(a)), s, h->nrcpt,
	   (unsigned long long) h->size, h->mark.policy);
    print_key(stdout, &h->mark);
    printf(" held=%s\n", utc(h->mark.time, t, sizeof(t)));
    free(s);
}

static void
json_string(const char *s, size_t len)
{
    size_t  i;

    putchar('"');
    for (i = 0; i < len; i++) {
	unsigned char c = (unsigned char) s[i];

	if (c == '"' || c == '\\')
	    printf("\\%c", c);
	else if (c < 0x20 || c >= 0x7f)
	    printf("\\u%04x", c);
	else
	    putchar(c);
    }
    putchar('"');
}

static void
print_json(const HELD_LIST *l)
{
    char    ekey[3 * HM_KEY_MAX + 1];
    size_t  i;

    printf("{\"now\":%lld,\"selected\":%zu,\"held_by_qshape\":%llu,"
	   "\"held_by_others\":%llu,\"messages\":[", (long long) l->o->now,
	   l->n, (unsigned long long) l->ours, (unsigned long long) l->others);
    for (i = 0; i < l->n; i++) {
	const HELD_MSG *h = &l->v[i];
	size_t  n = hm_key_encode(h->mark.key, h->mark.key_len, ekey);

	printf("%s{\"queue_id\":", i ? "," : "");
	json_string(h->id, strlen(h->id));
	printf(",\"arrival\":%lld,\"sender\":", (long long) h->arrival);
	json_string(h->sender, h->sender_len);
	printf(",\"recipients\":%zu,\"size\":%llu,\"policy\":\"%s\","
	       "\"key_kind\":\"%s\",\"key\":", h->nrcpt,
	       (unsigned long long) h->size, h->mark.policy,
	       qs_kind_name(h->mark.kind));
	json_string(ekey, n);
	printf(",\"key_truncated\":%s,\"held_at\":%lld}",
	       h->mark.truncated ? "true" : "false", (long long) h->mark.time);
    }
    printf("]}\n");
}

static void
print_counts(const char *verb, const HELD_LIST *l)
{
    printf("%s: %zu selected of %llu held by qshape-milter; %llu held by "
	   "others, not touched\n", verb, l->n, (unsigned long long) l->ours,
	   (unsigned long long) l->others);
}

/*
 * Run postsuper with the selected IDs on its standard input, in a clean
 * environment.  Returns its exit status, or -1 when it could not run.
 */
static int
run_postsuper(const HELD_OPTS *o, const HELD_LIST *l)
{
    char   *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", 0};
    const char *argv[8];
    int     argc = 0, fds[2], status;
    pid_t   pid;
    FILE   *fp;
    size_t  i;

    argv[argc++] = POSTSUPER;
    if (o->pf_dir) {
	argv[argc++] = "-c";
	argv[argc++] = o->pf_dir;
    }
    argv[argc++] = o->verb == VERB_RELEASE ? "-H" : "-d";
    argv[argc++] = "-";
    if (o->verb == VERB_DELETE)
	argv[argc++] = "hold";
    argv[argc] = 0;
    if (pipe2(fds, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
	log_warn("run %s", POSTSUPER);
	return -1;
    }
    if (pid == 0) {
	if (dup2(fds[0], 0) < 0)
	    _exit(127);
	execve(POSTSUPER, (char *const *) argv, envp);
	_exit(127);
    }
    close(fds[0]);
    signal(SIGPIPE, SIG_IGN);
    if ((fp = fdopen(fds[1], "w")) == 0)
	log_fatal("fdopen");
    for (i = 0; i < l->n; i++)
	fprintf(fp, "%s\n", l->v[i].id);
    if (fclose(fp) != 0)
	log_warn("write to %s", POSTSUPER);
    while (waitpid(pid, &status, 0) < 0)
	if (errno != EINTR)
	    log_fatal("waitpid");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
	log_warnx("could not run %s", POSTSUPER);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int
by_id(const void *a, const void *b)
{
    return strcmp(((const HELD_MSG *) a)->id, ((const HELD_MSG *) b)->id);
}

/* QW_KNOWN_FN that marks the selected names still in the hold queue and
 * reads no file; the list is sorted by ID. */
static int
still_held(void *ctx, int queue, const char *id)
{
    HELD_LIST *l = ctx;
    HELD_MSG key, *h;

    (void) queue;
    key.id = (char *) id;
    if (l->n > 0
	&& (h = bsearch(&key, l->v, l->n, sizeof(*l->v), by_id)) != 0)
	h->still_held = 1;
    return 1;
}

/* After postsuper: how many of the selected left the hold queue. */
static size_t
count_gone(int base_fd, HELD_LIST *l)
{
    static const char *const hold[] = {"hold"};
    QW_OPTS wo = {0};
    QW_STATS st;
    void   *ctx[1] = {l};
    char    err[256];
    size_t  i, gone = 0;

    if (l->n > 1)
	qsort(l->v, l->n, sizeof(*l->v), by_id);
    wo.base_fd = base_fd;
    wo.nthreads = 1;
    wo.known = still_held;
    if (qw_walk(hold, 1, &wo, on_message, ctx, &st, err, sizeof(err)) < 0)
	log_fatalx("%s", err);
    for (i = 0; i < l->n; i++) {
	if (l->v[i].still_held)
	    printf("%s: %s still held\n", verb_name[l->o->verb], l->v[i].id);
	else
	    gone++;
    }
    return gone;
}

int
held_act(const HELD_OPTS *o, int base_fd, HELD_LIST *l)
{
    const char *verb = verb_name[o->verb];
    const char *done = o->verb == VERB_RELEASE ? "released" : "deleted";
    char    prefix[64];
    size_t  i, gone;
    int     rc;

    snprintf(prefix, sizeof(prefix), "%s%s: ", o->dry_run ? "would " : "",
	     verb);
    for (i = 0; i < l->n; i++)
	print_line(prefix, &l->v[i]);
    print_counts(verb, l);
    if (o->dry_run || l->n == 0) {
	if (o->dry_run)
	    printf("%s: dry run: nothing %s\n", verb, done);
	return 0;
    }
    fflush(stdout);
    rc = run_postsuper(o, l);
    gone = count_gone(base_fd, l);
    printf("%s: %zu %s, %zu still held\n", verb, gone, done, l->n - gone);
    if (rc != 0)
	log_warnx("%s: %s exited with status %d", verb, POSTSUPER, rc);
    return rc != 0 || gone != l->n;
}

static int
held_main(VERB verb, int argc, char **argv)
{
    HELD_OPTS o;
    HELD_LIST l;
    int     rc, fd;

    if ((rc = parse_opts(verb, argc, argv, &o)) != 0)
	return rc < 0 ? 2 : 0;
    fd = held_queue_dir(&o);
    memset(&l, 0, sizeof(l));
    l.o = &o;
    held_read(fd, &l);
    if (verb == VERB_LIST) {
	size_t  i;

	if (o.json)
	    print_json(&l);
	else {
	    for (i = 0; i < l.n; i++)
		print_line("", &l.v[i]);
	    print_counts("held", &l);
	}
	rc = 0;
    } else {
	rc = held_act(&o, fd, &l);
    }
    if (fflush(stdout) != 0 || ferror(stdout))
	log_fatal("write standard output");
    held_free(&l);
    close(fd);
    return rc;
}

int
ctl_held(int argc, char **argv)
{
    return held_main(VERB_LIST, argc, argv);
}

int
ctl_release(int argc, char **argv)
{
    int     i;

    for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
	if (strcmp(argv[i], "--metered") == 0)
	    return ctl_release_metered(argc, argv);
    return held_main(VERB_RELEASE, argc, argv);
}

int
ctl_delete(int argc, char **argv)
{
    return held_main(VERB_DELETE, argc, argv);
}

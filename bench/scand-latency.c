/*
 * scand-latency - the measurements behind bench/scand (see bench/README).
 *
 *	scand-latency reconcile QUEUE_DIR QUEUE ROUNDS
 *
 * Builds the scanner's state on QUEUE_DIR/QUEUE with the scanner's own
 * code (sc_create() and sc_reconcile() of src/scand/, linked in),
 * as qshape-scand does at start-up, then, ROUNDS times: a reconcile of the
 * unchanged queue, a bare listing of the same directories (opendir,
 * readdir, closedir: the floor of any reconcile that lists them), and a
 * publication of the summary.  Prints
 *	messages=N initial=SECONDS
 *	reconcile=SECONDS new=N gone=N		(one line per round)
 *	relist=SECONDS new=N gone=N	(the same after touching the directories:
 *					 listed, as a busy queue always is)
 *	list=SECONDS names=N			(one line per round)
 *	publish=SECONDS				(one line per round)
 * The summary goes to a private segment (/qshape-bench-rc-PID), removed
 * at exit.
 *
 *	scand-latency arrive SUMMARY_FILE QUEUE_DIR TEMPLATE_DIR COUNT RATE [SEED]
 *
 * With qshape-scand running on QUEUE_DIR and publishing SUMMARY_FILE, writes
 * COUNT messages into QUEUE_DIR/incoming, one at a time, at random
 * (Poisson) moments, RATE messages per second on average, and measures for
 * each the delay from its completion to the first publication of the
 * summary that counts it.  Each file is written the way cleanup(8) writes
 * one (mail_queue_enter(), mail_stream_finish_file()): created mode 0600
 * under a temporary name with a dot, owned by postfix, renamed to its
 * queue ID at once, written, then fchmod() to 0700, which completes it.
 * The contents are taken, in turn, from the regular files in TEMPLATE_DIR
 * (e.g. written by "qgen spec"); the queue IDs are new: 12 upper-case hex
 * digits, which no qgen ID (11) can collide with.  No fsync(): the clock
 * starts when fchmod() returns, and cleanup's fsync comes before it.
 *
 * The summary is polled every 250 us by reading the segment header's seq
 * and latch and, only when seq moved, the current copy's QS_BODY and
 * QS_QUEUE array (1 KiB, not the 5 MB body) under the seqlock protocol of
 * src/shape/shm.h.  A message is visible when the incoming count of a good
 * copy reaches the number written before it plus one: the count is
 * monotonic, nothing else writes to incoming.  At the end, one full
 * shm_reader_copy() must agree.  Prints
 *	count=N lost=N median_ms=X p90_ms=X p99_ms=X min_ms=X max_ms=X
 *	    publications=N
 * and, with -o FILE before the subcommand, every delay in ms to FILE.
 *
 * Exit status 0, or 1 with a message when something failed (lost
 * messages are reported, not a failure).
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "qshape/summary.h"
#include "log.h"
#include "mem.h"
#include "shm.h"
#include "scanner.h"

static double
mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
usage(void)
{
    fprintf(stderr,
	    "usage: scand-latency reconcile QUEUE_DIR QUEUE ROUNDS\n"
	    "       scand-latency [-o FILE] arrive SUMMARY_FILE QUEUE_DIR "
	    "TEMPLATE_DIR COUNT RATE [SEED]\n");
    exit(2);
}

static long
number(const char *s, long lo, long hi)
{
    char   *end;
    long    v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
	log_fatalx("bad number: %s (%ld..%ld)", s, lo, hi);
    return v;
}

/* ---- reconcile --------------------------------------------------------- */

static char rc_dir[64], rc_shm[96];	/* a private summary directory */

static void
rc_unlink(void)
{
    if (*rc_shm)
	(void) unlink(rc_shm);
    if (*rc_dir)
	(void) rmdir(rc_dir);
}

/* Names under dir (recursively), as cheaply as readdir allows. */
static long
list_dir(int at, const char *name, int depth)
{
    DIR    *dp;
    struct dirent *de;
    long    n = 0;
    int     fd;

    if ((fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
	log_fatal("open %s", name);
    if ((dp = fdopendir(fd)) == 0)
	log_fatal("fdopendir %s", name);
    while ((de = readdir(dp)) != 0) {
	if (de->d_name[0] == '.')
	    continue;
	if (de->d_type == DT_DIR && depth < 16)
	    n += list_dir(dirfd(dp), de->d_name, depth + 1);
	else
	    n++;
    }
    closedir(dp);
    return n;
}

/* Give dir and its subdirectories a new mtime, as a busy queue's change:
 * the next reconcile must list them.  The time is in the past, so that
 * the reconcile after that may trust it again; the nanoseconds make it
 * differ from any earlier touch. */
static void
touch_dirs(int at, const char *name, int depth, time_t when, long nsec)
{
    struct timespec ts[2] = {{0, UTIME_OMIT}, {when, nsec}};
    DIR    *dp;
    struct dirent *de;
    int     fd;

    if (utimensat(at, name, ts, 0) < 0)
	log_fatal("utimensat %s", name);
    if ((fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
	log_fatal("open %s", name);
    if ((dp = fdopendir(fd)) == 0)
	log_fatal("fdopendir %s", name);
    while ((de = readdir(dp)) != 0)
	if (de->d_name[0] != '.' && de->d_type == DT_DIR && depth < 16)
	    touch_dirs(dirfd(dp), de->d_name, depth + 1, when, nsec);
    closedir(dp);
}

static int
cmd_reconcile(int argc, char **argv)
{
    const char *queues[1];
    SC_POLICY pol;
    SC_CONF conf;
    SC_STATS st0, st1;
    SCANNER *sc;
    char    err[512];
    double  t;
    long    rounds, r, names;
    int     fd;

    if (argc != 4)
	usage();
    rounds = number(argv[3], 1, 1000);
    if ((fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
	log_fatal("open %s", argv[1]);
    queues[0] = argv[2];

    /* The example configuration's first policy, on the one queue. */
    memset(&pol, 0, sizeof(pol));
    pol.th.name = "domain_flood";
    pol.th.kind = QS_KEY_SENDER_DOMAIN;
    pol.th.action = QS_ACTION_LOG;
    pol.th.min_queue = 100;
    pol.th.min_count = 50;
    pol.th.min_share = 0.5;
    pol.th.release_ratio = 0.8;
    pol.th.min_hold_time = 300;
    pol.window.kind = QS_KEY_SENDER_DOMAIN;
    pol.window.queue_mask = 1;
    pol.window.max_age = 0;
    pol.window.min_keep = 40;

    /* qshape-scand's defaults (etc/qshape-milter.conf). */
    memset(&conf, 0, sizeof(conf));
    conf.base_fd = fd;
    conf.queues = queues;
    conf.nqueues = 1;
    conf.geom.nqueues = 1;
    conf.geom.nbuckets = 10;
    conf.geom.bucket_minutes = 5;
    conf.geom.linear = 0;
    conf.top_keys = 1000;
    conf.max_throttled = 256;
    conf.policy = &pol;
    conf.npolicy = 1;
    snprintf(rc_dir, sizeof(rc_dir), "/run/qshape-bench-rc.XXXXXX");
    if (mkdtemp(rc_dir) == 0)
	log_fatal("mkdtemp %s", rc_dir);
    snprintf(rc_shm, sizeof(rc_shm), "%s/summary", rc_dir);
    conf.summary_file = rc_shm;
    conf.gid = -1;
    conf.publish_interval_ms = 100;
    conf.heartbeat_interval_ms = 1000;
    atexit(rc_unlink);

    if ((sc = sc_create(&conf, err, sizeof(err))) == 0)
	log_fatalx("%s", err);
    t = mono();
    sc_reconcile(sc, sc_now());
    t = mono() - t;
    printf("messages=%zu initial=%.6f\n", ix_messages(sc_index(sc)), t);
    sc_publish(sc, sc_now());
    for (r = 0; r < rounds; r++) {
	sc_stats(sc, &st0);
	t = mono();
	sc_reconcile(sc, sc_now());
	t = mono() - t;
	sc_stats(sc, &st1);
	printf("reconcile=%.6f new=%llu gone=%llu\n", t,
	       (unsigned long long) (st1.parsed - st0.parsed),
	       (unsigned long long) (st1.removed - st0.removed));
	/* Distinct from every earlier touch, this run's or another's. */
	touch_dirs(fd, queues[0], 0, time(0) - 600,
		   (long) (getpid() % 1000) * 1000000 + r);
	sc_stats(sc, &st0);
	t = mono();
	sc_reconcile(sc, sc_now());
	t = mono() - t;
	sc_stats(sc, &st1);
	printf("relist=%.6f new=%llu gone=%llu\n", t,
	       (unsigned long long) (st1.parsed - st0.parsed),
	       (unsigned long long) (st1.removed - st0.removed));
	t = mono();
	names = list_dir(fd, queues[0], 0);
	t = mono() - t;
	printf("list=%.6f names=%ld\n", t, names);
	t = mono();
	sc_publish(sc, sc_now());
	t = mono() - t;
	printf("publish=%.6f\n", t);
    }
    sc_destroy(sc);
    close(fd);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- arrive ------------------------------------------------------------ */

typedef struct TEMPLATE {
    unsigned char *data;
    size_t  len;
} TEMPLATE;

static size_t
load_templates(const char *dir, TEMPLATE **out)
{
    DIR    *dp;
    struct dirent *de;
    TEMPLATE *t = 0;
    size_t  n = 0, cap = 0;
    int     dfd;

    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
	log_fatal("open %s", dir);
    if ((dp = fdopendir(dfd)) == 0)
	log_fatal("fdopendir %s", dir);
    while ((de = readdir(dp)) != 0) {
	struct stat st;
	int     fd;

	if (de->d_name[0] == '.')
	    continue;
	if ((fd = openat(dirfd(dp), de->d_name, O_RDONLY)) < 0)
	    log_fatal("open %s/%s", dir, de->d_name);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
	    close(fd);
	    continue;
	}
	if (n == cap) {
	    cap = cap ? 2 * cap : 64;
	    t = xrealloc(t, cap * sizeof(*t));
	}
	t[n].len = (size_t) st.st_size;
	t[n].data = xmalloc(t[n].len);
	if (read(fd, t[n].data, t[n].len) != (ssize_t) t[n].len)
	    log_fatal("read %s/%s", dir, de->d_name);
	close(fd);
	n++;
    }
    closedir(dp);
    *out = t;
    return n;
}

/* The segment, mapped read-only, for the small reads of the poll. */
typedef struct PEEK {
    const unsigned char *base;
    size_t  size;
    const QS_HEADER *h;
} PEEK;

static uint64_t
ld(const void *p)
{
    return atomic_load_explicit((_Atomic uint64_t *) p, memory_order_relaxed);
}

/*
 * The serial and queue counts of the current copy: 1 good, 0 a
 * publication started during the read (try again).  Same protocol as
 * shm_reader_copy(), over 1 KiB instead of the whole body.
 */
static int
peek(const PEEK *pk, uint64_t *serial, uint32_t counts[QS_MAX_QUEUES],
     char names[QS_MAX_QUEUES][QS_NAME_BYTES], uint32_t *nqueues)
{
    uint64_t words[(sizeof(QS_BODY) + QS_MAX_QUEUES * sizeof(QS_QUEUE)) / 8];
    uint64_t s1, s2, c, off, i;
    const QS_BODY *b = (const void *) words;
    const QS_QUEUE *q;

    _Static_assert(sizeof(QS_BODY) % 8 == 0, "QS_BODY size");
    _Static_assert(QS_MAX_QUEUES * sizeof(QS_QUEUE) % 8 == 0, "queue[]");
    s1 = atomic_load_explicit((_Atomic uint64_t *) &pk->h->seq,
			      memory_order_acquire);
    c = atomic_load_explicit((_Atomic uint64_t *) &pk->h->latch,
			     memory_order_acquire) & 1;
    off = pk->h->body_offset[c];
    for (i = 0; i < sizeof(QS_BODY) / 8; i++)
	words[i] = ld(pk->base + off + 8 * i);
    if (b->off_queue % 8 || b->off_queue + sizeof(words) - sizeof(QS_BODY)
	> pk->h->body_size)
	return 0;
    for (; i < sizeof(words) / 8; i++)
	words[i] = ld(pk->base + off + b->off_queue + 8 * i - sizeof(QS_BODY));
    atomic_thread_fence(memory_order_acquire);
    s2 = atomic_load_explicit((_Atomic uint64_t *) &pk->h->seq,
			      memory_order_relaxed);
    if (s1 != s2)
	return 0;
    *serial = b->serial;
    *nqueues = b->nqueues < QS_MAX_QUEUES ? b->nqueues : QS_MAX_QUEUES;
    q = (const void *) (words + sizeof(QS_BODY) / 8);
    for (i = 0; i < *nqueues; i++) {
	counts[i] = q[i].count[0];
	if (names)
	    memcpy(names[i], q[i].name, QS_NAME_BYTES);
    }
    return 1;
}

static int
cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n). */
static double
pct(const double *v, size_t n, double p)
{
    size_t  k = (size_t) (p / 100.0 * (double) n + 0.999999);

    if (k < 1)
	k = 1;
    if (k > n)
	k = n;
    return v[k - 1];
}

static uint64_t rng_state;

static double
rng_unit(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return ((double) (z >> 11) + 0.5) / 9007199254740992.0;
}

static void
sleep_until(double when)
{
    double  d = when - mono();
    struct timespec ts;

    if (d <= 0)
	return;
    ts.tv_sec = (time_t) d;
    ts.tv_nsec = (long) ((d - (double) ts.tv_sec) * 1e9);
    nanosleep(&ts, 0);
}

static int
cmd_arrive(int argc, char **argv, const char *samples_file)
{
    const char *shm_name, *qdir, *tdir;
    long    count, rate, k;
    TEMPLATE *tpl;
    size_t  ntpl;
    PEEK    pk;
    struct stat st;
    struct passwd *pw;
    SHM_R  *r;
    SHM_ERR why;
    char    err[512], names[QS_MAX_QUEUES][QS_NAME_BYTES];
    uint32_t counts[QS_MAX_QUEUES], nq, qi, base;
    uint64_t serial = 0, last_serial, pubs = 0;
    double *done, *seen, *delay, next, now, deadline;
    long    nseen = 0, lost, written = 0;
    int     fd, dfd, shm_fd;

    if (argc != 6 && argc != 7)
	usage();
    shm_name = argv[1];
    qdir = argv[2];
    tdir = argv[3];
    count = number(argv[4], 1, 10000000);
    rate = number(argv[5], 1, 100000);
    rng_state = argc == 7 ? (uint64_t) number(argv[6], 0, LONG_MAX) : 1;

    if ((ntpl = load_templates(tdir, &tpl)) == 0)
	log_fatalx("no template files in %s", tdir);
    if ((pw = getpwnam("postfix")) == 0)
	log_fatalx("no user postfix");
    if ((dfd = open(qdir, O_RDONLY | O_DIRECTORY)) < 0)
	log_fatal("open %s", qdir);

    /* The API reader proves the segment is ours to read and valid. */
    if ((r = shm_reader_open(shm_name, &why, err, sizeof(err))) == 0)
	log_fatalx("summary %s: %s", shm_name, err);
    if ((shm_fd = open(shm_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
	log_fatal("open %s", shm_name);
    if (fstat(shm_fd, &st) < 0)
	log_fatal("fstat %s", shm_name);
    pk.size = (size_t) st.st_size;
    pk.base = mmap(0, pk.size, PROT_READ, MAP_SHARED, shm_fd, 0);
    if (pk.base == MAP_FAILED)
	log_fatal("mmap %s", shm_name);
    close(shm_fd);
    pk.h = (const void *) pk.base;
    if (pk.h->segment_size != pk.size)
	log_fatalx("%s: segment size %llu, file %zu", shm_name,
		   (unsigned long long) pk.h->segment_size, pk.size);

    /* The incoming queue's index and count before we start. */
    deadline = mono() + 5;
    while (!peek(&pk, &serial, counts, names, &nq)) {
	if (mono() > deadline)
	    log_fatalx("no consistent read of %s", shm_name);
	usleep(1000);
    }
    for (qi = 0; qi < nq; qi++)
	if (strncmp(names[qi], "incoming", QS_NAME_BYTES) == 0)
	    break;
    if (qi == nq)
	log_fatalx("%s: the scanner does not watch incoming", shm_name);
    base = counts[qi];
    last_serial = serial;

    done = xcalloc((size_t) count, sizeof(double));
    seen = xcalloc((size_t) count, sizeof(double));
    umask(0);
    next = mono();
    deadline = 0;
    for (;;) {
	now = mono();
	if (written < count && now >= next) {
	    const TEMPLATE *t = &tpl[written % (long) ntpl];
	    char    tmp[64], id[32];
	    struct timespec ts;

	    clock_gettime(CLOCK_REALTIME, &ts);
	    snprintf(tmp, sizeof(tmp), "incoming/%ld.%ld",
		     (long) (ts.tv_nsec / 1000), (long) getpid());
	    snprintf(id, sizeof(id), "incoming/%05lX%07lX",
		     (unsigned long) (ts.tv_nsec / 1000) & 0xFFFFF,
		     0xA000000UL + (unsigned long) written);
	    if ((fd = openat(dfd, tmp, O_CREAT | O_EXCL | O_WRONLY, 0600)) < 0)
		log_fatal("create %s/%s", qdir, tmp);
	    if (fchown(fd, pw->pw_uid, pw->pw_gid) < 0)
		log_fatal("chown %s/%s", qdir, tmp);
	    if (renameat(dfd, tmp, dfd, id) < 0)
		log_fatal("rename %s/%s", qdir, tmp);
	    if (write(fd, t->data, t->len) != (ssize_t) t->len)
		log_fatal("write %s/%s", qdir, id);
	    if (fchmod(fd, 0700) < 0)
		log_fatal("chmod %s/%s", qdir, id);
	    done[written] = mono();
	    if (close(fd) < 0)
		log_fatal("close %s/%s", qdir, id);
	    written++;
	    /* Exponential gaps: a Poisson stream of arrivals. */
	    next += -log(rng_unit()) / (double) rate;
	    if (written == count)
		deadline = mono() + 10;
	    continue;
	}
	if (peek(&pk, &serial, counts, 0, &nq) && serial != last_serial) {
	    double  t = mono();
	    long    vis = (long) counts[qi] - (long) base;

	    pubs++;
	    last_serial = serial;
	    if (vis > written)
		log_fatalx("incoming counts %ld new messages, only %ld written",
			   vis, written);
	    while (nseen < vis)
		seen[nseen++] = t;
	}
	if (written == count && (nseen == count || mono() > deadline))
	    break;
	if (written < count && next - mono() < 300e-6)
	    sleep_until(next);
	else
	    usleep(250);
    }

    /* The full API copy must agree with what the small reads saw. */
    {
	size_t  len = shm_reader_body_size(r);
	void   *body = xmalloc(len);

	if (shm_reader_copy(r, body, len) < 0)
	    log_fatal("shm_reader_copy %s", shm_name);
	if (shm_body_queue(body)[qi].count[0] != base + (uint32_t) nseen)
	    log_fatalx("shm_reader_copy: incoming %u, small reads %u",
		       shm_body_queue(body)[qi].count[0],
		       base + (uint32_t) nseen);
	free(body);
    }
    shm_reader_close(r);

    lost = count - nseen;
    delay = xcalloc((size_t) count, sizeof(double));
    for (k = 0; k < nseen; k++)
	delay[k] = (seen[k] - done[k]) * 1000.0;
    if (samples_file) {
	FILE   *fp = fopen(samples_file, "w");

	if (fp == 0)
	    log_fatal("%s", samples_file);
	for (k = 0; k < nseen; k++)
	    fprintf(fp, "%.3f\n", delay[k]);
	if (fclose(fp) != 0)
	    log_fatal("%s", samples_file);
    }
    qsort(delay, (size_t) nseen, sizeof(double), cmp_double);
    if (nseen == 0)
	printf("count=%ld lost=%ld\n", count, lost);
    else
	printf("count=%ld lost=%ld median_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
	       "min_ms=%.3f max_ms=%.3f publications=%llu\n", count, lost,
	       pct(delay, (size_t) nseen, 50), pct(delay, (size_t) nseen, 90),
	       pct(delay, (size_t) nseen, 99), delay[0], delay[nseen - 1],
	       (unsigned long long) pubs);
    munmap((void *) pk.base, pk.size);
    close(dfd);
    free(delay);
    free(seen);
    free(done);
    while (ntpl > 0)
	free(tpl[--ntpl].data);
    free(tpl);
    return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    const char *samples = 0;

    log_init("scand-latency", 1, LOGL_WARN);
    if (argc >= 3 && strcmp(argv[1], "-o") == 0) {
	samples = argv[2];
	argc -= 2;
	argv += 2;
    }
    if (argc < 2)
	usage();
    if (strcmp(argv[1], "reconcile") == 0)
	return cmd_reconcile(argc - 1, argv + 1);
    if (strcmp(argv[1], "arrive") == 0)
	return cmd_arrive(argc - 1, argv + 1, samples);
    usage();
}

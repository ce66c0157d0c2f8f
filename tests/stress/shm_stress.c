/*
 * shm_stress - hammer the shm publication protocol: one writer thread
 * publishing as fast as it can, reader threads and a reader process taking
 * copies and lookups as fast as they can, every snapshot verified.
 *
 * usage: shm_stress [seconds]		(default 5)
 *
 * Each publication n fills the body with a pattern of n and stores a
 * checksum of everything after QS_BODY, seeded with QS_BODY.published; a
 * reader that gets a copy mixing two publications (torn) sees a checksum
 * mismatch.  Lookups check that the entry's fields agree with each other.
 * Copies and lookups must also never go back to an older publication.
 *
 * Readers: two threads attached to the writer's own mapping (same
 * addresses, so ThreadSanitizer sees every shared access of both sides),
 * one thread with its own mapping, one forked process with its own mapping
 * (forked before any thread starts, single-threaded, so TSan allows it).
 *
 * A reader passes with no torn read and at least one good copy and one
 * good lookup.  Last line: "shm-stress: N passed, M failed"; exit 1 when
 * any reader failed.  See tests/stress/README.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "shm.h"

#define MAX_KEYS	64
#define MAX_THROTTLE	16
#define NTHROTTLE	12		/* entries present in every body */
#define NTHREADS	3		/* reader threads */
#define LOOKUPS		4		/* lookups per copy */

typedef struct COUNTS {
    uint64_t copies;			/* good copies */
    uint64_t lookups;			/* good lookups (found and absent) */
    uint64_t torn;			/* bad checksum, fields, or order */
    uint64_t exhausted;			/* calls that ran out of retries */
    uint64_t retries;
    uint64_t reopens;
    uint64_t other;			/* unexpected errors */
} COUNTS;

typedef struct READER {
    const char *label;
    SHM_R  *r;
    size_t  body_size;
    COUNTS  c;
} READER;

static struct timespec deadline;
#define POLICY_DIGEST	0x5eed5eed5eed5eedull	/* of every entry */

static char base[64], dir[80], name[96];	/* base/d/summary: the
						 * summary's directory in a
						 * private one, as shm.h wants */

static int
expired(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline.tv_sec
	|| (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec);
}

/* Checksum of a body after QS_BODY, seeded with published. */
static uint32_t
checksum(const unsigned char *body, size_t size)
{
    const QS_BODY *b = (const QS_BODY *) body;
    uint64_t h = hash_fnv1a(HASH_FNV_BASIS ^ (uint64_t) b->published,
			    body + sizeof(QS_BODY), size - sizeof(QS_BODY));

    return (uint32_t) (h ^ (h >> 32));
}

static uint32_t
entry_count(int64_t n, int i)
{
    uint64_t h = (uint64_t) n * 0x9e3779b97f4a7c15ull;

    return (uint32_t) (h >> 32) + (uint32_t) i;
}

static void
throttle_key(int i, char *buf, size_t size)
{
    snprintf(buf, size, "t%d.example", i);
}

/* Publication n's body. */
static void
fill(SHM_W *w, int64_t n)
{
    unsigned char *body = shm_writer_body(w);
    size_t  size = shm_writer_body_size(w), i;
    QS_BODY *b = (QS_BODY *) body;
    QS_TABLE *t;
    QS_THROTTLE *e;
    uint64_t v;
    char    key[32];
    int     k;

    for (i = sizeof(QS_BODY); i < size; i += 8) {
	v = (uint64_t) n * 0x9e3779b97f4a7c15ull + i;
	memcpy(body + i, &v, 8);
    }
    b->published = n;
    b->published_ns = n % 1000000000;
    b->nqueues = QS_MAX_QUEUES;
    b->nbuckets = QS_MAX_BUCKETS;
    b->nkeys = (uint32_t) (n % (MAX_KEYS + 1));
    b->nthrottle = NTHROTTLE;
    t = shm_body_table(body);
    for (k = 0; k < QS_NKEYKINDS; k++) {
	t[k].first = 0;
	t[k].nrows = b->nkeys;
	t[k].ndistinct = (uint32_t) n;
	t[k].other_messages = (uint32_t) k;
    }
    e = shm_body_throttle(body);
    for (k = 0; k < NTHROTTLE; k++) {
	throttle_key(k, key, sizeof(key));
	shm_throttle_set_key(&e[k], QS_KEY_SENDER_DOMAIN, key, strlen(key));
	e[k].count = entry_count(n, k);
	e[k].total = (uint32_t) n;
	e[k].since = n;
	e[k].hold_until = n + k;
	e[k].policy_digest = POLICY_DIGEST;	/* the rest is pattern */
	snprintf(e[k].policy_name, sizeof(e[k].policy_name), "p%lld",
		 (long long) n);
    }
    shm_writer_index(w);		/* so that the checksum covers it */
    b->checksum = checksum(body, size);
}

static void *
writer_main(void *arg)
{
    SHM_W  *w = arg;
    static uint64_t n = 1;		/* publication 1 was before fork */

    while (!expired()) {
	n++;
	fill(w, (int64_t) n);
	shm_writer_publish(w, (int64_t) n);
    }
    return (void *) (uintptr_t) n;
}

/* One copy and its checks; last is the newest publication seen. */
static void
check_copy(READER *rd, unsigned char *buf, int64_t *last)
{
    QS_BODY b;

    if (shm_reader_copy(rd->r, buf, rd->body_size) < 0) {
	if (errno == EAGAIN)
	    return;			/* counted as exhausted */
	rd->c.other++;
	return;
    }
    memcpy(&b, buf, sizeof(b));
    if (b.checksum != checksum(buf, rd->body_size)
	|| (int64_t) b.serial != b.published || b.published < *last)
	rd->c.torn++;
    else
	rd->c.copies++;
    *last = b.published;
}

/* One lookup of a present key, one of an absent key. */
static void
check_lookup(READER *rd, unsigned seed, int64_t *last)
{
    int     i = (int) (seed % NTHROTTLE), rc;
    char    key[32];
    QS_THROTTLE e;

    throttle_key(i, key, sizeof(key));
    rc = shm_reader_find_throttle(rd->r, QS_KEY_SENDER_DOMAIN,
				  qs_key_hash(QS_KEY_SENDER_DOMAIN, key,
					      strlen(key)),
				  key, strlen(key), POLICY_DIGEST, &e);
    if (rc == 1) {
	char    pol[QS_NAME_BYTES];

	snprintf(pol, sizeof(pol), "p%lld", (long long) e.since);
	if (e.count != entry_count(e.since, i) || e.total != (uint32_t) e.since
	    || e.hold_until != e.since + i || strcmp(e.text, key) != 0
	    || strcmp(e.policy_name, pol) != 0 || e.since < *last)
	    rd->c.torn++;
	else
	    rd->c.lookups++;
	*last = e.since;
    } else if (rc == 0) {
	rd->c.torn++;			/* every body has it */
    } else if (errno != EAGAIN) {
	rd->c.other++;
    }
    snprintf(key, sizeof(key), "absent%u.example", seed % 100);
    rc = shm_reader_find_throttle(rd->r, QS_KEY_SENDER_DOMAIN,
				  qs_key_hash(QS_KEY_SENDER_DOMAIN, key,
					      strlen(key)),
				  key, strlen(key), POLICY_DIGEST, &e);
    if (rc == 1)
	rd->c.torn++;
    else if (rc == 0)
	rd->c.lookups++;
    else if (errno != EAGAIN)
	rd->c.other++;
}

static void *
reader_main(void *arg)
{
    READER *rd = arg;
    unsigned char *buf = malloc(rd->body_size);
    unsigned seed = 1;
    int64_t last = 0;
    SHM_STATS st;
    int     i;

    if (buf == 0) {
	rd->c.other++;
	return 0;
    }
    while (!expired()) {
	check_copy(rd, buf, &last);
	for (i = 0; i < LOOKUPS; i++) {
	    seed = seed * 1103515245u + 12345u;
	    check_lookup(rd, seed >> 8, &last);
	}
    }
    shm_reader_stats(rd->r, &st);
    rd->c.retries = st.retries;
    rd->c.exhausted = st.exhausted;
    rd->c.reopens = st.reopens;
    free(buf);
    return 0;
}

static int
report(const READER *rd)
{
    int     ok = rd->c.torn == 0 && rd->c.other == 0 && rd->c.copies > 0
	&& rd->c.lookups > 0;

    printf("reader %-16s copies %8llu lookups %9llu retries %8llu "
	   "exhausted %6llu torn %llu other %llu: %s\n", rd->label,
	   (unsigned long long) rd->c.copies,
	   (unsigned long long) rd->c.lookups,
	   (unsigned long long) rd->c.retries,
	   (unsigned long long) rd->c.exhausted,
	   (unsigned long long) rd->c.torn,
	   (unsigned long long) rd->c.other, ok ? "pass" : "FAIL");
    return ok;
}

static SHM_R *
open_reader(void)
{
    SHM_ERR why;
    char    err[256];
    SHM_R  *r = shm_reader_open(name, &why, err, sizeof(err));

    if (r == 0)
	fprintf(stderr, "shm-stress: %s\n", err);
    return r;
}

/* The reader process: read, then send the counts up the pipe. */
static pid_t
spawn_process_reader(int *rfd)
{
    READER  rd = {"process", 0, 0, {0}};
    int     fds[2];
    pid_t   pid;

    if (pipe(fds) < 0 || (pid = fork()) < 0) {
	perror("shm-stress: pipe/fork");
	exit(1);
    }
    if (pid > 0) {
	close(fds[1]);
	*rfd = fds[0];
	return pid;
    }
    close(fds[0]);
    if ((rd.r = open_reader()) == 0)
	_exit(2);
    rd.body_size = shm_reader_body_size(rd.r);
    reader_main(&rd);
    shm_reader_close(rd.r);
    if (write(fds[1], &rd.c, sizeof(rd.c)) != (ssize_t) sizeof(rd.c))
	_exit(2);
    _exit(rd.c.torn ? 1 : 0);
}

static int
process_result(pid_t pid, int rfd, READER *rd)
{
    int     status;

    if (read(rfd, &rd->c, sizeof(rd->c)) != (ssize_t) sizeof(rd->c))
	rd->c.other++;
    close(rfd);
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)
	|| WEXITSTATUS(status) > 1)
	rd->c.other++;
    return report(rd);
}

int
main(int argc, char **argv)
{
    SHM_GEOM geom = {MAX_KEYS, MAX_THROTTLE};
    static const char *labels[NTHREADS] = {"attached-1", "attached-2",
    "own-mapping"};
    READER  rd[NTHREADS], prd = {"process", 0, 0, {0}};
    pthread_t wt, rt[NTHREADS];
    double  secs = argc > 1 ? atof(argv[1]) : 5.0;
    char    err[256];
    void   *pubs;
    SHM_W  *w;
    pid_t   pid;
    int     i, rfd, passed = 0, nread = NTHREADS + 1;

    if (argc > 2 || secs <= 0 || secs > 3600) {
	fprintf(stderr, "usage: shm_stress [seconds]\n");
	return 2;
    }
    snprintf(base, sizeof(base), "/tmp/qshape-stress.XXXXXX");
    if (mkdtemp(base) == 0) {
	perror("shm-stress: mkdtemp");
	return 1;
    }
    snprintf(dir, sizeof(dir), "%s/d", base);
    snprintf(name, sizeof(name), "%s/summary", dir);
    if (mkdir(dir, 0700) < 0) {
	perror("shm-stress: mkdir");
	return 1;
    }
    if ((w = shm_writer_create(name, &geom, -1, err, sizeof(err))) == 0) {
	fprintf(stderr, "shm-stress: %s\n", err);
	return 1;
    }
    fill(w, 1);
    shm_writer_publish(w, 1);
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t) secs;
    deadline.tv_nsec += (long) ((secs - (double) (time_t) secs) * 1e9);
    if (deadline.tv_nsec >= 1000000000) {
	deadline.tv_sec++;
	deadline.tv_nsec -= 1000000000;
    }
    fflush(stdout);
    pid = spawn_process_reader(&rfd);	/* before any thread exists */

    for (i = 0; i < NTHREADS; i++) {
	memset(&rd[i], 0, sizeof(rd[i]));
	rd[i].label = labels[i];
	rd[i].r = i < 2 ? shm_reader_attach(w) : open_reader();
	if (rd[i].r == 0)
	    return 1;
	rd[i].body_size = shm_reader_body_size(rd[i].r);
    }
    pthread_create(&wt, 0, writer_main, w);
    for (i = 0; i < NTHREADS; i++)
	pthread_create(&rt[i], 0, reader_main, &rd[i]);
    for (i = 0; i < NTHREADS; i++)
	pthread_join(rt[i], 0);
    pthread_join(wt, &pubs);

    printf("shm-stress: %.1f s, body %zu bytes, published %llu\n", secs,
	   shm_writer_body_size(w), (unsigned long long) (uintptr_t) pubs);
    for (i = 0; i < NTHREADS; i++) {
	passed += report(&rd[i]);
	shm_reader_close(rd[i].r);
    }
    passed += process_result(pid, rfd, &prd);
    shm_writer_destroy(w);
    unlink(name);
    rmdir(dir);
    rmdir(base);
    printf("shm-stress: %d passed, %d failed\n", passed, nread - passed);
    return passed == nread ? 0 : 1;
}

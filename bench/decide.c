/*
 * bench-decide - the milter's in-process decision latency, against peers
 * measured in the same run (bench/milter, part b).
 *
 *	bench-decide [-r ROUNDS] [-n MESSAGES] [-k KEYS] [-j THREADS]
 *		     [-s SUMMARY_FILE] CONFIG
 *
 * Loads CONFIG with qc_load(), publishes a real summary in POSIX shared
 * memory with the scanner's geometry (scanner.top_keys * kinds,
 * scanner.max_throttled) holding KEYS (256) throttled keys spread over the
 * config's sender_domain, parent_domain and sender policies, and then
 * decides MESSAGES (1,000,000) messages exactly as the milter's MAIL FROM
 * callback does: sumr_decide() (the milter's own src/milter/sumr.c: the
 * calling thread's reader, heartbeat and policies check, vd_decide() with
 * its lookup: MAIL FROM's argument to the queue-file form, hash, seqlock
 * probe of the mapping, and the fail-condition check).  Only the reply
 * formatting and logging of the callback are left out.
 *
 * The senders are a fixed mix (seeded): 88% ordinary senders of 2,000
 * domains, 5% of throttled sender domains, 2% throttled sender addresses,
 * 1% under a throttled parent domain, 2% of exempt domains, 1% from an
 * exempt client network, 1% null sender (the mix adapts when the config
 * lacks a kind of policy or exemption).  Before timing, every verdict is
 * checked against the category of its message; a wrong verdict exits 1.
 *
 * Each call is timed alone with clock_gettime(CLOCK_MONOTONIC), and in
 * blocks of 1,000 the same messages go through two peers, in a rotated
 * order:
 *	empty	an empty function called through a pointer: the timer's own
 *		cost, the floor of every number here;
 *	hash	strlen() and qs_key_hash() of the sender: touching the
 *		address once, the least any lookup must do.
 * Per round it prints, for decide, hash and empty:
 *
 *	round R NAME p50_ns=.. p99_ns=.. p999_ns=.. max_ns=.. mean_ns=..
 *
 * Then, for each T of -j LIST (default 1,2,8), T threads decide at once,
 * each through its own reader as the milter's worker threads do
 * ("decide_mtT", the latency each call sees while the others decide too;
 * decide_mt1 is the same harness with one thread, the reference for the
 * ratios).  First it prints
 *
 *	mix messages=.. no_match=.. match=.. exempt=.. keys=.. geometry=..
 *
 * Exit 0, or 1 when something fails (config, segment, a wrong verdict).
 * The segment is unlinked at exit (name -s, default
 * /qshape-bench-decide-PID).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "log.h"
#include "shm.h"
#include "sumr.h"
#include "verdict.h"

#define BLOCK		1000		/* messages per subject in turn */
#define HIST_NS		65536		/* 1 ns bins; beyond: overflow */
#define NORMAL_DOMAINS	2000
#define NORMAL_USERS	20

/* What a message is, and so which verdict it must get. */
typedef enum CAT {
    CAT_NORMAL,
    CAT_DOMAIN,				/* sender domain throttled */
    CAT_SENDER,				/* sender address throttled */
    CAT_PARENT,				/* a parent domain throttled */
    CAT_EXEMPT_DOMAIN,
    CAT_EXEMPT_NET,
    CAT_NULL,
    NCAT
} CAT;

typedef struct MSG {
    const char *sender;			/* as Postfix passes it: "<a@b>" */
    int     family;
    unsigned char addr[16];
    char    client[16];
    unsigned char cat;
} MSG;

typedef struct HIST {
    uint64_t bin[HIST_NS];
    uint64_t over, n, sum, max;
} HIST;

/* One thread's share of the -j run. */
typedef struct WORK {
    const QC_CONFIG *cf;
    const MSG *msg;
    size_t  from, to;
    HIST    h;
    uint64_t sink;
} WORK;

/* Everything the run builds. */
typedef struct BENCH {
    QC_CONFIG *cf;
    SHM_W  *w;
    SHM_GEOM geom;
    long    nkeys;
    const char **tdom, **tsnd, **tpar;	/* senders that must match */
    long    ndom, nsnd, npar;
    MSG    *msg;
    long    nmsg;
    size_t  ncat[NCAT];
} BENCH;

static const char *const cat_name[NCAT] = {
    "normal", "throttled_domain", "throttled_sender", "throttled_parent",
    "exempt_domain", "exempt_network", "null_sender",
};

static const char *shm_name;
static volatile uint64_t sink;		/* keeps the peers' results alive */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{					/* xorshift64*, seeded: same mix */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ull;
}

static inline uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void
hist_add(HIST *h, uint64_t ns)
{
    if (ns < HIST_NS)
	h->bin[ns]++;
    else
	h->over++;
    h->n++;
    h->sum += ns;
    if (ns > h->max)
	h->max = ns;
}

static uint64_t
hist_pct(const HIST *h, double p)
{
    uint64_t want = (uint64_t) ((double) h->n * p), seen = 0;
    size_t  i;

    if (want >= h->n)
	want = h->n - 1;
    for (i = 0; i < HIST_NS; i++) {
	seen += h->bin[i];
	if (seen > want)
	    return i;
    }
    return h->max;
}

static void
hist_print(int round, const char *name, const HIST *h)
{
    printf("round %d %s p50_ns=%llu p99_ns=%llu p999_ns=%llu max_ns=%llu "
	   "mean_ns=%.1f\n", round, name,
	   (unsigned long long) hist_pct(h, 0.50),
	   (unsigned long long) hist_pct(h, 0.99),
	   (unsigned long long) hist_pct(h, 0.999),
	   (unsigned long long) h->max, (double) h->sum / (double) h->n);
}

/* ---- the three subjects ------------------------------------------------- */

/* The milter's MAIL FROM path (mlfi_envfrom), without reply and log. */
static int
decide(const QC_CONFIG *cf, const MSG *x)
{
    VD_MSG  m;
    VD_VERDICT v;

    memset(&m, 0, sizeof(m));
    m.sender = x->sender;
    m.sender_len = strlen(x->sender);
    m.client_family = x->family;
    memcpy(m.client_addr, x->addr, sizeof(m.client_addr));
    m.client_text = x->client;
    m.sasl_user = 0;
    sumr_decide(cf, &m, &v);
    return (int) v.why;
}

static void
peer_hash(const MSG *x)
{
    sink += qs_key_hash(QS_KEY_SENDER, x->sender, strlen(x->sender));
}

static void
peer_empty(const MSG *x)
{
    (void) x;
}

static void (*volatile hash_fn)(const MSG *) = peer_hash;
static void (*volatile empty_fn)(const MSG *) = peer_empty;

/* ---- the summary -------------------------------------------------------- */

static int
policy_of(const QC_CONFIG *cf, int key)
{
    size_t  p;

    for (p = 0; p < cf->npolicies; p++)
	if (cf->policies[p].key == key)
	    return (int) p;
    return -1;
}

static void
add_throttle(QS_THROTTLE *e, const QC_CONFIG *cf, int p, const char *key,
	     int64_t now)
{
    const QC_POLICY *pol = &cf->policies[p];

    memset(e, 0, sizeof(*e));
    shm_throttle_set_key(e, pol->key, key, strlen(key));
    e->policy_digest = pol->digest;
    e->action = pol->action == QC_ACTION_HOLD ? QS_ACTION_HOLD
	: pol->action == QC_ACTION_TEMPFAIL ? QS_ACTION_TEMPFAIL
	: QS_ACTION_LOG;
    e->policy = (uint16_t) p;
    e->count = 1306;
    e->total = 2968;
    e->share_ppm = 440000;
    e->enter_count = e->count;
    e->enter_total = e->total;
    e->since = now - 60;
    e->hold_until = now + 240;
    snprintf(e->policy_name, sizeof(e->policy_name), "%s", pol->name);
}


/* ---- the messages ------------------------------------------------------- */

typedef struct ARENA {
    char   *p;
    size_t  len, cap;
} ARENA;

static const char *
keep(ARENA *a, const char *s)
{
    size_t  n = strlen(s) + 1;
    char   *r;

    if (a->len + n > a->cap) {
	fprintf(stderr, "bench-decide: arena full\n");
	exit(1);
    }
    r = a->p + a->len;
    memcpy(r, s, n);
    a->len += n;
    return r;
}

static void
client(MSG *m, unsigned a, unsigned b, unsigned c, unsigned d)
{
    m->family = AF_INET;
    m->addr[0] = (unsigned char) a;
    m->addr[1] = (unsigned char) b;
    m->addr[2] = (unsigned char) c;
    m->addr[3] = (unsigned char) d;
    snprintf(m->client, sizeof(m->client), "%u.%u.%u.%u", a, b, c, d);
}

/* Publish nkeys throttled keys, in turn of sender domain (3 of 5),
 * sender and parent domain, each under the config's policy of that kind;
 * remember a sender that must match each. */
static int
publish(BENCH *b, ARENA *a, int64_t now)
{
    const QC_CONFIG *cf = b->cf;
    int     p_dom = policy_of(cf, QC_KEY_SENDER_DOMAIN);
    int     p_par = policy_of(cf, QC_KEY_PARENT_DOMAIN);
    int     p_snd = policy_of(cf, QC_KEY_SENDER);
    QS_BODY *body = shm_writer_body(b->w);
    QS_THROTTLE *th = shm_body_throttle(body);
    char    buf[512], parent[512];
    long    i, n;

    if (p_dom < 0 && p_par < 0 && p_snd < 0)
	b->nkeys = 0;
    for (i = 0, n = 0; n < b->nkeys; i++) {
	long    kind = i % 5 < 3 ? 0 : i % 5 == 3 ? 1 : 2;

	if (kind == 0 && p_dom >= 0) {
	    snprintf(buf, sizeof(buf), "t%ld.flood.example", b->ndom);
	    add_throttle(&th[n++], cf, p_dom, buf, now);
	    snprintf(buf, sizeof(buf), "<bulk%ld@T%ld.Flood.Example>", i,
		     b->ndom);
	    b->tdom[b->ndom++] = keep(a, buf);
	} else if (kind == 1 && p_snd >= 0) {
	    snprintf(buf, sizeof(buf), "news%ld@mass%ld.example.net",
		     b->nsnd, b->nsnd);
	    add_throttle(&th[n++], cf, p_snd, buf, now);
	    snprintf(buf, sizeof(buf), "<News%ld@mass%ld.example.net>",
		     b->nsnd, b->nsnd);
	    b->tsnd[b->nsnd++] = keep(a, buf);
	} else if (kind == 2 && p_par >= 0) {
	    snprintf(buf, sizeof(buf), "mx.spam%ld.example.com", b->npar);
	    if (addr_qshape_parent(buf, strlen(buf), parent) == 0) {
		fprintf(stderr, "bench-decide: no parent for %s\n", buf);
		return -1;
	    }
	    add_throttle(&th[n++], cf, p_par, parent, now);
	    snprintf(buf, sizeof(buf), "<x%ld@mx.spam%ld.example.com>", i,
		     b->npar);
	    b->tpar[b->npar++] = keep(a, buf);
	}
    }
    body->nthrottle = (uint32_t) b->nkeys;
    body->policies_digest = cf->policies_digest;
    body->published = now;
    body->last_reconcile = now;
    shm_writer_publish(b->w, now);
    shm_writer_heartbeat(b->w, now);
    return 0;
}

/* One message of the mix. */
static void
make_message(BENCH *b, ARENA *a, const char *const *normal, MSG *m)
{
    const QC_EXEMPT *ex = &b->cf->exempt;
    unsigned pct = (unsigned) (rnd() % 100);
    uint64_t x = rnd(), d;
    char    buf[512];

    client(m, 198, 51, (unsigned) (x >> 8) & 255, (unsigned) x & 255);
    if (pct < 5 && b->ndom) {
	m->cat = CAT_DOMAIN;
	m->sender = b->tdom[x % (uint64_t) b->ndom];
    } else if (pct < 7 && b->nsnd) {
	m->cat = CAT_SENDER;
	m->sender = b->tsnd[x % (uint64_t) b->nsnd];
    } else if (pct < 8 && b->npar) {
	m->cat = CAT_PARENT;
	m->sender = b->tpar[x % (uint64_t) b->npar];
    } else if (pct < 10 && ex->domains.n > 0) {
	m->cat = CAT_EXEMPT_DOMAIN;
	snprintf(buf, sizeof(buf), "<u%u@out%u.%s>", (unsigned) (x % 97),
		 (unsigned) (x % 5), ex->domains.v[x % ex->domains.n]);
	m->sender = keep(a, buf);
    } else if (pct < 11 && ex->nnets > 0 && ex->nets[0].family == AF_INET
	       && ex->nets[0].prefix >= 24) {
	const QC_NET *net = &ex->nets[0];

	m->cat = CAT_EXEMPT_NET;
	m->sender = normal[x % (NORMAL_DOMAINS * NORMAL_USERS)];
	client(m, net->addr[0], net->addr[1], net->addr[2],
	       net->prefix >= 32 ? net->addr[3] : 1 + (unsigned) (x % 200));
    } else if (pct < 12 && ex->null_sender) {
	m->cat = CAT_NULL;
	m->sender = "<>";
    } else {
	/* Skewed: low domain numbers are the big senders. */
	d = (x % NORMAL_DOMAINS) * (rnd() % NORMAL_DOMAINS) / NORMAL_DOMAINS;
	m->cat = CAT_NORMAL;
	m->sender = normal[(rnd() % NORMAL_USERS) * NORMAL_DOMAINS + d];
    }
    b->ncat[m->cat]++;
}

static int
make_messages(BENCH *b, ARENA *a)
{
    static const char *normal[NORMAL_DOMAINS * NORMAL_USERS];
    char    buf[512];
    long    i, d, u;

    for (i = 0; i < NORMAL_DOMAINS * NORMAL_USERS; i++) {
	d = i % NORMAL_DOMAINS;
	u = i / NORMAL_DOMAINS;
	if (d % 3 == 0)
	    snprintf(buf, sizeof(buf), "<user%ld.name@mail.d%ld.example.com>",
		     u, d);
	else if (d % 3 == 1)
	    snprintf(buf, sizeof(buf), "<Someone%ld@D%ld.Example.ORG>", u, d);
	else
	    snprintf(buf, sizeof(buf), "<bounce-%ld-%ld@lists.d%ld.example"
		     ".net>", u * 7919 + d, u, d);
	normal[i] = keep(a, buf);
    }
    if ((b->msg = calloc((size_t) b->nmsg, sizeof(*b->msg))) == 0) {
	perror("bench-decide: calloc");
	return -1;
    }
    for (i = 0; i < b->nmsg; i++)
	make_message(b, a, normal, &b->msg[i]);
    return 0;
}

/* Every verdict must be the one its category calls for. */
static int
check(BENCH *b)
{
    static const VD_WHY expect[NCAT] = {
	[CAT_NORMAL] = VD_NO_MATCH, [CAT_DOMAIN] = VD_MATCH,
	[CAT_SENDER] = VD_MATCH, [CAT_PARENT] = VD_MATCH,
	[CAT_EXEMPT_DOMAIN] = VD_EXEMPT_DOMAIN,
	[CAT_EXEMPT_NET] = VD_EXEMPT_NETWORK,
	[CAT_NULL] = VD_EXEMPT_NULL_SENDER,
    };
    size_t  nbad = 0;
    long    i;
    int     c, why;

    for (i = 0; i < b->nmsg; i++) {
	const MSG *m = &b->msg[i];

	why = decide(b->cf, m);
	if (why != (int) expect[m->cat] && nbad++ < 5)
	    fprintf(stderr, "bench-decide: %s from %s (%s) got %s, want %s\n",
		    m->sender, m->client, cat_name[m->cat],
		    vd_why_name((VD_WHY) why), vd_why_name(expect[m->cat]));
    }
    if (nbad) {
	fprintf(stderr, "bench-decide: %zu wrong verdicts\n", nbad);
	return -1;
    }
    printf("mix messages=%ld keys=%ld sender_domain=%ld sender=%ld "
	   "parent_domain=%ld geometry=%u/%u", b->nmsg, b->nkeys, b->ndom,
	   b->nsnd, b->npar, b->geom.max_keys, b->geom.max_throttle);
    for (c = 0; c < NCAT; c++)
	printf(" %s=%zu", cat_name[c], b->ncat[c]);
    printf("\n");
    fflush(stdout);
    return 0;
}

/* One round: decide and the two peers, block by block, rotated. */
static void
round_1(BENCH *b, int r, HIST *h[3])
{
    uint64_t t0, t1, acc = 0;
    size_t  blk, j, end, n = (size_t) b->nmsg;
    int     k, subj;

    for (k = 0; k < 3; k++)
	memset(h[k], 0, sizeof(HIST));
    shm_writer_heartbeat(b->w, (int64_t) time(0));
    for (blk = 0; blk < n; blk += BLOCK) {
	end = blk + BLOCK < n ? blk + BLOCK : n;
	for (k = 0; k < 3; k++) {
	    subj = (int) ((blk / BLOCK + (size_t) k) % 3);
	    for (j = blk; j < end; j++) {
		t0 = now_ns();
		if (subj == 0)
		    acc += (uint64_t) decide(b->cf, &b->msg[j]);
		else if (subj == 1)
		    hash_fn(&b->msg[j]);
		else
		    empty_fn(&b->msg[j]);
		t1 = now_ns();
		hist_add(h[subj], t1 - t0);
	    }
	}
    }
    sink += acc;
    hist_print(r, "decide", h[0]);
    hist_print(r, "hash", h[1]);
    hist_print(r, "empty", h[2]);
    fflush(stdout);
}

static void *
mt_run(void *arg)
{
    WORK   *wk = arg;
    size_t  j;
    uint64_t t0;

    for (j = wk->from; j < wk->to; j++) {
	t0 = now_ns();
	wk->sink += (uint64_t) decide(wk->cf, &wk->msg[j]);
	hist_add(&wk->h, now_ns() - t0);
    }
    return 0;
}

/* One round of nthreads threads deciding at once; 0 or -1. */
static int
round_mt(BENCH *b, int r, int nthreads, HIST *all)
{
    pthread_t tid[64];
    WORK   *wk = calloc((size_t) nthreads, sizeof(*wk));
    char    name[32];
    size_t  j;
    int     c, started = 0;

    if (wk == 0)
	return -1;
    memset(all, 0, sizeof(HIST));
    shm_writer_heartbeat(b->w, (int64_t) time(0));
    for (c = 0; c < nthreads; c++) {
	wk[c].cf = b->cf;
	wk[c].msg = b->msg;
	wk[c].from = (size_t) b->nmsg * (size_t) c / (size_t) nthreads;
	wk[c].to = (size_t) b->nmsg * (size_t) (c + 1) / (size_t) nthreads;
	if ((errno = pthread_create(&tid[c], 0, mt_run, &wk[c])) != 0) {
	    perror("bench-decide: pthread_create");
	    break;
	}
	started++;
    }
    for (c = 0; c < started; c++) {
	pthread_join(tid[c], 0);
	for (j = 0; j < HIST_NS; j++)
	    all->bin[j] += wk[c].h.bin[j];
	all->over += wk[c].h.over;
	all->n += wk[c].h.n;
	all->sum += wk[c].h.sum;
	if (wk[c].h.max > all->max)
	    all->max = wk[c].h.max;
	sink += wk[c].sink;
    }
    free(wk);
    if (started < nthreads)
	return -1;
    snprintf(name, sizeof(name), "decide_mt%d", nthreads);
    hist_print(r, name, all);
    fflush(stdout);
    return 0;
}

static void
usage(void)
{
    fprintf(stderr, "usage: bench-decide [-r rounds] [-n messages] "
	    "[-k keys] [-j threads,...] [-s summary_file] config\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    static BENCH b;
    static ARENA arena;
    char    err[4096], defdir[64], defname[96];
    HIST   *h[3] = {0, 0, 0};
    int     rounds = 5, c, r, t, rc = 1;
    int     threads[8] = {1, 2, 8}, nthr = 3;
    char   *tok, *save;
    int64_t now = (int64_t) time(0);

    b.nmsg = 1000000;
    b.nkeys = 256;
    while ((c = getopt(argc, argv, "j:k:n:r:s:")) != -1) {
	switch (c) {
	case 'j':
	    for (nthr = 0, tok = strtok_r(optarg, ",", &save); tok && nthr < 8;
		 tok = strtok_r(0, ",", &save))
		threads[nthr++] = atoi(tok);
	    break;
	case 'k':
	    b.nkeys = atol(optarg);
	    break;
	case 'n':
	    b.nmsg = atol(optarg);
	    break;
	case 'r':
	    rounds = atoi(optarg);
	    break;
	case 's':
	    shm_name = optarg;
	    break;
	default:
	    usage();
	}
    }
    if (optind != argc - 1 || rounds < 1 || b.nmsg < BLOCK || b.nkeys < 0
	|| nthr < 1)
	usage();
    for (t = 0; t < nthr; t++)
	if (threads[t] < 1 || threads[t] > 64)
	    usage();
    log_init("bench-decide", 1, LOGL_WARN);
    if ((b.cf = qc_load(argv[optind], err, sizeof(err))) == 0) {
	fprintf(stderr, "bench-decide: %s\n", err);
	return 1;
    }
    if (shm_name == 0) {
	snprintf(defdir, sizeof(defdir), "/run/qshape-bench-decide.XXXXXX");
	if (mkdtemp(defdir) == 0) {
	    perror("bench-decide: mkdtemp /run/qshape-bench-decide.XXXXXX");
	    return 1;
	}
	snprintf(defname, sizeof(defname), "%s/summary", defdir);
	shm_name = defname;
    }
    /* The milter's code reads the summary the config names. */
    free(b.cf->summary_file);
    if ((b.cf->summary_file = strdup(shm_name)) == 0) {
	perror("bench-decide: strdup");
	return 1;
    }
    b.geom.max_keys = (uint32_t) b.cf->scanner.top_keys * QS_NKEYKINDS;
    b.geom.max_throttle = (uint32_t) b.cf->scanner.max_throttled;
    if (b.nkeys > (long) b.geom.max_throttle) {
	fprintf(stderr, "bench-decide: %ld keys > scanner.max_throttled %u\n",
		b.nkeys, b.geom.max_throttle);
	return 1;
    }
    if ((b.w = shm_writer_create(shm_name, &b.geom, -1, err,
				 sizeof(err))) == 0) {
	fprintf(stderr, "bench-decide: %s\n", err);
	return 1;
    }
    arena.cap = (size_t) 64 << 20;
    if ((arena.p = malloc(arena.cap)) == 0
	|| (b.tdom = calloc((size_t) b.nkeys + 1, sizeof(char *))) == 0
	|| (b.tsnd = calloc((size_t) b.nkeys + 1, sizeof(char *))) == 0
	|| (b.tpar = calloc((size_t) b.nkeys + 1, sizeof(char *))) == 0
	|| (h[0] = malloc(sizeof(HIST))) == 0
	|| (h[1] = malloc(sizeof(HIST))) == 0
	|| (h[2] = malloc(sizeof(HIST))) == 0) {
	perror("bench-decide: malloc");
	goto out;
    }
    if (publish(&b, &arena, now) < 0 || make_messages(&b, &arena) < 0
	|| check(&b) < 0)
	goto out;
    for (r = 1; r <= rounds; r++)
	round_1(&b, r, h);
    for (r = 1; r <= rounds; r++)
	for (t = 0; t < nthr; t++)
	    if (round_mt(&b, r, threads[t], h[0]) < 0)
		goto out;
    rc = 0;
out:
    sumr_shutdown();
    shm_writer_destroy(b.w);
    unlink(shm_name);
    if (shm_name == defname)
	rmdir(defdir);
    qc_free(b.cf);
    for (c = 0; c < 3; c++)
	free(h[c]);
    free(b.msg);
    free(b.tdom);
    free(b.tsnd);
    free(b.tpar);
    free(arena.p);
    return rc;
}

/*
 * scanner - the state of qshape-scand.  See scanner.h.
 *
 * A file is read when it appears, and again only when its recipients may
 * have changed: delivery agents mark them done in place, which shows as a
 * close after writing while the file is in active, and qmgr moves it out
 * of active only after the delivery attempts (the two often arrive in one
 * batch of events, when the file is no longer where the close was).  A rename between queues shows as a "gone" event in one
 * directory and a "seen" event in the other.  Seen events move known IDs without parsing;
 * gone events are held until the batch of events has been read, and only
 * then remove the IDs that are still in the queue they left and were not
 * seen again after leaving.
 *
 * A reconcile lists a queue only when one of its directories changed
 * since it was last listed (its inode or mtime): a directory's mtime moves
 * with every entry added, removed or renamed.
 */
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "addr.h"
#include "htab.h"
#include "log.h"
#include "mem.h"
#include "qfile.h"
#include "qwalk.h"
#include "shm.h"
#include "scanner.h"
#include "watch.h"

#define RC_THREADS	2		/* reconcile walkers */

/* A directory as it was when its queue was last listed. */
typedef struct DIRSIG {
    int     queue;
    char   *path;			/* relative to the base, or absolute */
    dev_t   dev;
    ino_t   ino;
    struct timespec mtime;
} DIRSIG;

typedef struct GONE {
    char    id[IX_ID_MAX + 1];
    int     queue;
} GONE;

struct SCANNER {
    SC_CONF conf;
    TH_POLICY *th;			/* conf.policy[].th, contiguous */
    int     active;			/* index of the active queue, or -1 */
    IX     *ix;
    WATCH  *watch;
    QFILE_READER *reader;
    SHM_W  *shm;
    TH_STATE state;
    GONE   *gone;
    size_t  ngone;
    size_t  gone_cap;
    int     dirty;			/* changed since the last publication */
    int64_t last_pub_ms;
    int64_t last_reconcile;
    SC_STATS stats;
    DIRSIG *sig;			/* directories of the listed queues */
    size_t  nsig;
    size_t  sigcap;
    int64_t listed_ns[QS_MAX_QUEUES];	/* when each was last listed, 0 never */
};

static const char *const kind_name[QS_NKEYKINDS] = {
    "sender_domain", "parent_domain", "sender", "client_address",
    "sasl_username", "rcpt_domain",
};

static void sig_keep(SCANNER *, unsigned);

SCANNER *
sc_create(const SC_CONF *conf, char *err, size_t errlen)
{
    SCANNER *sc = xcalloc(1, sizeof(*sc));
    SHM_GEOM geom;
    size_t  p;

    sc->conf = *conf;
    sc->th = xcalloc(conf->npolicy + 1, sizeof(*sc->th));
    for (p = 0; p < conf->npolicy; p++)
	sc->th[p] = conf->policy[p].th;
    sc->ix = ix_create(&conf->geom);
    sc->active = -1;
    for (p = 0; p < (size_t) conf->nqueues; p++)
	if (strcmp(conf->queues[p], "active") == 0)
	    sc->active = (int) p;
    if ((sc->reader = qfile_reader_create()) == 0) {
	snprintf(err, errlen, "out of memory");
	goto bad;
    }
    if ((sc->watch = watch_create(conf->base_fd, conf->queues,
				  conf->nqueues, err, errlen)) == 0)
	goto bad;
    geom.max_keys = conf->top_keys * QS_NKEYKINDS;
    geom.max_throttle = conf->max_throttled;
    if ((sc->shm = shm_writer_create(conf->summary_file, &geom, conf->gid,
				     err, errlen)) == 0)
	goto bad;
    return sc;

bad:
    sc_destroy(sc);
    return 0;
}

void
sc_destroy(SCANNER *sc)
{
    if (sc == 0)
	return;
    shm_writer_destroy(sc->shm);
    watch_destroy(sc->watch);
    qfile_reader_destroy(sc->reader);
    ix_destroy(sc->ix);
    th_state_free(&sc->state);
    free(sc->th);
    free(sc->gone);
    sig_keep(sc, 0);
    free(sc->sig);
    free(sc);
}

void
sc_inherit(SCANNER *to, const SCANNER *from)
{
    size_t  i, p;
    TH_STATE *st = &to->state;

    for (i = 0; i < from->state.n; i++) {
	const TH_ENTRY *e = &from->state.entry[i];
	const TH_POLICY *was = &from->th[e->policy];

	for (p = 0; p < to->conf.npolicy; p++)
	    if (strcmp(to->th[p].name, was->name) == 0
		&& to->th[p].kind == was->kind)
		break;
	if (p == to->conf.npolicy)
	    continue;
	if (st->n == st->cap) {
	    st->cap = st->cap ? 2 * st->cap : 16;
	    st->entry = xrealloc(st->entry, st->cap * sizeof(*st->entry));
	}
	st->entry[st->n] = *e;
	st->entry[st->n].policy = (int) p;
	st->entry[st->n].key = memcpy(xmalloc(e->len + 1), e->key, e->len + 1);
	st->n++;
    }
}

int
sc_fd(const SCANNER *sc)
{
    return watch_fd(sc->watch);
}

const IX *
sc_index(const SCANNER *sc)
{
    return sc->ix;
}

void
sc_stats(const SCANNER *sc, SC_STATS *st)
{
    *st = sc->stats;
}

/* Parse a file the index does not know yet, or knows no longer well.
 * Returns 1 when the index now reflects the file. */
static int
learn(SCANNER *sc, int queue, int dirfd, const char *name)
{
    QFILE_RESULT res;

    switch (qfile_read(sc->reader, dirfd, name, QF_WANT_RCPTS, &res)) {
    case QFILE_OK:
	if (!qf_counts(res.facts)) {		/* everything delivered */
	    if (ix_remove(sc->ix, name))
		sc->dirty = 1;
	} else if (ix_put(sc->ix, name, queue, res.facts, res.mtime) == 0) {
	    sc->stats.parsed++;
	    sc->dirty = 1;
	}
	return 1;
    case QFILE_NOT_READY:			/* the chmod will tell us */
	return 0;
    case QFILE_VANISHED:			/* its next event will */
    case QFILE_NOT_REGULAR:
	sc->stats.vanished++;
	return 0;
    case QFILE_CORRUPT:
	log_warnx("%s: %s: %s", sc->conf.queues[queue], name,
		  qf_strerror(res.qf_status));
	sc->stats.skipped++;
	return 0;
    default:
	sc->stats.skipped++;
	return 0;
    }
}

/* A file seen again cancels the gone events before it in the batch
 * (active -> deferred -> active within one read of events). */
static void
forget_gone(SCANNER *sc, const char *name)
{
    size_t  i;

    for (i = 0; i < sc->ngone;) {
	if (strcmp(sc->gone[i].id, name) == 0)
	    sc->gone[i] = sc->gone[--sc->ngone];
	else
	    i++;
    }
}

static void
on_event(void *ctx, int queue, int dirfd, const char *name, int what)
{
    SCANNER *sc = ctx;
    int     was = ix_queue_of(sc->ix, name);

    if (what == WATCH_GONE) {
	if (was != queue || strlen(name) > IX_ID_MAX)
	    return;
	if (sc->ngone == sc->gone_cap) {
	    sc->gone_cap = sc->gone_cap ? 2 * sc->gone_cap : 64;
	    sc->gone = xrealloc(sc->gone, sc->gone_cap * sizeof(*sc->gone));
	}
	strcpy(sc->gone[sc->ngone].id, name);
	sc->gone[sc->ngone++].queue = queue;
	return;
    }
    forget_gone(sc, name);			/* it is back, or elsewhere */
    if (what == WATCH_WRITTEN && was == queue) {
	(void) learn(sc, queue, dirfd, name);	/* recipients marked done */
    } else if (was < 0) {
	(void) learn(sc, queue, dirfd, name);
    } else if (was != queue && was == sc->active
	       && learn(sc, queue, dirfd, name)) {
	/* read again after its delivery attempts */
    } else if (was != queue) {
	ix_move(sc->ix, name, queue);
	sc->stats.moved++;
	sc->dirty = 1;
    }
}

int
sc_events(SCANNER *sc)
{
    int     rc = watch_read(sc->watch, on_event, sc);
    size_t  i;

    for (i = 0; i < sc->ngone; i++) {
	if (ix_queue_of(sc->ix, sc->gone[i].id) == sc->gone[i].queue) {
	    ix_remove(sc->ix, sc->gone[i].id);
	    sc->stats.removed++;
	    sc->dirty = 1;
	}
    }
    sc->ngone = 0;
    if (rc < 0) {
	log_warn("read inotify events");
	return 1;
    }
    return rc;
}

/* The walk shares directories among threads; the index takes one at a
 * time.  Most of a reconcile is getdents(), which runs in parallel.  The
 * walk sees only the queues that need a listing: map[] gives their index. */
static pthread_mutex_t rc_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct RC {
    SCANNER *sc;
    int     map[QS_MAX_QUEUES];
} RC;

static int
rc_known(void *ctx, int queue, const char *id)
{
    RC     *rc = ctx;
    int     known;

    pthread_mutex_lock(&rc_lock);
    known = ix_mark(rc->sc->ix, id, rc->map[queue]);
    pthread_mutex_unlock(&rc_lock);
    return known;
}

static void
rc_parsed(void *ctx, const QW_MSG *m)
{
    RC     *rc = ctx;

    pthread_mutex_lock(&rc_lock);
    if (qf_counts(m->facts) && ix_put(rc->sc->ix, m->id, rc->map[m->queue],
				      m->facts, m->mtime) == 0)
	rc->sc->stats.parsed++;
    pthread_mutex_unlock(&rc_lock);
}

/* Record each directory as it is opened, before it is listed. */
static void
rc_dir(void *ctx, int queue, const char *path, const struct stat *st)
{
    RC     *rc = ctx;
    SCANNER *sc = rc->sc;

    pthread_mutex_lock(&rc_lock);
    if (sc->nsig == sc->sigcap) {
	sc->sigcap = sc->sigcap ? 2 * sc->sigcap : 64;
	sc->sig = xrealloc(sc->sig, sc->sigcap * sizeof(*sc->sig));
    }
    sc->sig[sc->nsig++] = (DIRSIG) {rc->map[queue], xstrdup(path),
				    st->st_dev, st->st_ino, st->st_mtim};
    pthread_mutex_unlock(&rc_lock);
}

/* Keep the signatures of the queues in 'keep' (a bit per queue). */
static void
sig_keep(SCANNER *sc, unsigned keep)
{
    size_t  i, n = 0;

    for (i = 0; i < sc->nsig; i++) {
	if (keep & (1u << sc->sig[i].queue))
	    sc->sig[n++] = sc->sig[i];
	else
	    free(sc->sig[i].path);
    }
    sc->nsig = n;
}

/*
 * Has the membership of a queue surely not changed since it was listed?
 * A directory's mtime changes with every entry added, removed or renamed;
 * an mtime within a second of the listing is not trusted.
 */
static int
unchanged(const SCANNER *sc, int queue)
{
    struct stat st;
    size_t  i, n = 0;

    if (sc->listed_ns[queue] == 0)
	return 0;
    for (i = 0; i < sc->nsig; i++) {
	const DIRSIG *d = &sc->sig[i];
	int64_t ns = (int64_t) d->mtime.tv_sec * 1000000000 + d->mtime.tv_nsec;

	if (d->queue != queue)
	    continue;
	n++;
	if (fstatat(d->path[0] == '/' ? AT_FDCWD : sc->conf.base_fd, d->path,
		    &st, AT_SYMLINK_NOFOLLOW) < 0
	    || st.st_dev != d->dev || st.st_ino != d->ino
	    || st.st_mtim.tv_sec != d->mtime.tv_sec
	    || st.st_mtim.tv_nsec != d->mtime.tv_nsec
	    || ns + 1000000000 > sc->listed_ns[queue])
	    return 0;
    }
    return n > 0;
}

static int64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
sc_reconcile(SCANNER *sc, int64_t now)
{
    QW_OPTS o = {sc->conf.base_fd, QF_WANT_RCPTS, RC_THREADS, rc_known,
		 rc_dir};
    QW_STATS st;
    RC      rc = {sc, {0}};
    void   *ctx[RC_THREADS] = {&rc, &rc};
    const char *list[QS_MAX_QUEUES];
    char    err[256];
    size_t  before = ix_messages(sc->ix), gone;
    int64_t t0 = now_ns();
    unsigned skipped = 0;
    int     q, n = 0;

    /* Events that arrive during the walk are applied afterwards. */
    ix_mark_begin(sc->ix);
    for (q = 0; q < sc->conf.nqueues; q++) {
	if (unchanged(sc, q)) {
	    ix_mark_queue(sc->ix, q);
	    skipped |= 1u << q;
	} else {
	    rc.map[n] = q;
	    list[n++] = sc->conf.queues[q];
	}
    }
    sig_keep(sc, skipped);
    if (qw_walk(list, n, &o, rc_parsed, ctx, &st, err, sizeof(err)) < 0) {
	log_warnx("reconcile: %s", err);
	return;
    }
    for (q = 0; q < n; q++)
	sc->listed_ns[rc.map[q]] = t0;
    sc->stats.queues_listed += (uint64_t) n;
    gone = ix_sweep(sc->ix);
    sc->stats.removed += gone;
    sc->stats.reconciles++;
    sc->last_reconcile = now;
    sc->dirty = 1;
    if (st.corrupt || st.unreadable || st.bad_dirs)
	log_warnx("reconcile: %llu corrupt, %llu unreadable, %llu queue "
		  "directories not read (first: %s)",
		  (unsigned long long) st.corrupt,
		  (unsigned long long) st.unreadable,
		  (unsigned long long) st.bad_dirs, st.first_problem);
    log_debug("reconcile: %zu messages (%llu new, %zu gone, was %zu; "
	      "%d of %d queues listed)", ix_messages(sc->ix),
	      (unsigned long long) st.parsed, gone, before, n,
	      sc->conf.nqueues);
}

int64_t
sc_publish_due(const SCANNER *sc, int64_t now_ms)
{
    int64_t since = now_ms - sc->last_pub_ms;
    int64_t wait = sc->conf.heartbeat_interval_ms - since;

    if (sc->dirty && sc->conf.publish_interval_ms - since < wait)
	wait = sc->conf.publish_interval_ms - since;
    return wait < 0 ? 0 : wait;
}

static void
set_key(QS_KEY *k, int kind, const char *key, size_t len)
{
    size_t  n = len < QS_KEY_BYTES - 1 ? len : QS_KEY_BYTES - 1;

    k->hash = qs_key_hash(kind, key, len);
    k->len = (uint16_t) (len > UINT16_MAX ? UINT16_MAX : len);
    k->truncated = len >= QS_KEY_BYTES;
    memcpy(k->text, key, n);
}

/* qshape's subdomain count of each published parent row: the distinct
 * published domains and parents whose parent it is. */
static void
count_subdomains(QS_KEY *key, const QS_TABLE *tab)
{
    const QS_TABLE *pt = &tab[QS_KEY_PARENT_DOMAIN];
    HTAB   *h = htab_create(sizeof(uint32_t));
    static const int kinds[2] = {QS_KEY_SENDER_DOMAIN, QS_KEY_PARENT_DOMAIN};
    char    buf[QS_KEY_BYTES + 2];
    uint32_t i, *v;
    int     k;

    for (i = 0; i < pt->nrows; i++) {
	QS_KEY *row = &key[pt->first + i];

	*(uint32_t *) htab_insert(h, row->text, strlen(row->text), 0) =
	    pt->first + i + 1;
    }
    for (k = 0; k < 2; k++) {
	const QS_TABLE *t = &tab[kinds[k]];

	for (i = 0; i < t->nrows; i++) {
	    const char *s = key[t->first + i].text;
	    size_t  n = addr_qshape_parent(s, strlen(s), buf);

	    if (n > 0 && (v = htab_find(h, buf, n)) != 0)
		key[*v - 1].subdomains++;
	}
    }
    htab_destroy(h);
}

static void
publish_keys(SCANNER *sc, void *body, int64_t now)
{
    QS_BODY *b = body;
    QS_TABLE *tab = shm_body_table(body);
    QS_KEY *key = shm_body_key(body);
    IX_RANK rank[QS_NKEYKINDS];
    uint32_t used = 0;
    int     kind, q;
    size_t  r;

    ix_count_all(sc->ix, (1u << QS_NKEYKINDS) - 1, now, sc->conf.top_keys,
		 rank);
    for (kind = 0; kind < QS_NKEYKINDS; kind++) {
	tab[kind].first = used;
	tab[kind].nrows = (uint32_t) rank[kind].nrows;
	tab[kind].ndistinct = rank[kind].ndistinct;
	tab[kind].other_messages = rank[kind].other;
	for (r = 0; r < rank[kind].nrows; r++, used++) {
	    const IX_ROW *row = &rank[kind].row[r];

	    set_key(&key[used], kind, row->key, row->len);
	    for (q = 0; q < sc->conf.nqueues; q++)
		memcpy(key[used].count[q], row->count[q],
		       sizeof(key[used].count[q]));
	}
    }
    b->nkeys = used;
    count_subdomains(key, tab);
}

/* Log keys entering and leaving the throttled state. */
static void
log_changes(SCANNER *sc, const TH_STATE *old, const TH_STATE *new)
{
    size_t  i;

    for (i = 0; i < new->n; i++) {
	const TH_ENTRY *e = &new->entry[i];
	const SC_POLICY *p = &sc->conf.policy[e->policy];

	if (!th_find(old, e->policy, e->key, e->len))
	    log_info("throttle on: policy=%s key=%s:%s count=%u total=%u "
		     "share=%.2f", p->th.name, kind_name[p->th.kind], e->key,
		     e->count, e->total, (double) e->count / e->total);
    }
    for (i = 0; i < old->n; i++) {
	const TH_ENTRY *e = &old->entry[i];
	const SC_POLICY *p = &sc->conf.policy[e->policy];

	if (!th_find(new, e->policy, e->key, e->len))
	    log_info("throttle off: policy=%s key=%s:%s",
		     p->th.name, kind_name[p->th.kind], e->key);
    }
}

static void
run_policies(SCANNER *sc, void *body, int64_t now)
{
    TH_INPUT *in = xcalloc(sc->conf.npolicy + 1, sizeof(*in));
    TH_STATE next;
    QS_THROTTLE *th = shm_body_throttle(body);
    size_t  p, i, n = 0;

    for (p = 0; p < sc->conf.npolicy; p++) {
	TH_COUNT *copy;

	ix_policy_input(sc->ix, &sc->conf.policy[p].window, now, &in[p]);
	copy = xmalloc((in[p].nkeys + 1) * sizeof(*copy));
	memcpy(copy, in[p].keys, in[p].nkeys * sizeof(*copy));
	in[p].keys = copy;
    }
    if (th_step(sc->th, sc->conf.npolicy, in, &sc->state, now, &next) < 0) {
	log_warnx("throttle: out of memory, keeping the previous state");
    } else {
	log_changes(sc, &sc->state, &next);
	th_state_free(&sc->state);
	sc->state = next;
    }
    for (p = 0; p < sc->conf.npolicy; p++)
	free((void *) in[p].keys);
    free(in);
    for (i = 0; i < sc->state.n && n < sc->conf.max_throttled; i++, n++) {
	const TH_ENTRY *e = &sc->state.entry[i];
	const SC_POLICY *pol = &sc->conf.policy[e->policy];

	shm_throttle_set_key(&th[n], pol->th.kind, e->key, e->len);
	th[n].action = (uint8_t) pol->th.action;
	th[n].policy = (uint16_t) e->policy;
	th[n].policy_digest = pol->digest;
	th[n].count = e->count;
	th[n].total = e->total;
	th[n].share_ppm = e->total ?
	    (uint32_t) ((uint64_t) e->count * 1000000 / e->total) : 0;
	th[n].enter_count = e->enter_count;
	th[n].enter_total = e->enter_total;
	th[n].since = e->since;
	th[n].hold_until = e->hold_until;
	snprintf(th[n].policy_name, sizeof(th[n].policy_name), "%s",
		 pol->th.name);
    }
    if (n < sc->state.n)
	log_warnx("throttle: %zu keys throttled, only %u published "
		  "(scanner.max_throttled)", sc->state.n,
		  sc->conf.max_throttled);
    ((QS_BODY *) body)->nthrottle = (uint32_t) n;
}

void
sc_publish(SCANNER *sc, int64_t now_ms)
{
    void   *body;
    QS_BODY *b;
    QS_QUEUE *queue;
    uint32_t totals[QS_MAX_QUEUES][QS_MAX_BUCKETS + 1];
    int64_t now = now_ms / 1000;
    int     q;

    shm_writer_clear(sc->shm);
    body = shm_writer_body(sc->shm);
    b = body;
    queue = shm_body_queue(body);
    ix_queue_totals(sc->ix, now, totals);
    for (q = 0; q < sc->conf.nqueues; q++) {
	snprintf(queue[q].name, sizeof(queue[q].name), "%s",
		 sc->conf.queues[q]);
	memcpy(queue[q].count, totals[q], sizeof(queue[q].count));
    }
    publish_keys(sc, body, now);
    run_policies(sc, body, now);
    b->published = now;
    b->published_ns = (now_ms % 1000) * 1000000;
    b->last_reconcile = sc->last_reconcile;
    b->nqueues = (uint32_t) sc->conf.nqueues;
    b->nbuckets = (uint32_t) sc->conf.geom.nbuckets;
    b->bucket_minutes = (uint32_t) sc->conf.geom.bucket_minutes;
    b->linear = (uint32_t) sc->conf.geom.linear;
    b->messages = (uint32_t) ix_messages(sc->ix);
    b->policies_digest = sc->conf.policies_digest;
    shm_writer_publish(sc->shm, now);
    sc->stats.publications++;
    sc->last_pub_ms = now_ms;
    sc->dirty = 0;
}

/*
 * scanner - the state of qshape-scand: the handle, the throttle state
 * machine and publication.  See scanner.h.
 *
 * Events (sc_events.c) and reconciles (sc_reconcile.c) keep the index;
 * sc_publish() runs the policies over it and has sc_body.c build the
 * summary body, which the shm writer publishes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qshape/vocab.h"
#include "log.h"
#include "mem.h"
#include "sc_body.h"
#include "scanner_int.h"

SCANNER *
sc_create(const SC_CONF *conf, char *err, size_t errlen)
{
    SCANNER *sc = xcalloc(1, sizeof(*sc));
    SHM_GEOM geom;
    size_t  p;

    sc->conf = *conf;
    sc->stats.start_time = (int64_t) time(0);
    sc->th = xcalloc(conf->npolicy + 1, sizeof(*sc->th));
    for (p = 0; p < conf->npolicy; p++)
	sc->th[p] = conf->policy[p].th;
    sc->ix = ix_create(&conf->geom);
    sc->active = -1;
    sc->deadline_ms = INT64_MAX;
    if (conf->counters_file && (sc->counters = ct_reader_create()) == 0) {
	snprintf(err, errlen, "out of memory");
	goto bad;
    }
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
    ct_reader_destroy(sc->counters);
    free(sc->th);
    free(sc->gone);
    sc_reconcile_forget(sc);
    free(sc);
}

/* The state's times are monotonic seconds of this process's boot, so a
 * successor in the same process takes them as they are. */
void
sc_inherit(SCANNER *to, const SCANNER *from)
{
    size_t  i, p;
    TH_STATE *st = &to->state;

    to->stats = from->stats;
    /* An unreadable counters file was logged once: not again at each
     * reload, while it is the same file. */
    if (to->conf.counters_file && from->conf.counters_file
	&& strcmp(to->conf.counters_file, from->conf.counters_file) == 0) {
	to->counters_bad = from->counters_bad;
	to->metrics_ct_bad = from->metrics_ct_bad;
    }
    memset(to->stats.policy_enters, 0, sizeof(to->stats.policy_enters));
    memset(to->stats.policy_leaves, 0, sizeof(to->stats.policy_leaves));
    for (p = 0; p < to->conf.npolicy && p < QS_MAX_POLICIES; p++)
	for (i = 0; i < from->conf.npolicy && i < QS_MAX_POLICIES; i++)
	    if (strcmp(to->th[p].name, from->th[i].name) == 0) {
		to->stats.policy_enters[p] = from->stats.policy_enters[i];
		to->stats.policy_leaves[p] = from->stats.policy_leaves[i];
		break;
	    }
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

static int64_t
clock_ms(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

SC_TIME
sc_now(void)
{
    SC_TIME t;

    t.wall_ms = clock_ms(CLOCK_REALTIME);
    t.mono_ms = clock_ms(CLOCK_MONOTONIC);
    return t;
}

int64_t
sc_publish_due(const SCANNER *sc, SC_TIME now)
{
    int64_t since = now.mono_ms - sc->last_pub_mono_ms;
    int64_t wait = sc->conf.heartbeat_interval_ms - since;

    if (sc->dirty && sc->conf.publish_interval_ms - since < wait)
	wait = sc->conf.publish_interval_ms - since;
    if (sc->deadline_ms != INT64_MAX && sc->deadline_ms - now.mono_ms < wait)
	wait = sc->deadline_ms - now.mono_ms;
    return wait < 0 ? 0 : wait;
}

/* Log keys entering and leaving the throttled state. */
static void
log_changes(SCANNER *sc, const TH_STATE *old, const TH_STATE *new)
{
    char    kept[64];
    TH_INDEX oi, ni;			/* a failed index scans instead */
    size_t  i;

    (void) th_index(&oi, old);
    (void) th_index(&ni, new);
    for (i = 0; i < new->n; i++) {
	const TH_ENTRY *e = &new->entry[i];
	const SC_POLICY *p = &sc->conf.policy[e->policy];

	if (!th_index_find(&oi, old, e->policy, e->key, e->len)) {
	    sc->stats.throttle_enters++;
	    if (e->policy >= 0 && e->policy < QS_MAX_POLICIES)
		sc->stats.policy_enters[e->policy]++;
	    log_info("throttle on: policy=%s key=%s:%s count=%u total=%u "
		     "share=%.2f kept=%s", p->th.name,
		     qs_kind_name(p->th.kind), e->key, e->count, e->total,
		     (double) e->count / e->total,
		     th_kept_names(e->kept, kept, sizeof(kept)));
	}
    }
    for (i = 0; i < old->n; i++) {
	const TH_ENTRY *e = &old->entry[i];
	const SC_POLICY *p = &sc->conf.policy[e->policy];

	if (!th_index_find(&ni, new, e->policy, e->key, e->len)) {
	    sc->stats.throttle_leaves++;
	    if (e->policy >= 0 && e->policy < QS_MAX_POLICIES)
		sc->stats.policy_leaves[e->policy]++;
	    log_info("throttle off: policy=%s key=%s:%s: min_hold_time over, "
		     "no pressure for pressure_time, and the queue no longer "
		     "calls for it", p->th.name, qs_kind_name(p->th.kind),
		     e->key);
	}
    }
    th_index_free(&oi);
    th_index_free(&ni);
}

/*
 * The pressure on the throttled keys: a fresh copy of the milter's
 * counters, and per throttled key its latest match (monotonic ms).
 * Returns an array of npolicy TH_PRESSURE_IN (keys in *keys), or NULL
 * when there is nothing to read.
 */
static TH_PRESSURE_IN *
read_pressure(SCANNER *sc, TH_PRESSURE **keys)
{
    TH_PRESSURE_IN *pr;
    char    err[512];
    size_t  i, n = 0;

    *keys = 0;
    if (sc->counters == 0 || sc->state.n == 0)
	return 0;
    if (ct_read(sc->counters, sc->conf.counters_file, err, sizeof(err)) < 0) {
	if (!sc->counters_bad)
	    log_warnx("counters %s: %s: no pressure from the milter until "
		      "it can be read", sc->conf.counters_file, err);
	sc->counters_bad = 1;
	return 0;
    }
    if (sc->counters_bad)
	log_info("counters %s: readable again", sc->conf.counters_file);
    sc->counters_bad = 0;
    pr = xcalloc(sc->conf.npolicy + 1, sizeof(*pr));
    *keys = xcalloc(sc->state.n, sizeof(**keys));
    /* The state is grouped by nothing: give each policy its own run. */
    for (i = 0; i < sc->conf.npolicy; i++) {
	size_t  j;

	pr[i].key = *keys + n;
	for (j = 0; j < sc->state.n; j++) {
	    const TH_ENTRY *e = &sc->state.entry[j];
	    const SC_POLICY *p = &sc->conf.policy[e->policy];
	    int64_t ns;

	    if (e->policy != (int) i)
		continue;
	    ns = ct_last(sc->counters, p->digest, p->th.kind,
			 qs_key_hash(p->th.kind, e->key, e->len));
	    if (ns == INT64_MIN)
		continue;
	    (*keys)[n].key = e->key;
	    (*keys)[n].len = e->len;
	    (*keys)[n].last = ns / 1000000;
	    n++;
	    pr[i].nkeys++;
	}
    }
    return pr;
}

/* One step of the state machine: windows counted by message age (wall
 * clock), state times on the monotonic clock in milliseconds. */
static void
run_policies(SCANNER *sc, SC_TIME now)
{
    TH_INPUT *in = xcalloc(sc->conf.npolicy + 1, sizeof(*in));
    TH_PRESSURE *pkeys;
    TH_PRESSURE_IN *pr;
    TH_STATE next;
    size_t  p;

    for (p = 0; p < sc->conf.npolicy; p++) {
	TH_COUNT *copy;

	ix_policy_input(sc->ix, &sc->conf.policy[p].window,
			now.wall_ms / 1000, &in[p]);
	copy = xmalloc((in[p].nkeys + 1) * sizeof(*copy));
	memcpy(copy, in[p].keys, in[p].nkeys * sizeof(*copy));
	in[p].keys = copy;
    }
    pr = read_pressure(sc, &pkeys);
    if (th_step_pressure(sc->th, sc->conf.npolicy, in, pr, &sc->state,
			 now.mono_ms, &next) < 0) {
	log_warnx("throttle: out of memory, keeping the previous state");
    } else {
	log_changes(sc, &sc->state, &next);
	th_state_free(&sc->state);
	sc->state = next;
    }
    sc->deadline_ms = th_next_deadline(sc->th, &sc->state, now.mono_ms);
    for (p = 0; p < sc->conf.npolicy; p++)
	free((void *) in[p].keys);
    free(in);
    free(pr);
    free(pkeys);
}

void
sc_publish(SCANNER *sc, SC_TIME now)
{
    void   *body;
    SC_BODY_IN in;
    SC_BODY_OUT out;
    size_t  left;

    run_policies(sc, now);
    shm_writer_clear(sc->shm);
    body = shm_writer_body(sc->shm);
    in = (SC_BODY_IN) {&sc->conf, sc->ix, &sc->state, now,
		       sc->last_reconcile, &sc->stats};
    out = (SC_BODY_OUT) {body, shm_body_queue(body), shm_body_table(body),
			 shm_body_key(body), sc->conf.top_keys * QS_NKEYKINDS,
			 shm_body_throttle(body), sc->conf.max_throttled,
			 shm_body_policy(body)};
    if ((left = sc_body_build(&in, &out)) > 0)
	log_warnx("throttle: %zu keys throttled, only %u published "
		  "(scanner.max_throttled)", sc->state.n,
		  sc->conf.max_throttled);
    shm_writer_publish(sc->shm, now.wall_ms / 1000);
    sc->stats.publications++;
    sc->last_pub_mono_ms = now.mono_ms;
    sc->dirty = 0;
}

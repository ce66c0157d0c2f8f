/*
 * index - the scanner's live index of the queue.  See index.h.
 *
 * Messages live in an array with a free list; an open-addressing map
 * (linear probing, backward-shift deletion) finds them by queue ID.  Keys
 * are interned per kind as numbers; a sender domain's entry links to its
 * parent domain's, and parents to theirs.  Keys are never freed one by
 * one: when dead keys outnumber live messages, ix_sweep() rebuilds the key
 * tables from the messages.
 */
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "htab.h"
#include "mem.h"
#include "qtab.h"
#include "index.h"

#define RCPT_INLINE	2

typedef struct MSG {
    char    id[IX_ID_MAX + 1];		/* "" when the slot is free */
    int64_t arrival;			/* seconds */
    uint32_t sdom;			/* sender domain key, 0 = none */
    uint32_t sender;
    uint32_t client;
    uint32_t sasl;
    uint32_t rcpt_inline[RCPT_INLINE];	/* recipient domain keys */
    uint32_t *rcpt_more;		/* when nrcpt > RCPT_INLINE */
    uint32_t nrcpt;
    uint8_t queue;
    uint8_t mark;
} MSG;

typedef struct KEY {
    const char *str;			/* owned by the kind's htab */
    size_t  len;
    uint32_t parent;			/* parent-domain key, 0 = none */
} KEY;

typedef struct KIND {
    HTAB   *map;			/* string -> uint32 id */
    KEY    *key;			/* [1..n] */
    uint32_t n;
    uint32_t cap;
} KIND;

/* Per kind of key: totals by key, row of each ranked key, the rows. */
typedef struct COUNT {
    uint32_t *tot;
    int32_t *rowof;
    size_t  cap;
    IX_ROW *rows;
    size_t  rows_cap;
} COUNT;

struct IX {
    IX_GEOM geom;
    MSG    *msg;			/* [1..nmsg_cap) */
    uint32_t msg_cap;
    uint32_t *free_list;
    uint32_t nfree;
    uint32_t used;			/* highest slot handed out + 1 */
    size_t  live;
    uint32_t *slot;			/* id map: message index, 0 = empty */
    size_t  nslot;
    KIND    kind[QS_NKEYKINDS];
    /* Scratch for counting, per kind of key. */
    COUNT   cnt[QS_NKEYKINDS];
    uint8_t *bkt;			/* age bucket of each message slot */
    size_t  bkt_cap;
    TH_COUNT *counts;
    size_t  counts_cap;
    char   *buf;
    size_t  buf_cap;
};

/* FNV-1a: queue IDs are made by Postfix, not by a sender. */
static uint64_t
id_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (; *s; s++)
	h = (h ^ (unsigned char) *s) * 0x100000001b3ULL;
    return h;
}

IX     *
ix_create(const IX_GEOM *g)
{
    IX     *ix = xcalloc(1, sizeof(*ix));
    int     k;

    ix->geom = *g;
    ix->nslot = 1024;
    ix->slot = xcalloc(ix->nslot, sizeof(*ix->slot));
    ix->used = 1;
    for (k = 0; k < QS_NKEYKINDS; k++)
	ix->kind[k].map = htab_create(sizeof(uint32_t));
    return ix;
}

static void
kinds_free(IX *ix)
{
    int     k;

    for (k = 0; k < QS_NKEYKINDS; k++) {
	htab_destroy(ix->kind[k].map);
	free(ix->kind[k].key);
	memset(&ix->kind[k], 0, sizeof(ix->kind[k]));
    }
}

void
ix_destroy(IX *ix)
{
    uint32_t i;

    if (ix == 0)
	return;
    for (i = 1; i < ix->used; i++)
	free(ix->msg[i].rcpt_more);
    kinds_free(ix);
    free(ix->msg);
    free(ix->free_list);
    free(ix->slot);
    for (i = 0; i < QS_NKEYKINDS; i++) {
	free(ix->cnt[i].tot);
	free(ix->cnt[i].rowof);
	free(ix->cnt[i].rows);
    }
    free(ix->bkt);
    free(ix->counts);
    free(ix->buf);
    free(ix);
}

/* Intern a key of a kind; parent domains are linked for sender domains. */
static uint32_t
intern(IX *ix, int kind, const char *s, size_t len)
{
    KIND   *kd = &ix->kind[kind];
    int     created;
    uint32_t *v = htab_insert(kd->map, s, len, &created);
    size_t  plen;
    char   *pbuf;

    if (!created)
	return *v;
    if (kd->n + 2 > kd->cap) {
	kd->cap = kd->cap ? 2 * kd->cap : 256;
	kd->key = xrealloc(kd->key, kd->cap * sizeof(*kd->key));
    }
    *v = ++kd->n;
    kd->key[*v] = (KEY) {htab_entry(kd->map, htab_count(kd->map) - 1).key,
			 len, 0};
    if (kind == QS_KEY_SENDER_DOMAIN || kind == QS_KEY_PARENT_DOMAIN) {
	pbuf = xmalloc(len + 2);
	if ((plen = addr_qshape_parent(s, len, pbuf)) > 0) {
	    uint32_t p = intern(ix, QS_KEY_PARENT_DOMAIN, pbuf, plen);

	    ix->kind[kind].key[*v].parent = p;
	}
	free(pbuf);
    }
    return *v;
}

static char *
buf(IX *ix, size_t need)
{
    if (need > ix->buf_cap) {
	ix->buf = xrealloc(ix->buf, need);
	ix->buf_cap = need;
    }
    return ix->buf;
}

static uint32_t
intern_domain(IX *ix, int kind, const char *addr, size_t len)
{
    char   *b = buf(ix, ADDR_DOMAIN_BUFSIZE(len));
    size_t  n = addr_qshape_domain(addr, len, b);

    return intern(ix, kind, b, n);
}

static uint32_t
intern_sender(IX *ix, const char *addr, size_t len)
{
    char   *b = buf(ix, ADDR_DOMAIN_BUFSIZE(len));
    size_t  n = addr_sender_key(addr, len, b);

    return intern(ix, QS_KEY_SENDER, b, n);
}

static size_t
probe(const IX *ix, const char *id, int *found)
{
    size_t  mask = ix->nslot - 1;
    size_t  i = (size_t) id_hash(id) & mask;

    for (;; i = (i + 1) & mask) {
	uint32_t s = ix->slot[i];

	if (s == 0) {
	    *found = 0;
	    return i;
	}
	if (strcmp(ix->msg[s].id, id) == 0) {
	    *found = 1;
	    return i;
	}
    }
}

static void
map_grow(IX *ix)
{
    uint32_t *old = ix->slot;
    size_t  i, n = ix->nslot;
    int     found;

    ix->nslot *= 2;
    ix->slot = xcalloc(ix->nslot, sizeof(*ix->slot));
    for (i = 0; i < n; i++)
	if (old[i])
	    ix->slot[probe(ix, ix->msg[old[i]].id, &found)] = old[i];
    free(old);
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void
map_delete(IX *ix, size_t i)
{
    size_t  mask = ix->nslot - 1;
    size_t  j = i;

    for (;;) {
	size_t  home;

	j = (j + 1) & mask;
	if (ix->slot[j] == 0)
	    break;
	home = (size_t) id_hash(ix->msg[ix->slot[j]].id) & mask;
	/* Move slot j back to i unless its home lies in (i, j]. */
	if ((j > i && (home <= i || home > j))
	    || (j < i && home <= i && home > j)) {
	    ix->slot[i] = ix->slot[j];
	    i = j;
	}
    }
    ix->slot[i] = 0;
}

static uint32_t
msg_alloc(IX *ix)
{
    if (ix->nfree)
	return ix->free_list[--ix->nfree];
    if (ix->used >= ix->msg_cap) {
	ix->msg_cap = ix->msg_cap ? 2 * ix->msg_cap : 1024;
	ix->msg = xrealloc(ix->msg, ix->msg_cap * sizeof(*ix->msg));
	ix->free_list = xrealloc(ix->free_list,
				 ix->msg_cap * sizeof(*ix->free_list));
    }
    return ix->used++;
}

static void
fill(IX *ix, MSG *m, int queue, const QF_FACTS *f, int64_t mtime)
{
    size_t  i;
    uint32_t *r;

    m->arrival = f->has_time ? f->time_sec : mtime;
    m->queue = (uint8_t) queue;
    m->mark = 1;
    m->sdom = intern_domain(ix, QS_KEY_SENDER_DOMAIN, f->sender.ptr,
			    f->sender.len);
    m->sender = intern_sender(ix, f->sender.ptr, f->sender.len);
    m->client = f->client_address.ptr && f->client_address.len ?
	intern(ix, QS_KEY_CLIENT_ADDRESS, f->client_address.ptr,
	       f->client_address.len) : 0;
    m->sasl = f->sasl_username.ptr && f->sasl_username.len ?
	intern(ix, QS_KEY_SASL_USERNAME, f->sasl_username.ptr,
	       f->sasl_username.len) : 0;
    m->nrcpt = f->rcpt ? (uint32_t) f->nrcpt : 0;
    m->rcpt_more = 0;
    r = m->rcpt_inline;
    if (m->nrcpt > RCPT_INLINE)
	r = m->rcpt_more = xmalloc(m->nrcpt * sizeof(*r));
    for (i = 0; i < m->nrcpt; i++)
	r[i] = intern_domain(ix, QS_KEY_RCPT_DOMAIN, f->rcpt[i].ptr,
			     f->rcpt[i].len);
}

int
ix_put(IX *ix, const char *id, int queue, const QF_FACTS *f, int64_t mtime)
{
    size_t  i;
    int     found;
    uint32_t s;

    if (strlen(id) > IX_ID_MAX)
	return -1;
    i = probe(ix, id, &found);
    if (found) {
	s = ix->slot[i];
	free(ix->msg[s].rcpt_more);
    } else {
	if ((ix->live + 1) * 2 > ix->nslot) {
	    map_grow(ix);
	    i = probe(ix, id, &found);
	}
	s = msg_alloc(ix);
	memset(&ix->msg[s], 0, sizeof(MSG));
	strcpy(ix->msg[s].id, id);
	ix->slot[i] = s;
	ix->live++;
    }
    fill(ix, &ix->msg[s], queue, f, mtime);
    return 0;
}

int
ix_move(IX *ix, const char *id, int queue)
{
    int     found;
    size_t  i = probe(ix, id, &found);

    if (!found)
	return 0;
    ix->msg[ix->slot[i]].queue = (uint8_t) queue;
    return 1;
}

int
ix_remove(IX *ix, const char *id)
{
    int     found;
    size_t  i = probe(ix, id, &found);
    uint32_t s;

    if (!found)
	return 0;
    s = ix->slot[i];
    free(ix->msg[s].rcpt_more);
    memset(&ix->msg[s], 0, sizeof(MSG));
    ix->free_list[ix->nfree++] = s;
    map_delete(ix, i);
    ix->live--;
    return 1;
}

int
ix_queue_of(const IX *ix, const char *id)
{
    int     found;
    size_t  i = probe(ix, id, &found);

    return found ? ix->msg[ix->slot[i]].queue : -1;
}

size_t
ix_messages(const IX *ix)
{
    return ix->live;
}

void
ix_mark_begin(IX *ix)
{
    uint32_t s;

    for (s = 1; s < ix->used; s++)
	ix->msg[s].mark = 0;
}

int
ix_mark(IX *ix, const char *id, int queue)
{
    int     found;
    size_t  i = probe(ix, id, &found);

    if (!found)
	return 0;
    ix->msg[ix->slot[i]].mark = 1;
    ix->msg[ix->slot[i]].queue = (uint8_t) queue;
    return 1;
}

void
ix_mark_queue(IX *ix, int queue)
{
    uint32_t s;

    for (s = 1; s < ix->used; s++)
	if (ix->msg[s].id[0] && ix->msg[s].queue == queue)
	    ix->msg[s].mark = 1;
}

/* Re-intern every live message's keys into fresh tables. */
static void
rebuild_keys(IX *ix)
{
    KIND    old[QS_NKEYKINDS];
    uint32_t s, i, *r;
    MSG    *m;

    memcpy(old, ix->kind, sizeof(old));
    memset(ix->kind, 0, sizeof(ix->kind));
    for (i = 0; i < QS_NKEYKINDS; i++)
	ix->kind[i].map = htab_create(sizeof(uint32_t));
#define RE(kind, id) ((id) ? intern(ix, (kind), old[kind].key[id].str, \
				    old[kind].key[id].len) : 0)
    for (s = 1; s < ix->used; s++) {
	m = &ix->msg[s];
	if (m->id[0] == 0)
	    continue;
	m->sdom = RE(QS_KEY_SENDER_DOMAIN, m->sdom);
	m->sender = RE(QS_KEY_SENDER, m->sender);
	m->client = RE(QS_KEY_CLIENT_ADDRESS, m->client);
	m->sasl = RE(QS_KEY_SASL_USERNAME, m->sasl);
	r = m->nrcpt > RCPT_INLINE ? m->rcpt_more : m->rcpt_inline;
	for (i = 0; i < m->nrcpt; i++)
	    r[i] = RE(QS_KEY_RCPT_DOMAIN, r[i]);
    }
#undef RE
    for (i = 0; i < QS_NKEYKINDS; i++) {
	htab_destroy(old[i].map);
	free(old[i].key);
    }
}

size_t
ix_sweep(IX *ix)
{
    uint32_t s, nkeys = 0;
    size_t  gone = 0;
    int     k;

    for (s = 1; s < ix->used; s++) {
	if (ix->msg[s].id[0] && !ix->msg[s].mark) {
	    ix_remove(ix, ix->msg[s].id);
	    gone++;
	}
    }
    for (k = 0; k < QS_NKEYKINDS; k++)
	nkeys += ix->kind[k].n;
    if (nkeys > 4 * ix->live + 4096)
	rebuild_keys(ix);
    return gone;
}

static int
bucket(const IX *ix, int64_t now, int64_t when)
{
    return qt_age_bucket((double) now - (double) when,
			 ix->geom.bucket_minutes, ix->geom.nbuckets,
			 ix->geom.linear);
}

void
ix_queue_totals(const IX *ix, int64_t now,
		uint32_t out[QS_MAX_QUEUES][QS_MAX_BUCKETS + 1])
{
    uint32_t s;

    memset(out, 0, sizeof(uint32_t) * QS_MAX_QUEUES * (QS_MAX_BUCKETS + 1));
    for (s = 1; s < ix->used; s++) {
	const MSG *m = &ix->msg[s];

	if (m->id[0] == 0)
	    continue;
	out[m->queue][0]++;
	out[m->queue][bucket(ix, now, m->arrival)]++;
    }
}

/*
 * Run 'body' with k set to each key of kind 'which' that message m has,
 * once per occurrence (recipient domains once per recipient, parent
 * domains once per level).
 */
#define FOR_KEYS(ix, m, which, k, body) do { \
	uint32_t k_, i_; \
	const uint32_t *r_; \
	switch (which) { \
	case QS_KEY_SENDER_DOMAIN: k_ = (m)->sdom; if (k_) { k = k_; body; } break; \
	case QS_KEY_SENDER: k_ = (m)->sender; if (k_) { k = k_; body; } break; \
	case QS_KEY_CLIENT_ADDRESS: k_ = (m)->client; if (k_) { k = k_; body; } break; \
	case QS_KEY_SASL_USERNAME: k_ = (m)->sasl; if (k_) { k = k_; body; } break; \
	case QS_KEY_PARENT_DOMAIN: \
	    k_ = (m)->sdom ? (ix)->kind[QS_KEY_SENDER_DOMAIN].key[(m)->sdom].parent : 0; \
	    for (; k_; k_ = (ix)->kind[QS_KEY_PARENT_DOMAIN].key[k_].parent) { k = k_; body; } \
	    break; \
	case QS_KEY_RCPT_DOMAIN: \
	    r_ = (m)->nrcpt > RCPT_INLINE ? (m)->rcpt_more : (m)->rcpt_inline; \
	    for (i_ = 0; i_ < (m)->nrcpt; i_++) { k = r_[i_]; body; } \
	    break; \
	} \
    } while (0)

/* Zeroed totals for every key of a kind. */
static COUNT *
scratch(IX *ix, int kind)
{
    COUNT  *c = &ix->cnt[kind];
    size_t  nkeys = ix->kind[kind].n;

    if (nkeys + 1 > c->cap) {
	c->cap = nkeys + 1;
	c->tot = xrealloc(c->tot, c->cap * sizeof(*c->tot));
	c->rowof = xrealloc(c->rowof, c->cap * sizeof(*c->rowof));
    }
    memset(c->tot, 0, (nkeys + 1) * sizeof(*c->tot));
    return c;
}

static const KIND *sort_kind;
static const uint32_t *sort_tot;

/* Count descending, length ascending, bytes ascending: as qshape's rows. */
static int
rank_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
    const KEY *kx = &sort_kind->key[x], *ky = &sort_kind->key[y];

    if (sort_tot[x] != sort_tot[y])
	return sort_tot[x] > sort_tot[y] ? -1 : 1;
    if (kx->len != ky->len)
	return kx->len < ky->len ? -1 : 1;
    return memcmp(kx->str, ky->str, kx->len);
}

/* Sift-down in a heap whose root is the lowest-ranked of the kept keys. */
static void
sift_down(uint32_t *h, size_t n, size_t i)
{
    for (;;) {
	size_t  l = 2 * i + 1, r = l + 1, m = i;
	uint32_t t;

	if (l < n && rank_cmp(&h[l], &h[m]) > 0)
	    m = l;
	if (r < n && rank_cmp(&h[r], &h[m]) > 0)
	    m = r;
	if (m == i)
	    return;
	t = h[i];
	h[i] = h[m];
	h[m] = t;
	i = m;
    }
}

/*
 * The top_n keys by rank, best first, in ids[0..*n): a bounded heap, so
 * that many distinct keys (every sender address) cost O(k log top_n).
 */
static void
top_keys(const KIND *kd, const uint32_t *tot, size_t top_n, uint32_t *ids,
	 size_t *n)
{
    size_t  used = 0, i;
    uint32_t k;

    for (k = 1; k <= kd->n && top_n > 0; k++) {
	if (tot[k] == 0)
	    continue;
	if (used < top_n) {
	    ids[used++] = k;
	    if (used == top_n)
		for (i = top_n / 2 + 1; i-- > 0;)
		    sift_down(ids, used, i);
	} else if (rank_cmp(&k, &ids[0]) < 0) {
	    ids[0] = k;
	    sift_down(ids, used, 0);
	}
    }
    qsort(ids, used, sizeof(*ids), rank_cmp);
    *n = used;
}

/* Rank the keys of one kind from its totals; fill rank but not counts. */
static void
rank_kind(IX *ix, int kind, size_t top_n, IX_RANK *rank)
{
    const KIND *kd = &ix->kind[kind];
    COUNT  *c = &ix->cnt[kind];
    uint32_t k, n = 0, *ids;
    uint64_t all = 0, shown = 0;
    size_t  r, nrows;

    for (k = 1; k <= kd->n; k++) {
	c->rowof[k] = -1;
	if (c->tot[k]) {
	    n++;
	    all += c->tot[k];
	}
    }
    sort_kind = kd;
    sort_tot = c->tot;
    ids = xmalloc((top_n < n ? top_n : n) * sizeof(*ids) + 1);
    top_keys(kd, c->tot, top_n, ids, &nrows);
    if (nrows > c->rows_cap || c->rows == 0) {	/* never NULL */
	c->rows_cap = nrows ? nrows : 1;
	c->rows = xrealloc(c->rows, c->rows_cap * sizeof(*c->rows));
    }
    for (r = 0; r < nrows; r++) {
	const KEY *key = &kd->key[ids[r]];

	memset(&c->rows[r], 0, sizeof(IX_ROW));
	c->rows[r].key = key->str;
	c->rows[r].len = key->len;
	c->rows[r].total = c->tot[ids[r]];
	c->rowof[ids[r]] = (int32_t) r;
	shown += c->tot[ids[r]];
    }
    free(ids);
    rank->row = c->rows;
    rank->nrows = nrows;
    rank->ndistinct = n;
    rank->other = (uint32_t) (all - shown);
}

/*
 * Two passes over the messages for all the kinds asked for: totals (and
 * each message's age bucket, computed once), then the counts of the
 * ranked keys.
 */
void
ix_count_all(IX *ix, unsigned kinds, int64_t now, size_t top_n,
	     IX_RANK rank[QS_NKEYKINDS])
{
    uint32_t s, k;
    int     kind;

    if (ix->used > ix->bkt_cap) {
	ix->bkt_cap = ix->used;
	ix->bkt = xrealloc(ix->bkt, ix->bkt_cap);
    }
    for (kind = 0; kind < QS_NKEYKINDS; kind++)
	if (kinds & (1u << kind))
	    (void) scratch(ix, kind);
    for (s = 1; s < ix->used; s++) {
	const MSG *m = &ix->msg[s];

	if (m->id[0] == 0)
	    continue;
	ix->bkt[s] = (uint8_t) bucket(ix, now, m->arrival);
	for (kind = 0; kind < QS_NKEYKINDS; kind++)
	    if (kinds & (1u << kind))
		FOR_KEYS(ix, m, kind, k, ix->cnt[kind].tot[k]++);
    }
    for (kind = 0; kind < QS_NKEYKINDS; kind++)
	if (kinds & (1u << kind))
	    rank_kind(ix, kind, top_n, &rank[kind]);
    for (s = 1; s < ix->used; s++) {
	const MSG *m = &ix->msg[s];
	int     b = ix->bkt[s];

	if (m->id[0] == 0)
	    continue;
	for (kind = 0; kind < QS_NKEYKINDS; kind++) {
	    COUNT  *c = &ix->cnt[kind];

	    if (!(kinds & (1u << kind)))
		continue;
	    FOR_KEYS(ix, m, kind, k, {
		if (c->rowof[k] >= 0) {
		    c->rows[c->rowof[k]].count[m->queue][0]++;
		    c->rows[c->rowof[k]].count[m->queue][b]++;
		}
	    });
	}
    }
}

void
ix_count_keys(IX *ix, int kind, int64_t now, size_t top_n, IX_RANK *rank)
{
    IX_RANK all[QS_NKEYKINDS];

    ix_count_all(ix, 1u << kind, now, top_n, all);
    *rank = all[kind];
}

void
ix_policy_input(IX *ix, const IX_WINDOW *w, int64_t now, TH_INPUT *in)
{
    const KIND *kd = &ix->kind[w->kind];
    COUNT  *c = scratch(ix, w->kind);
    uint32_t s, k, total = 0;
    size_t  n = 0;

    for (s = 1; s < ix->used; s++) {
	const MSG *m = &ix->msg[s];

	if (m->id[0] == 0 || !(w->queue_mask & (1u << m->queue))
	    || (w->max_age > 0 && now - m->arrival > w->max_age))
	    continue;
	total++;
	FOR_KEYS(ix, m, w->kind, k, c->tot[k]++);
    }
    for (k = 1; k <= kd->n; k++) {
	if (c->tot[k] == 0 || c->tot[k] < w->min_keep)
	    continue;
	if (n == ix->counts_cap) {
	    ix->counts_cap = ix->counts_cap ? 2 * ix->counts_cap : 64;
	    ix->counts = xrealloc(ix->counts,
				  ix->counts_cap * sizeof(*ix->counts));
	}
	ix->counts[n++] = (TH_COUNT) {kd->key[k].str, kd->key[k].len,
				      c->tot[k]};
    }
    in->total = total;
    in->keys = ix->counts;
    in->nkeys = n;
}

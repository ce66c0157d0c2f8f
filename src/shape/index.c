/*
 * index - the scanner's live index of the queue.  See index.h.
 *
 * Messages live in an array with a free list; an htab ID index finds them
 * by queue ID.  Keys are interned per kind as numbers (an htab ID index
 * over the KEY array, freed ids chained through 'parent'); a sender
 * domain's key links to its first parent-domain key, and each parent to
 * the next (regdom.h).  Every key counts its references: one per message
 * (per recipient for recipient domains) and one per child key linking to
 * it.  A key is freed when its count reaches zero, so what the index
 * holds follows the messages it indexes.
 */
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "htab.h"
#include "mem.h"
#include "qtab.h"
#include "regdom.h"
#include "index.h"

#define RCPT_INLINE	2
#define BUF_KEEP	4096		/* scratch bytes kept after a message */
#define KEYS_KEEP	1024		/* key slots kept by an empty kind */

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
    char   *str;			/* owned; NULL when the slot is free */
    size_t  len;
    uint32_t refs;			/* messages and child keys */
    uint32_t parent;			/* parent-domain key, 0 = none; in a
					 * free slot: the next free slot */
} KEY;

typedef struct KIND {
    HTAB_IDS *map;			/* key text -> id */
    KEY    *key;			/* [1..n] */
    uint32_t n;				/* highest id handed out */
    uint32_t cap;
    uint32_t free;			/* first free id, 0 = none */
    size_t  live;			/* keys in use */
    size_t  bytes;			/* their text, with the NULs */
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
    MSG    *msg;			/* [1..msg_cap) */
    uint32_t msg_cap;
    uint32_t *free_list;
    uint32_t nfree;
    uint32_t used;			/* highest slot handed out + 1 */
    size_t  live;
    HTAB_IDS *ids;			/* queue ID -> message slot */
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

/* HTAB_IDS callbacks: the key of a message slot, of a key id. */
static const void *
msg_key(void *ctx, uint32_t slot, size_t *len)
{
    const IX *ix = ctx;

    *len = strlen(ix->msg[slot].id);
    return ix->msg[slot].id;
}

static const void *
key_text(void *ctx, uint32_t id, size_t *len)
{
    const KIND *kd = ctx;

    *len = kd->key[id].len;
    return kd->key[id].str;
}

IX     *
ix_create(const IX_GEOM *g)
{
    IX     *ix = xcalloc(1, sizeof(*ix));
    int     k;

    ix->geom = *g;
    ix->used = 1;
    ix->ids = htab_ids_create(msg_key, ix);
    for (k = 0; k < QS_NKEYKINDS; k++)
	ix->kind[k].map = htab_ids_create(key_text, &ix->kind[k]);
    return ix;
}

void
ix_destroy(IX *ix)
{
    uint32_t i;
    int     k;

    if (ix == 0)
	return;
    for (i = 1; i < ix->used; i++)
	free(ix->msg[i].rcpt_more);
    for (k = 0; k < QS_NKEYKINDS; k++) {
	for (i = 1; i <= ix->kind[k].n; i++)
	    free(ix->kind[k].key[i].str);
	free(ix->kind[k].key);
	htab_ids_destroy(ix->kind[k].map);
	free(ix->cnt[k].tot);
	free(ix->cnt[k].rowof);
	free(ix->cnt[k].rows);
    }
    htab_ids_destroy(ix->ids);
    free(ix->msg);
    free(ix->free_list);
    free(ix->bkt);
    free(ix->counts);
    free(ix->buf);
    free(ix);
}

/* A new key with one reference, not linked to a parent. */
static uint32_t
key_new(KIND *kd, const char *s, size_t len)
{
    uint32_t id;
    KEY    *k;

    if (kd->free) {
	id = kd->free;
	kd->free = kd->key[id].parent;
    } else {
	if (kd->n + 2 > kd->cap) {
	    kd->cap = kd->cap ? 2 * kd->cap : 256;
	    kd->key = xrealloc(kd->key, kd->cap * sizeof(*kd->key));
	}
	id = ++kd->n;
    }
    k = &kd->key[id];
    k->str = xmalloc(len + 1);
    memcpy(k->str, s, len);
    k->str[len] = 0;
    k->len = len;
    k->refs = 1;
    k->parent = 0;
    htab_ids_add(kd->map, s, len, id);
    kd->live++;
    kd->bytes += len + 1;
    return id;
}

/*
 * Link a new sender domain to its parents, creating those not known yet:
 * every parent is a suffix of the domain (regdom.h), and a known parent
 * already links to the rest of the chain.
 */
static void
link_parents(IX *ix, uint32_t sdom)
{
    KIND   *pk = &ix->kind[QS_KEY_PARENT_DOMAIN];
    KEY    *dk = &ix->kind[QS_KEY_SENDER_DOMAIN].key[sdom];
    const char *d = dk->str;		/* stays put: it is malloc'ed */
    size_t  len = dk->len, i, n;
    uint16_t off[RD_PARENTS_MAX];
    uint32_t p, child = 0;		/* 0: the sender domain */

    n = rd_parents(d, len, off);
    for (i = 0; i < n; i++) {
	int     known = (p = htab_ids_find(pk->map, d + off[i],
					   len - off[i])) != 0;

	if (known)
	    pk->key[p].refs++;
	else
	    p = key_new(pk, d + off[i], len - off[i]);	/* moves pk->key */
	if (child == 0)
	    dk->parent = p;
	else
	    pk->key[child].parent = p;
	if (known)
	    return;
	child = p;
    }
}

/* Intern a key of a kind: its id, with one more reference. */
static uint32_t
intern(IX *ix, int kind, const char *s, size_t len)
{
    KIND   *kd = &ix->kind[kind];
    uint32_t id = htab_ids_find(kd->map, s, len);

    if (id) {
	kd->key[id].refs++;
	return id;
    }
    id = key_new(kd, s, len);
    if (kind == QS_KEY_SENDER_DOMAIN)
	link_parents(ix, id);
    return id;
}

/* A kind without keys gives its slots back. */
static void
kind_empty(KIND *kd)
{
    kd->n = 0;
    kd->free = 0;
    if (kd->cap > KEYS_KEEP) {
	free(kd->key);
	kd->key = 0;
	kd->cap = 0;
    }
}

/* Drop one reference to a key; free it, and so on up its parents, when
 * none is left. */
static void
unref(IX *ix, int kind, uint32_t id)
{
    while (id) {
	KIND   *kd = &ix->kind[kind];
	KEY    *k = &kd->key[id];
	uint32_t parent = k->parent;

	if (--k->refs > 0)
	    return;
	htab_ids_remove(kd->map, k->str, k->len);
	kd->live--;
	kd->bytes -= k->len + 1;
	free(k->str);
	k->str = 0;
	k->len = 0;
	k->parent = kd->free;
	kd->free = id;
	if (kd->live == 0)
	    kind_empty(kd);
	if (kind != QS_KEY_SENDER_DOMAIN && kind != QS_KEY_PARENT_DOMAIN)
	    return;
	kind = QS_KEY_PARENT_DOMAIN;
	id = parent;
    }
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

/* Give back what a message's keys hold (m itself is left as it was). */
static void
msg_unref(IX *ix, const MSG *m)
{
    const uint32_t *r = m->nrcpt > RCPT_INLINE ? m->rcpt_more : m->rcpt_inline;
    uint32_t i;

    unref(ix, QS_KEY_SENDER_DOMAIN, m->sdom);
    unref(ix, QS_KEY_SENDER, m->sender);
    unref(ix, QS_KEY_CLIENT_ADDRESS, m->client);
    unref(ix, QS_KEY_SASL_USERNAME, m->sasl);
    for (i = 0; i < m->nrcpt; i++)
	unref(ix, QS_KEY_RCPT_DOMAIN, r[i]);
    free(m->rcpt_more);
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
    if (ix->buf_cap > BUF_KEEP) {
	free(ix->buf);
	ix->buf = 0;
	ix->buf_cap = 0;
    }
}

int
ix_put(IX *ix, const char *id, int queue, const QF_FACTS *f, int64_t mtime)
{
    size_t  len = strlen(id);
    uint32_t s;
    MSG     old;

    if (len > IX_ID_MAX)
	return -1;
    if ((s = htab_ids_find(ix->ids, id, len)) != 0) {
	/* Intern the new keys before the old ones can go: usually the
	 * same. */
	old = ix->msg[s];
	fill(ix, &ix->msg[s], queue, f, mtime);
	msg_unref(ix, &old);
	return 0;
    }
    s = msg_alloc(ix);
    memset(&ix->msg[s], 0, sizeof(MSG));
    memcpy(ix->msg[s].id, id, len + 1);
    htab_ids_add(ix->ids, id, len, s);
    ix->live++;
    fill(ix, &ix->msg[s], queue, f, mtime);
    return 0;
}

static MSG *
msg_find(const IX *ix, const char *id)
{
    uint32_t s = htab_ids_find(ix->ids, id, strlen(id));

    return s ? &ix->msg[s] : 0;
}

int
ix_move(IX *ix, const char *id, int queue)
{
    MSG    *m = msg_find(ix, id);

    if (m == 0)
	return 0;
    m->queue = (uint8_t) queue;
    return 1;
}

int
ix_remove(IX *ix, const char *id)
{
    uint32_t s = htab_ids_remove(ix->ids, id, strlen(id));

    if (s == 0)
	return 0;
    msg_unref(ix, &ix->msg[s]);
    memset(&ix->msg[s], 0, sizeof(MSG));
    ix->free_list[ix->nfree++] = s;
    ix->live--;
    return 1;
}

int
ix_queue_of(const IX *ix, const char *id)
{
    const MSG *m = msg_find(ix, id);

    return m ? m->queue : -1;
}

size_t
ix_messages(const IX *ix)
{
    return ix->live;
}

void
ix_stats(const IX *ix, IX_STATS *st)
{
    uint32_t s;
    int     k;

    memset(st, 0, sizeof(*st));
    st->messages = ix->live;
    st->bytes = sizeof(*ix) + htab_ids_bytes(ix->ids)
	+ (size_t) ix->msg_cap * (sizeof(MSG) + sizeof(*ix->free_list))
	+ ix->bkt_cap + ix->counts_cap * sizeof(*ix->counts) + ix->buf_cap;
    for (s = 1; s < ix->used; s++)
	if (ix->msg[s].nrcpt > RCPT_INLINE)
	    st->bytes += ix->msg[s].nrcpt * sizeof(uint32_t);
    for (k = 0; k < QS_NKEYKINDS; k++) {
	const KIND *kd = &ix->kind[k];
	const COUNT *c = &ix->cnt[k];

	st->keys[k] = kd->live;
	st->key_bytes[k] = kd->bytes;
	st->bytes += kd->bytes + htab_ids_bytes(kd->map)
	    + kd->cap * sizeof(KEY)
	    + c->cap * (sizeof(*c->tot) + sizeof(*c->rowof))
	    + c->rows_cap * sizeof(*c->rows);
    }
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
    MSG    *m = msg_find(ix, id);

    if (m == 0)
	return 0;
    m->mark = 1;
    m->queue = (uint8_t) queue;
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

size_t
ix_sweep(IX *ix)
{
    uint32_t s;
    size_t  gone = 0;

    for (s = 1; s < ix->used; s++) {
	if (ix->msg[s].id[0] && !ix->msg[s].mark) {
	    ix_remove(ix, ix->msg[s].id);
	    gone++;
	}
    }
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
	    || (w->max_age > 0 && now - m->arrival >= w->max_age))
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

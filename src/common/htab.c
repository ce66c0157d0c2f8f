/*
 * htab - hash table from byte-string keys to fixed-size values.  See htab.h.
 *
 * Open addressing with linear probing over a power-of-two slot array that
 * holds entry numbers; entries live in fixed-size chunks so that values
 * never move.  HTAB_IDS probes the same way over (id, hash) slots and
 * deletes by backward shift.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "htab.h"
#include "mem.h"

#define CHUNK_ENTRIES	256
#define ALIGN16(n)	(((n) + 15) & ~(size_t) 15)

typedef struct ENT {
    uint64_t hash;
    char   *key;			/* NUL-terminated copy */
    size_t  len;
    /* value follows, aligned */
} ENT;

struct HTAB {
    uint64_t k0, k1;			/* SipHash key */
    size_t  value_size;
    size_t  ent_size;			/* sizeof(ENT) + value, aligned */
    uint32_t *slot;			/* entry number + 1, 0 = empty */
    size_t  nslot;			/* power of two */
    size_t  count;
    unsigned char **chunk;		/* CHUNK_ENTRIES entries each */
    size_t  nchunk;
};

#define ROTL(x, b) (uint64_t) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
    } while (0)

/* SipHash-1-3. */
static uint64_t
siphash(uint64_t k0, uint64_t k1, const unsigned char *in, size_t len)
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
    uint64_t v3 = 0x7465646279746573ULL ^ k1;
    uint64_t b = (uint64_t) len << 56;
    uint64_t m;
    size_t  i, left = len & 7;
    const unsigned char *end = in + len - left;

    for (; in != end; in += 8) {
	memcpy(&m, in, 8);
	v3 ^= m;
	SIPROUND;
	v0 ^= m;
    }
    for (i = 0; i < left; i++)
	b |= (uint64_t) in[i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* A SipHash key for a new table. */
static void
random_key(uint64_t *k0, uint64_t *k1)
{
    uint64_t k[2] = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};

    if (getrandom(k, sizeof(k), GRND_NONBLOCK) != (ssize_t) sizeof(k)) {
	/* No entropy yet: keep the fixed key, still a good hash. */
    }
    *k0 = k[0];
    *k1 = k[1];
}

HTAB   *
htab_create(size_t value_size)
{
    HTAB   *t = xcalloc(1, sizeof(*t));

    random_key(&t->k0, &t->k1);
    t->value_size = value_size;
    t->ent_size = ALIGN16(sizeof(ENT)) + ALIGN16(value_size);
    t->nslot = 64;
    t->slot = xcalloc(t->nslot, sizeof(*t->slot));
    return t;
}

void
htab_destroy(HTAB *t)
{
    size_t  i, n;

    if (t == 0)
	return;
    for (i = 0; i < t->count; i++) {
	ENT    *e = (ENT *) (t->chunk[i / CHUNK_ENTRIES]
			     + (i % CHUNK_ENTRIES) * t->ent_size);

	free(e->key);
    }
    for (n = 0; n < t->nchunk; n++)
	free(t->chunk[n]);
    free(t->chunk);
    free(t->slot);
    free(t);
}

static ENT *
ent_at(const HTAB *t, size_t i)
{
    return (ENT *) (t->chunk[i / CHUNK_ENTRIES]
		    + (i % CHUNK_ENTRIES) * t->ent_size);
}

static void *
ent_value(ENT *e)
{
    return (unsigned char *) e + ALIGN16(sizeof(ENT));
}

/* Slot index holding key, or the empty slot where it would go. */
static size_t
probe(const HTAB *t, uint64_t h, const void *key, size_t len)
{
    size_t  mask = t->nslot - 1;
    size_t  i = (size_t) h & mask;

    for (;; i = (i + 1) & mask) {
	uint32_t s = t->slot[i];
	ENT    *e;

	if (s == 0)
	    return i;
	e = ent_at(t, s - 1);
	if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0)
	    return i;
    }
}

void   *
htab_find(const HTAB *t, const void *key, size_t len)
{
    uint64_t h = siphash(t->k0, t->k1, key, len);
    size_t  i = probe(t, h, key, len);

    return t->slot[i] ? ent_value(ent_at(t, t->slot[i] - 1)) : 0;
}

static void
grow(HTAB *t)
{
    size_t  i, n = t->nslot * 2;

    free(t->slot);
    t->nslot = n;
    t->slot = xcalloc(n, sizeof(*t->slot));
    for (i = 0; i < t->count; i++) {
	ENT    *e = ent_at(t, i);
	size_t  j = (size_t) e->hash & (n - 1);

	while (t->slot[j])
	    j = (j + 1) & (n - 1);
	t->slot[j] = (uint32_t) i + 1;
    }
}

void   *
htab_insert(HTAB *t, const void *key, size_t len, int *created)
{
    uint64_t h = siphash(t->k0, t->k1, key, len);
    size_t  i = probe(t, h, key, len);
    ENT    *e;

    if (t->slot[i]) {
	if (created)
	    *created = 0;
	return ent_value(ent_at(t, t->slot[i] - 1));
    }
    if (t->count >= UINT32_MAX - 1)
	return 0;
    if ((t->count + 1) * 4 > t->nslot * 3) {
	grow(t);
	i = probe(t, h, key, len);
    }
    if (t->count % CHUNK_ENTRIES == 0) {
	t->chunk = xrealloc(t->chunk, (t->nchunk + 1) * sizeof(*t->chunk));
	t->chunk[t->nchunk++] = xcalloc(CHUNK_ENTRIES, t->ent_size);
    }
    e = ent_at(t, t->count);
    e->hash = h;
    e->len = len;
    e->key = xmalloc(len + 1);
    memcpy(e->key, key, len);
    e->key[len] = 0;
    t->slot[i] = (uint32_t) ++t->count;
    if (created)
	*created = 1;
    return ent_value(e);
}

size_t
htab_count(const HTAB *t)
{
    return t->count;
}

HTAB_ENTRY
htab_entry(const HTAB *t, size_t i)
{
    ENT    *e = ent_at(t, i);

    return (HTAB_ENTRY) {e->key, e->len, ent_value(e)};
}

/* HTAB_IDS: (id, hash) slots; id 0 marks an empty slot. */

#define IDS_MIN_SLOTS	64

typedef struct IDSLOT {
    uint32_t id;
    uint32_t hash;			/* low 32 bits of the key's SipHash */
} IDSLOT;

struct HTAB_IDS {
    uint64_t k0, k1;			/* SipHash key */
    HTAB_IDS_KEY key_of;
    void   *ctx;
    IDSLOT *slot;
    size_t  nslot;			/* power of two, >= IDS_MIN_SLOTS */
    size_t  count;
};

HTAB_IDS *
htab_ids_create(HTAB_IDS_KEY key_of, void *ctx)
{
    HTAB_IDS *t = xcalloc(1, sizeof(*t));

    random_key(&t->k0, &t->k1);
    t->key_of = key_of;
    t->ctx = ctx;
    t->nslot = IDS_MIN_SLOTS;
    t->slot = xcalloc(t->nslot, sizeof(*t->slot));
    return t;
}

void
htab_ids_destroy(HTAB_IDS *t)
{
    if (t == 0)
	return;
    free(t->slot);
    free(t);
}

static uint32_t
ids_hash(const HTAB_IDS *t, const void *key, size_t len)
{
    return (uint32_t) siphash(t->k0, t->k1, key, len);
}

/* The slot holding key, or the empty slot that ends its probe chain. */
static size_t
ids_probe(const HTAB_IDS *t, uint32_t h, const void *key, size_t len)
{
    size_t  mask = t->nslot - 1;
    size_t  i = h & mask;

    for (;; i = (i + 1) & mask) {
	const IDSLOT *s = &t->slot[i];
	const void *k;
	size_t  klen;

	if (s->id == 0)
	    return i;
	if (s->hash != h)
	    continue;
	k = t->key_of(t->ctx, s->id, &klen);
	if (klen == len && memcmp(k, key, len) == 0)
	    return i;
    }
}

/* Re-place every id into a slot array of n slots. */
static void
ids_resize(HTAB_IDS *t, size_t n)
{
    IDSLOT *old = t->slot;
    size_t  i, j, nold = t->nslot;

    t->slot = xcalloc(n, sizeof(*t->slot));
    t->nslot = n;
    for (i = 0; i < nold; i++) {
	if (old[i].id == 0)
	    continue;
	for (j = old[i].hash & (n - 1); t->slot[j].id; j = (j + 1) & (n - 1))
	     /* next */ ;
	t->slot[j] = old[i];
    }
    free(old);
}

uint32_t
htab_ids_find(const HTAB_IDS *t, const void *key, size_t len)
{
    return t->slot[ids_probe(t, ids_hash(t, key, len), key, len)].id;
}

void
htab_ids_add(HTAB_IDS *t, const void *key, size_t len, uint32_t id)
{
    uint32_t h = ids_hash(t, key, len);
    size_t  i;

    if ((t->count + 1) * 2 > t->nslot)
	ids_resize(t, t->nslot * 2);
    i = ids_probe(t, h, key, len);
    t->slot[i] = (IDSLOT) {id, h};
    t->count++;
}

uint32_t
htab_ids_remove(HTAB_IDS *t, const void *key, size_t len)
{
    size_t  mask = t->nslot - 1;
    size_t  i = ids_probe(t, ids_hash(t, key, len), key, len);
    size_t  j = i, home;
    uint32_t id = t->slot[i].id;

    if (id == 0)
	return 0;
    for (;;) {
	j = (j + 1) & mask;
	if (t->slot[j].id == 0)
	    break;
	home = t->slot[j].hash & mask;
	/* Move slot j back to i unless its home lies in (i, j]. */
	if ((j > i && (home <= i || home > j))
	    || (j < i && home <= i && home > j)) {
	    t->slot[i] = t->slot[j];
	    i = j;
	}
    }
    t->slot[i] = (IDSLOT) {0, 0};
    t->count--;
    if (t->nslot > IDS_MIN_SLOTS && t->count * 8 < t->nslot)
	ids_resize(t, t->nslot / 2);
    return id;
}

size_t
htab_ids_count(const HTAB_IDS *t)
{
    return t->count;
}

size_t
htab_ids_bytes(const HTAB_IDS *t)
{
    return sizeof(*t) + t->nslot * sizeof(*t->slot);
}

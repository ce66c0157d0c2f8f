/*
 * htab - hash table from byte-string keys to fixed-size values.
 *
 * Keys are copied into the table; values are zero-filled when created and
 * stay at the same address for the life of the table.  Hashing is SipHash
 * with a per-table random key, so hostile keys cannot force collisions.
 * Entries are listed in insertion order by htab_entry().
 *
 * HTAB_IDS is the same hashing over keys the caller stores: a map from a
 * key to a non-zero 32-bit id (a slot number in the caller's array), with
 * removal.  The table holds only (id, hash) pairs; it asks the caller for
 * the key of an id when it must compare keys.  The caller's key storage
 * may move (a realloc'ed array) as long as the callback finds it.  It is
 * hashed with the same keyed SipHash as HTAB: one hash for every table, so
 * that no table needs to argue why its keys are not hostile (queue IDs,
 * which Postfix makes, would do with an unkeyed hash; SipHash-1-3 over a
 * queue ID costs about as much as FNV-1a).  Removal shifts the probe chain
 * back (no tombstones), and the slot array shrinks when the table empties,
 * so memory follows the number of live ids.
 *
 * Allocation failure is fatal (xmalloc): the table is for the scanner and
 * the command line, not for a request path.
 */
#ifndef QSHAPE_HTAB_H
#define QSHAPE_HTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct HTAB HTAB;

typedef struct HTAB_ENTRY {
    const char *key;			/* NUL-terminated copy, may hold NULs */
    size_t  len;			/* key length, bytes */
    void   *value;			/* value_size bytes */
} HTAB_ENTRY;

extern HTAB *htab_create(size_t value_size);
extern void htab_destroy(HTAB *);

/* The value for key, or NULL. */
extern void *htab_find(const HTAB *, const void *key, size_t len);

/* The value for key, created zero-filled if absent (*created says which). */
extern void *htab_insert(HTAB *, const void *key, size_t len, int *created);

extern size_t htab_count(const HTAB *);

/* The i-th entry in insertion order, 0 <= i < htab_count(). */
extern HTAB_ENTRY htab_entry(const HTAB *, size_t i);

typedef struct HTAB_IDS HTAB_IDS;

/* The key of id (which the table holds), and its length in *len. */
typedef const void *(*HTAB_IDS_KEY) (void *ctx, uint32_t id, size_t *len);

extern HTAB_IDS *htab_ids_create(HTAB_IDS_KEY, void *ctx);
extern void htab_ids_destroy(HTAB_IDS *);

/* The id stored under key, or 0. */
extern uint32_t htab_ids_find(const HTAB_IDS *, const void *key, size_t len);

/* Store id (non-zero) under key, which must not be in the table yet. */
extern void htab_ids_add(HTAB_IDS *, const void *key, size_t len,
			 uint32_t id);

/* Remove key: its id, or 0 when it was not there. */
extern uint32_t htab_ids_remove(HTAB_IDS *, const void *key, size_t len);

extern size_t htab_ids_count(const HTAB_IDS *);

/* Bytes the table itself holds (not the caller's keys). */
extern size_t htab_ids_bytes(const HTAB_IDS *);

#endif

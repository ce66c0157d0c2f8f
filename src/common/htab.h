/*
 * htab - hash table from byte-string keys to fixed-size values.
 *
 * Keys are copied into the table; values are zero-filled when created and
 * stay at the same address for the life of the table.  Hashing is SipHash
 * with a per-table random key, so hostile keys cannot force collisions.
 * Entries are listed in insertion order by htab_entry().
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

#endif

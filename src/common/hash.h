/*
 * hash - 64-bit FNV-1a, the one non-keyed hash of the project.
 *
 * For values several processes must compute alike (the summary's key
 * hashes, policy digests) and for names made by Postfix (queue IDs).
 * Tables that hold keys an SMTP client chooses use htab's keyed SipHash.
 * hash_fnv1a(HASH_FNV_BASIS, p, n) hashes n bytes; pass a previous result
 * as h to continue over more bytes.
 */
#ifndef QSHAPE_HASH_H
#define QSHAPE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV_BASIS	0xcbf29ce484222325ull
#define HASH_FNV_PRIME	0x100000001b3ull

static inline uint64_t
hash_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t  i;

    for (i = 0; i < n; i++)
	h = (h ^ s[i]) * HASH_FNV_PRIME;
    return h;
}

#endif

/*
 * failmalloc - allocation failures on demand, for unit tests.
 *
 * A test that includes this (in one file of its program) and is linked
 * with -Wl,--wrap=malloc -Wl,--wrap=realloc (the Makefile's FAILMALLOC
 * list) has every malloc() and realloc() of its objects and of
 * libqshape.a come here.  fail_after < 0: never fail (the default); else
 * that many calls succeed, then every call fails until it is reset.
 * fail_at >= 0 fails one call only, the one that many calls later (0:
 * the next), and every other succeeds: a failure the code recovers from
 * may not be followed by more.
 * Shared libraries (libc itself, cmocka, libconfig) are not affected.
 */
#ifndef QSHAPE_FAILMALLOC_H
#define QSHAPE_FAILMALLOC_H

#include <stddef.h>

extern void *__real_malloc(size_t);
extern void *__real_realloc(void *, size_t);
extern void *__wrap_malloc(size_t);
extern void *__wrap_realloc(void *, size_t);

static int fail_after = -1;
static int fail_at = -1;

/* Whether this call fails. */
static int
fail_now(void)
{
    if (fail_at >= 0 && fail_at-- == 0)
	return 1;
    if (fail_after == 0)
	return 1;
    if (fail_after > 0)
	fail_after--;
    return 0;
}

void   *
__wrap_malloc(size_t n)
{
    return fail_now() ? 0 : __real_malloc(n);
}

void   *
__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? 0 : __real_realloc(p, n);
}

#endif

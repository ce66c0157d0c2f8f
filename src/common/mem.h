/*
 * mem - allocation that cannot fail: on exhaustion it logs and exits.
 * For start-up and command-line paths; code on a request path that must
 * fail open uses plain malloc() and handles NULL.
 */
#ifndef QSHAPE_MEM_H
#define QSHAPE_MEM_H

#include <stddef.h>

extern void *xmalloc(size_t);
extern void *xcalloc(size_t, size_t);
extern void *xrealloc(void *, size_t);
extern char *xstrdup(const char *);

#endif

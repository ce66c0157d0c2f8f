/*
 * mem - allocation that cannot fail.  See mem.h.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"

void   *
xmalloc(size_t n)
{
    void   *p = malloc(n ? n : 1);

    if (p == 0)
	log_fatalx("out of memory allocating %zu bytes", n);
    return p;
}

void   *
xcalloc(size_t n, size_t size)
{
    void   *p = calloc(n ? n : 1, size ? size : 1);

    if (p == 0)
	log_fatalx("out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void   *
xrealloc(void *old, size_t n)
{
    void   *p = realloc(old, n ? n : 1);

    if (p == 0)
	log_fatalx("out of memory allocating %zu bytes", n);
    return p;
}

char   *
xstrdup(const char *s)
{
    size_t  n = strlen(s) + 1;

    return memcpy(xmalloc(n), s, n);
}

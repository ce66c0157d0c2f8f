/*
 * libFuzzer target for the milter's sender-to-key path: MAIL FROM's
 * argument -> envaddr_internal() -> the sender and sender_domain keys
 * (vd_keys_make()) -> parent domains, as vd_decide() makes them.
 *
 * The input is copied into a buffer of exactly its size (ASan sees any
 * over-read).  Checked: the internal form fits ENVADDR_BUFSIZE and is
 * NUL-terminated at its length; converting it again is stable except
 * where Postfix itself would change it once more (a source route or a
 * trailing dot left over, bang and percent forms); the keys are those
 * addr.h gives for the internal form; the parent chain only shortens.
 * Any disagreement aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "envaddr.h"
#include "verdict.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_keys(const char *in, size_t len)
{
    VD_KEYS k;
    char   *dom, *snd;
    size_t  n, prev;

    if (vd_keys_make(in, len, &k) < 0)
	abort();
    if (k.internal[k.internal_len] != 0 || k.internal_len > len + 1)
	abort();
    dom = malloc(ADDR_DOMAIN_BUFSIZE(k.internal_len));
    snd = malloc(ADDR_DOMAIN_BUFSIZE(k.internal_len));
    if (dom == 0 || snd == 0)
	abort();
    n = addr_qshape_domain(k.internal, k.internal_len, dom);
    if (n != k.domain_len || memcmp(dom, k.domain, n) != 0)
	abort();
    n = addr_sender_key(k.internal, k.internal_len, snd);
    if (n != k.sender_len || memcmp(snd, k.sender, n) != 0)
	abort();
    for (prev = k.domain_len, n = addr_qshape_parent(dom, prev, dom); n > 0;
	 prev = n, n = addr_qshape_parent(dom, n, dom))
	if (n > prev || dom[n] != 0)
	    abort();
    free(dom);
    free(snd);
    vd_keys_free(&k);
}

/* A plain internal form (no flags) converts to itself. */
static void
check_stable(const char *in, size_t len)
{
    char   *a = malloc(ENVADDR_BUFSIZE(len));
    char   *b;
    size_t  na, nb;
    int     fa, fb;

    if (a == 0)
	abort();
    na = envaddr_internal(in, len, a, &fa);
    if (na + 1 > ENVADDR_BUFSIZE(len) || a[na] != 0)
	abort();
    if (fa == 0 && memchr(a, '"', na) == 0 && memchr(a, '\\', na) == 0
	&& memchr(a, '(', na) == 0 && memchr(a, ' ', na) == 0
	&& memchr(a, '<', na) == 0 && memchr(a, ':', na) == 0) {
	if ((b = malloc(ENVADDR_BUFSIZE(na))) == 0)
	    abort();
	nb = envaddr_internal(a, na, b, &fb);
	if (nb != na || memcmp(a, b, na) != 0)
	    abort();
	free(b);
    }
    free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *in = malloc(size ? size : 1);

    if (in == 0)
	abort();
    memcpy(in, data, size);
    check_keys(in, size);
    check_stable(in, size);
    free(in);
    return 0;
}

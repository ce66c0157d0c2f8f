/*
 * qreason - the quarantine reason of a held message.  See qreason.h.
 */
#include <stdio.h>
#include <string.h>

#include "qreason.h"

/* Append s (n bytes) if it fits whole in buf[len]; 0 when it did not. */
static int
put(char *buf, size_t len, size_t *o, const char *s, size_t n)
{
    if (*o + n >= len)
	return 0;
    memcpy(buf + *o, s, n);
    *o += n;
    buf[*o] = 0;
    return 1;
}

size_t
qr_format(char *buf, size_t len, const char *policy, const char *kind,
	  const char *key, size_t key_len)
{
    static const char hex[] = "0123456789abcdef";
    size_t  o = 0, i;
    char    e[4];

    buf[0] = 0;
    if (!put(buf, len, &o, "qshape-milter policy=", 21)
	|| !put(buf, len, &o, policy, strlen(policy))
	|| !put(buf, len, &o, " key=", 5)
	|| !put(buf, len, &o, kind, strlen(kind))
	|| !put(buf, len, &o, ":", 1))
	return o;
    for (i = 0; i < key_len; i++) {
	unsigned char c = (unsigned char) key[i];

	if (c > ' ' && c < 0x7f && c != '\\') {
	    if (!put(buf, len, &o, (const char *) &key[i], 1))
		break;
	    continue;
	}
	e[0] = '\\';
	e[1] = 'x';
	e[2] = hex[c >> 4];
	e[3] = hex[c & 15];
	if (!put(buf, len, &o, e, 4))
	    break;
    }
    return o;
}

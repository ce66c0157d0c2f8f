/*
 * rec - queue-file record length coding.  See rec.h.
 */
#include <string.h>

#include "rec.h"

int
rec_get_len(const unsigned char *p, size_t avail, size_t *len)
{
    uint64_t v = 0;
    int     i;

    for (i = 0; i < 5; i++) {
	if ((size_t) i >= avail)
	    return 0;
	v |= (uint64_t) (p[i] & 0x7f) << (7 * i);
	if ((p[i] & 0x80) == 0) {
	    if (v > REC_LEN_MAX)
		return -1;
	    *len = (size_t) v;
	    return i + 1;
	}
    }
    return -1;
}

size_t
rec_put(unsigned char *out, size_t cap, int type, const void *data,
	size_t len)
{
    size_t  n = 0;
    size_t  v = len;

    if (cap < 1 || len > REC_LEN_MAX)
	return 0;
    out[n++] = (unsigned char) type;
    do {
	if (n >= cap)
	    return 0;
	out[n] = v & 0x7f;
	v >>= 7;
	if (v)
	    out[n] |= 0x80;
	n++;
    } while (v);
    if (cap - n < len)
	return 0;
    if (len)
	memcpy(out + n, data, len);
    return n + len;
}

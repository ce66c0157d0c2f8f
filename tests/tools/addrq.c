/*
 * addrq - print qshape keys for addresses, for the differential test
 * against Perl (tests/data/addr-vs-perl).  Each input line is an address in
 * hex; each output line is the domain and its parent chain, in hex,
 * separated by spaces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

static void
put_hex(const char *s, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++)
	printf("%02x", (unsigned char) s[i]);
    if (n == 0)
	fputs("-", stdout);
}

int
main(void)
{
    char    line[8192];
    char    in[4096];
    char    out[4096 + 16];

    while (fgets(line, sizeof(line), stdin)) {
	size_t  n = 0, k;
	char   *p = line;

	while (p[0] && p[0] != '\n' && p[1] && n < sizeof(in)) {
	    unsigned v;

	    if (sscanf(p, "%2x", &v) != 1)
		break;
	    in[n++] = (char) v;
	    p += 2;
	}
	k = addr_qshape_domain(in, n, out);
	put_hex(out, k);
	while ((k = addr_qshape_parent(out, k, out)) > 0) {
	    putchar(' ');
	    put_hex(out, k);
	}
	putchar('\n');
    }
    return 0;
}

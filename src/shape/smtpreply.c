/*
 * smtpreply - SMTP replies a milter may set.  See smtpreply.h.
 */
#include <stdio.h>
#include <string.h>

#include "ascii.h"
#include "smtpreply.h"

int
qc_reply_valid(const char *r, int want, char *err, size_t errlen)
{
    const char *p, *x;
    size_t  n;

    if (strlen(r) > QC_REPLY_MAX) {
	snprintf(err, errlen, "reply is longer than %d bytes", QC_REPLY_MAX);
	return -1;
    }
    for (p = r; *p; p++) {
	if (*p == '\r' || *p == '\n') {
	    snprintf(err, errlen, "reply must not contain CR or LF");
	    return -1;
	}
	if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f) {
	    snprintf(err, errlen, "reply must be printable ASCII");
	    return -1;
	}
	if (*p == '%') {
	    snprintf(err, errlen, "reply must not contain '%%' (libmilter "
		     "would drop the text)");
	    return -1;
	}
    }
    if (!(r[0] == '4' || r[0] == '5') || !(r[1] >= '0' && r[1] <= '5')
	|| !ascii_is_digit(r[2]) || (r[3] != 0 && r[3] != ' ')) {
	snprintf(err, errlen, "reply must start with a 3-digit %s code "
		 "(\"451 4.7.1 text\")", want == 4 ? "4xx" : want == 5
		 ? "5xx" : "4xx or 5xx");
	return -1;
    }
    if (want && r[0] - '0' != want) {
	snprintf(err, errlen, "reply code %.3s is not a %dxx code", r, want);
	return -1;
    }
    for (p = r + 3; *p == ' '; p++)
	continue;
    if (!(ascii_is_digit(p[0]) && p[1] == '.'))
	return 0;
    /* An enhanced status code: class "." 1-3 digits "." 1-3 digits. */
    n = strcspn(p, " ");
    for (x = p + 2; ascii_is_digit(*x) && x < p + 5; x++)
	continue;
    if (x > p + 2 && *x == '.') {
	const char *y;

	for (y = x + 1; ascii_is_digit(*y) && y < x + 4; y++)
	    continue;
	if (y > x + 1 && (size_t) (y - p) == n && strchr("245", p[0])) {
	    if (p[0] != r[0]) {
		snprintf(err, errlen, "enhanced status code %.*s does not "
			 "match reply code %.3s (its class must be %c)",
			 (int) n, p, r, r[0]);
		return -1;
	    }
	    return 0;
	}
    }
    snprintf(err, errlen, "malformed enhanced status code \"%.*s\"",
	     (int) (n > 20 ? 20 : n), p);
    return -1;
}

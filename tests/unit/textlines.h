/*
 * textlines.h - for unit tests of text output (the Prometheus exposition):
 * has_line() and LINE(), which fails the test with the whole output when a
 * line is missing.  Include it once, after <cmocka.h> and <string.h>.
 */
#ifndef QSHAPE_TEXTLINES_H
#define QSHAPE_TEXTLINES_H

/* Is line (without its newline) a whole line of text? */
static int
has_line(const char *text, const char *line)
{
    size_t  n = strlen(line);
    const char *p;

    for (p = text; (p = strstr(p, line)) != 0; p++)
	if ((p == text || p[-1] == '\n') && p[n] == '\n')
	    return 1;
    return 0;
}

#define LINE(text, l) do { \
	if (!has_line((text), (l))) \
	    fail_msg("missing line: %s\n--- output:\n%s", (l), (text)); \
    } while (0)

#endif

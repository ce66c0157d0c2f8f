/*
 * ascii - byte classes for validating text from configuration files and
 * the network: ASCII only, whatever the locale (no <ctype.h>, whose
 * answers depend on it and whose argument must be an unsigned char).
 */
#ifndef QSHAPE_ASCII_H
#define QSHAPE_ASCII_H

static inline int
ascii_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Does v hold a control character (below 0x20, or DEL)? */
static inline int
ascii_has_ctl(const char *v)
{
    for (; *v; v++)
	if ((unsigned char) *v < 0x20 || *v == 0x7f)
	    return 1;
    return 0;
}

/* Does v hold a space or a control character? */
static inline int
ascii_has_space_or_ctl(const char *v)
{
    for (; *v; v++)
	if ((unsigned char) *v <= 0x20 || *v == 0x7f)
	    return 1;
    return 0;
}

#endif

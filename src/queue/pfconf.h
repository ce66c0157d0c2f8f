/*
 * pfconf - ask Postfix for a main.cf parameter with postconf(1).
 *
 * pfconf_get() runs "postconf [-c DIR] -xh NAME" (values expanded) without a shell and returns
 * its first output line.  0 on success; -1 with a reason in err.
 */
#ifndef QSHAPE_PFCONF_H
#define QSHAPE_PFCONF_H

#include <stddef.h>

extern int pfconf_get(const char *config_dir, const char *name,
		      char *out, size_t outlen, char *err, size_t errlen);

#endif

/*
 * pfconf - ask Postfix for a main.cf parameter with postconf(1).
 *
 * pfconf_get() runs "PFCONF_POSTCONF [-c DIR] -xh NAME" (values expanded)
 * without a shell and returns its first output line.  0 on success; -1
 * with a reason in err.  postconf runs by its absolute path with a clean
 * environment (PFCONF_ENV: no inherited MAIL_CONFIG, LD_*, PATH or locale
 * can change what a root daemon runs or reads), stdin from /dev/null.
 */
#ifndef QSHAPE_PFCONF_H
#define QSHAPE_PFCONF_H

#include <stddef.h>

#define PFCONF_POSTCONF	"/usr/sbin/postconf"
#define PFCONF_ENV	"PATH=/usr/sbin:/usr/bin:/sbin:/bin"

extern int pfconf_get(const char *config_dir, const char *name,
		      char *out, size_t outlen, char *err, size_t errlen);

#endif

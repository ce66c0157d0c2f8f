/*
 * cfg_int - what the parts of cfg share inside the library; not for
 * programs, which include cfg.h.
 *
 * cfg is four files: cfg.c (cfg_load, errors, defaults and release, the
 * helpers below), cfg_scan.c (the pre-scan of the text: integers beyond
 * 32 bits, @include directives), cfg_walk.c (a table over libconfig's
 * tree, and the hooks' cfg_has and cfg_error) and cfg_print.c.
 *
 * One CFG_LOAD lives on cfg_load()'s stack for one load.  It owns the
 * include directory, the collected errors (cfg.c) and the pre-scan's
 * records (cfg_scan.c, released by cfg_scan_free()): wrapped integers,
 * includes, and the files read.  Nothing here
 * allocates for the caller except where said.
 */
#ifndef QSHAPE_CFG_INT_H
#define QSHAPE_CFG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#include <libconfig.h>

#include "cfg.h"

#define CFG_PATH_MAX	256		/* "policies[12].queues" */
#define CFG_MSG_MAX	1024

/* An integer literal that libconfig 1.5 wrapped to 32 bits. */
typedef struct OVF {
    char   *file;			/* libconfig's name of the file */
    int     line;
    int     wrapped;			/* what libconfig stored */
    long long value;			/* the true value (saturated) */
    char   *text;			/* as written */
    int     used;
} OVF;

/* An @include directive. */
typedef struct INC {
    char   *file;			/* libconfig's name of the includer */
    int     line;
    char   *name;			/* as written */
    int     err;			/* errno of opening it, or 0 */
} INC;

/* A file the pre-scan read (the main file first), by identity. */
typedef struct SEEN {
    unsigned long long dev, ino;
    char   *file;			/* includer's libconfig name; NULL: main */
    int     line;			/* of the @include */
    int     active;			/* being read now (on the include stack) */
} SEEN;

typedef struct CFG_LOAD {
    const char *path;			/* main file, as given */
    char   *dir;			/* include directory */
    char   *err;
    size_t  errlen;
    struct ERR *errs;
    size_t  nerr;
    OVF    *ovf;
    size_t  novf;
    INC    *inc;
    size_t  ninc;
    SEEN   *seen;
    size_t  nseen;
    size_t  bytes;			/* read by the pre-scan, all files */
    void   *root;
} CFG_LOAD;

static inline int
cfg_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Errors (cfg.c).  Collected in ld; cfg_load() sorts and formats them. */

/* An error in 'file' (libconfig's name; NULL: the main file) at 'line'
 * (0: none). */
extern void cfg_add_error(CFG_LOAD *ld, const char *file, int line,
			  const char *fmt,...)
	__attribute__((format(printf, 4, 5)));

/* The name to show for a file libconfig knows as 'file' (NULL: the main
 * file). */
extern void cfg_show_file(const CFG_LOAD *ld, const char *file, char *buf,
			  size_t len);

/* An error about setting s (NULL: none known), named path ("" for the
 * root). */
extern void cfg_verror(CFG_LOAD *ld, const config_setting_t *s,
		       const char *path, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* Helpers for loading and printing (cfg.c).  They write into buf. */

/* Quote a string value for a message or for printing, libconfig style. */
extern void cfg_quote(const char *s, char *buf, size_t len);

/* Numbers in messages and output: the shortest text that reads back. */
extern void cfg_fmt_double(double d, char *buf, size_t len);

/* "milliseconds", "seconds" or "minutes" (a static string). */
extern const char *cfg_unit_name(int64_t unit);

/* Free the strings and the vector; l itself stays, empty. */
extern void cfg_strlist_free(CFG_STRLIST *l);

#endif

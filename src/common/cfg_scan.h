/*
 * cfg_scan - cfg's own pass over the configuration text, before
 * libconfig reads it.  Internal to cfg (see cfg_int.h).
 *
 * libconfig 1.5 silently wraps a decimal or hex integer literal that does
 * not fit in 32 bits, and its scanner exit()s on an @include it cannot
 * read.  cfg_prescan() lexes the main file and, recursively, every
 * include as libconfig's flex scanner does, and records in ld:
 * - ld->ovf: each integer literal libconfig would wrap, with its true
 *   value (saturated to 64 bits) and its text;
 * - ld->inc: each @include, with errno of opening it (0 if readable);
 * - ld->seen: each file read, by device and inode.
 * It reports with cfg_add_error(), and does not read further: a NUL byte;
 * a number without digits ("." or "-.e5", which libconfig reads as 0);
 * an include of a file already read or being read (a cycle, or the same
 * file twice: each level of repeats would multiply the work); includes
 * nested more than 8 deep; more than 1 MiB in all files together.  A
 * file that cannot be read is skipped silently (the caller checks the
 * main file; the INC record says what is wrong with an include).
 *
 * The records belong to ld; cfg_scan_free() releases them.
 */
#ifndef QSHAPE_CFG_SCAN_H
#define QSHAPE_CFG_SCAN_H

#include "cfg_int.h"

/* Scan ld->path and the files it includes (relative to ld->dir). */
extern void cfg_prescan(CFG_LOAD *ld);

/*
 * The true value of an integer setting (CONFIG_TYPE_INT or _INT64): the
 * first unused record of a wrapped literal at or after the setting's line
 * with libconfig's value, marked used, and its text in *text; else
 * libconfig's value and *text NULL.  *text points into ld.
 */
extern long long cfg_scan_integer(CFG_LOAD *ld, const config_setting_t *s,
				  const char **text);

/* Release ld->ovf and ld->inc. */
extern void cfg_scan_free(CFG_LOAD *ld);

#endif

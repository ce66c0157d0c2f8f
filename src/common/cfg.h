/*
 * cfg - a table-driven configuration loader over libconfig 1.5.
 *
 * A program describes its configuration struct with a CFG_TABLE: one
 * CFG_ITEM per setting (name, type, offset, default, bounds), groups and
 * lists of groups pointing to sub-tables.  cfg_load() fills every default,
 * reads the file, walks every group, rejects unknown settings, checks
 * types and bounds, copies every string out of libconfig and runs the
 * tables' cross-field hooks.  It knows nothing of mail.
 *
 * Errors are collected, not just the first one: err receives one
 * "FILE:LINE: path: message" per line, newline-separated, no trailing
 * newline ("FILE: message" when there is no line, such as for a missing
 * file).  Paths name nested settings as "scanner.queues" and list
 * elements as "policies[0].name".
 *
 * What libconfig 1.5 (Debian 12) gets wrong, and what cfg does about it:
 * - a decimal or hex integer that does not fit in 32 bits is silently
 *   wrapped by the scanner (3000000000 reads as -1294967296); cfg lexes
 *   the files itself for such literals and uses their true value;
 * - a missing file is "file I/O error": cfg checks the file first;
 * - @include paths resolve against the working directory: cfg sets the
 *   include directory to the directory of the main file, so include paths
 *   are relative to it (nested includes too); absolute include paths would
 *   be prefixed as well, so cfg rejects them;
 * - unknown settings are not errors in libconfig: cfg rejects them;
 * - "." and "-.e5" are floats to libconfig, read as 0: cfg rejects a
 *   number without digits;
 * - libconfig reads an included file as often as it is included, to 10
 *   levels (N includes of N includes: N^10 reads): cfg reads each file
 *   once, refuses cycles and repeats, nesting deeper than 8 and more than
 *   1 MiB in all files.
 * Every error is one line: control characters are shown as \xNN.
 *
 * Ownership: cfg_load() allocates the strings, string lists and group
 * arrays inside the caller's struct; cfg_free() releases them (not the
 * struct itself).  The struct is the caller's; after a successful load it
 * is meant to be treated as immutable.
 */
#ifndef QSHAPE_CFG_H
#define QSHAPE_CFG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum CFG_TYPE {
    CFG_BOOL,				/* int, 0 or 1 */
    CFG_INT,				/* int64_t in [min, max] */
    CFG_FLOAT,				/* double in [fmin, fmax]; ints accepted */
    CFG_DURATION,			/* int64_t in 'unit': 90 or "90s" */
    CFG_MODE,				/* int64_t: octal string "0660" */
    CFG_STRING,				/* char *, owned */
    CFG_ENUM,				/* int: values[i] (or i) of names[i] */
    CFG_STRINGS,			/* CFG_STRLIST: array or list of strings */
    CFG_GROUP,				/* nested struct at offset: sub */
    CFG_GROUPLIST			/* list of groups: pointer + count */
} CFG_TYPE;

/* Flags. */
#define CFG_REQUIRED	(1u << 0)	/* must be present */
#define CFG_MIN_EXCL	(1u << 1)	/* CFG_FLOAT: value > fmin */
#define CFG_UNIQUE	(1u << 2)	/* CFG_STRINGS: no duplicates */
#define CFG_LOWER	(1u << 3)	/* strings: ASCII lower case first */

/* Units of CFG_DURATION, in milliseconds. */
#define CFG_MSEC	1
#define CFG_SEC		1000
#define CFG_MIN		60000

typedef struct CFG_STRLIST {
    size_t  n;
    char  **v;
} CFG_STRLIST;

typedef struct CFG_NODE CFG_NODE;	/* a group being loaded (opaque) */
typedef struct CFG_TABLE CFG_TABLE;

/*
 * Extra validation of a string value (CFG_STRING, CFG_ENUM before the name
 * is matched, each CFG_STRINGS element).  It may rewrite the value in
 * place, no longer.  Returns 0, or -1 with a message (cfg prefixes
 * "FILE:LINE: path: ").
 */
typedef int (*CFG_CHECK) (char *value, char *msg, size_t msglen);

typedef struct CFG_ITEM {
    const char *name;			/* NULL ends a table */
    CFG_TYPE type;
    size_t  offset;			/* into the group's struct */
    unsigned flags;
    int64_t min, max;			/* INT, DURATION, MODE; list lengths */
    double  fmin, fmax;			/* FLOAT */
    int64_t idef;			/* BOOL, INT, DURATION, MODE, ENUM value */
    double  fdef;			/* FLOAT */
    const char *sdef;			/* STRING (NULL = "") */
    const char *const *ldef;		/* STRINGS, NULL-terminated */
    const char *const *names;		/* ENUM; STRINGS: allowed elements */
    const int *values;			/* ENUM: value of names[i] (NULL: i) */
    int64_t unit;			/* DURATION: CFG_MSEC, CFG_SEC, CFG_MIN */
    CFG_CHECK check;
    int     (*show) (const void *obj);	/* cfg_print: print it? (NULL: yes) */
    const CFG_TABLE *sub;		/* GROUP, GROUPLIST */
    size_t  size;			/* GROUPLIST: element size */
    size_t  count_offset;		/* GROUPLIST: size_t count; offset is
					 * the element pointer */
} CFG_ITEM;

/*
 * A group's settings and its cross-field hook.  Items load in table
 * order; a hook runs after its group loaded without error and may read
 * anything loaded before it through 'root' (the top-level struct).  It
 * reports errors with cfg_error() and may fill derived fields.
 */
struct CFG_TABLE {
    const CFG_ITEM *items;
    void    (*post) (CFG_NODE *node, void *obj, void *root);
};

/*
 * Fill obj with the table's defaults, then load path.  Returns 0, or -1
 * with the errors in err (see above).  Either way obj must be released
 * with cfg_free().
 */
extern int cfg_load(const CFG_TABLE *, void *obj, const char *path,
		    char *err, size_t errlen);

/* Fill obj with the defaults only (what cfg_load does first). */
extern void cfg_defaults(const CFG_TABLE *, void *obj);

/* Release what cfg allocated inside obj; obj itself stays. */
extern void cfg_free(const CFG_TABLE *, void *obj);

/* Print obj in libconfig syntax, every setting, loadable again. */
extern void cfg_print(const CFG_TABLE *, const void *obj, FILE *fp);

/* Hooks: is the setting at 'path' (relative to node: "a", "a[1].b")
 * present in the file? */
extern int cfg_has(const CFG_NODE *, const char *path);

/* Hooks: report an error at the setting 'path' (its line if present,
 * else the group's line); path NULL names the group itself. */
extern void cfg_error(CFG_NODE *, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Name of an enum value, for messages and printing ("?" if none). */
extern const char *cfg_enum_name(const CFG_ITEM *, int value);

/* Parse a duration "90", "90s", "5m", "100ms", "1h", "1d" into units of
 * 'unit' milliseconds: 0, or -1 with a message. */
extern int cfg_parse_duration(const char *, int64_t unit, int64_t *out,
			      char *msg, size_t msglen);

#endif

/*
 * cfg_walk - a CFG_TABLE walked over the tree libconfig read.  Internal
 * to cfg (see cfg_int.h).
 *
 * For each group: every setting in the file must be in the table
 * ("unknown setting", with a "did you mean" for near misses); every item
 * present is type- and bound-checked and stored at its offset (strings
 * copied, lower-cased and checked, lists of strings, nested groups and
 * lists of groups); a missing CFG_REQUIRED item is an error; then, if the
 * group loaded without error, the table's post hook runs with a CFG_NODE
 * (for cfg_has() and cfg_error(), defined here too).
 *
 * Errors go to ld (cfg_verror()); what is stored in obj belongs to obj
 * (cfg_free() releases it), also after errors.
 */
#ifndef QSHAPE_CFG_WALK_H
#define QSHAPE_CFG_WALK_H

#include "cfg_int.h"

/* Load the root group 'root' into obj (which holds the defaults). */
extern void cfg_walk(CFG_LOAD *ld, const CFG_TABLE *t,
		     const config_setting_t *root, void *obj);

#endif

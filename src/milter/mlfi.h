/*
 * mlfi - the libmilter callbacks of qshape-milter (mlfi.c).
 */
#ifndef QSHAPE_MLFI_H
#define QSHAPE_MLFI_H

#include <libmilter/mfapi.h>

#include "counters.h"

extern struct smfiDesc mlfi_desc;

/* Where the callbacks count (NULL: nowhere).  Set before smfi_main(). */
extern void mlfi_set_counters(CT_W *);

#endif

/*
 * mlfi - the libmilter callbacks of qshape-milter (mlfi.c).
 */
#ifndef QSHAPE_MLFI_H
#define QSHAPE_MLFI_H

#include <libmilter/mfapi.h>

extern struct smfiDesc mlfi_desc;

#endif

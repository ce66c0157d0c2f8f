/*
 * qfile - open, check and parse one queue file, safely.
 *
 * The rules every reader of the queue follows: check the type without
 * following links and open only a regular file (a FIFO must not hang us,
 * a device node must not be opened at all), open with O_NOFOLLOW and
 * O_NONBLOCK all the same (a name swapped in between), never lock, apply
 * Postfix's test of a complete file (regular, owner rwx), read with
 * pread() from a window that starts at the first 4 KiB and grows only
 * when the envelope needs it.
 * Used by the queue walker and by the scanner for single files.
 *
 * A QFILE_READER owns its parser and buffer; the facts it returns stay
 * valid until its next qfile_read() or qfile_reader_destroy().
 */
#ifndef QSHAPE_QFILE_H
#define QSHAPE_QFILE_H

#include <stdint.h>

#include "qf.h"

/* Is this file name a queue ID?  [A-Za-z0-9]{6,}; cleanup's temporary
 * names hold a dot. */
extern int qfile_is_queue_id(const char *name);

typedef enum QFILE_STATUS {
    QFILE_OK = 0,			/* parsed: facts are valid */
    QFILE_VANISHED,			/* gone before we opened it */
    QFILE_NOT_REGULAR,			/* symlink, FIFO, directory, ... */
    QFILE_NOT_READY,			/* owner bits not rwx: in progress */
    QFILE_UNREADABLE,			/* open, fstat or read failed: errnum */
    QFILE_CORRUPT			/* the parser refused it: qf_status */
} QFILE_STATUS;

typedef struct QFILE_RESULT {
    const QF_FACTS *facts;		/* QFILE_OK */
    int64_t mtime;			/* seconds */
    int     errnum;			/* QFILE_UNREADABLE */
    QF_STATUS qf_status;		/* QFILE_CORRUPT */
} QFILE_RESULT;

typedef struct QFILE_READER QFILE_READER;

/* NULL when out of memory. */
extern QFILE_READER *qfile_reader_create(void);
extern void qfile_reader_destroy(QFILE_READER *);

extern QFILE_STATUS qfile_read(QFILE_READER *, int dirfd, const char *name,
			       unsigned qf_flags, QFILE_RESULT *);

#endif

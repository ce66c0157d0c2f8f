/*
 * relstate - what "qshapectl release --metered" keeps between its runs:
 * each metered policy's credit (meter.h's MT_BUCKET), on the monotonic
 * clock of one boot, in a small file that root owns (by default
 * RS_DEFAULT_PATH).
 *
 * The file is text:
 *	qshape-release-state 1 BOOT_ID
 *	NAME STARTED UNITS LAST_MS	(one line per metered policy)
 * BOOT_ID is the kernel's boot_id as 32 hex digits (shm_boot_id()): a
 * bucket's LAST_MS is of that boot's CLOCK_MONOTONIC, meaningless after
 * a reboot, when every bucket starts over.
 *
 * Pure: rs_parse() and rs_format() (no I/O, no errno).  rs_parse() sets
 * the bucket of each policy the text names (by name) and leaves the others
 * as they are (zero: they start over); it returns RS_OK, RS_OTHER_BOOT
 * (nothing set) or RS_BAD (malformed; nothing set).  rs_format() writes
 * the text into buf and returns its length (>= len: did not fit).
 *
 * The I/O edge (0 or -1 with a reason in err): rs_open() opens the file
 * for this run and locks it (flock, exclusive, not waiting: -2 when
 * another run holds it).  Its directory is created mode 0700 when missing
 * (its parent must exist); it must be a real directory (not a link) owned
 * by this user and writable by nobody else; the file is opened without
 * following a link, created mode 0600, and must be a regular file of this
 * user with one link (a group or other bit is removed).  rs_read() reads
 * it whole into buf (NUL-terminated; -1 when longer than len - 1);
 * rs_write() replaces its contents.  The caller closes the descriptor,
 * which releases the lock.
 */
#ifndef QSHAPE_RELSTATE_H
#define QSHAPE_RELSTATE_H

#include <stddef.h>

#include "meter.h"

#define RS_DEFAULT_PATH	"/var/lib/qshape-milter/release.state"
#define RS_MAX_BYTES	16384		/* QC_MAX_POLICIES lines and more */

typedef enum RS_STATUS {
    RS_OK,
    RS_OTHER_BOOT,
    RS_BAD
} RS_STATUS;

extern RS_STATUS rs_parse(const char *text, const unsigned char boot[16],
			  const MT_POLICY *, MT_BUCKET *, size_t npolicies);
extern size_t rs_format(char *buf, size_t len, const unsigned char boot[16],
			const MT_POLICY *, const MT_BUCKET *,
			size_t npolicies);

extern int rs_open(const char *path, char *err, size_t errlen);
extern int rs_read(int fd, char *buf, size_t len, char *err, size_t errlen);
extern int rs_write(int fd, const char *text, size_t n, char *err,
		    size_t errlen);

#endif

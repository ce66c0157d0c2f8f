/*
 * rec - the Postfix queue-file record format, in one place.
 *
 * A queue file is a sequence of records: one type byte, the data length as
 * a base-128 varint (low 7 bits first, high bit set on all but the last
 * byte), then the data.  The type letters are Postfix's (src/global/
 * rec_type.h); only those this project reads or writes are named here.
 *
 * rec_get_len() decodes a length; rec_put() encodes a record (used by the
 * test and benchmark generators).  Neither allocates nor does I/O.
 */
#ifndef QSHAPE_REC_H
#define QSHAPE_REC_H

#include <stddef.h>
#include <stdint.h>

#define REC_SIZE	'C'	/* size record, first in a cleanup file */
#define REC_TIME	'T'	/* arrival time "sec usec" */
#define REC_FULL	'F'	/* sender full name */
#define REC_FROM	'S'	/* envelope sender */
#define REC_DONE	'D'	/* delivered recipient (R overwritten) */
#define REC_RCPT	'R'	/* recipient still to deliver */
#define REC_ORCP	'O'	/* original recipient */
#define REC_DRCP	'/'	/* recipient deleted by a milter */
#define REC_ATTR	'A'	/* named attribute "name=value" */
#define REC_MESG	'M'	/* start of content */
#define REC_CONT	'L'	/* long content line (also loop filter) */
#define REC_NORM	'N'	/* content line */
#define REC_XTRA	'X'	/* end of content, start of extracted records */
#define REC_PTR		'p'	/* pointer: jump to the offset it holds */
#define REC_PAD		'w'	/* padding */
#define REC_END		'E'	/* end of file */

/* Width of the fixed-size numbers in C and p records. */
#define REC_NUM_WIDTH	15

/* Longest length we decode: 5 varint bytes hold 35 bits; cap at 2^31-1. */
#define REC_LEN_MAX	0x7fffffffL

/*
 * Decode the varint length at p[0..avail).  Returns the number of bytes
 * used (1..5), 0 when more bytes are needed, -1 when the encoding is longer
 * than 5 bytes or the value exceeds REC_LEN_MAX.
 */
extern int rec_get_len(const unsigned char *p, size_t avail, size_t *len);

/*
 * Encode a record of type 'type' with 'len' bytes of data into out[0..cap).
 * Returns the number of bytes written, or 0 when it does not fit.
 */
extern size_t rec_put(unsigned char *out, size_t cap, int type,
		      const void *data, size_t len);

#endif

/*
 * qreason - the quarantine reason qshape-milter gives Postfix for a held
 * message: "qshape-milter policy=NAME key=KIND:KEY".
 *
 * Postfix logs the reason in its own "milter-hold" line (up to 100
 * bytes), so the policy and key come first and the whole is short and
 * safe in a log line: every byte of the key outside '!'..'~', and '\',
 * is written as \xHH; the result is cut at len - 1 bytes, never inside an
 * escape.  Pure: no I/O.
 */
#ifndef QSHAPE_QREASON_H
#define QSHAPE_QREASON_H

#include <stddef.h>

#define QR_MAX	100			/* what Postfix logs of it */

/* Write the reason into buf (len >= 1); returns its length. */
extern size_t qr_format(char *buf, size_t len, const char *policy,
			const char *kind, const char *key, size_t key_len);

#endif

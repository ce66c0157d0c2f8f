/*
 * holdmark - the hold mark: the record in a held message that says which
 * policy and key held it, and when.  Pure: strings in, strings out; no
 * I/O, no errno.
 *
 * Where the mark lives, and why there.  A milter can change only headers,
 * body, recipients and the sender of a message; Postfix logs the
 * quarantine reason but does not store it in the queue file.  So the
 * milter adds one header at end of message, with smfi_addheader():
 *
 *	X-Qshape-Hold: policy=flood key=sender_domain:example.com time=1764662400
 *
 * The queue file is the state: the mark survives restarts of Postfix and
 * of our daemons, moves with the file, and needs no database that could
 * disagree with the queue.  An SMTP client can write that header too, so
 * the parser (qf.c, QF_WANT_HOLD) believes a mark only where no client can
 * put one: cleanup writes a header added by a milter past the end of the
 * content segment (after E) and links it in with pointer records; what
 * the client sent lies between M and X.  A forged header in the message
 * is therefore ignored, and so is our own header in a message that went
 * through cleanup again (postsuper -r), which is no longer held by us.
 *
 * The value, exactly (SP is one space, no other white space):
 *
 *	"policy=" NAME SP "key=" KIND ":" EKEY SP "time=" SECONDS
 *	[SP "truncated=1"]
 *
 *   NAME     the policy name, [A-Za-z0-9_-]{1,31};
 *   KIND     a key kind of vocab.h that a policy may name
 *	      (sender_domain, parent_domain, sender, client_address,
 *	      sasl_username);
 *   EKEY     the key's bytes: 0x21-0x7e except '%' as they are, every other
 *	      byte as '%' and two upper-case hex digits (so "%25" is '%',
 *	      "%20" a space, "%00" a NUL); at most HM_KEY_MAX bytes of the key
 *	      are kept: a longer key keeps its first HM_KEY_MAX bytes and the
 *	      value ends in " truncated=1";
 *   SECONDS  the time of the hold, seconds since the epoch, decimal, no
 *	      sign, no leading zero (except "0"), at most 19 digits.
 * The value is printable ASCII, at most HM_VALUE_MAX - 1 bytes, so the
 * whole header line (878 bytes at most) stays within RFC 5322's 998 and
 * Postfix's line_length_limit, in one queue-file record.  The same text
 * suits the quarantine reason (Postfix logs its first 100 bytes).
 *
 * The milter, at end of message, before smfi_quarantine():
 *
 *	char	v[HM_VALUE_MAX];
 *	if (hm_format(v, sizeof(v), policy, kind, key, key_len, time(0)) > 0)
 *	    smfi_addheader(ctx, HM_HEADER, v);
 *
 * smfi_addheader(), not smfi_insheader() or smfi_chgheader(): only an
 * appended header is where the parser looks.
 *
 * Errors: hm_format() returns the length or -1; hm_parse() and
 * hm_key_decode() return an HM_STATUS, named by hm_strerror().
 */
#ifndef QSHAPE_HOLDMARK_H
#define QSHAPE_HOLDMARK_H

#include <stddef.h>
#include <stdint.h>

#include "qf.h"

#define HM_HEADER	QF_HOLD_HEADER	/* "X-Qshape-Hold" */
#define HM_POLICY_MAX	31		/* policy name bytes (QC_NAME_MAX) */
#define HM_KEY_MAX	256		/* key bytes kept (QS_KEY_BYTES) */

/* Buffer for a value: 7 + 31 + 5 + 14 + 1 + 3 * 256 + 6 + 19 + 12, + 1. */
#define HM_VALUE_MAX	864

typedef enum HM_STATUS {
    HM_OK = 0,
    HM_BAD_SYNTAX,			/* not the grammar above */
    HM_BAD_POLICY,			/* not a policy name */
    HM_BAD_KIND,			/* unknown key kind */
    HM_BAD_KEY,				/* bad escape, empty or too long */
    HM_BAD_TIME,			/* not a time */
    HM_NSTATUS
} HM_STATUS;

typedef struct HM_MARK {
    char    policy[HM_POLICY_MAX + 1];	/* NUL-terminated */
    int     kind;			/* QS_KEY_* */
    char    key[HM_KEY_MAX + 1];	/* decoded; NUL-terminated, may
					 * hold NULs: use key_len */
    size_t  key_len;			/* 1..HM_KEY_MAX */
    int     truncated;			/* the key was longer: key holds
					 * its first HM_KEY_MAX bytes */
    int64_t time;			/* of the hold, s since the epoch */
} HM_MARK;

/*
 * Write the value of the mark (not the header name) into buf, NUL-
 * terminated.  policy: a policy name; kind: a QS_KEY_* a policy may name;
 * key: key_len bytes (1 or more), any bytes; when: seconds >= 0.  Returns
 * the length written, or -1 when an argument is invalid or buflen is too
 * small (HM_VALUE_MAX always suffices).
 */
extern int hm_format(char *buf, size_t buflen, const char *policy, int kind,
		     const void *key, size_t key_len, int64_t when);

/* Parse a value of len bytes (white space after the header's colon may
 * lead; nothing may follow).  On HM_OK *mark is filled in. */
extern HM_STATUS hm_parse(const char *value, size_t len, HM_MARK *mark);

/*
 * Decode an EKEY as written in the value (and as "qshapectl held" prints
 * it) into out[0..outlen), NUL-terminated; *out_len is its length.
 * HM_BAD_KEY for a bad escape or a result longer than outlen - 1.
 */
extern HM_STATUS hm_key_decode(const char *s, size_t len, char *out,
			       size_t outlen, size_t *out_len);

/* Encode key bytes as EKEY into out, NUL-terminated (outlen >= 3 * len
 * + 1); returns the length. */
extern size_t hm_key_encode(const void *key, size_t len, char *out);

/* A short description: "bad key escape", ... */
extern const char *hm_strerror(HM_STATUS);

#endif

/*
 * sumview - the summary body as people read it: "qshapectl status" lines,
 * and queues found by name, with every string field of the body read
 * within its field and printed escaped.
 *
 * The strings of a summary (queue names, policy names, key text) are
 * fixed-size, NUL-padded fields written by another process: nothing
 * promises a NUL inside them, and key text comes from senders and
 * clients.  So every field is read at most its size (strnlen) and shown
 * through log_printable() (log.h says what it escapes), as the logs show
 * the same text.
 *
 * The body is one that passed shm_reader_copy() (counts within capacity,
 * offsets matching the geometry).  Kinds and actions out of range are
 * named "?" (vocab.h).  Nothing returned is allocated.
 */
#ifndef QSHAPE_SUMVIEW_H
#define QSHAPE_SUMVIEW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qshape/summary.h"

/*
 * A NUL-padded field of size bytes, maybe without a NUL, as printable
 * text: its bytes before the first NUL (at most size), escaped, and a NUL,
 * into dst of at least size + 1 bytes.  Returns dst.
 */
extern char *sv_field(char *dst, const char *field, size_t size);

/* now - then in seconds, clamped to what int64_t holds: a time read from
 * the summary cannot make the difference overflow. */
extern int64_t sv_ago(int64_t now, int64_t then);

/*
 * Why the scanner keeps a throttled key throttled (QS_KEPT_*), with what
 * is left of its hold time at now: " kept=queue,min_hold_time(41s),pressure"
 * (the flags that are set, in that order), or "" when the entry names
 * none (a key that has just entered).  Truncated to len; returns buf.
 */
#define SV_KEPT_BYTES	64		/* holds the longest */
extern char *sv_kept(char *buf, size_t len, const QS_THROTTLE *e,
		             int64_t now);

/* The index of the queue named name in the body, or -1. */
extern int sv_queue_find(const void *body, const char *name);

/*
 * The body part of "qshapectl status", now in unix seconds:
 *   messages: N
 *     QUEUE      N                      (one line per queue)
 *   throttled: N
 *     policy=P key=KIND:KEY action=A count=N total=N share=0.44
 *     since=95s entered_at=N/N[ kept=...]   (one line per key, sv_kept())
 */
extern void sv_status(FILE *fp, const void *body, int64_t now);

#endif

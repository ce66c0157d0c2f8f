/*
 * vocab.h - the one vocabulary of key kinds and actions, shared by the
 * scanner, the milter and qshapectl: their names in the configuration,
 * in logs and on the screen, and their parsing.
 *
 * The numbers are the QS_KEY_* and QS_ACTION_* of summary.h (part of the
 * shared-memory layout); this header only names them.  Names are static
 * strings; a number out of range is named "?".  Parsers return the number,
 * or -1 for a name they do not know.
 *
 * Which actions a setting admits is the configuration's business
 * (conf.c): "action" takes tempfail, hold, log; "local_action" takes hold,
 * log, accept.
 */
#ifndef QSHAPE_VOCAB_H
#define QSHAPE_VOCAB_H

#include "qshape/summary.h"

/* "sender_domain", ... "rcpt_domain"; "?" out of range. */
extern const char *qs_kind_name(int kind);

/* QS_KEY_*, or -1.  Only the kinds a policy may name (not rcpt_domain). */
extern int qs_kind_parse(const char *name);

/* "log", "tempfail", "hold", "accept"; "?" out of range. */
extern const char *qs_action_name(int action);

/* QS_ACTION_*, or -1. */
extern int qs_action_parse(const char *name);

#endif

/*
 * sumr - the milter's view of the summary: whether it is usable, and
 * lookups in its throttle set, shared by every worker thread.
 *
 * sumr_state() opens the summary when needed (at most once a second while
 * it is missing), checks the writer's heartbeat, and logs each change of
 * state once, not per message.  sumr_lookup() is a VD_LOOKUP.
 */
#ifndef QSHAPE_SUMR_H
#define QSHAPE_SUMR_H

#include <stddef.h>
#include <stdint.h>

#include "verdict.h"

extern VD_SUMMARY sumr_state(const char *name, int64_t stale_after,
			     int64_t now);
extern int sumr_lookup(void *ctx, int kind, const char *key, size_t len,
		       uint64_t policy_digest, QS_THROTTLE *out);
extern void sumr_shutdown(void);

#endif

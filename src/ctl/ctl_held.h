/*
 * ctl_held - what "qshapectl held", "release", "delete" (ctl_held.c) and
 * "release --metered" (ctl_meter.c) share: the options, the held
 * messages that qshape-milter marked, reading the hold queue and handing
 * queue IDs to postsuper.
 *
 * held_queue_dir() opens the Postfix queue directory (from -c, the
 * configuration or postconf; fatal when it cannot).  held_read() reads
 * the hold queue into l (l->o set, the rest zeroed): the messages with a
 * valid mark that o->filter selects, sorted by arrival, and the counts;
 * held_free() releases what it allocated.  held_act() prints each message
 * of l, runs postsuper on them (o->verb: -H or -d; nothing with
 * o->dry_run), reads the hold queue again and prints what was done;
 * returns 0, or 1 when postsuper failed or a message is still held.
 */
#ifndef QSHAPE_CTL_HELD_H
#define QSHAPE_CTL_HELD_H

#include <stddef.h>
#include <stdint.h>

#include "heldsel.h"
#include "holdmark.h"

typedef enum VERB {
    VERB_LIST,
    VERB_RELEASE,
    VERB_DELETE
} VERB;

typedef struct HELD_OPTS {
    VERB    verb;
    HS_FILTER filter;
    int     json;
    int     all;
    int     dry_run;
    int64_t now;
    const char *config_path;		/* -f: qshape-milter.conf */
    const char *pf_dir;			/* -c: Postfix configuration */
} HELD_OPTS;

typedef struct HELD_MSG {
    char   *id;
    int64_t arrival;			/* s */
    char   *sender;			/* sender_len bytes, NUL-terminated */
    size_t  sender_len;
    size_t  nrcpt;
    uint64_t size;
    HM_MARK mark;
    int     still_held;			/* seen again after postsuper */
} HELD_MSG;

typedef struct HELD_LIST {
    const HELD_OPTS *o;
    HELD_MSG *v;
    size_t  n;
    size_t  cap;
    uint64_t ours;			/* with a valid mark */
    uint64_t others;			/* without one */
    uint64_t bad_marks;			/* of those: a mark we cannot read */
} HELD_LIST;

extern int held_queue_dir(HELD_OPTS *);
extern void held_read(int base_fd, HELD_LIST *);
extern void held_free(HELD_LIST *);
extern int held_act(const HELD_OPTS *, int base_fd, HELD_LIST *);

/* "qshapectl release --metered" (ctl_meter.c). */
extern int ctl_release_metered(int argc, char **argv);

#endif

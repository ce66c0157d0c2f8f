/*
 * shm_int - what the shm files share and nobody else uses: the layout
 * computed from a geometry, the atomic word accessors, the header and body
 * checks, and the trusted directory walk.  shm.h is the public interface
 * and has the file life cycle, the protocol and the threat model.
 *
 * Shared words are only ever touched through ld64()/st64() (C11 atomics on
 * 64-bit words), except the header fields written before the file is
 * renamed into place (and rewritten only by a header repair).  Private
 * buffers are read and written with memcpy() so that no struct is
 * accessed through a uint64_t lvalue.
 */
#ifndef QSHAPE_SHM_INT_H
#define QSHAPE_SHM_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "log.h"
#include "shm.h"

/* Where each part of a body lies; a function of the capacity only. */
typedef struct SHM_LAYOUT {
    uint32_t max_keys;
    uint32_t max_throttle;
    uint32_t nindex;
    uint64_t off_queue, off_table, off_key, off_throttle, off_index;
    uint64_t off_policy;
    uint64_t body_size;
    uint64_t body_offset[2];
    uint64_t segment_size;
} SHM_LAYOUT;

/* The header fields written once at creation: all before seq. */
#define SHM_HDR_CONST	offsetof(QS_HEADER, seq)

struct SHM_W {
    char   *name;			/* the summary file's path */
    unsigned char *map;			/* the file, read-write */
    SHM_LAYOUT lay;
    unsigned char *body;		/* private, lay.body_size bytes */
    uint64_t serial;
    unsigned char hdr[SHM_HDR_CONST];	/* the header as we wrote it */
    int     repaired;			/* a header repair was logged */
};

/* Atomic 64-bit words of a mapping. */
static inline uint64_t
ld64(const void *p, memory_order mo)
{
    return atomic_load_explicit((const _Atomic uint64_t *) p, mo);
}

static inline void
st64(void *p, uint64_t v, memory_order mo)
{
    atomic_store_explicit((_Atomic uint64_t *) p, v, mo);
}

#define HDR(base)	((QS_HEADER *) (base))
#define RETIRED(base)	(&HDR(base)->retired)

/* snprintf into err when err is not NULL. */
extern void shm_seterr(char *err, size_t errlen, const char *fmt, ...)
	LOG_FMT(3, 4);

/* shm_layout.c */
extern int shm_layout(SHM_LAYOUT *, uint32_t max_keys, uint32_t max_throttle);
extern void shm_stamp_layout(QS_BODY *, const SHM_LAYOUT *);
extern int shm_body_check(const QS_BODY *, const QS_TABLE *,
			  const SHM_LAYOUT *);
extern SHM_ERR shm_check_header(const QS_HEADER *, uint64_t file_size,
				SHM_LAYOUT *, char *err, size_t errlen);

/*
 * shm_path.c.  shm_dir_open() walks the directories of the summary file
 * path from "/" (the threat model in shm.h has the rules) and returns an
 * O_PATH descriptor on the summary's directory, its owner (the expected
 * writer) and the file's name within it (a pointer into path).  want_uid
 * -1 accepts any owner of that directory (readers); otherwise the owner
 * must be want_uid (the writer).  SHM_OK, or SHM_MISSING (a directory is
 * missing), SHM_UNTRUSTED or SHM_IOERR with errno and err set.
 */
extern SHM_ERR shm_dir_open(const char *path, long want_uid, int *dirfd,
			    uid_t *owner, const char **name, char *err,
			    size_t errlen);

#endif

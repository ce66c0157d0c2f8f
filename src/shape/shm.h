/*
 * shm - publication of the queue-shape summary in POSIX shared memory.
 *
 * One writer per segment (qshape-scand) fills a private body and publishes
 * it; many readers (qshape-milter processes, qshapectl) map the segment
 * PROT_READ and take consistent copies, or look one throttled key up in
 * O(1) without copying the body.  include/qshape/summary.h has the layout;
 * this module computes the body geometry, creates, replaces and retires
 * segments, and runs the publication protocol.
 *
 * Segments.  shm_writer_create() always makes a NEW segment: it is built
 * under NAME.tmp.PID (mode 0640, group gid), then renamed over NAME, and
 * the segment it replaced, if any, is marked retired (QS_HEADER
 * retired).  A reader that finds its mapping
 * retired reopens NAME by itself.  A capacity change is a new writer with
 * the new geometry; a restarted scanner is the same.  generation is 1 for
 * the first segment under a name and the replaced segment's + 1 after.
 * shm_writer_destroy() unmaps but does not unlink: readers then see the
 * heartbeat go stale, which is how they learn the scanner died.
 *
 * Body geometry, from SHM_GEOM (every part 8-byte aligned, the body a
 * multiple of 8 bytes, each copy 64-byte aligned in the segment):
 *   QS_BODY, queue[QS_MAX_QUEUES], table[QS_NKEYKINDS], key[max_keys],
 *   throttle[max_throttle], index[nindex], nindex = the next power of two
 *   >= 2 * max_throttle (at least 1).
 * The geometry is a function of (max_keys, max_throttle) only; a reader
 * recomputes it and refuses a segment that disagrees.
 *
 * Publication protocol (a seqlock over two copies).  Header seq counts
 * publications started; latch names the current copy.  Every shared word is
 * accessed with C11 atomics, 64 bits wide:
 *   writer: s = seq; store seq = s + 1 (release); fence(release);
 *           store the private body into copy[1 - latch], word by word
 *           (relaxed); store latch = 1 - latch (release);
 *           store heartbeat = now (release).
 *   reader: s1 = load seq (acquire); c = load latch (acquire);
 *           load the words of copy[c] (relaxed); fence(acquire);
 *           s2 = load seq (relaxed); the copy is good iff s1 == s2,
 *           otherwise retry, at most SHM_RETRIES times.
 * The seq store is a release store, not a relaxed one: a reader that sees
 * seq = s must also see the latch stored by publication s - 1, or it could
 * pick the copy publication s is writing and still find s1 == s2.  Readers
 * thus only retry when a publication STARTS during their read; one in
 * progress writes the other copy.  shm_reader_find_throttle() reads the
 * index slots and the candidate entries under the same protocol.
 *
 * Keys.  qs_key_hash() is 64-bit FNV-1a over the kind (one byte) then the
 * key bytes, with FNV's standard offset basis and prime and no seed, so
 * every process computes the same value.  index[] holds entry number + 1
 * (0 = empty), linear probing from hash & (nindex - 1); publish builds it
 * from throttle[0..nthrottle).  Key text is NUL-padded; a key of
 * QS_KEY_BYTES bytes or more is stored as its first QS_KEY_BYTES - 1 bytes
 * and matched by those plus the hash of the whole key.  Fill entries with
 * shm_throttle_set_key() to get hash, kind and text consistent.
 *
 * Ownership and errors.  Constructors return NULL and a reason in err
 * (shm_reader_open also an SHM_ERR).  Reader I/O returns 0 (or 1/0 for
 * found/not found) and -1 with errno.  A writer invariant broken by the
 * caller (counts beyond capacity at publish) is log_panic().  A handle is
 * not thread-safe: one SHM_R per thread (mappings are cheap).  Pointers
 * from shm_writer_body() belong to the writer; buffers passed to the
 * reader belong to the caller.
 */
#ifndef QSHAPE_SHM_H
#define QSHAPE_SHM_H

#include <stddef.h>
#include <stdint.h>

#include "qshape/summary.h"

#define SHM_RETRIES	64		/* reader attempts per call */
#define SHM_NAME_MAX	200		/* bytes of a segment name, with '/' */
#define SHM_MAX_BODY	((uint64_t) 1 << 30)	/* bytes of one body copy */
#define SHM_MAX_THROTTLE ((uint32_t) 1 << 24)	/* keeps nindex in 32 bits */
#define SHM_MODE	0640

typedef struct SHM_GEOM {
    uint32_t max_keys;			/* capacity of key[] */
    uint32_t max_throttle;		/* capacity of throttle[] */
} SHM_GEOM;

typedef enum SHM_ERR {
    SHM_OK = 0,
    SHM_MISSING,			/* no segment under that name */
    SHM_FOREIGN,			/* bad magic, sizes or geometry */
    SHM_VERSION,			/* unknown major version */
    SHM_IOERR				/* open, stat, map failed (errno) */
} SHM_ERR;

/* Reader counters since shm_reader_open(). */
typedef struct SHM_STATS {
    uint64_t reads;			/* good copies and lookups */
    uint64_t retries;			/* attempts spoiled by a publication */
    uint64_t exhausted;			/* calls that ran out of attempts */
    uint64_t reopens;			/* retired mappings replaced */
} SHM_STATS;

typedef struct SHM_W SHM_W;
typedef struct SHM_R SHM_R;

/* 64-bit FNV-1a of the kind byte, then the key bytes. */
extern uint64_t qs_key_hash(int kind, const char *key, size_t len);

/* Set e's hash, kind and text (NUL-padded, truncated as above). */
extern void shm_throttle_set_key(QS_THROTTLE *e, int kind, const char *key,
				 size_t len);

/*
 * Writer.  name is a POSIX shm name ("/qshape-milter"); gid -1 keeps the
 * creator's group.  The private body starts zeroed with the QS_BODY offsets
 * set; shm_writer_clear() returns it to that state.  publish stamps the
 * offsets and serial, builds index[], then publishes; published,
 * published_ns and last_reconcile are the caller's to set.
 * shm_writer_index() builds index[] in the private body now, for a caller
 * that needs the final bytes before publishing (publish rebuilds it the
 * same way).
 */
extern SHM_W *shm_writer_create(const char *name, const SHM_GEOM *geom,
				long gid, char *err, size_t errlen);
extern void *shm_writer_body(SHM_W *);
extern size_t shm_writer_body_size(const SHM_W *);
extern void shm_writer_clear(SHM_W *);
extern void shm_writer_index(SHM_W *);
extern void shm_writer_publish(SHM_W *, int64_t now);
extern void shm_writer_heartbeat(SHM_W *, int64_t now);
/* The same with the monotonic time given (nanoseconds), for tests. */
extern void shm_writer_heartbeat_at(SHM_W *, int64_t now, int64_t mono_ns);
extern void shm_writer_destroy(SHM_W *);

/*
 * Reader.  shm_reader_open() maps name PROT_READ after checking magic,
 * major version, struct sizes and geometry (why may be NULL).
 * shm_reader_attach() reads through a writer's own mapping (same process;
 * for the stress test, where it puts writer and readers at the same
 * addresses for ThreadSanitizer); close it before destroying the writer.
 *
 * shm_reader_copy() copies the current body into buf; 0 ok, -1 with errno:
 * EAGAIN (SHM_RETRIES exhausted), ERANGE (len < shm_reader_body_size(),
 * which changes when a retired segment is replaced: grow and call again),
 * EPROTO (the body's offsets or counts disagree with the geometry, or the
 * replacement segment is foreign), or the errno of reopening.  After 0, the
 * QS_BODY offsets match the geometry, nqueues, nbuckets, nkeys, nthrottle
 * are within capacity and every table's rows lie within key[0..nkeys);
 * use a malloc()ed buf (aligned) to apply shm_body_*() to it.
 *
 * shm_reader_find_throttle() copies the current throttle entry of (kind,
 * key) under the policy with that digest into out: 1 found, 0 not found,
 * -1 with errno as above.
 *
 * Getters read the current mapping; heartbeat is 0 until the first
 * publish or heartbeat.  shm_reader_close(NULL) is fine.
 */
extern SHM_R *shm_reader_open(const char *name, SHM_ERR *why, char *err,
			      size_t errlen);
extern SHM_R *shm_reader_attach(SHM_W *);
extern int shm_reader_copy(SHM_R *, void *buf, size_t len);
extern int shm_reader_find_throttle(SHM_R *, int kind, uint64_t hash,
				    const char *key, size_t keylen,
				    uint64_t policy_digest, QS_THROTTLE *out);

/* The current body's policies_digest: 0, or -1 with errno as above. */
extern int shm_reader_policies_digest(SHM_R *, uint64_t *out);

/*
 * Milliseconds since the writer's last heartbeat, by CLOCK_MONOTONIC
 * (now_mono_ns from shm_mono_ns()): a step of the wall clock changes
 * nothing.  -1 when the writer never beat, beat in another boot, or
 * claims a time more than a second ahead of now: treat as stale.
 */
extern int64_t shm_reader_age_ms(const SHM_R *, int64_t now_mono_ns);

/* CLOCK_MONOTONIC, nanoseconds; the kernel's boot_id (zeros if unknown). */
extern int64_t shm_mono_ns(void);
extern void shm_boot_id(unsigned char id[16]);
extern size_t shm_reader_body_size(const SHM_R *);
extern int64_t shm_reader_heartbeat(const SHM_R *);
extern int32_t shm_reader_writer_pid(const SHM_R *);
extern uint32_t shm_reader_generation(const SHM_R *);
extern void shm_reader_stats(const SHM_R *, SHM_STATS *);
extern void shm_reader_close(SHM_R *);

/* The parts of a body (the writer's, or a reader's good copy), found
 * through its QS_BODY offsets.  Like strchr(), const in, not const out. */
extern QS_QUEUE *shm_body_queue(const void *body);
extern QS_TABLE *shm_body_table(const void *body);
extern QS_KEY *shm_body_key(const void *body);
extern QS_THROTTLE *shm_body_throttle(const void *body);
extern uint32_t *shm_body_index(const void *body);

#endif

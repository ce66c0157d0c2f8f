/*
 * shm - publication of the queue-shape summary in a shared, mapped file.
 *
 * One writer per summary (qshape-scand) fills a private body and publishes
 * it; many readers (qshape-milter processes, qshapectl) map the file
 * PROT_READ and take consistent copies, or look one throttled key up in
 * O(1) without copying the body.  include/qshape/summary.h has the layout;
 * this module computes the body geometry, creates, replaces and retires
 * summary files, checks that readers may trust one, and runs the
 * publication protocol.  Files: shm_layout.c (geometry, header and body
 * checks, keys), shm_path.c (path rules, the trusted directory walk,
 * directory preparation), shm_writer.c, shm_reader.c; shm_int.h has what
 * they share.
 *
 * The file.  The summary is a regular file, by default
 * /run/qshape-milter/summary, on tmpfs: mapping it is as cheap as POSIX
 * shared memory, and unlike /dev/shm its directory belongs to one account.
 * shm_dir_prepare() (the scanner, as root, before dropping privileges)
 * makes that directory: mode 0750, owned by the scanner's account, group
 * the summary's group.  shm_writer_create() always makes a NEW file: it
 * is built as FILE.tmp.PID in that directory (O_CREAT|O_EXCL|O_NOFOLLOW,
 * mode 0640, group gid, its full size allocated with posix_fallocate()
 * so that a full tmpfs fails the create, never a later store), then
 * renamed over FILE; the file it replaced, if any, is marked retired
 * (QS_HEADER retired).  A stale FILE.tmp.PID (a dead writer's with our
 * pid) is removed.  A reader that finds its mapping retired reopens FILE
 * by itself, with every check below.  A capacity change is a new writer
 * with the new geometry; a restarted scanner is the same.  generation is
 * 1 for the first file under a path and the replaced file's + 1 after.
 * shm_writer_destroy() unmaps but does not unlink: readers then see the
 * heartbeat go stale, which is how they learn the scanner died.  The
 * writer never truncates or shrinks a file once it is created.
 *
 * THREAT MODEL.  A local user without root and without the scanner's
 * account must not be able to make a reader believe, block on, or crash
 * on anything.  Who can do what:
 *   - Create, replace, rename or remove FILE: whoever can write its
 *     directory, i.e. the scanner's account and root.  The directory's
 *     parent must be writable by root (or that account) alone, so nobody
 *     else can have made the directory either; every directory above may
 *     be writable by others only if it is root's and sticky (/tmp), where
 *     nobody can rename or remove another user's entry.
 *   - Write or truncate FILE: its owner (the scanner's account) and root;
 *     mode 0640 gives the group (qshape) read access only.
 *   - Readers check, before mapping and again on every reopen: the path
 *     is absolute, without "." or ".." or empty components; each
 *     directory from "/" down is opened without following symbolic links
 *     and is owned by root or by the owner of the summary's directory
 *     (the expected writer), and is not writable by group or others
 *     (except a root-owned sticky directory above the directory's parent);
 *     the file is opened with O_NOFOLLOW|O_NONBLOCK (a FIFO or device
 *     never blocks, a link is refused), is a regular file with one link,
 *     owned by the expected writer, not writable by group or others, its
 *     size exactly the header's segment_size, and the header's writer_uid
 *     is the file's owner.  Refusals are SHM_UNTRUSTED with the reason.
 *   - SIGBUS: a reader maps exactly the size it checked; only the writer's
 *     account (or root) could shrink the file, and the writer never does,
 *     so no access through the mapping can fault.
 *   - What a hostile local user can still do: nothing to the summary; at
 *     worst, a path the operator configured inside a directory that user
 *     controls is refused, with a logged reason.
 *   - What root, or the scanner's account, can still do: anything (write a
 *     crafted body, truncate the file and make readers fault).  The body
 *     checks (magic, version, sizes, geometry, counts, index bounds) keep
 *     a corrupted body from making a reader read out of bounds, and the
 *     writer repairs a header overwritten behind its back at its next
 *     publication or heartbeat (and logs it once).
 *
 * Body geometry, from SHM_GEOM (every part 8-byte aligned, the body a
 * multiple of 8 bytes, each copy 64-byte aligned in the file):
 *   QS_BODY, queue[QS_MAX_QUEUES], table[QS_NKEYKINDS], key[max_keys],
 *   throttle[max_throttle], index[nindex], nindex = the next power of two
 *   >= 2 * max_throttle (at least 1), policy[QS_MAX_POLICIES].
 * The geometry is a function of (max_keys, max_throttle) only; a reader
 * recomputes it and refuses a file that disagrees.
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
#define SHM_PATH_MAX	200		/* bytes of a summary path: room for
					 * ".tmp.PID" within NAME_MAX */
#define SHM_MAX_BODY	((uint64_t) 1 << 30)	/* bytes of one body copy */
#define SHM_MAX_THROTTLE ((uint32_t) 1 << 24)	/* keeps nindex in 32 bits */
#define SHM_MODE	0640		/* of the summary file */
#define SHM_DIR_MODE	0750		/* of its directory */

typedef struct SHM_GEOM {
    uint32_t max_keys;			/* capacity of key[] */
    uint32_t max_throttle;		/* capacity of throttle[] */
} SHM_GEOM;

typedef enum SHM_ERR {
    SHM_OK = 0,
    SHM_MISSING,			/* no file (or directory) there */
    SHM_FOREIGN,			/* bad magic, sizes or geometry */
    SHM_VERSION,			/* unknown major version */
    SHM_IOERR,				/* open, stat, map failed (errno) */
    SHM_UNTRUSTED			/* owner, type, mode or links wrong:
					 * see the threat model above */
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

/* Is e the entry of (kind, key) under the policy with this digest?  hash
 * is qs_key_hash(kind, key, len).  The one key match of every reader. */
extern int shm_throttle_matches(const QS_THROTTLE *e, int kind, uint64_t hash,
				const char *key, size_t len, uint64_t digest);

/*
 * Paths.  shm_path_check() is the rule for a summary path, pure (for
 * check-config): absolute, at most SHM_PATH_MAX bytes of printable ASCII
 * without spaces, no empty, "." or ".." component, no trailing '/'.  0, or
 * -1 and a message in msg.
 *
 * shm_dir_prepare() makes the directory of the summary at path ready for
 * a writer running as uid with group gid (-1: keep the group): created
 * mode 0750 when missing, else it must be a real directory (not a link);
 * its owner, group and mode are set when they differ (only root can
 * change the owner: otherwise that is an error).  Its parent must pass the
 * trusted walk.  0, or -1 and err.
 *
 * shm_segment_size() is the size of the summary file for a geometry, 0
 * when the geometry is too large (check-config bounds it with this).
 */
extern int shm_path_check(const char *path, char *msg, size_t len);
extern int shm_dir_prepare(const char *path, long uid, long gid, char *err,
			   size_t errlen);
extern uint64_t shm_segment_size(const SHM_GEOM *);

/*
 * Writer.  path is the summary file (shm_path_check()); its directory must
 * exist, belong to us and pass the trusted walk.  gid -1 keeps the
 * creator's group.  The private body starts zeroed with the QS_BODY offsets
 * set; shm_writer_clear() returns it to that state.  publish stamps the
 * offsets and serial, builds index[], then publishes; published,
 * published_ns and last_reconcile are the caller's to set.
 * shm_writer_index() builds index[] in the private body now, for a caller
 * that needs the final bytes before publishing (publish rebuilds it the
 * same way).
 */
extern SHM_W *shm_writer_create(const char *path, const SHM_GEOM *geom,
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
 * Reader.  shm_reader_open() maps path PROT_READ after the trust checks of
 * the threat model above and checking magic, major version, struct sizes
 * and geometry (why may be NULL).
 * shm_reader_attach() reads through a writer's own mapping (same process;
 * for the stress test, where it puts writer and readers at the same
 * addresses for ThreadSanitizer); close it before destroying the writer.
 *
 * shm_reader_copy() copies the current body into buf; 0 ok, -1 with errno:
 * EAGAIN (SHM_RETRIES exhausted), ERANGE (len < shm_reader_body_size(),
 * which changes when a retired segment is replaced: grow and call again),
 * EPROTO (the body's offsets or counts disagree with the geometry, or the
 * replacement file is foreign), EACCES (the replacement is untrusted),
 * or the errno of reopening.  After 0, the
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
extern SHM_R *shm_reader_open(const char *path, SHM_ERR *why, char *err,
			      size_t errlen);
extern SHM_R *shm_reader_attach(SHM_W *);
extern int shm_reader_copy(SHM_R *, void *buf, size_t len);
extern int shm_reader_find_throttle(SHM_R *, int kind, uint64_t hash,
				    const char *key, size_t keylen,
				    uint64_t policy_digest, QS_THROTTLE *out);

/*
 * Might a key of this kind be throttled by the policy with this digest?
 * 0: certainly not; 1: perhaps (look the keys up); -1 with errno as above.
 * For a caller to skip costly keys (the parent-domain chain): the answer
 * comes from a 64-bit summary of the throttle set, made once per
 * publication, so it costs a load and a compare per call.
 */
extern int shm_reader_any_throttle(SHM_R *, int kind, uint64_t policy_digest);

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
extern QS_POLICY *shm_body_policy(const void *body);

#endif

/*
 * shm_reader - opens a summary file after the trust checks, takes
 * consistent copies, looks throttled keys up, and follows a retired file
 * to its replacement.  See shm.h for the protocol and the threat model.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm_int.h"

/* One mapping of a summary file, as a reader holds it. */
typedef struct SHM_MAP {
    unsigned char *base;
    size_t  len;
    SHM_LAYOUT lay;
} SHM_MAP;

struct SHM_R {
    char   *name;			/* the summary file's path */
    SHM_MAP m;
    int     attached;			/* m belongs to a writer */
    unsigned char boot_id[16];		/* of this boot, read once */
    SHM_STATS st;
    /* shm_reader_any_throttle()'s summary of the throttle set: a bit per
     * (kind, policy digest), for the publication with seq any_seq. */
    uint64_t any_seq;
    uint64_t any_mask;
    int     any_valid;
};

/* The bit of (kind, digest) in any_mask. */
static uint64_t
any_bit(int kind, uint64_t digest)
{
    uint64_t h = (digest ^ (uint64_t) (uint8_t) kind) * 0x9e3779b97f4a7c15ull;

    return (uint64_t) 1 << (h >> 58);
}

/* The checks of an open summary file before it is mapped: SHM_OK, or
 * why not with err set. */
static SHM_ERR
check_file(const char *path, int dirlen, int fd, uid_t owner, off_t *size,
	   char *err, size_t errlen)
{
    struct stat st;

    if (fstat(fd, &st) < 0) {
	shm_seterr(err, errlen, "fstat: %s", strerror(errno));
	return SHM_IOERR;
    }
    if (!S_ISREG(st.st_mode)) {
	shm_seterr(err, errlen, "not a regular file: refused");
	return SHM_UNTRUSTED;
    }
    if (st.st_uid != owner) {
	shm_seterr(err, errlen, "owned by uid %u, not uid %u (the owner of "
		   "%.*s): refused", (unsigned) st.st_uid, (unsigned) owner,
		   dirlen > 0 ? dirlen : 1, path);
	return SHM_UNTRUSTED;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
	shm_seterr(err, errlen, "writable by group or others (mode %04o): "
		   "refused", (unsigned) (st.st_mode & 07777));
	return SHM_UNTRUSTED;
    }
    if (st.st_nlink != 1) {
	shm_seterr(err, errlen, "%lu links, not 1: refused",
		   (unsigned long) st.st_nlink);
	return SHM_UNTRUSTED;
    }
    if ((size_t) st.st_size < sizeof(QS_HEADER)) {
	shm_seterr(err, errlen, "%lld bytes, too short for a header",
		   (long long) st.st_size);
	return SHM_FOREIGN;
    }
    *size = st.st_size;
    return SHM_OK;
}

/* Open the file at name in dfd without following a link or blocking:
 * the fd, or -1 and *why. */
static int
open_file(int dfd, const char *name, SHM_ERR *why, char *err, size_t errlen)
{
    struct stat st;
    int     fd;

    /* Judge the entry before opening it: a device is never opened. */
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
	&& !S_ISREG(st.st_mode)) {
	shm_seterr(err, errlen, "not a regular file (mode %06o): refused",
		   (unsigned) st.st_mode);
	*why = SHM_UNTRUSTED;
	errno = EACCES;
	return -1;
    }
    fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY
		| O_CLOEXEC);
    if (fd < 0) {
	shm_seterr(err, errlen, "%s", strerror(errno));
	*why = errno == ENOENT ? SHM_MISSING : errno == ELOOP
	    ? SHM_UNTRUSTED : SHM_IOERR;
    }
    return fd;
}

/* Map the summary at path after every check: SHM_OK, or why not with
 * err set (and errno: ENOENT, EACCES, EPROTO or the system's). */
static SHM_ERR
map_checked(const char *path, SHM_MAP *m, char *err, size_t errlen)
{
    const char *name;
    uid_t   owner;
    SHM_ERR why;
    QS_HEADER *h;
    off_t   size;
    void   *p;
    int     dfd, fd, e;

    if ((why = shm_dir_open(path, -1, &dfd, &owner, &name, err,
			    errlen)) != SHM_OK)
	return why;
    fd = open_file(dfd, name, &why, err, errlen);
    e = errno;
    close(dfd);
    if (fd < 0) {
	errno = why == SHM_UNTRUSTED ? EACCES : e;
	return why;
    }
    if ((why = check_file(path, (int) (name - path - 1), fd, owner, &size,
			  err, errlen)) != SHM_OK) {
	close(fd);
	errno = why == SHM_FOREIGN ? EPROTO : EACCES;
	return why;
    }
    /* Only the owner can shrink the file, and the writer never does:
     * every byte mapped stays backed. */
    p = mmap(0, (size_t) size, PROT_READ, MAP_SHARED, fd, 0);
    e = errno;
    close(fd);
    if (p == MAP_FAILED) {
	shm_seterr(err, errlen, "map: %s", strerror(e));
	errno = e;
	return SHM_IOERR;
    }
    h = p;
    if ((why = shm_check_header(h, (uint64_t) size, &m->lay, err,
				errlen)) == SHM_OK && h->writer_uid != owner) {
	shm_seterr(err, errlen, "the header's writer is uid %u, but the "
		   "file's owner is uid %u: refused", h->writer_uid,
		   (unsigned) owner);
	why = SHM_UNTRUSTED;
    }
    if (why != SHM_OK) {
	munmap(p, (size_t) size);
	errno = why == SHM_UNTRUSTED ? EACCES : EPROTO;
	return why;
    }
    m->base = p;
    m->len = (size_t) size;
    return SHM_OK;
}

/* map_checked(), with "summary PATH: " before the reason. */
static SHM_ERR
map_segment(const char *path, SHM_MAP *m, char *err, size_t errlen)
{
    char    msg[512];
    SHM_ERR why;
    int     e;

    if ((why = map_checked(path, m, msg, sizeof(msg))) != SHM_OK) {
	e = errno;
	shm_seterr(err, errlen, "summary %s: %s", path, msg);
	errno = e;
    }
    return why;
}

SHM_R  *
shm_reader_open(const char *path, SHM_ERR *why, char *err, size_t errlen)
{
    SHM_R  *r;
    SHM_ERR e, dummy;

    if (why == 0)
	why = &dummy;
    if ((r = calloc(1, sizeof(*r))) == 0 || (r->name = strdup(path)) == 0) {
	shm_seterr(err, errlen, "%s: %s", path, strerror(errno));
	free(r);
	*why = SHM_IOERR;
	return 0;
    }
    if ((e = map_segment(path, &r->m, err, errlen)) != SHM_OK) {
	*why = e;
	shm_reader_close(r);
	return 0;
    }
    shm_boot_id(r->boot_id);
    *why = SHM_OK;
    return r;
}

SHM_R  *
shm_reader_attach(SHM_W *w)
{
    SHM_R  *r;

    if ((r = calloc(1, sizeof(*r))) == 0 || (r->name = strdup(w->name)) == 0) {
	free(r);
	return 0;
    }
    r->m.base = w->map;
    r->m.len = w->lay.segment_size;
    r->m.lay = w->lay;
    r->attached = 1;
    shm_boot_id(r->boot_id);
    return r;
}

/* When our file was replaced, map the new one: 0, or -1 and errno. */
static int
follow(SHM_R *r)
{
    SHM_MAP m;

    if (ld64(RETIRED(r->m.base), memory_order_acquire) == 0)
	return 0;
    if (map_segment(r->name, &m, 0, 0) != SHM_OK)
	return -1;
    if (!r->attached)
	munmap(r->m.base, r->m.len);
    r->m = m;
    r->attached = 0;
    r->st.reopens++;
    return 0;
}

/* Copy n bytes of shared words at src into private dst. */
static void
load_words(void *dst, const unsigned char *src, size_t n)
{
    unsigned char *d = dst;
    uint64_t v;
    size_t  i;

    for (i = 0; i < n; i += 8) {
	v = ld64(src + i, memory_order_relaxed);
	memcpy(d + i, &v, 8);
    }
}

/*
 * The seqlock read every lookup shares: run fn(r, c, arg) on the body
 * copy c that the latch names, and keep its result only if seq did not
 * move around it (shm.h).  Returns 0 with *seq (when seq is not null)
 * the publication read, or -1 with errno EAGAIN after SHM_RETRIES moves.
 * fn sees a copy the writer may be changing: it must stay within the
 * mapping whatever it reads, and report through arg.
 */
typedef void (*SHM_READ) (const SHM_R *, uint64_t c, void *arg);

static int
seq_read(SHM_R *r, SHM_READ fn, void *arg, uint64_t *seq)
{
    const QS_HEADER *h = HDR(r->m.base);
    uint64_t s1, s2;
    int     try;

    for (try = 0; try < SHM_RETRIES; try++) {
	s1 = ld64(&h->seq, memory_order_acquire);
	fn(r, ld64(&h->latch, memory_order_acquire) & 1, arg);
	atomic_thread_fence(memory_order_acquire);
	s2 = ld64(&h->seq, memory_order_relaxed);
	if (s1 == s2) {
	    if (seq)
		*seq = s1;
	    return 0;
	}
	r->st.retries++;
    }
    r->st.exhausted++;
    errno = EAGAIN;
    return -1;
}

/* shm_reader_copy(): the whole body copy c. */
static void
read_body(const SHM_R *r, uint64_t c, void *out)
{
    load_words(out, r->m.base + r->m.lay.body_offset[c], r->m.lay.body_size);
}

int
shm_reader_copy(SHM_R *r, void *buf, size_t len)
{
    unsigned char *out = buf;
    QS_BODY b;
    QS_TABLE t[QS_NKEYKINDS];

    if (follow(r) < 0)
	return -1;
    if (len < r->m.lay.body_size) {
	errno = ERANGE;
	return -1;
    }
    if (seq_read(r, read_body, out, 0) < 0)
	return -1;
    memcpy(&b, out, sizeof(b));
    memcpy(t, out + r->m.lay.off_table, sizeof(t));
    if (shm_body_check(&b, t, &r->m.lay) < 0) {
	errno = EPROTO;
	return -1;
    }
    r->st.reads++;
    return 0;
}

/* shm_reader_find_throttle()'s question and answer. */
typedef struct PROBE {
    int     kind;
    uint64_t hash;
    const char *key;
    size_t  keylen;
    uint64_t digest;
    int     found;			/* 1 found (e filled), 0 not found,
					 * -1 an index slot out of range */
    QS_THROTTLE e;
} PROBE;

/* One pass over the probe chain of the hash in body copy c. */
static void
probe(const SHM_R *r, uint64_t c, void *arg)
{
    PROBE  *p = arg;
    const SHM_LAYOUT *l = &r->m.lay;
    const unsigned char *body = r->m.base + l->body_offset[c];
    const unsigned char *index = body + l->off_index;
    const unsigned char *thr = body + l->off_throttle;
    uint32_t mask = l->nindex - 1, slot = (uint32_t) p->hash & mask;
    uint32_t n, pair[2];
    uint64_t v;

    p->found = 0;
    for (n = 0; n < l->nindex; n++, slot = (slot + 1) & mask) {
	v = ld64(index + (size_t) (slot / 2) * 8, memory_order_relaxed);
	memcpy(pair, &v, 8);
	if (pair[slot & 1] == 0)
	    return;
	if (pair[slot & 1] > l->max_throttle) {
	    p->found = -1;
	    return;
	}
	v = pair[slot & 1] - 1;
	if (ld64(thr + v * sizeof(p->e), memory_order_relaxed) != p->hash)
	    continue;
	load_words(&p->e, thr + v * sizeof(p->e), sizeof(p->e));
	if (shm_throttle_matches(&p->e, p->kind, p->hash, p->key, p->keylen,
				 p->digest)) {
	    p->found = 1;
	    return;
	}
    }
}

int
shm_reader_find_throttle(SHM_R *r, int kind, uint64_t hash,
			 const char *key, size_t keylen, uint64_t digest,
			 QS_THROTTLE *out)
{
    PROBE   p;

    if (follow(r) < 0)
	return -1;
    p.kind = kind;
    p.hash = hash;
    p.key = key;
    p.keylen = keylen;
    p.digest = digest;
    if (seq_read(r, probe, &p, 0) < 0)
	return -1;
    if (p.found < 0) {
	errno = EPROTO;
	return -1;
    }
    r->st.reads++;
    if (p.found)
	*out = p.e;
    return p.found;
}

/* shm_reader_policies_digest(): one word of body copy c. */
static void
read_digest(const SHM_R *r, uint64_t c, void *out)
{
    *(uint64_t *) out = ld64(r->m.base + r->m.lay.body_offset[c]
			     + offsetof(QS_BODY, policies_digest),
			     memory_order_relaxed);
}

int
shm_reader_policies_digest(SHM_R *r, uint64_t *out)
{
    if (follow(r) < 0)
	return -1;
    return seq_read(r, read_digest, out, 0);
}

/* shm_reader_any_throttle(): the (kind, digest) bits of the throttle set
 * in body copy c. */
static void
any_scan(const SHM_R *r, uint64_t c, void *out)
{
    const SHM_LAYOUT *l = &r->m.lay;
    const unsigned char *body = r->m.base + l->body_offset[c];
    const unsigned char *thr = body + l->off_throttle;
    QS_BODY b;
    QS_THROTTLE e;
    uint64_t mask = 0;
    uint32_t i;

    load_words(&b, body, sizeof(b));
    for (i = 0; i < b.nthrottle && i < l->max_throttle; i++) {
	load_words(&e, thr + (size_t) i * sizeof(e), offsetof(QS_THROTTLE,
							policy_digest) + 8);
	mask |= any_bit(e.kind, e.policy_digest);
    }
    *(uint64_t *) out = mask;
}

int
shm_reader_any_throttle(SHM_R *r, int kind, uint64_t digest)
{
    uint64_t mask, seq;

    if (follow(r) < 0)
	return -1;
    /* The set of the publication still current, as computed before. */
    if (r->any_valid && r->any_seq == ld64(&HDR(r->m.base)->seq,
					   memory_order_acquire))
	return (r->any_mask & any_bit(kind, digest)) != 0;
    if (seq_read(r, any_scan, &mask, &seq) < 0)
	return -1;
    r->any_seq = seq;
    r->any_mask = mask;
    r->any_valid = 1;
    return (mask & any_bit(kind, digest)) != 0;
}

int64_t
shm_reader_age_ms(const SHM_R *r, int64_t now_mono_ns)
{
    const QS_HEADER *h = HDR(r->m.base);
    int64_t hb = (int64_t) ld64(&h->heartbeat_mono, memory_order_acquire);

    if (hb <= 0 || now_mono_ns < 0
	|| memcmp(r->boot_id, h->boot_id, sizeof(r->boot_id)) != 0)
	return -1;
    if (hb > now_mono_ns)		/* no later than now */
	return hb - now_mono_ns > 1000000000 ? -1 : 0;
    return (now_mono_ns - hb) / 1000000;
}

size_t
shm_reader_body_size(const SHM_R *r)
{
    return (size_t) r->m.lay.body_size;
}

int64_t
shm_reader_heartbeat(const SHM_R *r)
{
    return (int64_t) ld64(&HDR(r->m.base)->heartbeat, memory_order_acquire);
}

int32_t
shm_reader_writer_pid(const SHM_R *r)
{
    return HDR(r->m.base)->writer_pid;
}

uint32_t
shm_reader_generation(const SHM_R *r)
{
    return HDR(r->m.base)->generation;
}

void
shm_reader_stats(const SHM_R *r, SHM_STATS *st)
{
    *st = r->st;
}

void
shm_reader_close(SHM_R *r)
{
    if (r == 0)
	return;
    if (r->m.base && !r->attached)
	munmap(r->m.base, r->m.len);
    free(r->name);
    free(r);
}

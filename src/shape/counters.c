/*
 * counters - the milter's counters file.  See counters.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "shm.h"
#include "shm_int.h"
#include "counters.h"

#define CT_MODE		0640

_Static_assert(sizeof(QS_CT_SLOT) % 8 == 0, "slots are 64-bit words");
_Static_assert(sizeof(QS_CT_POLICY) % 8 == 0, "policies are 64-bit words");
_Static_assert(sizeof(QS_CT_HEADER) % 8 == 0, "the header is 64-bit words");
_Static_assert((QS_CT_NSLOTS & (QS_CT_NSLOTS - 1)) == 0, "power of two");
_Static_assert((QS_CT_NPOLICIES & (QS_CT_NPOLICIES - 1)) == 0,
	       "power of two");

struct CT_W {
    unsigned char *map;			/* the file, read-write, shared */
    uint64_t size;
};

struct CT_R {
    unsigned char *buf;			/* a private copy of the file */
    int     full;			/* buf holds a checked copy */
};

/* Atomic access to the shared words. */
static inline uint64_t
get(const void *p)
{
    return atomic_load_explicit((const _Atomic uint64_t *) p,
				memory_order_relaxed);
}

static inline void
put(void *p, uint64_t v)
{
    atomic_store_explicit((_Atomic uint64_t *) p, v, memory_order_relaxed);
}

static inline void
add(void *p)
{
    atomic_fetch_add_explicit((_Atomic uint64_t *) p, 1,
			      memory_order_relaxed);
}

static inline int
cas(void *p, uint64_t *expect, uint64_t v)
{
    return atomic_compare_exchange_strong((_Atomic uint64_t *) p, expect, v);
}

uint64_t
ct_ident(uint64_t digest, int kind, uint64_t key_hash)
{
    uint64_t h = HASH_FNV_BASIS;
    unsigned char k = (unsigned char) kind;

    h = hash_fnv1a(h, &digest, sizeof(digest));
    h = hash_fnv1a(h, &k, 1);
    h = hash_fnv1a(h, &key_hash, sizeof(key_hash));
    return h ? h : 1;
}

uint64_t
ct_file_size(void)
{
    return sizeof(QS_CT_HEADER) + (uint64_t) QS_CT_NPOLICIES
	* sizeof(QS_CT_POLICY) + (uint64_t) QS_CT_NSLOTS * sizeof(QS_CT_SLOT);
}

#define POLICIES(base)	((QS_CT_POLICY *) ((base) + sizeof(QS_CT_HEADER)))
#define SLOTS(base)	((QS_CT_SLOT *) ((base) + sizeof(QS_CT_HEADER) \
			  + QS_CT_NPOLICIES * sizeof(QS_CT_POLICY)))

int
ct_header_check(const QS_CT_HEADER *h, uint64_t file_size, char *err,
		size_t errlen)
{
    unsigned char boot[16];

    if (h->magic != QS_CT_MAGIC || h->major != QS_CT_VERSION_MAJOR) {
	shm_seterr(err, errlen, "unknown magic or version");
	return -1;
    }
    if (h->header_size != sizeof(QS_CT_HEADER)
	|| h->policy_size != sizeof(QS_CT_POLICY)
	|| h->slot_size != sizeof(QS_CT_SLOT)
	|| h->npolicies != QS_CT_NPOLICIES || h->nslots != QS_CT_NSLOTS
	|| h->file_size != ct_file_size() || file_size != ct_file_size()) {
	shm_seterr(err, errlen, "unexpected sizes");
	return -1;
    }
    shm_boot_id(boot);
    if (memcmp(boot, h->boot_id, sizeof(boot)) != 0) {
	shm_seterr(err, errlen, "of another boot");
	return -1;
    }
    return 0;
}

int
ct_dir_prepare(const char *path, long uid, long gid, char *err,
	       size_t errlen)
{
    return shm_dir_prepare(path, uid, gid, err, errlen);
}

/*
 * Open path's regular file without following links or blocking, through
 * the trusted directory walk; owner: the expected owner (the directory's
 * when want_uid is -1).  The fd, or -1 with the reason (errno ENOENT when
 * it does not exist).
 */
static int
open_checked(const char *path, long want_uid, int flags, struct stat *st,
	     char *err, size_t errlen)
{
    const char *name;
    uid_t   owner;
    int     dfd, fd, e;
    char    msg[256];

    if (shm_dir_open(path, want_uid, &dfd, &owner, &name, msg,
		     sizeof(msg)) != SHM_OK) {
	shm_seterr(err, errlen, "%s", msg);
	return -1;
    }
    fd = openat(dfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    e = errno;
    close(dfd);
    if (fd < 0) {
	shm_seterr(err, errlen, "%s: %s", path, strerror(e));
	errno = e;
	return -1;
    }
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || st->st_nlink != 1
	|| st->st_uid != owner || (st->st_mode & 022)
	|| (uint64_t) st->st_size != ct_file_size()) {
	shm_seterr(err, errlen, "%s: %s", path, "not a regular file of the "
	       "directory's owner, with one link, mode 0640 and the "
	       "expected size");
	close(fd);
	errno = EPERM;
	return -1;
    }
    return fd;
}

/* A new file, filled in and renamed over path.  The fd, or -1. */
static int
make_file(const char *path, long gid, char *err, size_t errlen)
{
    char    tmp[SHM_PATH_MAX + 32];
    QS_CT_HEADER h;
    int     fd, e;

    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long) getpid());
    (void) unlink(tmp);
    if ((fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		   CT_MODE)) < 0) {
	shm_seterr(err, errlen, "%s: %s", tmp, strerror(errno));
	return -1;
    }
    if ((e = posix_fallocate(fd, 0, (off_t) ct_file_size())) != 0) {
	shm_seterr(err, errlen, "%s: %s", tmp, strerror(e));
	goto bad;
    }
    /* The scanner reads it through the group; without it, ct_read()
     * says why. */
    if (gid >= 0 && fchown(fd, (uid_t) -1, (gid_t) gid) < 0)
	log_warn("%s: fchown to group %ld: the scanner may not read it",
		 tmp, gid);
    (void) fchmod(fd, CT_MODE);
    memset(&h, 0, sizeof(h));
    h.magic = QS_CT_MAGIC;
    h.major = QS_CT_VERSION_MAJOR;
    h.minor = QS_CT_VERSION_MINOR;
    h.header_size = sizeof(QS_CT_HEADER);
    h.policy_size = sizeof(QS_CT_POLICY);
    h.slot_size = sizeof(QS_CT_SLOT);
    h.npolicies = QS_CT_NPOLICIES;
    h.nslots = QS_CT_NSLOTS;
    h.writer_uid = (uint32_t) geteuid();
    h.file_size = ct_file_size();
    h.created = (int64_t) time(0);
    shm_boot_id(h.boot_id);
    if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t) sizeof(h)) {
	shm_seterr(err, errlen, "%s: %s", tmp, "short write");
	goto bad;
    }
    if (rename(tmp, path) < 0) {
	shm_seterr(err, errlen, "%s: %s", path, strerror(errno));
	goto bad;
    }
    return fd;

bad:
    (void) unlink(tmp);
    close(fd);
    return -1;
}

CT_W *
ct_writer_open(const char *path, long gid, int *reused, char *err,
	       size_t errlen)
{
    struct stat st;
    QS_CT_HEADER h;
    CT_W   *w;
    int     fd;

    *reused = 0;
    fd = open_checked(path, (long) geteuid(), O_RDWR, &st, 0, 0);
    if (fd >= 0 && (pread(fd, &h, sizeof(h), 0) != (ssize_t) sizeof(h)
		    || h.writer_uid != (uint32_t) geteuid()
		    || h.minor < QS_CT_VERSION_MINOR
		    || ct_header_check(&h, (uint64_t) st.st_size, 0, 0) < 0)) {
	close(fd);
	fd = -1;
    }
    if (fd >= 0)
	*reused = 1;
    else if ((fd = make_file(path, gid, err, errlen)) < 0)
	return 0;
    if ((w = calloc(1, sizeof(*w))) == 0) {
	shm_seterr(err, errlen, "%s: %s", path, "out of memory");
	close(fd);
	return 0;
    }
    w->size = ct_file_size();
    w->map = mmap(0, w->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (w->map == MAP_FAILED) {
	shm_seterr(err, errlen, "%s: mmap: %s", path, strerror(errno));
	free(w);
	return 0;
    }
    add(&((QS_CT_HEADER *) w->map)->generation);
    put(&((QS_CT_HEADER *) w->map)->started, (uint64_t) time(0));
    put(&((QS_CT_HEADER *) w->map)->started_mono_ns,
       (uint64_t) shm_mono_ns());
    ((QS_CT_HEADER *) w->map)->writer_pid = (int32_t) getpid();
    return w;
}

void
ct_writer_close(CT_W *w)
{
    if (w == 0)
	return;
    munmap(w->map, w->size);
    free(w);
}

uint64_t
ct_writer_generation(const CT_W *w)
{
    return w ? get(&((const QS_CT_HEADER *) w->map)->generation) : 0;
}

void
ct_count(CT_W *w, CT_FIELD f)
{
    QS_CT_HEADER *h;

    if (w == 0)
	return;
    h = (QS_CT_HEADER *) w->map;
    switch (f) {
    case CT_SESSIONS:
	add(&h->sessions);
	break;
    case CT_MESSAGES:
	add(&h->messages);
	break;
    case CT_NO_MATCH:
	add(&h->no_match);
	break;
    case CT_QUARANTINE_FAILED:
	add(&h->quarantine_failed);
	break;
    }
}

void
ct_count_exempt(CT_W *w, int i)
{
    if (w && i >= 0 && i < QS_CT_NEXEMPT)
	add(&((QS_CT_HEADER *) w->map)->exempt[i]);
}

void
ct_count_fail(CT_W *w, int i, int begins)
{
    QS_CT_HEADER *h;

    if (w == 0 || i < 0 || i >= QS_CT_NFAIL)
	return;
    h = (QS_CT_HEADER *) w->map;
    add(begins ? &h->fail_begins[i] : &h->fail_messages[i]);
}

/* The policy's slot, taken if need be, or NULL (counted as overflow). */
static QS_CT_POLICY *
policy_slot(CT_W *w, uint64_t digest, const char *name)
{
    QS_CT_POLICY *p = POLICIES(w->map);
    uint64_t d = digest ? digest : 1, cur;
    size_t  i, j;

    for (i = 0; i < QS_CT_PROBES; i++) {
	j = (size_t) ((d + i) & (QS_CT_NPOLICIES - 1));
	cur = get(&p[j].digest);
	if (cur == 0) {
	    if (cas(&p[j].digest, &cur, d)) {
		snprintf(p[j].name, sizeof(p[j].name), "%s", name);
		return &p[j];
	    }
	}
	if (cur == d)
	    return &p[j];
    }
    add(&((QS_CT_HEADER *) w->map)->policy_overflow);
    return 0;
}

/* Write a taken slot's identity and reset its counts. */
static void
slot_init(QS_CT_SLOT *s, const CT_MATCH *m, int64_t now)
{
    size_t  a;

    put(&s->policy_digest, m->digest);
    put(&s->key_hash, m->key_hash);
    s->kind = (uint32_t) m->kind;
    for (a = 0; a < QS_NACTIONS; a++)
	put(&s->done[a], 0);
    put(&s->first_mono_ns, (uint64_t) now);
}

/* The key's slot, taken if need be (or taken over when unused for
 * QS_CT_REUSE_SEC), or NULL (counted as overflow). */
static QS_CT_SLOT *
key_slot(CT_W *w, const CT_MATCH *m, int64_t now)
{
    QS_CT_SLOT *s = SLOTS(w->map), *old = 0;
    uint64_t id = ct_ident(m->digest, m->kind, m->key_hash), cur;
    int64_t oldest = now - (int64_t) QS_CT_REUSE_SEC * 1000000000, last;
    size_t  i, j;

    for (i = 0; i < QS_CT_PROBES; i++) {
	j = (size_t) ((id + i) & (QS_CT_NSLOTS - 1));
	cur = get(&s[j].ident);
	if (cur == 0 && cas(&s[j].ident, &cur, id)) {
	    slot_init(&s[j], m, now);
	    return &s[j];
	}
	if (cur == id)
	    return &s[j];
	last = (int64_t) get(&s[j].last_mono_ns);
	if (last < oldest) {
	    oldest = last;
	    old = &s[j];
	}
    }
    if (old && (cur = get(&old->ident)) != id && cas(&old->ident, &cur, id)) {
	slot_init(old, m, now);
	return old;
    }
    add(&((QS_CT_HEADER *) w->map)->slot_overflow);
    return 0;
}

int
ct_verdict(int asked, int done)
{
    return done == QS_ACTION_ACCEPT && asked != QS_ACTION_ACCEPT ?
	QS_ACTION_LOG : done;
}

void
ct_count_match(CT_W *w, const CT_MATCH *m, int64_t now)
{
    QS_CT_POLICY *p;
    QS_CT_SLOT *s;

    if (w == 0)
	return;
    if ((p = policy_slot(w, m->digest, m->policy)) != 0) {
	if (m->asked >= 0 && m->asked < QS_NACTIONS)
	    add(&p->asked[m->asked]);
	if (m->done >= 0 && m->done < QS_NACTIONS) {
	    add(&p->done[m->done]);
	    add(&p->verdict[ct_verdict(m->asked, m->done)]);
	}
	if (m->dry_run)
	    add(&p->dry_run);
    }
    if ((s = key_slot(w, m, now)) != 0) {
	if (m->done >= 0 && m->done < QS_NACTIONS)
	    add(&s->done[m->done]);
	put(&s->last_mono_ns, (uint64_t) now);
    }
}

CT_R   *
ct_reader_create(void)
{
    CT_R   *r = calloc(1, sizeof(*r));

    if (r && (r->buf = malloc((size_t) ct_file_size())) == 0) {
	free(r);
	return 0;
    }
    return r;
}

void
ct_reader_destroy(CT_R *r)
{
    if (r == 0)
	return;
    free(r->buf);
    free(r);
}

int
ct_read(CT_R *r, const char *path, char *err, size_t errlen)
{
    struct stat st;
    char    msg[128];
    ssize_t n;
    int     fd;

    r->full = 0;
    if ((fd = open_checked(path, -1, O_RDONLY, &st, err, errlen)) < 0)
	return -1;
    n = pread(fd, r->buf, (size_t) ct_file_size(), 0);
    close(fd);
    if (n != (ssize_t) ct_file_size()) {
	shm_seterr(err, errlen, "%s: %s", path, "short read");
	return -1;
    }
    if (((QS_CT_HEADER *) r->buf)->writer_uid != (uint32_t) st.st_uid
	|| ct_header_check((QS_CT_HEADER *) r->buf, (uint64_t) st.st_size,
			   msg, sizeof(msg)) < 0) {
	if (((QS_CT_HEADER *) r->buf)->writer_uid != (uint32_t) st.st_uid)
	    snprintf(msg, sizeof(msg), "writer_uid is not the file's owner");
	shm_seterr(err, errlen, "%s: %s", path, msg);
	return -1;
    }
    r->full = 1;
    return 0;
}

int64_t
ct_last(const CT_R *r, uint64_t digest, int kind, uint64_t key_hash)
{
    const QS_CT_SLOT *s;
    uint64_t id = ct_ident(digest, kind, key_hash);
    size_t  i;

    if (r == 0 || !r->full)
	return INT64_MIN;
    s = SLOTS(r->buf);
    for (i = 0; i < QS_CT_PROBES; i++) {
	const QS_CT_SLOT *e = &s[(id + i) & (QS_CT_NSLOTS - 1)];

	if (e->ident == 0)
	    break;
	if (e->ident == id && e->policy_digest == digest
	    && e->kind == (uint32_t) kind && e->key_hash == key_hash)
	    return e->last_mono_ns;
    }
    return INT64_MIN;
}

const QS_CT_HEADER *
ct_header(const CT_R *r)
{
    return r && r->full ? (const QS_CT_HEADER *) r->buf : 0;
}

const QS_CT_POLICY *
ct_policies(const CT_R *r)
{
    return r && r->full ? POLICIES(r->buf) : 0;
}

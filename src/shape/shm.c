/*
 * shm - publication of the queue-shape summary in POSIX shared memory.
 * See shm.h for the segment life cycle and the publication protocol.
 *
 * Shared words are only ever touched through ld64()/st64() (C11 atomics on
 * 64-bit words), except the header fields written once before the segment
 * is renamed into place.  Private buffers are read and written with
 * memcpy() so that no struct is accessed through a uint64_t lvalue.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "log.h"
#include "shm.h"

#define ALIGN(x, a)	(((x) + (a) - 1) & ~(uint64_t) ((a) - 1))
#define COPY_ALIGN	64		/* body copies start on a cache line */

/* The protocol copies whole 64-bit words and uses them as atomics. */
_Static_assert(sizeof(QS_HEADER) % 8 == 0, "QS_HEADER size");
_Static_assert(sizeof(QS_BODY) % 8 == 0, "QS_BODY size");
_Static_assert(sizeof(QS_THROTTLE) % 8 == 0, "QS_THROTTLE size");
_Static_assert(sizeof(QS_KEY) % 8 == 0, "QS_KEY size");
_Static_assert(offsetof(QS_HEADER, seq) % 8 == 0, "seq alignment");
_Static_assert(offsetof(QS_HEADER, latch) % 8 == 0, "latch alignment");
_Static_assert(offsetof(QS_HEADER, heartbeat) % 8 == 0, "heartbeat");
_Static_assert(offsetof(QS_HEADER, heartbeat_mono) % 8 == 0, "heartbeat");
_Static_assert(offsetof(QS_BODY, policies_digest) % 8 == 0, "digest");
_Static_assert(offsetof(QS_HEADER, reserved) % 8 == 0, "reserved");
_Static_assert(offsetof(QS_THROTTLE, hash) == 0, "hash is word 0");
_Static_assert(sizeof(_Atomic uint64_t) == 8, "atomic word size");

/* Where each part of a body lies; a function of the capacity only. */
typedef struct SHM_LAYOUT {
    uint32_t max_keys;
    uint32_t max_throttle;
    uint32_t nindex;
    uint64_t off_queue, off_table, off_key, off_throttle, off_index;
    uint64_t body_size;
    uint64_t body_offset[2];
    uint64_t segment_size;
} SHM_LAYOUT;

/* One mapping of a segment, as a reader holds it. */
typedef struct SHM_MAP {
    unsigned char *base;
    size_t  len;
    SHM_LAYOUT lay;
} SHM_MAP;

struct SHM_W {
    char   *name;
    unsigned char *map;			/* the segment, read-write */
    SHM_LAYOUT lay;
    unsigned char *body;		/* private, lay.body_size bytes */
    uint64_t serial;
};

struct SHM_R {
    char   *name;
    SHM_MAP m;
    int     attached;			/* m belongs to a writer */
    SHM_STATS st;
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

static void LOG_FMT(3, 4)
seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == 0 || errlen == 0)
	return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/*
 * Compat: POSIX leaves shm names outside the file system, but Linux keeps
 * them as files in /dev/shm, which is what lets a segment be built under a
 * temporary name and renamed into place atomically.  This is the only
 * place that knows.
 */
#define SHM_DIR		"/dev/shm"

static int
shm_compat_rename(const char *from, const char *to)
{
    char    pfrom[sizeof(SHM_DIR) + SHM_NAME_MAX + 32];
    char    pto[sizeof(SHM_DIR) + SHM_NAME_MAX + 32];

    snprintf(pfrom, sizeof(pfrom), "%s%s", SHM_DIR, from);
    snprintf(pto, sizeof(pto), "%s%s", SHM_DIR, to);
    return rename(pfrom, pto);
}

uint64_t
qs_key_hash(int kind, const char *key, size_t len)
{
    uint8_t k = (uint8_t) kind;

    return hash_fnv1a(hash_fnv1a(HASH_FNV_BASIS, &k, 1), key, len);
}

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t
shm_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The kernel's boot_id as 16 bytes; zeros when it cannot be read. */
void
shm_boot_id(unsigned char id[16])
{
    char    text[64];
    ssize_t n;
    int     fd, i, j, hi = -1;

    memset(id, 0, 16);
    if ((fd = open("/proc/sys/kernel/random/boot_id",
		   O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
	return;
    n = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (n <= 0)
	return;
    for (i = j = 0; i < n && j < 16; i++) {
	int     c = text[i], v;

	if (c >= '0' && c <= '9')
	    v = c - '0';
	else if (c >= 'a' && c <= 'f')
	    v = c - 'a' + 10;
	else
	    continue;
	if (hi < 0) {
	    hi = v;
	} else {
	    id[j++] = (unsigned char) (hi << 4 | v);
	    hi = -1;
	}
    }
}

void
shm_throttle_set_key(QS_THROTTLE *e, int kind, const char *key, size_t len)
{
    size_t  n = len < QS_KEY_BYTES ? len : QS_KEY_BYTES - 1;

    e->hash = qs_key_hash(kind, key, len);
    e->kind = (uint8_t) kind;
    e->key_len = len > UINT32_MAX ? UINT32_MAX : (uint32_t) len;
    memset(e->text, 0, sizeof(e->text));
    memcpy(e->text, key, n);
}

static int
key_match(const QS_THROTTLE *e, const char *key, size_t len)
{
    size_t  n = len < QS_KEY_BYTES ? len : QS_KEY_BYTES - 1;

    return e->key_len == (len > UINT32_MAX ? UINT32_MAX : len)
	&& memcmp(e->text, key, n) == 0 && e->text[n] == 0;
}

/* The layout for a capacity: 0, or -1 when it is too large. */
static int
shm_layout(SHM_LAYOUT *l, uint32_t max_keys, uint32_t max_throttle)
{
    uint64_t off;

    if (max_throttle > SHM_MAX_THROTTLE)
	return -1;
    memset(l, 0, sizeof(*l));
    l->max_keys = max_keys;
    l->max_throttle = max_throttle;
    l->nindex = 1;
    while (l->nindex < 2 * (uint64_t) max_throttle)
	l->nindex *= 2;
    off = ALIGN(sizeof(QS_BODY), 8);
    l->off_queue = off;
    off = ALIGN(off + QS_MAX_QUEUES * sizeof(QS_QUEUE), 8);
    l->off_table = off;
    off = ALIGN(off + QS_NKEYKINDS * sizeof(QS_TABLE), 8);
    l->off_key = off;
    off = ALIGN(off + (uint64_t) max_keys * sizeof(QS_KEY), 8);
    l->off_throttle = off;
    off = ALIGN(off + (uint64_t) max_throttle * sizeof(QS_THROTTLE), 8);
    l->off_index = off;
    off = ALIGN(off + (uint64_t) l->nindex * sizeof(uint32_t), 8);
    l->body_size = off;
    if (l->body_size > SHM_MAX_BODY)
	return -1;
    l->body_offset[0] = ALIGN(sizeof(QS_HEADER), COPY_ALIGN);
    l->body_offset[1] = l->body_offset[0] + ALIGN(l->body_size, COPY_ALIGN);
    l->segment_size = l->body_offset[1] + ALIGN(l->body_size, COPY_ALIGN);
    return 0;
}

static void
stamp_layout(QS_BODY *b, const SHM_LAYOUT *l)
{
    b->off_queue = l->off_queue;
    b->off_table = l->off_table;
    b->off_key = l->off_key;
    b->off_throttle = l->off_throttle;
    b->off_index = l->off_index;
}

/* A body's frame against the layout: 0 good, -1 not. */
static int
body_check(const QS_BODY *b, const QS_TABLE *t, const SHM_LAYOUT *l)
{
    int     k;

    if (b->off_queue != l->off_queue || b->off_table != l->off_table
	|| b->off_key != l->off_key || b->off_throttle != l->off_throttle
	|| b->off_index != l->off_index)
	return -1;
    if (b->nqueues > QS_MAX_QUEUES || b->nbuckets > QS_MAX_BUCKETS
	|| b->nkeys > l->max_keys || b->nthrottle > l->max_throttle)
	return -1;
    for (k = 0; k < QS_NKEYKINDS; k++)
	if (t[k].first > b->nkeys || t[k].nrows > b->nkeys - t[k].first)
	    return -1;
    return 0;
}

static int
name_ok(const char *name)
{
    size_t  len = strlen(name);

    return len >= 2 && len <= SHM_NAME_MAX && name[0] == '/'
	&& strchr(name + 1, '/') == 0;
}

/* Parts of a body. */

#define PART(body, off)	((char *) (body) + ((const QS_BODY *) (body))->off)

QS_QUEUE *
shm_body_queue(const void *b)
{
    return (QS_QUEUE *) PART(b, off_queue);
}

QS_TABLE *
shm_body_table(const void *b)
{
    return (QS_TABLE *) PART(b, off_table);
}

QS_KEY *
shm_body_key(const void *b)
{
    return (QS_KEY *) PART(b, off_key);
}

QS_THROTTLE *
shm_body_throttle(const void *b)
{
    return (QS_THROTTLE *) PART(b, off_throttle);
}

uint32_t *
shm_body_index(const void *b)
{
    return (uint32_t *) PART(b, off_index);
}

/* Writer. */

/* The generation of the segment now under name, and an open fd on it to
 * retire it later (-1 when there is none). */
static uint32_t
old_segment(const char *name, int *fd)
{
    struct stat st;
    QS_HEADER h;

    *fd = shm_open(name, O_RDWR, 0);
    if (*fd < 0) {
	if (errno != ENOENT)
	    log_warn("%s: cannot open the segment to replace", name);
	return 0;
    }
    if (fstat(*fd, &st) < 0 || (size_t) st.st_size < sizeof(h)
	|| pread(*fd, &h, sizeof(h), 0) != (ssize_t) sizeof(h)
	|| h.magic != QS_MAGIC)
	return 0;
    return h.generation;
}

/* Tell the readers of a replaced segment to reopen. */
static void
retire(const char *name, int fd)
{
    struct stat st;
    void   *p;

    if (fstat(fd, &st) < 0 || (size_t) st.st_size < sizeof(QS_HEADER)) {
	log_warnx("%s: replaced segment is not ours; not retired", name);
	return;
    }
    p = mmap(0, sizeof(QS_HEADER), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
	log_warn("%s: cannot map the replaced segment to retire it", name);
	return;
    }
    if (HDR(p)->magic == QS_MAGIC)
	st64(RETIRED(p), 1, memory_order_release);
    else
	log_warnx("%s: replaced segment has a foreign magic; not retired",
		  name);
    munmap(p, sizeof(QS_HEADER));
}

static void
fill_header(SHM_W *w, uint32_t generation)
{
    QS_HEADER *h = HDR(w->map);
    const SHM_LAYOUT *l = &w->lay;

    memset(h, 0, sizeof(*h));
    h->magic = QS_MAGIC;
    h->major = QS_VERSION_MAJOR;
    h->minor = QS_VERSION_MINOR;
    h->header_size = sizeof(QS_HEADER);
    h->queue_size = sizeof(QS_QUEUE);
    h->key_size = sizeof(QS_KEY);
    h->throttle_size = sizeof(QS_THROTTLE);
    h->body_size = l->body_size;
    h->body_offset[0] = l->body_offset[0];
    h->body_offset[1] = l->body_offset[1];
    h->segment_size = l->segment_size;
    h->max_keys = l->max_keys;
    h->max_throttle = l->max_throttle;
    h->nindex = l->nindex;
    h->generation = generation;
    h->writer_pid = (int32_t) getpid();
    h->writer_uid = (uint32_t) geteuid();
    h->created = (int64_t) time(0);
    shm_boot_id(h->boot_id);
    /* seq = latch = heartbeat = retired = 0: both copies hold the empty
     * body, which the caller of create has not had a chance to change. */
    memcpy(w->map + l->body_offset[0], w->body, l->body_size);
    memcpy(w->map + l->body_offset[1], w->body, l->body_size);
}

/* Create, size and map the temporary segment; 0 or -1 and err. */
static int
make_segment(SHM_W *w, const char *tmp, long gid, char *err, size_t errlen)
{
    int     fd;
    void   *p;

    fd = shm_open(tmp, O_RDWR | O_CREAT | O_EXCL, SHM_MODE);
    if (fd < 0 && errno == EEXIST) {	/* left by a dead writer's pid */
	shm_unlink(tmp);
	fd = shm_open(tmp, O_RDWR | O_CREAT | O_EXCL, SHM_MODE);
    }
    if (fd < 0) {
	seterr(err, errlen, "%s: create: %s", tmp, strerror(errno));
	return -1;
    }
    /* shm_open() obeys the umask: set the mode explicitly. */
    if (fchmod(fd, SHM_MODE) < 0
	|| (gid != -1 && fchown(fd, (uid_t) -1, (gid_t) gid) < 0)
	|| ftruncate(fd, (off_t) w->lay.segment_size) < 0) {
	seterr(err, errlen, "%s: set up: %s", tmp, strerror(errno));
	close(fd);
	return -1;
    }
    p = mmap(0, w->lay.segment_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	     fd, 0);
    if (p == MAP_FAILED) {
	seterr(err, errlen, "%s: map: %s", tmp, strerror(errno));
	close(fd);
	return -1;
    }
    close(fd);
    w->map = p;
    return 0;
}

SHM_W *
shm_writer_create(const char *name, const SHM_GEOM *geom, long gid,
		  char *err, size_t errlen)
{
    SHM_W  *w;
    char    tmp[SHM_NAME_MAX + 32];
    uint32_t gen;
    int     oldfd;

    if (!name_ok(name)) {
	seterr(err, errlen, "bad segment name \"%s\": want /NAME, at most "
	       "%d bytes", name, SHM_NAME_MAX);
	return 0;
    }
    if ((w = calloc(1, sizeof(*w))) == 0
	|| (w->name = strdup(name)) == 0) {
	seterr(err, errlen, "%s: %s", name, strerror(errno));
	free(w);
	return 0;
    }
    if (shm_layout(&w->lay, geom->max_keys, geom->max_throttle) < 0) {
	seterr(err, errlen, "%s: capacity too large (max_keys %u, "
	       "max_throttle %u)", name, geom->max_keys, geom->max_throttle);
	shm_writer_destroy(w);
	return 0;
    }
    if ((w->body = calloc(1, w->lay.body_size)) == 0) {
	seterr(err, errlen, "%s: body: %s", name, strerror(errno));
	shm_writer_destroy(w);
	return 0;
    }
    stamp_layout((QS_BODY *) w->body, &w->lay);
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", name, (long) getpid());
    gen = old_segment(name, &oldfd);
    if (make_segment(w, tmp, gid, err, errlen) < 0) {
	shm_unlink(tmp);
	goto fail;
    }
    fill_header(w, gen + 1);
    if (shm_compat_rename(tmp, name) < 0) {
	seterr(err, errlen, "%s: rename into place: %s", name,
	       strerror(errno));
	shm_unlink(tmp);
	goto fail;
    }
    if (oldfd >= 0) {
	retire(name, oldfd);
	close(oldfd);
    }
    return w;

fail:
    if (oldfd >= 0)
	close(oldfd);
    shm_writer_destroy(w);
    return 0;
}

void   *
shm_writer_body(SHM_W *w)
{
    return w->body;
}

size_t
shm_writer_body_size(const SHM_W *w)
{
    return (size_t) w->lay.body_size;
}

void
shm_writer_clear(SHM_W *w)
{
    memset(w->body, 0, w->lay.body_size);
    stamp_layout((QS_BODY *) w->body, &w->lay);
}

void
shm_writer_index(SHM_W *w)
{
    QS_BODY *b = (QS_BODY *) w->body;
    const QS_THROTTLE *t = shm_body_throttle(b);
    uint32_t *index = shm_body_index(b);
    uint32_t mask = w->lay.nindex - 1;
    uint32_t i, slot;

    if (b->nthrottle > w->lay.max_throttle)
	log_panic("%s: nthrottle %u exceeds capacity %u", w->name,
		  b->nthrottle, w->lay.max_throttle);
    memset(index, 0, w->lay.nindex * sizeof(*index));
    for (i = 0; i < b->nthrottle; i++) {
	for (slot = (uint32_t) t[i].hash & mask; index[slot] != 0;
	     slot = (slot + 1) & mask)
	     /* void */ ;
	index[slot] = i + 1;
    }
}

void
shm_writer_publish(SHM_W *w, int64_t now)
{
    QS_BODY *b = (QS_BODY *) w->body;
    QS_HEADER *h = HDR(w->map);
    unsigned char *dst;
    uint64_t s, latch, i, v;

    stamp_layout(b, &w->lay);
    b->serial = ++w->serial;
    shm_writer_index(w);
    if (body_check(b, shm_body_table(b), &w->lay) < 0)
	log_panic("%s: body exceeds its capacity (nkeys %u, nqueues %u, "
		  "nbuckets %u, or a table's rows)", w->name, b->nkeys,
		  b->nqueues, b->nbuckets);

    s = ld64(&h->seq, memory_order_relaxed);	/* we are the only writer */
    latch = ld64(&h->latch, memory_order_relaxed) & 1;
    st64(&h->seq, s + 1, memory_order_release);
    atomic_thread_fence(memory_order_release);
    dst = w->map + w->lay.body_offset[1 - latch];
    for (i = 0; i < w->lay.body_size; i += 8) {
	memcpy(&v, w->body + i, 8);
	st64(dst + i, v, memory_order_relaxed);
    }
    st64(&h->latch, 1 - latch, memory_order_release);
    shm_writer_heartbeat(w, now);
}

void
shm_writer_heartbeat(SHM_W *w, int64_t now)
{
    shm_writer_heartbeat_at(w, now, shm_mono_ns());
}

void
shm_writer_heartbeat_at(SHM_W *w, int64_t now, int64_t mono_ns)
{
    st64(&HDR(w->map)->heartbeat, (uint64_t) now, memory_order_release);
    st64(&HDR(w->map)->heartbeat_mono, (uint64_t) mono_ns,
	 memory_order_release);
}

void
shm_writer_destroy(SHM_W *w)
{
    if (w == 0)
	return;
    if (w->map)
	munmap(w->map, w->lay.segment_size);
    free(w->body);
    free(w->name);
    free(w);
}

/* Reader. */

/* Check a header against what we were compiled with; fill the layout. */
static SHM_ERR
check_header(const QS_HEADER *h, size_t file_size, SHM_LAYOUT *l,
	     char *err, size_t errlen)
{
    if (h->magic != QS_MAGIC) {
	seterr(err, errlen, "bad magic 0x%08x", h->magic);
	return SHM_FOREIGN;
    }
    if (h->major != QS_VERSION_MAJOR) {
	seterr(err, errlen, "unknown major version %u (we know %d)",
	       h->major, QS_VERSION_MAJOR);
	return SHM_VERSION;
    }
    if (h->header_size != sizeof(QS_HEADER)
	|| h->queue_size != sizeof(QS_QUEUE)
	|| h->key_size != sizeof(QS_KEY)
	|| h->throttle_size != sizeof(QS_THROTTLE)) {
	seterr(err, errlen, "struct sizes %u/%u/%u/%u, ours %zu/%zu/%zu/%zu",
	       h->header_size, h->queue_size, h->key_size, h->throttle_size,
	       sizeof(QS_HEADER), sizeof(QS_QUEUE), sizeof(QS_KEY),
	       sizeof(QS_THROTTLE));
	return SHM_FOREIGN;
    }
    if (shm_layout(l, h->max_keys, h->max_throttle) < 0
	|| h->nindex != l->nindex || h->body_size != l->body_size
	|| h->body_offset[0] != l->body_offset[0]
	|| h->body_offset[1] != l->body_offset[1]
	|| h->segment_size != l->segment_size
	|| file_size != l->segment_size) {
	seterr(err, errlen, "geometry not ours: max_keys %u, max_throttle %u,"
	       " body %llu, segment %llu, file %zu", h->max_keys,
	       h->max_throttle, (unsigned long long) h->body_size,
	       (unsigned long long) h->segment_size, file_size);
	return SHM_FOREIGN;
    }
    return SHM_OK;
}

static SHM_ERR
map_segment(const char *name, SHM_MAP *m, char *err, size_t errlen)
{
    struct stat st;
    SHM_ERR why;
    void   *p;
    int     fd;

    if ((fd = shm_open(name, O_RDONLY, 0)) < 0) {
	seterr(err, errlen, "%s: %s", name, strerror(errno));
	return errno == ENOENT ? SHM_MISSING : SHM_IOERR;
    }
    if (fstat(fd, &st) < 0) {
	seterr(err, errlen, "%s: fstat: %s", name, strerror(errno));
	close(fd);
	return SHM_IOERR;
    }
    if ((size_t) st.st_size < sizeof(QS_HEADER)) {
	seterr(err, errlen, "%s: %lld bytes, too short for a header", name,
	       (long long) st.st_size);
	close(fd);
	return SHM_FOREIGN;
    }
    p = mmap(0, (size_t) st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
	seterr(err, errlen, "%s: map: %s", name, strerror(errno));
	return SHM_IOERR;
    }
    m->base = p;
    m->len = (size_t) st.st_size;
    if ((why = check_header(p, m->len, &m->lay, err, errlen)) != SHM_OK) {
	munmap(p, m->len);
	m->base = 0;
    }
    return why;
}

SHM_R  *
shm_reader_open(const char *name, SHM_ERR *why, char *err, size_t errlen)
{
    SHM_R  *r;
    SHM_ERR e, dummy;
    char    msg[256];

    if (why == 0)
	why = &dummy;
    if ((r = calloc(1, sizeof(*r))) == 0 || (r->name = strdup(name)) == 0) {
	seterr(err, errlen, "%s: %s", name, strerror(errno));
	free(r);
	*why = SHM_IOERR;
	return 0;
    }
    if ((e = map_segment(name, &r->m, msg, sizeof(msg))) != SHM_OK) {
	if (e == SHM_FOREIGN || e == SHM_VERSION)
	    seterr(err, errlen, "%s: %s", name, msg);
	else
	    seterr(err, errlen, "%s", msg);
	*why = e;
	shm_reader_close(r);
	return 0;
    }
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
    return r;
}

/* When our segment was replaced, map the new one: 0, or -1 and errno. */
static int
follow(SHM_R *r)
{
    SHM_MAP m;
    SHM_ERR e;

    if (ld64(RETIRED(r->m.base), memory_order_acquire) == 0)
	return 0;
    if ((e = map_segment(r->name, &m, 0, 0)) != SHM_OK) {
	if (e == SHM_FOREIGN || e == SHM_VERSION)
	    errno = EPROTO;
	return -1;
    }
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

int
shm_reader_copy(SHM_R *r, void *buf, size_t len)
{
    const QS_HEADER *h;
    unsigned char *out = buf;
    uint64_t s1, s2, c;
    QS_BODY b;
    QS_TABLE t[QS_NKEYKINDS];
    int     try;

    if (follow(r) < 0)
	return -1;
    if (len < r->m.lay.body_size) {
	errno = ERANGE;
	return -1;
    }
    h = HDR(r->m.base);
    for (try = 0; try < SHM_RETRIES; try++) {
	s1 = ld64(&h->seq, memory_order_acquire);
	c = ld64(&h->latch, memory_order_acquire) & 1;
	load_words(out, r->m.base + r->m.lay.body_offset[c],
		   r->m.lay.body_size);
	atomic_thread_fence(memory_order_acquire);
	s2 = ld64(&h->seq, memory_order_relaxed);
	if (s1 == s2)
	    break;
	r->st.retries++;
    }
    if (try == SHM_RETRIES) {
	r->st.exhausted++;
	errno = EAGAIN;
	return -1;
    }
    memcpy(&b, out, sizeof(b));
    memcpy(t, out + r->m.lay.off_table, sizeof(t));
    if (body_check(&b, t, &r->m.lay) < 0) {
	errno = EPROTO;
	return -1;
    }
    r->st.reads++;
    return 0;
}

/* One pass over the probe chain of hash in body copy c: 1 found (e
 * filled), 0 not found, -1 an index slot out of range.  The result means
 * something only if seq did not move meanwhile. */
static int
probe(const SHM_R *r, uint64_t c, int kind, uint64_t hash, const char *key,
      size_t keylen, uint64_t digest, QS_THROTTLE *e)
{
    const SHM_LAYOUT *l = &r->m.lay;
    const unsigned char *body = r->m.base + l->body_offset[c];
    const unsigned char *index = body + l->off_index;
    const unsigned char *thr = body + l->off_throttle;
    uint32_t mask = l->nindex - 1, slot = (uint32_t) hash & mask;
    uint32_t n, pair[2];
    uint64_t v;

    for (n = 0; n < l->nindex; n++, slot = (slot + 1) & mask) {
	v = ld64(index + (size_t) (slot / 2) * 8, memory_order_relaxed);
	memcpy(pair, &v, 8);
	if (pair[slot & 1] == 0)
	    return 0;
	if (pair[slot & 1] > l->max_throttle)
	    return -1;
	v = pair[slot & 1] - 1;
	if (ld64(thr + v * sizeof(*e), memory_order_relaxed) != hash)
	    continue;
	load_words(e, thr + v * sizeof(*e), sizeof(*e));
	if (e->kind == kind && e->policy_digest == digest
	    && key_match(e, key, keylen))
	    return 1;
    }
    return 0;
}

int
shm_reader_find_throttle(SHM_R *r, int kind, uint64_t hash,
			 const char *key, size_t keylen, uint64_t digest,
			 QS_THROTTLE *out)
{
    const QS_HEADER *h;
    QS_THROTTLE e;
    uint64_t s1, s2, c;
    int     try, found;

    if (follow(r) < 0)
	return -1;
    h = HDR(r->m.base);
    for (try = 0; try < SHM_RETRIES; try++) {
	s1 = ld64(&h->seq, memory_order_acquire);
	c = ld64(&h->latch, memory_order_acquire) & 1;
	found = probe(r, c, kind, hash, key, keylen, digest, &e);
	atomic_thread_fence(memory_order_acquire);
	s2 = ld64(&h->seq, memory_order_relaxed);
	if (s1 != s2) {
	    r->st.retries++;
	    continue;
	}
	if (found < 0) {
	    errno = EPROTO;
	    return -1;
	}
	r->st.reads++;
	if (found)
	    *out = e;
	return found;
    }
    r->st.exhausted++;
    errno = EAGAIN;
    return -1;
}

int
shm_reader_policies_digest(SHM_R *r, uint64_t *out)
{
    const QS_HEADER *h;
    uint64_t s1, s2, c, v;
    int     try;

    if (follow(r) < 0)
	return -1;
    h = HDR(r->m.base);
    for (try = 0; try < SHM_RETRIES; try++) {
	s1 = ld64(&h->seq, memory_order_acquire);
	c = ld64(&h->latch, memory_order_acquire) & 1;
	v = ld64(r->m.base + r->m.lay.body_offset[c]
		 + offsetof(QS_BODY, policies_digest), memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	s2 = ld64(&h->seq, memory_order_relaxed);
	if (s1 == s2) {
	    *out = v;
	    return 0;
	}
	r->st.retries++;
    }
    r->st.exhausted++;
    errno = EAGAIN;
    return -1;
}

int64_t
shm_reader_age_ms(const SHM_R *r, int64_t now_mono_ns)
{
    const QS_HEADER *h = HDR(r->m.base);
    int64_t hb = (int64_t) ld64(&h->heartbeat_mono, memory_order_acquire);
    unsigned char boot[16];

    shm_boot_id(boot);
    if (hb <= 0 || memcmp(boot, h->boot_id, sizeof(boot)) != 0)
	return -1;
    if (hb > now_mono_ns)			/* no later than now */
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

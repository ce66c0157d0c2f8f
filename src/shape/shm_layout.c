/*
 * shm_layout - the summary's geometry, the checks of a header and a body
 * against it, the parts of a body, keys, and the clocks the heartbeat
 * uses.  Pure, but for shm_mono_ns() and shm_boot_id().  See shm.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "shm_int.h"

#define ALIGN(x, a)	(((x) + (a) - 1) & ~(uint64_t) ((a) - 1))
#define COPY_ALIGN	64		/* body copies start on a cache line */

/* The protocol copies whole 64-bit words and uses them as atomics. */
_Static_assert(sizeof(QS_HEADER) % 8 == 0, "QS_HEADER size");
_Static_assert(sizeof(QS_BODY) % 8 == 0, "QS_BODY size");
_Static_assert(sizeof(QS_THROTTLE) % 8 == 0, "QS_THROTTLE size");
_Static_assert(sizeof(QS_KEY) % 8 == 0, "QS_KEY size");
_Static_assert(sizeof(QS_POLICY) % 8 == 0, "QS_POLICY size");
_Static_assert(offsetof(QS_HEADER, seq) % 8 == 0, "seq alignment");
_Static_assert(offsetof(QS_HEADER, latch) % 8 == 0, "latch alignment");
_Static_assert(offsetof(QS_HEADER, heartbeat) % 8 == 0, "heartbeat");
_Static_assert(offsetof(QS_HEADER, heartbeat_mono) % 8 == 0, "heartbeat");
_Static_assert(offsetof(QS_BODY, policies_digest) % 8 == 0, "digest");
_Static_assert(offsetof(QS_HEADER, reserved) % 8 == 0, "reserved");
_Static_assert(offsetof(QS_THROTTLE, hash) == 0, "hash is word 0");
_Static_assert(sizeof(_Atomic uint64_t) == 8, "atomic word size");
_Static_assert(offsetof(QS_HEADER, boot_id) + 16 == SHM_HDR_CONST,
	       "the constant header fields end where seq starts");

void
shm_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == 0 || errlen == 0)
	return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
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

int
shm_throttle_matches(const QS_THROTTLE *e, int kind, uint64_t hash,
		     const char *key, size_t len, uint64_t digest)
{
    size_t  n = len < QS_KEY_BYTES ? len : QS_KEY_BYTES - 1;

    return e->hash == hash && e->kind == kind && e->policy_digest == digest
	&& e->key_len == (len > UINT32_MAX ? UINT32_MAX : len)
	&& memcmp(e->text, key, n) == 0 && e->text[n] == 0;
}

/* The layout for a capacity: 0, or -1 when it is too large. */
int
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
    l->off_policy = off;
    off = ALIGN(off + QS_MAX_POLICIES * sizeof(QS_POLICY), 8);
    l->body_size = off;
    if (l->body_size > SHM_MAX_BODY)
	return -1;
    l->body_offset[0] = ALIGN(sizeof(QS_HEADER), COPY_ALIGN);
    l->body_offset[1] = l->body_offset[0] + ALIGN(l->body_size, COPY_ALIGN);
    l->segment_size = l->body_offset[1] + ALIGN(l->body_size, COPY_ALIGN);
    return 0;
}

uint64_t
shm_segment_size(const SHM_GEOM *g)
{
    SHM_LAYOUT l;

    return shm_layout(&l, g->max_keys, g->max_throttle) < 0 ? 0
	: l.segment_size;
}

void
shm_stamp_layout(QS_BODY *b, const SHM_LAYOUT *l)
{
    b->off_queue = l->off_queue;
    b->off_table = l->off_table;
    b->off_key = l->off_key;
    b->off_throttle = l->off_throttle;
    b->off_index = l->off_index;
    b->off_policy = l->off_policy;
}

/* A body's frame against the layout: 0 good, -1 not. */
int
shm_body_check(const QS_BODY *b, const QS_TABLE *t, const SHM_LAYOUT *l)
{
    int     k;

    if (b->off_queue != l->off_queue || b->off_table != l->off_table
	|| b->off_key != l->off_key || b->off_throttle != l->off_throttle
	|| b->off_index != l->off_index || b->off_policy != l->off_policy)
	return -1;
    if (b->nqueues > QS_MAX_QUEUES || b->nbuckets > QS_MAX_BUCKETS
	|| b->nkeys > l->max_keys || b->nthrottle > l->max_throttle
	|| b->npolicy > QS_MAX_POLICIES)
	return -1;
    for (k = 0; k < QS_NKEYKINDS; k++)
	if (t[k].first > b->nkeys || t[k].nrows > b->nkeys - t[k].first)
	    return -1;
    return 0;
}

/* Check a header against what we were compiled with; fill the layout. */
SHM_ERR
shm_check_header(const QS_HEADER *h, uint64_t file_size, SHM_LAYOUT *l,
		 char *err, size_t errlen)
{
    if (h->magic != QS_MAGIC) {
	shm_seterr(err, errlen, "bad magic 0x%08x", h->magic);
	return SHM_FOREIGN;
    }
    if (h->major != QS_VERSION_MAJOR) {
	shm_seterr(err, errlen, "unknown major version %u (we know %d)",
		   h->major, QS_VERSION_MAJOR);
	return SHM_VERSION;
    }
    if (h->header_size != sizeof(QS_HEADER)
	|| h->queue_size != sizeof(QS_QUEUE)
	|| h->key_size != sizeof(QS_KEY)
	|| h->throttle_size != sizeof(QS_THROTTLE)) {
	shm_seterr(err, errlen, "struct sizes %u/%u/%u/%u, ours "
		   "%zu/%zu/%zu/%zu", h->header_size, h->queue_size,
		   h->key_size, h->throttle_size, sizeof(QS_HEADER),
		   sizeof(QS_QUEUE), sizeof(QS_KEY), sizeof(QS_THROTTLE));
	return SHM_FOREIGN;
    }
    if (shm_layout(l, h->max_keys, h->max_throttle) < 0
	|| h->nindex != l->nindex || h->body_size != l->body_size
	|| h->body_offset[0] != l->body_offset[0]
	|| h->body_offset[1] != l->body_offset[1]
	|| h->segment_size != l->segment_size
	|| file_size != l->segment_size) {
	shm_seterr(err, errlen, "geometry not ours: max_keys %u, "
		   "max_throttle %u, body %llu, segment %llu, file %llu",
		   h->max_keys, h->max_throttle,
		   (unsigned long long) h->body_size,
		   (unsigned long long) h->segment_size,
		   (unsigned long long) file_size);
	return SHM_FOREIGN;
    }
    return SHM_OK;
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

QS_POLICY *
shm_body_policy(const void *b)
{
    return (QS_POLICY *) PART(b, off_policy);
}

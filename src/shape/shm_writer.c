/*
 * shm_writer - creates a summary file, publishes bodies into it, beats
 * its heartbeat and repairs its header.  See shm.h for the file life
 * cycle, the protocol and the threat model.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shm_int.h"

/* The generation of the file now at name in dfd, and an open fd on it to
 * retire it later (-1 when there is none, or it is not ours). */
static uint32_t
old_segment(const SHM_W *w, int dfd, const char *name, int *fd)
{
    struct stat st;
    QS_HEADER h;

    *fd = -1;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
	if (errno != ENOENT)
	    log_warn("%s: cannot look at the summary to replace", w->name);
	return 0;
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
	log_warnx("%s: not a regular file of ours (uid %u, mode %06o): "
		  "replaced, not retired", w->name, (unsigned) st.st_uid,
		  (unsigned) st.st_mode);
	return 0;
    }
    *fd = openat(dfd, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY
		 | O_CLOEXEC);
    if (*fd < 0) {
	log_warn("%s: cannot open the summary to replace", w->name);
	return 0;
    }
    if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)
	|| (size_t) st.st_size < sizeof(h)
	|| pread(*fd, &h, sizeof(h), 0) != (ssize_t) sizeof(h)
	|| h.magic != QS_MAGIC)
	return 0;
    return h.generation;
}

/* Tell the readers of a replaced file to reopen. */
static void
retire(const SHM_W *w, int fd)
{
    struct stat st;
    void   *p;

    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)
	|| (size_t) st.st_size < sizeof(QS_HEADER)) {
	log_warnx("%s: replaced file is not a summary; not retired",
		  w->name);
	return;
    }
    p = mmap(0, sizeof(QS_HEADER), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
	log_warn("%s: cannot map the replaced summary to retire it",
		 w->name);
	return;
    }
    if (HDR(p)->magic == QS_MAGIC)
	st64(RETIRED(p), 1, memory_order_release);
    else
	log_warnx("%s: replaced file has a foreign magic; not retired",
		  w->name);
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
    memcpy(w->hdr, h, SHM_HDR_CONST);
    /* seq = latch = heartbeat = retired = 0: both copies hold the empty
     * body, which the caller of create has not had a chance to change. */
    memcpy(w->map + l->body_offset[0], w->body, l->body_size);
    memcpy(w->map + l->body_offset[1], w->body, l->body_size);
}

/* Create, size and map the temporary file tmp in dfd; 0 or -1 and err.
 * Only our account can write dfd: a tmp file already there is a dead
 * writer's that had our pid. */
static int
make_segment(SHM_W *w, int dfd, const char *tmp, long gid, char *err,
	     size_t errlen)
{
    const int flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int     fd, e;
    void   *p;

    fd = openat(dfd, tmp, flags, SHM_MODE);
    if (fd < 0 && errno == EEXIST) {
	log_info("%s.tmp.%ld: left by a dead writer; removed", w->name,
		 (long) getpid());
	unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, flags, SHM_MODE);
    }
    if (fd < 0) {
	shm_seterr(err, errlen, "%s: create %s: %s", w->name, tmp,
		   strerror(errno));
	return -1;
    }
    /* open() obeys the umask: set the mode explicitly.  Allocate every
     * page now: a full tmpfs fails here, not as SIGBUS at a store. */
    if (fchmod(fd, SHM_MODE) < 0
	|| (gid != -1 && fchown(fd, (uid_t) -1, (gid_t) gid) < 0)
	|| (errno = posix_fallocate(fd, 0, (off_t) w->lay.segment_size))
	!= 0) {
	e = errno;
	shm_seterr(err, errlen, "%s: set up %s: %s", w->name, tmp,
		   strerror(e));
	close(fd);
	return -1;
    }
    p = mmap(0, w->lay.segment_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	     fd, 0);
    if (p == MAP_FAILED) {
	shm_seterr(err, errlen, "%s: map %s: %s", w->name, tmp,
		   strerror(errno));
	close(fd);
	return -1;
    }
    close(fd);
    w->map = p;
    return 0;
}

/* Build the file in dfd under a temporary name and rename it over name:
 * 0, or -1 and err. */
static int
install(SHM_W *w, int dfd, const char *name, long gid, char *err,
	size_t errlen)
{
    char    tmp[SHM_PATH_MAX + 32];
    uint32_t gen;
    int     oldfd;

    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", name, (long) getpid());
    gen = old_segment(w, dfd, name, &oldfd);
    if (make_segment(w, dfd, tmp, gid, err, errlen) < 0) {
	unlinkat(dfd, tmp, 0);
	goto fail;
    }
    fill_header(w, gen + 1);
    if (renameat(dfd, tmp, dfd, name) < 0) {
	shm_seterr(err, errlen, "%s: rename into place: %s", w->name,
		   strerror(errno));
	unlinkat(dfd, tmp, 0);
	goto fail;
    }
    if (oldfd >= 0) {
	retire(w, oldfd);
	close(oldfd);
    }
    return 0;

fail:
    if (oldfd >= 0)
	close(oldfd);
    return -1;
}

SHM_W  *
shm_writer_create(const char *path, const SHM_GEOM *geom, long gid,
		  char *err, size_t errlen)
{
    SHM_W  *w;
    char    msg[512];
    const char *name;
    uid_t   owner;
    int     dfd, rc;

    if (shm_path_check(path, msg, sizeof(msg)) < 0) {
	shm_seterr(err, errlen, "bad summary path: %s", msg);
	return 0;
    }
    if ((w = calloc(1, sizeof(*w))) == 0
	|| (w->name = strdup(path)) == 0) {
	shm_seterr(err, errlen, "%s: %s", path, strerror(errno));
	free(w);
	return 0;
    }
    if (shm_layout(&w->lay, geom->max_keys, geom->max_throttle) < 0) {
	shm_seterr(err, errlen, "%s: capacity too large (max_keys %u, "
		   "max_throttle %u)", path, geom->max_keys,
		   geom->max_throttle);
	shm_writer_destroy(w);
	return 0;
    }
    if ((w->body = calloc(1, w->lay.body_size)) == 0) {
	shm_seterr(err, errlen, "%s: body: %s", path, strerror(errno));
	shm_writer_destroy(w);
	return 0;
    }
    shm_stamp_layout((QS_BODY *) w->body, &w->lay);
    if (shm_dir_open(path, (long) geteuid(), &dfd, &owner, &name, msg,
		     sizeof(msg)) != SHM_OK) {
	shm_seterr(err, errlen, "summary %s: %s", path, msg);
	shm_writer_destroy(w);
	return 0;
    }
    rc = install(w, dfd, name, gid, err, errlen);
    close(dfd);
    if (rc < 0) {
	shm_writer_destroy(w);
	return 0;
    }
    return w;
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
    shm_stamp_layout((QS_BODY *) w->body, &w->lay);
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

    shm_stamp_layout(b, &w->lay);
    b->serial = ++w->serial;
    shm_writer_index(w);
    if (shm_body_check(b, shm_body_table(b), &w->lay) < 0)
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

/* The constant header fields as we wrote them: someone with our account
 * (or root) may have overwritten them, and readers would refuse the
 * file until we restart.  Cheap: a compare of a hundred bytes. */
static void
repair_header(SHM_W *w)
{
    if (memcmp(w->map, w->hdr, SHM_HDR_CONST) == 0)
	return;
    memcpy(w->map, w->hdr, SHM_HDR_CONST);
    if (!w->repaired)
	log_warnx("%s: the summary's header was overwritten behind our "
		  "back: repaired", w->name);
    w->repaired = 1;
}

void
shm_writer_heartbeat_at(SHM_W *w, int64_t now, int64_t mono_ns)
{
    repair_header(w);
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

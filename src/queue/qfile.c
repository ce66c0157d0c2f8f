/*
 * qfile - open, check and parse one queue file.  See qfile.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qfile.h"

#define HEAD_BYTES	4096		/* first read of every file */

struct QFILE_READER {
    QF_PARSER *parser;
    unsigned char *buf;			/* file window */
    size_t  buf_cap;
    uint64_t buf_off;
    size_t  buf_len;
    int     fd;
    uint64_t size;			/* of the open file */
    int     noatime;			/* O_NOATIME still allowed */
};

int
qfile_is_queue_id(const char *s)
{
    const char *p;

    for (p = s; *p; p++)
	if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')
	      || (*p >= '0' && *p <= '9')))
	    return 0;
    return p - s >= 6;
}

QFILE_READER *
qfile_reader_create(void)
{
    QFILE_READER *r = calloc(1, sizeof(*r));

    if (r == 0)
	return 0;
    r->noatime = 1;
    r->buf_cap = HEAD_BYTES;
    if ((r->buf = malloc(HEAD_BYTES)) == 0
	|| (r->parser = qf_create()) == 0) {
	qfile_reader_destroy(r);
	return 0;
    }
    return r;
}

void
qfile_reader_destroy(QFILE_READER *r)
{
    if (r == 0)
	return;
    qf_destroy(r->parser);
    free(r->buf);
    free(r);
}

/* QF_SOURCE over the open file: serve from the window when it covers the
 * request or already reaches end of file; else read at 'off'. */
static const unsigned char *
file_get(void *ctx, uint64_t off, size_t need, size_t *got)
{
    QFILE_READER *r = ctx;
    ssize_t n;

    if (off >= r->buf_off && off - r->buf_off <= r->buf_len) {
	size_t  rel = (size_t) (off - r->buf_off);
	size_t  have = r->buf_len - rel;

	if (have >= need || r->buf_off + r->buf_len >= r->size) {
	    *got = have;
	    return r->buf + rel;
	}
    }
    if (need > r->buf_cap) {
	unsigned char *nb = realloc(r->buf, need);

	if (nb == 0)
	    return 0;
	r->buf = nb;
	r->buf_cap = need;
    }
    do {
	n = pread(r->fd, r->buf, r->buf_cap, (off_t) off);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
	return 0;
    r->buf_off = off;
    r->buf_len = (size_t) n;
    *got = (size_t) n;
    return r->buf;
}

static int
open_file(QFILE_READER *r, int dirfd, const char *name)
{
    int     fd;

    for (;;) {
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK
		    | O_CLOEXEC | (r->noatime ? O_NOATIME : 0));
	if (fd >= 0 || errno != EPERM || !r->noatime)
	    return fd;
	r->noatime = 0;			/* not the owner: atime it is */
    }
}

QFILE_STATUS
qfile_read(QFILE_READER *r, int dirfd, const char *name, unsigned flags,
	   QFILE_RESULT *res)
{
    struct stat st;
    QF_SOURCE src = {file_get, r, 0};
    QFILE_STATUS status;
    int     fd;

    memset(res, 0, sizeof(*res));
    /* The type first: opening a FIFO can block and a device node can act
     * (a tape rewinds, a terminal changes hands), O_NONBLOCK or not. */
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
	res->errnum = errno;
	return errno == ENOENT ? QFILE_VANISHED : QFILE_UNREADABLE;
    }
    if (!S_ISREG(st.st_mode))
	return QFILE_NOT_REGULAR;
    if ((fd = open_file(r, dirfd, name)) < 0) {
	res->errnum = errno;
	return errno == ENOENT ? QFILE_VANISHED
	    : errno == ELOOP ? QFILE_NOT_REGULAR : QFILE_UNREADABLE;
    }
    if (fstat(fd, &st) < 0) {
	res->errnum = errno;
	status = QFILE_UNREADABLE;
    } else if (!S_ISREG(st.st_mode)) {
	status = QFILE_NOT_REGULAR;
    } else if ((st.st_mode & S_IRWXU) != S_IRWXU) {
	status = QFILE_NOT_READY;
    } else {
	r->fd = fd;
	r->size = src.size = (uint64_t) st.st_size;
	r->buf_off = 0;
	r->buf_len = 0;
	res->mtime = (int64_t) st.st_mtime;
	res->qf_status = qf_parse(r->parser, &src, flags, &res->facts);
	if (res->qf_status == QF_OK) {
	    status = QFILE_OK;
	} else if (res->qf_status == QF_READ_ERROR) {
	    res->errnum = errno;
	    status = QFILE_UNREADABLE;
	} else {
	    status = QFILE_CORRUPT;
	}
    }
    close(fd);
    return status;
}

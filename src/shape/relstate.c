/*
 * relstate - the metered release's state between runs.  See relstate.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "relstate.h"

#define RS_MAGIC	"qshape-release-state 1 "
#define RS_UNITS_MAX	1000000000000000LL	/* far above any credit */

static void
hex_boot(char out[33], const unsigned char boot[16])
{
    static const char hex[] = "0123456789abcdef";
    int     i;

    for (i = 0; i < 16; i++) {
	out[2 * i] = hex[boot[i] >> 4];
	out[2 * i + 1] = hex[boot[i] & 15];
    }
    out[32] = 0;
}

/* One "NAME STARTED UNITS LAST_MS" line of len bytes into the fields. */
static int
parse_line(const char *s, size_t len, char *name, size_t namelen,
	   MT_BUCKET *b)
{
    char    line[160], *end, *f[4];
    long long v[3];
    int     i;

    if (len >= sizeof(line))
	return -1;
    memcpy(line, s, len);
    line[len] = 0;
    f[0] = line;
    for (i = 1; i < 4; i++) {
	if ((f[i] = strchr(f[i - 1], ' ')) == 0)
	    return -1;
	*f[i]++ = 0;
    }
    if (*f[0] == 0 || strlen(f[0]) >= namelen)
	return -1;
    for (i = 0; i < 3; i++) {
	if (*f[i + 1] < '0' || *f[i + 1] > '9')
	    return -1;
	errno = 0;
	v[i] = strtoll(f[i + 1], &end, 10);
	if (*end != 0 || errno != 0)
	    return -1;
    }
    if (v[0] > 1 || v[1] > RS_UNITS_MAX)
	return -1;
    strcpy(name, f[0]);
    b->started = (int) v[0];
    b->units = v[1];
    b->last_ms = v[2];
    return 0;
}

RS_STATUS
rs_parse(const char *text, const unsigned char boot[16],
	 const MT_POLICY *pol, MT_BUCKET *bk, size_t n)
{
    MT_BUCKET *got, b;
    char    want[33], name[64];
    const char *s, *nl;
    size_t  i, m = strlen(RS_MAGIC);
    RS_STATUS rc = RS_OK;

    hex_boot(want, boot);
    if (strncmp(text, RS_MAGIC, m) != 0 || strlen(text + m) < 33
	|| text[m + 32] != '\n')
	return RS_BAD;
    if (memcmp(text + m, want, 32) != 0)
	rc = RS_OTHER_BOOT;
    got = calloc(n ? n : 1, sizeof(*got));
    if (got == 0)
	return RS_BAD;
    memcpy(got, bk, n * sizeof(*bk));
    for (s = text + m + 33; *s; s = nl + 1) {
	if ((nl = strchr(s, '\n')) == 0
	    || parse_line(s, (size_t) (nl - s), name, sizeof(name), &b) < 0) {
	    rc = RS_BAD;
	    break;
	}
	for (i = 0; i < n; i++)
	    if (strcmp(pol[i].name, name) == 0)
		got[i] = b;
    }
    if (rc == RS_OK)
	memcpy(bk, got, n * sizeof(*bk));
    free(got);
    return rc;
}

size_t
rs_format(char *buf, size_t len, const unsigned char boot[16],
	  const MT_POLICY *pol, const MT_BUCKET *bk, size_t n)
{
    char    hex[33];
    size_t  i, o;
    int     k;

    hex_boot(hex, boot);
    k = snprintf(buf, len, "%s%s\n", RS_MAGIC, hex);
    o = k < 0 ? len : (size_t) k;
    for (i = 0; i < n && o < len; i++) {
	if (!pol[i].metered || !bk[i].started)
	    continue;
	k = snprintf(buf + o, len - o, "%s %d %lld %lld\n", pol[i].name,
		     bk[i].started, (long long) bk[i].units,
		     (long long) bk[i].last_ms);
	o += k < 0 ? len : (size_t) k;
    }
    return o;
}

/* The directory of path, created when missing, checked; an open fd. */
static int
open_dir(const char *path, char *err, size_t errlen)
{
    char    dir[4096];
    const char *slash = strrchr(path, '/');
    struct stat st;
    int     fd;

    if (slash == 0 || slash == path || (size_t) (slash - path) >= sizeof(dir)) {
	snprintf(err, errlen, "%s: not an absolute path below /", path);
	return -1;
    }
    memcpy(dir, path, (size_t) (slash - path));
    dir[slash - path] = 0;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
	snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
	return -1;
    }
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
	snprintf(err, errlen, "open %s: %s", dir, strerror(errno));
	return -1;
    }
    if (fstat(fd, &st) < 0 || st.st_uid != geteuid()
	|| (st.st_mode & 022) != 0) {
	snprintf(err, errlen, "%s: not a directory of uid %ld writable by "
		 "it alone: refused", dir, (long) geteuid());
	close(fd);
	return -1;
    }
    return fd;
}

int
rs_open(const char *path, char *err, size_t errlen)
{
    struct stat st;
    int     dfd, fd;

    if ((dfd = open_dir(path, err, errlen)) < 0)
	return -1;
    fd = openat(dfd, strrchr(path, '/') + 1, O_RDWR | O_CREAT | O_NOFOLLOW
		| O_NONBLOCK | O_CLOEXEC, 0600);
    close(dfd);
    if (fd < 0) {
	snprintf(err, errlen, "open %s: %s", path, strerror(errno));
	return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()
	|| st.st_nlink != 1) {
	snprintf(err, errlen, "%s: not a regular file of uid %ld with one "
		 "link: refused", path, (long) geteuid());
	close(fd);
	return -1;
    }
    if ((st.st_mode & 077) != 0 && fchmod(fd, 0600) < 0) {
	snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
	close(fd);
	return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
	int     busy = errno == EWOULDBLOCK;

	snprintf(err, errlen, "%s: %s", path, busy ?
		 "locked by another run" : strerror(errno));
	close(fd);
	return busy ? -2 : -1;
    }
    return fd;
}

int
rs_read(int fd, char *buf, size_t len, char *err, size_t errlen)
{
    size_t  o = 0;
    ssize_t k;

    while (o < len - 1) {
	if ((k = pread(fd, buf + o, len - 1 - o, (off_t) o)) < 0) {
	    if (errno == EINTR)
		continue;
	    snprintf(err, errlen, "read: %s", strerror(errno));
	    return -1;
	}
	if (k == 0)
	    break;
	o += (size_t) k;
    }
    buf[o] = 0;
    if (o == len - 1) {
	snprintf(err, errlen, "longer than %zu bytes", len - 1);
	return -1;
    }
    if (memchr(buf, 0, o)) {
	snprintf(err, errlen, "a NUL byte");
	return -1;
    }
    return 0;
}

int
rs_write(int fd, const char *text, size_t n, char *err, size_t errlen)
{
    size_t  o = 0;
    ssize_t k;

    while (o < n) {
	if ((k = pwrite(fd, text + o, n - o, (off_t) o)) < 0) {
	    if (errno == EINTR)
		continue;
	    snprintf(err, errlen, "write: %s", strerror(errno));
	    return -1;
	}
	o += (size_t) k;
    }
    if (ftruncate(fd, (off_t) n) < 0) {
	snprintf(err, errlen, "truncate: %s", strerror(errno));
	return -1;
    }
    return 0;
}

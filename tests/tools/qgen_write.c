/*
 * qgen_write - build Postfix queue files and write them.
 * See qgen_write.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "htab.h"
#include "log.h"
#include "mem.h"
#include "rec.h"
#include "qgen_write.h"

#define MYHOST		"qgen.example"

/* Growing output buffer. */
typedef struct BUF {
    unsigned char *data;
    size_t  len;
    size_t  cap;
} BUF;

/* Everything the writer needs across messages. */
struct QG_GEN {
    const char *dir;
    time_t  now;
    uint64_t rng;
    HTAB   *names;			/* names already under dir */
    unsigned long ino;			/* inode-like part of the next ID */
    uid_t   postfix_uid;		/* (uid_t) -1: do not chown */
    gid_t   postfix_gid;
    gid_t   postdrop_gid;
    HTAB   *qfds;			/* queue name -> open dir fd */
    BUF     buf;
};

/* Random numbers: splitmix64, deterministic for a seed. */

static uint64_t
rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

unsigned long
qg_rng_below(uint64_t *s, unsigned long n)
{
    return n ? (unsigned long) (rng_next(s) % n) : 0;
}

double
qg_rng_unit(uint64_t *s)
{
    return (double) (rng_next(s) >> 11) / 9007199254740992.0;
}

/* Output buffer. */

static void
buf_reserve(BUF *b, size_t more)
{
    if (b->cap - b->len >= more)
	return;
    while (b->cap - b->len < more)
	b->cap = b->cap ? 2 * b->cap : 8192;
    b->data = xrealloc(b->data, b->cap);
}

static void
buf_rec(BUF *b, int type, const void *data, size_t len)
{
    size_t  n;

    buf_reserve(b, len + 8);
    n = rec_put(b->data + b->len, b->cap - b->len, type, data, len);
    if (n == 0)
	log_panic("rec_put: record of %zu bytes does not fit", len);
    b->len += n;
}

static void
buf_str(BUF *b, int type, const char *s)
{
    buf_rec(b, type, s, strlen(s));
}

static void LOG_FMT(3, 4)
buf_fmt(BUF *b, int type, const char *fmt,...)
{
    static char *tmp;
    static size_t cap;
    va_list ap;
    int     n;

    for (;;) {
	va_start(ap, fmt);
	n = vsnprintf(tmp, cap, fmt, ap);
	va_end(ap);
	if (n < 0)
	    log_panic("buf_fmt: vsnprintf failed");
	if ((size_t) n < cap)
	    break;
	cap = (size_t) n + 1024;
	tmp = xrealloc(tmp, cap);
    }
    buf_rec(b, type, tmp, (size_t) n);
}

/* Overwrite the data of the fixed-width p record at 'off'. */
static void
buf_patch_ptr(BUF *b, size_t off, size_t value)
{
    char    tmp[REC_NUM_WIDTH + 1];

    snprintf(tmp, sizeof(tmp), "%*zu", REC_NUM_WIDTH, value);
    if (b->data[off] != REC_PTR || b->data[off + 1] != REC_NUM_WIDTH)
	log_panic("buf_patch_ptr: no pointer record at %zu", off);
    memcpy(b->data + off + 2, tmp, REC_NUM_WIDTH);
}

/* Message building. */

static int
is_loopback(const char *ip)
{
    return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0;
}


/* A recipient as cleanup writes it: DSN original, original, final. */
static void
put_rcpt(BUF *b, int type, const char *addr)
{
    buf_fmt(b, REC_ATTR, "dsn_orig_rcpt=rfc822;%s", addr);
    buf_str(b, REC_ORCP, addr);
    buf_str(b, type, addr);
}

/* The client records smtpd hands to cleanup, in smtpd's order. */
static void
put_client(BUF *b, const char *ip, const char *proto, unsigned port)
{
    const char *name = is_loopback(ip) ? "localhost" : "unknown";
    const char *helo = is_loopback(ip) ? "localhost" : "client.example";
    int     v6 = strchr(ip, ':') != 0;

    buf_fmt(b, REC_ATTR, "log_client_name=%s", name);
    buf_fmt(b, REC_ATTR, "log_client_address=%s", ip);
    buf_fmt(b, REC_ATTR, "log_client_port=%u", port);
    buf_fmt(b, REC_ATTR, "log_message_origin=%s[%s]", name, ip);
    buf_fmt(b, REC_ATTR, "log_helo_name=%s", helo);
    buf_fmt(b, REC_ATTR, "log_protocol_name=%s", proto);
    buf_fmt(b, REC_ATTR, "client_name=%s", name);
    buf_fmt(b, REC_ATTR, "reverse_client_name=%s", name);
    buf_fmt(b, REC_ATTR, "client_address=%s", ip);
    buf_fmt(b, REC_ATTR, "client_port=%u", port);
    buf_fmt(b, REC_ATTR, "server_address=%s", v6 ? "::1" : "127.0.0.1");
    buf_fmt(b, REC_ATTR, "server_port=%u", 25u);
    buf_fmt(b, REC_ATTR, "helo_name=%s", helo);
    buf_fmt(b, REC_ATTR, "protocol_name=%s", proto);
    buf_fmt(b, REC_ATTR, "client_address_type=%d", v6 ? 10 : 2);
}

static const char lorem[] =
"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod "
"tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim "
"veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea "
"commodo consequat. Duis aute irure dolor in reprehenderit in voluptate "
"velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint "
"occaecat cupidatat non proident, sunt in culpa qui officia deserunt "
"mollit anim id est laborum. ";

/* Body lines of up to 76 characters, broken at words, until 'bytes'. */
static void
put_body(BUF *b, size_t bytes, uint64_t *rng)
{
    size_t  span = sizeof(lorem) - 1;
    size_t  pos = qg_rng_below(rng, span);
    char    line[80];

    while (pos > 0 && lorem[pos - 1] != ' ')	/* start at a word */
	pos--;
    while (bytes > 0) {
	size_t  want = 40 + qg_rng_below(rng, 37);
	size_t  n, cut;

	if (want + 1 > bytes)
	    want = bytes - 1;
	for (n = 0; n < want; n++)
	    line[n] = lorem[(pos + n) % span];
	cut = n;
	if (want + 1 < bytes && lorem[(pos + n) % span] != ' ')
	    while (cut > want / 2 && line[cut - 1] != ' ')
		cut--;				/* end at a word */
	pos = (pos + cut) % span;
	while (lorem[pos] == ' ')
	    pos = (pos + 1) % span;
	bytes -= cut + 1;
	while (cut > 0 && line[cut - 1] == ' ')	/* no trailing blanks */
	    cut--;
	buf_rec(b, REC_NORM, line, cut);
    }
}

/* Message content, M excluded, X excluded.  *hdr_ptr: the offset of the
 * header append pointer (milter-enabled cleanup), else 0. */
static void
put_content(BUF *b, const QG_MSG *m, const char *qid, time_t t, uint64_t *rng,
	    size_t *hdr_ptr)
{
    const char *to = m->nrcpt ? m->rcpt[0] : m->nxrcpt ? m->xrcpt[0] : 0;
    char    date[64];
    char    stamp[32];
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000 (UTC)", &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
    if (m->kind != QG_KIND_QUEUE) {		/* as the user typed it */
	if (to)
	    buf_fmt(b, REC_NORM, "To: %s", to);
	buf_str(b, REC_NORM, "Subject: test message");
    } else if (m->client) {			/* smtpd + cleanup */
	const char *ip = m->client;
	int     v6 = strchr(ip, ':') != 0;

	buf_fmt(b, REC_NORM, "Received: from %s (%s [%s%s])",
		is_loopback(ip) ? "localhost" : "client.example",
		is_loopback(ip) ? "localhost" : "unknown", v6 ? "IPv6:" : "",
		ip);
	if (m->nrcpt + m->ndone + m->nxrcpt == 1 && to) {
	    buf_fmt(b, REC_NORM, "\tby %s (Postfix) with %s id %s", MYHOST,
		    m->sasl ? "ESMTPSA" : "ESMTP", qid);
	    buf_fmt(b, REC_NORM, "\tfor <%s>; %s", to, date);
	} else {
	    buf_fmt(b, REC_NORM, "\tby %s (Postfix) with %s id %s;", MYHOST,
		    m->sasl ? "ESMTPSA" : "ESMTP", qid);
	    buf_fmt(b, REC_NORM, "\t%s", date);
	}
	buf_fmt(b, REC_NORM, "From: <%s>", *m->sender ? m->sender :
		"MAILER-DAEMON");
	if (to)
	    buf_fmt(b, REC_NORM, "To: <%s>", to);
	buf_str(b, REC_NORM, "Subject: test message");
	if (m->header)				/* as the client sent it */
	    buf_str(b, REC_NORM, m->header);
	if (m->milter)
	    buf_str(b, REC_PAD, "  0");
	buf_fmt(b, REC_NORM, "Message-Id: <%s.%s@%s>", stamp, qid, MYHOST);
	buf_fmt(b, REC_NORM, "Date: %s", date);
    } else {					/* pickup + cleanup */
	buf_fmt(b, REC_NORM, "Received: by %s (Postfix, from userid 0)",
		MYHOST);
	buf_fmt(b, REC_NORM, "\tid %s; %s", qid, date);
	if (to)
	    buf_fmt(b, REC_NORM, "To: %s", to);
	buf_str(b, REC_NORM, "Subject: test message");
	buf_fmt(b, REC_NORM, "Message-Id: <%s.%s@%s>", stamp, qid, MYHOST);
	buf_fmt(b, REC_NORM, "Date: %s", date);
	buf_fmt(b, REC_NORM, "From: %s <%s>", m->full ? m->full : "",
		*m->sender ? m->sender : "MAILER-DAEMON");
    }
    *hdr_ptr = 0;
    if (m->kind == QG_KIND_QUEUE && m->milter) {	/* header append pointer */
	*hdr_ptr = b->len;
	buf_fmt(b, REC_PTR, "%*ld", REC_NUM_WIDTH, 0L);
    }
    buf_rec(b, REC_NORM, "", 0);
    put_body(b, m->body, rng);
    if (m->kind == QG_KIND_QUEUE && m->milter)	/* body append pointer */
	buf_fmt(b, REC_PTR, "%*ld", REC_NUM_WIDTH, 0L);
}

/* A file as postdrop writes it into maildrop/ (old: no T, no A). */
static void
build_maildrop(BUF *b, const QG_MSG *m, const char *qid, time_t t, long usec,
	       uint64_t *rng)
{
    size_t  i, hdr_ptr;

    if (m->kind == QG_KIND_MAILDROP) {
	buf_fmt(b, REC_TIME, "%ld %ld", (long) t, usec);
	buf_str(b, REC_ATTR, "rewrite_context=local");
    }
    if (m->full)
	buf_str(b, REC_FULL, m->full);
    buf_str(b, REC_FROM, m->sender);
    for (i = 0; i < m->nrcpt; i++)
	buf_str(b, REC_RCPT, m->rcpt[i]);
    buf_rec(b, REC_MESG, "", 0);
    put_content(b, m, qid, t, rng, &hdr_ptr);
    buf_rec(b, REC_XTRA, "", 0);
    for (i = 0; i < m->nxrcpt; i++)
	buf_str(b, REC_RCPT, m->xrcpt[i]);
    buf_rec(b, REC_END, "", 0);
}

/* A file as cleanup leaves it, after qmgr marked 'ndone' delivered. */
static void
build_queue(BUF *b, const QG_MSG *m, const char *qid, time_t t, long usec,
	    uint64_t *rng)
{
    size_t  nenv = m->nrcpt - m->nptr;
    size_t  size_off, ptr_off = 0, target = 0, data_off, xtra_off, i;
    const char *ctx = m->ctx;
    size_t  hdr_ptr;
    char    tmp[128];
    int     n;

    if (ctx == 0)
	ctx = (m->client == 0 || is_loopback(m->client)) ? "local" : "remote";
    size_off = b->len;
    buf_fmt(b, REC_SIZE, "%*d %*d %*d %*d %*d %*d", REC_NUM_WIDTH, 0,
	    REC_NUM_WIDTH, 0, REC_NUM_WIDTH, 0, REC_NUM_WIDTH, 0,
	    REC_NUM_WIDTH, 0, REC_NUM_WIDTH, 0);
    buf_fmt(b, REC_TIME, "%ld %ld", (long) t, usec);
    buf_fmt(b, REC_ATTR, "create_time=%ld", (long) t);
    if (m->client)
	buf_fmt(b, REC_ATTR, "log_ident=%s", qid);
    buf_fmt(b, REC_ATTR, "rewrite_context=%s", ctx);
    if (m->client && m->sasl) {
	buf_str(b, REC_ATTR, "sasl_method=PLAIN");
	buf_fmt(b, REC_ATTR, "sasl_username=%s", m->sasl);
    }
    if (m->full)
	buf_str(b, REC_FULL, m->full);
    buf_str(b, REC_FROM, m->sender);
    if (m->client)
	put_client(b, m->client, m->sasl ? "ESMTPSA" : "ESMTP",
		   1024 + (unsigned) qg_rng_below(rng, 64000));
    for (i = 0; i < nenv; i++)
	put_rcpt(b, REC_RCPT, m->rcpt[i]);
    for (i = 0; i < m->ndone; i++) {
	snprintf(tmp, sizeof(tmp), "done%zu@delivered.example", i + 1);
	put_rcpt(b, REC_DONE, tmp);
    }
    if (m->milter) {				/* recipient append pointer */
	ptr_off = b->len;
	buf_fmt(b, REC_PTR, "%*ld", REC_NUM_WIDTH, 0L);
	target = b->len;
    }
    buf_rec(b, REC_MESG, "", 0);
    data_off = b->len;
    put_content(b, m, qid, t, rng, &hdr_ptr);
    xtra_off = b->len;
    buf_rec(b, REC_XTRA, "", 0);
    if (m->milter)
	buf_fmt(b, REC_PTR, "%*ld", REC_NUM_WIDTH, 0L);
    for (i = 0; i < m->nxrcpt; i++)
	put_rcpt(b, REC_RCPT, m->xrcpt[i]);
    buf_rec(b, REC_END, "", 0);

    /* Milter-added recipients: O R p blocks after E, chained. */
    for (i = nenv; i < m->nrcpt; i++) {
	buf_patch_ptr(b, ptr_off, b->len);
	buf_str(b, REC_ORCP, m->rcpt[i]);
	buf_str(b, REC_RCPT, m->rcpt[i]);
	ptr_off = b->len;
	buf_fmt(b, REC_PTR, "%*zu", REC_NUM_WIDTH, target);
    }

    /* The hold mark a milter added with smfi_addheader(): after the end,
     * linked from the header append pointer, with a pointer back. */
    if (m->mark) {
	buf_patch_ptr(b, hdr_ptr, b->len);
	buf_fmt(b, REC_NORM, "X-Qshape-Hold: %s", m->mark);
	buf_fmt(b, REC_PTR, "%*zu", REC_NUM_WIDTH,
		hdr_ptr + 2 + REC_NUM_WIDTH);
    }

    n = snprintf(tmp, sizeof(tmp), "%*zu %*zu %*zu %*d %*zu %*d",
		 REC_NUM_WIDTH, xtra_off - data_off, REC_NUM_WIDTH, data_off,
		 REC_NUM_WIDTH, m->nrcpt + m->ndone + m->nxrcpt,
		 REC_NUM_WIDTH, 0, REC_NUM_WIDTH, xtra_off - data_off,
		 REC_NUM_WIDTH, 0);
    if (n != 6 * REC_NUM_WIDTH + 5 || b->data[size_off + 1] != n)
	log_panic("build_queue: bad size record");
    memcpy(b->data + size_off + 2, tmp, (size_t) n);
}

static void
build(BUF *b, const QG_MSG *m, const char *qid, time_t t, long usec,
      uint64_t *rng)
{
    b->len = 0;
    if (m->garbage) {
	size_t  n = m->body ? m->body : 512, i;

	buf_reserve(b, n);
	for (i = 0; i < n; i++)
	    b->data[i] = (unsigned char) rng_next(rng);
	b->data[0] |= 0x80;			/* never a record type */
	b->len = n;
    } else if (m->kind == QG_KIND_QUEUE)
	build_queue(b, m, qid, t, usec, rng);
    else
	build_maildrop(b, m, qid, t, usec, rng);
    if (m->trunc >= 0 && (size_t) m->trunc < b->len)
	b->len = (size_t) m->trunc;
}

/* Directories and files. */

static void
set_owner(int dfd, const char *name, uid_t uid, gid_t gid)
{
    if (uid != (uid_t) -1 || gid != (gid_t) -1)
	if (fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
	    log_warn("chown %s", name);
}

/* The open queue directory, created as Postfix has it when missing. */
static int
queue_fd(QG_GEN *g, const char *queue)
{
    int    *fdp;				/* fd + 1; 0 until opened */
    int     created, dfd, qfd;

    fdp = htab_insert(g->qfds, queue, strlen(queue), &created);
    if (!created)
	return *fdp - 1;
    if ((dfd = open(g->dir, O_RDONLY | O_DIRECTORY)) < 0)
	log_fatal("open %s", g->dir);
    if (mkdirat(dfd, queue, strcmp(queue, "maildrop") ? 0700 : 0730) == 0) {
	if (strcmp(queue, "maildrop") == 0)
	    set_owner(dfd, queue, g->postfix_uid, g->postdrop_gid);
	else
	    set_owner(dfd, queue, g->postfix_uid, (gid_t) -1);
    } else if (errno != EEXIST)
	log_fatal("mkdir %s/%s", g->dir, queue);
    if ((qfd = openat(dfd, queue, O_RDONLY | O_DIRECTORY)) < 0)
	log_fatal("open %s/%s", g->dir, queue);
    close(dfd);
    *fdp = qfd + 1;
    return qfd;
}

/* "A/B/NAME" for depth 2, as Postfix's dir_forest(). */
static void
hashed_path(char *out, size_t len, const char *name, int depth)
{
    size_t  o = 0, k = 0;
    int     d;

    for (d = 0; d < depth && o + 2 < len; d++) {
	out[o++] = name[k] ? name[k++] : '_';
	out[o++] = '/';
    }
    snprintf(out + o, len - o, "%s", name);
}

static void
make_forest(QG_GEN *g, int qfd, const char *path)
{
    char    dir[QG_QID_MAX + 32];
    const char *slash;

    for (slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
	snprintf(dir, sizeof(dir), "%.*s", (int) (slash - path), path);
	if (mkdirat(qfd, dir, 0700) == 0)
	    set_owner(qfd, dir, g->postfix_uid, g->postfix_gid);
	else if (errno != EEXIST)
	    log_fatal("mkdir %s", dir);
    }
}

/*
 * Write one file with one write().  Returns 0, or -1 with errno EEXIST
 * when 'excl' is set and the name is taken.
 */
static int
write_file(QG_GEN *g, const QG_MSG *m, int depth, const char *name, int mode,
	   int excl)
{
    char    path[QG_QID_MAX + 32];
    int     qfd = queue_fd(g, m->queue);
    int     flags = O_WRONLY | O_CREAT | (excl ? O_EXCL : O_TRUNC);
    struct timespec ts[2];
    int     fd;
    ssize_t n;

    hashed_path(path, sizeof(path), name, depth);
    if ((fd = openat(qfd, path, flags, 0600)) < 0 && errno == ENOENT) {
	make_forest(g, qfd, path);
	fd = openat(qfd, path, flags, 0600);
    }
    if (fd < 0) {
	if (errno == EEXIST && excl)
	    return -1;
	log_fatal("create %s/%s/%s", g->dir, m->queue, path);
    }
    if ((n = write(fd, g->buf.data, g->buf.len)) < 0
	|| (size_t) n != g->buf.len)
	log_fatal("write %s/%s/%s", g->dir, m->queue, path);
    if (m->kind == QG_KIND_QUEUE && g->postfix_uid != (uid_t) -1)
	if (fchown(fd, g->postfix_uid, g->postfix_gid) < 0)
	    log_warn("chown %s", path);
    if (m->kind != QG_KIND_QUEUE && g->postdrop_gid != (gid_t) -1)
	if (fchown(fd, (uid_t) -1, g->postdrop_gid) < 0)
	    log_warn("chown %s", path);
    if (fchmod(fd, (mode_t) mode) < 0)
	log_fatal("chmod %s", path);
    /* In deferred/ the mtime is the next retry time, in the future. */
    ts[0].tv_sec = g->now;
    ts[0].tv_nsec = 0;
    ts[1].tv_sec = strcmp(m->queue, "deferred") == 0 ?
	g->now + 60 + (time_t) qg_rng_below(&g->rng, 3600) : g->now - m->age;
    ts[1].tv_nsec = 0;
    if (futimens(fd, ts) < 0)
	log_warn("utime %s", path);
    if (close(fd) < 0)
	log_fatal("close %s", path);
    return 0;
}

/* Remember every name under dir, so generated IDs are unique there. */
static void
scan_names(HTAB *names, int dfd, int level)
{
    DIR    *dp;
    struct dirent *de;
    int     created;

    if ((dp = fdopendir(dfd)) == 0)
	log_fatal("fdopendir");
    while ((de = readdir(dp)) != 0) {
	struct stat st;
	int     sub;

	if (de->d_name[0] == '.')
	    continue;
	if (de->d_type == DT_DIR || (de->d_type == DT_UNKNOWN
				     && fstatat(dirfd(dp), de->d_name, &st,
				    AT_SYMLINK_NOFOLLOW) == 0
				     && S_ISDIR(st.st_mode))) {
	    if (level < 8 && (sub = openat(dirfd(dp), de->d_name,
					   O_RDONLY | O_DIRECTORY)) >= 0)
		scan_names(names, sub, level + 1);
	    continue;
	}
	(void) htab_insert(names, de->d_name, strlen(de->d_name), &created);
    }
    closedir(dp);
}

QG_GEN *
qg_create(const char *dir, time_t now, uint64_t seed)
{
    QG_GEN *g = xcalloc(1, sizeof(*g));
    struct passwd *pw;
    struct group *gr;
    int     dfd;

    g->dir = dir;
    g->now = now;
    g->rng = seed;
    g->names = htab_create(1);
    g->qfds = htab_create(sizeof(int));
    g->ino = 0x100000 + (unsigned long) qg_rng_below(&g->rng, 0x10000);
    g->postfix_uid = (uid_t) -1;
    g->postfix_gid = (gid_t) -1;
    g->postdrop_gid = (gid_t) -1;
    if (geteuid() == 0) {
	if ((pw = getpwnam("postfix")) != 0) {
	    g->postfix_uid = pw->pw_uid;
	    g->postfix_gid = pw->pw_gid;
	}
	if ((gr = getgrnam("postdrop")) != 0)
	    g->postdrop_gid = gr->gr_gid;
    }
    umask(0);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
	log_fatal("mkdir %s", dir);
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
	log_fatal("open %s", dir);
    scan_names(g->names, dfd, 0);
    return g;
}

void
qg_destroy(QG_GEN *g)
{
    size_t  i;

    if (g == 0)
	return;
    for (i = 0; i < htab_count(g->qfds); i++)
	close(*(int *) htab_entry(g->qfds, i).value - 1);
    htab_destroy(g->qfds);
    htab_destroy(g->names);
    free(g->buf.data);
    free(g);
}

uint64_t *
qg_rng(QG_GEN *g)
{
    return &g->rng;
}

/* A short queue ID: 5 hex digits of microseconds, then the "inode". */
static void
new_qid(QG_GEN *g, long usec, char *out)
{
    do {
	snprintf(out, QG_QID_MAX, "%05lX%06lX", (unsigned long) usec,
		 g->ino++);
    } while (htab_find(g->names, out, strlen(out)) != 0);
}

static int
msg_depth(const QG_MSG *m)
{
    if (m->depth >= 0)
	return m->depth;
    return strcmp(m->queue, "deferred") == 0 || strcmp(m->queue, "defer") == 0;
}

static int
msg_mode(const QG_MSG *m)
{
    if (m->mode >= 0)
	return m->mode;
    return m->kind == QG_KIND_QUEUE ? 0700 : 0744;
}

/* Build and write one message; a fresh ID for each of m->count. */
void
qg_emit(QG_GEN *g, const QG_MSG *m)
{
    char    qid[QG_QID_MAX];
    long    i;
    int     created;

    for (i = 0; i < m->count; i++) {
	long    usec = (long) qg_rng_below(&g->rng, 1000000);
	time_t  t = g->now - m->age;

	if (m->id) {
	    snprintf(qid, sizeof(qid), "%s", m->id);
	    build(&g->buf, m, qid, t, usec, &g->rng);
	    (void) write_file(g, m, msg_depth(m), qid, msg_mode(m), 0);
	    (void) htab_insert(g->names, qid, strlen(qid), &created);
	    continue;
	}
	do {
	    new_qid(g, usec, qid);
	    build(&g->buf, m, qid, t, usec, &g->rng);
	} while (write_file(g, m, msg_depth(m), qid, msg_mode(m), 1) < 0);
    }
}

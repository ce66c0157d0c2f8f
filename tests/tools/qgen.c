/*
 * qgen - write valid Postfix queue files, for tests and benchmarks.
 *
 *	qgen spec DIR [--now EPOCH] [--seed S] < SPECFILE
 *	qgen bulk DIR QUEUE COUNT [--seed S] [--domains D] [--now EPOCH]
 *		[--max-age SECONDS]
 *
 * Files are laid out record for record as Postfix 3.7 writes them: cleanup
 * (C T A... S A... [A O R]... [p] M N... X [p] [A O R]... E [O R p]...),
 * postdrop (T A F S R... M N... X R... E) and old postdrop versions (F S
 * R... M N... X E).  The layouts were copied from files written by a real
 * Postfix 3.7.11 (SMTP, sendmail, sendmail -t, a milter adding recipients,
 * a partly delivered message) and are checked with postcat(1).  Files are
 * owned by postfix (maildrop: group postdrop) when qgen runs as root; the
 * mtime is the arrival time, except in deferred/ where it is the next retry
 * time, in the future.  Deferred and defer are hashed one level deep, by
 * the first character of the queue ID, as Postfix's default.
 *
 * spec: one message per line, whitespace-separated, '#' starts a comment:
 *
 *	QUEUE AGE SENDER RCPTS [key=value ...]
 *
 * QUEUE is a directory under DIR (created if missing); AGE is seconds
 * before now (suffix s, m, h or d allowed); SENDER is an address, <> for
 * the null sender (enclosing <> are dropped); RCPTS is a comma-separated
 * list, or - for none.  In SENDER, RCPTS and option values: \\ \n \t \s
 * (space) \, (comma) \xHH.
 *
 *	mode=OCTAL	file mode (0700; 0744 for maildrop kinds)
 *	kind=K		queue, maildrop or maildrop_old (default: maildrop
 *			in a queue called maildrop, queue elsewhere)
 *	done=N		N more recipients, already delivered (D records)
 *	xrcpt=A,B	recipients after X, as sendmail -t mail has them
 *	ptr=N		the last N of RCPTS were added by a milter: they sit
 *			after E, reached through a chain of p records
 *	milter=1	the reserved p records a milter-enabled cleanup
 *			writes, without added recipients (implied by ptr)
 *	client=IP	SMTP client (default 127.0.0.1); - for local
 *			submission (sendmail, picked up: no client records)
 *	sasl=USER	SASL login (SMTP only)
 *	full=NAME	sender full name (F record); - for none (default:
 *			"root" for local submission and maildrop, none else)
 *	ctx=local|remote  rewrite_context (default: local for loopback and
 *			local submission, remote otherwise)
 *	body=N		body bytes (default 300)
 *	id=NAME		file name; default generated and unique under DIR
 *	count=N		N messages with distinct IDs
 *	trunc=N		keep only the first N bytes (a corrupt file)
 *	hash=N		directory hashing depth (default 1 for deferred and
 *			defer, as hash_queue_names, 0 elsewhere)
 *	garbage=1	random bytes instead of a queue file
 *
 * Every line is checked before any file is written.  Errors: "qgen: line
 * N: reason" on stderr, exit 1.  Nothing is printed on success.
 *
 * bulk: COUNT cleanup-written messages into DIR/QUEUE, senders from D
 * domains (default 500) with a Zipf distribution, 1-3 recipients from 40
 * domains, ages uniform in [0, max-age] (default two days), bodies of
 * 200-2000 bytes, and a few percent each of the null sender, local
 * submission, IPv6 clients, SASL logins, milter-added and delivered
 * recipients.  Deterministic for a seed (default 1) and --now.
 *
 * Generated queue IDs are short IDs, unique among all file names under DIR
 * (every queue), so one ID never appears in two queues by accident.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
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

#define MYHOST		"qgen.example"
#define QID_MAX		64		/* file name buffer */
#define RCPT_MAX	1000000		/* done= and ptr= */

typedef enum KIND {
    KIND_QUEUE,				/* written by cleanup */
    KIND_MAILDROP,			/* written by postdrop */
    KIND_MAILDROP_OLD			/* old postdrop: no T record */
} KIND;

/* One message, fully specified.  Strings are borrowed. */
typedef struct MSG {
    const char *queue;
    KIND    kind;
    long    age;			/* seconds before now */
    const char *sender;			/* "" for <> */
    const char **rcpt;			/* pending recipients */
    size_t  nrcpt;
    const char **xrcpt;			/* after X */
    size_t  nxrcpt;
    size_t  ndone;			/* delivered recipients */
    size_t  nptr;			/* last nptr of rcpt: milter-added */
    int     milter;			/* reserved p records */
    const char *client;			/* NULL: local submission */
    const char *sasl;			/* NULL: none */
    const char *full;			/* NULL: no F record */
    const char *ctx;			/* NULL: derived */
    size_t  body;			/* body bytes */
    const char *id;			/* NULL: generated */
    long    count;
    long    trunc;			/* -1: whole file */
    int     depth;			/* -1: by queue name */
    int     garbage;
    int     mode;			/* -1: by kind */
} MSG;

/* Growing output buffer. */
typedef struct BUF {
    unsigned char *data;
    size_t  len;
    size_t  cap;
} BUF;

/* Everything the writer needs across messages. */
typedef struct GEN {
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
} GEN;

/* Random numbers: splitmix64, deterministic for a seed. */

static uint64_t
rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned long
rng_below(uint64_t *s, unsigned long n)
{
    return n ? (unsigned long) (rng_next(s) % n) : 0;
}

static double
rng_unit(uint64_t *s)
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
    size_t  pos = rng_below(rng, span);
    char    line[80];

    while (pos > 0 && lorem[pos - 1] != ' ')	/* start at a word */
	pos--;
    while (bytes > 0) {
	size_t  want = 40 + rng_below(rng, 37);
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

/* Message content, M excluded, X excluded. */
static void
put_content(BUF *b, const MSG *m, const char *qid, time_t t, uint64_t *rng)
{
    const char *to = m->nrcpt ? m->rcpt[0] : m->nxrcpt ? m->xrcpt[0] : 0;
    char    date[64];
    char    stamp[32];
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000 (UTC)", &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
    if (m->kind != KIND_QUEUE) {		/* as the user typed it */
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
    if (m->kind == KIND_QUEUE && m->milter)	/* header append pointer */
	buf_fmt(b, REC_PTR, "%*ld", REC_NUM_WIDTH, 0L);
    buf_rec(b, REC_NORM, "", 0);
    put_body(b, m->body, rng);
    if (m->kind == KIND_QUEUE && m->milter)	/* body append pointer */
	buf_fmt(b, REC_PTR, "%*ld", REC_NUM_WIDTH, 0L);
}

/* A file as postdrop writes it into maildrop/ (old: no T, no A). */
static void
build_maildrop(BUF *b, const MSG *m, const char *qid, time_t t, long usec,
	       uint64_t *rng)
{
    size_t  i;

    if (m->kind == KIND_MAILDROP) {
	buf_fmt(b, REC_TIME, "%ld %ld", (long) t, usec);
	buf_str(b, REC_ATTR, "rewrite_context=local");
    }
    if (m->full)
	buf_str(b, REC_FULL, m->full);
    buf_str(b, REC_FROM, m->sender);
    for (i = 0; i < m->nrcpt; i++)
	buf_str(b, REC_RCPT, m->rcpt[i]);
    buf_rec(b, REC_MESG, "", 0);
    put_content(b, m, qid, t, rng);
    buf_rec(b, REC_XTRA, "", 0);
    for (i = 0; i < m->nxrcpt; i++)
	buf_str(b, REC_RCPT, m->xrcpt[i]);
    buf_rec(b, REC_END, "", 0);
}

/* A file as cleanup leaves it, after qmgr marked 'ndone' delivered. */
static void
build_queue(BUF *b, const MSG *m, const char *qid, time_t t, long usec,
	    uint64_t *rng)
{
    size_t  nenv = m->nrcpt - m->nptr;
    size_t  size_off, ptr_off = 0, target = 0, data_off, xtra_off, i;
    const char *ctx = m->ctx;
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
		   1024 + (unsigned) rng_below(rng, 64000));
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
    put_content(b, m, qid, t, rng);
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
build(BUF *b, const MSG *m, const char *qid, time_t t, long usec,
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
    } else if (m->kind == KIND_QUEUE)
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
queue_fd(GEN *g, const char *queue)
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
make_forest(GEN *g, int qfd, const char *path)
{
    char    dir[QID_MAX + 32];
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
write_file(GEN *g, const MSG *m, int depth, const char *name, int mode,
	   int excl)
{
    char    path[QID_MAX + 32];
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
    if (m->kind == KIND_QUEUE && g->postfix_uid != (uid_t) -1)
	if (fchown(fd, g->postfix_uid, g->postfix_gid) < 0)
	    log_warn("chown %s", path);
    if (m->kind != KIND_QUEUE && g->postdrop_gid != (gid_t) -1)
	if (fchown(fd, (uid_t) -1, g->postdrop_gid) < 0)
	    log_warn("chown %s", path);
    if (fchmod(fd, (mode_t) mode) < 0)
	log_fatal("chmod %s", path);
    /* In deferred/ the mtime is the next retry time, in the future. */
    ts[0].tv_sec = g->now;
    ts[0].tv_nsec = 0;
    ts[1].tv_sec = strcmp(m->queue, "deferred") == 0 ?
	g->now + 60 + (time_t) rng_below(&g->rng, 3600) : g->now - m->age;
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

static void
gen_init(GEN *g, const char *dir, time_t now, uint64_t seed)
{
    struct passwd *pw;
    struct group *gr;
    int     dfd;

    memset(g, 0, sizeof(*g));
    g->dir = dir;
    g->now = now;
    g->rng = seed;
    g->names = htab_create(1);
    g->qfds = htab_create(sizeof(int));
    g->ino = 0x100000 + (unsigned long) rng_below(&g->rng, 0x10000);
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
}

static void
gen_fini(GEN *g)
{
    size_t  i;

    for (i = 0; i < htab_count(g->qfds); i++)
	close(*(int *) htab_entry(g->qfds, i).value - 1);
    htab_destroy(g->qfds);
    htab_destroy(g->names);
    free(g->buf.data);
}

/* A short queue ID: 5 hex digits of microseconds, then the "inode". */
static void
new_qid(GEN *g, long usec, char *out)
{
    do {
	snprintf(out, QID_MAX, "%05lX%06lX", (unsigned long) usec, g->ino++);
    } while (htab_find(g->names, out, strlen(out)) != 0);
}

static int
msg_depth(const MSG *m)
{
    if (m->depth >= 0)
	return m->depth;
    return strcmp(m->queue, "deferred") == 0 || strcmp(m->queue, "defer") == 0;
}

static int
msg_mode(const MSG *m)
{
    if (m->mode >= 0)
	return m->mode;
    return m->kind == KIND_QUEUE ? 0700 : 0744;
}

/* Build and write one message; a fresh ID for each of m->count. */
static void
emit(GEN *g, const MSG *m)
{
    char    qid[QID_MAX];
    long    i;
    int     created;

    for (i = 0; i < m->count; i++) {
	long    usec = (long) rng_below(&g->rng, 1000000);
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

/* Spec mode: parsing. */

typedef struct LINE {
    MSG     msg;
    char   *text;			/* owns the strings msg points into */
} LINE;

static int spec_lineno;

static _Noreturn void LOG_FMT(1, 2)
bad_line(const char *fmt,...)
{
    va_list ap;

    fprintf(stderr, "%s: line %d: ", log_progname(), spec_lineno);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
	return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode C-style escapes in place.  NUL bytes are refused. */
static void
unescape(char *s)
{
    char   *out = s;
    int     hi, lo;

    while (*s) {
	if (*s != '\\') {
	    *out++ = *s++;
	    continue;
	}
	switch (s[1]) {
	case '\\': *out++ = '\\'; s += 2; break;
	case 'n': *out++ = '\n'; s += 2; break;
	case 't': *out++ = '\t'; s += 2; break;
	case 's': *out++ = ' '; s += 2; break;
	case ',': *out++ = ','; s += 2; break;
	case 'x':
	    if ((hi = hexval(s[2])) < 0 || (lo = hexval(s[3])) < 0)
		bad_line("bad \\x escape in \"%s\"", s);
	    if (hi == 0 && lo == 0)
		bad_line("\\x00 is not allowed");
	    *out++ = (char) (hi * 16 + lo);
	    s += 4;
	    break;
	default:
	    bad_line("unknown escape \"\\%c\"", s[1] ? s[1] : ' ');
	}
    }
    *out = 0;
}

/* Split on unescaped commas, then decode each piece.  "-" is empty. */
static const char **
split_list(char *s, size_t *count, const char *what)
{
    const char **v;
    size_t  n = 1;
    char   *start = s;

    for (start = s; *start; start++)		/* an upper bound */
	n += *start == ',';
    v = xcalloc(n, sizeof(*v));
    n = 0;
    start = s;
    *count = 0;
    if (strcmp(s, "-") == 0)
	return v;
    for (;; s++) {
	if (*s == '\\' && s[1]) {
	    s++;
	    continue;
	}
	if (*s != ',' && *s != 0)
	    continue;
	v[n++] = start;
	if (*s == 0)
	    break;
	*s = 0;
	start = s + 1;
    }
    for (*count = n; n-- > 0;) {
	unescape((char *) v[n]);
	if (*v[n] == 0)
	    bad_line("empty address in %s list", what);
    }
    return v;
}

static long
parse_num(const char *s, const char *what, long max, int base)
{
    char   *end;
    long    v;

    errno = 0;
    v = strtol(s, &end, base);
    if (errno || end == s || *end || v < 0 || v > max) {
	if (base == 8)
	    bad_line("bad %s \"%s\" (want octal 0..%lo)", what, s, max);
	bad_line("bad %s \"%s\" (want 0..%ld)", what, s, max);
    }
    return v;
}

static long
parse_age(const char *s)
{
    static const struct {
	char    unit;
	long    mult;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    char    tmp[32];
    size_t  len = strlen(s), i;

    if (len == 0 || len >= sizeof(tmp))
	bad_line("bad age \"%s\"", s);
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
	if (s[len - 1] == units[i].unit) {
	    memcpy(tmp, s, len - 1);
	    tmp[len - 1] = 0;
	    return parse_num(tmp, "age", LONG_MAX / 86400, 10) * units[i].mult;
	}
    return parse_num(s, "age", LONG_MAX / 86400, 10);
}

static int
name_ok(const char *s, int allow_dot)
{
    if (*s == 0 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0
	|| strlen(s) >= QID_MAX)
	return 0;
    for (; *s; s++)
	if (!isalnum((unsigned char) *s) && *s != '_' && *s != '-'
	    && !(allow_dot && *s == '.'))
	    return 0;
    return 1;
}

static void
parse_option(MSG *m, char *opt)
{
    char   *val = strchr(opt, '=');

    if (val == 0)
	bad_line("option \"%s\" is not key=value", opt);
    *val++ = 0;
    if (strcmp(opt, "xrcpt") == 0) {
	m->xrcpt = split_list(val, &m->nxrcpt, "xrcpt");
	return;
    }
    unescape(val);
    if (strcmp(opt, "mode") == 0)
	m->mode = (int) parse_num(val, "mode", 07777, 8);
    else if (strcmp(opt, "kind") == 0) {
	if (strcmp(val, "queue") == 0)
	    m->kind = KIND_QUEUE;
	else if (strcmp(val, "maildrop") == 0)
	    m->kind = KIND_MAILDROP;
	else if (strcmp(val, "maildrop_old") == 0)
	    m->kind = KIND_MAILDROP_OLD;
	else
	    bad_line("bad kind \"%s\" (want queue, maildrop, maildrop_old)",
		     val);
    } else if (strcmp(opt, "done") == 0)
	m->ndone = (size_t) parse_num(val, "done", RCPT_MAX, 10);
    else if (strcmp(opt, "ptr") == 0)
	m->nptr = (size_t) parse_num(val, "ptr", RCPT_MAX, 10);
    else if (strcmp(opt, "milter") == 0)
	m->milter = (int) parse_num(val, "milter", 1, 10);
    else if (strcmp(opt, "client") == 0)
	m->client = strcmp(val, "-") ? val : 0;
    else if (strcmp(opt, "sasl") == 0)
	m->sasl = val;
    else if (strcmp(opt, "full") == 0)
	m->full = strcmp(val, "-") ? val : 0;
    else if (strcmp(opt, "ctx") == 0) {
	if (strcmp(val, "local") && strcmp(val, "remote"))
	    bad_line("bad ctx \"%s\" (want local or remote)", val);
	m->ctx = val;
    } else if (strcmp(opt, "body") == 0)
	m->body = (size_t) parse_num(val, "body", 10 * 1024 * 1024, 10);
    else if (strcmp(opt, "id") == 0) {
	if (!name_ok(val, 1))
	    bad_line("bad id \"%s\"", val);
	m->id = val;
    } else if (strcmp(opt, "count") == 0)
	m->count = parse_num(val, "count", 10 * 1000 * 1000, 10);
    else if (strcmp(opt, "trunc") == 0)
	m->trunc = parse_num(val, "trunc", LONG_MAX, 10);
    else if (strcmp(opt, "hash") == 0)
	m->depth = (int) parse_num(val, "hash", 8, 10);
    else if (strcmp(opt, "garbage") == 0)
	m->garbage = (int) parse_num(val, "garbage", 1, 10);
    else
	bad_line("unknown option \"%s\"", opt);
}

/* Combinations Postfix never writes. */
static void
check_msg(const MSG *m)
{
    if (m->nptr > m->nrcpt)
	bad_line("ptr=%zu but only %zu recipients", m->nptr, m->nrcpt);
    if (m->id && m->count != 1)
	bad_line("id= and count=%ld: file names must be distinct", m->count);
    if (m->kind != KIND_QUEUE) {
	if (m->nptr || m->milter)
	    bad_line("ptr= and milter= need kind=queue (postdrop refuses p "
		     "records)");
	if (m->ndone)
	    bad_line("done= needs kind=queue");
	if (m->sasl)
	    bad_line("sasl= needs kind=queue");
    }
    if (m->kind == KIND_QUEUE && m->sasl && m->client == 0)
	bad_line("sasl= needs an SMTP client (not client=-)");
}

static void
parse_line(LINE *l, char *text)
{
    MSG    *m = &l->msg;
    char   *tok[4 + 64];
    size_t  ntok = 0;
    char   *p, *save = 0;
    int     full_given = 0;
    size_t  i;

    if ((p = strchr(text, '#')) != 0)
	*p = 0;
    for (p = strtok_r(text, " \t\r\n", &save); p;
	 p = strtok_r(0, " \t\r\n", &save)) {
	if (ntok >= sizeof(tok) / sizeof(tok[0]))
	    bad_line("too many fields");
	tok[ntok++] = p;
    }
    if (ntok == 0)
	return;
    if (ntok < 4)
	bad_line("want QUEUE AGE SENDER RCPTS [key=value ...]");
    memset(m, 0, sizeof(*m));
    m->queue = tok[0];
    if (!name_ok(m->queue, 0))
	bad_line("bad queue name \"%s\"", m->queue);
    m->kind = strcmp(m->queue, "maildrop") ? KIND_QUEUE : KIND_MAILDROP;
    m->age = parse_age(tok[1]);
    unescape(tok[2]);
    m->sender = tok[2];
    if (strcmp(m->sender, "<>") == 0)
	m->sender = "";
    else if (m->sender[0] == '<' && m->sender[strlen(m->sender) - 1] == '>') {
	tok[2][strlen(tok[2]) - 1] = 0;
	m->sender = tok[2] + 1;
    }
    m->rcpt = split_list(tok[3], &m->nrcpt, "recipient");
    m->client = "127.0.0.1";
    m->body = 300;
    m->count = 1;
    m->trunc = -1;
    m->depth = -1;
    m->mode = -1;
    for (i = 4; i < ntok; i++) {
	if (strncmp(tok[i], "full=", 5) == 0)
	    full_given = 1;
	parse_option(m, tok[i]);
    }
    if (m->nptr)
	m->milter = 1;
    if (m->kind != KIND_QUEUE)
	m->client = 0;
    if (!full_given && m->client == 0)
	m->full = "root";			/* sendmail's F for root */
    check_msg(m);
    l->text = text;
}

static int
spec_main(const char *dir, time_t now, uint64_t seed)
{
    LINE   *lines = 0;
    size_t  nlines = 0, cap = 0, i;
    char   *text = 0;
    size_t  tcap = 0;
    GEN     g;

    while (getline(&text, &tcap, stdin) >= 0) {
	spec_lineno++;
	if (nlines == cap) {
	    cap = cap ? 2 * cap : 64;
	    lines = xrealloc(lines, cap * sizeof(*lines));
	}
	memset(&lines[nlines], 0, sizeof(lines[nlines]));
	parse_line(&lines[nlines], text);
	if (lines[nlines].text) {
	    nlines++;
	    text = 0;				/* keep: msg points into it */
	    tcap = 0;
	}
    }
    if (ferror(stdin))
	log_fatal("read standard input");
    free(text);
    gen_init(&g, dir, now, seed);
    for (i = 0; i < nlines; i++)
	emit(&g, &lines[i].msg);
    gen_fini(&g);
    for (i = 0; i < nlines; i++) {
	free(lines[i].msg.rcpt);
	free(lines[i].msg.xrcpt);
	free(lines[i].text);
    }
    free(lines);
    return 0;
}

/* Bulk mode. */

#define BULK_RCPT_DOMAINS 40

/* A domain name for rank r: distinct, of varied length, some nested. */
static void
domain_name(char *out, size_t len, unsigned long r, const char *salt)
{
    static const char *syl[] = {"ka", "lo", "mi", "nu", "pe", "ra", "si",
	"to", "vex", "wyn", "zor", "bel", "cam", "dor", "fen", "gil"};
    static const char *tld[] = {"com", "net", "org", "example"};
    char    base[64];
    size_t  o = 0;
    unsigned long v = r;

    do {
	o += (size_t) snprintf(base + o, sizeof(base) - o, "%s",
			       syl[v % 16]);
	v /= 16;
    } while (v && o < sizeof(base) - 4);
    if (r % 7 == 3)
	snprintf(out, len, "mx%lu.%s%s.%s", r % 3, base, salt, tld[r % 4]);
    else
	snprintf(out, len, "%s%s.%s", base, salt, tld[r % 4]);
}

/* Zipf(s=1) over n ranks: cumulative weights, searched per draw. */
static double *
zipf_table(size_t n)
{
    double *cdf = xcalloc(n, sizeof(*cdf));
    double  sum = 0;
    size_t  i;

    for (i = 0; i < n; i++)
	cdf[i] = (sum += 1.0 / (double) (i + 1));
    for (i = 0; i < n; i++)
	cdf[i] /= sum;
    return cdf;
}

static size_t
zipf_draw(const double *cdf, size_t n, uint64_t *rng)
{
    double  u = rng_unit(rng);
    size_t  lo = 0, hi = n - 1;

    while (lo < hi) {
	size_t  mid = (lo + hi) / 2;

	if (cdf[mid] < u)
	    lo = mid + 1;
	else
	    hi = mid;
    }
    return lo;
}

typedef struct BULK {
    size_t  ndomains;
    double *scdf;			/* sender domains */
    double *rcdf;			/* recipient domains */
    long    max_age;
    char    sender[128];
    char    rbuf[3][128];
    const char *rcpt[3];
    char    client[64];
    char    sasl[32];
} BULK;

/* One message of the mix: mostly plain SMTP, some of every variant. */
static void
bulk_msg(BULK *k, MSG *m, uint64_t *rng)
{
    size_t  r = zipf_draw(k->scdf, k->ndomains, rng);
    unsigned long pick = rng_below(rng, 100);
    char    dom[96];
    size_t  i;

    memset(m, 0, sizeof(*m));
    m->kind = KIND_QUEUE;
    m->age = (long) rng_below(rng, (unsigned long) k->max_age + 1);
    domain_name(dom, sizeof(dom), r, "");
    if (pick == 3)				/* case must not matter */
	dom[0] = (char) toupper((unsigned char) dom[0]);
    if (pick == 0)
	m->sender = "";
    else {
	snprintf(k->sender, sizeof(k->sender), "%s%lu@%s",
		 pick < 3 ? "Bounce" : "user", rng_below(rng, 50), dom);
	m->sender = k->sender;
    }
    m->nrcpt = 1 + rng_below(rng, 3);
    for (i = 0; i < m->nrcpt; i++) {
	domain_name(dom, sizeof(dom),
		    zipf_draw(k->rcdf, BULK_RCPT_DOMAINS, rng), "rcpt");
	snprintf(k->rbuf[i], sizeof(k->rbuf[i]), "r%lu@%s",
		 rng_below(rng, 1000), dom);
	k->rcpt[i] = k->rbuf[i];
    }
    m->rcpt = k->rcpt;
    if (pick >= 95) {				/* 5%: IPv6 client */
	snprintf(k->client, sizeof(k->client), "2001:db8::%zx", r % 4096);
	m->client = k->client;
    } else if (pick >= 90)			/* 5%: local submission */
	m->full = "root";
    else {
	snprintf(k->client, sizeof(k->client), "10.%zu.%zu.%lu",
		 (r >> 8) % 256, r % 256, 1 + rng_below(rng, 4));
	m->client = k->client;
    }
    if (pick >= 70 && pick < 85 && m->client) {	/* 15%: SASL */
	snprintf(k->sasl, sizeof(k->sasl), "user%zu", r % 500);
	m->sasl = k->sasl;
    }
    if (pick >= 60 && pick < 65)		/* 5%: milter added one */
	m->nptr = m->milter = 1;
    if (pick >= 50 && pick < 55)		/* 5%: one delivered */
	m->ndone = 1;
    m->body = 200 + rng_below(rng, 1801);
    m->count = 1;
    m->trunc = -1;
    m->depth = -1;
    m->mode = -1;
}

static int
bulk_main(const char *dir, const char *queue, long count, time_t now,
	  uint64_t seed, size_t ndomains, long max_age)
{
    BULK    k;
    MSG     m;
    GEN     g;
    long    i;

    memset(&k, 0, sizeof(k));
    k.ndomains = ndomains;
    k.scdf = zipf_table(ndomains);
    k.rcdf = zipf_table(BULK_RCPT_DOMAINS);
    k.max_age = max_age;
    gen_init(&g, dir, now, seed);
    for (i = 0; i < count; i++) {
	bulk_msg(&k, &m, &g.rng);
	m.queue = queue;
	emit(&g, &m);
    }
    gen_fini(&g);
    free(k.scdf);
    free(k.rcdf);
    return 0;
}

/* Command line. */

static _Noreturn void
usage(void)
{
    fprintf(stderr, "usage: qgen spec DIR [--now EPOCH] [--seed S] < SPEC\n"
	    "       qgen bulk DIR QUEUE COUNT [--seed S] [--domains D] "
	    "[--now EPOCH] [--max-age SECONDS]\n");
    exit(1);
}

static long
opt_num(const char *name, const char *val, long min, long max)
{
    char   *end;
    long    v;

    errno = 0;
    v = val ? strtol(val, &end, 10) : 0;
    if (val == 0 || errno || end == val || *end || v < min || v > max) {
	fprintf(stderr, "%s: bad %s value \"%s\" (want %ld..%ld)\n",
		log_progname(), name, val ? val : "", min, max);
	exit(1);
    }
    return v;
}

int
main(int argc, char **argv)
{
    const char *pos[4];
    int     npos = 0, i;
    time_t  now = time(0);
    uint64_t seed = 1;
    long    ndomains = 500, max_age = 2 * 86400;

    log_init("qgen", 1, LOGL_WARN);
    for (i = 1; i < argc; i++) {
	const char *val = i + 1 < argc ? argv[i + 1] : 0;

	if (strcmp(argv[i], "--now") == 0)
	    now = (time_t) opt_num("--now", val, 0, LONG_MAX / 2), i++;
	else if (strcmp(argv[i], "--seed") == 0)
	    seed = (uint64_t) opt_num("--seed", val, 0, LONG_MAX), i++;
	else if (strcmp(argv[i], "--domains") == 0)
	    ndomains = opt_num("--domains", val, 1, 10000000), i++;
	else if (strcmp(argv[i], "--max-age") == 0)
	    max_age = opt_num("--max-age", val, 0, 100L * 365 * 86400), i++;
	else if (strncmp(argv[i], "--", 2) == 0 || npos == 4)
	    usage();
	else
	    pos[npos++] = argv[i];
    }
    if (npos == 2 && strcmp(pos[0], "spec") == 0)
	return spec_main(pos[1], now, seed);
    if (npos == 4 && strcmp(pos[0], "bulk") == 0) {
	if (!name_ok(pos[2], 0)) {
	    fprintf(stderr, "qgen: bad queue name \"%s\"\n", pos[2]);
	    return 1;
	}
	return bulk_main(pos[1], pos[2],
			 opt_num("COUNT", pos[3], 0, 100L * 1000 * 1000),
			 now, seed, (size_t) ndomains, max_age);
    }
    usage();
}

/*
 * qgen - write valid Postfix queue files, for tests and benchmarks.
 *
 *	qgen spec DIR [--now EPOCH] [--seed S] < SPECFILE
 *	qgen bulk DIR QUEUE COUNT [--seed S] [--domains D] [--now EPOCH]
 *		[--max-age SECONDS]
 *
 * Files are laid out record for record as Postfix 3.7's cleanup and
 * postdrop (and old postdrop versions) write them, with Postfix's owners,
 * modes, mtimes and directory hashing: see qgen_write.h, which builds and
 * writes them.  This file reads the command line and the spec, and draws
 * the bulk mix.
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
 *	header=LINE	one more header line, as the SMTP client sent it
 *	mark=VALUE	held by qshape-milter: the X-Qshape-Hold header with
 *			this value, appended as cleanup stores a header a
 *			milter added (past E, linked from the header append
 *			pointer; implies milter=1); see src/shape/holdmark.h
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
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "mem.h"
#include "qgen_write.h"

#define RCPT_MAX	1000000		/* done= and ptr= */

/* Spec mode: parsing. */

typedef struct LINE {
    QG_MSG  msg;
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
	|| strlen(s) >= QG_QID_MAX)
	return 0;
    for (; *s; s++)
	if (!isalnum((unsigned char) *s) && *s != '_' && *s != '-'
	    && !(allow_dot && *s == '.'))
	    return 0;
    return 1;
}

static void
parse_option(QG_MSG *m, char *opt)
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
	    m->kind = QG_KIND_QUEUE;
	else if (strcmp(val, "maildrop") == 0)
	    m->kind = QG_KIND_MAILDROP;
	else if (strcmp(val, "maildrop_old") == 0)
	    m->kind = QG_KIND_MAILDROP_OLD;
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
    else if (strcmp(opt, "header") == 0)
	m->header = val;
    else if (strcmp(opt, "mark") == 0)
	m->mark = val;
    else
	bad_line("unknown option \"%s\"", opt);
}

/* Combinations Postfix never writes. */
static void
check_msg(const QG_MSG *m)
{
    if (m->nptr > m->nrcpt)
	bad_line("ptr=%zu but only %zu recipients", m->nptr, m->nrcpt);
    if (m->id && m->count != 1)
	bad_line("id= and count=%ld: file names must be distinct", m->count);
    if (m->kind != QG_KIND_QUEUE) {
	if (m->nptr || m->milter)
	    bad_line("ptr= and milter= need kind=queue (postdrop refuses p "
		     "records)");
	if (m->ndone)
	    bad_line("done= needs kind=queue");
	if (m->sasl)
	    bad_line("sasl= needs kind=queue");
	if (m->mark || m->header)
	    bad_line("mark= and header= need kind=queue");
    }
    if (m->header && m->client == 0)
	bad_line("header= needs an SMTP client (not client=-)");
    if (m->kind == QG_KIND_QUEUE && m->sasl && m->client == 0)
	bad_line("sasl= needs an SMTP client (not client=-)");
}

static void
parse_line(LINE *l, char *text)
{
    QG_MSG *m = &l->msg;
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
    m->kind = strcmp(m->queue, "maildrop") ? QG_KIND_QUEUE : QG_KIND_MAILDROP;
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
    if (m->nptr || m->mark)
	m->milter = 1;
    if (m->kind != QG_KIND_QUEUE)
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
    QG_GEN *g;

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
    g = qg_create(dir, now, seed);
    for (i = 0; i < nlines; i++)
	qg_emit(g, &lines[i].msg);
    qg_destroy(g);
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
    double  u = qg_rng_unit(rng);
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
bulk_msg(BULK *k, QG_MSG *m, uint64_t *rng)
{
    size_t  r = zipf_draw(k->scdf, k->ndomains, rng);
    unsigned long pick = qg_rng_below(rng, 100);
    char    dom[96];
    size_t  i;

    memset(m, 0, sizeof(*m));
    m->kind = QG_KIND_QUEUE;
    m->age = (long) qg_rng_below(rng, (unsigned long) k->max_age + 1);
    domain_name(dom, sizeof(dom), r, "");
    if (pick == 3)				/* case must not matter */
	dom[0] = (char) toupper((unsigned char) dom[0]);
    if (pick == 0)
	m->sender = "";
    else {
	snprintf(k->sender, sizeof(k->sender), "%s%lu@%s",
		 pick < 3 ? "Bounce" : "user", qg_rng_below(rng, 50), dom);
	m->sender = k->sender;
    }
    m->nrcpt = 1 + qg_rng_below(rng, 3);
    for (i = 0; i < m->nrcpt; i++) {
	domain_name(dom, sizeof(dom),
		    zipf_draw(k->rcdf, BULK_RCPT_DOMAINS, rng), "rcpt");
	snprintf(k->rbuf[i], sizeof(k->rbuf[i]), "r%lu@%s",
		 qg_rng_below(rng, 1000), dom);
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
		 (r >> 8) % 256, r % 256, 1 + qg_rng_below(rng, 4));
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
    m->body = 200 + qg_rng_below(rng, 1801);
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
    QG_MSG  m;
    QG_GEN *g;
    long    i;

    memset(&k, 0, sizeof(k));
    k.ndomains = ndomains;
    k.scdf = zipf_table(ndomains);
    k.rcdf = zipf_table(BULK_RCPT_DOMAINS);
    k.max_age = max_age;
    g = qg_create(dir, now, seed);
    for (i = 0; i < count; i++) {
	bulk_msg(&k, &m, qg_rng(g));
	m.queue = queue;
	qg_emit(g, &m);
    }
    qg_destroy(g);
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

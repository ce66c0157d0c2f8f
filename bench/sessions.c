/*
 * bench-sessions - SMTP clients for the milter benchmark (bench/milter).
 *
 *	bench-sessions hold HOST:PORT N SENDER [MAXSECS]
 *	bench-sessions send HOST:PORT COUNT NDOMAINS SUFFIX
 *	bench-sessions probe HOST:PORT SENDER
 *
 * hold: open N SMTP sessions at once and take each to the MAIL FROM stage
 * (banner, EHLO, MAIL FROM:<SENDER> answered 250), driving all of them
 * with poll().  When all N are there it prints
 *
 *	ready N SECONDS
 *
 * and holds them open until SIGTERM or SIGINT (or MAXSECS, default 120),
 * then sends QUIT on each, waits briefly for the server to close, and
 * prints "done N lost=L", L being the sessions the server closed while
 * they were held.  Exit 1, after "failed ..." on stderr, when a session
 * does not reach MAIL FROM within 60 s (connect error, a reply other than
 * 2xx, a closed connection).
 *
 * send: one session that sends COUNT small messages, the i-th from
 * flood@d(i mod NDOMAINS).SUFFIX to rcpt@sink.example, and prints "sent
 * COUNT".  Exit 1 on any reply other than the expected one.
 *
 * probe: one session to MAIL FROM:<SENDER>; prints the reply to MAIL FROM
 * (its last line) and exits 0 whatever the code; 1 if there was none.
 *
 * IPv4 only (the benchmark listens on 127.0.0.1).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_	1024		/* one reply line */
#define READY_SECS	60		/* to bring every session to MAIL */

typedef enum STAGE {
    ST_BANNER,				/* waiting for 220 */
    ST_EHLO,				/* EHLO sent, waiting for 250 */
    ST_MAIL,				/* MAIL sent, waiting for 250 */
    ST_READY,				/* held at MAIL FROM */
    ST_QUIT,				/* QUIT sent */
    ST_CLOSED
} STAGE;

typedef struct SESS {
    int     fd;
    STAGE   stage;
    char    buf[LINE_MAX_];		/* the reply being read */
    size_t  len;
    char    last[LINE_MAX_];		/* last complete reply line */
} SESS;

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
    (void) sig;
    stop = 1;
}

static double
now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
usage(void)
{
    fprintf(stderr, "usage: bench-sessions hold HOST:PORT N SENDER [MAXSECS]\n"
	    "       bench-sessions send HOST:PORT COUNT NDOMAINS SUFFIX\n"
	    "       bench-sessions probe HOST:PORT SENDER\n");
    exit(2);
}

static long
number(const char *s, long min, long max)
{
    char   *end;
    long    v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
	fprintf(stderr, "bench-sessions: bad number %s (%ld..%ld)\n", s, min,
		max);
	exit(2);
    }
    return v;
}

static void
parse_addr(const char *s, struct sockaddr_in *sin)
{
    char    host[64];
    const char *colon = strrchr(s, ':');

    memset(sin, 0, sizeof(*sin));
    sin->sin_family = AF_INET;
    if (colon == 0 || (size_t) (colon - s) >= sizeof(host))
	usage();
    memcpy(host, s, (size_t) (colon - s));
    host[colon - s] = 0;
    if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
	fprintf(stderr, "bench-sessions: not an IPv4 address: %s\n", host);
	exit(2);
    }
    sin->sin_port = htons((unsigned short) number(colon + 1, 1, 65535));
}

static int
dial(const struct sockaddr_in *sin)
{
    int     fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
	return -1;
    if (connect(fd, (const struct sockaddr *) sin, sizeof(*sin)) < 0) {
	close(fd);
	return -1;
    }
    return fd;
}

/* Write all of s; 0 or -1. */
static int
put(int fd, const char *s)
{
    size_t  len = strlen(s), off = 0;
    ssize_t n;
    struct pollfd p;

    while (off < len) {
	n = write(fd, s + off, len - off);
	if (n > 0) {
	    off += (size_t) n;
	} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
	    p.fd = fd;
	    p.events = POLLOUT;
	    if (poll(&p, 1, 5000) <= 0)
		return -1;
	} else {
	    return -1;
	}
    }
    return 0;
}

/*
 * Take the bytes now readable on s.  Returns the code of a complete reply
 * (its last line in s->last), 0 when the reply is incomplete, -1 when the
 * connection is closed or broken.
 */
static int
take(SESS *s)
{
    ssize_t n;
    char   *nl;
    int     code = 0;

    n = read(s->fd, s->buf + s->len, sizeof(s->buf) - 1 - s->len);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
	return -1;
    if (n < 0)
	return 0;
    s->len += (size_t) n;
    s->buf[s->len] = 0;
    while ((nl = strchr(s->buf, '\n')) != 0) {
	size_t  ll = (size_t) (nl - s->buf) + 1;

	*nl = 0;
	if (nl > s->buf && nl[-1] == '\r')
	    nl[-1] = 0;
	if (strlen(s->buf) >= 3 && (s->buf[3] == ' ' || s->buf[3] == 0)) {
	    snprintf(s->last, sizeof(s->last), "%s", s->buf);
	    code = atoi(s->buf);
	    if (code <= 0)
		code = 999;
	}
	memmove(s->buf, s->buf + ll, s->len - ll);
	s->len -= ll;
	s->buf[s->len] = 0;
	if (code)
	    return code;
    }
    if (s->len == sizeof(s->buf) - 1)	/* a line too long to be SMTP */
	return -1;
    return 0;
}

/* A whole reply on a blocking session, waiting at most secs. */
static int
reply(SESS *s, int secs)
{
    struct pollfd p;
    int     rc;

    for (;;) {
	p.fd = s->fd;
	p.events = POLLIN;
	if (poll(&p, 1, secs * 1000) <= 0)
	    return -1;
	if ((rc = take(s)) != 0)
	    return rc;
    }
}

/* ---- hold --------------------------------------------------------------- */

static int
cmd_hold(const struct sockaddr_in *sin, long n, const char *sender,
	 long maxsecs)
{
    SESS   *ss = calloc((size_t) n, sizeof(*ss));
    struct pollfd *pf = calloc((size_t) n, sizeof(*pf));
    char    mail[LINE_MAX_];
    long    i, ready = 0, failed = 0, lost = 0, open_ = 0;
    double  t0 = now_sec(), deadline = t0 + READY_SECS;
    int     rc, first_fail = 1;

    if (ss == 0 || pf == 0) {
	perror("bench-sessions: calloc");
	return 1;
    }
    snprintf(mail, sizeof(mail), "MAIL FROM:<%s>\r\n", sender);
    for (i = 0; i < n; i++) {
	ss[i].stage = ST_BANNER;
	if ((ss[i].fd = dial(sin)) < 0) {
	    fprintf(stderr, "failed: session %ld: connect: %s\n", i,
		    strerror(errno));
	    ss[i].stage = ST_CLOSED;
	    failed++;
	    first_fail = 0;
	    continue;
	}
	fcntl(ss[i].fd, F_SETFL, O_NONBLOCK);
    }
    /* Bring every session to MAIL FROM. */
    while (ready + failed < n && now_sec() < deadline && !stop) {
	for (i = 0; i < n; i++) {
	    pf[i].fd = ss[i].stage < ST_READY ? ss[i].fd : -1;
	    pf[i].events = POLLIN;
	    pf[i].revents = 0;
	}
	if (poll(pf, (nfds_t) n, 200) < 0 && errno != EINTR)
	    break;
	for (i = 0; i < n; i++) {
	    SESS   *s = &ss[i];

	    if (pf[i].fd < 0 || pf[i].revents == 0)
		continue;
	    if ((rc = take(s)) == 0)
		continue;
	    if (rc < 0 || rc / 100 != 2) {
		if (first_fail)
		    fprintf(stderr, "failed: session %ld at stage %d: %s\n",
			    i, (int) s->stage, rc < 0 ? "connection closed"
			    : s->last);
		first_fail = 0;
		close(s->fd);
		s->stage = ST_CLOSED;
		failed++;
		continue;
	    }
	    switch (s->stage) {
	    case ST_BANNER:
		rc = put(s->fd, "EHLO bench.example\r\n");
		s->stage = ST_EHLO;
		break;
	    case ST_EHLO:
		rc = put(s->fd, mail);
		s->stage = ST_MAIL;
		break;
	    case ST_MAIL:
		s->stage = ST_READY;
		ready++;
		break;
	    default:
		break;
	    }
	    if (rc < 0) {
		close(s->fd);
		s->stage = ST_CLOSED;
		failed++;
	    }
	}
    }
    if (ready < n) {
	fprintf(stderr, "failed: %ld of %ld sessions reached MAIL FROM in "
		"%.1f s (%ld failed)\n", ready, n, now_sec() - t0, failed);
    } else {
	printf("ready %ld %.3f\n", n, now_sec() - t0);
	fflush(stdout);
	/* Hold; notice sessions the server closes meanwhile. */
	deadline = now_sec() + (double) maxsecs;
	while (!stop && now_sec() < deadline) {
	    for (i = 0; i < n; i++) {
		pf[i].fd = ss[i].stage == ST_READY ? ss[i].fd : -1;
		pf[i].events = POLLIN;
		pf[i].revents = 0;
	    }
	    if (poll(pf, (nfds_t) n, 200) < 0 && errno != EINTR)
		break;
	    for (i = 0; i < n; i++)
		if (pf[i].fd >= 0 && pf[i].revents && take(&ss[i]) != 0) {
		    close(ss[i].fd);
		    ss[i].stage = ST_CLOSED;
		    lost++;
		}
	}
    }
    /* QUIT, and wait a little for the server to close. */
    for (i = 0; i < n; i++) {
	if (ss[i].stage == ST_CLOSED)
	    continue;
	if (put(ss[i].fd, "QUIT\r\n") < 0) {
	    close(ss[i].fd);
	    ss[i].stage = ST_CLOSED;
	    continue;
	}
	ss[i].stage = ST_QUIT;
	open_++;
    }
    deadline = now_sec() + 5;
    while (open_ > 0 && now_sec() < deadline) {
	for (i = 0; i < n; i++) {
	    pf[i].fd = ss[i].stage == ST_QUIT ? ss[i].fd : -1;
	    pf[i].events = POLLIN;
	    pf[i].revents = 0;
	}
	if (poll(pf, (nfds_t) n, 200) < 0 && errno != EINTR)
	    break;
	for (i = 0; i < n; i++)
	    if (pf[i].fd >= 0 && pf[i].revents && take(&ss[i]) < 0) {
		close(ss[i].fd);
		ss[i].stage = ST_CLOSED;
		open_--;
	    }
    }
    for (i = 0; i < n; i++)
	if (ss[i].stage != ST_CLOSED)
	    close(ss[i].fd);
    if (ready == n)
	printf("done %ld lost=%ld\n", n, lost);
    free(ss);
    free(pf);
    return ready == n ? 0 : 1;
}

/* ---- send, probe -------------------------------------------------------- */

/* Send cmd (unless NULL), expect a reply of class want; 0 or -1. */
static int
step(SESS *s, const char *cmd, int want)
{
    int     rc;

    if (cmd && put(s->fd, cmd) < 0) {
	fprintf(stderr, "bench-sessions: write: %s\n", strerror(errno));
	return -1;
    }
    rc = reply(s, 30);
    if (rc / 100 != want) {
	fprintf(stderr, "bench-sessions: %s%s-> %s\n", cmd ? cmd : "",
		cmd ? "" : "banner ", rc < 0 ? "no reply" : s->last);
	return -1;
    }
    return 0;
}

static int
cmd_send(const struct sockaddr_in *sin, long count, long ndomains,
	 const char *suffix)
{
    SESS    s;
    char    cmd[LINE_MAX_];
    long    i;

    memset(&s, 0, sizeof(s));
    if ((s.fd = dial(sin)) < 0) {
	fprintf(stderr, "bench-sessions: connect: %s\n", strerror(errno));
	return 1;
    }
    if (step(&s, 0, 2) < 0 || step(&s, "EHLO bench.example\r\n", 2) < 0)
	return 1;
    for (i = 0; i < count; i++) {
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<flood@d%ld.%s>\r\n",
		 i % ndomains, suffix);
	if (step(&s, cmd, 2) < 0
	    || step(&s, "RCPT TO:<rcpt@sink.example>\r\n", 2) < 0
	    || step(&s, "DATA\r\n", 3) < 0
	    || step(&s, "Subject: bench\r\n\r\nflood\r\n.\r\n", 2) < 0)
	    return 1;
    }
    step(&s, "QUIT\r\n", 2);
    close(s.fd);
    printf("sent %ld\n", count);
    return 0;
}

static int
cmd_probe(const struct sockaddr_in *sin, const char *sender)
{
    SESS    s;
    char    cmd[LINE_MAX_];
    int     rc;

    memset(&s, 0, sizeof(s));
    if ((s.fd = dial(sin)) < 0) {
	fprintf(stderr, "bench-sessions: connect: %s\n", strerror(errno));
	return 1;
    }
    if (step(&s, 0, 2) < 0 || step(&s, "EHLO bench.example\r\n", 2) < 0)
	return 1;
    snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>\r\n", sender);
    if (put(s.fd, cmd) < 0 || (rc = reply(&s, 30)) < 0) {
	fprintf(stderr, "bench-sessions: no reply to MAIL FROM\n");
	return 1;
    }
    printf("%s\n", s.last);
    put(s.fd, "QUIT\r\n");
    close(s.fd);
    return 0;
}

int
main(int argc, char **argv)
{
    struct sockaddr_in sin;
    struct sigaction sa;

    if (argc < 4)
	usage();
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, 0);
    sigaction(SIGINT, &sa, 0);
    signal(SIGPIPE, SIG_IGN);
    parse_addr(argv[2], &sin);
    if (strcmp(argv[1], "hold") == 0 && (argc == 5 || argc == 6))
	return cmd_hold(&sin, number(argv[3], 1, 100000), argv[4],
			argc == 6 ? number(argv[5], 1, 86400) : 120);
    if (strcmp(argv[1], "send") == 0 && argc == 6)
	return cmd_send(&sin, number(argv[3], 1, 10000000),
			number(argv[4], 1, 1000000), argv[5]);
    if (strcmp(argv[1], "probe") == 0 && argc == 4)
	return cmd_probe(&sin, argv[3]);
    usage();
}

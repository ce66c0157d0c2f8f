/*
 * Unit tests for conf, the qshape-milter configuration: the files in
 * tests/data/conf, the example etc/qshape-milter.conf, the man page's
 * coverage, and the pure validators.  Run from the top of the source tree
 * (or set QSHAPE_SRCDIR).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"

static char top[PATH_MAX];		/* the source tree, absolute */

static const char *
src(const char *rel)
{
    static char p[PATH_MAX + 64];

    snprintf(p, sizeof(p), "%s/%s", top, rel);
    return p;
}

static QC_CONFIG *
load_ok(const char *rel)
{
    char    err[8192];
    QC_CONFIG *c = qc_load(src(rel), err, sizeof(err));

    if (c == 0)
	fprintf(stderr, "unexpected: %s\n", err);
    assert_non_null(c);
    return c;
}

/* Loading rel fails with exactly want, in which '~' is the data dir. */
static void
load_fails(const char *rel, const char *want)
{
    char    err[8192], exp[8192], dir[PATH_MAX + 64];
    size_t  o = 0;

    snprintf(dir, sizeof(dir), "%s", src("tests/data/conf"));
    for (; *want && o + strlen(dir) + 2 < sizeof(exp); want++)
	if (*want == '~')
	    o += (size_t) snprintf(exp + o, sizeof(exp) - o, "%s", dir);
	else
	    exp[o++] = *want;
    exp[o] = 0;
    assert_null(qc_load(src(rel), err, sizeof(err)));
    assert_string_equal(err, exp);
}

static int
setup(void **state)
{
    const char *s = getenv("QSHAPE_SRCDIR");

    (void) state;
    if (realpath(s ? s : ".", top) == 0)
	return -1;
    return 0;
}

static void
defaults(void **state)
{
    QC_CONFIG *c = load_ok("tests/data/conf/empty.conf");
    static const char *const q[] = {
	"incoming", "active", "deferred", "hold", "maildrop"
    };
    size_t  i;

    (void) state;
    assert_string_equal(c->path, src("tests/data/conf/empty.conf"));
    assert_string_equal(c->queue_directory, "");
    assert_string_equal(c->postfix_config_directory, "");
    assert_string_equal(c->summary_file, "/run/qshape-milter/summary");
    assert_string_equal(c->group, "qshape");
    assert_int_equal(c->stale_after, 30);
    assert_int_equal(c->fail_mode, QC_FAIL_ACCEPT);
    assert_int_equal(c->log_level, 2);	/* LOGL_INFO */
    assert_int_equal(c->dry_run, 0);
    assert_int_equal(c->scanner.queues.n, 5);
    for (i = 0; i < 5; i++)
	assert_string_equal(c->scanner.queues.v[i], q[i]);
    assert_int_equal(c->scanner.reconcile_interval, 60);
    assert_int_equal(c->scanner.publish_interval, 100);
    assert_int_equal(c->scanner.heartbeat_interval, 1);
    assert_int_equal(c->scanner.top_keys, 1000);
    assert_int_equal(c->scanner.max_throttled, 256);
    assert_int_equal(c->scanner.bucket_count, 10);
    assert_int_equal(c->scanner.bucket_time, 5);
    assert_int_equal(c->scanner.linear_buckets, 0);
    assert_string_equal(c->scanner.user, "");
    assert_string_equal(c->scanner.pid_file,
			"/run/qshape-milter/qshape-scand.pid");
    assert_string_equal(c->milter.socket, "inet:10027@127.0.0.1");
    assert_int_equal(c->milter.socket_mode, 0660);
    assert_string_equal(c->milter.socket_group, "");
    assert_string_equal(c->milter.user, "qshape-milter");
    assert_int_equal(c->milter.timeout, 30);
    assert_int_equal(c->milter.log_accepts, 0);
    assert_int_equal(c->npolicies, 0);
    assert_null(c->policies);
    assert_int_equal(c->exempt.senders.n, 0);
    assert_int_equal(c->exempt.domains.n, 0);
    assert_int_equal(c->exempt.networks.n, 0);
    assert_int_equal(c->exempt.nnets, 0);
    assert_null(c->exempt.nets);
    assert_int_equal(c->exempt.sasl_users.n, 0);
    assert_int_equal(c->exempt.null_sender, 0);
    qc_free(c);
    qc_free(0);
}

static void
good(void **state)
{
    QC_CONFIG *c = load_ok("tests/data/conf/good.conf");
    const QC_POLICY *p;
    const QC_NET *n;

    (void) state;
    assert_string_equal(c->queue_directory, "/var/spool/postfix-out");
    assert_string_equal(c->postfix_config_directory, "/etc/postfix-out");
    assert_string_equal(c->summary_file, "/run/qshape-test/summary");
    assert_string_equal(c->group, "mailq");
    assert_int_equal(c->stale_after, 120);
    assert_int_equal(c->fail_mode, QC_FAIL_TEMPFAIL);
    assert_int_equal(c->log_level, 3);	/* LOGL_DEBUG */
    assert_int_equal(c->dry_run, 1);
    assert_int_equal(c->scanner.queues.n, 3);
    assert_string_equal(c->scanner.queues.v[2], "deferred");
    assert_int_equal(c->scanner.reconcile_interval, 3600);
    assert_int_equal(c->scanner.publish_interval, 250);
    assert_int_equal(c->scanner.heartbeat_interval, 2);
    assert_int_equal(c->scanner.top_keys, 2000);
    assert_int_equal(c->scanner.max_throttled, 1024);
    assert_int_equal(c->scanner.bucket_count, 16);
    assert_int_equal(c->scanner.bucket_time, 60);
    assert_int_equal(c->scanner.linear_buckets, 1);
    assert_string_equal(c->scanner.user, "postfix");
    assert_string_equal(c->scanner.pid_file, "");
    assert_string_equal(c->milter.socket,
			"unix:/var/spool/postfix/private/qshape");
    assert_int_equal(c->milter.socket_mode, 0600);
    assert_string_equal(c->milter.socket_group, "postfix");
    assert_string_equal(c->milter.user, "");
    assert_int_equal(c->milter.timeout, 10);
    assert_int_equal(c->milter.log_accepts, 1);

    assert_int_equal(c->npolicies, 5);
    p = &c->policies[0];		/* defaults of a policy */
    assert_string_equal(p->name, "flood");
    assert_int_equal(p->key, QC_KEY_SENDER_DOMAIN);
    assert_int_equal(p->queues.n, 2);
    assert_string_equal(p->queues.v[0], "incoming");
    assert_string_equal(p->queues.v[1], "active");
    assert_int_equal(p->queue_mask, 0x3);
    assert_int_equal(p->max_age, 0);
    assert_int_equal(p->min_queue_is_share, 0);
    assert_int_equal(p->min_queue, 100);
    assert_int_equal(p->min_count, 50);
    assert_true(p->min_share == 1.0);	/* given as the integer 1 */
    assert_true(p->release_ratio == 0.8);
    assert_int_equal(p->min_hold_time, 300);
    assert_int_equal(p->action, QC_ACTION_TEMPFAIL);
    assert_int_equal(p->local_action, QC_ACTION_HOLD);
    assert_string_equal(p->reply,
	"451 4.7.1 Too much mail from you in our queue, try again later");
    assert_string_equal(p->reply_code, "451");
    assert_string_equal(p->reply_xcode, "4.7.1");
    assert_string_equal(p->reply_text,
			"Too much mail from you in our queue, try again later");

    p = &c->policies[1];
    assert_string_equal(p->name, "parent-hold_2");
    assert_int_equal(p->key, QC_KEY_PARENT_DOMAIN);
    assert_int_equal(p->queue_mask, 0x5);	/* deferred, incoming */
    assert_int_equal(p->max_age, 86400);
    assert_int_equal(p->min_queue_is_share, 1);
    assert_true(p->min_queue_share == 0.5);
    assert_int_equal(p->min_count, 10);
    assert_true(p->min_share == 0.25);
    assert_true(p->release_ratio == 1.0);
    assert_int_equal(p->min_hold_time, 0);
    assert_int_equal(p->action, QC_ACTION_HOLD);
    assert_int_equal(p->local_action, QC_ACTION_ACCEPT);
    assert_string_equal(p->reply_code, "421");
    assert_string_equal(p->reply_xcode, "4.3.2");
    assert_string_equal(p->reply_text, "Go away");

    p = &c->policies[2];
    assert_int_equal(p->key, QC_KEY_CLIENT_ADDRESS);
    assert_int_equal(p->min_queue_is_share, 0);
    assert_int_equal(p->min_queue, 0);
    assert_int_equal(p->action, QC_ACTION_LOG);
    assert_int_equal(p->local_action, QC_ACTION_LOG);	/* follows log */
    assert_string_equal(p->reply_code, "450");
    assert_string_equal(p->reply_xcode, "");
    assert_string_equal(p->reply_text, "No enhanced code here");

    p = &c->policies[3];
    assert_int_equal(p->key, QC_KEY_SENDER);
    assert_int_equal(p->local_action, QC_ACTION_HOLD);
    assert_string_equal(p->reply_code, "451");
    assert_string_equal(p->reply_xcode, "");
    assert_string_equal(p->reply_text, "");

    p = &c->policies[4];
    assert_int_equal(p->key, QC_KEY_SASL_USERNAME);
    assert_int_equal(p->local_action, QC_ACTION_LOG);
    assert_string_equal(p->reply_xcode, "4.5.3");
    assert_string_equal(p->reply_text, "spaced   text");

    assert_int_equal(c->exempt.senders.n, 2);
    assert_string_equal(c->exempt.senders.v[0], "postmaster@example.com");
    assert_string_equal(c->exempt.senders.v[1], "root");
    assert_string_equal(c->exempt.domains.v[0], "example.org");
    assert_string_equal(c->exempt.domains.v[1], "xn--bcher-kva.example");
    assert_int_equal(c->exempt.networks.n, 5);
    assert_string_equal(c->exempt.networks.v[1], "2001:DB8::/32");
    assert_int_equal(c->exempt.nnets, 5);
    n = c->exempt.nets;
    assert_int_equal(n[0].family, AF_INET);
    assert_int_equal(n[0].prefix, 24);
    assert_memory_equal(n[0].addr, "\xc0\x00\x02\x00", 4);
    assert_int_equal(n[1].family, AF_INET6);
    assert_int_equal(n[1].prefix, 32);
    assert_memory_equal(n[1].addr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\0",
			16);
    assert_int_equal(n[2].prefix, 32);
    assert_int_equal(n[3].family, AF_INET6);
    assert_int_equal(n[3].prefix, 128);
    assert_int_equal(n[4].prefix, 0);
    assert_string_equal(c->exempt.sasl_users.v[0], "Alice");	/* case kept */
    assert_string_equal(c->exempt.sasl_users.v[1], "bob@example.com");
    assert_int_equal(c->exempt.null_sender, 1);
    assert_string_equal(qc_key_name(c->policies[1].key), "parent_domain");
    assert_string_equal(qc_action_name(c->policies[1].local_action),
			"accept");
    assert_string_equal(qc_key_name(99), "?");
    assert_string_equal(qc_action_name(-1), "?");
    qc_free(c);
}

/* The shipped example loads, and shows every setting. */
static void
example(void **state)
{
    QC_CONFIG *c = load_ok("etc/qshape-milter.conf");

    (void) state;
    assert_int_equal(c->npolicies, 2);
    assert_string_equal(c->policies[0].name, "domain_flood");
    assert_int_equal(c->policies[0].action, QC_ACTION_LOG);
    assert_int_equal(c->policies[1].min_queue_is_share, 1);
    assert_true(c->policies[1].min_queue_share == 0.25);
    assert_int_equal(c->policies[1].max_age, 3600);
    assert_int_equal(c->policies[1].min_hold_time, 900);
    assert_int_equal(c->scanner.queues.n, 5);
    assert_int_equal(c->stale_after, 30);
    qc_free(c);
}

static char *
slurp(const char *path)
{
    FILE   *fp = fopen(path, "r");
    char   *buf;
    long    n;

    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    rewind(fp);
    buf = malloc((size_t) n + 1);
    assert_int_equal(fread(buf, 1, (size_t) n, fp), (size_t) n);
    buf[n] = 0;
    fclose(fp);
    return buf;
}

/* Does text have a line "<blanks>name = "? */
static int
sets(const char *text, const char *name)
{
    char    want[128];
    const char *p;

    snprintf(want, sizeof(want), "%s = ", name);
    for (p = text; (p = strstr(p, want)) != 0; p++) {
	const char *q = p;

	while (q > text && (q[-1] == ' ' || q[-1] == '\t'))
	    q--;
	if (q == text || q[-1] == '\n')
	    return 1;
    }
    return 0;
}

/*
 * The man page's first line about a setting, as the table says it:
 * "Integer, 10..3000; default 1000." and the like.  0: not checked (a
 * string, an enum, a list without a stated length).
 */
static int
spec_line(const CFG_ITEM *it, char *buf, size_t len)
{
    static const struct {
	int64_t unit;
	const char *name;
    } units[] = {{CFG_MSEC, "milliseconds"}, {CFG_SEC, "seconds"},
		 {CFG_MIN, "minutes"}};
    size_t  i;

    switch (it->type) {
    case CFG_INT:
	snprintf(buf, len, "Integer, %lld..%lld; default %lld",
		 (long long) it->min, (long long) it->max,
		 (long long) it->idef);
	return 1;
    case CFG_DURATION:
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
	    if (units[i].unit == it->unit)
		break;
	assert_true(i < sizeof(units) / sizeof(units[0]));
	snprintf(buf, len, "Duration in %s, %lld..%lld; default %lld",
		 units[i].name, (long long) it->min, (long long) it->max,
		 (long long) it->idef);
	return 1;
    case CFG_FLOAT:
	if (it->flags & CFG_MIN_EXCL)
	    snprintf(buf, len, "Float, greater than %g and at most %g; "
		     "default %g", it->fmin, it->fmax, it->fdef);
	else if (it->show)		/* shown only when set */
	    snprintf(buf, len, "Float, %g..%g; no default", it->fmin,
		     it->fmax);
	else
	    snprintf(buf, len, "Float, %g..%g; default %g", it->fmin,
		     it->fmax, it->fdef);
	return 1;
    case CFG_MODE:
	snprintf(buf, len, "Mode, \\(dq%04llo\\(dq..\\(dq%04llo\\(dq; "
		 "default\n.BR \\(dq%04llo\\(dq", (unsigned long long) it->min,
		 (unsigned long long) it->max, (unsigned long long) it->idef);
	return 1;
    case CFG_BOOL:
	snprintf(buf, len, "Boolean; default\n.BR %s", it->idef ? "true"
		 : "false");
	return 1;
    case CFG_STRINGS:			/* min 0: the exempt lists */
	if (it->min == 0)
	    snprintf(buf, len, "Array of strings; default empty");
	else
	    snprintf(buf, len, "Array of strings, %lld..%lld entries",
		     (long long) it->min, (long long) it->max);
	return 1;
    default:
	return 0;
    }
}

/* Does some ".B name" paragraph of the man page start with spec? */
static int
man_says(const char *man, const char *name, const char *spec)
{
    char    head[128];
    const char *p;

    snprintf(head, sizeof(head), "\n.B %s\n", name);
    for (p = man; (p = strstr(p, head)) != 0; p++)
	if (strncmp(p + strlen(head), spec, strlen(spec)) == 0)
	    return 1;
    return 0;
}

/* Every setting of the table is set in the example and described in the
 * man page, with the table's bounds and default. */
static void
documented_table(const CFG_TABLE *t, const char *etc, const char *man)
{
    const CFG_ITEM *it;
    char    want[128], spec[256];

    for (it = t->items; it->name; it++) {
	if (!sets(etc, it->name))
	    fail_msg("etc/qshape-milter.conf does not set %s", it->name);
	if (it->sub)			/* .BR "scanner = { ... };" */
	    snprintf(want, sizeof(want), "\"%s = ", it->name);
	else
	    snprintf(want, sizeof(want), "\n.B %s\n", it->name);
	if (strstr(man, want) == 0)
	    fail_msg("docs/qshape-milter.conf.5 lacks '%s'", want);
	if (spec_line(it, spec, sizeof(spec))
	    && !man_says(man, it->name, spec))
	    fail_msg("docs/qshape-milter.conf.5: %s is not '%s'", it->name,
		     spec);
	if (it->sub)
	    documented_table(it->sub, etc, man);
    }
}

static void
documented(void **state)
{
    char   *etc = slurp(src("etc/qshape-milter.conf"));
    char   *man = slurp(src("docs/qshape-milter.conf.5"));

    (void) state;
    documented_table(qc_table(), etc, man);
    free(etc);
    free(man);
}

static void
includes(void **state)
{
    char    cwd[PATH_MAX];
    QC_CONFIG *c;

    (void) state;
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir("/"), 0);
    c = load_ok("tests/data/conf/include-main.conf");
    assert_int_equal(c->log_level, 1);	/* LOGL_WARN */
    assert_int_equal(c->dry_run, 1);
    assert_int_equal(c->scanner.top_keys, 123);
    assert_int_equal(c->npolicies, 1);
    assert_string_equal(c->policies[0].name, "inc");
    qc_free(c);
    load_fails("tests/data/conf/bad-in-include.conf",
	       "~/included/bad.conf:3: policies[0].min_share: 2 is out of "
	       "range 0..1");
    load_fails("tests/data/conf/bad-include.conf",
	       "~/bad-include.conf:2: @include \"included/missing.conf\": "
	       "cannot open ~/included/missing.conf: No such file or "
	       "directory (include paths are relative to ~)");
    assert_int_equal(chdir(cwd), 0);
}

static void
bad_files(void **state)
{
    char    err[512], want[1024];

    (void) state;
    load_fails("tests/data/conf/bad-unknown.conf",
	       "~/bad-unknown.conf:2: loglevel: unknown setting (did you mean "
	       "log_level?)\n"
	       "~/bad-unknown.conf:5: scanner.topkeys: unknown setting (did "
	       "you mean top_keys?)\n"
	       "~/bad-unknown.conf:12: policies[0].min_shares: unknown "
	       "setting (did you mean min_share?)\n"
	       "~/bad-unknown.conf:15: exempt.sender: unknown setting (did "
	       "you mean senders?)");
    load_fails("tests/data/conf/bad-range.conf",
	       "~/bad-range.conf:1: stale_after: 3000000000 is out of range "
	       "1..3600 (seconds)\n"
	       "~/bad-range.conf:2: fail_mode: \"reject\" is not one of "
	       "accept, tempfail\n"
	       "~/bad-range.conf:3: log_level: \"notice\" is not one of "
	       "error, warning, info, debug\n"
	       "~/bad-range.conf:4: summary_file: \"qshape\" is not an "
	       "absolute path\n"
	       "~/bad-range.conf:6: scanner.queues[1]: \"corrupt\" is not one "
	       "of incoming, active, deferred, hold, maildrop\n"
	       "~/bad-range.conf:7: scanner.publish_interval: 5 is out of "
	       "range 10..10000 (milliseconds)\n"
	       "~/bad-range.conf:8: scanner.bucket_count: 17 is out of range "
	       "1..16\n"
	       "~/bad-range.conf:9: scanner.pid_file: \"run/x.pid\" is not an "
	       "absolute path\n"
	       "~/bad-range.conf:12: milter.socket: \"inet:127.0.0.1:10027\": "
	       "libmilter wants inet:PORT@HOST, not Postfix's inet:HOST:PORT\n"
	       "~/bad-range.conf:13: milter.socket_mode: write the mode as an "
	       "octal string such as \"0660\" (libconfig reads 0660 as "
	       "decimal 660)\n"
	       "~/bad-range.conf:14: milter.timeout: 0 is out of range 1..3600 "
	       "(seconds)\n"
	       "~/bad-range.conf:19: policies[0].key: \"sender_ip\" is not one "
	       "of sender_domain, parent_domain, sender, client_address, "
	       "sasl_username\n"
	       "~/bad-range.conf:20: policies[0].action: \"reject\" is not one "
	       "of tempfail, hold, log\n"
	       "~/bad-range.conf:21: policies[0].min_share: 1.5 is out of "
	       "range 0..1\n"
	       "~/bad-range.conf:22: policies[0].release_ratio: 0 is out of "
	       "range: must be greater than 0 and at most 1\n"
	       "~/bad-range.conf:23: policies[0].min_count: 3000000000 is out "
	       "of range 1..100000000");
    load_fails("tests/data/conf/bad-exempt.conf",
	       "~/bad-exempt.conf:3: exempt.senders[1]: use null_sender = true "
	       "for the null sender\n"
	       "~/bad-exempt.conf:3: exempt.senders[2]: \"<a@example.com>\": "
	       "write the address without <>\n"
	       "~/bad-exempt.conf:3: exempt.senders[3]: an address must not "
	       "contain spaces or control characters\n"
	       "~/bad-exempt.conf:4: exempt.domains[0]: \".example.com\" has "
	       "an empty label (a domain matches its subdomains without a "
	       "leading dot)\n"
	       "~/bad-exempt.conf:4: exempt.domains[1]: \"example.com.\" has "
	       "an empty label (a domain matches its subdomains without a "
	       "leading dot)\n"
	       "~/bad-exempt.conf:4: exempt.domains[2]: \"a..example\" has an "
	       "empty label (a domain matches its subdomains without a "
	       "leading dot)\n"
	       "~/bad-exempt.conf:4: exempt.domains[3]: \"u@example.com\" is "
	       "an address, not a domain\n"
	       "~/bad-exempt.conf:5: exempt.networks[0]: \"10.0.0.1/8\" has "
	       "host bits set (the network is 10.0.0.0/8)\n"
	       "~/bad-exempt.conf:6: exempt.networks[1]: \"192.0.2.0/33\": the "
	       "prefix length must be 0..32\n"
	       "~/bad-exempt.conf:6: exempt.networks[2]: \"2001:db8::/129\": "
	       "the prefix length must be 0..128\n"
	       "~/bad-exempt.conf:6: exempt.networks[3]: \"example.com\" is "
	       "not an IPv4 or IPv6 address\n"
	       "~/bad-exempt.conf:7: exempt.networks[4]: \"192.0.2.0/\": the "
	       "prefix length must be 0..32\n"
	       "~/bad-exempt.conf:7: exempt.networks[5]: \"192.0.2.0/x\": the "
	       "prefix length must be 0..32\n"
	       "~/bad-exempt.conf:7: exempt.networks[6]: \"fe80::1%eth0\" is "
	       "not an IPv6 address\n"
	       "~/bad-exempt.conf:7: exempt.networks[7]: \"10\" is not an IPv4 "
	       "or IPv6 address\n"
	       "~/bad-exempt.conf:8: exempt.networks[8]: \"::ffff:1.2.3.4/96\" "
	       "has host bits set (the network is ::ffff:0.0.0.0/96)\n"
	       "~/bad-exempt.conf:9: exempt.sasl_users[0]: a SASL user name "
	       "must not contain spaces or control characters\n"
	       "~/bad-exempt.conf:9: exempt.sasl_users[1]: empty string\n"
	       "~/bad-exempt.conf:10: exempt.null_sender: expected true or "
	       "false, got a string");
    load_fails("tests/data/conf/bad-policies.conf",
	       "~/bad-policies.conf:10: policies[0].min_queue_share: min_queue "
	       "and min_queue_share are mutually exclusive\n"
	       "~/bad-policies.conf:17: policies[1].queues[1]: \"deferred\" is "
	       "not in scanner.queues\n"
	       "~/bad-policies.conf:23: policies[2].local_action: tempfail is "
	       "not allowed here: pickup(8) would retry the message every 60 "
	       "seconds with a new queue ID, forever; use hold, log or accept\n"
	       "~/bad-policies.conf:29: policies[3].reply: enhanced status "
	       "code 5.7.1 does not match reply code 451 (its class must be "
	       "4)\n"
	       "~/bad-policies.conf:35: policies[4].reply: reply code 551 is "
	       "not a 4xx code\n"
	       "~/bad-policies.conf:37: policies[5].action: required setting "
	       "is missing\n"
	       "~/bad-policies.conf:44: policies[6].action: \"accept\" is not "
	       "one of tempfail, hold, log");
    load_fails("tests/data/conf/bad-duplicate.conf",
	       "~/bad-duplicate.conf:1: stale_after: 1 must be greater than "
	       "scanner.heartbeat_interval (1)\n"
	       "~/bad-duplicate.conf:5: policies[2].name: duplicate policy "
	       "name \"flood\" (also policies[0])");
    load_fails("tests/data/conf/bad-syntax.conf",
	       "~/bad-syntax.conf:2: syntax error");
    load_fails("tests/data/conf/missing.conf",
	       "~/missing.conf: cannot read configuration file: No such file "
	       "or directory");
    /* NULL is the default path. */
    if (access(QC_DEFAULT_PATH, F_OK) != 0) {
	assert_null(qc_load(0, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: cannot read configuration file: No "
		 "such file or directory", QC_DEFAULT_PATH);
	assert_string_equal(err, want);
    }
}

/* What -v prints loads again and prints the same. */
static void
round_trip(void **state)
{
    const char *files[] = {
	"tests/data/conf/good.conf", "tests/data/conf/empty.conf",
	"etc/qshape-milter.conf",
    };
    char   *a, *b, tmp[] = "/tmp/test_conf.XXXXXX", err[4096];
    size_t  alen, blen, i;
    QC_CONFIG *c, *d;
    FILE   *fp;
    int     fd;

    (void) state;
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
	c = load_ok(files[i]);
	assert_true((fd = mkstemp(tmp)) >= 0);
	assert_non_null(fp = fdopen(fd, "w"));
	cfg_print(qc_table(), c, fp);
	fclose(fp);
	d = qc_load(tmp, err, sizeof(err));
	if (d == 0)
	    fail_msg("%s", err);
	assert_non_null(fp = open_memstream(&a, &alen));
	cfg_print(qc_table(), c, fp);
	fclose(fp);
	assert_non_null(fp = open_memstream(&b, &blen));
	cfg_print(qc_table(), d, fp);
	fclose(fp);
	assert_string_equal(a, b);
	unlink(tmp);
	strcpy(tmp, "/tmp/test_conf.XXXXXX");
	free(a);
	free(b);
	qc_free(c);
	qc_free(d);
    }
}

static void
networks(void **state)
{
    static const struct {
	const char *net;
	int     family, prefix;
	const char *err;
    } parse[] = {
	{"192.0.2.0/24", AF_INET, 24, 0},
	{"192.0.2.128/25", AF_INET, 25, 0},
	{"0.0.0.0/0", AF_INET, 0, 0},
	{"10.1.2.3", AF_INET, 32, 0},
	{"10.1.2.3/32", AF_INET, 32, 0},
	{"2001:db8::/32", AF_INET6, 32, 0},
	{"2001:db8:0:0:8000::/65", AF_INET6, 65, 0},
	{"::/0", AF_INET6, 0, 0},
	{"::1", AF_INET6, 128, 0},
	{"::ffff:192.0.2.0/120", AF_INET, 24, 0},	/* cidr.h */
	{"192.0.2.1/24", 0, 0, "\"192.0.2.1/24\" has host bits set (the "
	 "network is 192.0.2.0/24)"},
	{"2001:db8::1/64", 0, 0, "\"2001:db8::1/64\" has host bits set (the "
	 "network is 2001:db8::/64)"},
	{"192.0.2.0/33", 0, 0, "\"192.0.2.0/33\": the prefix length must be "
	 "0..32"},
	{"2001:db8::/129", 0, 0, "\"2001:db8::/129\": the prefix length must "
	 "be 0..128"},
	{"192.0.2.0/-1", 0, 0, "\"192.0.2.0/-1\": the prefix length must be "
	 "0..32"},
	{"192.0.2.0/0024", 0, 0, "\"192.0.2.0/0024\": the prefix length must "
	 "be 0..32"},
	{"192.0.2.0/24/8", 0, 0, "\"192.0.2.0/24/8\": the prefix length must "
	 "be 0..32"},
	{"192.0.2/24", 0, 0, "\"192.0.2\" is not an IPv4 or IPv6 address"},
	{"garbage", 0, 0, "\"garbage\" is not an IPv4 or IPv6 address"},
	{"1.2.3.4.5", 0, 0, "\"1.2.3.4.5\" is not an IPv4 or IPv6 address"},
	{"2001:db8:::/48", 0, 0, "\"2001:db8:::\" is not an IPv6 address"},
	{"/24", 0, 0, "\"/24\" is not a network (192.0.2.0/24, "
	 "2001:db8::/32)"},
	{"", 0, 0, "\"\" is not a network (192.0.2.0/24, 2001:db8::/32)"},
	{"10.0.0.0 /8", 0, 0, "\"10.0.0.0 /8\" is not a network "
	 "(192.0.2.0/24, 2001:db8::/32)"},
    };
    static const struct {
	const char *net, *addr;
	int     match;
    } match[] = {
	{"192.0.2.0/24", "192.0.2.1", 1},
	{"192.0.2.0/24", "192.0.2.255", 1},
	{"192.0.2.0/24", "192.0.3.0", 0},
	{"192.0.2.128/25", "192.0.2.127", 0},
	{"192.0.2.128/25", "192.0.2.200", 1},
	{"10.1.2.3", "10.1.2.3", 1},
	{"10.1.2.3", "10.1.2.4", 0},
	{"0.0.0.0/0", "203.0.113.9", 1},
	{"0.0.0.0/0", "2001:db8::1", 0},
	{"192.0.2.0/24", "::ffff:192.0.2.9", 1},	/* v4-mapped */
	{"192.0.2.0/24", "::ffff:192.0.3.9", 0},
	{"192.0.2.0/24", "::192.0.2.9", 0},		/* v4-compatible: no */
	{"2001:db8::/32", "2001:db8:ffff::1", 1},
	{"2001:db8::/32", "2001:db9::1", 0},
	{"2001:db8:0:0:8000::/65", "2001:db8::8000:0:0:1", 1},
	{"2001:db8:0:0:8000::/65", "2001:db8::7fff:0:0:1", 0},
	{"::/0", "::1", 1},
	{"::/0", "192.0.2.1", 0},
	{"::1", "::1", 1},
	{"::1", "::2", 0},
    };
    char    err[256];
    unsigned char a[16];
    QC_NET  n;
    size_t  i;
    int     fam;

    (void) state;
    for (i = 0; i < sizeof(parse) / sizeof(parse[0]); i++) {
	err[0] = 0;
	if (parse[i].err == 0) {
	    if (qc_net_parse(parse[i].net, &n, err, sizeof(err)) != 0)
		fail_msg("\"%s\": %s", parse[i].net, err);
	    assert_int_equal(n.family, parse[i].family);
	    assert_int_equal(n.prefix, parse[i].prefix);
	} else {
	    assert_int_equal(qc_net_parse(parse[i].net, &n, err, sizeof(err)),
			     -1);
	    assert_string_equal(err, parse[i].err);
	}
    }
    for (i = 0; i < sizeof(match) / sizeof(match[0]); i++) {
	assert_int_equal(qc_net_parse(match[i].net, &n, err, sizeof(err)), 0);
	fam = strchr(match[i].addr, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(fam, match[i].addr, a), 1);
	if (qc_net_match(&n, fam, a) != match[i].match)
	    fail_msg("%s in %s: want %d", match[i].addr, match[i].net,
		     match[i].match);
    }
}

/* summary_file: what the shm writer and readers accept, at load time
 * (issue 7, item 13: "/.." passed check-config, then the scanner could
 * not start). */
static void
summary_file(void **state)
{
    static const struct {
	const char *value;
	const char *err;		/* after "FILE:1: summary_file: " */
    } t[] = {
	{"/..", "\"/..\" has a \".\" or \"..\" component"},
	{"relative", "\"relative\" is not an absolute path"},
	{"/run/x/../y", "\"/run/x/../y\" has a \".\" or \"..\" component"},
	{"/run/x/", "\"/run/x/\" ends with '/': the summary is a file"},
	{"/run//x", "\"/run//x\" has an empty component (\"//\")"},
	{"/run/qshape-milter/summary", 0},
    };
    char    path[] = "/tmp/test_conf.XXXXXX", err[1024], want[1024];
    QC_CONFIG *c;
    FILE   *fp;
    size_t  i;
    int     fd;

    (void) state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(fp = fdopen(fd, "w"));
	fprintf(fp, "summary_file = \"%s\";\n", t[i].value);
	fclose(fp);
	c = qc_load(path, err, sizeof(err));
	unlink(path);
	if (t[i].err == 0) {
	    if (c == 0)
		fail_msg("%s: %s", t[i].value, err);
	    assert_string_equal(c->summary_file, t[i].value);
	    qc_free(c);
	} else {
	    assert_null(c);
	    snprintf(want, sizeof(want), "%s:1: summary_file: %s", path,
		     t[i].err);
	    assert_string_equal(err, want);
	}
	memcpy(path + sizeof(path) - 7, "XXXXXX", 6);
    }
}

/* Issue 8: a policy's default queues include maildrop when its
 * local_action applies to local mail; an explicit list is kept; the
 * defaults of counters_file and pressure_time. */
static void
maildrop_default(void **state)
{
    static const struct {
	const char *policy;		/* inside { name = "p"; ... } */
	const char *queues;		/* joined by ',' */
    } t[] = {
	{"action = \"hold\";", "incoming,active,maildrop"},
	{"action = \"log\";", "incoming,active,maildrop"},
	{"action = \"hold\"; local_action = \"accept\";", "incoming,active"},
	{"action = \"hold\"; queues = [\"active\"];", "active"},
    };
    char    path[] = "/tmp/test_conf.XXXXXX", err[1024], got[256];
    QC_CONFIG *c;
    FILE   *fp;
    size_t  i, j;
    int     fd;

    (void) state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(fp = fdopen(fd, "w"));
	fprintf(fp, "policies = ({ name = \"p\"; key = \"sender\"; %s });\n",
		t[i].policy);
	fclose(fp);
	c = qc_load(path, err, sizeof(err));
	unlink(path);
	if (c == 0)
	    fail_msg("%s: %s", t[i].policy, err);
	got[0] = 0;
	for (j = 0; j < c->policies[0].queues.n; j++)
	    snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
		     j ? "," : "", c->policies[0].queues.v[j]);
	assert_string_equal(got, t[i].queues);
	assert_int_equal(c->policies[0].pressure_time, 60);
	assert_string_equal(c->counters_file,
			    "/run/qshape-milter-counters/counters");
	qc_free(c);
	memcpy(path + sizeof(path) - 7, "XXXXXX", 6);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(defaults),
	cmocka_unit_test(good),
	cmocka_unit_test(example),
	cmocka_unit_test(documented),
	cmocka_unit_test(includes),
	cmocka_unit_test(bad_files),
	cmocka_unit_test(round_trip),
	cmocka_unit_test(networks),
	cmocka_unit_test(summary_file),
	cmocka_unit_test(maildrop_default),
    };

    return cmocka_run_group_tests_name("conf", tests, setup, 0);
}

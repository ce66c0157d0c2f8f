/*
 * conf - the qshape-milter configuration.  See conf.h and
 * qshape-milter.conf(5); every setting is in the tables below.
 */
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "log.h"
#include "mem.h"
#include "cfg.h"
#include "conf.h"
#include "hash.h"
#include "qshape/vocab.h"
#include "shm.h"

_Static_assert(LOGL_ERR == 0 && LOGL_WARN == 1 && LOGL_INFO == 2
	       && LOGL_DEBUG == 3, "log_level names follow LOG_LEVEL");

#define ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Value checks (CFG_CHECK). */

static int
check_abs_path(char *v, char *msg, size_t len)
{
    if (*v == 0)
	return 0;
    if (ascii_has_ctl(v))
	snprintf(msg, len, "contains a control character");
    else if (*v != '/')
	snprintf(msg, len, "\"%.200s\" is not an absolute path", v);
    else
	return 0;
    return -1;
}

/* The summary file: the rule of shm.h (absolute, no "." or ".." or
 * empty components, short enough for the writer's .tmp.PID). */
static int
check_summary_file(char *v, char *msg, size_t len)
{
    return shm_path_check(v, msg, len);
}

/* A user or group name as useradd(8) takes it; "" allowed. */
static int
check_account(char *v, char *msg, size_t len)
{
    const char *p;

    if (*v == 0)
	return 0;
    for (p = v; *p; p++)
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
	      || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.'
	      || (*p == '-' && p > v) || (*p == '$' && p[1] == 0 && p > v)))
	    break;
    if (*p || p - v > 32) {
	if (ascii_has_ctl(v))
	    snprintf(msg, len, "not a user or group name");
	else
	    snprintf(msg, len, "\"%.200s\" is not a user or group name", v);
	return -1;
    }
    return 0;
}

static int
check_group(char *v, char *msg, size_t len)
{
    if (*v == 0) {
	snprintf(msg, len, "must not be empty");
	return -1;
    }
    return check_account(v, msg, len);
}

static int
check_policy_name(char *v, char *msg, size_t len)
{
    const char *p;

    for (p = v; *p; p++)
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
	      || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
	    break;
    if (*p || p == v || p - v > QC_NAME_MAX) {
	snprintf(msg, len, "a policy name is 1 to %d letters, digits, '_' "
		 "or '-'", QC_NAME_MAX);
	return -1;
    }
    return 0;
}

static int
check_socket(char *v, char *msg, size_t len)
{
    return qc_socket_valid(v, msg, len);
}

static int
check_reply(char *v, char *msg, size_t len)
{
    return qc_reply_valid(v, 4, msg, len);
}

static int
check_local_action(char *v, char *msg, size_t len)
{
    if (strcmp(v, "tempfail") != 0)
	return 0;
    snprintf(msg, len, "tempfail is not allowed here: pickup(8) would retry "
	     "the message every 60 seconds with a new queue ID, forever; "
	     "use hold, log or accept");
    return -1;
}

static int
check_sender(char *v, char *msg, size_t len)
{
    if (ascii_has_space_or_ctl(v))
	snprintf(msg, len, "an address must not contain spaces or control "
		 "characters");
    else if (strcmp(v, "<>") == 0)
	snprintf(msg, len, "use null_sender = true for the null sender");
    else if (strpbrk(v, "<>"))
	snprintf(msg, len, "\"%.200s\": write the address without <>", v);
    else
	return 0;
    return -1;
}

static size_t
longest_label(const char *v)
{
    size_t  n, max = 0;

    for (; *v; v += n + (v[n] == '.')) {
	n = strcspn(v, ".");
	max = n > max ? n : max;
    }
    return max;
}

static int
check_domain(char *v, char *msg, size_t len)
{
    if (*v == 0)
	snprintf(msg, len, "empty domain");
    else if (ascii_has_space_or_ctl(v))
	snprintf(msg, len, "a domain must not contain spaces or control "
		 "characters");
    else if (strchr(v, '@'))
	snprintf(msg, len, "\"%.200s\" is an address, not a domain", v);
    else if (v[0] == '.' || v[strlen(v) - 1] == '.' || strstr(v, ".."))
	snprintf(msg, len, "\"%.200s\" has an empty label (a domain "
		 "matches its subdomains without a leading dot)", v);
    else if (strlen(v) > 253)
	snprintf(msg, len, "longer than 253 bytes");
    else if (longest_label(v) > 63)
	snprintf(msg, len, "\"%s\" has a label longer than 63 bytes: no "
		 "domain can match it", v);	/* v: at most 253 bytes */
    else
	return 0;
    return -1;
}

static int
check_net(char *v, char *msg, size_t len)
{
    QC_NET  net;

    return qc_net_parse(v, &net, msg, len);
}

static int
check_sasl(char *v, char *msg, size_t len)
{
    if (!ascii_has_space_or_ctl(v))
	return 0;
    snprintf(msg, len, "a SASL user name must not contain spaces or control "
	     "characters");
    return -1;
}

/* node_exporter's textfile collector reads only *.prom files. */
static int
check_textfile(char *v, char *msg, size_t len)
{
    size_t  n = strlen(v);

    if (*v == 0 || check_abs_path(v, msg, len) < 0)
	return *v == 0 ? 0 : -1;
    if (n > 5 && strcmp(v + n - 5, ".prom") == 0 && v[n - 6] != '/')
	return 0;
    snprintf(msg, len, "\"%.200s\": node_exporter's textfile collector "
	     "reads only files named *.prom", v);
    return -1;
}

/* Cross-field checks and derived values (CFG_TABLE.post). */

static int
show_min_queue(const void *obj)
{
    return !((const QC_POLICY *) obj)->min_queue_is_share;
}

static int
show_min_queue_share(const void *obj)
{
    return ((const QC_POLICY *) obj)->min_queue_is_share;
}

/*
 * A policy without "queues" whose local_action applies to local mail
 * (hold or log) also counts maildrop, when the scanner watches it: mail
 * that sendmail(1) submits faster than pickup takes it waits there, and
 * is the flood the local_action is for (qshape-milter.conf(5)).
 */
static void
default_maildrop(CFG_NODE *node, QC_POLICY *p, const QC_CONFIG *c)
{
    size_t  i;

    if (cfg_has(node, "queues") || p->local_action == QC_ACTION_ACCEPT)
	return;
    for (i = 0; i < c->scanner.queues.n; i++)
	if (strcmp(c->scanner.queues.v[i], "maildrop") == 0)
	    break;
    if (i == c->scanner.queues.n)
	return;
    p->queues.v = xrealloc(p->queues.v, (p->queues.n + 1) * sizeof(char *));
    p->queues.v[p->queues.n++] = xstrdup("maildrop");
}

static void
post_policy(CFG_NODE *node, void *obj, void *root)
{
    QC_POLICY *p = obj;
    const QC_CONFIG *c = root;
    const char *t;
    char    path[32];
    size_t  i, j;

    if (cfg_has(node, "min_queue") && cfg_has(node, "min_queue_share"))
	cfg_error(node, "min_queue_share", "min_queue and min_queue_share "
		  "are mutually exclusive");
    p->min_queue_is_share = cfg_has(node, "min_queue_share");
    if (!cfg_has(node, "local_action"))
	p->local_action = p->action == QC_ACTION_LOG ? QC_ACTION_LOG
	    : QC_ACTION_HOLD;
    default_maildrop(node, p, c);
    p->queue_mask = 0;
    for (i = 0; i < p->queues.n; i++) {
	for (j = 0; j < c->scanner.queues.n; j++)
	    if (strcmp(p->queues.v[i], c->scanner.queues.v[j]) == 0)
		break;
	if (j < c->scanner.queues.n) {
	    p->queue_mask |= 1u << j;
	} else {
	    snprintf(path, sizeof(path), "queues[%zu]", i);
	    cfg_error(node, path, "\"%s\" is not in scanner.queues",
		      p->queues.v[i]);
	}
    }
    /* The reply is valid (check_reply): split it for smfi_setreply(). */
    memcpy(p->reply_code, p->reply, 3);
    p->reply_code[3] = 0;
    p->reply_xcode[0] = 0;
    for (t = p->reply + 3; *t == ' '; t++)
	continue;
    if (t[0] >= '2' && t[0] <= '5' && t[1] == '.') {
	i = strcspn(t, " ");
	memcpy(p->reply_xcode, t, i);
	p->reply_xcode[i] = 0;
	for (t += i; *t == ' '; t++)
	    continue;
    }
    p->reply_text = t;
}

static void
post_exempt(CFG_NODE *node, void *obj, void *root)
{
    QC_EXEMPT *e = obj;
    size_t  i;
    char    msg[256];

    (void) root;
    free(e->nets);
    e->nets = 0;
    e->nnets = e->networks.n;
    if (e->nnets == 0)
	return;
    e->nets = xcalloc(e->nnets, sizeof(QC_NET));
    for (i = 0; i < e->nnets; i++)
	if (qc_net_parse(e->networks.v[i], e->nets + i, msg, sizeof(msg)) < 0)
	    cfg_error(node, "networks", "%s", msg);	/* checked: cannot be */
}

#define ALIGN8(x)	(((x) + 7) & ~(uint64_t) 7)
#define ALIGN64(x)	(((x) + 63) & ~(uint64_t) 63)

/*
 * The size in bytes of the summary segment the scanner makes for top_keys
 * and max_throttled: the header, then two copies (64-byte aligned) of a
 * body of QS_BODY, the queues, the tables, top_keys keys of each kind,
 * max_throttled entries and their index (a power of two >= 2 *
 * max_throttled, 4 bytes a slot), each part 8-byte aligned.  This
 * restates shm_layout() (shm.c) from the record sizes of summary.h, so
 * that check-config needs no shm code.
 */
static uint64_t
segment_size(int64_t top_keys, int64_t max_throttled)
{
    uint64_t body, nindex = 1;

    while (nindex < 2 * (uint64_t) max_throttled)
	nindex *= 2;
    body = ALIGN8(sizeof(QS_BODY));
    body = ALIGN8(body + QS_MAX_QUEUES * sizeof(QS_QUEUE));
    body = ALIGN8(body + QS_NKEYKINDS * sizeof(QS_TABLE));
    body = ALIGN8(body + (uint64_t) top_keys * QS_NKEYKINDS * sizeof(QS_KEY));
    body = ALIGN8(body + (uint64_t) max_throttled * sizeof(QS_THROTTLE));
    body = ALIGN8(body + nindex * sizeof(uint32_t));
    return ALIGN64(sizeof(QS_HEADER)) + 2 * ALIGN64(body);
}

static void
post_top(CFG_NODE *node, void *obj, void *root)
{
    QC_CONFIG *c = obj;
    char    path[48];
    size_t  i, j;
    uint64_t size;

    (void) root;
    /* Both copies are mapped by every reader, qshapectl copies one. */
    size = segment_size(c->scanner.top_keys, c->scanner.max_throttled);
    if (size > QC_SEGMENT_MAX)
	cfg_error(node, "scanner.top_keys", "top_keys %lld with "
		  "max_throttled %lld makes a summary of %llu bytes, more "
		  "than %llu (%llu MiB): lower one of them",
		  (long long) c->scanner.top_keys,
		  (long long) c->scanner.max_throttled,
		  (unsigned long long) size,
		  (unsigned long long) QC_SEGMENT_MAX,
		  (unsigned long long) (QC_SEGMENT_MAX >> 20));
    if (c->stale_after <= c->scanner.heartbeat_interval)
	cfg_error(node, "stale_after", "%lld must be greater than "
		  "scanner.heartbeat_interval (%lld)",
		  (long long) c->stale_after,
		  (long long) c->scanner.heartbeat_interval);
    for (i = 0; i < c->npolicies; i++)
	for (j = 0; j < i; j++)
	    if (strcmp(c->policies[i].name, c->policies[j].name) == 0) {
		snprintf(path, sizeof(path), "policies[%zu].name", i);
		cfg_error(node, path, "duplicate policy name \"%s\" (also "
			  "policies[%zu])", c->policies[i].name, j);
		break;
	    }
}

/* The tables. */

static const char *const queue_names[] = {
    "incoming", "active", "deferred", "hold", "maildrop", 0
};
static const char *const scan_queues_def[] = {
    "incoming", "active", "deferred", "hold", "maildrop", 0
};
static const char *const policy_queues_def[] = {"incoming", "active", 0};
static const char *const fail_names[] = {"accept", "tempfail", 0};
static const char *const level_names[] = {
    "error", "warning", "info", "debug", 0
};
/* The names are vocab.h's (qs_kind_name(), qs_action_name()); a static
 * table needs them as constants.  test_conf_limits' vocabulary test holds
 * them to vocab.c. */
static const char *const key_names[] = {
    "sender_domain", "parent_domain", "sender", "client_address",
    "sasl_username", 0
};
static const int key_values[] = {
    QC_KEY_SENDER_DOMAIN, QC_KEY_PARENT_DOMAIN, QC_KEY_SENDER,
    QC_KEY_CLIENT_ADDRESS, QC_KEY_SASL_USERNAME
};
static const char *const action_names[] = {"tempfail", "hold", "log", 0};
static const int action_values[] = {
    QC_ACTION_TEMPFAIL, QC_ACTION_HOLD, QC_ACTION_LOG
};
static const char *const local_names[] = {"hold", "log", "accept", 0};
static const int local_values[] = {
    QC_ACTION_HOLD, QC_ACTION_LOG, QC_ACTION_ACCEPT
};
static const char *const release_names[] = {"manual", "metered", 0};

#define STR(st, n, d, chk) {.name = #n, .type = CFG_STRING, \
	.offset = offsetof(st, n), .sdef = (d), .check = (chk)}
#define INT(st, n, d, lo, hi) {.name = #n, .type = CFG_INT, \
	.offset = offsetof(st, n), .idef = (d), .min = (lo), .max = (hi)}
#define DUR(st, n, u, d, lo, hi) {.name = #n, .type = CFG_DURATION, \
	.offset = offsetof(st, n), .unit = (u), .idef = (d), .min = (lo), \
	.max = (hi)}
#define FLT(st, n, d, lo, hi) {.name = #n, .type = CFG_FLOAT, \
	.offset = offsetof(st, n), .fdef = (d), .fmin = (lo), .fmax = (hi)}
#define BOOL(st, n, d) {.name = #n, .type = CFG_BOOL, \
	.offset = offsetof(st, n), .idef = (d)}
#define ENUM(st, n, d, nm) {.name = #n, .type = CFG_ENUM, \
	.offset = offsetof(st, n), .idef = (d), .names = (nm)}
#define LIST(st, n, d, lo, hi, nm, fl, chk) {.name = #n, \
	.type = CFG_STRINGS, .offset = offsetof(st, n), .ldef = (d), \
	.min = (lo), .max = (hi), .names = (nm), .flags = (fl), .check = (chk)}

static const CFG_ITEM scanner_items[] = {
    LIST(QC_SCANNER, queues, scan_queues_def, 1, QC_MAX_QUEUES, queue_names,
	 CFG_UNIQUE, 0),
    DUR(QC_SCANNER, reconcile_interval, CFG_SEC, 60, 1, 86400),
    DUR(QC_SCANNER, publish_interval, CFG_MSEC, 100, 10, 10000),
    DUR(QC_SCANNER, heartbeat_interval, CFG_SEC, 1, 1, 60),
    INT(QC_SCANNER, top_keys, 1000, 10, QC_MAX_TOP_KEYS),
    INT(QC_SCANNER, max_throttled, 256, 1, QC_MAX_THROTTLED),
    INT(QC_SCANNER, bucket_count, 10, 1, 16),
    DUR(QC_SCANNER, bucket_time, CFG_MIN, 5, 1, 1440),
    BOOL(QC_SCANNER, linear_buckets, 0),
    STR(QC_SCANNER, user, "", check_account),
    STR(QC_SCANNER, pid_file, "/run/qshape-milter/qshape-scand.pid",
	check_abs_path),
    {0},
};

static const CFG_ITEM milter_items[] = {
    STR(QC_MILTER, socket, "inet:10027@127.0.0.1", check_socket),
    {.name = "socket_mode", .type = CFG_MODE,
     .offset = offsetof(QC_MILTER, socket_mode), .idef = 0660, .min = 0,
     .max = 0777},
    STR(QC_MILTER, socket_group, "", check_account),
    STR(QC_MILTER, user, "qshape-milter", check_account),
    DUR(QC_MILTER, timeout, CFG_SEC, 30, 1, 3600),
    BOOL(QC_MILTER, log_accepts, 0),
    STR(QC_MILTER, pid_file, "/run/qshape-milter-milter/qshape-milter.pid",
	check_abs_path),
    {0},
};

static const CFG_ITEM policy_items[] = {
    {.name = "name", .type = CFG_STRING, .offset = offsetof(QC_POLICY, name),
     .flags = CFG_REQUIRED, .check = check_policy_name},
    {.name = "key", .type = CFG_ENUM, .offset = offsetof(QC_POLICY, key),
     .flags = CFG_REQUIRED, .names = key_names, .values = key_values},
    LIST(QC_POLICY, queues, policy_queues_def, 1, QC_MAX_QUEUES, queue_names,
	 CFG_UNIQUE, 0),
    DUR(QC_POLICY, max_age, CFG_SEC, 0, 0, 31536000),
    {.name = "min_queue", .type = CFG_INT,
     .offset = offsetof(QC_POLICY, min_queue), .idef = 100, .min = 0,
     .max = 100000000, .show = show_min_queue},
    {.name = "min_queue_share", .type = CFG_FLOAT,
     .offset = offsetof(QC_POLICY, min_queue_share), .fdef = 0, .fmin = 0,
     .fmax = 1, .show = show_min_queue_share},
    INT(QC_POLICY, min_count, 50, 1, 100000000),
    FLT(QC_POLICY, min_share, 0.5, 0, 1),
    {.name = "release_ratio", .type = CFG_FLOAT,
     .offset = offsetof(QC_POLICY, release_ratio), .fdef = 0.8, .fmin = 0,
     .fmax = 1, .flags = CFG_MIN_EXCL},
    DUR(QC_POLICY, min_hold_time, CFG_SEC, 300, 0, 86400),
    DUR(QC_POLICY, pressure_time, CFG_SEC, 60, 0, 3600),
    {.name = "action", .type = CFG_ENUM, .offset = offsetof(QC_POLICY, action),
     .flags = CFG_REQUIRED, .names = action_names, .values = action_values},
    STR(QC_POLICY, reply,
	"451 4.7.1 Too much mail from you in our queue, try again later",
	check_reply),
    {.name = "local_action", .type = CFG_ENUM,
     .offset = offsetof(QC_POLICY, local_action), .idef = QC_ACTION_HOLD,
     .names = local_names, .values = local_values,
     .check = check_local_action},
    ENUM(QC_POLICY, release_held, QC_RELEASE_MANUAL, release_names),
    FLT(QC_POLICY, release_rate, 1.0, QC_RELEASE_RATE_MIN,
	QC_RELEASE_RATE_MAX),
    DUR(QC_POLICY, held_max_age, CFG_SEC, 86400, 0, 31536000),
    {0},
};

static const CFG_ITEM exempt_items[] = {
    LIST(QC_EXEMPT, senders, 0, 0, QC_MAX_EXEMPT, 0, CFG_LOWER, check_sender),
    LIST(QC_EXEMPT, domains, 0, 0, QC_MAX_EXEMPT, 0, CFG_LOWER, check_domain),
    LIST(QC_EXEMPT, networks, 0, 0, QC_MAX_EXEMPT, 0, 0, check_net),
    LIST(QC_EXEMPT, sasl_users, 0, 0, QC_MAX_EXEMPT, 0, 0, check_sasl),
    BOOL(QC_EXEMPT, null_sender, 0),
    {0},
};

static const CFG_ITEM metrics_items[] = {
    STR(QC_METRICS, textfile, "", check_textfile),
    DUR(QC_METRICS, interval, CFG_SEC, 15, 1, 3600),
    INT(QC_METRICS, top_keys, 10, 0, 100),
    {0},
};

static const CFG_TABLE scanner_table = {scanner_items, 0};
static const CFG_TABLE milter_table = {milter_items, 0};
static const CFG_TABLE policy_table = {policy_items, post_policy};
static const CFG_TABLE exempt_table = {exempt_items, post_exempt};
static const CFG_TABLE metrics_table = {metrics_items, 0};

static const CFG_ITEM top_items[] = {
    STR(QC_CONFIG, queue_directory, "", check_abs_path),
    STR(QC_CONFIG, postfix_config_directory, "", check_abs_path),
    STR(QC_CONFIG, summary_file, "/run/qshape-milter/summary",
	check_summary_file),
    STR(QC_CONFIG, counters_file, "/run/qshape-milter-counters/counters",
	check_summary_file),
    STR(QC_CONFIG, group, "qshape", check_group),
    DUR(QC_CONFIG, stale_after, CFG_SEC, 30, 1, 3600),
    ENUM(QC_CONFIG, fail_mode, QC_FAIL_ACCEPT, fail_names),
    ENUM(QC_CONFIG, log_level, LOGL_INFO, level_names),
    BOOL(QC_CONFIG, dry_run, 0),
    /* scanner before policies: a policy's queues are checked against it */
    {.name = "scanner", .type = CFG_GROUP, .offset = offsetof(QC_CONFIG, scanner),
     .sub = &scanner_table},
    {.name = "milter", .type = CFG_GROUP, .offset = offsetof(QC_CONFIG, milter),
     .sub = &milter_table},
    {.name = "policies", .type = CFG_GROUPLIST,
     .offset = offsetof(QC_CONFIG, policies), .min = 0,
     .max = QC_MAX_POLICIES, .sub = &policy_table, .size = sizeof(QC_POLICY),
     .count_offset = offsetof(QC_CONFIG, npolicies)},
    {.name = "exempt", .type = CFG_GROUP, .offset = offsetof(QC_CONFIG, exempt),
     .sub = &exempt_table},
    {.name = "metrics", .type = CFG_GROUP, .offset = offsetof(QC_CONFIG, metrics),
     .sub = &metrics_table},
    {0},
};

static const CFG_TABLE top_table = {top_items, post_top};

const CFG_TABLE *
qc_table(void)
{
    return &top_table;
}

const char *
qc_key_name(int k)
{
    return k == QS_KEY_RCPT_DOMAIN ? "?" : qs_kind_name(k);
}

const char *
qc_action_name(int a)
{
    return qs_action_name(a);
}

/*
 * Policy identity.  A policy's digest is FNV-1a over its settings as
 * cfg_print() writes them (defaults filled in), so a setting added to
 * policy_items joins the digest by itself.  The set's digest chains the
 * policies' digests in configuration order.
 */
static void
digest_policies(QC_CONFIG *c)
{
    char   *text = 0;
    size_t  len = 0, i;
    FILE   *fp;
    uint64_t set = HASH_FNV_BASIS;

    for (i = 0; i < c->npolicies; i++) {
	if ((fp = open_memstream(&text, &len)) == 0)
	    log_fatal("policy digest: open_memstream");
	cfg_print(&policy_table, &c->policies[i], fp);
	if (fclose(fp) != 0)
	    log_fatalx("policy digest: out of memory");
	c->policies[i].digest = hash_fnv1a(HASH_FNV_BASIS, text, len);
	free(text);
	text = 0;
	set = hash_fnv1a(set, &c->policies[i].digest,
			 sizeof(c->policies[i].digest));
    }
    c->policies_digest = set;
}

/* Loading. */

QC_CONFIG *
qc_load(const char *path, char *err, size_t errlen)
{
    QC_CONFIG *c = xcalloc(1, sizeof(*c));

    if (path == 0)
	path = QC_DEFAULT_PATH;
    if (cfg_load(&top_table, c, path, err, errlen) < 0) {
	qc_free(c);
	return 0;
    }
    c->path = xstrdup(path);
    digest_policies(c);
    return c;
}

void
qc_free(QC_CONFIG *c)
{
    if (c == 0)
	return;
    cfg_free(&top_table, c);
    free(c->exempt.nets);
    free(c->path);
    free(c);
}

void
qc_print(const QC_CONFIG *c, FILE *fp)
{
    fprintf(fp, "# qshape-milter configuration from %s, defaults filled in\n",
	    c->path ? c->path : "(defaults)");
    cfg_print(&top_table, c, fp);
}

#!/bin/sh
# test_metrics.sh BUILD_DIR - end-to-end: the metrics of the scanner and of
# the milter, scraped by a real node_exporter, during a flood through a
# private Postfix; every value equal to what the test counts itself.
#
# Runs a throw-away private Postfix instance (tests/e2e/pflib.sh) with its
# queue manager stopped (accepted mail stays in incoming, held mail goes to
# hold) and qshape-milter in smtpd_milters, BUILD_DIR/qshape-scand with
# metrics.textfile in a directory of its own (it reads the milter's
# counters file for the milter's families), and Debian's
# prometheus-node-exporter, as the prometheus user, with only the textfile
# collector, on a private loopback port.  Two policies: "flood" holds a
# sender domain (spam.example), "bulk" tempfails a parent domain
# (.bulk.example, qshape's form of it: a., b., c. and d.bulk.example);
# ok.example is exempt.
# Mail: 10 messages of four other senders, 2 exempt, 30 + 10 from
# flood@spam.example (the second wave after the key is throttled), 24 from
# three bulk.example subdomains, then 6 more from a fourth (after
# bulk.example is throttled).
#
# The test's own counts come from Postfix's side, never from our log
# lines: tempfailed = Postfix's "NOQUEUE: milter-reject" lines (and
# smtp-source's "sender rejected" warnings), held = cleanup's "milter-hold"
# lines (and the hold queue's files), sessions = smtpd's "connect from"
# lines, queue totals = the queue's files.  Checks, on what node_exporter
# serves at /metrics:
#
#   (a) the textfile collector read the file without error
#       (node_textfile_scrape_error 0);
#   (b) queue totals: incoming and hold equal the files in the queue,
#       what "qshapectl status" says and what the test sent minus what
#       Postfix tempfailed and held;
#   (c) throttled keys: one per policy, as status says, spam.example's
#       count as status's;
#   (d) spam.example is the dominant key of flood, with its count;
#   (e) the scanner counted what it parsed (at least what is queued);
#   (f) verdicts per policy and action: flood hold = Postfix's held,
#       bulk tempfail = Postfix's tempfailed, every other action 0;
#   (g) sessions = smtpd's connections (one per message sent at least:
#       smtp-source without -d); exemptions domain = 2, others 0;
#       no fail-mode activation; qshape_milter_counters_up 1;
#   (h) throttle transitions per policy: enter 1, leave 0 for each, as
#       the scanner's "throttle on" lines and status's list say;
#   (i) "qshapectl metrics" says the same as the scrape for every series
#       of (b), (c), (f), (g), (h).
#
# Needs root, Postfix, prometheus-node-exporter, curl and perl.
# Environment:
#   E2E_PORT=N   first TCP port to try (default 10075); three are used.
#   E2E_KEEP=1   keep the test's directory (logs, the scrapes).
#
# Prints one "ok - ..." / "not ok - ..." line per check and, last,
# "e2e-metrics: N passed, M failed".  Exit status 0 only when all passed.

set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/pflib.sh
. "$here/pflib.sh"
# shellcheck source=tests/e2e/e2elib.sh
. "$here/e2elib.sh"

BUILD=$(e2e_abs "${1:-build}")
CTL=$BUILD/qshapectl
SCAND=$BUILD/qshape-scand
MILTER=$BUILD/qshape-milter
NODE_EXPORTER=/usr/bin/prometheus-node-exporter
REPLY="451 4.7.1 Too much mail from your domain, try again later"

scand_pid=
milter_pid=
ne_pid=

e2e_begin e2e-metrics

# shellcheck disable=SC2317	# invoked by setup_failed
logs_tail() {
    for _f in "$tmp/scand.log" "$tmp/milter.log" "$tmp/node-exporter.log"; do
	[ -s "$_f" ] || continue
	echo "#   $_f (last lines):"
	tail -n 15 "$_f" | indent
    done
    pf_maillog_tail 10
}
E2E_DIAG=logs_tail

# shellcheck disable=SC2317	# invoked from the EXIT trap
stop_daemons() {
    pf_stop_pid "$ne_pid"
    ne_pid=
    pf_stop_pid "$milter_pid"
    milter_pid=
    pf_stop_pid "$scand_pid"
    scand_pid=
    [ -z "$E2E_RUNDIR" ] || rm -rf "$E2E_RUNDIR.ct"
}
E2E_TEARDOWN=stop_daemons

e2e_need_root
e2e_need_cmds smtp-source postsuper
e2e_need_progs make "$CTL" "$SCAND" "$MILTER"
e2e_need_progs "apt-get install prometheus-node-exporter" "$NODE_EXPORTER"
command -v curl >/dev/null 2>&1 || setup_failed "curl not found"
command -v perl >/dev/null 2>&1 || setup_failed "perl not found"
getent passwd prometheus >/dev/null 2>&1 ||
    setup_failed "no user prometheus (package prometheus-node-exporter)"
id nobody >/dev/null 2>&1 || setup_failed "no user nobody"

e2e_mktemp qshape-e2e-metrics
e2e_rundir

port=${E2E_PORT:-10075}
smtp_port=$(pf_free_port "$port") || setup_failed "no free port"
ne_port=$(pf_free_port $((smtp_port + 1))) || setup_failed "no free port"
milter_port=$(pf_free_port $((ne_port + 1))) || setup_failed "no free port"
dead_port=$(pf_free_port 1) || setup_failed "no free port"

pf_init "$tmp/pf" "$smtp_port" "$dead_port" || setup_failed "pf_init"
pf_postconf "smtpd_milters = inet:127.0.0.1:$milter_port" \
    "milter_default_action = accept" || setup_failed "pf_postconf milters"
pf_start || setup_failed "pf_start"
pf_disable_qmgr || setup_failed "pf_disable_qmgr"

# The textfile directory: the scanner (Postfix's mail_owner) writes it,
# node_exporter (prometheus) reads it.
textdir=$tmp/textfile
mkdir "$textdir" && chown postfix "$textdir" && chmod 0755 "$textdir" ||
    setup_failed "mkdir $textdir"

conf=$tmp/qshape-milter.conf
cat > "$conf" <<EOC || setup_failed "write $conf"
# written by tests/e2e/test_metrics.sh
queue_directory = "$PF_SPOOL";
postfix_config_directory = "$PF_ETC";
summary_file = "$E2E_RUNDIR/summary";
counters_file = "$E2E_RUNDIR.ct/counters";	# the milter's, beside
group = "postfix";		# the milter runs as nobody with this group
scanner: {
    queues = [ "incoming", "active", "deferred", "hold", "maildrop" ];
    publish_interval = 100;
    heartbeat_interval = 1;
    pid_file = "";
};
milter: {
    socket = "inet:$milter_port@127.0.0.1";
    user = "nobody";
    pid_file = "";
};
exempt: {
    domains = [ "ok.example" ];
};
policies = (
    {
	name = "flood";
	key = "sender_domain";
	action = "hold";
	min_queue = 20;
	min_count = 10;
	min_share = 0.3;
	min_hold_time = "10m";
    },
    {
	name = "bulk";
	key = "parent_domain";
	action = "tempfail";
	reply = "$REPLY";
	min_queue = 20;
	min_count = 10;
	min_share = 0.2;
	min_hold_time = "10m";
    }
);
metrics = {
    textfile = "$textdir/qshape.prom";
    interval = 1;
    top_keys = 5;
};
EOC
e2e_check_config "$conf" "$conf"

"$SCAND" -f -C "$conf" </dev/null >"$tmp/scand.log" 2>&1 &
scand_pid=$!
_i=0
while [ ! -s "$textdir/qshape.prom" ] && [ $_i -lt 150 ]; do
    kill -0 "$scand_pid" 2>/dev/null || setup_failed "qshape-scand exited"
    sleep 0.1
    _i=$((_i + 1))
done
[ -s "$textdir/qshape.prom" ] || setup_failed "no textfile from qshape-scand"
# The milter after a fresh summary: no fail mode to count.
"$MILTER" -f -C "$conf" </dev/null >"$tmp/milter.log" 2>&1 &
milter_pid=$!
e2e_wait_milter "$milter_pid" "$milter_port"

setpriv --reuid=prometheus --regid=prometheus --clear-groups \
    "$NODE_EXPORTER" --web.listen-address="127.0.0.1:$ne_port" \
    --collector.disable-defaults --collector.textfile \
    --collector.textfile.directory="$textdir" \
    </dev/null >"$tmp/node-exporter.log" 2>&1 &
ne_pid=$!
pf_wait_port "$ne_port" 10 || setup_failed "node_exporter does not listen"

status() {
    "$CTL" status --config "$conf" >"$tmp/status" 2>&1
}

# wait_throttled KEY: until status lists KEY (KIND:NAME), 20 s at most.
wait_throttled() {
    _dl=$(($(pf_now_ms) + 20000))
    until status && grep -q " key=$1 " "$tmp/status"; do
	[ "$(pf_now_ms)" -lt "$_dl" ] || setup_failed "$1 not throttled after 20 s"
	sleep 0.1
    done
}

# src OUT ARGS...: smtp-source, -A (a 4xx is no error), its output kept.
src() {
    _o=$1
    shift
    e2e_src -A "$@"
    cp "$tmp/src.out" "$tmp/$_o"
}

# The mail: others first, then the flood, its second wave once throttled.
src others-a -m 4 -f a@a.example.com -t r@dest.example
src others-b -m 3 -f b@b.example.org -t r@dest.example
src others-c -m 2 -f c@c.example.net -t r@dest.example
src others-d -m 1 -f d@d.example -t r@dest.example
src exempt -m 2 -f x@ok.example -t r@dest.example
src flood-1 -s 2 -m 30 -f flood@spam.example -t rcpt@dest.example
wait_throttled sender_domain:spam.example
src flood-2 -s 2 -m 10 -f flood@spam.example -t rcpt@dest.example
for _d in a b c; do
    src "bulk-$_d" -m 8 -f "x@$_d.bulk.example" -t r@dest.example
done
wait_throttled parent_domain:.bulk.example
src bulk-d -m 6 -f x@d.bulk.example -t r@dest.example
SENT=$((4 + 3 + 2 + 1 + 2 + 30 + 10 + 3 * 8 + 6))
pf_wait_stable 1 20 || setup_failed "queue does not settle"

# Postfix's own counts (the maillog): tempfailed and held per sender
# domain suffix, SMTP connections.
maillog_count() {
    grep -c -- "$1" "$PF_DIR/maillog" 2>/dev/null
}
pf_tally() {
    p_tf=$(grep 'NOQUEUE: milter-reject: MAIL from ' "$PF_DIR/maillog" |
	grep -c "from=<x@[a-d]\.bulk\.example>")
    p_tf_all=$(maillog_count 'NOQUEUE: milter-reject: ')
    p_held=$(grep ' milter-hold: ' "$PF_DIR/maillog" |
	grep -c 'from=<flood@spam\.example>')
    p_held_all=$(maillog_count ' milter-hold: ')
    p_conn=$(grep -c 'postfix/smtpd\[[0-9]*\]: connect from ' "$PF_DIR/maillog")
    c_tf=$(cat "$tmp"/bulk-* | grep -c "sender rejected: $REPLY")
    q_in=$(pf_count incoming)
    q_hold=$(pf_count hold)
}

# scrape: node_exporter's /metrics into $tmp/scrape; ours: qshapectl
# metrics into $tmp/ctl.  Both with labels sorted by name, as
# node_exporter serves them.
sort_labels() {
    perl -pe 's/\{([^}]*)\}/"{" . join(",", sort split(m{,(?=[a-z_]+=")}, $1)) . "}"/e'
}
scrape() {
    curl -sf "http://127.0.0.1:$ne_port/metrics" >"$tmp/scrape" 2>"$tmp/curl.err" &&
	"$CTL" metrics --config "$conf" 2>"$tmp/ctl.err" | sort_labels >"$tmp/ctl"
}
# value SERIES [FILE]: its value in the last scrape (or FILE).
value() {
    awk -v s="$1" '$1 == s { print $2 }' "${2:-$tmp/scrape}"
}
V='qshape_milter_verdicts_total'
T='qshape_throttle_transitions_total'
KEY='key="spam.example",kind="sender_domain",policy="flood"'

# Wait (bounded) until the maillog has every line, a scrape shows the
# settled queue and the milter's counts, and status agrees: the textfile
# is rewritten every second.
_i=0
while :; do
    pf_tally
    scrape && status
    s_in=$(awk '/^  incoming /{print $2}' "$tmp/status")
    s_hold=$(awk '/^  hold /{print $2}' "$tmp/status")
    m_in=$(value 'qshape_queue_messages{queue="incoming"}')
    m_hold=$(value 'qshape_queue_messages{queue="hold"}')
    m_held=$(value "$V{action=\"hold\",policy=\"flood\"}")
    m_tf=$(value "$V{action=\"tempfail\",policy=\"bulk\"}")
    m_sess=$(value qshape_milter_sessions_total)
    if [ "$m_in" = "$q_in" ] && [ "$s_in" = "$q_in" ] &&
       [ "$m_hold" = "$q_hold" ] && [ "$m_held" = "$p_held" ] &&
       [ "$m_tf" = "$p_tf" ] && [ "$m_sess" = "$p_conn" ] &&
       [ "$((q_in + q_hold + p_tf_all))" = "$SENT" ]; then
	break
    fi
    _i=$((_i + 1))
    [ $_i -lt 30 ] || break
    sleep 0.5
done
echo "# sent $SENT: tempfailed $p_tf (smtp-source $c_tf), held $p_held, incoming $q_in, hold $q_hold, connections $p_conn"

# (a)
if [ "$(value node_textfile_scrape_error)" = 0 ] &&
   grep -q '^qshape_scanner_heartbeat_timestamp_seconds ' "$tmp/scrape"; then
    ok "node_exporter read the textfile (node_textfile_scrape_error 0)"
else
    notok "node_exporter: node_textfile_scrape_error $(value node_textfile_scrape_error)"
    indent < "$tmp/curl.err"
    grep '^node_textfile' "$tmp/scrape" | indent
fi
# (b)
if [ "$m_in" = "$q_in" ] && [ "$s_in" = "$q_in" ] &&
   [ "$m_hold" = "$q_hold" ] && [ "$s_hold" = "$q_hold" ] &&
   [ "$q_hold" = "$p_held_all" ] && [ "$q_hold" -ge 10 ] &&
   [ "$((q_in + q_hold + p_tf_all))" = "$SENT" ] &&
   [ "$(value 'qshape_queue_messages{queue="active"}')" = 0 ]; then
    ok "queue totals: incoming $m_in hold $m_hold, as the queue, status and sent - tempfailed ($SENT - $p_tf_all - $m_hold)"
else
    notok "queue totals: scraped incoming=$m_in hold=$m_hold; status $s_in/$s_hold; queue $q_in/$q_hold; sent $SENT, tempfailed $p_tf_all, held $p_held_all"
    indent < "$tmp/status"
fi
# (c)
s_thr=$(awk '/^throttled:/{print $2}' "$tmp/status")
s_cnt=$(sed -n 's/^  policy=flood key=sender_domain:spam.example .* count=\([0-9]*\) .*/\1/p' "$tmp/status")
m_cnt=$(value "qshape_throttled_key_messages{$KEY}")
m_thr_f=$(value 'qshape_throttled_keys{policy="flood"}')
m_thr_b=$(value 'qshape_throttled_keys{policy="bulk"}')
if [ "$m_thr_f" = 1 ] && [ "$m_thr_b" = 1 ] && [ "$s_thr" = 2 ] &&
   [ -n "$s_cnt" ] && [ "$m_cnt" = "$s_cnt" ]; then
    ok "throttled: one key per policy (status: $s_thr), spam.example count $m_cnt as status"
else
    notok "throttled: scraped flood=$m_thr_f bulk=$m_thr_b, spam.example count=$m_cnt; status $s_thr keys, count=$s_cnt"
    indent < "$tmp/status"
fi
# (d)
d_cnt=$(value "qshape_dominant_key_messages{$KEY}")
if [ -n "$d_cnt" ] && [ "$d_cnt" = "$s_cnt" ]; then
    ok "dominant: spam.example with $d_cnt messages"
else
    notok "dominant: spam.example $d_cnt, status $s_cnt"
    grep '^qshape_dominant_key_messages{' "$tmp/scrape" | indent
fi
# (e)
parsed=$(value 'qshape_scanner_files_total{result="parsed"}')
if [ "${parsed:-0}" -ge "$((q_in + q_hold))" ]; then
    ok "scanner counted $parsed parsed queue files"
else
    notok "scanner parsed files: ${parsed:-none}"
fi
# (f)
bad=
for _s in 'flood tempfail 0' 'flood log 0' 'flood accept 0' \
	  "flood hold $p_held" "bulk tempfail $p_tf" 'bulk hold 0' \
	  'bulk log 0' 'bulk accept 0'; do
    # shellcheck disable=SC2086	# the words of _s
    set -- $_s
    _v=$(value "$V{action=\"$2\",policy=\"$1\"}")
    [ "$_v" = "$3" ] || bad="$bad $1/$2=${_v:-none}(want $3)"
done
if [ -z "$bad" ] && [ "$p_held" -ge 10 ] && [ "$p_tf" -ge 6 ] &&
   [ "$p_tf" = "$c_tf" ] && [ "$p_tf" = "$p_tf_all" ] &&
   [ "$p_held" = "$p_held_all" ]; then
    ok "verdicts: flood held $p_held, bulk tempfailed $p_tf, as Postfix logged them; the other actions 0"
else
    notok "verdicts:$bad; Postfix held $p_held/$p_held_all tempfailed $p_tf/$p_tf_all, smtp-source $c_tf"
    grep "^$V" "$tmp/scrape" | indent
fi
# (g)
bad=
for _k in sender network sasl_user null_sender; do
    _v=$(value "qshape_milter_exemptions_total{kind=\"$_k\"}")
    [ "$_v" = 0 ] || bad="$bad exempt/$_k=${_v:-none}"
done
[ "$(value 'qshape_milter_exemptions_total{kind="domain"}')" = 2 ] ||
    bad="$bad exempt/domain=$(value 'qshape_milter_exemptions_total{kind="domain"}')"
_n=$(grep -c '^qshape_milter_failmode_total{reason="[a-z_]*"} 0$' "$tmp/scrape")
[ "$_n" = 6 ] || bad="$bad failmode: $_n of 6 at 0"
[ "$(value qshape_milter_counters_up)" = 1 ] || bad="$bad counters_up=$(value qshape_milter_counters_up)"
if [ "$m_sess" != "$p_conn" ] || [ "$p_conn" -lt "$SENT" ]; then
    bad="$bad sessions=$m_sess (smtpd connections $p_conn, sent $SENT)"
fi
if [ -z "$bad" ]; then
    ok "milter: $m_sess sessions (smtpd's connections), 2 domain exemptions, no fail mode, counters up"
else
    notok "milter:$bad"
    grep '^qshape_milter_' "$tmp/scrape" | indent
fi
# (h)
bad=
for _p in flood bulk; do
    _on=$(grep -c "throttle on: policy=$_p " "$tmp/scand.log")
    _e=$(value "$T{direction=\"enter\",policy=\"$_p\"}")
    _l=$(value "$T{direction=\"leave\",policy=\"$_p\"}")
    [ "$_e" = 1 ] && [ "$_on" = 1 ] && [ "$_l" = 0 ] ||
	bad="$bad $_p: enter=$_e leave=$_l, scanner's lines $_on"
done
if [ -z "$bad" ]; then
    ok "transitions per policy: flood and bulk entered once each, left 0, as the scanner logged"
else
    notok "transitions:$bad"
    grep "^$T" "$tmp/scrape" | indent
fi
# (i)  Values compared as numbers: node_exporter writes 1.7e+09.
num() {
    awk '{ printf "%s %.15g\n", $1, $2 }'
}
bad=0
for _re in '^qshape_queue_messages{' '^qshape_throttled_keys{' \
	   "^qshape_throttled_key_messages{" '^qshape_milter_' "^$T{"; do
    grep "$_re" "$tmp/scrape" | num | sort >"$tmp/a"
    grep "$_re" "$tmp/ctl" | num | sort >"$tmp/b"
    if [ ! -s "$tmp/a" ] || ! cmp -s "$tmp/a" "$tmp/b"; then
	bad=$((bad + 1))
	echo "# $_re: scrape / qshapectl metrics differ"
	diff "$tmp/a" "$tmp/b" | indent
    fi
done
st=$(grep '^qshape_milter_start_time_seconds ' "$tmp/ctl" | num | awk '{ print $2 }')
now=$(date +%s)
if [ "$bad" = 0 ] && [ -n "$st" ] && [ "$st" -le "$now" ] &&
   [ "$st" -gt "$((now - 600))" ] && [ ! -s "$tmp/ctl.err" ]; then
    ok "qshapectl metrics says what the scrape says (queues, throttled, milter, transitions); the counters started at $st"
else
    notok "qshapectl metrics and the scrape: $bad families differ, start time $st (now $now)"
    indent < "$tmp/ctl.err"
fi
cp "$tmp/scrape" "$tmp/scrape.final" 2>/dev/null
finish

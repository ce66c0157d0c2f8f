#!/bin/sh
# test_metrics.sh BUILD_DIR - end-to-end: the scanner's metrics, scraped by
# a real node_exporter, during a flood through a private Postfix.
#
# Runs a throw-away private Postfix instance (tests/e2e/pflib.sh) with its
# queue manager stopped (new mail stays in incoming), BUILD_DIR/qshape-scand
# with metrics.textfile in a directory of its own, and Debian's
# prometheus-node-exporter, as the prometheus user, with only the textfile
# collector, on a private loopback port.  Then a flood: 30 messages from
# flood@spam.example and 10 from four other senders.  Checks, on what
# node_exporter serves at /metrics:
#
#   (a) the textfile collector read the file without error
#       (node_textfile_scrape_error 0);
#   (b) the queue totals equal what "qshapectl status" says and what the
#       test sent (incoming 40, active 0);
#   (c) the throttled keys equal status's: one, spam.example, with its
#       count (30) and share;
#   (d) spam.example is the dominant key of the policy, with 30 messages;
#   (e) the scanner counted what it parsed (at least the 40 files).
#
# The milter's counters (messages tempfailed and held per policy) are not
# checked: they come with the milter's counters module
# (qshape_milter_verdicts_total, qshape-metrics(7)).
#
# Needs root, Postfix, prometheus-node-exporter and curl.  Environment:
#   E2E_PORT=N   first TCP port to try (default 10075); two are used.
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

BUILD=${1:-build}
CTL=$BUILD/qshapectl
SCAND=$BUILD/qshape-scand
NODE_EXPORTER=/usr/bin/prometheus-node-exporter

scand_pid=
ne_pid=

e2e_begin e2e-metrics

# shellcheck disable=SC2317	# invoked by setup_failed
logs_tail() {
    for _f in "$tmp/scand.log" "$tmp/node-exporter.log"; do
	[ -s "$_f" ] || continue
	echo "#   $_f (last lines):"
	tail -n 15 "$_f" | indent
    done
}
E2E_DIAG=logs_tail

# shellcheck disable=SC2317	# invoked from the EXIT trap
stop_daemons() {
    pf_stop_pid "$ne_pid"
    ne_pid=
    pf_stop_pid "$scand_pid"
    scand_pid=
}
E2E_TEARDOWN=stop_daemons

e2e_need_root
e2e_need_cmds smtp-source postsuper
e2e_need_progs make "$CTL" "$SCAND"
e2e_need_progs "apt-get install prometheus-node-exporter" "$NODE_EXPORTER"
command -v curl >/dev/null 2>&1 || setup_failed "curl not found"
getent passwd prometheus >/dev/null 2>&1 ||
    setup_failed "no user prometheus (package prometheus-node-exporter)"

e2e_mktemp qshape-e2e-metrics
e2e_rundir

port=${E2E_PORT:-10075}
smtp_port=$(pf_free_port "$port") || setup_failed "no free port"
ne_port=$(pf_free_port $((smtp_port + 1))) || setup_failed "no free port"
dead_port=$(pf_free_port 1) || setup_failed "no free port"

pf_init "$tmp/pf" "$smtp_port" "$dead_port" || setup_failed "pf_init"
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
group = "postfix";
scanner: {
    queues = [ "incoming", "active", "deferred", "hold", "maildrop" ];
    publish_interval = 100;
    heartbeat_interval = 1;
    pid_file = "";
};
policies = (
    {
	name = "flood";
	key = "sender_domain";
	action = "hold";
	min_queue = 20;
	min_count = 10;
	min_share = 0.3;
    }
);
metrics = {
    textfile = "$textdir/qshape.prom";
    interval = 1;
    top_keys = 5;
};
EOC
e2e_check_config "$conf" "$conf"

"$SCAND" -f -c "$conf" </dev/null >"$tmp/scand.log" 2>&1 &
scand_pid=$!
_i=0
while [ ! -s "$textdir/qshape.prom" ] && [ $_i -lt 150 ]; do
    kill -0 "$scand_pid" 2>/dev/null || setup_failed "qshape-scand exited"
    sleep 0.1
    _i=$((_i + 1))
done
[ -s "$textdir/qshape.prom" ] || setup_failed "no textfile from qshape-scand"

setpriv --reuid=prometheus --regid=prometheus --clear-groups \
    "$NODE_EXPORTER" --web.listen-address="127.0.0.1:$ne_port" \
    --collector.disable-defaults --collector.textfile \
    --collector.textfile.directory="$textdir" \
    </dev/null >"$tmp/node-exporter.log" 2>&1 &
ne_pid=$!
pf_wait_port "$ne_port" 10 || setup_failed "node_exporter does not listen"

# The flood, and the rest.
e2e_src -s 2 -m 30 -f flood@spam.example -t rcpt@dest.example
e2e_src -m 4 -f a@a.example.com -t r@dest.example
e2e_src -m 3 -f b@b.example.org -t r@dest.example
e2e_src -m 2 -f c@c.example.net -t r@dest.example
e2e_src -m 1 -f d@d.example -t r@dest.example
e2e_wait_count incoming 40
pf_wait_stable 1 20 || setup_failed "queue does not settle"

# scrape: node_exporter's /metrics into $tmp/scrape.
scrape() {
    curl -sf "http://127.0.0.1:$ne_port/metrics" >"$tmp/scrape" 2>"$tmp/curl.err"
}
# value SERIES: its value in the last scrape.
value() {
    awk -v s="$1" '$1 == s { print $2 }' "$tmp/scrape"
}
status() {
    "$CTL" status --config "$conf" >"$tmp/status" 2>&1
}
# node_exporter serves labels sorted by name.
KEY='key="spam.example",kind="sender_domain",policy="flood"'

# Wait (bounded) until a scrape shows the settled queue and the status
# agrees: the textfile is rewritten every second.
_i=0
while :; do
    scrape && status
    s_in=$(awk '/^  incoming /{print $2}' "$tmp/status")
    s_act=$(awk '/^  active /{print $2}' "$tmp/status")
    s_thr=$(awk '/^throttled:/{print $2}' "$tmp/status")
    s_cnt=$(sed -n 's/^  policy=flood key=sender_domain:spam.example .* count=\([0-9]*\) .*/\1/p' "$tmp/status")
    s_share=$(sed -n 's/^  policy=flood key=sender_domain:spam.example .* share=\([0-9.]*\) .*/\1/p' "$tmp/status")
    m_in=$(value 'qshape_queue_messages{queue="incoming"}')
    m_act=$(value 'qshape_queue_messages{queue="active"}')
    m_thr=$(value 'qshape_throttled_keys{policy="flood"}')
    m_cnt=$(value "qshape_throttled_key_messages{$KEY}")
    m_share=$(value "qshape_throttled_key_share{$KEY}")
    if [ "$m_in" = 40 ] && [ "$m_in" = "$s_in" ] && [ "$m_thr" = "$s_thr" ] &&
       [ "$m_cnt" = "$s_cnt" ]; then
	break
    fi
    _i=$((_i + 1))
    [ $_i -lt 20 ] || break
    sleep 0.5
done
cp "$tmp/scrape" "$tmp/scrape.final" 2>/dev/null

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
if [ "$m_in" = 40 ] && [ "$s_in" = 40 ] && [ "$m_act" = 0 ] && [ "$s_act" = 0 ]; then
    ok "queue totals: incoming $m_in active $m_act, as status and the test's own count"
else
    notok "queue totals: scraped incoming=$m_in active=$m_act; status incoming=$s_in active=$s_act; sent 40"
    indent < "$tmp/status"
fi
# (c)
if [ "$m_thr" = 1 ] && [ "$s_thr" = 1 ] && [ "$m_cnt" = 30 ] && [ "$s_cnt" = 30 ] &&
   [ "$(printf '%.2f' "$m_share")" = "$s_share" ]; then
    ok "throttled: one key, spam.example, count $m_cnt share $m_share, as status"
else
    notok "throttled: scraped $m_thr keys, spam.example count=$m_cnt share=$m_share; status $s_thr keys, count=$s_cnt share=$s_share"
    indent < "$tmp/status"
fi
# (d)
d_cnt=$(value "qshape_dominant_key_messages{$KEY}")
d_n=$(grep -c '^qshape_dominant_key_messages{' "$tmp/scrape")
if [ "$d_cnt" = 30 ] && [ "$d_n" = 5 ]; then
    ok "dominant: spam.example with 30 messages, 5 keys (metrics.top_keys)"
else
    notok "dominant: spam.example $d_cnt, $d_n keys"
    grep '^qshape_dominant_key_messages{' "$tmp/scrape" | indent
fi
# (e)
parsed=$(value 'qshape_scanner_files_total{result="parsed"}')
if [ "${parsed:-0}" -ge 40 ]; then
    ok "scanner counted $parsed parsed queue files"
else
    notok "scanner parsed files: ${parsed:-none}"
fi
finish

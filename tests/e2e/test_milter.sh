#!/bin/sh
# test_milter.sh BUILD_DIR - end-to-end: qshape-scand + qshape-milter in a
# real Postfix, under a flood from one domain beside legitimate mail.
#
# A throw-away private Postfix (tests/e2e/pflib.sh) calls the milter
# (smtpd_milters and non_smtpd_milters = inet:127.0.0.1:PORT,
# milter_default_action = accept) and relays everything to a slow smtp-sink
# (2 deliveries at a time, each waiting 1 s before answering DATA), so the
# active queue backs up.  qshape-scand watches the instance's queue and
# qshape-milter reads its summary; one policy, "flood", throttles a sender
# domain with at least 50 of at least 100 messages in incoming + active and
# 30% of them.
#
#   1. tempfail.  2,000 messages from flood@flood.example over 20 SMTP
#      sessions (5 waves of 400), beside 20 legitimate domains x 10 messages
#      sent one a second.  Once qshapectl status lists the domain, every
#      later flood message gets "451 4.7.1"; counts agree between
#      smtp-source, the Postfix maillog and the milter's log.  Mail from
#      sendmail(1) of the throttled domain is held (local_action), not
#      tempfailed (which would leave it in maildrop, retried forever).
#   2. hold.  The policy's action becomes "hold" (SIGHUP to both daemons).
#      1,000 messages from bulk@bulk.example (2 waves of 500, 10 sessions)
#      beside 20 x 5 legitimate: once bulk.example is listed, every later
#      one is accepted (250) and lands in the hold queue.
#   3. fail open.  The scanner is killed (kill -9); once the summary is
#      stale, a batch from both throttled domains and from legitimate ones
#      is accepted in full, and the milter logs that the summary is stale.
#   Phases 1 and 2 end with one SMTP connection carrying throttled and
#   legitimate senders in turn: a tempfail or a hold applies to its own
#   message only.
#   4. nothing lost.  The sink is stopped (what is in the active queue is
#      deferred), then: every message that got a queue ID was delivered
#      (status=sent) or is in a queue, exactly; and that number is what the
#      senders sent minus what was tempfailed.
#
# At least 99% of the legitimate mail must be accepted and not held
# (in practice all of it).  About 35-45 seconds.
#
# The daemons start as root and drop privileges (scanner: postfix, milter:
# nobody with group postfix, the summary's group here).
#
# Needs root, Postfix, perl and BUILD_DIR/{qshape-scand,qshape-milter,
# qshapectl}.
# Environment:
#   E2E_PORT=N   first TCP port to try (default 10125); three are used
#                (SMTP, sink, milter).
#   E2E_KEEP=1   keep the instance's directory (maillog, daemon logs).
#
# Prints one "ok - ..." / "not ok - ..." line per check ("# " lines are
# diagnostics) and, last, "e2e-milter: N passed, M failed".  Exit status 0
# only when all passed; a setup failure is a failure.

set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/pflib.sh
. "$here/pflib.sh"
# shellcheck source=tests/e2e/e2elib.sh
. "$here/e2elib.sh"

BUILD=$(e2e_abs "${1:-build}")
SCAND=$BUILD/qshape-scand
MILTER=$BUILD/qshape-milter
CTL=$BUILD/qshapectl

SHM_NAME=		# the summary file, in E2E_RUNDIR
REPLY="451 4.7.1 Too much mail from you in our queue, try again later"

scand_pid=
milter_pid=
bg_pids=		# smtp-source processes running in the background

e2e_begin e2e-milter

E2E_DIAG=e2e_daemon_logs

# stop_all: at exit, the background smtp-sources, then both daemons.
# shellcheck disable=SC2317	# invoked from the EXIT trap
stop_all() {
    for _p in $bg_pids; do
	kill "$_p" 2>/dev/null || :
    done
    pf_stop_pid "$milter_pid"
    pf_stop_pid "$scand_pid"
    [ -z "$E2E_RUNDIR" ] || rm -rf "$E2E_RUNDIR.ct"
}
E2E_TEARDOWN=stop_all

# ---------------------------------------------------------------------------
# Helpers.

# src OUT ARGS...: smtp-source into the instance, in the foreground, output
# (one "sender rejected" warning per tempfailed message) to OUT.
src() {
    _out=$1
    shift
    if ! smtp-source -A -M client.e2e.test "$@" "127.0.0.1:$smtp_port" \
	    </dev/null >"$_out" 2>&1; then
	indent <"$_out"
	setup_failed "smtp-source $*"
    fi
}

# src_bg OUT ARGS...: the same in the background; wait_bg collects them.
src_bg() {
    _out=$1
    shift
    smtp-source -A -M client.e2e.test "$@" "127.0.0.1:$smtp_port" \
	</dev/null >"$_out" 2>&1 &
    bg_pids="$bg_pids $!"
}

# wait_bg SECS: wait for every background smtp-source; fail after SECS.
wait_bg() {
    _dl=$(($(pf_now_ms) + $1 * 1000))
    for _p in $bg_pids; do
	while kill -0 "$_p" 2>/dev/null; do
	    if [ "$(pf_now_ms)" -ge "$_dl" ]; then
		setup_failed "smtp-source still running after $1 s"
	    fi
	    sleep 0.1
	done
	wait "$_p" || setup_failed "a background smtp-source failed"
    done
    bg_pids=
}

# legit_bg TAG N: in the background, N messages from each of 20
# legitimate domains (userI@legitI.example), one a second; outputs in
# $tmp/TAG-I.out.
legit_bg() {
    for _i in $(seq 1 20); do
	src_bg "$tmp/$1-$_i.out" -w 1 -m "$2" -f "user$_i@legit$_i.example" \
	    -t "rcpt$_i@dest.example"
    done
}

# sm SENDER RCPT: one message through sendmail(1) (maildrop, pickup).
sm() {
    printf 'Subject: e2e\n\nhello\n' |
	sendmail -C "$PF_ETC" -f "$1" "$2" >"$tmp/sm.out" 2>&1 ||
	{ indent <"$tmp/sm.out"; setup_failed "sendmail -f $1 $2"; }
}

# mixed OUT SENDER...: one SMTP connection, one message per SENDER (RSET
# after a refused MAIL FROM).  Prints "SENDER CODE TEXT" per message, the
# reply to MAIL FROM when it was refused, else the reply to end of data.
# Checks that the milter's per-message state does not leak from one
# message to the next on a reused connection.
mixed() {
    _o=$1
    shift
    for _s; do
	set -- "$@" "<$_s>"
	shift
    done
    e2e_smtp "$_o.raw" "$smtp_port" "$@"
    sed 's/^<\([^>]*\)>\t/\1 /' "$_o.raw" >"$_o"
}

# queued_id OUT SENDER N: queue ID of the Nth message from SENDER in OUT.
queued_id() {
    awk -v s="$2" -v n="$3" '$1 == s && ++k == n {
	if (match($0, /queued as [0-9A-Za-z]+/)) print substr($0, RSTART + 10, RLENGTH - 10)
    }' "$1"
}

# rejected FILE...: tempfail warnings in smtp-source outputs, with our reply.
rejected() {
    cat "$@" | grep -c "sender rejected: $REPLY\$"
}

# unexpected FILE...: any other line smtp-source printed.
unexpected() {
    cat "$@" | grep -v "sender rejected: $REPLY\$"
}

status() {
    "$CTL" status --config "$conf" 2>&1
}

# wait_throttled KEY ACTION SECS: until qshapectl status lists KEY.
wait_throttled() {
    _dl=$(($(pf_now_ms) + $3 * 1000))
    while :; do
	status >"$tmp/status.out"
	grep -q " key=sender_domain:$1 action=$2 " "$tmp/status.out" && return 0
	[ "$(pf_now_ms)" -lt "$_dl" ] || return 1
	sleep 0.1
    done
}

# expect_throttled DOMAIN ACTION: after a first wave from DOMAIN, status
# lists sender_domain:DOMAIN as throttled with ACTION (10 s at most).
expect_throttled() {
    if wait_throttled "$1" "$2" 10; then
	ok "status lists sender_domain:$1 as throttled (action=$2)"
	grep " key=sender_domain:$1 " "$tmp/status.out" | indent
    else
	notok "status does not list $1 after the first wave"
	indent <"$tmp/status.out"
    fi
}

# wait_log FILE PATTERN COUNT SECS: until FILE has COUNT lines matching.
wait_log() {
    _dl=$(($(pf_now_ms) + $4 * 1000))
    while [ "$(grep -c -- "$2" "$1" 2>/dev/null)" -lt "$3" ]; do
	[ "$(pf_now_ms)" -lt "$_dl" ] || return 1
	sleep 0.05
    done
}

# tally: from the maillog, one line per sender domain:
#   DOMAIN ACCEPTED HELD TEMPFAILED SENT
# ACCEPTED: messages that got a queue ID (smtpd "client=" or pickup
# "uid="), whose sender comes from the qmgr "from=" line, the pickup line or
# the cleanup "milter-hold" line; HELD: of those, the milter-hold ones;
# TEMPFAILED: "NOQUEUE: milter-reject" at MAIL FROM; SENT: of the accepted,
# those with "status=sent".  A queue ID whose sender is unknown counts
# under "?".  The last line is "TOTAL ..." over all domains.
tally() {
    awk '
    function dom(a) {
	gsub(/^<|>,?$/, "", a)
	if (a == "") return "<>"
	if (a !~ /@/) return "(local)"
	sub(/^.*@/, "", a)
	return tolower(a)
    }
    function from_field(   m) {
	if (match($0, /from=<[^>]*>/))
	    return substr($0, RSTART + 5, RLENGTH - 5)
	return "?"
    }
    {
	id = $6
	sub(/:$/, "", id)
    }
    $5 ~ /^postfix\/smtpd\[/ && $7 ~ /^client=/ { acc[id] = 1; next }
    $5 ~ /^postfix\/pickup\[/ && $7 ~ /^uid=/ {
	acc[id] = 1; snd[id] = from_field(); next
    }
    $5 ~ /^postfix\/qmgr\[/ && $7 ~ /^from=/ { snd[id] = from_field(); next }
    $5 ~ /^postfix\/cleanup\[/ && $7 == "milter-hold:" {
	held[id] = 1; snd[id] = from_field(); next
    }
    $6 == "NOQUEUE:" && $7 == "milter-reject:" {
	d = dom(from_field()); seen[d] = 1; tf[d]++; next
    }
    $5 ~ /^postfix\/smtp\[/ && / status=sent / { sent[id] = 1; next }
    END {
	for (id in acc) {
	    d = (id in snd) ? dom(snd[id]) : "?"
	    seen[d] = 1
	    a[d]++
	    if (id in held) h[d]++
	    if (id in sent) s[d]++
	}
	for (d in seen) {
	    printf "%s %d %d %d %d\n", d, a[d], h[d], tf[d], s[d]
	    ta += a[d]; th += h[d]; tt += tf[d]; ts += s[d]
	}
	printf "TOTAL %d %d %d %d\n", ta, th, tt, ts
    }' "$PF_DIR/maillog"
}

# col DOMAIN_REGEX FIELD: sum a tally column over matching domains.
col() {
    awk -v re="^($1)\$" -v f="$2" '$1 ~ re { n += $f } END { print n + 0 }' \
	"$tmp/tally"
}

# tally_legit: the tally into $tmp/tally; the legitimate domains' columns
# in l_acc (accepted), l_held and l_tf (tempfailed).
tally_legit() {
    tally >"$tmp/tally"
    l_acc=$(col 'legit[0-9]+\.example' 2)
    l_held=$(col 'legit[0-9]+\.example' 3)
    l_tf=$(col 'legit[0-9]+\.example' 4)
}

# write_conf ACTION: the configuration, with the policy's action.
write_conf() {
    cat >"$conf.new" <<EOF
# qshape-milter configuration for tests/e2e/test_milter.sh (throw-away).
queue_directory = "$PF_SPOOL";
postfix_config_directory = "$PF_ETC";
summary_file = "$SHM_NAME";
counters_file = "$E2E_RUNDIR.ct/counters";	# the milter's, beside
group = "postfix";		# the milter runs as nobody with this group
stale_after = 3;
fail_mode = "accept";
log_level = "info";
scanner = {
    reconcile_interval = 10;
    publish_interval = 100;
    heartbeat_interval = 1;
    user = "";			# Postfix's mail_owner
    pid_file = "";
};
milter = {
    socket = "inet:$milter_port@127.0.0.1";
    user = "nobody";
    timeout = 30;
    log_accepts = false;
};
policies = (
    {
	name = "flood";
	key = "sender_domain";
	queues = [ "incoming", "active" ];
	min_queue = 100;
	min_count = 50;
	min_share = 0.3;
	release_ratio = 0.8;
	min_hold_time = "5m";
	action = "$1";
	reply = "$REPLY";
	local_action = "hold";
    }
);
EOF
    mv "$conf.new" "$conf"
}

# ---------------------------------------------------------------------------
# Preconditions and setup.

e2e_need_root
e2e_need_cmds smtp-source smtp-sink postsuper postqueue sendmail
e2e_need_progs make "$SCAND" "$MILTER" "$CTL"
id nobody >/dev/null 2>&1 || setup_failed "no user nobody"
command -v perl >/dev/null 2>&1 || setup_failed "perl not found"

e2e_mktemp qshape-e2e-milter
e2e_rundir
SHM_NAME=$E2E_RUNDIR/summary
conf=$tmp/qshape-milter.conf

port=${E2E_PORT:-10125}
smtp_port=$(pf_free_port "$port") || setup_failed "no free port"
sink_port=$(pf_free_port $((smtp_port + 1))) || setup_failed "no free port"
milter_port=$(pf_free_port $((sink_port + 1))) || setup_failed "no free port"

pf_init "$tmp/pf" "$smtp_port" "$sink_port" || setup_failed "pf_init"
# Two deliveries at a time to a sink that waits 1 s before answering DATA:
# about 2 messages a second leave, so the active queue backs up.
pf_postconf "smtpd_milters = inet:127.0.0.1:$milter_port" \
    "non_smtpd_milters = inet:127.0.0.1:$milter_port" \
    "milter_default_action = accept" \
    "default_destination_concurrency_limit = 2" ||
    setup_failed "pf_postconf milters"
pf_sink_start "$sink_port" -w 1 || setup_failed "pf_sink_start"
pf_start || setup_failed "pf_start"

write_conf tempfail
e2e_check_config "$conf" "the test's configuration"

"$SCAND" -f -C "$conf" >"$tmp/scand.log" 2>&1 &
scand_pid=$!
_dl=$(($(pf_now_ms) + 10000))
until status >"$tmp/status.out"; do
    kill -0 "$scand_pid" 2>/dev/null || setup_failed "qshape-scand exited"
    [ "$(pf_now_ms)" -lt "$_dl" ] || setup_failed "no fresh summary after 10 s"
    sleep 0.1
done
"$MILTER" -f -C "$conf" >"$tmp/milter.log" 2>&1 &
milter_pid=$!
e2e_wait_milter "$milter_pid" "$milter_port"
grep -q '^throttled: 0$' "$tmp/status.out"
check $? "status: the summary is fresh and nothing is throttled at the start"
s_uid=$(awk '/^Uid:/ { print $3 }' "/proc/$scand_pid/status" 2>/dev/null)
m_uid=$(awk '/^Uid:/ { print $3 }' "/proc/$milter_pid/status" 2>/dev/null)
[ "$s_uid" = "$(id -u postfix)" ] && [ "$m_uid" = "$(id -u nobody)" ]
check $? "started as root, qshape-scand runs as postfix (uid $s_uid), qshape-milter as nobody (uid $m_uid)"

# ---------------------------------------------------------------------------
# 1. tempfail.

note "phase 1: 2000 from flood.example (5 waves x 400, 20 sessions) beside 20 domains x 10"
LEGIT1=10
legit_bg legit1 $LEGIT1
src "$tmp/flood-1.out" -s 20 -m 400 -f flood@flood.example -t rcpt@dest.example
expect_throttled flood.example tempfail
grep -q 'throttle on: policy=flood key=sender_domain:flood.example ' "$tmp/scand.log"
check $? "qshape-scand logs 'throttle on' for flood.example"

# sendmail(1) mail from the throttled domain: held, not tempfailed.
for i in 1 2 3 4 5; do
    sm flood@flood.example "local$i@dest.example"
    sm "app@legit$i.example" "local$i@dest.example"
done
for w in 2 3 4 5; do
    sleep 1
    src "$tmp/flood-$w.out" -s 20 -m 400 -f flood@flood.example -t rcpt@dest.example
done
wait_bg 40
pf_wait_count maildrop 0 15 || setup_failed "maildrop does not empty"
pf_wait_count incoming 0 15 || setup_failed "incoming does not empty"
# The maillog is written by postlogd: let the last lines arrive.
wait_log "$PF_DIR/maillog" 'milter-hold: .* from=<flood@flood.example>' 5 10

t1=$(rejected "$tmp"/flood-[1-5].out)
t1_later=$(rejected "$tmp"/flood-[2-5].out)
wait_log "$PF_DIR/maillog" 'NOQUEUE: milter-reject: .* from=<flood@flood.example>' "$t1" 10
sleep 0.3
tally_legit
f_acc=$(col flood.example 2)
f_held=$(col flood.example 3)
f_tf=$(col flood.example 4)
m_tf=$(grep -c "NOQUEUE: tempfail: MAIL from [^ ]*: $REPLY; from=<flood@flood.example> policy=flood key=sender_domain:flood.example " "$tmp/milter.log")
note "flood.example: $t1 of 2000 tempfailed by smtp-source's count, maillog: $f_tf tempfailed, $f_acc accepted ($f_held of them held), milter log: $m_tf tempfail lines"

if [ -n "$(unexpected "$tmp"/flood-*.out "$tmp"/legit1-*.out)" ]; then
    notok "smtp-source printed nothing but tempfails with our reply"
    unexpected "$tmp"/flood-*.out "$tmp"/legit1-*.out | sort | uniq -c | head | indent
else
    ok "smtp-source printed nothing but tempfails with our reply"
fi
[ "$t1_later" -eq 1600 ]
check $? "every flood message sent after status listed the domain was tempfailed (waves 2-5: $t1_later of 1600)"
[ "$t1" -eq "$f_tf" ] && [ "$t1" -eq "$m_tf" ]
check $? "tempfails agree: smtp-source $t1, maillog milter-reject $f_tf, milter log $m_tf"
[ $((f_acc - f_held + t1)) -eq 2000 ] && [ "$t1" -ge 1600 ]
check $? "flood.example over SMTP: $((f_acc - f_held)) accepted + $t1 tempfailed = 2000"
grep -q "NOQUEUE: milter-reject: MAIL from [^ ]*: $REPLY; from=<flood@flood.example>" "$PF_DIR/maillog"
check $? "Postfix gives the policy's reply: $REPLY"
[ "$f_held" -eq 5 ] && [ "$(pf_count hold)" -eq 5 ]
check $? "sendmail(1) mail from the throttled domain is held (local_action): $f_held of 5, hold queue $(pf_count hold)"
l_want=$((20 * LEGIT1 + 5))
[ "$l_tf" -eq 0 ] && [ "$l_held" -eq 0 ] && [ "$l_acc" -eq "$l_want" ]
check $? "legitimate mail: $l_acc of $l_want accepted, $l_held held, $l_tf tempfailed"
if [ "$(($(col TOTAL 4) - f_tf + $(col TOTAL 3) - f_held))" -ne 0 ]; then
    notok "only flood.example was acted on"
    sort "$tmp/tally" | indent
else
    ok "only flood.example was acted on"
fi

# One connection, throttled and legitimate senders in turn.
mixed "$tmp/mixed-1.out" flood@flood.example user1@legit1.example \
    flood@flood.example user2@legit2.example
got=$(awk '{ print $2 }' "$tmp/mixed-1.out" | tr '\n' ' ')
[ "$got" = "451 250 451 250 " ] &&
    [ "$(grep -c "^flood@flood.example $REPLY\$" "$tmp/mixed-1.out")" -eq 2 ]
check $? "one connection, flood/legit/flood/legit: $got(the reply does not leak into the next transaction)"
[ "$got" = "451 250 451 250 " ] || indent <"$tmp/mixed-1.out"

# ---------------------------------------------------------------------------
# 2. hold, after a reload of both daemons.

note "phase 2: action = hold (SIGHUP); 1000 from bulk.example (2 waves x 500, 10 sessions) beside 20 domains x 5"
n_sr=$(grep -c 'reloaded ' "$tmp/scand.log")
n_mr=$(grep -c 'reloaded ' "$tmp/milter.log")
write_conf hold
kill -HUP "$scand_pid" "$milter_pid"
if wait_log "$tmp/scand.log" 'reloaded ' $((n_sr + 1)) 15 &&
   wait_log "$tmp/milter.log" 'reloaded ' $((n_mr + 1)) 15; then
    ok "both daemons reload the configuration on SIGHUP"
else
    notok "both daemons reload the configuration on SIGHUP"
    tail -n 3 "$tmp/scand.log" "$tmp/milter.log" | indent
fi
hold0=$(pf_count hold)
LEGIT2=5
legit_bg legit2 $LEGIT2
src "$tmp/bulk-1.out" -s 10 -m 500 -f bulk@bulk.example -t rcpt@dest.example
expect_throttled bulk.example hold
pf_wait_count incoming 0 15 || setup_failed "incoming does not empty"
h_mid=$(pf_count hold)
src "$tmp/bulk-2.out" -s 10 -m 500 -f bulk@bulk.example -t rcpt@dest.example
wait_bg 30
pf_wait_count incoming 0 15 || setup_failed "incoming does not empty"
h_end=$(pf_count hold)
wait_log "$PF_DIR/maillog" ': milter-hold: ' "$h_end" 10
sleep 0.3
tally_legit
b_acc=$(col bulk.example 2)
b_held=$(col bulk.example 3)
b_tf=$(col bulk.example 4)
m_hold=$(grep -c ': hold: END-OF-MESSAGE from .*; from=<[^ ]*@bulk.example> policy=flood key=sender_domain:bulk.example ' "$tmp/milter.log")
pq_held=$(postqueue -c "$PF_ETC" -p 2>/dev/null | grep -c '^[0-9A-F][0-9A-F]*!')
note "bulk.example: $b_acc of 1000 accepted, $b_held held (maillog), milter log: $m_hold hold lines; hold queue $hold0 -> $h_mid -> $h_end; postqueue -p: $pq_held held"

b_rej=$(cat "$tmp"/bulk-*.out "$tmp"/legit2-*.out | wc -l)
[ "$b_rej" -eq 0 ] && [ "$b_tf" -eq 0 ] && [ "$b_acc" -eq 1000 ]
check $? "with action=hold every bulk message gets 250: $b_acc of 1000 accepted, $b_tf tempfailed"
[ $((h_end - h_mid)) -eq 500 ]
check $? "every bulk message sent after status listed the domain was held (wave 2: $((h_end - h_mid)) of 500)"
[ "$b_held" -gt 0 ] && [ "$b_held" -eq "$m_hold" ] && [ $((h_end - hold0)) -eq "$b_held" ]
check $? "holds agree: maillog milter-hold $b_held, milter log $m_hold, hold queue grew by $((h_end - hold0))"
[ "$pq_held" -eq "$h_end" ]
check $? "postqueue -p marks $pq_held messages held, the hold queue has $h_end"
l_want=$((20 * (LEGIT1 + LEGIT2) + 5 + 2))
[ "$l_tf" -eq 0 ] && [ "$l_held" -eq 0 ] && [ "$l_acc" -eq "$l_want" ]
check $? "legitimate mail: $l_acc of $l_want accepted, $l_held held, $l_tf tempfailed"

if grep -q "summary $SHM_NAME is " "$tmp/milter.log"; then
    notok "the milter always found a fresh summary, through the scanner's reload"
    grep "summary $SHM_NAME is " "$tmp/milter.log" | indent
else
    ok "the milter always found a fresh summary, through the scanner's reload"
fi

mixed "$tmp/mixed-2.out" bulk@bulk.example user3@legit3.example \
    bulk@bulk.example user4@legit4.example
got=
for sn in bulk@bulk.example:1 user3@legit3.example:1 bulk@bulk.example:2 user4@legit4.example:1; do
    qid=$(queued_id "$tmp/mixed-2.out" "${sn%:*}" "${sn#*:}")
    if [ -z "$qid" ]; then
	got="${got}refused "
    elif [ -n "$(find "$PF_SPOOL/hold" -name "$qid" 2>/dev/null)" ]; then
	got="${got}held "
    else
	got="${got}queued "
    fi
done
[ "$got" = "held queued held queued " ]
check $? "one connection, bulk/legit/bulk/legit: $got(hold does not leak into the next message)"
[ "$got" = "held queued held queued " ] || indent <"$tmp/mixed-2.out"

# ---------------------------------------------------------------------------
# 3. The scanner dies: the milter fails open.

note "phase 3: kill -9 qshape-scand; 100 from flood.example, 100 from bulk.example, 20 legitimate"
status >"$tmp/status.out"
grep -q ' key=sender_domain:bulk.example action=hold ' "$tmp/status.out" ||
    note "warning: bulk.example no longer throttled before the kill"
kill -9 "$scand_pid"
wait "$scand_pid" 2>/dev/null
scand_pid=
_dl=$(($(pf_now_ms) + 15000))
while :; do
    status >"$tmp/status.out"
    st=$?
    [ "$st" -eq 3 ] && break
    [ "$(pf_now_ms)" -lt "$_dl" ] || break
    sleep 0.2
done
[ "$st" -eq 3 ]
check $? "qshapectl status reports the summary stale (exit 3) after the kill"
[ "$st" -eq 3 ] || indent <"$tmp/status.out"
sleep 1		# status and the milter read the clock a moment apart
tally >"$tmp/tally"
a0=$(col TOTAL 2) h0=$(col TOTAL 3) t0=$(col TOTAL 4)
src "$tmp/stale-flood.out" -s 5 -m 100 -f flood@flood.example -t rcpt@dest.example
src "$tmp/stale-bulk.out" -s 5 -m 100 -f bulk@bulk.example -t rcpt@dest.example
for i in $(seq 1 20); do
    src "$tmp/stale-legit-$i.out" -m 1 -f "user$i@legit$i.example" -t "rcpt$i@dest.example"
done
pf_wait_count incoming 0 15 || setup_failed "incoming does not empty"
wait_log "$PF_DIR/maillog" 'qmgr.*: from=<user20@legit20.example>' $((LEGIT1 + LEGIT2 + 1)) 10
sleep 0.3
tally >"$tmp/tally"
a1=$(col TOTAL 2) h1=$(col TOTAL 3) t1b=$(col TOTAL 4)
s_rej=$(cat "$tmp"/stale-*.out | wc -l)
[ "$s_rej" -eq 0 ] && [ $((a1 - a0)) -eq 220 ] && [ "$h1" -eq "$h0" ] && [ "$t1b" -eq "$t0" ]
check $? "fail open: $((a1 - a0)) of 220 accepted, $((h1 - h0)) held, $((t1b - t0)) tempfailed"
grep -q "summary $SHM_NAME is stale" "$tmp/milter.log"
check $? "the milter logs that the summary is stale"
grep "summary $SHM_NAME is stale" "$tmp/milter.log" | indent

# ---------------------------------------------------------------------------
# 4. Nothing lost.

note "phase 4: stop the sink; whatever is active is deferred; count"
pf_stop_pid "$milter_pid"
milter_pid=
grep -q 'exiting' "$tmp/milter.log"
check $? "qshape-milter exits on SIGTERM"
pf_sink_stop
_dl=$(($(pf_now_ms) + 60000))
while [ "$(pf_count active)" != 0 ] || [ "$(pf_count incoming)" != 0 ] ||
      [ "$(pf_count maildrop)" != 0 ]; do
    [ "$(pf_now_ms)" -lt "$_dl" ] || setup_failed "the active queue does not drain: $(pf_counts)"
    sleep 0.1
done
pf_wait_stable 1 20 || setup_failed "the queue does not settle"
# Let postlogd write the last lines.
sleep 0.5
tally >"$tmp/tally"
acc=$(col TOTAL 2) held=$(col TOTAL 3) tf=$(col TOTAL 4) sent=$(col TOTAL 5)
n_def=$(pf_count deferred)
n_hold=$(pf_count hold)
n_act=$(pf_count active)
n_inc=$(pf_count incoming)
n_md=$(pf_count maildrop)
inq=$((n_def + n_hold + n_act + n_inc + n_md))
note "queue IDs: $acc accepted ($held held), $sent delivered; queues: $(pf_counts)"
note "per domain (accepted held tempfailed delivered):"
{
    grep -v '^legit\|^TOTAL ' "$tmp/tally" | sort
    awk '$1 ~ /^legit/ { a += $2; h += $3; t += $4; s += $5 }
	 END { printf "legit1..20.example %d %d %d %d\n", a, h, t, s }' "$tmp/tally"
    grep '^TOTAL ' "$tmp/tally"
} | indent

[ "$acc" -eq $((sent + inq)) ]
check $? "nothing lost: $acc accepted = $sent delivered + $inq queued ($n_def deferred, $n_hold hold, $n_act active, $n_inc incoming, $n_md maildrop)"
[ "$sent" -gt 0 ]
check $? "mail was delivered all along ($sent messages)"
[ "$n_hold" -eq "$held" ]
check $? "every held message is still in the hold queue ($n_hold of $held)"
# flood (SMTP, sendmail), legit sendmail, legit phases 1 and 2, bulk,
# phase 3 (flood, bulk, legit).
# Plus the two mixed sessions: 2 flood (tempfailed), 2 bulk, 4 legitimate.
total=$((2000 + 5 + 5 + 20 * (LEGIT1 + LEGIT2) + 1000 + 100 + 100 + 20 + 8))
[ "$acc" -eq $((total - t1 - 2)) ] && [ "$tf" -eq $((t1 + 2)) ]
check $? "accepted = sent - tempfailed: $acc = $total - $tf"
[ "$(col '[?]' 2)" -eq 0 ]
check $? "every accepted message's sender is known from the maillog"
l_all=$((20 * (LEGIT1 + LEGIT2 + 1) + 5 + 4))
l_ok=$(( $(col 'legit[0-9]+\.example' 2) - $(col 'legit[0-9]+\.example' 3) ))
[ $((l_ok * 100)) -ge $((l_all * 99)) ]
check $? "at least 99% of the legitimate mail accepted and not held: $l_ok of $l_all"

finish

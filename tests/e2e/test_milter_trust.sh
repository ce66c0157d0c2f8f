#!/bin/sh
# test_milter_trust.sh BUILD_DIR - end-to-end: an SMTP client cannot
# choose its own verdict (issue 7, items 5, 6 and 7), against a real
# private Postfix with qshape-scand and qshape-milter
# (smtpd_milters and non_smtpd_milters).
#
# Set-up: 6 messages from the one sender spammer@evil.example, each MAIL
# FROM written differently (plain, quoted, source route, upper case,
# trailing dot, sendmail(1)), are put on hold before the daemons start.
# Policy "senders" (key sender, queue hold, 3 messages, share 0.5,
# action tempfail, local_action hold) then throttles
# sender:spammer@evil.example: the scanner counted all 6 under that one
# key, from the queue files' S records.
#
#   item 6  Over SMTP, every form of that sender gets the policy's 451
#           and the milter's log names key=sender:spammer@evil.example;
#           control senders get 250.  For senders not throttled, in
#           quoted, routed, mixed-case and trailing-dot forms, the key the
#           milter logs (sender_key=) is the sender qmgr logs for the
#           same message (from=<...>, the S record the scanner reads),
#           in lower case.
#   item 5  MAIL FROM:spammer@evil.example without brackets over SMTP
#           gets 451 (not 250 and a hold).  The same sender through
#           sendmail(1) (cleanup's stand-in client 127.0.0.1 port 0) is
#           held, never tempfailed, and maildrop empties.
#   item 7  The milter's config alone gets its policies in another order
#           and is reloaded: the throttled sender is accepted (fail_mode
#           accept), never tempfailed with any reply nor held, and "policies
#           differ from the scanner's" is logged once for several
#           messages; putting the order back ends it (logged once) and the
#           451 returns.
#
# Needs root, Postfix, perl, BUILD_DIR/{qshape-scand,qshape-milter,
# qshapectl}.  E2E_PORT=N: first TCP port to try (default 10225).
# Prints "ok - ..." / "not ok - ..." lines and, last,
# "e2e-milter-trust: N passed, M failed".  About 15 seconds.

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

SHM_NAME=			# the summary file, in E2E_RUNDIR
REPLY="451 4.7.1 Not from you now"
scand_pid=
milter_pid=

e2e_begin e2e-milter-trust

stop_all() {
    pf_stop_pid "$milter_pid"
    pf_stop_pid "$scand_pid"
}
E2E_TEARDOWN=stop_all
E2E_DIAG=diag
diag() {
    tail -n 20 "$tmp/milter.log" "$tmp/scand.log" 2>/dev/null | indent
}

# session OUT ARG...: one SMTP session to the instance (e2e_smtp).
session() {
    _o=$1
    shift
    e2e_smtp "$_o" "$smtp_port" "$@"
}

# code OUT ARG: the reply code ARG got in OUT.
code() {
    A=$2 awk -F '\t' '$1 == ENVIRON["A"] { print substr($2, 1, 3); exit }' "$1"
}

sm() {
    printf 'Subject: e2e\n\nhello\n' |
	sendmail -C "$PF_ETC" -f "$1" "$2" >"$tmp/sm.out" 2>&1 ||
	{ indent <"$tmp/sm.out"; setup_failed "sendmail -f $1 $2"; }
}

wait_log() {
    _dl=$(($(pf_now_ms) + $4 * 1000))
    while [ "$(grep -c -- "$2" "$1" 2>/dev/null)" -lt "$3" ]; do
	[ "$(pf_now_ms)" -lt "$_dl" ] || return 1
	sleep 0.05
    done
}

# write_conf FILE ORDER: ORDER "senders first" (as the scanner has it) or
# "senders last".
write_conf() {
    _senders='{ name = "senders"; key = "sender"; queues = [ "hold" ];
	min_queue = 3; min_count = 3; min_share = 0.5; min_hold_time = "5m";
	action = "tempfail"; reply = "'"$REPLY"'"; local_action = "hold"; }'
    _other='{ name = "domains"; key = "sender_domain"; queues = [ "active" ];
	min_queue = 1000; min_count = 1000; min_share = 0.9;
	action = "hold"; }'
    if [ "$2" = first ]; then
	_p="$_senders, $_other"
    else
	_p="$_other, $_senders"
    fi
    cat >"$1.new" <<EOF
queue_directory = "$PF_SPOOL";
postfix_config_directory = "$PF_ETC";
summary_file = "$SHM_NAME";
group = "postfix";
stale_after = 5;
fail_mode = "accept";
log_level = "info";
scanner = { reconcile_interval = 10; publish_interval = 100;
    heartbeat_interval = 1; user = ""; pid_file = ""; };
milter = { socket = "inet:$milter_port@127.0.0.1"; user = "nobody";
    timeout = 30; log_accepts = true; };
policies = ( $_p );
EOF
    mv "$1.new" "$1"
}

e2e_need_root
e2e_need_cmds smtp-source postsuper postqueue sendmail
e2e_need_progs make "$SCAND" "$MILTER" "$CTL"
command -v perl >/dev/null 2>&1 || setup_failed "perl not found"
e2e_mktemp qshape-e2e-trust
e2e_rundir
SHM_NAME=$E2E_RUNDIR/summary

port=${E2E_PORT:-10225}
smtp_port=$(pf_free_port "$port") || setup_failed "no free port"
milter_port=$(pf_free_port $((smtp_port + 1))) || setup_failed "no free port"
relay_port=$(pf_free_port 900) || setup_failed "no free port"
pf_init "$tmp/pf" "$smtp_port" "$relay_port" || setup_failed "pf_init"
pf_postconf "smtpd_milters = inet:127.0.0.1:$milter_port" \
    "non_smtpd_milters = inet:127.0.0.1:$milter_port" \
    "milter_default_action = accept" || setup_failed "pf_postconf"
pf_start || setup_failed "pf_start"

# The seed: one sender in six forms, on hold (no milter running yet).
session "$tmp/seed.out" '<spammer@evil.example>' '<"spammer"@evil.example>' \
    '<@relay.example:spammer@evil.example>' '<SPAMMER@Evil.Example>' \
    '<spammer@evil.example.>'
sm spammer@evil.example local@dest.example
pf_wait_count maildrop 0 15 || setup_failed "maildrop does not empty"
pf_wait_count incoming 0 15 || setup_failed "incoming does not empty"
postsuper -c "$PF_ETC" -h ALL >/dev/null 2>&1 || setup_failed "postsuper -h"
[ "$(pf_count hold)" -eq 6 ] || setup_failed "6 seed messages not on hold: $(pf_counts)"

conf=$tmp/scand.conf
mconf=$tmp/milter.conf
write_conf "$conf" first
write_conf "$mconf" first
e2e_check_config "$conf" "the scanner's configuration"
"$SCAND" -f -C "$conf" >"$tmp/scand.log" 2>&1 &
scand_pid=$!
_dl=$(($(pf_now_ms) + 10000))
until "$CTL" status --config "$conf" >"$tmp/status.out" 2>&1 &&
      grep -q ' key=sender:spammer@evil.example ' "$tmp/status.out"; do
    kill -0 "$scand_pid" 2>/dev/null || setup_failed "qshape-scand exited"
    [ "$(pf_now_ms)" -lt "$_dl" ] || { indent <"$tmp/status.out";
	setup_failed "sender:spammer@evil.example not throttled after 10 s"; }
    sleep 0.1
done
grep -q ' key=sender:spammer@evil.example action=tempfail count=6 ' "$tmp/status.out"
check $? "item 6: the scanner counts all 6 forms under sender:spammer@evil.example"
grep ' key=sender:' "$tmp/status.out" | indent
"$MILTER" -f -C "$mconf" >"$tmp/milter.log" 2>&1 &
milter_pid=$!
_dl=$(($(pf_now_ms) + 10000))
until pf_port_busy "$milter_port"; do
    kill -0 "$milter_pid" 2>/dev/null || setup_failed "qshape-milter exited"
    [ "$(pf_now_ms)" -lt "$_dl" ] || setup_failed "qshape-milter does not listen"
    sleep 0.05
done

# ---- item 6 and 5 over SMTP ----------------------------------------------
FORMS='<spammer@evil.example>
<"spammer"@evil.example>
<"sp\amm\er"@evil.example>
<@relay.example:spammer@evil.example>
<@a.example,@b.example:spammer@evil.example>
<SPAMMER@Evil.Example>
<spammer@evil.example.>
spammer@evil.example'
set -f
IFS='
'
# shellcheck disable=SC2086
set -- $FORMS
unset IFS
set +f
session "$tmp/forms.out" "$@" '<ham@good.example>' 'ham@good.example'
for f in "$@"; do
    c=$(code "$tmp/forms.out" "$f")
    [ "$c" = 451 ] && grep -qF "$f	$REPLY" "$tmp/forms.out"
    case $f in
    '<'*) check $? "item 6: MAIL FROM:$f gets the policy's reply ($c)" ;;
    *) check $? "item 5: MAIL FROM:$f without brackets over SMTP gets 451, not a hold ($c)" ;;
    esac
done
[ "$(code "$tmp/forms.out" '<ham@good.example>')" = 250 ] &&
    [ "$(code "$tmp/forms.out" 'ham@good.example')" = 250 ]
check $? "control senders get 250"
n=$(grep -c 'NOQUEUE: tempfail: MAIL from .*; from=<[^ ]*> policy=senders key=sender:spammer@evil.example ' "$tmp/milter.log")
[ "$n" -eq 8 ]
check $? "the milter logs key=sender:spammer@evil.example for all 8 ($n)"
grep -q 'local=1' "$tmp/milter.log"
[ $? -ne 0 ]
check $? "no SMTP message was taken for local mail"

# The milter's key against qmgr's from=<> (the S record) for the same
# message, for senders that are not throttled.
session "$tmp/keys.out" '<"Alice"@Mail.Example.>' \
    '<@relay.example:Bob@Mail.Example>' '<"c\"d"@mail.example>' \
    'Eve@MAIL.example' '<"f g"@mail.example>'
pf_wait_count incoming 0 15 || setup_failed "incoming does not empty"
# (any case: the pattern must match all 5, or this waits out its 10 s)
wait_log "$PF_DIR/maillog" 'qmgr.*from=<.*@[Mm][Aa][Ii][Ll]\.[Ee]xample' 5 10 ||
    setup_failed "qmgr did not log the 5 messages from mail.example"
for qid in $(sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' "$tmp/keys.out"); do
    q=$(sed -n "s/.*qmgr.* $qid: from=<\\(.*\\)>, size=.*/\\1/p" "$PF_DIR/maillog" | head -1 |
	tr 'A-Z' 'a-z')
    # The maillog quotes what needs quoting; the S record has it bare.
    q=$(printf '%s' "$q" | perl -pe 's/^"((?:[^"\\]|\\.)*)"@/my $l=$1; $l=~s#\\(.)#$1#g; "$l@"/e')
    # The log writes a space or ';' of a key as '?' (one field).
    q=$(printf '%s' "$q" | tr ' ;' '??')
    m=$(grep "sender_key=" "$tmp/milter.log" | grep -v 'sender_key=ham@' |
	sed -n "s/.*sender_key=\\(.*\\)\$/\\1/p" | grep -Fx -- "$q")
    [ -n "$q" ] && [ "$m" = "$q" ]
    check $? "item 6: milter key = queue file sender for $qid: '$q'"
done

# ---- item 5: sendmail(1) -------------------------------------------------
h0=$(pf_count hold)
sm spammer@evil.example local2@dest.example
sm '"spammer"@evil.example' local3@dest.example
pf_wait_count maildrop 0 15
check $? "item 5: maildrop empties (no tempfail for sendmail(1) mail)"
pf_wait_count incoming 0 15 || setup_failed "incoming does not empty"
wait_log "$PF_DIR/maillog" 'milter-hold: .*from=<spammer@evil.example>' 2 10
[ $(($(pf_count hold) - h0)) -eq 2 ]
check $? "item 5: sendmail(1) mail from the throttled sender is held ($(($(pf_count hold) - h0)) of 2)"
grep -c ': hold: END-OF-MESSAGE from localhost\[127.0.0.1\]: held in the hold queue; from=<[^ ]*> policy=senders key=sender:spammer@evil.example .* local=1' "$tmp/milter.log" |
    grep -qx 2
check $? "item 5: the milter logs both as local=1 holds"
grep -q 'milter-reject: .*from=<spammer@evil.example> proto=ESMTP' "$PF_DIR/maillog" &&
    [ -z "$(grep 'milter-reject' "$PF_DIR/maillog" | grep -v 'proto=ESMTP')" ]
check $? "item 5: tempfails only over SMTP, none at pickup"

# ---- item 7: the milter's policies in another order ---------------------
n_mr=$(grep -c 'reloaded ' "$tmp/milter.log")
write_conf "$mconf" last
kill -HUP "$milter_pid"
wait_log "$tmp/milter.log" 'reloaded ' $((n_mr + 1)) 10 || setup_failed "no reload"
hold1=$(pf_count hold)
session "$tmp/reorder.out" '<spammer@evil.example>' '<spammer@evil.example>' \
    '<"spammer"@evil.example>'
pf_wait_count incoming 0 15 || setup_failed "incoming does not empty"
got=$(awk -F '\t' '{ printf "%s ", substr($2, 1, 3) }' "$tmp/reorder.out")
[ "$got" = "250 250 250 " ] && [ "$(pf_count hold)" -eq "$hold1" ]
check $? "item 7: reordered policies: fail mode (accept), never the wrong action or reply: $got, hold queue $hold1 -> $(pf_count hold)"
n=$(grep -c 'policies differ from the scanner.s: reload both' "$tmp/milter.log")
[ "$n" -eq 1 ]
check $? "item 7: 'policies differ from the scanner's: reload both' logged once for 3 messages ($n)"
grep -c 'reason=policy_mismatch' "$tmp/milter.log" | grep -qx 3
check $? "item 7: each message says reason=policy_mismatch"
write_conf "$mconf" first
kill -HUP "$milter_pid"
wait_log "$tmp/milter.log" 'reloaded ' $((n_mr + 2)) 10 || setup_failed "no reload"
session "$tmp/restored.out" '<spammer@evil.example>' '<ham@good.example>'
[ "$(code "$tmp/restored.out" '<spammer@evil.example>')" = 451 ] &&
    [ "$(grep -c 'fail mode ends (policy_mismatch)' "$tmp/milter.log")" -eq 1 ]
check $? "item 7: same order again: 451, and the end of the fail mode logged once"
grep 'fail mode' "$tmp/milter.log" | indent

finish

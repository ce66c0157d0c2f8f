#!/bin/sh
# test_meter.sh BUILD_DIR - end-to-end: "qshapectl release --metered" on
# the hold queue of a private Postfix (issue 8, item 5).
#
# BUILD_DIR/holdmilter holds and marks messages as qshape-milter does (a
# real cleanup(8) writes the marks); BUILD_DIR/qsfixture publishes the
# summary, so that "the key is throttled", "nothing is throttled" and
# "another policy throttles a key" (the queue is congested) are set by
# the test, not by timing.  The timer is not running: the test runs
# qshapectl release --metered itself, every 0.2 s, and measures.
#
# The hold queue: 60 messages of policy flood (metered, release_rate 5,
# held_max_age 1h) held 60 s ago, 1 of flood held 2 h ago (too old),
# 2 of policy manual (release_held manual), 1 held by header_checks.
# Checks, in order: no summary: paused; flood's key throttled: paused,
# nothing released; --dry-run changes nothing; the key released: flood's
# mail drains at 5/s (within 20%); another policy's key throttled:
# paused; released again: the rest drains at 5/s; the too-old one is
# reported and stays, as do the manual and the others' messages; nothing
# is lost (every message is still queued); the state file is 0600.
#
# Needs root, Postfix, python3 and BUILD_DIR/{qshapectl,holdmilter,
# qsfixture}.  Environment: E2E_PORT=N (default 10195; three ports),
# E2E_KEEP=1 (keep the directory).
#
# Prints one "ok - ..." / "not ok - ..." line per check and, last,
# "e2e-meter: N passed, M failed".  Exit status 0 only when all passed.

set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/pflib.sh
. "$here/pflib.sh"
# shellcheck source=tests/e2e/e2elib.sh
. "$here/e2elib.sh"

BUILD=$(e2e_abs "${1:-build}")
CTL=$BUILD/qshapectl
HOLDMILTER=$BUILD/holdmilter
FIX=$BUILD/qsfixture
RATE=5
NFLOOD=60
milter_pid=
fix_pid=

e2e_begin e2e-meter

# shellcheck disable=SC2317	# invoked from the EXIT trap
teardown() {
    [ -z "$fix_pid" ] || pf_stop_pid "$fix_pid"
    [ -z "$milter_pid" ] || pf_stop_pid "$milter_pid"
}
E2E_TEARDOWN=teardown

# publish [ENTRY...]: a fresh summary with these throttled keys, kept
# alive (heartbeat) until the next publish.
publish() {
    [ -z "$fix_pid" ] || pf_stop_pid "$fix_pid"
    fix_pid=$("$FIX" --config "$conf" --hold "$summary" "$@") ||
	setup_failed "qsfixture $*"
}

# meter OUT [ARGS]: one run, stdout to $tmp/OUT, stderr to OUT.err.
meter() {
    _out=$1
    shift
    "$CTL" release --metered -C "$conf" --state "$state" "$@" \
	>"$tmp/$_out" 2>"$tmp/$_out.err"
}

# released OUT: how many the run released (0 when none).
released() {
    sed -n 's/^release: \([0-9]*\) released, .*/\1/p' "$tmp/$1" | grep . ||
	echo 0
}

# waiting_rate OUT: flood's messages left waiting for the rate.
waiting_rate() {
    sed -n 's/^release --metered: policy=flood .* waiting: rate=\([0-9]*\) .*/\1/p' \
	"$tmp/$1" | grep . || echo 0
}

# phase NAME SECS: run every 0.2 s for SECS seconds, or (SECS = 0) until
# no mail of flood waits for the rate; one line per run in $tmp/NAME.runs:
# "START_MS RELEASED WAITING_FOR_RATE".
phase() {
    : >"$tmp/$1.runs"
    _end=$(($(pf_now_ms) + ${2:-0} * 1000))
    _guard=$(($(pf_now_ms) + 40000))
    _i=0
    while :; do
	_t=$(pf_now_ms)
	meter "$1.$_i"
	echo "$_t $(released "$1.$_i") $(waiting_rate "$1.$_i")" \
	    >>"$tmp/$1.runs"
	# postsuper says what it released on stderr; anything else is ours.
	grep -v '^postsuper: ' "$tmp/$1.$_i.err" >>"$tmp/errors"
	_i=$((_i + 1))
	if [ "$2" -gt 0 ]; then
	    [ "$(pf_now_ms)" -lt "$_end" ] || break
	else
	    [ "$(waiting_rate "$1.$((_i - 1))")" -gt 0 ] || break
	    [ "$(pf_now_ms)" -lt "$_guard" ] || break
	fi
	sleep 0.2
    done
}

# rate NAME: messages per second over the runs of NAME that found mail
# waiting for the rate, the first one excluded (what it released was
# earned before it), as "RATE COUNT MS".
rate() {
    awk '$3 > 0 { if (n++ == 0) { t0 = $1; next } c += $2; t1 = $1 }
	 END { if (t1 > t0) printf "%.3f %d %d\n", c * 1000 / (t1 - t0), c, t1 - t0
	       else print "0 0 0" }' "$tmp/$1.runs"
}

# near RATE: within 20% of $RATE.
near() {
    awk -v r="$1" -v want="$RATE" 'BEGIN { exit !(r >= want * 0.8 && r <= want * 1.2) }'
}

send_sm() {
    _from=$1
    shift
    {
	for _h in "$@"; do printf '%s\n' "$_h"; done
	printf 'Subject: test\n\nbody\n'
    } | sendmail -C "$PF_ETC" -f "$_from" rcpt@dest.example
}

# queued: every queue file of the instance, whatever its queue.
queued() {
    find "$PF_SPOOL/incoming" "$PF_SPOOL/active" "$PF_SPOOL/deferred" \
	"$PF_SPOOL/hold" "$PF_SPOOL/maildrop" -type f | wc -l | tr -d ' '
}

# ---------------------------------------------------------------------------
# Set-up.

e2e_need_root
e2e_need_cmds postsuper postqueue sendmail
e2e_need_progs make "$CTL" "$HOLDMILTER" "$FIX"

e2e_mktemp qshape-e2e-meter
e2e_rundir
port=${E2E_PORT:-10195}
smtp_port=$(pf_free_port "$port") || setup_failed "no free port"
relay_port=$(pf_free_port $((smtp_port + 1))) || setup_failed "no free port"
milter_port=$(pf_free_port $((relay_port + 1))) || setup_failed "no free port"

pf_init "$tmp/pf" "$smtp_port" "$relay_port" || setup_failed "pf_init"
printf '/^Subject: hold-by-checks/ HOLD held by header_checks\n' \
    >"$PF_ETC/header_checks"
pf_postconf "non_smtpd_milters = inet:127.0.0.1:$milter_port" \
    "milter_default_action = tempfail" \
    "header_checks = regexp:$PF_ETC/header_checks" ||
    setup_failed "pf_postconf"
"$HOLDMILTER" "inet:$milter_port@127.0.0.1" >"$tmp/holdmilter.log" 2>&1 &
milter_pid=$!
pf_wait_port "$milter_port" 10 || setup_failed "holdmilter does not listen"
pf_start || setup_failed "pf_start"

summary=$E2E_RUNDIR/summary
state=$tmp/state/release.state
conf=$tmp/qshape-milter.conf
cat >"$conf" <<EOF
postfix_config_directory = "$PF_ETC";
summary_file = "$summary";
policies = (
    { name = "flood"; key = "sender_domain"; action = "hold";
      release_held = "metered"; release_rate = $RATE; held_max_age = "1h"; },
    { name = "other"; key = "sender"; action = "hold"; },
    { name = "manual"; key = "sender_domain"; action = "hold"; }
);
EOF
e2e_check_config "$conf" "the test configuration"

_i=0
while [ $_i -lt $NFLOOD ]; do
    send_sm "a$_i@flood.example" \
	"X-Test-Hold: flood sender_domain flood.example 60" ||
	setup_failed "sendmail"
    _i=$((_i + 1))
done
send_sm old@flood.example "X-Test-Hold: flood sender_domain flood.example 7200" ||
    setup_failed "sendmail"
for _i in 1 2; do
    send_sm "m$_i@m.example" "X-Test-Hold: manual sender_domain m.example 60" ||
	setup_failed "sendmail"
done
send_sm x@others.example "Subject: hold-by-checks" || setup_failed "sendmail"
NALL=$((NFLOOD + 4))
pf_wait_count hold $NALL || setup_failed "$NALL messages in hold: $(pf_counts)"
find "$PF_SPOOL/hold" -type f -exec basename {} \; | sort >"$tmp/hold.start"
: >"$tmp/errors"

# ---------------------------------------------------------------------------
# Paused: no summary, then flood's key throttled.

meter nosum && grep -qxF "release --metered: paused: no summary ($summary)" "$tmp/nosum" &&
    [ "$(pf_count hold)" -eq $NALL ]
check $? "no summary: paused, nothing released"
grep -q "release --metered: policy=flood rate=5/s held=$((NFLOOD + 1)) release=0 waiting: rate=0 throttled=0 congested=$NFLOOD too_old=1" "$tmp/nosum"
check $? "no summary: the policy line counts $NFLOOD paused, 1 too old"
[ -f "$state" ] && [ "$(stat -c %a "$state")" = 600 ] &&
    [ "$(stat -c %a "${state%/*}")" = 700 ]
check $? "the state file is 0600 in a 0700 directory"

publish sender_domain:flood.example:0:hold
phase throttled 1
[ "$(awk '{ s += $2 } END { print s + 0 }' "$tmp/throttled.runs")" -eq 0 ] &&
    grep -qxF "release --metered: paused: 1 key throttled" "$tmp/throttled.0" &&
    [ "$(pf_count hold)" -eq $NALL ]
check $? "flood's key throttled: paused, nothing released"

# ---------------------------------------------------------------------------
# Released: drains at the rate; --dry-run changes nothing.

publish
# The run earns the time since the last one (paused): let 2.5 messages'
# worth pass, or it has nothing it would release.
sleep "$(awk -v r="$RATE" 'BEGIN { print 2.5 / r }')"
meter dry --dry-run && [ "$(grep -c '^would release: ' "$tmp/dry")" -ge 1 ] &&
    grep -qxF "release: dry run: nothing released" "$tmp/dry" &&
    [ "$(pf_count hold)" -eq $NALL ]
check $? "--dry-run: would release, nothing changed"

phase drain1 4
r1=$(rate drain1)
near "${r1%% *}"
check $? "the key released: drains at $RATE/s within 20% (measured ${r1%% *}/s: ${r1#* } ms)"

# ---------------------------------------------------------------------------
# Congested: another policy throttles a key.

publish sender:x@other.example:1:hold
before=$(pf_count hold)
phase congested 1
[ "$(awk '{ s += $2 } END { print s + 0 }' "$tmp/congested.runs")" -eq 0 ] &&
    grep -qxF "release --metered: paused: 1 key throttled" "$tmp/congested.0" &&
    [ "$(pf_count hold)" -eq "$before" ] && [ "$before" -gt 4 ]
check $? "another policy's key throttled: paused ($before still held)"

publish
phase drain2 0
r2=$(rate drain2)
near "${r2%% *}"
check $? "uncongested again: drains at $RATE/s within 20% (measured ${r2%% *}/s: ${r2#* } ms)"
# The first run after the pause earns only the time since the last
# paused run: no credit saved up while paused.
# shellcheck disable=SC2046	# three numbers each
set -- $(tail -1 "$tmp/congested.runs") $(head -1 "$tmp/drain2.runs")
awk -v t0="$1" -v t1="$4" -v n="$5" -v r="$RATE" \
    'BEGIN { exit !(n <= (t1 - t0) * r / 1000 + 1) }'
check $? "no burst after the pause: the first run released $5 in $(($4 - $1)) ms"

# ---------------------------------------------------------------------------
# What is left, and nothing lost.

meter last
grep -qxF "release --metered: 1 message held longer than held_max_age: left for the operator (qshapectl held, release, delete)" "$tmp/last"
check $? "the too-old message is reported"
"$CTL" held -C "$conf" >"$tmp/held.end" 2>&1
grep -qxF "held: 3 selected of 3 held by qshape-milter; 1 held by others, not touched" "$tmp/held.end" &&
    [ "$(grep -c ' policy=manual ' "$tmp/held.end")" -eq 2 ] &&
    [ "$(grep -c ' sender=<old@flood.example> .* policy=flood ' "$tmp/held.end")" -eq 1 ]
check $? "still held: the too-old one, the 2 manual ones, the others' one"
[ "$(queued)" -eq $NALL ]
check $? "nothing lost: all $NALL messages still queued ($(pf_counts))"
total=$(cat "$tmp"/throttled.runs "$tmp"/drain1.runs "$tmp"/congested.runs \
    "$tmp"/drain2.runs | awk '{ s += $2 } END { print s + 0 }')
[ "$total" -eq $NFLOOD ]
check $? "the runs released $NFLOOD in all (counted $total)"
[ ! -s "$tmp/errors" ]
check $? "no run wrote to stderr (but postsuper)"
[ -s "$tmp/errors" ] && indent <"$tmp/errors"
finish

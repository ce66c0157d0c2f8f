#!/bin/sh
# test_scan.sh BUILD_DIR - end-to-end: `qshapectl scan` against qshape(1).
#
# Runs a throw-away private Postfix instance (tests/e2e/pflib.sh), fills its
# incoming, active, deferred and hold queues with real mail, stops the queue
# manager so that nothing moves, then runs /usr/sbin/qshape and
# BUILD_DIR/qshapectl scan with the same options and compares the outputs.
#
# Outputs must be identical, except that rows tying on both the T count and
# the length of the name may come in either order (qshape leaves those to
# Perl's hash order).  Every comparison runs while no message can cross a
# bucket edge (edges are whole minutes) between the two runs.
#
# Needs root and Postfix.  Environment:
#   QSHAPECTL=path   program to test instead of BUILD_DIR/qshapectl (run as
#                    "path scan -c DIR ARGS"); QSHAPECTL=qshape compares
#                    qshape with itself, to check this harness.
#   E2E_PORT=N       first TCP port to try (default 10025); two are used.
#   E2E_KEEP=1       keep the instance's directory (maillog, outputs).
#
# Prints one "ok - ..." / "not ok - ..." line per check and, last,
# "e2e-scan: N passed, M failed".  Exit status 0 only when all passed.

set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/pflib.sh
. "$here/pflib.sh"

QSHAPE=/usr/sbin/qshape
BUILD=${1:-build}
CTL=${QSHAPECTL:-$BUILD/qshapectl}

npass=0
nfail=0
tmp=
t0=
t1=

ok() {
    npass=$((npass + 1))
    echo "ok - $*"
}

notok() {
    nfail=$((nfail + 1))
    echo "not ok - $*"
}

indent() {
    sed 's/^/#   /'
}

finish() {
    echo "e2e-scan: $npass passed, $nfail failed"
    [ "$nfail" -eq 0 ]
    exit
}

setup_failed() {
    notok "setup: $*"
    finish
}

# shellcheck disable=SC2317	# invoked from the EXIT trap
cleanup() {
    cleanup_rc=$?
    trap - EXIT INT TERM HUP
    trap '' PIPE	# stdout may be gone (| head); tear down all the same
    if [ -n "${E2E_KEEP:-}" ]; then
	pf_destroy keep || echo "# warning: could not stop the Postfix instance" >&2
	[ -z "$tmp" ] || echo "# kept $tmp" >&2
    else
	pf_destroy || echo "# warning: could not tear the Postfix instance down" >&2
	[ -z "$tmp" ] || rm -rf "$tmp"
    fi
    exit "$cleanup_rc"
}
# interrupted SIG STATUS: count it as a failure, summarise, tear down.
# shellcheck disable=SC2317	# invoked from the signal traps
interrupted() {
    trap '' HUP INT TERM
    notok "interrupted by SIG$1"
    echo "e2e-scan: $npass passed, $nfail failed"
    exit "$2"
}
trap cleanup EXIT
trap 'interrupted HUP 129' HUP
trap 'interrupted INT 130' INT
trap 'interrupted TERM 143' TERM
trap 'exit 141' PIPE

# run_ctl ARGS...: the program under test.
run_ctl() {
    if [ "$CTL" = qshape ]; then
	"$QSHAPE" "$@"
    else
	"$CTL" scan "$@"
    fi
}

# ---------------------------------------------------------------------------
# Preconditions.

[ "$(id -u)" = 0 ] || setup_failed "must run as root (private Postfix instance)"
[ -x "$QSHAPE" ] || setup_failed "$QSHAPE not found (Debian package postfix)"
for c in smtp-source smtp-sink postsuper sendmail; do
    command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] ||
	setup_failed "$c not found (Debian package postfix)"
done
if [ "$CTL" != qshape ] && [ ! -x "$CTL" ]; then
    setup_failed "$CTL not found or not executable (make $BUILD/qshapectl)"
fi

tmp=$(mktemp -d /var/tmp/qshape-e2e.XXXXXX) || setup_failed "mktemp"
chmod 0755 "$tmp"

port=${E2E_PORT:-10025}
smtp_port=$(pf_free_port "$port") || setup_failed "no free port"
sink_port=$(pf_free_port $((smtp_port + 1))) || setup_failed "no free port"
# A privileged port nobody listens on: no other test's smtpd can take it
# and receive our "deferred" mail.
dead_port=$(pf_free_port 1) || setup_failed "no free port"

# relayhost = [127.0.0.1]:dead_port, where nothing listens: relayed mail is
# deferred.  Recipients in slow.example and slow2.example go to a slow sink
# instead and stay in the active queue while it takes its time.
pf_init "$tmp/pf" "$smtp_port" "$dead_port" || setup_failed "pf_init"
to_sink="smtp:[127.0.0.1]:$sink_port"
pf_postconf "transport_maps = inline:{ slow.example=$to_sink, slow2.example=$to_sink }" ||
    setup_failed "pf_postconf transport_maps"
pf_start || setup_failed "pf_start"

# src ARGS...: smtp-source into the instance.
src() {
    if ! smtp-source -M client.e2e.test "$@" "127.0.0.1:$smtp_port" \
	    </dev/null >"$tmp/src.out" 2>&1; then
	indent <"$tmp/src.out"
	setup_failed "smtp-source $*"
    fi
}

# sm ARGS...: sendmail(1) into the instance (maildrop, then pickup).
sm() {
    if ! printf 'Subject: e2e\n\nhello\n' |
	    sendmail -C "$PF_ETC" "$@" >"$tmp/sm.out" 2>&1; then
	indent <"$tmp/sm.out"
	setup_failed "sendmail $*"
    fi
}

wait_count() {
    pf_wait_count "$1" "$2" 30 || setup_failed "$1 did not reach $2 messages"
}

# ---------------------------------------------------------------------------
# Fill the queues.  All mail arrives between t0 and t1.

t0=$(date +%s)

# hold: deferred first, then put on hold.
src -m 3 -f alice@a.example.com -t user@dest.example
src -m 2 -r 2 -f news@x.y.example.org -t list@lists.example.net
wait_count deferred 5
postsuper -c "$PF_ETC" -h ALL deferred >"$tmp/postsuper.out" 2>&1 ||
    { indent <"$tmp/postsuper.out"; setup_failed "postsuper -h ALL deferred"; }
wait_count hold 5
wait_count deferred 0

# deferred: nothing listens on the relayhost port.
src -s 2 -m 8 -f bulk@Big.Example.COM -t rcpt@dest.example
src -m 2 -r 3 -f a2@a.example.com -t r@other.example.org
src -m 1 -f '' -t postmaster@dest.example
src -m 4 -f s@b.example.com -t u@mx.example.net
src -m 1 -f c@c.example.com \
    -t u@very-long-subdomain-name-for-truncation.tests.example.com
sm -f carol@d.example.com r1@dest.example r2@other.example.org r3@Dest.Example
wait_count deferred 17

# active: the sink waits 100 s before answering DATA (less than the
# client's smtp_data_init_timeout of 120 s), so deliveries stay in progress.
pf_sink_start "$sink_port" -w 100 || setup_failed "pf_sink_start"
src -s 2 -m 10 -f flood@Spam.Example -t rcpt@slow.example
src -m 2 -f m@a.example.com -t x@slow.example
src -m 1 -r 2 -f z@q.example.org -t y@slow2.example
wait_count active 13
wait_count incoming 0
# With qmgr gone, active mail stays in active (the delivery agents only
# report to qmgr; they lock the file but never write or move it) and new
# mail stays in incoming.
pf_disable_qmgr || setup_failed "pf_disable_qmgr"

# incoming.
src -s 2 -m 6 -f flood@spam.example -t rcpt@dest.example
src -m 3 -r 2 -f b@b.example.com -t o@other.example.org
# Names longer than the name column: "+tail" and ".+tail" rows, except
# with -w 120.
sm -f dave@x.y.example.org a@dest.example b@lists.example.net \
    c@very-long-subdomain-name-for-truncation.tests.example.com \
    d@mx.a-very-long-parent-domain-name-for-truncation.example.net
sm ops@mx.example.net
wait_count maildrop 0
wait_count incoming 11

pf_wait_stable 1 20 || setup_failed "queue does not settle"
t1=$(date +%s)
[ $((t1 - t0)) -le 40 ] ||
    setup_failed "filling the queues took $((t1 - t0)) s; it must fit well in a minute"

# The comparisons below are vacuous unless every queue holds what we put in.
expect_counts() {
    for qc in maildrop=0 incoming=11 active=13 deferred=17 hold=5; do
	q=${qc%=*}
	n=${qc#*=}
	got=$(pf_count "$q")
	if [ "$got" = "$n" ]; then
	    ok "$1$q holds $n messages"
	else
	    notok "$1$q holds $got messages, expected $n"
	fi
    done
}
expect_counts ""
counts_before=$(pf_counts)

# ---------------------------------------------------------------------------
# Compare.

# edge_between LO HI: true when a whole minute E with LO < E <= HI exists.
edge_between() {
    [ "$2" -gt "$1" ] || return 1
    [ $(( ($2 / 60) * 60 )) -gt "$1" ]
}

# A message that arrived at t (t0 <= t <= t1) is age now-t; both programs
# must put it in the same bucket, so no bucket edge (a multiple of 60 s for
# every option set used here) may fall between the first run's start and
# the second run's end.  Wait for a quiet window of BUDGET seconds.
BUDGET=10
wait_edge_clear() {
    _tries=0
    while :; do
	_now=$(date +%s)
	edge_between $((_now - t1)) $((_now + BUDGET - t0)) || return 0
	_tries=$((_tries + 1))
	[ "$_tries" -le 3 ] || return 1
	_e=$(( ((_now - t1) / 60 + 1) * 60 ))
	echo "# waiting $((_e + t1 - _now + 1)) s for every message to pass the ${_e} s bucket edge"
	sleep $((_e + t1 - _now + 1))
    done
}

# check LABEL ARGS...
check() {
    label=$1
    shift
    out=$tmp/out
    attempt=0
    while :; do
	attempt=$((attempt + 1))
	if ! wait_edge_clear; then
	    notok "scan $label (no window clear of bucket edges)"
	    return
	fi
	start=$(date +%s)
	"$QSHAPE" -c "$PF_ETC" "$@" >"$out.qshape" 2>"$out.qshape.err"
	rq=$?
	run_ctl -c "$PF_ETC" "$@" >"$out.ctl" 2>"$out.ctl.err"
	rc=$?
	end=$(date +%s)
	# Both runs saw every message in the same bucket unless an edge was
	# crossed; then (only then) run the pair again.
	if edge_between $((start - t1)) $((end - t0)) && [ "$attempt" -lt 3 ]; then
	    continue
	fi
	break
    done
    if [ "$rq" -ne 0 ]; then
	notok "scan $label (qshape exited $rq)"
	indent <"$out.qshape.err"
	return
    fi
    if [ "$rc" -ne 0 ]; then
	notok "scan $label (qshapectl exited $rc)"
	indent <"$out.ctl.err"
	return
    fi
    if [ "$(sed -n 1p "$out.qshape")" != "$(sed -n 1p "$out.ctl")" ]; then
	why=" (header differs)"
    elif sh "$here/../lib/qshape-compare" "$out.qshape" "$out.ctl" >/dev/null; then
	ok "scan $label"
	return
    else
	why=
    fi
    notok "scan $label$why"
    echo "#   diff -u qshape qshapectl:"
    diff -u "$out.qshape" "$out.ctl" | indent
    if [ -s "$out.ctl.err" ]; then
	echo "#   qshapectl stderr:"
	indent <"$out.ctl.err"
    fi
}

check "(no options)"
check "-s" -s
check "-s deferred" -s deferred
check "deferred" deferred
check "-p -m 1" -p -m 1
check "-b 6 -t 1" -b 6 -t 1
check "-l" -l
check "-w 120" -w 120
check "-s hold" -s hold
check "-s incoming active deferred hold" -s incoming active deferred hold
check "-p -m 1 -s deferred" -p -m 1 -s deferred

if [ "$(pf_counts)" = "$counts_before" ]; then
    ok "queue unchanged during the comparisons"
else
    notok "queue changed during the comparisons: $counts_before -> $(pf_counts)"
fi

finish

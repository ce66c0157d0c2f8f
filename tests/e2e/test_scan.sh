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
# shellcheck source=tests/e2e/e2elib.sh
. "$here/e2elib.sh"

BUILD=${1:-build}
CTL=${QSHAPECTL:-$BUILD/qshapectl}

e2e_begin e2e-scan

# run_ctl ARGS...: the program under test, on the instance.
# shellcheck disable=SC2317	# invoked by e2e_compare
run_ctl() {
    if [ "$CTL" = qshape ]; then
	"$QSHAPE" -c "$PF_ETC" "$@"
    else
	"$CTL" scan -c "$PF_ETC" "$@"
    fi
}

# ---------------------------------------------------------------------------
# Preconditions.

e2e_need_root
[ -x "$QSHAPE" ] || setup_failed "$QSHAPE not found (Debian package postfix)"
e2e_need_cmds smtp-source smtp-sink postsuper sendmail
if [ "$CTL" != qshape ]; then
    e2e_need_progs "make $BUILD/qshapectl" "$CTL"
fi

e2e_mktemp qshape-e2e

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

# ---------------------------------------------------------------------------
# Fill the queues (e2elib.sh): hold, deferred (nothing listens on the
# relayhost port), active (the sink waits 100 s before answering DATA, less
# than the client's smtp_data_init_timeout of 120 s, so deliveries stay in
# progress; then the queue manager stops) and incoming.

e2e_fill_hold
e2e_fill_deferred
e2e_wait_count deferred 17
e2e_fill_active "$sink_port" 100
e2e_fill_incoming
e2e_fill_end

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

# Every bucket edge of the option sets used here is a whole minute (the
# default E2E_EDGE).

# scan_check LABEL ARGS...: qshape -c DIR ARGS vs the program under test.
scan_check() {
    label=$1
    shift
    e2e_compare "scan $label" run_ctl "$@"
}

scan_check "(no options)"
scan_check "-s" -s
scan_check "-s deferred" -s deferred
scan_check "deferred" deferred
scan_check "-p -m 1" -p -m 1
scan_check "-b 6 -t 1" -b 6 -t 1
scan_check "-l" -l
scan_check "-w 120" -w 120
scan_check "-s hold" -s hold
scan_check "-s incoming active deferred hold" -s incoming active deferred hold
scan_check "-p -m 1 -s deferred" -p -m 1 -s deferred

if [ "$(pf_counts)" = "$counts_before" ]; then
    ok "queue unchanged during the comparisons"
else
    notok "queue changed during the comparisons: $counts_before -> $(pf_counts)"
fi

finish

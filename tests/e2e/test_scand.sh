#!/bin/sh
# test_scand.sh BUILD_DIR - end-to-end: qshape-scand on a live Postfix.
#
# Runs a throw-away private Postfix instance (tests/e2e/pflib.sh) and
# BUILD_DIR/qshape-scand -f on its queue, fills the queues with real mail
# while the scanner watches (so the summary is built from inotify events,
# not from the start-up reconcile), then checks:
#
#   (a) "qshapectl shape" prints what /usr/sbin/qshape prints, for several
#       option sets, once the summary has caught up with the queue (status
#       shows the per-queue counts the spool holds);
#   (b) after kill -9 of the scanner, "qshapectl status" says STALE and
#       exits 3 within stale_after + 2 seconds;
#   (c) a restarted scanner makes the summary fresh again (status exits 0,
#       names the new writer pid) and shape agrees with qshape again;
#   (d) a flood of one sender domain in incoming + active is a throttled
#       key in status, with the exact count and total, and the scanner logs
#       "throttle on" for it;
#   (e) 400 mkdir/rmdir cycles of a subdirectory of deferred/ leave the
#       scanner with no more open descriptors than before (each directory
#       it watched is let go).
#
# Tables must be identical except for the order of rows tied on both the T
# count and the name length (tests/lib/qshape-compare).  No comparison
# straddles a bucket edge (as test_scan.sh: whole minutes, counted from the
# summary's publication, which is at most a heartbeat old).
#
# Needs root and Postfix.  Environment:
#   E2E_PORT=N       first TCP port to try (default 10045); three are used.
#   E2E_KEEP=1       keep the instance's directory (maillog, scanner log,
#                    the last outputs compared).
#
# Prints one "ok - ..." / "not ok - ..." line per check and, last,
# "e2e-scand: N passed, M failed".  Exit status 0 only when all passed.

set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/pflib.sh
. "$here/pflib.sh"
# shellcheck source=tests/e2e/e2elib.sh
. "$here/e2elib.sh"

BUILD=${1:-build}
CTL=$BUILD/qshapectl
SCAND=$BUILD/qshape-scand
STALE_AFTER=3

scand_pid=
scand_n=0
scand_log=
shm_name=		# the summary file, in E2E_RUNDIR
conf=

e2e_begin e2e-scand

# scanner_log_tail: after a setup failure, the end of the scanner's log.
# shellcheck disable=SC2317	# invoked by setup_failed
scanner_log_tail() {
    if [ -n "$scand_log" ] && [ -s "$scand_log" ]; then
	echo "#   scanner log (last lines):"
	tail -n 20 "$scand_log" | indent
    fi
}
E2E_DIAG=scanner_log_tail

# scand_stop: SIGTERM our scanner (if it runs), then SIGKILL; reap it.
# shellcheck disable=SC2317	# invoked from the EXIT trap
scand_stop() {
    pf_stop_pid "$scand_pid"
    scand_pid=
}
E2E_TEARDOWN=scand_stop

# ---------------------------------------------------------------------------
# Preconditions.

e2e_need_root
[ -x "$QSHAPE" ] || setup_failed "$QSHAPE not found (Debian package postfix)"
e2e_need_cmds smtp-source smtp-sink postsuper sendmail
e2e_need_progs make "$CTL" "$SCAND"
getent group postfix >/dev/null 2>&1 || setup_failed "no group postfix"

e2e_mktemp qshape-e2e-scand
e2e_rundir
shm_name=$E2E_RUNDIR/summary

port=${E2E_PORT:-10045}
smtp_port=$(pf_free_port "$port") || setup_failed "no free port"
sink_port=$(pf_free_port $((smtp_port + 1))) || setup_failed "no free port"
fast_port=$(pf_free_port $((sink_port + 1))) || setup_failed "no free port"
dead_port=$(pf_free_port 1) || setup_failed "no free port"

# As test_scan.sh: relayed mail is deferred (nothing listens on the
# relayhost port), slow.example and slow2.example go to a slow sink and
# stay in active.  The sink waits 800 s before answering DATA, and the
# client 900 s for that answer (test_scan.sh: 100 s and the default 120
# s), so that no delivery completes while the test runs: a delivery agent
# marks recipients done inside the file (R -> D), which changes what
# qshape counts without any rename.  fast.example goes to a sink that
# answers DATA after 1 s: long enough for the scanner to read the file
# before the delivery marks a recipient done, short enough not to slow
# the test.
pf_init "$tmp/pf" "$smtp_port" "$dead_port" || setup_failed "pf_init"
to_sink="smtp:[127.0.0.1]:$sink_port"
to_fast="smtp:[127.0.0.1]:$fast_port"
pf_postconf "transport_maps = inline:{ slow.example=$to_sink, slow2.example=$to_sink, fast.example=$to_fast }" \
    "smtp_data_init_timeout = 900s" ||
    setup_failed "pf_postconf transport_maps"
pf_start || setup_failed "pf_start"
pf_sink_start "$fast_port" -w 1 || setup_failed "pf_sink_start (fast)"
for q in $PF_QUEUES; do
    [ -d "$PF_SPOOL/$q" ] || setup_failed "Postfix did not create $PF_SPOOL/$q"
done
# deferred/ is hashed (hash_queue_names, one level, by the first character
# of the queue ID).  Postfix makes a subdirectory the first time it needs
# it and leaves it there, so on a server that has run for a while all 16
# exist.  Make them now, as there: a new directory would make the scanner
# reconcile, and a reconcile re-reads every file it did not know, which
# would hide what the scanner's inotify path gets wrong.
for c in 0 1 2 3 4 5 6 7 8 9 A B C D E F; do
    d=$PF_SPOOL/deferred/$c
    [ -d "$d" ] || { mkdir "$d" && chown postfix "$d" && chmod 0700 "$d"; } ||
	setup_failed "mkdir $d"
done

# ---------------------------------------------------------------------------
# The scanner.

conf=$tmp/qshape-milter.conf
cat > "$conf" <<EOF || setup_failed "write $conf"
# written by tests/e2e/test_scand.sh
queue_directory = "$PF_SPOOL";
postfix_config_directory = "$PF_ETC";
summary_file = "$shm_name";
group = "postfix";
stale_after = $STALE_AFTER;
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
EOF

e2e_check_config "$conf" "$conf"

# status_rc: run "qshapectl status"; output in $tmp/status, exit in $st_rc.
status_rc() {
    "$CTL" status --config "$conf" >"$tmp/status" 2>"$tmp/status.err"
    st_rc=$?
}

# scand_start: start the scanner (its log: $scand_log) and wait (bounded)
# for a fresh summary written by it.
scand_start() {
    scand_n=$((scand_n + 1))
    scand_log=$tmp/scand-$scand_n.log
    "$SCAND" -f -C "$conf" </dev/null >"$scand_log" 2>&1 &
    scand_pid=$!
    _dl=$(($(pf_now_ms) + 15000))
    while :; do
	if ! kill -0 "$scand_pid" 2>/dev/null; then
	    wait "$scand_pid" 2>/dev/null
	    scand_pid=
	    return 1
	fi
	status_rc
	if [ "$st_rc" = 0 ] &&
	   grep -q "^summary: fresh, writer pid $scand_pid," "$tmp/status"; then
	    return 0
	fi
	[ "$(pf_now_ms)" -lt "$_dl" ] || return 1
	sleep 0.1
    done
}

scand_start || setup_failed "qshape-scand did not publish a fresh summary"

# ---------------------------------------------------------------------------
# Fill the queues while the scanner watches (e2elib.sh: the mail of
# test_scan.sh), with one more message for deferred.  The active stage's
# sink waits 800 s before answering DATA.  The flood domain (spam.example,
# in two spellings) has 10 messages in active and 6 in incoming.

e2e_fill_hold
e2e_fill_deferred
# Partly delivered: qmgr sends the fast.example recipient to the fast
# sink (after 1 s the delivery agent overwrites its R record with D, in
# place), the dest.example one is deferred, then qmgr renames the file
# from active to deferred.  qshape counts only dest.example for it.
e2e_sm -f part@partial.example a@fast.example b@dest.example
e2e_wait_count deferred 18
e2e_fill_active "$sink_port" 800
e2e_fill_incoming
e2e_fill_end

EXPECT="maildrop=0 incoming=11 active=13 deferred=18 hold=5"
if [ "$(pf_counts)" = "$EXPECT" ]; then
    ok "spool holds $EXPECT"
else
    notok "spool holds $(pf_counts), expected $EXPECT"
fi

# status_counts: the per-queue lines of $tmp/status as "q=N q=N ...", in
# pflib's queue order.
status_counts() {
    _out=
    for _q in $PF_QUEUES; do
	_n=$(awk -v q="$_q" '/^  / && NF == 2 && $1 == q { print $2 }' "$tmp/status")
	_out="$_out${_out:+ }$_q=${_n:-none}"
    done
    echo "$_out"
}

# caught_up LABEL: wait (bounded) until status is fresh and shows the
# spool's per-queue counts and their sum as "messages".
caught_up() {
    _want=$(pf_counts)
    _sum=0
    for _e in $_want; do
	_sum=$((_sum + ${_e#*=}))
    done
    _dl=$(($(pf_now_ms) + 10000))
    while :; do
	status_rc
	_got=$(status_counts)
	if [ "$st_rc" = 0 ] && [ "$_got" = "$_want" ] &&
	   grep -q "^messages: $_sum\$" "$tmp/status"; then
	    ok "$1: summary caught up with the spool ($_want)"
	    return 0
	fi
	if [ "$(pf_now_ms)" -ge "$_dl" ]; then
	    notok "$1: summary shows $_got (status exit $st_rc), spool $_want, after 10 s"
	    indent <"$tmp/status"
	    indent <"$tmp/status.err"
	    return 1
	fi
	sleep 0.1
    done
}

# ---------------------------------------------------------------------------
# Comparisons.

# Every option set below uses the summary's buckets, qshape's default (10
# doubling buckets from 5 minutes): every edge is a multiple of 300 s.
# The summary's ages are those of its last publication, at most a
# heartbeat (1 s) before "shape" runs; qshape reads the clock when it
# starts: the window kept clear of bucket edges starts 2 s early.
E2E_EDGE=300
E2E_LAG=2
E2E_CTL_NAME="qshapectl shape"
E2E_CTL_QUIET=1

# ctl_shape ARGS...: qshapectl shape, from the scanner's summary.
# shellcheck disable=SC2317	# invoked by e2e_compare
ctl_shape() {
    "$CTL" shape --config "$conf" "$@"
}

# shape_check PHASE LABEL ARGS...: qshape -c DIR ARGS vs qshapectl shape ARGS.
shape_check() {
    phase=$1
    label=$2
    shift 2
    e2e_compare "$phase: shape $label" ctl_shape "$@"
}

compare_all() {
    shape_check "$1" "-s" -s
    shape_check "$1" "(no options)"
    shape_check "$1" "-s deferred" -s deferred
    shape_check "$1" "deferred (a partly delivered message among them)" deferred
    shape_check "$1" "-p -m 1" -p -m 1
    shape_check "$1" "-p -m 1 -s deferred" -p -m 1 -s deferred
    shape_check "$1" "-s hold" -s hold
    shape_check "$1" "-w 120 -s incoming active deferred hold" \
	-w 120 -s incoming active deferred hold
    shape_check "$1" "-s incoming active deferred hold" -s incoming active deferred hold
}

# flood_check PHASE: spam.example has 10 messages in active and 6 in
# incoming, of 24 there: throttled, with exactly that count and total.
FLOOD="policy=flood key=sender_domain:spam.example action=hold count=16 total=24"
flood_check() {
    status_rc
    if [ "$st_rc" = 0 ] && grep -q "^  $FLOOD " "$tmp/status" &&
       grep -q '^throttled: 1$' "$tmp/status"; then
	ok "$1: status lists the one throttled key: $FLOOD"
    else
	notok "$1: status does not list exactly one throttled key $FLOOD (exit $st_rc)"
	indent <"$tmp/status"
    fi
    # Its count may have been lower when it entered the state.
    if grep -q "throttle on: policy=flood key=sender_domain:spam.example count=" \
	    "$scand_log"; then
	ok "$1: scanner logged throttle on for spam.example"
    else
	notok "$1: no 'throttle on: policy=flood key=sender_domain:spam.example' in the scanner log"
	tail -n 20 "$scand_log" | indent
    fi
}

# (a) and (d), from the events the scanner followed while mail arrived.
caught_up "live"
compare_all "live"
flood_check "live"

# (b) kill -9: the heartbeat stops; within stale_after + 2 s status must
# say STALE and exit 3.
old_pid=$scand_pid
status_rc
if [ "$st_rc" = 0 ]; then
    ok "before kill -9: status exits 0 (fresh)"
else
    notok "before kill -9: status exits $st_rc, expected 0"
    indent <"$tmp/status"
fi
kill -KILL "$scand_pid" 2>/dev/null
wait "$scand_pid" 2>/dev/null
scand_pid=
killed=$(pf_now_ms)
limit=$(( (STALE_AFTER + 2) * 1000 ))
while :; do
    status_rc
    el=$(( $(pf_now_ms) - killed ))
    [ "$st_rc" = 0 ] || break
    [ "$el" -lt "$limit" ] || break
    sleep 0.1
done
if [ "$st_rc" = 3 ] && [ "$el" -le "$limit" ] &&
   grep -q "^summary: STALE, writer pid $old_pid," "$tmp/status"; then
    ok "after kill -9: status says STALE and exits 3 after $el ms (limit $limit)"
else
    notok "after kill -9: status exit $st_rc after $el ms (want 3 and STALE within $limit ms)"
    indent <"$tmp/status"
    indent <"$tmp/status.err"
fi
# It stays stale, and the summary is still readable.
sleep 0.5
status_rc
if [ "$st_rc" = 3 ] && grep -q '^summary: STALE' "$tmp/status"; then
    ok "after kill -9: status still STALE, exit 3"
else
    notok "after kill -9: status exit $st_rc, expected 3 and STALE"
    indent <"$tmp/status"
fi

# (c) restart: fresh again, written by the new process, and right.
if scand_start; then
    ok "restart: status exits 0, fresh, writer pid $scand_pid"
else
    notok "restart: no fresh summary from a restarted qshape-scand"
    indent <"$tmp/status"
    tail -n 20 "$scand_log" | indent
    finish
fi
caught_up "restart"
compare_all "restart"
flood_check "restart"

if [ "$(pf_counts)" = "$EXPECT" ]; then
    ok "spool unchanged during the checks"
else
    notok "spool changed during the checks: $EXPECT -> $(pf_counts)"
fi

# More renames and deletions, followed by the restarted scanner: release
# the hold queue into deferred (postsuper -H), then delete all of deferred.
if postsuper -c "$PF_ETC" -H ALL hold >"$tmp/postsuper.out" 2>&1 &&
   pf_wait_count hold 0 10 && pf_wait_count deferred 23 10; then
    caught_up "released"
    shape_check "released" "-s deferred" -s deferred
    shape_check "released" "deferred" deferred
else
    indent <"$tmp/postsuper.out"
    notok "released: postsuper -H ALL hold did not move 5 messages to deferred ($(pf_counts))"
fi
if postsuper -c "$PF_ETC" -d ALL deferred >"$tmp/postsuper.out" 2>&1 &&
   pf_wait_count deferred 0 10; then
    caught_up "deleted"
    shape_check "deleted" "-s incoming active deferred hold" -s incoming active deferred hold
    flood_check "deleted"
else
    indent <"$tmp/postsuper.out"
    notok "deleted: postsuper -d ALL deferred left $(pf_counts)"
fi

# (e) Directories made and removed under a watched queue directory.  The
# name starts with a dot, which Postfix's queue scans skip (a one-letter
# name would be a hash directory to qmgr); the scanner watches every new
# directory.  Half the cycles wait a little, so that the scanner watches
# (opens) the directory before it goes.
scand_fds() {
    ls "/proc/$scand_pid/fd" 2>/dev/null | wc -l
}
fd_before=$(scand_fds)
sub=$PF_SPOOL/deferred/.qshape-e2e
# i: the cycles done (one process: a mkdir and an rmdir each, not two)
i=$(perl -MTime::HiRes=sleep -e '
    my ($sub, $i) = ($ARGV[0], 0);
    while ($i < 400) {
	mkdir($sub, 0755) or last;
	sleep(0.005) if $i % 2;
	rmdir($sub) or last;
	$i++;
    }
    print "$i\n";' "$sub")
caught_up "mkdir/rmdir"
sleep 0.5
fd_after=$(scand_fds)
if [ "$i" = 400 ] && [ "$fd_after" -gt 0 ] &&
   [ "$fd_after" -le "$fd_before" ]; then
    ok "400 mkdir/rmdir cycles: scanner holds $fd_after descriptors (before: $fd_before)"
else
    notok "after $i mkdir/rmdir cycles the scanner holds $fd_after descriptors, before $fd_before"
fi

# The one warning (e) may cause: a reconcile listing the directory as it
# was removed (getdents fails with ENOENT; qwalk counts it as not read).
# Postfix never removes a queue directory.
fe_gone='queue directories not read (first: deferred/\.qshape-e2e: No such file or directory)'
for f in "$tmp"/scand-*.log; do
    # No log (the glob matched nothing) is not "no warnings".
    if [ ! -f "$f" ] || [ ! -r "$f" ]; then
	notok "scanner log $(basename "$f") is missing"
    elif grep -E 'warning|fatal|panic' "$f" | grep -q -v "$fe_gone"; then
	notok "scanner log $(basename "$f") has warnings"
	grep -E 'warning|fatal|panic' "$f" | grep -v "$fe_gone" | head -20 |
	    indent
    else
	ok "scanner log $(basename "$f") has no warnings"
    fi
done
# The scanner ends cleanly on SIGTERM.
kill -TERM "$scand_pid" 2>/dev/null
i=0
while kill -0 "$scand_pid" 2>/dev/null && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
if kill -0 "$scand_pid" 2>/dev/null; then
    notok "qshape-scand still runs 5 s after SIGTERM"
else
    wait "$scand_pid"
    rc=$?
    scand_pid=
    if [ "$rc" = 0 ]; then
	ok "qshape-scand exits 0 on SIGTERM"
    else
	notok "qshape-scand exits $rc on SIGTERM"
    fi
fi

finish

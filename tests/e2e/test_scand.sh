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
#       "throttle on" for it.
#
# Tables must be identical except for the order of rows tied on both the T
# count and the name length (tests/lib/qshape-compare).  No comparison
# straddles a bucket edge (as test_scan.sh: whole minutes, counted from the
# summary's publication, which is at most a heartbeat old).
#
# Needs root and Postfix.  Environment:
#   E2E_PORT=N       first TCP port to try (default 10045); two are used.
#   E2E_KEEP=1       keep the instance's directory (maillog, scanner log,
#                    the last outputs compared).
#
# Prints one "ok - ..." / "not ok - ..." line per check and, last,
# "e2e-scand: N passed, M failed".  Exit status 0 only when all passed.

set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/pflib.sh
. "$here/pflib.sh"

QSHAPE=/usr/sbin/qshape
BUILD=${1:-build}
CTL=$BUILD/qshapectl
SCAND=$BUILD/qshape-scand
STALE_AFTER=3

npass=0
nfail=0
tmp=
t0=
t1=
scand_pid=
scand_n=0
scand_log=
shm_name=/qshape-e2e-$$
conf=

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
    echo "e2e-scand: $npass passed, $nfail failed"
    [ "$nfail" -eq 0 ]
    exit
}

setup_failed() {
    notok "setup: $*"
    if [ -n "$scand_log" ] && [ -s "$scand_log" ]; then
	echo "#   scanner log (last lines):"
	tail -n 20 "$scand_log" | indent
    fi
    finish
}

# scand_stop: SIGTERM our scanner (if it runs), then SIGKILL; reap it.
# shellcheck disable=SC2317	# invoked from the EXIT trap
scand_stop() {
    [ -n "$scand_pid" ] || return 0
    if kill -0 "$scand_pid" 2>/dev/null; then
	kill -TERM "$scand_pid" 2>/dev/null || :
	_i=0
	while kill -0 "$scand_pid" 2>/dev/null && [ "$_i" -lt 50 ]; do
	    sleep 0.1
	    _i=$((_i + 1))
	done
	kill -KILL "$scand_pid" 2>/dev/null || :
    fi
    wait "$scand_pid" 2>/dev/null || :
    scand_pid=
}

# shellcheck disable=SC2317	# invoked from the EXIT trap
cleanup() {
    cleanup_rc=$?
    trap - EXIT INT TERM HUP
    trap '' PIPE	# stdout may be gone (| head); tear down all the same
    scand_stop
    rm -f "/dev/shm$shm_name" /dev/shm"$shm_name".tmp.* 2>/dev/null
    if [ -n "${E2E_KEEP:-}" ]; then
	pf_destroy keep || echo "# warning: could not stop the Postfix instance" >&2
	[ -z "$tmp" ] || echo "# kept $tmp" >&2
    else
	pf_destroy || echo "# warning: could not tear the Postfix instance down" >&2
	[ -z "$tmp" ] || rm -rf "$tmp"
    fi
    exit "$cleanup_rc"
}
# shellcheck disable=SC2317	# invoked from the signal traps
interrupted() {
    trap '' HUP INT TERM
    notok "interrupted by SIG$1"
    echo "e2e-scand: $npass passed, $nfail failed"
    exit "$2"
}
trap cleanup EXIT
trap 'interrupted HUP 129' HUP
trap 'interrupted INT 130' INT
trap 'interrupted TERM 143' TERM
trap 'exit 141' PIPE

now_ms() {
    date +%s%3N
}

# ---------------------------------------------------------------------------
# Preconditions.

[ "$(id -u)" = 0 ] || setup_failed "must run as root (private Postfix instance)"
[ -x "$QSHAPE" ] || setup_failed "$QSHAPE not found (Debian package postfix)"
for c in smtp-source smtp-sink postsuper sendmail; do
    command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] ||
	setup_failed "$c not found (Debian package postfix)"
done
for p in "$CTL" "$SCAND"; do
    [ -x "$p" ] || setup_failed "$p not found or not executable (make)"
done
getent group postfix >/dev/null 2>&1 || setup_failed "no group postfix"

tmp=$(mktemp -d /var/tmp/qshape-e2e-scand.XXXXXX) || setup_failed "mktemp"
chmod 0755 "$tmp"

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
summary_name = "$shm_name";
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

if ! "$CTL" check-config -f "$conf" >"$tmp/check.out" 2>&1; then
    indent <"$tmp/check.out"
    setup_failed "qshapectl check-config rejects $conf"
fi

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
    "$SCAND" -f -c "$conf" </dev/null >"$scand_log" 2>&1 &
    scand_pid=$!
    _dl=$(($(now_ms) + 15000))
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
	[ "$(now_ms)" -lt "$_dl" ] || return 1
	sleep 0.1
    done
}

scand_start || setup_failed "qshape-scand did not publish a fresh summary"

# ---------------------------------------------------------------------------
# Fill the queues while the scanner watches.  All mail arrives between t0
# and t1.  (The same mail as test_scan.sh.)

src() {
    if ! smtp-source -M client.e2e.test "$@" "127.0.0.1:$smtp_port" \
	    </dev/null >"$tmp/src.out" 2>&1; then
	indent <"$tmp/src.out"
	setup_failed "smtp-source $*"
    fi
}

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

t0=$(date +%s)

# hold: deferred first, then put on hold.
src -m 3 -f alice@a.example.com -t user@dest.example
src -m 2 -r 2 -f news@x.y.example.org -t list@lists.example.net
wait_count deferred 5
postsuper -c "$PF_ETC" -h ALL deferred >"$tmp/postsuper.out" 2>&1 ||
    { indent <"$tmp/postsuper.out"; setup_failed "postsuper -h ALL deferred"; }
wait_count hold 5
wait_count deferred 0

# deferred.
src -s 2 -m 8 -f bulk@Big.Example.COM -t rcpt@dest.example
src -m 2 -r 3 -f a2@a.example.com -t r@other.example.org
src -m 1 -f '' -t postmaster@dest.example
src -m 4 -f s@b.example.com -t u@mx.example.net
src -m 1 -f c@c.example.com \
    -t u@very-long-subdomain-name-for-truncation.tests.example.com
sm -f carol@d.example.com r1@dest.example r2@other.example.org r3@Dest.Example
# Partly delivered: qmgr sends the fast.example recipient to the fast
# sink (after 1 s the delivery agent overwrites its R record with D, in
# place), the dest.example one is deferred, then qmgr renames the file
# from active to deferred.  qshape counts only dest.example for it.
sm -f part@partial.example a@fast.example b@dest.example
wait_count deferred 18

# active: the sink waits 100 s before answering DATA.  The flood domain
# (spam.example, in two spellings) starts here.
pf_sink_start "$sink_port" -w 800 || setup_failed "pf_sink_start"
src -s 2 -m 10 -f flood@Spam.Example -t rcpt@slow.example
src -m 2 -f m@a.example.com -t x@slow.example
src -m 1 -r 2 -f z@q.example.org -t y@slow2.example
wait_count active 13
wait_count incoming 0
pf_disable_qmgr || setup_failed "pf_disable_qmgr"

# incoming.
src -s 2 -m 6 -f flood@spam.example -t rcpt@dest.example
src -m 3 -r 2 -f b@b.example.com -t o@other.example.org
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
    _dl=$(($(now_ms) + 10000))
    while :; do
	status_rc
	_got=$(status_counts)
	if [ "$st_rc" = 0 ] && [ "$_got" = "$_want" ] &&
	   grep -q "^messages: $_sum\$" "$tmp/status"; then
	    ok "$1: summary caught up with the spool ($_want)"
	    return 0
	fi
	if [ "$(now_ms)" -ge "$_dl" ]; then
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
EDGE=300

# edge_between LO HI: true when a multiple E of EDGE with LO < E <= HI
# exists.
edge_between() {
    [ "$2" -gt "$1" ] || return 1
    [ $(( ($2 / EDGE) * EDGE )) -gt "$1" ]
}

# The summary's ages are those of its last publication, at most a
# heartbeat (1 s) before "shape" runs; qshape reads the clock when it
# starts.  So the window to keep clear of bucket edges starts LAG seconds
# before the pair runs and lasts BUDGET seconds.
BUDGET=10
LAG=2
wait_edge_clear() {
    _tries=0
    while :; do
	_now=$(date +%s)
	_lo=$((_now - LAG - t1))
	[ "$_lo" -ge 0 ] || _lo=0	# no message is younger than 0 s
	edge_between "$_lo" $((_now + BUDGET - t0)) || return 0
	_tries=$((_tries + 1))
	[ "$_tries" -le 3 ] || return 1
	_e=$(( ((_now - LAG - t1) / EDGE + 1) * EDGE ))
	_s=$((_e + t1 + LAG - _now + 1))
	echo "# waiting $_s s for every message to pass the ${_e} s bucket edge"
	sleep "$_s"
    done
}

# check PHASE LABEL ARGS...: qshape -c DIR ARGS vs qshapectl shape ARGS.
check() {
    phase=$1
    label=$2
    shift 2
    out=$tmp/out
    attempt=0
    while :; do
	attempt=$((attempt + 1))
	if ! wait_edge_clear; then
	    notok "$phase: shape $label (no window clear of bucket edges)"
	    return
	fi
	start=$(date +%s)
	"$QSHAPE" -c "$PF_ETC" "$@" >"$out.qshape" 2>"$out.qshape.err"
	rq=$?
	"$CTL" shape --config "$conf" "$@" >"$out.ctl" 2>"$out.ctl.err"
	rc=$?
	end=$(date +%s)
	lo=$((start - LAG - t1))
	[ "$lo" -ge 0 ] || lo=0
	if edge_between "$lo" $((end - t0)) && [ "$attempt" -lt 3 ]; then
	    continue
	fi
	break
    done
    if [ "$rq" -ne 0 ]; then
	notok "$phase: shape $label (qshape exited $rq)"
	indent <"$out.qshape.err"
	return
    fi
    if [ "$rc" -ne 0 ]; then
	notok "$phase: shape $label (qshapectl shape exited $rc)"
	indent <"$out.ctl.err"
	return
    fi
    if [ "$(sed -n 1p "$out.qshape")" != "$(sed -n 1p "$out.ctl")" ]; then
	why=" (header differs)"
    elif sh "$here/../lib/qshape-compare" "$out.qshape" "$out.ctl" >/dev/null; then
	if [ -s "$out.ctl.err" ]; then
	    notok "$phase: shape $label (same table, but qshapectl warned)"
	    indent <"$out.ctl.err"
	else
	    ok "$phase: shape $label"
	fi
	return
    else
	why=
    fi
    notok "$phase: shape $label$why"
    echo "#   diff -u qshape qshapectl-shape:"
    diff -u "$out.qshape" "$out.ctl" | indent
    if [ -s "$out.ctl.err" ]; then
	echo "#   qshapectl stderr:"
	indent <"$out.ctl.err"
    fi
}

compare_all() {
    check "$1" "-s" -s
    check "$1" "(no options)"
    check "$1" "-s deferred" -s deferred
    check "$1" "deferred (a partly delivered message among them)" deferred
    check "$1" "-p -m 1" -p -m 1
    check "$1" "-p -m 1 -s deferred" -p -m 1 -s deferred
    check "$1" "-s hold" -s hold
    check "$1" "-w 120 -s incoming active deferred hold" \
	-w 120 -s incoming active deferred hold
    check "$1" "-s incoming active deferred hold" -s incoming active deferred hold
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
killed=$(now_ms)
limit=$(( (STALE_AFTER + 2) * 1000 ))
while :; do
    status_rc
    el=$(( $(now_ms) - killed ))
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
    check "released" "-s deferred" -s deferred
    check "released" "deferred" deferred
else
    indent <"$tmp/postsuper.out"
    notok "released: postsuper -H ALL hold did not move 5 messages to deferred ($(pf_counts))"
fi
if postsuper -c "$PF_ETC" -d ALL deferred >"$tmp/postsuper.out" 2>&1 &&
   pf_wait_count deferred 0 10; then
    caught_up "deleted"
    check "deleted" "-s incoming active deferred hold" -s incoming active deferred hold
    flood_check "deleted"
else
    indent <"$tmp/postsuper.out"
    notok "deleted: postsuper -d ALL deferred left $(pf_counts)"
fi

for f in "$tmp"/scand-*.log; do
    if grep -q -E 'warning|fatal|panic' "$f"; then
	notok "scanner log $(basename "$f") has warnings"
	grep -E 'warning|fatal|panic' "$f" | head -20 | indent
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

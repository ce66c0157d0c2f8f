# e2elib.sh - what the end-to-end tests share: counting and reporting
# checks, set-up and tear-down, the test mail of the qshape comparisons, and
# the comparison of /usr/sbin/qshape with the program under test.
#
# POSIX sh library, sourced after pflib.sh (it uses pf_* and PF_*):
#
#     here=$(cd "$(dirname "$0")" && pwd)
#     . "$here/pflib.sh"
#     . "$here/e2elib.sh"
#     e2e_begin e2e-NAME
#
# $here must name tests/e2e (qshape-compare is ../lib/qshape-compare).
#
# Reporting:
#   e2e_begin NAME          zero the counters, install the traps (EXIT: tear
#                           down; HUP, INT, TERM: count a failure, summary,
#                           exit 128+N); the summary line is
#                           "NAME: N passed, M failed"
#   ok MSG / notok MSG      print "ok - MSG" / "not ok - MSG" and count it
#   check STATUS MSG        ok MSG when STATUS (a command's $?) is 0, else
#                           notok MSG
#   note TEXT               print "# TEXT"
#   indent                  filter: diagnostics, each line as "#   LINE"
#   e2e_abs PATH            PATH made absolute (the build directory)
#   e2e_daemon_logs         an E2E_DIAG: the end of $tmp/scand.log,
#                           $tmp/milter.log and the maillog
#   finish                  print the summary line and exit: 0 when nothing
#                           failed, else 1
#   setup_failed MSG        notok "setup: MSG", run $E2E_DIAG, finish
#
# Set by the test, used by the library:
#   tmp                     the test's directory (e2e_mktemp): removed at
#                           exit, or kept (and named) with E2E_KEEP=1
#   E2E_DIAG=FUNC           run by setup_failed after its "not ok" line
#                           (e.g. the tail of a daemon's log)
#   E2E_TEARDOWN=FUNC       run at exit before the instance is destroyed
#                           (e.g. stop the daemons under test)
#
# Set-up (each one ends the test with setup_failed when it fails):
#   e2e_need_root           run as root
#   e2e_need_cmds CMD...    Postfix's commands, on PATH or in /usr/sbin
#   e2e_need_progs HINT PROG...  executables (HINT: how to build them)
#   e2e_mktemp PREFIX       tmp=/var/tmp/PREFIX.XXXXXX, mode 0755
#   e2e_rundir              E2E_RUNDIR=/run/qshape-e2e.XXXXXX, a directory
#                           for the summary (qshape-scand makes it its
#                           own; its parent /run is root's, as shm.h
#                           wants), removed at exit
#   e2e_check_config CONF WHAT  "$CTL check-config -C CONF" accepts CONF
#
# Test mail (test_scan.sh, test_scand.sh), into an instance whose relayhost
# nobody listens on and whose slow.example and slow2.example go to a sink:
#   e2e_src ARGS... / e2e_sm ARGS...  smtp-source / sendmail(1) into it
#   e2e_wait_count QUEUE N  until QUEUE holds N messages (30 s at most)
#   e2e_fill_hold           5 messages in hold; sets e2e_t0, the start
#   e2e_fill_deferred       17 more messages for deferred (the caller
#                           waits for them, after adding its own)
#   e2e_fill_active PORT SECS  a sink on PORT waiting SECS before DATA,
#                           13 messages in active, then no queue manager
#   e2e_fill_incoming       11 messages in incoming
#   e2e_fill_end            the queue settles; sets e2e_t1, the end
#
# Comparison with qshape (bucket edges: multiples of E2E_EDGE seconds):
#   e2e_edge_between LO HI  a bucket edge E with LO < E <= HI exists
#   e2e_wait_edge_clear     wait for a window clear of bucket edges
#   e2e_compare LABEL CTL ARGS...  qshape ARGS vs CTL ARGS: "ok - LABEL"
#                           or "not ok - LABEL ..." with the diff
# Settings, which the test may change after sourcing:
#   QSHAPE=/usr/sbin/qshape  E2E_EDGE=60  E2E_BUDGET=10 (seconds the pair
#   may take)  E2E_LAG=0 (how old CTL's idea of "now" may be)
#   E2E_CTL_NAME=qshapectl (CTL, in messages)  E2E_CTL_QUIET= (non-empty:
#   CTL's stderr must be empty too)
#
# Functions' own variables start with "_" (the tests' do not).

: "${here:?e2elib.sh: set here to the tests/e2e directory first}"

QSHAPE=/usr/sbin/qshape
E2E_QSHAPE_COMPARE=$here/../lib/qshape-compare

E2E_NAME=e2e
E2E_NPASS=0
E2E_NFAIL=0
E2E_DIAG=
E2E_TEARDOWN=
E2E_RUNDIR=
tmp=

# ---------------------------------------------------------------------------
# Reporting.

# ok MSG: one passed check.
ok() {
    E2E_NPASS=$((E2E_NPASS + 1))
    echo "ok - $*"
}

# notok MSG: one failed check.
notok() {
    E2E_NFAIL=$((E2E_NFAIL + 1))
    echo "not ok - $*"
}

# check STATUS MSG: ok MSG when STATUS (a command's $?) is 0, else notok.
check() {
    if [ "$1" -eq 0 ]; then ok "$2"; else notok "$2"; fi
}

# note TEXT: one diagnostic line.
note() {
    echo "# $*"
}

# indent: copy stdin to stdout as diagnostics ("#   " before each line).
indent() {
    sed 's/^/#   /'
}

# e2e_abs PATH: PATH made absolute (against the current directory).
e2e_abs() {
    case $1 in
    /*) echo "$1" ;;
    *) echo "$(pwd)/$1" ;;
    esac
}

# e2e_daemon_logs: for E2E_DIAG, the last lines of $tmp/scand.log and
# $tmp/milter.log, and of the maillog.
# shellcheck disable=SC2317	# invoked by setup_failed
e2e_daemon_logs() {
    for _f in scand milter; do
	if [ -n "$tmp" ] && [ -s "$tmp/$_f.log" ]; then
	    echo "#   last lines of the $_f log:"
	    tail -n 5 "$tmp/$_f.log" | indent
	fi
    done
    pf_maillog_tail 10
}

# e2e_summary: the last line, "NAME: N passed, M failed".
e2e_summary() {
    echo "$E2E_NAME: $E2E_NPASS passed, $E2E_NFAIL failed"
}

# finish: the summary line, then exit 0 when every check passed, else 1.
finish() {
    e2e_summary
    [ "$E2E_NFAIL" -eq 0 ]
    exit
}

# setup_failed MSG: the test cannot go on; a failure, then finish.
setup_failed() {
    notok "setup: $*"
    [ -z "$E2E_DIAG" ] || "$E2E_DIAG"
    finish
}

# e2e_cleanup: the EXIT trap.  Runs $E2E_TEARDOWN, removes $E2E_RUNDIR, destroys the instance and removes $tmp (E2E_KEEP=1: stops the
# instance and keeps both); exits with the status the test exited with.
# shellcheck disable=SC2317	# invoked from the EXIT trap
e2e_cleanup() {
    _cleanup_rc=$?
    trap - EXIT INT TERM HUP
    trap '' PIPE	# stdout may be gone (| head); tear down all the same
    [ -z "$E2E_TEARDOWN" ] || "$E2E_TEARDOWN"
    [ -z "$E2E_RUNDIR" ] || rm -rf "$E2E_RUNDIR"
    if [ -n "${E2E_KEEP:-}" ]; then
	pf_destroy keep || echo "# warning: could not stop the Postfix instance" >&2
	[ -z "$tmp" ] || echo "# kept $tmp" >&2
    else
	pf_destroy || echo "# warning: could not tear the Postfix instance down" >&2
	[ -z "$tmp" ] || rm -rf "$tmp"
    fi
    exit "$_cleanup_rc"
}

# e2e_interrupted SIG STATUS: the signal traps.  Counts a failure, prints
# the summary line and exits STATUS (the EXIT trap then tears down).
# shellcheck disable=SC2317	# invoked from the signal traps
e2e_interrupted() {
    trap '' HUP INT TERM
    notok "interrupted by SIG$1"
    e2e_summary
    exit "$2"
}

# e2e_begin NAME: start counting; NAME starts the summary line.  Installs
# the traps: EXIT tears down, HUP/INT/TERM are a failure, SIGPIPE exits 141.
e2e_begin() {
    E2E_NAME=$1
    E2E_NPASS=0
    E2E_NFAIL=0
    trap e2e_cleanup EXIT
    trap 'e2e_interrupted HUP 129' HUP
    trap 'e2e_interrupted INT 130' INT
    trap 'e2e_interrupted TERM 143' TERM
    trap 'exit 141' PIPE
}

# ---------------------------------------------------------------------------
# Set-up.

# e2e_need_root: a private instance needs root.
e2e_need_root() {
    [ "$(id -u)" = 0 ] || setup_failed "must run as root (private Postfix instance)"
}

# e2e_need_cmds CMD...: each of Postfix's commands CMD on PATH or in
# /usr/sbin.
e2e_need_cmds() {
    for _c in "$@"; do
	command -v "$_c" >/dev/null 2>&1 || [ -x "/usr/sbin/$_c" ] ||
	    setup_failed "$_c not found (Debian package postfix)"
    done
}

# e2e_need_progs HINT PROG...: each PROG executable; HINT says how to get
# it ("make").
e2e_need_progs() {
    _hint=$1
    shift
    for _p in "$@"; do
	[ -x "$_p" ] || setup_failed "$_p not found or not executable ($_hint)"
    done
}

# e2e_mktemp PREFIX: make the test's directory, tmp=/var/tmp/PREFIX.XXXXXX,
# readable by the postfix user (mode 0755).
e2e_mktemp() {
    tmp=$(mktemp -d "/var/tmp/$1.XXXXXX") || setup_failed "mktemp"
    chmod 0755 "$tmp"
}

e2e_rundir() {
    E2E_RUNDIR=$(mktemp -d /run/qshape-e2e.XXXXXX) ||
	setup_failed "mktemp -d /run/qshape-e2e.XXXXXX"
}

# e2e_smtp OUT PORT ARG...: one SMTP session to 127.0.0.1:PORT, one
# message per ARG, sent as "MAIL FROM:ARG" as it is (brackets included or
# not: the tests need both), to one recipient.  OUT gets "ARG<TAB>REPLY"
# per message: MAIL's reply when it was refused, else the reply to the end
# of data.
e2e_smtp() {
    _out=$1
    _port=$2
    shift 2
    perl -e '
	use strict;
	use IO::Socket::INET;
	my ($port, @senders) = @ARGV;
	$SIG{ALRM} = sub { die "timeout\n" };
	alarm 30;
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
	    PeerPort => $port, Proto => "tcp") or die "connect: $!\n";
	sub reply {
	    my $last;
	    while (defined(my $l = <$s>)) {
		$l =~ s/\r?\n$//;
		$last = $l;
		last if $l =~ /^\d{3} /;
	    }
	    die "connection closed\n" unless defined $last;
	    return $last;
	}
	sub cmd { print $s "$_[0]\r\n"; return reply(); }
	reply();
	cmd("EHLO e2e.test");
	for my $from (@senders) {
	    my $r = cmd("MAIL FROM:$from");
	    if ($r =~ /^250/) {
		cmd("RCPT TO:<rcpt\@dest.example>") =~ /^250/ or die "RCPT\n";
		cmd("DATA") =~ /^354/ or die "DATA\n";
		$r = cmd("Subject: e2e\r\n\r\nhello\r\n.");
	    } else {
		cmd("RSET");
	    }
	    print "$from\t$r\n";
	}
	cmd("QUIT");
    ' "$_port" "$@" >"$_out" 2>&1 ||
	{ indent <"$_out"; setup_failed "SMTP session (perl)"; }
}

# e2e_check_config CONF WHAT: "$CTL check-config -C CONF" accepts CONF
# (WHAT names it in the failure).
e2e_check_config() {
    if ! "$CTL" check-config -C "$1" >"$tmp/check.out" 2>&1; then
	indent <"$tmp/check.out"
	setup_failed "qshapectl check-config rejects $2"
    fi
}

# e2e_wait_milter PID PORT: the milter PID listens on 127.0.0.1:PORT within
# 10 s, or the setup fails (at once when PID exits).
e2e_wait_milter() {
    _dl=$(($(pf_now_ms) + 10000))
    until pf_port_busy "$2"; do
	kill -0 "$1" 2>/dev/null || setup_failed "qshape-milter exited"
	[ "$(pf_now_ms)" -lt "$_dl" ] ||
	    setup_failed "qshape-milter does not listen on 127.0.0.1:$2"
	sleep 0.05
    done
}

# ---------------------------------------------------------------------------
# Test mail for the qshape comparisons.  All of it arrives between e2e_t0
# and e2e_t1.

e2e_t0=
e2e_t1=

# e2e_src ARGS...: smtp-source ARGS into the instance (its SMTP port).
e2e_src() {
    if ! smtp-source -M client.e2e.test "$@" "127.0.0.1:$PF_SMTPPORT" \
	    </dev/null >"$tmp/src.out" 2>&1; then
	indent <"$tmp/src.out"
	setup_failed "smtp-source $*"
    fi
}

# e2e_sm ARGS...: one message through sendmail(1) ARGS (maildrop, pickup).
e2e_sm() {
    if ! printf 'Subject: e2e\n\nhello\n' |
	    sendmail -C "$PF_ETC" "$@" >"$tmp/sm.out" 2>&1; then
	indent <"$tmp/sm.out"
	setup_failed "sendmail $*"
    fi
}

# e2e_wait_count QUEUE N: wait (30 s at most) until QUEUE holds N messages.
e2e_wait_count() {
    pf_wait_count "$1" "$2" 30 || setup_failed "$1 did not reach $2 messages"
}

# e2e_fill_hold: notes the start (e2e_t0), then 5 messages that are
# deferred (nothing listens on the relayhost) and put on hold.
e2e_fill_hold() {
    e2e_t0=$(date +%s)
    e2e_src -m 3 -f alice@a.example.com -t user@dest.example
    e2e_src -m 2 -r 2 -f news@x.y.example.org -t list@lists.example.net
    e2e_wait_count deferred 5
    postsuper -c "$PF_ETC" -h ALL deferred >"$tmp/postsuper.out" 2>&1 ||
	{ indent <"$tmp/postsuper.out"; setup_failed "postsuper -h ALL deferred"; }
    e2e_wait_count hold 5
    e2e_wait_count deferred 0
}

# e2e_fill_deferred: 17 messages for deferred, from several domains, one
# with a null sender, one through sendmail(1) with three recipients.  Does
# not wait for them: the caller may add its own, then waits.
e2e_fill_deferred() {
    e2e_src -s 2 -m 8 -f bulk@Big.Example.COM -t rcpt@dest.example
    e2e_src -m 2 -r 3 -f a2@a.example.com -t r@other.example.org
    e2e_src -m 1 -f '' -t postmaster@dest.example
    e2e_src -m 4 -f s@b.example.com -t u@mx.example.net
    e2e_src -m 1 -f c@c.example.com \
	-t u@very-long-subdomain-name-for-truncation.tests.example.com
    e2e_sm -f carol@d.example.com r1@dest.example r2@other.example.org r3@Dest.Example
}

# e2e_fill_active PORT SECS: a sink on PORT that waits SECS seconds before
# answering DATA (keep it below the client's smtp_data_init_timeout), so
# deliveries stay in progress; 13 messages to slow.example and
# slow2.example (10 of them from flood@Spam.Example) in active.  Then stops
# the queue manager: active mail stays in active (the delivery agents only
# report to qmgr; they lock the file but never write or move it) and new
# mail stays in incoming.
e2e_fill_active() {
    pf_sink_start "$1" -w "$2" || setup_failed "pf_sink_start"
    e2e_src -s 2 -m 10 -f flood@Spam.Example -t rcpt@slow.example
    e2e_src -m 2 -f m@a.example.com -t x@slow.example
    e2e_src -m 1 -r 2 -f z@q.example.org -t y@slow2.example
    e2e_wait_count active 13
    e2e_wait_count incoming 0
    pf_disable_qmgr || setup_failed "pf_disable_qmgr"
}

# e2e_fill_incoming: 11 messages in incoming (6 from flood@spam.example);
# names longer than qshape's name column ("+tail" and ".+tail" rows, except
# with -w 120).
e2e_fill_incoming() {
    e2e_src -s 2 -m 6 -f flood@spam.example -t rcpt@dest.example
    e2e_src -m 3 -r 2 -f b@b.example.com -t o@other.example.org
    e2e_sm -f dave@x.y.example.org a@dest.example b@lists.example.net \
	c@very-long-subdomain-name-for-truncation.tests.example.com \
	d@mx.a-very-long-parent-domain-name-for-truncation.example.net
    e2e_sm ops@mx.example.net
    e2e_wait_count maildrop 0
    e2e_wait_count incoming 11
}

# e2e_fill_end: wait until the queue settles, note the end (e2e_t1); all
# mail must have arrived well within a minute.
e2e_fill_end() {
    pf_wait_stable 1 20 || setup_failed "queue does not settle"
    e2e_t1=$(date +%s)
    [ $((e2e_t1 - e2e_t0)) -le 40 ] ||
	setup_failed "filling the queues took $((e2e_t1 - e2e_t0)) s; it must fit well in a minute"
}

# ---------------------------------------------------------------------------
# Comparison with qshape.  A message that arrived at t (e2e_t0 <= t <=
# e2e_t1) is age now-t; both programs must put it in the same bucket, so no
# bucket edge (a multiple of E2E_EDGE seconds for every option set the test
# uses) may fall between the first run's start and the second run's end.
# The ages the program under test uses may be up to E2E_LAG seconds old (a
# summary's publication); the window to keep clear starts E2E_LAG seconds
# before the pair runs and lasts E2E_BUDGET seconds.

E2E_EDGE=60
E2E_LAG=0
E2E_BUDGET=10
E2E_CTL_NAME=qshapectl	# what the messages call the program under test
E2E_CTL_QUIET=		# non-empty: its stderr must be empty too

# e2e_edge_between LO HI: true when a multiple E of E2E_EDGE with
# LO < E <= HI exists.
e2e_edge_between() {
    [ "$2" -gt "$1" ] || return 1
    [ $(( ($2 / E2E_EDGE) * E2E_EDGE )) -gt "$1" ]
}

# e2e_wait_edge_clear: wait until no bucket edge falls in the next
# E2E_BUDGET seconds (plus the lag) for any message; false after 3 waits.
e2e_wait_edge_clear() {
    _tries=0
    while :; do
	_now=$(date +%s)
	_lo=$((_now - E2E_LAG - e2e_t1))
	[ "$_lo" -ge 0 ] || _lo=0	# no message is younger than 0 s
	e2e_edge_between "$_lo" $((_now + E2E_BUDGET - e2e_t0)) || return 0
	_tries=$((_tries + 1))
	[ "$_tries" -le 3 ] || return 1
	_e=$(( ((_now - E2E_LAG - e2e_t1) / E2E_EDGE + 1) * E2E_EDGE ))
	_s=$((_e + e2e_t1 + E2E_LAG - _now + 1))
	echo "# waiting $_s s for every message to pass the ${_e} s bucket edge"
	sleep "$_s"
    done
}

# e2e_compare LABEL CTL ARGS...: run "$QSHAPE -c $PF_ETC ARGS" and "CTL
# ARGS" (a command or a function: the program under test) one after the
# other in a window clear of bucket edges (the pair runs again, 3 times at
# most, when it straddled one).  "ok - LABEL" when both exit 0, print the
# same header line and tables qshape-compare accepts (rows tied on both the
# T count and the name length in either order), and, with E2E_CTL_QUIET
# set, CTL wrote nothing on stderr; else "not ok - LABEL (why)" and the
# diff.  The last outputs stay in $tmp/out.qshape and $tmp/out.ctl
# (stderr: .err).
e2e_compare() {
    _label=$1
    _ctl=$2
    shift 2
    _out=$tmp/out
    _attempt=0
    while :; do
	_attempt=$((_attempt + 1))
	if ! e2e_wait_edge_clear; then
	    notok "$_label (no window clear of bucket edges)"
	    return
	fi
	_start=$(date +%s)
	"$QSHAPE" -c "$PF_ETC" "$@" >"$_out.qshape" 2>"$_out.qshape.err"
	_rq=$?
	"$_ctl" "$@" >"$_out.ctl" 2>"$_out.ctl.err"
	_rc=$?
	_end=$(date +%s)
	# Both runs saw every message in the same bucket unless an edge was
	# crossed; then (only then) run the pair again.
	_lo=$((_start - E2E_LAG - e2e_t1))
	[ "$_lo" -ge 0 ] || _lo=0
	if e2e_edge_between "$_lo" $((_end - e2e_t0)) && [ "$_attempt" -lt 3 ]; then
	    continue
	fi
	break
    done
    if [ "$_rq" -ne 0 ]; then
	notok "$_label (qshape exited $_rq)"
	indent <"$_out.qshape.err"
	return
    fi
    if [ "$_rc" -ne 0 ]; then
	notok "$_label ($E2E_CTL_NAME exited $_rc)"
	indent <"$_out.ctl.err"
	return
    fi
    if [ "$(sed -n 1p "$_out.qshape")" != "$(sed -n 1p "$_out.ctl")" ]; then
	_why=" (header differs)"
    elif sh "$E2E_QSHAPE_COMPARE" "$_out.qshape" "$_out.ctl" >/dev/null; then
	if [ -n "$E2E_CTL_QUIET" ] && [ -s "$_out.ctl.err" ]; then
	    notok "$_label (same table, but qshapectl warned)"
	    indent <"$_out.ctl.err"
	else
	    ok "$_label"
	fi
	return
    else
	_why=
    fi
    notok "$_label$_why"
    echo "#   diff -u qshape $(echo "$E2E_CTL_NAME" | tr ' ' -):"
    diff -u "$_out.qshape" "$_out.ctl" | indent
    if [ -s "$_out.ctl.err" ]; then
	echo "#   qshapectl stderr:"
	indent <"$_out.ctl.err"
    fi
}

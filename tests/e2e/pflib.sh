# pflib.sh - throw-away private Postfix instances for tests and demos.
#
# POSIX sh library, to be sourced:   . tests/e2e/pflib.sh
# Needs root, Postfix (postfix, postconf, postsuper, smtp-sink, smtp-source)
# and nothing else.  Everything listens on 127.0.0.1 only.
#
#   pf_init DIR SMTPPORT SINKPORT   make DIR/{etc,spool,data}; relayhost is
#                                   [127.0.0.1]:SINKPORT (run a sink there with
#                                   pf_sink_start, or leave the port unused and
#                                   every relayed message is deferred)
#   pf_postconf 'name = value' ...  edit DIR/etc/main.cf
#   pf_start / pf_stop / pf_reload  pf_stop is idempotent and trap-safe
#   pf_destroy [keep]               stop sinks and Postfix, unregister DIR/etc
#                                   from the system main.cf, remove DIR
#   pf_sink_start PORT [ARGS]       smtp-sink on 127.0.0.1:PORT (e.g. -w 100)
#   pf_sink_stop [PORT]             stop that sink, or all of ours
#   pf_count QUEUE                  number of files under DIR/spool/QUEUE
#   pf_counts                       "maildrop=N incoming=N active=N ..."
#   pf_wait_count QUEUE N [SECS]    wait until QUEUE holds exactly N files
#   pf_wait_stable [SECS] [TIMEOUT] wait until no queue changed for SECS
#   pf_disable_qmgr / pf_enable_qmgr  stop / restart the queue manager, so
#                                   mail stays in incoming and active
#   pf_stop_pid PID [SECS]          SIGTERM a child, SIGKILL after SECS, reap
#   pf_free_port PORT               first port >= PORT nobody listens on
#   pf_maillog_tail [N]             last N lines of DIR/maillog, to stderr
#
# State lives in PF_* variables, so one shell drives one instance at a time.
# Functions return non-zero and print "pflib: ..." on stderr when they fail.
# Every wait is bounded (PF_TIMEOUT seconds unless told otherwise).  Safe to
# use under set -e and set -u.

# Postfix's commands live in /usr/sbin, which a CI job's PATH may lack;
# qshape(1) runs postconf from PATH too.
case ":$PATH:" in
*:/usr/sbin:*) ;;
*) PATH=$PATH:/usr/sbin; export PATH ;;
esac

PF_DIR=
PF_ETC=
PF_SPOOL=
PF_SMTPPORT=
PF_SINKPORT=
PF_SINKS=		# "port:pid port:pid ..." of the sinks we started
PF_TIMEOUT=${PF_TIMEOUT:-30}
PF_QUEUES="maildrop incoming active deferred hold"
PF_SYSCONF=/etc/postfix/main.cf

pf_err() {
    echo "pflib: $*" >&2
}

pf_maillog_tail() {
    [ -n "$PF_DIR" ] && [ -f "$PF_DIR/maillog" ] || return 0
    echo "pflib: last lines of $PF_DIR/maillog:" >&2
    tail -n "${1:-20}" "$PF_DIR/maillog" | sed 's/^/    /' >&2
}

# pf_now_ms: milliseconds since the epoch (GNU date).
pf_now_ms() {
    date +%s%3N
}

# pf_cool_ FILE...: backdate FILE's mtime by 5 s.  Postfix re-reads a
# main.cf modified in the last second or so until it has "cooled down"
# (util/load_file.c, dict_load_file), which costs every Postfix command
# and daemon started right after an edit one to two seconds.
pf_cool_() {
    _t=$(($(date +%s) - 5))
    touch -c -d "@$_t" "$@" 2>/dev/null
    return 0
}

# pf_port_busy PORT: true when something listens on TCP PORT (any address).
pf_port_busy() {
    _hex=$(printf '%04X' "$1")
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
	awk -v p=":$_hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
			   END { exit !f }'
}

# pf_free_port PORT: print the first port >= PORT that nobody listens on.
pf_free_port() {
    _p=$1
    _end=$(($1 + 200))
    while [ "$_p" -lt "$_end" ]; do
	if ! pf_port_busy "$_p"; then
	    echo "$_p"
	    return 0
	fi
	_p=$((_p + 1))
    done
    pf_err "no free TCP port in $1..$_end"
    return 1
}

# pf_wait_port PORT SECS: wait until something listens on PORT.
pf_wait_port() {
    _dl=$(($(pf_now_ms) + $2 * 1000))
    while ! pf_port_busy "$1"; do
	[ "$(pf_now_ms)" -lt "$_dl" ] || return 1
	sleep 0.05
    done
}

# pf_alt_dirs_edit_ add|del DIR: add DIR to / remove it from
# alternate_config_directories in the system main.cf.  When Debian installed
# Postfix with "No configuration" there is no main.cf: add creates one with
# only PF_MADE_ in it, and the del that leaves nothing else in it removes it
# again (a main.cf makes postfix.service start at boot).  Runs under a lock
# on the directory of main.cf so that concurrent runs do not lose each
# other's entries (postconf -e replaces main.cf, so the file itself cannot
# be locked).
PF_MADE_='# Made by qshape-milter tests/e2e/pflib.sh; removed with its last entry.'
pf_alt_dirs_edit_() (
    _sysdir=${PF_SYSCONF%/*}
    if command -v flock >/dev/null 2>&1; then
	exec 9<"$_sysdir" || exit 1
	flock 9 || exit 1
    fi
    if [ ! -f "$PF_SYSCONF" ]; then
	[ "$1" = del ] && exit 0
	echo "$PF_MADE_" > "$PF_SYSCONF" || exit 1
	pf_cool_ "$PF_SYSCONF"		# or postconf waits for it to cool
    fi
    _cur=$(postconf -c "$_sysdir" -h alternate_config_directories) || exit 1
    _new=
    _have=
    for _d in $(echo "$_cur" | tr ',' ' '); do
	if [ "$_d" = "$2" ]; then
	    _have=1
	else
	    _new="${_new:+$_new, }$_d"
	fi
    done
    case $1:$_have in
    add:1|del:) exit 0 ;;		# nothing to do: leave the file alone
    add:) _new="${_cur:+$_cur, }$2" ;;	# append, keeping what is there
    esac
    if [ -n "$_new" ]; then
	postconf -c "$_sysdir" -e "alternate_config_directories = $_new"
    else
	postconf -c "$_sysdir" -X alternate_config_directories
    fi || exit 1
    if [ "$(grep -v '^[[:space:]]*$' "$PF_SYSCONF")" = "$PF_MADE_" ]; then
	rm -f "$PF_SYSCONF"
	exit
    fi
    pf_cool_ "$PF_SYSCONF"
)

# pf_init DIR SMTPPORT SINKPORT
pf_init() {
    if [ $# -ne 3 ]; then
	pf_err "usage: pf_init DIR SMTPPORT SINKPORT"
	return 2
    fi
    case $1 in
    /*) ;;
    *) pf_err "pf_init: DIR must be absolute: $1"; return 2 ;;
    esac
    case $1 in
    *[!A-Za-z0-9/._-]*) pf_err "pf_init: unusual characters in DIR: $1"; return 2 ;;
    esac
    if [ "$(id -u)" != 0 ]; then
	pf_err "pf_init: must run as root"
	return 1
    fi
    for _c in postfix postconf postsuper smtp-sink; do
	if ! command -v "$_c" >/dev/null 2>&1 &&
	   ! [ -x "/usr/sbin/$_c" ]; then
	    pf_err "pf_init: $_c not found (Debian package postfix)"
	    return 1
	fi
    done
    if ! id postfix >/dev/null 2>&1; then
	pf_err "pf_init: no user postfix"
	return 1
    fi
    PF_DIR=$1
    PF_ETC=$1/etc
    PF_SPOOL=$1/spool
    PF_SMTPPORT=$2
    PF_SINKPORT=$3

    mkdir -p "$PF_ETC" "$PF_SPOOL" "$PF_DIR/data" || return 1
    # Postfix daemons run as postfix and must reach DIR/data, DIR/spool.
    chmod 0755 "$PF_DIR" "$PF_SPOOL" || return 1
    chown postfix "$PF_DIR/data" || return 1
    if ! runuser -u postfix -- test -x "$PF_DIR/data" 2>/dev/null; then
	pf_err "pf_init: user postfix cannot reach $PF_DIR (parent directory mode?)"
	return 1
    fi

    cp /etc/postfix/master.cf "$PF_ETC/master.cf" || return 1
    # Debian: "smtp inet n - y - - smtpd"; keep the rest of the line.
    if ! grep -q '^smtp[[:space:]][[:space:]]*inet[[:space:]]' "$PF_ETC/master.cf"; then
	pf_err "pf_init: no 'smtp inet' service in /etc/postfix/master.cf"
	return 1
    fi
    sed -i "s/^smtp\\([[:space:]][[:space:]]*inet[[:space:]]\\)/127.0.0.1:$PF_SMTPPORT\\1/" \
	"$PF_ETC/master.cf" || return 1

    if ! cat > "$PF_ETC/main.cf" <<EOF
# Private Postfix instance made by tests/e2e/pflib.sh; throw-away.
compatibility_level = 3.6
queue_directory = $PF_SPOOL
data_directory = $PF_DIR/data
maillog_file = $PF_DIR/maillog
maillog_file_prefixes = $PF_DIR
myhostname = e2e.qshape.test
mydomain = qshape.test
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relayhost = [127.0.0.1]:$PF_SINKPORT
mynetworks = 127.0.0.0/8
biff = no
smtpd_peername_lookup = no
smtp_host_lookup = native
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtp_connect_timeout = 5s
minimal_backoff_time = 1h
maximal_backoff_time = 2h
queue_run_delay = 1h
delay_warning_time = 0
smtputf8_enable = no
master_service_disable =
EOF
    then
	return 1
    fi
    postconf -c "$PF_ETC" -F '*/*/chroot = n' >/dev/null || return 1
    pf_cool_ "$PF_ETC/main.cf" "$PF_ETC/master.cf"
    # Nothing of the system configuration may leak in (e.g. a postlog
    # service named differently): check that the files parse.
    if ! postconf -c "$PF_ETC" -n >/dev/null 2>"$PF_DIR/postconf.err" ||
       [ -s "$PF_DIR/postconf.err" ]; then
	pf_err "pf_init: postconf complains about $PF_ETC:"
	sed 's/^/    /' "$PF_DIR/postconf.err" >&2
	return 1
    fi
    if ! pf_alt_dirs_edit_ add "$PF_ETC" >"$PF_DIR/register.log" 2>&1; then
	pf_err "pf_init: cannot add $PF_ETC to alternate_config_directories in $PF_SYSCONF:"
	sed 's/^/    /' "$PF_DIR/register.log" >&2
	return 1
    fi
    return 0
}

pf_need_init_() {
    if [ -z "$PF_DIR" ]; then
	pf_err "$1: call pf_init first"
	return 1
    fi
}

# pf_postconf 'name = value' ...: edit the instance's main.cf.
pf_postconf() {
    pf_need_init_ pf_postconf || return 1
    postconf -c "$PF_ETC" -e "$@" || return 1
    pf_cool_ "$PF_ETC/main.cf"
}

pf_master_pid() {
    [ -n "$PF_SPOOL" ] && [ -r "$PF_SPOOL/pid/master.pid" ] || return 1
    _pid=$(awk '{ print $1; exit }' "$PF_SPOOL/pid/master.pid" 2>/dev/null)
    case $_pid in
    ''|*[!0-9]*) return 1 ;;
    esac
    echo "$_pid"
}

# pf_running: true when this instance's master process is alive.
pf_running() {
    _pid=$(pf_master_pid) || return 1
    kill -0 "$_pid" 2>/dev/null || return 1
    # A recycled pid is not ours: our master is "master" with cwd the spool.
    [ "$(readlink "/proc/$_pid/cwd" 2>/dev/null)" = "$PF_SPOOL" ]
}

pf_start() {
    pf_need_init_ pf_start || return 1
    if pf_running; then
	pf_err "pf_start: already running (pid $(pf_master_pid))"
	return 1
    fi
    if pf_port_busy "$PF_SMTPPORT"; then
	pf_err "pf_start: port 127.0.0.1:$PF_SMTPPORT is already in use"
	return 1
    fi
    if ! postfix -c "$PF_ETC" start </dev/null >"$PF_DIR/start.log" 2>&1; then
	pf_err "pf_start: 'postfix -c $PF_ETC start' failed:"
	sed 's/^/    /' "$PF_DIR/start.log" >&2
	pf_maillog_tail 20
	return 1
    fi
    # postfix(1) returns before master has bound its sockets, and master
    # can still die (e.g. address in use): wait for the SMTP listener.
    if ! pf_wait_port "$PF_SMTPPORT" "$PF_TIMEOUT" || ! pf_running; then
	pf_err "pf_start: Postfix did not come up on 127.0.0.1:$PF_SMTPPORT"
	sed 's/^/    /' "$PF_DIR/start.log" >&2
	pf_maillog_tail 20
	return 1
    fi
    return 0
}

# pf_procs: pids of every process in master's session (all of Postfix's
# daemons; smtp-sink and our shell are not in it).  Zombies do not count:
# a container's pid 1 may be slow to reap what master leaves behind.
pf_procs() {
    _pid=$(pf_master_pid) || return 0
    ps -e -o pid= -o sid= -o stat= |
	awk -v s="$_pid" '$2 == s && $3 !~ /^Z/ { print $1 }'
}

# pf_stop: stop the instance; idempotent, never fails when nothing runs.
pf_stop() {
    [ -n "$PF_DIR" ] && [ -d "$PF_SPOOL" ] || return 0
    _pid=$(pf_master_pid) || return 0
    # What "postfix stop" does, without its one-second polling: master
    # passes SIGTERM on to its process group and exits.  Then make sure
    # nothing of ours survives, whatever happened.
    if pf_running; then
	kill -TERM "$_pid" 2>/dev/null || :
    else
	# master is gone (killed?) but its children may not be.
	_left=$(pf_procs)
	# shellcheck disable=SC2086
	[ -z "$_left" ] || kill -TERM $_left 2>/dev/null || :
    fi
    _dl=$(($(pf_now_ms) + 10000))
    while [ -n "$(pf_procs)" ] && [ "$(pf_now_ms)" -lt "$_dl" ]; do
	sleep 0.1
    done
    _left=$(pf_procs)
    if [ -n "$_left" ]; then
	# shellcheck disable=SC2086
	kill -9 $_left 2>/dev/null || :
	sleep 0.2
	_left=$(pf_procs)
	if [ -n "$_left" ]; then
	    pf_err "pf_stop: processes survive: $_left"
	    return 1
	fi
    fi
    rm -f "$PF_SPOOL/pid/master.pid"
    return 0
}

# pf_reload: postfix reload, then wait for master to have re-read its files
# (it logs "reload" to the maillog).
pf_reload() {
    pf_need_init_ pf_reload || return 1
    _n=$(grep -c 'master.*: reload ' "$PF_DIR/maillog" 2>/dev/null) || :
    if ! postfix -c "$PF_ETC" reload </dev/null >>"$PF_DIR/reload.log" 2>&1; then
	pf_err "pf_reload: 'postfix -c $PF_ETC reload' failed"
	sed 's/^/    /' "$PF_DIR/reload.log" >&2
	pf_maillog_tail 20
	return 1
    fi
    _dl=$(($(pf_now_ms) + PF_TIMEOUT * 1000))
    while [ "$(grep -c 'master.*: reload ' "$PF_DIR/maillog" 2>/dev/null)" = "${_n:-0}" ]; do
	if [ "$(pf_now_ms)" -ge "$_dl" ]; then
	    pf_err "pf_reload: master did not log the reload"
	    pf_maillog_tail 20
	    return 1
	fi
	sleep 0.05
    done
}

# pf_proc_wait NAME present|absent [SECS]: wait until a Postfix daemon NAME
# of this instance runs / no longer runs.
pf_proc_wait() {
    _dl=$(($(pf_now_ms) + ${3:-$PF_TIMEOUT} * 1000))
    while :; do
	_found=absent
	for _p in $(pf_procs); do
	    if [ "$(cat "/proc/$_p/comm" 2>/dev/null)" = "$1" ]; then
		_found=present
		break
	    fi
	done
	[ "$_found" = "$2" ] && return 0
	if [ "$(pf_now_ms)" -ge "$_dl" ]; then
	    pf_err "pf_proc_wait: $1 still $_found after ${3:-$PF_TIMEOUT}s"
	    return 1
	fi
	sleep 0.05
    done
}

# pf_disable_qmgr: stop the queue manager (master_service_disable, then a
# reload: master SIGTERMs qmgr).  Mail then stays where it is: new mail in
# incoming, mail being delivered in active (the delivery agents report to
# qmgr, which alone updates and moves queue files).  pf_enable_qmgr: the new
# qmgr first moves all of active back to incoming, then skips the files a
# still-running delivery agent holds locked ("skipped, still being
# delivered"), so those stay in incoming until that delivery ends.
pf_disable_qmgr() {
    pf_need_init_ pf_disable_qmgr || return 1
    pf_postconf 'master_service_disable = qmgr.unix' || return 1
    pf_reload || return 1
    pf_proc_wait qmgr absent
}

pf_enable_qmgr() {
    pf_need_init_ pf_enable_qmgr || return 1
    pf_postconf 'master_service_disable =' || return 1
    pf_reload || return 1
    pf_proc_wait qmgr present
}

# pf_sink_start PORT [smtp-sink options]: a receiving end on 127.0.0.1:PORT.
pf_sink_start() {
    if [ $# -lt 1 ]; then
	pf_err "usage: pf_sink_start PORT [smtp-sink options]"
	return 2
    fi
    _port=$1
    shift
    if pf_port_busy "$_port"; then
	pf_err "pf_sink_start: port 127.0.0.1:$_port is already in use"
	return 1
    fi
    _log=${PF_DIR:-/tmp}/sink-$_port.log
    smtp-sink -u postfix "$@" "127.0.0.1:$_port" 1000 </dev/null >"$_log" 2>&1 &
    _spid=$!
    PF_SINKS="$PF_SINKS $_port:$_spid"
    if ! pf_wait_port "$_port" 10 || ! kill -0 "$_spid" 2>/dev/null; then
	pf_err "pf_sink_start: smtp-sink did not listen on 127.0.0.1:$_port"
	sed 's/^/    /' "$_log" >&2
	pf_sink_stop "$_port"
	return 1
    fi
}

# pf_wake_ PID: one connection to each TCP (IPv4) or unix socket PID
# listens on.  A libmilter daemon notices smfi_stop() only when its
# listener wakes: at a connection, or every 5 s.  An IPv6 or abstract
# unix listener is not woken: such a test waits for the 5 s tick.
pf_wake_() {
    _socks=$(ls -l "/proc/$1/fd" 2>/dev/null |
	sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p' | tr '\n' ' ')
    [ -n "$_socks" ] || return 0
    perl -MIO::Socket::INET -MIO::Socket::UNIX -e '
	my %ino = map { $_ => 1 } split " ", $ARGV[0];
	if (open(my $fh, "<", "/proc/net/tcp")) {
	    <$fh>;
	    while (<$fh>) {
		my @c = split;
		next unless $c[3] eq "0A" && $ino{$c[9]};
		my ($a, $p) = split /:/, $c[1];
		$a = $a eq "00000000" ? "127.0.0.1"
		    : join ".", reverse map { hex } unpack "(A2)4", $a;
		IO::Socket::INET->new(PeerAddr => $a, PeerPort => hex $p,
				      Timeout => 1);
	    }
	}
	if (open(my $fh, "<", "/proc/net/unix")) {
	    <$fh>;
	    while (<$fh>) {
		my @c = split;
		next unless @c >= 8 && $c[3] eq "00010000" && $ino{$c[6]};
		IO::Socket::UNIX->new(Peer => $c[7], Timeout => 1);
	    }
	}' "$_socks" 2>/dev/null
    return 0
}

# pf_alive_ PID: PID runs, and is not a zombie (a daemon's zombie waits
# for pid 1, which may be slow to reap it in a container).
pf_alive_() {
    kill -0 "$1" 2>/dev/null &&
	[ "$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# pf_stop_pid PID [SECS]: stop a process of this test (a child of this
# shell, or a daemon it started): SIGTERM, SIGKILL if it still runs after
# SECS seconds (default 5), reap it (a child).  A
# process that still runs after 0.1 s gets a connection to each socket it
# listens on, every 0.5 s (pf_wake_: a milter stops at once).  Does
# nothing when PID is empty; never fails.
pf_stop_pid() {
    [ -n "$1" ] || return 0
    if kill -TERM "$1" 2>/dev/null; then
	_sp_n=$(( ${2:-5} * 20 ))
	while pf_alive_ "$1" && [ "$_sp_n" -gt 0 ]; do
	    [ $((_sp_n % 10)) != 8 ] || pf_wake_ "$1"
	    sleep 0.05
	    _sp_n=$((_sp_n - 1))
	done
	kill -KILL "$1" 2>/dev/null || :
    fi
    wait "$1" 2>/dev/null || :
    return 0
}

# pf_sink_stop [PORT]: stop the sink on PORT, or every sink we started.
pf_sink_stop() {
    _keep=
    for _e in $PF_SINKS; do
	_port=${_e%%:*}
	_spid=${_e#*:}
	if [ $# -gt 0 ] && [ "$1" != "$_port" ]; then
	    _keep="$_keep $_e"
	    continue
	fi
	pf_stop_pid "$_spid" 3
    done
    PF_SINKS=$_keep
    return 0
}

# pf_count QUEUE: number of files in DIR/spool/QUEUE, recursively.
pf_count() {
    pf_need_init_ pf_count || return 1
    if [ -d "$PF_SPOOL/$1" ]; then
	find "$PF_SPOOL/$1" -type f 2>/dev/null | wc -l | tr -d ' '
    else
	echo 0
    fi
}

# pf_counts: "maildrop=N incoming=N active=N deferred=N hold=N".
pf_counts() {
    _out=
    for _q in $PF_QUEUES; do
	_out="$_out${_out:+ }$_q=$(pf_count "$_q")"
    done
    echo "$_out"
}

# pf_wait_count QUEUE N [SECS]: wait until QUEUE holds exactly N files.
pf_wait_count() {
    _secs=${3:-$PF_TIMEOUT}
    _dl=$(($(pf_now_ms) + _secs * 1000))
    while [ "$(pf_count "$1")" != "$2" ]; do
	if [ "$(pf_now_ms)" -ge "$_dl" ]; then
	    pf_err "pf_wait_count: $1 holds $(pf_count "$1"), not $2, after ${_secs}s ($(pf_counts))"
	    pf_maillog_tail 20
	    return 1
	fi
	sleep 0.05
    done
}

# pf_wait_stable [SECS] [TIMEOUT]: wait until no queue's count changed for
# SECS seconds (default 1), giving up after TIMEOUT (default PF_TIMEOUT).
pf_wait_stable() {
    pf_need_init_ pf_wait_stable || return 1
    _quiet=$(( ${1:-1} * 1000 ))
    _dl=$(($(pf_now_ms) + ${2:-$PF_TIMEOUT} * 1000))
    _last=$(pf_counts)
    _since=$(pf_now_ms)
    while :; do
	sleep 0.1
	_now=$(pf_now_ms)
	_cur=$(pf_counts)
	if [ "$_cur" != "$_last" ]; then
	    _last=$_cur
	    _since=$_now
	elif [ $((_now - _since)) -ge "$_quiet" ]; then
	    return 0
	fi
	if [ "$_now" -ge "$_dl" ]; then
	    pf_err "pf_wait_stable: queue still changing ($_cur)"
	    return 1
	fi
    done
}

# pf_destroy [keep]: stop everything, unregister DIR/etc and remove DIR
# (unless "keep", to look at the maillog).  Trap-safe, idempotent.
pf_destroy() {
    pf_sink_stop
    [ -n "$PF_DIR" ] || return 0
    _rc=0
    pf_stop || _rc=1
    pf_alt_dirs_edit_ del "$PF_ETC" >/dev/null 2>&1 || _rc=1
    # Remove only what pf_init made, and only once nothing runs in it.
    if [ "${1:-}" != keep ] && [ -f "$PF_ETC/main.cf" ] && [ "$_rc" = 0 ]; then
	rm -rf "$PF_DIR"
    fi
    PF_DIR='' PF_ETC='' PF_SPOOL=''
    return $_rc
}

#!/bin/sh
# test_held.sh BUILD_DIR - end-to-end: "qshapectl held", "release" and
# "delete" on the hold queue of a private Postfix.
#
# The instance calls BUILD_DIR/holdmilter (smtpd_milters and
# non_smtpd_milters), which holds and marks a message as qshape-milter
# does (hm_format(), smfi_addheader(), smfi_quarantine()) when the message
# asks for it in an X-Test-Hold header: so the marks are written by a real
# cleanup(8).  The hold queue then holds, over SMTP and sendmail(1):
#   ours:    3 flood sender_domain:flood.example held 2 h ago,
#            2 flood sender_domain:flood.example held 1 min ago,
#            2 local sender:b@local.example held 1 min ago,
#            1 odd   sasl_username with a hostile key (space, '%', LF,
#              0xff) held now;
#            1 long  sender key of 300 '%' bytes (the mark keeps 256,
#              escaped: an 834-byte header line) held now;
#   others:  2 held by header_checks (one carries a forged X-Qshape-Hold
#            header), 1 held with postsuper -h (forged header too).
# Checks: held with each filter (exact counts and IDs, the others' count),
# the JSON parses and agrees with postqueue -j (arrival, sender,
# recipients, size), release and delete with each filter, --dry-run
# changes nothing, an empty filter is refused without --all; at the end
# the others' three messages are still held, untouched.
#
# Needs root, Postfix, python3 and BUILD_DIR/{qshapectl,holdmilter}.
# Environment: E2E_PORT=N (default 10185; three ports: SMTP, an unused
# relay port, the milter), E2E_KEEP=1 (keep the directory).
#
# Prints one "ok - ..." / "not ok - ..." line per check and, last,
# "e2e-held: N passed, M failed".  Exit status 0 only when all passed.

set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/pflib.sh
. "$here/pflib.sh"
# shellcheck source=tests/e2e/e2elib.sh
. "$here/e2elib.sh"

BUILD=$(e2e_abs "${1:-build}")
CTL=$BUILD/qshapectl
HOLDMILTER=$BUILD/holdmilter
milter_pid=

e2e_begin e2e-held

# shellcheck disable=SC2317	# invoked from the EXIT trap
teardown() {
    [ -z "$milter_pid" ] || pf_stop_pid "$milter_pid"
}
E2E_TEARDOWN=teardown

# ctl OUT ARGS...: run qshapectl, stdout to $tmp/OUT, stderr to OUT.err.
ctl() {
    _out=$1
    shift
    "$CTL" "$@" >"$tmp/$_out" 2>"$tmp/$_out.err"
}

# ids FILE: the queue IDs of the listed (or acted-on) lines, sorted.
ids() {
    awk '$1 ~ /^[0-9A-Za-z]+$/ && $2 ~ /^arrival=/ { print $1 }
	 $1 ~ /:$/ && $2 ~ /^[0-9A-Za-z]+$/ && $3 ~ /^arrival=/ { print $2 }' \
	"$tmp/$1" | sort
}

# hold_ids: the files in the hold queue, sorted.
hold_ids() {
    find "$PF_SPOOL/hold" -type f -exec basename {} \; | sort
}

# expect_ids FILE WANT MSG: the IDs of FILE's lines are exactly WANT.
expect_ids() {
    _got=$(ids "$1" | tr '\n' ' ')
    if [ "$_got" = "$2" ]; then
	ok "$3"
    else
	notok "$3"
	{ echo "got:  $_got"; echo "want: $2"; cat "$tmp/$1" "$tmp/$1.err"; } |
	    indent
    fi
}

# expect_line FILE LINE MSG: FILE has LINE.
expect_line() {
    if grep -qxF "$2" "$tmp/$1"; then
	ok "$3"
    else
	notok "$3"
	{ echo "want: $2"; cat "$tmp/$1" "$tmp/$1.err"; } | indent
    fi
}

# send_sm FROM HEADER...: one message by sendmail(1).
send_sm() {
    _from=$1
    shift
    {
	for _h in "$@"; do printf '%s\n' "$_h"; done
	printf 'Subject: test\n\nbody\n'
    } | sendmail -C "$PF_ETC" -f "$_from" rcpt@dest.example
}

# send_smtp FROM NRCPT HEADER...: one message over SMTP.
send_smtp() {
    python3 - "$smtp_port" "$@" <<'EOF'
import smtplib, sys
port, sender, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
msg = "".join(h + "\r\n" for h in sys.argv[4:]) + "Subject: test\r\n\r\nbody\r\n"
rcpts = ["r%d@dest.example" % i for i in range(n)]
with smtplib.SMTP("127.0.0.1", port) as s:
    s.sendmail(sender, rcpts, msg)
EOF
}

# ---------------------------------------------------------------------------
# Set-up.

e2e_need_root
e2e_need_cmds postsuper postqueue sendmail
e2e_need_progs make "$CTL" "$HOLDMILTER"
command -v python3 >/dev/null 2>&1 || setup_failed "python3 not found"

e2e_mktemp qshape-e2e-held
port=${E2E_PORT:-10185}
smtp_port=$(pf_free_port "$port") || setup_failed "no free port"
relay_port=$(pf_free_port $((smtp_port + 1))) || setup_failed "no free port"
milter_port=$(pf_free_port $((relay_port + 1))) || setup_failed "no free port"

pf_init "$tmp/pf" "$smtp_port" "$relay_port" || setup_failed "pf_init"
printf '/^Subject: hold-by-checks/ HOLD held by header_checks\n' \
    >"$PF_ETC/header_checks"
pf_postconf "smtpd_milters = inet:127.0.0.1:$milter_port" \
    "non_smtpd_milters = inet:127.0.0.1:$milter_port" \
    "milter_default_action = tempfail" \
    "header_checks = regexp:$PF_ETC/header_checks" ||
    setup_failed "pf_postconf"
"$HOLDMILTER" "inet:$milter_port@127.0.0.1" >"$tmp/holdmilter.log" 2>&1 &
milter_pid=$!
_dl=$(($(pf_now_ms) + 10000))
until pf_port_busy "$milter_port"; do
    kill -0 "$milter_pid" 2>/dev/null || setup_failed "holdmilter exited"
    [ "$(pf_now_ms)" -lt "$_dl" ] || setup_failed "holdmilter does not listen"
    sleep 0.05
done
pf_start || setup_failed "pf_start"
conf=$tmp/qshape-milter.conf
printf 'postfix_config_directory = "%s";\n' "$PF_ETC" >"$conf"

FORGED="X-Qshape-Hold: policy=flood key=sender_domain:flood.example time=1"
for _i in 1 2 3; do
    send_sm a$_i@flood.example \
	"X-Test-Hold: flood sender_domain flood.example 7200" ||
	setup_failed "sendmail"
done
for _i in 1 2; do
    send_smtp b$_i@flood.example 2 \
	"X-Test-Hold: flood sender_domain flood.example 60" ||
	setup_failed "smtp"
done
send_sm b@local.example "X-Test-Hold: local sender b@local.example 60" ||
    setup_failed "sendmail"
send_smtp b@local.example 1 "X-Test-Hold: local sender b@local.example 60" ||
    setup_failed "smtp"
HOSTILE='we%20ird%25%0A%FFx'
send_smtp c@odd.example 3 "X-Test-Hold: odd sasl_username $HOSTILE 0" ||
    setup_failed "smtp"
LONGKEY=$(printf '%%25%.0s' $(seq 300))
KEY256=$(printf '%%25%.0s' $(seq 256))
KEY255=$(printf '%%25%.0s' $(seq 255))
send_sm l@long.example "X-Test-Hold: long sender $LONGKEY 0" ||
    setup_failed "sendmail"
send_smtp d@others.example 1 "$FORGED" "Subject: hold-by-checks" ||
    setup_failed "smtp"
send_sm e@others.example "Subject: hold-by-checks" || setup_failed "sendmail"
# Deferred (nobody listens on the relay port), then held by hand.
send_smtp f@others.example 1 "$FORGED" || setup_failed "smtp"
pf_wait_count hold 11 || setup_failed "11 messages in hold: $(pf_counts)"
_dl=$(($(pf_now_ms) + 30000))
until [ "$(pf_count deferred)" = 1 ]; do
    [ "$(pf_now_ms)" -lt "$_dl" ] ||
	setup_failed "1 message in deferred: $(pf_counts)"
    sleep 0.2
done
postsuper -c "$PF_ETC" -h ALL deferred 2>/dev/null
pf_wait_count hold 12 || setup_failed "12 messages in hold: $(pf_counts)"
hold_ids >"$tmp/hold.start"

# ---------------------------------------------------------------------------
# held.

ctl all.json held -C "$conf" --json
python3 - "$tmp/all.json" "$tmp/ours.ids" <<'EOF' >"$tmp/all.check" 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
assert d["selected"] == 9 and d["held_by_qshape"] == 9, d
assert d["held_by_others"] == 3, d
keys = sorted((m["policy"], m["key_kind"], m["key"]) for m in d["messages"])
assert keys == sorted(3 * [("flood", "sender_domain", "flood.example")]
                      + 2 * [("flood", "sender_domain", "flood.example")]
                      + 2 * [("local", "sender", "b@local.example")]
                      + [("odd", "sasl_username", "we%20ird%25%0A%FFx")]
                      + [("long", "sender", 256 * "%25")]), keys
assert [m["key_truncated"] for m in d["messages"]].count(True) == 1
with open(sys.argv[2], "w") as f:
    for m in sorted(d["messages"], key=lambda m: m["queue_id"]):
        f.write(m["queue_id"] + "\n")
EOF
check $? "held --json parses: 9 of ours (policies and keys exact, one truncated), 3 held by others"
[ -s "$tmp/all.check" ] && indent <"$tmp/all.check"
comm -13 "$tmp/ours.ids" "$tmp/hold.start" >"$tmp/others.ids"
[ "$(wc -l <"$tmp/others.ids")" -eq 3 ]
check $? "the other three are the rest of the hold queue"

# The JSON against Postfix's own view of the same messages.
postqueue -c "$PF_ETC" -j >"$tmp/postqueue.json"
python3 - "$tmp/all.json" "$tmp/postqueue.json" <<'EOF' >"$tmp/pq.check" 2>&1
import json, sys
ours = json.load(open(sys.argv[1]))["messages"]
pq = {}
for line in open(sys.argv[2]):
    m = json.loads(line)
    pq[m["queue_id"]] = m
for m in ours:
    p = pq[m["queue_id"]]
    assert p["queue_name"] == "hold", p
    assert m["arrival"] == p["arrival_time"], (m, p)
    assert m["sender"] == p["sender"], (m, p)
    assert m["recipients"] == len(p["recipients"]), (m, p)
    assert m["size"] == p["message_size"], (m, p)
print("ok")
EOF
check $? "held --json agrees with postqueue -j: arrival, sender, recipients, size"
grep -v '^ok$' "$tmp/pq.check" | indent

ctl all held -c "$PF_ETC"
expect_line all "held: 9 selected of 9 held by qshape-milter; 3 held by others, not touched" \
    "held: the count line"
expect_ids all "$(tr '\n' ' ' <"$tmp/ours.ids")" "held lists exactly ours"
grep -q " policy=odd key=sasl_username:$HOSTILE held=" "$tmp/all"
check $? "held prints the hostile key escaped, as the mark has it"

for f in flood:5 local:2 odd:1 long:1 floo:0; do
    ctl p held -C "$conf" --policy "${f%:*}"
    expect_line p "held: ${f#*:} selected of 9 held by qshape-milter; 3 held by others, not touched" \
	"held --policy ${f%:*}: ${f#*:}"
done
for f in sender_domain:flood.example=5 flood.example=5 \
    parent_domain:flood.example=0 sender:b@local.example=2 \
    "sasl_username:$HOSTILE=1" "$HOSTILE=1" FLOOD.example=0 \
    "sender:$LONGKEY=1" "sender:$KEY256=1" "$KEY256=1" "sender:$KEY255=0"; do
    ctl k held -C "$conf" --key "${f%=*}"
    _k=${f%=*}
    [ ${#_k} -lt 60 ] || _k="$(echo "$_k" | cut -c1-40)... (${#_k} bytes)"
    expect_line k "held: ${f##*=} selected of 9 held by qshape-milter; 3 held by others, not touched" \
	"held --key $_k: ${f##*=}"
done
for f in 1h:3 3h:0 30m:3 10s:7; do
    ctl o held -C "$conf" --older-than "${f%:*}"
    expect_line o "held: ${f#*:} selected of 9 held by qshape-milter; 3 held by others, not touched" \
	"held --older-than ${f%:*}: ${f#*:}"
done
ctl o held -C "$conf" --policy flood --key flood.example --older-than 1h
expect_line o "held: 3 selected of 9 held by qshape-milter; 3 held by others, not touched" \
    "held with all three filters: 3"
ctl o held -C "$conf" --older-than 1h
sort "$tmp/o" | awk '{ print $1 }' | grep -v '^held:' >"$tmp/old.ids"
[ "$(grep -c ' sender=<a[123]@flood.example> rcpts=1 ' "$tmp/o")" -eq 3 ] &&
    [ "$(wc -l <"$tmp/old.ids")" -eq 3 ]
check $? "held --older-than 1h: the three sent by sendmail 2 h ago"

# ---------------------------------------------------------------------------
# release and delete.

ctl r release -C "$conf"
[ $? -eq 2 ] && grep -q 'no filter: say --all' "$tmp/r.err" &&
    [ "$(hold_ids)" = "$(cat "$tmp/hold.start")" ]
check $? "release without a filter: refused (exit 2), nothing changed"
ctl r delete -C "$conf"
[ $? -eq 2 ] && [ "$(hold_ids)" = "$(cat "$tmp/hold.start")" ]
check $? "delete without a filter: refused (exit 2), nothing changed"

ctl r release -C "$conf" --policy local --dry-run
[ $? -eq 0 ] && [ "$(grep -c '^would release: ' "$tmp/r")" -eq 2 ] &&
    grep -qxF "release: dry run: nothing released" "$tmp/r" &&
    [ "$(hold_ids)" = "$(cat "$tmp/hold.start")" ]
check $? "release --policy local --dry-run: 2 would be, nothing changed"
ctl r delete -C "$conf" --all -n
[ $? -eq 0 ] && [ "$(grep -c '^would delete: ' "$tmp/r")" -eq 9 ] &&
    [ "$(hold_ids)" = "$(cat "$tmp/hold.start")" ]
check $? "delete --all --dry-run: 9 would be, nothing changed"

ctl r release -C "$conf" --policy local
rc=$?
ids r >"$tmp/r.ids"
[ $rc -eq 0 ] && grep -qxF "release: 2 released, 0 still held" "$tmp/r" &&
    [ "$(wc -l <"$tmp/r.ids")" -eq 2 ] &&
    [ -z "$(hold_ids | comm -12 - "$tmp/r.ids")" ] &&
    [ "$(pf_count hold)" -eq 10 ]
check $? "release --policy local: 2 released, out of hold"
{ cat "$tmp/r" "$tmp/r.err"; pf_counts; } >"$tmp/r.diag"
[ $rc -eq 0 ] || indent <"$tmp/r.diag"
postqueue -c "$PF_ETC" -j | python3 -c '
import json, sys
ids = set(open(sys.argv[1]).read().split())
q = [json.loads(l) for l in sys.stdin]
assert sum(1 for m in q if m["queue_id"] in ids and m["queue_name"] != "hold") == 2
' "$tmp/r.ids"
check $? "the released two are still queued, not in hold"

ctl d delete -C "$conf" --key sender_domain:flood.example --older-than 1h
rc=$?
ids d >"$tmp/d.ids"
[ $rc -eq 0 ] && grep -qxF "delete: 3 deleted, 0 still held" "$tmp/d" &&
    cmp -s "$tmp/d.ids" "$tmp/old.ids" && [ "$(pf_count hold)" -eq 7 ] &&
    ! postqueue -c "$PF_ETC" -j | grep -qF -f "$tmp/d.ids"
check $? "delete --key sender_domain:flood.example --older-than 1h: the 3 old ones, gone"

ctl r release -c "$PF_ETC" --key flood.example
[ $? -eq 0 ] && grep -qxF "release: 2 released, 0 still held" "$tmp/r" &&
    [ "$(pf_count hold)" -eq 5 ]
check $? "release --key flood.example (-c DIR): the 2 recent ones"

ctl d delete -C "$conf" --all
[ $? -eq 0 ] && grep -qxF "delete: 2 deleted, 0 still held" "$tmp/d" &&
    grep -q "^delete: [0-9A-Za-z]* .* policy=odd " "$tmp/d" &&
    grep -q "^delete: [0-9A-Za-z]* .* policy=long key=sender:$KEY256\.\.\. " "$tmp/d"
check $? "delete --all: the last two of ours (policies odd and long)"

[ "$(hold_ids)" = "$(cat "$tmp/others.ids")" ]
check $? "the others' three messages are still held, untouched"
ctl e held -C "$conf"
expect_line e "held: 0 selected of 0 held by qshape-milter; 3 held by others, not touched" \
    "held at the end: none of ours, 3 of others"
ctl e release -C "$conf" --all
[ $? -eq 0 ] && [ "$(hold_ids)" = "$(cat "$tmp/others.ids")" ]
check $? "release --all with none of ours: nothing done, others still held"

[ ! -s "$tmp/holdmilter.log" ]
check $? "holdmilter logged nothing"
finish

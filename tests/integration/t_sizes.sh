# Sizes: nothing is dropped for its size.  A 1 MiB input read from
# standard input comes back whole; a conversation of several MiB is handed
# back to a worker restarted by kill -9; 5,000 inputs are listed whole; a
# replay of big events reaches the client whole.  An input over
# max_input_bytes is rejected naming both sizes; text that is not UTF-8 is
# refused (by mobkitctl and by mobkitd); what a child writes that is not
# UTF-8 shows as U+FFFD and --json stays valid JSON.
. "$(dirname "$0")/lib.sh"
PV=$("$BIN/mobkit-worker" -V | sed 's/.*protocol \([0-9]*\).*/\1/')
# a module that speaks the protocol by hand and says things that are not
# UTF-8: in an event (fd 3), on stdout and on stderr
cat >"$T/weird.py" <<'EOF'
import os, struct, sys, time
def pk(o):
    if isinstance(o, dict):
        return bytes([0x80 | len(o)]) + b"".join(pk(k) + pk(v) for k, v in o.items())
    if isinstance(o, int):
        return bytes([0xcd]) + struct.pack(">H", o) if o > 127 else bytes([o])
    if isinstance(o, str):
        o = o.encode()
    return bytes([0xd9, len(o)]) + o
def frame(o):
    b = pk(o)
    os.write(3, struct.pack(">I", len(b)) + b)
frame({"t": 1, "version": int(sys.argv[1]), "name": "weird", "pid": 1})
frame({"t": 2})
frame({"t": 11, "event_type": "weird.said",
       "payload": {"text": b"caf\xe9 \xff\xfe ok", b"k\xff": "v"}})
sys.stdout.buffer.write(b"plain \xff\xfe line\n")
sys.stdout.buffer.write(b'{"event_type":"weird.line","payload":{"s":"\xff"}}\n')
sys.stdout.flush()
sys.stderr.buffer.write(b"err \xc3\x28 line\n")
sys.stderr.flush()
while os.read(3, 4096):
    pass
EOF
{ header; cat <<EOT
[profile p]
provider = echo
history_max_bytes = 67108864

[member m]
profile = p

[member many]
profile = p

[module weird]
command = /usr/bin/python3
args = $T/weird.py $PV
ready = message
EOT
} >"$CFG"
start_daemon
wait_for "m healthy" is_state m healthy
wait_for "weird healthy" is_state weird healthy

# a child's non-UTF-8 output: --json stays JSON, with U+FFFD in its place
wait_for "weird's event" sh -c "$BIN/mobkitctl -s $SOCK --json events --type weird.said | grep -q said"
jctl events --type weird.said >"$T/said" || fail "events --json crashed"
jq -e -s 'length == 1 and .[0].payload.text == "caf\ufffd \ufffd\ufffd ok" and .[0].payload["k\ufffd"] == "v"' \
    "$T/said" >/dev/null || fail "not repaired: $(cat "$T/said")"
ctl events --type weird.said | grep -q "caf" || fail "human events"
jctl events | jq -e -s 'length > 0' >/dev/null || fail "events --json is not JSON"
jctl status | jq -e '.children | length == 3' >/dev/null || fail "status --json"
wait_for "the child's lines logged" env LC_ALL=C grep -q "err .* line" "$T/daemon.log"

# 1 MiB (exactly max_input_bytes) through standard input, back whole
head -c 800000 /dev/urandom | base64 -w0 | head -c 1048576 >"$T/in1"
[ "$(wc -c <"$T/in1")" = 1048576 ] || fail "test input"
jctl send m - --wait <"$T/in1" >"$T/out1" || fail "send - of 1 MiB: $(head -c 300 "$T/out1")"
[ "$(jq -r .result.status "$T/out1")" = completed ] || fail "1 MiB: $(head -c 300 "$T/out1")"
want=$({ printf 'echo (turn 1): '; cat "$T/in1"; } | sha256sum)
got=$(jq -j .result.text "$T/out1" | sha256sum)
[ "$want" = "$got" ] || fail "the 1 MiB reply is not whole ($(jq -j .result.text "$T/out1" | wc -c) bytes)"

# the events of that turn (1 MiB each, several MiB in all) replayed whole
jctl events >"$T/ev" || fail "events replay"
jq -s -e '[.[].seq] as $s | ($s | length) > 5 and ([range(1; $s | length)] | all($s[.] == $s[. - 1] + 1))' \
    "$T/ev" >/dev/null || fail "events replay not contiguous"
got=$(jq -j 'select(.event_type == "run_started") | .payload.text' "$T/ev" | head -c 1048576 | sha256sum)
[ "$(sha256sum <"$T/in1")" = "$got" ] || fail "a 1 MiB event was not replayed whole"

# a conversation of several MiB, then kill -9: restarted healthy, history kept
for i in 2 3; do
	head -c 800000 /dev/urandom | base64 -w0 | head -c 1000000 >"$T/in$i"
	jctl send m - --wait <"$T/in$i" >"$T/out$i" || fail "turn $i: $(head -c 300 "$T/out$i")"
done
p=$(pid_of m)
kill -9 "$p"
wait_for "m restarted" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json status m | jq -r '.children[0].pid')\" != $p ]"
wait_for "m healthy again" is_state m healthy
out=$(jctl send m "after the crash" --wait) || fail "turn after kill -9: $out"
[ "$(echo "$out" | jq -r .result.text)" = "echo (turn 4): after the crash" ] ||
	fail "history not handed back: $out"
[ "$(field_of m state)" = healthy ] || fail "m is $(field_of m state)"

# over max_input_bytes: rejected, both sizes in the reason, exit 1
head -c 1048577 /dev/zero | tr '\0' x >"$T/big"
out=$(jctl send m - <"$T/big"); rc=$?
[ $rc = 1 ] || fail "oversized send: exit $rc"
[ "$(echo "$out" | jq -r .outcome)" = rejected ] || fail "oversized: $out"
echo "$out" | jq -r .reason | grep -q "1048577.*1048576" || fail "reason: $out"

# 5,000 keyed inputs (long keys: more than a frame's worth), listed whole
# (the placeholder is @@: a plain letter may be in the socket path)
pad=$(head -c 200 /dev/zero | tr '\0' k)
seq 1 5000 | xargs -P 2 -I @@ "$BIN/mobkitctl" -s "$SOCK" send many "text @@ $pad" --key "@@-$pad" >/dev/null ||
	fail "5,000 sends"
n=$(jctl inputs many | jq length) || fail "inputs many failed"
[ "$n" = 5000 ] || fail "inputs lists $n of 5000"
[ "$(ctl inputs many | wc -l)" = 5001 ] || fail "human inputs listing"

# not UTF-8: refused with the byte offset, by mobkitctl...
out=$(ctl send m "$(printf 'ab\377c')" 2>&1); rc=$?
[ $rc = 1 ] || fail "non-UTF-8 send: exit $rc"
echo "$out" | grep -q "not valid UTF-8 at byte 2" || fail "non-UTF-8 send: $out"
out=$(ctl deliver someone --payload "$(printf '{"text":"\300\257"}')" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "not valid UTF-8 at byte 9" || fail "non-UTF-8 payload ($rc): $out"
# ...and by mobkitd, whatever the client
python3 - "$SOCK" >"$T/raw" <<'EOF' || fail "raw request: $(cat "$T/raw")"
import socket, struct, sys
req = (b"\x84\xa1t\x64\xa7version\x01\xa4verb\xa4send\xa4args\x82"
       b"\xa6member\xa1m\xa4text\xa4ab\xffc")
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(struct.pack(">I", len(req)) + req)
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
    if len(data) >= 4 and len(data) >= 4 + struct.unpack(">I", data[:4])[0]:
        break
sys.stdout.write(data[4:].decode("utf-8", "replace"))
EOF
grep -q "not valid UTF-8 at byte 2" "$T/raw" || fail "mobkitd took a non-UTF-8 argument: $(cat "$T/raw")"

alive "$DPID" || fail "mobkitd died"
true

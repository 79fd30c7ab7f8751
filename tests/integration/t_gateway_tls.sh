# tls_cert_file + tls_key_file: the gateway serves HTTPS (libmicrohttpd
# with GnuTLS); a self-signed certificate made here, trusted by curl
# --cacert; plain HTTP is not answered.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw.sh"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" \
    -out "$T/cert.pem" 2>/dev/null || fail "openssl req"
{ header; gw_section <<EOT
token_file = tokens
tls_cert_file = cert.pem
tls_key_file = key.pem
EOT
} >"$CFG"
start_daemon
wait_for "the gateway" is_state gateway healthy
U=https://127.0.0.1:$GW_PORT
wait_for "https" curl -sf --cacert "$T/cert.pem" "$U/healthz"
curl -s --cacert "$T/cert.pem" -H "Authorization: Bearer $GW_TOKEN" "$U/v1/status" |
    jq -e '.daemon.state == "running"' >/dev/null || fail "status over TLS"
s=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/cert.pem" "$U/v1/status")
[ "$s" = 401 ] || fail "no token over TLS: $s"
curl -s --max-time 5 --cacert "$T/cert.pem" -H "Authorization: Bearer $GW_TOKEN" \
    -H 'Accept: text/event-stream' "$U/v1/events" >"$T/sse" 2>/dev/null
grep -q '^event: lifecycle.modules_started' "$T/sse" || fail "SSE over TLS: $(head -c 300 "$T/sse")"
# not trusted without the CA, and no plain HTTP on the port
curl -sf "$U/healthz" >/dev/null 2>&1 && fail "an untrusted certificate passed"
curl -sf --max-time 5 "http://127.0.0.1:$GW_PORT/healthz" >/dev/null 2>&1 && fail "plain HTTP answered"
# one of the pair: a config error naming the line
{ header; gw_section <<EOT
token_file = tokens
tls_cert_file = cert.pem
EOT
} >"$T/half.ini"
out=$("$BIN/mobkitd" -t -c "$T/half.ini" 2>&1) && fail "half a TLS pair accepted"
echo "$out" | grep -q 'half.ini:[0-9]*: \[gateway\]: tls_cert_file and tls_key_file go together' || fail "$out"
echo ok

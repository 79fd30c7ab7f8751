# gw.sh: helpers for the gateway's tests (after lib.sh): a free loopback
# port, the [gateway] config, and curl through the gateway.
GW_TOKEN=tok-$$-secret
echo "$GW_TOKEN" >"$T/tokens"
GW_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
GW_URL=http://127.0.0.1:$GW_PORT

# gw_section [KEY = VALUE lines on stdin]: the [gateway] section
gw_section() {
	printf '[gateway]\nlisten = 127.0.0.1:%s\n' "$GW_PORT"
	cat
}

gw_healthy() { is_state gateway healthy && curl -sf "$GW_URL/healthz" >/dev/null; }
gw_pid() { pid_of gateway; }

# hc [curl args...]: curl with the token; the body on stdout
hc() { curl -s -H "Authorization: Bearer $GW_TOKEN" "$@"; }
# code METHOD PATH [curl args...]: the status code only, with the token
code() {
	m=$1; p=$2; shift 2
	curl -s -o "$T/body" -w '%{http_code}' -X "$m" \
	    -H "Authorization: Bearer $GW_TOKEN" "$@" "$GW_URL$p"
}
# expect STATUS METHOD PATH [curl args...]: the status, or fail
expect() {
	want=$1; shift
	got=$(code "$@")
	[ "$got" = "$want" ] || fail "$1 $2: status $got, wanted $want: $(cat "$T/body")"
}
# body_is JQ-EXPR: the last body passes the jq test
body_is() { jq -e "$1" "$T/body" >/dev/null || fail "body fails $1: $(cat "$T/body")"; }

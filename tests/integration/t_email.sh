# Email through a loopback SMTP server: a subject or an address with CR/LF
# is refused (the delivery fails with the reason, the server hears
# nothing); a message carries Date, Message-ID, MIME-Version, Content-Type;
# a non-ASCII subject is RFC 2047 encoded and decodes back; a 2,000
# character line arrives whole, encoded, on short lines.
. "$(dirname "$0")/lib.sh"
python3 "$FIX/hookserver.py" "$T/hook.port" "$T/hook.log" &
echo $! >"$T/hook.pid"
wait_for "the hook fixture" test -s "$T/hook.port" -a -s "$T/hook.port.smtp"
{ header; cat <<EOT
[module router]
command = mobkit-router

[module delivery]
command = mobkit-delivery

[delivery]
smtp_url = smtp://127.0.0.1:$(cat "$T/hook.port.smtp")
mail_from = mobkit@test.invalid
EOT
} >"$CFG"
start_daemon
wait_for "delivery healthy" is_state delivery healthy
wait_for "router healthy" is_state router healthy
touch "$T/hook.log"
# mail_of SUBJECT: the mail the server logged with that (decoded) subject
mail_of() { jq -c --arg s "$1" 'select(.kind == "smtp" and .subject == $s)' "$T/hook.log"; }
has_mail() { [ -n "$(mail_of "$1")" ]; }

# 1. CRLF in the subject: failed at once with the reason, nothing sent
out=$(jctl deliver ops@example.com --retry-max 2 --backoff-ms 10 \
    --payload '{"subject":"Hi\r\nBcc: evil@example.org","body":"x"}')
echo "$out" | jq -e '.status == "failed" and (.attempts | length) == 1 and (.attempts[0].error | test("Subject: CR or LF in a header value.*refused"))' >/dev/null || fail "CRLF subject: $out"
# 2. CR/LF in an address: refused the same way
out=$(jctl deliver "$(printf 'ops@example.com\r\nRSET')" --retry-max 0 --payload '{"subject":"s","body":"x"}')
echo "$out" | jq -e '.status == "failed" and (.attempts[0].error | test("To: .* is not an address: holds CR or LF"))' >/dev/null || fail "CRLF address: $out"
# the server heard nothing: no connection, no RCPT, no evil
grep -q '"kind": "smtp' "$T/hook.log" && fail "the SMTP server was contacted: $(cat "$T/hook.log")"
grep -q evil "$T/hook.log" && fail "evil reached the server"

# 3. a plain mail: the headers a mail reader expects
out=$(jctl deliver ops@example.com --payload '{"subject":"Plain","body":"It works.\nTwo lines."}') || fail "plain: $out"
echo "$out" | jq -e '.status == "sent"' >/dev/null || fail "plain: $out"
wait_for "the plain mail" has_mail Plain
now=$(date +%s)
mail_of Plain | jq -e --argjson now "$now" '
    .rcpt == ["<ops@example.com>"] and .defects == [] and
    (.headers["Message-ID"] | test("^<mobkit\\.[A-Za-z0-9._-]+@test\\.invalid>$")) and
    .headers["MIME-Version"] == "1.0" and
    (.data | contains("\r\nContent-Type: text/plain; charset=utf-8\r\n")) and
    (.headers["Content-Type"] | test("^text/plain; charset=\"?utf-8\"?$")) and
    .headers["Content-Transfer-Encoding"] == "7bit" and
    .headers.From == "mobkit@test.invalid" and .headers.To == "ops@example.com" and
    (.date_epoch - $now | fabs) < 600 and
    (.body | rtrimstr("\r\n") | rtrimstr("\n")) as $b |
    ($b == "It works.\r\nTwo lines." or $b == "It works.\nTwo lines.")' >/dev/null ||
	fail "plain mail: $(mail_of Plain)"

# 4. a non-ASCII subject: RFC 2047 encoded-words, 7-bit clean, decodes back
subj="Grüße aus Köln — 東京の天気は晴れ, ça va très bien, merci beaucoup ✓"
body="Ünïcödé body: $subj"
out=$(jctl deliver ops@example.com --payload "$(jq -nc --arg s "$subj" --arg b "$body" '{subject:$s, body:$b}')") || fail "utf8: $out"
echo "$out" | jq -e '.status == "sent"' >/dev/null || fail "utf8: $out"
wait_for "the UTF-8 mail" has_mail "$subj"
mail_of "$subj" | jq -e --arg b "$body" '
    .ascii and .defects == [] and .longest_line <= 76 and
    (.data | test("Subject: =\\?UTF-8\\?B\\?[A-Za-z0-9+/=]+\\?=\r\n =\\?UTF-8\\?B\\?")) and
    ([.data | scan("=\\?UTF-8\\?B\\?[^?]*\\?=") | length] | max <= 75) and
    (.headers["Content-Transfer-Encoding"] | . == "quoted-printable" or . == "base64") and
    (.body | rtrimstr("\n") | rtrimstr("\r")) == $b' >/dev/null ||
	fail "UTF-8 mail: $(mail_of "$subj")"

# 5. a 2,000-character line (and a line of one dot): whole after decoding
long=$(head -c 2000 /dev/zero | tr '\0' x)
out=$(jctl deliver ops@example.com --payload "$(jq -nc --arg b "$long
.
end" '{subject:"Long", text:$b}')") || fail "long: $out"
echo "$out" | jq -e '.status == "sent"' >/dev/null || fail "long: $out"
wait_for "the long mail" has_mail Long
mail_of Long | jq -e --arg l "$long" '
    .ascii and .longest_line <= 76 and
    .headers["Content-Transfer-Encoding"] == "quoted-printable" and
    (.body | gsub("\r"; "") | rtrimstr("\n")) == ($l + "\n.\nend")' >/dev/null ||
	fail "long line: $(mail_of Long | jq -c '{headers, longest_line, body_len: (.body | length)}')"
# every message has its own Message-ID
[ "$(jq -r 'select(.kind == "smtp") | .headers["Message-ID"]' "$T/hook.log" | sort -u | wc -l)" = 3 ] ||
	fail "Message-IDs: $(jq -r 'select(.kind == "smtp") | .headers["Message-ID"]' "$T/hook.log")"

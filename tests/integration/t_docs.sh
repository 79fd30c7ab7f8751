# The man pages are true to the code: every INI key the loader accepts is
# documented in mobkit.ini(5) under its section, and every mobkitctl verb
# and verb option in mobkitctl(1).  The lists come from the tables the code
# parses with (build/tests/listkeys), so a key or verb added without its
# documentation fails here.
. "$(dirname "$0")/lib.sh"
DOC=$(cd "$(dirname "$0")/../../doc" && pwd)
"$TB/listkeys" >"$T/list" || fail "listkeys failed"
# the lists are whole: a broken lister must not pass for a documented one
[ "$(grep -c '^key mobkitd ' "$T/list")" -ge 15 ] || fail "too few [mobkitd] keys: $(cat "$T/list")"
[ "$(grep -c '^key ' "$T/list")" -ge 150 ] || fail "too few keys"
[ "$(grep -c '^verb ' "$T/list")" -ge 30 ] || fail "too few verbs"
grep -q '^verb route add$' "$T/list" || fail "no 'route add' verb listed"

# mobkit.ini(5): each key as a word of an .It line of its section (.Sh
# [SECTION ...]), or of a Cm line of the section's opening paragraph
awk '
FNR == NR {
	if ($0 ~ /^\.Sh /) {
		sect = ""; intro = 1
		if (match($0, /^\.Sh \[[a-z]+/))
			sect = substr($0, 6, RLENGTH - 5)
		next
	}
	if ($0 ~ /^\.Bl/)
		intro = 0
	if (sect != "" && ($0 ~ /^\.It / || (intro && $0 ~ /(^\.| )Cm /))) {
		n = split($0, w, /[ ,;()]+/)
		for (i = 1; i <= n; i++)
			have[sect SUBSEP w[i]] = 1
	}
	next
}
$1 == "key" && !(($2 SUBSEP $3) in have) {
	print "mobkit.ini(5): [" $2 "] does not document " $3; bad = 1
}
END { exit bad }
' "$DOC/mobkit.ini.5" "$T/list" >"$T/missing" || true

# ... and once: two entries for one key drift apart (one says a default
# the other does not)
awk '
/^\.Sh / { sect = $0; next }
/^\.It Cm / {
	n = split($0, w, /[ ,;()]+/)
	for (i = 3; i <= n && w[i] != "Ar"; i++)
		if (w[i] ~ /^[a-z][a-z_.]*$/ && w[i] != "No" && (sect SUBSEP w[i]) in seen)
			print "mobkit.ini(5): " w[i] " has two entries under " sect
		else
			seen[sect SUBSEP w[i]] = 1
}
' "$DOC/mobkit.ini.5" >>"$T/missing"

# mobkitctl(1): each verb as the Cm of an .It line, each option as Fl
while read -r what line; do
	case $what in
	verb)
		grep -Eq "^\.It (.* )?Cm $line( |\$)" "$DOC/mobkitctl.1" ||
			echo "mobkitctl(1): no entry for the verb $line" ;;
	option)
		opt=${line##* }
		case $opt in
		--*) pat="Fl \\\\-${opt#--}([^a-z-]|\$)" ;;
		*) pat="Fl ${opt#-}([^a-z-]|\$)" ;;
		esac
		grep -Eq "$pat" "$DOC/mobkitctl.1" ||
			echo "mobkitctl(1): the option $opt of ${line% *} is not documented" ;;
	esac
done <"$T/list" >>"$T/missing"
[ -s "$T/missing" ] && fail "undocumented:
$(cat "$T/missing")"

# the user has this repository only: no page names the project's own notes
bad=$(grep -l 'SPEC\.md\|DESIGN\.md\|STYLE\.md' "$DOC/../README.md" "$DOC"/*.[0-9] \
    "$DOC/../etc"/* "$DOC/../debian"/* 2>/dev/null)
[ -z "$bad" ] && [ -f "$DOC/../README.md" ] || fail "SPEC.md or DESIGN.md named in: $bad"

# make demo (etc/demo.sh), which the README's first lines promise, runs to
# its end in a copy of the tree (bin/ and etc/) and exits 0; a second
# demo while the first one's daemon runs says so, exit 1
mkdir -p "$T/tree"
cp -R "$BIN" "$T/tree/bin"
cp -R "$DOC/../etc" "$T/tree/etc"
sh "$T/tree/etc/demo.sh" >"$T/demo.out" 2>&1 || fail "demo.sh exit $?: $(tail -n 20 "$T/demo.out")"
for step in "== the tree" "== kill -9" "completed: echo (turn 1): Summarise the last report" \
    "sent dl-" "1 dispatched" "== reload" "stopped: worker-1 lead-1 scheduler delivery router"; do
	grep -qF "$step" "$T/demo.out" || fail "the demo lacks \"$step\": $(cat "$T/demo.out")"
done
"$T/tree/bin/mobkitd" -c "$T/tree/etc/mobkit.ini" 2>"$T/demo1.log" &
echo $! >"$T/demo1.pid"
wait_for "the first demo daemon" "$T/tree/bin/mobkitctl" -c "$T/tree/etc/mobkit.ini" status
sh "$T/tree/etc/demo.sh" >"$T/demo2.out" 2>&1 && fail "a second demo ran: $(cat "$T/demo2.out")"
grep -q "demo: a mobkitd already runs" "$T/demo2.out" || fail "demo2: $(cat "$T/demo2.out")"
"$T/tree/bin/mobkitctl" -c "$T/tree/etc/mobkit.ini" shutdown >/dev/null || fail "shutdown"
exit 0

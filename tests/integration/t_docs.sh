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
exit 0

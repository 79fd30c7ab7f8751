# npm.sh: npm packages for a test, installed once into a cache directory
# ($MOBKIT_NPM_CACHE, default build/npm).  A machine that cannot install
# them fails the test; it never skips.  NPM_DIR is exported for the node
# scripts of tests/fixtures (they require() from it).
NPM_DIR=${MOBKIT_NPM_CACHE:-$(cd "$FIX/../.." && pwd)/build/npm}
export NPM_DIR

# The versions the tests were written against: a new major release of a
# client library must not turn CI red on its own.
NPM_PINS="@modelcontextprotocol/sdk@1.32.2 openai@6.49.0 puppeteer-core@24.43.1 @modelcontextprotocol/server-everything@2026.8.31"

# npm_name SPEC: the package of NAME or NAME@VERSION (scoped too)
npm_name() { case $1 in ?*@*) echo "${1%@*}" ;; *) echo "$1" ;; esac; }
# npm_pin NAME: NAME@VERSION from NPM_PINS, or NAME
npm_pin() {
	for s in $NPM_PINS; do
		[ "$(npm_name "$s")" = "$1" ] && { echo "$s"; return; }
	done
	echo "$1"
}

# npm_need PACKAGE...: each installed under $NPM_DIR/node_modules (at its
# pinned version), or fail
npm_need() {
	missing=
	for p in "$@"; do
		[ -f "$NPM_DIR/node_modules/$p/package.json" ] ||
			missing="$missing $(npm_pin "$p")"
	done
	[ -z "$missing" ] && return 0
	command -v node >/dev/null || fail "node is not installed (etc/deps.sh installs nodejs and npm)"
	command -v npm >/dev/null || fail "npm is not installed (etc/deps.sh installs nodejs and npm)"
	mkdir -p "$NPM_DIR"
	# shellcheck disable=SC2086
	npm install --prefix "$NPM_DIR" --no-audit --no-fund $missing >"$T/npm.log" 2>&1 ||
		fail "npm install$missing: $(tail -5 "$T/npm.log")"
	for p in "$@"; do
		[ -f "$NPM_DIR/node_modules/$p/package.json" ] || fail "no $p after npm install"
	done
	return 0
}

# npm.sh: npm packages for a test, installed once into a cache directory
# ($MOBKIT_NPM_CACHE, default build/npm).  A machine that cannot install
# them fails the test; it never skips.  NPM_DIR is exported for the node
# scripts of tests/fixtures (they require() from it).
NPM_DIR=${MOBKIT_NPM_CACHE:-$(cd "$FIX/../.." && pwd)/build/npm}
export NPM_DIR

# npm_need PACKAGE...: each installed under $NPM_DIR/node_modules, or fail
npm_need() {
	missing=
	for p in "$@"; do
		[ -f "$NPM_DIR/node_modules/$p/package.json" ] || missing="$missing $p"
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
}

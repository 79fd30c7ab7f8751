# npm.sh: npm packages for a test, installed once into a cache directory
# ($MOBKIT_NPM_CACHE, default build/npm).  A machine that cannot install
# them fails the test; it never skips.  NPM_DIR is exported for the node
# scripts of tests/fixtures (they require() from it).
NPM_DIR=${MOBKIT_NPM_CACHE:-$(cd "$FIX/../.." && pwd)/build/npm}
export NPM_DIR

# The versions the tests were written against: a new major release of a
# client library must not turn CI red on its own.
NPM_PINS="@modelcontextprotocol/sdk@1.32.2 openai@6.49.0 puppeteer-core@24.43.1 @modelcontextprotocol/server-everything@2026.8.31"

# npm_need PACKAGE...: each installed under $NPM_DIR/node_modules, or fail.
# Every pinned package is installed in one npm run, so that npm resolves
# one tree for all of them (one package installed after another makes npm
# re-resolve, and drop or downgrade what the earlier ones needed: zod 4
# for server-everything); a lock keeps tests that run at once from
# installing into the directory together.
npm_need() {
	mkdir -p "$NPM_DIR"
	(
	flock 9 || fail "cannot lock $NPM_DIR/.lock"
	missing=
	for p in "$@"; do
		[ -f "$NPM_DIR/node_modules/$p/package.json" ] || missing="$missing $p"
	done
	[ -z "$missing" ] && exit 0
	command -v node >/dev/null || fail "node is not installed (etc/deps.sh installs nodejs and npm)"
	command -v npm >/dev/null || fail "npm is not installed (etc/deps.sh installs nodejs and npm)"
	# shellcheck disable=SC2086
	npm install --prefix "$NPM_DIR" --no-audit --no-fund $NPM_PINS \
	    >"$T/npm.log" 2>&1 ||
		fail "npm install $NPM_PINS: $(tail -5 "$T/npm.log")"
	for p in "$@"; do
		[ -f "$NPM_DIR/node_modules/$p/package.json" ] || fail "no $p after npm install"
	done
	) 9>>"$NPM_DIR/.lock" || exit 1
	return 0
}

#!/bin/bash
# bench/dashboard_ab.sh BEFORE_REV [RUNS]: the dashboard's first load, side by side: the
# htdocs/ of BEFORE_REV against the working tree's, on one running stack (LAMBDA_TEST_URL,
# LAMBDA_TEST_KEY as for bench/dashboard_load.mjs). Both are copied under htdocs/ab/ (removed
# at the end) and served by the same lighttpd as /ab/before/ and /ab/after/; every run loads
# both, in alternating order, in fresh browser contexts, so that they see the same machine
# load. The working tree's build output (htdocs/vendor/, htdocs/dist/: scripts/build-htdocs.sh)
# must be current; a BEFORE_REV whose index.html loads dist/app.js gets its own bundle here.
# Prints each version's figures and a table of medians with the ratios after/before.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
before=${1:?usage: bench/dashboard_ab.sh BEFORE_REV [RUNS]}
runs=${2:-20}
: "${LAMBDA_TEST_URL:?set LAMBDA_TEST_URL}" "${LAMBDA_TEST_KEY:?set LAMBDA_TEST_KEY}"
git diff --quiet "$before" -- htdocs/ && { echo "dashboard_ab: htdocs/ is the same as in $before" >&2; exit 2; }

ab="$repo/htdocs/ab"
rm -rf "$ab"
trap 'rm -rf "$ab"' EXIT
mkdir -p "$ab/before" "$ab/after"
git archive "$before" htdocs | tar -x -C "$ab/before" --strip-components=1
tar -C htdocs --exclude=./ab -cf - . | tar -C "$ab/after" -xf -
[[ -e $ab/before/vendor ]] || cp -r htdocs/vendor "$ab/before/vendor"
if grep -q 'dist/app.js' "$ab/before/index.html"; then
	node_modules/esbuild/bin/esbuild "$ab/before/js/app.js" --bundle --format=esm --minify \
		--target=es2020 --legal-comments=none --log-level=warning --outfile="$ab/before/dist/app.js"
fi
echo "# before: $(git log -1 --format='%h %s' "$before" | cut -c1-100)"
echo "# after: the working tree of $(git log -1 --format=%h)$(git diff --quiet HEAD -- htdocs/ || echo ' (with changes)')"
echo "# load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
node bench/dashboard_load.mjs "$runs" --trace --paths before=/ab/before/,after=/ab/after/ || true

#!/bin/bash
# bench/dashboard_ab.sh BEFORE_REV [ROUNDS]: the dashboard's first load, side by side: the
# htdocs/ of BEFORE_REV against the working tree's, alternating on one running stack
# (LAMBDA_TEST_URL, LAMBDA_TEST_KEY as for bench/dashboard_load.mjs). The files that differ
# are swapped in place between runs and put back at the end; 10 fresh-context loads per run.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
before=${1:?usage: bench/dashboard_ab.sh BEFORE_REV [ROUNDS]}
rounds=${2:-3}
: "${LAMBDA_TEST_URL:?set LAMBDA_TEST_URL}" "${LAMBDA_TEST_KEY:?set LAMBDA_TEST_KEY}"

mapfile -t files < <(git diff --name-only "$before" -- htdocs/)
((${#files[@]})) || { echo "dashboard_ab: htdocs/ is the same as in $before" >&2; exit 2; }
keep=$(mktemp -d)
trap 'for f in "${files[@]}"; do cp "$keep/${f//\//_}" "$f"; done; rm -rf "$keep"' EXIT
for f in "${files[@]}"; do cp "$f" "$keep/${f//\//_}"; done

for ((round = 1; round <= rounds; round++)); do
	for v in before after; do
		for f in "${files[@]}"; do
			if [[ $v == before ]]; then git show "$before:$f" >"$f"; else cp "$keep/${f//\//_}" "$f"; fi
		done
		echo "## round $round: $v (load $(cut -d' ' -f1-3 /proc/loadavg))"
		node bench/dashboard_load.mjs 10 --trace | grep -v '^  /' || true
	done
done

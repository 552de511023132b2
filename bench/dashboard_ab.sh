#!/bin/bash
# bench/dashboard_ab.sh BEFORE_REV [ROUNDS] [RUNS]: the dashboard's first load, side by side:
# the htdocs/ of BEFORE_REV against the working tree's, alternating on one running stack
# (LAMBDA_TEST_URL, LAMBDA_TEST_KEY as for bench/dashboard_load.mjs). The tracked files that
# differ are swapped in place between runs and put back at the end (files that BEFORE_REV
# does not have stay: its index.html does not load them); the working tree's build output
# (htdocs/dist/, scripts/build-htdocs.sh) must be current. RUNS fresh-context loads per run
# (default 10). Prints each run's trace, then one markdown table row per run (medians, ms).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
before=${1:?usage: bench/dashboard_ab.sh BEFORE_REV [ROUNDS] [RUNS]}
rounds=${2:-3}
runs=${3:-10}
: "${LAMBDA_TEST_URL:?set LAMBDA_TEST_URL}" "${LAMBDA_TEST_KEY:?set LAMBDA_TEST_KEY}"

mapfile -t files < <(git diff --name-only "$before" -- htdocs/)
((${#files[@]})) || { echo "dashboard_ab: htdocs/ is the same as in $before" >&2; exit 2; }
keep=$(mktemp -d)
trap 'for f in "${files[@]}"; do cp "$keep/${f//\//_}" "$f"; done; rm -rf "$keep"' EXIT
for f in "${files[@]}"; do cp "$f" "$keep/${f//\//_}"; done

rows=()
for ((round = 1; round <= rounds; round++)); do
	for v in before after; do
		for f in "${files[@]}"; do
			if [[ $v == after ]]; then
				cp "$keep/${f//\//_}" "$f"
			elif git cat-file -e "$before:$f" 2>/dev/null; then
				git show "$before:$f" >"$f"
			fi
		done
		echo "## round $round: $v (load $(cut -d' ' -f1-3 /proc/loadavg))"
		node bench/dashboard_load.mjs "$runs" --trace --json "$keep/$round-$v.json" | grep -v '^  /' || true
		# shellcheck disable=SC2016 # the script is node's, in single quotes
		rows+=("$(node -e '
const d = JSON.parse(require("fs").readFileSync(process.argv[1]));
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const c = (k, f) => Math.round(med(d.runs.map((r) => r[k][f])));
console.log(`| ${process.argv[2]} | ${process.argv[3]} | ${d.load[0].toFixed(1)} | ${c("signin", "shown")} | ` +
  `${c("signin", "wall")} | ${c("signin", "requests")} | ${c("signin", "bytes")} | ${c("functions", "shown")} | ` +
  `${c("functions", "wall")} | ${c("monitoring", "shown")} |`);
' "$keep/$round-$v.json" "$round" "$v")")
	done
done
echo
echo '| round | version | load 1 min | sign-in usable, page | sign-in, wall | requests | bytes | functions table, page | functions, wall | monitoring data, page |'
echo '|---|---|---|---|---|---|---|---|---|---|'
printf '%s\n' "${rows[@]}"

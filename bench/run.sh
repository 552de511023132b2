#!/bin/bash
# bench/run.sh [--quick] [--only baseline,bootstrap,memory,platform,stack,wrk,apiget]
#              [--langs python,node] [--isolations runc,runsc] [--batching off,on]
#              [--conns 1,32,128]   (the last four pick rows of the wrk section)
#
# Runs the benchmarks of issues 3 and 4 with one command and writes the report to
# bench/results/<date>-<time>.md (the exact command is in the report). Builds or reuses the
# runtime images (scripts/build-images.sh, which also makes sure dockerd answers). The platform
# stack and wrk sections start their own stack under var/bench/ (port LAMBDA_BENCH_PORT, 18089).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

if ! command -v wrk >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
		--no-install-recommends wrk >&2
fi
scripts/build-images.sh >/dev/null

mkdir -p bench/results
out=bench/results/$(date +%Y-%m-%d-%H%M).md
status=0
/usr/bin/python3 bench/bench.py --out "$out" --command "bench/run.sh${*:+ $*}" "$@" || status=$?
echo "report: $out" >&2
exit "$status"

#!/usr/bin/env bash
# The long runs of the reliability tests, on a stack of your own (not part
# of scripts/test.sh: they take minutes).
#
#   tests/soak/soak.sh [soak|load60|all]
#
#   soak    10 minutes of load on warm functions (tests/soak/soak.py): RSS of
#           lighttpd, the lambda-api workers and the executor at start and
#           end, growth <= 10% asserted; zero 5xx; every 2xx recorded
#   load60  tests/integration/test_load_warm.py with 60 s per phase (32, 128
#           and 512 connections)
#
# Environment: LAMBDA_VAR (default <repo>/var-soak), LAMBDA_PORT (default
# 18090), SOAK_SECONDS (600), SOAK_CONNS (64), SOAK_RATE (requests/s,
# default unlimited), SOAK_MAX_GROWTH (10).
# The stack is started (scripts/stack.sh start all) and left running; stop
# it with `LAMBDA_VAR=... scripts/stack.sh stop all`. Build first (make, or
# scripts/build.sh) and have the images (scripts/build-images.sh).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export LAMBDA_VAR=${LAMBDA_VAR:-$REPO/var-soak}
export LAMBDA_PORT=${LAMBDA_PORT:-18090}
export LAMBDA_TEST_VAR=$LAMBDA_VAR LAMBDA_TEST_PORT=$LAMBDA_PORT
what=${1:-soak}

"$REPO/scripts/dockerd.sh"
"$REPO/scripts/stack.sh" start all
rc=0
case $what in
soak) /usr/bin/python3 -u "$REPO/tests/soak/soak.py" || rc=$? ;;
load60) LAMBDA_LOAD_SECONDS=60 /usr/bin/python3 -u "$REPO/tests/integration/test_load_warm.py" || rc=$? ;;
all)
	/usr/bin/python3 -u "$REPO/tests/soak/soak.py" || rc=$?
	LAMBDA_LOAD_SECONDS=60 /usr/bin/python3 -u "$REPO/tests/integration/test_load_warm.py" || rc=$?
	;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
exit "$rc"

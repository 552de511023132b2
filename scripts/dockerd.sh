#!/usr/bin/env bash
# Makes sure the machine's shared Docker engine answers on
# /var/run/docker.sock, starting `dockerd --bridge=none --iptables=false`
# when nothing answers. Idempotent and safe to run concurrently (machine
# lock). Never stops or restarts dockerd: other stacks share it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

DOCKERD_LOG=/var/log/lambda-dockerd.log
TIMEOUT=${LAMBDA_DOCKERD_TIMEOUT:-60}

need_root
docker_up && exit 0

command -v dockerd >/dev/null || die "dockerd not installed: run scripts/deps.sh"
lock_acquire dockerd 120
if ! docker_up; then
	if pids=$(pidof dockerd); then
		log "dockerd ($pids) is running but not answering yet: waiting"
	else
		log "starting dockerd (log: $DOCKERD_LOG)"
		# Its own session so that it outlives this script and its caller's
		# process group (CI, test traps).
		spawn_detached "$DOCKERD_LOG" dockerd --bridge=none --iptables=false
	fi
fi
deadline=$((SECONDS + TIMEOUT))
until docker_up && docker_api GET /info >/dev/null 2>&1; do
	if ((SECONDS >= deadline)); then
		tail -n 20 "$DOCKERD_LOG" >&2 || true
		die "dockerd did not answer on $DOCKER_SOCK within ${TIMEOUT}s (log: $DOCKERD_LOG)"
	fi
	sleep 0.5
done
log "dockerd answers: $(docker_api GET /version | jq -r '"Docker \(.Version), API \(.ApiVersion)"')"

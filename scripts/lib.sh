# shellcheck shell=bash
# shellcheck disable=SC2034  # variables here are used by the sourcing scripts
# Helpers sourced by every script in scripts/: logging, where things live
# (var dir, port, build dir, instance id), locks, and process control that
# only ever signals processes we started, by PID.
#
# Environment:
#   LAMBDA_VAR    run-time directory (default <repo>/var)
#   LAMBDA_PORT   lighttpd port on 127.0.0.1 (default: the port the var
#                 dir's stack was last started on, $LAMBDA_VAR/run/port;
#                 8080 for a var dir never started)
#   LAMBDA_BUILD  where the binaries were built (default <repo>; an
#                 out-of-tree build such as build-asan/ runs the same stack)

if [[ -n "${LAMBDA_LIB_SOURCED:-}" ]]; then
	return 0
fi
LAMBDA_LIB_SOURCED=1

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
SCRIPTS="$REPO/scripts"

# ---------------------------------------------------------------- logging

# A command that fails under `set -e` names itself instead of ending the
# script silently.
set -E
lambda_rc=0
trap 'lambda_rc=$?; echo "[$(basename "$0") error] ${BASH_SOURCE[0]##*/}:$LINENO: \"$BASH_COMMAND\" failed (status $lambda_rc)" >&2' ERR

LAMBDA_LOG_TAG=${LAMBDA_LOG_TAG:-$(basename "$0" .sh)}

log() {
	printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$LAMBDA_LOG_TAG" "$*" >&2
}

warn() {
	printf '[%s %s] warning: %s\n' "$(date +%H:%M:%S)" "$LAMBDA_LOG_TAG" "$*" >&2
}

die() {
	die_status 1 "$@"
}

# die_status STATUS MESSAGE...: die with another exit status than 1.
die_status() {
	local status=$1
	shift
	printf '[%s %s] error: %s\n' "$(date +%H:%M:%S)" "$LAMBDA_LOG_TAG" "$*" >&2
	exit "$status"
}

need_root() {
	[[ $(id -u) -eq 0 ]] || die "must run as root (apt-get, dockerd, docker.sock)"
}

# ---------------------------------------------------------------- locations

# Absolute path even when the directory does not exist yet.
abspath() {
	realpath -m -- "$1"
}

VAR=$(abspath "${LAMBDA_VAR:-$REPO/var}")
BUILD=$(abspath "${LAMBDA_BUILD:-$REPO}")
CONF="$VAR/lambda.conf"
RUN="$VAR/run"
LOGDIR="$VAR/log"
DOCKER_SOCK=/var/run/docker.sock
EXECUTOR_BIN="$BUILD/executor/lambda-executor"
API_BIN="$BUILD/fcgi-app/lambda-api"

# The port of the var dir's stack: stack.sh writes $RUN/port once lighttpd
# answers on it, so that a script run with LAMBDA_VAR alone acts on that
# stack's port, not on 8080 (another stack's). A stack started before that
# file existed is known by the server.port of its generated lighttpd.conf.
# Prints nothing for a var dir never started.
remembered_port() {
	local p=
	if [[ -r $RUN/port ]]; then
		read -r p <"$RUN/port" || p=
	elif [[ -r $RUN/lighttpd.conf ]]; then
		p=$(sed -n 's/^server\.port[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' \
			"$RUN/lighttpd.conf" | tail -n 1)
	fi
	if [[ $p =~ ^[0-9]+$ ]]; then
		printf '%s\n' "$p"
	fi
	return 0
}

PORT=${LAMBDA_PORT:-$(remembered_port)}
PORT=${PORT:-8080}
if ! [[ $PORT =~ ^[0-9]+$ ]] || ((PORT < 1 || PORT > 65535)); then
	die "LAMBDA_PORT must be a TCP port number, got '$PORT'"
fi

# The instance id separates the containers of stacks sharing one dockerd:
# the first 12 hex digits of sha256 of the absolute var path (docs/design.md).
instance_id() {
	printf '%s' "$VAR" | sha256sum | cut -c1-12
}
INSTANCE=$(instance_id)

ensure_var_dirs() {
	mkdir -p "$VAR" "$RUN" "$LOGDIR" "$VAR/code" "$VAR/journal"
	chmod 0755 "$VAR" "$VAR/code"
	chmod 0750 "$RUN" "$LOGDIR" "$VAR/journal"
}

# ---------------------------------------------------------------- locks

# Machine-wide locks for what all stacks share (apt, dockerd, images):
# `lock_acquire NAME [TIMEOUT]` holds /run/lock/lambda-NAME.lock until
# `lock_release NAME` or the end of the script. `lock_acquire_file NAME
# PATH [TIMEOUT]` does the same for a lock file of one stack.
declare -A LAMBDA_LOCK_FDS=()

lock_acquire() {
	local dir=/run/lock
	[[ -d $dir && -w $dir ]] || dir=/tmp
	lock_acquire_file "$1" "$dir/lambda-$1.lock" "${2:-900}"
}

lock_acquire_file() {
	local name=$1 path=$2 timeout=${3:-900} fd
	exec {fd}>"$path"
	if ! flock -n "$fd"; then
		log "waiting for lock $path"
		flock -w "$timeout" "$fd" || die "timed out waiting for lock $path"
	fi
	LAMBDA_LOCK_FDS[$name]=$fd
}

lock_release() {
	local name=$1 fd=${LAMBDA_LOCK_FDS[$1]:-}
	[[ -n $fd ]] || return 0
	flock -u "$fd"
	exec {fd}>&-
	unset "LAMBDA_LOCK_FDS[$name]"
}

# spawn_detached LOG CMD...: starts CMD in the background in a session of
# its own (so that it outlives us and our process group), stdin closed,
# output appended to LOG, without our lock fds (a daemon that inherited
# one would hold the lock forever). Sets SPAWNED_PID.
spawn_detached() {
	local logfile=$1
	shift
	(
		for fd in "${LAMBDA_LOCK_FDS[@]}"; do
			exec {fd}>&-
		done
		exec setsid "$@" </dev/null >>"$logfile" 2>&1
	) &
	SPAWNED_PID=$!
}

# ---------------------------------------------------------------- processes

# pid_matches PID NAME: PID is alive and its executable's base name or
# comm is NAME, or (for our bash supervisors) its command line contains
# NAME, which callers make specific (a subcommand and a var path). This guards against signalling a
# recycled PID that now belongs to somebody else.
pid_matches() {
	local pid=$1 name=$2 exe comm
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[[ -d /proc/$pid ]] || return 1
	# A zombie has ended (our PID 1 may be slow to reap, or never reap).
	[[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]] || return 1
	comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || exe=
	exe=${exe% (deleted)}
	[[ $comm == "${name:0:15}" || ${exe##*/} == "$name" ]] && return 0
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$name"
}

# pidfile_pid FILE NAME: print the PID recorded in FILE if that process is
# alive and is NAME; fails otherwise.
pidfile_pid() {
	local file=$1 name=$2 pid
	[[ -r $file ]] || return 1
	read -r pid <"$file" || return 1
	pid_matches "$pid" "$name" || return 1
	printf '%s\n' "$pid"
}

# wait_pid_gone PID SECONDS: 0 once PID has exited, 1 on timeout.
wait_pid_gone() {
	local pid=$1 deadline=$((SECONDS + $2))
	while [[ -d /proc/$pid ]]; do
		# A zombie of ours is gone for our purposes.
		[[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && return 0
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
	return 0
}

# stop_pid PID NAME [SECONDS]: SIGTERM, wait, then SIGKILL. Only if PID
# is still NAME.
stop_pid() {
	local pid=$1 name=$2 grace=${3:-15}
	pid_matches "$pid" "$name" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	if ! wait_pid_gone "$pid" "$grace"; then
		warn "$name ($pid) ignored SIGTERM for ${grace}s: SIGKILL"
		pid_matches "$pid" "$name" && kill -KILL "$pid" 2>/dev/null
		wait_pid_gone "$pid" 5 || warn "$name ($pid) survived SIGKILL"
	fi
}

# stop_pidfile FILE NAME [SECONDS]
stop_pidfile() {
	local file=$1 name=$2 pid
	if pid=$(pidfile_pid "$file" "$name"); then
		stop_pid "$pid" "$name" "${3:-15}"
	fi
	rm -f "$file"
}

# kill_pidfile FILE NAME: SIGKILL (fault injection); keeps nothing waiting.
kill_pidfile() {
	local file=$1 name=$2 pid
	if pid=$(pidfile_pid "$file" "$name"); then
		kill -KILL "$pid" 2>/dev/null || true
		wait_pid_gone "$pid" 5 || true
		return 0
	fi
	return 1
}

# ---------------------------------------------------------------- docker

docker_api() {
	# docker_api METHOD PATH: the Engine API over the unix socket.
	curl -sS --fail --max-time "${DOCKER_API_TIMEOUT:-30}" \
		--unix-socket "$DOCKER_SOCK" -X "$1" "http://localhost/v1.41$2"
}

docker_up() {
	[[ -S $DOCKER_SOCK ]] &&
		curl -s --max-time 3 --unix-socket "$DOCKER_SOCK" \
			http://localhost/_ping 2>/dev/null | grep -qx OK
}

# ---------------------------------------------------------------- misc

# Milliseconds since the epoch, for per-phase timing.
now_ms() {
	date +%s%3N
}

conf_get() {
	# conf_get KEY: value of KEY in $CONF (empty when absent).
	[[ -r $CONF ]] || return 0
	sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$CONF" | tail -n 1
}

#!/usr/bin/env bash
# Starts, stops and inspects one stack: a private MariaDB, the executor
# (under a small supervisor that restarts it when it dies) and lighttpd with
# the preforked FastCGI API. Everything lives under $LAMBDA_VAR; several
# stacks (other var dirs and ports) run side by side on one machine.
#
# Usage: scripts/stack.sh {start|stop|restart|kill|status} {mariadb|executor|lighttpd|all}
#
#   start    idempotent: what already runs is kept
#   stop     SIGTERM, then SIGKILL after a grace period; leaves no FastCGI
#            worker and (executor, all) removes this instance's containers
#   kill     SIGKILL, for fault tests. `kill executor` kills the executor
#            only: its supervisor starts it again about a second later
#            (use `stop executor` to keep it down); `kill all` kills the
#            supervisor too.
#   status   one line per component; exit 0 only when all asked for run
#
# The port: LAMBDA_PORT, else the one this var dir's stack was last started
# on ($LAMBDA_VAR/run/port), else 8080. LAMBDA_PORT naming another port than
# that of the var dir's running stack is refused (exit status 2) by every
# action but stop and kill; a stopped stack may start on a new port.
#
# Environment: LAMBDA_VAR, LAMBDA_PORT, LAMBDA_BUILD (see scripts/lib.sh),
# LAMBDA_LOG_LEVEL (default info), LAMBDA_MAX_REQUEST_KB (lighttpd's
# server.max-request-size, default 70000 KiB: a 50 MB zip in base64 JSON),
# LAMBDA_API_PROCS (lambda-api processes lighttpd preforks, max-procs, 1-64,
# default 2), LAMBDA_API_HIST (a file: lambda-api keeps request timing
# histograms and appends them to FILE.<pid> on SIGUSR2 and at exit),
# LAMBDA_API_LINGER=1 (libfcgi's lingering close after every request, the
# behaviour before 2026-12-06: for side-by-side benchmarks).
# Extra configuration: lines of $LAMBDA_VAR/lambda.local.conf replace or
# extend the generated $LAMBDA_VAR/lambda.conf.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

DB_NAME=lambda
DB_USER=lambda
MYSQL_SOCK="$RUN/mysql.sock"
MYSQL_PID="$RUN/mysql.pid"
EXECUTOR_PID="$RUN/executor.pid"
EXECUTOR_SOCK="$RUN/executor.sock"
SUPERVISOR_PID="$RUN/executor-supervisor.pid"
SUPERVISOR_TAG="__supervise-executor $VAR"
LIGHTTPD_PID="$RUN/lighttpd.pid"
LIGHTTPD_CONF="$RUN/lighttpd.conf"

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}

# ================================================================ config

new_password() {
	local s
	s=$(head -c 48 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9')
	printf '%s' "${s:0:32}"
}

# Writes $CONF (0600) from the stack's locations, keeping the database
# password of an existing file; keys in lambda.local.conf override ours.
write_conf() {
	local pw tmp
	ensure_var_dirs
	mkdir -p "$VAR/tmp"
	pw=$(conf_get api.db_password)
	[[ -n $pw ]] || pw=$(new_password)
	# The function containers' seccomp profile, from this checkout's
	# docker/seccomp/allow.txt (rewritten only when it changed).
	"$SCRIPTS/seccomp.sh" "$RUN/seccomp.json"
	tmp=$(mktemp "$VAR/.lambda.conf.XXXXXX")
	chmod 0600 "$tmp"
	{
		echo "# Written by scripts/stack.sh: put your own settings in $VAR/lambda.local.conf"
		echo "var_dir = $VAR"
		echo "instance = $INSTANCE"
		echo "log_level = ${LAMBDA_LOG_LEVEL:-info}"
		echo "executor_socket = $EXECUTOR_SOCK"
		echo "code_dir = $VAR/code"
		echo "api.db_socket = $MYSQL_SOCK"
		echo "api.db_name = $DB_NAME"
		echo "api.db_user = $DB_USER"
		echo "api.db_password = $pw"
		echo "api.journal_dir = $VAR/journal"
		echo "executor.docker_socket = $DOCKER_SOCK"
		echo "executor.seccomp_profile = $RUN/seccomp.json"
		# This checkout's content tags, not the machine-wide :latest that
		# another checkout's build-images.sh may have moved.
		"$SCRIPTS/build-images.sh" --print-tags | while read -r rt tag; do
			echo "executor.image_$rt = $tag"
		done
	} | merge_local_conf >"$tmp"
	if cmp -s "$tmp" "$CONF"; then
		rm -f "$tmp"
	else
		mv -f "$tmp" "$CONF"
	fi
}

# stdin: generated key = value lines; stdout: the same with the keys of
# lambda.local.conf replaced, and its other lines appended.
merge_local_conf() {
	local local_conf="$VAR/lambda.local.conf"
	if [[ ! -r $local_conf ]]; then
		cat
		return
	fi
	awk -v lf="$local_conf" '
		function key(line) { sub(/^[ \t]*/, "", line); sub(/[ \t]*=.*/, "", line); return line }
		BEGIN { while ((getline l < lf) > 0) if (l ~ /=/ && l !~ /^[ \t]*#/) over[key(l)] = l; n = 0 }
		/=/ && !/^[ \t]*#/ && (key($0) in over) { print over[key($0)]; done[key($0)] = 1; next }
		{ print }
		END { for (k in over) if (!(k in done)) print over[k] }
	'
}

# await_start PID NAME LOG SECONDS CHECK...: waits until CHECK succeeds;
# fails with the end of LOG when the process exits or time runs out.
await_start() {
	local pid=$1 name=$2 logfile=$3 secs=$4 deadline=$((SECONDS + $4))
	shift 4
	until "$@"; do
		if ! pid_matches "$pid" "$name"; then
			tail -n 20 "$logfile" >&2 || true
			die "$name exited during start-up (log: $logfile)"
		fi
		((SECONDS < deadline)) || die "$name did not answer within ${secs}s (log: $logfile)"
		sleep 0.1
	done
}

# ================================================================ mariadb

mysql_root() {
	mariadb --no-defaults --socket="$MYSQL_SOCK" -uroot "$@"
}

mariadb_answers() {
	mariadb-admin --no-defaults --socket="$MYSQL_SOCK" -uroot \
		--connect-timeout=2 ping >/dev/null 2>&1
}

mariadb_init() {
	local db="$VAR/db"
	[[ -f $db/.lambda-initialized ]] && return 0
	# A datadir without the marker is from an interrupted first run: it
	# never held data of ours.
	rm -rf "$db"
	log "initialising MariaDB in $db"
	mariadb-install-db --no-defaults --user=root --datadir="$db" \
		--skip-test-db --auth-root-authentication-method=socket \
		>"$LOGDIR/mysql-install.log" 2>&1 ||
		die "mariadb-install-db failed: see $LOGDIR/mysql-install.log"
}

mariadb_setup() {
	local pw
	pw=$(conf_get api.db_password)
	[[ $pw =~ ^[A-Za-z0-9]+$ ]] || die "api.db_password in $CONF must be alphanumeric"
	mysql_root --batch <<-SQL
		CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$pw';
		ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$pw';
		GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'localhost';
	SQL
	touch "$VAR/db/.lambda-initialized"
	"$SCRIPTS/migrate.sh"
}

mariadb_start() {
	local pid
	write_conf
	if pid=$(pidfile_pid "$MYSQL_PID" mariadbd); then
		if mariadb_answers; then
			log "mariadb: running ($pid)"
		else
			# Ours, still starting (crash recovery after a kill takes a while).
			log "mariadb: running ($pid), waiting for it to answer"
			await_start "$pid" mariadbd "$LOGDIR/mysql.err" 60 mariadb_answers
		fi
	else
		mariadb_init
		log "starting mariadb (socket $MYSQL_SOCK)"
		spawn_detached "$LOGDIR/mysql.err" mariadbd --no-defaults --user=root --datadir="$VAR/db" \
			--socket="$MYSQL_SOCK" --pid-file="$MYSQL_PID" --skip-networking \
			--log-error="$LOGDIR/mysql.err" --tmpdir="$VAR/tmp" \
			--innodb_flush_log_at_trx_commit=1 \
			--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
			--max-connections=512 --max-allowed-packet=128M
		echo "$SPAWNED_PID" >"$MYSQL_PID"
		await_start "$SPAWNED_PID" mariadbd "$LOGDIR/mysql.err" 60 mariadb_answers
	fi
	mariadb_setup
}

mariadb_stop() {
	stop_pidfile "$MYSQL_PID" mariadbd 60
}

# ================================================================ executor

require_binary() {
	local what=$1 bin=$2
	[[ -x $bin ]] || die "$what binary missing: build first ($bin; run scripts/up.sh, or make)"
}

# The supervisor: runs in its own session, restarts the executor when it
# exits unless asked to stop (SIGTERM), backing off up to 10 s when it
# keeps dying at once.
supervise_executor() {
	local child="" stopping=0 rc started delay=1
	trap 'stopping=1; [[ -n $child ]] && kill -TERM "$child" 2>/dev/null' TERM INT
	echo "$BASHPID" >"$SUPERVISOR_PID"
	while :; do
		started=$SECONDS
		"$EXECUTOR_BIN" -c "$CONF" </dev/null >>"$LOGDIR/executor.log" 2>&1 &
		child=$!
		echo "$child" >"$EXECUTOR_PID"
		rc=0
		while :; do
			wait "$child" && rc=0 || rc=$?
			[[ -d /proc/$child ]] || break
		done
		((stopping)) && break
		if ((SECONDS - started >= 30)); then delay=1; fi
		log "executor ($child) exited with status $rc: restarting in ${delay}s"
		sleep "$delay" &
		wait $! || true
		((stopping)) && break
		delay=$((delay * 2 > 10 ? 10 : delay * 2))
	done
	rm -f "$EXECUTOR_PID" "$SUPERVISOR_PID"
}

executor_start() {
	local sup pid deadline
	require_binary executor "$EXECUTOR_BIN"
	write_conf
	docker_up || warn "the Docker engine does not answer: calls will fail until scripts/dockerd.sh"
	if sup=$(pidfile_pid "$SUPERVISOR_PID" " $SUPERVISOR_TAG "); then
		log "executor: supervised by $sup"
		return 0
	fi
	# An executor left without its supervisor (supervisor killed).
	stop_pidfile "$EXECUTOR_PID" lambda-executor 20
	rm -f "$EXECUTOR_SOCK"
	log "starting executor (log $LOGDIR/executor.log)"
	spawn_detached "$LOGDIR/executor.log" "$SCRIPTS/stack.sh" __supervise-executor "$VAR"
	deadline=$((SECONDS + 20))
	until [[ -S $EXECUTOR_SOCK ]]; do
		pid=$(pidfile_pid "$EXECUTOR_PID" lambda-executor) || pid=
		if ((SECONDS >= deadline)); then
			tail -n 20 "$LOGDIR/executor.log" >&2 || true
			executor_stop
			die "the executor did not open $EXECUTOR_SOCK within 20s (log: $LOGDIR/executor.log)"
		fi
		sleep 0.1
	done
	pid=$(pidfile_pid "$EXECUTOR_PID" lambda-executor) || pid='?'
	log "executor: running ($pid), socket $EXECUTOR_SOCK"
}

executor_stop() {
	local sup exe deadline
	sup=$(pidfile_pid "$SUPERVISOR_PID" " $SUPERVISOR_TAG ") || sup=
	exe=$(pidfile_pid "$EXECUTOR_PID" lambda-executor) || exe=
	if [[ -n $sup ]]; then
		# The supervisor forwards SIGTERM to the executor and then exits.
		kill -TERM "$sup" 2>/dev/null || true
	elif [[ -n $exe ]]; then
		kill -TERM "$exe" 2>/dev/null || true
	fi
	deadline=$((SECONDS + 15))
	while { [[ -n $exe ]] && pid_matches "$exe" lambda-executor; } ||
		{ [[ -n $sup ]] && pid_matches "$sup" " $SUPERVISOR_TAG "; }; do
		if ((SECONDS >= deadline)); then
			if [[ -n $exe ]] && pid_matches "$exe" lambda-executor; then
				warn "executor ($exe) still running 15s after SIGTERM: SIGKILL"
				kill -KILL "$exe" 2>/dev/null || true
			fi
			wait_pid_gone "$exe" 5 || true
			[[ -n $sup ]] && stop_pid "$sup" " $SUPERVISOR_TAG " 2
			break
		fi
		sleep 0.1
	done
	rm -f "$SUPERVISOR_PID" "$EXECUTOR_PID" "$EXECUTOR_SOCK"
}

# Removes this instance's containers (label lambda.instance=<id>) through
# the Engine API; the executor does it too, this is the safety net.
remove_containers() {
	local ids id n=0
	docker_up || return 0
	ids=$(curl -sS --fail --max-time 30 --unix-socket "$DOCKER_SOCK" -G \
		--data-urlencode "all=1" \
		--data-urlencode "filters={\"label\":[\"lambda.instance=$INSTANCE\"]}" \
		http://localhost/v1.41/containers/json | jq -r '.[].Id') ||
		{ warn "could not list containers of instance $INSTANCE"; return 0; }
	for id in $ids; do
		docker_api DELETE "/containers/$id?force=1&v=1" >/dev/null || warn "could not remove container $id"
		n=$((n + 1))
	done
	((n == 0)) || log "removed $n container(s) of instance $INSTANCE"
}

# ================================================================ lighttpd

# FastCGI workers of this stack: lambda-api processes whose LAMBDA_CONF is
# ours (lighttpd's children, or orphans a killed lighttpd left behind).
api_worker_pids() {
	local pid
	for pid in $(pgrep -x lambda-api || true); do
		pid_matches "$pid" lambda-api || continue
		tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" |
			grep -qxF "LAMBDA_CONF=$CONF" && echo "$pid"
	done
	return 0
}

reap_api_workers() {
	local pid pids left deadline
	pids=$(api_worker_pids)
	[[ -n $pids ]] || return 0
	for pid in $pids; do
		pid_matches "$pid" lambda-api && kill -TERM "$pid" 2>/dev/null
	done
	deadline=$((SECONDS + 10))
	while :; do
		left=
		for pid in $pids; do
			pid_matches "$pid" lambda-api && left+=" $pid"
		done
		if [[ -z $left ]] || ((SECONDS >= deadline)); then
			break
		fi
		sleep 0.1
	done
	for pid in $left; do
		warn "FastCGI worker $pid ignored SIGTERM for 10s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	done
	log "reaped FastCGI worker(s): $(echo "$pids" | tr '\n' ' ')"
}

lighttpd_write_conf() {
	local tmp procs=${LAMBDA_API_PROCS:-2}
	[[ $procs =~ ^[1-9][0-9]?$ && $procs -le 64 ]] ||
		die "LAMBDA_API_PROCS must be 1-64 (lambda-api processes), not '$procs'"
	tmp=$(mktemp "$RUN/.lighttpd.conf.XXXXXX")
	sed -e "s|@PORT@|$PORT|g" -e "s|@VAR@|$VAR|g" -e "s|@HTDOCS@|$REPO/htdocs|g" \
		-e "s|@API_BIN@|$API_BIN|g" -e "s|@CONF@|$CONF|g" \
		-e "s|@MAX_REQUEST_KB@|${LAMBDA_MAX_REQUEST_KB:-70000}|g" \
		-e "s|@API_PROCS@|$procs|g" "$REPO/lighttpd.conf" >"$tmp"
	mv -f "$tmp" "$LIGHTTPD_CONF"
	lighttpd -tt -f "$LIGHTTPD_CONF" >/dev/null 2>"$RUN/lighttpd-check.err" || {
		cat "$RUN/lighttpd-check.err" >&2
		die "lighttpd rejects $LIGHTTPD_CONF"
	}
}

http_answers() {
	curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/" 2>/dev/null
}

lighttpd_start() {
	local pid
	require_binary lambda-api "$API_BIN"
	write_conf
	mkdir -p "$REPO/htdocs" "$VAR/tmp"
	if pid=$(pidfile_pid "$LIGHTTPD_PID" lighttpd); then
		log "lighttpd: running ($pid) on http://127.0.0.1:$PORT/"
		echo "$PORT" >"$RUN/port"
		return 0
	fi
	http_answers && die "port $PORT is taken by another program: choose LAMBDA_PORT"
	reap_api_workers
	rm -f "$RUN"/api.sock*
	lighttpd_write_conf
	log "starting lighttpd on http://127.0.0.1:$PORT/"
	spawn_detached "$LOGDIR/lighttpd.log" lighttpd -D -f "$LIGHTTPD_CONF"
	echo "$SPAWNED_PID" >"$LIGHTTPD_PID"
	await_start "$SPAWNED_PID" lighttpd "$LOGDIR/lighttpd.log" 20 http_answers
	echo "$PORT" >"$RUN/port" # remembered_port (lib.sh)
}

lighttpd_stop() {
	stop_pidfile "$LIGHTTPD_PID" lighttpd 20
	# libfcgi apps may outlive lighttpd (RECIPES.md): end ours, by PID.
	reap_api_workers
	rm -f "$RUN"/api.sock*
}

# ================================================================ kill

kill_component() {
	case $1 in
	mariadb) kill_pidfile "$MYSQL_PID" mariadbd || log "mariadb: not running" ;;
	executor) kill_pidfile "$EXECUTOR_PID" lambda-executor || log "executor: not running" ;;
	lighttpd) kill_pidfile "$LIGHTTPD_PID" lighttpd || log "lighttpd: not running" ;;
	all)
		kill_pidfile "$SUPERVISOR_PID" " $SUPERVISOR_TAG " || true
		kill_component executor
		kill_component lighttpd
		local pid
		for pid in $(api_worker_pids); do kill -KILL "$pid" 2>/dev/null || true; done
		kill_component mariadb
		;;
	esac
}

# ================================================================ status

status_line() {
	local name=$1 file=$2 proc=$3 extra=${4:-} pid
	if pid=$(pidfile_pid "$file" "$proc"); then
		printf '%-9s running (pid %s)%s\n' "$name" "$pid" "$extra"
		return 0
	fi
	printf '%-9s stopped\n' "$name"
	return 1
}

status() {
	local rc=0 health
	echo "stack     var $VAR, instance $INSTANCE, port $PORT, build $BUILD"
	case $1 in mariadb | all)
		status_line mariadb "$MYSQL_PID" mariadbd ", socket $MYSQL_SOCK" || rc=1 ;;
	esac
	case $1 in executor | all)
		status_line executor "$EXECUTOR_PID" lambda-executor ", socket $EXECUTOR_SOCK" || rc=1 ;;
	esac
	case $1 in lighttpd | all)
		health=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 \
			"http://127.0.0.1:$PORT/api/health" 2>/dev/null) || true
		status_line lighttpd "$LIGHTTPD_PID" lighttpd \
			", http://127.0.0.1:$PORT/ (api/health: ${health:-no answer}), workers: $(api_worker_pids | wc -l)" || rc=1
		;;
	esac
	return $rc
}

# ================================================================ main

# A var dir's stack has one port: LAMBDA_PORT naming another one while its
# lighttpd runs is refused with status 2 (acting on it would start a second
# lighttpd elsewhere, or report on the wrong port). A stopped stack may move.
refuse_other_port() {
	local had pid
	[[ -n ${LAMBDA_PORT:-} ]] || return 0
	had=$(remembered_port)
	[[ -n $had ]] && ((10#$had != 10#$PORT)) || return 0
	pid=$(pidfile_pid "$LIGHTTPD_PID" lighttpd) || return 0
	die_status 2 "the stack in $VAR runs on port $had (lighttpd $pid), not LAMBDA_PORT=$PORT: unset LAMBDA_PORT, or stop the stack first to move it"
}

start() {
	case $1 in
	mariadb) mariadb_start ;;
	executor) executor_start ;;
	lighttpd) lighttpd_start ;;
	all)
		# Check both binaries before starting anything.
		require_binary executor "$EXECUTOR_BIN"
		require_binary lambda-api "$API_BIN"
		mariadb_start
		executor_start
		lighttpd_start
		;;
	esac
}

stop() {
	case $1 in
	mariadb) mariadb_stop ;;
	executor) executor_stop && remove_containers ;;
	lighttpd) lighttpd_stop ;;
	all)
		lighttpd_stop
		executor_stop
		remove_containers
		mariadb_stop
		;;
	esac
}

main() {
	if [[ ${1:-} == __supervise-executor ]]; then
		supervise_executor
		return
	fi
	(($# == 2)) || usage
	case $2 in mariadb | executor | lighttpd | all) ;; *) usage ;; esac
	# stop and kill need no port (they act by PID) and must always work
	case $1 in stop | kill) ;; *) refuse_other_port ;; esac
	if [[ $1 == status ]]; then
		status "$2" || exit 1
		return 0
	fi
	need_root
	ensure_var_dirs
	lock_acquire_file stack "$RUN/stack.lock" 300
	case $1 in
	start) start "$2" ;;
	stop) stop "$2" ;;
	restart)
		stop "$2"
		start "$2"
		;;
	kill) kill_component "$2" ;;
	*) usage ;;
	esac
}

main "$@"

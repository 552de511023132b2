#!/usr/bin/env bash
# Installs everything the platform, its build and its tests need on a
# Debian 12 machine, idempotently (a fast path skips apt when all is there):
#  - Debian packages (build, run, test, analysis);
#  - Debian 13's runsc (systrap platform) next to bookworm's, both
#    registered as Docker runtimes in /etc/docker/daemon.json, and
#    `runsc-lambda` (systrap, --oci-seccomp) for the platform's gVisor
#    containers;
#  - the npm packages of package.json (dashboard assets, browser tests).
# Safe to run concurrently: apt and daemon.json work under a machine lock.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
	# build
	gcc make autoconf automake libtool pkg-config git
	libfcgi-dev libcjson-dev libmariadb-dev libcurl4-openssl-dev
	libssl-dev zlib1g-dev libcmocka-dev
	# run
	lighttpd mariadb-server mariadb-client docker.io runsc debootstrap
	ca-certificates curl jq zip unzip procps
	# tests, benchmarks, analysis
	python3 python3-boto3 awscli chromium wrk
	clang libclang-rt-14-dev clang-format clang-tools cppcheck shellcheck
)

RUNSC_SYSTRAP=/usr/local/lib/lambda/runsc-systrap/runsc
RUNSC_PTRACE=/usr/bin/runsc
DAEMON_JSON=/etc/docker/daemon.json
APT=(apt-get -o DPkg::Lock::Timeout=300 -o APT::Sandbox::User=root)

missing_packages() {
	local p status
	for p in "${PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) || status=
		[[ $status == "install ok installed" ]] || printf '%s\n' "$p"
	done
	# node and npm: any install will do (the machine may carry a newer
	# Node.js than Debian's, whose package already includes npm).
	command -v node >/dev/null || printf '%s\n' nodejs
	command -v npm >/dev/null || printf '%s\n' npm
}

install_packages() {
	local missing
	mapfile -t missing < <(missing_packages)
	if ((${#missing[@]} == 0)); then
		log "Debian packages: all present"
		return 0
	fi
	log "installing: ${missing[*]}"
	"${APT[@]}" update -qq
	"${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	mapfile -t missing < <(missing_packages)
	((${#missing[@]} == 0)) || die "still missing after apt-get install: ${missing[*]}"
}

# Debian 13's runsc without touching the system's apt sources: a private
# sources.list, lists and cache in a temp dir, `apt-get download`, dpkg -x.
fetch_runsc_systrap() {
	local tmp deb
	if [[ -x $RUNSC_SYSTRAP ]] && "$RUNSC_SYSTRAP" --version >/dev/null 2>&1; then
		return 0
	fi
	tmp=$(mktemp -d)
	# shellcheck disable=SC2064  # expand now: tmp is local
	trap "rm -rf '$tmp'" RETURN
	mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/x"
	echo 'deb http://deb.debian.org/debian trixie main' >"$tmp/sources.list"
	local opts=(-o "Dir::Etc::SourceList=$tmp/sources.list"
		-o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache")
	log "fetching Debian 13's runsc (systrap platform)"
	if ! { "${APT[@]}" "${opts[@]}" update -qq &&
		(cd "$tmp" && "${APT[@]}" "${opts[@]}" download runsc); } >"$tmp/apt.log" 2>&1; then
		sed 's/^/    /' "$tmp/apt.log" >&2
		return 1
	fi
	deb=$(echo "$tmp"/runsc_*.deb)
	[[ -f $deb ]] || return 1
	dpkg -x "$deb" "$tmp/x"
	"$tmp/x/usr/bin/runsc" --version >/dev/null 2>&1 || return 1
	install -D -m 0755 "$tmp/x/usr/bin/runsc" "$RUNSC_SYSTRAP.new"
	mv -f "$RUNSC_SYSTRAP.new" "$RUNSC_SYSTRAP"
	log "installed $("$RUNSC_SYSTRAP" --version | head -n 1) at $RUNSC_SYSTRAP"
}

# Registers `runsc` (trixie's systrap binary, or bookworm's as a fallback)
# and `runsc-ptrace` (bookworm's) in daemon.json, merged with what is there,
# and the platform's own `runsc-lambda` (the same binary as `runsc`, with
# --oci-seccomp so that gVisor applies the container's seccomp profile
# inside the sandbox; without it runsc ignores the profile). The machine's
# `runsc` keeps Docker's behaviour for anyone's `docker run --runtime runsc`.
# A running dockerd reloads runtimes on SIGHUP (running containers are not
# touched); it is sent only when the file changed.
register_runtimes() {
	local runsc=$1 cur new pid
	mkdir -p "$(dirname "$DAEMON_JSON")"
	if [[ -s $DAEMON_JSON ]]; then
		cur=$(jq -S . "$DAEMON_JSON") || die "$DAEMON_JSON is not valid JSON: fix it by hand"
	else
		cur='{}'
	fi
	new=$(jq -S --arg s "$runsc" --arg p "$RUNSC_PTRACE" '
		.runtimes.runsc = {path: $s, runtimeArgs: ["--network=none"]}
		| .runtimes["runsc-ptrace"] = {path: $p, runtimeArgs: ["--network=none"]}
		| .runtimes["runsc-lambda"] = {path: $s, runtimeArgs: ["--network=none", "--oci-seccomp"]}
		' <<<"$cur")
	if [[ $new == "$cur" ]]; then
		return 0
	fi
	printf '%s\n' "$new" >"$DAEMON_JSON.new"
	mv -f "$DAEMON_JSON.new" "$DAEMON_JSON"
	log "updated $DAEMON_JSON (runtimes runsc=$runsc, runsc-ptrace=$RUNSC_PTRACE, runsc-lambda=$runsc --oci-seccomp)"
	for pid in $(pidof dockerd || true); do
		log "dockerd ($pid) is running: SIGHUP to reload its runtimes"
		kill -HUP "$pid"
	done
}

# npm packages for the dashboard and browser tests; a stamp of the lock
# file skips `npm ci` when node_modules already matches it.
install_npm() {
	local stamp="$REPO/node_modules/.lambda-deps-stamp" want
	[[ -f $REPO/package.json ]] || return 0
	if [[ -f $REPO/package-lock.json ]]; then
		want=$(cat "$REPO/package.json" "$REPO/package-lock.json" | sha256sum | cut -c1-64)
		if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
			log "npm packages: up to date"
			return 0
		fi
		log "npm ci"
		(cd "$REPO" && npm ci --no-audit --no-fund --loglevel=error) >&2
	else
		want=$(sha256sum <"$REPO/package.json" | cut -c1-64)
		log "npm install (no package-lock.json)"
		(cd "$REPO" && npm install --no-audit --no-fund --loglevel=error) >&2
	fi
	printf '%s\n' "$want" >"$stamp"
}

main() {
	local runsc
	lock_acquire deps 900
	install_packages
	if fetch_runsc_systrap; then
		runsc=$RUNSC_SYSTRAP
	else
		warn "could not fetch Debian 13's runsc: runtime 'runsc' falls back to $RUNSC_PTRACE (ptrace platform, slower)"
		runsc=$RUNSC_PTRACE
	fi
	register_runtimes "$runsc"
	lock_release deps
	install_npm
}

main "$@"

#!/bin/bash
# build-images.sh: build the runtime images lambda-python and lambda-node (no registry).
#
#   lambda-base:<v>    docker import of the rootfs made by docker/images/rootfs.sh
#                      (tarball cached as /var/cache/lambda/rootfs-<v>.tar)
#   lambda-python:<v>  base + docker/runtimes/python/bootstrap.py, CMD python3 bootstrap
#   lambda-node:<v>    base + docker/runtimes/node/bootstrap.js,  CMD node bootstrap
#
# <v> is a content version: the first 12 hex digits of a sha256 over the rootfs recipe and, for
# the runtime images, their Dockerfile and bootstrap. Each image is also tagged :latest. When the
# content tag already exists nothing is rebuilt. Concurrent callers serialise on a flock.
# Prints the tags, one per line, on stdout (progress goes to stderr).
# `build-images.sh --print-tags` builds nothing and prints `python TAG` and `node TAG`: the content
# tags of this checkout, which scripts/stack.sh pins in lambda.conf (`:latest` is machine-wide,
# shared by every checkout and stack on the machine).
#
# Environment: LAMBDA_IMAGE_CACHE (/var/cache/lambda), LAMBDA_DEBIAN_MIRROR, DOCKER (CLI path).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${LAMBDA_IMAGE_CACHE:-/var/cache/lambda}
lock=/run/lock/lambda-images.lock
sock=/var/run/docker.sock

# Debian's CLI matches Debian's engine (20.10); a newer CLI on PATH needs no buildx this way.
if [ -z "${DOCKER:-}" ]; then
	if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
export DOCKER_BUILDKIT=0

say() { echo "build-images: $*" >&2; }
die() {
	say "error: $*"
	exit 1
}

need_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
	apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >&2
}

docker_answers() {
	curl -sf --max-time 3 --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1
}

# dockerd is shared: start it only when nobody answers, through infra's idempotent script when
# it exists, otherwise exactly as ../shared/RECIPES.md says.
ensure_docker() {
	docker_answers && return 0
	if [ -x "$repo/scripts/dockerd.sh" ]; then
		"$repo/scripts/dockerd.sh" >&2
	else
		if [ ! -e /etc/docker/daemon.json ]; then
			mkdir -p /etc/docker
			cat >/etc/docker/daemon.json <<-'EOF'
				{ "runtimes": { "runsc": { "path": "/usr/bin/runsc", "runtimeArgs": ["--network=none"] } } }
			EOF
		fi
		say "starting dockerd (log /var/log/lambda-dockerd.log)"
		setsid dockerd --bridge=none --iptables=false >>/var/log/lambda-dockerd.log 2>&1 </dev/null &
	fi

	for _ in $(seq 1 60); do
		docker_answers && return 0
		sleep 0.5
	done
	die "docker engine not reachable on $sock (see /var/log/lambda-dockerd.log)"
}

hash_of() {
	cat "$@" | sha256sum | cut -c1-12
}

image_exists() {
	"$DOCKER" image inspect "$1" >/dev/null 2>&1
}

build_base() {
	local tag=$1 version=$2 tarball
	image_exists "$tag" && return 0
	tarball=$cache/rootfs-$version.tar
	if [ ! -s "$tarball" ]; then
		say "building rootfs $tarball (debootstrap, about a minute)"
		"$repo/docker/images/rootfs.sh" "$tarball"
	fi
	say "importing $tag"
	"$DOCKER" import \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'ENV LANG=C.UTF-8' \
		--change "LABEL lambda.image=base lambda.image.version=$version" \
		--change 'USER 1000:1000' \
		--change 'WORKDIR /tmp' \
		"$tarball" "$tag" >&2
}

# build_runtime NAME VERSION BASE_TAG BOOTSTRAP
build_runtime() {
	local name=$1 version=$2 base=$3 bootstrap=$4 ctx
	if ! image_exists "lambda-$name:$version"; then
		say "building lambda-$name:$version"
		ctx=$(mktemp -d)
		cp "$repo/docker/images/$name/Dockerfile" "$bootstrap" "$ctx/"
		if ! "$DOCKER" build -q --build-arg "BASE=$base" \
			--label "lambda.image=$name" --label "lambda.image.version=$version" \
			-t "lambda-$name:$version" "$ctx" >&2; then
			rm -rf "$ctx"
			die "docker build of lambda-$name failed"
		fi
		rm -rf "$ctx"
	fi
	"$DOCKER" tag "lambda-$name:$version" "lambda-$name:latest"
	echo "lambda-$name:$version"
	echo "lambda-$name:latest"
}

# Sets base_v, py_v and node_v: the content versions of this checkout's images.
versions() {
	py_boot=$repo/docker/runtimes/python/bootstrap.py
	node_boot=$repo/docker/runtimes/node/bootstrap.js
	base_v=$(hash_of "$repo/docker/images/rootfs.sh")
	py_v=$( (echo "$base_v" && cat "$repo/docker/images/python/Dockerfile" "$py_boot") | hash_of)
	node_v=$( (echo "$base_v" && cat "$repo/docker/images/node/Dockerfile" "$node_boot") | hash_of)
}

main() {
	local base_v py_v node_v py_boot node_boot
	if [ "${1:-}" = --print-tags ]; then
		versions
		echo "python lambda-python:$py_v"
		echo "node lambda-node:$node_v"
		return 0
	fi
	[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, docker)"
	need_packages debootstrap docker.io curl
	mkdir -p "$cache" "$(dirname "$lock")"
	exec 9>"$lock"
	flock 9
	ensure_docker

	versions

	build_base "lambda-base:$base_v" "$base_v"
	echo "lambda-base:$base_v"
	build_runtime python "$py_v" "lambda-base:$base_v" "$py_boot"
	build_runtime node "$node_v" "lambda-base:$base_v" "$node_boot"
}

main "$@"

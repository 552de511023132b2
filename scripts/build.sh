#!/usr/bin/env bash
# Builds the C programs.
#
#   scripts/build.sh          in the repo itself (./configure --enable-werror
#                             the first time; afterwards make keeps it current)
#   scripts/build.sh --asan   an ASan+UBSan build in build-asan/: a copy of the
#                             sources (automake refuses a second, out-of-tree
#                             build of a configured source tree), configured
#                             with --enable-sanitizers; run a stack from it
#                             with LAMBDA_BUILD=build-asan
#   scripts/build.sh --scan   clang's static analyser over a full build of
#                             another copy (build-scan/); fails on any report
# Prints the build directory on stdout.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

JOBS=${LAMBDA_MAKE_JOBS:-2}

configure_and_make() {
	local dir=$1
	shift
	cd "$dir"
	if [[ ! -x configure ]]; then
		log "autogen ($dir)"
		./autogen.sh >"$dir/autogen.log" 2>&1 || {
			cat "$dir/autogen.log" >&2
			die "autogen.sh failed"
		}
	fi
	if [[ ! -f Makefile ]]; then
		log "configure $* ($dir)"
		./configure -q "$@" >&2 || die "configure failed: see $dir/config.log"
	fi
	log "make -j$JOBS ($dir)"
	make -s -j"$JOBS" >&2 || die "make failed in $dir"
}

# Copies the tracked and untracked-but-not-ignored files, keeping their
# times (an unchanged file is not rebuilt).
sync_sources() {
	local dst=$1
	mkdir -p "$dst"
	if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$REPO" && git ls-files -z -c -o --exclude-standard) |
			(cd "$REPO" && tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
			tar -C "$dst" -xpf -
	else
		tar -C "$REPO" --exclude=./build-asan --exclude=./var --exclude='./var-*' \
			--exclude=./node_modules -cf - . | tar -C "$dst" -xpf -
	fi
}

case ${1:-} in
"")
	configure_and_make "$REPO" --enable-werror
	echo "$REPO"
	;;
--asan)
	dst="$REPO/build-asan"
	sync_sources "$dst"
	configure_and_make "$dst" --enable-werror --enable-sanitizers
	echo "$dst"
	;;
--scan)
	dst="$REPO/build-scan"
	sync_sources "$dst"
	cd "$dst"
	[[ -x configure ]] || ./autogen.sh >autogen.log 2>&1 || die "autogen.sh failed"
	[[ -f Makefile ]] || scan-build ./configure -q >&2 || die "configure failed"
	make -s clean >/dev/null
	rm -rf scan-report
	log "scan-build make -j$JOBS ($dst)"
	scan-build --status-bugs -o "$dst/scan-report" make -s -j"$JOBS" >&2 ||
		die "scan-build found bugs or the build failed (reports in $dst/scan-report)"
	echo "$dst"
	;;
*)
	die "usage: scripts/build.sh [--asan|--scan]"
	;;
esac

#!/usr/bin/env bash
# Builds and runs every libFuzzer target tests/fuzz/fuzz_<name>.c for a
# bounded time and prints TAP (scripts/test.sh counts it).
#
# A target names what it links in comment lines of its own file, or in
# tests/fuzz/fuzz_<name>.build next to it:
#   fuzz-sources: common/proto.c common/err.c ...   (paths from the repo root,
#                                                    globs allowed; their dirs are on -I)
#   fuzz-exclude: fcgi-app/main.c                    (optional)
#   fuzz-pkgs: libcjson                              (pkg-config names, optional)
#   fuzz-libs: -lm                                   (more linker flags, optional)
#   fuzz-args: -max_len=65536                        (libFuzzer flags, optional)
# Seed corpus: tests/fuzz/corpus/<name>/ (committed). Inputs that once
# crashed a target are kept in tests/fuzz/regressions/<name>/ and replayed
# first. Work files: tests/fuzz/out/<name>/ (not committed).
#
# Usage: tests/fuzz/run.sh [NAME...]
# Environment: LAMBDA_FUZZ_SECONDS (per target, default 45), LAMBDA_BUILD
# (a configured build tree holding config.h; default the repo).
set -uo pipefail

FUZZ_DIR=$(cd "$(dirname "$0")" && pwd -P)
REPO=$(cd "$FUZZ_DIR/../.." && pwd -P)
BUILD=$(realpath -m "${LAMBDA_BUILD:-$REPO}")
SECONDS_EACH=${LAMBDA_FUZZ_SECONDS:-45}
CC=${FUZZ_CC:-clang}
n=0
failed=0

tap() {
	# tap ok|not-ok DESCRIPTION [DIAGNOSTIC-FILE-OR-TEXT]
	n=$((n + 1))
	if [[ $1 == ok ]]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
		if [[ -n ${3:-} && -f ${3:-} ]]; then
			# The sanitizer's verdict and first frames, else the end of the log.
			if grep -qE 'ERROR: |runtime error|deadly signal|SUMMARY' "$3"; then
				grep -E 'ERROR: |runtime error|deadly signal|SUMMARY|^ +#[0-9]+ |Test unit written' "$3" |
					head -n 25 | sed 's/^/#   /'
			else
				tail -n 25 "$3" | sed 's/^/#   /'
			fi
		elif [[ -n ${3:-} ]]; then
			printf '%s\n' "$3" | sed 's/^/#   /'
		fi
	fi
}

# header_field FILE FIELD: the words after "FIELD:" in FILE's comments
# and in its .build file.
header_field() {
	local f=$1 b=${1%.c}.build
	[[ -f $b ]] || b=/dev/null
	sed -n "s/^[ /*#]*$2:[[:space:]]*//p" "$f" "$b" |
		sed 's/[[:space:]]*\*\/[[:space:]]*$//' | tr '\n' ' '
}

build_target() {
	local src=$1 name=$2 out=$3 srcs pkgs excl flags=() libs=() extra=() s f
	srcs=$(header_field "$src" fuzz-sources)
	excl=" $(header_field "$src" fuzz-exclude) "
	pkgs=$(header_field "$src" fuzz-pkgs)
	read -ra extra <<<"$(header_field "$src" fuzz-libs)"
	local -a files=() incs=()
	for s in $srcs; do
		for f in $(cd "$REPO" && compgen -G "$s" || echo "$s"); do
			[[ $excl == *" $f "* ]] && continue
			files+=("$REPO/$f")
			[[ " ${incs[*]} " == *" -I$REPO/$(dirname "$f") "* ]] ||
				incs+=("-I$REPO/$(dirname "$f")")
		done
	done
	[[ -n ${srcs// /} ]] || {
		echo "no fuzz-sources: line in $src or ${src%.c}.build" >"$out/build.log"
		return 1
	}
	if [[ -n ${pkgs// /} ]]; then
		# shellcheck disable=SC2086  # word lists
		read -ra flags <<<"$(pkg-config --cflags $pkgs)"
		# shellcheck disable=SC2086
		read -ra libs <<<"$(pkg-config --libs $pkgs)"
	fi
	"$CC" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer -I"$BUILD" -I"$REPO" -I"$REPO/common" "${incs[@]}" "${flags[@]}" \
		-o "$out/fuzz_$name" "$src" "${files[@]}" "${libs[@]}" "${extra[@]}" -pthread \
		>"$out/build.log" 2>&1
}

run_target() {
	local src=$1 name out args reg corpus artifact rc
	name=$(basename "$src" .c)
	name=${name#fuzz_}
	out="$FUZZ_DIR/out/$name"
	rm -rf "$out/crashes"
	mkdir -p "$out/corpus" "$out/crashes"
	if ! build_target "$src" "$name" "$out"; then
		tap not-ok "fuzz_$name: builds" "$out/build.log"
		return
	fi
	tap ok "fuzz_$name: builds"
	read -ra args <<<"$(header_field "$src" fuzz-args)"

	reg="$FUZZ_DIR/regressions/$name"
	if compgen -G "$reg/*" >/dev/null; then
		if "$out/fuzz_$name" "${args[@]}" "$reg"/* >"$out/regressions.log" 2>&1; then
			tap ok "fuzz_$name: $(find "$reg" -type f | wc -l) regression input(s) pass"
		else
			tap not-ok "fuzz_$name: regression inputs" "$out/regressions.log"
		fi
	fi

	corpus="$FUZZ_DIR/corpus/$name"
	mkdir -p "$corpus"
	rc=0
	timeout --kill-after=30 $((SECONDS_EACH + 60)) \
		"$out/fuzz_$name" "${args[@]}" -max_total_time="$SECONDS_EACH" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/crashes/" \
		"$out/corpus" "$corpus" >"$out/fuzz.log" 2>&1 || rc=$?
	artifact=$(find "$out/crashes" -type f | head -n 1)
	if ((rc == 0)) && [[ -z $artifact ]]; then
		tap ok "fuzz_$name: ${SECONDS_EACH}s without a finding ($(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log") runs)"
	else
		tap not-ok "fuzz_$name: ${SECONDS_EACH}s of fuzzing (exit $rc)" "$out/fuzz.log"
		[[ -n $artifact ]] && tap_diag "reproduce: $out/fuzz_$name $artifact" \
			"keep it: mkdir -p $reg && cp $artifact $reg/"
	fi
}

tap_diag() {
	printf '#   %s\n' "$@"
}

main() {
	local -a targets=()
	local name
	command -v "$CC" >/dev/null || {
		echo "1..0 # SKIP $CC not installed (scripts/deps.sh installs clang)"
		exit 77
	}
	[[ -f $BUILD/config.h ]] || {
		echo "Bail out! no config.h in $BUILD: configure first (scripts/build.sh)"
		exit 1
	}
	if (($#)); then
		for name in "$@"; do targets+=("$FUZZ_DIR/fuzz_$name.c"); done
	else
		shopt -s nullglob
		targets=("$FUZZ_DIR"/fuzz_*.c)
		shopt -u nullglob
	fi
	((${#targets[@]})) || {
		echo "1..0 # SKIP no fuzz targets in tests/fuzz/"
		exit 77
	}
	for t in "${targets[@]}"; do
		[[ -f $t ]] || {
			tap not-ok "$(basename "$t"): no such target"
			continue
		}
		run_target "$t"
	done
	echo "1..$n"
	((failed == 0))
}

main "$@"

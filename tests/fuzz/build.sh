#!/bin/sh
# Builds the libFuzzer targets with clang (-fsanitize=fuzzer,address,undefined)
# into tests/fuzz/out/, and runs each for a bounded time when asked:
#   tests/fuzz/build.sh            build only
#   tests/fuzz/build.sh run [SECS] build, then run every fuzzer SECS (60) each
# Crashes are written to tests/fuzz/out/<name>/; keep each one (after the fix)
# in tests/fuzz/corpus/<name>/ as a regression input.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out="$top/tests/fuzz/out"
mkdir -p "$out"
CC=${CC:-clang}
# The sources include <config.h>; the only thing they need from it is
# _GNU_SOURCE, so the fuzz build does not depend on ./configure.
printf '#define _GNU_SOURCE 1\n' >"$out/config.h"
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 -I$out -I$top/common -I$top/fcgi-app $(pkg-config --cflags libcjson)"
COMMON="$top/common/err.c $top/common/xalloc.c $top/common/buf.c"

# shellcheck disable=SC2086
$CC $CFLAGS -o "$out/fuzz_sigv4" "$top/tests/fuzz/fuzz_sigv4.c" "$top/fcgi-app/sigv4.c" \
	$COMMON -lcrypto
# shellcheck disable=SC2086
$CC $CFLAGS -o "$out/fuzz_zip" "$top/tests/fuzz/fuzz_zip.c" "$top/fcgi-app/zip.c" \
	$COMMON -lcrypto -lz

# fuzz_router: request parsing and routing over the real route tables (so
# every API module but main.c) and the JSON validation of a function body.
api_src=
for f in "$top"/fcgi-app/*.c; do
	[ "${f##*/}" = main.c ] || api_src="$api_src $f"
done
api_cflags=$(pkg-config --cflags libmariadb)
api_libs="$(pkg-config --libs libcjson libmariadb libcrypto zlib) -lm -pthread"
# shellcheck disable=SC2086
$CC $CFLAGS $api_cflags -o "$out/fuzz_router" "$top/tests/fuzz/fuzz_router.c" $api_src \
	$COMMON "$top/common/log.c" "$top/common/proto.c" $api_libs

if [ "${1:-}" = run ]; then
	secs=${2:-60}
	for f in sigv4 zip router; do
		mkdir -p "$out/$f" "$out/$f.corpus"
		echo "fuzz_$f: ${secs}s"
		"$out/fuzz_$f" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 \
			-artifact_prefix="$out/$f/" "$out/$f.corpus" "$top/tests/fuzz/corpus/$f" \
			>"$out/$f.log" 2>&1 || { tail -40 "$out/$f.log"; exit 1; }
		tail -1 "$out/$f.log"
	done
fi

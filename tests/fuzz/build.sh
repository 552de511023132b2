#!/bin/sh
# Builds the API's libFuzzer targets with clang (ASan + UBSan) into
# tests/fuzz/out/.  Usage: tests/fuzz/build.sh [target...]; run a target with
#   mkdir -p tests/fuzz/out/corpus && tests/fuzz/out/fuzz_router tests/fuzz/out/corpus \
#     tests/fuzz/corpus/router -max_total_time=60   (new inputs go to out/, not the seeds)
# Plain clang command lines: the infra runner calls this script.
set -eu
cd "$(dirname "$0")/../.."
out=tests/fuzz/out
mkdir -p "$out"
# The sources include <config.h> for _GNU_SOURCE; the fuzz build needs no
# configure run.
printf '#define _GNU_SOURCE 1\n' >"$out/config.h"
pkgs="libcjson libmariadb libcrypto"
cflags="$(pkg-config --cflags $pkgs) -I$out -I. -Icommon -Ifcgi-app -g -O1"
libs="$(pkg-config --libs $pkgs) -lm -pthread"
san="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
common_src="common/buf.c common/err.c common/log.c common/xalloc.c common/proto.c"

# fuzz_router: the real route tables, so all of the API's modules but main.c
api_src=$(ls fcgi-app/*.c | grep -v '/main\.c$')
targets="${*:-fuzz_router}"
for t in $targets; do
	case "$t" in
	fuzz_router)
		# shellcheck disable=SC2086
		clang $san $cflags -o "$out/$t" tests/fuzz/$t.c $api_src $common_src $libs
		;;
	*)
		echo "build.sh: unknown target $t" >&2
		exit 2
		;;
	esac
	echo "built $out/$t"
done

#!/usr/bin/env bash
# Runs every test of the platform on a Debian 12 machine, from nothing:
# packages, build, unit tests (make check), runtime images, the shared
# Docker engine, a test stack, the integration tests (tests/integration/
# test_*.py), the browser tests (tests/browser/*.mjs), the fuzzers
# (tests/fuzz/run.sh), static checks (format, checksrc, cppcheck,
# scan-build, shellcheck) and again unit + integration tests against an
# ASan+UBSan build. Collects the TAP results of all and prints, as its very
# last line, `N passed, N failed` (`, N skipped` when some were skipped;
# under CI=true a skip counts as a failure: CI installs everything).
# Exits non-zero on any failure.
#
# Usage: scripts/test.sh [--quick] [--no-deps] [--only REGEX] [--update-readme]
#   --quick     no ASan run, no fuzzing, no static checks (for developers)
#   --no-deps   skip scripts/deps.sh
#   --only RE   run only the integration/browser tests whose file name
#               matches RE (unit tests still run)
#   --keep      leave the (last) test stack running afterwards, to look at
#   --update-readme  write the figures the tests measured (TAP lines
#               `# figure: NAME = VALUE`) into README.md's reliability
#               section; they are always in tests/results/figures.md
# Environment: LAMBDA_TEST_PORT (default 18080; the ASan stack uses +100),
# LAMBDA_TEST_TIMEOUT (seconds per test file, default 600),
# LAMBDA_FUZZ_SECONDS (per fuzzer, default 45).
set -euo pipefail
LAMBDA_LOG_TAG="test"
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

QUICK=0
DEPS=1
ONLY=
UPDATE_README=0
KEEP=0
while (($#)); do
	case $1 in
	--quick) QUICK=1 ;;
	--no-deps) DEPS=0 ;;
	--update-readme) UPDATE_README=1 ;;
	--keep) KEEP=1 ;;
	--only)
		ONLY=${2:?--only needs a regular expression}
		shift
		;;
	*) die "usage: scripts/test.sh [--quick] [--no-deps] [--only REGEX] [--keep] [--update-readme]" ;;
	esac
	shift
done

TEST_PORT=${LAMBDA_TEST_PORT:-18080}
TEST_TIMEOUT=${LAMBDA_TEST_TIMEOUT:-600}
RESULTS="$REPO/tests/results"
CI_MODE=0
[[ ${CI:-} == true || ${CI:-} == 1 ]] && CI_MODE=1

PASS=0
FAIL=0
SKIP=0
FAILED=()
SKIPPED=()
STACKS=()

# ================================================================ reporting

T_PHASE=0
PHASE=
TIMINGS=()

phase() {
	phase_end
	PHASE=$1
	T_PHASE=$(now_ms)
	log "=== $PHASE"
}

phase_end() {
	[[ -n $PHASE ]] || return 0
	local ms=$(($(now_ms) - T_PHASE))
	TIMINGS+=("$(printf '%-22s %6d.%01d s' "$PHASE" $((ms / 1000)) $((ms % 1000 / 100)))")
	log "--- $PHASE: $((ms / 1000)).$((ms % 1000 / 100)) s"
	PHASE=
}

pass() {
	PASS=$((PASS + 1))
}

fail() {
	FAIL=$((FAIL + 1))
	FAILED+=("$1")
	log "FAIL: $1"
}

skip() {
	SKIP=$((SKIP + 1))
	SKIPPED+=("$1")
	log "SKIP: $1"
}

# tally_tap SUITE FILE EXIT: counts the TAP results in FILE. A plan that
# does not match, a bail-out, an exit status that is not 0 (or 77 with
# nothing run), or no TAP at all each count as one more failure.
tally_tap() {
	local suite=$1 file=$2 rc=$3 line n=0 plan='' bad=0 desc
	while IFS= read -r line; do
		case $line in
		"ok "* | "ok" | "not ok"*)
			n=$((n + 1))
			desc=${line#ok }
			[[ $line == "not ok"* ]] && desc=${line#not ok }
			if [[ $line =~ \#[[:space:]]*[Ss][Kk][Ii][Pp] ]]; then
				skip "$suite: $desc"
			elif [[ $line =~ \#[[:space:]]*[Tt][Oo][Dd][Oo] ]]; then
				if [[ $line == ok* ]]; then pass; else skip "$suite: $desc (TODO)"; fi
			elif [[ $line == ok* ]]; then
				pass
			else
				fail "$suite: $desc"
				bad=1
			fi
			;;
		1..*) plan=$line ;;
		"Bail out!"*)
			fail "$suite: $line"
			bad=1
			;;
		esac
	done <"$file"
	if [[ $plan =~ ^1\.\.0([^0-9]|$) ]] && ((n == 0)); then
		skip "$suite: ${plan#1..0}"
		return 0
	fi
	if [[ -z $plan ]] && ((n == 0)); then
		fail "$suite: printed no TAP (exit $rc; output in ${file#"$REPO"/})"
		return 0
	fi
	if [[ $plan =~ ^1\.\.([0-9]+) ]] && ((BASH_REMATCH[1] != n)); then
		fail "$suite: planned ${BASH_REMATCH[1]} tests, ran $n"
		bad=1
	fi
	if ((rc != 0 && bad == 0)) && ! ((rc == 77)); then
		fail "$suite: exited with status $rc (output in ${file#"$REPO"/})"
	fi
}

# tally_trs SUITE DIR: counts automake's per-test results (.trs files).
tally_trs() {
	local suite=$1 dir=$2 f r name found=0
	while IFS= read -r f; do
		found=1
		name=${f#"$dir"/}
		name=${name%.trs}
		while IFS= read -r r; do
			case $r in
			PASS | XFAIL) pass ;;
			SKIP) skip "$suite: $name" ;;
			*) fail "$suite: $name ($r; see ${f%.trs}.log)" ;;
			esac
		done < <(sed -n 's/^:test-result: *//p' "$f")
	done < <(find "$dir" -mindepth 1 \( -path "$REPO/build-asan" -o -path "$REPO/build-scan" \
		-o -path "$REPO/node_modules" \) -prune -o -name '*.trs' -print | sort)
	((found)) || fail "$suite: make check produced no results"
}

# run_tap SUITE CMD...: runs CMD with a time limit, its output saved under
# tests/results/, and counts its TAP.
run_tap() {
	local suite=$1 out rc=0
	shift
	out="$RESULTS/${suite//[^A-Za-z0-9_.-]/_}.tap"
	mkdir -p "$RESULTS"
	timeout --kill-after=10 "$TEST_TIMEOUT" "$@" </dev/null >"$out" 2>&1 || rc=$?
	((rc == 124 || rc == 137)) && echo "# killed after ${TEST_TIMEOUT}s" >>"$out"
	# Each failure's diagnostics (the `#` lines after it), for the log.
	awk '/^(not ok|Bail out!)/ { p = 1; n = 0; print "    " $0; next }
		p && /^#/ && n++ < 15 { print "      " $0; next } { p = 0 }' "$out" >&2
	tally_tap "$suite" "$out" "$rc"
}

# check NAME CMD...: one result for a command (static checks, builds).
check() {
	local name=$1 out
	shift
	out="$RESULTS/${name//[^A-Za-z0-9_.-]/_}.log"
	mkdir -p "$RESULTS"
	if "$@" </dev/null >"$out" 2>&1; then
		pass
		log "ok: $name"
	else
		tail -n 30 "$out" | sed 's/^/    /' >&2
		fail "$name (output in ${out#"$REPO"/})"
	fi
}

# The figures the tests measured, as a Markdown table.
collect_figures() {
	local f suite
	echo "| test | figure | value |"
	echo "|---|---|---|"
	for f in "$RESULTS"/*.tap; do
		[[ -f $f ]] || continue
		suite=$(basename "$f" .tap)
		case $suite in
		integration_*) suite=${suite#integration_} ;;
		asan_*) suite="${suite#asan_} (ASan build)" ;;
		esac
		sed -n 's/|/\\|/g; s/^# figure: \(.*\) = \(.*\)$/| '"$suite"' | \1 | \2 |/p' "$f"
	done
}

# Replaces README.md's text between the figures markers.
update_readme() {
	local readme="$REPO/README.md" table="$RESULTS/figures.md" head
	grep -q '^<!-- figures:begin' "$readme" || {
		warn "README.md has no <!-- figures:begin --> marker: not updated"
		return 0
	}
	local mode='' skipped='' commit
	((QUICK)) && mode=' --quick'
	((SKIP)) && skipped=", $SKIP skipped"
	commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null) || commit=unknown
	head="Measured by \`scripts/test.sh$mode\` on $(date -u +%Y-%m-%d) at commit $commit"
	head+=" ($(nproc) cores; that run: $PASS passed, $FAIL failed$skipped)."
	awk -v head="$head" -v table="$table" '
		/^<!-- figures:begin/ { print; print ""; print head; print ""
			while ((getline l < table) > 0) print l; print ""; skip = 1; next }
		/^<!-- figures:end/ { skip = 0 }
		!skip { print }
	' "$readme" >"$readme.new" && mv -f "$readme.new" "$readme"
	log "README.md: reliability figures updated from this run"
}

summary() {
	local t
	phase_end
	collect_figures >"$RESULTS/figures.md"
	((UPDATE_README)) && update_readme
	echo
	echo "Timing:"
	for t in "${TIMINGS[@]}"; do echo "  $t"; done
	if ((${#SKIPPED[@]})); then
		echo "Skipped:"
		for t in "${SKIPPED[@]}"; do echo "  $t"; done
	fi
	if ((${#FAILED[@]})); then
		echo "Failed:"
		for t in "${FAILED[@]}"; do echo "  $t"; done
	fi
	if ((CI_MODE && SKIP > 0)); then
		echo "CI=true: the $SKIP skipped test(s) count as failed (CI installs everything)"
		FAIL=$((FAIL + SKIP))
		SKIP=0
	fi
	if ((SKIP > 0)); then
		echo "$PASS passed, $FAIL failed, $SKIP skipped"
	else
		echo "$PASS passed, $FAIL failed"
	fi
}

# ================================================================ stacks

# Environment of a test stack, for stack.sh and the tests.
stack_env() {
	local var=$1 port=$2 build=$3
	echo "LAMBDA_VAR=$var" "LAMBDA_PORT=$port" "LAMBDA_BUILD=$build" \
		"LAMBDA_TEST_VAR=$var" "LAMBDA_TEST_PORT=$port" \
		"LAMBDA_TEST_URL=http://127.0.0.1:$port" "LAMBDA_TEST_BUILD=$build"
}

stop_stack() {
	local var=$1
	[[ -d $var/run ]] || return 0
	LAMBDA_VAR=$var "$SCRIPTS/stack.sh" stop all >>"$RESULTS/stack-stop.log" 2>&1 ||
		warn "stopping the stack in $var failed (see tests/results/stack-stop.log)"
}

cleanup() {
	local var
	trap - ERR
	((KEEP)) && return 0
	for var in "${STACKS[@]}"; do
		stop_stack "$var"
	done
}
trap cleanup EXIT

# start_stack VAR PORT BUILD: a fresh stack (empty var dir); prints the
# admin key. Fails when the stack does not come up. (Runs in a command
# substitution: the caller records VAR in STACKS.)
start_stack() {
	local var=$1 port=$2 build=$3 key
	stop_stack "$var"
	rm -rf "$var"
	mkdir -p "$var"
	env LAMBDA_VAR="$var" LAMBDA_PORT="$port" LAMBDA_BUILD="$build" \
		"$SCRIPTS/stack.sh" start all >&2 || return 1
	# What restore_stack puts back after each test file.
	touch "$var/lambda.local.conf"
	cp "$var/lambda.local.conf" "$var/lambda.local.conf.pristine"
	key=$(env LAMBDA_VAR="$var" LAMBDA_BUILD="$build" "$SCRIPTS/admin-key.sh") || return 1
	printf '%s\n' "$key"
}

# restore_stack TEST ENV...: after a test file, the stack must be whole
# again for the next one. A test that left a part down is a failure (the
# part is started again); one that left its lambda.local.conf changes
# behind gets them undone.
restore_stack() {
	local test=$1 var local_conf tries=0
	shift
	var=$(printf '%s\n' "$@" | sed -n 's/^LAMBDA_VAR=//p')
	local_conf="$var/lambda.local.conf"
	if [[ -f $local_conf.pristine ]] && ! cmp -s "$local_conf" "$local_conf.pristine"; then
		warn "$test left changes in lambda.local.conf: undone, lighttpd and executor restarted"
		cp "$local_conf.pristine" "$local_conf"
		env "$@" "$SCRIPTS/stack.sh" restart lighttpd >>"$RESULTS/stack-restore.log" 2>&1 || true
		env "$@" "$SCRIPTS/stack.sh" restart executor >>"$RESULTS/stack-restore.log" 2>&1 || true
	fi
	# (A supervised executor may be a second away from its restart.)
	until env "$@" "$SCRIPTS/stack.sh" status all >/dev/null 2>&1 || ((++tries > 25)); do
		sleep 0.2
	done
	if ((tries > 25)); then
		fail "$test: left the stack partly down (started again)"
		env "$@" "$SCRIPTS/stack.sh" start all >>"$RESULTS/stack-restore.log" 2>&1 ||
			warn "the test stack does not start again: see tests/results/stack-restore.log"
	fi
}

# run_integration LABEL VAR PORT BUILD: the integration and browser tests
# against a fresh stack.
run_integration() {
	local label=$1 var=$2 port=$3 build=$4 key t name
	local -a envs
	shopt -s nullglob
	local -a py=("$REPO"/tests/integration/test_*.py) js=("$REPO"/tests/browser/*.mjs)
	shopt -u nullglob
	STACKS+=("$var")
	if ! key=$(start_stack "$var" "$port" "$build"); then
		fail "$label: the test stack did not start (logs in ${var#"$REPO"/}/log/)"
		return 0
	fi
	read -ra envs <<<"$(stack_env "$var" "$port" "$build")"
	envs+=("LAMBDA_TEST_KEY=$key")
	# Only CI may restart the shared dockerd (tests/integration/test_faults_dockerd.py).
	((CI_MODE)) && envs+=("LAMBDA_TEST_DOCKERD_RESTART=1")
	for t in "${py[@]}"; do
		name=${t##*/}
		[[ -z $ONLY || $name =~ $ONLY ]] || continue
		run_tap "$label/$name" env "${envs[@]}" /usr/bin/python3 -u "$t"
		restore_stack "$label/$name" "${envs[@]}"
	done
	for t in "${js[@]}"; do
		name=${t##*/}
		[[ -z $ONLY || $name =~ $ONLY ]] || continue
		run_tap "$label/browser/$name" env -C "$REPO" "${envs[@]}" node "$t"
		restore_stack "$label/browser/$name" "${envs[@]}"
	done
	((${#py[@]} + ${#js[@]})) || fail "$label: no integration test found"
	if ((KEEP)); then
		log "--keep: the stack in ${var#"$REPO"/} stays up on port $port (scripts/down.sh with LAMBDA_VAR=$var)"
	else
		stop_stack "$var"
	fi
}

# ================================================================ phases

static_checks() {
	check "format-check" make -C "$REPO" format-check
	check "checksrc" make -C "$REPO" checksrc
	local -a csrc
	mapfile -t csrc < <(git -C "$REPO" ls-files '*.c')
	check "cppcheck" cppcheck --enable=warning,portability --error-exitcode=1 \
		--inline-suppr --quiet --std=c11 -j2 -D__GNUC__ \
		--suppress=missingIncludeSystem -I"$REPO" -I"$REPO/common" \
		"${csrc[@]/#/$REPO/}"
	local -a sh
	mapfile -t sh < <(cd "$REPO" && ls scripts/*.sh .ci/run tests/fuzz/*.sh tests/soak/*.sh 2>/dev/null)
	check "shellcheck" env -C "$REPO" shellcheck -x -S warning "${sh[@]}"
	check "scan-build" "$SCRIPTS/build.sh" --scan
}

asan_env() {
	local var=$1
	export ASAN_OPTIONS="log_path=$var/log/asan:detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1"
	export UBSAN_OPTIONS="log_path=$var/log/ubsan:print_stacktrace=1:halt_on_error=1"
}

# Sanitizer reports written by stack processes during the run.
asan_reports() {
	local var=$1 f n=0
	for f in "$var"/log/asan.* "$var"/log/ubsan.*; do
		[[ -s $f ]] || continue
		n=$((n + 1))
		mkdir -p "$RESULTS/asan"
		cp "$f" "$RESULTS/asan/"
		head -n 5 "$f" | sed 's/^/    /' >&2
	done
	if ((n)); then
		fail "asan: $n sanitizer report(s) from the stack (tests/results/asan/)"
	else
		pass
		log "ok: asan: no sanitizer report from the stack"
	fi
}

main() {
	local build asan_build
	need_root
	rm -rf "$RESULTS"
	mkdir -p "$RESULTS"
	log "test stack on port $TEST_PORT; results in tests/results/"

	if ((DEPS)); then
		phase "deps"
		"$SCRIPTS/deps.sh" || fail "deps: scripts/deps.sh failed"
	fi

	phase "build"
	if ! build=$("$SCRIPTS/build.sh" 2>"$RESULTS/build.log"); then
		tail -n 40 "$RESULTS/build.log" >&2
		fail "build (tests/results/build.log)"
		summary
		exit 1
	fi
	pass
	if [[ -f $SCRIPTS/build-htdocs.sh ]]; then
		check "htdocs" sh "$SCRIPTS/build-htdocs.sh"
	fi

	phase "unit"
	find "$build" -mindepth 1 \( -path "$REPO/build-asan" -o -path "$REPO/build-scan" \
		-o -path "$REPO/node_modules" \) -prune -o -name '*.trs' -exec rm -f {} + 2>/dev/null || true
	make -C "$build" -j2 check >"$RESULTS/unit.log" 2>&1 || true
	tally_trs unit "$build"

	phase "docker engine"
	check "dockerd" "$SCRIPTS/dockerd.sh"
	if [[ -x $SCRIPTS/build-images.sh ]]; then
		phase "images"
		check "images" "$SCRIPTS/build-images.sh"
	fi

	phase "integration"
	run_integration integration "$REPO/var-test" "$TEST_PORT" "$build"

	if ((!QUICK)); then
		if [[ -x $REPO/tests/fuzz/run.sh ]]; then
			phase "fuzz"
			# Its own time limit: each target is built, then fuzzed.
			local nfuzz secs=${LAMBDA_FUZZ_SECONDS:-45}
			nfuzz=$(find "$REPO/tests/fuzz" -maxdepth 1 -name 'fuzz_*.c' | wc -l)
			TEST_TIMEOUT=$((nfuzz * (secs + 180) + 60)) run_tap fuzz \
				env LAMBDA_FUZZ_SECONDS="$secs" LAMBDA_BUILD="$build" "$REPO/tests/fuzz/run.sh"
		fi

		phase "static"
		static_checks

		phase "asan build"
		if asan_build=$("$SCRIPTS/build.sh" --asan 2>"$RESULTS/asan-build.log"); then
			pass
			phase "asan unit"
			find "$asan_build" -name '*.trs' -exec rm -f {} + 2>/dev/null || true
			# Reports go to each test's own .log here (no log_path).
			ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:strict_string_checks=1 \
				UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
				make -C "$asan_build" -j2 check >"$RESULTS/asan-unit.log" 2>&1 || true
			tally_trs asan-unit "$asan_build"
			phase "asan integration"
			asan_env "$REPO/var-test-asan"
			run_integration asan "$REPO/var-test-asan" $((TEST_PORT + 100)) "$asan_build"
			asan_reports "$REPO/var-test-asan"
			unset ASAN_OPTIONS UBSAN_OPTIONS
		else
			tail -n 40 "$RESULTS/asan-build.log" >&2
			fail "asan build (tests/results/asan-build.log)"
		fi
	fi

	# docs/reliability.md only from a full run: a partial one (--only,
	# --quick) writes its report next to its results, so that it cannot be
	# committed by mistake as the project's figures
	if [[ -s $RESULTS/reliability.jsonl ]]; then
		local report=$REPO/docs/reliability.md
		[[ -z $ONLY && $QUICK == 0 ]] || report=$RESULTS/reliability.md
		check "reliability report" /usr/bin/python3 "$REPO/tests/reliability-report.py" \
			"$RESULTS" "$report"
	fi
	summary
	if ((FAIL)); then
		exit 1
	fi
}

main "$@"

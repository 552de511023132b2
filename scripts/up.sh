#!/usr/bin/env bash
# Brings the whole platform up on a Debian 12 machine, from nothing:
# packages, build, the shared Docker engine, runtime images, the stack
# (MariaDB, executor, lighttpd + API), an admin key on first run and two
# demo functions. Idempotent: a second run reuses what already runs.
#
# Environment: LAMBDA_VAR (default <repo>/var), LAMBDA_PORT (default: the var
# dir's last port, else 8080; see scripts/lib.sh),
# LAMBDA_SKIP_DEPS=1 to skip scripts/deps.sh, LAMBDA_NO_DEMO=1 to deploy no demo.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
URL="http://127.0.0.1:$PORT"

phase() {
	log "== $*"
}

# deploy_demo NAME RUNTIME FILE: creates function NAME from FILE (handler
# hello.handler) unless a function of that name exists.
deploy_demo() {
	local name=$1 runtime=$2 file=$3 key=$4 status body
	status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" \
		"$URL/api/functions/$name")
	case $status in
	200) return 0 ;;
	404) ;;
	*) die "GET /api/functions/$name answered $status" ;;
	esac
	body=$(jq -n --arg name "$name" --arg runtime "$runtime" --rawfile code "$file" \
		'{name: $name, runtime: $runtime, handler: "hello.handler", code: $code,
		  timeout: 3, memory_mb: 128}')
	status=$(curl -s -o "$RUN/demo.out" -w '%{http_code}' -X POST \
		-H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
		--data-binary "$body" "$URL/api/functions")
	[[ $status == 201 ]] || die "creating demo function $name: HTTP $status $(cat "$RUN/demo.out")"
	log "deployed demo function $name ($runtime)"
}

main() {
	local key
	if [[ ${LAMBDA_SKIP_DEPS:-0} != 1 ]]; then
		phase "packages"
		"$SCRIPTS/deps.sh"
	fi
	phase "build"
	BUILD=$("$SCRIPTS/build.sh")
	export LAMBDA_BUILD=$BUILD
	if [[ -f $SCRIPTS/build-htdocs.sh ]]; then
		sh "$SCRIPTS/build-htdocs.sh" >&2
	fi
	phase "docker engine"
	"$SCRIPTS/dockerd.sh"
	if [[ -x $SCRIPTS/build-images.sh ]]; then
		phase "runtime images"
		"$SCRIPTS/build-images.sh" >/dev/null
	else
		warn "scripts/build-images.sh missing: no runtime images built"
	fi
	phase "stack"
	"$SCRIPTS/stack.sh" start all
	key=$("$SCRIPTS/admin-key.sh")
	if [[ ${LAMBDA_NO_DEMO:-0} != 1 ]]; then
		deploy_demo hello-python python "$REPO/tests/fixtures/demo/hello.py" "$key"
		deploy_demo hello-js javascript "$REPO/tests/fixtures/demo/hello.js" "$key"
	fi
	cat <<-MSG

		  Dashboard:  $URL/
		  Admin key:  $key   (kept in $VAR/admin.key)

		  Try it:
		    curl -s -H "Authorization: Bearer \$(cat $VAR/admin.key)" \\
		         -d '{"name":"you"}' $URL/api/functions/hello-python/invoke
		    AWS_SHARED_CREDENTIALS_FILE=$VAR/aws-credentials AWS_CONFIG_FILE=$VAR/aws-config \\
		      /usr/bin/aws --profile lambda --endpoint-url $URL lambda list-functions

		  Logs in $LOGDIR/; stop with scripts/down.sh
	MSG
}

main "$@"

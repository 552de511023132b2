#!/usr/bin/env bash
# Makes sure the stack has an admin API key: on first run asks lambda-api
# for one (`lambda-api -c CONF --create-key admin`, the database must run)
# and keeps it in $LAMBDA_VAR/admin.key (0600); writes the AWS shared
# credentials file $LAMBDA_VAR/aws-credentials (profile [lambda]) and
# config file $LAMBDA_VAR/aws-config from it. Prints the key.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

KEY_FILE="$VAR/admin.key"
KEY_RE='^LK[0-9A-F]{18}\.[A-Za-z0-9_-]{40}$'

umask 077
if [[ -s $KEY_FILE ]]; then
	key=$(<"$KEY_FILE")
else
	[[ -x $API_BIN ]] || die "lambda-api binary missing: build first ($API_BIN)"
	[[ -r $CONF ]] || die "$CONF missing: scripts/stack.sh start all"
	key=$("$API_BIN" -c "$CONF" --create-key admin) ||
		die "lambda-api --create-key admin failed (is MariaDB up? scripts/stack.sh status)"
	key=$(printf '%s' "$key" | tr -d '[:space:]')
	printf '%s\n' "$key" >"$KEY_FILE.new"
	mv -f "$KEY_FILE.new" "$KEY_FILE"
	log "created the admin key in $KEY_FILE"
fi
[[ $key =~ $KEY_RE ]] || die "$KEY_FILE does not hold a key of the form LK<18 hex>.<40 chars>"
chmod 0600 "$KEY_FILE"

cat >"$VAR/aws-credentials.new" <<CRED
[lambda]
aws_access_key_id = ${key%%.*}
aws_secret_access_key = ${key#*.}
CRED
mv -f "$VAR/aws-credentials.new" "$VAR/aws-credentials"
cat >"$VAR/aws-config.new" <<CONFIG
[profile lambda]
region = us-east-1
output = json
CONFIG
mv -f "$VAR/aws-config.new" "$VAR/aws-config"
printf '%s\n' "$key"

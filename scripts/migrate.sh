#!/usr/bin/env bash
# Applies schema/NNN_*.sql to the stack's database, in order, each once,
# recording each file (name and sha256) in table schema_migrations. Fails
# loudly, naming the file, on a migration that does not apply; warns when an
# applied migration's file has changed since.
#
# Usage: scripts/migrate.sh        (MariaDB of $LAMBDA_VAR must be running)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

SOCK="$RUN/mysql.sock"
DB=${LAMBDA_DB_NAME:-lambda}
SCHEMA="$REPO/schema"

mysql_root() {
	mariadb --no-defaults --socket="$SOCK" -uroot --batch --skip-column-names "$@"
}

[[ -S $SOCK ]] || die "MariaDB socket $SOCK missing: scripts/stack.sh start mariadb"
exec {lockfd}>"$RUN/migrate.lock"
flock -w 120 "$lockfd" || die "another migration holds $RUN/migrate.lock"

mysql_root "$DB" <<'SQL'
CREATE TABLE IF NOT EXISTS schema_migrations (
	name       VARCHAR(255) NOT NULL PRIMARY KEY,
	sha256     CHAR(64)     NOT NULL,
	applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
SQL

declare -A applied=()
while IFS=$'\t' read -r name sum; do
	applied[$name]=$sum
done < <(mysql_root "$DB" -e 'SELECT name, sha256 FROM schema_migrations')

shopt -s nullglob
files=("$SCHEMA"/[0-9][0-9][0-9]_*.sql)
count=0
declare -A seen_num=()
for f in "${files[@]}"; do
	name=${f##*/}
	[[ $name =~ ^[0-9]{3}_[A-Za-z0-9_.-]+\.sql$ ]] ||
		die "schema/$name: migration names are NNN_[A-Za-z0-9_.-]+.sql"
	num=${name%%_*}
	if [[ -n ${seen_num[$num]:-} ]]; then
		warn "schema/$name and schema/${seen_num[$num]} share number $num (applied by name order)"
	fi
	seen_num[$num]=$name
	sum=$(sha256sum "$f" | cut -c1-64)
	if [[ -n ${applied[$name]:-} ]]; then
		[[ ${applied[$name]} == "$sum" ]] ||
			warn "schema/$name changed after it was applied; write a new migration instead"
		continue
	fi
	log "applying schema/$name"
	if ! out=$(mysql_root "$DB" <"$f" 2>&1); then
		printf '%s\n' "$out" >&2
		die "migration schema/$name failed (database $DB left at the migration before it)"
	fi
	mysql_root "$DB" -e "INSERT INTO schema_migrations (name, sha256) VALUES ('$name', '$sum')"
	count=$((count + 1))
done
log "schema up to date ($count applied now, ${#files[@]} in schema/)"

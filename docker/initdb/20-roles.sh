#!/usr/bin/env bash
# First start of the db container only: sets the passwords of the extension's login roles, which
# 10-balatrix.sql has created, from the environment (a .sql init file cannot read it).
#
#   BALATRIX_API_PASSWORD     balatrix_api, the sidecar's login role (docker-compose.yml requires it)
#   BALATRIX_INGEST_PASSWORD  balatrix_ingest, FreeSWITCH's login role (optional)
#
# A role left without a password cannot log in over TCP: pg_hba.conf asks for scram-sha-256. The
# script runs on an empty data volume only; to change a password later, use ALTER ROLE ... PASSWORD
# (psql's \password) and update the client: the sidecar's DATABASE_URL, FreeSWITCH's db-info.
set -Eeuo pipefail

# set_password ROLE VARIABLE
set_password() {
	local role=$1 variable=$2
	if [ -z "${!variable:-}" ]; then
		echo "20-roles.sh: $variable is empty: role $role has no password and cannot log in over TCP" >&2
		return 0
	fi
	# psql 15's \getenv copies the value from the environment into a psql variable, so it appears on
	# no command line; :'password' quotes it as an SQL literal and :"role" as an identifier. The
	# server stores only the SCRAM-SHA-256 verifier (password_encryption).
	psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc --dbname "$POSTGRES_DB" \
		--quiet --set role="$role" --set variable="$variable" <<-'SQL'
		\getenv password :variable
		ALTER ROLE :"role" PASSWORD :'password';
	SQL
	echo "20-roles.sh: password set for role $role" >&2
}

set_password balatrix_api BALATRIX_API_PASSWORD
set_password balatrix_ingest BALATRIX_INGEST_PASSWORD

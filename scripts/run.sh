#!/usr/bin/env bash
# make run / make stop: the private cluster with the balatrix database and demo data, and the
# sidecar on port 3000 against it.
#
#   scripts/run.sh start   start (or restart) everything; safe to repeat
#   scripts/run.sh stop    stop the sidecar and the cluster
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh

PIDFILE=$BALATRIX_RUN_DIR/sidecar.pid
LOG=$BALATRIX_RUN_DIR/sidecar.log
SECRETS=$BALATRIX_RUN_DIR/sidecar.env
DEMO_PASSWORD='Demo-Balatrix-2026!'
export PGHOST=$BALATRIX_PGHOST PGPORT=$BALATRIX_PGPORT PGUSER=postgres
unset PGDATABASE

stop_sidecar() {
	[ -f "$PIDFILE" ] || return 0
	local pid
	pid=$(cat "$PIDFILE")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		# Longer than the sidecar's drain (SHUTDOWN_GRACE_MS, 10 s by default) plus closing its pool.
		for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$pid" 2>/dev/null; then
			echo "sidecar $pid did not stop within 20 s; killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$PIDFILE"
}

start() {
	scripts/pg.sh start
	if [ "$(psql -X -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$BALATRIX_DB'")" != 1 ]; then
		psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $BALATRIX_DB"
	fi
	psql -X -q -v ON_ERROR_STOP=1 -d "$BALATRIX_DB" <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_cron;
CREATE EXTENSION IF NOT EXISTS balatrix;
ALTER EXTENSION balatrix UPDATE;
SQL
	psql -X -q -v ON_ERROR_STOP=1 -d "$BALATRIX_DB" -f scripts/demo.sql

	# A development JWT secret, made once and kept out of git (.run/ is ignored).
	if [ ! -f "$SECRETS" ]; then
		(umask 077 && echo "JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$SECRETS")
	fi

	[ -x "$BALATRIX_SIDECAR_BIN" ] || { echo "run: $BALATRIX_SIDECAR_BIN is missing (make build)" >&2; exit 1; }

	# The database verifies the sidecar's access tokens itself: it needs the same key (README, "The API's
	# identity"). Then two demo logins (created once): a super_admin, and the customer Anita Sharma of
	# scripts/demo.sql. Their password is for this private cluster only.
	local jwt_secret
	jwt_secret=$(sed -n 's/^JWT_SECRET=//p' "$SECRETS")
	psql -X -q -v ON_ERROR_STOP=1 -d "$BALATRIX_DB" -v key="$jwt_secret" >/dev/null <<'SQL'
SELECT balatrix.set_api_signing_key(:'key');
SQL
	local demo_hash
	demo_hash=$(printf '%s\n' "$DEMO_PASSWORD" | "$BALATRIX_SIDECAR_BIN" hash-password)
	psql -X -q -v ON_ERROR_STOP=1 -d "$BALATRIX_DB" -v hash="$demo_hash" <<'SQL'
INSERT INTO balatrix.users (email, password_hash, first_name, last_name, role, email_verified_at, password_changed_at)
SELECT 'admin@balatrix.local', :'hash', 'Demo', 'Admin', 'super_admin', now(), now()
 WHERE NOT EXISTS (SELECT 1 FROM balatrix.users WHERE lower(email) = 'admin@balatrix.local');
WITH u AS (
    INSERT INTO balatrix.users (email, password_hash, first_name, last_name, role, email_verified_at, password_changed_at)
    SELECT 'anita.sharma@example.in', :'hash', 'Anita', 'Sharma', 'customer', now(), now()
     WHERE NOT EXISTS (SELECT 1 FROM balatrix.users WHERE lower(email) = 'anita.sharma@example.in')
    RETURNING id
)
UPDATE balatrix.customers c SET user_id = u.id FROM u WHERE c.email = 'anita.sharma@example.in' AND c.user_id IS NULL;
SQL
	stop_sidecar
	(
		set -a
		source "$SECRETS"
		set +a
		export DATABASE_URL="postgresql://balatrix_api@$BALATRIX_PGHOST:$BALATRIX_PGPORT/$BALATRIX_DB"
		export PORT=$BALATRIX_SIDECAR_PORT LOG_LEVEL=${LOG_LEVEL:-info}
		exec nohup "$BALATRIX_SIDECAR_BIN" >>"$LOG" 2>&1 </dev/null
	) &
	echo $! >"$PIDFILE"

	local url="http://127.0.0.1:$BALATRIX_SIDECAR_PORT"
	for _ in $(seq 1 100); do
		if curl -fsS -o /dev/null "$url/health/ready" 2>/dev/null; then
			cat <<BANNER

Balatrix is running.
  sidecar      $url   (health: curl $url/health/ready)
  database     postgresql://postgres@$BALATRIX_PGHOST:$BALATRIX_PGPORT/$BALATRIX_DB   (make psql)
  logs         $LOG
               $(readlink -f "$BALATRIX_RUN_DIR/$BALATRIX_CLUSTER")/server.log
  stop         make stop

Log in (demo users of this private cluster, password $DEMO_PASSWORD):
  curl -s -X POST $url/api/auth/login -H 'Content-Type: application/json' \\
       -d '{"email":"admin@balatrix.local","password":"$DEMO_PASSWORD"}'        (super_admin)
  curl -s -X POST $url/api/auth/login -H 'Content-Type: application/json' \\
       -d '{"email":"anita.sharma@example.in","password":"$DEMO_PASSWORD"}'     (customer)
  then: curl -s $url/api/subscriptions/my-dashboard -H "Authorization: Bearer <accessToken>"
  API description: $url/openapi.json
BANNER
			return 0
		fi
		kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
		sleep 0.1
	done
	echo "run: the sidecar did not become ready; last lines of $LOG:" >&2
	tail -20 "$LOG" >&2
	exit 1
}

case "${1:-}" in
start) start ;;
stop)
	stop_sidecar
	scripts/pg.sh stop
	echo "stopped"
	;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac

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

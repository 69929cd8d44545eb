#!/usr/bin/env bash
# The private PostgreSQL cluster harness.
#
#   scripts/pg.sh create | start | stop | destroy | status | psql [args] | url [db] [user]
#
# A cluster lives in $BALATRIX_RUN_DIR/$BALATRIX_CLUSTER (default .run/pg, git-ignored): data/,
# sock/ (unix socket), server.log. It listens on 127.0.0.1:$BALATRIX_PGPORT (default 15432), trusts
# loopback and socket connections (a development and test cluster: never expose it), and preloads
# pg_cron with cron.database_name = 'balatrix'.
#
# As root the server runs as the `postgres` user (initdb and pg_ctl refuse root); as an ordinary
# user it runs as that user. When root's project folder is not reachable by `postgres` (a checkout
# under /root, say), the cluster is placed under /tmp and .run/<cluster> is a symlink to it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

NAME=$BALATRIX_CLUSTER
PORT=$BALATRIX_PGPORT
LINK=$BALATRIX_RUN_DIR/$NAME

as_server() {
	# From / : the server user may not be allowed into the current directory.
	if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# Resolves DIR (the cluster folder), creating the placement on first use.
resolve_dir() {
	mkdir -p "$BALATRIX_RUN_DIR"
	if [ -L "$LINK" ] || [ -d "$LINK" ]; then
		DIR=$(readlink -f "$LINK")
		return
	fi
	DIR=$LINK
	if [ "$(id -u)" -eq 0 ]; then
		mkdir -p "$DIR"
		chown postgres: "$DIR"
		if ! runuser -u postgres -- test -w "$DIR" 2>/dev/null; then
			rmdir "$DIR"
			local tmp
			tmp=$(mktemp -d "${TMPDIR:-/tmp}/balatrix-$NAME-XXXXXX")
			chmod 755 "$tmp"
			chown postgres: "$tmp"
			ln -s "$tmp" "$LINK"
			DIR=$tmp
		fi
	else
		mkdir -p "$DIR"
	fi
}

DATA() { echo "$DIR/data"; }

is_running() {
	[ -f "$DIR/data/postmaster.pid" ] && as_server "$PGBIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1
}

# The socket directory must be short (unix socket paths are limited to 107 bytes).
socket_dir() {
	if [ ${#DIR} -lt 80 ]; then echo "$DIR/sock"; else echo "/tmp/balatrix-sock-$(echo "$DIR" | md5sum | cut -c1-12)"; fi
}

cmd_create() {
	resolve_dir
	if [ -f "$DIR/data/PG_VERSION" ]; then return 0; fi
	local sock
	sock=$(socket_dir)
	mkdir -p "$DIR/data" "$sock"
	chmod 700 "$DIR/data"
	if [ "$(id -u)" -eq 0 ]; then chown postgres: "$DIR/data" "$sock" "$DIR"; fi
	as_server "$PGBIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 || {
		cat "$DIR/initdb.log" >&2
		exit 1
	}
	as_server tee -a "$DIR/data/postgresql.conf" >/dev/null <<CONF

# ---- balatrix private cluster (scripts/pg.sh) ----
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$sock'
timezone = '$BALATRIX_PG_TIMEZONE'
log_timezone = '$BALATRIX_PG_TIMEZONE'
log_line_prefix = '%m [%p] %q%u@%d '
shared_preload_libraries = 'pg_cron'
cron.database_name = '$BALATRIX_DB'
cron.host = '127.0.0.1'
${BALATRIX_PG_EXTRA_CONF:-}
CONF
	echo "created cluster $NAME in $DIR (port $PORT)" >&2
}

cmd_start() {
	cmd_create
	if is_running; then return 0; fi
	if ! as_server "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start >/dev/null; then
		echo "pg.sh: cluster $NAME failed to start; last lines of $DIR/server.log:" >&2
		tail -20 "$DIR/server.log" >&2 || true
		exit 1
	fi
}

cmd_stop() {
	resolve_dir
	[ -f "$DIR/data/postmaster.pid" ] || return 0
	if is_running; then
		as_server "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop >/dev/null || {
			echo "pg.sh: could not stop cluster $NAME ($DIR)" >&2
			return 1
		}
	fi
}

cmd_destroy() {
	resolve_dir
	# Never delete the files of a server that is still running.
	cmd_stop || exit 1
	if [ -f "$DIR/data/postmaster.pid" ] && is_running; then
		echo "pg.sh: cluster $NAME is still running; not destroying it" >&2
		exit 1
	fi
	local sock
	sock=$(socket_dir)
	[ "$sock" = "$DIR/sock" ] || rm -rf "$sock"
	if [ -L "$LINK" ]; then rm -rf "$(readlink -f "$LINK")"; rm -f "$LINK"; else rm -rf "$DIR"; fi
}

cmd_status() {
	resolve_dir
	if is_running; then echo "cluster $NAME: running on $BALATRIX_PGHOST:$PORT ($DIR)"; else echo "cluster $NAME: stopped ($DIR)"; return 3; fi
}

cmd_psql() {
	resolve_dir
	is_running || { echo "pg.sh: cluster $NAME is not running (make run starts it)" >&2; exit 1; }
	local db=${PGDATABASE:-$BALATRIX_DB}
	# psql reads SQL from stdin on its own when stdin is not a terminal.
	exec psql -X -h "$BALATRIX_PGHOST" -p "$PORT" -U "${PGUSER:-postgres}" -d "$db" "$@"
}

cmd_url() {
	echo "postgresql://${2:-postgres}@$BALATRIX_PGHOST:$PORT/${1:-$BALATRIX_DB}"
}

case "${1:-}" in
create) cmd_create ;;
start) cmd_start ;;
stop) cmd_stop ;;
destroy) cmd_destroy ;;
status) cmd_status ;;
psql) shift; cmd_psql "$@" ;;
url) shift; cmd_url "$@" ;;
*)
	echo "usage: $0 create|start|stop|destroy|status|psql [args]|url [db] [user]" >&2
	exit 2
	;;
esac

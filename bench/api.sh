#!/usr/bin/env bash
# Benchmark (issue 5): the REST sidecar under load. wrk (-c64 -t2 -d15s --latency, on loopback) against
#   /health                       no database: the HTTP stack alone (router, envelope, access log, metrics)
#   $BENCH_API_PATH               an authenticated route, default GET /api/subscriptions/my-dashboard: JWT
#                                 check, one transaction as balatrix_api with set_identity (token verified
#                                 again in the database) and the handler's queries under row-level security
# for each sidecar configuration in BENCH_API_CONFIGS ("threads:pool" pairs, SIDECAR_THREADS and DB_POOL_SIZE),
# and prints requests/s, p50 and p99 of each run.
#
# Setup: its own cluster (.run/bench_api, port $BALATRIX_BENCH_API_PGPORT, default 25492), database
# bench_api with the extension and the default catalogue, one customer (user, customer, prepaid account)
# with a Professional subscription, a live session (refresh-token family) and an access token signed with
# the signing key (perl, like tests/e2e/lib/api.sh). The sidecar runs as balatrix_api with RATE_LIMIT_API=0
# (the general API limit would otherwise be the thing measured), LOG_LEVEL=warn (no access log lines:
# with info the measured quantity includes writing one JSON line per request to a file).
#
# Connections are kept alive (HTTP/1.1's default; the runs also send "Connection: keep-alive", as HTTP
# clients with a pool do); BENCH_API_KEEPALIVE=0 sends "Connection: close" and measures reconnecting instead.
#
# Environment: BENCH_API_PATH, BENCH_API_CONFIGS (default "2:4 4:8 8:16"), BENCH_API_DURATION (15s),
# BENCH_API_CONNECTIONS (64), BENCH_API_WRK_THREADS (2), BENCH_API_KEEP=1 leaves the cluster running.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
export BALATRIX_CLUSTER=${BALATRIX_BENCH_API_CLUSTER:-bench_api} BALATRIX_PGPORT=${BALATRIX_BENCH_API_PGPORT:-25492}
export PGHOST=127.0.0.1 PGPORT=$BALATRIX_PGPORT PGUSER=postgres
API_PATH=${BENCH_API_PATH:-/api/subscriptions/my-dashboard}
CONFIGS=${BENCH_API_CONFIGS:-"2:4 4:8 8:16"}
DURATION=${BENCH_API_DURATION:-15s}
CONNECTIONS=${BENCH_API_CONNECTIONS:-64}
WRK_THREADS=${BENCH_API_WRK_THREADS:-2}
KEEPALIVE=${BENCH_API_KEEPALIVE:-1}
SIDECAR_PORT=${BENCH_API_SIDECAR_PORT:-25493}
SIDECAR_BIN=${BALATRIX_SIDECAR_BIN}
DB=bench_api
WORK=$(mktemp -d)
SIDECAR_PID=""

command -v wrk >/dev/null || { echo "api: wrk is not installed (make deps installs it)" >&2; exit 1; }
[ -x "$SIDECAR_BIN" ] || { echo "api: no sidecar binary at $SIDECAR_BIN (make build)" >&2; exit 1; }

stop_sidecar() {
	if [ -n "$SIDECAR_PID" ] && kill -0 "$SIDECAR_PID" 2>/dev/null; then
		kill -TERM "$SIDECAR_PID" 2>/dev/null || true
		wait "$SIDECAR_PID" 2>/dev/null || true
	fi
	SIDECAR_PID=""
}
cleanup() {
	stop_sidecar
	if [ "${BENCH_API_KEEP:-0}" != 1 ]; then
		psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" 2>/dev/null || true
		scripts/pg.sh stop
	fi
	rm -rf "$WORK"
}
scripts/pg.sh start
trap cleanup EXIT

q() { psql -X -At -v ON_ERROR_STOP=1 -d $DB -c "$1"; }

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
SECRET="bench-api-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
read -r USER_ID FAMILY < <(psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 -d $DB <<SQL
SET client_min_messages = warning;
CREATE EXTENSION balatrix;
SELECT balatrix.install_default_catalogue() \\g /dev/null
SELECT balatrix.set_api_signing_key('$SECRET') \\g /dev/null
WITH u AS (
    INSERT INTO balatrix.users (email, password_hash, first_name, last_name, role)
    VALUES ('bench@example.com', '\$argon2id\$unusable', 'Bench', 'Customer', 'customer') RETURNING id
), c AS (
    INSERT INTO balatrix.customers (user_id, name, email, billing_state_code)
    SELECT id, 'Bench customer', 'bench@example.com', '29' FROM u RETURNING id
)
INSERT INTO balatrix.accounts (customer_id, account_number, account_type)
SELECT id, 'BENCH0001', 'prepaid' FROM c \\g /dev/null
SELECT balatrix.create_subscription(a.id, 'PROFESSIONAL', 'monthly', NULL, true)
  FROM balatrix.accounts a WHERE a.account_number = 'BENCH0001' \\g /dev/null
INSERT INTO balatrix.refresh_tokens (user_id, family_id, token_hash, expires_at)
SELECT id, gen_random_uuid(), sha256(gen_random_uuid()::text::bytea), now() + interval '1 day'
  FROM balatrix.users WHERE email = 'bench@example.com'
RETURNING user_id, family_id;
SQL
)
[ -n "${FAMILY:-}" ] || { echo "api: setup failed" >&2; exit 1; }
# An access token of that session, valid for the whole run (the sidecar's own tokens live 15 minutes; the
# database checks the signature, the session and the user, not the lifetime policy).
TOKEN=$(perl -MDigest::SHA=hmac_sha256 -MMIME::Base64 -e '
	sub b64u { my $s = encode_base64($_[0], ""); $s =~ tr{+/}{-_}; $s =~ s/=+$//; return $s; }
	my ($secret, $sub, $sid) = @ARGV;
	my $now = time;
	my $header = b64u(q({"alg":"HS256","typ":"JWT"}));
	my $payload = b64u(qq({"iss":"balatrix","sub":"$sub","aud":"balatrix-api","iat":$now,"exp":) . ($now + 900)
		. qq(,"jti":"bench","sid":"$sid","role":"customer"}));
	print "$header.$payload." . b64u(hmac_sha256("$header.$payload", $secret));
' "$SECRET" "$USER_ID" "$FAMILY")

start_sidecar() { # threads pool
	env -i PATH="$PATH" DATABASE_URL="postgresql://balatrix_api@127.0.0.1:$PGPORT/$DB" JWT_SECRET="$SECRET" \
		PORT="$SIDECAR_PORT" LISTEN_ADDRESS=127.0.0.1 LOG_LEVEL=warn SIDECAR_THREADS="$1" DB_POOL_SIZE="$2" \
		RATE_LIMIT_API=0 "$SIDECAR_BIN" >"$WORK/sidecar.log" 2>&1 &
	SIDECAR_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(curl -s -o /dev/null --max-time 1 -w '%{http_code}' "http://127.0.0.1:$SIDECAR_PORT/health/ready")" = 200 ] && return 0
		kill -0 "$SIDECAR_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "api: the sidecar did not become ready" >&2
	sed 's/^/  /' "$WORK/sidecar.log" >&2
	exit 1
}

# wrk's output -> "req/s p50 p99 non2xx errors"
run_wrk() { # path [token]
	local args=(-c"$CONNECTIONS" -t"$WRK_THREADS" -d"$DURATION" --latency)
	[ "$KEEPALIVE" = 1 ] && args+=(-H 'Connection: keep-alive') || args+=(-H 'Connection: close')
	[ -n "${2:-}" ] && args+=(-H "Authorization: Bearer $2")
	wrk "${args[@]}" "http://127.0.0.1:$SIDECAR_PORT$1" >"$WORK/wrk.out" 2>&1 || true
	awk '
		/Requests\/sec:/ { rps = $2 }
		/^ +50%/ { p50 = $2 }
		/^ +99%/ { p99 = $2 }
		/Non-2xx or 3xx responses:/ { bad = $5 }
		/Socket errors:/ { err = $0; sub(/^ *Socket errors: */, "", err); gsub(/ /, "", err) }
		END { printf "%s %s %s %s %s\n", rps ? rps : "-", p50 ? p50 : "-", p99 ? p99 : "-", bad ? bad : 0, err ? err : "none" }
	' "$WORK/wrk.out"
}

echo "wrk -c$CONNECTIONS -t$WRK_THREADS -d$DURATION --latency on 127.0.0.1 ($( [ "$KEEPALIVE" = 1 ] && echo keep-alive || echo a new connection per request)); $(nproc) cores shared by wrk, the sidecar and PostgreSQL"
printf '%-7s %-5s %-36s %10s %9s %9s %7s %s\n' threads pool path "req/s" p50 p99 non-2xx "socket errors"
for config in $CONFIGS; do
	threads=${config%%:*}
	pool=${config##*:}
	start_sidecar "$threads" "$pool"
	# The authenticated route must answer 200 before it is worth measuring.
	status=$(curl -s -o "$WORK/check.body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$SIDECAR_PORT$API_PATH")
	if [ "$status" != 200 ]; then
		echo "api: GET $API_PATH answered $status, not 200: $(head -c 300 "$WORK/check.body")" >&2
		exit 1
	fi
	for target in /health "$API_PATH"; do
		token=""
		[ "$target" = /health ] || token=$TOKEN
		read -r rps p50 p99 bad errors < <(run_wrk "$target" "$token")
		printf '%-7s %-5s %-36s %10s %9s %9s %7s %s\n' "$threads" "$pool" "GET $target" "$rps" "$p50" "$p99" "$bad" "$errors"
	done
	stop_sidecar
done

#!/bin/bash
# End-to-end: the real balatrix-sidecar binary against a real PostgreSQL with the balatrix extension.
# TAP output; run with:  prove -e bash tests/e2e/sidecar_health.sh
#
# Environment (provided by the test harness):
#   BALATRIX_SIDECAR_BIN        path to the balatrix-sidecar binary
#   BALATRIX_TEST_DATABASE_URL  libpq URI of a database where the balatrix extension is installed
#   BALATRIX_E2E_PORT           a free TCP port below 32768 for the sidecar to listen on
# Needs: curl, perl (JSON::PP and IO::Socket::INET, both part of Debian's perl).
set -uo pipefail

BIN=${BALATRIX_SIDECAR_BIN:-}
DB_URL=${BALATRIX_TEST_DATABASE_URL:-}
PORT=${BALATRIX_E2E_PORT:-}
[[ -n $BIN && -x $BIN ]] || { echo "Bail out! BALATRIX_SIDECAR_BIN is not an executable: '${BIN}'"; exit 1; }
[[ -n $DB_URL ]] || { echo "Bail out! BALATRIX_TEST_DATABASE_URL is not set"; exit 1; }
[[ $PORT =~ ^[0-9]+$ ]] || { echo "Bail out! BALATRIX_E2E_PORT is not a port: '${PORT}'"; exit 1; }
command -v curl >/dev/null || { echo "Bail out! curl is not installed"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sidecar_e2e.XXXXXX")
BASE="http://127.0.0.1:${PORT}"
# Secrets with values that cannot occur by accident, to grep the logs for.
JWT_SECRET_VALUE="e2e-jwt-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
STRIPE_SECRET_VALUE="sk_test_e2e_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
RAZORPAY_SECRET_VALUE="rzp_e2e_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

SIDECAR_PID=""
SILENT_DB_PID=""
cleanup() {
	if [[ -n $SIDECAR_PID ]] && kill -0 "$SIDECAR_PID" 2>/dev/null; then
		kill -KILL "$SIDECAR_PID" 2>/dev/null
		wait "$SIDECAR_PID" 2>/dev/null
	fi
	if [[ -n $SILENT_DB_PID ]]; then
		kill "$SILENT_DB_PID" 2>/dev/null
		wait "$SILENT_DB_PID" 2>/dev/null
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

echo "1..29"
TEST_NUMBER=0
check() { # check "description" command...
	local description=$1
	shift
	TEST_NUMBER=$((TEST_NUMBER + 1))
	if "$@"; then
		echo "ok ${TEST_NUMBER} - ${description}"
	else
		echo "not ok ${TEST_NUMBER} - ${description}"
	fi
}

# json FILE PERL-EXPR: evaluates PERL-EXPR with $j = the decoded JSON in FILE; prints the result.
json() {
	perl -MJSON::PP -e '
		local $/; open(my $fh, "<", $ARGV[0]) or exit 2; my $text = <$fh>;
		my $j = eval { JSON::PP->new->utf8->decode($text) } or exit 3;
		my $v = eval $ARGV[1]; exit 4 if $@; print defined $v ? (JSON::PP::is_bool($v) ? ($v ? "true" : "false") : $v) : "null";
	' "$1" "$2"
}

# Every line of FILE is a JSON object.
all_lines_json() {
	perl -MJSON::PP -ne 'chomp; next if $_ eq ""; my $o = eval { decode_json($_) }; exit 1 unless ref $o eq "HASH";' "$1"
}

# fetch NAME [curl args...] URL: body -> $WORK/NAME.body, headers -> $WORK/NAME.headers, prints the status.
fetch() {
	local name=$1
	shift
	curl -sS --max-time 10 -o "$WORK/$name.body" -D "$WORK/$name.headers" -w '%{http_code}' "$@" 2>"$WORK/$name.curl" || echo "000"
}

header() { # header NAME HEADER-NAME: the header's value (case-insensitive name)
	awk -v h="$(echo "$2" | tr 'A-Z' 'a-z')" 'BEGIN{FS=": "} {n=tolower($1)} n==h {sub(/\r$/, "", $2); print $2}' "$WORK/$1.headers"
}

# The outbox consumer is off: these tests count the database connections the HTTP side makes (the silent
# database below), and the consumer's own session would be one more (tests/e2e/outbox_delivery.sh covers it).
start_sidecar() { # start_sidecar LOG DATABASE_URL [NAME=VALUE...]: starts in the background, sets SIDECAR_PID
	local log=$1 url=$2
	shift 2
	env -i PATH="$PATH" \
		DATABASE_URL="$url" JWT_SECRET="$JWT_SECRET_VALUE" \
		STRIPE_SECRET_KEY="$STRIPE_SECRET_VALUE" RAZORPAY_KEY_SECRET="$RAZORPAY_SECRET_VALUE" OUTBOX_ENABLED=false \
		PORT="$PORT" LISTEN_ADDRESS=127.0.0.1 LOG_LEVEL=debug DB_POOL_TIMEOUT_MS=1000 "$@" \
		"$BIN" >"$WORK/$log" 2>&1 &
	SIDECAR_PID=$!
}

wait_until_live() { # up to 10 s for /health/live to answer 200 while the process is alive
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$SIDECAR_PID" 2>/dev/null || return 1
		[[ $(curl -s -o /dev/null --max-time 1 -w '%{http_code}' "$BASE/health/live") == 200 ]] && return 0
		sleep 0.1
	done
	return 1
}

wait_for() { # wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s; true as soon as it succeeds
	local i limit=$(($1 * 10))
	shift
	for ((i = 0; i < limit; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

wait_for_exit() { # wait_for_exit SECONDS: sets EXIT_STATUS to the sidecar's exit status, or "none" if it is still running
	EXIT_STATUS=none
	wait_for "$1" bash -c "! kill -0 $SIDECAR_PID 2>/dev/null" || return 1
	wait "$SIDECAR_PID"
	EXIT_STATUS=$?
	SIDECAR_PID=""
}

# A "database" that accepts TCP connections and never answers: libpq then waits for the server's reply until
# connect_timeout, so a GET /health/ready stays in flight that long. It closes its first connection at once
# (the sidecar's startup readiness probe, which must not delay startup) and appends a line to ACCEPTS for every
# connection, so the script knows when a request's probe is waiting. Prints its port to PORTFILE.
start_silent_db() { # start_silent_db PORTFILE ACCEPTS
	perl -MIO::Socket::INET -e '
		my $listener = IO::Socket::INET->new(Listen => 16, LocalAddr => "127.0.0.1", LocalPort => 0, ReuseAddr => 1)
			or die "listen: $!";
		open(my $port, ">", "$ARGV[0].tmp") or die; print $port $listener->sockport, "\n"; close $port;
		rename("$ARGV[0].tmp", $ARGV[0]) or die;
		my ($count, @held) = (0);
		while (my $client = $listener->accept) {
			$count++;
			if ($count == 1) { close $client } else { push @held, $client }
			open(my $log, ">>", $ARGV[1]) or die; print $log "$count\n"; close $log;
		}
	' "$1" "$2" &
	SILENT_DB_PID=$!
	wait_for 5 test -s "$1"
}

stop_silent_db() {
	kill "$SILENT_DB_PID" 2>/dev/null
	wait "$SILENT_DB_PID" 2>/dev/null
	SILENT_DB_PID=""
}

# hold_request NAME: starts a GET /health/ready against a sidecar on the silent database and returns once its
# probe is waiting on the database (the request is in flight). The curl runs in the background.
hold_request() {
	: >"$WORK/$1.accepts"
	start_silent_db "$WORK/$1.port" "$WORK/$1.accepts" || return 1
	# connect_timeout bounds how long the held request could last; sslmode/gssencmode keep libpq to one
	# connection attempt per probe.
	start_sidecar "$1.log" "postgresql://nobody@127.0.0.1:$(cat "$WORK/$1.port")/none?connect_timeout=60&sslmode=disable&gssencmode=disable" \
		"${@:2}"
	wait_until_live || return 1
	curl -s -o /dev/null --max-time 90 "$BASE/health/ready" &
	HELD_CURL_PID=$!
	wait_for 10 bash -c "[[ \$(wc -l <'$WORK/$1.accepts') -ge 2 ]]"
}

finish_held() { # kills a sidecar still running after hold_request's test, then reaps the curl and the silent DB
	if [[ -n $SIDECAR_PID ]]; then
		kill -KILL "$SIDECAR_PID" 2>/dev/null
		wait "$SIDECAR_PID" 2>/dev/null
		SIDECAR_PID=""
	fi
	wait "$HELD_CURL_PID" 2>/dev/null
	stop_silent_db
}

stop_sidecar() { # SIGTERM; true when the process exits with status 0 within 5 s
	local i rc
	kill -TERM "$SIDECAR_PID" 2>/dev/null || return 1
	for ((i = 0; i < 50; i++)); do
		if ! kill -0 "$SIDECAR_PID" 2>/dev/null; then
			wait "$SIDECAR_PID"
			rc=$?
			SIDECAR_PID=""
			return "$rc"
		fi
		sleep 0.1
	done
	return 1
}

# ---- configuration errors -------------------------------------------------------------------------------
env -i PATH="$PATH" JWT_SECRET="$JWT_SECRET_VALUE" PORT="$PORT" "$BIN" >"$WORK/noconf.out" 2>"$WORK/noconf.err"
rc=$?
check "missing DATABASE_URL exits with status 2 (got $rc)" test "$rc" -eq 2
check "the error names DATABASE_URL" grep -q '^balatrix-sidecar: DATABASE_URL is required' "$WORK/noconf.err"

env -i PATH="$PATH" DATABASE_URL="$DB_URL" JWT_SECRET=too-short PORT=99999 "$BIN" >/dev/null 2>"$WORK/bad.err"
rc=$?
check "invalid settings exit 2 and every problem is reported (got $rc)" \
	bash -c "[[ $rc -eq 2 ]] && grep -q '^balatrix-sidecar: JWT_SECRET' '$WORK/bad.err' && grep -q '^balatrix-sidecar: PORT' '$WORK/bad.err'"

env -i PATH="$PATH" DATABASE_URL="$DB_URL" JWT_SECRET="$JWT_SECRET_VALUE" PORT="$PORT" SHUTDOWN_GRACE_MS=abc \
	"$BIN" >/dev/null 2>"$WORK/grace.err"
rc=$?
check "SHUTDOWN_GRACE_MS=abc exits 2 naming SHUTDOWN_GRACE_MS (got $rc)" \
	bash -c "[[ $rc -eq 2 ]] && grep -q '^balatrix-sidecar: SHUTDOWN_GRACE_MS must be an integer between 0 and 600000' '$WORK/grace.err'"

# ---- a healthy sidecar ------------------------------------------------------------------------------------
start_sidecar ready.log "$DB_URL"
check "starts and answers /health/live" wait_until_live

status=$(fetch health "$BASE/health")
check "/health is 200 (got $status)" test "$status" = 200
check "/health body is the success envelope with service and version" \
	test "$(json "$WORK/health.body" '$j->{success} && $j->{data}{status} eq "ok" && $j->{data}{service} eq "balatrix-sidecar" && $j->{data}{version} =~ /^\d+\.\d+\.\d+/ ? 1 : 0')" = 1

status=$(fetch live "$BASE/health/live")
check "/health/live is 200 (got $status)" test "$status" = 200

status=$(fetch ready "$BASE/health/ready")
check "/health/ready is 200 against the real database (got $status)" test "$status" = 200
[[ $status == 200 ]] || echo "# body: $(head -c 500 "$WORK/ready.body" 2>/dev/null | tr -d '\n')"
extension_version=$(json "$WORK/ready.body" '$j->{data}{database}{extensionVersion}')
check "/health/ready reports the extension version (got '$extension_version')" \
	bash -c "[[ '$extension_version' =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]]"
check "/health/ready reports the server version" \
	test "$(json "$WORK/ready.body" '$j->{data}{status} eq "ready" && $j->{data}{database}{ok} && $j->{data}{database}{serverVersion} =~ /^\d+/ ? 1 : 0')" = 1

status=$(fetch rid -H 'X-Request-ID: e2e-request.42' "$BASE/health")
check "X-Request-ID is echoed in the header and the envelope" \
	bash -c "[[ '$(header rid x-request-id)' == e2e-request.42 && '$(json "$WORK/rid.body" '$j->{metadata}{requestId}')' == e2e-request.42 ]]"

status=$(fetch missing "$BASE/no/such/route")
check "an unknown route is 404 with the JSON error envelope (got $status)" \
	bash -c "[[ $status == 404 && '$(json "$WORK/missing.body" '$j->{success} ? "yes" : $j->{error}{code}')' == NOT_FOUND && '$(header missing content-type)' == application/json* ]]"

check "the log says where it listens" grep -q "\"msg\":\"listening\",\"address\":\"127.0.0.1\",\"port\":${PORT}" "$WORK/ready.log"
check "the request is in the access log with its request id" \
	grep -q '"msg":"http_request".*"request_id":"e2e-request.42".*"status":200' "$WORK/ready.log"

stop_sidecar
rc=$?
check "SIGTERM stops it with status 0 within 5 s (got $rc)" test "$rc" -eq 0
check "shutdown is logged" grep -q '"msg":"stopped"' "$WORK/ready.log"
# Idle when SIGTERM came: nothing to wait for, so the drain is complete at once.
grep '"msg":"stopped"' "$WORK/ready.log" | tail -n 1 >"$WORK/stopped.json"
check "the stopped event says drained, nothing in flight, and how long it waited" \
	test "$(json "$WORK/stopped.json" '$j->{drained} && JSON::PP::is_bool($j->{drained}) && $j->{in_flight_at_shutdown} == 0 && $j->{waited_ms} =~ /^\d+$/ ? 1 : 0')" = 1
[[ -s $WORK/stopped.json ]] && echo "# $(cat "$WORK/stopped.json")"
grep '"msg":"shutting_down"' "$WORK/ready.log" | tail -n 1 >"$WORK/shutting_down.json"
check "the drain start is logged with the signal and the default 10 s grace" \
	test "$(json "$WORK/shutting_down.json" '$j->{signal} eq "SIGTERM" && $j->{grace_ms} == 10000 ? 1 : 0')" = 1
check "every log line is a JSON object" all_lines_json "$WORK/ready.log"

# ---- a sidecar whose database is unreachable --------------------------------------------------------------
start_sidecar down.log "postgresql://nobody@127.0.0.1:1/none"
wait_until_live
status=$(fetch down_health "$BASE/health")
check "with the database down, /health is still 200 (got $status)" test "$status" = 200
status=$(fetch down_ready "$BASE/health/ready")
check "with the database down, /health/ready is 503 SERVICE_UNAVAILABLE (got $status)" \
	bash -c "[[ $status == 503 && '$(json "$WORK/down_ready.body" '$j->{error}{code}')' == SERVICE_UNAVAILABLE ]]"

stop_sidecar
rc=$?
check "SIGTERM stops the second instance with status 0 (got $rc)" test "$rc" -eq 0

# ---- shutdown with a request in flight ----------------------------------------------------------------
# The grace expires: the process must not wait for the held request (up to 60 s) and says it did not drain.
hold_request held_grace SHUTDOWN_GRACE_MS=300
held=$?
started=$(date +%s%N)
kill -TERM "$SIDECAR_PID" 2>/dev/null
wait_for_exit 20
rc=$EXIT_STATUS
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
verdict=0
[[ $held == 0 && $rc == 0 && $elapsed_ms -ge 300 && $elapsed_ms -lt 20000 ]] && verdict=1
check "with a request held in flight, SIGTERM and SHUTDOWN_GRACE_MS=300 exit 0 after the grace, not after the request (held=$held rc=$rc, ${elapsed_ms} ms)" \
	test "$verdict" = 1
grep '"msg":"stopped"' "$WORK/held_grace.log" | tail -n 1 >"$WORK/held_grace_stopped.json"
check "its stopped event says not drained, one request in flight, waited the grace" \
	test "$(json "$WORK/held_grace_stopped.json" '!$j->{drained} && JSON::PP::is_bool($j->{drained}) && $j->{in_flight_at_shutdown} == 1 && $j->{waited_ms} >= 300 ? 1 : 0')" = 1
finish_held # a sidecar that failed to exit is killed rather than waited for

# A second signal during the drain stops at once, long before the 60 s grace.
hold_request held_forced SHUTDOWN_GRACE_MS=60000
held=$?
kill -TERM "$SIDECAR_PID" 2>/dev/null
wait_for 10 grep -q '"msg":"shutting_down"' "$WORK/held_forced.log"
kill -INT "$SIDECAR_PID" 2>/dev/null
wait_for_exit 20
rc=$EXIT_STATUS
verdict=0
[[ $held == 0 && $rc == 0 ]] && verdict=1
check "a second signal during the drain exits 0 at once (held=$held rc=$rc)" test "$verdict" = 1
grep '"msg":"stopped"' "$WORK/held_forced.log" | tail -n 1 >"$WORK/held_forced_stopped.json"
forced_logged=$(grep -c '"msg":"shutdown_forced".*"signal":"SIGINT"' "$WORK/held_forced.log")
forced_stopped=$(json "$WORK/held_forced_stopped.json" '!$j->{drained} && JSON::PP::is_bool($j->{drained}) && $j->{in_flight_at_shutdown} == 1 && $j->{waited_ms} < 60000 ? 1 : 0')
verdict=0
[[ $forced_logged -ge 1 && $forced_stopped == 1 ]] && verdict=1
check "the forced stop is logged, and stopped says not drained with one request in flight (forced lines: $forced_logged, stopped ok: '$forced_stopped')" \
	test "$verdict" = 1
finish_held # a sidecar that failed to exit is killed rather than waited for

# The outbox consumer stuck connecting to a database that never answers: SIGTERM still ends the process
# promptly (the consumer gets a bounded wait, then is abandoned with the process), with status 0.
: >"$WORK/stuck.accepts"
start_silent_db "$WORK/stuck.port" "$WORK/stuck.accepts"
start_sidecar stuck.log "postgresql://nobody@127.0.0.1:$(cat "$WORK/stuck.port")/none?connect_timeout=60&sslmode=disable&gssencmode=disable" \
	OUTBOX_ENABLED=true SHUTDOWN_GRACE_MS=300
wait_until_live
wait_for 10 bash -c "grep -q outbox_consumer_started '$WORK/stuck.log' && [[ \$(wc -l <'$WORK/stuck.accepts') -ge 2 ]]"
stuck_started=$?
started_ms=$(date +%s%3N)
kill -TERM "$SIDECAR_PID" 2>/dev/null
wait_for_exit 20
rc=$EXIT_STATUS
elapsed_ms=$(($(date +%s%3N) - started_ms))
verdict=0
[[ $stuck_started == 0 && $rc == 0 && $elapsed_ms -lt 10000 ]] && verdict=1
check "the outbox consumer stuck on an unanswering database: SIGTERM exits 0 within 10 s (rc=$rc, ${elapsed_ms} ms)" test "$verdict" = 1
[[ $verdict == 1 ]] || sed "s/^/# /" "$WORK/stuck.log" | cut -c1-220 | tail -8
finish_held

leaks=0
for secret in "$JWT_SECRET_VALUE" "$STRIPE_SECRET_VALUE" "$RAZORPAY_SECRET_VALUE"; do
	grep -qF -- "$secret" "$WORK/ready.log" "$WORK/down.log" "$WORK/held_grace.log" "$WORK/held_forced.log" \
		"$WORK/noconf.err" "$WORK/bad.err" "$WORK/grace.err" && leaks=$((leaks + 1))
done
check "no secret value appears in any output ($leaks leaked)" test "$leaks" -eq 0

#!/bin/bash
# End-to-end: GET /metrics (Prometheus text format) and GET /openapi.json through the real sidecar against a
# real PostgreSQL. TAP; run with  prove -e bash tests/e2e/api_metrics_openapi.sh  (environment: see
# tests/e2e/lib/api.sh).
#
# The database may hold other scripts' rows, so the business gauges are checked two independent ways: as
# deltas over rows this script adds (counted by hand), and against counts taken directly as the superuser.
# HTTP counters are checked as deltas over requests this script makes (the sidecar is its own).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib/tap.sh"
source "$HERE/lib/api.sh"

API_SIDECAR_ENV=(DB_POOL_SIZE=3)
STARTED_AT=$(date +%s)
api_init

S=$(uniq_suffix)
as_postgres -c "SELECT balatrix.install_default_catalogue()" >/dev/null

# sample NAME SERIES -> the value of the sample line "SERIES value" in $WORK/NAME.body, or "absent"
sample() {
	perl -e '
		my ($file, $series) = @ARGV; open(my $fh, "<", $file) or exit 2;
		while (<$fh>) { chomp; next if /^#/; my $at = rindex($_, " ");
			if (substr($_, 0, $at) eq $series) { print substr($_, $at + 1); exit 0 } }
		print "absent";
	' "$WORK/$1.body" "$2"
}
# delta A B SERIES -> value in scrape B minus value in scrape A ("absent" counts as 0)
delta() {
	local a b
	a=$(sample "$1" "$3"); b=$(sample "$2" "$3")
	[[ $a == absent ]] && a=0
	[[ $b == absent ]] && b=0
	perl -e 'print $ARGV[1] - $ARGV[0]' "$a" "$b"
}
P=telecom_billing_
http_total() { echo "${P}http_requests_total{method=\"$1\",route=\"$2\",status_code=\"$3\"}"; }

# ---- /metrics: format, public, HTTP counters ---------------------------------------------------------------

is "$(req m0 GET /metrics)" 200 "GET /metrics without a token: 200 (public, like the seed)"
is "$(grep -i '^content-type:' "$WORK/m0.headers" | tr -d '\r')" \
	"Content-Type: text/plain; version=0.0.4; charset=utf-8" "the Prometheus text format 0.0.4"
ok "$(grep -qi '^x-request-id: .' "$WORK/m0.headers"; echo $?)" "with an X-Request-ID, like every response"
is "$(grep -c '^# TYPE '"${P}"'http_requests_total counter$' "$WORK/m0.body")" 1 "http_requests_total is a counter, declared once"
is "$(grep -c '^# TYPE '"${P}"'http_request_duration_seconds histogram$' "$WORK/m0.body")" 1 "http_request_duration_seconds is a histogram"
bad_lines=$(grep -vE '^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*|[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+0-9.eEInfNa]+)$' "$WORK/m0.body")
is "$bad_lines" "" "every line is a HELP, a TYPE or a sample"

read -r UX CX AX <<<"$(new_customer "x.$S@example.com")"
TX=$(token_for "$UX" customer)
req h1 GET /health >/dev/null
req h2 GET /health >/dev/null
req n1 GET "/no/such/route/$CX" >/dev/null
req n2 GET "/metrics/%27%20OR%201=1--" >/dev/null
is "$(req p1 POST /metrics - '{}')" 405 "POST /metrics: 405"
is "$(req u1 GET /api/auth/me)" 401 "GET /api/auth/me without a token: 401"
is "$(req c1 GET "/api/customers/$CX" "$TX")" 200 "GET /api/customers/:id as its owner: 200"
is "$(req m1 GET /metrics)" 200 "second scrape: 200"
is "$(delta m0 m1 "$(http_total GET /health 200)")" 2 "GET /health 200 counted twice"
is "$(delta m0 m1 "$(http_total GET unmatched 404)")" 2 "both 404s counted under route=\"unmatched\""
is "$(delta m0 m1 "$(http_total POST /metrics 405)")" 1 "the 405 counted under the path's pattern"
is "$(delta m0 m1 "$(http_total GET /api/auth/me 401)")" 1 "the 401 counted"
is "$(delta m0 m1 "$(http_total GET /api/customers/:id 200)")" 1 "GET /api/customers/:id counted under its pattern"
is "$(delta m0 m1 "$(http_total GET /metrics 200)")" 1 "the first scrape is counted in the second"
ok "$(! grep -q -e "$CX" -e 'no/such' -e '1=1' "$WORK/m1.body"; echo $?)" "no raw path, id or injected text in the labels"
H="${P}http_request_duration_seconds"
L='method="GET",route="/health",status_code="200"'
is "$(delta m0 m1 "${H}_count{$L}")" 2 "the histogram's _count moves with the counter"
is "$(sample m1 "${H}_bucket{$L,le=\"+Inf\"}")" "$(sample m1 "${H}_count{$L}")" "+Inf bucket = _count"
cumulative=$(perl -e '
	my ($file, $labels) = @ARGV; open(my $fh, "<", $file) or exit 2; my $last = -1; my $ok = 1; my $n = 0;
	while (<$fh>) { if (/^\Qtelecom_billing_http_request_duration_seconds_bucket{$labels\E,le="[^"]+"\} (\S+)$/) {
		$ok = 0 if $1 < $last; $last = $1; $n++ } }
	print $ok && $n == 9 ? "yes" : "no ($n buckets)";
' "$WORK/m1.body" "$L")
is "$cumulative" yes "9 buckets (the seed's 8 bounds and +Inf), non-decreasing"

# ---- /metrics: pool, process, business -------------------------------------------------------------------

is "$(sample m1 "${P}db_connection_pool_size")" 3 "db_connection_pool_size = DB_POOL_SIZE"
ok "$([[ $(sample m1 "${P}db_connection_pool{status=\"idle\"}") =~ ^[0-3]$ ]]; echo $?)" "idle connections between 0 and the pool size"
is "$(sample m1 "${P}business_metrics_up")" 1 "business_metrics_up 1 with the database up"
start=$(sample m1 "${P}process_start_time_seconds")
ok "$(perl -e 'exit !($ARGV[0] >= $ARGV[1] - 2 && $ARGV[0] <= time + 1)' "$start" "$STARTED_AT"; echo $?)" \
	"process_start_time_seconds is when this script started the sidecar ($start vs $STARTED_AT)"
ok "$(perl -e 'exit !($ARGV[0] > 1048576)' "$(sample m1 "${P}process_resident_memory_bytes")"; echo $?)" "resident memory over 1 MiB"
ok "$(perl -e 'exit !($ARGV[0] >= 3)' "$(sample m1 "${P}process_open_fds")"; echo $?)" "open descriptors counted"
ok "$([[ $(sample m1 "${P}process_cpu_seconds_total") != absent ]]; echo $?)" "process_cpu_seconds_total present"

# Business gauges: rows added by hand, then the deltas.
req b0 GET /metrics >/dev/null
read -r U1 C1 A1 <<<"$(new_customer "m1.$S@example.com")"
read -r U2 C2 A2 <<<"$(new_customer "m2.$S@example.com")"
read -r U3 C3 A3 <<<"$(new_customer "m3.$S@example.com")"
as_postgres >/dev/null <<SQL
UPDATE balatrix.customers SET status = 'suspended' WHERE id = '$C3';
SELECT balatrix.create_subscription('$A1', 'STARTER', 'monthly', NULL, true);
SELECT balatrix.create_subscription('$A2', 'STARTER', 'monthly', NULL, true);
SELECT balatrix.create_subscription('$A3', 'CALL_CENTER', 'monthly', NULL, true);
INSERT INTO balatrix.cdr (uuid, accountcode, destination_number, billsec, start_stamp, end_stamp)
VALUES ('e2e-metrics-$S-1', 'NO-SUCH-$S', '+919876543210', '30', '2026-11-24 10:00:00', '2026-11-24 10:00:30'),
       ('e2e-metrics-$S-2', 'NO-SUCH-$S', '+919876543210', '45', '2026-11-24 10:01:00', '2026-11-24 10:01:45');
SQL
is "$(req b1 GET /metrics)" 200 "scrape after adding rows"
is "$(delta b0 b1 "${P}customers_total{status=\"active\"}")" 2 "customers_total{active} +2 (m1, m2)"
is "$(delta b0 b1 "${P}customers_total{status=\"suspended\"}")" 1 "customers_total{suspended} +1 (m3)"
is "$(delta b0 b1 "${P}active_subscriptions{plan=\"STARTER\"}")" 2 "active_subscriptions{STARTER} +2 (trials count as in service)"
is "$(delta b0 b1 "${P}active_subscriptions{plan=\"CALL_CENTER\"}")" 1 "active_subscriptions{CALL_CENTER} +1"
is "$(delta b0 b1 "${P}active_subscriptions{plan=\"PROFESSIONAL\"}")" 0 "active_subscriptions{PROFESSIONAL} unchanged"
is "$(delta b0 b1 "${P}cdr_processed_total{status=\"unknown_account\"}")" 2 "cdr_processed_total{unknown_account} +2"
# The same figures counted directly, as the superuser (no RLS, no api_metrics()).
is "$(sample b1 "${P}customers_total{status=\"active\"}")" \
	"$(as_postgres -c "SELECT count(*) FROM balatrix.customers WHERE status = 'active'")" "customers_total{active} = a direct count"
is "$(sample b1 "${P}active_subscriptions{plan=\"STARTER\"}")" \
	"$(as_postgres -c "SELECT count(*) FROM balatrix.subscriptions s JOIN balatrix.rate_plans p ON p.id = s.rate_plan_id
	                   WHERE p.code = 'STARTER' AND s.status IN ('trial', 'active')")" "active_subscriptions{STARTER} = a direct count"
is "$(sample b1 "${P}cdr_processed_total{status=\"unknown_account\"}")" \
	"$(as_postgres -c "SELECT count(*) FROM balatrix.cdr WHERE rating_status = 'unknown_account'")" "cdr_processed_total = a direct count"
expected_invoices=$(as_postgres -c "SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM balatrix.invoices) x")
got_invoices=$(grep "^${P}invoices_generated_total{" "$WORK/b1.body" | awk '{s += $2} END {print s + 0}')
is "$got_invoices" "$expected_invoices" "invoices_generated_total over all types and statuses = a direct count"
for plan in STARTER PROFESSIONAL CALL_CENTER; do
	ok "$([[ $(sample b1 "${P}active_subscriptions{plan=\"$plan\"}") != absent ]]; echo $?)" "every plan has a series ($plan)"
done
ok "$(! grep -q -e "m1.$S" -e "Customer m" -e "$C1" "$WORK/b1.body"; echo $?)" "no tenant names, e-mails or ids in the metrics"

# ---- /metrics: tokens, injections, other customers ------------------------------------------------------

is "$(req t1 GET /metrics "$TX")" 200 "with a customer's token: still 200 (the token is not needed nor used)"
is "$(req t2 GET /metrics garbage.token.here)" 200 "with a garbage token: 200 (public route)"
before=$(as_postgres -c "SELECT count(*) FROM balatrix.customers")
is "$(req i1 GET "/metrics?x=%27%20OR%201%3D1--&y=1%3BDROP%20TABLE%20balatrix.customers")" 200 "injection strings in the query: ignored, 200"
is "$(req i2 GET "/metrics/1%3BDROP%20TABLE%20x")" 404 "an injection string in the path: 404"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.customers")" "$before" "the injections changed nothing"
ok "$(! grep -q -e 'DROP' -e '1=1' "$WORK/i1.body"; echo $?)" "and leaked nothing into the metrics"
is "$(jq_ i2 '$j->{error}{code}')" NOT_FOUND "the 404 is the error envelope"
# balatrix_api alone (no actor) sees no tenant rows; the metrics come only through api_metrics().
is "$(psql -X -At -h "$PGH" -p "$PGP" -U balatrix_api -d "$PGD" -c "SELECT count(*) FROM balatrix.customers")" 0 \
	"balatrix_api without an actor reads no customer row"
is "$(psql -X -At -h "$PGH" -p "$PGP" -U balatrix_api -d "$PGD" -c "SELECT count(*) > 0 FROM balatrix.api_metrics()")" t \
	"but may read the aggregates"
is "$(as_postgres -c "SELECT has_function_privilege('public', 'balatrix.api_metrics()', 'EXECUTE')")" f "api_metrics() is not executable by PUBLIC"

# ---- /openapi.json ------------------------------------------------------------------------------------------

is "$(req o1 GET /openapi.json)" 200 "GET /openapi.json without a token: 200"
is "$(grep -i '^content-type:' "$WORK/o1.headers" | tr -d '\r')" "Content-Type: application/json; charset=utf-8" "served as JSON"
is "$(jq_ o1 '$j->{openapi}')" 3.1.0 "OpenAPI 3.1.0"
is "$(jq_ o1 '$j->{info}{title}')" "Balatrix API" "info.title"
is "$(jq_ o1 'exists $j->{success} ? "enveloped" : "raw"')" raw "the document itself, not wrapped in the envelope"
for op in "get /health" "get /health/ready" "get /health/live" "get /metrics" "get /openapi.json" "get /api/auth/me" \
	"post /api/auth/login" "get /api/customers/{id}" "get /api/subscriptions/my-dashboard"; do
	read -r m p <<<"$op"
	is "$(jq_ o1 "exists \$j->{paths}{'$p'}{$m} ? 1 : 0")" 1 "documents ${m^^} $p"
done
is "$(jq_ o1 '$j->{paths}{"/api/auth/me"}{get}{security}')" '[{"bearerAuth":[]}]' "/api/auth/me needs the bearer token"
is "$(jq_ o1 '$j->{paths}{"/metrics"}{get}{security}')" '[]' "/metrics is public"
is "$(jq_ o1 'exists $j->{paths}{"/api/customers/{id}"}{get}{responses}{404} ? 1 : 0')" 1 "a route with :id documents 404"
is "$(jq_ o1 '$j->{components}{securitySchemes}{bearerAuth}{scheme}')" bearer "bearerAuth is defined"
is "$(jq_ o1 'scalar grep { /:/ } keys %{$j->{paths}}')" 0 "no :param syntax left in the paths"
is "$(req o2 GET "/openapi.json?x=%27%20OR%201%3D1--" "$TX")" 200 "with a token and an injection string in the query: 200"
ok "$(cmp -s "$WORK/o1.body" "$WORK/o2.body"; echo $?)" "the same document"
is "$(req o3 DELETE /openapi.json)" 405 "DELETE /openapi.json: 405"
is "$(req o4 GET "/openapi.json/%27%20OR%201=1--")" 404 "an injection string in the path: 404"

api_finish

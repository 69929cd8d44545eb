#!/bin/bash
# End-to-end: /api/cdrs and /api/invoices through the real sidecar against a real PostgreSQL.
# TAP; run with  prove -e bash tests/e2e/api_cdrs_invoices.sh  (environment: see tests/e2e/lib/api.sh).
#
# Expected values are worked out by hand from the fixtures, never read back from the code under test:
#   calls to India (91...) cost ₹1.9900/min in 60 s increments (the default catalogue's deck), the
#   allowance of customer A's subscription is 0, so every answered call is charged;
#   invoices: STARTER is ₹349.00 a month; within Karnataka (29 = the supplier's State) CGST 9% + SGST 9%.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib/tap.sh"
source "$HERE/lib/api.sh"

api_init

S=$(uniq_suffix)
read -r UA CA AA <<<"$(new_customer "cdr-a.$S@example.com")"   # CDRs (prepaid, allowance 0)
read -r UB CB AB <<<"$(new_customer "cdr-b.$S@example.com")"   # one unrated CDR; the invoice flows
read -r UC CC AC <<<"$(new_customer "cdr-c.$S@example.com")"   # generate (201) and overdue
read -r UD CD AD <<<"$(new_customer "cdr-d.$S@example.com")"   # a trial subscription
ADMIN=$(new_staff admin "cdr-admin.$S@example.com")
SUPPORT=$(new_staff support "cdr-support.$S@example.com")

as_postgres -c "SELECT balatrix.install_default_catalogue() WHERE NOT EXISTS (SELECT 1 FROM balatrix.rate_plans WHERE code = 'STARTER')" >/dev/null
NUM_A=$(as_postgres <<SQL
INSERT INTO balatrix.subscriptions (customer_id, account_id, rate_plan_id, status, recurring_price, anchor_day,
                                    started_at, current_period_start, current_period_end)
SELECT '$CA', '$AA', p.id, 'active', 349, 1, '2025-03-01 00:00+05:30', '2025-03-01 00:00+05:30', '2025-04-01 00:00+05:30'
  FROM balatrix.rate_plans p WHERE p.code = 'STARTER';
INSERT INTO balatrix.subscription_usage (customer_id, subscription_id, period_start, period_end, included_seconds)
SELECT '$CA', s.id, '2025-03-01 00:00+05:30', '2025-04-01 00:00+05:30', 0 FROM balatrix.subscriptions s WHERE s.account_id = '$AA';
SELECT account_number FROM balatrix.accounts WHERE id = '$AA';
SQL
)
NUM_B=$(as_postgres -c "SELECT account_number FROM balatrix.accounts WHERE id = '$AB'")

T_A=$(token_for "$UA" customer)
T_B=$(token_for "$UB" customer)
T_ADMIN=$(token_for "$ADMIN" admin)
T_SUP=$(token_for "$SUPPORT" support)
CDRS_BEFORE=$(as_postgres -c "SELECT count(*) FROM balatrix.cdr")

# ============================================================================================ CDRs
U1="e2e-$S-1"; U2="e2e-$S-2"; U3="e2e-$S-3"; U4="e2e-$S-4"; U5="e2e-$S-5"

# --- POST /api/cdrs (our shape)
C1="{\"uuid\":\"$U1\",\"accountId\":\"$AA\",\"callingNumber\":\"+919812345678\",\"calledNumber\":\"9876543210\",
     \"direction\":\"outbound\",\"startTime\":\"2025-03-14T09:26:53+05:30\",\"answerTime\":\"2025-03-14T09:27:01+05:30\",
     \"endTime\":\"2025-03-14T09:28:02+05:30\",\"duration\":69,\"billsec\":61,\"billmsec\":61000,\"hangupCause\":\"NORMAL_CLEARING\"}"
is "$(req p0 POST /api/cdrs - "$C1")" 401 "POST /api/cdrs without a token: 401"
is "$(req p1 POST /api/cdrs "$T_A" "$C1")" 403 "POST /api/cdrs as a customer: 403"
is "$(req p2 POST /api/cdrs "$T_ADMIN" "$C1")" 201 "POST /api/cdrs as admin: 201"
# 61,000 ms -> 2 increments of 60 s -> 2 min x 1.9900 = 3.9800
is "$(jq_ p2 '$j->{data}{ratingStatus}.",".$j->{data}{charge}.",".$j->{data}{billedSeconds}.",".$j->{data}{accountId}.",".$j->{data}{uuid}')" \
	"rated,3.9800,120,$AA,$U1" "the CDR is rated through the trigger: 2 min x ₹1.99 = ₹3.9800, on account A"
ID1=$(jq_ p2 '$j->{data}{id}')
is "$(as_postgres -c "SELECT started_at = '2025-03-14 09:26:53+05:30' AND ended_at = '2025-03-14 09:28:02+05:30' FROM balatrix.cdr WHERE id = $ID1")" \
	t "ISO times with an offset become the CDR's times"
is "$(req p3 POST /api/cdrs "$T_ADMIN" "$C1")" 200 "the same uuid again: 200 (idempotent)"
is "$(jq_ p3 '$j->{data}{id}.",".$j->{message}')" "$ID1,CDR already recorded" "... with the CDR stored the first time"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.cdr WHERE uuid = '$U1'")" 1 "... and still one row"

# --- POST /api/cdrs (mod_json_cdr with encode-values: every variable URL-encoded)
C2="{\"core-uuid\":\"x\",\"channel_data\":{\"direction\":\"inbound\"},
     \"variables\":{\"uuid\":\"$U2\",\"accountcode\":\"$NUM_A\",\"caller_id_name\":\"O'Brien%2C%20Se%C3%A1n\",
       \"start_stamp\":\"2025-03-14%2010%3A00%3A00\",\"answer_stamp\":\"2025-03-14%2010%3A00%3A02\",
       \"end_stamp\":\"2025-03-14%2010%3A00%3A32\",\"billmsec\":\"30000\",\"hangup_cause\":\"NORMAL_CLEARING\"},
     \"callflow\":[{\"caller_profile\":{\"destination_number\":\"18001234567\",\"caller_id_number\":\"9876543210\",\"context\":\"public\"}}]}"
is "$(req p4 POST /api/cdrs "$T_SUP" "$C2")" 201 "POST /api/cdrs with a mod_json_cdr document (support): 201"
is "$(jq_ p4 'require Encode; Encode::encode("UTF-8", $j->{data}{callerIdName})."|".$j->{data}{destinationNumber}."|".$j->{data}{direction}."|".$j->{data}{charge}."|".$j->{data}{context}')" \
	"O'Brien, Seán|18001234567|inbound|1.9900|public" \
	"values URL-decoded, destination and context from the caller profile, direction from channel_data; 30 s -> 1 min = ₹1.9900"
ID2=$(jq_ p4 '$j->{data}{id}')
is "$(as_postgres -c "SELECT started_at = '2025-03-14 10:00:00+05:30' FROM balatrix.cdr WHERE id = $ID2")" t \
	"stamps without a zone are read in balatrix.cdr_timezone (IST)"

# uuid from ?uuid= (mod_json_cdr appends it), values not encoded; unanswered
C3="{\"variables\":{\"accountcode\":\"$NUM_A\",\"destination_number\":\"9876543210\",\"direction\":\"outbound\",
     \"start_stamp\":\"2025-03-15 09:00:00\",\"end_stamp\":\"2025-03-15 09:00:20\",\"billsec\":\"0\",\"hangup_cause\":\"NO_ANSWER\"}}"
is "$(req p5 POST "/api/cdrs?uuid=$U3" "$T_ADMIN" "$C3")" 201 "mod_json_cdr document with the uuid in ?uuid=: 201"
is "$(jq_ p5 '$j->{data}{uuid}.",".$j->{data}{charge}.",".$j->{data}{billedSeconds}')" "$U3,0.0000,0" "unanswered: ₹0.0000, 0 s"
ID3=$(jq_ p5 '$j->{data}{id}')

# invalid bodies
is "$(req p6 POST /api/cdrs "$T_ADMIN" '{"uuid":"x","startTime":"2025-02-30T10:00:00Z","billsec":-1,"bogus":1}')" 422 "invalid CDR: 422"
is "$(jq_ p6 'join(",", sort map { $_->{field} } @{$j->{error}{details}})')" "billsec,bogus,calledNumber,startTime" \
	"... naming every bad field (30 February, negative billsec, unknown field, missing calledNumber)"
is "$(req p7 POST /api/cdrs "$T_ADMIN" '{"variables":{"destination_number":"1"}}')" 422 "mod_json_cdr document without any uuid: 422"
is "$(req p8 POST /api/cdrs "$T_ADMIN" '[1,2]')" 422 "a body that is not an object: 422"

# --- POST /api/cdrs/batch
B1="{\"cdrs\":[
  {\"uuid\":\"$U4\",\"accountCode\":\"$NUM_A\",\"callingNumber\":\"=HYPERLINK(\\\"http://x\\\",\\\"y\\\")\",\"calledNumber\":\"02240001234\",
   \"direction\":\"outbound\",\"startTime\":\"2025-03-15T09:00:00\",\"billmsec\":5000},
  $C1,
  {\"calledNumber\":\"1\"},
  {\"uuid\":\"$U4\",\"calledNumber\":\"9\",\"startTime\":\"2025-03-15T09:00:00\"},
  {\"uuid\":\"$U5\",\"accountId\":\"$AB\",\"calledNumber\":\"9876543210\",\"direction\":\"outbound\",
   \"startTime\":\"2025-03-14T12:00:00Z\",\"billsec\":10}]}"
is "$(req b0 POST /api/cdrs/batch - "$B1")" 401 "POST /api/cdrs/batch without a token: 401"
is "$(req b1 POST /api/cdrs/batch "$T_B" "$B1")" 403 "POST /api/cdrs/batch as a customer: 403"
is "$(req b2 POST /api/cdrs/batch "$T_ADMIN" "$B1")" 200 "POST /api/cdrs/batch as admin: 200"
is "$(jq_ b2 'join(",", map { $_->{uuid}.":".($_->{created} ? "new" : "old") } @{$j->{data}{success}})')" \
	"$U4:new,$U1:old,$U4:old,$U5:new" "per item: stored, already stored (earlier call), repeated in the batch, stored"
is "$(jq_ b2 '$j->{data}{success}[1]{cdrId}')" "$ID1" "the duplicate reports the CDR stored before"
is "$(jq_ b2 'scalar(@{$j->{data}{failed}}).",".$j->{data}{failed}[0]{uuid}.",".($j->{data}{failed}[0]{error} =~ /uuid is required/ ? "y" : "n")')" \
	"1,,y" "the item without a uuid failed, with its reason"
is "$(jq_ b2 '$j->{data}{summary}{received}.",".$j->{data}{summary}{stored}.",".$j->{data}{summary}{duplicates}.",".$j->{data}{summary}{failed}')" \
	"5,2,2,1" "summary: 5 received, 2 stored, 2 duplicates, 1 failed"
ID4=$(jq_ b2 '$j->{data}{success}[0]{cdrId}')
ID5=$(jq_ b2 '$j->{data}{success}[3]{cdrId}')
is "$(as_postgres -c "SELECT rating_status || ',' || coalesce(charge::text, '-') || ',' || (started_at = '2025-03-15 09:00:00+05:30') FROM balatrix.cdr WHERE id = $ID4")" \
	"rated,1.9900,true" "batch CDR: 5 s -> 1 min = ₹1.9900; a time without offset is IST"
is "$(as_postgres -c "SELECT rating_status FROM balatrix.cdr WHERE id = $ID5")" no_rate "B's CDR is stored, not rated (no subscription)"
is "$(as_postgres -c "SELECT balance FROM balatrix.accounts WHERE id = '$AA'")" "-7.9600" \
	"account A was charged 3.98 + 1.99 + 0 + 1.99 = ₹7.9600, once each"
is "$(req b3 POST /api/cdrs/batch "$T_ADMIN" '{"cdrs":{}}')" 422 "cdrs not an array: 422"
is "$(req b4 POST /api/cdrs/batch "$T_ADMIN" '{"cdrs":[],"x":1}')" 422 "empty cdrs and an unknown field: 422"
BIG=$(perl -e 'print "{\"cdrs\":[" . join(",", ("{}") x 1001) . "]}"')
is "$(req b5 POST /api/cdrs/batch "$T_ADMIN" "$BIG")" 422 "1001 CDRs: 422"

# --- GET /api/cdrs
Q="accountId=$AA&from=2025-03-01&to=2025-03-31"
is "$(req l0 GET "/api/cdrs?$Q" -)" 401 "GET /api/cdrs without a token: 401"
is "$(req l1 GET "/api/cdrs?$Q" "$T_ADMIN")" 200 "GET /api/cdrs (admin, account A, March 2025)"
is "$(jq_ l1 '$j->{data}{pagination}{total}.",".$j->{data}{pagination}{limit}.",".join(",", map { $_->{id} } @{$j->{data}{cdrs}})')" \
	"4,50,$ID4,$ID3,$ID2,$ID1" "4 CDRs, default limit 50, newest call first"
is "$(req l2 GET "/api/cdrs?$Q&sortBy=charge&sortOrder=asc&limit=2&page=1" "$T_ADMIN")" 200 "sorted by charge ascending, 2 per page"
is "$(jq_ l2 'join(",", map { $_->{charge} } @{$j->{data}{cdrs}}).",".$j->{data}{pagination}{totalPages}')" "0.0000,1.9900,2" \
	"cheapest first; 2 pages"
is "$(req l3 GET "/api/cdrs?$Q&direction=inbound" "$T_ADMIN")" 200 "filter direction=inbound"
is "$(jq_ l3 '$j->{data}{pagination}{total}.",".$j->{data}{cdrs}[0]{id}')" "1,$ID2" "... only the inbound call"
is "$(req l4 GET "/api/cdrs?customerId=$CB&status=no_rate" "$T_ADMIN")" 200 "filter status=no_rate for customer B"
is "$(jq_ l4 '$j->{data}{pagination}{total}.",".$j->{data}{cdrs}[0]{id}')" "1,$ID5" "... B's one CDR"
is "$(req l5 GET "/api/cdrs?from=2025-03-15T00:00:00%2B05:30&accountId=$AA" "$T_ADMIN")" 200 "from as a timestamp with an offset"
is "$(jq_ l5 '$j->{data}{pagination}{total}')" 2 "... the two calls of 15 March"
is "$(req l6 GET "/api/cdrs" "$T_A")" 200 "GET /api/cdrs as customer A"
is "$(jq_ l6 '$j->{data}{pagination}{total}')" 4 "customer A sees its own 4 CDRs only"
is "$(req l7 GET "/api/cdrs?accountId=$AB" "$T_A")" 200 "customer A filtering on B's account"
is "$(jq_ l7 '$j->{data}{pagination}{total}')" 0 "... sees nothing of B"
is "$(req l8 GET "/api/cdrs?status=bogus&direction=up&sortBy=x&limit=101&from=yesterday" "$T_ADMIN")" 422 "bad filters: 422"
is "$(jq_ l8 'join(",", sort map { $_->{field} } @{$j->{error}{details}})')" "direction,from,limit,sortBy,status" "... each named"
is "$(req l9 GET "/api/cdrs?from=2025-02-30" "$T_ADMIN")" 422 "from=2025-02-30 (no such day): 422"

# --- GET /api/cdrs/:id
is "$(req g0 GET "/api/cdrs/$ID1" -)" 401 "GET /api/cdrs/:id without a token: 401"
is "$(req g1 GET "/api/cdrs/$ID1" "$T_A")" 200 "customer A reads its CDR"
is "$(jq_ g1 '$j->{data}{uuid}.",".$j->{data}{ratePerMinute}')" "$U1,1.9900" "... with its rate as a string"
is "$(req g2 GET "/api/cdrs/$ID5" "$T_A")" 404 "customer A reading B's CDR: 404"
is "$(req g3 GET "/api/cdrs/$ID5" "$T_B")" 200 "customer B reads its own"
is "$(req g4 GET "/api/cdrs/abc" "$T_ADMIN")" 404 "a non-numeric id: 404"
is "$(req g5 GET "/api/cdrs/99999999999999999999" "$T_ADMIN")" 404 "an id beyond bigint: 404"

# --- statistics
is "$(req s0 GET "/api/cdrs/statistics?$Q" -)" 401 "GET /api/cdrs/statistics without a token: 401"
is "$(req s1 GET "/api/cdrs/statistics?$Q" "$T_ADMIN")" 200 "statistics of account A for March"
is "$(jq_ s1 'join(",", map { $j->{data}{totals}{$_} } qw(calls answered billedSeconds billedMinutes charge))')" "4,3,240,4.00,7.9600" \
	"totals: 4 calls, 3 answered, 240 s = 4.00 min, ₹7.9600"
is "$(jq_ s1 'join(";", map { join(",", @$_{qw(direction calls billedSeconds charge)}) } @{$j->{data}{byDirection}})')" \
	"inbound,1,60,1.9900;outbound,3,180,5.9700" "by direction: inbound 1 call ₹1.99; outbound 3 calls ₹5.97"
is "$(jq_ s1 'join(";", map { join(",", @$_{qw(status calls)}) } @{$j->{data}{byStatus}})')" "rated,4" "by status: 4 rated"
is "$(req s2 GET "/api/cdrs/statistics" "$T_B")" 200 "statistics as customer B"
is "$(jq_ s2 '$j->{data}{totals}{calls}.",".$j->{data}{byStatus}[0]{status}')" "1,no_rate" "... B's own CDR only"
is "$(req s3 GET "/api/cdrs/statistics?to=31-03-2025" "$T_ADMIN")" 422 "statistics with a bad date: 422"

# --- analytics
is "$(req a0 GET "/api/cdrs/analytics?groupBy=day&$Q" -)" 401 "GET /api/cdrs/analytics without a token: 401"
is "$(req a1 GET "/api/cdrs/analytics?groupBy=day&$Q" "$T_ADMIN")" 200 "analytics by day"
is "$(jq_ a1 'join(";", map { join(",", @$_{qw(period direction calls charge)}) } @{$j->{data}})')" \
	"2025-03-14,inbound,1,1.9900;2025-03-14,outbound,1,3.9800;2025-03-15,outbound,2,1.9900" "per IST day and direction"
is "$(req a2 GET "/api/cdrs/analytics?groupBy=month&$Q" "$T_A")" 200 "analytics by month (customer A)"
is "$(jq_ a2 'join(";", map { join(",", @$_{qw(period direction calls billedMinutes)}) } @{$j->{data}})')" \
	"2025-03,inbound,1,1.00;2025-03,outbound,3,3.00" "per month"
is "$(req a3 GET "/api/cdrs/analytics?groupBy=hour&$Q&direction=outbound" "$T_ADMIN")" 200 "analytics by hour"
is "$(jq_ a3 'join(";", map { $_->{period}.",".$_->{calls} } @{$j->{data}})')" "2025-03-14T09:00,1;2025-03-15T09:00,2" "per IST hour"
is "$(req a4 GET "/api/cdrs/analytics?groupBy=week" "$T_ADMIN")" 422 "groupBy=week: 422"
is "$(req a5 GET "/api/cdrs/analytics?groupBy=day&accountId=$AA&from=2025-03-01&to=2025-03-31" "$T_B")" 200 "B asking for A's analytics"
is "$(jq_ a5 'scalar @{$j->{data}}')" 0 "... gets nothing"

# --- top destinations
is "$(req t0 GET "/api/cdrs/top-destinations" -)" 401 "GET /api/cdrs/top-destinations without a token: 401"
is "$(req t1 GET "/api/cdrs/top-destinations?$Q" "$T_ADMIN")" 200 "top destinations of account A"
is "$(jq_ t1 'join(";", map { $_->{destination}.",".$_->{calls} } @{$j->{data}})')" \
	"919876543210,2;9118001234567,1;912240001234,1" "most called first (E.164), ties by number"
is "$(req t2 GET "/api/cdrs/top-destinations?$Q&limit=1" "$T_A")" 200 "limit=1"
is "$(jq_ t2 'scalar(@{$j->{data}}).",".$j->{data}[0]{destination}.",".$j->{data}[0]{charge}')" "1,919876543210,3.9800" "... the top one, ₹3.98"
is "$(req t3 GET "/api/cdrs/top-destinations?limit=0" "$T_ADMIN")" 422 "limit=0: 422"

# --- export
is "$(req e0 GET "/api/cdrs/export" -)" 401 "GET /api/cdrs/export without a token: 401"
is "$(req e1 GET "/api/cdrs/export?$Q" "$T_A")" 200 "export (customer A)"
ok "$(grep -qi '^content-type: text/csv; charset=utf-8' "$WORK/e1.headers"; echo $?)" "Content-Type text/csv" "$(cat "$WORK/e1.headers")"
is "$(grep -ci '^content-type:' "$WORK/e1.headers")" 1 "one Content-Type header (no JSON one besides)"
ok "$(grep -qi '^content-disposition: attachment; filename=cdrs.csv' "$WORK/e1.headers"; echo $?)" "Content-Disposition attachment; filename=cdrs.csv"
is "$(tr -d '\r' <"$WORK/e1.body" | wc -l)" 5 "a header and 4 rows"
is "$(tr -d '\r' <"$WORK/e1.body" | head -1 | cut -d, -f1-3)" "id,uuid,accountId" "the header"
is "$(tr -d '\r' <"$WORK/e1.body" | grep "^$ID1," | cut -d, -f6,16)" "'+919812345678,3.9800" "a cell starting with + gets a leading '"
is "$(tr -d '\r' <"$WORK/e1.body" | grep "^$ID4," | cut -d, -f6-7)" "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"" \
	"a formula gets a leading ' and is quoted, quotes doubled"
is "$(tr -d '\r' <"$WORK/e1.body" | grep "^$ID2," | cut -d, -f8)" "2025-03-14T04:30:00.000000Z" "times in UTC"
is "$(req e2 GET "/api/cdrs/export?accountId=$AB" "$T_A")" 200 "customer A exporting B's account"
is "$(tr -d '\r' <"$WORK/e2.body" | wc -l)" 1 "... gets the header only"
is "$(req e3 GET "/api/cdrs/export?direction=sideways" "$T_ADMIN")" 422 "export with a bad filter: 422 (JSON envelope)"

# --- SQL injection in path and query parameters: refused, nothing changed, nothing leaked
is "$(req i1 GET "/api/cdrs?accountId=%27%20OR%201%3D1--" "$T_A")" 422 "accountId=' OR 1=1--: 422"
is "$(req i2 GET "/api/cdrs/1%3BDROP%20TABLE%20x" "$T_ADMIN")" 404 "/api/cdrs/1;DROP TABLE x: 404"
is "$(req i3 GET "/api/cdrs?sortBy=id%3BDROP%20TABLE%20balatrix.cdr" "$T_ADMIN")" 422 "sortBy=id;DROP TABLE ...: 422"
is "$(req i4 GET "/api/cdrs?direction=%27%20OR%20%271%27%3D%271" "$T_A")" 422 "direction=' OR '1'='1: 422"
is "$(req i5 GET "/api/cdrs/export?status=rated%27%20OR%201%3D1--" "$T_A")" 422 "export status=rated' OR 1=1--: 422"
is "$(req i6 GET "/api/cdrs/top-destinations?from=2025-01-01%27%3BDROP%20TABLE%20x--" "$T_A")" 422 "from=...';DROP TABLE x--: 422"
is "$(as_postgres -c "SELECT count(*) - $CDRS_BEFORE FROM balatrix.cdr")" 5 "the CDR table holds exactly the 5 CDRs stored here"

# ======================================================================================== invoices
# B: STARTER activated today -> invoice INV1: 349.00 + CGST 31.41 + SGST 31.41 = 411.82
# B: a draft of 100.00 (setup fee) -> 100.00 + 9.00 + 9.00 = 118.00 once issued
# C: STARTER activated today (its invoice voided below, then generated again);
#    an invoice of 200.00 issued 30 days ago -> 236.00, due 15 days ago (overdue)
# D: a STARTER trial
read -r SUB_B INV1 DRAFT SUB_C INV_C OLD_C SUB_D <<<"$(as_postgres <<SQL | tr '|\n' '  '
SELECT balatrix.create_subscription('$AB', 'STARTER', 'monthly', NULL, false) AS sb \gset
SELECT balatrix.activate_subscription(:'sb') AS inv1 \gset
SELECT balatrix.create_invoice_draft('$AB') AS draft \gset
SELECT balatrix.add_invoice_line(:'draft', 'setup_fee', 'Setup fee', 1, 100.00) \g /dev/null
SELECT balatrix.create_subscription('$AC', 'STARTER', 'monthly', NULL, false) AS sc \gset
SELECT balatrix.activate_subscription(:'sc') AS invc \gset
SELECT balatrix.create_invoice_draft('$AC') AS oldc \gset
SELECT balatrix.add_invoice_line(:'oldc', 'setup_fee', 'Old setup fee', 1, 200.00) \g /dev/null
SELECT balatrix.issue_invoice(:'oldc', (now() AT TIME ZONE 'Asia/Kolkata')::date - 30) \g /dev/null
SELECT balatrix.create_subscription('$AD', 'STARTER', 'monthly', NULL, true) AS sd \gset
SELECT :'sb', :'inv1', :'draft', :'sc', :'invc', :'oldc', :'sd';
SQL
)"
ok "$([[ $INV1 =~ ^[0-9a-f-]{36}$ && $SUB_D =~ ^[0-9a-f-]{36}$ ]]; echo $?)" "invoice fixtures" "$SUB_B $INV1 $DRAFT $SUB_C $INV_C $OLD_C $SUB_D"
RANDOM_ID=$(as_postgres -c "SELECT gen_random_uuid()")
TODAY=$(as_postgres -c "SELECT (now() AT TIME ZONE 'Asia/Kolkata')::date")
TOMORROW=$(as_postgres -c "SELECT (now() AT TIME ZONE 'Asia/Kolkata')::date + 1")

# --- GET /api/invoices
is "$(req v0 GET /api/invoices -)" 401 "GET /api/invoices without a token: 401"
is "$(req v1 GET /api/invoices "$T_B")" 200 "GET /api/invoices as customer B"
is "$(jq_ v1 '$j->{data}{pagination}{total}.",".$j->{data}{invoices}[0]{id}.",".$j->{data}{invoices}[0]{total}.",".$j->{data}{invoices}[0]{outstanding}')" \
	"1,$INV1,411.82,411.82" "B sees its issued invoice (₹411.82 outstanding), not its draft"
is "$(req v2 GET /api/invoices "$T_A")" 200 "GET /api/invoices as customer A"
is "$(jq_ v2 '$j->{data}{pagination}{total}')" 0 "A sees none of B's"
is "$(req v3 GET "/api/invoices?customerId=$CB&sortBy=total&sortOrder=asc" "$T_SUP")" 200 "support lists B's documents"
is "$(jq_ v3 '$j->{data}{pagination}{total}.",".join(",", map { $_->{status} } @{$j->{data}{invoices}})')" "2,draft,issued" \
	"staff see the draft too (₹100.00 draft first by total)"
is "$(req v4 GET "/api/invoices?customerId=$CB&status=draft&type=tax_invoice&from=2000-01-01" "$T_ADMIN")" 200 "status/type/from filters"
is "$(jq_ v4 '$j->{data}{pagination}{total}')" 0 "a draft has no issue date: not from 2000 on"
is "$(req v5 GET "/api/invoices?status=unpaid&type=bill&customerId=x&to=soon&sortOrder=up" "$T_ADMIN")" 422 "bad filters: 422"
is "$(jq_ v5 'join(",", sort map { $_->{field} } @{$j->{error}{details}})')" "customerId,sortOrder,status,to,type" "... each named"

# --- GET /api/invoices/:id
is "$(req d0 GET "/api/invoices/$INV1" -)" 401 "GET /api/invoices/:id without a token: 401"
is "$(req d1 GET "/api/invoices/$INV1" "$T_B")" 200 "B reads its invoice"
is "$(jq_ d1 'join(",", map { $j->{data}{$_} } qw(taxableTotal cgstTotal sgstTotal igstTotal total status))')" \
	"349.00,31.41,31.41,0.00,411.82,issued" "349.00 + CGST 31.41 + SGST 31.41 = 411.82"
is "$(jq_ d1 'scalar(@{$j->{data}{lines}}).",".$j->{data}{lines}[0]{kind}.",".$j->{data}{lines}[0]{taxableValue}.",".scalar(@{$j->{data}{payments}}).",".scalar(@{$j->{data}{creditNotes}}).",".$j->{data}{customer}{id}')" \
	"1,plan,349.00,0,0,$CB" "with its plan line, no payments, no credit notes, and the customer"
is "$(req d2 GET "/api/invoices/$INV1" "$T_A")" 404 "A reading B's invoice: 404"
is "$(req d3 GET "/api/invoices/$DRAFT" "$T_B")" 404 "B reading its own draft: 404 (drafts are staff-only)"
is "$(req d4 GET "/api/invoices/not-a-uuid" "$T_ADMIN")" 404 "a non-UUID id: 404"
is "$(req d5 GET "/api/invoices/$RANDOM_ID" "$T_ADMIN")" 404 "an unknown id: 404"
is "$(req d6 GET "/api/invoices/%27%20OR%201%3D1--" "$T_ADMIN")" 404 "/api/invoices/' OR 1=1--: 404"

# --- POST /api/invoices/:id/issue
is "$(req n0 POST "/api/invoices/$DRAFT/issue" -)" 401 "issue without a token: 401"
is "$(req n1 POST "/api/invoices/$DRAFT/issue" "$T_B")" 403 "issue as a customer: 403"
is "$(req n2 POST "/api/invoices/$DRAFT/issue" "$T_SUP" '{"date":"2025-01-01"}')" 422 "issue with an unknown field: 422"
is "$(req n3 POST "/api/invoices/$DRAFT/issue" "$T_SUP")" 200 "support issues the draft"
is "$(jq_ n3 '$j->{data}{status}.",".$j->{data}{total}.",".$j->{data}{issueDate}.",".($j->{data}{invoiceNumber} =~ m{^INV/} ? "INV" : $j->{data}{invoiceNumber})')" \
	"issued,118.00,$TODAY,INV" "issued today: 100.00 + 9.00 + 9.00 = 118.00, numbered in the INV series"
is "$(req n4 POST "/api/invoices/$DRAFT/issue" "$T_SUP")" 409 "issuing it again: 409"
is "$(req n5 POST "/api/invoices/$RANDOM_ID/issue" "$T_SUP")" 404 "issuing an unknown invoice: 404"
is "$(req n6 POST "/api/invoices/x/issue" "$T_SUP")" 404 "issuing a non-UUID id: 404"

# --- POST /api/invoices/:id/mark-paid
is "$(req m0 POST "/api/invoices/$INV1/mark-paid" - "{\"reference\":\"NEFT-$S-1\"}")" 401 "mark-paid without a token: 401"
is "$(req m1 POST "/api/invoices/$INV1/mark-paid" "$T_B" "{\"reference\":\"NEFT-$S-1\"}")" 403 "mark-paid as a customer: 403"
is "$(req m2 POST "/api/invoices/$INV1/mark-paid" "$T_SUP" '{"amount":"-5","paidAt":"yesterday","x":1}')" 422 "bad mark-paid body: 422"
is "$(jq_ m2 'join(",", sort map { $_->{field} } @{$j->{error}{details}})')" "amount,paidAt,reference,x" "... each field named"
is "$(req m3 POST "/api/invoices/$INV1/mark-paid" "$T_SUP" '{"amount":"1.234","reference":"R"}')" 422 "amount with 3 decimals: 422"
is "$(req m4 POST "/api/invoices/$INV1/mark-paid" "$T_SUP" '{"amount":0,"reference":"R"}')" 422 "amount 0: 422"
is "$(req m5 POST "/api/invoices/$INV1/mark-paid" "$T_SUP" "{\"amount\":\"10\",\"reference\":\"R\",\"paidAt\":\"$TOMORROW\"}")" 422 "paidAt tomorrow: 422"
is "$(req m6 POST "/api/invoices/$INV1/mark-paid" "$T_SUP" "{\"amount\":\"100.50\",\"reference\":\"NEFT-$S-1\",\"paidAt\":\"$TODAY\"}")" 201 "a part payment of ₹100.50: 201"
is "$(jq_ m6 '$j->{data}{payment}{amount}.",".$j->{data}{payment}{gateway}.",".$j->{data}{payment}{gatewayPaymentId}.",".$j->{data}{invoice}{status}.",".$j->{data}{invoice}{amountPaid}.",".$j->{data}{invoice}{outstanding}')" \
	"100.50,manual,NEFT-$S-1,partially_paid,100.50,311.32" "manual payment; the invoice is partially paid, 411.82 - 100.50 = 311.32 outstanding"
PAY1=$(jq_ m6 '$j->{data}{payment}{id}')
is "$(req m7 POST "/api/invoices/$INV1/mark-paid" "$T_SUP" "{\"amount\":100.5,\"reference\":\"NEFT-$S-1\"}")" 200 "the same reference again (amount as a number): 200"
is "$(jq_ m7 '$j->{data}{payment}{id}.",".$j->{data}{invoice}{amountPaid}')" "$PAY1,100.50" "... the first payment, nothing paid twice"
is "$(req m8 POST "/api/invoices/$INV1/mark-paid" "$T_SUP" "{\"amount\":\"5.00\",\"reference\":\"NEFT-$S-1\"}")" 409 "the same reference with another amount: 409"
is "$(req m9 POST "/api/invoices/$INV1/mark-paid" "$T_ADMIN" "{\"reference\":\"NEFT-$S-2\"}")" 201 "paying the rest (no amount)"
is "$(jq_ m9 '$j->{data}{payment}{amount}.",".$j->{data}{invoice}{status}.",".$j->{data}{invoice}{outstanding}.",".scalar(@{$j->{data}{invoice}{payments}})')" \
	"311.32,paid,0.00,2" "₹311.32 settles it: paid, 2 payments"
is "$(req m10 POST "/api/invoices/$INV1/mark-paid" "$T_ADMIN" "{\"reference\":\"NEFT-$S-3\"}")" 409 "nothing outstanding: 409"
is "$(req m11 POST "/api/invoices/$RANDOM_ID/mark-paid" "$T_ADMIN" "{\"reference\":\"NEFT-$S-4\"}")" 404 "an unknown invoice: 404"

# --- POST /api/invoices/:id/void
is "$(req o0 POST "/api/invoices/$DRAFT/void" - '{"reason":"dup"}')" 401 "void without a token: 401"
is "$(req o1 POST "/api/invoices/$DRAFT/void" "$T_SUP" '{"reason":"dup"}')" 403 "void as support: 403 (admins only)"
is "$(req o2 POST "/api/invoices/$DRAFT/void" "$T_ADMIN" '{}')" 422 "void without a reason: 422"
is "$(req o3 POST "/api/invoices/$DRAFT/void" "$T_ADMIN" '{"reason":"issued twice"}')" 200 "admin voids the ₹118.00 invoice"
is "$(jq_ o3 '$j->{data}{status}.",".$j->{data}{voidReason}.",".$j->{data}{outstanding}')" "void,issued twice,0.00" "void, with the reason"
is "$(req o4 POST "/api/invoices/$INV1/void" "$T_ADMIN" '{"reason":"x"}')" 409 "voiding a paid invoice: 409"
is "$(req o5 POST "/api/invoices/$RANDOM_ID/void" "$T_ADMIN" '{"reason":"x"}')" 404 "voiding an unknown invoice: 404"

# --- credit notes
is "$(req c0 POST "/api/invoices/$INV1/credit-notes" - '{"amount":"49.00","reason":"goodwill"}')" 401 "credit note without a token: 401"
is "$(req c1 POST "/api/invoices/$INV1/credit-notes" "$T_SUP" '{"amount":"49.00","reason":"goodwill"}')" 403 "credit note as support: 403"
is "$(req c2 POST "/api/invoices/$INV1/credit-notes" "$T_ADMIN" '{"reason":"goodwill"}')" 422 "credit note without an amount: 422"
is "$(req c3 POST "/api/invoices/$INV1/credit-notes" "$T_ADMIN" '{"amount":"49.00","reason":"goodwill"}')" 201 "admin issues a ₹49.00 credit note"
is "$(jq_ c3 'join(",", map { $j->{data}{$_} } qw(documentType status taxableTotal cgstTotal sgstTotal total originalInvoiceId)).",".($j->{data}{invoiceNumber} =~ m{^CN/} ? "CN" : "?")')" \
	"credit_note,issued,49.00,4.41,4.41,57.82,$INV1,CN" "49.00 + CGST 4.41 + SGST 4.41 = 57.82, in the CN series"
CN1=$(jq_ c3 '$j->{data}{id}')
is "$(req c4 POST "/api/invoices/$INV1/credit-notes" "$T_ADMIN" '{"amount":"300.01","reason":"too much"}')" 422 \
	"credit beyond what is left (349.00 - 49.00 = 300.00): 422"
is "$(req c5 POST "/api/invoices/$DRAFT/credit-notes" "$T_ADMIN" '{"amount":"1.00","reason":"x"}')" 409 "crediting a void invoice: 409"
is "$(req c6 POST "/api/invoices/$RANDOM_ID/credit-notes" "$T_ADMIN" '{"amount":"1.00","reason":"x"}')" 404 "crediting an unknown invoice: 404"
is "$(req c7 GET "/api/invoices/$INV1/credit-notes" -)" 401 "GET credit notes without a token: 401"
is "$(req c8 GET "/api/invoices/$INV1/credit-notes" "$T_B")" 200 "B lists the credit notes of its invoice"
is "$(jq_ c8 'scalar(@{$j->{data}}).",".$j->{data}[0]{id}.",".$j->{data}[0]{total}.",".$j->{data}[0]{lines}[0]{taxableValue}')" "1,$CN1,57.82,49.00" "its one note"
is "$(req c9 GET "/api/invoices/$INV1/credit-notes" "$T_A")" 404 "A listing B's credit notes: 404"
is "$(req c10 GET "/api/invoices/zzz/credit-notes" "$T_A")" 404 "a non-UUID id: 404"

# --- POST /api/invoices/generate/subscription/:subscriptionId
is "$(req r0 POST "/api/invoices/generate/subscription/$SUB_B" -)" 401 "generate without a token: 401"
is "$(req r1 POST "/api/invoices/generate/subscription/$SUB_B" "$T_B")" 403 "generate as a customer: 403"
is "$(req r2 POST "/api/invoices/generate/subscription/$SUB_B" "$T_SUP")" 200 "B's period is invoiced already: 200"
is "$(jq_ r2 '$j->{data}{id}')" "$INV1" "... with that invoice"
is "$(req r3 POST "/api/invoices/$INV_C/void" "$T_ADMIN" '{"reason":"regenerate"}')" 200 "void C's period invoice"
is "$(req r4 POST "/api/invoices/generate/subscription/$SUB_C" "$T_SUP")" 201 "generate C's period again: 201"
is "$(jq_ r4 '($j->{data}{id} ne "'"$INV_C"'" ? "new" : "same").",".$j->{data}{status}.",".$j->{data}{total}.",".$j->{data}{billingReason}.",".$j->{data}{subscriptionId}')" \
	"new,issued,411.82,period,$SUB_C" "a new period invoice: 349.00 + 31.41 + 31.41 = 411.82"
is "$(req r5 POST "/api/invoices/generate/subscription/$SUB_C" "$T_SUP")" 200 "generating again: 200 (idempotent)"
is "$(req r6 POST "/api/invoices/generate/subscription/$SUB_D" "$T_SUP")" 409 "a trial subscription: 409"
is "$(req r7 POST "/api/invoices/generate/subscription/$RANDOM_ID" "$T_SUP")" 404 "an unknown subscription: 404"
is "$(req r8 POST "/api/invoices/generate/subscription/1%3BDROP%20TABLE%20x" "$T_SUP")" 404 "a non-UUID id: 404"

# --- overdue and statistics
is "$(req w0 GET /api/invoices/overdue -)" 401 "GET /api/invoices/overdue without a token: 401"
is "$(req w1 GET /api/invoices/overdue "$T_B")" 403 "overdue as a customer: 403"
is "$(req w2 GET "/api/invoices/overdue?customerId=$CC" "$T_SUP")" 200 "overdue invoices of C"
is "$(jq_ w2 '$j->{data}{pagination}{total}.",".$j->{data}{invoices}[0]{id}.",".$j->{data}{invoices}[0]{outstanding}.",".$j->{data}{invoices}[0]{daysOverdue}')" \
	"1,$OLD_C,236.00,15" "the ₹236.00 invoice issued 30 days ago, 15 days past due"
is "$(req w3 GET "/api/invoices/overdue?customerId=%27%20OR%201%3D1--" "$T_SUP")" 422 "customerId=' OR 1=1--: 422"
is "$(req x0 GET /api/invoices/statistics -)" 401 "GET /api/invoices/statistics without a token: 401"
is "$(req x1 GET /api/invoices/statistics "$T_A")" 403 "statistics as a customer: 403"
is "$(req x2 GET "/api/invoices/statistics?customerId=$CB" "$T_ADMIN")" 200 "statistics of B"
is "$(jq_ x2 'join(",", map { $j->{data}{totals}{$_} } qw(count total amountPaid outstanding))')" "1,411.82,411.82,0.00" \
	"totals: the paid invoice (the void one does not count)"
is "$(jq_ x2 'join(";", map { $_->{status}.",".$_->{count}.",".$_->{total} } @{$j->{data}{byStatus}})')" "paid,1,411.82;void,1,118.00" "by status"
is "$(jq_ x2 '$j->{data}{creditNotes}{count}.",".$j->{data}{creditNotes}{total}')" "1,57.82" "credit notes: 1, ₹57.82"
is "$(req x3 GET "/api/invoices/statistics?customerId=$CC" "$T_SUP")" 200 "statistics of C"
is "$(jq_ x3 '$j->{data}{overdue}{count}.",".$j->{data}{overdue}{outstanding}.",".$j->{data}{totals}{count}.",".$j->{data}{totals}{outstanding}')" "1,236.00,2,647.82" \
	"C: 1 overdue (₹236.00); 2 live invoices, 236.00 + 411.82 = 647.82 outstanding"
is "$(req x4 GET "/api/invoices/statistics?from=1%27%3BDROP%20TABLE%20balatrix.invoices--" "$T_ADMIN")" 422 "from=1';DROP TABLE ...: 422"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.invoices WHERE customer_id IN ('$CB', '$CC')")" 6 \
	"the documents are all there (B: 2 and a credit note, C: 3)"

api_finish

#!/bin/bash
# End-to-end: rate plans, subscriptions and numbers (DIDs) through the real sidecar against a real PostgreSQL.
# TAP; run with  prove -e bash tests/e2e/api_subscriptions.sh  (environment: see tests/e2e/lib/api.sh).
#
# Expected amounts are worked out by hand from the default catalogue (STARTER 349.00 a month, PROFESSIONAL
# 999.00; EXTRA_TFN 199.00; quarterly = 3 x monthly, annual = 12 x monthly x 0.8; 18% GST as 9% CGST + 9% SGST
# within Karnataka, the supplier's State 29), never read back from the code under test.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib/tap.sh"
source "$HERE/lib/api.sh"

api_init

S=$(uniq_suffix)
SU=$(echo "$S" | tr 'a-f' 'A-F')
read -r UA CA AA <<<"$(new_customer "a.$S@example.com")" # customer A: subscribes STARTER (trial)
read -r UB CB AB <<<"$(new_customer "b.$S@example.com")" # customer B: subscribes without a trial
read -r UC CC AC <<<"$(new_customer "c.$S@example.com")" # customer C: subscribed by an admin
ADMIN=$(new_staff admin "admin.$S@example.com")
SUPPORT=$(new_staff support "support.$S@example.com")
TA=$(token_for "$UA" customer)
TB=$(token_for "$UB" customer)
TC=$(token_for "$UC" customer)
TADM=$(token_for "$ADMIN" admin)
TSUP=$(token_for "$SUPPORT" support)
NOPE=00000000-0000-4000-8000-000000000000
TODAY=$(TZ=Asia/Kolkata date +%F)
IN7=$(TZ=Asia/Kolkata date -d "$TODAY + 7 days" +%F)
NEXT_MONTH=$(TZ=Asia/Kolkata date -d "$TODAY + 1 month" +%F)
# Three numbers of this run under a prefix no other run uses.
P="18$(printf '%06d' $(( $(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % 1000000 )))"
as_postgres >/dev/null <<SQL
SELECT balatrix.install_default_catalogue() WHERE NOT EXISTS (SELECT 1 FROM balatrix.rate_plans WHERE code = 'STARTER');
INSERT INTO balatrix.dids (number, number_type, monthly_rent) VALUES
    ('${P}001', 'toll_free', 199), ('${P}002', 'toll_free', 199), ('${P}003', 'toll_free', 250);
INSERT INTO balatrix.sip_extensions (customer_id, account_id, extension) VALUES ('$CA', '$AA', 'ext$S');
SQL
DID1=$(as_postgres -c "SELECT id FROM balatrix.dids WHERE number = '${P}001'")
DID2=$(as_postgres -c "SELECT id FROM balatrix.dids WHERE number = '${P}002'")

# ---- rate plans: public catalogue -------------------------------------------------------------------------
is "$(req pub GET /api/rate-plans/public)" 200 "GET /rate-plans/public needs no token"
is "$(jq_ pub '(grep { $_->{code} eq "STARTER" } @{$j->{data}})[0]{monthlyPrice}')" "349.00" "STARTER costs 349.00 a month (money as a string)"
is "$(jq_ pub '(grep { $_->{code} eq "STARTER" } @{$j->{data}})[0]{planName}')" "Starter" "plans carry planName for the frontend"
is "$(jq_ pub 'my @c = map { $_->{code} } @{$j->{data}}; my %i; @i{@c} = (0..$#c); $i{STARTER} < $i{PROFESSIONAL} && $i{PROFESSIONAL} < $i{CALL_CENTER} ? 1 : 0')" 1 \
	"public plans come in display order"
is "$(jq_ pub 'scalar(grep { !$_->{isPublic} || !$_->{isActive} } @{$j->{data}})')" 0 "only public, active plans are listed"
is "$(req pubbad GET /api/rate-plans/public "not.a.token")" 401 "an invalid token on a public route -> 401, not anonymous"
STARTER_ID=$(jq_ pub '(grep { $_->{code} eq "STARTER" } @{$j->{data}})[0]{id}')

is "$(req one GET "/api/rate-plans/$STARTER_ID")" 200 "GET /rate-plans/:id without a token"
is "$(jq_ one '$j->{data}{code}')" STARTER "... the plan asked for"
is "$(req code GET /api/rate-plans/code/starter)" 200 "GET /rate-plans/code/:code (case-insensitive)"
is "$(jq_ code '$j->{data}{id}')" "$STARTER_ID" "... the same plan"
is "$(req one404 GET "/api/rate-plans/$NOPE")" 404 "unknown plan id -> 404"
is "$(req onebad GET /api/rate-plans/not-a-uuid)" 404 "a non-UUID plan id -> 404"
is "$(req codeinj GET "/api/rate-plans/code/%27%20OR%201%3D1--")" 404 "SQL injection in :code -> 404"
is "$(req codebad GET "/api/rate-plans/code/1%3BDROP%20TABLE%20x")" 404 "1;DROP TABLE x in :code -> 404"

# ---- price preview ------------------------------------------------------------------------------------------
# STARTER monthly + 2 EXTRA_TFN: 349.00 + 2 x 199.00 = 747.00 taxable; CGST = SGST = 31.41 + 35.82 = 67.23;
# total 747.00 + 134.46 = 881.46.
is "$(req q1 POST /api/rate-plans/calculate-price - '{"planCode":"STARTER","billingCycle":"monthly","addons":{"EXTRA_TFN":2}}')" 200 \
	"POST /rate-plans/calculate-price without a token"
is "$(jq_ q1 '$j->{data}{totals}{taxable}')" "747.00" "taxable 747.00"
is "$(jq_ q1 '$j->{data}{totals}{cgst} . "/" . $j->{data}{totals}{sgst} . "/" . $j->{data}{totals}{igst}')" "67.23/67.23/0.00" "CGST 67.23 + SGST 67.23, no IGST"
is "$(jq_ q1 '$j->{data}{totals}{total}')" "881.46" "total 881.46"
is "$(jq_ q1 'scalar @{$j->{data}{lines}}')" 2 "a plan line and an add-on line"
# The frontend's array form and the seed's names give the same quote.
is "$(req q2 POST /api/rate-plans/calculate-price - "{\"planId\":\"$STARTER_ID\",\"addons\":[{\"code\":\"EXTRA_TFN\",\"quantity\":2}]}")" 200 \
	"planId and the [{code, quantity}] add-on form"
is "$(jq_ q2 '$j->{data}{totals}{total}')" "881.46" "... the same total (monthly by default)"
is "$(req q3 POST /api/rate-plans/calculate-price "$TA" '{"planCode":"STARTER","billingCycle":"quarterly","addons":{"extraTollFreeNumbers":1}}')" 200 \
	"quarterly quote for a signed-in customer (seed add-on names)"
# 3 x 349.00 + 3 x 199.00 = 1047.00 + 597.00 = 1644.00; GST 9% = 147.96 each way; total 1939.92.
is "$(jq_ q3 '$j->{data}{totals}{taxable} . " " . $j->{data}{totals}{total}')" "1644.00 1939.92" "quarterly: 1644.00 taxable, 1939.92 total"
is "$(req q4 POST /api/rate-plans/calculate-price - '{"planCode":"STARTER","billingCycle":"annual"}')" 200 "annual quote"
# 349.00 x 12 x 0.8 = 3350.40; GST 301.54 x 2 (301.536 rounded); total 3953.48.
is "$(jq_ q4 '$j->{data}{totals}{taxable} . " " . $j->{data}{totals}{total}')" "3350.40 3953.48" "annual: 3350.40 taxable, 3953.48 total"
is "$(req q5 POST /api/rate-plans/calculate-price - '{"planCode":"STARTER","billingCycle":"weekly"}')" 422 "an unknown cycle -> 422"
is "$(req q6 POST /api/rate-plans/calculate-price - '{"billingCycle":"monthly"}')" 422 "no plan -> 422"
is "$(jq_ q6 '$j->{error}{details}[0]{field}')" planCode "... naming planCode"
is "$(req q7 POST /api/rate-plans/calculate-price - '{"planCode":"NO_SUCH_PLAN"}')" 404 "an unknown plan -> 404"
is "$(req q8 POST /api/rate-plans/calculate-price - '{"planCode":"STARTER","addons":{"EXTRA_TFN":-1}}')" 422 "a negative add-on quantity -> 422"
is "$(req q9 POST /api/rate-plans/calculate-price - '{"planCode":"STARTER","addons":{"NO_SUCH_ADDON":1}}')" 422 "an unknown add-on -> 422 (the database's 22023)"
is "$(req q10 POST /api/rate-plans/calculate-price - '{"planCode":"STARTER","price":1}')" 422 "an unknown field -> 422"
is "$(req q11 POST /api/rate-plans/calculate-price - "{\"planCode\":\"' OR 1=1--\"}")" 422 "SQL injection in planCode -> 422"

# ---- rate plans: admin CRUD ---------------------------------------------------------------------------------
PLAN="TP_$SU"
BODY="{\"code\":\"$PLAN\",\"name\":\"Test plan $S\",\"monthlyPrice\":\"500.00\",\"overageRate\":\"1.25\",\"includedMinutes\":200,\"isPublic\":false,\"features\":{\"support\":\"email\"}}"
is "$(req cp0 POST /api/rate-plans - "$BODY")" 401 "POST /rate-plans without a token -> 401"
is "$(req cp1 POST /api/rate-plans "$TA" "$BODY")" 403 "POST /rate-plans as a customer -> 403"
is "$(req cp2 POST /api/rate-plans "$TSUP" "$BODY")" 403 "POST /rate-plans as support -> 403"
is "$(req cp3 POST /api/rate-plans "$TADM" "$BODY")" 201 "POST /rate-plans as an admin -> 201"
TP_ID=$(jq_ cp3 '$j->{data}{id}')
# quarterly 3 x 500.00; annual 500.00 x 12 x 0.8 = 4800.00
is "$(jq_ cp3 'join " ", (map { $j->{data}{$_} } qw(monthlyPrice quarterlyPrice annualPrice overageRate includedMinutes)), ($j->{data}{isPublic} ? "true" : "false")')" \
	"500.00 1500.00 4800.00 1.2500 200 false" "... prices (quarterly and annual derived), overage, minutes, private"
is "$(req cp4 POST /api/rate-plans "$TADM" "$BODY")" 409 "the same code again -> 409"
is "$(req cp5 POST /api/rate-plans "$TADM" '{"code":"bad code","name":"x","monthlyPrice":"-5","overageRate":"1.123456","role":"admin"}')" 422 "invalid fields -> 422"
is "$(jq_ cp5 'join ",", sort map { $_->{field} } @{$j->{error}{details}}')" "code,monthlyPrice,overageRate,role" "... every bad field named"
is "$(req cp6 POST /api/rate-plans "$TADM" '{"code":"TP_X","name":"x"}')" 422 "missing prices -> 422"
is "$(req cp7 POST /api/rate-plans "$TADM" "{\"code\":\"TQ_$SU\",\"name\":\"x\",\"monthlyPrice\":1,\"overageRate\":1,\"currency\":\"ZZZZ\"}")" 422 "a 4-letter currency -> 422"

is "$(req tp1 GET "/api/rate-plans/$TP_ID")" 404 "a private plan is invisible without a token"
is "$(req tp2 GET "/api/rate-plans/$TP_ID" "$TA")" 404 "... and to a customer"
is "$(req tp3 GET "/api/rate-plans/$TP_ID" "$TSUP")" 200 "... but staff see it"
is "$(req tp4 GET "/api/rate-plans/code/$PLAN")" 404 "by code too: private -> 404 without a token"
is "$(req tp5 POST /api/rate-plans/calculate-price - "{\"planCode\":\"$PLAN\"}")" 404 "no quote of a private plan without a token"
is "$(req tp6 GET "/api/rate-plans/public")" 200 "public list"
is "$(jq_ tp6 "scalar(grep { \$_->{code} eq '$PLAN' } @{\$j->{data}})")" 0 "... without the private plan"

is "$(req up1 PUT "/api/rate-plans/$TP_ID" "$TADM" '{"monthlyPrice":550,"isPublic":true,"description":"now public"}')" 200 "PUT /rate-plans/:id as an admin"
is "$(jq_ up1 'join " ", $j->{data}{monthlyPrice}, $j->{data}{quarterlyPrice}, ($j->{data}{isPublic} ? "true" : "false"), $j->{data}{description}')" "550.00 1500.00 true now public" \
	"... changes only the fields given"
is "$(req up2 GET "/api/rate-plans/code/$PLAN")" 200 "a public plan is visible without a token"
is "$(req up3 PUT "/api/rate-plans/$TP_ID" "$TADM" "{\"code\":\"TZ_$SU\"}")" 422 "code cannot change -> 422"
is "$(req up4 PUT "/api/rate-plans/$TP_ID" "$TA" '{"monthlyPrice":1}')" 403 "PUT as a customer -> 403"
is "$(req up5 PUT "/api/rate-plans/$TP_ID" - '{"monthlyPrice":1}')" 401 "PUT without a token -> 401"
is "$(req up6 PUT "/api/rate-plans/$NOPE" "$TADM" '{"monthlyPrice":1}')" 404 "PUT an unknown plan -> 404"
is "$(req up7 PUT "/api/rate-plans/$TP_ID" "$TADM" '{"trialDays":400}')" 422 "trialDays 400 -> 422"
is "$(req up8 PUT "/api/rate-plans/$TP_ID" "$TADM" '{}')" 422 "an empty change -> 422"

is "$(req ls1 GET "/api/rate-plans?search=$PLAN" "$TSUP")" 200 "GET /rate-plans as staff"
is "$(jq_ ls1 '$j->{data}{pagination}{total} . " " . $j->{data}{plans}[0]{code}')" "1 $PLAN" "... search finds this run's plan"
is "$(req ls2 GET "/api/rate-plans?isActive=true&limit=2&sortBy=monthlyPrice&sortOrder=desc" "$TADM")" 200 "filters, sort and limit"
is "$(jq_ ls2 'scalar @{$j->{data}{plans}} . " " . $j->{data}{pagination}{limit}')" "2 2" "... two plans on the page"
is "$(req ls3 GET /api/rate-plans "$TA")" 403 "GET /rate-plans as a customer -> 403"
is "$(req ls4 GET /api/rate-plans)" 401 "GET /rate-plans without a token -> 401"
is "$(req ls5 GET "/api/rate-plans?limit=1000" "$TADM")" 422 "limit 1000 -> 422"
is "$(req ls6 GET "/api/rate-plans?isActive=maybe&sortBy=price" "$TADM")" 422 "bad filter values -> 422"
is "$(req ls7 GET "/api/rate-plans?search=%27%20OR%201%3D1--" "$TADM")" 200 "SQL injection in search is just text"
is "$(jq_ ls7 '$j->{data}{pagination}{total}')" 0 "... matching nothing"

# ---- subscriptions: create -------------------------------------------------------------------------------
is "$(req s0 POST /api/subscriptions - '{"planCode":"STARTER"}')" 401 "POST /subscriptions without a token -> 401"
is "$(req s1 POST /api/subscriptions "$TA" '{"planCode":"STARTER","billingCycle":"monthly"}')" 201 "a customer subscribes its own account"
SA=$(jq_ s1 '$j->{data}{id}')
is "$(jq_ s1 'join " ", map { $j->{data}{$_} } qw(status recurringPrice accountId customerId)')" "trial 349.00 $AA $CA" \
	"... a STARTER trial at 349.00 on its account"
is "$(jq_ s1 '$j->{data}{ratePlan}{planName} . "/" . $j->{data}{plan}{code}')" "Starter/STARTER" "... with ratePlan.planName and plan"
is "$(as_postgres -c "SELECT ('$(jq_ s1 '$j->{data}{trialEndsAt}')'::timestamptz AT TIME ZONE 'Asia/Kolkata')::date")" "$IN7" \
	"... the 7-day trial ends on $IN7"
is "$(req s2 POST /api/subscriptions "$TA" '{"planCode":"PROFESSIONAL"}')" 409 "a second live subscription on the account -> 409"
is "$(req s3 POST /api/subscriptions "$TB" "{\"accountId\":\"$AA\",\"planCode\":\"STARTER\"}")" 404 "another customer's account -> 404"
is "$(req s4 POST /api/subscriptions "$TB" '{"planCode":"NO_SUCH_PLAN"}')" 404 "an unknown plan -> 404"
is "$(req s5 POST /api/subscriptions "$TB" '{"planCode":"STARTER","billingCycle":"weekly","trialDays":-1,"accountId":"x"}')" 422 "invalid fields -> 422"
is "$(jq_ s5 'join ",", sort map { $_->{field} } @{$j->{error}{details}}')" "accountId,billingCycle,trialDays" "... each named"
is "$(req s6 POST /api/subscriptions "$TB" '{"planCode":"STARTER","trialDays":3}')" 422 "a trial length other than the plan's -> 422"
is "$(req s7 POST /api/subscriptions "$TB" '{"planCode":"STARTER","trialDays":0}')" 201 "trialDays 0: no trial"
SB=$(jq_ s7 '$j->{data}{id}')
is "$(jq_ s7 '$j->{data}{status}')" pending "... a pending subscription"
is "$(req s8 POST /api/subscriptions "$TADM" '{"planCode":"STARTER"}')" 422 "staff must name the account -> 422"
is "$(req s9 POST /api/subscriptions "$TADM" "{\"accountId\":\"$AC\",\"planCode\":\"$PLAN\",\"billingCycle\":\"quarterly\",\"trialDays\":0}")" 201 \
	"an admin subscribes customer C"
SC=$(jq_ s9 '$j->{data}{id}')
# 550.00 x 3 = 1650.00 for the quarter (the price after the PUT above)
is "$(jq_ s9 '$j->{data}{recurringPrice} . " " . $j->{data}{billingCycle}')" "1650.00 quarterly" "... at the plan's quarterly price, 1650.00"

# ---- subscriptions: read ------------------------------------------------------------------------------------
is "$(req g1 GET "/api/subscriptions/$SA" "$TA")" 200 "GET /subscriptions/:id by its customer"
is "$(jq_ g1 '$j->{data}{customer}{id} . " " . $j->{data}{account}{id}')" "$CA $AA" "... with its customer and account"
is "$(req g2 GET "/api/subscriptions/$SA" "$TB")" 404 "another customer's subscription -> 404"
is "$(req g3 GET "/api/subscriptions/$SA")" 401 "without a token -> 401"
is "$(req g4 GET "/api/subscriptions/$NOPE" "$TADM")" 404 "an unknown id -> 404"
is "$(req g5 GET "/api/subscriptions/1%3BDROP%20TABLE%20x" "$TADM")" 404 "1;DROP TABLE x as :id -> 404"
is "$(req g6 GET "/api/subscriptions/%27%20OR%201%3D1--" "$TA")" 404 "' OR 1=1-- as :id -> 404"

is "$(req l1 GET /api/subscriptions "$TA")" 200 "GET /subscriptions as a customer"
is "$(jq_ l1 '$j->{data}{pagination}{total} . " " . $j->{data}{subscriptions}[0]{id}')" "1 $SA" "... its own subscription only"
is "$(req l2 GET "/api/subscriptions?customerId=$CB" "$TA")" 200 "a customer filtering on another customer"
is "$(jq_ l2 '$j->{data}{pagination}{total}')" 0 "... sees nothing"
is "$(req l3 GET "/api/subscriptions?customerId=$CC&status=trial" "$TSUP")" 200 "staff filter by customer and status"
is "$(jq_ l3 '$j->{data}{pagination}{total}')" 0 "... C has no trial"
is "$(req l4 GET "/api/subscriptions?customerId=$CC&status=pending" "$TSUP")" 200 "staff: C's pending subscriptions"
is "$(jq_ l4 '$j->{data}{pagination}{total} . " " . $j->{data}{subscriptions}[0]{plan}{code}')" "1 $PLAN" "... the one on this run's plan"
is "$(req l5 GET /api/subscriptions)" 401 "GET /subscriptions without a token -> 401"
is "$(req l6 GET "/api/subscriptions?status=%27%20OR%201%3D1--" "$TADM")" 422 "SQL injection in status -> 422"
is "$(req l7 GET "/api/subscriptions?customerId=1%3BDROP%20TABLE%20x" "$TADM")" 422 "SQL injection in customerId -> 422"
is "$(req l8 GET "/api/subscriptions?limit=0" "$TADM")" 422 "limit 0 -> 422"

is "$(req my1 GET /api/subscriptions/my-subscription "$TA")" 200 "GET /subscriptions/my-subscription"
is "$(jq_ my1 'join " ", $j->{data}{id}, $j->{data}{ratePlan}{planName}, $j->{data}{plan}{code}, $j->{data}{account}{id}, $j->{data}{customer}{id}')" \
	"$SA Starter STARTER $AA $CA" "... the caller's subscription with ratePlan.planName, plan, account, customer"
is "$(req my2 GET /api/subscriptions/my-subscription "$TADM")" 200 "my-subscription for staff"
is "$(jq_ my2 '$j->{data}')" null "... data null (no subscription)"
is "$(req my3 GET /api/subscriptions/my-subscription)" 401 "my-subscription without a token -> 401"

# ---- usage ----------------------------------------------------------------------------------------------
# The current period: 100 included minutes (6000 s), 1530 s used (25.5 min), 7 calls; an earlier period.
as_postgres >/dev/null <<SQL
INSERT INTO balatrix.subscription_usage (customer_id, subscription_id, period_start, period_end, included_seconds,
                                         included_used_seconds, overage_seconds, call_count)
SELECT customer_id, id, current_period_start, current_period_end, 6000, 1530, 0, 7 FROM balatrix.subscriptions WHERE id = '$SA';
INSERT INTO balatrix.subscription_usage (customer_id, subscription_id, period_start, period_end, included_seconds,
                                         included_used_seconds, overage_seconds, overage_charge, call_count)
SELECT customer_id, id, current_period_start - interval '1 month', current_period_start, 6000, 6000, 150, 4.975, 40
  FROM balatrix.subscriptions WHERE id = '$SA';
SQL
is "$(req u1 GET "/api/subscriptions/$SA/usage" "$TA")" 200 "GET /subscriptions/:id/usage"
# used ceil(25.5) = 26; remaining floor(4470 / 60) = 74; 1530 / 6000 = 25.50 %
is "$(jq_ u1 'join " ", map { $j->{data}{$_} } qw(usedMinutes includedMinutes remainingMinutes overageMinutes utilizationPercentage)')" \
	"26 100 74 0 25.50" "... 26 of 100 minutes used, 74 left, 25.50 %"
is "$(jq_ u1 '$j->{data}{calls}{total} . " " . $j->{data}{currentPeriod}{daysRemaining}')" "7 7" "... 7 calls, 7 days of the trial left"
is "$(req u2 GET "/api/subscriptions/$SA/usage" "$TB")" 404 "another customer's usage -> 404"
is "$(req u3 GET "/api/subscriptions/$SA/usage")" 401 "usage without a token -> 401"
is "$(req u4 GET "/api/subscriptions/x%27%3B/usage" "$TA")" 404 "usage of a non-UUID -> 404"
is "$(req u5 GET "/api/subscriptions/$SB/usage" "$TB")" 200 "usage of a subscription without a usage row"
is "$(jq_ u5 'join " ", map { $j->{data}{$_} } qw(usedMinutes includedMinutes remainingMinutes utilizationPercentage)')" "0 100 100 0.00" \
	"... the plan's 100 minutes, none used"
is "$(req h1 GET "/api/subscriptions/$SA/usage/history?limit=1" "$TA")" 200 "GET /subscriptions/:id/usage/history"
is "$(jq_ h1 'join " ", $j->{data}{pagination}{total}, $j->{data}{pagination}{totalPages}, $j->{data}{usage}[0]{usedMinutes}')" "2 2 26" \
	"... two periods, newest first"
is "$(req h2 GET "/api/subscriptions/$SA/usage/history?page=2&limit=1" "$TA")" 200 "page 2"
# 6000 + 150 s = 102.5 min -> 103; overage 150 s -> 3 min; 4.975 -> 4.98
is "$(jq_ h2 'join " ", map { $j->{data}{usage}[0]{$_} } qw(usedMinutes overageMinutes overageCharge calls)')" "103 3 4.98 40" "... the earlier period"
is "$(req h3 GET "/api/subscriptions/$SA/usage/history" "$TB")" 404 "another customer's history -> 404"
is "$(req h4 GET "/api/subscriptions/$SA/usage/history")" 401 "history without a token -> 401"
is "$(req h5 GET "/api/subscriptions/$SA/usage/history?limit=abc" "$TA")" 422 "limit abc -> 422"

# ---- numbers ----------------------------------------------------------------------------------------------
is "$(req d1 GET "/api/dids/available?search=$P" "$TA")" 200 "GET /dids/available"
is "$(jq_ d1 'join " ", $j->{data}{pagination}{total}, map { $_->{number} } @{$j->{data}{numbers}}')" "3 ${P}001 ${P}002 ${P}003" \
	"... this run's three numbers, in order"
is "$(jq_ d1 '$j->{data}{numbers}[2]{monthlyRent}')" "250.00" "... with their rent"
is "$(req d2 GET "/api/dids/available?search=$P&limit=2&page=2" "$TA")" 200 "page 2 of 2"
is "$(jq_ d2 'join " ", $j->{data}{pagination}{totalPages}, map { $_->{number} } @{$j->{data}{numbers}}')" "2 ${P}003" "... the third number"
is "$(req d3 GET "/api/dids/available?search=%27%20OR%201%3D1--" "$TA")" 422 "SQL injection in search -> 422"
is "$(req d4 GET "/api/dids/available?numberType=satellite" "$TA")" 422 "an unknown number type -> 422"
is "$(req d5 GET /api/dids/available)" 401 "available without a token -> 401"

is "$(req a1 POST "/api/dids/$DID1/assign" "$TA" "{\"subscriptionId\":\"$SA\"}")" 200 "a customer assigns a number to its subscription"
is "$(jq_ a1 '$j->{data}{status} . " " . $j->{data}{subscriptionId}')" "assigned $SA" "... assigned to it"
is "$(as_postgres -c "SELECT subscription_id || ' ' || account_id || ' ' || monthly_rent || ' ' || (released_at IS NULL) FROM balatrix.did_assignments WHERE did_id = '$DID1'")" \
	"$SA $AA 199.00 true" "... an open assignment at 199.00 that billing counts"
is "$(req a2 POST "/api/dids/$DID1/assign" "$TA" "{\"subscriptionId\":\"$SA\"}")" 409 "the same number again -> 409"
is "$(req a3 POST "/api/dids/$DID1/assign" "$TB" "{\"subscriptionId\":\"$SB\"}")" 404 "another customer's number -> 404"
is "$(req a4 POST "/api/dids/$DID2/assign" "$TB" "{\"subscriptionId\":\"$SA\"}")" 404 "to another customer's subscription -> 404"
is "$(req a5 POST "/api/dids/$DID2/assign" "$TB" '{"subscriptionId":"nope"}')" 422 "a bad subscriptionId -> 422"
is "$(req a6 POST "/api/dids/$DID2/assign" "$TB" '{}')" 422 "no subscriptionId -> 422"
is "$(req a7 POST "/api/dids/$DID2/assign" - "{\"subscriptionId\":\"$SB\"}")" 401 "assign without a token -> 401"
is "$(req a8 POST "/api/dids/$NOPE/assign" "$TB" "{\"subscriptionId\":\"$SB\"}")" 404 "an unknown number -> 404"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.did_assignments WHERE did_id IN ('$DID1', '$DID2')")" 1 "the refused attempts assigned nothing"

is "$(req n1 GET /api/dids/my-numbers "$TA")" 200 "GET /dids/my-numbers"
is "$(jq_ n1 'join " ", map { $_->{number} } @{$j->{data}}')" "${P}001" "... the caller's number"
is "$(req n2 GET /api/dids/my-numbers "$TB")" 200 "another customer's my-numbers"
is "$(jq_ n2 'scalar @{$j->{data}}')" 0 "... empty"
is "$(req n3 GET /api/dids/my-numbers)" 401 "my-numbers without a token -> 401"

# ---- dashboard ----------------------------------------------------------------------------------------------
is "$(req db1 GET /api/subscriptions/my-dashboard "$TA")" 200 "GET /subscriptions/my-dashboard"
is "$(jq_ db1 'join " ", $j->{data}{subscription}{id}, $j->{data}{subscription}{ratePlan}{planName}, map { $j->{data}{stats}{$_} } qw(tollFreeNumbers extensions minutesUsed)')" \
	"$SA Starter 1 1 26" "... the subscription, 1 number, 1 extension, 26 minutes used"
is "$(as_postgres -c "SELECT ('$(jq_ db1 '$j->{data}{stats}{nextBilling}')'::timestamptz AT TIME ZONE 'Asia/Kolkata')::date")" "$IN7" \
	"... next billing when the trial ends, $IN7"
is "$(jq_ db1 '$j->{data}{balance}{accountId} . " " . $j->{data}{balance}{balance}')" "$AA 0.0000" "... the account's balance"
is "$(req db2 GET /api/subscriptions/my-dashboard "$TADM")" 200 "my-dashboard for staff"
is "$(jq_ db2 '($j->{data}{subscription} // "null") . " " . $j->{data}{stats}{tollFreeNumbers}')" "null 0" "... nothing of anyone's"
is "$(req db3 GET /api/subscriptions/my-dashboard)" 401 "my-dashboard without a token -> 401"

is "$(req r1 POST "/api/dids/$DID1/release" "$TB")" 404 "another customer releases my number -> 404"
is "$(req r2 POST "/api/dids/$DID1/release")" 401 "release without a token -> 401"
is "$(req r3 POST "/api/dids/$DID1/release" "$TA")" 200 "its holder releases the number"
is "$(as_postgres -c "SELECT d.status || ' ' || (a.released_at IS NOT NULL) FROM balatrix.dids d JOIN balatrix.did_assignments a ON a.did_id = d.id WHERE d.id = '$DID1'")" \
	"available true" "... available again, its assignment closed"
is "$(req r4 POST "/api/dids/$DID1/release" "$TA")" 404 "an unassigned number is not the customer's -> 404"
is "$(req r5 POST "/api/dids/$DID1/release" "$TADM")" 409 "... and for staff not assigned -> 409"
is "$(req r6 POST "/api/dids/$DID2/assign" "$TSUP" "{\"subscriptionId\":\"$SB\"}")" 200 "support assigns a number to B"
is "$(req r7 POST "/api/dids/$DID2/release" "$TADM")" 200 "an admin releases it"
is "$(req r8 POST "/api/dids/not-a-uuid/release" "$TADM")" 404 "a non-UUID number -> 404"

# ---- lifecycle ----------------------------------------------------------------------------------------------
is "$(req c1 POST "/api/subscriptions/$SA/change-plan" "$TB" '{"planCode":"PROFESSIONAL"}')" 404 "change another customer's plan -> 404"
is "$(req c2 POST "/api/subscriptions/$SA/change-plan" - '{"planCode":"PROFESSIONAL"}')" 401 "change-plan without a token -> 401"
is "$(req c3 POST "/api/subscriptions/$SA/change-plan" "$TA" '{"planCode":"PROFESSIONAL","effective":"tomorrow"}')" 422 "a bad effective -> 422"
is "$(req c4 POST "/api/subscriptions/$SA/change-plan" "$TA" '{"planCode":"STARTER"}')" 422 "the plan it already has -> 422"
is "$(req c5 POST "/api/subscriptions/$SA/change-plan" "$TA" '{"planCode":"NO_SUCH_PLAN"}')" 404 "an unknown plan -> 404"
is "$(req c6 POST "/api/subscriptions/$SA/change-plan" "$TA" '{"planCode":"PROFESSIONAL"}')" 200 "a customer changes its trial's plan"
is "$(jq_ c6 'join " ", $j->{data}{plan}{code}, $j->{data}{recurringPrice}, $j->{data}{status}, $j->{data}{documentId} // "null"')" \
	"PROFESSIONAL 999.00 trial null" "... PROFESSIONAL at 999.00, no money during the trial"

is "$(req p1 POST "/api/subscriptions/$SA/suspend" "$TA" '{"reason":"x"}')" 403 "a customer cannot suspend -> 403"
is "$(req p2 POST "/api/subscriptions/$SA/suspend" - '{}')" 401 "suspend without a token -> 401"
is "$(req p3 POST "/api/subscriptions/$SA/suspend" "$TSUP" '{"reason":"KYC check"}')" 200 "support suspends"
is "$(jq_ p3 '$j->{data}{status} . " " . $j->{data}{metadata}{suspensionReason}')" "suspended KYC check" "... suspended, the reason kept"
is "$(req p4 POST "/api/subscriptions/$SA/suspend" "$TSUP" '{}')" 409 "suspending again -> 409"
is "$(req p5 POST "/api/subscriptions/$NOPE/suspend" "$TSUP" '{}')" 404 "suspend an unknown subscription -> 404"
is "$(req p6 POST "/api/subscriptions/$SA/suspend" "$TSUP" '{"reason":5}')" 422 "a non-string reason -> 422"
is "$(req p7 POST "/api/subscriptions/$SA/activate" "$TA")" 403 "a customer cannot activate -> 403"
is "$(req p8 POST "/api/subscriptions/$SA/activate" "$TADM")" 200 "an admin resumes it"
is "$(jq_ p8 '$j->{data}{status}')" trial "... back to its trial"
is "$(req p9 POST "/api/subscriptions/$SB/activate" "$TADM")" 200 "an admin activates B's pending subscription"
is "$(jq_ p9 '$j->{data}{status} . " " . ($j->{data}{invoiceId} =~ /^[0-9a-f-]{36}$/ ? "invoice" : "none")')" "active invoice" "... active, its first invoice issued"
# STARTER 349.00 + 9% + 9% (31.41 each) = 411.82 for the first month
is "$(as_postgres -c "SELECT total FROM balatrix.invoices WHERE id = '$(jq_ p9 '$j->{data}{invoiceId}')'")" "411.82" "... for 411.82"
is "$(as_postgres -c "SELECT (current_period_end AT TIME ZONE 'Asia/Kolkata')::date FROM balatrix.subscriptions WHERE id = '$SB'")" "$NEXT_MONTH" \
	"... its first period runs to $NEXT_MONTH"
is "$(req p10 POST "/api/subscriptions/$SB/activate" "$TADM")" 409 "activating an active subscription -> 409"
is "$(req p11 POST "/api/subscriptions/$SB/renew" "$TADM")" 409 "renewing before the period ends -> 409"
is "$(req p12 POST "/api/subscriptions/$SB/renew" "$TB")" 403 "a customer cannot renew -> 403"
is "$(req p13 POST "/api/subscriptions/$SB/renew")" 401 "renew without a token -> 401"
is "$(req p14 POST "/api/subscriptions/$NOPE/renew" "$TADM")" 404 "renew an unknown subscription -> 404"
# C's quarterly subscription, started three months ago and activated then: its first period ends today.
START3=$(TZ=Asia/Kolkata date -d "$TODAY - 3 months" +%F)
IN3M=$(TZ=Asia/Kolkata date -d "$TODAY + 3 months" +%F)
as_postgres >/dev/null <<SQL
UPDATE balatrix.subscriptions SET started_at = '$START3'::timestamp AT TIME ZONE 'Asia/Kolkata' WHERE id = '$SC';
SELECT balatrix.activate_subscription('$SC', '$START3');
SQL
is "$(req p15 POST "/api/subscriptions/$SC/renew" "$TADM")" 200 "an admin renews a subscription whose period ended"
is "$(jq_ p15 '$j->{data}{periodsRenewed} . " " . $j->{data}{status}')" "1 active" "... one period"
if [ "$(TZ=Asia/Kolkata date +%-d)" -le 28 ]; then
	is "$(as_postgres -c "SELECT (current_period_end AT TIME ZONE 'Asia/Kolkata')::date FROM balatrix.subscriptions WHERE id = '$SC'")" "$IN3M" \
		"... the new quarter runs to $IN3M"
else
	ok 0 "# SKIP the quarter's end is clamped after the 28th"
fi
# 550.00 x 3 = 1650.00 + 148.50 + 148.50 = 1947.00
is "$(as_postgres -c "SELECT total FROM balatrix.invoices WHERE subscription_id = '$SC' AND period_start = '$TODAY'::timestamp AT TIME ZONE 'Asia/Kolkata' AND document_type = 'tax_invoice'")" "1947.00" \
	"... its invoice: 1650.00 + 18% = 1947.00"

is "$(req x1 POST "/api/subscriptions/$SA/cancel" "$TB" '{}')" 404 "cancel another customer's subscription -> 404"
is "$(req x2 POST "/api/subscriptions/$SA/cancel" - '{}')" 401 "cancel without a token -> 401"
is "$(req x3 POST "/api/subscriptions/$SA/cancel" "$TA" '{"immediate":"yes"}')" 422 "immediate must be a boolean -> 422"
is "$(req x4 POST "/api/subscriptions/$SA/cancel" "$TA" '{"reason":"moving"}')" 200 "a customer cancels at the period end"
is "$(jq_ x4 'join " ", $j->{data}{status}, ($j->{data}{cancelAtPeriodEnd} ? "true" : "false"), $j->{data}{cancellationReason}')" "trial true moving" \
	"... it runs to the end of the trial"
is "$(req x5 POST "/api/subscriptions/$SA/cancel" "$TA" '{}')" 409 "cancelling at the period end twice -> 409"
is "$(req x6 POST "/api/subscriptions/$SB/cancel" "$TB" '{"immediate":true}')" 200 "B cancels now"
is "$(jq_ x6 '$j->{data}{status} . " " . ($j->{data}{creditNoteId} =~ /^[0-9a-f-]{36}$/ ? "credit" : "none")')" "cancelled credit" \
	"... cancelled, with a credit note for the unused days"
# Cancelled on the first day of the renewed period: all of it unused, 349.00 taxable back.
is "$(as_postgres -c "SELECT taxable_total FROM balatrix.invoices WHERE id = '$(jq_ x6 '$j->{data}{creditNoteId}')'")" "349.00" "... of 349.00"

# ---- deleting plans ---------------------------------------------------------------------------------------
is "$(req del1 DELETE "/api/rate-plans/$TP_ID" "$TA")" 403 "DELETE /rate-plans/:id as a customer -> 403"
is "$(req del2 DELETE "/api/rate-plans/$TP_ID")" 401 "DELETE without a token -> 401"
is "$(req del3 DELETE "/api/rate-plans/$TP_ID" "$TADM")" 200 "DELETE a plan a subscription uses"
is "$(jq_ del3 '$j->{data}{result}')" deactivated "... withdraws it instead"
is "$(req del4 GET "/api/rate-plans/$TP_ID")" 404 "... no longer visible without a token"
is "$(as_postgres -c "SELECT is_active FROM balatrix.rate_plans WHERE id = '$TP_ID'")" f "... inactive, still there"
is "$(req del5 POST /api/rate-plans "$TADM" "{\"code\":\"TD_$SU\",\"name\":\"Unused\",\"monthlyPrice\":10,\"overageRate\":0}")" 201 "an unused plan"
TD_ID=$(jq_ del5 '$j->{data}{id}')
is "$(req del6 DELETE "/api/rate-plans/$TD_ID" "$TADM")" 200 "DELETE an unused plan"
is "$(jq_ del6 '$j->{data}{result}')" deleted "... deletes it"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.rate_plans WHERE id = '$TD_ID'")" 0 "... gone"
is "$(req del7 DELETE "/api/rate-plans/$TD_ID" "$TADM")" 404 "DELETE it again -> 404"

# ---- injection strings changed nothing ----------------------------------------------------------------------
is "$(as_postgres -c "SELECT count(*) FROM balatrix.subscriptions WHERE customer_id IN ('$CA', '$CB', '$CC')")" 3 \
	"the three subscriptions of this run, and the tables, are intact"

api_finish

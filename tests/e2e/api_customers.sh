#!/bin/bash
# End-to-end: customers, accounts and reports through the real sidecar against a real PostgreSQL.
# TAP; run with  prove -e bash tests/e2e/api_customers.sh  (environment: see tests/e2e/lib/api.sh).
#
# Every expected amount below is worked out by hand from the fixtures (18% GST: 9% + 9% within
# Karnataka, 18% IGST across States), never read back from the code under test.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib/tap.sh"
source "$HERE/lib/api.sh"

api_init

S=$(uniq_suffix)
read -r UA CA AA <<<"$(new_customer "a.$S@example.com")"   # customer A: Karnataka, B2C
read -r UB CB AB <<<"$(new_customer "b.$S@example.com")"   # customer B: Karnataka, registered (GSTIN)
read -r UD CD AD <<<"$(new_customer "d.$S@example.com")"   # customer D: Maharashtra, B2C
read -r UE CE AE <<<"$(new_customer "e.$S@example.com")"   # customer E: closed by DELETE
read -r UF CF AF <<<"$(new_customer "f.$S@example.com")"   # customer F: suspended / activated
read -r UC CC AC <<<"$(new_customer "c.$S@example.com")"   # customer C: resold by RESELLER
SUPER=$(new_staff super_admin "super.$S@example.com")
ADMIN=$(new_staff admin "admin.$S@example.com")
SUPPORT=$(new_staff support "support.$S@example.com")
RESELLER=$(new_staff reseller "reseller.$S@example.com")
NEWCUST=$(new_staff customer "newcust.$S@example.com") # a customer-role user with no customer record yet

as_postgres >/dev/null <<SQL
-- an earlier run's holder of the GSTIN gives it up (the invoices keep their frozen copy)
UPDATE balatrix.customers SET gstin = NULL WHERE gstin = '29AAGCB7383J1Z4';
UPDATE balatrix.customers SET gstin = '29AAGCB7383J1Z4', company_name = 'Bharat Gstin $S Pvt Ltd' WHERE id = '$CB';
UPDATE balatrix.customers SET billing_state_code = '27' WHERE id = '$CD';
UPDATE balatrix.customers SET reseller_user_id = '$RESELLER' WHERE id = '$CC';
SELECT balatrix.install_default_catalogue() WHERE NOT EXISTS (SELECT 1 FROM balatrix.rate_plans WHERE code = 'STARTER');
SQL

# Documents, issued in May and June of year Y, the first year from 2100 on without any document (so
# the reports see this run's documents only, also when the script runs again on the same database):
#   A  1000.00 on Y-05-10: CGST 90.00 + SGST 90.00 = 1180.00; paid 500.00 on Y-05-11
#   B  2000.00 on Y-05-15 (B2B):  CGST 180.00 + SGST 180.00 = 2360.00
#   D   500.00 on Y-05-20 (inter-State): IGST 90.00 = 590.00
#   A   100.00 on Y-06-02: 9.00 + 9.00 = 118.00
#   A   999.00 draft (never counted)
Y=$(as_postgres -c "SELECT greatest(2100, coalesce(max(extract(year FROM issue_date))::int + 1, 2100)) FROM balatrix.invoices")
as_postgres >/dev/null <<SQL
SELECT balatrix.add_invoice_line(balatrix.create_invoice_draft('$AA'), 'adjustment', 'Setup', 1, 1000.00);
SELECT id AS inv1 FROM balatrix.invoices WHERE account_id = '$AA' AND status = 'draft' \gset
SELECT balatrix.issue_invoice(:'inv1', DATE '${Y}-05-10');
SELECT balatrix.record_payment(:'inv1', 500.00, 'manual', NULL, DATE '${Y}-05-11');
SELECT balatrix.add_invoice_line(balatrix.create_invoice_draft('$AB'), 'adjustment', 'Setup', 1, 2000.00);
SELECT balatrix.issue_invoice((SELECT id FROM balatrix.invoices WHERE account_id = '$AB' AND status = 'draft'), DATE '${Y}-05-15');
SELECT balatrix.add_invoice_line(balatrix.create_invoice_draft('$AD'), 'adjustment', 'Setup', 1, 500.00);
SELECT balatrix.issue_invoice((SELECT id FROM balatrix.invoices WHERE account_id = '$AD' AND status = 'draft'), DATE '${Y}-05-20');
SELECT balatrix.add_invoice_line(balatrix.create_invoice_draft('$AA'), 'adjustment', 'Extra', 1, 100.00);
SELECT balatrix.issue_invoice((SELECT id FROM balatrix.invoices WHERE account_id = '$AA' AND status = 'draft'), DATE '${Y}-06-02');
SELECT balatrix.add_invoice_line(balatrix.create_invoice_draft('$AA'), 'adjustment', 'Draft', 1, 999.00);
SQL

T_A=$(token_for "$UA" customer)
T_B=$(token_for "$UB" customer)
T_C=$(token_for "$UC" customer)
T_SUPER=$(token_for "$SUPER" super_admin)
T_ADMIN=$(token_for "$ADMIN" admin)
T_SUPPORT=$(token_for "$SUPPORT" support)
T_RES=$(token_for "$RESELLER" reseller)
NOPE=00000000-0000-4000-8000-000000000000
TODAY=$(TZ=Asia/Kolkata date +%F)
YESTERDAY=$(TZ=Asia/Kolkata date -d yesterday +%F)
customer_count() { as_postgres -c "SELECT count(*) || '/' || count(*) FILTER (WHERE status = 'active') FROM balatrix.customers"; }
COUNT_BEFORE=$(customer_count)

# ---- GET /api/customers/me ------------------------------------------------------------------------------
is "$(req me GET /api/customers/me "$T_A")" 200 "me: 200 for a customer"
is "$(jq_ me '$j->{data}{id}')" "$CA" "me: the caller's own customer"
is "$(jq_ me '$j->{data}{accounts}[0]{id} . " " . scalar @{$j->{data}{accounts}}')" "$AA 1" "me: with its one account"
is "$(jq_ me '$j->{data}{accounts}[0]{balance}')" "-798.0000" "me: balance as an exact string (-1180 + 500 - 118)"
is "$(jq_ me 'ref $j->{data}{subscriptions}')" "ARRAY" "me: subscriptions list"
is "$(jq_ me '$j->{success} ? "yes" : "no"')" "yes" "me: success envelope"
is "$(req me_none GET /api/customers/me)" 401 "me: no token -> 401"
is "$(req me_staff GET /api/customers/me "$T_ADMIN")" 404 "me: staff have no customer record -> 404"

# ---- GET /api/customers/:id -----------------------------------------------------------------------------
is "$(req get_own GET "/api/customers/$CA" "$T_A")" 200 "get: owner -> 200"
is "$(jq_ get_own '$j->{data}{billingStateCode} . " " . $j->{data}{name}')" "29 Customer a.$S@example.com" "get: camelCase fields"
is "$(req get_other GET "/api/customers/$CB" "$T_A")" 404 "get: another customer's id -> 404"
is "$(req get_staff GET "/api/customers/$CB" "$T_SUPPORT")" 200 "get: support -> 200"
is "$(jq_ get_staff '$j->{data}{gstin}')" "29AAGCB7383J1Z4" "get: staff see the GSTIN"
is "$(req get_res GET "/api/customers/$CC" "$T_RES")" 200 "get: a reseller sees its customer"
is "$(req get_res_other GET "/api/customers/$CA" "$T_RES")" 404 "get: a reseller does not see other customers"
is "$(req get_none GET "/api/customers/$CA")" 401 "get: no token -> 401"
is "$(req get_bad GET "/api/customers/not-a-uuid" "$T_ADMIN")" 404 "get: a non-UUID id -> 404"
is "$(req get_unknown GET "/api/customers/$NOPE" "$T_ADMIN")" 404 "get: unknown id -> 404"
is "$(req get_inj GET "/api/customers/1%3BDROP%20TABLE%20balatrix.customers" "$T_ADMIN")" 404 "get: injection in the path -> 404"
is "$(req get_inj2 GET "/api/customers/%27%20OR%201%3D1--" "$T_A")" 404 "get: ' OR 1=1-- in the path -> 404"

# ---- GET /api/customers (list) -----------------------------------------------------------------------------
is "$(req list GET "/api/customers?search=b.$S&limit=5" "$T_ADMIN")" 200 "list: staff -> 200"
is "$(jq_ list '$j->{data}{pagination}{total} . " " . $j->{data}{customers}[0]{id}')" "1 $CB" "list: search by e-mail finds B only"
is "$(jq_ list 'join ",", map { $j->{data}{pagination}{$_} } qw(total page limit totalPages)')" "1,1,5,1" "list: pagination"
is "$(req list_gstin GET "/api/customers?search=29aagcb7383&status=active" "$T_SUPPORT")" 200 "list: search by GSTIN, case-insensitive"
is "$(jq_ list_gstin 'join ",", map { $_->{id} } @{$j->{data}{customers}}')" "$CB" "list: the GSTIN holder"
is "$(req list_res GET "/api/customers" "$T_RES")" 200 "list: reseller -> 200"
is "$(jq_ list_res '$j->{data}{pagination}{total} . " " . $j->{data}{customers}[0]{id}')" "1 $CC" "list: a reseller sees its one customer"
is "$(req list_cust GET "/api/customers" "$T_A")" 403 "list: a customer -> 403"
is "$(req list_none GET "/api/customers")" 401 "list: no token -> 401"
is "$(req list_sort GET "/api/customers?search=.$S%40example.com&sortBy=name&sortOrder=asc&limit=2&page=2" "$T_ADMIN")" 200 "list: sorted, page 2"
# names "Customer a.", "Customer b.", "Customer c.", "Customer d.", "Customer e.", "Customer f." -> page 2 of 2 = c, d
is "$(jq_ list_sort 'join ",", map { $_->{id} } @{$j->{data}{customers}}')" "$CC,$CD" "list: name order, page 2 = C, D"
is "$(jq_ list_sort '$j->{data}{pagination}{total} . "/" . $j->{data}{pagination}{totalPages}')" "6/3" "list: 6 matches, 3 pages"
is "$(req list_sort_bad GET "/api/customers?sortBy=name%3BDROP%20TABLE%20x" "$T_ADMIN")" 422 "list: sortBy outside the whitelist -> 422"
is "$(req list_order_bad GET "/api/customers?sortOrder=sideways" "$T_ADMIN")" 422 "list: bad sortOrder -> 422"
is "$(req list_status_bad GET "/api/customers?status=%27%20OR%201%3D1--" "$T_ADMIN")" 422 "list: injection in status -> 422"
is "$(req list_limit GET "/api/customers?limit=101" "$T_ADMIN")" 422 "list: limit over 100 -> 422"
is "$(jq_ list_limit '$j->{error}{details}[0]{field}')" "limit" "list: the detail names the field"
is "$(req list_inj GET "/api/customers?search=%27%20OR%201%3D1--" "$T_ADMIN")" 200 "list: ' OR 1=1-- as search -> 200"
is "$(jq_ list_inj '$j->{data}{pagination}{total}')" "0" "list: ... and matches nothing"
is "$(req list_inj2 GET "/api/customers?search=%25" "$T_RES")" 200 "list: % as search is literal"
is "$(jq_ list_inj2 '$j->{data}{pagination}{total}')" "0" "list: ... and matches nothing"

# ---- GET /api/customers/search -----------------------------------------------------------------------------
is "$(req search GET "/api/customers/search?q=GSTIN%20$S" "$T_SUPPORT")" 200 "search: staff -> 200"
is "$(jq_ search 'join ",", map { $_->{id} . ":" . $_->{companyName} } @{$j->{data}}')" "$CB:Bharat Gstin $S Pvt Ltd" "search: by company name"
is "$(req search_cust GET "/api/customers/search?q=a" "$T_A")" 403 "search: a customer -> 403"
is "$(req search_res GET "/api/customers/search?q=a" "$T_RES")" 403 "search: a reseller -> 403"
is "$(req search_none GET "/api/customers/search?q=a")" 401 "search: no token -> 401"
is "$(req search_noq GET "/api/customers/search" "$T_ADMIN")" 422 "search: q missing -> 422"
is "$(req search_inj GET "/api/customers/search?q=1%3BDROP%20TABLE%20balatrix.customers" "$T_ADMIN")" 200 "search: injection string -> 200"
is "$(jq_ search_inj 'scalar @{$j->{data}}')" "0" "search: ... and matches nothing"

# ---- POST /api/customers -------------------------------------------------------------------------------------
BODY='{"name":"Created By Staff","companyName":"Staff Made Ltd","email":"made.'$S'@example.com","phone":"+919876543210","billingStateCode":"07","billingPincode":"110001","billingCity":"New Delhi","pan":"AAGCB7383J"}'
is "$(req create POST /api/customers "$T_SUPPORT" "$BODY")" 201 "create: staff -> 201"
NEWC=$(jq_ create '$j->{data}{id}')
is "$(jq_ create 'join ",", $j->{data}{status}, $j->{data}{billingStateCode}, $j->{data}{pan}, scalar @{$j->{data}{accounts}}, $j->{data}{accounts}[0]{accountType}, $j->{data}{accounts}[0]{balance}, $j->{data}{accounts}[0]{currency}')" \
	"active,07,AAGCB7383J,1,prepaid,0.0000,INR" "create: active, with one prepaid INR account at 0"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.accounts WHERE customer_id = '$NEWC' AND account_type = 'prepaid'")" 1 "create: the account is in the database"
is "$(req create_none POST /api/customers - "$BODY")" 401 "create: no token -> 401"
is "$(req create_res POST /api/customers "$T_RES" "$BODY")" 403 "create: a reseller -> 403"
is "$(req create_again POST /api/customers "$T_A" '{"name":"Second"}')" 409 "create: a customer that has a record -> 409"
is "$(req create_taxex POST /api/customers "$T_A" '{"name":"X","taxExempt":true}')" 403 "create: a customer setting a staff-only field -> 403"
is "$(req create_bad POST /api/customers "$T_ADMIN" '{"companyName":"No Name","email":"not-an-email","phone":"12345","billingStateCode":"KA","surprise":1}')" 422 "create: invalid body -> 422"
is "$(jq_ create_bad 'join ",", sort map { $_->{field} . ":" . $_->{code} } @{$j->{error}{details}}')" \
	"billingStateCode:invalid_format,email:invalid_format,name:required,phone:invalid_format,surprise:unknown_field" "create: every problem listed"
is "$(req create_gstin POST /api/customers "$T_ADMIN" '{"name":"Bad Check","gstin":"29AAGCB7383J1Z5","billingStateCode":"29"}')" 422 "create: a GSTIN with a wrong check character -> 422 (database check)"
is "$(req create_state POST /api/customers "$T_ADMIN" '{"name":"No State"}')" 422 "create: an active Indian customer without a State -> 422"
is "$(req create_state2 POST /api/customers "$T_ADMIN" '{"name":"Bad State","billingStateCode":"00"}')" 422 "create: an unknown State code -> 422"
is "$(req create_user POST /api/customers "$T_ADMIN" '{"name":"Linked","userId":"'"$NEWCUST"'","billingStateCode":"29"}')" 201 "create: staff link a customer user"
is "$(jq_ create_user '$j->{data}{userId}')" "$NEWCUST" "create: ... linked to the user"
is "$(req create_user2 POST /api/customers "$T_ADMIN" '{"name":"Linked Again","userId":"'"$NEWCUST"'","billingStateCode":"29"}')" 409 "create: a user with a customer record -> 409"
is "$(req create_user3 POST /api/customers "$T_ADMIN" '{"name":"Staff Link","userId":"'"$ADMIN"'","billingStateCode":"29"}')" 422 "create: linking a staff user -> 422"
is "$(req create_inj POST /api/customers "$T_ADMIN" "{\"name\":\"x'); DROP TABLE balatrix.customers; --\",\"billingStateCode\":\"29\"}")" 201 "create: an injection string as a name is just a name"
is "$(jq_ create_inj '$j->{data}{name}')" "x'); DROP TABLE balatrix.customers; --" "create: ... stored verbatim"
T_NEW=$(token_for "$NEWCUST" customer)
is "$(req me_new GET /api/customers/me "$T_NEW")" 200 "create: the linked user now has its customer"
is "$(jq_ me_new '$j->{data}{name}')" "Linked" "create: ... the one staff made"

# ---- PUT /api/customers/:id ----------------------------------------------------------------------------------
is "$(req put_own PUT "/api/customers/$CA" "$T_A" '{"companyName":"A Traders","billingPincode":"560001","phone":null}')" 200 "put: owner -> 200"
is "$(jq_ put_own 'join ",", $j->{data}{companyName}, $j->{data}{billingPincode}, defined $j->{data}{phone} ? "set" : "null"')" "A Traders,560001,null" "put: fields changed, phone cleared"
is "$(req put_status PUT "/api/customers/$CA" "$T_A" '{"status":"active"}')" 422 "put: status is not a PUT field -> 422"
is "$(req put_credit PUT "/api/customers/$CA" "$T_A" '{"creditLimit":"100000"}')" 422 "put: credit is not a PUT field -> 422"
is "$(req put_taxex PUT "/api/customers/$CA" "$T_A" '{"taxExempt":true}')" 403 "put: a customer may not set taxExempt -> 403"
is "$(req put_staff PUT "/api/customers/$CA" "$T_SUPPORT" '{"kycStatus":"verified","notes":"checked"}')" 200 "put: staff set kycStatus and notes"
is "$(jq_ put_staff '$j->{data}{kycStatus} . "," . $j->{data}{notes}')" "verified,checked" "put: ... stored"
is "$(req put_other PUT "/api/customers/$CB" "$T_A" '{"companyName":"Hijack"}')" 404 "put: another customer's id -> 404"
is "$(as_postgres -c "SELECT company_name FROM balatrix.customers WHERE id = '$CB'")" "Bharat Gstin $S Pvt Ltd" "put: ... and B is unchanged"
is "$(req put_none PUT "/api/customers/$CA" - '{"companyName":"x"}')" 401 "put: no token -> 401"
is "$(req put_empty PUT "/api/customers/$CA" "$T_A" '{}')" 422 "put: nothing to change -> 422"
is "$(req put_bad PUT "/api/customers/$CA" "$T_A" '{"name":"  ","pan":"abc"}')" 422 "put: blank name and bad PAN -> 422"
is "$(req put_nullname PUT "/api/customers/$CA" "$T_A" '{"name":null}')" 422 "put: name may not be null -> 422"
is "$(req put_gstpan PUT "/api/customers/$CB" "$T_B" '{"pan":"ZZZZZ9999Z"}')" 422 "put: a PAN that contradicts the GSTIN -> 422"
is "$(req put_badid PUT "/api/customers/x%27--" "$T_ADMIN" '{"name":"x"}')" 404 "put: non-UUID id -> 404"

# ---- statistics --------------------------------------------------------------------------------------------
is "$(req stats GET "/api/customers/$CA/statistics" "$T_A")" 200 "statistics: owner -> 200"
is "$(jq_ stats 'join ",", map { $j->{data}{invoices}{$_} } qw(total paid unpaid overdue totalAmount paidAmount outstandingAmount)')" \
	"2,0,2,0,1298.00,500.00,798.00" "statistics: invoices (1180 + 118 issued, 500 paid, 798 outstanding; the draft not counted)"
is "$(jq_ stats 'join ",", map { $j->{data}{payments}{$_} } qw(totalPayments totalAmount successfulAmount refundedAmount)')" \
	"1,500.00,500.00,0.00" "statistics: payments"
is "$(jq_ stats 'join ",", map { $j->{data}{subscriptions}{$_} } qw(total active suspended)')" "0,0,0" "statistics: subscriptions"
is "$(jq_ stats '$j->{data}{customer}{id} . " " . scalar @{$j->{data}{accounts}}')" "$CA 1" "statistics: customer and accounts"
is "$(req stats_other GET "/api/customers/$CB/statistics" "$T_A")" 404 "statistics: another customer's -> 404"
is "$(req stats_none GET "/api/customers/$CA/statistics")" 401 "statistics: no token -> 401"
is "$(req stats_bad GET "/api/customers/123/statistics" "$T_ADMIN")" 404 "statistics: non-UUID -> 404"
is "$(req stats_staff GET "/api/customers/$CB/statistics" "$T_SUPPORT")" 200 "statistics: staff -> 200"
is "$(jq_ stats_staff '$j->{data}{invoices}{totalAmount} . "," . $j->{data}{payments}{totalPayments}')" "2360.00,0" "statistics: B (2000 + 360 GST, no payment)"

# ---- accounts of a customer -----------------------------------------------------------------------------------
is "$(req accts GET "/api/customers/$CA/accounts" "$T_A")" 200 "accounts: owner -> 200"
is "$(jq_ accts 'join ",", map { $_->{id} } @{$j->{data}}')" "$AA" "accounts: its one account"
is "$(req accts_other GET "/api/customers/$CB/accounts" "$T_A")" 404 "accounts: another customer's -> 404"
is "$(req accts_none GET "/api/customers/$CA/accounts")" 401 "accounts: no token -> 401"
is "$(req acc_new POST "/api/customers/$CB/accounts" "$T_SUPPORT" '{"accountType":"postpaid","creditLimit":"25000.50"}')" 201 "open account: staff, postpaid -> 201"
NEWACC=$(jq_ acc_new '$j->{data}{id}')
is "$(jq_ acc_new 'join ",", map { $j->{data}{$_} } qw(accountType creditLimit balance currency status customerId)')" "postpaid,25000.5000,0.0000,INR,active,$CB" "open account: as asked"
is "$(req acc_num POST "/api/customers/$CB/accounts" "$T_ADMIN" '{"accountType":"postpaid","creditLimit":1000}')" 201 "open account: creditLimit as a JSON number"
is "$(jq_ acc_num '$j->{data}{creditLimit}')" "1000.0000" "open account: ... exact"
is "$(req acc_cust POST "/api/customers/$CA/accounts" "$T_A" '{"accountType":"prepaid"}')" 403 "open account: a customer -> 403"
is "$(req acc_none POST "/api/customers/$CA/accounts" - '{"accountType":"prepaid"}')" 401 "open account: no token -> 401"
is "$(req acc_bad POST "/api/customers/$CB/accounts" "$T_ADMIN" '{"accountType":"gold","creditLimit":"-5","currency":"rupees"}')" 422 "open account: invalid body -> 422"
is "$(jq_ acc_bad 'join ",", sort map { $_->{field} } @{$j->{error}{details}}')" "accountType,creditLimit,currency" "open account: each field named"
is "$(req acc_pre POST "/api/customers/$CB/accounts" "$T_ADMIN" '{"accountType":"prepaid","creditLimit":"10.00"}')" 422 "open account: prepaid with credit -> 422"
is "$(req acc_unknown POST "/api/customers/$NOPE/accounts" "$T_ADMIN" '{"accountType":"prepaid"}')" 404 "open account: unknown customer -> 404"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.accounts WHERE customer_id = '$CB'")" 3 "open account: B has 3 accounts now"

# ---- /api/accounts/:id ---------------------------------------------------------------------------------------
is "$(req acc GET "/api/accounts/$AA" "$T_A")" 200 "account: owner -> 200"
is "$(jq_ acc '$j->{data}{customerId} . " " . $j->{data}{customer}{id}')" "$CA $CA" "account: with its customer"
is "$(req acc_other GET "/api/accounts/$AB" "$T_A")" 404 "account: another customer's -> 404"
is "$(req acc_none2 GET "/api/accounts/$AA")" 401 "account: no token -> 401"
is "$(req acc_badid GET "/api/accounts/1%20OR%201=1" "$T_ADMIN")" 404 "account: non-UUID -> 404"

is "$(req bal GET "/api/accounts/$AA/balance" "$T_A")" 200 "balance: owner -> 200"
is "$(jq_ bal 'join ",", map { my $v = $j->{data}{$_}; JSON::PP::is_bool($v) ? ($v ? "true" : "false") : $v } qw(balance creditLimit available currency lowBalance)')" \
	"-798.0000,0.0000,-798.0000,INR,true" "balance: -798 prepaid, low"
is "$(req bal_post GET "/api/accounts/$NEWACC/balance" "$T_B")" 200 "balance: B's postpaid account"
is "$(jq_ bal_post 'join ",", map { my $v = $j->{data}{$_}; JSON::PP::is_bool($v) ? ($v ? "true" : "false") : $v } qw(balance creditLimit available lowBalance)')" \
	"0.0000,25000.5000,25000.5000,false" "balance: 0 + 25000.50 credit available, not low"
is "$(req bal_other GET "/api/accounts/$AB/balance" "$T_A")" 404 "balance: another customer's -> 404"
is "$(req bal_none GET "/api/accounts/$AA/balance")" 401 "balance: no token -> 401"
is "$(req bal_bad GET "/api/accounts/nope/balance" "$T_A")" 404 "balance: non-UUID -> 404"

is "$(req led GET "/api/accounts/$AA/ledger" "$T_A")" 200 "ledger: owner -> 200"
is "$(jq_ led 'join ",", map { $_->{entryType} . ":" . $_->{amount} . ":" . $_->{balanceAfter} } @{$j->{data}{entries}}')" \
	"invoice:-118.0000:-798.0000,payment:500.0000:-680.0000,invoice:-1180.0000:-1180.0000" "ledger: newest first, exact amounts"
is "$(jq_ led '$j->{data}{pagination}{total}')" 3 "ledger: 3 entries"
is "$(req led_type GET "/api/accounts/$AA/ledger?type=payment" "$T_A")" 200 "ledger: by type"
is "$(jq_ led_type 'join ",", map { $_->{amount} } @{$j->{data}{entries}}')" "500.0000" "ledger: the payment only"
is "$(req led_page GET "/api/accounts/$AA/ledger?limit=1&page=2" "$T_A")" 200 "ledger: page 2 of 1-entry pages"
is "$(jq_ led_page 'join ",", map { $_->{amount} } @{$j->{data}{entries}}')" "500.0000" "ledger: ... the second newest"
is "$(req led_today GET "/api/accounts/$AA/ledger?from=$TODAY&to=$TODAY" "$T_A")" 200 "ledger: today"
is "$(jq_ led_today '$j->{data}{pagination}{total}')" 3 "ledger: all 3 were posted today"
is "$(req led_yday GET "/api/accounts/$AA/ledger?to=$YESTERDAY" "$T_A")" 200 "ledger: up to yesterday"
is "$(jq_ led_yday '$j->{data}{pagination}{total}')" 0 "ledger: nothing before today"
is "$(req led_range GET "/api/accounts/$AA/ledger?from=$TODAY&to=$YESTERDAY" "$T_A")" 422 "ledger: from after to -> 422"
is "$(req led_date GET "/api/accounts/$AA/ledger?from=2026-02-30" "$T_A")" 422 "ledger: an impossible date -> 422"
is "$(req led_inj GET "/api/accounts/$AA/ledger?type=%27%20OR%201%3D1--" "$T_A")" 422 "ledger: injection in type -> 422"
is "$(req led_other GET "/api/accounts/$AB/ledger" "$T_A")" 404 "ledger: another customer's -> 404"
is "$(req led_none GET "/api/accounts/$AA/ledger")" 401 "ledger: no token -> 401"

# ---- suspend / activate ------------------------------------------------------------------------------------------
is "$(req susp POST "/api/customers/$CF/suspend" "$T_SUPPORT" '{"reason":"unpaid"}')" 200 "suspend: staff -> 200"
is "$(as_postgres -c "SELECT c.status || '/' || a.status FROM balatrix.customers c JOIN balatrix.accounts a ON a.customer_id = c.id WHERE c.id = '$CF'")" "suspended/suspended" "suspend: the account follows"
is "$(req susp2 POST "/api/customers/$CF/suspend" "$T_SUPPORT")" 409 "suspend: already suspended -> 409"
is "$(req act POST "/api/customers/$CF/activate" "$T_ADMIN")" 200 "activate: staff -> 200"
is "$(jq_ act '$j->{data}{status} . "/" . $j->{data}{accounts}[0]{status}')" "active/active" "activate: customer and account active"
is "$(req act2 POST "/api/customers/$CF/activate" "$T_ADMIN")" 409 "activate: already active -> 409"
is "$(req susp_cust POST "/api/customers/$CA/suspend" "$T_A")" 403 "suspend: a customer -> 403"
is "$(req act_cust POST "/api/customers/$CA/activate" "$T_A")" 403 "activate: a customer -> 403"
is "$(req susp_none POST "/api/customers/$CA/suspend")" 401 "suspend: no token -> 401"
is "$(req act_none POST "/api/customers/$CA/activate")" 401 "activate: no token -> 401"
is "$(req susp_unknown POST "/api/customers/$NOPE/suspend" "$T_ADMIN")" 404 "suspend: unknown id -> 404"
is "$(req act_bad POST "/api/customers/zzz/activate" "$T_ADMIN")" 404 "activate: non-UUID -> 404"
is "$(req susp_body POST "/api/customers/$CF/suspend" "$T_ADMIN" '{"reason":5,"x":1}')" 422 "suspend: bad body -> 422"
is "$(as_postgres -c "SELECT status FROM balatrix.customers WHERE id = '$CF'")" active "suspend: ... changed nothing"

# ---- DELETE ----------------------------------------------------------------------------------------------------
SUB=$(as_postgres -c "SELECT balatrix.create_subscription('$AE', 'STARTER', 'monthly')")
is "$(req del_live DELETE "/api/customers/$CE" "$T_ADMIN")" 409 "delete: with a live subscription -> 409"
is "$(req del_support DELETE "/api/customers/$CE" "$T_SUPPORT")" 403 "delete: support -> 403"
is "$(req del_cust DELETE "/api/customers/$CE" "$(token_for "$UE" customer)")" 403 "delete: the customer itself -> 403"
is "$(req del_none DELETE "/api/customers/$CE")" 401 "delete: no token -> 401"
is "$(req del_bad DELETE "/api/customers/1%3BDROP" "$T_ADMIN")" 404 "delete: non-UUID -> 404"
is "$(req del_unknown DELETE "/api/customers/$NOPE" "$T_ADMIN")" 404 "delete: unknown -> 404"
as_postgres -c "SELECT balatrix.cancel_subscription('$SUB', false, 'test')" >/dev/null
is "$(req del DELETE "/api/customers/$CE" "$T_SUPER")" 200 "delete: once cancelled -> 200"
is "$(as_postgres -c "SELECT c.status || '/' || string_agg(a.status, ',') FROM balatrix.customers c JOIN balatrix.accounts a ON a.customer_id = c.id WHERE c.id = '$CE' GROUP BY c.status")" "cancelled/closed" "delete: customer cancelled, account closed (row kept)"
is "$(req del2 DELETE "/api/customers/$CE" "$T_SUPER")" 409 "delete: again -> 409"
is "$(req put_closed PUT "/api/customers/$CE" "$T_ADMIN" '{"name":"Back"}')" 409 "put: a cancelled customer -> 409"

# ---- reports ----------------------------------------------------------------------------------------------------
is "$(req gst GET "/api/reports/gst-summary?month=${Y}-05" "$T_SUPPORT")" 200 "gst-summary: staff -> 200"
is "$(jq_ gst 'scalar @{$j->{data}{rows}}')" 1 "gst-summary: one row (tax invoices, INR)"
is "$(jq_ gst 'join ",", map { $j->{data}{rows}[0]{$_} } qw(documentType documents taxableValue cgst sgst igst tax total)')" \
	"tax_invoice,3,3500.00,270.00,270.00,90.00,630.00,4130.00" "gst-summary: May (1000 + 2000 + 500; the draft and June left out)"
is "$(jq_ gst 'join ",", map { $j->{data}{totals}[0]{$_} } qw(currency netTaxableValue netTax netTotal)')" "INR,3500.00,630.00,4130.00" "gst-summary: totals"
is "$(req gst_june GET "/api/reports/gst-summary?month=${Y}-06" "$T_ADMIN")" 200 "gst-summary: June"
is "$(jq_ gst_june '$j->{data}{rows}[0]{total}')" "118.00" "gst-summary: June = 118.00"
is "$(req gst_cust GET "/api/reports/gst-summary?month=${Y}-05" "$T_A")" 403 "gst-summary: a customer -> 403"
is "$(req gst_res GET "/api/reports/gst-summary?month=${Y}-05" "$T_RES")" 403 "gst-summary: a reseller -> 403"
is "$(req gst_none GET "/api/reports/gst-summary?month=${Y}-05")" 401 "gst-summary: no token -> 401"
is "$(req gst_bad GET "/api/reports/gst-summary?month=${Y}-13" "$T_ADMIN")" 422 "gst-summary: month 13 -> 422"
is "$(req gst_missing GET "/api/reports/gst-summary" "$T_ADMIN")" 422 "gst-summary: month missing -> 422"
is "$(req gst_inj GET "/api/reports/gst-summary?month=${Y}-05%27%20OR%201%3D1--" "$T_ADMIN")" 422 "gst-summary: injection -> 422"

is "$(req gstr1 GET "/api/reports/gstr1?month=${Y}-05" "$T_ADMIN")" 200 "gstr1: staff -> 200"
is "$(jq_ gstr1 'join ",", map { $_->{recipientGstin} . ":" . $_->{taxableValue} . ":" . $_->{cgst} . ":" . $_->{sgstUtgst} . ":" . $_->{invoiceValue} } @{$j->{data}{b2b}}')" \
	"29AAGCB7383J1Z4:2000.00:180.00:180.00:2360.00" "gstr1: b2b = B's invoice"
is "$(jq_ gstr1 'join ",", map { $_->{supplyType} . ":" . $_->{placeOfSupply} . ":" . $_->{taxableValue} . ":" . $_->{igst} . ":" . $_->{cgst} } @{$j->{data}{b2cs}}')" \
	"INTER:27-Maharashtra:500.00:90.00:0.00,INTRA:29-Karnataka:1000.00:0.00:90.00" "gstr1: b2cs = D (inter-State) and A (intra-State)"
is "$(jq_ gstr1 'scalar(@{$j->{data}{b2cl}}) . "," . scalar(@{$j->{data}{cdnr}})')" "0,0" "gstr1: no b2cl, no notes"
is "$(jq_ gstr1 'join ",", map { $_->{recipientType} . ":" . $_->{taxableValue} } @{$j->{data}{hsn}}')" "B2B:2000.00,B2C:1500.00" "gstr1: hsn split B2B / B2C"
is "$(req gstr1_cust GET "/api/reports/gstr1?month=${Y}-05" "$T_B")" 403 "gstr1: a customer -> 403"
is "$(req gstr1_none GET "/api/reports/gstr1?month=${Y}-05")" 401 "gstr1: no token -> 401"
is "$(req gstr1_bad GET "/api/reports/gstr1?month=May" "$T_ADMIN")" 422 "gstr1: bad month -> 422"

is "$(req rev GET "/api/reports/revenue?from=${Y}-05-01&to=${Y}-06-30" "$T_SUPPORT")" 200 "revenue: staff -> 200"
is "$(jq_ rev 'join ";", map { my $m = $_; join ",", map { $m->{$_} } qw(month invoices invoicedTotal netTaxable netTax netTotal amountPaid) } @{$j->{data}{months}}')" \
	"${Y}-05-01,3,4130.00,3500.00,630.00,4130.00,500.00;${Y}-06-01,1,118.00,100.00,18.00,118.00,0.00" "revenue: by month"
is "$(jq_ rev 'join ",", map { $j->{data}{totals}[0]{$_} } qw(currency invoices netTotal amountPaid)')" "INR,4,4248.00,500.00" "revenue: totals"
is "$(req rev_may GET "/api/reports/revenue?from=${Y}-05-11&to=${Y}-05-31" "$T_ADMIN")" 200 "revenue: from inside May"
is "$(jq_ rev_may '$j->{data}{months}[0]{netTotal}')" "2950.00" "revenue: 2360 + 590 (A's 1180 of 05-10 left out)"
is "$(req rev_cust GET "/api/reports/revenue?from=${Y}-05-01&to=${Y}-06-30" "$T_A")" 403 "revenue: a customer -> 403"
is "$(req rev_none GET "/api/reports/revenue?from=${Y}-05-01&to=${Y}-06-30")" 401 "revenue: no token -> 401"
is "$(req rev_bad GET "/api/reports/revenue?from=${Y}-06-30&to=${Y}-05-01" "$T_ADMIN")" 422 "revenue: from after to -> 422"
is "$(req rev_missing GET "/api/reports/revenue" "$T_ADMIN")" 422 "revenue: from and to required -> 422"
is "$(req rev_inj GET "/api/reports/revenue?from=1%3BDROP%20TABLE%20x&to=${Y}-01-01" "$T_ADMIN")" 422 "revenue: injection -> 422"

ACTOR=$(as_postgres -c "SELECT gen_random_uuid()")
as_postgres >/dev/null <<SQL
INSERT INTO balatrix.audit_log (actor_user_id, actor_role, action, entity_type, entity_id)
VALUES ('$ACTOR', 'admin', 'POST /api/things', 'thing', 't1'),
       ('$ACTOR', 'admin', 'POST /api/things', 'thing', 't2'),
       ('$ACTOR', 'admin', 'DELETE /api/things/:id', 'thing', 't1');
SQL
is "$(req audit GET "/api/reports/audit-log?actor=$ACTOR" "$T_ADMIN")" 200 "audit-log: admin -> 200"
is "$(jq_ audit '$j->{data}{pagination}{total} . ":" . join ",", map { $_->{action} . "/" . $_->{entityId} } @{$j->{data}{entries}}')" \
	"3:DELETE /api/things/:id/t1,POST /api/things/t2,POST /api/things/t1" "audit-log: the actor's rows, newest first"
is "$(req audit_f GET "/api/reports/audit-log?actor=$ACTOR&action=delete&entity=thing&entityId=t1&from=$TODAY" "$T_SUPER")" 200 "audit-log: filters"
is "$(jq_ audit_f '$j->{data}{pagination}{total}')" 1 "audit-log: ... one row"
is "$(req audit_staff GET "/api/reports/audit-log?entity=/api/customers/:id/suspend" "$T_ADMIN")" 200 "audit-log: staff mutations are logged"
is "$(jq_ audit_staff '$j->{data}{pagination}{total} >= 1 ? "yes" : "no"')" yes "audit-log: ... the suspend is there"
is "$(req audit_sup GET "/api/reports/audit-log" "$T_SUPPORT")" 403 "audit-log: support -> 403"
is "$(req audit_cust GET "/api/reports/audit-log" "$T_A")" 403 "audit-log: a customer -> 403"
is "$(req audit_none GET "/api/reports/audit-log")" 401 "audit-log: no token -> 401"
is "$(req audit_bad GET "/api/reports/audit-log?actor=%27%20OR%201%3D1--" "$T_ADMIN")" 422 "audit-log: a non-UUID actor -> 422"
is "$(req audit_inj GET "/api/reports/audit-log?actor=$ACTOR&action=%27%20OR%201%3D1--" "$T_ADMIN")" 200 "audit-log: injection in action"
is "$(jq_ audit_inj '$j->{data}{pagination}{total}')" 0 "audit-log: ... matches nothing"

# ---- the views are not a way around row-level security ---------------------------------------------------------
psql_api() { psql -X -q -At -v ON_ERROR_STOP=1 "$API_DB_URL" "$@"; }
is "$(psql_api -c "BEGIN" -c "SELECT count(*) FROM balatrix.gst_summary_monthly" -c "COMMIT" 2>&1 | tail -1)" 0 "views: balatrix_api without an identity sees nothing"
is "$(printf "BEGIN;\nSELECT FROM balatrix.set_identity('%s');\nSELECT coalesce(sum(total), 0) FROM balatrix.gst_summary_monthly WHERE month = '${Y}-05-01';\nSELECT count(*) FROM balatrix.gstr1_b2b WHERE month = '${Y}-05-01';\nCOMMIT;\n" "$T_A" | psql_api 2>&1 | tr '\n' ' ')" \
	"1180.00 0 " "views: as customer A in raw SQL, only A's invoice (1180.00) and no b2b row of B"
is "$(psql_api -c "BEGIN" -c "SELECT FROM balatrix.set_identity('$T_A')" -c "SELECT balatrix.api_delete_customer('$CB')" 2>&1 | grep -c 'Insufficient permissions')" 1 "raw SQL: a customer cannot close another customer"
is "$(psql_api -c "BEGIN" -c "SELECT FROM balatrix.set_identity('$T_A')" -c "SELECT balatrix.api_update_customer('$CB', '{\"name\":\"x\"}')" 2>&1 | grep -c 'Customer not found')" 1 "raw SQL: a customer cannot change another customer (and learns nothing)"

# ---- nothing changed by the injection attempts ----------------------------------------------------------------------
# Created above: 3 customers (staff-made, linked, injection-named), all active; E closed.
is "$(customer_count)" "$(awk -F/ '{ print $1 + 3 "/" $2 + 3 - 1 }' <<<"$COUNT_BEFORE")" "customers: exactly the 3 created, E no longer active"
is "$(as_postgres -c "SELECT to_regclass('balatrix.customers') IS NOT NULL")" t "customers: the table is still there"

api_finish

#!/bin/bash
# End-to-end: payments when the gateway misbehaves (failure injection of the stand-ins, tests/fakes/README.md).
#   500 then 200 on order / PaymentIntent creation -> one order / one PaymentIntent, one charge;
#   a timeout while the verify asks the gateway -> the payment stays pending (202), and the reconciler settles it;
#   a timeout on order creation whose effect happened -> the retry / the repeat returns the same single order;
#   a refund whose answer is lost (connection dropped after the effect) -> retried with the same key: one refund.
# GATEWAY_TIMEOUT_MS=1000 (each attempt), RECONCILE_INTERVAL_MS=300, RECONCILE_AFTER_SECONDS=8 (longer than a
# verify's three timed-out attempts, so the verify's own answer is seen first). Faults name the one payment they
# are for: the reconciler keeps asking about the others.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/tap.sh"
. "$HERE/lib/api.sh"
. "$HERE/lib/fakes.sh"

RZP_KEY_SECRET=rzp_test_secret_NOT_REAL
start_fake rzp fake_razorpay.py
RZP_PORT=$FAKE_PORT
start_fake stripe fake_stripe.py
STRIPE_PORT=$FAKE_PORT
API_SIDECAR_ENV=(RAZORPAY_KEY_ID=rzp_test_FakeKeyId000001 RAZORPAY_KEY_SECRET=$RZP_KEY_SECRET
	RAZORPAY_API_BASE=http://127.0.0.1:$RZP_PORT STRIPE_SECRET_KEY=sk_test_FakeSecretKey0000000000
	STRIPE_API_BASE=http://127.0.0.1:$STRIPE_PORT GATEWAY_TIMEOUT_MS=1000 RECONCILE_INTERVAL_MS=300
	RECONCILE_AFTER_SECONDS=8 OUTBOX_ENABLED=false)
api_init
S=$(uniq_suffix)
as_postgres -c "SELECT balatrix.install_default_catalogue()" >/dev/null

pl() { perl -MJSON::PP -e 'my $j = JSON::PP->new->decode(join("", <STDIN>)); my $v = eval $ARGV[0]; print defined $v ? $v : "null"' "$1"; }
req_key() { # req_key NAME METHOD PATH TOKEN BODY KEY: status (with an Idempotency-Key header)
	curl -sS --max-time 30 -o "$WORK/$1.body" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $4" \
		-H 'Content-Type: application/json' -H "Idempotency-Key: $6" --data-binary "$5" "$BASE$3" 2>"$WORK/$1.curl" || echo 000
}
fault() { fake "$1" POST /__control/faults "$2" >/dev/null; }
requests() { # requests FAKE METHOD PATH_PREFIX: how many such requests the fake saw
	fake "$1" GET "/__control/requests?method=$2&path_prefix=$3" | pl '$j->{count}'
}
new_buyer() { # new_buyer NAME: sets <NAME>_CUST <NAME>_ACC <NAME>_TOKEN
	local ids
	read -r -a ids <<<"$(new_customer "$1.$S@example.in")"
	printf -v "${1}_CUST" %s "${ids[1]}"
	printf -v "${1}_ACC" %s "${ids[2]}"
	printf -v "${1}_TOKEN" %s "$(token_for "${ids[0]}" customer)"
}
wait_status() { # wait_status PAYMENT STATUS SECONDS: 0 once the payment has STATUS
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[[ $(as_postgres -c "SELECT status FROM balatrix.payments WHERE id = '$1'") == "$2" ]] && return 0
		sleep 0.1
	done
	return 1
}
checkout() { # checkout NAME TOKEN ACCOUNT GATEWAY: status
	req_key "$1" POST /api/payments/checkout "$2" "{\"accountId\":\"$3\",\"planCode\":\"STARTER\",\"gateway\":\"$4\"}" "chk-$1-$S"
}

# ---- 500 then 200: one order, one charge ---------------------------------------------------------------------
new_buyer a
fault rzp '{"mode":"status","status":500,"path_prefix":"/v1/orders","method":"POST","count":1}'
st=$(checkout a "$a_TOKEN" "$a_ACC" razorpay)
is "$st" 201 "Razorpay answers 500, then 200: the checkout succeeds (201)"
A_PAY=$(jq_ a '$j->{data}{payment}{id}')
A_ORDER=$(jq_ a '$j->{data}{checkout}{orderId}')
A_NUMBER=$(as_postgres -c "SELECT payment_number FROM balatrix.payments WHERE id = '$A_PAY'")
is "$(requests rzp POST /v1/orders)" 2 "two order requests reached Razorpay (the 500 and the retry)"
is "$(fake rzp GET /__control/state | pl "scalar grep { \$_->{receipt} eq '$A_NUMBER' } values %{\$j->{orders}}")" 1 "... and one order exists"
PAID=$(fake rzp POST "/__control/orders/$A_ORDER/pay" '{"status":"captured"}')
A_RZP_PAY=$(echo "$PAID" | pl '$j->{razorpay_payment_id}')
st=$(req a_verify POST "/api/payments/$A_PAY/verify" "$a_TOKEN" "{\"razorpay_order_id\":\"$A_ORDER\",\"razorpay_payment_id\":\"$(echo "$PAID" | pl '$j->{razorpay_payment_id}')\",\"razorpay_signature\":\"$(echo "$PAID" | pl '$j->{razorpay_signature}')\"}")
is "$st" 200 "verified"
is "$(as_postgres -c "SELECT count(*) || ' ' || string_agg(status, ',') FROM balatrix.payments WHERE customer_id = '$a_CUST'") $(as_postgres -c "SELECT count(*) FROM balatrix.ledger WHERE customer_id = '$a_CUST' AND entry_type = 'payment'")" \
	"1 captured 1" "one charge: one captured payment, one payment ledger entry"

new_buyer b
fault stripe '{"mode":"status","status":500,"path_prefix":"/v1/payment_intents","method":"POST","count":1}'
st=$(checkout b "$b_TOKEN" "$b_ACC" stripe)
is "$st" 201 "Stripe answers 500, then 200: the checkout succeeds (201)"
B_PAY=$(jq_ b '$j->{data}{payment}{id}')
is "$(fake stripe GET "/__control/requests?method=POST&path_prefix=/v1/payment_intents" | pl 'join ",", map { $_->{headers}{"idempotency-key"} } @{$j->{items}}')" \
	"pay_$B_PAY,pay_$B_PAY" "both requests carried the same Idempotency-Key"
is "$(fake stripe GET /__control/state | pl "scalar grep { (\$_->{metadata}{payment_id} // '') eq '$B_PAY' } values %{\$j->{payment_intents}}")" 1 \
	"... and one PaymentIntent exists"

# ---- a timeout while verifying: pending, then settled by the reconciler -------------------------------------------
new_buyer c
st=$(checkout c "$c_TOKEN" "$c_ACC" razorpay)
C_PAY=$(jq_ c '$j->{data}{payment}{id}')
C_ORDER=$(jq_ c '$j->{data}{checkout}{orderId}')
PAID=$(fake rzp POST "/__control/orders/$C_ORDER/pay" '{"status":"captured"}')
C_RZP_PAY=$(echo "$PAID" | pl '$j->{razorpay_payment_id}')
fault rzp "{\"mode\":\"delay\",\"delay_ms\":2500,\"path_prefix\":\"/v1/payments/$C_RZP_PAY\",\"method\":\"GET\",\"count\":3}"
st=$(req c_verify POST "/api/payments/$C_PAY/verify" "$c_TOKEN" "{\"razorpay_order_id\":\"$C_ORDER\",\"razorpay_payment_id\":\"$(echo "$PAID" | pl '$j->{razorpay_payment_id}')\",\"razorpay_signature\":\"$(echo "$PAID" | pl '$j->{razorpay_signature}')\"}")
is "$st" 202 "the gateway times out (3 attempts of 1 s): verify answers 202"
is "$(jq_ c_verify '$j->{data}{status}')" pending "... and the payment stays pending"
wait_status "$C_PAY" captured 20
ok $? "the reconciler settles it once the gateway answers again"
is "$(as_postgres -c "SELECT metadata->>'captured_via' FROM balatrix.payments WHERE id = '$C_PAY'") $(as_postgres -c "SELECT status FROM balatrix.invoices WHERE customer_id = '$c_CUST'") $(as_postgres -c "SELECT status FROM balatrix.subscriptions WHERE customer_id = '$c_CUST'")" \
	"reconcile paid active" "captured by the reconciler: invoice paid, subscription active"

new_buyer d
st=$(checkout d "$d_TOKEN" "$d_ACC" stripe)
D_PAY=$(jq_ d '$j->{data}{payment}{id}')
D_PI=$(jq_ d '$j->{data}{checkout}{paymentIntentId}')
fake stripe POST "/__control/payment_intents/$D_PI/succeed" '{}' >/dev/null
fault stripe "{\"mode\":\"delay\",\"delay_ms\":2500,\"path_prefix\":\"/v1/payment_intents/$D_PI\",\"method\":\"GET\",\"count\":3}"
st=$(req d_verify POST "/api/payments/$D_PAY/verify" "$d_TOKEN" "")
is "$st $(jq_ d_verify '$j->{data}{status}')" "202 pending" "Stripe times out on verify: 202, pending"
wait_status "$D_PAY" captured 20
ok $? "the reconciler settles the Stripe payment too"

# ---- a timeout on order creation after its effect: the repeat finds the same order --------------------------------
new_buyer e
fault rzp '{"mode":"delay","delay_ms":2500,"phase":"after","path_prefix":"/v1/orders","method":"POST","count":3}'
st=$(checkout e "$e_TOKEN" "$e_ACC" razorpay)
# Answered 202 when every attempt timed out, 201 when a retry (the same receipt) already got the order back.
ok "$([[ $st == 201 || $st == 202 ]]; echo $?)" "order creation times out after taking effect: checkout answers 201 or 202 ($st)"
E_PAY=$(jq_ e '$j->{data}{payment}{id}')
E_NUMBER=$(as_postgres -c "SELECT payment_number FROM balatrix.payments WHERE id = '$E_PAY'")
st=$(checkout e "$e_TOKEN" "$e_ACC" razorpay)
is "$st $(jq_ e '$j->{data}{payment}{id}')" "201 $E_PAY" "the repeat with the same Idempotency-Key -> 201, the same payment"
is "$(fake rzp GET /__control/state | pl "scalar grep { \$_->{receipt} eq '$E_NUMBER' } values %{\$j->{orders}}")" 1 "one order at Razorpay for it"

# ---- a refund whose answer is lost: one refund ---------------------------------------------------------------------
ADMIN_TOKEN=$(token_for "$(new_staff admin "admin.faults.$S@example.in")" admin)
fault rzp "{\"mode\":\"drop\",\"phase\":\"after\",\"path_prefix\":\"/v1/payments/$A_RZP_PAY/refund\",\"method\":\"POST\",\"count\":1}"
st=$(req_key a_refund POST "/api/payments/$A_PAY/refund" "$ADMIN_TOKEN" '{"amount":"50.00","reason":"lost answer"}' "refund-a-$S")
is "$st" 201 "the refund's answer is dropped once: retried with the same key -> 201"
is "$(fake rzp GET /__control/state | pl "scalar grep { \$_->{amount} == 5000 } values %{\$j->{refunds}}")" 1 "one refund of 5000 paise at Razorpay"
is "$(as_postgres -c "SELECT count(*) || ' ' || string_agg(status, ',') FROM balatrix.refunds WHERE payment_id = '$A_PAY'")" "1 processed" "one refund processed in the database"
# ---- the gateway refuses to create the order: the payment fails, a new checkout pays the same invoice -------------
new_buyer f
fault rzp '{"mode":"status","status":400,"path_prefix":"/v1/orders","method":"POST","count":1}'
before=$(requests rzp POST /v1/orders)
st=$(checkout f "$f_TOKEN" "$f_ACC" razorpay)
is "$st" 422 "Razorpay refuses the order (400): checkout answers 422"
is "$(( $(requests rzp POST /v1/orders) - before )) $(as_postgres -c "SELECT status FROM balatrix.payments WHERE customer_id = '$f_CUST'")" \
	"1 failed" "a refusal is not retried (one request), and the payment is failed (the reconciler will not ask again)"
st=$(req_key f2 POST /api/payments/checkout "$f_TOKEN" "{\"accountId\":\"$f_ACC\",\"planCode\":\"STARTER\",\"gateway\":\"razorpay\"}" "chk-f-again-$S")
is "$st" 201 "a new checkout of the same plan -> 201"
is "$(as_postgres -c "SELECT count(DISTINCT invoice_id) || ' ' || count(*) || ' ' || count(*) FILTER (WHERE status = 'pending') FROM balatrix.payments WHERE customer_id = '$f_CUST'") $(as_postgres -c "SELECT count(*) FROM balatrix.subscriptions WHERE customer_id = '$f_CUST'")" \
	"1 2 1 1" "... a second payment of the same invoice, one subscription"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.check_ledger()")" 0 "every balance equals its ledger"

api_finish

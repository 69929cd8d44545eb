#!/bin/bash
# End-to-end: payments through the stand-in gateways (tests/fakes: fake Razorpay, fake Stripe, real HTTP).
# For each gateway: checkout -> the customer pays at the gateway -> verify and/or webhook -> invoice paid, ledger
# right, subscription active; the same webhook 3 times -> one payment; webhook before and after the client's
# verify -> the same end state. Refunds (partial, then the rest) with their credit notes; wallet top-up; paying an
# invoice; a failed payment scheduling its retry; saved payment methods (tokens only). The reconciler is kept out
# of the way here (RECONCILE_AFTER_SECONDS=3600): every outcome below comes from the path under test.
# Webhook signatures are made here with perl's Digest::SHA, independently of the sidecar's code.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/tap.sh"
. "$HERE/lib/api.sh"
. "$HERE/lib/fakes.sh"

RZP_KEY_ID=rzp_test_FakeKeyId000001
RZP_KEY_SECRET=rzp_test_secret_NOT_REAL
RZP_WEBHOOK_SECRET="rzp-webhook-$(uniq_suffix)"
STRIPE_KEY=sk_test_FakeSecretKey0000000000
STRIPE_WEBHOOK_SECRET="whsec_$(uniq_suffix)"
start_fake rzp fake_razorpay.py
RZP_PORT=$FAKE_PORT
start_fake stripe fake_stripe.py
STRIPE_PORT=$FAKE_PORT
API_SIDECAR_ENV=(RAZORPAY_KEY_ID=$RZP_KEY_ID RAZORPAY_KEY_SECRET=$RZP_KEY_SECRET RAZORPAY_WEBHOOK_SECRET=$RZP_WEBHOOK_SECRET
	RAZORPAY_API_BASE=http://127.0.0.1:$RZP_PORT STRIPE_SECRET_KEY=$STRIPE_KEY STRIPE_WEBHOOK_SECRET=$STRIPE_WEBHOOK_SECRET
	STRIPE_API_BASE=http://127.0.0.1:$STRIPE_PORT GATEWAY_TIMEOUT_MS=3000 RECONCILE_AFTER_SECONDS=3600 OUTBOX_ENABLED=false)
api_init
S=$(uniq_suffix)
as_postgres -c "SELECT balatrix.install_default_catalogue()" >/dev/null

hmac_hex() { perl -MDigest::SHA=hmac_sha256_hex -e 'print hmac_sha256_hex($ARGV[0], $ARGV[1])' "$1" "$2"; }
post_raw() { # post_raw NAME PATH BODY HEADER...: status
	local name=$1 path=$2 body=$3
	shift 3
	local args=(-sS --max-time 20 -o "$WORK/$name.body" -D "$WORK/$name.headers" -w '%{http_code}' -X POST
		-H 'Content-Type: application/json' --data-binary "$body")
	for h in "$@"; do args+=(-H "$h"); done
	curl "${args[@]}" "$BASE$path" 2>"$WORK/$name.curl" || echo 000
}
req_key() { # req_key NAME METHOD PATH TOKEN BODY KEY: status (with an Idempotency-Key header)
	curl -sS --max-time 20 -o "$WORK/$1.body" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $4" \
		-H 'Content-Type: application/json' -H "Idempotency-Key: $6" --data-binary "$5" "$BASE$3" 2>"$WORK/$1.curl" || echo 000
}
pl() { perl -MJSON::PP -e 'my $j = JSON::PP->new->decode(join("", <STDIN>)); my $v = eval $ARGV[0]; print defined $v ? $v : "null"' "$1"; }
# The event of `type` for `id` in a fake's event list, as compact JSON (the body a gateway would POST).
event_of() { # event_of FAKE TYPE FIELD VALUE
	fake "$1" GET /__control/events | perl -MJSON::PP -e '
		my ($type, $field, $value) = @ARGV; my $js = JSON::PP->new->canonical;
		my $all = $js->decode(join("", <STDIN>)); my $items = ref $all eq "ARRAY" ? $all : ($all->{items} // $all->{events} // []);
		for my $e (@$items) {
			my $t = $e->{event} // $e->{type}; next unless $t eq $type;
			my $o = $e->{payload} ? ($e->{payload}{payment}{entity} // $e->{payload}{refund}{entity}) : $e->{data}{object};
			next unless defined $o->{$field} && $o->{$field} eq $value;
			print $js->encode($e); exit 0;
		}
		exit 1' "$2" "$3" "$4"
}
rzp_webhook() { # rzp_webhook NAME BODY EVENT_ID: status
	post_raw "$1" /api/payments/webhooks/razorpay "$2" "X-Razorpay-Signature: $(hmac_hex "$2" "$RZP_WEBHOOK_SECRET")" "X-Razorpay-Event-Id: $3"
}
stripe_webhook() { # stripe_webhook NAME BODY: status
	local t
	t=$(date +%s)
	post_raw "$1" /api/payments/webhooks/stripe "$2" "Stripe-Signature: t=$t,v1=$(hmac_hex "$t.$2" "$STRIPE_WEBHOOK_SECRET")"
}
# One line that says everything about a customer's money: payment statuses, invoice statuses, subscription
# status, the ledger's entry types and amounts, the account balance.
end_state() { # end_state CUSTOMER_ID
	as_postgres -c "SELECT concat_ws(' | ',
	    (SELECT string_agg(p.purpose || ':' || p.status || ':' || p.amount, ',' ORDER BY p.created_at) FROM balatrix.payments p WHERE p.customer_id = '$1'),
	    (SELECT string_agg(i.document_type || ':' || i.status || ':' || i.total || ':' || i.amount_paid, ',' ORDER BY i.created_at) FROM balatrix.invoices i WHERE i.customer_id = '$1'),
	    (SELECT string_agg(s.status, ',') FROM balatrix.subscriptions s WHERE s.customer_id = '$1'),
	    (SELECT string_agg(l.entry_type || ':' || l.amount::numeric(14,2), ',' ORDER BY l.id) FROM balatrix.ledger l WHERE l.customer_id = '$1'),
	    (SELECT string_agg(a.balance::numeric(14,2)::text, ',') FROM balatrix.accounts a WHERE a.customer_id = '$1'))"
}
new_buyer() { # new_buyer NAME: sets <NAME>_USER <NAME>_CUST <NAME>_ACC <NAME>_TOKEN
	local ids
	read -r -a ids <<<"$(new_customer "$1.$S@example.in")"
	printf -v "${1}_USER" %s "${ids[0]}"
	printf -v "${1}_CUST" %s "${ids[1]}"
	printf -v "${1}_ACC" %s "${ids[2]}"
	printf -v "${1}_TOKEN" %s "$(token_for "${ids[0]}" customer)"
}
ADMIN=$(new_staff admin "admin.pay.$S@example.in")
ADMIN_TOKEN=$(token_for "$ADMIN" admin)

# ---- Razorpay: checkout, pay, verify; then the webhook 3 times ------------------------------------------------
new_buyer r1
st=$(req_key r1_checkout POST /api/payments/checkout "$r1_TOKEN" "{\"accountId\":\"$r1_ACC\",\"planCode\":\"STARTER\",\"gateway\":\"razorpay\"}" "chk-r1-$S")
is "$st" 201 "Razorpay checkout -> 201"
R1_PAY=$(jq_ r1_checkout '$j->{data}{payment}{id}')
R1_ORDER=$(jq_ r1_checkout '$j->{data}{checkout}{orderId}')
is "$(jq_ r1_checkout '$j->{data}{checkout}{keyId}')" "$RZP_KEY_ID" "the checkout carries the public key id"
is "$(jq_ r1_checkout '$j->{data}{checkout}{amount}')" 41182 "amount in paise: STARTER 349.00 + 18 % GST = 411.82"
is "$(jq_ r1_checkout '$j->{data}{payment}{amount}')" 411.82 "the payment is the invoice's total"
is "$(as_postgres -c "SELECT s.status || ' ' || i.status || ' ' || i.total FROM balatrix.subscriptions s JOIN balatrix.invoices i ON i.subscription_id = s.id WHERE s.customer_id = '$r1_CUST'")" \
	"pending issued 411.82" "before payment: subscription pending, its first invoice issued"
st=$(req_key r1_again POST /api/payments/checkout "$r1_TOKEN" "{\"accountId\":\"$r1_ACC\",\"planCode\":\"STARTER\",\"gateway\":\"razorpay\"}" "chk-r1-$S")
is "$st" 201 "the same checkout again (same Idempotency-Key) -> 201"
is "$(jq_ r1_again '$j->{data}{payment}{id}') $(jq_ r1_again '$j->{data}{checkout}{orderId}')" "$R1_PAY $R1_ORDER" "... the same payment and the same order"
is "$(fake rzp GET /__control/state | pl "scalar grep { \$_->{receipt} eq '$(as_postgres -c "SELECT payment_number FROM balatrix.payments WHERE id = '$R1_PAY'")' } values %{\$j->{orders}}")" 1 \
	"one order at Razorpay for the payment"
PAID=$(fake rzp POST "/__control/orders/$R1_ORDER/pay" '{"status":"captured"}')
R1_RZP_PAY=$(echo "$PAID" | pl '$j->{razorpay_payment_id}')
R1_SIG=$(echo "$PAID" | pl '$j->{razorpay_signature}')
is "$R1_SIG" "$(hmac_hex "$R1_ORDER|$R1_RZP_PAY" "$RZP_KEY_SECRET")" "the fake's checkout signature is HMAC(key_secret, order|payment)"
st=$(req r1_badsig POST "/api/payments/$R1_PAY/verify" "$r1_TOKEN" "{\"razorpay_order_id\":\"$R1_ORDER\",\"razorpay_payment_id\":\"$R1_RZP_PAY\",\"razorpay_signature\":\"$(hmac_hex "$R1_ORDER|$R1_RZP_PAY" wrong)\"}")
is "$st" 400 "verify with a wrong signature -> 400"
st=$(req r1_otherorder POST "/api/payments/$R1_PAY/verify" "$r1_TOKEN" "{\"razorpay_order_id\":\"order_Other$S\",\"razorpay_payment_id\":\"$R1_RZP_PAY\",\"razorpay_signature\":\"$(hmac_hex "order_Other$S|$R1_RZP_PAY" "$RZP_KEY_SECRET")\"}")
is "$st" 400 "verify naming another order (correctly signed for it) -> 400"
is "$(as_postgres -c "SELECT status FROM balatrix.payments WHERE id = '$R1_PAY'")" pending "refused verifies changed nothing"
new_buyer r9
st=$(req r9_verify POST "/api/payments/$R1_PAY/verify" "$r9_TOKEN" "{\"razorpay_order_id\":\"$R1_ORDER\",\"razorpay_payment_id\":\"$R1_RZP_PAY\",\"razorpay_signature\":\"$R1_SIG\"}")
is "$st" 404 "another customer cannot verify (or see) the payment -> 404"
st=$(req r1_verify POST "/api/payments/$R1_PAY/verify" "$r1_TOKEN" "{\"razorpay_order_id\":\"$R1_ORDER\",\"razorpay_payment_id\":\"$R1_RZP_PAY\",\"razorpay_signature\":\"$R1_SIG\"}")
is "$st" 200 "verify -> 200"
is "$(jq_ r1_verify '$j->{data}{status}')" captured "the payment is captured"
R1_STATE=$(end_state "$r1_CUST")
is "$R1_STATE" "subscription:captured:411.82 | tax_invoice:paid:411.82:411.82 | active | invoice:-411.82,payment:411.82 | 0.00" \
	"Razorpay purchase: invoice paid, ledger invoice -411.82 / payment +411.82, subscription active"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.check_ledger()")" 0 "every balance equals its ledger"
EV=$(event_of rzp payment.captured id "$R1_RZP_PAY")
for i in 1 2 3; do
	st=$(rzp_webhook r1_wh$i "$EV" "evt_r1_$S")
	is "$st" 200 "Razorpay payment.captured webhook after the verify, delivery $i -> 200"
done
is "$(jq_ r1_wh3 '$j->{data}{duplicate}')" true "the third delivery is recognised"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.payments WHERE customer_id = '$r1_CUST'") $(end_state "$r1_CUST")" "1 $R1_STATE" \
	"the same webhook 3 times: still one payment, the same end state"
is "$(as_postgres -c "SELECT status FROM balatrix.webhook_events WHERE event_id = 'evt_r1_$S'")" ignored "the webhook found it captured already (ignored)"
st=$(req r1_verify2 POST "/api/payments/$R1_PAY/verify" "$r1_TOKEN" "{\"razorpay_order_id\":\"$R1_ORDER\",\"razorpay_payment_id\":\"$R1_RZP_PAY\",\"razorpay_signature\":\"$R1_SIG\"}")
is "$st $(end_state "$r1_CUST")" "200 $R1_STATE" "verify again -> 200, nothing changes"

# ---- Razorpay: the webhook before the verify -> the same end state ---------------------------------------------
new_buyer r2
st=$(req_key r2_checkout POST /api/payments/checkout "$r2_TOKEN" "{\"accountId\":\"$r2_ACC\",\"planCode\":\"STARTER\",\"gateway\":\"razorpay\"}" "chk-r2-$S")
is "$st" 201 "second Razorpay checkout -> 201"
R2_PAY=$(jq_ r2_checkout '$j->{data}{payment}{id}')
R2_ORDER=$(jq_ r2_checkout '$j->{data}{checkout}{orderId}')
PAID=$(fake rzp POST "/__control/orders/$R2_ORDER/pay" '{"status":"captured"}')
R2_RZP_PAY=$(echo "$PAID" | pl '$j->{razorpay_payment_id}')
R2_SIG=$(echo "$PAID" | pl '$j->{razorpay_signature}')
EV=$(event_of rzp order.paid id "$R2_RZP_PAY")
st=$(rzp_webhook r2_wh "$EV" "evt_r2_$S")
is "$st" 200 "order.paid webhook before the verify -> 200"
is "$(as_postgres -c "SELECT status FROM balatrix.webhook_events WHERE event_id = 'evt_r2_$S'")" processed "the webhook captured the payment (processed)"
st=$(req r2_verify POST "/api/payments/$R2_PAY/verify" "$r2_TOKEN" "{\"razorpay_order_id\":\"$R2_ORDER\",\"razorpay_payment_id\":\"$R2_RZP_PAY\",\"razorpay_signature\":\"$R2_SIG\"}")
is "$st" 200 "the verify afterwards -> 200"
is "$(end_state "$r2_CUST")" "$R1_STATE" "webhook first, verify second: the same end state as verify first"
EV=$(event_of rzp payment.failed id "$R2_RZP_PAY" || echo "{\"entity\":\"event\",\"event\":\"payment.failed\",\"payload\":{\"payment\":{\"entity\":{\"id\":\"$R2_RZP_PAY\",\"order_id\":\"$R2_ORDER\",\"status\":\"failed\",\"error_code\":\"BAD_REQUEST_ERROR\",\"error_description\":\"late\"}}}}")
st=$(rzp_webhook r2_late "$EV" "evt_r2_late_$S")
is "$st $(end_state "$r2_CUST")" "200 $R1_STATE" "a payment.failed arriving after the capture (out of order) changes nothing"

# ---- Stripe: checkout, succeed, verify; webhook 3 times; webhook first ------------------------------------------
new_buyer s1
st=$(req_key s1_checkout POST /api/payments/checkout "$s1_TOKEN" "{\"accountId\":\"$s1_ACC\",\"planCode\":\"STARTER\",\"gateway\":\"stripe\"}" "chk-s1-$S")
is "$st" 201 "Stripe checkout -> 201"
S1_PAY=$(jq_ s1_checkout '$j->{data}{payment}{id}')
S1_PI=$(jq_ s1_checkout '$j->{data}{checkout}{paymentIntentId}')
ok "$([[ $(jq_ s1_checkout '$j->{data}{checkout}{clientSecret}') == ${S1_PI}_secret_* ]]; echo $?)" "the client gets the PaymentIntent's client secret"
is "$(fake stripe GET /__control/state | pl "\$j->{payment_intents}{'$S1_PI'}{amount} . ' ' . \$j->{payment_intents}{'$S1_PI'}{currency}")" "41182 inr" \
	"the PaymentIntent: 41182 paise in inr"
st=$(req s1_early POST "/api/payments/$S1_PAY/verify" "$s1_TOKEN" "")
is "$st" 202 "verify before the customer paid -> 202 (pending)"
fake stripe POST "/__control/payment_intents/$S1_PI/succeed" '{"payment_method":"pm_card_visa"}' >/dev/null
st=$(req s1_verify POST "/api/payments/$S1_PAY/verify" "$s1_TOKEN" "")
is "$st" 200 "Stripe verify after the payment -> 200"
is "$(end_state "$s1_CUST")" "$R1_STATE" "Stripe purchase: invoice paid, ledger right, subscription active"
EV=$(event_of stripe payment_intent.succeeded id "$S1_PI")
for i in 1 2 3; do
	st=$(stripe_webhook s1_wh$i "$EV")
	is "$st" 200 "Stripe payment_intent.succeeded, delivery $i -> 200"
done
is "$(as_postgres -c "SELECT count(*) FROM balatrix.payments WHERE customer_id = '$s1_CUST'") $(end_state "$s1_CUST")" "1 $R1_STATE" \
	"the same Stripe webhook 3 times: one payment, the same end state"
new_buyer s2
st=$(req_key s2_checkout POST /api/payments/checkout "$s2_TOKEN" "{\"accountId\":\"$s2_ACC\",\"planCode\":\"STARTER\",\"gateway\":\"stripe\"}" "chk-s2-$S")
S2_PAY=$(jq_ s2_checkout '$j->{data}{payment}{id}')
S2_PI=$(jq_ s2_checkout '$j->{data}{checkout}{paymentIntentId}')
fake stripe POST "/__control/payment_intents/$S2_PI/succeed" '{}' >/dev/null
st=$(stripe_webhook s2_wh "$(event_of stripe payment_intent.succeeded id "$S2_PI")")
is "$st" 200 "Stripe webhook before the verify -> 200"
st=$(req s2_verify POST "/api/payments/$S2_PAY/verify" "$s2_TOKEN" "")
is "$st $(end_state "$s2_CUST")" "200 $R1_STATE" "Stripe: webhook first, verify second -> the same end state"

# ---- Refunds: partial (credit note), the rest, repeat-safe ----------------------------------------------------
st=$(req r1_cust_refund POST "/api/payments/$R1_PAY/refund" "$r1_TOKEN" '{"amount":"100.00","reason":"goodwill"}')
is "$st" 403 "a customer cannot refund -> 403"
st=$(req_key r1_refund POST "/api/payments/$R1_PAY/refund" "$ADMIN_TOKEN" '{"amount":"100.00","reason":"goodwill"}' "refund-r1-partial-$S")
is "$st" 201 "partial refund of 100.00 -> 201"
is "$(jq_ r1_refund '$j->{data}{payment}{status}') $(jq_ r1_refund '$j->{data}{payment}{amountRefunded}')" "partially_refunded 100.00" "the payment is partially refunded"
is "$(as_postgres -c "SELECT status || ' ' || amount_paid || ' ' || amount_credited FROM balatrix.invoices WHERE customer_id = '$r1_CUST' AND document_type = 'tax_invoice'")" \
	"partially_refunded 311.82 100.00" "the invoice: partially_refunded, 311.82 paid and 100.00 credited"
is "$(as_postgres -c "SELECT status || ' ' || taxable_total || ' ' || tax_total || ' ' || round_off || ' ' || total FROM balatrix.invoices WHERE customer_id = '$r1_CUST' AND document_type = 'credit_note'")" \
	"issued 84.75 15.26 -0.01 100.00" "a credit note of exactly 100.00: taxable 84.75 + GST 15.26, round-off -0.01"
is "$(as_postgres -c "SELECT string_agg(entry_type || ':' || amount::numeric(14,2), ',' ORDER BY id) FROM balatrix.ledger WHERE customer_id = '$r1_CUST'")" \
	"invoice:-411.82,payment:411.82,credit_note:100.00,refund:-100.00" "the ledger: the credit note and the refund that pays it out"
st=$(req_key r1_refund_again POST "/api/payments/$R1_PAY/refund" "$ADMIN_TOKEN" '{"amount":"100.00","reason":"goodwill"}' "refund-r1-partial-$S")
is "$st" 201 "the same refund again (same Idempotency-Key) -> 201"
is "$(fake rzp GET /__control/state | pl "scalar grep { \$_->{payment_id} eq '$R1_RZP_PAY' } values %{\$j->{refunds}}") $(as_postgres -c "SELECT count(*) FROM balatrix.refunds WHERE payment_id = '$R1_PAY'")" \
	"1 1" "... one refund at Razorpay, one in the database"
st=$(req_key r1_refund_over POST "/api/payments/$R1_PAY/refund" "$ADMIN_TOKEN" '{"amount":"400.00","reason":"too much"}' "refund-r1-over-$S")
is "$st" 422 "refunding more than is left -> 422"
st=$(req_key r1_refund_rest POST "/api/payments/$R1_PAY/refund" "$ADMIN_TOKEN" '{"reason":"cancelled"}' "refund-r1-rest-$S")
is "$st" 201 "refund of the rest -> 201"
is "$(end_state "$r1_CUST")" \
	"subscription:refunded:411.82 | tax_invoice:refunded:411.82:0.00,credit_note:issued:100.00:0.00,credit_note:issued:311.82:0.00 | active | invoice:-411.82,payment:411.82,credit_note:100.00,refund:-100.00,credit_note:311.82,refund:-311.82 | 0.00" \
	"fully refunded: payment and invoice refunded, two credit notes, balance 0"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.check_ledger()")" 0 "every balance still equals its ledger"
st=$(req_key s1_refund POST "/api/payments/$S1_PAY/refund" "$ADMIN_TOKEN" '{"amount":"11.80","reason":"partial"}' "refund-s1-partial-$S")
is "$st" 201 "Stripe partial refund -> 201"
is "$(fake stripe GET /__control/state | pl "join ',', map { \$_->{amount} } grep { \$_->{payment_intent} eq '$S1_PI' } values %{\$j->{refunds}}")" 1180 \
	"Stripe holds one refund of 1180 paise"
is "$(as_postgres -c "SELECT i.status || ' ' || n.total FROM balatrix.invoices i JOIN balatrix.invoices n ON n.original_invoice_id = i.id WHERE i.customer_id = '$s1_CUST'")" \
	"partially_refunded 11.80" "its invoice partially refunded, a credit note of 11.80"

# ---- Wallet top-up ----------------------------------------------------------------------------------------------
new_buyer w1
st=$(req_key w1_topup POST /api/payments "$w1_TOKEN" "{\"accountId\":\"$w1_ACC\",\"amount\":\"500.00\",\"gateway\":\"razorpay\"}" "topup-w1-$S")
is "$st" 201 "top-up of 500.00 -> 201"
W1_PAY=$(jq_ w1_topup '$j->{data}{payment}{id}')
W1_ORDER=$(jq_ w1_topup '$j->{data}{checkout}{orderId}')
PAID=$(fake rzp POST "/__control/orders/$W1_ORDER/pay" '{"status":"captured"}')
st=$(req w1_verify POST "/api/payments/$W1_PAY/verify" "$w1_TOKEN" "{\"razorpay_order_id\":\"$W1_ORDER\",\"razorpay_payment_id\":\"$(echo "$PAID" | pl '$j->{razorpay_payment_id}')\",\"razorpay_signature\":\"$(echo "$PAID" | pl '$j->{razorpay_signature}')\"}")
is "$st" 200 "top-up verified"
is "$(end_state "$w1_CUST")" "top_up:captured:500.00 | top_up:500.00 | 500.00" "the wallet holds 500.00 (one top_up ledger entry)"
st=$(req_key w1_topup_bad POST /api/payments "$w1_TOKEN" "{\"accountId\":\"$w1_ACC\",\"amount\":\"0.50\",\"gateway\":\"razorpay\"}" "topup-w1-small-$S")
is "$st" 422 "a top-up below 1.00 -> 422"
as_postgres -c "UPDATE balatrix.accounts SET account_type = 'postpaid' WHERE id = '$r9_ACC'" >/dev/null
st=$(req_key r9_topup POST /api/payments "$r9_TOKEN" "{\"accountId\":\"$r9_ACC\",\"amount\":\"10.00\",\"gateway\":\"razorpay\"}" "topup-r9-$S")
is "$st" 409 "a postpaid account takes no top-up -> 409"

# ---- Paying an invoice (Stripe) and a failed payment with its retry schedule ------------------------------------
INV=$(as_postgres -c "SELECT balatrix.create_invoice_draft('$r9_ACC')" | head -1)
as_postgres -c "SELECT balatrix.add_invoice_line('$INV', 'adjustment', 'Setup', 1, 1000.00, '998413')" >/dev/null
as_postgres -c "SELECT balatrix.issue_invoice('$INV')" >/dev/null
st=$(req_key r9_pay POST /api/payments "$r9_TOKEN" "{\"invoiceId\":\"$INV\",\"gateway\":\"stripe\"}" "inv-r9-$S")
is "$st" 201 "paying an invoice through Stripe -> 201"
R9_PAY=$(jq_ r9_pay '$j->{data}{payment}{id}')
R9_PI=$(jq_ r9_pay '$j->{data}{checkout}{paymentIntentId}')
is "$(jq_ r9_pay '$j->{data}{payment}{amount}')" 1180.00 "the payment is what is outstanding (1000.00 + 18 %)"
st=$(req_key r9_pay2 POST /api/payments "$r9_TOKEN" "{\"invoiceId\":\"$INV\",\"gateway\":\"stripe\"}" "inv-r9-second-$S")
is "$st" 409 "a second payment while one is in progress -> 409"
fake stripe POST "/__control/payment_intents/$R9_PI/fail" '{"decline_code":"insufficient_funds"}' >/dev/null
st=$(req r9_verify POST "/api/payments/$R9_PAY/verify" "$r9_TOKEN" "")
is "$st" 200 "verify of a declined payment -> 200 (its state is known)"
is "$(jq_ r9_verify '$j->{data}{status}') $(jq_ r9_verify '$j->{data}{failureCode}')" "failed insufficient_funds" "the payment failed with the decline code"
is "$(as_postgres -c "SELECT round(extract(epoch FROM next_retry_at - failed_at) / 3600) FROM balatrix.payments WHERE id = '$R9_PAY'")" 2 \
	"the first failure schedules a retry 2 hours later"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.event_outbox WHERE event_type = 'payment.failed' AND aggregate_id = '$R9_PAY'")" 1 "a payment.failed event"
st=$(req_key r9_pay3 POST /api/payments "$r9_TOKEN" "{\"invoiceId\":\"$INV\",\"gateway\":\"stripe\"}" "inv-r9-third-$S")
R9_PAY2=$(jq_ r9_pay3 '$j->{data}{payment}{id}')
fake stripe POST "/__control/payment_intents/$(jq_ r9_pay3 '$j->{data}{checkout}{paymentIntentId}')/succeed" '{}' >/dev/null
st=$(req r9_verify2 POST "/api/payments/$R9_PAY2/verify" "$r9_TOKEN" "")
is "$st $(as_postgres -c "SELECT status FROM balatrix.invoices WHERE id = '$INV'")" "200 paid" "a new payment after the failure pays the invoice"
is "$(as_postgres -c "SELECT next_retry_at IS NULL FROM balatrix.payments WHERE id = '$R9_PAY'")" t "... and the failed one's retry is called off"

# ---- Saved payment methods: gateway tokens only -----------------------------------------------------------------
st=$(req pm_card POST /api/payment-methods "$s1_TOKEN" '{"gateway":"stripe","gatewayMethodId":"4111111111111111","type":"card"}')
is "$st" 422 "a card number instead of a token -> 422"
st=$(req pm_ok POST /api/payment-methods "$s1_TOKEN" '{"gateway":"stripe","gatewayMethodId":"pm_card_visa_'$S'","gatewayCustomerId":"cus_Test1","type":"card","brand":"visa","last4":"4242","expiryMonth":12,"expiryYear":2030}')
is "$st" 201 "a Stripe pm_ token -> 201"
is "$(jq_ pm_ok '$j->{data}{isDefault}')" true "the first saved method is the default"
st=$(req pm_list GET /api/payment-methods "$s1_TOKEN")
is "$st $(jq_ pm_list 'scalar @{$j->{data}}')" "200 1" "the customer lists it"
st=$(req pm_other GET /api/payment-methods "$r1_TOKEN")
is "$st $(jq_ pm_other 'scalar @{$j->{data}}')" "200 0" "another customer sees none of it"
st=$(req pm_del DELETE "/api/payment-methods/$(jq_ pm_ok '$j->{data}{id}')" "$r1_TOKEN")
is "$st" 404 "another customer cannot remove it -> 404"
st=$(req pm_del2 DELETE "/api/payment-methods/$(jq_ pm_ok '$j->{data}{id}')" "$s1_TOKEN")
is "$st" 200 "the owner removes it"

# ---- Reading ------------------------------------------------------------------------------------------------------
st=$(req list_r1 GET /api/payments "$r1_TOKEN")
is "$st $(jq_ list_r1 '$j->{data}{pagination}{total}')" "200 1" "a customer lists its own payments"
st=$(req get_r1 GET "/api/payments/$R1_PAY" "$r1_TOKEN")
is "$st $(jq_ get_r1 'scalar @{$j->{data}{refunds}}')" "200 2" "a payment shows its refunds"
st=$(req get_other GET "/api/payments/$R1_PAY" "$s1_TOKEN")
is "$st" 404 "another customer's payment -> 404"
st=$(req bad_body POST /api/payments/checkout "$r1_TOKEN" '{"accountId":"x","planCode":"STARTER","gateway":"paypal"}')
is "$st" 422 "checkout with a bad account id and an unknown gateway -> 422"
# ---- Customer webhook endpoints ------------------------------------------------------------------------------------
st=$(req wh_new POST /api/webhook-endpoints "$r1_TOKEN" '{"url":"https://hooks.example.in/balatrix","eventTypes":["invoice.issued","payment.captured"],"description":"ERP"}')
is "$st" 201 "a customer registers a webhook endpoint -> 201"
ok "$([[ $(jq_ wh_new '$j->{data}{secret}') =~ ^whsec_[0-9a-f]{64}$ ]]; echo $?)" "the answer shows its signing secret (whsec_ + 64 hex), once"
WH=$(jq_ wh_new '$j->{data}{id}')
st=$(req wh_list GET /api/webhook-endpoints "$r1_TOKEN")
is "$st $(jq_ wh_list 'scalar @{$j->{data}}') $(jq_ wh_list 'exists $j->{data}[0]{secret} ? "secret" : "no-secret"') $(jq_ wh_list '$j->{data}[0]{eventTypes}[1]')" \
	"200 1 no-secret payment.captured" "the list shows it without the secret"
st=$(req wh_other GET /api/webhook-endpoints "$s1_TOKEN")
is "$st $(jq_ wh_other 'scalar @{$j->{data}}')" "200 0" "another customer sees none"
st=$(req wh_user POST /api/webhook-endpoints "$r1_TOKEN" '{"url":"https://hooks.example.in/x","eventTypes":["user.password_reset_requested"]}')
is "$st" 422 "user.* events (they carry tokens) cannot be subscribed -> 422"
st=$(req wh_ftp POST /api/webhook-endpoints "$r1_TOKEN" '{"url":"ftp://hooks.example.in/x"}')
is "$st" 422 "a URL that is not http(s) -> 422"
st=$(req wh_del_other DELETE "/api/webhook-endpoints/$WH" "$s1_TOKEN")
is "$st" 404 "another customer cannot delete it -> 404"
st=$(req wh_del DELETE "/api/webhook-endpoints/$WH" "$r1_TOKEN")
is "$st" 200 "the owner deletes it"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.webhook_endpoints WHERE id = '$WH'")" 0 "... and it is gone (it receives nothing any more)"

is "$(as_postgres -c "SELECT count(*) FROM balatrix.check_ledger()")" 0 "at the end every balance equals its ledger"

api_finish

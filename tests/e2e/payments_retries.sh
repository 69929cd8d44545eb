#!/bin/bash
# End-to-end: a failed invoice payment retried on the database's schedule. The payment is declined, the next try
# is scheduled 2 hours later; the clock is advanced by moving next_retry_at into the past (as the superuser), then
# pg_cron's job function balatrix.run_payment_retries() writes payment.retry_due, the sidecar's outbox consumer
# takes it and charges the customer's default saved Stripe method off-session (the fake Stripe). The invoice ends
# paid, once; the event is done. A customer without a saved method gets no charge, and its event completes too.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/tap.sh"
. "$HERE/lib/api.sh"
. "$HERE/lib/fakes.sh"

start_fake stripe fake_stripe.py
STRIPE_PORT=$FAKE_PORT
API_SIDECAR_ENV=(STRIPE_SECRET_KEY=sk_test_FakeSecretKey0000000000 STRIPE_API_BASE=http://127.0.0.1:$STRIPE_PORT
	GATEWAY_TIMEOUT_MS=3000 RECONCILE_AFTER_SECONDS=3600 OUTBOX_ENABLED=true OUTBOX_POLL_INTERVAL_MS=200)
api_init
S=$(uniq_suffix)

req_key() { # req_key NAME METHOD PATH TOKEN BODY KEY: status (with an Idempotency-Key header)
	curl -sS --max-time 20 -o "$WORK/$1.body" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $4" \
		-H 'Content-Type: application/json' -H "Idempotency-Key: $6" --data-binary "$5" "$BASE$3" 2>"$WORK/$1.curl" || echo 000
}
wait_for() { # wait_for SQL EXPECTED SECONDS: 0 once the query answers EXPECTED
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[[ $(as_postgres -c "$1") == "$2" ]] && return 0
		sleep 0.1
	done
	return 1
}
# A postpaid customer with an issued invoice of 1180.00 whose first Stripe payment is declined.
declined_invoice() { # declined_invoice NAME: sets <NAME>_TOKEN <NAME>_CUST <NAME>_INV <NAME>_PAY
	local ids inv pay pi
	read -r -a ids <<<"$(new_customer "$1.$S@example.in")"
	as_postgres -c "UPDATE balatrix.accounts SET account_type = 'postpaid' WHERE id = '${ids[2]}'" >/dev/null
	inv=$(as_postgres -c "SELECT balatrix.create_invoice_draft('${ids[2]}')" | head -1)
	as_postgres -c "SELECT balatrix.add_invoice_line('$inv', 'adjustment', 'Setup', 1, 1000.00, '998413')" >/dev/null
	as_postgres -c "SELECT balatrix.issue_invoice('$inv')" >/dev/null
	printf -v "${1}_TOKEN" %s "$(token_for "${ids[0]}" customer)"
	printf -v "${1}_CUST" %s "${ids[1]}"
	printf -v "${1}_INV" %s "$inv"
	local token_var="${1}_TOKEN"
	req_key "$1_pay" POST /api/payments "${!token_var}" "{\"invoiceId\":\"$inv\",\"gateway\":\"stripe\"}" "inv-$1-$S" >/dev/null
	pay=$(jq_ "$1_pay" '$j->{data}{payment}{id}')
	pi=$(jq_ "$1_pay" '$j->{data}{checkout}{paymentIntentId}')
	fake stripe POST "/__control/payment_intents/$pi/fail" '{"decline_code":"insufficient_funds"}' >/dev/null
	req "$1_verify" POST "/api/payments/$pay/verify" "${!token_var}" "" >/dev/null
	printf -v "${1}_PAY" %s "$pay"
}

declined_invoice a
is "$(as_postgres -c "SELECT status || ' ' || round(extract(epoch FROM next_retry_at - failed_at) / 3600) FROM balatrix.payments WHERE id = '$a_PAY'")" \
	"failed 2" "the declined payment is failed, its next try 2 hours later"
st=$(req a_pm POST /api/payment-methods "$a_TOKEN" '{"gateway":"stripe","gatewayMethodId":"pm_card_visa_'$S'","gatewayCustomerId":"cus_Retry1","type":"card","brand":"visa","last4":"4242"}')
is "$st" 201 "the customer saves a card (a Stripe token)"
is "$(as_postgres -c "SELECT balatrix.run_payment_retries()")" 0 "before its time nothing is due"
as_postgres -c "UPDATE balatrix.payments SET next_retry_at = now() - interval '1 second' WHERE id = '$a_PAY'" >/dev/null
is "$(as_postgres -c "SELECT balatrix.run_payment_retries()")" 1 "two hours later (the clock moved) one retry is due"
wait_for "SELECT status FROM balatrix.invoices WHERE id = '$a_INV'" paid 15
ok $? "the sidecar charged the saved card off-session: the invoice is paid"
is "$(as_postgres -c "SELECT string_agg(status || ':' || coalesce(metadata->>'retry_of', '-') || ':' || coalesce(metadata->>'captured_via', '-'), ',' ORDER BY created_at) FROM balatrix.payments WHERE invoice_id = '$a_INV'")" \
	"failed:-:-,captured:$a_PAY:retry" "one retry payment, captured, linked to the failed one"
PI=$(as_postgres -c "SELECT gateway_order_id FROM balatrix.payments WHERE metadata->>'retry_of' = '$a_PAY'")
is "$(fake stripe GET /__control/state | perl -MJSON::PP -e 'my $j = decode_json(join "", <STDIN>); my $p = $j->{payment_intents}{$ARGV[0]}; print join " ", $p->{payment_method}, $p->{customer}, $p->{status}' "$PI")" \
	"pm_card_visa_$S cus_Retry1 succeeded" "the PaymentIntent used the saved token and customer"
wait_for "SELECT status FROM balatrix.event_outbox WHERE event_type = 'payment.retry_due' AND aggregate_id = '$a_PAY'" done 10
ok $? "the payment.retry_due event is done"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.ledger WHERE customer_id = '$a_CUST' AND entry_type = 'payment'")" 1 "one payment ledger entry"

declined_invoice b
as_postgres -c "UPDATE balatrix.payments SET next_retry_at = now() - interval '1 second' WHERE id = '$b_PAY'" >/dev/null
is "$(as_postgres -c "SELECT balatrix.run_payment_retries()")" 1 "a customer without a saved method: the retry is due too"
wait_for "SELECT status FROM balatrix.event_outbox WHERE event_type = 'payment.retry_due' AND aggregate_id = '$b_PAY'" done 10
ok $? "its event completes"
is "$(as_postgres -c "SELECT count(*) || ' ' || (SELECT status FROM balatrix.invoices WHERE id = '$b_INV') FROM balatrix.payments WHERE invoice_id = '$b_INV'")" \
	"1 issued" "no charge was made: one (failed) payment, the invoice still open"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.check_ledger()")" 0 "every balance equals its ledger"

api_finish

#!/usr/bin/env bash
# End-to-end self-test of the test stand-ins in tests/fakes/: the fake Razorpay, the fake Stripe and the
# capturing SMTP server. Starts all three on ports the kernel picks (--port 0; each writes its port to its
# state directory), drives them with curl (and python3 smtplib / curl smtp://) and checks the wire protocol,
# auth refusal, validation errors, idempotency replays and failure injection (500 then 200, a delay beyond
# curl's --max-time, a dropped connection). Needs no database; every process it starts is stopped on exit.
#
# TAP output; run with:  prove -v -e bash tests/e2e/fakes_selftest.sh
# Environment: PYTHON (default python3).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=${PYTHON:-python3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/balatrix-fakes-XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

source "$(dirname "${BASH_SOURCE[0]}")/lib/tap.sh"

RZP_ID=rzp_test_SelfTest000001
RZP_SECRET=rzp_test_secret_NOT_REAL
SK=sk_test_SelfTestKey000000000000

# start <name> <command...>: runs it in the background (stderr to $WORK/<name>.log), waits for the port it
# writes to $WORK/<name>/port and sets $port to it
start() {
	local name=$1 pid
	shift
	mkdir -p "$WORK/$name"
	"$@" >/dev/null 2>"$WORK/$name.log" &
	pid=$!
	PIDS+=("$pid")
	for _ in $(seq 1 100); do
		[ -s "$WORK/$name/port" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -s "$WORK/$name/port" ]; then
		echo "Bail out! $name did not start: $(cat "$WORK/$name.log")"
		exit 1
	fi
	port=$(cat "$WORK/$name/port")
}

# call <tag> <curl args...>: body -> $WORK/<tag>.json, headers -> $WORK/<tag>.hdr; sets $code and $rc
call() {
	local tag=$1
	shift
	code=$(curl -sS -o "$WORK/$tag.json" -D "$WORK/$tag.hdr" -w '%{http_code}' --max-time 10 "$@" 2>"$WORK/$tag.err")
	rc=$?
}
# j <tag> <python expression over d>: prints a value of $WORK/<tag>.json
j() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$WORK/$1.json" "$2" 2>&1; }
# hdr <tag> <name>: a response header's value
hdr() { grep -i "^$2:" "$WORK/$1.hdr" | head -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ //'; }
fault() { curl -sS -o /dev/null -w '%{http_code}' -X POST --data-binary "$2" "$1/__control/faults"; }

echo "1..81"

start razorpay "$PY" "$ROOT/tests/fakes/fake_razorpay.py" --port 0 --state-dir "$WORK/razorpay" \
	--key-id "$RZP_ID" --key-secret "$RZP_SECRET"
RZP_PORT=$port
start stripe "$PY" "$ROOT/tests/fakes/fake_stripe.py" --port 0 --state-dir "$WORK/stripe" --secret-key "$SK"
STRIPE_PORT=$port
start smtp "$PY" "$ROOT/tests/fakes/smtp_capture.py" --port 0 --dir "$WORK/smtp"
SMTP_PORT=$port
call health "http://127.0.0.1:$RZP_PORT/__control/health"
h1=$code
call health "http://127.0.0.1:$STRIPE_PORT/__control/health"
is "$h1 $code" "200 200" "the fakes are up (razorpay :$RZP_PORT, stripe :$STRIPE_PORT, smtp :$SMTP_PORT)"

R=http://127.0.0.1:$RZP_PORT
S=http://127.0.0.1:$STRIPE_PORT
RA=(-u "$RZP_ID:$RZP_SECRET" -H 'Content-Type: application/json')
SA=(-H "Authorization: Bearer $SK")

# ------------------------------------------------------------------------------------------------- Razorpay
call r_noauth -H 'Content-Type: application/json' -d '{"amount":50000,"currency":"INR"}' "$R/v1/orders"
is "$code $(j r_noauth 'd["error"]["code"]')" "401 BAD_REQUEST_ERROR" "razorpay: no Authorization -> 401 BAD_REQUEST_ERROR"
call r_badauth -u "$RZP_ID:wrong" -H 'Content-Type: application/json' -d '{"amount":50000,"currency":"INR"}' "$R/v1/orders"
is "$code $(j r_badauth 'd["error"]["description"]')" "401 The api key provided is invalid" "razorpay: wrong secret -> 401"
B64=$(printf '%s:%s' "$RZP_ID" "$RZP_SECRET" | base64 -w0)
call r_lcauth -H "Authorization: basic $B64" -H 'Content-Type: application/json' -d '{"amount":50000,"currency":"INR"}' "$R/v1/orders"
is "$code" 401 "razorpay: 'basic' (lower-case scheme) is refused"

call r_order "${RA[@]}" -d '{"amount":29935,"currency":"INR","receipt":"INV-2025-000001","notes":{"invoice_id":"42"}}' "$R/v1/orders"
OID=$(j r_order 'd["id"]')
is "$code" 200 "razorpay: POST /v1/orders -> 200"
is "$(j r_order '(d["entity"], d["amount"], d["amount_paid"], d["amount_due"], d["currency"], d["status"], d["attempts"], d["notes"])')" \
	"('order', 29935, 0, 29935, 'INR', 'created', 0, {'invoice_id': '42'})" "razorpay: order object fields"
[[ $OID =~ ^order_[A-Za-z0-9]{14}$ ]]
ok $? "razorpay: order id looks like order_XXXXXXXXXXXXXX ($OID)"

call r_small "${RA[@]}" -d '{"amount":99,"currency":"INR"}' "$R/v1/orders"
is "$code|$(j r_small '(d["error"]["description"], d["error"]["field"], d["error"]["reason"])')" \
	"400|('The amount must be at least INR 1.00', 'amount', 'input_validation_failed')" "razorpay: amount 99 -> 400 with field amount"
call r_float "${RA[@]}" -d '{"amount":299.35,"currency":"INR"}' "$R/v1/orders"
is "$code $(j r_float 'd["error"]["description"]')" "400 The amount must be an integer." "razorpay: non-integer amount -> 400"
call r_receipt "${RA[@]}" -d "{\"amount\":50000,\"currency\":\"INR\",\"receipt\":\"$(printf 'x%.0s' {1..41})\"}" "$R/v1/orders"
is "$code $(j r_receipt 'd["error"]["field"]')" "400 receipt" "razorpay: receipt of 41 characters -> 400"
call r_extra "${RA[@]}" -d '{"amount":50000,"currency":"INR","colour":"red"}' "$R/v1/orders"
is "$code $(j r_extra 'd["error"]["reason"], d["error"]["field"]')" "400 ('extra_field_sent', 'colour')" "razorpay: unknown field -> 400 extra_field_sent"
call r_cur "${RA[@]}" -d '{"amount":50000}' "$R/v1/orders"
is "$code $(j r_cur 'd["error"]["field"]')" "400 currency" "razorpay: missing currency -> 400"

call r_u1 "${RA[@]}" -d '{"amount":50000,"currency":"INR","receipt":"RCPT-U-1","unique_receipt":true}' "$R/v1/orders"
call r_u2 "${RA[@]}" -d '{"amount":50000,"currency":"INR","receipt":"RCPT-U-1","unique_receipt":true}' "$R/v1/orders"
is "$code $(j r_u2 'd["id"]')" "200 $(j r_u1 'd["id"]')" "razorpay: unique_receipt retry returns the same order"
call r_u3 "${RA[@]}" -d '{"amount":60000,"currency":"INR","receipt":"RCPT-U-1","unique_receipt":true}' "$R/v1/orders"
is "$code $(j r_u3 'd["error"]["field"]')" "400 receipt" "razorpay: unique_receipt with a different amount -> 400"

call r_get "${RA[@]}" "$R/v1/orders/$OID"
is "$code $(j r_get 'd["id"]')" "200 $OID" "razorpay: GET /v1/orders/:id"
call r_get404 "${RA[@]}" "$R/v1/orders/order_DoesNotExist01"
is "$code $(j r_get404 'd["error"]["description"]')" "400 The id provided does not exist" "razorpay: unknown order -> 400 (Razorpay's not-found)"

call r_pay -X POST -d '{"status":"authorized","method":"card"}' "$R/__control/orders/$OID/pay"
PAY=$(j r_pay 'd["razorpay_payment_id"]')
WANT_SIG=$(printf '%s|%s' "$OID" "$PAY" | openssl dgst -sha256 -hmac "$RZP_SECRET" | awk '{print $NF}')
is "$code $(j r_pay 'd["razorpay_signature"]')" "200 $WANT_SIG" "razorpay control: pay (authorized) returns the checkout signature HMAC(order_id|payment_id)"
call r_p1 "${RA[@]}" "$R/v1/payments/$PAY"
is "$(j r_p1 '(d["entity"], d["status"], d["order_id"], d["amount"], d["captured"])')" "('payment', 'authorized', '$OID', 29935, False)" \
	"razorpay: GET /v1/payments/:id (authorized)"
call r_o2 "${RA[@]}" "$R/v1/orders/$OID"
is "$(j r_o2 '(d["status"], d["attempts"])')" "('attempted', 1)" "razorpay: order attempted after an authorized payment"
call r_refund_auth "${RA[@]}" -H 'X-Refund-Idempotency: refund-auth-0001' -d '{"amount":1000}' "$R/v1/payments/$PAY/refund"
is "$code" 400 "razorpay: refund of an authorized (uncaptured) payment -> 400"
call r_cap_bad "${RA[@]}" -d '{"amount":20000,"currency":"INR"}' "$R/v1/payments/$PAY/capture"
is "$code $(j r_cap_bad 'd["error"]["field"]')" "400 amount" "razorpay: capture with the wrong amount -> 400"
call r_cap "${RA[@]}" -d '{"amount":29935,"currency":"INR"}' "$R/v1/payments/$PAY/capture"
is "$code $(j r_cap '(d["status"], d["captured"], d["fee"] > 0)')" "200 ('captured', True, True)" "razorpay: capture -> captured"
call r_o3 "${RA[@]}" "$R/v1/orders/$OID"
is "$(j r_o3 '(d["status"], d["amount_paid"], d["amount_due"])')" "('paid', 29935, 0)" "razorpay: order paid after capture"
call r_cap2 "${RA[@]}" -d '{"amount":29935,"currency":"INR"}' "$R/v1/payments/$PAY/capture"
is "$code $(j r_cap2 'd["error"]["description"]')" "400 This payment has already been captured" "razorpay: second capture -> 400"

call r_rf1 "${RA[@]}" -H 'X-Refund-Idempotency: refund-key-0001' -d '{"amount":10000,"speed":"normal","notes":{"reason":"partial"}}' "$R/v1/payments/$PAY/refund"
RF1=$(j r_rf1 'd["id"]')
is "$code $(j r_rf1 '(d["entity"], d["amount"], d["payment_id"], d["status"])')" "200 ('refund', 10000, '$PAY', 'processed')" \
	"razorpay: partial refund -> 200"
call r_rf2 "${RA[@]}" -H 'X-Refund-Idempotency: refund-key-0001' -d '{ "notes": {"reason": "partial"}, "speed": "normal", "amount": 10000 }' "$R/v1/payments/$PAY/refund"
is "$code $(j r_rf2 'd["id"]')" "200 $RF1" "razorpay: same X-Refund-Idempotency and same body (reformatted) -> the same refund"
call r_rf3 "${RA[@]}" -H 'X-Refund-Idempotency: refund-key-0001' -d '{"amount":5000}' "$R/v1/payments/$PAY/refund"
is "$code $(j r_rf3 'd["error"]["code"]')" "400 BAD_REQUEST_ERROR" "razorpay: same key, different body -> 400"
call r_rf4 "${RA[@]}" -H 'X-Refund-Idempotency: short' -d '{"amount":5000}' "$R/v1/payments/$PAY/refund"
is "$code" 400 "razorpay: idempotency key under 10 characters -> 400"
call r_rf5 "${RA[@]}" -H 'X-Refund-Idempotency: refund-key-0002' -d '{"amount":25000}' "$R/v1/payments/$PAY/refund"
is "$code $(j r_rf5 'd["error"]["field"]')" "400 amount" "razorpay: refund above the remaining amount -> 400"
call r_p2 "${RA[@]}" "$R/v1/payments/$PAY"
is "$(j r_p2 '(d["status"], d["amount_refunded"], d["refund_status"])')" "('captured', 10000, 'partial')" "razorpay: payment after one partial refund"

# in flight: a refund held by a 1.5 s delay; the same key meanwhile -> 409
is "$(fault "$R" '{"mode":"delay","delay_ms":1500,"path_prefix":"/v1/payments/","method":"POST","count":1}')" 200 "razorpay control: delay fault accepted"
curl -sS -o "$WORK/r_slow.json" --max-time 10 "${RA[@]}" -H 'X-Refund-Idempotency: refund-key-0003' -d '{"amount":2000}' "$R/v1/payments/$PAY/refund" &
slow=$!
sleep 0.5
call r_busy "${RA[@]}" -H 'X-Refund-Idempotency: refund-key-0003' -d '{"amount":2000}' "$R/v1/payments/$PAY/refund"
wait $slow
is "$code $(j r_slow 'd["amount"]')" "409 2000" "razorpay: same key while the first is in flight -> 409; the first completes"

# dropped after the refund took effect; the retry with the same key gets that refund, not a second one
is "$(fault "$R" '{"mode":"drop","phase":"after","path_prefix":"/v1/payments/","method":"POST"}')" 200 "razorpay control: drop-after fault accepted"
call r_drop "${RA[@]}" -H 'X-Refund-Idempotency: refund-key-0004' -d '{"amount":3000}' "$R/v1/payments/$PAY/refund"
ok $((rc == 0)) "razorpay: dropped connection -> curl error (rc $rc: $(head -c 80 "$WORK/r_drop.err"))"
call r_redo "${RA[@]}" -H 'X-Refund-Idempotency: refund-key-0004' -d '{"amount":3000}' "$R/v1/payments/$PAY/refund"
call r_refunds "${RA[@]}" "$R/v1/payments/$PAY/refunds"
is "$code $(j r_refunds '(d["count"], sum(r["amount"] for r in d["items"]))')" "200 (3, 15000)" "razorpay: the retry after the drop made no second refund"

is "$(fault "$R" '{"mode":"status","status":500,"path_prefix":"/v1/orders","count":1}')" 200 "razorpay control: 500 fault accepted"
call r_500 "${RA[@]}" "$R/v1/orders/$OID"
is "$code $(j r_500 'd["error"]["code"]')" "500 SERVER_ERROR" "razorpay: injected 500 in Razorpay's error shape"
call r_200 "${RA[@]}" "$R/v1/orders/$OID"
is "$code" 200 "razorpay: then 200"
fault "$R" '{"mode":"delay","delay_ms":3000,"path_prefix":"/v1/orders"}' >/dev/null
call r_slow2 --max-time 1 "${RA[@]}" "$R/v1/orders/$OID"
is "$rc" 28 "razorpay: delay beyond --max-time 1 -> curl timeout (28)"
fault "$R" '{"mode":"drop","path_prefix":"/v1/orders"}' >/dev/null
call r_drop2 "${RA[@]}" "$R/v1/orders/$OID"
ok $((rc == 0)) "razorpay: dropped connection before any response -> curl error (rc $rc)"

call r_log "$R/__control/requests?path_prefix=/v1/payments/$PAY/refund"
is "$(j r_log '[r["headers"].get("x-refund-idempotency") for r in d["items"]][:2]')" "['refund-auth-0001', 'refund-key-0001']" \
	"razorpay control: request log keeps headers"
call r_ev "$R/__control/events"
is "$(j r_ev '[e["event"] for e in d["items"]][:3]')" "['payment.authorized', 'payment.captured', 'order.paid']" "razorpay control: events the gateway would send"

# -------------------------------------------------------------------------------------------------- Stripe
call s_noauth -d amount=11800 -d currency=inr "$S/v1/payment_intents"
is "$code $(j s_noauth 'd["error"]["type"]')" "401 invalid_request_error" "stripe: no key -> 401 invalid_request_error"
call s_badauth -H 'Authorization: Bearer sk_test_wrongwrongwrong' -d amount=11800 -d currency=inr "$S/v1/payment_intents"
is "$code" 401 "stripe: wrong key -> 401"
call s_basic -u "$SK:" "$S/v1/payment_intents/pi_none"
is "$code" 404 "stripe: Basic auth with the key as user name is accepted (then 404 for an unknown id)"
is "$(j s_basic '(d["error"]["code"], d["error"]["param"])')" "('resource_missing', 'intent')" "stripe: unknown PaymentIntent -> resource_missing"

call s_pi "${SA[@]}" -H 'Idempotency-Key: idem-pi-0001' -d amount=11800 -d currency=inr -d 'automatic_payment_methods[enabled]=true' \
	-d 'metadata[invoice_id]=INV-2025-000001' -d 'metadata[customer]=c 1' "$S/v1/payment_intents"
PI=$(j s_pi 'd["id"]')
is "$code $(j s_pi '(d["object"], d["amount"], d["currency"], d["status"], d["metadata"], d["automatic_payment_methods"])')" \
	"200 ('payment_intent', 11800, 'inr', 'requires_payment_method', {'invoice_id': 'INV-2025-000001', 'customer': 'c 1'}, {'enabled': True})" \
	"stripe: POST /v1/payment_intents (form-encoded, nested metadata)"
[[ $(j s_pi 'd["client_secret"]') == "${PI}_secret_"* && -n $(hdr s_pi Request-Id) ]]
ok $? "stripe: client_secret and Request-Id"
call s_replay "${SA[@]}" -H 'Idempotency-Key: idem-pi-0001' -d amount=11800 -d currency=inr -d 'automatic_payment_methods[enabled]=true' \
	-d 'metadata[invoice_id]=INV-2025-000001' -d 'metadata[customer]=c 1' "$S/v1/payment_intents"
is "$code $(j s_replay 'd["id"]') $(hdr s_replay Idempotent-Replayed)" "200 $PI true" "stripe: same Idempotency-Key + params -> replay with Idempotent-Replayed: true"
call s_conflict "${SA[@]}" -H 'Idempotency-Key: idem-pi-0001' -d amount=11900 -d currency=inr "$S/v1/payment_intents"
is "$code $(j s_conflict 'd["error"]["type"]')" "400 idempotency_error" "stripe: same key, different params -> 400 idempotency_error"
call s_json "${SA[@]}" -H 'Content-Type: application/json' -d '{"amount":11800,"currency":"inr"}' "$S/v1/payment_intents"
is "$code" 400 "stripe: a JSON body is refused (form encoding required)"
call s_missing "${SA[@]}" -d currency=inr "$S/v1/payment_intents"
is "$code $(j s_missing '(d["error"]["code"], d["error"]["param"])')" "400 ('parameter_missing', 'amount')" "stripe: missing amount -> parameter_missing"
call s_small "${SA[@]}" -d amount=10 -d currency=inr "$S/v1/payment_intents"
is "$code $(j s_small 'd["error"]["code"]')" "400 amount_too_small" "stripe: amount below ₹0.50 -> amount_too_small"
call s_unknown "${SA[@]}" -d amount=1000 -d currency=inr -d colour=red "$S/v1/payment_intents"
is "$code $(j s_unknown '(d["error"]["code"], d["error"]["param"])')" "400 ('parameter_unknown', 'colour')" "stripe: unknown parameter"

call s_decl "${SA[@]}" -d payment_method=pm_card_chargeDeclined "$S/v1/payment_intents/$PI/confirm"
is "$code $(j s_decl '(d["error"]["type"], d["error"]["code"], d["error"]["decline_code"], d["error"]["payment_intent"]["status"])')" \
	"402 ('card_error', 'card_declined', 'generic_decline', 'requires_payment_method')" "stripe: declined card -> 402 card_error"
call s_conf "${SA[@]}" -d payment_method=pm_card_visa "$S/v1/payment_intents/$PI/confirm"
is "$code $(j s_conf '(d["status"], d["amount_received"], d["latest_charge"][:3])')" "200 ('succeeded', 11800, 'ch_')" "stripe: confirm with pm_card_visa -> succeeded"
call s_conf2 "${SA[@]}" -d payment_method=pm_card_visa "$S/v1/payment_intents/$PI/confirm"
is "$code $(j s_conf2 'd["error"]["code"]')" "400 payment_intent_unexpected_state" "stripe: confirming a succeeded PaymentIntent -> 400"
call s_get "${SA[@]}" "$S/v1/payment_intents/$PI"
is "$code $(j s_get 'd["status"]')" "200 succeeded" "stripe: GET /v1/payment_intents/:id"

call s_rf "${SA[@]}" -H 'Idempotency-Key: idem-rf-0001' -d payment_intent="$PI" -d amount=1800 -d reason=requested_by_customer "$S/v1/refunds"
RE=$(j s_rf 'd["id"]')
is "$code $(j s_rf '(d["object"], d["amount"], d["payment_intent"], d["status"], d["reason"])')" "200 ('refund', 1800, '$PI', 'succeeded', 'requested_by_customer')" \
	"stripe: partial refund"
call s_rf2 "${SA[@]}" -H 'Idempotency-Key: idem-rf-0001' -d payment_intent="$PI" -d amount=1800 -d reason=requested_by_customer "$S/v1/refunds"
is "$(j s_rf2 'd["id"]') $(hdr s_rf2 Idempotent-Replayed)" "$RE true" "stripe: refund replayed for the same key"
call s_rf3 "${SA[@]}" -d payment_intent="$PI" -d amount=20000 "$S/v1/refunds"
is "$code $(j s_rf3 '(d["error"]["code"], d["error"]["param"])')" "400 ('amount_too_large', 'amount')" "stripe: refund above the unrefunded amount -> 400"
call s_rf4 "${SA[@]}" -d amount=100 "$S/v1/refunds"
is "$code $(j s_rf4 'd["error"]["code"]')" "400 parameter_missing" "stripe: refund without payment_intent or charge -> 400"
call s_ch "${SA[@]}" "$S/v1/charges/$(j s_conf 'd["latest_charge"]')"
is "$(j s_ch '(d["amount_refunded"], d["refunded"])')" "(1800, False)" "stripe: the charge shows the partial refund"

call s_pi2 "${SA[@]}" -d amount=50000 -d currency=inr "$S/v1/payment_intents"
PI2=$(j s_pi2 'd["id"]')
call s_fail -X POST -d '{"decline_code":"insufficient_funds","message":"Your card has insufficient funds."}' "$S/__control/payment_intents/$PI2/fail"
call s_g2 "${SA[@]}" "$S/v1/payment_intents/$PI2"
is "$(j s_g2 '(d["status"], d["last_payment_error"]["decline_code"])')" "('requires_payment_method', 'insufficient_funds')" "stripe control: fail a PaymentIntent"
call s_succ -X POST "$S/__control/payment_intents/$PI2/succeed"
call s_g3 "${SA[@]}" "$S/v1/payment_intents/$PI2"
is "$(j s_g3 '(d["status"], d["amount_received"], d["last_payment_error"])')" "('succeeded', 50000, None)" "stripe control: succeed a PaymentIntent"

# 500 then 200 with the same Idempotency-Key: the 500 is not remembered, the retry creates one PaymentIntent
is "$(fault "$S" '{"mode":"status","status":500,"path_prefix":"/v1/payment_intents","method":"POST","count":1}')" 200 "stripe control: 500 fault accepted"
call s_500 "${SA[@]}" -H 'Idempotency-Key: idem-pi-0500' -d amount=70000 -d currency=inr "$S/v1/payment_intents"
is "$code $(j s_500 'd["error"]["type"]')" "500 api_error" "stripe: injected 500 in Stripe's error shape"
call s_after500 "${SA[@]}" -H 'Idempotency-Key: idem-pi-0500' -d amount=70000 -d currency=inr "$S/v1/payment_intents"
is "$code $(hdr s_after500 Idempotent-Replayed)" "200 " "stripe: then 200 (not a replay)"
# dropped after the PaymentIntent was made: the retry replays it
fault "$S" '{"mode":"drop","phase":"after","path_prefix":"/v1/payment_intents","method":"POST"}' >/dev/null
call s_drop "${SA[@]}" -H 'Idempotency-Key: idem-pi-drop' -d amount=80000 -d currency=inr "$S/v1/payment_intents"
ok $((rc == 0)) "stripe: dropped connection -> curl error (rc $rc)"
call s_redo "${SA[@]}" -H 'Idempotency-Key: idem-pi-drop' -d amount=80000 -d currency=inr "$S/v1/payment_intents"
call s_state "$S/__control/state"
is "$code $(hdr s_redo Idempotent-Replayed) $(j s_state 'sum(1 for p in d["payment_intents"].values() if p["amount"] == 80000)')" "200 true 1" \
	"stripe: the retry after the drop is a replay; one PaymentIntent exists"
fault "$S" '{"mode":"delay","delay_ms":3000,"path_prefix":"/v1/payment_intents/"}' >/dev/null
call s_slow --max-time 1 "${SA[@]}" "$S/v1/payment_intents/$PI"
is "$rc" 28 "stripe: delay beyond --max-time 1 -> curl timeout (28)"
call s_log "$S/__control/requests?path_prefix=/v1/payment_intents&method=POST"
is "$(j s_log '[r["body"] for r in d["items"] if r["headers"].get("idempotency-key") == "idem-pi-0001"][0]')" "amount=11800&currency=inr&automatic_payment_methods[enabled]=true&metadata[invoice_id]=INV-2025-000001&metadata[customer]=c 1" \
	"stripe control: the request log keeps the raw form body"
call s_faults "$S/__control/faults"
is "$(j s_faults '[(f["mode"], f["hits"], f["remaining"]) for f in d["items"]]')" "[('status', 1, 0), ('drop', 1, 0), ('delay', 1, 0)]" \
	"stripe control: faults list their hits"

# ---------------------------------------------------------------------------------------------------- SMTP
SUBJECT='Invoice INV-2025-000123 issued — ₹354.00 due 15 Dec'
"$PY" - "$SMTP_PORT" "$SUBJECT" >"$WORK/smtp.out" 2>&1 <<'EOF'
import smtplib, sys
from email.message import EmailMessage
m = EmailMessage()
m["Subject"], m["From"], m["To"] = sys.argv[2], "billing@balatrix.test", "customer@example.com"
m.set_content("Dear customer,\nyour invoice is attached.\n.\n")
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as s:
    s.ehlo("selftest")
    s.login("balatrix", "secret")
    s.send_message(m)
EOF
ok $? "smtp: smtplib sends with AUTH" "$(cat "$WORK/smtp.out")"
cp "$WORK/smtp/index.json" "$WORK/smtp_index.json"
is "$(j smtp_index 'd[0]["subject"]')" "$SUBJECT" "smtp: captured message has the exact subject (decoded)"
is "$(j smtp_index '(len(d), d[0]["mail_from"], d[0]["rcpt_tos"], d[0]["auth_user"], d[0]["helo"])')" \
	"(1, 'billing@balatrix.test', ['customer@example.com'], 'balatrix', 'selftest')" "smtp: envelope, AUTH user and HELO in index.json"
grep -q '^your invoice is attached' "$WORK/smtp/000001.eml"
ok $? "smtp: the .eml file holds the message"
printf 'From: billing@balatrix.test\r\nTo: a@example.com\r\nSubject: Low balance\r\n\r\nTop up.\r\n' >"$WORK/mail.txt"
curl -sS --max-time 10 --url "smtp://127.0.0.1:$SMTP_PORT" --mail-from billing@balatrix.test --mail-rcpt a@example.com \
	--mail-rcpt b@example.com --upload-file "$WORK/mail.txt" 2>"$WORK/curlsmtp.err"
ok $? "smtp: curl smtp:// delivers" "$(cat "$WORK/curlsmtp.err")"
cp "$WORK/smtp/index.json" "$WORK/smtp_index.json"
is "$(j smtp_index '(len(d), d[1]["subject"], d[1]["rcpt_tos"], d[1]["file"])')" "(2, 'Low balance', ['a@example.com', 'b@example.com'], '000002.eml')" \
	"smtp: second message indexed"

# ------------------------------------------------------------------------------------------------ shutdown
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
sleep 1
alive=0
for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
is "$alive" 0 "all three fakes stop on SIGTERM"
[ -s "$WORK/razorpay/state.json" ] && [ -s "$WORK/stripe/state.json" ] && [ -s "$WORK/stripe/requests.jsonl" ]
ok $? "state and request logs stay in the state directories"

[ "$failed" -eq 0 ]

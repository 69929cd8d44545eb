#!/bin/bash
# End-to-end: the gateway webhook routes. Signatures made here with perl's Digest::SHA (independent of the
# sidecar's code): Razorpay's HMAC-SHA256 hex of the raw body, Stripe's "t=<ts>,v1=<HMAC of ts.body>".
# A redelivered event (3 times) is one row; bad signatures, stale timestamps and non-JSON bodies are 400 and
# store nothing.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/tap.sh"
. "$HERE/lib/api.sh"
RZP_SECRET="rzp-webhook-secret-$(uniq_suffix)"
STRIPE_SECRET="whsec_$(uniq_suffix)"
API_SIDECAR_ENV=(RAZORPAY_WEBHOOK_SECRET="$RZP_SECRET" STRIPE_WEBHOOK_SECRET="$STRIPE_SECRET")
api_init
S=$(uniq_suffix)

hmac_hex() { perl -MDigest::SHA=hmac_sha256_hex -e 'print hmac_sha256_hex($ARGV[0], $ARGV[1])' "$1" "$2"; }
post_raw() { # post_raw NAME PATH BODY HEADER...: status
	local name=$1 path=$2 body=$3
	shift 3
	local args=(-sS --max-time 20 -o "$WORK/$name.body" -D "$WORK/$name.headers" -w '%{http_code}' -X POST
		-H 'Content-Type: application/json' --data-binary "$body")
	for h in "$@"; do args+=(-H "$h"); done
	curl "${args[@]}" "$BASE$path" 2>"$WORK/$name.curl" || echo 000
}
rows() { as_postgres -c "SELECT count(*) FROM balatrix.webhook_events WHERE gateway = '$1' AND event_id = '$2'"; }

# ---- Razorpay ----------------------------------------------------------------------------------------------
RZP_ID="evt_rzp_$S"
RZP_BODY="{\"entity\":\"event\",\"event\":\"payment.captured\",\"payload\":{\"payment\":{\"entity\":{\"id\":\"pay_$S\",\"amount\":29935}}}}"
SIG=$(hmac_hex "$RZP_BODY" "$RZP_SECRET")
for i in 1 2 3; do
	st=$(post_raw rzp$i /api/payments/webhooks/razorpay "$RZP_BODY" "X-Razorpay-Signature: $SIG" "X-Razorpay-Event-Id: $RZP_ID")
	is "$st" 200 "Razorpay webhook, delivery $i -> 200"
done
is "$(jq_ rzp1 '$j->{data}{duplicate}')" false "the first delivery is new"
is "$(jq_ rzp3 '$j->{data}{duplicate}')" true "the third is recognised as a redelivery"
is "$(rows razorpay "$RZP_ID")" 1 "three deliveries, one stored event"
is "$(as_postgres -c "SELECT event_type || ' ' || status || ' ' || signature_verified || ' ' || (payload->'payload'->'payment'->'entity'->>'amount') FROM balatrix.webhook_events WHERE event_id = '$RZP_ID'")" \
	"payment.captured ignored true 29935" "stored with its type and body (ignored: not an order of ours)"
st=$(post_raw rzp_bad /api/payments/webhooks/razorpay "$RZP_BODY" "X-Razorpay-Signature: $(hmac_hex "$RZP_BODY" wrong-secret)" "X-Razorpay-Event-Id: evt_bad_$S")
is "$st" 400 "signed with another secret -> 400"
st=$(post_raw rzp_tamper /api/payments/webhooks/razorpay "${RZP_BODY/29935/1}" "X-Razorpay-Signature: $SIG" "X-Razorpay-Event-Id: evt_tamper_$S")
is "$st" 400 "a tampered body -> 400"
UPPER=$(echo "$SIG" | tr 'a-f' 'A-F')
st=$(post_raw rzp_upper /api/payments/webhooks/razorpay "$RZP_BODY" "X-Razorpay-Signature: $UPPER" "X-Razorpay-Event-Id: evt_upper_$S")
is "$st" 400 "the signature in upper-case hex -> 400"
st=$(post_raw rzp_nosig /api/payments/webhooks/razorpay "$RZP_BODY" "X-Razorpay-Event-Id: evt_nosig_$S")
is "$st" 400 "no signature -> 400"
NOTJSON="not json at all"
st=$(post_raw rzp_notjson /api/payments/webhooks/razorpay "$NOTJSON" "X-Razorpay-Signature: $(hmac_hex "$NOTJSON" "$RZP_SECRET")" "X-Razorpay-Event-Id: evt_nj_$S")
is "$st" 400 "a signed body that is not JSON -> 400"
st=$(post_raw rzp_noid /api/payments/webhooks/razorpay "$RZP_BODY" "X-Razorpay-Signature: $SIG")
is "$st" 400 "no X-Razorpay-Event-Id -> 400"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.webhook_events WHERE event_id LIKE 'evt_%_$S' AND event_id <> '$RZP_ID'")" 0 "refused webhooks stored nothing"

# ---- Stripe ------------------------------------------------------------------------------------------------
ST_ID="evt_st_$S"
ST_BODY="{\"id\":\"$ST_ID\",\"object\":\"event\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":{\"id\":\"pi_$S\",\"amount\":29935}}}"
NOW=$(date +%s)
stripe_header() { echo "t=$1,v1=$(hmac_hex "$1.$2" "$3")"; }
for i in 1 2 3; do
	st=$(post_raw st$i /api/payments/webhooks/stripe "$ST_BODY" "Stripe-Signature: $(stripe_header "$NOW" "$ST_BODY" "$STRIPE_SECRET")")
	is "$st" 200 "Stripe webhook, delivery $i -> 200"
done
is "$(rows stripe "$ST_ID")" 1 "three deliveries, one stored event"
TWO="t=$NOW,v1=$(hmac_hex "$NOW.$ST_BODY" whsec_old),v1=$(hmac_hex "$NOW.$ST_BODY" "$STRIPE_SECRET")"
is "$(post_raw st_two /api/payments/webhooks/stripe "$ST_BODY" "Stripe-Signature: $TWO")" 200 "two v1 signatures, one valid (secret rotation) -> 200"
OLD=$((NOW - 400))
is "$(post_raw st_old /api/payments/webhooks/stripe "${ST_BODY/$ST_ID/evt_old_$S}" "Stripe-Signature: $(stripe_header "$OLD" "${ST_BODY/$ST_ID/evt_old_$S}" "$STRIPE_SECRET")")" 400 "a timestamp 400 s old -> 400"
is "$(jq_ st_old '$j->{message}')" "Webhook timestamp outside the tolerance" "... outside the tolerance"
is "$(post_raw st_bad /api/payments/webhooks/stripe "${ST_BODY/$ST_ID/evt_bad_$S}" "Stripe-Signature: $(stripe_header "$NOW" "${ST_BODY/$ST_ID/evt_bad_$S}" whsec_other)")" 400 "another secret -> 400"
is "$(post_raw st_garbage /api/payments/webhooks/stripe "$ST_BODY" "Stripe-Signature: garbage")" 400 "a garbage header -> 400"
is "$(post_raw st_none /api/payments/webhooks/stripe "$ST_BODY")" 400 "no header -> 400"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.webhook_events WHERE gateway = 'stripe' AND event_id IN ('evt_old_$S', 'evt_bad_$S')")" 0 "refused webhooks stored nothing"

# ---- as balatrix_api, nobody may record an event that was not verified ----------------------------------------
out=$(psql -X -q -At -h "$PGH" -p "$PGP" -U balatrix_api -d "$PGD" -c "INSERT INTO balatrix.webhook_events (gateway, event_id, event_type, payload, signature_verified) VALUES ('stripe', 'x', 'y', '{}', false)" 2>&1)
[[ $out == *"permission denied"* ]]
ok $? "balatrix_api cannot insert into webhook_events directly" "$out"

api_finish

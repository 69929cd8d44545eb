#!/bin/bash
# End-to-end: the outbox consumer delivering e-mail (SMTP), SMS (an HTTP gateway) and customer webhooks, against
# the capturing fakes in tests/fakes (smtp_capture.py, webhook_receiver.py) started here in $WORK.
#   (a) a real invoice issued, then its overdue notice: one e-mail each (subject, To, Message-ID = the
#       notification's id), one SMS for the overdue notice, one webhook each whose Balatrix-Signature verifies
#       (HMAC recomputed here with perl's Digest::SHA, independent of the sidecar's code)
#   (b) a webhook endpoint answering 500 twice: delivered on the third attempt; the e-mail sent on the first
#       attempt is not sent again (the backoff is shortened by moving available_at, as the superuser)
#   (c) forgot-password through the API: an e-mail with the reset link, and no webhook (the customer's endpoint
#       takes every event type); the token in the link resets the password
#   (d) 300 events, the sidecar SIGKILLed once about a third of the mails arrived, then restarted: every event's
#       e-mail and webhook arrived (distinct Message-IDs and Balatrix-Event-Ids == 300 each); raw duplicates at
#       most one (the delivery in flight at the kill), the measured number printed
#   (e) two sidecars at once on 300 fresh events: raw counts exactly 300 e-mails and 300 webhooks, both worked
# Extra sidecars listen on BALATRIX_E2E_PORT + 1 and + 2.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/lib/tap.sh"
. "$HERE/lib/api.sh"

PY=$(command -v python3 || true)
[[ -n $PY ]] || { echo "1..0 # SKIP python3 is needed for the SMTP and webhook fakes"; exit 0; }
FAKES=$(mktemp -d "${TMPDIR:-/tmp}/outbox_e2e.XXXXXX")
FAKE_PIDS=()
EXTRA_PIDS=()
outbox_cleanup() {
	local pid
	for pid in "${EXTRA_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	for pid in "${FAKE_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	api_cleanup
	[[ -z ${KEEP_WORK:-} ]] && rm -rf "$FAKES"
}
trap outbox_cleanup EXIT

# start_fake NAME SCRIPT: its port in FAKE_PORT (the fake writes it to $FAKES/NAME/port). Not in a $(...)
# subshell: FAKE_PIDS must reach the cleanup.
start_fake() {
	mkdir -p "$FAKES/$1"
	"$PY" "$ROOT/tests/fakes/$2" --port 0 --dir "$FAKES/$1" >"$FAKES/$1.log" 2>&1 &
	FAKE_PIDS+=($!)
	local i
	for ((i = 0; i < 200; i++)); do
		[[ -s $FAKES/$1/port ]] && { FAKE_PORT=$(cat "$FAKES/$1/port"); return 0; }
		sleep 0.05
	done
	echo "Bail out! the fake $2 did not start: $(cat "$FAKES/$1.log")"
	exit 1
}

# Reads what the fakes captured. Python's e-mail parser decodes subjects (RFC 2047) and bodies (quoted-printable).
cat >"$FAKES/q.py" <<'EOF'
import email, email.policy, json, os, sys
what, d = sys.argv[1], sys.argv[2]
if what == "mail":  # mail DIR ADDRESS (count|ids|subjects|to|body)
    addr, field = sys.argv[3], sys.argv[4]
    path = os.path.join(d, "index.json")
    index = json.load(open(path, encoding="utf-8")) if os.path.exists(path) else []
    mine = [m for m in index if addr in m["rcpt_tos"]]
    if field == "count":
        print(len(mine))
    elif field == "ids":
        print("\n".join(sorted(m["message_id"] or "" for m in mine)))
    elif field in ("subject", "to", "from"):
        print("\n".join(m[field] or "" for m in mine))
    elif field == "body":
        msg = email.message_from_bytes(open(os.path.join(d, mine[-1]["file"]), "rb").read(), policy=email.policy.default)
        print(msg.get_content().replace("\r\n", "\n"), end="")
elif what == "hooks":  # hooks DIR PATH (count|okcount|eventids|last|statuses)
    path, field = sys.argv[3], sys.argv[4]
    log = os.path.join(d, "requests.jsonl")
    reqs = [json.loads(l) for l in open(log, encoding="utf-8") if l.strip()] if os.path.exists(log) else []
    mine = [r for r in reqs if r["path"] == path]
    ok = [r for r in mine if 200 <= r["status"] < 300]
    if field == "count":
        print(len(mine))
    elif field == "okcount":
        print(len(ok))
    elif field == "eventids":
        print("\n".join(sorted(r["headers"].get("balatrix-event-id", "") for r in ok)))
    elif field == "statuses":
        print(" ".join(str(r["status"]) for r in mine))
    elif field == "last":
        print(json.dumps(mine[-1]) if mine else "{}")
EOF
mail() { "$PY" "$FAKES/q.py" mail "$@"; }
hooks() { "$PY" "$FAKES/q.py" hooks "$@"; }
jget() { perl -MJSON::PP -e 'binmode(STDOUT, ":utf8"); my $j = JSON::PP->new->utf8->decode($ARGV[0]); my $v = eval $ARGV[1]; print defined $v ? $v : "null"' "$1" "$2"; }
hmac_hex() { perl -MDigest::SHA=hmac_sha256_hex -e 'print hmac_sha256_hex($ARGV[0], $ARGV[1])' "$1" "$2"; }
# verify_signature REQUEST_JSON SECRET: 0 when Balatrix-Signature is t=<ts>,v1=HMAC-SHA256(secret, "<ts>." + body)
verify_signature() {
	local header body t v1
	header=$(jget "$1" '$j->{headers}{"balatrix-signature"}')
	body=$(jget "$1" '$j->{body}')
	[[ $header =~ ^t=([0-9]+),v1=([0-9a-f]{64})$ ]] || return 1
	t=${BASH_REMATCH[1]}
	v1=${BASH_REMATCH[2]}
	[[ $(hmac_hex "$t.$body" "$2") == "$v1" ]] && (($(date +%s) - t < 300))
}
wait_until() { # wait_until SECONDS 'SHELL CONDITION': 0 as soon as the condition (evaluated afresh each time) holds
	local deadline=$((SECONDS + $1))
	while ((SECONDS < deadline)); do
		eval "$2" && return 0
		sleep 0.1
	done
	eval "$2"
}
# webhook_endpoint USER CUSTOMER URL -> "id secret", made through the API function as the customer
webhook_endpoint() {
	as_postgres <<SQL | grep whsec_
BEGIN;
SELECT balatrix.set_actor('$1', 'customer', '$2');
SELECT id || ' ' || secret FROM balatrix.api_create_webhook_endpoint('$2', '$3');
COMMIT;
SQL
}

start_fake smtp smtp_capture.py
SMTP_PORT=$FAKE_PORT
start_fake hook webhook_receiver.py
HOOK_PORT=$FAKE_PORT
SMS_TOKEN="sms-token-$(uniq_suffix)"
OUTBOX_ENV=(SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" SMS_GATEWAY_URL="http://127.0.0.1:$HOOK_PORT/sms"
	SMS_GATEWAY_TOKEN="$SMS_TOKEN" SMTP_FROM="Balatrix Billing <billing@balatrix.test>"
	APP_BASE_URL="https://portal.balatrix.test/" OUTBOX_POLL_INTERVAL_MS=200 WEBHOOK_TIMEOUT_MS=3000)
API_SIDECAR_ENV=("${OUTBOX_ENV[@]}")
api_init
trap outbox_cleanup EXIT # api_init set its own trap; ours calls it
S=$(uniq_suffix)

# ---- (a) an invoice issued, then overdue: e-mail, SMS, signed webhook -----------------------------------------
A_MAIL="outbox.a.$S@example.in"
read -r A_USER A_CUST A_ACC <<<"$(new_customer "$A_MAIL")"
as_postgres -c "UPDATE balatrix.customers SET phone = '+919812345678' WHERE id = '$A_CUST'" >/dev/null
read -r A_HOOK A_SECRET <<<"$(webhook_endpoint "$A_USER" "$A_CUST" "http://127.0.0.1:$HOOK_PORT/hook/a")"
[[ $A_SECRET =~ ^whsec_[0-9a-f]{64}$ ]]
ok $? "customer A's webhook endpoint, made by api_create_webhook_endpoint, has a whsec_ secret"

INV=$(as_postgres -c "SELECT balatrix.create_invoice_draft('$A_ACC')")
as_postgres -c "SELECT balatrix.add_invoice_line('$INV', 'plan', 'Professional', 1, 1000.00)" >/dev/null
NUM=$(as_postgres -c "SELECT balatrix.issue_invoice('$INV')")
DUE_ISO=$(as_postgres -c "SELECT due_date FROM balatrix.invoices WHERE id = '$INV'")
DUE=$(LC_ALL=C date -d "$DUE_ISO" '+%d %b %Y')
E_ISSUED=$(as_postgres -c "SELECT id FROM balatrix.event_outbox WHERE dedupe_key = 'invoice.issued:$INV'")
wait_until 15 '(($(mail "$FAKES/smtp" "$A_MAIL" count) >= 1))'
is "$(mail "$FAKES/smtp" "$A_MAIL" count)" 1 "invoice.issued: one e-mail to the customer"
is "$(mail "$FAKES/smtp" "$A_MAIL" subject)" "Invoice $NUM for ₹1,180.00, due $DUE" \
	"its subject: number, total (1000.00 + 18 % GST) and due date"
is "$(mail "$FAKES/smtp" "$A_MAIL" to)" "$A_MAIL" "To: the customer's address"
is "$(mail "$FAKES/smtp" "$A_MAIL" from)" "Balatrix Billing <billing@balatrix.test>" "From: SMTP_FROM"
N_MAIL=$(as_postgres -c "SELECT id FROM balatrix.notifications WHERE event_id = $E_ISSUED AND channel = 'email'")
is "$(mail "$FAKES/smtp" "$A_MAIL" ids)" "<$N_MAIL@balatrix>" "Message-ID: <notification id@balatrix>"
wait_until 10 '(($(hooks "$FAKES/hook" /hook/a okcount) >= 1))'
is "$(hooks "$FAKES/hook" /hook/a count)" 1 "one webhook POST"
REQ=$(hooks "$FAKES/hook" /hook/a last)
verify_signature "$REQ" "$A_SECRET"
ok $? "its Balatrix-Signature verifies with the endpoint's secret (HMAC recomputed here)" "$REQ"
verify_signature "$REQ" "whsec_$(printf '0%.0s' {1..64})"
ok $((!$?)) "and not with another secret"
is "$(jget "$REQ" '$j->{headers}{"balatrix-event-id"} . " " . $j->{headers}{"balatrix-event-type"} . " " . $j->{headers}{"user-agent"}')" \
	"evt_$E_ISSUED invoice.issued balatrix-webhooks/1" "Balatrix-Event-Id, Balatrix-Event-Type, User-Agent"
BODY=$(jget "$REQ" '$j->{body}')
is "$(jget "$BODY" '$j->{id} . " " . $j->{type} . " " . $j->{data}{invoice_number} . " " . $j->{data}{invoice_id}')" \
	"evt_$E_ISSUED invoice.issued $NUM $INV" "the envelope: id, type, and the event's data"
[[ $BODY == *'"total": 1180.00'* ]]
ok $? "the amount travels exactly as the database wrote it (1180.00)" "$BODY"
is "$(hooks "$FAKES/hook" /sms count)" 0 "no SMS for an issued invoice"

as_postgres -c "SELECT balatrix.emit_event('invoice.overdue', '$A_CUST', 'invoice', '$INV',
                jsonb_build_object('invoice_id', '$INV'::uuid, 'invoice_number', '$NUM', 'due_date', '$DUE_ISO',
                                   'outstanding', 1180.00), 'e2e-overdue:$INV')" >/dev/null
E_OVERDUE=$(as_postgres -c "SELECT id FROM balatrix.event_outbox WHERE dedupe_key = 'e2e-overdue:$INV'")
wait_until 15 '(($(hooks "$FAKES/hook" /sms okcount) >= 1 && $(hooks "$FAKES/hook" /hook/a okcount) >= 2 &&
                $(mail "$FAKES/smtp" "$A_MAIL" count) >= 2))'
is "$(mail "$FAKES/smtp" "$A_MAIL" count)" 2 "invoice.overdue: a second e-mail"
is "$(mail "$FAKES/smtp" "$A_MAIL" subject | tail -1)" "Overdue: invoice $NUM, ₹1,180.00 unpaid" "its subject"
is "$(hooks "$FAKES/hook" /sms count)" 1 "one SMS"
SMS=$(hooks "$FAKES/hook" /sms last)
SMS_BODY=$(jget "$SMS" '$j->{body}')
N_SMS=$(as_postgres -c "SELECT id FROM balatrix.notifications WHERE event_id = $E_OVERDUE AND channel = 'sms'")
is "$(jget "$SMS_BODY" '$j->{to} . " " . $j->{reference}')" "+919812345678 $N_SMS" "SMS to the customer's phone, referenced by its notification"
is "$(jget "$SMS_BODY" '$j->{message}')" \
	"Balatrix Billing: invoice $NUM (INR 1,180.00) was due on $DUE and is overdue. Please pay to avoid suspension." \
	"the SMS text (ASCII, at most 160 characters)"
is "$(jget "$SMS" '$j->{headers}{authorization}')" "Bearer $SMS_TOKEN" "the gateway gets SMS_GATEWAY_TOKEN as a Bearer token"
is "$(hooks "$FAKES/hook" /hook/a count)" 2 "and one more webhook"
verify_signature "$(hooks "$FAKES/hook" /hook/a last)" "$A_SECRET"
ok $? "signed as well"
both_done() { [[ $(as_postgres -c "SELECT count(*) FROM balatrix.event_outbox WHERE id IN ($E_ISSUED, $E_OVERDUE) AND status = 'done'") == 2 ]]; }
wait_until 5 both_done
is "$(as_postgres -c "SELECT string_agg(channel || ':' || status || ':' || attempts, ' ' ORDER BY event_id, channel)
                      FROM balatrix.notifications WHERE event_id IN ($E_ISSUED, $E_OVERDUE)")" \
	"email:sent:1 webhook:sent:1 email:sent:1 sms:sent:1 webhook:sent:1" "both events done, each notification sent once"
grep -q "$SMS_TOKEN" "$WORK/sidecar.log"
ok $((!$?)) "the SMS token is not in the sidecar's log"

echo "# (a) done at ${SECONDS} s"

# ---- (b) a webhook failing twice: retried alone, delivered on the third attempt ------------------------------
B_MAIL="outbox.b.$S@example.in"
read -r B_USER B_CUST B_ACC <<<"$(new_customer "$B_MAIL")"
read -r B_HOOK B_SECRET <<<"$(webhook_endpoint "$B_USER" "$B_CUST" "http://127.0.0.1:$HOOK_PORT/hook/b")"
curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' --data '{"count": 2, "status": 500, "path_prefix": "/hook/b"}' \
	"http://127.0.0.1:$HOOK_PORT/__control/faults"
as_postgres -c "SELECT balatrix.emit_event('payment.captured', '$B_CUST', 'payment', 'e2e-$S',
                '{\"amount\": 500.00, \"currency\": \"INR\", \"payment_number\": \"PE2E$S\"}', 'e2e-paid:$S')" >/dev/null
E_PAID=$(as_postgres -c "SELECT id FROM balatrix.event_outbox WHERE dedupe_key = 'e2e-paid:$S'")
# fail_event's backoff is 30 s, then 60 s: the superuser makes each retry due at once (no NOTIFY: polling finds it).
hurry() {
	as_postgres -c "UPDATE balatrix.event_outbox SET available_at = now() WHERE id = $E_PAID AND status = 'pending'
	                AND locked_by IS NULL AND available_at > now()" >/dev/null
	[[ $(as_postgres -c "SELECT status FROM balatrix.event_outbox WHERE id = $E_PAID") == done ]]
}
wait_until 30 hurry
is "$(as_postgres -c "SELECT status || ' ' || attempts || ' ' || coalesce(last_error, '-') FROM balatrix.event_outbox WHERE id = $E_PAID")" \
	"done 3 webhook: HTTP 500" "the event: done at the third attempt (last error kept)"
is "$(hooks "$FAKES/hook" /hook/b statuses)" "500 500 200" "the endpoint saw 500, 500, then 200"
REQ=$(hooks "$FAKES/hook" /hook/b last)
verify_signature "$REQ" "$B_SECRET"
ok $? "the delivered webhook's signature verifies"
is "$(jget "$REQ" '$j->{headers}{"balatrix-event-id"}')" "evt_$E_PAID" "with the same event id as the failed tries"
is "$(mail "$FAKES/smtp" "$B_MAIL" count)" 1 "the receipt e-mail went out once, not on every retry"
is "$(mail "$FAKES/smtp" "$B_MAIL" subject)" "Payment received: ₹500.00" "its subject"
is "$(as_postgres -c "SELECT string_agg(channel || ':' || status || ':' || attempts, ' ' ORDER BY channel) FROM balatrix.notifications WHERE event_id = $E_PAID")" \
	"email:sent:1 webhook:sent:3" "notifications: the e-mail sent once, the webhook after 3 attempts"

echo "# (b) done at ${SECONDS} s"

# ---- (c) forgot-password: the reset e-mail, never a webhook ----------------------------------------------------
HOOK_A_BEFORE=$(hooks "$FAKES/hook" /hook/a count)
MAIL_A_BEFORE=$(mail "$FAKES/smtp" "$A_MAIL" count)
st=$(req forgot POST /api/auth/forgot-password - "{\"email\":\"$A_MAIL\"}")
is "$st" 200 "POST /api/auth/forgot-password -> 200"
wait_until 15 '(($(mail "$FAKES/smtp" "$A_MAIL" count) > MAIL_A_BEFORE))'
is "$(mail "$FAKES/smtp" "$A_MAIL" count)" $((MAIL_A_BEFORE + 1)) "one reset e-mail"
is "$(mail "$FAKES/smtp" "$A_MAIL" subject | tail -1)" "Reset your password" "its subject"
BODY=$(mail "$FAKES/smtp" "$A_MAIL" body)
TOKEN=$(printf '%s\n' "$BODY" | sed -n 's|^https://portal\.balatrix\.test/reset-password?token=\([A-Za-z0-9_%-]*\)$|\1|p')
[[ -n $TOKEN ]]
ok $? "the body holds the link APP_BASE_URL/reset-password?token=..." "$BODY"
E_RESET=$(as_postgres -c "SELECT max(id) FROM balatrix.event_outbox WHERE event_type = 'user.password_reset_requested' AND aggregate_id = '$A_USER'")
wait_until 5 '[[ $(as_postgres -c "SELECT status FROM balatrix.event_outbox WHERE id = $E_RESET") == done ]]'
is "$(as_postgres -c "SELECT status FROM balatrix.event_outbox WHERE id = $E_RESET")" done "the reset event is done"
is "$(hooks "$FAKES/hook" /hook/a count)" "$HOOK_A_BEFORE" "no webhook for it, although the endpoint takes every type"
is "$(as_postgres -c "SELECT string_agg(channel, ' ') FROM balatrix.notifications WHERE event_id = $E_RESET")" email \
	"its only notification is the e-mail"
st=$(req reset POST /api/auth/reset-password - "{\"token\":\"$TOKEN\",\"password\":\"N3w-Passw0rd!e2e\"}")
is "$st" 200 "the mailed token resets the password"

echo "# (c) done at ${SECONDS} s"

# ---- (d) 300 events, one SIGKILL mid-way, a restart: every effect exactly once ----------------------------------
# The API's sidecar stops first, so that the events wait for the sidecar that will be killed.
kill -TERM "$SIDECAR_PID" && wait "$SIDECAR_PID"
start_fake smtp_d smtp_capture.py
D_SMTP=$FAKE_PORT
start_fake hook_d webhook_receiver.py
D_HOOK=$FAKE_PORT
start_sidecar() { # start_sidecar NAME PORT SMTP_PORT HOOK_PORT -> pid in LAST_PID
	env -i PATH="$PATH" DATABASE_URL="$API_DB_URL" JWT_SECRET="$JWT_SECRET_VALUE" PORT="$2" LISTEN_ADDRESS=127.0.0.1 \
		LOG_LEVEL=debug DB_POOL_TIMEOUT_MS=3000 SMTP_URL="smtp://127.0.0.1:$3" SMTP_FROM="Balatrix Billing <billing@balatrix.test>" \
		OUTBOX_POLL_INTERVAL_MS=200 OUTBOX_LEASE_SECONDS=5 OUTBOX_BATCH_SIZE=5 WEBHOOK_TIMEOUT_MS=3000 \
		"$API_BIN" >>"$WORK/sidecar-$1.log" 2>&1 &
	LAST_PID=$!
	EXTRA_PIDS+=("$LAST_PID")
	local i
	for ((i = 0; i < 100; i++)); do
		[[ $(curl -s -o /dev/null --max-time 1 -w '%{http_code}' "http://127.0.0.1:$2/health/live") == 200 ]] && return 0
		sleep 0.1
	done
	echo "Bail out! sidecar $1 did not start"
	sed 's/^/# /' "$WORK/sidecar-$1.log"
	exit 1
}
many_events() { # many_events CUSTOMER TAG N -> "first_id last_id" (one transaction)
	as_postgres -1 -c "SELECT count(*) FROM (
	                     SELECT balatrix.emit_event('payment.captured', '$1', 'payment', '$2-' || g,
	                            jsonb_build_object('amount', (g || '.00')::numeric, 'currency', 'INR', 'payment_number', 'P$2' || g),
	                            '$2:' || g) FROM generate_series(1, $3) g) s" \
		-c "SELECT min(id) || ' ' || max(id) FROM balatrix.event_outbox WHERE dedupe_key LIKE '$2:%'" | tail -1
}
D_MAIL="outbox.d.$S@example.in"
read -r D_USER D_CUST D_ACC <<<"$(new_customer "$D_MAIL")"
read -r D_EP D_SECRET <<<"$(webhook_endpoint "$D_USER" "$D_CUST" "http://127.0.0.1:$D_HOOK/hook/d")"
read -r D_FIRST D_LAST <<<"$(many_events "$D_CUST" "kill$S" 300)"
is "$((D_LAST - D_FIRST + 1))" 300 "300 payment.captured events for customer D"
# Each webhook answer takes 20 ms, so the 300 events take seconds and the kill lands mid-way.
curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' --data '{"count": 100000, "status": 200, "delay_ms": 20}' \
	"http://127.0.0.1:$D_HOOK/__control/faults"
start_sidecar d1 $((PORT + 1)) "$D_SMTP" "$D_HOOK"
D1=$LAST_PID
emls() { find "$FAKES/smtp_d" -name '*.eml' | wc -l; }
wait_until 60 '(($(emls) >= 100))'
kill -KILL "$D1"
{ wait "$D1"; } 2>/dev/null # (bash would report "Killed" on stderr)
AT_KILL=$(emls)
ok $((!(AT_KILL >= 100 && AT_KILL < 300))) "SIGKILL after $AT_KILL of 300 e-mails"
D_LEASED=$(as_postgres -c "SELECT count(*) FROM balatrix.event_outbox WHERE id BETWEEN $D_FIRST AND $D_LAST AND status = 'pending' AND locked_by IS NOT NULL")
echo "# events still leased to the killed sidecar: $D_LEASED"
start_sidecar d2 $((PORT + 2)) "$D_SMTP" "$D_HOOK"
D2=$LAST_PID
d_done() { [[ $(as_postgres -c "SELECT count(*) FROM balatrix.event_outbox WHERE id BETWEEN $D_FIRST AND $D_LAST AND status = 'done'") == 300 ]]; }
wait_until 120 d_done
ok $? "after the restart all 300 events are done" "$(as_postgres -c "SELECT status, count(*) FROM balatrix.event_outbox WHERE id BETWEEN $D_FIRST AND $D_LAST GROUP BY 1")"
is "$(as_postgres -c "SELECT status || ' ' || events FROM balatrix.outbox_stats() WHERE status IN ('pending', 'leased', 'dead') ORDER BY status")" \
	"dead 0"$'\n'"leased 0"$'\n'"pending 0" "outbox_stats: nothing pending, leased or dead"
EXPECTED_IDS=$(as_postgres -c "SELECT '<' || id || '@balatrix>' FROM balatrix.notifications WHERE event_id BETWEEN $D_FIRST AND $D_LAST AND channel = 'email' ORDER BY 1")
GOT_IDS=$(mail "$FAKES/smtp_d" "$D_MAIL" ids)
is "$(printf '%s\n' "$GOT_IDS" | sort -u | wc -l)" 300 "300 distinct Message-IDs arrived"
is "$(printf '%s\n' "$GOT_IDS" | sort -u)" "$(printf '%s\n' "$EXPECTED_IDS" | sort -u)" "exactly the 300 notifications' ids"
GOT_EVT=$(hooks "$FAKES/hook_d" /hook/d eventids)
is "$(printf '%s\n' "$GOT_EVT" | sort -u | wc -l)" 300 "300 distinct Balatrix-Event-Ids arrived"
is "$(printf '%s\n' "$GOT_EVT" | sort -u)" "$(seq "$D_FIRST" "$D_LAST" | sed 's/^/evt_/' | sort)" "exactly the 300 events"
RAW_MAIL=$(mail "$FAKES/smtp_d" "$D_MAIL" count)
RAW_HOOK=$(hooks "$FAKES/hook_d" /hook/d count)
DUPS=$((RAW_MAIL - 300 + RAW_HOOK - 300))
echo "# raw deliveries after one SIGKILL: $RAW_MAIL e-mails, $RAW_HOOK webhooks: $DUPS duplicate(s)"
ok $((DUPS < 0 || DUPS > 1)) "at most one duplicate (the delivery in flight at the kill): measured $DUPS"
is "$(as_postgres -c "SELECT count(*) FROM balatrix.notifications WHERE event_id BETWEEN $D_FIRST AND $D_LAST AND status = 'sent'")" 600 \
	"600 notifications recorded sent"
kill -TERM "$D2" && wait "$D2"
ok $? "the restarted sidecar stops cleanly (SIGTERM, exit 0)"

echo "# (d) done at ${SECONDS} s"

# ---- (e) two sidecars at once: no duplicate ----------------------------------------------------------------------
start_fake smtp_e smtp_capture.py
E_SMTP=$FAKE_PORT
start_fake hook_e webhook_receiver.py
E_HOOK=$FAKE_PORT
E_MAIL="outbox.e.$S@example.in"
read -r E_USER E_CUST E_ACC <<<"$(new_customer "$E_MAIL")"
read -r E_EP E_SECRET <<<"$(webhook_endpoint "$E_USER" "$E_CUST" "http://127.0.0.1:$E_HOOK/hook/e")"
read -r E_FIRST E_LAST <<<"$(many_events "$E_CUST" "two$S" 300)"
start_sidecar e1 $((PORT + 1)) "$E_SMTP" "$E_HOOK"
E1=$LAST_PID
start_sidecar e2 $((PORT + 2)) "$E_SMTP" "$E_HOOK"
E2=$LAST_PID
e_done() { [[ $(as_postgres -c "SELECT count(*) FROM balatrix.event_outbox WHERE id BETWEEN $E_FIRST AND $E_LAST AND status = 'done'") == 300 ]]; }
wait_until 120 e_done
ok $? "two sidecars: all 300 events done"
is "$(mail "$FAKES/smtp_e" "$E_MAIL" count)" 300 "exactly 300 e-mails (raw count)"
is "$(mail "$FAKES/smtp_e" "$E_MAIL" ids | sort -u | wc -l)" 300 "300 distinct Message-IDs"
is "$(hooks "$FAKES/hook_e" /hook/e count)" 300 "exactly 300 webhooks (raw count)"
is "$(hooks "$FAKES/hook_e" /hook/e eventids | sort -u | wc -l)" 300 "300 distinct Balatrix-Event-Ids"
W1=$(grep -c '"msg":"outbox_event_processed"' "$WORK/sidecar-e1.log")
W2=$(grep -c '"msg":"outbox_event_processed"' "$WORK/sidecar-e2.log")
echo "# events processed: sidecar e1 $W1, sidecar e2 $W2"
ok $((!(W1 > 0 && W2 > 0 && W1 + W2 == 300))) "both sidecars worked ($W1 + $W2 = 300 events)"
kill -TERM "$E2" && wait "$E2"
ok $? "the second sidecar stops cleanly"
echo "# (e) done at ${SECONDS} s"
# api_finish checks that the sidecar it knows is still running.
SIDECAR_PID=$E1
api_finish

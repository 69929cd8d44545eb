#!/usr/bin/env bash
# End-to-end: the per-backend look-up cache of the CDR rating trigger (accountcode / DID -> account,
# account -> subscriptions; extension/pg/cdr_rating.cpp) follows account, extension, DID and
# subscription changes committed by another session. Session A (one psql connection kept open for
# the whole test) judges the same CDRs with balatrix.rate_cdr (JudgeRow, the trigger's own look-ups)
# before and after session B (separate connections) changes what they resolve to; A must see each
# change once B has committed, never one B rolled back, and inside an open transaction of its own
# the change committed before its next statement.
#
# Adds, and removes at the end (also after a failed run), a rate plan E2E_LOOKUP_CACHE, its deck,
# a customer, accounts E2E-LC1 / E2E-LC2, their subscriptions, an extension and a DID.
#
# TAP output; run with:  prove -e bash tests/e2e/lookup_cache.sh
# Environment: BALATRIX_TEST_PGHOST, BALATRIX_TEST_PGPORT, BALATRIX_TEST_DB (a database with the
# extension installed; superuser postgres reachable without a password).
set -uo pipefail

HOST=${BALATRIX_TEST_PGHOST:?BALATRIX_TEST_PGHOST is not set}
PORT=${BALATRIX_TEST_PGPORT:?BALATRIX_TEST_PGPORT is not set}
DB=${BALATRIX_TEST_DB:?BALATRIX_TEST_DB is not set}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/balatrix-lookup-cache-XXXXXX")
A_PID=

as_postgres() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres -d "$DB" "$@"; }

cleanup_rows() {
	as_postgres <<'SQL' >/dev/null 2>&1
SET session_replication_role = replica;
DELETE FROM balatrix.dids WHERE customer_id = '00000000-0000-4000-8000-0000000e2f01';
DELETE FROM balatrix.sip_extensions WHERE customer_id = '00000000-0000-4000-8000-0000000e2f01';
DELETE FROM balatrix.subscriptions WHERE customer_id = '00000000-0000-4000-8000-0000000e2f01';
DELETE FROM balatrix.accounts WHERE customer_id = '00000000-0000-4000-8000-0000000e2f01';
DELETE FROM balatrix.customers WHERE id = '00000000-0000-4000-8000-0000000e2f01';
DELETE FROM balatrix.rate_plan_decks pd USING balatrix.rate_plans p WHERE p.id = pd.rate_plan_id AND p.code = 'E2E_LOOKUP_CACHE';
DELETE FROM balatrix.rates r USING balatrix.rate_decks d WHERE d.id = r.rate_deck_id AND d.name = 'E2E_LOOKUP_CACHE';
DELETE FROM balatrix.rate_decks WHERE name = 'E2E_LOOKUP_CACHE';
DELETE FROM balatrix.rate_plans WHERE code = 'E2E_LOOKUP_CACHE';
SQL
}
finish() {
	exec 3>&- 2>/dev/null
	[ -n "$A_PID" ] && wait "$A_PID" 2>/dev/null
	cleanup_rows
	rm -rf "$WORK"
}
trap finish EXIT

source "$(dirname "${BASH_SOURCE[0]}")/lib/tap.sh"

echo "1..17"
cleanup_rows

# Committed set-up: a plan priced by one deck (India at ₹1.00/min), accounts E2E-LC1 (…e2f11) and
# E2E-LC2 (…e2f12), each with an active subscription since 2025-01-01 (…e2f21, …e2f22).
if ! as_postgres >"$WORK/setup.out" 2>&1 <<'SQL'; then
BEGIN;
INSERT INTO balatrix.rate_plans (code, name, monthly_price, quarterly_price, annual_price, overage_rate)
    VALUES ('E2E_LOOKUP_CACHE', 'E2E look-up cache', 0, 0, 0, 1);
SELECT balatrix.create_rate_deck('E2E_LOOKUP_CACHE') AS deck \gset
SELECT count(*) FROM balatrix.load_rates(:'deck', E'prefix,rate_per_minute\n91,1.00');
SELECT balatrix.publish_rate_deck(:'deck');
SELECT balatrix.attach_rate_deck('E2E_LOOKUP_CACHE', :'deck', 100);
INSERT INTO balatrix.customers (id, name, billing_state_code)
    VALUES ('00000000-0000-4000-8000-0000000e2f01', 'E2E Look-up Cache', '29');
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type) VALUES
    ('00000000-0000-4000-8000-0000000e2f11', '00000000-0000-4000-8000-0000000e2f01', 'E2E-LC1', 'prepaid'),
    ('00000000-0000-4000-8000-0000000e2f12', '00000000-0000-4000-8000-0000000e2f01', 'E2E-LC2', 'prepaid');
INSERT INTO balatrix.subscriptions (id, customer_id, account_id, rate_plan_id, status, recurring_price, anchor_day, started_at)
SELECT v.id, '00000000-0000-4000-8000-0000000e2f01', v.account_id, p.id, 'active', 0, 1, '2025-01-01'
  FROM balatrix.rate_plans p,
       (VALUES ('00000000-0000-4000-8000-0000000e2f21'::uuid, '00000000-0000-4000-8000-0000000e2f11'::uuid),
               ('00000000-0000-4000-8000-0000000e2f22', '00000000-0000-4000-8000-0000000e2f12')) v (id, account_id)
 WHERE p.code = 'E2E_LOOKUP_CACHE';
COMMIT;
SQL
	echo "Bail out! set-up failed: $(tr '\n' ' ' <"$WORK/setup.out")"
	exit 1
fi

# Session A: one connection, fed through a FIFO; each answer is tagged with its request number.
mkfifo "$WORK/a.in"
psql -X -q -At -h "$HOST" -p "$PORT" -U postgres -d "$DB" <"$WORK/a.in" >"$WORK/a.out" 2>&1 &
A_PID=$!
exec 3>"$WORK/a.in"
echo 0 >"$WORK/seq"
in_a() { # in_a <expression>: its value, computed in session A (called in $(...): the counter is a file)
	local seq
	seq=$(($(cat "$WORK/seq") + 1))
	echo "$seq" >"$WORK/seq"
	printf "SELECT 'R%d:' || (%s);\n" "$seq" "$1" >&3
	for _ in $(seq 1 100); do
		if grep -q "^R$seq:" "$WORK/a.out"; then
			sed -n "s/^R$seq://p" "$WORK/a.out"
			return
		fi
		grep -q "ERROR" "$WORK/a.out" && break
		sleep 0.1
	done
	echo "(no answer: $(tr '\n' ' ' <"$WORK/a.out"))"
}
# judge <accountcode or null> <destination>: "<status> <account tail> <subscription tail>" as A rates it.
judge() {
	local code=$1 dest=$2
	[ "$code" = null ] && code=null || code="\"$code\""
	echo "(SELECT r.rating_status || ' ' || coalesce(right(r.account_id::text, 5), '-') || ' ' || coalesce(right(r.subscription_id::text, 5), '-')
	          FROM balatrix.rate_cdr(jsonb_populate_record(NULL::balatrix.cdr, '{\"uuid\": \"e2e-lc\", \"accountcode\": $code,
	               \"destination_number\": \"$dest\", \"start_stamp\": \"2025-03-14 10:00:00\", \"answer_stamp\": \"2025-03-14 10:00:05\",
	               \"end_stamp\": \"2025-03-14 10:01:05\", \"duration\": \"65\", \"billsec\": \"60\"}'), 0) r)"
}
BY_CODE=$(judge E2E-LC1 9876543210)
BY_EXT=$(judge E2E-EXT-LC 9876543210)
BY_DID=$(judge null 5550001234)

A_BACKEND=$(in_a 'pg_backend_pid()::text')
is "$(in_a "$BY_CODE")" "rated e2f11 e2f21" "session A: accountcode E2E-LC1 is account 1, its subscription"
is "$(in_a "$BY_CODE")" "rated e2f11 e2f21" "session A: the same again (from its cache)"
is "$(in_a "$BY_EXT")" "unknown_account - -" "session A: E2E-EXT-LC is no account and no extension"
is "$(in_a "$BY_DID")" "unknown_account - -" "session A: 5550001234 is no DID"

as_postgres -c "UPDATE balatrix.accounts SET account_number = 'E2E-LC1-OLD' WHERE id = '00000000-0000-4000-8000-0000000e2f11'" \
	-c "UPDATE balatrix.accounts SET account_number = 'E2E-LC1' WHERE id = '00000000-0000-4000-8000-0000000e2f12'" >/dev/null
is "$(in_a "$BY_CODE")" "rated e2f12 e2f22" "session B moved account number E2E-LC1 to account 2 and committed: session A follows"

as_postgres -c "BEGIN" -c "UPDATE balatrix.accounts SET account_number = 'E2E-LC9' WHERE id = '00000000-0000-4000-8000-0000000e2f12'" -c "ROLLBACK" >/dev/null
is "$(in_a "$BY_CODE")" "rated e2f12 e2f22" "session B renamed it and rolled back: session A still finds account 2"

as_postgres -c "INSERT INTO balatrix.sip_extensions (customer_id, account_id, extension)
                VALUES ('00000000-0000-4000-8000-0000000e2f01', '00000000-0000-4000-8000-0000000e2f11', 'E2E-EXT-LC')" >/dev/null
is "$(in_a "$BY_EXT")" "rated e2f11 e2f21" "session B added extension E2E-EXT-LC of account 1: session A finds it"
as_postgres -c "UPDATE balatrix.sip_extensions SET is_active = false WHERE extension = 'E2E-EXT-LC'" >/dev/null
is "$(in_a "$BY_EXT")" "unknown_account - -" "session B deactivated the extension: session A no longer finds it"

as_postgres -c "INSERT INTO balatrix.dids (number, number_type, status, customer_id, account_id, assigned_at)
                VALUES ('5550001234', 'virtual', 'assigned', '00000000-0000-4000-8000-0000000e2f01',
                        '00000000-0000-4000-8000-0000000e2f12', '2025-01-01')" >/dev/null
is "$(in_a "$BY_DID")" "rated e2f12 e2f22" "session B assigned DID 5550001234 to account 2: session A finds it"
as_postgres -c "UPDATE balatrix.dids SET account_id = '00000000-0000-4000-8000-0000000e2f11' WHERE number = '5550001234'" >/dev/null
is "$(in_a "$BY_DID")" "rated e2f11 e2f21" "session B moved the DID to account 1: session A follows"

as_postgres -c "UPDATE balatrix.subscriptions SET status = 'cancelled', cancelled_at = now() WHERE id = '00000000-0000-4000-8000-0000000e2f22'" >/dev/null
is "$(in_a "$BY_CODE")" "no_rate e2f12 -" "session B cancelled account 2's subscription: session A finds none"
as_postgres -c "INSERT INTO balatrix.subscriptions (id, customer_id, account_id, rate_plan_id, status, recurring_price, anchor_day, started_at)
                SELECT '00000000-0000-4000-8000-0000000e2f23', '00000000-0000-4000-8000-0000000e2f01',
                       '00000000-0000-4000-8000-0000000e2f12', p.id, 'active', 0, 1, '2025-02-01'
                  FROM balatrix.rate_plans p WHERE p.code = 'E2E_LOOKUP_CACHE'" >/dev/null
is "$(in_a "$BY_CODE")" "rated e2f12 e2f23" "session B gave account 2 a new subscription: session A finds it"
as_postgres -c "UPDATE balatrix.subscriptions SET started_at = '2025-04-01' WHERE id = '00000000-0000-4000-8000-0000000e2f23'" >/dev/null
is "$(in_a "$BY_CODE")" "no_rate e2f12 -" "session B moved its start after the call: session A finds none for the call"

# Inside an open (read committed) transaction of A: a change committed before A's next statement is seen.
printf "BEGIN;\n" >&3
is "$(in_a "$BY_DID")" "rated e2f11 e2f21" "session A, in a transaction: the DID is account 1's"
as_postgres -c "UPDATE balatrix.dids SET account_id = '00000000-0000-4000-8000-0000000e2f12' WHERE number = '5550001234'" >/dev/null
is "$(in_a "$BY_DID")" "no_rate e2f12 -" "session B moved the DID to account 2 meanwhile: session A's next statement follows"
printf "COMMIT;\n" >&3
is "$(in_a "$BY_DID")" "no_rate e2f12 -" "session A, after its transaction: the same"
is "$(in_a 'pg_backend_pid()::text')" "$A_BACKEND" "session A was one backend throughout"

exit $((failed > 0))

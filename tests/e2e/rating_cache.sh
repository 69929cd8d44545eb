#!/usr/bin/env bash
# End-to-end: the per-backend rate cache of balatrix.rate_call follows deck changes committed by
# another session. Session A (one psql connection kept open for the whole test) prices the same
# call before and after session B (separate connections) attaches a deck, detaches it, and
# publishes a new version of the plan's deck; A must see each change once B has committed.
#
# Adds, and removes at the end (also after a failed run), a rate plan E2E_RATING_CACHE, decks
# E2E_RATING_CACHE_A / _B, a customer, account E2E-RC and its subscription. Published decks cannot
# be deleted through the triggers, so the cleanup runs with session_replication_role = replica.
#
# TAP output; run with:  prove -e bash tests/e2e/rating_cache.sh
# Environment: BALATRIX_TEST_PGHOST, BALATRIX_TEST_PGPORT, BALATRIX_TEST_DB (a database with the
# extension installed; superuser postgres reachable without a password).
set -uo pipefail

HOST=${BALATRIX_TEST_PGHOST:?BALATRIX_TEST_PGHOST is not set}
PORT=${BALATRIX_TEST_PGPORT:?BALATRIX_TEST_PGPORT is not set}
DB=${BALATRIX_TEST_DB:?BALATRIX_TEST_DB is not set}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/balatrix-rating-cache-XXXXXX")
A_PID=

as_postgres() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres -d "$DB" "$@"; }

cleanup_rows() {
	as_postgres <<'SQL' >/dev/null 2>&1
SET session_replication_role = replica;
DELETE FROM balatrix.subscriptions WHERE customer_id = '00000000-0000-4000-8000-0000000e2e01';
DELETE FROM balatrix.accounts WHERE customer_id = '00000000-0000-4000-8000-0000000e2e01';
DELETE FROM balatrix.customers WHERE id = '00000000-0000-4000-8000-0000000e2e01';
DELETE FROM balatrix.rate_plan_decks pd USING balatrix.rate_plans p WHERE p.id = pd.rate_plan_id AND p.code = 'E2E_RATING_CACHE';
DELETE FROM balatrix.rates r USING balatrix.rate_decks d WHERE d.id = r.rate_deck_id AND d.name LIKE 'E2E\_RATING\_CACHE\__';
DELETE FROM balatrix.rate_decks WHERE name LIKE 'E2E\_RATING\_CACHE\__';
DELETE FROM balatrix.rate_plans WHERE code = 'E2E_RATING_CACHE';
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

echo "1..8"
cleanup_rows

# Committed set-up: a plan priced by deck A (India at ₹1.00/min, 60/60), deck B (India at
# ₹3.00/min) published but not attached, and an account with an active subscription to the plan.
# No usage row: no allowance, so a 60,000 ms call (exactly one 60 s increment) costs 1 × the rate.
if ! as_postgres >"$WORK/setup.out" 2>&1 <<'SQL'; then
BEGIN;
INSERT INTO balatrix.rate_plans (code, name, monthly_price, quarterly_price, annual_price, overage_rate)
    VALUES ('E2E_RATING_CACHE', 'E2E rating cache', 0, 0, 0, 1);
SELECT balatrix.create_rate_deck('E2E_RATING_CACHE_A') AS deck_a \gset
SELECT count(*) FROM balatrix.load_rates(:'deck_a', E'prefix,rate_per_minute\n91,1.00');
SELECT balatrix.publish_rate_deck(:'deck_a');
SELECT balatrix.attach_rate_deck('E2E_RATING_CACHE', :'deck_a', 100);
SELECT balatrix.create_rate_deck('E2E_RATING_CACHE_B') AS deck_b \gset
SELECT count(*) FROM balatrix.load_rates(:'deck_b', E'prefix,rate_per_minute\n91,3.00');
SELECT balatrix.publish_rate_deck(:'deck_b');
INSERT INTO balatrix.customers (id, name, billing_state_code)
    VALUES ('00000000-0000-4000-8000-0000000e2e01', 'E2E Rating Cache', '29');
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type)
    VALUES ('00000000-0000-4000-8000-0000000e2e02', '00000000-0000-4000-8000-0000000e2e01', 'E2E-RC', 'prepaid');
INSERT INTO balatrix.subscriptions (customer_id, account_id, rate_plan_id, status, recurring_price, anchor_day, started_at)
SELECT '00000000-0000-4000-8000-0000000e2e01', '00000000-0000-4000-8000-0000000e2e02', p.id, 'active', 0, 1, '2025-01-01'
  FROM balatrix.rate_plans p WHERE p.code = 'E2E_RATING_CACHE';
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
CHARGE="(balatrix.rate_call('E2E-RC', '+919876543210', 60000, '2025-03-14 10:00+05:30')).charge::text"

A_BACKEND=$(in_a 'pg_backend_pid()::text')
is "$(in_a "$CHARGE")" "1.0000" "session A: 60 s to India at deck A's ₹1.00/min"
is "$(in_a "$CHARGE")" "1.0000" "session A: the same again (from its cache)"

as_postgres -c "SELECT balatrix.attach_rate_deck('E2E_RATING_CACHE', d.id, 10) FROM balatrix.rate_decks d WHERE d.name = 'E2E_RATING_CACHE_B'" >/dev/null
is "$(in_a "$CHARGE")" "3.0000" "session B attached deck B at priority 10 and committed: session A prices at ₹3.00"

# A change that B rolls back is never seen.
as_postgres -c "BEGIN" -c "SELECT balatrix.detach_rate_deck('E2E_RATING_CACHE', d.id) FROM balatrix.rate_decks d WHERE d.name = 'E2E_RATING_CACHE_B'" -c "ROLLBACK" >/dev/null
is "$(in_a "$CHARGE")" "3.0000" "session B detached deck B and rolled back: session A still prices at ₹3.00"

as_postgres -c "SELECT balatrix.detach_rate_deck('E2E_RATING_CACHE', d.id) FROM balatrix.rate_decks d WHERE d.name = 'E2E_RATING_CACHE_B'" >/dev/null
is "$(in_a "$CHARGE")" "1.0000" "session B detached deck B and committed: session A is back at ₹1.00"

# A new version of deck A with India at ₹2.00, published: the attachment moves to it.
as_postgres >/dev/null <<'SQL'
BEGIN;
SELECT balatrix.new_rate_deck_version('E2E_RATING_CACHE_A') AS v2 \gset
UPDATE balatrix.rates SET rate_per_minute = 2.00 WHERE rate_deck_id = :'v2' AND prefix = '91';
SELECT balatrix.publish_rate_deck(:'v2');
COMMIT;
SQL
is "$(in_a "$CHARGE")" "2.0000" "session B published version 2 of deck A (₹2.00): session A prices at ₹2.00"
is "$(in_a "$CHARGE")" "2.0000" "session A: the same again"
is "$(in_a 'pg_backend_pid()::text')" "$A_BACKEND" "session A was one backend throughout"

exit $((failed > 0))

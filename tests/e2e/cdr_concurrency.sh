#!/usr/bin/env bash
# End-to-end: race-free money. 8 connections x 5,000 single-row INSERTs, each its own autocommit
# statement exactly as mod_cdr_pg_csv sends them (plain text, pgbench -M simple), as FreeSWITCH's role
# balatrix_ingest, all charged to ONE prepaid account (its subscription's allowance is 0). The final
# balance must be the opening balance minus the sum of the charges exactly, with no lost update, no
# deadlock and no error; every CDR gets its own ledger row; balatrix.check_ledger() is empty.
# Then replays racing each other: 4 connections insert the same 500 uuids at once (each its own
# autocommit statement, in a different order per connection), so the dedupe meets uuids another
# session is inserting right now: exactly 500 CDRs are stored and charged once, and nothing raises.
#
# Ledger rows cannot be deleted, so everything happens in a database this test creates and drops.
#
# TAP output; run with:  prove -e bash tests/e2e/cdr_concurrency.sh
# Environment: BALATRIX_TEST_PGHOST, BALATRIX_TEST_PGPORT (superuser postgres and balatrix_ingest
# reachable without a password; the balatrix extension installed in the cluster). BALATRIX_TEST_DB is
# not used: the test makes its own database.
set -uo pipefail

HOST=${BALATRIX_TEST_PGHOST:?BALATRIX_TEST_PGHOST is not set}
PORT=${BALATRIX_TEST_PGPORT:?BALATRIX_TEST_PGPORT is not set}
DB=bx_cdr_concurrency_$$
CLIENTS=8
PER_CLIENT=5000
TOTAL=$((CLIENTS * PER_CLIENT))
WORK=$(mktemp -d "${TMPDIR:-/tmp}/balatrix-cdr-concurrency-XXXXXX")

as_postgres() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres "$@"; }
cleanup() {
	as_postgres -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT

source "$(dirname "${BASH_SOURCE[0]}")/lib/tap.sh"

echo "1..14"

if ! command -v pgbench >/dev/null; then
	echo "Bail out! pgbench not found (Debian: postgresql-15 / postgresql-client)"
	exit 1
fi
if ! out=$(as_postgres -d postgres -c "CREATE DATABASE $DB" 2>&1); then
	echo "Bail out! cannot create database $DB: $out"
	exit 1
fi

# One prepaid account with ₹1,000,000.0000 (opening top-up ledger row), an active STARTER subscription
# for March 2025 whose usage row includes 0 seconds, so every call is charged.
setup=$(as_postgres -d "$DB" 2>&1 <<'SQL'
CREATE EXTENSION balatrix;
SELECT balatrix.install_default_catalogue();
INSERT INTO balatrix.customers (id, name, billing_state_code)
    VALUES ('00000000-0000-4000-8000-00000000e001', 'Concurrency Test Pvt Ltd', '29');
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type)
    VALUES ('00000000-0000-4000-8000-00000000e101', '00000000-0000-4000-8000-00000000e001', 'CONC1', 'prepaid');
INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after, reference_type, reference_id)
    VALUES ('00000000-0000-4000-8000-00000000e001', '00000000-0000-4000-8000-00000000e101', 'top_up', 1000000.0000, 'INR',
            1000000.0000, 'manual', 'opening');
UPDATE balatrix.accounts SET balance = 1000000.0000 WHERE id = '00000000-0000-4000-8000-00000000e101';
INSERT INTO balatrix.subscriptions (id, customer_id, account_id, rate_plan_id, status, recurring_price, anchor_day,
                                    started_at, current_period_start, current_period_end)
SELECT '00000000-0000-4000-8000-00000000e201', '00000000-0000-4000-8000-00000000e001',
       '00000000-0000-4000-8000-00000000e101', p.id, 'active', 349, 1,
       '2025-03-01 00:00+05:30', '2025-03-01 00:00+05:30', '2025-04-01 00:00+05:30'
  FROM balatrix.rate_plans p WHERE p.code = 'STARTER';
INSERT INTO balatrix.subscription_usage (customer_id, subscription_id, period_start, period_end, included_seconds)
    VALUES ('00000000-0000-4000-8000-00000000e001', '00000000-0000-4000-8000-00000000e201',
            '2025-03-01 00:00+05:30', '2025-04-01 00:00+05:30', 0);
SQL
)
rc=$?
ok $rc "a database with one prepaid account, ₹1,000,000 and an allowance of 0" "$setup"
[ $rc -eq 0 ] || { echo "Bail out! setup failed"; exit 1; }

# Each call: India (9876543210 -> 919876543210, prefix 91, ₹1.9900/min, 60/60), billmsec 61000 ->
# 120 s -> 2 min x ₹1.9900 = ₹3.9800. A fresh uuid per statement.
cat >"$WORK/cdr.sql" <<'SQL'
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec,billmsec) VALUES ('10.0.0.15','Load Test','1001','9876543210','default','2025-03-14 09:26:53','2025-03-14 09:27:01','2025-03-14 09:28:02',69,61,'NORMAL_CLEARING',gen_random_uuid()::text,null,'CONC1','PCMA','PCMA',61000);
SQL
start=$(date +%s.%N)
out=$(PGOPTIONS='-c balatrix.cdr_timezone=Europe/Berlin' pgbench -n -M simple -h "$HOST" -p "$PORT" -U balatrix_ingest \
	-c "$CLIENTS" -j "$CLIENTS" -t "$PER_CLIENT" -f "$WORK/cdr.sql" "$DB" 2>&1)
rc=$?
end=$(date +%s.%N)
echo "# $TOTAL single-row INSERTs on $CLIENTS connections took $(echo "$end - $start" | bc) s"
printf '%s\n' "$out" | grep -E 'tps|latency average|processed' | sed 's/^/# /'
ok $rc "pgbench: $CLIENTS clients x $PER_CLIENT INSERTs as balatrix_ingest" "$out"
if printf '%s\n' "$out" | grep -qiE 'error|deadlock|abort'; then
	ok 1 "no error, deadlock or abort in the pgbench output" "$out"
else
	ok 0 "no error, deadlock or abort in the pgbench output"
fi

# Σ charges worked out independently: 40,000 x ₹3.9800 = ₹159,200.0000; 1,000,000 - 159,200 = 840,800.
EXPECTED_SUM=$(echo "$TOTAL * 3.98" | bc)
EXPECTED_BALANCE=$(echo "1000000 - $EXPECTED_SUM" | bc)
is "$(as_postgres -d "$DB" -c "SELECT count(*) FILTER (WHERE rating_status = 'rated' AND charge = 3.98) || '/' || count(*) FROM balatrix.cdr")" \
	"$TOTAL/$TOTAL" "$TOTAL CDRs stored, each rated at ₹3.9800"
is "$(as_postgres -d "$DB" -c "SELECT balance = $EXPECTED_BALANCE, balance FROM balatrix.accounts WHERE account_number = 'CONC1'")" \
	"t|$(printf '%.4f' "$EXPECTED_BALANCE")" "final balance = 1,000,000 - $TOTAL x 3.98 = $EXPECTED_BALANCE exactly"
is "$(as_postgres -d "$DB" -c "SELECT count(*) || '|' || count(DISTINCT id) || '|' || sum(amount) FROM balatrix.ledger WHERE entry_type = 'usage'")" \
	"$TOTAL|$TOTAL|-$(printf '%.4f' "$EXPECTED_SUM")" "$TOTAL distinct usage ledger rows summing to -$EXPECTED_SUM"
is "$(as_postgres -d "$DB" -c "SELECT count(DISTINCT c.ledger_id) || '|' || count(*) FILTER (WHERE l.id IS NULL OR l.amount <> -c.charge OR l.reference_id <> c.id::text)
                                  FROM balatrix.cdr c LEFT JOIN balatrix.ledger l ON l.id = c.ledger_id")" \
	"$TOTAL|0" "every CDR points at its own ledger row (amount -charge, reference its id)"
is "$(as_postgres -d "$DB" -c "SELECT count(*) FROM balatrix.check_ledger()")" "0" "balatrix.check_ledger() is empty"
# Each ledger row's balance_after follows from the one before it: no update was lost in between.
is "$(as_postgres -d "$DB" -c "SELECT count(*) FROM (SELECT balance_after, amount, lag(balance_after) OVER (ORDER BY id) AS before
                                                       FROM balatrix.ledger) x WHERE before IS NOT NULL AND before + amount <> balance_after")" \
	"0" "the ledger's balance_after chain is unbroken"
is "$(as_postgres -d "$DB" -c "SELECT call_count || '|' || overage_seconds || '|' || overage_charge FROM balatrix.subscription_usage")" \
	"$TOTAL|$((TOTAL * 120))|$(printf '%.4f' "$EXPECTED_SUM")" "usage counters: $TOTAL calls, $((TOTAL * 120)) s and ₹$EXPECTED_SUM of overage"

# Racing replays: the same 500 uuids from 4 connections at once, each in its own order.
DUPS=500
for c in 1 2 3 4; do
	seq 1 $DUPS | shuf --random-source=<(yes "$c") |
		sed "s/.*/INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billmsec,uuid,accountcode) VALUES ('9876543210','2025-03-15 10:00:00','2025-03-15 10:00:01','2025-03-15 10:01:02','61000','race-&','CONC1');/" \
		>"$WORK/race$c.sql"
done
pids=()
for c in 1 2 3 4; do
	PGOPTIONS='-c balatrix.cdr_timezone=Europe/Berlin' psql -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U balatrix_ingest \
		-d "$DB" -f "$WORK/race$c.sql" >"$WORK/race$c.out" 2>&1 &
	pids+=($!)
done
race_rc=0
for p in "${pids[@]}"; do wait "$p" || race_rc=1; done
ok $race_rc "4 connections x the same $DUPS uuids: every INSERT succeeded" "$(cat "$WORK"/race*.out)"
is "$(as_postgres -d "$DB" -c "SELECT count(*) || '|' || count(DISTINCT uuid) || '|' || count(*) FILTER (WHERE charge = 3.98) FROM balatrix.cdr WHERE uuid LIKE 'race-%'")" \
	"$DUPS|$DUPS|$DUPS" "exactly $DUPS racing CDRs stored, each once, each charged ₹3.9800"
RACE_BALANCE=$(echo "$EXPECTED_BALANCE - $DUPS * 3.98" | bc)
is "$(as_postgres -d "$DB" -c "SELECT balance FROM balatrix.accounts WHERE account_number = 'CONC1'")" \
	"$(printf '%.4f' "$RACE_BALANCE")" "balance = $EXPECTED_BALANCE - $DUPS x 3.98 = $RACE_BALANCE: each racing CDR charged once"
is "$(as_postgres -d "$DB" -c "SELECT count(*) FROM balatrix.check_ledger()")" "0" "balatrix.check_ledger() is empty after the race"

[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# End-to-end: the billing cycle under concurrency. 200 postpaid Starter subscriptions are activated on
# 2026-01-01 (invoices INV/2526/000001..000200) and make calls in January; then three psql sessions run
# CALL balatrix.run_billing_cycle_job('2026-02-01', 25) at the same time while a fourth keeps
# inserting late January CDRs (autocommit, one per transaction) for the same accounts. Afterwards:
# every subscription renewed exactly once (one 'period' invoice for the period starting 2026-02-01),
# the invoice numbers of FY 2025-26 run on from 200 with no gap and no duplicate, no call lost from
# the usage counters, every account's balance is minus what it owes (invoices outstanding and calls
# not invoiced yet), check_ledger() is empty, each batch left its job_runs row, and no session saw an
# error, a warning or a deadlock. A second CALL finds nothing due; CALL inside a transaction block is
# refused (the procedure COMMITs between batches).
#
# Issued invoices and ledger rows cannot be deleted, so everything happens in a database this test
# creates and drops.
#
# TAP output; run with:  prove -e bash tests/e2e/billing_cycle_concurrency.sh
# Environment: BALATRIX_TEST_PGHOST, BALATRIX_TEST_PGPORT (or PGHOST, PGPORT): superuser postgres
# reachable without a password, the balatrix extension installed in the cluster. BALATRIX_TEST_DB is
# not used: the test makes its own database.
set -uo pipefail

HOST=${BALATRIX_TEST_PGHOST:-${PGHOST:?neither BALATRIX_TEST_PGHOST nor PGHOST is set}}
PORT=${BALATRIX_TEST_PGPORT:-${PGPORT:?neither BALATRIX_TEST_PGPORT nor PGPORT is set}}
DB=bx_billing_cycle_$$
SUBS=200
BATCH=25
RUNNERS=3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/balatrix-billing-cycle-XXXXXX")
INSERTER_PID=

as_postgres() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres "$@"; }
q() { as_postgres -d "$DB" -c "$1" 2>&1; }
cleanup() {
	# Only the inserter this script started, by its pid.
	[ -n "$INSERTER_PID" ] && kill "$INSERTER_PID" 2>/dev/null
	as_postgres -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT

source "$(dirname "${BASH_SOURCE[0]}")/lib/tap.sh"

echo "1..25"

if ! out=$(as_postgres -d postgres -c "CREATE DATABASE $DB" 2>&1); then
	echo "Bail out! cannot create database $DB: $out"
	exit 1
fi

# 200 customers in Karnataka (the supplier's State: CGST + SGST), each with a postpaid account BC0001..
# BC0200 and a Starter subscription without trial, activated on 2026-01-01: period [1 Jan, 1 Feb),
# one invoice each of 349.00 + 31.41 + 31.41 = 411.82, numbered INV/2526/000001..000200.
# January calls (rated by the trigger as they are inserted): every odd account 110 min to India (100
# included, 10 beyond at 1.99 = 19.90), every third account 2 min to the UK (2 x 6.00 = 12.00).
setup=$(as_postgres -d "$DB" 2>&1 <<SQL
SET client_min_messages = warning;
CREATE EXTENSION balatrix;
SELECT balatrix.install_default_catalogue();
SELECT count(*) FROM balatrix.create_cdr_partitions(6, '2026-01-01');
INSERT INTO balatrix.customers (id, name, billing_state_code)
SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'Cycle customer ' || g, '29'
  FROM generate_series(1, $SUBS) g;
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type, credit_limit)
SELECT ('00000000-0000-4000-9000-' || lpad(g::text, 12, '0'))::uuid, ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid,
       'BC' || lpad(g::text, 4, '0'), 'postpaid', 1000000
  FROM generate_series(1, $SUBS) g;
SELECT count(balatrix.activate_subscription(balatrix.create_subscription(a.id, 'STARTER', 'monthly', '2026-01-01', false),
                                            '2026-01-01'))
  FROM (SELECT id FROM balatrix.accounts ORDER BY account_number) a;
INSERT INTO balatrix.cdr (accountcode, destination_number, start_stamp, answer_stamp, end_stamp, billsec, uuid)
SELECT 'BC' || lpad(g::text, 4, '0'), '9845012345', '2026-01-10 10:00:00', '2026-01-10 10:00:00', '2026-01-10 11:50:00',
       '6600', 'jan-in-' || g
  FROM generate_series(1, $SUBS, 2) g;
INSERT INTO balatrix.cdr (accountcode, destination_number, start_stamp, answer_stamp, end_stamp, billsec, uuid)
SELECT 'BC' || lpad(g::text, 4, '0'), '00442079460000', '2026-01-12 10:00:00', '2026-01-12 10:00:00', '2026-01-12 10:02:00',
       '120', 'jan-uk-' || g
  FROM generate_series(3, $SUBS, 3) g;
CREATE TABLE public.e2e_stop (stop boolean);
SQL
)
rc=$?
ok $rc "a database with $SUBS postpaid accounts and Starter subscriptions activated on 2026-01-01" "$setup"
[ $rc -eq 0 ] || { echo "Bail out! setup failed"; exit 1; }

# 100 calls of 19.90 and 66 of 12.00 (accounts 3, 6, .., 198): 1990.00 + 792.00 = 2782.00.
is "$(q "SELECT count(*) FILTER (WHERE status = 'active' AND current_period_end = '2026-02-01 00:00+05:30')
          || '|' || (SELECT count(*) FROM balatrix.invoices WHERE status = 'issued')
          || '|' || (SELECT max(invoice_number) FROM balatrix.invoices)
          || '|' || (SELECT sum(charge) FROM balatrix.cdr WHERE rating_status = 'rated')
        FROM balatrix.subscriptions")" \
	"$SUBS|$SUBS|INV/2526/000200|2782.0000" \
	"$SUBS active subscriptions due on 2026-02-01, invoices up to INV/2526/000200, January calls rated for 2782.00"

# The fourth session: late January CDRs (2 min to India, 10 Jan), one autocommit INSERT per
# transaction, round-robin over the accounts, until told to stop (e2e_stop).
as_postgres -d "$DB" >"$WORK/inserter.out" 2>"$WORK/inserter.err" <<SQL &
DO \$\$
DECLARE
    i integer := 0;
BEGIN
    LOOP
        INSERT INTO balatrix.cdr (accountcode, destination_number, start_stamp, answer_stamp, end_stamp, billsec, uuid)
        VALUES ('BC' || lpad((i % $SUBS + 1)::text, 4, '0'), '9845012345', '2026-01-20 09:00:00', '2026-01-20 09:00:00',
                '2026-01-20 09:02:00', '120', 'late-' || i);
        COMMIT;
        i := i + 1;
        EXIT WHEN EXISTS (SELECT 1 FROM public.e2e_stop) OR i >= 100000;
    END LOOP;
END
\$\$;
SQL
INSERTER_PID=$!
# Let it get going before the runners start.
for _ in $(seq 1 100); do
	[ "$(q "SELECT count(*) >= 20 FROM balatrix.cdr WHERE uuid LIKE 'late-%'")" = "t" ] && break
	sleep 0.05
done

start=$(date +%s.%N)
pids=()
for r in $(seq 1 $RUNNERS); do
	psql -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres -d "$DB" \
		-c "CALL balatrix.run_billing_cycle_job('2026-02-01', $BATCH)" >"$WORK/runner$r.out" 2>"$WORK/runner$r.err" &
	pids+=($!)
done
runner_rc=0
for p in "${pids[@]}"; do wait "$p" || runner_rc=1; done
end=$(date +%s.%N)
q "INSERT INTO public.e2e_stop VALUES (true)" >/dev/null
wait "$INSERTER_PID"
inserter_rc=$?
INSERTER_PID=
echo "# $RUNNERS concurrent run_billing_cycle_job calls took $(echo "$end - $start" | bc) s"
late=$(q "SELECT count(*) FROM balatrix.cdr WHERE uuid LIKE 'late-%'")
echo "# the inserter stored $late late CDRs meanwhile"

ok $runner_rc "$RUNNERS sessions: CALL balatrix.run_billing_cycle_job('2026-02-01', $BATCH) at once, each exits 0" \
	"$(cat "$WORK"/runner*.err)"
bad=$(grep -HiE 'ERROR|WARNING|deadlock|FATAL' "$WORK"/runner*.err)
ok "$([ -z "$bad" ] && echo 0 || echo 1)" "no error, warning or deadlock in any runner's output" "$bad"
ok "$inserter_rc" "the CDR inserter ran throughout without error" "$(cat "$WORK/inserter.err")"
is "$(q "SELECT count(*) FILTER (WHERE rating_status <> 'rated') || '|' || (count(*) > 0)::text FROM balatrix.cdr WHERE uuid LIKE 'late-%'")" \
	"0|true" "every late CDR was stored and rated"

# Exactly once: one period invoice per subscription for the period starting 1 Feb, and each subscription
# now in [1 Feb, 1 Mar).
is "$(q "SELECT count(*) FILTER (WHERE n = 1) || '|' || count(*) FILTER (WHERE n <> 1)
           FROM (SELECT s.id, (SELECT count(*) FROM balatrix.invoices i
                                WHERE i.subscription_id = s.id AND i.billing_reason = 'period'
                                  AND i.period_start = '2026-02-01 00:00+05:30') AS n
                   FROM balatrix.subscriptions s) x")" \
	"$SUBS|0" "each of the $SUBS subscriptions has exactly one period invoice for the period from 2026-02-01"
is "$(q "SELECT count(*) FROM balatrix.subscriptions
          WHERE status = 'active' AND current_period_start = '2026-02-01 00:00+05:30'
            AND current_period_end = '2026-03-01 00:00+05:30'")" \
	"$SUBS" "all $SUBS subscriptions renewed once: period [2026-02-01, 2026-03-01)"
# Numbering: the renewals took INV/2526/000201..000400, each once, and the series says 400.
is "$(q "SELECT count(*) FROM generate_series(1, $((2 * SUBS))) AS k
           FULL JOIN balatrix.invoices i ON i.invoice_number = 'INV/2526/' || lpad(k::text, 6, '0')
          WHERE k IS NULL OR i.id IS NULL")" \
	"0" "the invoices are exactly INV/2526/000001..$(printf '%06d' $((2 * SUBS))): no gap, no duplicate"
is "$(q "SELECT last_number FROM balatrix.invoice_number_series WHERE series = 'INV' AND financial_year = '2526'")" \
	"$((2 * SUBS))" "the series' last number is $((2 * SUBS))"
is "$(q "SELECT count(*) FROM balatrix.check_ledger()")" "0" "balatrix.check_ledger() is empty"
# No call lost: each usage row counts exactly the charges of the rated CDRs of its subscription (all
# January calls fall in the January usage row).
# Regression: a late January CDR of an account that made no January call before its subscription
# renewed once found no January usage row and was counted nowhere (never invoiced); the rating
# trigger now creates the row of the anchored period containing the call.
is "$(q "SELECT count(*) FROM balatrix.subscriptions s
          WHERE (SELECT coalesce(sum(u.overage_charge + u.other_charge), 0) FROM balatrix.subscription_usage u
                  WHERE u.subscription_id = s.id)
                <> (SELECT coalesce(sum(c.charge), 0) FROM balatrix.cdr c
                     WHERE c.subscription_id = s.id AND c.rating_status = 'rated')")" \
	"0" "every subscription's usage counters hold the charges of all its rated CDRs (no lost update)"
# Money: balance = -(invoices outstanding) - (call charges not invoiced yet), for every account.
is "$(q "SELECT count(*) FROM balatrix.accounts a
          WHERE a.balance <> -(SELECT coalesce(sum(i.total - i.amount_paid - i.amount_credited), 0) FROM balatrix.invoices i
                                WHERE i.account_id = a.id AND i.document_type <> 'credit_note' AND i.status <> 'void')
                             - (SELECT coalesce(sum(u.overage_charge - u.billed_overage_charge + u.other_charge - u.billed_other_charge), 0)
                                  FROM balatrix.subscription_usage u JOIN balatrix.subscriptions s ON s.id = u.subscription_id
                                 WHERE s.account_id = a.id)")" \
	"0" "every account's balance is minus its outstanding invoices and its calls not yet invoiced"
# The January calls inserted before the run are on the February invoices: 1990.00 of overage on the
# 100 odd accounts' invoices and 792.00 of UK calls on the 66 invoices of accounts 3, 6, ..; late
# calls may follow on the next invoice, never twice.
is "$(q "SELECT count(*) FILTER (WHERE l.kind = 'overage') >= 100 AND count(*) FILTER (WHERE l.kind = 'usage') = 66
                AND sum(l.taxable_value) FILTER (WHERE l.kind = 'usage') = 792.00
                AND sum(l.taxable_value) FILTER (WHERE l.kind = 'overage') >= 1990.00
           FROM balatrix.invoice_lines l JOIN balatrix.invoices i ON i.id = l.invoice_id
          WHERE i.period_start = '2026-02-01 00:00+05:30'")" \
	"t" "the February invoices bill the January calls (overage >= 1990.00 on 100 invoices, UK 792.00 on 66)"

# The job's trail: each batch committed its own job_runs row (200 / 25 = 8 batches at least, over the
# three sessions); together they renewed 200 subscriptions with 200 invoices and no failure.
is "$(q "SELECT count(*) >= $((SUBS / BATCH)) AND bool_and(status = 'succeeded')
                AND sum((counts->>'renewed')::int) = $SUBS AND sum((counts->>'invoices')::int) = $SUBS
                AND sum((counts->>'failed')::int) = 0
           FROM balatrix.job_runs WHERE job = 'billing_cycle' AND as_of = '2026-02-01'")" \
	"t" "job_runs: a row per committed batch, $SUBS renewed and $SUBS invoices in all, none failed"
is "$(q "SELECT count(*) FROM balatrix.event_outbox WHERE event_type = 'billing.subscription_failed'")" \
	"0" "no billing.subscription_failed event"

# Idempotent: another CALL for the same day renews nothing and issues nothing.
out=$(psql -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres -d "$DB" \
	-c "CALL balatrix.run_billing_cycle_job('2026-02-01', $BATCH)" 2>&1)
ok $? "a second CALL for 2026-02-01 succeeds" "$out"
is "$(q "SELECT (SELECT count(*) FROM balatrix.invoices) || '|' || (counts->>'due') || '|' || (counts->>'processed')
           FROM balatrix.job_runs WHERE job = 'billing_cycle' ORDER BY id DESC LIMIT 1")" \
	"$((2 * SUBS))|0|0" "the second CALL found nothing due and issued no invoice"

# The procedure commits between batches: inside a transaction block it is refused (2D000).
out=$(psql -X -q -h "$HOST" -p "$PORT" -U postgres -d "$DB" -v ON_ERROR_STOP=1 \
	-c "BEGIN" -c "CALL balatrix.run_billing_cycle_job('2026-02-01', $BATCH)" 2>&1)
rc=$?
ok "$([ $rc -ne 0 ] && printf '%s' "$out" | grep -q 'invalid transaction termination' && echo 0 || echo 1)" \
	"CALL run_billing_cycle_job inside BEGIN is refused (invalid transaction termination)" "$out"

# A payment delivered twice at once (a gateway webhook retried while the first delivery is still in its
# transaction) with the same idempotency key: the second call must return the first payment, and one
# payment with one ledger entry exists.
# Regression: record_payment once looked the key up before locking the invoice, so a concurrent repeat
# failed with 23505 instead of returning the first payment.
inv=$(q "SELECT id FROM balatrix.invoices WHERE invoice_number = 'INV/2526/000001'")
pay_sql="SELECT balatrix.record_payment('$inv', 100.00, 'razorpay', 'pay_e2e_1', '2026-02-02', 'e2e-key-1')"
psql -X -q -At -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres -d "$DB" \
	-c "BEGIN" -c "$pay_sql" -c "SELECT pg_sleep(1)" -c "COMMIT" >"$WORK/pay1.out" 2>"$WORK/pay1.err" &
pay1_pid=$!
sleep 0.3
pay2=$(psql -X -q -At -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres -d "$DB" -c "$pay_sql" 2>&1)
pay2_rc=$?
wait "$pay1_pid"
pay1=$(head -1 "$WORK/pay1.out")
ok "$([ $pay2_rc -eq 0 ] && [ -n "$pay1" ] && [ "$pay2" = "$pay1" ] && echo 0 || echo 1)" \
	"the same payment recorded twice at once: both calls return the first payment" \
	"first: $pay1 $(cat "$WORK/pay1.err")"$'\n'"second: $pay2"
is "$(q "SELECT count(*) || '|' || (SELECT count(*) FROM balatrix.ledger l WHERE l.reference_type = 'payment'
                                       AND l.reference_id IN (SELECT p.id::text FROM balatrix.payments p WHERE p.idempotency_key = 'e2e-key-1'))
           FROM balatrix.payments WHERE idempotency_key = 'e2e-key-1'")" \
	"1|1" "one payment and one ledger entry for the key"

# A subscription whose billing fails is skipped, with a WARNING, and the job goes on: on 2026-03-01
# subscription BC0007's price is set so high that its invoice total overflows numeric(14,2)
# (999,999,999,999.99 + 18 % GST > 10^12): 22003. The other 199 renew, it stays in February.
failing=$(q "UPDATE balatrix.subscriptions s SET recurring_price = 999999999999.99 FROM balatrix.accounts a
              WHERE a.id = s.account_id AND a.account_number = 'BC0007' RETURNING s.id")
psql -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres -d "$DB" \
	-c "CALL balatrix.run_billing_cycle_job('2026-03-01', $BATCH)" >"$WORK/fail.out" 2>"$WORK/fail.err"
ok $? "CALL run_billing_cycle_job('2026-03-01') with one failing subscription completes" "$(cat "$WORK/fail.err")"
ok "$(grep -q "WARNING:  billing cycle 2026-03-01: subscription $failing failed: .*(22003)" "$WORK/fail.err" && echo 0 || echo 1)" \
	"it warns: billing cycle 2026-03-01: subscription <id> failed: ... (22003)" "$(cat "$WORK/fail.err")"
is "$(q "SELECT count(*) FILTER (WHERE current_period_start = '2026-03-01 00:00+05:30') || '|'
            || count(*) FILTER (WHERE id = '$failing' AND current_period_start = '2026-02-01 00:00+05:30')
           FROM balatrix.subscriptions")" \
	"$((SUBS - 1))|1" "the other $((SUBS - 1)) subscriptions renewed; the failing one is still in February"
is "$(q "SELECT count(*) || '|' || min(payload->>'sqlstate') FROM balatrix.event_outbox
          WHERE event_type = 'billing.subscription_failed' AND aggregate_id = '$failing'")" \
	"1|22003" "one billing.subscription_failed event for it, sqlstate 22003"

[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Benchmark (issue 4, deliverable 7): the billing cycle. 50,000 postpaid subscriptions (Starter /
# Professional / Call Center, monthly, all activated on 2026-03-01) whose closed period
# [2026-03-01, 2026-04-01) holds 5,000,000 CDRs rated by the rating trigger (so every usage counter
# is real: overage beyond the allowance, international calls outside it) are invoiced by
# CALL balatrix.run_billing_cycle_job('2026-04-01', 200), as pg_cron runs it. Target: <= 120 s.
#
# Setup (timed, not the measured quantity): catalogue, partitions, customers (Karnataka /
# Maharashtra / Chandigarh, one in ten with a GSTIN), accounts, subscriptions through
# create_subscription + activate_subscription (their first invoices), then the CDRs through the
# trigger, in INSERT ... SELECT statements of 1,000 subscriptions each. The loaded database is the
# template of every run, each in a fresh copy (CREATE DATABASE ... TEMPLATE, file copy):
#   cycle     the measured run: the CALL, wall clock; then the correctness checks (any failure fails
#             the script) and the baseline, in the same database
#   baseline  the write floor: the rows the run wrote (invoices, their lines, ledger entries, outbox
#             events) and the values it changed (subscription periods, usage billed), staged in
#             advance and written by one set-based statement per table, in one transaction, into
#             scratch copies of the tables with the same columns, defaults, CHECK constraints and
#             indexes (no triggers, no foreign keys, no per-subscription logic)
#   no CDRs   the same cycle on the subscriptions alone (recurring lines only): what usage adds
#   one tx    SELECT * FROM balatrix.run_billing_cycle(as_of, N): the first N (BENCH_BILLING_ONE_TX_LIMIT,
#             default 10,000) in one transaction (BENCH_BILLING_ONE_TX=0 skips it)
#   what-ifs  (BENCH_BILLING_WHATIF=1) the CALL on copies without the rating-cache invalidation
#             trigger on subscriptions, without the CHECK constraints of the tables the cycle writes,
#             without either, without any trigger (session_replication_role = replica)
#   profile   the CALL again with track_functions = all (pg_stat_user_functions: self and total time
#             of every function) and, when perf can sample here, perf record (cpu-clock) of the backend
# Uses the benchmark cluster (.run/bench, port $BALATRIX_BENCH_PGPORT, default 25490) with its default
# settings; synchronous_commit off for the CDR load only. BENCH_BILLING_KEEP=1 leaves the databases
# (bench_billing: the loaded template, bench_billing_nocdr, bench_billing_run: the last run) and the
# cluster running, for a closer look.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
export BALATRIX_CLUSTER=${BALATRIX_BENCH_CLUSTER:-bench} BALATRIX_PGPORT=${BALATRIX_BENCH_PGPORT:-25490} BALATRIX_PG_TIMEZONE=UTC
export PGHOST=127.0.0.1 PGPORT=$BALATRIX_PGPORT PGUSER=postgres
SUBS=${BENCH_BILLING_SUBSCRIPTIONS:-50000}
CALLS=${BENCH_BILLING_CALLS:-100}          # CDRs per subscription
BATCH=${BENCH_BILLING_BATCH:-200}          # run_billing_cycle_job's batch_size
CHUNK=${BENCH_BILLING_CHUNK:-1000}         # subscriptions per CDR INSERT statement
ONE_TX=${BENCH_BILLING_ONE_TX:-1}
ONE_TX_LIMIT=${BENCH_BILLING_ONE_TX_LIMIT:-10000}     # subscriptions in the one-transaction run
ONE_TX_TIMEOUT=${BENCH_BILLING_ONE_TX_TIMEOUT:-900}   # seconds
WHATIF=${BENCH_BILLING_WHATIF:-0}
[ "$ONE_TX_LIMIT" -le "$SUBS" ] || ONE_TX_LIMIT=$SUBS
TARGET=120
AS_OF=2026-04-01
DB=bench_billing
WORK=$(mktemp -d)
chmod 755 "$WORK"

scripts/pg.sh start
cleanup() {
	[ -f "$WORK/perf.pid" ] && kill -INT "$(cat "$WORK/perf.pid")" 2>/dev/null || true
	if [ "${BENCH_BILLING_KEEP:-0}" != 1 ]; then
		for d in $DB ${DB}_nocdr ${DB}_run; do psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $d" 2>/dev/null || true; done
		scripts/pg.sh stop
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}'; }
q() { psql -X -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; } # db sql -> unaligned rows
fresh_copy() { # template
	psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS ${DB}_run" \
		-c "CREATE DATABASE ${DB}_run TEMPLATE $1 STRATEGY FILE_COPY"
}
fail() { echo "billing_cycle: $*" >&2; exit 1; }

for d in $DB ${DB}_nocdr ${DB}_run; do psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $d"; done
psql -X -q -d postgres -c "CREATE DATABASE $DB"

# ---- setup 1: catalogue, customers, accounts, subscriptions (and their first invoices) --------
t0=$(now)
psql -X -q -v ON_ERROR_STOP=1 -d $DB >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION balatrix;
CREATE SCHEMA bench;
SELECT balatrix.install_default_catalogue();
-- March and April 2026 (received_at is the end of the call, below).
SELECT balatrix.create_cdr_partitions(1, '2026-03-01');
-- Customers: Karnataka (the supplier's State: CGST + SGST) 50 %, Maharashtra (IGST) 35 %,
-- Chandigarh (IGST) 15 %; one in ten a business with a GSTIN of its State (check character from
-- gstin_explain, so the customers trigger accepts it).
INSERT INTO balatrix.customers (name, company_name, business_type, billing_state_code, billing_city, billing_pincode, gstin)
SELECT 'Bench customer ' || n,
       CASE WHEN n % 10 = 0 THEN 'Bench Business ' || n || ' Pvt Ltd' END,
       CASE WHEN n % 10 = 0 THEN 'small_business' ELSE 'individual' END,
       st, CASE st WHEN '29' THEN 'Bengaluru' WHEN '27' THEN 'Mumbai' ELSE 'Chandigarh' END,
       CASE st WHEN '29' THEN '560001' WHEN '27' THEN '400001' ELSE '160017' END,
       CASE WHEN n % 10 = 0 THEN p || coalesce((balatrix.gstin_explain(p || '0')).expected_check_character, '0') END
  FROM generate_series(1, $SUBS) AS n,
       LATERAL (SELECT CASE WHEN n % 20 < 10 THEN '29' WHEN n % 20 < 17 THEN '27' ELSE '04' END AS st) s,
       LATERAL (SELECT st || 'AB' || chr(65 + n % 26) || chr(65 + (n / 26) % 26) || 'C' || lpad((n % 10000)::text, 4, '0')
                       || chr(65 + (n / 7) % 26) || '1Z' AS p) g;
-- One postpaid account per customer, numbered B000001.. in customer order.
INSERT INTO balatrix.accounts (customer_id, account_number, account_type, credit_limit)
SELECT c.id, 'B' || lpad(substr(c.name, 16), 6, '0'), 'postpaid', 1000000 FROM balatrix.customers c;
CREATE TABLE bench.subs (n integer PRIMARY KEY, account_id uuid NOT NULL, plan text NOT NULL, addons jsonb NOT NULL);
-- Plans: Starter 50 %, Professional 35 %, Call Center 15 %; one in ten with two extra extensions.
INSERT INTO bench.subs
SELECT substr(a.account_number, 2)::integer AS n, a.id,
       CASE WHEN substr(a.account_number, 2)::integer % 20 < 10 THEN 'STARTER'
            WHEN substr(a.account_number, 2)::integer % 20 < 17 THEN 'PROFESSIONAL' ELSE 'CALL_CENTER' END,
       CASE WHEN substr(a.account_number, 2)::integer % 10 = 3 THEN '{"EXTRA_EXTENSION": 2}' ELSE '{}' END::jsonb
  FROM balatrix.accounts a;
SQL
# create_subscription + activate_subscription per account, committed every 500 (one transaction
# issuing 50,000 invoices would pile up versions of its invoice-number row).
psql -X -q -v ON_ERROR_STOP=1 -d $DB <<SQL
SET client_min_messages = warning;
DO \$\$
DECLARE
    b record;
BEGIN
    FOR b IN SELECT lo FROM generate_series(1, $SUBS, 500) AS lo LOOP
        PERFORM balatrix.activate_subscription(
                    balatrix.create_subscription(s.account_id, s.plan, 'monthly', '2026-03-01', false, s.addons), '2026-03-01')
           FROM bench.subs s WHERE s.n >= b.lo AND s.n < b.lo + 500 ORDER BY s.n;
        COMMIT;
    END LOOP;
END
\$\$;
SQL
setup_subs=$(since "$t0")
[ "$(q $DB "SELECT count(*) FROM balatrix.subscriptions WHERE status = 'active'")" = "$SUBS" ] || fail "not every subscription is active after setup"
psql -X -q -d $DB -c "VACUUM ANALYZE"
psql -X -q -d postgres -c "CREATE DATABASE ${DB}_nocdr TEMPLATE $DB STRATEGY FILE_COPY"

# ---- setup 2: the CDRs, through the rating trigger ---------------------------------------------
# Subscription n, call k (1..CALLS): mostly Indian mobiles (10 digits, rated under 91 against the
# allowance); for one subscription in three, every tenth call to the UK (outside the allowance,
# 6.00/min). Call lengths average 2..10 min by subscription (n % 9), 0.5x..1.5x around it: every
# Starter and over half of the Professional subscriptions run past their allowance, Call Center ones
# do not.
# Start times spread over March (IST), received when the call ends. uuid: md5, unique.
cat >"$WORK/cdrs.sql" <<SQL
SET client_min_messages = warning;
SET synchronous_commit = off;
SQL
for lo in $(seq 1 "$CHUNK" "$SUBS"); do
	hi=$((lo + CHUNK - 1)); [ $hi -gt "$SUBS" ] && hi=$SUBS
	cat >>"$WORK/cdrs.sql" <<SQL
INSERT INTO balatrix.cdr (received_at, accountcode, caller_id_number, destination_number, context, start_stamp, answer_stamp,
                          end_stamp, duration, billsec, hangup_cause, uuid, read_codec, write_codec)
SELECT (t.answered + t.secs * interval '1 second')::timestamp AT TIME ZONE 'Asia/Kolkata',
       'B' || lpad(n::text, 6, '0'), '1001',
       CASE WHEN n % 3 = 0 AND k % 10 = 0 THEN '0044207946' || lpad(((n * 131 + k) % 10000)::text, 4, '0')
            ELSE (6 + n % 4)::text || lpad(((n::bigint * 104729 + k * 7919) % 1000000000)::text, 9, '0') END,
       'default',
       to_char(t.answered - interval '6 seconds', 'YYYY-MM-DD HH24:MI:SS'), to_char(t.answered, 'YYYY-MM-DD HH24:MI:SS'),
       to_char(t.answered + t.secs * interval '1 second', 'YYYY-MM-DD HH24:MI:SS'),
       (t.secs + 6)::text, t.secs::text, 'NORMAL_CLEARING', md5(n || '-' || k), 'PCMA', 'PCMA'
  FROM generate_series($lo, $hi) AS n, generate_series(1, $CALLS) AS k,
       LATERAL (SELECT timestamp '2026-03-01 00:00:10' + ((n * 7 + k * 26777) % 2660000) * interval '1 second' AS answered,
                       round((2 + n % 9) * 60 * (0.5 + ((n * 31 + k * 17) % 101) / 100.0))::integer AS secs) t;
SQL
done
t1=$(now)
psql -X -q -v ON_ERROR_STOP=1 -d $DB -f "$WORK/cdrs.sql"
load_secs=$(since "$t1")
psql -X -q -d $DB -c "VACUUM ANALYZE"
setup_cdrs=$(since "$t1")
read -r cdrs rated charged < <(q $DB "SELECT count(*), count(*) FILTER (WHERE rating_status = 'rated'), count(*) FILTER (WHERE charge > 0) FROM balatrix.cdr" | tr '|' ' ')
[ "$cdrs" = $((SUBS * CALLS)) ] && [ "$rated" = "$cdrs" ] || fail "$rated of $cdrs CDRs rated (expected $((SUBS * CALLS)))"
read -r with_overage with_other < <(q $DB "SELECT count(*) FILTER (WHERE overage_charge > 0), count(*) FILTER (WHERE other_charge > 0) FROM balatrix.subscription_usage" | tr '|' ' ')

echo "setup: $SUBS customers, accounts and subscriptions activated (first invoices) in ${setup_subs} s; $cdrs CDRs rated through the trigger in ${load_secs} s" \
	"($(awk -v n="$cdrs" -v s="$load_secs" 'BEGIN {printf "%.0f", n / s}') CDRs/s; ${setup_cdrs} s with VACUUM ANALYZE);" \
	"$charged charged; usage rows with overage $with_overage, with out-of-bundle calls $with_other"

# ---- the measured run ----------------------------------------------------------------------------
events_before=$(q $DB "SELECT coalesce(max(id), 0) FROM balatrix.event_outbox")
fresh_copy $DB
t2=$(now)
psql -X -q -v ON_ERROR_STOP=1 -d ${DB}_run -c "SET client_min_messages = warning" -c "CALL balatrix.run_billing_cycle_job('$AS_OF', $BATCH)"
job_secs=$(since "$t2")

# Correctness: every check must hold, or the numbers mean nothing.
R=${DB}_run
cutoff="'$AS_OF'::timestamp AT TIME ZONE 'Asia/Kolkata'"
check() { # description sql-returning-0
	local v
	v=$(q $R "$2")
	[ "$v" = 0 ] || fail "check failed: $1 ($v)"
}
check "accounts off their ledger" "SELECT count(*) FROM balatrix.check_ledger()"
check "subscriptions still due" "SELECT count(*) FROM balatrix.subscriptions WHERE status IN ('trial', 'active') AND current_period_end <= $cutoff"
check "subscriptions not renewed to 2026-05-01" "SELECT count(*) FROM balatrix.subscriptions
	WHERE status <> 'active' OR current_period_start <> $cutoff OR current_period_end <> '2026-05-01'::timestamp AT TIME ZONE 'Asia/Kolkata'"
check "subscriptions without exactly one period invoice of $AS_OF" "SELECT count(*) FROM balatrix.subscriptions s
	WHERE (SELECT count(*) FROM balatrix.invoices i WHERE i.subscription_id = s.id AND i.billing_reason = 'period'
	         AND i.issue_date = '$AS_OF' AND i.period_start = $cutoff AND i.status = 'issued') <> 1"
check "failed billing runs" "SELECT count(*) FROM balatrix.job_runs WHERE job = 'billing_cycle' AND (status <> 'succeeded' OR (counts->>'failed')::int <> 0)"
check "invoice numbers of FY 2627 not consecutive from 1" "SELECT count(*) FROM (
	SELECT count(*) AS n, count(DISTINCT invoice_number) AS d, max(substr(invoice_number, 10)::int) AS m
	  FROM balatrix.invoices WHERE financial_year = '2627') x WHERE n <> $SUBS OR d <> n OR m <> n"
# The usage lines against the CDRs themselves (all of them, not the counters): per subscription, the
# overage line = round(sum of the charges of calls under 91, 2), the usage line = round(sum of the
# others, 2), none when zero.
check "subscriptions whose usage lines differ from their CDRs" "
	WITH calls AS (
	    SELECT c.subscription_id, round(coalesce(sum(c.charge) FILTER (WHERE c.matched_prefix = '91'), 0), 2) AS overage,
	           round(coalesce(sum(c.charge) FILTER (WHERE c.matched_prefix <> '91'), 0), 2) AS other
	      FROM balatrix.cdr c GROUP BY c.subscription_id),
	lines AS (
	    SELECT i.subscription_id, coalesce(sum(l.taxable_value) FILTER (WHERE l.kind = 'overage'), 0) AS overage,
	           coalesce(sum(l.taxable_value) FILTER (WHERE l.kind = 'usage'), 0) AS other,
	           count(*) FILTER (WHERE l.kind IN ('overage', 'usage', 'adjustment')) AS n
	      FROM balatrix.invoices i JOIN balatrix.invoice_lines l ON l.invoice_id = i.id
	     WHERE i.issue_date = '$AS_OF' GROUP BY i.subscription_id)
	SELECT count(*) FROM balatrix.subscriptions s LEFT JOIN calls c ON c.subscription_id = s.id LEFT JOIN lines l ON l.subscription_id = s.id
	 WHERE coalesce(c.overage, 0) <> l.overage OR coalesce(c.other, 0) <> l.other
	    OR l.n <> (coalesce(c.overage, 0) <> 0)::int + (coalesce(c.other, 0) <> 0)::int"
check "usage left unbilled" "SELECT count(*) FROM balatrix.subscription_usage
	WHERE period_end <= $cutoff AND (round(overage_charge, 2) <> round(billed_overage_charge, 2) OR round(other_charge, 2) <> round(billed_other_charge, 2))"

read -r billed invoices < <(q $R "SELECT (counts->>'processed')::int + 0, (counts->>'invoices')::int FROM balatrix.job_runs WHERE job = 'billing_cycle'" |
	awk -F'|' '{p += $1; i += $2} END {print p, i}')
lines_by_kind=$(q $R "SELECT l.kind || ' ' || count(*) || ' (' || count(DISTINCT l.invoice_id) || ' invoices, ' || sum(l.taxable_value) || ')'
	FROM balatrix.invoices i JOIN balatrix.invoice_lines l ON l.invoice_id = i.id WHERE i.issue_date = '$AS_OF'
	GROUP BY l.kind ORDER BY count(*) DESC" | paste -sd ';' | sed 's/;/; /g')
invoice_totals=$(q $R "SELECT count(*) || ' invoices, ' || sum(taxable_total) || ' taxable + ' || sum(tax_total) || ' GST = ' || sum(total)
	FROM balatrix.invoices WHERE issue_date = '$AS_OF'")

# ---- baseline: the write floor ---------------------------------------------------------------------
# What the run wrote, staged first (not timed): its invoices, their lines, its ledger entries and
# outbox events (ids above the template's), and the new values of the subscriptions and usage rows
# it updated. Then timed, in one transaction: one INSERT ... SELECT per table into scratch copies
# with the same columns, defaults, CHECK constraints and indexes, and one UPDATE ... FROM each of
# copies of the subscriptions and usage rows as they were before the run.
psql -X -q -v ON_ERROR_STOP=1 -d $R <<SQL
SET client_min_messages = warning;
CREATE TABLE bench.t_invoices AS SELECT * FROM balatrix.invoices WHERE issue_date = '$AS_OF';
CREATE TABLE bench.t_lines AS SELECT l.* FROM balatrix.invoice_lines l JOIN bench.t_invoices i ON i.id = l.invoice_id;
CREATE TABLE bench.t_ledger AS SELECT * FROM balatrix.ledger WHERE reference_id IN (SELECT id::text FROM bench.t_invoices);
CREATE TABLE bench.t_events AS SELECT * FROM balatrix.event_outbox WHERE id > $events_before;
CREATE TABLE bench.t_subs AS SELECT * FROM balatrix.subscriptions;
CREATE TABLE bench.t_usage AS SELECT * FROM balatrix.subscription_usage;
CREATE TABLE bench.invoices (LIKE balatrix.invoices INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE bench.invoice_lines (LIKE balatrix.invoice_lines INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE bench.ledger (LIKE balatrix.ledger INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE bench.event_outbox (LIKE balatrix.event_outbox INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE bench.subscriptions (LIKE balatrix.subscriptions INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE bench.subscription_usage (LIKE balatrix.subscription_usage INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
-- As they were before the run.
INSERT INTO bench.subscriptions SELECT * FROM balatrix.subscriptions;
UPDATE bench.subscriptions SET current_period_start = '2026-03-01'::timestamp AT TIME ZONE 'Asia/Kolkata', current_period_end = $cutoff;
INSERT INTO bench.subscription_usage SELECT * FROM balatrix.subscription_usage;
UPDATE bench.subscription_usage SET billed_overage_charge = 0, billed_other_charge = 0;
VACUUM ANALYZE;
SQL
t3=$(now)
psql -X -q -v ON_ERROR_STOP=1 -d $R <<SQL
BEGIN;
INSERT INTO bench.invoices SELECT * FROM bench.t_invoices;
INSERT INTO bench.invoice_lines SELECT * FROM bench.t_lines;
INSERT INTO bench.ledger SELECT * FROM bench.t_ledger;
INSERT INTO bench.event_outbox SELECT * FROM bench.t_events;
UPDATE bench.subscriptions s SET current_period_start = t.current_period_start, current_period_end = t.current_period_end, updated_at = t.updated_at
  FROM bench.t_subs t WHERE t.id = s.id;
UPDATE bench.subscription_usage u SET billed_overage_charge = t.billed_overage_charge, billed_other_charge = t.billed_other_charge
  FROM bench.t_usage t WHERE t.id = u.id;
COMMIT;
SQL
base_secs=$(since "$t3")
floor_rows=$(q $R "SELECT (SELECT count(*) FROM bench.t_invoices) || ' invoices, ' || (SELECT count(*) FROM bench.t_lines) || ' lines, '
	|| (SELECT count(*) FROM bench.t_ledger) || ' ledger entries, ' || (SELECT count(*) FROM bench.t_events) || ' events, '
	|| (SELECT count(*) FROM bench.t_subs) || ' subscriptions and ' || (SELECT count(*) FROM bench.t_usage) || ' usage rows updated'")

awk -v s="$SUBS" -v b="$billed" -v i="$invoices" -v j="$job_secs" -v f="$base_secs" -v t=$TARGET -v bs=$BATCH 'BEGIN {
	printf "billing cycle %s, CALL run_billing_cycle_job(..., %d): %d subscriptions billed, %d invoices issued\n", "'$AS_OF'", bs, b, i
	printf "  cycle                %8.1f s   %8.0f subscriptions/s   target <= %d s: %s\n", j, b / j, t,
	       (j <= t ? "met" : sprintf("missed by %.1f s (%.2fx the target)", j - t, j / t))
	printf "  write floor          %8.1f s   %8.0f subscriptions/s   ratio %.1fx\n", f, s / f, j / f
}'
echo "  lines of the $AS_OF invoices: $lines_by_kind"
echo "  $invoice_totals"
echo "  write floor: $floor_rows"
echo "  checks passed: ledger balanced, every subscription renewed once with one period invoice, FY 2627 numbers 1..$SUBS," \
	"usage lines equal the rounded CDR charges of every subscription, no usage left unbilled"


# A run of the CALL on a fresh copy of a template, wall clock; $3: SQL run on the copy first (a
# what-if), $4: a session setting.
timed_cycle() { # template name [prepare-sql] [session-sql]
	fresh_copy "$1"
	[ -z "${3:-}" ] || psql -X -q -v ON_ERROR_STOP=1 -d ${DB}_run -c "$3" >/dev/null
	local t
	t=$(now)
	psql -X -q -v ON_ERROR_STOP=1 -d ${DB}_run -c "SET client_min_messages = warning" ${4:+-c "$4"} \
		-c "CALL balatrix.run_billing_cycle_job('$AS_OF', $BATCH)"
	awk -v s="$SUBS" -v j="$(since "$t")" -v m="$job_secs" -v n="$2" 'BEGIN {
		printf "  %-34s %7.1f s  %6.0f subscriptions/s  %5.1f %% of the measured cycle\n", n, j, s / j, 100 * j / m }'
}

# ---- the same cycle without CDRs (recurring lines only) ----------------------------------------------
timed_cycle ${DB}_nocdr "same cycle, no CDRs"
check "subscriptions still due (no CDRs)" "SELECT count(*) FROM balatrix.subscriptions WHERE status IN ('trial', 'active') AND current_period_end <= $cutoff"
check "accounts off their ledger (no CDRs)" "SELECT count(*) FROM balatrix.check_ledger()"

# ---- one transaction ---------------------------------------------------------------------------------
# SELECT * FROM run_billing_cycle(as_of, limit): the first ONE_TX_LIMIT due subscriptions in one
# transaction (the whole cycle with BENCH_BILLING_ONE_TX_LIMIT=$SUBS; statement_timeout caps it).
if [ "$ONE_TX" = 1 ]; then
	fresh_copy $DB
	t6=$(now)
	if psql -X -q -v ON_ERROR_STOP=1 -d ${DB}_run -c "SET client_min_messages = warning" -c "SET statement_timeout = '${ONE_TX_TIMEOUT}s'" \
		-c "SELECT processed, invoices, failed FROM balatrix.run_billing_cycle('$AS_OF', $ONE_TX_LIMIT)" >"$WORK/one_tx.out" 2>&1; then
		awk -v s="$ONE_TX_LIMIT" -v j="$(since "$t6")" -v r="$(awk -v s="$SUBS" -v j="$job_secs" 'BEGIN {print s / j}')" 'BEGIN {
			printf "  %-34s %7.1f s  %6.0f subscriptions/s  (%.2fx the CALL'"'"'s rate)\n", "one transaction, " s " subscriptions", j, s / j, (s / j) / r }'
		check "accounts off their ledger (one transaction)" "SELECT count(*) FROM balatrix.check_ledger()"
		check "invoices of the one transaction" "SELECT count(*) - $ONE_TX_LIMIT FROM balatrix.invoices WHERE issue_date = '$AS_OF'"
	else
		echo "  one transaction, $ONE_TX_LIMIT subscriptions: did not finish within ${ONE_TX_TIMEOUT} s: $(tr '\n' ' ' <"$WORK/one_tx.out")"
	fi
fi

# ---- what-ifs ----------------------------------------------------------------------------------------
# The same CALL on a copy changed first (the copy only; the extension is untouched), to size the
# costs the profile points at.
if [ "$WHATIF" = 1 ]; then
	written="'balatrix.invoices', 'balatrix.invoice_lines', 'balatrix.ledger', 'balatrix.accounts', 'balatrix.subscriptions',
	         'balatrix.subscription_usage', 'balatrix.event_outbox', 'balatrix.invoice_number_series', 'balatrix.job_runs'"
	no_checks="DO \$\$ DECLARE c record; BEGIN
	    FOR c IN SELECT conrelid::regclass AS t, conname FROM pg_constraint
	              WHERE contype = 'c' AND conrelid::regclass::text IN ($written) LOOP
	        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.t, c.conname);
	    END LOOP; END \$\$"
	no_inval="ALTER TABLE balatrix.subscriptions DISABLE TRIGGER subscriptions_cdr_lookup_invalidate_trg"
	echo "what-ifs (each a fresh copy, changed first):"
	timed_cycle $DB "no rating-cache invalidation" "$no_inval"
	timed_cycle $DB "no CHECK constraints" "$no_checks"
	timed_cycle $DB "neither" "$no_inval; $no_checks"
	timed_cycle $DB "no triggers, no FK checks" "" "SET session_replication_role = replica"
fi

# ---- profile -----------------------------------------------------------------------------------------
# track_functions = all: pg_stat_user_functions (calls, total and self time of every PL/pgSQL and C
# function). perf (cpu-clock, call graphs) on the backend when it can sample here.
fresh_copy $DB
PERF=0
if command -v perf >/dev/null && perf record -e cpu-clock -o "$WORK/probe.data" -- true >/dev/null 2>&1; then PERF=1; fi
cat >"$WORK/profile.sql" <<SQL
SET client_min_messages = warning;
SET track_functions = 'all';
\! while [ ! -f $WORK/perf.ready ]; do sleep 0.1; done
CALL balatrix.run_billing_cycle_job('$AS_OF', $BATCH);
SQL
t5=$(now)
PGAPPNAME=bench_billing_profile psql -X -q -v ON_ERROR_STOP=1 -d ${DB}_run -f "$WORK/profile.sql" &
psql_pid=$!
pid=""
for _ in $(seq 1 100); do
	pid=$(q postgres "SELECT pid FROM pg_stat_activity WHERE application_name = 'bench_billing_profile'" || true)
	[ -n "$pid" ] && break
	sleep 0.1
done
[ -n "$pid" ] || fail "profile: the backend did not show up"
if [ $PERF = 1 ]; then
	perf record -e cpu-clock -F 499 -g -p "$pid" -o "$WORK/perf.data" >"$WORK/perf.log" 2>&1 &
	echo $! >"$WORK/perf.pid"
	sleep 0.5
fi
touch "$WORK/perf.ready"
wait $psql_pid
prof_secs=$(since "$t5")
if [ $PERF = 1 ]; then
	kill -INT "$(cat "$WORK/perf.pid")"
	while kill -0 "$(cat "$WORK/perf.pid")" 2>/dev/null; do sleep 0.2; done
	rm -f "$WORK/perf.pid"
fi
sleep 1 # the backend's function statistics reach the shared counters when it goes idle
echo "profile run (track_functions = all$([ $PERF = 1 ] && echo ', perf record'), so slower): ${prof_secs} s; functions by self time:"
q ${DB}_run "SELECT rpad(funcname, 24) || lpad(calls::text, 8) || ' calls' || lpad(to_char(self_time / 1000, 'FM990.0'), 7) || ' s self'
	|| lpad(round(100 * self_time / sum(self_time) OVER ())::text, 4) || ' %' || lpad(to_char(total_time / 1000, 'FM990.0'), 7) || ' s total'
	|| lpad(round(1000 * self_time / calls)::text, 6) || ' us self/call'
	FROM pg_stat_user_functions WHERE schemaname = 'balatrix' ORDER BY self_time DESC LIMIT 15" | sed 's/^/  /'
if [ $PERF = 1 ]; then
	# Lines "children% self% [.] symbol ..."; a symbol listed twice (two mappings) is summed.
	perf report -i "$WORK/perf.data" --children --sort symbol --stdio -g none 2>/dev/null |
		awk '$1 ~ /%$/ && $2 ~ /%$/ {c[$4] += $1; s[$4] += $2} END {for (k in c) printf "%.2f%% %.2f%% %s\n", c[k], s[k], k}' \
		>"$WORK/perf.children" || true
	echo "  perf (cpu-clock, the backend): inclusive share of PostgreSQL functions that name a cost"
	while read -r sym what; do
		awk -v s="$sym" -v w="$what" '$3 == s {printf "    %7s  %-28s %s\n", $1, s, w; exit}' "$WORK/perf.children"
	done <<'LIST'
ExecConstraints CHECK constraints (rebuilt from their node trees per statement)
stringToNode node trees read back (CHECK constraints, plans)
AfterTriggerEndQuery AFTER triggers: foreign-key checks, PL/pgSQL triggers
SPI_execute_snapshot foreign-key check queries
GetCachedPlan plan cache: revalidation and (re)planning
pg_plan_queries planning
raw_parser parsing (foreign-key queries re-prepared)
standard_ExecutorStart executor start-up
ExecInsertIndexTuples index insertion
plpgsql_exec_trigger PL/pgSQL triggers (updated_at, immutability, outbox)
ProcessGUCArray the functions' SET search_path
LIST
	echo "  perf, self, top named symbols:"
	sort -k2 -t' ' -g -r "$WORK/perf.children" | awk '$3 !~ /^0x/' | head -12 | awk '{printf "    %7s  %s\n", $2, $3}' || true
fi

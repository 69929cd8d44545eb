#!/usr/bin/env bash
# Benchmark (issue 3, 6c): longest-prefix rating against a 50,000-prefix deck, lookups per second on the
# same 200,000 numbers, in the same run:
#   balatrix   balatrix.match_rate(plan, '+<number>', time): normalisation, the plan's cached RateIndex
#              (C++ trie), the rate in force at that instant (bands applied) — no SPI per lookup
#   gist       PL/pgSQL: the `prefix` extension's prefix_range GiST index, longest match first
#   btree      PL/pgSQL: a B-tree on text with an IN-list of every leading substring of the number
# Each is timed server-side (EXPLAIN ANALYZE, timing off) over all numbers, median of the runs; every
# implementation must return the same prefix for every number before it is timed.
# Uses its own cluster (.run/bench, port $BALATRIX_BENCH_PGPORT, default 25490).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
export BALATRIX_CLUSTER=bench BALATRIX_PGPORT=${BALATRIX_BENCH_PGPORT:-25490} BALATRIX_PG_TIMEZONE=UTC
export PGHOST=127.0.0.1 PGPORT=$BALATRIX_PGPORT PGUSER=postgres
PREFIXES=${BENCH_PREFIXES:-50000}
NUMBERS=${BENCH_NUMBERS:-200000}
RUNS=${BENCH_RUNS:-5}
DB=bench_rating

scripts/pg.sh start
trap 'scripts/pg.sh stop' EXIT
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d $DB <<SQL
SET client_min_messages = warning;
CREATE EXTENSION balatrix;
CREATE EXTENSION prefix;
CREATE SCHEMA bench;
-- The deck: 50,000 distinct prefixes of 4 to 8 digits under 91 (mobile ranges 6-9: '91' + 6..9 + i,
-- distinct because i is written out whole), with made-up rates.
CREATE TABLE bench.deck AS
SELECT '91' || (6 + i % 4)::text || i::text AS prefix, (1 + i % 300) / 100.0 AS rate
  FROM generate_series(1, $PREFIXES - 1) AS i;
INSERT INTO bench.deck VALUES ('91', 1.99) ON CONFLICT DO NOTHING;
CREATE TABLE bench.numbers AS
SELECT n, '91' || (6 + n % 4)::text || lpad(((n * 104729 + 12345) % 1000000000)::text, 9, '0') AS number
  FROM generate_series(1::bigint, $NUMBERS) AS n;

-- Baseline 1: prefix_range + GiST.
CREATE TABLE bench.deck_gist AS SELECT prefix::prefix_range AS pr, prefix, rate FROM bench.deck;
CREATE INDEX ON bench.deck_gist USING gist (pr);
CREATE FUNCTION bench.lookup_gist(number text) RETURNS text LANGUAGE plpgsql STABLE AS \$\$
DECLARE p text;
BEGIN
    SELECT d.prefix INTO p FROM bench.deck_gist d WHERE d.pr @> number ORDER BY length(d.prefix) DESC LIMIT 1;
    RETURN p;
END \$\$;

-- Baseline 2: B-tree + IN-list of every leading substring.
CREATE TABLE bench.deck_btree AS SELECT prefix, rate FROM bench.deck;
CREATE UNIQUE INDEX ON bench.deck_btree (prefix);
CREATE FUNCTION bench.lookup_btree(number text) RETURNS text LANGUAGE plpgsql STABLE AS \$\$
DECLARE p text;
BEGIN
    SELECT d.prefix INTO p FROM bench.deck_btree d
     WHERE d.prefix = ANY (ARRAY(SELECT left(number, i) FROM generate_series(1, length(number)) AS i))
     ORDER BY length(d.prefix) DESC LIMIT 1;
    RETURN p;
END \$\$;

-- Ours: the same deck, published, on a plan an account subscribes to.
SELECT balatrix.install_default_catalogue();
INSERT INTO balatrix.rate_plans (code, name, monthly_price, quarterly_price, annual_price, overage_rate)
VALUES ('BENCH', 'Bench', 0, 0, 0, 1);
DO \$\$
DECLARE new_deck uuid := balatrix.create_rate_deck('BENCH_DECK');
BEGIN
    INSERT INTO balatrix.rates (rate_deck_id, prefix, rate_per_minute) SELECT new_deck, d.prefix, d.rate FROM bench.deck d;
    PERFORM balatrix.publish_rate_deck(new_deck);
    PERFORM balatrix.attach_rate_deck('BENCH', new_deck);
END \$\$;
INSERT INTO balatrix.customers (name, billing_state_code) VALUES ('Bench', '29');
INSERT INTO balatrix.accounts (customer_id, account_number, account_type) SELECT id, 'BENCH', 'prepaid' FROM balatrix.customers;
INSERT INTO balatrix.subscriptions (customer_id, account_id, rate_plan_id, status, recurring_price, anchor_day, started_at)
SELECT a.customer_id, a.id, p.id, 'active', 0, 1, '2025-01-01' FROM balatrix.accounts a, balatrix.rate_plans p WHERE p.code = 'BENCH';
ANALYZE;
SQL

# Same answer from all three before timing anything.
disagree=$(psql -X -At -d $DB -c "SELECT count(*) FROM bench.numbers
	WHERE bench.lookup_gist(number) IS DISTINCT FROM bench.lookup_btree(number)
	   OR bench.lookup_btree(number) IS DISTINCT FROM (SELECT m.prefix FROM balatrix.match_rate((SELECT id FROM balatrix.rate_plans WHERE code = 'BENCH'), '+' || number, '2025-03-01') m)")
[ "$disagree" = 0 ] || { echo "rating_lookup: the implementations disagree on $disagree numbers" >&2; exit 1; }

time_ms() {
	psql -X -At -d $DB -c "EXPLAIN (ANALYZE, FORMAT JSON, TIMING OFF) $1" | sed -n 's/.*"Execution Time": \([0-9.]*\).*/\1/p'
}
declare -A results
for name in balatrix gist btree; do results[$name]=""; done
for _ in $(seq 1 "$RUNS"); do
	# Called as the baselines are, in the select list (in FROM, a record-returning function pays for a
	# tuplestore per call: about a sixth of the time, measured, none of it the lookup's).
	results[balatrix]+=" $(time_ms "SELECT count((balatrix.match_rate((SELECT id FROM balatrix.rate_plans WHERE code = 'BENCH'), '+' || n.number, '2025-03-01')).prefix) FROM bench.numbers n")"
	results[gist]+=" $(time_ms "SELECT count(bench.lookup_gist(number)) FROM bench.numbers")"
	results[btree]+=" $(time_ms "SELECT count(bench.lookup_btree(number)) FROM bench.numbers")"
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ours=$(median "${results[balatrix]}")
gist=$(median "${results[gist]}")
btree=$(median "${results[btree]}")
prefixes=$(psql -X -At -d $DB -c "SELECT count(*) FROM bench.deck")
awk -v n="$NUMBERS" -v p="$prefixes" -v r="$RUNS" -v o="$ours" -v g="$gist" -v b="$btree" 'BEGIN {
	printf "longest-prefix rating, %d prefixes, %d numbers, median of %d runs:\n", p, n, r
	printf "  balatrix match_rate     %9.1f ms  %10.0f lookups/s\n", o, n / (o / 1000)
	printf "  PL/pgSQL prefix GiST    %9.1f ms  %10.0f lookups/s\n", g, n / (g / 1000)
	printf "  PL/pgSQL B-tree IN-list %9.1f ms  %10.0f lookups/s\n", b, n / (b / 1000)
	printf "  ratio vs GiST %.1fx, vs B-tree %.1fx\n", g / o, b / o
}'
psql -X -q -d postgres -c "DROP DATABASE $DB"

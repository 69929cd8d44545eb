#!/usr/bin/env bash
# Benchmark: GSTIN validation throughput, balatrix.gstin_is_valid (C++) vs a PL/pgSQL baseline
# (bench/gstin_baseline.sql), on the same 200,000 GSTINs (half valid, half with a wrong check
# character or a bad State), in the same run, alternating, median of 7 runs each.
# Uses its own cluster (.run/bench, port $BALATRIX_BENCH_PGPORT, default 25490), fsync as default.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
export BALATRIX_CLUSTER=bench BALATRIX_PGPORT=${BALATRIX_BENCH_PGPORT:-25490} BALATRIX_PG_TIMEZONE=UTC
export PGHOST=127.0.0.1 PGPORT=$BALATRIX_PGPORT PGUSER=postgres
N=${BENCH_GSTIN_ROWS:-200000}
RUNS=${BENCH_RUNS:-7}

scripts/pg.sh start
trap 'scripts/pg.sh stop' EXIT
psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS bench_gstin' -c 'CREATE DATABASE bench_gstin'
psql -X -q -v ON_ERROR_STOP=1 -d bench_gstin <<SQL
CREATE EXTENSION balatrix;
CREATE SCHEMA bench;
\i bench/gstin_baseline.sql
-- Random well-formed prefixes; the check character from the baseline's algorithm for half of
-- them, a shifted (wrong) one for the other half.
CREATE TABLE bench.gstins AS
WITH prefixes AS (
    SELECT n,
           lpad((1 + (n * 7919) % 37)::text, 2, '0')
           || string_agg(chr((65 + (n * 31 + k * 17) % 26)::int), '' ORDER BY k)
           || lpad(((n * 104729) % 10000)::text, 4, '0')
           || chr((65 + n % 26)::int) || chr((49 + n % 9)::int) || 'Z' AS p
      FROM generate_series(1::bigint, $N) AS n, generate_series(1, 5) AS k
     GROUP BY n
)
SELECT n, p || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ',
                      ((SELECT ((36 - sum(t) % 36) % 36)::int FROM (
                          SELECT (strpos('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', substr(p, i, 1)) - 1) * (2 - i % 2) AS v, i
                            FROM generate_series(1, 14) i) x, LATERAL (SELECT v / 36 + v % 36 AS t) y)
                       + CASE WHEN n % 2 = 0 THEN 0 ELSE 1 END) % 36 + 1, 1) AS g
  FROM prefixes;
ANALYZE bench.gstins;
SQL

# Both implementations must agree on every row before their speed means anything.
disagree=$(psql -X -At -d bench_gstin -c "SELECT count(*) FROM bench.gstins WHERE balatrix.gstin_is_valid(g) IS DISTINCT FROM bench.plpgsql_gstin_is_valid(g)")
valid=$(psql -X -At -d bench_gstin -c "SELECT count(*) FILTER (WHERE balatrix.gstin_is_valid(g)) FROM bench.gstins")
[ "$disagree" = 0 ] || { echo "gstin bench: the implementations disagree on $disagree rows" >&2; exit 1; }

time_ms() { # query -> milliseconds (server-side, from EXPLAIN ANALYZE)
	psql -X -At -d bench_gstin -c "EXPLAIN (ANALYZE, FORMAT JSON, TIMING OFF) $1" | sed -n 's/.*"Execution Time": \([0-9.]*\).*/\1/p'
}
ours=()
base=()
for _ in $(seq 1 "$RUNS"); do
	ours+=("$(time_ms "SELECT count(*) FILTER (WHERE balatrix.gstin_is_valid(g)) FROM bench.gstins")")
	base+=("$(time_ms "SELECT count(*) FILTER (WHERE bench.plpgsql_gstin_is_valid(g)) FROM bench.gstins")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m_ours=$(median "${ours[@]}")
m_base=$(median "${base[@]}")
awk -v n="$N" -v v="$valid" -v o="$m_ours" -v b="$m_base" -v r="$RUNS" 'BEGIN {
	printf "gstin_is_valid over %d GSTINs (%d valid), median of %d runs:\n", n, v, r
	printf "  balatrix (C++)     %8.1f ms   %10.0f GSTINs/s\n", o, n / (o / 1000)
	printf "  PL/pgSQL baseline  %8.1f ms   %10.0f GSTINs/s\n", b, n / (b / 1000)
	printf "  ratio              %8.1fx faster\n", b / o
}'
psql -X -q -d postgres -c 'DROP DATABASE bench_gstin'

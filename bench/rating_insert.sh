#!/usr/bin/env bash
# Benchmark (issue 3, 6a): single-row INSERTs exactly as mod_cdr_pg_csv sends them — one plain-text
# autocommit statement per call leg on one connection (pgbench -M simple -c 1) — into balatrix.cdr
# (rating, ledger, usage and balance in the same statement) vs the same INSERT into bench.cdr_plain
# (no trigger), alternating, with synchronous_commit off (CPU cost visible) and on. p50 / p99 latency
# from pgbench's per-transaction log; ratio = rated / plain.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
export BALATRIX_CLUSTER=bench BALATRIX_PGPORT=${BALATRIX_BENCH_PGPORT:-25490} BALATRIX_PG_TIMEZONE=UTC
export PGHOST=127.0.0.1 PGPORT=$BALATRIX_PGPORT PGUSER=postgres
TXNS=${BENCH_INSERTS:-20000}
DB=bench_insert
WORK=$(mktemp -d)
PGBENCH=$(command -v pgbench || echo "$PGBIN/pgbench")

scripts/pg.sh start
trap 'scripts/pg.sh stop; rm -rf "$WORK"' EXIT
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d $DB -c 'CREATE EXTENSION balatrix' -f bench/rating_setup.sql >/dev/null

# The §1.11 statement #1 shape with the recommended billmsec and start/answer epochs; :n makes each
# uuid unique (pgbench substitutes it into the text before sending).
statement() { # table
	cat <<SQL
\set n random(1, 999999999999)
INSERT INTO $1 (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec,billmsec,start_uepoch,answer_uepoch) VALUES ('10.0.0.15','Alice Smith','1001','9876543210','default','2025-03-14 09:26:53','2025-03-14 09:27:01','2025-03-14 09:31:14',261,253,'NORMAL_CLEARING','a3f1c2d4-5b6e-4f70-:n','c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f','1001','PCMA','PCMA',252245,$(date +%s)412345,$(date +%s)958000);
SQL
}
statement balatrix.cdr >"$WORK/rated.sql"
statement bench.cdr_plain >"$WORK/plain.sql"

run() { # name file sync
	(cd "$WORK" && PGOPTIONS="-c synchronous_commit=$3" "$PGBENCH" -n -M simple -c 1 -t "$TXNS" -l --log-prefix="$1" \
		-f "$2" -d $DB >/dev/null 2>"$WORK/$1.err") || { cat "$WORK/$1.err" >&2; exit 1; }
	# per-transaction log: client_id transaction_no time(µs) ...
	cat "$WORK/$1".[0-9]* | awk 'NF >= 3 {print $3}' | sort -n >"$WORK/$1.lat"
	rm -f "$WORK/$1".[0-9]*
}
pct() { awk -v p="$2" '{a[NR]=$1} END {i=int(NR*p/100); if (i<1) i=1; printf "%.0f", a[i]}' "$1"; }

for sync in off on; do
	run plain_$sync plain.sql $sync
	run rated_$sync rated.sql $sync
	run plain2_$sync plain.sql $sync
	cat "$WORK/plain_$sync.lat" "$WORK/plain2_$sync.lat" | sort -n >"$WORK/plainall_$sync.lat"
	p50p=$(pct "$WORK/plainall_$sync.lat" 50); p99p=$(pct "$WORK/plainall_$sync.lat" 99)
	p50r=$(pct "$WORK/rated_$sync.lat" 50); p99r=$(pct "$WORK/rated_$sync.lat" 99)
	awk -v s=$sync -v n=$TXNS -v a=$p50p -v b=$p99p -v c=$p50r -v d=$p99r 'BEGIN {
		printf "synchronous_commit=%s, %d single-row INSERTs each:\n", s, n
		printf "  plain (no trigger)  p50 %6d us  p99 %6d us\n", a, b
		printf "  rated (full money)  p50 %6d us  p99 %6d us\n", c, d
		printf "  ratio               p50 %.2fx  p99 %.2fx\n", c / a, d / b
	}'
done
# The money really moved: every rated CDR is charged and the ledger agrees with the balance.
psql -X -At -d $DB -c "SELECT 'rated CDRs: ' || count(*) FILTER (WHERE rating_status = 'rated' AND charge > 0) || ' of ' || count(*) FROM balatrix.cdr" \
	-c "SELECT 'accounts off their ledger: ' || count(*) FROM balatrix.check_ledger()"
psql -X -q -d postgres -c "DROP DATABASE $DB"

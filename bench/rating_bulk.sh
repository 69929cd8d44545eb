#!/usr/bin/env bash
# Benchmark (issue 3, 6b): bulk loads of 1,000,000 CDRs, rated (balatrix.cdr: rating, ledger, usage and
# balance, posted per account per statement) vs not rated (bench.cdr_plain, no trigger), with COPY and
# with INSERT ... SELECT, on the same rows: CDRs per second and the ratio.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
export BALATRIX_CLUSTER=bench BALATRIX_PGPORT=${BALATRIX_BENCH_PGPORT:-25490} BALATRIX_PG_TIMEZONE=UTC
export PGHOST=127.0.0.1 PGPORT=$BALATRIX_PGPORT PGUSER=postgres
ROWS=${BENCH_BULK_ROWS:-1000000}
DB=bench_bulk
WORK=$(mktemp -d)

scripts/pg.sh start
trap 'scripts/pg.sh stop; rm -rf "$WORK"' EXIT
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d $DB -c 'CREATE EXTENSION balatrix' -f bench/rating_setup.sql >/dev/null
COLS=local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec,billmsec
psql -X -q -v ON_ERROR_STOP=1 -d $DB <<SQL
CREATE TABLE bench.staging AS
SELECT '10.0.0.15' AS local_ip_v4, 'Caller ' || n AS caller_id_name, '1001' AS caller_id_number,
       (6000000000 + n * 7 % 4000000000)::text AS destination_number, 'default' AS context,
       -- calls of this month (the subscription's current period), 2nd day onwards, local (IST) stamps
       to_char(date_trunc('month', now()) + interval '1 day' + (n % 80000) * interval '1 second', 'YYYY-MM-DD HH24:MI:SS') AS start_stamp,
       to_char(date_trunc('month', now()) + interval '1 day' + (n % 80000 + 8) * interval '1 second', 'YYYY-MM-DD HH24:MI:SS') AS answer_stamp,
       to_char(date_trunc('month', now()) + interval '1 day' + (n % 80000 + 8 + 20 + n % 600) * interval '1 second', 'YYYY-MM-DD HH24:MI:SS') AS end_stamp,
       (30 + n % 600)::text AS duration, (20 + n % 600)::text AS billsec, 'NORMAL_CLEARING' AS hangup_cause,
       md5(n::text) AS uuid, NULL::text AS bleg_uuid, '1001' AS accountcode, 'PCMA' AS read_codec, 'PCMA' AS write_codec,
       ((20 + n % 600) * 1000 - n % 1000)::text AS billmsec
  FROM generate_series(1, $ROWS) AS n;
\copy bench.staging ($COLS) TO '$WORK/cdrs.csv' WITH (FORMAT csv)
SQL

# Server-side time of one statement, in ms.
timed() { psql -X -At -d $DB -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1; }
copy_ms() { # table
	psql -X -d $DB -c '\timing on' -c "\\copy $1 ($COLS) FROM '$WORK/cdrs.csv' WITH (FORMAT csv)" |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}
reset() { psql -X -q -d $DB -c "TRUNCATE bench.cdr_plain" -c "DELETE FROM balatrix.cdr" -c "DELETE FROM balatrix.cdr_uuids" -c "VACUUM ANALYZE" >/dev/null 2>&1 || true; }

reset
plain_copy=$(copy_ms bench.cdr_plain)
reset
rated_copy=$(copy_ms balatrix.cdr)
rated_copy_check=$(psql -X -At -d $DB -c "SELECT count(*) FILTER (WHERE rating_status = 'rated' AND charge > 0 AND ledger_id IS NOT NULL) FROM balatrix.cdr")
reset
plain_insert=$(timed "INSERT INTO bench.cdr_plain ($COLS) SELECT $COLS FROM bench.staging")
reset
rated_insert=$(timed "INSERT INTO balatrix.cdr ($COLS) SELECT $COLS FROM bench.staging")
off_ledger=$(psql -X -At -d $DB -c "SELECT count(*) FROM balatrix.check_ledger()")
awk -v n="$ROWS" -v pc="$plain_copy" -v rc="$rated_copy" -v pi="$plain_insert" -v ri="$rated_insert" -v chk="$rated_copy_check" -v off="$off_ledger" 'BEGIN {
	printf "bulk load of %d CDRs (rated and charged by COPY: %d; accounts off their ledger after: %d):\n", n, chk, off
	printf "  COPY            plain %9.0f CDRs/s   rated %9.0f CDRs/s   ratio %.2fx\n", n / (pc / 1000), n / (rc / 1000), rc / pc
	printf "  INSERT..SELECT  plain %9.0f CDRs/s   rated %9.0f CDRs/s   ratio %.2fx\n", n / (pi / 1000), n / (ri / 1000), ri / pi
}'
psql -X -q -d postgres -c "DROP DATABASE $DB"

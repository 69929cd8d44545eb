#!/usr/bin/env bash
# End-to-end: replaying FreeSWITCH's mod_cdr_pg_csv spool files (reference/freeswitch.md §1.8) the way
# an operator would, connected as FreeSWITCH's role balatrix_ingest:
#   csv spool:  \copy balatrix.cdr (<the 16 default columns>) from '<file>' with (format csv, quote '''', null 'null')
#   sql spool:  psql -f cdr-spool.sql
# then checking, as postgres, that each row landed as the original INSERT would have stored it.
# Removes the rows it added (CDRs are not append-only) and their idempotency keys (balatrix.cdr_uuids),
# so that it can run again.
#
# TAP output; run with:  prove -e bash tests/e2e/cdr_spool.sh
# Environment: BALATRIX_TEST_PGHOST, BALATRIX_TEST_PGPORT, BALATRIX_TEST_DB (a database with the
# extension installed; superuser postgres and balatrix_ingest reachable without a password).
set -uo pipefail

HOST=${BALATRIX_TEST_PGHOST:?BALATRIX_TEST_PGHOST is not set}
PORT=${BALATRIX_TEST_PGPORT:?BALATRIX_TEST_PGPORT is not set}
DB=${BALATRIX_TEST_DB:?BALATRIX_TEST_DB is not set}

# The column list of the shipped cdr_pg_csv.conf.xml, in its order (§1.10).
COLUMNS=local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec
CSV_UUID=5d0e8b7a-2c4f-4e1d-b6a3-9f8e7d6c5b4a # row 2 of §1.11
SQL_UUID=a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607 # row 1 of §1.11

WORK=$(mktemp -d "${TMPDIR:-/tmp}/balatrix-cdr-spool-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

as_postgres() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres -d "$DB" "$@"; }
as_ingest() { psql -X -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U balatrix_ingest -d "$DB" "$@"; }

source "$(dirname "${BASH_SOURCE[0]}")/lib/tap.sh"

echo "1..12"

# Rows of ours are those with a larger id than any before the test (the uuid alone could match a row
# another test left).
if ! FIRST_ID=$(as_postgres -c "SELECT coalesce(max(id), 0) FROM balatrix.cdr" 2>&1); then
	echo "Bail out! cannot query balatrix.cdr as postgres on $HOST:$PORT/$DB: $FIRST_ID"
	exit 1
fi
ours() { echo "FROM balatrix.cdr WHERE id > $FIRST_ID AND uuid = '$1'"; }

# --- csv spool: exactly the VALUES list of row 2, one line, as the module appends it.
SPOOL_CSV=$WORK/cdr-spool.csv
cat >"$SPOOL_CSV" <<'CSV'
'10.0.0.15','Bob Jones','1002','4940123456','default','2025-03-14 10:02:11',null,'2025-03-14 10:02:41',30,0,'NO_ANSWER','5d0e8b7a-2c4f-4e1d-b6a3-9f8e7d6c5b4a',null,'1002','PCMU','PCMU'
CSV
out=$(as_ingest -c "\\copy balatrix.cdr ($COLUMNS) from '$SPOOL_CSV' with (format csv, quote '''', null 'null')" 2>&1)
rc=$?
ok $rc "csv spool replayed with \\copy as balatrix_ingest" "$out"
is "$out" "COPY 1" "the csv replay copied one row"
is "$(as_postgres -c "SELECT count(*) $(ours $CSV_UUID)")" "1" "the csv row landed with uuid $CSV_UUID"
is "$(as_postgres -c "SELECT answer_stamp IS NULL, bleg_uuid IS NULL $(ours $CSV_UUID)")" "t|t" \
	"null in the spool is NULL: answer_stamp and bleg_uuid"
is "$(as_postgres -c "SELECT concat_ws('|', local_ip_v4, caller_id_name, caller_id_number, destination_number, context, start_stamp,
                                       end_stamp, duration, billsec, hangup_cause, accountcode, read_codec, write_codec) $(ours $CSV_UUID)")" \
	"10.0.0.15|Bob Jones|1002|4940123456|default|2025-03-14 10:02:11|2025-03-14 10:02:41|30|0|NO_ANSWER|1002|PCMU|PCMU" \
	"the other fields are stored as the original INSERT would have stored them"
is "$(as_postgres -c "SELECT rating_status $(ours $CSV_UUID)")" "unknown_account" \
	"the replayed row is rated by the trigger (no account 1002 in this database: unknown_account)"

# --- sql spool: the complete INSERT, one line (db-table balatrix.cdr).
SPOOL_SQL=$WORK/cdr-spool.sql
cat >"$SPOOL_SQL" <<'SQL'
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','Alice Smith','1001','4930901820','default','2025-03-14 09:26:53','2025-03-14 09:27:01','2025-03-14 09:31:14',261,253,'NORMAL_CLEARING','a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607','c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f','1001','PCMA','PCMA');
SQL
out=$(as_ingest -f "$SPOOL_SQL" 2>&1)
rc=$?
ok $rc "sql spool replayed with psql -f as balatrix_ingest" "$out"
is "$out" "INSERT 0 1" "the sql replay inserted one row"
is "$(as_postgres -c "SELECT concat_ws('|', uuid, caller_id_name, answer_stamp, duration, billsec, bleg_uuid, accountcode) $(ours $SQL_UUID)")" \
	"$SQL_UUID|Alice Smith|2025-03-14 09:27:01|261|253|c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f|1001" \
	"the sql row landed as sent"

# --- FreeSWITCH's role cannot read back what it replayed.
out=$(as_ingest -c "SELECT count(*) FROM balatrix.cdr" 2>&1)
rc=$?
if [ $rc -ne 0 ] && [[ $out == *"permission denied for table cdr"* ]]; then ok 0 "balatrix_ingest cannot SELECT balatrix.cdr"; else ok 1 "balatrix_ingest cannot SELECT balatrix.cdr" "$out"; fi

# --- clean up what we added.
is "$(as_postgres -c "WITH gone AS (DELETE FROM balatrix.cdr WHERE id > $FIRST_ID AND uuid IN ('$CSV_UUID', '$SQL_UUID') RETURNING 1)
                      SELECT count(*) FROM gone")" "2" "the two replayed rows are deleted"
as_postgres -c "DELETE FROM balatrix.cdr_uuids WHERE uuid IN ('$CSV_UUID', '$SQL_UUID')" >/dev/null
is "$(as_postgres -c "SELECT (SELECT count(*) FROM balatrix.cdr WHERE id > $FIRST_ID AND uuid IN ('$CSV_UUID', '$SQL_UUID'))
                           + (SELECT count(*) FROM balatrix.cdr_uuids WHERE uuid IN ('$CSV_UUID', '$SQL_UUID'))")" "0" \
	"nothing of this test is left in balatrix.cdr or balatrix.cdr_uuids"

[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# End-to-end: invoice numbers are consecutive and gapless per series and financial year under
# concurrency (CGST Rule 46). 4 connections each issue 60 invoices at once (pgbench), and about a
# quarter of their transactions roll back after issuing: the committed invoices must carry exactly
# the numbers 1..N of INV/2526 — no gap (a rolled-back number is given back), no duplicate — and
# the series' last number must be N.
#
# Issued invoices cannot be deleted, so everything happens in a database this test creates and drops.
#
# TAP output; run with:  prove -e bash tests/e2e/invoice_numbering.sh
# Environment: BALATRIX_TEST_PGHOST, BALATRIX_TEST_PGPORT (superuser postgres reachable without a
# password; the balatrix extension installed in the cluster).
set -uo pipefail

HOST=${BALATRIX_TEST_PGHOST:?BALATRIX_TEST_PGHOST is not set}
PORT=${BALATRIX_TEST_PGPORT:?BALATRIX_TEST_PGPORT is not set}
DB=bx_invoice_numbering_$$
CLIENTS=4
PER_CLIENT=60
WORK=$(mktemp -d "${TMPDIR:-/tmp}/balatrix-invoice-numbering-XXXXXX")

as_postgres() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres "$@"; }
cleanup() {
	as_postgres -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT

source "$(dirname "${BASH_SOURCE[0]}")/lib/tap.sh"

echo "1..6"

if ! out=$(as_postgres -d postgres -c "CREATE DATABASE $DB" 2>&1); then
	echo "Bail out! cannot create database $DB: $out"
	exit 1
fi
setup=$(as_postgres -d "$DB" 2>&1 <<'SQL'
CREATE EXTENSION balatrix;
INSERT INTO balatrix.customers (id, name, billing_state_code)
    VALUES ('00000000-0000-4000-8000-00000000a001', 'Numbering Test Pvt Ltd', '27');
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type)
    VALUES ('00000000-0000-4000-8000-00000000a101', '00000000-0000-4000-8000-00000000a001', 'NUM1', 'postpaid');
SQL
)
rc=$?
ok $rc "a database with one postpaid account" "$setup"
[ $rc -eq 0 ] || { echo "Bail out! setup failed"; exit 1; }

# One invoice per transaction; in about one transaction in four the number is taken and then rolled back.
cat >"$WORK/issue.sql" <<'SQL'
\set r random(1, 4)
BEGIN;
DO $$
DECLARE d uuid := balatrix.create_invoice_draft('00000000-0000-4000-8000-00000000a101');
BEGIN
    PERFORM balatrix.add_invoice_line(d, 'plan', 'Starter', 1, 349.00);
    PERFORM balatrix.issue_invoice(d, '2025-11-01');
    PERFORM pg_sleep(0.002);
END $$;
\if :r = 1
ROLLBACK;
\else
COMMIT;
\endif
SQL
out=$(pgbench -n -h "$HOST" -p "$PORT" -U postgres -c "$CLIENTS" -j "$CLIENTS" -t "$PER_CLIENT" -f "$WORK/issue.sql" "$DB" 2>&1)
rc=$?
ok $rc "pgbench: $CLIENTS connections x $PER_CLIENT issuing transactions" "$out"
if printf '%s\n' "$out" | grep -qiE 'error|deadlock|abort'; then
	ok 1 "no error, deadlock or abort in the pgbench output" "$out"
else
	ok 0 "no error, deadlock or abort in the pgbench output"
fi

issued=$(as_postgres -d "$DB" -c "SELECT count(*) FROM balatrix.invoices WHERE status = 'issued'")
echo "# $issued invoices committed of $((CLIENTS * PER_CLIENT)) issued (the rest rolled back)"
# The committed numbers are exactly INV/2526/000001 .. INV/2526/<issued>, each once.
is "$(as_postgres -d "$DB" -c "SELECT count(*) FROM generate_series(1, $issued) AS k
                                 FULL JOIN balatrix.invoices i ON i.invoice_number = 'INV/2526/' || lpad(k::text, 6, '0')
                                WHERE k IS NULL OR i.id IS NULL")" \
	"0" "the $issued committed invoices are numbered INV/2526/000001 to $(printf 'INV/2526/%06d' "$issued"): no gap, no duplicate"
is "$(as_postgres -d "$DB" -c "SELECT last_number FROM balatrix.invoice_number_series WHERE series = 'INV' AND financial_year = '2526'")" \
	"$issued" "the series' last number is $issued"
is "$(as_postgres -d "$DB" -c "SELECT count(*) > 0 AND count(*) < $((CLIENTS * PER_CLIENT)) FROM balatrix.invoices WHERE status = 'issued'")" \
	"t" "some transactions rolled back after taking a number (the test exercised the gap case)"

[ "$failed" -eq 0 ]

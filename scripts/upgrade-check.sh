#!/usr/bin/env bash
# The extension lifecycle checks, as TAP (run by scripts/test.sh against its cluster; needs
# PGHOST / PGPORT / PGUSER of a superuser connection):
#   - every released version (a frozen full script in extension/sql/released/) has an update path
#     to the current version, and an install upgraded along it is identical to a fresh install
#     (scripts/describe-extension.sql, compared with diff);
#   - the comparison itself can fail (a deliberately altered install is caught);
#   - the extension installs in a second database, drops and re-creates cleanly;
#   - pg_dump / pg_restore keeps the data of the extension's tables (pg_extension_config_dump).
#
# Releasing version X -> Y: copy the generated extension/sql/balatrix--X.sql to
# extension/sql/released/, write extension/sql/balatrix--X--Y.sql, set default_version = 'Y'.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

: "${PGHOST:?set PGHOST}" "${PGPORT:?set PGPORT}"
export PGUSER=${PGUSER:-postgres}
CURRENT=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" balatrix.control)
WORK=$(mktemp -d)
DBS=()
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; [ -n "${2:-}" ] && sed 's/^/# /' "$2" | head -60; }
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

newdb() {
	local db=$1
	q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null && DBS+=("$db")
}
describe() { q -d "$1" -f scripts/describe-extension.sql >"$2" 2>&1; }
cleanup() {
	for db in "${DBS[@]}"; do q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1; done
	rm -rf "$WORK"
}
trap cleanup EXIT

# The reference: a fresh install of the current version.
newdb bx_fresh
if q -d bx_fresh -c 'CREATE EXTENSION balatrix' >"$WORK/fresh.err" 2>&1 && describe bx_fresh "$WORK/fresh.txt"; then
	ok "fresh install of $CURRENT describes itself ($(wc -l <"$WORK/fresh.txt") facts)"
else
	not_ok "fresh install of $CURRENT" "$WORK/fresh.err"
fi

# Every released version upgrades to the current one and ends identical to a fresh install.
shopt -s nullglob
released=(extension/sql/released/balatrix--*.sql)
if [ ${#released[@]} -eq 0 ]; then
	echo "ok $((n += 1)) # SKIP no released version before $CURRENT (the first release); upgrade paths start with the next one"
fi
for script in "${released[@]}"; do
	from=$(basename "$script" .sql)
	from=${from#balatrix--}
	[ "$from" = "$CURRENT" ] && continue
	db=bx_from_${from//./_}
	newdb "$db"
	if q -d "$db" -c "CREATE EXTENSION balatrix VERSION '$from'" -c 'ALTER EXTENSION balatrix UPDATE' >"$WORK/$db.err" 2>&1 &&
		describe "$db" "$WORK/$db.txt"; then
		if diff -u "$WORK/fresh.txt" "$WORK/$db.txt" >"$WORK/$db.diff"; then
			ok "$from -> $CURRENT: upgraded install equals a fresh install"
		else
			not_ok "$from -> $CURRENT: upgraded install differs from a fresh install (diff: - fresh, + upgraded)" "$WORK/$db.diff"
		fi
	else
		not_ok "$from -> $CURRENT: install and update" "$WORK/$db.err"
	fi
done

# The comparison can fail: a column added behind the extension's back must show in the diff.
newdb bx_tampered
q -d bx_tampered -c 'CREATE EXTENSION balatrix' -c 'ALTER TABLE balatrix.accounts ADD COLUMN tampered int' >/dev/null 2>&1
describe bx_tampered "$WORK/tampered.txt"
if ! diff -q "$WORK/fresh.txt" "$WORK/tampered.txt" >/dev/null && grep -q 'tampered' <(diff "$WORK/fresh.txt" "$WORK/tampered.txt"); then
	ok "the comparison catches a difference (an added column)"
else
	not_ok "the comparison did not catch an added column"
fi

# Drop and re-create in the same database (roles already exist, nothing left behind).
if q -d bx_tampered -c 'DROP EXTENSION balatrix CASCADE' -c 'CREATE EXTENSION balatrix' >"$WORK/recreate.err" 2>&1 &&
	describe bx_tampered "$WORK/recreated.txt" && diff -u "$WORK/fresh.txt" "$WORK/recreated.txt" >"$WORK/recreate.diff"; then
	ok "DROP EXTENSION then CREATE EXTENSION gives a fresh install"
else
	cat "$WORK/recreate.diff" >>"$WORK/recreate.err" 2>/dev/null
	not_ok "DROP EXTENSION then CREATE EXTENSION" "$WORK/recreate.err"
fi
# PostgreSQL keeps a schema that CREATE EXTENSION created for the control file's `schema`; it
# must be left empty (DROP SCHEMA without CASCADE succeeds).
if q -d bx_tampered -c 'DROP EXTENSION balatrix CASCADE' -c 'DROP SCHEMA balatrix RESTRICT' >"$WORK/drop.err" 2>&1; then
	ok "DROP EXTENSION leaves nothing behind in schema balatrix"
else
	not_ok "DROP EXTENSION left objects in schema balatrix" "$WORK/drop.err"
fi

# pg_dump / pg_restore keeps the rows of the extension's tables (and the partitions made later).
newdb bx_dump_src
newdb bx_dump_dst
if q -d bx_dump_src >"$WORK/dump.err" 2>&1 <<'SQL'
CREATE EXTENSION balatrix;
SELECT balatrix.install_default_catalogue();
SELECT balatrix.create_cdr_partitions(0, '2025-03-01');
INSERT INTO balatrix.customers (name, billing_state_code) VALUES ('Dump Test Pvt Ltd', '29');
INSERT INTO balatrix.accounts (customer_id, account_number, account_type)
    SELECT id, 'DUMP-1', 'prepaid' FROM balatrix.customers;
INSERT INTO balatrix.cdr (uuid, received_at) VALUES ('dump-1', '2025-03-10 00:00+00'), ('dump-2', '2030-01-01 00:00+00');
SQL
then
	# --exit-on-error plus the exit status: an error that still restores the rows must fail too.
	restored=no
	pg_dump -Fc -d bx_dump_src -f "$WORK/dump.pgc" 2>>"$WORK/dump.err" &&
		pg_restore --exit-on-error --single-transaction -d bx_dump_dst "$WORK/dump.pgc" 2>>"$WORK/dump.err" && restored=yes
	# The rates of the published default decks come back too: their immutability trigger lets a
	# restore refill a published deck (tg_rates_immutable).
	got=$(q -d bx_dump_dst -At -c "SELECT (SELECT count(*) FROM balatrix.rate_plans) || ' ' || (SELECT count(*) FROM balatrix.rates r
		JOIN balatrix.rate_decks d ON d.id = r.rate_deck_id AND d.status = 'published') || ' ' || (SELECT count(*) FROM balatrix.customers)
		|| ' ' || (SELECT count(*) FROM balatrix.accounts) || ' ' || (SELECT string_agg(uuid || '@' || tableoid::regclass::text, ',' ORDER BY uuid) FROM balatrix.cdr)
		|| ' ' || (SELECT count(*) FROM balatrix.gst_states)
		|| ' ' || (SELECT nextval('balatrix.customer_number_seq'))" 2>>"$WORK/dump.err")
	want="3 21 1 1 dump-1@balatrix.cdr_2025m03,dump-2@balatrix.cdr_default $(q -d bx_dump_src -At -c 'SELECT count(*) FROM balatrix.gst_states') 2"
	if [ "$restored" = yes ] && [ "$got" = "$want" ]; then
		ok "pg_dump / pg_restore keeps plans, published rates, customers, accounts, CDRs in their partitions, sequences"
	else
		echo "want: $want" >>"$WORK/dump.err"
		echo "got:  $got" >>"$WORK/dump.err"
		not_ok "pg_dump / pg_restore lost data" "$WORK/dump.err"
	fi
else
	not_ok "pg_dump test setup" "$WORK/dump.err"
fi

echo "1..$n"
exit $failed

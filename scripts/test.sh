#!/usr/bin/env bash
# make test: every suite, against a throwaway PostgreSQL cluster started here and destroyed after.
#
#   1. GoogleTest via ctest      core unit tests, sidecar tests (DB-backed ones use the cluster)
#   2. pg_regress                sql/*.sql vs expected/*.out (make installcheck)
#   3. pgTAP via pg_prove        tests/pgtap/*.sql, in database balatrix (pg_cron's database)
#   4. upgrade check             every upgrade path yields the same catalogue as a fresh install
#   5. end-to-end                tests/e2e/*.sh (TAP, via prove): the real sidecar binary, psql replays
#   6. crash check               the cluster's log must show no backend killed by a signal
#
# Prints one line per suite and, last, "N passed, M failed" (test cases over all suites). Exit
# status is non-zero when anything failed. The cluster listens on $BALATRIX_TEST_PGPORT (25432).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh

export BALATRIX_CLUSTER=test
export BALATRIX_PGPORT=$BALATRIX_TEST_PGPORT
export BALATRIX_PG_TIMEZONE=UTC
# A throwaway cluster: durability is not needed.
export BALATRIX_PG_EXTRA_CONF="fsync = off
full_page_writes = off
synchronous_commit = off
max_connections = 200"
export PGHOST=127.0.0.1 PGPORT=$BALATRIX_TEST_PGPORT PGUSER=postgres
unset PGDATABASE PGPASSWORD

OUT=$BALATRIX_RUN_DIR/test-output
rm -rf "$OUT"
mkdir -p "$OUT"
total_pass=0
total_fail=0
summary=()

# record SUITE PASSED FAILED
record() {
	total_pass=$((total_pass + $2))
	total_fail=$((total_fail + $3))
	summary+=("$(printf '%-12s %4d passed, %d failed' "$1" "$2" "$3")")
	printf '==> %s: %d passed, %d failed\n' "$1" "$2" "$3"
}

# count_tap FILE RC SUITE: counts TAP "ok"/"not ok" lines; a runner that failed without a failing
# test line (a bad plan, a crash, a file that died) counts as one failure.
count_tap() {
	local pass fail
	pass=$(grep -E '^[[:space:]]*ok [0-9]+' "$1" | grep -vc '# SKIP' || true)
	fail=$(grep -Ec '^[[:space:]]*not ok [0-9]+' "$1" || true)
	if [ "$2" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
	if [ "$2" -eq 0 ] && [ "$pass" -eq 0 ]; then fail=1; echo "$3: no tests ran" >&2; fi
	record "$3" "$pass" "$fail"
}

cleanup() {
	scripts/pg.sh stop >/dev/null 2>&1 || true
	if [ "$total_fail" -eq 0 ] && [ -z "${BALATRIX_KEEP_TEST_CLUSTER:-}" ]; then
		scripts/pg.sh destroy >/dev/null 2>&1 || true
	else
		echo "test cluster kept in $BALATRIX_RUN_DIR/test (server.log there)" >&2
	fi
}
trap cleanup EXIT

echo "==> installing the extension"
scripts/install-ext.sh || { record install 0 1; exit 1; }

echo "==> starting the test cluster on port $BALATRIX_PGPORT"
scripts/pg.sh destroy >/dev/null 2>&1 || true
scripts/pg.sh start || { record cluster 0 1; exit 1; }
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $BALATRIX_DB" &&
	psql -X -q -v ON_ERROR_STOP=1 -d "$BALATRIX_DB" \
		-c 'CREATE EXTENSION pg_cron' -c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION balatrix' ||
	{ record cluster 0 1; exit 1; }
export BALATRIX_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$BALATRIX_PGPORT/$BALATRIX_DB"
export BALATRIX_TEST_EXPECT_EXTENSION=1

# ---- 1. GoogleTest -------------------------------------------------------------------------
echo "==> GoogleTest (ctest)"
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j2 >"$OUT/ctest.log" 2>&1
rc=$?
grep -E '\*\*\*|tests passed|\((Failed|Not Run|Timeout)\)' "$OUT/ctest.log" || true
line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$OUT/ctest.log" | tail -1)
if [[ $line =~ ([0-9]+)\ tests\ failed\ out\ of\ ([0-9]+) ]]; then
	failed=${BASH_REMATCH[1]}
	record gtest $((BASH_REMATCH[2] - failed)) "$failed"
else
	cat "$OUT/ctest.log"
	record gtest 0 1
fi
[ $rc -eq 0 ] || [ "${failed:-1}" -gt 0 ] || record gtest-runner 0 1

# ---- 2. pg_regress -------------------------------------------------------------------------
echo "==> pg_regress"
rm -rf results regression.diffs regression.out
make --no-print-directory installcheck >"$OUT/regress.log" 2>&1
rc=$?
grep -E '^(test|ok|not ok|#)|tests (passed|failed)' "$OUT/regress.log" || true
ntests=$(grep -Ec '^(not )?ok [0-9]+|^test .* \.\.\. ' "$OUT/regress.log" || true)
nfail=$(grep -Ec '^not ok [0-9]+|^test .* \.\.\. FAILED' "$OUT/regress.log" || true)
if [ $rc -ne 0 ] && [ "$nfail" -eq 0 ]; then nfail=1; cat "$OUT/regress.log"; fi
[ -f regression.diffs ] && { echo "---- regression.diffs"; cat regression.diffs; }
record pg_regress $((ntests - nfail > 0 ? ntests - nfail : 0)) "$nfail"

# ---- 3. pgTAP ------------------------------------------------------------------------------
echo "==> pgTAP (pg_prove)"
shopt -s nullglob
tap_files=(tests/pgtap/*.sql)
if [ ${#tap_files[@]} -eq 0 ]; then
	record pgtap 0 1
else
	pg_prove -v -d "$BALATRIX_DB" "${tap_files[@]}" >"$OUT/pgtap.log" 2>&1
	rc=$?
	grep -Ev '^\s*ok [0-9]+' "$OUT/pgtap.log" || true
	count_tap "$OUT/pgtap.log" $rc pgtap
fi

# ---- 4. upgrade check ----------------------------------------------------------------------
echo "==> upgrade check"
scripts/upgrade-check.sh >"$OUT/upgrade.log" 2>&1
rc=$?
cat "$OUT/upgrade.log"
count_tap "$OUT/upgrade.log" $rc upgrade

# ---- 5. end-to-end -------------------------------------------------------------------------
echo "==> end-to-end (prove)"
e2e_files=(tests/e2e/*.sh)
if [ ${#e2e_files[@]} -eq 0 ]; then
	record e2e 0 1
else
	BALATRIX_SIDECAR_BIN=$BALATRIX_SIDECAR_BIN \
	BALATRIX_E2E_PORT=$BALATRIX_TEST_SIDECAR_PORT \
	BALATRIX_TEST_PGHOST=127.0.0.1 BALATRIX_TEST_PGPORT=$BALATRIX_PGPORT BALATRIX_TEST_DB=$BALATRIX_DB \
	BALATRIX_TEST_DATABASE_URL="postgresql://balatrix_api@127.0.0.1:$BALATRIX_PGPORT/$BALATRIX_DB" \
		prove -v -e bash "${e2e_files[@]}" >"$OUT/e2e.log" 2>&1
	rc=$?
	grep -Ev '^\s*ok [0-9]+' "$OUT/e2e.log" || true
	count_tap "$OUT/e2e.log" $rc e2e
fi

# ---- 6. crash check ------------------------------------------------------------------------
log=$(readlink -f "$BALATRIX_RUN_DIR/test")/server.log
if grep -E 'terminated by signal|server process .* was terminated|all server processes terminated' "$log" >"$OUT/crash.log"; then
	echo "the server log shows a crashed backend:" >&2
	cat "$OUT/crash.log" >&2
	record crash-check 0 1
else
	record crash-check 1 0
fi

echo
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]

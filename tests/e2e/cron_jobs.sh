#!/usr/bin/env bash
# End-to-end: pg_cron really runs the balatrix jobs. schedule_jobs registers the six jobs with the
# health check every minute (the finest pg_cron 1.4 schedule); within two minutes the scheduler
# must have connected back over TCP, run balatrix.run_health_check() and recorded the run as
# succeeded in cron.job_run_details, and the function its own job_runs row. unschedule_jobs then
# leaves no balatrix- job behind (also on the way out, should a test fail).
#
# pg_cron schedules only in its own database (cron.database_name = 'balatrix', scripts/pg.sh), so
# this test works in the suite's database rather than in one of its own.
#
# TAP output; run with:  prove -e bash tests/e2e/cron_jobs.sh
# Environment: BALATRIX_TEST_PGHOST, BALATRIX_TEST_PGPORT, BALATRIX_TEST_DB (or PGHOST, PGPORT; the
# database defaults to balatrix): superuser postgres reachable without a password, pg_cron and
# balatrix created in the database.
set -uo pipefail

HOST=${BALATRIX_TEST_PGHOST:-${PGHOST:?neither BALATRIX_TEST_PGHOST nor PGHOST is set}}
PORT=${BALATRIX_TEST_PGPORT:-${PGPORT:?neither BALATRIX_TEST_PGPORT nor PGPORT is set}}
DB=${BALATRIX_TEST_DB:-balatrix}
WAIT_SECONDS=130
POLL_SECONDS=2

as_postgres() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres -d "$DB" "$@"; }
cleanup() { as_postgres -c "SELECT balatrix.unschedule_jobs()" >/dev/null 2>&1; }

source "$(dirname "${BASH_SOURCE[0]}")/lib/tap.sh"

echo "1..6"

# The scheduler's database, with pg_cron created: otherwise nothing here can work.
pre=$(as_postgres -c "SELECT current_setting('cron.database_name', true) = current_database()
                             AND EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron')
                             AND EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'balatrix')" 2>&1)
is "$pre" "t" "database $DB is pg_cron's (cron.database_name) and has pg_cron and balatrix"
[ "$pre" = "t" ] || { echo "Bail out! pg_cron cannot schedule in database $DB"; exit 1; }
trap cleanup EXIT

# Runs before this instant (an earlier test run's) do not count.
since=$(as_postgres -c "SELECT now()")
out=$(as_postgres -c "SELECT count(*) FROM balatrix.schedule_jobs('{\"health-check\": \"* * * * *\"}')" 2>&1)
is "$out" "7" "schedule_jobs registers the 7 jobs, the health check every minute"
jobid=$(as_postgres -c "SELECT jobid FROM cron.job WHERE jobname = 'balatrix-health-check' AND username = current_user")

status=
start=$SECONDS
while [ $((SECONDS - start)) -lt "$WAIT_SECONDS" ]; do
	status=$(as_postgres -c "SELECT coalesce(max(status) FILTER (WHERE status = 'succeeded'), max(status) FILTER (WHERE status = 'failed'))
	                           FROM cron.job_run_details WHERE jobid = ${jobid:-0} AND start_time >= '$since'")
	[ "$status" = "succeeded" ] || [ "$status" = "failed" ] && break
	sleep "$POLL_SECONDS"
done
waited=$((SECONDS - start))
echo "# waited ${waited} s for pg_cron (up to ${WAIT_SECONDS} s)"
details=$(as_postgres -c "SELECT runid, status, return_message, start_time FROM cron.job_run_details
                           WHERE jobid = ${jobid:-0} AND start_time >= '$since' ORDER BY runid" 2>&1)
is "$status" "succeeded" "pg_cron ran balatrix-health-check and it succeeded (after ${waited} s)"
[ "$status" = "succeeded" ] || printf '%s\n' "$details" | sed 's/^/# /'

is "$(as_postgres -c "SELECT count(*) > 0 FROM balatrix.job_runs
                      WHERE job = 'health_check' AND status = 'succeeded' AND started_at >= '$since'")" \
	"t" "the run left its job_runs row (job health_check, succeeded)"

is "$(as_postgres -c "SELECT balatrix.unschedule_jobs()" 2>&1)" "7" "unschedule_jobs removes the 7 jobs"
is "$(as_postgres -c "SELECT count(*) FROM cron.job WHERE jobname LIKE 'balatrix-%'")" "0" "cron.job holds no balatrix- job"

[ "$failed" -eq 0 ]

-- pgTAP: the scheduled jobs (extension/sql/balatrix.sql, section "Scheduled jobs"): signatures,
-- pinned search_path, comments, no EXECUTE for PUBLIC; the health check's alerts at and around
-- their thresholds (reference/seed-original.md §2.7) and its one event per alert and hour;
-- retention removing exactly what is due; the pg_cron registration. pg_cron actually running a job
-- is tests/e2e/cron_jobs.sh.
--
-- The health check is evaluated at fixed instants of 2031 (nothing else lives there); the fixture
-- rows are hand-set so that each check sits just below, then just above, its threshold.
BEGIN;
SELECT plan(64);
SET LOCAL client_min_messages = warning;   -- the jobs' one-line summaries (NOTICE)

-- ---- Contract -------------------------------------------------------------------------------
SELECT has_table('balatrix', 'job_runs', 'job_runs exists');
SELECT has_function('balatrix', 'run_health_check', ARRAY['timestamp with time zone'], 'run_health_check(timestamptz) exists');
SELECT has_function('balatrix', 'run_retention', ARRAY['date'], 'run_retention(date) exists');
SELECT has_function('balatrix', 'schedule_jobs', ARRAY['jsonb'], 'schedule_jobs(jsonb) exists');
SELECT has_function('balatrix', 'unschedule_jobs', ARRAY[]::name[], 'unschedule_jobs() exists');
SELECT is(pg_catalog.pg_get_function_result('balatrix.run_health_check(timestamptz)'::regprocedure),
          'TABLE(alert text, severity text, value numeric, threshold numeric)', 'run_health_check returns its alerts');
SELECT is(pg_catalog.pg_get_function_result('balatrix.run_retention(date)'::regprocedure),
          'TABLE(what text, removed bigint)', 'run_retention returns what it removed');
SELECT is(pg_catalog.pg_get_function_result('balatrix.schedule_jobs(jsonb)'::regprocedure),
          'TABLE(job text, schedule text, command text, jobid bigint)', 'schedule_jobs returns the jobs');
SELECT function_returns('balatrix', 'unschedule_jobs', ARRAY[]::name[], 'integer', 'unschedule_jobs returns a count');
SELECT is((SELECT count(*) FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'balatrix'::regnamespace
              AND p.proname IN ('run_health_check', 'run_retention', 'schedule_jobs', 'unschedule_jobs')
              AND p.provolatile = 'v' AND NOT p.prosecdef AND p.proconfig = ARRAY['search_path=pg_catalog, pg_temp']
              AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NOT NULL
              AND NOT pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE')),
          4::bigint, 'all four are VOLATILE, SECURITY INVOKER, pin search_path, have a COMMENT and no EXECUTE for PUBLIC');

-- ---- Health check: fixture ------------------------------------------------------------------
-- Hour A ends at 2031-03-10 06:30 UTC (12:00 IST): rating and payments over their thresholds.
-- Hour B ends at 09:30 UTC: both exactly at their thresholds. Invoices and accounts are state.
INSERT INTO balatrix.customers (id, name, billing_state_code) VALUES ('00000000-0000-4000-8000-0000000cb001', 'Cron Tap Pvt Ltd', '29');
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type, balance, status)
VALUES ('00000000-0000-4000-8000-0000000cb101', '00000000-0000-4000-8000-0000000cb001', 'CRONPOST', 'postpaid', -500, 'active');

-- Hour A: 100 CDRs received at 06:00, 90 rated, 4 skipped, 6 unrated (6 %); 5 unrated ones just
-- before the window and 5 at its (excluded) end.
INSERT INTO balatrix.cdr (received_at, uuid)
SELECT '2031-03-10 06:00:00+00', 'cron-tap-a-' || g FROM generate_series(1, 100) g;
UPDATE balatrix.cdr SET rating_status = CASE WHEN substr(uuid, 12)::int <= 90 THEN 'rated'
                                             WHEN substr(uuid, 12)::int <= 94 THEN 'skipped' ELSE 'no_rate' END
 WHERE uuid LIKE 'cron-tap-a-%';
INSERT INTO balatrix.cdr (received_at, uuid)
SELECT t, 'cron-tap-edge-' || g || '-' || extract(epoch FROM t)
  FROM generate_series(1, 5) g, unnest(ARRAY['2031-03-10 05:29:59.999+00', '2031-03-10 06:30:00+00']::timestamptz[]) t;
-- Hour B: 100 CDRs at 09:00, 95 rated, 5 not (5 %: not above 5 %).
INSERT INTO balatrix.cdr (received_at, uuid)
SELECT '2031-03-10 09:00:00+00', 'cron-tap-b-' || g FROM generate_series(1, 100) g;
UPDATE balatrix.cdr SET rating_status = 'rated' WHERE uuid LIKE 'cron-tap-b-%' AND substr(uuid, 12)::int <= 95;

-- Payments: hour A 8 captured + 2 failed (20 %); hour B 9 captured + 1 failed (10 %: not above 10 %).
INSERT INTO balatrix.payments (customer_id, account_id, purpose, gateway, amount, status, captured_at, created_at)
SELECT '00000000-0000-4000-8000-0000000cb001', '00000000-0000-4000-8000-0000000cb101', 'top_up', 'razorpay', 100,
       CASE WHEN g <= captured THEN 'captured' ELSE 'failed' END,
       CASE WHEN g <= captured THEN at END, at
  FROM generate_series(1, 10) g,
       (VALUES ('2031-03-10 06:10:00+00'::timestamptz, 8), ('2031-03-10 09:10:00+00'::timestamptz, 9)) AS h(at, captured);

-- Invoices (IST day 2031-03-10): 49 issued 9 days past due and one 30 days past due (50, oldest 30:
-- neither fires); a paid, a void and a partially paid one due today do not count.
INSERT INTO balatrix.invoices (customer_id, account_id, status, invoice_number, financial_year, issue_date, due_date,
                               issued_at, paid_at, voided_at)
SELECT '00000000-0000-4000-8000-0000000cb001', '00000000-0000-4000-8000-0000000cb101', s, 'CRONTAP/' || g, '3031',
       d - 15, d, '2031-01-01', CASE WHEN s = 'paid' THEN timestamptz '2031-01-02' END,
       CASE WHEN s = 'void' THEN timestamptz '2031-01-02' END
  FROM (SELECT g, CASE WHEN g <= 25 THEN 'issued' WHEN g <= 40 THEN 'partially_paid' ELSE 'overdue' END AS s,
               date '2031-03-01' AS d FROM generate_series(1, 49) g
        UNION ALL VALUES (50, 'overdue', date '2031-02-08'),
                         (51, 'paid', date '2030-01-01'), (52, 'void', date '2030-01-01'),
                         (53, 'partially_paid', date '2031-03-10')) AS x(g, s, d);

-- Accounts: 10 active prepaid at or below their critical threshold (one exactly at it); not counted:
-- one above it, a suspended one, and the postpaid one above (balance -500).
INSERT INTO balatrix.accounts (customer_id, account_number, account_type, balance, critical_balance_threshold, status)
SELECT '00000000-0000-4000-8000-0000000cb001', 'CRONPRE' || g, 'prepaid', b, 10, s
  FROM (SELECT g, CASE WHEN g = 1 THEN 10 ELSE 0 END AS b, 'active' AS s FROM generate_series(1, 10) g
        UNION ALL VALUES (11, 10.01, 'active'), (12, 0, 'suspended')) AS x(g, b, s);

CREATE TEMP VIEW alerts AS
    SELECT e.event_type, e.dedupe_key, e.payload FROM balatrix.event_outbox e WHERE e.event_type LIKE 'alert.%';

-- ---- Health check: below the thresholds -----------------------------------------------------
SELECT is_empty($$SELECT * FROM balatrix.run_health_check('2031-03-10 09:30:00+00')$$,
                'at the thresholds (5 % rating, 10 % payments, 50 overdue, 30 days, 10 accounts): no alert');
SELECT is_empty($$SELECT * FROM balatrix.run_health_check('2031-03-10 03:00:00+00')$$,
                'an hour without CDRs or payments: no rate alert (and nothing else fires yet)');
SELECT is((SELECT r.counts -> 'rating_failure_pct' FROM balatrix.job_runs r WHERE r.job = 'health_check' ORDER BY r.id DESC LIMIT 1),
          'null'::jsonb, 'no CDRs: the rating rate is NULL, not 0 %');
SELECT is((SELECT count(*) FROM alerts), 0::bigint, 'no alert event was written');

-- ---- Health check: above them --------------------------------------------------------------
INSERT INTO balatrix.invoices (customer_id, account_id, status, invoice_number, financial_year, issue_date, due_date, issued_at)
VALUES ('00000000-0000-4000-8000-0000000cb001', '00000000-0000-4000-8000-0000000cb101', 'issued', 'CRONTAP/54', '3031',
        '2031-01-23', '2031-02-07', '2031-01-23');
INSERT INTO balatrix.accounts (customer_id, account_number, account_type, balance, status)
VALUES ('00000000-0000-4000-8000-0000000cb001', 'CRONPRE13', 'prepaid', 5, 'active');

SELECT results_eq($$SELECT alert, severity, value, threshold FROM balatrix.run_health_check('2031-03-10 06:30:00+00')$$,
                  $$VALUES ('rating_failure_rate', 'critical', 6.00, 5::numeric),
                           ('payment_failure_rate', 'warning', 20.00, 10),
                           ('overdue_invoices', 'warning', 51, 50),
                           ('oldest_overdue_invoice', 'critical', 31, 30),
                           ('critical_balance_accounts', 'critical', 11, 10)$$,
                  'every alert fires just above its threshold: 6 % > 5 %, 20 % > 10 %, 51 > 50, 31 days > 30, 11 > 10');
SELECT results_eq($$SELECT event_type, dedupe_key FROM alerts ORDER BY event_type$$,
                  $$VALUES ('alert.critical_balance_accounts', 'alert.critical_balance_accounts:2031-03-10T06:00Z'),
                           ('alert.oldest_overdue_invoice', 'alert.oldest_overdue_invoice:2031-03-10T06:00Z'),
                           ('alert.overdue_invoices', 'alert.overdue_invoices:2031-03-10T06:00Z'),
                           ('alert.payment_failure_rate', 'alert.payment_failure_rate:2031-03-10T06:00Z'),
                           ('alert.rating_failure_rate', 'alert.rating_failure_rate:2031-03-10T06:00Z')$$,
                  'one outbox event per alert, keyed by alert and UTC hour');
SELECT is((SELECT payload - 'at' FROM alerts WHERE event_type = 'alert.rating_failure_rate'),
          '{"alert": "rating_failure_rate", "severity": "critical", "value": 6.00, "threshold": 5}'::jsonb,
          'the event payload carries alert, severity, value and threshold');
SELECT is((SELECT (payload ->> 'at')::timestamptz FROM alerts WHERE event_type = 'alert.rating_failure_rate'),
          '2031-03-10 06:30:00+00'::timestamptz, '... and the time of the check');
SELECT is((SELECT (r.counts ->> 'events')::int FROM balatrix.job_runs r WHERE r.job = 'health_check' ORDER BY r.id DESC LIMIT 1),
          5, 'the job_runs row counts 5 new events');

-- ---- Health check: once per hour ------------------------------------------------------------
SELECT is((SELECT count(*) FROM balatrix.run_health_check('2031-03-10 06:30:00+00')), 5::bigint,
          'a second check reports the 5 alerts again');
SELECT is((SELECT count(*) FROM balatrix.run_health_check('2031-03-10 06:59:59+00')), 5::bigint,
          '... and so does one later in the same hour');
SELECT is((SELECT count(*) FROM alerts), 5::bigint, 'but no new event within the hour');
SELECT is((SELECT (r.counts ->> 'events')::int FROM balatrix.job_runs r WHERE r.job = 'health_check' ORDER BY r.id DESC LIMIT 1),
          0, 'the job_runs row of a repeat counts 0 new events');
SELECT set_eq($$SELECT alert FROM balatrix.run_health_check('2031-03-10 07:30:00+00')$$,
              ARRAY['rating_failure_rate', 'overdue_invoices', 'oldest_overdue_invoice', 'critical_balance_accounts'],
              'the next hour: the 5 CDRs at 06:30 are all unrated (100 %), no payments; the state alerts stay');
SELECT is((SELECT count(*) FROM alerts WHERE dedupe_key LIKE '%:2031-03-10T07:00Z'), 4::bigint,
          'the next hour gets its own 4 events');
SELECT is((SELECT count(*) FROM balatrix.job_runs r WHERE r.job = 'health_check' AND r.status = 'succeeded'
              AND r.as_of = '2031-03-10' AND r.finished_at >= r.started_at AND r.duration_ms >= 0), 6::bigint,
          'each of the 6 checks left a succeeded job_runs row (IST day, times, duration)');
SELECT throws_ok($$SELECT * FROM balatrix.run_health_check(NULL)$$, '22023', NULL, 'a NULL time is 22023');
SELECT throws_ok($$SELECT * FROM balatrix.run_health_check('infinity')$$, '22023', NULL, 'an infinite time is 22023');

-- ---- Retention ------------------------------------------------------------------------------
-- As of 2025-06-15 with 90 days of CDRs, the cutoff is 2025-03-17: January and February 2025 go,
-- March (received up to 2025-04-01) stays. Outbox: 30 days before 2025-06-15 (IST).
SET LOCAL balatrix.cdr_retention_days = 90;
SET LOCAL balatrix.outbox_retention_days = 30;
SELECT is((SELECT count(*) FROM balatrix.create_cdr_partitions(2, '2025-01-01')), 3::bigint,
          'fixture: CDR partitions for January to March 2025');
INSERT INTO balatrix.cdr (received_at, uuid)
VALUES ('2025-01-20 10:00+00', 'cron-tap-r1'), ('2025-02-20 10:00+00', 'cron-tap-r2'), ('2025-03-20 10:00+00', 'cron-tap-r3'),
       ('2024-12-20 10:00+00', 'cron-tap-r4'),   -- no partition for December: cdr_default, older than the cutoff
       ('2025-05-20 10:00+00', 'cron-tap-r5');   -- cdr_default, newer
INSERT INTO balatrix.event_outbox (event_type, payload, status, created_at, processed_at, dedupe_key)
VALUES ('test.cron_done_old', '{}', 'done', '2025-05-06 10:00+05:30', '2025-05-06 10:00+05:30', 'cron-tap-o1'),  -- 40 days
       ('test.cron_done_new', '{}', 'done', '2025-06-05 10:00+05:30', '2025-06-05 10:00+05:30', 'cron-tap-o2'),  -- 10 days
       ('test.cron_pending_old', '{}', 'pending', '2025-01-01 10:00+05:30', NULL, 'cron-tap-o3'),
       ('test.cron_dead_old', '{}', 'dead', '2025-01-01 10:00+05:30', NULL, 'cron-tap-o4');
INSERT INTO balatrix.audit_log (occurred_at, action) VALUES ('2020-01-01', 'cron.tap.ancient');

-- 0 keeps everything (but tokens, which have no setting; there are none yet).
SET LOCAL balatrix.cdr_retention_days = 0;
SET LOCAL balatrix.outbox_retention_days = 0;
SELECT results_eq($$SELECT what, removed FROM balatrix.run_retention('2025-06-15')$$,
                  $$VALUES ('cdr_partitions', 0::bigint), ('cdr_default_rows', 0), ('refresh_tokens', 0), ('user_tokens', 0),
                           ('event_outbox', 0)$$,
                  'retention days 0: nothing removed');
SELECT is((SELECT count(*) FROM balatrix.cdr WHERE uuid LIKE 'cron-tap-r%'), 5::bigint, '... all 5 CDRs are still there');
SET LOCAL balatrix.cdr_retention_days = 90;
SET LOCAL balatrix.outbox_retention_days = 30;

-- Tokens against the clock (a day of grace).
INSERT INTO balatrix.users (id, email, password_hash) VALUES ('00000000-0000-4000-8000-0000000cb201', 'cron-tap@example.com', 'x');
INSERT INTO balatrix.refresh_tokens (id, user_id, family_id, token_hash, issued_at, expires_at, revoked_at)
VALUES ('00000000-0000-4000-8000-0000000cb301', '00000000-0000-4000-8000-0000000cb201', gen_random_uuid(),
        sha256('rt1'), now() - interval '10 days', now() - interval '2 days', NULL),           -- expired 2 days ago: removed
       ('00000000-0000-4000-8000-0000000cb302', '00000000-0000-4000-8000-0000000cb201', gen_random_uuid(),
        sha256('rt2'), now() - interval '10 days', now() - interval '1 hour', NULL),           -- expired 1 hour ago: kept
       ('00000000-0000-4000-8000-0000000cb303', '00000000-0000-4000-8000-0000000cb201', gen_random_uuid(),
        sha256('rt3'), now() - interval '1 day', now() + interval '6 days', now());             -- revoked, unexpired: kept
INSERT INTO balatrix.user_tokens (id, user_id, purpose, token_hash, created_at, expires_at, used_at)
VALUES ('00000000-0000-4000-8000-0000000cb401', '00000000-0000-4000-8000-0000000cb201', 'password_reset', sha256('ut1'),
        now() - interval '3 days', now() + interval '1 day', now() - interval '2 days'),      -- used 2 days ago: removed
       ('00000000-0000-4000-8000-0000000cb402', '00000000-0000-4000-8000-0000000cb201', 'email_verification', sha256('ut2'),
        now() - interval '5 days', now() - interval '2 days', NULL),                          -- expired 2 days ago: removed
       ('00000000-0000-4000-8000-0000000cb403', '00000000-0000-4000-8000-0000000cb201', 'password_reset', sha256('ut3'),
        now() - interval '1 hour', now() + interval '1 hour', NULL),                          -- live: kept
       ('00000000-0000-4000-8000-0000000cb404', '00000000-0000-4000-8000-0000000cb201', 'password_reset', sha256('ut4'),
        now() - interval '2 hours', now() + interval '1 hour', now() - interval '1 hour');    -- used 1 hour ago: kept

SELECT results_eq($$SELECT what, removed FROM balatrix.run_retention('2025-06-15')$$,
                  $$VALUES ('cdr_partitions', 2::bigint), ('cdr_default_rows', 1), ('refresh_tokens', 1), ('user_tokens', 2),
                           ('event_outbox', 1)$$,
                  'retention as of 2025-06-15: 2 partitions, 1 old cdr_default row, 1 refresh token, 2 user tokens, 1 event');
SELECT is((SELECT r.counts -> 'cdr_partitions_dropped' FROM balatrix.job_runs r WHERE r.job = 'retention' ORDER BY r.id DESC LIMIT 1),
          '["cdr_2025m01", "cdr_2025m02"]'::jsonb, 'the dropped partitions are January and February 2025');
SELECT ok(to_regclass('balatrix.cdr_2025m01') IS NULL AND to_regclass('balatrix.cdr_2025m02') IS NULL
          AND to_regclass('balatrix.cdr_2025m03') IS NOT NULL, '... March 2025 (partly within 90 days) stays');
SELECT set_eq($$SELECT uuid FROM balatrix.cdr WHERE uuid LIKE 'cron-tap-r%'$$, ARRAY['cron-tap-r3', 'cron-tap-r5'],
              'the CDRs of March and May 2025 remain');
SELECT set_eq($$SELECT id FROM balatrix.refresh_tokens WHERE user_id = '00000000-0000-4000-8000-0000000cb201'$$,
              ARRAY['00000000-0000-4000-8000-0000000cb302', '00000000-0000-4000-8000-0000000cb303']::uuid[],
              'refresh tokens: the one expired 2 days ago is gone; just expired and revoked-but-unexpired stay');
SELECT set_eq($$SELECT id FROM balatrix.user_tokens WHERE user_id = '00000000-0000-4000-8000-0000000cb201'$$,
              ARRAY['00000000-0000-4000-8000-0000000cb403', '00000000-0000-4000-8000-0000000cb404']::uuid[],
              'user tokens: used or expired 2 days ago are gone; live and just used stay');
SELECT set_eq($$SELECT dedupe_key FROM balatrix.event_outbox WHERE dedupe_key LIKE 'cron-tap-o%'$$,
              ARRAY['cron-tap-o2', 'cron-tap-o3', 'cron-tap-o4'],
              'outbox: the done event of 40 days before is gone; done of 10 days, pending and dead ones stay');
SELECT is((SELECT count(*) FROM alerts), 9::bigint, 'the alert events (pending) stay');
SELECT ok(EXISTS (SELECT 1 FROM balatrix.audit_log WHERE action = 'cron.tap.ancient')
          AND (SELECT count(*) FROM balatrix.invoices WHERE invoice_number LIKE 'CRONTAP/%') = 54
          AND (SELECT count(*) FROM balatrix.payments WHERE customer_id = '00000000-0000-4000-8000-0000000cb001') = 20,
          'the audit log, invoices and payments are never removed');
SELECT is((SELECT r.as_of FROM balatrix.job_runs r WHERE r.job = 'retention' ORDER BY r.id DESC LIMIT 1), '2025-06-15'::date,
          'the retention run is recorded with its day');
SELECT results_eq($$SELECT what, removed FROM balatrix.run_retention('2025-06-15')$$,
                  $$VALUES ('cdr_partitions', 0::bigint), ('cdr_default_rows', 0), ('refresh_tokens', 0), ('user_tokens', 0),
                           ('event_outbox', 0)$$,
                  'a second run removes nothing');
SELECT throws_ok($$SELECT * FROM balatrix.run_retention((now() AT TIME ZONE 'Asia/Kolkata')::date + 1)$$, '22023', NULL,
                 'retention as of a future day is refused (22023)');
SELECT lives_ok($$SELECT * FROM balatrix.run_retention()$$, 'retention as of today runs');
SELECT is((SELECT r.as_of FROM balatrix.job_runs r WHERE r.job = 'retention' ORDER BY r.id DESC LIMIT 1),
          (now() AT TIME ZONE 'Asia/Kolkata')::date, '... and defaults to today in IST');

-- ---- pg_cron registration -------------------------------------------------------------------
CREATE TEMP VIEW bx_jobs AS
    SELECT j.jobname::text COLLATE "default" AS jobname, j.schedule, j.command FROM cron.job j WHERE j.jobname LIKE 'balatrix-%';
-- Start from no balatrix- job, whatever the database held (rolled back with the rest).
SELECT balatrix.unschedule_jobs() AS cleared \gset
SELECT results_eq($$SELECT job, schedule, command FROM balatrix.schedule_jobs()$$,
                  $$VALUES ('balatrix-billing-cycle', '30 20 * * *', 'CALL balatrix.run_billing_cycle_job()'),
                           ('balatrix-renewals', '5 0-17,21-23 * * *', 'CALL balatrix.run_billing_cycle_job()'),
                           ('balatrix-overdue-sweep', '30 3 * * *', 'SELECT balatrix.run_dunning()'),
                           ('balatrix-retention', '30 21 * * *', 'SELECT balatrix.run_retention()'),
                           ('balatrix-partitions', '0 20 * * *', 'SELECT balatrix.create_cdr_partitions(3)'),
                           ('balatrix-health-check', '*/15 * * * *', 'SELECT balatrix.run_health_check()'),
                           ('balatrix-payment-retries', '*/15 * * * *', 'SELECT balatrix.run_payment_retries()')$$,
                  'schedule_jobs returns the 7 jobs (PRODUCT.md §7 and the payment retries; UTC schedules: 02:00, 09:00 IST ...)');
SELECT results_eq($$SELECT jobname, schedule, command FROM bx_jobs ORDER BY jobname$$,
                  $$VALUES ('balatrix-billing-cycle', '30 20 * * *', 'CALL balatrix.run_billing_cycle_job()'),
                           ('balatrix-health-check', '*/15 * * * *', 'SELECT balatrix.run_health_check()'),
                           ('balatrix-overdue-sweep', '30 3 * * *', 'SELECT balatrix.run_dunning()'),
                           ('balatrix-partitions', '0 20 * * *', 'SELECT balatrix.create_cdr_partitions(3)'),
                           ('balatrix-payment-retries', '*/15 * * * *', 'SELECT balatrix.run_payment_retries()'),
                           ('balatrix-renewals', '5 0-17,21-23 * * *', 'CALL balatrix.run_billing_cycle_job()'),
                           ('balatrix-retention', '30 21 * * *', 'SELECT balatrix.run_retention()')$$,
                  'cron.job holds exactly those 7 jobs');
SELECT is((SELECT count(*) FROM cron.job j WHERE j.jobname LIKE 'balatrix-%' AND j.username = current_user
              AND j.database = current_database() AND j.active), 7::bigint,
          'they run as the caller, in this database, and are active');
CREATE TEMP TABLE first_ids AS SELECT j.jobid FROM cron.job j WHERE j.jobname LIKE 'balatrix-%';
SELECT is((SELECT count(*) FROM balatrix.schedule_jobs()), 7::bigint, 'a second call returns the 7 jobs');
SELECT set_eq($$SELECT j.jobid FROM cron.job j WHERE j.jobname LIKE 'balatrix-%'$$, $$SELECT jobid FROM first_ids$$,
              '... and replaces them in place: still 7, same job ids');
SELECT is((SELECT schedule FROM balatrix.schedule_jobs('{"health-check": "* * * * *"}') WHERE job = 'balatrix-health-check'),
          '* * * * *', 'an override changes the schedule of one job');
SELECT results_eq($$SELECT jobname, schedule FROM bx_jobs ORDER BY jobname$$,
                  $$VALUES ('balatrix-billing-cycle', '30 20 * * *'), ('balatrix-health-check', '* * * * *'),
                           ('balatrix-overdue-sweep', '30 3 * * *'), ('balatrix-partitions', '0 20 * * *'),
                           ('balatrix-payment-retries', '*/15 * * * *'),
                           ('balatrix-renewals', '5 0-17,21-23 * * *'), ('balatrix-retention', '30 21 * * *')$$,
                  '... in cron.job, the others unchanged');
SELECT cron.schedule('balatrix-old-job', '0 0 * * *', 'SELECT 1') AS old_job \gset
SELECT is((SELECT count(*) FROM balatrix.schedule_jobs()), 7::bigint, 'rescheduling with a stray balatrix- job present');
SELECT is((SELECT count(*) FROM bx_jobs), 7::bigint, '... removes the stray job: 7 again');
SELECT throws_ok($$SELECT * FROM balatrix.schedule_jobs('{"health-check": "* * * * *", "billing": "0 0 * * *"}')$$,
                 '22023', 'unknown job in schedules: billing', 'an unknown job name is 22023');
SELECT throws_ok($$SELECT * FROM balatrix.schedule_jobs('{"renewals": 5}')$$, '22023', NULL, 'a non-string schedule is 22023');
SELECT throws_ok($$SELECT * FROM balatrix.schedule_jobs('["* * * * *"]')$$, '22023', NULL, 'a non-object is 22023');
SELECT throws_ok($$SELECT * FROM balatrix.schedule_jobs('{"health-check": "5 seconds"}')$$, '22023', NULL,
                 'a schedule pg_cron 1.4 cannot parse (seconds) is 22023');
SELECT is(balatrix.unschedule_jobs(), 7, 'unschedule_jobs removes the 7 jobs');
SELECT is_empty($$SELECT * FROM bx_jobs$$, '... and cron.job holds no balatrix- job');
SELECT is(balatrix.unschedule_jobs(), 0, 'a second unschedule_jobs removes nothing');

-- Without pg_cron (hidden by renaming its schema for a moment, undone below).
CREATE FUNCTION pg_temp.schedule_error() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text;
    hint text;
BEGIN
    PERFORM balatrix.schedule_jobs();
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, hint = PG_EXCEPTION_HINT;
    RETURN state || ' / ' || hint;
END
$$;
ALTER SCHEMA cron RENAME TO cron_hidden_by_jobs_tap;
SELECT throws_ok($$SELECT * FROM balatrix.schedule_jobs()$$, '0A000', 'pg_cron is not available in database ' || current_database(),
                 'without pg_cron, schedule_jobs is 0A000');
SELECT is(pg_temp.schedule_error(), '0A000 / install pg_cron (shared_preload_libraries = ''pg_cron'', CREATE EXTENSION pg_cron in cron.database_name)',
          '... with the hint how to install it');
SELECT is(balatrix.unschedule_jobs(), 0, 'without pg_cron, unschedule_jobs removes nothing');
ALTER SCHEMA cron_hidden_by_jobs_tap RENAME TO cron;

SELECT * FROM finish();
ROLLBACK;

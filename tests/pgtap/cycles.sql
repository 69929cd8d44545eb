-- pgTAP: the contract of subscriptions and billing cycles (extension/sql/balatrix.sql, section
-- "Subscriptions and billing cycles"): functions and their privileges, the SQLSTATE of every illegal
-- transition and bad input (and that a refused call changes nothing), the cycle's idempotence and
-- batches, a failing subscription skipped, voids, discounts, quarterly and prepaid subscriptions,
-- add-ons, events and payments. The golden timeline is sql/cycles.sql; concurrency is
-- tests/e2e/billing_cycle_concurrency.sh (CALL run_billing_cycle_job cannot run inside this
-- transaction).
--
-- Every expected amount is worked out by hand in the comment above its test. GST: the customers are
-- in Karnataka, the supplier's State (balatrix.supplier_state_code 29): CGST 9 % + SGST 9 % per line,
-- each rounded half away from zero to paise. Starter: 349.00 a month, 100 included minutes, India at
-- 1.99 / min beyond them, the UK at 6.00 / min outside the allowance, all 60/60.
--
-- run_billing_cycle acts on every due subscription of the database, so each section ends by cancelling
-- its subscriptions (at once, nothing credited): a later section's cycle sees only its own.
BEGIN;
SELECT plan(169);

SET LOCAL timezone = 'Asia/Kolkata';
SET LOCAL datestyle = 'ISO, MDY';
SET LOCAL client_min_messages = error;
-- The defaults, so that another test's settings cannot leak in.
SET LOCAL balatrix.supplier_state_code = '29';
SET LOCAL balatrix.invoice_series = 'INV';
SET LOCAL balatrix.invoice_round_off = off;
SET LOCAL balatrix.invoice_due_days = 15;
SET LOCAL balatrix.downgrade_timing = 'period_end';
SET LOCAL balatrix.dunning_reminder_days = 3;
SET LOCAL balatrix.dunning_suspend_days = 15;
SET LOCAL balatrix.cdr_timezone = 'Asia/Kolkata';

-- ---------------------------------------------------------------------------------------------
-- 1. The functions: signatures, no EXECUTE for PUBLIC, pinned search_path, comments.
-- ---------------------------------------------------------------------------------------------
SELECT has_table('balatrix', 'job_runs', 'job_runs exists');
SELECT ok((SELECT c.relowner = 'balatrix_owner'::regrole AND c.oid = ANY (e.extconfig)
             FROM pg_catalog.pg_class c, pg_catalog.pg_extension e
            WHERE c.oid = 'balatrix.job_runs'::regclass AND e.extname = 'balatrix'),
          'job_runs is owned by balatrix_owner and dumped (pg_extension_config_dump)');
SELECT has_function('balatrix', 'post_ledger_entry', ARRAY['uuid', 'text', 'numeric', 'text', 'text', 'text', 'jsonb', 'bigint'],
                    'post_ledger_entry(uuid, text, numeric, text, text, text, jsonb, bigint) exists');
SELECT has_function('balatrix', 'emit_event', ARRAY['text', 'uuid', 'text', 'text', 'jsonb', 'text'],
                    'emit_event(text, uuid, text, text, jsonb, text) exists');
SELECT has_function('balatrix', 'bill_subscription',
                    ARRAY['uuid', 'timestamp with time zone', 'timestamp with time zone', 'boolean', 'timestamp with time zone',
                          'timestamp with time zone', 'timestamp with time zone', 'text', 'date'],
                    'bill_subscription(uuid, timestamptz, timestamptz, boolean, timestamptz, timestamptz, timestamptz, text, date) exists');
SELECT has_function('balatrix', 'lock_subscription', ARRAY['uuid'], 'lock_subscription(uuid) exists');
SELECT has_function('balatrix', 'create_subscription', ARRAY['uuid', 'text', 'text', 'date', 'boolean', 'jsonb'],
                    'create_subscription(uuid, text, text, date, boolean, jsonb) exists');
SELECT has_function('balatrix', 'start_paid_period', ARRAY['uuid', 'date', 'text'], 'start_paid_period(uuid, date, text) exists');
SELECT has_function('balatrix', 'activate_subscription', ARRAY['uuid', 'date'], 'activate_subscription(uuid, date) exists');
SELECT has_function('balatrix', 'renew_due_subscription', ARRAY['uuid', 'date'], 'renew_due_subscription(uuid, date) exists');
SELECT has_function('balatrix', 'renew_subscription', ARRAY['uuid', 'date'], 'renew_subscription(uuid, date) exists');
SELECT has_function('balatrix', 'change_subscription_plan', ARRAY['uuid', 'text', 'date', 'text'],
                    'change_subscription_plan(uuid, text, date, text) exists');
SELECT has_function('balatrix', 'cancel_subscription', ARRAY['uuid', 'boolean', 'text', 'date', 'boolean'],
                    'cancel_subscription(uuid, boolean, text, date, boolean) exists');
SELECT has_function('balatrix', 'suspend_subscription', ARRAY['uuid', 'text', 'date'], 'suspend_subscription(uuid, text, date) exists');
SELECT has_function('balatrix', 'resume_subscription', ARRAY['uuid', 'date'], 'resume_subscription(uuid, date) exists');
SELECT has_function('balatrix', 'record_payment', ARRAY['uuid', 'numeric', 'text', 'text', 'date', 'text'],
                    'record_payment(uuid, numeric, text, text, date, text) exists');
SELECT has_function('balatrix', 'run_dunning', ARRAY['date'], 'run_dunning(date) exists');
SELECT has_function('balatrix', 'run_billing_cycle', ARRAY['date', 'integer', 'uuid'], 'run_billing_cycle(date, integer, uuid) exists');
SELECT is_procedure('balatrix', 'run_billing_cycle_job', ARRAY['date', 'integer'], 'run_billing_cycle_job(date, integer) is a procedure');
SELECT is((SELECT pg_catalog.pg_get_function_result('balatrix.run_billing_cycle(date, integer, uuid)'::regprocedure)),
          'record', 'run_billing_cycle returns a record of OUT parameters');
SELECT is((SELECT array_agg(n ORDER BY o)
             FROM pg_catalog.pg_proc p, unnest(p.proargnames, p.proargmodes::text[]) WITH ORDINALITY AS a (n, m, o)
            WHERE p.oid = 'balatrix.run_billing_cycle(date, integer, uuid)'::regprocedure AND m = 'o'),
          ARRAY['job_run_id', 'due', 'processed', 'trials_converted', 'renewed', 'cancelled', 'expired', 'invoices', 'failed',
                'last_subscription', 'remaining'],
          'run_billing_cycle returns job_run_id, the counts, last_subscription and remaining');
SELECT is((SELECT pg_catalog.pg_get_function_arguments('balatrix.run_billing_cycle_job(date, integer)'::regprocedure)),
          'IN as_of date DEFAULT NULL::date, IN batch_size integer DEFAULT 200', 'run_billing_cycle_job(as_of DEFAULT NULL, batch_size DEFAULT 200)');

-- The 16 functions and the procedure of the section.
CREATE TEMP TABLE section_routines (sig regprocedure);
INSERT INTO section_routines VALUES
    ('balatrix.post_ledger_entry(uuid, text, numeric, text, text, text, jsonb, bigint)'),
    ('balatrix.emit_event(text, uuid, text, text, jsonb, text)'),
    ('balatrix.bill_subscription(uuid, timestamptz, timestamptz, boolean, timestamptz, timestamptz, timestamptz, text, date)'),
    ('balatrix.lock_subscription(uuid)'),
    ('balatrix.create_subscription(uuid, text, text, date, boolean, jsonb)'),
    ('balatrix.start_paid_period(uuid, date, text)'),
    ('balatrix.activate_subscription(uuid, date)'),
    ('balatrix.renew_due_subscription(uuid, date)'),
    ('balatrix.renew_subscription(uuid, date)'),
    ('balatrix.change_subscription_plan(uuid, text, date, text)'),
    ('balatrix.cancel_subscription(uuid, boolean, text, date, boolean)'),
    ('balatrix.suspend_subscription(uuid, text, date)'),
    ('balatrix.resume_subscription(uuid, date)'),
    ('balatrix.record_payment(uuid, numeric, text, text, date, text)'),
    ('balatrix.run_dunning(date)'),
    ('balatrix.run_billing_cycle(date, integer, uuid)'),
    ('balatrix.run_billing_cycle_job(date, integer)');
SELECT is_empty($$SELECT sig::text FROM section_routines WHERE pg_catalog.has_function_privilege('public', sig, 'EXECUTE')$$,
                'no function of the section, nor the procedure, is executable by PUBLIC');
SELECT ok(NOT pg_catalog.has_function_privilege('public', 'balatrix.run_billing_cycle_job(date, integer)', 'EXECUTE'),
          'PUBLIC cannot CALL run_billing_cycle_job');
SELECT is_empty($$SELECT r.sig::text FROM section_routines r JOIN pg_catalog.pg_proc p ON p.oid = r.sig
                   WHERE p.prosecdef OR pg_catalog.obj_description(p.oid, 'pg_proc') IS NULL
                      OR (p.prokind = 'f' AND p.proconfig IS DISTINCT FROM ARRAY['search_path=pg_catalog, pg_temp'])$$,
                'each has a COMMENT, none is SECURITY DEFINER, every function pins search_path');

-- ---------------------------------------------------------------------------------------------
-- Fixture: the default catalogue, CDR partitions for 2026, and customers TAP01.. in Karnataka, each
-- with a postpaid account TAPCY01.. (credit limit 100000). A retired plan for the refusals.
-- ---------------------------------------------------------------------------------------------
SELECT balatrix.install_default_catalogue() AS catalogue \gset
SELECT count(*) AS partitions FROM balatrix.create_cdr_partitions(18, '2026-01-01') \gset
INSERT INTO balatrix.rate_plans (code, name, monthly_price, quarterly_price, annual_price, overage_rate, is_active)
VALUES ('TAP_RETIRED', 'Retired', 10.00, 30.00, 96.00, 1.00, false);
INSERT INTO balatrix.customers (id, name, billing_state_code)
SELECT ('00000000-0000-4000-8000-0000000cc0' || lpad(g::text, 2, '0'))::uuid, 'TAP' || lpad(g::text, 2, '0'), '29'
  FROM generate_series(1, 30) g;
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type, credit_limit, status)
SELECT ('00000000-0000-4000-8000-0000000aa0' || lpad(g::text, 2, '0'))::uuid,
       ('00000000-0000-4000-8000-0000000cc0' || lpad(g::text, 2, '0'))::uuid,
       'TAPCY' || lpad(g::text, 2, '0'),
       CASE WHEN g = 19 THEN 'prepaid' ELSE 'postpaid' END,
       CASE WHEN g = 19 THEN 0 ELSE 100000 END,
       CASE WHEN g = 2 THEN 'suspended' ELSE 'active' END
  FROM generate_series(1, 30) g;

-- Helpers: a CDR as FreeSWITCH sends it (stamps in IST), and the lines of a document.
CREATE FUNCTION pg_temp.call(account text, destination text, starts timestamp, seconds integer, id text) RETURNS void
    LANGUAGE sql AS $$
    INSERT INTO balatrix.cdr (accountcode, destination_number, start_stamp, answer_stamp, end_stamp, billsec, uuid)
    VALUES (account, destination, starts::text, starts::text, (starts + seconds * interval '1 second')::text, seconds::text, id)
$$;
CREATE FUNCTION pg_temp.period_invoice(sub uuid, starts date) RETURNS uuid
    LANGUAGE sql AS $$
    SELECT i.id FROM balatrix.invoices i
     WHERE i.subscription_id = sub AND i.billing_reason = 'period' AND i.status <> 'void'
       AND i.period_start = starts::timestamp AT TIME ZONE 'Asia/Kolkata'
$$;
-- Ends a section: its live subscriptions cancelled at once on their period start, nothing credited.
CREATE FUNCTION pg_temp.end_section(first integer, last integer) RETURNS bigint
    LANGUAGE sql AS $$
    SELECT count(balatrix.cancel_subscription(s.id, false, 'tap: end of section',
                                              (s.current_period_start AT TIME ZONE 'Asia/Kolkata')::date, false) IS NULL)
      FROM balatrix.subscriptions s JOIN balatrix.accounts a ON a.id = s.account_id
     WHERE a.account_number BETWEEN 'TAPCY' || lpad(first::text, 2, '0') AND 'TAPCY' || lpad(last::text, 2, '0')
       AND s.status IN ('trial', 'active', 'suspended')
$$;

-- ---------------------------------------------------------------------------------------------
-- 2. Illegal transitions and bad input (January 2026). Each refusal is checked with its SQLSTATE, and
--    together they change nothing.
-- ---------------------------------------------------------------------------------------------
-- A1 (TAPCY01): active [1 Jan, 1 Feb), invoice 349.00 + 31.41 + 31.41 = 411.82.
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa001', 'STARTER', 'monthly', '2026-01-01', false) AS a1 \gset
SELECT balatrix.activate_subscription(:'a1', '2026-01-01') AS i_a1 \gset
-- A2 (TAPCY03): activated and cancelled at once on its first day: the credit note for 31 of 31 unused
-- days is the whole 349.00 (+ 62.82 GST = 411.82), which settles the invoice (status paid).
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa003', 'STARTER', 'monthly', '2026-01-01', false) AS a2 \gset
SELECT balatrix.activate_subscription(:'a2', '2026-01-01') AS i_a2 \gset
SELECT balatrix.cancel_subscription(:'a2', false, 'tap', '2026-01-01') AS cn_a2 \gset
-- A3 (TAPCY04): activated, then suspended; its invoice is voided.
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa004', 'STARTER', 'monthly', '2026-01-01', false) AS a3 \gset
SELECT balatrix.activate_subscription(:'a3', '2026-01-01') AS i_a3 \gset
SELECT balatrix.suspend_subscription(:'a3', 'tap', '2026-01-05') AS x \gset
SELECT balatrix.void_invoice(:'i_a3', 'tap: void') AS x \gset
-- A draft, and a payment of A1's invoice with an idempotency key.
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000aa001') AS draft \gset
SELECT balatrix.record_payment(:'i_a1', 100.00, 'manual', NULL, '2026-01-05', 'tap-key-1') AS pay1 \gset

SELECT is((SELECT array_agg(i.status || '/' || i.total::text || '/' || i.amount_paid::text || '/' || i.amount_credited::text
                             ORDER BY x.o)
             FROM unnest(ARRAY[:'i_a1', :'i_a2', :'cn_a2', :'i_a3']::uuid[]) WITH ORDINALITY AS x (id, o)
             JOIN balatrix.invoices i ON i.id = x.id),
          ARRAY['partially_paid/411.82/100.00/0.00', 'paid/411.82/0.00/411.82', 'issued/411.82/0.00/0.00', 'void/411.82/0.00/0.00'],
          'fixture: A1 partly paid (100.00 of 411.82), A2 settled by its credit note, A3 void');

CREATE TEMP TABLE snapshot AS
SELECT (SELECT count(*) FROM balatrix.invoices) AS invoices, (SELECT count(*) FROM balatrix.ledger) AS ledger,
       (SELECT count(*) FROM balatrix.event_outbox) AS events, (SELECT count(*) FROM balatrix.payments) AS payments,
       (SELECT string_agg(s.id || s.status || s.rate_plan_id || coalesce(s.current_period_end::text, '') || s.cancel_at_period_end,
                          ',' ORDER BY s.id) FROM balatrix.subscriptions s) AS subscriptions;

SELECT throws_ok(format('SELECT balatrix.activate_subscription(%L, %L)', :'a1', '2026-01-02'), '55000', NULL,
                 'activate an active subscription: 55000');
SELECT throws_ok(format('SELECT balatrix.activate_subscription(%L, %L)', :'a2', '2026-01-02'), '55000', NULL,
                 'activate a cancelled subscription: 55000');
SELECT throws_ok(format('SELECT balatrix.activate_subscription(%L, %L)', :'a3', '2026-01-06'), '55000', NULL,
                 'activate a suspended subscription: 55000');
SELECT throws_ok(format('SELECT balatrix.renew_subscription(%L, %L)', :'a1', '2026-01-15'), '55000', NULL,
                 'renew a subscription that is not due (period ends 1 Feb): 55000');
SELECT throws_ok(format('SELECT balatrix.suspend_subscription(%L, %L, %L)', :'a2', 'tap', '2026-01-02'), '55000', NULL,
                 'suspend a cancelled subscription: 55000');
SELECT throws_ok(format('SELECT balatrix.resume_subscription(%L, %L)', :'a1', '2026-01-02'), '55000', NULL,
                 'resume an active subscription: 55000');
SELECT throws_ok(format('SELECT balatrix.change_subscription_plan(%L, %L, %L)', :'a1', 'STARTER', '2026-01-10'), '22023', NULL,
                 'change to the plan it is on: 22023');
SELECT throws_ok(format('SELECT balatrix.change_subscription_plan(%L, %L, %L)', :'a1', 'TAP_RETIRED', '2026-01-10'), '22023', NULL,
                 'change to an inactive plan: 22023');
SELECT throws_ok(format('SELECT balatrix.change_subscription_plan(%L, %L, %L)', :'a1', 'PROFESSIONAL', '2026-02-05'), '22023', NULL,
                 'change on a date outside the period [1 Jan, 1 Feb): 22023');
SELECT throws_ok(format('SELECT balatrix.change_subscription_plan(%L, %L, %L)', :'a1', 'PROFESSIONAL', '2025-12-31'), '22023', NULL,
                 'change on a date before the period: 22023');
SELECT throws_ok(format('SELECT balatrix.change_subscription_plan(%L, %L, %L, %L)', :'a1', 'PROFESSIONAL', '2026-01-10', 'someday'),
                 '22023', NULL, 'change with a timing other than period_end / immediate: 22023');
SELECT throws_ok(format('SELECT balatrix.change_subscription_plan(%L, %L, %L)', :'a1', 'NO_SUCH_PLAN', '2026-01-10'), 'P0002', NULL,
                 'change to an unknown plan: P0002');
SELECT throws_ok($$SELECT balatrix.activate_subscription('00000000-0000-4000-8000-00000000dead', '2026-01-10')$$, 'P0002', NULL,
                 'activate an unknown subscription: P0002');
SELECT throws_ok($$SELECT balatrix.renew_subscription('00000000-0000-4000-8000-00000000dead', '2026-01-10')$$, 'P0002', NULL,
                 'renew an unknown subscription: P0002');
SELECT throws_ok($$SELECT balatrix.change_subscription_plan('00000000-0000-4000-8000-00000000dead', 'PROFESSIONAL', '2026-01-10')$$,
                 'P0002', NULL, 'change the plan of an unknown subscription: P0002');
SELECT throws_ok($$SELECT balatrix.cancel_subscription('00000000-0000-4000-8000-00000000dead')$$, 'P0002', NULL,
                 'cancel an unknown subscription: P0002');
SELECT throws_ok($$SELECT balatrix.suspend_subscription('00000000-0000-4000-8000-00000000dead')$$, 'P0002', NULL,
                 'suspend an unknown subscription: P0002');
SELECT throws_ok($$SELECT balatrix.resume_subscription('00000000-0000-4000-8000-00000000dead')$$, 'P0002', NULL,
                 'resume an unknown subscription: P0002');
SELECT throws_ok($$SELECT balatrix.activate_subscription(NULL, '2026-01-10')$$, '22023', NULL, 'activate NULL: 22023');
SELECT throws_ok($$SELECT balatrix.renew_subscription(NULL, '2026-01-10')$$, '22023', NULL, 'renew NULL: 22023');
SELECT throws_ok($$SELECT balatrix.change_subscription_plan(NULL, 'PROFESSIONAL', '2026-01-10')$$, '22023', NULL,
                 'change the plan of NULL: 22023');
SELECT throws_ok($$SELECT balatrix.cancel_subscription(NULL)$$, '22023', NULL, 'cancel NULL: 22023');
SELECT throws_ok($$SELECT balatrix.suspend_subscription(NULL)$$, '22023', NULL, 'suspend NULL: 22023');
SELECT throws_ok($$SELECT balatrix.resume_subscription(NULL)$$, '22023', NULL, 'resume NULL: 22023');
SELECT throws_ok($$SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa001', 'PROFESSIONAL', 'monthly', '2026-01-10', false)$$,
                 '55000', NULL, 'a second live subscription on an account: 55000');
SELECT throws_ok($$SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa002', 'STARTER', 'monthly', '2026-01-10', false)$$,
                 '55000', NULL, 'a subscription on a suspended account: 55000');
SELECT throws_ok($$SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa0dd', 'STARTER')$$, 'P0002', NULL,
                 'a subscription on an unknown account: P0002');
SELECT throws_ok(format('SELECT balatrix.record_payment(%L, 0)', :'i_a1'), '22023', NULL, 'a payment of 0: 22023');
SELECT throws_ok(format('SELECT balatrix.record_payment(%L, -5.00)', :'i_a1'), '22023', NULL, 'a negative payment: 22023');
SELECT throws_ok(format('SELECT balatrix.record_payment(%L, 10.005)', :'i_a1'), '22023', NULL, 'a payment with 3 decimals: 22023');
SELECT throws_ok(format('SELECT balatrix.record_payment(%L, NULL)', :'i_a1'), '22023', NULL, 'a payment of NULL: 22023');
SELECT throws_ok(format('SELECT balatrix.record_payment(%L, 10.00)', :'draft'), '55000', NULL, 'a payment of a draft: 55000');
SELECT throws_ok(format('SELECT balatrix.record_payment(%L, 10.00)', :'i_a3'), '55000', NULL, 'a payment of a void invoice: 55000');
SELECT throws_ok(format('SELECT balatrix.record_payment(%L, 10.00)', :'i_a2'), '55000', NULL, 'a payment of a paid invoice: 55000');
SELECT throws_ok(format('SELECT balatrix.record_payment(%L, 10.00)', :'cn_a2'), '55000', NULL, 'a payment of a credit note: 55000');
SELECT throws_ok($$SELECT balatrix.record_payment('00000000-0000-4000-8000-00000000dead', 10.00)$$, 'P0002', NULL,
                 'a payment of an unknown invoice: P0002');
SELECT throws_ok(format('SELECT balatrix.record_payment(%L, 150.00, %L, NULL, %L, %L)', :'i_a1', 'manual', '2026-01-06', 'tap-key-1'),
                 '22023', NULL, 'an idempotency key reused with another amount: 22023');
SELECT throws_ok(format('SELECT balatrix.record_payment(%L, 100.00, %L, NULL, %L, %L)', :'i_a2', 'manual', '2026-01-06', 'tap-key-1'),
                 '22023', NULL, 'an idempotency key reused for another invoice: 22023');
SELECT is(balatrix.record_payment(:'i_a1', 100.00, 'manual', NULL, '2026-01-06', 'tap-key-1'), :'pay1'::uuid,
          'the same key with the same amount returns the first payment');
SELECT throws_ok($$SELECT balatrix.run_billing_cycle('2026-01-15', 0)$$, '22023', NULL, 'run_billing_cycle with batch_limit 0: 22023');
SELECT throws_ok($$SELECT balatrix.run_billing_cycle('2026-01-15', -1)$$, '22023', NULL, 'run_billing_cycle with batch_limit -1: 22023');
SELECT throws_ok($$CALL balatrix.run_billing_cycle_job('2026-01-15', 0)$$, '22023', NULL, 'run_billing_cycle_job with batch_size 0: 22023');

SELECT is((SELECT row((SELECT count(*) FROM balatrix.invoices), (SELECT count(*) FROM balatrix.ledger),
                      (SELECT count(*) FROM balatrix.event_outbox), (SELECT count(*) FROM balatrix.payments),
                      (SELECT string_agg(s.id || s.status || s.rate_plan_id || coalesce(s.current_period_end::text, '')
                                         || s.cancel_at_period_end, ',' ORDER BY s.id) FROM balatrix.subscriptions s))::text),
          (SELECT row(invoices, ledger, events, payments, subscriptions)::text FROM snapshot),
          'the refused calls and the repeated payment changed nothing: invoices, ledger, events, payments, subscriptions');
SELECT is((SELECT count(*) || '/' || (SELECT count(*) FROM balatrix.ledger l WHERE l.reference_type = 'payment'
                                                                             AND l.reference_id = :'pay1')
             FROM balatrix.payments p WHERE p.idempotency_key = 'tap-key-1'),
          '1/1', 'the idempotency key holds one payment with one ledger entry');
SELECT is(pg_temp.end_section(1, 4), 2::bigint, 'end of section: A1 and A3 cancelled');

-- ---------------------------------------------------------------------------------------------
-- 3. Idempotence, catching up several periods, and the events of each step (February - May 2026).
-- ---------------------------------------------------------------------------------------------
-- C1 (TAPCY05) and C2 (TAPCY06): Starter from 1 Feb, activated at once: [1 Feb, 1 Mar).
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa005', 'STARTER', 'monthly', '2026-02-01', false) AS c1 \gset
SELECT balatrix.activate_subscription(:'c1', '2026-02-01') AS x \gset
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa006', 'STARTER', 'monthly', '2026-02-01', false) AS c2 \gset
SELECT balatrix.activate_subscription(:'c2', '2026-02-01') AS x \gset

-- C2 is renewed as of 1 May, three periods late: 1 Mar, 1 Apr and 1 May, one invoice each (411.82),
-- dated its period start, each period starting where the one before ended.
SELECT is(balatrix.renew_subscription(:'c2', '2026-05-01'), 3, 'renew_subscription three periods behind takes 3 steps');
SELECT results_eq(
    format($$SELECT (i.period_start AT TIME ZONE 'Asia/Kolkata')::date, (i.period_end AT TIME ZONE 'Asia/Kolkata')::date,
                    i.issue_date, i.total
               FROM balatrix.invoices i WHERE i.subscription_id = %L AND i.billing_reason = 'period' ORDER BY i.period_start$$, :'c2'),
    $$VALUES ('2026-02-01'::date, '2026-03-01'::date, '2026-02-01'::date, 411.82::numeric(14,2)),
             ('2026-03-01', '2026-04-01', '2026-03-01', 411.82), ('2026-04-01', '2026-05-01', '2026-04-01', 411.82),
             ('2026-05-01', '2026-06-01', '2026-05-01', 411.82)$$,
    'one invoice per period, consecutive: [1 Feb, 1 Mar), [1 Mar, 1 Apr), [1 Apr, 1 May), [1 May, 1 Jun)');
SELECT is((SELECT (current_period_start AT TIME ZONE 'Asia/Kolkata')::date || ' ' || (current_period_end AT TIME ZONE 'Asia/Kolkata')::date
             FROM balatrix.subscriptions WHERE id = :'c2'),
          '2026-05-01 2026-06-01', 'C2 is current: [1 May, 1 Jun)');

-- The cycle of 1 Mar: only C1 is due (C2 is paid up to 1 Jun). A second run for the same date finds
-- nothing and writes no invoice, ledger row or event (only its job_runs row).
SELECT results_eq($$SELECT due, processed, trials_converted, renewed, cancelled, expired, invoices, failed, remaining
                      FROM balatrix.run_billing_cycle('2026-03-01')$$,
                  $$VALUES (1::bigint, 1::bigint, 0::bigint, 1::bigint, 0::bigint, 0::bigint, 1::bigint, 0::bigint, 0::bigint)$$,
                  'cycle of 1 Mar: 1 due, renewed with 1 invoice');
CREATE TEMP TABLE before_rerun AS
SELECT (SELECT count(*) FROM balatrix.invoices) AS invoices, (SELECT count(*) FROM balatrix.ledger) AS ledger,
       (SELECT count(*) FROM balatrix.event_outbox) AS events, (SELECT count(*) FROM balatrix.job_runs) AS runs;
SELECT results_eq($$SELECT due, processed, renewed, invoices, failed, remaining, last_subscription
                      FROM balatrix.run_billing_cycle('2026-03-01')$$,
                  $$VALUES (0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, NULL::uuid)$$,
                  'the same cycle again: nothing due');
SELECT is((SELECT row((SELECT count(*) FROM balatrix.invoices) - invoices, (SELECT count(*) FROM balatrix.ledger) - ledger,
                      (SELECT count(*) FROM balatrix.event_outbox) - events, (SELECT count(*) FROM balatrix.job_runs) - runs)::text
             FROM before_rerun),
          '(0,0,0,1)', 'the second run wrote no invoice, no ledger row, no event; one job_runs row');
SELECT is((SELECT (counts->>'due') || '/' || (counts->>'processed') || '/' || status FROM balatrix.job_runs
            WHERE job = 'billing_cycle' ORDER BY id DESC LIMIT 1),
          '0/0/succeeded', 'its job_runs row: due 0, processed 0, succeeded');
-- The events of C1: creation, activation (invoice first), renewal (invoice first), each with a dedupe key.
-- C2 has created, invoice.issued, activated and 3 x (invoice.issued, renewed): 9.
SELECT is((SELECT array_agg(e.event_type ORDER BY e.id) FROM balatrix.event_outbox e
            WHERE e.customer_id = '00000000-0000-4000-8000-0000000cc005'),
          ARRAY['subscription.created', 'invoice.issued', 'subscription.activated', 'invoice.issued', 'subscription.renewed'],
          'C1 events: subscription.created, invoice.issued, subscription.activated, invoice.issued, subscription.renewed');
SELECT is((SELECT count(*) || '/' || count(e.dedupe_key) || '/' || count(DISTINCT e.dedupe_key) FROM balatrix.event_outbox e
            WHERE e.customer_id IN ('00000000-0000-4000-8000-0000000cc005', '00000000-0000-4000-8000-0000000cc006')),
          '14/14/14', 'C1 and C2: 5 + 9 events, each with its own dedupe key');
SELECT is(pg_temp.end_section(5, 6), 2::bigint, 'end of section: C1 and C2 cancelled');

-- ---------------------------------------------------------------------------------------------
-- 4. Batches (March - April 2026): five subscriptions activated on 1 Mar, all due on 1 Apr.
-- ---------------------------------------------------------------------------------------------
CREATE TEMP TABLE batch AS
SELECT row_number() OVER (ORDER BY s.id) AS k, s.id
  FROM (SELECT balatrix.create_subscription(a.id, 'STARTER', 'monthly', '2026-03-01', false) AS id
          FROM balatrix.accounts a WHERE a.account_number BETWEEN 'TAPCY07' AND 'TAPCY11' ORDER BY a.account_number) s;
SELECT count(balatrix.activate_subscription(id, '2026-03-01')) AS x FROM batch \gset
SELECT results_eq($$SELECT due, processed, renewed, invoices, remaining, last_subscription FROM balatrix.run_billing_cycle('2026-04-01', 2)$$,
                  $$SELECT 5::bigint, 2::bigint, 2::bigint, 2::bigint, 3::bigint, id FROM batch WHERE k = 2$$,
                  'batch 1 of 2: 5 due, the first 2 in id order processed, 3 remaining, last = the 2nd id');
SELECT results_eq($$SELECT due, processed, renewed, invoices, remaining, last_subscription
                      FROM balatrix.run_billing_cycle('2026-04-01', 2, (SELECT id FROM batch WHERE k = 2))$$,
                  $$SELECT 3::bigint, 2::bigint, 2::bigint, 2::bigint, 1::bigint, id FROM batch WHERE k = 4$$,
                  'batch 2 after the 2nd: 3 due, 2 processed, 1 remaining, last = the 4th id');
SELECT results_eq($$SELECT due, processed, renewed, invoices, remaining, last_subscription
                      FROM balatrix.run_billing_cycle('2026-04-01', 2, (SELECT id FROM batch WHERE k = 4))$$,
                  $$SELECT 1::bigint, 1::bigint, 1::bigint, 1::bigint, 0::bigint, id FROM batch WHERE k = 5$$,
                  'batch 3 after the 4th: the last one, 0 remaining');
SELECT results_eq($$SELECT due, processed, remaining, last_subscription
                      FROM balatrix.run_billing_cycle('2026-04-01', 2, (SELECT id FROM batch WHERE k = 5))$$,
                  $$VALUES (0::bigint, 0::bigint, 0::bigint, NULL::uuid)$$,
                  'after the 5th: nothing due, last_subscription NULL');
SELECT is((SELECT count(*) FROM batch b WHERE pg_temp.period_invoice(b.id, '2026-04-01') IS NOT NULL), 5::bigint,
          'each of the 5 has its invoice for the period from 1 Apr');
SELECT is((SELECT array_agg((j.counts->>'processed')::int ORDER BY j.id) FROM balatrix.job_runs j
            WHERE j.job = 'billing_cycle' AND j.as_of = '2026-04-01'),
          ARRAY[2, 2, 1, 0], 'one job_runs row per batch: 2, 2, 1, 0 processed');
SELECT is(pg_temp.end_section(7, 11), 5::bigint, 'end of section: the 5 cancelled');

-- ---------------------------------------------------------------------------------------------
-- 5. A subscription that fails is skipped (April - May 2026). E1..E3 (TAPCY12..14) activated on 5 Apr,
--    due on 5 May. E2's price is set to 999,999,999,999.99: its invoice total, 999,999,999,999.99 + 18 %
--    GST, does not fit numeric(14,2) (22003).
-- ---------------------------------------------------------------------------------------------
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa012', 'STARTER', 'monthly', '2026-04-05', false) AS e1 \gset
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa013', 'STARTER', 'monthly', '2026-04-05', false) AS e2 \gset
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa014', 'STARTER', 'monthly', '2026-04-05', false) AS e3 \gset
SELECT count(balatrix.activate_subscription(x, '2026-04-05')) AS x FROM unnest(ARRAY[:'e1', :'e2', :'e3']::uuid[]) x \gset
UPDATE balatrix.subscriptions SET recurring_price = 999999999999.99 WHERE id = :'e2';
SELECT results_eq($$SELECT due, processed, renewed, invoices, failed, remaining FROM balatrix.run_billing_cycle('2026-05-05')$$,
                  $$VALUES (3::bigint, 3::bigint, 2::bigint, 2::bigint, 1::bigint, 0::bigint)$$,
                  'cycle of 5 May: 3 due and processed, 2 renewed with 2 invoices, 1 failed');
SELECT is((SELECT s.status || ' ' || (s.current_period_start AT TIME ZONE 'Asia/Kolkata')::date || ' '
                  || (s.current_period_end AT TIME ZONE 'Asia/Kolkata')::date
                  || ' ' || (SELECT count(*) FROM balatrix.invoices i WHERE i.subscription_id = s.id)
             FROM balatrix.subscriptions s WHERE s.id = :'e2'),
          'active 2026-04-05 2026-05-05 1', 'the failing subscription is unchanged: active, [5 Apr, 5 May), one invoice');
SELECT is((SELECT count(*) FROM unnest(ARRAY[:'e1', :'e3']::uuid[]) x WHERE pg_temp.period_invoice(x, '2026-05-05') IS NOT NULL),
          2::bigint, 'the other two are renewed with their invoices');
SELECT is((SELECT count(*) || ' ' || min(e.payload->>'sqlstate') || ' ' || min(e.payload->>'as_of') FROM balatrix.event_outbox e
            WHERE e.event_type = 'billing.subscription_failed' AND e.aggregate_id = :'e2'),
          '1 22003 2026-05-05', 'one billing.subscription_failed event for it: sqlstate 22003, as_of 2026-05-05');
SELECT is((SELECT status || ' ' || (counts->>'failed') || ' ' || error FROM balatrix.job_runs WHERE job = 'billing_cycle'
            ORDER BY id DESC LIMIT 1),
          'succeeded 1 1 subscriptions failed (billing.subscription_failed events)', 'its job_runs row records the failure');
SELECT results_eq($$SELECT due, processed, renewed, failed FROM balatrix.run_billing_cycle('2026-05-05')$$,
                  $$VALUES (1::bigint, 1::bigint, 0::bigint, 1::bigint)$$, 'run again: it is still due and fails again');
SELECT is((SELECT count(*) FROM balatrix.event_outbox e WHERE e.event_type = 'billing.subscription_failed'), 1::bigint,
          'but no second billing.subscription_failed event for the same day');
-- The same day run from a session with another DateStyle (a psql of an operator, pg_cron's ISO) is
-- still the same day.
-- Regression: dedupe keys once embedded date::text, which follows DateStyle ('01/04/2026' vs
-- '2026-04-01'), so the event was written twice; they are now built with to_char(.., 'YYYY-MM-DD').
SET LOCAL datestyle = 'SQL, DMY';
SELECT failed AS x FROM balatrix.run_billing_cycle('2026-05-05') \gset
SET LOCAL datestyle = 'ISO, MDY';
SELECT is((SELECT count(*) FROM balatrix.event_outbox e WHERE e.event_type = 'billing.subscription_failed'), 1::bigint,
          'nor from a session with DateStyle SQL, DMY (dedupe keys do not depend on DateStyle)');
SELECT is(pg_temp.end_section(12, 14), 3::bigint, 'end of section: E1..E3 cancelled');

-- ---------------------------------------------------------------------------------------------
-- 6. void_invoice of a period invoice with usage (May - July 2026). F1 (TAPCY16) from 1 May.
-- ---------------------------------------------------------------------------------------------
-- 1 May: 411.82 (349.00 + 31.41 + 31.41). 10 May: three 50-min calls to India (9000 s, 6000 included,
-- 3000 s = 50 min beyond: 50 x 1.99 = 99.50) and 10 min to the UK (10 x 6.00 = 60.00).
-- 1 Jun: plan 349.00 (31.41), overage 99.50 (9 % = 8.955 -> 8.96), calls 60.00 (5.40): taxable 508.50,
-- CGST = SGST = 31.41 + 8.96 + 5.40 = 45.77, total 508.50 + 91.54 = 600.04.
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa016', 'STARTER', 'monthly', '2026-05-01', false) AS f1 \gset
SELECT balatrix.activate_subscription(:'f1', '2026-05-01') AS x \gset
SELECT count(pg_temp.call('TAPCY16', '9845012345', '2026-05-10 10:00'::timestamp + g * interval '1 hour', 3000, 'tap-f1-' || g)) AS x
  FROM generate_series(1, 3) g \gset
SELECT pg_temp.call('TAPCY16', '00442079460000', '2026-05-10 15:00', 600, 'tap-f1-uk') AS x \gset
SELECT is(balatrix.renew_subscription(:'f1', '2026-06-01'), 1, 'F1 renewed on 1 Jun');
SELECT pg_temp.period_invoice(:'f1', '2026-06-01') AS f1_jun \gset
SELECT results_eq(format($$SELECT l.kind, l.taxable_value, l.cgst, l.sgst FROM balatrix.invoice_lines l
                            WHERE l.invoice_id = %L ORDER BY l.line_no$$, :'f1_jun'),
                  $$VALUES ('plan'::text, 349.00::numeric(14,2), 31.41::numeric(14,2), 31.41::numeric(14,2)),
                           ('overage', 99.50, 8.96, 8.96), ('usage', 60.00, 5.40, 5.40)$$,
                  'the 1 Jun invoice: plan 349.00, overage 99.50, calls 60.00');
SELECT is((SELECT total FROM balatrix.invoices WHERE id = :'f1_jun'), 600.04::numeric(14,2), 'total 600.04');
-- Its entries: -600.04 (the invoice) and +159.50 (the calls' own debits, 99.50 + 60.00, given back).
SELECT is((SELECT array_agg(amount ORDER BY id) FROM balatrix.ledger WHERE reference_type = 'invoice' AND reference_id = :'f1_jun'),
          ARRAY[-600.04, 159.50]::numeric[], 'its ledger entries: -600.04 and +159.50');
SELECT lives_ok(format('SELECT balatrix.void_invoice(%L, %L)', :'f1_jun', 'tap: wrong usage'), 'the 1 Jun invoice is voided');
SELECT is((SELECT count(*) || ' ' || sum(amount) FROM balatrix.ledger WHERE reference_type = 'invoice' AND reference_id = :'f1_jun'),
          '4 0.0000', 'its entries are reversed: 4 entries summing to 0');
SELECT is((SELECT billed_overage_charge || ' ' || billed_other_charge FROM balatrix.subscription_usage
            WHERE subscription_id = :'f1' AND period_start = '2026-05-01 00:00+05:30'),
          '0.0000 0.0000', 'the May usage is unbilled again');
-- Balance: -411.82 (1 May) - 159.50 (calls) = -571.32; the void undid -600.04 + 159.50.
SELECT is((SELECT balance FROM balatrix.accounts WHERE account_number = 'TAPCY16'), -571.3200::numeric(20,4),
          'balance after the void: -411.82 - 159.50 = -571.32');
-- 1 Jul: plan 349.00 for [1 Jul, 1 Aug) and the May usage again: 600.04.
SELECT is(balatrix.renew_subscription(:'f1', '2026-07-01'), 1, 'F1 renewed on 1 Jul');
SELECT results_eq(format($$SELECT l.kind, (l.period_start AT TIME ZONE 'Asia/Kolkata')::date, l.taxable_value, l.cgst
                             FROM balatrix.invoice_lines l WHERE l.invoice_id = %L ORDER BY l.line_no$$,
                         pg_temp.period_invoice(:'f1', '2026-07-01')),
                  $$VALUES ('plan'::text, '2026-07-01'::date, 349.00::numeric(14,2), 31.41::numeric(14,2)),
                           ('overage', '2026-05-01', 99.50, 8.96), ('usage', '2026-05-01', 60.00, 5.40)$$,
                  'the 1 Jul invoice bills the May usage again: overage 99.50, calls 60.00');
-- -571.32 - 600.04 + 159.50 = -1011.86 = -(411.82 + 600.04), what the customer owes.
SELECT is((SELECT balance FROM balatrix.accounts WHERE account_number = 'TAPCY16'), -1011.8600::numeric(20,4),
          'balance -1011.86: minus the two invoices outstanding (411.82 + 600.04)');
SELECT is_empty($$SELECT * FROM balatrix.check_ledger()$$, 'check_ledger() is empty after the void and the re-billing');
SELECT is(pg_temp.end_section(16, 16), 1::bigint, 'end of section: F1 cancelled');

-- ---------------------------------------------------------------------------------------------
-- 7. A discount (June - July 2026). G1 (TAPCY17) from 1 Jun, 10 % off from its renewal on 1 Jul:
--    349.00 x 10 % = 34.90, a discount line of -34.90 with its own heads, 9 % of -34.90 = -3.141 -> -3.14.
--    Taxable 349.00 - 34.90 = 314.10; CGST = SGST = 31.41 - 3.14 = 28.27; total 314.10 + 56.54 = 370.64.
-- ---------------------------------------------------------------------------------------------
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa017', 'STARTER', 'monthly', '2026-06-01', false) AS g1 \gset
SELECT balatrix.activate_subscription(:'g1', '2026-06-01') AS x \gset
UPDATE balatrix.subscriptions SET discount_percent = 10 WHERE id = :'g1';
SELECT is(balatrix.renew_subscription(:'g1', '2026-07-01'), 1, 'G1 renewed on 1 Jul');
SELECT results_eq(format($$SELECT l.kind, l.quantity, l.unit_price, l.taxable_value, l.cgst, l.sgst, l.igst
                             FROM balatrix.invoice_lines l WHERE l.invoice_id = %L ORDER BY l.line_no$$,
                         pg_temp.period_invoice(:'g1', '2026-07-01')),
                  $$VALUES ('plan'::text, 1::numeric(14,4), 349.00::numeric(14,4), 349.00::numeric(14,2), 31.41::numeric(14,2),
                            31.41::numeric(14,2), 0.00::numeric(14,2)),
                           ('discount', 1, -34.90, -34.90, -3.14, -3.14, 0.00)$$,
                  'plan 349.00 and discount -34.90 with CGST / SGST -3.14 each');
SELECT is((SELECT taxable_total || ' ' || cgst_total || ' ' || sgst_total || ' ' || tax_total || ' ' || total
             FROM balatrix.invoices WHERE id = pg_temp.period_invoice(:'g1', '2026-07-01')),
          '314.10 28.27 28.27 56.54 370.64', 'totals: taxable 314.10, CGST 28.27, SGST 28.27, tax 56.54, total 370.64');
SELECT is(pg_temp.end_section(17, 17), 1::bigint, 'end of section: G1 cancelled');

-- ---------------------------------------------------------------------------------------------
-- 8. A quarterly cycle (June 2026). H1 (TAPCY18): Starter quarterly from 1 Jun: [1 Jun, 1 Sep), 3 x
--    349.00 = 1047.00, 9 % = 94.23 (exact), total 1047.00 + 188.46 = 1235.46; 3 x 100 min = 18000
--    included seconds, so a 10-min call to India costs nothing.
-- ---------------------------------------------------------------------------------------------
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa018', 'STARTER', 'quarterly', '2026-06-01', false) AS h1 \gset
SELECT balatrix.activate_subscription(:'h1', '2026-06-01') AS h1_inv \gset
SELECT is((SELECT (current_period_start AT TIME ZONE 'Asia/Kolkata')::date || ' ' || (current_period_end AT TIME ZONE 'Asia/Kolkata')::date
                  || ' ' || recurring_price FROM balatrix.subscriptions WHERE id = :'h1'),
          '2026-06-01 2026-09-01 1047.00', 'a quarter: [1 Jun, 1 Sep) at 1047.00');
SELECT results_eq(format($$SELECT l.kind, (l.period_start AT TIME ZONE 'Asia/Kolkata')::date, (l.period_end AT TIME ZONE 'Asia/Kolkata')::date,
                                  l.taxable_value, l.cgst, l.sgst FROM balatrix.invoice_lines l WHERE l.invoice_id = %L ORDER BY l.line_no$$,
                         :'h1_inv'),
                  $$VALUES ('plan'::text, '2026-06-01'::date, '2026-09-01'::date, 1047.00::numeric(14,2), 94.23::numeric(14,2),
                            94.23::numeric(14,2))$$,
                  'its invoice: plan 1047.00 for [1 Jun, 1 Sep), CGST 94.23 + SGST 94.23');
SELECT is((SELECT total FROM balatrix.invoices WHERE id = :'h1_inv'), 1235.46::numeric(14,2), 'total 1235.46');
SELECT pg_temp.call('TAPCY18', '9845012345', '2026-06-10 10:00', 600, 'tap-h1-1') AS x \gset
SELECT is((SELECT included_seconds || ' ' || included_used_seconds || ' ' || overage_charge FROM balatrix.subscription_usage
            WHERE subscription_id = :'h1'),
          '18000 600 0.0000', 'the quarter''s usage row includes 18000 s; the 600 s call used them, no overage');
SELECT is(pg_temp.end_section(18, 18), 1::bigint, 'end of section: H1 cancelled');

-- ---------------------------------------------------------------------------------------------
-- 9. A prepaid account (June - July 2026). TAPCY19 is topped up with 2000.00; I1 from 1 Jun:
--    2000.00 - 411.82 = 1588.18. Calls on 10 Jun as in section 6: 99.50 + 60.00 = 159.50, paid from the
--    balance: 1428.68. The 1 Jul invoice bills the plan only (411.82, no usage line, no adjustment):
--    1428.68 - 411.82 = 1016.86.
-- ---------------------------------------------------------------------------------------------
SELECT balatrix.post_ledger_entry('00000000-0000-4000-8000-0000000aa019', 'top_up', 2000.00, 'manual', 'tap-opening',
                                  'Opening top-up') AS x \gset
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa019', 'STARTER', 'monthly', '2026-06-01', false) AS i1 \gset
SELECT balatrix.activate_subscription(:'i1', '2026-06-01') AS x \gset
SELECT is((SELECT balance FROM balatrix.accounts WHERE account_number = 'TAPCY19'), 1588.1800::numeric(20,4),
          'prepaid: 2000.00 - 411.82 = 1588.18 after the first invoice');
SELECT count(pg_temp.call('TAPCY19', '9845012345', '2026-06-10 10:00'::timestamp + g * interval '1 hour', 3000, 'tap-i1-' || g)) AS x
  FROM generate_series(1, 3) g \gset
SELECT pg_temp.call('TAPCY19', '00442079460000', '2026-06-10 15:00', 600, 'tap-i1-uk') AS x \gset
SELECT is((SELECT balance FROM balatrix.accounts WHERE account_number = 'TAPCY19'), 1428.6800::numeric(20,4),
          'the calls are paid from the balance as they go: 1588.18 - 159.50 = 1428.68');
SELECT is(balatrix.renew_subscription(:'i1', '2026-07-01'), 1, 'I1 renewed on 1 Jul');
SELECT results_eq(format($$SELECT l.kind, l.taxable_value FROM balatrix.invoice_lines l WHERE l.invoice_id = %L ORDER BY l.line_no$$,
                         pg_temp.period_invoice(:'i1', '2026-07-01')),
                  $$VALUES ('plan'::text, 349.00::numeric(14,2))$$,
                  'the prepaid period invoice has the plan line only, no usage line despite 99.50 of overage');
SELECT is((SELECT array_agg(l.entry_type || ' ' || l.amount ORDER BY l.id) FROM balatrix.ledger l
            WHERE l.reference_type = 'invoice' AND l.reference_id = pg_temp.period_invoice(:'i1', '2026-07-01')::text),
          ARRAY['invoice -411.8200'], 'its only ledger entry is the invoice, -411.82 (nothing given back)');
SELECT is((SELECT balance FROM balatrix.accounts WHERE account_number = 'TAPCY19'), 1016.8600::numeric(20,4),
          '1428.68 - 411.82 = 1016.86');
SELECT is_empty($$SELECT * FROM balatrix.check_ledger() WHERE account_number = 'TAPCY19'$$, 'the prepaid account''s ledger checks out');
SELECT is(pg_temp.end_section(19, 19), 1::bigint, 'end of section: I1 cancelled');

-- ---------------------------------------------------------------------------------------------
-- 10. Add-ons (June - July 2026). J1 (TAPCY20): Starter with {"EXTRA_TFN": 1, "EXTRA_EXTENSION": 2} and two
--     toll-free numbers assigned on 1 Jun: the plan includes 1, EXTRA_TFN 1 more, so no rent line.
--     Lines (add-ons in code order): plan 349.00 (31.41); Extra extension 2 x 99.00 = 198.00 (9 % =
--     17.82); Extra toll-free number 1 x 199.00 = 199.00 (17.91). Taxable 746.00, CGST = SGST = 67.14,
--     total 746.00 + 134.28 = 880.28. The same every period.
-- ---------------------------------------------------------------------------------------------
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa020', 'STARTER', 'monthly', '2026-06-01', false,
                                    '{"EXTRA_TFN": 1, "EXTRA_EXTENSION": 2}') AS j1 \gset
INSERT INTO balatrix.dids (id, number, status, customer_id, account_id, subscription_id, assigned_at)
VALUES ('00000000-0000-4000-8000-0000000dd001', '18009990001', 'assigned', '00000000-0000-4000-8000-0000000cc020',
        '00000000-0000-4000-8000-0000000aa020', :'j1', '2026-06-01 00:00+05:30'),
       ('00000000-0000-4000-8000-0000000dd002', '18009990002', 'assigned', '00000000-0000-4000-8000-0000000cc020',
        '00000000-0000-4000-8000-0000000aa020', :'j1', '2026-06-01 00:00+05:30');
INSERT INTO balatrix.did_assignments (did_id, customer_id, account_id, subscription_id, monthly_rent, assigned_at)
SELECT d.id, d.customer_id, d.account_id, d.subscription_id, 199.00, d.assigned_at
  FROM balatrix.dids d WHERE d.id IN ('00000000-0000-4000-8000-0000000dd001', '00000000-0000-4000-8000-0000000dd002');
SELECT balatrix.activate_subscription(:'j1', '2026-06-01') AS j1_jun \gset
SELECT is(balatrix.renew_subscription(:'j1', '2026-07-01'), 1, 'J1 renewed on 1 Jul');
SELECT results_eq(format($$SELECT (i.period_start AT TIME ZONE 'Asia/Kolkata')::date, l.line_no, l.kind, l.quantity, l.unit_price,
                                  l.taxable_value, l.cgst, l.sgst
                             FROM balatrix.invoices i JOIN balatrix.invoice_lines l ON l.invoice_id = i.id
                            WHERE i.subscription_id = %L ORDER BY i.period_start, l.line_no$$, :'j1'),
                  $$VALUES ('2026-06-01'::date, 1, 'plan'::text, 1::numeric(14,4), 349.00::numeric(14,4), 349.00::numeric(14,2),
                            31.41::numeric(14,2), 31.41::numeric(14,2)),
                           ('2026-06-01', 2, 'add_on', 2, 99.00, 198.00, 17.82, 17.82),
                           ('2026-06-01', 3, 'add_on', 1, 199.00, 199.00, 17.91, 17.91),
                           ('2026-07-01', 1, 'plan', 1, 349.00, 349.00, 31.41, 31.41),
                           ('2026-07-01', 2, 'add_on', 2, 99.00, 198.00, 17.82, 17.82),
                           ('2026-07-01', 3, 'add_on', 1, 199.00, 199.00, 17.91, 17.91)$$,
                  'each period: plan 349.00, 2 x 99.00 extra extensions, 1 x 199.00 extra toll-free number, no DID rent');
SELECT is((SELECT array_agg(total ORDER BY period_start) FROM balatrix.invoices WHERE subscription_id = :'j1'),
          ARRAY[880.28, 880.28]::numeric(14,2)[], 'each invoice totals 880.28');
SELECT is(pg_temp.end_section(20, 20), 1::bigint, 'end of section: J1 cancelled');

-- ---------------------------------------------------------------------------------------------
-- 11. Payments (June - July 2026). K1 (TAPCY21) from 1 Jun, 411.82.
-- ---------------------------------------------------------------------------------------------
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa021', 'STARTER', 'monthly', '2026-06-01', false) AS k1 \gset
SELECT balatrix.activate_subscription(:'k1', '2026-06-01') AS k1_jun \gset
-- 200.00 on 5 Jun: partially paid; the balance -411.82 + 200.00 = -211.82.
SELECT balatrix.record_payment(:'k1_jun', 200.00, 'bank_transfer', 'UTR-TAP-1', '2026-06-05') AS k1_p1 \gset
SELECT is((SELECT status || ' ' || amount_paid FROM balatrix.invoices WHERE id = :'k1_jun'), 'partially_paid 200.00',
          'a part payment of 200.00: partially_paid, 200.00 paid');
SELECT is((SELECT balance FROM balatrix.accounts WHERE account_number = 'TAPCY21'), -211.8200::numeric(20,4), 'balance -211.82');
-- 211.82 on 6 Jun: paid in full, balance 0.
SELECT balatrix.record_payment(:'k1_jun', 211.82, 'bank_transfer', 'UTR-TAP-2', '2026-06-06') AS k1_p2 \gset
SELECT is((SELECT status || ' ' || amount_paid || ' ' || (paid_at AT TIME ZONE 'Asia/Kolkata')::date FROM balatrix.invoices WHERE id = :'k1_jun'),
          'paid 411.82 2026-06-06', 'the rest, 211.82: paid, 411.82 paid, on 6 Jun');
SELECT is((SELECT balance FROM balatrix.accounts WHERE account_number = 'TAPCY21'), 0.0000::numeric(20,4), 'balance 0');
SELECT is((SELECT array_agg(l.entry_type || ' ' || l.amount ORDER BY l.id) FROM balatrix.ledger l
            WHERE l.account_id = '00000000-0000-4000-8000-0000000aa021'),
          ARRAY['invoice -411.8200', 'payment 200.0000', 'payment 211.8200'], 'ledger: the invoice and the two payments');
-- 1 Jul: another 411.82, and 500.00 is received: 411.82 is applied, 88.18 stays on the account
-- (0 - 411.82 + 500.00 = +88.18).
SELECT is(balatrix.renew_subscription(:'k1', '2026-07-01'), 1, 'K1 renewed on 1 Jul');
SELECT balatrix.record_payment(pg_temp.period_invoice(:'k1', '2026-07-01'), 500.00, 'manual', NULL, '2026-07-02') AS k1_p3 \gset
SELECT is((SELECT status || ' ' || amount_paid FROM balatrix.invoices WHERE id = pg_temp.period_invoice(:'k1', '2026-07-01')),
          'paid 411.82', 'an overpayment of 500.00: the invoice is paid, 411.82 applied');
SELECT is((SELECT amount || ' ' || (metadata->>'applied') || ' ' || (metadata->>'unapplied') FROM balatrix.ledger
            WHERE reference_type = 'payment' AND reference_id = :'k1_p3'),
          '500.0000 411.82 88.18', 'its ledger entry credits all 500.00 (411.82 applied, 88.18 unapplied)');
SELECT is((SELECT balance FROM balatrix.accounts WHERE account_number = 'TAPCY21'), 88.1800::numeric(20,4),
          'the excess stays on the account: balance +88.18');
SELECT is((SELECT array_agg(e.event_type ORDER BY e.id) FILTER (WHERE e.event_type IN ('payment.captured', 'invoice.paid'))
             FROM balatrix.event_outbox e WHERE e.customer_id = '00000000-0000-4000-8000-0000000cc021'),
          ARRAY['payment.captured', 'payment.captured', 'invoice.paid', 'payment.captured', 'invoice.paid'],
          'events: payment.captured per payment, invoice.paid when settled');
SELECT is(pg_temp.end_section(21, 21), 1::bigint, 'end of section: K1 cancelled');

-- ---------------------------------------------------------------------------------------------
-- 12. The events of each step (July - August 2026). L1 (TAPCY22): Starter with its 7-day trial from
--     1 Jul, [1 Jul, 8 Jul).
-- ---------------------------------------------------------------------------------------------
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa022', 'STARTER', 'monthly', '2026-07-01') AS l1 \gset
SELECT balatrix.suspend_subscription(:'l1', 'tap', '2026-07-03') AS x \gset
SELECT balatrix.resume_subscription(:'l1', '2026-07-04') AS x \gset
SELECT is((SELECT status FROM balatrix.subscriptions WHERE id = :'l1'), 'trial', 'suspended and resumed inside its trial: trial again');
SELECT is(balatrix.renew_subscription(:'l1', '2026-07-08'), 1, 'the trial converts on 8 Jul');
SELECT balatrix.record_payment(pg_temp.period_invoice(:'l1', '2026-07-08'), 411.82, 'manual', NULL, '2026-07-09') AS x \gset
SELECT balatrix.change_subscription_plan(:'l1', 'PROFESSIONAL', '2026-07-18') AS l1_upgrade \gset
SELECT balatrix.change_subscription_plan(:'l1', 'STARTER', '2026-07-20') AS x \gset
SELECT balatrix.cancel_subscription(:'l1', true, 'tap', '2026-07-21') AS x \gset
SELECT is(balatrix.renew_subscription(:'l1', '2026-08-08'), 1, 'at the period end the cycle ends it');
SELECT is((SELECT status FROM balatrix.subscriptions WHERE id = :'l1'), 'cancelled', 'L1 is cancelled');
SELECT is((SELECT array_agg(e.event_type ORDER BY e.id) FROM balatrix.event_outbox e
            WHERE e.customer_id = '00000000-0000-4000-8000-0000000cc022'),
          ARRAY['subscription.created', 'subscription.suspended', 'subscription.resumed',
                'invoice.issued', 'subscription.activated', 'payment.captured', 'invoice.paid',
                'invoice.issued', 'subscription.plan_changed', 'subscription.downgrade_scheduled',
                'subscription.cancel_scheduled', 'subscription.cancelled'],
          'events: created, suspended, resumed, (invoice) activated, payment captured, invoice paid, (invoice) plan changed, '
          'downgrade scheduled, cancel scheduled, cancelled');
SELECT is((SELECT e.payload->>'reason' FROM balatrix.event_outbox e
            WHERE e.customer_id = '00000000-0000-4000-8000-0000000cc022' AND e.event_type = 'subscription.activated'),
          'trial_ended', 'the activation event says trial_ended');
SELECT is((SELECT count(*) || '/' || count(e.dedupe_key) || '/' || count(DISTINCT e.dedupe_key) FROM balatrix.event_outbox e
            WHERE e.customer_id = '00000000-0000-4000-8000-0000000cc022'),
          '12/12/12', 'every one of them has its own dedupe key');
SELECT is(ARRAY[balatrix.emit_event('tap.probe', NULL, 'tap', '1', '{}', 'tap.probe:1'),
                balatrix.emit_event('tap.probe', NULL, 'tap', '1', '{"again": true}', 'tap.probe:1')],
          ARRAY[true, false], 'emit_event writes a dedupe key once: true, then false');

-- X1 (TAPCY28) from 1 Aug with auto_renew off: at its period end it expires, with no new invoice (no
-- usage to bill) and a subscription.expired event.
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa028', 'STARTER', 'monthly', '2026-08-01', false) AS x1 \gset
SELECT balatrix.activate_subscription(:'x1', '2026-08-01') AS x \gset
UPDATE balatrix.subscriptions SET auto_renew = false WHERE id = :'x1';
SELECT is(balatrix.renew_subscription(:'x1', '2026-09-01'), 1, 'auto_renew off: one step at the period end');
SELECT is((SELECT s.status || ' ' || (s.ended_at AT TIME ZONE 'Asia/Kolkata')::date || ' '
                  || (SELECT count(*) FROM balatrix.invoices i WHERE i.subscription_id = s.id)
             FROM balatrix.subscriptions s WHERE s.id = :'x1'),
          'expired 2026-09-01 1', 'X1 expired on 1 Sep, still one invoice');
SELECT is((SELECT e.event_type FROM balatrix.event_outbox e
            WHERE e.customer_id = '00000000-0000-4000-8000-0000000cc028' ORDER BY e.id DESC LIMIT 1),
          'subscription.expired', 'its last event is subscription.expired');

-- ---------------------------------------------------------------------------------------------
-- 13. Dunning events (30 Jul 2026): L1's upgrade invoice of 18 Jul is due on 2 Aug (15 days), within
--     the 3 reminder days: one reminder. A second sweep of the same day writes nothing.
-- ---------------------------------------------------------------------------------------------
SELECT reminders AS x FROM balatrix.run_dunning('2026-07-30') \gset
SELECT is((SELECT count(*) FROM balatrix.event_outbox e WHERE e.event_type = 'invoice.payment_reminder' AND e.aggregate_id = :'l1_upgrade'),
          1::bigint, 'one invoice.payment_reminder for the upgrade invoice due on 2 Aug');
CREATE TEMP TABLE before_dunning AS SELECT count(*) AS events FROM balatrix.event_outbox;
SELECT results_eq($$SELECT reminders, overdue, suspended FROM balatrix.run_dunning('2026-07-30')$$,
                  $$VALUES (0, 0, 0)$$, 'the same sweep again: no reminder, nothing overdue, nothing suspended');
SELECT is((SELECT count(*) FROM balatrix.event_outbox) - (SELECT events FROM before_dunning), 0::bigint,
          'and no new event');

-- ---------------------------------------------------------------------------------------------
-- 14. Calls outside the current period (August - September 2026).
-- ---------------------------------------------------------------------------------------------
-- M1 (TAPCY23), Starter from 1 Aug: [1 Aug, 1 Sep). A 10-min call to India at 01:00 IST on 1 Sep,
-- before the cycle of the day (02:00 IST by default) renews the subscription. It belongs to the period
-- from 1 Sep and uses 600 of its 6000 included seconds: it costs nothing, and is counted there.
-- Regression: the rating trigger once created a usage row only for the subscription's current period,
-- so a call after the period's end but before the cycle ran was charged 10 x 1.99 = 19.90 without the
-- allowance, counted in no usage row and never invoiced. It now creates the anchored period's row.
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa023', 'STARTER', 'monthly', '2026-08-01', false) AS m1 \gset
SELECT balatrix.activate_subscription(:'m1', '2026-08-01') AS x \gset
SELECT pg_temp.call('TAPCY23', '9845012345', '2026-09-01 01:00', 600, 'tap-m1-early') AS x \gset
SELECT is(balatrix.renew_subscription(:'m1', '2026-09-01'), 1, 'M1 renewed on 1 Sep');
SELECT is((SELECT charge || ' ' || included_seconds FROM balatrix.cdr WHERE uuid = 'tap-m1-early'), '0.0000 600',
          'a call between the period end and the cycle run uses the new period''s allowance (0.00, 600 s included)');
SELECT is((SELECT included_used_seconds || ' ' || call_count FROM balatrix.subscription_usage
            WHERE subscription_id = :'m1' AND period_start = '2026-09-01 00:00+05:30'),
          '600 1', 'and is counted in the usage row of the period from 1 Sep');
-- M2 (TAPCY24), Starter from 1 Aug, no call in August, renewed on 1 Sep. On 2 Sep a 2-min call of 20 Aug
-- arrives late: it belongs to August, whose 100 minutes are untouched: 120 s included, nothing to pay.
-- Regression, same cause: August had no usage row, so the late call was charged 2 x 1.99 = 3.98 and
-- never invoiced (README: "a late CDR ... is billed on the next invoice").
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa024', 'STARTER', 'monthly', '2026-08-01', false) AS m2 \gset
SELECT balatrix.activate_subscription(:'m2', '2026-08-01') AS x \gset
SELECT is(balatrix.renew_subscription(:'m2', '2026-09-01'), 1, 'M2 renewed on 1 Sep');
SELECT pg_temp.call('TAPCY24', '9845012345', '2026-08-20 10:00', 120, 'tap-m2-late') AS x \gset
SELECT is((SELECT charge || ' ' || included_seconds FROM balatrix.cdr WHERE uuid = 'tap-m2-late'), '0.0000 120',
          'a late CDR of a closed period without usage uses that period''s allowance (0.00, 120 s included)');
SELECT is((SELECT count(*) FROM balatrix.subscription_usage
            WHERE subscription_id = :'m2' AND period_start = '2026-08-01 00:00+05:30' AND included_used_seconds = 120),
          1::bigint, 'and is counted in the August usage row');

-- ---------------------------------------------------------------------------------------------
-- 15. Cancelling or downgrading after an upgrade (August 2026). M3 (TAPCY25) and M4 (TAPCY26): Starter
--     from 1 Aug (411.82), upgraded to Call Center on 2 Aug: 30 of 31 days, 4999 x 30 / 31 = 4837.74 less
--     349 x 30 / 31 = 337.74: 4500.00 (+ 810.00 GST = 5310.00 on its own invoice).
-- ---------------------------------------------------------------------------------------------
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa025', 'STARTER', 'monthly', '2026-08-01', false) AS m3 \gset
SELECT balatrix.activate_subscription(:'m3', '2026-08-01') AS x \gset
SELECT balatrix.change_subscription_plan(:'m3', 'CALL_CENTER', '2026-08-02') AS m3_up \gset
SELECT is((SELECT total FROM balatrix.invoices WHERE id = :'m3_up'), 5310.00::numeric(14,2), 'the upgrade invoice: 5310.00');
-- Cancelling at once on 3 Aug credits 29 of 31 days of Call Center: 4999 x 29 / 31 = 4676.4839 ->
-- 4676.48, 9 % = 420.8832 -> 420.88 twice: 5518.24, more than the period invoice (411.82) but less than
-- what the period was charged (411.82 + 5310.00 = 5721.82).
-- Regression: the credit was once raised against the period invoice alone, which issue_invoice refused
-- (22023); it is now spread over the period's upgrade invoice and period invoice.
SELECT lives_ok(format('SELECT balatrix.cancel_subscription(%L, false, %L, %L)', :'m3', 'tap', '2026-08-03'),
                'cancelling at once after an upgrade works (the unused days credited)');
SELECT is((SELECT status FROM balatrix.subscriptions WHERE id = :'m3'), 'cancelled', 'M3 is cancelled');
-- Downgrading at once to Professional on 3 Aug: 4676.48 unused, 999 x 29 / 31 = 934.5484 -> 934.55 for
-- the new plan: a credit of 3741.93 (9 % = 336.7737 -> 336.77 twice: 4415.47), again more than the
-- period invoice.
-- Regression, same cause: the immediate downgrade was refused with 22023.
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa026', 'STARTER', 'monthly', '2026-08-01', false) AS m4 \gset
SELECT balatrix.activate_subscription(:'m4', '2026-08-01') AS x \gset
SELECT balatrix.change_subscription_plan(:'m4', 'CALL_CENTER', '2026-08-02') AS x \gset
SELECT lives_ok(format('SELECT balatrix.change_subscription_plan(%L, %L, %L, %L)', :'m4', 'PROFESSIONAL', '2026-08-03', 'immediate'),
                'an immediate downgrade after an upgrade works (the difference credited)');

-- ---------------------------------------------------------------------------------------------
-- 16. A trial converted early (August 2026). M5 (TAPCY27): Starter with its trial from 1 Aug, [1 Aug,
--     8 Aug); 10 min to India on 2 Aug (600 of the trial's 6000 s); activated on 3 Aug: the first paid
--     period is [3 Aug, 3 Sep) with 100 fresh minutes. A 100-min call on 4 Aug belongs to it: 6000 s
--     included, nothing to pay.
-- Regression: the trial's usage row once kept running to 8 Aug and took the call (5400 s included, 600 s
-- beyond at 1.99 / min = 19.90) while the paid period's allowance was untouched; start_paid_period now
-- ends the trial's usage row at the conversion.
-- ---------------------------------------------------------------------------------------------
SELECT balatrix.create_subscription('00000000-0000-4000-8000-0000000aa027', 'STARTER', 'monthly', '2026-08-01') AS m5 \gset
SELECT pg_temp.call('TAPCY27', '9845012345', '2026-08-02 10:00', 600, 'tap-m5-trial') AS x \gset
SELECT balatrix.activate_subscription(:'m5', '2026-08-03') AS x \gset
SELECT pg_temp.call('TAPCY27', '9845012345', '2026-08-04 10:00', 6000, 'tap-m5-paid') AS x \gset
SELECT is((SELECT charge || ' ' || included_seconds FROM balatrix.cdr WHERE uuid = 'tap-m5-paid'), '0.0000 6000',
          'a call after an early conversion uses the paid period''s allowance (0.00, 6000 s included)');
SELECT is((SELECT included_used_seconds FROM balatrix.subscription_usage
            WHERE subscription_id = :'m5' AND period_start = '2026-08-03 00:00+05:30'),
          6000::bigint, 'and is counted in the usage row of [3 Aug, 3 Sep)');

-- Whatever happened above, the ledger holds.
SELECT is_empty($$SELECT * FROM balatrix.check_ledger()$$, 'check_ledger() is empty at the end');

SELECT * FROM finish();
ROLLBACK;

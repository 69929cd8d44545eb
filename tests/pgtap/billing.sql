-- pgTAP: the contract of the billing arithmetic and quotes (extension/sql/balatrix.sql, sections
-- "GST reference data and GSTIN functions" and "Billing arithmetic"): signatures, volatility,
-- strictness, pinned search_path, comments, EXECUTE privileges and the SQLSTATEs of bad input.
-- The values themselves are pinned by sql/billing.sql.
BEGIN;
SELECT plan(97);

CREATE TEMP TABLE fn (sig text PRIMARY KEY, name name, args name[], returns text, volatility text, strict boolean,
                      public_exec boolean);
INSERT INTO fn VALUES
    ('balatrix.gst_line_tax(numeric,numeric,text,text,boolean,text)', 'gst_line_tax',
     ARRAY['numeric', 'numeric', 'text', 'text', 'boolean', 'text'], 'record', 'immutable', true, true),
    ('balatrix.gst_rate_for_sac(text)', 'gst_rate_for_sac', ARRAY['text'], 'numeric', 'immutable', true, true),
    ('balatrix.add_months_clamped(date,integer,integer)', 'add_months_clamped', ARRAY['date', 'integer', 'integer'],
     'date', 'immutable', false, true),
    ('balatrix.billing_period(date,text,integer)', 'billing_period', ARRAY['date', 'text', 'integer'], 'record',
     'immutable', true, true),
    ('balatrix.financial_year(date)', 'financial_year', ARRAY['date'], 'text', 'immutable', true, true),
    ('balatrix.recurring_price(numeric,text)', 'recurring_price', ARRAY['numeric', 'text'], 'numeric', 'immutable', true, true),
    ('balatrix.prorate(numeric,integer,integer)', 'prorate', ARRAY['numeric', 'integer', 'integer'], 'numeric',
     'immutable', true, true),
    ('balatrix.prorate_plan_change(numeric,numeric,integer,integer)', 'prorate_plan_change',
     ARRAY['numeric', 'numeric', 'integer', 'integer'], 'record', 'immutable', true, true),
    ('balatrix.format_invoice_number(text,text,bigint)', 'format_invoice_number', ARRAY['text', 'text', 'bigint'], 'text',
     'immutable', true, true),
    ('balatrix.billing_settings()', 'billing_settings', ARRAY[]::name[], 'record', 'stable', false, true),
    ('balatrix.quote_subscription(text,text,jsonb,uuid)', 'quote_subscription', ARRAY['text', 'text', 'jsonb', 'uuid'],
     'jsonb', 'stable', false, false);

-- Signatures, return types, volatility, strictness (11 functions x 4).
SELECT has_function('balatrix', name, args, sig || ' exists') FROM fn ORDER BY sig;
SELECT function_returns('balatrix', name, args, returns, sig || ' returns ' || returns) FROM fn ORDER BY sig;
SELECT volatility_is('balatrix', name, args, volatility, sig || ' is ' || upper(volatility)) FROM fn ORDER BY sig;
SELECT CASE WHEN strict THEN is_strict('balatrix', name, args, sig || ' is STRICT')
            ELSE isnt_strict('balatrix', name, args, sig || ' is not STRICT (NULL defaults)') END
  FROM fn ORDER BY sig;

-- PARALLEL SAFE, not SECURITY DEFINER, search_path pinned, a COMMENT (pgTAP 1.2 has no parallel_is).
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p JOIN fn ON fn.name = p.proname
     WHERE p.pronamespace = 'balatrix'::regnamespace
       AND NOT (p.proparallel = 's' AND NOT p.prosecdef AND p.proconfig = ARRAY['search_path=pg_catalog, pg_temp'])
$$, 'every billing function is PARALLEL SAFE, SECURITY INVOKER, with search_path = pg_catalog, pg_temp');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p JOIN fn ON fn.name = p.proname
     WHERE p.pronamespace = 'balatrix'::regnamespace AND coalesce(pg_catalog.obj_description(p.oid, 'pg_proc'), '') = ''
$$, 'every billing function has a COMMENT');

-- EXECUTE: the arithmetic for everyone (like the GSTIN helpers), the quote for the API only.
SELECT ok(has_function_privilege('public', sig, 'EXECUTE') = public_exec,
          sig || CASE WHEN public_exec THEN ' is' ELSE ' is not' END || ' executable by PUBLIC')
  FROM fn ORDER BY sig;
SELECT ok(has_function_privilege('balatrix_api', 'balatrix.quote_subscription(text,text,jsonb,uuid)', 'EXECUTE'),
          'balatrix_api can call quote_subscription');
SELECT ok(NOT has_function_privilege('balatrix_ingest', 'balatrix.quote_subscription(text,text,jsonb,uuid)', 'EXECUTE'),
          'balatrix_ingest cannot call quote_subscription');

-- NULL behaviour.
SELECT is(balatrix.gst_rate_for_sac(NULL), NULL, 'gst_rate_for_sac(NULL) is NULL');
SELECT is(balatrix.add_months_clamped(NULL, 1), NULL, 'add_months_clamped(NULL, 1) is NULL');
SELECT is(balatrix.add_months_clamped('2025-01-31', 1, NULL), '2025-02-28'::date, 'a NULL anchor_day is the day of d');
SELECT is(balatrix.financial_year(NULL), NULL, 'financial_year(NULL) is NULL');

-- SQLSTATEs of bad input (sql/billing.sql has the messages).
SELECT throws_ok($$SELECT balatrix.gst_line_tax(1.23456, 18, '29', '29')$$, '22023', NULL, 'more than 4 decimals: 22023');
SELECT throws_ok($$SELECT balatrix.gst_line_tax(100.005, 18, '29', '29')$$, '22023', NULL, 'taxable not whole paise: 22023');
SELECT throws_ok($$SELECT balatrix.gst_line_tax(1e16, 18, '29', '29')$$, '22003', NULL, 'taxable beyond the amount range: 22003');
SELECT throws_ok($$SELECT balatrix.gst_line_tax(1e13, 18, '29', '29')$$, '22003', NULL, 'taxable beyond an invoice amount: 22003');
SELECT throws_ok($$SELECT balatrix.gst_line_tax('NaN', 18, '29', '29')$$, '22023', NULL, 'NaN taxable: 22023');
SELECT throws_ok($$SELECT balatrix.gst_line_tax(100, 41, '29', '29')$$, '22023', NULL, 'rate above 40 %: 22023');
SELECT throws_ok($$SELECT balatrix.gst_line_tax(100, 18, 'KA', '29')$$, '22023', NULL, 'State code not two digits: 22023');
SELECT throws_ok($$SELECT balatrix.gst_line_tax(100, 18, '99', '29')$$, '22023', NULL, 'supplier State 99: 22023');
SELECT throws_ok($$SELECT balatrix.gst_line_tax(100, 18, '29', '99')$$, '22023', NULL, 'place of supply 99: 22023');
SELECT throws_ok($$SELECT balatrix.gst_line_tax(100, 18, '29', '29', false, 'inr')$$, '22023', NULL, 'bad currency: 22023');
SELECT throws_ok($$SELECT balatrix.gst_rate_for_sac('998431')$$, '22023', NULL, 'SAC without a rate: 22023');
SELECT throws_ok($$SELECT balatrix.gst_rate_for_sac('12345')$$, '22023', NULL, 'malformed SAC: 22023');
SELECT throws_ok($$SELECT balatrix.add_months_clamped('infinity', 1)$$, '22008', NULL, 'infinite date: 22008');
SELECT throws_ok($$SELECT balatrix.add_months_clamped('9999-12-01', 1)$$, '22008', NULL, 'result after 9999: 22008');
SELECT throws_ok($$SELECT balatrix.add_months_clamped('2025-01-31', 1, 32)$$, '22023', NULL, 'anchor_day 32: 22023');
SELECT throws_ok($$SELECT balatrix.billing_period('2025-01-31', 'yearly', 0)$$, '22023', NULL, 'unknown cycle: 22023');
SELECT throws_ok($$SELECT balatrix.billing_period('2025-01-31', 'monthly', -1)$$, '22023', NULL, 'negative period index: 22023');
SELECT throws_ok($$SELECT balatrix.financial_year('0001-03-31')$$, '22008', NULL, 'financial year before year 1: 22008');
SELECT throws_ok($$SELECT balatrix.recurring_price(-1, 'monthly')$$, '22023', NULL, 'negative price: 22023');
SELECT throws_ok($$SELECT balatrix.recurring_price(1000000000000, 'monthly')$$, '22003', NULL, 'price out of range: 22003');
SELECT throws_ok($$SELECT balatrix.prorate(349, 31, 30)$$, '22023', NULL, 'more days remaining than in the period: 22023');
SELECT throws_ok($$SELECT balatrix.prorate(349, 0, 0)$$, '22023', NULL, 'empty period: 22023');
SELECT throws_ok($$SELECT balatrix.format_invoice_number('INV', '2526', 10000000)$$, '22003', NULL,
                 'invoice number over 16 characters: 22003');
SELECT throws_ok($$SELECT balatrix.format_invoice_number('inv', '2526', 1)$$, '22023', NULL, 'bad series: 22023');
SELECT throws_ok($$SET LOCAL balatrix.supplier_state_code = '99'$$, '22023', NULL, 'supplier_state_code 99 is refused');
SELECT throws_ok($$SET LOCAL balatrix.supplier_gstin = '27AAPFU0939F1ZW'$$, '22023', NULL, 'an invalid supplier_gstin is refused');

-- quote_subscription, with the default catalogue (rolled back).
SELECT ok(balatrix.install_default_catalogue() >= 0, 'default catalogue installed');
SELECT throws_ok($$SELECT balatrix.quote_subscription('NO_SUCH_PLAN', 'monthly')$$, 'P0002', NULL, 'unknown plan: P0002');
SELECT throws_ok($$SELECT balatrix.quote_subscription('STARTER', 'weekly')$$, '22023', NULL, 'unknown cycle: 22023');
SELECT throws_ok($$SELECT balatrix.quote_subscription('STARTER', 'monthly', '{"EXTRA_FAX": 1}')$$, '22023', NULL,
                 'unknown add-on: 22023');
SELECT throws_ok($$SELECT balatrix.quote_subscription('STARTER', 'monthly', '{"EXTRA_TFN": -1}')$$, '22023', NULL,
                 'negative quantity: 22023');
SELECT throws_ok($$SELECT balatrix.quote_subscription('STARTER', 'monthly', '{}', '00000000-0000-4000-8000-00000000ffff')$$,
                 'P0002', NULL, 'unknown customer: P0002');
SELECT is(balatrix.quote_subscription('STARTER', 'monthly')#>>'{totals,total}', '411.82', 'T1: Starter monthly totals 411.82');
SET LOCAL ROLE balatrix_api;
SELECT is(balatrix.quote_subscription('PROFESSIONAL', 'monthly')#>>'{totals,total}', '1178.82',
          'balatrix_api can quote (T2: 1178.82)');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

--
-- Billing arithmetic and quotes (extension/pg/gst.cpp, calendar.cpp, invoice.cpp; the section
-- "Billing arithmetic" of balatrix.sql). Vectors: reference/gst-payments.md §1.9 and
-- reference/seed-original.md §10 (T1-T3, T8, T9, T13-T15, T17, T24, T25, T38). Every expected
-- value was worked out by hand; the working is in the comments.
--
SET timezone = 'Asia/Kolkata';
SET datestyle = 'ISO, YMD';
\set SHOW_CONTEXT never
-- SQLSTATE and message of a refused statement, 'ok' when it succeeds.
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;

--
-- gst_line_tax: §1.9 vectors both ways (supplier Karnataka 29; intra = POS 29, inter = POS 27).
-- Intra heads are each round(taxable x 9 %), IGST round(taxable x 18 %), half-up to paise:
--   399.00: 35.91 / 71.82   999.00: 89.91 / 179.82   123.45: 11.1105 -> 11.11 / 22.221 -> 22.22
--   1.00: 0.09 / 0.18       0.05: 0.0045 -> 0.00 / 0.009 -> 0.01   2500.00: 225.00 / 450.00
--
SELECT v.taxable, i.regime AS intra, i.cgst, i.sgst, i.utgst, o.regime AS inter, o.igst
  FROM (VALUES (1, 399.00), (2, 999.00), (3, 123.45), (4, 1.00), (5, 0.05), (6, 2500.00)) AS v (n, taxable),
       LATERAL balatrix.gst_line_tax(v.taxable, 18, '29', '29') AS i,
       LATERAL balatrix.gst_line_tax(v.taxable, 18, '29', '27') AS o
 ORDER BY v.n;

-- T13: 1000.00 intra 90.00 + 90.00 = 180.00; inter IGST 180.00.
SELECT 'intra' AS side, cgst, sgst, igst, cgst + sgst + utgst + igst AS tax FROM balatrix.gst_line_tax(1000, 18, '29', '29')
UNION ALL
SELECT 'inter', cgst, sgst, igst, cgst + sgst + utgst + igst FROM balatrix.gst_line_tax(1000, 18, '29', '27')
ORDER BY side DESC;

-- T14, where we differ on purpose: 448.50 intra is 40.365 -> 40.37 per head, and the tax is the
-- SUM OF THE ROUNDED HEADS, 80.74, not 18 % of 448.50 rounded once (80.73, the original's
-- "reported total"): PRODUCT §4 says each line carries its own rounded heads and totals are sums,
-- so the printed heads always add up to the printed tax. Inter-State: one head, 80.73.
SELECT 'intra' AS side, cgst, sgst, igst, cgst + sgst + utgst + igst AS tax FROM balatrix.gst_line_tax(448.50, 18, '29', '29')
UNION ALL
SELECT 'inter', cgst, sgst, igst, cgst + sgst + utgst + igst FROM balatrix.gst_line_tax(448.50, 18, '29', '27')
ORDER BY side DESC;

-- T15: Starter invoice, 150 minutes used of 100 included at 1.99: overage 50 x 1.99 = 99.50, taxed
-- as its own line. Inter-State (Maharashtra): IGST 349.00 x 18 % = 62.82 and 99.50 x 18 % = 17.91,
-- tax 80.73, total 448.50 + 80.73 = 529.23 (T15's figures). Intra-State: 31.41 x 2 and
-- 99.50 x 9 % = 8.955 -> 8.96 x 2, tax 80.74, total 529.24 (per-line heads, as T14).
SELECT place, sum(l.taxable) AS taxable, sum(t.cgst) AS cgst, sum(t.sgst) AS sgst, sum(t.igst) AS igst,
       sum(t.cgst + t.sgst + t.igst) AS tax, sum(l.taxable + t.cgst + t.sgst + t.igst) AS total
  FROM (VALUES ('27'), ('29')) AS p (place),
       (VALUES ('plan', 349.00), ('overage', 50 * 1.99)) AS l (kind, taxable),
       LATERAL balatrix.gst_line_tax(l.taxable, 18, '29', p.place) AS t
 GROUP BY place ORDER BY place;

-- UTs: Chandigarh (04, no legislature) in itself is CGST + UTGST; Delhi (07, a legislature) CGST +
-- SGST; a supplier in Karnataka to Chandigarh is IGST; an export (96) is IGST.
SELECT v.supplier, v.place, t.*
  FROM (VALUES (1, '04', '04'), (2, '07', '07'), (3, '29', '04'), (4, '29', '96')) AS v (n, supplier, place),
       LATERAL balatrix.gst_line_tax(349, 18, v.supplier, v.place) AS t
 ORDER BY v.n;

-- No tax: a tax-exempt recipient, a supply in USD (the States are not consulted then); a credit
-- (negative taxable) gets the negated heads; a 0 % rate; NULL in, NULL out.
SELECT v.label, t.*
  FROM (VALUES (1, 'exempt', 349.00, '29', '27', true, 'INR'), (2, 'usd', 349.00, '29', '29', false, 'USD'),
               (3, 'credit', -448.50, '29', '29', false, 'INR')) AS v (n, label, taxable, supplier, place, exempt, currency),
       LATERAL balatrix.gst_line_tax(v.taxable, 18, v.supplier, v.place, v.exempt, v.currency) AS t
 ORDER BY v.n;
SELECT * FROM balatrix.gst_line_tax(349, 0, '29', '29');
SELECT * FROM balatrix.gst_line_tax(NULL, 18, '29', '29');

-- Errors: nothing is rounded or guessed.
SELECT v.n, pg_temp.try(v.stmt) AS result
  FROM (VALUES (1, $$SELECT balatrix.gst_line_tax(100.005, 18, '29', '29')$$),
               (2, $$SELECT balatrix.gst_line_tax(1.23456, 18, '29', '29')$$),
               (3, $$SELECT balatrix.gst_line_tax(10000000000000, 18, '29', '29')$$),
               (4, $$SELECT balatrix.gst_line_tax(1e16, 18, '29', '29')$$),
               (5, $$SELECT balatrix.gst_line_tax('NaN', 18, '29', '29')$$),
               (6, $$SELECT balatrix.gst_line_tax(100, 41, '29', '29')$$),
               (7, $$SELECT balatrix.gst_line_tax(100, 18.005, '29', '29')$$),
               (8, $$SELECT balatrix.gst_line_tax(100, -1, '29', '29')$$),
               (9, $$SELECT balatrix.gst_line_tax(100, 18, 'KA', '29')$$),
               (10, $$SELECT balatrix.gst_line_tax(100, 18, '99', '29')$$),
               (11, $$SELECT balatrix.gst_line_tax(100, 18, '29', '99')$$),
               (12, $$SELECT balatrix.gst_line_tax(100, 18, '29', '9')$$),
               (13, $$SELECT balatrix.gst_line_tax(100, 18, '29', '29', false, 'inr')$$)) AS v (n, stmt)
 ORDER BY v.n;

-- gst_rate_for_sac: the heading, a 6-digit and an 8-digit telecom SAC are 18 %; content (998431)
-- has no built-in rate; malformed SACs are refused.
SELECT balatrix.gst_rate_for_sac('9984') AS heading, balatrix.gst_rate_for_sac('998412') AS sac_998412,
       balatrix.gst_rate_for_sac('99842200') AS sac_99842200;
SELECT v.n, pg_temp.try(v.stmt) AS result
  FROM (VALUES (1, $$SELECT balatrix.gst_rate_for_sac('998431')$$),
               (2, $$SELECT balatrix.gst_rate_for_sac('12345')$$),
               (3, $$SELECT balatrix.gst_rate_for_sac('')$$)) AS v (n, stmt)
 ORDER BY v.n;

--
-- Calendar: anniversary clamping (PRODUCT §7) and the financial year.
--
-- A Jan 31 anniversary: Feb 28 (29 in 2024), then back to Mar 31 and Apr 30, never drifting to the 28th.
SELECT i, p.period_start, p.period_end, p.period_end - p.period_start AS days
  FROM generate_series(0, 3) AS i, LATERAL balatrix.billing_period('2025-01-31', 'monthly', i) AS p
 ORDER BY i;
SELECT balatrix.add_months_clamped('2024-01-31', 1) AS leap_feb,
       balatrix.add_months_clamped('2025-01-31', 1) AS feb,
       balatrix.add_months_clamped('2025-02-28', 1) AS from_feb_28,
       balatrix.add_months_clamped('2025-02-28', 1, 31) AS anchored_31,
       balatrix.add_months_clamped('2025-03-31', -1) AS back_to_feb,
       balatrix.add_months_clamped('2025-12-15', 2, NULL) AS over_new_year,
       balatrix.add_months_clamped(NULL, 1) AS null_date;
-- Quarterly from Nov 30: [2025-11-30, 2026-02-28), [2026-02-28, 2026-05-30). Annual from a leap
-- day: [2024-02-29, 2025-02-28), ... period 4 starts on 2028-02-29 again.
SELECT c.cycle, i, p.period_start, p.period_end
  FROM (VALUES ('quarterly', DATE '2025-11-30'), ('annual', DATE '2024-02-29')) AS c (cycle, anchor),
       generate_series(0, 1) AS i, LATERAL balatrix.billing_period(c.anchor, c.cycle, i) AS p
 ORDER BY c.cycle, i;
SELECT * FROM balatrix.billing_period('2024-02-29', 'annual', 4);
-- Financial year: 31 March closes one, 1 April opens the next; FY 1999-2000 is "9900".
SELECT d, balatrix.financial_year(d) AS fy
  FROM unnest(ARRAY[DATE '2026-03-31', DATE '2026-04-01', DATE '2025-04-01', DATE '2000-03-31', DATE '2000-04-01']) AS d
 ORDER BY d;
SELECT v.n, pg_temp.try(v.stmt) AS result
  FROM (VALUES (1, $$SELECT balatrix.add_months_clamped('infinity', 1)$$),
               (2, $$SELECT balatrix.add_months_clamped('2025-01-31', 1, 32)$$),
               (3, $$SELECT balatrix.add_months_clamped('2025-01-31', 1, 0)$$),
               (4, $$SELECT balatrix.add_months_clamped('9999-12-01', 1)$$),
               (5, $$SELECT balatrix.add_months_clamped('4000-01-01 BC', 1)$$),
               (6, $$SELECT balatrix.billing_period('2025-01-31', 'yearly', 0)$$),
               (7, $$SELECT balatrix.billing_period('2025-01-31', 'monthly', -1)$$),
               (8, $$SELECT balatrix.billing_period('9999-06-01', 'annual', 1)$$),
               (9, $$SELECT balatrix.financial_year('0001-03-31')$$),
               (10, $$SELECT balatrix.financial_year('-infinity')$$)) AS v (n, stmt)
 ORDER BY v.n;

--
-- Recurring prices (PRODUCT §3): quarterly 3 x, annual 12 x 0.8 = 9.6 x. T38: 349 x 9.6 = 3350.40,
-- 999 x 9.6 = 9590.40, 4999 x 9.6 = 47990.40. Add-ons: 199 x 9.6 = 1910.40, 99 x 9.6 = 950.40.
--
SELECT m, balatrix.recurring_price(m, 'monthly') AS monthly, balatrix.recurring_price(m, 'quarterly') AS quarterly,
       balatrix.recurring_price(m, 'annual') AS annual
  FROM unnest(ARRAY[349.00, 999.00, 4999.00, 199.00, 99.00, 0.01, 0]) AS m
 ORDER BY m;
-- Trailing zeros beyond 4 decimals change nothing (1.23450 is 1.2345, which rounds to 1.23).
SELECT balatrix.recurring_price(1.23450, 'monthly') AS trailing_zeros;

-- Proration. T24: 349 -> 999 with 15 of 30 days left: 349 x 15/30 = 174.50, 999 x 15/30 = 499.50,
-- difference +325.00 (a charge). T25: 999 -> 349 with 10 of 31 days left: 9990/31 = 322.258 ->
-- 322.26, 3490/31 = 112.580 -> 112.58, difference 112.58 - 322.26 = -209.68 (a credit).
SELECT 'T24' AS vector, * FROM balatrix.prorate_plan_change(349, 999, 15, 30)
UNION ALL
SELECT 'T25', * FROM balatrix.prorate_plan_change(999, 349, 10, 31)
ORDER BY vector;
-- 100 x 1/3 = 33.333 -> 33.33; 200 x 2/3 = 133.333 -> 133.33; 0.05 x 1/2 = 0.025 -> 0.03 and a
-- credit symmetrically -0.03; the whole period and no day left.
SELECT balatrix.prorate(100, 1, 3) AS a, balatrix.prorate(200, 2, 3) AS b, balatrix.prorate(0.05, 1, 2) AS c,
       balatrix.prorate(-0.05, 1, 2) AS d, balatrix.prorate(349, 30, 30) AS whole, balatrix.prorate(349, 0, 30) AS none;

-- Invoice numbers (Rule 46(b): at most 16 characters, nothing truncated).
SELECT balatrix.format_invoice_number('INV', '2526', 1) AS first,
       balatrix.format_invoice_number('INV', '2526', 9999999) AS longest,
       balatrix.format_invoice_number('CN', '2627', 42) AS credit_note;

SELECT v.n, pg_temp.try(v.stmt) AS result
  FROM (VALUES (1, $$SELECT balatrix.recurring_price(-1, 'monthly')$$),
               (2, $$SELECT balatrix.recurring_price(349, 'weekly')$$),
               (3, $$SELECT balatrix.recurring_price(1.23456, 'monthly')$$),
               (4, $$SELECT balatrix.recurring_price(1000000000000, 'monthly')$$),
               (5, $$SELECT balatrix.recurring_price('Infinity', 'monthly')$$),
               (6, $$SELECT balatrix.prorate(349, 31, 30)$$),
               (7, $$SELECT balatrix.prorate(349, -1, 30)$$),
               (8, $$SELECT balatrix.prorate(349, 0, 0)$$),
               (9, $$SELECT balatrix.prorate_plan_change(-349, 999, 15, 30)$$),
               (10, $$SELECT balatrix.format_invoice_number('INV', '2526', 10000000)$$),
               (11, $$SELECT balatrix.format_invoice_number('ABCDE', '2526', 1)$$),
               (12, $$SELECT balatrix.format_invoice_number('inv', '2526', 1)$$),
               (13, $$SELECT balatrix.format_invoice_number('INV', '2527', 1)$$),
               (14, $$SELECT balatrix.format_invoice_number('INV', '2526', 0)$$)) AS v (n, stmt)
 ORDER BY v.n;

--
-- quote_subscription: prices from the catalogue only.
--
BEGIN;
SELECT balatrix.install_default_catalogue() > 0 AS catalogue_installed;
SELECT code, monthly_price, max_quantity FROM balatrix.add_ons ORDER BY code;
INSERT INTO balatrix.customers (id, name, billing_state_code, billing_pincode) VALUES
    ('00000000-0000-4000-8000-000000000029', 'Bangalore Calls', '29', '560001'),
    ('00000000-0000-4000-8000-000000000004', 'Chandigarh Care', '04', '160017');
INSERT INTO balatrix.customers (id, name, gstin, pan, billing_state_code, billing_pincode) VALUES
    ('00000000-0000-4000-8000-000000000027', 'Acme Telecom Pvt Ltd', '27AAPFU0939F1ZV', 'AAPFU0939F', '27', '400001');
INSERT INTO balatrix.customers (id, name, billing_state_code, tax_exempt) VALUES
    ('00000000-0000-4000-8000-0000000000e0', 'Exempt Embassy', '07', true);
INSERT INTO balatrix.customers (id, name, billing_country) VALUES
    ('00000000-0000-4000-8000-000000000096', 'Singapore Pte', 'SG');
INSERT INTO balatrix.customers (id, name, status) VALUES
    ('00000000-0000-4000-8000-0000000000aa', 'Pending, no State', 'pending');
-- The totals of one quote as a row.
CREATE FUNCTION pg_temp.totals(q jsonb)
    RETURNS TABLE (regime text, place text, b2b boolean, taxable numeric, cgst numeric, sgst numeric,
                   utgst numeric, igst numeric, tax numeric, round_off numeric, total numeric)
    LANGUAGE sql AS $$
    SELECT q->>'regime', q->>'place_of_supply', (q->>'b2b')::boolean, (q#>>'{totals,taxable}')::numeric,
           (q#>>'{totals,cgst}')::numeric, (q#>>'{totals,sgst}')::numeric, (q#>>'{totals,utgst}')::numeric,
           (q#>>'{totals,igst}')::numeric, (q#>>'{totals,tax}')::numeric, (q#>>'{totals,round_off}')::numeric,
           (q#>>'{totals,total}')::numeric
$$;

-- T1-T3 (no customer: the supplier's State, intra-State): 349 x 9 % = 31.41 x 2 = 62.82, total
-- 411.82; 999: 89.91 x 2 = 179.82, 1178.82; 4999: 449.91 x 2 = 899.82, 5898.82. T8 intended:
-- Starter quarterly 1047.00, 94.23 x 2 = 188.46, 1235.46. Annual Starter (T38 price): 3350.40 x 9 %
-- = 301.536 -> 301.54 x 2 = 603.08, 3953.48.
SELECT v.label, t.*
  FROM (VALUES (1, 'T1 STARTER monthly', 'STARTER', 'monthly'), (2, 'T2 PROFESSIONAL monthly', 'PROFESSIONAL', 'monthly'),
               (3, 'T3 CALL_CENTER monthly', 'CALL_CENTER', 'monthly'), (4, 'T8 STARTER quarterly', 'STARTER', 'quarterly'),
               (5, 'T38 STARTER annual', 'STARTER', 'annual')) AS v (n, label, plan, cycle),
       LATERAL pg_temp.totals(balatrix.quote_subscription(v.plan, v.cycle)) AS t
 ORDER BY v.n;
-- T38 through quotes: the annual plan lines are 3350.40 / 9590.40 / 47990.40.
SELECT code, balatrix.quote_subscription(code, 'annual')#>>'{lines,0,taxable}' AS annual_line
  FROM balatrix.rate_plans WHERE code IN ('STARTER', 'PROFESSIONAL', 'CALL_CENTER') ORDER BY monthly_price;

-- T9 (intended: recurring add-ons, priced from add_ons): Starter monthly + 2 extra TFNs (2 x 199 =
-- 398.00, 35.82 x 2) + 5 extra extensions (5 x 99 = 495.00, 44.55 x 2): taxable 1242.00, tax
-- 62.82 + 71.64 + 89.10 = 223.56, total 1465.56. Every line, in code order after the plan.
SELECT l->>'line_no' AS n, l->>'kind' AS kind, l->>'code' AS code, l->>'sac' AS sac, l->>'quantity' AS qty,
       l->>'unit_price' AS unit, l->>'taxable' AS taxable, l->>'gst_rate' AS rate, l->>'cgst' AS cgst,
       l->>'sgst' AS sgst, l->>'igst' AS igst, l->>'total' AS total
  FROM jsonb_array_elements(balatrix.quote_subscription('STARTER', 'monthly',
                                                        '{"EXTRA_TFN": 2, "EXTRA_EXTENSION": 5}')->'lines') AS l
 ORDER BY (l->>'line_no')::int;
SELECT * FROM pg_temp.totals(balatrix.quote_subscription('STARTER', 'monthly', '{"EXTRA_TFN": 2, "EXTRA_EXTENSION": 5}'));
-- Quarterly add-ons are 3 x: 1 TFN = 597.00 (53.73 x 2); a quantity 0 adds no line.
SELECT jsonb_array_length(q->'lines') AS lines, t.taxable, t.cgst, t.tax, t.total
  FROM balatrix.quote_subscription('STARTER', 'quarterly', '{"EXTRA_TFN": 1, "EXTRA_EXTENSION": 0}') AS q,
       LATERAL pg_temp.totals(q) AS t;

-- T17 and the other parties, Starter monthly (349.00), supplier in Karnataka: Karnataka CGST 31.41
-- + SGST 31.41; Maharashtra (a GSTIN: B2B) IGST 62.82; Chandigarh is another State / UT, so IGST
-- 62.82 too (its CGST + UTGST case needs a supplier in Chandigarh: below); tax-exempt (Delhi) no
-- tax, 349.00; Singapore (no State): an export, place of supply 96, IGST 62.82.
SELECT c.name, t.*
  FROM balatrix.customers c,
       LATERAL pg_temp.totals(balatrix.quote_subscription('STARTER', 'monthly', '{}', c.id)) AS t
 WHERE c.status <> 'pending'
 ORDER BY c.name;
SELECT q->>'tax_exempt' AS tax_exempt, q#>>'{lines,0,gst_rate}' AS line_rate, q#>>'{lines,0,tax}' AS line_tax
  FROM balatrix.quote_subscription('STARTER', 'monthly', NULL, '00000000-0000-4000-8000-0000000000e0') AS q;

-- Settings: the round-off takes 411.82 to 412 (+0.18) and 1465.56 to 1466 (+0.44); 1178.82 + 0.18.
SET LOCAL balatrix.invoice_round_off = on;
SELECT v.plan, t.total, t.round_off
  FROM (VALUES (1, 'STARTER', '{}'::jsonb), (2, 'STARTER', '{"EXTRA_TFN": 2, "EXTRA_EXTENSION": 5}'),
               (3, 'PROFESSIONAL', '{}')) AS v (n, plan, addons),
       LATERAL pg_temp.totals(balatrix.quote_subscription(v.plan, 'monthly', v.addons)) AS t
 ORDER BY v.n;
RESET balatrix.invoice_round_off;
-- A supplier in Maharashtra: the Karnataka customer becomes inter-State, the quote without a
-- customer intra-State in 27; the supplier's GSTIN is printed.
SET LOCAL balatrix.supplier_state_code = '27';
SET LOCAL balatrix.supplier_gstin = '27AAPFU0939F1ZV';
SELECT q->>'supplier_gstin' AS gstin, t.regime, t.place, t.igst, t.cgst
  FROM (VALUES (1, NULL::uuid), (2, '00000000-0000-4000-8000-000000000029')) AS v (n, customer),
       LATERAL balatrix.quote_subscription('STARTER', 'monthly', '{}', v.customer) AS q,
       LATERAL pg_temp.totals(q) AS t
 ORDER BY v.n;
-- A supplier registered in Chandigarh (04, a UT without a legislature): its Chandigarh customer pays
-- CGST 31.41 + UTGST 31.41 (T17's UT case), the Karnataka customer IGST 62.82.
SET LOCAL balatrix.supplier_state_code = '04';
SELECT c.name, t.regime, t.place, t.cgst, t.sgst, t.utgst, t.igst, t.total
  FROM balatrix.customers c,
       LATERAL pg_temp.totals(balatrix.quote_subscription('STARTER', 'monthly', '{}', c.id)) AS t
 WHERE c.billing_state_code IN ('04', '29')
 ORDER BY c.name;
RESET balatrix.supplier_state_code;
RESET balatrix.supplier_gstin;
SELECT * FROM balatrix.billing_settings();

-- Errors.
UPDATE balatrix.add_ons SET max_quantity = 3 WHERE code = 'EXTRA_TFN';
INSERT INTO balatrix.rate_plans (code, name, monthly_price, quarterly_price, annual_price, overage_rate, is_active)
    VALUES ('RETIRED', 'Retired plan', 100, 300, 960, 1, false);
INSERT INTO balatrix.add_ons (code, name, monthly_price, is_active) VALUES ('OLD_ADDON', 'Old add-on', 10, false);
SAVEPOINT errors;
SELECT v.n, pg_temp.try(v.stmt) AS result
  FROM (VALUES (1, $$SELECT balatrix.quote_subscription('NO_SUCH_PLAN', 'monthly')$$),
               (2, $$SELECT balatrix.quote_subscription('RETIRED', 'monthly')$$),
               (3, $$SELECT balatrix.quote_subscription('STARTER', 'weekly')$$),
               (4, $$SELECT balatrix.quote_subscription('STARTER', NULL)$$),
               (5, $$SELECT balatrix.quote_subscription('STARTER', 'monthly', '{"EXTRA_FAX": 1}')$$),
               (6, $$SELECT balatrix.quote_subscription('STARTER', 'monthly', '{"OLD_ADDON": 1}')$$),
               (7, $$SELECT balatrix.quote_subscription('STARTER', 'monthly', '{"EXTRA_TFN": 4}')$$),
               (8, $$SELECT balatrix.quote_subscription('STARTER', 'monthly', '{"EXTRA_TFN": -1}')$$),
               (9, $$SELECT balatrix.quote_subscription('STARTER', 'monthly', '{"EXTRA_TFN": 1.5}')$$),
               (10, $$SELECT balatrix.quote_subscription('STARTER', 'monthly', '{"EXTRA_TFN": "2"}')$$),
               (11, $$SELECT balatrix.quote_subscription('STARTER', 'monthly', '["EXTRA_TFN"]')$$),
               (12, $$SELECT balatrix.quote_subscription('STARTER', 'monthly', '{}', '00000000-0000-4000-8000-00000000ffff')$$),
               (13, $$SELECT balatrix.quote_subscription('STARTER', 'monthly', '{}', '00000000-0000-4000-8000-0000000000aa')$$),
               (14, $$SET LOCAL balatrix.supplier_state_code = '99'$$),
               (15, $$SET LOCAL balatrix.supplier_state_code = 'KA'$$),
               (16, $$SET LOCAL balatrix.supplier_gstin = '27AAPFU0939F1ZW'$$)) AS v (n, stmt)
 ORDER BY v.n;
ROLLBACK;

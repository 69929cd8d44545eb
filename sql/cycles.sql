--
-- Subscriptions and billing cycles, Kill Bill style: one timeline, the clock fixed by the dates
-- passed in, every invoice line asserted as (from, to, kind, amount, tax heads). Every amount is
-- worked out by hand in the comment above the query that prints it.
--
-- Invoice numbers: documents issued by one cycle run are numbered in subscription-id order (ids are
-- random), so line listings print the series and financial year only; the numbering itself is
-- checked at the end (consecutive from 1 in every series and year).
--
SET timezone = 'Asia/Kolkata';
SET client_min_messages = warning;
BEGIN;
SELECT balatrix.install_default_catalogue() > 0 AS catalogue;
-- Error messages name subscriptions by number: a fixed start keeps them stable (a sequence does not
-- roll back, and other tests draw from it).
SELECT setval('balatrix.subscription_number_seq', 1000, false) > 0 AS numbered;
SELECT count(*) > 0 AS partitions FROM balatrix.create_cdr_partitions(18, '2026-01-01');

-- Customers: Karnataka (the supplier's State: CGST + SGST), Maharashtra (IGST), Chandigarh (a UT,
-- but the supplier is in Karnataka: IGST), a tax-exempt one, and a B2B one with a GSTIN. Each has
-- a postpaid account named after its scenario.
INSERT INTO balatrix.customers (id, name, billing_state_code, tax_exempt, gstin, company_name) VALUES
    ('00000000-0000-4000-8000-00000000c001', 'S1 trial and overage (KA)', '29', false, NULL, NULL),
    ('00000000-0000-4000-8000-00000000c002', 'S2 Jan 31 (MH)', '27', false, NULL, NULL),
    ('00000000-0000-4000-8000-00000000c003', 'S3 upgrade (CH)', '04', false, NULL, NULL),
    ('00000000-0000-4000-8000-00000000c004', 'S4 downgrade at period end (KA)', '29', false, NULL, NULL),
    ('00000000-0000-4000-8000-00000000c005', 'S5 downgrade now (KA)', '29', false, NULL, NULL),
    ('00000000-0000-4000-8000-00000000c006', 'S6 exempt, cancel at period end', '29', true, NULL, NULL),
    ('00000000-0000-4000-8000-00000000c007', 'S7 annual B2B, cancel now', '29', false, '29AAGCB7383J1Z4', 'Buyer Pvt Ltd'),
    ('00000000-0000-4000-8000-00000000c008', 'S8 DID mid-cycle (KA)', '29', false, NULL, NULL),
    ('00000000-0000-4000-8000-00000000c009', 'S9 dunning (KA)', '29', false, NULL, NULL);
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type, credit_limit)
SELECT ('00000000-0000-4000-8000-00000000a' || right(c.id::text, 3))::uuid, c.id, 'S' || right(c.id::text, 1), 'postpaid', 100000
  FROM balatrix.customers c;

-- The lines of a customer's documents, and their totals.
CREATE TEMP VIEW lines AS
SELECT c.name AS customer, i.document_type AS doc, left(i.invoice_number, 8) AS series_fy, i.issue_date,
       i.billing_reason AS reason, l.line_no AS no, l.kind,
       (l.period_start AT TIME ZONE 'Asia/Kolkata')::date AS "from", (l.period_end AT TIME ZONE 'Asia/Kolkata')::date AS "to",
       l.taxable_value AS amount, l.cgst, l.sgst, l.utgst, l.igst
  FROM balatrix.invoices i JOIN balatrix.invoice_lines l ON l.invoice_id = i.id JOIN balatrix.customers c ON c.id = i.customer_id;
CREATE TEMP VIEW docs AS
SELECT c.name AS customer, i.document_type AS doc, left(i.invoice_number, 8) AS series_fy, i.issue_date, i.due_date,
       i.taxable_total AS taxable, i.tax_total AS tax, i.total, i.status, i.amount_paid AS paid, i.amount_credited AS credited
  FROM balatrix.invoices i JOIN balatrix.customers c ON c.id = i.customer_id;
CREATE TEMP VIEW subs AS
SELECT c.name AS customer, s.status, p.code AS plan, s.billing_cycle AS cycle, s.anchor_day,
       (s.current_period_start AT TIME ZONE 'Asia/Kolkata')::date AS period_start,
       (s.current_period_end AT TIME ZONE 'Asia/Kolkata')::date AS period_end,
       (SELECT q.code FROM balatrix.rate_plans q WHERE q.id = s.pending_rate_plan_id) AS pending_plan
  FROM balatrix.subscriptions s JOIN balatrix.customers c ON c.id = s.customer_id JOIN balatrix.rate_plans p ON p.id = s.rate_plan_id;
-- "Everyone but S9 pays what they owe": so that only S9 meets the dunning sweep.
CREATE TEMP VIEW pay_up AS
SELECT count(balatrix.record_payment(i.id, i.total - i.amount_paid - i.amount_credited, 'bank_transfer', NULL, i.issue_date)) AS paid
  FROM (SELECT x.* FROM balatrix.invoices x
         WHERE x.customer_id <> '00000000-0000-4000-8000-00000000c009' AND x.document_type = 'tax_invoice'
           AND x.status IN ('issued', 'partially_paid', 'overdue') AND x.total - x.amount_paid - x.amount_credited > 0
         ORDER BY x.invoice_number) i;

-- ---------------------------------------------------------------------------------------------
-- 2026-01-01. S7 subscribes to Starter annually, no trial, and is activated: one period of a year.
-- Annual = 12 x 349.00 x 0.8 = 3350.40; intra-State: CGST 9 % = 301.536 -> 301.54, SGST the same;
-- total 3953.48. A GSTIN: a B2B invoice carrying it.
SELECT balatrix.create_subscription('00000000-0000-4000-8000-00000000a007', 'STARTER', 'annual', '2026-01-01', false) AS s7 \gset
SELECT status FROM balatrix.subscriptions WHERE id = :'s7';
SELECT balatrix.activate_subscription(:'s7', '2026-01-01') IS NOT NULL AS invoiced;
SELECT * FROM subs WHERE customer LIKE 'S7%';
SELECT doc, series_fy, issue_date, reason, no, kind, "from", "to", amount, cgst, sgst, utgst, igst FROM lines WHERE customer LIKE 'S7%' ORDER BY issue_date, doc, no;
SELECT i.customer_gstin, i.place_of_supply_state_code, i.total, i.due_date FROM balatrix.invoices i
 WHERE i.customer_id = '00000000-0000-4000-8000-00000000c007';

-- 2026-01-31. S2 (Maharashtra) subscribes to Starter monthly on the 31st: the periods keep the
-- anchor day, clamped to the month's end. First period [31 Jan, 28 Feb). IGST 18 % of 349.00 =
-- 62.82, total 411.82.
SELECT balatrix.create_subscription('00000000-0000-4000-8000-00000000a002', 'STARTER', 'monthly', '2026-01-31', trial => false) AS s2 \gset
SELECT balatrix.activate_subscription(:'s2', '2026-01-31') IS NOT NULL AS invoiced;
SELECT * FROM subs WHERE customer LIKE 'S2%';

-- 2026-02-01. S1 subscribes to Starter with its 7-day trial: the trial is the period [1 Feb, 8 Feb),
-- free; the anchor day becomes the 8th.
SELECT balatrix.create_subscription('00000000-0000-4000-8000-00000000a001', 'STARTER', 'monthly', '2026-02-01') AS s1 \gset
SELECT * FROM subs WHERE customer LIKE 'S1%';
-- The cycle of 7 Feb finds nothing due; that of 8 Feb converts the trial: [8 Feb, 8 Mar), 411.82.
SELECT due, processed, trials_converted, renewed, invoices, failed, remaining FROM balatrix.run_billing_cycle('2026-02-07');
SELECT due, processed, trials_converted, renewed, invoices, failed, remaining FROM balatrix.run_billing_cycle('2026-02-08');
SELECT * FROM subs WHERE customer LIKE 'S1%';

-- 2026-02-10. S1 calls: three calls to India of 50 min (3000 s each, 60/60): 100 min included, 50 min
-- beyond at 1.99 = 99.50; one call to the UK of 10 min at 6.00 = 60.00, outside the allowance.
INSERT INTO balatrix.cdr (accountcode, destination_number, start_stamp, answer_stamp, end_stamp, billsec, uuid)
SELECT 'S1', '9845012345', '2026-02-10 10:00:00', '2026-02-10 10:00:00', '2026-02-10 10:50:00', '3000', 's1-call-' || g
  FROM generate_series(1, 3) g;
INSERT INTO balatrix.cdr (accountcode, destination_number, start_stamp, answer_stamp, end_stamp, billsec, uuid)
VALUES ('S1', '00442079460000', '2026-02-10 12:00:00', '2026-02-10 12:00:00', '2026-02-10 12:10:00', '600', 's1-call-uk');
SELECT included_seconds, included_used_seconds, overage_seconds, overage_charge, other_charge
  FROM balatrix.subscription_usage WHERE subscription_id = :'s1';

-- 2026-02-28. S2 renews: [28 Feb, 31 Mar), 411.82 (IGST 62.82).
SELECT due, processed, trials_converted, renewed, invoices, failed, remaining FROM balatrix.run_billing_cycle('2026-02-28');
SELECT * FROM subs WHERE customer LIKE 'S2%';

-- 2026-03-01. Five subscriptions start, no trial, activated at once:
--   S3 (Chandigarh) Starter: IGST 62.82, total 411.82;
--   S4 and S5 (Karnataka) Professional: 999.00, CGST 89.91 + SGST 89.91, total 1178.82;
--   S6 (exempt) Starter: no GST, 349.00;
--   S8 (Karnataka) Starter, with toll-free number 18001230001 (the plan includes one);
--   S9 (Karnataka) Starter: 411.82, due 16 Mar.
SELECT balatrix.activate_subscription(balatrix.create_subscription(a.id, a.plan, 'monthly', '2026-03-01', false), '2026-03-01') IS NOT NULL AS invoiced
  FROM (VALUES ('00000000-0000-4000-8000-00000000a003'::uuid, 'STARTER'), ('00000000-0000-4000-8000-00000000a004', 'PROFESSIONAL'),
               ('00000000-0000-4000-8000-00000000a005', 'PROFESSIONAL'), ('00000000-0000-4000-8000-00000000a006', 'STARTER'),
               ('00000000-0000-4000-8000-00000000a008', 'STARTER'), ('00000000-0000-4000-8000-00000000a009', 'STARTER')) a (id, plan)
 ORDER BY a.id;
SELECT id AS s3 FROM balatrix.subscriptions WHERE account_id = '00000000-0000-4000-8000-00000000a003' \gset
SELECT id AS s4 FROM balatrix.subscriptions WHERE account_id = '00000000-0000-4000-8000-00000000a004' \gset
SELECT id AS s5 FROM balatrix.subscriptions WHERE account_id = '00000000-0000-4000-8000-00000000a005' \gset
SELECT id AS s6 FROM balatrix.subscriptions WHERE account_id = '00000000-0000-4000-8000-00000000a006' \gset
SELECT id AS s8 FROM balatrix.subscriptions WHERE account_id = '00000000-0000-4000-8000-00000000a008' \gset
SELECT id AS s9 FROM balatrix.subscriptions WHERE account_id = '00000000-0000-4000-8000-00000000a009' \gset
INSERT INTO balatrix.dids (id, number, status, customer_id, account_id, subscription_id, assigned_at)
VALUES ('00000000-0000-4000-8000-00000000d001', '18001230001', 'assigned', '00000000-0000-4000-8000-00000000c008',
        '00000000-0000-4000-8000-00000000a008', :'s8', '2026-03-01 00:00+05:30');
INSERT INTO balatrix.did_assignments (did_id, customer_id, account_id, subscription_id, monthly_rent, assigned_at)
VALUES ('00000000-0000-4000-8000-00000000d001', '00000000-0000-4000-8000-00000000c008', '00000000-0000-4000-8000-00000000a008',
        :'s8', 199.00, '2026-03-01 00:00+05:30');
SELECT customer, doc, series_fy, issue_date, due_date, taxable, tax, total, status FROM docs
 WHERE issue_date = '2026-03-01' ORDER BY customer;

-- 2026-03-05. S3 calls India for 10 min: within its 100 included minutes (usage row: 6000 s).
INSERT INTO balatrix.cdr (accountcode, destination_number, start_stamp, answer_stamp, end_stamp, billsec, uuid)
VALUES ('S3', '9876543210', '2026-03-05 09:00:00', '2026-03-05 09:00:00', '2026-03-05 09:10:00', '600', 's3-call-1');

-- 2026-03-08. S1 renews: the plan in advance for [8 Mar, 8 Apr), the calls of [8 Feb, 8 Mar) in
-- arrears: 349.00 (CGST 31.41), overage 99.50 (9 % = 8.955 -> 8.96), other calls 60.00 (5.40).
-- Taxable 508.50, CGST = SGST = 45.77, total 600.04. A second run for the same date does nothing.
SELECT due, processed, trials_converted, renewed, invoices, failed, remaining FROM balatrix.run_billing_cycle('2026-03-08');
SELECT due, processed, trials_converted, renewed, invoices, failed, remaining FROM balatrix.run_billing_cycle('2026-03-08');
SELECT doc, series_fy, issue_date, reason, no, kind, "from", "to", amount, cgst, sgst, utgst, igst FROM lines WHERE customer LIKE 'S1%' ORDER BY issue_date, doc, no;
SELECT customer, doc, series_fy, issue_date, taxable, tax, total, status FROM docs WHERE customer LIKE 'S1%' ORDER BY issue_date;
-- The account owes both invoices: -411.82 - 600.04 = -1011.86 (the calls were debited one by one,
-- 159.50, and credited back when the invoice billed them).
SELECT a.balance FROM balatrix.accounts a WHERE a.id = '00000000-0000-4000-8000-00000000a001';
SELECT entry_type, amount, balance_after FROM balatrix.ledger WHERE account_id = '00000000-0000-4000-8000-00000000a001' ORDER BY id;

-- 2026-03-09. A call of S1 from 5 Mar arrives late (the switch was down): 2 min to India, in the
-- period already invoiced, whose allowance is used up: 2 x 1.99 = 3.98 of overage, billed on the
-- next invoice.
INSERT INTO balatrix.cdr (accountcode, destination_number, start_stamp, answer_stamp, end_stamp, billsec, uuid)
VALUES ('S1', '9845012345', '2026-03-05 18:00:00', '2026-03-05 18:00:00', '2026-03-05 18:02:00', '120', 's1-call-late');

-- 2026-03-10. S4 downgrades to Starter: by default at the period end (nothing now, the plan waits).
SELECT balatrix.change_subscription_plan(:'s4', 'STARTER', '2026-03-10') AS document;
SELECT * FROM subs WHERE customer LIKE 'S4%';

-- 2026-03-11. S5 downgrades to Starter at once: 21 of 31 days left. Unused Professional 999 x 21 / 31
-- = 676.7419 -> 676.74; Starter for them 349 x 21 / 31 = 236.4194 -> 236.42; difference -440.32: a
-- credit note for 440.32, CGST 9 % = 39.6288 -> 39.63 + SGST 39.63, total 519.58, against the
-- period's invoice (unpaid: all of it is credited, 1178.82 - 519.58 = 659.24 still owed).
SELECT balatrix.change_subscription_plan(:'s5', 'STARTER', '2026-03-11', 'immediate') IS NOT NULL AS credit_note;
SELECT doc, series_fy, issue_date, reason, no, kind, "from", "to", amount, cgst, sgst, utgst, igst FROM lines WHERE customer LIKE 'S5%' ORDER BY issue_date, doc, no;
SELECT customer, doc, series_fy, total, status, paid, credited FROM docs WHERE customer LIKE 'S5%' ORDER BY doc DESC;
-- And S8 gets a second toll-free number, beyond the one its plan includes.
INSERT INTO balatrix.dids (id, number, status, customer_id, account_id, subscription_id, assigned_at)
VALUES ('00000000-0000-4000-8000-00000000d002', '18001230002', 'assigned', '00000000-0000-4000-8000-00000000c008',
        '00000000-0000-4000-8000-00000000a008', :'s8', '2026-03-11 00:00+05:30');
INSERT INTO balatrix.did_assignments (did_id, customer_id, account_id, subscription_id, monthly_rent, assigned_at)
VALUES ('00000000-0000-4000-8000-00000000d002', '00000000-0000-4000-8000-00000000c008', '00000000-0000-4000-8000-00000000a008',
        :'s8', 199.00, '2026-03-11 00:00+05:30');

-- 2026-03-13. Everyone but S9 pays. The dunning sweep reminds S9 (due 16 Mar, 3 days ahead).
SELECT paid FROM pay_up;
SELECT reminders, overdue, suspended FROM balatrix.run_dunning('2026-03-13');
-- 2026-03-16: due today, not overdue yet. 2026-03-17: overdue.
SELECT reminders, overdue, suspended FROM balatrix.run_dunning('2026-03-16');
SELECT reminders, overdue, suspended FROM balatrix.run_dunning('2026-03-17');
SELECT customer, series_fy, due_date, total, status FROM docs WHERE customer LIKE 'S9%';

-- 2026-03-17. S3 upgrades to Professional at once: 15 of 31 days left. Unused Starter 349 x 15 / 31
-- = 168.8710 -> 168.87; Professional 999 x 15 / 31 = 483.3871 -> 483.39; charge 314.52, IGST 18 % =
-- 56.6136 -> 56.61, total 371.13. Its period's allowance becomes Professional's 500 min = 30000 s.
SELECT balatrix.change_subscription_plan(:'s3', 'PROFESSIONAL', '2026-03-17') IS NOT NULL AS invoiced;
SELECT doc, series_fy, issue_date, reason, no, kind, "from", "to", amount, cgst, sgst, utgst, igst FROM lines WHERE customer LIKE 'S3%' ORDER BY issue_date, doc, no;
SELECT included_seconds, included_used_seconds FROM balatrix.subscription_usage WHERE subscription_id = :'s3';

-- 2026-03-20. S6 cancels at the end of its period; 2026-03-25 it calls the UK for 5 min: 30.00.
SELECT balatrix.cancel_subscription(:'s6', true, 'moving to another provider', '2026-03-20') AS document;
INSERT INTO balatrix.cdr (accountcode, destination_number, start_stamp, answer_stamp, end_stamp, billsec, uuid)
VALUES ('S6', '00442079460000', '2026-03-25 11:00:00', '2026-03-25 11:00:00', '2026-03-25 11:05:00', '300', 's6-call-uk');

-- 2026-03-31. S2 renews on its anchor day: [31 Mar, 30 Apr).
SELECT due, processed, renewed, invoices, failed FROM balatrix.run_billing_cycle('2026-03-31');
SELECT * FROM subs WHERE customer LIKE 'S2%';

-- 2026-04-01 (a new financial year: numbers INV/2627/...). Everyone but S9 pays; S9's invoice has
-- been overdue 16 days (15 allowed): suspended, so the cycle does not renew it.
SELECT paid FROM pay_up;
SELECT reminders, overdue, suspended FROM balatrix.run_dunning('2026-04-01');
-- Due: S3, S4, S5, S6, S8 (S9 is suspended).
SELECT due, processed, renewed, cancelled, invoices, failed, remaining FROM balatrix.run_billing_cycle('2026-04-01');
SELECT due, processed, renewed, cancelled, invoices, failed, remaining FROM balatrix.run_billing_cycle('2026-04-01');
SELECT * FROM subs ORDER BY customer;
-- S3: Professional 999.00 for [1 Apr, 1 May), IGST 179.82.
-- S4: the waiting downgrade applies: Starter 349.00, CGST 31.41 + SGST 31.41.
-- S5: Starter 349.00 (changed on 11 Mar).
-- S6: cancelled; the final invoice bills the UK call in arrears: 30.00, no GST (exempt).
-- S8: Starter 349.00 (31.41); the second number in advance, 199.00 (17.91); and prorated for
--     [11 Mar, 1 Apr), 21 of 31 days: 199 x 21 / 31 = 134.8065 -> 134.81 (9 % = 12.1329 -> 12.13).
--     Taxable 682.81, CGST = SGST = 61.45, total 805.71.
SELECT customer, doc, series_fy, reason, no, kind, "from", "to", amount, cgst, sgst, utgst, igst FROM lines
 WHERE issue_date = '2026-04-01' ORDER BY customer, doc, no;
SELECT customer, doc, series_fy, taxable, tax, total, status FROM docs WHERE issue_date = '2026-04-01' ORDER BY customer;

-- 2026-04-02. S9 pays its overdue invoice: it is paid, and the subscription resumes. Its period ended
-- while suspended, so that time is not billed: a new period [2 Apr, 2 May), 411.82.
SELECT balatrix.record_payment(i.id, 411.82, 'manual', NULL, '2026-04-02') IS NOT NULL AS paid
  FROM balatrix.invoices i WHERE i.customer_id = '00000000-0000-4000-8000-00000000c009';
SELECT customer, series_fy, issue_date, due_date, total, status, paid FROM docs WHERE customer LIKE 'S9%' ORDER BY issue_date;
SELECT * FROM subs WHERE customer LIKE 'S9%';
SELECT e.event_type, e.payload->>'reason' AS reason FROM balatrix.event_outbox e
 WHERE e.customer_id = '00000000-0000-4000-8000-00000000c009' ORDER BY e.id;

-- 2026-04-08. S1 renews: Starter 349.00 for [8 Apr, 8 May), and the late call of the period already
-- invoiced: 3.98 (9 % = 0.3582 -> 0.36). Taxable 352.98, CGST = SGST = 31.77, total 416.52.
SELECT due, processed, renewed, invoices FROM balatrix.run_billing_cycle('2026-04-08');
SELECT doc, series_fy, issue_date, reason, no, kind, "from", "to", amount, cgst, sgst, utgst, igst FROM lines
 WHERE customer LIKE 'S1%' AND issue_date = '2026-04-08' ORDER BY no;
SELECT included_seconds, included_used_seconds, overage_seconds, overage_charge, billed_overage_charge, other_charge, billed_other_charge
  FROM balatrix.subscription_usage WHERE subscription_id = :'s1' ORDER BY period_start;

-- 2026-04-30. S2 renews on the 30th (anchor 31, April has 30 days): [30 Apr, 31 May).
SELECT due, processed, renewed, invoices FROM balatrix.run_billing_cycle('2026-04-30');
SELECT * FROM subs WHERE customer LIKE 'S2%';
SELECT series_fy, issue_date, reason, kind, "from", "to", amount, igst FROM lines WHERE customer LIKE 'S2%' ORDER BY issue_date, no;

-- 2026-07-01. S7 cancels its annual plan at once (paid in full on 13 Mar). 184 of 365 days unused:
-- 3350.40 x 184 / 365 = 1688.9688 -> 1688.97, CGST 9 % = 152.0073 -> 152.01 + SGST, a credit note of
-- 1992.99. The invoice is paid, nothing of it is outstanding: the credit stays on the account.
SELECT balatrix.cancel_subscription(:'s7', false, 'closing the business', '2026-07-01') IS NOT NULL AS credit_note;
SELECT doc, series_fy, issue_date, reason, no, kind, "from", "to", amount, cgst, sgst, utgst, igst FROM lines WHERE customer LIKE 'S7%' ORDER BY issue_date, doc, no;
SELECT customer, doc, total, status, paid, credited FROM docs WHERE customer LIKE 'S7%' ORDER BY doc DESC;
SELECT a.balance FROM balatrix.accounts a WHERE a.id = '00000000-0000-4000-8000-00000000a007';
SELECT * FROM subs WHERE customer LIKE 'S7%';

-- Illegal transitions and bad input raise, and change nothing.
\set VERBOSITY terse
SAVEPOINT bad;
SELECT balatrix.activate_subscription(:'s7', '2026-07-02');
ROLLBACK TO bad;
SELECT balatrix.cancel_subscription(:'s6');
ROLLBACK TO bad;
SELECT balatrix.resume_subscription(:'s1');
ROLLBACK TO bad;
SELECT balatrix.suspend_subscription(:'s7');
ROLLBACK TO bad;
SELECT balatrix.renew_subscription(:'s1', '2026-04-20');
ROLLBACK TO bad;
SELECT balatrix.change_subscription_plan(:'s1', 'STARTER', '2026-04-20');
ROLLBACK TO bad;
SELECT balatrix.change_subscription_plan(:'s1', 'NO_SUCH_PLAN', '2026-04-20');
ROLLBACK TO bad;
SELECT balatrix.change_subscription_plan(:'s1', 'PROFESSIONAL', '2026-06-01');
ROLLBACK TO bad;
SELECT balatrix.change_subscription_plan(:'s1', 'PROFESSIONAL', '2026-04-20', 'someday');
ROLLBACK TO bad;
SELECT balatrix.create_subscription('00000000-0000-4000-8000-00000000a001', 'STARTER');
ROLLBACK TO bad;
SELECT balatrix.create_subscription('00000000-0000-4000-8000-00000000a006', 'STARTER', 'weekly');
ROLLBACK TO bad;
SELECT balatrix.create_subscription('00000000-0000-4000-8000-00000000a006', 'STARTER', 'monthly', addons => '{"EXTRA_TFN": -1}');
ROLLBACK TO bad;
SELECT balatrix.create_subscription('00000000-0000-4000-8000-00000000dead', 'STARTER');
ROLLBACK TO bad;
SELECT balatrix.renew_subscription('00000000-0000-4000-8000-00000000dead');
ROLLBACK TO bad;
SELECT balatrix.record_payment(i.id, 10.00) FROM balatrix.invoices i
 WHERE i.customer_id = '00000000-0000-4000-8000-00000000c007' AND i.document_type = 'credit_note';
ROLLBACK TO bad;
SELECT balatrix.record_payment(i.id, 0.001) FROM balatrix.invoices i
 WHERE i.customer_id = '00000000-0000-4000-8000-00000000c001' ORDER BY i.issue_date DESC LIMIT 1;
ROLLBACK TO bad;
SELECT balatrix.run_billing_cycle('2026-04-08', 0);
ROLLBACK TO bad;
\set VERBOSITY default

-- Money: every account's balance equals its ledger (check_ledger() is empty), and is minus what the
-- customer owes plus any credit left: S7 +1992.99 (paid in full, then credited); S1 owes 416.52
-- (8 Apr); S2 411.82 (30 Apr; the others were paid); S9 411.82 (2 Apr); S3 1178.82, S4 411.82, S5
-- 411.82, S8 805.71 (1 Apr); S6 its final 30.00.
SELECT count(*) AS ledger_faults FROM balatrix.check_ledger();
SELECT c.name, a.balance,
       (SELECT coalesce(sum(i.total - i.amount_paid - i.amount_credited), 0) FROM balatrix.invoices i
         WHERE i.account_id = a.id AND i.document_type <> 'credit_note' AND i.status <> 'void') AS outstanding
  FROM balatrix.accounts a JOIN balatrix.customers c ON c.id = a.customer_id ORDER BY c.name;

-- Numbering: every series and financial year counts from 1 with no gap and no duplicate.
SELECT series, financial_year, count(*) AS documents,
       min(right(invoice_number, 6)::int) AS first, max(right(invoice_number, 6)::int) AS last,
       count(DISTINCT invoice_number) = count(*) AS unique_numbers
  FROM balatrix.invoices WHERE invoice_number IS NOT NULL GROUP BY series, financial_year ORDER BY series, financial_year;

-- Every cycle run left its job_runs row.
SELECT job, as_of, status, counts->>'processed' AS processed, counts->>'invoices' AS invoices
  FROM balatrix.job_runs ORDER BY id;
ROLLBACK;

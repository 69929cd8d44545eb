-- Invoices: drafts, lines with their own tax heads, numbering per series and financial year, issue,
-- void, immutability. Every amount below is worked out by hand in the comment above it.
SET timezone = 'Asia/Kolkata';
SET client_min_messages = warning;
BEGIN;
SELECT balatrix.install_default_catalogue() > 0 AS catalogue;
INSERT INTO balatrix.customers (id, name, billing_state_code, billing_address, billing_city, billing_pincode) VALUES
    ('00000000-0000-4000-8000-0000000f0001', 'Karnataka Traders', '29', '12 MG Road', 'Bengaluru', '560001'),
    ('00000000-0000-4000-8000-0000000f0002', 'Mumbai Exports', '27', '4 Marine Drive', 'Mumbai', '400020'),
    ('00000000-0000-4000-8000-0000000f0003', 'Chandigarh Clinic', '04', 'Sector 17', 'Chandigarh', '160017');
INSERT INTO balatrix.customers (id, name, billing_state_code, tax_exempt) VALUES
    ('00000000-0000-4000-8000-0000000f0004', 'Exempt Trust', '29', true);
INSERT INTO balatrix.customers (id, name, company_name, billing_state_code, gstin) VALUES
    ('00000000-0000-4000-8000-0000000f0005', 'B. Buyer', 'Buyer Pvt Ltd', '29', '29AAGCB7383J1Z4');
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type)
SELECT ('00000000-0000-4000-8000-0000000f01' || right(c.id::text, 2))::uuid, c.id, 'INV' || right(c.id::text, 1), 'postpaid'
  FROM balatrix.customers c WHERE c.id::text LIKE '00000000-0000-4000-8000-0000000f000_';

-- T15, intra-State (Karnataka): Starter 349.00 -> CGST 31.41 + SGST 31.41; overage 50 min x 1.99
-- = 99.50 -> 8.955 -> CGST 8.96 + SGST 8.96. Totals: taxable 448.50, tax 80.74 (the sum of the
-- rounded heads: the original reported 80.73 by rounding the total separately, T14), total 529.24.
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000f0101', period_start => '2025-10-01', period_end => '2025-11-01') AS ka \gset
SELECT balatrix.add_invoice_line(:'ka', 'plan', 'Starter, October 2025', 1, 349.00) > 0 AS plan_line;
SELECT balatrix.add_invoice_line(:'ka', 'overage', 'Calls beyond the 100 included minutes', 50, 1.99) > 0 AS overage_line;
-- T15, inter-State (Maharashtra): IGST 62.82 + 17.91 = 80.73, total 529.23.
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000f0102') AS mh \gset
SELECT balatrix.add_invoice_line(:'mh', 'plan', 'Starter, October 2025', 1, 349.00) > 0 AS plan_line;
SELECT balatrix.add_invoice_line(:'mh', 'overage', 'Calls beyond the 100 included minutes', 50, 1.99) > 0 AS overage_line;
-- Chandigarh (04) from a Karnataka supplier is inter-State: IGST 62.82, total 411.82.
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000f0103') AS ch \gset
SELECT balatrix.add_invoice_line(:'ch', 'plan', 'Starter, October 2025', 1, 349.00) > 0 AS plan_line;
-- Tax exempt: no tax at all, rate 0 on the line, total 349.00.
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000f0104') AS ex \gset
SELECT balatrix.add_invoice_line(:'ex', 'plan', 'Starter, October 2025', 1, 349.00) > 0 AS plan_line;
-- B2B with a GSTIN: Professional 999.00 -> CGST 89.91 + SGST 89.91, total 1178.82 (T2).
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000f0105') AS b2b \gset
SELECT balatrix.add_invoice_line(:'b2b', 'plan', 'Professional, October 2025', 1, 999.00) > 0 AS plan_line;

SELECT c.name, l.line_no, l.kind, l.quantity, l.unit_price, l.sac, l.taxable_value, l.gst_rate, l.cgst, l.sgst, l.utgst, l.igst
  FROM balatrix.invoice_lines l JOIN balatrix.customers c ON c.id = l.customer_id ORDER BY c.name, l.line_no;
SELECT c.name, i.status, i.customer_name, i.customer_gstin, i.supplier_state_code, i.place_of_supply_state_code, i.tax_exempt,
       i.taxable_total, i.cgst_total, i.sgst_total, i.utgst_total, i.igst_total, i.tax_total, i.round_off, i.total
  FROM balatrix.invoices i JOIN balatrix.customers c ON c.id = i.customer_id ORDER BY c.name;

-- Issue: consecutive numbers of series INV in FY 2025-26, in the order issued; due 15 days later.
SELECT balatrix.issue_invoice(:'ka', '2025-11-01') AS ka_number;
SELECT balatrix.issue_invoice(:'mh', '2025-11-01') AS mh_number;
SELECT balatrix.issue_invoice(:'ch', '2025-11-02') AS ch_number;
SELECT balatrix.issue_invoice(:'ex', '2026-03-31') AS ex_number;
-- 1 April starts FY 2026-27: the series starts again at 1.
SELECT balatrix.issue_invoice(:'b2b', '2026-04-01') AS b2b_number;
SELECT invoice_number, status, financial_year, issue_date, due_date, total FROM balatrix.invoices ORDER BY issued_at, invoice_number;
SELECT series, financial_year, last_number FROM balatrix.invoice_number_series ORDER BY series, financial_year;
SELECT event_type, payload->>'invoice_number' AS number, payload->'total' AS total FROM balatrix.event_outbox
 WHERE event_type LIKE 'invoice.%' ORDER BY id;

-- Immutable once issued.
\set VERBOSITY terse
SAVEPOINT s;
SELECT balatrix.add_invoice_line(:'ka', 'adjustment', 'late change', 1, 10);
ROLLBACK TO s;
UPDATE balatrix.invoices SET total = 1 WHERE id = :'ka';
ROLLBACK TO s;
UPDATE balatrix.invoices SET customer_name = 'Someone Else' WHERE id = :'ka';
ROLLBACK TO s;
UPDATE balatrix.invoice_lines SET taxable_value = 1 WHERE invoice_id = :'ka';
ROLLBACK TO s;
DELETE FROM balatrix.invoice_lines WHERE invoice_id = :'ka';
ROLLBACK TO s;
DELETE FROM balatrix.invoices WHERE id = :'ka';
ROLLBACK TO s;
UPDATE balatrix.invoices SET status = 'draft' WHERE id = :'ka';
ROLLBACK TO s;
SELECT balatrix.issue_invoice(:'ka');
ROLLBACK TO s;
-- The settlement columns may move.
UPDATE balatrix.invoices SET status = 'partially_paid', amount_paid = 100.00 WHERE id = :'ka';
SELECT invoice_number, status, amount_paid FROM balatrix.invoices WHERE id = :'ka';

-- Bad drafts and lines change nothing.
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000f0101') AS draft \gset
SAVEPOINT s2;
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-00000000dead');
ROLLBACK TO s2;
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000f0101', 'receipt');
ROLLBACK TO s2;
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000f0101', 'credit_note');
ROLLBACK TO s2;
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000f0101', 'tax_invoice', original_invoice => :'ka');
ROLLBACK TO s2;
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000f0102', 'credit_note', original_invoice => :'ka');
ROLLBACK TO s2;
SELECT balatrix.add_invoice_line(:'draft', 'plan', 'negative plan', 1, -349.00);
ROLLBACK TO s2;
SELECT balatrix.add_invoice_line(:'draft', 'plan', '', 1, 349.00);
ROLLBACK TO s2;
SELECT balatrix.add_invoice_line(:'draft', 'plan', 'bad quantity', -1, 349.00);
ROLLBACK TO s2;
SELECT balatrix.issue_invoice(:'draft');
ROLLBACK TO s2;
-- A discount larger than the charge: a negative tax invoice is refused (issue a credit note).
SELECT balatrix.add_invoice_line(:'draft', 'plan', 'Starter', 1, 349.00) > 0 AS plan_line;
SELECT balatrix.add_invoice_line(:'draft', 'discount', 'Goodwill', 1, -400.00) > 0 AS discount_line;
ROLLBACK TO s2;
\set VERBOSITY default

-- A credit note for the Karnataka invoice: series CN with its own numbers, the invoice's place of
-- supply; its lines are the amounts credited: 50 min x 1.99 = 99.50 -> CGST 8.96 + SGST 8.96,
-- total 117.42; due on its issue date.
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000f0101', 'credit_note', original_invoice => :'ka') AS cn \gset
SELECT balatrix.add_invoice_line(:'cn', 'overage', 'Overage charged in error', 50, 1.99) > 0 AS credit_line;
SELECT balatrix.issue_invoice(:'cn', '2025-11-20') AS cn_number;
SELECT document_type, invoice_number, place_of_supply_state_code, taxable_total, cgst_total, sgst_total, total, due_date
  FROM balatrix.invoices WHERE id = :'cn';
-- It settles as much of the invoice as is outstanding: 529.24 - 100.00 paid = 429.24 >= 117.42, so
-- all of it (amount_credited 117.42; still partially paid). The account: -529.24 (INV/2526/000001)
-- + 117.42 (the note) = -411.82; the ledger agrees.
SELECT invoice_number, status, amount_paid, amount_credited FROM balatrix.invoices WHERE id = :'ka';
SELECT a.balance, (SELECT count(*) FROM balatrix.check_ledger()) AS ledger_faults
  FROM balatrix.accounts a WHERE a.id = '00000000-0000-4000-8000-0000000f0101';

-- Void: the number stays used; a voided invoice cannot be voided again or revived.
SELECT balatrix.void_invoice(:'ch', 'issued to the wrong customer');
SELECT invoice_number, status, void_reason FROM balatrix.invoices WHERE id = :'ch';
\set VERBOSITY terse
SAVEPOINT s3;
SELECT balatrix.void_invoice(:'ch', 'again');
ROLLBACK TO s3;
UPDATE balatrix.invoices SET status = 'issued' WHERE id = :'ch';
ROLLBACK TO s3;
SELECT balatrix.void_invoice(:'ka', 'partly paid');
ROLLBACK TO s3;
SELECT balatrix.void_invoice(:'mh', '');
ROLLBACK TO s3;
\set VERBOSITY default

-- A supplier registered in Chandigarh (a UT without legislature) billing a Chandigarh customer:
-- CGST 31.41 + UTGST 31.41 on 349.00, total 411.82.
SET LOCAL balatrix.supplier_state_code = '04';
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000f0103') AS ut \gset
SELECT balatrix.add_invoice_line(:'ut', 'plan', 'Starter', 1, 349.00) > 0 AS plan_line;
SELECT supplier_state_code, place_of_supply_state_code, cgst_total, sgst_total, utgst_total, igst_total, total
  FROM balatrix.invoices WHERE id = :'ut';
RESET balatrix.supplier_state_code;

-- Round-off to the rupee (setting): 349.00 + 31.41 + 31.41 = 411.82 -> 412.00, round-off +0.18.
SET LOCAL balatrix.invoice_round_off = on;
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000f0101') AS ro \gset
SELECT balatrix.add_invoice_line(:'ro', 'plan', 'Starter', 1, 349.00) > 0 AS plan_line;
SELECT taxable_total, tax_total, round_off, total FROM balatrix.invoices WHERE id = :'ro';
-- 1.00 -> 0.09 + 0.09 = 1.18 -> 1.00, round-off -0.18 (gst-payments.md §1.9).
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000f0101') AS ro2 \gset
SELECT balatrix.add_invoice_line(:'ro2', 'adjustment', 'One rupee', 1, 1.00) > 0 AS line;
SELECT taxable_total, tax_total, round_off, total FROM balatrix.invoices WHERE id = :'ro2';
ROLLBACK;

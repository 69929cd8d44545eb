-- pgTAP: GST reporting (extension/sql/balatrix.sql, section "GST reporting"): the monthly summary,
-- the GSTR-1 views (b2b, b2cl, b2cs, cdnr, hsn) and balatrix.einvoice_json. Contracts (views are
-- security_invoker, commented, filterable by period; functions pinned and commented), then the
-- rows of every view for a fixed set of documents, the e-invoice JSON and its refusals.
--
-- Expected amounts are worked by hand at 18 % (9 + 9 intra-State, 18 inter-State), each head
-- rounded half-up to paise per line:
--   349.00  -> CGST 31.41 + SGST/UTGST 31.41, or IGST 62.82; total 411.82
--   999.00  -> CGST 89.91 + SGST 89.91, or IGST 179.82
--   300.00  -> IGST 54.00            100.00 -> CGST 9.00 + SGST 9.00, or IGST 18.00
--   -99.00  -> CGST -8.91 + SGST -8.91          90000.00 -> IGST 16200.00, total 106200.00
BEGIN;
SELECT plan(46);

-- ---- Contracts ------------------------------------------------------------------------------
SELECT has_view('balatrix', 'gst_summary_monthly', 'gst_summary_monthly exists');
SELECT has_view('balatrix', 'gstr1_b2b', 'gstr1_b2b exists');
SELECT has_view('balatrix', 'gstr1_b2cl', 'gstr1_b2cl exists');
SELECT has_view('balatrix', 'gstr1_b2cs', 'gstr1_b2cs exists');
SELECT has_view('balatrix', 'gstr1_cdnr', 'gstr1_cdnr exists');
SELECT has_view('balatrix', 'gstr1_hsn', 'gstr1_hsn exists');
SELECT is((SELECT count(*) FROM pg_catalog.pg_class c
            WHERE c.relnamespace = 'balatrix'::regnamespace AND c.relkind = 'v'
              AND c.relname IN ('gst_summary_monthly', 'gstr1_b2b', 'gstr1_b2cl', 'gstr1_b2cs', 'gstr1_cdnr', 'gstr1_hsn')
              AND c.reloptions @> ARRAY['security_invoker=true']
              AND pg_catalog.obj_description(c.oid, 'pg_class') IS NOT NULL
              AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'month')
              AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'financial_year')
              AND pg_catalog.has_table_privilege('balatrix_readonly', c.oid, 'SELECT')),
          6::bigint, 'the six views are security_invoker, commented, have month and financial_year, readable by reporting');
SELECT has_function('balatrix', 'einvoice_json', ARRAY['uuid', 'jsonb'], 'einvoice_json(uuid, jsonb) exists');
SELECT has_function('balatrix', 'gstr1_b2cl_threshold', ARRAY['date'], 'gstr1_b2cl_threshold(date) exists');
SELECT is((SELECT count(*) FROM pg_catalog.pg_proc p
            WHERE p.oid IN ('balatrix.einvoice_json(uuid, jsonb)'::regprocedure, 'balatrix.gstr1_b2cl_threshold(date)'::regprocedure)
              AND NOT p.prosecdef AND p.proconfig = ARRAY['search_path=pg_catalog, pg_temp']
              AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NOT NULL
              AND p.provolatile = CASE p.proname WHEN 'einvoice_json' THEN 's' ELSE 'i' END),
          2::bigint, 'both functions pin search_path, are not SECURITY DEFINER, have a COMMENT and the right volatility');
SELECT ok(NOT pg_catalog.has_function_privilege('public', 'balatrix.einvoice_json(uuid, jsonb)', 'EXECUTE')
          AND pg_catalog.has_function_privilege('balatrix_readonly', 'balatrix.einvoice_json(uuid, jsonb)', 'EXECUTE')
          AND pg_catalog.has_function_privilege('public', 'balatrix.gstr1_b2cl_threshold(date)', 'EXECUTE'),
          'einvoice_json is for reporting, not PUBLIC; the threshold is for everyone');
SELECT is(ARRAY[balatrix.gstr1_b2cl_threshold('2024-07-31'), balatrix.gstr1_b2cl_threshold('2024-08-01')],
          ARRAY[250000.00, 100000.00], 'B2C large: more than 2.5 lakh until 2024-07-31, more than 1 lakh from 2024-08-01');

-- ---- Fixture (rolled back with the test) --------------------------------------------------
-- Supplier: Karnataka (29); one registration in Chandigarh (04) for the UTGST case.
SET LOCAL balatrix.supplier_state_code = '29';
SET LOCAL balatrix.supplier_gstin = '29AAGCB7383J1Z4';
SET LOCAL balatrix.invoice_round_off = off;
INSERT INTO balatrix.customers (id, name, gstin, billing_address, billing_city, billing_pincode, billing_state_code, tax_exempt)
VALUES ('00000000-0000-4000-8000-0000000ee001', 'Asha Rao', NULL, '4 Church Street', 'Bengaluru', '560001', '29', false),
       ('00000000-0000-4000-8000-0000000ee002', 'Bharat Telecom Pvt Ltd', '27AAPFU0939F1ZV', '12 MG Road', 'Pune', '411001', '27', false),
       ('00000000-0000-4000-8000-0000000ee003', 'Chandni Sharma', NULL, 'Sector 17', 'Chandigarh', '160017', '04', false),
       ('00000000-0000-4000-8000-0000000ee004', 'Indraprastha Exempt Trust', '07AAACI1681G1ZR', '1 Janpath', 'New Delhi', '110001', '07', true),
       ('00000000-0000-4000-8000-0000000ee005', 'Kaveri Contact Centre LLP', '29AAACI1681G1ZL', '7 Residency Road', 'Bengaluru', '560025', '29', false),
       ('00000000-0000-4000-8000-0000000ee006', 'Chandigarh Call Hub', '04AAACI1681G1ZX', 'Plot 9, Industrial Area', 'Chandigarh', '160002', '04', false);
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type)
SELECT ('00000000-0000-4000-8000-0000000ea00' || n)::uuid, ('00000000-0000-4000-8000-0000000ee00' || n)::uuid, 'TAPRPT' || n, 'postpaid'
  FROM generate_series(1, 6) AS n;

-- KA B2C intra-State (a1), credited by cn2.
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000ea001') AS a1 \gset
SELECT balatrix.add_invoice_line(:'a1', 'plan', 'Starter (monthly)', 1, 349.00, '998412') AS x \gset
SELECT balatrix.issue_invoice(:'a1', '2026-05-10') AS a1_no \gset
-- MH B2B inter-State (b1), rounded to the rupee: 1299.00 + IGST 233.82 = 1532.82 -> 1533.00 (+0.18).
SET LOCAL balatrix.invoice_round_off = on;
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000ea002') AS b1 \gset
SELECT balatrix.add_invoice_line(:'b1', 'plan', 'Business (monthly)', 1, 999.00, '998412') AS x \gset
SELECT balatrix.add_invoice_line(:'b1', 'did_rent', 'Toll-free number rent', 2, 150.00, '998419') AS x \gset
SET LOCAL balatrix.invoice_round_off = off;
SELECT balatrix.issue_invoice(:'b1', '2026-05-12') AS b1_no \gset
-- Chandigarh B2C from Karnataka: inter-State. c2 is above the B2C-large threshold of its date, c3
-- (same value, July 2024) is not.
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000ea003') AS c1 \gset
SELECT balatrix.add_invoice_line(:'c1', 'plan', 'Starter (monthly)', 1, 349.00, '998412') AS x \gset
SELECT balatrix.issue_invoice(:'c1', '2026-05-11') AS c1_no \gset
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000ea003') AS c2 \gset
SELECT balatrix.add_invoice_line(:'c2', 'setup_fee', 'Toll-free setup', 1, 90000.00, '998412') AS x \gset
SELECT balatrix.issue_invoice(:'c2', '2026-05-13') AS c2_no \gset
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000ea003') AS c3 \gset
SELECT balatrix.add_invoice_line(:'c3', 'setup_fee', 'Toll-free setup', 1, 90000.00, '998412') AS x \gset
SELECT balatrix.issue_invoice(:'c3', '2024-07-15') AS c3_no \gset
-- Tax-exempt registered recipient (Delhi): no GST, total 349.00.
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000ea004') AS d1 \gset
SELECT balatrix.add_invoice_line(:'d1', 'plan', 'Starter (monthly)', 1, 349.00, '998412') AS x \gset
SELECT balatrix.issue_invoice(:'d1', '2026-05-14') AS d1_no \gset
-- KA B2B intra-State with a discount: 999.00 - 99.00 = 900.00, CGST = SGST = 89.91 - 8.91 = 81.00, total 1062.00.
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000ea005') AS e1 \gset
SELECT balatrix.add_invoice_line(:'e1', 'plan', 'Business (monthly)', 1, 999.00, '998412') AS x \gset
SELECT balatrix.add_invoice_line(:'e1', 'discount', 'Loyalty discount', 1, -99.00, '998412') AS x \gset
SELECT balatrix.issue_invoice(:'e1', '2026-05-15') AS e1_no \gset
-- A discount whose SAC has no charge line (June: outside the May figures).
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000ea005') AS f1 \gset
SELECT balatrix.add_invoice_line(:'f1', 'plan', 'Business (monthly)', 1, 999.00, '998412') AS x \gset
SELECT balatrix.add_invoice_line(:'f1', 'discount', 'Promotional credit', 1, -50.00, '998419') AS x \gset
SELECT balatrix.issue_invoice(:'f1', '2026-06-01') AS f1_no \gset
-- Void and draft: in no view.
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000ea001') AS v1 \gset
SELECT balatrix.add_invoice_line(:'v1', 'plan', 'Starter (monthly)', 1, 349.00, '998412') AS x \gset
SELECT balatrix.issue_invoice(:'v1', '2026-05-16') AS v1_no \gset
SELECT balatrix.void_invoice(:'v1', 'raised in error') AS x \gset
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000ea001') AS draft \gset
SELECT balatrix.add_invoice_line(:'draft', 'plan', 'Starter (monthly)', 1, 349.00, '998412') AS x \gset
-- Credit notes: 100.00 on b1 (IGST 18.00) and on a1 (CGST 9.00 + SGST 9.00).
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000ea002', 'credit_note', NULL, NULL, NULL, :'b1') AS cn1 \gset
SELECT balatrix.add_invoice_line(:'cn1', 'plan', 'Service credit for outage', 1, 100.00, '998412') AS x \gset
SELECT balatrix.issue_invoice(:'cn1', '2026-05-20') AS cn1_no \gset
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000ea001', 'credit_note', NULL, NULL, NULL, :'a1') AS cn2 \gset
SELECT balatrix.add_invoice_line(:'cn2', 'plan', 'Pro-rata credit', 1, 100.00, '998412') AS x \gset
SELECT balatrix.issue_invoice(:'cn2', '2026-05-21') AS cn2_no \gset
-- The Chandigarh registration: intra-UT supplies, CGST 31.41 + UTGST 31.41.
SET LOCAL balatrix.supplier_state_code = '04';
SET LOCAL balatrix.supplier_gstin = '04AAGCB7383J1ZG';
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000ea003') AS u1 \gset
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000ea006') AS u2 \gset
-- And a document drafted while no supplier GSTIN was set.
SET LOCAL balatrix.supplier_state_code = '29';
SET LOCAL balatrix.supplier_gstin = '';
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000ea002') AS n1 \gset
SET LOCAL balatrix.supplier_gstin = '29AAGCB7383J1Z4';
SELECT balatrix.add_invoice_line(:'u1', 'plan', 'Starter (monthly)', 1, 349.00, '998412') AS x \gset
SELECT balatrix.issue_invoice(:'u1', '2026-05-18') AS u1_no \gset
SELECT balatrix.add_invoice_line(:'u2', 'plan', 'Starter (monthly)', 1, 349.00, '998412') AS x \gset
SELECT balatrix.issue_invoice(:'u2', '2026-05-19') AS u2_no \gset
SELECT balatrix.add_invoice_line(:'n1', 'plan', 'Starter (monthly)', 1, 349.00, '998412') AS x \gset
SELECT balatrix.issue_invoice(:'n1', '2026-05-22') AS n1_no \gset

-- ---- gst_summary_monthly ---------------------------------------------------------------------
-- May 2026, Karnataka: invoices a1, b1, c1, c2, d1, e1 (not v1, not the draft); notes cn1, cn2.
--   taxable 349 + 1299 + 349 + 90000 + 349 + 900 = 93246.00; CGST = SGST = 31.41 + 81.00 = 112.41;
--   IGST 233.82 + 62.82 + 16200.00 = 16496.64; tax 16721.46; round-off 0.18;
--   total 411.82 + 1533.00 + 411.82 + 106200.00 + 349.00 + 1062.00 = 109967.64.
SELECT is((SELECT jsonb_agg(jsonb_build_array(financial_year, currency, document_type, documents, taxable_value, cgst, sgst,
                                              utgst, igst, tax, round_off, total, net_taxable_value, net_tax, net_total)
                            ORDER BY document_type)
             FROM balatrix.gst_summary_monthly WHERE month = '2026-05-01' AND supplier_gstin = '29AAGCB7383J1Z4'),
          '[["2627", "INR", "credit_note", 2, 200.00, 9.00, 9.00, 0, 18.00, 36.00, 0, 236.00, -200.00, -36.00, -236.00],
            ["2627", "INR", "tax_invoice", 6, 93246.00, 112.41, 112.41, 0, 16496.64, 16721.46, 0.18, 109967.64,
             93246.00, 16721.46, 109967.64]]'::jsonb,
          'summary May 2026 (29): invoices and credit notes on their own rows, notes negative in the net columns');
SELECT is((SELECT jsonb_agg(jsonb_build_array(document_type, documents, taxable_value, cgst, sgst, utgst, igst, tax, total))
             FROM balatrix.gst_summary_monthly WHERE month = '2026-05-01' AND supplier_gstin = '04AAGCB7383J1ZG'),
          '[["tax_invoice", 2, 698.00, 62.82, 0, 62.82, 0, 125.64, 823.64]]'::jsonb,
          'summary May 2026 (04): CGST + UTGST');
SELECT is((SELECT jsonb_agg(jsonb_build_array(month, financial_year, document_type, documents, taxable_value, igst, total))
             FROM balatrix.gst_summary_monthly WHERE month < '2025-01-01' AND supplier_gstin = '29AAGCB7383J1Z4'),
          '[["2024-07-01", "2425", "tax_invoice", 1, 90000.00, 16200.00, 106200.00]]'::jsonb,
          'summary July 2024: financial year 2024-25');

-- ---- gstr1_b2b ----------------------------------------------------------------------------------
SELECT is((SELECT jsonb_agg(jsonb_build_array(financial_year, recipient_gstin, receiver_name, invoice_number, invoice_date,
                                              invoice_value, place_of_supply, reverse_charge, invoice_type, rate,
                                              taxable_value, igst, cgst, sgst_utgst, cess)
                            ORDER BY invoice_date)
             FROM balatrix.gstr1_b2b WHERE month = '2026-05-01' AND supplier_gstin = '29AAGCB7383J1Z4'),
          jsonb_build_array(
              jsonb_build_array('2627', '27AAPFU0939F1ZV', 'Bharat Telecom Pvt Ltd', :'b1_no', '2026-05-12', 1533.00,
                                '27-Maharashtra', 'N', 'Regular B2B', 18, 1299.00, 233.82, 0, 0, 0),
              jsonb_build_array('2627', '29AAACI1681G1ZL', 'Kaveri Contact Centre LLP', :'e1_no', '2026-05-15', 1062.00,
                                '29-Karnataka', 'N', 'Regular B2B', 18, 900.00, 0, 81.00, 81.00, 0)),
          'b2b (29): the MH invoice (IGST, value with round-off) and the KA one (net of its discount); not the exempt one');
SELECT is((SELECT jsonb_agg(jsonb_build_array(recipient_gstin, invoice_number, invoice_value, place_of_supply, rate,
                                              taxable_value, igst, cgst, sgst_utgst))
             FROM balatrix.gstr1_b2b WHERE supplier_gstin = '04AAGCB7383J1ZG'),
          jsonb_build_array(jsonb_build_array('04AAACI1681G1ZX', :'u2_no', 411.82, '04-Chandigarh', 18, 349.00, 0, 31.41, 31.41)),
          'b2b (04): UTGST is reported in the SGST/UTGST column');
SELECT is((SELECT count(*) FROM balatrix.gstr1_b2b WHERE invoice_id IN (:'d1', :'v1', :'draft', :'cn1', :'a1')),
          0::bigint, 'b2b leaves out the exempt, void, draft, credit-note and B2C documents');

-- ---- gstr1_b2cl / gstr1_b2cs ------------------------------------------------------------------
SELECT is((SELECT jsonb_agg(jsonb_build_array(month, invoice_number, invoice_date, invoice_value, place_of_supply, rate,
                                              taxable_value, igst, cess))
             FROM balatrix.gstr1_b2cl WHERE supplier_gstin = '29AAGCB7383J1Z4'),
          jsonb_build_array(jsonb_build_array('2026-05-01', :'c2_no', '2026-05-13', 106200.00, '04-Chandigarh', 18,
                                              90000.00, 16200.00, 0)),
          'b2cl: only the inter-State B2C invoice of 106200.00 after 2024-08-01');
-- May 2026: KA intra a1 - cn2 = 249.00, CGST = SGST = 31.41 - 9.00 = 22.41; Chandigarh c1 only (c2 is b2cl).
SELECT is((SELECT jsonb_agg(jsonb_build_array(financial_year, supply_type, place_of_supply, type, rate, taxable_value, igst,
                                              cgst, sgst_utgst, cess)
                            ORDER BY place_of_supply)
             FROM balatrix.gstr1_b2cs WHERE month = '2026-05-01' AND supplier_gstin = '29AAGCB7383J1Z4'),
          '[["2627", "INTER", "04-Chandigarh", "OE", 18, 349.00, 62.82, 0, 0, 0],
            ["2627", "INTRA", "29-Karnataka", "OE", 18, 249.00, 0, 22.41, 22.41, 0]]'::jsonb,
          'b2cs May 2026 (29): net of the credit note, without the b2cl invoice, the exempt and the void');
SELECT is((SELECT jsonb_agg(jsonb_build_array(month, financial_year, supply_type, place_of_supply, rate, taxable_value, igst))
             FROM balatrix.gstr1_b2cs WHERE month < '2025-01-01' AND supplier_gstin = '29AAGCB7383J1Z4'),
          '[["2024-07-01", "2425", "INTER", "04-Chandigarh", 18, 90000.00, 16200.00]]'::jsonb,
          'b2cs July 2024: 106200.00 is under the 2.5 lakh threshold of its date');
SELECT is((SELECT jsonb_agg(jsonb_build_array(supply_type, place_of_supply, rate, taxable_value, igst, cgst, sgst_utgst))
             FROM balatrix.gstr1_b2cs WHERE supplier_gstin = '04AAGCB7383J1ZG'),
          '[["INTRA", "04-Chandigarh", 18, 349.00, 0, 31.41, 31.41]]'::jsonb,
          'b2cs (04): intra-UT, UTGST in the SGST/UTGST column');

-- ---- gstr1_cdnr -------------------------------------------------------------------------------
SELECT is((SELECT jsonb_agg(jsonb_build_array(month, recipient_gstin, receiver_name, note_number, note_date, note_type,
                                              original_invoice_number, original_invoice_date, place_of_supply,
                                              reverse_charge, note_supply_type, note_value, rate, taxable_value, igst,
                                              cgst, sgst_utgst))
             FROM balatrix.gstr1_cdnr WHERE financial_year = '2627'
              AND supplier_gstin IN ('29AAGCB7383J1Z4', '04AAGCB7383J1ZG')),
          jsonb_build_array(jsonb_build_array('2026-05-01', '27AAPFU0939F1ZV', 'Bharat Telecom Pvt Ltd', :'cn1_no',
                                              '2026-05-20', 'C', :'b1_no', '2026-05-12', '27-Maharashtra', 'N',
                                              'Regular B2B', 118.00, 18, 100.00, 18.00, 0, 0)),
          'cdnr: the credit note to the registered MH recipient (not the B2C one), amounts as on the note');

-- ---- gstr1_hsn --------------------------------------------------------------------------------
-- May 2026, Karnataka, signed (credit notes -):
--   B2B 998412 18: b1 999.00 (IGST 179.82) - cn1 100.00 (IGST 18.00) + e1 999.00 - 99.00 (CGST = SGST 81.00);
--                  quantity 1 - 1 + 1 + 1 = 2; total 1799.00 + 161.82 + 162.00 = 2122.82
--   B2B 998412  0: d1 349.00 (exempt)          B2B 998419 18: b1 2 x 150.00, IGST 54.00
--   B2C 998412 18: a1 349.00 + c1 349.00 + c2 90000.00 - cn2 100.00 = 90598.00; IGST 62.82 + 16200.00;
--                  CGST = SGST 31.41 - 9.00 = 22.41; quantity 1 + 1 + 1 - 1 = 2; total 90598.00 + 16262.82 + 44.82
SELECT is((SELECT jsonb_agg(jsonb_build_array(financial_year, recipient_type, sac, uqc, rate, quantity, total_value,
                                              taxable_value, igst, cgst, sgst_utgst, cess)
                            ORDER BY recipient_type, sac, rate)
             FROM balatrix.gstr1_hsn WHERE month = '2026-05-01' AND supplier_gstin = '29AAGCB7383J1Z4'),
          '[["2627", "B2B", "998412", "NA", 0, 1, 349.00, 349.00, 0, 0, 0, 0],
            ["2627", "B2B", "998412", "NA", 18, 2, 2122.82, 1799.00, 161.82, 81.00, 81.00, 0],
            ["2627", "B2B", "998419", "NA", 18, 2, 354.00, 300.00, 54.00, 0, 0, 0],
            ["2627", "B2C", "998412", "NA", 18, 2, 106905.64, 90598.00, 16262.82, 22.41, 22.41, 0]]'::jsonb,
          'hsn May 2026 (29): per B2B / B2C, SAC and rate, net of credit notes, exempt at rate 0');
SELECT is((SELECT jsonb_agg(jsonb_build_array(recipient_type, sac, rate, quantity, taxable_value, cgst, sgst_utgst)
                            ORDER BY recipient_type)
             FROM balatrix.gstr1_hsn WHERE month = '2026-05-01' AND supplier_gstin = '04AAGCB7383J1ZG'),
          '[["B2B", "998412", 18, 1, 349.00, 31.41, 31.41], ["B2C", "998412", 18, 1, 349.00, 31.41, 31.41]]'::jsonb,
          'hsn May 2026 (04): UTGST in the SGST/UTGST column');

-- ---- Row-level security of the querying role ----------------------------------------------
SET LOCAL ROLE balatrix_readonly;
SELECT is((SELECT count(*) FROM balatrix.gstr1_b2b WHERE supplier_gstin = '29AAGCB7383J1Z4' AND month = '2026-05-01'),
          2::bigint, 'the reporting role sees the b2b rows (its readonly_all policy)');
RESET ROLE;
CREATE ROLE tap_reporting_probe NOLOGIN;
GRANT USAGE ON SCHEMA balatrix TO tap_reporting_probe;
GRANT SELECT ON balatrix.gstr1_b2b TO tap_reporting_probe;
SET LOCAL ROLE tap_reporting_probe;
SELECT throws_ok('SELECT count(*) FROM balatrix.gstr1_b2b', '42501', NULL,
                 'a role allowed the view but not the tables is refused: the view runs with the caller''s rights');
RESET ROLE;
GRANT SELECT ON balatrix.invoices, balatrix.invoice_lines, balatrix.gst_states TO tap_reporting_probe;
SET LOCAL ROLE tap_reporting_probe;
SELECT is((SELECT count(*) FROM balatrix.gstr1_b2b), 0::bigint,
          'a role with table privileges but no row-level security policy sees no rows through the view');
RESET ROLE;

-- ---- einvoice_json ------------------------------------------------------------------------------
\set seller '{"LglNm": "Balatrix Telecom Pvt Ltd", "Addr1": "5th Floor, 100 Feet Road", "Loc": "Bengaluru", "Pin": 560038}'
SELECT is(balatrix.einvoice_json(:'b1', :'seller'),
          jsonb_set($${
            "Version": "1.1",
            "TranDtls": {"TaxSch": "GST", "SupTyp": "B2B", "RegRev": "N"},
            "DocDtls": {"Typ": "INV", "No": null, "Dt": "12/05/2026"},
            "SellerDtls": {"Gstin": "29AAGCB7383J1Z4", "LglNm": "Balatrix Telecom Pvt Ltd",
                           "Addr1": "5th Floor, 100 Feet Road", "Loc": "Bengaluru", "Pin": 560038, "Stcd": "29"},
            "BuyerDtls": {"Gstin": "27AAPFU0939F1ZV", "LglNm": "Bharat Telecom Pvt Ltd", "Pos": "27",
                          "Addr1": "12 MG Road", "Loc": "Pune", "Pin": 411001, "Stcd": "27"},
            "ItemList": [
              {"SlNo": "1", "PrdDesc": "Business (monthly)", "IsServc": "Y", "HsnCd": "998412", "Qty": 1,
               "UnitPrice": 999.00, "TotAmt": 999.00, "AssAmt": 999.00, "GstRt": 18,
               "IgstAmt": 179.82, "CgstAmt": 0.00, "SgstAmt": 0.00, "TotItemVal": 1178.82},
              {"SlNo": "2", "PrdDesc": "Toll-free number rent", "IsServc": "Y", "HsnCd": "998419", "Qty": 2,
               "UnitPrice": 150.00, "TotAmt": 300.00, "AssAmt": 300.00, "GstRt": 18,
               "IgstAmt": 54.00, "CgstAmt": 0.00, "SgstAmt": 0.00, "TotItemVal": 354.00}],
            "ValDtls": {"AssVal": 1299.00, "CgstVal": 0.00, "SgstVal": 0.00, "IgstVal": 233.82, "RndOffAmt": 0.18,
                        "TotInvVal": 1533.00}
          }$$::jsonb, '{DocDtls,No}', to_jsonb(:'b1_no'::text)),
          'e-invoice of the MH B2B invoice: INV-01 1.1, IGST items, round-off');
SELECT is(balatrix.einvoice_json(:'b1', :'seller') -> 'DocDtls' ->> 'No', :'b1_no', 'its DocDtls.No is the invoice number');
SELECT is((SELECT jsonb_build_array(j -> 'ItemList', j -> 'ValDtls')
             FROM balatrix.einvoice_json(:'e1', :'seller') AS j),
          '[[{"SlNo": "1", "PrdDesc": "Business (monthly)", "IsServc": "Y", "HsnCd": "998412", "Qty": 1, "UnitPrice": 999.00,
              "TotAmt": 999.00, "Discount": 99.00, "AssAmt": 900.00, "GstRt": 18, "IgstAmt": 0.00, "CgstAmt": 81.00,
              "SgstAmt": 81.00, "TotItemVal": 1062.00}],
            {"AssVal": 900.00, "CgstVal": 81.00, "SgstVal": 81.00, "IgstVal": 0.00, "RndOffAmt": 0.00, "TotInvVal": 1062.00}]'::jsonb,
          'e-invoice of the KA B2B invoice: CGST + SGST, the discount line folded into the Discount of its charge line');
SELECT is((SELECT jsonb_build_array(j -> 'DocDtls', j -> 'RefDtls') FROM balatrix.einvoice_json(:'cn1', :'seller') AS j),
          jsonb_build_array(jsonb_build_object('Typ', 'CRN', 'No', :'cn1_no', 'Dt', '20/05/2026'),
                            jsonb_build_object('PrecDocDtls', jsonb_build_array(
                                jsonb_build_object('InvNo', :'b1_no', 'InvDt', '12/05/2026')))),
          'e-invoice of the credit note: CRN, with the invoice it corrects');
SELECT is((SELECT jsonb_build_array(j #> '{SellerDtls,Gstin}', j #> '{SellerDtls,Stcd}', j #> '{BuyerDtls,Pos}',
                                    j #> '{ItemList,0,CgstAmt}', j #> '{ItemList,0,SgstAmt}', j #> '{ItemList,0,IgstAmt}',
                                    j #> '{ValDtls,SgstVal}', j #> '{ValDtls,TotInvVal}')
             FROM balatrix.einvoice_json(:'u2', '{"LglNm": "Balatrix Telecom Pvt Ltd", "Addr1": "SCO 10, Sector 17",
                                                  "Loc": "Chandigarh", "Pin": "160017"}') AS j),
          '["04AAGCB7383J1ZG", "04", "04", 31.41, 31.41, 0.00, 31.41, 411.82]'::jsonb,
          'e-invoice of the intra-UT invoice: UTGST in SgstAmt / SgstVal; a Pin given as a string is accepted');
SELECT is(balatrix.einvoice_json(:'b1', jsonb_set(:'seller'::jsonb, '{TrdNm}', '"Balatrix"')) -> 'SellerDtls' ->> 'TrdNm',
          'Balatrix', 'optional seller details (TrdNm) are passed through');
SET LOCAL ROLE balatrix_readonly;
SELECT is(balatrix.einvoice_json(:'b1', :'seller') #>> '{ValDtls,TotInvVal}', '1533.00',
          'the reporting role builds the e-invoice (its policies let it read the invoice and the customer)');
RESET ROLE;

SELECT throws_ok($$SELECT balatrix.einvoice_json('00000000-0000-4000-8000-00000000dead', '{}')$$, 'P0002', NULL,
                 'an unknown invoice is P0002');
SELECT throws_ok($$SELECT balatrix.einvoice_json('$$ || :'draft' || $$', '{}')$$, '22023', NULL, 'a draft is refused (22023)');
SELECT throws_ok($$SELECT balatrix.einvoice_json('$$ || :'v1' || $$', '{}')$$, '22023', NULL, 'a void invoice is refused (22023)');
SELECT throws_ok($$SELECT balatrix.einvoice_json('$$ || :'a1' || $$', '{}')$$, '22023',
                 'invoice ' || :'a1_no' || ' is B2C (the recipient has no GSTIN): e-invoicing covers B2B documents only',
                 'a B2C invoice is refused (22023)');
SELECT throws_ok($$SELECT balatrix.einvoice_json('$$ || :'n1' || $$', '{}')$$, '22023', NULL,
                 'a document without a supplier GSTIN is refused (22023)');
SELECT throws_ok($$SELECT balatrix.einvoice_json('$$ || :'b1' || $$')$$, '22023', 'the seller details lack LglNm, Addr1, Loc, Pin',
                 'without seller details: 22023 naming what is missing');
SELECT throws_ok($$SELECT balatrix.einvoice_json('$$ || :'b1' || $$', NULL)$$, '22023', 'the seller details lack LglNm, Addr1, Loc, Pin',
                 'a NULL seller is no seller details');
SELECT throws_ok($$SELECT balatrix.einvoice_json('$$ || :'b1' || $$',
                   '{"LglNm": "Balatrix", "Addr1": "x", "Loc": "Bengaluru", "Pin": 56003}')$$, '22023', NULL,
                 'a five-digit Pin is refused (22023)');
SELECT throws_ok($$SELECT balatrix.einvoice_json('$$ || :'b1' || $$',
                   '{"LglNm": "BT", "Addr1": "x", "Loc": "Bengaluru", "Pin": 560038}')$$, '22023',
                 'seller detail(s) of a length the e-invoice schema refuses: LglNm (3 to 100 characters)',
                 'a legal name shorter than the schema allows is refused (22023)');
SELECT throws_ok($$SELECT balatrix.einvoice_json('$$ || :'b1' || $$',
                   '{"LglNm": "Balatrix", "Addr1": "x", "Loc": "Bengaluru", "Pin": 560038, "Gstin": "29AAGCB7383J1Z4"}')$$,
                 '22023', 'unknown seller detail(s): Gstin', 'the seller GSTIN cannot be overridden (22023)');
SELECT throws_ok($$SELECT balatrix.einvoice_json('$$ || :'f1' || $$', '$$ || :'seller' || $$')$$, '22023', NULL,
                 'a credit line with no charge line of its SAC and rate is refused (22023)');

SELECT * FROM finish();
ROLLBACK;

-- pgTAP: the invoicing contract (extension/sql/balatrix.sql, section "Invoices"): functions and
-- triggers exist, search_path pinned, comments, no EXECUTE for PUBLIC, and the SQLSTATEs of the
-- refusals. Amounts and numbering are tested in sql/invoices.sql and tests/e2e/invoice_numbering.sh.
BEGIN;
SELECT plan(22);

SELECT has_table('balatrix', 'invoice_number_series', 'invoice_number_series exists');
SELECT col_is_pk('balatrix', 'invoice_number_series', ARRAY['series', 'financial_year'], 'one row per series and financial year');
SELECT has_function('balatrix', 'create_invoice_draft', ARRAY['uuid', 'text', 'uuid', 'timestamp with time zone',
                    'timestamp with time zone', 'uuid', 'text'], 'create_invoice_draft exists');
SELECT has_function('balatrix', 'add_invoice_line', ARRAY['uuid', 'text', 'text', 'numeric', 'numeric', 'text',
                    'timestamp with time zone', 'timestamp with time zone', 'text', 'text', 'numeric'], 'add_invoice_line exists');
SELECT has_function('balatrix', 'issue_invoice', ARRAY['uuid', 'date'], 'issue_invoice exists');
SELECT has_function('balatrix', 'void_invoice', ARRAY['uuid', 'text'], 'void_invoice exists');
SELECT trigger_is('balatrix', 'invoices', 'invoices_immutable_trg', 'balatrix', 'tg_invoice_immutable',
                  'invoices have the immutability trigger');
SELECT trigger_is('balatrix', 'invoice_lines', 'invoice_lines_immutable_trg', 'balatrix', 'tg_invoice_immutable',
                  'invoice lines have the immutability trigger');
SELECT is((SELECT count(*) FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'balatrix'::regnamespace
              AND p.proname IN ('create_invoice_draft', 'refresh_invoice_totals', 'add_invoice_line', 'issue_invoice',
                                'void_invoice', 'tg_invoice_immutable')
              AND NOT p.prosecdef AND p.proconfig = ARRAY['search_path=pg_catalog, pg_temp']
              AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NOT NULL
              AND NOT pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE')),
          6::bigint, 'all six pin search_path, are not SECURITY DEFINER, have a COMMENT and no EXECUTE for PUBLIC');
SELECT ok(NOT pg_catalog.has_table_privilege('balatrix_api', 'balatrix.invoice_number_series', 'INSERT,UPDATE,DELETE'),
          'the API role cannot write the number series directly');

-- Fixture, rolled back with the test.
INSERT INTO balatrix.customers (id, name, billing_state_code) VALUES ('00000000-0000-4000-8000-0000000fa001', 'Tap Pvt Ltd', '27');
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type)
    VALUES ('00000000-0000-4000-8000-0000000fa101', '00000000-0000-4000-8000-0000000fa001', 'TAPINV', 'postpaid');
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000fa101') AS d \gset
SELECT throws_ok($$SELECT balatrix.issue_invoice('$$ || :'d' || $$')$$, '22023', 'the draft has no lines: nothing to issue',
                 'a draft without lines is not issued (22023)');
SELECT lives_ok($$SELECT balatrix.add_invoice_line('$$ || :'d' || $$', 'plan', 'Starter', 1, 349.00)$$, 'a line is added');
SELECT throws_ok($$SELECT balatrix.add_invoice_line('$$ || :'d' || $$', 'plan', 'Bad', 1, -1)$$, '22023', NULL,
                 'a negative plan line is refused (22023)');
SELECT throws_ok($$SELECT balatrix.add_invoice_line('$$ || :'d' || $$', 'mystery', 'Bad', 1, 1)$$, '23514', NULL,
                 'an unknown line kind is refused by the CHECK (23514)');
SELECT is(balatrix.issue_invoice(:'d', '2025-05-05'), 'INV/2526/000001', 'the first invoice of FY 2025-26 is INV/2526/000001');
SELECT throws_ok($$SELECT balatrix.issue_invoice('$$ || :'d' || $$')$$, '55000', NULL, 'issuing twice is refused (55000)');
SELECT throws_ok($$UPDATE balatrix.invoices SET total = 0 WHERE id = '$$ || :'d' || $$'$$, '0A000', NULL,
                 'an issued invoice is immutable (0A000)');
SELECT throws_ok($$DELETE FROM balatrix.invoice_lines WHERE invoice_id = '$$ || :'d' || $$'$$, '0A000', NULL,
                 'its lines are immutable (0A000)');
SELECT throws_ok($$SELECT balatrix.void_invoice('$$ || :'d' || $$', NULL)$$, '22023', NULL, 'voiding needs a reason (22023)');
SELECT throws_ok($$SELECT balatrix.void_invoice('00000000-0000-4000-8000-00000000dead', 'x')$$, 'P0002', NULL,
                 'an unknown invoice is P0002');
SELECT throws_ok($$SET balatrix.invoice_series = 'TOOLONG'$$, '22023', NULL, 'a series over 4 characters is refused');
SELECT throws_ok($$SET balatrix.invoice_series = 'CN'$$, '22023', NULL, 'the credit notes'' series is refused for invoices');

SELECT * FROM finish();
ROLLBACK;

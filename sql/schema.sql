--
-- Data model constraints: each rule of the domain refuses a bad row with a clear error (SQLSTATE
-- and the constraint's name), and the catalogue of the schema is documented and hardened.
--
SET timezone = 'UTC';
-- SQLSTATE and message of a refused statement, 'ok' when it succeeds. (The DETAIL of a CHECK
-- violation prints the whole row, with generated ids and now(): not stable enough for a golden file.)
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;
BEGIN;
-- Fixtures: customer A (Maharashtra, with GSTIN and matching PAN) and B (Karnataka), one account
-- each, a plan, a deck, a subscription and a draft invoice of A.
INSERT INTO balatrix.customers (id, name, gstin, pan, billing_state_code, billing_pincode)
    VALUES ('00000000-0000-4000-8000-00000000a001', 'Acme Telecom Pvt Ltd', '27AAPFU0939F1ZV', 'AAPFU0939F', '27', '400001'),
           ('00000000-0000-4000-8000-00000000a002', 'Bangalore Calls', NULL, NULL, '29', '560001');
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type, credit_limit)
    VALUES ('00000000-0000-4000-8000-00000000b001', '00000000-0000-4000-8000-00000000a001', '1001', 'postpaid', 5000),
           ('00000000-0000-4000-8000-00000000b002', '00000000-0000-4000-8000-00000000a002', 'BLR-1', 'prepaid', 0);
INSERT INTO balatrix.rate_plans (id, code, name, monthly_price, quarterly_price, annual_price, overage_rate)
    VALUES ('00000000-0000-4000-8000-00000000c001', 'TEST_PLAN', 'Test plan', 100, 300, 960, 1.5);
INSERT INTO balatrix.rate_decks (id, name) VALUES ('00000000-0000-4000-8000-00000000d001', 'India retail');
INSERT INTO balatrix.subscriptions (id, customer_id, account_id, rate_plan_id, recurring_price, anchor_day, started_at)
    VALUES ('00000000-0000-4000-8000-00000000e001', '00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001',
            '00000000-0000-4000-8000-00000000c001', 100, 14, '2025-03-14 00:00:00+05:30');
INSERT INTO balatrix.invoices (id, customer_id, account_id) VALUES
    ('00000000-0000-4000-8000-00000000f001', '00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001');
SELECT customer_number ~ '^C[0-9]{7}$' AS numbered, name, gstin, pan, billing_state_code, status
  FROM balatrix.customers ORDER BY name;

--
-- customers
--
SELECT pg_temp.try($$INSERT INTO balatrix.customers (name, pan, billing_state_code) VALUES ('Bad PAN', 'ABCDE12345', '29')$$) AS bad_pan;
SELECT pg_temp.try($$INSERT INTO balatrix.customers (name, pan, billing_state_code) VALUES ('Lower PAN', 'abcde1234f', '29')$$) AS lower_case_pan;
SELECT pg_temp.try($$INSERT INTO balatrix.customers (name, gstin, pan, billing_state_code) VALUES ('Other PAN', '27AAPFU0939F1ZV', 'ABCDE1234F', '27')$$) AS gstin_pan_differs;
SELECT pg_temp.try($$INSERT INTO balatrix.customers (name, gstin, billing_state_code) VALUES ('Bad check', '27AAPFU0939F1ZW', '27')$$) AS gstin_check_character;
SELECT pg_temp.try($$INSERT INTO balatrix.customers (name, gstin, billing_state_code) VALUES ('Lower GSTIN', '27aapfu0939f1zv', '27')$$) AS gstin_lower_case_normalised;
SELECT pg_temp.try($$INSERT INTO balatrix.customers (name, billing_state_code) VALUES ('No such State', '00')$$) AS state_not_in_gst_states;
SELECT pg_temp.try($$INSERT INTO balatrix.customers (name, billing_state_code) VALUES ('Letters', 'KA')$$) AS state_code_letters;
SELECT pg_temp.try($$INSERT INTO balatrix.customers (name) VALUES ('Indian, no State')$$) AS indian_without_state;
SELECT pg_temp.try($$INSERT INTO balatrix.customers (name, status) VALUES ('Pending, no State', 'pending')$$) AS pending_without_state;
SELECT pg_temp.try($$INSERT INTO balatrix.customers (name, billing_country) VALUES ('Abroad, no State', 'SG')$$) AS foreign_without_state;
SELECT pg_temp.try($$INSERT INTO balatrix.customers (name, billing_state_code) VALUES ('   ', '29')$$) AS blank_name;
SELECT pg_temp.try($$INSERT INTO balatrix.customers (name, billing_state_code, phone) VALUES ('Phone', '29', '09876543210')$$) AS phone_not_e164;
SELECT pg_temp.try($$UPDATE balatrix.customers SET pan = 'ABCDE1234F' WHERE name = 'Acme Telecom Pvt Ltd'$$) AS update_pan_away_from_gstin;

--
-- accounts
--
SELECT pg_temp.try($$INSERT INTO balatrix.accounts (customer_id, account_number, account_type, currency)
    VALUES ('00000000-0000-4000-8000-00000000a001', 'A-inr', 'postpaid', 'inr')$$) AS currency_lower_case;
SELECT pg_temp.try($$INSERT INTO balatrix.accounts (customer_id, account_number, account_type, currency)
    VALUES ('00000000-0000-4000-8000-00000000a001', 'A-IN', 'postpaid', 'IN')$$) AS currency_two_letters;
SELECT pg_temp.try($$INSERT INTO balatrix.accounts (customer_id, account_number, account_type, credit_limit)
    VALUES ('00000000-0000-4000-8000-00000000a001', 'A-neg', 'postpaid', -1)$$) AS negative_credit_limit;
SELECT pg_temp.try($$INSERT INTO balatrix.accounts (customer_id, account_number, account_type, credit_limit)
    VALUES ('00000000-0000-4000-8000-00000000a001', 'A-pre', 'prepaid', 1000)$$) AS prepaid_with_credit;
SELECT pg_temp.try($$INSERT INTO balatrix.accounts (customer_id, account_number, account_type, low_balance_threshold, critical_balance_threshold)
    VALUES ('00000000-0000-4000-8000-00000000a001', 'A-thr', 'prepaid', 100, 200)$$) AS thresholds_out_of_order;
SELECT pg_temp.try($$INSERT INTO balatrix.accounts (customer_id, account_number, account_type)
    VALUES ('00000000-0000-4000-8000-00000000a002', '1001', 'prepaid')$$) AS duplicate_account_number;
SELECT pg_temp.try($$INSERT INTO balatrix.accounts (customer_id, account_number, account_type)
    VALUES ('00000000-0000-4000-8000-00000000a001', 'acct 1001', 'prepaid')$$) AS account_number_with_space;
SELECT pg_temp.try($$INSERT INTO balatrix.accounts (customer_id, account_number, account_type)
    VALUES ('00000000-0000-4000-8000-00000000a001', 'A-card', 'credit')$$) AS unknown_account_type;
SELECT pg_temp.try($$INSERT INTO balatrix.accounts (customer_id, account_number, account_type)
    VALUES ('00000000-0000-4000-8000-00000000a009', 'A-orphan', 'prepaid')$$) AS unknown_customer;
-- What FreeSWITCH sends as accountcode (an extension, an e-mail-like SIP user) is a valid account_number.
SELECT pg_temp.try($$INSERT INTO balatrix.accounts (customer_id, account_number, account_type)
    VALUES ('00000000-0000-4000-8000-00000000a001', 'alice.smith@pbx-1', 'prepaid')$$) AS sip_user_account_number;

--
-- rate_plans, rates
--
SELECT pg_temp.try($$INSERT INTO balatrix.rate_plans (code, name, monthly_price, quarterly_price, annual_price, overage_rate)
    VALUES ('NEG', 'Negative', -1, 0, 0, 0)$$) AS plan_negative_price;
SELECT pg_temp.try($$INSERT INTO balatrix.rate_plans (code, name, monthly_price, quarterly_price, annual_price, overage_rate)
    VALUES ('NEG_OVERAGE', 'Negative overage', 1, 3, 9.6, -0.01)$$) AS plan_negative_overage;
SELECT pg_temp.try($$INSERT INTO balatrix.rates (rate_deck_id, prefix, rate_per_minute)
    VALUES ('00000000-0000-4000-8000-00000000d001', '91', 0.4500)$$) AS rate_ok;
SELECT pg_temp.try($$INSERT INTO balatrix.rates (rate_deck_id, prefix, rate_per_minute)
    VALUES ('00000000-0000-4000-8000-00000000d001', '+91', 0.4500)$$) AS prefix_with_plus;
SELECT pg_temp.try($$INSERT INTO balatrix.rates (rate_deck_id, prefix, rate_per_minute)
    VALUES ('00000000-0000-4000-8000-00000000d001', '', 0.4500)$$) AS prefix_empty;
SELECT pg_temp.try($$INSERT INTO balatrix.rates (rate_deck_id, prefix, rate_per_minute, effective_from, effective_to)
    VALUES ('00000000-0000-4000-8000-00000000d001', '91', 0.40, '2025-04-01 00:00+05:30', '2025-04-01 00:00+05:30')$$) AS effective_to_equal_from;
SELECT pg_temp.try($$INSERT INTO balatrix.rates (rate_deck_id, prefix, rate_per_minute, effective_from, effective_to)
    VALUES ('00000000-0000-4000-8000-00000000d001', '91', 0.40, '2025-04-01 00:00+05:30', '2025-03-01 00:00+05:30')$$) AS effective_to_before_from;
SELECT pg_temp.try($$INSERT INTO balatrix.rates (rate_deck_id, prefix, rate_per_minute, band_weekdays, band_start)
    VALUES ('00000000-0000-4000-8000-00000000d001', '91', 0.30, 31, '22:00')$$) AS band_without_end;
SELECT pg_temp.try($$INSERT INTO balatrix.rates (rate_deck_id, prefix, rate_per_minute, band_start, band_end)
    VALUES ('00000000-0000-4000-8000-00000000d001', '91', 0.30, '22:00', '06:00')$$) AS band_without_weekdays;
SELECT pg_temp.try($$INSERT INTO balatrix.rates (rate_deck_id, prefix, rate_per_minute, band_weekdays, band_start, band_end)
    VALUES ('00000000-0000-4000-8000-00000000d001', '91', 0.30, 127, '22:00', '06:00')$$) AS band_complete_wrapping;
SELECT pg_temp.try($$INSERT INTO balatrix.rates (rate_deck_id, prefix, rate_per_minute, initial_increment)
    VALUES ('00000000-0000-4000-8000-00000000d001', '91', 0.30, 0)$$) AS zero_increment;
SELECT pg_temp.try($$INSERT INTO balatrix.rates (rate_deck_id, prefix, rate_per_minute)
    VALUES ('00000000-0000-4000-8000-00000000d001', '91', -0.01)$$) AS negative_rate;

--
-- subscriptions: the account must belong to the subscription's customer (composite key)
--
SELECT pg_temp.try($$INSERT INTO balatrix.subscriptions (customer_id, account_id, rate_plan_id, recurring_price, anchor_day, started_at)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b002',
            '00000000-0000-4000-8000-00000000c001', 100, 1, '2025-03-01 00:00+05:30')$$) AS account_of_other_customer;
SELECT pg_temp.try($$INSERT INTO balatrix.subscriptions (customer_id, account_id, rate_plan_id, recurring_price, anchor_day, started_at, status)
    VALUES ('00000000-0000-4000-8000-00000000a002', '00000000-0000-4000-8000-00000000b002',
            '00000000-0000-4000-8000-00000000c001', 100, 1, '2025-03-01 00:00+05:30', 'trial')$$) AS trial_without_end;
SELECT pg_temp.try($$INSERT INTO balatrix.subscriptions (customer_id, account_id, rate_plan_id, recurring_price, anchor_day, started_at,
                                                         current_period_start, current_period_end)
    VALUES ('00000000-0000-4000-8000-00000000a002', '00000000-0000-4000-8000-00000000b002',
            '00000000-0000-4000-8000-00000000c001', 100, 1, '2025-03-01 00:00+05:30', '2025-04-01 00:00+05:30', '2025-03-01 00:00+05:30')$$) AS period_backwards;
SELECT pg_temp.try($$INSERT INTO balatrix.subscriptions (customer_id, account_id, rate_plan_id, recurring_price, anchor_day, started_at)
    VALUES ('00000000-0000-4000-8000-00000000a002', '00000000-0000-4000-8000-00000000b002',
            '00000000-0000-4000-8000-00000000c001', 100, 32, '2025-03-01 00:00+05:30')$$) AS anchor_day_32;

--
-- invoices and lines
--
-- (the issued examples are complete in every other respect, so only the rule under test fails)
SELECT pg_temp.try($$INSERT INTO balatrix.invoices (customer_id, account_id, status, issue_date, financial_year, issued_at)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'issued', '2025-04-01', '2526', '2025-04-01 10:00+05:30')$$) AS issued_without_number;
SELECT pg_temp.try($$INSERT INTO balatrix.invoices (customer_id, account_id, status, invoice_number, issue_date, financial_year, issued_at)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'issued', 'inv/2526/0000001', '2025-04-01', '2526', '2025-04-01 10:00+05:30')$$) AS number_lower_case;
SELECT pg_temp.try($$INSERT INTO balatrix.invoices (customer_id, account_id, status, invoice_number, issue_date, financial_year, issued_at)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'issued', 'INV/2025-26/000001', '2025-04-01', '2526', '2025-04-01 10:00+05:30')$$) AS number_18_chars;
SELECT pg_temp.try($$INSERT INTO balatrix.invoices (customer_id, account_id, status, invoice_number, issue_date, financial_year, issued_at)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'issued', 'INV/2526/0000001', '2025-04-01', '2526', '2025-04-01 10:00+05:30')$$) AS number_16_chars;
SELECT pg_temp.try($$INSERT INTO balatrix.invoices (customer_id, account_id, status, invoice_number, issue_date, financial_year, issued_at)
    VALUES ('00000000-0000-4000-8000-00000000a002', '00000000-0000-4000-8000-00000000b002', 'issued', 'INV/2526/0000001', '2025-04-01', '2526', '2025-04-01 10:00+05:30')$$) AS number_reused;
SELECT pg_temp.try($$INSERT INTO balatrix.invoices (customer_id, account_id, taxable_total, cgst_total, sgst_total, tax_total, total)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 100.00, 9.00, 9.00, 17.00, 117.00)$$) AS tax_total_not_sum_of_heads;
SELECT pg_temp.try($$INSERT INTO balatrix.invoices (customer_id, account_id, taxable_total, cgst_total, sgst_total, tax_total, total)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 100.00, 9.00, 9.00, 18.00, 117.00)$$) AS total_not_taxable_plus_tax;
SELECT pg_temp.try($$INSERT INTO balatrix.invoices (customer_id, account_id, taxable_total, cgst_total, igst_total, tax_total, total)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 100.00, 9.00, 18.00, 27.00, 127.00)$$) AS igst_with_cgst;
SELECT pg_temp.try($$INSERT INTO balatrix.invoices (customer_id, account_id, taxable_total, cgst_total, sgst_total, tax_total, round_off, total)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 100.40, 9.04, 9.04, 18.08, -0.48, 118.00)$$) AS rounded_to_rupee;
SELECT pg_temp.try($$INSERT INTO balatrix.invoices (customer_id, account_id, document_type)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'credit_note')$$) AS credit_note_without_invoice;
SELECT pg_temp.try($$INSERT INTO balatrix.invoices (customer_id, account_id)
    VALUES ('00000000-0000-4000-8000-00000000a002', '00000000-0000-4000-8000-00000000b001')$$) AS invoice_account_of_other_customer;
SELECT pg_temp.try($$INSERT INTO balatrix.invoice_lines (invoice_id, customer_id, line_no, kind, description, sac, taxable_value)
    VALUES ('00000000-0000-4000-8000-00000000f001', '00000000-0000-4000-8000-00000000a001', 1, 'plan', 'Test plan', '998412', -100.00)$$) AS negative_plan_line;
SELECT pg_temp.try($$INSERT INTO balatrix.invoice_lines (invoice_id, customer_id, line_no, kind, description, sac, taxable_value, cgst, sgst)
    VALUES ('00000000-0000-4000-8000-00000000f001', '00000000-0000-4000-8000-00000000a001', 1, 'discount', 'Launch offer', '998412', -10.00, -0.90, -0.90)$$) AS negative_discount_line;
SELECT pg_temp.try($$INSERT INTO balatrix.invoice_lines (invoice_id, customer_id, line_no, kind, description, sac, taxable_value, cgst, sgst)
    VALUES ('00000000-0000-4000-8000-00000000f001', '00000000-0000-4000-8000-00000000a001', 2, 'discount', 'Wrong sign of tax', '998412', -10.00, 0.90, 0.90)$$) AS tax_sign_differs;
SELECT pg_temp.try($$INSERT INTO balatrix.invoice_lines (invoice_id, customer_id, line_no, kind, description, sac, taxable_value)
    VALUES ('00000000-0000-4000-8000-00000000f001', '00000000-0000-4000-8000-00000000a001', 1, 'plan', 'Same line number', '998412', 100.00)$$) AS duplicate_line_no;
SELECT pg_temp.try($$INSERT INTO balatrix.invoice_lines (invoice_id, customer_id, line_no, kind, description, sac, taxable_value)
    VALUES ('00000000-0000-4000-8000-00000000f001', '00000000-0000-4000-8000-00000000a001', 3, 'plan', 'Bad SAC', '8471', 100.00)$$) AS sac_not_services;

--
-- payments
--
SELECT pg_temp.try($$INSERT INTO balatrix.payments (customer_id, account_id, purpose, gateway, amount)
    VALUES ('00000000-0000-4000-8000-00000000a002', '00000000-0000-4000-8000-00000000b002', 'top_up', 'razorpay', 0)$$) AS amount_zero;
SELECT pg_temp.try($$INSERT INTO balatrix.payments (customer_id, account_id, purpose, gateway, amount)
    VALUES ('00000000-0000-4000-8000-00000000a002', '00000000-0000-4000-8000-00000000b002', 'top_up', 'razorpay', -500)$$) AS amount_negative;
SELECT pg_temp.try($$INSERT INTO balatrix.payments (customer_id, account_id, purpose, gateway, amount, status, captured_at, amount_refunded)
    VALUES ('00000000-0000-4000-8000-00000000a002', '00000000-0000-4000-8000-00000000b002', 'top_up', 'razorpay', 500, 'refunded',
            '2025-03-14 10:00+05:30', 500.01)$$) AS refund_above_amount;
SELECT pg_temp.try($$INSERT INTO balatrix.payments (customer_id, account_id, purpose, gateway, amount, status)
    VALUES ('00000000-0000-4000-8000-00000000a002', '00000000-0000-4000-8000-00000000b002', 'top_up', 'razorpay', 500, 'captured')$$) AS captured_without_time;
SELECT pg_temp.try($$INSERT INTO balatrix.payments (customer_id, account_id, purpose, gateway, amount)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'invoice', 'razorpay', 118)$$) AS invoice_payment_without_invoice;
SELECT pg_temp.try($$INSERT INTO balatrix.payments (customer_id, account_id, purpose, gateway, amount, gateway_payment_id)
    VALUES ('00000000-0000-4000-8000-00000000a002', '00000000-0000-4000-8000-00000000b002', 'top_up', 'razorpay', 500, 'pay_X1'),
           ('00000000-0000-4000-8000-00000000a002', '00000000-0000-4000-8000-00000000b002', 'top_up', 'razorpay', 500, 'pay_X1')$$) AS gateway_payment_twice;

--
-- dids
--
SELECT pg_temp.try($$INSERT INTO balatrix.dids (number, status, customer_id)
    VALUES ('18001234567', 'available', '00000000-0000-4000-8000-00000000a001')$$) AS available_with_customer;
SELECT pg_temp.try($$INSERT INTO balatrix.dids (number, status, customer_id)
    VALUES ('18001234567', 'assigned', '00000000-0000-4000-8000-00000000a001')$$) AS assigned_without_account;
SELECT pg_temp.try($$INSERT INTO balatrix.dids (number, status, customer_id, account_id, assigned_at)
    VALUES ('18001234567', 'assigned', '00000000-0000-4000-8000-00000000a002', '00000000-0000-4000-8000-00000000b001', '2025-03-14 10:00+05:30')$$) AS assigned_to_account_of_other_customer;
SELECT pg_temp.try($$INSERT INTO balatrix.dids (number) VALUES ('+91 1800 123 4567')$$) AS number_not_digits;
SELECT pg_temp.try($$INSERT INTO balatrix.dids (number, status, customer_id, account_id, assigned_at)
    VALUES ('18001234567', 'assigned', '00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', '2025-03-14 10:00+05:30')$$) AS assigned_ok;

--
-- event_outbox
--
SELECT pg_temp.try($$INSERT INTO balatrix.event_outbox (event_type) VALUES ('Invoice Issued')$$) AS event_type_words;
SELECT pg_temp.try($$INSERT INTO balatrix.event_outbox (event_type) VALUES ('invoice')$$) AS event_type_without_dot;
SELECT pg_temp.try($$INSERT INTO balatrix.event_outbox (event_type, status) VALUES ('invoice.issued', 'done')$$) AS done_without_processed_at;
SELECT pg_temp.try($$INSERT INTO balatrix.event_outbox (event_type, customer_id, payload)
    VALUES ('balance.low', '00000000-0000-4000-8000-00000000a002', '{"balance": "99.5000"}')$$) AS event_ok;
ROLLBACK;

-- Nothing is left behind.
SELECT (SELECT count(*) FROM balatrix.customers) AS customers, (SELECT count(*) FROM balatrix.accounts) AS accounts,
       (SELECT count(*) FROM balatrix.invoices) AS invoices, (SELECT count(*) FROM balatrix.event_outbox) AS events;

--
-- The schema documents itself and is hardened.
--
-- Every table, view, function and domain of the schema has a COMMENT.
SELECT 'relation' AS kind, c.oid::regclass::text AS name
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace = 'balatrix'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND pg_catalog.obj_description(c.oid, 'pg_class') IS NULL
UNION ALL
SELECT 'function', p.oid::regprocedure::text
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'balatrix'::regnamespace AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NULL
UNION ALL
SELECT 'domain', t.oid::regtype::text
  FROM pg_catalog.pg_type t
 WHERE t.typnamespace = 'balatrix'::regnamespace AND t.typtype = 'd' AND pg_catalog.obj_description(t.oid, 'pg_type') IS NULL
ORDER BY 1, 2;
-- Every function pins search_path = pg_catalog, pg_temp (STYLE.md), so a caller's search_path
-- cannot redirect a name it uses. The exceptions. The hot C functions (a SET clause costs a GUC
-- nest level per call, a tenth of a bulk CDR load): tg_cdr_rate and match_rate fix the path in C
-- (pg_catalog only) around their queries (extension/pg/guard.hpp, ConnectSpiFixedPath); the actor
-- accessors (called per row by the API's row-level security policies) and hmac_sha256 run no SQL at
-- all, so no path can matter. And the procedure run_billing_cycle_job, which COMMITs between batches
-- (a procedure with a SET clause cannot): every name in it is schema-qualified. This list is exactly them.
SELECT p.oid::regprocedure AS function, p.proconfig
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'balatrix'::regnamespace
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)
 ORDER BY 1::text;
-- SECURITY DEFINER functions run as balatrix_owner, never as the superuser who installed the extension.
SELECT p.oid::regprocedure AS function, pg_catalog.pg_get_userbyid(p.proowner) AS owner
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'balatrix'::regnamespace AND p.prosecdef
   AND pg_catalog.pg_get_userbyid(p.proowner) <> 'balatrix_owner'
 ORDER BY 1::text;
-- Money is never floating point: no real / double precision column anywhere in the schema.
SELECT c.relname, a.attname, a.atttypid::regtype
  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
 WHERE c.relnamespace = 'balatrix'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
   AND a.atttypid IN ('real'::regtype, 'double precision'::regtype, 'money'::regtype)
 ORDER BY 1, 2;

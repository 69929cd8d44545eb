-- pgTAP: payments through the gateways (extension/sql/balatrix.sql, section "Payments through the gateways"):
-- the functions' contract, a checkout from quote to activation, outcomes reported more than once and out of
-- order, a partial refund with its credit note (amounts computed by hand: 100.00 gross at 18 % is 84.75 taxable +
-- 15.26 GST = 100.01, so the note carries a round-off of -0.01), a failed refund, a wallet top-up, the retry
-- schedule (2, 4, 8 hours, three tries), saved payment methods. The actor is set with set_actor, as
-- set_identity does after checking a token.
BEGIN;
SELECT plan(68);
SET LOCAL client_min_messages = warning;

-- ---- Contract -------------------------------------------------------------------------------
CREATE TEMP TABLE fns (f regprocedure, api boolean);
INSERT INTO fns VALUES
    ('balatrix.api_checkout(uuid, text, text, text, text, jsonb)', true), ('balatrix.api_pay_invoice(uuid, text, text)', true),
    ('balatrix.api_top_up(uuid, numeric, text, text)', true), ('balatrix.gateway_attach_order(uuid, text, jsonb)', true),
    ('balatrix.gateway_payment_captured(text, text, text, numeric, text, jsonb)', true),
    ('balatrix.gateway_payment_failed(text, text, text, text, text, text)', true),
    ('balatrix.gateway_pending_work(integer, integer)', true), ('balatrix.gateway_payment_by_order(text, text)', true),
    ('balatrix.gateway_payment_refused(uuid, text, text)', true),
    ('balatrix.api_begin_refund(uuid, numeric, text, text)', true), ('balatrix.gateway_refund_result(uuid, text, boolean, text)', true),
    ('balatrix.gateway_retry_payment(uuid)', true),
    ('balatrix.api_save_payment_method(uuid, text, text, text, text, text, text, integer, integer, boolean)', true),
    ('balatrix.api_update_payment_method(uuid, boolean, boolean)', true), ('balatrix.webhook_event_done(text, text, text, text)', true),
    ('balatrix.run_payment_retries(timestamptz)', false);
SELECT is((SELECT count(*)::integer FROM fns JOIN pg_catalog.pg_proc p ON p.oid = fns.f
            WHERE p.prosecdef AND p.proconfig = ARRAY['search_path=pg_catalog, pg_temp']
              AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NOT NULL
              AND pg_catalog.pg_get_userbyid(p.proowner) = 'balatrix_owner'),
          16, 'every payment function is SECURITY DEFINER, owned by balatrix_owner, with a pinned search_path and a comment');
SELECT is((SELECT count(*)::integer FROM fns WHERE api AND has_function_privilege('balatrix_api', f, 'EXECUTE')), 15,
          'balatrix_api may run the sidecar''s fifteen');
SELECT ok(NOT has_function_privilege('balatrix_api', 'balatrix.run_payment_retries(timestamptz)', 'EXECUTE'),
          'but not run_payment_retries (pg_cron''s)');
SELECT is((SELECT count(*)::integer FROM fns WHERE has_function_privilege('public', f, 'EXECUTE')), 0, 'PUBLIC may run none');
SELECT ok(NOT has_function_privilege('balatrix_api', 'balatrix.apply_captured_payment(uuid)', 'EXECUTE')
          AND NOT has_function_privilege('balatrix_api', 'balatrix.open_gateway_payment(uuid, text, text, numeric, uuid, uuid, text, jsonb)', 'EXECUTE'),
          'the internal helpers stay the owner''s');

-- ---- Fixtures ---------------------------------------------------------------------------------
SELECT balatrix.install_default_catalogue();
INSERT INTO balatrix.users (id, email, password_hash, first_name, last_name, role) VALUES
    ('00000000-0000-4000-8000-0000000000a1', 'pay.tap.a@example.in', 'x', 'A', 'Tap', 'customer'),
    ('00000000-0000-4000-8000-0000000000a2', 'pay.tap.admin@example.in', 'x', 'Ad', 'Min', 'admin'),
    ('00000000-0000-4000-8000-0000000000a3', 'pay.tap.b@example.in', 'x', 'B', 'Tap', 'customer');
INSERT INTO balatrix.customers (id, user_id, name, email, billing_state_code) VALUES
    ('00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-0000000000a1', 'Tap A', 'pay.tap.a@example.in', '29'),
    ('00000000-0000-4000-8000-0000000000c3', '00000000-0000-4000-8000-0000000000a3', 'Tap B', 'pay.tap.b@example.in', '29');
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type) VALUES
    ('00000000-0000-4000-8000-0000000000d1', '00000000-0000-4000-8000-0000000000c1', 'TAPPAY1', 'postpaid'),
    ('00000000-0000-4000-8000-0000000000d3', '00000000-0000-4000-8000-0000000000c3', 'TAPPAY3', 'prepaid');
CREATE FUNCTION pg_temp.as_a() RETURNS void LANGUAGE sql AS
$$ SELECT balatrix.set_actor('00000000-0000-4000-8000-0000000000a1', 'customer', '00000000-0000-4000-8000-0000000000c1') $$;
CREATE FUNCTION pg_temp.as_b() RETURNS void LANGUAGE sql AS
$$ SELECT balatrix.set_actor('00000000-0000-4000-8000-0000000000a3', 'customer', '00000000-0000-4000-8000-0000000000c3') $$;
CREATE FUNCTION pg_temp.as_admin() RETURNS void LANGUAGE sql AS
$$ SELECT balatrix.set_actor('00000000-0000-4000-8000-0000000000a2', 'admin', NULL) $$;
CREATE FUNCTION pg_temp.pay() RETURNS balatrix.payments LANGUAGE sql AS
$$ SELECT p FROM balatrix.payments p WHERE p.idempotency_key = 'tap-checkout-1' $$;

-- ---- Checkout -----------------------------------------------------------------------------------
SELECT throws_ok($$SELECT balatrix.api_checkout('00000000-0000-4000-8000-0000000000d1', 'STARTER', 'monthly', 'razorpay', 'tap-checkout-1')$$,
                 '42501', NULL, 'no actor, no checkout');
SELECT pg_temp.as_b();
SELECT throws_ok($$SELECT balatrix.api_checkout('00000000-0000-4000-8000-0000000000d1', 'STARTER', 'monthly', 'razorpay', 'tap-checkout-1')$$,
                 'P0002', 'account not found', 'another customer''s account is not found');
SELECT pg_temp.as_a();
SELECT throws_ok($$SELECT balatrix.api_checkout('00000000-0000-4000-8000-0000000000d1', 'STARTER', 'monthly', 'paypal', 'tap-checkout-x')$$,
                 '22023', NULL, 'an unknown gateway: 22023');
SELECT throws_ok($$SELECT balatrix.api_checkout('00000000-0000-4000-8000-0000000000d1', 'STARTER', 'monthly', 'razorpay', NULL)$$,
                 '22023', 'a checkout needs an idempotency key', 'no key: 22023');
CREATE TEMP TABLE co AS SELECT balatrix.api_checkout('00000000-0000-4000-8000-0000000000d1', 'STARTER', 'monthly', 'razorpay', 'tap-checkout-1') AS j;
SELECT is((SELECT j->>'amount' || ' ' || (j->>'amount_minor') || ' ' || (j->>'status') || ' ' || (j->>'purpose') FROM co),
          '411.82 41182 created subscription', 'checkout: 349.00 + 18 % = 411.82 (41182 paise), status created');
SELECT is((SELECT s.status || ' ' || i.status || ' ' || i.total || ' ' || i.billing_reason FROM balatrix.subscriptions s
             JOIN balatrix.invoices i ON i.subscription_id = s.id WHERE s.account_id = '00000000-0000-4000-8000-0000000000d1'),
          'pending issued 411.82 period', 'a pending subscription and its first period''s invoice, issued');
SELECT is(balatrix.api_checkout('00000000-0000-4000-8000-0000000000d1', 'STARTER', 'monthly', 'razorpay', 'tap-checkout-1')->>'id',
          (SELECT j->>'id' FROM co), 'the same key returns the same payment');
SELECT throws_ok($$SELECT balatrix.api_checkout('00000000-0000-4000-8000-0000000000d1', 'STARTER', 'monthly', 'stripe', 'tap-checkout-1')$$,
                 '22023', NULL, 'the same key for another gateway: 22023');
SELECT is(balatrix.api_checkout('00000000-0000-4000-8000-0000000000d1', 'STARTER', 'monthly', 'razorpay', 'tap-checkout-2')->>'id',
          (SELECT j->>'id' FROM co), 'a second checkout of the same plan while the first waits: the payment in progress');
SELECT throws_ok($$SELECT balatrix.api_checkout('00000000-0000-4000-8000-0000000000d1', 'PROFESSIONAL', 'monthly', 'razorpay', 'tap-checkout-3')$$,
                 '55000', NULL, 'a checkout of another plan while the first waits: 55000');

-- ---- The gateway's order and its outcomes -----------------------------------------------------
SELECT throws_ok($$SELECT balatrix.gateway_attach_order((SELECT id FROM pg_temp.pay()), 'order/../x')$$, '22023', NULL,
                 'an order id with other characters: 22023');
SELECT is(balatrix.gateway_attach_order((SELECT id FROM pg_temp.pay()), 'order_Tap0001')->>'status', 'pending', 'attached: pending');
SELECT is(balatrix.gateway_attach_order((SELECT id FROM pg_temp.pay()), 'order_Tap0001')->>'status', 'pending', 'attaching again is harmless');
SELECT throws_ok($$SELECT balatrix.gateway_attach_order((SELECT id FROM pg_temp.pay()), 'order_Tap0002')$$, '55000', NULL,
                 'another order for the same payment: 55000');
SELECT is((SELECT outcome FROM balatrix.gateway_payment_captured('razorpay', 'order_NotOurs', 'pay_X', 1.00, 'webhook')),
          'unknown_order', 'a capture for an order that is not ours: unknown_order');
SELECT is((SELECT outcome FROM balatrix.gateway_payment_captured('razorpay', 'order_Tap0001', 'pay_Tap0001', 411.00, 'webhook')),
          'amount_mismatch', 'a capture of another amount: amount_mismatch ...');
SELECT is((SELECT status FROM pg_temp.pay()), 'pending', '... which settles nothing');
SELECT throws_ok($$SELECT balatrix.gateway_payment_captured('razorpay', 'order_Tap0001', 'pay_Tap0001', 411.82, 'guess')$$, '22023', NULL,
                 'an unknown source: 22023');
SELECT is((SELECT outcome FROM balatrix.gateway_payment_captured('razorpay', 'order_Tap0001', 'pay_Tap0001', 411.82, 'webhook')),
          'captured', 'the capture: captured');
SELECT is((SELECT outcome FROM balatrix.gateway_payment_captured('razorpay', 'order_Tap0001', 'pay_Tap0001', 411.82, 'verify')),
          'already_captured', 'reported again (the verify after the webhook): already_captured');
SELECT is((SELECT outcome FROM balatrix.gateway_payment_captured('razorpay', 'order_Tap0001', 'pay_Tap0099', 411.82, 'webhook')),
          'second_payment', 'another gateway payment on the paid order: second_payment (kept for a refund)');
SELECT is((SELECT outcome FROM balatrix.gateway_payment_failed('razorpay', 'order_Tap0001', 'pay_Tap0000', 'X', 'late', 'webhook')),
          'ignored', 'a failure reported after the capture: ignored');
SELECT is((SELECT status || ' ' || (captured_at IS NOT NULL) FROM pg_temp.pay()), 'captured true', 'the payment stays captured');
SELECT is((SELECT i.status || ' ' || i.amount_paid FROM balatrix.invoices i WHERE i.id = (SELECT invoice_id FROM pg_temp.pay())),
          'paid 411.82', 'the invoice is paid');
SELECT is((SELECT s.status || ' ' || (s.current_period_start = i.period_start AND s.current_period_end = i.period_end)
             FROM balatrix.subscriptions s JOIN balatrix.invoices i ON i.subscription_id = s.id WHERE i.id = (SELECT invoice_id FROM pg_temp.pay())),
          'active true', 'the subscription is active for the invoiced period');
SELECT is((SELECT string_agg(entry_type || ':' || amount::numeric(14,2), ',' ORDER BY id) FROM balatrix.ledger
            WHERE account_id = '00000000-0000-4000-8000-0000000000d1'),
          'invoice:-411.82,payment:411.82', 'the ledger: the invoice and the payment, once');
SELECT is((SELECT string_agg(event_type, ',' ORDER BY id) FROM balatrix.event_outbox
            WHERE customer_id = '00000000-0000-4000-8000-0000000000c1' AND event_type IN ('payment.captured', 'invoice.paid', 'subscription.activated')),
          'payment.captured,invoice.paid,subscription.activated', 'one payment.captured, invoice.paid and subscription.activated');

-- ---- Refunds ---------------------------------------------------------------------------------
SELECT pg_temp.as_a();
SELECT throws_ok($$SELECT balatrix.api_begin_refund((SELECT id FROM pg_temp.pay()), 100.00, 'goodwill', 'tap-refund-0001')$$,
                 '42501', NULL, 'a customer cannot refund');
SELECT pg_temp.as_admin();
SELECT throws_ok($$SELECT balatrix.api_begin_refund((SELECT id FROM pg_temp.pay()), 411.83, 'too much', 'tap-refund-0009')$$,
                 '22023', NULL, 'more than the payment: 22023');
SELECT throws_ok($$SELECT balatrix.api_begin_refund((SELECT id FROM pg_temp.pay()), 100.00, NULL, 'tap-refund-0009')$$,
                 '22023', 'a refund needs a reason', 'no reason: 22023');
SELECT throws_ok($$SELECT balatrix.api_begin_refund((SELECT id FROM pg_temp.pay()), 100.00, 'x', 'short')$$,
                 '22023', NULL, 'a short idempotency key: 22023');
CREATE TEMP TABLE rf AS SELECT balatrix.api_begin_refund((SELECT id FROM pg_temp.pay()), 100.00, 'goodwill', 'tap-refund-0001') AS j;
SELECT is((SELECT j->>'status' || ' ' || (j->>'amount') || ' ' || (j->>'gateway_payment_id') FROM rf), 'pending 100.00 pay_Tap0001',
          'a pending refund of 100.00 for the gateway payment');
SELECT is(balatrix.api_begin_refund((SELECT id FROM pg_temp.pay()), 100.00, 'goodwill', 'tap-refund-0001')->>'id', (SELECT j->>'id' FROM rf),
          'the same key returns the same refund');
SELECT is((SELECT string_agg(entry_type, ',') FROM balatrix.ledger WHERE account_id = '00000000-0000-4000-8000-0000000000d1' AND entry_type IN ('refund', 'credit_note')),
          NULL, 'nothing moves before the gateway confirms');
SELECT is((SELECT outcome FROM balatrix.gateway_refund_result((SELECT (j->>'id')::uuid FROM rf), 'rfnd_Tap0001', true)), 'processed',
          'the gateway confirms: processed');
SELECT is((SELECT outcome FROM balatrix.gateway_refund_result((SELECT (j->>'id')::uuid FROM rf), 'rfnd_Tap0001', true)), 'already_processed',
          'confirmed again: already_processed');
SELECT is((SELECT n.status || ' ' || n.taxable_total || ' ' || n.tax_total || ' ' || n.round_off || ' ' || n.total
             FROM balatrix.invoices n JOIN balatrix.refunds r ON r.credit_note_id = n.id WHERE r.id = (SELECT (j->>'id')::uuid FROM rf)),
          'issued 84.75 15.26 -0.01 100.00', 'a credit note of exactly 100.00: 84.75 + 15.26 GST - 0.01 round-off');
SELECT is((SELECT i.status || ' ' || i.amount_paid || ' ' || i.amount_credited FROM balatrix.invoices i WHERE i.id = (SELECT invoice_id FROM pg_temp.pay())),
          'partially_refunded 311.82 100.00', 'the invoice: partially_refunded, 311.82 paid, 100.00 credited');
SELECT is((SELECT status || ' ' || amount_refunded FROM pg_temp.pay()), 'partially_refunded 100.00', 'the payment: partially_refunded 100.00');
SELECT is((SELECT string_agg(entry_type || ':' || amount::numeric(14,2), ',' ORDER BY id) FROM balatrix.ledger
            WHERE account_id = '00000000-0000-4000-8000-0000000000d1'),
          'invoice:-411.82,payment:411.82,credit_note:100.00,refund:-100.00', 'the ledger: credit note in, refund out');
CREATE TEMP TABLE rf2 AS SELECT balatrix.api_begin_refund((SELECT id FROM pg_temp.pay()), 50.00, 'second', 'tap-refund-0002') AS j;
SELECT is((SELECT outcome FROM balatrix.gateway_refund_result((SELECT (j->>'id')::uuid FROM rf2), NULL, false, 'declined')), 'failed',
          'a refund the gateway refuses: failed');
SELECT is((SELECT status || ' ' || amount_refunded FROM pg_temp.pay()), 'partially_refunded 100.00', '... moves nothing');
SELECT throws_ok($$SELECT balatrix.gateway_refund_result((SELECT (j->>'id')::uuid FROM rf), NULL, true)$$, '22023', NULL,
                 'a success without the gateway''s refund id: 22023');

-- ---- Wallet top-up ------------------------------------------------------------------------------
SELECT pg_temp.as_a();
SELECT throws_ok($$SELECT balatrix.api_top_up('00000000-0000-4000-8000-0000000000d1', 500.00, 'stripe', 'tap-topup-0001')$$,
                 '55000', NULL, 'a postpaid account takes no top-up');
SELECT pg_temp.as_b();
SELECT throws_ok($$SELECT balatrix.api_top_up('00000000-0000-4000-8000-0000000000d3', 0.99, 'stripe', 'tap-topup-0001')$$,
                 '22023', NULL, 'a top-up below 1.00: 22023');
CREATE TEMP TABLE tu AS SELECT balatrix.api_top_up('00000000-0000-4000-8000-0000000000d3', 500.00, 'stripe', 'tap-topup-0001') AS j;
SELECT balatrix.gateway_attach_order((SELECT (j->>'id')::uuid FROM tu), 'pi_Tap0001');
SELECT is((SELECT outcome FROM balatrix.gateway_payment_captured('stripe', 'pi_Tap0001', 'pi_Tap0001', 500.00, 'reconcile')), 'captured',
          'the top-up is captured');
SELECT is((SELECT string_agg(entry_type || ':' || amount::numeric(14,2), ',') || ' ' || max(balance_after)::numeric(14,2)
             FROM balatrix.ledger WHERE account_id = '00000000-0000-4000-8000-0000000000d3'),
          'top_up:500.00 500.00', 'the wallet: one top_up entry, balance 500.00');

SELECT pg_temp.as_b();
CREATE TEMP TABLE tu2 AS SELECT balatrix.api_top_up('00000000-0000-4000-8000-0000000000d3', 20.00, 'razorpay', 'tap-topup-0002') AS j;
SELECT is(balatrix.gateway_payment_refused((SELECT (j->>'id')::uuid FROM tu2), 'BAD_REQUEST_ERROR', 'refused'), 'failed',
          'an order the gateway refuses to create: the payment fails ...');
SELECT is(balatrix.gateway_payment_refused((SELECT (j->>'id')::uuid FROM tu2), 'BAD_REQUEST_ERROR', 'refused'), 'ignored',
          '... once');

-- ---- Failed payments and their retries ------------------------------------------------------------
CREATE TEMP TABLE inv AS SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-0000000000d1') AS id;
SELECT balatrix.add_invoice_line((SELECT id FROM inv), 'adjustment', 'Setup', 1, 1000.00, '998413');
SELECT balatrix.issue_invoice((SELECT id FROM inv));
SELECT pg_temp.as_a();
CREATE FUNCTION pg_temp.try(n integer) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    p uuid := (balatrix.api_pay_invoice((SELECT id FROM inv), 'stripe', 'tap-inv-try-' || n)->>'id')::uuid;
BEGIN
    PERFORM balatrix.gateway_attach_order(p, 'pi_TapTry' || n);
    -- failed_at is now() (this transaction's start), so the delay is next_retry_at - now().
    RETURN (SELECT coalesce(extract(epoch FROM f.next_retry_at - now())::bigint::text, 'none')
              FROM balatrix.gateway_payment_failed('stripe', 'pi_TapTry' || n, 'pi_TapTry' || n, 'card_declined', 'declined', 'verify') f);
END
$$;
SELECT is(pg_temp.try(1), '7200', 'the 1st failure: the next try 2 hours later');
SELECT is(balatrix.api_pay_invoice((SELECT id FROM inv), 'stripe', 'tap-inv-try-1')->>'status', 'failed',
          'the same key again returns the failed payment, it opens no other');
SELECT is(pg_temp.try(2), '14400', 'the 2nd: 4 hours');
SELECT is(pg_temp.try(3), '28800', 'the 3rd: 8 hours');
SELECT is(pg_temp.try(4), 'none', 'after the 3rd retry none is scheduled');
SELECT is(balatrix.run_payment_retries(now() + interval '3 hours'), 1, 'after 3 hours one retry is due (the 2-hour one)');
SELECT is(balatrix.run_payment_retries(now() + interval '3 hours'), 0, 'and not twice');
SELECT is((SELECT count(*)::integer FROM balatrix.event_outbox WHERE event_type = 'payment.retry_due'), 1, 'one payment.retry_due event');
SELECT is(balatrix.gateway_retry_payment((SELECT (payload->>'payment_id')::uuid FROM balatrix.event_outbox WHERE event_type = 'payment.retry_due')),
          NULL, 'without a saved method there is nothing to charge off-session');

-- ---- Saved payment methods ---------------------------------------------------------------------------
SELECT throws_ok($$SELECT balatrix.api_save_payment_method('00000000-0000-4000-8000-0000000000c1', 'stripe', NULL, '4111111111111111', 'card', NULL, NULL, NULL, NULL, false)$$,
                 '22023', NULL, 'a card number is refused: 22023');
CREATE TEMP TABLE pm AS
    SELECT balatrix.api_save_payment_method('00000000-0000-4000-8000-0000000000c1', 'stripe', 'cus_Tap1', 'pm_card_visa', 'card', 'visa', '4242', 12, 2030, false) AS id;
SELECT ok((SELECT m.is_default FROM balatrix.payment_methods m WHERE m.id = (SELECT id FROM pm)),
          'a pm_ token is saved, the first one as the default');
SELECT throws_ok($$SELECT balatrix.api_save_payment_method('00000000-0000-4000-8000-0000000000c1', 'stripe', 'cus_Tap1', 'pm_card_visa', 'card', NULL, NULL, NULL, NULL, false)$$,
                 '23505', NULL, 'the same token twice: 23505');
SELECT is(balatrix.gateway_retry_payment((SELECT (payload->>'payment_id')::uuid FROM balatrix.event_outbox WHERE event_type = 'payment.retry_due'))->>'gateway_method_id',
          'pm_card_visa', 'with a default method the retry payment carries its token');

SELECT is((SELECT count(*)::integer FROM balatrix.check_ledger()), 0, 'every balance equals its ledger');
SELECT * FROM finish();
ROLLBACK;

-- pgTAP: notifications (extension/sql/balatrix.sql, section "Notifications: customer webhook endpoints,
-- delivery planning, delivery outcomes"): the functions' contract (SECURITY DEFINER, owned by balatrix_owner,
-- pinned search_path, comments, executable by balatrix_api only), the endpoint secret hidden from the API
-- and from reporting, api_create_webhook_endpoint / api_delete_webhook_endpoint with their actor checks and
-- 22023s, and outbox_deliveries: what each event plans on which channel (e-mail, SMS, webhooks by event type),
-- the context (money as exact decimal strings, a real invoice's number, total and due date), the signed
-- envelope, a user.* event never planned for a webhook (not even for an endpoint that asks for it), a second
-- call returning only the unsent deliveries, another worker getting nothing, the lease renewed;
-- notification_sent / _failed only under the lease; release_event. Runs as balatrix_api where the sidecar
-- does. now() is constant within this transaction.
BEGIN;
SELECT plan(94);
SET LOCAL client_min_messages = warning;

-- ---- Contract -------------------------------------------------------------------------------
CREATE TEMP TABLE fns (f regprocedure);
INSERT INTO fns VALUES ('balatrix.api_create_webhook_endpoint(uuid, text, text[], text)'),
                       ('balatrix.api_delete_webhook_endpoint(uuid)'),
                       ('balatrix.outbox_deliveries(bigint, text, text[], integer)'),
                       ('balatrix.notification_sent(uuid, text, integer)'), ('balatrix.notification_failed(uuid, text, text, integer)'),
                       ('balatrix.release_event(bigint, text)');
SELECT is((SELECT count(*)::integer FROM fns JOIN pg_catalog.pg_proc p ON p.oid = fns.f
            WHERE p.prosecdef AND p.proconfig = ARRAY['search_path=pg_catalog, pg_temp']
              AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NOT NULL
              AND pg_catalog.pg_get_userbyid(p.proowner) = 'balatrix_owner'),
          6, 'the six functions are SECURITY DEFINER, owned by balatrix_owner, with a pinned search_path and a comment');
SELECT is((SELECT count(*)::integer FROM fns WHERE has_function_privilege('balatrix_api', f, 'EXECUTE')), 6, 'balatrix_api may run all six');
SELECT is((SELECT count(*)::integer FROM fns WHERE has_function_privilege('public', f, 'EXECUTE')), 0, 'PUBLIC may run none');
SELECT is((SELECT count(*)::integer FROM fns WHERE has_function_privilege('balatrix_readonly', f, 'EXECUTE')), 0, 'nor may reporting');
SELECT ok(NOT has_function_privilege('balatrix_api', 'balatrix.outbox_renew_lease(bigint, text, integer)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'balatrix.outbox_renew_lease(bigint, text, integer)', 'EXECUTE')
          AND obj_description('balatrix.outbox_renew_lease(bigint, text, integer)'::regprocedure, 'pg_proc') IS NOT NULL,
          'outbox_renew_lease: an internal helper, the owner''s');
SELECT ok(NOT has_function_privilege('balatrix_api', 'balatrix.outbox_payload_uuid(jsonb, text)', 'EXECUTE')
          AND (SELECT p.provolatile = 'i' AND obj_description(p.oid, 'pg_proc') IS NOT NULL FROM pg_catalog.pg_proc p
                WHERE p.oid = 'balatrix.outbox_payload_uuid(jsonb, text)'::regprocedure),
          'outbox_payload_uuid: an immutable internal helper, the owner''s');
SELECT ok((SELECT c.relrowsecurity AND obj_description(c.oid, 'pg_class') IS NOT NULL
             AND pg_catalog.pg_get_userbyid(c.relowner) = 'balatrix_owner'
             FROM pg_catalog.pg_class c WHERE c.oid = 'balatrix.webhook_endpoints'::regclass),
          'webhook_endpoints: owned by balatrix_owner, row-level security on, commented');
SELECT ok(has_column_privilege('balatrix_api', 'balatrix.webhook_endpoints', 'url', 'SELECT')
          AND NOT has_column_privilege('balatrix_api', 'balatrix.webhook_endpoints', 'secret', 'SELECT'),
          'balatrix_api reads the url but never the secret');
SELECT ok(has_column_privilege('balatrix_readonly', 'balatrix.webhook_endpoints', 'url', 'SELECT')
          AND NOT has_column_privilege('balatrix_readonly', 'balatrix.webhook_endpoints', 'secret', 'SELECT'),
          'nor does reporting');
SELECT ok(NOT has_table_privilege('balatrix_api', 'balatrix.webhook_endpoints', 'INSERT')
          AND NOT has_table_privilege('balatrix_api', 'balatrix.webhook_endpoints', 'UPDATE')
          AND NOT has_table_privilege('balatrix_api', 'balatrix.webhook_endpoints', 'DELETE'),
          'balatrix_api writes endpoints only through the api_* functions');

-- ---- Fixtures ---------------------------------------------------------------------------------
DELETE FROM balatrix.event_outbox;
INSERT INTO balatrix.users (id, email, password_hash, first_name, last_name, role) VALUES
    ('00000000-0000-4000-8000-00000000ba01', 'asha.tap@example.in', 'x', 'Asha', 'Tap', 'customer'),
    ('00000000-0000-4000-8000-00000000ba02', 'ravi.tap@example.in', 'x', 'Ravi', 'Tap', 'customer');
INSERT INTO balatrix.customers (id, user_id, name, email, phone, billing_state_code) VALUES
    ('00000000-0000-4000-8000-00000000bc01', '00000000-0000-4000-8000-00000000ba01', 'Asha Traders', 'billing@asha.example',
     '+919812345678', '29'),
    ('00000000-0000-4000-8000-00000000bc02', '00000000-0000-4000-8000-00000000ba02', 'Ravi Stores', 'ravi.tap@example.in',
     NULL, '29');
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type) VALUES
    ('00000000-0000-4000-8000-00000000bd01', '00000000-0000-4000-8000-00000000bc01', 'TAPNOTE1', 'postpaid');
INSERT INTO balatrix.webhook_endpoints (id, customer_id, url, secret, event_types, is_active) VALUES
    ('00000000-0000-4000-8000-00000000be01', '00000000-0000-4000-8000-00000000bc01', 'https://hooks.asha.example/all',
     'whsec_' || repeat('1', 64), '{*}', true),
    ('00000000-0000-4000-8000-00000000be02', '00000000-0000-4000-8000-00000000bc01', 'https://hooks.asha.example/invoices',
     'whsec_' || repeat('2', 64), '{invoice.issued}', true),
    ('00000000-0000-4000-8000-00000000be03', '00000000-0000-4000-8000-00000000bc01', 'https://hooks.asha.example/off',
     'whsec_' || repeat('3', 64), '{*}', false),
    ('00000000-0000-4000-8000-00000000be04', '00000000-0000-4000-8000-00000000bc01', 'https://hooks.asha.example/payments',
     'whsec_' || repeat('4', 64), '{payment.captured}', true),
    -- Asks for password resets by name: it never gets them.
    ('00000000-0000-4000-8000-00000000be05', '00000000-0000-4000-8000-00000000bc01', 'https://hooks.asha.example/users',
     'whsec_' || repeat('5', 64), '{user.password_reset_requested}', true),
    ('00000000-0000-4000-8000-00000000be06', '00000000-0000-4000-8000-00000000bc02', 'http://127.0.0.1:9/ravi',
     'whsec_' || repeat('6', 64), '{*}', true);
CREATE FUNCTION pg_temp.as_asha() RETURNS void LANGUAGE sql AS
$$ SELECT balatrix.set_actor('00000000-0000-4000-8000-00000000ba01', 'customer', '00000000-0000-4000-8000-00000000bc01') $$;
CREATE FUNCTION pg_temp.as_ravi() RETURNS void LANGUAGE sql AS
$$ SELECT balatrix.set_actor('00000000-0000-4000-8000-00000000ba02', 'customer', '00000000-0000-4000-8000-00000000bc02') $$;

-- The events. A real invoice: 1000.00 + 18 % GST (Karnataka to Karnataka: CGST 90.00 + SGST 90.00) = 1180.00,
-- issued 30 Nov 2026, due 15 days later. Its issue writes the invoice.issued event.
SELECT balatrix.create_invoice_draft('00000000-0000-4000-8000-00000000bd01') AS inv \gset
SELECT balatrix.add_invoice_line(:'inv', 'plan', 'Professional', 1, 1000.00);
SELECT balatrix.issue_invoice(:'inv', '2026-11-30') AS inv_number \gset
SELECT balatrix.auth_request_token('asha.tap@example.in', 'password_reset', sha256('tap-reset-token'::bytea),
                                   'tap-reset-token', 3600);
SELECT balatrix.emit_event('balance.low', '00000000-0000-4000-8000-00000000bc02', 'account', 'x',
                           '{"balance": 85.5000, "threshold": 100.0000, "account_number": "TAPLOW"}', NULL);
SELECT balatrix.emit_event('payment.captured', '00000000-0000-4000-8000-00000000bc01', 'payment', 'p',
                           '{"payment_id": "not-a-uuid", "amount": 1000.00, "currency": "INR", "payment_number": "P0000000077"}', NULL);
SELECT balatrix.emit_event('subscription.created', '00000000-0000-4000-8000-00000000bc01', 'subscription', 's', '{}', NULL);
SELECT balatrix.emit_event('billing.subscription_failed', NULL, 'subscription', 's', '{"error": "x"}', NULL);
CREATE TEMP TABLE ev AS
    SELECT CASE event_type WHEN 'invoice.issued' THEN 'invoice' WHEN 'user.password_reset_requested' THEN 'reset'
                           WHEN 'balance.low' THEN 'low' WHEN 'payment.captured' THEN 'paid'
                           WHEN 'subscription.created' THEN 'sub' ELSE 'orphan' END AS name, id, created_at, payload
      FROM balatrix.event_outbox;
GRANT SELECT ON ev TO balatrix_api;
CREATE FUNCTION pg_temp.eid(n text) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT id FROM ev WHERE name = n $$;
SELECT is((SELECT string_agg(name, ',' ORDER BY id) FROM ev), 'invoice,reset,low,paid,sub,orphan', 'six events to plan');

SET LOCAL ROLE balatrix_api;
CREATE TEMP TABLE claimed AS SELECT id FROM balatrix.claim_events('w1', 10, 60);
CREATE TEMP TABLE d1 AS SELECT *, row_number() OVER () AS n FROM balatrix.outbox_deliveries(pg_temp.eid('invoice'), 'w1', '{email,sms,webhook}');
RESET ROLE;
SELECT is((SELECT count(*)::integer FROM claimed), 6, 'w1 holds all six (as balatrix_api)');

-- ---- invoice.issued -------------------------------------------------------------------------------
SELECT results_eq($$SELECT channel, recipient, template FROM d1 ORDER BY n$$,
                  $$VALUES ('email'::text, 'billing@asha.example'::text, 'invoice.issued'::text),
                           ('webhook', 'https://hooks.asha.example/all', 'invoice.issued'),
                           ('webhook', 'https://hooks.asha.example/invoices', 'invoice.issued')$$,
                  'invoice.issued: an e-mail to the customer, webhooks to the endpoints for * and for invoice.issued '
                  '(not the inactive one, not the payments-only one); no SMS for this type');
SELECT is((SELECT context->>'invoice_number' || ' | ' || (context->>'total') || ' | ' || (context->>'due_date') || ' | '
                  || (context->>'issue_date') || ' | ' || (context->>'currency') || ' | ' || (context->>'first_name') || ' | '
                  || (context->>'customer_name') FROM d1 WHERE channel = 'email'),
          :'inv_number' || ' | 1180.00 | 15 Dec 2026 | 30 Nov 2026 | INR | Asha | Asha Traders',
          'the e-mail''s context: the invoice''s number, total as an exact decimal, dates, currency, names');
SELECT ok((SELECT bool_and(jsonb_typeof(value) = 'string') FROM d1, jsonb_each(d1.context) WHERE channel = 'email'),
          'every context member is a string');
SELECT ok((SELECT secret IS NULL AND envelope IS NULL FROM d1 WHERE channel = 'email'), 'an e-mail carries no secret or envelope');
SELECT is((SELECT array_agg(secret ORDER BY n) FROM d1 WHERE channel = 'webhook'),
          ARRAY['whsec_' || repeat('1', 64), 'whsec_' || repeat('2', 64)], 'each webhook carries its endpoint''s secret');
SELECT ok((SELECT bool_and(context IS NULL) FROM d1 WHERE channel = 'webhook'), 'and no context');
SELECT is((SELECT envelope::jsonb FROM d1 WHERE n = 2),
          jsonb_build_object('id', 'evt_' || pg_temp.eid('invoice'), 'type', 'invoice.issued',
                             'created', floor(extract(epoch FROM (SELECT created_at FROM ev WHERE name = 'invoice')))::bigint,
                             'data', (SELECT payload FROM ev WHERE name = 'invoice')),
          'the envelope: {"id": "evt_<id>", "type", "created" (Unix seconds), "data": the payload}');
SELECT ok((SELECT envelope ~ '"total": 1180.00' FROM d1 WHERE n = 2), 'the envelope text keeps the exact amount (1180.00)');
SELECT is((SELECT count(*)::integer FROM balatrix.notifications WHERE event_id = pg_temp.eid('invoice') AND status = 'pending'),
          3, 'three pending notifications recorded');
SELECT is((SELECT recipient || ' ' || (payload->>'url') FROM balatrix.notifications
            WHERE event_id = pg_temp.eid('invoice') AND channel = 'webhook' ORDER BY recipient LIMIT 1),
          '00000000-0000-4000-8000-00000000be01 https://hooks.asha.example/all', 'a webhook notification is keyed by its endpoint');

-- A second call plans nothing new and returns the same three; another worker gets nothing.
SELECT is((SELECT array_agg(notification_id ORDER BY notification_id)
             FROM balatrix.outbox_deliveries(pg_temp.eid('invoice'), 'w1', '{email,sms,webhook}')),
          (SELECT array_agg(notification_id ORDER BY notification_id) FROM d1), 'called again: the same three, unsent');
SELECT is((SELECT count(*)::integer FROM balatrix.notifications WHERE event_id = pg_temp.eid('invoice')), 3, 'no duplicate rows');
SELECT is((SELECT count(*)::integer FROM balatrix.outbox_deliveries(pg_temp.eid('invoice'), 'w2', '{email,sms,webhook}')),
          0, 'another worker gets nothing');

-- Outcomes.
SET LOCAL ROLE balatrix_api;
CREATE TEMP TABLE o1 AS SELECT balatrix.notification_sent((SELECT notification_id FROM d1 WHERE n = 1), 'w1') AS ok;
CREATE TEMP TABLE o2 AS SELECT balatrix.notification_failed((SELECT notification_id FROM d1 WHERE n = 2), 'w1', 'webhook: HTTP 500') AS ok;
CREATE TEMP TABLE d2 AS SELECT * FROM balatrix.outbox_deliveries(pg_temp.eid('invoice'), 'w1', '{email,sms,webhook}');
RESET ROLE;
SELECT ok((SELECT ok FROM o1) AND (SELECT ok FROM o2), 'notification_sent and notification_failed record (as balatrix_api)');
SELECT is((SELECT (status, attempts, sent_at, last_error) FROM balatrix.notifications WHERE id = (SELECT notification_id FROM d1 WHERE n = 1)),
          ('sent'::text, 1, now(), NULL::text), 'the e-mail: sent at now(), one attempt');
SELECT is((SELECT (status, attempts, sent_at, last_error) FROM balatrix.notifications WHERE id = (SELECT notification_id FROM d1 WHERE n = 2)),
          ('failed'::text, 1, NULL::timestamptz, 'webhook: HTTP 500'::text), 'the webhook: failed, one attempt, its error');
SELECT is((SELECT array_agg(recipient ORDER BY recipient) FROM d2),
          ARRAY['https://hooks.asha.example/all', 'https://hooks.asha.example/invoices'],
          'the retry returns only what is unsent: the failed webhook and the pending one, not the sent e-mail');
SELECT is(balatrix.notification_sent((SELECT notification_id FROM d1 WHERE n = 1), 'w1'), false, 'sent twice: false');
SELECT is(balatrix.notification_failed((SELECT notification_id FROM d1 WHERE n = 1), 'w1', 'late'), false,
          'a sent notification cannot become failed');
SELECT is((SELECT status FROM balatrix.notifications WHERE id = (SELECT notification_id FROM d1 WHERE n = 1)), 'sent', 'it stays sent');
SELECT is(balatrix.notification_sent((SELECT notification_id FROM d1 WHERE n = 3), 'w2'), false, 'another worker cannot record');
SELECT is(balatrix.notification_failed((SELECT notification_id FROM d1 WHERE n = 3), 'w2', 'x'), false, '... nor record a failure');
SELECT is((SELECT (status, attempts) FROM balatrix.notifications WHERE id = (SELECT notification_id FROM d1 WHERE n = 3)),
          ('pending'::text, 0), 'the third is untouched');
SELECT is(balatrix.notification_sent('00000000-0000-4000-8000-000000000000', 'w1'), false, 'an unknown notification: false');
SELECT is((SELECT locked_until FROM balatrix.event_outbox WHERE id = pg_temp.eid('invoice')), now() + interval '60 seconds',
          'outcomes without lease_seconds leave the lease alone');
SELECT is(balatrix.notification_failed((SELECT notification_id FROM d1 WHERE n = 2), 'w1', repeat('é', 2500), 600), true,
          'failing again is recorded');
SELECT is((SELECT (attempts, last_error) FROM balatrix.notifications WHERE id = (SELECT notification_id FROM d1 WHERE n = 2)),
          (2, repeat('é', 2000)), 'two attempts; the error cut to 2000 characters');
SELECT is((SELECT locked_until FROM balatrix.event_outbox WHERE id = pg_temp.eid('invoice')), now() + interval '600 seconds',
          'with lease_seconds an outcome renews the event''s lease (a heartbeat between sends)');

-- ---- user.password_reset_requested: an e-mail with the token, never a webhook -----------------------------
CREATE TEMP TABLE d3 AS SELECT * FROM balatrix.outbox_deliveries(pg_temp.eid('reset'), 'w1', '{email,sms,webhook}');
SELECT results_eq($$SELECT channel, recipient FROM d3$$, $$VALUES ('email'::text, 'asha.tap@example.in'::text)$$,
                  'a password reset: one e-mail to the user''s address, no SMS, no webhook (the customer has five endpoints)');
SELECT is((SELECT (context->>'token') || ' ' || (context->>'first_name') || ' ' || (context->>'email') FROM d3),
          'tap-reset-token Asha asha.tap@example.in', 'its context carries the token, the first name and the address');
SELECT ok((SELECT context->>'expires_at' ~ '^\d{2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} IST$' FROM d3), 'and the expiry, in IST');
SELECT is((SELECT count(*)::integer FROM balatrix.notifications WHERE event_id = pg_temp.eid('reset') AND channel = 'webhook'),
          0, 'no webhook notification exists for it');

-- ---- balance.low for a customer without a phone; payment.captured; channel filtering -------------------------
CREATE TEMP TABLE d4 AS SELECT * FROM balatrix.outbox_deliveries(pg_temp.eid('low'), 'w1', '{email,sms,webhook}');
SELECT results_eq($$SELECT channel, recipient FROM d4$$,
                  $$VALUES ('email'::text, 'ravi.tap@example.in'::text), ('webhook', 'http://127.0.0.1:9/ravi')$$,
                  'balance.low of a customer without a phone: e-mail and his own endpoint, no SMS');
SELECT is((SELECT (context->>'balance') || ' ' || (context->>'threshold') || ' ' || (context->>'account_number') FROM d4 WHERE channel = 'email'),
          '85.5000 100.0000 TAPLOW', 'balance and threshold as exact decimals, from the payload');
CREATE TEMP TABLE d5 AS SELECT * FROM balatrix.outbox_deliveries(pg_temp.eid('paid'), 'w1', '{webhook}');
SELECT results_eq($$SELECT channel, recipient FROM d5$$,
                  $$VALUES ('webhook'::text, 'https://hooks.asha.example/all'::text), ('webhook', 'https://hooks.asha.example/payments')$$,
                  'channels {webhook}: payment.captured plans its two webhooks only');
CREATE TEMP TABLE d6 AS SELECT * FROM balatrix.outbox_deliveries(pg_temp.eid('paid'), 'w1', '{email,sms,webhook}');
SELECT results_eq($$SELECT channel, recipient FROM d6$$,
                  $$VALUES ('email'::text, 'billing@asha.example'::text), ('sms', '+919812345678'),
                           ('webhook', 'https://hooks.asha.example/all'), ('webhook', 'https://hooks.asha.example/payments')$$,
                  'with every channel: the receipt e-mail and the SMS join the two webhooks');
SELECT is((SELECT (context->>'amount') || ' ' || (context->>'payment_number') FROM d6 WHERE channel = 'sms'),
          '1000.00 P0000000077', 'the amount exactly as paid; a payload id that is not a uuid is ignored');
SELECT is((SELECT count(*)::integer FROM balatrix.notifications WHERE event_id = pg_temp.eid('paid')), 4, 'four notifications, once each');
SELECT results_eq($$SELECT channel, recipient FROM balatrix.outbox_deliveries(pg_temp.eid('sub'), 'w1', '{email,sms,webhook}')$$,
                  $$VALUES ('webhook'::text, 'https://hooks.asha.example/all'::text)$$,
                  'subscription.created: no e-mail or SMS; the * endpoint only');
SELECT is((SELECT count(*)::integer FROM balatrix.outbox_deliveries(pg_temp.eid('orphan'), 'w1', '{email,sms,webhook}')),
          0, 'an event without a customer plans nothing');
SELECT is(balatrix.complete_event(pg_temp.eid('orphan'), 'w1'), true, 'and completes');

-- ---- Leases -----------------------------------------------------------------------------------------
SELECT is((SELECT locked_until FROM balatrix.event_outbox WHERE id = pg_temp.eid('low')), now() + interval '60 seconds',
          'the claim''s lease: 60 s');
SELECT is((SELECT count(*)::integer FROM balatrix.outbox_deliveries(pg_temp.eid('low'), 'w1', '{email}', 300)), 1, 'planning again');
SELECT is((SELECT locked_until FROM balatrix.event_outbox WHERE id = pg_temp.eid('low')), now() + interval '300 seconds',
          'renews the lease to now() + lease_seconds');
SELECT is((SELECT count(*)::integer FROM balatrix.outbox_deliveries(pg_temp.eid('low'), 'w1', '{email}', 5)), 1, 'a shorter lease');
SELECT is((SELECT locked_until FROM balatrix.event_outbox WHERE id = pg_temp.eid('low')), now() + interval '300 seconds',
          'never shortens it');
UPDATE balatrix.event_outbox SET locked_until = now() - interval '1 second' WHERE id = pg_temp.eid('sub');
SELECT is((SELECT count(*)::integer FROM balatrix.outbox_deliveries(pg_temp.eid('sub'), 'w1', '{webhook}')), 1,
          'an expired lease nobody took over is renewed');
SELECT is((SELECT locked_until FROM balatrix.event_outbox WHERE id = pg_temp.eid('sub')), now() + interval '60 seconds', '... to now() + 60 s');
SELECT is((SELECT count(*)::integer FROM balatrix.outbox_deliveries(pg_temp.eid('orphan'), 'w1', '{webhook}')), 0,
          'a done event: nothing');

-- release_event
SET LOCAL ROLE balatrix_api;
CREATE TEMP TABLE r1 AS SELECT balatrix.release_event(pg_temp.eid('sub'), 'w1') AS ok;
RESET ROLE;
SELECT is((SELECT ok FROM r1), true, 'release_event gives an event back (as balatrix_api)');
SELECT is((SELECT (locked_by, locked_until, attempts, status) FROM balatrix.event_outbox WHERE id = pg_temp.eid('sub')),
          (NULL::text, NULL::timestamptz, 0, 'pending'::text), 'lease cleared, the claim''s attempt taken back');
SELECT is(balatrix.release_event(pg_temp.eid('sub'), 'w1'), false, 'releasing again: false');
SELECT is(balatrix.release_event(pg_temp.eid('low'), 'w2'), false, 'another worker''s event: false');
SELECT is(ARRAY(SELECT id FROM balatrix.claim_events('w3')), ARRAY[pg_temp.eid('sub')], 'a released event is claimable at once');

-- ---- Webhook endpoints through the API ----------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM balatrix.api_create_webhook_endpoint('00000000-0000-4000-8000-00000000bc01', 'https://x.example/h')$$,
                 '42501', NULL, 'no actor: 42501');
SELECT pg_temp.as_ravi();
SELECT throws_ok($$SELECT * FROM balatrix.api_create_webhook_endpoint('00000000-0000-4000-8000-00000000bc01', 'https://x.example/h')$$,
                 'P0002', 'customer not found', 'another customer''s: not found');
SELECT throws_ok($$SELECT balatrix.api_delete_webhook_endpoint('00000000-0000-4000-8000-00000000be01')$$,
                 'P0002', 'webhook endpoint not found', 'nor can he delete hers');
SELECT pg_temp.as_asha();
SET LOCAL ROLE balatrix_api;
CREATE TEMP TABLE w1 AS SELECT * FROM balatrix.api_create_webhook_endpoint('00000000-0000-4000-8000-00000000bc01',
    'https://hooks.asha.example/new', ARRAY['payment.captured', 'invoice.issued', 'invoice.issued'], 'ERP');
CREATE TEMP TABLE w2 AS SELECT * FROM balatrix.api_create_webhook_endpoint('00000000-0000-4000-8000-00000000bc01',
    'HTTP://[::1]:8080/h?x=1#f');
CREATE TEMP TABLE seen AS SELECT id, url FROM balatrix.webhook_endpoints ORDER BY url;
RESET ROLE;
SELECT ok((SELECT secret ~ '^whsec_[0-9a-f]{64}$' FROM w1) AND (SELECT secret ~ '^whsec_[0-9a-f]{64}$' FROM w2)
          AND (SELECT secret FROM w1) <> (SELECT secret FROM w2), 'each endpoint gets its own whsec_ + 64 hex secret');
SELECT is((SELECT (w.customer_id, w.url, w.event_types, w.description, w.is_active, w.secret) FROM balatrix.webhook_endpoints w
            WHERE w.id = (SELECT id FROM w1)),
          ('00000000-0000-4000-8000-00000000bc01'::uuid, 'https://hooks.asha.example/new'::text,
           ARRAY['invoice.issued', 'payment.captured'], 'ERP'::text, true, (SELECT secret FROM w1)),
          'stored with its types deduplicated and sorted, and the secret returned');
SELECT is((SELECT event_types FROM balatrix.webhook_endpoints WHERE id = (SELECT id FROM w2)), ARRAY['*'], 'default types: {*}');
SELECT is((SELECT count(*)::integer FROM seen), 7, 'as balatrix_api with her as the actor: her seven endpoints, not his');
SET LOCAL ROLE balatrix_api;
SELECT throws_ok($$SELECT secret FROM balatrix.webhook_endpoints$$, '42501', NULL, 'reading the secret as balatrix_api: 42501');
RESET ROLE;
SELECT throws_ok($$SELECT * FROM balatrix.api_create_webhook_endpoint('00000000-0000-4000-8000-00000000bc01', 'ftp://x.example/h')$$,
                 '22023', NULL, 'ftp: 22023');
SELECT throws_ok($$SELECT * FROM balatrix.api_create_webhook_endpoint('00000000-0000-4000-8000-00000000bc01', 'https://user:pw@x.example/h')$$,
                 '22023', NULL, 'credentials in the URL: 22023');
SELECT throws_ok($$SELECT * FROM balatrix.api_create_webhook_endpoint('00000000-0000-4000-8000-00000000bc01', 'https://x.example/a b')$$,
                 '22023', NULL, 'a space: 22023');
SELECT throws_ok($$SELECT * FROM balatrix.api_create_webhook_endpoint('00000000-0000-4000-8000-00000000bc01', 'https://x.example/' || repeat('a', 2031))$$,
                 '22023', NULL, 'over 2048 bytes: 22023');
SELECT throws_ok($$SELECT * FROM balatrix.api_create_webhook_endpoint('00000000-0000-4000-8000-00000000bc01', 'https://x.example/h', ARRAY['user.password_reset_requested'])$$,
                 '22023', NULL, 'a user.* type: 22023');
SELECT throws_ok($$SELECT * FROM balatrix.api_create_webhook_endpoint('00000000-0000-4000-8000-00000000bc01', 'https://x.example/h', ARRAY['Invoice'])$$,
                 '22023', NULL, 'a malformed type: 22023');
SELECT throws_ok($$SELECT * FROM balatrix.api_create_webhook_endpoint('00000000-0000-4000-8000-00000000bc01', 'https://x.example/h', '{}')$$,
                 '22023', NULL, 'no type at all: 22023');
SELECT throws_ok($$SELECT * FROM balatrix.api_create_webhook_endpoint('00000000-0000-4000-8000-00000000bc01', 'https://x.example/h', NULL, repeat('d', 501))$$,
                 '22023', NULL, 'a description over 500 characters: 22023');
-- She has 6 active endpoints (be01, be02, be04, be05, w1, w2); 4 more reach the limit of 10.
SELECT balatrix.api_create_webhook_endpoint('00000000-0000-4000-8000-00000000bc01', 'https://x.example/' || g) FROM generate_series(1, 4) g;
SELECT throws_ok($$SELECT * FROM balatrix.api_create_webhook_endpoint('00000000-0000-4000-8000-00000000bc01', 'https://x.example/11')$$,
                 '22023', NULL, 'an eleventh active endpoint: 22023');
SELECT lives_ok($$SELECT balatrix.api_delete_webhook_endpoint((SELECT id FROM w2))$$, 'she deletes one');
SELECT is((SELECT count(*)::integer FROM balatrix.webhook_endpoints WHERE id = (SELECT id FROM w2)), 0, 'gone');
SELECT throws_ok($$SELECT balatrix.api_delete_webhook_endpoint((SELECT id FROM w2))$$, 'P0002', NULL, 'deleting it again: P0002');

-- ---- Bad arguments ------------------------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM balatrix.outbox_deliveries(1, NULL, '{email}')$$, '22023', NULL, 'no worker: 22023');
SELECT throws_ok($$SELECT * FROM balatrix.outbox_deliveries(1, 'w1', NULL)$$, '22023', NULL, 'channels NULL: 22023');
SELECT throws_ok($$SELECT * FROM balatrix.outbox_deliveries(1, 'w1', '{fax}')$$, '22023', NULL, 'an unknown channel: 22023');
SELECT throws_ok($$SELECT * FROM balatrix.outbox_deliveries(1, 'w1', '{email,NULL}')$$, '22023', NULL, 'a NULL channel: 22023');
SELECT throws_ok($$SELECT * FROM balatrix.outbox_deliveries(1, 'w1', '{email}', 0)$$, '22023', NULL, 'lease_seconds 0: 22023');
SELECT throws_ok($$SELECT balatrix.notification_sent(NULL, 'w1')$$, '22023', NULL, 'notification_sent without an id: 22023');
SELECT throws_ok($$SELECT balatrix.notification_failed('00000000-0000-4000-8000-000000000000', ' ', 'x')$$, '22023', NULL,
                 'notification_failed with a blank worker: 22023');
SELECT throws_ok($$SELECT balatrix.release_event(NULL, 'w1')$$, '22023', NULL, 'release_event without an id: 22023');

SELECT * FROM finish();
ROLLBACK;

-- Append-only: ledger and audit_log accept INSERT and refuse UPDATE, DELETE and TRUNCATE with
-- SQLSTATE 0A000 (feature_not_supported), whoever asks.
BEGIN;
SELECT plan(22);
-- (TRUNCATE ... CASCADE lists the tables it would reach as NOTICEs)
SET LOCAL client_min_messages = warning;

INSERT INTO balatrix.customers (id, name, billing_state_code)
    VALUES ('00000000-0000-4000-8000-00000000a001', 'Ledger Test Pvt Ltd', '29');
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type)
    VALUES ('00000000-0000-4000-8000-00000000b001', '00000000-0000-4000-8000-00000000a001', 'PGTAP-LEDGER-1', 'prepaid');

SELECT lives_ok($$
    INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after, idempotency_key)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'top_up', 500.00, 'INR', 500.00, 'pgtap-ledger-1'),
           ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'usage', -2.4750, 'INR', 497.5250, 'pgtap-ledger-2')
$$, 'INSERT into ledger works');
SELECT lives_ok($$
    INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after, reverses_id, idempotency_key)
    SELECT customer_id, account_id, 'reversal', -amount, currency, 500.00, id, 'pgtap-ledger-3'
      FROM balatrix.ledger WHERE idempotency_key = 'pgtap-ledger-2'
$$, 'a reversing entry is how a ledger entry is corrected');
SELECT lives_ok($$
    INSERT INTO balatrix.audit_log (actor_role, action, entity_type, entity_id, customer_id)
    VALUES ('admin', 'pgtap.ledger_test', 'account', '00000000-0000-4000-8000-00000000b001', '00000000-0000-4000-8000-00000000a001')
$$, 'INSERT into audit_log works');

SELECT throws_ok($$UPDATE balatrix.ledger SET amount = -1 WHERE idempotency_key = 'pgtap-ledger-2'$$,
                 '0A000', 'balatrix.ledger is append-only: UPDATE is not allowed', 'UPDATE ledger is refused');
SELECT throws_ok($$DELETE FROM balatrix.ledger WHERE idempotency_key = 'pgtap-ledger-2'$$,
                 '0A000', 'balatrix.ledger is append-only: DELETE is not allowed', 'DELETE FROM ledger is refused');
SELECT throws_ok($$TRUNCATE balatrix.ledger$$,
                 '0A000', 'balatrix.ledger is append-only: TRUNCATE is not allowed', 'TRUNCATE ledger is refused');
SELECT throws_ok($$TRUNCATE balatrix.accounts CASCADE$$,
                 '0A000', 'balatrix.ledger is append-only: TRUNCATE is not allowed', 'TRUNCATE accounts CASCADE is refused when it reaches the ledger');
SELECT throws_ok($$UPDATE balatrix.audit_log SET action = 'rewritten'$$,
                 '0A000', 'balatrix.audit_log is append-only: UPDATE is not allowed', 'UPDATE audit_log is refused');
SELECT throws_ok($$DELETE FROM balatrix.audit_log$$,
                 '0A000', 'balatrix.audit_log is append-only: DELETE is not allowed', 'DELETE FROM audit_log is refused');
SELECT throws_ok($$TRUNCATE balatrix.audit_log$$,
                 '0A000', 'balatrix.audit_log is append-only: TRUNCATE is not allowed', 'TRUNCATE audit_log is refused');

-- The table owner is refused too: the rule is a trigger, not a missing privilege.
SET LOCAL ROLE balatrix_owner;
SELECT throws_ok($$UPDATE balatrix.ledger SET description = 'x'$$, '0A000', NULL, 'balatrix_owner: UPDATE ledger is refused');
SELECT throws_ok($$DELETE FROM balatrix.ledger$$, '0A000', NULL, 'balatrix_owner: DELETE FROM ledger is refused');
SELECT throws_ok($$TRUNCATE balatrix.ledger$$, '0A000', NULL, 'balatrix_owner: TRUNCATE ledger is refused');
SELECT throws_ok($$DELETE FROM balatrix.audit_log$$, '0A000', NULL, 'balatrix_owner: DELETE FROM audit_log is refused');
SELECT lives_ok($$
    INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after, idempotency_key)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'adjustment', 1.00, 'INR', 501.00, 'pgtap-ledger-4')
$$, 'balatrix_owner: INSERT into ledger works');
RESET ROLE;

-- What makes no sense as an entry is rejected on INSERT.
SELECT throws_ok($$
    INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'adjustment', 0, 'INR', 501.00)
$$, '23514', 'new row for relation "ledger" violates check constraint "ledger_amount_nonzero"', 'a zero amount is rejected');
SELECT throws_ok($$
    INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'reversal', 1, 'INR', 502.00)
$$, '23514', 'new row for relation "ledger" violates check constraint "ledger_reversal"', 'a reversal must name the entry it reverses');

-- Every refused statement left the rows as they were.
SELECT results_eq($$SELECT idempotency_key, entry_type, amount, balance_after FROM balatrix.ledger
                     WHERE account_id = '00000000-0000-4000-8000-00000000b001' ORDER BY id$$,
                  $$VALUES ('pgtap-ledger-1'::text, 'top_up'::text, 500.0000::numeric, 500.0000::numeric),
                           ('pgtap-ledger-2', 'usage', -2.4750, 497.5250),
                           ('pgtap-ledger-3', 'reversal', 2.4750, 500.0000),
                           ('pgtap-ledger-4', 'adjustment', 1.0000, 501.0000)$$,
                  'the ledger rows are intact');
SELECT is((SELECT sum(amount) FROM balatrix.ledger WHERE account_id = '00000000-0000-4000-8000-00000000b001'), 501.0000::numeric,
          'the entries sum to the last balance_after');
SELECT results_eq($$SELECT action FROM balatrix.audit_log WHERE customer_id = '00000000-0000-4000-8000-00000000a001' ORDER BY id$$,
                  $$VALUES ('pgtap.ledger_test'::text)$$, 'the audit row is intact');
SELECT has_trigger('balatrix', 'ledger', 'ledger_append_only_trg', 'ledger has its append-only trigger');
SELECT has_trigger('balatrix', 'audit_log', 'audit_log_append_only_trg', 'audit_log has its append-only trigger');

SELECT * FROM finish();
ROLLBACK;

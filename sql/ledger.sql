--
-- Append-only tables: the ledger and the audit log refuse UPDATE, DELETE and TRUNCATE (SQLSTATE
-- 0A000), for every role including the owner; their CHECKs reject meaningless entries.
--
SET timezone = 'UTC';
-- SQLSTATE, message and hint of a refused statement (VERBOSITY verbose would print C line numbers).
CREATE FUNCTION pg_temp.refusal(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    hint text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ' ' || SQLERRM || coalesce(nullif(' (hint: ' || hint || ')', ' (hint: )'), '');
END
$$;
-- Ledger rows cannot be deleted: everything below runs in one transaction that is rolled back.
BEGIN;
INSERT INTO balatrix.customers (id, name, billing_state_code)
    VALUES ('00000000-0000-4000-8000-00000000a001', 'Ledger Test Pvt Ltd', '29');
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type)
    VALUES ('00000000-0000-4000-8000-00000000b001', '00000000-0000-4000-8000-00000000a001', 'LEDGER-1', 'prepaid');
-- A top-up (positive: in the customer's favour) and a call (negative).
INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after,
                             reference_type, reference_id, idempotency_key, description, created_at)
VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'top_up', 500.00, 'INR', 500.00,
        'payment', 'pay_001', 'ledger-test-1', 'Top-up', '2025-03-14 09:00:00+00'),
       ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'usage', -2.4750, 'INR', 497.5250,
        'cdr', 'a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607', 'ledger-test-2', 'Call to 4930901820', '2025-03-14 09:31:15+00');
SELECT entry_type, amount, currency, balance_after, reference_type, reference_id, created_by, created_at
  FROM balatrix.ledger ORDER BY id;

-- UPDATE, DELETE and TRUNCATE are refused with 0A000 and a hint.
SELECT pg_temp.refusal($$UPDATE balatrix.ledger SET amount = -1 WHERE entry_type = 'usage'$$) AS ledger_update;
SELECT pg_temp.refusal($$UPDATE balatrix.ledger SET description = 'typo fixed'$$) AS ledger_update_text;
SELECT pg_temp.refusal($$DELETE FROM balatrix.ledger WHERE entry_type = 'usage'$$) AS ledger_delete;
SELECT pg_temp.refusal('TRUNCATE balatrix.ledger') AS ledger_truncate;
-- A cascading TRUNCATE from the accounts side reaches the ledger and is refused too.
SELECT pg_temp.refusal('TRUNCATE balatrix.customers CASCADE') AS customers_truncate_cascade;
-- The ledger keeps its account and customer alive.
SELECT pg_temp.refusal($$DELETE FROM balatrix.accounts WHERE account_number = 'LEDGER-1'$$) AS account_delete;
-- The owner is refused as well: the rule is a trigger, not a privilege.
SET ROLE balatrix_owner;
SELECT pg_temp.refusal($$UPDATE balatrix.ledger SET amount = -1 WHERE entry_type = 'usage'$$) AS owner_update;
SELECT pg_temp.refusal('DELETE FROM balatrix.ledger') AS owner_delete;
SELECT pg_temp.refusal('TRUNCATE balatrix.ledger') AS owner_truncate;
RESET ROLE;

-- Entries that mean nothing are rejected by CHECKs.
SELECT pg_temp.refusal($$INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'adjustment', 0, 'INR', 497.5250)$$) AS amount_zero;
SELECT pg_temp.refusal($$INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'reversal', 2.4750, 'INR', 500.00)$$) AS reversal_without_reverses_id;
SELECT pg_temp.refusal($$INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after, reverses_id)
    SELECT customer_id, account_id, 'adjustment', 2.4750, 'INR', 500.00, id FROM balatrix.ledger WHERE entry_type = 'usage'$$) AS reverses_id_without_reversal;
SELECT pg_temp.refusal($$INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after, reverses_id)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'reversal', 2.4750, 'INR', 500.00, -1)$$) AS reversal_of_missing_entry;
SELECT pg_temp.refusal($$INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after, reference_type)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'adjustment', 1, 'INR', 498.5250, 'manual')$$) AS reference_type_without_id;
SELECT pg_temp.refusal($$INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'gift', 1, 'INR', 498.5250)$$) AS unknown_entry_type;
SELECT pg_temp.refusal($$INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'adjustment', 1, 'inr', 498.5250)$$) AS lower_case_currency;
-- The account must belong to the customer named on the entry.
SELECT pg_temp.refusal($$INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after)
    VALUES ('00000000-0000-4000-8000-00000000a002', '00000000-0000-4000-8000-00000000b001', 'adjustment', 1, 'INR', 498.5250)$$) AS account_of_other_customer;
-- An idempotency key is used once.
SELECT pg_temp.refusal($$INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after, idempotency_key)
    VALUES ('00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000b001', 'adjustment', 1, 'INR', 498.5250, 'ledger-test-2')$$) AS idempotency_key_reused;
-- The correction that is allowed: a reversing entry pointing at the wrong one.
INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after, reverses_id, description)
    SELECT customer_id, account_id, 'reversal', -amount, currency, 500.00, id, 'Reverses the call charge'
      FROM balatrix.ledger WHERE entry_type = 'usage';
-- Rows stay, unchanged; the balance is the sum of the entries.
SELECT entry_type, amount, balance_after, description,
       (SELECT r.entry_type FROM balatrix.ledger r WHERE r.id = l.reverses_id) AS reverses
  FROM balatrix.ledger l ORDER BY id;
SELECT count(*) AS entries, sum(amount) AS balance FROM balatrix.ledger;

--
-- Audit log
--
INSERT INTO balatrix.audit_log (occurred_at, actor_role, actor_ip, request_id, action, entity_type, entity_id, changes)
VALUES ('2025-03-14 09:00:00+00', 'admin', '10.0.0.20', 'req-1', 'customer.create', 'customer', '00000000-0000-4000-8000-00000000a001', '{"name": "Ledger Test Pvt Ltd"}'),
       ('2025-03-14 09:05:00+00', 'admin', '10.0.0.20', 'req-2', 'auth.login_failed', 'user', 'someone@example.com', NULL);
SELECT occurred_at, actor_role, actor_ip, action, entity_type, changes FROM balatrix.audit_log ORDER BY id;
SELECT pg_temp.refusal($$UPDATE balatrix.audit_log SET actor_ip = '192.0.2.1'$$) AS audit_update;
SELECT pg_temp.refusal($$DELETE FROM balatrix.audit_log WHERE action = 'auth.login_failed'$$) AS audit_delete;
SELECT pg_temp.refusal('TRUNCATE balatrix.audit_log') AS audit_truncate;
SET ROLE balatrix_owner;
SELECT pg_temp.refusal('DELETE FROM balatrix.audit_log') AS owner_audit_delete;
RESET ROLE;
SELECT pg_temp.refusal($$INSERT INTO balatrix.audit_log (action) VALUES (NULL)$$) AS audit_without_action;
SELECT count(*) AS audit_rows, count(*) FILTER (WHERE actor_ip = '10.0.0.20') AS unchanged FROM balatrix.audit_log;
ROLLBACK;
-- Nothing is left behind.
SELECT (SELECT count(*) FROM balatrix.ledger) AS ledger_rows, (SELECT count(*) FROM balatrix.audit_log) AS audit_rows,
       (SELECT count(*) FROM balatrix.accounts) AS accounts, (SELECT count(*) FROM balatrix.customers) AS customers;

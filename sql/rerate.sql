--
-- balatrix.rerate: stored CDRs rated again after a deck fix (and once an unknown account exists),
-- the differences posted as one adjustment per account. Every expected amount is worked out by
-- hand in the comments.
--
SET timezone = 'UTC';
-- Ledger rows cannot be deleted: everything runs in one transaction that is rolled back.
BEGIN;
SELECT balatrix.install_default_catalogue() > 0 AS catalogue_installed;

-- Customer, prepaid account RR1 with a ₹1000.0000 opening top-up, an active STARTER subscription
-- for March 2025 (IST) whose 100 included minutes (6000 s) are all used already.
INSERT INTO balatrix.customers (id, name, billing_state_code)
    VALUES ('00000000-0000-4000-8000-00000000e001', 'Rerate Test Pvt Ltd', '29');
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type)
    VALUES ('00000000-0000-4000-8000-00000000e101', '00000000-0000-4000-8000-00000000e001', 'RR1', 'prepaid');
INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after, reference_type, reference_id)
    VALUES ('00000000-0000-4000-8000-00000000e001', '00000000-0000-4000-8000-00000000e101', 'top_up', 1000.0000, 'INR', 1000.0000,
            'manual', 'opening');
UPDATE balatrix.accounts SET balance = 1000.0000 WHERE id = '00000000-0000-4000-8000-00000000e101';
INSERT INTO balatrix.subscriptions (id, customer_id, account_id, rate_plan_id, status, recurring_price, anchor_day,
                                    started_at, current_period_start, current_period_end)
SELECT '00000000-0000-4000-8000-00000000e201', '00000000-0000-4000-8000-00000000e001',
       '00000000-0000-4000-8000-00000000e101', p.id, 'active', 349, 1,
       '2025-03-01 00:00+05:30', '2025-03-01 00:00+05:30', '2025-04-01 00:00+05:30'
  FROM balatrix.rate_plans p WHERE p.code = 'STARTER';
INSERT INTO balatrix.subscription_usage (customer_id, subscription_id, period_start, period_end, included_seconds,
                                         included_used_seconds)
    VALUES ('00000000-0000-4000-8000-00000000e001', '00000000-0000-4000-8000-00000000e201',
            '2025-03-01 00:00+05:30', '2025-04-01 00:00+05:30', 6000, 6000);

-- CDRs with billmsec, stamps in the default balatrix.cdr_timezone (Asia/Kolkata), one statement each:
--  r1) India, 61000 ms -> 60/60 -> 120 s at ₹1.9900/min = ₹3.9800
--  r2) India, 30000 ms -> 60 s = ₹1.9900
--  r3) UK, 90000 ms -> 120 s at ₹6.0000/min (not against the allowance) = ₹12.0000
--  r4) accountcode RR2: no such account (yet) -> unknown_account, nothing charged
-- Balance: 1000 - 3.98 - 1.99 - 12.00 = 982.0300.
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billmsec,uuid,accountcode)
    VALUES ('+919876543210','2025-03-10 10:00:00','2025-03-10 10:00:05','2025-03-10 10:01:06',61000,'rr-1','RR1');
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billmsec,uuid,accountcode)
    VALUES ('09812345678','2025-03-11 09:00:00','2025-03-11 09:00:02','2025-03-11 09:00:32',30000,'rr-2','RR1');
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billmsec,uuid,accountcode)
    VALUES ('+442079460000','2025-03-12 18:00:00','2025-03-12 18:00:03','2025-03-12 18:01:33',90000,'rr-3','RR1');
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billmsec,uuid,accountcode)
    VALUES ('+919999900000','2025-03-13 12:00:00','2025-03-13 12:00:01','2025-03-13 12:02:06',125000,'rr-4','RR2');
SELECT uuid, rating_status, billed_seconds, included_seconds, rate_per_minute, charge, ledger_id IS NOT NULL AS has_ledger
  FROM balatrix.cdr WHERE uuid LIKE 'rr-%' ORDER BY id;
SELECT balance FROM balatrix.accounts WHERE account_number = 'RR1';

-- rate_cdr answers without writing: r1 as the trigger rated it, and with 60 s of allowance left
-- (60 s included, 60 s charged = ₹1.9900, overage 60 s).
SELECT r.rating_status, r.billed_seconds, r.included_seconds, r.charge, r.overage_seconds, r.overage_charge
  FROM balatrix.cdr c, (VALUES (0), (60)) v (a), LATERAL balatrix.rate_cdr(c, v.a) r
 WHERE c.uuid = 'rr-1' ORDER BY v.a;

-- The deck is fixed: a new STARTER_DOMESTIC version with India at ₹1.5000/min.
SELECT balatrix.new_rate_deck_version('STARTER_DOMESTIC') AS draft \gset
UPDATE balatrix.rates SET rate_per_minute = 1.5000 WHERE rate_deck_id = :'draft' AND prefix = '91';
SELECT balatrix.publish_rate_deck(:'draft') = :'draft' AS published;

-- Re-rating March (IST):
--  r1) 120 s at ₹1.5000 = ₹3.0000 (was 3.9800: 0.9800 back)
--  r2)  60 s at ₹1.5000 = ₹1.5000 (was 1.9900: 0.4900 back)
--  r3) still ₹12.0000, but the rate is now the new version's UK row: changed, no money
--  r4) RR2 still unknown: unchanged
-- 4 examined, 3 changed; one adjustment of +1.4700 (0.98 + 0.49) carried by r1 and r2 (cdr_count 2):
-- balance 982.03 + 1.47 = 983.5000.
SELECT max(id) AS ledger_before_rerate FROM balatrix.ledger \gset
SELECT * FROM balatrix.rerate('2025-03-01 00:00+05:30', '2025-04-01 00:00+05:30');
-- r1 and r2 now point to the adjustment; r3 keeps the usage entry that carried its (unchanged) charge.
SELECT uuid, rating_status, billed_seconds, included_seconds, rate_per_minute, charge,
       CASE WHEN ledger_id > :ledger_before_rerate THEN 'adjustment' WHEN ledger_id IS NOT NULL THEN 'original' END AS ledger
  FROM balatrix.cdr WHERE uuid LIKE 'rr-%' ORDER BY id;
SELECT l.entry_type, l.amount, l.balance_after, l.reference_type,
       l.reference_id = (SELECT c.id::text FROM balatrix.cdr c WHERE c.uuid = 'rr-1') AS reference_is_r1,
       l.description, l.metadata
  FROM balatrix.ledger l WHERE l.entry_type = 'adjustment' ORDER BY l.id;
SELECT balance FROM balatrix.accounts WHERE account_number = 'RR1';
-- Usage: allowance still all used; overage 120 + 60 s, ₹3.0000 + ₹1.5000 = 4.5000; UK in other_charge.
SELECT included_seconds, included_used_seconds, overage_seconds, overage_charge, other_charge, call_count
  FROM balatrix.subscription_usage WHERE subscription_id = '00000000-0000-4000-8000-00000000e201';
SELECT count(*) AS check_ledger FROM balatrix.check_ledger();

-- Account RR2 is created (₹100.0000 top-up, STARTER, 120 s of allowance left) and only it is re-rated:
--  r4) India, 125000 ms -> 180 s; 120 s included, 60 s at ₹1.5000 = ₹1.5000.
-- 1 examined (accountcode RR2), 1 changed; adjustment -1.5000: balance 100 - 1.50 = 98.5000.
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type)
    VALUES ('00000000-0000-4000-8000-00000000e102', '00000000-0000-4000-8000-00000000e001', 'RR2', 'prepaid');
INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after, reference_type, reference_id)
    VALUES ('00000000-0000-4000-8000-00000000e001', '00000000-0000-4000-8000-00000000e102', 'top_up', 100.0000, 'INR', 100.0000,
            'manual', 'opening');
UPDATE balatrix.accounts SET balance = 100.0000 WHERE id = '00000000-0000-4000-8000-00000000e102';
INSERT INTO balatrix.subscriptions (id, customer_id, account_id, rate_plan_id, status, recurring_price, anchor_day,
                                    started_at, current_period_start, current_period_end)
SELECT '00000000-0000-4000-8000-00000000e202', '00000000-0000-4000-8000-00000000e001',
       '00000000-0000-4000-8000-00000000e102', p.id, 'active', 349, 1,
       '2025-03-01 00:00+05:30', '2025-03-01 00:00+05:30', '2025-04-01 00:00+05:30'
  FROM balatrix.rate_plans p WHERE p.code = 'STARTER';
INSERT INTO balatrix.subscription_usage (customer_id, subscription_id, period_start, period_end, included_seconds,
                                         included_used_seconds)
    VALUES ('00000000-0000-4000-8000-00000000e001', '00000000-0000-4000-8000-00000000e202',
            '2025-03-01 00:00+05:30', '2025-04-01 00:00+05:30', 6000, 5880);
SELECT * FROM balatrix.rerate('2025-03-01 00:00+05:30', '2025-04-01 00:00+05:30', 'RR2');
SELECT uuid, rating_status, rating_reason, billed_seconds, included_seconds, charge,
       account_id = '00000000-0000-4000-8000-00000000e102' AS account_rr2,
       ledger_id = (SELECT max(l.id) FROM balatrix.ledger l WHERE l.entry_type = 'adjustment') AS on_adjustment
  FROM balatrix.cdr WHERE uuid = 'rr-4';
SELECT l.entry_type, l.amount, l.balance_after, l.reference_type, l.description, l.metadata
  FROM balatrix.ledger l WHERE l.entry_type = 'adjustment'
   AND l.account_id = '00000000-0000-4000-8000-00000000e102';
SELECT account_number, balance FROM balatrix.accounts WHERE account_number IN ('RR1', 'RR2') ORDER BY 1;
-- RR2's usage: 5880 + 120 = 6000 s used; 60 s and ₹1.5000 overage; one call.
SELECT included_seconds, included_used_seconds, overage_seconds, overage_charge, other_charge, call_count
  FROM balatrix.subscription_usage WHERE subscription_id = '00000000-0000-4000-8000-00000000e202';
SELECT count(*) AS check_ledger FROM balatrix.check_ledger();

-- Again, nothing to change: no CDR, no ledger row, no balance moves.
SELECT count(*) AS ledger_rows_before FROM balatrix.ledger;
SELECT * FROM balatrix.rerate('2025-03-01 00:00+05:30', '2025-04-01 00:00+05:30');
SELECT * FROM balatrix.rerate('2025-03-01 00:00+05:30', '2025-04-01 00:00+05:30', 'RR2');
SELECT count(*) AS ledger_rows_after FROM balatrix.ledger;
SELECT account_number, balance FROM balatrix.accounts WHERE account_number IN ('RR1', 'RR2') ORDER BY 1;
-- An empty range.
SELECT * FROM balatrix.rerate('2025-05-01', '2025-06-01');

-- Errors: 22023 for an empty or reversed range, P0002 for an unknown account, 22023 for a negative allowance.
\set VERBOSITY terse
SAVEPOINT s;
SELECT * FROM balatrix.rerate('2025-04-01', '2025-03-01');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT s;
SELECT * FROM balatrix.rerate('2025-03-01', '2025-03-01');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT s;
SELECT * FROM balatrix.rerate('2025-03-01', '2025-04-01', 'NO-SUCH');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT s;
SELECT * FROM balatrix.cdr c, LATERAL balatrix.rate_cdr(c, -1) WHERE c.uuid = 'rr-1';
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO SAVEPOINT s;
\set VERBOSITY default
ROLLBACK;

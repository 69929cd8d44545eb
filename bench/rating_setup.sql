-- Shared setup of the rating benchmarks (bench/rating_insert.sh, bench/rating_bulk.sh): the default
-- catalogue, CDR partitions for this month, one prepaid account '1001' with a large balance and an
-- active Starter subscription whose allowance is used up (so every call is charged: the full money
-- path — rating, ledger, usage, balance), and bench.cdr_plain, the same table without any trigger.
SET client_min_messages = warning;
SELECT balatrix.install_default_catalogue();
SELECT balatrix.create_cdr_partitions(1);
INSERT INTO balatrix.customers (name, billing_state_code) VALUES ('Bench Telecom', '29');
INSERT INTO balatrix.accounts (customer_id, account_number, account_type, balance)
SELECT id, '1001', 'prepaid', 0 FROM balatrix.customers;
INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after, reference_type, reference_id)
SELECT customer_id, id, 'top_up', 100000000, 'INR', 100000000, 'manual', 'bench' FROM balatrix.accounts;
UPDATE balatrix.accounts SET balance = 100000000;
INSERT INTO balatrix.subscriptions (customer_id, account_id, rate_plan_id, status, recurring_price, anchor_day,
                                    started_at, current_period_start, current_period_end)
SELECT a.customer_id, a.id, p.id, 'active', p.monthly_price, 1,
       date_trunc('month', now()), date_trunc('month', now()), date_trunc('month', now()) + interval '1 month'
  FROM balatrix.accounts a, balatrix.rate_plans p WHERE p.code = 'STARTER';
INSERT INTO balatrix.subscription_usage (customer_id, subscription_id, period_start, period_end, included_seconds, included_used_seconds)
SELECT customer_id, id, current_period_start, current_period_end, 6000, 6000 FROM balatrix.subscriptions;
CREATE SCHEMA bench;
CREATE TABLE bench.cdr_plain (LIKE balatrix.cdr INCLUDING DEFAULTS);
ANALYZE;

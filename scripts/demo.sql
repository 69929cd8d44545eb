-- Demo data for `make run`: the default catalogue, customers in different States (intra-State,
-- inter-State, a Union Territory, B2B and B2C), prepaid and postpaid accounts, SIP extensions,
-- DIDs, subscriptions and opening top-ups (each with its ledger entry). Loaded once: a second run
-- finds the first demo account and changes nothing.
\set ON_ERROR_STOP on
SELECT balatrix.install_default_catalogue() AS catalogue_rows_added;
SELECT count(*) AS cdr_partitions_added FROM balatrix.create_cdr_partitions(3);

DO $demo$
DECLARE
    plan_starter uuid := (SELECT id FROM balatrix.rate_plans WHERE code = 'STARTER');
    plan_pro     uuid := (SELECT id FROM balatrix.rate_plans WHERE code = 'PROFESSIONAL');
    plan_cc      uuid := (SELECT id FROM balatrix.rate_plans WHERE code = 'CALL_CENTER');
    period_start timestamptz := date_trunc('month', now());
    c record;
    cust uuid;
    acct uuid;
    sub uuid;
BEGIN
    IF EXISTS (SELECT 1 FROM balatrix.accounts WHERE account_number = 'KA1001') THEN
        RAISE NOTICE 'demo data already loaded';
        RETURN;
    END IF;

    -- Toll-free inventory.
    INSERT INTO balatrix.dids (number, number_type, monthly_rent)
    SELECT '18001230' || lpad(n::text, 3, '0'), 'toll_free', 199.00 FROM generate_series(1, 12) AS n;
    INSERT INTO balatrix.dids (number, number_type, monthly_rent)
    SELECT '18605550' || lpad(n::text, 3, '0'), 'toll_free', 499.00 FROM generate_series(1, 3) AS n;

    FOR c IN
        SELECT * FROM (VALUES
            -- name, company, type, state, gstin, pan, account, account type, credit, plan, top-up, extensions
            ('Kaveri Tech Solutions', 'Kaveri Tech Solutions Pvt Ltd', 'enterprise', '29', '29AAGCB7383J1Z4', 'AAGCB7383J',
             'KA1001', 'postpaid', 5000.00, plan_pro, NULL::numeric, ARRAY['1001', '1002', '1003']),
            ('Sahyadri Traders', 'Sahyadri Traders LLP', 'small_business', '27', '27AAPFU0939F1ZV', 'AAPFU0939F',
             'MH2001', 'prepaid', 0, plan_starter, 1000.00, ARRAY['2001', '2002']),
            ('Chandigarh Call Care', NULL, 'small_business', '04', NULL, NULL,
             'CH3001', 'prepaid', 0, plan_cc, 5000.00, ARRAY['3001', '3002', '3003', '3004']),
            ('Anita Sharma', NULL, 'individual', '07', NULL, NULL,
             'DL4001', 'prepaid', 0, plan_starter, 150.00, ARRAY['4001'])
        ) AS v(name, company, btype, state, gstin, pan, account_number, account_type, credit, plan, top_up, extensions)
    LOOP
        INSERT INTO balatrix.customers (name, company_name, business_type, billing_state_code, gstin, pan,
                                        email, kyc_status, billing_city)
        VALUES (c.name, c.company, c.btype, c.state, c.gstin, c.pan,
                lower(replace(c.name, ' ', '.')) || '@example.in', 'verified',
                (SELECT CASE c.state WHEN '29' THEN 'Bengaluru' WHEN '27' THEN 'Pune' WHEN '04' THEN 'Chandigarh' ELSE 'New Delhi' END))
        RETURNING id INTO cust;

        INSERT INTO balatrix.accounts (customer_id, account_number, account_type, credit_limit)
        VALUES (cust, c.account_number, c.account_type, c.credit)
        RETURNING id INTO acct;

        INSERT INTO balatrix.sip_extensions (customer_id, account_id, extension, display_name)
        SELECT cust, acct, e, c.name || ' ' || e FROM unnest(c.extensions) AS e;

        INSERT INTO balatrix.subscriptions (customer_id, account_id, rate_plan_id, status, billing_cycle, recurring_price,
                                            anchor_day, started_at, current_period_start, current_period_end)
        SELECT cust, acct, p.id, 'active', 'monthly', p.monthly_price, 1, period_start, period_start,
               period_start + interval '1 month'
          FROM balatrix.rate_plans p WHERE p.id = c.plan
        RETURNING id INTO sub;

        -- The plan's toll-free numbers.
        WITH picked AS (
            SELECT d.id FROM balatrix.dids d
             WHERE d.status = 'available' AND d.number LIKE '1800%'
             ORDER BY d.number
             LIMIT (SELECT included_tfns FROM balatrix.rate_plans WHERE id = c.plan)
        ), assigned AS (
            UPDATE balatrix.dids d
               SET status = 'assigned', customer_id = cust, account_id = acct, subscription_id = sub, assigned_at = period_start
              FROM picked WHERE d.id = picked.id
            RETURNING d.id, d.monthly_rent
        )
        INSERT INTO balatrix.did_assignments (did_id, customer_id, account_id, subscription_id, monthly_rent, assigned_at)
        SELECT id, cust, acct, sub, monthly_rent, period_start FROM assigned;

        -- An opening top-up: the balance moves only together with its ledger entry.
        IF c.top_up IS NOT NULL THEN
            INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after,
                                         reference_type, reference_id, description)
            VALUES (cust, acct, 'top_up', c.top_up, 'INR', c.top_up, 'manual', 'demo-opening-balance', 'Opening top-up (demo)');
            UPDATE balatrix.accounts SET balance = balance + c.top_up WHERE id = acct;
        END IF;
    END LOOP;
END
$demo$;

-- A few calls of the last minutes, inserted the way FreeSWITCH's mod_cdr_pg_csv would (with the
-- recommended epoch and billmsec fields) and rated by the trigger. Their uuids make a second load a
-- no-op (duplicates are dropped).
INSERT INTO balatrix.cdr (uuid, direction, accountcode, caller_id_number, destination_number, context,
                          start_uepoch, answer_uepoch, end_uepoch, billmsec, billsec, hangup_cause)
SELECT 'demo-call-' || n, 'inbound', acct, ext, dest, ctx,
       (extract(epoch FROM started) * 1000000)::bigint,
       (extract(epoch FROM started + interval '6 seconds') * 1000000)::bigint,
       (extract(epoch FROM started + interval '6 seconds' + ms * interval '1 millisecond') * 1000000)::bigint,
       ms, ceil(ms / 1000.0)::bigint, 'NORMAL_CLEARING'
  FROM (VALUES (1, 'KA1001', '1001', '9876543210', 'default', 252245),
               (2, 'KA1001', '1002', '+442079460000', 'default', 61000),
               (3, 'MH2001', '2001', '08023456789', 'default', 45500),
               (4, NULL, '+919812345678', '18001230001', 'public', 183000),
               (5, 'NO-SUCH-ACCOUNT', '5001', '9876543210', 'default', 30000)
       ) AS calls(n, acct, ext, dest, ctx, ms),
       LATERAL (SELECT now() - (20 - n) * interval '1 minute' AS started) t;

SELECT uuid, coalesce(accountcode, '(DID)') AS accountcode, destination_number, rating_status,
       billed_seconds, included_seconds, charge, rating_reason
  FROM balatrix.cdr WHERE uuid LIKE 'demo-call-%' ORDER BY uuid;

SELECT c.customer_number, c.name, s.name AS state, a.account_number, a.account_type, a.balance,
       p.name AS plan, (SELECT count(*) FROM balatrix.dids d WHERE d.account_id = a.id) AS tfns
  FROM balatrix.customers c
  JOIN balatrix.gst_states s ON s.code = c.billing_state_code
  JOIN balatrix.accounts a ON a.customer_id = c.id
  JOIN balatrix.subscriptions sub ON sub.account_id = a.id
  JOIN balatrix.rate_plans p ON p.id = sub.rate_plan_id
 ORDER BY c.customer_number;

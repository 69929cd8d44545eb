--
-- balatrix.rate_call (balatrix.sql, section "Rating"): prices a call without writing, through the
-- per-backend rate cache; the cache follows deck changes made in the same session. Expected values
-- are worked out by hand from the default STARTER deck (install_default_catalogue: 91 at ₹1.99/min,
-- USA / Canada 1 at ₹6.00/min outside the allowance, all 60/60), never read back from the code.
-- (tests/e2e/rating_cache.sh shows a second session seeing a committed deck change.)
--
SET timezone = 'UTC';
-- SQLSTATE and message of a refused statement ('no error' when it succeeds).
CREATE FUNCTION pg_temp.refusal(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;

BEGIN;
SELECT balatrix.install_default_catalogue() > 0 AS catalogue_installed;
INSERT INTO balatrix.customers (id, name, billing_state_code)
    VALUES ('00000000-0000-4000-8000-00000000c001', 'Rating Test Pvt Ltd', '29');
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type)
    VALUES ('00000000-0000-4000-8000-00000000c101', '00000000-0000-4000-8000-00000000c001', 'RC1', 'prepaid'),
           ('00000000-0000-4000-8000-00000000c102', '00000000-0000-4000-8000-00000000c001', 'RC2', 'prepaid');
INSERT INTO balatrix.sip_extensions (customer_id, account_id, extension)
    VALUES ('00000000-0000-4000-8000-00000000c001', '00000000-0000-4000-8000-00000000c101', 'rc1-desk');
INSERT INTO balatrix.subscriptions (id, customer_id, account_id, rate_plan_id, status, recurring_price, anchor_day,
                                    started_at, current_period_start, current_period_end)
SELECT '00000000-0000-4000-8000-00000000c201', '00000000-0000-4000-8000-00000000c001',
       '00000000-0000-4000-8000-00000000c101', p.id, 'active', 349, 1,
       '2025-03-01 00:00+05:30', '2025-03-01 00:00+05:30', '2025-04-01 00:00+05:30'
  FROM balatrix.rate_plans p WHERE p.code = 'STARTER';
-- 6000 included seconds, 5940 used: 60 left.
INSERT INTO balatrix.subscription_usage (customer_id, subscription_id, period_start, period_end,
                                         included_seconds, included_used_seconds)
VALUES ('00000000-0000-4000-8000-00000000c001', '00000000-0000-4000-8000-00000000c201',
        '2025-03-01 00:00+05:30', '2025-04-01 00:00+05:30', 6000, 5940);

-- rate ids relative to the STARTER deck's first rate, so the output does not depend on the identity;
-- segments as rate:seconds/included:charge per segment (the jsonb itself when empty).
SELECT min(r.id) AS base FROM balatrix.rates r JOIN balatrix.rate_decks d ON d.id = r.rate_deck_id
 WHERE d.name = 'STARTER_DOMESTIC' \gset
CREATE FUNCTION pg_temp.rated(account text, destination text, billmsec bigint, started_at timestamptz, base bigint)
    RETURNS TABLE (e164 text, prefix text, rate bigint, per_minute numeric, billed bigint, included bigint,
                   connect_fee numeric, charge numeric, segments text)
    LANGUAGE sql AS $$
    SELECT r.destination_e164, r.matched_prefix, r.rate_id - base, r.rate_per_minute, r.billed_seconds,
           r.included_seconds, r.connect_fee, r.charge,
           coalesce((SELECT string_agg(format('%s:%s/%s:%s', (s->>'rate_id')::bigint - base, s->>'seconds',
                                              s->>'included_seconds', s->>'charge'), ' ' ORDER BY o)
                       FROM jsonb_array_elements(r.segments) WITH ORDINALITY AS e(s, o)), r.segments::text)
      FROM balatrix.rate_call(account, destination, billmsec, started_at) r
$$;

-- The worked example. 252,245 ms at 60/60: the first 60 s, then ceil(192.245 / 60) = 4 more
-- increments = 300 s billed. The allowance pays the first 60 s; 240 s are charged at ₹1.99/min:
-- 4 × 1.99 = ₹7.9600. 09:27:01 IST = 03:57:01 UTC. Rate 0 = the deck's first rate (91).
SELECT * FROM pg_temp.rated('RC1', '+919876543210', 252245, '2025-03-14 09:27:01+05:30', :base);
-- The raw result, segments as jsonb: charge is a string of the 4-decimal amount.
SELECT destination_e164, matched_prefix, rate_per_minute, billed_seconds, included_seconds, connect_fee, charge,
       jsonb_array_length(segments) AS n, segments->0->'charge' AS charge_json,
       segments->0->'seconds' AS seconds_json, segments->0->'included_seconds' AS included_json
  FROM balatrix.rate_call('RC1', '+919876543210', 252245, '2025-03-14 09:27:01+05:30');
-- The same call through the account's SIP extension.
SELECT e164, billed, included, charge FROM pg_temp.rated('rc1-desk', '+919876543210', 252245, '2025-03-14 09:27:01+05:30', :base);
-- USA: ₹6.00/min outside the allowance (uses_allowance false), 60/60: 61,000 ms -> 120 s, none
-- included although 60 s are left, 2 × 6 = ₹12.0000.
SELECT * FROM pg_temp.rated('RC1', '+14155551234', 61000, '2025-03-14 09:27:01+05:30', :base);
-- Without '+' an 11-digit number other than 91 + 10 digits is refused, not guessed (core rule).
SELECT pg_temp.refusal($$SELECT balatrix.rate_call('RC1', '14155551234', 61000, '2025-03-14 09:27:01+05:30')$$) AS bare_usa;
-- 0 ms: unanswered, nothing billed, nothing charged (no connect fee in the default deck).
SELECT * FROM pg_temp.rated('RC1', '+919876543210', 0, '2025-03-14 09:27:01+05:30', :base);
-- Trunk 0 + 10 digits and bare 10 digits reach the same number and prefix. 30,000 ms -> 60 s, all
-- paid by the 60 s left: ₹0.0000. An exact 60,000 ms is one increment, not two.
SELECT * FROM pg_temp.rated('RC1', '09876543210', 30000, '2025-03-14 09:27:01+05:30', :base);
SELECT * FROM pg_temp.rated('RC1', '9876543210', 30000, '2025-03-14 09:27:01+05:30', :base);
SELECT * FROM pg_temp.rated('RC1', '9876543210', 60000, '2025-03-14 09:27:01+05:30', :base);
-- 60,001 ms -> 120 s: 60 included, 60 charged at ₹1.99.
SELECT * FROM pg_temp.rated('RC1', '9876543210', 60001, '2025-03-14 09:27:01+05:30', :base);
-- Outside the usage row's period (April): no row, allowance 0, all 300 s charged: 5 × 1.99 = ₹9.9500.
SELECT * FROM pg_temp.rated('RC1', '+919876543210', 252245, '2025-04-02 10:00+05:30', :base);

-- Errors.
SELECT pg_temp.refusal($$SELECT balatrix.rate_call('NOPE', '+919876543210', 1000, '2025-03-14 09:27:01+05:30')$$) AS unknown_account;
SELECT pg_temp.refusal($$SELECT balatrix.rate_call('RC2', '+919876543210', 1000, '2025-03-14 09:27:01+05:30')$$) AS no_subscription;
SELECT pg_temp.refusal($$SELECT balatrix.rate_call('RC1', '+919876543210', 1000, '2025-02-28 09:00+05:30')$$) AS before_subscription;
SELECT pg_temp.refusal($$SELECT balatrix.rate_call('RC1', 'abc', 1000, '2025-03-14 09:27:01+05:30')$$) AS bad_destination;
-- Bangladesh (880) is not in the deck. Dialled without '+', 13 digits are not a number at all.
SELECT pg_temp.refusal($$SELECT balatrix.rate_call('RC1', '+8801712345678', 1000, '2025-03-14 09:27:01+05:30')$$) AS bangladesh;
SELECT pg_temp.refusal($$SELECT balatrix.rate_call('RC1', '8801712345678', 1000, '2025-03-14 09:27:01+05:30')$$) AS bangladesh_bare;
SELECT pg_temp.refusal($$SELECT balatrix.rate_call('RC1', '+919876543210', -1, '2025-03-14 09:27:01+05:30')$$) AS negative_billmsec;
-- STRICT: NULL in, NULL out.
SELECT (balatrix.rate_call('RC1', NULL, 1000, '2025-03-14 09:27:01+05:30')) IS NULL AS null_destination,
       (balatrix.rate_call(NULL, '+919876543210', 1000, '2025-03-14 09:27:01+05:30')) IS NULL AS null_account;

-- The cache follows a deck change in the same session: a new version of STARTER_DOMESTIC with
-- India at ₹2.50/min, published (the plan's attachment moves to it). The worked example again:
-- 240 s charged × 2.50 / 60 = ₹10.0000, by the new version's 91 rate (a new id).
SELECT balatrix.new_rate_deck_version('STARTER_DOMESTIC') AS v2 \gset
UPDATE balatrix.rates SET rate_per_minute = 2.5 WHERE rate_deck_id = :'v2' AND prefix = '91';
SELECT balatrix.publish_rate_deck(:'v2') = :'v2' AS published;
SELECT e164, prefix, rate > 6 AS new_rate_id, per_minute, billed, included, charge
  FROM pg_temp.rated('RC1', '+919876543210', 252245, '2025-03-14 09:27:01+05:30', :base);
-- Detaching the deck leaves the plan without rates.
SELECT balatrix.detach_rate_deck('STARTER', :'v2') AS detached;
SELECT pg_temp.refusal($$SELECT balatrix.rate_call('RC1', '+919876543210', 1000, '2025-03-14 09:27:01+05:30')$$) AS no_deck;
ROLLBACK;

-- Nobody but the owner may call it.
SELECT has_function_privilege('public', 'balatrix.rate_call(text, text, bigint, timestamptz)', 'EXECUTE') AS public_may_call;

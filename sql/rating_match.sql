-- balatrix.match_rate: the rate in force for a plan, a destination and an instant, read from the
-- backend's rate cache. Expected values come from the default decks of install_default_catalogue
-- (PRODUCT.md §3 overage rates: Starter 1.99, Professional 1.60) and an IST time band added here.
SET timezone = 'UTC';
BEGIN;
SELECT balatrix.install_default_catalogue() > 0 AS catalogue_installed;
-- Every Indian form reaches the same prefix 91 of the Starter deck at ₹1.99.
SELECT d AS dialled, m.destination_e164, m.prefix, m.rate_per_minute
  FROM unnest(ARRAY['+919876543210', '919876543210', '09876543210', '9876543210', '1800 123 4567']) AS d,
       balatrix.rate_plans p, LATERAL balatrix.match_rate(p.id, d, '2025-03-14 10:00+05:30') m
 WHERE p.code = 'STARTER'
 ORDER BY d;
-- International prefixes of the same deck (₹6.00 USA, ₹9.50 UAE), and no rate for Bangladesh.
SELECT d AS dialled, m.prefix, m.rate_per_minute, m.rate_id IS NULL AS no_rate
  FROM unnest(ARRAY['+14155551234', '+971501234567', '+8801712345678']) AS d,
       balatrix.rate_plans p, LATERAL balatrix.match_rate(p.id, d, '2025-03-14 10:00+05:30') m
 WHERE p.code = 'STARTER'
 ORDER BY d;
-- Each plan's own deck.
SELECT p.code, m.rate_per_minute
  FROM balatrix.rate_plans p, LATERAL balatrix.match_rate(p.id, '+919876543210', '2025-03-14 10:00+05:30') m
 ORDER BY p.code;
-- A time band: a new Starter version with a night rate for 91 (22:00-06:00 IST, every day) at ₹0.99.
DO $$
DECLARE deck uuid := balatrix.new_rate_deck_version('STARTER_DOMESTIC');
BEGIN
    INSERT INTO balatrix.rates (rate_deck_id, prefix, rate_per_minute, band_weekdays, band_start, band_end)
    VALUES (deck, '91', 0.99, 127, '22:00', '06:00');
    PERFORM balatrix.publish_rate_deck(deck);
END $$;
-- 21:59 IST is day rate, 22:00 and 05:59 IST night rate, 06:00 day rate again (the deck change is
-- seen at once: the relcache invalidation of the publish).
SELECT t AS at_ist, m.rate_per_minute
  FROM unnest(ARRAY['2025-03-14 21:59:59+05:30', '2025-03-14 22:00:00+05:30', '2025-03-15 05:59:59+05:30',
                    '2025-03-15 06:00:00+05:30']::timestamptz[]) AS t,
       balatrix.rate_plans p, LATERAL balatrix.match_rate(p.id, '+919876543210', t) m
 WHERE p.code = 'STARTER'
 ORDER BY t;
-- NULL in, NULL out; a destination that is not a number is an error.
SELECT (balatrix.match_rate(NULL, '+919876543210')).rate_id IS NULL AS null_plan;
SAVEPOINT s;
SELECT balatrix.match_rate(p.id, 'abc') FROM balatrix.rate_plans p WHERE p.code = 'STARTER';
ROLLBACK TO SAVEPOINT s;
ROLLBACK;

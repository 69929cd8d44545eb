--
-- The default catalogue (PRODUCT.md §3): install_default_catalogue() inserts it once; the values
-- are checked against PRODUCT.md's table, written out here independently of the function.
--
SET timezone = 'UTC';
BEGIN;
SELECT count(*) AS plans_before FROM balatrix.rate_plans;
SELECT count(*) AS add_ons_before FROM balatrix.add_ons;
-- 3 plans + 2 add-ons + a domestic deck per plan with 7 rates each (3 + 2 + 3 + 21 = 29), then
-- nothing: existing codes and decks are left alone (the decks: sql/rate_decks.sql).
SELECT balatrix.install_default_catalogue() AS first_call;
SELECT balatrix.install_default_catalogue() AS second_call;
SELECT code, name, currency, monthly_price, quarterly_price, annual_price, included_minutes, overage_rate,
       included_tfns, included_extensions, trial_days, setup_fee, sac, is_active, is_public, display_order
  FROM balatrix.rate_plans ORDER BY display_order;
SELECT code, name, currency, monthly_price, sac, is_active FROM balatrix.add_ons ORDER BY code;

-- PRODUCT.md §3, as printed there (Indian digit grouping removed).
CREATE TEMP TABLE product_plans (name, monthly, quarterly, annual, included_minutes, overage, tfns, extensions, trial_days) AS
VALUES ('Starter',      349.00,  1047.00,  3350.40,  100, 1.99, 1,  2,  7),
       ('Professional', 999.00,  2997.00,  9590.40,  500, 1.60, 2, 10, 14),
       ('Call Center',  4999.00, 14997.00, 47990.40, 1500, 1.45, 5, 50, 30);
-- Each plan matches its row of the table in every column (a mismatch shows as false).
SELECT p.name,
       rp.monthly_price = p.monthly AS monthly,
       rp.quarterly_price = p.quarterly AS quarterly,
       rp.annual_price = p.annual AS annual,
       rp.included_minutes = p.included_minutes AS minutes,
       rp.overage_rate = p.overage AS overage,
       rp.included_tfns = p.tfns AS tfns,
       rp.included_extensions = p.extensions AS extensions,
       rp.trial_days = p.trial_days AS trial
  FROM product_plans p
  LEFT JOIN balatrix.rate_plans rp ON rp.name = p.name
 ORDER BY p.monthly;
-- Nothing in the catalogue that PRODUCT.md does not list.
SELECT count(*) AS plans_not_in_product
  FROM balatrix.rate_plans rp WHERE NOT EXISTS (SELECT 1 FROM product_plans p WHERE p.name = rp.name);
-- The pricing rules of §3: quarterly = 3 x monthly, annual = 12 x monthly x 0.8 (to the paisa).
SELECT name, quarterly_price = 3 * monthly_price AS quarterly_is_3x,
       annual_price = round(12 * monthly_price * 0.8, 2) AS annual_is_12x_less_20pct
  FROM balatrix.rate_plans ORDER BY display_order;
-- Add-ons: extra toll-free number 199 / month, extra extension 99 / month; GST extra, INR.
SELECT a.code, a.monthly_price = v.price AS price_ok, a.currency = 'INR' AS inr
  FROM (VALUES ('EXTRA_TFN', 199.00), ('EXTRA_EXTENSION', 99.00)) AS v (code, price)
  LEFT JOIN balatrix.add_ons a ON a.code = v.code
 ORDER BY v.price DESC;

-- An operator's edit survives a later call: rows are never changed, only missing codes added.
UPDATE balatrix.rate_plans SET monthly_price = 399.00 WHERE code = 'STARTER';
DELETE FROM balatrix.add_ons WHERE code = 'EXTRA_EXTENSION';
SELECT balatrix.install_default_catalogue() AS after_edit;
SELECT code, monthly_price FROM balatrix.rate_plans WHERE code = 'STARTER';
SELECT code, monthly_price FROM balatrix.add_ons ORDER BY code;

-- The catalogue's own checks (terse: the DETAIL would print the random id and now()).
\set VERBOSITY terse
SAVEPOINT s;
INSERT INTO balatrix.rate_plans (code, name, monthly_price, quarterly_price, annual_price, overage_rate)
    VALUES ('starter', 'lower-case code', 1, 3, 9.60, 1);
ROLLBACK TO SAVEPOINT s;
INSERT INTO balatrix.rate_plans (code, name, monthly_price, quarterly_price, annual_price, overage_rate)
    VALUES ('STARTER', 'Starter again', 1, 3, 9.60, 1);
ROLLBACK TO SAVEPOINT s;
INSERT INTO balatrix.rate_plans (code, name, monthly_price, quarterly_price, annual_price, overage_rate, trial_days)
    VALUES ('LONG_TRIAL', 'Long trial', 1, 3, 9.60, 1, 400);
ROLLBACK TO SAVEPOINT s;
INSERT INTO balatrix.add_ons (code, name, monthly_price) VALUES ('FREE_MONEY', 'Negative price', -1);
ROLLBACK TO SAVEPOINT s;
\set VERBOSITY default
ROLLBACK;
-- Nothing is left behind.
SELECT (SELECT count(*) FROM balatrix.rate_plans) AS rate_plans, (SELECT count(*) FROM balatrix.add_ons) AS add_ons,
       (SELECT count(*) FROM balatrix.rate_decks) AS rate_decks, (SELECT count(*) FROM balatrix.rates) AS rates;

--
-- Rate deck management (balatrix.sql, section "Rate deck management"): CSV parsing, bulk loads that
-- load every row or none and report each row, replace, publish, versions, plan attachments, the
-- immutability of published rates, and the default decks of install_default_catalogue(). Expected
-- values are written out from the inputs and from PRODUCT.md §3, never read back from the code.
--
SET timezone = 'UTC';
-- SQLSTATE, message and hint of a refused statement ('no error' when it succeeds).
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

--
-- parse_csv: RFC 4180. Fields shown one per column; a line break inside a field as \n.
--
SELECT line_number, cardinality(fields) AS n, fields[1] AS f1, replace(fields[2], E'\n', '\n') AS f2, fields[3] AS f3
  FROM balatrix.parse_csv(E'prefix,description,rate_per_minute\r\n'
                          '91,"India, all",1.99\r\n'
                          '"1","USA ""and"" Canada",6\r\n'
                          '44,"UK\nmainland",6\n'
                          '\n'
                          '65,,\n'
                          '"",x')
 ORDER BY line_number;
-- No input, no records; NULL in, no rows (STRICT).
SELECT count(*) AS empty_input FROM balatrix.parse_csv('');
SELECT count(*) AS null_input FROM balatrix.parse_csv(NULL);
-- Malformed CSV: 22P02 with the line of the fault.
SELECT pg_temp.refusal($$SELECT * FROM balatrix.parse_csv(E'a,b\n"c,d\ne,f')$$) AS unterminated_quote;
SELECT pg_temp.refusal($$SELECT * FROM balatrix.parse_csv(E'a\nb\n"c\nd"e')$$) AS junk_after_quote;
SELECT pg_temp.refusal($$SELECT * FROM balatrix.parse_csv(E'a\r\n5" screen')$$) AS quote_in_unquoted_field;

BEGIN;
INSERT INTO balatrix.rate_plans (id, code, name, monthly_price, quarterly_price, annual_price, overage_rate)
    VALUES ('00000000-0000-4000-8000-00000000c001', 'TEST_PLAN', 'Test plan', 100, 300, 960, 1.5);

--
-- create_rate_deck: drafts, numbered per name.
--
SELECT balatrix.create_rate_deck('RETAIL', 'INR', 'Retail tariffs') AS v1 \gset
SELECT name, version, status, currency, description, published_at FROM balatrix.rate_decks WHERE id = :'v1';
SELECT pg_temp.refusal($$SELECT balatrix.create_rate_deck(' ')$$) AS blank_name;
SELECT pg_temp.refusal($$SELECT balatrix.create_rate_deck('X', 'inr')$$) AS lower_case_currency;

--
-- load_rates: a good CSV. Columns in any order and case, spaces around names and values ignored,
-- empty = the default; a quoted description spans lines 3 and 4 (so the next row is on line 5),
-- and the blank line 6 is not a row.
--
SELECT * FROM balatrix.load_rates(:'v1', $csv$Description,PREFIX, Rate_Per_Minute ,initial_increment,subsequent_increment,connect_fee,minimum_charge,charge_unanswered,uses_allowance,effective_from,effective_to,band_weekdays,band_start,band_end
"India, all numbers",91,1.9900,60,60,,,,,,,,,
"Bengaluru
(mobile)", 9180 ,1.5,30,6,0.10,0.50,yes,true,2025-04-01 00:00+05:30,,,,
"Bengaluru, nights",9180,0.9,30,6,,,,,2025-04-01 00:00+05:30,,127,22:00,06:00

USA and Canada,1,6.0000,1,1,,,,false,,2026-01-01 00:00+00,,,
$csv$);
SELECT prefix, replace(description, E'\n', '\n') AS description, rate_per_minute, initial_increment AS ini,
       subsequent_increment AS sub, connect_fee, minimum_charge, charge_unanswered AS unans, uses_allowance AS allow,
       effective_from, effective_to, band_weekdays AS wd, band_start, band_end
  FROM balatrix.rates WHERE rate_deck_id = :'v1'
 ORDER BY prefix, band_weekdays NULLS FIRST;

--
-- A CSV with bad rows: every row comes back, each fault of a rejected row is named, the valid
-- rows are 'not loaded', and nothing is loaded.
--
SELECT * FROM balatrix.load_rates(:'v1', $csv$prefix,rate_per_minute,effective_from,effective_to,initial_increment,subsequent_increment,connect_fee,minimum_charge,charge_unanswered,uses_allowance,band_weekdays,band_start,band_end
44,6.0000,,,,,,,,,,,
+44,6,,,,,,,,,,,
4420,,,,,,,,,,,,
4421,abc,,,,,,,,,,,
4422,1.23456,,,,,,,,,,,
4423,-1,,,,,,,,,,,
4424,100000000,,,,,,,,,,,
4425,1,,,0,3601,,,,,,,
4426,1,,,60.5,,,,,,,,
4427,1,,,,,-0.5,0.00001,,,,,
4428,1,,,,,,,maybe,si,,,
4429,1,2025-02-30,,,,,,,,,,
4430,1,2025-04-01,2025-04-01,,,,,,,,,
4431,1,,,,,,,,,31,09:00,
4432,1,,,,,,,,,128,25:00,18:00
44,6.5,,,,,,,,,,,
91,1.99,,,,,,,,,,,
4433,1
4434,1.0000,2025-04-01,2026-04-01,1,1,0.0100,0.0200,false,false,31,09:00,18:00
$csv$);
SELECT count(*) AS rates_still_in_deck FROM balatrix.rates WHERE rate_deck_id = :'v1';

-- Faults of the whole input are errors, not rows.
SELECT pg_temp.refusal($$SELECT * FROM balatrix.load_rates('$$ || :'v1' || $$', E'prefix,rate_per_minute,tariff,zone\n91,1')$$) AS unknown_columns;
SELECT pg_temp.refusal($$SELECT * FROM balatrix.load_rates('$$ || :'v1' || $$', E'prefix,description\n91,India')$$) AS no_rate_column;
SELECT pg_temp.refusal($$SELECT * FROM balatrix.load_rates('$$ || :'v1' || $$', E'prefix,rate_per_minute,Prefix\n91,1,91')$$) AS column_twice;
SELECT pg_temp.refusal($$SELECT * FROM balatrix.load_rates('$$ || :'v1' || $$', '')$$) AS no_header;
SELECT pg_temp.refusal($$SELECT * FROM balatrix.load_rates('$$ || :'v1' || $$', E'prefix,rate_per_minute\n91,"1')$$) AS bad_csv;
SELECT pg_temp.refusal($$SELECT * FROM balatrix.load_rates('00000000-0000-4000-8000-0000000000ff', E'prefix,rate_per_minute\n91,1')$$) AS unknown_deck;

--
-- replace = true: the deck's rates are replaced by the file's (a rate equal to one in the deck is
-- no longer a clash).
--
SELECT * FROM balatrix.load_rates(:'v1', E'prefix,rate_per_minute,description\r\n91,1.75,India\r\n44,6,UK\r\n', true);
SELECT prefix, description, rate_per_minute, effective_from FROM balatrix.rates WHERE rate_deck_id = :'v1' ORDER BY prefix;

--
-- load_rates_from_table: a staging table with typed columns, through the same checks.
--
CREATE TEMP TABLE staging (prefix text, rate_per_minute numeric(12,6), uses_allowance boolean, effective_from timestamptz,
                           band_weekdays smallint, band_start time, band_end time);
INSERT INTO staging VALUES ('971', 9.5, false, NULL, NULL, NULL, NULL),
                           ('9180', 1.25, true, '2025-04-01 00:00+05:30', 31, '09:00', '18:00'),
                           ('44', 6.1234, NULL, NULL, NULL, NULL, NULL),
                           ('65', 5.12345, NULL, NULL, NULL, NULL, NULL);
SELECT * FROM balatrix.load_rates_from_table(:'v1', 'staging');
DELETE FROM staging WHERE prefix IN ('44', '65');
SELECT * FROM balatrix.load_rates_from_table(:'v1', 'staging');
SELECT prefix, rate_per_minute, uses_allowance, effective_from, band_weekdays, band_start, band_end
  FROM balatrix.rates WHERE rate_deck_id = :'v1' ORDER BY prefix;
CREATE TEMP TABLE staging_bad (prefix text, rate numeric);
SELECT pg_temp.refusal($$SELECT * FROM balatrix.load_rates_from_table('$$ || :'v1' || $$', 'staging_bad')$$) AS staging_columns;

--
-- publish_rate_deck
--
SELECT balatrix.create_rate_deck('EMPTY') AS empty_deck \gset
SELECT pg_temp.refusal($$SELECT balatrix.publish_rate_deck('$$ || :'empty_deck' || $$')$$) AS publish_empty;
SELECT pg_temp.refusal($$SELECT balatrix.publish_rate_deck('00000000-0000-4000-8000-0000000000ff')$$) AS publish_unknown;
SELECT balatrix.publish_rate_deck(:'v1') = :'v1' AS returns_the_deck;
SELECT name, version, status, published_at = now() AS published_now FROM balatrix.rate_decks WHERE id = :'v1';
SELECT pg_temp.refusal($$SELECT balatrix.publish_rate_deck('$$ || :'v1' || $$')$$) AS publish_twice;
SELECT pg_temp.refusal($$SELECT * FROM balatrix.load_rates('$$ || :'v1' || $$', E'prefix,rate_per_minute\n92,1')$$) AS load_published;

--
-- A published deck's rates cannot change; the deck cannot be deleted or made a draft again.
--
SELECT pg_temp.refusal($$INSERT INTO balatrix.rates (rate_deck_id, prefix, rate_per_minute) VALUES ('$$ || :'v1' || $$', '92', 1)$$) AS insert_rate;
SELECT pg_temp.refusal($$UPDATE balatrix.rates SET rate_per_minute = 0 WHERE prefix = '91'$$) AS update_rate;
SELECT pg_temp.refusal($$DELETE FROM balatrix.rates WHERE prefix = '44'$$) AS delete_rate;
SELECT pg_temp.refusal($$TRUNCATE balatrix.rates$$) AS truncate_rates;
SELECT pg_temp.refusal($$DELETE FROM balatrix.rate_decks WHERE id = '$$ || :'v1' || $$'$$) AS delete_deck;
SELECT pg_temp.refusal($$UPDATE balatrix.rate_decks SET status = 'draft' WHERE id = '$$ || :'v1' || $$'$$) AS back_to_draft;
SELECT pg_temp.refusal($$UPDATE balatrix.rate_decks SET currency = 'USD' WHERE id = '$$ || :'v1' || $$'$$) AS change_currency;
SELECT pg_temp.refusal($$UPDATE balatrix.rate_decks SET description = 'Retail tariffs 2025' WHERE id = '$$ || :'v1' || $$'$$) AS change_description;
SELECT count(*) AS rates_of_v1 FROM balatrix.rates WHERE rate_deck_id = :'v1';
-- A draft deck is deleted with its rates. (Its CSV starts with a UTF-8 byte order mark, as
-- spreadsheets write it: the header is still read.)
SELECT balatrix.create_rate_deck('SCRATCH') AS scratch \gset
SELECT status FROM balatrix.load_rates(:'scratch', convert_from('\xefbbbf', 'UTF8') || E'prefix,rate_per_minute\n92,1');
SELECT pg_temp.refusal($$DELETE FROM balatrix.rate_decks WHERE id = '$$ || :'scratch' || $$'$$) AS delete_draft_deck;
SELECT count(*) AS scratch_rates_left FROM balatrix.rates WHERE rate_deck_id = :'scratch';
-- pg_restore refills a published deck with one COPY of all its rates: one statement bringing every
-- rate of an empty published deck is allowed, one more row after it is not. (The deck is emptied
-- behind the triggers' back, as only a fresh restore would find it.)
CREATE TEMP TABLE saved AS SELECT * FROM balatrix.rates WHERE rate_deck_id = :'v1';
SET LOCAL session_replication_role = replica;
DELETE FROM balatrix.rates WHERE rate_deck_id = :'v1';
SET LOCAL session_replication_role = origin;
SELECT pg_temp.refusal($$INSERT INTO balatrix.rates OVERRIDING SYSTEM VALUE SELECT * FROM saved$$) AS restore_whole_deck;
SELECT pg_temp.refusal($$INSERT INTO balatrix.rates (rate_deck_id, prefix, rate_per_minute) SELECT rate_deck_id, '93', 1 FROM saved LIMIT 1$$) AS then_one_more;
SELECT count(*) AS rates_of_v1 FROM balatrix.rates WHERE rate_deck_id = :'v1';

--
-- attach / detach
--
SELECT balatrix.attach_rate_deck('TEST_PLAN', :'v1', 50);
SELECT pg_temp.refusal($$SELECT balatrix.attach_rate_deck('NO_SUCH_PLAN', '$$ || :'v1' || $$')$$) AS attach_unknown_plan;
SELECT pg_temp.refusal($$SELECT balatrix.attach_rate_deck('TEST_PLAN', '00000000-0000-4000-8000-0000000000ff')$$) AS attach_unknown_deck;
SELECT balatrix.create_rate_deck('DOLLARS', 'USD') AS dollars \gset
SELECT pg_temp.refusal($$SELECT balatrix.attach_rate_deck('TEST_PLAN', '$$ || :'dollars' || $$')$$) AS attach_other_currency;

--
-- new_rate_deck_version: a draft copy of the published version, numbered after the highest.
--
SELECT pg_temp.refusal($$SELECT balatrix.new_rate_deck_version('NO_SUCH_DECK')$$) AS version_of_unknown;
SELECT pg_temp.refusal($$SELECT balatrix.new_rate_deck_version('EMPTY')$$) AS version_of_unpublished;
SELECT balatrix.new_rate_deck_version('RETAIL') AS v2 \gset
SELECT name, version, status, currency, description FROM balatrix.rate_decks WHERE id = :'v2';
-- The same rates (every column but id, deck and created_at): nothing on either side alone.
SELECT count(*) AS rates_of_v2,
       (SELECT count(*) FROM (SELECT prefix, description, rate_per_minute, initial_increment, subsequent_increment, connect_fee,
                                     minimum_charge, charge_unanswered, uses_allowance, effective_from, effective_to,
                                     band_weekdays, band_start, band_end FROM balatrix.rates WHERE rate_deck_id = :'v1'
                              EXCEPT ALL
                              SELECT prefix, description, rate_per_minute, initial_increment, subsequent_increment, connect_fee,
                                     minimum_charge, charge_unanswered, uses_allowance, effective_from, effective_to,
                                     band_weekdays, band_start, band_end FROM balatrix.rates WHERE rate_deck_id = :'v2') AS d)
           AS only_in_v1,
       (SELECT count(*) FROM (SELECT prefix, description, rate_per_minute, initial_increment, subsequent_increment, connect_fee,
                                     minimum_charge, charge_unanswered, uses_allowance, effective_from, effective_to,
                                     band_weekdays, band_start, band_end FROM balatrix.rates WHERE rate_deck_id = :'v2'
                              EXCEPT ALL
                              SELECT prefix, description, rate_per_minute, initial_increment, subsequent_increment, connect_fee,
                                     minimum_charge, charge_unanswered, uses_allowance, effective_from, effective_to,
                                     band_weekdays, band_start, band_end FROM balatrix.rates WHERE rate_deck_id = :'v1') AS d)
           AS only_in_v2
  FROM balatrix.rates WHERE rate_deck_id = :'v2';
-- The draft is edited: India goes down, a destination is added.
SELECT * FROM balatrix.load_rates(:'v2', E'prefix,rate_per_minute\n91,1.70\n', false);
UPDATE balatrix.rates SET rate_per_minute = 1.70 WHERE rate_deck_id = :'v2' AND prefix = '91';
SELECT * FROM balatrix.load_rates(:'v2', E'prefix,rate_per_minute,description\n49,7,Germany\n');
-- A third version, numbered 3 by create_rate_deck (1 + the highest of the name).
SELECT balatrix.create_rate_deck('RETAIL') AS v3 \gset
SELECT version FROM balatrix.rate_decks WHERE id = :'v3';

--
-- Publishing version 2 retires version 1 and moves its plan attachment, with its priority.
--
SELECT balatrix.publish_rate_deck(:'v2') = :'v2' AS returns_the_deck;
SELECT d.name, d.version, d.status, p.code AS plan, pd.priority
  FROM balatrix.rate_decks d
  LEFT JOIN balatrix.rate_plan_decks pd ON pd.rate_deck_id = d.id
  LEFT JOIN balatrix.rate_plans p ON p.id = pd.rate_plan_id
 WHERE d.name = 'RETAIL'
 ORDER BY d.version;
SELECT prefix, rate_per_minute FROM balatrix.rates WHERE rate_deck_id = :'v2' ORDER BY prefix;
-- Retired: still immutable, and not attachable. Version 3 is published after version 2 in turn.
SELECT pg_temp.refusal($$UPDATE balatrix.rates SET rate_per_minute = 0 WHERE rate_deck_id = '$$ || :'v1' || $$'$$) AS update_retired;
SELECT pg_temp.refusal($$SELECT balatrix.attach_rate_deck('TEST_PLAN', '$$ || :'v1' || $$')$$) AS attach_retired;
SELECT pg_temp.refusal($$SELECT balatrix.publish_rate_deck('$$ || :'v3' || $$')$$) AS publish_v3_empty;
SELECT status FROM balatrix.load_rates(:'v3', E'prefix,rate_per_minute\n91,1.60');
SELECT balatrix.publish_rate_deck(:'v3') = :'v3' AS publish_v3;
SELECT version, status FROM balatrix.rate_decks WHERE name = 'RETAIL' ORDER BY version;
-- Attaching again changes the priority; detaching reports whether it was attached.
SELECT balatrix.attach_rate_deck('TEST_PLAN', :'v3', 10);
SELECT d.version, pd.priority FROM balatrix.rate_plan_decks pd JOIN balatrix.rate_decks d ON d.id = pd.rate_deck_id
 WHERE pd.rate_plan_id = '00000000-0000-4000-8000-00000000c001';
SELECT balatrix.detach_rate_deck('TEST_PLAN', :'v3') AS detached;
SELECT balatrix.detach_rate_deck('TEST_PLAN', :'v3') AS detached_again;
SELECT pg_temp.refusal($$SELECT balatrix.detach_rate_deck('NO_SUCH_PLAN', '$$ || :'v3' || $$')$$) AS detach_unknown_plan;
ROLLBACK;

--
-- The default decks (PRODUCT.md §3 plans; the issue's destinations and rates, written out here).
--
BEGIN;
SELECT balatrix.install_default_catalogue() AS first_call;
SELECT balatrix.install_default_catalogue() AS second_call;
CREATE TEMP TABLE want_rates (plan_code, prefix, rate, uses_allowance) AS
VALUES ('STARTER', '91', 1.99, true), ('PROFESSIONAL', '91', 1.60, true), ('CALL_CENTER', '91', 1.45, true),
       ('*', '1', 6.00, false), ('*', '44', 6.00, false), ('*', '971', 9.50, false),
       ('*', '65', 5.50, false), ('*', '61', 8.00, false), ('*', '49', 7.00, false);
SELECT d.name, d.version, d.status, d.currency, p.code AS plan, pd.priority, count(r.id) AS rates
  FROM balatrix.rate_decks d
  JOIN balatrix.rate_plan_decks pd ON pd.rate_deck_id = d.id
  JOIN balatrix.rate_plans p ON p.id = pd.rate_plan_id
  JOIN balatrix.rates r ON r.rate_deck_id = d.id
 GROUP BY d.name, d.version, d.status, d.currency, p.code, pd.priority, p.display_order
 ORDER BY p.display_order;
SELECT p.code, string_agg(r.prefix || '=' || r.rate_per_minute || CASE WHEN r.uses_allowance THEN ' (allowance)' ELSE '' END,
                          ', ' ORDER BY r.prefix) AS rates
  FROM balatrix.rates r
  JOIN balatrix.rate_plan_decks pd ON pd.rate_deck_id = r.rate_deck_id
  JOIN balatrix.rate_plans p ON p.id = pd.rate_plan_id
 GROUP BY p.code, p.display_order
 ORDER BY p.display_order;
-- Every default rate matches the table above, is 60/60 without fees, and is valid forever.
SELECT p.code, count(*) AS rates,
       bool_and(coalesce(r.rate_per_minute = w.rate AND r.uses_allowance = w.uses_allowance, false)) AS as_specified,
       bool_and(r.initial_increment = 60 AND r.subsequent_increment = 60) AS per_minute,
       bool_and(r.connect_fee = 0 AND r.minimum_charge = 0 AND NOT r.charge_unanswered) AS no_fees,
       bool_and(r.effective_from = '-infinity' AND r.effective_to IS NULL AND r.band_weekdays IS NULL) AS always
  FROM balatrix.rates r
  JOIN balatrix.rate_plan_decks pd ON pd.rate_deck_id = r.rate_deck_id
  JOIN balatrix.rate_plans p ON p.id = pd.rate_plan_id
  LEFT JOIN want_rates w ON w.prefix = r.prefix AND w.plan_code IN (p.code, '*')
 GROUP BY p.code, p.display_order
 ORDER BY p.display_order;
-- The 91 rate is the plan's overage rate.
SELECT p.code, r.rate_per_minute = p.overage_rate AS india_at_overage_rate
  FROM balatrix.rates r
  JOIN balatrix.rate_plan_decks pd ON pd.rate_deck_id = r.rate_deck_id
  JOIN balatrix.rate_plans p ON p.id = pd.rate_plan_id
 WHERE r.prefix = '91'
 ORDER BY p.display_order;
-- Published: immutable like any other.
SELECT pg_temp.refusal($$UPDATE balatrix.rates SET rate_per_minute = 0.5 WHERE prefix = '91'$$) AS edit_default_rate;
-- A new version of a default deck is made as for any deck.
SELECT balatrix.new_rate_deck_version('STARTER_DOMESTIC') AS starter_v2 \gset
SELECT name, version, status, (SELECT count(*) FROM balatrix.rates r WHERE r.rate_deck_id = d.id) AS rates
  FROM balatrix.rate_decks d WHERE d.name = 'STARTER_DOMESTIC' ORDER BY version;
-- With the decks in place, a later call adds nothing (a plan deleted meanwhile comes back, without a deck).
DELETE FROM balatrix.rate_plans WHERE code = 'STARTER';
SELECT balatrix.install_default_catalogue() AS after_plan_deleted;
SELECT count(*) AS starter_decks_attached FROM balatrix.rate_plan_decks pd JOIN balatrix.rate_plans p ON p.id = pd.rate_plan_id
 WHERE p.code = 'STARTER';
ROLLBACK;

-- Nothing is left behind.
SELECT (SELECT count(*) FROM balatrix.rate_decks) AS rate_decks, (SELECT count(*) FROM balatrix.rates) AS rates,
       (SELECT count(*) FROM balatrix.rate_plan_decks) AS rate_plan_decks, (SELECT count(*) FROM balatrix.rate_plans) AS rate_plans;

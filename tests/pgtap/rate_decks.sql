-- pgTAP: the rate deck management contract (extension/sql/balatrix.sql, section "Rate deck
-- management"): signatures, volatility, privileges (operator functions: nobody but the owner and
-- superusers may call them), the triggers, and the SQLSTATE of every refusal.
BEGIN;
SELECT plan(98);

-- Signatures.
SELECT has_function('balatrix', 'parse_csv', ARRAY['text'], 'parse_csv(text) exists');
SELECT has_function('balatrix', 'create_rate_deck', ARRAY['text', 'text', 'text'], 'create_rate_deck(text, text, text) exists');
SELECT has_function('balatrix', 'new_rate_deck_version', ARRAY['text'], 'new_rate_deck_version(text) exists');
SELECT has_function('balatrix', 'load_rates', ARRAY['uuid', 'text', 'boolean'], 'load_rates(uuid, text, boolean) exists');
SELECT has_function('balatrix', 'load_rates_from_table', ARRAY['uuid', 'regclass', 'boolean'],
                    'load_rates_from_table(uuid, regclass, boolean) exists');
SELECT has_function('balatrix', 'load_rate_rows', ARRAY['uuid', 'text[]', 'refcursor', 'boolean'],
                    'load_rate_rows(uuid, text[], refcursor, boolean) exists (the shared validation)');
SELECT has_function('balatrix', 'publish_rate_deck', ARRAY['uuid'], 'publish_rate_deck(uuid) exists');
SELECT has_function('balatrix', 'attach_rate_deck', ARRAY['text', 'uuid', 'integer'], 'attach_rate_deck(text, uuid, integer) exists');
SELECT has_function('balatrix', 'detach_rate_deck', ARRAY['text', 'uuid'], 'detach_rate_deck(text, uuid) exists');
SELECT has_function('balatrix', 'tg_rates_immutable', ARRAY[]::name[], 'tg_rates_immutable() exists');
SELECT has_function('balatrix', 'tg_rate_decks_guard', ARRAY[]::name[], 'tg_rate_decks_guard() exists');
SELECT function_returns('balatrix', 'parse_csv', ARRAY['text'], 'setof record', 'parse_csv returns a set');
SELECT function_returns('balatrix', 'create_rate_deck', ARRAY['text', 'text', 'text'], 'uuid', 'create_rate_deck returns uuid');
SELECT function_returns('balatrix', 'new_rate_deck_version', ARRAY['text'], 'uuid', 'new_rate_deck_version returns uuid');
SELECT function_returns('balatrix', 'load_rates', ARRAY['uuid', 'text', 'boolean'], 'setof record', 'load_rates returns a set');
SELECT function_returns('balatrix', 'load_rates_from_table', ARRAY['uuid', 'regclass', 'boolean'], 'setof record',
                        'load_rates_from_table returns a set');
SELECT function_returns('balatrix', 'publish_rate_deck', ARRAY['uuid'], 'uuid', 'publish_rate_deck returns uuid');
SELECT function_returns('balatrix', 'attach_rate_deck', ARRAY['text', 'uuid', 'integer'], 'void', 'attach_rate_deck returns void');
SELECT function_returns('balatrix', 'detach_rate_deck', ARRAY['text', 'uuid'], 'boolean', 'detach_rate_deck returns boolean');
-- The result columns of the loads and of parse_csv.
SELECT is((SELECT pg_catalog.pg_get_function_result('balatrix.load_rates(uuid, text, boolean)'::regprocedure)),
          'TABLE(line_number integer, prefix text, status text, error text)', 'load_rates returns (line_number, prefix, status, error)');
SELECT is((SELECT pg_catalog.pg_get_function_result('balatrix.load_rates_from_table(uuid, regclass, boolean)'::regprocedure)),
          'TABLE(line_number integer, prefix text, status text, error text)', 'load_rates_from_table returns the same columns');
SELECT is((SELECT pg_catalog.pg_get_function_result('balatrix.parse_csv(text)'::regprocedure)),
          'TABLE(line_number integer, fields text[])', 'parse_csv returns (line_number, fields)');
-- Defaults: currency INR, replace false, priority 100.
SELECT is((SELECT pg_catalog.pg_get_function_arguments('balatrix.create_rate_deck(text, text, text)'::regprocedure)),
          'name text, currency text DEFAULT ''INR''::text, description text DEFAULT NULL::text', 'create_rate_deck defaults');
SELECT is((SELECT pg_catalog.pg_get_function_arguments('balatrix.load_rates(uuid, text, boolean)'::regprocedure)),
          'deck uuid, csv text, replace boolean DEFAULT false', 'load_rates: replace defaults to false');
SELECT is((SELECT pg_catalog.pg_get_function_arguments('balatrix.attach_rate_deck(text, uuid, integer)'::regprocedure)),
          'plan_code text, deck uuid, priority integer DEFAULT 100', 'attach_rate_deck: priority defaults to 100');

-- Volatility: parse_csv depends on its argument only; the rest write or read tables.
SELECT volatility_is('balatrix', 'parse_csv', ARRAY['text'], 'immutable', 'parse_csv is IMMUTABLE');
SELECT is_strict('balatrix', 'parse_csv', ARRAY['text'], 'parse_csv is STRICT');
SELECT is((SELECT proparallel::text FROM pg_catalog.pg_proc WHERE oid = 'balatrix.parse_csv(text)'::regprocedure), 's',
          'parse_csv is PARALLEL SAFE');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p
     WHERE p.pronamespace = 'balatrix'::regnamespace
       AND p.proname IN ('create_rate_deck', 'new_rate_deck_version', 'load_rates', 'load_rates_from_table', 'load_rate_rows',
                         'publish_rate_deck', 'attach_rate_deck', 'detach_rate_deck', 'tg_rates_immutable', 'tg_rate_decks_guard')
       AND p.provolatile <> 'v'
$$, 'the deck functions are VOLATILE');
-- All: search_path pinned, not SECURITY DEFINER, commented.
SELECT is((SELECT count(*) FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'balatrix'::regnamespace
              AND p.proname IN ('parse_csv', 'create_rate_deck', 'new_rate_deck_version', 'load_rates', 'load_rates_from_table',
                                'load_rate_rows', 'publish_rate_deck', 'attach_rate_deck', 'detach_rate_deck',
                                'tg_rates_immutable', 'tg_rate_decks_guard')
              AND NOT p.prosecdef AND p.proconfig = ARRAY['search_path=pg_catalog, pg_temp']
              AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NOT NULL),
          11::bigint, 'all 11 functions pin search_path, are not SECURITY DEFINER and have a COMMENT');

-- Privileges: operator functions, executable by no balatrix role and not by PUBLIC.
SELECT is_empty($$
    SELECT p.oid::regprocedure::text || ' by ' || r
      FROM pg_catalog.pg_proc p,
           unnest(ARRAY['public', 'balatrix_api', 'balatrix_ingest', 'balatrix_readonly', 'balatrix_owner']) AS r
     WHERE p.pronamespace = 'balatrix'::regnamespace
       AND p.proname IN ('parse_csv', 'create_rate_deck', 'new_rate_deck_version', 'load_rates', 'load_rates_from_table',
                         'load_rate_rows', 'publish_rate_deck', 'attach_rate_deck', 'detach_rate_deck',
                         'tg_rates_immutable', 'tg_rate_decks_guard')
       AND has_function_privilege(r, p.oid, 'EXECUTE')
$$, 'no deck function is executable by PUBLIC or a balatrix role');
SELECT ok(NOT has_function_privilege('public', f, 'EXECUTE'), 'PUBLIC cannot execute ' || f)
  FROM unnest(ARRAY['balatrix.load_rates(uuid, text, boolean)', 'balatrix.publish_rate_deck(uuid)',
                    'balatrix.attach_rate_deck(text, uuid, integer)', 'balatrix.parse_csv(text)']) AS f;
SET LOCAL ROLE balatrix_api;
SELECT throws_ok($$SELECT balatrix.create_rate_deck('API')$$, '42501', NULL, 'balatrix_api: create_rate_deck is denied');
SELECT throws_ok($$SELECT * FROM balatrix.parse_csv('a')$$, '42501', NULL, 'balatrix_api: parse_csv is denied');
RESET ROLE;

-- Triggers. tgtype bits: 1 row, 2 before, 4 insert, 8 delete, 16 update, 32 truncate.
SELECT results_eq($$
    SELECT t.tgname::text COLLATE "default", t.tgtype::int, t.tgenabled::text,
           (t.tgoldtable IS NOT NULL)::text || '/' || (t.tgnewtable IS NOT NULL)::text
      FROM pg_catalog.pg_trigger t
     WHERE t.tgfoid = 'balatrix.tg_rates_immutable()'::regprocedure
     ORDER BY 1
$$, $$ VALUES ('rates_immutable_delete_trg', 8, 'O', 'true/false'),
              ('rates_immutable_insert_trg', 4, 'O', 'false/true'),
              ('rates_immutable_truncate_trg', 2 + 32, 'O', 'false/false'),
              ('rates_immutable_update_trg', 16, 'O', 'true/true') $$,
   'rates: AFTER INSERT / UPDATE / DELETE statement triggers with transition tables, BEFORE TRUNCATE');
SELECT is((SELECT tgrelid::regclass::text FROM pg_catalog.pg_trigger WHERE tgname = 'rates_immutable_insert_trg'), 'balatrix.rates',
          'the immutability triggers are on balatrix.rates');
SELECT trigger_is('balatrix', 'rate_decks', 'rate_decks_guard_trg', 'balatrix', 'tg_rate_decks_guard',
                  'rate_decks has the guard trigger');
SELECT is((SELECT tgtype::int FROM pg_catalog.pg_trigger WHERE tgname = 'rate_decks_guard_trg'), 1 + 2 + 8 + 16,
          'the guard fires BEFORE UPDATE OR DELETE, per row');

-- parse_csv: hand-written records.
SELECT results_eq($$SELECT line_number, fields FROM balatrix.parse_csv(E'a,"b,c"\r\n"d""e",\n"f\ng"\nh')$$,
                  $$VALUES (1, ARRAY['a', 'b,c']), (2, ARRAY['d"e', '']), (3, ARRAY[E'f\ng']), (5, ARRAY['h'])$$,
                  'parse_csv: quoted commas, doubled quotes, empty last field, a line break in a field');
SELECT is_empty($$SELECT * FROM balatrix.parse_csv('')$$, 'parse_csv(''''): no records');
SELECT is_empty($$SELECT * FROM balatrix.parse_csv(NULL)$$, 'parse_csv(NULL): no records');
SELECT throws_ok($$SELECT * FROM balatrix.parse_csv(E'x\n"open')$$, '22P02',
                 'invalid CSV: line 2: the quoted field that starts here is never closed', 'parse_csv: an unclosed quote is 22P02');
SELECT throws_ok($$SELECT * FROM balatrix.parse_csv(E'"a"b')$$, '22P02',
                 'invalid CSV: line 1: a closing quote must be followed by a comma or a line break',
                 'parse_csv: text after a closing quote is 22P02');
SELECT throws_ok($$SELECT * FROM balatrix.parse_csv(E'a\n\nb"')$$, '22P02',
                 'invalid CSV: line 3: a double quote inside an unquoted field', 'parse_csv: a quote in an unquoted field is 22P02');
SELECT is((SELECT count(*) FROM balatrix.parse_csv((SELECT string_agg(g || ',"' || g || E'\n' || g || E'"\r\n', '')
                                                       FROM generate_series(1, 20000) AS g))),
          20000::bigint, 'parse_csv: 20,000 records with quoted line breaks');

-- Fixtures: a plan, a draft deck with two rates.
INSERT INTO balatrix.rate_plans (id, code, name, monthly_price, quarterly_price, annual_price, overage_rate)
    VALUES ('00000000-0000-4000-8000-00000000c001', 'PGTAP_PLAN', 'pgTAP plan', 100, 300, 960, 1.5);
SELECT balatrix.create_rate_deck('PGTAP') AS d1 \gset
SELECT results_eq(format($$SELECT status, count(*) FROM balatrix.load_rates(%L, E'prefix,rate_per_minute\n91,1.5\n1,6') GROUP BY 1$$, :'d1'),
                  $$VALUES ('loaded'::text, 2::bigint)$$, 'load_rates loads a good CSV');

-- create_rate_deck and new_rate_deck_version.
SELECT throws_ok($$SELECT balatrix.create_rate_deck('')$$, '22023', 'a rate deck needs a name', 'create_rate_deck: a blank name is 22023');
SELECT throws_ok($$SELECT balatrix.create_rate_deck('X', 'EURO')$$, '22023', NULL, 'create_rate_deck: a bad currency is 22023');
SELECT throws_ok($$SELECT balatrix.new_rate_deck_version('PGTAP')$$, 'P0002', 'rate deck "PGTAP" has no published version',
                 'new_rate_deck_version of a deck never published is P0002');

-- Loads: the input's faults are errors; row faults are rows.
SELECT throws_ok($$SELECT * FROM balatrix.load_rates('00000000-0000-4000-8000-0000000000ff', E'prefix,rate_per_minute\n91,1')$$,
                 'P0002', 'rate deck 00000000-0000-4000-8000-0000000000ff does not exist', 'load_rates into an unknown deck is P0002');
SELECT throws_ok(format($$SELECT * FROM balatrix.load_rates(%L, E'prefix,rate_per_minute,zone\n91,1,A')$$, :'d1'),
                 '22023', 'unknown rate columns: "zone"', 'load_rates: an unknown column is 22023');
SELECT throws_ok(format($$SELECT * FROM balatrix.load_rates(%L, E'prefix\n91')$$, :'d1'),
                 '22023', 'the rates have no rate_per_minute column', 'load_rates: a missing required column is 22023');
SELECT throws_ok(format($$SELECT * FROM balatrix.load_rates(%L, E'prefix,rate_per_minute\n91,"1')$$, :'d1'),
                 '22P02', NULL, 'load_rates: malformed CSV is 22P02');
SELECT throws_ok(format($$SELECT * FROM balatrix.load_rates(%L, NULL)$$, :'d1'), '22004', NULL, 'load_rates: NULL csv is 22004');
SELECT throws_ok($$SELECT * FROM balatrix.load_rates(NULL, E'prefix,rate_per_minute\n91,1')$$, '22004', NULL,
                 'load_rates: NULL deck is 22004');
SELECT throws_ok(format($$SELECT * FROM balatrix.load_rates_from_table(%L, NULL)$$, :'d1'), '22004', NULL,
                 'load_rates_from_table: NULL source is 22004');
SELECT results_eq(format($$SELECT line_number, status FROM balatrix.load_rates(%L, E'prefix,rate_per_minute\n92,1\n93,x\n94,2')$$, :'d1'),
                  $$VALUES (2, 'not loaded'::text), (3, 'rejected'::text), (4, 'not loaded'::text)$$,
                  'one bad row: every row is reported and none is loaded');
SELECT is((SELECT count(*) FROM balatrix.rates WHERE rate_deck_id = :'d1'), 2::bigint, 'the deck still has its two rates');
CREATE TEMP TABLE pgtap_staging (rate_per_minute numeric, prefix integer);
INSERT INTO pgtap_staging VALUES (2.5, 92), (3.25, 93);
SELECT results_eq(format($$SELECT line_number, prefix, status FROM balatrix.load_rates_from_table(%L, 'pgtap_staging')$$, :'d1'),
                  $$VALUES (1, '92'::text, 'loaded'::text), (2, '93'::text, 'loaded'::text)$$,
                  'load_rates_from_table: typed columns in any order');
SELECT results_eq(format($$SELECT prefix, rate_per_minute FROM balatrix.rates WHERE rate_deck_id = %L AND prefix IN ('92', '93') ORDER BY 1$$, :'d1'),
                  $$VALUES ('92'::text, 2.5000::numeric), ('93'::text, 3.2500::numeric)$$, 'the staged rates are in the deck');

-- publish_rate_deck.
SELECT balatrix.create_rate_deck('PGTAP_EMPTY') AS empty \gset
SELECT throws_ok(format($$SELECT balatrix.publish_rate_deck(%L)$$, :'empty'), '55000', 'rate deck "PGTAP_EMPTY" version 1 has no rates',
                 'publishing an empty deck is 55000');
SELECT throws_ok($$SELECT balatrix.publish_rate_deck('00000000-0000-4000-8000-0000000000ff')$$, 'P0002', NULL,
                 'publishing an unknown deck is P0002');
SELECT lives_ok(format($$SELECT * FROM balatrix.load_rates(%L, E'prefix,rate_per_minute\n96,1')$$, :'empty'), 'a rate for the other draft');
SELECT lives_ok(format($$SELECT balatrix.attach_rate_deck('PGTAP_PLAN', %L, 70)$$, :'d1'), 'version 1 is attached at priority 70');
SELECT is(balatrix.publish_rate_deck(:'d1'), :'d1'::uuid, 'publish_rate_deck returns the deck id');
SELECT throws_ok(format($$SELECT balatrix.publish_rate_deck(%L)$$, :'d1'), '55000', 'rate deck "PGTAP" version 1 is already published',
                 'publishing twice is 55000');
SELECT throws_ok(format($$SELECT * FROM balatrix.load_rates(%L, E'prefix,rate_per_minute\n95,1')$$, :'d1'), '55000', NULL,
                 'loading a published deck is 55000');

-- Immutability.
SELECT throws_ok(format($$INSERT INTO balatrix.rates (rate_deck_id, prefix, rate_per_minute) VALUES (%L, '95', 1)$$, :'d1'),
                 '55000', 'rate deck "PGTAP" version 1 is published: its rates cannot be changed', 'INSERT into a published deck is 55000');
SELECT throws_ok(format($$UPDATE balatrix.rates SET rate_per_minute = 0 WHERE rate_deck_id = %L$$, :'d1'), '55000', NULL,
                 'UPDATE of a published rate is 55000');
SELECT throws_ok(format($$UPDATE balatrix.rates SET rate_deck_id = %L WHERE rate_deck_id = %L$$, :'d1', :'empty'), '55000', NULL,
                 'moving rates into a published deck is 55000');
SELECT throws_ok(format($$DELETE FROM balatrix.rates WHERE rate_deck_id = %L$$, :'d1'), '55000', NULL, 'DELETE of a published rate is 55000');
SELECT throws_ok($$TRUNCATE balatrix.rates$$, '55000', NULL, 'TRUNCATE of rates with published ones is 55000');
SELECT throws_ok(format($$DELETE FROM balatrix.rate_decks WHERE id = %L$$, :'d1'), '55000', NULL, 'DELETE of a published deck is 55000');
SELECT throws_ok(format($$UPDATE balatrix.rate_decks SET status = 'draft' WHERE id = %L$$, :'d1'), '55000', NULL,
                 'a published deck cannot become a draft (55000)');
SELECT throws_ok(format($$UPDATE balatrix.rate_decks SET version = 9 WHERE id = %L$$, :'d1'), '55000', NULL,
                 'a published deck keeps its version (55000)');
SELECT lives_ok(format($$UPDATE balatrix.rates SET rate_per_minute = 0.5 WHERE rate_deck_id = %L$$, :'empty'),
                'a draft''s rates can be edited');

-- Versions: the copy, the retirement and the attachment move.
SELECT balatrix.new_rate_deck_version('PGTAP') AS d2 \gset
SELECT results_eq(format($$SELECT version, status FROM balatrix.rate_decks WHERE id = %L$$, :'d2'), $$VALUES (2, 'draft'::text)$$,
                  'new_rate_deck_version makes draft version 2');
SELECT set_eq(format($$SELECT prefix, rate_per_minute FROM balatrix.rates WHERE rate_deck_id = %L$$, :'d2'),
              $$VALUES ('1'::text, 6.0000::numeric), ('91', 1.5000), ('92', 2.5000), ('93', 3.2500)$$,
              'version 2 starts with the rates of version 1');
SELECT lives_ok(format($$SELECT balatrix.publish_rate_deck(%L)$$, :'d2'), 'version 2 is published');
SELECT results_eq($$SELECT version, status FROM balatrix.rate_decks WHERE name = 'PGTAP' ORDER BY version$$,
                  $$VALUES (1, 'retired'::text), (2, 'published'::text)$$, 'version 1 is retired');
SELECT results_eq($$SELECT d.version, pd.priority FROM balatrix.rate_plan_decks pd JOIN balatrix.rate_decks d ON d.id = pd.rate_deck_id
                    WHERE pd.rate_plan_id = '00000000-0000-4000-8000-00000000c001'$$,
                  $$VALUES (2, 70)$$, 'the plan is attached to version 2 at the priority it had for version 1');
SELECT throws_ok(format($$DELETE FROM balatrix.rates WHERE rate_deck_id = %L$$, :'d1'), '55000', NULL, 'a retired deck''s rates are immutable');
-- An older draft cannot be published over a newer published version.
SELECT balatrix.create_rate_deck('PGTAP') AS d3 \gset
SELECT balatrix.create_rate_deck('PGTAP') AS d4 \gset
SELECT lives_ok(format($$SELECT * FROM balatrix.load_rates(%L, E'prefix,rate_per_minute\n91,1')$$, :'d3'), 'version 3 loaded');
SELECT lives_ok(format($$SELECT * FROM balatrix.load_rates(%L, E'prefix,rate_per_minute\n91,1')$$, :'d4'), 'version 4 loaded');
SELECT lives_ok(format($$SELECT balatrix.publish_rate_deck(%L)$$, :'d4'), 'version 4 is published');
SELECT throws_ok(format($$SELECT balatrix.publish_rate_deck(%L)$$, :'d3'), '55000',
                 'rate deck "PGTAP" version 3 is older than the published version 4', 'publishing version 3 after 4 is 55000');

-- Attachments.
SELECT throws_ok(format($$SELECT balatrix.attach_rate_deck('NO_PLAN', %L)$$, :'d4'), 'P0002', 'rate plan ''NO_PLAN'' does not exist',
                 'attaching to an unknown plan is P0002');
SELECT throws_ok($$SELECT balatrix.attach_rate_deck('PGTAP_PLAN', '00000000-0000-4000-8000-0000000000ff')$$, 'P0002', NULL,
                 'attaching an unknown deck is P0002');
SELECT throws_ok(format($$SELECT balatrix.attach_rate_deck('PGTAP_PLAN', %L)$$, :'d1'), '55000', NULL, 'attaching a retired deck is 55000');
SELECT throws_ok(format($$SELECT balatrix.detach_rate_deck('NO_PLAN', %L)$$, :'d4'), 'P0002', NULL, 'detaching from an unknown plan is P0002');
SELECT is(balatrix.detach_rate_deck('PGTAP_PLAN', :'d4'), true, 'detach_rate_deck: true when it was attached');
SELECT is(balatrix.detach_rate_deck('PGTAP_PLAN', :'d4'), false, 'detach_rate_deck: false when it was not');

-- The default catalogue's decks.
SELECT is(balatrix.install_default_catalogue(), 29, 'install_default_catalogue: 3 plans, 2 add-ons, 3 decks, 21 rates');
SELECT is(balatrix.install_default_catalogue(), 0, 'install_default_catalogue a second time inserts nothing');
SELECT results_eq($$SELECT d.name, d.status, pd.priority FROM balatrix.rate_plan_decks pd
                      JOIN balatrix.rate_decks d ON d.id = pd.rate_deck_id JOIN balatrix.rate_plans p ON p.id = pd.rate_plan_id
                     WHERE p.code IN ('STARTER', 'PROFESSIONAL', 'CALL_CENTER') ORDER BY p.display_order$$,
                  $$VALUES ('STARTER_DOMESTIC'::text, 'published'::text, 100), ('PROFESSIONAL_DOMESTIC', 'published', 100),
                           ('CALL_CENTER_DOMESTIC', 'published', 100)$$,
                  'each default plan has its published domestic deck at priority 100');

SELECT * FROM finish();
ROLLBACK;

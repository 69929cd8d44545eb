-- pgTAP: the GSTIN functions' contract (extension/sql/balatrix.sql, section "GST reference data and
-- GSTIN functions"): signatures, IMMUTABLE STRICT PARALLEL SAFE, NULL and garbage behaviour, the
-- reference vectors of gst-payments.md §1.5, and the customers trigger's SQLSTATE.
BEGIN;
SELECT plan(63);

-- Signatures.
SELECT has_function('balatrix', 'gstin_is_valid', ARRAY['text'], 'gstin_is_valid(text) exists');
SELECT has_function('balatrix', 'gstin_is_valid', ARRAY['text', 'boolean'], 'gstin_is_valid(text, boolean) exists');
SELECT has_function('balatrix', 'gstin_state_code', ARRAY['text'], 'gstin_state_code(text) exists');
SELECT has_function('balatrix', 'gstin_state_code', ARRAY['text', 'boolean'], 'gstin_state_code(text, boolean) exists');
SELECT has_function('balatrix', 'gstin_explain', ARRAY['text', 'boolean'], 'gstin_explain(text, boolean) exists');
SELECT has_function('balatrix', 'gst_state_list', ARRAY[]::name[], 'gst_state_list() exists');
SELECT has_table('balatrix', 'gst_states', 'table gst_states exists');
SELECT function_returns('balatrix', 'gstin_is_valid', ARRAY['text'], 'boolean', 'gstin_is_valid returns boolean');
SELECT function_returns('balatrix', 'gstin_state_code', ARRAY['text'], 'text', 'gstin_state_code returns text');
SELECT function_returns('balatrix', 'gstin_explain', ARRAY['text', 'boolean'], 'record', 'gstin_explain returns a record');
SELECT function_returns('balatrix', 'gst_state_list', ARRAY[]::name[], 'setof record', 'gst_state_list returns a set');

-- Volatility: they depend only on their arguments (not on balatrix.gstin_verify_check_character).
SELECT volatility_is('balatrix', 'gstin_is_valid', ARRAY['text'], 'immutable', 'gstin_is_valid(text) is IMMUTABLE');
SELECT volatility_is('balatrix', 'gstin_is_valid', ARRAY['text', 'boolean'], 'immutable', 'gstin_is_valid(text, boolean) is IMMUTABLE');
SELECT volatility_is('balatrix', 'gstin_state_code', ARRAY['text'], 'immutable', 'gstin_state_code(text) is IMMUTABLE');
SELECT volatility_is('balatrix', 'gstin_state_code', ARRAY['text', 'boolean'], 'immutable', 'gstin_state_code(text, boolean) is IMMUTABLE');
SELECT volatility_is('balatrix', 'gstin_explain', ARRAY['text', 'boolean'], 'immutable', 'gstin_explain is IMMUTABLE');
SELECT volatility_is('balatrix', 'gst_state_list', ARRAY[]::name[], 'immutable', 'gst_state_list is IMMUTABLE');

-- STRICT: NULL in, NULL out.
SELECT is_strict('balatrix', 'gstin_is_valid', ARRAY['text'], 'gstin_is_valid(text) is STRICT');
SELECT is_strict('balatrix', 'gstin_is_valid', ARRAY['text', 'boolean'], 'gstin_is_valid(text, boolean) is STRICT');
SELECT is_strict('balatrix', 'gstin_state_code', ARRAY['text'], 'gstin_state_code(text) is STRICT');
SELECT is_strict('balatrix', 'gstin_state_code', ARRAY['text', 'boolean'], 'gstin_state_code(text, boolean) is STRICT');
SELECT is_strict('balatrix', 'gstin_explain', ARRAY['text', 'boolean'], 'gstin_explain is STRICT');

-- PARALLEL SAFE, not SECURITY DEFINER, a pinned search_path (pgTAP 1.2 has no parallel_is).
SELECT is((SELECT count(*) FROM pg_catalog.pg_proc
           WHERE pronamespace = 'balatrix'::regnamespace
             AND proname IN ('gstin_is_valid', 'gstin_state_code', 'gstin_explain', 'gst_state_list')
             AND proparallel = 's' AND NOT prosecdef
             AND proconfig = ARRAY['search_path=pg_catalog, pg_temp']),
          6::bigint, 'all six GST functions are PARALLEL SAFE, not SECURITY DEFINER, search_path pinned');

-- NULL.
SELECT is(balatrix.gstin_is_valid(NULL), NULL, 'gstin_is_valid(NULL) is NULL');
SELECT is(balatrix.gstin_is_valid('27AAPFU0939F1ZV', NULL), NULL, 'gstin_is_valid(gstin, NULL) is NULL');
SELECT is(balatrix.gstin_state_code(NULL), NULL, 'gstin_state_code(NULL) is NULL');
SELECT is(balatrix.gstin_explain(NULL), NULL, 'gstin_explain(NULL) is NULL');

-- §1.5 vectors.
SELECT ok(balatrix.gstin_is_valid('27AAPFU0939F1ZV'), '27AAPFU0939F1ZV (python-stdnum) is valid');
SELECT ok(balatrix.gstin_is_valid('27AAGCG4576JBZW'), '27AAGCG4576JBZW (entity #11) is valid');
SELECT ok(balatrix.gstin_is_valid('38AAALS7119L1ZH'), '38AAALS7119L1ZH (Ladakh) is valid');
SELECT ok(balatrix.gstin_is_valid('25AAACI1681G1ZT'), '25AAACI1681G1ZT (legacy code 25) is valid');
SELECT ok(balatrix.gstin_is_valid(' 27aapfu0939f1zv '), 'case and surrounding spaces are ignored');
SELECT is(balatrix.gstin_state_code('07AAACI1681G1ZR'), '07', 'Indian Oil Delhi: State 07');
SELECT is(balatrix.gstin_state_code('38AAALS7119L1ZH'), '38', 'Ladakh: State 38');
SELECT ok(NOT balatrix.gstin_is_valid('27AAPFU0939F1Z'), 'length 14 is invalid');
SELECT ok(NOT balatrix.gstin_is_valid('369296450896540'), 'no PAN letters is invalid');
SELECT ok(NOT balatrix.gstin_is_valid('27AAPFU0939F1AA'), 'position 14 not Z is invalid');
SELECT ok(NOT balatrix.gstin_is_valid('27AAPFU0939F1ZO'), 'wrong check character is invalid');
SELECT ok(NOT balatrix.gstin_is_valid('47AAGCG4576J1A6'), 'State 47 / position 14 A is invalid');
SELECT ok(NOT balatrix.gstin_is_valid('27AAPFU0939F0ZW'), 'entity 0 is invalid');
SELECT is(balatrix.gstin_state_code('27AAPFU0939F1ZO'), NULL, 'no State code for an invalid GSTIN');
SELECT is((balatrix.gstin_explain('27AAPFU0939F1ZO')).expected_check_character, 'V',
          'gstin_explain gives the expected check character (V)');
SELECT is((balatrix.gstin_explain('03AAJCR2207E1Z2')).expected_check_character, 'X',
          'the gstkanun.in example should end in X');
SELECT row_eq($$SELECT * FROM balatrix.gstin_explain(' 29awgpv7107b1z1', false)$$,
              ROW(true, '29AWGPV7107B1Z1'::text, '29'::text, 'Karnataka'::text, 'F'::text, 'valid GSTIN'::text)::record,
              'gstin_explain of the sandbox GSTIN without the check');
SELECT row_eq($$SELECT * FROM balatrix.gstin_explain('27AAPFU0939F0ZW')$$,
              ROW(false, '27AAPFU0939F0ZW'::text, NULL::text, NULL::text, 'W'::text,
                  'the 13th character of a GSTIN (entity number) cannot be 0'::text)::record,
              'gstin_explain of an entity-0 GSTIN');
-- The NIC sandbox GSTINs.
SELECT ok(NOT balatrix.gstin_is_valid('29AWGPV7107B1Z1'), 'sandbox 29AWGPV7107B1Z1 fails the check');
SELECT ok(balatrix.gstin_is_valid('29AWGPV7107B1Z1', false), 'sandbox 29AWGPV7107B1Z1 passes without the check');
SELECT is(balatrix.gstin_state_code('29AWGPV7107B1Z1', false), '29', 'sandbox GSTIN State without the check');
SELECT ok(NOT balatrix.gstin_is_valid('37ARZPT4384Q1MT', false), 'sandbox 37ARZPT4384Q1MT: position 14 M fails the format');
SELECT ok(NOT balatrix.gstin_is_valid('02AMBPG7773M002', false), 'sandbox 02AMBPG7773M002: position 14 0 fails the format');

-- Garbage is a value, not an error.
SELECT lives_ok($$SELECT balatrix.gstin_explain(repeat('x', 100000))$$, '100,000 characters');
SELECT lives_ok($$SELECT balatrix.gstin_explain(repeat(chr(233), 15))$$, '15 non-ASCII characters');
SELECT lives_ok($$SELECT balatrix.gstin_explain(string_agg(chr(1 + (g * 7919) % 1000), ''))
                  FROM generate_series(1, 15) AS g$$, 'control and non-ASCII characters');
SELECT lives_ok($$SELECT balatrix.gstin_explain(left(md5(g::text) || upper(md5(g::text)), g % 40))
                  FROM generate_series(1, 2000) AS g$$, '2000 pseudo-random strings');
SELECT is((SELECT count(*) FROM generate_series(1, 2000) AS g
           WHERE balatrix.gstin_is_valid(left(md5(g::text) || upper(md5(g::text)), g % 40))),
          0::bigint, 'no pseudo-random string is a valid GSTIN');
SELECT is(balatrix.gstin_is_valid(''), false, 'the empty string is invalid, not an error');

-- State table.
SELECT is((SELECT count(*) FROM balatrix.gst_states), 41::bigint, '41 State / UT codes');
SELECT set_eq($$SELECT code FROM balatrix.gst_states WHERE gstin_prefix$$,
              $$SELECT lpad(g::text, 2, '0') FROM generate_series(1, 38) AS g UNION ALL SELECT '97'$$,
              'GSTIN prefixes are 01-38 and 97');
SELECT set_eq($$SELECT code FROM balatrix.gst_states WHERE intra_state_levy = 'UTGST'$$,
              ARRAY['04', '25', '26', '31', '35', '38', '97'], 'UTGST codes (UTs without a legislature)');
SELECT set_eq($$SELECT code, name, intra_state_levy, gstin_prefix FROM balatrix.gst_states$$,
              $$SELECT code, name, intra_state_levy, gstin_prefix FROM balatrix.gst_state_list()$$,
              'gst_states equals gst_state_list()');

-- The customers trigger.
SELECT lives_ok($$INSERT INTO balatrix.customers (name, billing_state_code, gstin)
                  VALUES ('pgTAP valid', '27', '27AAPFU0939F1ZV')$$, 'a customer with a valid GSTIN');
SELECT throws_ok($$INSERT INTO balatrix.customers (name, billing_state_code, gstin)
                   VALUES ('pgTAP wrong check', '27', '27AAPFU0939F1ZO')$$,
                 '23514', 'invalid GSTIN "27AAPFU0939F1ZO"', 'a wrong check character is a check violation');
SET LOCAL balatrix.gstin_verify_check_character = off;
SELECT lives_ok($$INSERT INTO balatrix.customers (name, billing_state_code, gstin)
                  VALUES ('pgTAP sandbox', '29', '29AWGPV7107B1Z1')$$,
                'the sandbox GSTIN is accepted with balatrix.gstin_verify_check_character = off');

SELECT * FROM finish();
ROLLBACK;

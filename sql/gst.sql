--
-- GST reference data and GSTIN functions (extension/pg/gst.cpp, extension/core/src/gst.cpp).
-- Vectors: reference/gst-payments.md §1.5 (GSTINs) and §1.6 (State / UT codes).
--
SET timezone = 'UTC';
-- The customers trigger's error CONTEXT names a line of its PL/pgSQL body; keep it out of the output.
\set SHOW_CONTEXT never

-- §1.5 "Valid GSTINs from public sources": all valid, with their State.
SELECT v.n, v.gstin, balatrix.gstin_is_valid(v.gstin) AS is_valid,
       balatrix.gstin_state_code(v.gstin) AS state_code, e.state_name, e.expected_check_character AS chk
FROM (VALUES (1, '27AAPFU0939F1ZV'), (2, '27AAGCG4576J1Z6'), (3, '27AAGCG4576JBZW'),
             (4, '07AAACI1681G1ZR'), (5, '27AAACI1681G1ZP'), (6, '29AAACI1681G1ZL'),
             (7, '33AAACI1681G1ZW'), (8, '02AAACI1681G3ZZ'), (9, '37AAACI1681G2ZN'),
             (10, '25AAACI1681G1ZT'), (11, '38AAALS7119L1ZH'), (12, '29AAGCB7383J1Z4')) AS v (n, gstin),
     LATERAL balatrix.gstin_explain(v.gstin) AS e
ORDER BY v.n;

-- §1.5 "Invalid GSTINs, with reasons", plus the two wrong "valid" fixtures of third-party suites and
-- derived cases: a GSTIN-shaped string with State 47 / 96 / 99 (never GSTIN prefixes).
SELECT v.n, v.gstin, balatrix.gstin_is_valid(v.gstin) AS is_valid,
       balatrix.gstin_state_code(v.gstin) AS state_code,
       e.normalized, e.state_code AS e_state, e.expected_check_character AS chk, e.reason
FROM (VALUES (1, '27AAPFU0939F1Z'), (2, '369296450896540'), (3, '27AAPFU0939F1AA'),
             (4, '27AAPFU0939F1ZO'), (5, '27AAPFU0939F1Z0'), (6, '27AAGCG4576J1Z8'),
             (7, '25AAACI1681G1Z4'), (8, '47AAGCG4576J1A6'), (9, '27AAPFU0939F0ZW'),
             (10, '03AAJCR2207E1Z2'), (11, '01AAAAA9999A19N'), (12, '29AWGPV7107B1Z1'),
             (13, '37ARZPT4384Q1MT'), (14, '02AMBPG7773M002'), (15, '29AAFCA7488L1Z0'),
             (16, '29AABCT1332L1Z5'), (17, '09AAACR5055K1Z4'),
             (18, '47AAGCG4576J1Z6'), (19, '96AAPFU0939F1ZV'), (20, '99AAPFU0939F1ZV')) AS v (n, gstin),
     LATERAL balatrix.gstin_explain(v.gstin) AS e
ORDER BY v.n;

-- NULL in, NULL out (all three are STRICT), also for a NULL second argument.
SELECT balatrix.gstin_is_valid(NULL) IS NULL AS is_valid_null,
       balatrix.gstin_state_code(NULL) IS NULL AS state_code_null,
       balatrix.gstin_is_valid('27AAPFU0939F1ZV', NULL) IS NULL AS is_valid_2_null,
       balatrix.gstin_state_code('27AAPFU0939F1ZV', NULL) IS NULL AS state_code_2_null;
SELECT * FROM balatrix.gstin_explain(NULL);
SELECT * FROM balatrix.gstin_explain('27AAPFU0939F1ZV', NULL);

-- Bad input is a value (false / NULL), never an error.
SELECT v.n, v.label, length(v.input) AS len, balatrix.gstin_is_valid(v.input) AS is_valid,
       balatrix.gstin_state_code(v.input) AS state_code, e.normalized, e.reason
FROM (VALUES (1, 'empty', ''),
             (2, 'spaces only', '               '),
             (3, 'tab and newline', E'\t\n'),
             (4, '14 characters', '27AAPFU0939F1Z'),
             (5, '16 characters', '27AAPFU0939F1ZVV'),
             (6, 'inner space', '27AAPFU 0939F1ZV'),
             (7, 'non-ASCII check character', '27AAPFU0939F1Zé'),
             (8, 'non-ASCII letter in the PAN', '27AAPFÜ0939F1ZV'),
             (9, 'full-width digits', '２７AAPFU0939F1ZV'),
             (10, 'no-break space around', E'\u00A027AAPFU0939F1ZV\u00A0'),
             (11, '10,000 characters', repeat('A', 10000)),
             (12, 'the GSTIN 667 times', repeat('27AAPFU0939F1ZV', 667)),
             (13, 'punctuation', '27-AAPFU-0939-F')) AS v (n, label, input),
     LATERAL balatrix.gstin_explain(v.input) AS e
ORDER BY v.n;

-- Surrounding ASCII whitespace and letter case are ignored; the normalised form is upper case.
SELECT v.n, v.input, balatrix.gstin_is_valid(v.input) AS is_valid,
       balatrix.gstin_state_code(v.input) AS state_code, e.normalized, e.reason
FROM (VALUES (1, '27aapfu0939f1zv'), (2, '  27AAPFU0939F1ZV  '), (3, E'\t27aAgCg4576jBzW\n'),
             (4, '27aapfu0939f1zo')) AS v (n, input),
     LATERAL balatrix.gstin_explain(v.input) AS e
ORDER BY v.n;

-- The 2-argument forms: the NIC sandbox GSTINs. 29AWGPV7107B1Z1 only fails the check character
-- (should be F), so it passes with verify_check_character = false; 37ARZPT4384Q1MT (position 14 'M')
-- and 02AMBPG7773M002 (position 14 '0') are not normal-taxpayer GSTINs and fail either way.
SELECT v.gstin, f.verify,
       balatrix.gstin_is_valid(v.gstin, f.verify) AS is_valid,
       balatrix.gstin_state_code(v.gstin, f.verify) AS state_code,
       e.valid AS explain_valid, e.expected_check_character AS chk
FROM (VALUES ('29AWGPV7107B1Z1'), ('37ARZPT4384Q1MT'), ('02AMBPG7773M002'),
             ('27AAPFU0939F1ZV'), ('27AAPFU0939F0ZW')) AS v (gstin),
     (VALUES (true), (false)) AS f (verify),
     LATERAL balatrix.gstin_explain(v.gstin, f.verify) AS e
ORDER BY v.gstin, f.verify;

-- The one-argument forms verify the check character (gstin_explain's default is true).
SELECT balatrix.gstin_is_valid('29AWGPV7107B1Z1') AS is_valid,
       (balatrix.gstin_explain('29AWGPV7107B1Z1')).valid AS explain_valid;

-- §1.6: 41 codes. gstin_prefix for 01-38 and 97; UTGST for UTs without a legislature.
SELECT count(*) AS states,
       count(*) FILTER (WHERE gstin_prefix) AS gstin_prefixes,
       count(*) FILTER (WHERE intra_state_levy = 'UTGST') AS utgst,
       count(*) FILTER (WHERE intra_state_levy = 'NONE') AS none
FROM balatrix.gst_states;
SELECT code, name, intra_state_levy, gstin_prefix FROM balatrix.gst_states ORDER BY code;

-- The table holds exactly what the compiled-in list returns.
(SELECT code, name, intra_state_levy, gstin_prefix FROM balatrix.gst_states
 EXCEPT SELECT code, name, intra_state_levy, gstin_prefix FROM balatrix.gst_state_list())
UNION ALL
(SELECT code, name, intra_state_levy, gstin_prefix FROM balatrix.gst_state_list()
 EXCEPT SELECT code, name, intra_state_levy, gstin_prefix FROM balatrix.gst_states);

-- Every code with gstin_prefix starts a valid GSTIN, and no other code does. The check character is
-- computed here in SQL from the §1.5 description (weights 1,2,1,... from the left, p / 36 + p % 36),
-- independently of the C++; row 27 must give the worked example 27AAPFU0939F1Z -> V.
WITH gstins AS (
    SELECT s.code, s.gstin_prefix,
           p.payload || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', (36 - c.total % 36) % 36 + 1, 1) AS gstin
    FROM balatrix.gst_states AS s
    CROSS JOIN LATERAL (SELECT s.code || 'AAPFU0939F1Z' AS payload) AS p
    CROSS JOIN LATERAL (
        SELECT sum(t.v / 36 + t.v % 36)::integer AS total
        FROM (SELECT (strpos('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', substr(p.payload, i, 1)) - 1) * (2 - i % 2) AS v
              FROM generate_series(1, 14) AS i) AS t) AS c
)
SELECT count(*) AS codes,
       count(*) FILTER (WHERE balatrix.gstin_is_valid(gstin)) AS valid,
       string_agg(code, ',' ORDER BY code) FILTER (WHERE NOT balatrix.gstin_is_valid(gstin)) AS invalid_codes,
       bool_and(balatrix.gstin_is_valid(gstin) = gstin_prefix) AS valid_iff_prefix,
       bool_and(balatrix.gstin_state_code(gstin) IS NOT DISTINCT FROM CASE WHEN gstin_prefix THEN code END)
           AS state_code_iff_prefix,
       max(gstin) FILTER (WHERE code = '27') AS worked_example
FROM gstins;

-- Catalogue: IMMUTABLE (i), STRICT, PARALLEL SAFE (s), fixed search_path, not SECURITY DEFINER.
SELECT p.oid::regprocedure AS function, p.provolatile, p.proisstrict, p.proparallel, p.prosecdef,
       p.proconfig
FROM pg_catalog.pg_proc AS p
WHERE p.pronamespace = 'balatrix'::regnamespace
  AND p.proname IN ('gstin_is_valid', 'gstin_state_code', 'gstin_explain', 'gst_state_list')
ORDER BY p.oid::regprocedure::text;

-- customers: the trigger enforces the check character (23514, with the reason as DETAIL).
BEGIN;
INSERT INTO balatrix.customers (name, billing_state_code, gstin)
VALUES ('Valid Co', '27', '27AAPFU0939F1ZV')
RETURNING name, billing_state_code, gstin;
SAVEPOINT s;
INSERT INTO balatrix.customers (name, billing_state_code, gstin)
VALUES ('Wrong Check Co', '27', '27AAPFU0939F1ZO');
\echo SQLSTATE :SQLSTATE
ROLLBACK TO SAVEPOINT s;
-- An UPDATE to a wrong check character is refused the same way.
UPDATE balatrix.customers SET gstin = '27AAPFU0939F1Z0' WHERE name = 'Valid Co';
\echo SQLSTATE :SQLSTATE
ROLLBACK TO SAVEPOINT s;
-- The sandbox GSTIN is refused while the setting is on (the default) ...
SHOW balatrix.gstin_verify_check_character;
INSERT INTO balatrix.customers (name, billing_state_code, gstin)
VALUES ('Sandbox Co', '29', '29AWGPV7107B1Z1');
\echo SQLSTATE :SQLSTATE
ROLLBACK TO SAVEPOINT s;
-- ... and accepted with it off; format and State are still enforced.
SET balatrix.gstin_verify_check_character = off;
INSERT INTO balatrix.customers (name, billing_state_code, gstin)
VALUES ('Sandbox Co', '29', '29AWGPV7107B1Z1')
RETURNING name, billing_state_code, gstin;
-- The IMMUTABLE functions do not read the setting: the one-argument forms still verify.
SELECT balatrix.gstin_is_valid('29AWGPV7107B1Z1') AS is_valid,
       (balatrix.gstin_explain('29AWGPV7107B1Z1')).valid AS explain_valid;
SAVEPOINT t;
INSERT INTO balatrix.customers (name, billing_state_code, gstin)
VALUES ('Sandbox Two', '37', '37ARZPT4384Q1MT');
\echo SQLSTATE :SQLSTATE
ROLLBACK TO SAVEPOINT t;
-- 96 passes the domain's format check but is not a GSTIN State: the trigger refuses it.
INSERT INTO balatrix.customers (name, billing_state_code, gstin)
VALUES ('Exporter', '27', '96AAPFU0939F1ZV');
\echo SQLSTATE :SQLSTATE
ROLLBACK TO SAVEPOINT t;
RESET balatrix.gstin_verify_check_character;
SHOW balatrix.gstin_verify_check_character;
-- Lower case and surrounding spaces are normalised by the trigger before the column's CHECK.
INSERT INTO balatrix.customers (name, billing_state_code, gstin)
VALUES ('Lower Co', '27', ' 27aagcg4576j1z6 ');
\echo SQLSTATE :SQLSTATE
SELECT name, billing_state_code, gstin FROM balatrix.customers
WHERE name IN ('Valid Co', 'Wrong Check Co', 'Sandbox Co', 'Sandbox Two', 'Exporter', 'Lower Co')
ORDER BY name;
ROLLBACK;
SELECT count(*) AS customers_left FROM balatrix.customers
WHERE name IN ('Valid Co', 'Wrong Check Co', 'Sandbox Co', 'Sandbox Two', 'Exporter', 'Lower Co');

-- The setting is a boolean, and the balatrix.* prefix is reserved for the module's own settings.
SET balatrix.gstin_verify_check_character = 'maybe';
\echo SQLSTATE :SQLSTATE
SET balatrix.no_such_setting = on;
\echo SQLSTATE :SQLSTATE
SHOW balatrix.gstin_verify_check_character;

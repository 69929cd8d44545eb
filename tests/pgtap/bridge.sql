-- pgTAP: the C++ / PostgreSQL bridge (extension/pg/guard.hpp). Each way out of core code becomes an
-- ERROR with its SQLSTATE, and the session carries on. The fault function is an internal symbol of
-- balatrix.so, bound here inside the transaction (as superuser) and rolled back with it.
BEGIN;
SELECT plan(17);

SELECT is((SELECT count(*) FROM pg_catalog.pg_proc AS p
           JOIN pg_catalog.pg_depend AS d
             ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
           WHERE p.prosrc = 'balatrix_debug_fault'),
          0::bigint, 'the extension does not expose balatrix_debug_fault');

CREATE SCHEMA bridge_tap;
CREATE FUNCTION bridge_tap.debug_fault(kind text) RETURNS text
    AS 'balatrix', 'balatrix_debug_fault' LANGUAGE C STRICT;
-- The detail and hint of one failure (throws_ok compares only SQLSTATE and message).
CREATE FUNCTION bridge_tap.detail_and_hint(kind text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
    h text;
BEGIN
    PERFORM bridge_tap.debug_fault(kind);
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    RETURN d || ' | ' || h;
END
$$;

SELECT has_function('bridge_tap', 'debug_fault', ARRAY['text'], 'the fault function is bound');

SELECT lives_ok($$SELECT bridge_tap.debug_fault('ok')$$, 'ok: no error');
SELECT is(bridge_tap.debug_fault('ok'), 'ok', 'ok: returns ok');
SELECT is(bridge_tap.debug_fault(NULL), NULL, 'STRICT: NULL in, NULL out');

SELECT throws_ok($$SELECT bridge_tap.debug_fault('status')$$, '22023', 'deliberate expected failure',
                 'status: an expected failure is 22023 with its message');
SELECT is(bridge_tap.detail_and_hint('status'), 'kind = status | this is the path business errors take',
          'status: detail and hint reach the client');
SELECT throws_ok($$SELECT bridge_tap.debug_fault('logic_error')$$, 'XX000',
                 'internal error in balatrix: deliberate logic error in core code',
                 'logic_error: a C++ exception is XX000');
SELECT is(bridge_tap.detail_and_hint('logic_error'),
          ' | This is a bug in balatrix. The statement was rolled back; please report it with the statement.',
          'logic_error: no detail, the bug hint');
SELECT throws_ok($$SELECT bridge_tap.debug_fault('bad_alloc')$$, '53200', 'out of memory in balatrix',
                 'bad_alloc: std::bad_alloc is 53200 out_of_memory');
SELECT throws_ok($$SELECT bridge_tap.debug_fault('out_of_range')$$, 'XX000', NULL,
                 'out_of_range: std::vector::at is XX000');
-- The rest of the text is libstdc++'s what().
SELECT throws_like($$SELECT bridge_tap.debug_fault('out_of_range')$$, 'internal error in balatrix: %',
                   'out_of_range: reported as an internal error of balatrix');
SELECT throws_ok($$SELECT bridge_tap.debug_fault('pg_error')$$, '22P02',
                 'invalid input syntax for type numeric: "12.3.4"',
                 'pg_error: a PostgreSQL ERROR raised inside C++ keeps its SQLSTATE and message');
SELECT throws_ok($$SELECT bridge_tap.debug_fault('no_such_kind')$$, '22023', 'unknown fault kind "no_such_kind"',
                 'an unknown kind is 22023');

-- After every failure the session is intact and the same function works again.
SELECT lives_ok($$SELECT bridge_tap.debug_fault('ok')$$, 'ok after the failures');
SELECT is(bridge_tap.debug_fault('ok'), 'ok', 'ok still returns ok');
SELECT is((SELECT count(*) FROM generate_series(1, 200) AS g
           WHERE bridge_tap.detail_and_hint(
                     (ARRAY['status', 'logic_error', 'bad_alloc', 'out_of_range', 'pg_error'])[1 + g % 5]) IS NOT NULL),
          200::bigint, '200 caught failures in a row');

SELECT * FROM finish();
ROLLBACK;

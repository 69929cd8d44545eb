--
-- The C++ / PostgreSQL bridge (extension/pg/guard.hpp): every way out of core code becomes an
-- ordinary ERROR with the right SQLSTATE, and the backend survives (no crash, no restart).
-- balatrix_debug_fault is an internal symbol of balatrix.so, deliberately not in the SQL script:
-- bound here as superuser in a scratch schema.
--
SET timezone = 'UTC';
CREATE SCHEMA bridge_test;
CREATE FUNCTION bridge_test.debug_fault(kind text) RETURNS text
    AS 'balatrix', 'balatrix_debug_fault' LANGUAGE C STRICT;

-- Catches the error of one call and returns its fields (no LOCATION: it names C++ source lines).
CREATE FUNCTION bridge_test.outcome(kind text,
    OUT state text, OUT message text, OUT detail text, OUT hint text, OUT result text)
    LANGUAGE plpgsql AS $$
BEGIN
    result := bridge_test.debug_fault(kind);
    state := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END
$$;

SELECT pg_backend_pid() AS pid \gset

-- Each kind as the client sees it (default verbosity).
SELECT bridge_test.debug_fault('ok');
SELECT bridge_test.debug_fault('status');
\echo SQLSTATE :SQLSTATE
SELECT bridge_test.debug_fault('logic_error');
\echo SQLSTATE :SQLSTATE
SELECT bridge_test.debug_fault('bad_alloc');
\echo SQLSTATE :SQLSTATE
SELECT bridge_test.debug_fault('out_of_range');
\echo SQLSTATE :SQLSTATE
SELECT bridge_test.debug_fault('pg_error');
\echo SQLSTATE :SQLSTATE
SELECT bridge_test.debug_fault('no_such_kind');
\echo SQLSTATE :SQLSTATE
SELECT bridge_test.debug_fault('');
\echo SQLSTATE :SQLSTATE
SELECT bridge_test.debug_fault(NULL) IS NULL AS strict_null;

-- The same, as data: SQLSTATE, message, detail, hint.
SELECT v.n, v.kind, o.state, o.message, o.detail, o.result
FROM (VALUES (1, 'ok'), (2, 'status'), (3, 'logic_error'), (4, 'bad_alloc'), (5, 'out_of_range'),
             (6, 'pg_error'), (7, 'no_such_kind'), (8, 'OK')) AS v (n, kind),
     LATERAL bridge_test.outcome(v.kind) AS o
ORDER BY v.n;
SELECT v.n, v.kind, o.hint
FROM (VALUES (1, 'ok'), (2, 'status'), (3, 'logic_error'), (4, 'bad_alloc'), (5, 'out_of_range'),
             (6, 'pg_error'), (7, 'no_such_kind')) AS v (n, kind),
     LATERAL bridge_test.outcome(v.kind) AS o
ORDER BY v.n;

-- Many failures in one backend: each is cleaned up (error state flushed, subtransaction released).
SELECT o.state, count(*) AS calls
FROM generate_series(1, 500) AS g,
     unnest(ARRAY['ok', 'status', 'logic_error', 'bad_alloc', 'out_of_range', 'pg_error']) AS k (kind),
     LATERAL bridge_test.outcome(k.kind) AS o
GROUP BY o.state
ORDER BY o.state;

-- A failure rolls back to a savepoint like any other ERROR; the transaction then commits.
CREATE TABLE bridge_test.log (n integer PRIMARY KEY, note text);
BEGIN;
INSERT INTO bridge_test.log VALUES (1, 'before the savepoint');
SAVEPOINT before_fault;
INSERT INTO bridge_test.log VALUES (2, 'rolled back with the logic error');
SELECT bridge_test.debug_fault('logic_error');
-- The transaction is aborted until the savepoint is restored.
SELECT bridge_test.debug_fault('ok');
ROLLBACK TO SAVEPOINT before_fault;
SELECT bridge_test.debug_fault('ok');
SAVEPOINT before_pg_error;
INSERT INTO bridge_test.log VALUES (3, 'rolled back with the PostgreSQL error');
SELECT bridge_test.debug_fault('pg_error');
ROLLBACK TO SAVEPOINT before_pg_error;
SAVEPOINT before_bad_alloc;
SELECT bridge_test.debug_fault('bad_alloc');
ROLLBACK TO SAVEPOINT before_bad_alloc;
INSERT INTO bridge_test.log VALUES (4, 'after the savepoints');
COMMIT;
SELECT n, note FROM bridge_test.log ORDER BY n;

-- A failure without a savepoint aborts the whole transaction, and nothing of it is kept.
BEGIN;
INSERT INTO bridge_test.log VALUES (5, 'lost with the transaction');
SELECT bridge_test.debug_fault('out_of_range');
COMMIT;
SELECT n FROM bridge_test.log ORDER BY n;

-- Still the same backend: no crash, no cluster restart; ordinary work goes on.
SELECT pg_backend_pid() = :pid AS same_backend;
SELECT bridge_test.debug_fault('ok') AS ok, balatrix.gstin_is_valid('27AAPFU0939F1ZV') AS gstin_ok;

DROP SCHEMA bridge_test CASCADE;

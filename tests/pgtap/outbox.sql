-- pgTAP: the outbox consumer's functions (extension/sql/balatrix.sql, section "The outbox consumer"):
-- their contract (SECURITY DEFINER, owned by balatrix_owner, pinned search_path, comments, executable
-- by balatrix_api and not PUBLIC), claim order and limits, leases (a running lease keeps other workers
-- away, an expired one does not), attempts, completion by the right and the wrong worker, retries with
-- their exact backoff, the dead letter, lost leases, outbox_stats and the 22023s. now() is constant
-- within this transaction, so every expected timestamp is now() plus a hand-computed interval. Two
-- concurrent claims (FOR UPDATE SKIP LOCKED proper) need two sessions: the sidecar's tests cover them.
BEGIN;
SELECT plan(76);
SET LOCAL client_min_messages = warning;

-- ---- Contract -------------------------------------------------------------------------------
CREATE TEMP TABLE fns (f regprocedure);
INSERT INTO fns VALUES ('balatrix.claim_events(text, integer, integer)'), ('balatrix.complete_event(bigint, text)'),
                       ('balatrix.fail_event(bigint, text, text, integer)'), ('balatrix.outbox_stats()');
SELECT is((SELECT count(*)::integer FROM fns JOIN pg_catalog.pg_proc p ON p.oid = fns.f
            WHERE p.prosecdef AND p.proconfig = ARRAY['search_path=pg_catalog, pg_temp']
              AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NOT NULL
              AND pg_catalog.pg_get_userbyid(p.proowner) = 'balatrix_owner'),
          4, 'the four consumer functions are SECURITY DEFINER, owned by balatrix_owner, with a pinned search_path and a comment');
SELECT is((SELECT count(*)::integer FROM fns WHERE has_function_privilege('balatrix_api', f, 'EXECUTE')), 4, 'balatrix_api may run all four');
SELECT is((SELECT count(*)::integer FROM fns WHERE has_function_privilege('public', f, 'EXECUTE')), 0, 'PUBLIC may run none');
SELECT is((SELECT count(*)::integer FROM fns WHERE has_function_privilege('balatrix_readonly', f, 'EXECUTE')), 0, 'nor may reporting');
SELECT ok(NOT has_table_privilege('balatrix_api', 'balatrix.event_outbox', 'UPDATE'), 'balatrix_api cannot update the outbox itself');
SELECT ok((SELECT p.prosrc ~ 'FOR UPDATE SKIP LOCKED' FROM pg_catalog.pg_proc p
            WHERE p.oid = 'balatrix.claim_events(text, integer, integer)'::regprocedure), 'claims lock with FOR UPDATE SKIP LOCKED');

-- ---- Events ---------------------------------------------------------------------------------
-- Only this test's events (rolled back at the end). b and c are due at the same instant: id decides.
DELETE FROM balatrix.event_outbox;
INSERT INTO balatrix.event_outbox (event_type, available_at) VALUES ('tap.a', now() - interval '3 minutes');
INSERT INTO balatrix.event_outbox (event_type, available_at) VALUES ('tap.b', now() - interval '2 minutes');
INSERT INTO balatrix.event_outbox (event_type, available_at) VALUES ('tap.c', now() - interval '2 minutes');
INSERT INTO balatrix.event_outbox (event_type, available_at) VALUES ('tap.d', now() - interval '1 minute');
INSERT INTO balatrix.event_outbox (event_type, available_at) VALUES ('tap.f', now() + interval '1 hour');
INSERT INTO balatrix.event_outbox (event_type, status, processed_at, created_at, available_at)
VALUES ('tap.x', 'done', now() - interval '1 day', now() - interval '2 days', now() - interval '2 days');
INSERT INTO balatrix.event_outbox (event_type, status, attempts, created_at, available_at)
VALUES ('tap.y', 'dead', 8, now() - interval '1 day', now() - interval '1 day');
SELECT balatrix.emit_event('tap.m', NULL, 'tap', 'm', '{"n": 1}', 'tap-m');  -- due now (available_at = now())
CREATE TEMP TABLE ev AS SELECT substr(event_type, 5) AS name, id FROM balatrix.event_outbox;
GRANT SELECT ON ev TO balatrix_api;
CREATE FUNCTION pg_temp.eid(n text) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT id FROM ev WHERE name = n $$;
CREATE FUNCTION pg_temp.ev(n text) RETURNS balatrix.event_outbox LANGUAGE sql STABLE AS
$$ SELECT e FROM balatrix.event_outbox e WHERE e.id = (SELECT id FROM ev WHERE name = n) $$;
SELECT is((SELECT count(*)::integer FROM ev), 8, 'eight test events');

-- ---- Claims, as the API role --------------------------------------------------------------------
SET LOCAL ROLE balatrix_api;
CREATE TEMP TABLE c1 AS SELECT * FROM balatrix.claim_events('w1', 2, 60) WITH ORDINALITY AS c;
CREATE TEMP TABLE c2 AS SELECT * FROM balatrix.claim_events('w2') WITH ORDINALITY AS c;
CREATE TEMP TABLE c3 AS SELECT * FROM balatrix.claim_events('w3') WITH ORDINALITY AS c;
RESET ROLE;
SELECT is((SELECT array_agg(id ORDER BY ordinality) FROM c1), ARRAY[pg_temp.eid('a'), pg_temp.eid('b')],
          'w1 claims the 2 oldest: a, then b (b before c, due at the same instant, by id)');
SELECT is((SELECT count(*)::integer FROM c1 WHERE attempts = 1 AND locked_by = 'w1' AND locked_until = now() + interval '60 seconds'),
          2, 'the rows returned carry the lease (w1, now() + 60 s) and attempt 1');
SELECT is(((pg_temp.ev('a')).locked_by, (pg_temp.ev('a')).locked_until, (pg_temp.ev('a')).attempts, (pg_temp.ev('a')).status),
          ('w1'::text, now() + interval '60 seconds', 1, 'pending'::text), 'and so does the table (status still pending)');
SELECT is((SELECT array_agg(id ORDER BY ordinality) FROM c2), ARRAY[pg_temp.eid('c'), pg_temp.eid('d'), pg_temp.eid('m')],
          'w2 (default limit 10) gets the rest that is due: c, d and m (due exactly now)');
SELECT is((SELECT count(*)::integer FROM c2 WHERE locked_until = now() + interval '60 seconds'), 3, 'default lease: 60 s');
SELECT is((SELECT count(*)::integer FROM c3), 0, 'w3 gets nothing: running leases, an event not yet due, done and dead are never claimed');
SELECT is((pg_temp.ev('f')).attempts, 0, 'the event not yet due was not touched');

-- ---- Leases ---------------------------------------------------------------------------------
UPDATE balatrix.event_outbox SET locked_until = now() - interval '1 second' WHERE id = pg_temp.eid('a');  -- w1 died
UPDATE balatrix.event_outbox SET locked_until = now() WHERE id = pg_temp.eid('b');                        -- running to this instant
SELECT is(ARRAY(SELECT id FROM balatrix.claim_events('w3', 10, 120)), ARRAY[pg_temp.eid('a')],
          'w3 takes over a (lease expired) but not b (lease ends now(), not before)');
SELECT is(((pg_temp.ev('a')).locked_by, (pg_temp.ev('a')).locked_until, (pg_temp.ev('a')).attempts),
          ('w3'::text, now() + interval '120 seconds', 2), 'a: leased to w3 for 120 s, second attempt');

-- ---- Completion -----------------------------------------------------------------------------
SELECT is(balatrix.complete_event(pg_temp.eid('a'), 'w1'), false, 'w1 cannot complete a: its lease went to w3');
SELECT is(((pg_temp.ev('a')).status, (pg_temp.ev('a')).locked_by, (pg_temp.ev('a')).processed_at),
          ('pending'::text, 'w3'::text, NULL::timestamptz), 'a is untouched by the refused completion');
SET LOCAL ROLE balatrix_api;
CREATE TEMP TABLE k1 AS SELECT balatrix.complete_event(pg_temp.eid('a'), 'w3') AS ok;
RESET ROLE;
SELECT is((SELECT ok FROM k1), true, 'w3 completes a (as balatrix_api)');
SELECT is(((pg_temp.ev('a')).status, (pg_temp.ev('a')).processed_at, (pg_temp.ev('a')).locked_by, (pg_temp.ev('a')).locked_until),
          ('done'::text, now(), NULL::text, NULL::timestamptz), 'a: done at now(), lease cleared');
SELECT is(balatrix.complete_event(pg_temp.eid('a'), 'w3'), false, 'completing it again: false');
SELECT is(balatrix.complete_event(pg_temp.eid('b'), 'w2'), false, 'w2 cannot complete b, leased by w1');
SELECT is(balatrix.complete_event(-1, 'w1'), false, 'an unknown event: false');
SELECT is(balatrix.complete_event(pg_temp.eid('x'), 'w1'), false, 'a done event: false');
UPDATE balatrix.event_outbox SET locked_until = now() - interval '1 second' WHERE id = pg_temp.eid('c');
SELECT is(balatrix.complete_event(pg_temp.eid('c'), 'w2'), true, 'an expired lease nobody has taken over is still w2''s to complete');
SELECT is((pg_temp.ev('c')).status, 'done', 'c: done');

-- ---- Retries and backoff --------------------------------------------------------------------
SET LOCAL ROLE balatrix_api;
CREATE TEMP TABLE f1 AS SELECT balatrix.fail_event(pg_temp.eid('d'), 'w2', 'smtp 451 try later') AS outcome;
RESET ROLE;
SELECT is((SELECT outcome FROM f1), 'retry', 'd fails at attempt 1 (as balatrix_api): retry');
SELECT is(((pg_temp.ev('d')).status, (pg_temp.ev('d')).available_at, (pg_temp.ev('d')).locked_by, (pg_temp.ev('d')).locked_until,
           (pg_temp.ev('d')).last_error, (pg_temp.ev('d')).attempts),
          ('pending'::text, now() + interval '30 seconds', NULL::text, NULL::timestamptz, 'smtp 451 try later'::text, 1),
          'd: pending, due in 30 s, lease cleared, error kept, attempts 1');
SELECT is(ARRAY(SELECT id FROM balatrix.claim_events('w2')), '{}'::bigint[], 'd is not claimed before its backoff ends');
UPDATE balatrix.event_outbox SET available_at = now() - interval '1 second' WHERE id = pg_temp.eid('d');
SELECT is(ARRAY(SELECT attempts FROM balatrix.claim_events('w2')), ARRAY[2], 'once due, d is claimed again: attempt 2');
SELECT is(balatrix.fail_event(pg_temp.eid('d'), 'w2', 'smtp 451'), 'retry', 'fails again');
SELECT is((pg_temp.ev('d')).available_at, now() + interval '60 seconds', 'attempt 2: backoff 60 s');
UPDATE balatrix.event_outbox SET available_at = now() - interval '1 second' WHERE id = pg_temp.eid('d');
SELECT is(ARRAY(SELECT attempts FROM balatrix.claim_events('w2')), ARRAY[3], 'attempt 3');
SELECT is(balatrix.fail_event(pg_temp.eid('d'), 'w2', 'smtp 451'), 'retry', 'fails again');
SELECT is((pg_temp.ev('d')).available_at, now() + interval '120 seconds', 'attempt 3: backoff 120 s');
UPDATE balatrix.event_outbox SET available_at = now() - interval '1 second' WHERE id = pg_temp.eid('d');
SELECT is(ARRAY(SELECT attempts FROM balatrix.claim_events('w2')), ARRAY[4], 'attempt 4');
UPDATE balatrix.event_outbox SET attempts = 10 WHERE id = pg_temp.eid('d');
SELECT is(balatrix.fail_event(pg_temp.eid('d'), 'w2', 'smtp 451', 20), 'retry', 'at attempt 10 of 20: retry');
SELECT is((pg_temp.ev('d')).available_at, now() + interval '4 hours 16 minutes', 'attempt 10: 30 s * 2^9 = 15360 s = 4 h 16 min');
UPDATE balatrix.event_outbox SET available_at = now() - interval '1 second' WHERE id = pg_temp.eid('d');
SELECT is(ARRAY(SELECT attempts FROM balatrix.claim_events('w2')), ARRAY[11], 'attempt 11');
SELECT is(balatrix.fail_event(pg_temp.eid('d'), 'w2', repeat('é', 2500), 20), 'retry', 'at attempt 11 of 20: retry');
SELECT is((pg_temp.ev('d')).available_at, now() + interval '6 hours', 'attempt 11: 30 s * 2^10 = 8 h 32 min, capped at 6 h');
SELECT is((pg_temp.ev('d')).last_error, repeat('é', 2000), 'the error is cut to its first 2000 characters');

-- ---- Dead letter ----------------------------------------------------------------------------
SELECT is(balatrix.fail_event(pg_temp.eid('m'), 'w2', 'boom', 1), 'dead', 'm fails at attempt 1 of max 1: dead');
SELECT is(((pg_temp.ev('m')).status, (pg_temp.ev('m')).available_at, (pg_temp.ev('m')).locked_by, (pg_temp.ev('m')).locked_until,
           (pg_temp.ev('m')).last_error, (pg_temp.ev('m')).processed_at),
          ('dead'::text, now(), NULL::text, NULL::timestamptz, 'boom'::text, NULL::timestamptz),
          'm: dead, available_at unchanged, lease cleared, error kept, not processed');
SELECT is(ARRAY(SELECT id FROM balatrix.claim_events('w2')), '{}'::bigint[], 'a dead event is never claimed');
UPDATE balatrix.event_outbox SET attempts = 7, locked_until = now() + interval '1 minute' WHERE id = pg_temp.eid('b');
SELECT is(balatrix.fail_event(pg_temp.eid('b'), 'w1', 'http 500'), 'retry', 'b fails at attempt 7 (default max 8): retry');
SELECT is((pg_temp.ev('b')).available_at, now() + interval '32 minutes', 'attempt 7: 30 s * 2^6 = 1920 s');
UPDATE balatrix.event_outbox SET available_at = now() - interval '1 second' WHERE id = pg_temp.eid('b');
SELECT is(ARRAY(SELECT attempts FROM balatrix.claim_events('w1')), ARRAY[8], 'b claimed again: attempt 8');
SELECT is(balatrix.fail_event(pg_temp.eid('b'), 'w1', 'http 500'), 'dead', 'fails at attempt 8 of 8: dead');
SELECT is(((pg_temp.ev('b')).status, (pg_temp.ev('b')).locked_by, (pg_temp.ev('b')).attempts), ('dead'::text, NULL::text, 8), 'b: dead after 8 attempts');

-- ---- Lost leases ----------------------------------------------------------------------------
UPDATE balatrix.event_outbox SET available_at = now() - interval '1 second' WHERE id = pg_temp.eid('f');
SELECT is(ARRAY(SELECT id FROM balatrix.claim_events('w5')), ARRAY[pg_temp.eid('f')], 'w5 claims f');
SELECT is(balatrix.fail_event(pg_temp.eid('f'), 'w1', 'not mine'), 'lost', 'w1 failing f, leased by w5: lost');
SELECT is(((pg_temp.ev('f')).status, (pg_temp.ev('f')).locked_by, (pg_temp.ev('f')).locked_until, (pg_temp.ev('f')).attempts,
           (pg_temp.ev('f')).last_error),
          ('pending'::text, 'w5'::text, now() + interval '60 seconds', 1, NULL::text), 'f is untouched: still w5''s, no error recorded');
SELECT is(balatrix.fail_event(pg_temp.eid('a'), 'w3', 'late'), 'lost', 'failing a done event: lost');
SELECT is((pg_temp.ev('a')).status, 'done', 'a stays done');
SELECT is(balatrix.fail_event(pg_temp.eid('y'), 'w1', 'x'), 'lost', 'failing a dead event: lost');
SELECT is(balatrix.fail_event(pg_temp.eid('d'), 'w2', 'x'), 'lost', 'failing d, whose lease fail_event already cleared: lost');
SELECT is((pg_temp.ev('d')).last_error, repeat('é', 2000), 'd keeps its last error');
SELECT is(balatrix.fail_event(-1, 'w1', 'x'), 'lost', 'an unknown event: lost');

-- ---- Monitoring -----------------------------------------------------------------------------
-- Now: a done, b dead, c done, d pending (retry in 6 h), f leased to w5, m dead, x done (created 2 days
-- ago), y dead (created 1 day ago).
SET LOCAL ROLE balatrix_api;
CREATE TEMP TABLE st1 AS SELECT * FROM balatrix.outbox_stats() WITH ORDINALITY AS s;
RESET ROLE;
SELECT results_eq($$SELECT status, events, oldest FROM st1 ORDER BY ordinality$$,
                  $$VALUES ('pending'::text, 1::bigint, now()), ('leased', 1, now()), ('done', 3, now() - interval '2 days'),
                           ('dead', 3, now() - interval '1 day')$$,
                  'outbox_stats (as balatrix_api): pending 1, leased 1, done 3 (oldest 2 days), dead 3 (oldest 1 day)');
UPDATE balatrix.event_outbox SET locked_until = now() - interval '1 second' WHERE id = pg_temp.eid('f');
SELECT results_eq($$SELECT status, events, oldest FROM balatrix.outbox_stats()$$,
                  $$VALUES ('pending'::text, 2::bigint, now()), ('leased', 0, NULL), ('done', 3, now() - interval '2 days'),
                           ('dead', 3, now() - interval '1 day')$$,
                  'an expired lease counts as pending; an empty state still has its row (0, NULL)');
DELETE FROM balatrix.event_outbox;
SELECT results_eq($$SELECT status, events, oldest FROM balatrix.outbox_stats()$$,
                  $$VALUES ('pending'::text, 0::bigint, NULL::timestamptz), ('leased', 0, NULL), ('done', 0, NULL), ('dead', 0, NULL)$$,
                  'an empty outbox: four rows of 0');

-- ---- Bad arguments --------------------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM balatrix.claim_events(NULL)$$, '22023', NULL, 'claim without a worker -> 22023');
SELECT throws_ok($$SELECT * FROM balatrix.claim_events('  ')$$, '22023', NULL, 'claim with a blank worker -> 22023');
SELECT throws_ok($$SELECT * FROM balatrix.claim_events(repeat('w', 201))$$, '22023', NULL, 'claim with a 201-byte worker -> 22023');
SELECT throws_ok($$SELECT * FROM balatrix.claim_events('w1', 0)$$, '22023', NULL, 'max_events 0 -> 22023');
SELECT throws_ok($$SELECT * FROM balatrix.claim_events('w1', 1001)$$, '22023', NULL, 'max_events 1001 -> 22023');
SELECT throws_ok($$SELECT * FROM balatrix.claim_events('w1', NULL)$$, '22023', NULL, 'max_events NULL -> 22023');
SELECT throws_ok($$SELECT * FROM balatrix.claim_events('w1', 10, 0)$$, '22023', NULL, 'lease_seconds 0 -> 22023');
SELECT throws_ok($$SELECT * FROM balatrix.claim_events('w1', 10, 86401)$$, '22023', NULL, 'lease_seconds 86401 -> 22023');
SELECT throws_ok($$SELECT balatrix.complete_event(NULL, 'w1')$$, '22023', NULL, 'complete without an id -> 22023');
SELECT throws_ok($$SELECT balatrix.complete_event(1, '')$$, '22023', NULL, 'complete with a blank worker -> 22023');
SELECT throws_ok($$SELECT balatrix.fail_event(NULL, 'w1', 'x')$$, '22023', NULL, 'fail without an id -> 22023');
SELECT throws_ok($$SELECT balatrix.fail_event(1, NULL, 'x')$$, '22023', NULL, 'fail without a worker -> 22023');
SELECT throws_ok($$SELECT balatrix.fail_event(1, 'w1', 'x', 0)$$, '22023', NULL, 'max_attempts 0 -> 22023');
SELECT throws_ok($$SELECT balatrix.fail_event(1, 'w1', 'x', NULL)$$, '22023', NULL, 'max_attempts NULL -> 22023');

SELECT * FROM finish();
ROLLBACK;

-- pgTAP: the re-rating contract (extension/sql/balatrix.sql, section "CDR rating"): signatures,
-- volatility, pinned search_path, comments, and privileges (operator functions: nobody but the
-- owner and superusers may call them). The money is tested in sql/rerate.sql.
BEGIN;
SELECT plan(17);

SELECT has_function('balatrix', 'rate_cdr', ARRAY['balatrix.cdr', 'bigint'], 'rate_cdr(cdr, bigint) exists');
SELECT has_function('balatrix', 'rerate', ARRAY['timestamp with time zone', 'timestamp with time zone', 'text'],
                    'rerate(timestamptz, timestamptz, text) exists');
SELECT function_returns('balatrix', 'rate_cdr', ARRAY['balatrix.cdr', 'bigint'], 'record', 'rate_cdr returns a record');
SELECT function_returns('balatrix', 'rerate', ARRAY['timestamp with time zone', 'timestamp with time zone', 'text'],
                        'setof record', 'rerate returns a table');
SELECT is((SELECT pg_catalog.pg_get_function_arguments('balatrix.rerate(timestamptz, timestamptz, text)'::regprocedure)),
          '"from" timestamp with time zone, "to" timestamp with time zone, account text DEFAULT NULL::text',
          'rerate("from", "to", account DEFAULT NULL)');
SELECT is((SELECT pg_catalog.pg_get_function_result('balatrix.rerate(timestamptz, timestamptz, text)'::regprocedure)),
          'TABLE(cdrs_examined bigint, cdrs_changed bigint, ledger_entries integer, amount_delta numeric)',
          'rerate returns (cdrs_examined, cdrs_changed, ledger_entries, amount_delta)');
SELECT is((SELECT pg_catalog.pg_get_function_result('balatrix.rate_cdr(balatrix.cdr, bigint)'::regprocedure)),
          'record', 'rate_cdr returns a record of OUT parameters');
SELECT is((SELECT array_agg(n ORDER BY o)
             FROM pg_catalog.pg_proc p, unnest(p.proargnames, p.proargmodes::text[]) WITH ORDINALITY AS a (n, m, o)
            WHERE p.oid = 'balatrix.rate_cdr(balatrix.cdr, bigint)'::regprocedure AND m = 'o'),
          ARRAY['rating_status', 'rating_reason', 'leg', 'started_at', 'answered_at', 'ended_at', 'billable_ms',
                'customer_id', 'account_id', 'subscription_id', 'destination_e164', 'rate_id', 'matched_prefix',
                'rate_per_minute', 'billed_seconds', 'included_seconds', 'charge', 'currency', 'overage_seconds',
                'overage_charge'],
          'rate_cdr returns the rating columns of the trigger plus the overage split');

SELECT volatility_is('balatrix', 'rate_cdr', ARRAY['balatrix.cdr', 'bigint'], 'stable', 'rate_cdr is STABLE (writes nothing)');
SELECT is_strict('balatrix', 'rate_cdr', ARRAY['balatrix.cdr', 'bigint'], 'rate_cdr is STRICT');
SELECT volatility_is('balatrix', 'rerate', ARRAY['timestamp with time zone', 'timestamp with time zone', 'text'], 'volatile',
                     'rerate is VOLATILE');
SELECT is((SELECT count(*) FROM pg_catalog.pg_proc p
            WHERE p.oid IN ('balatrix.rate_cdr(balatrix.cdr, bigint)'::regprocedure,
                            'balatrix.rerate(timestamptz, timestamptz, text)'::regprocedure)
              AND NOT p.prosecdef AND p.proconfig = ARRAY['search_path=pg_catalog, pg_temp']
              AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NOT NULL),
          2::bigint, 'both pin search_path, are not SECURITY DEFINER and have a COMMENT');

SELECT is_empty($$
    SELECT f || ' by ' || r
      FROM unnest(ARRAY['balatrix.rate_cdr(balatrix.cdr, bigint)', 'balatrix.rerate(timestamptz, timestamptz, text)']) AS f,
           unnest(ARRAY['public', 'balatrix_api', 'balatrix_ingest', 'balatrix_readonly', 'balatrix_owner']) AS r
     WHERE has_function_privilege(r, f, 'EXECUTE')
$$, 'neither is executable by PUBLIC or a balatrix role');
SELECT ok(NOT has_function_privilege('public', 'balatrix.rerate(timestamptz, timestamptz, text)', 'EXECUTE'),
          'PUBLIC cannot execute rerate');
SELECT ok(NOT has_function_privilege('public', 'balatrix.rate_cdr(balatrix.cdr, bigint)', 'EXECUTE'),
          'PUBLIC cannot execute rate_cdr');

SET LOCAL ROLE balatrix_api;
SELECT throws_ok($$SELECT * FROM balatrix.rerate('2025-03-01', '2025-04-01')$$, '42501', NULL,
                 'balatrix_api cannot re-rate');
RESET ROLE;
SELECT throws_ok($$SELECT * FROM balatrix.rerate('2025-04-01', '2025-03-01')$$, '22023', NULL,
                 'an empty range is refused with 22023');

SELECT * FROM finish();
ROLLBACK;

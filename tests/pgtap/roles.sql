-- Roles and privileges: who may log in, own, read, write and execute what.
--   balatrix_owner     owns everything, NOLOGIN
--   balatrix_api       the sidecar: owns nothing, reads the public catalogue; tenant tables come with RLS
--   balatrix_ingest    FreeSWITCH: INSERT into balatrix.cdr and nothing else
--   balatrix_readonly  reporting: SELECT on everything but authentication secrets
BEGIN;
SELECT plan(75);

SELECT has_role(r, 'role ' || r || ' exists')
  FROM unnest(ARRAY['balatrix_owner', 'balatrix_api', 'balatrix_ingest', 'balatrix_readonly']) AS r;
SELECT is((SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = r), can_login,
          r || CASE WHEN can_login THEN ' can' ELSE ' cannot' END || ' log in')
  FROM (VALUES ('balatrix_owner', false), ('balatrix_api', true), ('balatrix_ingest', true), ('balatrix_readonly', false))
       AS v (r, can_login);
SELECT isnt_superuser(r, r || ' is not a superuser')
  FROM unnest(ARRAY['balatrix_owner', 'balatrix_api', 'balatrix_ingest', 'balatrix_readonly']) AS r;
SELECT is_empty($$
    SELECT rolname FROM pg_catalog.pg_roles
     WHERE rolname LIKE 'balatrix\_%' AND (rolcreaterole OR rolcreatedb OR rolreplication)
$$, 'no balatrix role may create roles or databases or replicate');
-- Only FreeSWITCH's role bypasses RLS: COPY FROM (the spool replay, freeswitch.md §1.8) is refused
-- on a table with row-level security otherwise. It can read nothing, so this shows it nothing.
SELECT is((SELECT array_agg(rolname ORDER BY rolname)::text[] FROM pg_catalog.pg_roles
            WHERE rolname LIKE 'balatrix\_%' AND rolbypassrls),
          ARRAY['balatrix_ingest'], 'balatrix_ingest is the only balatrix role with BYPASSRLS');

-- The sidecar's role owns nothing (in this database or cluster-wide), so it cannot ALTER, DROP,
-- disable triggers or RLS, or GRANT anything.
SELECT is_empty($$
    SELECT classid::regclass::text || ' ' || objid FROM pg_catalog.pg_shdepend
     WHERE refclassid = 'pg_catalog.pg_authid'::regclass AND refobjid = 'balatrix_api'::regrole AND deptype = 'o'
$$, 'balatrix_api owns no object');
SELECT is_empty($$
    SELECT classid::regclass::text || ' ' || objid FROM pg_catalog.pg_shdepend
     WHERE refclassid = 'pg_catalog.pg_authid'::regclass AND refobjid = 'balatrix_ingest'::regrole AND deptype = 'o'
$$, 'balatrix_ingest owns no object');
SELECT schema_privs_are('balatrix', r, ARRAY['USAGE'], r || ' has USAGE (only) on schema balatrix')
  FROM unnest(ARRAY['balatrix_owner', 'balatrix_api', 'balatrix_ingest', 'balatrix_readonly']) AS r;
SELECT ok(NOT has_schema_privilege('public', 'balatrix', 'USAGE'), 'PUBLIC has no USAGE on schema balatrix');

-- FreeSWITCH: INSERT into balatrix.cdr (and the id sequence behind its default), nothing else.
SELECT table_privs_are('balatrix', 'cdr', 'balatrix_ingest', ARRAY['INSERT'], 'balatrix_ingest may only INSERT into balatrix.cdr');
SELECT sequence_privs_are('balatrix', 'cdr_id_seq', 'balatrix_ingest', ARRAY['USAGE'], 'balatrix_ingest may use cdr_id_seq');
SELECT is_empty($$
    SELECT c.oid::regclass::text
      FROM pg_catalog.pg_class c
     WHERE c.relnamespace = 'balatrix'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relname <> 'cdr'
       AND (has_table_privilege('balatrix_ingest', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
            OR has_any_column_privilege('balatrix_ingest', c.oid, 'SELECT, INSERT, UPDATE, REFERENCES'))
$$, 'balatrix_ingest has no privilege on any other table of schema balatrix (partitions included)');
SELECT is_empty($$
    SELECT c.oid::regclass::text
      FROM pg_catalog.pg_class c
     WHERE c.relnamespace = 'balatrix'::regnamespace AND c.relkind = 'S' AND c.relname <> 'cdr_id_seq'
       AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege('balatrix_ingest', c.oid, 'USAGE, SELECT, UPDATE') END
$$, 'balatrix_ingest has no privilege on any other sequence');

-- Reporting: SELECT on every table, through RLS (a policy lets it see every row), but not on
-- authentication secrets.
SELECT is_empty($$
    SELECT c.oid::regclass::text
      FROM pg_catalog.pg_class c
     WHERE c.relnamespace = 'balatrix'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND c.relname NOT IN ('users', 'refresh_tokens', 'user_tokens', 'api_signing_keys', 'rate_limit_hits', 'webhook_endpoints')
       AND NOT has_table_privilege('balatrix_readonly', c.oid, 'SELECT')
$$, 'balatrix_readonly may SELECT every table but users, refresh_tokens, user_tokens, api_signing_keys, the rate-limit counters and webhook_endpoints (its secret)');
SELECT table_privs_are('balatrix', t, 'balatrix_readonly', ARRAY['SELECT'], 'balatrix_readonly may only SELECT balatrix.' || t)
  FROM unnest(ARRAY['customers', 'accounts', 'cdr', 'ledger', 'invoices', 'invoice_lines', 'payments', 'subscriptions', 'audit_log']) AS t;
SELECT is_empty($$
    SELECT c.oid::regclass::text
      FROM pg_catalog.pg_class c
     WHERE c.relnamespace = 'balatrix'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
       AND has_table_privilege('balatrix_readonly', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
$$, 'balatrix_readonly cannot change any table');
SELECT table_privs_are('balatrix', t, 'balatrix_readonly', ARRAY[]::text[], 'balatrix_readonly has no privilege on balatrix.' || t)
  FROM unnest(ARRAY['refresh_tokens', 'user_tokens', 'users', 'api_signing_keys']) AS t;
SELECT table_privs_are('balatrix', 'api_signing_keys', 'balatrix_api', ARRAY[]::text[],
                       'balatrix_api has no privilege on balatrix.api_signing_keys');
SELECT ok(NOT has_column_privilege('balatrix_readonly', 'balatrix.users', c, 'SELECT'), 'balatrix_readonly cannot read users.' || c)
  FROM unnest(ARRAY['password_hash', 'mfa_secret', 'mfa_backup_code_hashes']) AS c;
SELECT ok(has_column_privilege('balatrix_readonly', 'balatrix.users', c, 'SELECT'), 'balatrix_readonly can read users.' || c)
  FROM unnest(ARRAY['email', 'role', 'last_login_at']) AS c;
-- RLS is on for the tenant tables; the readonly policy shows every row.
INSERT INTO balatrix.customers (id, name, billing_state_code) VALUES ('00000000-0000-4000-8000-00000000e001', 'Readable', '29');
SET LOCAL ROLE balatrix_readonly;
SELECT results_eq($$SELECT name FROM balatrix.customers WHERE id = '00000000-0000-4000-8000-00000000e001'$$,
                  $$VALUES ('Readable'::text)$$, 'balatrix_readonly sees customers through its RLS policy');
SELECT throws_ok($$SELECT password_hash FROM balatrix.users$$, '42501', NULL, 'balatrix_readonly: SELECT users.password_hash is denied');
SELECT throws_ok($$UPDATE balatrix.customers SET name = 'x'$$, '42501', NULL, 'balatrix_readonly: UPDATE customers is denied');
RESET ROLE;

-- The API: the public catalogue and reference data; the tenant tables through their row-level
-- security policies, which show nothing without an actor (balatrix.set_identity; sql/identity.sql).
SELECT table_privs_are('balatrix', t, 'balatrix_api', ARRAY['SELECT'], 'balatrix_api may SELECT balatrix.' || t)
  FROM unnest(ARRAY['rate_plans', 'add_ons', 'gst_states', 'customers', 'ledger', 'cdr']) AS t;
SELECT ok(NOT has_table_privilege('balatrix_api', 'balatrix.' || t, 'SELECT'), 'balatrix_api cannot SELECT balatrix.' || t)
  FROM unnest(ARRAY['refresh_tokens', 'users', 'user_tokens']) AS t;
SET LOCAL ROLE balatrix_api;
SELECT is((SELECT count(*) FROM balatrix.customers), 0::bigint, 'balatrix_api without an actor sees no customer');
SELECT is((SELECT count(*) FROM balatrix.ledger), 0::bigint, 'balatrix_api without an actor sees no ledger entry');
SELECT lives_ok($$SELECT count(*) FROM balatrix.rate_plans$$, 'balatrix_api can read the catalogue');
RESET ROLE;

-- Functions: the GSTIN helpers are for everyone; maintenance functions are not.
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p
     WHERE p.pronamespace = 'balatrix'::regnamespace AND (p.proname LIKE 'gstin\_%' OR p.proname = 'gst_state_list')
       AND NOT has_function_privilege('public', p.oid, 'EXECUTE')
$$, 'every gstin_* function (and gst_state_list) is executable by PUBLIC');
SELECT ok((SELECT count(*) >= 5 FROM pg_catalog.pg_proc WHERE pronamespace = 'balatrix'::regnamespace AND proname LIKE 'gstin\_%'),
          'the gstin_* functions exist');
SELECT ok(has_function_privilege('balatrix_api', 'balatrix.gstin_is_valid(text)', 'EXECUTE'), 'balatrix_api can call gstin_is_valid(text)');
SELECT ok(NOT has_function_privilege(r, f, 'EXECUTE'), r || ' cannot execute ' || f)
  FROM unnest(ARRAY['balatrix.create_cdr_partitions(integer, date)', 'balatrix.drop_cdr_partitions(date)',
                    'balatrix.install_default_catalogue()']) AS f,
       unnest(ARRAY['public', 'balatrix_api', 'balatrix_ingest']) AS r;
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p
     WHERE p.pronamespace = 'balatrix'::regnamespace AND p.prorettype = 'trigger'::regtype
       AND has_function_privilege('public', p.oid, 'EXECUTE')
$$, 'no trigger function is executable by PUBLIC');

SELECT * FROM finish();
ROLLBACK;

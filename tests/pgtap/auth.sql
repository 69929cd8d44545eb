-- pgTAP: the API's authentication, audit and rate-limit functions (extension/sql/balatrix.sql, section
-- "The API's authentication, audit and rate limits"): their contract (SECURITY DEFINER, pinned
-- search_path, comments, executable by balatrix_api and nobody else), registration (always a customer),
-- lockout at the 5th failure, refresh rotation and reuse detection, logout, password reset tokens,
-- MFA replay, the audit rows, and rate_limit_hit's fixed windows. The end-to-end view (the sidecar's
-- routes) is tests/e2e/api_auth.sh.
BEGIN;
SELECT plan(56);
SET LOCAL client_min_messages = warning;

-- ---- Contract -------------------------------------------------------------------------------
SELECT is((SELECT count(*)::integer FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'balatrix'::regnamespace AND (p.proname LIKE 'auth\_%' OR p.proname IN ('rate_limit_hit', 'write_audit', 'api_create_user'))
              AND p.proname NOT IN ('auth_actor')
              AND NOT (p.prosecdef AND p.proconfig = ARRAY['search_path=pg_catalog, pg_temp']
                       AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NOT NULL
                       AND pg_catalog.pg_get_userbyid(p.proowner) = 'balatrix_owner')),
          0, 'every API auth function is SECURITY DEFINER, owned by balatrix_owner, with a pinned search_path and a comment');
SELECT ok((SELECT NOT p.prosecdef FROM pg_catalog.pg_proc p WHERE p.oid = 'balatrix.audit_auth(text, uuid, jsonb)'::regprocedure),
          'audit_auth is an internal helper (not SECURITY DEFINER)');
SELECT ok(has_function_privilege('balatrix_api', 'balatrix.auth_login_lookup(text)', 'EXECUTE'), 'balatrix_api may run auth_login_lookup');
SELECT ok(NOT has_function_privilege('public', 'balatrix.auth_login_lookup(text)', 'EXECUTE'), 'PUBLIC may not');
SELECT ok(NOT has_function_privilege('balatrix_readonly', 'balatrix.auth_refresh(bytea, bytea, integer)', 'EXECUTE'), 'reporting may not rotate tokens');
SELECT ok(NOT has_function_privilege('balatrix_api', 'balatrix.audit_auth(text, uuid, jsonb)', 'EXECUTE'), 'balatrix_api may not write arbitrary auth audit rows');
SELECT ok(NOT has_table_privilege('balatrix_api', 'balatrix.rate_limit_hits', 'SELECT'), 'the rate-limit table is the owner''s');
SELECT ok(NOT has_function_privilege('balatrix_api', 'balatrix.identity_cache_put(text, text, bigint)', 'EXECUTE'),
          'balatrix_api cannot plant a verified token in the cache');
SELECT ok(NOT has_function_privilege('balatrix_api', 'balatrix.identity_cache_get(text)', 'EXECUTE'),
          'nor read it');
SELECT ok((SELECT c.relpersistence = 'u' FROM pg_catalog.pg_class c WHERE c.oid = 'balatrix.rate_limit_hits'::regclass), 'rate_limit_hits is unlogged');

-- ---- Registration ---------------------------------------------------------------------------
CREATE TEMP TABLE reg AS
SELECT * FROM balatrix.auth_register('Tap.User@Example.IN', '$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA', 'Tap', 'User', '+919800000001');
SELECT is((SELECT role FROM balatrix.users WHERE id = (SELECT user_id FROM reg)), 'customer', 'registration makes a customer');
SELECT is((SELECT status FROM balatrix.customers WHERE id = (SELECT customer_id FROM reg)), 'pending', 'whose customer record is pending (no billing State yet)');
SELECT is((SELECT a.account_type || ' ' || a.balance::text FROM balatrix.accounts a WHERE a.id = (SELECT account_id FROM reg)), 'prepaid 0.0000', 'with a prepaid account at zero');
SELECT throws_ok($$SELECT * FROM balatrix.auth_register('tap.user@example.in', '$argon2id$x', 'A', 'B', NULL)$$, '23505', NULL, 'the same e-mail in other case -> 23505');
SELECT throws_ok($$SELECT * FROM balatrix.auth_register('other@example.in', 'plaintext', 'A', 'B', NULL)$$, '22023', NULL, 'a password that is not an argon2id hash -> 22023');
SELECT is((SELECT count(*)::integer FROM balatrix.audit_log WHERE action = 'auth.register' AND actor_user_id = (SELECT user_id FROM reg)), 1, 'registration is audited');
SELECT is((SELECT count(*)::integer FROM balatrix.auth_login_lookup('TAP.USER@example.in')), 1, 'login lookup ignores case');
SELECT is((SELECT count(*)::integer FROM balatrix.auth_login_lookup('nobody@example.in')), 0, 'an unknown e-mail has no row');

-- ---- Lockout --------------------------------------------------------------------------------
SELECT is((SELECT attempts_left FROM balatrix.auth_login_failed((SELECT user_id FROM reg), 'x', 'bad_password')), 4, '1st failure: 4 left');
SELECT is((SELECT attempts_left FROM balatrix.auth_login_failed((SELECT user_id FROM reg), 'x', 'bad_password')), 3, '2nd: 3 left');
SELECT is((SELECT attempts_left FROM balatrix.auth_login_failed((SELECT user_id FROM reg), 'x', 'bad_password')), 2, '3rd: 2 left');
SELECT is((SELECT attempts_left FROM balatrix.auth_login_failed((SELECT user_id FROM reg), 'x', 'bad_password')), 1, '4th: 1 left');
SELECT is((SELECT locked_until = now() + interval '15 minutes' FROM balatrix.auth_login_failed((SELECT user_id FROM reg), 'x', 'bad_password')), true, 'the 5th locks for 15 minutes');
SELECT throws_ok($$SELECT balatrix.auth_login_succeeded((SELECT user_id FROM reg), sha256('r0'), 3600)$$, '28000', NULL, 'a locked account cannot start a session');
SELECT is((SELECT count(*)::integer FROM balatrix.audit_log WHERE action = 'auth.locked' AND actor_user_id = (SELECT user_id FROM reg)), 1, 'the lock is audited');
UPDATE balatrix.users SET locked_until = now() - interval '1 second' WHERE id = (SELECT user_id FROM reg);
SELECT is((SELECT attempts_left IS NULL FROM balatrix.auth_login_failed(NULL, 'nobody@example.in', 'unknown_email')), true, 'a failure for an unknown e-mail changes no user');

-- ---- Sessions, rotation, reuse ---------------------------------------------------------------
CREATE TEMP TABLE s1 AS SELECT balatrix.auth_login_succeeded((SELECT user_id FROM reg), sha256('r1'), 3600) AS family;
SELECT is((SELECT failed_login_attempts FROM balatrix.users WHERE id = (SELECT user_id FROM reg)), 0, 'a login clears the failure count');
SELECT is((SELECT outcome FROM balatrix.auth_refresh(sha256('r1'), sha256('r2'), 3600)), 'ok', 'rotation: ok');
SELECT is((SELECT revoked_reason FROM balatrix.refresh_tokens WHERE token_hash = sha256('r1')), 'rotated', 'the old token is revoked as rotated');
SELECT is((SELECT family_id FROM balatrix.refresh_tokens WHERE token_hash = sha256('r2')), (SELECT family FROM s1), 'the new one is in the same family');
SELECT is((SELECT replaced_by FROM balatrix.refresh_tokens WHERE token_hash = sha256('r1')),
          (SELECT id FROM balatrix.refresh_tokens WHERE token_hash = sha256('r2')), 'linked old -> new');
SELECT is((SELECT outcome FROM balatrix.auth_refresh(sha256('r1'), sha256('r3'), 3600)), 'reused', 'the rotated token again: reused');
SELECT is((SELECT count(*)::integer FROM balatrix.refresh_tokens WHERE family_id = (SELECT family FROM s1) AND revoked_at IS NULL), 0, 'reuse revoked the whole family');
SELECT is((SELECT outcome FROM balatrix.auth_refresh(sha256('r2'), sha256('r4'), 3600)), 'revoked', 'the newest token of that family is dead too');
SELECT is((SELECT count(*)::integer FROM balatrix.refresh_tokens WHERE token_hash IN (sha256('r3'), sha256('r4'))), 0, 'no token was issued by the refused rotations');
SELECT is((SELECT outcome FROM balatrix.auth_refresh(sha256('never'), sha256('r5'), 3600)), 'invalid', 'an unknown token: invalid');
CREATE TEMP TABLE s2 AS SELECT balatrix.auth_login_succeeded((SELECT user_id FROM reg), sha256('e1'), 3600) AS family;
UPDATE balatrix.refresh_tokens SET issued_at = now() - interval '2 hours', expires_at = now() - interval '1 second' WHERE token_hash = sha256('e1');
SELECT is((SELECT outcome FROM balatrix.auth_refresh(sha256('e1'), sha256('e2'), 3600)), 'expired', 'an expired token: expired');
SELECT throws_ok($$SELECT balatrix.auth_logout(gen_random_uuid())$$, '28000', NULL, 'logout needs an authenticated caller');

-- ---- Password reset tokens ------------------------------------------------------------------
SELECT is(balatrix.auth_request_token('tap.user@example.in', 'password_reset', sha256('reset-1'), 'reset-1', 3600), true, 'a reset token for a known e-mail');
SELECT is(balatrix.auth_request_token('nobody@example.in', 'password_reset', sha256('reset-x'), 'reset-x', 3600), false, 'none for an unknown one');
SELECT is((SELECT payload->>'token' FROM balatrix.event_outbox WHERE event_type = 'user.password_reset_requested' ORDER BY id DESC LIMIT 1), 'reset-1', 'the outbox event carries the token for the mail');
SELECT is(balatrix.auth_request_token('tap.user@example.in', 'password_reset', sha256('reset-2'), 'reset-2', 3600), true, 'a second request');
SELECT is(balatrix.auth_reset_password(sha256('reset-1'), '$argon2id$new'), false, '... voids the first token');
SELECT is(balatrix.auth_reset_password(sha256('reset-2'), '$argon2id$new'), true, 'the live token resets the password');
SELECT is(balatrix.auth_reset_password(sha256('reset-2'), '$argon2id$newer'), false, 'once');
SELECT is((SELECT password_hash FROM balatrix.users WHERE id = (SELECT user_id FROM reg)), '$argon2id$new', 'the new hash is stored');

-- ---- Rate limits ----------------------------------------------------------------------------
SELECT is(ARRAY[balatrix.rate_limit_hit('tap:k', 60, 2), balatrix.rate_limit_hit('tap:k', 60, 2)], ARRAY[0, 0]::bigint[], 'two hits within a limit of 2 pass');
SELECT ok(balatrix.rate_limit_hit('tap:k', 60, 2) BETWEEN 1 AND 60, 'the third is refused with the seconds left in the window');
UPDATE balatrix.rate_limit_hits SET window_start = window_start - interval '61 seconds' WHERE key = 'tap:k';
SELECT is(balatrix.rate_limit_hit('tap:k', 60, 2), 0::bigint, 'a new window starts when the old one has ended');

-- ---- set_identity's verified-token cache ------------------------------------------------------
-- Tokens signed here with hmac_sha256 (its RFC 4231 vectors are in sql/identity.sql). A cached token
-- skips the signature check, never the user and session checks; changing the keys empties the cache.
CREATE FUNCTION pg_temp.b64u(b bytea) RETURNS text LANGUAGE sql AS
$$ SELECT rtrim(translate(replace(encode(b, 'base64'), E'\n', ''), '+/', '-_'), '=') $$;
CREATE FUNCTION pg_temp.token(key text, sub uuid, sid uuid, role text) RETURNS text LANGUAGE sql AS $$
    SELECT si || '.' || pg_temp.b64u(balatrix.hmac_sha256(convert_to(key, 'UTF8'), convert_to(si, 'UTF8')))
      FROM (SELECT pg_temp.b64u(convert_to('{"alg":"HS256","typ":"JWT"}', 'UTF8')) || '.' ||
                   pg_temp.b64u(convert_to(json_build_object('iss', 'balatrix', 'aud', 'balatrix-api', 'sub', sub, 'sid', sid,
                                                             'role', role, 'iat', floor(extract(epoch FROM now()))::bigint,
                                                             'exp', floor(extract(epoch FROM now()))::bigint + 900)::text, 'UTF8')) AS si) x
$$;
DELETE FROM balatrix.api_signing_keys;
SELECT balatrix.set_api_signing_key('cache-test-key-cache-test-key-0123456789');
CREATE TEMP TABLE s3 AS SELECT balatrix.auth_login_succeeded((SELECT user_id FROM reg), sha256('c1'), 3600) AS family;
CREATE TEMP TABLE tok AS SELECT pg_temp.token('cache-test-key-cache-test-key-0123456789', (SELECT user_id FROM reg), (SELECT family FROM s3), 'customer') AS t;
SELECT is((SELECT role FROM balatrix.set_identity((SELECT t FROM tok))), 'customer', 'a token made here verifies');
SELECT is((SELECT role FROM balatrix.set_identity((SELECT t FROM tok))), 'customer', 'and again (from the cache)');
SELECT is(balatrix.identity_cache_get((SELECT t FROM tok)), (SELECT user_id FROM reg)::text || ' ' || (SELECT family FROM s3)::text || ' customer',
          'the cache holds its verified claims');
UPDATE balatrix.refresh_tokens SET revoked_at = now(), revoked_reason = 'logout' WHERE family_id = (SELECT family FROM s3);
SELECT throws_ok($$SELECT balatrix.set_identity((SELECT t FROM tok))$$, '28000', 'invalid access token',
                 'a cached token of a logged-out session is refused');
UPDATE balatrix.refresh_tokens SET revoked_at = NULL, revoked_reason = NULL WHERE family_id = (SELECT family FROM s3);
UPDATE balatrix.users SET is_active = false WHERE id = (SELECT user_id FROM reg);
SELECT throws_ok($$SELECT balatrix.set_identity((SELECT t FROM tok))$$, '28000', 'invalid access token',
                 'a cached token of a deactivated user is refused');
UPDATE balatrix.users SET is_active = true WHERE id = (SELECT user_id FROM reg);
DELETE FROM balatrix.api_signing_keys;
SELECT balatrix.set_api_signing_key('another-key-another-key-another-key-0123');
SELECT is(balatrix.identity_cache_get((SELECT t FROM tok)), NULL, 'changing the signing keys empties the cache');
SELECT throws_ok($$SELECT balatrix.set_identity((SELECT t FROM tok))$$, '28000', 'invalid access token',
                 'so a token of a removed key is refused at once');

SELECT * FROM finish();
ROLLBACK;

--
-- API identity: balatrix.set_identity verifies an access token and makes its user the actor of the
-- transaction; the row-level security policies of balatrix_api show each actor its own rows. The
-- tokens below were made with Python's hmac / hashlib (an implementation independent of the one
-- under test), with the key 'test-signing-key-of-at-least-32-bytes!!', iat 2026-01-01 and exp 2100.
--
SET client_min_messages = warning;
-- HMAC-SHA-256, RFC 4231 test cases 1, 2 and 6 (a key longer than the block).
SELECT encode(balatrix.hmac_sha256('\x0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b', convert_to('Hi There', 'UTF8')), 'hex')
       = 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7' AS rfc4231_1,
       encode(balatrix.hmac_sha256(convert_to('Jefe', 'UTF8'), convert_to('what do ya want for nothing?', 'UTF8')), 'hex')
       = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843' AS rfc4231_2,
       encode(balatrix.hmac_sha256(decode(repeat('aa', 131), 'hex'),
                                   convert_to('Test Using Larger Than Block-Size Key - Hash Key First', 'UTF8')), 'hex')
       = '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54' AS rfc4231_6;

-- Two customers (A, B) and an admin, each a user with a live session.
INSERT INTO balatrix.users (id, email, password_hash, role) VALUES
    ('00000000-0000-4000-8000-0000000000e1', 'a@example.com', 'x', 'customer'),
    ('00000000-0000-4000-8000-0000000000e2', 'b@example.com', 'x', 'customer'),
    ('00000000-0000-4000-8000-0000000000e3', 'admin@example.com', 'x', 'admin');
INSERT INTO balatrix.customers (id, user_id, name, billing_state_code) VALUES
    ('00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-0000000000e1', 'Customer A', '29'),
    ('00000000-0000-4000-8000-0000000000c2', '00000000-0000-4000-8000-0000000000e2', 'Customer B', '27');
INSERT INTO balatrix.accounts (customer_id, account_number, account_type)
SELECT id, 'ID-' || right(id::text, 2), 'postpaid' FROM balatrix.customers WHERE id::text LIKE '%0000000000c_';
INSERT INTO balatrix.refresh_tokens (user_id, family_id, token_hash, expires_at)
SELECT u.id, ('00000000-0000-4000-8000-00000000f00' || right(u.id::text, 1))::uuid, sha256(convert_to(u.email, 'UTF8')), '2100-01-01'
  FROM balatrix.users u WHERE u.id::text LIKE '%0000000000e_';
SELECT balatrix.set_api_signing_key('test-signing-key-of-at-least-32-bytes!!');
SELECT balatrix.set_api_signing_key('short');

\set customer_a 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJiYWxhdHJpeCIsImF1ZCI6ImJhbGF0cml4LWFwaSIsImlhdCI6MTc2NzIyNTYwMCwiZXhwIjo0MTAyNDQ0ODAwLCJqdGkiOiJ0MSIsInN1YiI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDBlMSIsInNpZCI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwZjAwMSIsInJvbGUiOiJjdXN0b21lciJ9.voQ_xHdexDQW8pQja_3HCpBIxraU1476B6NufURoFrE'
\set customer_b 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJiYWxhdHJpeCIsImF1ZCI6ImJhbGF0cml4LWFwaSIsImlhdCI6MTc2NzIyNTYwMCwiZXhwIjo0MTAyNDQ0ODAwLCJqdGkiOiJ0MSIsInN1YiI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDBlMiIsInNpZCI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwZjAwMiIsInJvbGUiOiJjdXN0b21lciJ9.oBFisHYrjCa1STBK8hPWzhlXxnxAFPtWEjg7paeXKtE'
\set admin 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJiYWxhdHJpeCIsImF1ZCI6ImJhbGF0cml4LWFwaSIsImlhdCI6MTc2NzIyNTYwMCwiZXhwIjo0MTAyNDQ0ODAwLCJqdGkiOiJ0MSIsInN1YiI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDBlMyIsInNpZCI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwZjAwMyIsInJvbGUiOiJhZG1pbiJ9.0BKj-nCK9V0PreZfjh9O4G7-SEkdMHk8VKw0UBz8688'
-- A's claims signed with another key; A's token claiming role admin; A's token expired in 2026;
-- the admin's claims with alg none; A's signature on a payload whose sub was changed to the admin.
\set other_key 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJiYWxhdHJpeCIsImF1ZCI6ImJhbGF0cml4LWFwaSIsImlhdCI6MTc2NzIyNTYwMCwiZXhwIjo0MTAyNDQ0ODAwLCJqdGkiOiJ0MSIsInN1YiI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDBlMSIsInNpZCI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwZjAwMSIsInJvbGUiOiJjdXN0b21lciJ9.645fL6gNhomVrAzNiqX53HkFq28qc479rRZgcwpJ1AI'
\set forged_role 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJiYWxhdHJpeCIsImF1ZCI6ImJhbGF0cml4LWFwaSIsImlhdCI6MTc2NzIyNTYwMCwiZXhwIjo0MTAyNDQ0ODAwLCJqdGkiOiJ0MSIsInN1YiI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDBlMSIsInNpZCI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwZjAwMSIsInJvbGUiOiJhZG1pbiJ9.eCYwOwFHZnwpTLHAQI5vnLUpMPhrbT9kaxb7nipsTi0'
\set expired 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJiYWxhdHJpeCIsImF1ZCI6ImJhbGF0cml4LWFwaSIsImlhdCI6MTc2NzIyNTYwMCwiZXhwIjoxNzY3MjI2NTAwLCJqdGkiOiJ0MSIsInN1YiI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDBlMSIsInNpZCI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwZjAwMSIsInJvbGUiOiJjdXN0b21lciJ9.40BqfbJ3qRleHHMvnBiwcQE2mvBYUmyscTlQNf-XJXg'
\set alg_none 'eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJiYWxhdHJpeCIsImF1ZCI6ImJhbGF0cml4LWFwaSIsImlhdCI6MTc2NzIyNTYwMCwiZXhwIjo0MTAyNDQ0ODAwLCJqdGkiOiJ0MSIsInN1YiI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDBlMyIsInNpZCI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwZjAwMyIsInJvbGUiOiJhZG1pbiJ9.'
\set tampered 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJiYWxhdHJpeCIsImF1ZCI6ImJhbGF0cml4LWFwaSIsImlhdCI6MTc2NzIyNTYwMCwiZXhwIjo0MTAyNDQ0ODAwLCJqdGkiOiJ0MSIsInN1YiI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDBlMyIsInNpZCI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwZjAwMSIsInJvbGUiOiJjdXN0b21lciJ9.voQ_xHdexDQW8pQja_3HCpBIxraU1476B6NufURoFrE'
-- The admin's claims, correctly signed, but without aud / exp / sub: a missing claim fails its check.
\set no_aud 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJiYWxhdHJpeCIsImlhdCI6MTc2NzIyNTYwMCwiZXhwIjo0MTAyNDQ0ODAwLCJqdGkiOiJ0MSIsInN1YiI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDBlMyIsInNpZCI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwZjAwMyIsInJvbGUiOiJhZG1pbiJ9.ZQyd2LwotN4MaKtgmXxQU44L8iVHOTnWjN7jdUBMuuc'
\set no_exp 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJiYWxhdHJpeCIsImF1ZCI6ImJhbGF0cml4LWFwaSIsImlhdCI6MTc2NzIyNTYwMCwianRpIjoidDEiLCJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwZTMiLCJzaWQiOiIwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMGYwMDMiLCJyb2xlIjoiYWRtaW4ifQ.uY8iSSHmdfJwHEgkiToL6x0BFUkR595tTsa4psexYr8'
\set no_sub 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJiYWxhdHJpeCIsImF1ZCI6ImJhbGF0cml4LWFwaSIsImlhdCI6MTc2NzIyNTYwMCwiZXhwIjo0MTAyNDQ0ODAwLCJqdGkiOiJ0MSIsInNpZCI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwZjAwMyIsInJvbGUiOiJhZG1pbiJ9.LbQVwrqvWnvj2HdlQwEtiZepAbrVlVNdKYiI5ooeuYU'

SET ROLE balatrix_api;
-- No actor: the tenant tables are empty to the API.
SELECT (SELECT count(*) FROM balatrix.customers) AS customers, (SELECT count(*) FROM balatrix.accounts) AS accounts;
-- Forging the actor without a token fails: the setter is not the API's, settings under balatrix.*
-- are the extension's, and the keys cannot be read.
\set VERBOSITY terse
SELECT balatrix.set_actor('00000000-0000-4000-8000-0000000000e3', 'admin', NULL);
SET balatrix.actor_role = 'admin';
SELECT count(*) FROM balatrix.api_signing_keys;
SELECT balatrix.set_api_signing_key('an attacker''s key of at least thirty-two bytes');
-- Bad tokens: 28000, no actor; the reason is in DETAIL (for the sidecar's log, never the client).
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT * FROM balatrix.set_identity(:'other_key');
SELECT * FROM balatrix.set_identity(:'forged_role');
SELECT * FROM balatrix.set_identity(:'expired');
SELECT * FROM balatrix.set_identity(:'alg_none');
SELECT * FROM balatrix.set_identity(:'tampered');
SELECT * FROM balatrix.set_identity(:'no_aud');
SELECT * FROM balatrix.set_identity(:'no_exp');
SELECT * FROM balatrix.set_identity(:'no_sub');
SELECT * FROM balatrix.set_identity('not.a.token');
SELECT * FROM balatrix.set_identity('');
SELECT * FROM balatrix.set_identity(NULL);
SELECT * FROM balatrix.set_identity(repeat('x', 9000));
SELECT balatrix.actor_user_id() IS NULL AS no_actor, (SELECT count(*) FROM balatrix.customers) AS customers;

-- Customer A sees its own customer and account only, for the length of its transaction.
BEGIN;
SELECT * FROM balatrix.set_identity(:'customer_a');
SELECT name FROM balatrix.customers ORDER BY name;
SELECT account_number FROM balatrix.accounts ORDER BY account_number;
-- B's rows do not exist for A.
SELECT count(*) AS b_rows FROM balatrix.customers WHERE id = '00000000-0000-4000-8000-0000000000c2';
COMMIT;
SELECT balatrix.actor_user_id() IS NULL AS cleared_at_commit, (SELECT count(*) FROM balatrix.customers) AS customers;
-- Cleared at abort too.
BEGIN;
SELECT role FROM balatrix.set_identity(:'customer_b');
SELECT name FROM balatrix.customers ORDER BY name;
ROLLBACK;
SELECT balatrix.actor_user_id() IS NULL AS cleared_at_abort;
-- A failed verification drops the actor already set in the transaction.
BEGIN;
SELECT role FROM balatrix.set_identity(:'customer_b');
SAVEPOINT s;
\set VERBOSITY terse
SELECT * FROM balatrix.set_identity(:'other_key');
\set VERBOSITY default
ROLLBACK TO s;
SELECT balatrix.actor_role() AS after_failed_switch, (SELECT count(*) FROM balatrix.customers) AS customers;
COMMIT;
-- The admin sees every customer.
BEGIN;
SELECT role, customer_id FROM balatrix.set_identity(:'admin');
SELECT name FROM balatrix.customers ORDER BY name;
COMMIT;
RESET ROLE;

-- Logging out (the session's refresh tokens revoked) ends the access token at once; so does a
-- deactivated user.
UPDATE balatrix.refresh_tokens SET revoked_at = now() WHERE family_id = '00000000-0000-4000-8000-00000000f001';
UPDATE balatrix.users SET is_active = false WHERE id = '00000000-0000-4000-8000-0000000000e2';
SET ROLE balatrix_api;
SELECT * FROM balatrix.set_identity(:'customer_a');
SELECT * FROM balatrix.set_identity(:'customer_b');
RESET ROLE;

-- Clean up (nothing here is append-only).
DELETE FROM balatrix.refresh_tokens WHERE family_id::text LIKE '00000000-0000-4000-8000-00000000f00_';
DELETE FROM balatrix.accounts WHERE account_number LIKE 'ID-%';
DELETE FROM balatrix.customers WHERE id::text LIKE '%0000000000c_';
DELETE FROM balatrix.users WHERE id::text LIKE '%0000000000e_';
DELETE FROM balatrix.api_signing_keys;

-- FreeSWITCH's role and FreeSWITCH's statements: the five INSERTs of reference/freeswitch.md §1.11,
-- exactly as mod_cdr_pg_csv sends them (db-table = balatrix.cdr), succeed as balatrix_ingest; that
-- role can do nothing else to the table; the rows are stored as sent.
BEGIN;
SELECT plan(34);
SET LOCAL timezone = 'UTC';

SET LOCAL ROLE balatrix_ingest;
SELECT lives_ok($$INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','Alice Smith','1001','4930901820','default','2025-03-14 09:26:53','2025-03-14 09:27:01','2025-03-14 09:31:14',261,253,'NORMAL_CLEARING','a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607','c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f','1001','PCMA','PCMA');$$,
                'INSERT 1 (answered outbound a-leg) as balatrix_ingest');
SELECT lives_ok($$INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','Bob Jones','1002','4940123456','default','2025-03-14 10:02:11',null,'2025-03-14 10:02:41',30,0,'NO_ANSWER','5d0e8b7a-2c4f-4e1d-b6a3-9f8e7d6c5b4a',null,'1002','PCMU','PCMU');$$,
                'INSERT 2 (unanswered, null answer_stamp and bleg_uuid) as balatrix_ingest');
SELECT lives_ok($$INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','+4917612345678','+4917612345678','4989555010','public','2025-03-14 11:45:02','2025-03-14 11:45:08','2025-03-14 11:45:49',47,41,'NORMAL_CLEARING','e7b6a5d4-c3b2-4a19-8f07-e6d5c4b3a291','1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b',null,'PCMA','PCMA');$$,
                'INSERT 3 (inbound carrier call, null accountcode) as balatrix_ingest');
SELECT lives_ok($$INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','O''''Brien, Seán "Bobby" \o/','1003','442079460000','default','2025-03-14 12:10:30','2025-03-14 12:10:44','2025-03-14 12:22:05',695,681,'NORMAL_CLEARING','9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d','0c1d2e3f-4a5b-46c7-8d9e-0f1a2b3c4d5e','1003','G722','G722');$$,
                'INSERT 4 (double-escaped caller name) as balatrix_ingest');
SELECT lives_ok($$INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','Alice Smith','1001','4930901820','default','2025-03-14 09:26:54','2025-03-14 09:27:01','2025-03-14 09:31:14',260,253,'NORMAL_CLEARING','c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f',null,null,'PCMA','PCMA');$$,
                'INSERT 5 (b-leg of call 1) as balatrix_ingest');
-- Lenient landing: values a typed table would refuse (and FreeSWITCH would then spool for good).
SELECT lives_ok($$INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','Lenient','1004','4930901821','default','2025-03-14 13:00:00',null,'2025-03-14 13:00:20','','abc','NO_ANSWER','(NULL)',null,'1004','PCMA','PCMA');$$,
                'not-null="true" artefacts (''(NULL)'' uuid, '''' duration, ''abc'' billsec) land as balatrix_ingest');

SELECT throws_ok($$SELECT count(*) FROM balatrix.cdr$$, '42501', 'permission denied for table cdr', 'balatrix_ingest cannot SELECT cdr');
SELECT throws_ok($$UPDATE balatrix.cdr SET billsec = '0'$$, '42501', 'permission denied for table cdr', 'balatrix_ingest cannot UPDATE cdr');
SELECT throws_ok($$DELETE FROM balatrix.cdr$$, '42501', 'permission denied for table cdr', 'balatrix_ingest cannot DELETE FROM cdr');
SELECT throws_ok($$TRUNCATE balatrix.cdr$$, '42501', 'permission denied for table cdr', 'balatrix_ingest cannot TRUNCATE cdr');
SELECT throws_ok($$INSERT INTO balatrix.cdr (uuid) VALUES ('x') RETURNING id$$, '42501', 'permission denied for table cdr',
                 'balatrix_ingest cannot read back through INSERT ... RETURNING');
RESET ROLE;

-- Stored as sent, in arrival order: the doubled quote of §1.5 stays; null is NULL. The rating trigger
-- has judged each row: no account exists in this transaction, so unknown_account, except the row
-- whose billsec 'abc' cannot be read (invalid).
SELECT results_eq($$
    SELECT uuid, caller_id_name, answer_stamp, duration, billsec, accountcode, bleg_uuid, rating_status
      FROM balatrix.cdr
     WHERE uuid IN ('a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607', '5d0e8b7a-2c4f-4e1d-b6a3-9f8e7d6c5b4a', 'e7b6a5d4-c3b2-4a19-8f07-e6d5c4b3a291',
                    '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d', 'c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f', '(NULL)')
     ORDER BY id
$$, $$ VALUES
    ('a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607'::text, 'Alice Smith'::text, '2025-03-14 09:27:01'::text, '261'::text, '253'::text, '1001'::text, 'c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f'::text, 'unknown_account'::text),
    ('5d0e8b7a-2c4f-4e1d-b6a3-9f8e7d6c5b4a', 'Bob Jones', NULL, '30', '0', '1002', NULL, 'unknown_account'),
    ('e7b6a5d4-c3b2-4a19-8f07-e6d5c4b3a291', '+4917612345678', '2025-03-14 11:45:08', '47', '41', NULL, '1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b', 'unknown_account'),
    ('9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d', 'O''''Brien, Seán "Bobby" \o/', '2025-03-14 12:10:44', '695', '681', '1003', '0c1d2e3f-4a5b-46c7-8d9e-0f1a2b3c4d5e', 'unknown_account'),
    ('c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f', 'Alice Smith', '2025-03-14 09:27:01', '260', '253', NULL, NULL, 'unknown_account'),
    ('(NULL)', 'Lenient', NULL, '', 'abc', '1004', NULL, 'invalid')
$$, 'the CDRs are stored as FreeSWITCH sent them');
SELECT is((SELECT caller_id_name FROM balatrix.cdr WHERE uuid = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d'),
          'O' || chr(39) || chr(39) || 'Brien, Seán "Bobby" \o/', 'the O''Brien name keeps two quote characters and the backslash');
SELECT is((SELECT count(*) FROM balatrix.cdr
            WHERE uuid IN ('a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607', '5d0e8b7a-2c4f-4e1d-b6a3-9f8e7d6c5b4a', 'e7b6a5d4-c3b2-4a19-8f07-e6d5c4b3a291',
                           '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d', 'c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f', '(NULL)')
              AND received_at IS NOT NULL AND id IS NOT NULL),
          6::bigint, 'each row got an id and a received_at by default');

-- A month partition made later has the same key and indexes as cdr_default (names differ only in
-- the partition prefix), so queries and dedupe behave alike in every partition.
SELECT isnt_empty($$SELECT * FROM balatrix.create_cdr_partitions(0, '2031-01-01')$$, 'a month partition is created');
SELECT bag_eq(
    $$SELECT replace(indexdef, 'cdr_2031m01', 'P') FROM pg_catalog.pg_indexes WHERE schemaname = 'balatrix' AND tablename = 'cdr_2031m01'$$,
    $$SELECT replace(indexdef, 'cdr_default', 'P') FROM pg_catalog.pg_indexes WHERE schemaname = 'balatrix' AND tablename = 'cdr_default'$$,
    'a new CDR partition gets the primary key and indexes of cdr_default');

-- A replay of INSERT 1 (same uuid) succeeds and adds nothing.
SET LOCAL ROLE balatrix_ingest;
SELECT lives_ok($$INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','Alice Smith','1001','4930901820','default','2025-03-14 09:26:53','2025-03-14 09:27:01','2025-03-14 09:31:14',261,253,'NORMAL_CLEARING','a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607','c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f','1001','PCMA','PCMA');$$,
                'a replayed INSERT 1 succeeds as balatrix_ingest');
RESET ROLE;
SELECT is((SELECT count(*) FROM balatrix.cdr WHERE uuid = 'a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607'), 1::bigint,
          'the replay of INSERT 1 was dropped (one row with its uuid)');

-- The rating triggers: the row trigger on the parent (cloned to every partition), the statement
-- trigger on the parent and on each partition (a statement aimed at a partition fires only its own).
SELECT trigger_is('balatrix', 'cdr', 'cdr_rate_trg', 'balatrix', 'tg_cdr_rate', 'cdr has the rating row trigger');
SELECT trigger_is('balatrix', 'cdr', 'cdr_post_trg', 'balatrix', 'tg_cdr_post', 'cdr has the posting statement trigger');
SELECT trigger_is('balatrix', 'cdr_default', 'cdr_rate_trg', 'balatrix', 'tg_cdr_rate', 'cdr_default has the cloned row trigger');
SELECT trigger_is('balatrix', 'cdr_default', 'cdr_post_trg', 'balatrix', 'tg_cdr_post', 'cdr_default has the statement trigger');
SELECT trigger_is('balatrix', 'cdr_2031m01', 'cdr_rate_trg', 'balatrix', 'tg_cdr_rate', 'a new partition has the cloned row trigger');
SELECT trigger_is('balatrix', 'cdr_2031m01', 'cdr_post_trg', 'balatrix', 'tg_cdr_post', 'a new partition has the statement trigger');
SELECT is((SELECT string_agg(t.tgname || ':' || CASE WHEN (t.tgtype & 2) = 2 THEN 'before' ELSE 'after' END || '/'
                              || CASE WHEN (t.tgtype & 1) = 1 THEN 'row' ELSE 'statement' END, ',' ORDER BY t.tgname)
             FROM pg_catalog.pg_trigger t WHERE t.tgrelid = 'balatrix.cdr'::regclass AND NOT t.tgisinternal),
          'cdr_post_trg:after/statement,cdr_rate_trg:before/row',
   'cdr_rate_trg is BEFORE ... FOR EACH ROW, cdr_post_trg AFTER ... FOR EACH STATEMENT');
-- A direct insert into a partition posts its money too (its statement trigger runs; no error at commit).
SELECT lives_ok($$INSERT INTO balatrix.cdr_2031m01 (received_at, uuid) VALUES ('2031-01-15 00:00+00', 'direct-partition')$$,
                'a CDR inserted into a partition directly is rated');
SELECT is((SELECT rating_status FROM balatrix.cdr WHERE uuid = 'direct-partition'), 'invalid',
          'the CDR without times inserted into a partition is stored as invalid');

-- SECURITY DEFINER, owned by balatrix_owner (FreeSWITCH's role moves money it cannot touch).
SELECT is_definer('balatrix', 'tg_cdr_rate', ARRAY[]::name[], 'tg_cdr_rate is SECURITY DEFINER');
SELECT is_definer('balatrix', 'tg_cdr_post', ARRAY[]::name[], 'tg_cdr_post is SECURITY DEFINER');
SELECT function_owner_is('balatrix', 'tg_cdr_rate', ARRAY[]::name[], 'balatrix_owner', 'tg_cdr_rate is owned by balatrix_owner');
SELECT function_owner_is('balatrix', 'tg_cdr_post', ARRAY[]::name[], 'balatrix_owner', 'tg_cdr_post is owned by balatrix_owner');
-- Nothing is executable by PUBLIC or the ingest role directly.
SELECT function_privs_are('balatrix', 'check_ledger', ARRAY[]::name[], 'public', ARRAY[]::text[], 'PUBLIC cannot run check_ledger');
SELECT function_privs_are('balatrix', 'tg_cdr_rate', ARRAY[]::name[], 'balatrix_ingest', ARRAY[]::text[],
                          'balatrix_ingest cannot call tg_cdr_rate directly');
SELECT is(pg_catalog.has_table_privilege('balatrix_ingest', 'balatrix.cdr_uuids', 'SELECT,INSERT,UPDATE,DELETE'), false,
          'balatrix_ingest has no privilege on cdr_uuids');

SELECT * FROM finish();
ROLLBACK;

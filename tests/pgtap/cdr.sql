-- FreeSWITCH's role and FreeSWITCH's statements: the five INSERTs of reference/freeswitch.md §1.11,
-- exactly as mod_cdr_pg_csv sends them (db-table = balatrix.cdr), succeed as balatrix_ingest; that
-- role can do nothing else to the table; the rows are stored as sent.
BEGIN;
SELECT plan(16);
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

-- Stored as sent, in arrival order: the doubled quote of §1.5 stays; null is NULL; nothing is rated yet.
SELECT results_eq($$
    SELECT uuid, caller_id_name, answer_stamp, duration, billsec, accountcode, bleg_uuid, rating_status
      FROM balatrix.cdr
     WHERE uuid IN ('a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607', '5d0e8b7a-2c4f-4e1d-b6a3-9f8e7d6c5b4a', 'e7b6a5d4-c3b2-4a19-8f07-e6d5c4b3a291',
                    '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d', 'c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f', '(NULL)')
     ORDER BY id
$$, $$ VALUES
    ('a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607'::text, 'Alice Smith'::text, '2025-03-14 09:27:01'::text, '261'::text, '253'::text, '1001'::text, 'c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f'::text, 'pending'::text),
    ('5d0e8b7a-2c4f-4e1d-b6a3-9f8e7d6c5b4a', 'Bob Jones', NULL, '30', '0', '1002', NULL, 'pending'),
    ('e7b6a5d4-c3b2-4a19-8f07-e6d5c4b3a291', '+4917612345678', '2025-03-14 11:45:08', '47', '41', NULL, '1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b', 'pending'),
    ('9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d', 'O''''Brien, Seán "Bobby" \o/', '2025-03-14 12:10:44', '695', '681', '1003', '0c1d2e3f-4a5b-46c7-8d9e-0f1a2b3c4d5e', 'pending'),
    ('c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f', 'Alice Smith', '2025-03-14 09:27:01', '260', '253', NULL, NULL, 'pending'),
    ('(NULL)', 'Lenient', NULL, '', 'abc', '1004', NULL, 'pending')
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

SELECT * FROM finish();
ROLLBACK;

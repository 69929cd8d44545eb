--
-- CDR landing table: what FreeSWITCH mod_cdr_pg_csv sends must land (reference/freeswitch.md §1),
-- and monthly partitions by received_at.
--
SET timezone = 'UTC';
-- Refusals are shown as SQLSTATE + message (the SQLSTATE is the contract; default verbosity would
-- also print plpgsql CONTEXT lines).
CREATE FUNCTION pg_temp.sqlstate_of(stmt text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;
-- The table is empty when this file starts.
SELECT count(*) AS rows_before FROM balatrix.cdr;
-- Explicit monthly partitions for March and April 2025 (UTC months of received_at).
SELECT * FROM balatrix.create_cdr_partitions(1, '2025-03-01');
-- Idempotent: a second call creates nothing.
SELECT * FROM balatrix.create_cdr_partitions(1, '2025-03-01');
SELECT c.relname, pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS bound
  FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'balatrix.cdr'::regclass
 ORDER BY c.relname;

--
-- FreeSWITCH's own role, with FreeSWITCH's own statements: the five INSERTs of freeswitch.md §1.11,
-- exactly as the module sends them (db-table = balatrix.cdr). Each must succeed (INSERT 0 1).
--
SET ROLE balatrix_ingest;
-- Show the command tags FreeSWITCH checks for (PGRES_COMMAND_OK).
\set QUIET off
-- 1) answered outbound call, a-leg
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','Alice Smith','1001','4930901820','default','2025-03-14 09:26:53','2025-03-14 09:27:01','2025-03-14 09:31:14',261,253,'NORMAL_CLEARING','a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607','c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f','1001','PCMA','PCMA');
-- 2) unanswered call: answer_stamp and bleg_uuid are null
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','Bob Jones','1002','4940123456','default','2025-03-14 10:02:11',null,'2025-03-14 10:02:41',30,0,'NO_ANSWER','5d0e8b7a-2c4f-4e1d-b6a3-9f8e7d6c5b4a',null,'1002','PCMU','PCMU');
-- 3) inbound carrier call in context public, no accountcode
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','+4917612345678','+4917612345678','4989555010','public','2025-03-14 11:45:02','2025-03-14 11:45:08','2025-03-14 11:45:49',47,41,'NORMAL_CLEARING','e7b6a5d4-c3b2-4a19-8f07-e6d5c4b3a291','1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b',null,'PCMA','PCMA');
-- 4) caller name O'Brien, Seán "Bobby" \o/ after FreeSWITCH's double escaping (§1.5)
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','O''''Brien, Seán "Bobby" \o/','1003','442079460000','default','2025-03-14 12:10:30','2025-03-14 12:10:44','2025-03-14 12:22:05',695,681,'NORMAL_CLEARING','9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d','0c1d2e3f-4a5b-46c7-8d9e-0f1a2b3c4d5e','1003','G722','G722');
-- 5) legs=ab: the b-leg of call 1
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','Alice Smith','1001','4930901820','default','2025-03-14 09:26:54','2025-03-14 09:27:01','2025-03-14 09:31:14',260,253,'NORMAL_CLEARING','c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f',null,null,'PCMA','PCMA');
-- The csv spool line of §1.8 (row 2 had failed), replayed as an operator would. It carries the same
-- uuid as INSERT 2, so the rating trigger drops it: COPY 0 (sql/cdr_rating.sql tests dedupe in depth).
\copy balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) from stdin with (format csv, quote '''', null 'null')
'10.0.0.15','Bob Jones','1002','4940123456','default','2025-03-14 10:02:11',null,'2025-03-14 10:02:41',30,0,'NO_ANSWER','5d0e8b7a-2c4f-4e1d-b6a3-9f8e7d6c5b4a',null,'1002','PCMU','PCMU'
\.
-- Lenient landing (§1.6): values that would make a typed table refuse the INSERT (and FreeSWITCH
-- spool the CDR for good) land as text, to be judged by the rating trigger.
-- not-null="true" on uuid with the variable missing: '(NULL)'
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','Lenient One','1004','4930901821','default','2025-03-14 13:00:00',null,'2025-03-14 13:00:20',20,0,'NO_ANSWER','(NULL)',null,'1004','PCMA','PCMA');
-- duration configured quoted with not-null="true" and an empty variable: ''
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','Lenient Two','1004','4930901822','default','2025-03-14 13:05:00','2025-03-14 13:05:03','2025-03-14 13:06:03','',60,'NORMAL_CLEARING','6f1e2d3c-4b5a-4697-8877-665544332211',null,'1004','PCMA','PCMA');
-- billsec configured quoted and set to abc by a rogue dialplan
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','Lenient Three','1004','4930901823','default','2025-03-14 13:10:00','2025-03-14 13:10:05','2025-03-14 13:11:05',65,'abc','NORMAL_CLEARING','7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',null,'1004','PCMA','PCMA');
-- every variable missing except uuid
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES (null,null,null,null,null,null,null,null,null,null,null,'8b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e',null,null,null,null);
-- The optional columns recommended for billing (§1.10): quoted text and bare numbers (quote="false").
-- Call 1 again as a-leg of a legs=ab configuration with the extra fields: start 09:26:53.412,
-- answer 09:27:01.958, end 09:31:14.203 Europe/Berlin (UTC+1): billmsec 252245, mduration 260791.
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec,direction,call_uuid,originating_leg_uuid,sip_hangup_disposition,hangup_cause_q850,last_bridge_hangup_cause,sip_term_status,billmsec,billusec,mduration,start_epoch,answer_epoch,end_epoch,start_uepoch,answer_uepoch,end_uepoch,progresssec,waitsec) VALUES ('10.0.0.15','Alice Smith','1001','4930901820','default','2025-03-14 09:26:53','2025-03-14 09:27:01','2025-03-14 09:31:14',261,253,'NORMAL_CLEARING','d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70','c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f','1001','PCMA','PCMA','outbound','d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70',null,'send_bye','16','NORMAL_CLEARING','200',252245,252245000,260791,1741940813,1741940821,1741941074,1741940813412000,1741940821958000,1741941074203000,2,8);
-- an unanswered leg: answer_epoch / answer_uepoch are 0, not missing (§1.6)
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec,direction,call_uuid,billmsec,billusec,answer_epoch,answer_uepoch) VALUES ('10.0.0.15','Bob Jones','1002','4940123456','default','2025-03-14 10:02:11',null,'2025-03-14 10:02:41',30,0,'NO_ANSWER','e5f6a7b8-c9d0-4e1f-9a2b-3c4d5e6f7a81',null,'1002','PCMU','PCMU','outbound','e5f6a7b8-c9d0-4e1f-9a2b-3c4d5e6f7a81',0,0,0,0);
\set QUIET on
-- FreeSWITCH's role may add CDRs, nothing else (it cannot even read back what it wrote).
SELECT pg_temp.sqlstate_of('SELECT count(*) FROM balatrix.cdr') AS ingest_select;
SELECT pg_temp.sqlstate_of($$UPDATE balatrix.cdr SET billsec = '0'$$) AS ingest_update;
SELECT pg_temp.sqlstate_of('DELETE FROM balatrix.cdr') AS ingest_delete;
SELECT pg_temp.sqlstate_of('SELECT count(*) FROM balatrix.accounts') AS ingest_select_accounts;
RESET ROLE;

-- What was stored, in arrival order. The O'Brien name keeps FreeSWITCH's doubled quote and its
-- backslash; the spool replay of call 2 was dropped as a duplicate; the lenient values are kept as
-- sent. There are no accounts in this file, so the rating trigger stores every CDR as unknown_account,
-- except the ones it cannot read: billsec 'abc' and the sparse row without a start time are invalid
-- (sql/cdr_rating.sql rates against real accounts).
SELECT uuid, caller_id_name, answer_stamp, duration, billsec, accountcode, rating_status
  FROM balatrix.cdr ORDER BY id;
SELECT caller_id_name, caller_id_name = $$O''Brien, Seán "Bobby" \o/$$ AS stored_as_sent,
       length(caller_id_name) AS len
  FROM balatrix.cdr WHERE uuid = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
-- NULL is NULL, not the string 'null' (INSERT and \copy alike).
SELECT uuid, answer_stamp IS NULL AS answer_null, bleg_uuid IS NULL AS bleg_null, accountcode IS NULL AS accountcode_null
  FROM balatrix.cdr WHERE uuid IN ('5d0e8b7a-2c4f-4e1d-b6a3-9f8e7d6c5b4a', 'e7b6a5d4-c3b2-4a19-8f07-e6d5c4b3a291', 'c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f')
 ORDER BY id;
-- Call 2 is stored once: its spool replay was dropped as a duplicate.
SELECT count(*) AS copies, count(DISTINCT (local_ip_v4, caller_id_name, caller_id_number, destination_number, context,
                                           start_stamp, answer_stamp, end_stamp, duration, billsec, hangup_cause, uuid,
                                           bleg_uuid, accountcode, read_codec, write_codec)) AS distinct_values
  FROM balatrix.cdr WHERE uuid = '5d0e8b7a-2c4f-4e1d-b6a3-9f8e7d6c5b4a';
-- Every column but uuid NULL in the sparse row.
SELECT num_nulls(local_ip_v4, caller_id_name, caller_id_number, destination_number, context, start_stamp, answer_stamp,
                 end_stamp, duration, billsec, hangup_cause, bleg_uuid, accountcode, read_codec, write_codec) AS nulls_of_15
  FROM balatrix.cdr WHERE uuid = '8b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e';
-- The optional columns as stored; the microsecond epochs give the times to the millisecond.
SELECT uuid, direction, call_uuid, originating_leg_uuid, sip_hangup_disposition, hangup_cause_q850, billmsec, billusec,
       mduration, answer_epoch, start_uepoch, answer_uepoch, end_uepoch, progresssec, waitsec
  FROM balatrix.cdr WHERE direction IS NOT NULL ORDER BY id;
SELECT to_timestamp(start_uepoch::bigint / 1e6) AS started, to_timestamp(answer_uepoch::bigint / 1e6) AS answered,
       to_timestamp(end_uepoch::bigint / 1e6) AS ended,
       (end_uepoch::bigint - answer_uepoch::bigint) / 1000 = billmsec::bigint AS billmsec_consistent
  FROM balatrix.cdr WHERE uuid = 'd4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70';
-- Filled by default: a received_at, an id, and the partition of the month received (cdr_default
-- unless a partition covers the current month); by the rating trigger: a rating_status other than
-- 'pending' and rated_at (no charge: nothing here has an account).
SELECT count(*) AS rows,
       count(*) FILTER (WHERE received_at IS NOT NULL AND rating_status <> 'pending' AND rated_at IS NOT NULL AND charge IS NULL) AS defaults_ok,
       count(DISTINCT id) AS distinct_ids,
       count(*) FILTER (WHERE tableoid::regclass::text IN ('balatrix.cdr_default',
                                                          'balatrix.cdr_' || to_char(received_at AT TIME ZONE 'UTC', 'YYYY"m"MM'))) AS routed_by_received_at
  FROM balatrix.cdr;
DELETE FROM balatrix.cdr;

--
-- Partition routing by received_at (UTC months, whatever the session time zone).
--
INSERT INTO balatrix.cdr (received_at, uuid) VALUES
    ('2025-02-28 23:59:59.999999+00', 'route-feb-last'),
    ('2025-03-01 00:00:00+00', 'route-mar-first'),
    ('2025-03-14 09:31:15+00', 'route-mar-mid'),
    ('2025-03-31 23:59:59.999999+00', 'route-mar-last'),
    ('2025-04-01 00:00:00+00', 'route-apr-first'),
    ('2025-04-01 03:00:00+05:30', 'route-ist-still-march'),
    ('2025-05-10 12:00:00+00', 'route-may');
SET timezone = 'Asia/Kolkata';
INSERT INTO balatrix.cdr (received_at, uuid) VALUES ('2025-04-01 05:29:59', 'route-ist-session');
SET timezone = 'UTC';
SELECT uuid, received_at, tableoid::regclass AS partition FROM balatrix.cdr ORDER BY received_at, uuid;
-- A month created later takes its rows out of cdr_default (from_month is truncated to its month).
SELECT * FROM balatrix.create_cdr_partitions(0, '2025-05-17');
SELECT uuid, tableoid::regclass AS partition FROM balatrix.cdr WHERE uuid = 'route-may';
SELECT count(*) AS may_rows_left_in_default FROM balatrix.cdr_default WHERE received_at >= '2025-05-01' AND received_at < '2025-06-01';
-- The new partition is owned like the rest, and has the same indexes as every partition (uuid and
-- call_uuid hash: a value of any length fits).
SELECT c.relname, pg_catalog.pg_get_userbyid(c.relowner) AS owner
  FROM pg_catalog.pg_class c WHERE c.oid = 'balatrix.cdr_2025m05'::regclass;
SELECT pg_catalog.pg_get_indexdef(x.indexrelid) AS index
  FROM pg_catalog.pg_index x WHERE x.indrelid = 'balatrix.cdr_2025m05'::regclass ORDER BY 1;

-- Retention: partitions whose months ended by older_than go, with their rows; the default stays.
SELECT * FROM balatrix.drop_cdr_partitions('2025-04-01');
SELECT uuid, tableoid::regclass AS partition FROM balatrix.cdr ORDER BY received_at, uuid;
SELECT * FROM balatrix.drop_cdr_partitions('2025-04-01');
SELECT * FROM balatrix.drop_cdr_partitions('2025-06-01');
SELECT c.relname
  FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'balatrix.cdr'::regclass
 ORDER BY c.relname;
SELECT uuid, tableoid::regclass AS partition FROM balatrix.cdr ORDER BY received_at, uuid;

-- Bad arguments.
SELECT pg_temp.sqlstate_of('SELECT balatrix.create_cdr_partitions(-1)') AS months_minus_one;
SELECT pg_temp.sqlstate_of('SELECT balatrix.create_cdr_partitions(121)') AS months_121;
SELECT pg_temp.sqlstate_of('SELECT balatrix.create_cdr_partitions(NULL)') AS months_null;
SELECT pg_temp.sqlstate_of('SELECT balatrix.drop_cdr_partitions(NULL)') AS older_than_null;
-- What the operator sees (without the PL/pgSQL CONTEXT line, which names a line of the function).
\set SHOW_CONTEXT never
SELECT * FROM balatrix.create_cdr_partitions(-1);
\set SHOW_CONTEXT errors

-- Leave the table empty, and forget the uuids (the idempotency keys outlive deleted CDRs: a CDR
-- replayed after a DELETE is still a duplicate).
DELETE FROM balatrix.cdr;
DELETE FROM balatrix.cdr_uuids;
SELECT count(*) AS rows_after FROM balatrix.cdr;

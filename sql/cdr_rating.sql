--
-- The CDR rating trigger (balatrix.tg_cdr_rate / tg_cdr_post): FreeSWITCH's own statements are
-- rated, deduplicated and billed in the same statement; hostile CDRs are stored with a status,
-- never refused. Every expected charge is worked out by hand in the comments.
--
SET timezone = 'UTC';
-- Ledger rows cannot be deleted: everything runs in one transaction that is rolled back.
BEGIN;
SELECT balatrix.install_default_catalogue() > 0 AS catalogue_installed;
SELECT * FROM balatrix.create_cdr_partitions(1, '2025-03-01');
-- The deck of STARTER: India (91) ₹1.9900/min against the allowance, UK (44) ₹6.0000/min outside it; all 60/60.
SELECT r.prefix, r.rate_per_minute, r.initial_increment, r.subsequent_increment, r.uses_allowance
  FROM balatrix.rates r JOIN balatrix.rate_decks d ON d.id = r.rate_deck_id
 WHERE d.name = 'STARTER_DOMESTIC' AND r.prefix IN ('91', '44') ORDER BY r.prefix;

-- Customer, prepaid account 1001 with a ₹1000.0000 opening top-up, extension 1002, an active
-- STARTER subscription for March 2025 (IST) with its usage row (100 min = 6000 s), and the DID
-- 4989555010 (the number of §1.11 statement 3) assigned to the account.
INSERT INTO balatrix.customers (id, name, billing_state_code)
    VALUES ('00000000-0000-4000-8000-00000000d001', 'Rating Test Pvt Ltd', '29');
INSERT INTO balatrix.accounts (id, customer_id, account_number, account_type)
    VALUES ('00000000-0000-4000-8000-00000000d101', '00000000-0000-4000-8000-00000000d001', '1001', 'prepaid');
INSERT INTO balatrix.ledger (customer_id, account_id, entry_type, amount, currency, balance_after, reference_type, reference_id)
    VALUES ('00000000-0000-4000-8000-00000000d001', '00000000-0000-4000-8000-00000000d101', 'top_up', 1000.0000, 'INR', 1000.0000,
            'manual', 'opening');
UPDATE balatrix.accounts SET balance = 1000.0000 WHERE id = '00000000-0000-4000-8000-00000000d101';
INSERT INTO balatrix.sip_extensions (customer_id, account_id, extension)
    VALUES ('00000000-0000-4000-8000-00000000d001', '00000000-0000-4000-8000-00000000d101', '1002');
INSERT INTO balatrix.subscriptions (id, customer_id, account_id, rate_plan_id, status, recurring_price, anchor_day,
                                    started_at, current_period_start, current_period_end)
SELECT '00000000-0000-4000-8000-00000000d201', '00000000-0000-4000-8000-00000000d001',
       '00000000-0000-4000-8000-00000000d101', p.id, 'active', 349, 1,
       '2025-03-01 00:00+05:30', '2025-03-01 00:00+05:30', '2025-04-01 00:00+05:30'
  FROM balatrix.rate_plans p WHERE p.code = 'STARTER';
INSERT INTO balatrix.subscription_usage (customer_id, subscription_id, period_start, period_end, included_seconds)
    VALUES ('00000000-0000-4000-8000-00000000d001', '00000000-0000-4000-8000-00000000d201',
            '2025-03-01 00:00+05:30', '2025-04-01 00:00+05:30', 6000);
INSERT INTO balatrix.dids (number, number_type, status, customer_id, account_id, assigned_at)
    VALUES ('4989555010', 'virtual', 'assigned', '00000000-0000-4000-8000-00000000d001',
            '00000000-0000-4000-8000-00000000d101', '2025-03-01 00:00+05:30');
SELECT check_ledger_before FROM (SELECT count(*) AS check_ledger_before FROM balatrix.check_ledger()) c;

-- The FreeSWITCH host of §1.11 runs in Europe/Berlin (CET, UTC+1, in March before the 30th).
SET balatrix.cdr_timezone = 'Europe/Berlin';
SET ROLE balatrix_ingest;
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
-- The csv spool line of §1.8 carries call 2's uuid: dropped (COPY 0).
\copy balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) from stdin with (format csv, quote '''', null 'null')
'10.0.0.15','Bob Jones','1002','4940123456','default','2025-03-14 10:02:11',null,'2025-03-14 10:02:41',30,0,'NO_ANSWER','5d0e8b7a-2c4f-4e1d-b6a3-9f8e7d6c5b4a',null,'1002','PCMU','PCMU'
\.
\set QUIET on
RESET ROLE;

-- Why each row is rated as it is:
--  1) accountcode 1001 = the account number. 4930901820 is a bare 10-digit number, hence Indian:
--     914930901820, prefix 91. No billmsec column in the default set: billsec 253 s -> 60/60 -> 300 s,
--     all within the allowance (6000 s left) -> charge 0, no ledger row. Answered 09:27:01 CET = 08:27:01 UTC.
--  2) accountcode 1002 = an extension of account 1001. Unanswered: 0 billed seconds, charge 0.
--  3) no accountcode; destination 4989555010 is the assigned DID -> account 1001. 914989555010, prefix 91;
--     billsec 41 -> 60 s, within the allowance -> 0.
--  4) accountcode 1003 is no account and no extension; 442079460000 is no DID -> unknown_account.
--  5) no direction column in the default set, so it counts as an a-leg; no accountcode, and
--     4930901820 is not a DID -> unknown_account.
SELECT uuid, rating_status, rating_reason, leg, started_at, answered_at, ended_at, billable_ms,
       account_id IS NOT DISTINCT FROM '00000000-0000-4000-8000-00000000d101' AS account_1001,
       destination_e164, matched_prefix, rate_per_minute, billed_seconds, included_seconds, charge, currency, ledger_id
  FROM balatrix.cdr ORDER BY id;
-- Allowance: 300 + 0 + 60 = 360 s used by 3 rated calls; no money moved.
SELECT included_seconds, included_used_seconds, overage_seconds, overage_charge, other_charge, call_count
  FROM balatrix.subscription_usage WHERE subscription_id = '00000000-0000-4000-8000-00000000d201';
SELECT balance FROM balatrix.accounts WHERE account_number = '1001';

-- Replaying all of them (lost acks, a spool replayed twice): every statement succeeds with 0 rows.
SET ROLE balatrix_ingest;
\set QUIET off
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','Alice Smith','1001','4930901820','default','2025-03-14 09:26:53','2025-03-14 09:27:01','2025-03-14 09:31:14',261,253,'NORMAL_CLEARING','a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607','c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f','1001','PCMA','PCMA');
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','Bob Jones','1002','4940123456','default','2025-03-14 10:02:11',null,'2025-03-14 10:02:41',30,0,'NO_ANSWER','5d0e8b7a-2c4f-4e1d-b6a3-9f8e7d6c5b4a',null,'1002','PCMU','PCMU');
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','+4917612345678','+4917612345678','4989555010','public','2025-03-14 11:45:02','2025-03-14 11:45:08','2025-03-14 11:45:49',47,41,'NORMAL_CLEARING','e7b6a5d4-c3b2-4a19-8f07-e6d5c4b3a291','1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b',null,'PCMA','PCMA');
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','O''''Brien, Seán "Bobby" \o/','1003','442079460000','default','2025-03-14 12:10:30','2025-03-14 12:10:44','2025-03-14 12:22:05',695,681,'NORMAL_CLEARING','9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d','0c1d2e3f-4a5b-46c7-8d9e-0f1a2b3c4d5e','1003','G722','G722');
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES ('10.0.0.15','Alice Smith','1001','4930901820','default','2025-03-14 09:26:54','2025-03-14 09:27:01','2025-03-14 09:31:14',260,253,'NORMAL_CLEARING','c8e2a9f0-1d3b-4c5e-9f60-7a8b9c0d1e2f',null,null,'PCMA','PCMA');
\copy balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) from stdin with (format csv, quote '''', null 'null')
'10.0.0.15','Bob Jones','1002','4940123456','default','2025-03-14 10:02:11',null,'2025-03-14 10:02:41',30,0,'NO_ANSWER','5d0e8b7a-2c4f-4e1d-b6a3-9f8e7d6c5b4a',null,'1002','PCMU','PCMU'
\.
\set QUIET on
RESET ROLE;
SELECT count(*) AS cdrs, (SELECT balance FROM balatrix.accounts WHERE account_number = '1001') AS balance,
       (SELECT count(*) FROM balatrix.ledger) AS ledger_rows
  FROM balatrix.cdr;

-- Calls beyond the allowance, with billmsec (the optional columns): money moves.
-- A) India, 5700000 ms = 95 min exactly -> 5700 s; 5640 s of allowance left -> 60 s charged at
--    ₹1.9900/min = ₹1.9900. One CDR: ledger row 'cdr', -1.9900, balance 1000 - 1.99 = 998.0100.
SET ROLE balatrix_ingest;
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billsec,billmsec,uuid,accountcode) VALUES ('+919876543210','2025-03-15 10:00:00','2025-03-15 10:00:05','2025-03-15 11:35:05',5700,5700000,'over-a','1001');
-- B) and C) in one statement (a batch): B) UK +442079460000, 61001 ms -> 120 s at ₹6.0000/min, not
--    against the allowance = ₹12.0000; C) India 09876543210, 1 ms -> 60 s, allowance used up -> ₹1.9900.
--    One ledger row 'cdr_batch' of -13.9900 for both: balance 998.0100 - 13.9900 = 984.0200.
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billmsec,uuid,accountcode) VALUES
    ('+442079460000','2025-03-15 12:00:00','2025-03-15 12:00:03','2025-03-15 12:01:04',61001,'over-b','1001'),
    ('09876543210','2025-03-15 12:05:00','2025-03-15 12:05:01','2025-03-15 12:05:01',1,'over-c','1002');
-- D) UK, 9000000 ms = 150 min -> ₹900.0000: 984.0200 -> 84.0200, below the ₹100 low threshold (event).
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billmsec,uuid,accountcode) VALUES ('+442079460000','2025-03-16 09:00:00','2025-03-16 09:00:02','2025-03-16 11:30:02',9000000,'over-d','1001');
-- E) UK, 780000 ms = 13 min -> ₹78.0000: 84.0200 -> 6.0200, below the ₹10 critical threshold (event).
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billmsec,uuid,accountcode) VALUES ('+442079460000','2025-03-16 12:00:00','2025-03-16 12:00:02','2025-03-16 12:13:02',780000,'over-e','1001');
RESET ROLE;
SELECT uuid, rating_status, billable_ms, destination_e164, matched_prefix, billed_seconds, included_seconds, charge,
       ledger_id IS NOT NULL AS has_ledger
  FROM balatrix.cdr WHERE uuid LIKE 'over-%' ORDER BY id;
SELECT l.entry_type, l.amount, l.balance_after, l.reference_type, l.metadata - 'first_cdr_id' - 'last_cdr_id' AS metadata,
       (SELECT string_agg(c.uuid, ',' ORDER BY c.id) FROM balatrix.cdr c WHERE c.ledger_id = l.id) AS cdrs,
       l.reference_id = (SELECT min(c.id)::text FROM balatrix.cdr c WHERE c.ledger_id = l.id) AS reference_is_first_cdr
  FROM balatrix.ledger l ORDER BY l.id;
-- 1000 - 1.99 - 13.99 - 900 - 78 = 6.0200.
SELECT balance FROM balatrix.accounts WHERE account_number = '1001';
-- Usage: 360 + 5640 = 6000 s included (all of it); overage (India beyond the allowance) 60 + 60 s,
-- ₹1.99 + ₹1.99 = ₹3.9800; other (UK) 12 + 900 + 78 = ₹990.0000; 3 + 5 = 8 calls.
SELECT included_seconds, included_used_seconds, overage_seconds, overage_charge, other_charge, call_count
  FROM balatrix.subscription_usage WHERE subscription_id = '00000000-0000-4000-8000-00000000d201';
SELECT event_type, payload->>'account_number' AS account_number, payload->'balance' AS balance, payload->'threshold' AS threshold
  FROM balatrix.event_outbox ORDER BY id;
SELECT count(*) AS check_ledger_rows FROM balatrix.check_ledger();

-- Hostile CDRs: every INSERT succeeds and the row says what was wrong.
SET ROLE balatrix_ingest;
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billsec,uuid,accountcode) VALUES
    ('9876543210','2025-03-17 10:00:00','2025-03-17 10:00:01','2025-03-17 10:01:01','60','h-unknown-account','nobody');
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billsec,uuid,accountcode) VALUES
    ('+8801712345678','2025-03-17 10:00:00','2025-03-17 10:00:01','2025-03-17 10:01:01','60','h-no-rate','1001');
INSERT INTO balatrix.cdr (local_ip_v4,caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,uuid,bleg_uuid,accountcode,read_codec,write_codec) VALUES
    ('(NULL)','(NULL)','(NULL)','(NULL)','(NULL)','(NULL)','(NULL)','(NULL)','(NULL)','(NULL)','(NULL)','(NULL)','(NULL)','(NULL)','(NULL)','(NULL)');
-- null answer_stamp with billsec 30: answered by its billable time, billed from start_stamp (60 s, ₹1.9900).
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billsec,uuid,accountcode) VALUES
    ('9876543210','2025-03-17 11:00:00',null,'2025-03-17 11:00:30','30','h-null-answer','1001');
-- billsec 0 on an answered call: 0 s, ₹0.
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billsec,uuid,accountcode) VALUES
    ('9876543210','2025-03-17 11:05:00','2025-03-17 11:05:01','2025-03-17 11:05:01','0','h-billsec-0','1001');
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billsec,uuid,accountcode) VALUES
    ('9876543210','2025-03-17 11:10:00','2025-03-17 11:10:01','2025-03-17 11:10:01','-5','h-billsec-negative','1001');
-- 30 hours (108000 s) is over balatrix.cdr_max_call_seconds (86400).
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billsec,uuid,accountcode) VALUES
    ('9876543210','2025-03-17 00:00:00','2025-03-17 00:00:01','2025-03-18 06:00:01','108000','h-30-hours','1001');
-- 02:30 on 2025-03-30 does not exist in Europe/Berlin (02:00 CET -> 03:00 CEST): PostgreSQL reads it
-- with the offset before the gap (+01), i.e. as 03:30 CEST = 01:30 UTC. 60 s -> ₹1.9900.
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billsec,uuid,accountcode) VALUES
    ('9876543210','2025-03-30 02:30:00','2025-03-30 02:30:10','2025-03-30 02:31:10','60','h-dst-gap','1001');
SELECT '2025-03-30 02:30:00'::timestamp AT TIME ZONE 'Europe/Berlin' AS postgres_reads_gap_as;
-- '' in the numeric fields (a quoted not-null="true" field with an empty variable): answered, but
-- no billable time at all -> invalid rather than a free call.
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,duration,billsec,billmsec,uuid,accountcode) VALUES
    ('9876543210','2025-03-17 12:00:00','2025-03-17 12:00:01','2025-03-17 12:01:01','','','','h-empty-numbers','1001');
-- The doubled quote of FreeSWITCH's double escaping in a name: stored as sent, rated (5 s -> 60 s, ₹1.9900).
INSERT INTO balatrix.cdr (caller_id_name,destination_number,start_stamp,answer_stamp,end_stamp,billsec,uuid,accountcode) VALUES
    ('O''''Brien','9876543210','2025-03-17 12:10:00','2025-03-17 12:10:01','2025-03-17 12:10:06','5','h-obrien','1001');
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billmsec,uuid,accountcode) VALUES
    ('9876543210','2025-03-17 12:20:00','2025-03-17 12:20:01','2025-03-17 12:21:01','99999999999999999999999','h-huge-billmsec','1001');
-- A uuid and a call_uuid of 9,606 incompressible bytes (a B-tree index row that large is an ERROR):
-- stored, not billed, status invalid. With an empty search_path in the session: the trigger fixes
-- its own for its queries.
SET search_path = '';
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billsec,uuid,call_uuid,accountcode)
SELECT '9876543210','2025-03-17 12:30:00','2025-03-17 12:30:01','2025-03-17 12:31:01','60',
       'long-' || pg_catalog.string_agg(pg_catalog.md5(i::text), ''), 'long-' || pg_catalog.string_agg(pg_catalog.md5(i::text), ''), '1001'
  FROM pg_catalog.generate_series(1, 300) AS i;
RESET search_path;
RESET ROLE;
SELECT left(uuid, 10) AS uuid, length(uuid) AS uuid_length, length(call_uuid) AS call_uuid_length, rating_status, rating_reason, charge
  FROM balatrix.cdr WHERE uuid LIKE 'long-%';
SELECT coalesce(uuid, '<' || caller_id_name || '>') AS uuid, rating_status, rating_reason, started_at, answered_at,
       billable_ms, billed_seconds, charge
  FROM balatrix.cdr WHERE uuid LIKE 'h-%' OR uuid = '(NULL)' ORDER BY id;
SELECT caller_id_name FROM balatrix.cdr WHERE uuid = 'h-obrien';
-- 6.0200 - 1.99 (null answer) - 1.99 (DST gap) - 1.99 (O'Brien) = 0.0500.
SELECT balance FROM balatrix.accounts WHERE account_number = '1001';
SELECT count(*) AS check_ledger_rows FROM balatrix.check_ledger();
-- Every charged CDR points at the ledger row that carried its money.
SELECT count(*) FILTER (WHERE c.charge > 0) AS charged,
       count(*) FILTER (WHERE c.charge > 0 AND l.id IS NOT NULL AND l.account_id = c.account_id) AS charged_with_ledger,
       count(*) FILTER (WHERE coalesce(c.charge, 0) = 0 AND c.ledger_id IS NOT NULL) AS uncharged_with_ledger
  FROM balatrix.cdr c LEFT JOIN balatrix.ledger l ON l.id = c.ledger_id;

-- balatrix.cdr_legs = b bills b-legs only: an a-leg is skipped (nothing else is read).
SET balatrix.cdr_legs = 'b';
INSERT INTO balatrix.cdr (destination_number,start_stamp,answer_stamp,end_stamp,billsec,uuid,accountcode) VALUES
    ('9876543210','2025-03-17 13:00:00','2025-03-17 13:00:01','2025-03-17 13:01:01','60','legs-a-skipped','1001');
RESET balatrix.cdr_legs;
SELECT uuid, rating_status, rating_reason, leg, charge FROM balatrix.cdr WHERE uuid = 'legs-a-skipped';
ROLLBACK;
SELECT count(*) AS cdrs_left FROM balatrix.cdr;
SELECT count(*) AS uuids_left FROM balatrix.cdr_uuids;
-- The settings refuse values they cannot use; the defaults.
SET balatrix.cdr_timezone = 'Mars/Olympus_Mons';
SET balatrix.cdr_legs = 'c';
SET balatrix.cdr_max_call_seconds = 0;
SET balatrix.cdr_max_call_seconds = 2592001;
SHOW balatrix.cdr_timezone;
SHOW balatrix.cdr_legs;
SHOW balatrix.cdr_max_call_seconds;

-- The data model's structural contract: the tables of PRODUCT.md §3 / §11 exist with primary keys,
-- belong to balatrix_owner, survive pg_dump, carry row-level security, and the CDR landing table
-- has the shape FreeSWITCH's mod_cdr_pg_csv writes into (reference/freeswitch.md §1.10).
BEGIN;
SELECT plan(201);

-- The entity tables (PRODUCT.md §3; the names of §11 are the first thirteen).
SELECT has_table('balatrix', t, 'table balatrix.' || t || ' exists')
  FROM unnest(ARRAY['cdr', 'customers', 'accounts', 'rate_plans', 'rate_decks', 'rates', 'subscriptions', 'dids',
                    'ledger', 'invoices', 'invoice_lines', 'payments', 'event_outbox',
                    'users', 'refresh_tokens', 'user_tokens', 'sip_extensions', 'add_ons', 'rate_plan_decks',
                    'subscription_add_ons', 'subscription_usage', 'did_assignments', 'payment_methods', 'refunds',
                    'notifications', 'audit_log', 'webhook_events', 'gst_states', 'cdr_default']) AS t;

-- Every table of the extension has a primary key. The partitioned cdr has none of its own: each
-- partition carries PRIMARY KEY (id) and the CDR indexes (create_cdr_partition_indexes), because
-- pg_restore fails on partitioned indexes of an extension's table with partitions made later.
SELECT has_pk('balatrix', t, 'balatrix.' || t || ' has a primary key')
  FROM unnest(ARRAY['cdr_default', 'customers', 'accounts', 'rate_plans', 'rate_decks', 'rates', 'subscriptions', 'dids',
                    'ledger', 'invoices', 'invoice_lines', 'payments', 'event_outbox',
                    'users', 'refresh_tokens', 'user_tokens', 'sip_extensions', 'add_ons', 'rate_plan_decks',
                    'subscription_add_ons', 'subscription_usage', 'did_assignments', 'payment_methods', 'refunds',
                    'notifications', 'audit_log', 'webhook_events', 'gst_states']) AS t;
SELECT is_empty($$
    SELECT c.oid::regclass::text
      FROM pg_catalog.pg_class c
     WHERE c.relnamespace = 'balatrix'::regnamespace AND c.relkind = 'r'
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p')
$$, 'no table of schema balatrix (partitions included) lacks a primary key');
SELECT col_is_pk('balatrix', 'cdr_default', ARRAY['id'], 'the key of a CDR partition is id');

-- Ownership: everything belongs to the NOLOGIN owner role, never to the installing superuser.
SELECT table_owner_is('balatrix', t, 'balatrix_owner', 'balatrix.' || t || ' is owned by balatrix_owner')
  FROM unnest(ARRAY['cdr', 'customers', 'accounts', 'ledger', 'invoices', 'audit_log', 'gst_states', 'cdr_default']) AS t;
SELECT is_empty($$
    SELECT c.oid::regclass::text || ' owned by ' || pg_catalog.pg_get_userbyid(c.relowner)
      FROM pg_catalog.pg_class c
     WHERE c.relnamespace = 'balatrix'::regnamespace AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
       AND c.relowner <> 'balatrix_owner'::regrole
$$, 'every table, sequence and view of schema balatrix is owned by balatrix_owner');

-- pg_dump: the data of an extension's table is dumped only when the table is registered with
-- pg_extension_config_dump. Everything but gst_states (the install script fills it; restoring it
-- too would duplicate rows), the partitioned parent cdr (its partitions hold the rows), cdr_uuids
-- (the rating trigger rebuilds it from the restored CDRs, whose COPY comes first) and the API's
-- signing keys (a dump must not carry them).
SELECT is_empty($$
    SELECT c.oid::regclass::text
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
      JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'balatrix'
     WHERE c.relkind IN ('r', 'p', 'S') AND c.relname NOT IN ('gst_states', 'cdr', 'cdr_uuids', 'api_signing_keys', 'api_signing_keys_id_seq', 'rate_limit_hits')
       AND NOT c.oid = ANY (coalesce(e.extconfig, '{}'))
$$, 'every table and sequence of the extension but gst_states, cdr, cdr_uuids, the API signing keys and the rate-limit counters (unlogged, ephemeral) is registered for pg_dump');
SELECT ok((SELECT 'balatrix.cdr_default'::regclass = ANY (extconfig) FROM pg_catalog.pg_extension WHERE extname = 'balatrix'),
          'cdr_default (where CDRs land without a monthly partition) is dumped');
SELECT ok((SELECT 'balatrix.ledger'::regclass = ANY (extconfig) AND 'balatrix.customers'::regclass = ANY (extconfig)
             FROM pg_catalog.pg_extension WHERE extname = 'balatrix'),
          'ledger and customers are dumped');
SELECT ok((SELECT NOT 'balatrix.gst_states'::regclass = ANY (extconfig) FROM pg_catalog.pg_extension WHERE extname = 'balatrix'),
          'gst_states is not dumped (CREATE EXTENSION fills it)');

-- Row-level security on every tenant table (every table with a customer_id, and customers).
-- Partitions are reached through their parent, whose policies apply.
SELECT is_empty($$
    SELECT c.oid::regclass::text
      FROM pg_catalog.pg_class c
     WHERE c.relnamespace = 'balatrix'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND (c.relname = 'customers'
            OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid = c.oid AND a.attname = 'customer_id' AND NOT a.attisdropped))
       AND NOT c.relrowsecurity
$$, 'row-level security is enabled on every table with a customer_id');
SELECT ok((SELECT count(*) >= 18 FROM pg_catalog.pg_class c
            WHERE c.relnamespace = 'balatrix'::regnamespace AND c.relrowsecurity),
          'at least the 18 tenant tables have row-level security');
SELECT ok((SELECT relrowsecurity FROM pg_catalog.pg_class WHERE oid = t::regclass), t || ' has row-level security')
  FROM unnest(ARRAY['balatrix.customers', 'balatrix.accounts', 'balatrix.cdr', 'balatrix.ledger', 'balatrix.invoices',
                    'balatrix.payments']) AS t;
SELECT policy_cmd_is('balatrix', 'cdr', 'ingest_insert', 'INSERT', 'the ingest policy on cdr is for INSERT');
SELECT policy_roles_are('balatrix', 'cdr', 'ingest_insert', ARRAY['balatrix_ingest'], 'the ingest policy on cdr is for balatrix_ingest');

-- Append-only tables.
SELECT trigger_is('balatrix', 'ledger', 'ledger_append_only_trg', 'balatrix', 'tg_append_only', 'ledger refuses UPDATE / DELETE by trigger');
SELECT trigger_is('balatrix', 'ledger', 'ledger_no_truncate_trg', 'balatrix', 'tg_append_only', 'ledger refuses TRUNCATE by trigger');
SELECT trigger_is('balatrix', 'audit_log', 'audit_log_append_only_trg', 'balatrix', 'tg_append_only', 'audit_log refuses UPDATE / DELETE by trigger');
SELECT trigger_is('balatrix', 'audit_log', 'audit_log_no_truncate_trg', 'balatrix', 'tg_append_only', 'audit_log refuses TRUNCATE by trigger');
-- tgtype bits: 1 row, 2 before, 8 delete, 16 update, 32 truncate. Enabled in every session mode but replica.
SELECT results_eq($$
    SELECT t.tgrelid::regclass::text, t.tgname::text COLLATE "default", t.tgtype::int, t.tgenabled::text
      FROM pg_catalog.pg_trigger t
     WHERE t.tgfoid = 'balatrix.tg_append_only()'::regprocedure
     ORDER BY 1, 2
$$, $$ VALUES ('balatrix.audit_log', 'audit_log_append_only_trg', 1 + 2 + 8 + 16, 'O'),
              ('balatrix.audit_log', 'audit_log_no_truncate_trg', 2 + 32, 'O'),
              ('balatrix.ledger', 'ledger_append_only_trg', 1 + 2 + 8 + 16, 'O'),
              ('balatrix.ledger', 'ledger_no_truncate_trg', 2 + 32, 'O') $$,
   'the append-only triggers fire BEFORE UPDATE OR DELETE (row) and BEFORE TRUNCATE, on ledger and audit_log only');

-- The CDR landing table: partitioned by range of received_at, with a DEFAULT partition.
SELECT is_partitioned('balatrix', 'cdr', 'balatrix.cdr is partitioned');
SELECT is(pg_catalog.pg_get_partkeydef('balatrix.cdr'::regclass), 'RANGE (received_at)', 'cdr is partitioned by RANGE (received_at)');
SELECT is_partition_of('balatrix', 'cdr_default', 'balatrix', 'cdr', 'cdr_default is a partition of cdr');
SELECT is((SELECT partdefid::regclass::text FROM pg_catalog.pg_partitioned_table WHERE partrelid = 'balatrix.cdr'::regclass),
          'balatrix.cdr_default', 'cdr_default is the DEFAULT partition of cdr');
SELECT col_not_null('balatrix', 'cdr', 'received_at', 'cdr.received_at is NOT NULL');
SELECT col_has_default('balatrix', 'cdr', 'received_at', 'cdr.received_at has a default (FreeSWITCH never sends it)');
SELECT col_has_default('balatrix', 'cdr', 'id', 'cdr.id has a default (FreeSWITCH never sends it)');
-- mod_cdr_pg_csv's default columns (scripts/create.sql, §1.10): lenient text, nullable, so no value
-- FreeSWITCH sends can make the INSERT fail and the CDR go to the spool.
SELECT col_type_is('balatrix', 'cdr', c, 'text', 'cdr.' || c || ' is text')
  FROM unnest(ARRAY['local_ip_v4', 'caller_id_name', 'caller_id_number', 'destination_number', 'context', 'start_stamp',
                    'answer_stamp', 'end_stamp', 'duration', 'billsec', 'hangup_cause', 'uuid', 'bleg_uuid', 'accountcode',
                    'read_codec', 'write_codec', 'sip_hangup_disposition', 'ani']) AS c;
SELECT col_is_null('balatrix', 'cdr', c, 'cdr.' || c || ' is nullable')
  FROM unnest(ARRAY['local_ip_v4', 'caller_id_name', 'caller_id_number', 'destination_number', 'context', 'start_stamp',
                    'answer_stamp', 'end_stamp', 'duration', 'billsec', 'hangup_cause', 'uuid', 'bleg_uuid', 'accountcode',
                    'read_codec', 'write_codec', 'sip_hangup_disposition', 'ani']) AS c;
-- The optional fields recommended for billing (§1.10), quoted or not: also text and nullable.
SELECT is_empty($$
    SELECT f FROM unnest(ARRAY['direction', 'call_uuid', 'originating_leg_uuid', 'hangup_cause_q850', 'last_bridge_hangup_cause',
                               'sip_term_status', 'billmsec', 'billusec', 'mduration', 'start_uepoch', 'answer_uepoch',
                               'end_uepoch', 'progresssec', 'waitsec', 'start_epoch', 'answer_epoch', 'end_epoch']) AS f
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid = 'balatrix.cdr'::regclass AND a.attname = f AND NOT a.attisdropped
                          AND a.atttypid = 'text'::regtype AND NOT a.attnotnull)
$$, 'the recommended optional CDR fields exist as nullable text');
-- Nothing a switch may send is NOT NULL without a default.
SELECT is_empty($$
    SELECT a.attname::text FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = 'balatrix.cdr'::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull AND NOT a.atthasdef
$$, 'no cdr column is NOT NULL without a default');

-- Money and status columns are NOT NULL.
SELECT col_not_null('balatrix', tbl, col, 'balatrix.' || tbl || '.' || col || ' is NOT NULL')
  FROM (VALUES ('accounts', 'balance'), ('accounts', 'credit_limit'), ('accounts', 'currency'), ('accounts', 'account_type'),
               ('accounts', 'status'), ('accounts', 'low_balance_threshold'), ('accounts', 'critical_balance_threshold'),
               ('ledger', 'amount'), ('ledger', 'currency'), ('ledger', 'balance_after'), ('ledger', 'entry_type'),
               ('ledger', 'account_id'), ('ledger', 'customer_id'),
               ('invoices', 'status'), ('invoices', 'currency'), ('invoices', 'taxable_total'), ('invoices', 'cgst_total'),
               ('invoices', 'sgst_total'), ('invoices', 'utgst_total'), ('invoices', 'igst_total'), ('invoices', 'tax_total'),
               ('invoices', 'round_off'), ('invoices', 'total'), ('invoices', 'amount_paid'), ('invoices', 'amount_credited'),
               ('invoice_lines', 'taxable_value'), ('invoice_lines', 'gst_rate'), ('invoice_lines', 'cgst'),
               ('invoice_lines', 'sgst'), ('invoice_lines', 'utgst'), ('invoice_lines', 'igst'), ('invoice_lines', 'sac'),
               ('invoice_lines', 'kind'),
               ('payments', 'amount'), ('payments', 'currency'), ('payments', 'status'), ('payments', 'amount_refunded'),
               ('refunds', 'amount'), ('refunds', 'status'),
               ('rate_plans', 'monthly_price'), ('rate_plans', 'quarterly_price'), ('rate_plans', 'annual_price'),
               ('rate_plans', 'overage_rate'), ('rate_plans', 'currency'), ('add_ons', 'monthly_price'),
               ('rates', 'rate_per_minute'), ('rates', 'connect_fee'), ('rates', 'minimum_charge'),
               ('rates', 'initial_increment'), ('rates', 'subsequent_increment'),
               ('subscriptions', 'status'), ('subscriptions', 'recurring_price'), ('subscriptions', 'currency'),
               ('dids', 'status'), ('dids', 'monthly_rent'), ('customers', 'status'), ('event_outbox', 'status'),
               ('cdr', 'rating_status')) AS v (tbl, col);
-- Money is numeric with the scale of PRODUCT.md §4: 4 decimals for balances, ledger and call
-- charges, paise for invoice amounts.
SELECT col_type_is('balatrix', tbl, col, typ, 'balatrix.' || tbl || '.' || col || ' is ' || typ)
  FROM (VALUES ('accounts', 'balance', 'numeric(20,4)'), ('ledger', 'amount', 'numeric(20,4)'),
               ('ledger', 'balance_after', 'numeric(20,4)'), ('cdr', 'charge', 'numeric(20,4)'),
               ('rates', 'rate_per_minute', 'numeric(12,4)'), ('invoices', 'total', 'numeric(14,2)'),
               ('invoice_lines', 'taxable_value', 'numeric(14,2)'), ('invoice_lines', 'cgst', 'numeric(14,2)'),
               ('payments', 'amount', 'numeric(14,2)'), ('rate_plans', 'monthly_price', 'numeric(14,2)')) AS v (tbl, col, typ);
SELECT is_empty($$
    SELECT c.relname || '.' || a.attname
      FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
     WHERE c.relnamespace = 'balatrix'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
       AND a.atttypid IN ('real'::regtype, 'double precision'::regtype, 'money'::regtype)
$$, 'no floating-point (or money) column in schema balatrix');

SELECT * FROM finish();
ROLLBACK;

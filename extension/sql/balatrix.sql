/*
 * balatrix — PostgreSQL-native telecom billing.
 *
 * This is the one install script we edit. The Makefile copies it to balatrix--<version>.sql.
 * Released versions are frozen: a change after a release goes here AND into a new
 * balatrix--<old>--<new>.sql, and `make test` proves that the upgraded install equals a fresh one.
 *
 * Sections: roles · domains · GST reference data · GSTIN functions and GST arithmetic · users & auth ·
 * customers · accounts & SIP extensions · catalogue (rate plans, add-ons) · billing arithmetic
 * (calendar, prices, proration, invoice numbers, quotes) · rate decks & rates · subscriptions &
 * usage · DIDs · CDRs · ledger · invoices · payments · notifications, webhooks, outbox · audit ·
 * housekeeping (updated_at, partitions, append-only) · default catalogue · privileges.
 *
 * Conventions: money is numeric (never float): numeric(20,4) for balances, ledger amounts and call
 * charges (rates carry 4 decimals), numeric(14,2) for invoice amounts (paise). Time is timestamptz;
 * billing periods are half-open [start, end). Statuses are text with a named CHECK (easy to extend
 * in an upgrade script). Every tenant table carries customer_id (RLS, and a Citus distribution key).
 */
\echo Use "CREATE EXTENSION balatrix" to load this file. \quit

-- ============================================================================================
-- Roles
-- ============================================================================================
-- Roles are cluster-wide and outlive the extension: create them only when missing, so the
-- extension can be installed in several databases and re-installed.
--   balatrix_owner     owns every table (NOLOGIN); SECURITY DEFINER functions run as it
--   balatrix_api       the sidecar's login role: no ownership, only the grants it needs; tenant
--                      isolation by row-level security
--   balatrix_ingest    FreeSWITCH's login role (mod_cdr_pg_csv db-info): INSERT into balatrix.cdr;
--                      BYPASSRLS because the operator replays FreeSWITCH's csv spool with \copy as
--                      this role, and COPY FROM refuses a table with row-level security enabled
--                      ("COPY FROM not supported with row-level security"). It holds no privilege
--                      but INSERT on balatrix.cdr, so bypassing RLS lets it read nothing.
--   balatrix_readonly  reporting (NOLOGIN; grant it to analysts' roles)
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'balatrix_owner') THEN
        CREATE ROLE balatrix_owner NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'balatrix_api') THEN
        CREATE ROLE balatrix_api LOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'balatrix_ingest') THEN
        CREATE ROLE balatrix_ingest LOGIN;
    END IF;
    -- Also for a role left by an earlier install.
    ALTER ROLE balatrix_ingest BYPASSRLS;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'balatrix_readonly') THEN
        CREATE ROLE balatrix_readonly NOLOGIN;
    END IF;
END
$roles$;

REVOKE ALL ON SCHEMA @extschema@ FROM PUBLIC;
-- The owner role needs USAGE too: foreign-key checks run as the referenced table's owner.
GRANT USAGE ON SCHEMA @extschema@ TO balatrix_owner, balatrix_api, balatrix_ingest, balatrix_readonly;

-- ============================================================================================
-- Domains
-- ============================================================================================
CREATE DOMAIN @extschema@.currency_code AS char(3)
    CONSTRAINT currency_code_format CHECK (VALUE ~ '^[A-Z]{3}$');
COMMENT ON DOMAIN @extschema@.currency_code IS 'ISO 4217 currency code, upper case (INR, USD, ...).';

-- Format only; the check character is enforced on customers by a trigger (it can be relaxed for
-- sandbox GSTINs with SET balatrix.gstin_verify_check_character = off).
CREATE DOMAIN @extschema@.gstin AS text
    CONSTRAINT gstin_format CHECK (VALUE ~ '^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$');
COMMENT ON DOMAIN @extschema@.gstin IS
    'GSTIN of a normal taxpayer: 2-digit State code, PAN, entity number, Z, check character (upper case).';

CREATE DOMAIN @extschema@.pan AS text
    CONSTRAINT pan_format CHECK (VALUE ~ '^[A-Z]{5}[0-9]{4}[A-Z]$');
COMMENT ON DOMAIN @extschema@.pan IS 'Permanent Account Number: 5 letters, 4 digits, 1 letter.';

CREATE DOMAIN @extschema@.state_code AS text
    CONSTRAINT state_code_format CHECK (VALUE ~ '^[0-9]{2}$');
COMMENT ON DOMAIN @extschema@.state_code IS 'GST State / UT code, two digits (29 = Karnataka); see balatrix.gst_states.';

CREATE DOMAIN @extschema@.sac AS text
    CONSTRAINT sac_format CHECK (VALUE ~ '^99[0-9]{2}([0-9]{2}){0,2}$');
COMMENT ON DOMAIN @extschema@.sac IS 'Services Accounting Code: 4, 6 or 8 digits starting with 99 (telecom: 9984xx).';

-- ============================================================================================
-- GST reference data and GSTIN functions (C++: extension/core/src/gst.cpp)
-- ============================================================================================
CREATE FUNCTION @extschema@.gst_state_list(
    OUT code text, OUT name text, OUT intra_state_levy text, OUT gstin_prefix boolean)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'balatrix_gst_state_list'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gst_state_list() IS
    'The GST State / UT code table compiled into balatrix (the source of balatrix.gst_states).';

CREATE TABLE @extschema@.gst_states (
    code             @extschema@.state_code PRIMARY KEY,
    name             text NOT NULL,
    intra_state_levy text NOT NULL CONSTRAINT gst_states_levy CHECK (intra_state_levy IN ('SGST', 'UTGST', 'NONE')),
    gstin_prefix     boolean NOT NULL
);
COMMENT ON TABLE @extschema@.gst_states IS
    'GST State / UT codes (reference/gst-payments.md §1.6): SGST for States and UTs with a legislature, '
    'UTGST for UTs without one; gstin_prefix = may start a GSTIN. Filled from balatrix.gst_state_list().';
INSERT INTO @extschema@.gst_states (code, name, intra_state_levy, gstin_prefix)
    SELECT code, name, intra_state_levy, gstin_prefix FROM @extschema@.gst_state_list();

CREATE FUNCTION @extschema@.gstin_is_valid(gstin text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'balatrix_gstin_is_valid'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gstin_is_valid(text) IS
    'True when gstin is a valid GSTIN: 15 characters, normal-taxpayer format, a GSTIN State code and the '
    'mod-36 check character. Surrounding spaces and letter case are ignored. NULL gives NULL; any other '
    'input gives true or false, never an error.';

CREATE FUNCTION @extschema@.gstin_is_valid(gstin text, verify_check_character boolean) RETURNS boolean
    AS 'MODULE_PATHNAME', 'balatrix_gstin_is_valid'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gstin_is_valid(text, boolean) IS
    'As gstin_is_valid(gstin), but the check character is only enforced when verify_check_character '
    '(false accepts NIC sandbox GSTINs).';

CREATE FUNCTION @extschema@.gstin_state_code(gstin text) RETURNS text
    AS 'MODULE_PATHNAME', 'balatrix_gstin_state_code'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gstin_state_code(text) IS
    'The two-digit State code of a valid GSTIN (''29'' for Karnataka); NULL when gstin is NULL or not a valid GSTIN.';

CREATE FUNCTION @extschema@.gstin_state_code(gstin text, verify_check_character boolean) RETURNS text
    AS 'MODULE_PATHNAME', 'balatrix_gstin_state_code'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gstin_state_code(text, boolean) IS
    'As gstin_state_code(gstin), with the check character enforced only when verify_check_character.';

CREATE FUNCTION @extschema@.gstin_explain(
    gstin text, verify_check_character boolean DEFAULT true,
    OUT valid boolean, OUT normalized text, OUT state_code text, OUT state_name text,
    OUT expected_check_character text, OUT reason text)
    RETURNS record
    AS 'MODULE_PATHNAME', 'balatrix_gstin_explain'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gstin_explain(text, boolean) IS
    'Why a GSTIN is valid or not: the normalised form, its State, the expected check character and a '
    'one-line reason. Never raises for bad input.';

-- GST arithmetic of one line (C++: extension/pg/gst.cpp over core ComputeLineTax). The
-- invoice code and quote_subscription tax each line with it; the heads are rounded per line.
CREATE FUNCTION @extschema@.gst_line_tax(
    taxable numeric, gst_rate numeric, supplier_state text, place_of_supply text,
    tax_exempt boolean DEFAULT false, currency text DEFAULT 'INR',
    OUT regime text, OUT cgst numeric, OUT sgst numeric, OUT utgst numeric, OUT igst numeric)
    RETURNS record
    AS 'MODULE_PATHNAME', 'balatrix_gst_line_tax'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gst_line_tax(numeric, numeric, text, text, boolean, text) IS
    'The GST heads of one invoice line (PRODUCT §4, §6). regime: none (tax-exempt recipient, or a currency other '
    'than INR), cgst_sgst (same State, or a UT with a legislature), cgst_utgst (same UT without a legislature), '
    'igst (different States, exports to 96 included). Intra-State heads are each round(taxable x rate / 2), IGST '
    'round(taxable x rate), each rounded half away from zero to paise on its own (a credit gets the negated tax). '
    'taxable must be whole paise; gst_rate is a percentage 0-40 with at most 2 decimals; States are the two-digit '
    'codes of balatrix.gst_states (the supplier''s a GSTIN prefix). Bad input raises 22023 (22003 out of range).';

CREATE FUNCTION @extschema@.gst_rate_for_sac(sac text) RETURNS numeric
    AS 'MODULE_PATHNAME', 'balatrix_gst_rate_for_sac'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.gst_rate_for_sac(text) IS
    'The GST rate in percent (18.00) of a SAC from the built-in table: heading 9984 and the telecommunication '
    'SACs 998411-998415, 998419, 998421-998424, 998429 (an 8-digit SAC takes the rate of its first six digits). '
    'A malformed SAC, or a well-formed one not in the table, raises 22023: give such lines an explicit rate.';

-- ============================================================================================
-- Shared trigger functions
-- ============================================================================================
CREATE FUNCTION @extschema@.tg_touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    NEW.updated_at := pg_catalog.now();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.tg_touch_updated_at() IS 'BEFORE UPDATE trigger: sets updated_at to the transaction time.';

CREATE FUNCTION @extschema@.tg_append_only() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'feature_not_supported',
              HINT = CASE WHEN TG_TABLE_NAME = 'ledger'
                          THEN 'Correct a ledger entry by posting a reversing entry.'
                          ELSE 'Rows of this table are a permanent record.' END;
END
$$;
COMMENT ON FUNCTION @extschema@.tg_append_only() IS
    'BEFORE UPDATE / DELETE / TRUNCATE trigger of append-only tables (ledger, audit_log): refuses with SQLSTATE 0A000.';

-- ============================================================================================
-- Users and authentication
-- ============================================================================================
CREATE TABLE @extschema@.users (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email                 text NOT NULL CONSTRAINT users_email_format CHECK (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' AND length(email) <= 254),
    password_hash         text NOT NULL,
    first_name            text,
    last_name             text,
    phone                 text CONSTRAINT users_phone_e164 CHECK (phone ~ '^\+[1-9][0-9]{1,14}$'),
    role                  text NOT NULL DEFAULT 'customer'
                          CONSTRAINT users_role CHECK (role IN ('super_admin', 'admin', 'support', 'reseller', 'customer')),
    is_active             boolean NOT NULL DEFAULT true,
    email_verified_at     timestamptz,
    mfa_enabled           boolean NOT NULL DEFAULT false,
    mfa_secret            text,
    mfa_backup_code_hashes text[] NOT NULL DEFAULT '{}',
    failed_login_attempts integer NOT NULL DEFAULT 0 CONSTRAINT users_failed_attempts CHECK (failed_login_attempts >= 0),
    locked_until          timestamptz,
    last_login_at         timestamptz,
    last_login_ip         inet,
    password_changed_at   timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    mfa_last_step         bigint,
    CONSTRAINT users_mfa_secret CHECK (NOT mfa_enabled OR mfa_secret IS NOT NULL)
);
CREATE UNIQUE INDEX users_email_key ON @extschema@.users (lower(email));
CREATE INDEX users_role_idx ON @extschema@.users (role);
COMMENT ON TABLE @extschema@.users IS
    'Login identities of the REST API (staff and customers). Passwords as argon2id / bcrypt hashes only; '
    'email unique case-insensitively; role is never chosen by the user at registration.';
COMMENT ON COLUMN @extschema@.users.mfa_last_step IS 'The TOTP time step of the last code accepted (no code is accepted twice).';

CREATE TABLE @extschema@.refresh_tokens (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
    family_id      uuid NOT NULL,
    token_hash     bytea NOT NULL UNIQUE CONSTRAINT refresh_tokens_hash_len CHECK (length(token_hash) = 32),
    issued_at      timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoked_reason text,
    replaced_by    uuid REFERENCES @extschema@.refresh_tokens (id) ON DELETE SET NULL,
    ip_address     inet,
    user_agent     text,
    CONSTRAINT refresh_tokens_expiry CHECK (expires_at > issued_at)
);
CREATE INDEX refresh_tokens_user_idx ON @extschema@.refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family_idx ON @extschema@.refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_idx ON @extschema@.refresh_tokens (expires_at);
COMMENT ON TABLE @extschema@.refresh_tokens IS
    'Rotating refresh tokens, stored as SHA-256 hashes. A rotation links old to new (replaced_by) within '
    'one family; presenting a revoked token revokes the whole family (reuse detection).';

CREATE TABLE @extschema@.user_tokens (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES @extschema@.users (id) ON DELETE CASCADE,
    purpose    text NOT NULL CONSTRAINT user_tokens_purpose CHECK (purpose IN ('password_reset', 'email_verification')),
    token_hash bytea NOT NULL UNIQUE CONSTRAINT user_tokens_hash_len CHECK (length(token_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CONSTRAINT user_tokens_expiry CHECK (expires_at > created_at)
);
CREATE INDEX user_tokens_user_idx ON @extschema@.user_tokens (user_id, purpose);
COMMENT ON TABLE @extschema@.user_tokens IS
    'Single-use password-reset and e-mail-verification tokens, stored as SHA-256 hashes with an expiry.';

-- ============================================================================================
-- Customers
-- ============================================================================================
CREATE SEQUENCE @extschema@.customer_number_seq;

CREATE TABLE @extschema@.customers (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_number    text NOT NULL UNIQUE
                       DEFAULT 'C' || lpad(nextval('@extschema@.customer_number_seq')::text, 7, '0'),
    user_id            uuid UNIQUE REFERENCES @extschema@.users (id) ON DELETE RESTRICT,
    reseller_user_id   uuid REFERENCES @extschema@.users (id) ON DELETE RESTRICT,
    name               text NOT NULL CONSTRAINT customers_name_not_blank CHECK (btrim(name) <> ''),
    company_name       text,
    business_type      text NOT NULL DEFAULT 'individual'
                       CONSTRAINT customers_business_type CHECK (business_type IN ('individual', 'small_business', 'enterprise')),
    email              text CONSTRAINT customers_email_format CHECK (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
    phone              text CONSTRAINT customers_phone_e164 CHECK (phone ~ '^\+[1-9][0-9]{1,14}$'),
    -- text, not the gstin domain: a domain is checked before BEFORE triggers run, and the GSTIN
    -- trigger first normalises ' 29aagcb7383j1z4 ' to the canonical form this CHECK demands.
    gstin              text CONSTRAINT customers_gstin_format
                       CHECK (gstin ~ '^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$'),
    pan                @extschema@.pan,
    billing_address    text,
    billing_city       text,
    billing_state_code @extschema@.state_code REFERENCES @extschema@.gst_states (code),
    billing_pincode    text CONSTRAINT customers_pincode CHECK (billing_pincode ~ '^[1-9][0-9]{5}$'),
    billing_country    char(2) NOT NULL DEFAULT 'IN' CONSTRAINT customers_country CHECK (billing_country ~ '^[A-Z]{2}$'),
    status             text NOT NULL DEFAULT 'active'
                       CONSTRAINT customers_status CHECK (status IN ('pending', 'active', 'suspended', 'cancelled')),
    kyc_status         text NOT NULL DEFAULT 'pending'
                       CONSTRAINT customers_kyc_status CHECK (kyc_status IN ('pending', 'submitted', 'verified', 'rejected')),
    kyc_documents      jsonb NOT NULL DEFAULT '[]',
    tax_exempt         boolean NOT NULL DEFAULT false,
    notes              text,
    metadata           jsonb NOT NULL DEFAULT '{}',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    -- A GSTIN embeds the holder's PAN (characters 3-12).
    CONSTRAINT customers_gstin_pan CHECK (gstin IS NULL OR pan IS NULL OR substr(gstin, 3, 10) = pan),
    -- Indian customers need a State for the place of supply.
    CONSTRAINT customers_indian_state CHECK (billing_country <> 'IN' OR billing_state_code IS NOT NULL OR status = 'pending')
);
CREATE INDEX customers_gstin_idx ON @extschema@.customers (gstin) WHERE gstin IS NOT NULL;
CREATE INDEX customers_status_idx ON @extschema@.customers (status);
CREATE INDEX customers_reseller_idx ON @extschema@.customers (reseller_user_id) WHERE reseller_user_id IS NOT NULL;
CREATE INDEX customers_name_idx ON @extschema@.customers (lower(name));
COMMENT ON TABLE @extschema@.customers IS
    'Billed parties (KYC, GSTIN, PAN, billing address). billing_state_code decides CGST+SGST/UTGST vs IGST; '
    'a valid GSTIN makes invoices B2B; tax_exempt suppresses GST.';

CREATE FUNCTION @extschema@.tg_customers_gstin() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    verify boolean;
    verdict record;
BEGIN
    IF NEW.gstin IS NULL THEN
        RETURN NEW;
    END IF;
    -- gstin_explain is IMMUTABLE, so the setting is read here and passed in.
    verify := coalesce(nullif(current_setting('balatrix.gstin_verify_check_character', true), '')::boolean, true);
    verdict := @extschema@.gstin_explain(NEW.gstin, verify);
    -- state_code is set on an invalid GSTIN only when the check character alone is wrong.
    IF NOT verdict.valid AND verdict.state_code IS NOT NULL THEN
        RAISE EXCEPTION 'invalid GSTIN "%"', NEW.gstin
            USING ERRCODE = 'check_violation',
                  DETAIL = verdict.reason || ' (expected ' || verdict.expected_check_character || ')',
                  HINT = 'Sandbox GSTINs with a wrong check character are accepted after '
                         'SET balatrix.gstin_verify_check_character = off.';
    ELSIF NOT verdict.valid THEN
        RAISE EXCEPTION 'invalid GSTIN "%"', NEW.gstin
            USING ERRCODE = 'check_violation', DETAIL = verdict.reason;
    END IF;
    NEW.gstin := verdict.normalized;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.tg_customers_gstin() IS
    'BEFORE INSERT / UPDATE OF gstin on customers: normalises the GSTIN (trim, upper case) and validates it, '
    'check character included unless balatrix.gstin_verify_check_character is off (23514 when invalid).';

-- The trigger normalises (trims, upper-cases) and validates the GSTIN, check character included
-- unless the setting relaxes it; the column's CHECK then sees the canonical form.
CREATE TRIGGER customers_gstin_trg BEFORE INSERT OR UPDATE OF gstin ON @extschema@.customers
    FOR EACH ROW EXECUTE FUNCTION @extschema@.tg_customers_gstin();

-- ============================================================================================
-- Accounts and SIP extensions
-- ============================================================================================
CREATE TABLE @extschema@.accounts (
    id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id                uuid NOT NULL REFERENCES @extschema@.customers (id) ON DELETE RESTRICT,
    account_number             text NOT NULL UNIQUE
                               CONSTRAINT accounts_number_format CHECK (account_number ~ '^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$'),
    account_type               text NOT NULL CONSTRAINT accounts_type CHECK (account_type IN ('prepaid', 'postpaid')),
    currency                   @extschema@.currency_code NOT NULL DEFAULT 'INR',
    balance                    numeric(20,4) NOT NULL DEFAULT 0,
    credit_limit               numeric(20,4) NOT NULL DEFAULT 0 CONSTRAINT accounts_credit_limit CHECK (credit_limit >= 0),
    low_balance_threshold      numeric(20,4) NOT NULL DEFAULT 100 CONSTRAINT accounts_low_threshold CHECK (low_balance_threshold >= 0),
    critical_balance_threshold numeric(20,4) NOT NULL DEFAULT 10 CONSTRAINT accounts_critical_threshold CHECK (critical_balance_threshold >= 0),
    status                     text NOT NULL DEFAULT 'active' CONSTRAINT accounts_status CHECK (status IN ('active', 'suspended', 'closed')),
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_thresholds_ordered CHECK (critical_balance_threshold <= low_balance_threshold),
    -- credit is a postpaid notion: a prepaid account spends its balance.
    CONSTRAINT accounts_prepaid_no_credit CHECK (account_type = 'postpaid' OR credit_limit = 0),
    UNIQUE (id, customer_id)
);
CREATE INDEX accounts_customer_idx ON @extschema@.accounts (customer_id);
COMMENT ON TABLE @extschema@.accounts IS
    'Balance holders of a customer, prepaid or postpaid. account_number is what FreeSWITCH sends as accountcode. '
    'balance (positive = in the customer''s favour; postpaid usage makes it negative) always equals the sum '
    'of the account''s ledger entries; it is changed only together with a ledger row.';

CREATE TABLE @extschema@.sip_extensions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id  uuid NOT NULL,
    account_id   uuid NOT NULL,
    extension    text NOT NULL UNIQUE CONSTRAINT sip_extensions_format CHECK (extension ~ '^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$'),
    display_name text,
    is_active    boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (account_id, customer_id) REFERENCES @extschema@.accounts (id, customer_id) ON DELETE RESTRICT
);
CREATE INDEX sip_extensions_account_idx ON @extschema@.sip_extensions (account_id);
COMMENT ON TABLE @extschema@.sip_extensions IS
    'SIP users (extensions) of an account: a CDR whose accountcode equals an extension is billed to its account. '
    'No SIP secret is stored here (the switch keeps those).';

-- ============================================================================================
-- Catalogue: rate plans and add-ons
-- ============================================================================================
CREATE TABLE @extschema@.rate_plans (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code                text NOT NULL UNIQUE CONSTRAINT rate_plans_code_format CHECK (code ~ '^[A-Z][A-Z0-9_]{1,49}$'),
    name                text NOT NULL,
    description         text,
    currency            @extschema@.currency_code NOT NULL DEFAULT 'INR',
    monthly_price       numeric(14,2) NOT NULL CONSTRAINT rate_plans_monthly_price CHECK (monthly_price >= 0),
    quarterly_price     numeric(14,2) NOT NULL CONSTRAINT rate_plans_quarterly_price CHECK (quarterly_price >= 0),
    annual_price        numeric(14,2) NOT NULL CONSTRAINT rate_plans_annual_price CHECK (annual_price >= 0),
    included_minutes    integer NOT NULL DEFAULT 0 CONSTRAINT rate_plans_included_minutes CHECK (included_minutes >= 0),
    overage_rate        numeric(12,4) NOT NULL CONSTRAINT rate_plans_overage_rate CHECK (overage_rate >= 0),
    included_tfns       integer NOT NULL DEFAULT 0 CONSTRAINT rate_plans_included_tfns CHECK (included_tfns >= 0),
    included_extensions integer NOT NULL DEFAULT 0 CONSTRAINT rate_plans_included_extensions CHECK (included_extensions >= 0),
    trial_days          integer NOT NULL DEFAULT 0 CONSTRAINT rate_plans_trial_days CHECK (trial_days BETWEEN 0 AND 366),
    setup_fee           numeric(14,2) NOT NULL DEFAULT 0 CONSTRAINT rate_plans_setup_fee CHECK (setup_fee >= 0),
    sac                 @extschema@.sac NOT NULL DEFAULT '998412',
    is_active           boolean NOT NULL DEFAULT true,
    is_public           boolean NOT NULL DEFAULT true,
    display_order       integer NOT NULL DEFAULT 0,
    features            jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE @extschema@.rate_plans IS
    'The subscription catalogue. Prices exclude GST. included_minutes is per month (a quarter includes 3x, '
    'a year 12x); overage_rate is rupees per minute beyond them. Prices of all three cycles are stored so '
    'operators can edit each (the default catalogue uses quarterly = 3 x monthly, annual = 12 x monthly x 0.8).';

CREATE TABLE @extschema@.add_ons (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code          text NOT NULL UNIQUE CONSTRAINT add_ons_code_format CHECK (code ~ '^[A-Z][A-Z0-9_]{1,49}$'),
    name          text NOT NULL,
    description   text,
    currency      @extschema@.currency_code NOT NULL DEFAULT 'INR',
    monthly_price numeric(14,2) NOT NULL CONSTRAINT add_ons_monthly_price CHECK (monthly_price >= 0),
    sac           @extschema@.sac NOT NULL DEFAULT '998412',
    max_quantity  integer CONSTRAINT add_ons_max_quantity CHECK (max_quantity > 0),
    is_active     boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE @extschema@.add_ons IS
    'Recurring extras sold with a subscription (extra toll-free number, extra extension), priced per month '
    'excluding GST and scaled by the billing cycle like the plan.';

-- ============================================================================================
-- Billing arithmetic: calendar, recurring prices, proration, invoice numbers and quotes
-- (C++: extension/pg/calendar.cpp, extension/pg/invoice.cpp over extension/core)
-- ============================================================================================
CREATE FUNCTION @extschema@.add_months_clamped(d date, months integer, anchor_day integer DEFAULT NULL)
    RETURNS date
    AS 'MODULE_PATHNAME', 'balatrix_add_months_clamped'
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.add_months_clamped(date, integer, integer) IS
    'd moved by months (any sign), on anchor_day of the target month clamped to its last day (NULL anchor_day: '
    'the day of d). Keeping the anchor stops drift: anchor 31 gives Jan 31, Feb 28/29, Mar 31, Apr 30. NULL d '
    'or months give NULL; anchor_day outside 1-31 raises 22023; dates outside years 1-9999 raise 22008.';

CREATE FUNCTION @extschema@.billing_period(
    anchor date, billing_cycle text, period_index integer, OUT period_start date, OUT period_end date)
    RETURNS record
    AS 'MODULE_PATHNAME', 'balatrix_billing_period'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.billing_period(date, text, integer) IS
    'Anniversary billing period period_index (0 = the first) of a subscription anchored on anchor: the half-open '
    '[period_start, period_end), each boundary anchor + k x 1, 3 or 12 months clamped to the month''s end from '
    'the anchor''s day. billing_cycle is monthly, quarterly or annual (else 22023); a negative index raises '
    '22023; dates outside years 1-9999 raise 22008.';

CREATE FUNCTION @extschema@.financial_year(d date) RETURNS text
    AS 'MODULE_PATHNAME', 'balatrix_financial_year'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.financial_year(date) IS
    'The Indian financial year (1 April - 31 March) containing d, as invoices carry it: ''2526'' for FY 2025-26 '
    '(2025-04-01 to 2026-03-31). Dates outside years 1-9999 raise 22008.';

CREATE FUNCTION @extschema@.recurring_price(monthly_price numeric, billing_cycle text) RETURNS numeric
    AS 'MODULE_PATHNAME', 'balatrix_recurring_price'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.recurring_price(numeric, text) IS
    'The price of one period for a monthly price (PRODUCT §3): monthly 1 x, quarterly 3 x, annual 12 x 0.8, '
    'rounded once half-up to paise (349.00 annual = 3350.40). A negative price or an unknown cycle raises '
    '22023; more than 4 decimals 22023; beyond 999999999999.99 22003.';

CREATE FUNCTION @extschema@.prorate(amount numeric, days_remaining integer, days_in_period integer) RETURNS numeric
    AS 'MODULE_PATHNAME', 'balatrix_prorate'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.prorate(numeric, integer, integer) IS
    'amount x days_remaining / days_in_period, rounded once half away from zero to paise. Needs 0 <= '
    'days_remaining <= days_in_period and days_in_period >= 1 (else 22023).';

CREATE FUNCTION @extschema@.prorate_plan_change(
    old_price numeric, new_price numeric, days_remaining integer, days_in_period integer,
    OUT unused_old numeric, OUT prorated_new numeric, OUT difference numeric)
    RETURNS record
    AS 'MODULE_PATHNAME', 'balatrix_prorate_plan_change'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.prorate_plan_change(numeric, numeric, integer, integer) IS
    'An immediate plan change inside a period (PRODUCT §7): both period prices prorated by the same days and '
    'rounded to paise separately; difference = prorated_new - unused_old of the rounded parts (> 0 charge on '
    'an upgrade, < 0 credit on a downgrade), so the three printed amounts always add up. Negative prices and '
    'bad days raise 22023.';

CREATE FUNCTION @extschema@.format_invoice_number(series text, financial_year text, sequence bigint) RETURNS text
    AS 'MODULE_PATHNAME', 'balatrix_format_invoice_number'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.format_invoice_number(text, text, bigint) IS
    'SERIES/FY/SEQUENCE with the sequence zero-padded to 6 digits (INV/2526/000001), CGST Rule 46(b). series is '
    '1-6 characters [A-Z][A-Z0-9]*, financial_year a label such as 2526, sequence >= 1 (else 22023); a number '
    'longer than 16 characters raises 22003 (nothing is truncated).';

CREATE FUNCTION @extschema@.billing_settings(
    OUT supplier_state_code text, OUT supplier_gstin text, OUT invoice_round_off boolean,
    OUT invoice_series text, OUT invoice_due_days integer, OUT downgrade_timing text,
    OUT dunning_reminder_days integer, OUT dunning_suspend_days integer, OUT cdr_retention_days integer,
    OUT outbox_retention_days integer)
    RETURNS record
    AS 'MODULE_PATHNAME', 'balatrix_billing_settings'
    LANGUAGE C STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.billing_settings() IS
    'The validated values of balatrix.supplier_state_code, balatrix.supplier_gstin (NULL when empty), '
    'balatrix.invoice_round_off, balatrix.invoice_series, balatrix.invoice_due_days, balatrix.downgrade_timing, '
    'balatrix.dunning_reminder_days, balatrix.dunning_suspend_days, balatrix.cdr_retention_days and '
    'balatrix.outbox_retention_days. Read through the module, so a '
    'value set before it was loaded has been checked.';

CREATE FUNCTION @extschema@.quote_subscription(
    plan text, billing_cycle text, addons jsonb DEFAULT '{}', customer uuid DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    settings record;
    p record;
    c record;
    a record;
    t record;
    q jsonb;
    qty integer;
    bad_quantity boolean;
    place text;
    exempt boolean := false;
    b2b boolean := false;
    taxed boolean;
    unit_price numeric;
    taxable numeric;
    rate numeric;
    months integer;
    line_no integer := 0;
    lines jsonb := '[]';
    regime text;
    sum_taxable numeric := 0;
    sum_cgst numeric := 0;
    sum_sgst numeric := 0;
    sum_utgst numeric := 0;
    sum_igst numeric := 0;
    sum_tax numeric;
    round_off numeric := 0;
BEGIN
    IF plan IS NULL OR billing_cycle IS NULL THEN
        RAISE EXCEPTION 'plan and billing_cycle must not be NULL' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    months := CASE billing_cycle WHEN 'monthly' THEN 1 WHEN 'quarterly' THEN 3 WHEN 'annual' THEN 12 END;
    IF months IS NULL THEN
        RAISE EXCEPTION 'unknown billing cycle "%"', billing_cycle
            USING ERRCODE = 'invalid_parameter_value', HINT = 'A billing cycle is monthly, quarterly or annual.';
    END IF;
    addons := coalesce(addons, '{}');
    IF pg_catalog.jsonb_typeof(addons) <> 'object' THEN
        RAISE EXCEPTION 'addons must be a JSON object of add-on codes and quantities, not %', addons
            USING ERRCODE = 'invalid_parameter_value', HINT = 'For example {"EXTRA_TFN": 2, "EXTRA_EXTENSION": 5}.';
    END IF;
    settings := @extschema@.billing_settings();

    SELECT rp.code, rp.name, rp.currency, rp.monthly_price, rp.sac, rp.is_active, rp.included_minutes
      INTO p FROM @extschema@.rate_plans rp WHERE rp.code = plan;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown rate plan "%"', plan
            USING ERRCODE = 'no_data_found', HINT = 'Plans are listed in balatrix.rate_plans (code).';
    END IF;
    IF NOT p.is_active THEN
        RAISE EXCEPTION 'rate plan "%" is not active', plan USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- Place of supply (IGST Act s.12(11)): the customer's billing State; a customer abroad is an
    -- export (96); no customer: the supplier's own State (an intra-State quote).
    IF customer IS NULL THEN
        place := settings.supplier_state_code;
    ELSE
        SELECT cu.billing_state_code, cu.billing_country, cu.tax_exempt, cu.gstin
          INTO c FROM @extschema@.customers cu WHERE cu.id = customer;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'customer % not found', customer USING ERRCODE = 'no_data_found';
        END IF;
        IF c.billing_state_code IS NOT NULL THEN
            place := c.billing_state_code;
        ELSIF c.billing_country <> 'IN' THEN
            place := '96';
        ELSE
            RAISE EXCEPTION 'customer % has no billing State', customer
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Set customers.billing_state_code: it is the place of supply.';
        END IF;
        exempt := c.tax_exempt;
        -- customers.gstin is validated by its trigger: a stored GSTIN is a registration.
        b2b := c.gstin IS NOT NULL;
    END IF;
    taxed := NOT exempt AND p.currency = 'INR';

    -- The plan line, then one line per add-on with a positive quantity, in code order.
    unit_price := @extschema@.recurring_price(p.monthly_price, billing_cycle);
    rate := CASE WHEN taxed THEN @extschema@.gst_rate_for_sac(p.sac) ELSE 0 END;
    t := @extschema@.gst_line_tax(unit_price, rate, settings.supplier_state_code, place, exempt, p.currency);
    regime := t.regime;
    line_no := 1;
    lines := lines || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
        'line_no', line_no, 'kind', 'plan', 'code', p.code, 'description', p.name || ' (' || billing_cycle || ')',
        'sac', p.sac, 'quantity', 1, 'unit_price', unit_price, 'taxable', unit_price, 'gst_rate', rate,
        'cgst', t.cgst, 'sgst', t.sgst, 'utgst', t.utgst, 'igst', t.igst,
        'tax', t.cgst + t.sgst + t.utgst + t.igst, 'total', unit_price + t.cgst + t.sgst + t.utgst + t.igst));
    sum_taxable := unit_price;
    sum_cgst := t.cgst; sum_sgst := t.sgst; sum_utgst := t.utgst; sum_igst := t.igst;

    FOR a IN
        SELECT e.key, e.value, ao.code, ao.name, ao.currency, ao.monthly_price, ao.sac, ao.max_quantity, ao.is_active
          FROM pg_catalog.jsonb_each(addons) AS e
          LEFT JOIN @extschema@.add_ons ao ON ao.code = e.key
         ORDER BY e.key
    LOOP
        IF a.code IS NULL THEN
            RAISE EXCEPTION 'unknown add-on "%"', a.key
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Add-ons are listed in balatrix.add_ons (code).';
        END IF;
        IF NOT a.is_active THEN
            RAISE EXCEPTION 'add-on "%" is not active', a.key USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- CASE, not OR: the casts must not run on a JSON string.
        bad_quantity := CASE WHEN pg_catalog.jsonb_typeof(a.value) <> 'number' THEN true
                             ELSE a.value::numeric <> pg_catalog.trunc(a.value::numeric) OR a.value::numeric < 0
                                  OR a.value::numeric > coalesce(a.max_quantity, 2147483647) END;
        IF bad_quantity THEN
            RAISE EXCEPTION 'invalid quantity % for add-on "%"', a.value, a.key
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = CASE WHEN a.max_quantity IS NULL THEN 'A quantity is a whole number from 0.'
                                    ELSE 'A quantity is a whole number from 0 to ' || a.max_quantity || '.' END;
        END IF;
        IF a.currency <> p.currency THEN
            RAISE EXCEPTION 'add-on "%" is priced in %, the plan in %', a.key, a.currency, p.currency
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        qty := a.value::numeric;
        CONTINUE WHEN qty = 0;
        unit_price := @extschema@.recurring_price(a.monthly_price, billing_cycle);
        taxable := qty * unit_price;
        rate := CASE WHEN taxed THEN @extschema@.gst_rate_for_sac(a.sac) ELSE 0 END;
        t := @extschema@.gst_line_tax(taxable, rate, settings.supplier_state_code, place, exempt, p.currency);
        line_no := line_no + 1;
        lines := lines || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
            'line_no', line_no, 'kind', 'add_on', 'code', a.code, 'description', a.name || ' (' || billing_cycle || ')',
            'sac', a.sac, 'quantity', qty, 'unit_price', unit_price, 'taxable', taxable, 'gst_rate', rate,
            'cgst', t.cgst, 'sgst', t.sgst, 'utgst', t.utgst, 'igst', t.igst,
            'tax', t.cgst + t.sgst + t.utgst + t.igst, 'total', taxable + t.cgst + t.sgst + t.utgst + t.igst));
        sum_taxable := sum_taxable + taxable;
        sum_cgst := sum_cgst + t.cgst; sum_sgst := sum_sgst + t.sgst;
        sum_utgst := sum_utgst + t.utgst; sum_igst := sum_igst + t.igst;
    END LOOP;

    -- Totals are sums of the lines (PRODUCT §4); the optional round-off takes the total to the
    -- rupee, half away from zero (numeric round()).
    sum_tax := sum_cgst + sum_sgst + sum_utgst + sum_igst;
    IF settings.invoice_round_off THEN
        round_off := pg_catalog.round(sum_taxable + sum_tax) - (sum_taxable + sum_tax);
    END IF;
    RETURN pg_catalog.jsonb_build_object(
        'plan', p.code, 'plan_name', p.name, 'billing_cycle', billing_cycle,
        'included_minutes', p.included_minutes * months, 'currency', p.currency,
        'customer', customer, 'b2b', b2b, 'tax_exempt', exempt,
        'supplier_state_code', settings.supplier_state_code, 'supplier_gstin', settings.supplier_gstin,
        'place_of_supply', place, 'regime', regime, 'lines', lines,
        'totals', pg_catalog.jsonb_build_object(
            'taxable', sum_taxable, 'cgst', sum_cgst, 'sgst', sum_sgst, 'utgst', sum_utgst, 'igst', sum_igst,
            'tax', sum_tax, 'round_off', pg_catalog.round(round_off, 2),
            'total', pg_catalog.round(sum_taxable + sum_tax + round_off, 2)));
END
$$;
COMMENT ON FUNCTION @extschema@.quote_subscription(text, text, jsonb, uuid) IS
    'Prices one period of a subscription, as the checkout and price preview show it, from the catalogue only: '
    'a plan line at recurring_price(rate_plans.monthly_price, billing_cycle) (quarterly 3 x, annual 12 x 0.8), '
    'and an add_on line per add-on of addons ({"EXTRA_TFN": 2, "EXTRA_EXTENSION": 5}: codes of balatrix.add_ons, '
    'whole quantities 0..max_quantity; 0 gives no line) at recurring_price of its monthly price x quantity. Each '
    'line carries its SAC, taxable value, GST rate and heads (gst_line_tax; 0 % when not taxed). Place of supply: '
    'the customer''s billing State (96 for a customer abroad); with customer NULL, the supplier''s State '
    '(balatrix.supplier_state_code), i.e. an intra-State quote. A tax-exempt customer pays no GST; a customer '
    'with a GSTIN gives "b2b": true. totals are sums of the lines (taxable, cgst, sgst, utgst, igst, tax, '
    'round_off, total); round_off is non-zero only with balatrix.invoice_round_off. Runs with the caller''s '
    'rights (row-level security applies to the customer). Unknown plan or customer: P0002; inactive plan, '
    'unknown or inactive add-on, bad quantity, bad cycle, customer without a State: 22023.';

-- ============================================================================================
-- Rate decks and rates
-- ============================================================================================
CREATE TABLE @extschema@.rate_decks (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL,
    version      integer NOT NULL DEFAULT 1 CONSTRAINT rate_decks_version CHECK (version > 0),
    description  text,
    currency     @extschema@.currency_code NOT NULL DEFAULT 'INR',
    status       text NOT NULL DEFAULT 'draft' CONSTRAINT rate_decks_status CHECK (status IN ('draft', 'published', 'retired')),
    published_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, version),
    CONSTRAINT rate_decks_published CHECK (status = 'draft' OR published_at IS NOT NULL)
);
COMMENT ON TABLE @extschema@.rate_decks IS
    'Versioned per-destination tariffs. A draft is edited and loaded, then published; rating uses published decks.';

CREATE TABLE @extschema@.rate_plan_decks (
    rate_plan_id uuid NOT NULL REFERENCES @extschema@.rate_plans (id) ON DELETE CASCADE,
    rate_deck_id uuid NOT NULL REFERENCES @extschema@.rate_decks (id) ON DELETE RESTRICT,
    priority     integer NOT NULL DEFAULT 100,
    PRIMARY KEY (rate_plan_id, rate_deck_id)
);
CREATE INDEX rate_plan_decks_deck_idx ON @extschema@.rate_plan_decks (rate_deck_id);
COMMENT ON TABLE @extschema@.rate_plan_decks IS
    'Which rate decks price the calls of a rate plan''s subscribers; lower priority is consulted first.';

CREATE TABLE @extschema@.rates (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rate_deck_id         uuid NOT NULL REFERENCES @extschema@.rate_decks (id) ON DELETE CASCADE,
    prefix               text NOT NULL CONSTRAINT rates_prefix_digits CHECK (prefix ~ '^[0-9]{1,20}$'),
    description          text,
    rate_per_minute      numeric(12,4) NOT NULL CONSTRAINT rates_rate CHECK (rate_per_minute >= 0),
    initial_increment    integer NOT NULL DEFAULT 60 CONSTRAINT rates_initial_increment CHECK (initial_increment BETWEEN 1 AND 3600),
    subsequent_increment integer NOT NULL DEFAULT 60 CONSTRAINT rates_subsequent_increment CHECK (subsequent_increment BETWEEN 1 AND 3600),
    connect_fee          numeric(12,4) NOT NULL DEFAULT 0 CONSTRAINT rates_connect_fee CHECK (connect_fee >= 0),
    minimum_charge       numeric(12,4) NOT NULL DEFAULT 0 CONSTRAINT rates_minimum_charge CHECK (minimum_charge >= 0),
    charge_unanswered    boolean NOT NULL DEFAULT false,
    uses_allowance       boolean NOT NULL DEFAULT true,
    effective_from       timestamptz NOT NULL DEFAULT '-infinity',
    effective_to         timestamptz,
    band_weekdays        smallint CONSTRAINT rates_band_weekdays CHECK (band_weekdays BETWEEN 1 AND 127),
    band_start           time,
    band_end             time,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rates_effective_order CHECK (effective_to IS NULL OR effective_to > effective_from),
    CONSTRAINT rates_band_complete CHECK ((band_weekdays IS NULL) = (band_start IS NULL) AND (band_start IS NULL) = (band_end IS NULL))
);
CREATE INDEX rates_deck_prefix_idx ON @extschema@.rates (rate_deck_id, prefix, effective_from DESC);
COMMENT ON TABLE @extschema@.rates IS
    'One tariff of a deck: destination prefix (digits of the normalised number), rupees per minute (4 decimals), '
    'initial / subsequent increments in seconds (60/60 per minute, 1/1 per second), connect fee, minimum charge, '
    'validity [effective_from, effective_to) and an optional IST time band (band_weekdays bit 0 = Monday ... '
    'bit 6 = Sunday; [band_start, band_end), wrapping past midnight when band_end <= band_start). '
    'Longest prefix wins; among equals the latest effective_from.';

-- ============================================================================================
-- Rate deck management: CSV parsing (C++: extension/core/src/csv.cpp), versions, bulk loads,
-- publishing, plan attachments, immutability of published rates
-- ============================================================================================
-- A deck's life: create_rate_deck (a draft, version 1 + the highest of its name) -> load_rates /
-- load_rates_from_table (all rows or none) -> publish_rate_deck (the previous published version
-- of the name retires and hands its plan attachments over) -> new_rate_deck_version (a draft copy
-- of the published version, to edit and publish in turn). Rates of a published or retired deck
-- never change: they are what past calls were charged by.
CREATE FUNCTION @extschema@.parse_csv(csv text)
    RETURNS TABLE (line_number integer, fields text[])
    AS 'MODULE_PATHNAME', 'balatrix_parse_csv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.parse_csv(text) IS
    'Parses RFC 4180 CSV text into one row per record: line_number (the 1-based line the record starts on) and '
    'its fields (quotes removed, "" read as "). Comma separator; CRLF, LF or CR line ends; quoted fields may hold '
    'commas and line breaks; a blank line is a record of one empty field. Malformed CSV (a quote never closed, '
    'text after a closing quote, a quote inside an unquoted field) raises 22P02 naming the line.';

CREATE FUNCTION @extschema@.tg_rates_immutable() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    deck record;
BEGIN
    -- Statement triggers with transition tables: one look-up per statement, not one per row (a
    -- deck load inserts tens of thousands of rows).
    IF TG_OP = 'INSERT' THEN
        -- A published deck always has rates (publish_rate_deck refuses an empty one, and they can
        -- be neither deleted nor truncated), except while pg_restore refills it: CREATE EXTENSION
        -- has made the triggers, the dump's data follows, decks first, then every rate of a deck
        -- in one COPY. So a statement that brings all of a non-draft deck's rates is a restore,
        -- and is let through; one that adds to rates already there is an edit. (A dump made with
        -- pg_dump --inserts, one statement per row, cannot be restored into published decks.)
        SELECT d.name, d.version, d.status INTO deck
          FROM (SELECT DISTINCT n.rate_deck_id FROM new_rows n) AS nd
          JOIN @extschema@.rate_decks d ON d.id = nd.rate_deck_id
         WHERE d.status <> 'draft'
           AND EXISTS (SELECT 1 FROM @extschema@.rates r
                        WHERE r.rate_deck_id = d.id AND NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = r.id))
         LIMIT 1;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT d.name, d.version, d.status INTO deck
          FROM (SELECT o.rate_deck_id FROM old_rows o UNION SELECT n.rate_deck_id FROM new_rows n) AS r
          JOIN @extschema@.rate_decks d ON d.id = r.rate_deck_id
         WHERE d.status <> 'draft'
         LIMIT 1;
    ELSIF TG_OP = 'DELETE' THEN
        -- Rates deleted with their (draft) deck by the cascade find no deck: allowed.
        SELECT d.name, d.version, d.status INTO deck
          FROM old_rows o JOIN @extschema@.rate_decks d ON d.id = o.rate_deck_id
         WHERE d.status <> 'draft'
         LIMIT 1;
    ELSE
        SELECT d.name, d.version, d.status INTO deck
          FROM @extschema@.rate_decks d
         WHERE d.status <> 'draft' AND EXISTS (SELECT 1 FROM @extschema@.rates r WHERE r.rate_deck_id = d.id)
         LIMIT 1;
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION 'rate deck "%" version % is %: its rates cannot be changed', deck.name, deck.version, deck.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Create a new version with balatrix.new_rate_deck_version(' || pg_catalog.quote_literal(deck.name)
                         || '), change that draft and publish it.';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.tg_rates_immutable() IS
    'AFTER INSERT / UPDATE / DELETE and BEFORE TRUNCATE statement trigger of rates: refuses (55000) any change to '
    'the rates of a published or retired deck. One statement inserting every rate of such a deck (pg_restore '
    'refilling it) is allowed.';

CREATE TRIGGER rates_immutable_insert_trg AFTER INSERT ON @extschema@.rates
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_rates_immutable();
CREATE TRIGGER rates_immutable_update_trg AFTER UPDATE ON @extschema@.rates
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_rates_immutable();
CREATE TRIGGER rates_immutable_delete_trg AFTER DELETE ON @extschema@.rates
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_rates_immutable();
CREATE TRIGGER rates_immutable_truncate_trg BEFORE TRUNCATE ON @extschema@.rates
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_rates_immutable();

CREATE FUNCTION @extschema@.tg_rate_decks_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF OLD.status = 'draft' AND TG_OP = 'DELETE' THEN
        RETURN OLD;
    ELSIF OLD.status = 'draft' THEN
        RETURN NEW;
    ELSIF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'rate deck "%" version % is %: it cannot be deleted', OLD.name, OLD.version, OLD.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Published and retired decks are the record of what calls were charged; only a draft can be deleted.';
    END IF;
    -- What rating depends on stays as published: name, version, currency, publication, and the
    -- deck never becomes an editable draft again. Description and published -> retired may change.
    IF NEW.status = 'draft' THEN
        RAISE EXCEPTION 'rate deck "%" version % is %: it cannot become a draft again', OLD.name, OLD.version, OLD.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Create a new version with balatrix.new_rate_deck_version(' || pg_catalog.quote_literal(OLD.name)
                         || '), change that draft and publish it.';
    ELSIF NEW.id <> OLD.id OR NEW.name <> OLD.name OR NEW.version <> OLD.version
          OR NEW.currency <> OLD.currency OR NEW.published_at IS DISTINCT FROM OLD.published_at THEN
        RAISE EXCEPTION 'rate deck "%" version % is %: only its description and status can change', OLD.name, OLD.version, OLD.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Create a new version with balatrix.new_rate_deck_version(' || pg_catalog.quote_literal(OLD.name)
                         || '), change that draft and publish it.';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.tg_rate_decks_guard() IS
    'BEFORE UPDATE / DELETE row trigger of rate_decks: a published or retired deck cannot be deleted, become a '
    'draft again, or change its name, version, currency or published_at (55000).';
CREATE TRIGGER rate_decks_guard_trg BEFORE UPDATE OR DELETE ON @extschema@.rate_decks
    FOR EACH ROW EXECUTE FUNCTION @extschema@.tg_rate_decks_guard();

CREATE FUNCTION @extschema@.create_rate_deck(name text, currency text DEFAULT 'INR', description text DEFAULT NULL)
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    deck_id uuid;
BEGIN
    IF create_rate_deck.name IS NULL OR pg_catalog.btrim(create_rate_deck.name) = '' THEN
        RAISE EXCEPTION 'a rate deck needs a name' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF create_rate_deck.currency IS NULL OR create_rate_deck.currency !~ '^[A-Z]{3}$' THEN
        RAISE EXCEPTION 'currency must be an ISO 4217 code in upper case (INR, USD, ...), not %',
                        coalesce(pg_catalog.quote_literal(create_rate_deck.currency), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Versions of one name are numbered one at a time.
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('balatrix.rate_decks:' || create_rate_deck.name));
    INSERT INTO @extschema@.rate_decks (name, version, description, currency)
    SELECT create_rate_deck.name, coalesce(max(d.version), 0) + 1, create_rate_deck.description, create_rate_deck.currency
      FROM @extschema@.rate_decks d
     WHERE d.name = create_rate_deck.name
    RETURNING id INTO deck_id;
    RETURN deck_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_rate_deck(text, text, text) IS
    'Creates an empty draft rate deck; its version is 1 + the highest version of that name (1 for a new name). '
    'Returns the deck id. Load it with load_rates, then publish_rate_deck.';

CREATE FUNCTION @extschema@.new_rate_deck_version(name text)
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    source record;
    deck_id uuid;
BEGIN
    IF new_rate_deck_version.name IS NULL THEN
        RAISE EXCEPTION 'name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('balatrix.rate_decks:' || new_rate_deck_version.name));
    SELECT d.id, d.description, d.currency INTO source
      FROM @extschema@.rate_decks d
     WHERE d.name = new_rate_deck_version.name AND d.status = 'published'
     ORDER BY d.version DESC
     LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'rate deck "%" has no published version', new_rate_deck_version.name
            USING ERRCODE = 'no_data_found',
                  HINT = 'A first version is made with balatrix.create_rate_deck() and published with balatrix.publish_rate_deck().';
    END IF;
    INSERT INTO @extschema@.rate_decks (name, version, description, currency)
    SELECT new_rate_deck_version.name, max(d.version) + 1, source.description, source.currency
      FROM @extschema@.rate_decks d
     WHERE d.name = new_rate_deck_version.name
    RETURNING id INTO deck_id;
    INSERT INTO @extschema@.rates (rate_deck_id, prefix, description, rate_per_minute, initial_increment, subsequent_increment,
                                   connect_fee, minimum_charge, charge_unanswered, uses_allowance, effective_from,
                                   effective_to, band_weekdays, band_start, band_end)
    SELECT deck_id, r.prefix, r.description, r.rate_per_minute, r.initial_increment, r.subsequent_increment,
           r.connect_fee, r.minimum_charge, r.charge_unanswered, r.uses_allowance, r.effective_from,
           r.effective_to, r.band_weekdays, r.band_start, r.band_end
      FROM @extschema@.rates r
     WHERE r.rate_deck_id = source.id
     ORDER BY r.id;
    RETURN deck_id;
END
$$;
COMMENT ON FUNCTION @extschema@.new_rate_deck_version(text) IS
    'Creates a draft version of a rate deck (version = 1 + the highest of the name) holding a copy of every rate of '
    'its published version, to edit and publish. Returns the new deck id; P0002 when no version of the name is published.';

-- The one validating code path of both bulk loads. columns are the column names (a CSV header,
-- or a staging table's columns); records yields (line_number integer, fields text[]) in that
-- column order. Internal: call load_rates or load_rates_from_table.
CREATE FUNCTION @extschema@.load_rate_rows(deck uuid, columns text[], records refcursor, replace boolean)
    RETURNS TABLE (line_number integer, prefix text, status text, error text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    known constant text[] := ARRAY['prefix', 'rate_per_minute', 'description', 'initial_increment', 'subsequent_increment',
                                   'connect_fee', 'minimum_charge', 'charge_unanswered', 'uses_allowance', 'effective_from',
                                   'effective_to', 'band_weekdays', 'band_start', 'band_end'];
    -- The numeric columns: rate and fees (>= 0, 4 decimals, numeric(12,4)), then whole numbers in a range.
    num_names constant text[] := ARRAY['rate_per_minute', 'connect_fee', 'minimum_charge',
                                       'initial_increment', 'subsequent_increment', 'band_weekdays'];
    num_low constant numeric[] := ARRAY[NULL, NULL, NULL, 1, 1, 1];
    num_high constant numeric[] := ARRAY[NULL, NULL, NULL, 3600, 3600, 127];
    bom text := '';
    target record;
    names text[];
    bad text;
    width integer;
    i_prefix integer;
    i_description integer;
    i_unanswered integer;
    i_allowance integer;
    i_from integer;
    i_to integer;
    i_start integer;
    i_end integer;
    num_pos integer[];
    r_line integer;
    r_fields text[];
    errs text[];
    t text;
    x numeric;
    num numeric[];
    v_unanswered boolean;
    v_allowance boolean;
    v_from timestamptz;
    v_to timestamptz;
    v_start time;
    v_end time;
    from_ok boolean;
    band_given integer;
    valid boolean;
    n integer := 0;
    a_line integer[] := '{}';
    a_raw_prefix text[] := '{}';
    a_err text[] := '{}';
    a_prefix text[] := '{}';
    a_description text[] := '{}';
    a_rate numeric[] := '{}';
    a_connect numeric[] := '{}';
    a_minimum numeric[] := '{}';
    a_initial integer[] := '{}';
    a_subsequent integer[] := '{}';
    a_weekdays smallint[] := '{}';
    a_unanswered boolean[] := '{}';
    a_allowance boolean[] := '{}';
    a_from timestamptz[] := '{}';
    a_to timestamptz[] := '{}';
    a_start time[] := '{}';
    a_end time[] := '{}';
BEGIN
    IF deck IS NULL OR replace IS NULL THEN
        RAISE EXCEPTION 'deck and replace must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- The lock keeps the deck a draft (publish_rate_deck waits) until this load commits.
    SELECT d.name, d.version, d.status INTO target FROM @extschema@.rate_decks d WHERE d.id = deck FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'rate deck % does not exist', deck USING ERRCODE = 'no_data_found';
    END IF;
    IF target.status <> 'draft' THEN
        RAISE EXCEPTION 'rate deck "%" version % is %: only a draft can be loaded', target.name, target.version, target.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Create a new version with balatrix.new_rate_deck_version(' || pg_catalog.quote_literal(target.name)
                         || ') and load that.';
    END IF;

    -- The header: names compared case-insensitively, surrounding spaces and a UTF-8 byte order
    -- mark (spreadsheets write one) ignored.
    IF pg_catalog.getdatabaseencoding() = 'UTF8' THEN
        bom := pg_catalog.chr(65279);
    END IF;
    SELECT array_agg(pg_catalog.lower(pg_catalog.btrim(pg_catalog.ltrim(c, bom), E' \t')) ORDER BY o) INTO names
      FROM unnest(columns) WITH ORDINALITY AS u(c, o);
    IF names IS NULL THEN
        RAISE EXCEPTION 'the rates have no column names'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The first CSV line names the columns: prefix and rate_per_minute, and any of ' ||
                         pg_catalog.array_to_string(known[3:], ', ') || '.';
    END IF;
    SELECT pg_catalog.string_agg(pg_catalog.format('"%s"', c), ', ' ORDER BY c) INTO bad
      FROM (SELECT c FROM unnest(names) AS c GROUP BY c HAVING count(*) > 1) AS dup;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'the column names % appear more than once', bad USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT pg_catalog.string_agg(pg_catalog.format('"%s"', c), ', ' ORDER BY o) INTO bad
      FROM unnest(names) WITH ORDINALITY AS u(c, o) WHERE c <> ALL (known);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'unknown rate columns: %', bad
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The columns are prefix and rate_per_minute (required), and ' ||
                         pg_catalog.array_to_string(known[3:], ', ') || '.';
    END IF;
    SELECT pg_catalog.string_agg(c, ' and ' ORDER BY o) INTO bad
      FROM unnest(known[1:2]) WITH ORDINALITY AS u(c, o) WHERE c <> ALL (names);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'the rates have no % column', bad
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The columns are prefix and rate_per_minute (required), and ' ||
                         pg_catalog.array_to_string(known[3:], ', ') || '.';
    END IF;
    width := pg_catalog.cardinality(names);
    i_prefix := pg_catalog.array_position(names, 'prefix');
    i_description := pg_catalog.array_position(names, 'description');
    i_unanswered := pg_catalog.array_position(names, 'charge_unanswered');
    i_allowance := pg_catalog.array_position(names, 'uses_allowance');
    i_from := pg_catalog.array_position(names, 'effective_from');
    i_to := pg_catalog.array_position(names, 'effective_to');
    i_start := pg_catalog.array_position(names, 'band_start');
    i_end := pg_catalog.array_position(names, 'band_end');
    SELECT array_agg(pg_catalog.array_position(names, c) ORDER BY o) INTO num_pos
      FROM unnest(num_names) WITH ORDINALITY AS u(c, o);

    -- Every row is checked, and every fault of a row reported; values of a valid row are kept.
    LOOP
        FETCH records INTO r_line, r_fields;
        EXIT WHEN NOT FOUND;
        n := n + 1;
        errs := '{}';
        num := pg_catalog.array_fill(NULL::numeric, ARRAY[6]);
        v_unanswered := NULL;
        v_allowance := NULL;
        v_from := NULL;
        v_to := NULL;
        v_start := NULL;
        v_end := NULL;
        a_line[n] := r_line;
        a_raw_prefix[n] := nullif(pg_catalog.btrim(r_fields[i_prefix], E' \t'), '');
        IF coalesce(pg_catalog.cardinality(r_fields), 0) <> width THEN
            errs := errs || pg_catalog.format('the row has %s field(s), the header %s', coalesce(pg_catalog.cardinality(r_fields), 0), width);
        ELSE
            -- prefix
            t := a_raw_prefix[n];
            IF t IS NULL THEN
                errs := errs || 'prefix is missing'::text;
            ELSIF t !~ '^[0-9]{1,20}$' THEN
                errs := errs || pg_catalog.format('prefix "%s" is not 1 to 20 digits', t);
            END IF;
            -- numbers
            FOR k IN 1 .. 6 LOOP
                t := nullif(pg_catalog.btrim(r_fields[num_pos[k]], E' \t'), '');
                IF t IS NULL THEN
                    IF k = 1 THEN
                        errs := errs || 'rate_per_minute is missing'::text;
                    END IF;
                    CONTINUE;
                END IF;
                IF pg_catalog.length(t) > 1000 OR t !~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$' THEN
                    errs := errs || pg_catalog.format('%s "%s" is not a number', num_names[k], t);
                    CONTINUE;
                END IF;
                x := t::numeric;
                IF k <= 3 THEN
                    IF x < 0 THEN
                        errs := errs || pg_catalog.format('%s %s is negative', num_names[k], t);
                    ELSIF x <> pg_catalog.round(x, 4) THEN
                        errs := errs || pg_catalog.format('%s %s has more than 4 decimals', num_names[k], t);
                    ELSIF x >= 100000000 THEN
                        errs := errs || pg_catalog.format('%s %s is too large (at most 99999999.9999)', num_names[k], t);
                    ELSE
                        num[k] := x;
                    END IF;
                ELSIF x <> pg_catalog.trunc(x) OR x < num_low[k] OR x > num_high[k] THEN
                    errs := errs || pg_catalog.format('%s %s is not a whole number from %s to %s', num_names[k], t, num_low[k], num_high[k]);
                ELSE
                    num[k] := x;
                END IF;
            END LOOP;
            -- booleans
            t := pg_catalog.lower(nullif(pg_catalog.btrim(r_fields[i_unanswered], E' \t'), ''));
            v_unanswered := CASE WHEN t IS NULL THEN false
                                 WHEN t IN ('true', 't', 'yes', 'y', 'on', '1') THEN true
                                 WHEN t IN ('false', 'f', 'no', 'n', 'off', '0') THEN false END;
            IF v_unanswered IS NULL THEN
                errs := errs || pg_catalog.format('charge_unanswered "%s" is not true or false', t);
            END IF;
            t := pg_catalog.lower(nullif(pg_catalog.btrim(r_fields[i_allowance], E' \t'), ''));
            v_allowance := CASE WHEN t IS NULL THEN true
                                WHEN t IN ('true', 't', 'yes', 'y', 'on', '1') THEN true
                                WHEN t IN ('false', 'f', 'no', 'n', 'off', '0') THEN false END;
            IF v_allowance IS NULL THEN
                errs := errs || pg_catalog.format('uses_allowance "%s" is not true or false', t);
            END IF;
            -- validity: timestamps without an offset are read in the session's TimeZone
            v_from := '-infinity';
            from_ok := true;
            t := nullif(pg_catalog.btrim(r_fields[i_from], E' \t'), '');
            IF t IS NOT NULL THEN
                BEGIN
                    v_from := t::timestamptz;
                EXCEPTION WHEN data_exception THEN
                    errs := errs || pg_catalog.format('effective_from "%s" is not a timestamp', t);
                    from_ok := false;
                END;
            END IF;
            t := nullif(pg_catalog.btrim(r_fields[i_to], E' \t'), '');
            IF t IS NOT NULL THEN
                BEGIN
                    v_to := t::timestamptz;
                    IF from_ok AND v_to <= v_from THEN
                        errs := errs || 'effective_to is not later than effective_from'::text;
                    END IF;
                EXCEPTION WHEN data_exception THEN
                    errs := errs || pg_catalog.format('effective_to "%s" is not a timestamp', t);
                END;
            END IF;
            -- time band: all three fields or none
            band_given := (num_pos[6] IS NOT NULL AND nullif(pg_catalog.btrim(r_fields[num_pos[6]], E' \t'), '') IS NOT NULL)::integer
                          + (nullif(pg_catalog.btrim(r_fields[i_start], E' \t'), '') IS NOT NULL)::integer
                          + (nullif(pg_catalog.btrim(r_fields[i_end], E' \t'), '') IS NOT NULL)::integer;
            IF band_given NOT IN (0, 3) THEN
                errs := errs || 'band_weekdays, band_start and band_end go together: give all three or none'::text;
            END IF;
            t := nullif(pg_catalog.btrim(r_fields[i_start], E' \t'), '');
            IF t IS NOT NULL THEN
                BEGIN
                    v_start := t::time;
                EXCEPTION WHEN data_exception THEN
                    errs := errs || pg_catalog.format('band_start "%s" is not a time of day', t);
                END;
            END IF;
            t := nullif(pg_catalog.btrim(r_fields[i_end], E' \t'), '');
            IF t IS NOT NULL THEN
                BEGIN
                    v_end := t::time;
                EXCEPTION WHEN data_exception THEN
                    errs := errs || pg_catalog.format('band_end "%s" is not a time of day', t);
                END;
            END IF;
        END IF;

        -- Every array gets element n (NULLs for an invalid row), so all stay 1 .. n and unnest
        -- lines them up. (Assigning a[n] to an empty array would start it at subscript n.)
        a_err[n] := nullif(pg_catalog.array_to_string(errs, '; '), '');
        valid := a_err[n] IS NULL;
        a_prefix[n] := CASE WHEN valid THEN a_raw_prefix[n] END;
        a_description[n] := CASE WHEN valid THEN nullif(pg_catalog.btrim(r_fields[i_description], E' \t'), '') END;
        a_rate[n] := CASE WHEN valid THEN num[1] END;
        a_connect[n] := CASE WHEN valid THEN coalesce(num[2], 0) END;
        a_minimum[n] := CASE WHEN valid THEN coalesce(num[3], 0) END;
        a_initial[n] := CASE WHEN valid THEN coalesce(num[4], 60) END;
        a_subsequent[n] := CASE WHEN valid THEN coalesce(num[5], 60) END;
        a_weekdays[n] := CASE WHEN valid THEN num[6] END;
        a_unanswered[n] := CASE WHEN valid THEN v_unanswered END;
        a_allowance[n] := CASE WHEN valid THEN v_allowance END;
        a_from[n] := CASE WHEN valid THEN v_from END;
        a_to[n] := CASE WHEN valid THEN v_to END;
        a_start[n] := CASE WHEN valid THEN v_start END;
        a_end[n] := CASE WHEN valid THEN v_end END;
    END LOOP;
    IF n = 0 THEN
        IF replace THEN
            DELETE FROM @extschema@.rates r WHERE r.rate_deck_id = deck;
        END IF;
        RETURN;
    END IF;

    -- Rows valid on their own may still clash: two rows of the input with the same prefix,
    -- effective_from and band (the later one is rejected), or a row and a rate already in the deck.
    SELECT array_agg(CASE WHEN s.err IS NOT NULL THEN s.err
                          ELSE nullif(pg_catalog.concat_ws('; ',
                                   CASE WHEN s.first_line <> s.line
                                        THEN pg_catalog.format('duplicate of line %s (same prefix, effective_from and band)', s.first_line) END,
                                   CASE WHEN NOT replace AND EXISTS (
                                            SELECT 1 FROM @extschema@.rates x
                                             WHERE x.rate_deck_id = deck AND x.prefix = s.prefix AND x.effective_from = s.eff_from
                                               AND x.band_weekdays IS NOT DISTINCT FROM s.weekdays
                                               AND x.band_start IS NOT DISTINCT FROM s.band_start
                                               AND x.band_end IS NOT DISTINCT FROM s.band_end)
                                        THEN 'the deck already has a rate with this prefix, effective_from and band' END), '')
                     END ORDER BY s.ord)
      INTO a_err
      FROM (SELECT u.*, CASE WHEN u.err IS NULL
                             THEN min(u.line) OVER (PARTITION BY u.err IS NULL, u.prefix, u.eff_from, u.weekdays, u.band_start, u.band_end)
                        END AS first_line
              FROM unnest(a_line, a_err, a_prefix, a_from, a_weekdays, a_start, a_end)
                   WITH ORDINALITY AS u(line, err, prefix, eff_from, weekdays, band_start, band_end, ord)) AS s;

    IF EXISTS (SELECT 1 FROM unnest(a_err) AS e WHERE e IS NOT NULL) THEN
        RETURN QUERY
            SELECT u.line, u.raw_prefix, CASE WHEN u.err IS NULL THEN 'not loaded' ELSE 'rejected' END, u.err
              FROM unnest(a_line, a_raw_prefix, a_err) AS u(line, raw_prefix, err)
             ORDER BY u.line;
        RETURN;
    END IF;
    IF replace THEN
        DELETE FROM @extschema@.rates r WHERE r.rate_deck_id = deck;
    END IF;
    INSERT INTO @extschema@.rates (rate_deck_id, prefix, description, rate_per_minute, initial_increment, subsequent_increment,
                                   connect_fee, minimum_charge, charge_unanswered, uses_allowance, effective_from,
                                   effective_to, band_weekdays, band_start, band_end)
    SELECT deck, u.prefix, u.description, u.rate, u.initial, u.subsequent, u.connect, u.minimum, u.unanswered,
           u.allowance, u.eff_from, u.eff_to, u.weekdays, u.band_start, u.band_end
      FROM unnest(a_line, a_prefix, a_description, a_rate, a_initial, a_subsequent, a_connect, a_minimum, a_unanswered,
                  a_allowance, a_from, a_to, a_weekdays, a_start, a_end)
           AS u(line, prefix, description, rate, initial, subsequent, connect, minimum, unanswered, allowance, eff_from,
                eff_to, weekdays, band_start, band_end)
     ORDER BY u.line;
    RETURN QUERY
        SELECT u.line, u.raw_prefix, 'loaded'::text, NULL::text
          FROM unnest(a_line, a_raw_prefix) AS u(line, raw_prefix)
         ORDER BY u.line;
END
$$;
COMMENT ON FUNCTION @extschema@.load_rate_rows(uuid, text[], refcursor, boolean) IS
    'Internal: the validation and loading shared by load_rates and load_rates_from_table. columns names the fields '
    'of the rows the cursor yields as (line_number integer, fields text[]).';

CREATE FUNCTION @extschema@.load_rates(deck uuid, csv text, replace boolean DEFAULT false)
    RETURNS TABLE (line_number integer, prefix text, status text, error text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    records refcursor;
    header_line integer;
    header text[];
BEGIN
    IF csv IS NULL THEN
        RAISE EXCEPTION 'csv must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- Blank lines are not rows.
    OPEN records FOR
        SELECT c.line_number, c.fields
          FROM @extschema@.parse_csv(csv) AS c
         WHERE c.fields <> ARRAY['']
         ORDER BY c.line_number;
    FETCH records INTO header_line, header;
    RETURN QUERY SELECT * FROM @extschema@.load_rate_rows(deck, header, records, replace);
    CLOSE records;
END
$$;
COMMENT ON FUNCTION @extschema@.load_rates(uuid, text, boolean) IS
    'Loads rates into a draft deck from CSV text whose first line names the columns (any order, any case): prefix and '
    'rate_per_minute (required); description, initial_increment, subsequent_increment, connect_fee, minimum_charge, '
    'charge_unanswered, uses_allowance, effective_from, effective_to, band_weekdays, band_start, band_end (empty = '
    'the default). Every row is validated; all rows load or none: one row per line comes back with status loaded, or, '
    'when any row is invalid, rejected (with the reasons) or not loaded. replace = true first deletes the deck''s rates; '
    'otherwise a rate already in the deck with the same prefix, effective_from and band is an error. Blank lines are '
    'skipped; timestamps without an offset are read in the session time zone. 55000 unless the deck is a draft.';

CREATE FUNCTION @extschema@.load_rates_from_table(deck uuid, source regclass, replace boolean DEFAULT false)
    RETURNS TABLE (line_number integer, prefix text, status text, error text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    columns text[];
    records refcursor;
BEGIN
    IF source IS NULL THEN
        RAISE EXCEPTION 'source must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT array_agg(a.attname::text ORDER BY a.attnum) INTO columns
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped;
    -- Each value as text, so both loads share one validation (every type has a cast to text).
    OPEN records FOR EXECUTE pg_catalog.format(
        'SELECT (pg_catalog.row_number() OVER ())::integer, ARRAY[%s]::text[] FROM %s',
        (SELECT pg_catalog.string_agg(pg_catalog.format('%I::text', c), ', ' ORDER BY o)
           FROM unnest(columns) WITH ORDINALITY AS u(c, o)),
        source);
    RETURN QUERY SELECT * FROM @extschema@.load_rate_rows(deck, columns, records, replace);
    CLOSE records;
END
$$;
COMMENT ON FUNCTION @extschema@.load_rates_from_table(uuid, regclass, boolean) IS
    'As load_rates, from a staging table (or view) whose column names are the CSV header''s, of any types (each '
    'value is read as text; NULL = empty). line_number is the row''s position in the table''s scan order.';

CREATE FUNCTION @extschema@.publish_rate_deck(deck uuid)
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    target record;
    newer integer;
BEGIN
    SELECT d.name INTO target FROM @extschema@.rate_decks d WHERE d.id = deck;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'rate deck % does not exist', coalesce(deck::text, 'NULL') USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('balatrix.rate_decks:' || target.name));
    SELECT d.id, d.name, d.version, d.status INTO target FROM @extschema@.rate_decks d WHERE d.id = deck FOR UPDATE;
    IF target.status <> 'draft' THEN
        RAISE EXCEPTION 'rate deck "%" version % is already %', target.name, target.version, target.status
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.rates r WHERE r.rate_deck_id = deck) THEN
        RAISE EXCEPTION 'rate deck "%" version % has no rates', target.name, target.version
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Load its rates with balatrix.load_rates() first.';
    END IF;
    SELECT max(d.version) INTO newer
      FROM @extschema@.rate_decks d
     WHERE d.name = target.name AND d.status <> 'draft' AND d.version > target.version;
    IF newer IS NOT NULL THEN
        RAISE EXCEPTION 'rate deck "%" version % is older than the published version %', target.name, target.version, newer
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Create a new version with balatrix.new_rate_deck_version(' || pg_catalog.quote_literal(target.name)
                         || ') and publish that.';
    END IF;

    UPDATE @extschema@.rate_decks d SET status = 'published', published_at = pg_catalog.now() WHERE d.id = deck;
    -- Plans priced by the previous version are priced by this one, at the same priority.
    INSERT INTO @extschema@.rate_plan_decks (rate_plan_id, rate_deck_id, priority)
    SELECT pd.rate_plan_id, deck, min(pd.priority)
      FROM @extschema@.rate_plan_decks pd
      JOIN @extschema@.rate_decks d ON d.id = pd.rate_deck_id
     WHERE d.name = target.name AND d.status = 'published' AND d.id <> deck
     GROUP BY pd.rate_plan_id
    ON CONFLICT (rate_plan_id, rate_deck_id) DO NOTHING;
    DELETE FROM @extschema@.rate_plan_decks pd
     USING @extschema@.rate_decks d
     WHERE d.id = pd.rate_deck_id AND d.name = target.name AND d.status = 'published' AND d.id <> deck;
    UPDATE @extschema@.rate_decks d SET status = 'retired'
     WHERE d.name = target.name AND d.status = 'published' AND d.id <> deck;
    RETURN deck;
END
$$;
COMMENT ON FUNCTION @extschema@.publish_rate_deck(uuid) IS
    'Publishes a draft deck (published_at = now()); from then on its rates cannot change. The previously published '
    'version of the same name is retired and its rate plan attachments move to this one, at the same priority. '
    'Returns the deck id. 55000 when the deck is not a draft, has no rates, or is older than a published version.';

CREATE FUNCTION @extschema@.attach_rate_deck(plan_code text, deck uuid, priority integer DEFAULT 100)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    plan record;
    target record;
BEGIN
    IF attach_rate_deck.priority IS NULL THEN
        RAISE EXCEPTION 'priority must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT p.id, p.currency INTO plan FROM @extschema@.rate_plans p WHERE p.code = plan_code;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'rate plan % does not exist', coalesce(pg_catalog.quote_literal(plan_code), 'NULL')
            USING ERRCODE = 'no_data_found';
    END IF;
    SELECT d.name, d.version, d.status, d.currency INTO target FROM @extschema@.rate_decks d WHERE d.id = deck;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'rate deck % does not exist', coalesce(deck::text, 'NULL') USING ERRCODE = 'no_data_found';
    END IF;
    IF target.status = 'retired' THEN
        RAISE EXCEPTION 'rate deck "%" version % is retired', target.name, target.version
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Attach the published version of the deck.';
    END IF;
    IF target.currency <> plan.currency THEN
        RAISE EXCEPTION 'rate deck "%" is in %, rate plan % in %', target.name, target.currency, plan_code, plan.currency
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO @extschema@.rate_plan_decks (rate_plan_id, rate_deck_id, priority)
    VALUES (plan.id, deck, attach_rate_deck.priority)
    ON CONFLICT (rate_plan_id, rate_deck_id) DO UPDATE SET priority = excluded.priority;
END
$$;
COMMENT ON FUNCTION @extschema@.attach_rate_deck(text, uuid, integer) IS
    'Makes a draft or published deck price the calls of a rate plan (lower priority is consulted first); attaching '
    'it again changes the priority. P0002 for an unknown plan or deck, 55000 for a retired deck, 22023 when the '
    'currencies differ.';

CREATE FUNCTION @extschema@.detach_rate_deck(plan_code text, deck uuid)
    RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    plan_id uuid;
BEGIN
    SELECT p.id INTO plan_id FROM @extschema@.rate_plans p WHERE p.code = plan_code;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'rate plan % does not exist', coalesce(pg_catalog.quote_literal(plan_code), 'NULL')
            USING ERRCODE = 'no_data_found';
    END IF;
    DELETE FROM @extschema@.rate_plan_decks pd WHERE pd.rate_plan_id = plan_id AND pd.rate_deck_id = deck;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION @extschema@.detach_rate_deck(text, uuid) IS
    'Stops a deck pricing the calls of a rate plan. Returns true when it was attached, false when it was not; '
    'P0002 for an unknown plan.';

-- ============================================================================================
-- Rating: balatrix.rate_call (C++: extension/pg/rating.cpp) and the per-backend rate cache
-- (extension/pg/rating_cache.cpp), invalidated in every backend when a deck changes
-- ============================================================================================
CREATE FUNCTION @extschema@.tg_rating_invalidate() RETURNS trigger
    AS 'MODULE_PATHNAME', 'balatrix_tg_rating_invalidate'
    LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.tg_rating_invalidate() IS
    'AFTER INSERT / UPDATE / DELETE / TRUNCATE statement trigger of rates, rate_decks and rate_plan_decks: queues '
    'a relcache invalidation of balatrix.rates, which makes every backend drop its cached rate indexes (this '
    'backend at its next command, the others when the transaction commits; nothing when it rolls back).';

CREATE TRIGGER rates_rating_invalidate_trg AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.rates
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_rating_invalidate();
CREATE TRIGGER rate_decks_rating_invalidate_trg AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.rate_decks
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_rating_invalidate();
CREATE TRIGGER rate_plan_decks_rating_invalidate_trg AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.rate_plan_decks
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_rating_invalidate();

CREATE FUNCTION @extschema@.rate_call(account text, destination text, billmsec bigint, started_at timestamptz,
                                      OUT destination_e164 text, OUT matched_prefix text, OUT rate_id bigint,
                                      OUT rate_per_minute numeric, OUT billed_seconds bigint,
                                      OUT included_seconds bigint, OUT connect_fee numeric, OUT charge numeric,
                                      OUT segments jsonb)
    RETURNS record
    AS 'MODULE_PATHNAME', 'balatrix_rate_call'
    LANGUAGE C STABLE STRICT
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.rate_call(text, text, bigint, timestamptz) IS
    'Prices a call as the CDR trigger does, writing nothing (quotes, "explain my bill"). account: an account number '
    'or an active SIP extension; its subscription is the newest trial or active one with started_at <= the call''s; '
    'the allowance is the included seconds left in the subscription_usage row whose [period_start, period_end) '
    'contains started_at (0 when there is no such row: the call is priced as if the allowance were used up); the '
    'rates are those of the published decks attached to the subscription''s rate plan (lower priority first; '
    'longest prefix). The call is answered when billmsec > 0. Returns the normalised number (E.164 digits), the '
    'matched prefix, the rate (id, rupees per minute) that starts the call, billed and included seconds, connect '
    'fee, total charge (4 decimals) and the segments [{"rate_id", "seconds", "included_seconds", "charge"}] (charge '
    'as a string). Errors: P0002 for an unknown account, no trial or active subscription, or no rate; 22P02 for a '
    'destination that cannot be normalised; 22023 for a negative billmsec. STRICT: NULL in, NULL out.';

CREATE FUNCTION @extschema@.match_rate(rate_plan uuid, destination text, at timestamptz DEFAULT now(),
    OUT destination_e164 text, OUT rate_id bigint, OUT prefix text, OUT rate_per_minute numeric)
    RETURNS record
    AS 'MODULE_PATHNAME', 'balatrix_match_rate'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.match_rate(uuid, text, timestamptz) IS
    'The rate that prices a call from a rate plan to a destination starting at `at`: the destination normalised '
    'to E.164 digits, and the id, prefix and rupees per minute of the rate in force then (longest prefix of the '
    'published decks attached to the plan, the time band of that instant); NULLs when no rate matches, 22P02 for '
    'a destination that cannot be normalised. Reads the backend''s rate cache only, so it suits bulk queries: '
    'SELECT m.* FROM numbers n, balatrix.rate_plans p, LATERAL balatrix.match_rate(p.id, n.number) m WHERE p.code = ''STARTER''.';

-- ============================================================================================
-- Subscriptions and usage
-- ============================================================================================
CREATE SEQUENCE @extschema@.subscription_number_seq;

CREATE TABLE @extschema@.subscriptions (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    subscription_number  text NOT NULL UNIQUE
                         DEFAULT 'S' || lpad(nextval('@extschema@.subscription_number_seq')::text, 9, '0'),
    customer_id          uuid NOT NULL,
    account_id           uuid NOT NULL,
    rate_plan_id         uuid NOT NULL REFERENCES @extschema@.rate_plans (id) ON DELETE RESTRICT,
    pending_rate_plan_id uuid REFERENCES @extschema@.rate_plans (id) ON DELETE RESTRICT,
    status               text NOT NULL DEFAULT 'pending'
                         CONSTRAINT subscriptions_status CHECK (status IN ('pending', 'trial', 'active', 'suspended', 'cancelled', 'expired')),
    billing_cycle        text NOT NULL DEFAULT 'monthly'
                         CONSTRAINT subscriptions_billing_cycle CHECK (billing_cycle IN ('monthly', 'quarterly', 'annual')),
    currency             @extschema@.currency_code NOT NULL DEFAULT 'INR',
    recurring_price      numeric(14,2) NOT NULL CONSTRAINT subscriptions_recurring_price CHECK (recurring_price >= 0),
    anchor_day           smallint NOT NULL CONSTRAINT subscriptions_anchor_day CHECK (anchor_day BETWEEN 1 AND 31),
    started_at           timestamptz NOT NULL,
    trial_ends_at        timestamptz,
    current_period_start timestamptz,
    current_period_end   timestamptz,
    auto_renew           boolean NOT NULL DEFAULT true,
    cancel_at_period_end boolean NOT NULL DEFAULT false,
    cancelled_at         timestamptz,
    cancellation_reason  text,
    suspended_at         timestamptz,
    ended_at             timestamptz,
    discount_percent     numeric(5,2) NOT NULL DEFAULT 0 CONSTRAINT subscriptions_discount_percent CHECK (discount_percent BETWEEN 0 AND 100),
    discount_amount      numeric(14,2) NOT NULL DEFAULT 0 CONSTRAINT subscriptions_discount_amount CHECK (discount_amount >= 0),
    coupon_code          text,
    metadata             jsonb NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (account_id, customer_id) REFERENCES @extschema@.accounts (id, customer_id) ON DELETE RESTRICT,
    CONSTRAINT subscriptions_period_order CHECK (current_period_end > current_period_start),
    CONSTRAINT subscriptions_period_complete CHECK ((current_period_start IS NULL) = (current_period_end IS NULL)),
    CONSTRAINT subscriptions_trial CHECK (status <> 'trial' OR trial_ends_at IS NOT NULL),
    CONSTRAINT subscriptions_cancelled CHECK (status <> 'cancelled' OR cancelled_at IS NOT NULL),
    UNIQUE (id, customer_id)
);
CREATE INDEX subscriptions_customer_idx ON @extschema@.subscriptions (customer_id);
CREATE INDEX subscriptions_account_idx ON @extschema@.subscriptions (account_id);
CREATE INDEX subscriptions_plan_idx ON @extschema@.subscriptions (rate_plan_id);
CREATE INDEX subscriptions_due_idx ON @extschema@.subscriptions (current_period_end)
    WHERE status IN ('trial', 'active', 'suspended');
COMMENT ON TABLE @extschema@.subscriptions IS
    'A customer''s plan on an account. Anniversary periods [current_period_start, current_period_end) from '
    'anchor_day with end-of-month clamping; recurring_price is locked at subscription time; '
    'pending_rate_plan_id holds a downgrade that takes effect at the next period.';

CREATE TABLE @extschema@.subscription_add_ons (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id     uuid NOT NULL,
    subscription_id uuid NOT NULL,
    add_on_id       uuid NOT NULL REFERENCES @extschema@.add_ons (id) ON DELETE RESTRICT,
    quantity        integer NOT NULL CONSTRAINT subscription_add_ons_quantity CHECK (quantity > 0),
    unit_price      numeric(14,2) NOT NULL CONSTRAINT subscription_add_ons_unit_price CHECK (unit_price >= 0),
    started_at      timestamptz NOT NULL,
    ended_at        timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (subscription_id, customer_id) REFERENCES @extschema@.subscriptions (id, customer_id) ON DELETE CASCADE,
    CONSTRAINT subscription_add_ons_interval CHECK (ended_at IS NULL OR ended_at > started_at)
);
CREATE INDEX subscription_add_ons_subscription_idx ON @extschema@.subscription_add_ons (subscription_id);
COMMENT ON TABLE @extschema@.subscription_add_ons IS
    'Add-ons held by a subscription over [started_at, ended_at), at the monthly unit price locked when added.';

CREATE TABLE @extschema@.subscription_usage (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id           uuid NOT NULL,
    subscription_id       uuid NOT NULL,
    period_start          timestamptz NOT NULL,
    period_end            timestamptz NOT NULL,
    included_seconds      bigint NOT NULL DEFAULT 0 CONSTRAINT subscription_usage_included CHECK (included_seconds >= 0),
    included_used_seconds bigint NOT NULL DEFAULT 0 CONSTRAINT subscription_usage_used CHECK (included_used_seconds >= 0),
    overage_seconds       bigint NOT NULL DEFAULT 0 CONSTRAINT subscription_usage_overage CHECK (overage_seconds >= 0),
    overage_charge        numeric(20,4) NOT NULL DEFAULT 0 CONSTRAINT subscription_usage_overage_charge CHECK (overage_charge >= 0),
    other_charge          numeric(20,4) NOT NULL DEFAULT 0 CONSTRAINT subscription_usage_other_charge CHECK (other_charge >= 0),
    call_count            bigint NOT NULL DEFAULT 0 CONSTRAINT subscription_usage_calls CHECK (call_count >= 0),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    -- what invoices have billed of overage_charge / other_charge (balatrix.bill_subscription)
    billed_overage_charge numeric(20,4) NOT NULL DEFAULT 0 CONSTRAINT subscription_usage_billed_overage CHECK (billed_overage_charge >= 0),
    billed_other_charge   numeric(20,4) NOT NULL DEFAULT 0 CONSTRAINT subscription_usage_billed_other CHECK (billed_other_charge >= 0),
    FOREIGN KEY (subscription_id, customer_id) REFERENCES @extschema@.subscriptions (id, customer_id) ON DELETE CASCADE,
    UNIQUE (subscription_id, period_start),
    CONSTRAINT subscription_usage_period CHECK (period_end > period_start),
    CONSTRAINT subscription_usage_within_allowance CHECK (included_used_seconds <= included_seconds)
);
COMMENT ON TABLE @extschema@.subscription_usage IS
    'Usage counters of one subscription period: included seconds and how many are used, overage seconds and '
    'charge (beyond the allowance), other_charge (calls not eligible for the allowance). Kept in step with rated CDRs. '
    'billed_overage_charge / billed_other_charge: how much of them invoices have billed (late calls and re-ratings are '
    'billed on the next invoice).';

-- ============================================================================================
-- DIDs (toll-free and virtual numbers)
-- ============================================================================================
CREATE TABLE @extschema@.dids (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    number          text NOT NULL UNIQUE CONSTRAINT dids_number_digits CHECK (number ~ '^[0-9]{6,15}$'),
    number_type     text NOT NULL DEFAULT 'toll_free'
                    CONSTRAINT dids_number_type CHECK (number_type IN ('toll_free', 'virtual', 'local', 'mobile')),
    status          text NOT NULL DEFAULT 'available'
                    CONSTRAINT dids_status CHECK (status IN ('available', 'reserved', 'assigned', 'suspended', 'ported_out')),
    monthly_rent    numeric(14,2) NOT NULL DEFAULT 199 CONSTRAINT dids_monthly_rent CHECK (monthly_rent >= 0),
    setup_fee       numeric(14,2) NOT NULL DEFAULT 0 CONSTRAINT dids_setup_fee CHECK (setup_fee >= 0),
    customer_id     uuid REFERENCES @extschema@.customers (id) ON DELETE RESTRICT,
    account_id      uuid,
    subscription_id uuid,
    assigned_at     timestamptz,
    routing         jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (account_id, customer_id) REFERENCES @extschema@.accounts (id, customer_id) ON DELETE RESTRICT,
    FOREIGN KEY (subscription_id, customer_id) REFERENCES @extschema@.subscriptions (id, customer_id) ON DELETE RESTRICT,
    CONSTRAINT dids_assignment CHECK (
        CASE status
            WHEN 'available' THEN customer_id IS NULL AND account_id IS NULL AND subscription_id IS NULL
            WHEN 'assigned' THEN account_id IS NOT NULL AND assigned_at IS NOT NULL
            ELSE true
        END)
);
CREATE INDEX dids_account_idx ON @extschema@.dids (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX dids_available_idx ON @extschema@.dids (number_type, number) WHERE status = 'available';
COMMENT ON TABLE @extschema@.dids IS
    'Number inventory (toll-free 1800/1860 and virtual numbers), digits only as dialled nationally '
    '(18001234567). An assigned DID bills its monthly rent and identifies the account of inbound calls '
    'without an accountcode.';

CREATE TABLE @extschema@.did_assignments (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    did_id          uuid NOT NULL REFERENCES @extschema@.dids (id) ON DELETE RESTRICT,
    customer_id     uuid NOT NULL,
    account_id      uuid NOT NULL,
    subscription_id uuid,
    monthly_rent    numeric(14,2) NOT NULL CONSTRAINT did_assignments_rent CHECK (monthly_rent >= 0),
    assigned_at     timestamptz NOT NULL,
    released_at     timestamptz,
    FOREIGN KEY (account_id, customer_id) REFERENCES @extschema@.accounts (id, customer_id) ON DELETE RESTRICT,
    CONSTRAINT did_assignments_interval CHECK (released_at IS NULL OR released_at > assigned_at)
);
CREATE UNIQUE INDEX did_assignments_one_open ON @extschema@.did_assignments (did_id) WHERE released_at IS NULL;
CREATE INDEX did_assignments_account_idx ON @extschema@.did_assignments (account_id, assigned_at);
COMMENT ON TABLE @extschema@.did_assignments IS
    'History of who held a DID over [assigned_at, released_at) at what rent: the basis of prorated DID rent.';

-- ============================================================================================
-- CDRs: the FreeSWITCH landing table
-- ============================================================================================
-- mod_cdr_pg_csv sends one plain-text autocommit INSERT per call leg with the column names of its
-- <schema> (reference/freeswitch.md §1). A failed INSERT is spooled on the switch and never retried,
-- so every column FreeSWITCH writes is text and nullable: a rogue value ('(NULL)', '', 'abc') lands
-- and is judged by the rating trigger, never by a type error. Stamps are kept as sent (local time of
-- the switch, no zone) and interpreted in the balatrix.cdr_timezone setting, not the session's.
--
-- Partitioned by received_at (the insert time, filled by default; FreeSWITCH never sends it):
-- monthly partitions created ahead by balatrix.create_cdr_partitions(), retention by
-- balatrix.drop_cdr_partitions(). A call is always received after it started, so a query for calls
-- started in [a, b) may add received_at >= a to prune partitions.
CREATE SEQUENCE @extschema@.cdr_id_seq AS bigint;

CREATE TABLE @extschema@.cdr (
    id                       bigint NOT NULL DEFAULT nextval('@extschema@.cdr_id_seq'),
    received_at              timestamptz NOT NULL DEFAULT now(),
    -- mod_cdr_pg_csv's default column set (scripts/create.sql, cdr_pg_csv.conf.xml)
    local_ip_v4              text,
    caller_id_name           text,
    caller_id_number         text,
    destination_number       text,
    context                  text,
    start_stamp              text,
    answer_stamp             text,
    end_stamp                text,
    duration                 text,
    billsec                  text,
    hangup_cause             text,
    uuid                     text,
    bleg_uuid                text,
    accountcode              text,
    read_codec               text,
    write_codec              text,
    sip_hangup_disposition   text,
    ani                      text,
    -- optional fields recommended for billing (reference/freeswitch.md §1.10)
    direction                text,
    call_uuid                text,
    originating_leg_uuid     text,
    hangup_cause_q850        text,
    last_bridge_hangup_cause text,
    sip_term_status          text,
    sip_call_id              text,
    billmsec                 text,
    billusec                 text,
    mduration                text,
    start_epoch              text,
    answer_epoch             text,
    end_epoch                text,
    start_uepoch             text,
    answer_uepoch            text,
    end_uepoch               text,
    progresssec              text,
    waitsec                  text,
    -- rating result (filled by the rating trigger; NULL until then)
    rating_status            text NOT NULL DEFAULT 'pending'
                             CONSTRAINT cdr_rating_status CHECK (rating_status IN
                                 ('pending', 'rated', 'skipped', 'unknown_account', 'no_rate', 'invalid', 'error')),
    rating_reason            text,
    rated_at                 timestamptz,
    leg                      char(1) CONSTRAINT cdr_leg CHECK (leg IN ('a', 'b')),
    started_at               timestamptz,
    answered_at              timestamptz,
    ended_at                 timestamptz,
    billable_ms              bigint CONSTRAINT cdr_billable_ms CHECK (billable_ms >= 0),
    customer_id              uuid,
    account_id               uuid,
    subscription_id          uuid,
    destination_e164         text,
    rate_id                  bigint,
    matched_prefix           text,
    rate_per_minute          numeric(12,4),
    billed_seconds           bigint CONSTRAINT cdr_billed_seconds CHECK (billed_seconds >= 0),
    included_seconds         bigint CONSTRAINT cdr_included_seconds CHECK (included_seconds >= 0),
    charge                   numeric(20,4) CONSTRAINT cdr_charge CHECK (charge >= 0),
    currency                 @extschema@.currency_code,
    ledger_id                bigint
) PARTITION BY RANGE (received_at);
COMMENT ON TABLE @extschema@.cdr IS
    'Call detail records, one row per call leg, as FreeSWITCH mod_cdr_pg_csv INSERTs them (db-table = balatrix.cdr). '
    'FreeSWITCH columns are lenient text; the rating columns say how the leg was billed (rating_status, '
    'rating_reason, charge, ledger_id). Partitioned by month of received_at.';

-- Keys and indexes are defined per partition, not on the partitioned parent. The parent belongs to
-- the extension but monthly partitions do not (they are made later), and pg_restore cannot cope with
-- that mix: CREATE EXTENSION recreates the parent's partitioned indexes, ATTACH PARTITION then builds
-- the partition's copies of them, and the dump's own CREATE INDEX for the partition fails as a
-- duplicate. With per-partition indexes the dump restores cleanly. Every partition gets the same
-- set from this one function.
CREATE FUNCTION @extschema@.create_cdr_partition_indexes(partition regclass) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    rel name := (SELECT relname FROM pg_catalog.pg_class WHERE oid = partition);
BEGIN
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (id)', partition, rel || '_pkey');
    -- uuid and call_uuid are FreeSWITCH's text, of any length: hash indexes (equality look-ups are all
    -- they serve) hold a value of any size, where a B-tree raises on a row over ~2,700 bytes and the
    -- CDR insert path must never raise.
    EXECUTE format('CREATE INDEX %I ON %s USING hash (uuid)', rel || '_uuid_idx', partition);
    EXECUTE format('CREATE INDEX %I ON %s (account_id, started_at)', rel || '_account_started_idx', partition);
    EXECUTE format('CREATE INDEX %I ON %s (received_at) WHERE rating_status NOT IN (''rated'', ''skipped'')',
                   rel || '_unrated_idx', partition);
    EXECUTE format('CREATE INDEX %I ON %s USING hash (call_uuid) WHERE call_uuid IS NOT NULL',
                   rel || '_call_uuid_idx', partition);
END
$$;
COMMENT ON FUNCTION @extschema@.create_cdr_partition_indexes(regclass) IS
    'Creates the primary key (id) and the indexes of one CDR partition (uuid and call_uuid: hash; account_id, '
    'started_at: B-tree; the not-yet-rated rows by received_at); used by the install script and by '
    'create_cdr_partitions, so every partition has the same set.';

CREATE TABLE @extschema@.cdr_default PARTITION OF @extschema@.cdr DEFAULT;
COMMENT ON TABLE @extschema@.cdr_default IS
    'Catch-all CDR partition for times no monthly partition covers; balatrix.create_cdr_partitions() moves '
    'its rows into a new monthly partition.';
SELECT @extschema@.create_cdr_partition_indexes('@extschema@.cdr_default');

-- ============================================================================================
-- Ledger (append-only)
-- ============================================================================================
CREATE TABLE @extschema@.ledger (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id     uuid NOT NULL,
    account_id      uuid NOT NULL,
    entry_type      text NOT NULL CONSTRAINT ledger_entry_type CHECK (entry_type IN
                        ('usage', 'invoice', 'payment', 'top_up', 'refund', 'credit_note', 'debit_note', 'adjustment', 'reversal')),
    amount          numeric(20,4) NOT NULL CONSTRAINT ledger_amount_nonzero CHECK (amount <> 0),
    currency        @extschema@.currency_code NOT NULL,
    balance_after   numeric(20,4) NOT NULL,
    reference_type  text CONSTRAINT ledger_reference_type CHECK (reference_type IN
                        ('cdr', 'cdr_batch', 'invoice', 'payment', 'refund', 'subscription', 'manual')),
    reference_id    text,
    reverses_id     bigint REFERENCES @extschema@.ledger (id) ON DELETE RESTRICT,
    idempotency_key text UNIQUE,
    description     text,
    created_by      text NOT NULL DEFAULT current_user,
    created_at      timestamptz NOT NULL DEFAULT now(),
    metadata        jsonb NOT NULL DEFAULT '{}',
    FOREIGN KEY (account_id, customer_id) REFERENCES @extschema@.accounts (id, customer_id) ON DELETE RESTRICT,
    CONSTRAINT ledger_reference_complete CHECK ((reference_type IS NULL) = (reference_id IS NULL)),
    CONSTRAINT ledger_reversal CHECK ((entry_type = 'reversal') = (reverses_id IS NOT NULL))
);
CREATE INDEX ledger_account_idx ON @extschema@.ledger (account_id, id);
CREATE INDEX ledger_reference_idx ON @extschema@.ledger (reference_type, reference_id);
COMMENT ON TABLE @extschema@.ledger IS
    'Every movement of money on an account, append-only (UPDATE, DELETE and TRUNCATE are refused). amount is '
    'signed from the customer''s side: positive credits the balance (payment, top-up, credit note), negative '
    'debits it (usage, invoice). balance_after is the account balance once the entry is applied; the account '
    'balance always equals the sum of its entries.';

CREATE TRIGGER ledger_append_only_trg BEFORE UPDATE OR DELETE ON @extschema@.ledger
    FOR EACH ROW EXECUTE FUNCTION @extschema@.tg_append_only();
CREATE TRIGGER ledger_no_truncate_trg BEFORE TRUNCATE ON @extschema@.ledger
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_append_only();

-- ============================================================================================
-- Invoices, lines, credit and debit notes
-- ============================================================================================
CREATE TABLE @extschema@.invoices (
    id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    document_type              text NOT NULL DEFAULT 'tax_invoice'
                               CONSTRAINT invoices_document_type CHECK (document_type IN ('tax_invoice', 'credit_note', 'debit_note')),
    invoice_number             text UNIQUE
                               CONSTRAINT invoices_number_format CHECK (invoice_number ~ '^[A-Z1-9][A-Z0-9/-]{0,15}$'),
    series                     text NOT NULL DEFAULT 'INV' CONSTRAINT invoices_series_format CHECK (series ~ '^[A-Z][A-Z0-9]{0,5}$'),
    financial_year             text CONSTRAINT invoices_financial_year CHECK (financial_year ~ '^[0-9]{4}$'),
    customer_id                uuid NOT NULL,
    account_id                 uuid NOT NULL,
    subscription_id            uuid,
    original_invoice_id        uuid REFERENCES @extschema@.invoices (id) ON DELETE RESTRICT,
    status                     text NOT NULL DEFAULT 'draft'
                               CONSTRAINT invoices_status CHECK (status IN ('draft', 'issued', 'partially_paid', 'paid', 'overdue', 'void',
                                                                         'partially_refunded', 'refunded')),
    currency                   @extschema@.currency_code NOT NULL DEFAULT 'INR',
    issue_date                 date,
    due_date                   date,
    period_start               timestamptz,
    period_end                 timestamptz,
    supplier_gstin             @extschema@.gstin,
    supplier_state_code        @extschema@.state_code REFERENCES @extschema@.gst_states (code),
    customer_name              text,
    customer_address           text,
    customer_gstin             @extschema@.gstin,
    place_of_supply_state_code @extschema@.state_code REFERENCES @extschema@.gst_states (code),
    reverse_charge             boolean NOT NULL DEFAULT false,
    tax_exempt                 boolean NOT NULL DEFAULT false,
    taxable_total              numeric(14,2) NOT NULL DEFAULT 0,
    cgst_total                 numeric(14,2) NOT NULL DEFAULT 0 CONSTRAINT invoices_cgst CHECK (cgst_total >= 0),
    sgst_total                 numeric(14,2) NOT NULL DEFAULT 0 CONSTRAINT invoices_sgst CHECK (sgst_total >= 0),
    utgst_total                numeric(14,2) NOT NULL DEFAULT 0 CONSTRAINT invoices_utgst CHECK (utgst_total >= 0),
    igst_total                 numeric(14,2) NOT NULL DEFAULT 0 CONSTRAINT invoices_igst CHECK (igst_total >= 0),
    tax_total                  numeric(14,2) NOT NULL DEFAULT 0 CONSTRAINT invoices_tax CHECK (tax_total >= 0),
    round_off                  numeric(4,2) NOT NULL DEFAULT 0 CONSTRAINT invoices_round_off CHECK (round_off BETWEEN -0.99 AND 0.99),
    total                      numeric(14,2) NOT NULL DEFAULT 0 CONSTRAINT invoices_total CHECK (total >= 0),
    amount_paid                numeric(14,2) NOT NULL DEFAULT 0 CONSTRAINT invoices_amount_paid CHECK (amount_paid >= 0),
    amount_credited            numeric(14,2) NOT NULL DEFAULT 0 CONSTRAINT invoices_amount_credited CHECK (amount_credited >= 0),
    issued_at                  timestamptz,
    paid_at                    timestamptz,
    voided_at                  timestamptz,
    void_reason                text,
    notes                      text,
    metadata                   jsonb NOT NULL DEFAULT '{}',
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    -- why the document exists: a subscription period, a plan change, the end of a subscription, by hand
    billing_reason             text NOT NULL DEFAULT 'manual'
                               CONSTRAINT invoices_billing_reason CHECK (billing_reason IN ('period', 'proration', 'final', 'cancellation', 'manual')),
    FOREIGN KEY (account_id, customer_id) REFERENCES @extschema@.accounts (id, customer_id) ON DELETE RESTRICT,
    FOREIGN KEY (subscription_id, customer_id) REFERENCES @extschema@.subscriptions (id, customer_id) ON DELETE RESTRICT,
    UNIQUE (id, customer_id),
    CONSTRAINT invoices_numbered CHECK (status = 'draft' OR (invoice_number IS NOT NULL AND issue_date IS NOT NULL
                                        AND financial_year IS NOT NULL AND issued_at IS NOT NULL)),
    CONSTRAINT invoices_note_reference CHECK ((document_type = 'tax_invoice') = (original_invoice_id IS NULL)),
    CONSTRAINT invoices_settled CHECK (amount_paid + amount_credited <= total),
    CONSTRAINT invoices_tax_sum CHECK (tax_total = cgst_total + sgst_total + utgst_total + igst_total),
    CONSTRAINT invoices_total_sum CHECK (total = taxable_total + tax_total + round_off),
    CONSTRAINT invoices_one_levy CHECK (igst_total = 0 OR (cgst_total = 0 AND sgst_total = 0 AND utgst_total = 0)),
    CONSTRAINT invoices_due_after_issue CHECK (due_date >= issue_date),
    CONSTRAINT invoices_period_order CHECK (period_end > period_start),
    CONSTRAINT invoices_void CHECK (status <> 'void' OR voided_at IS NOT NULL)
);
CREATE INDEX invoices_customer_idx ON @extschema@.invoices (customer_id, issue_date);
CREATE INDEX invoices_account_idx ON @extschema@.invoices (account_id);
CREATE INDEX invoices_subscription_period_idx ON @extschema@.invoices (subscription_id, period_start) WHERE subscription_id IS NOT NULL;
CREATE INDEX invoices_open_idx ON @extschema@.invoices (due_date) WHERE status IN ('issued', 'partially_paid', 'overdue');
CREATE INDEX invoices_original_idx ON @extschema@.invoices (original_invoice_id) WHERE original_invoice_id IS NOT NULL;
-- One invoice per subscription period (the billing cycle's idempotency, enforced).
CREATE UNIQUE INDEX invoices_one_per_period ON @extschema@.invoices (subscription_id, period_start)
    WHERE document_type = 'tax_invoice' AND billing_reason = 'period' AND status <> 'void';
COMMENT ON TABLE @extschema@.invoices IS
    'GST tax invoices (CGST Rule 46) and the credit / debit notes (Rule 53) that correct them (document_type, '
    'original_invoice_id). Number, supplier and recipient details and the place of supply are frozen at '
    'issue; issued documents are immutable. Totals are sums of the lines; total = taxable + tax + round_off.';

CREATE TABLE @extschema@.invoice_lines (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id      uuid NOT NULL,
    customer_id     uuid NOT NULL,
    line_no         integer NOT NULL CONSTRAINT invoice_lines_line_no CHECK (line_no > 0),
    kind            text NOT NULL CONSTRAINT invoice_lines_kind CHECK (kind IN
                        ('plan', 'add_on', 'did_rent', 'usage', 'overage', 'proration', 'discount', 'setup_fee', 'adjustment')),
    description     text NOT NULL,
    sac             @extschema@.sac NOT NULL,
    quantity        numeric(14,4) NOT NULL DEFAULT 1 CONSTRAINT invoice_lines_quantity CHECK (quantity >= 0),
    unit_price      numeric(14,4),
    period_start    timestamptz,
    period_end      timestamptz,
    taxable_value   numeric(14,2) NOT NULL,
    gst_rate        numeric(5,2) NOT NULL DEFAULT 18 CONSTRAINT invoice_lines_gst_rate CHECK (gst_rate BETWEEN 0 AND 40),
    cgst            numeric(14,2) NOT NULL DEFAULT 0,
    sgst            numeric(14,2) NOT NULL DEFAULT 0,
    utgst           numeric(14,2) NOT NULL DEFAULT 0,
    igst            numeric(14,2) NOT NULL DEFAULT 0,
    reference_type  text,
    reference_id    text,
    FOREIGN KEY (invoice_id, customer_id) REFERENCES @extschema@.invoices (id, customer_id) ON DELETE CASCADE,
    UNIQUE (invoice_id, line_no),
    -- credits (discounts, prorated credit of a downgrade) are the only negative lines
    CONSTRAINT invoice_lines_sign CHECK (kind IN ('discount', 'proration', 'adjustment') OR taxable_value >= 0),
    CONSTRAINT invoice_lines_tax_sign CHECK (sign(cgst) * sign(taxable_value) >= 0 AND sign(sgst) * sign(taxable_value) >= 0
                                             AND sign(utgst) * sign(taxable_value) >= 0 AND sign(igst) * sign(taxable_value) >= 0),
    CONSTRAINT invoice_lines_one_levy CHECK (igst = 0 OR (cgst = 0 AND sgst = 0 AND utgst = 0)),
    CONSTRAINT invoice_lines_period_order CHECK (period_end > period_start)
);
COMMENT ON TABLE @extschema@.invoice_lines IS
    'Lines of an invoice or note: kind, SAC, period, taxable value rounded half-up to paise, and its own tax heads '
    '(CGST + SGST, CGST + UTGST or IGST), each rounded half-up to paise. A usage line is the rounded sum of its '
    'CDR charges.';

-- ============================================================================================
-- Payments, refunds, payment methods
-- ============================================================================================
CREATE TABLE @extschema@.payment_methods (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id       uuid NOT NULL REFERENCES @extschema@.customers (id) ON DELETE CASCADE,
    gateway           text NOT NULL CONSTRAINT payment_methods_gateway CHECK (gateway IN ('razorpay', 'stripe')),
    gateway_customer_id text,
    gateway_method_id text NOT NULL,
    method_type       text NOT NULL CONSTRAINT payment_methods_type CHECK (method_type IN ('card', 'upi', 'netbanking', 'wallet', 'mandate')),
    brand             text,
    last4             text CONSTRAINT payment_methods_last4 CHECK (last4 ~ '^[0-9]{4}$'),
    expiry_month      smallint CONSTRAINT payment_methods_expiry_month CHECK (expiry_month BETWEEN 1 AND 12),
    expiry_year       smallint CONSTRAINT payment_methods_expiry_year CHECK (expiry_year BETWEEN 2000 AND 2100),
    is_default        boolean NOT NULL DEFAULT false,
    is_active         boolean NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (gateway, gateway_method_id),
    UNIQUE (id, customer_id)
);
CREATE UNIQUE INDEX payment_methods_one_default ON @extschema@.payment_methods (customer_id) WHERE is_default AND is_active;
COMMENT ON TABLE @extschema@.payment_methods IS
    'Saved payment methods as gateway tokens only (no card numbers); display facts (brand, last4, expiry).';

CREATE SEQUENCE @extschema@.payment_number_seq;

CREATE TABLE @extschema@.payments (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    payment_number     text NOT NULL UNIQUE DEFAULT 'P' || lpad(nextval('@extschema@.payment_number_seq')::text, 10, '0'),
    customer_id        uuid NOT NULL,
    account_id         uuid NOT NULL,
    invoice_id         uuid,
    subscription_id    uuid,
    payment_method_id  uuid,
    purpose            text NOT NULL CONSTRAINT payments_purpose CHECK (purpose IN ('subscription', 'invoice', 'top_up', 'other')),
    gateway            text NOT NULL CONSTRAINT payments_gateway CHECK (gateway IN ('razorpay', 'stripe', 'manual', 'bank_transfer')),
    gateway_order_id   text,
    gateway_payment_id text,
    amount             numeric(14,2) NOT NULL CONSTRAINT payments_amount CHECK (amount > 0),
    currency           @extschema@.currency_code NOT NULL DEFAULT 'INR',
    status             text NOT NULL DEFAULT 'created' CONSTRAINT payments_status CHECK (status IN
                           ('created', 'pending', 'authorized', 'captured', 'failed', 'cancelled', 'refunded', 'partially_refunded')),
    amount_refunded    numeric(14,2) NOT NULL DEFAULT 0 CONSTRAINT payments_amount_refunded CHECK (amount_refunded >= 0),
    attempts           integer NOT NULL DEFAULT 0 CONSTRAINT payments_attempts CHECK (attempts >= 0),
    next_retry_at      timestamptz,
    failure_code       text,
    failure_reason     text,
    idempotency_key    text UNIQUE,
    captured_at        timestamptz,
    failed_at          timestamptz,
    gateway_response   jsonb,
    metadata           jsonb NOT NULL DEFAULT '{}',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (account_id, customer_id) REFERENCES @extschema@.accounts (id, customer_id) ON DELETE RESTRICT,
    FOREIGN KEY (invoice_id, customer_id) REFERENCES @extschema@.invoices (id, customer_id) ON DELETE RESTRICT,
    FOREIGN KEY (subscription_id, customer_id) REFERENCES @extschema@.subscriptions (id, customer_id) ON DELETE RESTRICT,
    FOREIGN KEY (payment_method_id, customer_id) REFERENCES @extschema@.payment_methods (id, customer_id) ON DELETE RESTRICT,
    UNIQUE (id, customer_id),
    CONSTRAINT payments_refund_bound CHECK (amount_refunded <= amount),
    CONSTRAINT payments_captured CHECK (status NOT IN ('captured', 'refunded', 'partially_refunded') OR captured_at IS NOT NULL),
    CONSTRAINT payments_invoice_purpose CHECK (purpose <> 'invoice' OR invoice_id IS NOT NULL)
);
CREATE UNIQUE INDEX payments_gateway_payment_key ON @extschema@.payments (gateway, gateway_payment_id) WHERE gateway_payment_id IS NOT NULL;
CREATE INDEX payments_gateway_order_idx ON @extschema@.payments (gateway, gateway_order_id) WHERE gateway_order_id IS NOT NULL;
CREATE INDEX payments_customer_idx ON @extschema@.payments (customer_id, created_at);
CREATE INDEX payments_invoice_idx ON @extschema@.payments (invoice_id) WHERE invoice_id IS NOT NULL;
CREATE INDEX payments_retry_idx ON @extschema@.payments (next_retry_at) WHERE status = 'failed' AND next_retry_at IS NOT NULL;
COMMENT ON TABLE @extschema@.payments IS
    'Money received through a gateway or by hand. Capturing a payment, its ledger entry and the invoice '
    'settlement happen in one transaction; (gateway, gateway_payment_id) is unique, so a repeated webhook '
    'cannot record a payment twice.';

CREATE TABLE @extschema@.refunds (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id       uuid NOT NULL,
    payment_id        uuid NOT NULL,
    credit_note_id    uuid,
    amount            numeric(14,2) NOT NULL CONSTRAINT refunds_amount CHECK (amount > 0),
    currency          @extschema@.currency_code NOT NULL DEFAULT 'INR',
    status            text NOT NULL DEFAULT 'pending' CONSTRAINT refunds_status CHECK (status IN ('pending', 'processed', 'failed')),
    gateway_refund_id text,
    reason            text,
    idempotency_key   text UNIQUE,
    created_at        timestamptz NOT NULL DEFAULT now(),
    processed_at      timestamptz,
    FOREIGN KEY (payment_id, customer_id) REFERENCES @extschema@.payments (id, customer_id) ON DELETE RESTRICT,
    FOREIGN KEY (credit_note_id, customer_id) REFERENCES @extschema@.invoices (id, customer_id) ON DELETE RESTRICT
);
CREATE INDEX refunds_payment_idx ON @extschema@.refunds (payment_id);
COMMENT ON TABLE @extschema@.refunds IS
    'Full and partial refunds of a payment, each with its ledger reversal and, for an invoiced supply, a credit note.';

-- ============================================================================================
-- Event outbox, notifications, received webhooks
-- ============================================================================================
CREATE TABLE @extschema@.event_outbox (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_type     text NOT NULL CONSTRAINT event_outbox_type_format CHECK (event_type ~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)+$'),
    customer_id    uuid,
    aggregate_type text,
    aggregate_id   text,
    payload        jsonb NOT NULL DEFAULT '{}',
    dedupe_key     text UNIQUE,
    status         text NOT NULL DEFAULT 'pending' CONSTRAINT event_outbox_status CHECK (status IN ('pending', 'done', 'dead')),
    attempts       integer NOT NULL DEFAULT 0 CONSTRAINT event_outbox_attempts CHECK (attempts >= 0),
    available_at   timestamptz NOT NULL DEFAULT now(),
    locked_by      text,
    locked_until   timestamptz,
    last_error     text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    processed_at   timestamptz,
    CONSTRAINT event_outbox_done CHECK (status <> 'done' OR processed_at IS NOT NULL)
);
CREATE INDEX event_outbox_pending_idx ON @extschema@.event_outbox (available_at, id) WHERE status = 'pending';
CREATE INDEX event_outbox_customer_idx ON @extschema@.event_outbox (customer_id, created_at) WHERE customer_id IS NOT NULL;
COMMENT ON TABLE @extschema@.event_outbox IS
    'Transactional outbox: events written in the same transaction as their cause (invoice.issued, balance.low, ...). '
    'Inserting NOTIFYs channel balatrix_events (once per statement); consumers claim pending rows with '
    'FOR UPDATE SKIP LOCKED, retry with backoff (attempts, available_at) and dead-letter (status dead).';

CREATE FUNCTION @extschema@.tg_event_outbox_notify() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    -- A wake-up only: consumers read the table. Delivered at commit, never for a rolled-back insert.
    PERFORM pg_catalog.pg_notify('balatrix_events', '');
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.tg_event_outbox_notify() IS
    'AFTER INSERT statement trigger of event_outbox: NOTIFY balatrix_events so LISTENing sidecars wake up.';
CREATE TRIGGER event_outbox_notify_trg AFTER INSERT ON @extschema@.event_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_event_outbox_notify();

CREATE TABLE @extschema@.notifications (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id  uuid REFERENCES @extschema@.customers (id) ON DELETE CASCADE,
    user_id      uuid REFERENCES @extschema@.users (id) ON DELETE CASCADE,
    event_id     bigint REFERENCES @extschema@.event_outbox (id) ON DELETE SET NULL,
    channel      text NOT NULL CONSTRAINT notifications_channel CHECK (channel IN ('email', 'sms', 'webhook')),
    template     text NOT NULL,
    recipient    text NOT NULL,
    subject      text,
    payload      jsonb NOT NULL DEFAULT '{}',
    status       text NOT NULL DEFAULT 'pending' CONSTRAINT notifications_status CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
    attempts     integer NOT NULL DEFAULT 0 CONSTRAINT notifications_attempts CHECK (attempts >= 0),
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    CONSTRAINT notifications_sent CHECK (status <> 'sent' OR sent_at IS NOT NULL)
);
CREATE UNIQUE INDEX notifications_once ON @extschema@.notifications (event_id, channel, recipient) WHERE event_id IS NOT NULL;
CREATE INDEX notifications_customer_idx ON @extschema@.notifications (customer_id, created_at);
COMMENT ON TABLE @extschema@.notifications IS
    'E-mail, SMS and customer-webhook deliveries. One row per (event, channel, recipient), so an event '
    'consumed twice is still delivered once.';

CREATE TABLE @extschema@.webhook_events (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    gateway            text NOT NULL CONSTRAINT webhook_events_gateway CHECK (gateway IN ('razorpay', 'stripe')),
    event_id           text NOT NULL,
    event_type         text NOT NULL,
    payload            jsonb NOT NULL,
    signature_verified boolean NOT NULL,
    status             text NOT NULL DEFAULT 'received'
                       CONSTRAINT webhook_events_status CHECK (status IN ('received', 'processed', 'ignored', 'failed')),
    error              text,
    received_at        timestamptz NOT NULL DEFAULT now(),
    processed_at       timestamptz,
    UNIQUE (gateway, event_id)
);
COMMENT ON TABLE @extschema@.webhook_events IS
    'Gateway webhooks received (Razorpay, Stripe), unique by (gateway, event_id): a redelivered event is recognised '
    'and applied once.';

-- ============================================================================================
-- Audit log (append-only)
-- ============================================================================================
CREATE TABLE @extschema@.audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    actor_user_id uuid,
    actor_role    text,
    actor_ip      inet,
    user_agent    text,
    request_id    text,
    action        text NOT NULL,
    entity_type   text,
    entity_id     text,
    customer_id   uuid,
    changes       jsonb,
    metadata      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_actor_idx ON @extschema@.audit_log (actor_user_id, occurred_at);
CREATE INDEX audit_log_entity_idx ON @extschema@.audit_log (entity_type, entity_id);
CREATE INDEX audit_log_customer_idx ON @extschema@.audit_log (customer_id, occurred_at) WHERE customer_id IS NOT NULL;
COMMENT ON TABLE @extschema@.audit_log IS
    'Who did what, when and from where: every staff mutation and every authentication event. Append-only.';
CREATE TRIGGER audit_log_append_only_trg BEFORE UPDATE OR DELETE ON @extschema@.audit_log
    FOR EACH ROW EXECUTE FUNCTION @extschema@.tg_append_only();
CREATE TRIGGER audit_log_no_truncate_trg BEFORE TRUNCATE ON @extschema@.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_append_only();

-- ============================================================================================
-- updated_at on every table that has it
-- ============================================================================================
DO $touch$
DECLARE
    t regclass;
BEGIN
    FOR t IN
        SELECT c.oid::regclass
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'updated_at' AND NOT a.attisdropped
         WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind = 'r'
         ORDER BY c.relname
    LOOP
        EXECUTE pg_catalog.format('CREATE TRIGGER %I BEFORE UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION @extschema@.tg_touch_updated_at()',
                                  (SELECT relname FROM pg_catalog.pg_class WHERE oid = t) || '_touch_trg', t);
    END LOOP;
END
$touch$;

-- ============================================================================================
-- CDR partitions and retention
-- ============================================================================================
CREATE FUNCTION @extschema@.create_cdr_partitions(months_ahead integer DEFAULT 3, from_month date DEFAULT NULL)
    RETURNS SETOF regclass
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    first_month date := date_trunc('month', coalesce(from_month, (now() AT TIME ZONE 'UTC')::date));
    lo timestamptz;
    hi timestamptz;
    part_name text;
    staged regclass;
BEGIN
    IF months_ahead IS NULL OR months_ahead < 0 OR months_ahead > 120 THEN
        RAISE EXCEPTION 'months_ahead must be between 0 and 120, not %', months_ahead
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Month boundaries are UTC midnights, whatever the session time zone.
    FOR i IN 0 .. months_ahead LOOP
        lo := ((first_month + make_interval(months => i))::timestamp AT TIME ZONE 'UTC');
        hi := ((first_month + make_interval(months => i + 1))::timestamp AT TIME ZONE 'UTC');
        part_name := 'cdr_' || to_char(first_month + make_interval(months => i), 'YYYY"m"MM');
        CONTINUE WHEN to_regclass('@extschema@.' || quote_ident(part_name)) IS NOT NULL;
        -- Rows already in the default partition for this month would make CREATE ... PARTITION OF
        -- fail; build the month as a plain table, move them, then attach it.
        EXECUTE format('CREATE TABLE @extschema@.%I (LIKE @extschema@.cdr INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part_name);
        staged := ('@extschema@.' || quote_ident(part_name))::regclass;
        EXECUTE format('WITH moved AS (DELETE FROM @extschema@.cdr_default WHERE received_at >= $1 AND received_at < $2 RETURNING *)
                        INSERT INTO %s SELECT * FROM moved', staged) USING lo, hi;
        PERFORM @extschema@.create_cdr_partition_indexes(staged);
        EXECUTE format('ALTER TABLE @extschema@.cdr ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', staged, lo, hi);
        EXECUTE format('ALTER TABLE %s OWNER TO balatrix_owner', staged);
        -- Row triggers are cloned from the parent; statement triggers are not, and a statement that
        -- targets the partition directly fires only the partition's own.
        EXECUTE format('CREATE TRIGGER cdr_post_trg AFTER INSERT ON %s FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_cdr_post()', staged);
        EXECUTE format('COMMENT ON TABLE %s IS %L', staged,
                       'CDR partition for calls received in ' || to_char(first_month + make_interval(months => i), 'YYYY-MM') || ' (UTC).');
        RETURN NEXT staged;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.create_cdr_partitions(integer, date) IS
    'Creates the monthly CDR partitions (UTC months of received_at) from from_month (default: this month) '
    'through months_ahead months later, moving matching rows out of cdr_default. Idempotent; returns the '
    'partitions it created. Run it from pg_cron (balatrix.schedule_jobs) or by hand.';

CREATE FUNCTION @extschema@.drop_cdr_partitions(older_than date)
    RETURNS SETOF text
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    part record;
    cutoff timestamptz := (older_than::timestamp AT TIME ZONE 'UTC');
BEGIN
    IF older_than IS NULL THEN
        RAISE EXCEPTION 'older_than must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    FOR part IN
        SELECT c.oid::regclass AS rel, c.relname,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper_bound
          FROM pg_catalog.pg_inherits i
          JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = '@extschema@.cdr'::regclass
           AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
         ORDER BY c.relname
    LOOP
        CONTINUE WHEN part.upper_bound > cutoff;
        EXECUTE format('ALTER TABLE @extschema@.cdr DETACH PARTITION %s', part.rel);
        EXECUTE format('DROP TABLE %s', part.rel);
        RETURN NEXT part.relname::text;
    END LOOP;
    -- Their idempotency keys go too (a CDR replayed after that is rated again).
    DELETE FROM @extschema@.cdr_uuids WHERE received_at < cutoff;
END
$$;
COMMENT ON FUNCTION @extschema@.drop_cdr_partitions(date) IS
    'Retention: detaches and drops every monthly CDR partition whose calls were all received before older_than '
    '(UTC). Returns the names dropped. Dropping a partition is instant and leaves no bloat.';

-- ============================================================================================
-- CDR rating: the never-failing rating trigger (C++: extension/pg/cdr_rating.cpp), CDR dedupe,
-- and the ledger check
-- ============================================================================================
CREATE TABLE @extschema@.cdr_uuids (
    uuid        text PRIMARY KEY,
    received_at timestamptz NOT NULL
);
COMMENT ON TABLE @extschema@.cdr_uuids IS
    'Idempotency keys of stored CDRs (FreeSWITCH uuid, per leg): the rating trigger drops a CDR whose uuid is here '
    '(INSERT 0 0), so spool replays and lost-ack retries never bill twice. Global across CDR partitions; '
    'drop_cdr_partitions removes the keys received before its cutoff. Not dumped: restoring the CDRs rebuilds it.';

CREATE FUNCTION @extschema@.tg_cdr_rate() RETURNS trigger
    AS 'MODULE_PATHNAME', 'balatrix_tg_cdr_rate'
    LANGUAGE C SECURITY DEFINER;
COMMENT ON FUNCTION @extschema@.tg_cdr_rate() IS
    'BEFORE INSERT row trigger of cdr: drops a duplicate uuid (returns NULL), reads the FreeSWITCH fields, finds the '
    'account (accountcode = account number or active extension, else an assigned DID = destination_number), its '
    'subscription and allowance, prices the call with the plan''s published decks and fills the rating columns. '
    'Never raises for anything in the CDR: problems become rating_status invalid / skipped / unknown_account / '
    'no_rate / error with a rating_reason. Money is posted per statement by tg_cdr_post.';

CREATE FUNCTION @extschema@.tg_cdr_post() RETURNS trigger
    AS 'MODULE_PATHNAME', 'balatrix_tg_cdr_post'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.tg_cdr_post() IS
    'AFTER INSERT statement trigger of cdr and each of its partitions: posts the charges the statement''s CDRs '
    'accumulated, one usage ledger row per account (reference cdr, or cdr_batch with the first CDR id), the balance, '
    'the subscription_usage counters and the threshold events (balance.low, balance.critical, credit_limit.exceeded).';

ALTER FUNCTION @extschema@.tg_cdr_rate() OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.tg_cdr_post() OWNER TO balatrix_owner;

CREATE TRIGGER cdr_rate_trg BEFORE INSERT ON @extschema@.cdr
    FOR EACH ROW EXECUTE FUNCTION @extschema@.tg_cdr_rate();
CREATE TRIGGER cdr_post_trg AFTER INSERT ON @extschema@.cdr
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_cdr_post();
CREATE TRIGGER cdr_post_trg AFTER INSERT ON @extschema@.cdr_default
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_cdr_post();

-- The rating trigger's per-backend look-up cache (accountcode / DID -> account, account -> its candidate
-- subscriptions; extension/pg/cdr_rating.cpp), invalidated in every backend when what it holds changes.
-- accounts: only the columns the look-up reads (not balance, which every posted CDR updates).
-- The signal is a relcache invalidation of an empty table that nothing reads: invalidating a table
-- that queries do read (accounts) would also drop every cached plan reading it, and the billing
-- cycle, which updates a subscription per renewal, would replan its statements each time.
CREATE TABLE @extschema@.cdr_lookup_epoch (
    never smallint PRIMARY KEY CONSTRAINT cdr_lookup_epoch_empty CHECK (false)
);
COMMENT ON TABLE @extschema@.cdr_lookup_epoch IS
    'Never holds rows: a relcache invalidation of it (balatrix.tg_cdr_lookup_invalidate) tells every backend to drop '
    'the CDR rating trigger''s cached account and subscription look-ups.';
CREATE FUNCTION @extschema@.tg_cdr_lookup_invalidate() RETURNS trigger
    AS 'MODULE_PATHNAME', 'balatrix_tg_cdr_lookup_invalidate'
    LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.tg_cdr_lookup_invalidate() IS
    'AFTER statement trigger of accounts, sip_extensions, dids, subscriptions and rate_plans: queues a relcache '
    'invalidation of balatrix.cdr_lookup_epoch, which makes every backend drop the CDR rating trigger''s cached account and '
    'subscription look-ups (this backend at its next command, the others when the transaction commits).';

CREATE TRIGGER accounts_cdr_lookup_invalidate_trg
    AFTER INSERT OR UPDATE OF id, customer_id, account_number, currency OR DELETE OR TRUNCATE ON @extschema@.accounts
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_cdr_lookup_invalidate();
CREATE TRIGGER sip_extensions_cdr_lookup_invalidate_trg AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.sip_extensions
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_cdr_lookup_invalidate();
CREATE TRIGGER dids_cdr_lookup_invalidate_trg AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.dids
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_cdr_lookup_invalidate();
CREATE TRIGGER subscriptions_cdr_lookup_invalidate_trg AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.subscriptions
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_cdr_lookup_invalidate();
CREATE TRIGGER rate_plans_cdr_lookup_invalidate_trg AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.rate_plans
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_cdr_lookup_invalidate();

CREATE FUNCTION @extschema@.check_ledger()
    RETURNS TABLE (account_id uuid, account_number text, balance numeric, ledger_sum numeric, last_balance_after numeric)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT a.id, a.account_number, a.balance, coalesce(s.total, 0), l.balance_after
      FROM @extschema@.accounts a
      LEFT JOIN (SELECT g.account_id, sum(g.amount) AS total FROM @extschema@.ledger g GROUP BY g.account_id) s
             ON s.account_id = a.id
      LEFT JOIN LATERAL (SELECT g.balance_after FROM @extschema@.ledger g WHERE g.account_id = a.id
                          ORDER BY g.id DESC LIMIT 1) l ON true
     WHERE a.balance <> coalesce(s.total, 0) OR a.balance <> coalesce(l.balance_after, 0)
     ORDER BY a.account_number
$$;
COMMENT ON FUNCTION @extschema@.check_ledger() IS
    'Every account whose balance differs from the sum of its ledger amounts or from the balance_after of its last '
    'ledger entry (highest id). Empty, always: anything returned is a bug.';

-- balatrix.rate_cdr (C++: extension/pg/cdr_rating.cpp) and balatrix.rerate (PL/pgSQL). The split:
-- C++ answers "how would the trigger rate this stored CDR now, with this many included seconds
-- left" (the same code path as the trigger, writing nothing); PL/pgSQL moves the money, so the
-- money rules of a re-rating (give back, re-consume, one adjustment per account) are readable SQL.
CREATE FUNCTION @extschema@.rate_cdr(cdr @extschema@.cdr, allowance_seconds bigint,
    OUT rating_status text, OUT rating_reason text, OUT leg text, OUT started_at timestamptz,
    OUT answered_at timestamptz, OUT ended_at timestamptz, OUT billable_ms bigint, OUT customer_id uuid,
    OUT account_id uuid, OUT subscription_id uuid, OUT destination_e164 text, OUT rate_id bigint,
    OUT matched_prefix text, OUT rate_per_minute numeric, OUT billed_seconds bigint, OUT included_seconds bigint,
    OUT charge numeric, OUT currency text, OUT overage_seconds bigint, OUT overage_charge numeric)
    RETURNS record
    AS 'MODULE_PATHNAME', 'balatrix_rate_cdr'
    LANGUAGE C STABLE STRICT
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.rate_cdr(@extschema@.cdr, bigint) IS
    'How the CDR trigger would rate this stored CDR now, given allowance_seconds included seconds left in its usage '
    'row: the rating columns the trigger would write (rating_status, rating_reason, leg, times, billable_ms, account, '
    'subscription, destination, rate, billed and included seconds, charge, currency) and the part of the charge that '
    'counts as overage (overage_seconds, overage_charge; the rest is other_charge of the usage row). Same code as the '
    'trigger (stamps read in the current balatrix.cdr_timezone, legs per balatrix.cdr_legs, the published decks in '
    'force now), but it writes nothing: no dedupe, no usage row created or locked, no money. The CDR''s stored rating '
    'columns are ignored. 22023 for a negative allowance_seconds. STRICT.';

CREATE FUNCTION @extschema@.rerate("from" timestamptz, "to" timestamptz, account text DEFAULT NULL)
    RETURNS TABLE (cdrs_examined bigint, cdrs_changed bigint, ledger_entries integer, amount_delta numeric)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
-- Locks, always in this order: the CDRs (id order), then the subscription_usage rows (id order),
-- then the accounts (id order). The rating trigger, per single-row statement, takes one usage row
-- and then one account, and never an existing CDR: the two orders agree, so a rerate and
-- FreeSWITCH's INSERTs cannot deadlock; two rerates with overlapping ranges queue on the CDRs.
-- Usage rows the re-rating newly needs are created first (invisible to others until commit).
--
-- The money per CDR is decided in two steps. A pre-pass rates every locked CDR with no allowance
-- (the allowance changes the price, never the account or the subscription) to learn which accounts
-- and usage rows the new ratings touch, so that everything is locked before anything is read for
-- money. Then the included seconds the old ratings consumed go back to their usage rows and the
-- CDRs are rated again in call order (started_at, id), each against what its usage row has left.
-- Should a rating meet an account or usage row the pre-pass did not lock (something committed in
-- between), the rerate stops with 40001: retry it.
DECLARE
    acct_id uuid;
    cdr_ids bigint[];
    lock_accounts uuid[];
    key_subs uuid[];
    key_ats timestamptz[];
    new_subs uuid[];
    new_ats timestamptz[];
    -- the locked usage rows (parallel arrays): included seconds left as the loop goes, and the
    -- counter deltas of the changed CDRs
    u_ids uuid[];
    u_subs uuid[];
    u_starts timestamptz[];
    u_ends timestamptz[];
    u_left bigint[];
    d_incl bigint[];
    d_ovs bigint[];
    d_ovc numeric[];
    d_oth numeric[];
    d_calls bigint[];
    -- the accounts money moves on (parallel arrays)
    a_ids uuid[] := '{}';
    a_delta numeric[] := '{}';
    a_first bigint[] := '{}';
    a_count bigint[] := '{}';
    a_ledger bigint[] := '{}';
    -- the changed CDRs (parallel arrays)
    ch_ids bigint[] := '{}';
    ch_old_acct uuid[] := '{}';
    ch_old_charge numeric[] := '{}';
    ch_new_acct uuid[] := '{}';
    ch_new_charge numeric[] := '{}';
    c @extschema@.cdr;
    n record;
    uses_allowance boolean;
    k integer;
    j integer;
    old_charge numeric;
    new_charge numeric;
    old_ovs bigint;
    old_ovc numeric;
    lid bigint;
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR "from" >= "to" THEN
        RAISE EXCEPTION 'balatrix.rerate: "from" (%) must be before "to" (%)', "from", "to" USING ERRCODE = '22023';
    END IF;
    IF account IS NOT NULL THEN
        SELECT a.id INTO acct_id FROM @extschema@.accounts a WHERE a.account_number = account;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'balatrix.rerate: no account %', quote_literal(account) USING ERRCODE = 'P0002';
        END IF;
    END IF;

    -- 1. The CDRs of the range, locked. With an account: the CDRs billed to it and the ones whose
    --    accountcode is its number (a CDR stored as unknown_account before the account existed).
    --    'skipped' legs are not billed and stay as they are. (No received_at >= "from" pruning: a
    --    switch clock ahead of ours would hide CDRs.)
    SELECT coalesce(array_agg(s.id ORDER BY s.id), '{}') INTO cdr_ids
      FROM (SELECT x.id FROM @extschema@.cdr x
             WHERE coalesce(x.started_at, x.received_at) >= "from" AND coalesce(x.started_at, x.received_at) < "to"
               AND x.rating_status <> 'skipped'
               AND (acct_id IS NULL OR x.account_id = acct_id OR x.accountcode = account)
             ORDER BY x.id
               FOR UPDATE OF x) s;
    cdrs_examined := cardinality(cdr_ids);
    cdrs_changed := 0;
    ledger_entries := 0;
    amount_delta := 0;
    IF cdrs_examined = 0 THEN
        RETURN NEXT;
        RETURN;
    END IF;

    -- 2. Pre-pass: the accounts and usage keys (subscription, billing start) of the old ratings
    --    and of the new ones.
    SELECT array_agg(x.account_id) FILTER (WHERE x.account_id IS NOT NULL)
               || array_agg(r.account_id) FILTER (WHERE r.account_id IS NOT NULL),
           array_agg(r.subscription_id) FILTER (WHERE r.rating_status = 'rated'),
           array_agg(coalesce(r.answered_at, r.started_at)) FILTER (WHERE r.rating_status = 'rated')
      INTO lock_accounts, new_subs, new_ats
      FROM @extschema@.cdr x CROSS JOIN LATERAL @extschema@.rate_cdr(x, 0) r
     WHERE x.id = ANY (cdr_ids);
    SELECT array_agg(x.subscription_id), array_agg(coalesce(x.answered_at, x.started_at))
      INTO key_subs, key_ats
      FROM @extschema@.cdr x
     WHERE x.id = ANY (cdr_ids) AND x.rating_status = 'rated' AND x.subscription_id IS NOT NULL;
    key_subs := coalesce(key_subs, '{}') || coalesce(new_subs, '{}');
    key_ats := coalesce(key_ats, '{}') || coalesce(new_ats, '{}');

    -- The usage row a new rating needs is created as the trigger would: when the subscription's
    -- current period contains the billing start, with the plan's included minutes for its cycle.
    INSERT INTO @extschema@.subscription_usage (customer_id, subscription_id, period_start, period_end, included_seconds)
    SELECT DISTINCT s.customer_id, s.id, s.current_period_start, s.current_period_end,
           p.included_minutes::bigint * 60 * CASE s.billing_cycle WHEN 'quarterly' THEN 3 WHEN 'annual' THEN 12 ELSE 1 END
      FROM unnest(new_subs, new_ats) k (sub, at)
      JOIN @extschema@.subscriptions s ON s.id = k.sub
      JOIN @extschema@.rate_plans p ON p.id = s.rate_plan_id
     WHERE s.current_period_start <= k.at AND k.at < s.current_period_end
       AND NOT EXISTS (SELECT 1 FROM @extschema@.subscription_usage u
                        WHERE u.subscription_id = k.sub AND u.period_start <= k.at AND k.at < u.period_end)
    ON CONFLICT DO NOTHING;

    -- 3. The usage rows (the trigger's choice per key: the latest period containing it), then the accounts.
    SELECT array_agg(u.id ORDER BY u.id), array_agg(u.subscription_id ORDER BY u.id),
           array_agg(u.period_start ORDER BY u.id), array_agg(u.period_end ORDER BY u.id),
           array_agg(greatest(u.included_seconds - u.included_used_seconds, 0) ORDER BY u.id)
      INTO u_ids, u_subs, u_starts, u_ends, u_left
      FROM (SELECT y.* FROM @extschema@.subscription_usage y
             WHERE y.id IN (SELECT m.id FROM unnest(key_subs, key_ats) k (sub, at)
                             CROSS JOIN LATERAL (SELECT z.id FROM @extschema@.subscription_usage z
                                                  WHERE z.subscription_id = k.sub AND z.period_start <= k.at
                                                    AND k.at < z.period_end
                                                  ORDER BY z.period_start DESC LIMIT 1) m)
             ORDER BY y.id
               FOR UPDATE OF y) u;
    u_ids := coalesce(u_ids, '{}');
    d_incl := array_fill(0::bigint, ARRAY[cardinality(u_ids)]);
    d_ovs := d_incl;
    d_calls := d_incl;
    d_ovc := array_fill(0::numeric, ARRAY[cardinality(u_ids)]);
    d_oth := d_ovc;
    PERFORM 1 FROM @extschema@.accounts a WHERE a.id = ANY (lock_accounts) ORDER BY a.id FOR NO KEY UPDATE;
    lock_accounts := coalesce(lock_accounts, '{}');

    -- 4. Give back what the old ratings consumed.
    FOR c IN SELECT x.* FROM @extschema@.cdr x WHERE x.id = ANY (cdr_ids) AND x.rating_status = 'rated'
                AND x.subscription_id IS NOT NULL AND x.included_seconds > 0
    LOOP
        k := (SELECT i FROM generate_subscripts(u_ids, 1) i
               WHERE u_subs[i] = c.subscription_id AND u_starts[i] <= coalesce(c.answered_at, c.started_at)
                 AND coalesce(c.answered_at, c.started_at) < u_ends[i]
               ORDER BY u_starts[i] DESC LIMIT 1);
        IF k IS NOT NULL THEN
            u_left[k] := u_left[k] + c.included_seconds;
        END IF;
    END LOOP;

    -- 5. Rate again, in call order.
    FOR c IN SELECT x.* FROM @extschema@.cdr x WHERE x.id = ANY (cdr_ids) ORDER BY x.started_at, x.id
    LOOP
        SELECT * INTO n FROM @extschema@.rate_cdr(c, 0);
        k := NULL;
        IF n.rating_status = 'rated' THEN
            k := (SELECT i FROM generate_subscripts(u_ids, 1) i
                   WHERE u_subs[i] = n.subscription_id AND u_starts[i] <= coalesce(n.answered_at, n.started_at)
                     AND coalesce(n.answered_at, n.started_at) < u_ends[i]
                   ORDER BY u_starts[i] DESC LIMIT 1);
            IF k IS NULL AND EXISTS (SELECT 1 FROM @extschema@.subscription_usage z
                                      WHERE z.subscription_id = n.subscription_id
                                        AND z.period_start <= coalesce(n.answered_at, n.started_at)
                                        AND coalesce(n.answered_at, n.started_at) < z.period_end) THEN
                RAISE EXCEPTION 'balatrix.rerate: CDR % now needs a usage row that changed during the rerate', c.id
                    USING ERRCODE = '40001', HINT = 'Run the rerate again.';
            END IF;
            IF k IS NOT NULL AND u_left[k] > 0 THEN
                SELECT * INTO n FROM @extschema@.rate_cdr(c, u_left[k]);
            END IF;
        END IF;
        IF n.account_id IS NOT NULL AND NOT n.account_id = ANY (lock_accounts) THEN
            RAISE EXCEPTION 'balatrix.rerate: CDR % now belongs to an account that changed during the rerate', c.id
                USING ERRCODE = '40001', HINT = 'Run the rerate again.';
        END IF;
        IF k IS NOT NULL AND n.rating_status = 'rated' THEN
            u_left[k] := u_left[k] - n.included_seconds;
        END IF;

        CONTINUE WHEN (c.rating_status, c.rating_reason, c.leg::text, c.started_at, c.answered_at, c.ended_at,
                       c.billable_ms, c.customer_id, c.account_id, c.subscription_id, c.destination_e164, c.rate_id,
                       c.matched_prefix, c.rate_per_minute, c.billed_seconds, c.included_seconds, c.charge,
                       c.currency::text)
                      IS NOT DISTINCT FROM
                      (n.rating_status, n.rating_reason, n.leg, n.started_at, n.answered_at, n.ended_at,
                       n.billable_ms, n.customer_id, n.account_id, n.subscription_id, n.destination_e164, n.rate_id,
                       n.matched_prefix, n.rate_per_minute, n.billed_seconds, n.included_seconds, n.charge,
                       n.currency);

        cdrs_changed := cdrs_changed + 1;
        UPDATE @extschema@.cdr x
           SET rating_status = n.rating_status, rating_reason = n.rating_reason, rated_at = now(), leg = n.leg,
               started_at = n.started_at, answered_at = n.answered_at, ended_at = n.ended_at,
               billable_ms = n.billable_ms, customer_id = n.customer_id, account_id = n.account_id,
               subscription_id = n.subscription_id, destination_e164 = n.destination_e164, rate_id = n.rate_id,
               matched_prefix = n.matched_prefix, rate_per_minute = n.rate_per_minute,
               billed_seconds = n.billed_seconds, included_seconds = n.included_seconds, charge = n.charge,
               currency = n.currency
         WHERE x.id = c.id AND x.received_at = c.received_at;

        -- Money: a CDR's charge is on the ledger when it is 'rated' (the trigger posts every
        -- rated charge; a charge of 0 moves nothing).
        old_charge := CASE WHEN c.rating_status = 'rated' THEN coalesce(c.charge, 0) ELSE 0 END;
        new_charge := CASE WHEN n.rating_status = 'rated' THEN coalesce(n.charge, 0) ELSE 0 END;
        ch_ids := ch_ids || c.id;
        ch_old_acct := ch_old_acct || c.account_id;
        ch_old_charge := ch_old_charge || old_charge;
        ch_new_acct := ch_new_acct || n.account_id;
        ch_new_charge := ch_new_charge || new_charge;
        -- Only a CDR whose money changed (charge or account) is part of an adjustment; one whose
        -- rate id or included seconds alone changed keeps the entry that carried its charge.
        IF old_charge <> new_charge OR (c.account_id IS DISTINCT FROM n.account_id AND (old_charge <> 0 OR new_charge <> 0)) THEN
            FOR j IN 1..2 LOOP
                CONTINUE WHEN (CASE j WHEN 1 THEN c.account_id ELSE n.account_id END) IS NULL
                          OR (j = 2 AND c.account_id IS NOT DISTINCT FROM n.account_id);
                k := array_position(a_ids, CASE j WHEN 1 THEN c.account_id ELSE n.account_id END);
                IF k IS NULL THEN
                    a_ids := a_ids || (CASE j WHEN 1 THEN c.account_id ELSE n.account_id END);
                    k := cardinality(a_ids);
                    a_delta[k] := 0;
                    a_first[k] := c.id;
                    a_count[k] := 0;
                END IF;
                a_delta[k] := a_delta[k]
                              + CASE WHEN c.account_id IS NOT DISTINCT FROM a_ids[k] THEN old_charge ELSE 0 END
                              - CASE WHEN n.account_id IS NOT DISTINCT FROM a_ids[k] THEN new_charge ELSE 0 END;
                a_first[k] := least(a_first[k], c.id);
                a_count[k] := a_count[k] + 1;
            END LOOP;
        END IF;

        -- Usage counters: the old rating comes off the row it was counted in, the new one goes on.
        -- The CDR does not store the old overage split; it is derived from the old rate: all of
        -- the charge and the billed seconds beyond the included ones for a rate against the
        -- allowance, nothing otherwise (exact unless a connect fee, a minimum charge or a time band
        -- split across rates of both kinds was involved).
        IF c.rating_status = 'rated' AND c.subscription_id IS NOT NULL THEN
            k := (SELECT i FROM generate_subscripts(u_ids, 1) i
                   WHERE u_subs[i] = c.subscription_id AND u_starts[i] <= coalesce(c.answered_at, c.started_at)
                     AND coalesce(c.answered_at, c.started_at) < u_ends[i]
                   ORDER BY u_starts[i] DESC LIMIT 1);
            IF k IS NOT NULL THEN
                uses_allowance := coalesce((SELECT r.uses_allowance FROM @extschema@.rates r WHERE r.id = c.rate_id), false);
                old_ovs := CASE WHEN uses_allowance THEN coalesce(c.billed_seconds, 0) - coalesce(c.included_seconds, 0) ELSE 0 END;
                old_ovc := CASE WHEN uses_allowance THEN old_charge ELSE 0 END;
                d_incl[k] := d_incl[k] - coalesce(c.included_seconds, 0);
                d_ovs[k] := d_ovs[k] - old_ovs;
                d_ovc[k] := d_ovc[k] - old_ovc;
                d_oth[k] := d_oth[k] - (old_charge - old_ovc);
                d_calls[k] := d_calls[k] - 1;
            END IF;
        END IF;
        IF n.rating_status = 'rated' THEN
            k := (SELECT i FROM generate_subscripts(u_ids, 1) i
                   WHERE u_subs[i] = n.subscription_id AND u_starts[i] <= coalesce(n.answered_at, n.started_at)
                     AND coalesce(n.answered_at, n.started_at) < u_ends[i]
                   ORDER BY u_starts[i] DESC LIMIT 1);
            IF k IS NOT NULL THEN
                d_incl[k] := d_incl[k] + n.included_seconds;
                d_ovs[k] := d_ovs[k] + n.overage_seconds;
                d_ovc[k] := d_ovc[k] + n.overage_charge;
                d_oth[k] := d_oth[k] + (new_charge - n.overage_charge);
                d_calls[k] := d_calls[k] + 1;
            END IF;
        END IF;
    END LOOP;

    -- 6. The usage counters (rows already locked).
    UPDATE @extschema@.subscription_usage u
       SET included_used_seconds = u.included_used_seconds + d.incl,
           overage_seconds = greatest(u.overage_seconds + d.ovs, 0),
           overage_charge = greatest(u.overage_charge + d.ovc, 0),
           other_charge = greatest(u.other_charge + d.oth, 0),
           call_count = greatest(u.call_count + d.calls, 0)
      FROM unnest(u_ids, d_incl, d_ovs, d_ovc, d_oth, d_calls) d (id, incl, ovs, ovc, oth, calls)
     WHERE u.id = d.id AND (d.incl, d.ovs, d.ovc, d.oth, d.calls) <> (0, 0, 0, 0, 0);

    -- 7. One adjustment per account whose money changed, accounts in id order (ledger ids of an
    --    account follow its balance changes). amount = old charges - new charges: positive credits
    --    the customer back.
    FOR k IN SELECT i FROM generate_subscripts(a_ids, 1) i ORDER BY a_ids[i]
    LOOP
        CONTINUE WHEN a_delta[k] = 0;
        lid := @extschema@.post_ledger_entry(a_ids[k], 'adjustment', a_delta[k], 'cdr_batch', a_first[k]::text,
                                             'Re-rating of ' || a_count[k] || CASE a_count[k] WHEN 1 THEN ' CDR' ELSE ' CDRs' END,
                                             jsonb_build_object('rerate', true, 'from', "from", 'to', "to", 'cdr_count', a_count[k]));
        a_ledger[k] := lid;
        ledger_entries := ledger_entries + 1;
        amount_delta := amount_delta + a_delta[k];
    END LOOP;

    -- 8. Each CDR whose money changed carries the entry that moved it: the new account's when it
    --    is charged now, else the old account's when that refunded it; none when it costs nothing
    --    now and no entry was needed. (An account whose changes cancel out gets no entry: its CDRs
    --    that still cost something keep their ledger_id.)
    UPDATE @extschema@.cdr x
       SET ledger_id = CASE
                         WHEN ch.new_charge > 0 AND a_ledger[array_position(a_ids, ch.new_acct)] IS NOT NULL
                           THEN a_ledger[array_position(a_ids, ch.new_acct)]
                         WHEN ch.old_charge > 0 AND a_ledger[array_position(a_ids, ch.old_acct)] IS NOT NULL
                           THEN a_ledger[array_position(a_ids, ch.old_acct)]
                         WHEN ch.new_charge > 0 THEN x.ledger_id
                       END
      FROM unnest(ch_ids, ch_old_acct, ch_old_charge, ch_new_acct, ch_new_charge)
           ch (id, old_acct, old_charge, new_acct, new_charge)
     WHERE x.id = ch.id AND x.id = ANY (cdr_ids)
       AND (ch.old_charge <> ch.new_charge OR ch.old_acct IS DISTINCT FROM ch.new_acct);
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION @extschema@.rerate(timestamptz, timestamptz, text) IS
    'Re-rates stored CDRs with today''s decks and accounts (after a deck fix, or once an unknown account exists) and '
    'posts the differences. The CDRs whose started_at (received_at when unknown) is in ["from", "to"), except skipped '
    'legs; with account (an account number), only those billed to it or whose accountcode is it. Locks the CDRs, then '
    'their usage rows, then their accounts (each in id order, the trigger''s order: no deadlock with it); gives back '
    'the included seconds the old ratings used and rates again in call order (started_at, id) with rate_cdr, each '
    'CDR against what its usage row has left. Changed CDRs get the new rating columns (rated_at = now()); per account '
    'whose charges changed, one ledger entry (adjustment, amount = old charges - new charges, positive = credit, '
    'reference cdr_batch = the first CDR id, metadata {"rerate", "from", "to", "cdr_count"}) with the balance, and the '
    'changed CDRs point to it; usage counters move by the differences. A second run with nothing changed does nothing. '
    'Stamps are read in the session''s balatrix.cdr_timezone: use the one the CDRs were inserted with. Returns the '
    'CDRs examined and changed, the ledger entries written and their sum. 22023 when "from" >= "to", P0002 for an '
    'unknown account; 40001 when an account or usage row changed under it (retry).';

-- ============================================================================================
-- Default catalogue
-- ============================================================================================
-- Not inserted by CREATE EXTENSION: rows an extension script inserts would be re-inserted by the
-- script on restore and clash with the dumped copies. Operators call this once (make run does).
CREATE FUNCTION @extschema@.install_default_catalogue() RETURNS integer
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    inserted integer := 0;
    n integer;
    plan record;
    deck_id uuid;
BEGIN
    INSERT INTO @extschema@.rate_plans (code, name, description, monthly_price, quarterly_price, annual_price,
                                        included_minutes, overage_rate, included_tfns, included_extensions,
                                        trial_days, display_order, features)
    VALUES ('STARTER', 'Starter', 'For small teams getting a toll-free number.', 349.00, 1047.00, 3350.40,
            100, 1.9900, 1, 2, 7, 1, '{"support": "email"}'),
           ('PROFESSIONAL', 'Professional', 'Most popular: more minutes, numbers and extensions.', 999.00, 2997.00, 9590.40,
            500, 1.6000, 2, 10, 14, 2, '{"support": "priority", "callRecording": true}'),
           ('CALL_CENTER', 'Call Center', 'For contact centres with many agents.', 4999.00, 14997.00, 47990.40,
            1500, 1.4500, 5, 50, 30, 3, '{"support": "dedicated", "callRecording": true, "queueManagement": true}')
    ON CONFLICT (code) DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    inserted := inserted + n;

    INSERT INTO @extschema@.add_ons (code, name, description, monthly_price)
    VALUES ('EXTRA_TFN', 'Extra toll-free number', 'One more toll-free number beyond the plan''s.', 199.00),
           ('EXTRA_EXTENSION', 'Extra extension', 'One more SIP extension beyond the plan''s.', 99.00)
    ON CONFLICT (code) DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    inserted := inserted + n;

    -- A published deck <PLAN_CODE>_DOMESTIC per default plan, made once: when a deck of that name
    -- exists (any version, any status) the plan is left as the operator has it. India (91: every
    -- Indian number normalises to it, toll-free 911800... / 911860... included) at the plan's
    -- overage rate and against the included minutes; a few international destinations at higher
    -- rates, outside the allowance. All 60/60. The prices are rupees: a plan moved to another
    -- currency gets no default deck.
    FOR plan IN
        SELECT p.id, p.code, p.name, p.overage_rate
          FROM @extschema@.rate_plans p
         WHERE p.code IN ('STARTER', 'PROFESSIONAL', 'CALL_CENTER') AND p.currency = 'INR'
           AND NOT EXISTS (SELECT 1 FROM @extschema@.rate_decks d WHERE d.name = p.code || '_DOMESTIC')
         ORDER BY p.display_order, p.code
    LOOP
        INSERT INTO @extschema@.rate_decks (name, version, description, currency)
        VALUES (plan.code || '_DOMESTIC', 1,
                'Default deck of the ' || plan.name || ' plan: India at the plan''s overage rate, international at higher rates.',
                'INR')
        RETURNING id INTO deck_id;
        INSERT INTO @extschema@.rates (rate_deck_id, prefix, description, rate_per_minute, initial_increment,
                                       subsequent_increment, uses_allowance)
        VALUES (deck_id, '91', 'India (all numbers, toll-free 1800 / 1860 included)', plan.overage_rate, 60, 60, true),
               (deck_id, '1', 'USA and Canada', 6.0000, 60, 60, false),
               (deck_id, '44', 'United Kingdom', 6.0000, 60, 60, false),
               (deck_id, '971', 'United Arab Emirates', 9.5000, 60, 60, false),
               (deck_id, '65', 'Singapore', 5.5000, 60, 60, false),
               (deck_id, '61', 'Australia', 8.0000, 60, 60, false),
               (deck_id, '49', 'Germany', 7.0000, 60, 60, false);
        GET DIAGNOSTICS n = ROW_COUNT;
        inserted := inserted + 1 + n;
        PERFORM @extschema@.publish_rate_deck(deck_id);
        PERFORM @extschema@.attach_rate_deck(plan.code, deck_id, 100);
    END LOOP;
    RETURN inserted;
END
$$;
COMMENT ON FUNCTION @extschema@.install_default_catalogue() IS
    'Inserts the default rate plans (Starter, Professional, Call Center) and add-ons (extra toll-free number, '
    'extra extension) where their codes are missing, and for each of those plans without a deck named '
    '<PLAN_CODE>_DOMESTIC a published version 1 of it (India 91 at the plan''s overage rate, USA / Canada, UK, UAE, '
    'Singapore, Australia and Germany at higher rates outside the allowance, all 60/60), attached at priority 100. '
    'Returns the number of rows inserted into rate_plans, add_ons, rate_decks and rates. Existing rows are never changed.';

-- ============================================================================================
-- Invoices: drafts, lines with their tax heads, numbering (consecutive and gapless per series and
-- financial year), issue, void. Issued documents are immutable (CGST Rule 46 / 53).
-- ============================================================================================
-- The life of a document: create_invoice_draft (the supplier, the recipient and the place of
-- supply are frozen on it) -> add_invoice_line (each line's taxable value rounded once to paise and
-- its own tax heads, balatrix.gst_line_tax; the totals are the sums of the lines) -> issue_invoice
-- (the next number of its series for the financial year of the issue date, the due date) -> paid /
-- partially paid / overdue (payments, the dunning sweep) or void_invoice (the number stays used).
--
-- Numbering: invoice_number_series holds the last number of each (series, financial year).
-- issue_invoice takes the next one with an UPDATE of that row, whose lock is held until the
-- issuing transaction ends: concurrent issuers queue on it, so numbers follow commit order with
-- no gap (a rolled-back issue gives its number back with its row version) and no duplicate.
CREATE TABLE @extschema@.invoice_number_series (
    series         text NOT NULL CONSTRAINT invoice_number_series_series CHECK (series ~ '^[A-Z][A-Z0-9]{0,5}$'),
    financial_year text NOT NULL CONSTRAINT invoice_number_series_fy CHECK (financial_year ~ '^[0-9]{4}$'),
    last_number    bigint NOT NULL CONSTRAINT invoice_number_series_last CHECK (last_number > 0),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (series, financial_year)
);
COMMENT ON TABLE @extschema@.invoice_number_series IS
    'The last number issued per document series (INV, CN, DN, ...) and financial year ("2526" = April 2025 - March '
    '2026). Written only by balatrix.issue_invoice, under a row lock held to commit: consecutive, gapless numbers.';
ALTER TABLE @extschema@.invoice_number_series OWNER TO balatrix_owner;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.invoice_number_series', '');
GRANT SELECT ON @extschema@.invoice_number_series TO balatrix_readonly;

-- Settings (extension/pg/module.cpp, read validated through balatrix.billing_settings()):
-- balatrix.supplier_state_code, supplier_gstin, invoice_round_off, invoice_series, invoice_due_days.
CREATE FUNCTION @extschema@.create_invoice_draft(account uuid, document_type text DEFAULT 'tax_invoice',
                                                 subscription uuid DEFAULT NULL, period_start timestamptz DEFAULT NULL,
                                                 period_end timestamptz DEFAULT NULL, original_invoice uuid DEFAULT NULL,
                                                 billing_reason text DEFAULT 'manual')
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    acc record;
    cust record;
    orig record;
    orig_place text;
    orig_exempt boolean;
    settings record := @extschema@.billing_settings();
    new_id uuid;
BEGIN
    IF document_type IS NULL OR document_type NOT IN ('tax_invoice', 'credit_note', 'debit_note') THEN
        RAISE EXCEPTION 'unknown document type %', coalesce(quote_literal(document_type), 'NULL')
            USING ERRCODE = '22023', HINT = 'tax_invoice, credit_note or debit_note';
    END IF;
    SELECT a.id, a.customer_id, a.currency INTO acc FROM @extschema@.accounts a WHERE a.id = account;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account % does not exist', account USING ERRCODE = 'P0002';
    END IF;
    SELECT c.* INTO cust FROM @extschema@.customers c WHERE c.id = acc.customer_id;
    IF (document_type = 'tax_invoice') <> (original_invoice IS NULL) THEN
        RAISE EXCEPTION 'a % %', replace(document_type, '_', ' '),
              CASE WHEN original_invoice IS NULL THEN 'needs the invoice it corrects' ELSE 'does not reference another invoice' END
            USING ERRCODE = '22023';
    END IF;
    IF original_invoice IS NOT NULL THEN
        SELECT i.* INTO orig FROM @extschema@.invoices i WHERE i.id = original_invoice;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'invoice % does not exist', original_invoice USING ERRCODE = 'P0002';
        END IF;
        IF orig.document_type <> 'tax_invoice' OR orig.status IN ('draft', 'void') OR orig.account_id <> account THEN
            RAISE EXCEPTION 'a % must reference an issued tax invoice of the same account', replace(document_type, '_', ' ')
                USING ERRCODE = '22023';
        END IF;
        orig_place := orig.place_of_supply_state_code;
        orig_exempt := orig.tax_exempt;
    END IF;
    IF subscription IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.subscriptions s
                                                 WHERE s.id = subscription AND s.account_id = account) THEN
        RAISE EXCEPTION 'subscription % is not a subscription of account %', subscription, account USING ERRCODE = '22023';
    END IF;
    INSERT INTO @extschema@.invoices (document_type, series, customer_id, account_id, subscription_id, original_invoice_id,
                                     currency, period_start, period_end, supplier_gstin, supplier_state_code,
                                     customer_name, customer_address, customer_gstin, place_of_supply_state_code, tax_exempt,
                                     billing_reason)
    VALUES (document_type,
            CASE document_type WHEN 'credit_note' THEN 'CN' WHEN 'debit_note' THEN 'DN' ELSE settings.invoice_series END,
            acc.customer_id, acc.id, subscription, original_invoice, acc.currency, period_start, period_end,
            settings.supplier_gstin, settings.supplier_state_code,
            coalesce(cust.company_name, cust.name),
            concat_ws(', ', cust.billing_address, cust.billing_city, cust.billing_pincode),
            cust.gstin,
            -- IGST Act s.12(11): the billing address of the recipient on record; a corrective note
            -- keeps its invoice's place of supply.
            coalesce(orig_place, cust.billing_state_code, settings.supplier_state_code),
            coalesce(orig_exempt, cust.tax_exempt),
            coalesce(billing_reason, 'manual'))
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_invoice_draft(uuid, text, uuid, timestamptz, timestamptz, uuid, text) IS
    'Creates a draft document (tax_invoice, credit_note or debit_note; a note references the issued tax invoice it '
    'corrects) for an account, freezing the supplier (settings balatrix.supplier_gstin / supplier_state_code), the '
    'recipient (name, address, GSTIN, tax exemption) and the place of supply (the billing State on record; a note keeps '
    'its invoice''s), and why it exists (billing_reason: period, proration, final, cancellation or manual, the '
    'default). Returns its id. P0002 unknown account / invoice; 22023 for anything else wrong.';

-- PG zone helper: the totals of a draft from its lines (sums of the lines' own amounts), with the
-- optional round-off of the grand total to the rupee.
CREATE FUNCTION @extschema@.refresh_invoice_totals(invoice uuid, extra_metadata jsonb DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    sums record;
    rounding numeric := 0;
BEGIN
    SELECT coalesce(sum(l.taxable_value), 0) AS taxable, coalesce(sum(l.cgst), 0) AS cgst, coalesce(sum(l.sgst), 0) AS sgst,
           coalesce(sum(l.utgst), 0) AS utgst, coalesce(sum(l.igst), 0) AS igst
      INTO sums FROM @extschema@.invoice_lines l WHERE l.invoice_id = invoice;
    IF sums.taxable < 0 OR sums.cgst < 0 OR sums.sgst < 0 OR sums.utgst < 0 OR sums.igst < 0 THEN
        RAISE EXCEPTION 'the lines would make the document negative (taxable value %)', sums.taxable
            USING ERRCODE = '22023', HINT = 'A net credit is a credit note against the invoice.';
    END IF;
    IF (@extschema@.billing_settings()).invoice_round_off THEN
        rounding := round(sums.taxable + sums.cgst + sums.sgst + sums.utgst + sums.igst)
                     - (sums.taxable + sums.cgst + sums.sgst + sums.utgst + sums.igst);
    END IF;
    UPDATE @extschema@.invoices i
       SET taxable_total = sums.taxable, cgst_total = sums.cgst, sgst_total = sums.sgst, utgst_total = sums.utgst,
           igst_total = sums.igst, tax_total = sums.cgst + sums.sgst + sums.utgst + sums.igst,
           round_off = rounding,
           total = sums.taxable + sums.cgst + sums.sgst + sums.utgst + sums.igst + rounding,
           metadata = CASE WHEN extra_metadata IS NULL THEN i.metadata ELSE i.metadata || extra_metadata END
     WHERE i.id = invoice;
END
$$;
COMMENT ON FUNCTION @extschema@.refresh_invoice_totals(uuid, jsonb) IS
    'Internal: sets a draft''s totals to the sums of its lines (and the round-off to the rupee when '
    'balatrix.invoice_round_off is on), merging extra_metadata into its metadata. Called by add_invoice_line, and '
    'once per invoice by the billing functions (which add their lines with insert_invoice_line).';

CREATE FUNCTION @extschema@.insert_invoice_line(invoice uuid, kind text, description text, quantity numeric,
                                             unit_price numeric, sac text DEFAULT NULL,
                                             period_start timestamptz DEFAULT NULL, period_end timestamptz DEFAULT NULL,
                                             reference_type text DEFAULT NULL, reference_id text DEFAULT NULL,
                                             gst_rate numeric DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    inv record;
    line_sac text := coalesce(sac, '998412');
    rate numeric;
    taxable numeric;
    tax record;
    new_id bigint;
BEGIN
    SELECT i.* INTO inv FROM @extschema@.invoices i WHERE i.id = invoice FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invoice % does not exist', invoice USING ERRCODE = 'P0002';
    END IF;
    IF inv.status <> 'draft' THEN
        RAISE EXCEPTION 'invoice % is %: only a draft takes lines', coalesce(inv.invoice_number, invoice::text), inv.status
            USING ERRCODE = '0A000', HINT = 'Correct an issued invoice with a credit or debit note.';
    END IF;
    IF quantity IS NULL OR quantity < 0 OR unit_price IS NULL OR description IS NULL OR btrim(description) = '' THEN
        RAISE EXCEPTION 'a line needs a description, a quantity >= 0 and a unit price' USING ERRCODE = '22023';
    END IF;
    IF unit_price < 0 AND kind NOT IN ('discount', 'proration', 'adjustment') THEN
        RAISE EXCEPTION 'a % line cannot have a negative price', kind USING ERRCODE = '22023',
            HINT = 'Credits are discount, proration or adjustment lines.';
    END IF;
    rate := coalesce(gst_rate, @extschema@.gst_rate_for_sac(line_sac));
    -- The taxable value is rounded once, half away from zero, to paise; each head on it likewise.
    taxable := round(quantity * unit_price, 2);
    SELECT * INTO tax FROM @extschema@.gst_line_tax(taxable, rate, inv.supplier_state_code, inv.place_of_supply_state_code,
                                                    inv.tax_exempt, inv.currency);
    INSERT INTO @extschema@.invoice_lines (invoice_id, customer_id, line_no, kind, description, sac, quantity, unit_price,
                                          period_start, period_end, taxable_value, gst_rate, cgst, sgst, utgst, igst,
                                          reference_type, reference_id)
    VALUES (invoice, inv.customer_id,
            coalesce((SELECT max(l.line_no) FROM @extschema@.invoice_lines l WHERE l.invoice_id = invoice), 0) + 1,
            kind, description, line_sac, quantity, unit_price, period_start, period_end, taxable,
            CASE WHEN tax.regime = 'none' THEN 0 ELSE rate END, tax.cgst, tax.sgst, tax.utgst, tax.igst,
            reference_type, reference_id)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.insert_invoice_line(uuid, text, text, numeric, numeric, text, timestamptz, timestamptz, text, text, numeric) IS
    'Internal: add_invoice_line without the refresh of the draft''s totals (the billing functions add all lines, then '
    'refresh once). Same checks and errors.';

CREATE FUNCTION @extschema@.add_invoice_line(invoice uuid, kind text, description text, quantity numeric,
                                             unit_price numeric, sac text DEFAULT NULL,
                                             period_start timestamptz DEFAULT NULL, period_end timestamptz DEFAULT NULL,
                                             reference_type text DEFAULT NULL, reference_id text DEFAULT NULL,
                                             gst_rate numeric DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    new_id bigint := @extschema@.insert_invoice_line(invoice, kind, description, quantity, unit_price, sac, period_start,
                                                     period_end, reference_type, reference_id, gst_rate);
BEGIN
    PERFORM @extschema@.refresh_invoice_totals(invoice);
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.add_invoice_line(uuid, text, text, numeric, numeric, text, timestamptz, timestamptz, text, text, numeric) IS
    'Adds a line to a draft: taxable value = round(quantity x unit_price, 2), its tax heads by balatrix.gst_line_tax '
    'on the draft''s supplier State, place of supply, exemption and currency, at gst_rate or the SAC''s rate (SAC '
    'default 998412); the draft''s totals become the sums of its lines. Returns the line id. 0A000 on an issued '
    'document; 22023 for a bad line; P0002 unknown invoice.';

CREATE FUNCTION @extschema@.issue_invoice(invoice uuid, issue_date date DEFAULT NULL) RETURNS text
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    inv record;
    day date := coalesce(issue_date, (now() AT TIME ZONE 'Asia/Kolkata')::date);
    fy text;
    next_number bigint;
    number text;
    orig record;
    applied numeric;
    accrued numeric;
BEGIN
    SELECT i.* INTO inv FROM @extschema@.invoices i WHERE i.id = invoice FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invoice % does not exist', invoice USING ERRCODE = 'P0002';
    END IF;
    IF inv.status <> 'draft' THEN
        RAISE EXCEPTION 'invoice % is already %', coalesce(inv.invoice_number, invoice::text), inv.status USING ERRCODE = '55000';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.invoice_lines l WHERE l.invoice_id = invoice) THEN
        RAISE EXCEPTION 'the draft has no lines: nothing to issue' USING ERRCODE = '22023';
    END IF;
    IF inv.total < 0 THEN
        RAISE EXCEPTION 'the draft totals %: a document cannot be negative', inv.total USING ERRCODE = '22023',
            HINT = 'Issue a credit note for a net credit.';
    END IF;
    IF inv.document_type = 'credit_note' THEN
        SELECT o.* INTO orig FROM @extschema@.invoices o WHERE o.id = inv.original_invoice_id FOR UPDATE;
        IF orig.status = 'void' THEN
            RAISE EXCEPTION 'invoice % is void: it takes no credit note', orig.invoice_number USING ERRCODE = '55000';
        END IF;
        -- Bounded by the value supplied (the taxable values: each note's tax is rounded on its own).
        IF inv.taxable_total + (SELECT coalesce(sum(c.taxable_total), 0) FROM @extschema@.invoices c
                                 WHERE c.original_invoice_id = orig.id AND c.document_type = 'credit_note'
                                   AND c.status NOT IN ('draft', 'void')) > orig.taxable_total THEN
            RAISE EXCEPTION 'the credit notes of invoice % would exceed its taxable value %', orig.invoice_number,
                            orig.taxable_total USING ERRCODE = '22023';
        END IF;
    END IF;
    fy := @extschema@.financial_year(day);
    INSERT INTO @extschema@.invoice_number_series AS s (series, financial_year, last_number)
    VALUES (inv.series, fy, 1)
    ON CONFLICT (series, financial_year) DO UPDATE SET last_number = s.last_number + 1, updated_at = now()
    RETURNING s.last_number INTO next_number;
    number := @extschema@.format_invoice_number(inv.series, fy, next_number);
    UPDATE @extschema@.invoices i
       SET status = 'issued', invoice_number = number, financial_year = fy, issue_date = day,
           due_date = CASE WHEN inv.document_type = 'tax_invoice' OR inv.document_type = 'debit_note'
                           THEN day + (@extschema@.billing_settings()).invoice_due_days ELSE day END,
           issued_at = now()
     WHERE i.id = invoice;
    PERFORM @extschema@.emit_event(CASE inv.document_type WHEN 'tax_invoice' THEN 'invoice.issued'
                                        WHEN 'credit_note' THEN 'credit_note.issued' ELSE 'debit_note.issued' END,
                                   inv.customer_id, 'invoice', invoice::text,
                                   jsonb_build_object('invoice_id', invoice, 'invoice_number', number, 'total', inv.total,
                                                      'currency', inv.currency, 'issue_date', day),
                                   'invoice.issued:' || invoice);

    -- The money, in the same transaction. A tax invoice or debit note debits the account by its total;
    -- the calls it bills were debited one by one as they were rated, so that much comes back
    -- (usage_accrued, exact to the 4 decimals of the CDR charges). A credit note credits the account
    -- and settles as much of its invoice as is outstanding (the rest stays on the account as credit).
    IF inv.document_type = 'credit_note' THEN
        applied := least(inv.total, orig.total - orig.amount_paid - orig.amount_credited);
        IF applied > 0 THEN
            UPDATE @extschema@.invoices o
               SET amount_credited = o.amount_credited + applied,
                   status = CASE WHEN o.amount_paid + o.amount_credited + applied >= o.total THEN 'paid' ELSE o.status END,
                   paid_at = CASE WHEN o.amount_paid + o.amount_credited + applied >= o.total THEN coalesce(o.paid_at, now())
                                  ELSE o.paid_at END
             WHERE o.id = orig.id;
        END IF;
        IF inv.total > 0 THEN
            PERFORM @extschema@.post_ledger_entry(inv.account_id, 'credit_note', inv.total, 'invoice', invoice::text,
                                                  'Credit note ' || number || ' against ' || orig.invoice_number,
                                                  jsonb_build_object('applied', applied));
        END IF;
    ELSE
        IF inv.total > 0 THEN
            PERFORM @extschema@.post_ledger_entry(inv.account_id, CASE inv.document_type WHEN 'debit_note' THEN 'debit_note' ELSE 'invoice' END,
                                                  -inv.total, 'invoice', invoice::text,
                                                  CASE inv.document_type WHEN 'debit_note' THEN 'Debit note ' ELSE 'Invoice ' END || number);
        ELSE
            UPDATE @extschema@.invoices i SET status = 'paid', paid_at = now() WHERE i.id = invoice;
        END IF;
        accrued := coalesce((inv.metadata->>'usage_accrued')::numeric, 0);
        IF accrued <> 0 THEN
            PERFORM @extschema@.post_ledger_entry(inv.account_id, 'adjustment', accrued, 'invoice', invoice::text,
                                                  'Calls charged one by one, billed on ' || number,
                                                  jsonb_build_object('usage_rows', inv.metadata->'usage_rows'));
        END IF;
    END IF;
    RETURN number;
END
$$;
COMMENT ON FUNCTION @extschema@.issue_invoice(uuid, date) IS
    'Issues a draft: the next number of its series (balatrix.invoice_series, default INV; CN, DN for notes) in the '
    'financial year of issue_date (default today in IST), as SERIES/FY/NNNNNN, consecutive and gapless under '
    'concurrency; the due date (balatrix.invoice_due_days, default 15); an invoice.issued event; its ledger entries (a '
    'tax invoice or debit note debits the account by its total, crediting back the per-call charges of the usage it '
    'bills; a credit note credits the account and settles its invoice up to what is outstanding). A zero-total invoice '
    'is paid at once. The document is then immutable. Returns the number. 55000 when not a draft or crediting a void '
    'invoice; 22023 without lines, with a negative total, or credit notes beyond the invoice''s taxable value.';

CREATE FUNCTION @extschema@.void_invoice(invoice uuid, reason text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    inv record;
    entry record;
BEGIN
    IF reason IS NULL OR btrim(reason) = '' THEN
        RAISE EXCEPTION 'voiding needs a reason' USING ERRCODE = '22023';
    END IF;
    SELECT i.* INTO inv FROM @extschema@.invoices i WHERE i.id = invoice FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invoice % does not exist', invoice USING ERRCODE = 'P0002';
    END IF;
    IF inv.status NOT IN ('issued', 'overdue') OR inv.amount_paid > 0 OR inv.amount_credited > 0 THEN
        RAISE EXCEPTION 'invoice % is % (paid %, credited %): only an issued, unpaid, uncredited document can be voided',
                        coalesce(inv.invoice_number, invoice::text), inv.status, inv.amount_paid, inv.amount_credited
            USING ERRCODE = '55000', HINT = 'A draft is deleted; a paid invoice is corrected with a credit note.';
    END IF;
    IF inv.document_type = 'credit_note' THEN
        RAISE EXCEPTION 'credit note % has been applied: it cannot be voided', inv.invoice_number
            USING ERRCODE = '55000', HINT = 'Issue a debit note against the invoice instead.';
    END IF;
    UPDATE @extschema@.invoices i SET status = 'void', voided_at = now(), void_reason = reason WHERE i.id = invoice;
    -- Its ledger entries are reversed, and the usage it billed becomes billable again.
    FOR entry IN
        SELECT g.id, g.amount FROM @extschema@.ledger g
         WHERE g.reference_type = 'invoice' AND g.reference_id = invoice::text AND g.entry_type <> 'reversal'
           AND NOT EXISTS (SELECT 1 FROM @extschema@.ledger r WHERE r.reverses_id = g.id)
         ORDER BY g.id
    LOOP
        PERFORM @extschema@.post_ledger_entry(inv.account_id, 'reversal', -entry.amount, 'invoice', invoice::text,
                                              'Void of ' || inv.invoice_number || ': ' || reason, '{}', entry.id);
    END LOOP;
    UPDATE @extschema@.subscription_usage u
       SET billed_overage_charge = u.billed_overage_charge - (r.value->>0)::numeric,
           billed_other_charge = u.billed_other_charge - (r.value->>1)::numeric
      FROM jsonb_each(coalesce(inv.metadata->'usage_rows', '{}')) r
     WHERE u.id = r.key::uuid;
    PERFORM @extschema@.emit_event('invoice.voided', inv.customer_id, 'invoice', invoice::text,
                                   jsonb_build_object('invoice_id', invoice, 'invoice_number', inv.invoice_number,
                                                      'reason', reason),
                                   'invoice.voided:' || invoice);
END
$$;
COMMENT ON FUNCTION @extschema@.void_invoice(uuid, text) IS
    'Voids an issued, unpaid, uncredited invoice or debit note (its number stays used: the series keeps no gap): its '
    'ledger entries are reversed, the usage it billed becomes billable again, an invoice.voided event. 55000 otherwise '
    '(a credit note is never voided); 22023 without a reason.';

-- Issued documents are immutable: after issue only the settlement columns move (status along
-- issued -> partially_paid / paid / overdue / void, amounts paid and credited, their times).
CREATE FUNCTION @extschema@.tg_invoice_immutable() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    settlement constant text[] := ARRAY['status', 'amount_paid', 'amount_credited', 'paid_at', 'voided_at', 'void_reason',
                                        'updated_at', 'metadata'];
    parent_status text;
BEGIN
    IF TG_TABLE_NAME = 'invoices' THEN
        IF OLD.status = 'draft' THEN
            RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END IF;
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'invoice % is issued: it cannot be deleted', OLD.invoice_number USING ERRCODE = '0A000',
                HINT = 'Void it, or correct it with a credit note.';
        END IF;
        IF (to_jsonb(OLD) - settlement) IS DISTINCT FROM (to_jsonb(NEW) - settlement) THEN
            RAISE EXCEPTION 'invoice % is issued: only its settlement (status, amounts paid and credited) may change',
                            OLD.invoice_number USING ERRCODE = '0A000', HINT = 'Correct it with a credit or debit note.';
        END IF;
        IF NEW.status = 'draft' OR (OLD.status = 'void' AND NEW.status <> 'void') THEN
            RAISE EXCEPTION 'invoice % cannot go from % to %', OLD.invoice_number, OLD.status, NEW.status USING ERRCODE = '0A000';
        END IF;
        RETURN NEW;
    END IF;
    -- invoice_lines: only a draft's lines change (a cascade from a deleted draft finds no parent).
    SELECT i.status INTO parent_status FROM @extschema@.invoices i
     WHERE i.id = CASE WHEN TG_OP = 'INSERT' THEN NEW.invoice_id ELSE OLD.invoice_id END;
    IF parent_status IS NOT NULL AND parent_status <> 'draft' THEN
        RAISE EXCEPTION 'the lines of an issued document cannot change' USING ERRCODE = '0A000',
            HINT = 'Correct it with a credit or debit note.';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.invoice_id <> OLD.invoice_id THEN
        RAISE EXCEPTION 'a line cannot move to another document' USING ERRCODE = '0A000';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
COMMENT ON FUNCTION @extschema@.tg_invoice_immutable() IS
    'BEFORE UPDATE / DELETE on invoices and INSERT / UPDATE / DELETE on invoice_lines: an issued document and its '
    'lines never change except for the settlement columns (status, amounts paid and credited, their times); 0A000.';
CREATE TRIGGER invoices_immutable_trg BEFORE UPDATE OR DELETE ON @extschema@.invoices
    FOR EACH ROW EXECUTE FUNCTION @extschema@.tg_invoice_immutable();
CREATE TRIGGER invoice_lines_immutable_trg BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.invoice_lines
    FOR EACH ROW EXECUTE FUNCTION @extschema@.tg_invoice_immutable();

REVOKE ALL ON FUNCTION
    @extschema@.create_invoice_draft(uuid, text, uuid, timestamptz, timestamptz, uuid, text),
    @extschema@.refresh_invoice_totals(uuid, jsonb),
    @extschema@.add_invoice_line(uuid, text, text, numeric, numeric, text, timestamptz, timestamptz, text, text, numeric),
    @extschema@.insert_invoice_line(uuid, text, text, numeric, numeric, text, timestamptz, timestamptz, text, text, numeric),
    @extschema@.issue_invoice(uuid, date),
    @extschema@.void_invoice(uuid, text),
    @extschema@.tg_invoice_immutable()
    FROM PUBLIC;

-- ============================================================================================
-- Subscriptions and billing cycles: the lifecycle, period invoices, payments, dunning, job runs
-- ============================================================================================
-- Dates. Billing periods are whole days of Indian Standard Time: a period is stored as the
-- timestamptz of IST midnights [start, end), so "the period ending 2026-02-28" ends at
-- 2026-02-28 00:00 IST and the calls of that day belong to the next one. Functions take dates
-- (on_date, as_of) so that tests and operators fix the clock; a NULL date is today in IST.
--
-- Money. An issued tax invoice debits the account by its total and a payment credits it (ledger
-- entries invoice / payment), so the balance of a postpaid account is minus what the customer
-- owes. Calls are already debited one by one when their CDRs are rated (usage entries); the period
-- invoice that bills them (in arrears, as the rounded sum of their charges) credits back exactly
-- what those calls debited (an adjustment entry), so each call is owed once, at its invoiced
-- amount. Prepaid accounts pay their calls from the balance as they go (the top-up is the taxable
-- supply): their invoices carry the recurring charges only.
--
-- Usage billed. subscription_usage keeps, per period, the charges billed so far
-- (billed_overage_charge, billed_other_charge). A period invoice bills, for every usage row of the
-- subscription that closed before it, the rounded charges minus the rounded amounts already
-- billed, so a CDR that arrives after its period was invoiced (or a re-rating) is billed on the
-- next invoice, and the lines of all invoices add up to the rounded sum of the calls' charges.

CREATE TABLE @extschema@.job_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job         text NOT NULL CONSTRAINT job_runs_job_format CHECK (job ~ '^[a-z][a-z0-9_]*$'),
    as_of       date,
    started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    status      text NOT NULL DEFAULT 'running' CONSTRAINT job_runs_status CHECK (status IN ('running', 'succeeded', 'failed')),
    counts      jsonb NOT NULL DEFAULT '{}',
    duration_ms numeric(12,3),
    error       text,
    CONSTRAINT job_runs_finished CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX job_runs_job_idx ON @extschema@.job_runs (job, started_at);
COMMENT ON TABLE @extschema@.job_runs IS
    'One row per run of a scheduled job (billing_cycle, dunning, health_check, retention): when, for which date, '
    'what it did (counts), how long it took, and its error if it failed.';

-- PG zone helper: one money movement. The account row is locked (by the UPDATE) before the ledger
-- id is drawn, so the ledger ids of an account follow the order of its balance changes.
CREATE FUNCTION @extschema@.post_ledger_entry(account uuid, entry_type text, amount numeric, reference_type text,
                                              reference_id text, description text, metadata jsonb DEFAULT '{}',
                                              reverses bigint DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    cust uuid;
    cur text;
    bal numeric;
    new_id bigint;
BEGIN
    UPDATE @extschema@.accounts a SET balance = a.balance + amount WHERE a.id = account
    RETURNING a.customer_id, a.currency, a.balance INTO cust, cur, bal;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account % does not exist', account USING ERRCODE = 'P0002';
    END IF;
    INSERT INTO @extschema@.ledger (customer_id, account_id, entry_type, amount, currency, balance_after, reference_type,
                                    reference_id, reverses_id, description, metadata)
    VALUES (cust, account, entry_type, amount, cur, bal, reference_type, reference_id, reverses, description,
            coalesce(metadata, '{}'))
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.post_ledger_entry(uuid, text, numeric, text, text, text, jsonb, bigint) IS
    'Internal: moves amount (signed, positive credits the customer) on an account and appends its ledger entry, in '
    'the caller''s transaction. Returns the ledger id. P0002 unknown account.';

-- PG zone helper: an outbox event, at most once per dedupe key.
CREATE FUNCTION @extschema@.emit_event(kind text, customer uuid, entity_type text, entity_id text, body jsonb,
                                       dedupe text)
    RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    n integer;
BEGIN
    INSERT INTO @extschema@.event_outbox (event_type, customer_id, aggregate_type, aggregate_id, payload, dedupe_key)
    VALUES (kind, customer, entity_type, entity_id, body, dedupe)
    ON CONFLICT (dedupe_key) DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END
$$;
COMMENT ON FUNCTION @extschema@.emit_event(text, uuid, text, text, jsonb, text) IS
    'Internal: writes an event to event_outbox unless one with the same dedupe_key exists; true when written.';

-- PG zone helper: builds and issues one invoice of a subscription. Lines, in order:
--   recurring (when recurring is true), in advance for [period_start, period_end): the plan at the
--     subscription's locked price, its discount, the add-ons held at the period start, and the rent
--     of the DIDs held at the period start beyond those the plan and its EXTRA_TFN add-ons include;
--   in arrears for the closed period [closed_start, closed_end), service up to service_end: the
--     prorated rent of DIDs assigned during it (beyond the included ones), and, for postpaid
--     accounts, the usage not yet billed of every usage row that started before service_end.
-- Returns the issued invoice, or NULL when there was nothing to bill (the draft is dropped).
CREATE FUNCTION @extschema@.bill_subscription(subscription uuid, period_start timestamptz, period_end timestamptz,
                                              recurring boolean, closed_start timestamptz, closed_end timestamptz,
                                              service_end timestamptz, billing_reason text, issue_date date)
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    s record;
    p record;
    acc record;
    a record;
    d record;
    u record;
    inv uuid;
    ps date := (period_start AT TIME ZONE 'Asia/Kolkata')::date;
    pe date := (period_end AT TIME ZONE 'Asia/Kolkata')::date;
    label text;
    amount numeric;
    overage numeric;
    other numeric;
    included_dids bigint;
    accrued numeric := 0;
    usage_rows jsonb := '{}';
    closed_days integer;
BEGIN
    SELECT x.* INTO s FROM @extschema@.subscriptions x WHERE x.id = subscription;
    SELECT x.* INTO p FROM @extschema@.rate_plans x WHERE x.id = s.rate_plan_id;
    SELECT x.* INTO acc FROM @extschema@.accounts x WHERE x.id = s.account_id;
    inv := @extschema@.create_invoice_draft(s.account_id, 'tax_invoice', s.id, period_start, period_end, NULL,
                                            bill_subscription.billing_reason);
    label := pg_catalog.to_char(ps, 'DD Mon YYYY') || ' to ' || pg_catalog.to_char(pe - 1, 'DD Mon YYYY');

    IF recurring THEN
        PERFORM @extschema@.insert_invoice_line(inv, 'plan', p.name || ' plan, ' || s.billing_cycle || ', ' || label, 1,
                                             s.recurring_price, p.sac, period_start, period_end, 'subscription', s.id::text);
        amount := least(s.recurring_price,
                        pg_catalog.round(s.recurring_price * s.discount_percent / 100, 2) + s.discount_amount);
        IF amount > 0 THEN
            PERFORM @extschema@.insert_invoice_line(inv, 'discount',
                                                 'Discount' || coalesce(' ' || s.coupon_code, '') || ' on the ' || p.name || ' plan',
                                                 1, -amount, p.sac, period_start, period_end, 'subscription', s.id::text);
        END IF;
        FOR a IN
            SELECT sa.quantity, sa.unit_price, ao.name, ao.sac, sa.id
              FROM @extschema@.subscription_add_ons sa JOIN @extschema@.add_ons ao ON ao.id = sa.add_on_id
             WHERE sa.subscription_id = s.id AND sa.started_at <= period_start
               AND (sa.ended_at IS NULL OR sa.ended_at > period_start)
             ORDER BY ao.code, sa.id
        LOOP
            PERFORM @extschema@.insert_invoice_line(inv, 'add_on', a.name || ', ' || s.billing_cycle || ', ' || label, a.quantity,
                                                 @extschema@.recurring_price(a.unit_price, s.billing_cycle), a.sac,
                                                 period_start, period_end, 'subscription_add_on', a.id::text);
        END LOOP;
    END IF;

    -- DIDs: the plan's included toll-free numbers plus the EXTRA_TFN add-ons held cost nothing more;
    -- further numbers (the earliest assigned are the included ones) pay their rent.
    included_dids := p.included_tfns + coalesce((
        SELECT sum(sa.quantity) FROM @extschema@.subscription_add_ons sa JOIN @extschema@.add_ons ao ON ao.id = sa.add_on_id
         WHERE sa.subscription_id = s.id AND ao.code = 'EXTRA_TFN' AND sa.started_at <= coalesce(period_start, service_end)
           AND (sa.ended_at IS NULL OR sa.ended_at > coalesce(period_start, service_end))), 0);
    IF recurring THEN
        FOR d IN
            SELECT x.* FROM (
                SELECT da.id, da.monthly_rent, di.number,
                       row_number() OVER (ORDER BY da.assigned_at, da.id) AS rank
                  FROM @extschema@.did_assignments da JOIN @extschema@.dids di ON di.id = da.did_id
                 WHERE da.subscription_id = s.id AND da.assigned_at <= period_start
                   AND (da.released_at IS NULL OR da.released_at > period_start)) x
             WHERE x.rank > included_dids
             ORDER BY x.rank
        LOOP
            PERFORM @extschema@.insert_invoice_line(inv, 'did_rent', 'Number ' || d.number || ', ' || s.billing_cycle || ', ' || label, 1,
                                                 @extschema@.recurring_price(d.monthly_rent, s.billing_cycle), NULL,
                                                 period_start, period_end, 'did_assignment', d.id::text);
        END LOOP;
    END IF;
    IF closed_start IS NOT NULL THEN
        closed_days := (closed_end AT TIME ZONE 'Asia/Kolkata')::date - (closed_start AT TIME ZONE 'Asia/Kolkata')::date;
        FOR d IN
            SELECT da.id, da.monthly_rent, di.number, da.assigned_at, least(coalesce(da.released_at, service_end), service_end) AS held_until,
                   (SELECT count(*) FROM @extschema@.did_assignments o
                     WHERE o.subscription_id = s.id AND (o.assigned_at, o.id) <= (da.assigned_at, da.id)
                       AND (o.released_at IS NULL OR o.released_at > da.assigned_at)) AS rank
              FROM @extschema@.did_assignments da JOIN @extschema@.dids di ON di.id = da.did_id
             WHERE da.subscription_id = s.id AND da.assigned_at > closed_start AND da.assigned_at < service_end
             ORDER BY da.assigned_at, da.id
        LOOP
            CONTINUE WHEN d.rank <= included_dids;
            amount := @extschema@.prorate(@extschema@.recurring_price(d.monthly_rent, s.billing_cycle),
                                          greatest((d.held_until AT TIME ZONE 'Asia/Kolkata')::date
                                                   - (d.assigned_at AT TIME ZONE 'Asia/Kolkata')::date, 1),
                                          closed_days);
            PERFORM @extschema@.insert_invoice_line(inv, 'did_rent',
                                                 'Number ' || d.number || ' from ' || pg_catalog.to_char(d.assigned_at AT TIME ZONE 'Asia/Kolkata', 'DD Mon YYYY')
                                                 || ' to ' || pg_catalog.to_char((d.held_until AT TIME ZONE 'Asia/Kolkata')::date - 1, 'DD Mon YYYY')
                                                 || ' (prorated)', 1, amount, NULL, d.assigned_at, d.held_until,
                                                 'did_assignment', d.id::text);
        END LOOP;
    END IF;

    -- Usage in arrears (postpaid). Rows locked in id order, like the rating trigger and rerate.
    IF acc.account_type = 'postpaid' AND service_end IS NOT NULL THEN
        FOR u IN
            SELECT x.* FROM @extschema@.subscription_usage x
             WHERE x.subscription_id = s.id AND x.period_start < service_end
               AND (x.overage_charge <> x.billed_overage_charge OR x.other_charge <> x.billed_other_charge)
             ORDER BY x.id
               FOR UPDATE
        LOOP
            overage := pg_catalog.round(u.overage_charge, 2) - pg_catalog.round(u.billed_overage_charge, 2);
            other := pg_catalog.round(u.other_charge, 2) - pg_catalog.round(u.billed_other_charge, 2);
            -- A change smaller than half a paisa waits for the next invoice (nothing to print yet).
            CONTINUE WHEN overage = 0 AND other = 0;
            label := pg_catalog.to_char(u.period_start AT TIME ZONE 'Asia/Kolkata', 'DD Mon YYYY') || ' to '
                     || pg_catalog.to_char((u.period_end AT TIME ZONE 'Asia/Kolkata')::date - 1, 'DD Mon YYYY');
            IF overage <> 0 THEN
                PERFORM @extschema@.insert_invoice_line(inv, CASE WHEN overage > 0 THEN 'overage' ELSE 'adjustment' END,
                    CASE WHEN u.billed_overage_charge = 0
                         THEN 'Calls beyond the ' || (u.included_seconds / 60) || ' included minutes ('
                              || pg_catalog.ceil(u.overage_seconds / 60.0) || ' min), ' || label
                         ELSE 'Change to the calls beyond the included minutes, ' || label END,
                    1, overage, p.sac, u.period_start, u.period_end, 'subscription_usage', u.id::text);
            END IF;
            IF other <> 0 THEN
                PERFORM @extschema@.insert_invoice_line(inv, CASE WHEN other > 0 THEN 'usage' ELSE 'adjustment' END,
                    CASE WHEN u.billed_other_charge = 0 THEN 'Calls outside the plan''s minutes, ' || label
                         ELSE 'Change to the calls outside the plan''s minutes, ' || label END,
                    1, other, p.sac, u.period_start, u.period_end, 'subscription_usage', u.id::text);
            END IF;
            accrued := accrued + (u.overage_charge - u.billed_overage_charge) + (u.other_charge - u.billed_other_charge);
            usage_rows := usage_rows || pg_catalog.jsonb_build_object(u.id::text, pg_catalog.jsonb_build_array(
                              u.overage_charge - u.billed_overage_charge, u.other_charge - u.billed_other_charge));
            UPDATE @extschema@.subscription_usage x
               SET billed_overage_charge = x.overage_charge, billed_other_charge = x.other_charge
             WHERE x.id = u.id;
        END LOOP;
    END IF;

    IF NOT EXISTS (SELECT 1 FROM @extschema@.invoice_lines l WHERE l.invoice_id = inv) THEN
        DELETE FROM @extschema@.invoices i WHERE i.id = inv;
        RETURN NULL;
    END IF;
    -- The totals once, with the usage the invoice takes over from the per-call ledger entries.
    PERFORM @extschema@.refresh_invoice_totals(inv, CASE WHEN accrued <> 0 THEN
        pg_catalog.jsonb_build_object('usage_accrued', accrued, 'usage_rows', usage_rows) END);
    PERFORM @extschema@.issue_invoice(inv, issue_date);
    RETURN inv;
END
$$;
COMMENT ON FUNCTION @extschema@.bill_subscription(uuid, timestamptz, timestamptz, boolean, timestamptz, timestamptz, timestamptz, text, date) IS
    'Internal (the lifecycle functions and the billing cycle): builds and issues one invoice of a subscription: '
    'recurring charges in advance for [period_start, period_end) when recurring, DID rent of numbers assigned during the '
    'closed period [closed_start, closed_end) prorated to service_end, and for postpaid accounts the usage not yet '
    'billed of the periods started before service_end. Returns the invoice, or NULL when there was nothing to bill.';

-- PG zone helper: the lifecycle functions' common preamble.
CREATE FUNCTION @extschema@.lock_subscription(subscription uuid) RETURNS @extschema@.subscriptions
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    s @extschema@.subscriptions;
BEGIN
    IF subscription IS NULL THEN
        RAISE EXCEPTION 'subscription must not be NULL' USING ERRCODE = '22023';
    END IF;
    SELECT x.* INTO s FROM @extschema@.subscriptions x WHERE x.id = subscription FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'subscription % does not exist', subscription USING ERRCODE = 'P0002';
    END IF;
    RETURN s;
END
$$;
COMMENT ON FUNCTION @extschema@.lock_subscription(uuid) IS
    'Internal: the subscription row, locked FOR UPDATE. 22023 NULL; P0002 unknown.';

-- PG zone helper: credits amount (taxable value) of a subscription's current period with credit
-- notes, newest charge first: the period's proration invoices (upgrades), then its period invoice,
-- each note up to what is left uncredited of its invoice. Returns the first note (NULL: none).
CREATE FUNCTION @extschema@.credit_subscription_period(subscription uuid, amount numeric, from_ts timestamptz, day date,
                                                       billing_reason text, description text, sac text)
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    s record;
    inv record;
    portion numeric;
    left_ numeric := amount;
    note uuid;
    first_note uuid;
BEGIN
    SELECT x.* INTO s FROM @extschema@.subscriptions x WHERE x.id = subscription;
    FOR inv IN
        SELECT i.id, i.taxable_total - coalesce((SELECT sum(c.taxable_total) FROM @extschema@.invoices c
                                                  WHERE c.original_invoice_id = i.id AND c.document_type = 'credit_note'
                                                    AND c.status NOT IN ('draft', 'void')), 0) AS creditable
          FROM @extschema@.invoices i
         WHERE i.subscription_id = s.id AND i.document_type = 'tax_invoice' AND i.billing_reason IN ('period', 'proration')
           AND i.status NOT IN ('draft', 'void') AND i.period_start >= s.current_period_start
           AND i.period_end = s.current_period_end
         ORDER BY i.issued_at DESC, i.id
           FOR UPDATE OF i
    LOOP
        EXIT WHEN left_ <= 0;
        portion := least(left_, inv.creditable);
        CONTINUE WHEN portion <= 0;
        note := @extschema@.create_invoice_draft(s.account_id, 'credit_note', s.id, from_ts, s.current_period_end, inv.id,
                                                 credit_subscription_period.billing_reason);
        PERFORM @extschema@.add_invoice_line(note, 'proration', description, 1, portion, sac, from_ts, s.current_period_end,
                                             'subscription', s.id::text);
        PERFORM @extschema@.issue_invoice(note, day);
        first_note := coalesce(first_note, note);
        left_ := left_ - portion;
    END LOOP;
    RETURN first_note;
END
$$;
COMMENT ON FUNCTION @extschema@.credit_subscription_period(uuid, numeric, timestamptz, date, text, text, text) IS
    'Internal (immediate downgrades and cancellations): credit notes for amount of taxable value against the current '
    'period''s invoices of a subscription (its upgrade invoices first, then the period invoice), each within what is '
    'left uncredited of its invoice. Returns the first note, or NULL when nothing could be credited.';

CREATE FUNCTION @extschema@.create_subscription(account uuid, plan text, billing_cycle text DEFAULT 'monthly',
                                                start_date date DEFAULT NULL, trial boolean DEFAULT true,
                                                addons jsonb DEFAULT '{}')
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    acc record;
    p record;
    q jsonb;
    live record;
    day date := coalesce(start_date, (now() AT TIME ZONE 'Asia/Kolkata')::date);
    starts timestamptz;
    trial_end date;
    new_id uuid;
    e record;
BEGIN
    IF account IS NULL THEN
        RAISE EXCEPTION 'account must not be NULL' USING ERRCODE = '22023';
    END IF;
    -- The account row lock serialises subscription creation per account.
    SELECT a.* INTO acc FROM @extschema@.accounts a WHERE a.id = account FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account % does not exist', account USING ERRCODE = 'P0002';
    END IF;
    IF acc.status <> 'active' THEN
        RAISE EXCEPTION 'account % is %', acc.account_number, acc.status USING ERRCODE = '55000';
    END IF;
    -- Validates plan, cycle, add-ons and the customer's place of supply (22023 / P0002).
    q := @extschema@.quote_subscription(plan, billing_cycle, addons, acc.customer_id);
    SELECT rp.* INTO p FROM @extschema@.rate_plans rp WHERE rp.code = plan;
    IF p.currency <> acc.currency THEN
        RAISE EXCEPTION 'plan % is priced in %, account % holds %', plan, p.currency, acc.account_number, acc.currency
            USING ERRCODE = '22023';
    END IF;
    -- One live subscription per account: the rating trigger charges an account's calls to it.
    SELECT s.subscription_number, s.status INTO live FROM @extschema@.subscriptions s
     WHERE s.account_id = account AND s.status IN ('pending', 'trial', 'active', 'suspended') LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'account % already has subscription % (%)', acc.account_number, live.subscription_number, live.status
            USING ERRCODE = '55000', HINT = 'Change its plan, or cancel it first.';
    END IF;
    starts := day::timestamp AT TIME ZONE 'Asia/Kolkata';
    IF trial AND p.trial_days > 0 THEN
        trial_end := day + p.trial_days;
        INSERT INTO @extschema@.subscriptions (customer_id, account_id, rate_plan_id, status, billing_cycle, currency,
                                               recurring_price, anchor_day, started_at, trial_ends_at,
                                               current_period_start, current_period_end)
        VALUES (acc.customer_id, account, p.id, 'trial', billing_cycle, p.currency,
                @extschema@.recurring_price(p.monthly_price, billing_cycle), extract(day FROM trial_end), starts,
                trial_end::timestamp AT TIME ZONE 'Asia/Kolkata', starts, trial_end::timestamp AT TIME ZONE 'Asia/Kolkata')
        RETURNING id INTO new_id;
    ELSE
        INSERT INTO @extschema@.subscriptions (customer_id, account_id, rate_plan_id, status, billing_cycle, currency,
                                               recurring_price, anchor_day, started_at)
        VALUES (acc.customer_id, account, p.id, 'pending', billing_cycle, p.currency,
                @extschema@.recurring_price(p.monthly_price, billing_cycle), extract(day FROM day), starts)
        RETURNING id INTO new_id;
    END IF;
    FOR e IN
        SELECT ao.id, ao.monthly_price, x.value::numeric::integer AS quantity
          FROM pg_catalog.jsonb_each(coalesce(addons, '{}')) x JOIN @extschema@.add_ons ao ON ao.code = x.key
         WHERE x.value::numeric > 0
         ORDER BY ao.code
    LOOP
        INSERT INTO @extschema@.subscription_add_ons (customer_id, subscription_id, add_on_id, quantity, unit_price, started_at)
        VALUES (acc.customer_id, new_id, e.id, e.quantity, e.monthly_price, starts);
    END LOOP;
    PERFORM @extschema@.emit_event('subscription.created', acc.customer_id, 'subscription', new_id::text,
                                   pg_catalog.jsonb_build_object('subscription_id', new_id, 'plan', plan,
                                       'billing_cycle', billing_cycle, 'trial_ends_on', trial_end, 'quote', q),
                                   'subscription.created:' || new_id);
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_subscription(uuid, text, text, date, boolean, jsonb) IS
    'Subscribes an account to a plan (code) for a billing cycle (monthly, quarterly, annual) from start_date (default '
    'today in IST), with add-ons ({"EXTRA_TFN": 1}). With trial and a plan that has trial days: status trial, the trial '
    'is the first period [start, start + trial_days) and costs nothing; the billing cycle converts it. Otherwise status '
    'pending until activate_subscription. The price of the cycle is locked on the subscription. One live subscription '
    'per account. Returns its id; a subscription.created event. 22023 bad plan / cycle / add-ons; P0002 unknown '
    'account or plan; 55000 inactive account or a live subscription already.';

-- PG zone helper: starts the first paid period of a pending or trial subscription on day.
CREATE FUNCTION @extschema@.start_paid_period(subscription uuid, day date, reason text) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    s @extschema@.subscriptions := @extschema@.lock_subscription(subscription);
    months integer := CASE s.billing_cycle WHEN 'quarterly' THEN 3 WHEN 'annual' THEN 12 ELSE 1 END;
    ends date := @extschema@.add_months_clamped(day, months, extract(day FROM day)::integer);
    starts timestamptz := day::timestamp AT TIME ZONE 'Asia/Kolkata';
    inv uuid;
BEGIN
    -- A usage row running past the new start (a trial ended early) ends there: the paid period's
    -- calls count against its own allowance.
    UPDATE @extschema@.subscription_usage u SET period_end = starts
     WHERE u.subscription_id = s.id AND u.period_start < starts AND u.period_end > starts;
    UPDATE @extschema@.subscriptions x
       SET status = 'active', anchor_day = extract(day FROM day), current_period_start = starts,
           current_period_end = ends::timestamp AT TIME ZONE 'Asia/Kolkata',
           trial_ends_at = CASE WHEN s.status = 'trial' THEN least(s.trial_ends_at, starts) ELSE x.trial_ends_at END
     WHERE x.id = s.id;
    -- In advance for the new period; in arrears what the previous one (a trial, or a period that
    -- ended while suspended) left unbilled: usage beyond the allowance, DIDs added during it.
    inv := @extschema@.bill_subscription(s.id, starts, ends::timestamp AT TIME ZONE 'Asia/Kolkata', true,
                                         s.current_period_start, s.current_period_end,
                                         least(s.current_period_end, starts), 'period', day);
    PERFORM @extschema@.emit_event('subscription.activated', s.customer_id, 'subscription', s.id::text,
                                   pg_catalog.jsonb_build_object('subscription_id', s.id, 'from', s.status, 'reason', reason,
                                       'period_start', day, 'period_end', ends, 'invoice_id', inv),
                                   'subscription.activated:' || s.id);
    RETURN inv;
END
$$;
COMMENT ON FUNCTION @extschema@.start_paid_period(uuid, date, text) IS
    'Internal: makes a pending or trial subscription active with its first paid period [day, day + cycle) anchored on '
    'day, and issues that period''s invoice. Returns the invoice.';

CREATE FUNCTION @extschema@.activate_subscription(subscription uuid, on_date date DEFAULT NULL) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    s @extschema@.subscriptions := @extschema@.lock_subscription(subscription);
    day date := coalesce(on_date, (now() AT TIME ZONE 'Asia/Kolkata')::date);
BEGIN
    IF s.status NOT IN ('pending', 'trial') THEN
        RAISE EXCEPTION 'subscription % is %: only a pending or trial subscription can be activated', s.subscription_number, s.status
            USING ERRCODE = '55000',
                  HINT = CASE WHEN s.status = 'suspended' THEN 'Use balatrix.resume_subscription.'
                              ELSE 'A cancelled or expired subscription stays so: create a new one.' END;
    END IF;
    IF day < (s.started_at AT TIME ZONE 'Asia/Kolkata')::date THEN
        RAISE EXCEPTION 'subscription % starts on %: it cannot be activated before', s.subscription_number,
                        (s.started_at AT TIME ZONE 'Asia/Kolkata')::date USING ERRCODE = '22023';
    END IF;
    RETURN @extschema@.start_paid_period(s.id, day, CASE s.status WHEN 'trial' THEN 'trial_converted_early' ELSE 'activated' END);
END
$$;
COMMENT ON FUNCTION @extschema@.activate_subscription(uuid, date) IS
    'Activates a pending subscription (after its first payment) or ends a trial early, on on_date (default today in '
    'IST): status active, first paid period [on_date, on_date + cycle) anchored on its day (31 gives Feb 28/29), that '
    'period''s invoice issued (returned). A subscription.activated event. 55000 from any other status.';

CREATE FUNCTION @extschema@.renew_due_subscription(subscription uuid, as_of date, OUT action text, OUT invoice uuid)
    RETURNS record
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    s @extschema@.subscriptions := @extschema@.lock_subscription(subscription);
    cutoff timestamptz := as_of::timestamp AT TIME ZONE 'Asia/Kolkata';
    months integer := CASE s.billing_cycle WHEN 'quarterly' THEN 3 WHEN 'annual' THEN 12 ELSE 1 END;
    pe date;
    ne date;
    np record;
    inv uuid;
BEGIN
    IF s.status NOT IN ('trial', 'active') OR s.current_period_end > cutoff THEN
        RETURN;
    END IF;
    pe := (s.current_period_end AT TIME ZONE 'Asia/Kolkata')::date;
    -- Cancelled at the period end, or not renewing: it ends, with a final invoice of what is unbilled.
    IF s.cancel_at_period_end OR NOT s.auto_renew THEN
        UPDATE @extschema@.subscriptions x
           SET status = CASE WHEN s.cancel_at_period_end THEN 'cancelled' ELSE 'expired' END,
               ended_at = s.current_period_end, cancelled_at = coalesce(x.cancelled_at, s.current_period_end)
         WHERE x.id = s.id;
        inv := @extschema@.bill_subscription(s.id, s.current_period_start, s.current_period_end, false,
                                             s.current_period_start, s.current_period_end, s.current_period_end, 'final', pe);
        PERFORM @extschema@.emit_event(CASE WHEN s.cancel_at_period_end THEN 'subscription.cancelled' ELSE 'subscription.expired' END,
                                       s.customer_id, 'subscription', s.id::text,
                                       pg_catalog.jsonb_build_object('subscription_id', s.id, 'ended_at', s.current_period_end,
                                                                     'invoice_id', inv),
                                       'subscription.ended:' || s.id);
        action := CASE WHEN s.cancel_at_period_end THEN 'cancelled' ELSE 'expired' END;
        invoice := inv;
        RETURN;
    END IF;
    -- A trial becomes active: its first paid period starts when the trial ends.
    IF s.status = 'trial' THEN
        invoice := @extschema@.start_paid_period(s.id, pe, 'trial_ended');
        action := 'trial_converted';
        RETURN;
    END IF;
    -- A downgrade waiting for the period end takes effect now, at the new plan's price.
    IF s.pending_rate_plan_id IS NOT NULL THEN
        SELECT rp.* INTO np FROM @extschema@.rate_plans rp WHERE rp.id = s.pending_rate_plan_id;
        UPDATE @extschema@.subscriptions x
           SET rate_plan_id = np.id, pending_rate_plan_id = NULL,
               recurring_price = @extschema@.recurring_price(np.monthly_price, s.billing_cycle)
         WHERE x.id = s.id;
        -- Calls of the new period may already have made its usage row (with the old allowance).
        UPDATE @extschema@.subscription_usage u
           SET included_seconds = greatest(np.included_minutes::bigint * 60 * months, u.included_used_seconds)
         WHERE u.subscription_id = s.id AND u.period_start = s.current_period_end;
        PERFORM @extschema@.emit_event('subscription.plan_changed', s.customer_id, 'subscription', s.id::text,
                                       pg_catalog.jsonb_build_object('subscription_id', s.id, 'plan', np.code, 'effective', pe),
                                       'subscription.plan_changed:' || s.id || ':' || to_char(pe, 'YYYY-MM-DD'));
    END IF;
    ne := @extschema@.add_months_clamped(pe, months, s.anchor_day);
    UPDATE @extschema@.subscriptions x
       SET current_period_start = s.current_period_end, current_period_end = ne::timestamp AT TIME ZONE 'Asia/Kolkata'
     WHERE x.id = s.id;
    inv := @extschema@.bill_subscription(s.id, s.current_period_end, ne::timestamp AT TIME ZONE 'Asia/Kolkata', true,
                                         s.current_period_start, s.current_period_end, s.current_period_end, 'period', pe);
    PERFORM @extschema@.emit_event('subscription.renewed', s.customer_id, 'subscription', s.id::text,
                                   pg_catalog.jsonb_build_object('subscription_id', s.id, 'period_start', pe, 'period_end', ne,
                                                                 'invoice_id', inv),
                                   'subscription.renewed:' || s.id || ':' || to_char(pe, 'YYYY-MM-DD'));
    action := 'renewed';
    invoice := inv;
END
$$;
COMMENT ON FUNCTION @extschema@.renew_due_subscription(uuid, date) IS
    'Internal (the billing cycle, renew_subscription): moves a subscription whose period ended by as_of (00:00 IST) one '
    'step: a trial becomes active (first paid period from the trial end), an active subscription renews (a waiting '
    'downgrade applied; next period anchored on anchor_day; its invoice: recurring in advance, usage of the closed '
    'period in arrears), or ends (cancel at period end: cancelled; auto_renew off: expired; a final usage invoice). '
    'Returns what it did (action: trial_converted, renewed, cancelled, expired; NULL when nothing was due) and the '
    'invoice issued (NULL when there was nothing to bill).';

CREATE FUNCTION @extschema@.renew_subscription(subscription uuid, as_of date DEFAULT NULL) RETURNS integer
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    s @extschema@.subscriptions := @extschema@.lock_subscription(subscription);
    day date := coalesce(as_of, (now() AT TIME ZONE 'Asia/Kolkata')::date);
    steps integer := 0;
    done text;
BEGIN
    IF s.status NOT IN ('trial', 'active') THEN
        RAISE EXCEPTION 'subscription % is %: only a trial or active subscription renews', s.subscription_number, s.status
            USING ERRCODE = '55000',
                  HINT = CASE WHEN s.status = 'suspended' THEN 'Resume it first (balatrix.resume_subscription).'
                              WHEN s.status = 'pending' THEN 'Activate it first (balatrix.activate_subscription).'
                              ELSE 'Create a new subscription.' END;
    END IF;
    IF s.current_period_end > day::timestamp AT TIME ZONE 'Asia/Kolkata' THEN
        RAISE EXCEPTION 'subscription % is not due: its period ends on %', s.subscription_number,
                        (s.current_period_end AT TIME ZONE 'Asia/Kolkata')::date USING ERRCODE = '55000';
    END IF;
    LOOP
        SELECT r.action INTO done FROM @extschema@.renew_due_subscription(s.id, day) r;
        EXIT WHEN done IS NULL;
        steps := steps + 1;
        EXIT WHEN done IN ('cancelled', 'expired');
    END LOOP;
    RETURN steps;
END
$$;
COMMENT ON FUNCTION @extschema@.renew_subscription(uuid, date) IS
    'Renews a trial or active subscription whose period ended by as_of (default today in IST), one period at a time '
    'until it is current, each period with its own invoice (what run_billing_cycle does for every due subscription). '
    'Returns the number of steps. 55000 when not due or not trial / active.';

CREATE FUNCTION @extschema@.change_subscription_plan(subscription uuid, plan text, on_date date DEFAULT NULL,
                                                     timing text DEFAULT NULL)
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    s @extschema@.subscriptions := @extschema@.lock_subscription(subscription);
    day date := coalesce(on_date, (now() AT TIME ZONE 'Asia/Kolkata')::date);
    old_plan record;
    np record;
    new_price numeric;
    ps date;
    pe date;
    change record;
    when_ text := coalesce(timing, (@extschema@.billing_settings()).downgrade_timing);
    doc uuid;
    months integer := CASE s.billing_cycle WHEN 'quarterly' THEN 3 WHEN 'annual' THEN 12 ELSE 1 END;
BEGIN
    IF when_ NOT IN ('period_end', 'immediate') THEN
        RAISE EXCEPTION 'timing must be period_end or immediate, not "%"', when_ USING ERRCODE = '22023';
    END IF;
    IF s.status NOT IN ('trial', 'active') THEN
        RAISE EXCEPTION 'subscription % is %: only a trial or active subscription changes plan', s.subscription_number, s.status
            USING ERRCODE = '55000';
    END IF;
    SELECT rp.* INTO old_plan FROM @extschema@.rate_plans rp WHERE rp.id = s.rate_plan_id;
    SELECT rp.* INTO np FROM @extschema@.rate_plans rp WHERE rp.code = plan;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown rate plan "%"', plan USING ERRCODE = 'P0002';
    END IF;
    IF NOT np.is_active THEN
        RAISE EXCEPTION 'rate plan "%" is not active', plan USING ERRCODE = '22023';
    END IF;
    IF np.currency <> s.currency THEN
        RAISE EXCEPTION 'plan % is priced in %, the subscription in %', plan, np.currency, s.currency USING ERRCODE = '22023';
    END IF;
    IF np.id = s.rate_plan_id THEN
        RAISE EXCEPTION 'subscription % is already on plan %', s.subscription_number, plan USING ERRCODE = '22023';
    END IF;
    ps := (s.current_period_start AT TIME ZONE 'Asia/Kolkata')::date;
    pe := (s.current_period_end AT TIME ZONE 'Asia/Kolkata')::date;
    IF day < ps OR day >= pe THEN
        RAISE EXCEPTION 'the change date % is outside the current period % to %', day, ps, pe - 1
            USING ERRCODE = '22023', HINT = 'Run the billing cycle first if the period has ended.';
    END IF;
    new_price := @extschema@.recurring_price(np.monthly_price, s.billing_cycle);

    -- During a trial nothing has been charged: the plan just changes (and its price, for later).
    IF s.status = 'trial' THEN
        UPDATE @extschema@.subscriptions x SET rate_plan_id = np.id, pending_rate_plan_id = NULL, recurring_price = new_price
         WHERE x.id = s.id;
        UPDATE @extschema@.subscription_usage u
           SET included_seconds = greatest(np.included_minutes::bigint * 60 * months, u.included_used_seconds)
         WHERE u.subscription_id = s.id AND u.period_start = s.current_period_start;
        PERFORM @extschema@.emit_event('subscription.plan_changed', s.customer_id, 'subscription', s.id::text,
                                       pg_catalog.jsonb_build_object('subscription_id', s.id, 'from', old_plan.code, 'plan', np.code,
                                                                     'effective', day),
                                       'subscription.plan_changed:' || s.id || ':' || to_char(day, 'YYYY-MM-DD') || ':' || np.code);
        RETURN NULL;
    END IF;

    IF new_price < s.recurring_price AND when_ = 'period_end' THEN
        UPDATE @extschema@.subscriptions x SET pending_rate_plan_id = np.id WHERE x.id = s.id;
        PERFORM @extschema@.emit_event('subscription.downgrade_scheduled', s.customer_id, 'subscription', s.id::text,
                                       pg_catalog.jsonb_build_object('subscription_id', s.id, 'from', old_plan.code, 'plan', np.code,
                                                                     'effective', pe),
                                       'subscription.downgrade_scheduled:' || s.id || ':' || to_char(pe, 'YYYY-MM-DD') || ':' || np.code);
        RETURN NULL;
    END IF;

    -- Immediate: the difference for the days left, both prices prorated alike (PRODUCT §7).
    change := @extschema@.prorate_plan_change(s.recurring_price, new_price, pe - day, pe - ps);
    UPDATE @extschema@.subscriptions x SET rate_plan_id = np.id, pending_rate_plan_id = NULL, recurring_price = new_price
     WHERE x.id = s.id;
    -- The period's allowance becomes the new plan's (never below what is already used).
    UPDATE @extschema@.subscription_usage u
       SET included_seconds = greatest(np.included_minutes::bigint * 60 * months, u.included_used_seconds)
     WHERE u.subscription_id = s.id AND u.period_start = s.current_period_start;
    IF change.difference > 0 THEN
        doc := @extschema@.create_invoice_draft(s.account_id, 'tax_invoice', s.id, day::timestamp AT TIME ZONE 'Asia/Kolkata',
                                                s.current_period_end, NULL, 'proration');
        PERFORM @extschema@.add_invoice_line(doc, 'proration',
            'Upgrade from ' || old_plan.name || ' to ' || np.name || ' for ' || (pe - day) || ' of ' || (pe - ps) || ' days ('
            || change.prorated_new || ' - ' || change.unused_old || ')',
            1, change.difference, np.sac, day::timestamp AT TIME ZONE 'Asia/Kolkata', s.current_period_end,
            'subscription', s.id::text);
        PERFORM @extschema@.issue_invoice(doc, day);
    ELSIF change.difference < 0 THEN
        -- Credit notes against the invoices that charged this period.
        doc := @extschema@.credit_subscription_period(s.id, -change.difference, day::timestamp AT TIME ZONE 'Asia/Kolkata', day,
            'proration',
            'Downgrade from ' || old_plan.name || ' to ' || np.name || ' for ' || (pe - day) || ' of ' || (pe - ps) || ' days ('
            || change.unused_old || ' - ' || change.prorated_new || ')', old_plan.sac);
    END IF;
    PERFORM @extschema@.emit_event('subscription.plan_changed', s.customer_id, 'subscription', s.id::text,
                                   pg_catalog.jsonb_build_object('subscription_id', s.id, 'from', old_plan.code, 'plan', np.code,
                                                                 'effective', day, 'difference', change.difference,
                                                                 'document_id', doc),
                                   'subscription.plan_changed:' || s.id || ':' || to_char(day, 'YYYY-MM-DD') || ':' || np.code);
    RETURN doc;
END
$$;
COMMENT ON FUNCTION @extschema@.change_subscription_plan(uuid, text, date, text) IS
    'Moves a trial or active subscription to another plan on on_date (default today in IST). During a trial: at once, no '
    'money. An upgrade (a higher price for the cycle): at once, with an invoice for the prorated difference over the days '
    'left (prorate_plan_change), returned. A downgrade: at the next renewal (timing period_end, the default of '
    'balatrix.downgrade_timing; NULL returned), or at once with a credit note for the prorated difference against the '
    'period''s invoice (timing immediate; returned). The period''s allowance becomes the new plan''s. 22023 same / '
    'inactive / other-currency plan or a date outside the period; P0002 unknown plan; 55000 other statuses.';

CREATE FUNCTION @extschema@.cancel_subscription(subscription uuid, at_period_end boolean DEFAULT true, reason text DEFAULT NULL,
                                                on_date date DEFAULT NULL, credit_unused boolean DEFAULT true)
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    s @extschema@.subscriptions := @extschema@.lock_subscription(subscription);
    day date := coalesce(on_date, (now() AT TIME ZONE 'Asia/Kolkata')::date);
    ends timestamptz := day::timestamp AT TIME ZONE 'Asia/Kolkata';
    ps date;
    pe date;
    period_invoice uuid;
    recurring numeric;
    credit numeric;
    note uuid;
BEGIN
    IF s.status NOT IN ('pending', 'trial', 'active', 'suspended') THEN
        RAISE EXCEPTION 'subscription % is already %', s.subscription_number, s.status USING ERRCODE = '55000';
    END IF;
    IF s.cancel_at_period_end AND at_period_end THEN
        RAISE EXCEPTION 'subscription % is already cancelled at the end of its period', s.subscription_number USING ERRCODE = '55000';
    END IF;
    IF at_period_end AND s.status IN ('trial', 'active') THEN
        UPDATE @extschema@.subscriptions x
           SET cancel_at_period_end = true, cancelled_at = now(), cancellation_reason = reason
         WHERE x.id = s.id;
        PERFORM @extschema@.emit_event('subscription.cancel_scheduled', s.customer_id, 'subscription', s.id::text,
                                       pg_catalog.jsonb_build_object('subscription_id', s.id, 'reason', reason,
                                           'ends_on', (s.current_period_end AT TIME ZONE 'Asia/Kolkata')::date),
                                       'subscription.cancel_scheduled:' || s.id);
        RETURN NULL;
    END IF;
    -- Now: service ends at the start of on_date.
    IF s.current_period_start IS NOT NULL AND (ends < s.current_period_start OR ends > s.current_period_end) THEN
        RAISE EXCEPTION 'the cancellation date % is outside the current period', day USING ERRCODE = '22023';
    END IF;
    UPDATE @extschema@.subscriptions x
       SET status = 'cancelled', cancelled_at = now(), cancellation_reason = reason, ended_at = ends,
           cancel_at_period_end = false, pending_rate_plan_id = NULL
     WHERE x.id = s.id;
    IF s.status IN ('active', 'suspended') THEN
        ps := (s.current_period_start AT TIME ZONE 'Asia/Kolkata')::date;
        pe := (s.current_period_end AT TIME ZONE 'Asia/Kolkata')::date;
        -- The final invoice: usage up to the end of service, DIDs assigned during the period.
        PERFORM @extschema@.bill_subscription(s.id, s.current_period_start, greatest(ends, s.current_period_start + interval '1 day'),
                                              false, s.current_period_start, s.current_period_end, ends, 'final', day);
        -- The unused days of the period's recurring charges (plan, discount, add-ons, DIDs in advance) come back.
        IF credit_unused AND day < pe THEN
            SELECT i.id INTO period_invoice FROM @extschema@.invoices i
             WHERE i.subscription_id = s.id AND i.document_type = 'tax_invoice' AND i.billing_reason = 'period'
               AND i.period_start = s.current_period_start AND i.status NOT IN ('draft', 'void')
             ORDER BY i.issued_at DESC LIMIT 1;
            -- The plan at its current price (after any upgrade) less its discount, and the add-ons and
            -- numbers the period's invoice charged in advance.
            recurring := s.recurring_price - least(s.recurring_price,
                                                   pg_catalog.round(s.recurring_price * s.discount_percent / 100, 2) + s.discount_amount)
                         + coalesce((SELECT sum(l.taxable_value) FROM @extschema@.invoice_lines l
                                      WHERE l.invoice_id = period_invoice AND l.kind IN ('add_on', 'did_rent')
                                        AND l.period_start = s.current_period_start), 0);
            credit := @extschema@.prorate(recurring, pe - day, pe - ps);
            IF credit > 0 THEN
                note := @extschema@.credit_subscription_period(s.id, credit, ends, day, 'cancellation',
                    'Unused ' || (pe - day) || ' of ' || (pe - ps) || ' days after cancellation', NULL);
            END IF;
        END IF;
    ELSIF s.status = 'trial' THEN
        PERFORM @extschema@.bill_subscription(s.id, s.current_period_start, greatest(ends, s.current_period_start + interval '1 day'),
                                              false, s.current_period_start, s.current_period_end, ends, 'final', day);
    END IF;
    PERFORM @extschema@.emit_event('subscription.cancelled', s.customer_id, 'subscription', s.id::text,
                                   pg_catalog.jsonb_build_object('subscription_id', s.id, 'reason', reason, 'ended_on', day,
                                                                 'credit_note_id', note),
                                   'subscription.ended:' || s.id);
    RETURN note;
END
$$;
COMMENT ON FUNCTION @extschema@.cancel_subscription(uuid, boolean, text, date, boolean) IS
    'Cancels a subscription. at_period_end (default): a trial or active subscription runs to the end of its period and '
    'the billing cycle ends it (status cancelled, a final usage invoice). Otherwise at once on on_date (default today in '
    'IST): status cancelled, a final invoice of the usage not yet billed, and with credit_unused (default) a credit note '
    'for the unused days of the period''s recurring charges (returned). A pending subscription is simply cancelled. '
    'Events subscription.cancel_scheduled / subscription.cancelled. 55000 when already cancelled or expired; 22023 date '
    'outside the period.';

CREATE FUNCTION @extschema@.suspend_subscription(subscription uuid, reason text DEFAULT NULL, on_date date DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    s @extschema@.subscriptions := @extschema@.lock_subscription(subscription);
    day date := coalesce(on_date, (now() AT TIME ZONE 'Asia/Kolkata')::date);
BEGIN
    IF s.status NOT IN ('trial', 'active') THEN
        RAISE EXCEPTION 'subscription % is %: only a trial or active subscription can be suspended', s.subscription_number, s.status
            USING ERRCODE = '55000';
    END IF;
    UPDATE @extschema@.subscriptions x
       SET status = 'suspended', suspended_at = day::timestamp AT TIME ZONE 'Asia/Kolkata',
           metadata = x.metadata || pg_catalog.jsonb_build_object('suspension_reason', reason, 'suspended_from', s.status)
     WHERE x.id = s.id;
    PERFORM @extschema@.emit_event('subscription.suspended', s.customer_id, 'subscription', s.id::text,
                                   pg_catalog.jsonb_build_object('subscription_id', s.id, 'reason', reason, 'on', day),
                                   'subscription.suspended:' || s.id || ':' || to_char(day, 'YYYY-MM-DD'));
END
$$;
COMMENT ON FUNCTION @extschema@.suspend_subscription(uuid, text, date) IS
    'Suspends a trial or active subscription on on_date (the reason kept in metadata.suspension_reason; the dunning '
    'sweep uses non_payment). A suspended subscription is not renewed; its calls are still rated. A '
    'subscription.suspended event. 55000 from any other status.';

CREATE FUNCTION @extschema@.resume_subscription(subscription uuid, on_date date DEFAULT NULL) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    s @extschema@.subscriptions := @extschema@.lock_subscription(subscription);
    day date := coalesce(on_date, (now() AT TIME ZONE 'Asia/Kolkata')::date);
    back text;
    inv uuid;
BEGIN
    IF s.status <> 'suspended' THEN
        RAISE EXCEPTION 'subscription % is %: only a suspended subscription can be resumed', s.subscription_number, s.status
            USING ERRCODE = '55000';
    END IF;
    back := coalesce(s.metadata->>'suspended_from', 'active');
    UPDATE @extschema@.subscriptions x
       SET status = back, suspended_at = NULL,
           metadata = x.metadata - 'suspension_reason' - 'suspended_from'
     WHERE x.id = s.id;
    -- A period (or trial) that ended while suspended is not billed: a paid period starts on the day
    -- of the resumption.
    IF s.current_period_end <= day::timestamp AT TIME ZONE 'Asia/Kolkata' THEN
        UPDATE @extschema@.subscriptions x SET status = 'pending' WHERE x.id = s.id;
        inv := @extschema@.start_paid_period(s.id, day, 'resumed');
        PERFORM @extschema@.emit_event('subscription.resumed', s.customer_id, 'subscription', s.id::text,
                                       pg_catalog.jsonb_build_object('subscription_id', s.id, 'on', day, 'invoice_id', inv),
                                       'subscription.resumed:' || s.id || ':' || to_char(day, 'YYYY-MM-DD'));
        RETURN inv;
    END IF;
    PERFORM @extschema@.emit_event('subscription.resumed', s.customer_id, 'subscription', s.id::text,
                                   pg_catalog.jsonb_build_object('subscription_id', s.id, 'on', day),
                                   'subscription.resumed:' || s.id || ':' || to_char(day, 'YYYY-MM-DD'));
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.resume_subscription(uuid, date) IS
    'Resumes a suspended subscription on on_date (back to trial or active). When its period ended while it was suspended, '
    'the suspended time is not billed: a new period starts on on_date (anchored on its day) with its invoice (returned, '
    'together with any usage not yet billed). A subscription.resumed event. 55000 unless suspended.';

CREATE FUNCTION @extschema@.record_payment(invoice uuid, amount numeric, gateway text DEFAULT 'manual',
                                           gateway_payment_id text DEFAULT NULL, paid_on date DEFAULT NULL,
                                           idempotency_key text DEFAULT NULL)
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    inv record;
    existing record;
    pay uuid;
    paid_ts timestamptz := CASE WHEN paid_on IS NULL THEN now() ELSE paid_on::timestamp AT TIME ZONE 'Asia/Kolkata' END;
BEGIN
    IF invoice IS NULL OR amount IS NULL OR amount <= 0 OR amount <> pg_catalog.round(amount, 2) THEN
        RAISE EXCEPTION 'a payment needs an invoice and a positive amount in paise (%)', amount USING ERRCODE = '22023';
    END IF;
    -- Locks in the order of the lifecycle functions: the subscription, then its invoices.
    PERFORM 1 FROM @extschema@.subscriptions x
     WHERE x.id = (SELECT i.subscription_id FROM @extschema@.invoices i WHERE i.id = invoice) FOR UPDATE;
    SELECT i.* INTO inv FROM @extschema@.invoices i WHERE i.id = invoice FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invoice % does not exist', invoice USING ERRCODE = 'P0002';
    END IF;
    -- A repeat (same key) returns the first payment. Looked up under the invoice's lock, so a
    -- concurrent repeat waits for the first and then finds it.
    IF idempotency_key IS NOT NULL THEN
        SELECT p.id, p.invoice_id, p.amount INTO existing FROM @extschema@.payments p WHERE p.idempotency_key = record_payment.idempotency_key;
        IF FOUND THEN
            IF existing.invoice_id IS DISTINCT FROM invoice OR existing.amount <> amount THEN
                RAISE EXCEPTION 'idempotency key % was used for another payment', idempotency_key USING ERRCODE = '22023';
            END IF;
            RETURN existing.id;
        END IF;
    END IF;
    IF inv.document_type = 'credit_note' OR inv.status NOT IN ('issued', 'partially_paid', 'overdue') THEN
        RAISE EXCEPTION 'invoice % is % (%): it takes no payment', coalesce(inv.invoice_number, invoice::text), inv.status,
                        replace(inv.document_type, '_', ' ') USING ERRCODE = '55000';
    END IF;
    INSERT INTO @extschema@.payments (customer_id, account_id, invoice_id, subscription_id, purpose, gateway,
                                      gateway_payment_id, amount, currency, status, idempotency_key, captured_at, attempts)
    VALUES (inv.customer_id, inv.account_id, inv.id, inv.subscription_id, 'invoice', gateway, gateway_payment_id, amount,
            inv.currency, 'captured', idempotency_key, paid_ts, 1)
    RETURNING id INTO pay;
    -- The money, as for a gateway payment: ledger, settlement, events, resumption.
    PERFORM @extschema@.apply_captured_payment(pay);
    RETURN pay;
END
$$;
COMMENT ON FUNCTION @extschema@.record_payment(uuid, numeric, text, text, date, text) IS
    'Records money received for an invoice or debit note, in one transaction: a captured payment, its ledger entry (the '
    'whole amount credits the account; what exceeds the outstanding amount stays there as credit), and the invoice''s '
    'settlement (amount_paid; status paid or partially_paid, an overdue invoice stays overdue until paid); events '
    'payment.captured and invoice.paid. A subscription suspended for non-payment resumes when nothing of it is overdue '
    'any more. idempotency_key makes a repeat return the first payment. 22023 bad amount or reused key; P0002 unknown '
    'invoice; 55000 draft, void, paid or credit note.';

CREATE FUNCTION @extschema@.run_dunning(as_of date DEFAULT NULL,
    OUT job_run_id bigint, OUT reminders integer, OUT overdue integer, OUT suspended integer)
    RETURNS record
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    day date := coalesce(as_of, (now() AT TIME ZONE 'Asia/Kolkata')::date);
    settings record := @extschema@.billing_settings();
    started timestamptz := clock_timestamp();
    i record;
BEGIN
    reminders := 0; overdue := 0; suspended := 0;
    IF settings.dunning_reminder_days > 0 THEN
        FOR i IN
            SELECT x.id, x.customer_id, x.invoice_number, x.due_date, x.total - x.amount_paid - x.amount_credited AS outstanding
              FROM @extschema@.invoices x
             WHERE x.status IN ('issued', 'partially_paid') AND x.document_type <> 'credit_note'
               AND x.due_date >= day AND x.due_date - settings.dunning_reminder_days <= day
             ORDER BY x.id
        LOOP
            IF @extschema@.emit_event('invoice.payment_reminder', i.customer_id, 'invoice', i.id::text,
                                      pg_catalog.jsonb_build_object('invoice_id', i.id, 'invoice_number', i.invoice_number,
                                                                    'due_date', i.due_date, 'outstanding', i.outstanding),
                                      'invoice.payment_reminder:' || i.id) THEN
                reminders := reminders + 1;
            END IF;
        END LOOP;
    END IF;
    FOR i IN
        UPDATE @extschema@.invoices x SET status = 'overdue'
         WHERE x.status IN ('issued', 'partially_paid') AND x.document_type <> 'credit_note' AND x.due_date < day
        RETURNING x.id, x.customer_id, x.invoice_number, x.due_date, x.total - x.amount_paid - x.amount_credited AS outstanding
    LOOP
        overdue := overdue + 1;
        PERFORM @extschema@.emit_event('invoice.overdue', i.customer_id, 'invoice', i.id::text,
                                       pg_catalog.jsonb_build_object('invoice_id', i.id, 'invoice_number', i.invoice_number,
                                                                     'due_date', i.due_date, 'outstanding', i.outstanding),
                                       'invoice.overdue:' || i.id);
    END LOOP;
    IF settings.dunning_suspend_days > 0 THEN
        FOR i IN
            SELECT DISTINCT s.id
              FROM @extschema@.invoices x JOIN @extschema@.subscriptions s ON s.id = x.subscription_id
             WHERE x.status = 'overdue' AND x.due_date + settings.dunning_suspend_days <= day
               AND s.status IN ('trial', 'active')
             ORDER BY s.id
        LOOP
            PERFORM @extschema@.suspend_subscription(i.id, 'non_payment', day);
            suspended := suspended + 1;
        END LOOP;
    END IF;
    INSERT INTO @extschema@.job_runs (job, as_of, started_at, finished_at, status, counts, duration_ms)
    VALUES ('dunning', day, started, clock_timestamp(), 'succeeded',
            pg_catalog.jsonb_build_object('reminders', reminders, 'overdue', overdue, 'suspended', suspended),
            extract(epoch FROM clock_timestamp() - started) * 1000)
    RETURNING id INTO job_run_id;
    RAISE NOTICE 'dunning %: % reminders, % invoices overdue, % subscriptions suspended', day, reminders, overdue, suspended;
END
$$;
COMMENT ON FUNCTION @extschema@.run_dunning(date) IS
    'The overdue sweep for as_of (default today in IST): a payment reminder event for each unpaid invoice due within '
    'balatrix.dunning_reminder_days (once per invoice), status overdue and an invoice.overdue event for each unpaid '
    'invoice past its due date, and the suspension (reason non_payment) of subscriptions with an invoice overdue for '
    'balatrix.dunning_suspend_days. Idempotent; a job_runs row. Returns the counts.';

CREATE FUNCTION @extschema@.run_billing_cycle(as_of date DEFAULT NULL, batch_limit integer DEFAULT NULL,
    after_subscription uuid DEFAULT NULL,
    OUT job_run_id bigint, OUT due bigint, OUT processed bigint, OUT trials_converted bigint, OUT renewed bigint,
    OUT cancelled bigint, OUT expired bigint, OUT invoices bigint, OUT failed bigint,
    OUT last_subscription uuid, OUT remaining bigint)
    RETURNS record
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    day date := coalesce(as_of, (now() AT TIME ZONE 'Asia/Kolkata')::date);
    cutoff timestamptz := day::timestamp AT TIME ZONE 'Asia/Kolkata';
    started timestamptz := clock_timestamp();
    sub uuid;
    step record;
    saved bigint[];
    msg text;
    state text;
BEGIN
    IF batch_limit IS NOT NULL AND batch_limit < 1 THEN
        RAISE EXCEPTION 'batch_limit must be at least 1' USING ERRCODE = '22023';
    END IF;
    processed := 0; trials_converted := 0; renewed := 0; cancelled := 0; expired := 0; failed := 0;
    SELECT count(*) INTO due FROM @extschema@.subscriptions s
     WHERE s.status IN ('trial', 'active') AND s.current_period_end <= cutoff
       AND (after_subscription IS NULL OR s.id > after_subscription);
    invoices := 0;
    FOR sub IN
        SELECT s.id FROM @extschema@.subscriptions s
         WHERE s.status IN ('trial', 'active') AND s.current_period_end <= cutoff
           AND (after_subscription IS NULL OR s.id > after_subscription)
         ORDER BY s.id
         LIMIT batch_limit
    LOOP
        -- Each subscription in its own subtransaction: one that fails is reported and skipped (and
        -- what it had counted is taken back with what it had done).
        saved := ARRAY[trials_converted, renewed, cancelled, expired, invoices];
        BEGIN
            LOOP
                SELECT r.action, r.invoice INTO step FROM @extschema@.renew_due_subscription(sub, day) r;
                EXIT WHEN step.action IS NULL;
                IF step.invoice IS NOT NULL THEN
                    invoices := invoices + 1;
                END IF;
                CASE step.action
                    WHEN 'trial_converted' THEN trials_converted := trials_converted + 1;
                    WHEN 'renewed' THEN renewed := renewed + 1;
                    WHEN 'cancelled' THEN cancelled := cancelled + 1;
                    ELSE expired := expired + 1;
                END CASE;
                EXIT WHEN step.action IN ('cancelled', 'expired');
            END LOOP;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
            trials_converted := saved[1]; renewed := saved[2]; cancelled := saved[3]; expired := saved[4];
            invoices := saved[5];
            failed := failed + 1;
            RAISE WARNING 'billing cycle %: subscription % failed: % (%)', day, sub, msg, state;
            PERFORM @extschema@.emit_event('billing.subscription_failed', NULL, 'subscription', sub::text,
                                           pg_catalog.jsonb_build_object('subscription_id', sub, 'as_of', day, 'error', msg,
                                                                         'sqlstate', state),
                                           'billing.subscription_failed:' || sub || ':' || to_char(day, 'YYYY-MM-DD'));
        END;
        processed := processed + 1;
        last_subscription := sub;
        IF processed % 1000 = 0 THEN
            RAISE NOTICE 'billing cycle %: % of % subscriptions', day, processed, due;
        END IF;
    END LOOP;
    remaining := due - processed;
    INSERT INTO @extschema@.job_runs (job, as_of, started_at, finished_at, status, counts, duration_ms, error)
    VALUES ('billing_cycle', day, started, clock_timestamp(), 'succeeded',
            pg_catalog.jsonb_build_object('due', due, 'processed', processed, 'trials_converted', trials_converted,
                                          'renewed', renewed, 'cancelled', cancelled, 'expired', expired,
                                          'invoices', invoices, 'failed', failed, 'remaining', remaining),
            extract(epoch FROM clock_timestamp() - started) * 1000,
            CASE WHEN failed > 0 THEN failed || ' subscriptions failed (billing.subscription_failed events)' END)
    RETURNING id INTO job_run_id;
    RAISE NOTICE 'billing cycle %: % subscriptions processed (% trials converted, % renewed, % cancelled, % expired, % failed), % invoices',
                 day, processed, trials_converted, renewed, cancelled, expired, failed, invoices;
END
$$;
COMMENT ON FUNCTION @extschema@.run_billing_cycle(date, integer, uuid) IS
    'The billing cycle for as_of (default today in IST): every trial or active subscription whose period ended by as_of '
    '00:00 IST, in id order (after after_subscription, at most batch_limit), is brought up to date one period at a time '
    '(renew_subscription: trials converted, renewals invoiced, cancellations and expiries finalised). Postpaid usage is '
    'billed on those invoices. Idempotent: a second run for the same date finds nothing due. A subscription that fails is '
    'skipped (WARNING, a billing.subscription_failed event) and the run goes on. NOTICEs report progress; a job_runs row '
    'records the counts and duration. Returns the counts, the last subscription processed and how many due remain. '
    'Everything runs in the caller''s transaction, whose locks (accounts, the invoice-number counter) are held to its end, '
    'and each invoice numbered adds a version of the same counter row: for more than a few thousand subscriptions use '
    'CALL run_billing_cycle_job, which commits every batch.';

-- The scheduled form: batches of subscriptions, each committed, so that a long run holds no
-- account, usage row or invoice-number lock for more than one batch (the CDR trigger and other
-- invoice issuers wait at most that long).
CREATE PROCEDURE @extschema@.run_billing_cycle_job(as_of date DEFAULT NULL, batch_size integer DEFAULT 200)
    LANGUAGE plpgsql
    AS $$
DECLARE
    day date := coalesce(as_of, (now() AT TIME ZONE 'Asia/Kolkata')::date);
    r record;
    cursor_id uuid;
    total bigint := 0;
BEGIN
    LOOP
        SELECT * INTO r FROM @extschema@.run_billing_cycle(day, batch_size, cursor_id);
        total := total + r.processed;
        cursor_id := r.last_subscription;
        COMMIT;
        EXIT WHEN r.processed < batch_size OR r.remaining = 0;
    END LOOP;
    RAISE NOTICE 'billing cycle % done: % subscriptions in batches of %', day, total, batch_size;
END
$$;
COMMENT ON PROCEDURE @extschema@.run_billing_cycle_job(date, integer) IS
    'CALL form of run_billing_cycle for pg_cron and psql: runs it in batches of batch_size subscriptions, committing after '
    'each, until nothing due is left. Must be called outside an explicit transaction block.';

REVOKE ALL ON FUNCTION
    @extschema@.post_ledger_entry(uuid, text, numeric, text, text, text, jsonb, bigint),
    @extschema@.emit_event(text, uuid, text, text, jsonb, text),
    @extschema@.bill_subscription(uuid, timestamptz, timestamptz, boolean, timestamptz, timestamptz, timestamptz, text, date),
    @extschema@.lock_subscription(uuid),
    @extschema@.credit_subscription_period(uuid, numeric, timestamptz, date, text, text, text),
    @extschema@.create_subscription(uuid, text, text, date, boolean, jsonb),
    @extschema@.start_paid_period(uuid, date, text),
    @extschema@.activate_subscription(uuid, date),
    @extschema@.renew_due_subscription(uuid, date),
    @extschema@.renew_subscription(uuid, date),
    @extschema@.change_subscription_plan(uuid, text, date, text),
    @extschema@.cancel_subscription(uuid, boolean, text, date, boolean),
    @extschema@.suspend_subscription(uuid, text, date),
    @extschema@.resume_subscription(uuid, date),
    @extschema@.record_payment(uuid, numeric, text, text, date, text),
    @extschema@.run_dunning(date),
    @extschema@.run_billing_cycle(date, integer, uuid)
    FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.run_billing_cycle_job(date, integer) FROM PUBLIC;

-- ============================================================================================
-- GST reporting: the monthly summary, GSTR-1 style sections and the e-invoice (INV-01) JSON
-- ============================================================================================
-- Read-only views over issued documents (status issued, partially_paid, paid or overdue: never
-- a draft, never a void document). Every view is security_invoker, so the querying role's
-- privileges and row-level security on invoices / invoice_lines apply, not the view owner's.
--
-- A GSTR-1 return is filed per GSTIN and per month: every GSTR-1 view carries supplier_gstin (the
-- registration frozen on the document), month (first day of the month of issue) and
-- financial_year ('2627' = April 2026 - March 2027, as invoices carry it). Filter on them.
--
-- Sections (reference/gst-payments.md §1.8; the classification of core ClassifyGstr1):
--   b2b    tax invoices to a registered recipient (a GSTIN on the invoice), per invoice and rate
--   b2cl   inter-State tax invoices to an unregistered recipient above the B2C-large threshold,
--          per invoice and rate
--   b2cs   every other B2C supply, aggregated per place of supply and rate, net of the credit and
--          debit notes against those invoices
--   cdnr   credit / debit notes to a registered recipient, per note and rate
--   hsn    per SAC and rate, net of credit / debit notes, split B2B / B2C (the portal's Table 12
--          has separate B2B and B2C tabs)
-- Supplies without GST (a tax-exempt recipient, a place of supply outside India) belong in the
-- "nil" / "exp" sections and are left out of b2b, b2cl, b2cs and cdnr; they are in hsn (rate 0) and
-- in the monthly summary. The GSTR-1 views cover INR documents only: a return is in rupees, and a
-- foreign-currency document has no rupee value in the data model. Amounts of GSTR-1 rows are the
-- sums of the lines' own (per-line rounded) amounts; invoice_value is the document total, round-off
-- included. UTGST is reported in the SGST column (sgst_utgst): GSTR-1 has one "State/UT tax" head.

-- The B2C-large threshold, in SQL: the same rule as the C++ core's B2cLargeThreshold
-- (extension/core/src/gst.cpp), which has no SQL wrapper. A C wrapper can later replace this
-- function with the same signature.
CREATE FUNCTION @extschema@.gstr1_b2cl_threshold(invoice_date date) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT CASE WHEN invoice_date >= DATE '2024-08-01' THEN 100000.00 ELSE 250000.00 END
$$;
COMMENT ON FUNCTION @extschema@.gstr1_b2cl_threshold(date) IS
    'The B2C-large invoice value threshold of GSTR-1 on invoice_date (CGST Rule 59(4)(a) as amended by Notification '
    '12/2024-CT): 100000.00 from 2024-08-01, 250000.00 before. An inter-State invoice to an unregistered recipient is '
    'b2cl when its total (tax included) is strictly more than this; otherwise b2cs. Same rule as the C++ core '
    'B2cLargeThreshold.';

CREATE VIEW @extschema@.gst_summary_monthly WITH (security_invoker = true) AS
SELECT date_trunc('month', i.issue_date::timestamp)::date AS month,
       i.financial_year,
       i.supplier_gstin,
       i.currency,
       i.document_type,
       count(*) AS documents,
       sum(i.taxable_total) AS taxable_value,
       sum(i.cgst_total) AS cgst,
       sum(i.sgst_total) AS sgst,
       sum(i.utgst_total) AS utgst,
       sum(i.igst_total) AS igst,
       sum(i.tax_total) AS tax,
       sum(i.round_off) AS round_off,
       sum(i.total) AS total,
       CASE i.document_type WHEN 'credit_note' THEN -1 ELSE 1 END * sum(i.taxable_total) AS net_taxable_value,
       CASE i.document_type WHEN 'credit_note' THEN -1 ELSE 1 END * sum(i.tax_total) AS net_tax,
       CASE i.document_type WHEN 'credit_note' THEN -1 ELSE 1 END * sum(i.total) AS net_total
  FROM @extschema@.invoices i
 WHERE i.status NOT IN ('draft', 'void')
 GROUP BY 1, i.financial_year, i.supplier_gstin, i.currency, i.document_type;
COMMENT ON VIEW @extschema@.gst_summary_monthly IS
    'Issued documents (not draft, not void) per calendar month of issue_date (month = its first day), financial '
    'year, supplier GSTIN, currency and document_type (tax_invoice, credit_note, debit_note: one row each). '
    'documents, taxable_value, cgst, sgst, utgst, igst, tax, round_off and total are sums of the documents'' totals '
    'as stored, always >= 0 (a credit note''s amounts are what it credits). Sign convention of net_taxable_value, '
    'net_tax and net_total: + for tax invoices and debit notes, - for credit notes, so their sum over a month''s '
    'rows is the net outward supply and tax of the month.';

CREATE VIEW @extschema@.gstr1_b2b WITH (security_invoker = true) AS
SELECT date_trunc('month', i.issue_date::timestamp)::date AS month,
       i.financial_year,
       i.supplier_gstin,
       i.customer_gstin AS recipient_gstin,
       i.customer_name AS receiver_name,
       i.id AS invoice_id,
       i.invoice_number,
       i.issue_date AS invoice_date,
       i.total AS invoice_value,
       i.place_of_supply_state_code || '-' || s.name AS place_of_supply,
       CASE WHEN i.reverse_charge THEN 'Y' ELSE 'N' END AS reverse_charge,
       'Regular B2B'::text AS invoice_type,
       l.gst_rate AS rate,
       sum(l.taxable_value) AS taxable_value,
       sum(l.igst) AS igst,
       sum(l.cgst) AS cgst,
       sum(l.sgst + l.utgst) AS sgst_utgst,
       0.00::numeric(14,2) AS cess
  FROM @extschema@.invoices i
  JOIN @extschema@.invoice_lines l ON l.invoice_id = i.id
  LEFT JOIN @extschema@.gst_states s ON s.code = i.place_of_supply_state_code
 WHERE i.status NOT IN ('draft', 'void')
   AND i.document_type = 'tax_invoice'
   AND i.customer_gstin IS NOT NULL
   AND NOT i.tax_exempt
   AND i.currency = 'INR'
   AND i.place_of_supply_state_code IS DISTINCT FROM '96'
 GROUP BY i.id, s.name, l.gst_rate;
COMMENT ON VIEW @extschema@.gstr1_b2b IS
    'GSTR-1 b2b: issued tax invoices (INR, GST charged) to a registered recipient (a GSTIN frozen on the invoice), one '
    'row per invoice and GST rate: recipient GSTIN and name, invoice number and date, invoice value (the total, '
    'round-off included), place of supply as "29-Karnataka", reverse charge Y/N, rate, and the taxable value, IGST, '
    'CGST and State/UT tax (sgst_utgst = SGST + UTGST) of that rate''s lines. Filter on supplier_gstin and month / '
    'financial_year. Notes are in gstr1_cdnr; tax-exempt supplies belong in the nil section.';

CREATE VIEW @extschema@.gstr1_b2cl WITH (security_invoker = true) AS
SELECT date_trunc('month', i.issue_date::timestamp)::date AS month,
       i.financial_year,
       i.supplier_gstin,
       i.id AS invoice_id,
       i.invoice_number,
       i.issue_date AS invoice_date,
       i.total AS invoice_value,
       i.place_of_supply_state_code || '-' || s.name AS place_of_supply,
       l.gst_rate AS rate,
       sum(l.taxable_value) AS taxable_value,
       sum(l.igst) AS igst,
       0.00::numeric(14,2) AS cess
  FROM @extschema@.invoices i
  JOIN @extschema@.invoice_lines l ON l.invoice_id = i.id
  LEFT JOIN @extschema@.gst_states s ON s.code = i.place_of_supply_state_code
 WHERE i.status NOT IN ('draft', 'void')
   AND i.document_type = 'tax_invoice'
   AND i.customer_gstin IS NULL
   AND NOT i.tax_exempt
   AND i.currency = 'INR'
   AND i.place_of_supply_state_code IS DISTINCT FROM '96'
   AND i.place_of_supply_state_code IS DISTINCT FROM i.supplier_state_code
   AND i.total > @extschema@.gstr1_b2cl_threshold(i.issue_date)
 GROUP BY i.id, s.name, l.gst_rate;
COMMENT ON VIEW @extschema@.gstr1_b2cl IS
    'GSTR-1 b2cl: issued inter-State tax invoices (INR, GST charged) to an unregistered recipient whose total is more '
    'than balatrix.gstr1_b2cl_threshold(issue date), one row per invoice and GST rate: invoice number, date and value, '
    'place of supply as "04-Chandigarh", rate, taxable value and IGST. These invoices are not in gstr1_b2cs.';

CREATE VIEW @extschema@.gstr1_b2cs WITH (security_invoker = true) AS
SELECT date_trunc('month', i.issue_date::timestamp)::date AS month,
       i.financial_year,
       i.supplier_gstin,
       CASE WHEN i.place_of_supply_state_code = i.supplier_state_code THEN 'INTRA' ELSE 'INTER' END AS supply_type,
       i.place_of_supply_state_code || '-' || s.name AS place_of_supply,
       'OE'::text AS type,
       l.gst_rate AS rate,
       sum(CASE i.document_type WHEN 'credit_note' THEN -l.taxable_value ELSE l.taxable_value END) AS taxable_value,
       sum(CASE i.document_type WHEN 'credit_note' THEN -l.igst ELSE l.igst END) AS igst,
       sum(CASE i.document_type WHEN 'credit_note' THEN -l.cgst ELSE l.cgst END) AS cgst,
       sum(CASE i.document_type WHEN 'credit_note' THEN -(l.sgst + l.utgst) ELSE l.sgst + l.utgst END) AS sgst_utgst,
       0.00::numeric(14,2) AS cess
  FROM @extschema@.invoices i
  JOIN @extschema@.invoice_lines l ON l.invoice_id = i.id
  LEFT JOIN @extschema@.gst_states s ON s.code = i.place_of_supply_state_code
  -- A note is classified by the invoice it corrects: one against a b2cl invoice is not netted here.
  LEFT JOIN @extschema@.invoices o ON o.id = i.original_invoice_id
 WHERE i.status NOT IN ('draft', 'void')
   AND i.customer_gstin IS NULL
   AND NOT i.tax_exempt
   AND i.currency = 'INR'
   AND i.place_of_supply_state_code IS DISTINCT FROM '96'
   AND NOT coalesce(coalesce(o.place_of_supply_state_code, i.place_of_supply_state_code)
                        IS DISTINCT FROM coalesce(o.supplier_state_code, i.supplier_state_code)
                    AND coalesce(o.total, i.total) > @extschema@.gstr1_b2cl_threshold(coalesce(o.issue_date, i.issue_date)),
                    false)
 GROUP BY 1, i.financial_year, i.supplier_gstin, 4, i.place_of_supply_state_code, s.name, l.gst_rate;
COMMENT ON VIEW @extschema@.gstr1_b2cs IS
    'GSTR-1 b2cs: supplies (INR, GST charged) to unregistered recipients other than b2cl invoices, per supplier GSTIN, '
    'month, supply type (INTRA when the place of supply is the supplier''s State, else INTER), place of supply as '
    '"29-Karnataka" and GST rate; type OE (no e-commerce operator). Net of notes: tax invoices and debit notes count +, '
    'credit notes - (in the month the note is issued), so a month with more credit than supply shows negative '
    'amounts (to be reported as a b2cs amendment). Notes against a b2cl invoice are left out (they are cdnur).';

CREATE VIEW @extschema@.gstr1_cdnr WITH (security_invoker = true) AS
SELECT date_trunc('month', i.issue_date::timestamp)::date AS month,
       i.financial_year,
       i.supplier_gstin,
       i.customer_gstin AS recipient_gstin,
       i.customer_name AS receiver_name,
       i.id AS note_id,
       i.invoice_number AS note_number,
       i.issue_date AS note_date,
       CASE i.document_type WHEN 'credit_note' THEN 'C' ELSE 'D' END AS note_type,
       o.invoice_number AS original_invoice_number,
       o.issue_date AS original_invoice_date,
       i.place_of_supply_state_code || '-' || s.name AS place_of_supply,
       CASE WHEN i.reverse_charge THEN 'Y' ELSE 'N' END AS reverse_charge,
       'Regular B2B'::text AS note_supply_type,
       i.total AS note_value,
       l.gst_rate AS rate,
       sum(l.taxable_value) AS taxable_value,
       sum(l.igst) AS igst,
       sum(l.cgst) AS cgst,
       sum(l.sgst + l.utgst) AS sgst_utgst,
       0.00::numeric(14,2) AS cess
  FROM @extschema@.invoices i
  JOIN @extschema@.invoice_lines l ON l.invoice_id = i.id
  LEFT JOIN @extschema@.gst_states s ON s.code = i.place_of_supply_state_code
  LEFT JOIN @extschema@.invoices o ON o.id = i.original_invoice_id
 WHERE i.status NOT IN ('draft', 'void')
   AND i.document_type IN ('credit_note', 'debit_note')
   AND i.customer_gstin IS NOT NULL
   AND NOT i.tax_exempt
   AND i.currency = 'INR'
   AND i.place_of_supply_state_code IS DISTINCT FROM '96'
 GROUP BY i.id, o.invoice_number, o.issue_date, s.name, l.gst_rate;
COMMENT ON VIEW @extschema@.gstr1_cdnr IS
    'GSTR-1 cdnr: issued credit and debit notes (INR, GST charged) to a registered recipient, one row per note and GST '
    'rate: recipient GSTIN and name, note number and date, note_type C (credit) or D (debit), the original invoice''s '
    'number and date, place of supply as "27-Maharashtra", reverse charge Y/N, note value (its total), rate, and the '
    'taxable value, IGST, CGST and State/UT tax (sgst_utgst) of that rate''s lines. Amounts are as on the note, >= 0: '
    'note_type says whether they reduce or add to the liability.';

CREATE VIEW @extschema@.gstr1_hsn WITH (security_invoker = true) AS
SELECT date_trunc('month', i.issue_date::timestamp)::date AS month,
       i.financial_year,
       i.supplier_gstin,
       CASE WHEN i.customer_gstin IS NULL THEN 'B2C' ELSE 'B2B' END AS recipient_type,
       l.sac,
       'NA'::text AS uqc,
       l.gst_rate AS rate,
       sum(CASE i.document_type WHEN 'credit_note' THEN -l.quantity ELSE l.quantity END) AS quantity,
       sum(CASE i.document_type WHEN 'credit_note' THEN -1 ELSE 1 END
           * (l.taxable_value + l.igst + l.cgst + l.sgst + l.utgst)) AS total_value,
       sum(CASE i.document_type WHEN 'credit_note' THEN -l.taxable_value ELSE l.taxable_value END) AS taxable_value,
       sum(CASE i.document_type WHEN 'credit_note' THEN -l.igst ELSE l.igst END) AS igst,
       sum(CASE i.document_type WHEN 'credit_note' THEN -l.cgst ELSE l.cgst END) AS cgst,
       sum(CASE i.document_type WHEN 'credit_note' THEN -(l.sgst + l.utgst) ELSE l.sgst + l.utgst END) AS sgst_utgst,
       0.00::numeric(14,2) AS cess
  FROM @extschema@.invoices i
  JOIN @extschema@.invoice_lines l ON l.invoice_id = i.id
 WHERE i.status NOT IN ('draft', 'void')
   AND i.currency = 'INR'
 GROUP BY 1, i.financial_year, i.supplier_gstin, 4, l.sac, l.gst_rate;
COMMENT ON VIEW @extschema@.gstr1_hsn IS
    'GSTR-1 hsn (Table 12): issued INR documents per supplier GSTIN, month, recipient_type (B2B with a GSTIN on the '
    'document, else B2C: the portal''s two tabs), SAC and GST rate (0 for tax-exempt supplies, which are included): '
    'quantity, total value (taxable + tax, without round-off), taxable value, IGST, CGST and State/UT tax '
    '(sgst_utgst). Net of notes: tax invoices and debit notes count +, credit notes - (quantity too). uqc is NA '
    '(services); the GSTR-1 JSON convention for services is qty 0, so an exporter may drop quantity.';

-- The e-invoice (IRN request) JSON of one issued B2B document, NIC schema INV-01 version 1.1
-- (reference/gst-payments.md §1.7). The supplier's legal name and address are not stored (only
-- its GSTIN and State are frozen on the document), so the caller passes them; the buyer's street,
-- city and PIN code are read from the customer at call time (the document freezes only the
-- one-line address), so the JSON is made when the document is issued. Credit lines (discounts)
-- are folded into the Discount of the first charge line of the same SAC and rate: the schema has
-- no negative amounts.
CREATE FUNCTION @extschema@.einvoice_json(invoice uuid, seller jsonb DEFAULT '{}') RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    inv record;
    buyer_street text;
    buyer_city text;
    buyer_pin text;
    orig_number text;
    orig_date date;
    sel jsonb := coalesce(seller, '{}');
    accepted constant text[] := ARRAY['LglNm', 'TrdNm', 'Addr1', 'Addr2', 'Loc', 'Pin', 'Ph', 'Em'];
    label text;
    problem text;
    buyer_addr text;
    bad record;
    items jsonb;
    item_count integer;
BEGIN
    SELECT i.* INTO inv FROM @extschema@.invoices i WHERE i.id = invoice;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invoice % does not exist', coalesce(invoice::text, 'NULL') USING ERRCODE = 'P0002';
    END IF;
    label := coalesce(inv.invoice_number, invoice::text);
    IF inv.status IN ('draft', 'void') THEN
        RAISE EXCEPTION 'invoice % is %: only an issued document has an e-invoice', label, inv.status
            USING ERRCODE = '22023',
                  HINT = CASE inv.status WHEN 'draft' THEN 'Issue it first with balatrix.issue_invoice.'
                         ELSE 'A void document is not reported; cancel its IRN on the IRP if it had one.' END;
    END IF;
    IF inv.supplier_gstin IS NULL THEN
        RAISE EXCEPTION 'invoice % has no supplier GSTIN: an e-invoice needs the seller''s GSTIN', label
            USING ERRCODE = '22023',
                  HINT = 'The supplier is frozen on the draft: set balatrix.supplier_gstin before drafting documents.';
    END IF;
    IF inv.customer_gstin IS NULL THEN
        RAISE EXCEPTION 'invoice % is B2C (the recipient has no GSTIN): e-invoicing covers B2B documents only', label
            USING ERRCODE = '22023',
                  HINT = 'B2C invoices are not reported to the IRP; set the customer''s GSTIN before drafting a B2B invoice.';
    END IF;
    IF inv.currency <> 'INR' THEN
        RAISE EXCEPTION 'invoice % is in %: this e-invoice covers INR B2B supplies only', label, inv.currency
            USING ERRCODE = '22023', HINT = 'Exports (SupTyp EXPWP / EXPWOP) are not supported.';
    END IF;
    IF left(inv.supplier_gstin, 2) IS DISTINCT FROM inv.supplier_state_code THEN
        RAISE EXCEPTION 'invoice %: the supplier GSTIN % is not registered in the supplier State %', label,
                        inv.supplier_gstin, coalesce(inv.supplier_state_code, 'NULL')
            USING ERRCODE = '22023', HINT = 'The IRP requires the first two digits of the seller''s GSTIN to be its Stcd.';
    END IF;

    -- The seller's details the database does not hold.
    IF jsonb_typeof(sel) <> 'object' THEN
        RAISE EXCEPTION 'seller must be a JSON object, not %', jsonb_typeof(sel) USING ERRCODE = '22023',
            HINT = 'e.g. {"LglNm": "Balatrix Telecom Pvt Ltd", "Addr1": "100 Feet Road", "Loc": "Bengaluru", "Pin": 560038}';
    END IF;
    SELECT string_agg(k, ', ' ORDER BY k) INTO problem FROM jsonb_object_keys(sel) AS k WHERE k <> ALL (accepted);
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION 'unknown seller detail(s): %', problem USING ERRCODE = '22023',
            HINT = 'Accepted: LglNm, TrdNm, Addr1, Addr2, Loc, Pin, Ph, Em. Gstin and Stcd come from the invoice.';
    END IF;
    SELECT string_agg(k, ', ' ORDER BY n) INTO problem
      FROM unnest(ARRAY['LglNm', 'Addr1', 'Loc', 'Pin']) WITH ORDINALITY AS r(k, n)
     WHERE coalesce(btrim(sel ->> k), '') = '';
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION 'the seller details lack %', problem USING ERRCODE = '22023',
            HINT = 'Pass the supplier''s legal name and address: balatrix.einvoice_json(invoice, '
                   '''{"LglNm": "...", "Addr1": "...", "Loc": "...", "Pin": 560038}'').';
    END IF;
    SELECT string_agg(k, ', ' ORDER BY k) INTO problem
      FROM jsonb_each(sel) AS e(k, v) WHERE k <> 'Pin' AND jsonb_typeof(v) <> 'string';
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION 'seller detail(s) % must be JSON strings', problem USING ERRCODE = '22023';
    END IF;
    IF jsonb_typeof(sel -> 'Pin') NOT IN ('string', 'number') OR sel ->> 'Pin' !~ '^[1-9][0-9]{5}$' THEN
        RAISE EXCEPTION 'seller Pin % is not a six-digit PIN code', sel -> 'Pin' USING ERRCODE = '22023';
    END IF;
    -- The schema's lengths, so that the IRP does not refuse what is built here.
    SELECT string_agg(format('%s (%s to %s characters)', r.k, r.lo, r.hi), ', ' ORDER BY r.n) INTO problem
      FROM (VALUES (1, 'LglNm', 3, 100), (2, 'TrdNm', 3, 100), (3, 'Addr1', 1, 100), (4, 'Addr2', 3, 100),
                   (5, 'Loc', 3, 50), (6, 'Ph', 6, 12), (7, 'Em', 6, 100)) AS r(n, k, lo, hi)
     WHERE coalesce(btrim(sel ->> r.k), '') <> '' AND char_length(btrim(sel ->> r.k)) NOT BETWEEN r.lo AND r.hi;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION 'seller detail(s) of a length the e-invoice schema refuses: %', problem USING ERRCODE = '22023';
    END IF;

    -- The buyer's address (the name and GSTIN are frozen on the document).
    -- No row (a customer hidden by row-level security) leaves the three NULL.
    SELECT c.billing_address, c.billing_city, c.billing_pincode INTO buyer_street, buyer_city, buyer_pin
      FROM @extschema@.customers c WHERE c.id = inv.customer_id;
    buyer_addr := coalesce(nullif(btrim(buyer_street), ''), nullif(btrim(inv.customer_address), ''));
    IF buyer_addr IS NULL OR coalesce(btrim(buyer_city), '') = '' THEN
        RAISE EXCEPTION 'invoice %: the buyer''s % is missing', label,
                        CASE WHEN buyer_addr IS NULL THEN 'address' ELSE 'city' END
            USING ERRCODE = '22023', HINT = 'Set billing_address and billing_city of the customer (Addr1 and Loc).';
    END IF;

    IF inv.document_type <> 'tax_invoice' THEN
        SELECT o.invoice_number, o.issue_date INTO orig_number, orig_date FROM @extschema@.invoices o WHERE o.id = inv.original_invoice_id;
    END IF;

    -- Items: the charge lines (taxable value >= 0), each with the credit lines (< 0) of its SAC and
    -- rate folded into its Discount when it is the first such charge line.
    SELECT l.line_no, l.kind, l.taxable_value, t.line_no AS target, t.taxable_value AS target_value INTO bad
      FROM @extschema@.invoice_lines l
      LEFT JOIN LATERAL (SELECT p.line_no, p.taxable_value FROM @extschema@.invoice_lines p
                          WHERE p.invoice_id = l.invoice_id AND p.taxable_value > 0 AND p.sac = l.sac
                            AND p.gst_rate = l.gst_rate
                          ORDER BY p.line_no LIMIT 1) t ON true
     WHERE l.invoice_id = invoice AND l.taxable_value < 0
       AND (t.line_no IS NULL
            OR t.taxable_value + (SELECT sum(c.taxable_value) FROM @extschema@.invoice_lines c
                                   WHERE c.invoice_id = l.invoice_id AND c.taxable_value < 0 AND c.sac = l.sac
                                     AND c.gst_rate = l.gst_rate) < 0)
     ORDER BY l.line_no LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'invoice %: the % line % (%) has no charge line of its SAC and rate large enough to discount',
                        label, bad.kind, bad.line_no, bad.taxable_value
            USING ERRCODE = '22023', HINT = 'The e-invoice has no negative items: a net credit is a credit note.';
    END IF;

    WITH lines AS (
        SELECT l.line_no, l.description, l.sac, l.quantity, l.unit_price, l.taxable_value, l.gst_rate,
               l.cgst, l.sgst + l.utgst AS sgst, l.igst
          FROM @extschema@.invoice_lines l
         WHERE l.invoice_id = invoice
    ), credits AS (
        SELECT (SELECT min(p.line_no) FROM lines p WHERE p.taxable_value > 0 AND p.sac = c.sac AND p.gst_rate = c.gst_rate)
                   AS target,
               -sum(c.taxable_value) AS discount, sum(c.cgst) AS cgst, sum(c.sgst) AS sgst, sum(c.igst) AS igst
          FROM lines c
         WHERE c.taxable_value < 0
         GROUP BY c.sac, c.gst_rate
    ), charged AS (
        SELECT row_number() OVER (ORDER BY p.line_no) AS sl_no, p.line_no, p.description, p.sac, p.quantity,
               greatest(coalesce(p.unit_price, CASE WHEN p.quantity > 0 THEN p.taxable_value / p.quantity
                                                    ELSE p.taxable_value END), 0) AS unit_price,
               p.taxable_value, p.gst_rate, c.discount,
               p.taxable_value - coalesce(c.discount, 0) AS assessable,
               p.igst + coalesce(c.igst, 0) AS igst, p.cgst + coalesce(c.cgst, 0) AS cgst,
               p.sgst + coalesce(c.sgst, 0) AS sgst
          FROM lines p
          LEFT JOIN credits c ON c.target = p.line_no
         WHERE p.taxable_value >= 0
    )
    SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
               'SlNo', ch.sl_no::text,
               'PrdDesc', left(translate(ch.description, '"', ''''), 300),
               'IsServc', 'Y',
               'HsnCd', ch.sac,
               'Qty', trim_scale(round(ch.quantity, 3)),
               -- The schema allows 3 decimals; a price in whole paise is shown with 2.
               'UnitPrice', CASE WHEN round(ch.unit_price, 2) = ch.unit_price THEN round(ch.unit_price, 2)
                                 ELSE round(ch.unit_price, 3) END,
               'TotAmt', ch.taxable_value,
               'Discount', ch.discount,
               'AssAmt', ch.assessable,
               'GstRt', trim_scale(ch.gst_rate),
               'IgstAmt', ch.igst,
               'CgstAmt', ch.cgst,
               'SgstAmt', ch.sgst,
               'TotItemVal', ch.assessable + ch.igst + ch.cgst + ch.sgst))
           ORDER BY ch.sl_no),
           count(*)
      INTO items, item_count
      FROM charged ch;
    IF item_count = 0 OR item_count > 1000 THEN
        RAISE EXCEPTION 'invoice % has % items: an e-invoice has 1 to 1000', label, item_count USING ERRCODE = '22023';
    END IF;

    RETURN jsonb_strip_nulls(jsonb_build_object(
        'Version', '1.1',
        'TranDtls', jsonb_build_object('TaxSch', 'GST', 'SupTyp', 'B2B',
                                       'RegRev', CASE WHEN inv.reverse_charge THEN 'Y' ELSE 'N' END),
        'DocDtls', jsonb_build_object('Typ', CASE inv.document_type WHEN 'credit_note' THEN 'CRN'
                                                                    WHEN 'debit_note' THEN 'DBN' ELSE 'INV' END,
                                      'No', inv.invoice_number,
                                      'Dt', to_char(inv.issue_date, 'DD/MM/YYYY')),
        'SellerDtls', jsonb_build_object('Gstin', inv.supplier_gstin,
                                         'LglNm', btrim(sel ->> 'LglNm'),
                                         'TrdNm', nullif(btrim(sel ->> 'TrdNm'), ''),
                                         'Addr1', btrim(sel ->> 'Addr1'),
                                         'Addr2', nullif(btrim(sel ->> 'Addr2'), ''),
                                         'Loc', btrim(sel ->> 'Loc'),
                                         'Pin', (sel ->> 'Pin')::integer,
                                         'Stcd', inv.supplier_state_code,
                                         'Ph', nullif(btrim(sel ->> 'Ph'), ''),
                                         'Em', nullif(btrim(sel ->> 'Em'), '')),
        'BuyerDtls', jsonb_build_object('Gstin', inv.customer_gstin,
                                        'LglNm', inv.customer_name,
                                        'Pos', inv.place_of_supply_state_code,
                                        'Addr1', left(buyer_addr, 100),
                                        'Loc', left(btrim(buyer_city), 100),
                                        'Pin', buyer_pin::integer,
                                        -- The IRP checks that the buyer's GSTIN starts with its Stcd.
                                        'Stcd', left(inv.customer_gstin, 2)),
        'ItemList', items,
        'ValDtls', jsonb_build_object('AssVal', inv.taxable_total,
                                      'CgstVal', inv.cgst_total,
                                      'SgstVal', inv.sgst_total + inv.utgst_total,
                                      'IgstVal', inv.igst_total,
                                      'RndOffAmt', inv.round_off,
                                      'TotInvVal', inv.total),
        'RefDtls', CASE WHEN orig_number IS NOT NULL THEN
                       jsonb_build_object('PrecDocDtls', jsonb_build_array(jsonb_build_object(
                           'InvNo', orig_number, 'InvDt', to_char(orig_date, 'DD/MM/YYYY'))))
                   END));
END
$$;
COMMENT ON FUNCTION @extschema@.einvoice_json(uuid, jsonb) IS
    'The e-invoice (IRN request) JSON, NIC schema INV-01 version 1.1, of an issued B2B document: TranDtls (GST, B2B, '
    'RegRev), DocDtls (INV / CRN / DBN, number, DD/MM/YYYY), SellerDtls (GSTIN and State frozen on the document; '
    'LglNm, Addr1, Loc, Pin and the optional TrdNm, Addr2, Ph, Em from the seller argument, which the database does '
    'not hold), BuyerDtls (GSTIN, name and place of supply frozen on the document; Addr1, Loc, Pin from the customer '
    'now; Stcd from the GSTIN), ItemList (one service item per charge line: SAC, quantity, unit price, amounts; '
    'credit lines folded into the Discount of the first charge line of the same SAC and rate; UTGST in SgstAmt), '
    'ValDtls (the document totals, round-off in RndOffAmt), RefDtls.PrecDocDtls for a note. Amounts are JSON numbers '
    'with 2 decimals. P0002 unknown invoice; 22023 for a draft or void document, a B2C one (no customer GSTIN), no '
    'supplier GSTIN, a non-INR document, missing or malformed seller details, or a missing buyer address / city.';

-- Privileges. The extension script revokes EXECUTE on every function from PUBLIC in its privileges
-- section: gstr1_b2cl_threshold (pure) belongs in its "GRANT EXECUTE ... TO PUBLIC" list. The
-- views need nothing here: the script's ownership loop and "GRANT SELECT ON ALL TABLES ... TO
-- balatrix_readonly" cover them when this section comes before those.
REVOKE ALL ON FUNCTION @extschema@.einvoice_json(uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.einvoice_json(uuid, jsonb) TO balatrix_readonly;
GRANT EXECUTE ON FUNCTION @extschema@.gstr1_b2cl_threshold(date) TO PUBLIC;

-- ============================================================================================
-- Scheduled jobs: health check, retention, and their pg_cron registration
-- ============================================================================================
-- pg_cron is not a dependency of the extension: the extension installs without it, and only
-- schedule_jobs / unschedule_jobs need it, calling cron.* dynamically (EXECUTE). The jobs
-- themselves are plain SQL functions that an operator can also run by hand. Each run of
-- run_health_check and run_retention leaves one row in balatrix.job_runs (what it did, how long it
-- took); a run that fails rolls back with its row, and pg_cron's cron.job_run_details keeps the error.
CREATE FUNCTION @extschema@.run_health_check(at timestamptz DEFAULT now())
    RETURNS TABLE (alert text, severity text, value numeric, threshold numeric)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    -- The alerting THRESHOLDS of the original (reference/seed-original.md §2.7) that the database
    -- can see. Rates are percentages over the hour before `at`, rounded to 2 decimals; an alert
    -- fires when its value (as reported) is strictly greater than its threshold.
    rating_failure_pct    constant numeric := 5;   -- CDR failure rate 5 %/hour
    payment_failure_pct   constant numeric := 10;  -- payment failure rate 10 %/hour
    overdue_invoices_max  constant numeric := 50;  -- overdue invoices > 50: warning
    overdue_days_max      constant numeric := 30;  -- any invoice > 30 days overdue: critical
    critical_accounts_max constant numeric := 10;  -- critical-balance accounts > 10: critical
    started timestamptz := clock_timestamp();
    -- Invoice due dates are IST calendar days (issue_invoice); the hour bucket of the dedupe key is
    -- a UTC hour, so that it does not depend on the session's time zone.
    today date := (at AT TIME ZONE 'Asia/Kolkata')::date;
    bucket text := to_char(date_trunc('hour', at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24":00Z"');
    rating_pct numeric;
    payment_pct numeric;
    overdue_count bigint;
    oldest_overdue_days integer;
    critical_accounts bigint;
    chk record;
    fired text[] := '{}';
    events integer := 0;
    n integer;
BEGIN
    IF at IS NULL OR NOT isfinite(at) THEN
        RAISE EXCEPTION 'at must be a finite time, not %', at USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- CDRs received in [at - 1 h, at) that the trigger could not rate (skipped legs are fine);
    -- no CDRs, no rate. received_at prunes the partitions.
    SELECT round(100.0 * count(*) FILTER (WHERE c.rating_status NOT IN ('rated', 'skipped')) / nullif(count(*), 0), 2)
      INTO rating_pct
      FROM @extschema@.cdr c
     WHERE c.received_at >= at - interval '1 hour' AND c.received_at < at;
    SELECT round(100.0 * count(*) FILTER (WHERE p.status = 'failed') / nullif(count(*), 0), 2)
      INTO payment_pct
      FROM @extschema@.payments p
     WHERE p.created_at >= at - interval '1 hour' AND p.created_at < at;
    -- Unpaid documents past their due date (the predicate of invoices_open_idx).
    SELECT count(*), max(today - i.due_date)
      INTO overdue_count, oldest_overdue_days
      FROM @extschema@.invoices i
     WHERE i.status IN ('issued', 'partially_paid', 'overdue') AND i.due_date < today;
    SELECT count(*) INTO critical_accounts
      FROM @extschema@.accounts a
     WHERE a.account_type = 'prepaid' AND a.status = 'active' AND a.balance <= a.critical_balance_threshold;

    FOR chk IN
        SELECT c.name, c.sev, c.val, c.lim
          FROM (VALUES (1, 'rating_failure_rate', 'critical', rating_pct, rating_failure_pct),
                       (2, 'payment_failure_rate', 'warning', payment_pct, payment_failure_pct),
                       (3, 'overdue_invoices', 'warning', overdue_count::numeric, overdue_invoices_max),
                       (4, 'oldest_overdue_invoice', 'critical', oldest_overdue_days::numeric, overdue_days_max),
                       (5, 'critical_balance_accounts', 'critical', critical_accounts::numeric, critical_accounts_max))
               AS c(ord, name, sev, val, lim)
         WHERE c.val > c.lim
         ORDER BY c.ord
    LOOP
        -- At most one event per alert and UTC hour: a check that runs every 15 minutes (or by hand)
        -- does not repeat an alert within the hour, but still reports it.
        INSERT INTO @extschema@.event_outbox (event_type, aggregate_type, aggregate_id, payload, dedupe_key)
        VALUES ('alert.' || chk.name, 'alert', chk.name,
                jsonb_build_object('alert', chk.name, 'severity', chk.sev, 'value', chk.val, 'threshold', chk.lim, 'at', at),
                'alert.' || chk.name || ':' || bucket)
        ON CONFLICT (dedupe_key) DO NOTHING;
        GET DIAGNOSTICS n = ROW_COUNT;
        events := events + n;
        fired := fired || chk.name;
        alert := chk.name;
        severity := chk.sev;
        value := chk.val;
        threshold := chk.lim;
        RETURN NEXT;
    END LOOP;

    INSERT INTO @extschema@.job_runs (job, as_of, started_at, finished_at, status, counts, duration_ms)
    VALUES ('health_check', today, started, clock_timestamp(), 'succeeded',
            jsonb_build_object('checks', 5, 'fired', cardinality(fired), 'alerts', to_jsonb(fired), 'events', events,
                               'rating_failure_pct', rating_pct, 'payment_failure_pct', payment_pct,
                               'overdue_invoices', overdue_count, 'oldest_overdue_days', oldest_overdue_days,
                               'critical_balance_accounts', critical_accounts),
            round(extract(epoch FROM clock_timestamp() - started) * 1000, 3));
    RAISE NOTICE 'balatrix health check at %: % of 5 alerts firing%, % new events, % ms', at, cardinality(fired),
                 CASE WHEN cardinality(fired) > 0 THEN ' (' || array_to_string(fired, ', ') || ')' ELSE '' END, events,
                 round(extract(epoch FROM clock_timestamp() - started) * 1000, 3);
END
$$;
COMMENT ON FUNCTION @extschema@.run_health_check(timestamptz) IS
    'The alert thresholds of the original that the database can see, evaluated at `at` (default now): CDR rating '
    'failure rate over [at - 1 h, at) > 5 % (critical), payment failure rate over that hour > 10 % (warning), more '
    'than 50 unpaid invoices past due (warning), an invoice more than 30 days past due (critical; value = days), more '
    'than 10 active prepaid accounts at or below their critical balance threshold (critical). Returns the alerts '
    'that fire; each becomes an alert.<name> outbox event at most once per UTC hour (dedupe_key). Records a job_runs '
    'row (job health_check). pg_cron runs it every 15 minutes (balatrix.schedule_jobs).';

CREATE FUNCTION @extschema@.run_retention(as_of date DEFAULT NULL)
    RETURNS TABLE (what text, removed bigint)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    started timestamptz := clock_timestamp();
    today date := (now() AT TIME ZONE 'Asia/Kolkata')::date;
    day date := coalesce(run_retention.as_of, today);
    cdr_days integer := (@extschema@.billing_settings()).cdr_retention_days;
    outbox_days integer := (@extschema@.billing_settings()).outbox_retention_days;
    dropped text[] := '{}';
    default_rows bigint := 0;
    refresh_removed bigint;
    user_removed bigint;
    outbox_removed bigint := 0;
BEGIN
    -- A later day would remove what is not yet due; an earlier one removes less (a catch-up is safe).
    IF day > today THEN
        RAISE EXCEPTION 'as_of % is after today (%, IST)', day, today USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Retention runs for today or an earlier day.';
    END IF;

    -- CDRs: every monthly partition whose calls were all received before the cutoff (a UTC midnight,
    -- drop_cdr_partitions' contract), and rows of the catch-all partition older than it (it holds
    -- only calls no monthly partition covered). 0 keeps everything.
    IF cdr_days > 0 THEN
        SELECT coalesce(array_agg(d ORDER BY d), '{}') INTO dropped
          FROM @extschema@.drop_cdr_partitions(day - cdr_days) AS d;
        DELETE FROM @extschema@.cdr_default c
         WHERE c.received_at < ((day - cdr_days)::timestamp AT TIME ZONE 'UTC');
        GET DIAGNOSTICS default_rows = ROW_COUNT;
    END IF;

    -- Tokens are judged against the clock, never against as_of: an unexpired token stays whatever
    -- day is asked. A day of grace keeps a just-expired or just-used token explainable to its user.
    -- A revoked refresh token is kept until it expires: presenting it must still revoke its family.
    DELETE FROM @extschema@.refresh_tokens t WHERE t.expires_at < now() - interval '1 day';
    GET DIAGNOSTICS refresh_removed = ROW_COUNT;
    DELETE FROM @extschema@.user_tokens t
     WHERE t.expires_at < now() - interval '1 day' OR t.used_at < now() - interval '1 day';
    GET DIAGNOSTICS user_removed = ROW_COUNT;

    -- Delivered events (status done) processed before IST day as_of - outbox_retention_days. Pending
    -- and dead ones stay for a person to look at; notifications keep their rows (event_id SET NULL).
    IF outbox_days > 0 THEN
        DELETE FROM @extschema@.event_outbox e
         WHERE e.status = 'done' AND e.processed_at < ((day - outbox_days)::timestamp AT TIME ZONE 'Asia/Kolkata');
        GET DIAGNOSTICS outbox_removed = ROW_COUNT;
    END IF;

    -- The ledger, invoices, payments and the audit log are records: never removed.
    INSERT INTO @extschema@.job_runs (job, as_of, started_at, finished_at, status, counts, duration_ms)
    VALUES ('retention', day, started, clock_timestamp(), 'succeeded',
            jsonb_build_object('cdr_partitions', cardinality(dropped), 'cdr_partitions_dropped', to_jsonb(dropped),
                               'cdr_default_rows', default_rows, 'refresh_tokens', refresh_removed,
                               'user_tokens', user_removed, 'event_outbox', outbox_removed,
                               'cdr_retention_days', cdr_days, 'outbox_retention_days', outbox_days),
            round(extract(epoch FROM clock_timestamp() - started) * 1000, 3));
    RAISE NOTICE 'balatrix retention as of %: % CDR partitions dropped%, % old rows of cdr_default, % refresh tokens, '
                 '% user tokens, % outbox events removed, % ms', day, cardinality(dropped),
                 CASE WHEN cardinality(dropped) > 0 THEN ' (' || array_to_string(dropped, ', ') || ')' ELSE '' END,
                 default_rows, refresh_removed, user_removed, outbox_removed,
                 round(extract(epoch FROM clock_timestamp() - started) * 1000, 3);

    RETURN QUERY VALUES ('cdr_partitions', cardinality(dropped)::bigint), ('cdr_default_rows', default_rows),
                        ('refresh_tokens', refresh_removed), ('user_tokens', user_removed),
                        ('event_outbox', outbox_removed);
END
$$;
COMMENT ON FUNCTION @extschema@.run_retention(date) IS
    'Retention as of as_of (default today, IST; a later day is 22023): drops the monthly CDR partitions wholly '
    'older than balatrix.cdr_retention_days (default 90; 0 keeps all) and deletes older rows of cdr_default; deletes '
    'refresh tokens expired more than a day ago and user tokens used or expired more than a day ago; deletes '
    'delivered (done) outbox events processed more than balatrix.outbox_retention_days (default 30; 0 keeps all) '
    'days before as_of. Never touches the ledger, invoices, payments or audit log. Returns what was removed and how '
    'many (partitions for cdr_partitions, rows otherwise); records a job_runs row (job retention). pg_cron runs it '
    'daily (balatrix.schedule_jobs).';

-- The pg_cron jobs of PRODUCT.md §7. pg_cron 1.4 reads schedules in UTC (cron.timezone arrived in
-- 1.5), so the IST times are written 5 h 30 min earlier. Named jobs are upserted by (name, user), so
-- a second call replaces the first; balatrix- jobs not in the set (an older release's, or another
-- user's copy, which would run twice) are removed.
CREATE FUNCTION @extschema@.schedule_jobs(schedules jsonb DEFAULT '{}')
    RETURNS TABLE (job text, schedule text, command text, jobid bigint)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    overrides jsonb := coalesce(schedules, '{}');
    cron_db text := current_setting('cron.database_name', true);
    unknown text;
    spec record;
    kept bigint[] := '{}';
    stale bigint;
BEGIN
    IF jsonb_typeof(overrides) <> 'object' THEN
        RAISE EXCEPTION 'schedules must be a JSON object of job short names to cron schedules, not %', overrides
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT string_agg(k, ', ' ORDER BY k) INTO unknown
      FROM jsonb_object_keys(overrides) AS k
     WHERE k NOT IN ('billing-cycle', 'renewals', 'overdue-sweep', 'retention', 'partitions', 'health-check',
                     'payment-retries');
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown job in schedules: %', unknown USING ERRCODE = 'invalid_parameter_value',
            HINT = 'The jobs are billing-cycle, renewals, overdue-sweep, retention, partitions, health-check and '
                   'payment-retries.';
    END IF;
    SELECT string_agg(e.key, ', ' ORDER BY e.key) INTO unknown
      FROM jsonb_each(overrides) AS e WHERE jsonb_typeof(e.value) <> 'string';
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'the schedule of % is not a string', unknown USING ERRCODE = 'invalid_parameter_value',
            HINT = 'A cron expression in UTC, e.g. "*/15 * * * *".';
    END IF;

    -- cron.database_name is defined once pg_cron is preloaded; the cron schema exists only in that
    -- database. From any other database the scheduler's job table cannot be reached at all.
    IF cron_db IS NULL OR to_regprocedure('cron.schedule(text,text,text)') IS NULL THEN
        RAISE EXCEPTION 'pg_cron is not available in database %', current_database()
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = CASE WHEN cron_db IS NULL THEN 'The pg_cron library is not loaded.'
                                WHEN cron_db <> current_database() THEN 'pg_cron runs in database ' || cron_db || '.'
                                ELSE 'The pg_cron extension is not created.' END,
                  HINT = 'install pg_cron (shared_preload_libraries = ''pg_cron'', CREATE EXTENSION pg_cron in cron.database_name)';
    END IF;
    -- The cron schema here although pg_cron now runs elsewhere (cron.database_name changed after
    -- CREATE EXTENSION): the scheduler reads cron.job only in its own database, so jobs registered
    -- here, with cron.schedule or cron.schedule_in_database alike, would never run.
    IF cron_db <> current_database() THEN
        RAISE EXCEPTION 'pg_cron runs jobs from database %, not from %', cron_db, current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Install balatrix in database ' || cron_db || ', or set cron.database_name = '''
                         || current_database() || ''' and restart.';
    END IF;

    FOR spec IN
        SELECT d.name, coalesce(overrides ->> d.name, d.sched) AS sched, d.cmd
          FROM (VALUES (1, 'billing-cycle', '30 20 * * *', 'CALL @extschema@.run_billing_cycle_job()'),   -- 02:00 IST
                       -- The cycle is idempotent: hourly, it catches up subscriptions that became due
                       -- since the daily run (a resumed or reactivated one, say); not between 00:00
                       -- and 02:00 IST (18-20 UTC), so the day's billing is the 02:00 run's.
                       (2, 'renewals', '5 0-17,21-23 * * *', 'CALL @extschema@.run_billing_cycle_job()'),
                       (3, 'overdue-sweep', '30 3 * * *', 'SELECT @extschema@.run_dunning()'),            -- 09:00 IST
                       (4, 'retention', '30 21 * * *', 'SELECT @extschema@.run_retention()'),             -- 03:00 IST
                       (5, 'partitions', '0 20 * * *', 'SELECT @extschema@.create_cdr_partitions(3)'),   -- 01:30 IST
                       (6, 'health-check', '*/15 * * * *', 'SELECT @extschema@.run_health_check()'),
                       -- Failed invoice payments whose next try (2, 4, 8 hours on) has come.
                       (7, 'payment-retries', '*/15 * * * *', 'SELECT @extschema@.run_payment_retries()'))
               AS d(ord, name, sched, cmd)
         ORDER BY d.ord
    LOOP
        job := 'balatrix-' || spec.name;
        schedule := spec.sched;
        command := spec.cmd;
        -- 22023 from pg_cron for a schedule it cannot parse (no seconds in 1.4).
        EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO jobid USING job, schedule, command;
        kept := kept || jobid;
        RETURN NEXT;
    END LOOP;

    FOR stale IN EXECUTE 'SELECT j.jobid FROM cron.job j WHERE starts_with(j.jobname, ''balatrix-'') AND j.jobid <> ALL ($1)'
                 USING kept
    LOOP
        EXECUTE 'SELECT cron.unschedule($1)' USING stale;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.schedule_jobs(jsonb) IS
    'Registers the pg_cron jobs (schedules in UTC, pg_cron 1.4): balatrix-billing-cycle 30 20 * * * (02:00 IST) and '
    'balatrix-renewals 5 0-17,21-23 * * * (hourly catch-up, not 00:00-02:00 IST), both CALL run_billing_cycle_job() '
    '(batches of 200 subscriptions, each committed); balatrix-overdue-sweep 30 3 * * * '
    '(09:00 IST) run_dunning(); balatrix-retention 30 21 * * * (03:00 IST) run_retention(); balatrix-partitions '
    '0 20 * * * (01:30 IST) create_cdr_partitions(3); balatrix-health-check */15 * * * * run_health_check(); '
    'balatrix-payment-retries */15 * * * * run_payment_retries(). '
    'schedules overrides by short name ({"health-check": "* * * * *"}); an unknown name or a non-string is 22023. '
    'Idempotent: replaces the jobs and removes other balatrix- jobs. Jobs run as the calling user. 0A000 when pg_cron '
    'is not installed in this database; 55000 when pg_cron runs from another database. Returns the jobs.';

CREATE FUNCTION @extschema@.unschedule_jobs() RETURNS integer
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    id bigint;
    removed integer := 0;
    ok boolean;
BEGIN
    -- Without pg_cron nothing can be scheduled, so nothing is removed.
    IF to_regprocedure('cron.unschedule(bigint)') IS NULL THEN
        RETURN 0;
    END IF;
    -- By id: two users may each have a job of the same name (a superuser sees, and removes, both).
    FOR id IN EXECUTE 'SELECT j.jobid FROM cron.job j WHERE starts_with(j.jobname, ''balatrix-'') ORDER BY j.jobid'
    LOOP
        EXECUTE 'SELECT cron.unschedule($1)' INTO ok USING id;
        removed := removed + ok::integer;
    END LOOP;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION @extschema@.unschedule_jobs() IS
    'Removes every pg_cron job named balatrix-* that the caller can see (a superuser: all of them). Returns how '
    'many; 0 when pg_cron is not installed in this database. Run it before DROP EXTENSION balatrix.';

REVOKE ALL ON FUNCTION
    @extschema@.run_health_check(timestamptz),
    @extschema@.run_retention(date),
    @extschema@.schedule_jobs(jsonb),
    @extschema@.unschedule_jobs()
    FROM PUBLIC;

-- ============================================================================================
-- API identity and row-level security (C++: extension/pg/identity.cpp)
-- ============================================================================================
-- The sidecar connects as balatrix_api and, first thing in every transaction, hands the caller's
-- access token to balatrix.set_identity(token). The database verifies the token itself (HS256 with
-- the signing key it holds, the claims, the user, the session) and only then records the actor in
-- backend memory for the rest of the transaction. The policies below read that actor. A role
-- that can run any SQL as balatrix_api still cannot claim an identity without a valid token of it:
-- the actor is not a setting it could SET, the setter is executable by balatrix_owner only, and the
-- signing key is readable by balatrix_owner only.
--
-- Who sees what (balatrix_api): super_admin, admin and support every row; a reseller the rows of the
-- customers it resells; a customer its own rows; no actor, nothing.

CREATE TABLE @extschema@.api_signing_keys (
    id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    secret     bytea NOT NULL CONSTRAINT api_signing_keys_length CHECK (length(secret) >= 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    retired_at timestamptz
);
COMMENT ON TABLE @extschema@.api_signing_keys IS
    'The HS256 keys the API''s access tokens are signed with (the sidecar''s JWT_SECRET), set by '
    'balatrix.set_api_signing_key. A retired key still verifies tokens until retired_at (rotation). Readable by '
    'balatrix_owner only.';

CREATE FUNCTION @extschema@.set_actor(user_id uuid, role text, customer_id uuid) RETURNS void
    AS 'MODULE_PATHNAME', 'balatrix_set_actor'
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.set_actor(uuid, text, uuid) IS
    'Internal (balatrix.set_identity only; executable by balatrix_owner): records the actor of this transaction in '
    'backend memory; NULL user_id clears it. Cleared at commit and abort.';

CREATE FUNCTION @extschema@.actor_user_id() RETURNS uuid
    AS 'MODULE_PATHNAME', 'balatrix_actor_user_id'
    LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.actor_user_id() IS
    'The user the API acts for in this transaction (balatrix.set_identity), or NULL.';
CREATE FUNCTION @extschema@.actor_role() RETURNS text
    AS 'MODULE_PATHNAME', 'balatrix_actor_role'
    LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.actor_role() IS
    'The role (super_admin, admin, support, reseller, customer) of the actor of this transaction, or NULL.';
CREATE FUNCTION @extschema@.actor_customer_id() RETURNS uuid
    AS 'MODULE_PATHNAME', 'balatrix_actor_customer_id'
    LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.actor_customer_id() IS
    'The customer record of the actor of this transaction (for the customer role), or NULL.';

CREATE FUNCTION @extschema@.hmac_sha256(key bytea, message bytea) RETURNS bytea
    AS 'MODULE_PATHNAME', 'balatrix_hmac_sha256'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.hmac_sha256(bytea, bytea) IS
    'HMAC-SHA-256 (RFC 2104) of message under key (PostgreSQL''s own pg_hmac, as SCRAM uses); RFC 4231 test vectors in the tests.';

CREATE FUNCTION @extschema@.base64url_decode(encoded text) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT decode(rpad(translate(encoded, '-_', '+/'), ((length(encoded) + 3) / 4) * 4, '='), 'base64')
$$;
COMMENT ON FUNCTION @extschema@.base64url_decode(text) IS
    'Decodes unpadded base64url (RFC 4648 §5), as JWT segments are written; 22023 for a malformed one.';

CREATE FUNCTION @extschema@.set_api_signing_key(key_text text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF key_text IS NULL OR octet_length(key_text) < 32 THEN
        RAISE EXCEPTION 'the signing key must be at least 32 bytes' USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.api_signing_keys k WHERE k.secret = convert_to(key_text, 'UTF8') AND k.retired_at IS NULL) THEN
        RETURN;
    END IF;
    -- The previous key keeps verifying for the life of the tokens it signed (15 minutes).
    UPDATE @extschema@.api_signing_keys k SET retired_at = now() + interval '15 minutes' WHERE k.retired_at IS NULL;
    INSERT INTO @extschema@.api_signing_keys (secret) VALUES (convert_to(key_text, 'UTF8'));
END
$$;
COMMENT ON FUNCTION @extschema@.set_api_signing_key(text) IS
    'Sets the key (the sidecar''s JWT_SECRET, at least 32 bytes) that balatrix.set_identity verifies access tokens '
    'with; the previous key keeps verifying for 15 minutes. Idempotent. For the database owner / DBA only.';

CREATE FUNCTION @extschema@.identity_cache_get(token text) RETURNS text
    AS 'MODULE_PATHNAME', 'balatrix_identity_cache_get'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.identity_cache_get(text) IS
    'Internal (balatrix.set_identity; executable by balatrix_owner): the verified claims "sub sid role" of an access '
    'token this backend verified before and that has not expired, else NULL. Emptied when api_signing_keys changes.';
CREATE FUNCTION @extschema@.identity_cache_put(token text, claims text, expires_at bigint) RETURNS void
    AS 'MODULE_PATHNAME', 'balatrix_identity_cache_put'
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.identity_cache_put(text, text, bigint) IS
    'Internal (balatrix.set_identity; executable by balatrix_owner): remembers, in this backend''s memory, the claims '
    'of a token it has just verified, until expires_at (Unix seconds).';
CREATE FUNCTION @extschema@.tg_identity_cache_invalidate() RETURNS trigger
    AS 'MODULE_PATHNAME', 'balatrix_tg_identity_cache_invalidate'
    LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.tg_identity_cache_invalidate() IS
    'AFTER statement trigger of api_signing_keys: every backend forgets the access tokens it verified.';
CREATE TRIGGER api_signing_keys_identity_cache_trg AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.api_signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_identity_cache_invalidate();

CREATE FUNCTION @extschema@.set_identity(access_token text, OUT user_id uuid, OUT role text, OUT customer_id uuid)
    RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    parts text[];
    header jsonb;
    claims jsonb;
    signature bytea;
    signing_input bytea;
    verified boolean := false;
    key record;
    u record;
    leeway constant integer := 30;
    epoch numeric := extract(epoch FROM now());
    reason text;
    cached text;
    sub uuid;
    sid uuid;
    claimed_role text;
BEGIN
    PERFORM @extschema@.set_actor(NULL, NULL, NULL);
    -- A token this backend verified before (and not expired) skips decoding, the HMAC and the claims;
    -- the user and session checks below run for every request.
    cached := @extschema@.identity_cache_get(access_token);
    IF cached IS NOT NULL THEN
        sub := split_part(cached, ' ', 1)::uuid;
        sid := split_part(cached, ' ', 2)::uuid;
        claimed_role := split_part(cached, ' ', 3);
    END IF;
    parts := CASE WHEN cached IS NULL THEN string_to_array(access_token, '.') END;
    IF cached IS NOT NULL THEN
        NULL;
    ELSIF access_token IS NULL OR octet_length(access_token) > 8192 OR cardinality(parts) <> 3
       OR parts[1] !~ '^[A-Za-z0-9_-]+$' OR parts[2] !~ '^[A-Za-z0-9_-]+$' OR parts[3] !~ '^[A-Za-z0-9_-]{43}$' THEN
        reason := 'not a compact HS256 JWS';
    ELSE
        BEGIN
            header := convert_from(@extschema@.base64url_decode(parts[1]), 'UTF8')::jsonb;
            claims := convert_from(@extschema@.base64url_decode(parts[2]), 'UTF8')::jsonb;
            signature := @extschema@.base64url_decode(parts[3]);
        EXCEPTION WHEN OTHERS THEN
            reason := 'undecodable';
        END;
    END IF;
    -- The algorithm is pinned: alg none, another algorithm or an extra header field is refused.
    IF cached IS NULL AND reason IS NULL AND header IS DISTINCT FROM '{"alg": "HS256", "typ": "JWT"}'::jsonb THEN
        reason := 'header is not {"alg":"HS256","typ":"JWT"}';
    END IF;
    IF cached IS NULL AND reason IS NULL THEN
        signing_input := convert_to(parts[1] || '.' || parts[2], 'UTF8');
        FOR key IN SELECT k.secret FROM @extschema@.api_signing_keys k WHERE k.retired_at IS NULL OR k.retired_at > now() LOOP
            -- Hashes compared, not the MACs: the time taken tells nothing about a prefix match.
            verified := verified OR sha256(@extschema@.hmac_sha256(key.secret, signing_input)) = sha256(signature);
        END LOOP;
        IF NOT verified THEN
            reason := 'bad signature';
        END IF;
    END IF;
    IF cached IS NULL AND reason IS NULL THEN
        -- Every test is written so that a missing claim (NULL) fails it.
        IF jsonb_typeof(claims) IS DISTINCT FROM 'object' OR claims->>'iss' IS DISTINCT FROM 'balatrix'
           OR NOT coalesce(claims->'aud' = '"balatrix-api"'::jsonb
                           OR (jsonb_typeof(claims->'aud') = 'array' AND claims->'aud' ? 'balatrix-api'), false) THEN
            reason := 'wrong issuer or audience';
        ELSIF jsonb_typeof(claims->'exp') IS DISTINCT FROM 'number' OR jsonb_typeof(claims->'iat') IS DISTINCT FROM 'number' THEN
            reason := 'exp and iat must be numbers';
        ELSIF (claims->>'exp')::numeric + leeway <= epoch OR (claims->>'iat')::numeric - leeway > epoch THEN
            reason := 'expired or not yet valid';
        ELSIF NOT coalesce(claims->>'sub' ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                           AND claims->>'sid' ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', false) THEN
            reason := 'sub and sid must be ids';
        ELSE
            sub := (claims->>'sub')::uuid;
            sid := (claims->>'sid')::uuid;
            claimed_role := claims->>'role';
        END IF;
    END IF;
    IF reason IS NULL THEN
        -- Never cached: the user, its role, its customer record and the session, in one statement.
        SELECT x.id, x.role, x.is_active, c.id AS customer,
               EXISTS (SELECT 1 FROM @extschema@.refresh_tokens t
                        WHERE t.family_id = sid AND t.user_id = x.id AND t.revoked_at IS NULL AND t.expires_at > now()) AS live
          INTO u
          FROM @extschema@.users x LEFT JOIN @extschema@.customers c ON c.user_id = x.id
         WHERE x.id = sub;
        IF NOT FOUND OR NOT u.is_active THEN
            reason := 'no such active user';
        ELSIF u.role IS DISTINCT FROM claimed_role THEN
            reason := 'the user''s role has changed';
        ELSIF NOT u.live THEN
            reason := 'the session has ended';
        ELSIF u.role = 'customer' AND u.customer IS NULL THEN
            reason := 'the customer has no customer record';
        END IF;
    END IF;
    IF reason IS NOT NULL THEN
        RAISE EXCEPTION 'invalid access token' USING ERRCODE = '28000', DETAIL = reason;
    END IF;
    IF cached IS NULL THEN
        PERFORM @extschema@.identity_cache_put(access_token, sub::text || ' ' || sid::text || ' ' || claimed_role,
                                               floor((claims->>'exp')::numeric)::bigint + leeway);
    END IF;
    user_id := u.id;
    role := u.role;
    customer_id := u.customer;
    PERFORM @extschema@.set_actor(user_id, role, customer_id);
END
$$;
COMMENT ON FUNCTION @extschema@.set_identity(text) IS
    'Verifies an API access token (HS256 JWT with header exactly {"alg":"HS256","typ":"JWT"}, signed with a key of '
    'balatrix.api_signing_keys; iss balatrix, aud balatrix-api, exp / iat with 30 s leeway, sub an active user whose '
    'role is the token''s, sid a live session of that user) and makes that user the actor of the current transaction '
    'for row-level security. Returns the actor. Any failure: 28000 "invalid access token" (the reason in DETAIL) and '
    'no actor. The sidecar calls it first in every transaction.';

CREATE FUNCTION @extschema@.clear_identity() RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT @extschema@.set_actor(NULL, NULL, NULL) $$;
COMMENT ON FUNCTION @extschema@.clear_identity() IS
    'Drops the actor of the current transaction (it is dropped at commit and abort anyway).';

-- The policies' tests, as functions of the row's customer: SECURITY DEFINER (a reseller's customers
-- are read past the policies of customers itself, which would otherwise recurse).
CREATE FUNCTION @extschema@.actor_can_read(customer uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    CASE @extschema@.actor_role()
        WHEN 'super_admin', 'admin', 'support' THEN
            RETURN true;
        WHEN 'customer' THEN
            RETURN customer IS NOT NULL AND customer = @extschema@.actor_customer_id();
        WHEN 'reseller' THEN
            RETURN customer IS NOT NULL AND EXISTS (SELECT 1 FROM @extschema@.customers c
                                                     WHERE c.id = customer AND c.reseller_user_id = @extschema@.actor_user_id());
        ELSE
            RETURN false;
    END CASE;
END
$$;
COMMENT ON FUNCTION @extschema@.actor_can_read(uuid) IS
    'Row-level security of balatrix_api: whether the actor of this transaction may see the rows of this customer '
    '(staff: all; reseller: its customers; customer: its own; no actor: none).';

CREATE FUNCTION @extschema@.actor_can_write(customer uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    CASE @extschema@.actor_role()
        WHEN 'super_admin', 'admin' THEN
            RETURN true;
        WHEN 'support', 'reseller', 'customer' THEN
            RETURN @extschema@.actor_can_read(customer);
        ELSE
            RETURN false;
    END CASE;
END
$$;
COMMENT ON FUNCTION @extschema@.actor_can_write(uuid) IS
    'Row-level security of balatrix_api: whether the actor may write the rows of this customer (admins: all; support, '
    'resellers and customers: what they may read; no actor: none). Table privileges narrow it further.';

-- The definer functions run as balatrix_owner, which alone may call set_actor and read the keys.
ALTER FUNCTION @extschema@.set_actor(uuid, text, uuid) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.actor_user_id() OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.actor_role() OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.actor_customer_id() OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.set_identity(text) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.identity_cache_get(text) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.identity_cache_put(text, text, bigint) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.tg_identity_cache_invalidate() OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.clear_identity() OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.actor_can_read(uuid) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.actor_can_write(uuid) OWNER TO balatrix_owner;

DO $api_rls$
DECLARE
    t text;
    col text;
BEGIN
    FOREACH t IN ARRAY ARRAY['customers', 'accounts', 'sip_extensions', 'subscriptions', 'subscription_add_ons',
                             'subscription_usage', 'dids', 'did_assignments', 'cdr', 'ledger', 'invoices',
                             'invoice_lines', 'payment_methods', 'payments', 'refunds', 'event_outbox',
                             'notifications', 'audit_log']
    LOOP
        col := CASE t WHEN 'customers' THEN 'id' ELSE 'customer_id' END;
        -- The customer and staff cases inline (C accessors, no PL/pgSQL call per row); resellers go
        -- through actor_can_read, which looks the customer up.
        EXECUTE pg_catalog.format('CREATE POLICY api_read ON @extschema@.%I FOR SELECT TO balatrix_api USING ('
                                  '(@extschema@.actor_role() = ''customer'' AND %I = @extschema@.actor_customer_id())'
                                  ' OR @extschema@.actor_role() IN (''super_admin'', ''admin'', ''support'')'
                                  ' OR (@extschema@.actor_role() = ''reseller'' AND @extschema@.actor_can_read(%I)))', t, col, col);
        EXECUTE pg_catalog.format('CREATE POLICY api_insert ON @extschema@.%I FOR INSERT TO balatrix_api WITH CHECK (@extschema@.actor_can_write(%I))', t, col);
        EXECUTE pg_catalog.format('CREATE POLICY api_update ON @extschema@.%I FOR UPDATE TO balatrix_api USING (@extschema@.actor_can_write(%I)) WITH CHECK (@extschema@.actor_can_write(%I))', t, col, col);
        EXECUTE pg_catalog.format('CREATE POLICY api_delete ON @extschema@.%I FOR DELETE TO balatrix_api USING (@extschema@.actor_can_write(%I))', t, col);
    END LOOP;
END
$api_rls$;

-- ============================================================================================
-- The API's authentication, audit and rate limits
-- ============================================================================================
-- balatrix_api cannot read users, refresh_tokens or user_tokens. What the sidecar's auth routes need
-- of them goes through the SECURITY DEFINER functions below, each doing one step of a flow and
-- writing its audit row. The sidecar hashes passwords (argon2id) and makes the random tokens; the
-- database stores only hashes of refresh, reset and verification tokens (SHA-256 of the token text).
-- Functions acting on "the caller" (logout, sessions, password change, MFA, me) take the user from
-- the actor set by set_identity, never from an argument.

CREATE UNLOGGED TABLE @extschema@.rate_limit_hits (
    key          text PRIMARY KEY CONSTRAINT rate_limit_hits_key_length CHECK (octet_length(key) <= 400),
    window_start timestamptz NOT NULL,
    hits         bigint NOT NULL CONSTRAINT rate_limit_hits_positive CHECK (hits > 0)
);
COMMENT ON TABLE @extschema@.rate_limit_hits IS
    'Fixed-window request counters of the API''s rate limits (balatrix.rate_limit_hit), shared by every sidecar. '
    'Unlogged: a crash forgets the windows, which only lifts limits early. Not dumped.';

CREATE FUNCTION @extschema@.rate_limit_hit(key text, window_seconds bigint, max_hits bigint) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    now_ts constant timestamptz := clock_timestamp();
    span interval;
    started timestamptz;
    n bigint;
BEGIN
    IF key IS NULL OR key = '' OR octet_length(key) > 400 OR window_seconds IS NULL OR window_seconds < 1
       OR window_seconds > 86400 OR max_hits IS NULL OR max_hits < 1 THEN
        RAISE EXCEPTION 'rate_limit_hit: invalid key, window or limit' USING ERRCODE = '22023';
    END IF;
    span := make_interval(secs => window_seconds);
    INSERT INTO @extschema@.rate_limit_hits AS h (key, window_start, hits) VALUES (key, now_ts, 1)
    ON CONFLICT ON CONSTRAINT rate_limit_hits_pkey DO UPDATE
       SET hits = CASE WHEN h.window_start + span <= now_ts THEN 1 ELSE h.hits + 1 END,
           window_start = CASE WHEN h.window_start + span <= now_ts THEN now_ts ELSE h.window_start END
    RETURNING h.window_start, h.hits INTO started, n;
    IF n <= max_hits THEN
        RETURN 0;
    END IF;
    RETURN greatest(1, ceil(extract(epoch FROM started + span - now_ts)))::bigint;
END
$$;
COMMENT ON FUNCTION @extschema@.rate_limit_hit(text, bigint, bigint) IS
    'Counts one request under key in its fixed window of window_seconds; returns 0 while at most max_hits '
    'requests fell in the window, else the seconds until the window ends (the Retry-After of a 429).';

CREATE FUNCTION @extschema@.write_audit(action text, entity_type text, entity_id text, customer uuid, changes jsonb,
                                        metadata jsonb DEFAULT '{}')
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ip text := nullif(current_setting('balatrix_request.ip', true), '');
    written bigint;
BEGIN
    IF action IS NULL OR btrim(action) = '' OR octet_length(action) > 200 THEN
        RAISE EXCEPTION 'write_audit: an action is required' USING ERRCODE = '22023';
    END IF;
    INSERT INTO @extschema@.audit_log (actor_user_id, actor_role, actor_ip, user_agent, request_id, action, entity_type,
                                       entity_id, customer_id, changes, metadata)
    VALUES (@extschema@.actor_user_id(), @extschema@.actor_role(),
            CASE WHEN ip ~ '^[0-9A-Fa-f:.]+$' THEN ip::inet END,
            left(nullif(current_setting('balatrix_request.user_agent', true), ''), 512),
            left(nullif(current_setting('balatrix_request.id', true), ''), 128),
            action, entity_type, left(entity_id, 200), customer, changes, coalesce(metadata, '{}'))
    RETURNING id INTO written;
    RETURN written;
END
$$;
COMMENT ON FUNCTION @extschema@.write_audit(text, text, text, uuid, jsonb, jsonb) IS
    'Appends an audit_log row for the current actor (balatrix.set_identity), with the request id, client address '
    'and user agent the sidecar put in the transaction settings balatrix_request.id / .ip / .user_agent.';

-- Internal: an audit row for an authentication event, whose user is an argument (not yet the actor).
CREATE FUNCTION @extschema@.audit_auth(action text, user_id uuid, metadata jsonb DEFAULT '{}') RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ip text := nullif(current_setting('balatrix_request.ip', true), '');
BEGIN
    INSERT INTO @extschema@.audit_log (actor_user_id, actor_role, actor_ip, user_agent, request_id, action, entity_type,
                                       entity_id, customer_id, metadata)
    SELECT user_id, u.role, CASE WHEN ip ~ '^[0-9A-Fa-f:.]+$' THEN ip::inet END,
           left(nullif(current_setting('balatrix_request.user_agent', true), ''), 512),
           left(nullif(current_setting('balatrix_request.id', true), ''), 128),
           action, 'user', user_id::text, (SELECT c.id FROM @extschema@.customers c WHERE c.user_id = audit_auth.user_id),
           coalesce(metadata, '{}')
      FROM (SELECT 1) one
      LEFT JOIN @extschema@.users u ON u.id = audit_auth.user_id;
END
$$;
COMMENT ON FUNCTION @extschema@.audit_auth(text, uuid, jsonb) IS
    'Internal: audit_log row of an authentication event (auth.*) of user_id (NULL for an unknown e-mail).';

-- Internal: the caller, or 28000.
CREATE FUNCTION @extschema@.auth_actor() RETURNS uuid
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    u uuid := @extschema@.actor_user_id();
BEGIN
    IF u IS NULL THEN
        RAISE EXCEPTION 'no authenticated caller: call balatrix.set_identity first' USING ERRCODE = '28000';
    END IF;
    RETURN u;
END
$$;
COMMENT ON FUNCTION @extschema@.auth_actor() IS 'Internal: the actor''s user id, or 28000 without one.';

CREATE FUNCTION @extschema@.auth_register(email text, password_hash text, first_name text, last_name text, phone text,
                                          company_name text DEFAULT NULL)
    RETURNS TABLE (user_id uuid, customer_id uuid, account_id uuid)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    new_user uuid;
    new_customer uuid;
    new_number text;
    new_account uuid;
BEGIN
    IF password_hash IS NULL OR password_hash !~ '^\$argon2id\$' THEN
        RAISE EXCEPTION 'auth_register: the password must arrive as an argon2id hash' USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.users u WHERE lower(u.email) = lower(auth_register.email)) THEN
        RAISE EXCEPTION 'an account with this e-mail address already exists' USING ERRCODE = '23505';
    END IF;
    -- The role is always customer: staff are created by admins (balatrix.api_create_staff_user).
    INSERT INTO @extschema@.users (email, password_hash, first_name, last_name, phone, role, password_changed_at)
    VALUES (auth_register.email, auth_register.password_hash, auth_register.first_name, auth_register.last_name,
            auth_register.phone, 'customer', now())
    RETURNING id INTO new_user;
    -- pending until the billing profile (State, address) is completed: the place of supply needs it.
    INSERT INTO @extschema@.customers (user_id, name, company_name, business_type, email, phone, status)
    VALUES (new_user, coalesce(nullif(btrim(auth_register.company_name), ''),
                               btrim(coalesce(auth_register.first_name, '') || ' ' || coalesce(auth_register.last_name, ''))),
            nullif(btrim(auth_register.company_name), ''),
            CASE WHEN nullif(btrim(auth_register.company_name), '') IS NULL THEN 'individual' ELSE 'small_business' END,
            auth_register.email, auth_register.phone, 'pending')
    RETURNING id, customer_number INTO new_customer, new_number;
    INSERT INTO @extschema@.accounts (customer_id, account_number, account_type)
    VALUES (new_customer, new_number || '-1', 'prepaid')
    RETURNING id INTO new_account;
    PERFORM @extschema@.audit_auth('auth.register', new_user, jsonb_build_object('customer_id', new_customer));
    RETURN QUERY SELECT new_user, new_customer, new_account;
END
$$;
COMMENT ON FUNCTION @extschema@.auth_register(text, text, text, text, text, text) IS
    'Self-service registration: a customer user (never another role), its customer and a prepaid account. '
    'password_hash is the sidecar''s argon2id hash. 23505 when the e-mail is taken (case-insensitively).';

CREATE FUNCTION @extschema@.auth_login_lookup(email text)
    RETURNS TABLE (user_id uuid, password_hash text, role text, is_active boolean, locked_until timestamptz,
                   mfa_enabled boolean, mfa_secret text, mfa_last_step bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT u.id, u.password_hash, u.role, u.is_active, u.locked_until, u.mfa_enabled,
           CASE WHEN u.mfa_enabled THEN u.mfa_secret END, u.mfa_last_step
      FROM @extschema@.users u
     WHERE lower(u.email) = lower(auth_login_lookup.email)
$$;
COMMENT ON FUNCTION @extschema@.auth_login_lookup(text) IS
    'Login, step 1: the user with this e-mail (case-insensitive): its password hash (the sidecar verifies it), '
    'role, state, lock and MFA secret. No row for an unknown e-mail.';

CREATE FUNCTION @extschema@.auth_login_failed(user_id uuid, email text, reason text, max_attempts integer DEFAULT 5,
                                              lockout_seconds integer DEFAULT 900)
    RETURNS TABLE (attempts_left integer, locked_until timestamptz)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    n integer;
    lock_end timestamptz;
BEGIN
    IF user_id IS NULL THEN
        PERFORM @extschema@.audit_auth('auth.login_failed', NULL,
                                       jsonb_build_object('reason', reason, 'email', left(email, 254)));
        RETURN QUERY SELECT NULL::integer, NULL::timestamptz;
        RETURN;
    END IF;
    -- Counted even while locked or inactive: the counter is the account's, not the session's.
    UPDATE @extschema@.users u
       SET failed_login_attempts = CASE WHEN u.failed_login_attempts + 1 >= max_attempts THEN 0
                                        ELSE u.failed_login_attempts + 1 END,
           locked_until = CASE WHEN u.failed_login_attempts + 1 >= max_attempts
                               THEN now() + make_interval(secs => lockout_seconds) ELSE u.locked_until END
     WHERE u.id = auth_login_failed.user_id
    RETURNING u.failed_login_attempts, u.locked_until INTO n, lock_end;
    IF NOT FOUND THEN
        RETURN QUERY SELECT NULL::integer, NULL::timestamptz;
        RETURN;
    END IF;
    PERFORM @extschema@.audit_auth('auth.login_failed', auth_login_failed.user_id, jsonb_build_object('reason', reason));
    IF n = 0 THEN
        PERFORM @extschema@.audit_auth('auth.locked', auth_login_failed.user_id,
                                       jsonb_build_object('locked_until', lock_end));
        RETURN QUERY SELECT 0, lock_end;
    ELSE
        RETURN QUERY SELECT max_attempts - n, NULL::timestamptz;
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.auth_login_failed(uuid, text, text, integer, integer) IS
    'Login, a failed attempt: counts it; the max_attempts-th (5) locks the account for lockout_seconds (15 min). '
    'Returns the attempts left, or 0 and the lock''s end. Audited (auth.login_failed, auth.locked).';

CREATE FUNCTION @extschema@.auth_login_succeeded(user_id uuid, refresh_token_hash bytea, lifetime_seconds integer,
                                                 mfa_step bigint DEFAULT NULL, user_agent text DEFAULT NULL)
    RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    u record;
    family uuid := gen_random_uuid();
    ip text := nullif(current_setting('balatrix_request.ip', true), '');
BEGIN
    SELECT * INTO u FROM @extschema@.users x WHERE x.id = auth_login_succeeded.user_id FOR UPDATE;
    IF NOT FOUND OR NOT u.is_active OR (u.locked_until IS NOT NULL AND u.locked_until > now()) THEN
        RAISE EXCEPTION 'the account cannot log in' USING ERRCODE = '28000';
    END IF;
    IF mfa_step IS NOT NULL AND u.mfa_last_step IS NOT NULL AND mfa_step <= u.mfa_last_step THEN
        RAISE EXCEPTION 'this MFA code was already used' USING ERRCODE = '28000';
    END IF;
    UPDATE @extschema@.users x
       SET failed_login_attempts = 0, locked_until = NULL, last_login_at = now(),
           last_login_ip = CASE WHEN ip ~ '^[0-9A-Fa-f:.]+$' THEN ip::inet END,
           mfa_last_step = coalesce(mfa_step, x.mfa_last_step)
     WHERE x.id = auth_login_succeeded.user_id;
    INSERT INTO @extschema@.refresh_tokens (user_id, family_id, token_hash, expires_at, ip_address, user_agent)
    VALUES (auth_login_succeeded.user_id, family, refresh_token_hash, now() + make_interval(secs => lifetime_seconds),
            CASE WHEN ip ~ '^[0-9A-Fa-f:.]+$' THEN ip::inet END,
            left(coalesce(auth_login_succeeded.user_agent, nullif(current_setting('balatrix_request.user_agent', true), '')), 512));
    PERFORM @extschema@.audit_auth('auth.login', auth_login_succeeded.user_id,
                                   jsonb_build_object('session_id', family, 'mfa', mfa_step IS NOT NULL));
    RETURN family;
END
$$;
COMMENT ON FUNCTION @extschema@.auth_login_succeeded(uuid, bytea, integer, bigint, text) IS
    'Login, success (password and MFA checked by the sidecar): clears the failure count, records the login, '
    'and starts a session: a refresh token (SHA-256 hash) in a new family, whose id is returned (the access '
    'tokens'' sid). mfa_step: the TOTP time step used, refused when not after the last one (no replay).';

CREATE FUNCTION @extschema@.auth_refresh(token_hash bytea, new_token_hash bytea, lifetime_seconds integer)
    RETURNS TABLE (outcome text, user_id uuid, role text, session_id uuid)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    t record;
    u record;
    new_id uuid;
    ip text := nullif(current_setting('balatrix_request.ip', true), '');
BEGIN
    SELECT * INTO t FROM @extschema@.refresh_tokens r WHERE r.token_hash = auth_refresh.token_hash FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'invalid'::text, NULL::uuid, NULL::text, NULL::uuid;
        RETURN;
    END IF;
    IF t.revoked_at IS NOT NULL THEN
        IF t.revoked_reason = 'rotated' THEN
            -- A rotated token presented again: it was stolen or replayed. End the whole session.
            UPDATE @extschema@.refresh_tokens r SET revoked_at = now(), revoked_reason = 'reuse_detected'
             WHERE r.family_id = t.family_id AND r.revoked_at IS NULL;
            PERFORM @extschema@.audit_auth('auth.refresh_reuse', t.user_id, jsonb_build_object('session_id', t.family_id));
            RETURN QUERY SELECT 'reused'::text, t.user_id, NULL::text, t.family_id;
        ELSE
            RETURN QUERY SELECT 'revoked'::text, t.user_id, NULL::text, t.family_id;
        END IF;
        RETURN;
    END IF;
    IF t.expires_at <= now() THEN
        RETURN QUERY SELECT 'expired'::text, t.user_id, NULL::text, t.family_id;
        RETURN;
    END IF;
    SELECT * INTO u FROM @extschema@.users x WHERE x.id = t.user_id;
    IF NOT u.is_active THEN
        RETURN QUERY SELECT 'inactive'::text, t.user_id, NULL::text, t.family_id;
        RETURN;
    END IF;
    INSERT INTO @extschema@.refresh_tokens (user_id, family_id, token_hash, expires_at, ip_address, user_agent)
    VALUES (t.user_id, t.family_id, new_token_hash, now() + make_interval(secs => lifetime_seconds),
            CASE WHEN ip ~ '^[0-9A-Fa-f:.]+$' THEN ip::inet END,
            left(nullif(current_setting('balatrix_request.user_agent', true), ''), 512))
    RETURNING id INTO new_id;
    UPDATE @extschema@.refresh_tokens r SET revoked_at = now(), revoked_reason = 'rotated', replaced_by = new_id
     WHERE r.id = t.id;
    RETURN QUERY SELECT 'ok'::text, t.user_id, u.role, t.family_id;
END
$$;
COMMENT ON FUNCTION @extschema@.auth_refresh(bytea, bytea, integer) IS
    'Rotates a refresh token: outcome ok (the old token is revoked as rotated and replaced by new_token_hash in '
    'the same family), invalid (unknown), expired, inactive (user deactivated), revoked (logged out), or reused: '
    'a rotated token presented again revokes its whole family (reuse detection, audited auth.refresh_reuse).';

CREATE FUNCTION @extschema@.auth_logout(session_id uuid) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    me constant uuid := @extschema@.auth_actor();
    n integer;
BEGIN
    UPDATE @extschema@.refresh_tokens r SET revoked_at = now(), revoked_reason = 'logout'
     WHERE r.family_id = auth_logout.session_id AND r.user_id = me AND r.revoked_at IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM @extschema@.audit_auth('auth.logout', me, jsonb_build_object('session_id', session_id));
    RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.auth_logout(uuid) IS
    'Ends one session (refresh-token family) of the caller; its access tokens stop working at once (set_identity '
    'checks the session). Returns the tokens revoked (0: not the caller''s, or already ended).';

CREATE FUNCTION @extschema@.auth_logout_all() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    me constant uuid := @extschema@.auth_actor();
    n integer;
BEGIN
    UPDATE @extschema@.refresh_tokens r SET revoked_at = now(), revoked_reason = 'logout_all'
     WHERE r.user_id = me AND r.revoked_at IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM @extschema@.audit_auth('auth.logout_all', me, jsonb_build_object('revoked', n));
    RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.auth_logout_all() IS 'Ends every session of the caller.';

CREATE FUNCTION @extschema@.auth_sessions()
    RETURNS TABLE (id uuid, created_at timestamptz, last_used_at timestamptz, expires_at timestamptz,
                   ip_address inet, user_agent text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT r.family_id, min(r.issued_at), max(r.issued_at),
           max(r.expires_at) FILTER (WHERE r.revoked_at IS NULL),
           (array_agg(r.ip_address ORDER BY r.issued_at DESC))[1],
           (array_agg(r.user_agent ORDER BY r.issued_at DESC))[1]
      FROM @extschema@.refresh_tokens r
     WHERE r.user_id = @extschema@.auth_actor()
     GROUP BY r.family_id
    HAVING bool_or(r.revoked_at IS NULL AND r.expires_at > now())
     ORDER BY max(r.issued_at) DESC
$$;
COMMENT ON FUNCTION @extschema@.auth_sessions() IS
    'The caller''s live sessions: one row per refresh-token family with a live token (started, last refreshed, '
    'expiry, last address and user agent).';

CREATE FUNCTION @extschema@.auth_me() RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT jsonb_build_object(
               'id', u.id, 'email', u.email, 'first_name', u.first_name, 'last_name', u.last_name, 'phone', u.phone,
               'role', u.role, 'is_active', u.is_active, 'email_verified', u.email_verified_at IS NOT NULL,
               'email_verified_at', u.email_verified_at, 'mfa_enabled', u.mfa_enabled,
               'last_login_at', u.last_login_at, 'created_at', u.created_at,
               'customer', (SELECT jsonb_build_object('id', c.id, 'customer_number', c.customer_number, 'name', c.name,
                                                      'company_name', c.company_name, 'status', c.status,
                                                      'gstin', c.gstin)
                              FROM @extschema@.customers c WHERE c.user_id = u.id))
      FROM @extschema@.users u
     WHERE u.id = @extschema@.auth_actor()
$$;
COMMENT ON FUNCTION @extschema@.auth_me() IS 'The caller''s profile (no secrets) with its customer record.';

CREATE FUNCTION @extschema@.auth_password_hash() RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT u.password_hash FROM @extschema@.users u WHERE u.id = @extschema@.auth_actor() $$;
COMMENT ON FUNCTION @extschema@.auth_password_hash() IS
    'The caller''s password hash, for the sidecar to re-check the current password (change password, MFA disable).';

CREATE FUNCTION @extschema@.auth_change_password(new_password_hash text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    me constant uuid := @extschema@.auth_actor();
BEGIN
    IF new_password_hash IS NULL OR new_password_hash !~ '^\$argon2id\$' THEN
        RAISE EXCEPTION 'auth_change_password: the password must arrive as an argon2id hash' USING ERRCODE = '22023';
    END IF;
    UPDATE @extschema@.users u SET password_hash = new_password_hash, password_changed_at = now() WHERE u.id = me;
    UPDATE @extschema@.refresh_tokens r SET revoked_at = now(), revoked_reason = 'password_changed'
     WHERE r.user_id = me AND r.revoked_at IS NULL;
    PERFORM @extschema@.audit_auth('auth.password_changed', me);
END
$$;
COMMENT ON FUNCTION @extschema@.auth_change_password(text) IS
    'Sets the caller''s password (argon2id hash) and ends every session of theirs, the current one included.';

CREATE FUNCTION @extschema@.auth_request_token(email text, purpose text, token_hash bytea, token text,
                                               lifetime_seconds integer)
    RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    u record;
    kind text;
BEGIN
    IF purpose NOT IN ('password_reset', 'email_verification') THEN
        RAISE EXCEPTION 'auth_request_token: unknown purpose %', purpose USING ERRCODE = '22023';
    END IF;
    SELECT x.id, x.email, x.first_name, x.is_active, x.email_verified_at INTO u
      FROM @extschema@.users x WHERE lower(x.email) = lower(auth_request_token.email);
    IF NOT FOUND OR NOT u.is_active OR (purpose = 'email_verification' AND u.email_verified_at IS NOT NULL) THEN
        PERFORM @extschema@.audit_auth('auth.' || purpose || '_requested', u.id,
                                       jsonb_build_object('sent', false, 'email', left(auth_request_token.email, 254)));
        RETURN false;
    END IF;
    -- One live token per purpose: a new request voids the previous one.
    UPDATE @extschema@.user_tokens t SET used_at = now()
     WHERE t.user_id = u.id AND t.purpose = auth_request_token.purpose AND t.used_at IS NULL;
    INSERT INTO @extschema@.user_tokens (user_id, purpose, token_hash, expires_at)
    VALUES (u.id, purpose, token_hash, now() + make_interval(secs => lifetime_seconds));
    kind := CASE purpose WHEN 'password_reset' THEN 'user.password_reset_requested' ELSE 'user.email_verification_requested' END;
    -- The token itself travels in the event: the notifier mails it. The outbox is readable by the owner
    -- and staff only, the token is single-use and expires with lifetime_seconds.
    PERFORM @extschema@.emit_event(kind, (SELECT c.id FROM @extschema@.customers c WHERE c.user_id = u.id), 'user', u.id::text,
                                   jsonb_build_object('user_id', u.id, 'email', u.email, 'first_name', u.first_name,
                                                      'token', token,
                                                      'expires_at', now() + make_interval(secs => lifetime_seconds)),
                                   NULL);
    PERFORM @extschema@.audit_auth('auth.' || purpose || '_requested', u.id, jsonb_build_object('sent', true));
    RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@.auth_request_token(text, text, bytea, text, integer) IS
    'Forgot password / e-mail verification: for an active user with this e-mail, a single-use token (stored as '
    'its SHA-256) with an expiry, and an outbox event that mails it. False (and nothing sent) for an unknown '
    'e-mail: the API answers the same either way.';

CREATE FUNCTION @extschema@.auth_reset_password(token_hash bytea, new_password_hash text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    t record;
BEGIN
    IF new_password_hash IS NULL OR new_password_hash !~ '^\$argon2id\$' THEN
        RAISE EXCEPTION 'auth_reset_password: the password must arrive as an argon2id hash' USING ERRCODE = '22023';
    END IF;
    UPDATE @extschema@.user_tokens x SET used_at = now()
     WHERE x.token_hash = auth_reset_password.token_hash AND x.purpose = 'password_reset' AND x.used_at IS NULL
       AND x.expires_at > now()
    RETURNING x.user_id INTO t;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE @extschema@.users u
       SET password_hash = new_password_hash, password_changed_at = now(), failed_login_attempts = 0, locked_until = NULL
     WHERE u.id = t.user_id;
    UPDATE @extschema@.refresh_tokens r SET revoked_at = now(), revoked_reason = 'password_reset'
     WHERE r.user_id = t.user_id AND r.revoked_at IS NULL;
    PERFORM @extschema@.audit_auth('auth.password_reset', t.user_id);
    RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@.auth_reset_password(bytea, text) IS
    'Consumes a password-reset token (single use, unexpired): sets the password, lifts a lockout, ends every '
    'session. False for an unknown, used or expired token.';

CREATE FUNCTION @extschema@.auth_verify_email(token_hash bytea) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    t record;
BEGIN
    UPDATE @extschema@.user_tokens x SET used_at = now()
     WHERE x.token_hash = auth_verify_email.token_hash AND x.purpose = 'email_verification' AND x.used_at IS NULL
       AND x.expires_at > now()
    RETURNING x.user_id INTO t;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE @extschema@.users u SET email_verified_at = coalesce(u.email_verified_at, now()) WHERE u.id = t.user_id;
    PERFORM @extschema@.audit_auth('auth.email_verified', t.user_id);
    RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@.auth_verify_email(bytea) IS
    'Consumes an e-mail-verification token (single use, unexpired) and marks the address verified.';

CREATE FUNCTION @extschema@.auth_mfa_state(OUT email text, OUT mfa_enabled boolean, OUT mfa_secret text,
                                           OUT mfa_last_step bigint)
    RETURNS record
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT u.email, u.mfa_enabled, u.mfa_secret, u.mfa_last_step FROM @extschema@.users u WHERE u.id = @extschema@.auth_actor()
$$;
COMMENT ON FUNCTION @extschema@.auth_mfa_state() IS
    'The caller''s MFA state: enabled, the secret (base32; also while a setup awaits its first code), last step used.';

CREATE FUNCTION @extschema@.auth_mfa_setup(secret text, backup_code_hashes text[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    me constant uuid := @extschema@.auth_actor();
BEGIN
    IF secret IS NULL OR secret !~ '^[A-Z2-7]{16,128}$' OR backup_code_hashes IS NULL
       OR cardinality(backup_code_hashes) NOT BETWEEN 1 AND 20 THEN
        RAISE EXCEPTION 'auth_mfa_setup: a base32 secret and 1 to 20 backup code hashes are required' USING ERRCODE = '22023';
    END IF;
    IF (SELECT u.mfa_enabled FROM @extschema@.users u WHERE u.id = me) THEN
        RAISE EXCEPTION 'MFA is already enabled; disable it first' USING ERRCODE = '55000';
    END IF;
    UPDATE @extschema@.users u SET mfa_secret = secret, mfa_backup_code_hashes = backup_code_hashes, mfa_last_step = NULL
     WHERE u.id = me;
    PERFORM @extschema@.audit_auth('auth.mfa_setup', me);
END
$$;
COMMENT ON FUNCTION @extschema@.auth_mfa_setup(text, text[]) IS
    'Starts MFA setup for the caller: stores the TOTP secret and the backup codes'' hashes; MFA is enabled only '
    'when a first code is verified (auth_mfa_enable). 55000 while MFA is enabled.';

CREATE FUNCTION @extschema@.auth_mfa_enable(step bigint) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    me constant uuid := @extschema@.auth_actor();
BEGIN
    UPDATE @extschema@.users u SET mfa_enabled = true, mfa_last_step = step
     WHERE u.id = me AND u.mfa_secret IS NOT NULL AND NOT u.mfa_enabled;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no MFA setup is waiting for a code' USING ERRCODE = '55000';
    END IF;
    PERFORM @extschema@.audit_auth('auth.mfa_enabled', me);
END
$$;
COMMENT ON FUNCTION @extschema@.auth_mfa_enable(bigint) IS
    'Enables MFA for the caller after the sidecar verified a first TOTP code of the pending secret (its step).';

CREATE FUNCTION @extschema@.auth_mfa_disable() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    me constant uuid := @extschema@.auth_actor();
BEGIN
    UPDATE @extschema@.users u SET mfa_enabled = false, mfa_secret = NULL, mfa_backup_code_hashes = '{}', mfa_last_step = NULL
     WHERE u.id = me;
    PERFORM @extschema@.audit_auth('auth.mfa_disabled', me);
END
$$;
COMMENT ON FUNCTION @extschema@.auth_mfa_disable() IS 'Disables MFA for the caller (the sidecar checked the password).';

CREATE FUNCTION @extschema@.auth_use_backup_code(user_id uuid, code_hash text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    UPDATE @extschema@.users u SET mfa_backup_code_hashes = array_remove(u.mfa_backup_code_hashes, code_hash)
     WHERE u.id = auth_use_backup_code.user_id AND u.mfa_enabled AND code_hash = ANY (u.mfa_backup_code_hashes);
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM @extschema@.audit_auth('auth.mfa_backup_code_used', user_id);
    RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@.auth_use_backup_code(uuid, text) IS
    'Login with a backup code instead of a TOTP code: consumes the code (single use); false when it is not one.';

CREATE FUNCTION @extschema@.api_create_user(email text, password_hash text, role text, first_name text, last_name text,
                                            phone text DEFAULT NULL)
    RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    caller text := @extschema@.actor_role();
    new_user uuid;
BEGIN
    IF caller IS NULL OR caller NOT IN ('super_admin', 'admin') THEN
        RAISE EXCEPTION 'only admins create users' USING ERRCODE = '42501';
    END IF;
    -- Only a super_admin makes admins or super_admins.
    IF role IN ('super_admin', 'admin') AND caller <> 'super_admin' THEN
        RAISE EXCEPTION 'only a super_admin creates admins' USING ERRCODE = '42501';
    END IF;
    IF password_hash IS NULL OR password_hash !~ '^\$argon2id\$' THEN
        RAISE EXCEPTION 'api_create_user: the password must arrive as an argon2id hash' USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.users u WHERE lower(u.email) = lower(api_create_user.email)) THEN
        RAISE EXCEPTION 'an account with this e-mail address already exists' USING ERRCODE = '23505';
    END IF;
    INSERT INTO @extschema@.users (email, password_hash, role, first_name, last_name, phone, password_changed_at)
    VALUES (email, password_hash, role, first_name, last_name, phone, now())
    RETURNING id INTO new_user;
    PERFORM @extschema@.write_audit('user.create', 'user', new_user::text, NULL, jsonb_build_object('role', role));
    RETURN new_user;
END
$$;
COMMENT ON FUNCTION @extschema@.api_create_user(text, text, text, text, text, text) IS
    'Creates a user of any role (staff, reseller, customer) for an admin caller; admins and super_admins only by a '
    'super_admin.';

-- ============================================================================================
-- The API: customers, accounts and reports
-- ============================================================================================
-- ============================================================================================
-- REST API: customers, accounts and reports (sidecar/src/api/customer_routes.cpp)
-- ============================================================================================
-- balatrix_api reads customers and accounts through their row-level security policies (the actor's
-- rows only) and has no write privilege on them: every change goes through one of the SECURITY
-- DEFINER functions below, which check the actor of the transaction (balatrix.set_identity) first.
-- A customer the actor may not see is "not found" (P0002), never "forbidden": the answer must not
-- reveal that the id exists. Field values arrive as one jsonb object with snake_case keys, each
-- value a JSON string (or boolean for tax_exempt); the table's CHECK constraints and triggers
-- (GSTIN, PAN, e-mail, phone, PIN code, State) judge them (23514 / 23503 / 22P02 -> HTTP 422).

-- The columns an API caller may set on a customer, and which of them only staff may set.
CREATE FUNCTION @extschema@.api_customer_fields(staff boolean, creating boolean) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT ARRAY['name', 'company_name', 'business_type', 'email', 'phone', 'gstin', 'pan', 'billing_address',
                 'billing_city', 'billing_state_code', 'billing_pincode', 'billing_country']
           || CASE WHEN staff THEN ARRAY['tax_exempt', 'kyc_status', 'notes'] ELSE ARRAY[]::text[] END
           || CASE WHEN staff AND creating THEN ARRAY['status', 'user_id'] ELSE ARRAY[]::text[] END
$$;
COMMENT ON FUNCTION @extschema@.api_customer_fields(boolean, boolean) IS
    'The customer fields (snake_case jsonb keys) the API accepts: everyone the contact, GSTIN / PAN and billing address '
    'fields; staff also tax_exempt, kyc_status and notes; staff creating a customer also status and user_id.';

-- 22023 naming the first key of `fields` outside `allowed`, or 42501 when only staff may set it.
CREATE FUNCTION @extschema@.api_check_customer_fields(fields jsonb, staff boolean, creating boolean) RETURNS void
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    k text;
BEGIN
    IF fields IS NULL OR jsonb_typeof(fields) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'the customer fields must be a JSON object' USING ERRCODE = '22023';
    END IF;
    FOR k IN SELECT jsonb_object_keys(fields) ORDER BY 1 LOOP
        IF k = ANY (@extschema@.api_customer_fields(true, creating)) AND NOT k = ANY (@extschema@.api_customer_fields(staff, creating)) THEN
            RAISE EXCEPTION 'only staff may set %', k USING ERRCODE = '42501';
        ELSIF NOT k = ANY (@extschema@.api_customer_fields(staff, creating)) THEN
            RAISE EXCEPTION 'unknown customer field "%"', k USING ERRCODE = '22023';
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.api_check_customer_fields(jsonb, boolean, boolean) IS
    'Refuses customer fields outside balatrix.api_customer_fields(staff, creating): 42501 for a staff-only field, '
    '22023 for an unknown one or when fields is not a JSON object.';

CREATE FUNCTION @extschema@.api_create_customer(fields jsonb) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    role text := @extschema@.actor_role();
    staff boolean := role IN ('super_admin', 'admin', 'support');
    owner_user uuid;
    new_id uuid;
BEGIN
    IF role IS NULL OR role NOT IN ('super_admin', 'admin', 'support', 'customer') THEN
        RAISE EXCEPTION 'Insufficient permissions' USING ERRCODE = '42501';
    END IF;
    PERFORM @extschema@.api_check_customer_fields(fields, staff, true);
    IF staff THEN
        owner_user := (fields->>'user_id')::uuid;
        IF owner_user IS NOT NULL THEN
            IF NOT EXISTS (SELECT 1 FROM @extschema@.users u WHERE u.id = owner_user AND u.role = 'customer') THEN
                RAISE EXCEPTION 'user_id is not a user with the customer role' USING ERRCODE = '22023';
            END IF;
            -- The user row is locked so that two concurrent creations cannot both pass the test.
            PERFORM 1 FROM @extschema@.users u WHERE u.id = owner_user FOR UPDATE;
        END IF;
    ELSE
        owner_user := @extschema@.actor_user_id();
        PERFORM 1 FROM @extschema@.users u WHERE u.id = owner_user FOR UPDATE;
    END IF;
    IF owner_user IS NOT NULL AND EXISTS (SELECT 1 FROM @extschema@.customers c WHERE c.user_id = owner_user) THEN
        RAISE EXCEPTION 'this user already has a customer record' USING ERRCODE = '23505';
    END IF;
    INSERT INTO @extschema@.customers (user_id, name, company_name, business_type, email, phone, gstin, pan,
                                       billing_address, billing_city, billing_state_code, billing_pincode,
                                       billing_country, status, kyc_status, tax_exempt, notes)
    VALUES (owner_user, fields->>'name', fields->>'company_name', coalesce(fields->>'business_type', 'individual'),
            fields->>'email', fields->>'phone', fields->>'gstin', fields->>'pan', fields->>'billing_address',
            fields->>'billing_city', fields->>'billing_state_code', fields->>'billing_pincode',
            coalesce(fields->>'billing_country', 'IN'), coalesce(fields->>'status', 'active'),
            coalesce(fields->>'kyc_status', 'pending'), coalesce((fields->>'tax_exempt')::boolean, false),
            fields->>'notes')
    RETURNING id INTO new_id;
    -- The default account: prepaid, INR, no credit.
    INSERT INTO @extschema@.accounts (customer_id, account_number, account_type)
    VALUES (new_id, 'ACC' || upper(substr(md5(gen_random_uuid()::text), 1, 12)), 'prepaid');
    -- Returned from here: a customer creating its own record cannot read it back in this transaction
    -- (its identity was fixed, without a customer, when the transaction began).
    RETURN (SELECT to_jsonb(c) || jsonb_build_object('accounts', (SELECT jsonb_agg(to_jsonb(a)) FROM @extschema@.accounts a
                                                                   WHERE a.customer_id = c.id))
              FROM @extschema@.customers c WHERE c.id = new_id);
END
$$;
COMMENT ON FUNCTION @extschema@.api_create_customer(jsonb) IS
    'API: creates a customer from fields (snake_case keys, see balatrix.api_customer_fields) and its default prepaid '
    'INR account; returns the new customer as jsonb (its columns plus accounts: [the account]). Staff may link it to an existing customer-role user (user_id) and set '
    'status / kyc_status / tax_exempt / notes; a customer-role actor without a customer record creates its own, '
    'linked to itself, once. 42501 for other actors or staff-only fields, 23505 when the user already has a '
    'customer, 22023 for unknown fields, 23514 / 23503 for invalid values.';

CREATE FUNCTION @extschema@.api_update_customer(customer uuid, fields jsonb) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    staff boolean := @extschema@.actor_role() IN ('super_admin', 'admin', 'support');
    current_status text;
BEGIN
    SELECT c.status INTO current_status FROM @extschema@.customers c WHERE c.id = customer FOR UPDATE;
    IF NOT FOUND OR NOT @extschema@.actor_can_read(customer) THEN
        RAISE EXCEPTION 'Customer not found' USING ERRCODE = 'P0002';
    END IF;
    IF NOT @extschema@.actor_can_write(customer) THEN
        RAISE EXCEPTION 'Insufficient permissions' USING ERRCODE = '42501';
    END IF;
    PERFORM @extschema@.api_check_customer_fields(fields, staff, false);
    IF current_status = 'cancelled' THEN
        RAISE EXCEPTION 'the customer is cancelled' USING ERRCODE = '55000';
    END IF;
    UPDATE @extschema@.customers c SET
        name               = CASE WHEN fields ? 'name' THEN fields->>'name' ELSE c.name END,
        company_name       = CASE WHEN fields ? 'company_name' THEN fields->>'company_name' ELSE c.company_name END,
        business_type      = CASE WHEN fields ? 'business_type' THEN fields->>'business_type' ELSE c.business_type END,
        email              = CASE WHEN fields ? 'email' THEN fields->>'email' ELSE c.email END,
        phone              = CASE WHEN fields ? 'phone' THEN fields->>'phone' ELSE c.phone END,
        gstin              = CASE WHEN fields ? 'gstin' THEN fields->>'gstin' ELSE c.gstin END,
        pan                = CASE WHEN fields ? 'pan' THEN (fields->>'pan')::@extschema@.pan ELSE c.pan END,
        billing_address    = CASE WHEN fields ? 'billing_address' THEN fields->>'billing_address' ELSE c.billing_address END,
        billing_city       = CASE WHEN fields ? 'billing_city' THEN fields->>'billing_city' ELSE c.billing_city END,
        billing_state_code = CASE WHEN fields ? 'billing_state_code' THEN (fields->>'billing_state_code')::@extschema@.state_code
                                  ELSE c.billing_state_code END,
        billing_pincode    = CASE WHEN fields ? 'billing_pincode' THEN fields->>'billing_pincode' ELSE c.billing_pincode END,
        billing_country    = CASE WHEN fields ? 'billing_country' THEN fields->>'billing_country' ELSE c.billing_country END,
        kyc_status         = CASE WHEN fields ? 'kyc_status' THEN fields->>'kyc_status' ELSE c.kyc_status END,
        tax_exempt         = CASE WHEN fields ? 'tax_exempt' THEN (fields->>'tax_exempt')::boolean ELSE c.tax_exempt END,
        notes              = CASE WHEN fields ? 'notes' THEN fields->>'notes' ELSE c.notes END
     WHERE c.id = customer;
END
$$;
COMMENT ON FUNCTION @extschema@.api_update_customer(uuid, jsonb) IS
    'API: changes the given fields of a customer (a key present with JSON null clears a nullable column). The actor '
    'must be able to write the customer (P0002 when it cannot see it, 42501 when it may only read it); only staff '
    'set tax_exempt, kyc_status and notes (42501); status and credit are not changed here; a cancelled customer is '
    'refused (55000).';

CREATE FUNCTION @extschema@.api_delete_customer(customer uuid) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    current_status text;
    live bigint;
BEGIN
    IF @extschema@.actor_role() IS NULL OR @extschema@.actor_role() NOT IN ('super_admin', 'admin') THEN
        RAISE EXCEPTION 'Insufficient permissions' USING ERRCODE = '42501';
    END IF;
    SELECT c.status INTO current_status FROM @extschema@.customers c WHERE c.id = customer FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Customer not found' USING ERRCODE = 'P0002';
    END IF;
    IF current_status = 'cancelled' THEN
        RAISE EXCEPTION 'the customer is already cancelled' USING ERRCODE = '55000';
    END IF;
    SELECT count(*) INTO live FROM @extschema@.subscriptions s
     WHERE s.customer_id = customer AND s.status NOT IN ('cancelled', 'expired');
    IF live > 0 THEN
        RAISE EXCEPTION 'the customer has % subscription(s) that are not cancelled or expired', live
            USING ERRCODE = '55000', HINT = 'Cancel the subscriptions first.';
    END IF;
    UPDATE @extschema@.customers c SET status = 'cancelled' WHERE c.id = customer;
    UPDATE @extschema@.accounts a SET status = 'closed' WHERE a.customer_id = customer AND a.status <> 'closed';
END
$$;
COMMENT ON FUNCTION @extschema@.api_delete_customer(uuid) IS
    'API (admins): closes a customer: status cancelled, every account closed; rows are kept (invoices, ledger and '
    'CDRs refer to them). 55000 while any subscription is not cancelled or expired, or when already cancelled; '
    'P0002 for an unknown customer; 42501 for other actors.';

CREATE FUNCTION @extschema@.api_set_customer_status(customer uuid, new_status text) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    current_status text;
BEGIN
    IF @extschema@.actor_role() IS NULL OR @extschema@.actor_role() NOT IN ('super_admin', 'admin', 'support') THEN
        RAISE EXCEPTION 'Insufficient permissions' USING ERRCODE = '42501';
    END IF;
    IF new_status IS NULL OR new_status NOT IN ('active', 'suspended') THEN
        RAISE EXCEPTION 'new_status must be active or suspended' USING ERRCODE = '22023';
    END IF;
    SELECT c.status INTO current_status FROM @extschema@.customers c WHERE c.id = customer FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Customer not found' USING ERRCODE = 'P0002';
    END IF;
    IF current_status = new_status THEN
        RAISE EXCEPTION 'the customer is already %', new_status USING ERRCODE = '55000';
    ELSIF current_status = 'cancelled' THEN
        RAISE EXCEPTION 'the customer is cancelled' USING ERRCODE = '55000';
    ELSIF new_status = 'suspended' AND current_status <> 'active' THEN
        RAISE EXCEPTION 'only an active customer can be suspended (it is %)', current_status USING ERRCODE = '55000';
    END IF;
    UPDATE @extschema@.customers c SET status = new_status WHERE c.id = customer;
    UPDATE @extschema@.accounts a SET status = new_status
     WHERE a.customer_id = customer AND a.status = CASE new_status WHEN 'suspended' THEN 'active' ELSE 'suspended' END;
END
$$;
COMMENT ON FUNCTION @extschema@.api_set_customer_status(uuid, text) IS
    'API (staff): suspends an active customer (its active accounts become suspended) or activates a suspended or '
    'pending one (its suspended accounts become active; closed accounts stay closed). 55000 for any other '
    'transition, P0002 for an unknown customer, 42501 for other actors.';

CREATE FUNCTION @extschema@.api_create_account(customer uuid, account_type text, credit_limit numeric DEFAULT NULL,
                                               currency text DEFAULT NULL) RETURNS uuid
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    current_status text;
    new_id uuid;
BEGIN
    IF @extschema@.actor_role() IS NULL OR @extschema@.actor_role() NOT IN ('super_admin', 'admin', 'support') THEN
        RAISE EXCEPTION 'Insufficient permissions' USING ERRCODE = '42501';
    END IF;
    IF account_type IS NULL OR account_type NOT IN ('prepaid', 'postpaid') THEN
        RAISE EXCEPTION 'account_type must be prepaid or postpaid' USING ERRCODE = '22023';
    END IF;
    IF credit_limit < 0 THEN
        RAISE EXCEPTION 'credit_limit must not be negative' USING ERRCODE = '22023';
    END IF;
    IF account_type = 'prepaid' AND coalesce(credit_limit, 0) <> 0 THEN
        RAISE EXCEPTION 'a prepaid account has no credit limit' USING ERRCODE = '22023';
    END IF;
    SELECT c.status INTO current_status FROM @extschema@.customers c WHERE c.id = customer FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Customer not found' USING ERRCODE = 'P0002';
    END IF;
    IF current_status = 'cancelled' THEN
        RAISE EXCEPTION 'the customer is cancelled' USING ERRCODE = '55000';
    END IF;
    INSERT INTO @extschema@.accounts (customer_id, account_number, account_type, currency, credit_limit, status)
    VALUES (customer, 'ACC' || upper(substr(md5(gen_random_uuid()::text), 1, 12)), account_type,
            coalesce(currency, 'INR'), coalesce(credit_limit, 0),
            CASE current_status WHEN 'suspended' THEN 'suspended' ELSE 'active' END)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.api_create_account(uuid, text, numeric, text) IS
    'API (staff): opens another account (prepaid, or postpaid with a credit limit >= 0; currency default INR) for a '
    'customer that is not cancelled; suspended when the customer is. Returns its id. 22023 for a bad type or limit '
    '(a prepaid account has none), P0002 for an unknown customer, 55000 for a cancelled one, 42501 for other actors.';

ALTER FUNCTION @extschema@.api_customer_fields(boolean, boolean) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_check_customer_fields(jsonb, boolean, boolean) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_create_customer(jsonb) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_update_customer(uuid, jsonb) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_delete_customer(uuid) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_set_customer_status(uuid, text) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_create_account(uuid, text, numeric, text) OWNER TO balatrix_owner;

-- Reports. The GST views are security_invoker: a query through them runs with balatrix_api's
-- privileges and the row-level security of invoices / invoice_lines, so even a customer that
-- reached them in raw SQL would see its own documents only. The sidecar serves them to staff only.

-- ============================================================================================
-- The API: rate plans, subscriptions and DIDs
-- ============================================================================================
-- ============================================================================================
-- API: rate plans, subscriptions and numbers (C++: sidecar/src/api/subscription_routes.cpp)
-- ============================================================================================
-- The sidecar, connected as balatrix_api, reads these tables through their row-level-security
-- policies and changes them only through the SECURITY DEFINER api_* functions below. Each checks the
-- actor of the transaction (balatrix.set_identity) before it calls the internal function that does the
-- work: a row the actor may not read is "not found" (P0002, never revealing that it exists), a row it
-- may read but not write, or a staff-only action, is 42501.
--
-- Numbers: assign_did / release_did keep dids (the inventory's current state) and did_assignments
-- (the history bill_subscription charges rent from: assignments of the subscription over
-- [assigned_at, released_at)) in step. A DID row is locked FOR UPDATE before it changes, and the
-- partial unique index did_assignments_one_open backs the rule that a number has one open assignment.

CREATE FUNCTION @extschema@.assign_did(did uuid, subscription uuid, at timestamptz DEFAULT NULL)
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    s @extschema@.subscriptions;
    d @extschema@.dids;
    when_ timestamptz := coalesce(at, pg_catalog.now());
    assignment uuid;
BEGIN
    IF did IS NULL THEN
        RAISE EXCEPTION 'did must not be NULL' USING ERRCODE = '22023';
    END IF;
    -- The subscription first (the lifecycle functions lock it too), then the number.
    s := @extschema@.lock_subscription(subscription);
    IF s.status NOT IN ('pending', 'trial', 'active') THEN
        RAISE EXCEPTION 'subscription % is %: numbers are assigned to pending, trial or active subscriptions',
                        s.subscription_number, s.status USING ERRCODE = '55000';
    END IF;
    SELECT x.* INTO d FROM @extschema@.dids x WHERE x.id = did FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'number % does not exist', did USING ERRCODE = 'P0002';
    END IF;
    IF d.status <> 'available' THEN
        RAISE EXCEPTION 'number % is not available (%)', d.number, d.status USING ERRCODE = '55000';
    END IF;
    UPDATE @extschema@.dids x
       SET status = 'assigned', customer_id = s.customer_id, account_id = s.account_id, subscription_id = s.id,
           assigned_at = when_, updated_at = pg_catalog.now()
     WHERE x.id = d.id;
    INSERT INTO @extschema@.did_assignments (did_id, customer_id, account_id, subscription_id, monthly_rent, assigned_at)
    VALUES (d.id, s.customer_id, s.account_id, s.id, d.monthly_rent, when_)
    RETURNING id INTO assignment;
    PERFORM @extschema@.emit_event('did.assigned', s.customer_id, 'did', d.id::text,
                                   pg_catalog.jsonb_build_object('did_id', d.id, 'number', d.number, 'subscription_id', s.id,
                                                                 'account_id', s.account_id, 'assignment_id', assignment,
                                                                 'monthly_rent', d.monthly_rent, 'assigned_at', when_),
                                   'did.assigned:' || assignment);
    RETURN assignment;
END
$$;
COMMENT ON FUNCTION @extschema@.assign_did(uuid, uuid, timestamptz) IS
    'Assigns an available number (dids.id) to a pending, trial or active subscription from at (default now): the DID '
    'becomes assigned to the subscription''s customer and account, and a did_assignments row at the DID''s monthly rent '
    'opens (bill_subscription charges its rent beyond the plan''s included numbers). Returns the assignment; a '
    'did.assigned event. 22023 NULL; P0002 unknown number or subscription; 55000 number not available or subscription '
    'in another status.';

CREATE FUNCTION @extschema@.release_did(did uuid, at timestamptz DEFAULT NULL)
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    d @extschema@.dids;
    when_ timestamptz := coalesce(at, pg_catalog.now());
    assignment uuid;
BEGIN
    IF did IS NULL THEN
        RAISE EXCEPTION 'did must not be NULL' USING ERRCODE = '22023';
    END IF;
    SELECT x.* INTO d FROM @extschema@.dids x WHERE x.id = did FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'number % does not exist', did USING ERRCODE = 'P0002';
    END IF;
    IF d.status <> 'assigned' THEN
        RAISE EXCEPTION 'number % is not assigned (%)', d.number, d.status USING ERRCODE = '55000';
    END IF;
    IF when_ <= d.assigned_at THEN
        RAISE EXCEPTION 'number % was assigned at %: it cannot be released at %', d.number, d.assigned_at, when_
            USING ERRCODE = '22023';
    END IF;
    UPDATE @extschema@.did_assignments a SET released_at = when_
     WHERE a.did_id = d.id AND a.released_at IS NULL
    RETURNING a.id INTO assignment;
    UPDATE @extschema@.dids x
       SET status = 'available', customer_id = NULL, account_id = NULL, subscription_id = NULL, assigned_at = NULL,
           routing = '{}', updated_at = pg_catalog.now()
     WHERE x.id = d.id;
    PERFORM @extschema@.emit_event('did.released', d.customer_id, 'did', d.id::text,
                                   pg_catalog.jsonb_build_object('did_id', d.id, 'number', d.number,
                                                                 'subscription_id', d.subscription_id,
                                                                 'assignment_id', assignment, 'released_at', when_),
                                   'did.released:' || coalesce(assignment::text, d.id::text || ':' || when_::text));
    RETURN assignment;
END
$$;
COMMENT ON FUNCTION @extschema@.release_did(uuid, timestamptz) IS
    'Releases an assigned number at at (default now): its open did_assignments row ends there (rent stops) and the '
    'DID becomes available again, its routing cleared. Returns the closed assignment (NULL when the DID had none); a '
    'did.released event. 22023 NULL or a time not after the assignment; P0002 unknown number; 55000 not assigned.';

-- PG zone helpers of the api_* functions: who the actor is, and what it may do to a customer's rows.
CREATE FUNCTION @extschema@.api_actor_is_staff() RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT coalesce(@extschema@.actor_role() IN ('super_admin', 'admin', 'support'), false) $$;
COMMENT ON FUNCTION @extschema@.api_actor_is_staff() IS
    'Internal (api_* functions): whether the actor of this transaction is staff (super_admin, admin, support).';

CREATE FUNCTION @extschema@.api_require_write(customer uuid, what text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF @extschema@.actor_role() IS NULL THEN
        RAISE EXCEPTION 'no actor: call balatrix.set_identity first' USING ERRCODE = '42501';
    END IF;
    -- Unknown and invisible look the same: the existence of another customer's row is not revealed.
    IF customer IS NULL OR NOT @extschema@.actor_can_read(customer) THEN
        RAISE EXCEPTION '% not found', what USING ERRCODE = 'P0002';
    END IF;
    IF NOT @extschema@.actor_can_write(customer) THEN
        RAISE EXCEPTION 'Insufficient permissions' USING ERRCODE = '42501';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.api_require_write(uuid, text) IS
    'Internal (api_* functions): 42501 without an actor; P0002 "<what> not found" when customer is NULL or its rows '
    'are invisible to the actor; 42501 when the actor may read but not write them.';

CREATE FUNCTION @extschema@.api_require_staff() RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF NOT @extschema@.api_actor_is_staff() THEN
        RAISE EXCEPTION 'Insufficient permissions' USING ERRCODE = '42501';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.api_require_staff() IS 'Internal (api_* functions): 42501 unless the actor is staff.';

CREATE FUNCTION @extschema@.api_require_admin() RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF coalesce(@extschema@.actor_role() NOT IN ('super_admin', 'admin'), true) THEN
        RAISE EXCEPTION 'Insufficient permissions' USING ERRCODE = '42501';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.api_require_admin() IS 'Internal (api_* functions): 42501 unless the actor is super_admin or admin.';

-- ---- rate plans (admins) -------------------------------------------------------------------
-- fields: the sidecar's validated body with snake_case keys; any other key is refused here too.
CREATE FUNCTION @extschema@.api_rate_plan_fields_check(fields jsonb, allowed text[]) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    extra text;
BEGIN
    IF fields IS NULL OR pg_catalog.jsonb_typeof(fields) <> 'object' THEN
        RAISE EXCEPTION 'the fields must be a JSON object' USING ERRCODE = '22023';
    END IF;
    SELECT k INTO extra FROM pg_catalog.jsonb_object_keys(fields) k WHERE k <> ALL (allowed) ORDER BY k LIMIT 1;
    IF extra IS NOT NULL THEN
        RAISE EXCEPTION 'unknown rate plan field "%"', extra USING ERRCODE = '22023';
    END IF;
    IF fields ? 'features' AND pg_catalog.jsonb_typeof(fields->'features') <> 'object' THEN
        RAISE EXCEPTION 'features must be a JSON object' USING ERRCODE = '22023';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.api_rate_plan_fields_check(jsonb, text[]) IS
    'Internal (api_create_rate_plan, api_update_rate_plan): 22023 unless fields is an object whose keys are all in '
    'allowed and whose features, if given, is an object.';

CREATE FUNCTION @extschema@.api_create_rate_plan(fields jsonb)
    RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    monthly numeric;
    new_id uuid;
BEGIN
    PERFORM @extschema@.api_require_admin();
    PERFORM @extschema@.api_rate_plan_fields_check(fields, ARRAY['code', 'name', 'description', 'currency', 'monthly_price',
        'quarterly_price', 'annual_price', 'included_minutes', 'overage_rate', 'included_tfns', 'included_extensions',
        'trial_days', 'setup_fee', 'sac', 'is_active', 'is_public', 'display_order', 'features']);
    IF fields->>'code' IS NULL OR fields->>'name' IS NULL OR fields->>'monthly_price' IS NULL OR fields->>'overage_rate' IS NULL THEN
        RAISE EXCEPTION 'code, name, monthly_price and overage_rate are required' USING ERRCODE = '22023';
    END IF;
    monthly := (fields->>'monthly_price')::numeric;
    INSERT INTO @extschema@.rate_plans (code, name, description, currency, monthly_price, quarterly_price, annual_price,
                                        included_minutes, overage_rate, included_tfns, included_extensions, trial_days,
                                        setup_fee, sac, is_active, is_public, display_order, features)
    VALUES (fields->>'code', fields->>'name', fields->>'description', coalesce(fields->>'currency', 'INR'), monthly,
            coalesce((fields->>'quarterly_price')::numeric, @extschema@.recurring_price(monthly, 'quarterly')),
            coalesce((fields->>'annual_price')::numeric, @extschema@.recurring_price(monthly, 'annual')),
            coalesce((fields->>'included_minutes')::integer, 0), (fields->>'overage_rate')::numeric,
            coalesce((fields->>'included_tfns')::integer, 0), coalesce((fields->>'included_extensions')::integer, 0),
            coalesce((fields->>'trial_days')::integer, 0), coalesce((fields->>'setup_fee')::numeric, 0),
            coalesce(fields->>'sac', '998412'), coalesce((fields->>'is_active')::boolean, true),
            coalesce((fields->>'is_public')::boolean, true), coalesce((fields->>'display_order')::integer, 0),
            coalesce(fields->'features', '{}'))
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.api_create_rate_plan(jsonb) IS
    'API (admins): adds a rate plan from fields (snake_case column names: code, name, monthly_price and overage_rate '
    'required; quarterly_price and annual_price default to recurring_price of the monthly price). Returns its id. '
    '42501 not an admin; 22023 / 22P02 / 23514 bad or unknown fields; 23505 code taken.';

CREATE FUNCTION @extschema@.api_update_rate_plan(plan uuid, fields jsonb)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    f jsonb := fields;
BEGIN
    PERFORM @extschema@.api_require_admin();
    -- code is the plan's name in the outside world (rate decks, scripts): it does not change.
    PERFORM @extschema@.api_rate_plan_fields_check(f, ARRAY['name', 'description', 'currency', 'monthly_price',
        'quarterly_price', 'annual_price', 'included_minutes', 'overage_rate', 'included_tfns', 'included_extensions',
        'trial_days', 'setup_fee', 'sac', 'is_active', 'is_public', 'display_order', 'features']);
    -- A present key sets the column (JSON null clears a nullable one, and fails a NOT NULL one: 23502).
    UPDATE @extschema@.rate_plans rp SET
        name                = CASE WHEN f ? 'name' THEN f->>'name' ELSE rp.name END,
        description         = CASE WHEN f ? 'description' THEN f->>'description' ELSE rp.description END,
        currency            = CASE WHEN f ? 'currency' THEN f->>'currency' ELSE rp.currency END,
        monthly_price       = CASE WHEN f ? 'monthly_price' THEN (f->>'monthly_price')::numeric ELSE rp.monthly_price END,
        quarterly_price     = CASE WHEN f ? 'quarterly_price' THEN (f->>'quarterly_price')::numeric ELSE rp.quarterly_price END,
        annual_price        = CASE WHEN f ? 'annual_price' THEN (f->>'annual_price')::numeric ELSE rp.annual_price END,
        included_minutes    = CASE WHEN f ? 'included_minutes' THEN (f->>'included_minutes')::integer ELSE rp.included_minutes END,
        overage_rate        = CASE WHEN f ? 'overage_rate' THEN (f->>'overage_rate')::numeric ELSE rp.overage_rate END,
        included_tfns       = CASE WHEN f ? 'included_tfns' THEN (f->>'included_tfns')::integer ELSE rp.included_tfns END,
        included_extensions = CASE WHEN f ? 'included_extensions' THEN (f->>'included_extensions')::integer ELSE rp.included_extensions END,
        trial_days          = CASE WHEN f ? 'trial_days' THEN (f->>'trial_days')::integer ELSE rp.trial_days END,
        setup_fee           = CASE WHEN f ? 'setup_fee' THEN (f->>'setup_fee')::numeric ELSE rp.setup_fee END,
        sac                 = CASE WHEN f ? 'sac' THEN f->>'sac' ELSE rp.sac END,
        is_active           = CASE WHEN f ? 'is_active' THEN (f->>'is_active')::boolean ELSE rp.is_active END,
        is_public           = CASE WHEN f ? 'is_public' THEN (f->>'is_public')::boolean ELSE rp.is_public END,
        display_order       = CASE WHEN f ? 'display_order' THEN (f->>'display_order')::integer ELSE rp.display_order END,
        features            = CASE WHEN f ? 'features' THEN f->'features' ELSE rp.features END,
        updated_at          = pg_catalog.now()
     WHERE rp.id = plan;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'rate plan not found' USING ERRCODE = 'P0002';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.api_update_rate_plan(uuid, jsonb) IS
    'API (admins): sets the rate plan''s columns named in fields (snake_case; code cannot change). Subscriptions keep '
    'the price locked when they were made. 42501 not an admin; P0002 unknown plan; 22023 / 22P02 / 23502 / 23514 bad '
    'or unknown fields.';

CREATE FUNCTION @extschema@.api_delete_rate_plan(plan uuid)
    RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    PERFORM @extschema@.api_require_admin();
    PERFORM 1 FROM @extschema@.rate_plans rp WHERE rp.id = plan FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'rate plan not found' USING ERRCODE = 'P0002';
    END IF;
    -- A plan any subscription has used stays (its invoices and history name it): it is withdrawn.
    IF EXISTS (SELECT 1 FROM @extschema@.subscriptions s WHERE s.rate_plan_id = plan OR s.pending_rate_plan_id = plan) THEN
        UPDATE @extschema@.rate_plans rp SET is_active = false, is_public = false, updated_at = pg_catalog.now()
         WHERE rp.id = plan;
        RETURN 'deactivated';
    END IF;
    DELETE FROM @extschema@.rate_plans rp WHERE rp.id = plan;
    RETURN 'deleted';
END
$$;
COMMENT ON FUNCTION @extschema@.api_delete_rate_plan(uuid) IS
    'API (admins): deletes a rate plan no subscription has used (its rate-deck attachments go with it) and returns '
    '''deleted''; a plan some subscription uses or used is made inactive and private instead (''deactivated''). '
    '42501 not an admin; P0002 unknown plan.';

-- ---- subscriptions ---------------------------------------------------------------------------
CREATE FUNCTION @extschema@.api_create_subscription(account uuid, plan text, billing_cycle text DEFAULT 'monthly',
                                                    trial_days integer DEFAULT NULL, addons jsonb DEFAULT '{}')
    RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    acc uuid := account;
    cust uuid;
    p record;
BEGIN
    IF @extschema@.actor_role() IS NULL THEN
        RAISE EXCEPTION 'no actor: call balatrix.set_identity first' USING ERRCODE = '42501';
    END IF;
    -- A customer without an account id subscribes its first active account.
    IF acc IS NULL AND @extschema@.actor_customer_id() IS NOT NULL THEN
        SELECT a.id INTO acc FROM @extschema@.accounts a
         WHERE a.customer_id = @extschema@.actor_customer_id() AND a.status = 'active'
         ORDER BY a.created_at, a.id LIMIT 1;
        IF acc IS NULL THEN
            RAISE EXCEPTION 'account not found' USING ERRCODE = 'P0002', HINT = 'The customer has no active account.';
        END IF;
    ELSIF acc IS NULL THEN
        RAISE EXCEPTION 'accountId is required' USING ERRCODE = '22023';
    END IF;
    SELECT a.customer_id INTO cust FROM @extschema@.accounts a WHERE a.id = acc;
    PERFORM @extschema@.api_require_write(cust, 'account');
    -- Customers choose among the public, active plans; staff may use a private one.
    SELECT rp.trial_days, rp.is_public, rp.is_active INTO p FROM @extschema@.rate_plans rp WHERE rp.code = plan;
    IF NOT FOUND OR NOT (@extschema@.api_actor_is_staff() OR (p.is_public AND p.is_active)) THEN
        RAISE EXCEPTION 'unknown rate plan "%"', plan USING ERRCODE = 'P0002';
    END IF;
    IF trial_days IS NOT NULL AND trial_days <> 0 AND trial_days <> p.trial_days THEN
        RAISE EXCEPTION 'trialDays must be 0 (no trial) or the plan''s % days', p.trial_days USING ERRCODE = '22023';
    END IF;
    RETURN @extschema@.create_subscription(acc, plan, coalesce(billing_cycle, 'monthly'), NULL,
                                           coalesce(trial_days, p.trial_days) > 0, coalesce(addons, '{}'));
END
$$;
COMMENT ON FUNCTION @extschema@.api_create_subscription(uuid, text, text, integer, jsonb) IS
    'API: create_subscription for the actor: an account it may write (a customer may pass NULL for its first active '
    'account), a plan code (customers: public and active plans only), a billing cycle, trial_days NULL (the plan''s '
    'trial) or 0 (none) or the plan''s trial days, add-ons. Returns the subscription. 42501 no actor or read-only '
    'actor; P0002 account or plan not found; 22023 bad values; 55000 account inactive or already subscribed.';

CREATE FUNCTION @extschema@.api_change_subscription_plan(subscription uuid, plan text, timing text DEFAULT NULL)
    RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    p record;
BEGIN
    PERFORM @extschema@.api_require_write((SELECT s.customer_id FROM @extschema@.subscriptions s WHERE s.id = subscription),
                                          'subscription');
    SELECT rp.is_public, rp.is_active INTO p FROM @extschema@.rate_plans rp WHERE rp.code = plan;
    IF NOT FOUND OR NOT (@extschema@.api_actor_is_staff() OR (p.is_public AND p.is_active)) THEN
        RAISE EXCEPTION 'unknown rate plan "%"', plan USING ERRCODE = 'P0002';
    END IF;
    RETURN @extschema@.change_subscription_plan(subscription, plan, NULL, timing);
END
$$;
COMMENT ON FUNCTION @extschema@.api_change_subscription_plan(uuid, text, text) IS
    'API: change_subscription_plan today for a subscription the actor may write (customers: to public, active plans). '
    'timing: NULL (balatrix.downgrade_timing), period_end or immediate (downgrades only; upgrades are immediate). '
    'Returns the proration invoice or credit note, or NULL. 42501; P0002 subscription or plan not found; 22023; 55000.';

CREATE FUNCTION @extschema@.api_cancel_subscription(subscription uuid, immediate boolean DEFAULT false, reason text DEFAULT NULL)
    RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    PERFORM @extschema@.api_require_write((SELECT s.customer_id FROM @extschema@.subscriptions s WHERE s.id = subscription),
                                          'subscription');
    RETURN @extschema@.cancel_subscription(subscription, NOT coalesce(immediate, false), reason);
END
$$;
COMMENT ON FUNCTION @extschema@.api_cancel_subscription(uuid, boolean, text) IS
    'API: cancel_subscription for a subscription the actor may write: at the end of its period, or today when '
    'immediate (a credit note for the unused days, returned). 42501; P0002 not found; 55000 already ended.';

CREATE FUNCTION @extschema@.api_suspend_subscription(subscription uuid, reason text DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    PERFORM @extschema@.api_require_staff();
    PERFORM @extschema@.api_require_write((SELECT s.customer_id FROM @extschema@.subscriptions s WHERE s.id = subscription),
                                          'subscription');
    PERFORM @extschema@.suspend_subscription(subscription, reason);
END
$$;
COMMENT ON FUNCTION @extschema@.api_suspend_subscription(uuid, text) IS
    'API (staff): suspend_subscription today. 42501 not staff; P0002 not found; 55000 not trial or active.';

CREATE FUNCTION @extschema@.api_activate_subscription(subscription uuid)
    RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    current_status text;
BEGIN
    PERFORM @extschema@.api_require_staff();
    SELECT s.status INTO current_status FROM @extschema@.subscriptions s WHERE s.id = subscription;
    PERFORM @extschema@.api_require_write((SELECT s.customer_id FROM @extschema@.subscriptions s WHERE s.id = subscription),
                                          'subscription');
    -- The internal functions lock the row and check the status again.
    IF current_status = 'suspended' THEN
        RETURN @extschema@.resume_subscription(subscription);
    END IF;
    RETURN @extschema@.activate_subscription(subscription);
END
$$;
COMMENT ON FUNCTION @extschema@.api_activate_subscription(uuid) IS
    'API (staff): a suspended subscription is resumed (resume_subscription), a pending or trial one activated today '
    '(activate_subscription: its first paid period and invoice, returned). 42501 not staff; P0002 not found; 55000 '
    'cancelled or expired (or already active).';

CREATE FUNCTION @extschema@.api_renew_subscription(subscription uuid)
    RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    PERFORM @extschema@.api_require_staff();
    PERFORM @extschema@.api_require_write((SELECT s.customer_id FROM @extschema@.subscriptions s WHERE s.id = subscription),
                                          'subscription');
    RETURN @extschema@.renew_subscription(subscription);
END
$$;
COMMENT ON FUNCTION @extschema@.api_renew_subscription(uuid) IS
    'API (staff): renew_subscription as of today; returns the number of periods moved. 42501 not staff; P0002 not '
    'found; 55000 not due or not trial / active.';

-- ---- numbers ---------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.api_available_dids(prefix text DEFAULT NULL, number_type text DEFAULT NULL,
                                               page_limit integer DEFAULT 20, page_offset integer DEFAULT 0)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    -- Available numbers belong to no customer, so the policies hide them: any signed-in actor may browse them.
    IF @extschema@.actor_role() IS NULL THEN
        RAISE EXCEPTION 'no actor: call balatrix.set_identity first' USING ERRCODE = '42501';
    END IF;
    IF prefix IS NOT NULL AND prefix !~ '^[0-9]{1,15}$' THEN
        RAISE EXCEPTION 'the search prefix must be 1 to 15 digits' USING ERRCODE = '22023';
    END IF;
    IF page_limit IS NULL OR page_limit NOT BETWEEN 1 AND 100 OR page_offset IS NULL OR page_offset < 0 THEN
        RAISE EXCEPTION 'bad page' USING ERRCODE = '22023';
    END IF;
    RETURN (
        WITH matching AS (
            SELECT d.id, d.number, d.number_type, d.monthly_rent, d.setup_fee
              FROM @extschema@.dids d
             WHERE d.status = 'available'
               AND (prefix IS NULL OR pg_catalog.starts_with(d.number, prefix))
               AND (api_available_dids.number_type IS NULL OR d.number_type = api_available_dids.number_type))
        SELECT pg_catalog.jsonb_build_object(
            'items', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x) ORDER BY x.number)
                                 FROM (SELECT m.* FROM matching m ORDER BY m.number LIMIT page_limit OFFSET page_offset) x), '[]'),
            'total', (SELECT count(*) FROM matching)));
END
$$;
COMMENT ON FUNCTION @extschema@.api_available_dids(text, text, integer, integer) IS
    'API (any signed-in actor): a page of the available numbers in number order, optionally those starting with the '
    'digits prefix and of one number_type: {"items": [{id, number, number_type, monthly_rent, setup_fee}], "total"}. '
    '42501 no actor; 22023 a prefix that is not 1-15 digits or a bad page.';

CREATE FUNCTION @extschema@.api_assign_did(did uuid, subscription uuid)
    RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    owner_ uuid;
BEGIN
    PERFORM @extschema@.api_require_write((SELECT s.customer_id FROM @extschema@.subscriptions s WHERE s.id = subscription),
                                          'subscription');
    SELECT d.customer_id INTO owner_ FROM @extschema@.dids d WHERE d.id = did;
    -- Another customer's number is "not found"; the actor's own one is "not available" (55000 below).
    IF NOT FOUND OR (owner_ IS NOT NULL AND NOT @extschema@.actor_can_read(owner_)) THEN
        RAISE EXCEPTION 'number not found' USING ERRCODE = 'P0002';
    END IF;
    RETURN @extschema@.assign_did(did, subscription);
END
$$;
COMMENT ON FUNCTION @extschema@.api_assign_did(uuid, uuid) IS
    'API: assign_did now, for a subscription the actor may write. Returns the assignment. 42501; P0002 subscription or '
    'number not found (another customer''s number included); 55000 number not available or subscription not live.';

CREATE FUNCTION @extschema@.api_release_did(did uuid)
    RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    d record;
BEGIN
    SELECT x.customer_id, x.status INTO d FROM @extschema@.dids x WHERE x.id = did;
    IF FOUND AND d.status = 'available' AND @extschema@.api_actor_is_staff() THEN
        RAISE EXCEPTION 'number is not assigned' USING ERRCODE = '55000';
    END IF;
    PERFORM @extschema@.api_require_write(d.customer_id, 'number');
    RETURN @extschema@.release_did(did);
END
$$;
COMMENT ON FUNCTION @extschema@.api_release_did(uuid) IS
    'API: release_did now, for a number held by a customer the actor may write. Returns the closed assignment. 42501; '
    'P0002 not found (another customer''s number, or an unassigned one for a non-staff actor); 55000 not assigned.';

-- ---- the dashboard (benchmarked: make bench-api) ---------------------------------------------
-- One statement, every look-up by an index (subscriptions and accounts by customer, dids and
-- sip_extensions by account, usage by (subscription, period_start)). PL/pgSQL rather than a statement
-- sent by the sidecar so that its plan is made once per connection, not on every request (planning this
-- statement costs more than running it). SECURITY INVOKER: the row-level-security policies apply.
CREATE FUNCTION @extschema@.api_my_dashboard()
    RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    RETURN (
    WITH s AS (
        SELECT s.* FROM @extschema@.subscriptions s
         WHERE s.customer_id = @extschema@.actor_customer_id() AND s.status IN ('trial', 'active', 'suspended', 'pending')
         ORDER BY (s.status IN ('trial', 'active')) DESC, s.created_at DESC, s.id LIMIT 1
    ), a AS (
        SELECT a.* FROM @extschema@.accounts a
         WHERE a.customer_id = @extschema@.actor_customer_id()
         ORDER BY (a.id = (SELECT s.account_id FROM s)) IS TRUE DESC, a.created_at, a.id LIMIT 1
    )
    SELECT pg_catalog.jsonb_build_object(
        -- The fields a dashboard shows (GET /api/subscriptions/:id has the whole row): a smaller document is
        -- measurably cheaper to build here and to re-encode in the sidecar (BENCHMARKS.md).
        'subscription', (SELECT pg_catalog.jsonb_build_object(
                                   'id', s.id, 'subscription_number', s.subscription_number, 'status', s.status,
                                   'account_id', s.account_id, 'rate_plan_id', s.rate_plan_id,
                                   'pending_rate_plan_id', s.pending_rate_plan_id, 'billing_cycle', s.billing_cycle,
                                   'currency', s.currency, 'recurring_price', s.recurring_price,
                                   'started_at', s.started_at, 'trial_ends_at', s.trial_ends_at,
                                   'current_period_start', s.current_period_start,
                                   'current_period_end', s.current_period_end, 'auto_renew', s.auto_renew,
                                   'cancel_at_period_end', s.cancel_at_period_end, 'plan', p.j, 'rate_plan', p.j)
                           FROM s CROSS JOIN LATERAL (
                               SELECT pg_catalog.jsonb_build_object(
                                          'id', rp.id, 'code', rp.code, 'name', rp.name, 'plan_code', rp.code,
                                          'plan_name', rp.name, 'monthly_price', rp.monthly_price,
                                          'included_minutes', rp.included_minutes, 'included_tfns', rp.included_tfns,
                                          'included_extensions', rp.included_extensions, 'features', rp.features) AS j
                                 FROM @extschema@.rate_plans rp WHERE rp.id = s.rate_plan_id) p),
        'stats', pg_catalog.jsonb_build_object(
            'toll_free_numbers', (SELECT count(*) FROM @extschema@.dids d, a WHERE d.account_id = a.id AND d.status = 'assigned'),
            'extensions', (SELECT count(*) FROM @extschema@.sip_extensions e, a WHERE e.account_id = a.id AND e.is_active),
            'minutes_used', coalesce((SELECT pg_catalog.ceil((u.included_used_seconds + u.overage_seconds) / 60.0)::bigint
                                        FROM s, @extschema@.subscription_usage u
                                       WHERE u.subscription_id = s.id AND u.period_start <= pg_catalog.now()
                                         AND u.period_end > pg_catalog.now()
                                       ORDER BY u.period_start DESC LIMIT 1), 0),
            'next_billing', (SELECT s.current_period_end FROM s WHERE s.status IN ('trial', 'active') AND NOT s.cancel_at_period_end)),
        'balance', (SELECT pg_catalog.jsonb_build_object('account_id', a.id, 'account_number', a.account_number,
                                                         'account_type', a.account_type, 'currency', a.currency,
                                                         'balance', a.balance, 'credit_limit', a.credit_limit)
                      FROM a))
    );
END
$$;
COMMENT ON FUNCTION @extschema@.api_my_dashboard() IS
    'API (GET /api/subscriptions/my-dashboard): the actor''s current subscription (live ones, trial / active first, '
    'newest first) with its plan (also as rate_plan), stats {toll_free_numbers (assigned numbers of the account), '
    'extensions (active SIP extensions of the account), minutes_used (this period), next_billing (the period end of a '
    'trial or active subscription that renews)} and balance {account_id, account_number, account_type, currency, '
    'balance, credit_limit} of the subscription''s account (else the customer''s first). Runs with the caller''s rights: '
    'an actor without a customer record gets nulls and zeros.';

-- The definer functions run as balatrix_owner: it needs the internal functions they call.
ALTER FUNCTION @extschema@.assign_did(uuid, uuid, timestamptz) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.release_did(uuid, timestamptz) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_actor_is_staff() OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_require_write(uuid, text) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_require_staff() OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_require_admin() OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_rate_plan_fields_check(jsonb, text[]) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_create_rate_plan(jsonb) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_update_rate_plan(uuid, jsonb) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_delete_rate_plan(uuid) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_create_subscription(uuid, text, text, integer, jsonb) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_change_subscription_plan(uuid, text, text) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_cancel_subscription(uuid, boolean, text) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_suspend_subscription(uuid, text) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_activate_subscription(uuid) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_renew_subscription(uuid) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_available_dids(text, text, integer, integer) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_assign_did(uuid, uuid) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_release_did(uuid) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_my_dashboard() OWNER TO balatrix_owner;


-- What the api_* functions call, as balatrix_owner (the closure of their calls; the lead may prefer one grant of
-- every function to balatrix_owner).


-- ============================================================================================
-- The API: CDRs and invoices
-- ============================================================================================
-- ============================================================================================
-- API writers: CDR ingestion and invoices (sidecar/src/api/cdr_routes.cpp, invoice_routes.cpp)
-- ============================================================================================
-- balatrix_api reads the tenant tables through row-level security and writes nothing itself: each
-- write the API offers is one of these SECURITY DEFINER functions, owned by balatrix_owner, which
-- checks the actor (balatrix.set_identity) and then calls the internal function that does the work.
-- A row the actor may not read is reported as missing (P0002), never as forbidden: the API does not
-- reveal that another customer's invoice exists.
--
-- The internal billing functions are created by the extension's owner and executable by nobody
-- else; the definer functions run as balatrix_owner, which owns every table they touch, so it may
-- run the functions that touch them too.

-- The FreeSWITCH columns of the landing table, in the order of balatrix.cdr: what an ingested CDR
-- may set. Rating columns are the trigger's.
CREATE FUNCTION @extschema@.api_ingest_cdrs(items jsonb,
                                            OUT ord integer, OUT uuid text, OUT cdr_id bigint, OUT created boolean)
    RETURNS SETOF record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF @extschema@.actor_role() IS NULL OR @extschema@.actor_role() NOT IN ('super_admin', 'admin', 'support') THEN
        RAISE EXCEPTION 'only staff may submit CDRs' USING ERRCODE = '42501';
    END IF;
    IF items IS NULL OR jsonb_typeof(items) <> 'array' THEN
        RAISE EXCEPTION 'items must be a JSON array of CDRs' USING ERRCODE = '22023';
    END IF;
    IF jsonb_array_length(items) > 1000 THEN
        RAISE EXCEPTION 'at most 1000 CDRs per call (got %)', jsonb_array_length(items) USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(items) e(v)
                WHERE jsonb_typeof(e.v) <> 'object' OR coalesce(e.v->>'uuid', '') = '') THEN
        RAISE EXCEPTION 'every CDR must be an object with a uuid' USING ERRCODE = '22023';
    END IF;
    -- One statement: the rating trigger dedupes by uuid (a uuid already stored, or repeated within
    -- this call, is dropped: INSERT 0 0 for that row), and the statement trigger posts the money once.
    -- jsonb_to_record with text columns cannot fail on any JSON value.
    RETURN QUERY
    WITH input AS (
        SELECT e.ordinality::integer AS ord, r.*
          FROM jsonb_array_elements(items) WITH ORDINALITY e(v, ordinality),
               jsonb_to_record(e.v) AS r(
                   local_ip_v4 text, caller_id_name text, caller_id_number text, destination_number text, context text,
                   start_stamp text, answer_stamp text, end_stamp text, duration text, billsec text, hangup_cause text,
                   uuid text, bleg_uuid text, accountcode text, read_codec text, write_codec text,
                   sip_hangup_disposition text, ani text, direction text, call_uuid text, originating_leg_uuid text,
                   hangup_cause_q850 text, last_bridge_hangup_cause text, sip_term_status text, sip_call_id text,
                   billmsec text, billusec text, mduration text, start_epoch text, answer_epoch text, end_epoch text,
                   start_uepoch text, answer_uepoch text, end_uepoch text, progresssec text, waitsec text)
    ), inserted AS (
        INSERT INTO @extschema@.cdr AS c (
            local_ip_v4, caller_id_name, caller_id_number, destination_number, context, start_stamp, answer_stamp,
            end_stamp, duration, billsec, hangup_cause, uuid, bleg_uuid, accountcode, read_codec, write_codec,
            sip_hangup_disposition, ani, direction, call_uuid, originating_leg_uuid, hangup_cause_q850,
            last_bridge_hangup_cause, sip_term_status, sip_call_id, billmsec, billusec, mduration, start_epoch,
            answer_epoch, end_epoch, start_uepoch, answer_uepoch, end_uepoch, progresssec, waitsec)
        SELECT i.local_ip_v4, i.caller_id_name, i.caller_id_number, i.destination_number, i.context, i.start_stamp,
               i.answer_stamp, i.end_stamp, i.duration, i.billsec, i.hangup_cause, i.uuid, i.bleg_uuid, i.accountcode,
               i.read_codec, i.write_codec, i.sip_hangup_disposition, i.ani, i.direction, i.call_uuid,
               i.originating_leg_uuid, i.hangup_cause_q850, i.last_bridge_hangup_cause, i.sip_term_status,
               i.sip_call_id, i.billmsec, i.billusec, i.mduration, i.start_epoch, i.answer_epoch, i.end_epoch,
               i.start_uepoch, i.answer_uepoch, i.end_uepoch, i.progresssec, i.waitsec
          FROM input i ORDER BY i.ord
        RETURNING c.id, c.uuid
    ), firsts AS (
        SELECT i.ord, i.uuid, row_number() OVER (PARTITION BY i.uuid ORDER BY i.ord) = 1 AS first
          FROM input i
    )
    SELECT f.ord, f.uuid,
           coalesce(n.id, (SELECT min(x.id) FROM @extschema@.cdr x WHERE x.uuid = f.uuid)),
           f.first AND n.id IS NOT NULL
      FROM firsts f LEFT JOIN inserted n ON n.uuid = f.uuid
     ORDER BY f.ord;
END
$$;
COMMENT ON FUNCTION @extschema@.api_ingest_cdrs(jsonb) IS
    'API (staff): stores up to 1000 CDRs given as a JSON array of objects keyed by the FreeSWITCH columns of '
    'balatrix.cdr (uuid required; values as text), in one INSERT through the rating trigger, so they are rated and '
    'charged exactly like mod_cdr_pg_csv''s. Idempotent by uuid. Returns, per item in order, its uuid, the id of its '
    'stored CDR and whether this call stored it (false: the uuid was stored before, or earlier in the same array). '
    '42501 not staff; 22023 not an array of objects with a uuid, or more than 1000.';

CREATE FUNCTION @extschema@.api_generate_subscription_invoice(subscription uuid, OUT invoice_id uuid, OUT created boolean)
    RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    s record;
    today date := (now() AT TIME ZONE 'Asia/Kolkata')::date;
BEGIN
    IF @extschema@.actor_role() IS NULL OR @extschema@.actor_role() NOT IN ('super_admin', 'admin', 'support') THEN
        RAISE EXCEPTION 'only staff may generate invoices' USING ERRCODE = '42501';
    END IF;
    SELECT x.* INTO s FROM @extschema@.subscriptions x WHERE x.id = subscription FOR UPDATE;
    IF NOT FOUND OR NOT @extschema@.actor_can_write(s.customer_id) THEN
        RAISE EXCEPTION 'subscription not found' USING ERRCODE = 'P0002';
    END IF;
    IF s.status <> 'active' THEN
        RAISE EXCEPTION 'subscription % is %: only an active subscription has a period to bill', s.subscription_number,
                        s.status USING ERRCODE = '55000';
    END IF;
    -- A period that has ended is renewed first (each renewal bills its own period).
    IF s.current_period_end <= today::timestamp AT TIME ZONE 'Asia/Kolkata' THEN
        PERFORM @extschema@.renew_subscription(s.id, today);
        SELECT x.* INTO s FROM @extschema@.subscriptions x WHERE x.id = subscription;
        IF s.status <> 'active' THEN
            RAISE EXCEPTION 'subscription % ended at its period end (%)', s.subscription_number, s.status
                USING ERRCODE = '55000';
        END IF;
    END IF;
    SELECT i.id INTO invoice_id FROM @extschema@.invoices i
     WHERE i.subscription_id = s.id AND i.period_start = s.current_period_start AND i.document_type = 'tax_invoice'
       AND i.billing_reason = 'period' AND i.status <> 'void';
    IF FOUND THEN
        created := false;
        RETURN;
    END IF;
    invoice_id := @extschema@.bill_subscription(s.id, s.current_period_start, s.current_period_end, true, NULL, NULL, NULL,
                                                'period', today);
    IF invoice_id IS NULL THEN
        RAISE EXCEPTION 'subscription % has nothing to bill for its current period', s.subscription_number
            USING ERRCODE = '55000';
    END IF;
    created := true;
END
$$;
COMMENT ON FUNCTION @extschema@.api_generate_subscription_invoice(uuid) IS
    'API (staff): the invoice of the current period of an active subscription: the existing one (created false), or '
    'a new one issued now with the period''s recurring charges (created true; balatrix.bill_subscription). A period '
    'that ended is renewed first. 42501 not staff; P0002 unknown or not visible; 55000 not active, or nothing to bill.';

-- The common preamble of the invoice writers: the invoice locked, or P0002 when the actor may not see it.
CREATE FUNCTION @extschema@.api_lock_invoice(invoice uuid, roles text[]) RETURNS @extschema@.invoices
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    inv @extschema@.invoices;
BEGIN
    IF @extschema@.actor_role() IS NULL OR NOT @extschema@.actor_role() = ANY (roles) THEN
        RAISE EXCEPTION 'insufficient permissions' USING ERRCODE = '42501';
    END IF;
    SELECT i.* INTO inv FROM @extschema@.invoices i WHERE i.id = invoice FOR UPDATE;
    IF NOT FOUND OR NOT @extschema@.actor_can_write(inv.customer_id) THEN
        RAISE EXCEPTION 'invoice not found' USING ERRCODE = 'P0002';
    END IF;
    RETURN inv;
END
$$;
COMMENT ON FUNCTION @extschema@.api_lock_invoice(uuid, text[]) IS
    'Internal (the api_* invoice writers): the invoice row locked FOR UPDATE when the actor has one of roles and may '
    'write the invoice''s customer. 42501 other role; P0002 unknown or not visible.';

CREATE FUNCTION @extschema@.api_issue_invoice(invoice uuid) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    inv @extschema@.invoices := @extschema@.api_lock_invoice(invoice, ARRAY['super_admin', 'admin', 'support']);
BEGIN
    RETURN @extschema@.issue_invoice(inv.id, NULL);
END
$$;
COMMENT ON FUNCTION @extschema@.api_issue_invoice(uuid) IS
    'API (staff): issues a draft invoice or note today (balatrix.issue_invoice); returns its number. 42501 not staff; '
    'P0002 unknown; 55000 not a draft; 22023 no lines or a credit beyond the invoice.';

CREATE FUNCTION @extschema@.api_void_invoice(invoice uuid, reason text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    inv @extschema@.invoices := @extschema@.api_lock_invoice(invoice, ARRAY['super_admin', 'admin']);
BEGIN
    PERFORM @extschema@.void_invoice(inv.id, reason);
END
$$;
COMMENT ON FUNCTION @extschema@.api_void_invoice(uuid, text) IS
    'API (admins): voids an issued, unpaid, uncredited invoice (balatrix.void_invoice). 42501 not an admin; P0002 '
    'unknown; 55000 wrong state; 22023 no reason.';

CREATE FUNCTION @extschema@.api_mark_invoice_paid(invoice uuid, amount numeric, reference text, paid_on date,
                                                  OUT payment_id uuid, OUT created boolean)
    RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    inv @extschema@.invoices := @extschema@.api_lock_invoice(invoice, ARRAY['super_admin', 'admin', 'support']);
    key text;
    existing record;
    paying numeric;
BEGIN
    IF reference IS NULL OR btrim(reference) = '' THEN
        RAISE EXCEPTION 'a manual payment needs a reference' USING ERRCODE = '22023';
    END IF;
    IF paid_on IS NOT NULL AND paid_on > (now() AT TIME ZONE 'Asia/Kolkata')::date THEN
        RAISE EXCEPTION 'paidAt % is in the future', paid_on USING ERRCODE = '22023';
    END IF;
    -- The same reference for the same invoice is the same payment: a repeat returns it.
    key := 'manual:' || inv.id || ':' || reference;
    SELECT p.id, p.amount INTO existing FROM @extschema@.payments p WHERE p.idempotency_key = key;
    IF FOUND THEN
        IF amount IS NOT NULL AND amount <> existing.amount THEN
            RAISE EXCEPTION 'reference % was already used for a payment of %', reference, existing.amount
                USING ERRCODE = '23505';
        END IF;
        payment_id := existing.id;
        created := false;
        RETURN;
    END IF;
    paying := coalesce(amount, inv.total - inv.amount_paid - inv.amount_credited);
    IF amount IS NULL AND paying <= 0 THEN
        RAISE EXCEPTION 'invoice % has nothing outstanding', coalesce(inv.invoice_number, inv.id::text) USING ERRCODE = '55000';
    END IF;
    payment_id := @extschema@.record_payment(inv.id, paying, 'manual', reference, paid_on, key);
    created := true;
END
$$;
COMMENT ON FUNCTION @extschema@.api_mark_invoice_paid(uuid, numeric, text, date) IS
    'API (staff): records a manual payment (gateway manual, gateway_payment_id = reference) of amount (default: what is '
    'outstanding) received on paid_on (default today) against an invoice (balatrix.record_payment, idempotency key '
    'manual:<invoice>:<reference>, so a repeat returns the first payment with created false). 42501 not staff; P0002 '
    'unknown; 55000 not payable or nothing outstanding; 22023 bad amount, no reference, a future date; 23505 the '
    'reference was used with another amount.';

CREATE FUNCTION @extschema@.api_create_credit_note(invoice uuid, amount numeric, reason text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    inv @extschema@.invoices := @extschema@.api_lock_invoice(invoice, ARRAY['super_admin', 'admin']);
    line record;
    note uuid;
BEGIN
    IF reason IS NULL OR btrim(reason) = '' THEN
        RAISE EXCEPTION 'a credit note needs a reason' USING ERRCODE = '22023';
    END IF;
    IF amount IS NULL OR amount <= 0 OR amount <> round(amount, 2) THEN
        RAISE EXCEPTION 'the amount must be positive, in paise (%)', amount USING ERRCODE = '22023';
    END IF;
    IF inv.document_type <> 'tax_invoice' OR inv.status IN ('draft', 'void') THEN
        RAISE EXCEPTION 'only an issued tax invoice takes a credit note (this one is % %)', inv.status,
                        replace(inv.document_type, '_', ' ') USING ERRCODE = '55000';
    END IF;
    -- The credit is taxed like the supply it corrects: the SAC and rate of the invoice's first line.
    SELECT l.sac, l.gst_rate INTO line FROM @extschema@.invoice_lines l WHERE l.invoice_id = inv.id ORDER BY l.line_no LIMIT 1;
    note := @extschema@.create_invoice_draft(inv.account_id, 'credit_note', inv.subscription_id, NULL, NULL, inv.id, 'manual');
    UPDATE @extschema@.invoices n SET notes = reason WHERE n.id = note;
    PERFORM @extschema@.add_invoice_line(note, 'adjustment', 'Credit against ' || inv.invoice_number || ': ' || reason, 1,
                                         amount, line.sac, NULL, NULL, 'invoice', inv.id::text,
                                         CASE WHEN inv.tax_exempt THEN NULL ELSE line.gst_rate END);
    PERFORM @extschema@.issue_invoice(note, NULL);
    RETURN note;
END
$$;
COMMENT ON FUNCTION @extschema@.api_create_credit_note(uuid, numeric, text) IS
    'API (admins): issues a credit note against an issued tax invoice for amount of taxable value (GST added on top at '
    'the invoice''s rate), with reason; it settles the invoice up to what is outstanding and credits the account '
    '(balatrix.issue_invoice). Returns the note. 42501 not an admin; P0002 unknown; 55000 not an issued tax invoice; '
    '22023 bad amount, no reason, or credits beyond the invoice''s taxable value.';

ALTER FUNCTION @extschema@.api_ingest_cdrs(jsonb) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_generate_subscription_invoice(uuid) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_lock_invoice(uuid, text[]) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_issue_invoice(uuid) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_void_invoice(uuid, text) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_mark_invoice_paid(uuid, numeric, text, date) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_create_credit_note(uuid, numeric, text) OWNER TO balatrix_owner;


-- ============================================================================================
-- The API: metrics
-- ============================================================================================
-- ============================================================================================
-- Metrics: the business gauges of GET /metrics (sidecar/src/api/metrics_routes.cpp)
-- ============================================================================================
-- The sidecar scrapes these with no caller identity (GET /metrics is unauthenticated), and balatrix_api sees
-- no tenant row without an actor, so the counts come from one SECURITY DEFINER function. It returns
-- aggregates only: counts per plan code and per status, never a row, a name or an amount of any tenant.
-- One statement, so every family is read from the same snapshot.
CREATE FUNCTION @extschema@.api_metrics()
    RETURNS TABLE (metric text, labels jsonb, value bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    -- Every plan of the catalogue, with 0 when nothing is in service on it: a series that vanishes would
    -- read as "no data" in a dashboard instead of 0.
    SELECT 'active_subscriptions', pg_catalog.jsonb_build_object('plan', p.code),
           (SELECT pg_catalog.count(*) FROM @extschema@.subscriptions s
             WHERE s.rate_plan_id = p.id AND s.status IN ('trial', 'active'))
      FROM @extschema@.rate_plans p
    UNION ALL
    SELECT 'customers_total', pg_catalog.jsonb_build_object('status', st.status),
           (SELECT pg_catalog.count(*) FROM @extschema@.customers c WHERE c.status = st.status)
      FROM (VALUES ('pending'), ('active'), ('suspended'), ('cancelled')) AS st (status)
    UNION ALL
    SELECT 'cdr_processed_total', pg_catalog.jsonb_build_object('status', c.rating_status), pg_catalog.count(*)
      FROM @extschema@.cdr c
     GROUP BY c.rating_status
    UNION ALL
    SELECT 'invoices_generated_total', pg_catalog.jsonb_build_object('type', i.document_type, 'status', i.status),
           pg_catalog.count(*)
      FROM @extschema@.invoices i
     GROUP BY i.document_type, i.status
$$;
COMMENT ON FUNCTION @extschema@.api_metrics() IS
    'Business metrics for the sidecar''s GET /metrics, as (metric, labels, value) rows: active_subscriptions '
    '{plan} (subscriptions in trial or active, per plan code; every plan listed), customers_total {status} '
    '(every customer status listed), cdr_processed_total {status} (CDR legs stored, by rating_status), '
    'invoices_generated_total {type, status} (documents by document_type and status). Aggregates only; '
    'SECURITY DEFINER because the unauthenticated scrape has no actor for row-level security. The CDR count '
    'scans the stored partitions: retention lowers it, which Prometheus reads as a counter reset.';
ALTER FUNCTION @extschema@.api_metrics() OWNER TO balatrix_owner;

-- ============================================================================================
-- The outbox consumer: claims, completion, retries with backoff, dead letter
-- ============================================================================================
-- A consumer (the sidecar, as balatrix_api, which cannot UPDATE event_outbox) polls or wakes on
-- NOTIFY balatrix_events, then per batch:
--
--   claim_events(worker)            -> leases up to N due events to this worker for lease_seconds
--   ... delivers each (mail, webhook, SMS; notifications makes each delivery once per recipient) ...
--   complete_event(id, worker)      -> done, if the lease is still this worker's
--   fail_event(id, worker, error)   -> retry later with backoff, or dead after max_attempts
--
-- Each call is its own short transaction: the lease (locked_by, locked_until), not a row lock held
-- across the delivery, is what keeps a second consumer away while the first one works. FOR UPDATE
-- SKIP LOCKED only keeps two concurrent claims from waiting on, or both taking, the same row; a
-- claim racing another on an expired lease re-checks the row after the winner commits (READ
-- COMMITTED) and skips it. A consumer that dies leaves its events pending with a lease that
-- expires, after which any consumer claims them again (at-least-once delivery; attempts counts
-- every claim, so a poison event that kills its consumer still reaches max_attempts, at which the
-- consumer's fail_event dead-letters it).
--
-- "Leased by this worker" means status pending and locked_by = worker, whether or not locked_until
-- has passed: only a new claim changes locked_by, so while it is unchanged nobody else has taken the
-- event over, and accepting a late completion spares a duplicate delivery. Worker names must be unique
-- per consumer process (host, pid and a random part, say).

CREATE FUNCTION @extschema@.claim_events(worker text, max_events integer DEFAULT 10, lease_seconds integer DEFAULT 60)
    RETURNS SETOF @extschema@.event_outbox
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF worker IS NULL OR btrim(worker) = '' OR octet_length(worker) > 200 THEN
        RAISE EXCEPTION 'claim_events: a worker name of 1 to 200 bytes is required' USING ERRCODE = '22023';
    END IF;
    IF max_events IS NULL OR max_events < 1 OR max_events > 1000 THEN
        RAISE EXCEPTION 'claim_events: max_events must be between 1 and 1000' USING ERRCODE = '22023',
              DETAIL = pg_catalog.format('max_events = %s', coalesce(max_events::text, 'NULL'));
    END IF;
    IF lease_seconds IS NULL OR lease_seconds < 1 OR lease_seconds > 86400 THEN
        RAISE EXCEPTION 'claim_events: lease_seconds must be between 1 and 86400' USING ERRCODE = '22023',
              DETAIL = pg_catalog.format('lease_seconds = %s', coalesce(lease_seconds::text, 'NULL'));
    END IF;
    -- Due and unleased, or leased with the lease run out (its consumer died or stalled).
    RETURN QUERY
    WITH picked AS (
        SELECT e.id
          FROM @extschema@.event_outbox e
         WHERE e.status = 'pending'
           AND ((e.locked_until IS NULL AND e.available_at <= now()) OR e.locked_until < now())
         ORDER BY e.available_at, e.id
         LIMIT max_events
           FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE @extschema@.event_outbox e
           SET locked_by = claim_events.worker,
               locked_until = now() + make_interval(secs => claim_events.lease_seconds),
               attempts = e.attempts + 1
          FROM picked
         WHERE e.id = picked.id
        RETURNING e.*
    )
    SELECT c.* FROM claimed c ORDER BY c.available_at, c.id;
END
$$;
COMMENT ON FUNCTION @extschema@.claim_events(text, integer, integer) IS
    'Outbox consumer: leases to worker, for lease_seconds, up to max_events pending events that are due '
    '(available_at <= now()) or whose lease has expired, oldest first (available_at, id), skipping rows another '
    'claim holds (FOR UPDATE SKIP LOCKED); counts an attempt on each and returns them. 22023 for a blank or '
    'over-long worker, max_events outside 1..1000 or lease_seconds outside 1..86400.';

CREATE FUNCTION @extschema@.complete_event(id bigint, worker text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    n integer;
BEGIN
    IF complete_event.id IS NULL OR worker IS NULL OR btrim(worker) = '' THEN
        RAISE EXCEPTION 'complete_event: an event id and a worker name are required' USING ERRCODE = '22023';
    END IF;
    UPDATE @extschema@.event_outbox e
       SET status = 'done', processed_at = now(), locked_by = NULL, locked_until = NULL
     WHERE e.id = complete_event.id AND e.status = 'pending' AND e.locked_by = complete_event.worker;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END
$$;
COMMENT ON FUNCTION @extschema@.complete_event(bigint, text) IS
    'Outbox consumer: marks event id done (processed_at now(), lease cleared) when it is pending and leased by '
    'worker, and returns true; false when not (done, dead, unknown, or claimed since by another worker: the '
    'caller must not assume its delivery was recorded). 22023 for a NULL id or a blank worker.';

CREATE FUNCTION @extschema@.fail_event(id bigint, worker text, error text, max_attempts integer DEFAULT 8)
    RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    outcome text;
BEGIN
    IF fail_event.id IS NULL OR worker IS NULL OR btrim(worker) = '' THEN
        RAISE EXCEPTION 'fail_event: an event id and a worker name are required' USING ERRCODE = '22023';
    END IF;
    IF max_attempts IS NULL OR max_attempts < 1 OR max_attempts > 1000 THEN
        RAISE EXCEPTION 'fail_event: max_attempts must be between 1 and 1000' USING ERRCODE = '22023',
              DETAIL = pg_catalog.format('max_attempts = %s', coalesce(max_attempts::text, 'NULL'));
    END IF;
    -- Backoff 30 s * 2^(attempts - 1), at most 6 hours; the exponent is capped first so that a huge
    -- attempts cannot overflow (2^10 * 30 s already exceeds 6 hours).
    UPDATE @extschema@.event_outbox e
       SET status = CASE WHEN e.attempts >= fail_event.max_attempts THEN 'dead' ELSE 'pending' END,
           available_at = CASE WHEN e.attempts >= fail_event.max_attempts THEN e.available_at
                               ELSE now() + make_interval(secs => least(30 * power(2, least(greatest(e.attempts - 1, 0), 20)), 21600))
                          END,
           last_error = left(fail_event.error, 2000),
           locked_by = NULL,
           locked_until = NULL
     WHERE e.id = fail_event.id AND e.status = 'pending' AND e.locked_by = fail_event.worker
    RETURNING CASE WHEN e.status = 'dead' THEN 'dead' ELSE 'retry' END INTO outcome;
    RETURN coalesce(outcome, 'lost');
END
$$;
COMMENT ON FUNCTION @extschema@.fail_event(bigint, text, text, integer) IS
    'Outbox consumer: records a failed delivery of event id leased by worker: last_error (first 2000 characters), '
    'lease cleared, and either ''retry'' (still pending, available_at = now() + least(30 s * 2^(attempts - 1), 6 h)) '
    'or, once attempts >= max_attempts, ''dead'' (status dead, left for a person). ''lost'' when the event is not '
    'pending and leased by worker (nothing changed). 22023 for a NULL id, a blank worker or max_attempts outside 1..1000.';

CREATE FUNCTION @extschema@.outbox_stats() RETURNS TABLE (status text, events bigint, oldest timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    -- One row per state, always all four, in this order. A pending event whose lease has expired
    -- counts as pending (it is claimable again).
    WITH classified AS (
        SELECT CASE WHEN e.status = 'pending' AND e.locked_until >= now() THEN 'leased' ELSE e.status END AS state,
               e.created_at
          FROM @extschema@.event_outbox e
    )
    SELECT s.state, count(c.state), min(c.created_at)
      FROM unnest(ARRAY['pending', 'leased', 'done', 'dead']) WITH ORDINALITY AS s (state, ord)
      LEFT JOIN classified c ON c.state = s.state
     GROUP BY s.state, s.ord
     ORDER BY s.ord
$$;
COMMENT ON FUNCTION @extschema@.outbox_stats() IS
    'Outbox monitoring: for each of pending (waiting, or with an expired lease), leased (claimed, lease running), '
    'done and dead, the number of events and the created_at of the oldest (NULL when none). Always four rows.';

-- Privileges: owned by balatrix_owner (SECURITY DEFINER: balatrix_api has no UPDATE on event_outbox),
-- executable by the API role only.
ALTER FUNCTION @extschema@.claim_events(text, integer, integer) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.complete_event(bigint, text) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.fail_event(bigint, text, text, integer) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.outbox_stats() OWNER TO balatrix_owner;

-- ============================================================================================
-- Gateway webhooks: received once
-- ============================================================================================
CREATE FUNCTION @extschema@.record_webhook_event(gateway text, event_id text, event_type text, payload jsonb)
    RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    n integer;
BEGIN
    IF gateway IS NULL OR gateway NOT IN ('razorpay', 'stripe') THEN
        RAISE EXCEPTION 'record_webhook_event: unknown gateway %', gateway USING ERRCODE = '22023';
    END IF;
    IF event_id IS NULL OR event_id = '' OR octet_length(event_id) > 200 OR event_type IS NULL OR event_type = ''
       OR octet_length(event_type) > 200 OR payload IS NULL THEN
        RAISE EXCEPTION 'record_webhook_event: an event id, a type and a payload are required' USING ERRCODE = '22023';
    END IF;
    INSERT INTO @extschema@.webhook_events (gateway, event_id, event_type, payload, signature_verified)
    VALUES (gateway, event_id, event_type, payload, true)
    ON CONFLICT ON CONSTRAINT webhook_events_gateway_event_id_key DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END
$$;
COMMENT ON FUNCTION @extschema@.record_webhook_event(text, text, text, jsonb) IS
    'Stores a gateway webhook whose signature the sidecar verified, once per (gateway, event_id): true when new, '
    'false for a redelivery (nothing changes). 22023 for an unknown gateway or a missing id, type or payload.';
ALTER FUNCTION @extschema@.record_webhook_event(text, text, text, jsonb) OWNER TO balatrix_owner;

-- ============================================================================================
-- Payments through the gateways: checkout, invoice payment, wallet top-up, outcomes, refunds, retries
-- ============================================================================================
-- A gateway payment is a payments row before it is money. Its life:
--   created   the row exists (amount, purpose, invoice); the gateway has not been asked yet, or the
--             sidecar does not know whether the gateway created the order (a timeout): the reconciler
--             asks again with the same receipt / idempotency key, which answers the same order
--   pending   the gateway order (Razorpay order_…, Stripe pi_…) is attached: waiting for the customer
--   captured  the money is ours: in the same transaction the ledger entry, the invoice settlement and,
--             for a checkout, the subscription's activation (gateway_payment_captured)
--   failed    the attempt failed; an invoice's failed payment schedules the next try 2, 4, 8 hours on
--             (three tries), driven by run_payment_retries
--   partially_refunded / refunded  money went back (gateway_refund_result): a ledger entry and, for an
--             invoiced supply, a credit note and the invoice's settlement reduced
--
-- Every gateway outcome arrives more than once, in any order, from three places (the client's
-- verify call, the webhook, the reconciler); each function here is idempotent and locks the payment
-- row first, so the first report wins and the others answer 'already_captured' / 'ignored'. A captured
-- payment never goes back to failed. The gateway_* functions are the sidecar's (balatrix_api), which
-- has verified the gateway's signature or asked the gateway itself; they carry no actor check. The
-- api_* functions start payments on behalf of the actor and check it.

-- The JSON the API shows for a payment (keys snake_case; the sidecar camel-cases them).
CREATE FUNCTION @extschema@.payment_json(p @extschema@.payments) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT pg_catalog.jsonb_build_object(
        'id', p.id, 'payment_number', p.payment_number, 'customer_id', p.customer_id, 'account_id', p.account_id,
        'invoice_id', p.invoice_id, 'subscription_id', p.subscription_id, 'purpose', p.purpose, 'gateway', p.gateway,
        'gateway_order_id', p.gateway_order_id, 'gateway_payment_id', p.gateway_payment_id,
        'amount', p.amount::text, 'amount_minor', (p.amount * 100)::bigint::text, 'currency', p.currency,
        'status', p.status, 'amount_refunded', p.amount_refunded::text, 'attempts', p.attempts,
        'next_retry_at', p.next_retry_at, 'failure_code', p.failure_code, 'failure_reason', p.failure_reason,
        'captured_at', p.captured_at, 'failed_at', p.failed_at, 'created_at', p.created_at,
        'updated_at', p.updated_at, 'metadata', p.metadata)
$$;
COMMENT ON FUNCTION @extschema@.payment_json(@extschema@.payments) IS
    'A payment as the API shows it: amounts as exact decimal strings, amount_minor in paise (what the gateways take).';

-- PG zone helper: the money of a payment that has just become captured, in the caller's transaction.
-- An invoice (or checkout) payment settles its invoice as far as it is outstanding (the rest stays on
-- the account as credit) and, for a checkout, activates the subscription; a top-up credits the wallet.
CREATE FUNCTION @extschema@.apply_captured_payment(payment uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    p @extschema@.payments;
    inv record;
    applied numeric := 0;
    settled boolean := false;
    s record;
BEGIN
    SELECT x.* INTO p FROM @extschema@.payments x WHERE x.id = payment;
    -- Locks in the order of the lifecycle functions: the subscription, then its invoices.
    PERFORM 1 FROM @extschema@.subscriptions x
     WHERE x.id = (SELECT i.subscription_id FROM @extschema@.invoices i WHERE i.id = p.invoice_id) FOR UPDATE;
    IF p.invoice_id IS NOT NULL THEN
        SELECT i.* INTO inv FROM @extschema@.invoices i WHERE i.id = p.invoice_id FOR UPDATE;
        IF inv.status IN ('issued', 'partially_paid', 'overdue') THEN
            applied := least(p.amount, inv.total - inv.amount_paid - inv.amount_credited);
        END IF;
    END IF;
    PERFORM @extschema@.post_ledger_entry(p.account_id, CASE p.purpose WHEN 'top_up' THEN 'top_up' ELSE 'payment' END,
                                          p.amount, 'payment', p.id::text,
                                          CASE WHEN p.purpose = 'top_up' THEN 'Wallet top-up ' || p.payment_number
                                               WHEN inv.invoice_number IS NOT NULL THEN 'Payment towards ' || inv.invoice_number
                                               ELSE 'Payment ' || p.payment_number END,
                                          pg_catalog.jsonb_build_object('invoice_id', p.invoice_id, 'applied', applied,
                                                                        'unapplied', p.amount - applied));
    IF applied > 0 THEN
        settled := inv.amount_paid + applied + inv.amount_credited >= inv.total;
        UPDATE @extschema@.invoices i
           SET amount_paid = i.amount_paid + applied,
               status = CASE WHEN settled THEN 'paid' WHEN i.status = 'overdue' THEN 'overdue' ELSE 'partially_paid' END,
               paid_at = CASE WHEN settled THEN p.captured_at ELSE i.paid_at END
         WHERE i.id = inv.id;
    END IF;
    -- Later payments of the same invoice stop retrying: it is settled.
    IF settled THEN
        UPDATE @extschema@.payments x SET next_retry_at = NULL
         WHERE x.invoice_id = inv.id AND x.status = 'failed' AND x.next_retry_at IS NOT NULL;
    END IF;
    PERFORM @extschema@.emit_event('payment.captured', p.customer_id, 'payment', p.id::text,
                                   pg_catalog.jsonb_build_object('payment_id', p.id, 'invoice_id', p.invoice_id, 'amount', p.amount,
                                                                 'currency', p.currency, 'gateway', p.gateway),
                                   'payment.captured:' || p.id);
    IF settled THEN
        PERFORM @extschema@.emit_event('invoice.paid', inv.customer_id, 'invoice', inv.id::text,
                                       pg_catalog.jsonb_build_object('invoice_id', inv.id, 'invoice_number', inv.invoice_number,
                                                                     'total', inv.total),
                                       'invoice.paid:' || inv.id);
        IF inv.subscription_id IS NOT NULL THEN
            SELECT x.id, x.status, x.customer_id, x.metadata INTO s FROM @extschema@.subscriptions x
             WHERE x.id = inv.subscription_id FOR UPDATE;
            IF s.status = 'pending' THEN
                -- A pending subscription's invoice billed its first period (a checkout): paid, the
                -- subscription runs from that period's start.
                UPDATE @extschema@.subscriptions x
                   SET status = 'active', anchor_day = extract(day FROM (inv.period_start AT TIME ZONE 'Asia/Kolkata')),
                       current_period_start = inv.period_start, current_period_end = inv.period_end,
                       metadata = x.metadata || pg_catalog.jsonb_build_object('activated_by_payment', p.id)
                 WHERE x.id = s.id;
                PERFORM @extschema@.emit_event('subscription.activated', s.customer_id, 'subscription', s.id::text,
                                               pg_catalog.jsonb_build_object('subscription_id', s.id, 'from', 'pending',
                                                   'reason', 'paid', 'period_start', inv.period_start,
                                                   'period_end', inv.period_end, 'invoice_id', inv.id, 'payment_id', p.id),
                                               'subscription.activated:' || s.id);
            ELSIF s.status = 'suspended' AND s.metadata->>'suspension_reason' = 'non_payment'
                  AND NOT EXISTS (SELECT 1 FROM @extschema@.invoices o
                                   WHERE o.subscription_id = s.id AND o.id <> inv.id AND o.status = 'overdue') THEN
                PERFORM @extschema@.resume_subscription(s.id, (p.captured_at AT TIME ZONE 'Asia/Kolkata')::date);
            END IF;
        END IF;
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.apply_captured_payment(uuid) IS
    'Internal: the money of a payment just marked captured, in the caller''s transaction: its ledger entry (top_up or '
    'payment, crediting the account), the settlement of its invoice up to what is outstanding, events payment.captured '
    'and invoice.paid, the activation of a checkout''s pending subscription, the resumption of one suspended for '
    'non-payment.';

-- PG zone helper: a new gateway payment row, or the one an earlier call made with the same key.
CREATE FUNCTION @extschema@.open_gateway_payment(account uuid, purpose text, gateway text, amount numeric,
                                                 invoice uuid, subscription uuid, idempotency_key text,
                                                 metadata jsonb DEFAULT '{}')
    RETURNS @extschema@.payments
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    acc record;
    p @extschema@.payments;
BEGIN
    IF gateway IS NULL OR gateway NOT IN ('razorpay', 'stripe') THEN
        RAISE EXCEPTION 'unknown gateway %', coalesce(quote_literal(gateway), 'NULL') USING ERRCODE = '22023',
            HINT = 'razorpay or stripe';
    END IF;
    IF idempotency_key IS NOT NULL AND (octet_length(idempotency_key) NOT BETWEEN 8 AND 200
                                        OR idempotency_key !~ '^[A-Za-z0-9_:.-]+$') THEN
        RAISE EXCEPTION 'an idempotency key is 8 to 200 characters of letters, digits and _ : . -' USING ERRCODE = '22023';
    END IF;
    IF idempotency_key IS NOT NULL THEN
        SELECT x.* INTO p FROM @extschema@.payments x WHERE x.idempotency_key = open_gateway_payment.idempotency_key;
        IF FOUND THEN
            IF p.account_id <> account OR p.purpose <> open_gateway_payment.purpose OR p.gateway <> open_gateway_payment.gateway
               OR (open_gateway_payment.amount IS NOT NULL AND p.amount <> open_gateway_payment.amount)
               OR p.invoice_id IS DISTINCT FROM coalesce(invoice, p.invoice_id) THEN
                RAISE EXCEPTION 'idempotency key % was used for another payment', idempotency_key USING ERRCODE = '22023';
            END IF;
            RETURN p;
        END IF;
    END IF;
    IF amount IS NULL OR amount < 1 OR amount <> round(amount, 2) OR amount > 10000000 THEN
        RAISE EXCEPTION 'the amount must be between 1.00 and 10000000.00, in paise (%)', amount USING ERRCODE = '22023';
    END IF;
    SELECT a.* INTO acc FROM @extschema@.accounts a WHERE a.id = account;
    INSERT INTO @extschema@.payments (customer_id, account_id, invoice_id, subscription_id, purpose, gateway, amount,
                                      currency, status, idempotency_key, metadata)
    VALUES (acc.customer_id, acc.id, invoice, subscription, purpose, gateway, amount, acc.currency, 'created',
            idempotency_key, coalesce(metadata, '{}'))
    RETURNING * INTO p;
    RETURN p;
END
$$;
COMMENT ON FUNCTION @extschema@.open_gateway_payment(uuid, text, text, numeric, uuid, uuid, text, jsonb) IS
    'Internal: a payment row in status created for a gateway, or the row an earlier call made with the same '
    'idempotency key (22023 when that key was used for another payment). 22023 unknown gateway, bad key or amount.';

CREATE FUNCTION @extschema@.api_checkout(account uuid, plan text, billing_cycle text, gateway text,
                                         idempotency_key text, addons jsonb DEFAULT '{}')
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    acc record;
    p @extschema@.payments;
    waiting record;
    open_invoice record;
    sub uuid;
    inv uuid;
    total numeric;
    day date := (now() AT TIME ZONE 'Asia/Kolkata')::date;
    months integer;
BEGIN
    SELECT a.* INTO acc FROM @extschema@.accounts a WHERE a.id = account;
    PERFORM @extschema@.api_require_write(acc.customer_id, 'account');
    IF idempotency_key IS NULL THEN
        RAISE EXCEPTION 'a checkout needs an idempotency key' USING ERRCODE = '22023';
    END IF;
    -- A repeat returns the first checkout.
    SELECT x.* INTO p FROM @extschema@.payments x WHERE x.idempotency_key = api_checkout.idempotency_key;
    IF FOUND THEN
        IF p.account_id <> account OR p.purpose <> 'subscription' OR p.gateway <> api_checkout.gateway THEN
            RAISE EXCEPTION 'idempotency key % was used for another payment', idempotency_key USING ERRCODE = '22023';
        END IF;
        RETURN @extschema@.payment_json(p);
    END IF;
    IF gateway IS NULL OR gateway NOT IN ('razorpay', 'stripe') THEN
        RAISE EXCEPTION 'unknown gateway %', coalesce(quote_literal(gateway), 'NULL') USING ERRCODE = '22023',
            HINT = 'razorpay or stripe';
    END IF;
    -- A checkout already waiting for its money (its payment failed, or was abandoned): the same plan is
    -- paid through its invoice again (the payment in progress, or a new one), never subscribed twice.
    SELECT s.id, s.subscription_number, s.rate_plan_id, s.billing_cycle INTO waiting FROM @extschema@.subscriptions s
     WHERE s.account_id = account AND s.status = 'pending' AND s.metadata ? 'checkout_payment_id' FOR UPDATE;
    IF FOUND THEN
        SELECT i.* INTO open_invoice FROM @extschema@.invoices i
         WHERE i.subscription_id = waiting.id AND i.document_type = 'tax_invoice' AND i.billing_reason = 'period'
           AND i.status IN ('issued', 'partially_paid', 'overdue')
         ORDER BY i.created_at LIMIT 1 FOR UPDATE;
        IF open_invoice.id IS NULL OR waiting.billing_cycle <> coalesce(billing_cycle, 'monthly')
           OR waiting.rate_plan_id IS DISTINCT FROM (SELECT rp.id FROM @extschema@.rate_plans rp WHERE rp.code = plan) THEN
            RAISE EXCEPTION 'account % has checkout % waiting for payment for another plan or cycle', acc.account_number,
                            waiting.subscription_number USING ERRCODE = '55000',
                  HINT = 'Pay it, or cancel that subscription first.';
        END IF;
        SELECT x.* INTO p FROM @extschema@.payments x
         WHERE x.invoice_id = open_invoice.id AND x.status IN ('created', 'pending', 'authorized') ORDER BY x.created_at LIMIT 1;
        IF NOT FOUND THEN
            p := @extschema@.open_gateway_payment(account, 'subscription', gateway,
                                                  open_invoice.total - open_invoice.amount_paid - open_invoice.amount_credited,
                                                  open_invoice.id, waiting.id, idempotency_key,
                                                  pg_catalog.jsonb_build_object('plan', plan, 'billing_cycle', waiting.billing_cycle));
        END IF;
        RETURN @extschema@.payment_json(p);
    END IF;
    -- quote -> subscription (pending) -> the first period's invoice -> the payment that settles it.
    sub := @extschema@.create_subscription(account, plan, coalesce(billing_cycle, 'monthly'), day, false, coalesce(addons, '{}'));
    months := CASE coalesce(billing_cycle, 'monthly') WHEN 'quarterly' THEN 3 WHEN 'annual' THEN 12 ELSE 1 END;
    inv := @extschema@.bill_subscription(sub, day::timestamp AT TIME ZONE 'Asia/Kolkata',
                                         @extschema@.add_months_clamped(day, months, extract(day FROM day)::integer)::timestamp
                                             AT TIME ZONE 'Asia/Kolkata',
                                         true, NULL, NULL, day::timestamp AT TIME ZONE 'Asia/Kolkata', 'period', day);
    SELECT i.total INTO total FROM @extschema@.invoices i WHERE i.id = inv;
    IF inv IS NULL OR total < 1 THEN
        RAISE EXCEPTION 'plan % costs nothing to start: subscribe without a checkout', plan USING ERRCODE = '55000';
    END IF;
    p := @extschema@.open_gateway_payment(account, 'subscription', gateway, total, inv, sub, idempotency_key,
                                          pg_catalog.jsonb_build_object('plan', plan, 'billing_cycle', coalesce(billing_cycle, 'monthly')));
    UPDATE @extschema@.subscriptions s SET metadata = s.metadata || pg_catalog.jsonb_build_object('checkout_payment_id', p.id)
     WHERE s.id = sub;
    RETURN @extschema@.payment_json(p);
END
$$;
COMMENT ON FUNCTION @extschema@.api_checkout(uuid, text, text, text, text, jsonb) IS
    'API: starts a subscription checkout for an account the actor may write: a pending subscription to plan, the '
    'invoice of its first period [today, today + cycle) issued, and a payment (status created) of the invoice''s total '
    'through gateway. Payment settles the invoice and activates the subscription. A repeat with the same '
    'idempotency_key returns the first payment. A checkout of the same plan while an earlier one still waits for its '
    'money returns that one''s payment in progress, or a new payment of its invoice (after a failure). 22023 bad plan, '
    'cycle, gateway or key; 55000 the account has a live subscription (or a waiting checkout of another plan), or the '
    'plan costs nothing; P0002 / 42501 from the actor check.';

CREATE FUNCTION @extschema@.api_pay_invoice(invoice uuid, gateway text, idempotency_key text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    inv record;
    p @extschema@.payments;
    outstanding numeric;
BEGIN
    SELECT i.* INTO inv FROM @extschema@.invoices i WHERE i.id = invoice FOR UPDATE;
    PERFORM @extschema@.api_require_write(inv.customer_id, 'invoice');
    IF idempotency_key IS NULL THEN
        RAISE EXCEPTION 'a payment needs an idempotency key' USING ERRCODE = '22023';
    END IF;
    SELECT x.* INTO p FROM @extschema@.payments x WHERE x.idempotency_key = api_pay_invoice.idempotency_key;
    IF FOUND THEN
        IF p.invoice_id IS DISTINCT FROM invoice OR p.gateway <> api_pay_invoice.gateway THEN
            RAISE EXCEPTION 'idempotency key % was used for another payment', idempotency_key USING ERRCODE = '22023';
        END IF;
        RETURN @extschema@.payment_json(p);
    END IF;
    IF inv.document_type = 'credit_note' OR inv.status NOT IN ('issued', 'partially_paid', 'overdue') THEN
        RAISE EXCEPTION 'invoice % is %: it takes no payment', coalesce(inv.invoice_number, invoice::text), inv.status
            USING ERRCODE = '55000';
    END IF;
    outstanding := inv.total - inv.amount_paid - inv.amount_credited;
    -- One open gateway payment per invoice: a second would let the customer pay twice.
    IF EXISTS (SELECT 1 FROM @extschema@.payments x
                WHERE x.invoice_id = invoice AND x.status IN ('created', 'pending', 'authorized')) THEN
        RAISE EXCEPTION 'invoice % already has a payment in progress', inv.invoice_number USING ERRCODE = '55000',
            HINT = 'Complete or wait for the payment in progress.';
    END IF;
    p := @extschema@.open_gateway_payment(inv.account_id, 'invoice', gateway, outstanding, invoice, inv.subscription_id,
                                          idempotency_key, '{}');
    RETURN @extschema@.payment_json(p);
END
$$;
COMMENT ON FUNCTION @extschema@.api_pay_invoice(uuid, text, text) IS
    'API: a gateway payment (status created) of what is outstanding on an invoice the actor may write; a repeat with '
    'the same idempotency_key returns it. 55000 not payable (draft, paid, void, a credit note) or a payment already in '
    'progress; 22023 bad gateway, key, or an amount below 1.00; P0002 / 42501 from the actor check.';

CREATE FUNCTION @extschema@.api_top_up(account uuid, amount numeric, gateway text, idempotency_key text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    acc record;
BEGIN
    SELECT a.* INTO acc FROM @extschema@.accounts a WHERE a.id = account;
    PERFORM @extschema@.api_require_write(acc.customer_id, 'account');
    IF idempotency_key IS NULL THEN
        RAISE EXCEPTION 'a top-up needs an idempotency key' USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.payments x WHERE x.idempotency_key = api_top_up.idempotency_key) THEN
        IF acc.account_type <> 'prepaid' THEN
            RAISE EXCEPTION 'account % is postpaid: pay its invoices instead', acc.account_number USING ERRCODE = '55000';
        END IF;
        IF acc.status <> 'active' THEN
            RAISE EXCEPTION 'account % is %', acc.account_number, acc.status USING ERRCODE = '55000';
        END IF;
    END IF;
    RETURN @extschema@.payment_json(@extschema@.open_gateway_payment(account, 'top_up', gateway, amount, NULL, NULL,
                                                                     idempotency_key, '{}'));
END
$$;
COMMENT ON FUNCTION @extschema@.api_top_up(uuid, numeric, text, text) IS
    'API: a gateway payment (status created) that credits a prepaid account''s wallet by amount once captured; a repeat '
    'with the same idempotency_key returns it. 55000 postpaid or inactive account; 22023 bad amount (1.00 to '
    '10000000.00), gateway or key; P0002 / 42501 from the actor check.';

CREATE FUNCTION @extschema@.gateway_attach_order(payment uuid, gateway_order_id text, response jsonb DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    p @extschema@.payments;
BEGIN
    IF gateway_order_id IS NULL OR gateway_order_id !~ '^[A-Za-z0-9_]{1,100}$' THEN
        RAISE EXCEPTION 'a gateway order id is 1 to 100 letters, digits and _' USING ERRCODE = '22023';
    END IF;
    SELECT x.* INTO p FROM @extschema@.payments x WHERE x.id = payment FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'payment % does not exist', payment USING ERRCODE = 'P0002';
    END IF;
    IF p.gateway_order_id IS NOT NULL AND p.gateway_order_id <> gateway_attach_order.gateway_order_id THEN
        RAISE EXCEPTION 'payment % already has gateway order %', p.payment_number, p.gateway_order_id USING ERRCODE = '55000';
    END IF;
    UPDATE @extschema@.payments x
       SET gateway_order_id = gateway_attach_order.gateway_order_id,
           status = CASE WHEN x.status = 'created' THEN 'pending' ELSE x.status END,
           gateway_response = coalesce(response, x.gateway_response),
           attempts = CASE WHEN x.gateway_order_id IS NULL THEN x.attempts + 1 ELSE x.attempts END
     WHERE x.id = p.id
    RETURNING x.* INTO p;
    RETURN @extschema@.payment_json(p);
END
$$;
COMMENT ON FUNCTION @extschema@.gateway_attach_order(uuid, text, jsonb) IS
    'Sidecar: records the gateway order (Razorpay order_…, Stripe pi_…) created for a payment; created becomes '
    'pending. Idempotent for the same order; 55000 when another order is attached; 22023 bad id; P0002 unknown payment.';

-- PG zone helper: schedules the next automatic try of a failed invoice payment (2, 4, 8 hours; 3 tries).
CREATE FUNCTION @extschema@.schedule_payment_retry(payment uuid) RETURNS timestamptz
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    p @extschema@.payments;
    tries integer;
    next_at timestamptz;
BEGIN
    SELECT x.* INTO p FROM @extschema@.payments x WHERE x.id = payment;
    IF p.invoice_id IS NULL OR p.purpose NOT IN ('invoice', 'subscription') THEN
        RETURN NULL;
    END IF;
    -- The tries so far: this invoice's failed gateway payments, this one included.
    SELECT count(*) INTO tries FROM @extschema@.payments x
     WHERE x.invoice_id = p.invoice_id AND x.status = 'failed' AND x.gateway IN ('razorpay', 'stripe');
    IF tries > 3 OR EXISTS (SELECT 1 FROM @extschema@.invoices i
                             WHERE i.id = p.invoice_id AND i.status NOT IN ('issued', 'partially_paid', 'overdue')) THEN
        RETURN NULL;
    END IF;
    next_at := p.failed_at + make_interval(hours => (2 ^ tries)::integer);
    UPDATE @extschema@.payments x SET next_retry_at = next_at WHERE x.id = p.id;
    RETURN next_at;
END
$$;
COMMENT ON FUNCTION @extschema@.schedule_payment_retry(uuid) IS
    'Internal: after the n-th failed gateway payment of an invoice (n = 1, 2, 3), sets next_retry_at = failed_at + '
    '2^n hours (2, 4, 8); nothing after the third, for a settled invoice, or for a top-up. Returns the time or NULL.';

CREATE FUNCTION @extschema@.gateway_payment_captured(gateway text, gateway_order_id text, gateway_payment_id text,
                                                     amount numeric, source text, details jsonb DEFAULT NULL,
                                                     OUT payment_id uuid, OUT outcome text)
    RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    p @extschema@.payments;
BEGIN
    IF gateway IS NULL OR gateway NOT IN ('razorpay', 'stripe') OR gateway_order_id IS NULL
       OR source IS NULL OR source NOT IN ('verify', 'webhook', 'reconcile', 'retry') THEN
        RAISE EXCEPTION 'gateway_payment_captured: gateway, order id and the source (verify, webhook, reconcile, retry) '
                        'are required' USING ERRCODE = '22023';
    END IF;
    SELECT x.* INTO p FROM @extschema@.payments x
     WHERE x.gateway = gateway_payment_captured.gateway AND x.gateway_order_id = gateway_payment_captured.gateway_order_id
     ORDER BY x.created_at LIMIT 1 FOR UPDATE;
    IF NOT FOUND THEN
        -- Not an order of ours (another system on the same gateway account): nothing to check or do.
        outcome := 'unknown_order';
        RETURN;
    END IF;
    IF gateway_payment_id IS NULL OR gateway_payment_id !~ '^[A-Za-z0-9_]{1,100}$' OR amount IS NULL OR amount <= 0
       OR amount <> round(amount, 2) THEN
        RAISE EXCEPTION 'gateway_payment_captured: a gateway payment id and a positive amount in paise are required'
            USING ERRCODE = '22023';
    END IF;
    payment_id := p.id;
    IF p.status IN ('captured', 'partially_refunded', 'refunded') THEN
        -- The same money reported again (a webhook after the verify, a redelivery): nothing to do. A
        -- different gateway payment on a paid order is the customer paying twice: kept for a refund.
        outcome := CASE WHEN p.gateway_payment_id = gateway_payment_captured.gateway_payment_id THEN 'already_captured'
                        ELSE 'second_payment' END;
        IF outcome = 'second_payment' THEN
            UPDATE @extschema@.payments x
               SET metadata = x.metadata || pg_catalog.jsonb_build_object('second_payments',
                       coalesce(x.metadata->'second_payments', '[]') || pg_catalog.to_jsonb(gateway_payment_captured.gateway_payment_id))
             WHERE x.id = p.id AND NOT coalesce(x.metadata->'second_payments', '[]') ? gateway_payment_captured.gateway_payment_id;
        END IF;
        RETURN;
    END IF;
    IF amount <> p.amount THEN
        UPDATE @extschema@.payments x
           SET metadata = x.metadata || pg_catalog.jsonb_build_object('amount_mismatch',
                   pg_catalog.jsonb_build_object('reported', gateway_payment_captured.amount, 'gateway_payment_id', gateway_payment_captured.gateway_payment_id))
         WHERE x.id = p.id;
        outcome := 'amount_mismatch';
        RETURN;
    END IF;
    UPDATE @extschema@.payments x
       SET status = 'captured', gateway_payment_id = gateway_payment_captured.gateway_payment_id, captured_at = now(),
           next_retry_at = NULL, failure_code = NULL, failure_reason = NULL,
           gateway_response = coalesce(details, x.gateway_response),
           metadata = x.metadata || pg_catalog.jsonb_build_object('captured_via', source)
     WHERE x.id = p.id;
    PERFORM @extschema@.apply_captured_payment(p.id);
    outcome := 'captured';
END
$$;
COMMENT ON FUNCTION @extschema@.gateway_payment_captured(text, text, text, numeric, text, jsonb) IS
    'Sidecar: the gateway captured gateway_payment_id for the payment of gateway_order_id (reported by the client''s '
    'verified checkout, a verified webhook, the reconciler or a retry). The first report marks the payment captured and '
    'moves the money in the same transaction (apply_captured_payment); later ones answer already_captured. A failed '
    'payment may still be captured (a late success). outcome: captured, already_captured, second_payment (another '
    'gateway payment on a paid order, noted for a refund), amount_mismatch (not settled, noted), unknown_order. 22023 '
    'bad arguments.';

CREATE FUNCTION @extschema@.gateway_payment_failed(gateway text, gateway_order_id text, gateway_payment_id text,
                                                   code text, reason text, source text,
                                                   OUT payment_id uuid, OUT outcome text, OUT next_retry_at timestamptz)
    RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    p @extschema@.payments;
BEGIN
    IF gateway IS NULL OR gateway NOT IN ('razorpay', 'stripe') OR gateway_order_id IS NULL
       OR source IS NULL OR source NOT IN ('verify', 'webhook', 'reconcile', 'retry') THEN
        RAISE EXCEPTION 'gateway_payment_failed: gateway, order id and source are required' USING ERRCODE = '22023';
    END IF;
    SELECT x.* INTO p FROM @extschema@.payments x
     WHERE x.gateway = gateway_payment_failed.gateway AND x.gateway_order_id = gateway_payment_failed.gateway_order_id
     ORDER BY x.created_at LIMIT 1 FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'unknown_order';
        RETURN;
    END IF;
    payment_id := p.id;
    -- Never back from paid: a failure reported after the capture (an earlier attempt, out of order) is history.
    IF p.status NOT IN ('created', 'pending', 'authorized') THEN
        outcome := CASE WHEN p.status = 'failed' THEN 'already_failed' ELSE 'ignored' END;
        next_retry_at := p.next_retry_at;
        RETURN;
    END IF;
    UPDATE @extschema@.payments x
       SET status = 'failed', failed_at = now(), failure_code = left(code, 100), failure_reason = left(reason, 500),
           metadata = x.metadata || pg_catalog.jsonb_build_object('failed_via', source, 'failed_gateway_payment_id',
                                                                  gateway_payment_failed.gateway_payment_id)
     WHERE x.id = p.id;
    next_retry_at := @extschema@.schedule_payment_retry(p.id);
    PERFORM @extschema@.emit_event('payment.failed', p.customer_id, 'payment', p.id::text,
                                   pg_catalog.jsonb_build_object('payment_id', p.id, 'payment_number', p.payment_number,
                                                                 'invoice_id', p.invoice_id, 'purpose', p.purpose,
                                                                 'amount', p.amount, 'currency', p.currency,
                                                                 'gateway', p.gateway, 'code', code, 'reason', reason,
                                                                 'next_retry_at', next_retry_at),
                                   'payment.failed:' || p.id);
    outcome := 'failed';
END
$$;
COMMENT ON FUNCTION @extschema@.gateway_payment_failed(text, text, text, text, text, text) IS
    'Sidecar: the gateway reports the payment of gateway_order_id failed (code, reason). A payment still in progress '
    'becomes failed, a payment.failed event is written and, for an invoice, the next automatic try is scheduled '
    '(schedule_payment_retry). A captured or refunded payment is never moved back (outcome ignored). outcome: failed, '
    'already_failed, ignored, unknown_order. 22023 bad arguments.';

CREATE FUNCTION @extschema@.gateway_payment_refused(payment uuid, code text, reason text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    p @extschema@.payments;
BEGIN
    SELECT x.* INTO p FROM @extschema@.payments x WHERE x.id = payment FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'payment % does not exist', payment USING ERRCODE = 'P0002';
    END IF;
    IF p.status <> 'created' THEN
        RETURN 'ignored';
    END IF;
    UPDATE @extschema@.payments x
       SET status = 'failed', failed_at = now(), failure_code = left(code, 100), failure_reason = left(reason, 500)
     WHERE x.id = p.id;
    RETURN 'failed';
END
$$;
COMMENT ON FUNCTION @extschema@.gateway_payment_refused(uuid, text, text) IS
    'Sidecar: the gateway refused to create the order / PaymentIntent of a payment still created (a validation error, '
    'not a decline): the payment becomes failed with the gateway''s code and reason, so nobody asks again. ignored '
    'for any other status. P0002 unknown payment.';

CREATE FUNCTION @extschema@.gateway_pending_work(older_than_seconds integer DEFAULT 60, max_rows integer DEFAULT 50)
    RETURNS TABLE (kind text, body jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    (SELECT 'payment', @extschema@.payment_json(p)
       FROM @extschema@.payments p
      WHERE p.status IN ('created', 'pending', 'authorized') AND p.gateway IN ('razorpay', 'stripe')
        AND p.updated_at < now() - make_interval(secs => older_than_seconds)
        AND p.created_at > now() - interval '7 days'
      ORDER BY p.updated_at LIMIT max_rows)
    UNION ALL
    (SELECT 'refund', pg_catalog.jsonb_build_object('id', r.id, 'payment_id', p.id, 'gateway', p.gateway,
                                                    'gateway_payment_id', p.gateway_payment_id, 'amount', r.amount::text,
                                                    'currency', r.currency, 'status', r.status)
       FROM @extschema@.refunds r JOIN @extschema@.payments p ON p.id = r.payment_id
      WHERE r.status = 'pending' AND r.created_at < now() - make_interval(secs => older_than_seconds)
      ORDER BY r.created_at LIMIT max_rows)
$$;
COMMENT ON FUNCTION @extschema@.gateway_pending_work(integer, integer) IS
    'Sidecar (the reconciler): gateway payments still created / pending / authorized, untouched for older_than_seconds '
    'and at most 7 days old (as payment_json), and pending refunds, up to max_rows of each, oldest first: the ones '
    'whose outcome the sidecar must ask the gateway for (a timeout, a lost webhook).';

CREATE FUNCTION @extschema@.gateway_payment_by_order(gateway text, gateway_order_id text) RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT @extschema@.payment_json(p) FROM @extschema@.payments p
     WHERE p.gateway = gateway_payment_by_order.gateway AND p.gateway_order_id = gateway_payment_by_order.gateway_order_id
     ORDER BY p.created_at LIMIT 1
$$;
COMMENT ON FUNCTION @extschema@.gateway_payment_by_order(text, text) IS
    'Sidecar: the payment (payment_json) of a gateway order, for a webhook that needs a gateway call (a Razorpay '
    'payment.authorized to capture); NULL when the order is not ours.';

CREATE FUNCTION @extschema@.api_begin_refund(payment uuid, amount numeric, reason text, idempotency_key text)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    p @extschema@.payments;
    r @extschema@.refunds;
    refunding numeric;
    in_flight numeric;
    inv record;
    bal numeric;
BEGIN
    PERFORM @extschema@.api_require_admin();
    IF idempotency_key IS NULL OR octet_length(idempotency_key) NOT BETWEEN 10 AND 100
       OR idempotency_key !~ '^[A-Za-z0-9_-]+$' THEN
        RAISE EXCEPTION 'a refund needs an idempotency key of 10 to 100 letters, digits, _ and -' USING ERRCODE = '22023';
    END IF;
    SELECT x.* INTO p FROM @extschema@.payments x WHERE x.id = payment FOR UPDATE;
    IF NOT FOUND OR NOT @extschema@.actor_can_write(p.customer_id) THEN
        RAISE EXCEPTION 'payment not found' USING ERRCODE = 'P0002';
    END IF;
    SELECT x.* INTO r FROM @extschema@.refunds x WHERE x.idempotency_key = api_begin_refund.idempotency_key;
    IF FOUND THEN
        IF r.payment_id <> payment OR (amount IS NOT NULL AND r.amount <> amount) THEN
            RAISE EXCEPTION 'idempotency key % was used for another refund', idempotency_key USING ERRCODE = '22023';
        END IF;
    ELSE
        IF reason IS NULL OR btrim(reason) = '' THEN
            RAISE EXCEPTION 'a refund needs a reason' USING ERRCODE = '22023';
        END IF;
        IF p.gateway NOT IN ('razorpay', 'stripe') OR p.status NOT IN ('captured', 'partially_refunded') THEN
            RAISE EXCEPTION 'payment % is % (%): only a captured gateway payment can be refunded', p.payment_number,
                            p.status, p.gateway USING ERRCODE = '55000';
        END IF;
        SELECT coalesce(sum(x.amount), 0) INTO in_flight FROM @extschema@.refunds x
         WHERE x.payment_id = p.id AND x.status = 'pending';
        refunding := coalesce(amount, p.amount - p.amount_refunded - in_flight);
        IF refunding <= 0 OR refunding <> round(refunding, 2) OR refunding > p.amount - p.amount_refunded - in_flight THEN
            RAISE EXCEPTION 'the refund must be positive, in paise, and at most % (what is left of the payment)',
                            p.amount - p.amount_refunded - in_flight USING ERRCODE = '22023';
        END IF;
        IF p.invoice_id IS NOT NULL THEN
            -- The refund returns money for a supply invoiced: the credit note that goes with it corrects
            -- the invoice, which must be settled (a part still owed is voided or credited first).
            SELECT i.* INTO inv FROM @extschema@.invoices i WHERE i.id = p.invoice_id;
            IF inv.status NOT IN ('paid', 'partially_refunded') THEN
                RAISE EXCEPTION 'invoice % is %: refund a payment of a settled invoice only', inv.invoice_number, inv.status
                    USING ERRCODE = '55000';
            END IF;
            IF refunding > inv.amount_paid THEN
                RAISE EXCEPTION 'invoice % has % paid: the refund cannot exceed it', inv.invoice_number, inv.amount_paid
                    USING ERRCODE = '22023';
            END IF;
        ELSE
            SELECT a.balance INTO bal FROM @extschema@.accounts a WHERE a.id = p.account_id;
            IF bal < refunding THEN
                RAISE EXCEPTION 'the wallet holds % : a top-up refund cannot exceed the balance', bal USING ERRCODE = '55000';
            END IF;
        END IF;
        INSERT INTO @extschema@.refunds (customer_id, payment_id, amount, currency, status, reason, idempotency_key)
        VALUES (p.customer_id, p.id, refunding, p.currency, 'pending', reason, idempotency_key)
        RETURNING * INTO r;
    END IF;
    RETURN pg_catalog.jsonb_build_object('id', r.id, 'payment_id', r.payment_id, 'amount', r.amount::text,
                                         'amount_minor', (r.amount * 100)::bigint::text, 'currency', r.currency,
                                         'status', r.status, 'reason', r.reason, 'gateway', p.gateway,
                                         'gateway_payment_id', p.gateway_payment_id, 'gateway_refund_id', r.gateway_refund_id,
                                         'credit_note_id', r.credit_note_id, 'created_at', r.created_at,
                                         'processed_at', r.processed_at);
END
$$;
COMMENT ON FUNCTION @extschema@.api_begin_refund(uuid, numeric, text, text) IS
    'API (admins): a pending refund of amount (default: what is left) of a captured gateway payment, before the '
    'gateway is asked; a repeat with the same idempotency_key returns it. The money moves when the gateway confirms '
    '(gateway_refund_result). 42501 not an admin; P0002 unknown; 55000 not a captured gateway payment, an invoice not '
    'settled, a wallet that no longer holds the amount; 22023 bad amount, key or no reason.';

CREATE FUNCTION @extschema@.gateway_refund_result(refund uuid, gateway_refund_id text, succeeded boolean,
                                                  error text DEFAULT NULL, OUT outcome text, OUT credit_note_id uuid)
    RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    r @extschema@.refunds;
    p @extschema@.payments;
    inv record;
    line record;
    note uuid;
    rate numeric;
    taxable numeric;
    note_total numeric;
BEGIN
    IF refund IS NULL OR succeeded IS NULL OR (succeeded AND (gateway_refund_id IS NULL
                                                              OR gateway_refund_id !~ '^[A-Za-z0-9_]{1,100}$')) THEN
        RAISE EXCEPTION 'gateway_refund_result: a refund, its outcome and (when it succeeded) the gateway refund id are required'
            USING ERRCODE = '22023';
    END IF;
    -- Lock order of the payment flows: payment, then refund, then invoice.
    SELECT x.* INTO p FROM @extschema@.payments x WHERE x.id = (SELECT y.payment_id FROM @extschema@.refunds y WHERE y.id = refund)
       FOR UPDATE;
    SELECT x.* INTO r FROM @extschema@.refunds x WHERE x.id = refund FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'refund % does not exist', refund USING ERRCODE = 'P0002';
    END IF;
    IF r.status <> 'pending' THEN
        outcome := 'already_' || r.status;
        credit_note_id := r.credit_note_id;
        RETURN;
    END IF;
    IF NOT succeeded THEN
        UPDATE @extschema@.refunds x SET status = 'failed', processed_at = now(),
               reason = x.reason || ' [failed: ' || left(coalesce(error, 'unknown'), 200) || ']'
         WHERE x.id = r.id;
        outcome := 'failed';
        RETURN;
    END IF;
    IF p.invoice_id IS NOT NULL THEN
        SELECT i.* INTO inv FROM @extschema@.invoices i WHERE i.id = p.invoice_id FOR UPDATE;
        -- The credit note: taxed like the supply it corrects (the rate of the invoice's first line), its total
        -- exactly the money refunded (a paisa of rounding goes to round-off).
        SELECT l.sac, l.gst_rate INTO line FROM @extschema@.invoice_lines l WHERE l.invoice_id = inv.id ORDER BY l.line_no LIMIT 1;
        rate := CASE WHEN inv.tax_exempt THEN 0 ELSE line.gst_rate END;
        taxable := round(r.amount * 100 / (100 + rate), 2);
        note := @extschema@.create_invoice_draft(inv.account_id, 'credit_note', inv.subscription_id, NULL, NULL, inv.id, 'manual');
        UPDATE @extschema@.invoices n SET notes = 'Refund ' || r.id || ': ' || r.reason WHERE n.id = note;
        PERFORM @extschema@.add_invoice_line(note, 'adjustment', 'Refund against ' || inv.invoice_number || ': ' || r.reason,
                                             1, taxable, line.sac, NULL, NULL, 'invoice', inv.id::text,
                                             CASE WHEN inv.tax_exempt THEN NULL ELSE line.gst_rate END);
        SELECT n.total INTO note_total FROM @extschema@.invoices n WHERE n.id = note;
        IF note_total <> r.amount THEN
            UPDATE @extschema@.invoices n SET round_off = n.round_off + (r.amount - note_total), total = r.amount WHERE n.id = note;
        END IF;
        PERFORM @extschema@.issue_invoice(note, NULL);
        -- The invoice was settled (api_begin_refund): the note applied nothing. Money paid goes back
        -- and the supply is reduced by as much, so paid + credited stays the total.
        UPDATE @extschema@.invoices i
           SET amount_paid = i.amount_paid - r.amount,
               amount_credited = i.amount_credited + r.amount,
               status = CASE WHEN i.amount_paid - r.amount = 0 AND i.amount_credited + r.amount >= i.total THEN 'refunded'
                             ELSE 'partially_refunded' END
         WHERE i.id = inv.id;
    END IF;
    PERFORM @extschema@.post_ledger_entry(p.account_id, 'refund', -r.amount, 'refund', r.id::text,
                                          'Refund of ' || p.payment_number,
                                          pg_catalog.jsonb_build_object('payment_id', p.id, 'credit_note_id', note,
                                                                        'gateway_refund_id', gateway_refund_id));
    UPDATE @extschema@.refunds x SET status = 'processed', processed_at = now(), credit_note_id = note,
           gateway_refund_id = gateway_refund_result.gateway_refund_id
     WHERE x.id = r.id;
    UPDATE @extschema@.payments x
       SET amount_refunded = x.amount_refunded + r.amount,
           status = CASE WHEN x.amount_refunded + r.amount >= x.amount THEN 'refunded' ELSE 'partially_refunded' END
     WHERE x.id = p.id;
    PERFORM @extschema@.emit_event('refund.processed', p.customer_id, 'refund', r.id::text,
                                   pg_catalog.jsonb_build_object('refund_id', r.id, 'payment_id', p.id,
                                                                 'payment_number', p.payment_number, 'amount', r.amount,
                                                                 'currency', r.currency, 'credit_note_id', note),
                                   'refund.processed:' || r.id);
    outcome := 'processed';
    credit_note_id := note;
END
$$;
COMMENT ON FUNCTION @extschema@.gateway_refund_result(uuid, text, boolean, text) IS
    'Sidecar: the gateway''s answer to a pending refund. Succeeded: in one transaction the refund is processed, the '
    'payment''s amount_refunded and status (partially_refunded, refunded) follow, a refund ledger entry debits the '
    'account, and for an invoiced payment a credit note of exactly the amount (GST at the invoice''s rate, any paisa '
    'of rounding as round-off) is issued and the invoice becomes partially_refunded or refunded; a refund.processed '
    'event. Failed: the refund is failed, nothing moves. A repeat answers already_processed / already_failed. 22023 '
    'bad arguments; P0002 unknown refund.';

CREATE FUNCTION @extschema@.run_payment_retries(as_of timestamptz DEFAULT now()) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    p record;
    n integer := 0;
    tries integer;
BEGIN
    FOR p IN
        SELECT x.* FROM @extschema@.payments x
         WHERE x.status = 'failed' AND x.next_retry_at IS NOT NULL AND x.next_retry_at <= as_of
         ORDER BY x.next_retry_at
           FOR UPDATE SKIP LOCKED
    LOOP
        SELECT count(*) INTO tries FROM @extschema@.payments y
         WHERE y.invoice_id = p.invoice_id AND y.status = 'failed' AND y.gateway IN ('razorpay', 'stripe');
        UPDATE @extschema@.payments x SET next_retry_at = NULL WHERE x.id = p.id;
        IF EXISTS (SELECT 1 FROM @extschema@.invoices i
                    WHERE i.id = p.invoice_id AND i.status IN ('issued', 'partially_paid', 'overdue')) THEN
            PERFORM @extschema@.emit_event('payment.retry_due', p.customer_id, 'payment', p.id::text,
                                           pg_catalog.jsonb_build_object('payment_id', p.id, 'invoice_id', p.invoice_id,
                                                                         'gateway', p.gateway, 'attempt', tries + 1,
                                                                         'amount', p.amount, 'currency', p.currency),
                                           'payment.retry_due:' || p.id);
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.run_payment_retries(timestamptz) IS
    'pg_cron (balatrix-payment-retries, every 15 minutes): for each failed invoice payment whose next_retry_at has come '
    '(2, 4, 8 hours after the 1st, 2nd, 3rd failure), a payment.retry_due event (the sidecar charges the customer''s '
    'default saved payment method, or mails a payment request) and next_retry_at cleared. Returns the events written.';

CREATE FUNCTION @extschema@.gateway_retry_payment(failed_payment uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    f @extschema@.payments;
    m record;
    inv record;
    p @extschema@.payments;
BEGIN
    SELECT x.* INTO f FROM @extschema@.payments x WHERE x.id = failed_payment;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'payment % does not exist', failed_payment USING ERRCODE = 'P0002';
    END IF;
    SELECT i.* INTO inv FROM @extschema@.invoices i WHERE i.id = f.invoice_id FOR UPDATE;
    IF NOT FOUND OR inv.status NOT IN ('issued', 'partially_paid', 'overdue') THEN
        RETURN NULL;
    END IF;
    SELECT pm.* INTO m FROM @extschema@.payment_methods pm
     WHERE pm.customer_id = f.customer_id AND pm.is_default AND pm.is_active AND pm.gateway = f.gateway;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    p := @extschema@.open_gateway_payment(f.account_id, f.purpose, f.gateway, inv.total - inv.amount_paid - inv.amount_credited,
                                          inv.id, inv.subscription_id, 'retry:' || f.id,
                                          pg_catalog.jsonb_build_object('retry_of', f.id, 'off_session', true));
    UPDATE @extschema@.payments x SET payment_method_id = m.id WHERE x.id = p.id AND x.payment_method_id IS NULL;
    RETURN @extschema@.payment_json(p) || pg_catalog.jsonb_build_object('gateway_customer_id', m.gateway_customer_id,
                                                                        'gateway_method_id', m.gateway_method_id);
END
$$;
COMMENT ON FUNCTION @extschema@.gateway_retry_payment(uuid) IS
    'Sidecar (payment.retry_due): the payment that retries a failed invoice payment off-session with the customer''s '
    'default active saved method of the same gateway (created once per failed payment: idempotency key retry:<id>), '
    'with the method''s gateway tokens; NULL when the invoice is settled or there is no such method (the customer is '
    'asked to pay instead). P0002 unknown payment.';

CREATE FUNCTION @extschema@.api_save_payment_method(customer uuid, gateway text, gateway_customer_id text,
                                                    gateway_method_id text, method_type text, brand text, last4 text,
                                                    expiry_month integer, expiry_year integer, make_default boolean)
    RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    new_id uuid;
BEGIN
    PERFORM @extschema@.api_require_write(customer, 'customer');
    IF gateway IS NULL OR gateway NOT IN ('razorpay', 'stripe') THEN
        RAISE EXCEPTION 'unknown gateway %', coalesce(quote_literal(gateway), 'NULL') USING ERRCODE = '22023';
    END IF;
    -- Gateway tokens only: pm_… / token_… and cus_… / cust_…, never a card number.
    IF gateway_method_id IS NULL OR gateway_method_id !~ (CASE gateway WHEN 'stripe' THEN '^pm_[A-Za-z0-9_]{1,100}$'
                                                                       ELSE '^token_[A-Za-z0-9]{1,100}$' END) THEN
        RAISE EXCEPTION 'gatewayMethodId must be a % payment method token (%)', gateway,
                        CASE gateway WHEN 'stripe' THEN 'pm_…' ELSE 'token_…' END USING ERRCODE = '22023',
            HINT = 'Card numbers are never accepted: tokenise with the gateway first.';
    END IF;
    IF gateway_customer_id IS NOT NULL AND gateway_customer_id !~ (CASE gateway WHEN 'stripe' THEN '^cus_[A-Za-z0-9]{1,100}$'
                                                                               ELSE '^cust_[A-Za-z0-9]{1,100}$' END) THEN
        RAISE EXCEPTION 'gatewayCustomerId must be a % customer id', gateway USING ERRCODE = '22023';
    END IF;
    IF method_type IS NULL OR method_type NOT IN ('card', 'upi', 'netbanking', 'wallet', 'mandate') THEN
        RAISE EXCEPTION 'type must be card, upi, netbanking, wallet or mandate' USING ERRCODE = '22023';
    END IF;
    IF last4 IS NOT NULL AND last4 !~ '^[0-9]{4}$' OR brand IS NOT NULL AND (brand !~ '^[A-Za-z ]{1,30}$')
       OR expiry_month IS NOT NULL AND expiry_month NOT BETWEEN 1 AND 12
       OR expiry_year IS NOT NULL AND expiry_year NOT BETWEEN 2000 AND 2100 THEN
        RAISE EXCEPTION 'last4 is 4 digits, brand up to 30 letters, expiry month 1-12 and year 2000-2100' USING ERRCODE = '22023';
    END IF;
    IF coalesce(make_default, false) THEN
        UPDATE @extschema@.payment_methods pm SET is_default = false WHERE pm.customer_id = customer AND pm.is_default;
    END IF;
    INSERT INTO @extschema@.payment_methods (customer_id, gateway, gateway_customer_id, gateway_method_id, method_type,
                                             brand, last4, expiry_month, expiry_year, is_default)
    VALUES (customer, gateway, gateway_customer_id, gateway_method_id, method_type, brand, last4, expiry_month,
            expiry_year, coalesce(make_default, false)
                         OR NOT EXISTS (SELECT 1 FROM @extschema@.payment_methods pm
                                         WHERE pm.customer_id = customer AND pm.is_default AND pm.is_active))
    RETURNING id INTO new_id;
    RETURN new_id;
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'this payment method is saved already' USING ERRCODE = '23505';
END
$$;
COMMENT ON FUNCTION @extschema@.api_save_payment_method(uuid, text, text, text, text, text, text, integer, integer, boolean) IS
    'API: saves a customer''s gateway payment method as tokens only (Stripe pm_… with cus_…, Razorpay token_… with '
    'cust_…) and display facts; the first one, or make_default, becomes the default. 22023 anything that is not a '
    'token (a card number above all); 23505 saved already; P0002 / 42501 from the actor check.';

CREATE FUNCTION @extschema@.api_update_payment_method(method uuid, make_default boolean, deactivate boolean) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    m record;
BEGIN
    SELECT pm.* INTO m FROM @extschema@.payment_methods pm WHERE pm.id = method FOR UPDATE;
    PERFORM @extschema@.api_require_write(m.customer_id, 'payment method');
    IF coalesce(deactivate, false) THEN
        UPDATE @extschema@.payment_methods pm SET is_active = false, is_default = false WHERE pm.id = m.id;
    ELSIF coalesce(make_default, false) THEN
        IF NOT m.is_active THEN
            RAISE EXCEPTION 'a removed payment method cannot become the default' USING ERRCODE = '55000';
        END IF;
        UPDATE @extschema@.payment_methods pm SET is_default = false WHERE pm.customer_id = m.customer_id AND pm.is_default;
        UPDATE @extschema@.payment_methods pm SET is_default = true WHERE pm.id = m.id;
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.api_update_payment_method(uuid, boolean, boolean) IS
    'API: makes a saved payment method the default, or removes it (deactivate: kept for the payments that used it, '
    'never charged again). 55000 making a removed one the default; P0002 / 42501 from the actor check.';

CREATE FUNCTION @extschema@.webhook_event_done(gateway text, event_id text, status text, error text DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF status IS NULL OR status NOT IN ('processed', 'ignored', 'failed') THEN
        RAISE EXCEPTION 'webhook_event_done: status is processed, ignored or failed' USING ERRCODE = '22023';
    END IF;
    UPDATE @extschema@.webhook_events w
       SET status = webhook_event_done.status, error = left(webhook_event_done.error, 2000), processed_at = now()
     WHERE w.gateway = webhook_event_done.gateway AND w.event_id = webhook_event_done.event_id;
END
$$;
COMMENT ON FUNCTION @extschema@.webhook_event_done(text, text, text, text) IS
    'Sidecar: records what applying a stored gateway webhook did: processed, ignored (nothing to do: an unknown order, '
    'an event type billing does not use, a repeat) or failed (error).';

ALTER FUNCTION @extschema@.api_checkout(uuid, text, text, text, text, jsonb) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_pay_invoice(uuid, text, text) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_top_up(uuid, numeric, text, text) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.gateway_attach_order(uuid, text, jsonb) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.gateway_payment_captured(text, text, text, numeric, text, jsonb) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.gateway_payment_failed(text, text, text, text, text, text) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.gateway_pending_work(integer, integer) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.gateway_payment_refused(uuid, text, text) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.gateway_payment_by_order(text, text) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_begin_refund(uuid, numeric, text, text) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.gateway_refund_result(uuid, text, boolean, text) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.run_payment_retries(timestamptz) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.gateway_retry_payment(uuid) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_save_payment_method(uuid, text, text, text, text, text, text, integer, integer, boolean) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_update_payment_method(uuid, boolean, boolean) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.webhook_event_done(text, text, text, text) OWNER TO balatrix_owner;

-- ============================================================================================
-- Notifications: customer webhook endpoints, delivery planning, delivery outcomes
-- ============================================================================================
-- Fragment for balatrix.sql (and the 0.1.0 -> 0.2.0 upgrade script), written by helper B. Part 1
-- (tables and functions) goes after the section "The outbox consumer" (it must come after the
-- "updated_at on every table" block, since it creates its own touch trigger); part 2 (privileges)
-- goes with the other "Privileges of section ..." blocks, after the general grants (it narrows
-- balatrix_readonly's GRANT SELECT ON ALL TABLES to the columns other than the secret). The table is
-- NOT in the $rls$ / $api_rls$ arrays: its policies are created here (read only; the API writes
-- through the api_* functions). The $finish$ block gives it to balatrix_owner and registers it with
-- pg_extension_config_dump when part 1 sits before it, as every other table.
--
-- The outbox consumer (the sidecar) handles one claimed event so:
--
--   outbox_deliveries(event, worker, channels, lease)  -> renews the lease, plans the event's deliveries
--        on the channels this sidecar can use (rows in notifications, once per (event, channel,
--        recipient)) and returns those not yet sent, with what the message needs
--   ... sends each (SMTP, SMS gateway, customer webhook) ...
--   notification_sent(id, worker, lease) / notification_failed(id, worker, error, lease)   right after each
--        send; each renews the lease, so a slow event keeps it as long as every single send fits in it
--   complete_event(event, worker), or fail_event(...) when a send failed: the retry of the event
--        re-plans, and outbox_deliveries then returns only what is still unsent
--   release_event(event, worker)   a consumer that stops with claimed events it has not started gives
--        them back (claimable at once; the claim's attempt is not counted)
--
-- So an event whose e-mail went out but whose webhook failed is retried for the webhook alone.
-- A consumer killed between a send and its notification_sent sends that one message again after the
-- lease expires (at-least-once): e-mails carry Message-ID <notification id@balatrix> and webhooks
-- Balatrix-Event-Id, both stable across retries, so a receiver can drop the repeat.
--
-- Which deliveries an event gets (a decision of this section):
--   e-mail   invoice.issued, credit_note.issued, debit_note.issued, payment.captured (receipt),
--            payment.failed, refund.processed, balance.low, balance.critical,
--            invoice.payment_reminder, invoice.overdue, payment.retry_due (only without a default saved
--            method of the payment's gateway: then the retry charges it): to the customer's e-mail (customers.email,
--            else the e-mail of the customer's login user);
--            user.email_verification_requested, user.password_reset_requested: to the e-mail in the
--            event (the address the token was issued for), else the user's
--   SMS      balance.low, balance.critical, invoice.overdue, payment.captured: to customers.phone
--   webhook  every event of a customer (customer_id set) except user.*: to each active endpoint of
--            that customer whose event_types holds the type or '*'. user.* events carry a raw
--            single-use token and are never sent to a webhook, whatever the endpoint asks for.
-- A delivery planned on an earlier attempt that the plan no longer contains (endpoint deleted or
-- deactivated, address changed) stays unsent and is not returned again.

CREATE TABLE @extschema@.webhook_endpoints (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id uuid NOT NULL REFERENCES @extschema@.customers (id) ON DELETE CASCADE,
    url         text NOT NULL CONSTRAINT webhook_endpoints_url CHECK (
                    octet_length(url) <= 2048
                    AND url ~ '^[Hh][Tt][Tt][Pp][Ss]?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?([/?#][!-~]*)?$'),
    -- Never readable by balatrix_api (column privileges below): shown once, by api_create_webhook_endpoint.
    secret      text NOT NULL CONSTRAINT webhook_endpoints_secret CHECK (secret ~ '^whsec_[0-9a-f]{64}$'),
    event_types text[] NOT NULL DEFAULT '{*}' CONSTRAINT webhook_endpoints_event_types CHECK (
                    cardinality(event_types) BETWEEN 1 AND 50 AND array_position(event_types, NULL) IS NULL),
    is_active   boolean NOT NULL DEFAULT true,
    description text CONSTRAINT webhook_endpoints_description CHECK (char_length(description) <= 500),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_customer_idx ON @extschema@.webhook_endpoints (customer_id) WHERE is_active;
COMMENT ON TABLE @extschema@.webhook_endpoints IS
    'Customer webhooks: URLs to which the sidecar POSTs the customer''s outbox events (JSON envelope '
    '{"id":"evt_<event id>","type","created","data"}), signed with the endpoint''s secret in the header '
    'Balatrix-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, t + "." + body)>. event_types lists the types '
    'wanted, or ''*'' for all; user.* events are never sent. The secret is readable by the owner only.';
COMMENT ON COLUMN @extschema@.webhook_endpoints.secret IS
    'whsec_ + 64 hex digits (256 bits), made by the database; returned once by api_create_webhook_endpoint.';
CREATE TRIGGER webhook_endpoints_touch_trg BEFORE UPDATE ON @extschema@.webhook_endpoints
    FOR EACH ROW EXECUTE FUNCTION @extschema@.tg_touch_updated_at();

ALTER TABLE @extschema@.webhook_endpoints OWNER TO balatrix_owner;
ALTER TABLE @extschema@.webhook_endpoints ENABLE ROW LEVEL SECURITY;
CREATE POLICY readonly_all ON @extschema@.webhook_endpoints FOR SELECT TO balatrix_readonly USING (true);
-- The read policy of every tenant table ($api_rls$): the actor's own rows, staff everything.
CREATE POLICY api_read ON @extschema@.webhook_endpoints FOR SELECT TO balatrix_api USING (
    (@extschema@.actor_role() = 'customer' AND customer_id = @extschema@.actor_customer_id())
    OR @extschema@.actor_role() IN ('super_admin', 'admin', 'support')
    OR (@extschema@.actor_role() = 'reseller' AND @extschema@.actor_can_read(customer_id)));

CREATE FUNCTION @extschema@.api_create_webhook_endpoint(customer uuid, url text, event_types text[] DEFAULT NULL,
                                                        description text DEFAULT NULL)
    RETURNS TABLE (id uuid, secret text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
#variable_conflict use_column
DECLARE
    kinds text[] := coalesce(event_types, ARRAY['*']);
    bad text;
    new_secret text;
    new_id uuid;
BEGIN
    PERFORM @extschema@.api_require_write(customer, 'customer');
    IF url IS NULL OR octet_length(url) > 2048
       OR url !~ '^[Hh][Tt][Tt][Pp][Ss]?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?([/?#][!-~]*)?$' THEN
        RAISE EXCEPTION 'url must be an http:// or https:// URL of at most 2048 characters' USING ERRCODE = '22023',
            HINT = 'Printable ASCII only (percent-encode the rest); no user:password@ part.';
    END IF;
    IF cardinality(kinds) NOT BETWEEN 1 AND 50 OR array_position(kinds, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'eventTypes must list 1 to 50 event types' USING ERRCODE = '22023';
    END IF;
    SELECT k INTO bad FROM unnest(kinds) AS k
     WHERE k <> '*' AND (k !~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)+$' OR k LIKE 'user.%')
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unknown or unavailable event type %', quote_literal(bad) USING ERRCODE = '22023',
            HINT = 'Event types look like invoice.issued; ''*'' means all. user.* events are never sent to webhooks.';
    END IF;
    IF description IS NOT NULL AND char_length(description) > 500 THEN
        RAISE EXCEPTION 'description is at most 500 characters' USING ERRCODE = '22023';
    END IF;
    IF (SELECT count(*) FROM @extschema@.webhook_endpoints w WHERE w.customer_id = customer AND w.is_active) >= 10 THEN
        RAISE EXCEPTION 'a customer has at most 10 webhook endpoints' USING ERRCODE = '22023',
            HINT = 'Delete one first.';
    END IF;
    -- 256 bits: the SHA-256 of three version-4 UUIDs (366 bits from the server's strong random source,
    -- pg_strong_random); pgcrypto's gen_random_bytes would need an extension balatrix does not require.
    new_secret := 'whsec_' || encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text
                                                       || gen_random_uuid()::text, 'UTF8')), 'hex');
    INSERT INTO @extschema@.webhook_endpoints (customer_id, url, secret, event_types, description)
    VALUES (customer, url, new_secret, ARRAY(SELECT DISTINCT k FROM unnest(kinds) AS k ORDER BY k), description)
    RETURNING webhook_endpoints.id INTO new_id;
    RETURN QUERY SELECT new_id, new_secret;
END
$$;
COMMENT ON FUNCTION @extschema@.api_create_webhook_endpoint(uuid, text, text[], text) IS
    'API: a webhook endpoint for a customer the actor may write: url (http or https, printable ASCII, at most 2048 '
    'bytes, no user:password@), event_types (default {*}; types such as invoice.issued, never user.*), description '
    '(at most 500 characters). Returns its id and its signing secret (whsec_ + 64 hex digits, made here), which is '
    'never readable again. 22023 bad arguments or already 10 active endpoints; P0002 / 42501 from the actor check.';

CREATE FUNCTION @extschema@.api_delete_webhook_endpoint(endpoint uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    owner_id uuid;
BEGIN
    SELECT w.customer_id INTO owner_id FROM @extschema@.webhook_endpoints w WHERE w.id = endpoint FOR UPDATE;
    PERFORM @extschema@.api_require_write(owner_id, 'webhook endpoint');
    DELETE FROM @extschema@.webhook_endpoints w WHERE w.id = endpoint;
END
$$;
COMMENT ON FUNCTION @extschema@.api_delete_webhook_endpoint(uuid) IS
    'API: deletes a webhook endpoint of a customer the actor may write; deliveries still pending for it are dropped. '
    'P0002 unknown (or invisible) endpoint; 42501 from the actor check.';

-- PG zone helper: a uuid member of an event payload, NULL when absent or not a uuid (a hand-made
-- event must not make planning fail).
CREATE FUNCTION @extschema@.outbox_payload_uuid(payload jsonb, key text) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT CASE WHEN payload->>key ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                THEN (payload->>key)::uuid END
$$;
COMMENT ON FUNCTION @extschema@.outbox_payload_uuid(jsonb, text) IS
    'Internal (outbox_deliveries): payload->>key as a uuid, NULL when absent or not a uuid.';

CREATE FUNCTION @extschema@.outbox_deliveries(event bigint, worker text, channels text[], lease_seconds integer DEFAULT 60)
    RETURNS TABLE (notification_id uuid, channel text, recipient text, template text, context jsonb, secret text,
                   envelope text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
#variable_conflict use_column
DECLARE
    e @extschema@.event_outbox;
    cust record;
    usr record;
    inv record;
    pay record;
    ref record;
    acc record;
    mail_to text;
    user_event boolean;
    ctx jsonb;
    env text;
    p jsonb;
    ist constant text := 'Asia/Kolkata';
BEGIN
    IF worker IS NULL OR btrim(worker) = '' THEN
        RAISE EXCEPTION 'outbox_deliveries: a worker name is required' USING ERRCODE = '22023';
    END IF;
    IF channels IS NULL OR array_position(channels, NULL) IS NOT NULL
       OR NOT channels <@ ARRAY['email', 'sms', 'webhook'] THEN
        RAISE EXCEPTION 'outbox_deliveries: channels are email, sms and webhook' USING ERRCODE = '22023',
              DETAIL = pg_catalog.format('channels = %s', coalesce(channels::text, 'NULL'));
    END IF;
    IF lease_seconds IS NULL OR lease_seconds < 1 OR lease_seconds > 86400 THEN
        RAISE EXCEPTION 'outbox_deliveries: lease_seconds must be between 1 and 86400' USING ERRCODE = '22023';
    END IF;
    -- Renewing the lease also proves it is still ours, under the row lock: a claim by another worker
    -- either came first (locked_by changed: nothing is returned) or waits and then sees the new lease.
    -- A consumer that is slow through a batch therefore keeps each event while it delivers it.
    UPDATE @extschema@.event_outbox x
       SET locked_until = greatest(x.locked_until, now() + make_interval(secs => lease_seconds))
     WHERE x.id = outbox_deliveries.event AND x.status = 'pending' AND x.locked_by = outbox_deliveries.worker
    RETURNING x.* INTO e;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    p := CASE WHEN jsonb_typeof(e.payload) = 'object' THEN e.payload ELSE '{}'::jsonb END;
    user_event := e.event_type LIKE 'user.%';

    SELECT c.name, c.company_name, c.customer_number, c.email, c.phone, u.email AS user_email, u.first_name
      INTO cust
      FROM @extschema@.customers c LEFT JOIN @extschema@.users u ON u.id = c.user_id
     WHERE c.id = e.customer_id;
    -- Always run (no row: every field NULL), so that usr is assigned for the plan below.
    SELECT u.id, u.email, u.first_name INTO usr
      FROM @extschema@.users u WHERE user_event AND u.id = @extschema@.outbox_payload_uuid(p, 'user_id');
    mail_to := CASE WHEN user_event THEN coalesce(p->>'email', usr.email) ELSE coalesce(cust.email, cust.user_email) END;
    SELECT i.invoice_number, i.document_type, i.total, i.amount_paid, i.amount_credited, i.currency, i.issue_date,
           i.due_date, o.invoice_number AS original_number
      INTO inv
      FROM @extschema@.invoices i LEFT JOIN @extschema@.invoices o ON o.id = i.original_invoice_id
     WHERE i.id = @extschema@.outbox_payload_uuid(p, 'invoice_id');
    SELECT x.payment_number, x.amount, x.currency, x.gateway, x.failure_reason, x.next_retry_at
      INTO pay FROM @extschema@.payments x WHERE x.id = @extschema@.outbox_payload_uuid(p, 'payment_id');
    SELECT r.amount, r.currency, n.invoice_number AS credit_note_number
      INTO ref
      FROM @extschema@.refunds r LEFT JOIN @extschema@.invoices n ON n.id = r.credit_note_id
     WHERE r.id = @extschema@.outbox_payload_uuid(p, 'refund_id');
    SELECT a.account_number, a.currency INTO acc
      FROM @extschema@.accounts a WHERE a.id = @extschema@.outbox_payload_uuid(p, 'account_id');

    -- What the texts need, every value a string: money as the exact decimal (numeric's text), dates as
    -- "15 Dec 2026", instants in IST. The payload's own scalars come first, so a template can use any of
    -- them; the looked-up values below replace them where both exist (the payload's amount at the time
    -- of the event is kept where it matters: outstanding, amount, balance, threshold).
    SELECT coalesce(jsonb_object_agg(k.key, k.value), '{}'::jsonb) INTO ctx
      FROM jsonb_each_text(p) AS k
     WHERE jsonb_typeof(p->k.key) IN ('string', 'number', 'boolean');
    ctx := ctx || jsonb_strip_nulls(jsonb_build_object(
        'event_id', e.id::text,
        'event_type', e.event_type,
        'occurred_at', to_char(e.created_at AT TIME ZONE ist, 'DD Mon YYYY, HH24:MI') || ' IST',
        'customer_name', cust.name,
        'company_name', cust.company_name,
        'customer_number', cust.customer_number,
        'first_name', coalesce(nullif(btrim(CASE WHEN user_event THEN coalesce(p->>'first_name', usr.first_name)
                                                 ELSE cust.first_name END), ''), cust.name),
        'email', CASE WHEN user_event THEN mail_to END,
        'invoice_number', inv.invoice_number,
        'document_type', inv.document_type,
        'original_invoice_number', inv.original_number,
        'total', inv.total::text,
        'amount_paid', inv.amount_paid::text,
        'outstanding', coalesce(p->>'outstanding', (inv.total - inv.amount_paid - inv.amount_credited)::text),
        'issue_date', to_char(inv.issue_date, 'DD Mon YYYY'),
        'due_date', to_char(coalesce(inv.due_date, CASE WHEN p->>'due_date' ~ '^\d{4}-\d{2}-\d{2}$'
                                                         THEN (p->>'due_date')::date END), 'DD Mon YYYY'),
        'payment_number', coalesce(pay.payment_number, p->>'payment_number'),
        'amount', coalesce(p->>'amount', ref.amount::text, pay.amount::text),
        'gateway', pay.gateway,
        'failure_reason', coalesce(p->>'reason', pay.failure_reason),
        'next_retry_at', to_char(coalesce(pay.next_retry_at, CASE WHEN p->>'next_retry_at' ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}'
                                                                   THEN (p->>'next_retry_at')::timestamptz END)
                                 AT TIME ZONE ist, 'DD Mon YYYY, HH24:MI') || ' IST',
        'credit_note_number', ref.credit_note_number,
        'account_number', coalesce(acc.account_number, p->>'account_number'),
        'currency', coalesce(p->>'currency', inv.currency::text, pay.currency::text, ref.currency::text,
                             acc.currency::text, 'INR'),
        'expires_at', CASE WHEN p->>'expires_at' ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}'
                           THEN to_char((p->>'expires_at')::timestamptz AT TIME ZONE ist, 'DD Mon YYYY, HH24:MI') || ' IST'
                      END));
    env := jsonb_build_object('id', 'evt_' || e.id, 'type', e.event_type,
                              'created', floor(extract(epoch FROM e.created_at))::bigint, 'data', p)::text;

    RETURN QUERY
    WITH plan (channel, recipient, address, endpoint, ord) AS (
        SELECT 'email', mail_to, mail_to, NULL::uuid, 1
         WHERE 'email' = ANY (channels) AND mail_to IS NOT NULL
           AND e.event_type IN ('invoice.issued', 'credit_note.issued', 'debit_note.issued', 'payment.captured',
                                'payment.failed', 'refund.processed', 'balance.low', 'balance.critical',
                                'invoice.payment_reminder', 'invoice.overdue', 'user.email_verification_requested',
                                'user.password_reset_requested', 'payment.retry_due')
           -- A due retry is charged to the default saved method when there is one: no request to pay then.
           AND (e.event_type <> 'payment.retry_due'
                OR NOT EXISTS (SELECT 1 FROM @extschema@.payment_methods pm
                                WHERE pm.customer_id = e.customer_id AND pm.is_default AND pm.is_active
                                  AND pm.gateway = pay.gateway))
        UNION ALL
        SELECT 'sms', cust.phone, cust.phone, NULL::uuid, 2
         WHERE 'sms' = ANY (channels) AND cust.phone IS NOT NULL
           AND e.event_type IN ('balance.low', 'balance.critical', 'invoice.overdue', 'payment.captured')
        UNION ALL
        SELECT 'webhook', w.id::text, w.url, w.id, 3
          FROM @extschema@.webhook_endpoints w
         WHERE 'webhook' = ANY (channels) AND NOT user_event AND w.customer_id = e.customer_id AND w.is_active
           AND ('*' = ANY (w.event_types) OR e.event_type = ANY (w.event_types))
    ), created AS (
        INSERT INTO @extschema@.notifications (customer_id, user_id, event_id, channel, template, recipient, payload)
        SELECT e.customer_id, usr.id, e.id, plan.channel, e.event_type, plan.recipient,
               CASE WHEN plan.endpoint IS NOT NULL
                    THEN jsonb_build_object('endpoint_id', plan.endpoint, 'url', plan.address) ELSE '{}'::jsonb END
          FROM plan
        ON CONFLICT (event_id, channel, recipient) WHERE event_id IS NOT NULL DO NOTHING
        RETURNING notifications.id, notifications.channel, notifications.recipient
    ), todo AS (
        SELECT c.id, c.channel, c.recipient FROM created c
        UNION ALL
        -- The statement's snapshot: rows planned by an earlier attempt, not the ones inserted above.
        SELECT n.id, n.channel, n.recipient FROM @extschema@.notifications n
         WHERE n.event_id = e.id AND n.status IN ('pending', 'failed')
    )
    SELECT t.id, plan.channel, plan.address, e.event_type,
           CASE WHEN plan.channel <> 'webhook' THEN ctx END,
           w.secret,
           CASE WHEN plan.channel = 'webhook' THEN env END
      FROM todo t
      JOIN plan ON plan.channel = t.channel AND plan.recipient = t.recipient
      LEFT JOIN @extschema@.webhook_endpoints w ON w.id = plan.endpoint
     ORDER BY plan.ord, plan.recipient;
END
$$;
COMMENT ON FUNCTION @extschema@.outbox_deliveries(bigint, text, text[], integer) IS
    'Outbox consumer: for event leased by worker (pending, locked_by = worker; else nothing is returned), renews the '
    'lease to at least now() + lease_seconds, plans the event''s deliveries on channels (email, sms, webhook: those '
    'the caller can send) into notifications, once per (event, channel, recipient), and returns the planned ones not '
    'yet sent: notification_id, channel, recipient (e-mail address, E.164 phone or webhook URL), template (the event '
    'type), context (e-mail and SMS: the strings the text needs; money as exact decimals) and, for webhooks, the '
    'endpoint''s secret and the JSON envelope to POST. user.* events are never planned for webhooks. 22023 for a '
    'blank worker, channels NULL or outside email/sms/webhook, lease_seconds outside 1..86400.';

-- PG zone helper: renews the lease of event while worker holds it (a heartbeat between two sends, so
-- an event with several slow deliveries keeps its lease as long as each single send fits in it).
CREATE FUNCTION @extschema@.outbox_renew_lease(event bigint, worker text, lease_seconds integer) RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
    AS $$
    UPDATE @extschema@.event_outbox e
       SET locked_until = greatest(e.locked_until, now() + make_interval(secs => lease_seconds))
     WHERE e.id = event AND e.status = 'pending' AND e.locked_by = worker AND lease_seconds BETWEEN 1 AND 86400
$$;
COMMENT ON FUNCTION @extschema@.outbox_renew_lease(bigint, text, integer) IS
    'Internal (notification_sent, notification_failed): extends the lease of event, held by worker, to at least '
    'now() + lease_seconds; nothing when the lease is not worker''s or lease_seconds is NULL or outside 1..86400.';

CREATE FUNCTION @extschema@.notification_sent(id uuid, worker text, lease_seconds integer DEFAULT NULL) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    evt bigint;
BEGIN
    IF notification_sent.id IS NULL OR worker IS NULL OR btrim(worker) = '' THEN
        RAISE EXCEPTION 'notification_sent: a notification id and a worker name are required' USING ERRCODE = '22023';
    END IF;
    UPDATE @extschema@.notifications x
       SET status = 'sent', sent_at = now(), attempts = x.attempts + 1
      FROM @extschema@.event_outbox e
     WHERE x.id = notification_sent.id AND x.status <> 'sent'
       AND e.id = x.event_id AND e.status = 'pending' AND e.locked_by = notification_sent.worker
    RETURNING x.event_id INTO evt;
    IF evt IS NULL THEN
        RETURN false;
    END IF;
    PERFORM @extschema@.outbox_renew_lease(evt, worker, lease_seconds);
    RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@.notification_sent(uuid, text, integer) IS
    'Outbox consumer: records that notification id was delivered (status sent, sent_at now(), one more attempt) '
    'while its event is pending and leased by worker, and with lease_seconds renews that lease to at least now() + '
    'lease_seconds; true when recorded, false when not (already sent, unknown, or the event is no longer this '
    'worker''s). 22023 for a NULL id or a blank worker.';

CREATE FUNCTION @extschema@.notification_failed(id uuid, worker text, error text, lease_seconds integer DEFAULT NULL)
    RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    evt bigint;
BEGIN
    IF notification_failed.id IS NULL OR worker IS NULL OR btrim(worker) = '' THEN
        RAISE EXCEPTION 'notification_failed: a notification id and a worker name are required' USING ERRCODE = '22023';
    END IF;
    UPDATE @extschema@.notifications x
       SET status = 'failed', attempts = x.attempts + 1, last_error = left(notification_failed.error, 2000)
      FROM @extschema@.event_outbox e
     WHERE x.id = notification_failed.id AND x.status IN ('pending', 'failed')
       AND e.id = x.event_id AND e.status = 'pending' AND e.locked_by = notification_failed.worker
    RETURNING x.event_id INTO evt;
    IF evt IS NULL THEN
        RETURN false;
    END IF;
    PERFORM @extschema@.outbox_renew_lease(evt, worker, lease_seconds);
    RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@.notification_failed(uuid, text, text, integer) IS
    'Outbox consumer: records a failed delivery of notification id (status failed, one more attempt, last_error: the '
    'first 2000 characters) while its event is pending and leased by worker (with lease_seconds, renewing that lease '
    'as notification_sent does); the event''s retry sends it again. true when recorded; false when not (sent already, '
    'unknown, or the event is no longer this worker''s). 22023 for a NULL id or a blank worker.';

CREATE FUNCTION @extschema@.release_event(id bigint, worker text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    n integer;
BEGIN
    IF release_event.id IS NULL OR worker IS NULL OR btrim(worker) = '' THEN
        RAISE EXCEPTION 'release_event: an event id and a worker name are required' USING ERRCODE = '22023';
    END IF;
    -- The claim counted an attempt that never happened: it is taken back, so a consumer stopping with
    -- events in hand does not bring them nearer the dead letter.
    UPDATE @extschema@.event_outbox e
       SET locked_by = NULL, locked_until = NULL, attempts = greatest(e.attempts - 1, 0)
     WHERE e.id = release_event.id AND e.status = 'pending' AND e.locked_by = release_event.worker;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END
$$;
COMMENT ON FUNCTION @extschema@.release_event(bigint, text) IS
    'Outbox consumer: gives back event id, claimed by worker but not worked on (the consumer is stopping): lease '
    'cleared, the claim''s attempt taken back, claimable again at once. true when released; false when the event is '
    'not pending and leased by worker. 22023 for a NULL id or a blank worker.';

ALTER FUNCTION @extschema@.api_create_webhook_endpoint(uuid, text, text[], text) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.api_delete_webhook_endpoint(uuid) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.outbox_deliveries(bigint, text, text[], integer) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.notification_sent(uuid, text, integer) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.notification_failed(uuid, text, text, integer) OWNER TO balatrix_owner;
ALTER FUNCTION @extschema@.release_event(bigint, text) OWNER TO balatrix_owner;

-- ============================================================================================
-- Ownership, dump configuration, row-level security and privileges
-- ============================================================================================
DO $finish$
DECLARE
    rel record;
BEGIN
    FOR rel IN
        SELECT c.oid::regclass AS name, c.relkind, c.relname
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind IN ('r', 'p', 'S', 'v')
         ORDER BY c.relname
    LOOP
        EXECUTE pg_catalog.format('ALTER %s %s OWNER TO balatrix_owner',
                                  CASE rel.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END, rel.name);
        -- pg_dump skips the contents of extension tables unless they are registered here. Reference
        -- data the script itself inserts (gst_states) is not: restoring it would duplicate rows.
        -- cdr_uuids neither: the rating trigger rebuilds it from the restored CDRs (their COPY
        -- comes first and would collide with a dumped copy).
        -- api_signing_keys neither: a dump must not carry the key that signs access tokens (after a
        -- restore, balatrix.set_api_signing_key again).
        IF rel.relkind IN ('r', 'S') AND rel.relname NOT IN ('gst_states', 'cdr_uuids', 'api_signing_keys', 'api_signing_keys_id_seq', 'rate_limit_hits') THEN
            PERFORM pg_catalog.pg_extension_config_dump(rel.name, '');
        END IF;
    END LOOP;
END
$finish$;

-- Tenant tables: rows are visible to the API role only through policies (added with the API);
-- reporting sees everything; FreeSWITCH may only add CDRs.
DO $rls$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['customers', 'accounts', 'sip_extensions', 'subscriptions', 'subscription_add_ons',
                             'subscription_usage', 'dids', 'did_assignments', 'cdr', 'ledger', 'invoices',
                             'invoice_lines', 'payment_methods', 'payments', 'refunds', 'event_outbox',
                             'notifications', 'audit_log']
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE @extschema@.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format('CREATE POLICY readonly_all ON @extschema@.%I FOR SELECT TO balatrix_readonly USING (true)', t);
    END LOOP;
END
$rls$;
CREATE POLICY ingest_insert ON @extschema@.cdr FOR INSERT TO balatrix_ingest WITH CHECK (true);

-- Functions: nothing is executable by PUBLIC unless granted here.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    @extschema@.gst_state_list(),
    @extschema@.gstin_is_valid(text), @extschema@.gstin_is_valid(text, boolean),
    @extschema@.gstin_state_code(text), @extschema@.gstin_state_code(text, boolean),
    @extschema@.gstin_explain(text, boolean),
    -- Billing arithmetic: pure functions of their arguments (and the settings), no data.
    @extschema@.gst_line_tax(numeric, numeric, text, text, boolean, text), @extschema@.gst_rate_for_sac(text),
    @extschema@.add_months_clamped(date, integer, integer), @extschema@.billing_period(date, text, integer),
    @extschema@.financial_year(date), @extschema@.recurring_price(numeric, text),
    @extschema@.prorate(numeric, integer, integer), @extschema@.prorate_plan_change(numeric, numeric, integer, integer),
    @extschema@.format_invoice_number(text, text, bigint), @extschema@.billing_settings(),
    @extschema@.gstr1_b2cl_threshold(date),
    @extschema@.hmac_sha256(bytea, bytea), @extschema@.base64url_decode(text)
    TO PUBLIC;
-- E-invoice JSON: reporting (a GSP integration reads it with the reporting role).
GRANT EXECUTE ON FUNCTION @extschema@.einvoice_json(uuid, jsonb) TO balatrix_readonly;
-- Quotes read the catalogue and the customer: the API (the sidecar's checkout and price preview).
GRANT EXECUTE ON FUNCTION @extschema@.quote_subscription(text, text, jsonb, uuid) TO balatrix_api;

-- Reporting: every table, except authentication secrets.
GRANT SELECT ON ALL TABLES IN SCHEMA @extschema@ TO balatrix_readonly;
REVOKE SELECT ON @extschema@.users, @extschema@.refresh_tokens, @extschema@.user_tokens, @extschema@.api_signing_keys
    FROM balatrix_readonly;
GRANT SELECT (id, email, first_name, last_name, phone, role, is_active, email_verified_at, mfa_enabled,
              last_login_at, created_at, updated_at)
    ON @extschema@.users TO balatrix_readonly;

-- FreeSWITCH: INSERT into the landing table, nothing else.
GRANT INSERT ON @extschema@.cdr TO balatrix_ingest;
GRANT USAGE ON SEQUENCE @extschema@.cdr_id_seq TO balatrix_ingest;

-- The API: the public catalogue and reference data; tenant tables come with their RLS policies.
GRANT SELECT ON @extschema@.rate_plans, @extschema@.add_ons, @extschema@.gst_states TO balatrix_api;

-- The API: its identity functions and the policies' tests; tenant tables readable through their
-- row-level security policies (api_read: the actor's rows only).
GRANT EXECUTE ON FUNCTION
    @extschema@.set_identity(text), @extschema@.clear_identity(),
    @extschema@.actor_user_id(), @extschema@.actor_role(), @extschema@.actor_customer_id(),
    @extschema@.actor_can_read(uuid), @extschema@.actor_can_write(uuid)
    TO balatrix_api;
GRANT SELECT ON
    @extschema@.customers, @extschema@.accounts, @extschema@.sip_extensions, @extschema@.subscriptions,
    @extschema@.subscription_add_ons, @extschema@.subscription_usage, @extschema@.dids, @extschema@.did_assignments,
    @extschema@.cdr, @extschema@.ledger, @extschema@.invoices, @extschema@.invoice_lines, @extschema@.payment_methods,
    @extschema@.payments, @extschema@.refunds, @extschema@.event_outbox, @extschema@.notifications, @extschema@.audit_log
    TO balatrix_api;

-- The API's authentication, audit and rate-limit functions: owned by balatrix_owner (SECURITY
-- DEFINER), executable by the API role only. rate_limit_hits is the owner's alone.
ALTER TABLE @extschema@.rate_limit_hits OWNER TO balatrix_owner;
GRANT SELECT ON @extschema@.rate_limit_hits TO balatrix_readonly;
REVOKE ALL ON @extschema@.rate_limit_hits FROM balatrix_readonly;
DO $api_auth$
DECLARE
    f regprocedure;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        '@extschema@.rate_limit_hit(text, bigint, bigint)', '@extschema@.write_audit(text, text, text, uuid, jsonb, jsonb)',
        '@extschema@.audit_auth(text, uuid, jsonb)', '@extschema@.auth_actor()',
        '@extschema@.auth_register(text, text, text, text, text, text)', '@extschema@.auth_login_lookup(text)',
        '@extschema@.auth_login_failed(uuid, text, text, integer, integer)',
        '@extschema@.auth_login_succeeded(uuid, bytea, integer, bigint, text)',
        '@extschema@.auth_refresh(bytea, bytea, integer)', '@extschema@.auth_logout(uuid)', '@extschema@.auth_logout_all()',
        '@extschema@.auth_sessions()', '@extschema@.auth_me()', '@extschema@.auth_password_hash()',
        '@extschema@.auth_change_password(text)', '@extschema@.auth_request_token(text, text, bytea, text, integer)',
        '@extschema@.auth_reset_password(bytea, text)', '@extschema@.auth_verify_email(bytea)',
        '@extschema@.auth_mfa_state()', '@extschema@.auth_mfa_setup(text, text[])', '@extschema@.auth_mfa_enable(bigint)',
        '@extschema@.auth_mfa_disable()', '@extschema@.auth_use_backup_code(uuid, text)',
        '@extschema@.api_create_user(text, text, text, text, text, text)']::regprocedure[]
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s OWNER TO balatrix_owner', f);
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        -- The internal helpers stay the owner's.
        IF f NOT IN ('@extschema@.audit_auth(text, uuid, jsonb)'::regprocedure, '@extschema@.auth_actor()'::regprocedure) THEN
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO balatrix_api', f);
        END IF;
    END LOOP;
END
$api_auth$;

-- Privileges of section "The API: customers, accounts and reports" (after the general ones, as in the upgrade script).
REVOKE ALL ON FUNCTION @extschema@.api_customer_fields(boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.api_check_customer_fields(jsonb, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.api_create_customer(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.api_update_customer(uuid, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.api_delete_customer(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.api_set_customer_status(uuid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.api_create_account(uuid, text, numeric, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.api_create_customer(jsonb) TO balatrix_api;
GRANT EXECUTE ON FUNCTION @extschema@.api_update_customer(uuid, jsonb) TO balatrix_api;
GRANT EXECUTE ON FUNCTION @extschema@.api_delete_customer(uuid) TO balatrix_api;
GRANT EXECUTE ON FUNCTION @extschema@.api_set_customer_status(uuid, text) TO balatrix_api;
GRANT EXECUTE ON FUNCTION @extschema@.api_create_account(uuid, text, numeric, text) TO balatrix_api;
GRANT SELECT ON @extschema@.gst_summary_monthly, @extschema@.gstr1_b2b, @extschema@.gstr1_b2cl, @extschema@.gstr1_b2cs,
    @extschema@.gstr1_cdnr, @extschema@.gstr1_hsn TO balatrix_api;
REVOKE ALL ON FUNCTION
    @extschema@.assign_did(uuid, uuid, timestamptz), @extschema@.release_did(uuid, timestamptz),
    @extschema@.api_actor_is_staff(), @extschema@.api_require_write(uuid, text), @extschema@.api_require_staff(),
    @extschema@.api_require_admin(), @extschema@.api_rate_plan_fields_check(jsonb, text[]),
    @extschema@.api_create_rate_plan(jsonb), @extschema@.api_update_rate_plan(uuid, jsonb),
    @extschema@.api_delete_rate_plan(uuid), @extschema@.api_create_subscription(uuid, text, text, integer, jsonb),
    @extschema@.api_change_subscription_plan(uuid, text, text), @extschema@.api_cancel_subscription(uuid, boolean, text),
    @extschema@.api_suspend_subscription(uuid, text), @extschema@.api_activate_subscription(uuid),
    @extschema@.api_renew_subscription(uuid), @extschema@.api_available_dids(text, text, integer, integer),
    @extschema@.api_assign_did(uuid, uuid), @extschema@.api_release_did(uuid), @extschema@.api_my_dashboard()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    @extschema@.create_subscription(uuid, text, text, date, boolean, jsonb),
    @extschema@.change_subscription_plan(uuid, text, date, text),
    @extschema@.cancel_subscription(uuid, boolean, text, date, boolean),
    @extschema@.suspend_subscription(uuid, text, date),
    @extschema@.resume_subscription(uuid, date),
    @extschema@.activate_subscription(uuid, date),
    @extschema@.renew_subscription(uuid, date),
    @extschema@.renew_due_subscription(uuid, date),
    @extschema@.start_paid_period(uuid, date, text),
    @extschema@.lock_subscription(uuid),
    @extschema@.bill_subscription(uuid, timestamptz, timestamptz, boolean, timestamptz, timestamptz, timestamptz, text, date),
    @extschema@.credit_subscription_period(uuid, numeric, timestamptz, date, text, text, text),
    @extschema@.create_invoice_draft(uuid, text, uuid, timestamptz, timestamptz, uuid, text),
    @extschema@.insert_invoice_line(uuid, text, text, numeric, numeric, text, timestamptz, timestamptz, text, text, numeric),
    @extschema@.add_invoice_line(uuid, text, text, numeric, numeric, text, timestamptz, timestamptz, text, text, numeric),
    @extschema@.refresh_invoice_totals(uuid, jsonb),
    @extschema@.issue_invoice(uuid, date),
    @extschema@.post_ledger_entry(uuid, text, numeric, text, text, text, jsonb, bigint),
    @extschema@.emit_event(text, uuid, text, text, jsonb, text),
    @extschema@.quote_subscription(text, text, jsonb, uuid),
    @extschema@.assign_did(uuid, uuid, timestamptz), @extschema@.release_did(uuid, timestamptz),
    @extschema@.api_actor_is_staff(), @extschema@.api_require_write(uuid, text), @extschema@.api_require_staff(),
    @extschema@.api_require_admin(), @extschema@.api_rate_plan_fields_check(jsonb, text[])
    TO balatrix_owner;
GRANT EXECUTE ON FUNCTION
    @extschema@.api_create_rate_plan(jsonb), @extschema@.api_update_rate_plan(uuid, jsonb),
    @extschema@.api_delete_rate_plan(uuid), @extschema@.api_create_subscription(uuid, text, text, integer, jsonb),
    @extschema@.api_change_subscription_plan(uuid, text, text), @extschema@.api_cancel_subscription(uuid, boolean, text),
    @extschema@.api_suspend_subscription(uuid, text), @extschema@.api_activate_subscription(uuid),
    @extschema@.api_renew_subscription(uuid), @extschema@.api_available_dids(text, text, integer, integer),
    @extschema@.api_assign_did(uuid, uuid), @extschema@.api_release_did(uuid), @extschema@.api_my_dashboard()
    TO balatrix_api;

-- Privileges of section "The API: CDRs and invoices" (after the general ones, as in the upgrade script).
REVOKE ALL ON FUNCTION
    @extschema@.api_ingest_cdrs(jsonb),
    @extschema@.api_generate_subscription_invoice(uuid),
    @extschema@.api_lock_invoice(uuid, text[]),
    @extschema@.api_issue_invoice(uuid),
    @extschema@.api_void_invoice(uuid, text),
    @extschema@.api_mark_invoice_paid(uuid, numeric, text, date),
    @extschema@.api_create_credit_note(uuid, numeric, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    @extschema@.api_ingest_cdrs(jsonb),
    @extschema@.api_generate_subscription_invoice(uuid),
    @extschema@.api_issue_invoice(uuid),
    @extschema@.api_void_invoice(uuid, text),
    @extschema@.api_mark_invoice_paid(uuid, numeric, text, date),
    @extschema@.api_create_credit_note(uuid, numeric, text)
    TO balatrix_api;

-- Privileges of section "The API: metrics" (after the general ones, as in the upgrade script).
REVOKE ALL ON FUNCTION @extschema@.api_metrics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.api_metrics() TO balatrix_api, balatrix_readonly;

-- Privileges of section "The outbox consumer: claims, completion, retries with backoff, dead letter" (after the general ones, as in the upgrade script).
REVOKE ALL ON FUNCTION
    @extschema@.claim_events(text, integer, integer), @extschema@.complete_event(bigint, text),
    @extschema@.fail_event(bigint, text, text, integer), @extschema@.outbox_stats()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    @extschema@.claim_events(text, integer, integer), @extschema@.complete_event(bigint, text),
    @extschema@.fail_event(bigint, text, text, integer), @extschema@.outbox_stats()
    TO balatrix_api;

-- Privileges of section "Gateway webhooks: received once" (after the general ones, as in the upgrade script).
REVOKE ALL ON FUNCTION @extschema@.record_webhook_event(text, text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.record_webhook_event(text, text, text, jsonb) TO balatrix_api;

-- Privileges of section "Payments through the gateways: checkout, invoice payment, wallet top-up, outcomes, refunds, retries" (after the general ones, as in the upgrade script).
REVOKE ALL ON FUNCTION
    @extschema@.payment_json(@extschema@.payments),
    @extschema@.apply_captured_payment(uuid),
    @extschema@.open_gateway_payment(uuid, text, text, numeric, uuid, uuid, text, jsonb),
    @extschema@.schedule_payment_retry(uuid),
    @extschema@.api_checkout(uuid, text, text, text, text, jsonb),
    @extschema@.api_pay_invoice(uuid, text, text),
    @extschema@.api_top_up(uuid, numeric, text, text),
    @extschema@.gateway_attach_order(uuid, text, jsonb),
    @extschema@.gateway_payment_captured(text, text, text, numeric, text, jsonb),
    @extschema@.gateway_payment_failed(text, text, text, text, text, text),
    @extschema@.gateway_pending_work(integer, integer),
    @extschema@.gateway_payment_refused(uuid, text, text),
    @extschema@.gateway_payment_by_order(text, text),
    @extschema@.api_begin_refund(uuid, numeric, text, text),
    @extschema@.gateway_refund_result(uuid, text, boolean, text),
    @extschema@.run_payment_retries(timestamptz),
    @extschema@.gateway_retry_payment(uuid),
    @extschema@.api_save_payment_method(uuid, text, text, text, text, text, text, integer, integer, boolean),
    @extschema@.api_update_payment_method(uuid, boolean, boolean),
    @extschema@.webhook_event_done(text, text, text, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    @extschema@.payment_json(@extschema@.payments),
    @extschema@.api_checkout(uuid, text, text, text, text, jsonb),
    @extschema@.api_pay_invoice(uuid, text, text),
    @extschema@.api_top_up(uuid, numeric, text, text),
    @extschema@.gateway_attach_order(uuid, text, jsonb),
    @extschema@.gateway_payment_captured(text, text, text, numeric, text, jsonb),
    @extschema@.gateway_payment_failed(text, text, text, text, text, text),
    @extschema@.gateway_pending_work(integer, integer),
    @extschema@.gateway_payment_refused(uuid, text, text),
    @extschema@.gateway_payment_by_order(text, text),
    @extschema@.api_begin_refund(uuid, numeric, text, text),
    @extschema@.gateway_refund_result(uuid, text, boolean, text),
    @extschema@.gateway_retry_payment(uuid),
    @extschema@.api_save_payment_method(uuid, text, text, text, text, text, text, integer, integer, boolean),
    @extschema@.api_update_payment_method(uuid, boolean, boolean),
    @extschema@.webhook_event_done(text, text, text, text)
    TO balatrix_api;

-- Privileges of section "Notifications: customer webhook endpoints, delivery planning, delivery outcomes"
-- (after the general ones, as in the upgrade script).
REVOKE ALL ON FUNCTION
    @extschema@.api_create_webhook_endpoint(uuid, text, text[], text), @extschema@.api_delete_webhook_endpoint(uuid),
    @extschema@.outbox_payload_uuid(jsonb, text), @extschema@.outbox_renew_lease(bigint, text, integer),
    @extschema@.outbox_deliveries(bigint, text, text[], integer),
    @extschema@.notification_sent(uuid, text, integer), @extschema@.notification_failed(uuid, text, text, integer),
    @extschema@.release_event(bigint, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    @extschema@.api_create_webhook_endpoint(uuid, text, text[], text), @extschema@.api_delete_webhook_endpoint(uuid),
    @extschema@.outbox_deliveries(bigint, text, text[], integer),
    @extschema@.notification_sent(uuid, text, integer), @extschema@.notification_failed(uuid, text, text, integer),
    @extschema@.release_event(bigint, text)
    TO balatrix_api;
GRANT EXECUTE ON FUNCTION @extschema@.outbox_payload_uuid(jsonb, text), @extschema@.outbox_renew_lease(bigint, text, integer)
    TO balatrix_owner;
-- Every column but the secret: the API (through api_read) and reporting.
REVOKE ALL ON @extschema@.webhook_endpoints FROM balatrix_api, balatrix_readonly;
GRANT SELECT (id, customer_id, url, event_types, is_active, description, created_at, updated_at)
    ON @extschema@.webhook_endpoints TO balatrix_api, balatrix_readonly;

-- Keep last: the SECURITY DEFINER functions (owned by balatrix_owner) call the internal ones.
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA @extschema@ TO balatrix_owner;
-- ... but not the rate-deck loaders and the rating functions: operators' tools, which no API function calls.
DO $owner_exec$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = '@extschema@'::regnamespace
                AND p.proname IN ('parse_csv', 'create_rate_deck', 'new_rate_deck_version', 'load_rates',
                                  'load_rates_from_table', 'load_rate_rows', 'publish_rate_deck', 'attach_rate_deck',
                                  'detach_rate_deck', 'tg_rates_immutable', 'tg_rate_decks_guard', 'rate_cdr', 'rerate')
              ORDER BY 1::text
    LOOP
        EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM balatrix_owner', f);
    END LOOP;
END
$owner_exec$;

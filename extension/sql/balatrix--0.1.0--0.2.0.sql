/*
 * balatrix 0.1.0 -> 0.2.0: CDR rating (in progress): rate deck management, rate_call and the rate cache;
 * billing arithmetic (GST per line, calendar, prices, proration, invoice numbers) and quotes.
 *
 * Every change made to balatrix.sql for 0.2.0 is repeated here; `make test` proves an install
 * upgraded from 0.1.0 equals a fresh 0.2.0 install (scripts/upgrade-check.sh).
 */
\echo Use "ALTER EXTENSION balatrix UPDATE TO '0.2.0'" to load this file. \quit

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

-- Default catalogue: the domestic decks.
CREATE OR REPLACE FUNCTION @extschema@.install_default_catalogue() RETURNS integer
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
-- CDR rating: the never-failing rating trigger (C++: extension/pg/cdr_rating.cpp), CDR dedupe,
-- and the ledger check
-- ============================================================================================
CREATE TABLE @extschema@.cdr_uuids (
    uuid        text PRIMARY KEY,
    received_at timestamptz NOT NULL
);
ALTER TABLE @extschema@.cdr_uuids OWNER TO balatrix_owner;
-- Not registered with pg_extension_config_dump: the rating trigger rebuilds it from restored CDRs.
GRANT SELECT ON @extschema@.cdr_uuids TO balatrix_readonly;
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
CREATE FUNCTION @extschema@.tg_cdr_lookup_invalidate() RETURNS trigger
    AS 'MODULE_PATHNAME', 'balatrix_tg_cdr_lookup_invalidate'
    LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.tg_cdr_lookup_invalidate() IS
    'AFTER statement trigger of accounts, sip_extensions, dids, subscriptions and rate_plans: queues a relcache '
    'invalidation of balatrix.accounts, which makes every backend drop the CDR rating trigger''s cached account and '
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
    bal numeric;
    cust uuid;
    cur text;
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
        UPDATE @extschema@.accounts a SET balance = a.balance + a_delta[k] WHERE a.id = a_ids[k]
        RETURNING a.customer_id, a.currency, a.balance INTO cust, cur, bal;
        INSERT INTO @extschema@.ledger (customer_id, account_id, entry_type, amount, currency, balance_after,
                                        reference_type, reference_id, description, metadata)
        VALUES (cust, a_ids[k], 'adjustment', a_delta[k], cur, bal, 'cdr_batch', a_first[k]::text,
                'Re-rating of ' || a_count[k] || CASE a_count[k] WHEN 1 THEN ' CDR' ELSE ' CDRs' END,
                jsonb_build_object('rerate', true, 'from', "from", 'to', "to", 'cdr_count', a_count[k]))
        RETURNING id INTO lid;
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

-- CDR partition indexes: uuid and call_uuid become hash indexes (a B-tree raised on a value over
-- ~2,700 bytes, and the CDR insert path must never raise); the (subscription_id, started_at) index
-- goes (billing reads a subscription's calls through account_id, started_at). Existing partitions
-- are re-indexed the same way.
CREATE OR REPLACE FUNCTION @extschema@.create_cdr_partition_indexes(partition regclass) RETURNS void
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

DO $reindex$
DECLARE
    part record;
BEGIN
    FOR part IN
        SELECT c.oid::regclass AS rel, c.relname, n.nspname
          FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE i.inhparent = '@extschema@.cdr'::regclass
    LOOP
        EXECUTE pg_catalog.format('DROP INDEX IF EXISTS %I.%I, %I.%I, %I.%I',
            part.nspname, part.relname || '_uuid_idx', part.nspname, part.relname || '_subscription_started_idx',
            part.nspname, part.relname || '_call_uuid_idx');
        EXECUTE pg_catalog.format('CREATE INDEX %I ON %s USING hash (uuid)', part.relname || '_uuid_idx', part.rel);
        EXECUTE pg_catalog.format('CREATE INDEX %I ON %s USING hash (call_uuid) WHERE call_uuid IS NOT NULL',
                                  part.relname || '_call_uuid_idx', part.rel);
    END LOOP;
END
$reindex$;

-- Partitions made by 0.1.0's create_cdr_partitions need the statement trigger (the row trigger is
-- cloned to them by CREATE TRIGGER on the parent).
DO $parts$
DECLARE
    part regclass;
BEGIN
    FOR part IN
        SELECT i.inhrelid::regclass FROM pg_catalog.pg_inherits i
         WHERE i.inhparent = '@extschema@.cdr'::regclass AND i.inhrelid <> '@extschema@.cdr_default'::regclass
    LOOP
        EXECUTE pg_catalog.format('CREATE TRIGGER cdr_post_trg AFTER INSERT ON %s FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.tg_cdr_post()', part);
    END LOOP;
END
$parts$;

CREATE OR REPLACE FUNCTION @extschema@.create_cdr_partitions(months_ahead integer DEFAULT 3, from_month date DEFAULT NULL)
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

CREATE OR REPLACE FUNCTION @extschema@.drop_cdr_partitions(older_than date)
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

-- ============================================================================================
-- GST arithmetic (C++: extension/pg/gst.cpp): added to the section "GST reference data and GSTIN
-- functions" of balatrix.sql
-- ============================================================================================
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
    OUT invoice_series text, OUT invoice_due_days integer)
    RETURNS record
    AS 'MODULE_PATHNAME', 'balatrix_billing_settings'
    LANGUAGE C STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.billing_settings() IS
    'The validated values of balatrix.supplier_state_code, balatrix.supplier_gstin (NULL when empty), '
    'balatrix.invoice_round_off, balatrix.invoice_series and balatrix.invoice_due_days. Read through the module, so a '
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

-- balatrix.sql revokes EXECUTE on every function from PUBLIC at the end; the same for the new ones.
REVOKE ALL ON FUNCTION
    @extschema@.parse_csv(text),
    @extschema@.tg_rates_immutable(),
    @extschema@.tg_rate_decks_guard(),
    @extschema@.create_rate_deck(text, text, text),
    @extschema@.new_rate_deck_version(text),
    @extschema@.load_rate_rows(uuid, text[], refcursor, boolean),
    @extschema@.load_rates(uuid, text, boolean),
    @extschema@.load_rates_from_table(uuid, regclass, boolean),
    @extschema@.publish_rate_deck(uuid),
    @extschema@.attach_rate_deck(text, uuid, integer),
    @extschema@.detach_rate_deck(text, uuid),
    @extschema@.tg_rating_invalidate(),
    @extschema@.rate_call(text, text, bigint, timestamptz),
    @extschema@.match_rate(uuid, text, timestamptz),
    @extschema@.tg_cdr_rate(),
    @extschema@.tg_cdr_post(),
    @extschema@.tg_cdr_lookup_invalidate(),
    @extschema@.check_ledger(),
    @extschema@.rate_cdr(@extschema@.cdr, bigint),
    @extschema@.rerate(timestamptz, timestamptz, text),
    @extschema@.create_cdr_partitions(integer, date),
    @extschema@.drop_cdr_partitions(date),
    @extschema@.gst_line_tax(numeric, numeric, text, text, boolean, text),
    @extschema@.gst_rate_for_sac(text),
    @extschema@.add_months_clamped(date, integer, integer),
    @extschema@.billing_period(date, text, integer),
    @extschema@.financial_year(date),
    @extschema@.recurring_price(numeric, text),
    @extschema@.prorate(numeric, integer, integer),
    @extschema@.prorate_plan_change(numeric, numeric, integer, integer),
    @extschema@.format_invoice_number(text, text, bigint),
    @extschema@.billing_settings(),
    @extschema@.quote_subscription(text, text, jsonb, uuid)
    FROM PUBLIC;
-- As at the end of balatrix.sql.
GRANT EXECUTE ON FUNCTION
    -- Billing arithmetic: pure functions of their arguments (and the settings), no data.
    @extschema@.gst_line_tax(numeric, numeric, text, text, boolean, text), @extschema@.gst_rate_for_sac(text),
    @extschema@.add_months_clamped(date, integer, integer), @extschema@.billing_period(date, text, integer),
    @extschema@.financial_year(date), @extschema@.recurring_price(numeric, text),
    @extschema@.prorate(numeric, integer, integer), @extschema@.prorate_plan_change(numeric, numeric, integer, integer),
    @extschema@.format_invoice_number(text, text, bigint), @extschema@.billing_settings()
    TO PUBLIC;
-- Quotes read the catalogue and the customer: the API (the sidecar's checkout and price preview).
GRANT EXECUTE ON FUNCTION @extschema@.quote_subscription(text, text, jsonb, uuid) TO balatrix_api;

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
                                                 period_end timestamptz DEFAULT NULL, original_invoice uuid DEFAULT NULL)
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
                                     customer_name, customer_address, customer_gstin, place_of_supply_state_code, tax_exempt)
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
            coalesce(orig_exempt, cust.tax_exempt))
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_invoice_draft(uuid, text, uuid, timestamptz, timestamptz, uuid) IS
    'Creates a draft document (tax_invoice, credit_note or debit_note; a note references the issued tax invoice it '
    'corrects) for an account, freezing the supplier (settings balatrix.supplier_gstin / supplier_state_code), the '
    'recipient (name, address, GSTIN, tax exemption) and the place of supply (the billing State on record; a note keeps '
    'its invoice''s). Returns its id. P0002 unknown account / invoice; 22023 for anything else wrong.';

-- PG zone helper: the totals of a draft from its lines (sums of the lines' own amounts), with the
-- optional round-off of the grand total to the rupee.
CREATE FUNCTION @extschema@.refresh_invoice_totals(invoice uuid) RETURNS void
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
           total = sums.taxable + sums.cgst + sums.sgst + sums.utgst + sums.igst + rounding
     WHERE i.id = invoice;
END
$$;
COMMENT ON FUNCTION @extschema@.refresh_invoice_totals(uuid) IS
    'Internal: sets a draft''s totals to the sums of its lines (and the round-off to the rupee when '
    'balatrix.invoice_round_off is on). Called by add_invoice_line.';

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
    INSERT INTO @extschema@.event_outbox (event_type, customer_id, aggregate_type, aggregate_id, payload, dedupe_key)
    VALUES (CASE inv.document_type WHEN 'tax_invoice' THEN 'invoice.issued' WHEN 'credit_note' THEN 'credit_note.issued'
                 ELSE 'debit_note.issued' END,
            inv.customer_id, 'invoice', invoice::text,
            jsonb_build_object('invoice_id', invoice, 'invoice_number', number, 'total', inv.total, 'currency', inv.currency,
                               'issue_date', day),
            'invoice.issued:' || invoice);
    RETURN number;
END
$$;
COMMENT ON FUNCTION @extschema@.issue_invoice(uuid, date) IS
    'Issues a draft: the next number of its series (balatrix.invoice_series, default INV; CN, DN for notes) in the '
    'financial year of issue_date (default today in IST), as SERIES/FY/NNNNNN, consecutive and gapless under '
    'concurrency; the due date (balatrix.invoice_due_days, default 15); an invoice.issued event. The document is then '
    'immutable. Returns the number. 55000 when not a draft; 22023 without lines or with a negative total.';

CREATE FUNCTION @extschema@.void_invoice(invoice uuid, reason text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    inv record;
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
    UPDATE @extschema@.invoices i SET status = 'void', voided_at = now(), void_reason = reason WHERE i.id = invoice;
    INSERT INTO @extschema@.event_outbox (event_type, customer_id, aggregate_type, aggregate_id, payload, dedupe_key)
    VALUES ('invoice.voided', inv.customer_id, 'invoice', invoice::text,
            jsonb_build_object('invoice_id', invoice, 'invoice_number', inv.invoice_number, 'reason', reason),
            'invoice.voided:' || invoice);
END
$$;
COMMENT ON FUNCTION @extschema@.void_invoice(uuid, text) IS
    'Voids an issued, unpaid, uncredited document (its number stays used: the series keeps no gap); an invoice.voided '
    'event. 55000 otherwise; 22023 without a reason.';

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
    @extschema@.create_invoice_draft(uuid, text, uuid, timestamptz, timestamptz, uuid),
    @extschema@.refresh_invoice_totals(uuid),
    @extschema@.add_invoice_line(uuid, text, text, numeric, numeric, text, timestamptz, timestamptz, text, text, numeric),
    @extschema@.issue_invoice(uuid, date),
    @extschema@.void_invoice(uuid, text),
    @extschema@.tg_invoice_immutable()
    FROM PUBLIC;

-- Baseline for bench/gstin.sh: the same GSTIN check written in PL/pgSQL, the way it is usually
-- done without a C extension (format regex, State code list, Luhn mod 36 loop).
CREATE OR REPLACE FUNCTION bench.plpgsql_gstin_is_valid(g text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    alphabet constant text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    s text := upper(btrim(g));
    total int := 0;
    v int;
    p int;
BEGIN
    IF s !~ '^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$' THEN
        RETURN false;
    END IF;
    IF NOT (substr(s, 1, 2)::int BETWEEN 1 AND 38 OR substr(s, 1, 2) = '97') THEN
        RETURN false;
    END IF;
    FOR i IN 1 .. 14 LOOP
        v := strpos(alphabet, substr(s, i, 1)) - 1;
        p := v * (CASE WHEN i % 2 = 1 THEN 1 ELSE 2 END);
        total := total + p / 36 + p % 36;
    END LOOP;
    RETURN substr(s, 15, 1) = substr(alphabet, (36 - total % 36) % 36 + 1, 1);
END
$$;

-- Describes everything the balatrix extension owns, one sorted line per fact, so that two
-- installs can be compared with diff (scripts/upgrade-check.sh): a fresh CREATE EXTENSION and
-- one reached through ALTER EXTENSION ... UPDATE must print the same lines.
-- Covers: member objects, columns, defaults, constraints, indexes, triggers, policies, RLS flags,
-- partitioning, function definitions, owners, privileges, comments, dump configuration.
\pset format unaligned
\pset tuples_only on
\pset footer off
WITH ext AS (
    SELECT oid, extconfig, extcondition FROM pg_extension WHERE extname = 'balatrix'
), members AS (
    SELECT d.classid, d.objid, d.objsubid
      FROM pg_depend d, ext
     WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
), rels AS (
    SELECT c.oid::regclass::text AS name, c.*
      FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
), procs AS (
    SELECT p.oid::regprocedure::text AS name, p.*
      FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
), facts(line) AS (
    SELECT 'member ' || pg_describe_object(classid, objid, objsubid) FROM members
    UNION ALL
    SELECT format('relation %s kind=%s owner=%s rls=%s force_rls=%s acl=%s options=%s', name, relkind,
                  relowner::regrole, relrowsecurity, relforcerowsecurity, relacl, reloptions) FROM rels
    UNION ALL
    SELECT format('comment %s: %s', name, obj_description(oid, 'pg_class')) FROM rels
    UNION ALL
    SELECT format('column %s.%s %s notnull=%s default=%s identity=%s generated=%s acl=%s comment=%s',
                  r.name, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated, a.attacl,
                  col_description(r.oid, a.attnum))
      FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef ad ON ad.adrelid = r.oid AND ad.adnum = a.attnum
    UNION ALL
    SELECT format('column-order %s %s', r.name, string_agg(a.attname, ',' ORDER BY a.attnum))
      FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
     GROUP BY r.name
    UNION ALL
    SELECT format('constraint %s %s: %s', r.name, con.conname, pg_get_constraintdef(con.oid))
      FROM rels r JOIN pg_constraint con ON con.conrelid = r.oid
    UNION ALL
    SELECT format('index %s', pg_get_indexdef(i.indexrelid))
      FROM rels r JOIN pg_index i ON i.indrelid = r.oid
    UNION ALL
    SELECT format('trigger %s enabled=%s', pg_get_triggerdef(t.oid), t.tgenabled)
      FROM rels r JOIN pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
    UNION ALL
    SELECT format('policy %s %s cmd=%s permissive=%s roles=%s using=%s check=%s', r.name, p.polname, p.polcmd,
                  p.polpermissive, (SELECT array_agg(x::regrole::text ORDER BY x::regrole::text) FROM unnest(p.polroles) x),
                  pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
      FROM rels r JOIN pg_policy p ON p.polrelid = r.oid
    UNION ALL
    SELECT format('partition-key %s %s', r.name, pg_get_partkeydef(r.oid)) FROM rels r WHERE r.relkind = 'p'
    UNION ALL
    SELECT format('partition %s of %s %s', r.name, i.inhparent::regclass, pg_get_expr(r.relpartbound, r.oid))
      FROM rels r JOIN pg_inherits i ON i.inhrelid = r.oid
    UNION ALL
    SELECT format('view %s %s', name, pg_get_viewdef(oid)) FROM rels WHERE relkind IN ('v', 'm')
    UNION ALL
    SELECT format('sequence %s type=%s start=%s inc=%s min=%s max=%s cycle=%s', r.name, s.seqtypid::regtype,
                  s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcycle)
      FROM rels r JOIN pg_sequence s ON s.seqrelid = r.oid
    UNION ALL
    SELECT format('function %s owner=%s acl=%s comment=%s def=%s', name, proowner::regrole, proacl,
                  obj_description(oid, 'pg_proc'),
                  CASE WHEN prokind IN ('f', 'p') THEN pg_get_functiondef(oid) ELSE prosrc END)
      FROM procs
    UNION ALL
    SELECT format('type %s owner=%s base=%s notnull=%s default=%s comment=%s', t.oid::regtype, t.typowner::regrole,
                  format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault, obj_description(t.oid, 'pg_type'))
      FROM pg_type t JOIN members m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid
    UNION ALL
    SELECT format('type-constraint %s %s: %s', con.contypid::regtype, con.conname, pg_get_constraintdef(con.oid))
      FROM pg_constraint con JOIN members m ON m.classid = 'pg_type'::regclass AND m.objid = con.contypid
    UNION ALL
    SELECT format('schema %s owner=%s acl=%s', n.nspname, n.nspowner::regrole, n.nspacl)
      FROM pg_namespace n WHERE n.nspname = 'balatrix'
    UNION ALL
    SELECT format('dump-config %s where=%s', c::regclass, w)
      FROM ext, unnest(ext.extconfig, ext.extcondition) AS u(c, w)
    UNION ALL
    SELECT format('rows %s %s', 'balatrix.gst_states', string_agg(format('%s/%s/%s/%s', code, name, intra_state_levy, gstin_prefix), ';' ORDER BY code))
      FROM balatrix.gst_states
)
SELECT line FROM facts ORDER BY line COLLATE "C";

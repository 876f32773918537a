-- original_quantity holds a quantity before partial exits, and share quantities
-- can be fractional. The original service made it INTEGER (its migration 1002),
-- where 0.5 shares would be stored as 1. NUMERIC(12, 4), as quantity is, holds
-- every integer already there unchanged.
--
-- A view that selects the column would block the change of type. Each such view
-- is set aside and built again from its own definition, with its options, owner,
-- comment and grants. A view that other views depend on is not dropped: the
-- migration stops there, rolled back, naming it.
DO $$
DECLARE
    target SMALLINT;
    dependent RECORD;
    restore TEXT[] := '{}';
    statement TEXT;
BEGIN
    SELECT attnum INTO target FROM pg_attribute
    WHERE attrelid = 'active_positions'::regclass AND attname = 'original_quantity'
        AND atttypid = 'integer'::regtype AND NOT attisdropped;
    IF target IS NULL THEN
        RETURN;
    END IF;
    FOR dependent IN
        SELECT DISTINCT view.oid, view.relkind, view.relowner, view.relacl, view.reloptions,
            view.oid::regclass::text AS name
        FROM pg_depend dep
        JOIN pg_rewrite rule ON rule.oid = dep.objid
        JOIN pg_class view ON view.oid = rule.ev_class
        WHERE dep.classid = 'pg_rewrite'::regclass AND dep.refclassid = 'pg_class'::regclass
            AND dep.refobjid = 'active_positions'::regclass AND dep.refobjsubid = target
            AND view.oid <> 'active_positions'::regclass
        ORDER BY view.oid
    LOOP
        restore := restore || format('CREATE %s %s%s AS %s',
            CASE dependent.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END, dependent.name,
            CASE WHEN dependent.reloptions IS NULL THEN ''
                 ELSE format(' WITH (%s)', array_to_string(dependent.reloptions, ', ')) END,
            rtrim(pg_get_viewdef(dependent.oid), ';'));
        IF dependent.relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user) THEN
            restore := restore || format('ALTER %s %s OWNER TO %I',
                CASE dependent.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END, dependent.name,
                pg_get_userbyid(dependent.relowner));
        END IF;
        IF obj_description(dependent.oid, 'pg_class') IS NOT NULL THEN
            restore := restore || format('COMMENT ON %s %s IS %L',
                CASE dependent.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END, dependent.name,
                obj_description(dependent.oid, 'pg_class'));
        END IF;
        restore := restore || ARRAY(
            SELECT format('GRANT %s ON %s TO %s', grant_.privilege_type, dependent.name,
                CASE WHEN grant_.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(grant_.grantee)) END)
            FROM aclexplode(dependent.relacl) AS grant_
            WHERE grant_.grantee <> dependent.relowner);
        RAISE NOTICE 'view % selects original_quantity: set aside and built again', dependent.name;
        EXECUTE format('DROP %s %s',
            CASE dependent.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END, dependent.name);
    END LOOP;
    ALTER TABLE active_positions ALTER COLUMN original_quantity TYPE NUMERIC(12, 4);
    FOREACH statement IN ARRAY restore LOOP
        EXECUTE statement;
    END LOOP;
END
$$;

-- One row per trade of the desk's execution ledger (issue 13). A row takes its
-- trade's plan by execution_uuid; a second row for the same execution is
-- refused, so two writers (pmctl adopting a position with the ledger's plan,
-- the dispatcher inserting the trade's row itself) can never both track it.
--
-- The original service's database has such an index already
-- (idx_active_positions_execution_uuid_unique, from its websocket idempotency
-- migration): there nothing is added. Elsewhere, rows that already share an
-- execution are left out of the new index by id (all but the lowest of each
-- group), as 0002 does for duplicate open rows, and a NOTICE lists them: the
-- upgrade changes no row and cannot fail on them.
DO $$
DECLARE
    dup RECORD;
    exempt INTEGER[] := '{}';
    predicate TEXT := 'execution_uuid IS NOT NULL';
BEGIN
    IF EXISTS (
        SELECT 1
        FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = 'active_positions'::regclass AND i.indisunique AND i.indnatts = 1
          AND a.attname = 'execution_uuid'
    ) THEN
        RETURN;
    END IF;
    FOR dup IN
        SELECT execution_uuid, array_agg(id ORDER BY id) AS ids
        FROM active_positions
        WHERE execution_uuid IS NOT NULL
        GROUP BY execution_uuid
        HAVING count(*) > 1
        ORDER BY execution_uuid
    LOOP
        RAISE NOTICE 'rows sharing execution %: ids % (the lowest keeps it)',
            dup.execution_uuid, array_to_string(dup.ids, ', ');
        exempt := exempt || dup.ids[2:];
    END LOOP;
    IF cardinality(exempt) > 0 THEN
        predicate := predicate || format(' AND id <> ALL (%L::integer[])', exempt);
    END IF;
    EXECUTE format(
        'CREATE UNIQUE INDEX uq_active_positions_execution ON active_positions (execution_uuid) WHERE %s',
        predicate);
END
$$;

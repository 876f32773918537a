-- What the rewrite needs on top of the original schema. Every new column is
-- nullable, defaulted or generated, so the desk's other tools keep inserting rows
-- that name only seed 01's columns plus option_symbol and account_name.

-- The symbol the broker holds: the OCC contract for an option, the ticker for a
-- stock. Generated in the database so a row inserted by any tool gets it right;
-- closing by ticker instead of this symbol is how seed 02 shorted the underlying.
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS symbol VARCHAR(50)
    GENERATED ALWAYS AS (COALESCE(NULLIF(option_symbol, ''), ticker)) STORED;

-- Trailing stops (asked for by seed 02/04 as "migration 013").
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS peak_price NUMERIC(12, 4);
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS trailing_stop_price NUMERIC(12, 4);
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS trailing_stop_percent NUMERIC(8, 4);
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS original_quantity NUMERIC(12, 4);
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS entry_underlying_price NUMERIC(12, 4);

-- The close in flight: the row is marked closing with a deterministic client
-- order id before the order is sent, so a crash or a lost answer is resolved by
-- looking the order up instead of sending it again.
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS close_client_order_id VARCHAR(128);
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS close_order_id VARCHAR(64);
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS close_quantity NUMERIC(12, 4);
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS close_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS close_submitted_at TIMESTAMPTZ;
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS exit_time TIMESTAMPTZ;

CREATE INDEX IF NOT EXISTS idx_active_positions_account_status
    ON active_positions(account_name, status);

ALTER TABLE position_events ADD COLUMN IF NOT EXISTS account_name VARCHAR(50);
ALTER TABLE position_events ADD COLUMN IF NOT EXISTS actor VARCHAR(100);
CREATE INDEX IF NOT EXISTS idx_position_events_account_created
    ON position_events(account_name, created_at);

-- At most one open or closing row per account and symbol: the constraint whose
-- absence let the old service insert a duplicate every five minutes (seed 05).
--
-- The desk's database already holds such duplicates, and this migration must
-- neither fail on them nor change a row. So the unique index leaves out the
-- extra rows of each duplicate group as they are today (all but the lowest id),
-- by id. The lowest id of each group is covered, so a new duplicate collides with
-- it and is refused from now on; the rows left out leave the index's concern as
-- soon as reconcile closes them. A NOTICE lists each group for the operator.
-- A NOT VALID constraint was not an option: PostgreSQL has no such thing for
-- UNIQUE or EXCLUDE, and a trigger check would race between concurrent runs.
DO $$
DECLARE
    dup RECORD;
    exempt INTEGER[] := '{}';
    predicate TEXT := 'status IN (''open'', ''closing'')';
BEGIN
    IF to_regclass('uq_active_positions_open_symbol') IS NOT NULL THEN
        RETURN;
    END IF;
    FOR dup IN
        SELECT account_name, symbol, array_agg(id ORDER BY id) AS ids
        FROM active_positions
        WHERE status IN ('open', 'closing') AND account_name IS NOT NULL
        GROUP BY account_name, symbol
        HAVING count(*) > 1
        ORDER BY account_name, symbol
    LOOP
        RAISE NOTICE 'duplicate open rows: account %, symbol %, ids % (left for reconcile)',
            dup.account_name, dup.symbol, array_to_string(dup.ids, ', ');
        exempt := exempt || dup.ids[2:];
    END LOOP;
    IF cardinality(exempt) > 0 THEN
        predicate := predicate || format(' AND id <> ALL (%L::integer[])', exempt);
    END IF;
    EXECUTE format(
        'CREATE UNIQUE INDEX uq_active_positions_open_symbol '
        'ON active_positions (account_name, symbol) WHERE %s', predicate);
END
$$;

-- pmctl's columns appended to v_open_positions_summary, only where the view is
-- seed 01's (as 0001 builds it): there the columns it has stay in place and
-- keep their meaning. Any other shape is the desk's own view (the original
-- service's production copy ends with created_at) and is left as it is; every
-- pmctl column is in active_positions.
DO $$
DECLARE
    shape TEXT[];
BEGIN
    SELECT array_agg(attname::text ORDER BY attnum) INTO shape
    FROM pg_attribute
    WHERE attrelid = to_regclass('v_open_positions_summary') AND attnum > 0 AND NOT attisdropped;
    IF shape IS NOT NULL AND shape <> ARRAY[
        'id', 'ticker', 'instrument_type', 'strategy_type', 'quantity', 'entry_price', 'current_price',
        'current_pnl_dollars', 'current_pnl_percent', 'stop_loss', 'take_profit', 'entry_time',
        'expiration_date', 'hold_minutes', 'max_hold_minutes', 'hours_to_expiration',
        'bracket_order_accepted', 'last_checked_at', 'check_count'] THEN
        RAISE NOTICE 'v_open_positions_summary is the desk''s own view (% columns, ending with %): left as it is',
            cardinality(shape), shape[cardinality(shape)];
        RETURN;
    END IF;
    CREATE OR REPLACE VIEW v_open_positions_summary AS
    SELECT
        ap.id,
        ap.ticker,
        ap.instrument_type,
        ap.strategy_type,
        ap.quantity,
        ap.entry_price,
        ap.current_price,
        ap.current_pnl_dollars,
        ap.current_pnl_percent,
        ap.stop_loss,
        ap.take_profit,
        ap.entry_time,
        ap.expiration_date,
        EXTRACT(EPOCH FROM (NOW() - ap.entry_time))/60 AS hold_minutes,
        ap.max_hold_minutes,
        CASE
            WHEN ap.expiration_date IS NOT NULL
            THEN EXTRACT(EPOCH FROM (ap.expiration_date - NOW()))/3600
            ELSE NULL
        END AS hours_to_expiration,
        ap.bracket_order_accepted,
        ap.last_checked_at,
        ap.check_count,
        ap.account_name,
        ap.symbol,
        ap.option_symbol,
        ap.side,
        ap.trailing_stop_percent,
        ap.trailing_stop_price,
        ap.peak_price,
        ap.original_quantity
    FROM active_positions ap
    WHERE ap.status = 'open'
    ORDER BY ap.entry_time DESC;
END
$$;

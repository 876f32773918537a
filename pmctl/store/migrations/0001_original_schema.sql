-- The schema of the original position manager (seed 01, its migration 009) and
-- the columns the desk later added by hand. On the desk's existing database every
-- statement here is a no-op; on a fresh one it builds the same starting point, so
-- both take the same path through every later migration.
--
-- execution_id carries no foreign key here: dispatch_executions belongs to the
-- dispatcher, not to pmctl. Where the original database has that key, it stays.

CREATE TABLE IF NOT EXISTS active_positions (
    id SERIAL PRIMARY KEY,
    execution_id INTEGER,
    ticker VARCHAR(10) NOT NULL,
    instrument_type VARCHAR(20) NOT NULL,
    strategy_type VARCHAR(20) NOT NULL,
    side VARCHAR(10) NOT NULL,
    quantity DECIMAL(12, 4) NOT NULL,
    entry_price DECIMAL(12, 4) NOT NULL,
    entry_time TIMESTAMP NOT NULL,
    strike_price DECIMAL(12, 4),
    expiration_date DATE,
    stop_loss DECIMAL(12, 4),
    take_profit DECIMAL(12, 4),
    max_hold_minutes INTEGER,
    bracket_order_accepted BOOLEAN DEFAULT FALSE,
    stop_order_id VARCHAR(100),
    target_order_id VARCHAR(100),
    current_price DECIMAL(12, 4),
    current_pnl_dollars DECIMAL(12, 4),
    current_pnl_percent DECIMAL(8, 4),
    last_checked_at TIMESTAMP,
    check_count INTEGER DEFAULT 0,
    status VARCHAR(20) DEFAULT 'open',
    close_reason VARCHAR(50),
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    closed_at TIMESTAMP
);

ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS option_symbol VARCHAR(50);
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS exit_price DECIMAL(12, 4);
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS execution_uuid UUID;
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS account_name VARCHAR(50);

CREATE INDEX IF NOT EXISTS idx_active_positions_status ON active_positions(status);
CREATE INDEX IF NOT EXISTS idx_active_positions_ticker ON active_positions(ticker);
CREATE INDEX IF NOT EXISTS idx_active_positions_expiration
    ON active_positions(expiration_date) WHERE expiration_date IS NOT NULL;

CREATE TABLE IF NOT EXISTS position_events (
    id SERIAL PRIMARY KEY,
    position_id INTEGER REFERENCES active_positions(id),
    event_type VARCHAR(50) NOT NULL,
    event_data JSONB,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX IF NOT EXISTS idx_position_events_position ON position_events(position_id);
CREATE INDEX IF NOT EXISTS idx_position_events_type ON position_events(event_type);

-- Seed 01's view, where the database has none. The desk's own view is left as it
-- is: the original service's production copy has more columns (it ends with
-- created_at), and replacing a view with fewer columns is refused.
DO $$
BEGIN
    IF to_regclass('v_open_positions_summary') IS NULL THEN
        CREATE VIEW v_open_positions_summary AS
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
            ap.check_count
        FROM active_positions ap
        WHERE ap.status = 'open'
        ORDER BY ap.entry_time DESC;
    END IF;
END
$$;

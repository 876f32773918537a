-- The desk's production database as the original service's migration Lambda built it
-- (frotofraggins/inbound_aigen, services/db_migration_lambda/lambda_function.py), for the
-- objects pmctl can touch. A reconstruction of the resulting database, not the service's code:
-- each part names the original migration it comes from. The Lambda applied its migrations in
-- sorted(MIGRATIONS.keys()) order, a string sort: 001 … 018, 1000, 1001, 1002,
-- 2026_02_02_0001 … 0003, 999. Column order below follows that order, as ADD COLUMN left it.
-- Tables pmctl never reads (news, features, watchlist, learning, bars) are left out.

-- 001_init: the original's own migration ledger (version TEXT, applied_at).
CREATE TABLE schema_migrations (
    version TEXT PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- 001_init: recommendations; 006 replaced the status CHECK with the longer list.
CREATE TABLE dispatch_recommendations (
    id BIGSERIAL PRIMARY KEY,
    ts TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    ticker TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('BUY', 'SELL')),
    confidence DOUBLE PRECISION NULL,
    reason JSONB NOT NULL DEFAULT '{}'::JSONB,
    status TEXT NOT NULL DEFAULT 'PENDING'
        CONSTRAINT dispatch_recommendations_status_check
        CHECK (status IN ('PENDING', 'PROCESSING', 'SIMULATED', 'SKIPPED', 'FAILED', 'EXECUTED', 'CANCELLED')),
    executed_at TIMESTAMPTZ NULL,
    filled_price DOUBLE PRECISION NULL,
    shares DOUBLE PRECISION NULL
);
CREATE INDEX idx_recommendations_status_ts ON dispatch_recommendations (status, ts DESC);
CREATE INDEX idx_recommendations_ticker_ts ON dispatch_recommendations (ticker, ts DESC);
CREATE INDEX idx_recommendations_executed ON dispatch_recommendations (executed_at DESC)
    WHERE executed_at IS NOT NULL;
-- 004_add_dispatcher_execution
ALTER TABLE dispatch_recommendations
    ADD COLUMN processed_at TIMESTAMPTZ NULL,
    ADD COLUMN dispatcher_run_id UUID NULL,
    ADD COLUMN failure_reason TEXT NULL,
    ADD COLUMN risk_gate_json JSONB NULL;
CREATE INDEX idx_dispatch_reco_pending ON dispatch_recommendations (status, ts) WHERE status = 'PENDING';
CREATE INDEX idx_dispatch_reco_run ON dispatch_recommendations (dispatcher_run_id)
    WHERE dispatcher_run_id IS NOT NULL;
-- 005_add_missing_columns
ALTER TABLE dispatch_recommendations ADD COLUMN instrument_type TEXT, ADD COLUMN created_at TIMESTAMPTZ;
-- 006_fix_dispatcher_status_constraint
COMMENT ON COLUMN dispatch_recommendations.status IS
    'State machine: PENDING → PROCESSING → (SIMULATED | SKIPPED | FAILED | EXECUTED | CANCELLED)';
-- 008_add_options_support
ALTER TABLE dispatch_recommendations
    ADD COLUMN strategy_type TEXT CHECK (strategy_type IN ('day_trade', 'swing_trade', 'conservative'));
CREATE INDEX idx_dispatch_reco_strategy_type ON dispatch_recommendations (strategy_type)
    WHERE strategy_type IS NOT NULL;

-- 004_add_dispatcher_execution: one row per trade, keyed by a UUID.
CREATE TABLE dispatch_executions (
    execution_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    recommendation_id BIGINT NOT NULL REFERENCES dispatch_recommendations(id),
    dispatcher_run_id UUID NOT NULL,
    ticker TEXT NOT NULL,
    action TEXT NOT NULL,
    decision_ts TIMESTAMPTZ NOT NULL,
    simulated_ts TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    entry_price NUMERIC(18, 8) NOT NULL,
    fill_model TEXT NOT NULL,
    slippage_bps INT NOT NULL DEFAULT 0,
    qty NUMERIC(18, 8) NOT NULL,
    notional NUMERIC(18, 8) NOT NULL,
    stop_loss_price NUMERIC(18, 8) NULL,
    take_profit_price NUMERIC(18, 8) NULL,
    max_hold_minutes INT NULL,
    execution_mode TEXT NOT NULL DEFAULT 'SIMULATED',
    explain_json JSONB NOT NULL,
    risk_json JSONB NOT NULL,
    sim_json JSONB NOT NULL
);
CREATE UNIQUE INDEX ux_dispatch_execution_reco ON dispatch_executions (recommendation_id);
CREATE INDEX idx_dispatch_exec_run ON dispatch_executions (dispatcher_run_id);
CREATE INDEX idx_dispatch_exec_ticker ON dispatch_executions (ticker, simulated_ts DESC);
CREATE INDEX idx_dispatch_exec_time ON dispatch_executions (simulated_ts DESC);
-- 008_add_options_support: the options columns, their CHECKs, and the metadata CHECK.
ALTER TABLE dispatch_executions
    ADD COLUMN instrument_type TEXT DEFAULT 'STOCK' CHECK (instrument_type IN ('STOCK', 'CALL', 'PUT')),
    ADD COLUMN strike_price NUMERIC(10, 2),
    ADD COLUMN expiration_date DATE,
    ADD COLUMN contracts INT,
    ADD COLUMN premium_paid NUMERIC(10, 2),
    ADD COLUMN delta NUMERIC(10, 4),
    ADD COLUMN theta NUMERIC(10, 4),
    ADD COLUMN implied_volatility NUMERIC(10, 4),
    ADD COLUMN option_symbol TEXT,
    ADD COLUMN strategy_type TEXT CHECK (strategy_type IN ('day_trade', 'swing_trade', 'conservative'));
CREATE INDEX idx_dispatch_executions_instrument_type ON dispatch_executions (instrument_type);
CREATE INDEX idx_dispatch_executions_expiration_date ON dispatch_executions (expiration_date)
    WHERE expiration_date IS NOT NULL;
CREATE INDEX idx_dispatch_executions_strategy_type ON dispatch_executions (strategy_type)
    WHERE strategy_type IS NOT NULL;
COMMENT ON COLUMN dispatch_executions.option_symbol IS 'OCC formatted option symbol (e.g., AAPL250131C00150000)';
ALTER TABLE dispatch_executions ADD CONSTRAINT check_options_metadata CHECK (
    (instrument_type = 'STOCK') OR
    (instrument_type IN ('CALL', 'PUT') AND strike_price IS NOT NULL AND expiration_date IS NOT NULL));
-- 009_add_position_tracking: what the position manager needed on the execution.
ALTER TABLE dispatch_executions
    ADD COLUMN side VARCHAR(10) DEFAULT 'long',
    ADD COLUMN status VARCHAR(20) DEFAULT 'PENDING',
    ADD COLUMN broker_order_id VARCHAR(100),
    ADD COLUMN stop_order_id VARCHAR(100),
    ADD COLUMN target_order_id VARCHAR(100),
    ADD COLUMN executed_at TIMESTAMP,
    ADD COLUMN filled_qty DECIMAL(12, 4);
CREATE INDEX idx_dispatch_executions_status ON dispatch_executions (status);
-- 011_add_learning_infrastructure (012 repeats it)
ALTER TABLE dispatch_recommendations ADD COLUMN features_snapshot JSONB, ADD COLUMN sentiment_snapshot JSONB;
ALTER TABLE dispatch_executions ADD COLUMN features_snapshot JSONB, ADD COLUMN sentiment_snapshot JSONB;
CREATE INDEX idx_dispatch_recs_features_gin ON dispatch_recommendations USING GIN (features_snapshot);
CREATE INDEX idx_dispatch_recs_sentiment_gin ON dispatch_recommendations USING GIN (sentiment_snapshot);
CREATE INDEX idx_dispatch_exec_features_gin ON dispatch_executions USING GIN (features_snapshot);
CREATE INDEX idx_dispatch_exec_sentiment_gin ON dispatch_executions USING GIN (sentiment_snapshot);
-- 015_options_telemetry_integrated
ALTER TABLE dispatch_executions
    ADD COLUMN bars_captured_count INT DEFAULT 0,
    ADD COLUMN first_bar_ts TIMESTAMPTZ,
    ADD COLUMN last_bar_ts TIMESTAMPTZ,
    ADD COLUMN peak_premium NUMERIC(10, 2),
    ADD COLUMN lowest_premium NUMERIC(10, 2);
-- 1000_add_account_name_column
ALTER TABLE dispatch_executions ADD COLUMN account_name VARCHAR(50) DEFAULT 'large';
CREATE INDEX idx_dispatch_executions_account_name ON dispatch_executions (account_name);

-- 008_add_options_support: the desk's view of live option trades.
CREATE VIEW active_options_positions AS
SELECT execution_id, ticker, instrument_type, strike_price, expiration_date,
    contracts, premium_paid, delta, theta, implied_volatility, option_symbol,
    strategy_type, entry_price, qty, notional, stop_loss_price, take_profit_price,
    simulated_ts, (expiration_date - CURRENT_DATE) AS days_to_expiration
FROM dispatch_executions
WHERE instrument_type IN ('CALL', 'PUT')
    AND expiration_date >= CURRENT_DATE
    AND execution_mode IN ('ALPACA_PAPER', 'LIVE')
ORDER BY expiration_date ASC, simulated_ts DESC;

-- 009_add_position_tracking: execution_id is the execution's UUID, with its foreign key.
CREATE TABLE active_positions (
    id SERIAL PRIMARY KEY,
    execution_id UUID REFERENCES dispatch_executions(execution_id),
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
CREATE INDEX idx_active_positions_status ON active_positions (status);
CREATE INDEX idx_active_positions_ticker ON active_positions (ticker);
CREATE INDEX idx_active_positions_execution ON active_positions (execution_id);
CREATE INDEX idx_active_positions_expiration ON active_positions (expiration_date) WHERE expiration_date IS NOT NULL;
CREATE INDEX idx_active_positions_entry_time ON active_positions (entry_time);

CREATE TABLE position_events (
    id SERIAL PRIMARY KEY,
    position_id INTEGER REFERENCES active_positions(id),
    event_type VARCHAR(50) NOT NULL,
    event_data JSONB,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_position_events_position ON position_events (position_id);
CREATE INDEX idx_position_events_type ON position_events (event_type);
CREATE INDEX idx_position_events_created ON position_events (created_at);

-- 009_add_position_tracking: the real view ends with created_at (seed 01's copy does not),
-- and casts the expiration date to a timestamp.
CREATE VIEW v_open_positions_summary AS
SELECT
    ap.id, ap.ticker, ap.instrument_type, ap.strategy_type, ap.quantity,
    ap.entry_price, ap.current_price, ap.current_pnl_dollars, ap.current_pnl_percent,
    ap.stop_loss, ap.take_profit, ap.entry_time, ap.expiration_date,
    EXTRACT(EPOCH FROM (NOW() - ap.entry_time))/60 AS hold_minutes,
    ap.max_hold_minutes,
    CASE
        WHEN ap.expiration_date IS NOT NULL
        THEN EXTRACT(EPOCH FROM (ap.expiration_date::timestamp - NOW()))/3600
        ELSE NULL
    END AS hours_to_expiration,
    ap.bracket_order_accepted, ap.last_checked_at, ap.check_count, ap.created_at
FROM active_positions ap
WHERE ap.status = 'open'
ORDER BY ap.entry_time DESC;

CREATE VIEW v_position_performance AS
SELECT
    ap.id, ap.ticker, ap.instrument_type, ap.strategy_type,
    ap.entry_price, ap.current_price AS exit_price, ap.quantity,
    ap.entry_time, ap.closed_at,
    EXTRACT(EPOCH FROM (ap.closed_at - ap.entry_time))/60 AS hold_minutes,
    ap.current_pnl_dollars AS final_pnl_dollars,
    ap.current_pnl_percent AS final_pnl_percent,
    ap.close_reason, ap.stop_loss, ap.take_profit,
    CASE
        WHEN ap.close_reason IN ('take_profit') THEN 'win'
        WHEN ap.close_reason IN ('stop_loss') THEN 'loss'
        ELSE 'other'
    END AS outcome
FROM active_positions ap
WHERE ap.status = 'closed'
ORDER BY ap.closed_at DESC;

CREATE VIEW v_position_health_check AS
SELECT
    COUNT(*) FILTER (WHERE status = 'open') AS open_positions,
    COUNT(*) FILTER (WHERE status = 'closing') AS closing_positions,
    COUNT(*) FILTER (WHERE status = 'closed') AS closed_positions_today,
    COUNT(*) FILTER (WHERE status = 'open' AND last_checked_at < NOW() - INTERVAL '5 minutes') AS stale_positions,
    COUNT(*) FILTER (WHERE status = 'open' AND NOT bracket_order_accepted) AS missing_brackets,
    COUNT(*) FILTER (WHERE status = 'open' AND strategy_type = 'day_trade') AS open_day_trades,
    COUNT(*) FILTER (WHERE status = 'open' AND expiration_date IS NOT NULL
                     AND expiration_date < CURRENT_DATE + 1) AS expiring_soon
FROM active_positions
WHERE created_at >= CURRENT_DATE;

-- 011_add_learning_infrastructure (012 repeats it): outcome labels for learning.
ALTER TABLE active_positions
    ADD COLUMN win_loss_label SMALLINT,
    ADD COLUMN r_multiple NUMERIC(8, 4),
    ADD COLUMN mae_pct NUMERIC(8, 4),
    ADD COLUMN mfe_pct NUMERIC(8, 4),
    ADD COLUMN holding_minutes INT,
    ADD COLUMN exit_reason_norm VARCHAR(32);
CREATE INDEX idx_active_positions_win_loss ON active_positions (win_loss_label);
CREATE INDEX idx_active_positions_r_multiple ON active_positions (r_multiple);

-- 016_add_active_positions_option_symbol: TEXT, not the seed's VARCHAR(50).
ALTER TABLE active_positions ADD COLUMN option_symbol TEXT;
COMMENT ON COLUMN active_positions.option_symbol IS
    'Full OCC option symbol for options positions (e.g., QCOM260206C00150000)';
CREATE INDEX idx_active_positions_option_symbol ON active_positions (option_symbol) WHERE option_symbol IS NOT NULL;

-- 1001_add_account_name_to_active_positions: rows that name no account are the large one's.
ALTER TABLE active_positions ADD COLUMN account_name VARCHAR(50) DEFAULT 'large';
CREATE INDEX idx_active_positions_account_name ON active_positions (account_name);
CREATE INDEX idx_active_positions_status_account ON active_positions (status, account_name);

-- 1002_add_trailing_stops_columns: original_quantity is an INTEGER here.
ALTER TABLE active_positions
    ADD COLUMN peak_price DECIMAL(12, 4),
    ADD COLUMN trailing_stop_price DECIMAL(12, 4),
    ADD COLUMN entry_underlying_price DECIMAL(12, 4),
    ADD COLUMN original_quantity INTEGER;
COMMENT ON COLUMN active_positions.peak_price IS 'Highest price reached during position lifetime (for trailing stops)';
COMMENT ON COLUMN active_positions.trailing_stop_price IS 'Calculated trailing stop price (locks in 75% of gains)';
COMMENT ON COLUMN active_positions.entry_underlying_price IS 'Underlying stock price at option entry (for analysis)';
COMMENT ON COLUMN active_positions.original_quantity IS 'Original quantity before partial exits';
CREATE INDEX idx_active_positions_peak_price ON active_positions (peak_price) WHERE peak_price IS NOT NULL;

-- 2026_02_02_0001_position_telemetry: the execution bridge, entry telemetry, and the history table.
ALTER TABLE active_positions
    ADD COLUMN execution_uuid UUID,
    ADD COLUMN entry_features_json JSONB,
    ADD COLUMN entry_iv_rank NUMERIC(18, 8),
    ADD COLUMN entry_spread_pct NUMERIC(18, 8),
    ADD COLUMN best_unrealized_pnl_pct NUMERIC(18, 8) DEFAULT 0,
    ADD COLUMN worst_unrealized_pnl_pct NUMERIC(18, 8) DEFAULT 0,
    ADD COLUMN best_unrealized_pnl_dollars NUMERIC(18, 8) DEFAULT 0,
    ADD COLUMN worst_unrealized_pnl_dollars NUMERIC(18, 8) DEFAULT 0,
    ADD COLUMN last_mark_price NUMERIC(18, 8);
CREATE INDEX idx_active_positions_execution_uuid ON active_positions (execution_uuid);

CREATE TABLE position_history (
    id BIGSERIAL PRIMARY KEY,
    execution_id UUID,
    execution_uuid UUID,
    ticker TEXT,
    instrument_type TEXT,
    strategy_type TEXT,
    side TEXT,
    quantity NUMERIC(18, 8),
    entry_price NUMERIC(18, 8),
    exit_price NUMERIC(18, 8),
    entry_time TIMESTAMPTZ,
    exit_time TIMESTAMPTZ,
    pnl_dollars NUMERIC(18, 8),
    pnl_pct NUMERIC(18, 8),
    strike_price NUMERIC(18, 8),
    expiration_date DATE,
    option_symbol TEXT,
    implied_volatility NUMERIC(18, 8),
    max_hold_minutes INTEGER,
    holding_seconds INTEGER,
    multiplier INTEGER,
    exit_reason TEXT,
    exit_order_id TEXT,
    entry_features_json JSONB,
    entry_iv_rank NUMERIC(18, 8),
    entry_spread_pct NUMERIC(18, 8),
    best_unrealized_pnl_pct NUMERIC(18, 8),
    worst_unrealized_pnl_pct NUMERIC(18, 8),
    best_unrealized_pnl_dollars NUMERIC(18, 8),
    worst_unrealized_pnl_dollars NUMERIC(18, 8),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_position_history_execution_uuid ON position_history (execution_uuid);
CREATE INDEX idx_position_history_ticker_exit_time ON position_history (ticker, exit_time DESC);

-- 2026_02_02_0002_websocket_idempotency: the broker's order id, one row per execution.
ALTER TABLE active_positions ADD COLUMN alpaca_order_id VARCHAR(100);
CREATE INDEX idx_active_positions_alpaca_order_id ON active_positions (alpaca_order_id)
    WHERE alpaca_order_id IS NOT NULL;
CREATE UNIQUE INDEX idx_active_positions_execution_uuid_unique ON active_positions (execution_uuid)
    WHERE execution_uuid IS NOT NULL;
COMMENT ON COLUMN active_positions.alpaca_order_id IS 'Alpaca order ID for idempotency checking';

-- 2026_02_02_0003_add_constraints_no_do: NOT VALID, so old rows are not checked, but every new
-- row (and every update of a row) is.
ALTER TABLE active_positions ADD CONSTRAINT chk_active_positions_side
    CHECK (side IN ('long', 'short', 'call', 'put')) NOT VALID;
ALTER TABLE active_positions ADD CONSTRAINT chk_active_positions_strategy_type
    CHECK (strategy_type IN ('day_trade', 'swing_trade', 'conservative') OR strategy_type IS NULL) NOT VALID;
ALTER TABLE position_history ADD CONSTRAINT chk_position_history_side
    CHECK (side IN ('long', 'short', 'call', 'put')) NOT VALID;
ALTER TABLE position_history ADD CONSTRAINT chk_position_history_strategy_type
    CHECK (strategy_type IN ('day_trade', 'swing_trade', 'conservative') OR strategy_type IS NULL) NOT VALID;

-- The ledger as it reads after the Lambda's later runs: all 25 versions (014 deleted 008 and 013,
-- which the next run applied again).
INSERT INTO schema_migrations (version, applied_at) VALUES
    ('001_init', '2026-01-12 17:02:11+00'),
    ('002_add_volatility_features', '2026-01-12 17:02:11+00'),
    ('003_add_watchlist_state', '2026-01-12 17:02:12+00'),
    ('004_add_dispatcher_execution', '2026-01-13 09:40:03+00'),
    ('005_add_missing_columns', '2026-01-13 09:40:03+00'),
    ('006_fix_dispatcher_status_constraint', '2026-01-14 11:21:45+00'),
    ('007_add_volume_features', '2026-01-15 08:05:30+00'),
    ('008_add_options_support', '2026-01-27 20:14:09+00'),
    ('009_add_position_tracking', '2026-01-20 15:33:52+00'),
    ('010_add_ai_learning_tables', '2026-01-21 10:12:40+00'),
    ('011_add_learning_infrastructure', '2026-01-22 14:48:01+00'),
    ('012_phase16_columns_only', '2026-01-22 15:02:19+00'),
    ('013_options_columns_safe', '2026-01-27 20:14:09+00'),
    ('014_force_options_columns', '2026-01-26 18:30:55+00'),
    ('015_options_telemetry_integrated', '2026-01-28 12:00:07+00'),
    ('016_add_active_positions_option_symbol', '2026-01-29 16:45:13+00'),
    ('017_release_stuck_processing', '2026-01-30 09:10:44+00'),
    ('018_add_account_activities', '2026-01-31 13:27:36+00'),
    ('2026_02_02_0001_position_telemetry', '2026-02-02 19:05:12+00'),
    ('2026_02_02_0002_websocket_idempotency', '2026-02-02 19:05:12+00'),
    ('2026_02_02_0003_add_constraints_no_do', '2026-02-02 19:05:13+00'),
    ('999_cleanup_phantom_positions_v2', '2026-02-03 19:48:20+00'),
    ('1000_add_account_name_column', '2026-02-03 17:12:08+00'),
    ('1001_add_account_name_to_active_positions', '2026-02-03 17:40:31+00'),
    ('1002_add_trailing_stops_columns', '2026-02-06 15:22:57+00');

-- Trades as the dispatcher recorded them (services/dispatcher/db/repositories.py).
INSERT INTO dispatch_recommendations (id, ts, ticker, action, confidence, status, executed_at, instrument_type,
                                      created_at, strategy_type) VALUES
    (501, '2026-02-03 14:29:40+00', 'SPY', 'BUY', 0.71, 'EXECUTED', '2026-02-03 14:30:02+00', 'STOCK',
     '2026-02-03 14:29:40+00', 'day_trade'),
    (502, '2026-02-03 14:34:10+00', 'GOOGL', 'BUY', 0.64, 'EXECUTED', '2026-02-03 14:35:01+00', 'CALL',
     '2026-02-03 14:34:10+00', 'swing_trade'),
    (503, '2026-02-03 15:01:00+00', 'MSFT', 'BUY', 0.52, 'SIMULATED', NULL, 'STOCK',
     '2026-02-03 15:01:00+00', 'day_trade');
SELECT setval('dispatch_recommendations_id_seq', 503);

INSERT INTO dispatch_executions (execution_id, recommendation_id, dispatcher_run_id, ticker, action, decision_ts,
    simulated_ts, entry_price, fill_model, slippage_bps, qty, notional, stop_loss_price, take_profit_price,
    max_hold_minutes, execution_mode, explain_json, risk_json, sim_json, instrument_type, strike_price,
    expiration_date, contracts, premium_paid, option_symbol, strategy_type, side, status, broker_order_id,
    executed_at, filled_qty, account_name) VALUES
    ('6f0e2a51-8c1d-4c53-9a7e-2d4b1c0e9f11', 501, '0b6c9e55-3a51-4f0e-8d1c-5e9a7b2c4d10', 'SPY', 'BUY_STOCK',
     '2026-02-03 14:29:58+00', '2026-02-03 14:30:02+00', 690.10, 'ALPACA_FILL', 0, 20, 13802.00, 676.30, 710.80,
     240, 'ALPACA_PAPER', '{"source": "dispatcher"}', '{"gate": "pass"}', '{}', 'STOCK', NULL, NULL, NULL, NULL,
     NULL, 'day_trade', 'long', 'FILLED', 'b1a7e0c2-0d54-4f7b-9a3e-6c2d1f0e8a01', '2026-02-03 14:30:02', 20,
     'large'),
    ('9d3c7b12-4e6f-4a81-b2c5-7e8f9a0b1c22', 502, '0b6c9e55-3a51-4f0e-8d1c-5e9a7b2c4d10', 'GOOGL', 'BUY_CALL',
     '2026-02-03 14:34:58+00', '2026-02-03 14:35:01+00', 5.20, 'ALPACA_FILL', 0, 10, 5200.00, 330.00, 352.00,
     360, 'ALPACA_PAPER', '{"api_bid": 5.10, "api_ask": 5.30}', '{"gate": "pass"}', '{}', 'CALL', 340.00,
     '2026-02-20', 10, 5.20, 'GOOGL260220C00340000', 'swing_trade', 'long', 'FILLED',
     'c2b8f1d3-1e65-4a8c-8b4f-7d3e2a1f9b02', '2026-02-03 14:35:01', 10, 'large'),
    ('1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c33', 503, '0b6c9e55-3a51-4f0e-8d1c-5e9a7b2c4d10', 'MSFT', 'BUY_STOCK',
     '2026-02-03 15:00:58+00', '2026-02-03 15:01:00+00', 410.25, 'MID_SLIPPAGE', 5, 5, 2051.25, 402.00, 422.50,
     240, 'SIMULATED', '{}', '{}', '{"model": "mid"}', 'STOCK', NULL, NULL, NULL, NULL, NULL, 'day_trade',
     'long', 'SIMULATED', NULL, NULL, NULL, 'large');

-- Positions: rows from executions (execution_id and execution_uuid set, side 'call'/'put' for options
-- as the desk's tools allowed), rows synced from Alpaca (swing_trade, 240 minutes), rows closed by
-- 999_cleanup_phantom_positions_v2 (manual_reconciliation), a stop-loss exit, and the tiny account's
-- duplicate of seed 05.
INSERT INTO active_positions (id, execution_id, ticker, instrument_type, strategy_type, side, quantity,
    entry_price, entry_time, strike_price, expiration_date, stop_loss, take_profit, max_hold_minutes,
    bracket_order_accepted, stop_order_id, target_order_id, current_price, current_pnl_dollars,
    current_pnl_percent, last_checked_at, check_count, status, close_reason, created_at, updated_at, closed_at,
    option_symbol, account_name, peak_price, trailing_stop_price, entry_underlying_price, original_quantity,
    execution_uuid, entry_features_json, best_unrealized_pnl_pct, worst_unrealized_pnl_pct, last_mark_price,
    alpaca_order_id) VALUES
    (13, NULL, 'NOW', 'STOCK', 'swing_trade', 'long', 5, 850.10, '2026-02-02 15:01:00', NULL, NULL, 833.10,
     875.60, 240, FALSE, NULL, NULL, 851.00, 0, 0, '2026-02-03 19:40:00', 412, 'closed', 'manual_reconciliation',
     '2026-02-02 15:01:00', '2026-02-03 19:48:20', '2026-02-03 19:48:20', NULL, 'large', NULL, NULL, NULL, NULL,
     NULL, '{}', 0, 0, 850.10, NULL),
    (16, NULL, 'QCOM', 'STOCK', 'day_trade', 'long', 30, 150.20, '2026-02-03 14:30:00', NULL, NULL, 147.20,
     154.70, 240, FALSE, NULL, NULL, 149.80, 0, 0, '2026-02-03 19:40:00', 250, 'closed', 'manual_reconciliation',
     '2026-02-03 14:30:00', '2026-02-03 19:48:20', '2026-02-03 19:48:20', NULL, 'large', NULL, NULL, NULL, NULL,
     NULL, '{}', 0, 0, 149.80, NULL),
    (24, NULL, 'CRM', 'PUT', 'swing_trade', 'put', 3, 5.10, '2026-02-03 14:10:00', 200, '2026-02-27', 2.04,
     9.18, 360, FALSE, NULL, NULL, 2.00, -933.00, -60.9804, '2026-02-03 15:10:00', 60, 'closed', 'stop_loss',
     '2026-02-03 14:10:00', '2026-02-03 15:10:05', '2026-02-03 15:10:05', 'CRM260227P00200000', 'large', 5.40,
     NULL, 201.50, 3, NULL, '{}', 5.88, -60.98, 2.00, NULL),
    (41, '6f0e2a51-8c1d-4c53-9a7e-2d4b1c0e9f11', 'SPY', 'STOCK', 'day_trade', 'long', 20, 690.10,
     '2026-02-03 14:30:02', NULL, NULL, 676.30, 710.80, 240, TRUE, 'd4c9a2e4-2f76-4b9d-9c5a-8e4f3b2a0c03',
     'e5d0b3f5-3a87-4cae-ad6b-9f5a4c3b1d04', 692.40, 46.00, 0.3333, '2026-02-03 15:59:00', 89, 'open', NULL,
     '2026-02-03 14:30:05', '2026-02-03 15:59:00', NULL, NULL, 'large', 693.00, NULL, NULL, 20,
     '6f0e2a51-8c1d-4c53-9a7e-2d4b1c0e9f11', '{"rsi": 54.2}', 0.42, -0.11, 692.40,
     'b1a7e0c2-0d54-4f7b-9a3e-6c2d1f0e8a01'),
    (43, '9d3c7b12-4e6f-4a81-b2c5-7e8f9a0b1c22', 'GOOGL', 'CALL', 'swing_trade', 'call', 10, 5.20,
     '2026-02-03 14:35:01', 340, '2026-02-20', 2.08, 9.36, 360, FALSE, NULL, NULL, 4.90, -300.00, -5.7692,
     '2026-02-03 15:59:00', 84, 'open', NULL, '2026-02-03 14:35:04', '2026-02-03 15:59:00', NULL,
     'GOOGL260220C00340000', 'large', 5.35, NULL, 338.10, 10, '9d3c7b12-4e6f-4a81-b2c5-7e8f9a0b1c22',
     '{"iv": 0.31}', 2.88, -7.69, 4.90, 'c2b8f1d3-1e65-4a8c-8b4f-7d3e2a1f9b02'),
    (44, NULL, 'AAPL', 'STOCK', 'swing_trade', 'long', 12, 230.50, '2026-02-03 15:05:00', NULL, NULL, NULL, NULL,
     240, FALSE, NULL, NULL, 231.10, 7.20, 0.2603, '2026-02-03 15:59:00', 54, 'open', NULL, '2026-02-03 15:05:00',
     '2026-02-03 15:59:00', NULL, NULL, 'tiny', NULL, NULL, NULL, NULL, NULL, '{}', 0, 0, 231.10, NULL),
    (45, NULL, 'QCOM', 'PUT', 'conservative', 'put', 2, 3.10, '2026-02-03 15:12:00', 145, '2026-02-20', 1.24, 5.58,
     240, FALSE, NULL, NULL, 3.30, 40.00, 6.4516, '2026-02-03 15:59:00', 47, 'open', NULL, '2026-02-03 15:12:00',
     '2026-02-03 15:59:00', NULL, 'QCOM260220P00145000', 'tiny', NULL, NULL, NULL, NULL, NULL, '{}', 0, 0, 3.30,
     NULL),
    (46, NULL, 'NOW', 'PUT', 'day_trade', 'long', 1, 3.20, '2026-02-03 15:07:52', 110, '2026-02-20', NULL, NULL,
     240, FALSE, NULL, NULL, 3.20, 0, 0, '2026-02-03 15:59:00', 52, 'open', NULL, '2026-02-03 15:07:52',
     '2026-02-03 15:59:00', NULL, 'NOW260220P00110000', 'tiny', NULL, NULL, NULL, NULL, NULL, '{}', 0, 0, 3.20,
     NULL),
    (47, NULL, 'NOW', 'PUT', 'day_trade', 'long', 1, 3.20, '2026-02-03 15:22:43', 110, '2026-02-20', NULL, NULL,
     240, FALSE, NULL, NULL, 3.20, 0, 0, '2026-02-03 15:59:00', 37, 'open', NULL, '2026-02-03 15:22:43',
     '2026-02-03 15:59:00', NULL, 'NOW260220P00110000', 'tiny', NULL, NULL, NULL, NULL, NULL, '{}', 0, 0, 3.20,
     NULL);
SELECT setval('active_positions_id_seq', 47);

INSERT INTO position_events (position_id, event_type, event_data, created_at) VALUES
    (13, 'synced_from_alpaca', '{"source": "alpaca_sync"}', '2026-02-02 15:01:00'),
    (24, 'exit_triggered', '{"reason": "stop_loss", "price": 2.00}', '2026-02-03 15:10:00'),
    (24, 'closed', '{"reason": "stop_loss", "exit_price": 2.00}', '2026-02-03 15:10:05'),
    (41, 'created', '{"execution_id": "6f0e2a51-8c1d-4c53-9a7e-2d4b1c0e9f11"}', '2026-02-03 14:30:05'),
    (43, 'created', '{"execution_id": "9d3c7b12-4e6f-4a81-b2c5-7e8f9a0b1c22"}', '2026-02-03 14:35:04'),
    (43, 'price_update', '{"price": 4.90}', '2026-02-03 15:59:00'),
    (46, 'synced_from_alpaca', '{"source": "alpaca_sync"}', '2026-02-03 15:07:52'),
    (47, 'synced_from_alpaca', '{"source": "alpaca_sync"}', '2026-02-03 15:22:43');

INSERT INTO position_history (execution_id, ticker, instrument_type, strategy_type, side, quantity, entry_price,
    exit_price, entry_time, exit_time, pnl_dollars, pnl_pct, strike_price, expiration_date, option_symbol,
    max_hold_minutes, holding_seconds, multiplier, exit_reason, entry_features_json, created_at) VALUES
    (NULL, 'CRM', 'PUT', 'swing_trade', 'put', 3, 5.10, 2.00, '2026-02-03 14:10:00+00', '2026-02-03 15:10:05+00',
     -933.00, -60.9804, 200, '2026-02-27', 'CRM260227P00200000', 360, 3605, 100, 'stop_loss', '{}',
     '2026-02-03 15:10:06+00');

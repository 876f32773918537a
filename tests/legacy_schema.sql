-- The desk's database as the original service left it: seed 01's migration 009,
-- the dispatcher's executions table it references, and the columns added by hand.
CREATE TABLE dispatch_executions (
    id SERIAL PRIMARY KEY,
    ticker VARCHAR(10) NOT NULL,
    executed_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE active_positions (
    id SERIAL PRIMARY KEY,
    execution_id INTEGER REFERENCES dispatch_executions(id),
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
CREATE INDEX idx_active_positions_status ON active_positions(status);
CREATE INDEX idx_active_positions_ticker ON active_positions(ticker);
CREATE INDEX idx_active_positions_expiration ON active_positions(expiration_date) WHERE expiration_date IS NOT NULL;

CREATE TABLE position_events (
    id SERIAL PRIMARY KEY,
    position_id INTEGER REFERENCES active_positions(id),
    event_type VARCHAR(50) NOT NULL,
    event_data JSONB,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_position_events_position ON position_events(position_id);
CREATE INDEX idx_position_events_type ON position_events(event_type);

CREATE OR REPLACE VIEW v_open_positions_summary AS
SELECT ap.id, ap.ticker, ap.instrument_type, ap.strategy_type, ap.quantity, ap.entry_price,
    ap.current_price, ap.current_pnl_dollars, ap.current_pnl_percent, ap.stop_loss, ap.take_profit,
    ap.entry_time, ap.expiration_date,
    EXTRACT(EPOCH FROM (NOW() - ap.entry_time))/60 AS hold_minutes,
    ap.max_hold_minutes,
    CASE WHEN ap.expiration_date IS NOT NULL
        THEN EXTRACT(EPOCH FROM (ap.expiration_date - NOW()))/3600 ELSE NULL END AS hours_to_expiration,
    ap.bracket_order_accepted, ap.last_checked_at, ap.check_count
FROM active_positions ap
WHERE ap.status = 'open'
ORDER BY ap.entry_time DESC;

-- added by hand after the incidents
ALTER TABLE active_positions ADD COLUMN option_symbol VARCHAR(50);
ALTER TABLE active_positions ADD COLUMN exit_price DECIMAL(12, 4);
ALTER TABLE active_positions ADD COLUMN execution_uuid UUID;
ALTER TABLE active_positions ADD COLUMN account_name VARCHAR(50);

INSERT INTO dispatch_executions (ticker) VALUES ('QCOM'), ('NOW'), ('SPY');

-- seed 04/05: real positions, phantoms and the tiny account's duplicates
INSERT INTO active_positions
    (id, execution_id, ticker, instrument_type, strategy_type, side, quantity, entry_price, entry_time,
     strike_price, expiration_date, stop_loss, take_profit, status, option_symbol, account_name,
     execution_uuid, created_at, close_reason, closed_at, exit_price)
VALUES
    (13, 2, 'NOW', 'STOCK', 'swing_trade', 'long', 5, 850.10, '2026-02-02 15:01:00',
     NULL, NULL, 800, 900, 'open', NULL, 'large', NULL, '2026-02-02 15:01:00', NULL, NULL, NULL),
    (16, 1, 'QCOM', 'STOCK', 'day_trade', 'long', 5, 150.20, '2026-02-03 14:30:00',
     NULL, NULL, 145, 160, 'closing', NULL, 'large', 'a3c1a7a4-3f7e-4b8e-9a51-0e6b1c2d3e4f', '2026-02-03 14:30:00', NULL, NULL, NULL),
    (21, NULL, 'ORCL', 'CALL', 'swing_trade', 'long', 3, 4.10, '2026-02-03 14:40:00',
     155, '2026-02-13', 3.00, 6.00, 'open', 'ORCL260213C00155000', 'large', NULL, '2026-02-03 14:40:00', NULL, NULL, NULL),
    (24, NULL, 'CRM', 'PUT', 'swing_trade', 'long', 2, 7.55, '2026-02-03 14:45:00',
     200, '2026-02-27', 5.00, 11.00, 'closed', 'CRM260227P00200000', 'large', NULL, '2026-02-03 14:45:00', 'stop_loss', '2026-02-03 15:10:00', 5.10),
    (32, NULL, 'NOW', 'PUT', 'day_trade', 'long', 1, 3.20, '2026-02-03 16:07:52',
     110, '2026-02-20', NULL, NULL, 'closing', 'NOW260220P00110000', 'tiny', NULL, '2026-02-03 16:07:52', NULL, NULL, NULL),
    (33, NULL, 'QCOM', 'PUT', 'day_trade', 'long', 1, 2.10, '2026-02-03 16:07:53',
     145, '2026-02-20', NULL, NULL, 'closing', 'QCOM260220P00145000', 'tiny', NULL, '2026-02-03 16:07:53', NULL, NULL, NULL),
    (38, NULL, 'NOW', 'PUT', 'day_trade', 'long', 1, 3.20, '2026-02-03 16:22:43',
     110, '2026-02-20', NULL, NULL, 'closing', 'NOW260220P00110000', 'tiny', NULL, '2026-02-03 16:22:43', NULL, NULL, NULL),
    (39, NULL, 'QCOM', 'PUT', 'day_trade', 'long', 1, 2.10, '2026-02-03 16:22:43',
     145, '2026-02-20', NULL, NULL, 'open', 'QCOM260220P00145000', 'tiny', NULL, '2026-02-03 16:22:43', NULL, NULL, NULL),
    (40, NULL, 'QCOM', 'PUT', 'day_trade', 'long', 1, 2.10, '2026-02-03 16:27:43',
     145, '2026-02-20', NULL, NULL, 'open', 'QCOM260220P00145000', 'tiny', NULL, '2026-02-03 16:27:43', NULL, NULL, NULL);
SELECT setval('active_positions_id_seq', 40);

INSERT INTO position_events (position_id, event_type, event_data, created_at) VALUES
    (16, 'exit_triggered', '{"reason": "day_trade_close"}', '2026-02-03 15:55:00'),
    (24, 'closed', '{"reason": "stop_loss"}', '2026-02-03 15:10:00');

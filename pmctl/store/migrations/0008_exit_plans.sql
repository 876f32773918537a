-- Every position carries the exit plan it was opened with (issue 13).
--
-- Underlying levels: the dispatcher priced an option trade's stop and target on
-- the underlying (a put's stop above, its target below), while its entry is the
-- premium. They are kept apart from stop_loss/take_profit, which are levels of
-- the price the broker holds, so one is never compared with the other.
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS underlying_stop NUMERIC(12, 4);
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS underlying_target NUMERIC(12, 4);
-- How many steps of the policy's scale-out ladder the row has taken, so a step
-- is sold once however long the price stays beyond it.
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS scale_out_done INTEGER NOT NULL DEFAULT 0;

-- Every exit fill, whole or partial, pmctl's or found at the broker (a hand
-- sale that shrinks a position): what the report sums realized P&L from. One
-- line per row and order: a close order that fills in several cycles updates
-- its line to the order's cumulative fill.
CREATE TABLE IF NOT EXISTS position_exits (
    id BIGSERIAL PRIMARY KEY,
    position_id INTEGER NOT NULL REFERENCES active_positions(id),
    account_name VARCHAR(50) NOT NULL,
    symbol VARCHAR(50) NOT NULL,
    quantity NUMERIC(12, 4) NOT NULL CHECK (quantity > 0),
    price NUMERIC(12, 4),
    exit_time TIMESTAMPTZ,
    reason VARCHAR(50) NOT NULL,
    order_id VARCHAR(64),
    source VARCHAR(10) NOT NULL CHECK (source IN ('pmctl', 'broker')),
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_position_exits_order
    ON position_exits (position_id, order_id) WHERE order_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_position_exits_account_time ON position_exits (account_name, exit_time);

-- A plan an operator recorded with pmctl track for a position about to be
-- filled: it waits for the position until expires_at, then is applied once.
CREATE TABLE IF NOT EXISTS pending_plans (
    id SERIAL PRIMARY KEY,
    account_name VARCHAR(50) NOT NULL,
    symbol VARCHAR(50) NOT NULL,
    strategy_type VARCHAR(64),
    stop_loss NUMERIC(12, 4),
    take_profit NUMERIC(12, 4),
    trailing_stop_percent NUMERIC(8, 4),
    max_hold_minutes INTEGER,
    underlying_stop NUMERIC(12, 4),
    underlying_target NUMERIC(12, 4),
    actor VARCHAR(100),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    applied_to INTEGER REFERENCES active_positions(id)
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_pending_plans_waiting
    ON pending_plans (account_name, symbol) WHERE applied_to IS NULL;

-- Protection at the broker (issue 15): the counter a row's protective orders
-- are claimed under. Each order pmctl rests or replaces for the row takes the
-- next number in its client order id (pmctl-<account>-<row>-stop-<n>), committed
-- before the order is sent, so an order whose answer was lost is found again by
-- that id and no number is ever sent twice (the broker refuses a reused one).
-- The orders themselves are the row's stop_order_id and target_order_id.
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS protect_seq INTEGER NOT NULL DEFAULT 0;

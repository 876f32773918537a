-- Exit prices fit for options (issue 14).
--
-- The price a close fired on and where it came from (the bid, the mid, the last
-- trade): a limit close walks no further than the profile's slippage from it,
-- cycle after cycle, and a fill is measured against it.
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS close_trigger_price NUMERIC(12, 4);
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS close_trigger_source VARCHAR(20);
-- Where current_price came from in the row's last check (bid, ask, mid,
-- pessimistic_mid, last), and when that price was quoted or printed (NULL: the
-- broker gave no time, as for a position's last trade): status shows its age.
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS price_source VARCHAR(20);
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS price_at TIMESTAMPTZ;

-- Slippage per exit (issue 14).
--
-- The price that triggered each exit, beside the price it filled at: the
-- close's trigger (the bid, the mid or the last trade the rule fired on), or a
-- resting protective order's stop. NULL where nothing triggered it at a price
-- (an operator's close, a sale by hand, an expiry). `pmctl report` sums the
-- difference per exit reason.
ALTER TABLE position_exits ADD COLUMN IF NOT EXISTS trigger_price NUMERIC(12, 4);

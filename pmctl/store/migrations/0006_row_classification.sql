-- pmctl's own word on a row, in columns of its own. The original service's
-- database binds strategy_type to day_trade, swing_trade, conservative (or NULL)
-- and side to long, short, call, put: NOT VALID CHECKs, which skip the rows
-- already there but bind every row written from then on. So strategy_type keeps
-- the desk's values, and pmctl says what it knows here:
--
-- tracked_as: NULL for a row the desk's tools wrote; 'adopted' for a position
--   pmctl found at the broker with no row; 'unexpected_short' for a short stock
--   no trade opened (seed 02), tracked in quarantine and never closed by a rule.
-- plan_source: where the row's stop and target came from. NULL: the desk's tools
--   or an earlier pmctl wrote them, and they are explicit levels pmctl never
--   moves; 'policy': pmctl derived them from the PMCTL_*_PERCENT defaults, so
--   they are derived again when the entry price follows the broker's average;
--   'operator': set with pmctl edit. 'ledger' and 'broker' are reserved for
--   plans read from the desk's execution ledger and the broker's bracket orders.
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS tracked_as VARCHAR(20)
    CONSTRAINT chk_active_positions_tracked_as CHECK (tracked_as IN ('adopted', 'unexpected_short'));
ALTER TABLE active_positions ADD COLUMN IF NOT EXISTS plan_source VARCHAR(16)
    CONSTRAINT chk_active_positions_plan_source CHECK (plan_source IN ('ledger', 'broker', 'operator', 'policy'));

-- Rows earlier pmctl releases adopted or quarantined said so in strategy_type.
-- They keep it (no database holding such rows has the desk's CHECK) and gain
-- tracked_as; on the desk's database no row matches and none changes.
UPDATE active_positions SET tracked_as = strategy_type
WHERE strategy_type IN ('adopted', 'unexpected_short') AND tracked_as IS NULL;

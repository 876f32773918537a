-- Is anything watching the book? `monitored_at` is stamped, by the database's
-- clock, each time a monitoring cycle of an account runs to its end, cron's
-- `pmctl check` and `pmctl run` alike, and `monitored_by` says which and where
-- (`check@host`, `run@host`); `pmctl status` shows its age and warns when it
-- grows old. (`last_cycle_at`, from 0004, stays the stamp of `check
-- --once-per` rounds only, as the scale-out runbook says.) `watcher` and
-- `watcher_beat_at` are written every few seconds by the `pmctl run` that holds
-- the account, so a watcher that died is told from one that stopped cleanly
-- (which clears them).
ALTER TABLE broker_accounts ADD COLUMN IF NOT EXISTS monitored_at TIMESTAMPTZ;
ALTER TABLE broker_accounts ADD COLUMN IF NOT EXISTS monitored_by TEXT;
ALTER TABLE broker_accounts ADD COLUMN IF NOT EXISTS watcher TEXT;
ALTER TABLE broker_accounts ADD COLUMN IF NOT EXISTS watcher_beat_at TIMESTAMPTZ;

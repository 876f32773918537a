-- When each account was last cycled, by any machine: with several pmctl
-- processes running the same cron line (scale-out), `check --once-per` skips an
-- account another process cycled within the round. Times are the database's,
-- the one clock every machine shares.
ALTER TABLE broker_accounts ADD COLUMN IF NOT EXISTS last_cycle_at TIMESTAMPTZ;

-- Which broker account each configured account name is bound to. The first
-- account number the broker reports for a name is recorded here; a later,
-- different one is refused, and no two names may share one broker account.
-- Seed 05: the tiny account's manager ran with the large account's keys and
-- acted on the large account's positions for hours; this table makes that a
-- refusal at start-up instead.
CREATE TABLE IF NOT EXISTS broker_accounts (
    account_name VARCHAR(50) PRIMARY KEY,
    account_number VARCHAR(64) NOT NULL UNIQUE,
    bound_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

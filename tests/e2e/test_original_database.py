"""Every command on the original service's production database, upgraded in place, against the emulator.

The database is rebuilt from the original's own migrations (``tests/original_schema.sql``):
UUID execution ids with a foreign key, NOT VALID CHECKs on side and strategy_type that bind
every new row, an INTEGER original_quantity, the desk's own view and ledger.
"""

import json
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from helpers import LARGE, NOON, TINY, fetch_events, fetch_rows
from pmctl.sim.clock import Calendar, SimClock
from pmctl.sim.server import SimServer
from pmctl.sim.state import SimState

ORIGINAL_SCHEMA = (Path(__file__).parent.parent / "original_schema.sql").read_text()
GOOGL_CALL = "GOOGL260220C00340000"
AAPL_CALL = "AAPL260220C00230000"

HELD = {
    "large": {"SPY": ("20", "690.10", "692.40"), GOOGL_CALL: ("10", "5.20", "4.90"),
              "MSFT": ("5", "410.25", "412.00"), AAPL_CALL: ("2", "4.00", "4.10"), "ORCL": ("-12", "160.25", "158.00")},
    "tiny": {"AAPL": ("12", "230.50", "231.10"), "QCOM260220P00145000": ("2", "3.10", "3.30"),
             "NOW260220P00110000": ("1", "3.20", "3.20")},
}

# services/dispatcher/db/repositories.py records the trade, then services/position_manager/db.py
# create_active_position inserts its row (no account_name: the column's default, 'large').
DISPATCHER_EXECUTION = """
    INSERT INTO dispatch_executions (recommendation_id, dispatcher_run_id, ticker, action, decision_ts, entry_price,
        fill_model, slippage_bps, qty, notional, stop_loss_price, take_profit_price, max_hold_minutes,
        execution_mode, account_name, explain_json, risk_json, sim_json, instrument_type, strike_price,
        expiration_date, contracts, premium_paid, delta, theta, implied_volatility, option_symbol, strategy_type,
        features_snapshot)
    VALUES (%s, gen_random_uuid(), 'NVDA', 'BUY_STOCK', now(), 181.20, 'ALPACA_FILL', 0, 15, 2718.00, 177.58,
        186.64, 240, 'ALPACA_PAPER', 'large', '{}'::jsonb, '{}'::jsonb, '{}'::jsonb, 'STOCK', NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, NULL, 'day_trade', '{}'::jsonb)
    RETURNING execution_id
"""
CREATE_ACTIVE_POSITION = """
    INSERT INTO active_positions (
        execution_id, execution_uuid, ticker, instrument_type, strategy_type, side, quantity, entry_price, entry_time,
        strike_price, expiration_date, stop_loss, take_profit, max_hold_minutes, bracket_order_accepted,
        stop_order_id, target_order_id, current_price, status, option_symbol, entry_features_json, entry_iv_rank,
        entry_spread_pct, best_unrealized_pnl_pct, worst_unrealized_pnl_pct, best_unrealized_pnl_dollars,
        worst_unrealized_pnl_dollars, last_mark_price
    ) VALUES (%s, %s, 'NVDA', 'STOCK', 'day_trade', 'long', 15, 181.20, '2026-02-03 15:58:00', NULL, NULL,
        177.58, 186.64, 360, FALSE, NULL, NULL, 181.20, 'open', NULL, '{}'::jsonb, NULL, NULL, 0.0, 0.0, 0.0, 0.0,
        181.20)
    RETURNING id, account_name, symbol
"""
CREATE_POSITION_FROM_ALPACA = """
    INSERT INTO active_positions (
        ticker, instrument_type, strategy_type, side, quantity, entry_price, entry_time, strike_price,
        expiration_date, option_symbol, stop_loss, take_profit, max_hold_minutes, current_price, status,
        entry_features_json, entry_iv_rank, entry_spread_pct, best_unrealized_pnl_pct, worst_unrealized_pnl_pct,
        best_unrealized_pnl_dollars, worst_unrealized_pnl_dollars, last_mark_price, account_name
    ) VALUES ('AMD', 'CALL', 'swing_trade', 'call', 3, 2.15, NOW(), 120, '2026-02-20', 'AMD260220C00120000',
        NULL, NULL, 240, 2.20, 'open', '{}'::jsonb, NULL, NULL, 0.0, 0.0, 0.0, 0.0, 2.20, 'tiny')
    RETURNING id
"""


@pytest.fixture
def original(clean_env, database_url):
    with psycopg.connect(database_url) as conn:
        conn.execute(ORIGINAL_SCHEMA)
    state = SimState(SimClock(Calendar(), NOON, is_open=True, frozen=True))
    for name, (key, secret) in {"large": LARGE, "tiny": TINY}.items():
        state.add_account(name, key, secret, account_number=f"PA-{name.upper()}")
        for symbol, (qty, avg, price) in HELD[name].items():
            state.set_position(name, symbol, Decimal(qty), Decimal(avg))
            state.set_price(symbol, Decimal(price))
    with SimServer(state) as sim:
        yield state, sim


@pytest.fixture
def desk_on_original(pmctl, original):
    state, sim = original
    env = {"PMCTL_ACCOUNTS": "large,tiny", "PMCTL_STOP_LOSS_PERCENT": "20", "PMCTL_BROKER_TIMEOUT": "5"}
    for name, (key, secret) in {"large": LARGE, "tiny": TINY}.items():
        prefix = f"PMCTL_{name.upper()}_"
        env.update({prefix + "API_KEY": key, prefix + "SECRET_KEY": secret, prefix + "BASE_URL": sim.url,
                    prefix + "DATA_URL": sim.url})

    def run(*args: str):
        return pmctl(*args, env=env)

    return run


def by_symbol(database_url: str, where: str = "TRUE") -> dict[str, dict]:
    return {row["symbol"]: row for row in fetch_rows(database_url, where)}


def test_every_command_works_on_the_upgraded_original_database(desk_on_original, original, database_url):
    desk = desk_on_original
    state, _ = original
    migrated = desk("migrate")
    assert migrated.exit_code == 0, migrated.stderr

    assert desk("sync", "--dry-run").exit_code == 3
    checked = desk("check")
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert "CheckViolation" not in checked.stdout + checked.stderr
    large = by_symbol(database_url, "account_name = 'large' AND status = 'open'")
    assert (large["MSFT"]["strategy_type"], large["MSFT"]["tracked_as"], large["MSFT"]["stop_loss"]) == (
        "swing_trade", "adopted", Decimal("328.2000"))
    assert (large[AAPL_CALL]["instrument_type"], large[AAPL_CALL]["side"], large[AAPL_CALL]["tracked_as"]) == (
        "CALL", "long", "adopted")
    assert (large["ORCL"]["strategy_type"], large["ORCL"]["tracked_as"], large["ORCL"]["side"]) == (
        "swing_trade", "unexpected_short", "short")
    assert "ALERT critical unexpected_short" in checked.stdout
    assert "side_mismatch" not in checked.stdout
    assert (large[GOOGL_CALL]["side"], large[GOOGL_CALL]["current_price"]) == ("call", Decimal("4.9000"))
    assert [o for name in ("large", "tiny") for o in state.account(name).orders] == []

    synced = desk("sync")
    assert synced.exit_code == 0, synced.stderr
    assert desk("check", "--dry-run").exit_code == 0

    status = desk("status", "--format", "json")
    assert status.exit_code == 0, status.stderr
    lines = {(line["account"], line["symbol"]): line for line in json.loads(status.stdout)["positions"]}
    assert lines[("large", "ORCL")]["tracked_as"] == "unexpected_short"
    assert lines[("large", GOOGL_CALL)]["broker"] == "agrees"
    assert lines[("tiny", "QCOM260220P00145000")]["side"] == "put"

    edited = desk("edit", "41", "--account", "large", "--stop-loss", "680")
    assert edited.exit_code == 0, edited.stderr
    [spy] = fetch_rows(database_url, "id = 41")
    assert (spy["stop_loss"], spy["plan_source"]) == (Decimal("680.0000"), "operator")

    closed = desk("close", "43", "--account", "large", "--reason", "desk call", "--yes")
    assert closed.exit_code == 0, closed.stdout + closed.stderr
    [order] = state.account("large").orders
    assert (order.symbol, order.side, order.position_intent) == (GOOGL_CALL, "sell", "sell_to_close")
    [call] = fetch_rows(database_url, "id = 43")
    assert (call["status"], call["exit_price"], call["execution_id"]) == (
        "closed", Decimal("4.9000"), call["execution_uuid"])

    events = desk("events", "--account", "large", "--format", "json")
    assert events.exit_code == 0, events.stderr
    kinds = {event["kind"] for event in json.loads(events.stdout)["events"]}
    assert {"adopted", "unexpected_short", "edited", "exit_triggered", "closed", "synced_from_alpaca"} <= kinds

    report = desk("report", "--date", "2026-02-03", "--account", "large", "--format", "json")
    assert report.exit_code == 0, report.stderr
    assert json.loads(report.stdout)["realized_pnl"] == "-300.0000"

    reconciled = desk("reconcile", "--account", "tiny")
    assert reconciled.exit_code == 0, reconciled.stdout + reconciled.stderr
    [duplicate] = fetch_rows(database_url, "id = 47")
    assert (duplicate["status"], duplicate["close_reason"]) == ("closed", "duplicate")

    hand = state.close_by_hand("large", "SPY", price=Decimal("695"))
    cleaned = desk("cleanup-phantoms", "--account", "large")
    assert cleaned.exit_code == 0, cleaned.stdout + cleaned.stderr
    [phantom] = fetch_rows(database_url, "id = 41")
    assert (phantom["status"], phantom["exit_price"], phantom["close_order_id"]) == (
        "closed", Decimal("695.0000"), str(hand.id))

    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO dispatch_recommendations (id, ticker, action, status) "
                     "VALUES (510, 'NVDA', 'BUY', 'EXECUTED')")
        execution = conn.execute(DISPATCHER_EXECUTION, (510,)).fetchone()[0]
        row_id, account, symbol = conn.execute(CREATE_ACTIVE_POSITION, (execution, execution)).fetchone()
        synced_id = conn.execute(CREATE_POSITION_FROM_ALPACA).fetchone()[0]
    assert (account, symbol) == ("large", "NVDA")
    state.set_position("large", "NVDA", Decimal(15), Decimal("181.20"))
    state.set_price("NVDA", Decimal("182"))
    state.set_position("tiny", "AMD260220C00120000", Decimal(3), Decimal("2.15"))
    state.set_price("AMD260220C00120000", Decimal("2.20"))

    again = desk("check")
    assert again.exit_code == 0, again.stdout + again.stderr
    rows = {row["id"]: row for row in fetch_rows(database_url, f"id IN ({row_id}, {synced_id})")}
    assert rows[row_id]["current_price"] == Decimal("182.0000")
    assert rows[synced_id]["current_price"] == Decimal("2.2000")
    assert "side_mismatch" not in again.stdout
    assert not [e for e in fetch_events(database_url) if e["event_type"] == "side_mismatch"]

"""The desk's execution ledger gives each position the plan it was opened with (issue 13, "Where a plan comes from").

Against the original service's database (``tests/original_schema.sql``, its ``dispatch_executions``
with the dispatcher's own columns and CHECKs) and the emulator, through the CLI.
"""

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from helpers import LARGE, NOON, fetch_events, fetch_rows, quote
from pmctl import occ
from pmctl.sim.clock import Calendar, SimClock
from pmctl.sim.server import SimServer
from pmctl.sim.state import SimState

ORIGINAL_SCHEMA = (Path(__file__).parent.parent / "original_schema.sql").read_text()
CALL = "GOOGL260220C00340000"
PUT = "GOOGL260220P00330000"
FILLED = NOON - timedelta(minutes=20)


@pytest.fixture
def ledger_db(clean_env, database_url):
    """The original database with an empty book and an empty ledger: each test records the trades it needs."""
    with psycopg.connect(database_url) as conn:
        conn.execute(ORIGINAL_SCHEMA)
        conn.execute("DELETE FROM position_events; DELETE FROM position_history; DELETE FROM active_positions; "
                     "DELETE FROM dispatch_executions")
    return database_url


@pytest.fixture
def market():
    state = SimState(SimClock(Calendar(), NOON, is_open=True, frozen=True))
    state.add_account("large", *LARGE, account_number="PA-LARGE")
    state.set_price("GOOGL", Decimal("335.40"))
    with SimServer(state) as sim:
        yield state, sim


@pytest.fixture
def desk(pmctl, ledger_db, market):
    _, sim = market
    key, secret = LARGE
    env = {"PMCTL_ACCOUNTS": "large", "PMCTL_BROKER_TIMEOUT": "5", "PMCTL_LARGE_API_KEY": key,
           "PMCTL_LARGE_SECRET_KEY": secret, "PMCTL_LARGE_BASE_URL": sim.url, "PMCTL_LARGE_DATA_URL": sim.url}
    assert pmctl("migrate", env=env).exit_code == 0

    def run(*args: str, env_extra: dict | None = None):
        return pmctl(*args, env={**env, **(env_extra or {})})

    return run


def record(database_url: str, symbol: str, *, mode="ALPACA_PAPER", stop="676.30", target="710.80", hold=240,
           strategy="day_trade", at: datetime = FILLED, entry="690.10", qty=20, action=None) -> str:
    """A trade as the dispatcher records it (services/dispatcher/db/repositories.py): the recommendation, then the
    execution, its levels priced on the underlying for an option."""
    contract = occ.parse(symbol) if occ.is_option(symbol) else None
    option = contract is not None
    kind = contract.kind if contract else "STOCK"
    ticker = contract.root if contract else symbol
    with psycopg.connect(database_url) as conn:
        recommendation = conn.execute(
            "INSERT INTO dispatch_recommendations (ticker, action, status) VALUES (%s, 'BUY', 'EXECUTED') RETURNING id",
            (ticker,)).fetchone()[0]
        return str(conn.execute(
            "INSERT INTO dispatch_executions (recommendation_id, dispatcher_run_id, ticker, action, decision_ts, "
            "simulated_ts, entry_price, fill_model, qty, notional, stop_loss_price, take_profit_price, "
            "max_hold_minutes, execution_mode, explain_json, risk_json, sim_json, instrument_type, strike_price, "
            "expiration_date, option_symbol, strategy_type, account_name) "
            "VALUES (%s, gen_random_uuid(), %s, %s, %s, %s, %s, 'ALPACA_FILL', %s, %s, %s, %s, %s, %s, '{}', '{}', "
            "'{}', %s, %s, %s, %s, %s, 'large') RETURNING execution_id",
            (recommendation, ticker, action or f"BUY_{kind}", at, at, Decimal(entry), qty, Decimal(entry) * qty,
             Decimal(stop) if stop else None, Decimal(target) if target else None, hold, mode, kind,
             contract.strike if option else None, contract.expiration if option else None,
             symbol if option else None, strategy)).fetchone()[0])


def rows_of(database_url: str, symbol: str) -> list[dict]:
    return fetch_rows(database_url, f"symbol = '{symbol}'")


def events_of(database_url: str, kind: str) -> list[dict]:
    return [event for event in fetch_events(database_url) if event["event_type"] == kind]


PLAN = ("strategy_type", "stop_loss", "take_profit", "max_hold_minutes", "plan_source", "tracked_as", "entry_time",
        "underlying_stop", "underlying_target", "status")


@pytest.mark.parametrize("lands", ["before", "after"])
def test_a_paper_trade_becomes_exactly_one_row_with_its_plan_whether_it_lands_before_or_after_cron_adopts_it(
        desk, market, ledger_db, lands):
    state, _ = market
    state.set_position("large", "SPY", Decimal(20), Decimal("690.10"))
    state.set_price("SPY", Decimal("691"))
    policy = {"PMCTL_STOP_LOSS_PERCENT": "20"}
    if lands == "after":
        adopted = desk("check", env_extra=policy)
        assert adopted.exit_code == 0, adopted.stdout + adopted.stderr
        [row] = rows_of(ledger_db, "SPY")
        assert (row["plan_source"], row["strategy_type"], row["stop_loss"]) == ("policy", "swing_trade",
                                                                                Decimal("552.0800"))
    execution = record(ledger_db, "SPY")

    checked = desk("check", env_extra=policy)

    assert checked.exit_code == 0, checked.stdout + checked.stderr
    [row] = rows_of(ledger_db, "SPY")
    assert str(row["execution_uuid"]) == execution
    assert {name: row[name] for name in PLAN} == {
        "strategy_type": "day_trade", "stop_loss": Decimal("676.3000"), "take_profit": Decimal("710.8000"),
        "max_hold_minutes": 240, "plan_source": "ledger", "tracked_as": "adopted",
        "entry_time": FILLED.replace(tzinfo=None), "underlying_stop": None, "underlying_target": None,
        "status": "open"}
    if lands == "after":
        [taken] = events_of(ledger_db, "plan_taken")
        assert taken["position_id"] == row["id"]
        assert taken["event_data"]["changed"]["stop_loss"] == {"old": "552.0800", "new": "676.3000"}
        assert taken["event_data"]["changed"]["strategy_type"] == {"old": "swing_trade", "new": "day_trade"}
        assert f"give row {row['id']} SPY its trade's plan: day_trade, stop 676.3" in checked.stdout
    else:
        [adopted] = events_of(ledger_db, "adopted")
        assert adopted["event_data"]["execution_id"] == execution
    again = desk("check", env_extra=policy)
    assert again.exit_code == 0
    assert len(rows_of(ledger_db, "SPY")) == 1
    assert len(events_of(ledger_db, "plan_taken")) == (1 if lands == "after" else 0)
    assert desk("sync", "--dry-run").exit_code == 0


def test_simulated_executions_are_never_read(desk, market, ledger_db):
    state, _ = market
    state.set_position("large", "MSFT", Decimal(5), Decimal("410.25"))
    state.set_price("MSFT", Decimal("412"))
    record(ledger_db, "MSFT", mode="SIMULATED", stop="402", target="422.50")
    record(ledger_db, "MSFT", mode="SIMULATED_FALLBACK", stop="402", target="422.50")

    assert desk("check", env_extra={"PMCTL_STOP_LOSS_PERCENT": "20"}).exit_code == 0

    [row] = rows_of(ledger_db, "MSFT")
    assert (row["plan_source"], row["strategy_type"], row["stop_loss"], row["execution_uuid"]) == (
        "policy", "swing_trade", Decimal("328.2000"), None)


def test_the_newest_of_several_trades_wins_and_the_older_ones_are_noted_once(desk, market, ledger_db):
    state, _ = market
    state.set_position("large", "SPY", Decimal(20), Decimal("690.10"))
    state.set_price("SPY", Decimal("691"))
    older = record(ledger_db, "SPY", stop="670", at=FILLED - timedelta(hours=3))
    newer = record(ledger_db, "SPY", stop="680")

    assert desk("check").exit_code == 0

    [row] = rows_of(ledger_db, "SPY")
    assert (str(row["execution_uuid"]), row["stop_loss"]) == (newer, Decimal("680.0000"))
    [adopted] = events_of(ledger_db, "adopted")
    assert any(older[:8] in note for note in adopted["event_data"]["notes"])
    assert desk("check").exit_code == 0
    assert desk("sync", "--dry-run").exit_code == 0
    assert [e["event_type"] for e in fetch_events(ledger_db)] == ["adopted"]


def test_an_option_trades_levels_land_on_the_underlying_and_the_premium_is_untouched(desk, market, ledger_db):
    state, _ = market
    state.set_position("large", CALL, Decimal(10), Decimal("5.20"))
    state.set_price(CALL, Decimal("5.00"))
    execution = record(ledger_db, CALL, stop="330", target="352", hold=360, strategy="swing_trade", entry="5.20",
                       qty=10)

    checked = desk("check")

    assert checked.exit_code == 0, checked.stdout + checked.stderr
    [row] = rows_of(ledger_db, CALL)
    assert str(row["execution_uuid"]) == execution
    assert (row["underlying_stop"], row["underlying_target"]) == (Decimal("330.0000"), Decimal("352.0000"))
    assert (row["stop_loss"], row["take_profit"], row["entry_price"]) == (None, None, Decimal("5.2000"))
    assert (row["instrument_type"], row["ticker"], row["max_hold_minutes"]) == ("CALL", "GOOGL", 360)
    assert state.account("large").orders == []


def option_held_with_its_trade(desk, market, ledger_db, symbol: str, stop: str, target: str) -> None:
    state, _ = market
    state.set_position("large", symbol, Decimal(10), Decimal("5.20"))
    quote(state, symbol, "5.40")
    record(ledger_db, symbol, stop=stop, target=target, strategy="swing_trade", entry="5.20", qty=10)
    assert desk("check").exit_code == 0
    assert state.account("large").orders == []


@pytest.mark.parametrize("symbol, stop, target, underlying", [(CALL, "330", "352", "335.40"),
                                                              (PUT, "345", "320", "340")])
def test_an_underlying_level_is_never_compared_with_the_premium(desk, market, ledger_db, symbol, stop, target,
                                                                 underlying):
    """A premium of 4.00 is "below" a call's underlying stop of 330 and "below" a put's target of 320: compared
    with it, the call would be stopped out and the put taken profit on, at once and wrongly."""
    state, _ = market
    option_held_with_its_trade(desk, market, ledger_db, symbol, stop, target)
    state.set_price("GOOGL", Decimal(underlying))
    quote(state, symbol, "4.00")

    assert desk("check").exit_code == 0

    assert state.account("large").orders == []
    [row] = rows_of(ledger_db, symbol)
    assert (row["status"], row["current_price"]) == ("open", Decimal("4.0000"))


@pytest.mark.parametrize("symbol, stop, target, through", [(CALL, "330", "352", "329.50"),
                                                           (PUT, "345", "320", "345.50")])
def test_an_underlying_stop_fires_on_the_underlyings_price_for_a_call_and_a_put(desk, market, ledger_db, symbol, stop,
                                                                               target, through):
    state, _ = market
    option_held_with_its_trade(desk, market, ledger_db, symbol, stop, target)
    state.set_price("GOOGL", Decimal(through))

    assert desk("check").exit_code == 0

    [order] = state.account("large").orders
    assert (order.symbol, order.side, order.position_intent) == (symbol, "sell", "sell_to_close")
    [row] = rows_of(ledger_db, symbol)
    assert "stop" in row["close_reason"]


def test_a_day_trade_from_the_ledger_is_closed_before_the_bell(desk, market, ledger_db):
    state, _ = market
    state.set_position("large", "SPY", Decimal(20), Decimal("690.10"))
    state.set_price("SPY", Decimal("691"))
    assert desk("check").exit_code == 0
    assert rows_of(ledger_db, "SPY")[0]["strategy_type"] == "swing_trade"
    record(ledger_db, "SPY", hold=600)
    close = NOON.replace(hour=21)
    state.set_clock(timestamp=close - timedelta(minutes=6), next_close=close, frozen=True)
    assert desk("check").exit_code == 0
    assert state.account("large").orders == []

    state.set_clock(timestamp=close - timedelta(minutes=5), next_close=close, frozen=True)
    assert desk("check").exit_code == 0

    [order] = state.account("large").orders
    assert (order.symbol, order.side, order.qty) == ("SPY", "sell", Decimal(20))
    assert rows_of(ledger_db, "SPY")[0]["close_reason"] == "day_trade_close"


def test_a_steady_cycle_asks_no_market_data_and_underlying_levels_cost_one_request_for_all(desk, market, ledger_db):
    state, _ = market
    state.set_position("large", "SPY", Decimal(20), Decimal("690.10"))
    state.set_price("SPY", Decimal("691"))
    assert desk("check").exit_code == 0
    state.reset_requests()
    assert desk("check").exit_code == 0
    assert [(r.method, r.path) for r in state.requests] == [
        ("GET", "/v2/account"), ("GET", "/v2/clock"), ("GET", "/v2/positions"), ("GET", "/v2/orders")]

    state.set_price("META", Decimal("700"))
    for symbol, root in ((CALL, "GOOGL"), ("META260220P00650000", "META")):
        state.set_position("large", symbol, Decimal(2), Decimal("5.20"))
        state.set_price(symbol, Decimal("5.40"))
        record(ledger_db, symbol, stop="300" if root == "GOOGL" else "720", target="360" if root == "GOOGL" else "640",
               strategy="swing_trade", entry="5.20", qty=2)
    assert desk("check").exit_code == 0
    state.reset_requests()

    assert desk("check", env_extra={"PMCTL_LARGE_STOCK_FEED": "sip"}).exit_code == 0

    data = [r for r in state.requests if r.path.startswith("/v2/stocks")]
    assert [(r.path, r.feed) for r in data] == [("/v2/stocks/trades/latest", "sip")]
    quoted = [r for r in state.requests if r.path.startswith("/v1beta1/options")]
    assert [r.path for r in quoted] == ["/v1beta1/options/quotes/latest"]
    assert len(state.requests) == 6


def test_a_market_data_failure_fails_the_cycle_like_any_broker_read(desk, market, ledger_db):
    state, _ = market
    state.set_position("large", CALL, Decimal(10), Decimal("5.20"))
    state.set_price(CALL, Decimal("5.00"))
    record(ledger_db, CALL, stop="330", target="352", strategy="swing_trade", entry="5.20", qty=10)
    state.inject_fault("/v2/stocks/trades/latest", "error", count=10, status=500)

    failed = desk("check")

    assert failed.exit_code == 1
    assert "while trying to read the last trade of GOOGL" in failed.stderr
    assert rows_of(ledger_db, CALL) == []


VIEW = """
    CREATE TABLE desk_fills (
        fill_uuid UUID PRIMARY KEY, book TEXT, mode TEXT, root TEXT, contract TEXT, kind TEXT, side_text TEXT,
        filled_at TIMESTAMPTZ, px NUMERIC, size NUMERIC, stop_px DOUBLE PRECISION, target_px DOUBLE PRECISION,
        hold_min INTEGER, style TEXT);
    CREATE VIEW pmctl_executions AS SELECT fill_uuid AS execution_id, book AS account_name, mode AS execution_mode,
        root AS ticker, side_text AS action, kind AS instrument_type, contract AS option_symbol, style AS strategy_type,
        filled_at AS simulated_ts, px AS entry_price, size AS qty, stop_px AS stop_loss_price,
        target_px AS take_profit_price, hold_min AS max_hold_minutes FROM desk_fills;
    CREATE VIEW lacking AS SELECT fill_uuid AS execution_id, book AS account_name, mode AS execution_mode,
        root AS ticker FROM desk_fills;
"""


def test_a_view_named_by_the_setting_is_the_ledger(pmctl, desk_env, database_url, state):
    assert pmctl("migrate").exit_code == 0
    with psycopg.connect(database_url) as conn:
        conn.execute(VIEW)
        conn.execute("INSERT INTO desk_fills VALUES (gen_random_uuid(), 'a', 'LIVE', 'NVDA', NULL, 'STOCK', 'BUY', "
                     "%s, 181.2, 15, 177.58, 186.64, 90, 'momentum')", (FILLED,))
    state.set_position("a", "NVDA", Decimal(15), Decimal("181.20"))
    state.set_price("NVDA", Decimal("182"))

    checked = pmctl("check", "-a", "a", env={**desk_env, "PMCTL_EXECUTIONS_SOURCE": "pmctl_executions"})

    assert checked.exit_code == 0, checked.stdout + checked.stderr
    [row] = fetch_rows(database_url, "symbol = 'NVDA'")
    assert (row["stop_loss"], row["take_profit"], row["max_hold_minutes"], row["plan_source"]) == (
        Decimal("177.5800"), Decimal("186.6400"), 90, "ledger")
    assert row["strategy_type"] == "swing_trade"
    [adopted] = [e for e in fetch_events(database_url) if e["event_type"] == "adopted"]
    assert any("'momentum'" in note for note in adopted["event_data"]["notes"])


@pytest.mark.parametrize("source, message", [
    ("lacking", "pmctl: error: PMCTL_EXECUTIONS_SOURCE=lacking: lacking has no column action, instrument_type, "
                "option_symbol, strategy_type, simulated_ts, entry_price, qty, stop_loss_price, take_profit_price, "
                "max_hold_minutes, which the execution ledger needs\n"),
    ("nowhere", "pmctl: error: PMCTL_EXECUTIONS_SOURCE=nowhere: no such table or view in the database\n"),
    ("Bad-Name", "pmctl: error: PMCTL_EXECUTIONS_SOURCE='Bad-Name' is not a table or view name (lower case, "
                 "optionally schema.name)\n"),
])
def test_a_bad_executions_source_is_exit_2_naming_it_and_nothing_is_touched(pmctl, desk_env, database_url, state,
                                                                            source, message):
    assert pmctl("migrate").exit_code == 0
    with psycopg.connect(database_url) as conn:
        conn.execute(VIEW)
    state.set_position("a", "NVDA", Decimal(15), Decimal("181.20"))
    state.reset_requests()

    result = pmctl("check", env={**desk_env, "PMCTL_EXECUTIONS_SOURCE": source})

    assert (result.exit_code, result.stderr) == (2, message)
    assert fetch_rows(database_url) == []
    assert state.requests == []


def test_an_older_dispatchers_table_without_the_columns_is_no_ledger(pmctl, desk_env, database_url, state):
    assert pmctl("migrate").exit_code == 0
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE dispatch_executions (id SERIAL PRIMARY KEY, ticker TEXT)")
    state.set_position("a", "NVDA", Decimal(15), Decimal("181.20"))

    checked = pmctl("-v", "check", "-a", "a", env=desk_env)

    assert checked.exit_code == 0, checked.stderr
    assert "no execution ledger read: dispatch_executions has no column execution_id" in checked.stderr
    assert fetch_rows(database_url)[0]["plan_source"] == "policy"
    assert json.loads(pmctl("status", "--format", "json", env=desk_env).stdout)["positions"]


def test_reconcile_names_a_trade_found_for_a_tracked_row_and_gives_the_row_its_plan(desk, market, ledger_db):
    state, _ = market
    state.set_position("large", "SPY", Decimal(20), Decimal("690.10"))
    state.set_price("SPY", Decimal("691"))
    assert desk("sync").exit_code == 0
    [row] = rows_of(ledger_db, "SPY")
    record(ledger_db, "SPY")

    planned = desk("reconcile", "--dry-run")

    assert planned.exit_code == 3, planned.stdout + planned.stderr
    assert f"plan_taken: would give row {row['id']} SPY its trade's plan: day_trade" in planned.stdout
    assert desk("reconcile").exit_code == 0
    [after] = rows_of(ledger_db, "SPY")
    assert (after["id"], after["plan_source"], after["stop_loss"]) == (row["id"], "ledger", Decimal("676.3000"))
    assert desk("reconcile", "--dry-run").exit_code == 0

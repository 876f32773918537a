"""The example policy file (the original service's production rules) decides every exit, end to end.

Each rule of ``deploy/pmctl.toml.example`` fires through ``pmctl check`` against the emulator: the option stop
and target as percents of the premium, the minimum hold and its catastrophic override, the expiry steps with
their "unless up" clauses, the two-step scale-out ladder, the stock percents and the adopted profile's hold.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from helpers import NOON, fetch_rows, insert_row, quote_mid

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "pmctl.toml.example"
CALL = "GOOGL260220C00340000"
FRIDAY_CALL = "GOOGL260206C00340000"
POLICY = {"PMCTL_POLICY_FILE": str(EXAMPLE)}


@pytest.fixture
def check(desk):
    def run(*args: str):
        result = desk("check", "--account", "a", *args, env=POLICY)
        assert result.exit_code == 0, result.stdout + result.stderr
        return result

    return run


def option_row(database_url, state, symbol=CALL, qty=10, entry="4.00", held_minutes=60, **fields) -> int:
    state.set_position("a", symbol, Decimal(qty), Decimal(entry))
    return insert_row(database_url, ticker="GOOGL", option_symbol=symbol, instrument_type="CALL", quantity=qty,
                      entry_price=Decimal(entry), entry_time=NOON - timedelta(minutes=held_minutes),
                      strike_price=340, expiration_date=f"20{symbol[5:7]}-{symbol[7:9]}-{symbol[9:11]}", **fields)


def sells(state, symbol):
    return [order.qty for order in state.account("a").orders if order.symbol == symbol and order.side == "sell"]


def test_the_option_stop_is_60_percent_of_the_premium_and_names_its_profile(check, state, database_url):
    row = option_row(database_url, state)
    quote_mid(state, CALL, "1.61")
    assert sells(state, CALL) == [] and check() and sells(state, CALL) == []
    quote_mid(state, CALL, "1.60")
    result = check()
    assert sells(state, CALL) == [Decimal(10)]
    assert ("price 1.60 at or below stop 1.60: -60% of premium from the policy's defaults for options"
            in result.stdout)
    assert fetch_rows(database_url, f"id = {row}")[0]["close_reason"] == "stop_loss"


def test_inside_the_minimum_hold_a_target_waits_and_a_catastrophic_loss_lifts_the_hold(check, state, database_url):
    gain = option_row(database_url, state, held_minutes=10)
    quote_mid(state, CALL, "7.40")
    check()
    assert sells(state, CALL) == []
    assert fetch_rows(database_url, f"id = {gain}")[0]["status"] == "open"
    state.set_clock(timestamp=NOON + timedelta(minutes=21))
    quote_mid(state, CALL, "7.40")
    check()
    assert sells(state, CALL) == [Decimal(10)]
    assert fetch_rows(database_url, f"id = {gain}")[0]["close_reason"] == "take_profit"

    loss = option_row(database_url, state, symbol=FRIDAY_CALL.replace("206", "227"), held_minutes=5)
    symbol = FRIDAY_CALL.replace("206", "227")
    quote_mid(state, symbol, "1.50")
    check()
    assert sells(state, symbol) == [Decimal(10)]
    assert fetch_rows(database_url, f"id = {loss}")[0]["close_reason"] == "stop_loss"


def test_a_two_step_scale_out_sells_half_then_a_quarter_and_lets_the_rest_ride(check, state, database_url):
    row = option_row(database_url, state)
    quote_mid(state, CALL, "6.00")
    first = check()
    assert sells(state, CALL) == [Decimal(5)]
    assert "for scale_out" in first.stdout and "step 1 of the ladder sells 50% (5)" in first.stdout
    check()
    [after_first] = fetch_rows(database_url, f"id = {row}")
    assert (after_first["status"], after_first["quantity"], after_first["scale_out_done"]) == ("open", 5, 1)
    quote_mid(state, CALL, "6.50")
    check()
    assert sells(state, CALL) == [Decimal(5)]
    quote_mid(state, CALL, "7.00")
    check()
    check()
    assert sells(state, CALL) == [Decimal(5), Decimal(2)]
    [after_second] = fetch_rows(database_url, f"id = {row}")
    assert (after_second["status"], after_second["quantity"], after_second["scale_out_done"]) == ("open", 3, 2)
    quote_mid(state, CALL, "7.10")
    check()
    assert sells(state, CALL) == [Decimal(5), Decimal(2)]
    assert {p.symbol: p.qty for p in state.list_positions("a")} == {CALL: Decimal(3)}


def test_expiry_closes_a_day_out_unless_up_ten_percent_and_two_days_out_when_losing(check, state, database_url):
    tomorrow = "GOOGL260204C00340000"
    winner = option_row(database_url, state, symbol=tomorrow, entry="4.00")
    quote_mid(state, tomorrow, "4.50")
    check()
    assert fetch_rows(database_url, f"id = {winner}")[0]["status"] == "open"
    quote_mid(state, tomorrow, "4.20")
    result = check()
    assert fetch_rows(database_url, f"id = {winner}")[0]["close_reason"] == "expiration_risk"
    assert "below the 10% that would keep it" in result.stdout

    two_days = "GOOGL260205C00340000"
    loser = option_row(database_url, state, symbol=two_days, entry="4.00")
    quote_mid(state, two_days, "4.10")
    check()
    assert fetch_rows(database_url, f"id = {loser}")[0]["status"] == "open"
    quote_mid(state, two_days, "3.90")
    check()
    assert fetch_rows(database_url, f"id = {loser}")[0]["close_reason"] == "expiration_risk"


def test_stocks_close_at_minus_2_and_plus_3_percent(check, state, database_url):
    state.set_position("a", "SPY", Decimal(10), Decimal(100))
    row = insert_row(database_url, ticker="SPY", quantity=10, entry_price=Decimal(100))
    quote_mid(state, "SPY", "102.99", "0.01")
    check()
    assert fetch_rows(database_url, f"id = {row}")[0]["status"] == "open"
    quote_mid(state, "SPY", "103", "0.01")
    check()
    assert fetch_rows(database_url, f"id = {row}")[0]["close_reason"] == "take_profit"


def test_an_adopted_position_is_held_240_minutes_a_ledger_trade_360(check, state, database_url):
    state.set_position("a", "NVDA", Decimal(10), Decimal(100))
    state.set_price("NVDA", Decimal(100))
    check()
    [adopted] = fetch_rows(database_url, "symbol = 'NVDA'")
    assert (adopted["tracked_as"], adopted["plan_source"]) == ("adopted", "policy")
    state.set_clock(timestamp=NOON + timedelta(minutes=239))
    check()
    assert fetch_rows(database_url, f"id = {adopted['id']}")[0]["status"] == "open"
    state.set_clock(timestamp=NOON + timedelta(minutes=240))
    result = check()
    assert fetch_rows(database_url, f"id = {adopted['id']}")[0]["close_reason"] == "max_hold_time"
    assert "limit 240: profile adopted" in result.stdout

    state.set_position("a", "AMD", Decimal(10), Decimal(100))
    state.set_price("AMD", Decimal(100))
    desk_row = insert_row(database_url, ticker="AMD", quantity=10, entry_price=Decimal(100),
                          entry_time=NOON + timedelta(minutes=240 - 300))
    check()
    assert fetch_rows(database_url, f"id = {desk_row}")[0]["status"] == "open"

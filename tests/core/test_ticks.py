"""Valid limit prices: the penny program for options, sub-penny rules for stocks, rounding on the marketable side."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmctl.core import ticks
from pmctl.core.policy import Market, Policy
from pmctl.sim.ticks import TickRules, price_problem

MARKET = Policy.parse({"market": {"penny_symbols": ["AMD"], "non_penny_symbols": ["XYZ"]}}).market
GOOGL = "GOOGL260220C00340000"
SPY = "SPY260220P00600000"
AMD = "AMD260220C00150000"
XYZ = "XYZ260220C00020000"
OPTIONS = (GOOGL, SPY, AMD, XYZ)


@pytest.mark.parametrize(("symbol", "price", "tick"), [
    (GOOGL, "2.99", "0.01"), (GOOGL, "3.00", "0.05"), (GOOGL, "12.40", "0.05"),
    (SPY, "2.99", "0.01"), (SPY, "45.10", "0.01"),
    (AMD, "7.31", "0.01"),
    (XYZ, "2.95", "0.05"), (XYZ, "3.00", "0.10"),
    ("GOOGL", "0.9999", "0.0001"), ("GOOGL", "1.00", "0.01"), ("GOOGL", "335.40", "0.01"),
])
def test_each_class_ticks_as_the_penny_program_and_the_sub_penny_rule_say(symbol, price, tick):
    assert ticks.tick(symbol, Decimal(price), MARKET) == Decimal(tick)


def test_spy_qqq_and_iwm_quote_in_pennies_with_no_market_table_at_all():
    market = Market()
    assert ticks.tick("QQQ260220C00500000", Decimal("8.37"), market) == Decimal("0.01")
    assert ticks.tick("IWM260220C00200000", Decimal("8.37"), market) == Decimal("0.01")
    assert ticks.tick(GOOGL, Decimal("8.37"), market) == Decimal("0.05")


@pytest.mark.parametrize(("symbol", "side", "price", "rounded"), [
    (GOOGL, "sell", "3.52", "3.50"), (GOOGL, "buy", "3.52", "3.55"),
    (GOOGL, "sell", "3.04", "3.00"), (GOOGL, "buy", "2.991", "3.00"),
    (GOOGL, "sell", "1.859", "1.85"), (GOOGL, "buy", "1.851", "1.86"),
    (XYZ, "sell", "3.19", "3.10"), (XYZ, "buy", "2.91", "2.95"),
    (SPY, "buy", "45.101", "45.11"),
    (GOOGL, "sell", "0.004", "0.01"),
    ("GOOGL", "sell", "0.99995", "0.9999"), ("GOOGL", "buy", "0.99995", "1.00"), ("GOOGL", "sell", "290.123", "290.12"),
])
def test_a_sell_limit_rounds_down_and_a_buy_limit_up_never_to_nothing(symbol, side, price, rounded):
    result = ticks.round_limit(symbol, side, Decimal(price), MARKET)
    assert result == Decimal(rounded)
    assert str(result) == rounded


@pytest.mark.parametrize(("symbol", "price", "up", "down"), [
    (GOOGL, "3.00", "3.05", "2.99"), (GOOGL, "2.99", "3.00", "2.98"), (XYZ, "3.00", "3.10", "2.95"),
    (SPY, "3.00", "3.01", "2.99"), ("GOOGL", "1.00", "1.01", "0.9999"), (GOOGL, "0.01", "0.02", "0.01"),
])
def test_one_tick_is_the_next_valid_price_on_that_side(symbol, price, up, down):
    assert ticks.moved(symbol, Decimal(price), 1, True, MARKET) == Decimal(up)
    assert ticks.moved(symbol, Decimal(price), 1, False, MARKET) == Decimal(down)


def test_a_side_that_is_not_sell_or_buy_is_a_bug_not_a_price():
    with pytest.raises(ValueError):
        ticks.round_limit(GOOGL, "sell_to_close", Decimal("1.00"), MARKET)


prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("999.9999"), places=4)


@settings(max_examples=400, deadline=None)
@given(symbol=st.sampled_from(OPTIONS + ("GOOGL",)), side=st.sampled_from(("sell", "buy")), price=prices)
def test_every_rounded_limit_is_one_the_emulator_accepts_and_on_the_marketable_side(symbol, side, price):
    """The emulator refuses prices as Alpaca does; a limit pmctl rounds is never one it refuses."""
    rules = TickRules(penny_all_prices=MARKET.penny_symbols, outside_program=MARKET.non_penny_symbols)
    rounded = ticks.round_limit(symbol, side, price, MARKET)
    assert price_problem(rules, symbol, "limit_price", rounded) is None
    assert ticks.on_tick(symbol, rounded, MARKET)
    floor = ticks.smallest(symbol, MARKET)
    if side == "sell":
        assert rounded <= max(price, floor) and price - rounded < ticks.tick(symbol, price, MARKET)
    else:
        assert price <= rounded and rounded - price < ticks.tick(symbol, rounded, MARKET)
    if symbol in OPTIONS:
        assert rounded.as_tuple().exponent >= -2


@settings(max_examples=300, deadline=None)
@given(symbol=st.sampled_from(OPTIONS + ("GOOGL",)), price=prices, count=st.integers(0, 20))
def test_moving_up_then_down_by_the_same_ticks_comes_back(symbol, price, count):
    start = ticks.round_limit(symbol, "buy", price, MARKET)
    up = ticks.moved(symbol, start, count, True, MARKET)
    assert ticks.on_tick(symbol, up, MARKET)
    assert ticks.moved(symbol, up, count, False, MARKET) == start

"""Limit and stop prices the broker refuses: option ticks (penny program) and sub-penny stock prices."""

from decimal import Decimal

import pytest
import requests
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, StopOrderRequest

from helpers import refused

GOOGL_CALL = "GOOGL260220C00340000"
SPY_PUT = "SPY260220P00600000"
XYZ_CALL = "XYZ260220C00050000"


def sell_limit(symbol, price, qty=1, tif=TimeInForce.DAY):
    return {"symbol": symbol, "qty": str(qty), "side": "sell", "type": "limit",
            "time_in_force": tif.value, "limit_price": price}


@pytest.fixture
def held(state):
    for symbol in (GOOGL_CALL, SPY_PUT, XYZ_CALL):
        state.set_position("a", symbol, Decimal(5), Decimal("4"))
    state.set_position("a", "AMD", Decimal(100), Decimal("150"))
    state.set_position("a", "PENNY", Decimal(1000), Decimal("0.5"))


@pytest.mark.parametrize(("symbol", "price"), [
    (GOOGL_CALL, "2.99"), (GOOGL_CALL, "3.05"), (SPY_PUT, "3.52"), (SPY_PUT, "17.01"),
])
def test_option_limits_on_the_penny_program_tick_are_accepted(trading, held, symbol, price):
    order = trading.post("/orders", sell_limit(symbol, price))
    assert order["limit_price"] == price and order["status"] in ("new", "filled")


@pytest.mark.parametrize(("symbol", "price", "tick"), [
    (GOOGL_CALL, "3.52", "0.05"), (GOOGL_CALL, "3.01", "0.05"),
])
def test_option_limits_off_the_tick_are_refused(trading, held, symbol, price, tick):
    err = refused(lambda: trading.post("/orders", sell_limit(symbol, price)))
    assert (err.status_code, err.code) == (422, 42210000)
    assert err.message == f"invalid limit_price {price}. GOOGL options at this price trade in increments of {tick}"


def test_option_limits_with_more_than_two_decimals_are_refused(trading, held):
    err = refused(lambda: trading.post("/orders", sell_limit(SPY_PUT, "1.155")))
    assert (err.status_code, err.code) == (422, 42210000)
    assert err.message == "limit price must be limited to 2 decimal places"
    assert trading.get_orders() == []


def test_classes_outside_the_program_tick_in_nickels_and_dimes(sim, trading, held):
    ticks = requests.post(f"{sim.url}/_sim/ticks", json={"outside_program": ["XYZ"]}).json()
    assert ticks == {"penny_all_prices": ["IWM", "QQQ", "SPY"], "outside_program": ["XYZ"]}
    assert "0.05" in refused(lambda: trading.post("/orders", sell_limit(XYZ_CALL, "0.07"))).message
    assert "0.10" in refused(lambda: trading.post("/orders", sell_limit(XYZ_CALL, "3.15"))).message
    for price in ("0.05", "2.95", "3.10"):
        assert trading.post("/orders", sell_limit(XYZ_CALL, price))["status"] == "new"


def test_stocks_refuse_sub_penny_prices_from_a_dollar_up(trading, held):
    err = refused(lambda: trading.post("/orders", sell_limit("AMD", "150.123", tif=TimeInForce.GTC)))
    assert (err.status_code, err.code) == (422, 42210000)
    assert err.message == "invalid limit_price 150.123. sub-penny increment does not fulfill minimum pricing criteria"
    stop = refused(lambda: trading.submit_order(StopOrderRequest(
        symbol="AMD", qty=10, side=OrderSide.SELL, time_in_force=TimeInForce.GTC, stop_price=140.005)))
    assert stop.message == "invalid stop_price 140.005. sub-penny increment does not fulfill minimum pricing criteria"
    below = trading.submit_order(LimitOrderRequest(symbol="PENNY", qty=10, side=OrderSide.SELL,
                                                   time_in_force=TimeInForce.GTC, limit_price=0.5123))
    assert below.status == OrderStatus.NEW and below.limit_price == "0.5123"
    assert "sub-penny" in refused(lambda: trading.post("/orders", sell_limit(
        "PENNY", "0.51235", tif=TimeInForce.GTC))).message


def test_a_limit_of_zero_is_refused(trading, held):
    err = refused(lambda: trading.post("/orders", sell_limit(GOOGL_CALL, "0")))
    assert (err.status_code, err.code, err.message) == (422, 40010001, "limit price must be > 0")

"""Bracket orders: an entry and the two exits that protect it, as Alpaca documents them (stocks only)."""

from decimal import Decimal

import pytest
from alpaca.trading.enums import OrderClass, OrderSide, OrderStatus, OrderType, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import (
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    StopLossRequest,
    StopOrderRequest,
    TakeProfitRequest,
)

from helpers import refused

OPTION = "GOOGL260220C00340000"


def bracket(symbol="GOOGL", qty=10, target=350, stop=320, stop_limit=None, side=OrderSide.BUY, **kw):
    kind = LimitOrderRequest if "limit_price" in kw else MarketOrderRequest
    return kind(symbol=symbol, qty=qty, side=side, time_in_force=kw.pop("time_in_force", TimeInForce.GTC),
                order_class=OrderClass.BRACKET, take_profit=TakeProfitRequest(limit_price=target),
                stop_loss=StopLossRequest(stop_price=stop, limit_price=stop_limit), **kw)


def open_orders(trading):
    return trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, nested=False))


def test_a_filled_entry_sets_its_take_profit_working_and_its_stop_held_and_they_hold_the_position_once(trading, state):
    entry = trading.submit_order(bracket())

    assert (entry.status, entry.order_class, entry.filled_avg_price) == (OrderStatus.FILLED, OrderClass.BRACKET,
                                                                         "335.4")
    target, stop = entry.legs
    assert (target.order_type, target.side, target.limit_price, target.status) == (
        OrderType.LIMIT, OrderSide.SELL, "350", OrderStatus.NEW)
    assert (stop.order_type, stop.side, stop.stop_price, stop.status) == (
        OrderType.STOP, OrderSide.SELL, "320", OrderStatus.HELD)
    listed = {str(order.id): order for order in open_orders(trading)}
    assert set(listed) == {str(target.id), str(stop.id)}
    assert {order.order_class for order in listed.values()} == {OrderClass.BRACKET}
    position = trading.get_open_position("GOOGL")
    assert (position.qty, position.qty_available) == ("10", "0")


def test_the_stop_filling_cancels_the_take_profit(trading, state):
    target, stop = trading.submit_order(bracket()).legs
    state.set_price("GOOGL", Decimal("319"))

    assert trading.get_order_by_id(stop.id).status == OrderStatus.FILLED
    assert trading.get_order_by_id(target.id).status == OrderStatus.CANCELED
    assert trading.get_all_positions() == []


def test_legs_wait_for_their_entry_and_go_with_it(trading, state):
    entry = trading.submit_order(bracket(limit_price=330, stop=300, stop_limit=299))
    target, stop = entry.legs
    assert (entry.status, target.status, stop.status, stop.order_type) == (
        OrderStatus.NEW, OrderStatus.HELD, OrderStatus.HELD, OrderType.STOP_LIMIT)
    state.set_price("GOOGL", Decimal("360"))
    assert trading.get_order_by_id(target.id).status == OrderStatus.HELD

    trading.cancel_order_by_id(entry.id)

    assert {trading.get_order_by_id(leg.id).status for leg in (target, stop)} == {OrderStatus.CANCELED}


@pytest.mark.parametrize("request_, message", [
    (lambda: bracket(stop=335.4), "stop price must be less than base_price - 0.01"),
    (lambda: bracket(target=335.4), "take_profit.limit_price must be greater than base_price + 0.01"),
    (lambda: bracket(time_in_force=TimeInForce.IOC), "time_in_force must be day or gtc for bracket orders"),
    (lambda: bracket(symbol=OPTION, qty=1, target=6, stop=3), "bracket orders are not supported for options"),
    (lambda: StopOrderRequest(symbol="GOOGL", qty=10, side=OrderSide.BUY, time_in_force=TimeInForce.GTC,
                              stop_price=340, order_class=OrderClass.BRACKET,
                              take_profit=TakeProfitRequest(limit_price=350),
                              stop_loss=StopLossRequest(stop_price=320)),
     "bracket orders must be market or limit orders"),
])
def test_bracket_refusals(trading, state, request_, message):
    state.set_price(OPTION, Decimal("4"))
    error = refused(lambda: trading.submit_order(request_()))
    assert (error.status_code, message) == (422, error.message)
    assert trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL)) == []


def test_a_bracket_that_would_reduce_a_position_is_refused_as_alpaca_refuses_it(trading, state):
    state.set_position("a", "GOOGL", Decimal(10), Decimal("330"))
    error = refused(lambda: trading.submit_order(bracket(side=OrderSide.SELL, target=320, stop=350)))
    assert (error.status_code, error.code, error.message) == (422, 42210000, "bracket orders must be entry orders")

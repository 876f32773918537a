"""PATCH /v2/orders/{id} through alpaca-py's replace_order_by_id: a close walked down to a fill."""

from decimal import Decimal

import pytest
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import (
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    TrailingStopOrderRequest,
)

from helpers import refused

OPTION = "GOOGL260220C00340000"


@pytest.fixture
def resting(trading, state):
    """A sell_to_close limit of 10 contracts above a 1.10 x 1.30 market."""
    state.set_position("a", OPTION, Decimal(10), Decimal("2"))
    state.set_quote(OPTION, Decimal("1.10"), Decimal("1.30"))
    return trading.submit_order(LimitOrderRequest(symbol=OPTION, qty=10, side=OrderSide.SELL,
                                                  time_in_force=TimeInForce.DAY, limit_price=1.25,
                                                  client_order_id="close-1"))


def test_a_close_walked_down_is_replaced_by_new_orders_until_one_fills(trading, resting):
    step = trading.replace_order_by_id(resting.id, ReplaceOrderRequest(limit_price=1.15,
                                                                       client_order_id="close-2"))
    assert step.id != resting.id and str(step.replaces) == str(resting.id)
    assert (step.status, step.limit_price, step.qty, step.client_order_id) == (
        OrderStatus.NEW, "1.15", "10", "close-2")
    assert step.position_intent.value == "sell_to_close"
    old = trading.get_order_by_id(resting.id)
    assert old.status == OrderStatus.REPLACED and str(old.replaced_by) == str(step.id)
    assert old.replaced_at is not None

    last = trading.replace_order_by_id(step.id, ReplaceOrderRequest(limit_price=1.10))
    assert (last.status, last.filled_avg_price) == (OrderStatus.FILLED, "1.1")
    assert trading.get_all_positions() == []
    assert [o.status for o in trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL,
                                                                  direction="asc"))] == [
        OrderStatus.REPLACED, OrderStatus.REPLACED, OrderStatus.FILLED]


def test_only_open_orders_sent_to_the_exchange_can_be_replaced(trading, state, resting):
    trading.cancel_order_by_id(resting.id)
    gone = refused(lambda: trading.replace_order_by_id(resting.id, ReplaceOrderRequest(limit_price=1.2)))
    assert (gone.status_code, gone.code, gone.message) == (
        422, 40010001, "unable to replace order, order is not open")
    state.set_market_open(False)
    queued = trading.submit_order(LimitOrderRequest(symbol=OPTION, qty=1, side=OrderSide.SELL,
                                                    time_in_force=TimeInForce.DAY, limit_price=1.25))
    assert queued.status == OrderStatus.ACCEPTED
    early = refused(lambda: trading.replace_order_by_id(queued.id, ReplaceOrderRequest(limit_price=1.2)))
    assert (early.status_code, early.message) == (422, "unable to replace order, order isn't sent to exchange yet")


def test_a_replacement_that_changes_nothing_is_refused(trading, resting):
    same = refused(lambda: trading.replace_order_by_id(resting.id, ReplaceOrderRequest(limit_price=1.25)))
    assert (same.status_code, same.code, same.message) == (403, 40310000, "order parameters are not changed")
    assert trading.get_order_by_id(resting.id).status == OrderStatus.NEW


def test_a_replacement_is_checked_like_a_new_order_with_the_old_quantity_freed(trading, state, resting):
    assert trading.get_open_position(OPTION).qty_available == "0"
    off_tick = refused(lambda: trading.replace_order_by_id(resting.id, ReplaceOrderRequest(limit_price=1.255)))
    assert off_tick.message == "limit price must be limited to 2 decimal places"
    too_many = refused(lambda: trading.replace_order_by_id(resting.id, ReplaceOrderRequest(qty=11)))
    assert too_many.message == "insufficient qty available for order (requested: 11, available: 10)"
    duplicate = refused(lambda: trading.replace_order_by_id(resting.id, ReplaceOrderRequest(
        qty=4, client_order_id="close-1")))
    assert duplicate.message == "client_order_id must be unique"
    assert trading.get_order_by_id(resting.id).status == OrderStatus.NEW
    smaller = trading.replace_order_by_id(resting.id, ReplaceOrderRequest(qty=4))
    assert smaller.limit_price == "1.25" and trading.get_open_position(OPTION).qty_available == "6"


def test_a_partly_filled_order_is_replaced_for_the_chain_total(trading, state, resting):
    state.fill_order(resting.id, Decimal(3), Decimal("1.25"))
    below = refused(lambda: trading.replace_order_by_id(resting.id, ReplaceOrderRequest(qty=3)))
    assert below.message == "unable to replace order, qty must be > filled_qty"
    rest = trading.replace_order_by_id(resting.id, ReplaceOrderRequest(limit_price=1.10))
    assert (rest.status, rest.qty, rest.filled_qty) == (OrderStatus.FILLED, "10", "10")
    assert Decimal(rest.filled_avg_price) == (3 * Decimal("1.25") + 7 * Decimal("1.10")) / 10
    assert trading.get_all_positions() == []


def test_fields_the_order_type_has_no_use_for_are_refused(trading, state):
    state.set_position("a", "GOOGL", Decimal(5), Decimal("300"))
    state.set_market_open(False)
    state.set_market_open(True)
    trail = trading.submit_order(TrailingStopOrderRequest(symbol="GOOGL", qty=5, side=OrderSide.SELL,
                                                          time_in_force=TimeInForce.GTC, trail_price=10))
    wider = trading.replace_order_by_id(trail.id, ReplaceOrderRequest(trail=20))
    assert (wider.trail_price, wider.trail_percent, wider.hwm) == ("20", None, "335.4")
    err = refused(lambda: trading.replace_order_by_id(wider.id, ReplaceOrderRequest(limit_price=300)))
    assert (err.status_code, err.message) == (422, "limit_price cannot be replaced on a trailing_stop order")
    market = trading.submit_order(MarketOrderRequest(symbol="GOOGL", qty=1, side=OrderSide.BUY,
                                                     time_in_force=TimeInForce.DAY))
    assert refused(lambda: trading.replace_order_by_id(market.id, ReplaceOrderRequest(qty=2))).message == (
        "unable to replace order, order is not open")

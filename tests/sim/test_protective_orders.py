"""Orders that protect a position while nobody watches: GTC stops, oco exits, option stops (issue 15)."""

from decimal import Decimal

import pytest
from alpaca.trading.enums import OrderClass, OrderSide, OrderStatus, OrderType, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import (
    ClosePositionRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    StopLimitOrderRequest,
    StopLossRequest,
    StopOrderRequest,
    TakeProfitRequest,
    TrailingStopOrderRequest,
)

from helpers import refused
from pmctl.sim.models import SimError

OPTION = "GOOGL260220C00340000"


def oco(symbol="GOOGL", qty=10, target=350, stop=320, stop_limit=None, **kw):
    return LimitOrderRequest(symbol=symbol, qty=qty, side=kw.pop("side", OrderSide.SELL),
                             time_in_force=kw.pop("time_in_force", TimeInForce.GTC), order_class=OrderClass.OCO,
                             take_profit=TakeProfitRequest(limit_price=target),
                             stop_loss=StopLossRequest(stop_price=stop, limit_price=stop_limit), **kw)


@pytest.fixture
def held(state):
    state.set_position("a", "GOOGL", Decimal(10), Decimal("330"))


def test_a_gtc_stop_outlives_the_session_that_expires_day_orders(trading, state, held):
    stop = trading.submit_order(StopOrderRequest(symbol="GOOGL", qty=6, side=OrderSide.SELL,
                                                 time_in_force=TimeInForce.GTC, stop_price=320))
    day = trading.submit_order(LimitOrderRequest(symbol="GOOGL", qty=4, side=OrderSide.SELL,
                                                 time_in_force=TimeInForce.DAY, limit_price=360))
    state.set_market_open(False)
    expired = trading.get_order_by_id(day.id)
    assert (expired.status, expired.expired_at) == (OrderStatus.EXPIRED, state.clock.now())
    assert trading.get_order_by_id(stop.id).status == OrderStatus.NEW
    assert trading.get_open_position("GOOGL").qty_available == "4"
    state.set_price("GOOGL", Decimal("310"))
    assert trading.get_order_by_id(stop.id).status == OrderStatus.NEW
    state.set_market_open(True)
    filled = trading.get_order_by_id(stop.id)
    assert (filled.status, filled.filled_avg_price) == (OrderStatus.FILLED, "310")
    assert trading.get_open_position("GOOGL").qty == "4"


def test_an_order_placed_while_closed_goes_to_the_market_at_the_open(trading, state, held):
    state.set_market_open(False)
    stop = trading.submit_order(StopOrderRequest(symbol="GOOGL", qty=10, side=OrderSide.SELL,
                                                 time_in_force=TimeInForce.GTC, stop_price=320))
    assert stop.status == OrderStatus.ACCEPTED
    state.set_market_open(True)
    assert trading.get_order_by_id(stop.id).status == OrderStatus.NEW
    assert trading.replace_order_by_id(stop.id, ReplaceOrderRequest(stop_price=321)).stop_price == "321"


def test_a_resting_sell_holds_its_quantity_against_every_other_close(trading, state, held):
    trading.submit_order(TrailingStopOrderRequest(symbol="GOOGL", qty=10, side=OrderSide.SELL,
                                                  time_in_force=TimeInForce.GTC, trail_percent=5))
    assert trading.get_open_position("GOOGL").qty_available == "0"
    message = "insufficient qty available for order (requested: 10, available: 0)"
    assert refused(lambda: trading.close_position("GOOGL", ClosePositionRequest(qty="10"))).message == message
    assert refused(lambda: trading.submit_order(MarketOrderRequest(
        symbol="GOOGL", qty=10, side=OrderSide.SELL, time_in_force=TimeInForce.DAY))).message == message
    with pytest.raises(SimError, match=r"insufficient qty available for order \(requested: 10, available: 0\)"):
        state.close_by_hand("a", "GOOGL")
    by_hand = state.close_by_hand("a", "GOOGL", cancel_orders=True)
    assert by_hand.status == "filled" and trading.get_all_positions() == []
    assert trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN)) == []


def test_a_stop_limit_elected_below_its_limit_waits_for_the_limit(trading, state, held):
    order = trading.submit_order(StopLimitOrderRequest(symbol="GOOGL", qty=10, side=OrderSide.SELL,
                                                       time_in_force=TimeInForce.GTC, stop_price=320,
                                                       limit_price=318))
    state.set_price("GOOGL", Decimal("315"))
    assert trading.get_order_by_id(order.id).status == OrderStatus.NEW
    state.set_price("GOOGL", Decimal("318.50"))
    assert trading.get_order_by_id(order.id).filled_avg_price == "318.5"


def test_an_oco_is_a_take_profit_with_its_stop_leg_holding_the_quantity_once(trading, state, held):
    parent = trading.submit_order(oco(stop_limit=319))
    [leg] = parent.legs
    assert (parent.order_class, parent.type, parent.limit_price, parent.status) == (
        OrderClass.OCO, OrderType.LIMIT, "350", OrderStatus.NEW)
    assert (leg.type, leg.stop_price, leg.limit_price, leg.status, leg.qty) == (
        OrderType.STOP_LIMIT, "320", "319", OrderStatus.HELD, "10")
    assert trading.get_open_position("GOOGL").qty_available == "0"
    assert refused(lambda: trading.submit_order(MarketOrderRequest(
        symbol="GOOGL", qty=1, side=OrderSide.SELL, time_in_force=TimeInForce.DAY))).status_code == 403
    flat = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN))
    assert sorted(o.id for o in flat) == sorted([parent.id, leg.id]) and all(o.legs is None for o in flat)
    [nested] = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, nested=True))
    assert (nested.id, [o.id for o in nested.legs]) == (parent.id, [leg.id])


def test_the_take_profit_filling_cancels_the_stop_leg(trading, state, held):
    parent = trading.submit_order(oco())
    state.fill_order(parent.id, Decimal(4), Decimal("350"))
    assert trading.get_order_by_id(parent.legs[0].id).qty == "6"
    assert trading.get_open_position("GOOGL").qty_available == "0"
    state.set_quote("GOOGL", Decimal("351"), Decimal("351.20"))
    assert trading.get_order_by_id(parent.id).status == OrderStatus.FILLED
    assert trading.get_order_by_id(parent.legs[0].id).status == OrderStatus.CANCELED
    assert trading.get_all_positions() == []


def test_the_stop_leg_filling_cancels_the_take_profit(trading, state, held):
    parent = trading.submit_order(oco())
    state.set_price("GOOGL", Decimal("319"))
    leg = trading.get_order_by_id(parent.legs[0].id)
    assert (leg.status, leg.filled_avg_price) == (OrderStatus.FILLED, "319")
    assert trading.get_order_by_id(parent.id).status == OrderStatus.CANCELED
    assert trading.get_all_positions() == []


def test_canceling_either_leg_cancels_the_group(trading, state, held):
    first = trading.submit_order(oco())
    trading.cancel_order_by_id(first.legs[0].id)
    assert trading.get_order_by_id(first.id).status == OrderStatus.CANCELED
    second = trading.submit_order(oco())
    trading.cancel_order_by_id(second.id)
    assert trading.get_order_by_id(second.legs[0].id).status == OrderStatus.CANCELED
    assert trading.get_open_position("GOOGL").qty_available == "10"


def test_each_leg_is_replaced_within_its_group(trading, state, held):
    parent = trading.submit_order(oco())
    moved = trading.replace_order_by_id(parent.legs[0].id, ReplaceOrderRequest(stop_price=325))
    assert (moved.status, moved.stop_price, moved.replaces) == (OrderStatus.HELD, "325", parent.legs[0].id)
    target = trading.replace_order_by_id(parent.id, ReplaceOrderRequest(limit_price=345))
    assert trading.get_order_by_id(target.id).legs is None
    [nested] = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, nested=True))
    assert (nested.id, nested.limit_price, [leg.id for leg in nested.legs]) == (target.id, "345", [moved.id])
    assert trading.get_open_position("GOOGL").qty_available == "0"
    qty = refused(lambda: trading.replace_order_by_id(target.id, ReplaceOrderRequest(qty=5)))
    assert (qty.status_code, qty.message) == (422, "qty cannot be replaced on an oco order")
    above = refused(lambda: trading.replace_order_by_id(moved.id, ReplaceOrderRequest(stop_price=336)))
    assert above.message == "stop price must be less than base_price - 0.01"
    state.set_price("GOOGL", Decimal("324"))
    assert trading.get_order_by_id(moved.id).status == OrderStatus.FILLED
    assert trading.get_order_by_id(target.id).status == OrderStatus.CANCELED


@pytest.mark.parametrize("request_, message", [
    (oco(stop=335.40), "stop price must be less than base_price - 0.01"),
    (oco(target=330, stop=329.995), "invalid stop_price 329.995. sub-penny increment does not fulfill "
                                    "minimum pricing criteria"),
    (oco(time_in_force=TimeInForce.IOC), "time_in_force must be day or gtc for oco orders"),
    (oco(side=OrderSide.BUY, target=300, stop=340), "oco orders must exit an existing position"),
    (oco(symbol="SPY"), "oco orders must exit an existing position"),
    (oco(qty=11), "insufficient qty available for order (requested: 11, available: 10)"),
])
def test_oco_refusals(trading, held, request_, message):
    assert refused(lambda: trading.submit_order(request_)).message == message
    assert trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL)) == []


def test_an_oco_must_be_a_limit_with_both_legs(trading, held):
    base = {"symbol": "GOOGL", "qty": "10", "side": "sell", "time_in_force": "gtc", "order_class": "oco"}
    market = refused(lambda: trading.post("/orders", {**base, "type": "market",
                                                      "take_profit": {"limit_price": "350"},
                                                      "stop_loss": {"stop_price": "320"}}))
    assert (market.status_code, market.message) == (422, "oco orders must be limit orders (the take-profit)")
    legless = refused(lambda: trading.post("/orders", {**base, "type": "limit", "take_profit": {"limit_price": "350"}}))
    assert legless.message == "oco orders require stop_loss.stop_price"


def test_options_take_gtc_stops_and_stop_limits_to_close(trading, state):
    state.set_position("a", OPTION, Decimal(5), Decimal("5.20"))
    stop = trading.submit_order(StopLimitOrderRequest(symbol=OPTION, qty=5, side=OrderSide.SELL,
                                                      time_in_force=TimeInForce.GTC, stop_price=3.50,
                                                      limit_price=3.40))
    assert (stop.status, stop.time_in_force, stop.position_intent.value) == (
        OrderStatus.NEW, TimeInForce.GTC, "sell_to_close")
    assert trading.get_open_position(OPTION).qty_available == "0"
    off_tick = refused(lambda: trading.replace_order_by_id(stop.id, ReplaceOrderRequest(stop_price=3.52)))
    assert off_tick.message == "invalid stop_price 3.52. GOOGL options at this price trade in increments of 0.05"
    state.set_market_open(False)
    assert trading.get_order_by_id(stop.id).status == OrderStatus.NEW
    state.set_market_open(True)
    state.set_quote(OPTION, Decimal("3.45"), Decimal("3.60"))
    state.set_price(OPTION, Decimal("3.50"))
    filled = trading.get_order_by_id(stop.id)
    assert (filled.status, filled.filled_avg_price) == (OrderStatus.FILLED, "3.45")
    plain = refused(lambda: trading.submit_order(oco(symbol=OPTION, qty=1, target=6, stop=3)))
    assert plain.message == "oco orders are not supported for options"


def test_a_rejected_order_frees_its_quantity(trading, state, held):
    stop = trading.submit_order(StopOrderRequest(symbol="GOOGL", qty=10, side=OrderSide.SELL,
                                                 time_in_force=TimeInForce.GTC, stop_price=320))
    rejected = state.reject_order(stop.id)
    assert (rejected.status, rejected.failed_at) == ("rejected", state.clock.now())
    assert trading.get_open_position("GOOGL").qty_available == "10"

"""Order semantics where the desk got burned, through alpaca-py."""

from decimal import Decimal

from alpaca.trading.enums import OrderSide, OrderStatus, PositionIntent, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import (
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    StopOrderRequest,
    TrailingStopOrderRequest,
)

from helpers import refused

OPTION = "GOOGL260220C00340000"


def market(symbol, qty, side, **kw):
    return MarketOrderRequest(symbol=symbol, qty=qty, side=side, time_in_force=TimeInForce.DAY, **kw)


def test_selling_the_underlying_instead_of_the_option_opens_a_short(trading, state):
    state.set_position("a", OPTION, Decimal(10), Decimal("5.20"))
    trading.submit_order(market("GOOGL", 10, OrderSide.SELL))
    positions = {p.symbol: p for p in trading.get_all_positions()}
    assert positions["GOOGL"].qty == "-10" and positions["GOOGL"].side.value == "short"
    assert positions[OPTION].qty == "10"


def test_sell_to_close_without_a_long_is_an_intent_mismatch(trading):
    """Alpaca answers an intent mismatch with 422 and code 42210000 (issue 14), not a 403."""
    err = refused(lambda: trading.submit_order(market(
        OPTION, 10, OrderSide.SELL, position_intent=PositionIntent.SELL_TO_CLOSE)))
    assert (err.status_code, err.code) == (422, 42210000)
    assert err.message == "position intent mismatch, inferred: sell_to_open, specified: sell_to_close"
    assert trading.get_all_positions() == []


def test_uncovered_option_sell_is_refused_but_buying_to_cover_works(trading, state):
    err = refused(lambda: trading.submit_order(market(OPTION, 1, OrderSide.SELL)))
    assert err.status_code == 403 and "uncovered option" in err.message
    state.set_position("a", OPTION, Decimal(-2), Decimal("3"))
    order = trading.submit_order(market(OPTION, 2, OrderSide.BUY))
    assert order.position_intent == PositionIntent.BUY_TO_CLOSE and order.status == OrderStatus.FILLED
    assert trading.get_all_positions() == []


def test_option_order_rules(trading, state):
    state.set_position("a", OPTION, Decimal(5), Decimal("5"))
    ioc = refused(lambda: trading.submit_order(MarketOrderRequest(
        symbol=OPTION, qty=1, side=OrderSide.SELL, time_in_force=TimeInForce.IOC)))
    assert (ioc.status_code, ioc.message) == (422, "options orders only support time_in_force day or gtc")
    trail = refused(lambda: trading.submit_order(TrailingStopOrderRequest(
        symbol=OPTION, qty=1, side=OrderSide.SELL, time_in_force=TimeInForce.DAY, trail_percent=5)))
    assert trail.status_code == 422 and "trailing_stop" in trail.message
    fractional = refused(lambda: trading.submit_order(market(OPTION, 1.5, OrderSide.SELL)))
    assert fractional.status_code == 422 and "whole" in fractional.message
    malformed = refused(lambda: trading.submit_order(market("GOOGL26022C340", 1, OrderSide.BUY)))
    assert malformed.status_code == 422 and "OCC" in malformed.message


def test_bracket_on_options_is_rejected(trading, state):
    state.set_position("a", OPTION, Decimal(5), Decimal("5"))
    err = refused(lambda: trading.post("/orders", {
        "symbol": OPTION, "qty": "1", "side": "sell", "type": "limit", "limit_price": "6",
        "time_in_force": "day", "order_class": "bracket",
        "take_profit": {"limit_price": "8"}, "stop_loss": {"stop_price": "3"}}))
    assert err.status_code == 422 and err.message == "bracket orders are not supported for options"


def test_insufficient_qty_counts_qty_held_by_open_orders(trading, state):
    state.set_position("a", OPTION, Decimal(10), Decimal("5.20"))
    trading.submit_order(LimitOrderRequest(symbol=OPTION, qty=6, side=OrderSide.SELL,
                                           time_in_force=TimeInForce.DAY, limit_price=9))
    assert trading.get_open_position(OPTION).qty_available == "4"
    err = refused(lambda: trading.submit_order(market(OPTION, 10, OrderSide.SELL)))
    assert err.status_code == 403 and err.code == 40310000
    assert err.message == "insufficient qty available for order (requested: 10, available: 4)"

    state.set_position("a", "SPY", Decimal(10), Decimal("600"))
    state.set_price("SPY", Decimal("610"))
    trading.submit_order(StopOrderRequest(symbol="SPY", qty=6, side=OrderSide.SELL,
                                          time_in_force=TimeInForce.GTC, stop_price=550))
    err = refused(lambda: trading.submit_order(market("SPY", 10, OrderSide.SELL)))
    assert err.message == "insufficient qty available for order (requested: 10, available: 4)"


def test_duplicate_client_order_id_is_refused_even_after_fill(trading):
    trading.submit_order(market("GOOGL", 1, OrderSide.BUY, client_order_id="exit-1"))
    err = refused(lambda: trading.submit_order(market("GOOGL", 1, OrderSide.BUY,
                                                      client_order_id="exit-1")))
    assert err.status_code == 422 and err.code == 40010001
    assert err.message == "client_order_id must be unique"
    assert len(trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL))) == 1


def test_closing_a_missing_position_is_404(trading):
    err = refused(lambda: trading.close_position("META"))
    assert err.status_code == 404 and err.code == 40410000
    assert err.message == "position does not exist"


def test_market_closed_order_waits_then_fills_on_open(trading, state):
    state.set_market_open(False)
    order = trading.submit_order(market("GOOGL", 5, OrderSide.BUY))
    assert order.status == OrderStatus.ACCEPTED
    assert trading.get_all_positions() == []
    assert [o.id for o in trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN))] == [order.id]
    state.set_price("GOOGL", Decimal("330"))
    state.set_market_open(True)
    filled = trading.get_order_by_id(order.id)
    assert filled.status == OrderStatus.FILLED and filled.filled_avg_price == "330"
    assert trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN)) == []
    assert [o.id for o in trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.CLOSED))] == [order.id]


def test_partial_fill_then_rest(trading, state):
    order = trading.submit_order(LimitOrderRequest(symbol="GOOGL", qty=10, side=OrderSide.BUY,
                                                   time_in_force=TimeInForce.DAY, limit_price=300))
    state.fill_order(order.id, Decimal(4), Decimal("299"))
    partial = trading.get_order_by_id(order.id)
    assert partial.status == OrderStatus.PARTIALLY_FILLED and partial.filled_qty == "4"
    assert trading.get_open_position("GOOGL").qty == "4"
    state.set_price("GOOGL", Decimal("295"))
    done = trading.get_order_by_id(order.id)
    assert done.status == OrderStatus.FILLED and Decimal(done.filled_avg_price) == Decimal("296.6")
    fills = trading.get("/account/activities/FILL", {"direction": "asc"})
    assert [(f["type"], f["qty"], f["leaves_qty"], f["cum_qty"]) for f in fills] == [
        ("partial_fill", "4", "6", "4"), ("fill", "6", "0", "10")]


def test_limit_and_stop_orders_fill_when_price_crosses(trading, state):
    state.set_position("a", "GOOGL", Decimal(10), Decimal("300"))
    stop = trading.submit_order(StopOrderRequest(symbol="GOOGL", qty=4, side=OrderSide.SELL,
                                                 time_in_force=TimeInForce.GTC, stop_price=320))
    limit = trading.submit_order(LimitOrderRequest(symbol="GOOGL", qty=6, side=OrderSide.SELL,
                                                   time_in_force=TimeInForce.GTC, limit_price=350))
    state.set_price("GOOGL", Decimal("325"))
    assert trading.get_order_by_id(stop.id).status == OrderStatus.NEW
    state.set_price("GOOGL", Decimal("319"))
    assert trading.get_order_by_id(stop.id).status == OrderStatus.FILLED
    assert trading.get_order_by_id(limit.id).status == OrderStatus.NEW
    state.set_price("GOOGL", Decimal("351"))
    assert trading.get_order_by_id(limit.id).filled_avg_price == "351"
    assert trading.get_all_positions() == []


def test_average_entry_price_and_no_flip_in_one_order(trading, state):
    trading.submit_order(market("GOOGL", 10, OrderSide.BUY))
    state.set_price("GOOGL", Decimal("345.40"))
    trading.submit_order(market("GOOGL", 10, OrderSide.BUY))
    assert trading.get_open_position("GOOGL").avg_entry_price == "340.4"
    trading.submit_order(market("GOOGL", 5, OrderSide.SELL))
    assert trading.get_open_position("GOOGL").avg_entry_price == "340.4"
    state.set_price("GOOGL", Decimal("350"))
    err = refused(lambda: trading.submit_order(market("GOOGL", 20, OrderSide.SELL)))
    assert (err.status_code, err.code) == (403, 40310000)
    assert err.message == "insufficient qty available for order (requested: 20, available: 15)"
    assert trading.get_open_position("GOOGL").qty == "15"
    trading.submit_order(market("GOOGL", 15, OrderSide.SELL))
    trading.submit_order(market("GOOGL", 5, OrderSide.SELL))
    short = trading.get_open_position("GOOGL")
    assert (short.qty, short.side.value, short.avg_entry_price) == ("-5", "short", "350")
    assert Decimal(trading.get_account().cash) == Decimal("100000") - 3354 - 3454 + 1727 + 7000
    err = refused(lambda: trading.submit_order(market("GOOGL", 6, OrderSide.BUY)))
    assert err.message == "insufficient qty available for order (requested: 6, available: 5)"


def test_get_orders_open_filter_returns_only_open_orders(trading):
    trading.submit_order(market("GOOGL", 1, OrderSide.BUY))
    resting = trading.submit_order(LimitOrderRequest(symbol="GOOGL", qty=1, side=OrderSide.BUY,
                                                     time_in_force=TimeInForce.DAY, limit_price=1))
    open_orders = trading.get_orders(filter=GetOrdersRequest(status=QueryOrderStatus.OPEN))
    assert [o.id for o in open_orders] == [resting.id]
    everything = trading.get_orders(filter=GetOrdersRequest(status=QueryOrderStatus.ALL, direction="asc"))
    assert [o.status for o in everything] == [OrderStatus.FILLED, OrderStatus.NEW]


def test_stock_trailing_stop_follows_the_high_water_mark(trading, state):
    state.set_position("a", "GOOGL", Decimal(5), Decimal("300"))
    order = trading.submit_order(TrailingStopOrderRequest(
        symbol="GOOGL", qty=5, side=OrderSide.SELL, time_in_force=TimeInForce.GTC, trail_price=10))
    state.set_price("GOOGL", Decimal("350"))
    state.set_price("GOOGL", Decimal("341"))
    assert trading.get_order_by_id(order.id).hwm == "350"
    state.set_price("GOOGL", Decimal("339.99"))
    assert trading.get_order_by_id(order.id).filled_avg_price == "339.99"

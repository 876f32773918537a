"""Orders fill against the quote as Alpaca's paper engine does: market sells at the bid, buys at the ask,
limits only when marketable; positions stay marked at the last trade."""

from decimal import Decimal

import requests
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.requests import (
    ClosePositionRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    StopOrderRequest,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

OPTION = "GOOGL260220C00340000"


def market(symbol, qty, side):
    return MarketOrderRequest(symbol=symbol, qty=qty, side=side, time_in_force=TimeInForce.DAY)


def limit(symbol, qty, side, price, tif=TimeInForce.DAY):
    return LimitOrderRequest(symbol=symbol, qty=qty, side=side, time_in_force=tif, limit_price=price)


def test_market_orders_take_the_far_side_while_the_position_is_marked_at_the_last_trade(trading, state):
    state.set_position("a", OPTION, Decimal(10), Decimal("5.20"))
    state.set_quote(OPTION, Decimal("3.10"), Decimal("3.40"))
    held = trading.get_open_position(OPTION)
    assert held.current_price == "4" and held.market_value == "4000"
    sold = trading.submit_order(market(OPTION, 4, OrderSide.SELL))
    assert (sold.status, sold.filled_avg_price) == (OrderStatus.FILLED, "3.1")
    bought = trading.submit_order(market(OPTION, 1, OrderSide.BUY))
    assert bought.filled_avg_price == "3.4"
    fills = trading.get("/account/activities/FILL", {"direction": "asc"})
    assert [(f["side"], f["price"]) for f in fills] == [("sell", "3.1"), ("buy", "3.4")]


def test_a_limit_rests_until_the_quote_reaches_it_and_fills_at_the_quote(trading, state):
    state.set_position("a", OPTION, Decimal(10), Decimal("5.20"))
    state.set_quote(OPTION, Decimal("3.10"), Decimal("3.40"))
    order = trading.submit_order(limit(OPTION, 10, OrderSide.SELL, 3.20))
    assert order.status == OrderStatus.NEW
    state.set_price(OPTION, Decimal("3.30"))
    assert trading.get_order_by_id(order.id).status == OrderStatus.NEW, "a print above the limit is not a bid"
    state.set_quote(OPTION, Decimal("3.25"), Decimal("3.40"))
    done = trading.get_order_by_id(order.id)
    assert (done.status, done.filled_avg_price) == (OrderStatus.FILLED, "3.25")
    assert trading.get_all_positions() == []


def test_a_buy_limit_fills_when_the_ask_comes_down_to_it(trading, state):
    state.set_quote("AMD", Decimal("149.90"), Decimal("150.10"))
    order = trading.submit_order(limit("AMD", 5, OrderSide.BUY, 150, TimeInForce.GTC))
    assert order.status == OrderStatus.NEW
    state.set_quote("AMD", Decimal("149.80"), Decimal("149.95"))
    assert trading.get_order_by_id(order.id).filled_avg_price == "149.95"


def test_nobody_on_the_bid_means_a_market_sell_waits_for_one(sim, trading, state):
    """A zero bid set as a quote is an empty side: the sell rests (what Alpaca does is not known)."""
    state.set_position("a", OPTION, Decimal(2), Decimal("0.50"))
    requests.post(f"{sim.url}/_sim/quotes", json={OPTION: {"bid": "0", "ask": "0.05"}})
    order = trading.close_position(OPTION, ClosePositionRequest(qty="2"))
    assert order.status == OrderStatus.NEW
    assert trading.get_open_position(OPTION).qty_available == "0"
    requests.post(f"{sim.url}/_sim/quotes", json={OPTION: {"bid": "0.01", "ask": "0.05"}})
    filled = trading.get_order_by_id(order.id)
    assert (filled.status, filled.filled_avg_price) == (OrderStatus.FILLED, "0.01")


def test_a_stop_elects_on_a_print_inside_the_quote_then_sells_at_the_bid(trading, state):
    state.set_position("a", "AMD", Decimal(10), Decimal("150"))
    state.set_quote("AMD", Decimal("144.90"), Decimal("145.10"))
    state.set_price("AMD", Decimal("146"))
    stop = trading.submit_order(StopOrderRequest(symbol="AMD", qty=10, side=OrderSide.SELL,
                                                 time_in_force=TimeInForce.GTC, stop_price=145))
    state.set_price("AMD", Decimal("140"))
    assert trading.get_order_by_id(stop.id).status == OrderStatus.NEW, "a print outside the quote elects nothing"
    state.set_price("AMD", Decimal("145"))
    done = trading.get_order_by_id(stop.id)
    assert (done.status, done.filled_avg_price) == (OrderStatus.FILLED, "144.9")


PRICES = st.integers(0, 500).map(lambda cents: Decimal(cents) / 100)
ON_TICK = st.one_of(st.integers(1, 299), st.integers(60, 100).map(lambda nickels: nickels * 5)).map(
    lambda cents: Decimal(cents) / 100)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bid=PRICES, ask=PRICES, price=ON_TICK, side=st.sampled_from(["buy", "sell"]))
def test_a_limit_fills_exactly_when_the_quote_is_marketable_and_never_worse_than_it(
        trading, state, bid, ask, price, side):
    state.cancel_all_orders("a")
    state.set_position("a", OPTION, Decimal(1), Decimal("1"))
    state.set_quote(OPTION, bid, ask)
    order = trading.submit_order(limit(OPTION, 1, OrderSide(side), float(price)))
    if side == "sell":
        marketable, at = bid > 0 and bid >= price, bid
    else:
        marketable, at = ask > 0 and ask <= price, ask
    assert (order.status == OrderStatus.FILLED) == marketable
    if marketable:
        assert Decimal(order.filled_avg_price) == at

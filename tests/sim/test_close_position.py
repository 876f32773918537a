"""DELETE /v2/positions/{symbol}: the close that cannot pass flat, as pmctl relies on it for stocks."""

from decimal import Decimal

import pytest
import requests
from alpaca.trading.enums import OrderSide, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import ClosePositionRequest, GetOrdersRequest, LimitOrderRequest

from helpers import refused

OPTION = "GOOGL260220C00340000"


def test_a_partial_close_of_a_long_sells_exactly_that_many(trading, state):
    state.set_position("a", "AMD", Decimal(100), Decimal("150"))
    state.set_price("AMD", Decimal("148"))
    order = trading.close_position("AMD", ClosePositionRequest(qty="40"))
    assert (order.side.value, order.qty, order.status.value, order.filled_avg_price) == ("sell", "40", "filled", "148")
    assert trading.get_open_position("AMD").qty == "60"


def test_closing_a_short_buys_it_back_and_stops_at_flat(trading, state):
    state.set_position("a", "AMD", Decimal(-100), Decimal("150"))
    state.set_price("AMD", Decimal("139"))
    order = trading.close_position("AMD", ClosePositionRequest(qty="100"))
    assert (order.side.value, order.status.value) == ("buy", "filled")
    assert trading.get_all_positions() == []
    gone = refused(lambda: trading.close_position("AMD", ClosePositionRequest(qty="100")))
    assert (gone.status_code, gone.code, gone.message) == (404, 40410000, "position does not exist")
    assert trading.get_all_positions() == []


@pytest.mark.parametrize("held", ["100", "-100"])
def test_more_than_held_is_refused_never_flipped(trading, state, held):
    state.set_position("a", "AMD", Decimal(held), Decimal("150"))
    state.set_price("AMD", Decimal("150"))
    err = refused(lambda: trading.close_position("AMD", ClosePositionRequest(qty="101")))
    assert (err.status_code, err.code) == (403, 40310000)
    assert err.message == "insufficient qty available for order (requested: 101, available: 100)"
    assert trading.get_open_position("AMD").qty == held
    assert trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL)) == []


def test_open_reducing_orders_hold_quantity_back_from_the_close(trading, state):
    state.set_position("a", "AMD", Decimal(100), Decimal("150"))
    state.set_price("AMD", Decimal("150"))
    trading.submit_order(LimitOrderRequest(symbol="AMD", qty=70, side=OrderSide.SELL,
                                           time_in_force=TimeInForce.GTC, limit_price=200))
    err = refused(lambda: trading.close_position("AMD", ClosePositionRequest(qty="31")))
    assert err.message == "insufficient qty available for order (requested: 31, available: 30)"
    trading.close_position("AMD", ClosePositionRequest(qty="30"))
    assert trading.get_open_position("AMD").qty == "70"


def test_qty_and_percentage_together_are_unprocessable(trading, state):
    state.set_position("a", "AMD", Decimal(100), Decimal("150"))
    err = refused(lambda: trading.delete("/positions/AMD", {"qty": "10", "percentage": "50"}))
    assert err.status_code == 422
    assert trading.get_open_position("AMD").qty == "100"


def test_an_option_closes_by_position_with_its_close_intent(trading, state):
    state.set_position("a", OPTION, Decimal(10), Decimal("5.20"))
    order = trading.close_position(OPTION, ClosePositionRequest(qty="4"))
    assert (order.side.value, order.position_intent.value) == ("sell", "sell_to_close")
    err = refused(lambda: trading.close_position(OPTION, ClosePositionRequest(qty="7")))
    assert err.message == "insufficient qty available for order (requested: 7, available: 6)"


def test_a_hook_runs_just_before_the_matching_request_is_served(trading, state):
    """A person's dashboard click lands between a client's read and its close, every time."""
    state.set_position("a", "AMD", Decimal(100), Decimal("150"))
    state.set_price("AMD", Decimal("150"))
    state.before_request("/v2/positions/AMD", lambda: state.close_by_hand("a", "AMD"), method="DELETE")
    assert trading.get_open_position("AMD").qty == "100"
    gone = refused(lambda: trading.close_position("AMD", ClosePositionRequest(qty="100")))
    assert gone.status_code == 404
    assert trading.get_all_positions() == []
    [hand] = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL))
    assert (hand.side.value, hand.qty) == ("sell", "100")
    assert state.hooks == []


def test_a_hook_counts_down_and_is_cleared_with_the_faults(trading, state):
    ran = []
    state.before_request("/v2/clock", lambda: ran.append(1), count=2, method="GET")
    for _ in range(3):
        trading.get_clock()
    assert ran == [1, 1]
    state.before_request("/v2/clock", lambda: ran.append(2))
    state.clear_faults()
    trading.get_clock()
    assert ran == [1, 1]


def test_a_price_of_zero_marks_positions_and_fills_at_zero(sim, trading, state):
    """An option going to zero can be rehearsed; a negative price cannot."""
    state.set_position("a", OPTION, Decimal(10), Decimal("5.20"))
    assert requests.post(f"{sim.url}/_sim/prices", json={OPTION: "0"}).status_code == 200
    held = trading.get_open_position(OPTION)
    assert (held.current_price, held.market_value, held.unrealized_pl) == ("0", "0", "-5200")
    negative = requests.post(f"{sim.url}/_sim/prices", json={OPTION: "-0.01"})
    assert negative.status_code == 422 and "negative" in negative.json()["message"]
    order = trading.close_position(OPTION, ClosePositionRequest(qty="10"))
    assert (order.status.value, order.filled_avg_price) == ("filled", "0")
    assert trading.get_all_positions() == []
    fill = trading.get("/account/activities/FILL")[0]
    assert (fill["price"], fill["qty"]) == ("0", "10")

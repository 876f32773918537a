"""The /_sim control API steers the same state alpaca-py clients see."""

from decimal import Decimal

import requests
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.requests import MarketOrderRequest


def test_control_api_prices_market_clock_and_fill(sim, trading):
    base = f"{sim.url}/_sim"
    assert requests.post(f"{base}/market/close").json()["is_open"] is False
    order = trading.submit_order(MarketOrderRequest(
        symbol="GOOGL", qty=4, side=OrderSide.BUY, time_in_force=TimeInForce.DAY))
    assert order.status == OrderStatus.ACCEPTED
    fill = requests.post(f"{base}/orders/{order.id}/fill", json={"qty": "1", "price": "330"})
    assert fill.json()["status"] == "partially_filled"
    requests.post(f"{base}/prices", json={"GOOGL": "331.5"})
    requests.post(f"{base}/market/open")
    done = trading.get_order_by_id(order.id)
    assert done.status == OrderStatus.FILLED and Decimal(done.filled_avg_price) == Decimal("331.125")
    clock = requests.post(f"{base}/clock", json={
        "timestamp": "2026-02-03T21:30:00Z", "is_open": False,
        "next_open": "2026-02-04T14:30:00Z"}).json()
    assert clock == {"timestamp": "2026-02-03T21:30:00Z", "is_open": False,
                     "next_open": "2026-02-04T14:30:00Z", "next_close": "2026-02-04T21:00:00Z"}
    assert trading.get_clock().is_open is False


def test_control_api_positions_close_by_hand_and_activities(sim, trading, state):
    base = f"{sim.url}/_sim/accounts/a"
    requests.put(f"{base}/positions/META", json={"qty": "15", "avg_entry_price": "705"})
    assert trading.get_open_position("META").qty == "15"
    closed = requests.post(f"{base}/positions/META/close_by_hand", json={"price": "712.30"}).json()
    assert closed["status"] == "filled" and closed["side"] == "sell"
    assert trading.get_all_positions() == []
    fill = trading.get("/account/activities/FILL")[0]
    assert (fill["symbol"], fill["price"], fill["qty"]) == ("META", "712.3", "15")
    added = requests.post(f"{base}/activities", json={
        "activity_type": "OPASN", "symbol": "GOOGL260220C00340000", "qty": "1",
        "net_amount": "0", "description": "assigned"}).json()
    assert added["activity_type"] == "OPASN"
    assert trading.get("/account/activities/OPASN")[0]["description"] == "assigned"
    snapshot = requests.get(f"{sim.url}/_sim/state").json()
    assert [a["name"] for a in snapshot["accounts"]] == ["a", "b"]
    assert "secret-a" not in str(snapshot)
    missing = requests.put(f"{sim.url}/_sim/accounts/zzz/positions/META", json={"qty": "1"})
    assert missing.status_code == 404

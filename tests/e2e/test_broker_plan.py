"""The broker's own orders as a plan source (issue 13, "Where a plan comes from", 2): a position opened with a
bracket order is adopted with its legs' levels and ids, through the CLI against the emulator."""

import json
from decimal import Decimal

from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderClass, OrderSide, OrderStatus, TimeInForce
from alpaca.trading.requests import MarketOrderRequest, StopLossRequest, TakeProfitRequest

from helpers import fetch_events, fetch_rows


def test_a_position_opened_with_a_bracket_is_adopted_with_its_legs_and_they_are_watched(desk, sim, keys, state,
                                                                                      database_url):
    trading = TradingClient(*keys["a"], url_override=sim.url)
    entry = trading.submit_order(MarketOrderRequest(
        symbol="GOOGL", qty=10, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, order_class=OrderClass.BRACKET,
        take_profit=TakeProfitRequest(limit_price=350), stop_loss=StopLossRequest(stop_price=320)))
    target, stop = entry.legs

    checked = desk("check", "-a", "a", env={"PMCTL_STOP_LOSS_PERCENT": "20"})

    assert checked.exit_code == 0, checked.stdout + checked.stderr
    [row] = fetch_rows(database_url, "symbol = 'GOOGL'")
    assert (row["stop_loss"], row["take_profit"], row["plan_source"], row["tracked_as"]) == (
        Decimal("320.0000"), Decimal("350.0000"), "broker", "adopted")
    assert (row["stop_order_id"], row["target_order_id"]) == (str(stop.id), str(target.id))
    assert "plan swing_trade, stop 320, target 350" in checked.stdout
    status = json.loads(desk("status", "-a", "a", "--format", "json").stdout)["positions"]
    assert [(line["stop_loss"], line["plan"].split(",")[0]) for line in status] == [("320.0000", "broker")]

    trading.cancel_order_by_id(stop.id)
    assert desk("check", "-a", "a").exit_code == 0

    [alert] = [e for e in fetch_events(database_url) if e["event_type"] == "brackets_missing"]
    assert str(stop.id) in alert["event_data"]["why"]
    assert {trading.get_order_by_id(leg.id).status for leg in (target, stop)} == {OrderStatus.CANCELED}


def test_a_close_of_a_bracketed_position_cancels_its_legs_first_so_the_quantity_is_free(desk, sim, keys, state,
                                                                                        database_url):
    trading = TradingClient(*keys["a"], url_override=sim.url)
    target, stop = trading.submit_order(MarketOrderRequest(
        symbol="GOOGL", qty=10, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, order_class=OrderClass.BRACKET,
        take_profit=TakeProfitRequest(limit_price=350), stop_loss=StopLossRequest(stop_price=320))).legs
    assert desk("sync", "-a", "a").exit_code == 0
    [row] = fetch_rows(database_url, "symbol = 'GOOGL'")

    closed = desk("close", str(row["id"]), "-a", "a", "--yes")

    assert closed.exit_code == 0, closed.stdout + closed.stderr
    assert {trading.get_order_by_id(leg.id).status for leg in (target, stop)} == {OrderStatus.CANCELED}
    assert trading.get_all_positions() == []
    assert fetch_rows(database_url, f"id = {row['id']}")[0]["status"] == "closed"

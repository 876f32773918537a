"""Every broker path driven through alpaca-py, the way pmctl will call it."""

from datetime import date
from decimal import Decimal

from alpaca.data.historical.option import OptionHistoricalDataClient
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.requests import OptionLatestQuoteRequest, StockLatestTradeRequest
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import (
    ClosePositionRequest,
    GetCalendarRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
)

OPTION = "GOOGL260220C00340000"


def test_every_path_through_alpaca_py(sim, state, trading, keys, noon):
    state.set_position("a", OPTION, Decimal(10), Decimal("5.20"))

    account = trading.get_account()
    assert account.account_number == "PA-A"
    assert account.status.value == "ACTIVE"
    assert Decimal(account.cash) == Decimal("100000")

    clock = trading.get_clock()
    assert clock.is_open and clock.timestamp == noon

    days = trading.get_calendar(GetCalendarRequest(start=date(2026, 2, 2), end=date(2026, 2, 9)))
    assert [d.date.isoformat() for d in days] == [
        "2026-02-02", "2026-02-03", "2026-02-04", "2026-02-05", "2026-02-06", "2026-02-09"]
    assert days[0].open.strftime("%H:%M") == "09:30" and days[0].close.hour == 16

    order = trading.submit_order(MarketOrderRequest(
        symbol="GOOGL", qty=3, side=OrderSide.BUY, time_in_force=TimeInForce.DAY,
        client_order_id="buy-googl-1"))
    assert order.status == OrderStatus.FILLED and Decimal(order.filled_avg_price) == Decimal("335.4")

    positions = {p.symbol: p for p in trading.get_all_positions()}
    assert set(positions) == {"GOOGL", OPTION}
    option = trading.get_open_position(OPTION)
    assert option.asset_class.value == "us_option" and option.side.value == "long"
    assert Decimal(option.market_value) == Decimal("4000")
    assert Decimal(option.unrealized_pl) == Decimal("-1200")
    assert trading.get_open_position(str(option.asset_id)).symbol == OPTION

    resting = trading.submit_order(LimitOrderRequest(
        symbol="GOOGL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY,
        limit_price=300))
    assert resting.status == OrderStatus.NEW
    assert trading.get_order_by_id(resting.id).id == resting.id
    assert trading.get_order_by_client_id("buy-googl-1").id == order.id
    open_orders = trading.get_orders(GetOrdersRequest(
        status=QueryOrderStatus.OPEN, symbols=["GOOGL"], nested=True, after=noon.replace(hour=15)))
    assert [o.id for o in open_orders] == [resting.id]

    trading.cancel_order_by_id(resting.id)
    assert trading.get_order_by_id(resting.id).status == OrderStatus.CANCELED
    another = trading.submit_order(LimitOrderRequest(
        symbol="GOOGL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY,
        limit_price=300))
    canceled = trading.cancel_orders()
    assert [c.id for c in canceled] == [another.id] and canceled[0].status == 200

    close = trading.close_position(OPTION, ClosePositionRequest(qty="4"))
    assert close.status == OrderStatus.FILLED and close.position_intent.value == "sell_to_close"
    assert Decimal(trading.get_open_position(OPTION).qty) == 6
    trading.close_position("GOOGL")
    assert {p.symbol for p in trading.get_all_positions()} == {OPTION}

    fills = trading.get("/account/activities/FILL", {"direction": "asc"})
    assert [(f["symbol"], f["side"], f["qty"], f["price"], f["type"]) for f in fills] == [
        ("GOOGL", "buy", "3", "335.4", "fill"),
        (OPTION, "sell", "4", "4", "fill"),
        ("GOOGL", "sell", "3", "335.4", "fill"),
    ]
    assert fills[0]["activity_type"] == "FILL" and fills[0]["order_id"] == str(order.id)
    assert fills[0]["cum_qty"] == "3" and fills[0]["leaves_qty"] == "0"
    assert fills[0]["order_status"] == "filled" and fills[0]["transaction_time"]
    state.add_activity("a", "OPEXP", symbol=OPTION, qty=Decimal(-6), description="expired")
    everything = trading.get("/account/activities", {"activity_types": "FILL,OPEXP"})
    assert everything[0]["activity_type"] == "OPEXP" and everything[0]["qty"] == "-6"
    assert everything[0]["date"] == "2026-02-03" and everything[0]["net_amount"] == "0"

    key, secret = keys["a"]
    stocks = StockHistoricalDataClient(key, secret, url_override=sim.url)
    trades = stocks.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols=["GOOGL"]))
    assert trades["GOOGL"].price == 335.4
    options = OptionHistoricalDataClient(key, secret, url_override=sim.url)
    quotes = options.get_option_latest_quote(OptionLatestQuoteRequest(symbol_or_symbols=[OPTION]))
    assert quotes[OPTION].bid_price == 4.0 and quotes[OPTION].ask_price == 4.0

    paths = {(r.method, r.path) for r in state.requests}
    assert ("GET", "/v1beta1/options/quotes/latest") in paths
    assert ("DELETE", f"/v2/positions/{OPTION}") in paths


def test_activities_pagination_and_time_window(trading, state):
    for qty in (1, 2, 3):
        trading.submit_order(MarketOrderRequest(
            symbol="GOOGL", qty=qty, side=OrderSide.BUY, time_in_force=TimeInForce.DAY))
        state.set_clock(timestamp=state.clock.now().replace(minute=qty))
    first = trading.get("/account/activities/FILL", {"page_size": 2, "direction": "asc"})
    assert [f["qty"] for f in first] == ["1", "2"]
    rest = trading.get("/account/activities/FILL",
                       {"page_size": 2, "direction": "asc", "page_token": first[-1]["id"]})
    assert [f["qty"] for f in rest] == ["3"]
    window = trading.get("/account/activities/FILL",
                         {"after": "2026-02-03T16:00:30Z", "until": "2026-02-03T16:01:30Z"})
    assert [f["qty"] for f in window] == ["2"]

"""The emulator's websocket streams through alpaca-py's own stream clients, each running its own ``run()``."""

import queue
import time
from decimal import Decimal

import pytest
from alpaca.data.live.option import OptionDataStream
from alpaca.data.live.stock import StockDataStream
from alpaca.trading.enums import OrderClass, OrderSide, TimeInForce
from alpaca.trading.requests import (
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    StopLossRequest,
    StopOrderRequest,
    TakeProfitRequest,
)
from alpaca.trading.stream import TradingStream

OPTION = "GOOGL260220C00340000"
ARRIVES = 5  # seconds a message may take on a loaded machine; waits end as soon as it is there


def no_message(received: queue.Queue, within: float = 0.5) -> bool:
    try:
        received.get(timeout=within)
    except queue.Empty:
        return True
    return False


@pytest.fixture
def updates(sim, keys, run_stream, collect, state):
    """Trade updates of account "a", once alpaca-py's TradingStream is listening."""
    received, handler = collect()
    stream = TradingStream(*keys["a"], url_override=sim.trading_stream_url)
    stream.subscribe_trade_updates(handler)
    run_stream(stream)
    state.wait_for_streams("trading", "a", listening=["trade_updates"])
    return received


def test_a_fill_of_a_resting_stop_reaches_the_trading_stream_within_a_second(updates, trading, state):
    state.set_position("a", "GOOGL", Decimal(10), Decimal("330"))
    stop = trading.submit_order(StopOrderRequest(symbol="GOOGL", qty=10, side=OrderSide.SELL,
                                                 time_in_force=TimeInForce.GTC, stop_price=320))
    placed = updates.get(timeout=ARRIVES)
    assert (placed.event, placed.order.id, placed.order.status.value) == ("new", stop.id, "new")
    filled_at = time.monotonic()
    state.set_price("GOOGL", Decimal("319.50"))
    fill = updates.get(timeout=1)
    assert time.monotonic() - filled_at < 1
    assert (fill.event, fill.order.id, fill.order.status.value) == ("fill", stop.id, "filled")
    assert (fill.price, fill.qty, fill.position_qty) == (319.5, 10, 0)
    assert fill.order.filled_avg_price == "319.5" and fill.execution_id is not None


def test_every_step_of_an_order_life_is_announced_to_its_own_account_only(
        updates, trading, client_for, state):
    other = client_for("b")
    other.submit_order(MarketOrderRequest(symbol="GOOGL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY))
    state.set_quote("GOOGL", Decimal("335"), Decimal("336"))
    order = trading.submit_order(MarketOrderRequest(symbol="GOOGL", qty=5, side=OrderSide.BUY,
                                                    time_in_force=TimeInForce.DAY))
    state.set_quote("GOOGL", Decimal("335"), Decimal("0"))
    resting = trading.submit_order(MarketOrderRequest(symbol="GOOGL", qty=2, side=OrderSide.BUY,
                                                      time_in_force=TimeInForce.DAY))
    trading.cancel_order_by_id(resting.id)
    state.close_by_hand("a", "GOOGL", price=Decimal("340"))
    events = [updates.get(timeout=ARRIVES) for _ in range(6)]
    assert [(u.event, u.order.side.value, u.order.qty) for u in events] == [
        ("new", "buy", "5"), ("fill", "buy", "5"), ("new", "buy", "2"), ("canceled", "buy", "2"),
        ("new", "sell", "5"), ("fill", "sell", "5")]
    assert events[0].order.id == order.id and events[1].price == 336
    assert events[5].position_qty == 0 and events[5].price == 340
    assert no_message(updates)


def test_quotes_and_trades_arrive_for_subscribed_symbols_only(sim, keys, run_stream, collect, state):
    quotes, on_quote = collect()
    trades, on_trade = collect()
    stream = StockDataStream(*keys["a"], url_override=sim.stock_stream_url())
    stream.subscribe_quotes(on_quote, "GOOGL")
    stream.subscribe_trades(on_trade, "GOOGL")
    run_stream(stream)
    state.wait_for_streams("stocks", "a", quotes=["GOOGL"], trades=["GOOGL"])
    state.set_quote("SPY", Decimal("600"), Decimal("600.05"))
    state.set_quote("GOOGL", Decimal("335.10"), Decimal("335.30"), bid_size=3, ask_size=7)
    quote = quotes.get(timeout=ARRIVES)
    assert (quote.symbol, quote.bid_price, quote.ask_price, quote.bid_size, quote.ask_size) == (
        "GOOGL", 335.10, 335.30, 3, 7)
    assert quote.timestamp == state.clock.now()
    state.set_price("SPY", Decimal("601"))
    state.set_price("GOOGL", Decimal("335.20"))
    trade = trades.get(timeout=ARRIVES)
    assert (trade.symbol, trade.price) == ("GOOGL", 335.20)
    assert no_message(quotes, 0.2) and no_message(trades, 0.2)


def test_a_price_without_a_set_quote_moves_the_quote_derived_from_it(sim, keys, run_stream, collect, state):
    quotes, on_quote = collect()
    stream = StockDataStream(*keys["a"], url_override=sim.stock_stream_url("sip"))
    stream.subscribe_quotes(on_quote, "GOOGL")
    run_stream(stream)
    state.wait_for_streams("stocks", "a", quotes=["GOOGL"])
    state.set_price("GOOGL", Decimal("330"))
    quote = quotes.get(timeout=ARRIVES)
    assert (quote.bid_price, quote.ask_price) == (330, 330)
    stream.unsubscribe_quotes("GOOGL")
    state.streams.wait(lambda cs: all("GOOGL" not in c["channels"].get("quotes", []) for c in cs), 5)
    state.set_price("GOOGL", Decimal("329"))
    assert no_message(quotes)


def test_option_quotes_arrive_over_msgpack_with_their_timestamps(sim, keys, run_stream, collect, state):
    quotes, on_quote = collect()
    stream = OptionDataStream(*keys["a"], url_override=sim.option_stream_url("opra"))
    stream.subscribe_quotes(on_quote, OPTION)
    run_stream(stream)
    [connection] = state.wait_for_streams("options", "a", quotes=[OPTION])
    assert connection["encoding"] == "msgpack" and connection["path"] == "/v1beta1/opra"
    state.set_quote(OPTION, Decimal("3.90"), Decimal("4.10"), age_seconds=30)
    quote = quotes.get(timeout=ARRIVES)
    assert (quote.symbol, quote.bid_price, quote.ask_price) == (OPTION, 3.90, 4.10)
    assert (state.clock.now() - quote.timestamp).total_seconds() == 30


def test_a_dropped_connection_is_seen_and_alpaca_py_reconnects(updates, trading, state):
    [before] = state.stream_connections()
    assert state.drop_streams(kind="trading", account="b") == 0
    assert state.drop_streams(kind="trading", account="a") == 1
    [after] = state.wait_for_streams("trading", "a", listening=["trade_updates"], timeout=10)
    assert after["id"] != before["id"]
    trading.submit_order(MarketOrderRequest(symbol="GOOGL", qty=1, side=OrderSide.BUY,
                                            time_in_force=TimeInForce.DAY))
    assert [updates.get(timeout=ARRIVES).event for _ in range(2)] == ["new", "fill"]


def test_a_clean_close_is_followed_by_a_reconnect_too(sim, keys, run_stream, collect, state):
    quotes, on_quote = collect()
    stream = StockDataStream(*keys["a"], url_override=sim.stock_stream_url())
    stream.subscribe_quotes(on_quote, "GOOGL")
    run_stream(stream)
    [before] = state.wait_for_streams("stocks", "a", quotes=["GOOGL"])
    assert state.drop_streams(kind="stocks", mode="close") == 1
    state.wait_for_streams("stocks", "a", quotes=["GOOGL"], excluding=[before["id"]], timeout=10)
    state.set_quote("GOOGL", Decimal("1"), Decimal("2"))
    assert quotes.get(timeout=ARRIVES).ask_price == 2


@pytest.mark.slow
def test_a_stale_stream_stays_open_and_silent_until_the_client_gives_up_on_it(
        sim, keys, run_stream, collect, state):
    quotes, on_quote = collect()
    stream = StockDataStream(*keys["a"], url_override=sim.stock_stream_url(), data_timeout=3)
    stream.subscribe_quotes(on_quote, "GOOGL")
    run_stream(stream)
    [muted] = state.wait_for_streams("stocks", "a", quotes=["GOOGL"])
    assert state.pause_streams(kind="stocks") == 1
    state.set_quote("GOOGL", Decimal("335"), Decimal("335.50"))
    assert no_message(quotes)
    [still] = state.stream_connections()
    assert (still["id"], still["paused"]) == (muted["id"], True)
    state.wait_for_streams("stocks", "a", quotes=["GOOGL"], excluding=[muted["id"]], timeout=10)
    state.set_quote("GOOGL", Decimal("335.10"), Decimal("335.60"))
    assert quotes.get(timeout=ARRIVES).bid_price == 335.10


def test_what_happens_without_a_request_is_announced_too(updates, trading, state):
    state.set_position("a", "GOOGL", Decimal(10), Decimal("330"))
    day = trading.submit_order(LimitOrderRequest(symbol="GOOGL", qty=4, side=OrderSide.SELL,
                                                 time_in_force=TimeInForce.DAY, limit_price=360))
    state.set_market_open(False)
    stop = trading.submit_order(StopOrderRequest(symbol="GOOGL", qty=6, side=OrderSide.SELL,
                                                 time_in_force=TimeInForce.GTC, stop_price=320))
    state.set_market_open(True)
    moved = trading.replace_order_by_id(stop.id, ReplaceOrderRequest(stop_price=321))
    state.reject_order(moved.id)
    events = [updates.get(timeout=ARRIVES) for _ in range(7)]
    assert [(u.event, u.order.id) for u in events] == [
        ("new", day.id), ("expired", day.id), ("accepted", stop.id), ("new", stop.id),
        ("replaced", stop.id), ("new", moved.id), ("rejected", moved.id)]
    assert events[4].order.replaced_by == moved.id and events[6].order.status.value == "rejected"


def test_an_oco_exit_is_announced_leg_by_leg(updates, trading, state):
    state.set_position("a", "GOOGL", Decimal(10), Decimal("330"))
    parent = trading.submit_order(LimitOrderRequest(
        symbol="GOOGL", qty=10, side=OrderSide.SELL, time_in_force=TimeInForce.GTC, order_class=OrderClass.OCO,
        take_profit=TakeProfitRequest(limit_price=350), stop_loss=StopLossRequest(stop_price=320)))
    state.set_price("GOOGL", Decimal("319"))
    events = [updates.get(timeout=ARRIVES) for _ in range(3)]
    assert [(u.event, u.order.id) for u in events] == [
        ("new", parent.id), ("fill", parent.legs[0].id), ("canceled", parent.id)]
    assert (events[1].price, events[1].position_qty) == (319, 0)
    assert no_message(updates, 0.2)

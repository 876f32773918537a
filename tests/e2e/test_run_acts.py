"""``pmctl run`` acts on the streams: a crossing price closes within a second, a fill settles from its trade update,
a dropped or silent stream is followed by a full REST read, and SIGTERM drains."""

import signal
import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import MarketOrderRequest

from helpers import fetch_events, fetch_rows, insert_row, quote, wait_until
from watching import ENV, STOCK, orders_for, wait_active

pytestmark = pytest.mark.slow
OPTION = "GOOGL260220C00340000"


def requests_since(state, mark: int, method: str, path: str) -> list:
    return [r for r in state.requests[mark:] if r.method == method and r.path == path]


def test_a_crossing_price_is_closed_within_a_second_and_the_fill_settles_from_its_trade_update(
        held, run_watcher, database_url):
    state = held
    state.set_quote(STOCK, Decimal("0"), Decimal("94.50"))  # nobody bids yet: a market sell rests
    watcher = run_watcher()
    wait_active(database_url, watcher, state)
    [row] = fetch_rows(database_url)
    assert (row["status"], row["stop_loss"]) == ("open", Decimal("95.0000"))

    crossed = time.monotonic()
    state.set_price(STOCK, Decimal("94"))
    wait_until(lambda: orders_for(state), "the close order at the broker", timeout=1)
    assert time.monotonic() - crossed < 1
    [order] = orders_for(state)
    assert (order.side, order.qty, order.status) == ("sell", Decimal(10), "new")
    wait_until(lambda: fetch_rows(database_url)[0]["close_order_id"] == str(order.id), "the close recorded")
    assert fetch_rows(database_url)[0]["status"] == "closing"

    mark = len(state.requests)
    bid = time.monotonic()
    state.set_quote(STOCK, Decimal("93.90"), Decimal("94.10"))
    wait_until(lambda: fetch_rows(database_url)[0]["status"] == "closed", "the fill settled", timeout=1)
    assert time.monotonic() - bid < 1
    [row] = fetch_rows(database_url)
    assert (row["exit_price"], row["close_reason"]) == (Decimal("93.9000"), "stop_loss")
    # Settled from the trade update: no request asked the broker about the order or the positions meanwhile.
    assert [r.path for r in state.requests[mark:] if r.method == "GET"] == []
    assert watcher.process.poll() is None


def test_a_trade_update_missed_while_the_trading_stream_was_down_is_found_by_the_rest_read_after_reconnecting(
        held, run_watcher, database_url):
    state = held
    watcher = run_watcher("--resync", "3600")
    wait_active(database_url, watcher, state)
    [before] = state.wait_for_streams("trading", "a", listening=["trade_updates"])
    mark = len(state.requests)

    assert state.drop_streams(kind="trading", account="a") == 1
    state.close_by_hand("a", STOCK, qty=Decimal(4), price=Decimal("99"))  # nobody listens: the update is lost

    state.wait_for_streams("trading", "a", listening=["trade_updates"], excluding=[before["id"]], timeout=10)
    wait_until(lambda: fetch_rows(database_url)[0]["quantity"] == Decimal(6), "the hand sale followed", timeout=10)
    assert requests_since(state, mark, "GET", "/v2/positions")
    changed = [e for e in fetch_events(database_url) if e["event_type"] == "quantity_changed"]
    assert changed[-1]["event_data"]["new"] == "6"


def test_a_silent_data_stream_is_reconnected_and_the_rest_read_acts_on_the_price_it_did_not_carry(
        held, run_watcher, database_url):
    state = held
    watcher = run_watcher("--resync", "3600", "--stale", "1")
    wait_active(database_url, watcher, state)
    [muted] = state.wait_for_streams("stocks", "a", quotes=[STOCK])
    assert state.pause_streams(kind="stocks", account="a") == 1
    mark = len(state.requests)

    state.set_price(STOCK, Decimal("94"))  # sent nowhere: the stream is open but mute

    wait_until(lambda: orders_for(state), "the close after the stale stream was replaced", timeout=15)
    assert requests_since(state, mark, "GET", "/v2/positions")
    wait_until(lambda: fetch_rows(database_url)[0]["status"] == "closed", "the row closed")
    assert muted["id"] not in [c["id"] for c in state.stream_connections()]
    output = watcher.output()
    assert "stocks stream silent for 1 s while the market is open: reconnecting" in output
    assert "reading the broker in full (stocks stream reconnected)" in output


def test_sigterm_finishes_the_close_in_flight_records_it_lets_go_of_the_account_and_exits_0(
        held, run_watcher, database_url, desk):
    state = held
    watcher = run_watcher()
    wait_active(database_url, watcher, state)
    sent = threading.Event()
    state.inject_fault(f"/v2/positions/{STOCK}", "latency", method="DELETE", seconds=1.5)
    state.before_request(f"/v2/positions/{STOCK}", sent.set, method="DELETE")

    state.set_price(STOCK, Decimal("94"))
    assert sent.wait(5), watcher.output()
    watcher.signal(signal.SIGTERM)

    assert watcher.wait(30) == 0, watcher.output()
    [row] = fetch_rows(database_url)
    assert (row["status"], row["exit_price"], row["close_reason"]) == ("closed", Decimal("94.0000"), "stop_loss")
    kinds = [e["event_type"] for e in fetch_events(database_url)]
    assert kinds[-3:] == ["exit_triggered", "order_submitted", "closed"]
    assert len(orders_for(state)) == 1
    assert state.stream_connections() == []
    assert "SIGTERM: finishing the cycle in flight" in watcher.output()
    checked = desk("check", "--account", "a", env=ENV)  # the lock is free again: cron acts at once
    assert checked.exit_code == 0, checked.stderr


def test_a_position_opened_meanwhile_is_adopted_and_subscribed_and_a_price_read_with_it_is_acted_on(
        held, run_watcher, database_url, keys, sim):
    state = held
    state.set_price("QQQ", Decimal("400"))
    watcher = run_watcher("--resync", "3600")
    wait_active(database_url, watcher, state)
    # The REST read the new position calls for is served just after SPY crossed its stop: the stream's print of
    # that trade then brings nothing new, and the price must be acted on as the read brought it.
    state.before_request("/v2/positions", lambda: state.set_price(STOCK, Decimal("94")), method="GET")

    bought = TradingClient(*keys["a"], url_override=sim.url).submit_order(MarketOrderRequest(
        symbol="QQQ", qty=5, side=OrderSide.BUY, time_in_force=TimeInForce.DAY))
    assert bought.status.value == "filled"

    wait_until(lambda: [r["status"] for r in fetch_rows(database_url)] == ["closed", "open"],
               "SPY closed and QQQ adopted", timeout=10)
    [_, qqq] = fetch_rows(database_url)
    assert (qqq["symbol"], qqq["quantity"], qqq["entry_price"]) == ("QQQ", Decimal(5), Decimal("400.0000"))
    state.wait_for_streams("stocks", "a", quotes=["QQQ"], trades=["QQQ"], timeout=10)
    wait_until(lambda: STOCK not in state.wait_for_streams("stocks", "a", quotes=["QQQ"])[0]["channels"]["quotes"],
               "SPY unsubscribed once closed")


def held_call(state, database_url, **levels) -> None:
    """Account "a" holds 10 of the GOOGL call at 5.20, quoted 5.20 x 5.30, tracked with ``levels``."""
    quote(state, OPTION, "5.20")
    state.set_position("a", OPTION, Decimal(10), Decimal("5.20"))
    insert_row(database_url, ticker="GOOGL", option_symbol=OPTION, instrument_type="CALL", quantity=10,
               entry_price=Decimal("5.20"), strike_price=340, expiration_date=date(2026, 2, 20), **levels)


def watch_call(state, run_watcher, database_url, env: dict[str, str] | None = None):
    """``pmctl run`` watching the held call with a stop at 4.80, once its option stream carries the call."""
    held_call(state, database_url, stop_loss=Decimal("4.80"))
    watcher = run_watcher("--resync", "3600", env=env)
    wait_active(database_url, watcher, state, symbols=())
    state.wait_for_streams("options", "a", quotes=[OPTION], trades=[OPTION], timeout=10)
    return watcher


def close_left_working(state, run_watcher, database_url, tmp_path, policy_text: str) -> None:
    """Under the policy ``policy_text``, the call's stop fires on a bid of 4.70 and its limit close rests unfilled:
    as it reaches the broker nobody bids near it (2.00 x 4.90, a spread too wide to judge, so the walk takes its
    equal steps). The broker's clock runs, as the watcher's does, so orders are stamped as placed."""
    policy = tmp_path / "pmctl.toml"
    policy.write_text(policy_text)
    state.set_clock(frozen=False)
    watch_call(state, run_watcher, database_url, env={"PMCTL_POLICY_FILE": str(policy)})
    state.before_request("/v2/orders", lambda: state.set_quote(OPTION, Decimal("2.00"), Decimal("4.90")),
                         method="POST")
    state.set_quote(OPTION, Decimal("4.70"), Decimal("4.90"))
    wait_until(lambda: orders_for(state, OPTION), "the option's limit close at the broker", timeout=1)


def test_an_underlying_level_is_judged_on_the_stock_streams_print_and_no_cycle_asks_for_the_underlying(
        state, run_watcher, database_url):
    held_call(state, database_url, underlying_stop=Decimal("330"))
    watcher = run_watcher("--resync", "3600")
    wait_active(database_url, watcher, state, symbols=["GOOGL"])
    state.wait_for_streams("options", "a", quotes=[OPTION], trades=[OPTION], timeout=10)
    mark = len(state.requests)

    crossed = time.monotonic()
    state.set_price("GOOGL", Decimal("329.50"))
    wait_until(lambda: orders_for(state, OPTION), "the option's close at the broker", timeout=1)
    assert time.monotonic() - crossed < 1
    [order] = orders_for(state, OPTION)
    assert (order.side, order.qty, order.position_intent) == ("sell", Decimal(10), "sell_to_close")
    assert [r.path for r in state.requests[mark:] if "/trades/latest" in r.path] == []
    wait_until(lambda: fetch_rows(database_url)[0]["status"] == "closed", "the row closed")
    # The cycle's lines are logged once its plan is applied, a moment after the row's close is committed.
    wait_until(lambda: "underlying GOOGL 329.50 at or below underlying stop" in watcher.output(), "the reason logged")


def test_an_options_bid_crossing_its_stop_on_the_stream_closes_it_with_no_quote_request(
        state, run_watcher, database_url):
    watch_call(state, run_watcher, database_url)
    state.set_quote(OPTION, Decimal("5.10"), Decimal("5.20"))
    wait_until(lambda: fetch_rows(database_url)[0]["price_source"] == "bid", "a cycle on the streamed quote")
    mark = len(state.requests)

    crossed = time.monotonic()
    state.set_quote(OPTION, Decimal("4.70"), Decimal("4.90"))
    wait_until(lambda: orders_for(state, OPTION), "the option's close at the broker", timeout=1)
    assert time.monotonic() - crossed < 1
    [order] = orders_for(state, OPTION)
    assert (order.side, order.type, order.limit_price, order.position_intent) == (
        "sell", "limit", Decimal("4.70"), "sell_to_close")
    assert [r.path for r in state.requests[mark:] if "/quotes/latest" in r.path] == []


def test_quotes_arriving_many_times_a_second_walk_a_limit_close_once_per_interval(
        state, run_watcher, database_url, tmp_path):
    close_left_working(state, run_watcher, database_url, tmp_path,
                       "[defaults.option]\nwalk_steps = 20\nwalk_interval_seconds = 1\n")
    placed = time.monotonic()
    ask = Decimal("4.90")
    while time.monotonic() - placed < 2.5:  # 20 quotes a second, each waking the watcher
        ask = Decimal("4.91") if ask == Decimal("4.90") else Decimal("4.90")
        state.set_quote(OPTION, Decimal("2.00"), ask)
        time.sleep(0.05)

    steps = [order.client_order_id for order in orders_for(state, OPTION)]
    assert steps[0] == "pmctl-a-1-0" and 1 <= len(steps) - 1 <= 3, steps
    assert all(order.status != "filled" for order in orders_for(state, OPTION))


def test_a_limit_close_on_a_contract_nobody_quotes_still_walks_on_the_watchers_beat(
        state, run_watcher, database_url, tmp_path):
    close_left_working(state, run_watcher, database_url, tmp_path, "[defaults.option]\nwalk_interval_seconds = 1\n")
    # No quote comes after the one that left the limit unfilled; the beat (every 5 s) wakes the walk.
    wait_until(lambda: len(orders_for(state, OPTION)) == 2, "the walk's first step with no quote", timeout=8)
    assert [order.client_order_id for order in orders_for(state, OPTION)] == ["pmctl-a-1-0", "pmctl-a-1-0-w1"]

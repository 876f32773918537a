"""Latest quotes in batches on the account's feeds, limit closes and their replacement: through alpaca-py over HTTP
to the emulator."""

import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from pmctl.broker import errors
from pmctl.broker.adapter import AlpacaBroker
from pmctl.broker.transport import RetryPolicy
from pmctl.config import AccountConfig, Secret
from pmctl.core.market import CloseRequest

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02)
CALL = "GOOGL260220C00340000"
PUT = "GOOGL260220P00300000"


@pytest.fixture
def broker_for(sim, keys):
    def make(name: str = "a", **feeds) -> AlpacaBroker:
        key, secret = keys[name]
        account = AccountConfig(name=name, api_key=Secret(key), secret_key=Secret(secret), base_url=sim.url,
                                data_url=sim.url, paper=True, account_number=None, adopt=True, **feeds)
        return AlpacaBroker(account, Decimal(5), policy=FAST)

    return make


@pytest.fixture
def broker(broker_for):
    return broker_for()


def data_requests(state):
    return [(r.path, r.feed) for r in state.requests if "/latest" in r.path]


def test_quotes_come_with_sides_sizes_and_the_time_they_were_quoted(broker, state, noon):
    state.set_quote(CALL, Decimal("3.10"), Decimal("3.60"), 4, 12, age_seconds=600)
    quotes = broker.latest_quotes(["GOOGL"], [CALL])
    call = quotes[CALL]
    assert (call.bid, call.ask, call.bid_size, call.ask_size) == (Decimal("3.10"), Decimal("3.60"), 4, 12)
    assert call.at == noon - timedelta(seconds=600)
    assert (quotes["GOOGL"].bid, quotes["GOOGL"].ask) == (Decimal("335.40"), Decimal("335.40"))
    assert sorted(data_requests(state)) == [("/v1beta1/options/quotes/latest", "indicative"),
                                            ("/v2/stocks/quotes/latest", "iex")]


def test_a_zero_bid_arrives_as_nobody_bidding(broker, state):
    state.set_quote(CALL, Decimal("0"), Decimal("0.05"))
    assert broker.latest_quotes([], [CALL])[CALL].bid == 0


def test_quotes_are_read_100_symbols_a_request_per_asset_class_on_the_configured_feeds(broker_for, state):
    options = [f"GOOGL260220C{strike * 1000:08d}" for strike in range(100, 350)]
    stocks = [f"S{n:03d}" for n in range(150)]
    for symbol in options + stocks:
        state.set_price(symbol, Decimal("1.25"))
    broker = broker_for(stock_feed="sip", option_feed="opra")
    quotes = broker.latest_quotes(stocks + stocks[:10], options)
    assert set(quotes) == set(options) | set(stocks)
    assert sorted(data_requests(state)) == [("/v1beta1/options/quotes/latest", "opra")] * 3 + [
        ("/v2/stocks/quotes/latest", "sip")] * 2


def test_no_symbols_is_no_request_and_a_symbol_without_a_quote_is_left_out(broker, state):
    assert broker.latest_quotes([], []) == {}
    assert data_requests(state) == []
    assert broker.latest_quotes([], [PUT]) == {}


def test_batches_are_read_at_once_so_a_large_book_costs_a_few_round_trips_of_latency(broker, state):
    options = [f"GOOGL260220C{strike * 1000:08d}" for strike in range(100, 900)]
    for symbol in options:
        state.set_price(symbol, Decimal("1.25"))
    state.set_latency(0.2)
    started = time.monotonic()
    assert len(broker.latest_quotes([], options)) == 800
    assert time.monotonic() - started < 8 * 0.2
    assert len(data_requests(state)) == 8


def test_a_failing_data_api_is_retried_and_then_the_broker_is_unavailable(broker, state):
    state.inject_fault("/v1beta1/options/quotes/latest", "error", count=2, status=503)
    assert CALL in broker.latest_quotes([], [CALL])
    state.inject_fault("/v1beta1/options/quotes/latest", "error", count=10, status=500)
    with pytest.raises(errors.BrokerUnavailable, match=f"read the quotes of {CALL}"):
        broker.latest_quotes([], [CALL])


def close(qty: str = "10", cid: str = "pmctl-a-1-0") -> CloseRequest:
    return CloseRequest(CALL, "sell", Decimal(qty), cid, "sell_to_close", "limit", Decimal("3.10"))


def test_a_limit_close_is_a_day_order_with_its_intent_and_rests_until_marketable(broker, state):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.set_quote(CALL, Decimal("3.05"), Decimal("3.60"))
    order = broker.submit_limit_close(close(), Decimal("3.10"))
    assert (order.order_type, order.limit_price, order.status, order.position_intent, order.client_order_id) == (
        "limit", Decimal("3.10"), "new", "sell_to_close", "pmctl-a-1-0")
    placed = state.get_order("a", order.id)
    assert (placed.time_in_force, placed.limit_price) == ("day", Decimal("3.10"))
    state.set_quote(CALL, Decimal("3.15"), Decimal("3.60"))
    assert broker.order_by_id(order.id).filled_avg_price == Decimal("3.15")


def test_a_limit_off_the_tick_is_refused_as_alpaca_refuses_it(broker, state):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    with pytest.raises(errors.BrokerRejected, match="increments of 0.05"):
        broker.submit_limit_close(close(), Decimal("3.12"))


def test_a_stock_close_cannot_be_sent_as_a_limit(broker, state):
    with pytest.raises(ValueError):
        broker.submit_limit_close(CloseRequest("GOOGL", "sell", Decimal(1), "pmctl-a-1-0", None), Decimal("335"))
    assert state.requests == []


def test_a_walk_step_replaces_the_limit_under_its_own_client_order_id(broker, state):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.set_quote(CALL, Decimal("2.90"), Decimal("3.60"))
    first = broker.submit_limit_close(close(), Decimal("3.10"))
    second = broker.replace_order(first.id, "pmctl-a-1-0-w1", limit_price=Decimal("3.00"))
    assert (second.client_order_id, second.limit_price, second.status) == ("pmctl-a-1-0-w1", Decimal("3.00"), "new")
    assert broker.order_by_id(first.id).status == "replaced"
    third = broker.replace_order(second.id, "pmctl-a-1-0-w2", limit_price=Decimal("2.90"))
    assert (third.status, third.filled_avg_price) == ("filled", Decimal("2.90"))
    assert [o.client_order_id for o in broker.open_orders()] == []


def test_a_replacement_whose_answer_is_lost_is_unknown_sent_once_and_found_by_its_id(broker, state):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.set_quote(CALL, Decimal("2.90"), Decimal("3.60"))
    first = broker.submit_limit_close(close(), Decimal("3.10"))
    state.inject_fault(f"/v2/orders/{first.id}", "lost_answer", count=5, method="PATCH", status=504)
    with pytest.raises(errors.OrderOutcomeUnknown, match="pmctl-a-1-0-w1"):
        broker.replace_order(first.id, "pmctl-a-1-0-w1", limit_price=Decimal("3.00"))
    assert sum(1 for r in state.requests if r.method == "PATCH") == 1
    assert broker.order_by_client_id("pmctl-a-1-0-w1").limit_price == Decimal("3.00")


def test_replacing_an_order_that_already_filled_is_refused_not_resent(broker, state):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.set_quote(CALL, Decimal("3.20"), Decimal("3.60"))
    filled = broker.submit_limit_close(close(), Decimal("3.10"))
    assert filled.status == "filled"
    with pytest.raises(errors.BrokerRejected, match="order is not open"):
        broker.replace_order(filled.id, "pmctl-a-1-0-w1", limit_price=Decimal("3.00"))


def test_a_limit_close_of_a_contract_no_longer_held_is_refused_as_already_flat(broker, state):
    with pytest.raises(errors.IntentMismatch) as refused:
        broker.submit_limit_close(replace(close(), client_order_id="pmctl-a-1-1"), Decimal("3.10"))
    assert refused.value.position_is_gone


def test_the_data_clients_are_imported_with_the_adapter_not_by_parallel_account_threads():
    """Two accounts' threads importing alpaca-py's data package at once can fail with a KeyError from the import
    system (the benchmark's eight parallel accounts did): it is loaded before any thread starts."""
    script = ("import sys, pmctl.broker.adapter; "
              "print(all(m in sys.modules for m in ('alpaca.data.historical.stock', 'alpaca.data.historical.option')))")
    done = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "True", done.stderr

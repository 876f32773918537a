"""Every broker path pmctl uses, through alpaca-py over HTTP to the emulator."""

import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from pmctl.broker import errors
from pmctl.broker.adapter import AlpacaBroker
from pmctl.broker.transport import RetryPolicy
from pmctl.core.market import CloseRequest
from pmctl.config import AccountConfig, Secret

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02)
CALL = "GOOGL260220C00340000"


@pytest.fixture
def broker_for(sim, keys):
    def make(name: str = "a", timeout: str = "5", secret: str | None = None) -> AlpacaBroker:
        key, real_secret = keys[name]
        account = AccountConfig(
            name=name, api_key=Secret(key), secret_key=Secret(secret or real_secret), base_url=sim.url,
            data_url=sim.url, paper=True, account_number=None, adopt=True,
        )
        return AlpacaBroker(account, Decimal(timeout), policy=FAST)

    return make


@pytest.fixture
def broker(broker_for):
    return broker_for("a")


def requests_to(state, path: str) -> int:
    return sum(1 for record in state.requests if record.path == path)


def test_account_identity_is_asked_once_per_process(broker, state):
    first = broker.account()
    assert first.account_number == "PA-A"
    assert broker.account() is first
    assert requests_to(state, "/v2/account") == 1


def test_clock_is_utc_and_calendar_sessions_are_new_york_hours_in_utc(broker, noon):
    clock = broker.clock()
    assert clock.timestamp == noon
    assert clock.is_open
    assert clock.next_close.tzinfo is not None
    sessions = broker.calendar(date(2026, 2, 2), date(2026, 2, 9))
    assert [s.day for s in sessions] == [date(2026, 2, d) for d in (2, 3, 4, 5, 6, 9)]
    assert sessions[0].open == datetime(2026, 2, 2, 14, 30, tzinfo=timezone.utc)
    assert sessions[0].close == datetime(2026, 2, 2, 21, 0, tzinfo=timezone.utc)


def test_positions_are_signed_with_available_quantity(broker, state):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.set_position("a", "ORCL", Decimal("-12"), Decimal("160.25"))
    state.set_price("ORCL", Decimal("158.90"))
    state.set_market_open(False)
    state.submit_order("a", CALL, Decimal("4"), "sell", client_order_id="resting-stop")
    positions = {p.symbol: p for p in broker.positions()}
    assert positions[CALL].qty == Decimal("10")
    assert positions[CALL].qty_available == Decimal("6")
    assert positions[CALL].current_price == Decimal("4.00")
    assert positions[CALL].asset_class == "us_option"
    assert positions["ORCL"].qty == Decimal("-12")
    assert positions["ORCL"].is_short
    assert positions["ORCL"].qty_available == Decimal("12")


def test_open_orders_are_only_open_ones_and_page_past_500(broker, state, noon):
    state.set_position("a", "GOOGL", Decimal("1000"), Decimal("300"))
    filled = state.submit_order("a", "GOOGL", Decimal("1"), "sell", client_order_id="filled-one")
    state.set_market_open(False)
    for n in range(503):
        state.set_clock(timestamp=noon + timedelta(seconds=n // 3))
        state.submit_order("a", "GOOGL", Decimal("1"), "sell", client_order_id=f"open-{n}")
    orders = broker.open_orders()
    assert len(orders) == 503
    assert {o.client_order_id for o in orders} == {f"open-{n}" for n in range(503)}
    assert filled.client_order_id not in {o.client_order_id for o in orders}


def test_open_orders_that_cannot_be_read_completely_are_an_error_not_a_short_list(broker, state):
    state.set_position("a", "GOOGL", Decimal("1000"), Decimal("300"))
    state.set_market_open(False)
    for n in range(501):
        state.submit_order("a", "GOOGL", Decimal("1"), "sell", client_order_id=f"open-{n}")
    with pytest.raises(errors.BrokerUnavailable, match="could not read every open order"):
        broker.open_orders()


def test_order_lookup_by_client_order_id_and_cancel(broker, state):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.set_market_open(False)
    state.submit_order("a", CALL, Decimal("2"), "sell", client_order_id="pmctl-target")
    found = broker.order_by_client_id("pmctl-target")
    assert (found.symbol, found.side, found.qty, found.status) == (CALL, "sell", Decimal("2"), "accepted")
    assert broker.order_by_client_id("never-sent") is None
    broker.cancel_order(found.id)
    assert broker.open_orders() == []
    with pytest.raises(errors.BrokerRejected):
        broker.cancel_order(found.id)


def test_option_close_sells_the_contract_with_an_explicit_intent(broker, state):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.set_position("a", "GOOGL", Decimal("0"), Decimal("0"))
    order = broker.submit_close(CloseRequest(CALL, "sell", Decimal("10"), "pmctl-a-1-0", "sell_to_close"))
    assert (order.symbol, order.side, order.position_intent, order.status) == (CALL, "sell", "sell_to_close", "filled")
    assert order.filled_avg_price == Decimal("4.00")
    assert {p.symbol for p in broker.positions()} == set()


def test_a_close_of_a_contract_not_held_is_refused_not_turned_into_a_short(broker, state):
    """Seed 03: the explicit intent is what stops a stray sell from opening a short."""
    with pytest.raises(errors.IntentMismatch) as refused:
        broker.submit_close(CloseRequest(CALL, "sell", Decimal("10"), "pmctl-a-1-0", "sell_to_close"))
    assert refused.value.position_is_gone
    assert "inferred: sell_to_open, specified: sell_to_close" in str(refused.value)
    assert broker.positions() == []


def test_covering_a_short_stock_buys_it_back(broker, state):
    state.set_position("a", "ORCL", Decimal("-12"), Decimal("160.25"))
    state.set_price("ORCL", Decimal("158.90"))
    order = broker.submit_close(CloseRequest("ORCL", "buy", Decimal("12"), "pmctl-a-2-0", None))
    assert order.status == "filled"
    assert broker.positions() == []


def test_rejections_are_typed(broker, state):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    with pytest.raises(errors.InsufficientQuantity, match="requested: 11, available: 10"):
        broker.submit_close(CloseRequest(CALL, "sell", Decimal("11"), "too-many", "sell_to_close"))
    broker.submit_close(CloseRequest(CALL, "sell", Decimal("1"), "once", "sell_to_close"))
    with pytest.raises(errors.DuplicateClientOrderId):
        broker.submit_close(CloseRequest(CALL, "sell", Decimal("1"), "once", "sell_to_close"))


def test_wrong_keys_are_unauthorized(broker_for):
    with pytest.raises(errors.Unauthorized, match="refused the API keys"):
        broker_for("a", secret="not-the-secret").positions()


def test_a_lost_answer_is_unknown_and_the_order_is_sent_exactly_once(broker, state):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.inject_fault("/v2/orders", "lost_answer", count=5, method="POST", status=504)
    with pytest.raises(errors.OrderOutcomeUnknown):
        broker.submit_close(CloseRequest(CALL, "sell", Decimal("10"), "pmctl-a-1-0", "sell_to_close"))
    assert sum(1 for r in state.requests if r.path == "/v2/orders" and r.method == "POST") == 1
    found = broker.order_by_client_id("pmctl-a-1-0")
    assert found is not None and found.status == "filled"


def test_a_dropped_connection_on_submit_is_unknown(broker, state):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    state.inject_fault("/v2/orders", "lost_answer", count=1, method="POST")
    with pytest.raises(errors.OrderOutcomeUnknown):
        broker.submit_close(CloseRequest(CALL, "sell", Decimal("10"), "pmctl-a-1-0", "sell_to_close"))
    assert broker.order_by_client_id("pmctl-a-1-0").status == "filled"


def test_reads_retry_a_passing_5xx(broker, state):
    state.inject_fault("/v2/positions", "error", count=2, status=503)
    assert broker.positions() == []
    assert requests_to(state, "/v2/positions") == 3


def test_reads_give_up_after_the_bound(broker, state):
    state.inject_fault("/v2/positions", "error", count=10, status=500)
    with pytest.raises(errors.BrokerUnavailable, match="broker unavailable \\(500\\)"):
        broker.positions()
    assert requests_to(state, "/v2/positions") == 3


def test_a_hung_broker_times_out_within_the_bound(broker_for, state):
    broker = broker_for("a", timeout="0.3")
    state.inject_fault("/v2/clock", "hang", count=10)
    started = time.monotonic()
    with pytest.raises(errors.BrokerUnavailable, match="timed out"):
        broker.clock()
    assert time.monotonic() - started < 3 * 0.3 + 1


def test_fills_are_read_raw_and_paged(broker, state, noon):
    for n in range(130):
        state.add_fill_history("a", "QCOM", "sell", Decimal("1"), Decimal("151.05") + n, noon - timedelta(minutes=200 - n))
    fills = broker.fills_since(noon - timedelta(days=1))
    assert len(fills) == 130
    assert fills[0].price == Decimal("151.05") and fills[-1].price == Decimal("280.05")
    assert all(f.symbol == "QCOM" and f.side == "sell" and f.time.tzinfo for f in fills)
    assert broker.fills_since(noon) == []


def test_option_events_are_read(broker, state, noon):
    state.add_activity("a", "OPEXP", symbol="ORCL260213C00155000", qty=Decimal("3"), on=date(2026, 2, 13))
    events = broker.option_events_since(noon - timedelta(days=30))
    assert [(e.activity_type, e.symbol, e.qty, e.day) for e in events] == [
        ("OPEXP", "ORCL260213C00155000", Decimal("3"), date(2026, 2, 13))
    ]


def test_accounts_see_only_their_own_positions(broker_for, state):
    state.set_position("a", CALL, Decimal("10"), Decimal("5.20"))
    assert broker_for("b").positions() == []
    assert broker_for("b").account().account_number == "PA-B"


def test_a_stock_close_goes_through_its_position_and_cannot_pass_flat(broker, state):
    state.set_position("a", "AMD", Decimal("100"), Decimal("150"))
    state.set_price("AMD", Decimal("140"))
    order = broker.submit_close(CloseRequest("AMD", "sell", Decimal("100"), "pmctl-a-1-0", None))
    assert (order.side, order.qty, order.status, order.filled_avg_price) == ("sell", Decimal("100"), "filled",
                                                                             Decimal("140"))
    with pytest.raises(errors.PositionNotFound) as gone:
        broker.submit_close(CloseRequest("AMD", "sell", Decimal("100"), "pmctl-a-1-1", None))
    assert (gone.value.status, gone.value.broker_message) == (404, "position does not exist")
    assert [(r.method, r.path) for r in state.requests if r.method != "GET"] == [
        ("DELETE", "/v2/positions/AMD"), ("DELETE", "/v2/positions/AMD")]
    assert broker.positions() == []


def test_a_lost_stock_close_is_found_among_the_symbols_orders_since_the_claim(broker, state, noon):
    state.set_position("a", "AMD", Decimal("-100"), Decimal("150"))
    state.set_price("AMD", Decimal("140"))
    state.add_fill_history("a", "AMD", "sell", Decimal("100"), Decimal("150"), noon - timedelta(hours=1))
    state.inject_fault("/v2/positions/AMD", "lost_answer", count=1, method="DELETE")
    with pytest.raises(errors.OrderOutcomeUnknown, match="DELETE /v2/positions/AMD"):
        broker.submit_close(CloseRequest("AMD", "buy", Decimal("100"), "pmctl-a-1-0", None))
    [found] = broker.orders_since("AMD", noon - timedelta(seconds=1))
    assert (found.side, found.qty, found.status, found.order_type) == ("buy", Decimal("100"), "filled", "market")
    assert broker.order_by_id(found.id) == found
    assert broker.order_by_id("8f2d7a44-0000-4000-8000-000000000000") is None
    assert broker.positions() == []

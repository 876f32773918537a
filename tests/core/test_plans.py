"""Plans from plain snapshots: sync, settle and check decided without a database or a broker."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import NOON
from pmctl.core.market import Clock, Order, Position
from pmctl.config import RuleDefaults
from pmctl.core.check import plan_check
from pmctl.core.model import Row, Snapshot
from pmctl.core.plan import Adopt, Alert, ChangeQuantity, Close, Defer, MarkClosed, Reopen
from pmctl.core.quotes import Quote
from pmctl.core.sync import plan_sync

DEFAULTS = RuleDefaults(None, None, None, None, 5, 1)
OPEN_CLOCK = Clock(NOON, True, NOON + timedelta(days=1), NOON.replace(hour=21))
CALL = "GOOGL260220C00340000"


def row(id_=1, symbol="SPY", **fields) -> Row:
    values = dict(id=id_, account_name="a", symbol=symbol, ticker=symbol[:5] if len(symbol) > 6 else symbol,
                  instrument_type="CALL" if len(symbol) > 6 else "STOCK", strategy_type="swing_trade", side="long",
                  quantity=Decimal(10), entry_price=Decimal(100), entry_time=NOON - timedelta(hours=1))
    values.update(fields)
    return Row(**values)


def position(symbol="SPY", qty="10", price="100", available=None) -> Position:
    qty = Decimal(qty)
    return Position(symbol, qty, abs(qty) if available is None else Decimal(available), Decimal(100), Decimal(price),
                    "us_option" if len(symbol) > 6 else "us_equity")


def snapshot(rows=(), positions=(), orders=(), clock=OPEN_CLOCK, **fields) -> Snapshot:
    return Snapshot("a", tuple(rows), tuple(positions), tuple(orders), clock, DEFAULTS, **fields)


def quotes(symbol: str, bid: str, ask: str) -> dict[str, Quote]:
    """A fresh two-sided quote: what an option's rules judge by default (its bid, for a long)."""
    return {symbol: Quote(symbol, Decimal(bid), Decimal(ask), Decimal(10), Decimal(10), NOON)}


def order(client_id, status, filled="0", price=None, qty="10", symbol="SPY") -> Order:
    return Order("o-" + client_id, client_id, symbol, "sell", Decimal(qty), Decimal(filled),
                 Decimal(price) if price else None, "market", status, NOON, NOON if status == "filled" else None, None)


def test_duplicate_rows_never_double_a_close():
    rows = [row(1, stop_loss=Decimal(95)), row(2, stop_loss=Decimal(95)), row(3, stop_loss=Decimal(95))]
    plan = plan_check(snapshot(rows, [position(price="90")]))
    assert [(c.row_id, c.qty) for c in plan.of(Close)] == [(1, Decimal(10))]


def test_a_closing_duplicate_blocks_a_second_close():
    rows = [row(1, stop_loss=Decimal(95)), row(2, status="closing", close_client_order_id="pmctl-a-2-0")]
    plan = plan_check(snapshot(rows, [position(price="90")], [order("pmctl-a-2-0", "accepted")]))
    assert plan.of(Close) == []


def test_settling_a_filled_close_closes_the_row_at_the_fill():
    closing_row = row(status="closing", close_client_order_id="pmctl-a-1-0", close_reason="stop_loss")
    plan = plan_check(snapshot([closing_row], [], close_orders={"pmctl-a-1-0": order("pmctl-a-1-0", "filled",
                                                                                       "10", "94.5")}))
    [closed] = plan.of(MarkClosed)
    assert (closed.reason, closed.exit_price, closed.order_id) == ("stop_loss", Decimal("94.5"), "o-pmctl-a-1-0")


def test_a_rejected_close_reopens_the_row_and_alerts():
    closing_row = row(status="closing", close_client_order_id="pmctl-a-1-0")
    plan = plan_check(snapshot([closing_row], [position()],
                               close_orders={"pmctl-a-1-0": order("pmctl-a-1-0", "rejected")}))
    assert [type(a) for a in plan.actions if not type(a).__name__ == "Refresh"] == [Reopen, Alert]


def test_a_partially_filled_then_cancelled_close_keeps_the_rest_open():
    closing_row = row(status="closing", close_client_order_id="pmctl-a-1-0")
    plan = plan_check(snapshot([closing_row], [position(qty="4")],
                               close_orders={"pmctl-a-1-0": order("pmctl-a-1-0", "canceled", filled="6")}))
    [change] = plan.of(ChangeQuantity)
    assert (change.old, change.new) == (Decimal(10), Decimal(4))
    assert plan.of(Reopen)[0].quantity == Decimal(4)


def test_a_close_that_never_reached_the_broker_is_resent_under_the_same_id():
    closing_row = row(status="closing", close_client_order_id="pmctl-a-1-0", close_reason="stop_loss")
    plan = plan_check(snapshot([closing_row], [position()], close_orders={"pmctl-a-1-0": None}))
    [close] = plan.of(Close)
    assert (close.client_order_id, close.side, close.qty) == ("pmctl-a-1-0", "sell", Decimal(10))


def test_a_stock_close_goes_by_position_and_one_never_received_is_resent_the_same_way():
    plan = plan_check(snapshot([row(stop_loss=Decimal(95))], [position(price="90")]))
    [close] = plan.of(Close)
    assert (close.position_intent, close.route) == (None, "DELETE /v2/positions/SPY?qty=10")
    stuck = row(status="closing", close_client_order_id="pmctl-a-1-0", close_reason="stop_loss",
                close_submitted_at=NOON - timedelta(minutes=1))
    [resend] = plan_check(snapshot([stuck], [position()], close_orders={"pmctl-a-1-0": None})).of(Close)
    assert (resend.client_order_id, resend.route) == ("pmctl-a-1-0", "DELETE /v2/positions/SPY?qty=10")
    assert resend.why == "resend: no SPY order since the claim at 15:59:00 UTC reached the broker"
    call = plan_check(snapshot([row(symbol=CALL, stop_loss=Decimal(95))], [position(CALL, price="90")],
                               quotes=quotes(CALL, "90", "91"))).of(Close)
    assert [c.route for c in call] == ["POST /v2/orders"]


def test_closes_wait_for_the_market():
    closed_clock = replace(OPEN_CLOCK, is_open=False)
    plan = plan_check(snapshot([row(stop_loss=Decimal(95))], [position(price="90")], clock=closed_clock))
    [deferred] = plan.of(Defer)
    assert deferred.why.startswith("deferred: market closed")
    assert not plan.has_changes


def test_sync_quarantines_a_short_stock_but_adopts_a_short_option_normally():
    adopt_short, alert, adopt_option = plan_sync(snapshot([], [position("ORCL", "-12"), position(CALL, "-2")]))
    assert (adopt_short.symbol, adopt_short.tracked_as, adopt_short.stop_loss) == ("ORCL", "unexpected_short", None)
    assert isinstance(alert, Alert) and alert.kind == "unexpected_short"
    assert (adopt_option.symbol, adopt_option.side, adopt_option.tracked_as) == (CALL, "short", "adopted")
    assert {adopt_short.strategy_type, adopt_option.strategy_type} == {"swing_trade"}


def test_a_quarantined_short_is_never_closed_by_a_rule():
    quarantined = row(symbol="ORCL", side="short", tracked_as="unexpected_short", stop_loss=Decimal(1))
    plan = plan_check(snapshot([quarantined], [position("ORCL", "-10", price="150")]))
    assert plan.of(Close) == []
    assert [a.kind for a in plan.of(Alert)] == ["unexpected_short"]


def test_sync_with_adoption_off_only_reports():
    [alert] = plan_sync(snapshot([], [position("META")], adopt=False))
    assert alert.kind == "untracked"


def test_a_row_on_the_wrong_side_is_never_closed():
    plan = plan_check(snapshot([row(stop_loss=Decimal(95))], [position(qty="-10", price="90")]))
    assert plan.of(Close) == []
    assert [a.kind for a in plan.of(Alert)] == ["side_mismatch"]


symbols = st.sampled_from(["SPY", "QCOM", CALL, "QCOM260220P00145000"])


@st.composite
def books(draw):
    held = draw(st.dictionaries(symbols, st.integers(-50, 50).filter(bool), max_size=4))
    positions_ = [position(s, str(q), price=str(draw(st.integers(50, 150))),
                           available=str(draw(st.integers(0, abs(q))))) for s, q in held.items()]
    rows = []
    for n, symbol in enumerate(draw(st.lists(symbols, max_size=6)), start=1):
        rows.append(row(n, symbol, side=draw(st.sampled_from(["long", "short"])),
                        quantity=Decimal(draw(st.integers(1, 60))), stop_loss=Decimal(draw(st.integers(50, 150))),
                        account_name="a"))
    return snapshot(rows, positions_, clock=replace(OPEN_CLOCK, is_open=draw(st.booleans())))


@settings(max_examples=300, deadline=None)
@given(books())
def test_a_check_plan_never_closes_more_than_held_never_increases_and_closes_each_symbol_once(book):
    plan = plan_check(book)
    closes = plan.of(Close)
    assert len({c.symbol for c in closes}) == len(closes)
    for close in closes:
        held = book.position(close.symbol)
        assert held is not None
        assert close.side == ("sell" if held.qty > 0 else "buy")
        assert 0 < close.qty <= min(abs(held.qty), held.qty_available)
        assert close.client_order_id.startswith("pmctl-a-")
    if not book.clock.is_open:
        assert closes == []
    assert all(a.symbol in {p.symbol for p in book.positions} for a in plan.of(Adopt))


def test_every_row_the_broker_no_longer_holds_is_alerted_closing_and_duplicates_too():
    rows = [row(1, symbol="QCOM", status="closing", entry_time=NOON - timedelta(hours=2)),
            row(2, symbol="NOW", entry_time=NOON - timedelta(hours=2)),
            row(3, symbol="NOW", entry_time=NOON - timedelta(hours=2)),
            row(4, symbol="SPY", entry_time=NOON - timedelta(seconds=30))]
    plan = plan_check(snapshot(rows, []))
    assert sorted(a.row_id for a in plan.of(Alert) if a.kind == "phantom_found") == [1, 2, 3]
    assert not plan.has_changes

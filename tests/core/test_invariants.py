"""Invariants over generated books: what any plan may and may not do."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import NOON
from pmctl.core.market import Fill
from pmctl.core.check import plan_check
from pmctl.core.model import Row
from pmctl.core.vocabulary import Reason
from pmctl.core.plan import Adopt, ChangeQuantity, Close, FollowEntry, MarkClosed, Reopen
from pmctl.core.reconcile import plan_reconcile
from test_plans import OPEN_CLOCK, order, position, row, snapshot

SYMBOLS = ["SPY", "QCOM", "ORCL", "GOOGL260220C00340000", "QCOM260220P00145000"]


@st.composite
def books(draw):
    held = draw(st.dictionaries(st.sampled_from(SYMBOLS), st.integers(-40, 40).filter(bool), max_size=4))
    positions = [position(s, str(q), price=str(draw(st.integers(50, 150))), available=str(abs(q)))
                 for s, q in held.items()]
    rows = []
    for n, symbol in enumerate(draw(st.lists(st.sampled_from(SYMBOLS), max_size=7)), start=1):
        status = draw(st.sampled_from(["open", "open", "closing"]))
        rows.append(row(n, symbol, side=draw(st.sampled_from(["long", "short"])),
                        quantity=Decimal(draw(st.integers(1, 40))), status=status,
                        entry_time=NOON - timedelta(minutes=draw(st.integers(0, 600))),
                        close_client_order_id=f"pmctl-a-{n}-0" if status == "closing" else None,
                        stop_loss=Decimal(draw(st.integers(50, 150)))))
    close_orders = {r.close_client_order_id: draw(st.one_of(
        st.none(), st.sampled_from(["filled", "canceled", "rejected", "accepted"]).map(
            lambda status, r=r: order(r.close_client_order_id, status, filled="0" if status != "filled" else
                                      str(r.quantity), price="99", qty=str(r.quantity), symbol=r.symbol))))
        for r in rows if r.status == "closing"}
    fills = [Fill(f"f{i}", f"o{i}", s, draw(st.sampled_from(["buy", "sell"])), Decimal(draw(st.integers(1, 40))),
                  Decimal("98.5"), NOON - timedelta(minutes=draw(st.integers(0, 300))))
             for i, s in enumerate(draw(st.lists(st.sampled_from(SYMBOLS), max_size=4)))]
    return snapshot(rows, positions, close_orders=close_orders, fills=tuple(fills),
                    clock=replace(OPEN_CLOCK, is_open=draw(st.booleans())))


def held_symbols(book):
    return {p.symbol for p in book.positions}


@settings(max_examples=300, deadline=None)
@given(books())
def test_plans_touch_only_this_accounts_rows_and_close_held_rows_only_through_an_order(book):
    for plan in (plan_check(book), plan_reconcile(book, cover_shorts=False)):
        ids = {r.id for r in book.rows}
        for action in plan.actions:
            if hasattr(action, "row_id") and action.row_id is not None:
                assert action.row_id in ids
            if isinstance(action, Close):
                assert action.client_order_id.startswith("pmctl-a-")
            if isinstance(action, MarkClosed) and action.symbol in held_symbols(book):
                closing_row = next(r for r in book.rows if r.id == action.row_id)
                assert action.reason == "duplicate" or (
                    closing_row.status == "closing" and book.close_orders.get(closing_row.close_client_order_id)
                    is not None and book.close_orders[closing_row.close_client_order_id].is_filled) or (
                    action.reason == Reason.CLOSED_AT_BROKER and action.evidence["reopened"]
                    and action.order_id in {fill.order_id for fill in book.fills if fill.symbol == action.symbol})


@settings(max_examples=300, deadline=None)
@given(books())
def test_reconcile_sends_no_order_without_cover_shorts(book):
    plan = plan_reconcile(book, cover_shorts=False)
    assert plan.of(Close) == []


def simulate(book, plan):
    """The database after a plan's bookkeeping, as the apply step would leave it (no orders in reconcile)."""
    rows = {r.id: r for r in book.rows}
    next_id = max(rows, default=0) + 1
    for action in plan.actions:
        if isinstance(action, MarkClosed):
            rows.pop(action.row_id, None)
        elif isinstance(action, Reopen):
            rows[action.row_id] = replace(rows[action.row_id], status="open", close_client_order_id=None,
                                          close_attempts=rows[action.row_id].close_attempts + 1)
        elif isinstance(action, ChangeQuantity):
            rows[action.row_id] = replace(rows[action.row_id], quantity=action.new,
                                          original_quantity=action.original)
        elif isinstance(action, FollowEntry):
            rows[action.row_id] = replace(rows[action.row_id], entry_price=action.new, stop_loss=action.stop_loss,
                                          take_profit=action.take_profit)
        elif isinstance(action, Adopt):
            rows[next_id] = Row(next_id, "a", action.symbol, action.ticker, action.instrument_type,
                                action.strategy_type, action.side, action.quantity, action.entry_price,
                                action.entry_time, tracked_as=action.tracked_as, plan_source=action.plan_source)
            next_id += 1
    return replace(book, rows=tuple(sorted(rows.values(), key=lambda r: r.id)))


@settings(max_examples=300, deadline=None)
@given(books())
def test_reconcile_twice_is_reconcile_once(book):
    once = simulate(book, plan_reconcile(book, cover_shorts=False))
    again = plan_reconcile(once, cover_shorts=False)
    assert not again.has_changes, again.actions

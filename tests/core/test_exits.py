"""The exits a plan records: pmctl's close orders, hand sales and reconcile's evidence, never a fill twice."""

from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import NOON
from pmctl.core import settle
from pmctl.core.check import plan_check
from pmctl.core.manual import plan_forced_close
from pmctl.core.exits import ExitFill
from pmctl.core.market import Fill, NonTradeActivity, Order, Position
from pmctl.core.model import Row
from pmctl.core.plan import ChangeQuantity, Close, MarkClosed, Refresh, Reopen
from pmctl.core.reconcile import plan_reconcile
from pmctl.core.vocabulary import ExitSource, Reason
from test_plans import CALL, order, position, row, snapshot

CHECKED = NOON - timedelta(minutes=5)


def sale(n: int, qty: str, price: str, minutes: int, order_id: str | None = None, symbol: str = "SPY") -> Fill:
    return Fill(f"f{n}", order_id or f"h{n}", symbol, "sell", Decimal(qty), Decimal(price),
                CHECKED + timedelta(minutes=minutes))


def lines(action) -> list[tuple]:
    return [(line.quantity, line.price, line.reason, line.order_id, line.source) for line in action.exits]


def test_a_close_cancelled_after_a_partial_fill_records_what_it_sold():
    closing_row = row(status="closing", close_client_order_id="pmctl-a-1-0", close_reason="stop_loss")
    plan = plan_check(snapshot([closing_row], [position(qty="6")],
                               close_orders={"pmctl-a-1-0": order("pmctl-a-1-0", "canceled", "4", "94.5")}))
    [change] = plan.of(ChangeQuantity)
    assert lines(change) == [(Decimal(4), Decimal("94.5"), "stop_loss", "o-pmctl-a-1-0", ExitSource.PMCTL)]


def test_a_close_answered_in_part_is_an_exit_now_and_one_answered_in_full_closes_with_it():
    open_row = row()
    close = Close(1, "SPY", "sell", Decimal(4), Reason.SCALE_OUT, "pmctl-a-1-0", None, (), "scale out")
    part = settle.on_answer(open_row, close, order("pmctl-a-1-0", "filled", "4", "120", qty="4"), position())
    assert part == ExitFill(1, "SPY", Decimal(4), Decimal(120), NOON, "scale_out", "o-pmctl-a-1-0", ExitSource.PMCTL)
    whole = settle.on_answer(open_row, close, order("pmctl-a-1-0", "filled", "10", "120"), position())
    assert isinstance(whole, MarkClosed) and lines(whole) == [
        (Decimal(10), Decimal(120), "scale_out", "o-pmctl-a-1-0", ExitSource.PMCTL)]
    assert settle.on_answer(open_row, close, order("pmctl-a-1-0", "accepted"), position()) is None


def test_a_hand_sale_is_recorded_per_order_at_its_fills_and_never_from_an_order_already_recorded():
    checked = row(last_checked_at=CHECKED)
    fills = (sale(1, "2", "101", 1, "pmctl-order"), sale(2, "1", "102", 2, "hand"), sale(3, "2", "105", 3, "hand"))
    plan = plan_check(snapshot([checked], [position(qty="7")], fills=fills,
                               recorded_exits={1: frozenset({"pmctl-order"})}))
    [change] = plan.of(ChangeQuantity)
    assert (change.old, change.new) == (Decimal(10), Decimal(7))
    assert lines(change) == [(Decimal(3), Decimal(104), "closed_at_broker", "hand", ExitSource.BROKER)]


def test_a_shrunk_position_with_no_fill_is_an_exit_at_a_price_unknown_once_the_row_was_checked():
    checked = plan_check(snapshot([row(last_checked_at=CHECKED)], [position(qty="7")]))
    assert lines(checked.of(ChangeQuantity)[0]) == [(Decimal(3), None, "closed_at_broker", None, ExitSource.BROKER)]
    never = plan_check(snapshot([row()], [position(qty="7")]))
    assert lines(never.of(ChangeQuantity)[0]) == []


def test_reconcile_records_an_expiry_at_zero_an_assignment_at_a_price_unknown_and_a_phantom_at_its_fills():
    rows = [row(1, CALL, expiration_date=NOON.date()), row(2, "GOOGL260220P00300000", expiration_date=NOON.date()),
            row(3, "QCOM", quantity=Decimal(5))]
    events = (NonTradeActivity("e1", "OPEXP", CALL, Decimal(10), NOON.date()),
              NonTradeActivity("e2", "OPASN", "GOOGL260220P00300000", Decimal(10), NOON.date()))
    fills = (sale(1, "2", "150", 1, "earlier", "QCOM"), sale(2, "5", "151", 2, "hand", "QCOM"))
    plan = plan_reconcile(snapshot(rows, [], fills=fills, option_events=events,
                                   recorded_exits={3: frozenset({"earlier"})}), cover_shorts=False)
    closes = {action.row_id: action for action in plan.of(MarkClosed)}
    assert lines(closes[1]) == [(Decimal(10), Decimal(0), "expired", None, ExitSource.BROKER)]
    assert lines(closes[2]) == [(Decimal(10), None, "assigned", None, ExitSource.BROKER)]
    assert lines(closes[3]) == [(Decimal(5), Decimal(151), "closed_at_broker", "hand", ExitSource.BROKER)]
    assert closes[3].exit_price == Decimal(151)


def test_reconcile_settles_a_stuck_partial_close_and_a_hand_sale_in_one_quantity_change():
    stuck = row(status="closing", close_client_order_id="pmctl-a-1-0", close_reason="stop_loss",
                close_submitted_at=NOON - timedelta(minutes=10), last_checked_at=CHECKED)
    fills = (sale(1, "4", "95", 1, "o-pmctl-a-1-0"), sale(2, "3", "96", 2, "hand"))
    plan = plan_reconcile(snapshot([stuck], [position(qty="3")], fills=fills, close_orders={
        "pmctl-a-1-0": order("pmctl-a-1-0", "canceled", "4", "95")}), cover_shorts=False)
    [change] = plan.of(ChangeQuantity)
    assert (change.old, change.new) == (Decimal(10), Decimal(3))
    assert lines(change) == [(Decimal(4), Decimal(95), "stop_loss", "o-pmctl-a-1-0", ExitSource.PMCTL),
                             (Decimal(3), Decimal(96), "closed_at_broker", "hand", ExitSource.BROKER)]
    assert len(plan.of(Reopen)) == 1


def test_a_forced_close_first_follows_a_hand_sale_so_the_sale_is_recorded_too():
    checked = row(last_checked_at=CHECKED)
    plan = plan_forced_close(snapshot([checked], [position(qty="3")], fills=(sale(1, "7", "103", 1),)), checked, None,
                             None)
    [change] = plan.of(ChangeQuantity)
    [close] = plan.of(Close)
    assert plan.actions.index(change) < plan.actions.index(close)
    assert (change.new, close.qty) == (Decimal(3), Decimal(3))
    assert lines(change) == [(Decimal(7), Decimal(103), "closed_at_broker", "h1", ExitSource.BROKER)]


# The property: whatever the order of partial fills, hand sales, cycles and reconciles, a row's ledger never holds
# more than the row held, and once the orders have ended and a cycle and a reconcile have run, it holds exactly what
# left the position. A small broker and database, driven only through the core's decisions.

HELD = Decimal(10)


@dataclass
class Desk:
    row: Row = field(default_factory=lambda: row(quantity=HELD, original_quantity=HELD))
    held: Decimal = HELD
    minutes: int = 0
    orders: dict[str, Order] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    ledger: dict[object, ExitFill] = field(default_factory=dict)

    @property
    def now(self):
        return NOON + timedelta(minutes=self.minutes)

    def working(self) -> list[Order]:
        return [o for o in self.orders.values() if o.status in settle.WORKING]

    def snapshot(self):
        clock = replace(snapshot().clock, timestamp=self.now)
        reserved = sum((o.qty - o.filled_qty for o in self.working()), Decimal(0))
        held = [Position("SPY", self.held, self.held - reserved, Decimal(100), Decimal(100), "us_equity")] \
            if self.held else []
        claim = self.row.close_client_order_id
        ended = {claim: o for o in self.orders.values() if o.client_order_id == claim and o.status not in settle.WORKING}
        rows = [self.row] if self.row.status != "closed" else []
        recorded = frozenset(line.order_id for line in self.ledger.values() if line.order_id)
        return snapshot(rows, held, self.working(), clock, close_orders=ended, fills=tuple(self.fills),
                        recorded_exits={self.row.id: recorded})

    def fill(self, order_id: str, qty: Decimal, price: Decimal = Decimal(99)) -> Order:
        old = self.orders[order_id]
        filled = old.filled_qty + qty
        average = ((old.filled_avg_price or 0) * old.filled_qty + price * qty) / filled
        done = filled == old.qty
        self.orders[order_id] = replace(old, filled_qty=filled, filled_avg_price=average,
                                        status="filled" if done else "partially_filled",
                                        filled_at=self.now if done else None)
        self.fills.append(Fill(f"f{len(self.fills)}", order_id, "SPY", "sell", qty, price, self.now))
        self.held -= qty
        return self.orders[order_id]

    def record(self, exits) -> None:
        for line in exits:
            self.ledger[line.order_id or len(self.ledger)] = line

    def apply(self, actions) -> None:
        for action in actions:
            if getattr(action, "row_id", None) != self.row.id or self.row.status == "closed":
                continue
            if isinstance(action, MarkClosed):
                self.row = replace(self.row, status="closed")
                self.record(action.exits)
            elif isinstance(action, ChangeQuantity):
                self.row = replace(self.row, quantity=action.new)
                self.record(action.exits)
            elif isinstance(action, Reopen) and self.row.status == "closing":
                self.row = replace(self.row, status="open", close_client_order_id=None, close_order_id=None,
                                   close_attempts=self.row.close_attempts + 1)
            elif isinstance(action, Refresh):
                self.row = replace(self.row, last_checked_at=self.now)

    def close(self, qty: int, filled: int, ends: str) -> None:
        """pmctl close ID --qty: claimed, sent, the broker fills some at once, and the answer is settled."""
        if self.row.status != "open" or not self.held:
            return
        before = self.snapshot().position("SPY")
        plan = plan_forced_close(self.snapshot(), self.row, min(Decimal(qty), self.held), Reason.STOP_LOSS)
        self.apply(plan.of(ChangeQuantity))
        if not plan.of(Close):
            return
        [action] = plan.of(Close)
        self.row = replace(self.row, status="closing", close_client_order_id=action.client_order_id,
                           close_quantity=action.qty, close_reason=action.reason, close_submitted_at=self.now)
        order_id = f"o{len(self.orders)}"
        self.orders[order_id] = Order(order_id, action.client_order_id, "SPY", "sell", action.qty, Decimal(0), None,
                                      "market", "accepted", self.now, None, None)
        if filled:
            self.fill(order_id, min(Decimal(filled), action.qty))
        if ends == "canceled" and self.orders[order_id].status in settle.WORKING:
            self.orders[order_id] = replace(self.orders[order_id], status="canceled")
        self.row = replace(self.row, close_order_id=order_id)
        answered = settle.on_answer(self.row, action, self.orders[order_id], before)
        if isinstance(answered, ExitFill):
            self.record([answered])
        elif answered is not None:
            self.apply([answered])

    def step(self, move) -> None:
        self.minutes += 1
        kind, *args = move
        if kind == "close":
            self.close(*args)
        elif kind == "fill" and self.working():
            order_id = self.working()[0].id
            self.fill(order_id, min(Decimal(args[0]), self.orders[order_id].qty - self.orders[order_id].filled_qty))
        elif kind == "cancel" and self.working():
            order_id = self.working()[0].id
            self.orders[order_id] = replace(self.orders[order_id], status="canceled")
        elif kind == "hand":
            available = self.held - sum((o.qty - o.filled_qty for o in self.working()), Decimal(0))
            qty = min(Decimal(args[0]), available)
            if qty > 0:
                hand_id = f"hand{len(self.orders)}"
                self.orders[hand_id] = Order(hand_id, hand_id, "SPY", "sell", qty, Decimal(0), None, "market",
                                             "accepted", self.now, None, None)
                self.fill(hand_id, qty, Decimal(101))
        elif kind == "check":
            self.apply(plan_check(self.snapshot()).actions)
        elif kind == "reconcile":
            self.apply(plan_reconcile(self.snapshot(), cover_shorts=False).actions)


MOVES = st.one_of(
    st.tuples(st.just("close"), st.integers(1, 10), st.integers(0, 10), st.sampled_from(["canceled", "working"])),
    st.tuples(st.just("fill"), st.integers(1, 10)),
    st.tuples(st.just("cancel")),
    st.tuples(st.just("hand"), st.integers(1, 10)),
    st.tuples(st.just("check")),
    st.tuples(st.just("reconcile")),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(MOVES, max_size=14))
def test_a_rows_exits_never_sum_to_more_than_it_held_and_settle_to_what_left_it(moves):
    desk = Desk()
    for move in moves:
        desk.step(move)
        recorded = sum((line.quantity for line in desk.ledger.values()), Decimal(0))
        assert recorded <= HELD, (move, desk.ledger)
        assert all(line.quantity > 0 for line in desk.ledger.values())
    for _ in range(3):
        desk.step(("check",))
        desk.step(("reconcile",))
    if not desk.working():
        assert sum((line.quantity for line in desk.ledger.values()), Decimal(0)) == HELD - desk.held, desk.ledger

"""Applying a plan: the only code that sends orders or writes positions.

Bookkeeping (prices, adoptions, quantities) is written in one batch. Each
position's settlement and each close is its own unit: a failure on one is
recorded as an event and does not stop the others or undo their work.

The close protocol, in order: check the invariant; claim the row as
``closing`` with its deterministic client order id and commit; cancel pmctl's
own working orders on the symbol; send the close once (an option's as an order
under that id, a stock's through DELETE /v2/positions, which cannot pass flat);
record the order the broker answers with before anything else. A crash at any
step leaves a row that the next cycle settles from the broker's orders: an
option's by its client order id, a stock's by the symbol, the reducing side and
the claim's time (``pmctl.shell.gather``, ``pmctl.core.settle``).
"""

from dataclasses import dataclass
from decimal import Decimal

import psycopg

from pmctl.broker import errors
from pmctl.broker.adapter import AlpacaBroker
from pmctl.core.market import Order
from pmctl.core import closing
from pmctl.core.numbers import num
from pmctl.core.model import Row, Snapshot
from pmctl.core.plan import (Action, Adopt, Alert, ChangeQuantity, Close, Defer, FollowEntry, MarkClosed, Plan, Refresh,
                              Reopen)
from pmctl.store import positions as store
from pmctl.store.positions import Event


ALREADY_ALERTED = "already alerted within the cooldown"


@dataclass(frozen=True)
class Outcome:
    action: Action
    result: str
    ok: bool = True


class Applier:
    def __init__(self, snapshot: Snapshot, broker: AlpacaBroker, conn: psycopg.Connection, actor: str):
        self.snapshot = snapshot
        self.broker = broker
        self.conn = conn
        self.actor = actor
        self.account = snapshot.account
        self.now = snapshot.clock.timestamp
        self.rows = {row.id: row for row in snapshot.rows}

    def apply(self, plan: Plan) -> list[Outcome]:
        """Settlements first, so a symbol whose row just closed can be adopted afresh in the same pass."""
        outcomes = [self._settle(action) for action in plan.actions if isinstance(action, (MarkClosed, Reopen))]
        outcomes.extend(self._bookkeeping(plan))
        for action in plan.actions:
            if isinstance(action, Alert):
                outcomes.append(self._alert(action))
            elif isinstance(action, Defer):
                outcomes.append(Outcome(action, action.why))
            elif isinstance(action, Close):
                outcomes.append(self._close(action))
        return outcomes

    def _bookkeeping(self, plan: Plan) -> list[Outcome]:
        refreshes, adoptions, changes = plan.of(Refresh), plan.of(Adopt), plan.of(ChangeQuantity)
        follows = plan.of(FollowEntry)
        with self.conn.transaction():
            store.refresh(self.conn, self.account, refreshes, self.now)
            adopted = store.adopt(self.conn, self.account, adoptions)
            store.change_quantities(self.conn, self.account, changes, self.now)
            store.follow_entries(self.conn, self.account, follows, self.now)
            events = [
                *(self._trailing_event(r) for r in refreshes if self._trailing_moved(r)),
                *(Event(adopted[a.symbol], "adopted", _adopted_data(a)) for a in adoptions if a.symbol in adopted),
                *(Event(c.row_id, "quantity_changed", {"symbol": c.symbol, "old": c.old, "new": c.new,
                                                        "original": c.original, "why": c.why}) for c in changes),
                *(self._entry_event(f) for f in follows),
            ]
            store.insert_events(self.conn, self.account, events, self.actor, self.now)
        outcomes = [
            Outcome(a, f"adopted as row {adopted[a.symbol]}" if a.symbol in adopted else "already tracked by another run")
            for a in adoptions
        ]
        outcomes.extend(Outcome(c, "changed") for c in (*changes, *follows))
        return outcomes

    def _entry_event(self, follow: FollowEntry) -> Event:
        row = self.rows[follow.row_id]
        return Event(row.id, "entry_changed", {
            "symbol": follow.symbol, "old": follow.old, "new": follow.new, "stop_loss": follow.stop_loss,
            "previous_stop_loss": row.stop_loss, "take_profit": follow.take_profit,
            "previous_take_profit": row.take_profit, "plan_source": row.plan_source, "why": follow.why})

    def _trailing_moved(self, refresh: Refresh) -> bool:
        row = self.rows[refresh.row_id]
        return refresh.peak_price is not None and (refresh.peak_price, refresh.trailing_stop_price) != (
            row.peak_price, row.trailing_stop_price)

    def _trailing_event(self, refresh: Refresh) -> Event:
        row = self.rows[refresh.row_id]
        return Event(row.id, "price_update", {
            "symbol": row.symbol, "price": refresh.current_price, "peak_price": refresh.peak_price,
            "trailing_stop_price": refresh.trailing_stop_price, "previous_trailing_stop_price": row.trailing_stop_price,
        })

    def _settle(self, action: MarkClosed | Reopen) -> Outcome:
        with self.conn.transaction():
            if isinstance(action, MarkClosed):
                done = store.mark_closed(self.conn, self.account, action, self.now)
                event = _closed_event(action)
            else:
                done = store.reopen(self.conn, self.account, action, self.now)
                event = Event(action.row_id, "reopened", {"symbol": action.symbol, "why": action.why})
            if done:
                store.insert_events(self.conn, self.account, [event], self.actor, self.now)
        if not done:
            return Outcome(action, "skipped: another run changed the row first", ok=False)
        return Outcome(action, "closed" if isinstance(action, MarkClosed) else "back to open")

    def _alert(self, alert: Alert) -> Outcome:
        if (alert.kind, alert.symbol) in self.snapshot.recent_alerts:
            return Outcome(alert, ALREADY_ALERTED)
        with self.conn.transaction():
            store.insert_events(self.conn, self.account, [Event(alert.row_id, alert.kind, {
                "symbol": alert.symbol, "severity": alert.severity, "why": alert.why})], self.actor, self.now)
            if alert.kind == "brackets_missing" and alert.row_id is not None:
                row = self.rows[alert.row_id]
                open_ids = {order.id for order in self.snapshot.open_orders}
                gone = [oid for oid in (row.stop_order_id, row.target_order_id) if oid and oid not in open_ids]
                store.clear_brackets(self.conn, self.account, row.id, gone)
        return Outcome(alert, "recorded")

    def _close(self, action: Close) -> Outcome:
        row = self.rows[action.row_id]
        position = self.snapshot.position(action.symbol)
        cancelled = [order for order in self.snapshot.open_orders if order.id in action.cancel_order_ids]
        try:
            request = closing.close_request(
                position, action.symbol, action.qty,
                closing.closable(position, cancelled) if position else Decimal(0), action.client_order_id,
            )
        except closing.CloseRefused as refused:
            self._record(row, "order_failed", {"symbol": action.symbol, "why": str(refused)})
            return Outcome(action, f"not sent: {refused}", ok=False)
        with self.conn.transaction():
            if not store.mark_closing(self.conn, self.account, row.id, row.status, request.client_order_id,
                                      request.qty, action.reason, self.now):
                return Outcome(action, "skipped: another run changed the row first", ok=False)
            store.insert_events(self.conn, self.account, [Event(row.id, "exit_triggered", {
                "symbol": action.symbol, "reason": action.reason, "why": action.why, "side": request.side,
                "qty": request.qty, "client_order_id": request.client_order_id})], self.actor, self.now)
        self._cancel(cancelled)
        try:
            order = self.broker.submit_close(request)
        except errors.OrderOutcomeUnknown as unknown:
            self._record(row, "order_unknown", {"symbol": action.symbol, "client_order_id": request.client_order_id,
                                                "via": action.route, "why": str(unknown)})
            lookup = (f"the {action.symbol} orders since the claim {request.client_order_id}" if request.by_position
                      else request.client_order_id)
            return Outcome(action, f"sent, no clear answer: the next cycle looks up {lookup}", ok=False)
        except errors.BrokerRejected as rejected:
            return self._rejected(action, row, rejected)
        return self._submitted(action, row, order)

    def _cancel(self, orders: list[Order]) -> None:
        for order in orders:
            try:
                self.broker.cancel_order(order.id)
            except (errors.OrderNotFound, errors.OrderNotCancelable):
                continue

    def _submitted(self, action: Close, row: Row, order: Order) -> Outcome:
        """The answer is recorded before anything else; a fill of all the broker held closes the row at once
        (the broker's quantity, not the row's: sync makes the row follow it in this same pass)."""
        position = self.snapshot.position(row.symbol)
        whole = abs(position.qty) if position is not None else row.quantity
        with self.conn.transaction():
            store.record_order(self.conn, self.account, row.id, order.id)
            events = [Event(row.id, "order_submitted", {
                "symbol": order.symbol, "side": order.side, "qty": order.qty, "order_id": order.id,
                "client_order_id": order.client_order_id, "claim": action.client_order_id, "via": action.route,
                "status": order.status})]
            if order.is_filled and order.filled_qty >= whole:
                settled = MarkClosed(row.id, row.symbol, action.reason, order.filled_avg_price, order.filled_at,
                                     order.id, f"close order filled at {order.filled_avg_price}")
                store.mark_closed(self.conn, self.account, settled, self.now)
                events.append(_closed_event(settled))
            store.insert_events(self.conn, self.account, events, self.actor, self.now)
        if order.is_filled:
            return Outcome(action, f"filled {num(order.filled_qty)} at {num(order.filled_avg_price)}: closed")
        return Outcome(action, f"order {order.id} {order.status}; settled when it fills")

    def _rejected(self, action: Close, row: Row, rejected: errors.BrokerRejected) -> Outcome:
        flat = isinstance(rejected, errors.PositionNotFound) or (
            isinstance(rejected, errors.IntentMismatch) and rejected.position_is_gone)
        why = (f"already flat at the broker ({rejected.broker_message}): pmctl reconcile settles row {row.id}"
               if flat else f"refused: {rejected.broker_message or rejected}")
        with self.conn.transaction():
            store.reopen(self.conn, self.account, Reopen(row.id, row.symbol, row.quantity, why), self.now)
            store.insert_events(self.conn, self.account, [Event(row.id, "order_failed", {
                "symbol": action.symbol, "reason": action.reason, "client_order_id": action.client_order_id,
                "status": rejected.status, "code": rejected.code, "broker_message": rejected.broker_message,
                "already_flat": flat, "why": why})], self.actor, self.now)
        return Outcome(action, why, ok=False)

    def _record(self, row: Row, kind: str, data: dict) -> None:
        with self.conn.transaction():
            store.insert_events(self.conn, self.account, [Event(row.id, kind, data)], self.actor, self.now)


def _closed_event(action: MarkClosed) -> Event:
    """The one shape of a "closed" event, whether the row closed on its order's answer or on settlement."""
    return Event(action.row_id, "closed", {
        "symbol": action.symbol, "reason": action.reason, "exit_price": action.exit_price,
        "exit_time": action.exit_time, "order_id": action.order_id, "why": action.why, "evidence": action.evidence})


def _adopted_data(adopt: Adopt) -> dict:
    return {"symbol": adopt.symbol, "side": adopt.side, "quantity": adopt.quantity, "entry_price": adopt.entry_price,
            "tracked_as": adopt.tracked_as, "why": adopt.why}

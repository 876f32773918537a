"""Performing protection at the broker: resting, moving and cancelling a row's protective orders.

Each step commits before the broker is asked, and the broker's answer is recorded
before anything else, so a crash anywhere leaves what the next cycle repairs: the
counter a client order id is claimed under is never sent twice, an order whose
answer was lost is found by that id (``pmctl.core.resting``), and a cancel is
confirmed by reading the order back before anything counts on the quantity it
held. A stock's stop is read back against the position once it rests: with
nothing held it would open a short once elected, so it is cancelled at once.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import psycopg

from pmctl.broker import errors
from pmctl.core.market import Order
from pmctl.core.numbers import num
from pmctl.core.protective_actions import Arm, Disarm, Rearm, RecordProtection
from pmctl.core.vocabulary import EventKind, OutcomeStatus
from pmctl.errors import BrokerError
from pmctl.shell.ports import Broker
from pmctl.store import events, positions
from pmctl.store.events import Event

#: How often, and how far apart, a cancel is read back before it counts as not confirmed (Alpaca cancels
#: asynchronously: ``pending_cancel`` first).
CONFIRM_READS = 10
CONFIRM_PAUSE_SECONDS = 0.1
_ENDED = frozenset({"canceled", "expired", "rejected", "filled"})

Result = tuple[str, OutcomeStatus]


@dataclass(frozen=True)
class Cancelled:
    """What a cancel came to. ``filled``: orders that sold part of the position before they ended (the stop was
    elected as pmctl cancelled it); ``pending``: orders not yet seen to end."""

    filled: tuple[Order, ...]
    pending: tuple[str, ...]

    @property
    def confirmed(self) -> bool:
        return not self.pending and not self.filled


class Protector:
    def __init__(self, broker: Broker, conn: psycopg.Connection, account: str, actor: str, now: datetime):
        self.broker = broker
        self.conn = conn
        self.account = account
        self.actor = actor
        self.now = now

    def perform(self, action: Arm | Rearm | Disarm | RecordProtection) -> Result:
        if isinstance(action, Arm):
            return self.arm(action)
        if isinstance(action, Rearm):
            return self.rearm(action)
        if isinstance(action, Disarm):
            return self.disarm(action)
        return self.record(action)

    def arm(self, arm: Arm) -> Result:
        order = arm.order
        if not self._claim(arm.row_id, arm.seq):
            return "skipped: another run changed the row first", OutcomeStatus.CONFLICT
        try:
            placed = self.broker.submit_protection(order)
        except errors.OrderOutcomeUnknown as unknown:
            self._event(arm.row_id, EventKind.ORDER_UNKNOWN, {"symbol": arm.symbol, "client_order_id":
                                                               order.client_order_id, "why": str(unknown)})
            return f"sent, no clear answer: the next cycle looks for {order.client_order_id}", OutcomeStatus.UNKNOWN
        except errors.BrokerRejected as rejected:
            self._refused(arm.row_id, arm.symbol, order.client_order_id, rejected)
            return f"refused: {rejected.broker_message or rejected}", OutcomeStatus.FAILED
        stop, target = _ids(placed)
        with self.conn.transaction():
            positions.record_protection(self.conn, self.account, arm.row_id, stop, target)
            events.insert_events(self.conn, self.account, [Event(arm.row_id, EventKind.PROTECTION, {
                "change": "armed", "symbol": arm.symbol, "kind": order.kind, "side": order.side, "qty": order.qty,
                "stop_price": order.stop_price, "limit_price": order.limit_price, "target_price": order.target_price,
                "reason": arm.reason, "client_order_id": order.client_order_id, "order_id": placed.id,
                "stop_order_id": stop, "target_order_id": target, "status": placed.status, "why": arm.why})],
                self.actor, self.now)
        if arm.verify:
            return self._verified(arm, placed)
        return f"resting as order {placed.id} ({placed.status})", OutcomeStatus.DONE

    def rearm(self, action: Rearm) -> Result:
        if not self._claim(action.row_id, action.seq):
            return "skipped: another run changed the row first", OutcomeStatus.CONFLICT
        try:
            new = self.broker.replace_order(action.order_id, action.client_order_id, action.qty, action.stop_price,
                                            action.limit_price)
        except errors.OrderOutcomeUnknown as unknown:
            self._event(action.row_id, EventKind.ORDER_UNKNOWN, {"symbol": action.symbol, "client_order_id":
                                                                  action.client_order_id, "why": str(unknown)})
            return f"sent, no clear answer: the next cycle looks for {action.client_order_id}", OutcomeStatus.UNKNOWN
        except errors.BrokerRejected as rejected:
            self._refused(action.row_id, action.symbol, action.client_order_id, rejected)
            return f"refused: {rejected.broker_message or rejected}", OutcomeStatus.FAILED
        with self.conn.transaction():
            positions.replace_protection(self.conn, self.account, action.row_id, action.order_id, new.id)
            events.insert_events(self.conn, self.account, [Event(action.row_id, EventKind.PROTECTION, {
                "change": "moved", "symbol": action.symbol, "leg": action.leg, "replaced_order_id": action.order_id,
                "order_id": new.id, "client_order_id": action.client_order_id, "qty": action.qty,
                "stop_price": action.stop_price, "limit_price": action.limit_price, "why": action.why})],
                self.actor, self.now)
        return f"replaced by order {new.id}", OutcomeStatus.DONE

    def disarm(self, action: Disarm) -> Result:
        ids = action.order_ids or (action.order_id,)
        done = self.cancel_confirmed(ids)
        if done.filled:
            return (f"it filled {_filled_text(done.filled)} before the cancel: the next cycle settles the row at "
                    "that fill", OutcomeStatus.ALREADY_DONE)
        if done.pending:
            return (f"cancel not confirmed ({', '.join(done.pending)} still open): the next cycle looks again",
                    OutcomeStatus.FAILED)
        self.forget(action.row_id, action.symbol, ids, action.why)
        return "cancelled", OutcomeStatus.DONE

    def record(self, action: RecordProtection) -> Result:
        with self.conn.transaction():
            positions.record_protection(self.conn, self.account, action.row_id, action.stop_order_id,
                                        action.target_order_id)
            events.insert_events(self.conn, self.account, [Event(action.row_id, EventKind.PROTECTION, {
                "change": "recorded", "symbol": action.symbol, "stop_order_id": action.stop_order_id,
                "target_order_id": action.target_order_id, "why": action.why})],
                self.actor, self.now)
        return "recorded", OutcomeStatus.DONE

    def cancel_confirmed(self, order_ids: Iterable[str]) -> Cancelled:
        """Cancel each order (the first of an oco takes the rest with it) and read them back until each has ended.
        An order the broker does not know rests nowhere."""
        ids = tuple(dict.fromkeys(order_ids))
        for order_id in ids:
            try:
                self.broker.cancel_order(order_id)
            except (errors.OrderNotFound, errors.OrderNotCancelable):
                continue
        pending, filled = ids, []
        for attempt in range(CONFIRM_READS):
            if attempt:
                time.sleep(CONFIRM_PAUSE_SECONDS)
            read = {order_id: self.broker.order_by_id(order_id) for order_id in pending}
            filled += [order for order in read.values() if order is not None and order.filled_qty > 0
                       and order.status in _ENDED]
            pending = tuple(order_id for order_id, order in read.items()
                            if order is not None and order.status not in _ENDED)
            if not pending:
                break
        return Cancelled(tuple(filled), pending)

    def forget(self, row_id: int | None, symbol: str, order_ids: tuple[str, ...], why: str) -> None:
        """The row no longer names cancelled protective orders; the cancel is in its events."""
        with self.conn.transaction():
            if row_id is not None:
                positions.clear_brackets(self.conn, self.account, row_id, list(order_ids))
            events.insert_events(self.conn, self.account, [Event(row_id, EventKind.PROTECTION, {
                "change": "cancelled", "symbol": symbol, "order_ids": list(order_ids), "why": why})], self.actor, self.now)

    def _verified(self, arm: Arm, placed: Order) -> Result:
        """A stock's stop is not refused with nothing held; the position is read back once the stop holds it."""
        try:
            held = self.broker.position(arm.symbol)
        except BrokerError as error:
            return (f"resting as order {placed.id} ({placed.status}); the position could not be read back ({error}): "
                    "the next cycle cancels it if the position is gone", OutcomeStatus.DONE)
        if held is not None and (held.qty > 0) == (arm.order.side == "sell"):
            return f"resting as order {placed.id} ({placed.status})", OutcomeStatus.DONE
        done = self.cancel_confirmed((placed.id,))
        if done.confirmed:
            self.forget(arm.row_id, arm.symbol, (placed.id,), f"the broker held no {arm.symbol} once the stop rested")
        return (f"cancelled again: the broker held no {arm.symbol} once it rested as order {placed.id}",
                OutcomeStatus.FAILED)

    def _claim(self, row_id: int, seq: int) -> bool:
        with self.conn.transaction():
            return positions.claim_protection(self.conn, self.account, row_id, seq, self.now)

    def _refused(self, row_id: int, symbol: str, client_order_id: str, rejected: errors.BrokerRejected) -> None:
        self._event(row_id, EventKind.ORDER_FAILED, {
            "symbol": symbol, "client_order_id": client_order_id, "status": rejected.status, "code": rejected.code,
            "broker_message": rejected.broker_message, "why": f"protective order refused: {rejected}"})

    def _event(self, row_id: int | None, kind: EventKind, data: dict) -> None:
        with self.conn.transaction():
            events.insert_events(self.conn, self.account, [Event(row_id, kind, data)], self.actor, self.now)


def _ids(order: Order) -> tuple[str | None, str | None]:
    """(stop, target) as the row records them: an oco's answer is its take-profit with the stop leg nested."""
    if order.order_class == "oco" and order.order_type == "limit":
        return (order.legs[0].id if order.legs else None), order.id
    return order.id, None


def _filled_text(orders: tuple[Order, ...]) -> str:
    return ", ".join(f"{num(order.filled_qty)} as {order.client_order_id}" for order in orders)

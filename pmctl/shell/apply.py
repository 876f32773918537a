"""Applying a plan: the only code that sends orders or writes positions.

Bookkeeping (prices, adoptions, quantities) is written in one batch. Each
position's settlement and each close is its own unit: a failure on one is
recorded as an event and does not stop the others or undo their work.

The close protocol, in order: check the invariant; claim the row as
``closing`` with its deterministic client order id and commit; cancel pmctl's
own working orders on the symbol and confirm each cancel (a protective order
holds the quantity; one that filled meanwhile closed the position, and the
close is not sent); send the close once (an option's as an order
under that id, a stock's through DELETE /v2/positions, which cannot pass flat);
record the order the broker answers with before anything else. A crash at any
step leaves a row that the next cycle settles from the broker's orders: an
option's by its client order id, a stock's by the symbol, the reducing side and
the claim's time (``pmctl.shell.gather``, ``pmctl.core.settle``).
"""

from contextlib import nullcontext
from dataclasses import dataclass

import psycopg

from pmctl.broker import errors
from pmctl.core import settle
from pmctl.core.exits import ExitFill
from pmctl.core.market import LIMIT, Order
from pmctl.core.model import Row, Snapshot
from pmctl.core.numbers import num
from pmctl.core.plan import (Action, Adopt, Alert, AwaitPosition, ChangeQuantity, ClearBrackets, Close, Defer, Edit,
                             FollowEntry, MarkClosed, Plan, Refresh, Reopen, TakePlan, WalkClose)
from pmctl.core.protective_actions import PROTECTIONS, Arm
from pmctl.core.vocabulary import TRADE_PLANS, EventKind, OutcomeStatus, Severity
from pmctl.shell.ports import Broker
from pmctl.shell.protecting import Protector
from pmctl.store import events, exits, pending, positions
from pmctl.store.events import Event

#: Statuses of an action that went as it should, or could not go otherwise (deferred, cooled down).
SUCCEEDED = frozenset({OutcomeStatus.DONE, OutcomeStatus.SENT, OutcomeStatus.DEFERRED, OutcomeStatus.COOLED,
                       OutcomeStatus.ALREADY_DONE})


@dataclass(frozen=True)
class Outcome:
    """What applying one action did: ``status`` for code, ``result`` for people."""

    action: Action
    result: str
    status: OutcomeStatus = OutcomeStatus.DONE

    @property
    def ok(self) -> bool:
        return self.status in SUCCEEDED

    @property
    def failed(self) -> bool:
        """Failed, or an error this run is the first to report (a close order the broker ended unfilled): what
        prints ``pmctl: error:`` makes the run exit 1, and its metrics say so."""
        action = self.action
        return not self.ok or (isinstance(action, Alert) and action.severity == Severity.ERROR
                               and self.status != OutcomeStatus.COOLED)


class Applier:
    def __init__(self, snapshot: Snapshot, broker: Broker, conn: psycopg.Connection, actor: str,
                 stamp: tuple[str, tuple] | None = None):
        """``stamp`` (``accounts.cycle_stamp``) rides in the refresh when that is the plan's whole work."""
        self.stamp = stamp
        self.stamped = False
        self.snapshot = snapshot
        self.broker = broker
        self.conn = conn
        self.actor = actor
        self.account = snapshot.account
        self.now = snapshot.clock.timestamp
        self.rows = {row.id: row for row in snapshot.rows}
        self.protector = Protector(broker, conn, self.account, actor, self.now)

    def apply(self, plan: Plan) -> list[Outcome]:
        """Settlements first, so a symbol whose row just closed can be adopted afresh in the same pass."""
        outcomes = [self._settle(action) for action in plan.actions if isinstance(action, (MarkClosed, Reopen))]
        outcomes.extend(self._bookkeeping(plan))
        for action in plan.actions:
            if isinstance(action, Alert):
                outcomes.append(self._alert(action))
            elif isinstance(action, Defer):
                outcomes.append(Outcome(action, action.why, OutcomeStatus.DEFERRED))
            elif isinstance(action, Close):
                outcomes.append(self._close(action))
            elif isinstance(action, WalkClose):
                outcomes.append(self._walk(action))
            elif isinstance(action, Edit):
                outcomes.append(self._edit(action))
            elif isinstance(action, AwaitPosition):
                outcomes.append(self._await(action))
            elif isinstance(action, PROTECTIONS):
                outcomes.append(Outcome(action, *self.protector.perform(action)))
        return outcomes

    def _await(self, action: AwaitPosition) -> Outcome:
        with self.conn.transaction():
            plan_id = pending.keep(self.conn, self.account, action.symbol, action.plan, action.expires_at, self.actor)
            events.insert_events(self.conn, self.account, [Event(None, EventKind.PLAN_WAITING, {
                "symbol": action.symbol, "plan_id": plan_id, "plan": action.plan, "expires_at": action.expires_at,
                "why": action.why})], self.actor, self.now)
        return Outcome(action, f"kept as plan {plan_id}")

    def _bookkeeping(self, plan: Plan) -> list[Outcome]:
        refreshes, adoptions, changes = plan.of(Refresh), plan.of(Adopt), plan.of(ChangeQuantity)
        follows, brackets, taken = plan.of(FollowEntry), plan.of(ClearBrackets), plan.of(TakePlan)
        # A steady cycle's bookkeeping is the one refresh statement, atomic on its own: no BEGIN and COMMIT trips.
        alone = not (adoptions or changes or follows or brackets or taken or any(map(self._trailing_moved, refreshes)))
        with nullcontext() if alone else self.conn.transaction():
            folded = self.stamp if alone and all(isinstance(action, Refresh) for action in plan.actions) else None
            self.stamped = positions.refresh(self.conn, self.account, refreshes, self.now, folded) and bool(folded)
            adopted = positions.adopt(self.conn, self.account, adoptions)
            pending.taken(self.conn, self.account, {a.pending_plan_id: adopted[a.symbol] for a in adoptions
                                                    if a.pending_plan_id is not None and a.symbol in adopted})
            changed = positions.change_quantities(self.conn, self.account, changes, self.now)
            self._record_exits([line for change in changes if change.row_id in changed for line in change.exits])
            positions.follow_entries(self.conn, self.account, follows, self.now)
            planned = positions.take_plans(self.conn, self.account, taken, self.now)
            for clear in brackets:
                positions.clear_brackets(self.conn, self.account, clear.row_id, list(clear.order_ids))
            written = [
                *(self._trailing_event(r) for r in refreshes if self._trailing_moved(r)),
                *(Event(adopted[a.symbol], EventKind.ADOPTED, _adopted_data(a)) for a in adoptions
                  if a.symbol in adopted),
                *(Event(c.row_id, EventKind.QUANTITY_CHANGED, {"symbol": c.symbol, "old": c.old, "new": c.new,
                                                                "original": c.original, "why": c.why}) for c in changes),
                *(self._entry_event(f) for f in follows),
                *(self._plan_event(t) for t in taken if t.row_id in planned),
            ]
            events.insert_events(self.conn, self.account, written, self.actor, self.now)
        outcomes = [
            Outcome(a, f"adopted as row {adopted[a.symbol]}") if a.symbol in adopted
            else Outcome(a, "already tracked by another run", OutcomeStatus.ALREADY_DONE)
            for a in adoptions
        ]
        outcomes.extend(Outcome(c, "changed") for c in (*changes, *follows))
        outcomes.extend(Outcome(t, "taken") if t.row_id in planned
                        else Outcome(t, "skipped: the row or its execution changed meanwhile", OutcomeStatus.CONFLICT)
                        for t in taken)
        outcomes.extend(Outcome(c, "forgotten") for c in brackets)
        return outcomes

    def _entry_event(self, follow: FollowEntry) -> Event:
        row = self.rows[follow.row_id]
        return Event(row.id, EventKind.ENTRY_CHANGED, {
            "symbol": follow.symbol, "old": follow.old, "new": follow.new, "stop_loss": follow.stop_loss,
            "previous_stop_loss": row.stop_loss, "take_profit": follow.take_profit,
            "previous_take_profit": row.take_profit, "plan_source": row.plan_source, "why": follow.why})

    def _plan_event(self, taken: TakePlan) -> Event:
        """What the row's trade changed, each field old and new, and what of the ledger was not taken."""
        row = self.rows[taken.row_id]
        changed = {name: {"old": getattr(row, name), "new": getattr(taken, name)} for name in _PLAN_FIELDS
                   if getattr(row, name) != getattr(taken, name)}
        return Event(row.id, EventKind.PLAN_TAKEN, {"symbol": taken.symbol, "execution_id": taken.execution_uuid,
                                                    "changed": changed, "notes": list(taken.notes), "why": taken.why})

    def _trailing_moved(self, refresh: Refresh) -> bool:
        row = self.rows[refresh.row_id]
        return refresh.peak_price is not None and (refresh.peak_price, refresh.trailing_stop_price) != (
            row.peak_price, row.trailing_stop_price)

    def _trailing_event(self, refresh: Refresh) -> Event:
        row = self.rows[refresh.row_id]
        return Event(row.id, EventKind.PRICE_UPDATE, {
            "symbol": row.symbol, "price": refresh.current_price, "peak_price": refresh.peak_price,
            "trailing_stop_price": refresh.trailing_stop_price, "previous_trailing_stop_price": row.trailing_stop_price,
        })

    def _settle(self, action: MarkClosed | Reopen) -> Outcome:
        with self.conn.transaction():
            if isinstance(action, MarkClosed):
                done = positions.mark_closed(self.conn, self.account, action, self.now)
                event = _closed_event(action)
            else:
                done = positions.reopen(self.conn, self.account, action, self.now)
                event = Event(action.row_id, EventKind.REOPENED, {"symbol": action.symbol, "why": action.why})
            if done:
                events.insert_events(self.conn, self.account, [event], self.actor, self.now)
                self._record_exits(_exits_of(action))
        if not done:
            return Outcome(action, "skipped: another run changed the row first", OutcomeStatus.CONFLICT)
        return Outcome(action, "closed" if isinstance(action, MarkClosed) else "back to open")

    def _alert(self, alert: Alert) -> Outcome:
        if alert.cooled:
            return Outcome(alert, "already alerted within the cooldown", OutcomeStatus.COOLED)
        with self.conn.transaction():
            events.insert_events(self.conn, self.account, [Event(alert.row_id, alert.kind, {
                "symbol": alert.symbol, "severity": alert.severity, "why": alert.why})], self.actor, self.now)
        return Outcome(alert, "recorded")

    def _edit(self, edit: Edit) -> Outcome:
        """A value the desk's own constraints refuse (a strategy outside its CHECK) fails the edit alone."""
        try:
            with self.conn.transaction():
                if not positions.set_exit_parameters(self.conn, self.account, edit.row_id, edit.new, edit.release):
                    return Outcome(edit, "skipped: another run changed the row first", OutcomeStatus.CONFLICT)
                events.insert_events(self.conn, self.account,
                                     [Event(edit.row_id, EventKind.EDITED, edit.recorded())], self.actor, self.now)
        except psycopg.errors.CheckViolation as refused:
            return Outcome(edit, f"the database refused it ({refused.diag.constraint_name}: "
                                 f"{refused.diag.message_primary})", OutcomeStatus.FAILED)
        return Outcome(edit, "changed")

    def _close(self, action: Close) -> Outcome:
        row = self.rows[action.row_id]
        request = action.request
        cancelled = [order for order in self.snapshot.open_orders if order.id in action.cancel_order_ids]
        with self.conn.transaction():
            if not positions.mark_closing(self.conn, self.account, row.id, row.status, request.client_order_id,
                                          request.qty, action.reason, self.now, action.trigger_price,
                                          action.trigger_source):
                return Outcome(action, "skipped: another run changed the row first", OutcomeStatus.CONFLICT)
            events.insert_events(self.conn, self.account, [Event(row.id, EventKind.EXIT_TRIGGERED, {
                "symbol": action.symbol, "reason": action.reason, "why": action.why, "side": request.side,
                "qty": request.qty, "client_order_id": request.client_order_id, "order_type": request.order_type,
                "limit_price": request.limit_price, "trigger_price": action.trigger_price,
                "trigger_source": action.trigger_source})], self.actor, self.now)
        if cancelled and (stopped := self._cancel(action, row, cancelled)) is not None:
            return stopped
        try:
            order = (self.broker.submit_limit_close(request, request.limit_price) if request.order_type == LIMIT
                     else self.broker.submit_close(request))
        except errors.OrderOutcomeUnknown as unknown:
            self._record(row, EventKind.ORDER_UNKNOWN, {"symbol": action.symbol, "client_order_id": request.client_order_id,
                                                "via": action.route, "why": str(unknown)})
            lookup = (f"the {action.symbol} orders since the claim {request.client_order_id}" if request.by_position
                      else request.client_order_id)
            return Outcome(action, f"sent, no clear answer: the next cycle looks up {lookup}", OutcomeStatus.UNKNOWN)
        except errors.BrokerRejected as rejected:
            return self._rejected(action, row, rejected, {
                "symbol": action.symbol, "reason": action.reason, "client_order_id": action.client_order_id})
        return self._submitted(action, row, order)

    def _walk(self, action: WalkClose) -> Outcome:
        """A limit close re-priced by PATCH under its step's client order id, or, past a deadline, cancelled (and
        the cancel confirmed) and sent at market under the claim's ``-m``. Each is sent once; a lost answer is
        found by its client order id among the symbol's orders next cycle, and the row stays ``closing`` under its
        claim throughout, but for a market order the broker refuses: the row is open again and its protection, if
        its profile rests one, is rested again (the limit's first send had cancelled it)."""
        row = self.rows[action.row_id]
        data = {"symbol": action.symbol, "order_id": action.order_id, "client_order_id": action.client_order_id,
                "old_limit": action.old_limit, "new_limit": action.new_limit, "why": action.why}
        if action.to_market and (held := self._limit_ended(action)) is not None:
            return held
        try:
            if action.to_market:
                order = self.broker.submit_close(action.request)
            else:
                order = self.broker.replace_order(action.order_id, action.client_order_id,
                                                  limit_price=action.new_limit)
        except errors.OrderOutcomeUnknown as unknown:
            self._record(row, EventKind.ORDER_UNKNOWN, {**data, "why": str(unknown)})
            return Outcome(action, f"sent, no clear answer: the next cycle looks up {action.client_order_id}",
                           OutcomeStatus.UNKNOWN)
        except errors.BrokerRejected as rejected:
            if action.to_market:
                return self._rejected(action, row, rejected, data)
            self._record(row, EventKind.ORDER_FAILED, {**data, "status": rejected.status, "code": rejected.code,
                                                       "broker_message": rejected.broker_message})
            over = "unable to replace order" in (rejected.broker_message or "")
            return Outcome(action, f"refused: {rejected.broker_message or rejected}; the next cycle settles "
                                   f"row {row.id} from its orders",
                           OutcomeStatus.DEFERRED if over else OutcomeStatus.FAILED)
        settled = settle.on_walked(row, order, self.snapshot.position(row.symbol))
        self._answered(row, order, settled, Event(row.id, EventKind.ORDER_REPLACED, {
            **data, "new_order_id": order.id, "status": order.status}))
        if order.is_filled:
            return Outcome(action, f"filled {num(order.filled_qty)} at {num(order.filled_avg_price)}: closed")
        return Outcome(action, f"order {order.id} {order.status}; settled when it fills", OutcomeStatus.SENT)

    def _limit_ended(self, action: WalkClose) -> Outcome | None:
        """The walking limit cancelled and seen to end before its market order goes; an Outcome when the market
        order must not go: the cancel is not confirmed, or the limit filled more meanwhile than the market order
        was sized for (the next cycle sizes it again from the broker's order)."""
        working = [order for order in self.snapshot.open_orders if order.id == action.order_id]
        if not working:
            return None
        done = self.protector.cancel_confirmed([action.order_id])
        if done.pending:
            return Outcome(action, f"not sent: the cancel of {action.order_id} is not confirmed; the next cycle "
                                   "tries again", OutcomeStatus.FAILED)
        if any(order.filled_qty > working[0].filled_qty for order in done.filled):
            return Outcome(action, f"not sent: order {action.order_id} filled more as pmctl cancelled it; the next "
                                   "cycle settles the row from it", OutcomeStatus.DEFERRED)
        return None

    def _cancel(self, action: Close, row: Row, orders: list[Order]) -> Outcome | None:
        """pmctl's orders that hold the quantity, cancelled and confirmed before the close is sent; an Outcome when
        the close must not be sent: one of them filled meanwhile (the position is not what the close was sized
        for), or a cancel is not confirmed. The row then goes back to open with no backoff."""
        done = self.protector.cancel_confirmed(order.id for order in orders)
        if done.confirmed:
            self.protector.forget(row.id, action.symbol, tuple(order.id for order in orders),
                                  f"cancelled before the close {action.client_order_id}")
            return None
        why = (f"not sent: {', '.join(order.client_order_id for order in done.filled)} filled as pmctl cancelled "
               "it; the next cycle settles the row at that fill" if done.filled
               else f"not sent: the cancel of {', '.join(done.pending)} is not confirmed; the next cycle tries again")
        with self.conn.transaction():
            positions.reopen(self.conn, self.account, Reopen(row.id, row.symbol, row.quantity, why, exited=True),
                             self.now)
            events.insert_events(self.conn, self.account, [Event(row.id, EventKind.REOPENED, {
                "symbol": action.symbol, "why": why})], self.actor, self.now)
        return Outcome(action, why, OutcomeStatus.ALREADY_DONE if done.filled else OutcomeStatus.FAILED)

    def _answered(self, row: Row, order: Order, settled, event: Event) -> None:
        """The broker's answer to a close or a walk step is recorded with its event, and the row closed if it
        filled, in one transaction."""
        with self.conn.transaction():
            positions.record_order(self.conn, self.account, row.id, order.id)
            written = [event]
            if isinstance(settled, MarkClosed):
                positions.mark_closed(self.conn, self.account, settled, self.now)
                written.append(_closed_event(settled))
            events.insert_events(self.conn, self.account, written, self.actor, self.now)
            self._record_exits(_exits_of(settled))

    def _submitted(self, action: Close, row: Row, order: Order) -> Outcome:
        """The answer is recorded before anything else, then settled as the core says (``settle.on_answer``)."""
        settled = settle.on_answer(row, action, order, self.snapshot.position(row.symbol))
        self._answered(row, order, settled, Event(row.id, EventKind.ORDER_SUBMITTED, {
            "symbol": order.symbol, "side": order.side, "qty": order.qty, "order_id": order.id,
            "client_order_id": order.client_order_id, "claim": action.client_order_id, "via": action.route,
            "status": order.status}))
        rested = "" if isinstance(settled, MarkClosed) else self._rest(action.rest)
        if order.is_filled:
            return Outcome(action, f"filled {num(order.filled_qty)} at {num(order.filled_avg_price)}: closed{rested}")
        return Outcome(action, f"order {order.id} {order.status}; settled when it fills{rested}", OutcomeStatus.SENT)

    def _rejected(self, action: Close | WalkClose, row: Row, rejected: errors.BrokerRejected, data: dict) -> Outcome:
        """A close or a deadline's market order the broker refused: the row back to open with ``data`` in its
        event, and its protection rested again unless the broker says the position is gone."""
        flat = isinstance(rejected, errors.PositionNotFound) or (
            isinstance(rejected, errors.IntentMismatch) and rejected.position_is_gone)
        reopen = settle.on_refusal(row, rejected.broker_message or str(rejected), flat)
        with self.conn.transaction():
            positions.reopen(self.conn, self.account, reopen, self.now)
            events.insert_events(self.conn, self.account, [Event(row.id, EventKind.ORDER_FAILED, {
                **data, "status": rejected.status, "code": rejected.code, "broker_message": rejected.broker_message,
                "already_flat": flat, "why": reopen.why})], self.actor, self.now)
        return Outcome(action, reopen.why + ("" if flat else self._rest(action.rearm)), OutcomeStatus.FAILED)

    def _rest(self, arm: Arm | None) -> str:
        """The protection a close leaves to rest (what a partial close leaves, or all again after a refusal)."""
        if arm is None:
            return ""
        result, _ = self.protector.arm(arm)
        return f"; protection {arm.order.client_order_id}: {result}"

    def _record_exits(self, lines: list[ExitFill]) -> None:
        """The exits ledger's lines, inside the caller's transaction: written with the settlement they belong to."""
        exits.record(self.conn, self.account, lines, self.now)

    def _record(self, row: Row, kind: EventKind, data: dict) -> None:
        with self.conn.transaction():
            events.insert_events(self.conn, self.account, [Event(row.id, kind, data)], self.actor, self.now)


def _exits_of(settled: MarkClosed | Reopen | ExitFill | None) -> list[ExitFill]:
    """What a settlement sold: a close's exits, or a close order's fill answered before the order ended."""
    if isinstance(settled, ExitFill):
        return [settled]
    return list(settled.exits) if isinstance(settled, MarkClosed) else []


def _closed_event(action: MarkClosed) -> Event:
    """The one shape of a "closed" event, whether the row closed on its order's answer or on settlement."""
    closed_by = {"closed_by": action.closed_by} if action.closed_by else {}
    return Event(action.row_id, EventKind.CLOSED, {
        "symbol": action.symbol, "reason": action.reason, "exit_price": action.exit_price,
        "exit_time": action.exit_time, "order_id": action.order_id, "why": action.why, "evidence": action.evidence,
        **closed_by})


def _adopted_data(adopt: Adopt) -> dict:
    data = {"symbol": adopt.symbol, "side": adopt.side, "quantity": adopt.quantity, "entry_price": adopt.entry_price,
            "tracked_as": adopt.tracked_as, "plan_source": adopt.plan_source, "why": adopt.why}
    if adopt.plan_source in TRADE_PLANS:
        data.update({"execution_id": adopt.execution_uuid, "notes": list(adopt.notes),
                     **{name: getattr(adopt, name) for name in _PLAN_FIELDS
                        if name not in ("execution_uuid", "tracked_as", "plan_source")}})
    return data


#: The fields a trade's plan sets on a row, recorded old and new in its ``plan_taken`` event.
_PLAN_FIELDS = ("execution_uuid", "strategy_type", "stop_loss", "take_profit", "underlying_stop", "underlying_target",
                "trailing_stop_percent", "max_hold_minutes", "stop_order_id", "target_order_id", "entry_time",
                "tracked_as", "plan_source")

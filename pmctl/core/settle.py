"""Settling closing rows: a row is closed only when the broker shows its order filled.

A close order's fate is read from the broker: an option's by its client order
id, a stock's (sent through DELETE /v2/positions, which takes no client order
id) by its recorded order id or among the symbol's orders since the claim
(``pmctl.shell.gather``). Filled: the row closes at the fill. Ended unfilled
(rejected, cancelled, expired): the row goes back to open, and the next attempt
gets a new client order id. Never received (a crash before the send): the close
is sent again under the same claim; should the first surface after all, the
broker refuses the second (an option's duplicate client order id; a stock's
DELETE for more than is still held, or for a position already gone).
"""

from decimal import Decimal

from pmctl.core.market import Order, Position
from pmctl.core import closing, exits, pricing, protect, walk
from pmctl.core.exits import ExitFill
from pmctl.core.numbers import num
from pmctl.core.model import Row, Snapshot
from pmctl.core.vocabulary import AlertKind, Reason, Severity, Status
from pmctl.core.plan import Action, Alert, ChangeQuantity, Close, Defer, MarkClosed, Reopen

WORKING = {"new", "accepted", "pending_new", "accepted_for_bidding", "partially_filled", "held", "calculated",
           "pending_cancel", "pending_replace", "done_for_day", "replaced"}


def plan_settle(snapshot: Snapshot) -> list[Action]:
    actions: list[Action] = []
    open_by_claim = walk.latest_by_claim(snapshot.open_orders)
    for row in snapshot.rows:
        if row.status != Status.CLOSING or not row.close_client_order_id:
            continue
        order = open_by_claim.get(row.close_client_order_id) or snapshot.close_orders.get(row.close_client_order_id)
        actions.extend(settle_row(row, order, snapshot))
    return actions


def settle_row(row: Row, order: Order | None, snapshot: Snapshot) -> list[Action]:
    """What a closing row needs, given its close order as the broker reports it (None: never received)."""
    if order is None:
        return _never_received(row, snapshot)
    if order.status in WORKING:
        return pricing.walked(row, order, snapshot)
    if order.is_filled:
        return _filled(row, order)
    return pricing.walked(row, order, snapshot) or _ended_unfilled(row, order)


def _filled(row: Row, order: Order) -> list[Action]:
    sold = _sold(row, order)
    if order.filled_qty >= row.quantity:
        return [
            MarkClosed(
                row.id, row.symbol, row.close_reason or Reason.FORCED_CLOSE, order.filled_avg_price, order.filled_at,
                order.id, f"close order {order.client_order_id} filled {num(order.filled_qty)} at {_price(order)}",
                exits=sold,
            )
        ]
    remaining = row.quantity - order.filled_qty
    return [
        ChangeQuantity(row.id, row.symbol, row.quantity, remaining, row.original_quantity or row.quantity,
                       f"close order {order.client_order_id} filled {num(order.filled_qty)} of {num(row.quantity)}",
                       sold),
        Reopen(row.id, row.symbol, remaining, f"partial exit: {num(remaining)} {row.symbol} still held",
               exited=True, scaled_out=row.close_reason == Reason.SCALE_OUT),
    ]


def _ended_unfilled(row: Row, order: Order) -> list[Action]:
    remaining = row.quantity - order.filled_qty
    actions: list[Action] = []
    if order.filled_qty > 0:
        actions.append(
            ChangeQuantity(row.id, row.symbol, row.quantity, remaining, row.original_quantity or row.quantity,
                           f"close order {order.client_order_id} filled {num(order.filled_qty)} before it ended",
                           _sold(row, order)),
        )
    why = f"close order {order.client_order_id} ended {order.status} with {num(order.filled_qty)} filled"
    actions.append(Reopen(row.id, row.symbol, remaining, why))
    actions.append(Alert(row.id, row.symbol, AlertKind.ORDER_FAILED, Severity.ERROR, why))
    return actions


def _never_received(row: Row, snapshot: Snapshot) -> list[Action]:
    """Sent again under the same claim, cancelling first what of pmctl's still holds the quantity (a protective
    order a crash left resting). Gone meanwhile by the row's own resting order: closed at its fill."""
    position = snapshot.position(row.symbol)
    stopped = protect.filled_protection(row, snapshot)
    if stopped is not None:
        return [stopped]
    if position is None:
        return [
            Alert(row.id, row.symbol, AlertKind.NEEDS_RECONCILE, Severity.WARNING,
                  f"row {row.id} is closing, its order {row.close_client_order_id} never reached the broker, "
                  f"and the broker holds no {row.symbol}: pmctl reconcile settles it"),
        ]
    if not snapshot.clock.is_open:
        return [Defer(row.id, row.symbol, row.close_reason or Reason.FORCED_CLOSE, "deferred: market closed")]
    qty = min(row.close_quantity or row.quantity, abs(position.qty))
    cancel = closing.own_orders(position, snapshot.open_orders, (row.stop_order_id, row.target_order_id))
    try:
        request = closing.close_request(position, row.symbol, qty, closing.closable(position, cancel),
                                        row.close_client_order_id)
    except closing.CloseRefused as refused:
        return [Alert(row.id, row.symbol, AlertKind.ORDER_FAILED, Severity.ERROR,
                      f"cannot resend the close of row {row.id}: {refused}")]
    never = (f"no {row.symbol} order since the claim at {row.close_submitted_at:%H:%M:%S} UTC"
             if request.by_position and row.close_submitted_at else f"order {row.close_client_order_id}")
    resend = Close(row.id, request.symbol, request.side, request.qty, row.close_reason or Reason.FORCED_CLOSE,
                   request.client_order_id, request.position_intent, tuple(order.id for order in cancel),
                   f"resend: {never} reached the broker")
    return [protect.with_rearm(pricing.resent(row, resend, snapshot), row, snapshot)]


def _sold(row: Row, order: Order) -> tuple[ExitFill, ...]:
    """The close order's fill as the exits ledger keeps it: the same line its answer may have recorded."""
    line = exits.of_order(row, order, row.close_reason or Reason.FORCED_CLOSE, row.close_trigger_price)
    return () if line is None else (line,)


def _price(order: Order) -> str:
    return num(order.filled_avg_price) if order.filled_avg_price is not None else "an unreported price"


def on_answer(row: Row, close: Close, order: Order, position: Position | None) -> MarkClosed | ExitFill | None:
    """A close the broker answers as filled for all it held closes the row at once: the broker's quantity, not the
    row's, since sync makes the row follow it in this same pass. One answered with part filled is an exit
    recorded now (the row settles when the order ends); one with nothing filled yet is None."""
    return _answered(row, close.reason, order, position, close.trigger_price)


def on_walked(row: Row, order: Order, position: Position | None) -> MarkClosed | ExitFill | None:
    """The answer to a walk's step (a replacement, or the market order of a deadline), settled as a close's."""
    return _answered(row, row.close_reason or Reason.FORCED_CLOSE, order, position, row.close_trigger_price)


def _answered(row: Row, reason: str, order: Order, position: Position | None,
              trigger: Decimal | None) -> MarkClosed | ExitFill | None:
    sold = exits.of_order(row, order, reason, trigger)
    if sold is None:
        return None
    whole = abs(position.qty) if position is not None else row.quantity
    if not (order.is_filled and order.filled_qty >= whole):
        return sold
    return MarkClosed(row.id, row.symbol, reason, order.filled_avg_price, order.filled_at, order.id,
                      f"close order filled at {order.filled_avg_price}", exits=(sold,))


def on_refusal(row: Row, broker_message: str, flat: bool) -> Reopen:
    """A close the broker refused puts the row back to open. ``flat``: the refusal says the position is gone (a
    404, an intent mismatch inferred ``…_to_open``), which reconcile settles on the broker's evidence: never a
    reason to send again."""
    why = (f"already flat at the broker ({broker_message}): pmctl reconcile settles row {row.id}" if flat
           else f"refused: {broker_message}")
    return Reopen(row.id, row.symbol, row.quantity, why)

"""The close invariant, in the one function every close goes through.

pmctl never opens or increases a position. ``close_request`` is the only place a
``CloseRequest`` (what the adapter can send) is made, and it derives the side
from the broker's position itself, never from a database row, so a row that is
wrong about the side or the symbol cannot turn a close into an opening trade.

That holds at the moment of the snapshot; the broker enforces it at the moment
of the send. An option close carries ``sell_to_close``/``buy_to_close``, which
the broker refuses once the contract is gone. A stock has no intent the broker
is documented to enforce, so it is closed through DELETE /v2/positions/{symbol}
?qty=N, which cannot pass flat: a position a person closed meanwhile is a 404,
more than is still held a 403, never a new short (or long).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from pmctl import occ
from pmctl.core.model import Row, Snapshot
from pmctl.core.numbers import num
from pmctl.core.market import CloseRequest, Order, Position
from pmctl.core.plan import Alert, Close
from pmctl.core.vocabulary import AlertKind, Severity

#: The broker's ``after`` is exclusive and its clock may stamp an order in the claim's own second.
LOOKUP_MARGIN = timedelta(seconds=1)


class CloseRefused(Exception):
    """A close that would break the invariant; the message says which part."""


def client_order_id(account: str, row_id: int, attempt: int) -> str:
    """Deterministic per row and attempt, so a resend after a lost answer is recognised, not doubled."""
    return f"pmctl-{account}-{row_id}-{attempt}"


def close_request(
    position: Position | None, symbol: str, qty: Decimal, available: Decimal, client_order_id: str
) -> CloseRequest:
    if position is None or position.symbol != symbol or position.qty == 0:
        raise CloseRefused(f"the broker holds no {symbol}")
    held = abs(position.qty)
    if qty <= 0:
        raise CloseRefused(f"close quantity {qty} must be positive")
    if qty > held:
        raise CloseRefused(f"close quantity {num(qty)} is more than the {num(held)} of {symbol} held")
    if qty > available:
        raise CloseRefused(f"only {num(available)} of {symbol} is available to close; open orders hold the rest")
    if not by_position(symbol) and qty != qty.to_integral_value():
        raise CloseRefused(f"options close in whole contracts, not {qty}")
    side = reducing_side(position)
    intent = None if by_position(symbol) else f"{side}_to_close"
    return CloseRequest(symbol, side, qty, client_order_id, intent)


def by_position(symbol: str) -> bool:
    """A stock closes through its position (DELETE, which cannot pass flat); an option by an order with its intent."""
    return not occ.is_option(symbol)


def reducing_side(position: Position) -> str:
    return "sell" if position.qty > 0 else "buy"


def lookup_start(row: Row) -> datetime:
    """From when the broker's orders are read to find a stock close whose answer never came back."""
    return (row.close_submitted_at or row.entry_time) - LOOKUP_MARGIN


def sent_by_position(row: Row, orders: Iterable[Order], position: Position | None) -> Order | None:
    """The order a closing row's DELETE /v2/positions produced, among its symbol's orders (None: never sent).

    That request carries no client order id, so the order is recognised by what it
    must be: a market order on the symbol and the reducing side, submitted at or
    after the claim, not one of the row's protective orders; of several, one for
    the claimed quantity first, then the earliest. A person's market close in the
    same window would be taken for it; it reduced the same position, so the row
    settles at a real fill either way (closed, or back to open with what is left).
    """
    side = reducing_side(position) if position is not None else ("buy" if row.is_short else "sell")
    claimed = row.close_submitted_at or row.entry_time
    candidates = sorted(
        (order for order in orders
         if order.symbol == row.symbol and order.side == side and order.order_type == "market"
         and order.submitted_at >= claimed and order.id not in (row.stop_order_id, row.target_order_id)),
        key=lambda order: order.submitted_at,
    )
    exact = [order for order in candidates if order.qty == row.close_quantity]
    return (exact or candidates or [None])[0]


def own_orders(position: Position, orders: tuple[Order, ...], row_order_ids: tuple[str | None, ...]) -> list[Order]:
    """pmctl's working orders that hold quantity of this position: they are cancelled before a close."""
    reducing = reducing_side(position)
    return [
        order
        for order in orders
        if order.symbol == position.symbol
        and order.side == reducing
        and (order.client_order_id.startswith("pmctl-") or order.id in row_order_ids)
    ]


def closable(position: Position, cancelled: list[Order]) -> Decimal:
    """What can be closed once pmctl's own orders are cancelled: never more than is held."""
    released = sum((order.qty - order.filled_qty for order in cancelled), Decimal(0))
    return min(abs(position.qty), position.qty_available + released)


def close_action(row: Row, reason: str, qty: Decimal | None, why: str, snapshot: Snapshot) -> Close | Alert:
    """The Close for a row, sized from the broker; a refusal becomes an alert, never an order."""
    position = snapshot.position(row.symbol)
    try:
        if position is None:
            raise CloseRefused(f"the broker holds no {row.symbol}")
        cancel = own_orders(position, snapshot.open_orders, (row.stop_order_id, row.target_order_id))
        available = closable(position, cancel)
        request = close_request(
            position, row.symbol, qty if qty is not None else available, available,
            client_order_id(snapshot.account, row.id, row.close_attempts),
        )
    except CloseRefused as refused:
        return Alert(row.id, row.symbol, AlertKind.ORDER_FAILED, Severity.ERROR,
                     f"{reason} for row {row.id} not sent: {refused}")
    return Close(row.id, request.symbol, request.side, request.qty, reason, request.client_order_id,
                 request.position_intent, tuple(order.id for order in cancel), why)

"""The close invariant, in the one function every close goes through.

pmctl never opens or increases a position. ``close_request`` is the only place a
``CloseRequest`` (what the adapter can send) is made, and it derives the side
from the broker's position itself, never from a database row, so a row that is
wrong about the side or the symbol cannot turn a close into an opening trade.
"""

from decimal import Decimal

from pmctl import occ
from pmctl.core.numbers import num
from pmctl.broker.types import CloseRequest, Order, Position


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
    option = occ.is_option(symbol)
    if option and qty != qty.to_integral_value():
        raise CloseRefused(f"options close in whole contracts, not {qty}")
    side = "sell" if position.qty > 0 else "buy"
    intent = f"{side}_to_close" if option else None
    return CloseRequest(symbol, side, qty, client_order_id, intent)


def own_orders(position: Position, orders: tuple[Order, ...], row_order_ids: tuple[str | None, ...]) -> list[Order]:
    """pmctl's working orders that hold quantity of this position: they are cancelled before a close."""
    reducing = "sell" if position.qty > 0 else "buy"
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

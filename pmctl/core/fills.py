"""What the broker's fills say about a position: whether it went through flat, and at what price it left.

A person can close a position and open the same symbol again between two
cycles; the broker then shows a position of the same symbol, but it is not the
row's. Only the fills tell: walking back from the quantity held now, the most
recent fill after which the position was flat (or that took it across zero)
ends the row's position and starts the one held now.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pmctl.core.market import Fill, Position
from pmctl.core.model import Row


@dataclass(frozen=True)
class WentFlat:
    """The row's position ended at the broker: its exit, and when the position held now was opened."""

    exit_price: Decimal
    exit_time: datetime
    order_id: str
    fill_ids: tuple[str, ...]
    reopened_at: datetime
    parts: tuple[tuple[Fill, Decimal], ...] = ()


def fills_since(row: Row) -> datetime:
    """The fills that can change a row's story are those after pmctl last compared it with the broker."""
    return max(filter(None, (row.entry_time, row.last_checked_at)))


def went_flat(row: Row, position: Position, fills: tuple[Fill, ...]) -> WentFlat | None:
    """Where the fills since the row's last check take its position through flat; None where they do not.

    The walk starts from the broker's quantity now, not from the row's, so a
    fill the row already followed can never look like a close.
    """
    since = fills_since(row)
    mine = sorted((fill for fill in fills if fill.symbol == row.symbol and fill.time > since), key=lambda f: f.time)
    after = position.qty
    for index in range(len(mine) - 1, -1, -1):
        fill = mine[index]
        before = after - _signed(fill)
        if after == 0 or (before != 0 and (before > 0) != (after > 0)):
            reopened = fill if after != 0 or index + 1 == len(mine) else mine[index + 1]
            return _exit(row, mine[: index + 1], before, reopened.time)
        after = before
    return None


def _exit(row: Row, fills: list[Fill], before_last: Decimal, reopened_at: datetime) -> WentFlat:
    """The reducing part of the fills that ended the position, newest first, up to the row's quantity.

    The walk back stops at the fill that opened the position (from flat or across zero).
    ``parts`` keeps each fill with the quantity of it that reduced the position, for the exits ledger.
    """
    last = fills[-1]
    parts = [(last, abs(before_last))]
    after = before_last
    for fill in reversed(fills[:-1]):
        before = after - _signed(fill)
        if before == 0 or (before > 0) != (after > 0):
            break
        if abs(before) > abs(after):
            parts.append((fill, fill.qty))
        after = before
    return WentFlat(weighted([(fill.price, qty) for fill, qty in parts], row.quantity), last.time, last.order_id,
                    tuple(fill.id for fill in fills), reopened_at, tuple(parts))


def weighted(parts: list[tuple[Decimal, Decimal]], quantity: Decimal) -> Decimal:
    """Quantity-weighted price of (price, qty) parts in order, counting no more than ``quantity``."""
    remaining, cost, counted = quantity, Decimal(0), Decimal(0)
    for price, qty in parts:
        used = min(qty, remaining)
        cost += used * price
        counted += used
        remaining -= used
    return (cost / counted).quantize(Decimal("0.0001"))


def _signed(fill: Fill) -> Decimal:
    return fill.qty if fill.side == "buy" else -fill.qty

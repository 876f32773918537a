"""Exit fills: every part of a position that left it, as the exits ledger (``position_exits``) records it.

A row's realized P&L is the sum over its exits, not one exit price times the
quantity it closed with: a stop that filled in part and was sent again, a
scale-out, a hand sale that shrank the position each leave a line of their own.
One line per row and order: a close order seen again (its answer, then its
settlement) is the same line, updated to the order's cumulative fill, so no
fill is counted twice. Fills of an order the row's ledger already holds are
never taken for another exit (``recorded``).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pmctl.core.market import Fill, Order
from pmctl.core.model import Row
from pmctl.core.numbers import stored
from pmctl.core.vocabulary import ExitSource


@dataclass(frozen=True)
class ExitFill:
    """Part or all of a row's position that left it: ``price`` None is unknown (no fill the broker shows),
    ``time`` None is not reported (the ledger then dates it when it was recorded). ``trigger``: the price that
    set it off (a close's trigger price, a resting order's stop), the measure of its slippage; None: none did."""

    row_id: int
    symbol: str
    quantity: Decimal
    price: Decimal | None
    time: datetime | None
    reason: str
    order_id: str | None
    source: ExitSource
    trigger: Decimal | None = None


def of_order(row: Row, order: Order, reason: str, trigger: Decimal | None = None) -> ExitFill | None:
    """pmctl's close order as far as it has filled (None: nothing yet), with the price that triggered the close."""
    if order.filled_qty <= 0:
        return None
    return ExitFill(row.id, row.symbol, order.filled_qty, order.filled_avg_price, order.filled_at, reason, order.id,
                    ExitSource.PMCTL, trigger)


def without_fill(row: Row, quantity: Decimal, reason: str, price: Decimal | None = None) -> ExitFill:
    """What left with no fill to show for it: the quantity is known, the price only where the evidence says
    (an expiry: 0)."""
    return ExitFill(row.id, row.symbol, quantity, price, None, reason, None, ExitSource.BROKER)


def of_fills(row: Row, parts: Iterable[tuple[Fill, Decimal]], quantity: Decimal, reason: str,
             recorded: frozenset[str]) -> tuple[ExitFill, ...]:
    """The broker's fills that took up to ``quantity`` off the row, one line per order, oldest first.

    ``parts`` are (fill, the quantity of it that reduced the row), most likely
    first; fills of an order in ``recorded`` are skipped.
    """
    taken: dict[str, list[tuple[Fill, Decimal]]] = {}
    left = quantity
    for fill, qty in parts:
        if left <= 0:
            break
        if fill.order_id in recorded or qty <= 0:
            continue
        used = min(qty, left)
        taken.setdefault(fill.order_id, []).append((fill, used))
        left -= used
    lines = [_line(row, order_id, used, reason) for order_id, used in taken.items()]
    return tuple(sorted(lines, key=lambda line: line.time))


def _line(row: Row, order_id: str, parts: list[tuple[Fill, Decimal]], reason: str) -> ExitFill:
    quantity = sum((qty for _, qty in parts), Decimal(0))
    price = stored(sum((fill.price * qty for fill, qty in parts), Decimal(0)) / quantity)
    return ExitFill(row.id, row.symbol, quantity, price, max(fill.time for fill, _ in parts), reason, order_id,
                    ExitSource.BROKER)


def reducing(row: Row, fills: Iterable[Fill]) -> list[Fill]:
    """The row's symbol on the side that takes its position down."""
    side = "buy" if row.is_short else "sell"
    return [fill for fill in fills if fill.symbol == row.symbol and fill.side == side]


def total(lines: Iterable[ExitFill]) -> Decimal:
    return sum((line.quantity for line in lines), Decimal(0))

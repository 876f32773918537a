"""What an operator asks for by hand: a forced close through the same guard as the exit rules.

Refusals name the quantity, not the flag it was typed with: the command line
says which flag (``QuantityRefused.detail``), a Python caller its own words.
"""

import re
from decimal import Decimal

from pmctl import occ
from pmctl.core.closing import close_action
from pmctl.core.numbers import num
from pmctl.core.model import Row, Snapshot
from pmctl.core.vocabulary import Status
from pmctl.core.plan import ChangeQuantity, Defer, Plan
from pmctl.core.sync import follow
from pmctl.core.vocabulary import Reason
from pmctl.errors import UsageError

ROW_ID = re.compile(r"[0-9]{1,18}")


class QuantityRefused(UsageError):
    """A close quantity that cannot be sent; ``detail`` follows the quantity in the message."""

    def __init__(self, detail: str):
        super().__init__(f"quantity {detail}")
        self.detail = detail


def find_row(rows: tuple[Row, ...], target: str) -> Row | None:
    """A row by id (ASCII digits: ``'²'.isdigit()`` is true, yet no int) or by symbol (exactly as held, any case)."""
    if ROW_ID.fullmatch(target):
        return next((row for row in rows if row.id == int(target)), None)
    symbol = occ.validate(target)
    matches = sorted((row for row in rows if row.symbol == symbol), key=lambda r: r.id)
    return matches[0] if matches else None


def plan_forced_close(snapshot: Snapshot, row: Row, qty: Decimal | None, reason: str | None) -> Plan:
    if row.status == Status.CLOSING:
        raise UsageError(f"row {row.id} ({row.symbol}) is already closing (order {row.close_client_order_id})")
    position = snapshot.position(row.symbol)
    if position is None:
        raise UsageError(
            f"the broker holds no {row.symbol} for row {row.id}: nothing to close (pmctl reconcile settles the row)"
        )
    held = abs(position.qty)
    if qty is not None:
        unit = "contract" if occ.is_option(row.symbol) else "share"
        if qty < 1:
            raise QuantityRefused(f"{num(qty)} is below one {unit}")
        if qty > held:
            raise QuantityRefused(f"{num(qty)} is more than the {num(held)} {row.symbol} held")
        if unit == "contract" and qty != qty.to_integral_value():
            raise QuantityRefused(f"{num(qty)}: an option closes in whole contracts")
    why = f"operator: {reason}" if reason else "operator's forced close"
    if not snapshot.clock.is_open:
        return Plan(snapshot.account, (Defer(row.id, row.symbol, reason or Reason.FORCED_CLOSE, "deferred: market closed"),))
    return Plan(snapshot.account, (*_followed(row, position, snapshot),
                                   close_action(row, reason or Reason.FORCED_CLOSE, qty, why, snapshot)))


def _followed(row: Row, position, snapshot: Snapshot) -> list[ChangeQuantity]:
    """The row takes the broker's quantity first, as in a cycle: a close sized from the broker then settles
    against the row it closes, and what a hand sale took since the last cycle is recorded as its exit."""
    return [action for action in follow(row, position, snapshot) if isinstance(action, ChangeQuantity)]

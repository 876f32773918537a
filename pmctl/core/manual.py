"""What an operator asks for by hand: a forced close through the same guard as the exit rules.

Refusals name the quantity, not the flag it was typed with: the command line
says which flag (``QuantityRefused.detail``), a Python caller its own words.

An operator confirms a close before the account is locked, so a prompt never
holds up cron; the close is then planned again under the lock, and refused if
it is no longer the one confirmed (``plan_close``'s ``confirmed``).
"""

import re
from decimal import Decimal

from pmctl import occ
from pmctl.core import protect
from pmctl.core.closing import close_action
from pmctl.core.numbers import num
from pmctl.core.model import Row, Snapshot
from pmctl.core.plan import ChangeQuantity, Close, Defer, Plan
from pmctl.core.sync import follow
from pmctl.core.vocabulary import Reason, Status
from pmctl.errors import UsageError

ROW_ID = re.compile(r"[0-9]{1,18}")


class QuantityRefused(UsageError):
    """A close quantity that cannot be sent; ``detail`` follows the quantity in the message."""

    def __init__(self, detail: str):
        super().__init__(f"quantity {detail}")
        self.detail = detail


class NoOpenRow(UsageError):
    """No open row answers to the target in the account; ``row_id`` when the target was an id, so the caller can
    say where that row is instead."""

    def __init__(self, target: str, account: str):
        super().__init__(f"no open row for {target.upper()} in account {account!r}")
        self.row_id = int(target) if ROW_ID.fullmatch(target) else None


class CloseChanged(UsageError):
    """The close planned under the lock is not the one the operator confirmed: nothing is sent."""


def plan_close(snapshot: Snapshot, target: str, qty: Decimal | None, reason: str | None,
               confirmed: Close | None = None) -> Plan:
    """``pmctl close``'s decision: the row ``target`` names (an id or a symbol), closed through the guard.

    ``confirmed``: the close the operator agreed to; a close that would now send another symbol, side or
    quantity (the position changed meanwhile) is refused rather than sent.
    """
    row = find_row(snapshot.rows, target)
    if row is None:
        raise NoOpenRow(target, snapshot.account)
    plan = plan_forced_close(snapshot, row, qty, reason)
    if confirmed is None:
        return plan
    changed = next((close for close in plan.of(Close) if _order(close) != _order(confirmed)), None)
    if changed is not None:
        raise CloseChanged(f"the position changed since the close was confirmed ({_order_text(confirmed)}; "
                           f"now {_order_text(changed)}): nothing was sent")
    return plan


def _order(close: Close) -> tuple:
    return close.symbol, close.side, close.qty


def _order_text(close: Close) -> str:
    return f"{close.side} {num(close.qty)} {close.symbol}"


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
    close = close_action(row, reason or Reason.FORCED_CLOSE, qty, why, snapshot)
    return Plan(snapshot.account, (*_followed(row, position, snapshot), protect.with_rearm(close, row, snapshot)))


def _followed(row: Row, position, snapshot: Snapshot) -> list[ChangeQuantity]:
    """The row takes the broker's quantity first, as in a cycle: a close sized from the broker then settles
    against the row it closes, and what a hand sale took since the last cycle is recorded as its exit."""
    return [action for action in follow(row, position, snapshot) if isinstance(action, ChangeQuantity)]

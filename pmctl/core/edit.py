"""Changing a position's exit parameters by hand: validated against the position they protect.

``plan_edit`` is a decision like any other: it reads the row from the snapshot the shell gathered under the
account's lock, so the values are checked against the row as it is when they are written.
"""

from decimal import Decimal

from pmctl.core.model import Row, Snapshot
from pmctl.core.numbers import num
from pmctl.core.plan import CLEAR, Edit, Plan
from pmctl.core.vocabulary import Status
from pmctl.errors import UsageError

FIELDS = ("stop_loss", "take_profit", "trailing_stop_percent", "max_hold_minutes", "underlying_stop",
          "underlying_target", "strategy_type")
#: Fields that set the row's own plan: once the operator sets one, the row's levels are the operator's.
PLAN_FIELDS = frozenset(FIELDS) - {"max_hold_minutes", "trailing_stop_percent"}


class FieldRefused(UsageError):
    """A value the row cannot take; the command line names the flag for ``field``, the message the field."""

    def __init__(self, field: str, detail: str):
        super().__init__(f"{field} {detail}")
        self.field = field
        self.detail = detail


def editable(row_id: int, status: str) -> None:
    """Only an open row's exit parameters change: a closing row's exit is already under way."""
    if status != Status.OPEN:
        raise UsageError(f"row {row_id} is {status}: only open rows can be edited")


def plan_edit(snapshot: Snapshot, row_id: int, changes: dict[str, Decimal | int | str], force: bool = False) -> Plan:
    """``changes`` maps a field to its new value, or to "none" to remove it; unknown fields are a bug.

    A field given its current value is no change: an edit that changes nothing plans nothing. A stop already
    through the price the broker shows would close the position on the next cycle: refused unless ``force``.
    """
    row = next((row for row in snapshot.rows if row.id == row_id), None)
    if row is None:
        raise UsageError(f"row {row_id} is no longer open: only open rows can be edited")
    editable(row.id, row.status)
    return Plan(snapshot.account, edit_action(row, changes, snapshot, force))


def edit_action(row: Row, changes: dict[str, Decimal | int | str], snapshot: Snapshot,
                force: bool) -> tuple[Edit, ...]:
    """The ``Edit`` for a row (none when nothing changes); shared by ``edit`` and ``track``.

    A new strategy releases a quarantined short into the rules: the operator has said what it is.
    """
    new = {field: None if value == CLEAR else value for field, value in changes.items()}
    if new.get("strategy_type", "") is None:
        raise FieldRefused("strategy_type", "cannot be removed: give a strategy")
    merged = {field: new.get(field, getattr(row, field)) for field in FIELDS}
    _check(row, merged)
    if not force:
        _not_through(row, new.get("stop_loss"), snapshot)
    release = row.quarantined and "strategy_type" in new
    changed = {field: value for field, value in new.items()
               if value != getattr(row, field) or (release and field == "strategy_type")}
    if not changed:
        return ()
    return (Edit(row.id, row.symbol, {field: getattr(row, field) for field in changed}, changed, release=release),)


def _not_through(row: Row, stop: Decimal | None, snapshot: Snapshot) -> None:
    position = snapshot.position(row.symbol)
    price = position.current_price if position is not None else None
    if stop is None or price is None:
        return
    through = stop <= price if row.is_short else stop >= price
    if through:
        side, word = ("short", "at or below") if row.is_short else ("long", "at or above")
        raise FieldRefused("stop_loss", f"{num(stop)} is {word} the price {num(price)}: this {side}'s stop would "
                                        "close it at once (pass --force to set it anyway)")


def _check(row: Row, values: dict) -> None:
    stop, target = values["stop_loss"], values["take_profit"]
    for name, value in (("stop_loss", stop), ("take_profit", target)):
        if value is not None and value <= 0:
            raise FieldRefused(name, f"{num(value)} must be a positive price")
    percent = values["trailing_stop_percent"]
    if percent is not None and not 0 < percent < 100:
        raise FieldRefused("trailing_stop_percent", f"{num(percent)} must be between 0 and 100")
    minutes = values["max_hold_minutes"]
    if minutes is not None and minutes < 1:
        raise FieldRefused("max_hold_minutes", f"{minutes} must be at least 1")
    for name in ("underlying_stop", "underlying_target"):
        if values[name] is not None and not row.is_option:
            raise FieldRefused(name, "is for an option's underlying; this row is a stock")
        if values[name] is not None and values[name] <= 0:
            raise FieldRefused(name, f"{num(values[name])} must be a positive price")
    if stop is not None and target is not None:
        if not row.is_short and stop >= target:
            raise UsageError(f"a long's stop ({num(stop)}) must be below its target ({num(target)})")
        if row.is_short and stop <= target:
            raise UsageError(f"a short's stop ({num(stop)}) must be above its target ({num(target)})")

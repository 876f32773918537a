"""Changing a position's exit parameters by hand: validated against the position they protect."""

from dataclasses import dataclass
from decimal import Decimal

from pmctl.core.model import Row
from pmctl.core.vocabulary import Status
from pmctl.core.numbers import num
from pmctl.errors import UsageError

FIELDS = ("stop_loss", "take_profit", "trailing_stop_percent", "max_hold_minutes")
CLEAR = "none"


@dataclass(frozen=True)
class Edit:
    """The fields that change, each with its value before and after (None: not set)."""

    row_id: int
    symbol: str
    old: dict
    new: dict

    @property
    def changes(self) -> bool:
        return bool(self.new)

    def text(self) -> str:
        """``stop_loss 700 -> 720, take_profit none -> 800``: one format for every value, in the audit and on screen."""
        return ", ".join(f"{field} {shown(self.old[field])} -> {shown(self.new[field])}" for field in self.new)

    def recorded(self) -> dict:
        """The event's data: the readable text, and the values as JSON (decimals as plain strings, none as null)."""
        return {"symbol": self.symbol, "text": self.text(),
                "old": {field: _stored(value) for field, value in self.old.items()},
                "new": {field: _stored(value) for field, value in self.new.items()}}


def shown(value: Decimal | int | None) -> str:
    if value is None:
        return CLEAR
    return num(value) if isinstance(value, Decimal) else str(value)


def _stored(value: Decimal | int | None) -> str | int | None:
    return num(value) if isinstance(value, Decimal) else value


class FieldRefused(UsageError):
    """A value the row cannot take; the command line names the flag for ``field``, the message the field."""

    def __init__(self, field: str, detail: str):
        super().__init__(f"{field} {detail}")
        self.field = field
        self.detail = detail


def plan_edit(row: Row, changes: dict[str, Decimal | int | str]) -> Edit:
    """``changes`` maps a field to its new value, or to "none" to remove it; unknown fields are a bug.

    A field given its current value is no change: an edit that changes nothing records nothing.
    """
    if row.status != Status.OPEN:
        raise UsageError(f"row {row.id} is {row.status}: only open rows can be edited")
    new = {field: None if value == CLEAR else value for field, value in changes.items()}
    merged = {field: new.get(field, getattr(row, field)) for field in FIELDS}
    _check(row, merged)
    changed = {field: value for field, value in new.items() if value != getattr(row, field)}
    return Edit(row.id, row.symbol, {field: getattr(row, field) for field in changed}, changed)


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
    if stop is not None and target is not None:
        if not row.is_short and stop >= target:
            raise UsageError(f"a long's stop ({num(stop)}) must be below its target ({num(target)})")
        if row.is_short and stop <= target:
            raise UsageError(f"a short's stop ({num(stop)}) must be above its target ({num(target)})")

"""Changing a position's exit parameters by hand: validated against the position they protect."""

from dataclasses import dataclass
from decimal import Decimal

from pmctl.core.model import OPEN, Row
from pmctl.core.numbers import num
from pmctl.errors import UsageError

FIELDS = ("stop_loss", "take_profit", "trailing_stop_percent", "max_hold_minutes")
CLEAR = "none"


@dataclass(frozen=True)
class Edit:
    row_id: int
    old: dict
    new: dict


def plan_edit(row: Row, changes: dict[str, Decimal | int | str]) -> Edit:
    """``changes`` maps a field to its new value, or to "none" to remove it; unknown fields are a bug."""
    if not changes:
        raise UsageError("nothing to change: give --stop-loss, --take-profit, --trailing-stop-percent or "
                         "--max-hold-minutes")
    if row.status != OPEN:
        raise UsageError(f"row {row.id} is {row.status}: only open rows can be edited")
    new = {field: None if value == CLEAR else value for field, value in changes.items()}
    merged = {field: new.get(field, getattr(row, field)) for field in FIELDS}
    _check(row, merged)
    return Edit(row.id, {field: getattr(row, field) for field in new}, new)


def _check(row: Row, values: dict) -> None:
    stop, target = values["stop_loss"], values["take_profit"]
    for name, value in (("--stop-loss", stop), ("--take-profit", target)):
        if value is not None and value <= 0:
            raise UsageError(f"{name} {num(value)} must be a positive price")
    percent = values["trailing_stop_percent"]
    if percent is not None and not 0 < percent < 100:
        raise UsageError(f"--trailing-stop-percent {num(percent)} must be between 0 and 100")
    minutes = values["max_hold_minutes"]
    if minutes is not None and minutes < 1:
        raise UsageError(f"--max-hold-minutes {minutes} must be at least 1")
    if stop is not None and target is not None:
        if not row.is_short and stop >= target:
            raise UsageError(f"a long's stop ({num(stop)}) must be below its target ({num(target)})")
        if row.is_short and stop <= target:
            raise UsageError(f"a short's stop ({num(stop)}) must be above its target ({num(target)})")

"""What each key of the exit policy accepts, and the value it stands for.

A key is refused with the reason a desk can act on ("must be above 0 and below
100"); ``pmctl.core.policy`` adds the file and the key's path. Numbers come from
TOML as ``int`` or ``float`` and become ``Decimal`` through their shortest text,
so ``0.1`` is exactly 0.1; percentages keep at most four decimal places, as the
ledger's NUMERIC(8, 4) columns do.
"""

import difflib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from pmctl.core.numbers import num

PLACES = 4
PERCENT_LIMIT = Decimal("9999.9999")
MINUTES_LIMIT = 2**31 - 1
SESSION_MINUTES = 390
SHOWN = 40

STOCK = "stock"
OPTION = "option"
INSTRUMENTS = (STOCK, OPTION)

TRIGGERS = ("last", "bid_ask", "mid", "pessimistic_mid")
CLOSE_ORDERS = ("limit", "market")

_HOUR_MINUTE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_ROOT = re.compile(r"^[A-Z][A-Z0-9.]{0,5}$")
_OPEN = time(9, 30)
_CLOSE = time(16, 0)


class Refused(Exception):
    """A value a key cannot take; ``where`` extends the key's path (``[2].sell_percent``) to a bad value inside it."""

    def __init__(self, reason: str, where: str = "", value: object = None):
        super().__init__(reason)
        self.reason = reason
        self.where = where
        self.value = value


@dataclass(frozen=True)
class ScaleStep:
    """Sell ``sell_percent`` of the quantity held at entry once the position is up ``at_profit_percent``."""

    at_profit_percent: Decimal
    sell_percent: Decimal


@dataclass(frozen=True)
class ExpiryStep:
    """Close an option from ``days_to_expiry`` trading sessions before expiry, unless it is up at least
    ``unless_profit_percent`` (None: whatever the P&L)."""

    days_to_expiry: int
    unless_profit_percent: Decimal | None


def shown(value: object) -> str:
    """A value as the file spells it, cut to a readable length after quoting (an escape is many characters for one)."""
    text = _toml(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def closest(name: str, known: tuple[str, ...]) -> str:
    """The known key nearest to a misspelt one; there always is one to name."""
    return difflib.get_close_matches(name, known, n=1, cutoff=0.0)[0]


def number(value: object) -> Decimal:
    if isinstance(value, str):
        raise Refused("must be a number, written without quotes")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Refused("must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise Refused("must be a finite number")
    result = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
    if result.as_tuple().exponent < -PLACES:
        raise Refused(f"must have at most {PLACES} decimal places")
    return result


def percent(low: Decimal, high: Decimal, low_open: bool = True, high_open: bool = False) -> Callable[[object], Decimal]:
    """A percentage within a range; the reason names the range the way a desk reads it."""
    bottom = f"above {num(low)}" if low_open else f"at least {num(low)}"
    top = f"below {num(high)}" if high_open else f"at most {num(high)}"

    def parse(value: object) -> Decimal:
        result = number(value)
        if (result <= low if low_open else result < low) or (result >= high if high_open else result > high):
            raise Refused(f"must be {bottom} and {top}")
        return result

    return parse


def whole(low: int, high: int, unit: str = "") -> Callable[[object], int]:
    def parse(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Refused("must be a whole number" + (f" of {unit}" if unit else ""))
        if not low <= value <= high:
            raise Refused(f"must be from {low} to {high}" + (f" {unit}" if unit else ""))
        return value

    return parse


def flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise Refused("must be true or false (without quotes)")
    return value


def choice(*options: str) -> Callable[[object], str]:
    def parse(value: object) -> str:
        if value not in options:
            raise Refused("must be one of " + ", ".join(f'"{option}"' for option in options))
        return value

    return parse


def new_york_time(value: object) -> time:
    """"15:00" or a TOML local time; a regular session's time, since an order after the close is refused anyway."""
    reason = 'must be a New York time within the regular session, from "09:30" to before "16:00", like "15:00"'
    if isinstance(value, str) and (match := _HOUR_MINUTE.match(value)):
        moment = time(int(match[1]), int(match[2]))
    elif isinstance(value, time) and value.tzinfo is None:
        moment = value
    else:
        raise Refused(reason)
    if not _OPEN <= moment < _CLOSE:
        raise Refused(reason)
    return moment


def scale_out(value: object) -> tuple[ScaleStep, ...]:
    """Ascending steps that sell less than the whole position between them: the rest rides to the target,
    the trailing stop or the clock, so the ladder never becomes a second take-profit."""
    steps = tuple(
        ScaleStep(at_profit_percent=_field(item, index, "at_profit_percent", _ABOVE_ZERO),
                  sell_percent=_field(item, index, "sell_percent", _SHARE))
        for index, item in enumerate(_tables(value, ("at_profit_percent", "sell_percent")), start=1)
    )
    for index in range(1, len(steps)):
        if steps[index].at_profit_percent <= steps[index - 1].at_profit_percent:
            raise Refused(
                f"must be above the previous step's {num(steps[index - 1].at_profit_percent)} (steps ascend)",
                where=f"[{index + 1}].at_profit_percent", value=value[index]["at_profit_percent"],
            )
    total = sum((step.sell_percent for step in steps), Decimal(0))
    if total >= 100:
        raise Refused(f"sells add up to {num(total)} %; they must total below 100 (the rest rides)")
    return steps


def expiry(value: object) -> tuple[ExpiryStep, ...]:
    """Steps by days to expiry, kept in ascending order of days; each day at most once."""
    parsed: list[ExpiryStep] = []
    for index, item in enumerate(_tables(value, ("days_to_expiry", "unless_profit_percent")), start=1):
        days = _field(item, index, "days_to_expiry", whole(0, 365, "trading sessions"))
        unless = _field(item, index, "unless_profit_percent", _PROFIT) if "unless_profit_percent" in item else None
        if any(step.days_to_expiry == days for step in parsed):
            raise Refused("appears in an earlier step: each number of days at most once",
                          where=f"[{index}].days_to_expiry", value=days)
        parsed.append(ExpiryStep(days, unless))
    return tuple(sorted(parsed, key=lambda step: step.days_to_expiry))


def symbols(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise Refused('must be a list of underlying symbols, like ["SPY", "QQQ"]')
    for index, item in enumerate(value, start=1):
        if not isinstance(item, str) or not _ROOT.match(item):
            raise Refused('must be an underlying symbol in capitals, like "SPY"', where=f"[{index}]", value=item)
    return tuple(sorted(set(value)))


_ABOVE_ZERO = percent(Decimal(0), PERCENT_LIMIT)
_SHARE = percent(Decimal(0), Decimal(100), high_open=True)
_PROFIT = percent(Decimal(-100), PERCENT_LIMIT)


def _tables(value: object, keys: tuple[str, ...]) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise Refused("must be a list of tables, like [{ " + " = …, ".join(keys) + " = … }]")
    for index, item in enumerate(value, start=1):
        for key, inner in item.items():
            if key not in keys:
                raise Refused(f"unknown key; the closest known key is {closest(key, keys)}",
                              where=f"[{index}].{key}", value=inner)
    return value


def _field(item: dict, index: int, key: str, parse: Callable[[object], object]):
    if key not in item:
        raise Refused(f"has no {key}", where=f"[{index}]", value=item)
    try:
        return parse(item[key])
    except Refused as refused:
        raise Refused(refused.reason, where=f"[{index}].{key}", value=item[key]) from None


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {_toml(inner)}" for key, inner in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(inner) for inner in value) + "]"
    return str(value)

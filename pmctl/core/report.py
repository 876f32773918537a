"""The desk's daily metrics (seed 01): what opened, what closed and why, and what it made.

Rows whose exit price is unknown (a phantom closed without evidence) are counted
apart: their P&L is unknown, not zero, and they are left out of the win rate. A
close at exactly its entry (realized 0) is break-even: neither a win nor a loss,
counted apart and left out of the win rate, which is wins / (wins + losses).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from pmctl.core.model import Row
from pmctl.core.pnl import pnl


@dataclass(frozen=True)
class Closed:
    """A closed row as the report needs it: the position and how it ended."""

    row: Row
    exit_price: Decimal | None
    exit_time: datetime | None
    reason: str

    @property
    def realized(self) -> Decimal | None:
        return None if self.exit_price is None else pnl(self.row, self.exit_price)[0]


@dataclass(frozen=True)
class ReasonLine:
    reason: str
    closes: int
    realized: Decimal
    unknown: int


@dataclass(frozen=True)
class Report:
    day: date
    accounts: tuple[str, ...]
    opened: int
    closed: int
    by_reason: tuple[ReasonLine, ...]
    realized: Decimal
    unknown_exit: int
    wins: int
    losses: int
    break_even: int
    average_hold: timedelta | None

    @property
    def win_rate(self) -> Decimal | None:
        decided = self.wins + self.losses
        return None if decided == 0 else (Decimal(self.wins) * 100 / decided).quantize(Decimal("0.1"))


def daily_report(day: date, accounts: tuple[str, ...], opened: int, closed: list[Closed]) -> Report:
    groups: dict[str, list[Closed]] = defaultdict(list)
    for item in closed:
        groups[item.reason or "unknown"].append(item)
    lines = tuple(
        ReasonLine(reason, len(items), sum((i.realized for i in items if i.realized is not None), Decimal(0)),
                   sum(1 for i in items if i.realized is None))
        for reason, items in sorted(groups.items())
    )
    known = [item.realized for item in closed if item.realized is not None]
    holds = [item.exit_time - item.row.entry_time for item in closed if item.exit_time is not None]
    return Report(
        day=day,
        accounts=accounts,
        opened=opened,
        closed=len(closed),
        by_reason=lines,
        realized=sum(known, Decimal(0)),
        unknown_exit=len(closed) - len(known),
        wins=sum(1 for value in known if value > 0),
        losses=sum(1 for value in known if value < 0),
        break_even=sum(1 for value in known if value == 0),
        average_hold=sum(holds, timedelta(0)) / len(holds) if holds else None,
    )

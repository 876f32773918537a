"""The desk's daily metrics (seed 01): what opened, what closed and why, and what it made.

Realized P&L is summed from the exits ledger: every exit of the day, whole or
partial, by pmctl or found at the broker (a hand sale), each at its own price
and quantity, so a stop that filled in two orders, a scale-out of a row still
open and a hand sale all count. A row closed before the ledger existed has no
exit lines and counts as it did then, from its exit price and quantity.

Slippage is measured per exit against the price that triggered it (the close's
trigger price, a resting order's stop): in dollars, what the fill gave up
against that price (negative: it did better), and as a percent of the
position's value at that price. Exits with no trigger (an operator's close, a
hand sale, an expiry) or no fill price are left out of it.

Exits whose price is unknown (a phantom closed without evidence) are counted
apart: their P&L is unknown, not zero. A closed row is a win, a loss or
break-even on the sum of all its exits (whatever their day); one with an exit
of unknown price is none of them. A close at exactly its entry (realized 0) is
break-even: neither a win nor a loss, counted apart and left out of the win
rate, which is wins / (wins + losses).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from pmctl import occ
from pmctl.core.model import Row
from pmctl.core.pnl import pnl


@dataclass(frozen=True)
class Exit:
    """One line of the exits ledger as the report needs it: the row it left, and what left it at what price."""

    row: Row
    quantity: Decimal
    price: Decimal | None
    reason: str
    trigger: Decimal | None = None

    @property
    def realized(self) -> Decimal | None:
        return None if self.price is None else pnl(replace(self.row, quantity=self.quantity), self.price)[0]

    @property
    def slippage(self) -> tuple[Decimal, Decimal] | None:
        """(dollars given up against the trigger, the position's value at the trigger); None: not measurable."""
        if self.price is None or self.trigger is None:
            return None
        sold = replace(self.row, quantity=self.quantity)
        lost = pnl(sold, self.trigger)[0] - pnl(sold, self.price)[0]
        return lost, self.trigger * self.quantity * occ.multiplier(self.row.symbol)


@dataclass(frozen=True)
class Closed:
    """A closed row as the report needs it: the position, how it ended, and every exit its ledger holds."""

    row: Row
    exit_price: Decimal | None
    exit_time: datetime | None
    reason: str
    exits: tuple[Exit, ...] = ()

    @property
    def realized(self) -> Decimal | None:
        """The sum of its exits (None: one of them at a price unknown); with none recorded, its exit price."""
        if not self.exits:
            return None if self.exit_price is None else pnl(self.row, self.exit_price)[0]
        values = [line.realized for line in self.exits]
        return None if None in values else sum(values, Decimal(0))


@dataclass(frozen=True)
class ReasonLine:
    """``closes``: the rows with an exit of this reason that day; ``unknown``: those of them at a price unknown;
    ``slippage``: dollars given up against the trigger prices over the exits that had one, and as a percent of
    their value at those prices (None: no exit of this reason had one)."""

    reason: str
    closes: int
    realized: Decimal
    unknown: int
    slippage: Decimal | None = None
    slippage_percent: Decimal | None = None


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


def daily_report(day: date, accounts: tuple[str, ...], opened: int, closed: list[Closed],
                 exits: Iterable[Exit] = ()) -> Report:
    """``closed``: the rows closed that day; ``exits``: the ledger's exits of that day, of any row."""
    groups: dict[str, dict[int, list[Decimal | None]]] = defaultdict(lambda: defaultdict(list))
    slips: dict[str, list[tuple[Decimal, Decimal]]] = defaultdict(list)
    for line in exits:
        groups[line.reason or "unknown"][line.row.id].append(line.realized)
        if (slip := line.slippage) is not None:
            slips[line.reason or "unknown"].append(slip)
    for item in closed:
        if not item.exits:
            groups[item.reason or "unknown"][item.row.id].append(item.realized)
    lines = tuple(
        ReasonLine(reason, len(rows), sum((v for values in rows.values() for v in values if v is not None), Decimal(0)),
                   sum(1 for values in rows.values() if None in values), *_slippage(slips.get(reason, [])))
        for reason, rows in sorted(groups.items())
    )
    outcomes = [value for item in closed if (value := item.realized) is not None]
    holds = [item.exit_time - item.row.entry_time for item in closed if item.exit_time is not None]
    return Report(
        day=day,
        accounts=accounts,
        opened=opened,
        closed=len(closed),
        by_reason=lines,
        realized=sum((line.realized for line in lines), Decimal(0)),
        unknown_exit=sum(line.unknown for line in lines),
        wins=sum(1 for value in outcomes if value > 0),
        losses=sum(1 for value in outcomes if value < 0),
        break_even=sum(1 for value in outcomes if value == 0),
        average_hold=sum(holds, timedelta(0)) / len(holds) if holds else None,
    )


def _slippage(slips: list[tuple[Decimal, Decimal]]) -> tuple[Decimal | None, Decimal | None]:
    """Dollars given up over these exits, and as a percent of their value at their triggers."""
    if not slips:
        return None, None
    lost = sum((dollars for dollars, _ in slips), Decimal(0))
    value = sum((worth for _, worth in slips), Decimal(0))
    return lost, (lost / value * 100).quantize(Decimal("0.01")) if value else None

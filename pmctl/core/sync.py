"""Sync: every broker position has exactly one row, and rows follow the broker's quantity."""

from pmctl import occ
from pmctl.broker.types import Position
from pmctl.core import rules
from pmctl.core.numbers import num
from pmctl.core.model import CLOSING, OPEN, Row, Snapshot
from pmctl.core.plan import Action, Adopt, Alert, ChangeQuantity

#: The strategy of a row pmctl tracks but never closes by rule: an unexpected short.
QUARANTINE = "unexpected_short"


def primary_rows(rows: tuple[Row, ...]) -> dict[str, Row]:
    """The row that speaks for each symbol: a closing one if any, else the oldest open one.

    Older databases hold duplicate open rows for one symbol (seed 05); only the
    primary row is acted on, so duplicates can never double a close.
    """
    primary: dict[str, Row] = {}
    for row in sorted(rows, key=lambda r: (r.status != CLOSING, r.id)):
        primary.setdefault(row.symbol, row)
    return primary


def plan_sync(snapshot: Snapshot) -> list[Action]:
    primary = primary_rows(snapshot.rows)
    actions: list[Action] = []
    for position in snapshot.positions:
        row = primary.get(position.symbol)
        if row is None:
            actions.extend(_untracked(position, snapshot))
        elif row.status == OPEN:
            actions.extend(_follow(row, position))
    return actions


def is_unexpected_short(position: Position) -> bool:
    """A short stock no row expects: the seed 02 pattern of an option's underlying sold by mistake."""
    return position.is_short and not occ.is_option(position.symbol)


def _untracked(position: Position, snapshot: Snapshot) -> list[Action]:
    held = f"{num(position.qty)} {position.symbol} at {num(position.avg_entry_price)}"
    if not snapshot.adopt:
        return [Alert(None, position.symbol, "untracked", "warning", f"untracked {held}; adoption is off for this account")]
    if is_unexpected_short(position):
        return [adoption(position, snapshot, QUARANTINE), unexpected_short_alert(None, position)]
    return [adoption(position, snapshot)]


def unexpected_short_alert(row_id: int | None, position: Position) -> Alert:
    return Alert(
        row_id, position.symbol, "unexpected_short", "critical",
        f"the broker holds a short {num(position.qty)} {position.symbol} that no trade opened (a sold underlying?); "
        "it is tracked but never closed automatically: pmctl reconcile --cover-shorts covers it",
    )


def adoption(position: Position, snapshot: Snapshot, strategy: str = "adopted") -> Adopt:
    """A row for a broker position; a quarantined one gets no exit levels, since nothing closes it by rule."""
    side = "short" if position.is_short else "long"
    quarantined = strategy == QUARANTINE
    levels = rules.default_levels(side, position.avg_entry_price, snapshot.rules)
    contract = occ.parse(position.symbol) if occ.is_option(position.symbol) else None
    return Adopt(
        symbol=position.symbol,
        ticker=contract.root if contract else position.symbol,
        instrument_type=contract.kind if contract else "STOCK",
        side=side,
        quantity=abs(position.qty),
        entry_price=position.avg_entry_price,
        entry_time=snapshot.clock.timestamp,
        strike_price=contract.strike if contract else None,
        expiration_date=contract.expiration if contract else None,
        stop_loss=None if quarantined else levels.stop_loss,
        take_profit=None if quarantined else levels.take_profit,
        trailing_stop_percent=None if quarantined else snapshot.rules.trailing_stop_percent,
        max_hold_minutes=None if quarantined else snapshot.rules.max_hold_minutes,
        current_price=position.current_price,
        why=f"the broker holds {num(position.qty)} {position.symbol} and no row tracks it",
        strategy_type=strategy,
    )


def _follow(row: Row, position: Position) -> list[Action]:
    broker_side = "short" if position.is_short else "long"
    if broker_side != row.side:
        return [
            Alert(
                row.id, row.symbol, "side_mismatch", "critical",
                f"row {row.id} is {row.side} {num(row.quantity)} {row.symbol} but the broker holds {num(position.qty)}; "
                "nothing is sent until an operator looks",
            )
        ]
    held = abs(position.qty)
    if held == row.quantity:
        return []
    return [
        ChangeQuantity(
            row.id, row.symbol, row.quantity, held, row.original_quantity or row.quantity,
            f"the broker holds {num(held)}, the row says {num(row.quantity)} (partial fill or partial exit)",
        )
    ]

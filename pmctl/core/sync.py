"""Sync: every broker position has exactly one row, and rows follow the broker's quantity."""

from pmctl import occ
from pmctl.broker.types import Position
from pmctl.core import rules
from pmctl.core.model import CLOSING, OPEN, Row, Snapshot
from pmctl.core.plan import Action, Adopt, Alert, ChangeQuantity


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
            actions.append(_untracked(position, snapshot))
        elif row.status == OPEN:
            actions.extend(_follow(row, position))
    return actions


def _untracked(position: Position, snapshot: Snapshot) -> Action:
    held = f"{position.qty} {position.symbol} at {position.avg_entry_price}"
    if position.is_short and not occ.is_option(position.symbol):
        return Alert(
            None, position.symbol, "unexpected_short", "critical",
            f"the broker holds a short {held} that no row expects (a sold underlying?); "
            "pmctl reconcile --cover-shorts covers it",
        )
    if not snapshot.adopt:
        return Alert(None, position.symbol, "untracked", "warning", f"untracked {held}; adoption is off for this account")
    return adoption(position, snapshot)


def adoption(position: Position, snapshot: Snapshot) -> Adopt:
    side = "short" if position.is_short else "long"
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
        stop_loss=levels.stop_loss,
        take_profit=levels.take_profit,
        trailing_stop_percent=snapshot.rules.trailing_stop_percent,
        max_hold_minutes=snapshot.rules.max_hold_minutes,
        current_price=position.current_price,
        why=f"the broker holds {position.qty} {position.symbol} and no row tracks it",
    )


def _follow(row: Row, position: Position) -> list[Action]:
    broker_side = "short" if position.is_short else "long"
    if broker_side != row.side:
        return [
            Alert(
                row.id, row.symbol, "side_mismatch", "critical",
                f"row {row.id} is {row.side} {row.quantity} {row.symbol} but the broker holds {position.qty}; "
                "nothing is sent until an operator looks",
            )
        ]
    held = abs(position.qty)
    if held == row.quantity:
        return []
    return [
        ChangeQuantity(
            row.id, row.symbol, row.quantity, held, row.original_quantity or row.quantity,
            f"the broker holds {held}, the row says {row.quantity} (partial fill or partial exit)",
        )
    ]

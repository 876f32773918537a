"""Sync: every broker position has exactly one row, and rows follow the broker's quantity and entry.

A row follows the position the broker holds: its quantity, and its entry
price, which is the broker's average entry (a position added to is entered at
the average of its buys). A position the broker's fills show was closed and
opened again since the row's last check is not the row's any more: the row is
closed at the fill that closed it, and the position held now gets a row of its own.
"""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from pmctl import occ
from pmctl.core.market import Position
from pmctl.core import brackets, exits, ledger, rules
from pmctl.core.exit_plan import ADOPTED_PROFILE, derived_levels, policy_in
from pmctl.core.exits import ExitFill
from pmctl.core.policy_values import OPTION, STOCK
from pmctl.core.fills import WentFlat, fills_since, went_flat
from pmctl.core.numbers import num, stored
from pmctl.core.model import PendingPlan, Row, Snapshot
from pmctl.core.vocabulary import AlertKind, PlanSource, Reason, Severity, Status, Tracking
from pmctl.core.plan import Action, Adopt, Alert, ChangeQuantity, FollowEntry, MarkClosed, Plan, TakePlan


#: The strategy an adopted row is given: what the original service wrote for the positions it synced from
#: Alpaca (services/position_manager/db.py, create_position_from_alpaca: "Default strategy for Alpaca-synced
#: positions"), and one the desk's CHECK on strategy_type accepts. Whether pmctl adopted the row, or
#: quarantined it, is said in tracked_as.
ADOPTED_STRATEGY = "swing_trade"


def primary_rows(rows: tuple[Row, ...]) -> dict[str, Row]:
    """The row that speaks for each symbol: a closing one if any, else the oldest open one.

    Older databases hold duplicate open rows for one symbol (seed 05); only the
    primary row is acted on, so duplicates can never double a close.
    """
    primary: dict[str, Row] = {}
    for row in sorted(rows, key=lambda r: (r.status != Status.CLOSING, r.id)):
        primary.setdefault(row.symbol, row)
    return primary


def plan_sync(snapshot: Snapshot) -> list[Action]:
    primary = primary_rows(snapshot.rows)
    actions: list[Action] = []
    for position in snapshot.positions:
        row = primary.get(position.symbol)
        if row is None:
            actions.extend(_untracked(position, snapshot))
        elif row.status == Status.OPEN:
            followed = follow(row, position, snapshot)
            actions.extend(followed)
            if not any(isinstance(action, (MarkClosed, Alert)) for action in followed):
                actions.extend(ledger.enrichment(row, position, snapshot))
    return actions


def fills_needed_since(snapshot: Snapshot) -> datetime | None:
    """From when the broker's fills must be read to follow the rows: None when no open row disagrees
    with its position's quantity or average entry, so a steady cycle asks the broker for no fills."""
    primary = primary_rows(snapshot.rows)
    starts = [fills_since(row) for position in snapshot.positions
              if (row := primary.get(position.symbol)) is not None and row.status == Status.OPEN and _differs(row, position)]
    return min(starts) if starts else None


def as_followed(rows: tuple[Row, ...], actions: list[Action]) -> dict[int, Row]:
    """The rows sync changes, as they read once its actions are applied: the rules judge those."""
    followed = {row.id: row for row in rows}
    for action in actions:
        if isinstance(action, ChangeQuantity) and action.row_id in followed:
            followed[action.row_id] = replace(followed[action.row_id], quantity=action.new)
        elif isinstance(action, FollowEntry) and action.row_id in followed:
            followed[action.row_id] = replace(followed[action.row_id], entry_price=action.new,
                                              stop_loss=action.stop_loss, take_profit=action.take_profit)
        elif isinstance(action, TakePlan) and action.row_id in followed:
            followed[action.row_id] = _taken(followed[action.row_id], action)
    return followed


def _taken(row: Row, taken: TakePlan) -> Row:
    return replace(row, execution_uuid=taken.execution_uuid, strategy_type=taken.strategy_type,
                   stop_loss=taken.stop_loss, take_profit=taken.take_profit, underlying_stop=taken.underlying_stop,
                   underlying_target=taken.underlying_target, trailing_stop_percent=taken.trailing_stop_percent,
                   max_hold_minutes=taken.max_hold_minutes, stop_order_id=taken.stop_order_id,
                   target_order_id=taken.target_order_id, entry_time=taken.entry_time, tracked_as=taken.tracked_as,
                   plan_source=taken.plan_source)


def _differs(row: Row, position: Position) -> bool:
    return (position.is_short != row.is_short or abs(position.qty) != row.quantity
            or _entry(position) != row.entry_price)


def _entry(position: Position) -> Decimal:
    """The broker's average entry as the row stores it (four places, rounded as PostgreSQL rounds)."""
    return stored(position.avg_entry_price)


def is_unexpected_short(position: Position) -> bool:
    """A short stock no row expects: the seed 02 pattern of an option's underlying sold by mistake."""
    return position.is_short and not occ.is_option(position.symbol)


def _untracked(position: Position, snapshot: Snapshot) -> list[Action]:
    held = f"{num(position.qty)} {position.symbol} at {num(position.avg_entry_price)}"
    if not snapshot.adopt:
        return [Alert(None, position.symbol, AlertKind.UNTRACKED, Severity.WARNING,
                      f"untracked {held}; adoption is off for this account")]
    waiting = waiting_plan(snapshot, position.symbol)
    if waiting is not None:
        return [with_plan(adoption(position, snapshot), waiting, "pmctl track")]
    adopt = adoption_of(position, snapshot)
    if adopt.tracked_as == Tracking.QUARANTINE:
        return [adopt, unexpected_short_alert(None, position)]
    return [adopt]


def adoption_of(position: Position, snapshot: Snapshot) -> Adopt:
    """A held position's new row: with the plan its trade carries where one is found, else the policy's,
    quarantined if it is a short stock no trade opened. (An operator's waiting plan comes first: ``_untracked``.)"""
    tracked_as = Tracking.QUARANTINE if is_unexpected_short(position) else Tracking.ADOPTED
    return with_trade_plan(adoption(position, snapshot, tracked_as), position, snapshot)


def with_trade_plan(adopt: Adopt, position: Position, snapshot: Snapshot) -> Adopt:
    """The plan the position's trade carries, from where it is found first: the desk's execution ledger, then
    the exit legs the broker holds (whose ids the row takes either way); else the adoption as it is."""
    found = ledger.offer(position, snapshot)
    legs = brackets.held_legs(position, snapshot)
    if found is not None:
        return brackets.with_ids(ledger.adopted_with(adopt, found), legs)
    if legs is not None:
        return brackets.adopted_with(adopt, legs)
    return adopt


def unexpected_short_alert(row_id: int | None, position: Position) -> Alert:
    return Alert(
        row_id, position.symbol, AlertKind.UNEXPECTED_SHORT, Severity.CRITICAL,
        f"the broker holds a short {num(position.qty)} {position.symbol} that no trade opened (a sold underlying?); "
        "it is tracked but never closed automatically: pmctl reconcile --cover-shorts covers it",
    )


def adoption(position: Position, snapshot: Snapshot, tracked_as: str = Tracking.ADOPTED,
             entered: datetime | None = None) -> Adopt:
    """A row for a broker position; a quarantined one gets no exit levels, since nothing closes it by rule.

    Its levels come from the policy's percentages of the entry, and say so in ``plan_source``.
    ``entered``: when the position was opened, where the fills say (else now, by the broker's clock).
    """
    side = position.side
    quarantined = tracked_as == Tracking.QUARANTINE
    contract = occ.parse(position.symbol) if occ.is_option(position.symbol) else None
    profile = policy_in(snapshot).resolve(ADOPTED_PROFILE, OPTION if contract else STOCK)
    stop, target = derived_levels(side, position.avg_entry_price, profile, contract is not None)
    return Adopt(
        symbol=position.symbol,
        ticker=contract.root if contract else position.symbol,
        instrument_type=contract.kind if contract else "STOCK",
        side=side,
        quantity=abs(position.qty),
        entry_price=position.avg_entry_price,
        entry_time=entered or snapshot.clock.timestamp,
        strike_price=contract.strike if contract else None,
        expiration_date=contract.expiration if contract else None,
        stop_loss=None if quarantined or stop is None else stop.price,
        take_profit=None if quarantined or target is None else target.price,
        trailing_stop_percent=None,
        max_hold_minutes=None,
        current_price=position.current_price,
        why=f"the broker holds {num(position.qty)} {position.symbol} and no row tracks it",
        tracked_as=tracked_as,
        strategy_type=ADOPTED_STRATEGY,
        plan_source=PlanSource.POLICY,
    )


def follow(row: Row, position: Position, snapshot: Snapshot) -> list[Action]:
    """What an open row needs to be the broker's position again: nothing, its quantity and entry, a new row
    (closed and opened again), or an operator (the sides differ and the fills do not say why)."""
    if not _differs(row, position):
        return []
    flat = went_flat(row, position, snapshot.fills)
    if flat is not None:
        return _reopened(row, position, flat, snapshot)
    broker_side = position.side
    if broker_side != row.direction:
        return [
            Alert(
                row.id, row.symbol, AlertKind.SIDE_MISMATCH, Severity.CRITICAL,
                f"row {row.id} is {row.side} {num(row.quantity)} {row.symbol} but the broker holds {num(position.qty)}; "
                "nothing is sent until an operator looks",
            )
        ]
    held, actions = abs(position.qty), []
    if held != row.quantity:
        actions.append(ChangeQuantity(
            row.id, row.symbol, row.quantity, held, row.original_quantity or row.quantity,
            f"the broker holds {num(held)}, the row says {num(row.quantity)} "
            f"({'added to, or a partial fill' if held > row.quantity else 'partial fill or partial exit'})",
            sold_at_broker(row, row.quantity - held, snapshot),
        ))
    if _entry(position) != row.entry_price:
        actions.append(_follow_entry(row, _entry(position)))
    return actions


def sold_at_broker(row: Row, quantity: Decimal, snapshot: Snapshot) -> tuple[ExitFill, ...]:
    """The exits of a position that shrank at the broker (a hand sale): its reducing fills since the row's last
    check (from its very second: a sale stamped then may not have been in that check's positions), newest
    first, up to what it lost, not those of an order already recorded; what no fill shows is recorded at a
    price unknown.

    A row never checked that holds less than it says may be an entry that filled in part: it lost nothing it
    ever held, so without fills it records no exit.
    """
    if quantity <= 0:
        return ()
    since = fills_since(row)
    fills = sorted((fill for fill in exits.reducing(row, snapshot.fills) if fill.time >= since),
                   key=lambda fill: fill.time, reverse=True)
    lines = exits.of_fills(row, ((fill, fill.qty) for fill in fills), quantity, Reason.CLOSED_AT_BROKER,
                           snapshot.recorded_orders(row))
    unseen = quantity - exits.total(lines)
    if unseen > 0 and row.last_checked_at is not None:
        lines = (*lines, exits.without_fill(row, unseen, Reason.CLOSED_AT_BROKER))
    return lines


def _follow_entry(row: Row, entry: Decimal) -> FollowEntry:
    """The broker's average entry; a stop or target the policy derived from the old entry is derived again."""
    derived = row.plan_source == PlanSource.POLICY
    stop = rules.rederived(row.stop_loss, row.entry_price, entry) if derived else row.stop_loss
    target = rules.rederived(row.take_profit, row.entry_price, entry) if derived else row.take_profit
    moved = [f"{name} {num(old)} -> {num(new)}" for name, old, new in
             (("stop", row.stop_loss, stop), ("target", row.take_profit, target)) if old is not None and old != new]
    return FollowEntry(
        row.id, row.symbol, row.entry_price, entry, stop, target,
        f"the broker's average entry is {num(entry)}, the row says {num(row.entry_price)}"
        + (f"; {', '.join(moved)} (derived from the entry)" if moved else ""),
    )


def _reopened(row: Row, position: Position, flat: WentFlat, snapshot: Snapshot) -> list[Action]:
    """The row closes at the fill that took its position flat; the position held now is adopted as new.

    A short opened again after a tracked short was covered is the desk's, and is
    tracked as adopted; any other short stock is quarantined as usual.
    """
    why = (f"closed at the broker at {num(flat.exit_price)} ({flat.exit_time:%Y-%m-%d %H:%M:%S} UTC) and opened "
           f"again: the broker now holds {num(position.qty)} at {num(position.avg_entry_price)}")
    sold = exits.of_fills(row, flat.parts, row.quantity, Reason.CLOSED_AT_BROKER, snapshot.recorded_orders(row))
    close = MarkClosed(row.id, row.symbol, Reason.CLOSED_AT_BROKER, flat.exit_price, flat.exit_time, flat.order_id, why,
                       {"fill_found": True, "fill_ids": list(flat.fill_ids), "reopened": True}, sold)
    kept_short = row.is_short and not row.quarantined and position.is_short
    quarantine = is_unexpected_short(position) and not kept_short
    adopt = adoption(position, snapshot, Tracking.QUARANTINE if quarantine else Tracking.ADOPTED, entered=flat.reopened_at)
    adopt = with_trade_plan(replace(adopt, why=f"opened again after row {row.id} closed at the broker"), position,
                            snapshot)
    if adopt.tracked_as == Tracking.QUARANTINE:
        return [close, adopt, unexpected_short_alert(None, position)]
    return [close, adopt]


def sync_plan(snapshot: Snapshot) -> Plan:
    """``pmctl sync``'s decision: what ``plan_sync`` finds, as the plan the shell applies."""
    return Plan(snapshot.account, tuple(plan_sync(snapshot)))


def with_plan(adopt: Adopt, plan: PendingPlan, origin: str) -> Adopt:
    """An adoption with an operator's plan: its levels and strategy, the operator's from now on."""
    given = {key: value for key, value in _levels(plan).items() if value is not None}
    return replace(adopt, **given, tracked_as=Tracking.ADOPTED, plan_source=PlanSource.OPERATOR,
                   strategy_type=plan.strategy_type or adopt.strategy_type,
                   pending_plan_id=plan.id or None, why=f"{adopt.why}; with {origin}'s plan")


def waiting_plan(snapshot: Snapshot, symbol: str) -> PendingPlan | None:
    """The plan ``pmctl track`` left for ``symbol``, while it has not expired."""
    return next((plan for plan in snapshot.pending_plans
                 if plan.symbol == symbol and plan.expires_at > snapshot.clock.timestamp), None)


def _levels(plan: PendingPlan) -> dict:
    return {"stop_loss": plan.stop_loss, "take_profit": plan.take_profit,
            "trailing_stop_percent": plan.trailing_stop_percent, "max_hold_minutes": plan.max_hold_minutes,
            "underlying_stop": plan.underlying_stop, "underlying_target": plan.underlying_target}

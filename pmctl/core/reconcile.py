"""Reconciliation: every difference between the rows and the broker, classified and settled on evidence.

A row leaves the book only on the broker's word: the fill that closed it (exit
price, time and order id from the broker), the option's expiry, exercise or
assignment, or, failing all evidence, closed with its exit price unknown, never
an invented "neutral" one (seed 04). Rows too young for the broker to show their
fill are reported, not touched. Reconcile sends no order except, when asked,
the covering of unexpected shorts.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from pmctl.core.market import Fill, NonTradeActivity, market_date
from pmctl.core import exits, protect
from pmctl.core.closing import close_action
from pmctl.core.fills import weighted
from pmctl.core.numbers import num
from pmctl.core.model import Row, Snapshot, too_recent
from pmctl.core.vocabulary import OPTION_EVENT_REASONS, FindingKind, Reason, Status, Tracking
from pmctl.core.plan import Action, Adopt, Alert, ChangeQuantity, FollowEntry, MarkClosed, Plan, Reopen, TakePlan
from pmctl.core.settle import WORKING, settle_row
from pmctl.core.sync import adoption_of, follow, plan_sync, primary_rows, sold_at_broker
from pmctl.errors import UsageError


@dataclass(frozen=True)
class Finding:
    """One difference: what kind, which row or symbol, what will be done about it (None: report only)."""

    kind: FindingKind
    row_id: int | None
    symbol: str
    detail: str
    action: Action | None


def evidence_since(snapshot: Snapshot) -> datetime | None:
    """From when fills and option events must be read: the oldest row the broker no longer holds."""
    entries = [row.entry_time for row in _gone(snapshot)]
    return min(entries) if entries else None


def plan_reconcile(snapshot: Snapshot, cover_shorts: bool) -> Plan:
    """Every difference as a finding (``Plan.findings``), each with the action that settles it, or none."""
    findings = [*_broker_side(snapshot), *_duplicates(snapshot), *_protections(snapshot)]
    primary = primary_rows(snapshot.rows)
    grace = timedelta(seconds=snapshot.grace_seconds)
    reopened = {f.row_id for f in findings if f.kind == FindingKind.REOPENED}
    released = {f.row_id for f in findings
                if isinstance(f.action, TakePlan) and f.action.tracked_as != Tracking.QUARANTINE}
    for row in primary.values():
        position = snapshot.position(row.symbol)
        if row.id in reopened:
            continue
        if position is None:
            findings.append(_gone_row(row, snapshot, grace))
        elif row.status == Status.CLOSING:
            findings.extend(_stuck(row, snapshot))
        elif row.quarantined and row.id not in released:
            findings.append(_unexpected_short(row, snapshot, cover_shorts))
    findings.extend(_held_after_closing(findings, snapshot))
    return Plan(snapshot.account, tuple(f.action for f in findings if f.action is not None), tuple(findings))


class IdsRefused(UsageError):
    """A row id cleanup-phantoms was given that it will not settle; the command line names its flag."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def check_ids(wanted: set[int], owners: dict[int, tuple[str | None, str] | None], accounts: set[str]) -> None:
    """Before the broker is asked: ids that are unknown (``owners`` maps each to its account and status, or None),
    already closed, or of an account not selected are refused."""
    for row_id in sorted(wanted):
        found = owners.get(row_id)
        if found is None:
            raise IdsRefused(f"no row {row_id}; nothing was changed")
        owner, state = found
        if owner not in accounts:
            raise IdsRefused(f"row {row_id} belongs to account {owner!r}, not {', '.join(sorted(accounts))}; "
                             "nothing was changed")
        if state not in (Status.OPEN, Status.CLOSING):
            raise IdsRefused(f"row {row_id} is already {state}; nothing was changed")


def plan_cleanup(snapshot: Snapshot, wanted: set[int] | None = None) -> Plan:
    """cleanup-phantoms' decision: phantom rows only, settled as reconcile settles them.

    A phantom is a row whose position the broker no longer holds (``FindingKind.gone``: closed at a fill, expired,
    exercised, assigned, or gone without evidence), or a duplicate of a symbol no longer held. Every other
    difference is named in ``Plan.left``, never settled here. ``wanted``: only these row ids, each of which must
    be a phantom (refused otherwise, before anything is written).
    """
    found = plan_reconcile(snapshot, cover_shorts=False).findings
    held = {position.symbol for position in snapshot.positions}
    gone = [f for f in found if f.kind.gone or (f.kind == FindingKind.DUPLICATE and f.symbol not in held)]
    if wanted is not None:
        phantoms = {f.row_id for f in gone}
        for row in sorted((row for row in snapshot.rows if row.id in wanted), key=lambda row: row.id):
            if row.id not in phantoms:
                raise IdsRefused(_not_phantom(row, snapshot, found))
        gone = [f for f in gone if f.row_id in wanted]
    return Plan(snapshot.account, tuple(f.action for f in gone if f.action is not None), tuple(gone),
                tuple(f for f in found if f not in gone))


def _not_phantom(row: Row, snapshot: Snapshot, findings: tuple[Finding, ...]) -> str:
    position = snapshot.position(row.symbol)
    if position is not None:
        return f"row {row.id} is not a phantom: the broker still holds {position.qty} {row.symbol}; nothing was changed"
    kinds = {f.kind for f in findings if f.row_id == row.id} or {"no evidence"}
    return f"row {row.id} ({row.symbol}) is not a phantom now ({', '.join(sorted(kinds))}); nothing was changed"


def _held_after_closing(findings: list[Finding], snapshot: Snapshot) -> list[Finding]:
    """A symbol still held once every row of it is closed in this pass (a close filled, then a new position):
    adopted in the same pass, so a second reconcile finds nothing left to do."""
    closed = {f.action.row_id for f in findings if isinstance(f.action, MarkClosed)}
    already = {f.action.symbol for f in findings if isinstance(f.action, Adopt)}
    adopted = []
    for position in snapshot.positions:
        rows = [row for row in snapshot.rows if row.symbol == position.symbol]
        if rows and all(row.id in closed for row in rows) and snapshot.adopt and position.symbol not in already:
            action = adoption_of(position, snapshot)
            adopted.append(Finding(FindingKind.UNTRACKED, None, position.symbol,
                                   f"still held after row(s) {', '.join(str(r.id) for r in rows)} closed", action))
    return adopted


def _broker_side(snapshot: Snapshot) -> list[Finding]:
    """Untracked positions, quantity drift and side mismatches: what sync decides, named as findings."""
    findings = []
    for action in plan_sync(snapshot):
        if isinstance(action, Adopt):
            kind = FindingKind.UNEXPECTED_SHORT if action.tracked_as == Tracking.QUARANTINE else FindingKind.UNTRACKED
            findings.append(Finding(kind, None, action.symbol, action.why, action))
        elif isinstance(action, ChangeQuantity):
            findings.append(Finding(FindingKind.QUANTITY_DRIFT, action.row_id, action.symbol, action.why, action))
        elif isinstance(action, FollowEntry):
            findings.append(Finding(FindingKind.ENTRY_DRIFT, action.row_id, action.symbol, action.why, action))
        elif isinstance(action, TakePlan):
            findings.append(Finding(FindingKind.PLAN_TAKEN, action.row_id, action.symbol, action.why, action))
        elif isinstance(action, MarkClosed):
            findings.append(Finding(FindingKind.REOPENED, action.row_id, action.symbol, action.why, action))
        elif isinstance(action, Alert):
            findings.append(Finding(FindingKind(action.kind), action.row_id, action.symbol, action.why, action))
    return findings


def _duplicates(snapshot: Snapshot) -> list[Finding]:
    primary = primary_rows(snapshot.rows)
    findings = []
    for row in snapshot.rows:
        kept = primary[row.symbol]
        if kept is not row:
            why = f"duplicate of row {kept.id} ({row.symbol}, account {row.account_name})"
            findings.append(Finding(FindingKind.DUPLICATE, row.id, row.symbol, why, MarkClosed(
                row.id, row.symbol, Reason.DUPLICATE, None, None, None, why, {"kept_row": kept.id})))
    return findings


def _protections(snapshot: Snapshot) -> list[Finding]:
    """pmctl's protective orders whose row or position is gone (cancelled), and each protected row's: a second
    one cancelled, a missing one and an order pmctl did not place reported."""
    found = [Finding(FindingKind.PROTECTION_ORPHAN, d.row_id, d.symbol, d.why, d) for d in protect.orphans(snapshot)]
    for row in primary_rows(snapshot.rows).values():
        found += [Finding(kind, row.id, row.symbol, detail, action) for kind, detail, action in protect.audit(row, snapshot)]
    return found


def _gone(snapshot: Snapshot) -> list[Row]:
    grace = timedelta(seconds=snapshot.grace_seconds)
    held = {position.symbol for position in snapshot.positions}
    return [row for row in primary_rows(snapshot.rows).values()
            if row.symbol not in held and not too_recent(row, snapshot.clock.timestamp, grace)]


def _gone_row(row: Row, snapshot: Snapshot, grace: timedelta) -> Finding:
    """A row whose position the broker no longer holds: settle it on the best evidence there is."""
    if too_recent(row, snapshot.clock.timestamp, grace):
        return Finding(FindingKind.TOO_RECENT, row.id, row.symbol,
                       f"row {row.id} is younger than {int(grace.total_seconds())} s: the broker may not show it yet",
                       None)
    stopped = protect.filled_protection(row, snapshot)
    if stopped is not None:
        return Finding(FindingKind.PROTECTION_FILLED, row.id, row.symbol, stopped.why, stopped)
    order = _close_order(row, snapshot)
    if order is not None and order.status in WORKING:
        return Finding(FindingKind.CLOSING, row.id, row.symbol, f"close order {order.client_order_id} is still working", None)
    sold = _close_order_fill(row, order)
    left = row.quantity - exits.total(sold)
    if order is not None and order.is_filled:
        why = f"close order {order.client_order_id} filled {num(order.filled_qty)} at {num(order.filled_avg_price)}"
        return Finding(FindingKind.STUCK_CLOSING, row.id, row.symbol, why, MarkClosed(
            row.id, row.symbol, row.close_reason or Reason.CLOSED_AT_BROKER, order.filled_avg_price, order.filled_at,
            order.id, why, {"order_id": order.id, "filled_qty": order.filled_qty},
            sold + _sold_by_fills(row, left, snapshot, sold)))
    event = _option_event(row, snapshot.option_events)
    if event is not None:
        reason = OPTION_EVENT_REASONS[event.activity_type]
        why = f"{event.activity_type} on {event.day}: the contract {reason}"
        exit_price = Decimal(0) if reason == Reason.EXPIRED else None
        return Finding(FindingKind(reason), row.id, row.symbol, why, MarkClosed(
            row.id, row.symbol, reason, exit_price, None, None, why,
            {"activity_id": event.id, "activity_type": event.activity_type, "broker_qty": 0},
            sold + _unseen(row, left, reason, exit_price)))
    fills = _closing_fills(row, snapshot.fills, snapshot.recorded_orders(row) - {line.order_id for line in sold})
    if fills:
        price, last = weighted([(fill.price, fill.qty) for fill in fills], row.quantity), fills[-1]
        why = f"closed at the broker: {len(fills)} fill(s) averaging {num(price)}, last at {last.time:%Y-%m-%d %H:%M:%S} UTC"
        return Finding(FindingKind.PHANTOM, row.id, row.symbol, why, MarkClosed(
            row.id, row.symbol, Reason.CLOSED_AT_BROKER, price, last.time, last.order_id, why,
            {"broker_qty": 0, "fill_found": True, "fill_ids": [fill.id for fill in fills]},
            sold + _sold_by_fills(row, left, snapshot, sold)))
    why = "the broker holds none and shows no fill since entry: exit price unknown"
    return Finding(FindingKind.PHANTOM, row.id, row.symbol, why, MarkClosed(
        row.id, row.symbol, Reason.PHANTOM, None, None, None, why, {"broker_qty": 0, "fill_found": False},
        sold + _unseen(row, left, Reason.PHANTOM)))


def _close_order_fill(row: Row, order) -> tuple[exits.ExitFill, ...]:
    """What the row's own close order sold before it ended: its line, at the order's cumulative fill."""
    line = None if order is None else exits.of_order(row, order, row.close_reason or Reason.CLOSED_AT_BROKER,
                                                                row.close_trigger_price)
    return () if line is None else (line,)


def _sold_by_fills(row: Row, quantity: Decimal, snapshot: Snapshot,
                   sold: tuple[exits.ExitFill, ...]) -> tuple[exits.ExitFill, ...]:
    """The exits the broker's fills show for a row it no longer holds, oldest first, up to ``quantity``; not the
    fills of an order already recorded, or of the row's close order (``sold``)."""
    recorded = snapshot.recorded_orders(row) | {line.order_id for line in sold}
    return exits.of_fills(row, ((fill, fill.qty) for fill in _closing_fills(row, snapshot.fills, recorded)),
                          quantity, Reason.CLOSED_AT_BROKER, recorded)


def _unseen(row: Row, quantity: Decimal, reason: str, price: Decimal | None = None) -> tuple[exits.ExitFill, ...]:
    return (exits.without_fill(row, quantity, reason, price),) if quantity > 0 else ()


def _stuck(row: Row, snapshot: Snapshot) -> list[Finding]:
    """A closing row whose position is still held: settled as check would, but never by resending.

    A row that goes back to open is followed in the same pass as sync follows
    an open row (quantity, entry, or closed and opened again), so a second
    reconcile finds nothing left to do.
    """
    order = _close_order(row, snapshot)
    if order is None:
        why = f"close order {row.close_client_order_id} never reached the broker and the position is still held"
        actions: list[Action] = [Reopen(row.id, row.symbol, row.quantity, why)]
    else:
        actions = settle_row(row, order, snapshot)
    if any(isinstance(action, Reopen) for action in actions):
        actions = _followed(row, actions, snapshot)
    return [Finding(FindingKind.STUCK_CLOSING, row.id, row.symbol, getattr(action, "why", ""), action) for action in actions]


def _followed(row: Row, settled: list[Action], snapshot: Snapshot) -> list[Action]:
    """A row back to open follows its position in the same pass, with one quantity change (the row's to the
    broker's) that carries what the close order sold and what else left, no fill taken twice."""
    sold = tuple(line for action in settled if isinstance(action, ChangeQuantity) for line in action.exits)
    seen = {**snapshot.recorded_exits, row.id: snapshot.recorded_orders(row) | {line.order_id for line in sold}}
    seen_snapshot = replace(snapshot, recorded_exits=seen)
    followed = []
    for action in follow(replace(row, status=Status.OPEN), snapshot.position(row.symbol), seen_snapshot):
        if isinstance(action, ChangeQuantity):
            rest = sold_at_broker(row, action.old - action.new - exits.total(sold), seen_snapshot)
            action = replace(action, exits=sold + rest)
        elif isinstance(action, MarkClosed):
            action = replace(action, exits=sold + action.exits)
        followed.append(action)
    carried = any(isinstance(action, (ChangeQuantity, MarkClosed)) for action in followed)
    return [a for a in settled if not (carried and isinstance(a, ChangeQuantity))] + followed


def _unexpected_short(row: Row, snapshot: Snapshot, cover: bool) -> Finding:
    position = snapshot.position(row.symbol)
    detail = f"short {num(position.qty)} {row.symbol} that no trade opened (row {row.id})"
    if not cover:
        return Finding(FindingKind.UNEXPECTED_SHORT, row.id, row.symbol, detail + ": pass --cover-shorts to buy it back", None)
    if not snapshot.clock.is_open:
        return Finding(FindingKind.UNEXPECTED_SHORT, row.id, row.symbol, detail + ": deferred, market closed", None)
    action = close_action(row, Reason.COVER_SHORT, None, f"operator: cover the unexpected short {row.symbol}", snapshot)
    return Finding(FindingKind.UNEXPECTED_SHORT, row.id, row.symbol, detail, action)


def _close_order(row: Row, snapshot: Snapshot):
    if row.status != Status.CLOSING or not row.close_client_order_id:
        return None
    working = {order.client_order_id: order for order in snapshot.open_orders}
    return working.get(row.close_client_order_id) or snapshot.close_orders.get(row.close_client_order_id)


def _option_event(row: Row, events: tuple[NonTradeActivity, ...]) -> NonTradeActivity | None:
    if row.expiration_date is None:
        return None
    matches = [e for e in events if e.symbol == row.symbol and e.activity_type in OPTION_EVENT_REASONS
               and e.day >= market_date(row.entry_time)]
    return matches[-1] if matches else None


def _closing_fills(row: Row, fills: tuple[Fill, ...], recorded: frozenset[str]) -> list[Fill]:
    """The fills that took this position down: its symbol, the reducing side, after its entry, up to its size;
    not those of an order its exits ledger already holds (an earlier partial exit, counted then)."""
    taken, total = [], Decimal(0)
    for fill in sorted(exits.reducing(row, fills), key=lambda f: f.time):
        if fill.time >= row.entry_time and fill.order_id not in recorded and total < row.quantity:
            taken.append(fill)
            total += fill.qty
    return taken

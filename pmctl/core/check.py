"""One monitoring cycle's decision: sync, settle, then the exit rules for every open row."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from pmctl.core import closing, pricing, protect, rules
from pmctl.core.exit_plan import plan_in
from pmctl.core.market import hours_to_expiration
from pmctl.core.model import Row, Snapshot, too_recent
from pmctl.core.vocabulary import AlertKind, PriceSource, QuoteProblem, Severity, Status
from pmctl.core.plan import Action, Alert, ClearBrackets, Close, Defer, MarkClosed, Plan, Refresh
from pmctl.core.quotes import TriggerPrice, unusable_alert
from pmctl.core.pnl import pnl
from pmctl.core.settle import plan_settle
from pmctl.core.sync import as_followed, plan_sync, primary_rows, unexpected_short_alert

MAX_BACKOFF_MINUTES = 60
EXPIRY_ALERT_HOURS = 24


def plan_check(snapshot: Snapshot) -> Plan:
    """The rules judge each row as sync leaves it (its quantity and entry following the broker's);
    a row sync closes, because its position was closed and opened again, is not judged at all."""
    synced = protect.attributed(plan_sync(snapshot), snapshot)
    actions: list[Action] = [*synced, *plan_settle(snapshot)]
    primary = primary_rows(snapshot.rows)
    closed = {action.row_id for action in synced if isinstance(action, MarkClosed)}
    followed = as_followed(snapshot.rows, synced)
    for row in snapshot.rows:
        if row.id in closed:
            continue
        if row.status == Status.OPEN and primary[row.symbol] is row:
            actions.extend(_monitor(followed[row.id], snapshot))
        elif snapshot.position(row.symbol) is None and not row.close_client_order_id:
            actions.extend(_missing(row, snapshot))
    actions.extend(protect.orphans(snapshot))
    return Plan(snapshot.account, tuple(actions))


def _monitor(row: Row, snapshot: Snapshot) -> list[Action]:
    """The rules judge the row at the price its profile's ``trigger`` picks; where the quote cannot be used, the
    price rules wait (an alert says why) while the clock's rules judge at the position's last trade."""
    position = snapshot.position(row.symbol)
    if position is None:
        return _missing(row, snapshot)
    if position.side != row.direction:
        return []
    judged = pricing.judged(row, position, snapshot)
    usable = isinstance(judged, TriggerPrice)
    price = judged.price if usable else position.current_price
    if price is None:
        return []
    evaluation = rules.evaluate(row, price, snapshot.clock, snapshot.sessions, plan_in(snapshot, row),
                                snapshot.underlying_price(row),
                                waits="" if usable else f"no usable quote ({judged.problem}: {judged.detail})")
    dollars, percent = pnl(row, price)
    actions: list[Action] = [
        Refresh(row.id, price, dollars, percent, evaluation.peak_price if usable else row.peak_price,
                evaluation.trailing_stop_price if usable else row.trailing_stop_price,
                price_source=judged.source if usable else PriceSource.LAST,
                price_at=snapshot.clock.timestamp - judged.age if usable and judged.age is not None else None)
    ]
    if not usable and judged.problem != QuoteProblem.NO_LAST:
        actions.append(unusable_alert(row.id, row.symbol, judged))
    if not protect.protects(row, snapshot):
        actions.extend(_missing_brackets(row, snapshot))
    actions.extend(_expiring(row, snapshot))
    trailed = (replace(row, peak_price=evaluation.peak_price, trailing_stop_price=evaluation.trailing_stop_price)
               if usable else row)
    if row.quarantined:
        return [*actions, *protect.plan_row(trailed, snapshot), unexpected_short_alert(row.id, position)]
    trigger = judged if usable else None
    close = None
    if evaluation.first is not None:
        close = _close(row, evaluation.first, snapshot, trigger=trigger)
    elif evaluation.scale_out is not None:
        close = _close(row, evaluation.scale_out.exit, snapshot, evaluation.scale_out.quantity, trigger)
    if isinstance(close, Close):
        return [*actions, protect.with_rearm(close, trailed, snapshot)]
    return [*actions, *protect.plan_row(trailed, snapshot), *([close] if close else [])]


def _missing(row: Row, snapshot: Snapshot) -> list[Action]:
    """A row the broker no longer holds: closed at its resting protective order's fill where that is what took
    it; otherwise check sends nothing for it, but the desk hears of it."""
    stopped = protect.filled_protection(row, snapshot)
    if stopped is not None:
        return [stopped]
    if too_recent(row, snapshot.clock.timestamp, timedelta(seconds=snapshot.grace_seconds)):
        return []
    return [Alert(row.id, row.symbol, AlertKind.PHANTOM_FOUND, Severity.WARNING,
                  "the broker holds none; pmctl reconcile settles it on the broker's evidence")]


def _expiring(row: Row, snapshot: Snapshot) -> list[Action]:
    hours = hours_to_expiration(row.expiration_date, snapshot.clock.timestamp)
    if hours is None or hours > EXPIRY_ALERT_HOURS:
        return []
    return [Alert(row.id, row.symbol, AlertKind.EXPIRING_SOON, Severity.WARNING,
                  f"row {row.id} {row.symbol} expires in {hours} h")]


def _missing_brackets(row: Row, snapshot: Snapshot) -> list[Action]:
    open_ids = {order.id for order in snapshot.open_orders}
    missing = [oid for oid in (row.stop_order_id, row.target_order_id) if oid and oid not in open_ids]
    if not missing:
        return []
    return [
        Alert(row.id, row.symbol, AlertKind.BRACKETS_MISSING, Severity.WARNING,
              f"protective order(s) {', '.join(missing)} of row {row.id} are no longer open at the broker; "
              "pmctl's own exit rules keep protecting the position"),
        ClearBrackets(row.id, row.symbol, tuple(missing)),
    ]


def _close(row: Row, exit_: rules.Exit, snapshot: Snapshot, qty: Decimal | None = None,
           trigger: TriggerPrice | None = None) -> Action:
    """The close an exit calls for (``qty``: part of the position, for a scale-out), priced as the row's profile
    sends it, or why it waits."""
    if not snapshot.clock.is_open:
        return Defer(row.id, row.symbol, exit_.reason, f"deferred: market closed ({exit_.detail})")
    wait = _backoff(row)
    if row.close_submitted_at is not None and snapshot.clock.timestamp < row.close_submitted_at + wait:
        return Defer(row.id, row.symbol, exit_.reason,
                     f"deferred: {row.close_attempts} close attempt(s) failed; next try after "
                     f"{row.close_submitted_at + wait:%H:%M:%S} UTC ({exit_.detail})")
    close = closing.close_action(row, exit_.reason, qty, exit_.text, snapshot)
    return pricing.priced_close(row, close, trigger, snapshot) if isinstance(close, Close) else close


def _backoff(row: Row) -> timedelta:
    """After failed closes, wait 1, 2, 4 … up to 60 minutes: a rejection is not retried every minute."""
    if row.close_attempts <= 0:
        return timedelta(0)
    return timedelta(minutes=min(MAX_BACKOFF_MINUTES, 2 ** (row.close_attempts - 1)))

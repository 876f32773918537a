"""Protection at the broker: the one resting order that enforces a row's stop while no pmctl process runs.

Cron's cycle is the primary decision, and it can slip by up to a minute; while
cron, the host or the database is down nothing else protects the book (seed 01).
So for a row whose profile says ``protect_at_broker``, pmctl keeps one GTC order
resting at the broker on the side that reduces the position: a stock's ``stop``
(an ``oco`` with the target where ``protect_with_target``), an option's
``stop_limit`` (a ``stop`` where the profile closes at market), whole shares and
contracts.

It rests at the tighter of the row's stop and its trailing stop, on a valid tick
rounded away from the price, so it never fires before pmctl's own rule would.
It follows the row: replaced (``PATCH``) when the quantity changes, when a fixed
stop moves, and when a trailing level has moved ``trail_step_percent`` (a
trailing stop is not churned every cycle); placed again, with a
``brackets_missing`` alert, when it vanished unfilled. Inside the profile's
minimum hold it rests at the catastrophic loss level, or not at all. When the
broker fills it, the row closes at that fill with the stop's reason, closed by
the broker.

An order pmctl did not place is never touched, only reported; the protection
rests only on what it leaves available. Of two of pmctl's, one is cancelled; one
whose row or position is gone is cancelled (a stock's stop with nothing held
would open a short once elected).
"""

from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from pmctl.core import exits, ticks
from pmctl.core.exit_plan import ExitPlan, away, plan_in, policy_in
from pmctl.core.exits import ExitFill
from pmctl.core.fills import weighted
from pmctl.core.market import Order, Position, ProtectiveOrder
from pmctl.core.model import Row, Snapshot
from pmctl.core.numbers import num
from pmctl.core.plan import Action, Alert, ChangeQuantity, ClearBrackets, Close, MarkClosed
from pmctl.core.protective_actions import Arm, Disarm, Rearm, RecordProtection
from pmctl.core.resting import NOT_REPLACEABLE, OCO, STOP, Resting, client_order_id, foreign, named, reducing, resting
from pmctl.core.vocabulary import AlertKind, ExitSource, FindingKind, Reason, Severity, Status

_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Wanted:
    """The protection a row should have now. ``order`` None and ``hold`` False: nothing should rest (what does is
    cancelled); ``hold``: leave what rests as it is (its level is through the price: the rules decide now)."""

    order: ProtectiveOrder | None
    reason: str
    why: str
    hold: bool = False


def protects(row: Row, snapshot: Snapshot) -> bool:
    return plan_in(snapshot, row).profile.protect_at_broker


def plan_row(row: Row, snapshot: Snapshot) -> list[Action]:
    """What protects an open row at the broker, the row as this cycle's sync and rules leave it (its quantity,
    its trailing level). Cancels come before the order that takes their place."""
    position = snapshot.position(row.symbol)
    if position is None or position.side != row.direction:
        return []
    ours = resting(row, snapshot)
    if not protects(row, snapshot) or row.quarantined:
        why = "the row is quarantined" if row.quarantined else "its profile no longer protects at the broker"
        return [_disarm(row, group, why) for group in ours]
    keep, extra = (ours[0], ours[1:]) if ours else (None, [])
    actions: list[Action] = [_foreign_alert(row, order) for order in foreign(row, position, snapshot, ours)]
    actions += [_disarm(row, group, f"a second protection of row {row.id}: {_named(keep)} is kept") for group in extra]
    want = wanted(row, position, snapshot, ours)
    if want.hold:
        return actions + _recorded(row, keep)
    if want.order is None:
        return actions + ([_disarm(row, keep, want.why)] if keep else [])
    if keep is None:
        return actions + _vanished(row, snapshot) + [_arm(snapshot.account, row, want, row.protect_seq + 1)]
    return actions + _recorded(row, keep) + _follow(row, keep, want, snapshot)


def wanted(row: Row, position: Position, snapshot: Snapshot, ours: list[Resting],
           released: Decimal = Decimal(0)) -> Wanted:
    """The order that should rest for ``row`` (named once it is armed, ``_arm``); ``released``: what pmctl's own
    close held of the position and no longer does (a walking limit cancelled for a deadline's market order)."""
    plan = plan_in(snapshot, row)
    level = stop_level(row, plan, snapshot)
    if level is None:
        return Wanted(None, Reason.STOP_LOSS, _no_level(row, plan, snapshot))
    stop, reason, source = level
    side = reducing(position, row)
    market = policy_in(snapshot).market
    stop = ticks.round_limit(row.symbol, side, stop, market)
    price = position.current_price
    if price is None or (stop >= price if side == "sell" else stop <= price):
        return Wanted(None, reason, f"the stop {num(stop)} is through the price {num(price or 0)}: the rules decide",
                      hold=True)
    available = position.qty_available + released + sum((group.held for group in ours), Decimal(0))
    qty = min(abs(position.qty), available).to_integral_value(rounding=ROUND_DOWN)
    if qty <= 0:
        return Wanted(None, reason, f"nothing of {row.symbol} is left to protect: orders pmctl did not place hold it")
    profile = plan.profile
    limit = target = None
    if row.is_option and profile.close_order == "limit":
        slip = profile.max_slippage_percent / 100
        limit = ticks.round_limit(row.symbol, side, stop * (1 - slip if side == "sell" else 1 + slip), market)
    elif not row.is_option and profile.protect_with_target and plan.target is not None:
        target = _oco_target(plan.target.price, stop, price, side, row.symbol, snapshot)
    intent = f"{side}_to_close" if row.is_option else None
    order = ProtectiveOrder(row.symbol, side, qty, stop, limit, target, "", intent)
    return Wanted(order, reason, f"{source}: {_order_text(order)}")


def stop_level(row: Row, plan: ExitPlan, snapshot: Snapshot) -> tuple[Decimal, str, str] | None:
    """The level the resting order enforces, its reason, and where it came from: the tighter of the stop and the
    trailing stop. Inside the profile's minimum hold the price rules wait unless the loss is catastrophic, so the
    order rests at the catastrophic level, or nowhere."""
    profile = plan.profile
    if profile.min_hold_minutes and snapshot.clock.timestamp - row.entry_time < timedelta(
            minutes=profile.min_hold_minutes):
        if profile.catastrophic_loss_percent is None:
            return None
        return (away(row.entry_price, profile.catastrophic_loss_percent, against=True, short=row.is_short),
                Reason.STOP_LOSS, f"the catastrophic loss of {num(profile.catastrophic_loss_percent)}% inside the "
                                  f"minimum hold ({profile.source_text('catastrophic_loss_percent')})")
    levels = []
    if plan.stop is not None:
        levels.append((plan.stop.price, Reason.STOP_LOSS, f"stop {num(plan.stop.price)} ({plan.stop.source})"))
    if plan.trailing_percent is not None and row.trailing_stop_price is not None:
        levels.append((row.trailing_stop_price, Reason.TRAILING_STOP,
                       f"trailing stop {num(row.trailing_stop_price)}, {num(plan.trailing_percent.price)}% off "
                       f"the best price ({plan.trailing_percent.source})"))
    if not levels:
        return None
    return (min if row.is_short else max)(levels, key=lambda level: level[0])


def with_rearm(close: Close | Alert, row: Row, snapshot: Snapshot) -> Close | Alert:
    """A close of a protected row, with the protection to rest again if the broker refuses it (the close cancels
    what rests first: it holds the quantity), and, for a partial close, what to rest for the rest once sent."""
    if not isinstance(close, Close):
        return close
    arm = again(row, snapshot)
    if arm is None:
        return close
    left = arm.order.qty - close.qty
    rest = replace(arm, order=replace(arm.order, qty=left), why=f"{arm.why}, for the {num(left)} left") \
        if left > 0 else None
    return replace(close, rearm=replace(arm, why=f"{arm.why}, again: the close was refused"), rest=rest)


def again(row: Row, snapshot: Snapshot, released: Decimal = Decimal(0)) -> Arm | None:
    """The protection a protected row rests if pmctl's close of it is refused while the position is held (None:
    its profile rests none, or no stop can rest now); ``released`` as ``wanted`` takes it."""
    position = snapshot.position(row.symbol)
    if position is None or not protects(row, snapshot) or row.quarantined:
        return None
    want = wanted(row, position, snapshot, resting(row, snapshot), released)
    if want.order is None:
        return None
    return _arm(snapshot.account, row, want, row.protect_seq + 1)


def filled_protection(row: Row, snapshot: Snapshot) -> MarkClosed | None:
    """A row whose resting protective order the broker filled, the position gone: closed at that fill, with the
    stop's reason (or ``take_profit``, an oco's target), by the broker."""
    if snapshot.position(row.symbol) is not None:
        return None
    filled = [order for order_id in (row.stop_order_id, row.target_order_id)
              if order_id and (order := snapshot.protect_orders.get(order_id)) is not None and order.filled_qty > 0]
    if not filled:
        return None
    reason = reason_of(row, filled[-1], snapshot)
    lines = tuple(_line(row, order, reason_of(row, order, snapshot)) for order in filled)
    left = row.quantity - exits.total(lines)
    if left > 0:
        lines += (exits.without_fill(row, left, Reason.CLOSED_AT_BROKER),)
    last = max(filled, key=lambda order: order.filled_at or snapshot.clock.timestamp)
    priced = [(order.filled_avg_price, order.filled_qty) for order in filled if order.filled_avg_price is not None]
    price = weighted(priced, sum((qty for _, qty in priced), Decimal(0))) if priced else None
    why = (f"its resting order {last.client_order_id} filled {num(last.filled_qty)} at "
           f"{num(last.filled_avg_price) if last.filled_avg_price is not None else 'an unreported price'} at the broker")
    return MarkClosed(row.id, row.symbol, reason, price, last.filled_at, last.id, why,
                      {"closed_by": ExitSource.BROKER, "order_id": last.id, "client_order_id": last.client_order_id,
                       "filled_qty": sum((o.filled_qty for o in filled), Decimal(0))}, lines, ExitSource.BROKER)


def reason_of(row: Row, order: Order, snapshot: Snapshot) -> str:
    """The exit a protective order enforced: an oco's take-profit the target; a stop whichever level it rests at."""
    if order.order_type == "limit":
        return Reason.TAKE_PROFIT
    level = stop_level(row, plan_in(snapshot, row), snapshot)
    return level[1] if level is not None else Reason.STOP_LOSS


def attributed(actions: list[Action], snapshot: Snapshot) -> list[Action]:
    """Sync's quantity changes, with the exits that a protective order of pmctl's sold in part under its reason
    rather than ``closed_at_broker``."""
    rows = {row.id: row for row in snapshot.rows}
    out = []
    for action in actions:
        if isinstance(action, ChangeQuantity) and action.row_id in rows:
            row = rows[action.row_id]
            ours = {order.id: order for group in resting(row, snapshot) for order in group.orders}
            ours.update((oid, order) for oid in (row.stop_order_id, row.target_order_id)
                        if oid and (order := snapshot.protect_orders.get(oid)) is not None)
            action = replace(action, exits=tuple(
                replace(line, reason=reason_of(row, ours[line.order_id], snapshot)) if line.order_id in ours else line
                for line in action.exits))
        out.append(action)
    return out


def orphans(snapshot: Snapshot) -> list[Disarm]:
    """pmctl's protective orders whose row is no longer live or whose position is gone: cancelled."""
    live = {row.id: row for row in snapshot.rows if row.status in (Status.OPEN, Status.CLOSING)}
    held = {position.symbol for position in snapshot.positions}
    found = []
    for order in snapshot.open_orders:
        name = named(snapshot.account, order)
        if name is None:
            continue
        row = live.get(name[0])
        if row is not None and row.symbol == order.symbol and order.symbol in held:
            continue
        why = (f"row {name[0]} is no longer open" if row is None or row.symbol != order.symbol
               else f"the broker holds no {order.symbol}")
        found.append(Disarm(row.id if row is not None and row.symbol == order.symbol else None, order.symbol,
                            order.id, order.client_order_id, f"an orphan: {why}", (order.id,)))
    return found


def audit(row: Row, snapshot: Snapshot) -> list[tuple[FindingKind, str, Action | None]]:
    """Reconcile's view of a row's protection: a duplicate is cancelled; a missing one and an order pmctl did not
    place are reported (``check`` rests the missing one)."""
    position = snapshot.position(row.symbol)
    if position is None or row.status != Status.OPEN or not protects(row, snapshot) or row.quarantined:
        return []
    ours = resting(row, snapshot)
    found: list[tuple[FindingKind, str, Action | None]] = [
        (FindingKind.FOREIGN_ORDER, _foreign_text(row, order), None) for order in foreign(row, position, snapshot, ours)]
    for group in ours[1:]:
        disarm = _disarm(row, group, f"a second protection of row {row.id}: {_named(ours[0])} is kept")
        found.append((FindingKind.PROTECTION_DUPLICATE, disarm.why, disarm))
    want = wanted(row, position, snapshot, ours)
    if not ours and want.order is not None:
        found.append((FindingKind.PROTECTION_MISSING,
                      f"row {row.id} has no protective order at the broker ({want.why}): pmctl check rests it", None))
    return found


def _follow(row: Row, keep: Resting, want: Wanted, snapshot: Snapshot) -> list[Action]:
    """What makes the protection that rests the one wanted: nothing, a replacement, or a cancel and a new order
    (another kind; an oco's quantity, which the broker does not replace)."""
    order = want.order
    seq = row.protect_seq
    renewed = [_disarm(row, keep, f"{_named(keep)} is a {keep.kind}, the row now wants a {order.kind}"),
               _arm(snapshot.account, row, want, seq + 1)]
    if keep.kind != order.kind or keep.stop is None:
        return renewed
    resized = keep.held != order.qty
    if resized and (keep.kind == OCO or keep.head.filled_qty > 0):
        return [replace(renewed[0], why=f"{_named(keep)} holds {num(keep.held)}, the row now {num(order.qty)}"),
                renewed[1]]
    if not snapshot.clock.is_open or keep.head.status in NOT_REPLACEABLE:
        return []
    moved = _moved(keep.stop.stop_price, order.stop_price, want.reason, plan_in(snapshot, row))
    actions: list[Action] = []
    if resized or moved:
        seq += 1
        actions.append(Rearm(row.id, row.symbol, keep.stop.id, STOP, client_order_id(snapshot.account, row.id, STOP, seq),
                             seq, order.qty if resized else None, order.stop_price if moved else None,
                             order.limit_price if moved and order.limit_price is not None else None,
                             _move_text(keep, order, resized, moved, want)))
    if keep.target is not None and keep.target.limit_price != order.target_price:
        seq += 1
        actions.append(Rearm(row.id, row.symbol, keep.target.id, "target",
                             client_order_id(snapshot.account, row.id, OCO, seq), seq, None, None, order.target_price,
                             f"target {num(keep.target.limit_price or 0)} -> {num(order.target_price)}"))
    return actions


def _moved(resting_stop: Decimal | None, stop: Decimal, reason: str, plan: ExitPlan) -> bool:
    """A fixed stop moves with any change; a trailing one once it has gone ``trail_step_percent`` from where it
    rests."""
    if resting_stop is None or resting_stop == stop:
        return resting_stop is None
    if reason != Reason.TRAILING_STOP:
        return True
    return abs(stop - resting_stop) * 100 >= resting_stop * plan.profile.trail_step_percent


def _oco_target(target: Decimal, stop: Decimal, price: Decimal, side: str, symbol: str,
                snapshot: Snapshot) -> Decimal | None:
    """The take-profit of an oco, never worse than the target; None where it cannot rest beside the stop (the
    target already reached: the rules close; the stop within a cent of the price or the target)."""
    target = ticks.round_limit(symbol, "buy" if side == "sell" else "sell", target, policy_in(snapshot).market)
    if side == "sell":
        return target if target > price and stop <= min(target, price) - _CENT else None
    return target if target < price and stop >= max(target, price) + _CENT else None


def _arm(account: str, row: Row, want: Wanted, seq: int) -> Arm:
    order = replace(want.order, client_order_id=client_order_id(
        account, row.id, OCO if want.order.target_price is not None else STOP, seq))
    return Arm(row.id, row.symbol, order, seq, want.reason, want.why,
               verify=not row.is_option and order.target_price is None)


def _disarm(row: Row, group: Resting, why: str) -> Disarm:
    return Disarm(row.id, row.symbol, group.head.id, group.head.client_order_id, why,
                  tuple(order.id for order in group.orders))


def _recorded(row: Row, keep: Resting | None) -> list[Action]:
    """The row records the protection that rests, where it does not yet (its answer was lost)."""
    if keep is None or keep.ids == (row.stop_order_id, row.target_order_id):
        return []
    stop, target = keep.ids
    return [RecordProtection(row.id, row.symbol, stop, target,
                             f"{_named(keep)} rests at the broker; row {row.id} did not record it")]


def _vanished(row: Row, snapshot: Snapshot) -> list[Action]:
    """The orders the row records that no longer rest: forgotten; unless one filled (the row settles at that
    fill), the desk hears that the protection went (cancelled by hand, expired, rejected) and is rested again."""
    working = {order.id for order in snapshot.open_orders}
    gone = tuple(oid for oid in (row.stop_order_id, row.target_order_id) if oid and oid not in working)
    if not gone:
        return []
    fates = [snapshot.protect_orders.get(oid) for oid in gone]
    actions: list[Action] = [ClearBrackets(row.id, row.symbol, gone)]
    if not any(fate is not None and fate.filled_qty > 0 for fate in fates):
        states = ", ".join(f"{oid} {fate.status if fate else 'unknown to the broker'}" for oid, fate in zip(gone, fates))
        actions.insert(0, Alert(row.id, row.symbol, AlertKind.BRACKETS_MISSING, Severity.WARNING,
                                f"the protective order(s) of row {row.id} no longer rest at the broker ({states}): "
                                "rested again"))
    return actions


def _line(row: Row, order: Order, reason: str) -> ExitFill:
    """A resting order's fill, triggered at its stop (an oco's take-profit leg: at its limit)."""
    trigger = order.stop_price if order.stop_price is not None else order.limit_price
    return ExitFill(row.id, row.symbol, order.filled_qty, order.filled_avg_price, order.filled_at, reason, order.id,
                    ExitSource.BROKER, trigger)


def _foreign_alert(row: Row, order: Order) -> Alert:
    return Alert(row.id, row.symbol, AlertKind.FOREIGN_ORDER, Severity.WARNING, _foreign_text(row, order))


def _foreign_text(row: Row, order: Order) -> str:
    return (f"order {order.id} ({order.order_type} {order.side} {num(order.remaining)} {order.symbol}, "
            f"{order.client_order_id}) was not placed by pmctl: it is left as it is, and row {row.id}'s protection "
            "rests only on what it leaves available")


def _named(group: Resting | None) -> str:
    return f"{group.head.client_order_id} ({group.head.id})" if group else "none"


def _no_level(row: Row, plan: ExitPlan, snapshot: Snapshot) -> str:
    hold = plan.profile.min_hold_minutes
    if hold and snapshot.clock.timestamp - row.entry_time < timedelta(minutes=hold):
        return f"inside the {hold} minutes' minimum hold with no catastrophic loss level, nothing rests"
    return f"row {row.id} has no stop to rest at the broker"


def _order_text(order: ProtectiveOrder) -> str:
    text = f"GTC {order.kind} {order.side} {num(order.qty)} {order.symbol} at {num(order.stop_price)}"
    if order.limit_price is not None:
        text += f" limit {num(order.limit_price)}"
    if order.target_price is not None:
        text += f", take-profit {num(order.target_price)}"
    return text


def _move_text(keep: Resting, order: ProtectiveOrder, resized: bool, moved: bool, want: Wanted) -> str:
    parts = []
    if moved:
        parts.append(f"stop {num(keep.stop.stop_price or 0)} -> {num(order.stop_price)} ({want.reason})")
    if resized:
        parts.append(f"quantity {num(keep.held)} -> {num(order.qty)}")
    return ", ".join(parts)

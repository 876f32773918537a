"""The broker's own orders as the source of a position's plan (issue 13, "Where a plan comes from", 2).

A position opened with a bracket order, or protected by an OCO or the exit leg of an
OTO, carries its plan at the broker: a stop leg and a limit leg resting there, on the
side that reduces it. Adopted, the position takes their prices as its stop and target
and their ids as ``stop_order_id``/``target_order_id``: the brackets_missing alert then
watches them, and a close pmctl sends cancels them first (they hold the quantity). The
desk's execution ledger, where it has the trade, comes first (``pmctl.core.sync``); the
legs then only lend their ids.
"""

from dataclasses import dataclass, replace

from pmctl.core.market import Order, Position
from pmctl.core.model import Snapshot
from pmctl.core.numbers import num
from pmctl.core.plan import Adopt
from pmctl.core.vocabulary import PlanSource, Tracking

#: The order classes whose exit legs are a plan; a simple order resting on its own is not one.
GROUPS = frozenset({"bracket", "oco", "oto"})
STOP_TYPES = ("stop", "stop_limit")


@dataclass(frozen=True)
class Legs:
    """The newest open stop leg and limit leg of the position's groups (either may be missing)."""

    stop: Order | None
    target: Order | None


def held_legs(position: Position, snapshot: Snapshot) -> Legs | None:
    """The exit legs resting at the broker for a position; None when there are none."""
    reducing = "buy" if position.is_short else "sell"
    mine = [order for order in snapshot.open_orders if order.symbol == position.symbol
            and order.order_class in GROUPS and order.side == reducing]
    stop = _newest(o for o in mine if o.order_type in STOP_TYPES and o.stop_price is not None)
    target = _newest(o for o in mine if o.order_type == "limit" and o.limit_price is not None)
    return Legs(stop, target) if stop or target else None


def adopted_with(adopt: Adopt, legs: Legs) -> Adopt:
    """An adoption with the legs' levels instead of the policy's. Legs on a short stock protect a short the desk
    opened on purpose: it is adopted, not quarantined."""
    stop, target = legs.stop, legs.target
    levels = ", ".join(part for part in (
        f"stop {num(stop.stop_price)}" if stop else "", f"target {num(target.limit_price)}" if target else "") if part)
    return replace(
        with_ids(adopt, legs),
        stop_loss=stop.stop_price if stop else None,
        take_profit=target.limit_price if target else None,
        tracked_as=Tracking.ADOPTED,
        plan_source=PlanSource.BROKER,
        why=f"{adopt.why}; the broker holds its exit legs ({levels}): adopted with them",
    )


def with_ids(adopt: Adopt, legs: Legs | None) -> Adopt:
    """The legs' order ids where the adoption has none of its own."""
    if legs is None:
        return adopt
    return replace(adopt, stop_order_id=adopt.stop_order_id or (legs.stop.id if legs.stop else None),
                   target_order_id=adopt.target_order_id or (legs.target.id if legs.target else None))


def _newest(orders) -> Order | None:
    return max(orders, key=lambda order: (order.submitted_at, order.id), default=None)

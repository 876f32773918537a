"""What rests at the broker for a row: pmctl's protective orders, recognised by their client order ids, and the
orders of anyone else.

pmctl names every protective order it places ``pmctl-<account>-<row>-stop-<n>`` (a
stop or stop-limit, or a replacement of an oco's stop leg) or ``…-oco-<n>`` (an oco's
take-profit, whose stop leg the broker names itself), ``n`` counting up per row. The
name is what makes an order pmctl's: an order the row records but pmctl did not name
(a bracket leg the desk's dispatcher placed) is someone else's, and pmctl never moves
or cancels it to protect a row. The broker lists an oco's legs flat; the stop leg is
known by the id the row records, a name of pmctl's (once replaced), or the moment it
was submitted with its take-profit.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from pmctl.core.market import Order, Position
from pmctl.core.model import Row, Snapshot

STOP = "stop"
OCO = "oco"
STOP_TYPES = ("stop", "stop_limit")
#: An order the broker has taken but not sent on cannot be replaced (``unable to replace order, order isn't sent
#: to exchange yet``): placed while the market was closed, it waits ``accepted`` for the open.
NOT_REPLACEABLE = frozenset({"accepted", "pending_new", "accepted_for_bidding", "pending_replace", "pending_cancel"})
_TAIL = re.compile(r"([0-9]+)-(stop|oco)-([0-9]+)")


def client_order_id(account: str, row_id: int, kind: str, seq: int) -> str:
    """Deterministic per row and counter: an order whose answer was lost is found by it, never placed twice."""
    return f"pmctl-{account}-{row_id}-{kind}-{seq}"


def named(account: str, order: Order) -> tuple[int, str, int] | None:
    """The row, kind and counter a protective order of pmctl's carries in its client order id; None: not one."""
    prefix = f"pmctl-{account}-"
    if not order.client_order_id.startswith(prefix):
        return None
    match = _TAIL.fullmatch(order.client_order_id[len(prefix):])
    return (int(match.group(1)), match.group(2), int(match.group(3))) if match else None


@dataclass(frozen=True)
class Resting:
    """One protection as the broker holds it. ``head`` is the order pmctl placed (a stop, or an oco's take-profit,
    which cancels its leg with it); ``stop`` the order that stops the position (the head itself, or the oco's
    leg: None where the leg could not be told apart); ``target`` the oco's take-profit."""

    head: Order
    stop: Order | None
    target: Order | None = None

    @property
    def kind(self) -> str:
        if self.target is not None:
            return OCO
        return "stop_limit" if self.head.order_type == "stop_limit" else "stop"

    @property
    def held(self) -> Decimal:
        """What it holds of the position: the broker counts an oco's quantity once."""
        return self.head.remaining

    @property
    def ids(self) -> tuple[str | None, str | None]:
        """As the row records them: (``stop_order_id``, ``target_order_id``)."""
        return (self.stop.id if self.stop else None), (self.target.id if self.target else None)

    @property
    def orders(self) -> tuple[Order, ...]:
        return (self.head,) + ((self.stop,) if self.stop is not None and self.stop is not self.head else ())


def reducing(position: Position | None, row: Row) -> str:
    """The side that takes the row's position down: the broker's where it holds one."""
    if position is not None:
        return "sell" if position.qty > 0 else "buy"
    return "buy" if row.is_short else "sell"


def resting(row: Row, snapshot: Snapshot) -> list[Resting]:
    """pmctl's protections for ``row`` among the open orders, the one the row records first, then newest first."""
    account = snapshot.account
    mine = [order for order in snapshot.open_orders if (name := named(account, order)) and name[0] == row.id]
    heads = [order for order in mine if not _is_leg(order)]
    legs = _legs(row, snapshot, [head for head in heads if head.order_class == OCO], mine)
    groups = []
    for head in heads:
        if head.order_class == OCO:
            leg = next((leg for leg, of in legs if of is head), None)
            groups.append(Resting(head, leg, head))
        else:
            groups.append(Resting(head, head))
    groups.extend(Resting(leg, leg) for leg, of in legs if of is None and leg in mine)
    recorded = {row.stop_order_id, row.target_order_id} - {None}
    return sorted(groups, key=lambda group: (not recorded & {order.id for order in group.orders},
                                             -group.head.submitted_at.timestamp(), group.head.id))


def foreign(row: Row, position: Position | None, snapshot: Snapshot, ours: list[Resting]) -> list[Order]:
    """Open orders on the row's symbol and reducing side that pmctl did not place: a person's, or the desk's
    dispatcher's. They hold part of the position; pmctl reports them and never touches them to protect it. The
    legs of a bracket the row records as its own (``pmctl.core.brackets``) protect it already: not reported."""
    side = reducing(position, row)
    mine = {order.id for group in ours for order in group.orders} | {row.stop_order_id, row.target_order_id}
    return [order for order in snapshot.open_orders if order.symbol == row.symbol and order.side == side
            and order.id not in mine and not order.client_order_id.startswith(f"pmctl-{snapshot.account}-")]


def _is_leg(order: Order) -> bool:
    return order.order_class == OCO and order.order_type in STOP_TYPES


def _legs(row: Row, snapshot: Snapshot, heads: list[Order], mine: list[Order]) -> list[tuple[Order, Order | None]]:
    """Each oco stop leg of pmctl's for the row, with the take-profit it belongs to (None: its take-profit is not
    open, or not found). A leg keeps the broker's name until pmctl replaces it, so it is known by being submitted
    with one of pmctl's take-profits, or by the id the row records while one of them rests; a leg of someone
    else's group is never pmctl's, whatever the row records."""
    candidates = [order for order in snapshot.open_orders if _is_leg(order) and order.symbol == row.symbol
                  and (order in mine or (heads and order.id == row.stop_order_id)
                       or any(order.submitted_at == head.submitted_at and order.side == head.side for head in heads))]
    paired = []
    free = list(heads)
    for leg in sorted(candidates, key=lambda order: order.id != row.stop_order_id):
        head = next((head for head in free if head.submitted_at == leg.submitted_at), None) or (
            free[0] if free and (leg in mine or leg.id == row.stop_order_id) else None)
        if head is not None:
            free.remove(head)
        paired.append((leg, head))
    return paired

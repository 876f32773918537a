"""The actions that keep a row's protection at the broker (``pmctl.core.protect`` plans them,
``pmctl.shell.protecting`` performs them): a plan's vocabulary, apart from the closes and bookkeeping in
``pmctl.core.plan``.
"""

from dataclasses import dataclass
from decimal import Decimal

from pmctl.core.market import ProtectiveOrder


@dataclass(frozen=True)
class Arm:
    """Rest a protective order at the broker for a row (``pmctl.core.protect``).

    ``seq`` is the row's protection counter the order's client order id is
    claimed under (``order.client_order_id``); the counter is committed before the
    order is sent, so a resend after a crash or a lost answer never reuses it, and
    the order is found again by that id. ``reason``: the exit the order enforces
    (``stop_loss``, ``trailing_stop``), the close reason should the broker fill it.
    ``verify``: read the position back once the order rests and cancel it if the
    position is gone (a stock's stop is not refused when nothing is held: it would
    open a short once elected).
    """

    row_id: int
    symbol: str
    order: ProtectiveOrder
    seq: int
    reason: str
    why: str
    verify: bool = False


@dataclass(frozen=True)
class Rearm:
    """Move a resting protective order by replacing it (``PATCH /v2/orders/{order_id}``): its quantity, its stop
    (and stop-limit) price, or an oco's take-profit (``leg`` ``target``). None: unchanged. The replacement is
    named ``client_order_id``, claimed under ``seq`` as an ``Arm`` is."""

    row_id: int
    symbol: str
    order_id: str
    leg: str
    client_order_id: str
    seq: int
    qty: Decimal | None
    stop_price: Decimal | None
    limit_price: Decimal | None
    why: str


@dataclass(frozen=True)
class Disarm:
    """Cancel a protective order of pmctl's and confirm the cancel (an oco: its take-profit, which takes the leg
    with it; ``order_ids`` are every order of the group, each confirmed). ``row_id`` None: an orphan whose row is
    gone. The row forgets the ids once the cancel is confirmed."""

    row_id: int | None
    symbol: str
    order_id: str
    client_order_id: str
    why: str
    order_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordProtection:
    """A protective order of pmctl's rests at the broker but the row does not name it (a crash or a lost answer
    after it was sent): the row records its ids, and nothing is sent."""

    row_id: int
    symbol: str
    stop_order_id: str | None
    target_order_id: str | None
    why: str


#: What protects a row at the broker; applied by ``pmctl.shell.protecting``.
PROTECTIONS = (Arm, Rearm, Disarm, RecordProtection)

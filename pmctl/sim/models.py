"""Broker records kept by the simulator; money and quantities are Decimal, times UTC."""

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from pmctl.core.numbers import finite_decimal

OPEN_STATUSES = frozenset({"new", "accepted", "partially_filled", "pending_new", "held"})
_ASSET_NAMESPACE = uuid.UUID("6f1c2b7e-4a6d-4c1e-9a53-0d2f5b1f7a10")


class SimError(Exception):
    """A refusal in Alpaca's shape: HTTP status, Alpaca's numeric code and its message."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(message: str) -> SimError:
    return SimError(404, 40410000, message)


def forbidden(message: str) -> SimError:
    return SimError(403, 40310000, message)


def unprocessable(message: str) -> SimError:
    return SimError(422, 42210000, message)


def number(value, what: str) -> Decimal:
    """A finite Decimal from a request's field, or the 422 Alpaca gives for a malformed one."""
    try:
        return finite_decimal(value)
    except ValueError:
        raise unprocessable(f"invalid {what}: {value!r}") from None


CENT = Decimal("0.01")


def leg_price(spec, name: str, field: str, required: bool, order_class: str) -> Decimal | None:
    """A price of a bracket's or an oco's leg (``take_profit.limit_price``, ``stop_loss.stop_price``), refused as
    Alpaca refuses it when a required one is missing."""
    value = spec.get(field) if isinstance(spec, dict) else None
    if value is None:
        if required:
            raise unprocessable(f"{order_class} orders require {name}.{field}")
        return None
    return number(value, f"{name}.{field}")


@functools.cache
def asset_id(symbol: str) -> uuid.UUID:
    """Stable per symbol and shared by all accounts, as Alpaca's asset ids are (cached: asked per position)."""
    return uuid.uuid5(_ASSET_NAMESPACE, symbol)


def fmt(value: Decimal) -> str:
    """Alpaca sends numbers as plain decimal strings: no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


@dataclass
class Position:
    symbol: str
    qty: Decimal
    avg_entry_price: Decimal

    @property
    def asset_id(self) -> uuid.UUID:
        return asset_id(self.symbol)


@dataclass
class Order:
    id: uuid.UUID
    client_order_id: str
    symbol: str
    side: str
    type: str
    qty: Decimal
    time_in_force: str
    created_at: datetime
    status: str
    order_class: str = "simple"
    position_intent: str | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    hwm: Decimal | None = None
    elected: bool = False
    extended_hours: bool = False
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None
    updated_at: datetime | None = None
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None
    failed_at: datetime | None = None
    replaced_at: datetime | None = None
    replaced_by: uuid.UUID | None = None
    replaces: uuid.UUID | None = None
    legs: list["Order"] = field(default_factory=list, repr=False)
    parent: "Order | None" = field(default=None, repr=False, compare=False)

    @property
    def group(self) -> list["Order"]:
        """The orders that hold one quantity together: an oco's take-profit and its stop leg, else itself."""
        head = self.parent or self
        return [head, *head.legs]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def direction(self) -> int:
        return 1 if self.side == "buy" else -1


@dataclass(frozen=True)
class Quote:
    """The best bid and ask; a price of 0 on a side set explicitly means nobody is there.

    ``explicit`` is False for the quote derived from the last trade (bid = ask = the
    price), which trades at that price whatever it is, 0 included.
    """

    bid: Decimal
    ask: Decimal
    bid_size: int
    ask_size: int
    at: datetime
    explicit: bool

    def side_price(self, side: str) -> Decimal | None:
        """What a market order on ``side`` gets (a buy the ask, a sell the bid), or None: nobody there."""
        price = self.ask if side == "buy" else self.bid
        return None if self.explicit and price == 0 else price

    def holds(self, trade: Decimal) -> bool:
        """Whether a print at ``trade`` is inside this quote, so it may elect a stop."""
        if not self.explicit:
            return True
        return self.bid <= trade and (self.ask == 0 or trade <= self.ask)


@dataclass(frozen=True)
class Trade:
    price: Decimal
    at: datetime


@dataclass
class Activity:
    """body is already in Alpaca's JSON shape; (at, seq) orders history under a frozen clock."""

    id: str
    at: datetime
    seq: int
    activity_type: str
    body: dict


@dataclass
class Account:
    name: str
    api_key: str
    secret_key: str
    account_number: str
    id: uuid.UUID
    cash: Decimal
    created_at: datetime
    positions: dict[str, Position] = field(default_factory=dict)
    orders: list[Order] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)


@dataclass
class RequestRecord:
    at: datetime
    method: str
    path: str
    account: str | None
    status: int
    feed: str | None = None


@dataclass
class Fault:
    """Applies to the next `remaining` requests whose path matches the glob `path`."""

    path: str
    kind: str
    remaining: int
    method: str | None = None
    status: int | None = None
    seconds: float | None = None
    message: str | None = None


@dataclass
class Hook:
    """Runs ``action`` before each of the next `remaining` requests whose path matches the glob `path`."""

    path: str
    action: Callable[[], object]
    remaining: int
    method: str | None = None

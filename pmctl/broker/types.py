"""What the broker tells pmctl, as plain data the core can decide on.

Quantities are signed where a position is concerned (a short is negative) and
Decimal everywhere; times are timezone-aware UTC.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class AccountInfo:
    account_id: str
    account_number: str
    status: str


@dataclass(frozen=True)
class Clock:
    timestamp: datetime
    is_open: bool
    next_open: datetime
    next_close: datetime


@dataclass(frozen=True)
class Session:
    """One trading day of the broker's calendar, its open and close in UTC."""

    day: date
    open: datetime
    close: datetime


@dataclass(frozen=True)
class Position:
    symbol: str
    qty: Decimal
    qty_available: Decimal
    avg_entry_price: Decimal
    current_price: Decimal | None
    asset_class: str

    @property
    def is_short(self) -> bool:
        return self.qty < 0


@dataclass(frozen=True)
class Order:
    id: str
    client_order_id: str
    symbol: str
    side: str
    qty: Decimal
    filled_qty: Decimal
    filled_avg_price: Decimal | None
    order_type: str
    status: str
    submitted_at: datetime
    filled_at: datetime | None
    position_intent: str | None

    @property
    def is_filled(self) -> bool:
        return self.status == "filled"


@dataclass(frozen=True)
class Fill:
    """One FILL account activity: a (partial) execution of an order."""

    id: str
    order_id: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    time: datetime


@dataclass(frozen=True)
class NonTradeActivity:
    """An option expiring (OPEXP), being exercised (OPEXC) or assigned (OPASN)."""

    id: str
    activity_type: str
    symbol: str
    qty: Decimal
    day: date


@dataclass(frozen=True)
class CloseRequest:
    """A market order that reduces a held position. Built only by the core's close guard.

    A close with an intent (an option's ``sell_to_close``/``buy_to_close``) goes
    to POST /v2/orders under ``client_order_id``: the broker refuses the intent
    once the position is gone. A close without one (a stock: Alpaca documents
    no intent it enforces on equities) goes to DELETE /v2/positions/{symbol}?qty=N,
    which the broker refuses once flat (404) or for more than is held (403);
    that request carries no client order id, so ``client_order_id`` names the
    claim on the row only.
    """

    symbol: str
    side: str
    qty: Decimal
    client_order_id: str
    position_intent: str | None

    @property
    def by_position(self) -> bool:
        return self.position_intent is None

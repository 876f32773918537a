"""The market as pmctl sees it: what the broker tells pmctl, as plain data the core can decide on, and the
market's own clock zone.

The broker adapter and the emulator speak this vocabulary; the core never imports them. Quantities are signed
where a position is concerned (a short is negative) and Decimal everywhere; times are timezone-aware UTC.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from pmctl.core.vocabulary import Side

MARKET_ZONE = ZoneInfo("America/New_York")
"""US equities and options trade on New York time: sessions, expiries and the trading day are counted in it."""

EXPIRY_TIME = time(16, 0)
"""Equity options stop trading at 16:00 New York time on their expiration day."""


def as_utc(moment: datetime) -> datetime:
    """A time in UTC; a naive one is taken as UTC already (the original schema's TIMESTAMP columns hold UTC)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def aware_utc(moment: datetime) -> datetime:
    """A time in UTC, refusing a naive one: where a time did not come from the database, a missing zone is a bug
    upstream, and guessing it could shift an expiry by hours."""
    if moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: pmctl times must be timezone-aware")
    return moment.astimezone(timezone.utc)


def utc_text(moment: datetime) -> str:
    """A time as messages show it: minutes, in UTC, saying so."""
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"


def market_date(moment: datetime) -> date:
    """The trading day a moment belongs to: New York's date, which in the evening is a day behind UTC's."""
    return moment.astimezone(MARKET_ZONE).date()


def market_day(day: date) -> tuple[datetime, datetime]:
    """A trading day, midnight to midnight in New York, as UTC times; OverflowError for the calendar's last day,
    which has no next day to end at."""
    start = datetime.combine(day, time(0), MARKET_ZONE).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time(0), MARKET_ZONE).astimezone(timezone.utc)
    return start, end


def hours_to_expiration(expiration: date | None, now: datetime) -> Decimal | None:
    if expiration is None:
        return None
    expires = datetime.combine(expiration, EXPIRY_TIME, tzinfo=MARKET_ZONE)
    return (Decimal((expires - now).total_seconds()) / 3600).quantize(Decimal("0.1"))


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

    @property
    def market_date(self) -> date:
        """Today as the market counts days: the calendar, expiries and the daily report all use this date."""
        return market_date(self.timestamp)


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

    @property
    def side(self) -> Side:
        return Side.SHORT if self.is_short else Side.LONG


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
    #: ``simple``, or the group the order belongs to (``bracket``, ``oco``, ``oto``); its prices where it has them.
    order_class: str = "simple"
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    #: An oco's stop leg under its take-profit, where the broker's answer nests it (an order's own answer does).
    legs: tuple["Order", ...] = ()

    @property
    def is_filled(self) -> bool:
        return self.status == "filled"

    @property
    def remaining(self) -> Decimal:
        """What the order still holds of the position: its quantity less what it already filled."""
        return self.qty - self.filled_qty


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


#: A close's order types: what Alpaca's ``type`` says.
MARKET = "market"
LIMIT = "limit"


@dataclass(frozen=True)
class CloseRequest:
    """An order that reduces a held position. Built only by the core's close guard.

    A close with an intent (an option's ``sell_to_close``/``buy_to_close``) goes
    to POST /v2/orders under ``client_order_id``: the broker refuses the intent
    once the position is gone. A close without one (a stock: Alpaca documents
    no intent it enforces on equities) goes to DELETE /v2/positions/{symbol}?qty=N,
    which the broker refuses once flat (404) or for more than is held (403);
    that request carries no client order id, so ``client_order_id`` names the
    claim on the row only. ``order_type`` is ``market`` or, for an order with
    an intent, ``limit`` at ``limit_price``.
    """

    symbol: str
    side: str
    qty: Decimal
    client_order_id: str
    position_intent: str | None
    order_type: str = MARKET
    limit_price: Decimal | None = None

    @property
    def by_position(self) -> bool:
        return self.position_intent is None


@dataclass(frozen=True)
class ProtectiveOrder:
    """A resting GTC order that enforces a row's stop at the broker while no pmctl process runs.

    A ``stop`` (``limit_price`` None) or ``stop_limit`` on the side that
    reduces the position, or, with ``target_price``, a stock's ``oco``: a
    take-profit limit with the stop as its leg. An option's carries its
    ``…_to_close`` intent, which the broker refuses once the contract is gone.
    Built only by ``pmctl.core.protect``.
    """

    symbol: str
    side: str
    qty: Decimal
    stop_price: Decimal
    limit_price: Decimal | None
    target_price: Decimal | None
    client_order_id: str
    position_intent: str | None

    @property
    def kind(self) -> str:
        if self.target_price is not None:
            return "oco"
        return "stop" if self.limit_price is None else "stop_limit"
